//! The path layer: do full-size packets get through, or only small ones (path MTU)?
//!
//! For the gateway and for each target (the `--target` hosts: literals at once, names
//! with the dns check's answers, one address per family), ICMP echo is sent with Don't
//! Fragment at chosen packet sizes ([`crate::platform::icmp`]) between the protocol
//! minimum (576 bytes for IPv4, RFC 1191; 1280 for IPv6, RFC 8200) and the interface MTU.
//! The first round sends the full size and the minimum at once: when the full size comes
//! back the path is healthy and the check cost one round trip. Otherwise the search
//! ([`plan`], pure) follows a reported MTU (RFC 1191/8201: an IPv4 "fragmentation needed"
//! or ICMPv6 "packet too big" names the next hop's MTU) or bisects, up to 7 sizes in
//! flight per round, each round bounded by `max(4 x RTT, 100 ms)` (capped at 1 s), at
//! most [`MAX_ROUNDS`] rounds and [`SEARCH_BUDGET`] in all, so a blackhole is named in
//! well under 2 s on a LAN. [`conclude`] (pure) turns the probes into a [`PathStatus`]:
//! sizes that vanished without any report below the limit the network announced are a
//! blackhole (`path.mtu_blackhole`, RFC 2923 / RFC 4821 describe it); a smaller path MTU
//! that the network announced is `path.mtu_reduced` (a notice: a VPN or PPPoE does this
//! properly); the gateway itself losing full-size frames, or a router advertisement's MTU
//! that differs from the interface's, is `link.mtu_mismatch`.
//!
//! The check sits after gateway (it needs a working first hop) and before web and ports
//! in the report, so a blackhole is named as the root cause before the stalled downloads
//! and TLS handshakes above it: small packets pass, so nothing above is blocked
//! ([`Code::blocks`] is false). From a capture, `analyze` fills [`PathEvidence`] with the
//! fragmentation-needed and packet-too-big messages it shows ([`PathCapture`]) and calls
//! the same [`judge`] and [`notices`]: `path.mtu_reduced`; a blackhole is left to live runs
//! (docs/checks/path.md, "Live and capture").

use std::net::IpAddr;

use serde::{Deserialize, Serialize};

use crate::check::dns::Notice;
use crate::check::{finding, named};
use crate::report::{CheckId, Code, Finding, Severity};

/// The smallest IPv4 datagram every host must accept (RFC 791, RFC 1191's lowest plateau).
pub const MIN_V4: u32 = 576;
/// The IPv6 minimum link MTU (RFC 8200 section 5).
pub const MIN_V6: u32 = 1280;
/// Most rounds of probes per destination.
pub const MAX_ROUNDS: u32 = 8;
/// Most sizes in flight per round of the bisection.
pub const PER_ROUND: u32 = 7;
/// How long a destination's search may take in all (ms); the target for naming a
/// blackhole is 2 s.
pub const SEARCH_BUDGET_MS: u64 = 1_800;
/// [`SEARCH_BUDGET_MS`] as a duration.
pub const SEARCH_BUDGET: std::time::Duration = std::time::Duration::from_millis(SEARCH_BUDGET_MS);
/// A round waits for its answers at least this long (ms) ...
pub const ROUND_MIN_MS: f64 = 100.0;
/// ... and at most this long (ms), also when no round trip has been measured yet.
pub const ROUND_MAX_MS: f64 = 1_000.0;
/// Most destinations probed (gateways and target addresses).
pub const MAX_DESTINATIONS: usize = 16;
/// Most destinations named in one finding's message.
const MAX_NAMED: usize = 8;

/// What the path check saw.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct PathEvidence {
    /// The MTU of the interface under test: the full size probed.
    pub interface_mtu: Option<u32>,
    /// The MTU a router advertisement announced (RA MTU option, RFC 4861 4.6.4), when the
    /// ipv6 check handed one over ([`crate::check::Facts::ra_mtu`]).
    #[serde(default)]
    pub ra_mtu: Option<u32>,
    /// One search per destination.
    #[serde(default)]
    pub destinations: Vec<PathProbe>,
    /// Informational observations (`path.mtu_reduced`): codes that never change the
    /// status.
    #[serde(default)]
    pub notices: Vec<Notice>,
    /// Set when the evidence comes from a capture (`nettriage analyze`).
    #[serde(flatten)]
    pub capture: Option<PathCapture>,
}

/// What a capture adds to the path evidence. A capture shows no search: each destination
/// is one that ICMP "fragmentation needed" or "packet too big" was received about, with
/// `status` `reduced`, `too_big` the reports, `smallest_lost` and `full_size` the largest
/// packet they quoted, `reported_mtu` the lowest plausible MTU, and no `probes`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PathCapture {
    /// The capture file, as given.
    pub source: String,
    /// Fragmentation-needed and packet-too-big messages seen (the evidence lists at most
    /// `analyze::MAX_LISTED` destinations).
    pub too_big_total: u32,
}

/// Why a destination was probed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// A default gateway of the interface (the first hop).
    Gateway,
    /// A configured target.
    Target,
}

/// What the search found for one destination.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PathStatus {
    /// The interface MTU gets through.
    Full,
    /// Less gets through, and the network said so (fragmentation needed / packet too big).
    Reduced,
    /// Sizes below what the network announced vanish without a word: a blackhole.
    Blackhole,
    /// Not even the smallest size was answered: echo is filtered or the host is down, so
    /// nothing can be said about the MTU.
    NoEcho,
    /// The probes could not be sent.
    NotProbed,
}

impl PathStatus {
    /// The status as it appears in reports.
    pub fn as_str(self) -> &'static str {
        match self {
            PathStatus::Full => "full",
            PathStatus::Reduced => "reduced",
            PathStatus::Blackhole => "blackhole",
            PathStatus::NoEcho => "no_echo",
            PathStatus::NotProbed => "not_probed",
        }
    }
}

/// How one probe ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ProbeResult {
    /// Echo reply.
    Ok,
    /// No answer within the round.
    Lost,
    /// A router answered "fragmentation needed" / "packet too big".
    TooBig,
    /// The local stack refused it as too big (`EMSGSIZE`) although it fits the interface:
    /// the kernel already holds a smaller path MTU for the destination, learned from an
    /// earlier report (raw sockets still honour the route's cached MTU on output).
    LocalTooBig,
    /// The local stack refused to send it for another reason.
    SendError,
}

/// One echo request at one size.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct SizeProbe {
    /// The packet's size in bytes, IP header included (what an MTU limits).
    pub size: u32,
    /// The round it was sent in (1 = the first).
    pub round: u32,
    /// How it ended.
    pub result: ProbeResult,
    /// Time to the answer (reply or error).
    pub ms: Option<f64>,
}

/// A "fragmentation needed" (IPv4) or "packet too big" (IPv6) that quoted one of our
/// probes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct TooBigSeen {
    /// The router that sent it.
    pub from: IpAddr,
    /// The next-hop MTU it announced (0: a router from before RFC 1191).
    pub mtu: u32,
    /// The size of our probe it quoted.
    pub size: u32,
}

/// The search for one destination.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PathProbe {
    /// The destination as configured (`host:port`), or the gateway's address.
    pub target: String,
    /// Gateway or target.
    pub role: Role,
    /// The address probed.
    pub address: IpAddr,
    /// The verdict of the search.
    pub status: PathStatus,
    /// The full size probed (the interface MTU).
    pub full_size: u32,
    /// The smallest size probed (576 or 1280).
    pub min_size: u32,
    /// The largest size that came back.
    pub largest_ok: Option<u32>,
    /// The smallest size above `largest_ok` that did not.
    pub smallest_lost: Option<u32>,
    /// The lowest MTU a router announced, if any did.
    pub reported_mtu: Option<u32>,
    /// Every fragmentation-needed / packet-too-big received (at most one per probe).
    #[serde(default)]
    pub too_big: Vec<TooBigSeen>,
    /// Every probe sent.
    #[serde(default)]
    pub probes: Vec<SizeProbe>,
    /// The round-trip time of the fastest reply.
    pub rtt_ms: Option<f64>,
    /// Rounds of probes sent.
    pub rounds: u32,
    /// Time the search took.
    pub ms: f64,
}

impl PathProbe {
    /// `ipv4` or `ipv6`.
    pub fn family(&self) -> &'static str {
        if self.address.is_ipv4() { "ipv4" } else { "ipv6" }
    }
}

/// The minimum probe size for `address`'s family.
pub fn min_size(address: IpAddr) -> u32 {
    if address.is_ipv4() { MIN_V4 } else { MIN_V6 }
}

/// What a set of probes says (pure): the largest size answered, and the smallest above it
/// that was not.
fn bounds(probes: &[SizeProbe]) -> (Option<u32>, Option<u32>) {
    let largest_ok = probes.iter().filter(|p| p.result == ProbeResult::Ok).map(|p| p.size).max();
    let floor = largest_ok.unwrap_or(0);
    let smallest_failed = probes
        .iter()
        .filter(|p| matches!(p.result, ProbeResult::Lost | ProbeResult::TooBig | ProbeResult::LocalTooBig))
        .filter(|p| p.size > floor)
        .filter(|p| !probes.iter().any(|q| q.size == p.size && q.result == ProbeResult::Ok))
        .map(|p| p.size)
        .min();
    (largest_ok, smallest_failed)
}

/// The largest size the network announced would pass: for each report, its MTU when it
/// is plausible (above 0 and below the quoted size), else one less than the quoted size;
/// a size the local stack refused as too big (a path MTU the kernel learned from an
/// earlier report) counts as a report without an MTU.
fn announced_limit(probes: &[SizeProbe], too_big: &[TooBigSeen]) -> Option<u32> {
    let reports = too_big.iter().map(|t| if t.mtu > 0 && t.mtu < t.size { t.mtu } else { t.size.saturating_sub(1) });
    let local = probes.iter().filter(|p| p.result == ProbeResult::LocalTooBig).map(|p| p.size.saturating_sub(1));
    reports.chain(local).min()
}

/// The lowest plausible MTU a router announced (above 0 and below the size it quoted).
fn reported_mtu(too_big: &[TooBigSeen]) -> Option<u32> {
    too_big.iter().filter(|t| t.mtu > 0 && t.mtu < t.size).map(|t| t.mtu).min()
}

fn attempts(probes: &[SizeProbe], size: u32) -> usize {
    probes.iter().filter(|p| p.size == size).count()
}

/// The next round's sizes (pure), or `None` when the search is done. The first round is
/// the full size and the minimum; a reported MTU is tried next (RFC 1191); otherwise the
/// interval between the largest size answered and the smallest lost is cut into
/// [`PER_ROUND`] + 1 parts. A full size lost with no report is sent again once beside
/// the bisection (one lost packet is not a blackhole); a lost minimum is sent again only
/// when a router answered the full size (else echo is taken to be filtered).
pub fn plan(full: u32, min: u32, probes: &[SizeProbe], too_big: &[TooBigSeen]) -> Option<Vec<u32>> {
    let min = min.min(full);
    if probes.is_empty() {
        return Some(if full == min { vec![full] } else { vec![full, min] });
    }
    let (largest_ok, smallest_failed) = bounds(probes);
    if largest_ok == Some(full) {
        return None;
    }
    let Some(lo) = largest_ok else {
        // No echo came back. With no sign of life at all, echo is filtered (or the host is
        // down): stop after the first round rather than wait again. When a router did
        // answer (too big), the minimum is tried once more.
        if too_big.is_empty() || attempts(probes, min) >= 2 {
            return None;
        }
        let mut again = vec![min];
        if full != min && attempts(probes, full) < 2 {
            again.insert(0, full);
        }
        return Some(again);
    };
    let hi = smallest_failed.unwrap_or(full).min(full);
    if announced_limit(probes, too_big).is_some_and(|limit| lo >= limit) {
        // What the network announced gets through: the path MTU is known.
        return None;
    }
    // A reported MTU is tried at once; a report without one (or a local refusal) only
    // bounds the bisection.
    if let Some(limit) = reported_mtu(too_big)
        && limit > lo
        && limit < hi
        && attempts(probes, limit) == 0
    {
        return Some(vec![limit]);
    }
    if hi <= lo + 1 {
        return None;
    }
    let gap = hi - lo;
    let k = PER_ROUND.min(gap - 1);
    let mut sizes: Vec<u32> = (1..=k).map(|i| lo + (u64::from(gap) * u64::from(i) / u64::from(k + 1)) as u32).collect();
    sizes.dedup();
    let full_lost = probes.iter().any(|p| p.size == full && p.result == ProbeResult::Lost);
    if too_big.is_empty() && full_lost && attempts(probes, full) < 2 {
        sizes.push(full);
    }
    Some(sizes)
}

/// The verdict of a finished search (pure): status, largest size answered, smallest above
/// it lost, lowest announced MTU.
pub fn conclude(
    full: u32,
    probes: &[SizeProbe],
    too_big: &[TooBigSeen],
) -> (PathStatus, Option<u32>, Option<u32>, Option<u32>) {
    let (largest_ok, smallest_failed) = bounds(probes);
    let reported = reported_mtu(too_big);
    let status = match largest_ok {
        None if !probes.is_empty() && probes.iter().all(|p| p.result == ProbeResult::SendError) => {
            PathStatus::NotProbed
        }
        None => PathStatus::NoEcho,
        Some(ok) if ok >= full => PathStatus::Full,
        Some(ok) => {
            let limit = announced_limit(probes, too_big).unwrap_or(full).min(full);
            if ok >= limit { PathStatus::Reduced } else { PathStatus::Blackhole }
        }
    };
    (status, largest_ok, smallest_failed, reported)
}

/// The round's time limit (ms) after the fastest reply so far: `max(4 x RTT, 100 ms)`,
/// at most 1 s (and 1 s while no round trip is known).
pub fn round_limit_ms(rtt_ms: Option<f64>) -> f64 {
    rtt_ms.map_or(ROUND_MAX_MS, |rtt| (4.0 * rtt).clamp(ROUND_MIN_MS, ROUND_MAX_MS))
}

fn describe(p: &PathProbe) -> String {
    let name =
        if p.target == p.address.to_string() { p.target.clone() } else { format!("{} ({})", p.target, p.address) };
    match (p.largest_ok, p.smallest_lost) {
        (Some(ok), Some(lost)) => format!("{name}: {ok} bytes pass, {lost} are lost"),
        (Some(ok), None) => format!("{name}: {ok} bytes pass"),
        _ => name,
    }
}

/// The informational notices (pure): `path.mtu_reduced` for destinations whose smaller
/// path MTU the network announced.
pub fn notices(ev: &PathEvidence) -> Vec<Notice> {
    let reduced: Vec<String> = ev
        .destinations
        .iter()
        .filter(|p| p.status == PathStatus::Reduced)
        .map(|p| match p.reported_mtu {
            Some(mtu) => format!("{} (announced MTU {mtu})", describe(p)),
            None => format!("{} (this host already knew the smaller path MTU)", describe(p)),
        })
        .collect();
    if reduced.is_empty() {
        return vec![];
    }
    vec![Notice {
        code: Code::PathMtuReduced,
        message: format!(
            "the path MTU is below the interface's and routers said so: {}",
            named(&reduced, "; ", MAX_NAMED)
        ),
    }]
}

/// Judges the searches (pure). A target whose large packets vanish with no report is a
/// blackhole (fail). The gateway losing full-size frames (its interface takes less than
/// ours: no router reports an MTU for a packet addressed to itself), or a router
/// advertisement's MTU other than the interface's, is an MTU mismatch on the link (warn).
/// A reduced path MTU the network announced is a notice, not a finding.
pub fn judge(ev: &PathEvidence) -> Vec<Finding> {
    let mut findings = Vec::new();
    let mut mismatch: Vec<String> = ev
        .destinations
        .iter()
        .filter(|p| p.role == Role::Gateway && matches!(p.status, PathStatus::Blackhole | PathStatus::Reduced))
        .map(|p| format!("gateway {}", describe(p)))
        .collect();
    if let (Some(ra), Some(mtu)) = (ev.ra_mtu, ev.interface_mtu)
        && ra != mtu
    {
        mismatch.push(format!("the router advertises MTU {ra}, the interface has {mtu}"));
    }
    if !mismatch.is_empty() {
        findings.push(finding(
            CheckId::Path,
            Code::LinkMtuMismatch,
            Severity::Warn,
            format!("the interface and the router disagree on the MTU: {}", named(&mismatch, "; ", MAX_NAMED)),
        ));
    }
    let blackholes: Vec<String> = ev
        .destinations
        .iter()
        .filter(|p| p.role == Role::Target && p.status == PathStatus::Blackhole)
        .map(describe)
        .collect();
    if !blackholes.is_empty() {
        findings.push(finding(
            CheckId::Path,
            Code::PathMtuBlackhole,
            Severity::Fail,
            format!(
                "large packets vanish without an ICMP error (a path MTU blackhole): {}",
                named(&blackholes, "; ", MAX_NAMED)
            ),
        ));
    }
    findings
}

#[cfg(feature = "live")]
pub use live::run;

#[cfg(feature = "live")]
mod live {
    use std::collections::HashMap;
    use std::net::IpAddr;
    use std::time::{Duration, Instant};

    use super::*;
    use crate::check::{CheckContext, CheckError, Outcome};
    use crate::config::{Target, TargetHost};
    use crate::platform::icmp::{self, EchoSocket, IcmpEvent};
    use crate::report::{Evidence, SkipReason};
    use crate::types::millis;

    /// Linux's "message too long".
    const EMSGSIZE: i32 = 90;

    /// One destination to search.
    struct Destination {
        target: String,
        role: Role,
        address: IpAddr,
    }

    /// Runs the path check.
    pub async fn run(ctx: &CheckContext<'_>) -> Result<Outcome, CheckError> {
        let iface = ctx.interface.ok_or(CheckError::NoInterface)?;
        let stop_by = ctx.cutoff();
        if ctx.config.targets.iter().any(|t| matches!(t.host, TargetHost::Name(_))) {
            let _ = tokio::time::timeout_at(stop_by.into(), ctx.facts.finished(CheckId::Dns)).await;
        }
        let mut destinations: Vec<Destination> = Vec::new();
        for route in ctx.snapshot.default_routes().into_iter().filter(|r| r.oif == Some(iface.index)) {
            if let Some(gw) = route.gateway
                && !is_link_local(gw)
                && !destinations.iter().any(|d| d.address == gw)
            {
                destinations.push(Destination { target: gw.to_string(), role: Role::Gateway, address: gw });
            }
        }
        for target in &ctx.config.targets {
            for address in addresses_of(target, ctx) {
                if !destinations.iter().any(|d| d.address == address && d.role == Role::Target) {
                    destinations.push(Destination { target: target.to_string(), role: Role::Target, address });
                }
            }
        }
        destinations.truncate(MAX_DESTINATIONS);
        if destinations.is_empty() {
            return Ok(Outcome::Skipped {
                code: SkipReason::NoTargets,
                reason: "no gateway and no target address to probe the path to".into(),
                blocked_by: None,
                evidence: Evidence::None,
            });
        }
        if !ctx.privileges.net_raw {
            return Err(CheckError::NoPrivilege {
                capability: "CAP_NET_RAW",
                operation: "send ICMP echo with Don't Fragment (path MTU)",
            });
        }
        let interface_mtu = iface.mtu;
        let full = interface_mtu.unwrap_or(1500).clamp(icmp::MIN_PACKET, icmp::MAX_PACKET);
        let stop_by = stop_by.min(Instant::now() + SEARCH_BUDGET);
        let searches = destinations.iter().map(|d| search(d, full, stop_by));
        let mut probes = Vec::new();
        for result in futures::future::join_all(searches).await {
            probes.push(result?);
        }
        let mut ev = PathEvidence {
            interface_mtu,
            ra_mtu: ctx.facts.ra_mtu.get().copied(),
            destinations: probes,
            notices: vec![],
            capture: None,
        };
        ev.notices = notices(&ev);
        Ok(Outcome::Ran { findings: judge(&ev), evidence: Evidence::Path(Box::new(ev)) })
    }

    fn is_link_local(ip: IpAddr) -> bool {
        match ip {
            IpAddr::V4(v4) => v4.is_link_local(),
            IpAddr::V6(v6) => v6.segments()[0] & 0xffc0 == 0xfe80,
        }
    }

    /// A target's addresses: its literal, or the first address per family the dns check
    /// resolved for its name.
    fn addresses_of(target: &Target, ctx: &CheckContext<'_>) -> Vec<IpAddr> {
        match &target.host {
            TargetHost::Ip(ip) => vec![*ip],
            TargetHost::Name(name) => {
                let Some(ips) = ctx.facts.dns.get().and_then(|f| f.resolved.get(name)) else { return vec![] };
                let v4 = ips.iter().find(|ip| ip.is_ipv4());
                let v6 = ips.iter().find(|ip| ip.is_ipv6());
                v4.into_iter().chain(v6).copied().collect()
            }
        }
    }

    /// Searches one destination's path MTU.
    async fn search(d: &Destination, interface_full: u32, stop_by: Instant) -> Result<PathProbe, CheckError> {
        let start = Instant::now();
        let min = min_size(d.address);
        let full = interface_full.max(min);
        let socket = EchoSocket::open(d.address.is_ipv6()).map_err(|e| {
            CheckError::from_io(
                format!("opening a raw ICMP socket for {}", d.address),
                "CAP_NET_RAW",
                "send ICMP echo with Don't Fragment (path MTU)",
                e,
            )
        })?;
        let source = icmp::source_for(d.address).map_err(|e| CheckError::Os {
            operation: format!("choosing a source address for {}", d.address),
            source: e,
        })?;
        let ident: u16 = rand::random();
        let mut state = Search::default();
        while state.rounds < MAX_ROUNDS && Instant::now() < stop_by {
            let Some(sizes) = plan(full, min, &state.probes, &state.too_big) else { break };
            state.rounds += 1;
            round(&socket, d.address, source, ident, &sizes, &mut state, stop_by).await;
        }
        let (status, largest_ok, smallest_lost, reported_mtu) = conclude(full, &state.probes, &state.too_big);
        tracing::debug!(address = %d.address, ?status, ?largest_ok, ?smallest_lost, rounds = state.rounds, "path MTU search done");
        Ok(PathProbe {
            target: d.target.clone(),
            role: d.role,
            address: d.address,
            status,
            full_size: full,
            min_size: min,
            largest_ok,
            smallest_lost,
            reported_mtu,
            too_big: state.too_big,
            probes: state.probes,
            rtt_ms: state.rtt_ms,
            rounds: state.rounds,
            ms: millis(start.elapsed()),
        })
    }

    #[derive(Default)]
    struct Search {
        probes: Vec<SizeProbe>,
        too_big: Vec<TooBigSeen>,
        rtt_ms: Option<f64>,
        rounds: u32,
        next_seq: u16,
    }

    /// Sends one round of sizes at once and waits for their answers: until each is
    /// answered, or the round's limit after the send (shortened once a reply gives an RTT),
    /// or `stop_by`.
    async fn round(
        socket: &EchoSocket,
        address: IpAddr,
        source: IpAddr,
        ident: u16,
        sizes: &[u32],
        state: &mut Search,
        stop_by: Instant,
    ) {
        let sent_at = Instant::now();
        let mut pending: HashMap<u16, usize> = HashMap::new();
        for &size in sizes {
            let seq = state.next_seq;
            state.next_seq = state.next_seq.wrapping_add(1);
            let packet = match (source, address) {
                (IpAddr::V4(s), IpAddr::V4(a)) => icmp::build_echo_v4(s, a, ident, seq, size),
                (IpAddr::V6(s), IpAddr::V6(a)) => icmp::build_echo_v6(s, a, ident, seq, size),
                _ => continue,
            };
            let result = match socket.send(&packet, address).await {
                Ok(()) => ProbeResult::Lost,
                Err(e) if e.raw_os_error() == Some(EMSGSIZE) => ProbeResult::LocalTooBig,
                Err(e) => {
                    tracing::debug!(%address, size, error = %e, "probe not sent");
                    ProbeResult::SendError
                }
            };
            state.probes.push(SizeProbe { size, round: state.rounds, result, ms: None });
            if result == ProbeResult::Lost {
                pending.insert(seq, state.probes.len() - 1);
            }
        }
        let limit = |rtt: Option<f64>| {
            let by = sent_at + Duration::from_secs_f64(round_limit_ms(rtt) / 1000.0);
            by.min(stop_by)
        };
        let mut until = limit(state.rtt_ms);
        let mut buf = vec![0u8; 2048];
        while !pending.is_empty() {
            let event = match tokio::time::timeout_at(until.into(), socket.recv(&mut buf)).await {
                Ok(Ok(event)) => event,
                Ok(Err(e)) => {
                    tracing::debug!(%address, error = %e, "receiving ICMP failed");
                    break;
                }
                Err(_) => break,
            };
            let ms = millis(sent_at.elapsed());
            match event {
                IcmpEvent::EchoReply { from, ident: id, seq } if from == address && id == ident => {
                    if let Some(at) = pending.remove(&seq) {
                        state.probes[at].result = ProbeResult::Ok;
                        state.probes[at].ms = Some(ms);
                        state.rtt_ms = Some(state.rtt_ms.map_or(ms, |r: f64| r.min(ms)));
                        until = until.min(limit(state.rtt_ms));
                    }
                }
                IcmpEvent::TooBig { from, mtu, destination, ident: id, seq, size }
                    if destination == address && id == ident =>
                {
                    if let Some(at) = pending.remove(&seq) {
                        state.probes[at].result = ProbeResult::TooBig;
                        state.probes[at].ms = Some(ms);
                        state.too_big.push(TooBigSeen { from, mtu, size: size.min(state.probes[at].size) });
                    }
                }
                _ => {}
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A simulated path: sizes up to `pmtu` pass; larger ones get a report of `pmtu` when
    /// `reports`, else vanish. The minimum is always answered unless `no_echo`.
    struct Path {
        pmtu: u32,
        reports: bool,
        no_echo: bool,
        /// The first full-size probe is lost (random loss).
        lose_first_full: bool,
    }

    fn simulate(full: u32, min: u32, path: &Path) -> (Vec<SizeProbe>, Vec<TooBigSeen>, u32) {
        let router: IpAddr = "198.18.0.1".parse().unwrap();
        let (mut probes, mut too_big, mut rounds) = (Vec::new(), Vec::new(), 0);
        while rounds < MAX_ROUNDS {
            let Some(sizes) = plan(full, min, &probes, &too_big) else { break };
            rounds += 1;
            for size in sizes {
                let lost_full =
                    path.lose_first_full && size == full && !probes.iter().any(|p: &SizeProbe| p.size == full);
                let result = if path.no_echo || lost_full {
                    ProbeResult::Lost
                } else if size <= path.pmtu {
                    ProbeResult::Ok
                } else if path.reports {
                    too_big.push(TooBigSeen { from: router, mtu: path.pmtu, size });
                    ProbeResult::TooBig
                } else {
                    ProbeResult::Lost
                };
                probes.push(SizeProbe { size, round: rounds, result, ms: None });
            }
        }
        (probes, too_big, rounds)
    }

    #[test]
    fn a_healthy_path_costs_one_round() {
        let (probes, too_big, rounds) =
            simulate(1500, MIN_V4, &Path { pmtu: 1500, reports: true, no_echo: false, lose_first_full: false });
        assert_eq!((rounds, probes.len()), (1, 2));
        assert_eq!(conclude(1500, &probes, &too_big), (PathStatus::Full, Some(1500), None, None));
    }

    #[test]
    fn a_reported_mtu_is_confirmed_in_one_more_round() {
        let (probes, too_big, rounds) =
            simulate(1500, MIN_V4, &Path { pmtu: 1400, reports: true, no_echo: false, lose_first_full: false });
        assert_eq!(rounds, 2);
        assert_eq!(conclude(1500, &probes, &too_big), (PathStatus::Reduced, Some(1400), Some(1500), Some(1400)));
    }

    #[test]
    fn a_blackhole_is_bisected_to_the_byte_in_a_few_rounds() {
        for (full, min, pmtu) in [(1500, MIN_V4, 1400), (1500, MIN_V6, 1400), (9000, MIN_V4, 1500), (1500, MIN_V4, 577)]
        {
            let (probes, too_big, rounds) =
                simulate(full, min, &Path { pmtu, reports: false, no_echo: false, lose_first_full: false });
            assert!(rounds <= 6, "{full}/{pmtu}: {rounds} rounds");
            assert_eq!(
                conclude(full, &probes, &too_big),
                (PathStatus::Blackhole, Some(pmtu), Some(pmtu + 1), None),
                "{full}/{pmtu}"
            );
            assert!(probes.len() <= 8 * rounds as usize);
        }
    }

    #[test]
    fn one_lost_full_size_probe_is_not_a_blackhole() {
        let (probes, too_big, _) =
            simulate(1500, MIN_V4, &Path { pmtu: 1500, reports: false, no_echo: false, lose_first_full: true });
        assert_eq!(conclude(1500, &probes, &too_big).0, PathStatus::Full);
    }

    #[test]
    fn no_echo_at_all_is_no_verdict() {
        let (probes, too_big, rounds) =
            simulate(1500, MIN_V4, &Path { pmtu: 1500, reports: false, no_echo: true, lose_first_full: false });
        assert_eq!(rounds, 1, "no sign of life: no second wait");
        assert_eq!(conclude(1500, &probes, &too_big).0, PathStatus::NoEcho);
    }

    #[test]
    fn a_report_above_what_passes_leaves_a_blackhole_further_on() {
        // The first router announces 1400, but a tunnel after it drops anything above 1300.
        let router: IpAddr = "198.18.0.1".parse().unwrap();
        let too_big = vec![TooBigSeen { from: router, mtu: 1400, size: 1500 }];
        let mut probes = vec![
            SizeProbe { size: 1500, round: 1, result: ProbeResult::TooBig, ms: None },
            SizeProbe { size: 576, round: 1, result: ProbeResult::Ok, ms: None },
        ];
        assert_eq!(plan(1500, 576, &probes, &too_big), Some(vec![1400]));
        probes.push(SizeProbe { size: 1400, round: 2, result: ProbeResult::Lost, ms: None });
        let next = plan(1500, 576, &probes, &too_big).unwrap();
        assert!(next.iter().all(|s| (577..1400).contains(s)), "{next:?}");
        probes.push(SizeProbe { size: 1300, round: 3, result: ProbeResult::Ok, ms: None });
        assert_eq!(conclude(1500, &probes, &too_big).0, PathStatus::Blackhole);
        // A report without an MTU (before RFC 1191) bounds a bisection below the quoted
        // size, and the full size is not sent again.
        let old = vec![TooBigSeen { from: router, mtu: 0, size: 1500 }];
        let next = plan(1500, 576, &probes[..2], &old).unwrap();
        assert!(next.len() > 1 && next.iter().all(|s| (577..1500).contains(s)), "{next:?}");
    }

    #[test]
    fn a_path_mtu_the_kernel_already_knows_is_bisected_and_reduced() {
        // Sizes above 1400 are refused at once by the local stack (a cached path MTU).
        let mut probes: Vec<SizeProbe> = Vec::new();
        let mut rounds = 0;
        while let Some(sizes) = plan(1500, MIN_V4, &probes, &[]) {
            rounds += 1;
            assert!(rounds <= MAX_ROUNDS, "the search ends");
            for size in sizes {
                let result = if size > 1400 { ProbeResult::LocalTooBig } else { ProbeResult::Ok };
                probes.push(SizeProbe { size, round: rounds, result, ms: None });
            }
        }
        assert_eq!(conclude(1500, &probes, &[]), (PathStatus::Reduced, Some(1400), Some(1401), None));
        assert_eq!(attempts(&probes, 1500), 1, "a refused full size is not sent again");
    }

    #[test]
    fn round_limits_follow_the_rtt() {
        assert_eq!(round_limit_ms(None), ROUND_MAX_MS);
        assert_eq!(round_limit_ms(Some(0.2)), ROUND_MIN_MS);
        assert_eq!(round_limit_ms(Some(50.0)), 200.0);
        assert_eq!(round_limit_ms(Some(900.0)), ROUND_MAX_MS);
    }

    fn probe(role: Role, status: PathStatus, ok: u32, lost: u32, reported: Option<u32>) -> PathProbe {
        PathProbe {
            target: "198.18.1.2:8080".into(),
            role,
            address: "198.18.1.2".parse().unwrap(),
            status,
            full_size: 1500,
            min_size: MIN_V4,
            largest_ok: Some(ok),
            smallest_lost: Some(lost),
            reported_mtu: reported,
            too_big: vec![],
            probes: vec![],
            rtt_ms: Some(0.1),
            rounds: 2,
            ms: 1.0,
        }
    }

    fn codes(ev: &PathEvidence) -> Vec<(Code, Severity)> {
        judge(ev).iter().map(|f| (f.code, f.severity)).collect()
    }

    #[test]
    fn verdicts_per_status_and_role() {
        let mut ev = PathEvidence { interface_mtu: Some(1500), ..PathEvidence::default() };
        ev.destinations = vec![probe(Role::Gateway, PathStatus::Full, 1500, 0, None)];
        assert!(codes(&ev).is_empty() && notices(&ev).is_empty());
        ev.destinations.push(probe(Role::Target, PathStatus::Reduced, 1400, 1500, Some(1400)));
        assert!(codes(&ev).is_empty(), "an announced reduction is not a fault");
        assert_eq!(notices(&ev).iter().map(|n| n.code).collect::<Vec<_>>(), [Code::PathMtuReduced]);
        ev.destinations.push(probe(Role::Target, PathStatus::Blackhole, 1400, 1401, None));
        assert_eq!(codes(&ev), [(Code::PathMtuBlackhole, Severity::Fail)]);
        ev.destinations[0] = probe(Role::Gateway, PathStatus::Blackhole, 1400, 1401, None);
        assert_eq!(codes(&ev), [(Code::LinkMtuMismatch, Severity::Warn), (Code::PathMtuBlackhole, Severity::Fail)]);
        // No echo says nothing.
        let quiet = PathEvidence {
            interface_mtu: Some(1500),
            destinations: vec![probe(Role::Target, PathStatus::NoEcho, 0, 0, None)],
            ..PathEvidence::default()
        };
        assert!(codes(&quiet).is_empty());
    }

    #[test]
    fn a_router_advertising_another_mtu_is_a_mismatch() {
        let mut ev = PathEvidence { interface_mtu: Some(1500), ra_mtu: Some(1500), ..PathEvidence::default() };
        assert!(codes(&ev).is_empty());
        ev.ra_mtu = Some(1400);
        assert_eq!(codes(&ev), [(Code::LinkMtuMismatch, Severity::Warn)]);
    }

    #[test]
    fn evidence_round_trips_through_json() {
        let ev = PathEvidence {
            interface_mtu: Some(1500),
            ra_mtu: None,
            destinations: vec![probe(Role::Target, PathStatus::Blackhole, 1400, 1401, None)],
            notices: vec![],
            capture: None,
        };
        let json = serde_json::to_value(&ev).unwrap();
        assert_eq!(json["destinations"][0]["status"], "blackhole");
        assert_eq!(serde_json::from_value::<PathEvidence>(json).unwrap(), ev);
    }
}
