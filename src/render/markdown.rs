//! Markdown for tickets (Jira, ServiceNow, Zendesk): a verdict line, a table of layers (its
//! details column holds each layer's key evidence), the root cause with next steps, the
//! findings, then the full evidence as JSON folded in a `<details>` block.

use std::io::Write;

use crate::report::{CheckStatus, Report, Severity};

/// The line that opens the folded block of full evidence (JSON, one entry per layer that
/// has evidence, keyed by check id); everything before it is the short ticket text.
pub const DETAILS_OPEN: &str = "<details><summary>Full evidence per layer (JSON)</summary>";

/// Escapes text for a Markdown table cell or inline text.
fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '|' | '\\' | '`' | '*' | '_' | '<' | '>' | '[' | ']' => {
                out.push('\\');
                out.push(c);
            }
            '\n' | '\r' => out.push(' '),
            _ => out.push(c),
        }
    }
    out
}

fn mark(status: CheckStatus) -> &'static str {
    match status {
        CheckStatus::Pass => "✅ pass",
        CheckStatus::Warn => "⚠️ warn",
        CheckStatus::Fail => "❌ fail",
        CheckStatus::Skipped => "⏭️ skipped",
        CheckStatus::Error => "❗ error",
    }
}

/// Writes the report as Markdown.
pub fn write(report: &Report, out: &mut impl Write) -> std::io::Result<()> {
    let d = &report.diagnosis;
    let verdict = d.status.as_str().to_uppercase();
    match &d.root_cause {
        Some(rc) => writeln!(out, "## nettriage: {verdict} (root cause `{}`)", rc.code)?,
        None => writeln!(out, "## nettriage: {verdict}")?,
    }
    writeln!(out)?;
    writeln!(out, "**{}**", escape(&super::sentence(report)))?;
    writeln!(out)?;
    if let Some(line) = super::neighbour_line(report) {
        writeln!(out, "{}", escape(&line))?;
        writeln!(out)?;
    }
    writeln!(
        out,
        "{}, started {}, took {} ms, nettriage {}{}.",
        match super::analysed_capture(report) {
            Some(path) => format!("Capture `{}`", escape(path)),
            None => format!(
                "Host `{}`, interface `{}`",
                escape(&report.host.hostname),
                escape(report.interface.as_deref().unwrap_or("none"))
            ),
        },
        report.started_at,
        report.duration_ms,
        report.tool.version,
        if report.redacted { ", redacted" } else { "" }
    )?;
    writeln!(out)?;
    let capture = super::capture_rows(report);
    if !capture.is_empty() {
        writeln!(out, "| Capture | |")?;
        writeln!(out, "|---|---|")?;
        for (label, value) in &capture {
            writeln!(out, "| {} | {} |", escape(label), escape(value))?;
        }
        writeln!(out)?;
    }
    writeln!(out, "| Layer | Status | Time | Details |")?;
    writeln!(out, "|---|---|---|---|")?;
    for check in &report.checks {
        writeln!(
            out,
            "| {} | {} | {} ms | {} |",
            check.id.title(),
            mark(check.status),
            check.duration_ms,
            escape(&super::details(check))
        )?;
    }
    let web = super::web_rows(report);
    if !web.is_empty() {
        writeln!(out)?;
        writeln!(out, "### Web")?;
        writeln!(out)?;
        writeln!(out, "| {} |", super::WEB_COLUMNS.join(" | "))?;
        writeln!(out, "|{}", "---|".repeat(super::WEB_COLUMNS.len()))?;
        for row in &web {
            let cells: Vec<String> = row.cells().iter().map(|c| escape(c)).collect();
            writeln!(out, "| {} |", cells.join(" | "))?;
        }
    }
    for section in super::dual_stack::sections(report) {
        writeln!(out)?;
        writeln!(out, "### {}", escape(&section.title))?;
        writeln!(out)?;
        writeln!(out, "| {} |", section.columns.join(" | "))?;
        writeln!(out, "|{}", "---|".repeat(section.columns.len()))?;
        for row in &section.rows {
            let cells: Vec<String> = row.iter().map(|c| escape(c)).collect();
            writeln!(out, "| {} |", cells.join(" | "))?;
        }
    }
    if let Some(rc) = &d.root_cause {
        writeln!(out)?;
        writeln!(out, "### Root cause: `{}` ({} layer)", rc.code, rc.layer)?;
        writeln!(out)?;
        writeln!(out, "{}", escape(&rc.summary))?;
        writeln!(out)?;
        writeln!(out, "Next steps:")?;
        writeln!(out)?;
        for (i, step) in rc.next_steps.iter().enumerate() {
            writeln!(out, "{}. {}", i + 1, escape(step))?;
        }
    }
    if !d.findings.is_empty() {
        writeln!(out)?;
        writeln!(out, "### Findings")?;
        writeln!(out)?;
        for f in &d.findings {
            let sev = match f.severity {
                Severity::Fail => "FAIL",
                Severity::Warn => "WARN",
            };
            writeln!(out, "- **{sev}** `{}` ({}): {}", f.code, f.layer, escape(&f.message))?;
        }
    }
    let (neighbours, best) = super::wifi_neighbours(report);
    if !neighbours.is_empty() {
        writeln!(out)?;
        writeln!(out, "### Wi-Fi neighbours")?;
        writeln!(out)?;
        writeln!(out, "| {} |", super::NEIGHBOUR_COLUMNS.join(" | "))?;
        writeln!(out, "|{}", "---|".repeat(super::NEIGHBOUR_COLUMNS.len()))?;
        for row in neighbours {
            let cells: Vec<String> = row.iter().map(|c| escape(c)).collect();
            writeln!(out, "| {} |", cells.join(" | "))?;
        }
        if let Some(best) = best {
            writeln!(out)?;
            writeln!(out, "{best}")?;
        }
    }
    // The evidence in full, folded: ticket systems (GitHub, GitLab, Jira's Markdown
    // import) render `<details>` collapsed, so the ticket reads short and nothing is lost.
    let evidence: serde_json::Map<String, serde_json::Value> = report
        .checks
        .iter()
        .filter(|c| !c.evidence.is_none())
        .map(|c| Ok((c.id.to_string(), serde_json::to_value(&c.evidence)?)))
        .collect::<Result<_, serde_json::Error>>()
        .map_err(std::io::Error::other)?;
    if !evidence.is_empty() {
        let json = serde_json::to_string_pretty(&evidence).map_err(std::io::Error::other)?;
        writeln!(out)?;
        writeln!(out, "{DETAILS_OPEN}")?;
        writeln!(out)?;
        // A fence longer than any backtick run inside keeps the block closed.
        writeln!(out, "````json\n{}\n````", json.replace("````", "` ` ` `"))?;
        writeln!(out)?;
        writeln!(out, "</details>")?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escaping_keeps_table_cells_intact() {
        assert_eq!(escape("a|b"), "a\\|b");
        assert_eq!(escape("x\ny"), "x y");
        assert_eq!(escape("<script>"), "\\<script\\>");
    }
}
