//! End-to-end scenarios of the `ipv6` layer: IPv6 switched on in the lab namespaces, real
//! radvd in the router namespace (and a second one on another host of the client segment
//! as the rogue router), a host holding the client's address for DAD to fail on, and the
//! hostile RA sender `tests/lab/hostile_ra.py`. Each test runs the real binary in the
//! client namespace and asserts on codes, statuses and typed evidence fields, never on
//! message text. Shared setup lives in `tests/lab/ipv6.rs`.
//!
//! Needs what the lab needs plus radvd and python3.

mod lab;

use std::fs;
use std::time::Duration;

use lab::ipv6::{
    LAN6_PREFIX, RA_MTU, SERVER_IP6, enable_ipv6, router_radvd_conf, start_hostile_ra, start_radvd, start_radvd_in,
    sysctl_ipv6, wait_client_address, wait_no_tentative,
};
use lab::{
    Lab, WWW_NAME, assert_check_status, assert_exit, assert_report_contract, check, codes, diagnosis_status, pretty,
};
use serde_json::Value;

const TOOLS: &[(&str, &str)] = &[("radvd", "radvd"), ("python3", "python3-minimal")];
/// A lab name the router's resolver knows and a listening target: the IPv4 chain passes.
const ARGS: &[&str] = &["--dns-name", WWW_NAME, "--target", "198.18.1.2:8080"];

fn ipv6(report: &Value) -> &Value {
    &check(report, "ipv6")["evidence"]
}

fn notice_codes(report: &Value) -> Vec<String> {
    ipv6(report)["notices"]
        .as_array()
        .map(|a| a.iter().filter_map(|n| n["code"].as_str().map(str::to_string)).collect())
        .unwrap_or_default()
}

/// Dual stack: radvd advertises the /64 with RDNSS and MTU, the client forms a SLAAC
/// address; the RA is seen with its prefix, flags, MAC, MTU and RDNSS, and nothing fails.
#[test]
#[cfg_attr(nettriage_lab_skip, ignore = "NETTRIAGE_LAB=skip")]
fn ipv6_healthy_dual_stack() {
    lab::require_tools("ipv6_healthy_dual_stack", TOOLS);
    let mut lab = Lab::start("ipv6_healthy_dual_stack");
    enable_ipv6(&lab);
    start_radvd(&mut lab, &router_radvd_conf("br0", LAN6_PREFIX, 1800));
    let slaac = wait_client_address(&lab, "2001:2:0:1:", Duration::from_secs(10));
    let router_mac = lab.mac_of(&lab.r, "br0");

    let (code, report, _) = lab.run_nettriage(ARGS);
    assert_report_contract(code, &report);
    assert_exit(code, 0, &report);
    assert_check_status(&report, "ipv6", "pass");
    let ev = ipv6(&report);
    assert_eq!(ev["enabled"], true, "{}", pretty(ev));
    assert_eq!(ev["solicitation"]["status"], "sent", "{}", pretty(ev));
    let routers = ev["routers"].as_array().expect("routers");
    assert_eq!(routers.len(), 1, "{}", pretty(ev));
    let r = &routers[0];
    assert_eq!(r["mac"], router_mac.as_str(), "{}", pretty(r));
    assert!(r["source"].as_str().is_some_and(|s| s.starts_with("fe80:")), "{}", pretty(r));
    assert!(r["router_lifetime_s"].as_u64().is_some_and(|l| l > 0), "{}", pretty(r));
    assert_eq!((&r["managed"], &r["other_config"]), (&Value::Bool(false), &Value::Bool(false)));
    assert_eq!(r["prefixes"][0]["prefix"], "2001:2:0:1::", "{}", pretty(r));
    assert_eq!(r["prefixes"][0]["prefix_len"], 64);
    assert_eq!(
        (&r["prefixes"][0]["on_link"], &r["prefixes"][0]["autonomous"]),
        (&Value::Bool(true), &Value::Bool(true))
    );
    assert_eq!(r["rdnss"][0], SERVER_IP6, "{}", pretty(r));
    assert_eq!(r["dnssl"][0], "lab.example", "{}", pretty(r));
    assert_eq!(ev["ra_mtu"], RA_MTU, "{}", pretty(ev));
    let addresses = ev["addresses"].as_array().expect("addresses");
    assert!(
        addresses.iter().any(|a| a["address"] == slaac.as_str() && a["kind"] == "slaac"),
        "the SLAAC address {slaac} is listed as slaac: {}",
        pretty(ev)
    );
    assert!(notice_codes(&report).is_empty(), "{}", pretty(ev));
    assert!(
        ev["kernel_ra_routes"].as_array().is_some_and(|a| !a.is_empty()),
        "the kernel's proto ra default route is noted: {}",
        pretty(ev)
    );
}

/// IPv6 on, nobody advertises: `ipv6.no_router` is a notice, the check passes and the
/// run stays healthy (an IPv4-only network is normal).
#[test]
#[cfg_attr(nettriage_lab_skip, ignore = "NETTRIAGE_LAB=skip")]
fn ipv6_enabled_without_router_is_a_notice_and_healthy() {
    lab::require_tools("ipv6_enabled_without_router_is_a_notice_and_healthy", TOOLS);
    let lab = Lab::start("ipv6_enabled_without_router_is_a_notice_and_healthy");
    enable_ipv6(&lab);

    let (code, report, _) = lab.run_nettriage(ARGS);
    assert_report_contract(code, &report);
    assert_exit(code, 0, &report);
    assert_eq!(diagnosis_status(&report), "healthy");
    assert_check_status(&report, "ipv6", "pass");
    assert_eq!(notice_codes(&report), ["ipv6.no_router"], "{}", pretty(ipv6(&report)));
    assert_eq!(ipv6(&report)["solicitation"]["status"], "sent");
    assert_eq!(ipv6(&report)["routers"].as_array().map(Vec::len), Some(0));
}

/// IPv6 switched off on the client's interface: the check is skipped with its code, not a
/// failure.
#[test]
#[cfg_attr(nettriage_lab_skip, ignore = "NETTRIAGE_LAB=skip")]
fn ipv6_disabled_is_skipped() {
    let lab = Lab::start("ipv6_disabled_is_skipped");
    lab.exec(&lab.c, &["sysctl", "-q", "-w", "net.ipv6.conf.eth0.disable_ipv6=1"]);

    let (code, report, _) = lab.run_nettriage(ARGS);
    assert_report_contract(code, &report);
    assert_exit(code, 0, &report);
    assert_check_status(&report, "ipv6", "skipped");
    assert_eq!(check(&report, "ipv6")["reason_code"], "ipv6_disabled");
    assert_eq!(ipv6(&report)["enabled"], false);
}

/// A second radvd on another host of the client segment: `ipv6.multiple_routers`; with
/// the real router's MAC in `expected_routers_v6`, `ipv6.unexpected_router` (a fail: it
/// advertises a default-router lifetime and a prefix).
#[test]
#[cfg_attr(nettriage_lab_skip, ignore = "NETTRIAGE_LAB=skip")]
fn ipv6_rogue_router_advertisements() {
    lab::require_tools("ipv6_rogue_router_advertisements", TOOLS);
    let mut lab = Lab::start("ipv6_rogue_router_advertisements");
    enable_ipv6(&lab);
    start_radvd(&mut lab, &router_radvd_conf("br0", LAN6_PREFIX, 1800));
    let rogue = lab.add_lan_host("rogue6", "198.18.0.66/24");
    sysctl_ipv6(&rogue, true);
    wait_no_tentative(&rogue, Duration::from_secs(10));
    lab::ipv6::wait_link_local(&rogue, "eth0", Duration::from_secs(10));
    start_radvd_in(&mut lab, "radvd-rogue", &rogue, &router_radvd_conf("eth0", "2001:2:0:66::/64", 1800));
    wait_client_address(&lab, "2001:2:0:1:", Duration::from_secs(10));
    wait_client_address(&lab, "2001:2:0:66:", Duration::from_secs(10));
    let router_mac = lab.mac_of(&lab.r, "br0");
    let rogue_mac = lab.mac_of(&rogue, "eth0");

    let (code, report, _) = lab.run_nettriage(ARGS);
    assert_report_contract(code, &report);
    assert_eq!(codes(&report, "ipv6"), ["ipv6.multiple_routers"], "{}", pretty(ipv6(&report)));
    assert_check_status(&report, "ipv6", "warn");
    let macs: Vec<&str> =
        ipv6(&report)["routers"].as_array().unwrap().iter().filter_map(|r| r["mac"].as_str()).collect();
    assert!(macs.contains(&router_mac.as_str()) && macs.contains(&rogue_mac.as_str()), "{macs:?}");

    let config = lab.tmp().join("expected6.toml");
    fs::write(&config, format!("[ipv6]\nexpected_routers_v6 = [\"{router_mac}\"]\n")).unwrap();
    let config = config.display().to_string();
    let (code, report, _) = lab.run_nettriage(&[ARGS, &["--config", config.as_str()]].concat());
    assert_report_contract(code, &report);
    assert_eq!(codes(&report, "ipv6"), ["ipv6.unexpected_router"], "{}", pretty(ipv6(&report)));
    assert_check_status(&report, "ipv6", "fail");
    assert_exit(code, 2, &report);
}

/// Another host holds the address first; the client's DAD for it fails:
/// `ipv6.dad_failed`.
#[test]
#[cfg_attr(nettriage_lab_skip, ignore = "NETTRIAGE_LAB=skip")]
fn ipv6_duplicate_address_fails_dad() {
    lab::require_tools("ipv6_duplicate_address_fails_dad", TOOLS);
    let mut lab = Lab::start("ipv6_duplicate_address_fails_dad");
    enable_ipv6(&lab);
    let dup = lab.add_lan_host("dup6", "198.18.0.67/24");
    sysctl_ipv6(&dup, false);
    lab::ipv6::wait_link_local(&dup, "eth0", Duration::from_secs(10));
    lab.ip(&dup, &["-6", "addr", "add", "2001:2:0:1::10/64", "dev", "eth0", "nodad"]);
    wait_no_tentative(&dup, Duration::from_secs(10));
    lab.ip(&lab.c, &["-6", "addr", "add", "2001:2:0:1::10/64", "dev", "eth0"]);
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    loop {
        let o = lab.exec(&lab.c, &["ip", "-6", "-o", "addr", "show", "dev", "eth0", "dadfailed"]);
        if String::from_utf8_lossy(&o.stdout).contains("2001:2:0:1::10") {
            break;
        }
        assert!(std::time::Instant::now() < deadline, "lab: DAD did not fail for 2001:2:0:1::10 within 10 s");
        std::thread::sleep(Duration::from_millis(50));
    }

    let (code, report, _) = lab.run_nettriage(ARGS);
    assert_report_contract(code, &report);
    assert_eq!(codes(&report, "ipv6"), ["ipv6.dad_failed"], "{}", pretty(ipv6(&report)));
    assert_check_status(&report, "ipv6", "fail");
    assert_exit(code, 2, &report);
    let failed = ipv6(&report)["addresses"].as_array().unwrap().iter().find(|a| a["dad_failed"] == true).cloned();
    assert_eq!(failed.map(|a| a["address"].clone()), Some(Value::from("2001:2:0:1::10")));
}

/// A hostile host answers the solicitation with malformed RAs (truncated, zero-length and
/// oversized options, a bad ICMP code) and a flood of 500 valid ones from 40 sources: no
/// panic, the run ends on time, at most 32 sources are kept and the rest are counted.
#[test]
#[cfg_attr(nettriage_lab_skip, ignore = "NETTRIAGE_LAB=skip")]
fn ipv6_malformed_and_flooded_advertisements_are_bounded() {
    lab::require_tools("ipv6_malformed_and_flooded_advertisements_are_bounded", TOOLS);
    let mut lab = Lab::start("ipv6_malformed_and_flooded_advertisements_are_bounded");
    enable_ipv6(&lab);
    let hostile = lab.add_lan_host("hostile6", "198.18.0.68/24");
    start_hostile_ra(&mut lab, &hostile, 500, 40);

    let started = std::time::Instant::now();
    let (code, report, _) = lab.run_nettriage(ARGS);
    let took = started.elapsed();
    assert_report_contract(code, &report);
    assert!(took < Duration::from_secs(5), "the run took {took:?}");
    assert!(lab.wait_daemon_exit("hostile-ra", Duration::from_secs(10)), "{}", lab.daemon_log("hostile-ra"));
    let log = lab.daemon_log("hostile-ra");
    assert!(log.contains("flood 500"), "{log}");
    let ev = ipv6(&report);
    let sol = &ev["solicitation"];
    assert!(sol["invalid"].as_u64().is_some_and(|n| n >= 5), "malformed RAs are counted as invalid: {}", pretty(sol));
    let routers = ev["routers"].as_array().unwrap().len();
    assert_eq!(routers, 32, "at most 32 sources are kept: {}", pretty(sol));
    assert!(sol["dropped"].as_u64().is_some_and(|n| n > 0), "RAs beyond the cap are counted: {}", pretty(sol));
    assert!(codes(&report, "ipv6").contains(&"ipv6.multiple_routers".to_string()), "{}", pretty(sol));
}

/// The router advertises a prefix for SLAAC, but the client's `autoconf` is 0: no global
/// address forms, `ipv6.no_address` (fail) with the sysctl in the evidence.
#[test]
#[cfg_attr(nettriage_lab_skip, ignore = "NETTRIAGE_LAB=skip")]
fn ipv6_prefix_offered_but_no_address_formed() {
    lab::require_tools("ipv6_prefix_offered_but_no_address_formed", TOOLS);
    let mut lab = Lab::start("ipv6_prefix_offered_but_no_address_formed");
    enable_ipv6(&lab);
    lab.exec(&lab.c, &["sysctl", "-q", "-w", "net.ipv6.conf.eth0.autoconf=0"]);
    start_radvd(&mut lab, &router_radvd_conf("br0", LAN6_PREFIX, 1800));

    let (code, report, _) = lab.run_nettriage(ARGS);
    assert_report_contract(code, &report);
    assert_eq!(codes(&report, "ipv6"), ["ipv6.no_address"], "{}", pretty(ipv6(&report)));
    assert_check_status(&report, "ipv6", "fail");
    assert_exit(code, 2, &report);
    assert_eq!(ipv6(&report)["sysctl"]["autoconf"], 0);
    assert_eq!(ipv6(&report)["routers"][0]["prefixes"][0]["autonomous"], true);
}

/// Without CAP_NET_RAW no solicitation is sent: `tool.no_privilege` (warn), and the
/// addresses and DAD state are still read.
#[test]
#[cfg_attr(nettriage_lab_skip, ignore = "NETTRIAGE_LAB=skip")]
fn ipv6_without_raw_socket_privilege_reads_the_addresses() {
    lab::require_tools("ipv6_without_raw_socket_privilege_reads_the_addresses", TOOLS);
    let mut lab = Lab::start("ipv6_without_raw_socket_privilege_reads_the_addresses");
    enable_ipv6(&lab);
    start_radvd(&mut lab, &router_radvd_conf("br0", LAN6_PREFIX, 1800));
    let slaac = wait_client_address(&lab, "2001:2:0:1:", Duration::from_secs(10));

    let (code, report, _) = lab.run_nettriage_unprivileged(ARGS);
    assert_report_contract(code, &report);
    assert_eq!(codes(&report, "ipv6"), ["tool.no_privilege"], "{}", pretty(ipv6(&report)));
    assert_eq!(ipv6(&report)["solicitation"]["status"], "not_run");
    let addresses = ipv6(&report)["addresses"].as_array().unwrap();
    assert!(addresses.iter().any(|a| a["address"] == slaac.as_str()), "{}", pretty(ipv6(&report)));
    assert!(notice_codes(&report).is_empty(), "no solicitation, so no ipv6.no_router");
}

/// The client forms an address, but the RA carries no RDNSS and resolv.conf names no
/// server: `ipv6.no_dns` (warn). (The dns check judges the missing servers on its own.)
#[test]
#[cfg_attr(nettriage_lab_skip, ignore = "NETTRIAGE_LAB=skip")]
fn ipv6_address_without_any_resolver_is_no_dns() {
    lab::require_tools("ipv6_address_without_any_resolver_is_no_dns", TOOLS);
    let mut lab = Lab::start("ipv6_address_without_any_resolver_is_no_dns");
    enable_ipv6(&lab);
    lab.set_resolv_conf(&[]);
    let conf = format!(
        "interface br0 {{\n AdvSendAdvert on;\n AdvRASolicitedUnicast on;\n AdvLinkMTU {RA_MTU};\n \
         prefix {LAN6_PREFIX} {{ AdvOnLink on; AdvAutonomous on; }};\n}};\n"
    );
    start_radvd(&mut lab, &conf);
    wait_client_address(&lab, "2001:2:0:1:", Duration::from_secs(10));

    let (code, report, _) = lab.run_nettriage(ARGS);
    assert_report_contract(code, &report);
    assert_eq!(codes(&report, "ipv6"), ["ipv6.no_dns"], "{}", pretty(ipv6(&report)));
    assert_check_status(&report, "ipv6", "warn");
    assert_eq!(ipv6(&report)["routers"][0]["rdnss"].as_array().map(Vec::len), Some(0));
    assert_eq!(ipv6(&report)["resolvers"].as_array().map(Vec::len), Some(0));
}
