//! `nettriage analyze FILE.pcap`: the library judges the capture's exchanges
//! (`app::analyze_file`); this module renders the report and writes `--output`.

#![allow(clippy::print_stdout, clippy::print_stderr)]

use nettriage::app::{self, RunError};
use nettriage::config::Format;
use nettriage::render;

use super::cli::AnalyzeArgs;
use super::ignore_broken_pipe;

/// Reports a capture's exchanges; returns its status's exit code.
pub fn analyze(args: &AnalyzeArgs) -> Result<u8, RunError> {
    let report = app::analyze_file(&args.capture, args.redact)?;
    let format = args.format.map_or(Format::Table, Format::from);
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    ignore_broken_pipe(render::write(&report, format, &mut out, false))?;
    if let Some(path) = &args.output {
        app::write_report(&report, path)?;
    }
    Ok(report.diagnosis.status.exit_code())
}
