//! Microsoft 365 peers for the `m365` profile's lab tests (`tests/lab_m365.rs`): the
//! endpoint names of the profile's defaults pointed at the lab's server through the router's
//! dnsmasq (`host-record`), nginx serving each name over HTTPS with a certificate of the lab
//! CA (or of a second, "inspection" CA, as a TLS-inspecting proxy would), coturn
//! (`turnserver --stun-only`) answering STUN on the server's UDP 3478 as the Teams media
//! relay, and the `[profiles.m365]` config file the runs use. Daemons run only in the lab's
//! server namespace, their state in the lab's temp dir, killed by PID with the lab.

#![allow(dead_code)]
// Says on stderr what it could not clean up (cargo test shows it for failing tests).
#![allow(clippy::print_stderr)]

use std::fs;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::lab::web::{Ca, start_nginx};
use crate::lab::{Lab, LabOptions, SERVER_IP, WWW_NAME, check, parse_report};

/// A second address of the server: the sign-in endpoint lives there alone, so one
/// category can be blocked without the others.
pub const LOGIN_IP: &str = "198.18.1.3";
/// The tenant of the lab's config (`contoso.sharepoint.com`).
pub const TENANT: &str = "contoso";
/// The Teams media relay of the profile's defaults.
pub const RELAY: &str = "worldaz.tr.teams.microsoft.com";

/// Every name the profile asks with the lab's config, and the address the lab's DNS gives.
pub const NAMES: [(&str, &str); 7] = [
    ("outlook.office365.com", SERVER_IP),
    ("outlook.office.com", SERVER_IP),
    ("contoso.sharepoint.com", SERVER_IP),
    ("contoso-my.sharepoint.com", SERVER_IP),
    ("teams.microsoft.com", SERVER_IP),
    ("login.microsoftonline.com", LOGIN_IP),
    (RELAY, SERVER_IP),
];

/// The tools these tests need besides the lab's own.
pub const TOOLS: &[(&str, &str)] = &[("nginx", "nginx-light"), ("openssl", "openssl"), ("turnserver", "coturn")];

/// Lab options: the router's dnsmasq answers the Microsoft 365 names with lab addresses.
pub fn options() -> LabOptions {
    LabOptions {
        router_dnsmasq_extra: NAMES.iter().map(|(name, ip)| format!("host-record={name},{ip}")).collect(),
        ..LabOptions::default()
    }
}

/// A lab with the Microsoft 365 peers running.
pub struct M365Lab {
    pub lab: Lab,
    /// The lab CA, the one `public_ca_file` names: Microsoft's public chain in the lab.
    pub ca: Ca,
    /// The inspecting proxy's CA: trusted through `--ca-file` but not public.
    pub inspection: Ca,
    /// `--ca-file`: both CAs.
    pub ca_file: PathBuf,
    /// `--config`: `[profiles.m365]` with the tenant, the public CA and a short timeout.
    pub config: PathBuf,
    /// `/etc/netns/<server>` when [`M365Lab::set_server_hosts`] made it.
    server_etc: Option<PathBuf>,
}

impl Drop for M365Lab {
    fn drop(&mut self) {
        if let Some(dir) = self.server_etc.take()
            && let Err(e) = fs::remove_dir_all(&dir)
        {
            eprintln!("m365 lab: cannot remove {}: {e}", dir.display());
        }
    }
}

impl M365Lab {
    /// Builds the lab; the names in `inspected` get a certificate of the inspection CA.
    pub fn start(test: &str, inspected: &[&str]) -> M365Lab {
        let mut lab = Lab::start_with(test, options());
        let s = lab.s.clone();
        lab.ip(&s, &["addr", "add", &format!("{LOGIN_IP}/24"), "dev", "eth0"]);
        let ca = Ca::new(lab.tmp(), "ca");
        let inspection = Ca::new(lab.tmp(), "inspection");
        let mut servers = String::new();
        for (name, _) in NAMES.iter().filter(|(n, _)| *n != RELAY) {
            let issuer = if inspected.contains(name) { &inspection } else { &ca };
            let (cert, key) = issuer.leaf(name, name, None);
            servers.push_str(&format!(
                "server {{ listen 443 ssl; server_name {name}; ssl_certificate {}; ssl_certificate_key {};\n\
                   location / {{ return 200 \"{name}\\n\"; }} }}\n",
                cert.display(),
                key.display()
            ));
        }
        start_nginx(&mut lab, "nginx-m365", &servers);
        start_relay(&mut lab);
        let ca_file = lab.tmp().join("both-cas.pem");
        fs::write(&ca_file, fs::read_to_string(ca.pem()).unwrap() + &fs::read_to_string(inspection.pem()).unwrap())
            .unwrap();
        let config = lab.tmp().join("m365.toml");
        fs::write(
            &config,
            format!(
                "[profiles.m365]\ntimeout_ms = 1500\ntenant = \"{TENANT}\"\npublic_ca_file = \"{}\"\n",
                ca.pem().display()
            ),
        )
        .unwrap();
        M365Lab { lab, ca, inspection, ca_file, config, server_etc: None }
    }

    /// Gives the server namespace an /etc/hosts with the Microsoft 365 names (`ip netns
    /// exec` bind-mounts `/etc/netns/<ns>/hosts` over /etc/hosts), so a proxy running there
    /// resolves them from the file and never asks a resolver. Removed with this lab.
    pub fn set_server_hosts(&mut self) {
        let dir = PathBuf::from(format!("/etc/netns/{}", self.lab.s));
        fs::create_dir_all(&dir).unwrap_or_else(|e| panic!("mkdir {}: {e}", dir.display()));
        self.server_etc = Some(dir.clone());
        let mut text = String::from("127.0.0.1 localhost\n::1 localhost\n");
        for (name, ip) in NAMES {
            text.push_str(&format!("{ip} {name}\n"));
        }
        fs::write(dir.join("hosts"), text).unwrap();
    }

    /// Runs `nettriage run --dns-name www.site.test --profile m365 --config FILE --ca-file BOTH <extra>` in the client.
    pub fn run(&self, extra: &[&str]) -> (i32, Value, String) {
        self.run_with_env(&[], extra)
    }

    /// [`M365Lab::run`] under `env VARS...` (e.g. `HTTPS_PROXY=...`).
    pub fn run_with_env(&self, vars: &[String], extra: &[&str]) -> (i32, Value, String) {
        let (config, ca_file) = (self.config.display().to_string(), self.ca_file.display().to_string());
        let mut args = vec!["run", "--interface", "eth0", "--format", "json", "--dns-name", WWW_NAME];
        args.extend(["--profile", "m365", "--config", config.as_str(), "--ca-file", ca_file.as_str()]);
        args.extend_from_slice(extra);
        let mut wrapper = vec!["env"];
        wrapper.extend(vars.iter().map(String::as_str));
        let out = self.lab.run_nettriage_raw(&wrapper, &args);
        let report = parse_report(&out);
        (out.code, report, out.stderr)
    }
}

/// Starts coturn as a STUN-only server on the server's UDP 3478 (and its RFC 5780
/// alternative port 3479), no TLS/DTLS, no CLI, its log and pid file in the lab's temp
/// dir; waits (bounded) until it logs its UDP listener.
fn start_relay(lab: &mut Lab) {
    let dir = lab.tmp().join("turnserver");
    fs::create_dir_all(&dir).unwrap();
    let pid = dir.join("turnserver.pid").display().to_string();
    let log_file = dir.join("turn.log");
    let log_path = log_file.display().to_string();
    let s = lab.s.clone();
    // Its own configuration file: Debian's /etc/turnserver.conf (syslog, no RFC 5780) is
    // not read.
    let conf = dir.join("turnserver.conf");
    let db = dir.join("turndb").display().to_string();
    fs::write(
        &conf,
        format!(
            "stun-only\nlistening-ip={SERVER_IP}\nlistening-port=3478\nno-tls\nno-dtls\nno-cli\n\
             min-port=49152\nmax-port=49160\nuserdb={db}\nverbose\nlog-file={log_path}\nsimple-log\nno-stdout-log\npidfile={pid}\n"
        ),
    )
    .unwrap();
    let conf = conf.display().to_string();
    lab.spawn_in("turnserver", &s, &["turnserver", "-c", &conf]);
    let started = Instant::now();
    let opened = |log: &str| log.contains("UDP listener opened") || log.contains("UDP listener");
    loop {
        let log = fs::read_to_string(&log_file).unwrap_or_default();
        if opened(&log) {
            break;
        }
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "turnserver did not open its UDP listener:\n{log}\n{}\n{:?}",
            lab.daemon_log("turnserver"),
            fs::read_dir(&dir).map(|d| d.flatten().map(|e| e.file_name()).collect::<Vec<_>>())
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// The `m365` check's evidence in a report.
pub fn evidence(report: &Value) -> &Value {
    &check(report, "m365")["evidence"]
}
