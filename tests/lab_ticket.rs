//! End-to-end scenarios of the ticket hand-off by email: a real SMTP server (Debian's
//! python3-aiosmtpd, `tests/lab/ticket_smtp.py`) in the lab's server namespace receives
//! what the real binary in the client namespace sends with `run --ticket`, `selftest
//! --ticket`, `ticket REPORT.json` and `ticket flush`, and what the next `run` or `survey`
//! run delivers from the outbox. The received message is parsed with Python's `email`
//! module and its attachments compared byte for byte with the report files the run wrote.
//! The outbox is tested across an outage (nftables in the server namespace refusing the
//! SMTP port, then the rule removed) and across a process killed by SIGKILL in the middle
//! of a delivery: nothing is lost and the mailbox holds each report exactly once.
//!
//! Needs what the lab needs plus python3-aiosmtpd and openssl (the lab CA for STARTTLS).
//! Assertions are on exit codes, files, the received messages' headers and bytes, never on
//! the binary's message text.

mod lab;

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use lab::web::Ca;
use lab::{Lab, RunOutput, SERVER_IP, WWW_NAME, pretty};
use serde_json::Value;

/// Debian's python, which has python3-aiosmtpd (a python3 earlier on the PATH may not).
const PYTHON: &str = "/usr/bin/python3";
const SMTP_PORT: u16 = 2525;
const TOOLS: &[(&str, &str)] = &[("openssl", "openssl")];
const TARGET_OK: &str = "198.18.1.2:8080";

/// Fails (does not skip) when aiosmtpd is missing, naming the package.
fn require_aiosmtpd(test: &str) {
    lab::require_tools(test, TOOLS);
    let ok = Command::new(PYTHON).args(["-c", "import aiosmtpd"]).output().is_ok_and(|o| o.status.success());
    assert!(
        ok,
        "lab test {test} cannot run: {PYTHON} has no aiosmtpd (apt-get install -y --no-install-recommends python3-aiosmtpd)"
    );
}

/// The SMTP server's mailbox and how it was started.
struct Smtp {
    maildir: PathBuf,
}

impl Smtp {
    /// Starts the server in the server namespace; with `tls`, STARTTLS (a certificate for
    /// WWW_NAME from `ca`) and AUTH as `user` with the password in `password_file` are
    /// required. Waits, bounded, until it listens.
    fn start(lab: &mut Lab, label: &str, tls: Option<(&Ca, &str, &Path)>) -> Smtp {
        let maildir = lab.tmp().join(format!("{label}-maildir"));
        fs::create_dir_all(&maildir).unwrap();
        let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/lab/ticket_smtp.py");
        let port = SMTP_PORT.to_string();
        let mut argv: Vec<String> = [
            PYTHON,
            "-u",
            script.to_str().unwrap(),
            "--listen",
            SERVER_IP,
            "--port",
            &port,
            "--maildir",
            maildir.to_str().unwrap(),
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        if let Some((ca, user, password_file)) = tls {
            let (cert, key) = ca.leaf("smtp", WWW_NAME, None);
            for (flag, value) in [
                ("--cert", cert.to_str().unwrap()),
                ("--key", key.to_str().unwrap()),
                ("--user", user),
                ("--password-file", password_file.to_str().unwrap()),
            ] {
                argv.push(flag.into());
                argv.push(value.into());
            }
        }
        let s = lab.s.clone();
        let argv: Vec<&str> = argv.iter().map(String::as_str).collect();
        lab.spawn_in(label, &s, &argv);
        let log = lab.tmp().join(format!("{label}.log"));
        let start = Instant::now();
        while !fs::read_to_string(&log).is_ok_and(|t| t.contains("ready")) {
            assert!(start.elapsed() < Duration::from_secs(15), "{label} did not start: {:?}", fs::read_to_string(&log));
            std::thread::sleep(Duration::from_millis(50));
        }
        Smtp { maildir }
    }

    /// The messages received, oldest first.
    fn messages(&self) -> Vec<PathBuf> {
        let mut files: Vec<PathBuf> = fs::read_dir(&self.maildir)
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| p.extension().is_some_and(|e| e == "eml"))
            .collect();
        files.sort();
        files
    }
}

/// One received message, parsed by Python's `email` module: headers, the text body, and
/// each attachment's bytes written to `dir/NAME`.
fn parse_message(eml: &Path, dir: &Path) -> Value {
    fs::create_dir_all(dir).unwrap();
    let script = r#"
import email, json, os, sys
from email import policy
msg = email.message_from_binary_file(open(sys.argv[1], 'rb'), policy=policy.default)
out = {'subject': str(msg['subject']), 'message_id': str(msg['message-id']), 'to': str(msg['to']),
       'content_type': msg.get_content_type(), 'attachments': []}
for part in msg.iter_attachments():
    name = part.get_filename()
    data = part.get_payload(decode=True)
    with open(os.path.join(sys.argv[2], os.path.basename(name)), 'wb') as f:
        f.write(data)
    out['attachments'].append({'name': name, 'content_type': part.get_content_type(), 'bytes': len(data)})
out['body'] = msg.get_body(('plain',)).get_content()
print(json.dumps(out))
"#;
    let o = Command::new(PYTHON).args(["-c", script, eml.to_str().unwrap(), dir.to_str().unwrap()]).output().unwrap();
    assert!(o.status.success(), "cannot parse {}: {}", eml.display(), String::from_utf8_lossy(&o.stderr));
    serde_json::from_slice(&o.stdout).unwrap()
}

/// Writes the lab's config file: `[ticket]` by SMTP to the lab server, the outbox in the
/// lab's temp dir (never the host's state directory).
fn write_config(lab: &Lab, smtp_extra: &str, timeout_ms: u64) -> (PathBuf, PathBuf) {
    let outbox = lab.tmp().join("outbox");
    let config = lab.tmp().join("config.toml");
    fs::write(
        &config,
        format!(
            // A survey's runs wait for the switch (none in the lab) up to window_secs.
            "[neighbours]\nwindow_secs = 1\n\n[ticket]\nsystem = \"smtp\"\noutbox = \"{}\"\ntimeout_ms = {timeout_ms}\n\n[ticket.smtp]\n\
             server = \"{WWW_NAME}\"\nport = {SMTP_PORT}\nfrom = \"nettriage@site.test\"\nto = [\"help@site.test\"]\n{smtp_extra}",
            outbox.display()
        ),
    )
    .unwrap();
    (config, outbox)
}

/// `run --ticket` style arguments: JSON on stdout, the lab's target and name.
fn run_args<'a>(config: &'a str, extra: &[&'a str]) -> Vec<&'a str> {
    let mut args =
        vec!["run", "--interface", "eth0", "--format", "json", "--target", TARGET_OK, "--dns-name", WWW_NAME];
    args.extend_from_slice(&["--config", config]);
    args.extend_from_slice(extra);
    args
}

fn report_of(out: &RunOutput) -> Value {
    lab::parse_report(out)
}

/// The outbox's entries (directories named by key; `sent` and hidden ones excluded).
fn queued(outbox: &Path) -> Vec<String> {
    let Ok(read) = fs::read_dir(outbox) else { return vec![] };
    let mut keys: Vec<String> = read
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n != "sent" && !n.starts_with('.'))
        .collect();
    keys.sort();
    keys
}

fn entry_state(outbox: &Path, key: &str) -> String {
    let meta: Value = serde_json::from_slice(&fs::read(outbox.join(key).join("ticket.json")).unwrap()).unwrap();
    meta["state"].as_str().unwrap_or_default().to_string()
}

/// The SMTP port refused (TCP reset) or silently dropped in the server namespace.
fn block_smtp(lab: &Lab, verdict: &str) {
    lab.nft(
        &lab.s,
        &format!(
            "flush ruleset\ntable inet ticketlab {{\n  chain input {{\n    type filter hook input priority 0;\n    \
             tcp dport {SMTP_PORT} {verdict}\n  }}\n}}\n"
        ),
    );
}

fn unblock_smtp(lab: &Lab) {
    lab.nft(&lab.s, "flush ruleset\n");
}

/// A report emailed by `run --ticket` over STARTTLS (lab CA) with AUTH (password from a
/// 0600 file): the server receives one multipart/mixed message whose HTML attachment is
/// byte for byte the report file the run wrote, whose JSON attachment is the report on
/// stdout, with the report's id in the Message-ID and the status in the subject. The same
/// report is not emailed twice; a password file readable by others is a configuration
/// error (exit 3) that keeps the ticket marked failed until `ticket flush --retry-failed`;
/// `selftest --ticket` delivers the end user's report as well.
#[test]
#[cfg_attr(nettriage_lab_skip, ignore = "NETTRIAGE_LAB=skip")]
fn ticket_email_over_starttls_with_auth_reaches_a_real_smtp_server() {
    let test = "ticket_email_over_starttls_with_auth_reaches_a_real_smtp_server";
    require_aiosmtpd(test);
    let mut lab = Lab::start(test);
    let ca = Ca::new(lab.tmp(), "ca");
    let password_file = lab.tmp().join("smtp-password");
    fs::write(&password_file, "lab-password-1\n").unwrap();
    set_mode(&password_file, 0o600);
    let smtp = Smtp::start(&mut lab, "smtp-tls", Some((&ca, "nt", &password_file)));
    let extra = format!(
        "ca_file = \"{}\"\nusername = \"nt\"\nsecret_file = \"{}\"\n",
        ca.pem().display(),
        password_file.display()
    );
    let (config, outbox) = write_config(&lab, &extra, 5000);
    let html = lab.tmp().join("report.html");
    let out = lab.run_nettriage_raw(
        &[],
        &run_args(config.to_str().unwrap(), &["--redact", "--output", html.to_str().unwrap(), "--ticket"]),
    );
    let r = report_of(&out);
    assert!(matches!(out.code, 0 | 1), "the lab run is healthy or degraded: {}\n{}", out.stderr, pretty(&r));
    let id = r["id"].as_str().expect("a live report has an id").to_string();
    let messages = smtp.messages();
    assert_eq!(messages.len(), 1, "one message received; stderr: {}", out.stderr);
    let parts = lab.tmp().join("parts");
    let m = parse_message(&messages[0], &parts);
    assert_eq!(m["content_type"], "multipart/mixed", "{m}");
    assert_eq!(m["message_id"], format!("<nettriage.{id}@site.test>"), "{m}");
    assert_eq!(m["to"], "help@site.test", "{m}");
    let status = r["diagnosis"]["status"].as_str().unwrap();
    assert!(m["subject"].as_str().unwrap().starts_with(&format!("nettriage: {status} ")), "{m}");
    let names: Vec<&str> = m["attachments"].as_array().unwrap().iter().map(|a| a["name"].as_str().unwrap()).collect();
    assert_eq!(names.len(), 2, "{m}");
    let html_name = names.iter().find(|n| n.ends_with(".html")).expect("an HTML attachment");
    let json_name = names.iter().find(|n| n.ends_with(".json")).expect("a JSON attachment");
    assert_eq!(fs::read(parts.join(html_name)).unwrap(), fs::read(&html).unwrap(), "HTML attachment == report file");
    let attached: Value = serde_json::from_slice(&fs::read(parts.join(json_name)).unwrap()).unwrap();
    assert_eq!(attached, r, "JSON attachment == the report on stdout");
    assert_eq!(attached["redacted"], true);
    // Delivered: the outbox keeps only the sent record.
    assert!(queued(&outbox).is_empty(), "{:?}", queued(&outbox));
    assert!(outbox.join("sent").join(format!("{id}.json")).is_file());
    // The same report again (`ticket REPORT.json`): not sent twice.
    let saved = lab.tmp().join("report.json");
    fs::write(&saved, serde_json::to_vec(&r).unwrap()).unwrap();
    let again = lab.run_nettriage_raw(&[], &["ticket", saved.to_str().unwrap(), "--config", config.to_str().unwrap()]);
    assert_eq!(again.code, 0, "{}", again.stderr);
    assert_eq!(smtp.messages().len(), 1, "the same report is not emailed twice");

    // A password file others may read is refused: exit 3.
    set_mode(&password_file, 0o644);
    let refused =
        lab.run_nettriage_raw(&[], &["ticket", saved.to_str().unwrap(), "--config", config.to_str().unwrap()]);
    assert_eq!(refused.code, 0, "a delivered report is not sent again, so the secret is not even read");
    let other = lab.tmp().join("other.json");
    let mut copy = r.clone();
    copy["id"] = Value::String("0123456789abcdef0123456789abcdef".into());
    fs::write(&other, serde_json::to_vec(&copy).unwrap()).unwrap();
    let refused =
        lab.run_nettriage_raw(&[], &["ticket", other.to_str().unwrap(), "--config", config.to_str().unwrap()]);
    assert_eq!(refused.code, 3, "a 0644 secret file is a configuration error: {}", refused.stderr);
    assert!(!refused.stderr.contains("lab-password-1"), "the secret never shows");
    assert_eq!(smtp.messages().len(), 1);
    // Kept in the outbox, marked failed, for `ticket flush --retry-failed` once fixed.
    assert_eq!(entry_state(&outbox, "0123456789abcdef0123456789abcdef"), "failed");
    set_mode(&password_file, 0o600);
    let retried =
        lab.run_nettriage_raw(&[], &["ticket", "flush", "--retry-failed", "--config", config.to_str().unwrap()]);
    assert_eq!(retried.code, 0, "{}", retried.stderr);
    assert_eq!(smtp.messages().len(), 2);
    assert!(queued(&outbox).is_empty());

    // The end user's self-test with --ticket: its report reaches IT too.
    let cwd = lab.tmp().join("selftest");
    fs::create_dir_all(&cwd).unwrap();
    let out = lab.run_nettriage_in_dir(
        &cwd,
        &["selftest", "--interface", "eth0", "--dns-name", WWW_NAME, "--config", config.to_str().unwrap(), "--ticket"],
    );
    assert!(matches!(out.code, 0..=2), "the self-test's own exit code: {}", out.stderr);
    assert_eq!(smtp.messages().len(), 3, "{}", out.stderr);
    let m = parse_message(&smtp.messages()[2], &lab.tmp().join("selftest-parts"));
    let html: Vec<PathBuf> = fs::read_dir(&cwd)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "html"))
        .collect();
    assert_eq!(html.len(), 1, "the self-test wrote its report: {html:?}");
    assert_eq!(m["attachments"].as_array().map(Vec::len), Some(2), "{m}");
}

/// The outbox across an outage and a killed process: with the SMTP port refused,
/// `run --ticket` keeps the run's exit code and queues the ticket; a `ticket flush` killed
/// by SIGKILL while its connection hangs (port dropped) leaves the ticket on disk; once
/// the server is reachable, `ticket flush` delivers it exactly once, a second flush sends
/// nothing, and the next successful `run` (and `survey` run) delivers a ticket queued
/// meanwhile.
#[test]
#[cfg_attr(nettriage_lab_skip, ignore = "NETTRIAGE_LAB=skip")]
fn ticket_outbox_survives_an_outage_and_a_killed_process_and_sends_once() {
    let test = "ticket_outbox_survives_an_outage_and_a_killed_process_and_sends_once";
    require_aiosmtpd(test);
    let mut lab = Lab::start(test);
    let smtp = Smtp::start(&mut lab, "smtp-plain", None);
    let (config, outbox) = write_config(&lab, "starttls = false\n", 20_000);
    let config = config.to_str().unwrap().to_string();

    // 1. The server refuses: queued, and the exit code is the run's.
    block_smtp(&lab, "reject with tcp reset");
    let json = lab.tmp().join("first.json");
    let out = lab.run_nettriage_raw(&[], &run_args(&config, &["--output", json.to_str().unwrap(), "--ticket"]));
    let r = report_of(&out);
    let status = r["diagnosis"]["status"].as_str().unwrap().to_string();
    let expected = match status.as_str() {
        "healthy" => 0,
        "degraded" => 1,
        other => panic!("the lab run is {other}: {}", pretty(&r)),
    };
    assert_eq!(out.code, expected, "a queued ticket leaves the exit code alone: {}", out.stderr);
    let id = r["id"].as_str().unwrap().to_string();
    assert_eq!(queued(&outbox), std::slice::from_ref(&id));
    assert_eq!(entry_state(&outbox, &id), "queued");
    assert!(fs::read(&json).is_ok_and(|b| !b.is_empty()), "the report is written regardless");
    assert!(smtp.messages().is_empty());
    let flush = lab.run_nettriage_raw(&[], &["ticket", "flush", "--config", &config]);
    assert_eq!(flush.code, 1, "still queued: {}", flush.stderr);
    assert_eq!(queued(&outbox), std::slice::from_ref(&id));

    // 2. A flush killed mid-delivery (its connection hangs on a dropped port).
    block_smtp(&lab, "drop");
    let mut child = Command::new("setpriv")
        .args(["--pdeathsig", "KILL", "--", "ip", "netns", "exec", &lab.c, &lab::nettriage_bin()])
        .args(["ticket", "flush", "--config", &config])
        .env("HOME", lab.tmp().join("home"))
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let claim = format!(".sending.{id}.{}", child.id());
    let start = Instant::now();
    while !outbox.join(&claim).is_dir() {
        assert!(start.elapsed() < Duration::from_secs(10), "the flush never claimed {id}");
        std::thread::sleep(Duration::from_millis(20));
    }
    std::thread::sleep(Duration::from_millis(300));
    child.kill().unwrap();
    let _ = child.wait();
    assert!(outbox.join(&claim).is_dir(), "killed mid-delivery: the claimed ticket is still on disk");
    assert!(smtp.messages().is_empty());

    // 3. The server is back: delivered exactly once.
    unblock_smtp(&lab);
    let flush = lab.run_nettriage_raw(&[], &["ticket", "flush", "--config", &config]);
    assert_eq!(flush.code, 0, "{}", flush.stderr);
    assert_eq!(smtp.messages().len(), 1);
    assert!(queued(&outbox).is_empty() && !outbox.join(&claim).exists());
    let again = lab.run_nettriage_raw(&[], &["ticket", "flush", "--config", &config]);
    assert_eq!(again.code, 0, "{}", again.stderr);
    let list = lab.run_nettriage_raw(&[], &["ticket", "list", "--config", &config]);
    assert_eq!(list.code, 0, "{}", list.stderr);
    assert_eq!(smtp.messages().len(), 1, "nothing is sent twice");
    let m = parse_message(&smtp.messages()[0], &lab.tmp().join("parts"));
    assert_eq!(m["message_id"], format!("<nettriage.{id}@site.test>"), "{m}");
    let attached: Value = m["attachments"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["name"].as_str().unwrap().ends_with(".json"))
        .map(|a| {
            serde_json::from_slice(&fs::read(lab.tmp().join("parts").join(a["name"].as_str().unwrap())).unwrap())
                .unwrap()
        })
        .expect("a JSON attachment");
    assert_eq!(attached["id"], id);

    // 4. Queued during another outage, delivered by the next successful run (no --ticket).
    block_smtp(&lab, "reject with tcp reset");
    let out = lab.run_nettriage_raw(&[], &run_args(&config, &["--ticket"]));
    let second = report_of(&out)["id"].as_str().unwrap().to_string();
    assert_eq!(queued(&outbox), std::slice::from_ref(&second));
    unblock_smtp(&lab);
    let out = lab.run_nettriage_raw(&[], &run_args(&config, &[]));
    assert!(matches!(out.code, 0 | 1), "{}", out.stderr);
    assert!(queued(&outbox).is_empty(), "the next run delivered the outbox: {}", out.stderr);
    assert_eq!(smtp.messages().len(), 2);

    // 5. Queued during an outage, delivered by the next survey run.
    block_smtp(&lab, "reject with tcp reset");
    let out = lab.run_nettriage_raw(&[], &run_args(&config, &["--ticket"]));
    assert_eq!(queued(&outbox).len(), 1, "{}", out.stderr);
    unblock_smtp(&lab);
    let db = lab.tmp().join("history.db");
    let survey = lab.run_nettriage_raw(
        &[],
        &[
            "survey",
            "--once",
            "--db",
            db.to_str().unwrap(),
            "--interface",
            "eth0",
            "--target",
            TARGET_OK,
            "--dns-name",
            WWW_NAME,
            "--config",
            &config,
        ],
    );
    assert!(matches!(survey.code, 0 | 1), "{}", survey.stderr);
    assert!(queued(&outbox).is_empty(), "the survey run delivered the outbox: {}", survey.stderr);
    assert_eq!(smtp.messages().len(), 3);
    // --ticket is not a survey option: refused, exit 3.
    let refused = lab.run_nettriage_raw(&[], &["survey", "--once", "--db", db.to_str().unwrap(), "--ticket"]);
    assert_eq!(refused.code, 3, "{}", refused.stderr);
}

fn set_mode(path: &Path, mode: u32) {
    use std::os::unix::fs::PermissionsExt;
    fs::set_permissions(path, fs::Permissions::from_mode(mode)).unwrap();
}
