//! IPv6 in the lab: addresses, forwarding and routes ([`enable_ipv6`]), radvd in the
//! router namespace ([`start_radvd`] with [`router_radvd_conf`]) or on another host of the
//! client segment, waiting for the client's SLAAC address ([`wait_client_address`]), and
//! the hostile RA sender `tests/lab/hostile_ra.py` ([`start_hostile_ra`]).
//!
//! Addresses come from 2001:2::/48 (RFC 5180's benchmarking range, beside 198.18.0.0/15):
//!
//! ```text
//!   client ns C                router ns R                        server ns S
//!   eth0 SLAAC in 2001:2:0:1::/64 ---- br0 2001:2:0:1::1/64
//!   (default route from the RA)        radvd on br0 (prefix, RDNSS, MTU)
//!                                      forwarding=1
//!                                      wan0 2001:2:0:2::1/64 ------ eth0 2001:2:0:2::2/64
//!                                                                   default via 2001:2:0:2::1
//! ```
//!
//! Sysctls are set inside the lab namespaces only. Every wait is bounded; radvd and the
//! hostile sender are lab daemons, killed by PID when the lab is dropped.

use std::fs;
use std::time::{Duration, Instant};

use super::{Lab, ipn, must};

/// The client segment's prefix, advertised by the router's radvd.
pub const LAN6_PREFIX: &str = "2001:2:0:1::/64";
/// The router on the client segment (br0).
pub const ROUTER_LAN_IP6: &str = "2001:2:0:1::1";
/// The router on the server segment (wan0).
pub const ROUTER_WAN_IP6: &str = "2001:2:0:2::1";
/// The server's IPv6 address (its resolver is advertised as RDNSS).
pub const SERVER_IP6: &str = "2001:2:0:2::2";
/// The MTU the router advertises.
pub const RA_MTU: u32 = 1500;

/// Switches IPv6 on in `ns` (all interfaces and new ones) and sets `forwarding`.
pub fn sysctl_ipv6(ns: &str, forwarding: bool) {
    let fwd = if forwarding { "1" } else { "0" };
    for kv in [
        "net.ipv6.conf.all.disable_ipv6=0".to_string(),
        "net.ipv6.conf.default.disable_ipv6=0".to_string(),
        format!("net.ipv6.conf.all.forwarding={fwd}"),
    ] {
        must(&["ip", "netns", "exec", ns, "sysctl", "-q", "-w", &kv], &format!("sysctl {kv} in {ns}"));
    }
}

/// IPv6 on the client, router and server namespaces: the router's addresses on br0 and
/// wan0 and forwarding, the server's address and default route. No radvd: the client has
/// only its link-local address until an RA comes. Waits (bounded) until no address in
/// these namespaces is tentative, so the lab's own DAD does not race the scenario.
pub fn enable_ipv6(lab: &Lab) {
    sysctl_ipv6(&lab.c, false);
    sysctl_ipv6(&lab.r, true);
    sysctl_ipv6(&lab.s, false);
    ipn(&lab.r, &["-6", "addr", "add", &format!("{ROUTER_LAN_IP6}/64"), "dev", "br0", "nodad"]);
    ipn(&lab.r, &["-6", "addr", "add", &format!("{ROUTER_WAN_IP6}/64"), "dev", "wan0", "nodad"]);
    ipn(&lab.s, &["-6", "addr", "add", &format!("{SERVER_IP6}/64"), "dev", "eth0", "nodad"]);
    ipn(&lab.s, &["-6", "route", "add", "default", "via", ROUTER_WAN_IP6]);
    for (ns, ifname) in [(&lab.c, "eth0"), (&lab.r, "br0"), (&lab.s, "eth0")] {
        wait_link_local(ns, ifname, Duration::from_secs(10));
        wait_no_tentative(ns, Duration::from_secs(10));
    }
}

/// Waits (bounded) until `ifname` in `ns` has a link-local address that passed DAD.
/// (Writing the sysctls restarts address configuration: the link-local address is
/// removed and formed again, tentative, a moment later.)
pub fn wait_link_local(ns: &str, ifname: &str, timeout: Duration) {
    let deadline = Instant::now() + timeout;
    loop {
        let o = must(&["ip", "-n", ns, "-6", "-o", "addr", "show", "dev", ifname, "scope", "link"], "list addresses");
        let text = String::from_utf8_lossy(&o.stdout).into_owned();
        if text.lines().any(|l| l.contains("inet6 fe80:") && !l.contains("tentative")) {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "lab: no usable link-local address on {ifname} in {ns} after {timeout:?}:\n{text}"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// Waits (bounded) until `ns` has no tentative IPv6 address (link-locals included).
pub fn wait_no_tentative(ns: &str, timeout: Duration) {
    let deadline = Instant::now() + timeout;
    loop {
        let o = must(&["ip", "-n", ns, "-6", "-o", "addr", "show"], "list addresses");
        let text = String::from_utf8_lossy(&o.stdout).into_owned();
        if !text.contains("tentative") {
            return;
        }
        assert!(Instant::now() < deadline, "lab: addresses in {ns} still tentative after {timeout:?}:\n{text}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// radvd's configuration for the router: `prefix` on br0 for SLAAC, the server as RDNSS,
/// the MTU option, and answers to solicitations sent at once by unicast (RFC 7772), so a
/// run hears the router inside its window whatever radvd advertised just before.
pub fn router_radvd_conf(ifname: &str, prefix: &str, lifetime_s: u32) -> String {
    format!(
        "interface {ifname} {{\n\
           AdvSendAdvert on;\n\
           MinRtrAdvInterval 3;\n\
           MaxRtrAdvInterval 10;\n\
           AdvDefaultLifetime {lifetime_s};\n\
           AdvLinkMTU {RA_MTU};\n\
           AdvRASolicitedUnicast on;\n\
           prefix {prefix} {{ AdvOnLink on; AdvAutonomous on; }};\n\
           RDNSS {SERVER_IP6} {{ }};\n\
           DNSSL lab.example {{ }};\n\
         }};\n"
    )
}

/// Starts radvd in `ns` with `conf` (its own config and pid file in the lab's temp dir,
/// logging to stderr, in the foreground), as the lab daemon `label`; killed by PID with the
/// lab. Returns its PID once it runs (bounded wait for its pid file).
pub fn start_radvd_in(lab: &mut Lab, label: &str, ns: &str, conf: &str) -> u32 {
    let dir = lab.tmp().join(label);
    fs::create_dir_all(&dir).unwrap();
    let conf_path = dir.join("radvd.conf");
    fs::write(&conf_path, conf).unwrap();
    let pid_path = dir.join("radvd.pid");
    let (conf_arg, pid_arg) = (conf_path.display().to_string(), pid_path.display().to_string());
    let pid = lab.spawn_in(label, ns, &["radvd", "-n", "-m", "stderr", "-d", "1", "-C", &conf_arg, "-p", &pid_arg]);
    let deadline = Instant::now() + Duration::from_secs(5);
    while !pid_path.exists() {
        assert!(
            Instant::now() < deadline,
            "lab: radvd ({label}) wrote no pid file within 5 s; config:\n{conf}\nlog:\n{}",
            lab.daemon_log(label)
        );
        assert!(
            !lab.wait_daemon_exit(label, Duration::from_millis(50)),
            "lab: radvd ({label}) exited:\n{}",
            lab.daemon_log(label)
        );
    }
    pid
}

/// Starts radvd in the router namespace with `conf` (see [`router_radvd_conf`]).
pub fn start_radvd(lab: &mut Lab, conf: &str) -> u32 {
    let r = lab.r.clone();
    start_radvd_in(lab, "radvd-r", &r, conf)
}

/// Waits (bounded) until the client has a global address in `prefix_start` (e.g.
/// "2001:2:0:1:") that passed DAD, and returns it.
pub fn wait_client_address(lab: &Lab, prefix_start: &str, timeout: Duration) -> String {
    let deadline = Instant::now() + timeout;
    loop {
        let o =
            must(&["ip", "-n", &lab.c, "-6", "-o", "addr", "show", "dev", "eth0", "scope", "global"], "list addresses");
        let text = String::from_utf8_lossy(&o.stdout).into_owned();
        let found = text.lines().filter(|l| !l.contains("tentative")).find_map(|l| {
            let mut words = l.split_whitespace();
            words.find(|w| *w == "inet6")?;
            let addr = words.next()?.split('/').next()?.to_string();
            addr.starts_with(prefix_start).then_some(addr)
        });
        if let Some(addr) = found {
            return addr;
        }
        assert!(
            Instant::now() < deadline,
            "lab: the client formed no address in {prefix_start}* within {timeout:?}:\n{text}"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// The link-local address of `ifname` in `ns`.
pub fn link_local(ns: &str, ifname: &str) -> String {
    let o = must(
        &["ip", "-n", ns, "-6", "-o", "addr", "show", "dev", ifname, "scope", "link"],
        "read a link-local address",
    );
    let text = String::from_utf8_lossy(&o.stdout).into_owned();
    text.split_whitespace()
        .skip_while(|w| *w != "inet6")
        .nth(1)
        .and_then(|a| a.split('/').next())
        .map(str::to_string)
        .unwrap_or_else(|| panic!("lab: no link-local address on {ifname} in {ns}: {text}"))
}

/// Starts `tests/lab/hostile_ra.py` on `eth0` of the LAN host `ns` (IPv6 on, forwarding so
/// it hears the client's solicitation to ff02::2): once it sees a Router Solicitation it
/// answers with malformed RAs and a flood of `flood` valid ones from `sources` link-local
/// addresses, then exits (after 10 s at the latest). Returns once it listens (bounded).
pub fn start_hostile_ra(lab: &mut Lab, ns: &str, flood: u32, sources: u32) {
    const LABEL: &str = "hostile-ra";
    sysctl_ipv6(ns, true);
    wait_link_local(ns, "eth0", Duration::from_secs(10));
    for i in 0..sources {
        ipn(ns, &["-6", "addr", "add", &format!("fe80::66:{:x}/64", i + 1), "dev", "eth0", "nodad"]);
    }
    wait_no_tentative(ns, Duration::from_secs(10));
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/lab/hostile_ra.py");
    let (flood, sources) = (flood.to_string(), sources.to_string());
    lab.spawn_in(LABEL, ns, &["python3", "-u", script, "--iface", "eth0", "--flood", &flood, "--sources", &sources]);
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        if lab.daemon_log(LABEL).lines().any(|l| l.starts_with("ready")) {
            return;
        }
        assert!(
            !lab.wait_daemon_exit(LABEL, Duration::from_millis(20)),
            "lab: {LABEL} exited:\n{}",
            lab.daemon_log(LABEL)
        );
        assert!(Instant::now() < deadline, "lab: {LABEL} did not get ready within 5 s:\n{}", lab.daemon_log(LABEL));
    }
}
