//! The IPv6 and path MTU tables of a report, shared by the table, Markdown and HTML formats
//! (issue 14 item 4): the router advertisements the `ipv6` check heard, the gateway check's
//! IPv6 routers, every per-family attempt of the ports and web checks (with the TCP MSS
//! of each connection), and the path check's MTU result per destination.
//!
//! Pure: each [`Section`] is built from the checks' typed evidence (`CheckResult::ipv6()`,
//! `gateway()`, `ports()`, `web()`, `path()`), never from JSON paths, and each renderer
//! only lays the cells out (`render::table`, `render::markdown`, `render::html`). A
//! section with no rows is left out, so an IPv4-only run shows none of them.

use crate::check::gateway::GatewayEvidence;
use crate::check::ipv6::{Ipv6Evidence, RouterAdvert, RouterPreference};
use crate::check::path::PathEvidence;
use crate::check::ports::{FamilyProbe, PortsEvidence, happy_eyeballs_cost_ms};
use crate::check::web::WebEvidence;
use crate::report::Report;

/// One titled table of the IPv6 and MTU part of a report.
#[derive(Debug, Clone, PartialEq)]
pub struct Section {
    /// A stable id for the HTML element (`ipv6-routers`, `ipv6-gateways`, `families`,
    /// `path-mtu`).
    pub id: &'static str,
    /// The heading, e.g. `IPv6 routers`.
    pub title: String,
    /// The column headings.
    pub columns: &'static [&'static str],
    /// The rows, each with one cell per column (`-` for nothing measured).
    pub rows: Vec<Vec<String>>,
}

/// The columns of the router advertisement table.
pub const ROUTER_COLUMNS: &[&str] = &["Router", "MAC", "Flags", "Preference", "Lifetime", "Prefixes", "MTU", "RDNSS"];
/// The columns of the IPv6 gateway table.
pub const GATEWAY_COLUMNS: &[&str] = &["Router", "Neighbor Solicitation", "MAC", "Echo", "RTT"];
/// The columns of the per-family table.
pub const FAMILY_COLUMNS: &[&str] = &["Check", "Target", "Family", "Address", "Outcome", "Time", "MSS"];
/// The columns of the path MTU table.
pub const PATH_COLUMNS: &[&str] =
    &["Destination", "Role", "Address", "Status", "Largest passed", "Smallest lost", "Announced MTU"];

/// The IPv6 and MTU sections of `report`, in report order (routers, IPv6 gateways, per
/// family, path MTU); only those with rows (pure).
pub fn sections(report: &Report) -> Vec<Section> {
    let mut out = Vec::new();
    if let Some(ev) = report.ipv6_evidence() {
        out.push(Section {
            id: "ipv6-routers",
            title: "IPv6 routers".into(),
            columns: ROUTER_COLUMNS,
            rows: router_rows(ev),
        });
    }
    if let Some(ev) = report.gateway_evidence() {
        out.push(Section {
            id: "ipv6-gateways",
            title: "IPv6 gateways".into(),
            columns: GATEWAY_COLUMNS,
            rows: gateway_v6_rows(ev),
        });
    }
    let families = family_rows(report.ports_evidence(), report.web_evidence());
    out.push(Section { id: "families", title: "Per family".into(), columns: FAMILY_COLUMNS, rows: families });
    if let Some(ev) = report.path_evidence() {
        let title = match ev.interface_mtu {
            Some(mtu) => format!("Path MTU (interface MTU {mtu})"),
            None => "Path MTU".into(),
        };
        out.push(Section { id: "path-mtu", title, columns: PATH_COLUMNS, rows: path_rows(ev) });
    }
    out.retain(|s| !s.rows.is_empty());
    out
}

fn dash() -> String {
    "-".to_string()
}

fn ms(ms: Option<f64>) -> String {
    ms.map_or_else(dash, |ms| format!("{ms:.1} ms"))
}

/// One row per router advertisement heard: the source, MAC, M/O flags, preference, router
/// lifetime (0: not a default router), each prefix with its L/A flags and lifetimes, the
/// MTU option and the RDNSS servers.
pub fn router_rows(ev: &Ipv6Evidence) -> Vec<Vec<String>> {
    ev.routers.iter().map(router_row).collect()
}

fn router_row(r: &RouterAdvert) -> Vec<String> {
    let flags: String =
        [(r.managed, 'M'), (r.other_config, 'O')].iter().filter(|(on, _)| *on).map(|(_, c)| *c).collect();
    let preference = match r.preference {
        RouterPreference::High => "high",
        RouterPreference::Medium => "medium",
        RouterPreference::Low => "low",
        RouterPreference::Reserved => "reserved",
    };
    let lifetime = if r.router_lifetime_s == 0 {
        "0 s (not a default router)".to_string()
    } else {
        format!("{} s", r.router_lifetime_s)
    };
    let prefixes: Vec<String> = r
        .prefixes
        .iter()
        .map(|p| {
            let la: String =
                [(p.on_link, 'L'), (p.autonomous, 'A')].iter().filter(|(on, _)| *on).map(|(_, c)| *c).collect();
            let la = if la.is_empty() { String::new() } else { format!(" {la}") };
            format!("{}/{}{la} valid {} s, preferred {} s", p.prefix, p.prefix_len, p.valid_lft_s, p.preferred_lft_s)
        })
        .collect();
    let rdnss: Vec<String> = r.rdnss.iter().map(ToString::to_string).collect();
    vec![
        r.source.to_string(),
        r.mac.map_or_else(dash, |m| m.to_string()),
        if flags.is_empty() { dash() } else { flags },
        preference.to_string(),
        lifetime,
        if prefixes.is_empty() { dash() } else { prefixes.join("; ") },
        r.mtu.map_or_else(dash, |m| m.to_string()),
        if rdnss.is_empty() { dash() } else { rdnss.join(" ") },
    ]
}

/// One row per IPv6 router of the gateway check: the Neighbor Solicitation's status and the
/// router's MAC, the echo series (received of sent) and its mean RTT.
pub fn gateway_v6_rows(ev: &GatewayEvidence) -> Vec<Vec<String>> {
    ev.gateways_v6
        .iter()
        .map(|g| {
            let (echo, rtt) = match &g.ping {
                Some(p) => (
                    format!("{} of {} answered", p.received, p.sent),
                    p.avg_ms.map_or_else(dash, |ms| format!("{ms:.2} ms")),
                ),
                None => ("not sent".to_string(), dash()),
            };
            vec![
                g.address.to_string(),
                match g.ns.rtt_ms {
                    Some(t) => format!("{} in {t:.2} ms", g.ns.status),
                    None => g.ns.status.to_string(),
                },
                g.ns.mac.map_or_else(dash, |m| m.to_string()),
                echo,
                rtt,
            ]
        })
        .collect()
}

/// One row per family attempt of the ports check's dual-stack targets, then of the web
/// check's dual-stack URLs: the family, address, outcome (a failing family beside one
/// that works also shows the time a Happy Eyeballs client loses on it), time and MSS. A
/// port target probed over one family only has a row when its connection's MSS is known.
pub fn family_rows(ports: Option<&PortsEvidence>, web: Option<&WebEvidence>) -> Vec<Vec<String>> {
    let mut rows = Vec::new();
    for t in ports.map(|p| p.targets.as_slice()).unwrap_or_default() {
        if t.families.is_empty() {
            if let (Some(address), Some(mss)) = (t.address, t.mss) {
                let family = crate::types::IpFamily::of(address.ip());
                rows.push(vec![
                    "ports".into(),
                    t.target.clone(),
                    family.name().into(),
                    address.to_string(),
                    t.outcome.as_str().into(),
                    ms(t.ms),
                    mss.to_string(),
                ]);
            }
            continue;
        }
        rows.extend(t.families.iter().map(|f| family_row("ports", &t.target, f, &t.families, None)));
    }
    for u in web.map(|w| w.families.as_slice()).unwrap_or_default() {
        let probes: Vec<FamilyProbe> = u.attempts.iter().map(|a| a.attempt.clone()).collect();
        let url = super::without_credentials(&u.url);
        rows.extend(u.attempts.iter().map(|a| family_row("web", &url, &a.attempt, &probes, a.status)));
    }
    rows
}

fn family_row(check: &str, target: &str, f: &FamilyProbe, all: &[FamilyProbe], status: Option<u16>) -> Vec<String> {
    let other_open = all.iter().any(|o| o.family != f.family && o.outcome == crate::check::ports::PortOutcome::Open);
    let mut outcome = f.outcome.as_str().to_string();
    if let Some(s) = status {
        outcome.push_str(&format!(" (HTTP {s})"));
    }
    if other_open && f.failed_on_the_network() {
        outcome.push_str(&format!(", Happy Eyeballs loses {:.0} ms", happy_eyeballs_cost_ms(f)));
    }
    vec![
        check.to_string(),
        target.to_string(),
        f.family.name().to_string(),
        f.address.to_string(),
        outcome,
        ms(f.ms),
        f.mss.map_or_else(dash, |m| m.to_string()),
    ]
}

/// One row per destination of the path check: the status, the largest size that passed,
/// the smallest that was lost, and the MTU the network announced (fragmentation needed /
/// packet too big).
pub fn path_rows(ev: &PathEvidence) -> Vec<Vec<String>> {
    ev.destinations
        .iter()
        .map(|p| {
            let role = match p.role {
                crate::check::path::Role::Gateway => "gateway",
                crate::check::path::Role::Target => "target",
            };
            vec![
                p.target.clone(),
                role.to_string(),
                p.address.to_string(),
                p.status.as_str().to_string(),
                p.largest_ok.map_or_else(dash, |n| n.to_string()),
                p.smallest_lost.map_or_else(dash, |n| n.to_string()),
                p.reported_mtu.map_or_else(dash, |n| n.to_string()),
            ]
        })
        .collect()
}

/// The lab's router advertisement for the renderers' tests: `fe80::1` with its MAC, the O
/// flag, 2001:2:0:1::/64 for SLAAC, the MTU option `mtu`, the server as RDNSS.
#[cfg(test)]
pub(crate) fn lab_router(mtu: u32) -> RouterAdvert {
    use crate::check::ipv6::PrefixInfo;
    RouterAdvert {
        source: "fe80::1".parse().unwrap(),
        mac: Some("02:00:00:00:00:01".parse().unwrap()),
        hop_limit: 64,
        managed: false,
        other_config: true,
        preference: RouterPreference::Medium,
        router_lifetime_s: 1800,
        reachable_time_ms: 0,
        retrans_timer_ms: 0,
        prefixes: vec![PrefixInfo {
            prefix: "2001:2:0:1::".parse().unwrap(),
            prefix_len: 64,
            on_link: true,
            autonomous: true,
            valid_lft_s: 86400,
            preferred_lft_s: 14400,
        }],
        mtu: Some(mtu),
        rdnss: vec!["2001:2:0:2::2".parse().unwrap()],
        rdnss_lifetime_s: Some(600),
        dnssl: vec![],
        options_skipped: 0,
        first_ms: Some(3.0),
        count: 1,
    }
}

/// A dual-stack report built from typed evidence for the renderers' tests: a router
/// advertisement, the IPv6 gateway, a port target and a URL over both families (IPv6
/// dropped), a single-family port with its MSS, and a reduced path MTU.
#[cfg(test)]
pub(crate) fn dual_stack_report() -> Report {
    use crate::check::gateway::{ArpResult, ArpStatus, GatewayV6Probe, PingStats};
    use crate::check::path::{PathProbe, PathStatus, Role};
    use crate::check::ports::{PortOutcome, PortResult, fold_families};
    use crate::check::web::{HopError, HttpHop, Phase, UrlFamilies, WebProbe, family_attempt};
    use crate::report::{CheckId, CheckResult, CheckStatus, Code, Evidence, Finding, Severity, fixtures};
    use crate::types::IpFamily;

    let check = |id, status, findings: Vec<Finding>, evidence: Evidence| CheckResult {
        id,
        status,
        duration_ms: 3,
        blocked_by: None,
        reason: None,
        reason_code: None,
        findings,
        evidence,
    };
    let ipv6 = Ipv6Evidence {
        interface: "eth0".into(),
        enabled: true,
        sysctl: Default::default(),
        solicitation: None,
        ra_mtu: Some(1400),
        routers: vec![lab_router(1400)],
        kernel_ra_routes: vec![],
        addresses: vec![],
        resolvers: vec![],
        notices: vec![],
        capture: None,
    };
    let mut gateway = fixtures::gateway("198.18.0.1", &[Some(0.2), Some(0.3)]);
    if let Evidence::Gateway(ev) = &mut gateway {
        let rtt = std::time::Duration::from_micros(60);
        ev.gateways_v6.push(GatewayV6Probe {
            address: "fe80::1".parse().unwrap(),
            ns: ArpResult {
                status: ArpStatus::Answered,
                mac: "02:00:00:00:00:01".parse().ok(),
                rtt_ms: Some(0.04),
                requests_sent: 1,
                seen: None,
            },
            ping: Some(PingStats::from_rtts(&[Some(rtt), Some(rtt), None])),
        });
    }
    let attempt = |a: &str, outcome, ms: f64, mss| {
        let address: std::net::SocketAddr = a.parse().unwrap();
        FamilyProbe { family: IpFamily::of(address.ip()), address, outcome, ms: Some(ms), error: None, mss }
    };
    let dual = fold_families(
        "dual.site.test:8080".into(),
        vec![
            attempt("198.18.1.2:8080", PortOutcome::Open, 0.4, Some(1448)),
            attempt("[2001:2:0:2::2]:8080", PortOutcome::Filtered, 2000.0, None),
        ],
    );
    let single = PortResult {
        target: "198.18.1.2:8081".into(),
        address: Some("198.18.1.2:8081".parse().unwrap()),
        outcome: PortOutcome::Open,
        ms: Some(0.3),
        error: None,
        attempts: None,
        families: vec![],
        happy_eyeballs_cost_ms: None,
        mss: Some(1348),
    };
    let ports = PortsEvidence { targets: vec![dual, single], capture: None };
    let url = "http://dual.site.test/";
    let v4 = HttpHop {
        url: url.into(),
        address: Some("198.18.1.2:80".parse().unwrap()),
        status: Some(200),
        total_ms: Some(1.5),
        ..HttpHop::default()
    };
    let v6 = HttpHop {
        url: url.into(),
        address: Some("[2001:2:0:2::2]:80".parse().unwrap()),
        total_ms: Some(3000.0),
        error: Some(HopError { phase: Phase::Connect, timeout: true, message: "no progress".into() }),
        ..HttpHop::default()
    };
    let web = WebEvidence {
        targets: vec![WebProbe { url: url.into(), hops: vec![v4.clone()], error: None, total_ms: Some(1.6) }],
        families: vec![UrlFamilies {
            url: url.into(),
            attempts: [family_attempt(&v4, Some(PortOutcome::Open), Some(1448)), family_attempt(&v6, None, None)]
                .into_iter()
                .flatten()
                .collect(),
        }],
        ..WebEvidence::default()
    };
    let path = PathEvidence {
        capture: None,
        interface_mtu: Some(1500),
        ra_mtu: Some(1400),
        destinations: vec![PathProbe {
            target: "198.18.1.2:8080".into(),
            role: Role::Target,
            address: "198.18.1.2".parse().unwrap(),
            status: PathStatus::Reduced,
            full_size: 1500,
            min_size: 576,
            largest_ok: Some(1400),
            smallest_lost: Some(1401),
            reported_mtu: Some(1400),
            too_big: vec![],
            probes: vec![],
            rtt_ms: Some(0.1),
            rounds: 4,
            ms: 3.0,
        }],
        notices: vec![],
    };
    let broken = |layer| Finding { code: Code::Ipv6Broken, severity: Severity::Warn, layer, message: String::new() };
    let checks = vec![
        check(CheckId::Link, CheckStatus::Pass, vec![], fixtures::link("eth0", Some(1000))),
        check(CheckId::Ipv6, CheckStatus::Pass, vec![], Evidence::Ipv6(Box::new(ipv6))),
        check(CheckId::Gateway, CheckStatus::Pass, vec![], gateway),
        check(CheckId::Path, CheckStatus::Pass, vec![], Evidence::Path(Box::new(path))),
        check(CheckId::Web, CheckStatus::Warn, vec![broken(CheckId::Web)], Evidence::Web(Box::new(web))),
        check(CheckId::Ports, CheckStatus::Warn, vec![broken(CheckId::Ports)], Evidence::Ports(Box::new(ports))),
    ];
    crate::report::test_report(checks, "2026-11-30T12:00:00.000Z", 2100)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn section<'a>(all: &'a [Section], id: &str) -> &'a Section {
        all.iter().find(|s| s.id == id).unwrap_or_else(|| panic!("no section {id}: {all:?}"))
    }

    #[test]
    fn a_dual_stack_report_has_every_section_with_one_cell_per_column() {
        let report = dual_stack_report();
        let all = sections(&report);
        let ids: Vec<&str> = all.iter().map(|s| s.id).collect();
        assert_eq!(ids, ["ipv6-routers", "ipv6-gateways", "families", "path-mtu"]);
        for s in &all {
            assert!(s.rows.iter().all(|r| r.len() == s.columns.len()), "{s:?}");
        }

        let routers = section(&all, "ipv6-routers");
        assert_eq!(routers.rows[0][0], "fe80::1");
        assert_eq!(routers.rows[0][2], "O");
        assert_eq!(routers.rows[0][5], "2001:2:0:1::/64 LA valid 86400 s, preferred 14400 s");
        assert_eq!(routers.rows[0][6], "1400");

        let gw = section(&all, "ipv6-gateways");
        assert_eq!(gw.rows[0][..4], ["fe80::1", "answered in 0.04 ms", "02:00:00:00:00:01", "2 of 3 answered"]);

        let fam = section(&all, "families");
        let cols = |r: &Vec<String>| (r[0].clone(), r[2].clone(), r[6].clone());
        let got: Vec<(String, String, String)> = fam.rows.iter().map(cols).collect();
        let want = [
            ("ports", "IPv4", "1448"),
            ("ports", "IPv6", "-"),
            ("ports", "IPv4", "1348"),
            ("web", "IPv4", "1448"),
            ("web", "IPv6", "-"),
        ];
        assert_eq!(got, want.map(|(a, b, c)| (a.to_string(), b.to_string(), c.to_string())));
        // The failing family beside a working one carries the Happy Eyeballs cost.
        assert_eq!(fam.rows[1][4], "filtered, Happy Eyeballs loses 250 ms");
        assert_eq!(fam.rows[3][4], "open (HTTP 200)");

        let path = section(&all, "path-mtu");
        assert_eq!(path.title, "Path MTU (interface MTU 1500)");
        assert_eq!(path.rows[0][3..], ["reduced", "1400", "1401", "1400"]);
    }

    #[test]
    fn an_ipv4_only_report_has_no_section() {
        assert!(sections(&super::super::sample_report()).is_empty());
    }

    fn render(format: crate::render::Format) -> String {
        let mut out = Vec::new();
        crate::render::write(&dual_stack_report(), format, &mut out, false).unwrap();
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn every_human_format_shows_the_ipv6_and_mtu_sections() {
        use crate::render::Format;
        let all = sections(&dual_stack_report());
        // The terminal table: each section's title and every cell.
        let table = render(Format::Table);
        for s in &all {
            assert!(table.contains(&format!("{}:", s.title)), "{}:\n{table}", s.title);
        }
        for cell in ["2001:2:0:1::/64 LA", "2 of 3 answered", "[2001:2:0:2::2]:8080", "1348", "reduced"] {
            assert!(table.contains(cell), "{cell}:\n{table}");
        }
        // Markdown: each section a real table once a viewer reads it.
        let md = render(Format::Markdown);
        let mut html = String::new();
        let parser = pulldown_cmark::Parser::new_ext(&md, pulldown_cmark::Options::ENABLE_TABLES);
        pulldown_cmark::html::push_html(&mut html, parser);
        for s in &all {
            let at = html.find(&format!("<h3>{}</h3>", s.title)).unwrap_or_else(|| panic!("{}:\n{html}", s.title));
            let rest = &html[at..];
            assert!(rest.trim_start_matches(|c| c != '<').contains("<table>"), "{}", s.title);
            let header: String = s.columns.iter().map(|c| format!("<th>{c}</th>")).collect();
            assert!(rest.replace('\n', "").contains(&header), "{}: {header}\n{rest}", s.title);
        }
        assert!(html.contains("<td>http://dual.site.test/</td>"), "{html}");
        // HTML: one section element per table, its cells escaped.
        let page = render(Format::Html);
        for s in &all {
            let at = page.find(&format!("<section id=\"{}\">", s.id)).unwrap_or_else(|| panic!("{}", s.id));
            let body = &page[at..at + page[at..].find("</section>").unwrap()];
            assert_eq!(body.matches("<tr>").count(), s.rows.len() + 1, "{body}");
        }
    }

    #[test]
    fn table_snapshot_of_a_dual_stack_run() {
        insta::assert_snapshot!(render(crate::render::Format::Table));
    }
}
