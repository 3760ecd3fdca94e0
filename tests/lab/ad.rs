//! Lab helpers for the `ad` profile's scenarios (tests/lab_ad.rs): a real Samba Active
//! Directory domain controller on the client's segment, the DNS records of a DC whose
//! services are down, and a hostile "DC" answering garbage on 88 and 389.
//!
//! The DC is a LAN host (`add_lan_host`, 198.18.0.20) provisioned with
//! `samba-tool domain provision` into the lab's temp dir (a few seconds, so once per lab)
//! and run in the foreground (`samba -i -M single`) as a lab daemon, ended by PID with the
//! lab. Its DNS (SAMBA_INTERNAL) serves the domain's SRV records and forwards everything
//! else to the lab router's dnsmasq only; every directory it writes is under the temp dir.

#![allow(dead_code)]

use std::fs;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use crate::lab::{self, GATEWAY_IP, Lab};

/// The DC's address on the client segment.
pub const DC_IP: &str = "198.18.0.20";
/// The AD DNS domain.
pub const DOMAIN: &str = "corp.lab";
/// Its Kerberos realm.
pub const REALM: &str = "CORP.LAB";
/// The DC's host name.
pub const DC_HOST: &str = "dc1";
/// The DC's full name.
pub const DC_FQDN: &str = "dc1.corp.lab";

/// A provisioned (not yet started) DC.
pub struct Dc {
    /// Its namespace.
    pub ns: String,
    /// The provision's target dir.
    pub dir: PathBuf,
    /// Its smb.conf.
    pub conf: PathBuf,
}

/// Adds the DC's LAN host to the lab.
pub fn add_dc_host(lab: &mut Lab) -> String {
    let ns = lab.add_lan_host("dc", &format!("{DC_IP}/24"));
    lab.ip(&ns, &["route", "add", "default", "via", GATEWAY_IP]);
    ns
}

/// Provisions the domain into `<tmp>/samba` inside the DC's namespace.
pub fn provision(lab: &mut Lab) -> Dc {
    lab::require_tools(&lab.test, &[("samba-tool", "samba"), ("samba", "samba-ad-dc")]);
    let ns = add_dc_host(lab);
    let dir = lab.tmp().join("samba");
    let run = dir.join("run");
    fs::create_dir_all(&run).unwrap();
    let opt = |k: &str, v: &str| format!("--option={k}={v}");
    let d = dir.display().to_string();
    let r = run.display().to_string();
    let options = [
        opt("interfaces", "lo eth0"),
        opt("bind interfaces only", "yes"),
        opt("dns forwarder", GATEWAY_IP),
        opt("pid directory", &r),
        opt("ncalrpc dir", &format!("{r}/ncalrpc")),
        opt("winbindd socket directory", &format!("{r}/winbindd")),
        opt("ntp signd socket directory", &format!("{r}/ntp_signd")),
        opt("log file", &format!("{d}/log.%m")),
        opt("load printers", "no"),
        opt("printing", "bsd"),
        opt("printcap name", "/dev/null"),
        opt("disable spoolss", "yes"),
        opt("server services", "-nbt -wrepl -drepl -kcc -winbindd -ntp_signd -dnsupdate -cldap"),
        opt("panic action", ""),
    ];
    let mut argv: Vec<String> = [
        "samba-tool",
        "domain",
        "provision",
        "--realm",
        REALM,
        "--domain",
        "CORP",
        "--server-role",
        "dc",
        "--dns-backend",
        "SAMBA_INTERNAL",
        "--host-name",
        DC_HOST,
        "--host-ip",
        DC_IP,
        "--adminpass",
        "Lab-Admin-Pass-123!",
    ]
    .iter()
    .map(ToString::to_string)
    .collect();
    argv.push(format!("--targetdir={d}"));
    argv.extend(options);
    let mut full: Vec<&str> = vec!["ip", "netns", "exec", &ns];
    full.extend(argv.iter().map(String::as_str));
    let out = lab::run_cmd(&full, Duration::from_secs(120)).expect("samba-tool domain provision timed out");
    assert!(
        out.status.success(),
        "samba-tool domain provision failed: {}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    let conf = dir.join("etc/smb.conf");
    assert!(conf.exists(), "provision wrote no smb.conf");
    Dc { ns, dir, conf }
}

/// Starts the DC (`samba -i -M single`), under `faketime` when `fake` is given (e.g.
/// `+7m`: the DC's clock seven minutes ahead, the host clock untouched), and waits until
/// its DNS, Kerberos and LDAP listen (bounded).
pub fn start(lab: &mut Lab, dc: &Dc, fake: Option<&str>) -> u32 {
    let conf = dc.conf.display().to_string();
    let mut argv: Vec<&str> = Vec::new();
    if let Some(offset) = fake {
        lab::require_tools(&lab.test, &[("faketime", "faketime")]);
        argv.extend(["faketime", "-f", offset]);
    }
    argv.extend(["samba", "-i", "-M", "single", "--debug-stdout", "-d", "1", "-s", &conf]);
    let pid = lab.spawn_in("samba", &dc.ns, &argv);
    wait_listening(lab, &dc.ns, &["tcp:389", "tcp:88", "udp:88", "udp:53", "tcp:445"]);
    pid
}

/// Waits (at most 90 s) until `ns` listens on every `proto:port`.
pub fn wait_listening(lab: &Lab, ns: &str, wanted: &[&str]) {
    let start = Instant::now();
    loop {
        let tcp = String::from_utf8_lossy(&lab.exec(ns, &["ss", "-Hltn"]).stdout).into_owned();
        let udp = String::from_utf8_lossy(&lab.exec(ns, &["ss", "-Hlun"]).stdout).into_owned();
        let listening = |w: &&str| {
            let (proto, port) = w.split_once(':').unwrap();
            let table = if proto == "tcp" { &tcp } else { &udp };
            table.lines().any(|l| l.split_whitespace().nth(3).is_some_and(|a| a.ends_with(&format!(":{port}"))))
        };
        if wanted.iter().all(listening) {
            return;
        }
        assert!(
            start.elapsed() < Duration::from_secs(90),
            "the DC does not listen on {:?} after 90 s; samba log:\n{}",
            wanted.iter().filter(|w| !listening(w)).collect::<Vec<_>>(),
            lab.daemon_log("samba")
        );
        std::thread::sleep(Duration::from_millis(300));
    }
}

/// dnsmasq lines for the router: the domain's DC records pointing at [`DC_IP`] (for the
/// scenarios without a running Samba: a DC that is down, a hostile DC).
pub fn router_dc_records() -> Vec<String> {
    vec![
        format!("local=/{DOMAIN}/"),
        format!("host-record={DC_FQDN},{DC_IP}"),
        format!("srv-host=_ldap._tcp.dc._msdcs.{DOMAIN},{DC_FQDN},389,0,100"),
        format!("srv-host=_kerberos._tcp.{DOMAIN},{DC_FQDN},88,0,100"),
        format!("srv-host=_gc._tcp.{DOMAIN},{DC_FQDN},3268,0,100"),
    ]
}

/// A config file giving the domain and a short timeout; returns its path.
pub fn config(lab: &Lab, extra: &str) -> String {
    let path = lab.tmp().join("ad.toml");
    fs::write(&path, format!("[profiles.ad]\ndomain = \"{DOMAIN}\"\ntimeout_ms = 1500\n{extra}")).unwrap();
    path.display().to_string()
}

/// A hostile DC: garbage on TCP 88, 389, 445, 636, 3268 and UDP 88 (python3), from the
/// DC's LAN host.
pub fn start_hostile(lab: &mut Lab) -> String {
    lab::require_tools(&lab.test, &[("python3", "python3")]);
    let ns = add_dc_host(lab);
    let script = r#"
import os, socket, threading
junk = [b"\x30\x84\xff\xff\xff\xff\x02\x01", b"\x00\x00\x00\x08\x7e\x06\x30\x04\xa6\x02\x02\x01",
        os.urandom(512), b"\x30\x80" * 2000, b"\x7e\x81"]
def tcp(port):
    s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind(("0.0.0.0", port)); s.listen(64); n = 0
    while True:
        c, _ = s.accept()
        try:
            c.settimeout(1); c.recv(4096); c.sendall(junk[n % len(junk)])
        except OSError:
            pass
        c.close(); n += 1
def udp(port):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.bind(("0.0.0.0", port)); n = 0
    while True:
        _, a = s.recvfrom(4096); s.sendto(junk[n % len(junk)], a); n += 1
for p in (88, 389, 445, 636, 3268):
    threading.Thread(target=tcp, args=(p,), daemon=True).start()
threading.Thread(target=udp, args=(88,), daemon=True).start()
print("ready", flush=True)
threading.Event().wait()
"#;
    lab.spawn_in("hostile-dc", &ns, &["python3", "-u", "-c", script]);
    lab.wait_daemon_log("hostile-dc", Duration::from_secs(10), |l| l.contains("ready"));
    ns
}
