//! Privileges in the process (issue #16 item 2), end to end in the namespace lab: the real
//! binary opens its privileged sockets, drops CAP_NET_RAW and CAP_NET_ADMIN, and still
//! tests every layer (as root, and as an unprivileged user through file capabilities on a
//! copy of the binary); without any capability the gateway echo goes over an unprivileged
//! ICMP datagram socket where the namespace's `net.ipv4.ping_group_range` allows it, and
//! the gateway layer says what it could not do where it does not. Every assertion is on
//! the report's typed fields (`privileges`, read back with capget after the drop, and the
//! gateway evidence), never on message text.

mod lab;

use std::path::Path;

use lab::{
    DEFAULT_SERVER_PORTS, Lab, RunOutput, SERVER_IP, WWW_NAME, assert_check_status, assert_exit,
    assert_report_contract, check, check_status, codes, diagnosis_status, nettriage_bin, parse_report, pretty,
    require_tools,
};
use nettriage::check::gateway::{ArpStatus, GatewayEvidence};
use nettriage::platform::icmp::EchoSocketKind;
use nettriage::platform::privilege::{DropStatus, NetCap, PrivilegeReport, SocketKind};
use serde_json::Value;

/// `nobody`: a uid and gid with no capabilities and no groups.
const NOBODY: [&str; 4] = ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"];

fn run_args(target: &str) -> Vec<&str> {
    vec!["run", "--interface", "eth0", "--format", "json", "--target", target, "--dns-name", WWW_NAME]
}

fn target() -> String {
    format!("{SERVER_IP}:{}", DEFAULT_SERVER_PORTS[0])
}

/// The report's typed `privileges`.
fn privileges(r: &Value) -> PrivilegeReport {
    serde_json::from_value(r["privileges"].clone())
        .unwrap_or_else(|e| panic!("no typed `privileges` in the report ({e}):\n{}", pretty(r)))
}

/// The gateway check's typed evidence.
fn gateway(r: &Value) -> GatewayEvidence {
    serde_json::from_value(check(r, "gateway")["evidence"].clone())
        .unwrap_or_else(|e| panic!("no typed gateway evidence ({e}):\n{}", pretty(r)))
}

/// Runs the binary `bin` in the client namespace as `nobody`, no capabilities inherited.
fn run_as_nobody(lab: &Lab, bin: &str) -> (RunOutput, Value) {
    let target = target();
    let mut wrapper = NOBODY.to_vec();
    wrapper.extend(["--inh-caps=-all", "--"]);
    let out = lab.run_binary_with(bin, &wrapper, &run_args(&target), Some(Path::new("/")));
    let report = parse_report(&out);
    assert_report_contract(out.code, &report);
    (out, report)
}

fn set_ping_group_range(lab: &Lab, range: &str) {
    let out = lab.exec(&lab.c, &["sysctl", "-w", &format!("net.ipv4.ping_group_range={range}")]);
    assert!(out.status.success(), "sysctl ping_group_range={range}: {}", String::from_utf8_lossy(&out.stderr));
}

/// The drop happened and was complete: neither capability is effective, permitted,
/// inheritable or ambient after it, in any thread, and no exec can regain them.
fn assert_dropped(p: &PrivilegeReport) {
    assert_eq!(p.drop, DropStatus::Dropped, "{p:#?}");
    let after = p.after_drop.as_ref().expect("the sets read back after the drop");
    for cap in NetCap::ALL {
        assert!(!after.effective.contains(&cap), "{cap:?} still effective: {p:#?}");
        assert!(!after.permitted.contains(&cap), "{cap:?} still permitted: {p:#?}");
        assert!(!after.inheritable.contains(&cap) && !after.ambient.contains(&cap), "{p:#?}");
    }
    assert!(p.no_new_privs, "{p:#?}");
    assert!(p.threads >= 1 && p.threads_holding == 0, "a thread kept a capability: {p:#?}");
    assert!(p.kept.is_empty(), "{p:#?}");
    assert!(p.dropped_at_ms.is_some(), "{p:#?}");
    let packets = p.opened.iter().find(|o| o.kind == SocketKind::Packet).map_or(0, |o| o.count);
    assert!(packets >= 1, "packet sockets opened before the drop: {p:#?}");
    assert!(p.opened.iter().any(|o| o.kind == SocketKind::EchoV4), "the echo client opened before the drop: {p:#?}");
}

/// Every layer the lab tests still passed on the sockets opened before the drop: the
/// DHCP probe and the gateway's ARP on packet sockets, the echo on a raw socket, the path
/// search on raw ICMP sockets.
fn assert_layers_pass_after_drop(code: i32, r: &Value) {
    assert_exit(code, 0, r);
    for id in ["link", "dhcp", "gateway", "dns", "path", "ports"] {
        assert_check_status(r, id, "pass");
    }
    let g = gateway(r);
    assert_eq!(g.echo_socket, Some(EchoSocketKind::Raw), "{g:#?}");
    let gw = g.gateways.first().expect("the lab's gateway");
    assert_eq!(gw.arp.status, ArpStatus::Answered, "{gw:#?}");
    assert!(gw.ping.as_ref().is_some_and(|p| p.received > 0), "{gw:#?}");
}

/// (a) As root: both capabilities at the start, dropped from every set (the bounding set
/// too: root has CAP_SETPCAP) once the sockets are open, and all layers still pass. Root
/// keeps uid 0.
#[test]
#[cfg_attr(nettriage_lab_skip, ignore = "NETTRIAGE_LAB=skip")]
fn privileges_root_drops_capabilities_after_opening_and_all_layers_pass() {
    let lab = Lab::start("privileges_root_drops_capabilities_after_opening_and_all_layers_pass");
    let target = target();
    let out = lab.run_nettriage_raw(&[], &run_args(&target));
    let r = parse_report(&out);
    assert_report_contract(out.code, &r);
    let p = privileges(&r);
    assert_eq!(p.uid, Some(0));
    assert!(p.at_start.effective.contains(&NetCap::CapNetRaw) && p.at_start.effective.contains(&NetCap::CapNetAdmin));
    assert_eq!(r["privileged"], Value::Bool(true));
    assert_dropped(&p);
    let after = p.after_drop.as_ref().unwrap();
    assert!(after.bounding.is_empty(), "root drops them from the bounding set too: {p:#?}");
    assert_layers_pass_after_drop(out.code, &r);
}

/// (b) As `nobody` with no capability, where the namespace's ping_group_range opens ICMP
/// datagram sockets to every group: the gateway echo passes over a datagram socket; ARP
/// was not asked (`no_privilege`), which the layer says with `tool.no_privilege` and
/// nothing else.
#[test]
#[cfg_attr(nettriage_lab_skip, ignore = "NETTRIAGE_LAB=skip")]
fn privileges_unprivileged_gateway_echo_uses_datagram_sockets_where_ping_group_range_allows() {
    require_tools("privileges_unprivileged_datagram", &[("setpriv", "util-linux"), ("sysctl", "procps")]);
    let lab = Lab::start("privileges_unprivileged_gateway_echo_uses_datagram_sockets_where_ping_group_range_allows");
    set_ping_group_range(&lab, "0 2147483647");
    let (_, r) = run_as_nobody(&lab, &nettriage_bin());
    let p = privileges(&r);
    assert_eq!(p.uid, Some(65534));
    assert!(p.at_start.effective.is_empty() && p.at_start.permitted.is_empty(), "{p:#?}");
    assert_eq!(p.drop, DropStatus::NothingHeld);
    assert!(p.opened.is_empty());
    let ping = p.ping.as_ref().expect("ping access");
    assert!(ping.allowed, "{ping:?}");
    assert_eq!(ping.range.map(|g| (g.low, g.high)), Some((0, 2_147_483_647)));

    let g = gateway(&r);
    assert_eq!(g.echo_socket, Some(EchoSocketKind::Datagram), "{g:#?}");
    let gw = g.gateways.first().expect("the lab's gateway");
    assert_eq!(gw.arp.status, ArpStatus::NoPrivilege, "{gw:#?}");
    let echo = gw.ping.as_ref().expect("an echo series");
    assert!(echo.sent > 0 && echo.received == echo.sent, "{echo:#?}");
    assert_eq!(codes(&r, "gateway"), ["tool.no_privilege"], "{}", pretty(&r));
    assert_check_status(&r, "gateway", "warn");
    // The layers above ran through the gateway.
    assert_check_status(&r, "dns", "pass");
    assert_check_status(&r, "ports", "pass");
}

/// (c) The same with the range closed (`1 0`, the kernel's default): no raw and no
/// datagram ICMP socket, so the gateway layer is an `error` with `tool.no_privilege`
/// (never a silent pass), and the run is not healthy.
#[test]
#[cfg_attr(nettriage_lab_skip, ignore = "NETTRIAGE_LAB=skip")]
fn privileges_unprivileged_with_ping_group_range_closed_says_what_the_gateway_layer_could_not_do() {
    require_tools("privileges_unprivileged_closed", &[("setpriv", "util-linux"), ("sysctl", "procps")]);
    let lab =
        Lab::start("privileges_unprivileged_with_ping_group_range_closed_says_what_the_gateway_layer_could_not_do");
    set_ping_group_range(&lab, "1 0");
    let (out, r) = run_as_nobody(&lab, &nettriage_bin());
    let p = privileges(&r);
    assert_eq!(p.drop, DropStatus::NothingHeld);
    assert!(!p.ping.as_ref().expect("ping access").allowed);
    assert_eq!(check_status(&r, "gateway"), "error", "{}", pretty(&r));
    assert_eq!(codes(&r, "gateway"), ["tool.no_privilege"]);
    assert_ne!(diagnosis_status(&r), "healthy");
    assert_ne!(out.code, 0);
}

/// (d) File capabilities `cap_net_raw,cap_net_admin+ep` on a copy of the binary, run as
/// `nobody`: the capabilities are there at the start, the run drops them after opening
/// its sockets (not from the bounding set: without CAP_SETPCAP it cannot, and
/// `no_new_privs` stops an exec from regaining them), and every layer passes.
#[test]
#[cfg_attr(nettriage_lab_skip, ignore = "NETTRIAGE_LAB=skip")]
fn privileges_file_capabilities_work_for_an_unprivileged_user_and_are_dropped() {
    require_tools("privileges_file_capabilities", &[("setpriv", "util-linux"), ("setcap", "libcap2-bin")]);
    let lab = Lab::start("privileges_file_capabilities_work_for_an_unprivileged_user_and_are_dropped");
    // A directory `nobody` may enter, outside the lab's private temp dir.
    let dir = tempfile::Builder::new().prefix("nettriage-caps-").tempdir().expect("a temp dir");
    std::fs::set_permissions(dir.path(), std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
    let bin = dir.path().join("nettriage");
    std::fs::copy(nettriage_bin(), &bin).expect("copying the binary");
    let bin = bin.to_str().expect("a UTF-8 path").to_string();
    let setcap = lab::run_cmd(&["setcap", "cap_net_raw,cap_net_admin+ep", &bin], std::time::Duration::from_secs(30))
        .expect("setcap ran");
    assert!(
        setcap.status.success(),
        "setcap failed (a file system without capabilities?): {}",
        String::from_utf8_lossy(&setcap.stderr)
    );
    let (out, r) = run_as_nobody(&lab, &bin);
    let p = privileges(&r);
    assert_eq!(p.uid, Some(65534));
    assert!(p.at_start.effective.contains(&NetCap::CapNetRaw) && p.at_start.effective.contains(&NetCap::CapNetAdmin));
    assert_dropped(&p);
    assert_layers_pass_after_drop(out.code, &r);
}
