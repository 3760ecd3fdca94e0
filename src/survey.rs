//! The survey loop: repeated runs, each stored in the history and optionally exported
//! for node_exporter, until a count is reached or a stop is requested.
//!
//! A survey run is never cut short: a stop request ([`Stop`], which the binary wires to
//! SIGINT and SIGTERM) lets the run in progress finish and be stored (one transaction),
//! and only then does the survey stop. Each run is a full report from [`app::collect`];
//! storage is [`crate::history`], the exposition [`crate::metrics`] (written with
//! [`crate::files::write_atomic`]). The caller hears of every stored run through a
//! callback and decides what to show; nothing here prints. Also here: where the history
//! database is ([`open_history`]) and the trend page's chart series ([`trend_series`]).

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use crate::app::{self, RunError};
use crate::config::Config;
use crate::history::{Filter, History, Trend};
use crate::metrics;
use crate::render::trend::{RunPoint, Series};
use crate::report::{Report, RunStatus};

/// The history database: `db`, else the default path (its directory is created).
pub fn open_history(db: &Option<PathBuf>) -> Result<History, RunError> {
    let path = db.clone().unwrap_or_else(|| PathBuf::from(crate::history::DEFAULT_PATH));
    if db.is_none()
        && let Some(dir) = path.parent()
    {
        std::fs::create_dir_all(dir).map_err(|source| RunError::CreateDir { path: dir.to_path_buf(), source })?;
    }
    Ok(History::open(&path)?)
}

/// The history database for reading (`history`, `serve`): `db`, else the default path.
/// Nothing is created: a missing database is [`crate::history::HistoryError::NoSuchDatabase`].
pub fn open_history_read(db: &Option<PathBuf>) -> Result<History, RunError> {
    let path = db.clone().unwrap_or_else(|| PathBuf::from(crate::history::DEFAULT_PATH));
    Ok(History::open_read_only(&path)?)
}

/// How a survey runs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SurveySettings {
    /// Site tag stored with every run.
    pub site: String,
    /// Location tag stored with every run.
    pub location: String,
    /// History database; `None` is [`crate::history::DEFAULT_PATH`].
    pub db: Option<PathBuf>,
    /// Time from the start of one run to the start of the next.
    pub every: Duration,
    /// Stop after this many runs; `None` runs until stopped.
    pub count: Option<u64>,
    /// One run, then stop.
    pub once: bool,
    /// Directory to write `nettriage.prom` into after every run, if any.
    pub textfile: Option<PathBuf>,
}

/// A request to stop the survey after the run in progress; shared with whoever catches
/// the signals.
#[derive(Debug, Default)]
pub struct Stop {
    requested: AtomicBool,
    wake: tokio::sync::Notify,
}

impl Stop {
    /// Asks the survey to stop once the run in progress is stored (and wakes it if it is
    /// waiting for the next run).
    pub fn request(&self) {
        self.requested.store(true, Ordering::SeqCst);
        self.wake.notify_one();
    }

    /// Whether a stop was requested.
    pub fn is_requested(&self) -> bool {
        self.requested.load(Ordering::SeqCst)
    }
}

/// One survey run that produced a report.
#[derive(Debug)]
pub struct SurveyRun {
    /// Its id in the history; `None` when storing it failed (see `problems`).
    pub id: Option<i64>,
    /// The run's report.
    pub report: Report,
    /// Outputs of this run that failed (storing it, the metrics textfile). The survey
    /// goes on after them: an unattended survey never ends because one output failed.
    pub problems: Vec<RunError>,
}

/// What the survey tells its caller, as it happens.
#[derive(Debug)]
pub enum SurveyEvent<'a> {
    /// The `--textfile` directory did not exist and was created before the first run.
    TextfileDirCreated(&'a Path),
    /// A run finished (stored and exported, unless `problems` says otherwise).
    Run(&'a SurveyRun),
    /// A run could not be made at all (e.g. the interface vanished); the survey goes on.
    RunFailed(&'a RunError),
}

/// Runs the survey until `settings.count`, `settings.once`, or `stop`; calls `on_event`
/// for everything that happens and returns the last run's exit code
/// ([`app::EXIT_COULD_NOT_RUN`] when that run could not be made, stored or exported).
///
/// Every output is checked before the first run: the history database is opened (and
/// created), the textfile directory created when missing and tried for writing, so a
/// bad path is an error at once. After that nothing but `on_event` ends the survey: a
/// run that fails, a history insert or a textfile write that fails is reported through
/// `on_event` and the next run comes as planned.
pub async fn survey(
    config: &Config,
    settings: &SurveySettings,
    stop: &Stop,
    mut on_event: impl FnMut(SurveyEvent<'_>) -> Result<(), RunError>,
) -> Result<u8, RunError> {
    // A survey records the neighbourhood too: on a wireless interface every run scans, and
    // every run waits up to `[neighbours] window_secs` for the switch's LLDP/CDP (as
    // `--neighbours` does; a survey's runs are minutes apart, and a run shorter than the
    // switch's interval rarely hears it). Nobody waits for a survey's runs, so DHCP listens
    // longer unless told otherwise.
    let mut config = config.clone();
    config.wifi.scan = true;
    config.listen_for_neighbours();
    config.dhcp.window_ms.get_or_insert(crate::config::SURVEY_DHCP_WINDOW_MS);
    let config = &config;
    if let Some(dir) = &settings.textfile {
        let state = crate::files::prepare_dir(dir)
            .map_err(|e| RunError::Textfile { dir: dir.clone(), source: std::io::Error::new(e.kind(), e) })?;
        if state == crate::files::DirState::Created {
            on_event(SurveyEvent::TextfileDirCreated(dir))?;
        }
    }
    let mut history = open_history(&settings.db)?;
    let mut done = 0u64;
    let mut last;
    loop {
        let started = tokio::time::Instant::now();
        // A survey opens its sockets again on every run, so it keeps its capabilities
        // (docs/privileges.md; the packaged unit bounds them to these two).
        match app::collect_with(config, &|_| {}, app::PrivilegePolicy::Keep).await {
            Ok(report) => {
                let mut problems = Vec::new();
                let id = history
                    .insert(&report, &settings.site, &settings.location)
                    .map_err(|e| problems.push(RunError::History(e)))
                    .ok();
                if let Some(dir) = &settings.textfile {
                    let text = metrics::render(&report, &settings.site, &settings.location);
                    if let Err(source) = metrics::write_textfile(dir, "nettriage.prom", &text) {
                        problems.push(RunError::Textfile { dir: dir.clone(), source });
                    }
                }
                last = if problems.is_empty() { report.diagnosis.status.exit_code() } else { app::EXIT_COULD_NOT_RUN };
                tracing::info!(
                    ?id,
                    status = report.diagnosis.status.as_str(),
                    problems = problems.len(),
                    "survey run done"
                );
                // A run that reached the network delivers the ticket outbox (bounded).
                if matches!(report.diagnosis.status, RunStatus::Healthy | RunStatus::Degraded)
                    && let Some(flushed) =
                        crate::ticket::outbox::flush_after_run(&config.ticket, OUTBOX_FLUSH_BUDGET).await
                {
                    match flushed {
                        Ok(s) => tracing::info!(
                            delivered = s.delivered.len(),
                            still_queued = s.postponed.len(),
                            "outbox flushed"
                        ),
                        Err(e) => tracing::warn!(error = %e, "outbox flush failed"),
                    }
                }
                on_event(SurveyEvent::Run(&SurveyRun { id, report, problems }))?;
            }
            Err(e) => {
                last = app::EXIT_COULD_NOT_RUN;
                tracing::warn!(error = %e, "survey run failed");
                on_event(SurveyEvent::RunFailed(&e))?;
            }
        }
        done += 1;
        if settings.once || settings.count.is_some_and(|c| done >= c) || stop.is_requested() {
            break;
        }
        tokio::select! {
            _ = tokio::time::sleep_until(started + settings.every) => {}
            _ = stop.wake.notified() => {}
        }
        if stop.is_requested() {
            break;
        }
    }
    Ok(last)
}

/// How long a survey run may spend delivering the ticket outbox after it is stored.
pub const OUTBOX_FLUSH_BUDGET: Duration = Duration::from_secs(5);

/// How many of the newest runs the HTML trend page charts.
pub const CHARTED_RUNS: usize = 500;

/// One site's runs as the trend page charts them, oldest first (at most
/// [`CHARTED_RUNS`] of the newest runs that match `filter`).
pub fn series(history: &History, filter: &Filter, site: &str, location: &str) -> Result<Series, RunError> {
    let f = Filter {
        site: Some(site.into()),
        location: Some(location.into()),
        limit: Some(CHARTED_RUNS),
        ..filter.clone()
    };
    let mut out: Series = Vec::new();
    for run in history.list(&f)?.into_iter().rev() {
        let report = history.get(run.id)?.and_then(|v| serde_json::from_value::<Report>(v).ok());
        // A run is placed by its start time; one whose time does not read is left out.
        let Some(started_at) = report.as_ref().map(|r| r.started_at).or_else(|| run.started_at.parse().ok()) else {
            continue;
        };
        let status = report.as_ref().map(|r| r.diagnosis.status).unwrap_or_else(|| {
            serde_json::from_value(serde_json::Value::String(run.status.clone())).unwrap_or(RunStatus::Unknown)
        });
        let m = report.as_ref().map(metrics::Measurements::from_report);
        let mean = |xs: Vec<f64>| (!xs.is_empty()).then(|| xs.iter().sum::<f64>() / xs.len() as f64);
        out.push(RunPoint {
            started_at,
            status,
            // The trend's gateway line stays the IPv4 gateways' (as before IPv6 routers were probed).
            gateway_rtt_ms: m.as_ref().and_then(|m| {
                mean(
                    m.gateways
                        .iter()
                        .filter(|g| g.family == crate::types::IpFamily::Ipv4)
                        .filter_map(|g| g.avg_ms)
                        .collect(),
                )
            }),
            dns_ms: m.as_ref().and_then(|m| mean(m.dns.iter().filter_map(|d| d.avg_ms).collect())),
            wifi_signal_dbm: m.as_ref().and_then(|m| m.wifi_signal_dbm),
            web_total_ms: m.as_ref().and_then(|m| mean(m.http.iter().filter_map(|h| h.total_ms).collect())),
            captive_portal: m.as_ref().and_then(|m| m.captive_portal),
            checks: report.as_ref().map(|r| r.checks.iter().map(|c| (c.id, c.status)).collect()).unwrap_or_default(),
        });
    }
    Ok(out)
}

/// The chart series of every group of `trend`, in its order, for
/// [`crate::render::trend::write_trend_html`].
pub fn trend_series(history: &History, filter: &Filter, trend: &Trend) -> Result<Vec<Series>, RunError> {
    trend.groups.iter().map(|g| series(history, filter, &g.site, &g.location)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::metrics::tests::{broken_report, healthy_report};

    #[tokio::test]
    async fn a_stop_request_is_kept_until_someone_waits() {
        let stop = Stop::default();
        assert!(!stop.is_requested());
        stop.request();
        assert!(stop.is_requested());
        // The request came before anyone waited; the waiter still wakes at once.
        tokio::time::timeout(Duration::from_secs(1), stop.wake.notified()).await.expect("woken");
    }

    #[test]
    fn trend_series_follow_the_trend_groups_oldest_run_first() {
        let dir = tempfile::tempdir().unwrap();
        let mut history = open_history(&Some(dir.path().join("history.db"))).unwrap();
        history.insert(&healthy_report("2026-11-24T07:00:00.000Z"), "HQ", "floor 2").unwrap();
        history.insert(&broken_report("2026-11-24T07:05:00.000Z"), "HQ", "floor 2").unwrap();
        history.insert(&healthy_report("2026-11-24T07:01:00.000Z"), "Branch", "").unwrap();
        let filter = Filter::default();
        let trend = history.trend(&filter).unwrap();
        let series = trend_series(&history, &filter, &trend).unwrap();
        assert_eq!(series.len(), trend.groups.len());
        for (g, points) in trend.groups.iter().zip(&series) {
            assert_eq!(points.len() as u64, g.runs, "{} / {}", g.site, g.location);
            assert!(points.windows(2).all(|w| w[0].started_at <= w[1].started_at), "oldest first");
        }
        let hq = &series[trend.groups.iter().position(|g| g.site == "HQ").unwrap()];
        // The healthy run (first) has a 2.5 ms gateway and no Wi-Fi; the broken one is on Wi-Fi.
        assert_eq!((hq[0].gateway_rtt_ms, hq[0].wifi_signal_dbm, hq[0].status), (Some(2.5), None, RunStatus::Healthy));
        assert_eq!((hq[1].wifi_signal_dbm.is_some(), hq[1].status), (true, RunStatus::Broken));
        assert_eq!(
            hq[1].checks.len(),
            hq[1].checks.iter().map(|(id, _)| id).collect::<std::collections::BTreeSet<_>>().len()
        );
        assert!(!hq[1].checks.is_empty());
    }
}
