//! `nettriage diff OLD.json NEW.json`: what changed between two reports — "it worked
//! yesterday" is a common ticket.
//!
//! Works on deserialised [`Report`]s, whose reading is tolerant, so it compares reports of
//! other versions too: codes this build does not know read as themselves, fields added
//! later are ignored, checks of layers it does not know are left out, and evidence that
//! does not fit this version's types simply has no latencies. Compares the run status, each layer's status, findings (matched by layer and code) and
//! the latencies a technician watches: gateway RTT, each DNS server's answer time, each
//! TCP target's connect time. Pure; the renderers below write to `&mut impl Write`.

use std::collections::BTreeMap;
use std::io::Write;

use comfy_table::presets::UTF8_FULL_CONDENSED;
use comfy_table::{ContentArrangement, Table};
use serde::Serialize;
use serde_json::Value;

use crate::report::Report;

/// One side of the comparison.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Side {
    /// When that run started.
    pub started_at: String,
    /// Its run status.
    pub status: String,
    /// Its root cause code, if any.
    pub root_cause: Option<String>,
}

/// A layer's status then and now.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LayerChange {
    /// The check id.
    pub id: String,
    /// Status in the old report (`null` when absent).
    pub old_status: Option<String>,
    /// Status in the new report.
    pub new_status: Option<String>,
    /// Whether they differ.
    pub changed: bool,
}

/// A finding present on one side only.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FindingChange {
    /// The finding code.
    pub code: String,
    /// The layer.
    pub layer: String,
    /// `warn` or `fail`.
    pub severity: String,
    /// Its message.
    pub message: String,
}

/// A latency measured in both reports.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LatencyChange {
    /// What was measured, e.g. `gateway 198.18.0.1 avg RTT`.
    pub what: String,
    /// Then.
    pub old_ms: f64,
    /// Now.
    pub new_ms: f64,
    /// Now minus then.
    pub change_ms: f64,
}

/// The differences between two reports.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Diff {
    /// The older report.
    pub old: Side,
    /// The newer report.
    pub new: Side,
    /// Whether the run status changed.
    pub status_changed: bool,
    /// Every layer in either report.
    pub layers: Vec<LayerChange>,
    /// Findings only in the new report.
    pub new_findings: Vec<FindingChange>,
    /// Findings only in the old report.
    pub resolved_findings: Vec<FindingChange>,
    /// Latencies measured in both.
    pub latency: Vec<LatencyChange>,
}

/// Checks that `v` looks like a nettriage report this version can compare.
pub fn validate(v: &Value) -> Result<(), ReadError> {
    match v.get("schema_version").and_then(Value::as_str) {
        Some("1") => {}
        Some(other) => return Err(ReadError::UnsupportedVersion(other.to_string())),
        None => return Err(ReadError::Missing("schema_version")),
    }
    if !v.get("checks").is_some_and(Value::is_array) {
        return Err(ReadError::Missing("checks array"));
    }
    Ok(())
}

/// JSON that is not a report this build can read.
#[derive(Debug, thiserror::Error)]
pub enum ReadError {
    /// A schema version other than "1".
    #[error("schema_version {0} is not supported (this build reads \"1\")")]
    UnsupportedVersion(String),
    /// A field every report has is missing.
    #[error("not a nettriage report (no {0})")]
    Missing(&'static str),
    /// The report's fields do not read (a bad start time, a status no version writes, ...).
    #[error("not a nettriage report: {0}")]
    Invalid(#[source] serde_json::Error),
}

fn side(r: &Report) -> Side {
    Side {
        started_at: r.started_at.to_string(),
        status: r.diagnosis.status.as_str().to_string(),
        root_cause: r.diagnosis.root_cause.as_ref().map(|rc| rc.code.as_str().to_string()),
    }
}

fn findings(r: &Report) -> Vec<FindingChange> {
    r.diagnosis
        .findings
        .iter()
        .map(|f| FindingChange {
            code: f.code.as_str().to_string(),
            layer: f.layer.as_str().to_string(),
            severity: match f.severity {
                crate::report::Severity::Warn => "warn",
                crate::report::Severity::Fail => "fail",
            }
            .to_string(),
            message: f.message.clone(),
        })
        .collect()
}

/// The latencies of a report, by what was measured.
fn latencies(r: &Report) -> BTreeMap<String, f64> {
    let mut out = BTreeMap::new();
    for g in r.gateway_evidence().map(|e| e.gateways.as_slice()).unwrap_or_default() {
        if let Some(ms) = g.ping.as_ref().and_then(|p| p.avg_ms) {
            out.insert(format!("gateway {} avg RTT", g.address), ms);
        }
    }
    for s in r.dns_evidence().map(|e| e.servers.as_slice()).unwrap_or_default() {
        if let Some(ms) = s.avg_ms {
            out.insert(format!("dns {} avg answer", s.server), ms);
        }
    }
    for t in r.ports_evidence().map(|e| e.targets.as_slice()).unwrap_or_default() {
        if let (Some(ms), crate::check::ports::PortOutcome::Open) = (t.ms, t.outcome) {
            out.insert(format!("port {} connect", t.target), ms);
        }
    }
    out
}

/// Compares two reports (pure).
pub fn diff(old: &Report, new: &Report) -> Diff {
    let statuses = |r: &Report| -> BTreeMap<String, String> {
        r.checks.iter().map(|c| (c.id.as_str().to_string(), c.status.as_str().to_string())).collect()
    };
    let (old_st, new_st) = (statuses(old), statuses(new));
    // Layers in the order of the newer report, then any only the old one has.
    let mut ids: Vec<String> = new.checks.iter().map(|c| c.id.as_str().to_string()).collect();
    for id in old_st.keys() {
        if !ids.contains(id) {
            ids.push(id.clone());
        }
    }
    let layers = ids
        .into_iter()
        .map(|id| {
            let (o, n) = (old_st.get(&id).cloned(), new_st.get(&id).cloned());
            LayerChange { changed: o != n, id, old_status: o, new_status: n }
        })
        .collect();
    let (old_f, new_f) = (findings(old), findings(new));
    let key = |f: &FindingChange| (f.layer.clone(), f.code.clone());
    let new_findings = new_f.iter().filter(|f| !old_f.iter().any(|o| key(o) == key(f))).cloned().collect();
    let resolved_findings = old_f.iter().filter(|f| !new_f.iter().any(|n| key(n) == key(f))).cloned().collect();
    let (old_l, new_l) = (latencies(old), latencies(new));
    let latency = new_l
        .iter()
        .filter_map(|(what, &n)| {
            old_l.get(what).map(|&o| LatencyChange {
                what: what.clone(),
                old_ms: o,
                new_ms: n,
                change_ms: ((n - o) * 1000.0).round() / 1000.0,
            })
        })
        .collect();
    let (o, n) = (side(old), side(new));
    Diff { status_changed: o.status != n.status, old: o, new: n, layers, new_findings, resolved_findings, latency }
}

/// Reads a report for comparison: [`validate`]s the JSON, then deserialises it tolerantly.
pub fn read(v: Value) -> Result<Report, ReadError> {
    validate(&v)?;
    serde_json::from_value(v).map_err(ReadError::Invalid)
}

/// Writes a readable summary of `d`.
pub fn write_table(d: &Diff, out: &mut impl Write) -> std::io::Result<()> {
    let rc = |s: &Side| s.root_cause.as_deref().map(|c| format!(" ({c})")).unwrap_or_default();
    writeln!(out, "old: {} {}{}", d.old.started_at, d.old.status, rc(&d.old))?;
    writeln!(out, "new: {} {}{}", d.new.started_at, d.new.status, rc(&d.new))?;
    if d.status_changed {
        writeln!(out, "Status changed: {} -> {}", d.old.status, d.new.status)?;
    } else {
        writeln!(out, "Status unchanged: {}", d.new.status)?;
    }
    let mut table = Table::new();
    table.load_style(UTF8_FULL_CONDENSED).set_content_arrangement(ContentArrangement::Dynamic).force_no_tty();
    table.set_header(["Layer", "Old", "New", ""]);
    for l in &d.layers {
        let dash = |s: &Option<String>| s.clone().unwrap_or_else(|| "-".into());
        table.add_row([
            l.id.clone(),
            dash(&l.old_status),
            dash(&l.new_status),
            if l.changed { "changed" } else { "" }.into(),
        ]);
    }
    writeln!(out, "{table}")?;
    for (title, list) in [("New findings", &d.new_findings), ("Resolved findings", &d.resolved_findings)] {
        if !list.is_empty() {
            writeln!(out, "{title}:")?;
            for f in list {
                writeln!(out, "  {} {}: {}", f.severity.to_uppercase(), f.code, f.message)?;
            }
        }
    }
    if !d.latency.is_empty() {
        writeln!(out, "Latency:")?;
        for l in &d.latency {
            writeln!(out, "  {}: {:.2} ms -> {:.2} ms ({:+.2} ms)", l.what, l.old_ms, l.new_ms, l.change_ms)?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn report(status: &str, dns: &str, findings: Value, rtt: f64) -> Report {
        read(json!({
            "schema_version": "1",
            "started_at": "2026-11-24T07:00:00Z",
            "diagnosis": {"status": status, "root_cause": null, "findings": findings},
            "checks": [
                {"id": "gateway", "status": "pass", "evidence": {"gateways": [{"address": "198.18.0.1",
                    "arp": {"status": "answered"}, "ping": {"loss_ratio": 0.0, "avg_ms": rtt}}]}},
                {"id": "dns", "status": dns, "evidence": {"source": "/etc/resolv.conf", "cache_buster": "nt-x.test",
                    "servers": [{"server": "198.18.0.1", "verdict": "ok", "avg_ms": null}]}},
                {"id": "ports", "status": "pass", "evidence": {"targets": [{"target": "198.18.1.2:8080", "outcome": "open", "ms": 0.4}]}},
                {"id": "wifi", "status": "skipped", "evidence": null}
            ]
        }))
        .unwrap()
    }

    #[test]
    fn a_new_failure_and_a_slower_gateway() {
        let old = report("healthy", "pass", json!([]), 0.25);
        let new = report(
            "broken",
            "fail",
            json!([{"code": "dns.timeout", "layer": "dns", "severity": "fail", "message": "no answer"}]),
            1.25,
        );
        let d = diff(&old, &new);
        assert!(d.status_changed);
        assert_eq!(d.new_findings.len(), 1);
        assert!(d.resolved_findings.is_empty());
        let dns = d.layers.iter().find(|l| l.id == "dns").unwrap();
        assert_eq!(
            (dns.old_status.as_deref(), dns.new_status.as_deref(), dns.changed),
            (Some("pass"), Some("fail"), true)
        );
        let gw = d.latency.iter().find(|l| l.what.starts_with("gateway")).unwrap();
        assert_eq!(gw.change_ms, 1.0);
        // The reverse direction resolves the finding.
        let back = diff(&new, &old);
        assert_eq!(back.resolved_findings[0].code, "dns.timeout");
        let mut out = Vec::new();
        write_table(&d, &mut out).unwrap();
        let text = String::from_utf8(out).unwrap();
        assert!(
            text.contains("healthy -> broken") && text.contains("dns.timeout") && text.contains("+1.00 ms"),
            "{text}"
        );
    }

    #[test]
    fn unknown_codes_fields_and_missing_evidence_are_tolerated() {
        let old = read(json!({"schema_version": "1", "started_at": "2026-11-24T07:00:00Z",
            "checks": [{"id": "dns", "status": "pass"}], "future": {"x": 1},
            "diagnosis": {"status": "healthy", "root_cause": null}}))
        .unwrap();
        let new = read(json!({"schema_version": "1", "started_at": "2026-11-24T08:00:00Z",
            "checks": [{"id": "dns", "status": "warn", "evidence": {"servers": "a shape of another version"}},
                       {"id": "vpn", "status": "pass"}],
            "diagnosis": {"status": "degraded", "findings": [
                {"code": "dns.dnssec_bogus", "layer": "dns", "severity": "warn"},
                {"code": "vpn.tunnel_down", "layer": "vpn", "severity": "fail"}]}}))
        .unwrap();
        let d = diff(&old, &new);
        // The unknown code compares as itself; the layer this build does not know is left out.
        assert_eq!(d.new_findings.len(), 1);
        assert_eq!(d.new_findings[0].code, "dns.dnssec_bogus");
        assert_eq!(d.layers.iter().map(|l| l.id.as_str()).collect::<Vec<_>>(), ["dns"]);
        assert!(d.layers[0].changed);
        assert!(d.latency.is_empty());
    }

    #[test]
    fn a_stored_report_of_a_newer_version_compares_with_its_latencies() {
        let old = report("healthy", "pass", json!([]), 0.25);
        let mut value = serde_json::to_value(report("degraded", "warn", json!([]), 0.75)).unwrap();
        value["diagnosis"]["findings"] = json!([{"code": "dns.brand_new_code", "layer": "dns", "severity": "warn",
            "message": "new", "confidence": 0.9}]);
        value["diagnosis"]["root_cause"] = json!({"code": "dns.brand_new_code", "layer": "dns", "summary": "s",
            "next_steps": [], "added_later": true});
        value["checks"][0]["evidence"]["gateways"][0]["vlan"] = json!(10);
        value["added_later"] = json!({"x": 1});
        let new = read(value).unwrap();
        let d = diff(&old, &new);
        assert_eq!(d.new.root_cause.as_deref(), Some("dns.brand_new_code"));
        assert_eq!(d.new_findings[0].code, "dns.brand_new_code");
        let gw = d.latency.iter().find(|l| l.what.starts_with("gateway")).unwrap();
        assert_eq!(gw.change_ms, 0.5);
    }

    #[test]
    fn wrong_files_are_refused_clearly() {
        assert!(matches!(validate(&json!({"hello": 1})), Err(ReadError::Missing("schema_version"))));
        assert!(
            matches!(validate(&json!({"schema_version": "2", "checks": []})), Err(ReadError::UnsupportedVersion(v)) if v == "2")
        );
        assert!(validate(&json!({"schema_version": "1"})).is_err());
        assert!(matches!(read(json!({"schema_version": "1", "checks": []})), Err(ReadError::Invalid(_))));
    }
}
