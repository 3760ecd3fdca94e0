//! The JSON report (schema_version "1"), pretty-printed.

use std::io::Write;

use crate::report::Report;

/// Writes the report as pretty JSON followed by a newline.
pub fn write(report: &Report, out: &mut impl Write) -> std::io::Result<()> {
    serde_json::to_writer_pretty(&mut *out, report)?;
    out.write_all(b"\n")
}
