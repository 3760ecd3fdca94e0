//! IPv6 beside IPv4 in the namespace lab, for the gateway, dns and ports scenarios of
//! `tests/lab_ipv6_paths.rs` (issue 14 part 2).
//!
//! Addresses are static (`nodad`), with no router advertisements: the `ipv6` check's
//! scenarios run radvd (`tests/lab/ipv6.rs`); here the IPv6 paths themselves are under
//! test. Everything is inside the lab's own namespaces, from 2001:2::/48 (the
//! benchmarking range beside 198.18.0.0/15) and fe80::/10:
//!
//! ```text
//!   client ns C                    router ns R                         server ns S
//!   eth0 2001:2:0:1::100/64 ---- br0 2001:2:0:1::1/64, fe80::1
//!   default via fe80::1 dev eth0   forwarding=1 (IPv6)
//!                                  wan0 2001:2:0:2::1/64 ------------ eth0 2001:2:0:2::2/64
//!                                                                      default via 2001:2:0:2::1
//!                                                                      TCP listener [2001:2:0:2::2]:8080
//! ```
//!
//! The router's default route for the client is its link-local address, as a router
//! advertisement would give it, so the gateway check's link-local handling (the zone of a
//! ping, the source of a Neighbor Solicitation) is exercised. [`DUAL_NAME`] has an A and a
//! AAAA record in the router's dnsmasq ([`dual_stack_options`]); [`start_v6_resolver`]
//! adds a DNS-only dnsmasq on the router's global IPv6 address.

use std::net::TcpListener;
use std::time::{Duration, Instant};

use super::{Lab, LabOptions, SERVER_IP};

/// The router's address on the client segment.
pub const ROUTER_V6: &str = "2001:2:0:1::1";
/// The router's link-local address on the client segment: the client's IPv6 default route.
pub const ROUTER_LL: &str = "fe80::1";
/// The client's address.
pub const CLIENT_V6: &str = "2001:2:0:1::100";
/// The router's address towards the server.
pub const ROUTER_WAN_V6: &str = "2001:2:0:2::1";
/// The server's address.
pub const SERVER_V6: &str = "2001:2:0:2::2";
/// A name with both an A record (`SERVER_IP`) and a AAAA record (`SERVER_V6`).
pub const DUAL_NAME: &str = "dual.site.test";
/// The server port that listens on both families.
pub const DUAL_PORT: u16 = 8080;

/// Lab options whose router dnsmasq also answers [`DUAL_NAME`] with A and AAAA records.
pub fn dual_stack_options() -> LabOptions {
    LabOptions {
        router_dnsmasq_extra: vec![format!("host-record={DUAL_NAME},{SERVER_IP},{SERVER_V6}")],
        ..LabOptions::default()
    }
}

/// Gives the lab IPv6 (see the module header) and a listener on
/// `[SERVER_V6]:DUAL_PORT` (the IPv4 one on `SERVER_IP` is the lab's own); returns the
/// listener, which must live as long as the test.
pub fn enable_ipv6(lab: &Lab) -> Vec<TcpListener> {
    let (c, r, s) = (lab.c.clone(), lab.r.clone(), lab.s.clone());
    for ns in [&c, &r, &s] {
        sysctl(lab, ns, "net.ipv6.conf.all.disable_ipv6=0");
        sysctl(lab, ns, "net.ipv6.conf.default.disable_ipv6=0");
        // Static addresses only: no router advertisement may change them.
        sysctl(lab, ns, "net.ipv6.conf.all.accept_ra=0");
        sysctl(lab, ns, "net.ipv6.conf.default.accept_ra=0");
    }
    for (ns, ifname) in [(&c, "eth0"), (&r, "br0"), (&r, "wan0"), (&s, "eth0")] {
        sysctl(lab, ns, &format!("net.ipv6.conf.{ifname}.disable_ipv6=0"));
        sysctl(lab, ns, &format!("net.ipv6.conf.{ifname}.accept_ra=0"));
    }
    sysctl(lab, &r, "net.ipv6.conf.all.forwarding=1");

    lab.ip(&r, &["-6", "addr", "add", &format!("{ROUTER_V6}/64"), "dev", "br0", "nodad"]);
    lab.ip(&r, &["-6", "addr", "add", &format!("{ROUTER_LL}/64"), "dev", "br0", "nodad"]);
    lab.ip(&r, &["-6", "addr", "add", &format!("{ROUTER_WAN_V6}/64"), "dev", "wan0", "nodad"]);
    lab.ip(&c, &["-6", "addr", "add", &format!("{CLIENT_V6}/64"), "dev", "eth0", "nodad"]);
    lab.ip(&c, &["-6", "route", "add", "default", "via", ROUTER_LL, "dev", "eth0"]);
    lab.ip(&s, &["-6", "addr", "add", &format!("{SERVER_V6}/64"), "dev", "eth0", "nodad"]);
    lab.ip(&s, &["-6", "route", "add", "default", "via", ROUTER_WAN_V6, "dev", "eth0"]);

    let listeners = lab.listen_in(&s, SERVER_V6, &[DUAL_PORT]);
    wait_v6_path(lab);
    listeners
}

/// The URL of [`start_dual_nginx`]'s site: plain HTTP to [`DUAL_NAME`] on port 80.
pub fn dual_url() -> String {
    format!("http://{DUAL_NAME}/")
}

/// Starts nginx in the server namespace listening on `SERVER_IP:80` and `[SERVER_V6]:80`
/// (after [`enable_ipv6`], which gives the server its IPv6 address), answering 200 on
/// both: the dual-stack web site of the web scenarios ([`dual_url`]).
pub fn start_dual_nginx(lab: &mut Lab) {
    super::web::start_nginx(
        lab,
        "nginx-dual",
        &format!(
            "server {{ listen {SERVER_IP}:80; listen [{SERVER_V6}]:80; location / {{ return 200 \"dual\\n\"; }} }}"
        ),
    );
}

/// Starts a DNS-only dnsmasq on `[ROUTER_V6]:53` and `[fe80::1%br0]:53` in the router
/// namespace (a resolver the client reaches over IPv6, also by its link-local address with
/// a zone, `fe80::1%eth0` from the client) answering [`DUAL_NAME`] like the router's own,
/// and waits, bounded, until it answers the client.
pub fn start_v6_resolver(lab: &mut Lab) {
    let dir = lab.tmp().join("dnsmasq-r6");
    std::fs::create_dir_all(&dir).unwrap();
    let conf = dir.join("dnsmasq.conf");
    std::fs::write(
        &conf,
        format!(
            "listen-address={ROUTER_V6}\nlisten-address={ROUTER_LL}\nbind-interfaces\nport=53\nno-dhcp-interface=br0\nuser=root\ngroup=root\n\
             local=/site.test/\nhost-record={DUAL_NAME},{SERVER_IP},{SERVER_V6}\nhost-record={},{SERVER_IP}\n\
             log-queries\nlog-facility={}\npid-file={}\n",
            super::WWW_NAME,
            dir.join("dnsmasq.log").display(),
            dir.join("dnsmasq.pid").display(),
        ),
    )
    .unwrap();
    let r = lab.r.clone();
    let conf_arg = format!("--conf-file={}", conf.display());
    lab.spawn_in("dnsmasq-r6", &r, &["dnsmasq", "--keep-in-foreground", "--no-resolv", "--no-hosts", &conf_arg]);
    let deadline = Instant::now() + Duration::from_secs(5);
    while Instant::now() < deadline {
        if lab.dig_rcode(ROUTER_V6, DUAL_NAME) == "NOERROR" {
            return;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    panic!("lab: the IPv6 resolver on {ROUTER_V6} did not answer within 5 s; log:\n{}", lab.daemon_log("dnsmasq-r6"));
}

fn sysctl(lab: &Lab, ns: &str, setting: &str) {
    let o = lab.exec(ns, &["sysctl", "-q", "-w", setting]);
    assert!(o.status.success(), "lab: sysctl {setting} in {ns}: {}", String::from_utf8_lossy(&o.stderr));
}

/// Waits, bounded (3 s), until the client reaches the server over IPv6 (one ping per
/// try), so a scenario starts from a working path whatever neighbour discovery still does.
fn wait_v6_path(lab: &Lab) {
    let deadline = Instant::now() + Duration::from_secs(3);
    while Instant::now() < deadline {
        let o = lab.exec(&lab.c, &["ping", "-6", "-c", "1", "-W", "1", SERVER_V6]);
        if o.status.success() {
            return;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    panic!("lab: the client cannot reach {SERVER_V6} over IPv6 within 3 s");
}
