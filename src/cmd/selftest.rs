//! `nettriage selftest`: the end user's one-click self-test. A live checklist in plain
//! words (`render::checklist`), one sentence, and an HTML report file for IT.

#![allow(clippy::print_stdout, clippy::print_stderr)]

use std::io::{IsTerminal, Write};

use indicatif::ProgressDrawTarget;
use nettriage::app::{self, RunError};
use nettriage::config::Config;
use nettriage::render;
use nettriage::render::checklist::Checklist;

use super::ignore_broken_pipe;

/// Runs with the checklist, writes the report file, and returns the exit code.
pub async fn selftest(config: &Config) -> Result<u8, RunError> {
    let live = std::io::stdout().is_terminal().then(ProgressDrawTarget::stdout);
    let checklist = Checklist::new(live, Box::new(std::io::stdout()));
    let stdout = std::io::stdout();
    ignore_broken_pipe(writeln!(stdout.lock(), "Checking your network connection…"))?;
    let report = app::collect(config, &|event| checklist.update(&event)).await?;
    let path = match &config.output {
        Some(path) => path.clone(),
        None => std::path::PathBuf::from(app::default_report_name(&report)),
    };
    app::write_report(&report, &path)?;
    let mut out = stdout.lock();
    ignore_broken_pipe(writeln!(out, "\n{}", render::sentence(&report)))?;
    ignore_broken_pipe(writeln!(out, "Report for IT: {}", path.display()))?;
    Ok(report.diagnosis.status.exit_code())
}
