//! The finding-code catalogue for a knowledge base: `nettriage codes` exports every code
//! with its plain-language summary, its next steps and, from `docs/checks/*.md`, its
//! severity, meaning (thresholds and their sources) and likely owner.
//!
//! The summary and steps come from [`crate::codes`]; the rest from the codes tables of the
//! per-layer docs, embedded at build time, so the export says what the docs say. A code
//! without a row in those tables still exports (with what `codes` knows); a unit test keeps
//! every code's row findable, so a new doc file must be added to [`DOCS`].
//!
//! Written here rather than with a Markdown crate: the tables are our own, simple format
//! (one row per line, `|` separated, `\|` escaped), and the export only needs the cells.

use std::io::Write;

use serde::Serialize;

use crate::codes::Code;
use crate::render::html::escape;

/// The per-layer docs with codes tables, by file name (embedded at build time).
pub const DOCS: &[(&str, &str)] = &[
    ("ad.md", include_str!("../../docs/checks/ad.md")),
    ("capture.md", include_str!("../../docs/checks/capture.md")),
    ("dhcp.md", include_str!("../../docs/checks/dhcp.md")),
    ("dns.md", include_str!("../../docs/checks/dns.md")),
    ("gateway.md", include_str!("../../docs/checks/gateway.md")),
    ("ipv6.md", include_str!("../../docs/checks/ipv6.md")),
    ("link.md", include_str!("../../docs/checks/link.md")),
    ("m365.md", include_str!("../../docs/checks/m365.md")),
    ("neighbours.md", include_str!("../../docs/checks/neighbours.md")),
    ("path.md", include_str!("../../docs/checks/path.md")),
    ("ports.md", include_str!("../../docs/checks/ports.md")),
    ("printers.md", include_str!("../../docs/checks/printers.md")),
    ("rdp.md", include_str!("../../docs/checks/rdp.md")),
    ("smb.md", include_str!("../../docs/checks/smb.md")),
    ("tool.md", include_str!("../../docs/checks/tool.md")),
    ("web.md", include_str!("../../docs/checks/web.md")),
    ("wifi.md", include_str!("../../docs/checks/wifi.md")),
];

/// One code's knowledge-base entry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Entry {
    /// The stable code, e.g. `dns.timeout`.
    pub code: &'static str,
    /// The layer it belongs to (`dns`), none for `tool.*` and `capture.*`.
    pub layer: Option<&'static str>,
    /// Whether a failure with it makes the later layers untestable.
    pub blocks_later_layers: bool,
    /// One plain-language sentence for an end user.
    pub summary: &'static str,
    /// Next steps for a technician, most likely fix first.
    pub next_steps: &'static [&'static str],
    /// Severity from the docs (`fail`, `warn`, ...); none for notices and undocumented rows.
    pub severity: Option<String>,
    /// What it means, with its thresholds and their sources, from the docs (Markdown).
    pub meaning: Option<String>,
    /// Who usually fixes it, from the docs.
    pub owner: Option<String>,
    /// Whether it is a notice (informational) rather than a finding.
    pub notice: bool,
    /// The doc that documents it, relative to the repository (`docs/checks/dns.md`).
    pub doc: Option<String>,
}

/// Splits a Markdown table row into trimmed cells (`\|` is a literal bar).
fn cells(line: &str) -> Vec<String> {
    let inner = line.trim().trim_start_matches('|');
    let inner = inner.strip_suffix('|').unwrap_or(inner);
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut chars = inner.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\\' if chars.peek() == Some(&'|') => {
                cur.push('|');
                chars.next();
            }
            '|' => out.push(std::mem::take(&mut cur).trim().to_string()),
            _ => cur.push(c),
        }
    }
    out.push(cur.trim().to_string());
    out
}

/// The documented row of `code`: (file, header cells, row cells), from the first codes table
/// (a table whose header starts with `Code`) that has a row for it.
fn doc_row(code: &str) -> Option<(&'static str, Vec<String>, Vec<String>)> {
    let key = format!("`{code}`");
    for (file, text) in DOCS {
        let mut header: Option<Vec<String>> = None;
        for line in text.lines() {
            if !line.trim_start().starts_with('|') {
                header = None;
                continue;
            }
            let row = cells(line);
            if row.first().is_some_and(|c| c.eq_ignore_ascii_case("Code")) {
                header = Some(row);
                continue;
            }
            if let Some(h) = &header
                && row.first().is_some_and(|c| *c == key)
            {
                return Some((file, h.clone(), row));
            }
        }
    }
    None
}

/// The catalogue entry of one code.
pub fn entry(code: Code) -> Entry {
    let row = doc_row(code.as_str());
    // The first of `names` that the row's table has (capture.md says "When" for "Meaning").
    let column = |names: &[&str]| -> Option<String> {
        let (_, header, cells) = row.as_ref()?;
        let i = header.iter().position(|h| names.iter().any(|n| h.eq_ignore_ascii_case(n)))?;
        cells.get(i).filter(|c| !c.is_empty()).cloned()
    };
    let severity = column(&["Severity"]);
    Entry {
        code: code.as_str(),
        layer: code.layer().map(|l| l.as_str()),
        blocks_later_layers: code.blocks(),
        summary: code.summary(),
        next_steps: code.next_steps(),
        notice: row.is_some() && severity.is_none(),
        severity,
        meaning: column(&["Meaning", "When"]),
        owner: column(&["Likely owner"]),
        doc: row.as_ref().map(|(file, _, _)| format!("docs/checks/{file}")),
    }
}

/// The entries of every code, or of those whose code equals or starts with one of
/// `filters` (`dns.` or `dns` for a layer), in documentation order.
pub fn entries(filters: &[String]) -> Vec<Entry> {
    Code::ALL
        .iter()
        .filter(|c| {
            filters.is_empty()
                || filters.iter().any(|f| {
                    let s = c.as_str();
                    s == f || s.starts_with(&format!("{}.", f.trim_end_matches('.')))
                })
        })
        .map(|c| entry(*c))
        .collect()
}

/// The entries as one JSON array.
pub fn write_json(entries: &[Entry], out: &mut impl Write) -> std::io::Result<()> {
    serde_json::to_writer_pretty(&mut *out, entries).map_err(std::io::Error::from)?;
    writeln!(out)
}

/// The entries as Markdown: one article (a `##` section) per code.
pub fn write_markdown(entries: &[Entry], out: &mut impl Write) -> std::io::Result<()> {
    writeln!(out, "# nettriage finding codes\n")?;
    writeln!(
        out,
        "What each code in a nettriage report means and what to do about it (nettriage {}).\n",
        env!("CARGO_PKG_VERSION")
    )?;
    for e in entries {
        writeln!(out, "## `{}`\n", e.code)?;
        writeln!(out, "{}\n", e.summary)?;
        let mut facts = vec![format!("Layer: {}", e.layer.unwrap_or("none"))];
        facts.push(match (&e.severity, e.notice) {
            (Some(s), _) => format!("Severity: {s}"),
            (None, true) => "Severity: notice".into(),
            (None, false) => "Severity: see the report".into(),
        });
        if e.blocks_later_layers {
            facts.push("Blocks the later layers".into());
        }
        if let Some(owner) = &e.owner {
            facts.push(format!("Likely owner: {owner}"));
        }
        writeln!(out, "{}\n", facts.join(" · "))?;
        if let Some(meaning) = &e.meaning {
            writeln!(out, "**What it means:** {meaning}\n")?;
        }
        if !e.next_steps.is_empty() {
            writeln!(out, "**Next steps:**\n")?;
            for (i, step) in e.next_steps.iter().enumerate() {
                writeln!(out, "{}. {step}", i + 1)?;
            }
            writeln!(out)?;
        }
        if let Some(doc) = &e.doc {
            writeln!(out, "Source: `{doc}`\n")?;
        }
    }
    Ok(())
}

/// The entries as one self-contained HTML page (an article per code, linkable by code).
pub fn write_html(entries: &[Entry], out: &mut impl Write) -> std::io::Result<()> {
    writeln!(
        out,
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
         <title>nettriage finding codes</title><style>\
         body{{font-family:system-ui,sans-serif;max-width:60rem;margin:2rem auto;padding:0 1rem;line-height:1.45}}\
         article{{border-top:1px solid #ccc;padding:.5rem 0}}code{{background:#f3f3f3;padding:0 .2rem}}\
         .facts{{color:#555}}</style></head><body>\n<h1>nettriage finding codes</h1>\n\
         <p>What each code in a nettriage report means and what to do about it (nettriage {}).</p>",
        escape(env!("CARGO_PKG_VERSION"))
    )?;
    for e in entries {
        writeln!(out, "<article id=\"{0}\"><h2><code>{0}</code></h2>", escape(e.code))?;
        writeln!(out, "<p>{}</p>", escape(e.summary))?;
        let mut facts = vec![format!("Layer: {}", e.layer.unwrap_or("none"))];
        facts.push(format!(
            "Severity: {}",
            e.severity.as_deref().unwrap_or(if e.notice { "notice" } else { "see the report" })
        ));
        if e.blocks_later_layers {
            facts.push("Blocks the later layers".into());
        }
        if let Some(owner) = &e.owner {
            facts.push(format!("Likely owner: {owner}"));
        }
        writeln!(out, "<p class=\"facts\">{}</p>", escape(&facts.join(" · ")))?;
        if let Some(meaning) = &e.meaning {
            writeln!(out, "<p><strong>What it means:</strong> {}</p>", escape(meaning))?;
        }
        if !e.next_steps.is_empty() {
            writeln!(out, "<p><strong>Next steps:</strong></p><ol>")?;
            for step in e.next_steps {
                writeln!(out, "<li>{}</li>", escape(step))?;
            }
            writeln!(out, "</ol>")?;
        }
        if let Some(doc) = &e.doc {
            writeln!(out, "<p class=\"facts\">Source: {}</p>", escape(doc))?;
        }
        writeln!(out, "</article>")?;
    }
    writeln!(out, "</body></html>")
}

/// The entries as a terminal table: code, severity, summary.
pub fn write_table(entries: &[Entry], out: &mut impl Write) -> std::io::Result<()> {
    let mut table = comfy_table::Table::new();
    table
        .load_style(comfy_table::presets::UTF8_FULL_CONDENSED)
        .set_content_arrangement(comfy_table::ContentArrangement::Dynamic)
        .force_no_tty();
    table.set_header(["Code", "Severity", "Summary"]);
    for e in entries {
        let severity = e.severity.clone().unwrap_or_else(|| if e.notice { "notice".into() } else { "-".into() });
        table.add_row([e.code.to_string(), severity, e.summary.to_string()]);
    }
    writeln!(out, "{table}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_code_has_a_documented_row_with_a_meaning() {
        for code in Code::ALL {
            let e = entry(*code);
            assert!(e.doc.is_some(), "{code} has no row in a codes table of a file in DOCS");
        }
    }

    #[test]
    fn every_doc_file_with_codes_tables_is_embedded() {
        let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/docs/checks");
        for entry in std::fs::read_dir(dir).expect("docs/checks exists") {
            let name = entry.unwrap().file_name().into_string().unwrap();
            assert!(DOCS.iter().any(|(f, _)| *f == name), "docs/checks/{name} is not in catalogue::DOCS");
        }
    }

    #[test]
    fn escaped_bars_stay_inside_a_cell() {
        assert_eq!(cells("| `a.b` | x \\| y | z |"), ["`a.b`", "x | y", "z"]);
    }

    #[test]
    fn filters_select_a_layer_or_one_code() {
        let dns = entries(&["dns".into()]);
        assert!(!dns.is_empty() && dns.iter().all(|e| e.code.starts_with("dns.")));
        let one = entries(&["dns.timeout".into()]);
        assert_eq!(one.len(), 1);
        assert_eq!(one[0].layer, Some("dns"));
        assert!(entries(&["nothing.such".into()]).is_empty());
    }

    #[test]
    fn every_format_names_every_selected_code() {
        let all = entries(&[]);
        for write in [write_json, write_markdown, write_html, write_table] {
            let mut buf = Vec::new();
            write(&all, &mut buf).unwrap();
            let text = String::from_utf8(buf).unwrap();
            for e in &all {
                assert!(text.contains(e.code), "{} missing", e.code);
            }
        }
        let mut json = Vec::new();
        write_json(&all, &mut json).unwrap();
        let parsed: serde_json::Value = serde_json::from_slice(&json).unwrap();
        assert_eq!(parsed.as_array().map(Vec::len), Some(all.len()));
    }
}
