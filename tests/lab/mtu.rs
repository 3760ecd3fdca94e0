//! Path MTU peers for the lab tests: a smaller MTU on the router's WAN link (router `wan0`
//! and server `eth0`, as behind a VPN or PPPoE), nftables rules in the router's `output`
//! chain that drop the fragmentation-needed / packet-too-big messages it generates itself
//! (the blackhole), static IPv6 on every lab link, and the `path` check's typed evidence.
//! Shared by `tests/lab_mtu.rs` and the benchmark's lab runs (through `mod lab;`).

use std::time::{Duration, Instant};

use serde_json::Value;

use super::Lab;

/// The router's LAN address on the IPv6 client segment.
pub const GATEWAY_IP6: &str = "2001:2:0:1::1";
/// The client's IPv6 address.
pub const CLIENT_IP6: &str = "2001:2:0:1::100";
/// The router's WAN address on the IPv6 server segment.
pub const ROUTER_WAN_IP6: &str = "2001:2:0:2::1";
/// The server's IPv6 address.
pub const SERVER_IP6: &str = "2001:2:0:2::2";
/// The WAN link's reduced MTU.
pub const WAN_MTU: u32 = 1400;

/// Sets `mtu` on the router's `wan0` and the server's `eth0`: packets from the client
/// larger than it must be reported (or dropped) by the router.
pub fn set_wan_mtu(lab: &Lab, mtu: u32) {
    let mtu = mtu.to_string();
    lab.ip(&lab.r, &["link", "set", "wan0", "mtu", &mtu]);
    lab.ip(&lab.s, &["link", "set", "eth0", "mtu", &mtu]);
}

/// Static IPv6 on the lab links (no DAD, so they are usable at once), default routes
/// through the router, and IPv6 forwarding in the router namespace only.
pub fn enable_ipv6(lab: &Lab) {
    for ns in [&lab.c, &lab.r, &lab.s] {
        sysctl(lab, ns, "net.ipv6.conf.all.disable_ipv6=0");
    }
    sysctl(lab, &lab.r, "net.ipv6.conf.all.forwarding=1");
    lab.ip(&lab.r, &["-6", "addr", "add", &format!("{GATEWAY_IP6}/64"), "dev", "br0", "nodad"]);
    lab.ip(&lab.r, &["-6", "addr", "add", &format!("{ROUTER_WAN_IP6}/64"), "dev", "wan0", "nodad"]);
    lab.ip(&lab.c, &["-6", "addr", "add", &format!("{CLIENT_IP6}/64"), "dev", "eth0", "nodad"]);
    lab.ip(&lab.c, &["-6", "route", "add", "default", "via", GATEWAY_IP6]);
    lab.ip(&lab.s, &["-6", "addr", "add", &format!("{SERVER_IP6}/64"), "dev", "eth0", "nodad"]);
    lab.ip(&lab.s, &["-6", "route", "add", "default", "via", ROUTER_WAN_IP6]);
    // The link-local addresses still run DAD (about a second); until they are usable the
    // router cannot solicit its neighbours and the first packets are lost.
    let until = Instant::now() + Duration::from_secs(5);
    for ns in [&lab.c, &lab.r, &lab.s] {
        loop {
            let out = lab.exec(ns, &["ip", "-6", "addr", "show", "tentative"]);
            if out.stdout.is_empty() {
                break;
            }
            assert!(Instant::now() < until, "IPv6 addresses in {ns} still tentative after 5 s");
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

fn sysctl(lab: &Lab, ns: &str, setting: &str) {
    let out = lab.exec(ns, &["sysctl", "-q", "-w", setting]);
    assert!(out.status.success(), "sysctl {setting} in {ns}: {}", String::from_utf8_lossy(&out.stderr));
}

/// The blackhole: the router drops the "fragmentation needed" (IPv4) and "packet too big"
/// (IPv6) messages it generates itself, in its `output` chain.
pub fn drop_too_big_reports(lab: &Lab) {
    lab.nft(
        &lab.r,
        "table ip mtu_blackhole {\n\
           chain output { type filter hook output priority 0; policy accept;\n\
             icmp type destination-unreachable icmp code frag-needed counter drop\n\
           }\n\
         }\n\
         table ip6 mtu_blackhole6 {\n\
           chain output { type filter hook output priority 0; policy accept;\n\
             icmpv6 type packet-too-big counter drop\n\
           }\n\
         }\n",
    );
}

/// The path check's evidence, typed.
pub fn path(report: &Value) -> nettriage::check::path::PathEvidence {
    let typed: nettriage::report::Report = serde_json::from_value(report.clone()).expect("report reads as Report");
    typed.path_evidence().cloned().unwrap_or_else(|| panic!("no path evidence:\n{}", super::pretty(report)))
}
