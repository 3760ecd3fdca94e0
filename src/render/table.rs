//! The terminal summary: verdict, root cause with next steps, one table row per layer, and
//! the findings. Colour only when asked (the caller decides: TTY and NO_COLOR).

use std::io::Write;

use comfy_table::presets::UTF8_FULL_CONDENSED;
use comfy_table::{Cell, Color, ContentArrangement, Table};
use serde_json::Value;

use crate::report::{CheckId, CheckResult, CheckStatus, Report, RunStatus, Severity};

/// Writes the summary of `report`.
pub fn write(report: &Report, out: &mut impl Write, color: bool) -> std::io::Result<()> {
    let d = &report.diagnosis;
    let iface = report.interface.as_deref().unwrap_or("no interface");
    writeln!(
        out,
        "nettriage {} on {} ({iface}): {}",
        report.tool.version,
        report.host.hostname,
        d.status.as_str().to_uppercase()
    )?;
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
            Cell::new(details(check)),
        ]);
    }
    if table.width().is_none() {
        table.set_width(120);
    }
    writeln!(out, "{table}")?;

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
    if report.diagnosis.status != RunStatus::Healthy && !report.privileged {
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

/// One line of the most useful evidence for a check (pure; tolerant of missing fields).
pub fn details(check: &CheckResult) -> String {
    if matches!(check.status, CheckStatus::Skipped | CheckStatus::Error) {
        return check.reason.clone().unwrap_or_default();
    }
    let ev = &check.evidence;
    let s = |v: &Value| v.as_str().map(str::to_string).unwrap_or_else(|| v.to_string());
    match check.id {
        CheckId::Link => {
            let i = &ev["interface"];
            let mut parts = vec![format!("{} {}", s(&i["name"]), s(&i["oper_state"]))];
            if let Some(mac) = i["mac"].as_str() {
                parts.push(mac.to_string());
            }
            if let Some(speed) = ev["speed_mbps"].as_u64() {
                parts.push(format!("{speed} Mb/s {}", ev["duplex"].as_str().unwrap_or("")).trim().to_string());
            }
            if let Some(mtu) = i["mtu"].as_u64() {
                parts.push(format!("MTU {mtu}"));
            }
            parts.join(", ")
        }
        CheckId::Dhcp => match ev["usable_ipv4"].as_str() {
            Some(ip) => {
                let a = ev["ipv4"].as_array().and_then(|a| a.iter().find(|a| a["address"] == ip));
                match a {
                    Some(a) if a["dynamic"] == true => match a["valid_lft_s"].as_u64() {
                        Some(lft) => format!("{ip}/{} (dynamic, valid {lft} s)", a["prefix_len"]),
                        None => format!("{ip}/{} (dynamic)", a["prefix_len"]),
                    },
                    Some(a) => format!("{ip}/{} (static)", a["prefix_len"]),
                    None => ip.to_string(),
                }
            }
            None => "no usable IPv4 address".into(),
        },
        CheckId::Gateway => {
            let gws = ev["gateways"].as_array().cloned().unwrap_or_default();
            if gws.is_empty() {
                return "no default route".into();
            }
            gws.iter()
                .map(|g| {
                    let mut line = s(&g["address"]);
                    if let Some(mac) = g["arp"]["mac"].as_str() {
                        line.push_str(&format!(" ({mac})"));
                    } else {
                        line.push_str(&format!(" ARP {}", s(&g["arp"]["status"])));
                    }
                    let p = &g["ping"];
                    if p.is_object() {
                        line.push_str(&format!(", ping {}/{}", p["received"], p["sent"]));
                        if let (Some(avg), Some(jit)) = (p["avg_ms"].as_f64(), p["jitter_ms"].as_f64()) {
                            line.push_str(&format!(" avg {avg:.2} ms jitter {jit:.2} ms"));
                        }
                    }
                    line
                })
                .collect::<Vec<_>>()
                .join("; ")
        }
        CheckId::Dns => {
            let servers = ev["servers"].as_array().cloned().unwrap_or_default();
            if servers.is_empty() {
                return "no servers".into();
            }
            servers
                .iter()
                .map(|sv| match sv["avg_ms"].as_f64() {
                    Some(ms) => format!("{} {} {ms:.1} ms", s(&sv["server"]), s(&sv["verdict"])),
                    None => format!("{} {}", s(&sv["server"]), s(&sv["verdict"])),
                })
                .collect::<Vec<_>>()
                .join(", ")
        }
        CheckId::Ports => ev["targets"]
            .as_array()
            .map(|ts| {
                ts.iter()
                    .map(|t| match t["ms"].as_f64() {
                        Some(ms) => format!("{} {} {ms:.1} ms", s(&t["target"]), s(&t["outcome"])),
                        None => format!("{} {}", s(&t["target"]), s(&t["outcome"])),
                    })
                    .collect::<Vec<_>>()
                    .join(", ")
            })
            .unwrap_or_default(),
        CheckId::Wifi => String::new(),
    }
}
