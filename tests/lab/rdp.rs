//! Remote desktop peers for the `rdp` profile's scenarios: Debian's xrdp 0.9.21 in the
//! server namespace (`xrdp --nodaemon --config FILE`, its own xrdp.ini, certificate, key
//! and log in the lab's temp dir; no pid file is written without a fork), and the hostile
//! peer `tests/lab/hostile_rdp.py`. Also the profile's config file and its typed evidence
//! from a report. Declared from `tests/lab_rdp.rs`.

#![allow(dead_code)]

use std::path::PathBuf;
use std::time::{Duration, Instant};

use nettriage::check::rdp::RdpEvidence;
use serde_json::Value;

use crate::lab::{self, Lab, SERVER_IP};

/// The certificate's common name.
pub const CERT_CN: &str = "rdp.site.test";
/// The first port of the hostile peer's cases (one port per case, in the script's order).
pub const HOSTILE_PORT: u16 = 4001;
/// The hostile peer's cases, in port order (`tests/lab/hostile_rdp.py`'s `CASES`).
pub const HOSTILE_CASES: [&str; 8] =
    ["garbage", "truncated", "huge", "silent", "bad_neg", "disconnect", "flood", "reset"];

/// xrdp's `security_layer`.
#[derive(Debug, Clone, Copy)]
pub enum Layer {
    /// `negotiate`: TLS when the client offers it and a certificate is there.
    Negotiate,
    /// `tls`: TLS only.
    Tls,
    /// `rdp`: standard RDP security only.
    Rdp,
}

/// Fails the test naming the packages when xrdp, openssl or python3 is missing.
pub fn require(test: &str) {
    lab::require_tools(test, &[("xrdp", "xrdp"), ("openssl", "openssl"), ("python3", "python3")]);
}

/// A self-signed certificate and key for the lab's RDP hosts in its temp dir
/// (`CN=rdp.site.test`), made once per lab.
pub fn make_certificate(lab: &Lab) -> (PathBuf, PathBuf) {
    let (cert, key) = (lab.tmp().join("rdp-cert.pem"), lab.tmp().join("rdp-key.pem"));
    if cert.exists() && key.exists() {
        return (cert, key);
    }
    let subject = format!("/CN={CERT_CN}");
    let argv = [
        "openssl",
        "req",
        "-x509",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-days",
        "30",
        "-subj",
        &subject,
        "-keyout",
        key.to_str().unwrap(),
        "-out",
        cert.to_str().unwrap(),
    ];
    let out = lab::run_cmd(&argv, Duration::from_secs(30)).expect("openssl timed out");
    assert!(out.status.success(), "openssl req failed: {}", String::from_utf8_lossy(&out.stderr));
    (cert, key)
}

/// Starts xrdp in the server namespace on `SERVER_IP:port` with `layer`; with
/// `certificate` false its certificate path names a file that does not exist. Waits
/// (bounded) until it listens; it is stopped by PID with the lab.
pub fn start_xrdp(lab: &mut Lab, label: &str, port: u16, layer: Layer, certificate: bool) -> u32 {
    let (cert, key) = make_certificate(lab);
    let cert = if certificate { cert } else { lab.tmp().join("no-such-cert.pem") };
    let layer = match layer {
        Layer::Negotiate => "negotiate",
        Layer::Tls => "tls",
        Layer::Rdp => "rdp",
    };
    let ini = format!(
        "[Globals]\nini_version=1\nfork=false\nport=tcp://{SERVER_IP}:{port}\nuse_vsock=false\n\
         tcp_nodelay=true\nsecurity_layer={layer}\ncrypt_level=high\ncertificate={}\nkey_file={}\n\
         ssl_protocols=TLSv1.2, TLSv1.3\nautorun=\nallow_channels=true\n\n\
         [Logging]\nLogFile={}\nLogLevel=INFO\nEnableSyslog=false\nEnableConsole=true\nConsoleLevel=INFO\n",
        cert.display(),
        key.display(),
        lab.tmp().join(format!("{label}-xrdp.log")).display(),
    );
    let path = lab.tmp().join(format!("{label}.ini"));
    std::fs::write(&path, ini).unwrap();
    let s = lab.s.clone();
    let pid = lab.spawn_in(label, &s, &["xrdp", "--nodaemon", "--config", path.to_str().unwrap()]);
    // xrdp's console output is block-buffered into the daemon log; its own log file is
    // written line by line.
    let log_file = lab.tmp().join(format!("{label}-xrdp.log"));
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let log = std::fs::read_to_string(&log_file).unwrap_or_default();
        if log.contains("listening to port") {
            return pid;
        }
        assert!(Instant::now() < deadline, "xrdp did not start:\n{log}\n{}", lab.daemon_log(label));
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// Starts `tests/lab/hostile_rdp.py` in the server namespace on [`HOSTILE_PORT`] and the
/// ports after it; waits (bounded) until it listens.
pub fn start_hostile(lab: &mut Lab) {
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/lab/hostile_rdp.py");
    let s = lab.s.clone();
    let port = HOSTILE_PORT.to_string();
    lab.spawn_in("hostile-rdp", &s, &["python3", "-u", script, "--bind", SERVER_IP, "--port", &port]);
    let log = lab.wait_daemon_log("hostile-rdp", Duration::from_secs(5), |l| l.contains("ready"));
    assert!(log.contains("ready"), "hostile_rdp.py did not start:\n{log}");
}

/// Starts `tests/lab/rdp_nla_peer.py` (a host that selects CredSSP; with `enforce`, one
/// that refuses a client offering TLS alone) in the server namespace on `port`; waits
/// (bounded) until it listens.
pub fn start_nla_peer(lab: &mut Lab, label: &str, port: u16, enforce: bool) {
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/lab/rdp_nla_peer.py");
    let (cert, key) = make_certificate(lab);
    let s = lab.s.clone();
    let port = port.to_string();
    let mut argv = vec!["python3", "-u", script, "--bind", SERVER_IP, "--port", &port];
    argv.extend(["--cert", cert.to_str().unwrap(), "--key", key.to_str().unwrap()]);
    if enforce {
        argv.push("--enforce");
    }
    lab.spawn_in(label, &s, &argv);
    let log = lab.wait_daemon_log(label, Duration::from_secs(5), |l| l.contains("ready"));
    assert!(log.contains("ready"), "rdp_nla_peer.py did not start:\n{log}");
}

/// Writes a config file with `[profiles.rdp]` (`hosts`, `require_nla`, `timeout_ms`) and
/// returns its path.
pub fn config(lab: &Lab, name: &str, hosts: &[String], require_nla: bool, timeout_ms: u64) -> String {
    let hosts: Vec<String> = hosts.iter().map(|h| format!("{h:?}")).collect();
    let text = format!(
        "[profiles.rdp]\nhosts = [{}]\nrequire_nla = {require_nla}\ntimeout_ms = {timeout_ms}\n",
        hosts.join(", ")
    );
    let path = lab.tmp().join(name);
    std::fs::write(&path, text).unwrap();
    path.to_str().unwrap().to_string()
}

/// The rdp check's evidence, typed.
pub fn evidence(report: &Value) -> RdpEvidence {
    let check = lab::check(report, "rdp");
    serde_json::from_value(check["evidence"].clone())
        .unwrap_or_else(|e| panic!("rdp evidence does not read ({e}): {}", lab::pretty(check)))
}
