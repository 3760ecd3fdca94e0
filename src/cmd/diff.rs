//! `nettriage diff OLD.json NEW.json`: the library reads and compares the reports
//! (`app::read_report`, `diff::diff`); this module writes the table or JSON.

#![allow(clippy::print_stdout, clippy::print_stderr)]

use std::io::Write;

use nettriage::app::{self, RunError};
use nettriage::report::RunStatus;

use super::cli::{DiffArgs, DiffFormat};
use super::ignore_broken_pipe;

/// Compares two JSON reports; returns the newer one's exit code.
pub fn diff(args: &DiffArgs) -> Result<u8, RunError> {
    let (old, new) = (app::read_report(&args.old)?, app::read_report(&args.new)?);
    let d = nettriage::diff::diff(&old, &new);
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    let written = match args.format {
        Some(DiffFormat::Json) => {
            serde_json::to_writer_pretty(&mut out, &d).map_err(std::io::Error::from).and_then(|()| writeln!(out))
        }
        _ => nettriage::diff::write_table(&d, &mut out),
    };
    ignore_broken_pipe(written)?;
    let status = match d.new.status.as_str() {
        "healthy" => RunStatus::Healthy,
        "degraded" => RunStatus::Degraded,
        "unknown" => RunStatus::Unknown,
        _ => RunStatus::Broken,
    };
    Ok(status.exit_code())
}
