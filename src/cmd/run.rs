//! `nettriage run` (and the bare `nettriage`): one run with a live progress line on a
//! terminal, the report rendered to stdout and optionally written to `--output`.
//!
//! The run itself is the library's `app::collect`; this module only draws the progress
//! line (`render::progress`), resolves `--color`, and writes. With `--ticket` the report
//! is then handed to the ticket system ([`super::ticket::after_run`]); a run that reached
//! the network delivers what the outbox holds.

#![allow(clippy::print_stdout, clippy::print_stderr)]

use std::io::{IsTerminal, Write};
use std::sync::Mutex;

use nettriage::app::{self, RunError};
use nettriage::config::{Color, Config, Format};
use nettriage::progress::Progress;
use nettriage::render;
use nettriage::render::progress::ProgressLine;

use super::ignore_broken_pipe;

/// Runs, renders, hands the report to the ticket system with `ticket`, and returns the
/// process exit code.
pub async fn run(config: &Config, ticket: bool) -> Result<u8, RunError> {
    if ticket && let Err(code) = super::ticket::check_before_run(config) {
        return Ok(code);
    }
    // A bad --output or --capture path is an error before the first packet.
    for path in config.output.iter().chain(config.capture.iter()) {
        nettriage::files::check_file_target(path)?;
    }
    // A live progress line on stderr when it is a terminal.
    let live = std::io::stderr().is_terminal();
    let line = Mutex::new(ProgressLine::default());
    let on_progress = |event: Progress| {
        if live && let Ok(mut line) = line.lock() {
            let text = line.update(&event);
            ProgressLine::draw(&mut std::io::stderr(), &text);
        }
    };
    let report = app::collect(config, &on_progress).await;
    if live {
        ProgressLine::clear(&mut std::io::stderr());
    }
    let report = report?;
    let color = match config.color {
        Color::Always => true,
        Color::Never => false,
        Color::Auto => std::io::stdout().is_terminal() && std::env::var_os("NO_COLOR").is_none(),
    };
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    ignore_broken_pipe(render::write(&report, config.format, &mut out, color))?;
    if let Some(path) = &config.output {
        app::write_report(&report, path)?;
        if config.format == Format::Table {
            ignore_broken_pipe(writeln!(out, "Report written to {}", path.display()))?;
        }
    }
    let code = report.diagnosis.status.exit_code();
    drop(out);
    if ticket {
        return Ok(super::ticket::after_run(config, &report, code).await);
    }
    super::ticket::flush_after_run(config, &report).await;
    Ok(code)
}
