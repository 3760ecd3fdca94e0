//! One self-contained HTML report: verdict banner, layer ladder coloured by status,
//! per-layer evidence, inline SVG charts of the ping RTTs and DNS latencies, and the raw
//! JSON embedded for machines. No external assets, no scripts: a Content-Security-Policy
//! of `default-src 'none'` makes any accidental network request fail loudly.

use std::fmt::Write as _;
use std::io::Write;

use crate::report::{CheckStatus, Report, RunStatus, Severity};

/// The id of the `<script type="application/json">` element holding the raw report.
pub const JSON_ELEMENT_ID: &str = "nettriage-report";

/// Escapes text for HTML element content and attribute values.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            _ => out.push(c),
        }
    }
    out
}

fn status_class(status: CheckStatus) -> &'static str {
    status.as_str()
}

fn run_class(status: RunStatus) -> &'static str {
    status.as_str()
}

const STYLE: &str = "
body{font-family:system-ui,-apple-system,'Segoe UI',sans-serif;margin:0;color:#1d2330;background:#f5f6f8}
main{max-width:960px;margin:0 auto;padding:1.5rem}
.banner{padding:1.2rem 1.5rem;border-radius:10px;color:#fff;margin-bottom:1rem}
.banner h1{margin:0 0 .4rem;font-size:1.6rem}.banner p{margin:.2rem 0;font-size:1.1rem}
.banner.healthy{background:#1e8a4c}.banner.degraded{background:#b7791f}.banner.broken{background:#c0392b}.banner.unknown{background:#5d6778}
.meta{color:#555;font-size:.9rem;margin-bottom:1rem}
ol.ladder{list-style:none;padding:0;margin:0 0 1.5rem}
ol.ladder li{display:grid;grid-template-columns:minmax(0,13rem) 5.5rem minmax(0,1fr);gap:1rem;align-items:center;
 background:#fff;border-left:8px solid #999;border-radius:6px;padding:.6rem 1rem;margin:.35rem 0}
ol.ladder li>span{overflow-wrap:anywhere}
ol.ladder li .name{font-weight:600}ol.ladder li .st{text-transform:uppercase;font-size:.85rem}
li.pass{border-color:#1e8a4c!important}li.warn{border-color:#d69e2e!important}li.fail{border-color:#c0392b!important}
li.skipped{border-color:#a0aec0!important;color:#666}li.error{border-color:#805ad5!important}
section{background:#fff;border-radius:8px;padding:1rem 1.2rem;margin:1rem 0}
h2{font-size:1.2rem;margin-top:0}code,pre{font-family:ui-monospace,monospace;font-size:.85rem}
pre{background:#f0f2f5;padding:.8rem;border-radius:6px;overflow-x:auto}
.finding.fail{color:#c0392b}.finding.warn{color:#975a16}
figure{margin:.5rem 0}figure svg{display:block;width:100%;height:auto}
svg text{font-family:system-ui,sans-serif;font-size:11px;fill:#333}
table{border-collapse:collapse}td,th{padding:.25rem .7rem;border-bottom:1px solid #e2e5ea;text-align:left}
.probe{border-top:1px solid #e2e5ea;padding-top:.6rem;margin-top:.6rem}.probe h3{font-size:1rem;margin:.2rem 0}
.probe h3 code{overflow-wrap:anywhere}ol.chain{margin:.3rem 0;padding-left:1.4rem;overflow-wrap:anywhere}
.legend span{display:inline-block;margin-right:.9rem;font-size:.85rem}
.legend i{display:inline-block;width:.8rem;height:.8rem;margin-right:.3rem;vertical-align:-.1rem}
.ph-resolve{fill:#8e6ccf;background:#8e6ccf}.ph-connect{fill:#3b82c4;background:#3b82c4}
.ph-tls{fill:#d69e2e;background:#d69e2e}.ph-processing{fill:#1e8a4c;background:#1e8a4c}
.ph-transfer{fill:#5d6778;background:#5d6778}.portal{font-weight:600;color:#c0392b}
";

/// Writes the report as one HTML document.
pub fn write(report: &Report, out: &mut impl Write) -> std::io::Result<()> {
    let mut h = String::with_capacity(32 * 1024);
    let d = &report.diagnosis;
    let capture = super::analysed_capture(report);
    let about = capture.map_or_else(|| report.host.hostname.clone(), |path| format!("capture {path}"));
    let title = format!("nettriage: {} on {about}", d.status.as_str());
    let _ = write!(
        h,
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'\">\
         <meta name=\"viewport\" content=\"width=device-width,initial-scale=1\">\
         <title>{}</title><style>{STYLE}</style></head><body><main>\n",
        escape(&title)
    );

    // Banner: the verdict and the one sentence, root cause code for the technician.
    let _ = write!(
        h,
        "<div class=\"banner {}\" id=\"verdict\"><h1>{}</h1><p>{}</p>",
        run_class(d.status),
        escape(&d.status.as_str().to_uppercase()),
        escape(&super::sentence(report))
    );
    if let Some(line) = super::neighbour_line(report) {
        let _ = write!(h, "<p id=\"neighbour\">{}</p>", escape(&line));
    }
    if let Some(rc) = &d.root_cause {
        let _ = write!(h, "<p>Root cause: <code id=\"root-cause\">{}</code> ({} layer)</p>", rc.code, rc.layer);
    }
    h.push_str("</div>\n");
    let _ = writeln!(
        h,
        "<div class=\"meta\">{}, started {}, took {} ms, nettriage {}{}.</div>",
        match capture {
            Some(path) => format!("Capture <b>{}</b>", escape(path)),
            None => format!(
                "Host <b>{}</b>, interface <b>{}</b>",
                escape(&report.host.hostname),
                escape(report.interface.as_deref().unwrap_or("none"))
            ),
        },
        escape(&report.started_at.to_string()),
        report.duration_ms,
        escape(&report.tool.version),
        if report.redacted { ", redacted" } else { "" }
    );

    let capture = super::capture_rows(report);
    if !capture.is_empty() {
        h.push_str("<section><h2>Capture</h2><table class=\"capture\">");
        for (label, value) in &capture {
            let _ = write!(h, "<tr><th>{}</th><td>{}</td></tr>", escape(label), escape(value));
        }
        h.push_str("</table></section>\n");
    }

    // The layer ladder.
    h.push_str("<ol class=\"ladder\">\n");
    for c in &report.checks {
        let _ = writeln!(
            h,
            "<li class=\"{}\"><span class=\"name\">{}</span><span class=\"st\">{}</span><span>{}</span></li>",
            status_class(c.status),
            escape(c.id.title()),
            c.status.as_str(),
            escape(&super::details(c))
        );
    }
    h.push_str("</ol>\n");

    if let Some(rc) = &d.root_cause {
        let _ = write!(h, "<section><h2>What to do</h2><p>{}</p><ol>", escape(&rc.summary));
        for step in &rc.next_steps {
            let _ = write!(h, "<li>{}</li>", escape(step));
        }
        h.push_str("</ol></section>\n");
    }
    if !d.findings.is_empty() {
        h.push_str("<section><h2>Findings</h2><ul>");
        for f in &d.findings {
            let sev = if f.severity == Severity::Fail { "fail" } else { "warn" };
            let _ = write!(
                h,
                "<li class=\"finding {sev}\"><b>{}</b> <code>{}</code>: {}</li>",
                sev.to_uppercase(),
                f.code,
                escape(&f.message)
            );
        }
        h.push_str("</ul></section>\n");
    }

    let web = web_section(report);
    if !web.is_empty() {
        let _ = writeln!(h, "<section id=\"web\"><h2>Web</h2>{web}</section>");
    }

    for section in super::dual_stack::sections(report) {
        let _ = write!(h, "<section id=\"{}\"><h2>{}</h2><table><tr>", section.id, escape(&section.title));
        for col in section.columns {
            let _ = write!(h, "<th>{}</th>", escape(col));
        }
        h.push_str("</tr>");
        for row in &section.rows {
            h.push_str("<tr>");
            for cell in row {
                let _ = write!(h, "<td>{}</td>", escape(cell));
            }
            h.push_str("</tr>");
        }
        h.push_str("</table></section>\n");
    }

    let charts = charts(report);
    if !charts.is_empty() {
        let _ = writeln!(h, "<section><h2>Latency</h2>{charts}</section>");
    }

    let (neighbours, best) = super::wifi_neighbours(report);
    if !neighbours.is_empty() {
        h.push_str("<section><h2>Wi-Fi neighbours</h2><table><tr>");
        for col in super::NEIGHBOUR_COLUMNS {
            let _ = write!(h, "<th>{col}</th>");
        }
        h.push_str("</tr>");
        for row in neighbours {
            h.push_str("<tr>");
            for cell in row {
                let _ = write!(h, "<td>{}</td>", escape(&cell));
            }
            h.push_str("</tr>");
        }
        h.push_str("</table>");
        if let Some(best) = best {
            let _ = write!(h, "<p>{}</p>", escape(&best));
        }
        h.push_str("</section>\n");
    }

    for c in &report.checks {
        let _ = write!(h, "<section id=\"check-{}\"><h2>{} ({})</h2>", c.id, escape(c.id.title()), c.status.as_str());
        if let Some(reason) = &c.reason {
            let _ = write!(h, "<p>{}</p>", escape(reason));
        }
        if !c.evidence.is_none() {
            let json = serde_json::to_string_pretty(&c.evidence).unwrap_or_default();
            let _ = write!(h, "<details><summary>Evidence</summary><pre>{}</pre></details>", escape(&json));
        }
        h.push_str("</section>\n");
    }

    // The raw report for machines; `</` is escaped so the JSON cannot close the element.
    let raw = serde_json::to_string(report).map_err(std::io::Error::other)?.replace("</", "<\\/");
    let _ =
        write!(h, "<script type=\"application/json\" id=\"{JSON_ELEMENT_ID}\">{raw}</script>\n</main></body></html>\n");
    out.write_all(h.as_bytes())
}

/// The web layer (empty without web evidence): per probe (the connectivity probe, then
/// each URL target) its status and total time, a bar of the phases of every request of its
/// redirect chain on one time scale, the chain itself, and each HTTPS request's TLS
/// session and certificates in a `<details>`.
fn web_section(report: &Report) -> String {
    use crate::check::web::{ConnectivityState, WebProbe};
    let Some(web) = report.web_evidence() else { return String::new() };
    let mut probes: Vec<(String, &WebProbe, Option<&str>)> = Vec::new();
    if let Some(c) = &web.connectivity {
        let portal = c.portal_url.as_deref().filter(|_| c.state == ConnectivityState::Portal);
        probes.push((format!("Connectivity check ({})", c.state.as_str()), &c.probe, portal));
    }
    probes.extend(web.targets.iter().map(|t| ("URL".to_string(), t, None)));
    if probes.is_empty() {
        return String::new();
    }
    // One time scale for every bar, so the probes compare at a glance.
    let scale = probes
        .iter()
        .flat_map(|(_, p, _)| p.hops.iter())
        .map(|hop| hop.phase_ms().iter().filter_map(|(_, ms)| *ms).sum::<f64>())
        .fold(0.0_f64, f64::max)
        .max(0.001);
    let mut h = String::from("<p class=\"legend\">");
    for phase in PHASES {
        let _ = write!(h, "<span><i class=\"ph-{}\"></i>{}</span>", phase.as_str(), super::phase_label(phase));
    }
    h.push_str("</p>");
    for (label, probe, portal) in probes {
        let url = super::without_credentials(&probe.url);
        let _ = write!(h, "<div class=\"probe\"><h3>{}: <code>{}</code></h3><p>", escape(&label), escape(&url));
        let _ = write!(h, "Status: <b>{}</b>", escape(&super::web_status(probe)));
        if let Some(ms) = probe.total_ms {
            let _ = write!(h, ", total {ms:.1} ms");
        }
        h.push_str("</p>");
        if let Some(portal) = portal {
            let _ = write!(
                h,
                "<p class=\"portal\">Captive portal: sign in at <code>{}</code></p>",
                escape(&super::without_credentials(portal))
            );
        }
        h.push_str(&phase_bars(probe, scale));
        if probe.hops.len() > 1 {
            h.push_str("<ol class=\"chain\">");
            for hop in &probe.hops {
                let status = hop.status.map_or_else(|| "no answer".to_string(), |s| s.to_string());
                let _ =
                    write!(h, "<li>{} <code>{}</code>", escape(&status), escape(&super::without_credentials(&hop.url)));
                if let Some(to) = hop.location.as_deref().filter(|_| hop.redirects()) {
                    let _ = write!(h, " → <code>{}</code>", escape(&super::without_credentials(to)));
                }
                h.push_str("</li>");
            }
            h.push_str("</ol>");
        }
        for hop in probe.hops.iter().filter(|hop| hop.tls.is_some()) {
            h.push_str(&tls_details(hop, report.started_at));
        }
        h.push_str("</div>");
    }
    h
}

/// The phases in the order of a request.
const PHASES: [crate::check::web::Phase; 5] = {
    use crate::check::web::Phase;
    [Phase::Resolve, Phase::Connect, Phase::Tls, Phase::Processing, Phase::Transfer]
};

/// One horizontal bar per request of `probe`'s chain: a segment per measured phase
/// (its width in proportion to `scale` ms), then the request's time or the phase that
/// failed.
fn phase_bars(probe: &crate::check::web::WebProbe, scale: f64) -> String {
    if probe.hops.is_empty() {
        return String::new();
    }
    let (label_w, plot_w, row) = (70.0, 520.0, 20.0);
    let height = 6.0 + row * probe.hops.len() as f64;
    let mut s = format!(
        "<figure><svg class=\"phases\" role=\"img\" aria-label=\"{}\" viewBox=\"0 0 {} {height}\" \
         preserveAspectRatio=\"xMinYMin meet\" style=\"max-width:{}px\">",
        escape(&format!("Phases of {}", super::without_credentials(&probe.url))),
        label_w + plot_w + 110.0,
        label_w + plot_w + 110.0
    );
    for (i, hop) in probe.hops.iter().enumerate() {
        let y = 4.0 + row * i as f64;
        let name = if i == 0 { "request".to_string() } else { format!("redirect {i}") };
        let _ = write!(s, "<text x=\"0\" y=\"{:.0}\">{name}</text>", y + 12.0);
        let mut x = label_w;
        for (phase, ms) in hop.phase_ms() {
            let Some(ms) = ms else { continue };
            let w = ms / scale * plot_w;
            let _ = write!(
                s,
                "<rect class=\"ph-{}\" x=\"{x:.1}\" y=\"{y:.0}\" width=\"{:.1}\" height=\"{}\">\
                 <title>{} {ms:.1} ms</title></rect>",
                phase.as_str(),
                w.max(0.5),
                row - 6.0,
                super::phase_label(phase)
            );
            x += w;
        }
        let end = match (&hop.error, hop.total_ms) {
            (Some(e), _) if e.phase != crate::check::web::Phase::Transfer => {
                format!("{} failed{}", super::phase_label(e.phase), if e.timeout { " (timeout)" } else { "" })
            }
            (_, Some(ms)) => format!("{ms:.1} ms"),
            _ => String::new(),
        };
        let _ = write!(s, "<text x=\"{:.1}\" y=\"{:.0}\">{}</text>", x + 4.0, y + 12.0, escape(&end));
    }
    s.push_str("</svg></figure>");
    s
}

/// Whole days from `now` to `t` (negative once past).
fn days_between(now: crate::types::Timestamp, t: crate::types::Timestamp) -> i64 {
    let secs = |t: crate::types::Timestamp| match t.0.duration_since(std::time::UNIX_EPOCH) {
        Ok(d) => d.as_secs_f64(),
        Err(e) => -e.duration().as_secs_f64(),
    };
    ((secs(t) - secs(now)) / 86_400.0).floor() as i64
}

/// An HTTPS request's TLS session and its certificates, folded.
fn tls_details(hop: &crate::check::web::HttpHop, now: crate::types::Timestamp) -> String {
    let Some(tls) = &hop.tls else { return String::new() };
    let mut summary = vec![format!("TLS of {}: {}", super::without_credentials(&hop.url), tls_verdict(tls.verdict))];
    summary.extend(tls.version.clone());
    summary.extend(tls.cipher.clone());
    summary.extend(tls.alpn.as_ref().map(|a| format!("ALPN {a}")));
    if let Some(days) = tls.chain.first().and_then(|c| c.not_after).map(|t| days_between(now, t)) {
        summary.push(days_left(days));
    }
    let mut h = format!("<details class=\"tls\"><summary>{}</summary>", escape(&summary.join(", ")));
    if let Some(error) = &tls.error {
        let _ = write!(h, "<p>{}</p>", escape(&super::without_credentials(error)));
    }
    if !tls.chain.is_empty() {
        h.push_str(
            "<table class=\"chain\"><tr><th>#</th><th>Subject</th><th>Issuer</th><th>Names (SAN)</th>\
             <th>Valid from</th><th>Valid until</th><th>Days left</th></tr>",
        );
        for (i, c) in tls.chain.iter().enumerate() {
            let when = |t: Option<crate::types::Timestamp>| t.map_or_else(|| "-".to_string(), |t| t.to_string());
            let _ = write!(
                h,
                "<tr><td>{i}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
                escape(&c.subject),
                escape(&c.issuer),
                escape(&c.sans.join(", ")),
                escape(&when(c.not_before)),
                escape(&when(c.not_after)),
                c.not_after.map_or_else(|| "-".to_string(), |t| days_left(days_between(now, t)))
            );
        }
        h.push_str("</table>");
    }
    h.push_str("</details>");
    h
}

/// `41 days left`, `expired 3 days ago`.
fn days_left(days: i64) -> String {
    if days >= 0 { format!("{days} days left") } else { format!("expired {} days ago", -days) }
}

/// A TLS verdict in words (its report name, spaced: `hostname mismatch`).
fn tls_verdict(v: crate::check::web::TlsVerdict) -> String {
    serde_json::to_value(v).ok().and_then(|v| v.as_str().map(|s| s.replace('_', " "))).unwrap_or_default()
}

/// The RTT and DNS latency charts, as inline SVG (empty when there is nothing to plot).
fn charts(report: &Report) -> String {
    let mut out = String::new();
    for g in report.gateway_evidence().map(|e| e.gateways.as_slice()).unwrap_or_default() {
        let Some(ping) = &g.ping else { continue };
        let bars: Vec<(String, Result<f64, &str>)> =
            ping.rtts_ms.iter().enumerate().map(|(i, v)| (format!("#{}", i + 1), v.ok_or("lost"))).collect();
        if !bars.is_empty() {
            out.push_str(&bar_chart(&format!("Ping RTT to gateway {}", g.address), &bars));
        }
    }
    if let Some(dns) = report.dns_evidence() {
        let bars: Vec<(String, Result<f64, &str>)> = dns
            .servers
            .iter()
            .flat_map(|s| s.queries.iter().map(move |q| (format!("{} {}", s.server, query_label(q)), query_time(q))))
            .collect();
        if !bars.is_empty() {
            out.push_str(&bar_chart("DNS answer time per query", &bars));
        }
    }
    out
}

/// What a DNS query was for, in the chart: its record type, or, for the random name
/// asked to get past caches, that an NXDOMAIN is the expected answer.
fn query_label(q: &crate::check::dns::QueryResult) -> String {
    if q.cache_buster { "random name (NXDOMAIN expected)".to_string() } else { q.record_type.clone() }
}

/// A DNS query's time, or the word for why it has none.
fn query_time(q: &crate::check::dns::QueryResult) -> Result<f64, &'static str> {
    use crate::check::dns::QueryOutcome;
    q.ms.ok_or(match q.outcome {
        QueryOutcome::Timeout => "timeout",
        QueryOutcome::Unreachable => "unreachable",
        QueryOutcome::LocalError => "local error",
        _ => "no time",
    })
}

/// A horizontal bar chart of times in ms; an `Err` bar shows its word instead (`lost`,
/// `timeout`). The SVG scales to the width of its container (viewBox, width 100 %).
pub fn bar_chart(title: &str, bars: &[(String, Result<f64, &str>)]) -> String {
    let max = bars.iter().filter_map(|(_, v)| v.ok()).fold(0.0_f64, f64::max).max(0.001);
    let row = 18;
    // Wide enough for the longest label at about 6.5 px a character.
    let label_w = bars.iter().map(|(l, _)| l.chars().count() * 13 / 2 + 12).max().unwrap_or(0).max(60);
    let plot_w = 520;
    let height = 24 + row * bars.len();
    let mut s = format!(
        "<figure><svg role=\"img\" aria-label=\"{t}\" viewBox=\"0 0 {w} {height}\" \
         preserveAspectRatio=\"xMinYMin meet\" style=\"max-width:{w}px\">\
         <text x=\"0\" y=\"14\" font-weight=\"bold\">{t}</text>",
        t = escape(title),
        w = label_w + plot_w + 80,
    );
    for (i, (label, value)) in bars.iter().enumerate() {
        let y = 22 + i * row;
        let _ = write!(s, "<text x=\"0\" y=\"{}\">{}</text>", y + 12, escape(label));
        match value {
            Ok(v) => {
                let w = ((v / max) * plot_w as f64).max(1.0);
                let _ = write!(
                    s,
                    "<rect x=\"{label_w}\" y=\"{y}\" width=\"{w:.1}\" height=\"{}\" fill=\"#3b82c4\"/>\
                     <text x=\"{}\" y=\"{}\">{v:.2} ms</text>",
                    row - 4,
                    label_w as f64 + w + 4.0,
                    y + 12
                );
            }
            Err(word) => {
                let _ = write!(s, "<text x=\"{label_w}\" y=\"{}\" fill=\"#c0392b\">{}</text>", y + 12, escape(word));
            }
        }
    }
    s.push_str("</svg></figure>");
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_markup() {
        assert_eq!(escape("<a href=\"x\">&'"), "&lt;a href=&quot;x&quot;&gt;&amp;&#39;");
    }

    #[test]
    fn dns_chart_names_the_random_name_query_and_says_timeout() {
        use crate::report::fixtures::typed;
        let mut report = crate::render::sample_report();
        let q = |rtype: &str, outcome: &str, ms: Option<f64>, buster: bool| {
            serde_json::json!({"name": if buster { "nt-abcdefgh.site.test" } else { "www.site.test" },
                "record_type": rtype, "outcome": outcome, "ms": ms, "attempts": 1, "cache_buster": buster})
        };
        let dns = crate::report::Evidence::Dns(Box::new(typed(serde_json::json!({
            "source": "/etc/resolv.conf", "names": ["www.site.test"], "cache_buster": "nt-abcdefgh.site.test",
            "servers": [{"server": "198.18.0.1", "verdict": "dns.timeout", "avg_ms": 1.0, "queries": [
                q("A", "answer", Some(1.0), false), q("AAAA", "timeout", None, false),
                q("A", "nxdomain", Some(1.2), true)]}]}))));
        report.checks.iter_mut().find(|c| c.id == crate::report::CheckId::Dns).unwrap().evidence = dns;
        let svg = charts(&report);
        let dns_chart = &svg[svg.find("DNS answer time").unwrap()..];
        let labels: Vec<&str> = dns_chart
            .split("<text x=\"0\" y=\"")
            .skip(2)
            .map(|t| &t[t.find('>').unwrap() + 1..t.find('<').unwrap()])
            .collect();
        assert_eq!(labels, ["198.18.0.1 A", "198.18.0.1 AAAA", "198.18.0.1 random name (NXDOMAIN expected)"]);
        assert!(dns_chart.contains(">timeout</text>") && !dns_chart.contains(">lost</text>"), "{dns_chart}");
    }

    #[test]
    fn the_web_section_draws_phase_bars_the_chain_and_the_certificate() {
        let report = crate::render::web_sample_report();
        let section = web_section(&report);
        let bars: Vec<&str> = section.split("<svg class=\"phases\"").skip(1).collect();
        assert_eq!(bars.len(), 3, "one bar figure per probe");
        // The portal's two requests, each its own bar; the HTTPS target's five phases.
        assert_eq!(bars[0].matches(">request<").count() + bars[0].matches(">redirect 1<").count(), 2);
        let https = &bars[1][..bars[1].find("</svg>").unwrap()];
        for phase in ["resolve", "connect", "tls", "processing", "transfer"] {
            assert_eq!(https.matches(&format!("class=\"ph-{phase}\"")).count(), 1, "{phase}: {https}");
        }
        assert!(bars[2].contains(">connect failed<"), "{}", bars[2]);
        // The longest request spans the plot; the scale is shared.
        assert!(https.contains("width=\"520.0\"") || https.contains(">8.6 ms<"), "{https}");
        assert!(section.contains("<ol class=\"chain\">") && section.contains("→ <code>http://198.18.1.2/login?"));
        assert!(section.contains("Captive portal: sign in at <code>http://198.18.1.2/login?mac="));
        let tls = &section[section.find("<details class=\"tls\">").expect("TLS details")..];
        for want in [
            "TLSv1_3",
            "TLS13_AES_256_GCM_SHA384",
            "ALPN http/1.1",
            "CN=nettriage lab CA",
            "www.site.test, app.site.test",
            "40 days left",
        ] {
            assert!(tls.contains(want), "{want}: {tls}");
        }
        let page = {
            let mut out = Vec::new();
            crate::render::write(&report, crate::render::Format::Html, &mut out, false).unwrap();
            String::from_utf8(out).unwrap()
        };
        assert!(page.contains("<section id=\"web\">") && !page.contains("hunter2"));
        assert!(web_section(&crate::render::sample_report()).is_empty());
        assert_eq!(days_left(-2), "expired 2 days ago");
    }

    #[test]
    fn chart_draws_lost_probes() {
        let svg = bar_chart("t", &[("#1".into(), Ok(1.5)), ("#2".into(), Err("lost"))]);
        assert!(svg.contains("1.50 ms") && svg.contains("lost") && svg.starts_with("<figure><svg"));
        // Responsive: a viewBox and no fixed width attribute.
        assert!(svg.contains("viewBox=") && !svg.contains(" width=\"7"), "{svg}");
    }
}
