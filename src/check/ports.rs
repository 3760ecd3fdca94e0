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
//!
//! A named target whose name has both A and AAAA records is connected over each family
//! separately when this machine could use either (an IPv4 address, and an IPv6 address of
//! global scope, as glibc's `AI_ADDRCONFIG` decides which families to ask for), each
//! attempt kept in [`FamilyProbe`]. When one family opens and the other does not, the
//! target itself is reachable (what a dual-stack client gets in the end) and the failing
//! family is named: `ipv6.broken` (the "slow websites" case, with the time a Happy
//! Eyeballs client loses, [`happy_eyeballs_cost_ms`]) or `ipv4.broken`. The per-family
//! probes need nothing from the gateway check; they read the dns check's answers
//! ([`crate::check::dns::DnsFacts`]) like every named target.

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
#[cfg(feature = "live")]
use crate::types::millis;
use crate::types::{IpFamily, Timestamp};

const EHOSTUNREACH: i32 = 113;
const ENETUNREACH: i32 = 101;
/// Most targets named in one finding's message.
const MAX_NAMED: usize = 10;
/// Happy Eyeballs v2's recommended Connection Attempt Delay (RFC 8305 section 5, 250 ms;
/// 100 ms minimum, 2 s maximum): how long a client waits on a connection attempt over the
/// preferred family (IPv6) before starting one over the other. A broken family that drops
/// the SYN costs every connection this much; one that fails at once (RST, ICMP) costs
/// the time to the failure, at most this.
pub const CONNECTION_ATTEMPT_DELAY_MS: f64 = 250.0;

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
    /// A named target with both A and AAAA records, probed over each family (IPv4 first):
    /// one entry per family. Then `address`, `outcome`, `ms` and `error` are those of the
    /// family that opened (IPv4 when both did), or of IPv4 when neither did. Empty for a
    /// target probed over one family only.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub families: Vec<FamilyProbe>,
    /// When exactly one family opened: the time a Happy Eyeballs client (RFC 8305) loses
    /// on every connection to this target because the other family fails (IPv6 tried
    /// first; [`happy_eyeballs_cost_ms`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub happy_eyeballs_cost_ms: Option<f64>,
    /// The TCP maximum segment size of the connection, when it opened (live only: read from
    /// the probe's own socket, [`FamilyProbe::mss`]); that of the family in `address`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mss: Option<u32>,
}

/// One family's connection attempt to a target with both A and AAAA records.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FamilyProbe {
    /// `ipv4` or `ipv6`.
    pub family: IpFamily,
    /// The address connected to.
    pub address: SocketAddr,
    /// How the attempt ended.
    pub outcome: PortOutcome,
    /// Time to the outcome.
    pub ms: Option<f64>,
    /// The OS error for `unreachable` and `local_error`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// When the attempt opened: the connection's maximum segment size, `TCP_MAXSEG` read
    /// on the probe's own connected socket (tcp(7)): the smaller of the MSS the peer
    /// announced in its SYN-ACK and what this host's path MTU to it allows, less the TCP
    /// options every segment carries (12 bytes with timestamps). Evidence only: a value
    /// well below the interface MTU less 40 (IPv4) or 60 (IPv6) bytes points at a tunnel or
    /// an MSS clamp on the way.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mss: Option<u32>,
}

impl FamilyProbe {
    /// Whether this attempt is a broken path: the packets were dropped, refused or
    /// answered with an ICMP error (a local error says nothing about the network).
    pub fn failed_on_the_network(&self) -> bool {
        matches!(self.outcome, PortOutcome::Filtered | PortOutcome::Refused | PortOutcome::Unreachable)
    }
}

/// The time a Happy Eyeballs client (RFC 8305) loses per connection when its attempt over
/// the failing family ended as `failed` did: a dropped SYN costs the whole Connection
/// Attempt Delay ([`CONNECTION_ATTEMPT_DELAY_MS`]), a fast failure (RST, ICMP error) its
/// own time, at most that delay.
pub fn happy_eyeballs_cost_ms(failed: &FamilyProbe) -> f64 {
    match (failed.outcome, failed.ms) {
        (PortOutcome::Filtered, _) | (_, None) => CONNECTION_ATTEMPT_DELAY_MS,
        (_, Some(ms)) => ms.min(CONNECTION_ATTEMPT_DELAY_MS),
    }
}

/// Folds the per-family attempts of one target into its result (pure): the primary
/// address and outcome are those of the family that opened (IPv4 when both did, or when
/// neither did), and when exactly one opened, the Happy Eyeballs cost of the other.
pub fn fold_families(target: String, families: Vec<FamilyProbe>) -> PortResult {
    let open = |f: &&FamilyProbe| f.outcome == PortOutcome::Open;
    let v4 = families.iter().find(|f| f.family == IpFamily::Ipv4);
    let primary = v4.filter(open).or_else(|| families.iter().find(open)).or(v4).or(families.first()).cloned();
    let opened: Vec<&FamilyProbe> = families.iter().filter(open).collect();
    let failed: Vec<&FamilyProbe> = families.iter().filter(|f| f.failed_on_the_network()).collect();
    let cost = match (opened.as_slice(), failed.as_slice()) {
        ([_], [f]) => Some(happy_eyeballs_cost_ms(f)),
        _ => None,
    };
    PortResult {
        target,
        address: primary.as_ref().map(|p| p.address),
        outcome: primary.as_ref().map_or(PortOutcome::LocalError, |p| p.outcome),
        ms: primary.as_ref().and_then(|p| p.ms),
        mss: primary.as_ref().and_then(|p| p.mss),
        error: primary.and_then(|p| p.error),
        attempts: None,
        families,
        happy_eyeballs_cost_ms: cost,
    }
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
    let usable = usable_families(ctx);
    let probes = targets.iter().map(|target| {
        let limit = Arc::clone(&limit);
        async move {
            if matches!(target.host, TargetHost::Name(_)) {
                wait_for_dns(ctx, stop_by).await;
            }
            let addresses = addresses_of(target, ctx, usable);
            let attempts = addresses.iter().map(|&ip| {
                let limit = Arc::clone(&limit);
                async move {
                    let _permit = limit.acquire().await.expect("semaphore is never closed");
                    connect(SocketAddr::new(ip, target.port), timeout, stop_by).await
                }
            });
            let mut families = futures::future::join_all(attempts).await;
            match families.len() {
                0 => PortResult {
                    target: target.to_string(),
                    address: None,
                    outcome: PortOutcome::Unresolved,
                    ms: None,
                    error: None,
                    attempts: None,
                    families: vec![],
                    happy_eyeballs_cost_ms: None,
                    mss: None,
                },
                1 => {
                    let only = families.remove(0);
                    PortResult {
                        target: target.to_string(),
                        address: Some(only.address),
                        outcome: only.outcome,
                        ms: only.ms,
                        error: only.error,
                        attempts: None,
                        families: vec![],
                        happy_eyeballs_cost_ms: None,
                        mss: only.mss,
                    }
                }
                _ => fold_families(target.to_string(), families),
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

/// Which families this machine would connect over, as glibc's `AI_ADDRCONFIG` decides
/// which records to ask for: IPv4 with an IPv4 address on the interface under test, IPv6
/// with an IPv6 address of global scope that is usable (not tentative, DAD not failed).
#[cfg(feature = "live")]
#[derive(Debug, Clone, Copy)]
pub(crate) struct Usable {
    /// IPv4 is usable.
    pub(crate) v4: bool,
    /// IPv6 is usable.
    pub(crate) v6: bool,
}

/// The families this machine would connect over ([`Usable`]), also for the web check's
/// per-family requests.
#[cfg(feature = "live")]
pub(crate) fn usable_families(ctx: &CheckContext<'_>) -> Usable {
    use crate::platform::netlink::AddrScope;
    let addrs = ctx.interface.map(|i| i.addresses.as_slice()).unwrap_or_default();
    Usable {
        v4: addrs.iter().any(|a| a.address.is_ipv4()),
        v6: addrs.iter().any(|a| a.address.is_ipv6() && a.scope == AddrScope::Global && !a.tentative && !a.dad_failed),
    }
}

/// The addresses to connect to for `target`: its literal; for a name, what the dns check
/// resolved: the first IPv4 and the first IPv6 address when the name has both and this
/// machine has both families ([`Usable`]), else one address (IPv4 first, which the
/// gateway check vouched for). Empty: the name did not resolve.
#[cfg(feature = "live")]
fn addresses_of(target: &Target, ctx: &CheckContext<'_>, usable: Usable) -> Vec<IpAddr> {
    match &target.host {
        TargetHost::Ip(ip) => vec![*ip],
        TargetHost::Name(name) => {
            let ips = ctx.facts.dns.get().and_then(|f| f.resolved.get(name)).map(Vec::as_slice).unwrap_or_default();
            let v4 = ips.iter().find(|ip| ip.is_ipv4()).copied();
            let v6 = ips.iter().find(|ip| ip.is_ipv6()).copied();
            match (v4, v6) {
                (Some(a), Some(b)) if usable.v4 && usable.v6 => vec![a, b],
                _ => v4.or(ips.first().copied()).into_iter().collect(),
            }
        }
    }
}

/// Whether `target` resolved to anything (for the skip when no named target did).
#[cfg(feature = "live")]
fn address_of(target: &Target, ctx: &CheckContext<'_>) -> Option<IpAddr> {
    addresses_of(target, ctx, Usable { v4: false, v6: false }).first().copied()
}

/// One TCP connect to `address`, classified.
#[cfg(feature = "live")]
async fn connect(address: SocketAddr, timeout: Duration, stop_by: Instant) -> FamilyProbe {
    let start = Instant::now();
    // A SYN unanswered when the run's deadline comes is as filtered as one that timed out.
    let timeout = timeout.min(stop_by.saturating_duration_since(start));
    let result = tokio::time::timeout(timeout, TcpStream::connect(address)).await;
    let ms = Some(millis(start.elapsed()));
    let (outcome, error, mss) = match result {
        Ok(Ok(stream)) => (PortOutcome::Open, None, segment_size(&stream)),
        Ok(Err(e)) => (classify_error(&e), Some(e.to_string()), None),
        Err(_) => (PortOutcome::Filtered, None, None),
    };
    FamilyProbe { family: IpFamily::of(address.ip()), address, outcome, ms, error, mss }
}

/// The maximum segment size of a connected stream (`TCP_MAXSEG`), read on the probe's own
/// socket: no extra connection. `None` when the kernel does not say.
#[cfg(feature = "live")]
pub(crate) fn segment_size(stream: &TcpStream) -> Option<u32> {
    socket2::SockRef::from(stream)
        .tcp_mss()
        .inspect_err(|e| tracing::debug!(error = %e, "TCP_MAXSEG not read"))
        .ok()
        .filter(|&mss| mss > 0)
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
        .extend(judge_families(CheckId::Ports, ev.targets.iter().map(|t| (t.target.as_str(), t.families.as_slice()))));
    findings
}

/// The per-family verdicts (pure), for every check that connects to a name over each
/// family (the ports check's targets, the web check's URL targets: one rule, one place):
/// `ipv6.broken` for targets that open over IPv4 but not over IPv6, `ipv4.broken` the other
/// way round, each a warning in `layer` (the target itself is reachable, as a dual-stack
/// client finds in the end) naming the targets, how the failing family ended, and for IPv6
/// the time a Happy Eyeballs client loses per connection. `targets` pairs each target as
/// shown with its per-family attempts (empty for one family: no verdict).
pub fn judge_families<'a>(
    layer: CheckId,
    targets: impl IntoIterator<Item = (&'a str, &'a [FamilyProbe])>,
) -> Vec<Finding> {
    let targets: Vec<(&str, &[FamilyProbe])> = targets.into_iter().collect();
    let mut findings = Vec::new();
    for (broken, works, code) in
        [(IpFamily::Ipv6, IpFamily::Ipv4, Code::Ipv6Broken), (IpFamily::Ipv4, IpFamily::Ipv6, Code::Ipv4Broken)]
    {
        let mut items: Vec<String> = Vec::new();
        let mut worst_cost: f64 = 0.0;
        for (target, families) in &targets {
            let of = |family| families.iter().find(|f| f.family == family);
            let (Some(bad), Some(good)) = (of(broken), of(works)) else { continue };
            if good.outcome != PortOutcome::Open || !bad.failed_on_the_network() {
                continue;
            }
            worst_cost = worst_cost.max(happy_eyeballs_cost_ms(bad));
            items.push(format!("{target} ({} {})", bad.address, bad.outcome.as_str()));
        }
        if items.is_empty() {
            continue;
        }
        let list = named(&items, ", ", MAX_NAMED);
        let (b, w) = (broken.name(), works.name());
        let message = if broken == IpFamily::Ipv6 {
            format!(
                "{b} connections fail while {w} works to {list}: a browser tries {b} first, so with Happy \
                 Eyeballs (RFC 8305) every connection waits up to {worst_cost:.0} ms before falling back to {w}, \
                 and a program without it waits for the TCP timeout"
            )
        } else {
            format!("{b} connections fail while {w} works to {list}: programs that use only {b} cannot reach them")
        };
        findings.push(finding(layer, code, Severity::Warn, message));
    }
    findings
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::{Error, ErrorKind};

    fn result(target: &str, outcome: PortOutcome) -> PortResult {
        PortResult {
            target: target.into(),
            address: None,
            outcome,
            ms: None,
            error: None,
            attempts: None,
            families: vec![],
            happy_eyeballs_cost_ms: None,
            mss: None,
        }
    }

    fn attempt(address: &str, outcome: PortOutcome, ms: f64) -> FamilyProbe {
        let address: SocketAddr = address.parse().unwrap();
        FamilyProbe { family: IpFamily::of(address.ip()), address, outcome, ms: Some(ms), error: None, mss: None }
    }

    fn codes(ev: &PortsEvidence) -> Vec<(Code, Severity)> {
        judge(ev).iter().map(|f| (f.code, f.severity)).collect()
    }

    #[test]
    fn a_family_that_fails_while_the_other_opens_is_named_and_the_target_is_reachable() {
        let v4 = "198.18.1.2:8080";
        let v6 = "[2001:2:0:2::2]:8080";
        let dual = |a: PortOutcome, b: PortOutcome, ms6: f64| {
            fold_families("www.site.test:8080".into(), vec![attempt(v4, a, 1.0), attempt(v6, b, ms6)])
        };
        let ev = |t| PortsEvidence { targets: vec![t], capture: None };

        // IPv6 dropped: the target opens over IPv4, and a Happy Eyeballs client loses the
        // whole Connection Attempt Delay on every connection.
        let t = dual(PortOutcome::Open, PortOutcome::Filtered, 3000.0);
        assert_eq!((t.outcome, t.address), (PortOutcome::Open, Some(v4.parse().unwrap())));
        assert_eq!(t.happy_eyeballs_cost_ms, Some(CONNECTION_ATTEMPT_DELAY_MS));
        assert_eq!(codes(&ev(t)), [(Code::Ipv6Broken, Severity::Warn)]);

        // A fast failure (ICMP, RST) costs its own time, at most the delay.
        let t = dual(PortOutcome::Open, PortOutcome::Unreachable, 3.5);
        assert_eq!(t.happy_eyeballs_cost_ms, Some(3.5));
        assert_eq!(codes(&ev(t)), [(Code::Ipv6Broken, Severity::Warn)]);

        // IPv4 dropped, IPv6 fine: reachable over IPv6, IPv4 named.
        let t = dual(PortOutcome::Filtered, PortOutcome::Open, 2.0);
        assert_eq!((t.outcome, t.address), (PortOutcome::Open, Some(v6.parse().unwrap())));
        assert_eq!(codes(&ev(t)), [(Code::Ipv4Broken, Severity::Warn)]);

        // Both open: nothing; both failing: the target fails as before, no family verdict.
        let t = dual(PortOutcome::Open, PortOutcome::Open, 2.0);
        assert_eq!((t.happy_eyeballs_cost_ms, codes(&ev(t))), (None, vec![]));
        let t = dual(PortOutcome::Filtered, PortOutcome::Refused, 2.0);
        assert_eq!(t.address, Some(v4.parse().unwrap()));
        assert_eq!(codes(&ev(t)), [(Code::PortsFiltered, Severity::Fail)]);

        // A local error on IPv6 (no source address) says nothing about the network.
        let t = dual(PortOutcome::Open, PortOutcome::LocalError, 0.1);
        assert_eq!((t.happy_eyeballs_cost_ms, codes(&ev(t))), (None, vec![]));
    }

    #[test]
    fn per_family_evidence_round_trips_and_is_absent_for_one_family() {
        let t = fold_families(
            "www.site.test:8080".into(),
            vec![
                attempt("198.18.1.2:8080", PortOutcome::Open, 1.0),
                attempt("[2001:2::2]:8080", PortOutcome::Filtered, 9.0),
            ],
        );
        let json = serde_json::to_value(&t).unwrap();
        assert_eq!(json["families"][1]["family"], "ipv6");
        assert_eq!(serde_json::from_value::<PortResult>(json).unwrap(), t);
        let single = serde_json::to_value(result("a:1", PortOutcome::Open)).unwrap();
        assert!(single.get("families").is_none() && single.get("happy_eyeballs_cost_ms").is_none());
        let read: PortResult = serde_json::from_value(single).unwrap();
        assert!(read.families.is_empty());
    }

    #[test]
    fn a_connect_that_needed_a_syn_retransmission_is_flaky() {
        let open = |ms| PortResult { ms: Some(ms), ..result("a:1", PortOutcome::Open) };
        let ev = |targets| PortsEvidence { targets, capture: None };
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
