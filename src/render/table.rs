//! The terminal summary: verdict, root cause with next steps, one table row per layer, and
//! the findings. Colour only when asked (the caller decides: TTY and NO_COLOR).

use std::io::Write;

use comfy_table::presets::UTF8_FULL_CONDENSED;
use comfy_table::{Cell, Color, ContentArrangement, Table};

use crate::report::{CheckStatus, Code, Report, Severity};

/// Writes the summary of `report`.
pub fn write(report: &Report, out: &mut impl Write, color: bool) -> std::io::Result<()> {
    let d = &report.diagnosis;
    let iface = report.interface.as_deref().unwrap_or("no interface");
    let about = match super::analysed_capture(report) {
        Some(path) => format!("capture {path}"),
        None => format!("{} ({iface})", report.host.hostname),
    };
    writeln!(out, "nettriage {} on {about}: {}", report.tool.version, d.status.as_str().to_uppercase())?;
    if let Some(line) = super::neighbour_line(report) {
        writeln!(out, "{line}")?;
    }
    match &d.root_cause {
        None => writeln!(out, "Everything checked works.")?,
        Some(rc) => {
            writeln!(out, "Root cause: {} ({} layer)", rc.code, rc.layer)?;
            writeln!(out, "  {}", rc.summary)?;
            writeln!(out, "  Next steps:")?;
            for (i, step) in rc.next_steps.iter().enumerate() {
                writeln!(out, "    {}. {step}", i + 1)?;
            }
        }
    }

    let capture = super::capture_rows(report);
    if !capture.is_empty() {
        writeln!(out, "Capture:")?;
        for (label, value) in &capture {
            writeln!(out, "  {label}: {value}")?;
        }
    }

    let mut table = Table::new();
    table.load_style(UTF8_FULL_CONDENSED).set_content_arrangement(ContentArrangement::Dynamic);
    if color {
        table.enforce_styling();
    } else {
        table.force_no_tty();
    }
    table.set_header(["Layer", "Status", "Time", "Details"]);
    for check in &report.checks {
        let status = Cell::new(check.status.as_str());
        let status = if color { status.fg(status_color(check.status)) } else { status };
        table.add_row(vec![
            Cell::new(check.id.title()),
            status,
            Cell::new(format!("{} ms", check.duration_ms)),
            Cell::new(super::details(check)),
        ]);
    }
    if table.width().is_none() {
        table.set_width(120);
    }
    writeln!(out, "{table}")?;

    let web = super::web_rows(report);
    if !web.is_empty() {
        let mut urls = Table::new();
        urls.load_style(UTF8_FULL_CONDENSED).set_content_arrangement(ContentArrangement::Dynamic).force_no_tty();
        urls.set_header(super::WEB_COLUMNS);
        for row in &web {
            urls.add_row(row.cells());
        }
        if urls.width().is_none() {
            urls.set_width(120);
        }
        writeln!(out, "Web:\n{urls}")?;
    }

    for section in super::dual_stack::sections(report) {
        let mut t = Table::new();
        t.load_style(UTF8_FULL_CONDENSED).set_content_arrangement(ContentArrangement::Dynamic).force_no_tty();
        t.set_header(section.columns);
        for row in &section.rows {
            t.add_row(row);
        }
        if t.width().is_none() {
            t.set_width(120);
        }
        writeln!(out, "{}:\n{t}", section.title)?;
    }

    let (neighbours, best) = super::wifi_neighbours(report);
    if !neighbours.is_empty() {
        let mut aps = Table::new();
        aps.load_style(UTF8_FULL_CONDENSED).set_content_arrangement(ContentArrangement::Dynamic).force_no_tty();
        aps.set_header(super::NEIGHBOUR_COLUMNS);
        for row in neighbours {
            aps.add_row(row);
        }
        writeln!(out, "Wi-Fi neighbours:\n{aps}")?;
        if let Some(best) = best {
            writeln!(out, "{best}")?;
        }
    }
    if !d.findings.is_empty() {
        writeln!(out, "Findings:")?;
        for f in &d.findings {
            let sev = match f.severity {
                Severity::Fail => "FAIL",
                Severity::Warn => "WARN",
            };
            writeln!(out, "  {sev} {}: {}", f.code, f.message)?;
        }
    }
    if d.findings.iter().any(|f| f.code == Code::ToolNoPrivilege) {
        writeln!(out, "Note: run without CAP_NET_RAW/CAP_NET_ADMIN; some checks could not run.")?;
    }
    Ok(())
}

fn status_color(status: CheckStatus) -> Color {
    match status {
        CheckStatus::Pass => Color::Green,
        CheckStatus::Warn => Color::Yellow,
        CheckStatus::Fail => Color::Red,
        CheckStatus::Skipped => Color::DarkGrey,
        CheckStatus::Error => Color::Magenta,
    }
}
