//! End-to-end scenarios: each test builds its own network lab (see
//! tests/lab/mod.rs), injects one real fault, runs the real `nettriage`
//! binary inside the client namespace and asserts on codes and statuses of
//! its JSON report (never on message text).
//!
//! Needs root, iproute2, dnsmasq, nftables, dig and setpriv. Outside CI,
//! `NETTRIAGE_LAB=skip` skips these tests loudly.

mod lab;

use lab::{
    GATEWAY_IP, Lab, LabOptions, NOADDR_NAME, RouterDns, SERVER_IP, WWW_NAME, assert_check_status, assert_exit,
    assert_has_code, assert_report_contract, assert_root_cause, assert_skipped_blocked, check, pretty,
};

/// Builds a lab or returns from the test when lab tests are skipped.
macro_rules! lab {
    ($name:expr) => {
        match Lab::start($name) {
            Some(l) => l,
            None => return,
        }
    };
    ($name:expr, $opts:expr) => {
        match Lab::start_with($name, $opts) {
            Some(l) => l,
            None => return,
        }
    };
}

const TARGET_OK: &str = "198.18.1.2:8080";

/// The usual arguments: one reachable TCP target and the lab's test name.
fn default_args() -> Vec<&'static str> {
    vec!["--target", TARGET_OK, "--dns-name", WWW_NAME]
}

fn args_with_target(target: &'static str) -> Vec<&'static str> {
    vec!["--target", target, "--dns-name", WWW_NAME]
}

/// Bounded wait until the client's eth0 reports NO-CARRIER.
fn wait_no_carrier(lab: &Lab) {
    for _ in 0..100 {
        let o = lab.exec(&lab.c, &["ip", "link", "show", "eth0"]);
        if String::from_utf8_lossy(&o.stdout).contains("NO-CARRIER") {
            return;
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    panic!("lab: client eth0 still has carrier after lan0 went down");
}

// 1 -------------------------------------------------------------------------
#[test]
fn healthy_network() {
    let lab = lab!("healthy_network");
    let (code, r, _stderr) = lab.run_nettriage(&default_args());
    assert_report_contract(code, &r);
    assert_exit(code, 0, &r);
    assert_eq!(r["diagnosis"]["status"], "healthy", "{}", pretty(&r));
    assert!(r["diagnosis"]["root_cause"].is_null(), "{}", pretty(&r));
    assert_eq!(r["tool"]["name"], "nettriage", "{}", pretty(&r));
    assert_eq!(r["interface"], "eth0", "{}", pretty(&r));
    assert_eq!(r["privileged"], true, "running as root in the lab; {}", pretty(&r));
    for id in lab::CHECK_IDS {
        let n = r["checks"].as_array().unwrap().iter().filter(|c| c["id"] == *id).count();
        assert_eq!(n, 1, "check {id} must appear exactly once; {}", pretty(&r));
    }
    for id in ["link", "dhcp", "gateway", "dns", "ports"] {
        assert_check_status(&r, id, "pass");
    }
    assert_check_status(&r, "wifi", "skipped");
    assert!(check(&r, "wifi")["reason"].as_str().is_some(), "wifi skipped needs a reason; {}", pretty(&r));
    // The DNS check really asked the lab's resolver (from the client's
    // address), for the test name and for one random label under site.test.
    let log = wait_for_log(&lab, "dnsmasq-r", |log| {
        log.contains(&format!("{WWW_NAME} from {}", lab::CLIENT_IP))
            && log.lines().any(|l| l.contains("] nt-") && l.contains(".site.test from "))
    });
    assert!(
        log.contains(&format!("{WWW_NAME} from {}", lab::CLIENT_IP)),
        "router dnsmasq never saw a query for {WWW_NAME} from the client; log:\n{log}"
    );
    assert!(
        log.lines().any(|l| l.contains("] nt-") && l.contains(".site.test from ")),
        "router dnsmasq never saw the random-label query (nt-*.site.test); log:\n{log}"
    );
}

/// Polls (bounded, 2 s) a lab daemon's log until `ready` holds; returns it.
fn wait_for_log(lab: &Lab, label: &str, ready: impl Fn(&str) -> bool) -> String {
    let mut log = lab.daemon_log(label);
    for _ in 0..40 {
        if ready(&log) {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
        log = lab.daemon_log(label);
    }
    log
}

// 2 -------------------------------------------------------------------------
#[test]
fn link_without_carrier() {
    let lab = lab!("link_without_carrier");
    lab.link_down(&lab.r, "lan0");
    wait_no_carrier(&lab);
    let (code, r, _) = lab.run_nettriage(&default_args());
    assert_report_contract(code, &r);
    assert_exit(code, 2, &r);
    assert_root_cause(&r, "link.no_carrier");
    assert_skipped_blocked(&r, "dhcp", Some("link"));
    for id in ["gateway", "dns", "ports"] {
        assert_skipped_blocked(&r, id, None);
    }
}

// 3 -------------------------------------------------------------------------
#[test]
fn no_default_route() {
    let lab = lab!("no_default_route");
    lab.del_default_route();
    let (code, r, _) = lab.run_nettriage(&default_args());
    assert_report_contract(code, &r);
    assert_root_cause(&r, "gateway.missing");
    assert_skipped_blocked(&r, "dns", Some("gateway"));
}

// 4 -------------------------------------------------------------------------
#[test]
fn gateway_does_not_answer_arp() {
    let lab = lab!("gateway_does_not_answer_arp");
    lab.nft(
        &lab.r,
        "table arp nt_fault {\n\
           chain i { type filter hook input priority 0; policy drop; }\n\
         }\n",
    );
    lab.flush_client_neigh();
    let (code, r, _) = lab.run_nettriage(&default_args());
    assert_report_contract(code, &r);
    assert_exit(code, 2, &r);
    assert_root_cause(&r, "gateway.unreachable");
}

// 5 -------------------------------------------------------------------------
#[test]
fn gateway_drops_echo_but_forwards() {
    let lab = lab!("gateway_drops_echo_but_forwards");
    lab.nft(
        &lab.r,
        "table inet nt_fault {\n\
           chain input {\n\
             type filter hook input priority 0; policy accept;\n\
             icmp type echo-request drop\n\
           }\n\
         }\n",
    );
    let (code, r, _) = lab.run_nettriage(&default_args());
    assert_report_contract(code, &r);
    assert_exit(code, 1, &r);
    assert_eq!(r["diagnosis"]["status"], "degraded", "{}", pretty(&r));
    assert_check_status(&r, "gateway", "warn");
    assert_has_code(&r, "gateway", "gateway.no_echo");
    assert_check_status(&r, "dns", "pass");
    assert_check_status(&r, "ports", "pass");
    assert_root_cause(&r, "gateway.no_echo");
}

// 6 -------------------------------------------------------------------------
#[test]
fn dns_not_answering() {
    let lab = lab!("dns_not_answering");
    lab.nft(
        &lab.r,
        "table inet nt_fault {\n\
           chain input {\n\
             type filter hook input priority 0; policy accept;\n\
             udp dport 53 drop\n\
             tcp dport 53 drop\n\
           }\n\
         }\n",
    );
    assert_eq!(lab.dig_rcode(GATEWAY_IP, WWW_NAME), "TIMEOUT", "lab fault not in place");
    let (code, r, _) = lab.run_nettriage(&default_args());
    assert_report_contract(code, &r);
    assert_exit(code, 2, &r);
    assert_root_cause(&r, "dns.timeout");
    // The target is an IP literal, so the ports check does not need DNS.
    assert_check_status(&r, "ports", "pass");
}

// 7 -------------------------------------------------------------------------
/// The router's dnsmasq answers SERVFAIL for site.test: it validates DNSSEC
/// against made-up trust anchors and its upstream (the server's dnsmasq)
/// returns unsigned answers, which are BOGUS. See `RouterDns::ServfailDnssec`.
#[test]
fn dns_servfail() {
    let lab = lab!("dns_servfail", LabOptions { router_dns: RouterDns::ServfailDnssec, ..Default::default() });
    assert_eq!(lab.dig_rcode(GATEWAY_IP, WWW_NAME), "SERVFAIL", "lab fault not in place");
    let (code, r, _) = lab.run_nettriage(&default_args());
    assert_report_contract(code, &r);
    assert_root_cause(&r, "dns.servfail");
}

// 7b ------------------------------------------------------------------------
/// The router's dnsmasq answers REFUSED for site.test: it forwards the zone
/// to an upstream it has no route to. See
/// `RouterDns::RefusedUnreachableUpstream`.
#[test]
fn dns_refused() {
    let lab =
        lab!("dns_refused", LabOptions { router_dns: RouterDns::RefusedUnreachableUpstream, ..Default::default() });
    assert_eq!(lab.dig_rcode(GATEWAY_IP, WWW_NAME), "REFUSED", "lab fault not in place");
    let (code, r, _) = lab.run_nettriage(&default_args());
    assert_report_contract(code, &r);
    assert_root_cause(&r, "dns.refused");
}

// 8 -------------------------------------------------------------------------
#[test]
fn one_of_two_resolvers_dead() {
    let lab = lab!("one_of_two_resolvers_dead");
    lab.set_resolv_conf(&[&format!("nameserver {GATEWAY_IP}"), &format!("nameserver {SERVER_IP}")]);
    // The second resolver (dnsmasq on 198.18.1.2:53) stops answering.
    lab.nft(
        &lab.s,
        "table inet nt_fault {\n\
           chain input {\n\
             type filter hook input priority 0; policy accept;\n\
             udp dport 53 drop\n\
             tcp dport 53 drop\n\
           }\n\
         }\n",
    );
    assert_eq!(lab.dig_rcode(GATEWAY_IP, WWW_NAME), "NOERROR", "first resolver must work");
    assert_eq!(lab.dig_rcode(SERVER_IP, WWW_NAME), "TIMEOUT", "lab fault not in place");
    let (code, r, _) = lab.run_nettriage(&default_args());
    assert_report_contract(code, &r);
    assert_exit(code, 1, &r);
    assert_check_status(&r, "dns", "warn");
    assert_has_code(&r, "dns", "dns.partial");
}

// 9 -------------------------------------------------------------------------
#[test]
fn port_refused() {
    let lab = lab!("port_refused");
    let (code, r, _) = lab.run_nettriage(&args_with_target("198.18.1.2:9"));
    assert_report_contract(code, &r);
    assert_exit(code, 2, &r);
    assert_root_cause(&r, "ports.refused");
}

#[test]
fn named_target_without_address() {
    let lab = lab!("named_target_without_address");
    // The name exists (TXT only), so DNS works and answers NODATA for A and AAAA.
    let target = format!("{NOADDR_NAME}:8080");
    let (code, r, _) = lab.run_nettriage(&["--target", TARGET_OK, "--target", &target, "--dns-name", WWW_NAME]);
    assert_report_contract(code, &r);
    assert_exit(code, 2, &r);
    assert_check_status(&r, "dns", "pass");
    assert_has_code(&r, "ports", "ports.unresolved");
    assert_root_cause(&r, "ports.unresolved");
}

// 10 ------------------------------------------------------------------------
#[test]
fn port_filtered() {
    let lab = lab!("port_filtered");
    // 8081 has a real listener; the server's firewall silently drops it.
    lab.nft(
        &lab.s,
        "table inet nt_fault {\n\
           chain input {\n\
             type filter hook input priority 0; policy accept;\n\
             tcp dport 8081 drop\n\
           }\n\
         }\n",
    );
    let (code, r, _) = lab.run_nettriage(&args_with_target("198.18.1.2:8081"));
    assert_report_contract(code, &r);
    assert_root_cause(&r, "ports.filtered");
}

// 11 ------------------------------------------------------------------------
#[test]
fn port_unreachable() {
    let lab = lab!("port_unreachable");
    lab.nft(
        &lab.r,
        "table inet nt_fault {\n\
           chain forward {\n\
             type filter hook forward priority 0; policy accept;\n\
             tcp dport 8082 reject with icmp type host-unreachable\n\
           }\n\
         }\n",
    );
    let (code, r, _) = lab.run_nettriage(&args_with_target("198.18.1.2:8082"));
    assert_report_contract(code, &r);
    assert_has_code(&r, "ports", "ports.unreachable");
}

// 12 ------------------------------------------------------------------------
#[test]
fn no_ipv4_address() {
    let lab = lab!("no_ipv4_address");
    lab.flush_client_addr();
    let (code, r, _) = lab.run_nettriage(&default_args());
    assert_report_contract(code, &r);
    assert_root_cause(&r, "dhcp.no_ipv4");
    for id in ["gateway", "dns", "ports"] {
        assert_skipped_blocked(&r, id, None);
    }
}

// 13 ------------------------------------------------------------------------
#[test]
fn no_resolvers_configured() {
    let lab = lab!("no_resolvers_configured");
    lab.set_resolv_conf(&[]);
    let (code, r, _) = lab.run_nettriage(&default_args());
    assert_report_contract(code, &r);
    assert_has_code(&r, "dns", "dns.no_servers");
}

// 14 ------------------------------------------------------------------------
#[test]
fn without_raw_socket_privilege() {
    let lab = lab!("without_raw_socket_privilege");
    let (code, r, _) = lab.run_nettriage_unprivileged(&default_args());
    assert_report_contract(code, &r);
    assert_eq!(r["privileged"], false, "{}", pretty(&r));
    assert_check_status(&r, "gateway", "error");
    assert_has_code(&r, "gateway", "tool.no_privilege");
    assert_check_status(&r, "dns", "pass");
}

// 15 ------------------------------------------------------------------------
#[test]
fn unknown_interface_cannot_run() {
    let lab = lab!("unknown_interface_cannot_run");
    let out = lab.run_nettriage_raw(
        &[],
        &["run", "--interface", "doesnotexist", "--format", "json", "--target", TARGET_OK, "--dns-name", WWW_NAME],
    );
    assert_eq!(
        out.code, 3,
        "exit code for an unknown interface\n--- stdout ---\n{}\n--- stderr ---\n{}",
        out.stdout, out.stderr
    );
}

// Sanity of the lab itself (no nettriage involved): the fault helpers do
// what the scenarios rely on. Cheap, and it tells a lab bug from a product
// bug.
#[test]
fn lab_self_check() {
    let lab = lab!("lab_self_check");
    assert_eq!(lab.dig_rcode(GATEWAY_IP, WWW_NAME), "NOERROR");
    assert_eq!(lab.dig_rcode(GATEWAY_IP, "nt-selfcheck.site.test"), "NXDOMAIN");
    assert_eq!(lab.dig_rcode(SERVER_IP, WWW_NAME), "NOERROR");
    let nc = |port: &str| lab.exec(&lab.c, &["nc", "-z", "-w", "2", SERVER_IP, port]).status.success();
    if lab::run_cmd(&["sh", "-c", "command -v nc"], std::time::Duration::from_secs(5))
        .is_some_and(|o| o.status.success())
    {
        assert!(nc("8080"), "listener on 8080 must accept");
        assert!(nc("8081"), "listener on 8081 must accept");
        assert!(!nc("9"), "port 9 must be closed");
    }
    let ping = lab.exec(&lab.c, &["ping", "-c", "1", "-W", "2", GATEWAY_IP]);
    assert!(ping.status.success(), "client must reach the gateway");
    let ping = lab.exec(&lab.c, &["ping", "-c", "1", "-W", "2", SERVER_IP]);
    assert!(ping.status.success(), "client must reach the server through the router");
}
