//! End-to-end scenarios of the `neighbours` layer: Debian's lldpd as the switch on the
//! router's `lan0` (the other end of the client's veth), sending LLDP, CDP or both every second
//! with a port id, a Port VLAN ID and (for the mismatch) a half-duplex MAU type; lldpd on
//! the client read through lldpcli; nothing at all (the notice); and a hostile peer sending
//! malformed LLDP and CDP and a flood of CDP "switches". Each test runs the real binary in
//! the client namespace and asserts on codes, the report's `neighbour` field and the typed
//! evidence, never on message text.

mod lab;
#[path = "lab/neighbours.rs"]
mod neighbours_lab;

use std::time::Duration;

use lab::{
    Lab, RunOutput, assert_check_status, assert_exit, assert_report_contract, codes, parse_report, root_cause_code,
};
use neighbours_lab::{
    HALF_DUPLEX_MAU, PORT, PORT_VLAN, SWITCH, Sends, config, evidence, notice_codes, start_client_lldpd, start_hostile,
    start_switch, switch_config, wait_client_knows_switch,
};
use nettriage::check::neighbours::Ended;
use nettriage::platform::lldp::{Duplex, Protocol, Via};
use serde_json::{Value, json};

/// `nettriage run --interface eth0 --format json ARGS` in the client namespace.
fn run(lab: &Lab, args: &[&str]) -> (RunOutput, Value) {
    let mut full = vec![
        "run",
        "--interface",
        "eth0",
        "--format",
        "json",
        "--target",
        "198.18.1.2:8080",
        "--dns-name",
        lab::WWW_NAME,
    ];
    full.extend_from_slice(args);
    let out = lab.run_nettriage_raw(&[], &full);
    let report = parse_report(&out);
    assert_report_contract(out.code, &report);
    (out, report)
}

/// LLDP and CDP from the switch: `--neighbours` (`wait = "each"`) ends once one frame of
/// each came (about a second, not the 35 s window) and the report's top-level `neighbour`
/// names the switch, port and VLAN from LLDP.
#[test]
#[cfg_attr(nettriage_lab_skip, ignore = "NETTRIAGE_LAB=skip")]
fn neighbours_lldp_names_the_switch_port_and_vlan() {
    let mut lab = Lab::start("neighbours_lldp_names_the_switch_port_and_vlan");
    start_switch(&mut lab, "lldpd-switch", Sends::Both, &switch_config(PORT_VLAN));
    let (out, r) = run(&lab, &["--neighbours"]);
    assert_check_status(&r, "neighbours", "pass");
    assert_exit(out.code, 0, &r);
    assert_eq!(r["neighbour"]["switch"], json!(SWITCH));
    assert_eq!(r["neighbour"]["port"], json!(PORT));
    assert_eq!(r["neighbour"]["vlan"], json!(PORT_VLAN));
    assert_eq!(r["neighbour"]["protocol"], json!("lldp"));
    let ev = evidence(&r);
    assert_eq!(ev.ended, Ended::EachHeard);
    assert!(ev.waited && ev.lldp_frames >= 1 && ev.cdp_frames >= 1, "{ev:#?}");
    assert_eq!(ev.neighbours.iter().map(|n| n.protocol).collect::<Vec<_>>(), [Protocol::Lldp, Protocol::Cdp]);
    let n = &ev.neighbours[0];
    assert_eq!((n.protocol, n.via), (Protocol::Lldp, Via::Frame));
    assert_eq!(n.port_description.as_deref(), Some("desk-214"));
    assert_eq!(n.management_addresses.first().map(|a| a.to_string()).as_deref(), Some("198.18.0.1"));
    // The veth and lldpd's advertisement of it agree: 10GBASE-T full duplex.
    assert_eq!((n.speed_mbps, n.duplex), (Some(10_000), Some(Duplex::Full)));
    assert_eq!((ev.local_speed_mbps, ev.local_duplex), (Some(10_000), Some(Duplex::Full)));
    assert!(ev.listened_ms < 5_000, "ended once both protocols were heard: {} ms", ev.listened_ms);
    assert!(out.duration < Duration::from_secs(12), "{:?}", out.duration);
}

/// A switch that sends only LLDP: `wait = "first"` ends at its first frame; the default
/// `wait = "each"` keeps listening for CDP until the window (3 s here) ends.
#[test]
#[cfg_attr(nettriage_lab_skip, ignore = "NETTRIAGE_LAB=skip")]
fn neighbours_wait_first_ends_at_lldp_and_each_waits_for_cdp() {
    let mut lab = Lab::start("neighbours_wait_first_ends_at_lldp_and_each_waits_for_cdp");
    start_switch(&mut lab, "lldpd-switch", Sends::Lldp, &switch_config(PORT_VLAN));
    let first = config(&lab, "first.toml", "[neighbours]\nwait = \"first\"\nwindow_secs = 20\n");
    let (out, r) = run(&lab, &["--neighbours", "--config", &first]);
    assert_check_status(&r, "neighbours", "pass");
    assert_exit(out.code, 0, &r);
    let ev = evidence(&r);
    assert_eq!(ev.ended, Ended::LldpHeard);
    assert!(ev.lldp_frames >= 1 && ev.cdp_frames == 0, "{ev:#?}");
    assert!(ev.listened_ms < 5_000, "ended at the first LLDP frame: {} ms", ev.listened_ms);
    let each = config(&lab, "each.toml", "[neighbours]\nwindow_secs = 3\n");
    let (out, r) = run(&lab, &["--neighbours", "--config", &each]);
    assert_exit(out.code, 0, &r);
    assert_eq!(r["neighbour"]["switch"], json!(SWITCH));
    let ev = evidence(&r);
    assert_eq!(ev.ended, Ended::WindowOver, "no CDP came: the window ended the wait");
    assert!(ev.lldp_frames >= 2 && ev.listened_ms >= 3_000, "{ev:#?}");
}

/// CDP only (lldpd `-ccc`): heard and named; a CDP frame alone does not end the wait (LLDP
/// may still come), so the window comes from the config file (3 s).
#[test]
#[cfg_attr(nettriage_lab_skip, ignore = "NETTRIAGE_LAB=skip")]
fn neighbours_cdp_is_heard() {
    let mut lab = Lab::start("neighbours_cdp_is_heard");
    start_switch(&mut lab, "lldpd-cdp", Sends::Cdp, &switch_config(PORT_VLAN));
    let conf = config(&lab, "cdp.toml", "[neighbours]\nwindow_secs = 3\n");
    let (out, r) = run(&lab, &["--neighbours", "--config", &conf]);
    assert_check_status(&r, "neighbours", "pass");
    assert_exit(out.code, 0, &r);
    assert_eq!(r["neighbour"]["protocol"], json!("cdp"));
    assert_eq!(r["neighbour"]["switch"], json!(SWITCH));
    let ev = evidence(&r);
    assert!(ev.cdp_frames >= 1 && ev.lldp_frames == 0, "{ev:#?}");
    assert_eq!(ev.ended, Ended::WindowOver);
    let n = &ev.neighbours[0];
    assert_eq!(n.platform.as_deref(), Some("lab"));
    assert_eq!(n.port_id.as_deref(), Some("desk-214"));
}

/// The switch puts the port in VLAN 42, the site expects 10: `link.unexpected_vlan` fails
/// (blocking nothing) and is the root cause.
#[test]
#[cfg_attr(nettriage_lab_skip, ignore = "NETTRIAGE_LAB=skip")]
fn neighbours_unexpected_vlan_is_the_root_cause() {
    let mut lab = Lab::start("neighbours_unexpected_vlan_is_the_root_cause");
    start_switch(&mut lab, "lldpd-switch", Sends::Both, &switch_config(PORT_VLAN));
    let conf = config(&lab, "vlan.toml", "[neighbours]\nexpected_vlan = 10\n");
    let (out, r) = run(&lab, &["--neighbours", "--config", &conf]);
    assert_check_status(&r, "neighbours", "fail");
    assert_eq!(codes(&r, "neighbours"), ["link.unexpected_vlan"]);
    assert_eq!(root_cause_code(&r).as_deref(), Some("link.unexpected_vlan"));
    assert_exit(out.code, 2, &r);
    assert_eq!(evidence(&r).expected_vlan, Some(10));
    // Nothing is blocked: the layers above still ran.
    assert_check_status(&r, "gateway", "pass");
    assert_check_status(&r, "ports", "pass");
}

/// The switch advertises 100BASE-TX half duplex while the veth runs 10 Gbit/s full:
/// `link.duplex_mismatch` and `link.speed_mismatch` (warnings).
#[test]
#[cfg_attr(nettriage_lab_skip, ignore = "NETTRIAGE_LAB=skip")]
fn neighbours_duplex_mismatch_is_named() {
    let mut lab = Lab::start("neighbours_duplex_mismatch_is_named");
    let mut lines = switch_config(PORT_VLAN);
    lines.push(HALF_DUPLEX_MAU.into());
    start_switch(&mut lab, "lldpd-half", Sends::Both, &lines);
    let (out, r) = run(&lab, &["--neighbours"]);
    assert_check_status(&r, "neighbours", "warn");
    assert_eq!(codes(&r, "neighbours"), ["link.duplex_mismatch", "link.speed_mismatch"]);
    assert_exit(out.code, 1, &r);
    let n = evidence(&r).neighbours.remove(0);
    assert_eq!((n.mau_type, n.speed_mbps, n.duplex), (Some(15), Some(100), Some(Duplex::Half)));
}

/// No switch talks and the run is not asked to wait: a notice, no `neighbour` line, a
/// healthy run that is not made longer.
#[test]
#[cfg_attr(nettriage_lab_skip, ignore = "NETTRIAGE_LAB=skip")]
fn neighbours_nothing_heard_is_a_notice_not_a_failure() {
    let lab = Lab::start("neighbours_nothing_heard_is_a_notice_not_a_failure");
    let (out, r) = run(&lab, &[]);
    assert_check_status(&r, "neighbours", "pass");
    assert_exit(out.code, 0, &r);
    assert!(r.get("neighbour").is_none(), "{}", lab::pretty(&r));
    assert_eq!(notice_codes(&r), ["neighbours.none_heard"]);
    let ev = evidence(&r);
    assert!(!ev.waited && ev.neighbours.is_empty());
    assert_eq!(ev.ended, Ended::RunOver);
    assert!(out.duration < Duration::from_secs(6), "the run was not made longer: {:?}", out.duration);
}

/// lldpd runs on the client and already knows the switch: nettriage reads its table
/// through lldpcli (the private socket from the config) and ends at once, although the
/// switch's next frame is 30 s away.
#[test]
#[cfg_attr(nettriage_lab_skip, ignore = "NETTRIAGE_LAB=skip")]
fn neighbours_lldpd_on_the_client_answers_at_once() {
    let mut lab = Lab::start("neighbours_lldpd_on_the_client_answers_at_once");
    let mut lines = switch_config(PORT_VLAN);
    lines[1] = "configure lldp tx-interval 30".into();
    let socket = start_client_lldpd(&mut lab);
    start_switch(&mut lab, "lldpd-switch", Sends::Lldp, &lines);
    wait_client_knows_switch(&lab, &socket);
    let conf = config(&lab, "lldpd.toml", &format!("[neighbours]\nlldpd_socket = \"{}\"\n", socket.display()));
    let (out, r) = run(&lab, &["--neighbours", "--config", &conf]);
    assert_check_status(&r, "neighbours", "pass");
    assert_exit(out.code, 0, &r);
    assert_eq!(r["neighbour"]["switch"], json!(SWITCH));
    assert_eq!(r["neighbour"]["via"], json!("lldpd"));
    let ev = evidence(&r);
    assert_eq!(ev.ended, Ended::LldpdAnswered);
    assert!(ev.listened_ms < 3_000, "{} ms", ev.listened_ms);
    assert_eq!(ev.neighbours[0].port_vlan, Some(PORT_VLAN), "lldpd's JSON carries the PVID: {ev:#?}");
}

/// A hostile peer sends malformed LLDP and CDP and floods valid CDP from 200 "switches":
/// no panic, the malformed frames counted as a notice, at most 16 neighbours kept, and the
/// run ends with its 3 s window.
#[test]
#[cfg_attr(nettriage_lab_skip, ignore = "NETTRIAGE_LAB=skip")]
fn neighbours_hostile_peer_is_survived() {
    let mut lab = Lab::start("neighbours_hostile_peer_is_survived");
    start_hostile(&mut lab, 12, 200);
    let conf = config(&lab, "hostile.toml", "[neighbours]\nwindow_secs = 3\n");
    let (out, r) = run(&lab, &["--neighbours", "--config", &conf]);
    assert!(out.code <= 2, "exit {}", out.code);
    assert!(!out.stderr.contains("panicked"), "{}", out.stderr);
    let ev = evidence(&r);
    assert!(ev.malformed_frames > 0, "{ev:#?}");
    assert!(notice_codes(&r).contains(&"neighbours.malformed".to_string()));
    assert!(ev.cdp_frames > 0 && ev.neighbours.len() <= 16, "{}", ev.neighbours.len());
    assert!(ev.neighbours.iter().all(|n| n.protocol == Protocol::Cdp));
    assert!(out.duration < Duration::from_secs(9), "ended on time: {:?}", out.duration);
}
