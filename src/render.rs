//! Renderers: each turns a [`crate::report::Report`] into one output format.
//!
//! Renderers read only the report model and write to `&mut impl Write`; they never decide
//! anything about the network. `progress` draws the live line on a terminal while checks
//! run.

pub mod checklist;
pub mod html;
pub mod json;
pub mod markdown;
pub mod progress;
pub mod table;
pub mod trend;

use std::io::Write;

use serde_json::Value;

use crate::report::{CheckId, CheckResult, CheckStatus, Report, RunStatus};

/// Report formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// Terminal table.
    Table,
    /// JSON report (schema_version "1").
    Json,
    /// Markdown for tickets (Jira, ServiceNow, Zendesk).
    Markdown,
    /// One self-contained HTML file.
    Html,
}

impl Format {
    /// The format implied by a file name's extension: `.txt` table, `.md` Markdown,
    /// `.html`/`.htm` HTML, anything else JSON.
    pub fn for_path(path: &std::path::Path) -> Format {
        match path.extension().and_then(|e| e.to_str()).map(str::to_ascii_lowercase).as_deref() {
            Some("txt") => Format::Table,
            Some("md" | "markdown") => Format::Markdown,
            Some("html" | "htm") => Format::Html,
            _ => Format::Json,
        }
    }
}

/// Renders `report` in `format` (colour applies to the terminal table only).
pub fn write(report: &Report, format: Format, out: &mut impl Write, color: bool) -> std::io::Result<()> {
    match format {
        Format::Table => table::write(report, out, color),
        Format::Json => json::write(report, out),
        Format::Markdown => markdown::write(report, out),
        Format::Html => html::write(report, out),
    }
}

/// The one plain-language sentence for an end user: what works and what does not.
pub fn sentence(report: &Report) -> String {
    let Some(rc) = &report.diagnosis.root_cause else {
        return "Everything works: your computer is connected and the network answers as it should.".into();
    };
    let summary = lower_first(rc.summary.trim_end_matches('.'));
    match (report.diagnosis.status, rc.layer) {
        (RunStatus::Broken, CheckId::Link | CheckId::Wifi) => format!("{}.", upper_first(&summary)),
        (RunStatus::Broken, _) => format!("Your computer is connected, but {summary}."),
        _ => format!("Your connection works, but {summary}."),
    }
}

fn lower_first(s: &str) -> String {
    let mut c = s.chars();
    match c.next() {
        // Keep acronyms (DNS, IT) as they are.
        Some(f) if c.clone().next().is_some_and(|n| n.is_lowercase()) => f.to_lowercase().chain(c).collect(),
        Some(f) => std::iter::once(f).chain(c).collect(),
        None => String::new(),
    }
}

fn upper_first(s: &str) -> String {
    let mut c = s.chars();
    c.next().map(|f| f.to_uppercase().chain(c).collect()).unwrap_or_default()
}

/// The columns of the Wi-Fi neighbour table.
pub const NEIGHBOUR_COLUMNS: [&str; 6] = ["SSID", "BSSID", "Channel", "Band", "Signal", "Security"];

/// The access points a Wi-Fi scan heard, one row per AP, strongest first (pure; empty when no
/// scan ran). Also returns the best channels line, when the scan suggested any.
pub fn wifi_neighbours(report: &Report) -> (Vec<[String; 6]>, Option<String>) {
    let Some(wifi) = report.check(CheckId::Wifi) else { return (vec![], None) };
    let scan = &wifi.evidence["scan"];
    let s = |v: &Value| {
        v.as_str().map(str::to_string).unwrap_or_else(|| if v.is_null() { "-".into() } else { v.to_string() })
    };
    let mut aps: Vec<&Value> = scan["access_points"].as_array().into_iter().flatten().collect();
    aps.sort_by(|a, b| {
        let key = |v: &Value| v["signal_dbm"].as_f64().unwrap_or(f64::MIN);
        key(b).total_cmp(&key(a))
    });
    let rows = aps
        .into_iter()
        .map(|ap| {
            [
                ap["ssid"].as_str().map_or_else(|| "(hidden)".to_string(), str::to_string),
                s(&ap["bssid"]),
                s(&ap["channel"]),
                s(&ap["band"]),
                ap["signal_dbm"].as_f64().map_or_else(|| "-".to_string(), |d| format!("{d:.0} dBm")),
                s(&ap["security"]),
            ]
        })
        .collect();
    let best: Vec<String> = scan["best_channels"]
        .as_array()
        .into_iter()
        .flatten()
        .take(3)
        .filter_map(|c| c["channel"].as_u64().map(|ch| ch.to_string()))
        .collect();
    (rows, (!best.is_empty()).then(|| format!("Least crowded channels: {}", best.join(", "))))
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
            // Carrier is what the check judges; the kernel's operstate can lag behind it.
            let state = match (i["carrier"].as_bool(), i["oper_state"].as_str()) {
                (Some(true), Some("up") | None) => "up".to_string(),
                (Some(true), Some(op)) => format!("up (operstate {op})"),
                (_, Some(op)) => op.to_string(),
                (_, None) => "unknown".to_string(),
            };
            let mut parts = vec![format!("{} {state}", s(&i["name"]))];
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
        // A report of `nettriage analyze`: transactions seen in the capture.
        CheckId::Dhcp if ev["transactions_total"].is_number() => {
            let servers: Vec<String> =
                ev["servers"].as_array().into_iter().flatten().map(|sv| s(&sv["server"])).collect();
            format!("{} transaction(s) in the capture; servers: {}", ev["transactions_total"], servers.join(", "))
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
        CheckId::Wifi => {
            let l = &ev["link"];
            if !l.is_object() {
                return if ev["associated"] == false { "not associated".into() } else { String::new() };
            }
            let mut head = vec![l["ssid"].as_str().unwrap_or("hidden network").to_string()];
            if let Some(band) = l["band"].as_str() {
                head.push(band.replace("GHz", " GHz"));
            }
            if let Some(ch) = l["channel"].as_u64() {
                head.push(format!("ch {ch}"));
            }
            let mut parts = vec![head.join(" ")];
            if let Some(dbm) = l["signal_dbm"].as_f64() {
                parts.push(format!("{dbm:.0} dBm"));
            }
            if let Some(snr) = l["snr_db"].as_f64() {
                parts.push(format!("SNR {snr:.0} dB"));
            }
            if let Some(rate) = l["tx_bitrate_mbps"].as_f64() {
                parts.push(format!("{rate:.0} Mbit/s"));
            }
            parts.join(", ")
        }
    }
}

/// A fixed, realistic report (DNS down in the lab) for renderer tests and snapshots.
#[cfg(test)]
pub(crate) fn sample_report() -> Report {
    use crate::report::*;
    let check = |id, status, findings: Vec<Finding>, evidence: Value, blocked_by| CheckResult {
        id,
        status,
        duration_ms: if status == CheckStatus::Skipped { 0 } else { 3 },
        blocked_by,
        reason: (status == CheckStatus::Skipped).then(|| "not a wireless interface".to_string()),
        reason_code: (status == CheckStatus::Skipped)
            .then(|| if blocked_by.is_some() { SkipReason::Blocked } else { SkipReason::NotWireless }),
        findings,
        evidence,
    };
    let dns_fail = Finding {
        code: Code::DnsTimeout,
        severity: Severity::Fail,
        layer: CheckId::Dns,
        message: "198.18.0.1 did not answer for www.site.test, nt-abcdefgh.site.test".into(),
    };
    let checks = vec![
        check(
            CheckId::Link,
            CheckStatus::Pass,
            vec![],
            serde_json::json!({"interface": {"name": "eth0", "oper_state": "up", "mac": "02:00:00:00:00:10", "mtu": 1500},
                "speed_mbps": 1000, "duplex": "full", "selected_by": "default_route"}),
            None,
        ),
        check(CheckId::Wifi, CheckStatus::Skipped, vec![], serde_json::json!({"wireless": false}), None),
        check(
            CheckId::Dhcp,
            CheckStatus::Pass,
            vec![],
            serde_json::json!({"usable_ipv4": "198.18.0.10",
                "ipv4": [{"address": "198.18.0.10", "prefix_len": 24, "dynamic": true, "valid_lft_s": 3000}]}),
            None,
        ),
        check(
            CheckId::Gateway,
            CheckStatus::Pass,
            vec![],
            serde_json::json!({"gateways": [{"address": "198.18.0.1", "arp": {"status": "answered", "mac": "02:00:00:00:00:01"},
                "ping": {"sent": 5, "received": 4, "avg_ms": 0.25, "jitter_ms": 0.05,
                         "rtts_ms": [0.2, 0.3, null, 0.25, 0.25]}}]}),
            None,
        ),
        check(
            CheckId::Dns,
            CheckStatus::Fail,
            vec![dns_fail.clone()],
            serde_json::json!({"servers": [{"server": "198.18.0.1", "verdict": "dns.timeout", "avg_ms": null,
                "queries": [{"name": "www.site.test", "record_type": "A", "ms": null},
                            {"name": "www.site.test", "record_type": "AAAA", "ms": null}]}]}),
            None,
        ),
        check(
            CheckId::Ports,
            CheckStatus::Pass,
            vec![],
            serde_json::json!({"targets": [{"target": "198.18.1.2:8080", "outcome": "open", "ms": 0.4}]}),
            None,
        ),
    ];
    crate::report::test_report(checks, "2026-11-24T07:00:00.000Z", 3420)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn render(format: Format) -> String {
        let mut out = Vec::new();
        write(&sample_report(), format, &mut out, false).unwrap();
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn table_snapshot() {
        insta::assert_snapshot!(render(Format::Table));
    }

    #[test]
    fn markdown_snapshot_and_it_renders_as_a_table() {
        let md = render(Format::Markdown);
        insta::assert_snapshot!(md);
        let mut html = String::new();
        let parser = pulldown_cmark::Parser::new_ext(&md, pulldown_cmark::Options::ENABLE_TABLES);
        pulldown_cmark::html::push_html(&mut html, parser);
        assert!(html.contains("<table>") && html.contains("<td>Name servers (DNS)</td>"), "{html}");
        assert!(html.contains("<code>dns.timeout</code>"));
    }

    #[test]
    fn html_is_self_contained_and_embeds_the_report() {
        let html = render(Format::Html);
        for external in ["http://", "https://", "src=", "href=", "url(", "@import"] {
            assert!(!html.contains(external), "HTML references something external: {external}");
        }
        assert!(html.contains("Content-Security-Policy"));
        assert!(html.contains("<code id=\"root-cause\">dns.timeout</code>"));
        assert!(html.contains("<svg") && html.contains("lost"), "the RTT chart shows the lost probe");
        let marker = format!("<script type=\"application/json\" id=\"{}\">", html::JSON_ELEMENT_ID);
        let start = html.find(&marker).unwrap() + marker.len();
        let raw = &html[start..start + html[start..].find("</script>").unwrap()];
        let embedded: Report = serde_json::from_str(&raw.replace("<\\/", "</")).unwrap();
        assert_eq!(embedded, sample_report());
    }

    #[test]
    fn wifi_neighbours_appear_in_every_human_format() {
        let mut r = sample_report();
        let wifi = r.checks.iter_mut().find(|c| c.id == CheckId::Wifi).unwrap();
        wifi.evidence = serde_json::json!({"wireless": true, "scan": {"status": "ran",
            "access_points": [
                {"ssid": "Lab-2G", "bssid": "02:00:00:00:0a:01", "channel": 6, "band": "2.4", "signal_dbm": -71.0, "security": "wpa2"},
                {"ssid": null, "bssid": "02:00:00:00:0a:02", "channel": 36, "band": "5", "signal_dbm": -48.0, "security": "open"}
            ],
            "best_channels": [{"channel": 1}, {"channel": 11}]}});
        let (rows, best) = wifi_neighbours(&r);
        assert_eq!(rows[0][0], "(hidden)", "strongest first");
        assert_eq!(rows[1][4], "-71 dBm");
        assert_eq!(best.as_deref(), Some("Least crowded channels: 1, 11"));
        for format in [Format::Table, Format::Markdown, Format::Html] {
            let mut out = Vec::new();
            write(&r, format, &mut out, false).unwrap();
            let text = String::from_utf8(out).unwrap();
            assert!(text.contains("Lab-2G") && text.contains("Least crowded channels"), "{format:?}:\n{text}");
        }
    }

    #[test]
    fn json_round_trips() {
        let parsed: Report = serde_json::from_str(&render(Format::Json)).unwrap();
        assert_eq!(parsed, sample_report());
    }

    #[test]
    fn the_sentence_for_each_kind_of_run() {
        assert_eq!(
            sentence(&sample_report()),
            "Your computer is connected, but the network's name server is not answering, so websites cannot be found."
        );
    }

    #[test]
    fn sentences_name_what_works_and_what_does_not() {
        assert_eq!(lower_first("The router"), "the router");
        assert_eq!(lower_first("DNS is down"), "DNS is down");
        assert_eq!(upper_first("the cable"), "The cable");
    }
}
