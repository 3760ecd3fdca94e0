//! `captures/record_ipv6.sh` run afresh in the lab: real radvd (the router's and a rogue),
//! the kernel's duplicate address detection and a router with a 1400-byte WAN link record
//! their neighbour discovery and too-big reports, and `nettriage analyze` (in a namespace
//! without network) judges each new capture with the same codes as the committed ones
//! (`tests/real_captures.rs`): `ipv6.multiple_routers`, `ipv6.dad_failed` and the
//! `path.mtu_reduced` notice. Asserts on codes and typed fields, never on message text.

mod lab;

use lab::{assert_check_status, assert_report_contract, check, codes, pretty, root_cause_code};
use serde_json::Value;

#[test]
#[cfg_attr(nettriage_lab_skip, ignore = "NETTRIAGE_LAB=skip")]
fn ipv6_and_too_big_captures_recorded_in_the_lab_are_judged() {
    let test = "ipv6_captures";
    lab::require_tools(
        test,
        &[
            ("ip", "iproute2"),
            ("tcpdump", "tcpdump"),
            ("radvd", "radvd"),
            ("rdisc6", "ndisc6"),
            ("ping", "iputils-ping"),
            ("socat", "socat"),
            ("unshare", "util-linux"),
        ],
    );
    let dir = std::env::temp_dir().join(format!("nettriage-{test}-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/captures/record_ipv6.sh");
    let recorded = std::process::Command::new(script)
        .arg(&dir)
        .env("NTV6_PREFIX", format!("ntv{}", std::process::id()))
        .output()
        .expect("run captures/record_ipv6.sh");
    assert!(recorded.status.success(), "record_ipv6.sh: {}", String::from_utf8_lossy(&recorded.stderr));
    let analyze = |name: &str| -> Value {
        let out = std::process::Command::new("unshare")
            .args(["--net", &lab::nettriage_bin(), "analyze"])
            .arg(dir.join(name))
            .args(["--format", "json"])
            .output()
            .expect("run nettriage analyze");
        let report: Value = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_report_contract(out.status.code().unwrap_or(-1), &report);
        report
    };
    let notices = |r: &Value, id: &str| -> Vec<String> {
        check(r, id)["evidence"]["notices"]
            .as_array()
            .map(|n| n.iter().filter_map(|n| n["code"].as_str().map(str::to_string)).collect())
            .unwrap_or_default()
    };

    let r = analyze("ipv6_two_routers.pcap");
    assert_eq!(codes(&r, "ipv6"), ["ipv6.multiple_routers"], "{}", pretty(&r));
    assert_eq!(check(&r, "ipv6")["evidence"]["routers"].as_array().map(Vec::len), Some(2));
    assert_check_status(&r, "gateway", "pass");
    assert_eq!(check(&r, "gateway")["evidence"]["gateways_v6"][0]["ns"]["status"], "answered");
    assert_eq!(root_cause_code(&r).as_deref(), Some("ipv6.multiple_routers"));

    let r = analyze("ipv6_dad_failed.pcap");
    assert_eq!(codes(&r, "ipv6"), ["ipv6.dad_failed"], "{}", pretty(&r));
    assert_eq!(check(&r, "ipv6")["evidence"]["capture"]["dad"][0]["address"], "2001:2:0:1::77");
    assert_eq!(root_cause_code(&r).as_deref(), Some("ipv6.dad_failed"));

    let r = analyze("mtu_too_big.pcap");
    assert_check_status(&r, "path", "pass");
    assert_eq!(notices(&r, "path"), ["path.mtu_reduced"], "{}", pretty(&r));
    let destinations = check(&r, "path")["evidence"]["destinations"].as_array().unwrap().clone();
    assert_eq!(destinations.len(), 4, "{}", pretty(&r));
    assert!(destinations.iter().all(|d| d["reported_mtu"] == 1400));
    assert!(codes(&r, "gateway").is_empty(), "{}", pretty(&r));
    assert_eq!(r["diagnosis"]["status"], "healthy");
    let _ = std::fs::remove_dir_all(&dir);
}
