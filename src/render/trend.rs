//! The trend of stored survey runs, rendered: a text block with a table per site and
//! location, or one self-contained HTML page with SVG charts.
//!
//! Reads a [`crate::history::Trend`] (computed by the history) and per-run chart series
//! (gathered by `survey::trend_series`); draws with the chart helpers of
//! [`crate::render::html`]. Writes to `&mut impl Write` like every renderer.

use std::io::Write;

use comfy_table::presets::UTF8_FULL_CONDENSED;
use comfy_table::{ContentArrangement, Table};

use crate::history::Trend;

/// One site's series for the charts, oldest first: gateway RTT, DNS time, Wi-Fi signal.
pub type Series = (Vec<Option<f64>>, Vec<Option<f64>>, Vec<Option<f64>>);

/// The trend as text: one block per site and location.
pub fn write_trend(trend: &Trend, out: &mut impl Write) -> std::io::Result<()> {
    for g in &trend.groups {
        writeln!(
            out,
            "{} / {}: {} runs ({} healthy, {} degraded, {} broken), {} to {}",
            g.site, g.location, g.runs, g.healthy, g.degraded, g.broken, g.first_run, g.last_run
        )?;
        let mut table = Table::new();
        table.load_style(UTF8_FULL_CONDENSED).set_content_arrangement(ContentArrangement::Dynamic).force_no_tty();
        table.set_header(["measure", "p50", "p95", "max", "samples"]);
        for a in &g.availability {
            table.add_row([
                format!("{} available", a.check),
                format!("{:.1} %", a.ratio * 100.0),
                String::new(),
                String::new(),
                a.runs.to_string(),
            ]);
        }
        for (name, d) in [
            ("gateway RTT ms", &g.gateway_rtt_ms),
            ("gateway loss", &g.gateway_loss_ratio),
            ("DNS ms", &g.dns_ms),
            ("DNS first-attempt loss", &g.dns_first_attempt_loss),
            ("Wi-Fi signal dBm (p5 for p95)", &g.wifi_signal_dbm),
        ] {
            if let Some(d) = d {
                let hi = if name.starts_with("Wi-Fi") { d.p5 } else { d.p95 };
                table.add_row([
                    name.to_string(),
                    format!("{:.2}", d.p50),
                    format!("{hi:.2}"),
                    format!("{:.2}", d.max),
                    d.samples.to_string(),
                ]);
            }
        }
        writeln!(out, "{table}")?;
        if !g.root_causes.is_empty() {
            let causes: Vec<String> = g.root_causes.iter().map(|r| format!("{} ×{}", r.code, r.runs)).collect();
            writeln!(out, "Most frequent root causes: {}", causes.join(", "))?;
        }
    }
    Ok(())
}

/// The trend as one self-contained HTML page with SVG charts: latency and signal over
/// time and root-cause counts, per site and location.
///
/// `series` holds each group's charted runs, in the order of `trend.groups` (see
/// `survey::trend_series`); a group without one draws empty charts.
pub fn write_trend_html(trend: &Trend, series: &[Series], out: &mut impl Write) -> std::io::Result<()> {
    use crate::render::html::{bar_chart, escape, line_chart};
    let mut h = String::from(
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'\">\
         <title>nettriage trend</title><style>body{font-family:system-ui,sans-serif;margin:1.5rem;color:#1d2330}\
         table{border-collapse:collapse}td,th{padding:.2rem .7rem;border-bottom:1px solid #ddd;text-align:left}\
         svg text{font-size:11px;fill:#333}</style></head><body><h1>nettriage trend</h1>\n",
    );
    let none: Series = (vec![], vec![], vec![]);
    for (i, g) in trend.groups.iter().enumerate() {
        h.push_str(&format!(
            "<section><h2>{} / {}</h2><p>{} runs: {} healthy, {} degraded, {} broken ({} to {})</p><table>\
             <tr><th>layer</th><th>available</th><th>runs</th></tr>",
            escape(&g.site),
            escape(&g.location),
            g.runs,
            g.healthy,
            g.degraded,
            g.broken,
            escape(&g.first_run),
            escape(&g.last_run)
        ));
        for a in &g.availability {
            h.push_str(&format!(
                "<tr><td>{}</td><td>{:.1} %</td><td>{}</td></tr>",
                escape(&a.check),
                a.ratio * 100.0,
                a.runs
            ));
        }
        h.push_str("</table>");
        let (rtt, dns, signal) = series.get(i).unwrap_or(&none);
        h.push_str(&line_chart("Gateway RTT per run", "ms", rtt));
        h.push_str(&line_chart("DNS answer time per run", "ms", dns));
        h.push_str(&line_chart("Wi-Fi signal per run", "dBm", signal));
        let causes: Vec<(String, Option<f64>)> =
            g.root_causes.iter().map(|r| (r.code.clone(), Some(r.runs as f64))).collect();
        if !causes.is_empty() {
            h.push_str(&bar_chart("Root causes (runs)", &causes).replace(" ms</text>", "</text>"));
        }
        h.push_str("</section>\n");
    }
    h.push_str("</body></html>\n");
    out.write_all(h.as_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::history::{RootCauseCount, SiteTrend};

    fn trend() -> Trend {
        let group = |site: &str| SiteTrend {
            site: site.into(),
            location: "floor <2>".into(),
            runs: 2,
            healthy: 1,
            broken: 1,
            first_run: "2026-11-24T07:00:00.000Z".into(),
            last_run: "2026-11-24T07:05:00.000Z".into(),
            degraded: 0,
            availability: vec![],
            gateway_rtt_ms: None,
            gateway_loss_ratio: None,
            dns_ms: None,
            dns_first_attempt_loss: None,
            wifi_signal_dbm: None,
            root_causes: vec![RootCauseCount { code: "dns.timeout".into(), runs: 1 }],
        };
        Trend { groups: vec![group("HQ"), group("Branch")] }
    }

    #[test]
    fn html_charts_each_group_from_its_own_series_and_escapes_names() {
        let series: Vec<Series> = vec![(vec![Some(2.0), Some(3.0)], vec![Some(12.0), None], vec![None, None])];
        let mut out = Vec::new();
        write_trend_html(&trend(), &series, &mut out).unwrap();
        let page = String::from_utf8(out).unwrap();
        let (hq, branch) = page.split_at(page.find("<h2>Branch").expect("second group"));
        // HQ has RTT and DNS points; Branch has no series and draws no lines.
        assert_eq!(hq.matches("<polyline").count(), 2, "{hq}");
        assert_eq!(branch.matches("<polyline").count(), 0, "{branch}");
        assert!(!page.contains("floor <2>") && page.contains("floor &lt;2&gt;"));
    }

    #[test]
    fn text_has_one_block_per_group() {
        let mut out = Vec::new();
        write_trend(&trend(), &mut out).unwrap();
        let text = String::from_utf8(out).unwrap();
        assert_eq!(text.matches("2 runs (1 healthy, 0 degraded, 1 broken)").count(), 2, "{text}");
    }
}
