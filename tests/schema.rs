//! The published JSON Schema of the report, `docs/report.schema.json`, against what the
//! code writes and what the docs show.
//!
//! Runs without root and without network: reports are built from the library's own types
//! (evidence structs judged by the checks' pure `judge` functions, results diagnosed by
//! `nettriage::diagnosis::diagnose`) and serialised with serde_json, exactly as a run
//! serialises them; nothing is probed. Also validated: the ```json examples in
//! `docs/report.md`, and reports that must be rejected.
//!
//! `report_validator`, `schema_errors` and `assert_matches_schema` below are
//! self-contained so the namespace lab (`tests/lab/mod.rs`) can copy them and validate the
//! real binary's reports too.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::OnceLock;
use std::time::Duration;

use nettriage::check::dhcp::{CurrentConfig, DhcpEvidence, DuplicateCheck, FullExchange, Probe, ProbeStatus};
use nettriage::check::dns::{DnsEvidence, QueryOutcome, QueryResult, ServerResult, ServerVerdict};
use nettriage::check::gateway::{ArpResult, ArpStatus, GatewayEvidence, GatewayProbe, GatewayV6Probe, PingStats};
use nettriage::check::ipv6::{Ipv6Evidence, PrefixInfo, RouterAdvert, RouterPreference, SolicitStatus, Solicitation};
use nettriage::check::link::LinkEvidence;
use nettriage::check::path::{PathEvidence, PathProbe, PathStatus, ProbeResult, Role, SizeProbe, TooBigSeen};
use nettriage::check::ports::{FamilyProbe, PortOutcome, PortResult, PortsEvidence, fold_families};
use nettriage::check::web::{
    CertInfo, ConnectivityProbe, ConnectivityState, HopError, HttpHop, Phase, ProxyReport, TlsInfo, TlsVerdict,
    UrlFamilies, WebEvidence, WebProbe, family_attempt,
};
use nettriage::check::wifi::WifiSkipEvidence;
use nettriage::check::{self, Source};
use nettriage::config::{DhcpSettings, DnsSettings, GatewaySettings, LinkSettings};
use nettriage::diagnosis::diagnose;
use nettriage::platform::dhcp::{DhcpKind, DhcpOptions, DhcpReply};
use nettriage::platform::lease::{Lease, LeaseClient};
use nettriage::platform::netlink::{AddrScope, Counters, IfAddr, Interface, LinkType, Route};
use nettriage::report::{
    CheckId, CheckResult, CheckStatus, Code, Evidence, Finding, Report, RunStatus, SCHEMA_VERSION, Severity, SkipReason,
};
use nettriage::types::{IpFamily, MacAddr};
use serde_json::{Value, json};

// ---------------------------------------------------------------------------------------
// Helpers to copy into other tests (they need only jsonschema and serde_json).
// ---------------------------------------------------------------------------------------

/// Where the published schema lives.
const SCHEMA_PATH: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/docs/report.schema.json");

/// The published schema as JSON.
fn schema_json() -> Value {
    let text = std::fs::read_to_string(SCHEMA_PATH).unwrap_or_else(|e| panic!("cannot read {SCHEMA_PATH}: {e}"));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{SCHEMA_PATH} is not JSON: {e}"))
}

/// The compiled report schema (JSON Schema draft 2020-12), built once per test binary.
fn report_validator() -> &'static jsonschema::Validator {
    static VALIDATOR: OnceLock<jsonschema::Validator> = OnceLock::new();
    VALIDATOR.get_or_init(|| {
        jsonschema::draft202012::new(&schema_json()).unwrap_or_else(|e| panic!("{SCHEMA_PATH} does not compile: {e}"))
    })
}

/// Every violation of `validator` in `instance`, as `instance path: message` (empty when
/// valid). A failed `anyOf` (how the schema spells "null or this object") is replaced by
/// the errors inside the branch the value's type selected, so the path names the bad field.
fn schema_errors(validator: &jsonschema::Validator, instance: &Value) -> Vec<String> {
    fn collect(error: &jsonschema::ValidationError<'_>, out: &mut Vec<String>) {
        if let jsonschema::error::ValidationErrorKind::AnyOf { context } = error.kind() {
            let deeper: Vec<_> = context
                .iter()
                .flatten()
                .filter(|sub| {
                    sub.instance_path() != error.instance_path()
                        || !matches!(sub.kind(), jsonschema::error::ValidationErrorKind::Type { .. })
                })
                .collect();
            if !deeper.is_empty() {
                deeper.into_iter().for_each(|sub| collect(sub, out));
                return;
            }
        }
        out.push(format!("{}: {error}", error.instance_path()));
    }
    let mut out = Vec::new();
    validator.iter_errors(instance).for_each(|e| collect(&e, &mut out));
    out
}

/// Panics, listing every violation and the report, unless `report` (a whole report as
/// written by `nettriage run --format json`) matches `docs/report.schema.json`.
fn assert_matches_schema(report: &Value) {
    let errors = schema_errors(report_validator(), report);
    assert!(
        errors.is_empty(),
        "report does not match docs/report.schema.json:\n  {}\nreport:\n{}",
        errors.join("\n  "),
        serde_json::to_string_pretty(report).unwrap_or_default()
    );
}

// ---------------------------------------------------------------------------------------
// Reports built from the library's types.
// ---------------------------------------------------------------------------------------

fn ip4(text: &str) -> Ipv4Addr {
    text.parse().expect("test IPv4 address")
}

fn mac(last: u8) -> MacAddr {
    MacAddr([0x02, 0, 0, 0, 0, last])
}

/// The start of a run, as the runner reports it.
const STARTED_AT: &str = "2026-11-24T06:48:44.851Z";

/// A check that ran, as the runner's `from_outcome` makes it.
fn ran(id: CheckId, findings: Vec<Finding>, evidence: Evidence) -> CheckResult {
    CheckResult {
        id,
        status: check::status_of(&findings),
        duration_ms: 7,
        blocked_by: None,
        reason: None,
        reason_code: None,
        findings,
        evidence,
    }
}

/// A check that skipped itself (not applicable, or blocked by data from an earlier check).
fn skipped(
    id: CheckId,
    code: SkipReason,
    reason: &str,
    blocked_by: Option<CheckId>,
    evidence: Evidence,
) -> CheckResult {
    CheckResult {
        id,
        status: CheckStatus::Skipped,
        duration_ms: 0,
        blocked_by,
        reason: Some(reason.into()),
        reason_code: Some(code),
        findings: vec![],
        evidence,
    }
}

/// A check the runner did not start because `by` failed.
fn blocked(id: CheckId, by: CheckId) -> CheckResult {
    let reason = format!("blocked by {by}: that layer failed, so this one cannot be tested");
    skipped(id, SkipReason::Blocked, &reason, Some(by), Evidence::None)
}

/// A check that could not run, as the runner's `errored` makes it.
fn errored(id: CheckId, code: Code, reason: &str) -> CheckResult {
    let finding = Finding { code, severity: Severity::Warn, layer: id, message: reason.into() };
    CheckResult {
        id,
        status: CheckStatus::Error,
        duration_ms: 2_000,
        blocked_by: None,
        reason: Some(reason.into()),
        reason_code: None,
        findings: vec![finding],
        evidence: Evidence::None,
    }
}

/// A whole report around `checks`, diagnosed by the library and serialised through
/// [`Report`] (so fields the model adds, and their defaults, show up as in a real run).
fn report(interface: Option<&str>, mut checks: Vec<CheckResult>) -> Report {
    // Scenarios written before the web layer: it is skipped as ports is (blocked by the
    // same layer), or not configured.
    if !checks.iter().any(|c| c.id == CheckId::Web)
        && let Some(at) = checks.iter().position(|c| c.id == CheckId::Ports)
    {
        let web = match checks[at].blocked_by {
            Some(by) => blocked(CheckId::Web, by),
            None => skipped(CheckId::Web, SkipReason::NoUrls, "no URLs configured", None, Evidence::None),
        };
        checks.insert(at, web);
    }
    // And before the path layer: skipped as web is (blocked by the same layer), or with
    // nothing to probe.
    if !checks.iter().any(|c| c.id == CheckId::Path)
        && let Some(at) = checks.iter().position(|c| c.id == CheckId::Web)
    {
        let path = match checks[at].blocked_by {
            Some(by) => blocked(CheckId::Path, by),
            None => skipped(CheckId::Path, SkipReason::NoTargets, "nothing to probe", None, Evidence::None),
        };
        checks.insert(at, path);
    }
    // Scenarios written before the ipv6 and neighbours layers leave them out, as reports of earlier versions
    // do (the schema allows its absence); `ipv6_reports_match_schema` puts it in.
    let ids: Vec<CheckId> = checks.iter().map(|c| c.id).collect();
    let expected: Vec<CheckId> = CheckId::ALL
        .into_iter()
        .filter(|id| ![CheckId::Ipv6, CheckId::Neighbours].contains(id) || ids.contains(id))
        .collect();
    assert_eq!(ids, expected, "one result per check, in order");
    let diagnosis = diagnose(&checks);
    serde_json::from_value(json!({
        "schema_version": SCHEMA_VERSION,
        "tool": { "name": "nettriage", "version": env!("CARGO_PKG_VERSION") },
        "started_at": STARTED_AT,
        "duration_ms": 425,
        "host": { "hostname": "vm" },
        "interface": interface,
        "privileged": true,
        "diagnosis": diagnosis,
        "checks": checks,
    }))
    .expect("the header deserialises into a Report")
}

fn to_json(report: &Report) -> Value {
    serde_json::to_value(report).expect("a report serialises")
}

fn addr(ip: &str, prefix_len: u8, scope: &str, dynamic: bool, valid: Option<u32>) -> IfAddr {
    IfAddr {
        address: ip.parse().expect("test address"),
        prefix_len,
        scope: AddrScope::from_name(scope).unwrap(),
        dynamic,
        tentative: false,
        dad_failed: false,
        temporary: false,
        mngtmpaddr: false,
        valid_lft_s: valid,
        preferred_lft_s: valid,
    }
}

fn eth0(carrier: bool) -> Interface {
    Interface {
        index: 2,
        name: "eth0".into(),
        link_type: LinkType::Ether,
        mac: Some(MacAddr([0x46, 0x82, 0x98, 0x96, 0xa8, 0x67])),
        mtu: Some(1500),
        admin_up: true,
        lower_up: carrier,
        carrier: Some(carrier),
        oper_state: if carrier { "up" } else { "down" }.into(),
        carrier_changes: Some(2),
        counters: Some(Counters {
            rx_packets: 43,
            tx_packets: 34,
            rx_errors: 0,
            tx_errors: 0,
            rx_dropped: 0,
            tx_dropped: 0,
            rx_crc_errors: 0,
        }),
        addresses: vec![
            addr("198.18.0.10", 24, "global", true, Some(3000)),
            addr("fe80::4482:98ff:fe96:a867", 64, "link", false, None),
        ],
    }
}

fn link_check(interface: Option<Interface>) -> CheckResult {
    let selected_by = if interface.is_some() { "default_route" } else { "none" };
    let ev = LinkEvidence {
        interface,
        speed_mbps: Some(10_000),
        duplex: Some("full".into()),
        selected_by: selected_by.to_string(),
    };
    ran(CheckId::Link, check::link::judge(&ev, &LinkSettings::default()), Evidence::Link(Box::new(ev)))
}

fn wired_wifi_check() -> CheckResult {
    let seen = WifiSkipEvidence { wireless: false, interface: None };
    skipped(
        CheckId::Wifi,
        SkipReason::NotWireless,
        "not a wireless interface",
        None,
        Evidence::WifiSkipped(Box::new(seen)),
    )
}

fn offer(server: &str, last: u8, ms: f64) -> DhcpReply {
    DhcpReply {
        kind: DhcpKind::Offer,
        server: ip4(server),
        server_mac: mac(last),
        address: ip4("198.18.0.150"),
        options: DhcpOptions {
            subnet_mask: Some(ip4("255.255.255.0")),
            routers: vec![ip4(server)],
            dns: vec![ip4(server)],
            domain: Some("site.test".into()),
            lease_time_s: Some(3600),
            renew_s: Some(1800),
            rebind_s: Some(3150),
            wpad: Some("http://198.18.1.2/wpad.dat".into()),
        },
        relay: None,
        relay_agent_info: false,
        message: None,
        ms,
    }
}

fn lease() -> Lease {
    Lease {
        client: LeaseClient::Networkd,
        source: "/run/systemd/netif/leases/2".into(),
        address: Some(ip4("198.18.0.10")),
        options: DhcpOptions {
            subnet_mask: Some(ip4("255.255.255.0")),
            routers: vec![ip4("198.18.0.1")],
            dns: vec![ip4("198.18.0.1")],
            lease_time_s: Some(3600),
            wpad: Some("http://198.18.1.2/wpad.dat".into()),
            ..DhcpOptions::default()
        },
        server: Some(ip4("198.18.0.1")),
        expires_unix: Some(1_795_000_000),
        renew_unix: Some(1_794_998_200),
        rebind_unix: Some(1_794_999_550),
        domain_search: vec!["site.test".into()],
    }
}

/// The dhcp evidence of a probe that ran and got `offers`, with an optional full exchange.
fn dhcp_ran(offers: Vec<DhcpReply>, full: Option<FullExchange>) -> DhcpEvidence {
    let usable = Some(ip4("198.18.0.10"));
    DhcpEvidence {
        ipv4: vec![addr("198.18.0.10", 24, "global", true, Some(3000))],
        usable_ipv4: usable,
        leases: vec![lease()],
        current: CurrentConfig {
            routers: vec![ip4("198.18.0.1")],
            dns: vec![ip4("198.18.0.1")],
            subnet_mask: Some(ip4("255.255.255.0")),
            ..CurrentConfig::default()
        },
        probe: Probe {
            status: ProbeStatus::Ran,
            reason: None,
            mac: Some(mac(0x10)),
            xid: Some(0xdead_beef),
            first_offer_ms: offers.first().map(|o| o.ms),
            offers,
            dropped: 0,
            listened_ms: Some(412.5),
        },
        full,
        duplicate_check: DuplicateCheck { status: ProbeStatus::Ran, address: usable, conflict_mac: None, reason: None },
        capture: None,
    }
}

/// The dhcp evidence when the probe did not run (no privilege, or no carrier).
fn dhcp_not_run(reason: &str) -> DhcpEvidence {
    let mut ev = dhcp_ran(vec![], None);
    ev.probe = Probe {
        status: ProbeStatus::NotRun,
        reason: Some(reason.into()),
        mac: None,
        xid: None,
        offers: vec![],
        dropped: 0,
        first_offer_ms: None,
        listened_ms: None,
    };
    ev.duplicate_check = DuplicateCheck {
        status: ProbeStatus::NotRun,
        address: ev.usable_ipv4,
        conflict_mac: None,
        reason: Some(reason.into()),
    };
    ev
}

fn dhcp_check(ev: &DhcpEvidence, expected: &[Ipv4Addr]) -> CheckResult {
    ran(
        CheckId::Dhcp,
        check::dhcp::judge("eth0", ev, &DhcpSettings::default(), expected, Source::Live),
        Evidence::Dhcp(Box::new(ev.clone())),
    )
}

/// The dhcp check without CAP_NET_RAW: lease state only, plus the warning `run` adds.
fn dhcp_without_privilege() -> CheckResult {
    let ev = dhcp_not_run("needs CAP_NET_RAW: lease state only");
    let mut findings = check::dhcp::judge("eth0", &ev, &DhcpSettings::default(), &[], Source::Live);
    findings.push(check::finding(
        CheckId::Dhcp,
        Code::ToolNoPrivilege,
        Severity::Warn,
        "the DHCP and duplicate-address probes need CAP_NET_RAW; only the lease state was checked",
    ));
    ran(CheckId::Dhcp, findings, Evidence::Dhcp(Box::new(ev)))
}

fn default_route() -> Route {
    Route {
        dst: None,
        dst_len: 0,
        gateway: Some(IpAddr::V4(ip4("198.18.0.1"))),
        oif: Some(2),
        metric: Some(100),
        ipv6: false,
        from_ra: false,
    }
}

fn ms(v: f64) -> Option<Duration> {
    Some(Duration::from_secs_f64(v / 1000.0))
}

/// A gateway answering ARP, with this echo series (`None` = a lost probe).
fn gateway_check(rtts: &[Option<Duration>]) -> CheckResult {
    let ev = GatewayEvidence {
        default_routes: vec![default_route()],
        gateways: vec![GatewayProbe {
            address: IpAddr::V4(ip4("198.18.0.1")),
            arp: ArpResult {
                status: ArpStatus::Answered,
                mac: Some(mac(1)),
                rtt_ms: Some(0.057),
                requests_sent: 1,
                seen: None,
            },
            ping: Some(PingStats::from_rtts(rtts)),
        }],
        capture: None,
        gateways_v6: vec![],
        echo_socket: None,
    };
    let findings = check::gateway::judge("eth0", &ev, &GatewaySettings::default(), Source::Live);
    ran(CheckId::Gateway, findings, Evidence::Gateway(Box::new(ev)))
}

fn query(name: &str, record_type: &str, outcome: QueryOutcome, answers: &[&str], ms: Option<f64>) -> QueryResult {
    let responded = ms.is_some();
    QueryResult {
        name: name.into(),
        record_type: record_type.into(),
        outcome,
        rcode: responded
            .then(|| if outcome == QueryOutcome::Nxdomain { "Non-Existent Domain" } else { "No Error" }.into()),
        answers: answers.iter().map(|a| a.parse().expect("test answer")).collect(),
        ms,
        attempts: if outcome == QueryOutcome::Timeout { 2 } else { 1 },
        cache_buster: name.starts_with("nt-"),
        error: None,
        seen: None,
    }
}

fn healthy_server(ip: &str) -> ServerResult {
    ServerResult {
        server: ip.parse().expect("test server"),
        verdict: ServerVerdict::Ok,
        avg_ms: Some(0.357),
        queries: vec![
            query("www.site.test", "A", QueryOutcome::Answer, &["198.18.1.2"], Some(0.374)),
            query("www.site.test", "AAAA", QueryOutcome::NoData, &[], Some(0.353)),
            query("nt-rtasbvko.site.test", "A", QueryOutcome::Nxdomain, &[], Some(0.343)),
        ],
        first_attempt_loss: Some(0.0),
        capture: None,
    }
}

fn dead_server(ip: &str) -> ServerResult {
    ServerResult {
        server: ip.parse().expect("test server"),
        verdict: ServerVerdict::Failed(Code::DnsTimeout),
        avg_ms: None,
        queries: vec![
            query("www.site.test", "A", QueryOutcome::Timeout, &[], None),
            query("www.site.test", "AAAA", QueryOutcome::Timeout, &[], None),
            query("nt-rtasbvko.site.test", "A", QueryOutcome::Timeout, &[], None),
        ],
        first_attempt_loss: Some(1.0),
        capture: None,
    }
}

fn dns_check(servers: Vec<ServerResult>) -> CheckResult {
    let ev = DnsEvidence {
        source: "/etc/resolv.conf".into(),
        stub: None,
        names: vec!["www.site.test".into()],
        cache_buster: "nt-rtasbvko.site.test".into(),
        servers,
        capture: None,
        system: None,
    };
    ran(CheckId::Dns, check::dns::judge(&ev, &DnsSettings::default(), Source::Live), Evidence::Dns(Box::new(ev)))
}

fn port(target: &str, outcome: PortOutcome, ms: Option<f64>, error: Option<&str>) -> PortResult {
    let address: Option<SocketAddr> =
        (outcome != PortOutcome::Unresolved).then(|| target.parse().expect("test target"));
    PortResult {
        target: target.into(),
        address,
        outcome,
        ms,
        error: error.map(Into::into),
        attempts: None,
        families: vec![],
        happy_eyeballs_cost_ms: None,
        mss: (outcome == PortOutcome::Open).then_some(1460),
    }
}

fn ports_check(targets: Vec<PortResult>) -> CheckResult {
    let ev = PortsEvidence { targets, capture: None };
    ran(CheckId::Ports, check::ports::judge(&ev), Evidence::Ports(Box::new(ev)))
}

/// Everything fine: the lab's healthy run.
fn healthy() -> Report {
    report(
        Some("eth0"),
        vec![
            link_check(Some(eth0(true))),
            wired_wifi_check(),
            dhcp_check(&dhcp_ran(vec![offer("198.18.0.1", 1, 2.1)], None), &[]),
            gateway_check(&[ms(0.032), ms(0.059), ms(0.059), ms(0.055), ms(0.07)]),
            dns_check(vec![healthy_server("198.18.0.1")]),
            path_check(path_probe(Role::Gateway, "198.18.0.1", PathStatus::Full, 1500, None, None)),
            web_check(web_healthy()),
            ports_check(vec![port("198.18.1.2:8080", PortOutcome::Open, Some(0.353), None)]),
        ],
    )
}

fn path_check(probes: Vec<PathProbe>) -> CheckResult {
    let mut ev = PathEvidence { interface_mtu: Some(1500), destinations: probes, ..PathEvidence::default() };
    ev.notices = check::path::notices(&ev);
    ran(CheckId::Path, check::path::judge(&ev), Evidence::Path(Box::new(ev)))
}

/// One destination's search, as the check records it.
fn path_probe(
    role: Role,
    address: &str,
    status: PathStatus,
    largest_ok: u32,
    smallest_lost: Option<u32>,
    reported_mtu: Option<u32>,
) -> Vec<PathProbe> {
    let address = address.parse().unwrap();
    let mut probes = vec![SizeProbe { size: 1500, round: 1, result: ProbeResult::Ok, ms: Some(0.2) }];
    if status != PathStatus::Full {
        probes[0].result = if reported_mtu.is_some() { ProbeResult::TooBig } else { ProbeResult::Lost };
        probes.push(SizeProbe { size: largest_ok, round: 2, result: ProbeResult::Ok, ms: Some(0.2) });
    }
    vec![PathProbe {
        target: if role == Role::Gateway { "198.18.0.1".into() } else { "198.18.1.2:8080".into() },
        role,
        address,
        status,
        full_size: 1500,
        min_size: 576,
        largest_ok: Some(largest_ok),
        smallest_lost,
        reported_mtu,
        too_big: reported_mtu
            .map(|mtu| TooBigSeen { from: "198.18.0.1".parse().unwrap(), mtu, size: 1500 })
            .into_iter()
            .collect(),
        probes,
        rtt_ms: Some(0.2),
        rounds: 2,
        ms: 101.3,
    }]
}

fn web_check(ev: WebEvidence) -> CheckResult {
    ran(CheckId::Web, check::web::judge(&ev), Evidence::Web(Box::new(ev)))
}

fn hop(url: &str, status: Option<u16>) -> HttpHop {
    HttpHop {
        url: url.into(),
        address: Some("198.18.1.2:80".parse().unwrap()),
        dns_ms: Some(0.4),
        connect_ms: Some(0.2),
        first_byte_ms: Some(0.9),
        total_ms: Some(1.6),
        status,
        body_bytes: 24,
        body_excerpt: Some("NetworkManager is online".into()),
        ..HttpHop::default()
    }
}

fn connectivity(probe: WebProbe, body_matched: Option<bool>) -> ConnectivityProbe {
    let (state, portal_url) = check::web::assess(&probe, 200, body_matched);
    ConnectivityProbe {
        expect_status: 200,
        expect_body: Some("NetworkManager is online".into()),
        body_matched,
        probe,
        state,
        portal_url,
    }
}

/// The connectivity probe answered as expected; an HTTPS target with its chain.
fn web_healthy() -> WebEvidence {
    let check_url = "http://www.site.test/check_network_status.txt";
    let https = "https://www.site.test:8443/";
    let mut secure = hop(https, Some(200));
    secure.tls_ms = Some(3.1);
    secure.tls = Some(TlsInfo {
        verdict: TlsVerdict::Ok,
        version: Some("TLSv1_3".into()),
        cipher: Some("TLS13_AES_256_GCM_SHA384".into()),
        alpn: Some("http/1.1".into()),
        chain: vec![CertInfo {
            subject: "CN=www.site.test".into(),
            issuer: "CN=nettriage lab CA".into(),
            sans: vec!["www.site.test".into()],
            not_before: Some("2026-11-30T00:00:00Z".parse().unwrap()),
            not_after: Some("2027-11-30T00:00:00Z".parse().unwrap()),
        }],
        error: None,
        ..TlsInfo::default()
    });
    WebEvidence {
        connectivity: Some(connectivity(
            WebProbe { url: check_url.into(), hops: vec![hop(check_url, Some(200))], error: None, total_ms: Some(1.7) },
            Some(true),
        )),
        targets: vec![WebProbe { url: https.into(), hops: vec![secure], error: None, total_ms: Some(5.0) }],
        proxy: Some(wpad_from_dhcp()),
        ..WebEvidence::default()
    }
}

/// Proxy discovery through DHCP option 252, its PAC and the test of its proxy, built by the
/// web check's own pure steps.
fn wpad_from_dhcp() -> ProxyReport {
    use nettriage::check::web::proxy::{use_dhcp_wpad, use_pac, use_proxy_tests};
    use nettriage::platform::proxy::{DhcpWpad, PacProxyStatus, PacProxyTest, ProxyPlan, WpadOrigin};
    let mut report = ProxyReport::default();
    let given = DhcpWpad::new("http://198.18.1.2/wpad.dat", WpadOrigin::Offer, Some(ip4("198.18.0.1")));
    let (url, source) = use_dhcp_wpad(&mut report, Some(Some(given))).expect("a usable URL");
    let mut plan = ProxyPlan::default();
    let pac = b"function FindProxyForURL(url, host) { return \"PROXY 198.18.1.2:8888; DIRECT\"; }";
    assert!(use_pac(&mut plan, &mut report, &url, source, Some(pac), None));
    let test = PacProxyTest {
        proxy: "http://198.18.1.2:8888".into(),
        status: PacProxyStatus::Works,
        http_status: Some(200),
        connect_ms: Some(0.4),
        error: None,
    };
    use_proxy_tests(&mut plan, &mut report, vec![test]);
    report
}

/// Nothing failed, but a second DHCP server answers (the root cause), a ping was lost,
/// one resolver is dead, one target could not be probed and the run had no CAP_NET_RAW
/// for part of the work.
fn degraded() -> Report {
    let full = FullExchange {
        mac: MacAddr([0x02, 0x6e, 0x74, 1, 2, 3]),
        client_id: "nettriage-probe".into(),
        offer: Some(offer("198.18.0.1", 1, 2.0)),
        requested: Some(ip4("198.18.0.150")),
        reply: Some(DhcpReply { kind: DhcpKind::Ack, ..offer("198.18.0.1", 1, 1.2) }),
        request_ms: Some(1.2),
        released: true,
        error: None,
    };
    let wireless = skipped(
        CheckId::Wifi,
        SkipReason::NotStation,
        "wlan0 is wireless, but Wi-Fi checks are not available in this version",
        None,
        Evidence::WifiSkipped(Box::new(WifiSkipEvidence { wireless: true, interface: None })),
    );
    report(
        Some("eth0"),
        vec![
            link_check(Some(eth0(true))),
            wireless,
            dhcp_check(&dhcp_ran(vec![offer("198.18.0.1", 1, 2.0), offer("198.18.0.66", 0x66, 3.5)], Some(full)), &[]),
            gateway_check(&[ms(0.5), None, ms(0.7), ms(0.6), ms(0.5)]),
            dns_check(vec![healthy_server("198.18.0.1"), dead_server("198.18.0.2")]),
            ports_check(vec![
                port("198.18.1.2:8080", PortOutcome::Open, Some(0.353), None),
                port(
                    "198.18.1.2:8081",
                    PortOutcome::LocalError,
                    Some(0.01),
                    Some("Cannot assign requested address (os error 99)"),
                ),
            ]),
        ],
    )
}

/// Degraded because a check could not run at all (status `error`).
fn degraded_by_errors() -> Report {
    report(
        Some("eth0"),
        vec![
            link_check(Some(eth0(true))),
            wired_wifi_check(),
            dhcp_without_privilege(),
            errored(
                CheckId::Gateway,
                Code::ToolNoPrivilege,
                "needs CAP_NET_RAW to send ARP and ICMP echo to the gateway; run with sudo or `setcap cap_net_raw,cap_net_admin+ep` on the binary",
            ),
            errored(CheckId::Dns, Code::ToolTimeout, "did not finish within 3000 ms (check budget or run deadline)"),
            skipped(
                CheckId::Ports,
                SkipReason::NoTargets,
                "no targets configured (give --target HOST:PORT or `targets` in the config file)",
                None,
                Evidence::None,
            ),
        ],
    )
}

/// The cable is unplugged: link fails, everything behind it is blocked by link.
fn broken_link() -> Report {
    let mut no_carrier = eth0(false);
    no_carrier.addresses.clear();
    report(
        Some("eth0"),
        vec![
            link_check(Some(no_carrier)),
            wired_wifi_check(),
            blocked(CheckId::Dhcp, CheckId::Link),
            blocked(CheckId::Gateway, CheckId::Link),
            blocked(CheckId::Dns, CheckId::Link),
            blocked(CheckId::Ports, CheckId::Link),
        ],
    )
}

/// No interface at all: `interface` is null, and so is the link's.
fn broken_no_interface() -> Report {
    report(
        None,
        vec![
            link_check(None),
            skipped(CheckId::Wifi, SkipReason::NoInterface, "no interface under test", None, Evidence::None),
            blocked(CheckId::Dhcp, CheckId::Link),
            blocked(CheckId::Gateway, CheckId::Link),
            blocked(CheckId::Dns, CheckId::Link),
            blocked(CheckId::Ports, CheckId::Link),
        ],
    )
}

/// The gateway is gone (no ARP reply, so no ping series), after a rogue DHCP server and a
/// NAK that fail dhcp without blocking.
fn broken_gateway() -> Report {
    let mut ev = dhcp_ran(vec![offer("198.18.0.1", 1, 2.0), offer("198.18.0.66", 0x66, 3.5)], None);
    ev.full = Some(FullExchange {
        mac: MacAddr([0x02, 0x6e, 0x74, 4, 5, 6]),
        client_id: "nettriage-probe".into(),
        offer: None,
        requested: Some(ip4("10.9.9.9")),
        reply: Some(DhcpReply {
            kind: DhcpKind::Nak,
            message: Some("address not available".into()),
            ..offer("198.18.0.1", 1, 1.0)
        }),
        request_ms: Some(1.0),
        released: false,
        error: None,
    });
    let gone = GatewayEvidence {
        default_routes: vec![
            default_route(),
            Route { gateway: Some("fe80::1".parse().unwrap()), ipv6: true, ..default_route() },
        ],
        gateways: vec![GatewayProbe {
            address: IpAddr::V4(ip4("198.18.0.1")),
            arp: ArpResult { status: ArpStatus::NoReply, mac: None, rtt_ms: None, requests_sent: 3, seen: None },
            ping: None,
        }],
        capture: None,
        gateways_v6: vec![],
        echo_socket: None,
    };
    report(
        Some("eth0"),
        vec![
            link_check(Some(eth0(true))),
            wired_wifi_check(),
            dhcp_check(&ev, &[ip4("198.18.0.1")]),
            ran(
                CheckId::Gateway,
                check::gateway::judge("eth0", &gone, &GatewaySettings::default(), Source::Live),
                Evidence::Gateway(Box::new(gone)),
            ),
            blocked(CheckId::Dns, CheckId::Gateway),
            blocked(CheckId::Ports, CheckId::Gateway),
        ],
    )
}

/// Every resolver is dead, so ports has nothing to probe (skipped, blocked by dns).
fn broken_dns() -> Report {
    report(
        Some("eth0"),
        vec![
            link_check(Some(eth0(true))),
            wired_wifi_check(),
            dhcp_check(&dhcp_ran(vec![offer("198.18.0.1", 1, 2.0)], None), &[]),
            gateway_check(&[ms(0.5); 5]),
            dns_check(vec![dead_server("198.18.0.1"), dead_server("198.18.0.2")]),
            skipped(
                CheckId::Ports,
                SkipReason::NoResolvedTarget,
                "no target could be resolved, so none could be probed",
                Some(CheckId::Dns),
                Evidence::None,
            ),
        ],
    )
}

/// Services are down in every way ports can tell apart.
fn broken_ports() -> Report {
    report(
        Some("eth0"),
        vec![
            link_check(Some(eth0(true))),
            wired_wifi_check(),
            dhcp_check(&dhcp_ran(vec![offer("198.18.0.1", 1, 2.0)], None), &[]),
            gateway_check(&[ms(0.5); 5]),
            dns_check(vec![healthy_server("198.18.0.1")]),
            ports_check(vec![
                port("198.18.1.2:8080", PortOutcome::Open, Some(0.4), None),
                port("198.18.1.2:8081", PortOutcome::Refused, Some(0.3), Some("Connection refused (os error 111)")),
                port("198.18.1.3:443", PortOutcome::Filtered, Some(2000.0), None),
                port("[2001:db8::1]:443", PortOutcome::Unreachable, Some(0.2), Some("No route to host (os error 113)")),
                port("noaddr.site.test:443", PortOutcome::Unresolved, None, None),
            ]),
        ],
    )
}

/// Dual stack with IPv6 forwarding dropped: the IPv6 router answers Neighbor Solicitation
/// and echo, a resolver is reached over IPv6, and the name opens over IPv4 only.
fn degraded_ipv6() -> Report {
    let mut gateway = gateway_check(&[ms(0.5); 5]);
    if let Evidence::Gateway(ev) = &mut gateway.evidence {
        ev.default_routes.push(Route { gateway: Some("fe80::1".parse().unwrap()), ipv6: true, ..default_route() });
        ev.gateways_v6.push(GatewayV6Probe {
            address: "fe80::1".parse().unwrap(),
            ns: ArpResult {
                status: ArpStatus::Answered,
                mac: Some(mac(1)),
                rtt_ms: Some(0.04),
                requests_sent: 1,
                seen: None,
            },
            ping: Some(PingStats::from_rtts(&[ms(0.06); 5])),
        });
    }
    let attempt = |a: &str, outcome, ms: f64| {
        let address: SocketAddr = a.parse().unwrap();
        let mss = (outcome == PortOutcome::Open).then_some(1448);
        FamilyProbe { family: IpFamily::of(address.ip()), address, outcome, ms: Some(ms), error: None, mss }
    };
    let dual = fold_families(
        "dual.site.test:8080".into(),
        vec![
            attempt("198.18.1.2:8080", PortOutcome::Open, 0.4),
            attempt("[2001:2:0:2::2]:8080", PortOutcome::Filtered, 2000.0),
        ],
    );
    report(
        Some("eth0"),
        vec![
            link_check(Some(eth0(true))),
            wired_wifi_check(),
            dhcp_check(&dhcp_ran(vec![offer("198.18.0.1", 1, 2.0)], None), &[]),
            gateway,
            dns_check(vec![healthy_server("198.18.0.1"), healthy_server("2001:2:0:1::1")]),
            web_check(web_dual_stack()),
            ports_check(vec![dual]),
        ],
    )
}

/// A dual-stack URL target answering over IPv4, its IPv6 request timed out while
/// connecting: the web check's per-family evidence.
fn web_dual_stack() -> WebEvidence {
    let url = "http://dual.site.test/";
    let v4 = hop(url, Some(200));
    let mut v6 =
        HttpHop { address: Some("[2001:2:0:2::2]:80".parse().unwrap()), total_ms: Some(3000.0), ..hop(url, None) };
    v6.error = Some(HopError { phase: Phase::Connect, timeout: true, message: "no progress".into() });
    v6.connect_ms = None;
    v6.first_byte_ms = None;
    let attempts = [family_attempt(&v4, Some(PortOutcome::Open), Some(1448)), family_attempt(&v6, None, None)];
    WebEvidence {
        targets: vec![WebProbe { url: url.into(), hops: vec![v4], error: None, total_ms: Some(1.7) }],
        families: vec![UrlFamilies { url: url.into(), attempts: attempts.into_iter().flatten().collect() }],
        ..WebEvidence::default()
    }
}

/// Every scenario, named.
fn scenarios() -> Vec<(&'static str, Report)> {
    vec![
        ("healthy", healthy()),
        ("degraded", degraded()),
        ("degraded_by_errors", degraded_by_errors()),
        ("degraded_ipv6", degraded_ipv6()),
        ("broken_link", broken_link()),
        ("broken_no_interface", broken_no_interface()),
        ("broken_gateway", broken_gateway()),
        ("broken_dns", broken_dns()),
        ("broken_ports", broken_ports()),
    ]
}

// ---------------------------------------------------------------------------------------
// The schema itself.
// ---------------------------------------------------------------------------------------

#[test]
fn schema_is_a_valid_draft_2020_12_schema() {
    let schema = schema_json();
    assert_eq!(schema["$schema"], "https://json-schema.org/draft/2020-12/schema");
    if let Err(e) = jsonschema::draft202012::meta::validate(&schema) {
        panic!("docs/report.schema.json is not a valid draft 2020-12 schema: {}: {e}", e.instance_path());
    }
    report_validator();
}

/// Fields are only ever added within schema_version "1", so no object may forbid unknown
/// properties anywhere in the schema.
#[test]
fn schema_never_forbids_additional_properties() {
    fn walk(node: &Value, path: &str, bad: &mut Vec<String>) {
        match node {
            Value::Object(map) => {
                for (key, value) in map {
                    let forbids = matches!(value, Value::Bool(false)) || value.get("not").is_some();
                    let closes =
                        key == "additionalProperties" || key == "unevaluatedProperties" || key == "propertyNames";
                    if closes && (forbids || key == "propertyNames") {
                        bad.push(format!("{path}/{key}"));
                    }
                    walk(value, &format!("{path}/{key}"), bad);
                }
            }
            Value::Array(items) => {
                for (i, item) in items.iter().enumerate() {
                    walk(item, &format!("{path}/{i}"), bad);
                }
            }
            _ => {}
        }
    }
    let mut bad = Vec::new();
    walk(&schema_json(), "", &mut bad);
    assert!(bad.is_empty(), "these keywords restrict unknown properties: {bad:?}");
}

// ---------------------------------------------------------------------------------------
// (a) Reports as the code writes them.
// ---------------------------------------------------------------------------------------

#[test]
fn scenarios_cover_every_status_and_verdict() {
    let all = scenarios();
    for status in [CheckStatus::Pass, CheckStatus::Warn, CheckStatus::Fail, CheckStatus::Skipped, CheckStatus::Error] {
        assert!(
            all.iter().any(|(_, r)| r.checks.iter().any(|c| c.status == status)),
            "no scenario has a check with status {}",
            status.as_str()
        );
    }
    for verdict in [RunStatus::Healthy, RunStatus::Degraded, RunStatus::Broken] {
        assert!(all.iter().any(|(_, r)| r.diagnosis.status == verdict), "no {} scenario", verdict.as_str());
    }
    let expect = |name: &str, status: RunStatus, root: Option<Code>| {
        let (_, r) = all.iter().find(|(n, _)| *n == name).expect("scenario exists");
        assert_eq!(r.diagnosis.status, status, "{name}");
        assert_eq!(r.diagnosis.root_cause.as_ref().map(|rc| rc.code), root, "{name}");
    };
    expect("healthy", RunStatus::Healthy, None);
    expect("degraded", RunStatus::Degraded, Some(Code::DhcpMultipleServers));
    expect("degraded_by_errors", RunStatus::Degraded, Some(Code::ToolNoPrivilege));
    expect("degraded_ipv6", RunStatus::Degraded, Some(Code::Ipv6Broken));
    expect("broken_link", RunStatus::Broken, Some(Code::LinkNoCarrier));
    expect("broken_no_interface", RunStatus::Broken, Some(Code::LinkNoInterface));
    expect("broken_gateway", RunStatus::Broken, Some(Code::DhcpNak));
    expect("broken_dns", RunStatus::Broken, Some(Code::DnsTimeout));
    expect("broken_ports", RunStatus::Broken, Some(Code::PortsRefused));
}

/// The lab's router as radvd advertises it: a /64 for SLAAC, MTU, RDNSS.
fn lab_router(last: u16) -> RouterAdvert {
    RouterAdvert {
        source: format!("fe80::{last:x}").parse().unwrap(),
        mac: Some(MacAddr([2, 0, 0, 0, 0, last as u8])),
        hop_limit: 64,
        managed: false,
        other_config: false,
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
        mtu: Some(1500),
        rdnss: vec!["2001:2:0:2::2".parse().unwrap()],
        rdnss_lifetime_s: Some(600),
        dnssl: vec!["lab.example".into()],
        options_skipped: 0,
        first_ms: Some(121.5),
        count: 1,
    }
}

fn ipv6_evidence(routers: Vec<RouterAdvert>, addrs: &[IfAddr]) -> Ipv6Evidence {
    let mut ev = Ipv6Evidence {
        interface: "eth0".into(),
        enabled: true,
        sysctl: Default::default(),
        solicitation: Some(Solicitation {
            status: SolicitStatus::Sent,
            reason: None,
            listened_ms: Some(271.9),
            received: routers.len() as u32,
            invalid: 0,
            dropped: 0,
        }),
        ra_mtu: routers.iter().find_map(|r| r.mtu),
        addresses: check::ipv6::classify(addrs, &routers),
        routers,
        kernel_ra_routes: vec!["fe80::1".parse().unwrap()],
        resolvers: vec![IpAddr::V4(ip4("198.18.0.1"))],
        notices: vec![],
        capture: None,
    };
    ev.notices = check::ipv6::notices(&ev);
    ev
}

fn ipv6_check(ev: Ipv6Evidence, settings: &nettriage::config::Ipv6Settings) -> CheckResult {
    ran(CheckId::Ipv6, check::ipv6::judge(&ev, settings, check::Source::Live), Evidence::Ipv6(Box::new(ev)))
}

#[test]
fn ipv6_reports_match_schema() {
    let addrs = [
        addr("fe80::ff:fe00:10", 64, "link", false, None),
        addr("2001:2:0:1:0:ff:fe00:10", 64, "global", true, Some(86400)),
    ];
    let with = |ipv6: CheckResult| {
        let mut checks = healthy().checks;
        checks.insert(3, ipv6);
        report(Some("eth0"), checks)
    };
    let defaults = nettriage::config::Ipv6Settings::default();
    let healthy6 = to_json(&with(ipv6_check(ipv6_evidence(vec![lab_router(1)], &addrs), &defaults)));
    assert_matches_schema(&healthy6);
    assert_eq!(healthy6["diagnosis"]["status"], json!("healthy"));
    assert_eq!(healthy6["checks"][3]["evidence"]["routers"][0]["prefixes"][0]["autonomous"], json!(true));
    // No router: a notice, still healthy.
    let quiet = to_json(&with(ipv6_check(ipv6_evidence(vec![], &addrs[..1]), &defaults)));
    assert_matches_schema(&quiet);
    assert_eq!(quiet["checks"][3]["evidence"]["notices"][0]["code"], json!("ipv6.no_router"));
    assert_eq!(quiet["diagnosis"]["status"], json!("healthy"));
    // A rogue router and a duplicate address: fail findings under the ipv6 layer.
    let mut dup = addrs.to_vec();
    dup.push(IfAddr { dad_failed: true, tentative: true, ..addr("2001:2:0:1::10", 64, "global", false, None) });
    let expected =
        nettriage::config::Ipv6Settings { expected_routers_v6: vec!["fe80::1".parse().unwrap()], ..Default::default() };
    let rogue = ipv6_check(ipv6_evidence(vec![lab_router(1), lab_router(0x66)], &dup), &expected);
    let codes: Vec<Code> = rogue.findings.iter().map(|f| f.code).collect();
    assert_eq!(codes, [Code::Ipv6DadFailed, Code::Ipv6UnexpectedRouter]);
    let broken = to_json(&with(rogue));
    assert_matches_schema(&broken);
    // Switched off: skipped with its code and the sysctls as evidence.
    let mut off = ipv6_evidence(vec![], &[]);
    off.enabled = false;
    off.solicitation = None;
    let skipped6 = skipped(CheckId::Ipv6, SkipReason::Ipv6Disabled, "IPv6 is off", None, Evidence::Ipv6(Box::new(off)));
    assert_matches_schema(&to_json(&with(skipped6)));
}

#[test]
fn healthy_report_matches_schema() {
    let json = to_json(&healthy());
    assert_matches_schema(&json);
    // The shape the docs promise, spot-checked on the serialised form.
    assert_eq!(json["diagnosis"]["root_cause"], Value::Null);
    assert_eq!(json["checks"][3]["evidence"]["gateways"][0]["ping"]["rtts_ms"][0], json!(0.032));
}

#[test]
fn degraded_reports_match_schema() {
    let json = to_json(&degraded());
    assert_matches_schema(&json);
    // A lost probe is null inside rtts_ms; a dead resolver's times are null.
    assert_eq!(json["checks"][3]["evidence"]["gateways"][0]["ping"]["rtts_ms"][1], Value::Null);
    assert_eq!(json["checks"][4]["evidence"]["servers"][1]["avg_ms"], Value::Null);
    assert_matches_schema(&to_json(&degraded_by_errors()));
    let json = to_json(&degraded_ipv6());
    assert_matches_schema(&json);
    assert_eq!(json["checks"][3]["evidence"]["gateways_v6"][0]["ns"]["status"], "answered");
    let ports = json["checks"].as_array().unwrap().iter().find(|c| c["id"] == "ports").unwrap();
    assert_eq!(ports["evidence"]["targets"][0]["families"][1]["family"], "ipv6");
    assert_eq!(ports["evidence"]["targets"][0]["happy_eyeballs_cost_ms"], json!(250.0));
    assert_eq!(ports["evidence"]["targets"][0]["mss"], 1448);
    let web = json["checks"].as_array().unwrap().iter().find(|c| c["id"] == "web").unwrap();
    assert_eq!(web["findings"][0]["code"], "ipv6.broken");
    let attempts = &web["evidence"]["families"][0]["attempts"];
    assert_eq!((&attempts[0]["status"], &attempts[0]["mss"]), (&json!(200), &json!(1448)));
    assert_eq!((&attempts[1]["outcome"], &attempts[1]["failed_phase"]), (&json!("filtered"), &json!("connect")));
}

#[test]
fn broken_reports_match_schema() {
    for (name, r) in scenarios().into_iter().filter(|(n, _)| n.starts_with("broken")) {
        let json = to_json(&r);
        let errors = schema_errors(report_validator(), &json);
        assert!(errors.is_empty(), "{name}: {errors:#?}");
    }
    let json = to_json(&broken_no_interface());
    assert_eq!((&json["interface"], &json["checks"][0]["evidence"]["interface"]), (&Value::Null, &Value::Null));
}

/// Reports read back through the library (`Report: Deserialize`) and written again still
/// match, as values and as JSON: every layer's evidence reads as its own type (never kept
/// as `Other`), and what a consumer re-emits from the model is as valid as the original.
#[test]
fn reports_round_trip_through_the_model() {
    for (name, r) in scenarios() {
        let json = to_json(&r);
        let back: Report = serde_json::from_value(json.clone()).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(back, r, "{name}");
        assert_eq!(to_json(&back), json, "{name}");
        for c in &back.checks {
            assert!(!matches!(c.evidence, Evidence::Other(_)), "{name}: {} evidence did not read as its type", c.id);
        }
        assert!(schema_errors(report_validator(), &to_json(&back)).is_empty(), "{name}");
    }
}

/// A stored report of a newer version (a code this build does not know, fields it does not
/// know everywhere) reads, keeps the code as itself, and keeps typed evidence.
#[test]
fn newer_reports_read_with_their_codes_and_typed_evidence() {
    let mut json = to_json(&broken_dns());
    json["diagnosis"]["root_cause"]["code"] = json!("dns.brand_new_code");
    json["checks"][4]["findings"][0]["code"] = json!("dns.brand_new_code");
    json["checks"][4]["evidence"]["servers"][0]["dnssec"] = json!("bogus");
    json["checks"][4]["x_added_later"] = json!(1);
    json["x_added_later"] = json!({ "nested": [1, "two", null] });
    let back: Report = serde_json::from_value(json).expect("a newer report reads");
    let cause = back.diagnosis.root_cause.as_ref().expect("a root cause");
    assert_eq!((cause.code.as_str(), cause.code.is_known(), cause.layer), ("dns.brand_new_code", false, CheckId::Dns));
    let dns = back.check(CheckId::Dns).expect("the dns check");
    assert_eq!(dns.findings[0].code.as_str(), "dns.brand_new_code");
    assert_eq!(back.dns_evidence().expect("typed dns evidence").servers.len(), 2);
    // Written back, the code is itself and the report still matches the schema.
    let again = to_json(&back);
    assert_eq!(again["diagnosis"]["root_cause"]["code"], "dns.brand_new_code");
    assert_matches_schema(&again);
}

/// Evidence that does not fit this version's type is kept whole rather than dropped.
#[test]
fn evidence_of_another_shape_is_kept_as_read() {
    let mut json = to_json(&healthy());
    json["checks"][3]["evidence"] = json!({ "gateways": "a shape of another version", "n": [1, 2] });
    let back: Report = serde_json::from_value(json.clone()).expect("reads");
    assert!(matches!(back.checks[3].evidence, Evidence::Other(_)));
    assert!(back.gateway_evidence().is_none());
    assert_eq!(to_json(&back), json);
}

/// Fields a later release adds, at any level, must not make a report invalid.
#[test]
fn unknown_fields_at_every_level_are_allowed() {
    fn add_everywhere(node: &mut Value, objects: &mut usize) {
        match node {
            Value::Object(map) => {
                for value in map.values_mut() {
                    add_everywhere(value, objects);
                }
                map.insert("x_added_later".into(), json!({ "nested": [1, "two", null] }));
                *objects += 1;
            }
            Value::Array(items) => items.iter_mut().for_each(|item| add_everywhere(item, objects)),
            _ => {}
        }
    }
    for (name, r) in scenarios() {
        let mut json = to_json(&r);
        let mut objects = 0;
        add_everywhere(&mut json, &mut objects);
        assert!(objects > 10, "{name}: only {objects} objects");
        let errors = schema_errors(report_validator(), &json);
        assert!(errors.is_empty(), "{name}: {errors:#?}");
    }
}

/// `redacted` and `capture` are coming: reports with them, and reports from builds before
/// them, both match.
#[test]
fn redacted_and_capture_are_optional_top_level_fields() {
    let mut json = to_json(&healthy());
    let map = json.as_object_mut().expect("a report is an object");
    map.remove("redacted");
    map.remove("capture");
    assert_matches_schema(&json);
    json["redacted"] = json!(true);
    json["capture"] = json!({ "path": "/tmp/nettriage-eth0.pcap", "packets": 42 });
    assert_matches_schema(&json);

    for (field, bad) in [
        ("redacted", json!("yes")),
        ("capture", json!({ "path": "/tmp/x.pcap", "packets": -1 })),
        ("capture", json!({ "path": "/tmp/x.pcap", "packets": 1.5 })),
        ("capture", json!({ "packets": 3 })),
        ("capture", json!("/tmp/x.pcap")),
    ] {
        let mut broken = json.clone();
        broken[field] = bad.clone();
        assert_rejected(&broken, &format!("/{field}"), &format!("{field} = {bad}"));
    }
}

// ---------------------------------------------------------------------------------------
// (b) The examples in docs/report.md.
// ---------------------------------------------------------------------------------------

const REPORT_MD: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/docs/report.md");

/// The contents of every ```json block of a Markdown text.
fn json_blocks(markdown: &str) -> Vec<String> {
    let mut blocks = Vec::new();
    let mut current: Option<String> = None;
    for line in markdown.lines() {
        let fence = line.trim_start();
        match current.as_mut() {
            None if fence.starts_with("```json") => current = Some(String::new()),
            Some(_) if fence.starts_with("```") => blocks.extend(current.take()),
            Some(block) => {
                block.push_str(line);
                block.push('\n');
            }
            None => {}
        }
    }
    assert!(current.is_none(), "unterminated ```json block in docs/report.md");
    blocks
}

/// The schema for shortened examples: the same types, but no property is required (outside
/// `if` conditions, which select on ids and statuses and keep their meaning).
fn without_required(node: &mut Value) {
    match node {
        Value::Object(map) => {
            map.remove("required");
            for (key, value) in map.iter_mut() {
                if key != "if" {
                    without_required(value);
                }
            }
        }
        Value::Array(items) => items.iter_mut().for_each(without_required),
        _ => {}
    }
}

/// Validates a documentation example. The docs shorten their examples (they say so), so
/// missing fields are allowed but every field shown must have the documented type. An
/// example without `schema_version` is an excerpt of a report: each of its top-level
/// members is validated on its own (`checks` entry by entry).
fn doc_example_errors(example: &Value) -> Vec<String> {
    let mut relaxed = schema_json();
    without_required(&mut relaxed);
    if example.get("schema_version").is_some() {
        let validator = jsonschema::draft202012::new(&relaxed).expect("relaxed schema compiles");
        return schema_errors(&validator, example);
    }
    let members = example.as_object().expect("an excerpt is an object");
    let mut errors = Vec::new();
    for (key, value) in members {
        let Some(member_schema) = relaxed["properties"].get(key.as_str()) else {
            errors.push(format!("/{key}: not a top-level field of the report"));
            continue;
        };
        let (member_schema, values): (&Value, Vec<(String, &Value)>) = match (key.as_str(), value) {
            ("checks", Value::Array(items)) => {
                (&member_schema["items"], items.iter().enumerate().map(|(i, v)| (format!("/{key}/{i}"), v)).collect())
            }
            _ => (member_schema, vec![(format!("/{key}"), value)]),
        };
        let mut wrapper = member_schema.clone();
        wrapper["$schema"] = relaxed["$schema"].clone();
        wrapper["$defs"] = relaxed["$defs"].clone();
        let validator = jsonschema::draft202012::new(&wrapper).expect("member schema compiles");
        for (prefix, v) in values {
            errors.extend(schema_errors(&validator, v).into_iter().map(|e| format!("{prefix}{e}")));
        }
    }
    errors
}

/// Differences between docs/report.md's examples and the current schema that are known and
/// tolerated until the example is updated: (JSON pointer, why). Remove an entry once the
/// example is fixed; an entry that no longer matches any error fails the test.
const STALE_DOC_EXAMPLES: &[(&str, &str)] = &[];

#[test]
fn docs_report_md_json_examples_match_schema() {
    let markdown = std::fs::read_to_string(REPORT_MD).expect("docs/report.md exists");
    let blocks = json_blocks(&markdown);
    assert!(blocks.len() >= 2, "expected the healthy and the broken example, found {} blocks", blocks.len());
    let mut stale_seen = vec![false; STALE_DOC_EXAMPLES.len()];
    for (i, block) in blocks.iter().enumerate() {
        let example: Value =
            serde_json::from_str(block).unwrap_or_else(|e| panic!("```json block {i} of docs/report.md: {e}"));
        let mut errors = doc_example_errors(&example);
        errors.retain(|e| {
            let stale = STALE_DOC_EXAMPLES.iter().position(|(at, _)| e.starts_with(&format!("{at}:")));
            if let Some(k) = stale {
                stale_seen[k] = true;
            }
            stale.is_none()
        });
        assert!(
            errors.is_empty(),
            "```json block {i} of docs/report.md does not match the schema:\n  {}",
            errors.join("\n  ")
        );
    }
    for ((at, why), seen) in STALE_DOC_EXAMPLES.iter().zip(stale_seen) {
        assert!(seen, "docs/report.md at {at} is no longer stale ({why}): remove it from STALE_DOC_EXAMPLES");
    }
}

/// Every skip reason code the library knows is in docs/report.md's `reason_code` table and
/// in the schema's description of it, and matches the schema's pattern.
#[test]
fn every_skip_reason_is_documented() {
    let markdown = std::fs::read_to_string(REPORT_MD).expect("docs/report.md exists");
    let schema = schema_json();
    let description = schema["$defs"]["skip_reason"]["description"].as_str().expect("skip_reason is described");
    for reason in SkipReason::KNOWN {
        let code = reason.as_str();
        assert!(markdown.contains(&format!("| `{code}` |")), "docs/report.md lacks a `reason_code` row for {code}");
        assert!(description.split([' ', ',', ':', '.']).any(|w| w == code), "schema description lacks {code}");
        let mut json = to_json(&healthy());
        json["checks"][1]["reason_code"] = json!(code);
        if reason == SkipReason::Blocked {
            (json["checks"][1]["blocked_by"], json["checks"][1]["evidence"]) = (json!("link"), Value::Null);
        }
        let errors = schema_errors(report_validator(), &json);
        assert!(errors.is_empty(), "{code} is rejected by the schema: {errors:#?}");
    }
}

#[test]
fn json_blocks_are_extracted() {
    let md = "text\n```json\n{ \"a\": 1 }\n```\n```sh\necho\n```\n  ```json\n[]\n  ```\n";
    assert_eq!(json_blocks(md), ["{ \"a\": 1 }\n", "[]\n"]);
}

// ---------------------------------------------------------------------------------------
// (c) Reports that must be rejected.
// ---------------------------------------------------------------------------------------

/// Asserts that `instance` is invalid with at least one violation at or under `at`.
fn assert_rejected(instance: &Value, at: &str, what: &str) {
    let errors = schema_errors(report_validator(), instance);
    assert!(
        errors.iter().any(|e| e.starts_with(at) && e[at.len()..].starts_with(['/', ':'])),
        "{what}: expected a violation at {at}, got {errors:#?}"
    );
}

#[test]
fn wrong_schema_version_is_rejected() {
    for bad in [json!("2"), json!(1), json!("1.0"), Value::Null] {
        let mut json = to_json(&healthy());
        json["schema_version"] = bad.clone();
        assert_rejected(&json, "/schema_version", &format!("schema_version {bad}"));
    }
    let mut missing = to_json(&healthy());
    missing.as_object_mut().unwrap().remove("schema_version");
    assert!(!report_validator().is_valid(&missing), "a report without schema_version");
}

#[test]
fn unknown_statuses_are_rejected() {
    for bad in ["ok", "PASS", "failed", "skip", ""] {
        let mut json = to_json(&healthy());
        json["checks"][0]["status"] = json!(bad);
        assert_rejected(&json, "/checks/0/status", &format!("check status {bad:?}"));
    }
    let mut json = to_json(&degraded());
    json["diagnosis"]["status"] = json!("unhealthy");
    assert_rejected(&json, "/diagnosis/status", "run status");
    let mut json = to_json(&degraded());
    json["diagnosis"]["findings"][0]["severity"] = json!("error");
    assert_rejected(&json, "/diagnosis/findings/0/severity", "severity");
}

#[test]
fn bad_skip_reasons_are_rejected() {
    // checks[1] is the wired wifi check, skipped as not_wireless.
    for bad in [json!("Not_Wireless"), json!("not wireless"), json!(""), json!(3)] {
        let mut json = to_json(&healthy());
        json["checks"][1]["reason_code"] = bad.clone();
        assert_rejected(&json, "/checks/1/reason_code", &format!("reason_code {bad}"));
    }
    // A check that ran has no reason_code; `blocked` needs a blocked_by.
    let mut json = to_json(&healthy());
    json["checks"][0]["reason_code"] = json!("not_wireless");
    assert_rejected(&json, "/checks/0/reason_code", "reason_code on a check that passed");
    let mut json = to_json(&healthy());
    json["checks"][1]["reason_code"] = json!("blocked");
    assert_rejected(&json, "/checks/1/blocked_by", "reason_code blocked without blocked_by");
}

#[test]
fn bad_code_patterns_are_rejected() {
    for bad in
        ["DNS.timeout", "dns", "dns.", "dns.time-out", "dns.timeout.v2", "http.timeout", ".timeout", "dns .timeout"]
    {
        let mut json = to_json(&broken_dns());
        json["diagnosis"]["root_cause"]["code"] = json!(bad);
        assert_rejected(&json, "/diagnosis/root_cause/code", &format!("root cause code {bad:?}"));
        let mut json = to_json(&broken_dns());
        json["checks"][4]["findings"][0]["code"] = json!(bad);
        assert_rejected(&json, "/checks/4/findings/0/code", &format!("finding code {bad:?}"));
    }
}

/// A code added in a later release matches the pattern, so older consumers' validation
/// keeps passing; a code must still carry its check's prefix (or `tool.`).
#[test]
fn new_codes_are_accepted_under_their_layer() {
    let mut json = to_json(&broken_dns());
    json["diagnosis"]["root_cause"]["code"] = json!("dns.dnssec_bogus");
    json["diagnosis"]["findings"][0]["code"] = json!("dns.dnssec_bogus");
    json["checks"][4]["findings"][0]["code"] = json!("dns.dnssec_bogus");
    assert_matches_schema(&json);
    json["checks"][4]["findings"][0]["code"] = json!("tool.out_of_memory");
    assert_matches_schema(&json);
    json["checks"][4]["findings"][0]["code"] = json!("gateway.loss");
    assert_rejected(&json, "/checks/4/findings/0/code", "a gateway code on the dns check");
}

#[test]
fn structural_violations_are_rejected() {
    /// Breaks one thing in a valid report.
    type Mutation = fn(&mut Value);
    let cases: Vec<(&str, &str, Mutation)> = vec![
        ("unknown check id", "/checks/5/id", |j| j["checks"][5]["id"] = json!("http")),
        ("unknown blocked_by", "/checks/2/blocked_by", |j| j["checks"][2]["blocked_by"] = json!("cable")),
        ("negative duration", "/checks/0/duration_ms", |j| j["checks"][0]["duration_ms"] = json!(-1)),
        ("fractional duration", "/duration_ms", |j| j["duration_ms"] = json!(1.5)),
        ("reason of a number", "/checks/1/reason", |j| j["checks"][1]["reason"] = json!(3)),
        ("started_at not RFC 3339 UTC", "/started_at", |j| j["started_at"] = json!("24.11.2026 06:48")),
        ("a check missing", "/checks", |j| {
            j["checks"].as_array_mut().unwrap().remove(1);
        }),
        ("a check twice", "/checks", |j| {
            let first = j["checks"][0].clone();
            j["checks"].as_array_mut().unwrap().push(first);
        }),
        ("evidence of the wrong check", "/checks/3/evidence", |j| {
            j["checks"][3]["evidence"] = j["checks"][4]["evidence"].clone();
        }),
        ("rtts_ms of strings", "/checks/3/evidence/gateways/0/ping/rtts_ms/0", |j| {
            j["checks"][3]["evidence"]["gateways"][0]["ping"]["rtts_ms"][0] = json!("0.03 ms");
        }),
        ("loss_ratio above 1", "/checks/3/evidence/gateways/0/ping/loss_ratio", |j| {
            j["checks"][3]["evidence"]["gateways"][0]["ping"]["loss_ratio"] = json!(20);
        }),
        ("unknown port outcome", "/checks/7/evidence/targets/0/outcome", |j| {
            j["checks"][7]["evidence"]["targets"][0]["outcome"] = json!("closed");
        }),
        ("web connectivity state unknown", "/checks/6/evidence/connectivity", |j| {
            j["checks"][6]["evidence"]["connectivity"]["state"] = json!("maybe");
        }),
        ("path status unknown", "/checks/5/evidence/destinations/0/status", |j| {
            j["checks"][5]["evidence"]["destinations"][0]["status"] = json!("fine");
        }),
        ("dhcp probe as a string", "/checks/2/evidence/probe", |j| {
            j["checks"][2]["evidence"]["probe"] = json!("not_run");
        }),
        ("link evidence without interface", "/checks/0/evidence", |j| {
            j["checks"][0]["evidence"].as_object_mut().unwrap().remove("interface");
        }),
        ("healthy with a root cause", "/diagnosis/root_cause", |j| {
            j["diagnosis"]["root_cause"] = json!({
                "code": "dns.timeout", "layer": "dns", "summary": "s", "next_steps": ["n"]
            });
        }),
        ("healthy with a failed check", "/diagnosis/status", |j| {
            j["checks"][7]["status"] = json!("fail");
            j["checks"][7]["findings"] = json!([
                { "code": "ports.refused", "severity": "fail", "layer": "ports", "message": "m" }
            ]);
        }),
        ("passing check with findings", "/checks/0/findings", |j| {
            j["checks"][0]["findings"] = json!([
                { "code": "link.errors", "severity": "warn", "layer": "link", "message": "m" }
            ]);
        }),
        ("finding on the wrong layer", "/checks/0/findings/0/layer", |j| {
            j["checks"][0]["status"] = json!("warn");
            j["checks"][0]["findings"] = json!([
                { "code": "link.errors", "severity": "warn", "layer": "dns", "message": "m" }
            ]);
        }),
    ];
    for (what, at, mutate) in cases {
        let mut json = to_json(&healthy());
        mutate(&mut json);
        assert_rejected(&json, at, what);
    }
}

#[test]
fn status_rules_are_enforced() {
    // error: exactly one tool.* warning, no evidence.
    let mut json = to_json(&degraded_by_errors());
    json["checks"][3]["evidence"] = json!({ "default_routes": [], "gateways": [] });
    assert_rejected(&json, "/checks/3/evidence", "evidence on an errored check");
    let mut json = to_json(&degraded_by_errors());
    json["checks"][3]["findings"][0]["code"] = json!("gateway.missing");
    assert_rejected(&json, "/checks/3/findings/0/code", "an errored check without a tool.* finding");
    // skipped by a blocker: no evidence, and blocked_by only on skipped checks.
    let mut json = to_json(&broken_link());
    json["checks"][2]["evidence"] = json!({});
    assert_rejected(&json, "/checks/2/evidence", "evidence on a blocked check");
    let mut json = to_json(&broken_link());
    json["checks"][0]["blocked_by"] = json!("wifi");
    assert_rejected(&json, "/checks/0", "blocked_by on a check that ran");
    // broken without a failed check, and a broken run without root cause.
    let mut json = to_json(&broken_link());
    json["diagnosis"]["root_cause"] = Value::Null;
    assert_rejected(&json, "/diagnosis/root_cause", "broken without a root cause");
    let mut json = to_json(&degraded());
    json["diagnosis"]["status"] = json!("broken");
    assert_rejected(&json, "/diagnosis/status", "broken without a failed check");
}

#[test]
fn web_evidence_of_portals_and_tls_failures_matches_schema() {
    let check_url = "http://www.site.test/check_network_status.txt";
    let login = "http://198.18.1.2/login";
    let mut redirect = hop(check_url, Some(302));
    redirect.location = Some(login.into());
    let portal = connectivity(
        WebProbe {
            url: check_url.into(),
            hops: vec![redirect, hop(login, Some(200))],
            error: None,
            total_ms: Some(3.0),
        },
        None,
    );
    assert_eq!(portal.state, ConnectivityState::Portal);
    let https = "https://www.site.test:8443/";
    let mut expired = hop(https, None);
    expired.tls = Some(TlsInfo {
        verdict: TlsVerdict::Expired,
        version: None,
        cipher: None,
        alpn: None,
        chain: vec![],
        error: Some("certificate expired".into()),
        ..TlsInfo::default()
    });
    expired.error = Some(HopError { phase: Phase::Tls, timeout: false, message: "certificate expired".into() });
    let ev = WebEvidence {
        connectivity: Some(portal),
        targets: vec![WebProbe { url: https.into(), hops: vec![expired], error: None, total_ms: Some(4.0) }],
        ..WebEvidence::default()
    };
    let mut r = healthy();
    let at = r.checks.iter().position(|c| c.id == CheckId::Web).unwrap();
    r.checks[at] = web_check(ev);
    let r = report(Some("eth0"), r.checks);
    assert_eq!(r.diagnosis.root_cause.as_ref().map(|c| c.code), Some(Code::WebCaptivePortal));
    let json = to_json(&r);
    assert_matches_schema(&json);
    let back: Report = serde_json::from_value(json).unwrap();
    assert!(back.web_evidence().is_some_and(|w| w.targets.len() == 1), "typed web evidence reads back");
}

#[test]
fn path_blackholes_and_reductions_match_schema_and_are_the_root_cause() {
    let mut r = healthy();
    let at = r.checks.iter().position(|c| c.id == CheckId::Path).unwrap();
    let mut probes = path_probe(Role::Target, "198.18.1.2", PathStatus::Reduced, 1400, Some(1500), Some(1400));
    probes.extend(path_probe(Role::Target, "2001:2:0:2::2", PathStatus::Blackhole, 1400, Some(1401), None));
    r.checks[at] = path_check(probes);
    let r = report(Some("eth0"), r.checks);
    let root = r.diagnosis.root_cause.as_ref().unwrap();
    assert_eq!((root.code, root.layer), (Code::PathMtuBlackhole, CheckId::Path));
    let json = to_json(&r);
    assert_matches_schema(&json);
    let back: Report = serde_json::from_value(json).unwrap();
    let ev = back.path_evidence().expect("typed path evidence reads back");
    assert_eq!(ev.notices.iter().map(|n| n.code).collect::<Vec<_>>(), [Code::PathMtuReduced]);
    assert_eq!(ev.destinations[1].smallest_lost, Some(1401));
}

// ---------------------------------------------------------------------------------------
// Privileges (issue #16 item 2): the top-level `privileges` of a live run, and the
// gateway's echo over an unprivileged ICMP socket.
// ---------------------------------------------------------------------------------------

/// A run that dropped both capabilities after opening its sockets, and one without any
/// whose gateway echo went over a datagram socket: both match the schema and read back
/// through the model unchanged; values outside the documented enums are refused.
#[test]
fn privileges_and_the_echo_socket_kind_match_schema() {
    use nettriage::platform::icmp::EchoSocketKind;
    use nettriage::platform::privilege::{
        CapSets, DropStatus, NetCap, OpenedSockets, PingAccess, PingGroupRange, PrivilegeReport, SocketKind,
    };
    let both = vec![NetCap::CapNetAdmin, NetCap::CapNetRaw];
    let mut dropped = healthy();
    dropped.privileges = Some(PrivilegeReport {
        uid: Some(0),
        at_start: CapSets {
            effective: both.clone(),
            permitted: both.clone(),
            inheritable: vec![],
            ambient: vec![],
            bounding: both,
        },
        opened: vec![
            OpenedSockets { kind: SocketKind::Packet, count: 5 },
            OpenedSockets { kind: SocketKind::RawIcmpV4, count: 2 },
            OpenedSockets { kind: SocketKind::EchoV4, count: 1 },
        ],
        drop: DropStatus::Dropped,
        kept: vec![],
        dropped_at_ms: Some(12.5),
        after_drop: Some(CapSets::default()),
        no_new_privs: true,
        threads: 1,
        threads_holding: 0,
        ping: Some(PingAccess { range: Some(PingGroupRange { low: 1, high: 0 }), gid: Some(0), allowed: false }),
        error: None,
    });

    let mut unprivileged = healthy();
    unprivileged.privileged = false;
    unprivileged.privileges = Some(PrivilegeReport {
        uid: Some(65534),
        at_start: CapSets::default(),
        opened: vec![],
        drop: DropStatus::NothingHeld,
        kept: vec![],
        dropped_at_ms: None,
        after_drop: None,
        no_new_privs: false,
        threads: 0,
        threads_holding: 0,
        ping: Some(PingAccess {
            range: Some(PingGroupRange { low: 0, high: 2_147_483_647 }),
            gid: Some(65534),
            allowed: true,
        }),
        error: None,
    });
    let gateway = unprivileged.checks.iter_mut().find(|c| c.id == CheckId::Gateway).expect("a gateway check");
    let Evidence::Gateway(ev) = &mut gateway.evidence else { panic!("gateway evidence") };
    ev.echo_socket = Some(EchoSocketKind::Datagram);
    ev.gateways[0].arp =
        ArpResult { status: ArpStatus::NoPrivilege, mac: None, rtt_ms: None, requests_sent: 0, seen: None };

    for (name, r) in [("dropped", &dropped), ("unprivileged", &unprivileged)] {
        let json = to_json(r);
        assert_matches_schema(&json);
        let back: Report = serde_json::from_value(json.clone()).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(&back, r, "{name}");
    }
    assert_eq!(to_json(&unprivileged)["checks"][3]["evidence"]["echo_socket"], json!("datagram"));

    let json = to_json(&dropped);
    for (path, bad) in [
        ("/privileges/drop", json!("maybe")),
        (
            "/privileges/after_drop",
            json!({ "effective": ["cap_sys_admin"], "permitted": [], "inheritable": [], "ambient": [], "bounding": [] }),
        ),
        ("/privileges/opened", json!([{ "kind": "tcp", "count": 1 }])),
        ("/privileges/threads_holding", json!(-1)),
    ] {
        let mut broken = json.clone();
        let field = path.rsplit('/').next().unwrap();
        broken["privileges"][field] = bad.clone();
        assert_rejected(&broken, path, &format!("{path} = {bad}"));
    }
}
/// The neighbours check's evidence from lldpd's real LLDP frame (captures/lldp.pcap).
fn lab_switch() -> nettriage::platform::lldp::Neighbour {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/captures/lldp.pcap");
    let frame = nettriage::pcap::read_file(path).unwrap().remove(0).data;
    match nettriage::platform::lldp::decode_frame(&frame) {
        Some(nettriage::platform::lldp::Heard::Neighbour(n)) => *n,
        other => panic!("{other:?}"),
    }
}

#[test]
fn neighbours_reports_match_schema_with_the_top_line() {
    use nettriage::check::neighbours::{self, NeighboursEvidence};
    use nettriage::config::NeighboursSettings;
    use nettriage::platform::lldp::Duplex;
    let with = |ev: NeighboursEvidence, settings: &NeighboursSettings| {
        let mut checks = healthy().checks;
        let findings = neighbours::judge(&ev, settings);
        let line = neighbours::line(&ev);
        checks.insert(2, ran(CheckId::Neighbours, findings, Evidence::Neighbours(Box::new(ev))));
        let mut report = report(Some("eth0"), checks);
        report.neighbour = line;
        report
    };
    let mut ev = NeighboursEvidence {
        interface: "eth0".into(),
        neighbours: vec![lab_switch()],
        local_speed_mbps: Some(10_000),
        local_duplex: Some(Duplex::Full),
        listened_ms: 1_003,
        lldp_frames: 1,
        ..NeighboursEvidence::default()
    };
    ev.neighbours[0].power = None;
    let heard = to_json(&with(ev.clone(), &NeighboursSettings::default()));
    assert_matches_schema(&heard);
    assert_eq!(heard["neighbour"]["switch"], json!("sw-lab-1"));
    assert_eq!(heard["neighbour"]["port"], json!("Gi1/0/14"));
    assert_eq!(heard["neighbour"]["vlan"], json!(42));
    assert_eq!(heard["checks"][2]["id"], json!("neighbours"));
    assert_eq!(heard["diagnosis"]["status"], json!("healthy"));
    // The wrong VLAN fails under the neighbours layer with the link's code.
    let wrong = with(ev.clone(), &NeighboursSettings { expected_vlan: Some(10), ..Default::default() });
    let wrong_json = to_json(&wrong);
    assert_matches_schema(&wrong_json);
    assert_eq!(wrong.diagnosis.root_cause.as_ref().map(|r| r.code), Some(Code::LinkUnexpectedVlan));
    // Nothing heard: no line, a notice, still healthy.
    let mut quiet = NeighboursEvidence { neighbours: vec![], lldp_frames: 0, ..ev };
    quiet.notices = neighbours::notices(&quiet);
    let quiet = to_json(&with(quiet, &NeighboursSettings::default()));
    assert_matches_schema(&quiet);
    assert!(quiet.get("neighbour").is_none());
    assert_eq!(quiet["checks"][2]["evidence"]["notices"][0]["code"], json!("neighbours.none_heard"));
    assert_eq!(quiet["diagnosis"]["status"], json!("healthy"));
}

#[test]
fn ad_profile_reports_match_schema() {
    use nettriage::check::ad::kerberos::KdcReply;
    use nettriage::check::ad::ldap::RootDse;
    use nettriage::check::ad::{
        self, AdEvidence, ClockReading, ClockSource, DcOrigin, DcProbe, KerberosProbe, LdapProbe, Lookup,
        LookupOutcome, PortProbe, ProbeState, SrvKind, SrvRecord, Transport,
    };
    use nettriage::config::AdSettings;
    let reading = ClockReading { dc: "dc1.corp.lab".into(), source: ClockSource::Kerberos, offset_ms: 420_250.5 };
    let dc = DcProbe {
        name: "dc1.corp.lab".into(),
        address: Some("198.18.0.20".parse().unwrap()),
        origin: DcOrigin::Srv,
        ports: ad::DC_PORTS.iter().map(|p| PortProbe { port: *p, state: ProbeState::Ok, ms: Some(0.2) }).collect(),
        ldap: LdapProbe {
            state: ProbeState::Ok,
            ms: Some(1.5),
            rootdse: Some(RootDse {
                dns_host_name: Some("dc1.corp.lab".into()),
                current_time: Some("20261130154513.0Z".into()),
                ..RootDse::default()
            }),
            error: None,
        },
        kerberos: vec![
            KerberosProbe {
                transport: Transport::Udp,
                state: ProbeState::Ok,
                ms: Some(3.0),
                reply: Some(KdcReply::Error {
                    error_code: 6,
                    stime_unix_ms: Some(1_796_053_513_250),
                    realm: "CORP.LAB".into(),
                }),
                error: None,
            },
            KerberosProbe {
                transport: Transport::Tcp,
                state: ProbeState::Malformed,
                error: Some("bad".into()),
                ..Default::default()
            },
        ],
        clock: vec![reading.clone()],
    };
    let ev = AdEvidence {
        domain: "corp.lab".into(),
        resolvers: vec!["198.18.0.20".parse().unwrap()],
        lookups: vec![
            Lookup {
                name: "_ldap._tcp.dc._msdcs.corp.lab".into(),
                record_type: "SRV".into(),
                kind: Some(SrvKind::Dc),
                outcome: LookupOutcome::Answer,
                server: Some("198.18.0.20".parse().unwrap()),
                records: vec![SrvRecord { target: "dc1.corp.lab".into(), port: 389, priority: 0, weight: 100 }],
                error: None,
            },
            Lookup {
                name: "corp.lab".into(),
                record_type: "SOA".into(),
                outcome: LookupOutcome::Nxdomain,
                ..Default::default()
            },
        ],
        dcs: vec![dc, DcProbe { name: "dc2.corp.lab".into(), ..DcProbe::default() }],
        clock: Some(reading),
        ..AdEvidence::default()
    };
    let findings = ad::judge(&ev, &AdSettings::default());
    assert!(findings.iter().any(|f| f.code == Code::AdClockSkew && f.severity == Severity::Fail));
    // Profiles run after every layer: their results come last.
    let mut with_ad = report(Some("eth0"), healthy().checks);
    with_ad.checks.push(ran(CheckId::Ad, findings, Evidence::Ad(Box::new(ev))));
    with_ad.diagnosis = diagnose(&with_ad.checks);
    let json = to_json(&with_ad);
    assert_eq!(json["checks"].as_array().and_then(|c| c.last()).map(|c| &c["id"]), Some(&json!("ad")));
    assert_matches_schema(&json);
    let empty = AdEvidence { domain: "corp.lab".into(), ..AdEvidence::default() };
    let mut without_dcs = report(Some("eth0"), healthy().checks);
    without_dcs.checks.push(ran(CheckId::Ad, ad::judge(&empty, &AdSettings::default()), Evidence::Ad(Box::new(empty))));
    without_dcs.diagnosis = diagnose(&without_dcs.checks);
    assert_matches_schema(&to_json(&without_dcs));
}
