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
use nettriage::survey::{self, Stop, SurveyEvent, SurveySettings};

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
    let why = "every run is stored in the history; read it with `history show ID --format ...`";
    if let Some(path) = &args.run.output {
        return Err(RunError::NotApplicable { option: format!("--output {}", path.display()), command: "survey", why });
    }
    if let Some(format) = args.run.format {
        let option = format!("--format {}", format!("{format:?}").to_lowercase());
        return Err(RunError::NotApplicable { option, command: "survey", why });
    }
    if args.run.ticket {
        let why = "a survey stores every run; deliver one with `history show ID --format json > r.json` and \
                   `nettriage ticket r.json` (each run delivers the outbox when a ticket system is configured)";
        return Err(RunError::NotApplicable { option: "--ticket".into(), command: "survey", why });
    }
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
    survey::survey(config, &settings, &stop, |event| match event {
        SurveyEvent::TextfileDirCreated(dir) => {
            eprintln!("nettriage: created the textfile directory {} (node_exporter reads it with --collector.textfile.directory)", dir.display());
            Ok(())
        }
        SurveyEvent::Run(run) => {
            let report = &run.report;
            let root = report.diagnosis.root_cause.as_ref().map(|r| format!(" ({})", r.code)).unwrap_or_default();
            let id = run.id.map_or_else(|| "not stored".to_string(), |id| id.to_string());
            for problem in &run.problems {
                eprintln!("nettriage: survey run at {}: {problem}; the survey goes on", report.started_at);
            }
            let line = format!("run {id} at {}: {}{root}", report.started_at, report.diagnosis.status.as_str());
            writeln!(std::io::stdout(), "{line}").map_err(stdout_error)
        }
        SurveyEvent::RunFailed(error) => {
            eprintln!("nettriage: survey run failed: {error}; the survey goes on");
            Ok(())
        }
    })
    .await
}
