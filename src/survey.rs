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

use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use crate::app::{self, RunError};
use crate::config::Config;
use crate::history::{Filter, History, Trend};
use crate::metrics;
use crate::render::trend::Series;
use crate::report::Report;

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

/// One stored survey run.
#[derive(Debug, Clone)]
pub struct SurveyRun {
    /// Its id in the history.
    pub id: i64,
    /// The run's report, as stored.
    pub report: Report,
}

/// Runs the survey until `settings.count`, `settings.once`, or `stop`; calls `on_run` after
/// each run is stored (and exported) and returns the last run's exit code. An error from
/// `on_run` ends the survey with that error.
pub async fn survey(
    config: &Config,
    settings: &SurveySettings,
    stop: &Stop,
    mut on_run: impl FnMut(&SurveyRun) -> Result<(), RunError>,
) -> Result<u8, RunError> {
    // A survey records the neighbourhood too: on a wireless interface every run scans.
    // Nobody waits for a survey's runs, so DHCP listens longer unless told otherwise.
    let mut config = config.clone();
    config.wifi.scan = true;
    config.dhcp.window_ms.get_or_insert(crate::config::SURVEY_DHCP_WINDOW_MS);
    let config = &config;
    let mut history = open_history(&settings.db)?;
    let mut done = 0u64;
    let mut last;
    loop {
        let started = tokio::time::Instant::now();
        let report = app::collect(config, &|_| {}).await?;
        let id = history.insert(&report, &settings.site, &settings.location)?;
        if let Some(dir) = &settings.textfile {
            let text = metrics::render(&report, &settings.site, &settings.location);
            metrics::write_textfile(dir, "nettriage.prom", &text)
                .map_err(|source| RunError::Textfile { dir: dir.clone(), source })?;
        }
        last = report.diagnosis.status.exit_code();
        tracing::info!(id, status = report.diagnosis.status.as_str(), "survey run stored");
        on_run(&SurveyRun { id, report })?;
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

/// How many of the newest runs the HTML trend page charts.
pub const CHARTED_RUNS: usize = 500;

/// One site's series for the trend page's charts, oldest first (at most
/// [`CHARTED_RUNS`] of the newest runs that match `filter`).
pub fn series(history: &History, filter: &Filter, site: &str, location: &str) -> Result<Series, RunError> {
    let f = Filter {
        site: Some(site.into()),
        location: Some(location.into()),
        limit: Some(CHARTED_RUNS),
        ..filter.clone()
    };
    let mut out: Series = (vec![], vec![], vec![]);
    for run in history.list(&f)?.into_iter().rev() {
        let report = history.get(run.id)?.and_then(|v| serde_json::from_value::<Report>(v).ok());
        let m = report.as_ref().map(metrics::Measurements::from_report);
        let mean = |xs: Vec<f64>| (!xs.is_empty()).then(|| xs.iter().sum::<f64>() / xs.len() as f64);
        out.0.push(m.as_ref().and_then(|m| mean(m.gateways.iter().filter_map(|g| g.avg_ms).collect())));
        out.1.push(m.as_ref().and_then(|m| mean(m.dns.iter().filter_map(|d| d.avg_ms).collect())));
        out.2.push(m.as_ref().and_then(|m| m.wifi_signal_dbm));
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
        for (g, (rtt, dns, signal)) in trend.groups.iter().zip(&series) {
            assert_eq!(rtt.len() as u64, g.runs, "{} / {}", g.site, g.location);
            assert_eq!((dns.len(), signal.len()), (rtt.len(), rtt.len()));
        }
        let hq = trend.groups.iter().position(|g| g.site == "HQ").unwrap();
        // The healthy run (first) has a 2.5 ms gateway and no Wi-Fi; the broken one is on Wi-Fi.
        assert_eq!(series[hq].0[0], Some(2.5));
        assert_eq!((series[hq].2[0], series[hq].2[1].is_some()), (None, true));
    }
}
