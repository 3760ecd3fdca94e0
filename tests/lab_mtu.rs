//! End-to-end scenarios of the `path` layer (path MTU): the router's WAN link at MTU 1400
//! (router `wan0`, server `eth0`) behind a client at 1500, with the router's
//! fragmentation-needed / packet-too-big messages delivered (`path.mtu_reduced`, the run
//! stays healthy) or dropped by nftables in its `output` chain (`path.mtu_blackhole`, the
//! root cause), for IPv4 and for IPv6 (static addresses from 2001:2::/48), a healthy
//! dual-stack path with no path codes, and the router's LAN side at a smaller MTU than the
//! client's (`link.mtu_mismatch`). Each test runs the real binary in the client
//! namespace and asserts on codes, statuses and typed evidence (`largest_ok`,
//! `smallest_lost`), never on message text.

mod lab;

use lab::mtu::{SERVER_IP6, WAN_MTU, drop_too_big_reports, enable_ipv6, path, set_wan_mtu};
use lab::{
    GATEWAY_IP, Lab, SERVER_IP, WWW_NAME, assert_check_status, assert_exit, assert_report_contract, codes,
    root_cause_code,
};
use nettriage::check::path::{PathProbe, PathStatus, Role};
use serde_json::Value;

/// The search for `address` (a target, or the gateway).
fn dest(r: &Value, address: &str) -> PathProbe {
    let ev = path(r);
    ev.destinations
        .iter()
        .find(|d| d.address.to_string() == address)
        .cloned()
        .unwrap_or_else(|| panic!("no path search for {address}: {ev:#?}"))
}

fn notice_codes(r: &Value) -> Vec<String> {
    path(r).notices.iter().map(|n| n.code.as_str().to_string()).collect()
}

fn target(ip: &str) -> String {
    if ip.contains(':') { format!("[{ip}]:8080") } else { format!("{ip}:8080") }
}

/// A path with nothing wrong, both families: the full size (the interface's 1500) comes
/// back from the gateway and the target in one round, no path codes.
#[test]
#[cfg_attr(nettriage_lab_skip, ignore = "NETTRIAGE_LAB=skip")]
fn mtu_healthy_dual_stack_path_has_no_path_codes() {
    let lab = Lab::start("mtu_healthy_dual_stack_path_has_no_path_codes");
    enable_ipv6(&lab);
    let _v6_listener = lab.listen_in(&lab.s, SERVER_IP6, &[8080]);
    let (v4, v6) = (target(SERVER_IP), target(SERVER_IP6));
    let (code, r, _) = lab.run_nettriage(&["--dns-name", WWW_NAME, "--target", &v4, "--target", &v6]);
    assert_report_contract(code, &r);
    assert_check_status(&r, "path", "pass");
    assert!(codes(&r, "path").is_empty() && notice_codes(&r).is_empty());
    assert_exit(code, 0, &r);
    for address in [GATEWAY_IP, SERVER_IP, SERVER_IP6] {
        let d = dest(&r, address);
        assert_eq!((d.status, d.largest_ok, d.rounds), (PathStatus::Full, Some(1500), 1), "{address}: {d:#?}");
    }
    assert_eq!(dest(&r, GATEWAY_IP).role, Role::Gateway);
    assert_eq!(path(&r).interface_mtu, Some(1500));
}

fn reduced(test: &str, server: &str) {
    let lab = Lab::start(test);
    enable_ipv6(&lab);
    set_wan_mtu(&lab, WAN_MTU);
    let _v6_listener = lab.listen_in(&lab.s, SERVER_IP6, &[8080]);
    let t = target(server);
    let (code, r, _) = lab.run_nettriage(&["--dns-name", WWW_NAME, "--target", &t]);
    assert_report_contract(code, &r);
    assert_check_status(&r, "path", "pass");
    assert_eq!(notice_codes(&r), ["path.mtu_reduced"]);
    assert_exit(code, 0, &r);
    let d = dest(&r, server);
    assert_eq!(d.status, PathStatus::Reduced, "{d:#?}");
    assert_eq!((d.largest_ok, d.smallest_lost, d.reported_mtu), (Some(WAN_MTU), Some(1500), Some(WAN_MTU)));
    assert!(d.too_big.iter().all(|t| t.mtu == WAN_MTU && t.from.to_string() != server), "{d:#?}");
}

fn blackhole(test: &str, server: &str) {
    let lab = Lab::start(test);
    enable_ipv6(&lab);
    set_wan_mtu(&lab, WAN_MTU);
    drop_too_big_reports(&lab);
    let _v6_listener = lab.listen_in(&lab.s, SERVER_IP6, &[8080]);
    let t = target(server);
    let (code, r, _) = lab.run_nettriage(&["--dns-name", WWW_NAME, "--target", &t]);
    assert_report_contract(code, &r);
    assert_check_status(&r, "path", "fail");
    assert_eq!(codes(&r, "path"), ["path.mtu_blackhole"]);
    assert_eq!(root_cause_code(&r).as_deref(), Some("path.mtu_blackhole"));
    assert_exit(code, 2, &r);
    // Small packets pass, so the layers above still run.
    assert_check_status(&r, "ports", "pass");
    let d = dest(&r, server);
    assert_eq!(d.status, PathStatus::Blackhole, "{d:#?}");
    assert_eq!((d.largest_ok, d.smallest_lost), (Some(WAN_MTU), Some(WAN_MTU + 1)), "{d:#?}");
    assert!(d.too_big.is_empty(), "{d:#?}");
    assert!(d.ms < 2_000.0, "the blackhole is named within 2 s: {} ms", d.ms);
    // The gateway's own link is fine.
    assert_eq!(dest(&r, GATEWAY_IP).status, PathStatus::Full);
}

/// IPv4, route MTU 1400 with fragmentation-needed delivered: reduced, announced, healthy.
#[test]
#[cfg_attr(nettriage_lab_skip, ignore = "NETTRIAGE_LAB=skip")]
fn mtu_reduced_v4_with_frag_needed_is_a_notice() {
    reduced("mtu_reduced_v4_with_frag_needed_is_a_notice", SERVER_IP);
}

/// IPv4, route MTU 1400 with fragmentation-needed dropped: a blackhole, the root cause.
#[test]
#[cfg_attr(nettriage_lab_skip, ignore = "NETTRIAGE_LAB=skip")]
fn mtu_blackhole_v4_without_frag_needed_is_the_root_cause() {
    blackhole("mtu_blackhole_v4_without_frag_needed_is_the_root_cause", SERVER_IP);
}

/// IPv6, route MTU 1400 with packet-too-big delivered: reduced, announced, healthy.
#[test]
#[cfg_attr(nettriage_lab_skip, ignore = "NETTRIAGE_LAB=skip")]
fn mtu_reduced_v6_with_packet_too_big_is_a_notice() {
    reduced("mtu_reduced_v6_with_packet_too_big_is_a_notice", SERVER_IP6);
}

/// IPv6, route MTU 1400 with packet-too-big dropped: a blackhole, the root cause.
#[test]
#[cfg_attr(nettriage_lab_skip, ignore = "NETTRIAGE_LAB=skip")]
fn mtu_blackhole_v6_without_packet_too_big_is_the_root_cause() {
    blackhole("mtu_blackhole_v6_without_packet_too_big_is_the_root_cause", SERVER_IP6);
}

/// The router's LAN side at MTU 1400 behind a client at 1500 (a mismatch on the segment):
/// full-size frames to the gateway itself vanish and nobody reports it, which is the
/// link's fault, not a path's: `link.mtu_mismatch` (warn), found by the path check.
#[test]
#[cfg_attr(nettriage_lab_skip, ignore = "NETTRIAGE_LAB=skip")]
fn mtu_mismatch_with_the_gateway_is_a_link_warning() {
    let lab = Lab::start("mtu_mismatch_with_the_gateway_is_a_link_warning");
    lab.ip(&lab.r, &["link", "set", "lan0", "mtu", "1400"]);
    lab.ip(&lab.r, &["link", "set", "br0", "mtu", "1400"]);
    let (code, r, _) = lab.run_nettriage(&["--dns-name", WWW_NAME]);
    assert_report_contract(code, &r);
    assert_check_status(&r, "path", "warn");
    assert_eq!(codes(&r, "path"), ["link.mtu_mismatch"]);
    assert_eq!(root_cause_code(&r).as_deref(), Some("link.mtu_mismatch"));
    assert_exit(code, 1, &r);
    let gw = dest(&r, GATEWAY_IP);
    assert_eq!((gw.role, gw.status), (Role::Gateway, PathStatus::Blackhole), "{gw:#?}");
    // A veth accepts a VLAN tag's 4 bytes beyond its MTU (the kernel's
    // is_skb_forwardable), so the router's side takes up to 1404: measured to the byte.
    let ok = gw.largest_ok.expect("small frames pass");
    assert!((1400..=1404).contains(&ok) && gw.smallest_lost == Some(ok + 1), "{gw:#?}");
}
