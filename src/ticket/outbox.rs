//! The outbox: tickets that could not be delivered, kept on disk until they are.
//!
//! Every ticket passes through here: it is queued before it is sent and removed once
//! delivered ([`deliver_or_queue`]), so a process killed mid-delivery loses nothing. When
//! delivery fails (the usual case when the network being diagnosed is broken), the
//! ticket stays queued; `nettriage ticket flush`, the next successful run and the survey
//! timer deliver it ([`Outbox::flush`]). Nothing is lost and nothing is sent twice: each
//! ticket has an idempotency key (the report's id, [`super::ticket_key`]), and a key once
//! delivered is remembered.
//!
//! Layout (directories 0700, files 0600, every file written with
//! [`crate::files::write_atomic_mode`]):
//!
//! ```text
//! OUTBOX/KEY/ticket.json      subject, bodies, state (queued | failed), attempts, last error
//! OUTBOX/KEY/0, 1, ...        the attachments' bytes
//! OUTBOX/sent/KEY.json        the receipt of a delivered key (the `sent` record)
//! OUTBOX/.queue.KEY.PID       an entry being written (renamed to KEY when complete)
//! OUTBOX/.sending.KEY.PID     an entry being delivered by process PID
//! ```
//!
//! An entry appears by renaming a complete directory into place, so a reader sees all of
//! it or none. A flush claims an entry by renaming it to `.sending.KEY.PID` (so two
//! flushes never send one entry), delivers it, writes `sent/KEY.json`, then removes it; a
//! claim left by a process that died is renamed back on the next flush. A key with a sent
//! record is never sent again, even if the entry is still there.
//!
//! The one window left: if the process is killed after the ticket system accepted a ticket
//! and before `sent/KEY.json` is on disk (a few milliseconds), the next flush sends it
//! again. Email keeps the same Message-ID on that second copy (a system that deduplicates
//! on it keeps one ticket); the HTTP systems have no such key and would open a second one.
//!
//! Settings: `TicketSettings::outbox` (default: [`default_dir`]). Delivery is
//! [`super::deliver`] (or any function given to [`Outbox::flush_with`], for tests).

use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::config::TicketSettings;
use crate::files::WriteError;
use crate::types::Timestamp;

use super::{Attachment, DeliveryError, Receipt, Ticket};

/// Mode of the outbox's directories: the owner only.
const DIR_MODE: u32 = 0o700;
/// Mode of the outbox's files: the owner only (reports may carry addresses and names).
const FILE_MODE: u32 = 0o600;
/// The entry's description file.
const META: &str = "ticket.json";
/// The directory of sent records.
const SENT: &str = "sent";
/// Sent records older than this are removed by a flush.
pub const SENT_RECORD_DAYS: u64 = 90;

/// The outbox's default directory: `/var/lib/nettriage/outbox` for root,
/// `$XDG_STATE_HOME/nettriage/outbox` (`~/.local/state/nettriage/outbox`) for anyone else.
pub fn default_dir() -> PathBuf {
    use std::os::unix::fs::MetadataExt;
    let root = std::fs::metadata("/proc/self").map(|m| m.uid() == 0).unwrap_or(false);
    if root {
        return PathBuf::from("/var/lib/nettriage/outbox");
    }
    let state = std::env::var_os("XDG_STATE_HOME")
        .map(PathBuf::from)
        .filter(|p| p.is_absolute())
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".local/state")))
        .unwrap_or_else(|| std::env::temp_dir().join("nettriage-state"));
    state.join("nettriage/outbox")
}

/// An outbox operation that failed; every variant names the path.
#[derive(Debug, thiserror::Error)]
pub enum OutboxError {
    /// A directory could not be created, listed, renamed or removed.
    #[error("outbox {}: {op}: {source}", path.display())]
    Io {
        /// What was being done (`creating the directory`, `listing`, ...).
        op: &'static str,
        /// The file or directory.
        path: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// A file could not be written (a full disk, an unwritable outbox).
    #[error("outbox: {0}")]
    Write(#[from] WriteError),
    /// An entry's description does not read.
    #[error("outbox {}: not a queued ticket: {source}", path.display())]
    Corrupt {
        /// The `ticket.json`.
        path: PathBuf,
        /// Why.
        #[source]
        source: serde_json::Error,
    },
    /// No entry has this key.
    #[error("outbox {}: no queued ticket {key}", dir.display())]
    NoSuchEntry {
        /// The outbox.
        dir: PathBuf,
        /// The key asked for.
        key: String,
    },
    /// The key cannot name an entry ([`super::is_safe_key`]).
    #[error("outbox: {key:?} is not a ticket key")]
    BadKey {
        /// The key.
        key: String,
    },
}

impl OutboxError {
    fn io<'a>(op: &'static str, path: &'a Path) -> impl FnOnce(std::io::Error) -> OutboxError + 'a {
        move |source| OutboxError::Io { op, path: path.to_path_buf(), source }
    }
}

/// Whether an entry is waiting to be sent or was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EntryState {
    /// Delivery failed in a way worth retrying (network down, 4xx SMTP, 429, 5xx HTTP):
    /// every flush tries it.
    Queued,
    /// The ticket system refused it or the settings were wrong: kept, not retried until
    /// `ticket flush --retry-failed`.
    Failed,
    /// A flush (possibly another process's) is delivering it now.
    Sending,
}

impl EntryState {
    /// The state as `ticket list` shows it.
    pub fn as_str(self) -> &'static str {
        match self {
            EntryState::Queued => "queued",
            EntryState::Failed => "failed",
            EntryState::Sending => "sending",
        }
    }
}

/// An attachment as stored: its bytes are the file `file` in the entry's directory.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct StoredAttachment {
    name: String,
    content_type: String,
    file: String,
    bytes: u64,
}

/// `ticket.json`: everything of a ticket but the attachments' bytes, and its history.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct Meta {
    key: String,
    subject: String,
    body_text: String,
    body_markdown: String,
    attachments: Vec<StoredAttachment>,
    queued_at: Timestamp,
    state: EntryState,
    attempts: u32,
    #[serde(default)]
    last_error: Option<String>,
    /// The ticket system asked to wait until then (`Retry-After` of a 429 or 503).
    #[serde(default)]
    not_before: Option<Timestamp>,
}

/// One queued ticket, as `ticket list` shows it.
#[derive(Debug, Clone, PartialEq)]
pub struct Entry {
    /// The idempotency key.
    pub key: String,
    /// The ticket's subject.
    pub subject: String,
    /// When it was first queued.
    pub queued_at: Timestamp,
    /// Queued, failed, or being sent.
    pub state: EntryState,
    /// Delivery attempts so far (the first one included).
    pub attempts: u32,
    /// Why the last attempt failed.
    pub last_error: Option<String>,
    /// Not sent again before this (the system's `Retry-After`).
    pub not_before: Option<Timestamp>,
    /// Size of the attachments.
    pub bytes: u64,
}

/// What [`Outbox::enqueue`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Enqueued {
    /// A new entry was written.
    New,
    /// The key was already queued: its state, attempts and last error were updated.
    Updated,
    /// The key was delivered before: nothing was queued.
    AlreadySent,
}

/// What [`deliver_or_queue`] did with a ticket.
#[derive(Debug)]
pub enum Handoff {
    /// Delivered now.
    Delivered(Receipt),
    /// Delivered before (the outbox has its sent record): not sent again.
    AlreadySent,
    /// Not delivered, for a reason worth retrying: queued for the next flush.
    Queued {
        /// Why delivery failed.
        error: DeliveryError,
        /// The outbox it waits in.
        outbox: PathBuf,
    },
    /// Refused, or the settings are wrong: kept in the outbox marked failed (retried only
    /// with `ticket flush --retry-failed`).
    Failed {
        /// Why.
        error: DeliveryError,
        /// The outbox it is kept in.
        outbox: PathBuf,
    },
    /// Another process is delivering this very ticket (it claimed it from the outbox).
    InProgress {
        /// The outbox it is claimed in.
        outbox: PathBuf,
    },
    /// Not delivered, and the outbox could not keep it either (a full disk, an unwritable
    /// directory): only the report written by the run remains.
    NotKept {
        /// Why delivery failed.
        error: DeliveryError,
        /// Why the outbox could not keep it.
        outbox: OutboxError,
    },
}

/// What a flush did, key by key, oldest first.
#[derive(Debug, Default)]
pub struct FlushSummary {
    /// Delivered now.
    pub delivered: Vec<(String, Receipt)>,
    /// Found already delivered (a sent record): removed without sending.
    pub already_sent: Vec<String>,
    /// Failed for a reason worth retrying: still queued. The flush stops at the first of
    /// these (the endpoint is down; the others would wait for the same timeout).
    pub postponed: Vec<(String, DeliveryError)>,
    /// Refused: still in the outbox, now marked failed.
    pub failed: Vec<(String, DeliveryError)>,
    /// Left alone: failed earlier and not retried, or being sent by another process.
    pub skipped: Vec<String>,
}

/// Options of a flush.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct FlushOptions {
    /// Also retry the entries marked failed.
    pub retry_failed: bool,
}

/// The outbox in one directory.
#[derive(Debug, Clone)]
pub struct Outbox {
    dir: PathBuf,
}

impl Outbox {
    /// The outbox of these settings (`outbox`, else [`default_dir`]); nothing is created
    /// until something is queued.
    pub fn for_settings(settings: &TicketSettings) -> Outbox {
        Outbox::at(settings.outbox.clone().unwrap_or_else(default_dir))
    }

    /// The outbox in `dir`.
    pub fn at(dir: impl Into<PathBuf>) -> Outbox {
        Outbox { dir: dir.into() }
    }

    /// Its directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Creates the outbox (mode 0700) and its `sent` directory when missing, and takes
    /// group and others' access away from an existing one.
    fn prepare(&self) -> Result<(), OutboxError> {
        make_private_dir(&self.dir)?;
        make_private_dir(&self.dir.join(SENT))
    }

    fn sent_path(&self, key: &str) -> PathBuf {
        self.dir.join(SENT).join(format!("{key}.json"))
    }

    /// Whether `key` was delivered (it has a sent record).
    pub fn was_sent(&self, key: &str) -> bool {
        super::is_safe_key(key) && self.sent_path(key).is_file()
    }

    /// Remembers that `key` was delivered (`sent/KEY.json`, the receipt).
    pub fn record_sent(&self, key: &str, receipt: &Receipt) -> Result<(), OutboxError> {
        check_key(key)?;
        self.prepare()?;
        #[derive(Serialize)]
        struct Sent<'a> {
            key: &'a str,
            sent_at: Timestamp,
            receipt: &'a Receipt,
        }
        let bytes = serde_json::to_vec_pretty(&Sent { key, sent_at: Timestamp::now(), receipt })
            .map_err(|e| OutboxError::Corrupt { path: self.sent_path(key), source: e })?;
        Ok(crate::files::write_atomic_mode(&self.sent_path(key), &bytes, FILE_MODE)?)
    }

    /// Queues `ticket` in `state` with `error` as its last error. A key delivered before
    /// is not queued; a key already queued has its state updated and its attempts counted.
    /// The entry is written complete in a hidden directory and renamed into place, so a
    /// flush never sees half of one.
    pub fn enqueue(&self, ticket: &Ticket, state: EntryState, error: Option<&str>) -> Result<Enqueued, OutboxError> {
        check_key(&ticket.key)?;
        if self.was_sent(&ticket.key) {
            return Ok(Enqueued::AlreadySent);
        }
        self.prepare()?;
        let entry = self.dir.join(&ticket.key);
        if entry.is_dir() {
            let mut meta = read_meta(&entry)?;
            meta.state = state;
            meta.attempts = meta.attempts.saturating_add(1);
            meta.last_error = error.map(str::to_string);
            write_meta(&entry, &meta)?;
            return Ok(Enqueued::Updated);
        }
        let partial = self.dir.join(format!(".queue.{}.{}", ticket.key, std::process::id()));
        if partial.exists() {
            std::fs::remove_dir_all(&partial).map_err(OutboxError::io("removing a partial entry", &partial))?;
        }
        let written = write_entry(&partial, ticket, state, error);
        let renamed = written.and_then(|()| {
            std::fs::rename(&partial, &entry).map_err(OutboxError::io("moving the entry into place", &entry))
        });
        if let Err(e) = renamed {
            let _ = std::fs::remove_dir_all(&partial);
            return Err(e);
        }
        sync_dir(&self.dir);
        tracing::info!(key = %ticket.key, outbox = %self.dir.display(), state = state.as_str(), "ticket queued");
        Ok(Enqueued::New)
    }

    /// Every entry, oldest first (by the time it was queued, then key). Entries being
    /// sent are listed as [`EntryState::Sending`]. A missing outbox is empty.
    pub fn list(&self) -> Result<Vec<Entry>, OutboxError> {
        let mut entries: Vec<Entry> = Vec::new();
        for (key, path, sending) in self.entry_dirs()? {
            let meta = match read_meta(&path) {
                Ok(meta) => meta,
                // Delivered and removed by another flush since the directory was listed.
                Err(_) if !path.exists() => continue,
                // Not written by this module (entries appear whole): left alone, said once.
                Err(e) => {
                    tracing::warn!(error = %e, "outbox entry skipped");
                    continue;
                }
            };
            entries.push(Entry {
                key,
                subject: meta.subject,
                queued_at: meta.queued_at,
                state: if sending { EntryState::Sending } else { meta.state },
                attempts: meta.attempts,
                last_error: meta.last_error,
                not_before: meta.not_before,
                bytes: meta.attachments.iter().map(|a| a.bytes).sum(),
            });
        }
        entries.sort_by(|a, b| a.queued_at.cmp(&b.queued_at).then_with(|| a.key.cmp(&b.key)));
        Ok(entries)
    }

    /// The queued ticket `key`, as it was queued.
    pub fn load(&self, key: &str) -> Result<Ticket, OutboxError> {
        check_key(key)?;
        let entry = self.dir.join(key);
        if !entry.is_dir() {
            return Err(OutboxError::NoSuchEntry { dir: self.dir.clone(), key: key.into() });
        }
        load_ticket(&entry)
    }

    /// The entries' directories: (key, path, being sent). Partial entries are skipped.
    fn entry_dirs(&self) -> Result<Vec<(String, PathBuf, bool)>, OutboxError> {
        let read = match std::fs::read_dir(&self.dir) {
            Ok(read) => read,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(vec![]),
            Err(e) => return Err(OutboxError::io("listing", &self.dir)(e)),
        };
        let mut dirs = Vec::new();
        for item in read {
            let item = item.map_err(OutboxError::io("listing", &self.dir))?;
            let name = item.file_name().to_string_lossy().into_owned();
            let path = item.path();
            if !path.is_dir() || name == SENT {
                continue;
            }
            if let Some((key, _pid)) = parse_claim(&name) {
                dirs.push((key.to_string(), path, true));
            } else if super::is_safe_key(&name) {
                dirs.push((name, path, false));
            }
        }
        Ok(dirs)
    }

    /// Whether a running process (this one included) has claimed `key` to deliver it.
    fn claimed_by_live(&self, key: &str) -> bool {
        let Ok(read) = std::fs::read_dir(&self.dir) else { return false };
        read.flatten().any(|item| {
            let name = item.file_name().to_string_lossy().into_owned();
            parse_claim(&name).is_some_and(|(k, pid)| k == key && (pid == std::process::id() || process_alive(pid)))
        })
    }

    /// Gives back the entries claimed by processes that no longer run (killed during a
    /// flush), and removes partial entries they left.
    fn recover(&self) -> Result<(), OutboxError> {
        let Ok(read) = std::fs::read_dir(&self.dir) else { return Ok(()) };
        for item in read.flatten() {
            let name = item.file_name().to_string_lossy().into_owned();
            let path = item.path();
            if let Some((key, pid)) = parse_claim(&name) {
                if pid == std::process::id() || process_alive(pid) {
                    continue;
                }
                let entry = self.dir.join(key);
                if entry.exists() {
                    std::fs::remove_dir_all(&path).map_err(OutboxError::io("removing a stale claim", &path))?;
                } else {
                    std::fs::rename(&path, &entry).map_err(OutboxError::io("giving back a stale claim", &path))?;
                    tracing::info!(%key, pid, "ticket given back by a flush that did not finish");
                }
            } else if let Some(rest) = name.strip_prefix(".queue.")
                && let Some((_, pid)) = rest.rsplit_once('.')
                && let Ok(pid) = pid.parse::<u32>()
                && pid != std::process::id()
                && !process_alive(pid)
            {
                std::fs::remove_dir_all(&path).map_err(OutboxError::io("removing a partial entry", &path))?;
            }
        }
        Ok(())
    }

    /// Delivers every queued entry with [`super::deliver`], oldest first (see
    /// [`Outbox::flush_with`]).
    pub async fn flush(&self, settings: &TicketSettings, options: FlushOptions) -> Result<FlushSummary, OutboxError> {
        self.flush_with(options, async |ticket: &Ticket| super::deliver(settings, ticket).await).await
    }

    /// Delivers every queued entry (and the failed ones with `retry_failed`) with `send`,
    /// oldest first. Each is claimed first (so no other flush sends it), removed only after
    /// its sent record is on disk, and skipped without sending when its key has one. The
    /// first transient failure stops the flush (the rest stay queued); a permanent one
    /// marks that entry failed and the flush goes on.
    pub async fn flush_with<F>(&self, options: FlushOptions, mut send: F) -> Result<FlushSummary, OutboxError>
    where
        F: AsyncFnMut(&Ticket) -> Result<Receipt, DeliveryError>,
    {
        let mut summary = FlushSummary::default();
        if !self.dir.exists() {
            return Ok(summary);
        }
        self.recover()?;
        self.prune_sent();
        for entry in self.list()? {
            let key = entry.key;
            let wanted = match entry.state {
                EntryState::Queued => true,
                EntryState::Failed => options.retry_failed,
                EntryState::Sending => false,
            };
            if !wanted {
                summary.skipped.push(key);
                continue;
            }
            // The system asked to wait (429/503 with Retry-After): nothing more is sent to
            // it in this flush, as a transient failure would stop it.
            if entry.not_before.is_some_and(|t| t > Timestamp::now()) {
                tracing::info!(%key, "ticket system asked to wait (Retry-After); not sent in this flush");
                summary.skipped.push(key);
                break;
            }
            if self.was_sent(&key) {
                let path = self.dir.join(&key);
                std::fs::remove_dir_all(&path).map_err(OutboxError::io("removing a delivered entry", &path))?;
                summary.already_sent.push(key);
                continue;
            }
            // Claim it: a concurrent flush that lists after this rename does not see it.
            let Some(claim) = Claim::take(&self.dir, &key)? else {
                summary.skipped.push(key);
                continue;
            };
            let ticket = load_ticket(claim.path())?;
            let result = send(&ticket).await;
            self.settle(claim, &result, true)?;
            match result {
                Ok(receipt) => summary.delivered.push((key, receipt)),
                Err(error) if error.is_transient() => {
                    summary.postponed.push((key, error));
                    break;
                }
                Err(error) => summary.failed.push((key, error)),
            }
        }
        Ok(summary)
    }

    /// Ends a claimed delivery: on success the sent record is written, then the entry
    /// removed; on failure the entry goes back queued (transient) or failed, with the
    /// error (and one more attempt counted when `count_attempt`).
    fn settle(
        &self,
        claim: Claim,
        result: &Result<Receipt, DeliveryError>,
        count_attempt: bool,
    ) -> Result<(), OutboxError> {
        let key = claim.key.clone();
        match result {
            Ok(receipt) => {
                self.record_sent(&key, receipt)?;
                claim.remove()?;
                sync_dir(&self.dir);
                tracing::info!(%key, reference = %receipt.reference, "ticket delivered");
            }
            Err(error) => {
                let mut meta = read_meta(claim.path())?;
                if count_attempt {
                    meta.attempts = meta.attempts.saturating_add(1);
                }
                meta.last_error = Some(error.to_string());
                meta.not_before = retry_at(error, Timestamp::now());
                let transient = error.is_transient();
                meta.state = if transient { EntryState::Queued } else { EntryState::Failed };
                write_meta(claim.path(), &meta)?;
                claim.release()?;
                tracing::warn!(%key, %error, transient, "ticket not delivered; kept in the outbox");
            }
        }
        Ok(())
    }

    /// Removes sent records older than [`SENT_RECORD_DAYS`] (best effort).
    fn prune_sent(&self) {
        let dir = self.dir.join(SENT);
        let Ok(read) = std::fs::read_dir(&dir) else { return };
        let max_age = Duration::from_secs(SENT_RECORD_DAYS * 86_400);
        for item in read.flatten() {
            let old = item
                .metadata()
                .and_then(|m| m.modified())
                .ok()
                .and_then(|t| t.elapsed().ok())
                .is_some_and(|age| age > max_age);
            if old {
                let _ = std::fs::remove_file(item.path());
            }
        }
    }
}

/// An entry renamed to `.sending.KEY.PID` while it is delivered. Dropped without
/// [`Claim::remove`] or [`Claim::release`] (a flush cancelled by its time bound), it gives
/// the entry back.
struct Claim {
    key: String,
    claimed: PathBuf,
    entry: PathBuf,
    done: bool,
}

impl Claim {
    /// Claims `dir/key`; `None` when it is gone (another flush took it).
    fn take(dir: &Path, key: &str) -> Result<Option<Claim>, OutboxError> {
        let entry = dir.join(key);
        let claimed = dir.join(format!(".sending.{key}.{}", std::process::id()));
        match std::fs::rename(&entry, &claimed) {
            Ok(()) => Ok(Some(Claim { key: key.to_string(), claimed, entry, done: false })),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(OutboxError::io("claiming the entry", &entry)(e)),
        }
    }

    fn path(&self) -> &Path {
        &self.claimed
    }

    /// The ticket was delivered: the entry goes.
    fn remove(mut self) -> Result<(), OutboxError> {
        self.done = true;
        std::fs::remove_dir_all(&self.claimed).map_err(OutboxError::io("removing a delivered entry", &self.claimed))
    }

    /// The ticket was not delivered: the entry goes back.
    fn release(mut self) -> Result<(), OutboxError> {
        self.done = true;
        std::fs::rename(&self.claimed, &self.entry).map_err(OutboxError::io("giving the entry back", &self.claimed))
    }
}

impl Drop for Claim {
    fn drop(&mut self) {
        if !self.done {
            let _ = std::fs::rename(&self.claimed, &self.entry);
        }
    }
}

/// `.sending.KEY.PID` -> (KEY, PID).
fn parse_claim(name: &str) -> Option<(&str, u32)> {
    let rest = name.strip_prefix(".sending.")?;
    let (key, pid) = rest.rsplit_once('.')?;
    Some((key, pid.parse().ok()?)).filter(|(k, _)| super::is_safe_key(k))
}

/// Whether process `pid` still runs (Linux: it has a `/proc` entry that is not a zombie).
fn process_alive(pid: u32) -> bool {
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        // The state follows the command name in parentheses: `Z` is a zombie.
        Ok(stat) => stat.rsplit_once(')').is_none_or(|(_, rest)| !rest.trim_start().starts_with('Z')),
        Err(_) => false,
    }
}

fn check_key(key: &str) -> Result<(), OutboxError> {
    if super::is_safe_key(key) { Ok(()) } else { Err(OutboxError::BadKey { key: key.into() }) }
}

/// Creates `dir` (and its parents) with mode 0700, or sets 0700 on an existing one.
fn make_private_dir(dir: &Path) -> Result<(), OutboxError> {
    use std::os::unix::fs::{DirBuilderExt, PermissionsExt};
    match std::fs::metadata(dir) {
        Ok(meta) if meta.is_dir() => {
            if meta.permissions().mode() & 0o077 != 0 {
                std::fs::set_permissions(dir, std::fs::Permissions::from_mode(DIR_MODE))
                    .map_err(OutboxError::io("making the directory private", dir))?;
            }
            Ok(())
        }
        Ok(_) => {
            Err(OutboxError::io("using as a directory", dir)(std::io::Error::from(std::io::ErrorKind::NotADirectory)))
        }
        Err(_) => std::fs::DirBuilder::new()
            .recursive(true)
            .mode(DIR_MODE)
            .create(dir)
            .map_err(OutboxError::io("creating the directory", dir)),
    }
}

/// Writes a complete entry into `dir` (created 0700): attachments, then `ticket.json`.
fn write_entry(dir: &Path, ticket: &Ticket, state: EntryState, error: Option<&str>) -> Result<(), OutboxError> {
    use std::os::unix::fs::DirBuilderExt;
    std::fs::DirBuilder::new().mode(DIR_MODE).create(dir).map_err(OutboxError::io("creating the entry", dir))?;
    let mut attachments = Vec::new();
    for (i, a) in ticket.attachments.iter().enumerate() {
        let file = i.to_string();
        crate::files::write_atomic_mode(&dir.join(&file), &a.bytes, FILE_MODE)?;
        attachments.push(StoredAttachment {
            name: a.name.clone(),
            content_type: a.content_type.clone(),
            file,
            bytes: a.bytes.len() as u64,
        });
    }
    let meta = Meta {
        key: ticket.key.clone(),
        subject: ticket.subject.clone(),
        body_text: ticket.body_text.clone(),
        body_markdown: ticket.body_markdown.clone(),
        attachments,
        queued_at: Timestamp::now(),
        state,
        attempts: 1,
        last_error: error.map(str::to_string),
        not_before: None,
    };
    write_meta(dir, &meta)
}

fn write_meta(dir: &Path, meta: &Meta) -> Result<(), OutboxError> {
    let path = dir.join(META);
    let bytes =
        serde_json::to_vec_pretty(meta).map_err(|source| OutboxError::Corrupt { path: path.clone(), source })?;
    Ok(crate::files::write_atomic_mode(&path, &bytes, FILE_MODE)?)
}

fn read_meta(dir: &Path) -> Result<Meta, OutboxError> {
    let path = dir.join(META);
    let bytes = std::fs::read(&path).map_err(OutboxError::io("reading", &path))?;
    serde_json::from_slice(&bytes).map_err(|source| OutboxError::Corrupt { path, source })
}

/// The ticket stored in entry directory `dir`.
fn load_ticket(dir: &Path) -> Result<Ticket, OutboxError> {
    let meta = read_meta(dir)?;
    let mut attachments = Vec::new();
    for a in &meta.attachments {
        // Only the plain numbered names this module writes.
        if a.file.is_empty() || !a.file.bytes().all(|b| b.is_ascii_digit()) {
            let path = dir.join(META);
            return Err(OutboxError::Corrupt {
                path,
                source: serde::de::Error::custom(format!("attachment file name {:?}", a.file)),
            });
        }
        let path = dir.join(&a.file);
        let bytes = std::fs::read(&path).map_err(OutboxError::io("reading", &path))?;
        attachments.push(Attachment { name: a.name.clone(), content_type: a.content_type.clone(), bytes });
    }
    Ok(Ticket {
        key: meta.key,
        subject: meta.subject,
        body_text: meta.body_text,
        body_markdown: meta.body_markdown,
        attachments,
    })
}

/// Persists renames in `dir` (best effort).
fn sync_dir(dir: &Path) {
    if let Ok(d) = std::fs::File::open(dir) {
        let _ = d.sync_all();
    }
}

/// The longest `Retry-After` honoured: a system asking for more is tried again after a day.
const MAX_RETRY_AFTER: Duration = Duration::from_secs(24 * 3600);

/// When a ticket refused with `error` may be sent again: `now` plus the system's
/// `Retry-After` (429/503), at most [`MAX_RETRY_AFTER`]; `None` when it gave none (pure).
fn retry_at(error: &DeliveryError, now: Timestamp) -> Option<Timestamp> {
    match error {
        DeliveryError::Status { retry_after: Some(wait), .. } => Some(Timestamp(now.0 + (*wait).min(MAX_RETRY_AFTER))),
        _ => None,
    }
}

/// Delivers `ticket` now, keeping it in the outbox until it is delivered: it is queued
/// first (so a process killed during delivery loses nothing: the next flush sends it),
/// claimed, sent, and removed once its sent record is written. A key delivered before is
/// not sent again; a transient failure leaves it queued, any other failure keeps it marked
/// failed. If the outbox cannot be written (a full disk, an unwritable directory) the
/// ticket is still sent, and [`Handoff::NotKept`] says why it could not be kept when that
/// fails too.
pub async fn deliver_or_queue(settings: &TicketSettings, ticket: &Ticket) -> Handoff {
    deliver_or_queue_with(&Outbox::for_settings(settings), ticket, async |t: &Ticket| super::deliver(settings, t).await)
        .await
}

/// [`deliver_or_queue`] into `outbox` with `send` (tests give their own).
pub async fn deliver_or_queue_with<F>(outbox: &Outbox, ticket: &Ticket, send: F) -> Handoff
where
    F: AsyncFnOnce(&Ticket) -> Result<Receipt, DeliveryError>,
{
    if outbox.was_sent(&ticket.key) {
        return Handoff::AlreadySent;
    }
    if super::is_safe_key(&ticket.key) && outbox.claimed_by_live(&ticket.key) {
        return Handoff::InProgress { outbox: outbox.dir().to_path_buf() };
    }
    let kept = match outbox.enqueue(ticket, EntryState::Queued, None) {
        Ok(Enqueued::AlreadySent) => return Handoff::AlreadySent,
        Ok(_) => Claim::take(outbox.dir(), &ticket.key),
        Err(e) => Err(e),
    };
    let claim = match kept {
        Ok(Some(claim)) => claim,
        // Another process claimed it between the two steps: it is delivering it.
        Ok(None) => return Handoff::InProgress { outbox: outbox.dir().to_path_buf() },
        Err(keep_error) => {
            // Not kept: send anyway, the run's report is the only other copy.
            return match send(ticket).await {
                Ok(receipt) => {
                    tracing::warn!(error = %keep_error, "ticket delivered, but the outbox could not record it");
                    Handoff::Delivered(receipt)
                }
                Err(error) => Handoff::NotKept { error, outbox: keep_error },
            };
        }
    };
    let result = send(ticket).await;
    let settled = outbox.settle(claim, &result, false);
    match (result, settled) {
        (Ok(receipt), Ok(())) => Handoff::Delivered(receipt),
        (Ok(receipt), Err(e)) => {
            // Delivered; only the bookkeeping failed (the entry may be sent again).
            tracing::warn!(error = %e, "ticket delivered, but the outbox could not record it");
            Handoff::Delivered(receipt)
        }
        (Err(error), Ok(())) if error.is_transient() => Handoff::Queued { error, outbox: outbox.dir().to_path_buf() },
        (Err(error), Ok(())) => Handoff::Failed { error, outbox: outbox.dir().to_path_buf() },
        (Err(error), Err(e)) => Handoff::NotKept { error, outbox: e },
    }
}

/// After a run that reached the network: delivers what the outbox holds, within `budget`
/// (a flush cut by it gives its entry back). `None` when no ticket system is configured or
/// the outbox is empty.
pub async fn flush_after_run(settings: &TicketSettings, budget: Duration) -> Option<Result<FlushSummary, OutboxError>> {
    settings.system?;
    let outbox = Outbox::for_settings(settings);
    match outbox.list() {
        Ok(entries) if entries.iter().any(|e| e.state == EntryState::Queued) => {}
        Ok(_) => return None,
        Err(e) => return Some(Err(e)),
    }
    match tokio::time::timeout(budget, outbox.flush(settings, FlushOptions::default())).await {
        Ok(result) => Some(result),
        Err(_) => {
            tracing::info!(outbox = %outbox.dir().display(), "outbox flush after the run stopped at its time bound");
            None
        }
    }
}

#[cfg(test)]
mod tests {
    use std::os::unix::fs::PermissionsExt;

    use super::*;
    use crate::config::TicketSystem;
    use crate::ticket::Step;

    fn ticket(key: &str) -> Ticket {
        Ticket {
            key: key.into(),
            subject: format!("nettriage: broken dns.timeout on desk/eth0 ({key})"),
            body_text: "names do not resolve\n".into(),
            body_markdown: "**broken**".into(),
            attachments: vec![
                Attachment {
                    name: "r.html".into(),
                    content_type: "text/html".into(),
                    bytes: b"<html>\r\n</html>".to_vec(),
                },
                Attachment {
                    name: "c.pcap".into(),
                    content_type: "application/vnd.tcpdump.pcap".into(),
                    bytes: vec![0, 1, 255],
                },
            ],
        }
    }

    fn receipt(reference: &str) -> Receipt {
        Receipt { system: TicketSystem::Smtp, reference: reference.into() }
    }

    fn down() -> DeliveryError {
        DeliveryError::Transport { endpoint: "198.18.0.1:25".into(), step: Step::Connect, message: "refused".into() }
    }

    fn refused() -> DeliveryError {
        DeliveryError::Refused { endpoint: "198.18.0.1:25".into(), step: Step::Send, code: 550, message: "no".into() }
    }

    fn mode(path: &Path) -> u32 {
        std::fs::metadata(path).unwrap().permissions().mode() & 0o777
    }

    #[test]
    fn an_entry_is_written_whole_and_private_and_reads_back_as_queued() {
        let tmp = tempfile::tempdir().unwrap();
        let outbox = Outbox::at(tmp.path().join("state/outbox"));
        assert_eq!(outbox.list().unwrap(), vec![], "a missing outbox is empty");
        assert_eq!(outbox.enqueue(&ticket("k1"), EntryState::Queued, Some("down")).unwrap(), Enqueued::New);
        assert_eq!(mode(outbox.dir()), 0o700);
        assert_eq!(mode(&outbox.dir().join("k1")), 0o700);
        for file in ["ticket.json", "0", "1"] {
            assert_eq!(mode(&outbox.dir().join("k1").join(file)), 0o600, "{file}");
        }
        // Nothing partial or temporary is left beside it.
        let names: Vec<String> =
            std::fs::read_dir(outbox.dir()).unwrap().map(|e| e.unwrap().file_name().to_string_lossy().into()).collect();
        let mut sorted = names.clone();
        sorted.sort();
        assert_eq!(sorted, ["k1", "sent"]);
        assert_eq!(outbox.load("k1").unwrap(), ticket("k1"));
        let listed = outbox.list().unwrap();
        assert_eq!(listed.len(), 1);
        assert_eq!((listed[0].state, listed[0].attempts, listed[0].bytes), (EntryState::Queued, 1, 18));
        // Queued again: updated, not duplicated.
        assert_eq!(outbox.enqueue(&ticket("k1"), EntryState::Failed, Some("refused")).unwrap(), Enqueued::Updated);
        let listed = outbox.list().unwrap();
        assert_eq!((listed.len(), listed[0].state, listed[0].attempts), (1, EntryState::Failed, 2));
        assert!(matches!(outbox.load("nope"), Err(OutboxError::NoSuchEntry { .. })));
        assert!(matches!(outbox.enqueue(&ticket("../x"), EntryState::Queued, None), Err(OutboxError::BadKey { .. })));
    }

    #[test]
    fn an_existing_outbox_open_to_others_is_made_private() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("outbox");
        std::fs::create_dir(&dir).unwrap();
        std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o755)).unwrap();
        Outbox::at(&dir).enqueue(&ticket("k"), EntryState::Queued, None).unwrap();
        assert_eq!(mode(&dir), 0o700);
    }

    #[tokio::test]
    async fn flush_delivers_oldest_first_and_exactly_once() {
        let tmp = tempfile::tempdir().unwrap();
        let outbox = Outbox::at(tmp.path());
        for key in ["b", "a", "c"] {
            outbox.enqueue(&ticket(key), EntryState::Queued, None).unwrap();
            std::thread::sleep(Duration::from_millis(3));
        }
        let mut sent = Vec::new();
        let summary = outbox
            .flush_with(FlushOptions::default(), async |t: &Ticket| {
                sent.push(t.clone());
                Ok(receipt(&t.key))
            })
            .await
            .unwrap();
        assert_eq!(sent.iter().map(|t| t.key.as_str()).collect::<Vec<_>>(), ["b", "a", "c"], "queued order");
        assert_eq!(sent[0], ticket("b"), "the same bytes as queued");
        assert_eq!(summary.delivered.len(), 3);
        assert!(outbox.list().unwrap().is_empty());
        assert!(["a", "b", "c"].iter().all(|k| outbox.was_sent(k)));
        // A second flush sends nothing, and a delivered key is not queued again.
        let again = outbox.flush_with(FlushOptions::default(), async |_: &Ticket| panic!("sent twice")).await.unwrap();
        assert!(again.delivered.is_empty());
        assert_eq!(outbox.enqueue(&ticket("a"), EntryState::Queued, None).unwrap(), Enqueued::AlreadySent);
        assert!(outbox.list().unwrap().is_empty());
    }

    /// A 429 with `Retry-After`: the entry stays queued with its time, and flushes before
    /// that time send nothing to the system (they stop at it); after it, it is sent.
    #[tokio::test]
    async fn retry_after_of_a_429_is_honoured_by_the_next_flushes() {
        let tmp = tempfile::tempdir().unwrap();
        let outbox = Outbox::at(tmp.path());
        outbox.enqueue(&ticket("a"), EntryState::Queued, None).unwrap();
        let limited = || DeliveryError::Status {
            endpoint: "https://desk.example".into(),
            step: super::super::Step::Create,
            status: 429,
            retry_after: Some(Duration::from_secs(120)),
        };
        let before = Timestamp::now();
        let summary = outbox.flush_with(FlushOptions::default(), async |_: &Ticket| Err(limited())).await.unwrap();
        assert_eq!(summary.postponed.len(), 1);
        let listed = outbox.list().unwrap();
        assert_eq!(listed[0].state, EntryState::Queued);
        let not_before = listed[0].not_before.expect("the wait is kept");
        assert!(
            not_before.0 + Duration::from_millis(1) >= before.0 + Duration::from_secs(120),
            "{not_before} (stored to the millisecond)"
        );
        // A flush now sends nothing.
        let summary = outbox
            .flush_with(FlushOptions::default(), async |_: &Ticket| panic!("sent before Retry-After"))
            .await
            .unwrap();
        assert_eq!(summary.skipped, ["a"]);
        // Past the time (the entry's time moved back, as if 2 minutes passed): sent.
        let dir = tmp.path().join("a");
        let mut meta = read_meta(&dir).unwrap();
        meta.not_before = Some(Timestamp(before.0 - Duration::from_secs(1)));
        write_meta(&dir, &meta).unwrap();
        let summary = outbox.flush_with(FlushOptions::default(), async |_: &Ticket| Ok(receipt("7"))).await.unwrap();
        assert_eq!(summary.delivered.len(), 1);
        // A Retry-After of a week is capped at a day.
        let week = DeliveryError::Status {
            endpoint: "e".into(),
            step: super::super::Step::Create,
            status: 503,
            retry_after: Some(Duration::from_secs(7 * 24 * 3600)),
        };
        let at = retry_at(&week, before).unwrap();
        assert_eq!(at.0.duration_since(before.0).unwrap(), MAX_RETRY_AFTER);
        assert_eq!(retry_at(&down(), before), None);
    }

    #[tokio::test]
    async fn a_transient_failure_stops_the_flush_and_keeps_everything_queued() {
        let tmp = tempfile::tempdir().unwrap();
        let outbox = Outbox::at(tmp.path());
        outbox.enqueue(&ticket("a"), EntryState::Queued, None).unwrap();
        std::thread::sleep(Duration::from_millis(3));
        outbox.enqueue(&ticket("b"), EntryState::Queued, None).unwrap();
        let mut tries = 0;
        let summary = outbox
            .flush_with(FlushOptions::default(), async |_: &Ticket| {
                tries += 1;
                Err(down())
            })
            .await
            .unwrap();
        assert_eq!(tries, 1, "the endpoint is down: the flush stops");
        assert_eq!(summary.postponed.len(), 1);
        let listed = outbox.list().unwrap();
        assert_eq!(
            listed.iter().map(|e| (e.key.as_str(), e.state, e.attempts)).collect::<Vec<_>>(),
            [("a", EntryState::Queued, 2), ("b", EntryState::Queued, 1)]
        );
    }

    #[tokio::test]
    async fn a_refused_ticket_is_kept_failed_and_retried_only_when_asked() {
        let tmp = tempfile::tempdir().unwrap();
        let outbox = Outbox::at(tmp.path());
        outbox.enqueue(&ticket("a"), EntryState::Queued, None).unwrap();
        let summary = outbox.flush_with(FlushOptions::default(), async |_: &Ticket| Err(refused())).await.unwrap();
        assert_eq!(summary.failed.len(), 1);
        assert_eq!(outbox.list().unwrap()[0].state, EntryState::Failed);
        let summary = outbox.flush_with(FlushOptions::default(), async |_: &Ticket| panic!("retried")).await.unwrap();
        assert_eq!(summary.skipped, ["a"]);
        let summary = outbox
            .flush_with(FlushOptions { retry_failed: true }, async |t: &Ticket| Ok(receipt(&t.key)))
            .await
            .unwrap();
        assert_eq!(summary.delivered.len(), 1);
        assert!(outbox.list().unwrap().is_empty());
    }

    #[tokio::test]
    async fn a_sent_record_wins_over_a_leftover_entry() {
        // Killed after the sent record was written, before the entry was removed.
        let tmp = tempfile::tempdir().unwrap();
        let outbox = Outbox::at(tmp.path());
        outbox.enqueue(&ticket("a"), EntryState::Queued, None).unwrap();
        outbox.record_sent("a", &receipt("<x>")).unwrap();
        assert_eq!(mode(&outbox.dir().join("sent/a.json")), 0o600);
        let summary =
            outbox.flush_with(FlushOptions::default(), async |_: &Ticket| panic!("sent twice")).await.unwrap();
        assert_eq!(summary.already_sent, ["a"]);
        assert!(outbox.list().unwrap().is_empty());
    }

    #[tokio::test]
    async fn a_claim_left_by_a_dead_process_is_given_back_and_sent_once() {
        let tmp = tempfile::tempdir().unwrap();
        let outbox = Outbox::at(tmp.path());
        outbox.enqueue(&ticket("a"), EntryState::Queued, None).unwrap();
        // No process has this id (above the kernel's pid_max).
        std::fs::rename(outbox.dir().join("a"), outbox.dir().join(".sending.a.4194305")).unwrap();
        assert_eq!(outbox.list().unwrap()[0].state, EntryState::Sending);
        let mut sent = 0;
        let summary = outbox
            .flush_with(FlushOptions::default(), async |t: &Ticket| {
                sent += 1;
                Ok(receipt(&t.key))
            })
            .await
            .unwrap();
        assert_eq!((sent, summary.delivered.len()), (1, 1));
        assert!(outbox.list().unwrap().is_empty());
    }

    #[tokio::test]
    async fn a_ticket_another_process_is_delivering_is_not_sent_again() {
        let tmp = tempfile::tempdir().unwrap();
        let outbox = Outbox::at(tmp.path());
        outbox.enqueue(&ticket("a"), EntryState::Queued, None).unwrap();
        std::fs::rename(outbox.dir().join("a"), outbox.dir().join(".sending.a.1")).unwrap();
        let h = deliver_or_queue_with(&outbox, &ticket("a"), async |_: &Ticket| panic!("sent twice")).await;
        assert!(matches!(h, Handoff::InProgress { .. }), "{h:?}");
        // A damaged entry does not stop the others.
        std::fs::create_dir(outbox.dir().join("junk")).unwrap();
        outbox.enqueue(&ticket("b"), EntryState::Queued, None).unwrap();
        let keys: Vec<String> = outbox.list().unwrap().into_iter().map(|e| e.key).collect();
        assert_eq!(keys.len(), 2, "{keys:?}");
        assert!(keys.contains(&"a".to_string()) && keys.contains(&"b".to_string()));
    }

    #[tokio::test]
    async fn a_claim_of_a_live_process_is_left_alone() {
        let tmp = tempfile::tempdir().unwrap();
        let outbox = Outbox::at(tmp.path());
        outbox.enqueue(&ticket("a"), EntryState::Queued, None).unwrap();
        // Process 1 always runs: another flush is sending this one.
        std::fs::rename(outbox.dir().join("a"), outbox.dir().join(".sending.a.1")).unwrap();
        let summary =
            outbox.flush_with(FlushOptions::default(), async |_: &Ticket| panic!("sent twice")).await.unwrap();
        assert_eq!(summary.skipped, ["a"]);
    }

    #[tokio::test]
    async fn a_flush_cut_by_its_time_bound_gives_the_entry_back() {
        let tmp = tempfile::tempdir().unwrap();
        let outbox = Outbox::at(tmp.path());
        outbox.enqueue(&ticket("a"), EntryState::Queued, None).unwrap();
        let flush = outbox.flush_with(FlushOptions::default(), async |_: &Ticket| {
            tokio::time::sleep(Duration::from_secs(3600)).await;
            Ok(receipt("never"))
        });
        assert!(tokio::time::timeout(Duration::from_millis(200), flush).await.is_err());
        let listed = outbox.list().unwrap();
        assert_eq!((listed[0].key.as_str(), listed[0].state), ("a", EntryState::Queued));
    }

    #[tokio::test]
    async fn deliver_or_queue_sorts_failures_and_never_sends_a_key_twice() {
        let tmp = tempfile::tempdir().unwrap();
        let outbox = Outbox::at(tmp.path());
        let h = deliver_or_queue_with(&outbox, &ticket("a"), async |_: &Ticket| Err(down())).await;
        assert!(matches!(h, Handoff::Queued { .. }), "{h:?}");
        let h = deliver_or_queue_with(&outbox, &ticket("b"), async |_: &Ticket| Err(refused())).await;
        assert!(matches!(h, Handoff::Failed { .. }), "{h:?}");
        let states: Vec<_> = outbox.list().unwrap().into_iter().map(|e| (e.key, e.state)).collect();
        assert!(
            states.contains(&("a".into(), EntryState::Queued)) && states.contains(&("b".into(), EntryState::Failed))
        );
        // Delivered directly now: the queued copy goes, and the key is remembered.
        let h = deliver_or_queue_with(&outbox, &ticket("a"), async |t: &Ticket| Ok(receipt(&t.key))).await;
        assert!(matches!(h, Handoff::Delivered(_)), "{h:?}");
        assert_eq!(outbox.list().unwrap().len(), 1);
        let h = deliver_or_queue_with(&outbox, &ticket("a"), async |_: &Ticket| panic!("sent twice")).await;
        assert!(matches!(h, Handoff::AlreadySent), "{h:?}");
    }

    #[tokio::test]
    async fn a_delivery_cut_short_leaves_the_ticket_queued() {
        let tmp = tempfile::tempdir().unwrap();
        let outbox = Outbox::at(tmp.path());
        let t = ticket("a");
        let hang = deliver_or_queue_with(&outbox, &t, async |_: &Ticket| {
            tokio::time::sleep(Duration::from_secs(3600)).await;
            Ok(receipt("never"))
        });
        assert!(tokio::time::timeout(Duration::from_millis(200), hang).await.is_err());
        let listed = outbox.list().unwrap();
        assert_eq!((listed.len(), listed[0].state), (1, EntryState::Queued));
        let summary = outbox.flush_with(FlushOptions::default(), async |t: &Ticket| Ok(receipt(&t.key))).await.unwrap();
        assert_eq!(summary.delivered.len(), 1);
    }

    #[tokio::test]
    async fn a_ticket_is_still_sent_when_the_outbox_cannot_keep_it() {
        let tmp = tempfile::tempdir().unwrap();
        let file = tmp.path().join("not-a-dir");
        std::fs::write(&file, "x").unwrap();
        let outbox = Outbox::at(file.join("outbox"));
        let h = deliver_or_queue_with(&outbox, &ticket("a"), async |t: &Ticket| Ok(receipt(&t.key))).await;
        assert!(matches!(h, Handoff::Delivered(_)), "{h:?}");
    }

    #[tokio::test]
    async fn an_outbox_that_cannot_be_written_says_where() {
        let tmp = tempfile::tempdir().unwrap();
        let file = tmp.path().join("not-a-dir");
        std::fs::write(&file, "x").unwrap();
        let outbox = Outbox::at(file.join("outbox"));
        let h = deliver_or_queue_with(&outbox, &ticket("a"), async |_: &Ticket| Err(down())).await;
        match h {
            Handoff::NotKept { error, outbox: OutboxError::Io { path, .. } } => {
                assert!(error.is_transient());
                assert!(path.starts_with(&file), "{}", path.display());
            }
            other => panic!("{other:?}"),
        }
    }
}
