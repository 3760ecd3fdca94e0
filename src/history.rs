//! The survey history: every run kept in an embedded SQLite database, and trends over it.
//!
//! [`History`] stores each [`Report`] with the `site` and `location` it was taken at, lists
//! and exports stored runs through a [`Filter`], and summarises them per site and location
//! as a [`Trend`]. It is a leaf like `report` and `metrics`: it reads reports (through
//! [`crate::metrics::Measurements`], so stored trend inputs and exported metrics agree) and
//! knows nothing of the CLI, which opens it at `--db PATH` or [`DEFAULT_PATH`].
//!
//! # Storage
//! - `runs`: one row per run with the full report JSON, plus the columns filters need
//!   (`started_at` normalised to RFC 3339 UTC with milliseconds, `site`, `location`,
//!   `status`, `root_cause`, `duration_ms`). Indexed on `(site, location, started_at)` and
//!   on `started_at`.
//! - `samples`: the numbers trends need, copied out of the report when it is stored so a
//!   trend never re-parses JSON. One row per `(run_id, metric, key)`:
//!
//!   | `metric` | `key` | `value` |
//!   |---|---|---|
//!   | `check_ok` | check id | 1 pass or warn, 0 fail or error or blocked; absent when skipped as not applicable |
//!   | `gateway_rtt_ms` | gateway address | mean echo round trip |
//!   | `gateway_loss_ratio` | gateway address | lost echo share, 0 to 1 |
//!   | `dns_ms` | server address | mean answer time of a server that answered |
//!   | `dns_first_attempt_loss` | server address | share of queries whose first attempt got no answer (a retry was needed), 0 to 1 |
//!   | `wifi_signal_dbm` | empty | signal of the Wi-Fi link |
//!   | `http_total_ms` | URL | wall time of the whole fetch (every redirect) of the connectivity probe or a `--url` target |
//!   | `http_status` | URL | its final HTTP status; 0 when no answer came |
//!   | `tls_cert_expiry` | URL | its leaf certificate's `notAfter`, Unix seconds |
//!   | `web_captive_portal` | empty | 1 when the connectivity probe found a captive portal, 0 when online |
//!   | `profile_ok` | `profile:target` | 1 when a service profile could use the target (a DC, share, printer, endpoint category, RDP host), else 0 |
//!   | `ad_clock_offset_s` | `dc:source` | the `ad` profile's clock offset against a DC (its time minus ours), seconds |
//!
//!   Runs stored before a metric existed simply have no samples of it: trends count only
//!   the runs that have them, so old histories read as they are (no migration).
//!
//! # Safety of the stored data
//! - A run and its samples are written in one transaction, in WAL mode with
//!   `synchronous=FULL`: a crash, a kill or a full disk leaves either the whole run or
//!   nothing, and every earlier run intact.
//! - Writers take the write lock up front (`BEGIN IMMEDIATE`) and wait up to
//!   [`BUSY_TIMEOUT`] for each other, so concurrent surveys queue instead of failing.
//! - The schema is versioned with `PRAGMA user_version` and an ordered list of migrations
//!   applied in one transaction; the file is marked with `PRAGMA application_id`.
//! - A file that is not a SQLite database, is corrupted, belongs to another program, or has
//!   a schema newer than this build is refused with an error naming the file, and is never
//!   written to, let alone replaced. [`History::open`] checks only what is cheap (the file
//!   header and the schema, before its first write); any later operation that meets a
//!   damaged page fails with [`HistoryError::Corrupt`]; [`History::verify`] reads the whole
//!   file (`PRAGMA integrity_check`), and a schema migration runs `quick_check` first.
//!
//! # Performance
//! A trend is one pass over the selected runs' samples (one index seek per run; the
//! covering indexes keep the wide `report` column out of it), aggregated in Rust. Over
//! 100,000 stored runs a release build needs about 0.4 s on a 2-core machine
//! (`scale_100000_runs`, ignored by default).

use std::borrow::Borrow;
use std::collections::HashMap;
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use rusqlite::types::Value as SqlValue;
use rusqlite::{Connection, OpenFlags, OptionalExtension, TransactionBehavior, ffi::ErrorCode, params};
use serde::Serialize;

use crate::metrics::{Measurements, check_ok};
use crate::report::{CheckId, Report, RunStatus};

/// Where the history lives unless `--db PATH` says otherwise.
pub const DEFAULT_PATH: &str = "/var/lib/nettriage/history.db";

/// How long a writer waits for another one before giving up.
pub const BUSY_TIMEOUT: Duration = Duration::from_secs(5);

/// `PRAGMA application_id` of a nettriage history ("ntri").
pub const APPLICATION_ID: i32 = 0x6e74_7269;

/// How many root causes a [`SiteTrend`] lists, most frequent first.
pub const TOP_ROOT_CAUSES: usize = 5;

/// The migrations, in order: migration `i` takes the schema from version `i` to `i + 1`.
/// Released entries are never edited; a change to the schema is a new entry.
const MIGRATIONS: &[&str] = &[
    // 1: runs and their trend samples.
    "CREATE TABLE runs (
        id INTEGER PRIMARY KEY,
        started_at TEXT NOT NULL,
        site TEXT NOT NULL,
        location TEXT NOT NULL,
        status TEXT NOT NULL,
        root_cause TEXT,
        duration_ms INTEGER NOT NULL,
        report TEXT NOT NULL
    );
    CREATE INDEX runs_site_location_started_at ON runs (site, location, started_at, status, root_cause);
    CREATE INDEX runs_started_at ON runs (started_at, site, location, status, root_cause);
    CREATE TABLE samples (
        run_id INTEGER NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
        metric TEXT NOT NULL,
        key TEXT NOT NULL,
        value REAL NOT NULL,
        PRIMARY KEY (run_id, metric, key)
    ) WITHOUT ROWID;",
];

/// The schema version this build writes (the number of migrations).
pub const SCHEMA_VERSION: i64 = MIGRATIONS.len() as i64;

const CHECK_OK: &str = "check_ok";
const GATEWAY_RTT_MS: &str = "gateway_rtt_ms";
const GATEWAY_LOSS_RATIO: &str = "gateway_loss_ratio";
const DNS_MS: &str = "dns_ms";
const DNS_FIRST_ATTEMPT_LOSS: &str = "dns_first_attempt_loss";
const WIFI_SIGNAL_DBM: &str = "wifi_signal_dbm";
const HTTP_TOTAL_MS: &str = "http_total_ms";
const HTTP_STATUS: &str = "http_status";
const TLS_CERT_EXPIRY: &str = "tls_cert_expiry";
const WEB_CAPTIVE_PORTAL: &str = "web_captive_portal";
const PROFILE_OK: &str = "profile_ok";
const AD_CLOCK_OFFSET_S: &str = "ad_clock_offset_s";

/// Why the history could not be opened, read or written.
#[derive(Debug, thiserror::Error)]
pub enum HistoryError {
    /// A reader was pointed at a database that does not exist (only a survey creates one).
    #[error("no such history database: {}", .path.display())]
    NoSuchDatabase {
        /// The path given.
        path: PathBuf,
    },
    /// A reader found a history written by an older version, which only a writer (the
    /// next survey run) upgrades.
    #[error(
        "history database {} has schema version {found}, older than this version's {supported}; \
         the next survey run upgrades it",
        .path.display()
    )]
    OlderSchema {
        /// The database path.
        path: PathBuf,
        /// Its schema version.
        found: i64,
        /// The version this build reads.
        supported: i64,
    },
    /// The directory the database should be in does not exist (it is not created).
    #[error("cannot open history database {}: directory {} does not exist", .path.display(), .dir.display())]
    MissingDir {
        /// The database path.
        path: PathBuf,
        /// Its missing parent directory.
        dir: PathBuf,
    },
    /// The file exists but could not be read.
    #[error("cannot read history database {}: {source}", .path.display())]
    Io {
        /// The database path.
        path: PathBuf,
        /// The OS error.
        source: io::Error,
    },
    /// The file is not a SQLite database, or SQLite found it damaged.
    #[error("history database {} is corrupted or not a sqlite database ({detail}); it was left untouched", .path.display())]
    Corrupt {
        /// The database path.
        path: PathBuf,
        /// What was wrong.
        detail: String,
    },
    /// The file is a SQLite database of some other program.
    #[error("{} is not a nettriage history database ({detail}); it was left untouched", .path.display())]
    Foreign {
        /// The database path.
        path: PathBuf,
        /// What gave it away.
        detail: String,
    },
    /// The file was written by a newer nettriage.
    #[error(
        "history database {} has schema version {found}, newer than version {supported} that this nettriage \
         understands; upgrade nettriage to use it (the file was left untouched)",
        .path.display()
    )]
    NewerSchema {
        /// The database path.
        path: PathBuf,
        /// The file's schema version.
        found: i64,
        /// The newest version this build knows.
        supported: i64,
    },
    /// The disk (or the database's size limit) is full; the run was not stored.
    #[error("disk full while writing history database {}; nothing of this write was stored", .path.display())]
    DiskFull {
        /// The database path.
        path: PathBuf,
    },
    /// Another process held the database longer than [`BUSY_TIMEOUT`].
    #[error("history database {} stayed locked by another process for {}s", .path.display(), BUSY_TIMEOUT.as_secs())]
    Busy {
        /// The database path.
        path: PathBuf,
    },
    /// Any other SQLite failure.
    #[error("{op} failed on history database {}: {source}", .path.display())]
    Sqlite {
        /// What was being done.
        op: &'static str,
        /// The database path.
        path: PathBuf,
        /// SQLite's error.
        source: rusqlite::Error,
    },
    /// A stored report is not valid JSON.
    #[error("stored report of run {id} in {} is not valid json: {source}", .path.display())]
    BadStoredReport {
        /// The run.
        id: i64,
        /// The database path.
        path: PathBuf,
        /// The parser's error.
        source: serde_json::Error,
    },
    /// The report could not be serialised.
    #[error("cannot serialise the report: {0}")]
    Serialise(#[source] serde_json::Error),
    /// Writing the export failed (the history itself is unaffected).
    #[error("cannot write the export: {0}")]
    Export(#[source] io::Error),
}

/// Shorthand for this module's results.
pub type Result<T, E = HistoryError> = std::result::Result<T, E>;

/// Which stored runs to list, export or summarise. Every field is optional; an empty
/// filter selects every run.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Filter {
    /// Only this site (exact match).
    pub site: Option<String>,
    /// Only this location (exact match).
    pub location: Option<String>,
    /// Only runs started at or after this time (millisecond resolution).
    pub since: Option<SystemTime>,
    /// Only runs started before this time (millisecond resolution).
    pub until: Option<SystemTime>,
    /// Only runs with this verdict.
    pub status: Option<RunStatus>,
    /// At most this many runs: the newest ones.
    pub limit: Option<usize>,
}

impl Filter {
    /// The `WHERE` clause (possibly empty) and its parameters.
    fn where_clause(&self) -> (String, Vec<SqlValue>) {
        let mut conditions = Vec::new();
        let mut params = Vec::new();
        let mut add = |condition: &'static str, value: SqlValue| {
            conditions.push(condition);
            params.push(value);
        };
        if let Some(site) = &self.site {
            add("site = ?", SqlValue::Text(site.clone()));
        }
        if let Some(location) = &self.location {
            add("location = ?", SqlValue::Text(location.clone()));
        }
        if let Some(since) = self.since {
            add("started_at >= ?", SqlValue::Text(format_time(since)));
        }
        if let Some(until) = self.until {
            add("started_at < ?", SqlValue::Text(format_time(until)));
        }
        if let Some(status) = self.status {
            add("status = ?", SqlValue::Text(status.as_str().to_string()));
        }
        let clause = if conditions.is_empty() { String::new() } else { format!("WHERE {}", conditions.join(" AND ")) };
        (clause, params)
    }

    /// The `LIMIT` as SQLite spells it (`-1` is none).
    fn limit_value(&self) -> i64 {
        self.limit.map_or(-1, |n| i64::try_from(n).unwrap_or(i64::MAX))
    }
}

/// One stored run, without its report.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RunSummary {
    /// The run's id in this database (`history show ID`).
    pub id: i64,
    /// Start of the run, RFC 3339 UTC with milliseconds.
    pub started_at: String,
    /// The site it was taken at.
    pub site: String,
    /// The location within the site.
    pub location: String,
    /// `healthy`, `degraded` or `broken`.
    pub status: String,
    /// The root cause's code, when not healthy.
    pub root_cause: Option<String>,
    /// Wall time of the run.
    pub duration_ms: u64,
}

/// A distribution of one measurement over many runs (nearest-rank percentiles).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Distribution {
    /// How many values.
    pub samples: u64,
    /// Smallest value.
    pub min: f64,
    /// 5th percentile (the one that matters for Wi-Fi signal, where low is bad).
    pub p5: f64,
    /// Median.
    pub p50: f64,
    /// 95th percentile (the one that matters for latency and loss, where high is bad).
    pub p95: f64,
    /// Largest value.
    pub max: f64,
}

impl Distribution {
    /// The distribution of `values` (reordered in place); `None` when empty. NaNs are
    /// ignored.
    pub fn of(values: &mut Vec<f64>) -> Option<Distribution> {
        values.retain(|v| !v.is_nan());
        values.sort_by(f64::total_cmp);
        let n = values.len();
        let rank = |p: f64| values[((p * n as f64).ceil() as usize).clamp(1, n) - 1];
        (n > 0).then(|| Distribution {
            samples: n as u64,
            min: values[0],
            p5: rank(0.05),
            p50: rank(0.50),
            p95: rank(0.95),
            max: values[n - 1],
        })
    }
}

/// How often one layer worked.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Availability {
    /// The check id (`link`, `dns`, ...).
    pub check: String,
    /// Runs in which the check applied: it ran, or was blocked by a failed layer below.
    /// Runs that skipped it as not applicable (Wi-Fi on a wired link, ports without
    /// targets) are not counted.
    pub runs: u64,
    /// Runs in which it passed or warned.
    pub ok: u64,
    /// `ok / runs`, 0 to 1.
    pub ratio: f64,
}

/// How often a root cause was named.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RootCauseCount {
    /// The finding code, e.g. `dns.timeout`.
    pub code: String,
    /// Runs it was the root cause of.
    pub runs: u64,
}

/// The trend of one site and location.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SiteTrend {
    /// The site.
    pub site: String,
    /// The location within it.
    pub location: String,
    /// Runs selected.
    pub runs: u64,
    /// Of which healthy.
    pub healthy: u64,
    /// Of which degraded.
    pub degraded: u64,
    /// Of which broken.
    pub broken: u64,
    /// Start of the earliest selected run.
    pub first_run: String,
    /// Start of the latest selected run.
    pub last_run: String,
    /// Per layer, in layer order.
    pub availability: Vec<Availability>,
    /// Mean gateway round trip per run and gateway, ms.
    pub gateway_rtt_ms: Option<Distribution>,
    /// Gateway echo loss per run and gateway, 0 to 1.
    pub gateway_loss_ratio: Option<Distribution>,
    /// Mean DNS answer time per run and answering server, ms.
    pub dns_ms: Option<Distribution>,
    /// Share of DNS queries whose first attempt got no answer, per run and server, 0 to 1:
    /// a flapping resolver shows here even when every query was answered on the retry.
    #[serde(default)]
    pub dns_first_attempt_loss: Option<Distribution>,
    /// Wi-Fi signal per run, dBm.
    pub wifi_signal_dbm: Option<Distribution>,
    /// The web layer's measurements; `None` when no selected run fetched a URL.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub web: Option<WebTrend>,
    /// The most frequent root causes, most frequent first (at most [`TOP_ROOT_CAUSES`]).
    pub root_causes: Vec<RootCauseCount>,
}

/// The web layer over the selected runs of one site and location.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct WebTrend {
    /// Runs with a connectivity probe.
    pub connectivity_runs: u64,
    /// Of which a captive portal was in the way.
    pub portal_runs: u64,
    /// Each fetched URL (the connectivity URL too), sorted by URL.
    pub urls: Vec<UrlTrend>,
}

/// One URL over the selected runs.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct UrlTrend {
    /// The URL as given.
    pub url: String,
    /// Runs that fetched it.
    pub runs: u64,
    /// Of which it answered with a status below 400 (through any redirects).
    pub answered_ok: u64,
    /// Wall time of the whole fetch per run, ms.
    pub total_ms: Option<Distribution>,
    /// The leaf certificate's `notAfter` seen in the latest run that had one (RFC 3339).
    pub cert_expiry: Option<String>,
}

/// Trends of the selected runs, one entry per site and location, sorted by both.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Trend {
    /// One per (site, location) that has selected runs.
    pub groups: Vec<SiteTrend>,
}

/// An open history database.
#[derive(Debug)]
pub struct History {
    conn: Connection,
    path: PathBuf,
}

impl History {
    /// Opens the history at `path`, creating the file (not its directory) and bringing an
    /// older schema up to date.
    ///
    /// Refuses, without writing to it, a file that is not a SQLite database or is damaged,
    /// belongs to another program, or has a newer schema version.
    pub fn open(path: impl AsRef<Path>) -> Result<History> {
        let path = path.as_ref().to_path_buf();
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty())
            && !dir.is_dir()
        {
            return Err(HistoryError::MissingDir { dir: dir.to_path_buf(), path });
        }
        check_header(&path)?;
        let flags = OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_CREATE | OpenFlags::SQLITE_OPEN_NO_MUTEX;
        let conn = Connection::open_with_flags(&path, flags).map_err(|e| classify(&path, "open", e))?;
        let history = History { conn, path };
        history.conn.busy_timeout(BUSY_TIMEOUT).map_err(history.err("set busy timeout"))?;
        // SQLite answers some lock conflicts of a first open with BUSY at once, without
        // waiting in the busy handler (switching a new file to WAL while another connection
        // does the same, a reader upgrading to writer). Every step below can simply be
        // repeated (reads, idempotent pragmas, a migration that re-reads the version under
        // its write lock), so a BUSY is retried until BUSY_TIMEOUT has passed.
        let deadline = std::time::Instant::now() + BUSY_TIMEOUT;
        loop {
            match history.prepare() {
                Err(HistoryError::Busy { .. }) if std::time::Instant::now() < deadline => {
                    std::thread::sleep(Duration::from_millis(20));
                }
                result => return result.map(|()| history),
            }
        }
    }

    /// Checks the schema, configures the connection and migrates (see [`History::open`]).
    fn prepare(&self) -> Result<()> {
        // Everything up to the version check only reads, so a refused file is untouched.
        let version = self.check_schema()?;
        self.configure()?;
        if version < SCHEMA_VERSION {
            self.migrate()?;
        }
        Ok(())
    }

    /// Opens an existing history for reading only (`history`, `serve`): nothing is
    /// created, configured or migrated, so a mistyped path is an error
    /// ([`HistoryError::NoSuchDatabase`]) instead of a new empty database, and a reader
    /// that may not write (a scrape user) can open it. A history with an older schema is
    /// refused with [`HistoryError::OlderSchema`] (the next survey run upgrades it).
    pub fn open_read_only(path: impl AsRef<Path>) -> Result<History> {
        let path = path.as_ref().to_path_buf();
        match std::fs::metadata(&path) {
            Ok(meta) if meta.is_file() => {}
            Ok(_) => return Err(HistoryError::Io { path, source: io::Error::from(io::ErrorKind::IsADirectory) }),
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Err(HistoryError::NoSuchDatabase { path }),
            Err(source) => return Err(HistoryError::Io { path, source }),
        }
        check_header(&path)?;
        let flags = OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX;
        let conn = Connection::open_with_flags(&path, flags).map_err(|e| classify(&path, "open", e))?;
        let history = History { conn, path };
        history.conn.busy_timeout(BUSY_TIMEOUT).map_err(history.err("set busy timeout"))?;
        let version = history.check_schema()?;
        if version < SCHEMA_VERSION {
            return Err(HistoryError::OlderSchema { path: history.path, found: version, supported: SCHEMA_VERSION });
        }
        Ok(history)
    }

    /// The database file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    fn err(&self, op: &'static str) -> impl Fn(rusqlite::Error) -> HistoryError + '_ {
        move |e| classify(&self.path, op, e)
    }

    /// Reads the application id and schema version; refuses files that are not ours or
    /// newer. Returns the schema version.
    fn check_schema(&self) -> Result<i64> {
        // One statement, so one snapshot: another process may be migrating right now.
        let (application_id, version, objects): (i64, i64, i64) = self
            .conn
            .query_row(
                "SELECT (SELECT application_id FROM pragma_application_id), \
                 (SELECT user_version FROM pragma_user_version), (SELECT count(*) FROM sqlite_master)",
                [],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
            )
            .map_err(self.err("read schema"))?;
        if application_id != 0 && application_id != i64::from(APPLICATION_ID) {
            let detail = format!("application id {application_id:#x}");
            return Err(HistoryError::Foreign { path: self.path.clone(), detail });
        }
        if version > SCHEMA_VERSION {
            return Err(HistoryError::NewerSchema {
                path: self.path.clone(),
                found: version,
                supported: SCHEMA_VERSION,
            });
        }
        if application_id == 0 && objects > 0 {
            let detail = format!("it has {objects} tables or indexes but no nettriage schema");
            return Err(HistoryError::Foreign { path: self.path.clone(), detail });
        }
        Ok(version)
    }

    fn configure(&self) -> Result<()> {
        let mode: String =
            self.conn.query_row("PRAGMA journal_mode = WAL", [], |r| r.get(0)).map_err(self.err("enable wal"))?;
        if !mode.eq_ignore_ascii_case("wal") {
            // E.g. a file system without shared memory; still correct, only less concurrent.
            tracing::warn!(path = %self.path.display(), mode, "history database is not in wal mode");
        }
        self.conn.pragma_update(None, "synchronous", "FULL").map_err(self.err("set synchronous"))?;
        self.conn.pragma_update(None, "foreign_keys", true).map_err(self.err("enable foreign keys"))?;
        Ok(())
    }

    /// Applies the missing migrations in one transaction (another process may have done it
    /// meanwhile, so the version is read again under the write lock).
    fn migrate(&self) -> Result<()> {
        let err = self.err("migrate schema");
        let tx = rusqlite::Transaction::new_unchecked(&self.conn, TransactionBehavior::Immediate).map_err(&err)?;
        let version: i64 = tx.query_row("PRAGMA user_version", [], |r| r.get(0)).map_err(&err)?;
        if version > SCHEMA_VERSION {
            return Err(HistoryError::NewerSchema {
                path: self.path.clone(),
                found: version,
                supported: SCHEMA_VERSION,
            });
        }
        if version > 0 {
            // Existing data is about to be rewritten: make sure it is sound first.
            integrity(&tx, "quick_check")
                .map_err(&err)?
                .map_or(Ok(()), |detail| Err(HistoryError::Corrupt { path: self.path.clone(), detail }))?;
        }
        for migration in MIGRATIONS.iter().skip(usize::try_from(version).unwrap_or(0)) {
            tx.execute_batch(migration).map_err(&err)?;
        }
        tx.pragma_update(None, "user_version", SCHEMA_VERSION).map_err(&err)?;
        tx.pragma_update(None, "application_id", APPLICATION_ID).map_err(&err)?;
        tx.commit().map_err(&err)
    }

    /// Runs SQLite's full `PRAGMA integrity_check` (reads the whole file; slow on a big
    /// history). `Err(Corrupt)` names what is damaged.
    pub fn verify(&self) -> Result<()> {
        match integrity(&self.conn, "integrity_check").map_err(self.err("integrity check"))? {
            None => Ok(()),
            Some(detail) => Err(HistoryError::Corrupt { path: self.path.clone(), detail }),
        }
    }

    /// Stores one run with its site and location; returns its id. The run and its trend
    /// samples are one transaction.
    pub fn insert(&mut self, report: &Report, site: &str, location: &str) -> Result<i64> {
        let ids = self.insert_many([(report, site, location)])?;
        Ok(ids[0])
    }

    /// Stores many runs in one transaction (all or none); returns their ids in order.
    pub fn insert_many<I, R, S, L>(&mut self, runs: I) -> Result<Vec<i64>>
    where
        I: IntoIterator<Item = (R, S, L)>,
        R: Borrow<Report>,
        S: AsRef<str>,
        L: AsRef<str>,
    {
        let err = |e| classify(&self.path, "store run", e);
        let tx = self.conn.transaction_with_behavior(TransactionBehavior::Immediate).map_err(err)?;
        let mut ids = Vec::new();
        for (report, site, location) in runs {
            ids.push(insert_run(&tx, &self.path, report.borrow(), site.as_ref(), location.as_ref())?);
        }
        tx.commit().map_err(err)?;
        Ok(ids)
    }

    /// The runs the filter selects, newest first.
    pub fn list(&self, filter: &Filter) -> Result<Vec<RunSummary>> {
        let (clause, mut params) = filter.where_clause();
        params.push(SqlValue::Integer(filter.limit_value()));
        let sql = format!(
            "SELECT id, started_at, site, location, status, root_cause, duration_ms FROM runs {clause} \
             ORDER BY started_at DESC, id DESC LIMIT ?"
        );
        let run = || -> rusqlite::Result<Vec<RunSummary>> {
            let mut stmt = self.conn.prepare(&sql)?;
            let rows = stmt.query_map(rusqlite::params_from_iter(params), |r| {
                Ok(RunSummary {
                    id: r.get(0)?,
                    started_at: r.get(1)?,
                    site: r.get(2)?,
                    location: r.get(3)?,
                    status: r.get(4)?,
                    root_cause: r.get(5)?,
                    duration_ms: u64::try_from(r.get::<_, i64>(6)?).unwrap_or(0),
                })
            })?;
            rows.collect()
        };
        run().map_err(self.err("list runs"))
    }

    /// How many runs the filter selects (its `limit` ignored).
    pub fn count(&self, filter: &Filter) -> Result<u64> {
        let (clause, params) = filter.where_clause();
        let sql = format!("SELECT count(*) FROM runs {clause}");
        let n: i64 = self
            .conn
            .query_row(&sql, rusqlite::params_from_iter(params), |r| r.get(0))
            .map_err(self.err("count runs"))?;
        Ok(u64::try_from(n).unwrap_or(0))
    }

    /// The newest run of every site and location: (id, site, location), by site and location.
    pub fn latest_per_location(&self) -> Result<Vec<(i64, String, String)>> {
        let mut stmt = self
            .conn
            .prepare("SELECT max(id), site, location FROM runs GROUP BY site, location ORDER BY site, location")
            .map_err(self.err("read latest runs"))?;
        let rows = stmt
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
            .map_err(self.err("read latest runs"))?
            .collect::<std::result::Result<Vec<_>, _>>()
            .map_err(self.err("read latest runs"))?;
        Ok(rows)
    }

    /// The stored report of run `id`, as JSON (also reports written by newer versions).
    pub fn get(&self, id: i64) -> Result<Option<serde_json::Value>> {
        let text: Option<String> = self
            .conn
            .query_row("SELECT report FROM runs WHERE id = ?", [id], |r| r.get(0))
            .optional()
            .map_err(self.err("read run"))?;
        text.map(|t| {
            serde_json::from_str(&t).map_err(|source| HistoryError::BadStoredReport {
                id,
                path: self.path.clone(),
                source,
            })
        })
        .transpose()
    }

    /// Writes the selected runs as JSON Lines, one object per run, oldest first (with a
    /// `limit`: the newest runs, still oldest first): `{"id", "site", "location",
    /// "report"}`, the report as stored. Returns the number of lines.
    pub fn export(&self, filter: &Filter, out: &mut impl Write) -> Result<u64> {
        let (clause, mut params) = filter.where_clause();
        let sql = if filter.limit.is_some() {
            params.push(SqlValue::Integer(filter.limit_value()));
            format!(
                "SELECT id, site, location, report FROM runs WHERE id IN \
                 (SELECT id FROM runs {clause} ORDER BY started_at DESC, id DESC LIMIT ?) \
                 ORDER BY started_at, id"
            )
        } else {
            format!("SELECT id, site, location, report FROM runs {clause} ORDER BY started_at, id")
        };
        let err = self.err("export runs");
        let mut stmt = self.conn.prepare(&sql).map_err(&err)?;
        let mut rows = stmt.query(rusqlite::params_from_iter(params)).map_err(&err)?;
        let mut lines = 0;
        while let Some(row) = rows.next().map_err(&err)? {
            let id: i64 = row.get(0).map_err(&err)?;
            let (site, location): (String, String) = (row.get(1).map_err(&err)?, row.get(2).map_err(&err)?);
            let report = row.get_ref(3).and_then(|v| Ok(v.as_str()?)).map_err(&err)?;
            // Stored reports are compact serde_json output: no raw newlines inside.
            let quote = |text: &str| serde_json::Value::from(text).to_string();
            let line = format!(
                "{{\"id\":{id},\"site\":{},\"location\":{},\"report\":{report}}}\n",
                quote(&site),
                quote(&location)
            );
            out.write_all(line.as_bytes()).map_err(HistoryError::Export)?;
            lines += 1;
        }
        out.flush().map_err(HistoryError::Export)?;
        Ok(lines)
    }

    /// Summarises the selected runs per site and location.
    pub fn trend(&self, filter: &Filter) -> Result<Trend> {
        trend(&self.conn, filter).map_err(self.err("trend query"))
    }
}

/// Refuses a non-empty file whose header is not SQLite's, before SQLite touches it.
fn check_header(path: &Path) -> Result<()> {
    const MAGIC: &[u8; 16] = b"SQLite format 3\0";
    let io_err = |source| HistoryError::Io { path: path.to_path_buf(), source };
    let file = match std::fs::File::open(path) {
        Ok(file) => file,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(io_err(e)),
    };
    let mut header = Vec::with_capacity(100);
    file.take(100).read_to_end(&mut header).map_err(io_err)?;
    if header.is_empty() {
        return Ok(());
    }
    if header.len() < 100 || !header.starts_with(MAGIC) {
        let detail = "the file does not start with a sqlite header".to_string();
        return Err(HistoryError::Corrupt { path: path.to_path_buf(), detail });
    }
    Ok(())
}

/// Maps SQLite's error to the variant a person can act on.
fn classify(path: &Path, op: &'static str, e: rusqlite::Error) -> HistoryError {
    let path = path.to_path_buf();
    match e.sqlite_error_code() {
        Some(ErrorCode::NotADatabase | ErrorCode::DatabaseCorrupt) => {
            HistoryError::Corrupt { path, detail: e.to_string() }
        }
        Some(ErrorCode::DiskFull) => HistoryError::DiskFull { path },
        Some(ErrorCode::DatabaseBusy | ErrorCode::DatabaseLocked) => HistoryError::Busy { path },
        _ => HistoryError::Sqlite { op, path, source: e },
    }
}

/// Runs `PRAGMA integrity_check` or `quick_check`: `None` when sound, else what it found.
fn integrity(conn: &Connection, pragma: &str) -> rusqlite::Result<Option<String>> {
    let mut stmt = conn.prepare(&format!("PRAGMA {pragma}"))?;
    let lines: Vec<String> = stmt.query_map([], |r| r.get(0))?.collect::<rusqlite::Result<_>>()?;
    Ok((lines != ["ok"]).then(|| lines.iter().take(5).cloned().collect::<Vec<_>>().join("; ")))
}

/// RFC 3339 UTC with milliseconds: the form reports use, which sorts as text.
fn format_time(t: SystemTime) -> String {
    humantime::format_rfc3339_millis(t).to_string()
}

/// The trend samples of one report: `(metric, key, value)`, finite values only.
fn samples(report: &Report) -> Vec<(&'static str, String, f64)> {
    let mut out = Vec::new();
    for check in &report.checks {
        // A check blocked by a failed layer below did not work for the user either; one
        // skipped as not applicable says nothing about the layer.
        let ok = check_ok(check.status).or(check.blocked_by.map(|_| false));
        if let Some(ok) = ok {
            out.push((CHECK_OK, check.id.as_str().to_string(), if ok { 1.0 } else { 0.0 }));
        }
    }
    let m = Measurements::from_report(report);
    for g in &m.gateways {
        out.extend(g.avg_ms.map(|v| (GATEWAY_RTT_MS, g.address.clone(), v)));
        out.extend(g.loss_ratio.map(|v| (GATEWAY_LOSS_RATIO, g.address.clone(), v)));
    }
    for s in &m.dns {
        out.extend(s.avg_ms.map(|v| (DNS_MS, s.server.clone(), v)));
        out.extend(s.first_attempt_loss.map(|v| (DNS_FIRST_ATTEMPT_LOSS, s.server.clone(), v)));
    }
    out.extend(m.wifi_signal_dbm.map(|v| (WIFI_SIGNAL_DBM, String::new(), v)));
    for h in &m.http {
        out.extend(h.total_ms.map(|v| (HTTP_TOTAL_MS, h.url.clone(), v)));
        out.push((HTTP_STATUS, h.url.clone(), f64::from(h.status.unwrap_or(0))));
    }
    for c in &m.cert_expiry {
        out.push((TLS_CERT_EXPIRY, c.url.clone(), c.not_after_unix));
    }
    out.extend(m.captive_portal.map(|p| (WEB_CAPTIVE_PORTAL, String::new(), if p { 1.0 } else { 0.0 })));
    for p in &m.profiles {
        out.push((PROFILE_OK, format!("{}:{}", p.profile, p.target), if p.success { 1.0 } else { 0.0 }));
    }
    for c in &m.ad_clock {
        out.push((AD_CLOCK_OFFSET_S, format!("{}:{}", c.dc, c.source), c.offset_s));
    }
    out.retain(|(_, _, v)| v.is_finite());
    out
}

/// Inserts one run and its samples inside the caller's transaction.
fn insert_run(conn: &Connection, path: &Path, report: &Report, site: &str, location: &str) -> Result<i64> {
    let started_at = format_time(report.started_at.0);
    let json = serde_json::to_string(report).map_err(HistoryError::Serialise)?;
    let root_cause = report.diagnosis.root_cause.as_ref().map(|c| c.code.as_str());
    let duration_ms = i64::try_from(report.duration_ms).unwrap_or(i64::MAX);
    let run = || -> rusqlite::Result<i64> {
        let mut stmt = conn.prepare_cached(
            "INSERT INTO runs (started_at, site, location, status, root_cause, duration_ms, report) \
             VALUES (?, ?, ?, ?, ?, ?, ?)",
        )?;
        stmt.execute(params![
            started_at,
            site,
            location,
            report.diagnosis.status.as_str(),
            root_cause,
            duration_ms,
            json
        ])?;
        let id = conn.last_insert_rowid();
        // A duplicate key (the same server listed twice) keeps the first reading.
        let mut stmt =
            conn.prepare_cached("INSERT OR IGNORE INTO samples (run_id, metric, key, value) VALUES (?, ?, ?, ?)")?;
        for (metric, key, value) in samples(report) {
            stmt.execute(params![id, metric, key, value])?;
        }
        Ok(id)
    };
    run().map_err(|e| classify(path, "store run", e))
}

/// Per-group accumulators of one pass over the samples.
#[derive(Default)]
struct Acc {
    /// Check id, runs it applied to, runs it worked in.
    checks: Vec<(String, u64, u64)>,
    gateway_rtt_ms: Vec<f64>,
    gateway_loss_ratio: Vec<f64>,
    dns_ms: Vec<f64>,
    dns_first_attempt_loss: Vec<f64>,
    wifi_signal_dbm: Vec<f64>,
    web: WebAcc,
}

/// The web samples of one group: portal runs, and per URL its runs, good answers, times
/// and the latest certificate expiry with the run time it was seen at.
#[derive(Default)]
struct WebAcc {
    connectivity_runs: u64,
    portal_runs: u64,
    urls: HashMap<String, UrlAcc>,
}

#[derive(Default)]
struct UrlAcc {
    runs: u64,
    ok: u64,
    total_ms: Vec<f64>,
    cert: Option<(String, f64)>,
}

impl WebAcc {
    fn finish(self) -> Option<WebTrend> {
        if self.connectivity_runs == 0 && self.urls.is_empty() {
            return None;
        }
        let mut urls: Vec<UrlTrend> = self
            .urls
            .into_iter()
            .map(|(url, mut a)| UrlTrend {
                url,
                runs: a.runs,
                answered_ok: a.ok,
                total_ms: Distribution::of(&mut a.total_ms),
                cert_expiry: a.cert.and_then(|(_, unix)| {
                    let t = std::time::UNIX_EPOCH.checked_add(Duration::try_from_secs_f64(unix).ok()?)?;
                    Some(format_time(t))
                }),
            })
            .collect();
        urls.sort_by(|a, b| a.url.cmp(&b.url));
        Some(WebTrend { connectivity_runs: self.connectivity_runs, portal_runs: self.portal_runs, urls })
    }
}

impl Acc {
    fn check(&mut self, check: &str, ok: bool) {
        let i = match self.checks.iter().position(|(c, _, _)| c == check) {
            Some(i) => i,
            None => {
                self.checks.push((check.to_string(), 0, 0));
                self.checks.len() - 1
            }
        };
        self.checks[i].1 += 1;
        self.checks[i].2 += u64::from(ok);
    }
}

fn trend(conn: &Connection, filter: &Filter) -> rusqlite::Result<Trend> {
    // One read transaction, so every query sees the same runs while others write.
    let snapshot = conn.unchecked_transaction()?;
    let conn: &Connection = &snapshot;
    let (clause, mut params) = filter.where_clause();
    let order = if filter.limit.is_some() {
        params.push(SqlValue::Integer(filter.limit_value()));
        "ORDER BY started_at DESC, id DESC LIMIT ?"
    } else {
        ""
    };
    let sel =
        format!("WITH sel AS (SELECT id, site, location, started_at, status, root_cause FROM runs {clause} {order}) ");
    let query =
        |sql: &str| -> rusqlite::Result<rusqlite::CachedStatement<'_>> { conn.prepare_cached(&format!("{sel}{sql}")) };
    let args = || rusqlite::params_from_iter(params.iter());
    let count = |v: i64| u64::try_from(v).unwrap_or(0);

    let mut groups = Vec::new();
    let mut index: HashMap<String, HashMap<String, usize>> = HashMap::new();
    let mut stmt = query(
        "SELECT site, location, count(*), min(started_at), max(started_at), \
         sum(status = 'healthy'), sum(status = 'degraded'), sum(status = 'broken') \
         FROM sel GROUP BY site, location ORDER BY site, location",
    )?;
    let mut rows = stmt.query(args())?;
    while let Some(r) = rows.next()? {
        let (site, location): (String, String) = (r.get(0)?, r.get(1)?);
        index.entry(site.clone()).or_default().insert(location.clone(), groups.len());
        groups.push(SiteTrend {
            site,
            location,
            runs: count(r.get(2)?),
            first_run: r.get(3)?,
            last_run: r.get(4)?,
            healthy: count(r.get(5)?),
            degraded: count(r.get(6)?),
            broken: count(r.get(7)?),
            availability: Vec::new(),
            gateway_rtt_ms: None,
            gateway_loss_ratio: None,
            dns_ms: None,
            dns_first_attempt_loss: None,
            wifi_signal_dbm: None,
            web: None,
            root_causes: Vec::new(),
        });
    }
    // The group of a row whose first two columns are site and location; rows mostly come
    // grouped, so the previous answer is tried first.
    let mut last = usize::MAX;
    let mut group_of = |r: &rusqlite::Row<'_>, groups: &[SiteTrend]| -> rusqlite::Result<Option<usize>> {
        let (site, location) = (r.get_ref(0)?.as_str()?, r.get_ref(1)?.as_str()?);
        if groups.get(last).is_some_and(|g| g.site == site && g.location == location) {
            return Ok(Some(last));
        }
        let found = index.get(site).and_then(|l| l.get(location)).copied();
        last = found.unwrap_or(usize::MAX);
        Ok(found)
    };

    // One pass over every sample of the selected runs: one index seek per run, and the
    // aggregation in Rust (a GROUP BY would sort hundreds of thousands of rows).
    let mut acc: Vec<Acc> = (0..groups.len()).map(|_| Acc::default()).collect();
    let mut stmt = query(
        "SELECT sel.site, sel.location, s.metric, s.key, s.value, sel.started_at \
         FROM sel JOIN samples s ON s.run_id = sel.id",
    )?;
    let mut rows = stmt.query(args())?;
    while let Some(r) = rows.next()? {
        let Some(g) = group_of(r, &groups)? else { continue };
        let value: f64 = r.get(4)?;
        let acc = &mut acc[g];
        match r.get_ref(2)?.as_str()? {
            CHECK_OK => acc.check(r.get_ref(3)?.as_str()?, value > 0.0),
            GATEWAY_RTT_MS => acc.gateway_rtt_ms.push(value),
            GATEWAY_LOSS_RATIO => acc.gateway_loss_ratio.push(value),
            DNS_MS => acc.dns_ms.push(value),
            DNS_FIRST_ATTEMPT_LOSS => acc.dns_first_attempt_loss.push(value),
            WIFI_SIGNAL_DBM => acc.wifi_signal_dbm.push(value),
            WEB_CAPTIVE_PORTAL => {
                acc.web.connectivity_runs += 1;
                acc.web.portal_runs += u64::from(value > 0.0);
            }
            metric @ (HTTP_TOTAL_MS | HTTP_STATUS | TLS_CERT_EXPIRY) => {
                let url = acc.web.urls.entry(r.get_ref(3)?.as_str()?.to_string()).or_default();
                match metric {
                    HTTP_TOTAL_MS => url.total_ms.push(value),
                    HTTP_STATUS => {
                        url.runs += 1;
                        url.ok += u64::from(value > 0.0 && value < 400.0);
                    }
                    _ => {
                        // The latest run's certificate: a renewed one replaces the old.
                        let at = r.get_ref(5)?.as_str()?;
                        if url.cert.as_ref().is_none_or(|(seen, _)| at >= seen.as_str()) {
                            url.cert = Some((at.to_string(), value));
                        }
                    }
                }
            }
            _ => {} // a metric of a newer minor version: not part of this trend
        }
    }
    let layer_order = |check: &str| CheckId::every().position(|id| id.as_str() == check).unwrap_or(usize::MAX);
    for (g, mut a) in groups.iter_mut().zip(acc) {
        a.checks.sort_by(|x, y| layer_order(&x.0).cmp(&layer_order(&y.0)).then(x.0.cmp(&y.0)));
        g.availability = a
            .checks
            .into_iter()
            .map(|(check, runs, ok)| Availability { check, runs, ok, ratio: ok as f64 / runs as f64 })
            .collect();
        g.gateway_rtt_ms = Distribution::of(&mut a.gateway_rtt_ms);
        g.gateway_loss_ratio = Distribution::of(&mut a.gateway_loss_ratio);
        g.dns_ms = Distribution::of(&mut a.dns_ms);
        g.dns_first_attempt_loss = Distribution::of(&mut a.dns_first_attempt_loss);
        g.wifi_signal_dbm = Distribution::of(&mut a.wifi_signal_dbm);
        g.web = a.web.finish();
    }

    let mut stmt = query(
        "SELECT site, location, root_cause, count(*) FROM sel WHERE root_cause IS NOT NULL \
         GROUP BY site, location, root_cause ORDER BY site, location, count(*) DESC, root_cause",
    )?;
    let mut rows = stmt.query(args())?;
    while let Some(r) = rows.next()? {
        let Some(g) = group_of(r, &groups)? else { continue };
        if groups[g].root_causes.len() < TOP_ROOT_CAUSES {
            groups[g].root_causes.push(RootCauseCount { code: r.get(2)?, runs: count(r.get(3)?) });
        }
    }
    Ok(Trend { groups })
}

#[cfg(test)]
mod tests {
    use std::time::UNIX_EPOCH;

    use super::*;
    use crate::metrics::tests::{broken_report, healthy_report};

    /// Set in the child process of `writer_killed_mid_run_leaves_no_half_written_run`.
    const ABORT_ENV: &str = "NETTRIAGE_TEST_HISTORY_ABORT_DB";

    fn temp_db() -> (tempfile::TempDir, PathBuf) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("history.db");
        (dir, path)
    }

    fn at(secs: u64) -> SystemTime {
        UNIX_EPOCH + Duration::from_secs(secs)
    }

    /// A run at `secs` after the epoch.
    fn healthy_at(secs: u64) -> Report {
        healthy_report(&format_time(at(secs)))
    }

    fn broken_at(secs: u64) -> Report {
        broken_report(&format_time(at(secs)))
    }

    /// Sets the gateway's mean RTT of a report.
    fn with_rtt(mut report: Report, ms: f64) -> Report {
        let gw = report.checks.iter_mut().find(|c| c.id == CheckId::Gateway).unwrap();
        let crate::report::Evidence::Gateway(ev) = &mut gw.evidence else { panic!("gateway evidence") };
        ev.gateways[0].ping.as_mut().expect("pinged").avg_ms = Some(ms);
        report
    }

    /// `report` with a web check: a connectivity probe (online, or redirected to a portal)
    /// and an HTTPS target answering `status` in `ms`, its certificate valid until `not_after`.
    fn with_web(mut report: Report, portal: bool, ms: f64, status: u16, not_after: &str) -> Report {
        use crate::check::web::*;
        let check_url = "http://check.site.test/ok";
        let mut hops = vec![HttpHop { url: check_url.into(), status: Some(204), ..HttpHop::default() }];
        if portal {
            hops[0].status = Some(302);
            hops[0].location = Some("http://198.18.1.2/login".into());
            hops.push(HttpHop { url: "http://198.18.1.2/login".into(), status: Some(200), ..HttpHop::default() });
        }
        let probe = WebProbe { url: check_url.into(), hops, error: None, total_ms: Some(2.0) };
        let (state, portal_url) = assess(&probe, 204, None);
        let tls = TlsInfo {
            verdict: TlsVerdict::Ok,
            version: None,
            cipher: None,
            alpn: None,
            chain: vec![CertInfo {
                subject: "CN=www.site.test".into(),
                issuer: "CN=lab".into(),
                sans: vec![],
                not_before: None,
                not_after: Some(not_after.parse().unwrap()),
            }],
            error: None,
            ..TlsInfo::default()
        };
        let url = "https://www.site.test/";
        let hop =
            HttpHop { url: url.into(), status: Some(status), total_ms: Some(ms), tls: Some(tls), ..HttpHop::default() };
        let ev = WebEvidence {
            connectivity: Some(ConnectivityProbe {
                expect_status: 204,
                expect_body: None,
                body_matched: None,
                probe,
                state,
                portal_url,
            }),
            targets: vec![WebProbe { url: url.into(), hops: vec![hop], error: None, total_ms: Some(ms) }],
            ..WebEvidence::default()
        };
        report.checks.push(crate::report::CheckResult {
            id: CheckId::Web,
            status: crate::report::CheckStatus::Pass,
            duration_ms: 3,
            blocked_by: None,
            reason: None,
            reason_code: None,
            findings: vec![],
            evidence: crate::report::Evidence::Web(Box::new(ev)),
        });
        report
    }

    #[test]
    fn web_measurements_are_stored_and_trended_and_older_runs_without_them_still_read() {
        let (_dir, path) = temp_db();
        let mut h = History::open(&path).unwrap();
        // A run stored before the web layer existed (no web samples), then four with it:
        // one behind a portal, one with a 503, and a certificate renewed in the last one.
        h.insert(&healthy_at(60), "HQ", "lobby").unwrap();
        let runs = [
            with_web(healthy_at(120), false, 10.0, 200, "2027-01-01T00:00:00Z"),
            with_web(healthy_at(180), true, 20.0, 200, "2027-01-01T00:00:00Z"),
            with_web(healthy_at(240), false, 30.0, 503, "2027-01-01T00:00:00Z"),
            with_web(healthy_at(300), false, 40.0, 200, "2027-04-01T00:00:00Z"),
        ];
        let s = samples(&runs[1]);
        let get = |metric: &str, key: &str| s.iter().find(|(m, k, _)| *m == metric && k == key).map(|(_, _, v)| *v);
        assert_eq!(get(WEB_CAPTIVE_PORTAL, ""), Some(1.0));
        assert_eq!(get(HTTP_TOTAL_MS, "https://www.site.test/"), Some(20.0));
        assert_eq!(get(HTTP_STATUS, "https://www.site.test/"), Some(200.0));
        assert_eq!(get(HTTP_STATUS, "http://check.site.test/ok"), Some(200.0), "the portal's page answered");
        assert_eq!(get(TLS_CERT_EXPIRY, "https://www.site.test/"), Some(1_798_761_600.0));
        h.insert_many(runs.iter().map(|r| (r, "HQ", "lobby"))).unwrap();

        let trend = h.trend(&all()).unwrap();
        let g = &trend.groups[0];
        assert_eq!(g.runs, 5);
        let web = g.web.as_ref().expect("a web trend");
        assert_eq!((web.connectivity_runs, web.portal_runs), (4, 1));
        let urls: Vec<&str> = web.urls.iter().map(|u| u.url.as_str()).collect();
        assert_eq!(urls, ["http://check.site.test/ok", "https://www.site.test/"]);
        let site = &web.urls[1];
        assert_eq!((site.runs, site.answered_ok), (4, 3));
        let d = site.total_ms.as_ref().unwrap();
        assert_eq!((d.samples, d.min, d.p50, d.max), (4, 10.0, 20.0, 40.0));
        assert_eq!(site.cert_expiry.as_deref(), Some("2027-04-01T00:00:00.000Z"), "the latest run's certificate");
        // The availability counts the web layer only in the runs that had it.
        let web_avail = g.availability.iter().find(|a| a.check == "web").unwrap();
        assert_eq!((web_avail.runs, web_avail.ok), (4, 4));
        // Only the old run selected: it reads, and there is no web trend at all.
        let old = h.trend(&Filter { until: Some(at(61)), ..all() }).unwrap();
        assert_eq!((old.groups[0].runs, old.groups[0].web.is_none()), (1, true));
    }

    fn all() -> Filter {
        Filter::default()
    }

    #[test]
    fn codes_of_a_newer_version_are_stored_read_back_and_trended_as_themselves() {
        let (_dir, path) = temp_db();
        let mut h = History::open(&path).unwrap();
        let newer = crate::metrics::tests::newer_version_report(&format_time(at(100)));
        let id = h.insert(&newer, "HQ", "floor 2").unwrap();
        h.insert(&broken_at(200), "HQ", "floor 2").unwrap();
        let stored: Report = serde_json::from_value(h.get(id).unwrap().unwrap()).unwrap();
        assert_eq!(stored, newer);
        let code = stored.diagnosis.root_cause.as_ref().unwrap().code;
        assert_eq!((code.as_str(), code.is_known()), ("dns.brand_new_code", false));
        let runs = h.list(&all()).unwrap();
        assert!(runs.iter().any(|r| r.root_cause.as_deref() == Some("dns.brand_new_code")), "{runs:?}");
        let trend = h.trend(&all()).unwrap();
        let mut causes: Vec<(&str, u64)> =
            trend.groups[0].root_causes.iter().map(|r| (r.code.as_str(), r.runs)).collect();
        causes.sort();
        assert_eq!(causes, [("dns.brand_new_code", 1), ("dns.timeout", 1)]);
        // Its evidence still feeds the trend (two gateway samples, one from each run).
        assert_eq!(trend.groups[0].gateway_rtt_ms.as_ref().unwrap().samples, 2);
    }

    #[test]
    fn profile_checks_are_stored_read_back_and_trended_per_run() {
        let (_dir, path) = temp_db();
        let mut h = History::open(&path).unwrap();
        let profiled = crate::render::report_with_profiles(&format_time(at(100)));
        let id = h.insert(&profiled, "HQ", "floor 2").unwrap();
        // A later run whose ad profile works, and one without profiles.
        let mut fixed = crate::render::report_with_profiles(&format_time(at(200)));
        fixed.checks[1].status = crate::report::CheckStatus::Pass;
        fixed.checks[1].findings.clear();
        fixed.diagnosis = crate::diagnosis::diagnose(&fixed.checks);
        h.insert(&fixed, "HQ", "floor 2").unwrap();
        h.insert(&healthy_at(300), "HQ", "floor 2").unwrap();
        let stored: Report = serde_json::from_value(h.get(id).unwrap().unwrap()).unwrap();
        assert_eq!(stored.checks.iter().map(|c| c.id).collect::<Vec<_>>(), [CheckId::Link, CheckId::Ad, CheckId::Rdp]);
        assert_eq!(stored.checks[1].findings[0].code, crate::report::Code::AdClockSkew);
        assert_eq!(
            h.list(&all()).unwrap().iter().filter(|r| r.root_cause.as_deref() == Some("ad.clock_skew")).count(),
            1
        );
        // The trend: each profile's availability, after the layers, over the runs it ran in.
        let trend = h.trend(&all()).unwrap();
        let avail: Vec<(&str, u64, u64)> =
            trend.groups[0].availability.iter().map(|a| (a.check.as_str(), a.runs, a.ok)).collect();
        let profiles: Vec<_> = avail.iter().filter(|(c, _, _)| ["ad", "rdp"].contains(c)).copied().collect();
        assert_eq!(profiles, [("ad", 2, 1), ("rdp", 2, 2)]);
        assert_eq!(avail.last().map(|a| a.0), Some("rdp"), "profiles follow the layers: {avail:?}");
        // The per-run series the trend page draws: the ad profile fails, then works.
        let series = crate::survey::series(&h, &all(), "HQ", "floor 2").unwrap();
        let ad: Vec<Option<crate::report::CheckStatus>> =
            series.iter().map(|p| p.checks.iter().find(|(c, _)| *c == CheckId::Ad).map(|(_, s)| *s)).collect();
        assert_eq!(ad, [Some(crate::report::CheckStatus::Fail), Some(crate::report::CheckStatus::Pass), None]);
        let mut page = Vec::new();
        crate::render::trend::write_trend_html(&trend, &[series], &mut page).unwrap();
        let page = String::from_utf8(page).unwrap();
        assert!(page.contains("data-check=\"ad\"") && page.contains("data-check=\"rdp\""));
        let mut text = Vec::new();
        crate::render::trend::write_trend(&trend, &mut text).unwrap();
        let text = String::from_utf8(text).unwrap();
        // The availability table: ad worked in 1 of 2 runs, rdp in both.
        assert!(text.lines().any(|l| l.contains(" ad ") && l.contains("50.0 %")), "{text}");
        assert!(text.lines().any(|l| l.contains(" rdp ") && l.contains("100.0 %")), "{text}");
    }

    #[test]
    fn round_trip_keeps_the_report_and_its_summary() {
        let (_dir, path) = temp_db();
        let mut h = History::open(&path).unwrap();
        let healthy = healthy_report("2026-11-24T07:00:00.123Z");
        let broken = broken_report("2026-11-24T08:00:00Z");
        let a = h.insert(&healthy, "HQ", "floor 2").unwrap();
        let b = h.insert(&broken, "HQ", "floor 2").unwrap();
        assert_ne!(a, b);
        assert_eq!(h.get(a).unwrap(), Some(serde_json::to_value(&healthy).unwrap()));
        let stored: Report = serde_json::from_value(h.get(b).unwrap().unwrap()).unwrap();
        assert_eq!(stored, broken);
        assert_eq!(h.get(b + 100).unwrap(), None);
        drop(h);

        let h = History::open(&path).unwrap();
        let runs = h.list(&all()).unwrap();
        assert_eq!(
            runs,
            vec![
                RunSummary {
                    id: b,
                    started_at: "2026-11-24T08:00:00.000Z".into(),
                    site: "HQ".into(),
                    location: "floor 2".into(),
                    status: "broken".into(),
                    root_cause: Some("dns.timeout".into()),
                    duration_ms: 1500,
                },
                RunSummary {
                    id: a,
                    started_at: "2026-11-24T07:00:00.123Z".into(),
                    site: "HQ".into(),
                    location: "floor 2".into(),
                    status: "healthy".into(),
                    root_cause: None,
                    duration_ms: 1500,
                },
            ]
        );
    }

    #[test]
    fn samples_hold_the_trend_inputs() {
        let s = samples(&broken_report("2026-11-24T08:00:00Z"));
        let get = |metric: &str, key: &str| s.iter().find(|(m, k, _)| *m == metric && k == key).map(|(_, _, v)| *v);
        assert_eq!(get(CHECK_OK, "wifi"), Some(1.0));
        assert_eq!(get(CHECK_OK, "gateway"), Some(1.0), "warn counts as working");
        assert_eq!(get(CHECK_OK, "dns"), Some(0.0));
        assert_eq!(get(CHECK_OK, "ports"), Some(0.0), "blocked by dns");
        assert_eq!(get(GATEWAY_RTT_MS, "10.9.0.1"), Some(40.0));
        assert_eq!(get(GATEWAY_LOSS_RATIO, "10.9.0.1"), Some(0.2));
        assert_eq!(get(DNS_MS, "10.9.0.53"), None, "no answer, no latency");
        assert_eq!(get(WIFI_SIGNAL_DBM, ""), Some(-71.0));
        let s = samples(&healthy_report("2026-11-24T08:00:00Z"));
        assert!(!s.iter().any(|(m, k, _)| *m == CHECK_OK && k == "wifi"), "skipped as not applicable");
    }

    #[test]
    fn profile_targets_and_the_dc_clock_are_trend_samples() {
        use crate::check::ad::{AdEvidence, ClockReading, ClockSource, DcProbe};
        use crate::report::{CheckId, CheckResult, CheckStatus, Evidence};
        let mut report = healthy_report("2026-11-24T08:00:00Z");
        let ev = AdEvidence {
            domain: "corp.lab".into(),
            dcs: vec![DcProbe {
                name: "dc1.corp.lab".into(),
                clock: vec![ClockReading {
                    dc: "dc1.corp.lab".into(),
                    source: ClockSource::Kerberos,
                    offset_ms: 420_000.0,
                }],
                ..DcProbe::default()
            }],
            ..AdEvidence::default()
        };
        report.checks.push(CheckResult {
            id: CheckId::Ad,
            status: CheckStatus::Fail,
            duration_ms: 20,
            blocked_by: None,
            reason: None,
            reason_code: None,
            findings: vec![],
            evidence: Evidence::Ad(Box::new(ev)),
        });
        let s = samples(&report);
        let get = |metric: &str, key: &str| s.iter().find(|(m, k, _)| *m == metric && k == key).map(|(_, _, v)| *v);
        assert_eq!(get(CHECK_OK, "ad"), Some(0.0));
        assert_eq!(get(PROFILE_OK, "ad:dc1.corp.lab"), Some(0.0));
        assert_eq!(get(AD_CLOCK_OFFSET_S, "dc1.corp.lab:kerberos"), Some(420.0));
    }

    #[test]
    fn filters_select_by_site_location_time_status_and_limit() {
        let (_dir, path) = temp_db();
        let mut h = History::open(&path).unwrap();
        h.insert(&healthy_at(1_000), "HQ", "floor 1").unwrap();
        h.insert(&broken_at(2_000), "HQ", "floor 2").unwrap();
        h.insert(&healthy_at(3_000), "HQ", "floor 2").unwrap();
        h.insert(&healthy_at(4_000), "Branch", "lobby").unwrap();
        let ids = |f: Filter| -> Vec<String> { h.list(&f).unwrap().into_iter().map(|r| r.started_at).collect() };
        let t = |secs| format_time(at(secs));

        assert_eq!(ids(all()), [t(4_000), t(3_000), t(2_000), t(1_000)], "newest first");
        assert_eq!(ids(Filter { site: Some("HQ".into()), ..all() }), [t(3_000), t(2_000), t(1_000)]);
        let floor2 = Filter { site: Some("HQ".into()), location: Some("floor 2".into()), ..all() };
        assert_eq!(ids(floor2.clone()), [t(3_000), t(2_000)]);
        assert_eq!(ids(Filter { since: Some(at(2_000)), until: Some(at(4_000)), ..all() }), [t(3_000), t(2_000)]);
        assert_eq!(ids(Filter { status: Some(RunStatus::Broken), ..all() }), [t(2_000)]);
        assert_eq!(ids(Filter { status: Some(RunStatus::Degraded), ..all() }), Vec::<String>::new());
        assert_eq!(ids(Filter { limit: Some(2), ..all() }), [t(4_000), t(3_000)]);
        assert_eq!(h.count(&Filter { limit: Some(1), ..floor2 }).unwrap(), 2, "count ignores the limit");
        assert_eq!(ids(Filter { site: Some("hq".into()), ..all() }), Vec::<String>::new(), "exact match");
    }

    #[test]
    fn export_writes_one_report_per_line_oldest_first() {
        let (_dir, path) = temp_db();
        let mut h = History::open(&path).unwrap();
        let reports = [healthy_at(3_000), broken_at(1_000), healthy_at(2_000)];
        for r in &reports {
            h.insert(r, "HQ", "floor 2").unwrap();
        }
        let mut out = Vec::new();
        assert_eq!(h.export(&all(), &mut out).unwrap(), 3);
        let text = String::from_utf8(out).unwrap();
        let runs: Vec<serde_json::Value> = text.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
        let ids: Vec<i64> = runs.iter().map(|r| r["id"].as_i64().unwrap()).collect();
        assert_eq!(ids, [2, 3, 1], "each line names its run");
        assert!(runs.iter().all(|r| r["site"] == "HQ" && r["location"] == "floor 2"));
        let report = |r: &serde_json::Value| serde_json::from_value::<Report>(r["report"].clone()).unwrap();
        let lines: Vec<Report> = runs.iter().map(report).collect();
        assert_eq!(lines, [reports[1].clone(), reports[2].clone(), reports[0].clone()]);
        assert!(text.ends_with('\n'));

        let mut out = Vec::new();
        assert_eq!(h.export(&Filter { limit: Some(2), ..all() }, &mut out).unwrap(), 2);
        let runs: Vec<serde_json::Value> =
            String::from_utf8(out).unwrap().lines().map(|l| serde_json::from_str(l).unwrap()).collect();
        let lines: Vec<Report> = runs.iter().map(report).collect();
        assert_eq!(lines, [reports[2].clone(), reports[0].clone()], "the newest two, oldest first");
    }

    #[test]
    fn trend_summarises_each_site_and_location() {
        let (_dir, path) = temp_db();
        let mut h = History::open(&path).unwrap();
        // HQ/floor 2: 20 runs, RTT 1..=20 ms; runs 16..=20 are broken (DNS down, Wi-Fi -71 dBm).
        let runs: Vec<Report> = (1..=20u64)
            .map(|i| with_rtt(if i > 15 { broken_at(i * 60) } else { healthy_at(i * 60) }, i as f64))
            .collect();
        h.insert_many(runs.iter().map(|r| (r, "HQ", "floor 2"))).unwrap();
        h.insert(&healthy_at(10_000), "Branch", "lobby").unwrap();

        let trend = h.trend(&all()).unwrap();
        assert_eq!(trend.groups.len(), 2);
        let branch = &trend.groups[0];
        assert_eq!((branch.site.as_str(), branch.location.as_str(), branch.runs), ("Branch", "lobby", 1));
        assert!(branch.root_causes.is_empty() && branch.wifi_signal_dbm.is_none());

        let hq = &trend.groups[1];
        assert_eq!((hq.runs, hq.healthy, hq.degraded, hq.broken), (20, 15, 0, 5));
        assert_eq!(
            (hq.first_run.as_str(), hq.last_run.as_str()),
            ("1970-01-01T00:01:00.000Z", "1970-01-01T00:20:00.000Z")
        );
        let avail: Vec<(&str, u64, u64)> = hq.availability.iter().map(|a| (a.check.as_str(), a.runs, a.ok)).collect();
        assert_eq!(
            avail,
            [
                ("link", 20, 20),
                ("wifi", 5, 5),
                ("dhcp", 20, 20),
                ("gateway", 20, 20),
                ("dns", 20, 15),
                ("ports", 20, 15)
            ]
        );
        assert_eq!(hq.availability[4].ratio, 0.75);
        let rtt = hq.gateway_rtt_ms.as_ref().unwrap();
        assert_eq!((rtt.samples, rtt.min, rtt.p50, rtt.p95, rtt.max), (20, 1.0, 10.0, 19.0, 20.0));
        let loss = hq.gateway_loss_ratio.as_ref().unwrap();
        assert_eq!((loss.p50, loss.p95, loss.max), (0.0, 0.2, 0.2));
        let dns = hq.dns_ms.as_ref().unwrap();
        assert_eq!((dns.samples, dns.p50, dns.p95), (15, 12.0, 12.0), "timeouts carry no latency");
        let wifi = hq.wifi_signal_dbm.as_ref().unwrap();
        assert_eq!((wifi.samples, wifi.p5, wifi.p50), (5, -71.0, -71.0));
        assert_eq!(hq.root_causes, [RootCauseCount { code: "dns.timeout".into(), runs: 5 }]);

        let recent = h.trend(&Filter { site: Some("HQ".into()), limit: Some(4), ..all() }).unwrap();
        assert_eq!(recent.groups.len(), 1);
        let g = &recent.groups[0];
        assert_eq!((g.runs, g.broken), (4, 4));
        assert_eq!(g.gateway_rtt_ms.as_ref().unwrap().min, 17.0, "only the newest four");
        assert_eq!(h.trend(&Filter { site: Some("nowhere".into()), ..all() }).unwrap(), Trend::default());
    }

    #[test]
    fn percentiles_use_the_nearest_rank() {
        let d = Distribution::of(&mut (1..=100).rev().map(f64::from).collect()).unwrap();
        assert_eq!((d.samples, d.min, d.p5, d.p50, d.p95, d.max), (100, 1.0, 5.0, 50.0, 95.0, 100.0));
        let d = Distribution::of(&mut vec![7.0, f64::NAN]).unwrap();
        assert_eq!((d.samples, d.p5, d.p95), (1, 7.0, 7.0));
        assert_eq!(Distribution::of(&mut vec![]), None);
    }

    #[test]
    fn migrations_run_on_a_new_or_empty_file_once() {
        let (_dir, path) = temp_db();
        std::fs::write(&path, b"").unwrap();
        let h = History::open(&path).unwrap();
        let read = |sql: &str| h.conn.query_row(sql, [], |r| r.get::<_, i64>(0)).unwrap();
        assert_eq!(read("PRAGMA user_version"), SCHEMA_VERSION);
        assert_eq!(read("PRAGMA application_id"), i64::from(APPLICATION_ID));
        assert_eq!(read("SELECT count(*) FROM sqlite_master WHERE type = 'table'"), 2);
        let mode: String = h.conn.query_row("PRAGMA journal_mode", [], |r| r.get(0)).unwrap();
        assert_eq!(mode, "wal");
        h.verify().unwrap();
        drop(h);
        let mut h = History::open(&path).unwrap();
        h.insert(&healthy_at(1), "HQ", "floor 2").unwrap();
        assert_eq!(h.count(&all()).unwrap(), 1);
    }

    /// Reads the file and every SQLite side file next to it.
    fn snapshot(path: &Path) -> Vec<(PathBuf, Vec<u8>)> {
        let mut files: Vec<_> = std::fs::read_dir(path.parent().unwrap())
            .unwrap()
            .map(|e| e.unwrap().path())
            .map(|p| {
                let bytes = std::fs::read(&p).unwrap();
                (p, bytes)
            })
            .collect();
        files.sort();
        files
    }

    #[test]
    fn a_reader_never_creates_migrates_or_writes() {
        let (_dir, path) = temp_db();
        assert!(matches!(History::open_read_only(&path), Err(HistoryError::NoSuchDatabase { .. })));
        assert!(!path.exists(), "not created");
        {
            let mut h = History::open(&path).unwrap();
            h.insert(&healthy_at(1), "HQ", "floor 2").unwrap();
        }
        // SQLite's WAL reader may create the -shm/-wal side files; the database is unchanged.
        let before = std::fs::read(&path).unwrap();
        {
            let h = History::open_read_only(&path).unwrap();
            assert_eq!(h.count(&all()).unwrap(), 1);
            assert_eq!(h.list(&all()).unwrap().len(), 1);
        }
        assert_eq!(std::fs::read(&path).unwrap(), before, "reading left the database as it was");
        // A history of an older schema is refused, untouched (the next survey upgrades it).
        {
            let h = History::open(&path).unwrap();
            h.conn.pragma_update(None, "user_version", SCHEMA_VERSION - 1).unwrap();
        }
        let before = std::fs::read(&path).unwrap();
        assert!(matches!(History::open_read_only(&path), Err(HistoryError::OlderSchema { .. })));
        assert_eq!(std::fs::read(&path).unwrap(), before);
    }

    #[test]
    fn newer_schema_is_refused_and_left_untouched() {
        let (_dir, path) = temp_db();
        {
            let conn = Connection::open(&path).unwrap();
            conn.execute_batch(
                "CREATE TABLE runs (id INTEGER PRIMARY KEY, future TEXT); INSERT INTO runs VALUES (1, 'x');",
            )
            .unwrap();
            conn.pragma_update(None, "application_id", APPLICATION_ID).unwrap();
            conn.pragma_update(None, "user_version", SCHEMA_VERSION + 1).unwrap();
        }
        let before = snapshot(&path);
        let err = History::open(&path).unwrap_err();
        // The error names the file and both versions (in its fields; the message shows them).
        assert!(
            matches!(&err, HistoryError::NewerSchema { path: p, found, supported }
                if *p == path && *found == SCHEMA_VERSION + 1 && *supported == SCHEMA_VERSION),
            "{err:?}"
        );
        assert_eq!(snapshot(&path), before, "not a byte changed, no file added");
    }

    #[test]
    fn garbage_file_is_refused_and_left_untouched() {
        let (_dir, path) = temp_db();
        let garbage: Vec<u8> = (0..10_000u32).map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8).collect();
        std::fs::write(&path, &garbage).unwrap();
        let err = History::open(&path).unwrap_err();
        assert!(matches!(&err, HistoryError::Corrupt { path: p, .. } if *p == path), "{err:?}");
        assert_eq!(snapshot(&path), [(path.clone(), garbage)]);
    }

    #[test]
    fn damaged_pages_are_reported_as_corruption_and_left_untouched() {
        let (_dir, path) = temp_db();
        let mut h = History::open(&path).unwrap();
        h.insert_many((0..200).map(|i| (healthy_at(i), "HQ", "floor 2"))).unwrap();
        drop(h);
        // Keep the header page, scramble the rest.
        let mut bytes = std::fs::read(&path).unwrap();
        assert!(bytes.len() > 16_384, "{}", bytes.len());
        for (i, b) in bytes.iter_mut().enumerate().skip(4096) {
            *b = (i as u32).wrapping_mul(2_654_435_761).to_le_bytes()[1];
        }
        std::fs::write(&path, &bytes).unwrap();
        let before = snapshot(&path);
        let results: Vec<Result<()>> = match History::open(&path) {
            Err(e) => vec![Err(e)],
            Ok(h) => vec![h.verify(), h.list(&all()).map(drop), h.trend(&all()).map(drop)],
        };
        for r in results {
            let err = r.unwrap_err();
            assert!(matches!(err, HistoryError::Corrupt { .. }), "{err:?}");
        }
        let after = snapshot(&path);
        assert_eq!(after.iter().find(|(p, _)| *p == path), before.iter().find(|(p, _)| *p == path));
        assert_eq!(after, before, "no side file left either");
    }

    #[test]
    fn a_database_of_another_program_is_refused() {
        let (_dir, path) = temp_db();
        Connection::open(&path).unwrap().execute_batch("CREATE TABLE contacts (name TEXT);").unwrap();
        let before = snapshot(&path);
        let err = History::open(&path).unwrap_err();
        assert!(matches!(err, HistoryError::Foreign { .. }), "{err:?}");
        assert_eq!(snapshot(&path), before);
    }

    #[test]
    fn missing_directory_is_a_clear_error() {
        let (dir, _) = temp_db();
        let path = dir.path().join("no-such-dir").join("history.db");
        let err = History::open(&path).unwrap_err();
        assert!(matches!(err, HistoryError::MissingDir { .. }), "{err:?}");
        assert!(err.to_string().contains("no-such-dir"), "{err}");
        assert!(!dir.path().join("no-such-dir").exists());
    }

    #[test]
    fn a_report_with_a_bad_start_time_never_reaches_the_history() {
        // `started_at` is a `Timestamp`: such a report does not even read, so it cannot be
        // stored (it used to be rejected at insert time).
        let mut json = serde_json::to_value(healthy_at(1)).unwrap();
        json["started_at"] = serde_json::json!("yesterday");
        assert!(serde_json::from_value::<Report>(json).is_err());
    }

    #[test]
    fn full_disk_stores_nothing_and_keeps_earlier_runs() {
        let (_dir, path) = temp_db();
        let mut h = History::open(&path).unwrap();
        let first = h.insert(&healthy_at(1), "HQ", "floor 2").unwrap();
        // Simulate a full disk: the database may not grow by more than a few pages.
        let pages: i64 = h.conn.query_row("PRAGMA page_count", [], |r| r.get(0)).unwrap();
        h.conn.pragma_update(None, "max_page_count", pages + 2).unwrap();
        let mut big = healthy_at(2);
        big.checks[0].evidence = crate::report::Evidence::Other(serde_json::json!({"padding": "x".repeat(1 << 20)}));
        let err = h.insert(&big, "HQ", "floor 2").unwrap_err();
        assert!(matches!(err, HistoryError::DiskFull { .. }), "{err:?}");
        assert!(err.to_string().starts_with("disk full while writing history database"), "{err}");
        drop(h);
        let h = History::open(&path).unwrap();
        let runs = h.list(&all()).unwrap();
        assert_eq!(runs.iter().map(|r| r.id).collect::<Vec<_>>(), [first]);
        let samples: i64 =
            h.conn.query_row("SELECT count(*) FROM samples WHERE run_id <> ?", [first], |r| r.get(0)).unwrap();
        assert_eq!(samples, 0, "no orphaned samples");
        h.verify().unwrap();
    }

    #[test]
    fn concurrent_writers_on_separate_connections_all_succeed() {
        let (_dir, path) = temp_db();
        let threads: Vec<_> = (0..4)
            .map(|t| {
                let path = path.clone();
                std::thread::spawn(move || {
                    // Every thread opens the brand-new file itself, so the first-open
                    // migration races too.
                    let mut h = History::open(&path).unwrap();
                    (0..50)
                        .map(|i| h.insert(&healthy_at(t * 1_000 + i), &format!("site {t}"), "x").unwrap())
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        let mut ids: Vec<i64> = threads.into_iter().flat_map(|t| t.join().unwrap()).collect();
        ids.sort();
        ids.dedup();
        assert_eq!(ids.len(), 200);
        let h = History::open(&path).unwrap();
        assert_eq!(h.count(&all()).unwrap(), 200);
        for t in 0..4 {
            assert_eq!(h.count(&Filter { site: Some(format!("site {t}")), ..all() }).unwrap(), 50);
        }
        h.verify().unwrap();
    }

    /// Not a test on its own: the child process of
    /// `writer_killed_mid_run_leaves_no_half_written_run`. It writes a large batch inside a
    /// transaction, big enough that SQLite spills uncommitted pages to the WAL file, and
    /// dies before committing.
    #[test]
    #[ignore = "helper process for writer_killed_mid_run_leaves_no_half_written_run"]
    fn abort_helper_dies_inside_a_transaction() {
        let Ok(path) = std::env::var(ABORT_ENV) else { return };
        let mut h = History::open(&path).unwrap();
        let tx = h.conn.transaction_with_behavior(TransactionBehavior::Immediate).unwrap();
        let mut report = broken_at(50_000);
        report.checks[0].evidence = crate::report::Evidence::Other(serde_json::json!({"padding": "y".repeat(4096)}));
        for _ in 0..2_000 {
            insert_run(&tx, &h.path, &report, "HQ", "killed").unwrap();
        }
        std::process::abort();
    }

    #[test]
    fn writer_killed_mid_run_leaves_no_half_written_run() {
        use std::os::unix::process::ExitStatusExt;

        let (_dir, path) = temp_db();
        let mut h = History::open(&path).unwrap();
        let earlier = h.insert_many((0..3).map(|i| (healthy_at(i), "HQ", "floor 2"))).unwrap();
        drop(h);

        let output = std::process::Command::new(std::env::current_exe().unwrap())
            .args(["--exact", "history::tests::abort_helper_dies_inside_a_transaction", "--ignored", "--nocapture"])
            .env(ABORT_ENV, &path)
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(output.status.signal(), Some(6), "the child must die by SIGABRT: {:?}\n{stderr}", output.status);
        let wal = path.with_file_name("history.db-wal");
        assert!(std::fs::metadata(&wal).map(|m| m.len()).unwrap_or(0) > 0, "the child had written uncommitted pages");

        let h = History::open(&path).unwrap();
        h.verify().unwrap();
        let runs = h.list(&all()).unwrap();
        let mut ids: Vec<i64> = runs.iter().map(|r| r.id).collect();
        ids.sort();
        assert_eq!(ids, earlier, "no trace of the killed run, every earlier run intact");
        let samples: i64 = h.conn.query_row("SELECT count(DISTINCT run_id) FROM samples", [], |r| r.get(0)).unwrap();
        assert_eq!(samples, 3);
        drop(h);
        let mut h = History::open(&path).unwrap();
        h.insert(&healthy_at(10), "HQ", "floor 2").unwrap();
        assert_eq!(h.count(&all()).unwrap(), 4, "still writable");
    }

    /// Inserts `n` runs of three sites in one batch and runs a trend over all of them.
    #[allow(clippy::print_stderr)]
    fn scale(n: u64) {
        let (_dir, path) = temp_db();
        let mut h = History::open(&path).unwrap();
        let template = [healthy_at(0), broken_at(0)];
        let sites = ["HQ", "Branch", "Depot"];
        let started = std::time::Instant::now();
        h.insert_many((0..n).map(|i| {
            let mut r = with_rtt(template[usize::from(i % 7 == 0)].clone(), (i % 50) as f64);
            r.started_at = crate::types::Timestamp(at(1_700_000_000 + i * 60));
            (r, sites[(i % 3) as usize], "floor 1")
        }))
        .unwrap();
        let inserted = started.elapsed();
        let started = std::time::Instant::now();
        let trend = h.trend(&all()).unwrap();
        let queried = started.elapsed();
        let started = std::time::Instant::now();
        let site =
            h.trend(&Filter { site: Some("HQ".into()), since: Some(at(1_700_000_000 + n * 30)), ..all() }).unwrap();
        let one_site = started.elapsed();
        eprintln!(
            "note: {n} runs inserted in {inserted:?}; trend over all in {queried:?}, one site's later half in {one_site:?} \
             (debug builds are much slower than release)"
        );
        assert_eq!(trend.groups.iter().map(|g| g.runs).sum::<u64>(), n);
        assert_eq!(trend.groups.len(), 3);
        assert!(trend.groups.iter().all(|g| g.gateway_rtt_ms.as_ref().is_some_and(|d| d.max == 49.0)));
        assert_eq!(site.groups.len(), 1);
        assert!(site.groups[0].runs > 0 && site.groups[0].runs < n / 3 + 1);
    }

    #[test]
    fn scale_5000_runs() {
        scale(5_000);
    }

    #[test]
    #[ignore = "slow in debug builds; run with --release --ignored"]
    fn scale_100000_runs() {
        scale(100_000);
    }
}
