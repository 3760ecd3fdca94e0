//! End-to-end scenarios of IPv6 beside IPv4 in the gateway, dns, ports and web checks
//! (issue 14 part 2): a dual-stack lab (`tests/lab/ipv6_paths.rs`: static addresses from
//! 2001:2::/48, the router's link-local address as the client's IPv6 default route, a name
//! with A and AAAA records) and nftables faults on one family at a time. Each test runs the
//! real binary in the client namespace and asserts on codes, statuses and typed evidence
//! fields, never on message text.

mod lab;

use lab::ipv6_paths::{
    DUAL_NAME, DUAL_PORT, ROUTER_LL, ROUTER_V6, SERVER_V6, dual_stack_options, dual_url, enable_ipv6, start_dual_nginx,
    start_v6_resolver,
};
use lab::{Lab, SERVER_IP, assert_exit, assert_report_contract, check, codes, pretty, root_cause_code};
use serde_json::Value;

const TOOLS: &[(&str, &str)] = &[("ping", "iputils-ping")];

/// The codes this part of issue 14 adds, none of which a healthy dual-stack run may show.
const V6_CODES: &[&str] = &[
    "ipv6.broken",
    "ipv4.broken",
    "gateway.v6_unreachable",
    "gateway.v6_no_echo",
    "gateway.v6_loss",
    "gateway.v6_latency",
];

fn target() -> String {
    format!("{DUAL_NAME}:{DUAL_PORT}")
}

/// Runs nettriage against the dual-stack name.
fn run(lab: &Lab) -> (i32, Value) {
    let target = target();
    let (code, r, _) = lab.run_nettriage(&["--target", &target, "--dns-name", DUAL_NAME]);
    assert_report_contract(code, &r);
    (code, r)
}

fn all_codes(r: &Value) -> Vec<String> {
    lab::LAYER_IDS.iter().flat_map(|id| codes(r, id)).collect()
}

/// The per-family attempts of the dual-stack target, as (family, outcome, address).
fn families(r: &Value) -> Vec<(String, String, String)> {
    let t = &check(r, "ports")["evidence"]["targets"][0];
    t["families"]
        .as_array()
        .unwrap_or_else(|| panic!("no families[] for the dual-stack target; {}", pretty(r)))
        .iter()
        .map(|f| {
            let s = |k: &str| f[k].as_str().unwrap_or_default().to_string();
            (s("family"), s("outcome"), s("address"))
        })
        .collect()
}

fn v6_router(r: &Value) -> &Value {
    let routers = &check(r, "gateway")["evidence"]["gateways_v6"];
    assert_eq!(routers.as_array().map(Vec::len), Some(1), "one IPv6 router; {}", pretty(r));
    assert_eq!(routers[0]["address"], ROUTER_LL, "{}", pretty(r));
    &routers[0]
}

/// A dual-stack network that works: the IPv6 router answers Neighbor Solicitation and
/// echo, the resolver reached over IPv6 answers like the IPv4 one (A and AAAA kept), and
/// the name opens over both families: healthy, none of the IPv6 codes.
#[test]
#[cfg_attr(nettriage_lab_skip, ignore = "NETTRIAGE_LAB=skip")]
fn dual_stack_healthy_has_no_ipv6_codes() {
    lab::require_tools("dual_stack_healthy_has_no_ipv6_codes", TOOLS);
    let mut lab = Lab::start_with("dual_stack_healthy_has_no_ipv6_codes", dual_stack_options());
    let _v6 = enable_ipv6(&lab);
    start_v6_resolver(&mut lab);
    lab.set_resolv_conf(&[
        &format!("nameserver {}", lab::GATEWAY_IP),
        &format!("nameserver {ROUTER_V6}"),
        &format!("nameserver {ROUTER_LL}%eth0"),
    ]);
    let (code, r) = run(&lab);
    assert_exit(code, 0, &r);
    assert_eq!(r["diagnosis"]["status"], "healthy", "{}", pretty(&r));
    let found = all_codes(&r);
    assert!(V6_CODES.iter().all(|c| !found.iter().any(|f| f == c)), "{found:?}; {}", pretty(&r));

    let router = v6_router(&r);
    assert_eq!(router["ns"]["status"], "answered", "{}", pretty(&r));
    assert!(router["ping"]["received"].as_u64().unwrap_or(0) > 0, "{}", pretty(&r));

    let servers = check(&r, "dns")["evidence"]["servers"].as_array().cloned().unwrap_or_default();
    // Both IPv6 resolvers, the global one and the link-local one with its zone, were
    // queried like the IPv4 one and work.
    for ip in [ROUTER_V6, ROUTER_LL] {
        let v6_server = servers.iter().find(|s| s["server"] == ip);
        let v6_server = v6_server.unwrap_or_else(|| panic!("the IPv6 resolver {ip} was queried; {}", pretty(&r)));
        assert_eq!(v6_server["verdict"], "ok", "{ip}; {}", pretty(&r));
    }
    for s in &servers {
        let aaaa =
            s["queries"].as_array().unwrap().iter().find(|q| q["name"] == DUAL_NAME && q["record_type"] == "AAAA");
        let answers = &aaaa.unwrap_or_else(|| panic!("an AAAA query; {}", pretty(&r)))["answers"];
        assert_eq!(answers[0], SERVER_V6, "{}", pretty(&r));
    }

    assert_eq!(
        families(&r),
        [
            ("ipv4".into(), "open".into(), format!("{SERVER_IP}:{DUAL_PORT}")),
            ("ipv6".into(), "open".into(), format!("[{SERVER_V6}]:{DUAL_PORT}"))
        ],
        "{}",
        pretty(&r)
    );
    // Each family's MSS, read on the probe's own connection (no extra connection).
    let t = &check(&r, "ports")["evidence"]["targets"][0];
    for f in t["families"].as_array().unwrap() {
        assert!(f["mss"].as_u64().is_some_and(|m| (1200..=1460).contains(&m)), "{}", pretty(&r));
    }
    assert_eq!(t["mss"], t["families"][0]["mss"], "the primary (IPv4) family's; {}", pretty(&r));
}

/// The router advertises IPv6 (the client has an address and a route) but drops IPv6
/// forwarding, while IPv4 works: `ipv6.broken` with the Happy Eyeballs cost, the run
/// degraded with `ipv6.broken` as its root cause.
#[test]
#[cfg_attr(nettriage_lab_skip, ignore = "NETTRIAGE_LAB=skip")]
fn ipv6_forwarding_dropped_is_ipv6_broken_and_the_root_cause() {
    lab::require_tools("ipv6_forwarding_dropped_is_ipv6_broken_and_the_root_cause", TOOLS);
    let lab = Lab::start_with("ipv6_forwarding_dropped_is_ipv6_broken_and_the_root_cause", dual_stack_options());
    let _v6 = enable_ipv6(&lab);
    lab.nft(
        &lab.r,
        "table ip6 nt_v6fwd {\n chain forward {\n type filter hook forward priority 0; policy drop;\n }\n}\n",
    );
    let (code, r) = run(&lab);
    assert_exit(code, 1, &r);
    assert_eq!(r["diagnosis"]["status"], "degraded", "{}", pretty(&r));
    assert_eq!(root_cause_code(&r).as_deref(), Some("ipv6.broken"), "{}", pretty(&r));
    assert_eq!(r["diagnosis"]["root_cause"]["layer"], "ports", "{}", pretty(&r));
    assert_eq!(codes(&r, "ports"), ["ipv6.broken"], "{}", pretty(&r));
    let fams = families(&r);
    assert_eq!((fams[0].0.as_str(), fams[0].1.as_str()), ("ipv4", "open"), "{}", pretty(&r));
    assert_eq!((fams[1].0.as_str(), fams[1].1.as_str()), ("ipv6", "filtered"), "{}", pretty(&r));
    let t = &check(&r, "ports")["evidence"]["targets"][0];
    assert_eq!(t["outcome"], "open", "reachable over IPv4; {}", pretty(&r));
    assert_eq!(t["happy_eyeballs_cost_ms"], 250.0, "RFC 8305's Connection Attempt Delay; {}", pretty(&r));
    // The router itself answers on IPv6: the gateway layer is fine.
    assert!(codes(&r, "gateway").is_empty(), "{}", pretty(&r));
    assert_eq!(v6_router(&r)["ns"]["status"], "answered", "{}", pretty(&r));
}

/// The IPv6 router drops echo to itself but forwards: the gateway's IPv6 echo finding (a
/// warning), no `ipv6.broken`, and the run is degraded, not broken.
#[test]
#[cfg_attr(nettriage_lab_skip, ignore = "NETTRIAGE_LAB=skip")]
fn ipv6_router_dropping_echo_is_a_gateway_warning_not_a_failure() {
    lab::require_tools("ipv6_router_dropping_echo_is_a_gateway_warning_not_a_failure", TOOLS);
    let lab = Lab::start_with("ipv6_router_dropping_echo_is_a_gateway_warning_not_a_failure", dual_stack_options());
    let _v6 = enable_ipv6(&lab);
    lab.nft(
        &lab.r,
        "table ip6 nt_noecho {\n chain input {\n type filter hook input priority 0;\n icmpv6 type echo-request drop\n }\n}\n",
    );
    let (code, r) = run(&lab);
    assert_exit(code, 1, &r);
    assert_eq!(r["diagnosis"]["status"], "degraded", "{}", pretty(&r));
    assert_eq!(check(&r, "gateway")["status"], "warn", "{}", pretty(&r));
    assert_eq!(codes(&r, "gateway"), ["gateway.v6_no_echo"], "{}", pretty(&r));
    assert_eq!(root_cause_code(&r).as_deref(), Some("gateway.v6_no_echo"), "{}", pretty(&r));
    let router = v6_router(&r);
    assert_eq!(router["ns"]["status"], "answered", "{}", pretty(&r));
    assert_eq!(router["ping"]["received"], 0, "{}", pretty(&r));
    assert!(codes(&r, "ports").is_empty(), "forwarding works; {}", pretty(&r));
    assert!(families(&r).iter().all(|(_, outcome, _)| outcome == "open"), "{}", pretty(&r));
}

/// The IPv6 router is gone from the link (its link-local address removed; the client's
/// neighbour cache flushed): `gateway.v6_unreachable` as a warning beside the working
/// IPv4 gateway, and it, not the `ipv6.broken` it causes, is the root cause.
#[test]
#[cfg_attr(nettriage_lab_skip, ignore = "NETTRIAGE_LAB=skip")]
fn ipv6_router_gone_is_v6_unreachable_and_explains_ipv6_broken() {
    lab::require_tools("ipv6_router_gone_is_v6_unreachable_and_explains_ipv6_broken", TOOLS);
    let lab = Lab::start_with("ipv6_router_gone_is_v6_unreachable_and_explains_ipv6_broken", dual_stack_options());
    let _v6 = enable_ipv6(&lab);
    lab.ip(&lab.r, &["-6", "addr", "del", &format!("{ROUTER_LL}/64"), "dev", "br0"]);
    lab.flush_client_neigh();
    let (code, r) = run(&lab);
    assert_exit(code, 1, &r);
    assert_eq!(r["diagnosis"]["status"], "degraded", "{}", pretty(&r));
    assert_eq!(codes(&r, "gateway"), ["gateway.v6_unreachable"], "{}", pretty(&r));
    let router = v6_router(&r);
    assert_eq!(router["ns"]["status"], "no_reply", "{}", pretty(&r));
    assert!(router["ping"].is_null(), "{}", pretty(&r));
    assert_eq!(codes(&r, "ports"), ["ipv6.broken"], "{}", pretty(&r));
    assert_eq!(root_cause_code(&r).as_deref(), Some("gateway.v6_unreachable"), "{}", pretty(&r));
}

/// IPv4 forwarding dropped on the router while IPv6 works: the name is reachable over
/// IPv6, `ipv4.broken` names the failing family, the run is degraded.
#[test]
#[cfg_attr(nettriage_lab_skip, ignore = "NETTRIAGE_LAB=skip")]
fn ipv4_forwarding_dropped_with_ipv6_fine_is_ipv4_broken() {
    lab::require_tools("ipv4_forwarding_dropped_with_ipv6_fine_is_ipv4_broken", TOOLS);
    let lab = Lab::start_with("ipv4_forwarding_dropped_with_ipv6_fine_is_ipv4_broken", dual_stack_options());
    let _v6 = enable_ipv6(&lab);
    lab.nft(
        &lab.r,
        "table ip nt_v4fwd {\n chain forward {\n type filter hook forward priority 0; policy drop;\n }\n}\n",
    );
    let (code, r) = run(&lab);
    assert_exit(code, 1, &r);
    assert_eq!(r["diagnosis"]["status"], "degraded", "{}", pretty(&r));
    assert_eq!(codes(&r, "ports"), ["ipv4.broken"], "{}", pretty(&r));
    assert_eq!(root_cause_code(&r).as_deref(), Some("ipv4.broken"), "{}", pretty(&r));
    let t = &check(&r, "ports")["evidence"]["targets"][0];
    assert_eq!(t["outcome"], "open", "{}", pretty(&r));
    assert_eq!(t["address"], format!("[{SERVER_V6}]:{DUAL_PORT}"), "reachable over IPv6; {}", pretty(&r));
    let fams = families(&r);
    assert_eq!((fams[0].0.as_str(), fams[0].1.as_str()), ("ipv4", "filtered"), "{}", pretty(&r));
    assert_eq!((fams[1].0.as_str(), fams[1].1.as_str()), ("ipv6", "open"), "{}", pretty(&r));
}

const WEB_TOOLS: &[(&str, &str)] = &[("ping", "iputils-ping"), ("nginx", "nginx-light")];

/// Runs nettriage with the dual-stack site as its only URL target (no port targets).
fn run_web(lab: &Lab) -> (i32, Value) {
    let url = dual_url();
    let (code, r, _) = lab.run_nettriage(&["--url", &url, "--dns-name", DUAL_NAME]);
    assert_report_contract(code, &r);
    (code, r)
}

/// The web check's per-family requests to the dual-stack site, as (family, outcome,
/// address, status).
fn web_families(r: &Value) -> Vec<(String, String, String, Option<u64>)> {
    let fams = &check(r, "web")["evidence"]["families"];
    assert_eq!(fams.as_array().map(Vec::len), Some(1), "one dual-stack URL; {}", pretty(r));
    assert_eq!(fams[0]["url"], dual_url(), "{}", pretty(r));
    fams[0]["attempts"]
        .as_array()
        .unwrap_or_else(|| panic!("no attempts[]; {}", pretty(r)))
        .iter()
        .map(|a| {
            let s = |k: &str| a[k].as_str().unwrap_or_default().to_string();
            (s("family"), s("outcome"), s("address"), a["status"].as_u64())
        })
        .collect()
}

/// A healthy dual-stack web site (nginx on both families): the web check requests it over
/// each family, both answer 200 (each with the connection's MSS), no IPv6 code, healthy.
#[test]
#[cfg_attr(nettriage_lab_skip, ignore = "NETTRIAGE_LAB=skip")]
fn dual_stack_web_site_answers_over_both_families() {
    lab::require_tools("dual_stack_web_site_answers_over_both_families", WEB_TOOLS);
    let mut lab = Lab::start_with("dual_stack_web_site_answers_over_both_families", dual_stack_options());
    let _v6 = enable_ipv6(&lab);
    start_dual_nginx(&mut lab);
    let (code, r) = run_web(&lab);
    assert_exit(code, 0, &r);
    assert_eq!(r["diagnosis"]["status"], "healthy", "{}", pretty(&r));
    let found = all_codes(&r);
    assert!(V6_CODES.iter().all(|c| !found.iter().any(|f| f == c)), "{found:?}; {}", pretty(&r));
    assert_eq!(check(&r, "web")["status"], "pass", "{}", pretty(&r));
    assert_eq!(
        web_families(&r),
        [
            ("ipv4".into(), "open".into(), format!("{SERVER_IP}:80"), Some(200)),
            ("ipv6".into(), "open".into(), format!("[{SERVER_V6}]:80"), Some(200)),
        ],
        "{}",
        pretty(&r)
    );
    // The segment size of each request's own connection (1500-byte veths, timestamps on):
    // below the interface MTU less the IP and TCP headers.
    for (a, most) in
        check(&r, "web")["evidence"]["families"][0]["attempts"].as_array().unwrap().iter().zip([1460, 1440])
    {
        let mss = a["mss"].as_u64().unwrap_or_else(|| panic!("mss read; {}", pretty(&r)));
        assert!((1200..=most).contains(&mss), "{mss}; {}", pretty(&r));
    }
}

/// The dual-stack web site with the router's IPv6 forwarding dropped: the URL answers (over
/// IPv4), its IPv6 request times out, and the web check says `ipv6.broken` with the ports
/// check's rule; the run is degraded with it as the root cause.
#[test]
#[cfg_attr(nettriage_lab_skip, ignore = "NETTRIAGE_LAB=skip")]
fn dual_stack_web_site_with_ipv6_forwarding_dropped_is_ipv6_broken() {
    lab::require_tools("dual_stack_web_site_with_ipv6_forwarding_dropped_is_ipv6_broken", WEB_TOOLS);
    let mut lab =
        Lab::start_with("dual_stack_web_site_with_ipv6_forwarding_dropped_is_ipv6_broken", dual_stack_options());
    let _v6 = enable_ipv6(&lab);
    start_dual_nginx(&mut lab);
    lab.nft(
        &lab.r,
        "table ip6 nt_v6fwd {\n chain forward {\n type filter hook forward priority 0; policy drop;\n }\n}\n",
    );
    let (code, r) = run_web(&lab);
    assert_exit(code, 1, &r);
    assert_eq!(r["diagnosis"]["status"], "degraded", "{}", pretty(&r));
    assert_eq!(codes(&r, "web"), ["ipv6.broken"], "{}", pretty(&r));
    assert_eq!(root_cause_code(&r).as_deref(), Some("ipv6.broken"), "{}", pretty(&r));
    assert_eq!(r["diagnosis"]["root_cause"]["layer"], "web", "{}", pretty(&r));
    let fams = web_families(&r);
    assert_eq!((fams[0].0.as_str(), fams[0].1.as_str(), fams[0].3), ("ipv4", "open", Some(200)), "{}", pretty(&r));
    assert_eq!((fams[1].0.as_str(), fams[1].1.as_str(), fams[1].3), ("ipv6", "filtered", None), "{}", pretty(&r));
    // The URL itself answered (over IPv4, as a dual-stack client gets it in the end).
    assert_eq!(check(&r, "web")["evidence"]["targets"][0]["hops"][0]["status"], 200, "{}", pretty(&r));
}
