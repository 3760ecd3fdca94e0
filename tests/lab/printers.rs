//! Printer-side peers for the printers scenarios: CUPS' `ippeveprinter` (cups-ipp-utils) as a
//! real IPP Everywhere printer on a LAN host of the client's segment, advertised over mDNS by
//! `tests/lab/mdns_printer.py` (python3-zeroconf); its attention state set through its own
//! web forms; and `tests/lab/ipp_peer.py` for what ippeveprinter cannot be (a stopped printer
//! refusing jobs, a hostile peer). Also the profile's typed evidence from a report. Declared
//! from `tests/lab_printers.rs`.
//!
//! ippeveprinter needs two things a bare namespace lacks: a D-Bus system bus for its DNS-SD
//! client (a private `dbus-daemon` whose socket is in the lab's temp dir; with `-r off` it
//! advertises nothing itself) and a host name with an IPv4 and an IPv6 address (it opens a
//! listener for each, on the name's first address of each family; glibc gives `::1` as
//! 127.0.0.1 to an IPv4 lookup, so the host has an IPv6 address of its own): a hosts file bind-mounted over /etc/hosts in the mount namespace
//! `ip netns exec` gives that one process, nowhere else.

#![allow(dead_code)]

use std::time::{Duration, Instant};

use nettriage::check::printers::PrintersEvidence;
use serde_json::Value;

use crate::lab::Lab;

/// The ippeveprinter host on the client's segment.
pub const PRINTER_IP: &str = "198.18.0.20";
/// The python IPP peer's host.
pub const PEER_IP: &str = "198.18.0.21";
/// A LAN host with no printer service at all (a printer switched off: the host answers, its
/// ports are closed).
pub const DOWN_IP: &str = "198.18.0.22";
/// An address on the segment where no host is (a printer unplugged).
pub const ABSENT_IP: &str = "198.18.0.99";
/// ippeveprinter's port (it takes 8000-8999 by default).
pub const IPP_PORT: u16 = 8631;
/// The printer's name, as ippeveprinter and the mDNS advertisement give it.
pub const PRINTER_NAME: &str = "Lab Printer";
/// The python peer's `printer-name` in the stopped mode.
pub const STOPPED_NAME: &str = "Stopped Printer";

fn script(name: &str) -> String {
    format!("{}/tests/lab/{name}", env!("CARGO_MANIFEST_DIR"))
}

/// The ippeveprinter host's IPv6 address (the benchmarking range 2001:2::/48, RFC 5180),
/// for its IPv6 listener only.
pub const PRINTER_IP6: &str = "2001:2::20";

/// Adds a LAN host `role` at `ip`.
pub fn lan_host(lab: &mut Lab, role: &str, ip: &str) -> String {
    lab.add_lan_host(role, &format!("{ip}/24"))
}

/// Waits (bounded) until `ip:port` accepts a TCP connection from the client namespace
/// (`ns` is the listener's, for the failure message).
pub fn wait_listening(lab: &Lab, ns: &str, ip: &str, port: u16, label: &str) {
    let deadline = Instant::now() + Duration::from_secs(10);
    let probe = format!("import socket; socket.create_connection(('{ip}', {port}), 0.5).close()");
    loop {
        if lab.exec(&lab.c, &["/usr/bin/python3", "-c", &probe]).status.success() {
            return;
        }
        if Instant::now() >= deadline {
            let ss = lab.exec(ns, &["ss", "-ltnp"]);
            let addrs = lab.exec(ns, &["ip", "addr"]);
            panic!(
                "{label} does not listen on {ip}:{port}:\n{}\n{}\n{}",
                lab.daemon_log(label),
                String::from_utf8_lossy(&ss.stdout),
                String::from_utf8_lossy(&addrs.stdout)
            );
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// Starts ippeveprinter ("Lab Printer", `ipp://PRINTER_IP:IPP_PORT/ipp/print`) on a new LAN
/// host, with its private bus; waits until it listens. Returns the host's namespace.
pub fn start_ippeveprinter(lab: &mut Lab) -> String {
    let ns = lan_host(lab, "prn", PRINTER_IP);
    let out =
        lab.exec(&ns, &["sysctl", "-qw", "net.ipv6.conf.all.disable_ipv6=0", "net.ipv6.conf.eth0.disable_ipv6=0"]);
    assert!(out.status.success(), "sysctl in {ns}: {}", String::from_utf8_lossy(&out.stderr));
    lab.ip(&ns, &["-6", "addr", "add", &format!("{PRINTER_IP6}/64"), "dev", "eth0", "nodad"]);
    let dir = lab.tmp().join("ippeveprinter");
    std::fs::create_dir_all(dir.join("spool")).unwrap();
    let bus = dir.join("bus.sock");
    let conf = dir.join("bus.conf");
    std::fs::write(
        &conf,
        format!(
            r#"<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>system</type>
  <listen>unix:path={}</listen>
  <auth>EXTERNAL</auth>
  <policy context="default"><allow user="*"/><allow own="*"/>
    <allow send_type="method_call"/><allow send_type="signal"/><allow send_type="method_return"/><allow send_type="error"/>
    <allow receive_type="method_call"/><allow receive_type="signal"/><allow receive_type="method_return"/><allow receive_type="error"/>
  </policy>
</busconfig>
"#,
            bus.display()
        ),
    )
    .unwrap();
    let hosts = dir.join("hosts");
    std::fs::write(&hosts, format!("{PRINTER_IP} labprinter\n{PRINTER_IP6} labprinter\n")).unwrap();
    let conf_arg = format!("--config-file={}", conf.display());
    lab.spawn_in("dbus", &ns, &["dbus-daemon", &conf_arg, "--nofork", "--nopidfile"]);
    let deadline = Instant::now() + Duration::from_secs(5);
    while !bus.exists() {
        assert!(Instant::now() < deadline, "dbus-daemon did not start:\n{}", lab.daemon_log("dbus"));
        std::thread::sleep(Duration::from_millis(50));
    }
    let command = format!(
        "mount --bind '{}' /etc/hosts && exec env DBUS_SYSTEM_BUS_ADDRESS='unix:path={}' /usr/sbin/ippeveprinter \
         -p {IPP_PORT} -n labprinter -r off -d '{}' '{PRINTER_NAME}'",
        hosts.display(),
        bus.display(),
        dir.join("spool").display()
    );
    lab.spawn_in("ippeveprinter", &ns, &["sh", "-c", &command]);
    wait_listening(lab, &ns, PRINTER_IP, IPP_PORT, "ippeveprinter");
    ns
}

/// Advertises the ippeveprinter over mDNS from its host (`_ipp._tcp`, `rp=ipp/print`);
/// waits until registered.
pub fn advertise(lab: &mut Lab, ns: &str) {
    let port = IPP_PORT.to_string();
    lab.spawn_in("mdns", ns, &["/usr/bin/python3", &script("mdns_printer.py"), PRINTER_NAME, PRINTER_IP, &port]);
    let log = lab.wait_daemon_log("mdns", Duration::from_secs(15), |l| l.contains("ready"));
    assert!(log.contains("ready"), "the mDNS advertiser did not start:\n{log}");
}

/// Empties the black toner and the main tray through ippeveprinter's own web forms: it then
/// reports `toner-empty-report` and `media-empty-report`.
pub fn empty_supplies(lab: &Lab) {
    let code = format!(
        "import urllib.request as u\n\
         u.urlopen('http://{PRINTER_IP}:{IPP_PORT}/supplies?supply0=25&supply1=0', timeout=3).read()\n\
         u.urlopen('http://{PRINTER_IP}:{IPP_PORT}/media?size1=&type1=&level1=0', timeout=3).read()\n"
    );
    let out = lab.exec(&lab.c, &["/usr/bin/python3", "-c", &code]);
    assert!(out.status.success(), "ippeveprinter's forms: {}", String::from_utf8_lossy(&out.stderr));
}

/// Starts `tests/lab/ipp_peer.py` in `mode` (`stopped`, `garbage`) on port 631 of a new LAN
/// host at PEER_IP; waits until it listens.
pub fn start_peer(lab: &mut Lab, mode: &str) {
    let ns = lan_host(lab, "peer", PEER_IP);
    lab.spawn_in("ipp-peer", &ns, &["/usr/bin/python3", &script("ipp_peer.py"), PEER_IP, "631", mode]);
    wait_listening(lab, &ns, PEER_IP, 631, "ipp-peer");
}

/// Writes a config file with `[profiles.printers]` `body` and returns its path.
pub fn config(lab: &Lab, body: &str) -> String {
    let path = lab.tmp().join("printers.toml");
    std::fs::write(&path, format!("[profiles.printers]\n{body}\n")).unwrap();
    path.display().to_string()
}

/// The printers profile's typed evidence.
pub fn evidence(report: &Value) -> PrintersEvidence {
    let check = crate::lab::check(report, "printers");
    serde_json::from_value(check["evidence"].clone())
        .unwrap_or_else(|e| panic!("printers evidence does not read ({e}): {}", crate::lab::pretty(check)))
}
