//! Web peers for the lab tests: a lab CA and its certificates made with `openssl` at test
//! time, nginx started in the server namespace with a given configuration, and the `web`
//! check's evidence in a report. Shared by `tests/lab_web.rs` and the other web-layer test
//! files (through `mod lab;`).

use std::fs;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use serde_json::Value;

use super::{Lab, check};

/// Runs openssl with `args` in `dir`, panicking with its output when it fails.
pub fn openssl(dir: &Path, args: &[&str]) {
    let out = std::process::Command::new("openssl")
        .current_dir(dir)
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("cannot run openssl: {e}"));
    assert!(out.status.success(), "openssl {args:?} failed: {}", String::from_utf8_lossy(&out.stderr));
}

/// A lab CA made with `openssl` in `dir/<name>/`: `ca.pem`, and leaves signed by it.
pub struct Ca {
    pub dir: PathBuf,
}

impl Ca {
    pub fn new(parent: &Path, name: &str) -> Ca {
        let dir = parent.join(name);
        fs::create_dir_all(&dir).unwrap();
        let d = dir.display();
        fs::write(
            dir.join("openssl.cnf"),
            format!(
                "[req]\ndistinguished_name = dn\n[dn]\n\
                 [v3_ca]\nbasicConstraints = critical,CA:TRUE\nkeyUsage = critical,keyCertSign,cRLSign\n\
                 subjectKeyIdentifier = hash\n\
                 [ca]\ndefault_ca = lab\n\
                 [lab]\ndatabase = {d}/index.txt\nnew_certs_dir = {d}\nserial = {d}/serial\n\
                 default_md = sha256\npolicy = anything\nunique_subject = no\ncopy_extensions = none\n\
                 [anything]\ncommonName = supplied\n"
            ),
        )
        .unwrap();
        fs::write(dir.join("index.txt"), "").unwrap();
        fs::write(dir.join("serial"), "1000\n").unwrap();
        let subject = format!("/CN=nettriage lab {name}");
        openssl(
            &dir,
            &[
                "req",
                "-x509",
                "-config",
                "openssl.cnf",
                "-extensions",
                "v3_ca",
                "-newkey",
                "ec",
                "-pkeyopt",
                "ec_paramgen_curve:P-256",
                "-nodes",
                "-keyout",
                "ca.key",
                "-out",
                "ca.pem",
                "-days",
                "30",
                "-subj",
                &subject,
            ],
        );
        Ca { dir }
    }

    pub fn pem(&self) -> PathBuf {
        self.dir.join("ca.pem")
    }

    /// A server certificate for `san` (a DNS name), valid from `start` to `end`
    /// (`YYYYMMDDHHMMSSZ`; `None`: from now, for 30 days). Returns (cert, key) paths.
    pub fn leaf(&self, file: &str, san: &str, dates: Option<(&str, &str)>) -> (PathBuf, PathBuf) {
        let ext = self.dir.join(format!("{file}.ext"));
        fs::write(
            &ext,
            format!(
                "[leaf]\nbasicConstraints = critical,CA:FALSE\nkeyUsage = critical,digitalSignature\n\
                 extendedKeyUsage = serverAuth\nsubjectAltName = DNS:{san}\n"
            ),
        )
        .unwrap();
        let (key, csr, cert) = (format!("{file}.key"), format!("{file}.csr"), format!("{file}.pem"));
        openssl(
            &self.dir,
            &[
                "req",
                "-new",
                "-config",
                "openssl.cnf",
                "-newkey",
                "ec",
                "-pkeyopt",
                "ec_paramgen_curve:P-256",
                "-nodes",
                "-keyout",
                &key,
                "-out",
                &csr,
                "-subj",
                &format!("/CN={san}"),
            ],
        );
        let mut args = vec![
            "ca",
            "-batch",
            "-notext",
            "-config",
            "openssl.cnf",
            "-cert",
            "ca.pem",
            "-keyfile",
            "ca.key",
            "-in",
            &csr,
            "-out",
            &cert,
            "-extfile",
            ext.to_str().unwrap(),
            "-extensions",
            "leaf",
        ];
        match dates {
            Some((start, end)) => args.extend(["-startdate", start, "-enddate", end]),
            None => args.extend(["-days", "30"]),
        }
        openssl(&self.dir, &args);
        (self.dir.join(cert), self.dir.join(key))
    }
}

/// Starts nginx in the server namespace with `servers` (nginx `server { ... }` blocks) as
/// its whole http configuration, in the foreground, one process, its pid file, logs and
/// temp files in the lab's temp dir. The lab kills it by PID. Waits, bounded, for its pid
/// file (written once it listens).
pub fn start_nginx(lab: &mut Lab, label: &str, servers: &str) {
    let dir = lab.tmp().join(label);
    fs::create_dir_all(&dir).unwrap();
    let d = dir.display();
    let conf = dir.join("nginx.conf");
    fs::write(
        &conf,
        format!(
            "daemon off;\nmaster_process off;\nworker_processes 1;\npid {d}/nginx.pid;\n\
             error_log {d}/error.log warn;\nevents {{ worker_connections 64; }}\n\
             http {{\n  access_log off;\n  default_type text/plain;\n  client_body_temp_path {d}/body;\n\
             {servers}\n}}\n"
        ),
    )
    .unwrap();
    let s = lab.s.clone();
    let prefix = format!("{d}/");
    let err = format!("{d}/error.log");
    lab.spawn_in(label, &s, &["nginx", "-p", &prefix, "-e", &err, "-c", conf.to_str().unwrap()]);
    let started = Instant::now();
    while !dir.join("nginx.pid").exists() {
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "nginx {label} did not start: {}\n{}",
            lab.daemon_log(label),
            fs::read_to_string(dir.join("error.log")).unwrap_or_default()
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

pub fn web(report: &Value) -> &Value {
    &check(report, "web")["evidence"]
}

/// A certificate validity from `start_s` to `end_s` seconds from now, in the
/// `YYYYMMDDHHMMSSZ` form `Ca::leaf` takes.
pub fn validity_from_now(start_s: i64, end_s: i64) -> (String, String) {
    let at = |offset: i64| {
        let now = std::time::SystemTime::now();
        let t = if offset >= 0 {
            now + Duration::from_secs(offset.unsigned_abs())
        } else {
            now - Duration::from_secs(offset.unsigned_abs())
        };
        // RFC 3339 `2026-11-30T09:00:00Z` -> `20261130090000Z`.
        humantime::format_rfc3339_seconds(t).to_string().replace(['-', 'T', ':'], "")
    };
    (at(start_s), at(end_s))
}

/// Starts a small python3 HTTP responder in the server namespace on `ip:port`: every GET
/// answers 200 `ok` after `delay_ms`, with a `Date` header `date_offset_s` seconds off the
/// real clock (nginx cannot change its `Date`). Waits, bounded, until it listens.
pub fn start_python_http(lab: &mut Lab, label: &str, ip: &str, port: u16, date_offset_s: i64, delay_ms: u64) {
    let script = format!(
        "import http.server, time\n\
         class H(http.server.BaseHTTPRequestHandler):\n\
         \x20   def date_time_string(self, timestamp=None):\n\
         \x20       return http.server.BaseHTTPRequestHandler.date_time_string(self, time.time() + ({date_offset_s}))\n\
         \x20   def do_GET(self):\n\
         \x20       time.sleep({delay_ms} / 1000)\n\
         \x20       body = b'ok\\n'\n\
         \x20       self.send_response(200)\n\
         \x20       self.send_header('Content-Length', str(len(body)))\n\
         \x20       self.end_headers()\n\
         \x20       self.wfile.write(body)\n\
         \x20   def log_message(self, *args):\n\
         \x20       pass\n\
         s = http.server.HTTPServer(('{ip}', {port}), H)\n\
         print('ready', flush=True)\n\
         s.serve_forever()\n"
    );
    let s = lab.s.clone();
    lab.spawn_in(label, &s, &["python3", "-c", &script]);
    let log = lab.tmp().join(format!("{label}.log"));
    let start = Instant::now();
    while !fs::read_to_string(&log).is_ok_and(|t| t.contains("ready")) {
        assert!(start.elapsed() < Duration::from_secs(10), "{label} did not start: {:?}", fs::read_to_string(&log));
        std::thread::sleep(Duration::from_millis(50));
    }
}
