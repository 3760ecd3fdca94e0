//! Renderers: each turns a [`crate::report::Report`] into one output format.
//!
//! Renderers read only the report model and write to `&mut impl Write`; they never decide
//! anything about the network. `progress` draws the live line on a terminal while checks
//! run.

pub mod catalogue;
#[cfg(feature = "live")]
pub mod checklist;
pub mod dual_stack;
pub mod html;
pub mod json;
pub mod markdown;
pub mod progress;
pub mod table;
#[cfg(feature = "live")]
pub mod trend;

use std::io::Write;

use crate::check::dhcp::DhcpEvidence;
use crate::check::gateway::GatewayEvidence;
use crate::check::link::LinkEvidence;
use crate::check::wifi::WifiEvidence;
pub use crate::config::Format;
use crate::report::{CheckId, CheckResult, CheckStatus, Code, Evidence, Report, RunStatus};

/// Renders `report` in `format` (colour applies to the terminal table only).
///
/// Credentials in URLs are never printed: a report that holds any (one read from a file
/// another tool wrote) is rendered without them.
pub fn write(report: &Report, format: Format, out: &mut impl Write, color: bool) -> std::io::Result<()> {
    let json = serde_json::to_string(report).map_err(std::io::Error::other)?;
    let scrubbed = without_credentials(&json);
    if scrubbed != json {
        let clean: Report = serde_json::from_str(&scrubbed).map_err(std::io::Error::other)?;
        return write_clean(&clean, format, out, color);
    }
    write_clean(report, format, out, color)
}

fn write_clean(report: &Report, format: Format, out: &mut impl Write, color: bool) -> std::io::Result<()> {
    match format {
        Format::Table => table::write(report, out, color),
        Format::Json => json::write(report, out),
        Format::Markdown => markdown::write(report, out),
        Format::Html => html::write(report, out),
    }
}

/// The capture file a report was made from by `nettriage analyze`, if it was: headers
/// name it instead of a host, since the capture does not say which machine took it and
/// the analysing machine is not it. (A live run's own `--capture` is not this: it has no
/// container format recorded.)
pub fn analysed_capture(report: &Report) -> Option<&str> {
    report.capture.as_ref().filter(|c| c.format.is_some()).map(|c| c.path.as_str())
}

/// The one plain-language sentence for an end user: what works and what does not.
pub fn sentence(report: &Report) -> String {
    if report.diagnosis.status == RunStatus::Unknown {
        return "Nothing could be judged: none of the checks had anything to look at, so this says nothing \
                about the network."
            .into();
    }
    let Some(rc) = &report.diagnosis.root_cause else {
        return "Everything works: your computer is connected and the network answers as it should.".into();
    };
    let summary = lower_first(rc.summary.trim_end_matches('.'));
    let text = match (report.diagnosis.status, rc.layer) {
        (RunStatus::Broken, CheckId::Link | CheckId::Wifi) => format!("{}.", upper_first(&summary)),
        (RunStatus::Broken, _) => format!("Your computer is connected, but {summary}."),
        _ => format!("Your connection works, but {summary}."),
    };
    // Behind a portal, name the page to sign in on.
    let portal = report.web_evidence().and_then(|w| w.connectivity.as_ref()).and_then(|c| c.portal_url.as_deref());
    match portal {
        Some(url) if rc.code == Code::WebCaptivePortal && !text.contains(url) => {
            format!("{text} The sign-in page is {url}")
        }
        _ => text,
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
    let Some(wifi) = report.wifi_evidence() else { return (vec![], None) };
    let scan = &wifi.scan;
    let dash = |v: Option<String>| v.unwrap_or_else(|| "-".into());
    let mut aps: Vec<_> = scan.access_points.iter().collect();
    aps.sort_by(|a, b| {
        let key = |ap: &crate::platform::wifi::Bss| ap.signal_dbm.unwrap_or(f64::MIN);
        key(b).total_cmp(&key(a))
    });
    let rows = aps
        .into_iter()
        .map(|ap| {
            [
                ap.ssid.clone().unwrap_or_else(|| "(hidden)".to_string()),
                ap.bssid.to_string(),
                dash(ap.channel.map(|c| c.to_string())),
                ap.band.label().to_string(),
                dash(ap.signal_dbm.map(|d| format!("{d:.0} dBm"))),
                ap.security.protocol.clone(),
            ]
        })
        .collect();
    let best: Vec<String> = scan.best_channels.iter().take(3).map(|c| c.channel.to_string()).collect();
    (rows, (!best.is_empty()).then(|| format!("Least crowded channels: {}", best.join(", "))))
}

/// One line of the most useful evidence for a check (pure; empty when it has none).
pub fn details(check: &CheckResult) -> String {
    if matches!(check.status, CheckStatus::Skipped | CheckStatus::Error) {
        return check.reason.clone().unwrap_or_default();
    }
    if let Evidence::Extended { raw, .. } | Evidence::Other(raw) = &check.evidence {
        let line = capture_details(check.id, raw);
        if !line.is_empty() {
            return line;
        }
    }
    match check.evidence.known() {
        Evidence::None | Evidence::WifiSkipped(_) | Evidence::Extended { .. } => String::new(),
        Evidence::Link(ev) => link_details(ev),
        Evidence::Wifi(ev) => wifi_details(ev),
        Evidence::Dhcp(ev) => dhcp_details(ev),
        Evidence::Gateway(ev) => gateway_details(ev),
        Evidence::Dns(ev) => {
            if ev.servers.is_empty() {
                return "no servers".into();
            }
            let line = |sv: &crate::check::dns::ServerResult| match sv.avg_ms {
                Some(ms) => format!("{} {} {ms:.1} ms", sv.server, sv.verdict),
                None => format!("{} {}", sv.server, sv.verdict),
            };
            let mut text = ev.servers.iter().map(line).collect::<Vec<_>>().join(", ");
            // The notices explain the setup (glibc's default server, ignored servers, a
            // stub whose upstreams are unknown): named by code, never a status.
            if let Some(system) = ev.system.as_ref().filter(|s| !s.notices.is_empty()) {
                let codes: Vec<&str> = system.notices.iter().map(|n| n.code.as_str()).collect();
                text.push_str(&format!("; notices: {}", codes.join(", ")));
            }
            text
        }
        Evidence::Ports(ev) => ev
            .targets
            .iter()
            .map(|t| {
                // A target probed over both families: each family's outcome.
                if !t.families.is_empty() {
                    let each: Vec<String> = t
                        .families
                        .iter()
                        .map(|f| match f.ms {
                            Some(ms) => format!("{} {} {ms:.1} ms", f.family.name(), f.outcome.as_str()),
                            None => format!("{} {}", f.family.name(), f.outcome.as_str()),
                        })
                        .collect();
                    return format!("{} ({})", t.target, each.join(", "));
                }
                let mut line = match t.ms {
                    Some(ms) => format!("{} {} {ms:.1} ms", t.target, t.outcome.as_str()),
                    None => format!("{} {}", t.target, t.outcome.as_str()),
                };
                if let Some(mss) = t.mss {
                    line.push_str(&format!(" MSS {mss}"));
                }
                line
            })
            .collect::<Vec<_>>()
            .join(", "),
        Evidence::Web(ev) => web_details(ev),
        Evidence::Ipv6(ev) => ipv6_details(ev),
        Evidence::Path(ev) => path_details(ev),
        Evidence::Neighbours(ev) => neighbours_details(ev),
        Evidence::Ad(ev) => crate::check::ad::details(ev),
        Evidence::Smb(ev) => crate::check::smb::details(ev),
        Evidence::Printers(ev) => crate::check::printers::details(ev),
        Evidence::M365(ev) => crate::check::m365::details(ev),
        Evidence::Rdp(ev) => crate::check::rdp::details(ev),
        Evidence::Other(_) => String::new(),
    }
}

/// The neighbours layer in one line: each neighbour (switch, port, VLAN, speed/duplex,
/// power), what lldpd said, how long the socket listened, then the notices' codes.
fn neighbours_details(ev: &crate::check::neighbours::NeighboursEvidence) -> String {
    let mut parts: Vec<String> = ev
        .neighbours
        .iter()
        .map(|n| {
            let mut text = format!(
                "{} {} port {}",
                n.protocol.as_str().to_uppercase(),
                n.switch_name().unwrap_or("?"),
                n.port_name().unwrap_or("?")
            );
            if let Some(vlan) = n.port_vlan {
                text.push_str(&format!(" vlan {vlan}"));
            }
            match (n.speed_mbps, n.duplex) {
                (Some(s), Some(d)) => text.push_str(&format!(" {s} Mbit/s {}", d.as_str())),
                (Some(s), None) => text.push_str(&format!(" {s} Mbit/s")),
                (None, Some(d)) => text.push_str(&format!(" {} duplex", d.as_str())),
                (None, None) => {}
            }
            if let Some(p) = n.power
                && let (Some(req), Some(alloc)) = (p.requested_mw, p.allocated_mw)
            {
                text.push_str(&format!(" PoE {:.1}/{:.1} W", alloc as f64 / 1000.0, req as f64 / 1000.0));
            }
            // LLDP-MED: the voice VLAN a phone on this port is told to use.
            if let Some(voice) = n.med.as_ref().and_then(|m| m.voice()) {
                match voice.vlan {
                    Some(vlan) => text.push_str(&format!(" voice vlan {vlan}")),
                    None => text.push_str(" voice untagged"),
                }
                text.push_str(&format!(" dscp {}", voice.dscp));
            }
            if n.via == crate::platform::lldp::Via::Lldpd {
                text.push_str(" (lldpd)");
            }
            text
        })
        .collect();
    if ev.neighbours.is_empty() {
        parts.push("nothing heard".into());
    }
    if ev.capture.is_some() {
        // A capture has no local interface to compare the switch's speed and duplex with.
        parts.push(format!(
            "{} LLDP, {} CDP frames in the capture (local speed/duplex unknown)",
            ev.lldp_frames, ev.cdp_frames
        ));
    } else {
        parts.push(format!("listened {:.1} s", ev.listened_ms as f64 / 1000.0));
    }
    if !ev.notices.is_empty() {
        let codes: Vec<&str> = ev.notices.iter().map(|n| n.code.as_str()).collect();
        parts.push(format!("notices: {}", codes.join(", ")));
    }
    parts.join(", ")
}

/// The line at the top of every report: `Switch: NAME port PORT (VLAN N)` when a
/// neighbour was heard, the honest "nothing heard" when the neighbours check listened in
/// vain (or a capture's discovery frames did not decode), `None` when it did not run (a
/// capture without LLDP or CDP, an older report).
pub fn neighbour_line(report: &Report) -> Option<String> {
    if let Some(line) = &report.neighbour {
        return Some(line.sentence());
    }
    let ev = report.neighbours_evidence()?;
    if ev.listen_error.is_some() && ev.neighbours.is_empty() {
        return Some("Switch: unknown (could not listen for LLDP/CDP)".into());
    }
    if ev.capture.is_some() {
        return Some("Switch: unknown (the capture's LLDP/CDP frames did not decode)".into());
    }
    Some(if ev.waited {
        format!("Switch: nothing heard in {:.0} s (LLDP/CDP)", ev.listened_ms as f64 / 1000.0)
    } else {
        format!(
            "Switch: nothing heard during the run ({:.1} s; `--neighbours` waits for the switch)",
            ev.listened_ms as f64 / 1000.0
        )
    })
}

/// The IPv6 layer in one line: each router heard (link-local, MAC, flags, prefixes with
/// their L/A flags, MTU, RDNSS), then the global addresses with their kind, then notices.
fn ipv6_details(ev: &crate::check::ipv6::Ipv6Evidence) -> String {
    let mut parts: Vec<String> = ev
        .routers
        .iter()
        .map(|r| {
            let mut text = format!("RA from {}", r.source);
            if let Some(mac) = r.mac {
                text.push_str(&format!(" ({mac})"));
            }
            let flags: String =
                [(r.managed, 'M'), (r.other_config, 'O')].iter().filter(|(on, _)| *on).map(|(_, c)| *c).collect();
            if !flags.is_empty() {
                text.push_str(&format!(" {flags}"));
            }
            text.push_str(&format!(" lifetime {} s", r.router_lifetime_s));
            for p in &r.prefixes {
                let la: String =
                    [(p.on_link, 'L'), (p.autonomous, 'A')].iter().filter(|(on, _)| *on).map(|(_, c)| *c).collect();
                text.push_str(format!(" {}/{} {la}", p.prefix, p.prefix_len).trim_end());
            }
            if let Some(mtu) = r.mtu {
                text.push_str(&format!(" MTU {mtu}"));
            }
            if !r.rdnss.is_empty() {
                let dns: Vec<String> = r.rdnss.iter().map(|ip| ip.to_string()).collect();
                text.push_str(&format!(" RDNSS {}", dns.join(" ")));
            }
            text
        })
        .collect();
    if parts.is_empty() && ev.solicitation.as_ref().is_some_and(|s| s.status == crate::check::ipv6::SolicitStatus::Sent)
    {
        parts.push("no router answered".into());
    }
    let globals: Vec<String> = ev
        .addresses
        .iter()
        .filter(|a| a.scope == crate::platform::netlink::AddrScope::Global)
        .map(|a| {
            let state = if a.dad_failed {
                " DAD failed"
            } else if a.tentative {
                " tentative"
            } else {
                ""
            };
            format!("{}/{} {}{state}", a.address, a.prefix_len, a.kind.as_str())
        })
        .collect();
    if globals.is_empty() {
        parts.push("no global address".into());
    } else {
        parts.push(globals.join(", "));
    }
    let mut text = parts.join("; ");
    if !ev.notices.is_empty() {
        let codes: Vec<&str> = ev.notices.iter().map(|n| n.code.as_str()).collect();
        text.push_str(&format!("; notices: {}", codes.join(", ")));
    }
    text
}

/// The web layer in one line: the connectivity verdict, then each target's final status
/// (or failed phase), total time and TLS version.
fn web_details(ev: &crate::check::web::WebEvidence) -> String {
    use crate::check::web::{ConnectivityState, WebProbe};
    let probe_line = |p: &WebProbe| {
        let Some(last) = p.last() else { return format!("{} not fetched", p.url) };
        let mut text = match (last.status, &last.error) {
            (_, Some(e)) if e.phase != crate::check::web::Phase::Transfer => {
                format!("{} {} failed", p.url, e.phase.as_str())
            }
            (Some(status), _) => format!("{} {status}", p.url),
            (None, _) => format!("{} no answer", p.url),
        };
        if let Some(ms) = p.total_ms {
            text.push_str(&format!(" {ms:.1} ms"));
        }
        if let Some(tls) = &last.tls
            && let Some(version) = &tls.version
        {
            text.push_str(&format!(" {version}"));
        }
        if p.hops.len() > 1 {
            text.push_str(&format!(" after {} redirects", p.hops.len() - 1));
        }
        text
    };
    let mut parts = Vec::new();
    if let Some(c) = &ev.connectivity {
        parts.push(match (c.state, &c.portal_url) {
            (ConnectivityState::Portal, Some(url)) => format!("captive portal at {url}"),
            (state, _) => format!("connectivity {}: {}", state.as_str(), probe_line(&c.probe)),
        });
    }
    parts.extend(ev.targets.iter().map(|p| {
        // A URL also requested over each family: how each ended.
        let mut line = probe_line(p);
        if let Some(u) = ev.families.iter().find(|u| u.url == p.url) {
            let each: Vec<String> = u
                .attempts
                .iter()
                .map(|a| format!("{} {}", a.attempt.family.name(), a.attempt.outcome.as_str()))
                .collect();
            line.push_str(&format!(" ({})", each.join(", ")));
        }
        line
    }));
    parts.join(", ")
}

/// One fetched URL of the web layer, as the table and Markdown formats list it.
#[derive(Debug, Clone, PartialEq)]
pub struct WebRow {
    /// `connectivity (online)`, `connectivity (portal)`, ... for the connectivity probe;
    /// `URL` for a `--url` target.
    pub probe: String,
    /// The URL as given (never with credentials).
    pub url: String,
    /// The final status (`200`, `302 → 200` through redirects), or the phase that failed
    /// (`connect failed`, `tls failed (timeout)`), or `no answer`.
    pub status: String,
    /// Wall time of the whole probe, ms.
    pub total_ms: Option<f64>,
    /// The final request's phases in words (`DNS 1.0 ms, connect 0.4 ms, ...`).
    pub phases: String,
    /// The captive portal's page, for the connectivity probe behind one.
    pub portal_url: Option<String>,
}

/// The columns of the web table (table and Markdown formats).
pub const WEB_COLUMNS: [&str; 5] = ["Probe", "URL", "Status", "Time", "Phases"];

impl WebRow {
    /// The row's cells, in [`WEB_COLUMNS`] order (the portal's page after the status).
    pub fn cells(&self) -> [String; 5] {
        let status = match &self.portal_url {
            Some(url) => format!("{}, sign in at {url}", self.status),
            None => self.status.clone(),
        };
        [
            self.probe.clone(),
            without_credentials(&self.url),
            without_credentials(&status),
            self.total_ms.map_or_else(|| "-".to_string(), |ms| format!("{ms:.1} ms")),
            self.phases.clone(),
        ]
    }
}

/// A phase's name as people read it.
pub fn phase_label(phase: crate::check::web::Phase) -> &'static str {
    use crate::check::web::Phase;
    match phase {
        Phase::Resolve => "DNS",
        Phase::Connect => "connect",
        Phase::Tls => "TLS",
        Phase::Processing => "first byte",
        Phase::Transfer => "transfer",
    }
}

/// The status of a probe in words: each answer of the redirect chain (`302 → 200`), or
/// the phase that failed.
pub fn web_status(probe: &crate::check::web::WebProbe) -> String {
    let mut steps: Vec<String> = Vec::new();
    for hop in &probe.hops {
        steps.push(match (&hop.error, hop.status) {
            (Some(e), _) if e.phase != crate::check::web::Phase::Transfer => {
                format!("{} failed{}", phase_label(e.phase), if e.timeout { " (timeout)" } else { "" })
            }
            (_, Some(status)) => status.to_string(),
            (_, None) => "no answer".to_string(),
        });
    }
    if let Some(e) = &probe.error {
        steps.push(match e.kind {
            crate::check::web::ProbeErrorKind::InvalidUrl => "invalid URL".to_string(),
            crate::check::web::ProbeErrorKind::TooManyRedirects => "too many redirects".to_string(),
        });
    }
    if steps.is_empty() { "not fetched".to_string() } else { steps.join(" → ") }
}

/// The final request's phases in words, e.g. `DNS 1.0 ms, connect 0.4 ms, TLS 3.1 ms,
/// first byte 2.0 ms, transfer 0.3 ms` (only those measured).
pub fn web_phases(probe: &crate::check::web::WebProbe) -> String {
    let Some(hop) = probe.last() else { return String::new() };
    hop.phase_ms()
        .iter()
        .filter_map(|(phase, ms)| ms.map(|ms| format!("{} {ms:.1} ms", phase_label(*phase))))
        .collect::<Vec<_>>()
        .join(", ")
}

/// One row per fetched URL: the connectivity probe first, then the targets in order
/// (pure; empty without web evidence).
pub fn web_rows(report: &Report) -> Vec<WebRow> {
    let Some(web) = report.web_evidence() else { return vec![] };
    let row = |probe: String, p: &crate::check::web::WebProbe, portal_url: Option<String>| WebRow {
        probe,
        url: without_credentials(&p.url),
        status: web_status(p),
        total_ms: p.total_ms,
        phases: web_phases(p),
        portal_url: portal_url.map(|u| without_credentials(&u)),
    };
    let mut rows: Vec<WebRow> = web
        .connectivity
        .iter()
        .map(|c| {
            let portal = c.portal_url.clone().filter(|_| c.state == crate::check::web::ConnectivityState::Portal);
            row(format!("connectivity ({})", c.state.as_str()), &c.probe, portal)
        })
        .collect();
    rows.extend(web.targets.iter().map(|t| row("URL".to_string(), t, None)));
    rows
}

/// `text` with the user information (`user:password@`) of every URL in it removed:
/// credentials are never printed, with or without `--redact` (pure).
pub fn without_credentials(text: &str) -> String {
    crate::check::web::scrub_credentials(text)
}

/// The path layer in one line: per destination its status and the largest size that
/// passed (and the smallest lost), then the notices' codes.
fn path_details(ev: &crate::check::path::PathEvidence) -> String {
    use crate::check::path::PathStatus;
    let mut parts: Vec<String> = ev
        .destinations
        .iter()
        .map(|p| {
            let mut text = format!("{} {}", p.address, p.status.as_str());
            match (p.status, p.largest_ok, p.smallest_lost) {
                (PathStatus::Full, Some(ok), _) => text.push_str(&format!(" {ok}")),
                (_, Some(ok), Some(lost)) => text.push_str(&format!(" {ok} ok, {lost} lost")),
                (_, Some(ok), None) => text.push_str(&format!(" {ok} ok")),
                _ => {}
            }
            if let Some(mtu) = p.reported_mtu {
                text.push_str(&format!(" (announced {mtu})"));
            }
            text
        })
        .collect();
    if let Some(mtu) = ev.interface_mtu {
        parts.insert(0, format!("interface MTU {mtu}"));
    }
    if !ev.notices.is_empty() {
        let codes: Vec<&str> = ev.notices.iter().map(|n| n.code.as_str()).collect();
        parts.push(format!("notices: {}", codes.join(", ")));
    }
    parts.join(", ")
}

fn link_details(ev: &LinkEvidence) -> String {
    let Some(i) = &ev.interface else { return "no interface".into() };
    // Carrier is what the check judges; the kernel's operstate can lag behind it.
    let state = match (i.carrier, i.oper_state.as_str()) {
        // What the check says: the link is up (administratively) without a carrier.
        (Some(false), _) => "no carrier".to_string(),
        (Some(true), "up" | "") => "up".to_string(),
        (Some(true), op) => format!("up (operstate {op})"),
        (_, "") => "unknown".to_string(),
        (_, op) => op.to_string(),
    };
    let mut parts = vec![format!("{} {state}", i.name)];
    if let Some(mac) = i.mac {
        parts.push(mac.to_string());
    }
    // The kernel keeps the last negotiated speed without a carrier: not worth showing.
    if let Some(speed) = ev.speed_mbps.filter(|_| i.carrier == Some(true)) {
        parts.push(format!("{speed} Mb/s {}", ev.duplex.as_deref().unwrap_or("")).trim().to_string());
    }
    if let Some(mtu) = i.mtu {
        parts.push(format!("MTU {mtu}"));
    }
    parts.join(", ")
}

fn dhcp_details(ev: &DhcpEvidence) -> String {
    use crate::check::dhcp::ProbeStatus;
    let mut parts = Vec::new();
    match ev.usable_ipv4 {
        None => parts.push("no usable IPv4 address".to_string()),
        Some(ip) => parts.push(match ev.ipv4.iter().find(|a| a.address == std::net::IpAddr::V4(ip)) {
            Some(a) if a.dynamic => match a.valid_lft_s {
                Some(lft) => format!("{ip}/{} (dynamic, valid {lft} s)", a.prefix_len),
                None => format!("{ip}/{} (dynamic)", a.prefix_len),
            },
            // Static only when no DHCP client holds a lease for it either.
            Some(a) if ev.leases.is_empty() => format!("{ip}/{} (static)", a.prefix_len),
            Some(a) => format!("{ip}/{}", a.prefix_len),
            None => ip.to_string(),
        }),
    }
    if ev.probe.status == ProbeStatus::Ran {
        let mut servers: Vec<String> = Vec::new();
        for offer in &ev.probe.offers {
            let server = offer.server.to_string();
            if !servers.contains(&server) {
                servers.push(server);
            }
        }
        parts.push(match (servers.is_empty(), ev.probe.first_offer_ms) {
            (true, _) => "no offer".to_string(),
            (false, Some(ms)) => format!("offer from {} (first in {ms:.0} ms)", servers.join(", ")),
            (false, None) => format!("offer from {}", servers.join(", ")),
        });
    }
    if let Some(full) = &ev.full {
        parts.push(match (&full.reply, full.request_ms, &full.error) {
            (Some(reply), Some(ms), _) => format!("DORA: {} from {} in {ms:.0} ms", kind_name(reply), reply.server),
            (Some(reply), None, _) => format!("DORA: {} from {}", kind_name(reply), reply.server),
            (None, _, Some(error)) => format!("DORA failed: {error}"),
            (None, _, None) => "DORA: no answer to the REQUEST".to_string(),
        });
    }
    parts.join(", ")
}

/// A DHCP message type as RFC 2131 writes it (`ACK`, `NAK`, ...).
fn kind_name(reply: &crate::platform::dhcp::DhcpReply) -> String {
    format!("{:?}", reply.kind).to_uppercase()
}

fn gateway_details(ev: &GatewayEvidence) -> String {
    let ping = |line: &mut String, p: &Option<crate::check::gateway::PingStats>| {
        if let Some(p) = p {
            line.push_str(&format!(", ping {}/{}", p.received, p.sent));
            if let (Some(avg), Some(jit)) = (p.avg_ms, p.jitter_ms) {
                line.push_str(&format!(" avg {avg:.2} ms jitter {jit:.2} ms"));
            }
        }
    };
    let v4 = ev.gateways.iter().map(|g| {
        let mut line = g.address.to_string();
        match g.arp.mac {
            Some(mac) => line.push_str(&format!(" ({mac})")),
            None => line.push_str(&format!(" ARP {}", g.arp.status)),
        }
        ping(&mut line, &g.ping);
        line
    });
    // The IPv6 routers after the IPv4 gateways, the solicitation in place of ARP.
    let v6 = ev.gateways_v6.iter().map(|g| {
        let mut line = format!("IPv6 {}", g.address);
        match g.ns.mac {
            Some(mac) => line.push_str(&format!(" ({mac})")),
            None => line.push_str(&format!(" NS {}", g.ns.status)),
        }
        ping(&mut line, &g.ping);
        line
    });
    let lines: Vec<String> = v4.chain(v6).collect();
    if lines.is_empty() {
        "no default route".into()
    } else if ev.gateways.is_empty() {
        format!("no IPv4 default route; {}", lines.join("; "))
    } else {
        lines.join("; ")
    }
}

fn wifi_details(ev: &WifiEvidence) -> String {
    let Some(l) = &ev.link else {
        return if ev.associated { String::new() } else { "not associated".into() };
    };
    let mut head = vec![l.ssid.clone().unwrap_or_else(|| "hidden network".to_string())];
    if let Some(band) = l.band {
        head.push(band.label().to_string());
    }
    if let Some(ch) = l.channel {
        head.push(format!("ch {ch}"));
    }
    let mut parts = vec![head.join(" ")];
    if let Some(dbm) = l.signal_dbm {
        parts.push(format!("{dbm:.0} dBm"));
    }
    if let Some(snr) = l.snr_db {
        parts.push(format!("SNR {snr:.0} dB"));
    }
    if let Some(rate) = l.tx_bitrate_mbps {
        parts.push(format!("{rate:.0} Mbit/s"));
    }
    parts.join(", ")
}

/// The line for evidence this version has no type for; today that is a report of
/// `nettriage analyze`, whose DHCP evidence counts the transactions seen in the capture.
// TODO(analyze helper): goes away once analyze produces the layers' evidence types.
fn capture_details(id: CheckId, ev: &serde_json::Value) -> String {
    match (id, ev.get("transactions_total")) {
        (CheckId::Dhcp, Some(total)) if total.is_number() => {
            let servers: Vec<String> = ev["servers"]
                .as_array()
                .into_iter()
                .flatten()
                .map(|sv| sv["server"].as_str().map_or_else(|| sv["server"].to_string(), str::to_string))
                .collect();
            format!("{total} transaction(s) in the capture; servers: {}", servers.join(", "))
        }
        _ => String::new(),
    }
}

/// The report's packet capture as (label, value) rows for the human formats: the file, and
/// for an analysed capture its format, link types, time span, packets, what was truncated,
/// skipped or cut, and the encapsulations seen; then one row per `capture.*` note (label:
/// the code). Empty when the report has no capture.
pub fn capture_rows(report: &Report) -> Vec<(String, String)> {
    let Some(c) = &report.capture else { return vec![] };
    let mut rows = vec![("Source file".to_string(), c.path.clone())];
    let mut row = |label: &str, value: String| rows.push((label.to_string(), value));
    if let Some(format) = &c.format {
        row("Format", format.clone());
    }
    if !c.link_types.is_empty() {
        row("Link types", c.link_types.join(", "));
    }
    if let (Some(first), Some(last)) = (c.first_packet, c.last_packet) {
        let span = last.0.duration_since(first.0).unwrap_or_default();
        row("Time span", format!("{first} to {last} ({:.3} s)", span.as_secs_f64()));
    }
    row("Packets", c.packets.to_string());
    for (label, count) in [
        ("Truncated records", c.truncated_records),
        ("Skipped records", c.skipped_records),
        ("Bad timestamps", c.bad_timestamps),
    ] {
        if let Some(n) = count.filter(|n| *n > 0) {
            row(label, n.to_string());
        }
    }
    if let Some(cut) = &c.cut {
        row("Cut", cut.clone());
    }
    if !c.vlans.is_empty() {
        row("VLANs", c.vlans.iter().map(u16::to_string).collect::<Vec<_>>().join(", "));
    }
    if !c.tunnels.is_empty() {
        let tunnels: Vec<String> = c
            .tunnels
            .iter()
            .map(|t| {
                let id = t.id.map(|id| format!(" {} {id}", if t.kind == "vxlan" { "VNI" } else { "key" }));
                format!("{}{} ({} packets)", t.kind.to_uppercase(), id.unwrap_or_default(), t.packets)
            })
            .collect();
        row("Tunnels", tunnels.join(", "));
    }
    for note in &c.notes {
        rows.push((note.code.to_string(), note.message.clone()));
    }
    rows
}

/// A fixed, realistic report (DNS down in the lab) for renderer tests and snapshots.
#[cfg(test)]
pub(crate) fn sample_report() -> Report {
    use crate::check::ports::PortOutcome;
    use crate::report::fixtures;
    use crate::report::*;
    let check = |id, status, findings: Vec<Finding>, evidence: Evidence, blocked_by| CheckResult {
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
        check(CheckId::Link, CheckStatus::Pass, vec![], fixtures::link("eth0", Some(1000)), None),
        check(CheckId::Wifi, CheckStatus::Skipped, vec![], fixtures::wired_wifi(), None),
        check(CheckId::Dhcp, CheckStatus::Pass, vec![], fixtures::dhcp("198.18.0.10", 24, Some(3000)), None),
        check(
            CheckId::Gateway,
            CheckStatus::Pass,
            vec![],
            fixtures::gateway("198.18.0.1", &[Some(0.2), Some(0.3), None, Some(0.25), Some(0.25)]),
            None,
        ),
        check(
            CheckId::Dns,
            CheckStatus::Fail,
            vec![dns_fail.clone()],
            fixtures::dns(&[("198.18.0.1", "dns.timeout", None)]),
            None,
        ),
        check(
            CheckId::Ports,
            CheckStatus::Pass,
            vec![],
            fixtures::ports(&[("198.18.1.2:8080", PortOutcome::Open, Some(0.4))]),
            None,
        ),
    ];
    crate::report::test_report(checks, "2026-11-24T07:00:00.000Z", 3420)
}

/// The sample report with a web layer: a connectivity probe redirected to a portal (its
/// URL with parameters), an HTTPS target with its phases, TLS session and certificate, and
/// a target whose connect failed; the target URL carries credentials a renderer must drop.
#[cfg(test)]
pub(crate) fn web_sample_report() -> Report {
    use crate::check::web::*;
    let check_url = "http://check.site.test/ok";
    let login = "http://198.18.1.2/login?mac=02:00:00:00:00:10";
    let hops = vec![
        HttpHop {
            url: check_url.into(),
            dns_ms: Some(1.0),
            connect_ms: Some(0.5),
            first_byte_ms: Some(2.0),
            total_ms: Some(4.0),
            status: Some(302),
            location: Some(login.into()),
            ..HttpHop::default()
        },
        HttpHop {
            url: login.into(),
            connect_ms: Some(0.4),
            first_byte_ms: Some(1.1),
            total_ms: Some(2.0),
            status: Some(200),
            ..HttpHop::default()
        },
    ];
    let probe = WebProbe { url: check_url.into(), hops, error: None, total_ms: Some(6.5) };
    let (state, portal_url) = assess(&probe, 204, None);
    let https = "https://www.site.test/";
    let tls = TlsInfo {
        verdict: TlsVerdict::Ok,
        version: Some("TLSv1_3".into()),
        cipher: Some("TLS13_AES_256_GCM_SHA384".into()),
        alpn: Some("http/1.1".into()),
        chain: vec![CertInfo {
            subject: "CN=www.site.test".into(),
            issuer: "CN=nettriage lab CA".into(),
            sans: vec!["www.site.test".into(), "app.site.test".into()],
            not_before: Some("2026-11-01T00:00:00Z".parse().unwrap()),
            not_after: Some("2027-01-03T07:00:00Z".parse().unwrap()),
        }],
        error: None,
        ..TlsInfo::default()
    };
    let ok = HttpHop {
        url: https.into(),
        address: Some("198.18.1.2:443".parse().unwrap()),
        dns_ms: Some(1.2),
        connect_ms: Some(0.6),
        tls_ms: Some(4.8),
        first_byte_ms: Some(1.5),
        total_ms: Some(8.6),
        status: Some(200),
        tls: Some(tls),
        ..HttpHop::default()
    };
    let down_url = "http://user:hunter2@app.site.test:8081/api?key=k";
    let down = HttpHop {
        url: down_url.into(),
        dns_ms: Some(0.9),
        error: Some(HopError {
            phase: Phase::Connect,
            timeout: false,
            message: format!("connect to {down_url}: refused"),
        }),
        ..HttpHop::default()
    };
    let ev = WebEvidence {
        connectivity: Some(ConnectivityProbe {
            expect_status: 204,
            expect_body: None,
            body_matched: None,
            probe,
            state,
            portal_url,
        }),
        targets: vec![
            WebProbe { url: https.into(), hops: vec![ok], error: None, total_ms: Some(8.6) },
            WebProbe { url: down_url.into(), hops: vec![down], error: None, total_ms: Some(1.0) },
        ],
        ..WebEvidence::default()
    };
    let findings = judge(&ev);
    let mut report = sample_report();
    // The name server answers here: the portal is what is wrong.
    let dns = report.checks.iter_mut().find(|c| c.id == CheckId::Dns).expect("a dns check");
    dns.status = CheckStatus::Pass;
    dns.findings.clear();
    dns.evidence = crate::report::fixtures::dns(&[("198.18.0.1", "ok", Some(1.0))]);
    let web = CheckResult {
        id: CheckId::Web,
        status: crate::check::status_of(&findings),
        duration_ms: 9,
        blocked_by: None,
        reason: None,
        reason_code: None,
        findings,
        evidence: Evidence::Web(Box::new(ev)),
    };
    let at = report.checks.iter().position(|c| c.id == CheckId::Ports).unwrap_or(report.checks.len());
    report.checks.insert(at, web);
    report.diagnosis = crate::diagnosis::diagnose(&report.checks);
    report
}

/// A report holding service profile checks (#15 item 3): their evidence as a newer or
/// foreign build may store it (`Evidence::Other`), a failing one with a finding.
#[cfg(test)]
pub(crate) fn report_with_profiles(started_at: &str) -> Report {
    use crate::report::{Finding, Severity};
    let finding = Finding {
        code: Code::AdClockSkew,
        severity: Severity::Fail,
        layer: CheckId::Ad,
        message: "the clock is 7 minutes off the domain controller's".into(),
    };
    let profile = |id, status, findings, evidence| CheckResult {
        id,
        status,
        duration_ms: 40,
        blocked_by: None,
        reason: None,
        reason_code: None,
        findings,
        evidence,
    };
    let link = profile(CheckId::Link, CheckStatus::Pass, vec![], Evidence::None);
    let ad = profile(
        CheckId::Ad,
        CheckStatus::Fail,
        vec![finding],
        // Not an object, so no build reads it as its typed evidence (whose parts others
        // are writing): it stays `Other` through a store and a read-back.
        Evidence::Other(serde_json::json!(["corp.example", 421])),
    );
    let rdp = profile(CheckId::Rdp, CheckStatus::Pass, vec![], Evidence::Other(serde_json::json!(["ts1"])));
    crate::report::test_report(vec![link, ad, rdp], started_at, 10)
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
    fn the_ipv6_row_lists_each_router_and_the_global_addresses() {
        use crate::check::ipv6::{AddrKind, Ipv6Evidence, V6Address};
        use crate::check::ipv6::{SolicitStatus, Solicitation};
        let router = super::dual_stack::lab_router(1500);
        let mut ev = Ipv6Evidence {
            interface: "eth0".into(),
            enabled: true,
            sysctl: Default::default(),
            solicitation: Some(Solicitation {
                status: SolicitStatus::Sent,
                reason: None,
                listened_ms: Some(153.0),
                received: 1,
                invalid: 0,
                dropped: 0,
            }),
            ra_mtu: Some(1500),
            routers: vec![router],
            kernel_ra_routes: vec![],
            addresses: vec![V6Address {
                address: "2001:2:0:1::10".parse().unwrap(),
                prefix_len: 64,
                kind: AddrKind::Slaac,
                scope: crate::platform::netlink::AddrScope::Global,
                tentative: false,
                dad_failed: true,
                valid_lft_s: None,
                preferred_lft_s: None,
            }],
            resolvers: vec![],
            notices: vec![],
            capture: None,
        };
        let result = |ev: &Ipv6Evidence| CheckResult {
            id: CheckId::Ipv6,
            status: CheckStatus::Pass,
            duration_ms: 1,
            blocked_by: None,
            reason: None,
            reason_code: None,
            findings: vec![],
            evidence: Evidence::Ipv6(Box::new(ev.clone())),
        };
        assert_eq!(
            details(&result(&ev)),
            "RA from fe80::1 (02:00:00:00:00:01) O lifetime 1800 s 2001:2:0:1::/64 LA MTU 1500 RDNSS 2001:2:0:2::2; \
             2001:2:0:1::10/64 slaac DAD failed"
        );
        ev.routers.clear();
        ev.addresses.clear();
        ev.notices = crate::check::ipv6::notices(&ev);
        assert_eq!(details(&result(&ev)), "no router answered; no global address; notices: ipv6.no_router");
    }

    #[test]
    fn the_dhcp_row_shows_what_dhcp_said_and_no_carrier_shows_no_speed() {
        use crate::report::fixtures::{dhcp, link, typed};
        let result = |id, evidence| CheckResult {
            id,
            status: CheckStatus::Warn,
            duration_ms: 1,
            blocked_by: None,
            reason: None,
            reason_code: None,
            findings: vec![],
            evidence,
        };
        assert_eq!(details(&result(CheckId::Dhcp, dhcp("198.18.0.10", 24, None))), "198.18.0.10/24 (static)");
        let Evidence::Dhcp(mut ev) = dhcp("198.18.0.10", 24, None) else { unreachable!() };
        ev.probe = typed(serde_json::json!({"status": "ran", "offers": [
            {"kind": "offer", "server": "198.18.0.66", "server_mac": "02:00:00:00:00:66", "address": "198.18.0.150",
             "options": {}, "relay_agent_info": false, "ms": 3.2}], "first_offer_ms": 3.2}));
        ev.full = Some(typed(serde_json::json!({"mac": "02:6e:74:00:00:01", "client_id": "nt",
            "reply": {"kind": "ack", "server": "198.18.0.66", "server_mac": "02:00:00:00:00:66", "address": "198.18.0.151",
                      "options": {}, "relay_agent_info": false, "ms": 9.0},
            "request_ms": 9.0, "released": true})));
        assert_eq!(
            details(&result(CheckId::Dhcp, Evidence::Dhcp(ev))),
            "198.18.0.10/24 (static), offer from 198.18.0.66 (first in 3 ms), DORA: ACK from 198.18.0.66 in 9 ms"
        );
        let Evidence::Link(mut ev) = link("eth0", Some(10_000)) else { unreachable!() };
        assert!(link_details(&ev).contains("10000 Mb/s full"));
        ev.interface.as_mut().unwrap().carrier = Some(false);
        assert_eq!(link_details(&ev), "eth0 no carrier, 02:00:00:00:00:10, MTU 1500");
    }

    #[test]
    fn ipv6_routers_and_per_family_connects_show_in_the_details() {
        use crate::check::gateway::{ArpResult, ArpStatus, GatewayV6Probe, PingStats};
        use crate::check::ports::{FamilyProbe, PortOutcome, PortsEvidence, fold_families};
        use crate::report::fixtures::gateway;
        use crate::types::IpFamily;
        let result = |id, evidence| CheckResult {
            id,
            status: CheckStatus::Warn,
            duration_ms: 1,
            blocked_by: None,
            reason: None,
            reason_code: None,
            findings: vec![],
            evidence,
        };
        let Evidence::Gateway(mut ev) = gateway("198.18.0.1", &[Some(1.0)]) else { unreachable!() };
        ev.gateways_v6.push(GatewayV6Probe {
            address: "fe80::1".parse().unwrap(),
            ns: ArpResult { status: ArpStatus::NoReply, mac: None, rtt_ms: None, requests_sent: 3, seen: None },
            ping: None,
        });
        assert_eq!(
            details(&result(CheckId::Gateway, Evidence::Gateway(ev.clone()))),
            "198.18.0.1 (02:00:00:00:00:01), ping 1/1; IPv6 fe80::1 NS no_reply"
        );
        ev.gateways_v6[0].ns.status = ArpStatus::Answered;
        ev.gateways_v6[0].ping = Some(PingStats::from_rtts(&[None]));
        ev.gateways.clear();
        assert_eq!(gateway_details(&ev), "no IPv4 default route; IPv6 fe80::1 NS answered, ping 0/1");
        let attempt = |a: &str, outcome, ms| {
            let address: std::net::SocketAddr = a.parse().unwrap();
            FamilyProbe { family: IpFamily::of(address.ip()), address, outcome, ms: Some(ms), error: None, mss: None }
        };
        let t = fold_families(
            "www.site.test:443".into(),
            vec![
                attempt("198.18.1.2:443", PortOutcome::Open, 1.0),
                attempt("[2001:2::2]:443", PortOutcome::Filtered, 2000.0),
            ],
        );
        let ports = Evidence::Ports(Box::new(PortsEvidence { targets: vec![t], capture: None }));
        assert_eq!(
            details(&result(CheckId::Ports, ports)),
            "www.site.test:443 (IPv4 open 1.0 ms, IPv6 filtered 2000.0 ms)"
        );
    }

    #[test]
    fn table_snapshot() {
        insta::assert_snapshot!(render(Format::Table));
    }

    #[test]
    fn markdown_snapshot_and_it_renders_as_a_table() {
        let md = render(Format::Markdown);
        insta::assert_snapshot!(md);
        let html = markdown_as_html(&md);
        assert!(html.contains("<table>") && html.contains("<td>Name servers (DNS)</td>"), "{html}");
        assert!(html.contains("<code>dns.timeout</code>"));
    }

    /// What a Markdown viewer makes of `md` (tables on), to check the tables survive.
    fn markdown_as_html(md: &str) -> String {
        let mut html = String::new();
        let parser = pulldown_cmark::Parser::new_ext(md, pulldown_cmark::Options::ENABLE_TABLES);
        pulldown_cmark::html::push_html(&mut html, parser);
        html
    }

    fn render_web(format: Format) -> String {
        let mut out = Vec::new();
        write(&web_sample_report(), format, &mut out, false).unwrap();
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn web_rows_give_each_url_its_status_time_phases_and_the_portal() {
        let rows = web_rows(&web_sample_report());
        let cells: Vec<(&str, &str, Option<f64>)> =
            rows.iter().map(|r| (r.probe.as_str(), r.status.as_str(), r.total_ms)).collect();
        assert_eq!(
            cells,
            [
                ("connectivity (portal)", "302 → 200", Some(6.5)),
                ("URL", "200", Some(8.6)),
                ("URL", "connect failed", Some(1.0)),
            ]
        );
        assert_eq!(rows[0].portal_url.as_deref(), Some("http://198.18.1.2/login?mac=02:00:00:00:00:10"));
        assert_eq!(rows[1].phases, "DNS 1.2 ms, connect 0.6 ms, TLS 4.8 ms, first byte 1.5 ms, transfer 0.5 ms");
        assert_eq!(rows[2].url, "http://app.site.test:8081/api?key=k", "credentials dropped, the query kept");
        assert!(web_rows(&sample_report()).is_empty());
    }

    #[test]
    fn table_snapshot_with_the_web_layer() {
        insta::assert_snapshot!(render_web(Format::Table));
    }

    #[test]
    fn markdown_snapshot_with_the_web_layer() {
        let md = render_web(Format::Markdown);
        insta::assert_snapshot!(md);
        let html = markdown_as_html(&md);
        assert!(html.contains("<th>Phases</th>") && html.contains("<td>302 → 200, sign in at"), "{html}");
    }

    #[test]
    fn no_format_prints_url_credentials() {
        for format in [Format::Table, Format::Markdown, Format::Html, Format::Json] {
            let text = render_web(format);
            assert!(!text.contains("hunter2") && !text.contains("user:"), "{format:?} prints credentials");
            assert!(text.contains("app.site.test:8081/api"), "{format:?} lost the URL");
        }
    }

    #[test]
    fn markdown_for_tickets_is_short_with_the_full_evidence_folded() {
        let md = render(Format::Markdown);
        let (visible, folded) = md.split_at(md.find(markdown::DETAILS_OPEN).expect("a <details> block"));
        // Verdict, sentence, host, a table of six layers, root cause, steps, findings.
        assert!(visible.lines().count() <= 40, "{} visible lines:\n{visible}", visible.lines().count());
        assert!(folded.trim_end().ends_with("</details>"));
        let start = folded.find("````json\n").unwrap() + "````json\n".len();
        let json = &folded[start..start + folded[start..].find("\n````").unwrap()];
        let evidence: serde_json::Map<String, serde_json::Value> = serde_json::from_str(json).unwrap();
        let report = sample_report();
        for check in report.checks.iter().filter(|c| !c.evidence.is_none()) {
            assert_eq!(evidence[&check.id.to_string()], serde_json::to_value(&check.evidence).unwrap(), "{}", check.id);
        }
    }

    #[test]
    fn headers_of_an_analysed_capture_name_the_file_not_a_machine() {
        let mut report = sample_report();
        report.host.hostname = "analyser-vm".into();
        report.interface = None;
        report.capture = Some(crate::report::CaptureInfo {
            path: "site-a.pcapng".into(),
            packets: 12,
            format: Some("pcapng".into()),
            ..Default::default()
        });
        for format in [Format::Table, Format::Markdown, Format::Html] {
            let mut out = Vec::new();
            write(&report, format, &mut out, false).unwrap();
            let text = String::from_utf8(out).unwrap();
            // The header: the table's first line, Markdown's host line, HTML's title and meta line.
            let header: String = match format {
                Format::Table => text.lines().next().unwrap().to_string(),
                Format::Markdown => text.lines().nth(4).unwrap().to_string(),
                _ => {
                    let head = &text[..text.find("<ol class=\"ladder\">").unwrap()];
                    head[..head.find("</title>").unwrap()].to_string()
                        + &head[head.find("<div class=\"meta\">").unwrap()..]
                }
            };
            assert!(header.contains("site-a.pcapng") && !header.contains("analyser-vm"), "{format:?}: {header}");
        }
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
        wifi.status = CheckStatus::Pass;
        wifi.evidence = crate::report::fixtures::wifi(
            "Lab-5G",
            -48.0,
            serde_json::json!({"status": "ran", "floor_dbm": -82,
            "access_points": [
                {"ssid": "Lab-2G", "bssid": "02:00:00:00:0a:01", "freq_mhz": 2437, "channel": 6, "band": "2.4GHz",
                 "signal_dbm": -71.0, "security": {"protocol": "wpa2"}},
                {"ssid": null, "bssid": "02:00:00:00:0a:02", "freq_mhz": 5180, "channel": 36, "band": "5GHz",
                 "signal_dbm": -48.0, "security": {"protocol": "open"}}
            ],
            "best_channels": [{"channel": 1}, {"channel": 11}]}),
        );
        let (rows, best) = wifi_neighbours(&r);
        assert_eq!(rows[0][0], "(hidden)", "strongest first");
        assert_eq!(rows[1][4], "-71 dBm");
        assert_eq!((rows[1][3].as_str(), rows[1][5].as_str()), ("2.4 GHz", "wpa2"));
        assert_eq!(best.as_deref(), Some("Least crowded channels: 1, 11"));
        for format in [Format::Table, Format::Markdown, Format::Html] {
            let mut out = Vec::new();
            write(&r, format, &mut out, false).unwrap();
            let text = String::from_utf8(out).unwrap();
            assert!(text.contains("Lab-2G") && text.contains("Least crowded channels"), "{format:?}:\n{text}");
        }
    }

    #[test]
    fn path_searches_show_their_sizes_and_notices_in_every_human_format() {
        use crate::check::path::{PathEvidence, PathProbe, PathStatus, Role, notices};
        use crate::report::Code;
        let mut r = sample_report();
        let probe = |status, largest_ok, smallest_lost, reported_mtu| PathProbe {
            target: "198.18.1.2:8080".into(),
            role: Role::Target,
            address: "198.18.1.2".parse().unwrap(),
            status,
            full_size: 1500,
            min_size: 576,
            largest_ok: Some(largest_ok),
            smallest_lost,
            reported_mtu,
            too_big: vec![],
            probes: vec![],
            rtt_ms: Some(0.2),
            rounds: 4,
            ms: 400.0,
        };
        let mut ev = PathEvidence {
            interface_mtu: Some(1500),
            destinations: vec![probe(PathStatus::Blackhole, 1400, Some(1401), None)],
            ..PathEvidence::default()
        };
        ev.destinations.push(PathProbe {
            address: "2001:2:0:2::2".parse().unwrap(),
            ..probe(PathStatus::Reduced, 1280, Some(1500), Some(1280))
        });
        ev.notices = notices(&ev);
        let line = details(&CheckResult {
            id: CheckId::Path,
            status: CheckStatus::Fail,
            duration_ms: 400,
            blocked_by: None,
            reason: None,
            reason_code: None,
            findings: vec![],
            evidence: Evidence::Path(Box::new(ev.clone())),
        });
        for part in ["198.18.1.2 blackhole 1400 ok, 1401 lost", "(announced 1280)", Code::PathMtuReduced.as_str()] {
            assert!(line.contains(part), "{part} in {line}");
        }
        if let Some(at) = r.checks.iter().position(|c| c.id == CheckId::Path) {
            r.checks.remove(at);
        }
        let at = r.checks.iter().position(|c| c.id == CheckId::Web || c.id == CheckId::Ports).unwrap_or(r.checks.len());
        r.checks.insert(
            at,
            CheckResult {
                id: CheckId::Path,
                status: CheckStatus::Fail,
                duration_ms: 400,
                blocked_by: None,
                reason: None,
                reason_code: None,
                findings: crate::check::path::judge(&ev),
                evidence: Evidence::Path(Box::new(ev)),
            },
        );
        r.diagnosis = crate::diagnosis::diagnose(&r.checks);
        for format in [Format::Table, Format::Markdown, Format::Html] {
            let mut out = Vec::new();
            write(&r, format, &mut out, false).unwrap();
            let text = String::from_utf8(out).unwrap();
            for code in [Code::PathMtuBlackhole, Code::PathMtuReduced] {
                assert!(text.contains(code.as_str()), "{code} in {format:?}:\n{text}");
            }
        }
    }

    #[test]
    fn dns_notices_are_named_by_code_in_every_human_format() {
        use crate::check::dns::{SystemView, notices};
        use crate::platform::resolv::{ResolvConf, ResolverPaths, assemble};
        use crate::report::Code;
        let mut r = sample_report();
        let dns = r.checks.iter_mut().find(|c| c.id == CheckId::Dns).unwrap();
        let Evidence::Dns(ev) = &mut dns.evidence else { panic!("the sample's dns evidence") };
        let resolvers = assemble(&ResolverPaths::default(), Ok(ResolvConf::default()), None, None);
        let notices = notices(&resolvers);
        assert_eq!(notices[0].code, Code::DnsDefaultServer);
        ev.system = Some(Box::new(SystemView {
            resolvers,
            tested: vec![],
            glibc_wait_s: None,
            glibc_give_up_s: 10,
            notices,
            dot: vec![],
            resolvectl: None,
        }));
        for format in [Format::Table, Format::Markdown, Format::Html] {
            let mut out = Vec::new();
            write(&r, format, &mut out, false).unwrap();
            let text = String::from_utf8(out).unwrap();
            assert!(text.contains(Code::DnsDefaultServer.as_str()), "{format:?}:\n{text}");
        }
    }

    #[test]
    fn analyzed_captures_keep_a_details_line_per_layer_they_saw() {
        let capture = |name: &str| {
            let path = format!("{}/captures/{name}", env!("CARGO_MANIFEST_DIR"));
            let frames = crate::pcap::read_file(&path).unwrap();
            crate::analyze::analyze(&frames, name, "2026-11-24T07:00:00Z".parse().unwrap(), "vm".into())
        };
        let healthy = capture("lab_healthy.pcap");
        for id in [CheckId::Gateway, CheckId::Dns, CheckId::Ports] {
            let c = healthy.check(id).unwrap();
            assert!(c.status != CheckStatus::Skipped && !details(c).is_empty(), "{id}: {c:?}");
        }
        // The capture evidence is measured like a live run's, and written back as it was.
        assert!(healthy.gateway_evidence().is_some_and(|g| !g.gateways.is_empty()));
        let json = serde_json::to_value(&healthy).unwrap();
        let back: Report = serde_json::from_value(json.clone()).unwrap();
        assert_eq!(serde_json::to_value(&back).unwrap(), json);
        let dora = capture("dhcp_dora.pcap");
        assert!(!details(dora.check(CheckId::Dhcp).unwrap()).is_empty());
    }

    #[test]
    fn every_human_format_shows_the_capture_fields() {
        use crate::codes::Code;
        use crate::report::{CaptureInfo, CaptureNote};
        let mut report = sample_report();
        report.capture = Some(CaptureInfo {
            path: "/tmp/desk 214.pcapng".into(),
            packets: 18,
            format: Some("pcapng".into()),
            link_types: vec!["ETHERNET".into(), "LINUX_SLL2".into()],
            first_packet: Some("2026-11-24T06:59:58.000Z".parse().unwrap()),
            last_packet: Some("2026-11-24T07:00:01.500Z".parse().unwrap()),
            truncated_records: Some(7),
            skipped_records: Some(2),
            bad_timestamps: Some(0),
            cut: Some("the file ends inside a record".into()),
            notes: vec![CaptureNote { code: Code::CaptureTruncated, message: "7 of 18 packets were cut".into() }],
            vlans: vec![10, 20],
            tunnels: vec![crate::report::TunnelSeen { kind: "vxlan".into(), id: Some(100), packets: 6 }],
        });
        let rows = capture_rows(&report);
        let labels: Vec<&str> = rows.iter().map(|(l, _)| l.as_str()).collect();
        assert_eq!(
            labels,
            [
                "Source file",
                "Format",
                "Link types",
                "Time span",
                "Packets",
                "Truncated records",
                "Skipped records",
                "Cut",
                "VLANs",
                "Tunnels",
                "capture.truncated"
            ]
        );
        assert!(rows[3].1.ends_with("(3.500 s)"), "{}", rows[3].1);
        for format in [Format::Table, Format::Markdown, Format::Html] {
            let mut out = Vec::new();
            write(&report, format, &mut out, false).unwrap();
            let text = String::from_utf8(out).unwrap();
            for want in [
                "desk 214.pcapng",
                "pcapng",
                "ETHERNET, LINUX",
                "3.500 s",
                "10, 20",
                "VXLAN VNI 100 (6 packets)",
                "capture.truncated",
                "ends inside a record",
            ] {
                assert!(text.contains(want), "{format:?} lacks {want:?}:\n{text}");
            }
        }
        // A live run's report without a capture has no capture rows.
        assert!(capture_rows(&sample_report()).is_empty());
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
        // Nothing judged says so, and is not the healthy sentence.
        let mut unknown = sample_report();
        unknown.diagnosis = crate::report::Diagnosis { status: RunStatus::Unknown, root_cause: None, findings: vec![] };
        let mut healthy = unknown.clone();
        healthy.diagnosis.status = RunStatus::Healthy;
        assert_ne!(sentence(&unknown), sentence(&healthy));
        for format in [Format::Table, Format::Markdown, Format::Html] {
            let mut out = Vec::new();
            write(&unknown, format, &mut out, false).unwrap();
            assert!(String::from_utf8(out).unwrap().to_lowercase().contains("unknown"), "{format:?}");
        }
    }

    #[test]
    fn behind_a_portal_the_sentence_and_the_details_name_the_sign_in_page() {
        use crate::check::web::{HttpHop, WebEvidence, WebProbe, assess, judge};
        let check_url = "http://check.site.test/ok";
        let login = "http://198.18.1.2/login";
        let hops = vec![
            HttpHop { url: check_url.into(), status: Some(302), location: Some(login.into()), ..HttpHop::default() },
            HttpHop { url: login.into(), status: Some(200), ..HttpHop::default() },
        ];
        let probe = WebProbe { url: check_url.into(), hops, error: None, total_ms: Some(2.0) };
        let (state, portal_url) = assess(&probe, 200, None);
        let ev = WebEvidence {
            connectivity: Some(crate::check::web::ConnectivityProbe {
                expect_status: 200,
                expect_body: None,
                body_matched: None,
                probe,
                state,
                portal_url,
            }),
            targets: vec![],
            ..WebEvidence::default()
        };
        let findings = judge(&ev);
        let web = CheckResult {
            id: CheckId::Web,
            status: crate::check::status_of(&findings),
            duration_ms: 2,
            blocked_by: None,
            reason: None,
            reason_code: None,
            findings,
            evidence: Evidence::Web(Box::new(ev)),
        };
        let r = crate::report::test_report(vec![web.clone()], "2026-11-24T07:00:00.000Z", 10);
        assert_eq!(r.diagnosis.root_cause.as_ref().map(|c| c.code), Some(Code::WebCaptivePortal));
        assert!(sentence(&r).contains(login));
        assert!(details(&web).contains(login));
    }

    #[test]
    fn sentences_name_what_works_and_what_does_not() {
        assert_eq!(lower_first("The router"), "the router");
        assert_eq!(lower_first("DNS is down"), "DNS is down");
        assert_eq!(upper_first("the cable"), "The cable");
    }

    #[test]
    fn every_format_puts_the_switch_line_at_the_top() {
        use crate::check::neighbours::{NeighboursEvidence, line};
        use crate::platform::lldp::{Neighbour, Protocol};
        let switch = Neighbour {
            protocol: Protocol::Lldp,
            chassis_id: Some("00:11:22:33:44:55".into()),
            system_name: Some("sw-3f-<west>".into()),
            port_id: Some("Gi1/0/14".into()),
            port_vlan: Some(42),
            ..Neighbour::default()
        };
        let ev = NeighboursEvidence { interface: "eth0".into(), neighbours: vec![switch], ..Default::default() };
        let check = CheckResult {
            id: CheckId::Neighbours,
            status: CheckStatus::Pass,
            duration_ms: 900,
            blocked_by: None,
            reason: None,
            reason_code: None,
            findings: vec![],
            evidence: Evidence::Neighbours(Box::new(ev.clone())),
        };
        let mut r = crate::report::test_report(vec![check.clone()], "2026-11-24T07:00:00.000Z", 10);
        r.neighbour = line(&ev);
        let text = |format| {
            let mut out = Vec::new();
            write(&r, format, &mut out, false).unwrap();
            String::from_utf8(out).unwrap()
        };
        let table = text(Format::Table);
        assert_eq!(table.lines().nth(1), Some("Switch: sw-3f-<west> port Gi1/0/14 (VLAN 42)"));
        assert!(text(Format::Markdown).contains("Switch: sw-3f-\\<west\\> port Gi1/0/14 (VLAN 42)"));
        let html = text(Format::Html);
        assert!(html.contains("<p id=\"neighbour\">Switch: sw-3f-&lt;west&gt; port Gi1/0/14 (VLAN 42)</p>"));
        assert!(text(Format::Json).contains("\"neighbour\""));
        #[cfg(feature = "live")]
        assert!(crate::render::checklist::line(&check).ends_with("Switch: sw-3f-<west> port Gi1/0/14 (VLAN 42)"));
        // Nothing heard: said honestly, still at the top.
        let quiet = NeighboursEvidence { interface: "eth0".into(), listened_ms: 1500, ..Default::default() };
        let mut r = crate::report::test_report(
            vec![CheckResult { evidence: Evidence::Neighbours(Box::new(quiet)), ..check }],
            "2026-11-24T07:00:00.000Z",
            10,
        );
        r.neighbour = None;
        let line = neighbour_line(&r).unwrap();
        assert!(line.starts_with("Switch: nothing heard during the run"), "{line}");
        // A report without the check (a capture, an older version) has no line.
        let none = crate::report::test_report(vec![], "2026-11-24T07:00:00.000Z", 10);
        assert_eq!(neighbour_line(&none), None);
    }

    #[test]
    fn profile_checks_appear_in_every_format() {
        let r = report_with_profiles("2026-11-30T07:00:00.000Z");
        assert_eq!(r.diagnosis.root_cause.as_ref().map(|c| c.code), Some(Code::AdClockSkew));
        let text = |format| {
            let mut out = Vec::new();
            write(&r, format, &mut out, false).unwrap();
            String::from_utf8(out).unwrap()
        };
        let row = |text: &str, id: CheckId| text.lines().any(|l| l.contains(id.title()) && l.contains("fail"));
        let table = text(Format::Table);
        assert!(row(&table, CheckId::Ad), "{table}");
        assert!(table.contains(CheckId::Rdp.title()), "{table}");
        let markdown = text(Format::Markdown);
        assert!(markdown.lines().any(|l| l.starts_with(&format!("| {} |", CheckId::Ad.title()))), "{markdown}");
        assert!(markdown.contains("`ad.clock_skew`"), "{markdown}");
        let html = text(Format::Html);
        // The ladder lists every check of the report, profiles included, and each has its
        // section with the evidence.
        assert!(
            html.contains(&format!(
                "<span class=\"name\">{}</span><span class=\"st\">fail</span>",
                CheckId::Ad.title()
            ))
        );
        assert!(
            html.contains(&format!(
                "<span class=\"name\">{}</span><span class=\"st\">pass</span>",
                CheckId::Rdp.title()
            ))
        );
        assert!(html.contains("<section id=\"check-ad\">") && html.contains("<section id=\"check-rdp\">"));
        assert!(html.contains("corp.example"), "the evidence is shown");
        // JSON reads back with the profile checks in report order.
        let back: Report = serde_json::from_str(&text(Format::Json)).unwrap();
        assert_eq!(back.checks.iter().map(|c| c.id).collect::<Vec<_>>(), [CheckId::Link, CheckId::Ad, CheckId::Rdp]);
        assert_eq!(back.checks[1].findings[0].code, Code::AdClockSkew);
        #[cfg(feature = "live")]
        {
            let line = crate::render::checklist::line(&r.checks[1]);
            assert!(line.contains(crate::render::checklist::label(CheckId::Ad)), "{line}");
        }
    }

    #[test]
    fn a_diff_names_profile_checks_and_their_findings() {
        let old = crate::report::test_report(
            report_with_profiles("2026-11-30T07:00:00.000Z").checks[..1].to_vec(),
            "2026-11-30T07:00:00.000Z",
            10,
        );
        let new = report_with_profiles("2026-11-30T08:00:00.000Z");
        let d = crate::diff::diff(&old, &new);
        let ad = d.layers.iter().find(|l| l.id == "ad").expect("the ad layer in the diff");
        assert_eq!((ad.old_status.as_deref(), ad.new_status.as_deref(), ad.changed), (None, Some("fail"), true));
        assert!(d.layers.iter().any(|l| l.id == "rdp" && l.new_status.as_deref() == Some("pass")));
        assert!(d.new_findings.iter().any(|f| f.layer == "ad" && f.code == "ad.clock_skew"), "{:?}", d.new_findings);
        let back = crate::diff::diff(&new, &old);
        assert!(back.resolved_findings.iter().any(|f| f.code == "ad.clock_skew"));
        let mut out = Vec::new();
        crate::diff::write_table(&d, &mut out).unwrap();
        assert!(String::from_utf8(out).unwrap().contains("ad"));
    }
}
