//! The gateway layer: is there a default route, does the gateway exist on the link (ARP),
//! and how well does it answer ping (loss, RTT, jitter)?
//!
//! ARP is what tells "the gateway is gone" (`gateway.unreachable`) apart from "the gateway
//! drops ping to itself" (`gateway.no_echo`, a warning: traffic through it may work, and
//! the later layers show whether it does). Probing needs CAP_NET_RAW; finding the default
//! route does not. Without CAP_NET_RAW the echo series still runs over an unprivileged ICMP
//! datagram socket where `net.ipv4.ping_group_range` allows it
//! ([`crate::platform::icmp::echo_client`]; ARP is then not asked, `no_privilege`, and a
//! `tool.no_privilege` warning says so); [`GatewayEvidence::echo_socket`] names the kind of
//! socket used. The judging half (`judge`) is pure; `nettriage analyze`
//! ([`crate::analyze`]) fills the same [`GatewayEvidence`] from a capture's ARP and echo
//! exchanges and calls it with [`Source::Capture`].
//!
//! IPv6 beside IPv4: the interface's IPv6 default routers (from the same netlink
//! snapshot) are probed the same way in [`GatewayEvidence::gateways_v6`]: a Neighbor
//! Solicitation ([`crate::platform::neighbor_solicit`], the ARP of IPv6) tells a router
//! that is gone (`gateway.v6_unreachable`) from one that drops echo (`gateway.v6_no_echo`),
//! then an ICMPv6 echo series gives loss and jitter (`gateway.v6_loss`,
//! `gateway.v6_latency`). The IPv4 judgement does not change; an IPv6 problem beside an
//! IPv4 gateway that answers is a warning (the run is degraded, not broken), and a failure
//! only when no IPv4 gateway answers. None of the IPv6 codes blocks later layers. From a
//! capture, the IPv6 routers are those its Router Advertisements or Neighbor
//! Advertisements (R flag) show, with the Neighbor Solicitations and echoes other hosts
//! sent them.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::time::Duration;
#[cfg(feature = "live")]
use std::time::Instant;

use serde::{Deserialize, Serialize};
#[cfg(feature = "live")]
use surge_ping::{Client, PingIdentifier, PingSequence};

#[cfg(feature = "live")]
use crate::check::{CheckContext, CheckError, Outcome, dhcp};
use crate::check::{Source, finding, named};
use crate::config::GatewaySettings;
#[cfg(feature = "live")]
use crate::platform::arp;
use crate::platform::icmp::EchoSocketKind;
#[cfg(feature = "live")]
use crate::platform::neighbor_solicit;
use crate::platform::netlink::{AddrScope, Interface, Route};
#[cfg(feature = "live")]
use crate::report::Evidence;
use crate::report::{CheckId, Code, Finding, Severity};
use crate::types::{MacAddr, millis};

/// Most addresses named in one finding's message.
const MAX_NAMED: usize = 10;
/// A capture judges an unanswered ARP target only when someone asked this often (as a
/// host resolving its gateway does, and as the live check does) or also pinged it.
const CAPTURE_ARP_REQUESTS: u32 = 3;
/// A capture judges an unanswered ARP target also when this many hosts asked for it.
const CAPTURE_ARP_HOSTS: u32 = 3;
/// A host that asks ARP for this many different addresses is sweeping the segment (a
/// router refreshing its neighbours, a scanner); its unanswered lookups are of hosts that
/// are absent, not of a gateway (`ArpSeen::sweep`).
pub const ARP_SWEEP_TARGETS: u32 = 8;

/// What the gateway check saw.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GatewayEvidence {
    /// Every default route on the machine (IPv4 and IPv6), for context.
    #[serde(default)]
    pub default_routes: Vec<Route>,
    /// The IPv4 gateways of the interface under test, each probed. From a capture: every
    /// ARP or echo target, in order of first appearance (a capture does not say which
    /// address is the gateway).
    #[serde(default)]
    pub gateways: Vec<GatewayProbe>,
    /// Set when the evidence comes from a capture.
    #[serde(flatten)]
    pub capture: Option<GatewayCapture>,
    /// The IPv6 default routers of the interface under test, each probed (live only;
    /// absent when it has none).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub gateways_v6: Vec<GatewayV6Probe>,
    /// The kind of socket the echo series went over (live only): `raw` (CAP_NET_RAW) or
    /// `datagram` (an unprivileged ICMP socket, allowed by `net.ipv4.ping_group_range`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub echo_socket: Option<EchoSocketKind>,
}

/// Probes of one IPv6 default router: Neighbor Solicitation, then ICMPv6 echo.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GatewayV6Probe {
    /// The router's address (usually link-local; the interface under test is its zone).
    pub address: Ipv6Addr,
    /// The Neighbor Solicitation (RFC 4861 section 7.2.2), reported as an ARP lookup is:
    /// `answered` with the MAC and time, `no_reply` after up to 3 solicitations, or
    /// `not_applicable` (no Ethernet framing, or no IPv6 address to ask from).
    pub ns: ArpResult,
    /// The ICMPv6 echo series; null when the solicitation showed the router is gone.
    pub ping: Option<PingStats>,
}

/// What a capture adds to the gateway evidence.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GatewayCapture {
    /// The capture file, as given.
    pub source: String,
    /// Targets seen (the report lists at most `analyze::MAX_LISTED`).
    pub gateways_total: usize,
    /// ARP and echo requests beyond `analyze::MAX_TRACKED`, counted only.
    pub untracked: u32,
}

/// Probes of one gateway.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GatewayProbe {
    /// The gateway's address (IPv6 only for echo targets in a capture).
    pub address: IpAddr,
    /// The ARP lookup.
    pub arp: ArpResult,
    /// The echo series; null when ARP already showed the gateway is gone.
    pub ping: Option<PingStats>,
}

/// How the ARP lookup ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ArpStatus {
    /// The gateway answered.
    Answered,
    /// No answer to any request: the gateway is not on the link.
    NoReply,
    /// Not asked: the link has no Ethernet framing, or no address to ask from (or, in a
    /// capture, the target was only pinged).
    NotApplicable,
    /// Not asked: the run had no CAP_NET_RAW for a packet socket (the echo series went
    /// over an unprivileged ICMP socket instead).
    NoPrivilege,
}

impl std::fmt::Display for ArpStatus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            ArpStatus::Answered => "answered",
            ArpStatus::NoReply => "no_reply",
            ArpStatus::NotApplicable => "not_applicable",
            ArpStatus::NoPrivilege => "no_privilege",
        })
    }
}

/// Outcome of the ARP lookup.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ArpResult {
    /// `answered`, `no_reply`, or `not_applicable` (the link has no Ethernet framing).
    pub status: ArpStatus,
    /// The MAC that answered.
    pub mac: Option<MacAddr>,
    /// Time to the reply.
    pub rtt_ms: Option<f64>,
    /// Requests sent.
    #[serde(default)]
    pub requests_sent: u32,
    /// Set when the lookup was read from a capture.
    #[serde(flatten)]
    pub seen: Option<ArpSeen>,
}

/// What a capture shows of the ARP lookups of one address.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ArpSeen {
    /// Replies seen.
    pub replies: u32,
    /// The who-has requests and their is-at replies (at most `analyze::MAX_LISTED`).
    pub exchanges: Vec<ArpExchange>,
    /// Different hosts that asked for this address (counted up to 16).
    #[serde(default)]
    pub requesters: u32,
    /// Every host that asked for it asked for at least [`ARP_SWEEP_TARGETS`] addresses: the
    /// lookups are a sweep of the segment, not a host resolving its gateway.
    #[serde(default)]
    pub sweep: bool,
    /// A DHCP ACK in the capture names this address a router.
    #[serde(default)]
    pub dhcp_router: bool,
    /// The VLAN (innermost 802.1Q/802.1ad tag) the first ARP request or echo request for
    /// this address came in; absent when untagged.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub vlan: Option<u16>,
}

/// One who-has and, when it came, its is-at.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ArpExchange {
    /// Who asked.
    pub requester: Ipv4Addr,
    /// The asker's MAC.
    pub requester_mac: MacAddr,
    /// When the request was seen, since the start of the capture.
    pub at_ms: f64,
    /// The MAC in the reply.
    pub is_at: Option<MacAddr>,
    /// Time from the request to its reply.
    pub rtt_ms: Option<f64>,
}

/// Echo statistics.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PingStats {
    /// Requests sent.
    #[serde(default)]
    pub sent: u32,
    /// Replies received.
    #[serde(default)]
    pub received: u32,
    /// Lost share, 0 to 1.
    pub loss_ratio: f64,
    /// Per-probe RTT in ms, null for a lost probe, in sending order.
    #[serde(default)]
    pub rtts_ms: Vec<Option<f64>>,
    /// Fastest reply.
    pub min_ms: Option<f64>,
    /// Mean of the replies.
    pub avg_ms: Option<f64>,
    /// Slowest reply.
    pub max_ms: Option<f64>,
    /// Mean absolute difference between consecutive replies (RFC 3550's idea, unsmoothed).
    pub jitter_ms: Option<f64>,
    /// Capture only: echo requests answered by ICMP time exceeded (a traceroute's
    /// TTL-limited probes); not pings, so not in `sent` or the loss.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub time_exceeded: Option<u32>,
    /// Capture only: every echo request to this address came from a DHCP server that
    /// offered the address (RFC 2131 section 4.4.1: a server pings an address before
    /// offering it, to find it unused). Counted, but not pings of a gateway: not judged.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub dhcp_conflict_check: bool,
}

impl PingStats {
    /// Computes statistics from per-probe RTTs (`None` = lost).
    pub fn from_rtts(rtts: &[Option<Duration>]) -> PingStats {
        let got: Vec<f64> = rtts.iter().flatten().map(|d| millis(*d)).collect();
        let sent = rtts.len() as u32;
        let received = got.len() as u32;
        let round = |v: f64| (v * 1000.0).round() / 1000.0;
        let avg = (!got.is_empty()).then(|| round(got.iter().sum::<f64>() / got.len() as f64));
        let jitter = (got.len() >= 2)
            .then(|| round(got.windows(2).map(|w| (w[1] - w[0]).abs()).sum::<f64>() / (got.len() - 1) as f64));
        PingStats {
            sent,
            received,
            loss_ratio: if sent == 0 { 0.0 } else { f64::from(sent - received) / f64::from(sent) },
            rtts_ms: rtts.iter().map(|r| r.map(millis)).collect(),
            min_ms: got.iter().copied().reduce(f64::min),
            avg_ms: avg,
            max_ms: got.iter().copied().reduce(f64::max),
            jitter_ms: jitter,
            time_exceeded: None,
            dhcp_conflict_check: false,
        }
    }
}

/// The IPv4 gateways of `iface`'s default routes, lowest metric first.
pub fn gateways_of(iface: &Interface, default_routes: &[&Route]) -> Vec<Ipv4Addr> {
    let mut out = Vec::new();
    for route in default_routes.iter().filter(|r| r.oif == Some(iface.index)) {
        if let Some(IpAddr::V4(gw)) = route.gateway
            && !out.contains(&gw)
        {
            out.push(gw);
        }
    }
    out
}

/// The IPv6 routers of `iface`'s IPv6 default routes, lowest metric first.
pub fn gateways_v6_of(iface: &Interface, default_routes: &[&Route]) -> Vec<Ipv6Addr> {
    let mut out = Vec::new();
    for route in default_routes.iter().filter(|r| r.oif == Some(iface.index)) {
        if let Some(IpAddr::V6(gw)) = route.gateway
            && !out.contains(&gw)
        {
            out.push(gw);
        }
    }
    out
}

/// The IPv6 address to solicit from: the interface's usable link-local address (RFC 4861
/// section 7.2.2 prefers it), else any usable IPv6 address of the interface.
pub fn ns_source(iface: &Interface) -> Option<Ipv6Addr> {
    let usable = || {
        iface.addresses.iter().filter(|a| !a.tentative && !a.dad_failed).filter_map(|a| match a.address {
            IpAddr::V6(v6) => Some((v6, a.scope)),
            IpAddr::V4(_) => None,
        })
    };
    usable().find(|(_, scope)| *scope == AddrScope::Link).or_else(|| usable().next()).map(|(ip, _)| ip)
}

/// Runs the gateway check.
#[cfg(feature = "live")]
pub async fn run(ctx: &CheckContext<'_>) -> Result<Outcome, CheckError> {
    let iface = ctx.interface.ok_or(CheckError::NoInterface)?;
    let default_routes = ctx.snapshot.default_routes();
    let gateways = gateways_of(iface, &default_routes);
    let gateways_v6 = gateways_v6_of(iface, &default_routes);
    let mut ev = GatewayEvidence {
        default_routes: default_routes.into_iter().cloned().collect(),
        gateways: vec![],
        capture: None,
        gateways_v6: vec![],
        echo_socket: None,
    };
    // Without an IPv4 gateway the verdict is `gateway.missing` with or without privileges,
    // as before IPv6 was probed; the IPv6 routers are then probed only when we may.
    if gateways.is_empty() && (gateways_v6.is_empty() || !ctx.privileges.net_raw) {
        let findings = judge(&iface.name, &ev, &ctx.config.gateway, Source::Live);
        return Ok(Outcome::Ran { findings, evidence: Evidence::Gateway(Box::new(ev)) });
    }
    // Without CAP_NET_RAW there is no packet socket for ARP or Neighbor Solicitation, but
    // the echo may still go over an unprivileged ICMP socket (blackbox_exporter's
    // fallback) where net.ipv4.ping_group_range includes one of our groups.
    let unprivileged = !ctx.privileges.net_raw;
    if unprivileged && !crate::platform::privilege::ping_access().allowed {
        return Err(CheckError::NoPrivilege {
            capability: "CAP_NET_RAW",
            operation: "send ARP and ICMP echo to the gateway (net.ipv4.ping_group_range does not include this \
                        process's groups, so no unprivileged ICMP socket either)",
        });
    }
    let echo = |v6: bool| {
        crate::platform::icmp::echo_client(v6, &iface.name)
            .map_err(|e| CheckError::from_io("opening an ICMP socket", "CAP_NET_RAW", "send ICMP echo requests", e))
    };
    let client_v4 = if gateways.is_empty() { None } else { Some(echo(false)?) };
    let client_v6 = if gateways_v6.is_empty() { None } else { Some(echo(true)?) };
    ev.echo_socket = client_v4.as_ref().or(client_v6.as_ref()).map(|(_, kind)| *kind);
    let source = dhcp::usable_ipv4(iface).map(|(ip, _)| ip);
    let source_v6 = ns_source(iface);
    let stop_by = ctx.cutoff();
    let settings = &ctx.config.gateway;
    let probes = gateways
        .into_iter()
        .zip(std::iter::repeat(client_v4.map(|(c, _)| c)))
        .map(|(gw, client)| probe(iface, source, gw, settings, stop_by, client, unprivileged));
    let probes_v6 = gateways_v6
        .into_iter()
        .zip(std::iter::repeat(client_v6.map(|(c, _)| c)))
        .map(|(gw, client)| probe_v6(iface, source_v6, gw, settings, stop_by, client, unprivileged));
    let (v4, v6) = futures::join!(futures::future::join_all(probes), futures::future::join_all(probes_v6));
    for probe in v4 {
        ev.gateways.push(probe?);
    }
    for probe in v6 {
        ev.gateways_v6.push(probe?);
    }
    let mut findings = judge(&iface.name, &ev, settings, Source::Live);
    if unprivileged {
        findings.push(crate::check::finding(
            CheckId::Gateway,
            Code::ToolNoPrivilege,
            Severity::Warn,
            "ARP and Neighbor Solicitation need CAP_NET_RAW and were not asked; the echo went over an \
             unprivileged ICMP socket (net.ipv4.ping_group_range)",
        ));
    }
    Ok(Outcome::Ran { findings, evidence: Evidence::Gateway(Box::new(ev)) })
}

/// A neighbour lookup that was not asked: `NotApplicable` (no Ethernet framing or no
/// source address) or `NoPrivilege` (it could be asked, but the run has no CAP_NET_RAW for
/// the packet socket).
#[cfg(feature = "live")]
fn not_asked(status: ArpStatus) -> ArpResult {
    ArpResult { status, mac: None, rtt_ms: None, requests_sent: 0, seen: None }
}

#[cfg(feature = "live")]
async fn probe(
    iface: &Interface,
    source: Option<Ipv4Addr>,
    gateway: Ipv4Addr,
    settings: &GatewaySettings,
    stop_by: Instant,
    client: Option<Client>,
    unprivileged: bool,
) -> Result<GatewayProbe, CheckError> {
    let arp = match (iface.is_ethernet(), iface.mac, source) {
        (true, Some(_), Some(_)) if unprivileged => not_asked(ArpStatus::NoPrivilege),
        (true, Some(mac), Some(src)) => {
            let name = iface.name.clone();
            // Bounded by the run's deadline: no reply by then is no reply.
            let timeout =
                Duration::from_millis(settings.arp_timeout_ms).min(stop_by.saturating_duration_since(Instant::now()));
            let reply = tokio::task::spawn_blocking(move || arp::resolve(&name, mac, src, gateway, timeout))
                .await
                .map_err(|source| CheckError::Task { operation: "ARP", source })??;
            lookup_result(reply)
        }
        _ => not_asked(ArpStatus::NotApplicable),
    };
    let ping = match client {
        Some(client) if arp.status != ArpStatus::NoReply => {
            Some(ping_series(&client, iface, IpAddr::V4(gateway), settings, stop_by).await)
        }
        _ => None,
    };
    Ok(GatewayProbe { address: IpAddr::V4(gateway), arp, ping })
}

/// The result of one neighbour lookup, ARP for IPv4 or a Neighbor Solicitation for IPv6
/// (both return the same reply): answered with the MAC and the time, or no reply to any of
/// the 3 requests.
#[cfg(feature = "live")]
fn lookup_result(reply: Option<arp::ArpReply>) -> ArpResult {
    match reply {
        Some(r) => ArpResult {
            status: ArpStatus::Answered,
            mac: Some(r.mac),
            rtt_ms: Some(millis(r.rtt)),
            requests_sent: r.requests_sent,
            seen: None,
        },
        None => ArpResult { status: ArpStatus::NoReply, mac: None, rtt_ms: None, requests_sent: 3, seen: None },
    }
}

/// Probes one IPv6 router: a Neighbor Solicitation (as `probe` asks ARP), then, unless it
/// went unanswered, an ICMPv6 echo series.
#[cfg(feature = "live")]
async fn probe_v6(
    iface: &Interface,
    source: Option<Ipv6Addr>,
    gateway: Ipv6Addr,
    settings: &GatewaySettings,
    stop_by: Instant,
    client: Option<Client>,
    unprivileged: bool,
) -> Result<GatewayV6Probe, CheckError> {
    let ns = match (iface.is_ethernet(), iface.mac, source) {
        (true, Some(_), Some(_)) if unprivileged => not_asked(ArpStatus::NoPrivilege),
        (true, Some(mac), Some(src)) => {
            let name = iface.name.clone();
            let timeout =
                Duration::from_millis(settings.arp_timeout_ms).min(stop_by.saturating_duration_since(Instant::now()));
            let reply =
                tokio::task::spawn_blocking(move || neighbor_solicit::solicit(&name, mac, src, gateway, timeout))
                    .await
                    .map_err(|source| CheckError::Task { operation: "Neighbor Solicitation", source })??;
            lookup_result(reply)
        }
        _ => not_asked(ArpStatus::NotApplicable),
    };
    let ping = match client {
        Some(client) if ns.status != ArpStatus::NoReply => {
            Some(ping_series(&client, iface, IpAddr::V6(gateway), settings, stop_by).await)
        }
        _ => None,
    };
    Ok(GatewayV6Probe { address: gateway, ns, ping })
}

/// Sends `settings.probes` echo requests, one every `interval_ms`, each waiting up to
/// `timeout_ms`, all in flight together so the series takes about
/// (probes - 1) x interval + timeout. A reply still missing at `stop_by` (the run's
/// deadline) is lost; probes not yet sent then are not sent (nor counted). `client` is the
/// family's echo client ([`crate::platform::icmp::echo_client`]), shared by every series.
#[cfg(feature = "live")]
async fn ping_series(
    client: &Client,
    iface: &Interface,
    target: IpAddr,
    settings: &GatewaySettings,
    stop_by: Instant,
) -> PingStats {
    let ident = PingIdentifier(rand::random());
    let payload = [0x6e_u8; 56];
    let interval = Duration::from_millis(settings.interval_ms);
    let timeout = Duration::from_millis(settings.timeout_ms);
    let probes = (0..settings.probes).map(|i| {
        let client = client.clone();
        async move {
            tokio::time::sleep(interval * i).await;
            let left = stop_by.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return None;
            }
            let mut pinger = client.pinger(target, ident).await;
            pinger.timeout(timeout.min(left));
            // A link-local router is reachable only through its zone: this interface.
            if let IpAddr::V6(v6) = target
                && v6.is_unicast_link_local()
            {
                pinger.scope_id(iface.index);
            }
            Some(pinger.ping(PingSequence(i as u16), &payload).await.ok().map(|(_, rtt)| rtt))
        }
    });
    let rtts: Vec<Option<Duration>> = futures::future::join_all(probes).await.into_iter().flatten().collect();
    tracing::debug!(%target, ?rtts, "echo series done");
    PingStats::from_rtts(&rtts)
}

/// Whether a capture shows `gw` to be a gateway: pinged, named router by a DHCP ACK,
/// asked for by 3 hosts (`CAPTURE_ARP_HOSTS`), or asked for 3 times (`CAPTURE_ARP_REQUESTS`) by
/// hosts that are not sweeping the segment. Only then is its ARP silence unreachable.
pub fn is_a_gateway(gw: &GatewayProbe) -> bool {
    let seen = gw.arp.seen.as_ref();
    gw.ping.as_ref().is_some_and(is_judged_ping)
        || seen.is_some_and(|s| s.dhcp_router || s.requesters >= CAPTURE_ARP_HOSTS)
        || (gw.arp.requests_sent >= CAPTURE_ARP_REQUESTS && !seen.is_some_and(|s| s.sweep))
}

/// Whether an echo series is pings to judge: some were sent (not only a traceroute's
/// TTL-limited probes), and not by a DHCP server checking an address before offering it
/// ([`PingStats::dhcp_conflict_check`]).
fn is_judged_ping(p: &PingStats) -> bool {
    p.sent > 0 && !p.dhcp_conflict_check
}

/// Whether a capture's entry for `gw` says anything about a gateway: its ARP was answered,
/// it was pinged, or it is [`is_a_gateway`]. Unanswered lookups of other addresses (a
/// router sweeping absent hosts, one who-has on a busy segment) and a traceroute's
/// TTL-limited echoes (not pings) say nothing: a capture with only those leaves the
/// gateway check `skipped`.
pub fn observed_in_capture(gw: &GatewayProbe) -> bool {
    match gw.arp.status {
        ArpStatus::Answered => true,
        ArpStatus::NoReply | ArpStatus::NotApplicable | ArpStatus::NoPrivilege => is_a_gateway(gw),
    }
}

/// Judges the gateway evidence (pure), live or from a capture. Findings of one code and
/// severity are one finding naming every address.
///
/// What a capture changes ([`Source::Capture`]): no `gateway.missing` (routes are not in a
/// capture); an address nobody answered ARP for is `gateway.unreachable` only when the
/// capture shows it is a gateway: it was pinged, a DHCP ACK names it a router, 3 hosts
/// asked for it (`CAPTURE_ARP_HOSTS`), or it was asked for 3 times
/// (`CAPTURE_ARP_REQUESTS`) by hosts that are not sweeping the segment ([`ArpSeen::sweep`]:
/// a router refreshing its neighbour table asks for absent hosts, and a busy segment is
/// full of one-off lookups of hosts that have left); no `gateway.latency` (a capture does
/// not say which address is the gateway). Echo requests answered by ICMP time exceeded are
/// a traceroute's, not pings (`PingStats::time_exceeded`, not in `sent`); a series with no
/// pings left is not judged, nor a DHCP server's conflict check
/// ([`PingStats::dhcp_conflict_check`]). Loss is judged alike, with `s.loss_warn`/`s.loss_fail`.
///
/// The IPv6 routers ([`GatewayEvidence::gateways_v6`]) are judged after, with their own
/// codes ([`judge_v6`]); the IPv4 verdicts do not depend on them.
pub fn judge(ifname: &str, ev: &GatewayEvidence, s: &GatewaySettings, source: Source) -> Vec<Finding> {
    let mut findings = judge_v4(ifname, ev, s, source);
    findings.extend(judge_v6(ifname, ev, s, source));
    findings
}

/// Whether an IPv4 gateway of the evidence answers: its ARP, or at least one echo.
pub fn ipv4_gateway_answers(ev: &GatewayEvidence) -> bool {
    ev.gateways.iter().any(|g| {
        g.address.is_ipv4() && (g.arp.status == ArpStatus::Answered || g.ping.as_ref().is_some_and(|p| p.received > 0))
    })
}

/// Judges the IPv6 routers (pure), as the IPv4 gateways are judged: a solicitation nobody
/// answered is `gateway.v6_unreachable`, no echo reply `gateway.v6_no_echo` (warn), loss
/// and round trip against the same thresholds `gateway.v6_loss` and `gateway.v6_latency`.
/// Beside an IPv4 gateway that answers ([`ipv4_gateway_answers`]) nothing here is worse
/// than a warning: IPv4 carries the traffic, and the run is degraded, not broken.
///
/// From a capture ([`Source::Capture`]) the routers are those a Router Advertisement (with
/// a router lifetime) or a Neighbor Advertisement with the R flag showed, and their
/// solicitations are any host's: an unanswered one is `gateway.v6_unreachable` only when
/// it was asked for 3 times (`CAPTURE_ARP_REQUESTS`, as for ARP), since a capture may end
/// before the answer to a last one.
pub fn judge_v6(ifname: &str, ev: &GatewayEvidence, s: &GatewaySettings, source: Source) -> Vec<Finding> {
    let cap = |severity: Severity| {
        if ipv4_gateway_answers(ev) { Severity::Warn } else { severity }
    };
    let mut items: Vec<(Code, Severity, String)> = Vec::new();
    for gw in &ev.gateways_v6 {
        let who = format!("IPv6 router {}", gw.address);
        if gw.ns.status == ArpStatus::NoReply {
            let n = gw.ns.requests_sent;
            if source == Source::Capture && n < CAPTURE_ARP_REQUESTS {
                continue;
            }
            let plural = if n == 1 { "" } else { "s" };
            items.push((
                Code::GatewayV6Unreachable,
                cap(Severity::Fail),
                format!("{who} did not answer {n} Neighbor Solicitation{plural} on {ifname}"),
            ));
            continue;
        }
        let Some(p) = gw.ping.as_ref().filter(|p| p.sent > 0) else { continue };
        if p.received == 0 {
            let message = match gw.ns.mac {
                Some(mac) => format!("{who} answers Neighbor Solicitation ({mac}) but none of {} pings", p.sent),
                None => format!("{who} answered none of {} pings", p.sent),
            };
            items.push((Code::GatewayV6NoEcho, Severity::Warn, message));
            continue;
        }
        if p.loss_ratio > s.loss_warn {
            let severity = cap(if p.loss_ratio > s.loss_fail { Severity::Fail } else { Severity::Warn });
            items.push((
                Code::GatewayV6Loss,
                severity,
                format!("{:.0} % of pings to {who} lost ({} of {})", p.loss_ratio * 100.0, p.sent - p.received, p.sent),
            ));
        }
        if let Some(avg) = p.avg_ms
            && avg > s.rtt_warn_ms
        {
            let over_fail = avg > s.rtt_fail_ms;
            let limit = if over_fail { s.rtt_fail_ms } else { s.rtt_warn_ms };
            items.push((
                Code::GatewayV6Latency,
                cap(if over_fail { Severity::Fail } else { Severity::Warn }),
                format!("average RTT to {who} is {avg:.1} ms (limit {limit} ms)"),
            ));
        }
    }
    group(items)
}

/// One finding per code and severity, naming every address of that kind.
fn group(items: Vec<(Code, Severity, String)>) -> Vec<Finding> {
    let mut findings: Vec<Finding> = Vec::new();
    let mut groups: Vec<(Code, Severity)> = Vec::new();
    for (code, severity, _) in &items {
        if !groups.contains(&(*code, *severity)) {
            groups.push((*code, *severity));
        }
    }
    for (code, severity) in groups {
        let messages: Vec<String> =
            items.iter().filter(|(c, s, _)| (*c, *s) == (code, severity)).map(|(_, _, m)| m.clone()).collect();
        findings.push(finding(CheckId::Gateway, code, severity, named(&messages, "; ", MAX_NAMED)));
    }
    findings
}

fn judge_v4(ifname: &str, ev: &GatewayEvidence, s: &GatewaySettings, source: Source) -> Vec<Finding> {
    let live = source == Source::Live;
    if ev.gateways.is_empty() {
        if !live {
            return vec![];
        }
        let elsewhere = ev.default_routes.iter().filter(|r| !r.ipv6).count();
        let message = if elsewhere > 0 {
            format!("no IPv4 default route via {ifname}; {elsewhere} default route(s) use other interfaces")
        } else {
            format!("no IPv4 default route via {ifname}")
        };
        return vec![finding(CheckId::Gateway, Code::GatewayMissing, Severity::Fail, message)];
    }
    let place = if live { format!("on {ifname}") } else { "in the capture".to_string() };
    let mut items: Vec<(Code, Severity, String)> = Vec::new();
    for gw in &ev.gateways {
        let who = if live { format!("gateway {}", gw.address) } else { gw.address.to_string() };
        let pinged = gw.ping.as_ref().is_some_and(is_judged_ping);
        if gw.arp.status == ArpStatus::NoReply {
            if live || is_a_gateway(gw) {
                let n = gw.arp.requests_sent;
                let plural = if n == 1 { "" } else { "s" };
                items.push((
                    Code::GatewayUnreachable,
                    Severity::Fail,
                    format!("{who} did not answer {n} ARP request{plural} {place}"),
                ));
            }
            continue;
        }
        let Some(p) = gw.ping.as_ref().filter(|_| pinged) else { continue };
        if p.received == 0 {
            let message = match gw.arp.mac {
                Some(mac) => format!("{who} answers ARP ({mac}) but none of {} pings", p.sent),
                None => format!("{who} answered none of {} pings", p.sent),
            };
            items.push((Code::GatewayNoEcho, Severity::Warn, message));
            continue;
        }
        let loss_pct = p.loss_ratio * 100.0;
        if p.loss_ratio > s.loss_fail || p.loss_ratio > s.loss_warn {
            let severity = if p.loss_ratio > s.loss_fail { Severity::Fail } else { Severity::Warn };
            items.push((
                Code::GatewayLoss,
                severity,
                format!("{loss_pct:.0} % of pings to {who} lost ({} of {})", p.sent - p.received, p.sent),
            ));
        }
        if let Some(avg) = p.avg_ms
            && live
            && avg > s.rtt_warn_ms
        {
            let severity = if avg > s.rtt_fail_ms { Severity::Fail } else { Severity::Warn };
            let limit = if severity == Severity::Fail { s.rtt_fail_ms } else { s.rtt_warn_ms };
            items.push((
                Code::GatewayLatency,
                severity,
                format!("average RTT to {who} is {avg:.1} ms (limit {limit} ms)"),
            ));
        }
    }
    group(items)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::platform::netlink::LinkType;

    fn ms(v: u64) -> Option<Duration> {
        Some(Duration::from_millis(v))
    }

    fn ev_with(arp: ArpStatus, rtts: &[Option<Duration>]) -> GatewayEvidence {
        GatewayEvidence {
            default_routes: vec![],
            gateways: vec![GatewayProbe {
                address: IpAddr::V4(Ipv4Addr::new(198, 18, 0, 1)),
                arp: ArpResult {
                    status: arp,
                    mac: (arp == ArpStatus::Answered).then_some(MacAddr([2, 0, 0, 0, 0, 1])),
                    rtt_ms: None,
                    requests_sent: 1,
                    seen: None,
                },
                ping: (arp != ArpStatus::NoReply).then(|| PingStats::from_rtts(rtts)),
            }],
            capture: None,
            gateways_v6: vec![],
            echo_socket: None,
        }
    }

    fn codes(ev: &GatewayEvidence) -> Vec<(Code, Severity)> {
        judge("eth0", ev, &GatewaySettings::default(), Source::Live).iter().map(|f| (f.code, f.severity)).collect()
    }

    #[test]
    fn a_capture_judges_arp_silence_only_when_asked_for_in_earnest_and_has_no_latency() {
        let capture = |ev: &GatewayEvidence| -> Vec<(Code, Severity)> {
            judge("eth0", ev, &GatewaySettings::default(), Source::Capture)
                .iter()
                .map(|f| (f.code, f.severity))
                .collect()
        };
        let mut once = ev_with(ArpStatus::NoReply, &[]);
        assert!(capture(&once).is_empty(), "one lookup of a host that left");
        once.gateways[0].arp.requests_sent = 3;
        assert_eq!(capture(&once), [(Code::GatewayUnreachable, Severity::Fail)]);
        assert!(capture(&ev_with(ArpStatus::Answered, &[ms(150); 5])).is_empty());
        assert_eq!(capture(&ev_with(ArpStatus::Answered, &[None; 5])), [(Code::GatewayNoEcho, Severity::Warn)]);
        assert!(
            capture(&GatewayEvidence {
                default_routes: vec![],
                gateways: vec![],
                capture: None,
                gateways_v6: vec![],
                echo_socket: None
            })
            .is_empty()
        );
    }

    #[test]
    fn a_capture_judges_arp_silence_only_for_a_gateway_and_skips_traceroute_probes() {
        let capture = |ev: &GatewayEvidence| -> Vec<Code> {
            judge("eth0", ev, &GatewaySettings::default(), Source::Capture).iter().map(|f| f.code).collect()
        };
        let seen = |requesters, sweep, dhcp_router| ArpSeen {
            replies: 0,
            exchanges: vec![],
            requesters,
            sweep,
            dhcp_router,
            vlan: None,
        };
        let mut silent = ev_with(ArpStatus::NoReply, &[]);
        silent.gateways[0].arp.requests_sent = 3;
        // Asked three times by a host sweeping the segment: an absent host, not a gateway.
        silent.gateways[0].arp.seen = Some(seen(1, true, false));
        assert!(capture(&silent).is_empty());
        // The same, but a DHCP ACK names it the router, or three hosts asked for it.
        silent.gateways[0].arp.seen = Some(seen(1, true, true));
        assert_eq!(capture(&silent), [Code::GatewayUnreachable]);
        silent.gateways[0].arp.requests_sent = 1;
        silent.gateways[0].arp.seen = Some(seen(3, false, false));
        assert_eq!(capture(&silent), [Code::GatewayUnreachable]);
        // Asked three times by a host that is not sweeping: the capture's rule since 0.1.
        silent.gateways[0].arp.requests_sent = 3;
        silent.gateways[0].arp.seen = Some(seen(1, false, false));
        assert_eq!(capture(&silent), [Code::GatewayUnreachable]);

        // Only traceroute probes: no pings to judge; live judging is unchanged.
        let mut traced = ev_with(ArpStatus::NotApplicable, &[]);
        traced.gateways[0].ping = Some(PingStats { time_exceeded: Some(5), ..PingStats::from_rtts(&[]) });
        assert!(capture(&traced).is_empty());
        assert_eq!(codes(&ev_with(ArpStatus::Answered, &[None; 5])), [(Code::GatewayNoEcho, Severity::Warn)]);
    }

    fn v6(ns: ArpStatus, rtts: &[Option<Duration>]) -> GatewayV6Probe {
        GatewayV6Probe {
            address: "fe80::1".parse().unwrap(),
            ns: ArpResult {
                status: ns,
                mac: (ns == ArpStatus::Answered).then_some(MacAddr([2, 0, 0, 0, 0, 1])),
                rtt_ms: None,
                requests_sent: 3,
                seen: None,
            },
            ping: (ns != ArpStatus::NoReply).then(|| PingStats::from_rtts(rtts)),
        }
    }

    #[test]
    fn an_ipv6_router_is_judged_like_the_ipv4_gateway_but_only_warns_beside_a_working_one() {
        let with = |v4: Option<&[Option<Duration>]>, router: GatewayV6Probe| {
            let mut ev = match v4 {
                Some(rtts) => ev_with(ArpStatus::Answered, rtts),
                None => GatewayEvidence {
                    default_routes: vec![],
                    gateways: vec![],
                    capture: None,
                    gateways_v6: vec![],
                    echo_socket: None,
                },
            };
            ev.gateways_v6.push(router);
            codes(&ev)
        };
        let healthy: &[Option<Duration>] = &[ms(1); 5];
        assert!(with(Some(healthy), v6(ArpStatus::Answered, &[ms(1); 5])).is_empty());
        assert_eq!(with(Some(healthy), v6(ArpStatus::NoReply, &[])), [(Code::GatewayV6Unreachable, Severity::Warn)]);
        assert_eq!(with(Some(healthy), v6(ArpStatus::Answered, &[None; 5])), [(Code::GatewayV6NoEcho, Severity::Warn)]);
        assert_eq!(
            with(Some(healthy), v6(ArpStatus::Answered, &[ms(1), None, None, None, ms(1)])),
            [(Code::GatewayV6Loss, Severity::Warn)]
        );
        assert_eq!(
            with(Some(healthy), v6(ArpStatus::Answered, &[ms(1600); 5])),
            [(Code::GatewayV6Latency, Severity::Warn)]
        );
        // No IPv4 gateway that answers: the IPv6 router is the way out, and its failures fail.
        let dead_v4: &[Option<Duration>] = &[None; 5];
        let mut gone = ev_with(ArpStatus::NoReply, dead_v4);
        gone.gateways_v6.push(v6(ArpStatus::NoReply, &[]));
        assert_eq!(
            codes(&gone),
            [(Code::GatewayUnreachable, Severity::Fail), (Code::GatewayV6Unreachable, Severity::Fail)]
        );
        assert_eq!(
            with(None, v6(ArpStatus::Answered, &[ms(1), None, None, None, ms(1)])),
            [(Code::GatewayMissing, Severity::Fail), (Code::GatewayV6Loss, Severity::Fail)]
        );
        // The IPv4 verdicts are the same with or without IPv6 routers.
        assert_eq!(
            with(Some(&[None; 5]), v6(ArpStatus::Answered, &[ms(1); 5])),
            [(Code::GatewayNoEcho, Severity::Warn)]
        );
    }

    #[test]
    fn ipv6_routers_come_from_this_interfaces_v6_default_routes_and_round_trip() {
        let iface = Interface {
            index: 2,
            name: "eth0".into(),
            link_type: LinkType::Ether,
            mac: None,
            mtu: None,
            admin_up: true,
            lower_up: true,
            carrier: Some(true),
            oper_state: "up".into(),
            carrier_changes: None,
            counters: None,
            addresses: vec![],
        };
        let route = |oif, gw: &str| Route {
            dst: None,
            dst_len: 0,
            gateway: Some(gw.parse().unwrap()),
            oif: Some(oif),
            metric: Some(1024),
            ipv6: gw.contains(':'),
            from_ra: false,
        };
        let routes = [route(2, "198.18.0.1"), route(2, "fe80::1"), route(3, "fe80::2"), route(2, "fe80::1")];
        let refs: Vec<&Route> = routes.iter().collect();
        assert_eq!(gateways_v6_of(&iface, &refs), ["fe80::1".parse::<Ipv6Addr>().unwrap()]);
        assert_eq!(ns_source(&iface), None);

        let mut ev = ev_with(ArpStatus::Answered, &[ms(1)]);
        let plain = serde_json::to_value(&ev).unwrap();
        assert!(plain.get("gateways_v6").is_none(), "absent without IPv6 routers");
        ev.gateways_v6.push(v6(ArpStatus::Answered, &[ms(2)]));
        let json = serde_json::to_value(&ev).unwrap();
        assert_eq!(json["gateways_v6"][0]["ns"]["status"], "answered");
        assert_eq!(serde_json::from_value::<GatewayEvidence>(json).unwrap(), ev);
    }

    #[test]
    fn stats_of_a_series() {
        let s = PingStats::from_rtts(&[ms(1), None, ms(3), ms(2)]);
        assert_eq!((s.sent, s.received), (4, 3));
        assert_eq!(s.loss_ratio, 0.25);
        assert_eq!((s.min_ms, s.avg_ms, s.max_ms), (Some(1.0), Some(2.0), Some(3.0)));
        assert_eq!(s.jitter_ms, Some(1.5));
        assert_eq!(s.rtts_ms[1], None);
        let empty = PingStats::from_rtts(&[None, None]);
        assert_eq!((empty.loss_ratio, empty.avg_ms, empty.jitter_ms), (1.0, None, None));
    }

    #[test]
    fn healthy_gateway_passes() {
        assert!(codes(&ev_with(ArpStatus::Answered, &[ms(1); 5])).is_empty());
    }

    #[test]
    fn arp_silence_is_unreachable_and_ping_silence_is_no_echo() {
        assert_eq!(codes(&ev_with(ArpStatus::NoReply, &[])), [(Code::GatewayUnreachable, Severity::Fail)]);
        assert_eq!(codes(&ev_with(ArpStatus::Answered, &[None; 5])), [(Code::GatewayNoEcho, Severity::Warn)]);
    }

    #[test]
    fn loss_and_latency_thresholds() {
        // 1 of 5 lost = 20 %: above the 5 % warning, below the 50 % failure.
        assert_eq!(
            codes(&ev_with(ArpStatus::Answered, &[ms(1), None, ms(1), ms(1), ms(1)])),
            [(Code::GatewayLoss, Severity::Warn)]
        );
        assert_eq!(
            codes(&ev_with(ArpStatus::Answered, &[ms(1), None, None, None, ms(1)])),
            [(Code::GatewayLoss, Severity::Fail)]
        );
        assert_eq!(codes(&ev_with(ArpStatus::Answered, &[ms(150); 5])), [(Code::GatewayLatency, Severity::Warn)]);
        assert_eq!(codes(&ev_with(ArpStatus::Answered, &[ms(1600); 5])), [(Code::GatewayLatency, Severity::Fail)]);
    }

    #[test]
    fn no_default_route_is_missing() {
        let ev = GatewayEvidence {
            default_routes: vec![],
            gateways: vec![],
            capture: None,
            gateways_v6: vec![],
            echo_socket: None,
        };
        assert_eq!(codes(&ev), [(Code::GatewayMissing, Severity::Fail)]);
    }

    #[test]
    fn gateways_come_from_this_interfaces_default_routes() {
        let iface = Interface {
            index: 2,
            name: "eth0".into(),
            link_type: LinkType::Ether,
            mac: None,
            mtu: None,
            admin_up: true,
            lower_up: true,
            carrier: Some(true),
            oper_state: "up".into(),
            carrier_changes: None,
            counters: None,
            addresses: vec![],
        };
        let route = |oif, gw: &str, metric| Route {
            dst: None,
            dst_len: 0,
            gateway: Some(gw.parse().unwrap()),
            oif: Some(oif),
            metric: Some(metric),
            ipv6: gw.contains(':'),
            from_ra: false,
        };
        let routes = [route(2, "198.18.0.1", 100), route(3, "198.18.5.1", 50), route(2, "fe80::1", 1)];
        let refs: Vec<&Route> = routes.iter().collect();
        assert_eq!(gateways_of(&iface, &refs), [Ipv4Addr::new(198, 18, 0, 1)]);
    }
}
