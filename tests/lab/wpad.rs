//! Proxy peers for the web layer's lab tests, shared by `tests/lab_proxy.rs` and
//! `tests/lab_wpad.rs`: tinyproxy in the server namespace (its own config, pid file and log
//! in the lab's temp dir, killed by PID with the lab), nginx as the origin with the
//! connectivity endpoint and an HTTPS server (a lab CA), nftables in the router dropping the
//! client's direct web traffic, and the run and evidence helpers those tests use.

use std::fs;
use std::time::{Duration, Instant};

use serde_json::Value;

use super::web::{Ca, start_nginx, web};
use super::{Lab, SERVER_IP, WWW_NAME, parse_report};

pub const TOOLS: &[(&str, &str)] = &[("nginx", "nginx-light"), ("openssl", "openssl"), ("tinyproxy", "tinyproxy")];
pub const CHECK_BODY: &str = "NetworkManager is online";
pub const PROXY_PORT: u16 = 8888;

/// Starts tinyproxy in the server namespace on `SERVER_IP:PROXY_PORT`, in the foreground
/// (`-d`), allowing the lab's addresses and `CONNECT` to 443; with `auth`, `BasicAuth user
/// password`. Waits, bounded, until it accepts connections.
pub fn start_tinyproxy(lab: &mut Lab, auth: Option<(&str, &str)>) {
    let dir = lab.tmp().join("tinyproxy");
    fs::create_dir_all(&dir).unwrap();
    let d = dir.display();
    let auth = auth.map(|(u, p)| format!("BasicAuth {u} {p}\n")).unwrap_or_default();
    let conf = dir.join("tinyproxy.conf");
    fs::write(
        &conf,
        format!(
            "Port {PROXY_PORT}\nListen {SERVER_IP}\nTimeout 10\nMaxClients 16\nLogLevel Info\n\
             PidFile \"{d}/tinyproxy.pid\"\nAllow 198.18.0.0/15\nConnectPort 443\nDisableViaHeader Yes\n{auth}"
        ),
    )
    .unwrap();
    let s = lab.s.clone();
    lab.spawn_in("tinyproxy", &s, &["tinyproxy", "-d", "-c", conf.to_str().unwrap()]);
    let started = Instant::now();
    loop {
        let probe = lab.exec(&s, &["bash", "-c", &format!("exec 3<>/dev/tcp/{SERVER_IP}/{PROXY_PORT}")]);
        if probe.status.success() {
            break;
        }
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "tinyproxy did not start: {}",
            lab.daemon_log("tinyproxy")
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// nginx as the origin: the connectivity endpoint on port 80, HTTPS on 443 with a lab-CA
/// certificate for `SERVER_IP`, and `extra` server blocks. Returns the CA file.
pub fn start_origin(lab: &mut Lab, extra: &str) -> std::path::PathBuf {
    let ca = Ca::new(lab.tmp(), "ca");
    // The SAN line is `DNS:www.site.test,IP:198.18.1.2`: valid for the origin's address.
    let (cert, key) = ca.leaf("origin", &format!("{WWW_NAME},IP:{SERVER_IP}"), None);
    start_nginx(
        lab,
        "nginx-origin",
        &format!(
            "server {{ listen {SERVER_IP}:80; location = /check {{ return 200 \"{CHECK_BODY}\\n\"; }} }}\n\
             server {{ listen {SERVER_IP}:443 ssl; ssl_certificate {}; ssl_certificate_key {};\n\
               location / {{ return 200 \"hello\\n\"; }} }}\n{extra}",
            cert.display(),
            key.display()
        ),
    );
    ca.pem()
}

/// The router drops the client's direct traffic to the origin's web ports: only the proxy
/// (another port) gets through.
pub fn drop_direct_web(lab: &Lab) {
    let r = lab.r.clone();
    lab.nft(
        &r,
        "table inet nettriage_noweb {\n  chain forward {\n    type filter hook forward priority filter;\n\
             ip saddr 198.18.0.0/24 tcp dport { 80, 443 } drop\n  }\n}\n",
    );
}

/// Runs `env VARS... nettriage run --format json ARGS` in the client namespace.
pub fn run_with_env(lab: &Lab, vars: &[String], args: &[&str]) -> (i32, Value, String, String) {
    let mut wrapper = vec!["env"];
    wrapper.extend(vars.iter().map(String::as_str));
    let mut full = vec!["run", "--interface", "eth0", "--format", "json", "--dns-name", WWW_NAME];
    full.extend_from_slice(args);
    let out = lab.run_nettriage_raw(&wrapper, &full);
    let report = parse_report(&out);
    (out.code, report, out.stdout, out.stderr)
}

pub fn urls() -> (String, String) {
    (format!("http://{SERVER_IP}/check"), format!("https://{SERVER_IP}/"))
}

pub fn proxy_url() -> String {
    format!("http://{SERVER_IP}:{PROXY_PORT}")
}

/// Every hop of every probe, connectivity first.
pub fn hops(r: &Value) -> Vec<Value> {
    let ev = web(r);
    let mut probes: Vec<&Value> =
        ev["connectivity"]["probe"].as_object().map(|_| &ev["connectivity"]["probe"]).into_iter().collect();
    probes.extend(ev["targets"].as_array().into_iter().flatten());
    probes.iter().flat_map(|p| p["hops"].as_array().cloned().unwrap_or_default()).collect()
}

/// The port of the TLS front of tinyproxy ([`start_tls_proxy`]).
pub const TLS_PROXY_PORT: u16 = 8443;

/// An `https://` proxy: socat in the server namespace terminates TLS on
/// `SERVER_IP:TLS_PROXY_PORT` with a certificate of its own CA (for `proxy.site.test` and
/// `SERVER_IP`) and hands the bytes to tinyproxy (which must be started too). Returns that
/// CA's file. Waits, bounded, until it accepts connections.
pub fn start_tls_proxy(lab: &mut Lab) -> std::path::PathBuf {
    let ca = Ca::new(lab.tmp(), "proxyca");
    let (cert, key) = ca.leaf("proxy", &format!("proxy.site.test,IP:{SERVER_IP}"), None);
    let listen = format!(
        "OPENSSL-LISTEN:{TLS_PROXY_PORT},bind={SERVER_IP},reuseaddr,fork,cert={},key={},verify=0",
        cert.display(),
        key.display()
    );
    let s = lab.s.clone();
    lab.spawn_in("socat-tls-proxy", &s, &["socat", &listen, &format!("TCP:{SERVER_IP}:{PROXY_PORT}")]);
    let started = Instant::now();
    loop {
        let probe = lab.exec(&s, &["bash", "-c", &format!("exec 3<>/dev/tcp/{SERVER_IP}/{TLS_PROXY_PORT}")]);
        if probe.status.success() {
            break;
        }
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "socat did not start: {}",
            lab.daemon_log("socat-tls-proxy")
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    ca.pem()
}
