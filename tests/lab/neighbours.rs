//! Switch-side peers for the neighbours scenarios: Debian's lldpd on the router's `lan0`
//! (the bridge port at the other end of the client's veth) with a private config, control
//! socket and a 1 s transmit interval, optionally a second lldpd on the client (receive
//! only, its own socket) whose table nettriage reads through lldpcli, and the hostile
//! LLDP/CDP sender `tests/lab/hostile_lldp.py`. Also the `neighbours` check's typed
//! evidence from a report. Declared from `tests/lab_neighbours.rs` (and the benchmark).

#![allow(dead_code)]

use std::path::PathBuf;
use std::thread;
use std::time::{Duration, Instant};

use nettriage::check::neighbours::NeighboursEvidence;
use serde_json::Value;

use crate::lab::Lab;

/// The switch's name.
pub const SWITCH: &str = "sw-lab-1";
/// The switch port's id (the name a switch shows, e.g. Cisco's `Gi1/0/14`).
pub const PORT: &str = "Gi1/0/14";
/// The VLAN the lab's switch port advertises as its Port VLAN ID.
pub const PORT_VLAN: u16 = 42;

/// `lldpcli` lines for the lab switch: its name, 1 s interval, the port's id and
/// description. The lab kernel has neither 802.1Q nor bridge VLAN filtering, so the 802.1
/// Port VLAN ID TLV (OUI 00-80-c2, subtype 1) is sent as an lldpd custom TLV: the same bytes
/// a switch sends for an access port in that VLAN.
pub fn switch_config(vlan: u16) -> Vec<String> {
    vec![
        format!("configure system hostname {SWITCH}"),
        "configure lldp tx-interval 1".into(),
        format!("configure ports lan0 lldp portidsubtype local {PORT} description desk-214"),
        format!(
            "configure ports lan0 lldp custom-tlv add oui 00,80,c2 subtype 1 oui-info {:02x},{:02x}",
            vlan >> 8,
            vlan & 0xff
        ),
    ]
}

/// A MAC/PHY configuration/status TLV (OUI 00-12-0f, subtype 1) as an lldpd custom TLV:
/// auto-negotiation supported and enabled, 100BASE-TX half duplex (MAU type 15). lldpd
/// advertises the veth's own (10GBASE-T full, ethtool's fixed answer for a veth, whose
/// duplex cannot be set) first; a decoder keeps the last of two, so the switch says half.
pub const HALF_DUPLEX_MAU: &str =
    "configure ports lan0 lldp custom-tlv add oui 00,12,0f subtype 1 oui-info 03,6c,00,00,0f";

/// What the lab switch sends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Sends {
    /// LLDP only (lldpd's default).
    Lldp,
    /// CDPv2 only (`-ccc`: CDPv2 forced; lldpd then sends no LLDP).
    Cdp,
    /// LLDP and CDPv2, as a Cisco switch with LLDP enabled does (`-ccc -l`: CDPv2
    /// forced, LLDP forced although a CDP-only peer may be seen).
    Both,
}

/// Starts lldpd in the router namespace on `lan0` sending `sends`, with `lines` as its
/// lldpcli configuration; waits (bounded) until it resumed. Returns its control socket.
pub fn start_switch(lab: &mut Lab, label: &str, sends: Sends, lines: &[String]) -> PathBuf {
    let conf = lab.tmp().join(format!("{label}.conf"));
    std::fs::write(&conf, lines.join("\n") + "\n").unwrap();
    let socket = lab.tmp().join(format!("{label}.socket"));
    let mut argv = vec!["lldpd", "-d"];
    match sends {
        Sends::Lldp => {}
        Sends::Cdp => argv.push("-ccc"),
        Sends::Both => argv.extend(["-ccc", "-l"]),
    }
    let (sock, conf_s) = (socket.display().to_string(), conf.display().to_string());
    argv.extend(["-k", "-S", "nettriage lab switch", "-P", "lab", "-m", "198.18.0.1", "-I", "lan0"]);
    argv.extend(["-u", &sock, "-O", &conf_s]);
    let r = lab.r.clone();
    lab.spawn_in(label, &r, &argv);
    wait_resumed(lab, label);
    socket
}

/// Starts a receive-only lldpd on the client's `eth0` with its own socket (what a
/// workstation running lldpd has). Returns its socket; start it before the switch, whose
/// first frame it must hear.
pub fn start_client_lldpd(lab: &mut Lab) -> PathBuf {
    let label = "lldpd-client";
    let conf = lab.tmp().join(format!("{label}.conf"));
    std::fs::write(&conf, "configure lldp tx-interval 30\n").unwrap();
    let socket = lab.tmp().join(format!("{label}.socket"));
    let (sock, conf_s) = (socket.display().to_string(), conf.display().to_string());
    let c = lab.c.clone();
    lab.spawn_in(label, &c, &["lldpd", "-d", "-r", "-I", "eth0", "-u", &sock, "-O", &conf_s]);
    wait_resumed(lab, label);
    socket
}

/// Waits (bounded) until the client's lldpd (its `socket`) knows the switch.
pub fn wait_client_knows_switch(lab: &Lab, socket: &std::path::Path) {
    let sock = socket.display().to_string();
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let out = lab.exec(&lab.c, &["lldpcli", "-u", &sock, "-f", "json", "show", "neighbors"]);
        if String::from_utf8_lossy(&out.stdout).contains(SWITCH) {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "the client's lldpd did not hear the switch:\n{}",
            lab.daemon_log("lldpd-client")
        );
        thread::sleep(Duration::from_millis(100));
    }
}

fn wait_resumed(lab: &Lab, label: &str) {
    let log = lab.wait_daemon_log(label, Duration::from_secs(5), |l| l.contains("should resume operations"));
    assert!(log.contains("should resume operations"), "lldpd ({label}) did not start:\n{log}");
}

/// Starts `tests/lab/hostile_lldp.py` on the router's `lan0` for `seconds`, flooding
/// `flood` valid CDP "switches" per round; returns once it is ready (bounded).
pub fn start_hostile(lab: &mut Lab, seconds: u32, flood: u32) {
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/lab/hostile_lldp.py");
    let (seconds, flood) = (seconds.to_string(), flood.to_string());
    let r = lab.r.clone();
    let argv = ["python3", "-u", script, "--iface", "lan0", "--seconds", &seconds, "--flood", &flood];
    lab.spawn_in("hostile-lldp", &r, &argv);
    let log = lab.wait_daemon_log("hostile-lldp", Duration::from_secs(5), |l| l.contains("flood"));
    assert!(log.contains("flood"), "hostile_lldp.py did not start:\n{log}");
}

/// The neighbours check's evidence, typed.
pub fn evidence(report: &Value) -> NeighboursEvidence {
    let check = crate::lab::check(report, "neighbours");
    serde_json::from_value(check["evidence"].clone())
        .unwrap_or_else(|e| panic!("neighbours evidence does not read ({e}): {}", crate::lab::pretty(check)))
}

/// The neighbours check's notice codes.
pub fn notice_codes(report: &Value) -> Vec<String> {
    evidence(report).notices.iter().map(|n| n.code.as_str().to_string()).collect()
}

/// Writes a config file in the lab's temp dir and returns its path.
pub fn config(lab: &Lab, name: &str, text: &str) -> String {
    let path = lab.tmp().join(name);
    std::fs::write(&path, text).unwrap();
    path.display().to_string()
}
