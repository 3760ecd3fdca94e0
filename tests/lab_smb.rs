//! End-to-end scenarios of the `smb` service profile: Debian's Samba `smbd` in the lab's
//! server namespace (its own smb.conf and state in the lab's temp dir) serving a share,
//! reached by name through the client's /etc/hosts; the server stopped and TCP 445
//! dropped by nftables (`smb.unreachable`); smbd limited to NT1 (`smb.smb1_only`); and a
//! hostile peer answering garbage on 445. Each test runs the real binary with
//! `--profile smb` and a `--config` file in the client namespace and asserts on codes and
//! the typed evidence, never on message text.

mod lab;
#[path = "lab/smb.rs"]
mod smb_lab;

use lab::{Lab, RunOutput, assert_check_status, assert_report_contract, codes, parse_report};
use nettriage::check::smb::SmbOutcome;
use serde_json::Value;
use smb_lab::{FS_NAME, Flavour, config, evidence, lab_share, start_hostile, start_smbd};

const TOOLS: &[(&str, &str)] = &[("smbd", "samba"), ("nft", "nftables"), ("python3", "python3")];

/// `nettriage run --profile smb --config CONFIG` in the client namespace (JSON).
fn run(lab: &Lab, config: &std::path::Path) -> (RunOutput, Value) {
    let config = config.display().to_string();
    let args = [
        "run",
        "--interface",
        "eth0",
        "--format",
        "json",
        "--target",
        "198.18.1.2:8080",
        "--dns-name",
        lab::WWW_NAME,
        "--profile",
        "smb",
        "--config",
        &config,
    ];
    let out = lab.run_nettriage_raw(&[], &args);
    let report = parse_report(&out);
    assert_report_contract(out.code, &report);
    (out, report)
}

/// smbd serving `\\fs1.site.test\data` with signing mandatory: the profile passes with SMB
/// 3.1.1 and signing required; a second share on the same server (other spelling) shares
/// its one probe.
#[test]
#[cfg_attr(nettriage_lab_skip, ignore = "NETTRIAGE_LAB=skip")]
fn smb_healthy_share_negotiates_smb3() {
    lab::require_tools("smb_healthy_share_negotiates_smb3", TOOLS);
    let mut lab = Lab::start("smb_healthy_share_negotiates_smb3");
    start_smbd(&mut lab, "smbd", Flavour::Modern);
    let other = format!("//{}/data/sub/dir", FS_NAME.to_uppercase());
    let conf = config(&lab, &[lab_share(), other]);
    let (_, r) = run(&lab, &conf);
    assert_check_status(&r, "smb", "pass");
    assert!(codes(&r, "smb").is_empty(), "{:?}", codes(&r, "smb"));
    let ev = evidence(&r);
    assert_eq!(ev.shares.len(), 2);
    assert_eq!(ev.servers.len(), 1, "one probe per server");
    let s = &ev.servers[0];
    assert_eq!(s.outcome, SmbOutcome::Smb2);
    assert_eq!(s.dialect.as_deref(), Some("3.1.1"));
    assert_eq!(s.dialect_revision, Some(0x0311));
    assert_eq!((s.signing_enabled, s.signing_required), (Some(true), Some(true)));
    assert!(!s.smb1_fallback);
    assert_eq!(s.address.map(|a| a.to_string()).as_deref(), Some("198.18.1.2:445"));
    assert!(s.connect_ms.is_some() && s.negotiate_ms.is_some());
    assert!(s.server_guid.is_some() && s.max_read_size.unwrap_or(0) > 0);
    assert!(s.signing_algorithm.is_some(), "a 3.1.1 server chooses a signing algorithm");
}

/// No smbd (stopped): 445 refused; then smbd running behind an nftables drop on 445:
/// filtered. Both are `smb.unreachable`, a failure.
#[test]
#[cfg_attr(nettriage_lab_skip, ignore = "NETTRIAGE_LAB=skip")]
fn smb_stopped_or_dropped_server_is_unreachable() {
    lab::require_tools("smb_stopped_or_dropped_server_is_unreachable", TOOLS);
    let mut lab = Lab::start("smb_stopped_or_dropped_server_is_unreachable");
    let conf = config(&lab, &[lab_share()]);
    let (out, r) = run(&lab, &conf);
    assert_check_status(&r, "smb", "fail");
    assert_eq!(codes(&r, "smb"), ["smb.unreachable"]);
    assert_eq!(evidence(&r).servers[0].outcome, SmbOutcome::Refused);
    assert_eq!(out.code, 2);

    start_smbd(&mut lab, "smbd", Flavour::Modern);
    let s = lab.s.clone();
    lab.nft(
        &s,
        "table inet smbdrop {\n chain input {\n  type filter hook input priority 0;\n  tcp dport 445 drop\n }\n}\n",
    );
    let (_, r) = run(&lab, &conf);
    assert_check_status(&r, "smb", "fail");
    assert_eq!(codes(&r, "smb"), ["smb.unreachable"]);
    let ev = evidence(&r);
    assert_eq!(ev.servers[0].outcome, SmbOutcome::Filtered);
    assert!(ev.servers[0].connect_ms.is_none());
}

/// smbd with `server min protocol = NT1` and `server max protocol = NT1`: no SMB2 answer,
/// the SMB1 fallback gets `NT LM 0.12`: `smb.smb1_only`.
#[test]
#[cfg_attr(nettriage_lab_skip, ignore = "NETTRIAGE_LAB=skip")]
fn smb_nt1_only_server_is_smb1_only() {
    lab::require_tools("smb_nt1_only_server_is_smb1_only", TOOLS);
    let mut lab = Lab::start("smb_nt1_only_server_is_smb1_only");
    start_smbd(&mut lab, "smbd-nt1", Flavour::Smb1Only);
    let conf = config(&lab, &[lab_share()]);
    let (out, r) = run(&lab, &conf);
    assert_check_status(&r, "smb", "fail");
    assert_eq!(codes(&r, "smb"), ["smb.smb1_only"]);
    let s = &evidence(&r).servers[0];
    assert_eq!(s.outcome, SmbOutcome::Smb1Only);
    assert!(s.smb1_fallback);
    assert_eq!(s.dialect.as_deref(), Some("NT LM 0.12"));
    assert_eq!(out.code, 2);
}

/// A hostile peer on 445 (garbage, a 16 MiB frame header, truncated and lying SMB2
/// responses, a malformed SMB1 response, silence), reached under six names so one run
/// meets every case: no panic, bounded time, each server `smb.unreachable` as not SMB or
/// no answer.
#[test]
#[cfg_attr(nettriage_lab_skip, ignore = "NETTRIAGE_LAB=skip")]
fn smb_hostile_peer_is_unreachable_without_panic() {
    lab::require_tools("smb_hostile_peer_is_unreachable_without_panic", TOOLS);
    let mut lab = Lab::start("smb_hostile_peer_is_unreachable_without_panic");
    start_hostile(&mut lab);
    let names: Vec<String> = (1..=6).map(|i| format!("evil{i}.site.test")).collect();
    let conf = config(&lab, &names.iter().map(|n| format!(r"\\{n}\x")).collect::<Vec<_>>());
    let hosts: Vec<String> = names.iter().map(|n| format!("{} {n}", lab::SERVER_IP)).collect();
    lab.set_client_hosts(&hosts.iter().map(String::as_str).collect::<Vec<_>>());
    let (out, r) = run(&lab, &conf);
    assert!(!out.stderr.contains("panicked"), "{}", out.stderr);
    assert_check_status(&r, "smb", "fail");
    assert_eq!(codes(&r, "smb"), ["smb.unreachable"]);
    let ev = evidence(&r);
    assert_eq!(ev.servers.len(), 6);
    for s in &ev.servers {
        assert!(matches!(s.outcome, SmbOutcome::NotSmb | SmbOutcome::NoAnswer), "{}: {:?}", s.server, s.outcome);
        assert!(s.error.is_some());
    }
    assert!(out.duration < std::time::Duration::from_secs(20), "{:?}", out.duration);
    let log = lab.daemon_log("hostile-smb");
    assert!(log.matches("case ").count() >= 6, "the peer saw too few connections:\n{log}");
}
