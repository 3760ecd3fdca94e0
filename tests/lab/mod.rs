//! Network lab for nettriage's integration tests.
//!
//! Shared by test files via `mod lab;`. Every lab instance builds its own set
//! of network namespaces (never touching the host namespace), runs real
//! dnsmasq instances and real TCP listeners inside them, and tears everything
//! down again in `Drop`, also when the test panics.
//!
//! Topology (all addresses from 198.18.0.0/15):
//!
//! ```text
//!   client ns C                router ns R                       server ns S
//!   eth0 198.18.0.10/24 ---- lan0 ⊂ br0 198.18.0.1/24
//!   default via .0.1           dnsmasq on br0 (DNS + DHCP .100-.200, 1h,
//!                              no-ping unless LabOptions says otherwise)
//!   /etc/netns/C/resolv.conf   ip_forward=1
//!                              wan0 198.18.1.1/24 ------------- eth0 198.18.1.2/24
//!                                                                default via .1.1
//!                                                                dnsmasq on 198.18.1.2:53 (DNS only)
//!                                                                TCP listeners :8080 :8081
//! ```
//!
//! More hosts can join the client segment (`add_lan_host`): a second DHCP
//! server (`start_lan_dhcp_server`), a host using the client's address, or
//! the hostile DHCP replier `tests/lab/hostile_dhcp.py`
//! (`start_hostile_dhcp`).
//!
//! Namespace names are `ntl{pid}x{counter}-{role}`, unique per test process
//! and per lab, so tests can run in parallel threads. Namespaces left over by
//! a test process that died (its pid no longer exists) are removed when the
//! next lab is built; nothing else is touched.
//!
//! Safety rules this module follows: nothing is ever created in the host
//! namespace (veths are created directly inside the lab namespaces), no
//! packet is ever sent from the host namespace, every loop and wait is
//! bounded, and only processes the lab itself started are ever signalled, by
//! PID.

#![allow(dead_code)]
// The lab reports what it does on stderr on purpose (cargo test shows it
// only for failing tests).
#![allow(clippy::print_stderr)]

pub mod ipv6;
pub mod ipv6_paths;
pub mod mtu;
pub mod web;
pub mod wpad;

use std::fs::{self, File};
use std::io::{Read, Write};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Output, Stdio};
use std::sync::Mutex;
use std::sync::atomic::{AtomicU32, Ordering};
use std::thread;
use std::time::{Duration, Instant};

use nix::sched::CloneFlags;
use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;
use serde_json::Value;

// ---------------------------------------------------------------------------
// Addresses and constants
// ---------------------------------------------------------------------------

pub const CLIENT_IP: &str = "198.18.0.10";
pub const GATEWAY_IP: &str = "198.18.0.1";
pub const ROUTER_WAN_IP: &str = "198.18.1.1";
pub const SERVER_IP: &str = "198.18.1.2";
/// An address inside 198.18.0.0/15 that no namespace of the lab routes to.
/// Used as a dnsmasq upstream that can never be reached (sendto fails with
/// ENETUNREACH inside R, so not a single packet leaves).
pub const UNROUTED_IP: &str = "198.19.255.1";

/// TCP ports that always have a real listener on SERVER_IP.
pub const DEFAULT_SERVER_PORTS: &[u16] = &[8080, 8081];

/// Names served by the lab's DNS.
pub const WWW_NAME: &str = "www.site.test";
pub const APP_NAME: &str = "app.site.test";
/// Exists in the lab zone (a TXT record) but has no A/AAAA address.
pub const NOADDR_NAME: &str = "noaddr.site.test";

/// Prefix of every namespace the lab creates. Stale-namespace cleanup only
/// ever looks at names with this prefix followed by a pid.
const NS_PREFIX: &str = "ntl";

/// Hard limit for one nettriage run; it is killed (by PID) after this.
pub const RUN_TIMEOUT: Duration = Duration::from_secs(30);
/// Hard limit for one helper command (ip, nft, dig, ...).
const CMD_TIMEOUT: Duration = Duration::from_secs(15);
/// How long a dnsmasq instance gets to start answering.
const DNSMASQ_READY_TIMEOUT: Duration = Duration::from_secs(3);

static COUNTER: AtomicU32 = AtomicU32::new(0);
/// Serialises `ip netns add/del` and stale cleanup inside this process.
/// (iproute2 sets up the /run/netns mount on first use, which can race.)
static NETNS_LOCK: Mutex<()> = Mutex::new(());

// ---------------------------------------------------------------------------
// Options
// ---------------------------------------------------------------------------

/// How the router's dnsmasq answers for `site.test`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum RouterDns {
    /// Authoritative for site.test (`local=/site.test/`): www and app have
    /// A records (198.18.1.2), every other name gets NXDOMAIN.
    #[default]
    Normal,
    /// SERVFAIL for www.site.test and every other site.test name except
    /// app.site.test.
    ///
    /// How it works (verified with dig from the client ns against dnsmasq
    /// 2.90): the router dnsmasq forwards site.test to the server's dnsmasq
    /// (`server=/site.test/198.18.1.2`) and validates DNSSEC (`dnssec`)
    /// with made-up trust anchors for the root and for site.test. The
    /// upstream answers with an ordinary unsigned A record, which cannot be
    /// validated against the site.test trust anchor, so dnsmasq logs
    /// "validation www.site.test is BOGUS" and answers the client
    /// `SERVFAIL` (EDE 6, DNSSEC Bogus). The random-label probe gets the
    /// same SERVFAIL. This is the real-world "broken DNSSEC" SERVFAIL.
    ServfailDnssec,
    /// REFUSED for www.site.test and every other site.test name except
    /// app.site.test.
    ///
    /// How it works (verified with dig against dnsmasq 2.90): the router
    /// forwards site.test to an upstream it has no route to
    /// (`server=/site.test/198.19.255.1`); sendto() fails at once with
    /// ENETUNREACH, and dnsmasq answers `REFUSED` (EDE 23, Network Error),
    /// logging "config error is REFUSED". No packet leaves R.
    RefusedUnreachableUpstream,
    /// Answers every name: www and app have their A records (198.18.1.2),
    /// every other name, also one that cannot exist, gets `HIJACK_IP`
    /// (`address=/#/198.18.1.99`): the NXDOMAIN rewriting of an ISP, a
    /// captive portal or a filter (`dns.hijacked`).
    HijackEverything,
}

/// The address the router's dnsmasq gives every unknown name with
/// `RouterDns::HijackEverything`.
pub const HIJACK_IP: &str = "198.18.1.99";

#[derive(Clone, Debug)]
pub struct LabOptions {
    pub router_dns: RouterDns,
    /// Start the DNS-only dnsmasq on 198.18.1.2:53 in the server ns
    /// (a second resolver). Forced on for `RouterDns::ServfailDnssec`,
    /// which uses it as its upstream.
    pub server_dns: bool,
    /// Extra TCP listener ports on SERVER_IP, besides DEFAULT_SERVER_PORTS.
    pub extra_server_ports: Vec<u16>,
    /// The router's dnsmasq serves DHCP on br0 (`dhcp-range`, 198.18.0.100-200,
    /// lease time 1h). Off: DNS only, no server answers a DISCOVER.
    pub router_dhcp: bool,
    /// Keep dnsmasq's own conflict check: it pings an address for about 3 s
    /// before offering it to a new client (so the first offer is slow). Off by
    /// default (`no-ping`): the lab's server offers at once, like the ISC and
    /// Windows servers do by default.
    pub dhcp_ping_check: bool,
    /// `dhcp-authoritative`: the router's dnsmasq NAKs a REQUEST for an
    /// address that does not belong to its network (instead of ignoring it).
    pub dhcp_authoritative: bool,
    /// `dhcp-reply-delay`: the router's dnsmasq holds every OFFER back this
    /// many seconds (0: none), as a server behind a slow relay or in a
    /// split scope with a configured delay does.
    pub dhcp_reply_delay_s: u32,
    /// Extra lines for the router's dnsmasq configuration, appended as
    /// given (e.g. `host-record=` with an IPv6 address for a AAAA record).
    pub router_dnsmasq_extra: Vec<String>,
}

impl Default for LabOptions {
    fn default() -> Self {
        LabOptions {
            router_dns: RouterDns::Normal,
            server_dns: true,
            extra_server_ports: Vec::new(),
            router_dhcp: true,
            dhcp_ping_check: false,
            dhcp_authoritative: false,
            dhcp_reply_delay_s: 0,
            router_dnsmasq_extra: Vec::new(),
        }
    }
}

// ---------------------------------------------------------------------------
// The lab
// ---------------------------------------------------------------------------

pub struct Lab {
    /// Test name, for messages.
    pub test: String,
    /// `ntl{pid}x{n}`; every namespace of this lab starts with it.
    pub prefix: String,
    /// Client namespace name.
    pub c: String,
    /// Router namespace name.
    pub r: String,
    /// Server namespace name.
    pub s: String,
    pub opts: LabOptions,
    tmp: Option<tempfile::TempDir>,
    /// Namespaces created so far (torn down in reverse order).
    namespaces: Vec<String>,
    /// /etc/netns/<ns> dirs created so far.
    etc_dirs: Vec<PathBuf>,
    /// Daemons started by the lab: (label, child, log file).
    daemons: Vec<(String, Child, PathBuf)>,
    /// TCP listeners living in the server namespace.
    listeners: Vec<TcpListener>,
}

/// One finished nettriage run (the lower-level form of `run_nettriage`).
#[derive(Debug)]
pub struct RunOutput {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
    pub duration: Duration,
}

impl Lab {
    /// Builds a lab with default options. Panics with a clear message when
    /// the lab cannot be built (see [`Lab::start_with`]).
    pub fn start(test: &str) -> Lab {
        Lab::start_with(test, LabOptions::default())
    }

    /// Builds a lab with `opts`. Panics, naming what is missing, without
    /// root or a lab tool, so a lab test that cannot run fails instead of
    /// passing. An explicit skip (`NETTRIAGE_LAB=skip` outside CI) is not
    /// decided here but at build time: the test is then marked ignored (see
    /// build.rs); reaching this point with the skip still requested means the
    /// test lacks that mark (or ran with `--ignored`), and it fails.
    pub fn start_with(test: &str, opts: LabOptions) -> Lab {
        if skip_requested() {
            panic!(
                "lab test {test} ran although NETTRIAGE_LAB=skip is set: it lacks \
                 #[cfg_attr(nettriage_lab_skip, ignore = \"NETTRIAGE_LAB=skip\")] or was run with \
                 --ignored/--include-ignored; unset NETTRIAGE_LAB to run the lab"
            );
        }
        preflight(test);
        cleanup_stale();

        let n = COUNTER.fetch_add(1, Ordering::SeqCst);
        let prefix = format!("{NS_PREFIX}{}x{n}", std::process::id());
        let mut lab = Lab {
            test: test.to_string(),
            c: format!("{prefix}-c"),
            r: format!("{prefix}-r"),
            s: format!("{prefix}-s"),
            prefix: prefix.clone(),
            opts,
            tmp: None,
            namespaces: Vec::new(),
            etc_dirs: Vec::new(),
            daemons: Vec::new(),
            listeners: Vec::new(),
        };
        if lab.opts.router_dns == RouterDns::ServfailDnssec {
            lab.opts.server_dns = true;
        }
        // Any panic from here on drops `lab`, which tears down whatever was
        // built so far.
        lab.tmp = Some(
            tempfile::Builder::new()
                .prefix(&format!("{prefix}-"))
                .tempdir()
                .unwrap_or_else(|e| panic!("lab: cannot create temp dir: {e}")),
        );
        lab.build_topology();
        lab.start_listeners();
        if lab.opts.server_dns {
            lab.start_server_dnsmasq();
        }
        lab.start_router_dnsmasq();
        lab
    }

    pub fn tmp(&self) -> &Path {
        self.tmp.as_ref().expect("lab tmp dir").path()
    }

    // ----- construction -----------------------------------------------------

    fn add_ns(&mut self, name: &str) {
        let _g = NETNS_LOCK.lock().unwrap_or_else(|p| p.into_inner());
        must(&["ip", "netns", "add", name], &format!("create namespace {name}"));
        self.namespaces.push(name.to_string());
    }

    fn build_topology(&mut self) {
        let (c, r, s) = (self.c.clone(), self.r.clone(), self.s.clone());
        self.add_ns(&c);
        self.add_ns(&r);
        self.add_ns(&s);

        // Client resolv.conf: `ip netns exec C` bind-mounts it over
        // /etc/resolv.conf for every command run in C.
        let etc = PathBuf::from(format!("/etc/netns/{c}"));
        fs::create_dir_all(&etc).unwrap_or_else(|e| panic!("lab: mkdir {}: {e}", etc.display()));
        self.etc_dirs.push(etc);
        self.set_resolv_conf(&[&format!("nameserver {GATEWAY_IP}")]);

        // Veths are created inside R with the peer moved straight into the
        // other namespace: nothing ever appears in the host namespace.
        ipn(&r, &["link", "add", "lan0", "type", "veth", "peer", "name", "eth0", "netns", &c]);
        ipn(&r, &["link", "add", "wan0", "type", "veth", "peer", "name", "eth0", "netns", &s]);

        // Router: bridge br0 (so more hosts can join the client segment).
        ipn(&r, &["link", "add", "br0", "type", "bridge"]);
        ipn(&r, &["link", "set", "lan0", "master", "br0"]);
        ipn(&r, &["addr", "add", &format!("{GATEWAY_IP}/24"), "dev", "br0"]);
        ipn(&r, &["addr", "add", &format!("{ROUTER_WAN_IP}/24"), "dev", "wan0"]);
        for ifname in ["lo", "br0", "lan0", "wan0"] {
            ipn(&r, &["link", "set", ifname, "up"]);
        }
        must(
            &["ip", "netns", "exec", &r, "sysctl", "-q", "-w", "net.ipv4.ip_forward=1"],
            "enable forwarding in router ns",
        );

        // Client.
        ipn(&c, &["link", "set", "lo", "up"]);
        ipn(&c, &["addr", "add", &format!("{CLIENT_IP}/24"), "dev", "eth0"]);
        ipn(&c, &["link", "set", "eth0", "up"]);
        ipn(&c, &["route", "add", "default", "via", GATEWAY_IP]);

        // Server.
        ipn(&s, &["link", "set", "lo", "up"]);
        ipn(&s, &["addr", "add", &format!("{SERVER_IP}/24"), "dev", "eth0"]);
        ipn(&s, &["link", "set", "eth0", "up"]);
        ipn(&s, &["route", "add", "default", "via", ROUTER_WAN_IP]);
    }

    /// Binds real TCP listeners on SERVER_IP inside the server namespace.
    /// A helper thread enters the namespace with setns(2), binds, and hands
    /// the sockets back; the kernel completes handshakes from the backlog,
    /// so nobody needs to accept.
    fn start_listeners(&mut self) {
        let mut ports: Vec<u16> = DEFAULT_SERVER_PORTS.to_vec();
        ports.extend(self.opts.extra_server_ports.iter().copied());
        let listeners = self.listen_in(&self.s.clone(), SERVER_IP, &ports);
        self.listeners.extend(listeners);
    }

    /// Binds TCP listeners on `ip:port` for each port inside namespace `ns`.
    /// They stay open until the lab is dropped.
    pub fn listen_in(&self, ns: &str, ip: &str, ports: &[u16]) -> Vec<TcpListener> {
        let path = format!("/run/netns/{ns}");
        let ip = ip.to_string();
        let ports = ports.to_vec();
        let handle = thread::spawn(move || -> Result<Vec<TcpListener>, String> {
            let f = File::open(&path).map_err(|e| format!("open {path}: {e}"))?;
            nix::sched::setns(&f, CloneFlags::CLONE_NEWNET).map_err(|e| format!("setns({path}): {e}"))?;
            ports
                .iter()
                .map(|p| TcpListener::bind((ip.as_str(), *p)).map_err(|e| format!("bind {ip}:{p} in {path}: {e}")))
                .collect()
        });
        match handle.join() {
            Ok(Ok(l)) => l,
            Ok(Err(e)) => panic!("lab: cannot start TCP listeners: {e}"),
            Err(_) => panic!("lab: listener thread panicked"),
        }
    }

    fn start_server_dnsmasq(&mut self) {
        let dir = self.tmp().join("dnsmasq-s");
        fs::create_dir_all(&dir).unwrap();
        let log = dir.join("dnsmasq.log");
        let conf = format!(
            "# nettriage lab: second resolver, DNS only, on {SERVER_IP}:53\n\
             listen-address={SERVER_IP}\n\
             bind-interfaces\n\
             port=53\n\
             no-dhcp-interface=eth0\n\
             user=root\n\
             group=root\n\
             local=/site.test/\n\
             host-record={WWW_NAME},{SERVER_IP}\n\
             host-record={APP_NAME},{SERVER_IP}\n\
             log-queries\n\
             log-facility={log}\n\
             pid-file={pid}\n",
            log = log.display(),
            pid = dir.join("dnsmasq.pid").display(),
        );
        let s = self.s.clone();
        self.spawn_dnsmasq("dnsmasq-s", &s, &dir, &conf, &log, SERVER_IP);
    }

    fn start_router_dnsmasq(&mut self) {
        let dir = self.tmp().join("dnsmasq-r");
        fs::create_dir_all(&dir).unwrap();
        let log = dir.join("dnsmasq.log");
        let zone = match self.opts.router_dns {
            RouterDns::Normal => format!(
                "local=/site.test/\n\
                 host-record={WWW_NAME},{SERVER_IP}\n\
                 host-record={APP_NAME},{SERVER_IP}\n\
                 txt-record={NOADDR_NAME},\"a name with no address\"\n"
            ),
            // See the doc comment of RouterDns::ServfailDnssec. The trust
            // anchors are made up; the upstream's answers are unsigned and
            // therefore BOGUS, which dnsmasq turns into SERVFAIL.
            RouterDns::ServfailDnssec => format!(
                "server=/site.test/{SERVER_IP}\n\
                 host-record={APP_NAME},{SERVER_IP}\n\
                 dnssec\n\
                 trust-anchor=.,20326,8,2,E06D44B80B8F1D39A95C0B0D7C65D08458E880409BBC683457104237C7F8EC8D\n\
                 trust-anchor=site.test,12345,8,2,0123456789ABCDEF0123456789ABCDEF0123456789ABCDEF0123456789ABCDEF\n"
            ),
            // See the doc comment of RouterDns::RefusedUnreachableUpstream.
            RouterDns::RefusedUnreachableUpstream => format!(
                "server=/site.test/{UNROUTED_IP}\n\
                 host-record={APP_NAME},{SERVER_IP}\n"
            ),
            // See the doc comment of RouterDns::HijackEverything: host
            // records win over the catch-all address.
            RouterDns::HijackEverything => format!(
                "address=/#/{HIJACK_IP}\n\
                 host-record={WWW_NAME},{SERVER_IP}\n\
                 host-record={APP_NAME},{SERVER_IP}\n"
            ),
        };
        let mut dhcp = String::new();
        if self.opts.router_dhcp {
            dhcp.push_str("dhcp-range=198.18.0.100,198.18.0.200,255.255.255.0,1h\n");
            if !self.opts.dhcp_ping_check {
                // Models servers that offer at once (the ISC and Windows
                // default). dnsmasq's own default pings a new address for
                // about 3 s first, which nettriage reports as dhcp.slow.
                dhcp.push_str("no-ping\n");
            }
            if self.opts.dhcp_authoritative {
                dhcp.push_str("dhcp-authoritative\n");
            }
            if self.opts.dhcp_reply_delay_s > 0 {
                dhcp.push_str(&format!("dhcp-reply-delay={}\n", self.opts.dhcp_reply_delay_s));
            }
        } else {
            // DNS only: nobody answers a DISCOVER.
            dhcp.push_str("no-dhcp-interface=br0\n");
        }
        let conf = format!(
            "# nettriage lab: router DNS + DHCP on br0\n\
             interface=br0\n\
             bind-interfaces\n\
             user=root\n\
             group=root\n\
             {dhcp}\
             dhcp-leasefile={leases}\n\
             {zone}\
             {extra}\
             log-queries\n\
             log-dhcp\n\
             log-facility={log}\n\
             pid-file={pid}\n",
            extra = self.opts.router_dnsmasq_extra.iter().map(|l| format!("{l}\n")).collect::<String>(),
            leases = dir.join("dnsmasq.leases").display(),
            log = log.display(),
            pid = dir.join("dnsmasq.pid").display(),
        );
        let r = self.r.clone();
        self.spawn_dnsmasq("dnsmasq-r", &r, &dir, &conf, &log, GATEWAY_IP);
    }

    /// Writes `conf` and starts dnsmasq in `ns` as a child of the test process
    /// (`ip netns exec` execs, so the child's PID is dnsmasq's); it is stopped
    /// in Drop. Callers wait for readiness their own way.
    fn launch_dnsmasq(&mut self, label: &str, ns: &str, dir: &Path, conf: &str, log: &Path) {
        let conf_path = dir.join("dnsmasq.conf");
        fs::write(&conf_path, conf).unwrap();
        let out = File::create(dir.join("stdout-stderr.txt")).unwrap();
        let child = lab_command("ip")
            .args(["netns", "exec", ns, "dnsmasq", "--keep-in-foreground", "--no-resolv", "--no-hosts"])
            .arg(format!("--conf-file={}", conf_path.display()))
            .stdin(Stdio::null())
            .stdout(out.try_clone().unwrap())
            .stderr(out)
            .spawn()
            .unwrap_or_else(|e| panic!("lab: cannot spawn dnsmasq ({label}): {e}"));
        self.daemons.push((label.to_string(), child, log.to_path_buf()));
    }

    /// Starts dnsmasq (see `launch_dnsmasq`) and waits, bounded, until it
    /// answers DNS on `addr`.
    fn spawn_dnsmasq(&mut self, label: &str, ns: &str, dir: &Path, conf: &str, log: &Path, addr: &str) {
        self.launch_dnsmasq(label, ns, dir, conf, log);

        // Readiness is polled from inside the namespace dnsmasq runs in, not
        // from the client: that keeps the client's neighbour cache cold, so
        // scenarios see a client that has not talked to anybody yet.
        let deadline = Instant::now() + DNSMASQ_READY_TIMEOUT;
        loop {
            if let Some(status) = self.daemons.last_mut().unwrap().1.try_wait().unwrap() {
                panic!(
                    "lab: dnsmasq ({label}) exited during startup with {status}\nconfig:\n{conf}\noutput:\n{}\nlog:\n{}",
                    read_lossy(&dir.join("stdout-stderr.txt")),
                    read_lossy(log)
                );
            }
            let o = run_cmd(
                &["ip", "netns", "exec", ns, "dig", "+time=1", "+tries=1", "+short", &format!("@{addr}"), APP_NAME],
                Duration::from_secs(3),
            );
            if o.as_ref().is_some_and(|o| o.status.success()) {
                return;
            }
            if Instant::now() >= deadline {
                panic!(
                    "lab: dnsmasq ({label}) did not answer on {addr}:53 within {DNSMASQ_READY_TIMEOUT:?}\nlog:\n{}",
                    read_lossy(log)
                );
            }
            thread::sleep(Duration::from_millis(50));
        }
    }

    // ----- extra hosts ------------------------------------------------------

    /// Adds another host on the client segment: namespace `{prefix}-{role}`
    /// with `eth0` (address `cidr`, e.g. "198.18.0.66/24") whose veth peer is
    /// enslaved to the router's br0. Returns the namespace name. The
    /// namespace is torn down with the lab.
    /// A namespace with nothing but loopback, torn down with the lab: a program run there
    /// (a browser, say) cannot reach any network at all.
    pub fn isolated_ns(&mut self, role: &str) -> String {
        let ns = format!("{}-{role}", self.prefix);
        self.add_ns(&ns);
        ipn(&ns, &["link", "set", "lo", "up"]);
        ns
    }

    pub fn add_lan_host(&mut self, role: &str, cidr: &str) -> String {
        let ns = format!("{}-{role}", self.prefix);
        let peer = format!("lan-{role}");
        assert!(peer.len() <= 15, "lab: role name too long for an interface name: {role}");
        self.add_ns(&ns);
        let r = self.r.clone();
        ipn(&r, &["link", "add", &peer, "type", "veth", "peer", "name", "eth0", "netns", &ns]);
        ipn(&r, &["link", "set", &peer, "master", "br0"]);
        ipn(&r, &["link", "set", &peer, "up"]);
        ipn(&ns, &["link", "set", "lo", "up"]);
        ipn(&ns, &["addr", "add", cidr, "dev", "eth0"]);
        ipn(&ns, &["link", "set", "eth0", "up"]);
        ns
    }

    /// Starts a daemon (any command) inside `ns` as a child of the test
    /// process; it is killed by PID and reaped when the lab is dropped.
    /// Its stdout+stderr go to `<tmp>/<label>.log`.
    pub fn spawn_in(&mut self, label: &str, ns: &str, argv: &[&str]) -> u32 {
        let log = self.tmp().join(format!("{label}.log"));
        let out = File::create(&log).unwrap();
        let child = lab_command("ip")
            .args(["netns", "exec", ns])
            .args(argv)
            .stdin(Stdio::null())
            .stdout(out.try_clone().unwrap())
            .stderr(out)
            .spawn()
            .unwrap_or_else(|e| panic!("lab: cannot spawn {label}: {e}"));
        let pid = child.id();
        self.daemons.push((label.to_string(), child, log));
        pid
    }

    /// Starts a second, DHCP-only dnsmasq (`port=0`) on `eth0` of the LAN host
    /// `ns` (see `add_lan_host`), serving `range` ("first,last") with
    /// `router` as option 3 and answering at once (`no-ping`). Waits,
    /// bounded, until it logged its DHCP range; killed with the lab.
    pub fn start_lan_dhcp_server(&mut self, label: &str, ns: &str, range: &str, router: &str) {
        let dir = self.tmp().join(label);
        fs::create_dir_all(&dir).unwrap();
        let log = dir.join("dnsmasq.log");
        let conf = format!(
            "# nettriage lab: an extra DHCP server on the client segment (no DNS)\n\
             port=0\n\
             interface=eth0\n\
             bind-interfaces\n\
             user=root\n\
             group=root\n\
             dhcp-range={range},255.255.255.0,1h\n\
             dhcp-option=3,{router}\n\
             no-ping\n\
             dhcp-leasefile={leases}\n\
             log-dhcp\n\
             log-facility={log}\n\
             pid-file={pid}\n",
            leases = dir.join("dnsmasq.leases").display(),
            log = log.display(),
            pid = dir.join("dnsmasq.pid").display(),
        );
        self.launch_dnsmasq(label, ns, &dir, &conf, &log);
        let deadline = Instant::now() + DNSMASQ_READY_TIMEOUT;
        loop {
            if let Some(status) = self.daemons.last_mut().unwrap().1.try_wait().unwrap() {
                panic!(
                    "lab: dnsmasq ({label}) exited during startup with {status}\nconfig:\n{conf}\noutput:\n{}\nlog:\n{}",
                    read_lossy(&dir.join("stdout-stderr.txt")),
                    read_lossy(&log)
                );
            }
            if read_lossy(&log).contains("DHCP, IP range") {
                return;
            }
            if Instant::now() >= deadline {
                panic!(
                    "lab: dnsmasq ({label}) did not start DHCP within {DNSMASQ_READY_TIMEOUT:?}\nlog:\n{}",
                    read_lossy(&log)
                );
            }
            thread::sleep(Duration::from_millis(20));
        }
    }

    /// Starts `tests/lab/hostile_dhcp.py` in the LAN host `ns`: it waits for
    /// the DHCPDISCOVER of `client_mac`, lets the real server's offer go
    /// first, then answers with malformed replies and a flood of `flood`
    /// valid offers from `src_ip`, and exits (after 10 s at the latest).
    /// Returns once the script listens (bounded); killed with the lab.
    pub fn start_hostile_dhcp(&mut self, ns: &str, client_mac: &str, src_ip: &str, flood: u32) {
        const LABEL: &str = "hostile-dhcp";
        if find_in_path("python3").is_none() {
            panic!(
                "lab: this scenario needs python3 (stdlib only) for tests/lab/hostile_dhcp.py \
                 (apt-get install -y --no-install-recommends python3-minimal)"
            );
        }
        let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/lab/hostile_dhcp.py");
        let flood = flood.to_string();
        let argv = [
            "python3",
            "-u",
            script,
            "--iface",
            "eth0",
            "--client-mac",
            client_mac,
            "--src-ip",
            src_ip,
            "--real-server",
            GATEWAY_IP,
            "--flood",
            &flood,
        ];
        self.spawn_in(LABEL, ns, &argv);
        let deadline = Instant::now() + Duration::from_secs(5);
        loop {
            if self.daemon_log(LABEL).lines().any(|l| l.starts_with("ready")) {
                return;
            }
            if let Some(status) = self.daemons.last_mut().unwrap().1.try_wait().unwrap() {
                panic!("lab: {LABEL} exited during startup with {status}:\n{}", self.daemon_log(LABEL));
            }
            if Instant::now() >= deadline {
                panic!("lab: {LABEL} did not get ready within 5 s:\n{}", self.daemon_log(LABEL));
            }
            thread::sleep(Duration::from_millis(20));
        }
    }

    /// Waits (bounded) until the daemon `label` has exited on its own; true if
    /// it did.
    pub fn wait_daemon_exit(&mut self, label: &str, timeout: Duration) -> bool {
        let deadline = Instant::now() + timeout;
        loop {
            let Some((_, child, _)) = self.daemons.iter_mut().find(|(l, _, _)| l == label) else {
                return false;
            };
            if let Ok(Some(_)) = child.try_wait() {
                return true;
            }
            if Instant::now() >= deadline {
                return false;
            }
            thread::sleep(Duration::from_millis(20));
        }
    }

    // ----- fault helpers ----------------------------------------------------

    /// Loads an nftables ruleset into namespace `ns` (`nft -f -`).
    pub fn nft(&self, ns: &str, ruleset: &str) {
        let o = run_cmd_stdin(&["ip", "netns", "exec", ns, "nft", "-f", "-"], ruleset, CMD_TIMEOUT)
            .unwrap_or_else(|| panic!("lab: nft timed out in {ns}"));
        if !o.status.success() {
            panic!("lab: nft -f failed in {ns}: {}\nruleset:\n{ruleset}", String::from_utf8_lossy(&o.stderr));
        }
    }

    pub fn link_down(&self, ns: &str, ifname: &str) {
        ipn(ns, &["link", "set", ifname, "down"]);
    }

    pub fn link_up(&self, ns: &str, ifname: &str) {
        ipn(ns, &["link", "set", ifname, "up"]);
    }

    /// Replaces the client's resolv.conf (one entry per line).
    pub fn set_resolv_conf(&self, lines: &[&str]) {
        let path = PathBuf::from(format!("/etc/netns/{}/resolv.conf", self.c));
        let mut text = lines.join("\n");
        if !text.is_empty() {
            text.push('\n');
        }
        fs::write(&path, text).unwrap_or_else(|e| panic!("lab: write {}: {e}", path.display()));
    }

    pub fn del_default_route(&self) {
        ipn(&self.c, &["route", "del", "default"]);
    }

    pub fn flush_client_addr(&self) {
        ipn(&self.c, &["-4", "addr", "flush", "dev", "eth0"]);
    }

    /// Replaces the client's address by CLIENT_IP/24 as a *dynamic* address
    /// (what a DHCP client installs: it has a lifetime of `lifetime_s`
    /// seconds) and restores the default route the flush removed.
    pub fn set_client_dynamic_addr(&self, lifetime_s: u32) {
        let lft = lifetime_s.to_string();
        self.flush_client_addr();
        let cidr = format!("{CLIENT_IP}/24");
        ipn(&self.c, &["addr", "add", &cidr, "dev", "eth0", "valid_lft", &lft, "preferred_lft", &lft]);
        ipn(&self.c, &["route", "replace", "default", "via", GATEWAY_IP]);
    }

    /// The MAC address of `ifname` in namespace `ns` ("aa:bb:cc:dd:ee:ff").
    pub fn mac_of(&self, ns: &str, ifname: &str) -> String {
        let o = must(&["ip", "-n", ns, "-o", "link", "show", "dev", ifname], "read a MAC address");
        let text = String::from_utf8_lossy(&o.stdout).into_owned();
        let mut words = text.split_whitespace();
        while let Some(w) = words.next() {
            if w == "link/ether"
                && let Some(mac) = words.next()
            {
                return mac.to_ascii_lowercase();
            }
        }
        panic!("lab: no link/ether address for {ifname} in {ns}: {text}");
    }

    /// The router dnsmasq's lease file (empty if it does not exist yet).
    pub fn router_leases(&self) -> String {
        read_lossy(&self.tmp().join("dnsmasq-r").join("dnsmasq.leases"))
    }

    /// Polls (bounded) a daemon's log until `ready` holds; returns the last
    /// log text read either way.
    pub fn wait_daemon_log(&self, label: &str, timeout: Duration, ready: impl Fn(&str) -> bool) -> String {
        let deadline = Instant::now() + timeout;
        loop {
            let log = self.daemon_log(label);
            if ready(&log) || Instant::now() >= deadline {
                return log;
            }
            thread::sleep(Duration::from_millis(50));
        }
    }

    /// Forgets the client's ARP entries (so the next packet to the gateway
    /// needs a fresh ARP resolution).
    pub fn flush_client_neigh(&self) {
        ipn(&self.c, &["neigh", "flush", "all"]);
    }

    /// Runs `ip -n <ns> <args>` and panics on failure.
    pub fn ip(&self, ns: &str, args: &[&str]) {
        ipn(ns, args);
    }

    /// Runs a command inside `ns` (bounded) and returns its output.
    pub fn exec(&self, ns: &str, argv: &[&str]) -> Output {
        let mut full = vec!["ip", "netns", "exec", ns];
        full.extend_from_slice(argv);
        run_cmd(&full, CMD_TIMEOUT).unwrap_or_else(|| panic!("lab: timed out: {full:?}"))
    }

    /// Asks `server` for `name` (A) with dig from the client namespace and
    /// returns the response code ("NOERROR", "SERVFAIL", ...) or "TIMEOUT".
    /// Used to verify that a DNS fault is really in place.
    pub fn dig_rcode(&self, server: &str, name: &str) -> String {
        let o = self.exec(&self.c, &["dig", "+time=2", "+tries=1", &format!("@{server}"), name, "A"]);
        let text = String::from_utf8_lossy(&o.stdout);
        for line in text.lines() {
            if let Some(i) = line.find("status: ") {
                let rest = &line[i + "status: ".len()..];
                return rest.split(',').next().unwrap_or("").trim().to_string();
            }
        }
        "TIMEOUT".to_string()
    }

    /// The log file of a lab daemon (e.g. "dnsmasq-r"), for debugging.
    pub fn daemon_log(&self, label: &str) -> String {
        self.daemons.iter().find(|(l, _, _)| l == label).map(|(_, _, p)| read_lossy(p)).unwrap_or_default()
    }

    // ----- running nettriage ------------------------------------------------

    /// Runs `nettriage run --interface eth0 --format json <args>` in the
    /// client namespace; returns (exit code, parsed stdout JSON, stderr).
    pub fn run_nettriage(&self, args: &[&str]) -> (i32, Value, String) {
        let mut full = vec!["run", "--interface", "eth0", "--format", "json"];
        full.extend_from_slice(args);
        let out = self.run_nettriage_raw(&[], &full);
        let json = parse_report(&out);
        (out.code, json, out.stderr)
    }

    /// Like `run_nettriage`, but without CAP_NET_RAW / CAP_NET_ADMIN: the
    /// binary is started through `setpriv`, which removes both from the
    /// bounding set (so root's exec does not regain them) and clears the
    /// inheritable set.
    pub fn run_nettriage_unprivileged(&self, args: &[&str]) -> (i32, Value, String) {
        let mut full = vec!["run", "--interface", "eth0", "--format", "json"];
        full.extend_from_slice(args);
        let out = self.run_nettriage_raw(&UNPRIV_WRAPPER, &full);
        let json = parse_report(&out);
        (out.code, json, out.stderr)
    }

    /// Runs `<wrapper...> nettriage <args>` in the client namespace exactly
    /// as given (no implicit arguments). Killed by PID after RUN_TIMEOUT.
    pub fn run_nettriage_raw(&self, wrapper: &[&str], args: &[&str]) -> RunOutput {
        self.run_nettriage_with(wrapper, args, None)
    }

    /// Like `run_nettriage_raw`, started in the working directory `cwd`.
    pub fn run_nettriage_in_dir(&self, cwd: &Path, args: &[&str]) -> RunOutput {
        self.run_nettriage_with(&[], args, Some(cwd))
    }

    fn run_nettriage_with(&self, wrapper: &[&str], args: &[&str], cwd: Option<&Path>) -> RunOutput {
        self.run_binary_with(&nettriage_bin(), wrapper, args, cwd)
    }

    /// Runs `<wrapper...> <bin> <args>` in the client namespace, like
    /// [`Lab::run_nettriage_raw`] but for another nettriage binary (the one the Debian
    /// package installed). Killed by PID after RUN_TIMEOUT.
    pub fn run_binary_with(&self, bin: &str, wrapper: &[&str], args: &[&str], cwd: Option<&Path>) -> RunOutput {
        let home = self.tmp().join("home");
        fs::create_dir_all(&home).unwrap();
        let mut cmd = lab_command("ip");
        cmd.args(["netns", "exec", &self.c]).args(wrapper).arg(bin).args(args);
        if let Some(dir) = cwd {
            cmd.current_dir(dir);
        }
        // Keep the run hermetic: no user config from the real $HOME.
        cmd.env("HOME", &home)
            .env("XDG_CONFIG_HOME", home.join(".config"))
            .env_remove("RUST_LOG")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let shown = format!("ip netns exec {} {} {} {}", self.c, wrapper.join(" "), bin, args.join(" "));
        let started = Instant::now();
        let mut child = cmd.spawn().unwrap_or_else(|e| panic!("lab: cannot spawn {shown}: {e}"));
        let (status, stdout, stderr) = wait_bounded(&mut child, RUN_TIMEOUT);
        let duration = started.elapsed();
        let stdout = String::from_utf8_lossy(&stdout).into_owned();
        let stderr = String::from_utf8_lossy(&stderr).into_owned();
        let Some(status) = status else {
            panic!(
                "[{}] nettriage did not finish within {RUN_TIMEOUT:?} and was killed.\ncommand: {shown}\n--- stdout ---\n{stdout}\n--- stderr ---\n{stderr}",
                self.test
            );
        };
        let code = status.code().unwrap_or_else(|| {
            panic!("[{}] nettriage died by a signal ({status}).\ncommand: {shown}\n--- stdout ---\n{stdout}\n--- stderr ---\n{stderr}", self.test)
        });
        // Shown by cargo test only when the test fails.
        eprintln!(
            "[{}] $ {shown}\n[{}] exit code {code} after {:.1}s\n--- stdout ---\n{stdout}\n--- stderr ---\n{stderr}\n--------------",
            self.test,
            self.test,
            duration.as_secs_f64()
        );
        RunOutput { code, stdout, stderr, duration }
    }
}

/// The command prefix that drops CAP_NET_RAW and CAP_NET_ADMIN.
pub const UNPRIV_WRAPPER: [&str; 4] = ["setpriv", "--inh-caps=-all", "--bounding-set=-net_raw,-net_admin", "--"];

impl Drop for Lab {
    fn drop(&mut self) {
        let panicking = thread::panicking();

        // 1. Daemons we started: SIGTERM, bounded wait, SIGKILL, reap.
        for (label, child, log) in self.daemons.iter_mut().rev() {
            if panicking {
                eprintln!("[{}] --- {label} log ({}) ---\n{}", self.test, log.display(), tail(&read_lossy(log), 60));
            }
            stop_child(child, label);
        }
        self.daemons.clear();

        // 2. Close our sockets (they keep the server namespace alive).
        self.listeners.clear();

        // 3. Safety net: anything still running inside our namespaces was
        //    started by this lab (e.g. a helper that outlived its timeout).
        for ns in &self.namespaces {
            kill_pids_in_ns(ns);
        }

        // 4. Namespaces (veths, bridge, routes and nft tables go with them).
        {
            let _g = NETNS_LOCK.lock().unwrap_or_else(|p| p.into_inner());
            for ns in self.namespaces.iter().rev() {
                match run_cmd(&["ip", "netns", "del", ns], CMD_TIMEOUT) {
                    Some(o) if o.status.success() => {}
                    Some(o) => eprintln!("lab: ip netns del {ns} failed: {}", String::from_utf8_lossy(&o.stderr)),
                    None => eprintln!("lab: ip netns del {ns} timed out"),
                }
            }
        }
        self.namespaces.clear();

        // 5. /etc/netns/<ns> dirs.
        for d in self.etc_dirs.drain(..) {
            if let Err(e) = fs::remove_dir_all(&d) {
                eprintln!("lab: cannot remove {}: {e}", d.display());
            }
        }

        // 6. Temp dir (unless asked to keep it for debugging).
        if let Some(t) = self.tmp.take()
            && std::env::var_os("NETTRIAGE_LAB_KEEP_TMP").is_some()
        {
            eprintln!("lab: keeping {}", t.keep().display());
        }
    }
}

// ---------------------------------------------------------------------------
// Report helpers
// ---------------------------------------------------------------------------

/// Prints a note on stderr (shown by cargo test for failing tests, or with
/// `--nocapture`): what a scenario observed beyond its assertions.
pub fn note(test: &str, msg: &str) {
    eprintln!("[{test}] {msg}");
}

/// Parses a run's stdout as JSON; panics with stdout and stderr otherwise.
pub fn parse_report(out: &RunOutput) -> Value {
    serde_json::from_str(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "nettriage stdout is not valid JSON ({e}); exit code {}\n--- stdout ---\n{}\n--- stderr ---\n{}",
            out.code, out.stdout, out.stderr
        )
    })
}

pub const CHECK_IDS: &[&str] = &[
    "link",
    "dhcp",
    "ipv6",
    "gateway",
    "dns",
    "wifi",
    "path",
    "web",
    "ports",
    "neighbours",
    "ad",
    "smb",
    "printers",
    "m365",
    "rdp",
];
pub const CHECK_STATUSES: &[&str] = &["pass", "warn", "fail", "skipped", "error"];

/// The check object with this id; panics (with the report) if absent.
pub fn check<'a>(report: &'a Value, id: &str) -> &'a Value {
    report["checks"]
        .as_array()
        .and_then(|a| a.iter().find(|c| c["id"] == id))
        .unwrap_or_else(|| panic!("report has no check with id {id:?}:\n{}", pretty(report)))
}

/// Status string of a check ("pass", "skipped", ...).
pub fn check_status<'a>(report: &'a Value, id: &str) -> &'a str {
    check(report, id)["status"]
        .as_str()
        .unwrap_or_else(|| panic!("check {id:?} has no string status:\n{}", pretty(report)))
}

/// Finding codes of one check.
pub fn codes(report: &Value, id: &str) -> Vec<String> {
    finding_codes(&check(report, id)["findings"])
}

/// Finding codes of the diagnosis.
pub fn diagnosis_codes(report: &Value) -> Vec<String> {
    finding_codes(&report["diagnosis"]["findings"])
}

fn finding_codes(findings: &Value) -> Vec<String> {
    findings
        .as_array()
        .map(|a| a.iter().filter_map(|f| f["code"].as_str().map(str::to_string)).collect())
        .unwrap_or_default()
}

/// diagnosis.root_cause.code, or None when root_cause is null/absent.
pub fn root_cause_code(report: &Value) -> Option<String> {
    report["diagnosis"]["root_cause"]["code"].as_str().map(str::to_string)
}

pub fn diagnosis_status(report: &Value) -> &str {
    report["diagnosis"]["status"].as_str().unwrap_or("<missing>")
}

pub fn pretty(v: &Value) -> String {
    serde_json::to_string_pretty(v).unwrap_or_else(|_| v.to_string())
}

/// Contract checks every report must pass, whatever the scenario:
/// schema_version "1", known check ids/statuses, and exit code ↔
/// diagnosis.status ↔ root_cause consistency.
/// The published schema, docs/report.schema.json, compiled once per test process.
fn report_schema() -> &'static jsonschema::Validator {
    static SCHEMA: std::sync::OnceLock<jsonschema::Validator> = std::sync::OnceLock::new();
    SCHEMA.get_or_init(|| {
        let schema: Value =
            serde_json::from_str(include_str!("../../docs/report.schema.json")).expect("schema is JSON");
        jsonschema::draft202012::new(&schema).expect("docs/report.schema.json compiles")
    })
}

pub fn assert_report_contract(code: i32, report: &Value) {
    let ctx = || format!("exit code {code}, report:\n{}", pretty(report));
    let errors: Vec<String> =
        report_schema().iter_errors(report).map(|e| format!("{}: {e}", e.instance_path())).collect();
    assert!(errors.is_empty(), "report does not match docs/report.schema.json: {errors:#?}; {}", ctx());
    assert_eq!(report["schema_version"], "1", "schema_version; {}", ctx());
    // The report reads back through the library's types and writes back unchanged.
    let typed: nettriage::report::Report = serde_json::from_value(report.clone())
        .unwrap_or_else(|e| panic!("report does not read as nettriage::report::Report: {e}; {}", ctx()));
    let again = serde_json::to_value(&typed).expect("a report serialises");
    assert_eq!(&again, report, "report changed through the typed model; {}", ctx());
    assert!(report["checks"].is_array(), "checks must be an array; {}", ctx());
    for c in report["checks"].as_array().unwrap() {
        let id = c["id"].as_str().unwrap_or("<none>");
        assert!(CHECK_IDS.contains(&id), "unknown check id {id:?}; {}", ctx());
        let st = c["status"].as_str().unwrap_or("<none>");
        assert!(CHECK_STATUSES.contains(&st), "check {id}: unknown status {st:?}; {}", ctx());
        assert!(c["findings"].is_array(), "check {id}: findings must be an array; {}", ctx());
        // This version gives every skip a code and nothing else one.
        let reason_code = c.get("reason_code");
        if st == "skipped" {
            assert!(reason_code.is_some_and(Value::is_string), "check {id}: skipped without reason_code; {}", ctx());
        } else {
            assert!(reason_code.is_none(), "check {id}: {st} with a reason_code; {}", ctx());
        }
    }
    let status = diagnosis_status(report);
    let expected = match code {
        0 => "healthy",
        1 => "degraded",
        2 => "broken",
        3 => "unknown",
        other => panic!("exit code {other} is not a diagnosis exit code; {}", ctx()),
    };
    assert_eq!(status, expected, "diagnosis.status must match the exit code; {}", ctx());
    if status == "healthy" || status == "unknown" {
        assert!(report["diagnosis"]["root_cause"].is_null(), "root_cause must be null when {status}; {}", ctx());
    } else {
        assert!(root_cause_code(report).is_some(), "root_cause.code must be set when not healthy; {}", ctx());
    }
}

// ---------------------------------------------------------------------------
// Environment checks and stale cleanup
// ---------------------------------------------------------------------------

/// True when lab tests are explicitly skipped: `NETTRIAGE_LAB=skip`, honoured
/// only when `CI` is not `true` (the same rule build.rs applies at build time).
pub fn skip_requested() -> bool {
    let skip = std::env::var("NETTRIAGE_LAB").is_ok_and(|v| v == "skip");
    let ci = std::env::var("CI").is_ok_and(|v| v == "true");
    skip && !ci
}

/// Fails the test, naming every missing program and its Debian package,
/// unless all of `tools` (program, package) are on the PATH. For scenarios
/// that need more than the base lab (which [`Lab::start`] checks itself).
pub fn require_tools(test: &str, tools: &[(&str, &str)]) {
    let missing: Vec<_> = tools.iter().filter(|(tool, _)| find_in_path(tool).is_none()).collect();
    if !missing.is_empty() {
        let names: Vec<&str> = missing.iter().map(|(tool, _)| *tool).collect();
        let packages: Vec<&str> = missing.iter().map(|(_, package)| *package).collect();
        panic!(
            "lab test {test} cannot run: missing {names:?} (apt-get install -y --no-install-recommends {})",
            packages.join(" ")
        );
    }
}

/// Path of the nettriage binary built by cargo for this test run.
pub fn nettriage_bin() -> String {
    option_env!("CARGO_BIN_EXE_nettriage")
        .unwrap_or_else(|| {
            panic!(
                "CARGO_BIN_EXE_nettriage is not set: the crate has no `nettriage` binary target \
                 (src/main.rs) yet, so the lab has nothing to run"
            )
        })
        .to_string()
}

fn euid() -> Option<u32> {
    let status = fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("Uid:"))?;
    line.split_whitespace().nth(2)?.parse().ok()
}

/// Fails `test` loudly, naming what is missing, when the machine cannot run the lab.
fn preflight(test: &str) {
    static DONE: Mutex<bool> = Mutex::new(false);
    let mut done = DONE.lock().unwrap_or_else(|p| p.into_inner());
    if *done {
        return;
    }
    let hint = "the lab needs root and: iproute2 dnsmasq-base nftables dnsutils util-linux procps \
                (apt-get install -y --no-install-recommends dnsmasq-base nftables iproute2 dnsutils util-linux procps); \
                or build and run with NETTRIAGE_LAB=skip (outside CI) to mark lab tests ignored";
    match euid() {
        Some(0) => {}
        Some(u) => panic!("lab test {test} cannot run: lab tests must run as root (euid is {u}); {hint}"),
        None => panic!("lab test {test} cannot run: cannot determine euid from /proc/self/status; {hint}"),
    }
    let mut missing = Vec::new();
    for tool in ["ip", "dnsmasq", "nft", "dig", "setpriv", "sysctl"] {
        if find_in_path(tool).is_none() {
            missing.push(tool);
        }
    }
    if !missing.is_empty() {
        panic!("lab test {test} cannot run: missing tools {missing:?}; {hint}");
    }
    if !Path::new("/etc/resolv.conf").exists() {
        panic!(
            "lab: /etc/resolv.conf does not exist, so `ip netns exec` cannot bind the client's \
             resolv.conf over it (the lab never writes the host's file)"
        );
    }
    *done = true;
}

fn find_in_path(tool: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH").unwrap_or_default();
    let mut dirs: Vec<PathBuf> = std::env::split_paths(&path).collect();
    // `ip`, `nft`, `dnsmasq`, `sysctl` live in sbin dirs that a non-login
    // PATH may lack; `ip netns exec` finds them the same way.
    for d in ["/usr/sbin", "/sbin", "/usr/bin", "/bin"] {
        dirs.push(PathBuf::from(d));
    }
    dirs.into_iter().map(|d| d.join(tool)).find(|p| p.is_file())
}

/// Removes namespaces (and their processes, /etc/netns dirs and temp dirs)
/// left by a previous test process that died: names `ntl{pid}x...` whose pid
/// no longer exists. Nothing else is touched.
pub fn cleanup_stale() {
    let _g = NETNS_LOCK.lock().unwrap_or_else(|p| p.into_inner());
    let Ok(entries) = fs::read_dir("/run/netns") else {
        return;
    };
    let me = std::process::id();
    for e in entries.flatten() {
        let name = e.file_name().to_string_lossy().into_owned();
        let Some(pid) = stale_owner_pid(&name) else {
            continue;
        };
        if pid == me || Path::new(&format!("/proc/{pid}")).exists() {
            continue;
        }
        eprintln!("lab: removing stale namespace {name} (owner pid {pid} is gone)");
        kill_pids_in_ns(&name);
        let _ = run_cmd(&["ip", "netns", "del", &name], CMD_TIMEOUT);
        let _ = fs::remove_dir_all(format!("/etc/netns/{name}"));
    }
    // Stale temp dirs: <tmp>/ntl{pid}x{n}-XXXX of dead pids.
    if let Ok(entries) = fs::read_dir(std::env::temp_dir()) {
        for e in entries.flatten() {
            let name = e.file_name().to_string_lossy().into_owned();
            let Some(pid) = stale_owner_pid(&name) else {
                continue;
            };
            if pid != me && !Path::new(&format!("/proc/{pid}")).exists() && e.path().is_dir() {
                let _ = fs::remove_dir_all(e.path());
            }
        }
    }
}

/// `ntl{pid}x{n}-...` → pid.
fn stale_owner_pid(name: &str) -> Option<u32> {
    let rest = name.strip_prefix(NS_PREFIX)?;
    let (pid, rest) = rest.split_once('x')?;
    let (n, _) = rest.split_once('-')?;
    if pid.is_empty() || n.is_empty() || !n.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    pid.parse().ok()
}

/// SIGKILLs, by PID, every process inside namespace `ns` (only ever called
/// for the lab's own namespaces, where only the lab starts processes).
fn kill_pids_in_ns(ns: &str) {
    let Some(o) = run_cmd(&["ip", "netns", "pids", ns], CMD_TIMEOUT) else {
        return;
    };
    for pid in String::from_utf8_lossy(&o.stdout).split_whitespace() {
        if let Ok(p) = pid.parse::<i32>()
            && p > 1
            && p as u32 != std::process::id()
        {
            eprintln!("lab: killing leftover pid {p} in namespace {ns}");
            let _ = kill(Pid::from_raw(p), Signal::SIGKILL);
        }
    }
}

// ---------------------------------------------------------------------------
// Process helpers (all bounded)
// ---------------------------------------------------------------------------

/// `ip -n <ns> <args>`; panics with stderr on failure.
fn ipn(ns: &str, args: &[&str]) {
    let mut full = vec!["ip", "-n", ns];
    full.extend_from_slice(args);
    must(&full, "lab setup");
}

fn must(argv: &[&str], what: &str) -> Output {
    let o = run_cmd(argv, CMD_TIMEOUT).unwrap_or_else(|| panic!("lab: {what}: timed out: {argv:?}"));
    if !o.status.success() {
        panic!(
            "lab: {what}: `{}` failed ({}): {}{}",
            argv.join(" "),
            o.status,
            String::from_utf8_lossy(&o.stderr),
            String::from_utf8_lossy(&o.stdout)
        );
    }
    o
}

/// Runs a command with a hard timeout; None if it had to be killed.
/// Waits up to `timeout` for `child` (polling every 20 ms); past it the child is killed
/// and reaped, and the test fails saying it did not `what` in time.
pub fn wait_or_kill(child: &mut Child, timeout: Duration, what: &str) -> ExitStatus {
    let started = Instant::now();
    loop {
        if let Some(status) = child.try_wait().expect("wait for a child") {
            return status;
        }
        if started.elapsed() >= timeout {
            let _ = child.kill();
            let _ = child.wait();
            panic!("{what} within {timeout:?}");
        }
        thread::sleep(Duration::from_millis(20));
    }
}

pub fn run_cmd(argv: &[&str], timeout: Duration) -> Option<Output> {
    run_cmd_stdin(argv, "", timeout)
}

fn run_cmd_stdin(argv: &[&str], input: &str, timeout: Duration) -> Option<Output> {
    let mut child = lab_command(argv[0])
        .args(&argv[1..])
        .stdin(if input.is_empty() { Stdio::null() } else { Stdio::piped() })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("lab: cannot run {argv:?}: {e}"));
    if !input.is_empty() {
        let mut stdin = child.stdin.take().unwrap();
        let input = input.to_string();
        // Small inputs; a thread avoids any chance of a pipe deadlock.
        thread::spawn(move || {
            let _ = stdin.write_all(input.as_bytes());
        });
    }
    let (status, stdout, stderr) = wait_bounded(&mut child, timeout);
    status.map(|status| Output { status, stdout, stderr })
}

/// Collects stdout/stderr and waits for `child` at most `timeout`; on
/// timeout kills it (by its PID), reaps it and returns `None` as status.
fn wait_bounded(child: &mut Child, timeout: Duration) -> (Option<ExitStatus>, Vec<u8>, Vec<u8>) {
    let out_reader = child.stdout.take().map(|mut s| {
        thread::spawn(move || {
            let mut b = Vec::new();
            let _ = s.read_to_end(&mut b);
            b
        })
    });
    let err_reader = child.stderr.take().map(|mut s| {
        thread::spawn(move || {
            let mut b = Vec::new();
            let _ = s.read_to_end(&mut b);
            b
        })
    });
    let deadline = Instant::now() + timeout;
    let status = loop {
        match child.try_wait() {
            Ok(Some(st)) => break Some(st),
            Ok(None) if Instant::now() < deadline => thread::sleep(Duration::from_millis(10)),
            Ok(None) | Err(_) => {
                let _ = child.kill();
                let _ = child.wait();
                break None;
            }
        }
    };
    // The child is gone; its pipes close unless it left grandchildren
    // holding them, so the readers are joined with a bound too.
    let join = |h: Option<thread::JoinHandle<Vec<u8>>>| -> Vec<u8> {
        let Some(h) = h else { return Vec::new() };
        let until = Instant::now() + Duration::from_secs(5);
        while !h.is_finished() && Instant::now() < until {
            thread::sleep(Duration::from_millis(10));
        }
        if h.is_finished() { h.join().unwrap_or_default() } else { b"<output reader still blocked>".to_vec() }
    };
    (status, join(out_reader), join(err_reader))
}

/// A `Command` for `program` that gets SIGKILL if the thread that spawned
/// it dies: it is started as `setpriv --pdeathsig KILL -- program ...`
/// (setpriv sets PR_SET_PDEATHSIG and execs; the setting survives the
/// execs of `ip netns exec`, so the PID stays the real program's). This is a
/// safety net for a test process killed hard (e.g. by a CI timeout): its
/// dnsmasq instances and nettriage runs die with it instead of lingering.
/// (The crate denies unsafe code, so no pre_exec/prctl here.) Since the
/// signal follows the spawning *thread*, a Lab must be dropped on the thread
/// that built it, the normal case for a #[test].
fn lab_command(program: &str) -> Command {
    let mut cmd = Command::new("setpriv");
    cmd.args(["--pdeathsig", "KILL", "--", program]);
    cmd
}

/// SIGTERM, wait up to 2 s, then SIGKILL; always reaps.
fn stop_child(child: &mut Child, label: &str) {
    if let Ok(Some(_)) = child.try_wait() {
        return;
    }
    let _ = kill(Pid::from_raw(child.id() as i32), Signal::SIGTERM);
    let deadline = Instant::now() + Duration::from_secs(2);
    while Instant::now() < deadline {
        if let Ok(Some(_)) = child.try_wait() {
            return;
        }
        thread::sleep(Duration::from_millis(10));
    }
    eprintln!("lab: {label} ignored SIGTERM; killing pid {}", child.id());
    let _ = child.kill();
    let _ = child.wait();
}

fn read_lossy(p: &Path) -> String {
    fs::read(p).map(|b| String::from_utf8_lossy(&b).into_owned()).unwrap_or_default()
}

fn tail(s: &str, n: usize) -> String {
    let lines: Vec<&str> = s.lines().collect();
    lines[lines.len().saturating_sub(n)..].join("\n")
}

// ---------------------------------------------------------------------------
// Assertions that print the whole report on failure
// ---------------------------------------------------------------------------

pub fn assert_exit(code: i32, expected: i32, report: &Value) {
    assert_eq!(code, expected, "exit code; report:\n{}", pretty(report));
}

pub fn assert_check_status(report: &Value, id: &str, expected: &str) {
    let got = check_status(report, id);
    assert_eq!(
        got,
        expected,
        "check {id:?} status: expected {expected:?}, got {got:?}; check:\n{}\nfull report:\n{}",
        pretty(check(report, id)),
        pretty(report)
    );
}

/// Asserts the check is "skipped" and blocked by `by` (any non-null check id
/// when `by` is None).
pub fn assert_skipped_blocked(report: &Value, id: &str, by: Option<&str>) {
    assert_check_status(report, id, "skipped");
    // The runner's `blocked`, or the ports check's own skip when no target name resolved.
    let reason_code = &check(report, id)["reason_code"];
    assert!(
        reason_code == "blocked" || (id == "ports" && reason_code == "no_resolved_target"),
        "check {id:?}: reason_code should be \"blocked\", got {reason_code}; full report:\n{}",
        pretty(report)
    );
    let blocked = &check(report, id)["blocked_by"];
    match by {
        Some(by) => {
            assert_eq!(blocked, by, "check {id:?}: blocked_by should be {by:?}; full report:\n{}", pretty(report))
        }
        None => assert!(
            blocked.as_str().is_some_and(|b| CHECK_IDS.contains(&b)),
            "check {id:?}: blocked_by should be a check id, got {blocked}; full report:\n{}",
            pretty(report)
        ),
    }
}

pub fn assert_has_code(report: &Value, id: &str, code: &str) {
    let got = codes(report, id);
    assert!(
        got.iter().any(|c| c == code),
        "check {id:?}: expected finding {code:?}, got {got:?}; full report:\n{}",
        pretty(report)
    );
}

pub fn assert_root_cause(report: &Value, code: &str) {
    let got = root_cause_code(report);
    assert_eq!(got.as_deref(), Some(code), "diagnosis.root_cause.code; full report:\n{}", pretty(report));
}

impl Lab {
    /// Adds `lines` (`ADDRESS NAME...`) to the client's /etc/hosts: `ip netns exec` bind-mounts
    /// `/etc/netns/<client>/hosts` over /etc/hosts, so glibc's resolver (`files` before
    /// `dns`) answers these names for nettriage's runs, e.g. a public-looking name
    /// (`www.example.com`) for the lab server, which the lab must never look up for real.
    pub fn set_client_hosts(&self, lines: &[&str]) {
        let path = PathBuf::from(format!("/etc/netns/{}/hosts", self.c));
        let mut text = String::from("127.0.0.1 localhost\n::1 localhost\n");
        for line in lines {
            text.push_str(line);
            text.push('\n');
        }
        fs::write(&path, text).unwrap_or_else(|e| panic!("lab: write {}: {e}", path.display()));
    }
}
