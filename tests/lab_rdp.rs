//! End-to-end scenarios of the `rdp` service profile: Debian's xrdp 0.9.21 in the server
//! namespace as the remote desktop host (TLS selected; stopped; 3389 dropped by nftables;
//! `security_layer=tls` without its certificate, which xrdp refuses with
//! SSL_CERT_NOT_ON_SERVER; `require_nla` against a host that selects TLS), and a hostile
//! peer answering the Connection Request with garbage, a truncated confirm, an endless
//! TPKT, silence, a flood and resets. Each test runs the real binary with
//! `--profile rdp --config FILE` in the client namespace and asserts on codes and the
//! typed evidence, never on message text.

mod lab;
#[path = "lab/rdp.rs"]
mod rdp_lab;

use std::time::Duration;

use lab::{Lab, RunOutput, SERVER_IP, assert_check_status, assert_report_contract, parse_report};
use nettriage::check::ports::PortOutcome;
use nettriage::check::rdp::{ConfirmError, NegotiationFailure, NegotiationResult, SecurityProtocol};
use rdp_lab::{
    CERT_CN, HOSTILE_CASES, HOSTILE_PORT, Layer, config, evidence, require, start_hostile, start_nla_peer, start_xrdp,
};
use serde_json::Value;

/// `nettriage run --interface eth0 --format json --profile rdp --config CONFIG` in the
/// client namespace.
fn run(lab: &Lab, config: &str) -> (RunOutput, Value) {
    let args = ["run", "--interface", "eth0", "--format", "json", "--profile", "rdp", "--config", config];
    let out = lab.run_nettriage_raw(&[], &args);
    let report = parse_report(&out);
    assert_report_contract(out.code, &report);
    (out, report)
}

/// The rdp check's findings as (code, severity).
fn findings(report: &Value) -> Vec<(String, String)> {
    lab::check(report, "rdp")["findings"]
        .as_array()
        .map(|a| {
            a.iter()
                .map(|f| {
                    (f["code"].as_str().unwrap_or("").to_string(), f["severity"].as_str().unwrap_or("").to_string())
                })
                .collect()
        })
        .unwrap_or_default()
}

fn pair(code: &str, severity: &str) -> (String, String) {
    (code.to_string(), severity.to_string())
}

/// xrdp with `security_layer=negotiate` and a certificate, by address and by name (the
/// lab's DNS names www.site.test 198.18.1.2): TLS selected, the TLS handshake completes
/// and the self-signed certificate is evidence; the profile passes.
#[test]
#[cfg_attr(nettriage_lab_skip, ignore = "NETTRIAGE_LAB=skip")]
fn rdp_xrdp_selects_tls_and_passes() {
    const TEST: &str = "rdp_xrdp_selects_tls_and_passes";
    require(TEST);
    let mut lab = Lab::start(TEST);
    start_xrdp(&mut lab, "xrdp", 3389, Layer::Negotiate, true);
    let hosts = [SERVER_IP.to_string(), format!("{}:3389", lab::WWW_NAME)];
    let file = config(&lab, "rdp.toml", &hosts, false, 2_000);
    let (_, r) = run(&lab, &file);
    assert_check_status(&r, "rdp", "pass");
    assert!(findings(&r).is_empty(), "{}", lab::pretty(lab::check(&r, "rdp")));
    let ev = evidence(&r);
    assert_eq!(ev.hosts.len(), 2);
    for h in &ev.hosts {
        assert_eq!(h.tcp, Some(PortOutcome::Open), "{h:?}");
        assert_eq!(h.address.map(|a| a.to_string()).as_deref(), Some("198.18.1.2:3389"));
        let neg = h.negotiation.as_ref().unwrap();
        assert_eq!((neg.result, neg.selected), (NegotiationResult::Selected, Some(SecurityProtocol::Ssl)));
        let tls = h.tls.as_ref().expect("TLS handshake evidence");
        assert_eq!(tls.error, None);
        assert_eq!(tls.self_signed, Some(true));
        assert!(tls.certificate.as_ref().is_some_and(|c| c.subject.contains(CERT_CN)), "{tls:?}");
        assert!(tls.version.is_some());
        assert!(h.works());
    }
    assert!(ev.hosts[1].resolve_ms.is_some());
}

/// Nothing listens on 3390 (xrdp stopped: refused) and 3389 is dropped by nftables in the
/// server namespace (no answer): both are `rdp.unreachable`, a failure.
#[test]
#[cfg_attr(nettriage_lab_skip, ignore = "NETTRIAGE_LAB=skip")]
fn rdp_stopped_and_dropped_hosts_are_unreachable() {
    const TEST: &str = "rdp_stopped_and_dropped_hosts_are_unreachable";
    require(TEST);
    let mut lab = Lab::start(TEST);
    start_xrdp(&mut lab, "xrdp", 3389, Layer::Negotiate, true);
    let s = lab.s.clone();
    lab.nft(&s, "table inet rdp_lab {\n chain input {\n  type filter hook input priority 0; policy accept;\n  tcp dport 3389 drop\n }\n}\n");
    let hosts = [SERVER_IP.to_string(), format!("{SERVER_IP}:3390"), "rdp-missing.site.test".to_string()];
    let file = config(&lab, "rdp.toml", &hosts, false, 800);
    let (out, r) = run(&lab, &file);
    assert_check_status(&r, "rdp", "fail");
    assert_eq!(findings(&r), [pair("rdp.unreachable", "fail")]);
    let ev = evidence(&r);
    let tcp: Vec<Option<PortOutcome>> = ev.hosts.iter().map(|h| h.tcp).collect();
    assert_eq!(tcp, [Some(PortOutcome::Filtered), Some(PortOutcome::Refused), Some(PortOutcome::Unresolved)]);
    assert!(ev.hosts.iter().all(|h| h.negotiation.is_none() && !h.works()));
    assert_eq!(out.code, 2, "a broken service is a failure");
}

/// xrdp with `security_layer=tls` whose certificate file is missing: it answers the
/// request with RDP_NEG_FAILURE SSL_CERT_NOT_ON_SERVER, `rdp.negotiation_failed`.
#[test]
#[cfg_attr(nettriage_lab_skip, ignore = "NETTRIAGE_LAB=skip")]
fn rdp_xrdp_without_its_certificate_fails_the_negotiation() {
    const TEST: &str = "rdp_xrdp_without_its_certificate_fails_the_negotiation";
    require(TEST);
    let mut lab = Lab::start(TEST);
    start_xrdp(&mut lab, "xrdp", 3389, Layer::Tls, false);
    let file = config(&lab, "rdp.toml", &[SERVER_IP.to_string()], false, 2_000);
    let (out, r) = run(&lab, &file);
    assert_check_status(&r, "rdp", "fail");
    assert_eq!(findings(&r), [pair("rdp.negotiation_failed", "fail")]);
    let ev = evidence(&r);
    let neg = ev.hosts[0].negotiation.as_ref().unwrap();
    assert_eq!(neg.result, NegotiationResult::Refused);
    assert_eq!((neg.failure, neg.failure_code), (Some(NegotiationFailure::SslCertNotOnServer), Some(3)));
    assert!(ev.hosts[0].tls.is_none());
    assert_eq!(out.code, 2);
}

/// `require_nla = true` against xrdp, which selects TLS (it has no CredSSP): the host
/// works, the site's policy is not met: `rdp.negotiation_failed` as a warning. xrdp with
/// `security_layer=rdp` selects standard RDP security: the same warning.
#[test]
#[cfg_attr(nettriage_lab_skip, ignore = "NETTRIAGE_LAB=skip")]
fn rdp_require_nla_warns_on_hosts_without_nla() {
    const TEST: &str = "rdp_require_nla_warns_on_hosts_without_nla";
    require(TEST);
    let mut lab = Lab::start(TEST);
    start_xrdp(&mut lab, "xrdp-tls", 3389, Layer::Negotiate, true);
    start_xrdp(&mut lab, "xrdp-rdp", 3390, Layer::Rdp, true);
    let hosts = [SERVER_IP.to_string(), format!("{SERVER_IP}:3390")];
    let file = config(&lab, "rdp.toml", &hosts, true, 2_000);
    let (_, r) = run(&lab, &file);
    assert_check_status(&r, "rdp", "warn");
    assert_eq!(findings(&r), [pair("rdp.negotiation_failed", "warn")]);
    let ev = evidence(&r);
    let selected: Vec<Option<SecurityProtocol>> =
        ev.hosts.iter().map(|h| h.negotiation.as_ref().and_then(|n| n.selected)).collect();
    assert_eq!(selected, [Some(SecurityProtocol::Ssl), Some(SecurityProtocol::Rdp)]);
    assert!(ev.hosts.iter().all(|h| h.works()));
}

/// `require_nla = true` against two hosts that select CredSSP (a minimal negotiation peer,
/// `tests/lab/rdp_nla_peer.py`, with the TLS handshake): one refuses a second client that
/// offers TLS alone (HYBRID_REQUIRED_BY_SERVER: NLA enforced), the other lets it in with
/// TLS (NLA offered, not enforced): a warning for that one only.
#[test]
#[cfg_attr(nettriage_lab_skip, ignore = "NETTRIAGE_LAB=skip")]
fn rdp_require_nla_tells_enforced_from_offered() {
    const TEST: &str = "rdp_require_nla_tells_enforced_from_offered";
    require(TEST);
    let mut lab = Lab::start(TEST);
    start_nla_peer(&mut lab, "nla-strict", 5001, true);
    start_nla_peer(&mut lab, "nla-lax", 5002, false);
    let hosts = [format!("{SERVER_IP}:5001"), format!("{SERVER_IP}:5002")];
    let file = config(&lab, "rdp.toml", &hosts, true, 2_000);
    let (_, r) = run(&lab, &file);
    assert_check_status(&r, "rdp", "warn");
    assert_eq!(findings(&r), [pair("rdp.negotiation_failed", "warn")], "{}", lab::pretty(lab::check(&r, "rdp")));
    let ev = evidence(&r);
    for h in &ev.hosts {
        let neg = h.negotiation.as_ref().unwrap();
        assert_eq!(neg.selected, Some(SecurityProtocol::HybridEx), "{h:?}");
        assert!(h.tls.as_ref().is_some_and(|t| t.error.is_none() && t.self_signed == Some(true)), "{h:?}");
        assert!(h.works());
    }
    let strict = ev.hosts[0].tls_only.as_ref().unwrap();
    assert_eq!(strict.failure, Some(NegotiationFailure::HybridRequiredByServer));
    assert_eq!(ev.hosts[0].nla_enforced, Some(true));
    let lax = ev.hosts[1].tls_only.as_ref().unwrap();
    assert_eq!(lax.selected, Some(SecurityProtocol::Ssl));
    assert_eq!(ev.hosts[1].nla_enforced, Some(false));
}

/// A hostile peer on eight ports: garbage, a truncated confirm, a TPKT announcing 65535
/// bytes, silence, a bad negotiation structure, a Disconnect Request, a 1 MiB flood, a
/// reset. No panic, every host `rdp.negotiation_failed` with its typed reason, and the run
/// ends within its budget.
#[test]
#[cfg_attr(nettriage_lab_skip, ignore = "NETTRIAGE_LAB=skip")]
fn rdp_hostile_peers_fail_the_negotiation_without_harm() {
    const TEST: &str = "rdp_hostile_peers_fail_the_negotiation_without_harm";
    require(TEST);
    let mut lab = Lab::start(TEST);
    start_hostile(&mut lab);
    let hosts: Vec<String> =
        (0..HOSTILE_CASES.len()).map(|i| format!("{SERVER_IP}:{}", HOSTILE_PORT + i as u16)).collect();
    let file = config(&lab, "rdp.toml", &hosts, true, 1_000);
    let (out, r) = run(&lab, &file);
    assert_check_status(&r, "rdp", "fail");
    assert_eq!(findings(&r), [pair("rdp.negotiation_failed", "fail")], "{}", lab::pretty(lab::check(&r, "rdp")));
    let ev = evidence(&r);
    let got: Vec<(NegotiationResult, Option<ConfirmError>)> =
        ev.hosts.iter().map(|h| h.negotiation.as_ref().map(|n| (n.result, n.malformed)).expect("negotiated")).collect();
    use NegotiationResult::{Closed, Malformed, Timeout};
    assert_eq!(
        got,
        [
            (Malformed, Some(ConfirmError::NotTpkt)),
            (Malformed, Some(ConfirmError::Truncated)),
            (Malformed, Some(ConfirmError::BadLength)),
            (Timeout, None),
            (Malformed, Some(ConfirmError::BadNegotiation)),
            (Malformed, Some(ConfirmError::NotConnectionConfirm)),
            (Malformed, Some(ConfirmError::BadLength)),
            (Closed, None),
        ],
        "{}",
        lab::pretty(lab::check(&r, "rdp"))
    );
    assert!(ev.hosts.iter().all(|h| !h.works() && h.tls.is_none()));
    assert!(!out.stderr.contains("panicked"), "{}", out.stderr);
    assert!(out.duration < Duration::from_secs(15), "{:?}", out.duration);
}
