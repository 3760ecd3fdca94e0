//! The trend of stored survey runs, rendered: a text block with tables per site and
//! location, or one self-contained HTML page that reads at a glance.
//!
//! Reads a [`crate::history::Trend`] (computed by the history) and per-run [`RunPoint`]s
//! (gathered by `survey::trend_series`). The page puts time on the x axis with dates:
//! a timeline of the runs coloured by status with outages (broken runs) as shaded bands
//! and a strip per layer coloured by that layer's status in each run, then gateway RTT,
//! DNS time and Wi-Fi signal over the same time axis (every run a point, so a lone run or
//! a run after a gap shows), and the root causes as integer counts. Uses
//! [`crate::render::html::escape`]; writes to `&mut impl Write` like every renderer.

use std::fmt::Write as _;
use std::io::Write;
use std::time::{Duration, UNIX_EPOCH};

use comfy_table::presets::UTF8_FULL_CONDENSED;
use comfy_table::{ContentArrangement, Table};

use crate::history::{SiteTrend, Trend, WebTrend};
use crate::render::html::escape;
use crate::report::{CheckId, CheckStatus, RunStatus};
use crate::types::Timestamp;

/// One stored run as the trend page charts it.
#[derive(Debug, Clone, PartialEq)]
pub struct RunPoint {
    /// When the run started.
    pub started_at: Timestamp,
    /// The run's verdict.
    pub status: RunStatus,
    /// Mean gateway round trip, ms.
    pub gateway_rtt_ms: Option<f64>,
    /// Mean DNS answer time, ms.
    pub dns_ms: Option<f64>,
    /// Wi-Fi signal, dBm.
    pub wifi_signal_dbm: Option<f64>,
    /// Mean wall time of the run's web fetches (connectivity probe and URL targets), ms.
    pub web_total_ms: Option<f64>,
    /// Whether the connectivity probe found a captive portal; `None` when none ran.
    pub captive_portal: Option<bool>,
    /// Each layer's status in this run, for the per-layer strip.
    pub checks: Vec<(CheckId, CheckStatus)>,
}

/// One group's charted runs, oldest first.
pub type Series = Vec<RunPoint>;

/// "1 run", "2 runs".
fn runs(n: u64) -> String {
    if n == 1 { "1 run".to_string() } else { format!("{n} runs") }
}

/// The trend as text: one block per site and location.
pub fn write_trend(trend: &Trend, out: &mut impl Write) -> std::io::Result<()> {
    for g in &trend.groups {
        writeln!(
            out,
            "{} / {}: {} ({} healthy, {} degraded, {} broken), {} to {}",
            g.site,
            g.location,
            runs(g.runs),
            g.healthy,
            g.degraded,
            g.broken,
            g.first_run,
            g.last_run
        )?;
        let table = || {
            let mut table = Table::new();
            table.load_style(UTF8_FULL_CONDENSED).set_content_arrangement(ContentArrangement::Dynamic).force_no_tty();
            table
        };
        if !g.availability.is_empty() {
            let mut available = table();
            available.set_header(["layer", "available", "runs"]);
            for a in &g.availability {
                available.add_row([a.check.clone(), format!("{:.1} %", a.ratio * 100.0), a.runs.to_string()]);
            }
            writeln!(out, "{available}")?;
        }
        let measures = [
            ("gateway RTT ms", &g.gateway_rtt_ms),
            ("gateway loss", &g.gateway_loss_ratio),
            ("DNS ms", &g.dns_ms),
            ("DNS first-attempt loss", &g.dns_first_attempt_loss),
            ("Wi-Fi signal dBm (p5 for p95)", &g.wifi_signal_dbm),
        ];
        if measures.iter().any(|(_, d)| d.is_some()) {
            let mut measured = table();
            measured.set_header(["measure", "p50", "p95", "max", "samples"]);
            for (name, d) in measures {
                if let Some(d) = d {
                    let hi = if name.starts_with("Wi-Fi") { d.p5 } else { d.p95 };
                    measured.add_row([
                        name.to_string(),
                        format!("{:.2}", d.p50),
                        format!("{hi:.2}"),
                        format!("{:.2}", d.max),
                        d.samples.to_string(),
                    ]);
                }
            }
            writeln!(out, "{measured}")?;
        }
        if let Some(web) = &g.web {
            if web.connectivity_runs > 0 {
                writeln!(
                    out,
                    "Captive portal in {} of {} with a connectivity check",
                    web.portal_runs,
                    runs(web.connectivity_runs)
                )?;
            }
            if !web.urls.is_empty() {
                let mut urls = table();
                urls.set_header(WEB_COLUMNS);
                for row in web_rows(web) {
                    urls.add_row(row);
                }
                writeln!(out, "{urls}")?;
            }
        }
        if !g.root_causes.is_empty() {
            let causes: Vec<String> = g.root_causes.iter().map(|r| format!("{} ×{}", r.code, r.runs)).collect();
            writeln!(out, "Most frequent root causes: {}", causes.join(", "))?;
        }
    }
    Ok(())
}

/// The columns of the per-URL web table (text and HTML).
const WEB_COLUMNS: [&str; 7] = ["URL", "answered", "runs", "p50 ms", "p95 ms", "max ms", "certificate expires"];

/// One row per URL of a group's web trend, in [`WEB_COLUMNS`] order.
fn web_rows(web: &WebTrend) -> Vec<[String; 7]> {
    let ms = |d: Option<f64>| d.map_or_else(|| "-".to_string(), |v| format!("{v:.1}"));
    web.urls
        .iter()
        .map(|u| {
            let share = if u.runs > 0 { u.answered_ok as f64 / u.runs as f64 * 100.0 } else { 0.0 };
            [
                u.url.clone(),
                format!("{share:.1} %"),
                u.runs.to_string(),
                ms(u.total_ms.as_ref().map(|d| d.p50)),
                ms(u.total_ms.as_ref().map(|d| d.p95)),
                ms(u.total_ms.as_ref().map(|d| d.max)),
                u.cert_expiry.clone().unwrap_or_else(|| "-".to_string()),
            ]
        })
        .collect()
}

const STYLE: &str = "body{font-family:system-ui,sans-serif;margin:1.5rem;color:#1d2330}
main{max-width:960px}section{margin-bottom:2rem}
table{border-collapse:collapse}td,th{padding:.2rem .7rem;border-bottom:1px solid #ddd;text-align:left}
td.count{text-align:right}
svg{display:block;width:100%;height:auto;margin:.6rem 0}svg text{font-size:11px;fill:#333}
svg text.title{font-weight:bold;font-size:12px}
.axis{stroke:#888}.grid{stroke:#e5e7eb}.line{fill:none;stroke:#3b82c4;stroke-width:2}
.run.healthy{fill:#1e8a4c}.run.degraded{fill:#d69e2e}.run.broken{fill:#c0392b}.run.unknown{fill:#5d6778}
.cell.pass{fill:#1e8a4c}.cell.warn{fill:#d69e2e}.cell.fail{fill:#c0392b}.cell.error{fill:#805ad5}
.cell.skipped{fill:#cbd2d9}.cell.none{fill:#eef0f3}
.outage{fill:#c0392b;fill-opacity:.13}
.legend span{display:inline-block;margin-right:1rem}.legend i{display:inline-block;width:.8rem;height:.8rem;
 border-radius:50%;margin-right:.3rem;vertical-align:-.1rem}
.legend i.healthy{background:#1e8a4c}.legend i.degraded{background:#d69e2e}.legend i.broken{background:#c0392b}
.legend i.outage{background:#f3d4d0;border-radius:0}";

/// Width of every chart's viewBox, the left margin for labels, the right margin.
const W: f64 = 720.0;
const LEFT: f64 = 130.0;
const RIGHT: f64 = 40.0;

/// Seconds since the Unix epoch.
fn unix(t: Timestamp) -> f64 {
    t.0.duration_since(UNIX_EPOCH).map(|d| d.as_secs_f64()).unwrap_or(0.0)
}

/// The time axis shared by a group's charts: oldest run at the left, newest at the right;
/// a single run in the middle.
struct TimeAxis {
    t0: f64,
    t1: f64,
}

impl TimeAxis {
    fn of(points: &[RunPoint]) -> TimeAxis {
        let times = points.iter().map(|p| unix(p.started_at));
        let (t0, t1) = times.fold((f64::MAX, f64::MIN), |(lo, hi), t| (lo.min(t), hi.max(t)));
        if t0 > t1 { TimeAxis { t0: 0.0, t1: 0.0 } } else { TimeAxis { t0, t1 } }
    }

    fn x(&self, t: f64) -> f64 {
        if self.t1 > self.t0 {
            LEFT + (t - self.t0) / (self.t1 - self.t0) * (W - LEFT - RIGHT)
        } else {
            LEFT + (W - LEFT - RIGHT) / 2.0
        }
    }

    /// Tick labels along the axis at `y`: times, in a form that fits the span (UTC).
    fn ticks(&self, y: f64) -> String {
        let span = self.t1 - self.t0;
        let label = |t: f64| {
            let text = Timestamp(UNIX_EPOCH + Duration::from_secs_f64(t.max(0.0))).to_string();
            // RFC 3339: 2026-11-24T07:00:00.000Z
            let pick = |from: usize, to: usize| text.get(from..to).unwrap_or("").replace('T', " ");
            if span < 600.0 {
                pick(11, 19)
            } else if span < 2.0 * 86_400.0 {
                pick(11, 16)
            } else {
                pick(5, 16)
            }
        };
        let times: Vec<f64> =
            if span > 0.0 { (0..5).map(|i| self.t0 + span * f64::from(i) / 4.0).collect() } else { vec![self.t0] };
        let mut s = format!("<line class=\"axis\" x1=\"{LEFT}\" y1=\"{y}\" x2=\"{}\" y2=\"{y}\"/>", W - RIGHT);
        for t in times {
            let x = self.x(t);
            let _ = write!(
                s,
                "<line class=\"axis\" x1=\"{x:.1}\" y1=\"{y}\" x2=\"{x:.1}\" y2=\"{}\"/>\
                 <text class=\"tick\" x=\"{x:.1}\" y=\"{}\" text-anchor=\"middle\">{}</text>",
                y + 4.0,
                y + 15.0,
                escape(&label(t))
            );
        }
        s
    }

    /// The dates the axis covers, for its caption.
    fn dates(&self) -> String {
        let day = |t: f64| {
            let text = Timestamp(UNIX_EPOCH + Duration::from_secs_f64(t.max(0.0))).to_string();
            text.get(..10).unwrap_or("").to_string()
        };
        let (first, last) = (day(self.t0), day(self.t1));
        if first == last { format!("{first} (UTC)") } else { format!("{first} to {last} (UTC)") }
    }
}

/// The outages: runs of consecutive broken runs, as shaded bands from halfway to the run
/// before to halfway to the run after, from `top` to `bottom`.
fn outage_bands(axis: &TimeAxis, points: &[RunPoint], top: f64, bottom: f64) -> String {
    let xs: Vec<f64> = points.iter().map(|p| axis.x(unix(p.started_at))).collect();
    let edge = 6.0;
    let mut s = String::new();
    let mut i = 0;
    while i < points.len() {
        if points[i].status != RunStatus::Broken {
            i += 1;
            continue;
        }
        let first = i;
        while i + 1 < points.len() && points[i + 1].status == RunStatus::Broken {
            i += 1;
        }
        let left = if first > 0 { (xs[first - 1] + xs[first]) / 2.0 } else { xs[first] - edge };
        let right = if i + 1 < points.len() { (xs[i] + xs[i + 1]) / 2.0 } else { xs[i] + edge };
        let width = (right - left).max(2.0);
        let _ = write!(
            s,
            "<rect class=\"outage\" x=\"{:.1}\" y=\"{top}\" width=\"{width:.1}\" height=\"{}\"/>",
            left.min(right - 2.0),
            bottom - top
        );
        i += 1;
    }
    s
}

/// The runs coloured by status, and one strip per layer coloured by its status in each
/// run, labelled with its availability; outages shaded; dates below.
fn timeline(g: &SiteTrend, axis: &TimeAxis, points: &[RunPoint]) -> String {
    let row = 18.0;
    let top = 24.0;
    let rows = 1 + g.availability.len();
    let bottom = top + row * rows as f64;
    let height = bottom + 24.0;
    let mut s = format!(
        "<svg class=\"timeline\" role=\"img\" aria-label=\"Runs and layers over time\" viewBox=\"0 0 {W} {height}\">\
         <text class=\"title\" x=\"0\" y=\"14\">Runs and layers over time</text>"
    );
    s.push_str(&outage_bands(axis, points, top, bottom));
    // The cell of a run in a strip: as wide as the spacing allows, 2 to 16 units.
    let cell = ((W - LEFT - RIGHT) / points.len().max(1) as f64 * 0.8).clamp(2.0, 16.0);
    let _ = write!(s, "<text x=\"0\" y=\"{}\">runs</text>", top + 13.0);
    for p in points {
        let x = axis.x(unix(p.started_at));
        let _ = write!(
            s,
            "<circle class=\"run {st}\" cx=\"{x:.1}\" cy=\"{}\" r=\"5\"><title>{} {st}</title></circle>",
            top + row / 2.0,
            p.started_at,
            st = p.status.as_str()
        );
    }
    for (k, a) in g.availability.iter().enumerate() {
        let y = top + row * (k + 1) as f64;
        let _ = write!(
            s,
            "<g class=\"layer-strip\" data-check=\"{c}\"><text x=\"0\" y=\"{}\">{c} {:.1} %</text>",
            y + 13.0,
            a.ratio * 100.0,
            c = escape(&a.check)
        );
        for p in points {
            let status = p.checks.iter().find(|(id, _)| id.to_string() == a.check).map(|(_, st)| *st);
            let class = status.map_or("none", CheckStatus::as_str);
            let x = axis.x(unix(p.started_at)) - cell / 2.0;
            let _ = write!(
                s,
                "<rect class=\"cell {class}\" x=\"{x:.1}\" y=\"{}\" width=\"{cell:.1}\" height=\"{}\"/>",
                y + 3.0,
                row - 6.0
            );
        }
        s.push_str("</g>");
    }
    s.push_str(&axis.ticks(bottom + 2.0));
    s.push_str("</svg>");
    s
}

/// A round number at or above `v` (1, 2 or 5 times a power of ten).
fn nice_ceil(v: f64) -> f64 {
    if v <= 0.0 || !v.is_finite() {
        return 1.0;
    }
    let step = 10f64.powf(v.log10().floor());
    [1.0, 2.0, 5.0, 10.0].into_iter().map(|m| m * step).find(|c| *c >= v * (1.0 - 1e-12)).unwrap_or(10.0 * step)
}

/// The y range of a chart: from zero for quantities that are never negative (times), a
/// real range around the values otherwise (signal in dBm); never empty.
fn y_range(values: &[f64]) -> (f64, f64) {
    let (lo, hi) = values.iter().fold((f64::MAX, f64::MIN), |(lo, hi), v| (lo.min(*v), hi.max(*v)));
    if lo >= 0.0 {
        (0.0, nice_ceil(hi))
    } else {
        let lo = ((lo - 5.0) / 10.0).floor() * 10.0;
        let hi = ((hi + 5.0) / 10.0).ceil() * 10.0;
        (lo, hi.max(lo + 10.0))
    }
}

/// A label for `v`, a multiple of `step`, with as many decimals as `step` needs.
fn tick_label(v: f64, step: f64) -> String {
    let decimals = (0..6).find(|d| (step * 10f64.powi(*d)).fract().abs() < 1e-6).unwrap_or(6) as usize;
    format!("{v:.decimals$}")
}

/// One measurement over time: a point per run that has it (coloured by the run's status),
/// lines between consecutive runs that have it, outages shaded. Empty when no run has it.
fn metric_chart(
    title: &str,
    unit: &str,
    axis: &TimeAxis,
    points: &[RunPoint],
    value: impl Fn(&RunPoint) -> Option<f64>,
) -> String {
    let values: Vec<f64> = points.iter().filter_map(&value).filter(|v| v.is_finite()).collect();
    if values.is_empty() {
        return String::new();
    }
    let (lo, hi) = y_range(&values);
    let (top, bottom) = (26.0, 126.0);
    let height = bottom + 24.0;
    let y = |v: f64| bottom - (v - lo) / (hi - lo) * (bottom - top);
    let mut s = format!(
        "<svg class=\"metric\" role=\"img\" aria-label=\"{t}\" viewBox=\"0 0 {W} {height}\">\
         <text class=\"title\" x=\"0\" y=\"14\">{t}</text>",
        t = escape(title)
    );
    s.push_str(&outage_bands(axis, points, top, bottom));
    for v in [lo, (lo + hi) / 2.0, hi] {
        let _ = write!(
            s,
            "<line class=\"grid\" x1=\"{LEFT}\" y1=\"{y:.1}\" x2=\"{}\" y2=\"{y:.1}\"/>\
             <text class=\"ytick\" x=\"{}\" y=\"{:.1}\" text-anchor=\"end\">{} {}</text>",
            W - RIGHT,
            LEFT - 6.0,
            y(v) + 4.0,
            tick_label(v, (hi - lo) / 2.0),
            escape(unit),
            y = y(v)
        );
    }
    // Lines join consecutive runs that both have a value; a run without one breaks it.
    let mut segment: Vec<String> = Vec::new();
    let mut lines = String::new();
    let mut flush = |segment: &mut Vec<String>| {
        if segment.len() > 1 {
            let _ = write!(lines, "<polyline class=\"line\" points=\"{}\"/>", segment.join(" "));
        }
        segment.clear();
    };
    let mut dots = String::new();
    for p in points {
        match value(p).filter(|v| v.is_finite()) {
            Some(v) => {
                let (px, py) = (axis.x(unix(p.started_at)), y(v));
                segment.push(format!("{px:.1},{py:.1}"));
                let _ = write!(
                    dots,
                    "<circle class=\"run {st}\" cx=\"{px:.1}\" cy=\"{py:.1}\" r=\"3.5\">\
                     <title>{} {v:.2} {} ({st})</title></circle>",
                    p.started_at,
                    escape(unit),
                    st = p.status.as_str()
                );
            }
            None => flush(&mut segment),
        }
    }
    flush(&mut segment);
    s.push_str(&lines);
    s.push_str(&dots);
    s.push_str(&axis.ticks(bottom));
    s.push_str("</svg>");
    s
}

/// The trend as one self-contained HTML page: per site and location, a timeline of the
/// runs and layers, measurements over time, and root-cause counts.
///
/// `series` holds each group's charted runs, in the order of `trend.groups` (see
/// `survey::trend_series`); a group without any draws no chart.
pub fn write_trend_html(trend: &Trend, series: &[Series], out: &mut impl Write) -> std::io::Result<()> {
    let mut h = format!(
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'\">\
         <meta name=\"viewport\" content=\"width=device-width,initial-scale=1\">\
         <title>nettriage trend</title><style>{STYLE}</style></head><body><main><h1>nettriage trend</h1>\n\
         <p class=\"legend\"><span><i class=\"healthy\"></i>healthy</span><span><i class=\"degraded\"></i>degraded</span>\
         <span><i class=\"broken\"></i>broken</span><span><i class=\"outage\"></i>outage (broken runs)</span></p>\n"
    );
    for (i, g) in trend.groups.iter().enumerate() {
        let _ = write!(
            h,
            "<section class=\"group\"><h2>{} / {}</h2><p class=\"summary\">{}: {} healthy, {} degraded, {} broken \
             ({} to {})</p>",
            escape(&g.site),
            escape(&g.location),
            runs(g.runs),
            g.healthy,
            g.degraded,
            g.broken,
            escape(&g.first_run),
            escape(&g.last_run)
        );
        let points = series.get(i).map(Vec::as_slice).unwrap_or_default();
        if !points.is_empty() {
            let axis = TimeAxis::of(points);
            let _ = write!(h, "<p class=\"dates\">Time axis: {}</p>", escape(&axis.dates()));
            h.push_str(&timeline(g, &axis, points));
            h.push_str(&metric_chart("Gateway round trip", "ms", &axis, points, |p| p.gateway_rtt_ms));
            h.push_str(&metric_chart("DNS answer time", "ms", &axis, points, |p| p.dns_ms));
            h.push_str(&metric_chart("Wi-Fi signal", "dBm", &axis, points, |p| p.wifi_signal_dbm));
            h.push_str(&metric_chart("Web fetch time", "ms", &axis, points, |p| p.web_total_ms));
            h.push_str(&metric_chart("Captive portal", "yes 1 / no 0", &axis, points, |p| {
                p.captive_portal.map(|b| if b { 1.0 } else { 0.0 })
            }));
        }
        if !g.availability.is_empty() {
            h.push_str("<table class=\"availability\"><tr><th>layer</th><th>available</th><th>runs</th></tr>");
            for a in &g.availability {
                let _ = write!(
                    h,
                    "<tr><td>{}</td><td>{:.1} %</td><td class=\"count\">{}</td></tr>",
                    escape(&a.check),
                    a.ratio * 100.0,
                    a.runs
                );
            }
            h.push_str("</table>");
        }
        if let Some(web) = g.web.as_ref().filter(|w| !w.urls.is_empty() || w.connectivity_runs > 0) {
            h.push_str("<h3>Web</h3>");
            if web.connectivity_runs > 0 {
                let _ = write!(
                    h,
                    "<p class=\"portal\">Captive portal in {} of {} with a connectivity check.</p>",
                    web.portal_runs,
                    runs(web.connectivity_runs)
                );
            }
            h.push_str("<table class=\"web\"><tr>");
            for col in WEB_COLUMNS {
                let _ = write!(h, "<th>{col}</th>");
            }
            h.push_str("</tr>");
            for row in web_rows(web) {
                h.push_str("<tr>");
                for cell in row {
                    let _ = write!(h, "<td>{}</td>", escape(&cell));
                }
                h.push_str("</tr>");
            }
            h.push_str("</table>");
        }
        if !g.root_causes.is_empty() {
            h.push_str("<h3>Root causes</h3><table class=\"causes\"><tr><th>root cause</th><th>runs</th></tr>");
            for r in &g.root_causes {
                let _ =
                    write!(h, "<tr><td><code>{}</code></td><td class=\"count\">{}</td></tr>", escape(&r.code), r.runs);
            }
            h.push_str("</table>");
        }
        h.push_str("</section>\n");
    }
    h.push_str("</main></body></html>\n");
    out.write_all(h.as_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::history::{Availability, RootCauseCount, SiteTrend};

    fn group(site: &str, runs: u64) -> SiteTrend {
        SiteTrend {
            site: site.into(),
            location: "floor <2>".into(),
            runs,
            healthy: runs.saturating_sub(1),
            broken: runs.min(1),
            first_run: "2026-11-24T07:00:00.000Z".into(),
            last_run: "2026-11-24T07:05:00.000Z".into(),
            degraded: 0,
            availability: vec![
                Availability { check: "link".into(), runs, ok: runs, ratio: 1.0 },
                Availability { check: "dns".into(), runs, ok: runs - 1, ratio: 0.5 },
            ],
            gateway_rtt_ms: None,
            gateway_loss_ratio: None,
            dns_ms: None,
            dns_first_attempt_loss: None,
            wifi_signal_dbm: None,
            web: None,
            root_causes: vec![RootCauseCount { code: "dns.timeout".into(), runs: 1 }],
        }
    }

    fn trend() -> Trend {
        Trend { groups: vec![group("HQ", 2), group("Branch", 2)] }
    }

    /// A run `minutes` after 07:00 with this status and gateway RTT.
    fn point(minutes: u64, status: RunStatus, rtt: Option<f64>) -> RunPoint {
        let dns = if status == RunStatus::Broken { CheckStatus::Fail } else { CheckStatus::Pass };
        RunPoint {
            started_at: Timestamp(
                "2026-11-24T07:00:00Z".parse::<Timestamp>().unwrap().0 + Duration::from_secs(60 * minutes),
            ),
            status,
            gateway_rtt_ms: rtt,
            dns_ms: None,
            wifi_signal_dbm: None,
            web_total_ms: None,
            captive_portal: None,
            checks: vec![(CheckId::Link, CheckStatus::Pass), (CheckId::Dns, dns)],
        }
    }

    fn page(trend: &Trend, series: &[Series]) -> String {
        let mut out = Vec::new();
        write_trend_html(trend, series, &mut out).unwrap();
        String::from_utf8(out).unwrap()
    }

    /// The `<svg class="CLASS"` elements of a page.
    fn svgs<'a>(page: &'a str, class: &str) -> Vec<&'a str> {
        let open = format!("<svg class=\"{class}\"");
        page.match_indices(&open).map(|(at, _)| &page[at..at + page[at..].find("</svg>").unwrap()]).collect()
    }

    #[test]
    fn html_charts_each_group_from_its_own_series_and_escapes_names() {
        let series: Vec<Series> =
            vec![vec![point(0, RunStatus::Healthy, Some(2.0)), point(5, RunStatus::Broken, Some(3.0))]];
        let page = page(&trend(), &series);
        let (hq, branch) = page.split_at(page.find("<h2>Branch").expect("second group"));
        assert_eq!((svgs(hq, "timeline").len(), svgs(hq, "metric").len()), (1, 1), "{hq}");
        assert_eq!(svgs(branch, "timeline").len() + svgs(branch, "metric").len(), 0, "{branch}");
        assert!(!page.contains("floor <2>") && page.contains("floor &lt;2&gt;"));
    }

    #[test]
    fn runs_are_coloured_by_status_outages_are_bands_and_each_layer_has_a_strip() {
        use RunStatus::*;
        let series = vec![vec![
            point(0, Healthy, Some(1.0)),
            point(1, Broken, None),
            point(2, Broken, None),
            point(3, Healthy, Some(1.2)),
            point(4, Degraded, Some(9.0)),
            point(5, Broken, Some(1.1)),
        ]];
        let page = page(&Trend { groups: vec![group("HQ", 6)] }, &series);
        let timeline = svgs(&page, "timeline")[0];
        // Two outages: runs 1-2 and run 5.
        assert_eq!(timeline.matches("class=\"outage\"").count(), 2, "{timeline}");
        for (status, n) in [("healthy", 2), ("broken", 3), ("degraded", 1)] {
            assert_eq!(timeline.matches(&format!("<circle class=\"run {status}\"")).count(), n, "{status}");
        }
        // A strip per layer with a cell per run, coloured by the layer's status.
        assert_eq!(timeline.matches("<g class=\"layer-strip\"").count(), 2);
        assert_eq!(timeline.matches("class=\"cell fail\"").count(), 3);
        assert_eq!(timeline.matches("class=\"cell pass\"").count(), 6 + 3);
        // Time on the x axis, with the date said.
        assert!(timeline.matches("class=\"tick\"").count() >= 2 && page.contains("2026-11-24 (UTC)"), "{page}");
    }

    #[test]
    fn a_single_run_is_a_point_and_a_lone_point_after_a_gap_is_drawn() {
        let one = page(&Trend { groups: vec![group("HQ", 1)] }, &[vec![point(0, RunStatus::Healthy, Some(2.0))]]);
        let chart = svgs(&one, "metric")[0];
        assert_eq!((chart.matches("<circle").count(), chart.matches("<polyline").count()), (1, 0), "{chart}");
        assert!(one.contains(">1 run:") && !one.contains("1 runs"), "{one}");

        let gap = vec![
            point(0, RunStatus::Healthy, Some(1.0)),
            point(1, RunStatus::Healthy, Some(1.5)),
            point(2, RunStatus::Healthy, None),
            point(3, RunStatus::Healthy, Some(2.0)),
        ];
        let page = page(&Trend { groups: vec![group("HQ", 4)] }, &[gap]);
        let chart = svgs(&page, "metric")[0];
        assert_eq!((chart.matches("<circle").count(), chart.matches("<polyline").count()), (3, 1), "{chart}");
    }

    #[test]
    fn the_y_axis_starts_at_zero_for_times_and_shows_a_real_range_for_signal() {
        let flat: Vec<RunPoint> = (0..3).map(|m| point(m, RunStatus::Healthy, Some(0.03))).collect();
        let page = page(&Trend { groups: vec![group("HQ", 3)] }, &[flat]);
        let chart = svgs(&page, "metric")[0];
        let ticks: Vec<f64> = chart
            .split("class=\"ytick\"")
            .skip(1)
            .map(|t| t[t.find('>').unwrap() + 1..].split(' ').next().unwrap().parse().unwrap())
            .collect();
        assert_eq!(ticks.len(), 3, "{chart}");
        assert_eq!(ticks[0], 0.0);
        assert!(ticks[2] >= 0.03 && ticks[1] < ticks[2], "{ticks:?}");
        assert_eq!(tick_label(0.025, 0.025), "0.025");
        assert_eq!(tick_label(0.5, 0.5), "0.5");
        assert_eq!(tick_label(-60.0, 10.0), "-60");
        assert_eq!(y_range(&[-61.0, -60.0]), (-70.0, -50.0));
        assert_eq!(y_range(&[-60.0, -60.0]), (-70.0, -50.0));
    }

    #[test]
    fn the_web_trend_lists_each_url_and_the_portal_runs_in_text_and_html() {
        use crate::history::{Distribution, UrlTrend};
        let mut t = trend();
        t.groups[0].web = Some(WebTrend {
            connectivity_runs: 2,
            portal_runs: 1,
            urls: vec![UrlTrend {
                url: "https://www.site.test/?a=<b>".into(),
                runs: 2,
                answered_ok: 1,
                total_ms: Distribution::of(&mut vec![10.0, 30.0]),
                cert_expiry: Some("2027-01-01T00:00:00.000Z".into()),
            }],
        });
        let mut text = Vec::new();
        write_trend(&t, &mut text).unwrap();
        let text = String::from_utf8(text).unwrap();
        for want in
            ["https://www.site.test/?a=<b>", "50.0 %", "2027-01-01T00:00:00.000Z", "Captive portal in 1 of 2 runs"]
        {
            assert!(text.contains(want), "{want}:\n{text}");
        }
        let mut p = point(0, RunStatus::Healthy, Some(1.0));
        p.web_total_ms = Some(12.0);
        p.captive_portal = Some(true);
        let html = page(&t, &[vec![p], vec![]]);
        assert!(html.contains("<table class=\"web\">") && html.contains("?a=&lt;b&gt;"), "{html}");
        assert!(html.contains("aria-label=\"Web fetch time\"") && html.contains("aria-label=\"Captive portal\""));
        assert_eq!(html.matches("<table class=\"web\">").count(), 1, "only the group that has web runs");
    }

    #[test]
    fn root_cause_counts_are_integers() {
        let page = page(&trend(), &[]);
        let causes = &page[page.find("<table class=\"causes\">").unwrap()..];
        assert!(causes.contains("<td class=\"count\">1</td>") && !page.contains("1.00"), "{causes}");
    }

    #[test]
    fn text_has_one_block_per_group_and_availability_has_its_own_table() {
        let mut out = Vec::new();
        write_trend(&trend(), &mut out).unwrap();
        let text = String::from_utf8(out).unwrap();
        assert_eq!(text.matches("2 runs (1 healthy, 0 degraded, 1 broken)").count(), 2, "{text}");
        // No measurements in this trend: no table headed p50, availability under its own header.
        assert!(!text.contains("p50") && text.matches("available").count() == 2, "{text}");
        let mut one = trend();
        one.groups.truncate(1);
        one.groups[0].runs = 1;
        let mut out = Vec::new();
        write_trend(&one, &mut out).unwrap();
        assert!(String::from_utf8(out).unwrap().contains(": 1 run ("));
    }
}
