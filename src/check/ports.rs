//! The service layer: can we open a TCP connection to each target?
//!
//! Each outcome is classified, not just "false" (the thing blackbox, paping and gomap users
//! ask for, ANCHORS.md c): `open`, `refused` (RST), `filtered` (no answer: something drops
//! the packets; a dead host looks the same, as Strike48's PR found), `unreachable` (ICMP
//! unreachable or no route), `local_error`, or `unresolved` (a named target DNS could not
//! resolve: not probed). Probes run concurrently under a cap. Judging is pure, and
//! `nettriage analyze` ([`crate::analyze`]) fills the same [`PortsEvidence`] from a
//! capture's TCP handshakes (with per-target attempt counts in [`PortAttempts`]) and calls
//! the same [`judge`].

#[cfg(feature = "live")]
use std::net::IpAddr;
use std::net::SocketAddr;
#[cfg(feature = "live")]
use std::sync::Arc;
#[cfg(feature = "live")]
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};
#[cfg(feature = "live")]
use tokio::net::TcpStream;
#[cfg(feature = "live")]
use tokio::sync::Semaphore;

#[cfg(feature = "live")]
use crate::check::{CheckContext, CheckError, Outcome};
use crate::check::{finding, named};
#[cfg(feature = "live")]
use crate::config::{Target, TargetHost};
use crate::report::{CheckId, Code, Finding, Severity};
#[cfg(feature = "live")]
use crate::report::{Evidence, SkipReason};
use crate::types::Timestamp;
#[cfg(feature = "live")]
use crate::types::millis;

const EHOSTUNREACH: i32 = 113;
const ENETUNREACH: i32 = 101;
/// Most targets named in one finding's message.
const MAX_NAMED: usize = 10;

/// What the ports check saw.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PortsEvidence {
    /// One entry per target, in the order given (in a capture: in order of the first SYN).
    #[serde(default)]
    pub targets: Vec<PortResult>,
    /// Set when the evidence comes from a capture.
    #[serde(flatten)]
    pub capture: Option<PortsCapture>,
}

/// What a capture adds to the ports evidence.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PortsCapture {
    /// The capture file, as given.
    pub source: String,
    /// Targets seen (the report lists at most `analyze::MAX_LISTED`).
    pub targets_total: usize,
    /// Connection attempts not judged: beyond `analyze::MAX_TRACKED` with the table of open
    /// attempts (or of targets) full; attempts beyond the bound are otherwise judged.
    pub untracked: u32,
}

/// How the connection attempts to one target ended, counted over a capture.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct PortAttempts {
    /// Connection attempts (a SYN and its retransmissions are one).
    pub attempts: u32,
    /// Attempts answered with a SYN-ACK.
    pub open: u32,
    /// Attempts answered with a RST.
    pub refused: u32,
    /// Attempts with no answer by the end of the capture.
    pub filtered: u32,
    /// Attempts answered with an ICMP unreachable.
    pub unreachable: u32,
    /// SYNs sent beyond the first, over all attempts (retransmissions).
    pub syn_retransmissions: u32,
    /// When the first attempt that did not open was started (capture time).
    #[serde(default)]
    pub first_failure: Option<Timestamp>,
    /// When the last attempt that did not open was started (capture time).
    #[serde(default)]
    pub last_failure: Option<Timestamp>,
}

impl PortAttempts {
    /// Attempts that ended with `outcome`.
    pub fn count(&self, outcome: PortOutcome) -> u32 {
        match outcome {
            PortOutcome::Open => self.open,
            PortOutcome::Refused => self.refused,
            PortOutcome::Filtered => self.filtered,
            PortOutcome::Unreachable => self.unreachable,
            PortOutcome::LocalError | PortOutcome::Unresolved => 0,
        }
    }
}

/// One target's probe.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PortResult {
    /// The target as given (`host:port`).
    pub target: String,
    /// The address probed, when the host resolved.
    pub address: Option<SocketAddr>,
    /// How the connection attempt ended.
    pub outcome: PortOutcome,
    /// Time to the outcome (connect time when open).
    pub ms: Option<f64>,
    /// The OS error for `unreachable` and `local_error` (in a capture: the ICMP error).
    pub error: Option<String>,
    /// In a capture: every attempt to this target, counted by outcome; `outcome` is the
    /// last attempt's and `ms` the mean time to it.
    #[serde(flatten)]
    pub attempts: Option<PortAttempts>,
}

impl PortResult {
    /// Attempts that ended with `outcome` (a live probe is one attempt).
    pub fn count(&self, outcome: PortOutcome) -> u32 {
        match &self.attempts {
            Some(a) => a.count(outcome),
            None => u32::from(self.outcome == outcome),
        }
    }
}

/// How a TCP connection attempt ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PortOutcome {
    /// Connected.
    Open,
    /// RST.
    Refused,
    /// No answer within the timeout.
    Filtered,
    /// ICMP unreachable or no route.
    Unreachable,
    /// A local error (no socket, no source address, ...).
    LocalError,
    /// A named target that DNS did not resolve; not probed.
    Unresolved,
}

impl PortOutcome {
    /// The outcome as it appears in reports.
    pub fn as_str(self) -> &'static str {
        match self {
            PortOutcome::Open => "open",
            PortOutcome::Refused => "refused",
            PortOutcome::Filtered => "filtered",
            PortOutcome::Unreachable => "unreachable",
            PortOutcome::LocalError => "local_error",
            PortOutcome::Unresolved => "unresolved",
        }
    }
}

/// Runs the ports check.
#[cfg(feature = "live")]
pub async fn run(ctx: &CheckContext<'_>) -> Result<Outcome, CheckError> {
    let targets = &ctx.config.targets;
    if targets.is_empty() {
        return Ok(Outcome::Skipped {
            code: SkipReason::NoTargets,
            reason: "no targets configured (give --target HOST:PORT or `targets` in the config file)".into(),
            blocked_by: None,
            evidence: Evidence::None,
        });
    }
    let stop_by = ctx.cutoff();
    let named_only = targets.iter().all(|t| matches!(t.host, TargetHost::Name(_)));
    if named_only {
        // Nothing to probe before DNS has answered; when it could resolve none, say so.
        wait_for_dns(ctx, stop_by).await;
        let resolved = ctx.facts.dns.get();
        let dns_worked = resolved.is_some_and(|f| f.any_server_ok);
        if targets.iter().all(|t| address_of(t, ctx).is_none()) && !dns_worked {
            return Ok(Outcome::Skipped {
                code: SkipReason::NoResolvedTarget,
                reason: "no target could be resolved, so none could be probed".into(),
                blocked_by: Some(CheckId::Dns),
                evidence: Evidence::None,
            });
        }
    }

    // Address targets are probed at once, beside the dns check; named ones when it is done.
    let limit = Arc::new(Semaphore::new(ctx.config.ports.concurrency));
    let timeout = Duration::from_millis(ctx.config.ports.timeout_ms);
    let probes = targets.iter().map(|target| {
        let limit = Arc::clone(&limit);
        async move {
            if matches!(target.host, TargetHost::Name(_)) {
                wait_for_dns(ctx, stop_by).await;
            }
            match address_of(target, ctx) {
                Some(ip) => {
                    let _permit = limit.acquire().await.expect("semaphore is never closed");
                    probe(target, SocketAddr::new(ip, target.port), timeout, stop_by).await
                }
                None => PortResult {
                    target: target.to_string(),
                    address: None,
                    outcome: PortOutcome::Unresolved,
                    ms: None,
                    error: None,
                    attempts: None,
                },
            }
        }
    });
    let ev = PortsEvidence { targets: futures::future::join_all(probes).await, capture: None };
    Ok(Outcome::Ran { findings: judge(&ev), evidence: Evidence::Ports(Box::new(ev)) })
}

/// Waits until the dns check has its result, or until `stop_by`.
#[cfg(feature = "live")]
async fn wait_for_dns(ctx: &CheckContext<'_>, stop_by: Instant) {
    let _ = tokio::time::timeout_at(stop_by.into(), ctx.facts.finished(CheckId::Dns)).await;
}

/// The address to probe for `target`: its literal, or what the dns check resolved for its
/// name (IPv4 first, which the gateway check vouched for).
#[cfg(feature = "live")]
fn address_of(target: &Target, ctx: &CheckContext<'_>) -> Option<IpAddr> {
    match &target.host {
        TargetHost::Ip(ip) => Some(*ip),
        TargetHost::Name(name) => ctx
            .facts
            .dns
            .get()
            .and_then(|f| f.resolved.get(name))
            .and_then(|ips| ips.iter().find(|ip| ip.is_ipv4()).or(ips.first()).copied()),
    }
}

#[cfg(feature = "live")]
async fn probe(target: &Target, address: SocketAddr, timeout: Duration, stop_by: Instant) -> PortResult {
    let start = Instant::now();
    // A SYN unanswered when the run's deadline comes is as filtered as one that timed out.
    let timeout = timeout.min(stop_by.saturating_duration_since(start));
    let result = tokio::time::timeout(timeout, TcpStream::connect(address)).await;
    let ms = Some(millis(start.elapsed()));
    let (outcome, error) = match result {
        Ok(Ok(_stream)) => (PortOutcome::Open, None),
        Ok(Err(e)) => (classify_error(&e), Some(e.to_string())),
        Err(_) => (PortOutcome::Filtered, None),
    };
    PortResult { target: target.to_string(), address: Some(address), outcome, ms, error, attempts: None }
}

/// Maps a connect error to an outcome (pure).
pub fn classify_error(e: &std::io::Error) -> PortOutcome {
    match (e.kind(), e.raw_os_error()) {
        (std::io::ErrorKind::ConnectionRefused, _) => PortOutcome::Refused,
        (std::io::ErrorKind::TimedOut, _) => PortOutcome::Filtered,
        (_, Some(EHOSTUNREACH | ENETUNREACH)) => PortOutcome::Unreachable,
        (std::io::ErrorKind::HostUnreachable | std::io::ErrorKind::NetworkUnreachable, _) => PortOutcome::Unreachable,
        _ => PortOutcome::LocalError,
    }
}

/// Judges the probes (pure), live or from a capture alike. Every target that is not open
/// is a failure: these are the services the user needs. A target that failed only some of
/// its attempts and opened in others (a capture can hold many attempts) is a warning. An
/// unresolved target only reaches here when DNS worked (the runner skips the check as
/// blocked by dns otherwise), so it is a missing record.
/// A connect that took at least this long had its first SYN retransmitted: Linux sends the
/// first retransmission after its initial RTO of 1 s (RFC 6298 section 2.1, the kernel's
/// `TCP_TIMEOUT_INIT`), and a handshake on a working path takes milliseconds. 50 ms below
/// the RTO for timer slack.
pub const SYN_RETRANSMIT_MS: f64 = 950.0;

/// Judges the ports evidence (pure): one finding per failure kind naming its targets, and
/// `ports.flaky` for targets that opened only after a SYN retransmission.
pub fn judge(ev: &PortsEvidence) -> Vec<Finding> {
    let mut findings = Vec::new();
    let slow_open: Vec<String> = ev
        .targets
        .iter()
        .filter(|t| t.outcome == PortOutcome::Open && t.ms.is_some_and(|ms| ms >= SYN_RETRANSMIT_MS))
        .map(|t| format!("{} ({:.1} s)", t.target, t.ms.unwrap_or_default() / 1000.0))
        .collect();
    if !slow_open.is_empty() {
        findings.push(finding(
            CheckId::Ports,
            Code::PortsFlaky,
            Severity::Warn,
            format!(
                "{} opened only after the first SYN was retransmitted (a connect taking 1 s or more)",
                named(&slow_open, ", ", MAX_NAMED)
            ),
        ));
    }
    for (outcome, code, what) in [
        (PortOutcome::Refused, Code::PortsRefused, "refused the connection"),
        (PortOutcome::Filtered, Code::PortsFiltered, "did not answer (filtered)"),
        (PortOutcome::Unreachable, Code::PortsUnreachable, "is unreachable"),
        (PortOutcome::Unresolved, Code::PortsUnresolved, "has no address in DNS, so it was not probed"),
    ] {
        let hit: Vec<&PortResult> = ev.targets.iter().filter(|t| t.count(outcome) > 0).collect();
        if hit.is_empty() {
            continue;
        }
        let severity =
            if hit.iter().any(|t| t.count(PortOutcome::Open) == 0) { Severity::Fail } else { Severity::Warn };
        let names: Vec<String> = hit
            .iter()
            .map(|t| match &t.attempts {
                Some(a) => {
                    let when = match (a.first_failure, a.last_failure) {
                        (Some(first), Some(last)) if first != last => format!(", failures from {first} to {last}"),
                        (Some(first), _) => format!(", at {first}"),
                        _ => String::new(),
                    };
                    format!("{} ({} of {} attempts{when})", t.target, a.count(outcome), a.attempts)
                }
                None => t.target.clone(),
            })
            .collect();
        findings.push(finding(CheckId::Ports, code, severity, format!("{} {what}", named(&names, ", ", MAX_NAMED))));
    }
    let local: Vec<String> = ev
        .targets
        .iter()
        .filter(|t| t.outcome == PortOutcome::LocalError)
        .map(|t| format!("{}: {}", t.target, t.error.as_deref().unwrap_or("error")))
        .collect();
    if !local.is_empty() {
        findings.push(finding(
            CheckId::Ports,
            Code::ToolCheckError,
            Severity::Warn,
            format!("could not probe {}", named(&local, "; ", MAX_NAMED)),
        ));
    }
    findings
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::{Error, ErrorKind};

    fn result(target: &str, outcome: PortOutcome) -> PortResult {
        PortResult { target: target.into(), address: None, outcome, ms: None, error: None, attempts: None }
    }

    #[test]
    fn a_connect_that_needed_a_syn_retransmission_is_flaky() {
        let open = |ms| PortResult { ms: Some(ms), ..result("a:1", PortOutcome::Open) };
        let ev = |targets| PortsEvidence { targets, capture: None };
        let codes = |e: &PortsEvidence| judge(e).iter().map(|f| (f.code, f.severity)).collect::<Vec<_>>();
        assert!(codes(&ev(vec![open(3.0)])).is_empty());
        assert_eq!(codes(&ev(vec![open(1003.0), open(2.0)])), [(Code::PortsFlaky, Severity::Warn)]);
    }

    #[test]
    fn a_capture_target_that_also_opened_is_a_warning() {
        let counted = |refused, open| PortResult {
            attempts: Some(PortAttempts { attempts: refused + open, open, refused, ..PortAttempts::default() }),
            ..result("b:2", if open > 0 { PortOutcome::Open } else { PortOutcome::Refused })
        };
        let codes = |t: PortResult| -> Vec<(Code, Severity)> {
            judge(&PortsEvidence { targets: vec![t], capture: None }).iter().map(|f| (f.code, f.severity)).collect()
        };
        assert_eq!(codes(counted(1, 1)), [(Code::PortsRefused, Severity::Warn)]);
        assert_eq!(codes(counted(2, 0)), [(Code::PortsRefused, Severity::Fail)]);
        assert!(codes(counted(0, 3)).is_empty());
    }

    #[test]
    fn errors_classify_by_kind_and_errno() {
        assert_eq!(classify_error(&Error::from(ErrorKind::ConnectionRefused)), PortOutcome::Refused);
        assert_eq!(classify_error(&Error::from_raw_os_error(EHOSTUNREACH)), PortOutcome::Unreachable);
        assert_eq!(classify_error(&Error::from_raw_os_error(ENETUNREACH)), PortOutcome::Unreachable);
        assert_eq!(classify_error(&Error::from_raw_os_error(110)), PortOutcome::Filtered);
        assert_eq!(classify_error(&Error::from(ErrorKind::AddrNotAvailable)), PortOutcome::LocalError);
    }

    #[test]
    fn each_failure_kind_is_one_finding_naming_its_targets() {
        let ev = PortsEvidence {
            targets: vec![
                result("a:1", PortOutcome::Open),
                result("b:2", PortOutcome::Refused),
                result("c:3", PortOutcome::Refused),
                result("d:4", PortOutcome::Filtered),
                result("e:5", PortOutcome::Unresolved),
            ],
            capture: None,
        };
        let f = judge(&ev);
        let codes: Vec<(Code, Severity)> = f.iter().map(|f| (f.code, f.severity)).collect();
        assert_eq!(
            codes,
            [
                (Code::PortsRefused, Severity::Fail),
                (Code::PortsFiltered, Severity::Fail),
                (Code::PortsUnresolved, Severity::Fail)
            ]
        );
        assert!(judge(&PortsEvidence { targets: vec![result("a:1", PortOutcome::Open)], capture: None }).is_empty());
    }
}
