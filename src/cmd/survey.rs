//! `nettriage survey`: repeated runs stored in the history, one line per run on stdout.
//!
//! The loop is the library's `survey::survey`; this module turns the flags into
//! `SurveySettings`, wires SIGINT/SIGTERM to a `survey::Stop` (the run in progress still
//! finishes and is stored), and prints each stored run.

#![allow(clippy::print_stdout, clippy::print_stderr)]

use std::io::Write;
use std::sync::Arc;

use nettriage::app::RunError;
use nettriage::config::Config;
use nettriage::survey::{self, Stop, SurveyRun, SurveySettings};

use super::cli::SurveyArgs;
use super::{stdout_error, stop_signal};

impl SurveyArgs {
    /// The survey's settings, as the library takes them.
    pub fn settings(&self) -> SurveySettings {
        SurveySettings {
            site: self.site.clone(),
            location: self.location.clone(),
            db: self.db.clone(),
            every: self.every.into(),
            count: self.count,
            once: self.once,
            textfile: self.textfile.clone(),
        }
    }
}

/// Runs until `--count`, `--once`, or a signal; returns the last run's exit code.
pub async fn survey(config: &Config, args: &SurveyArgs) -> Result<u8, RunError> {
    let settings = args.settings();
    // Catch the signals before the first run, so that one arriving mid-run lets it finish.
    let signalled = stop_signal()?;
    let stop = Arc::new(Stop::default());
    {
        let stop = Arc::clone(&stop);
        tokio::spawn(async move {
            signalled.await;
            stop.request();
        });
    }
    survey::survey(config, &settings, &stop, |run: &SurveyRun| {
        let report = &run.report;
        let root = report.diagnosis.root_cause.as_ref().map(|r| format!(" ({})", r.code)).unwrap_or_default();
        let line = format!("run {} at {}: {}{root}", run.id, report.started_at, report.diagnosis.status.as_str());
        writeln!(std::io::stdout(), "{line}").map_err(stdout_error)
    })
    .await
}
