//! The gateway layer: is there a default route, does the gateway exist on the link (ARP),
//! and how well does it answer ping (loss, RTT, jitter)?
//!
//! ARP is what tells "the gateway is gone" (`gateway.unreachable`) apart from "the gateway
//! drops ping to itself" (`gateway.no_echo`, a warning: traffic through it may work, and
//! the later layers show whether it does). Probing needs CAP_NET_RAW; finding the default
//! route does not. The judging half (`judge`) is pure.

use std::net::{IpAddr, Ipv4Addr};
use std::time::Duration;

use serde::{Deserialize, Serialize};
use surge_ping::{Client, Config as PingConfig, ICMP, PingIdentifier, PingSequence};

use crate::check::{CheckContext, CheckError, Outcome, dhcp, finding, millis};
use crate::config::GatewaySettings;
use crate::platform::arp;
use crate::platform::netlink::{Interface, Route};
use crate::report::{CheckId, Code, Evidence, Finding, Severity};
use crate::types::MacAddr;

/// What the gateway check saw.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GatewayEvidence {
    /// Every default route on the machine (IPv4 and IPv6), for context.
    #[serde(default)]
    pub default_routes: Vec<Route>,
    /// The IPv4 gateways of the interface under test, each probed.
    #[serde(default)]
    pub gateways: Vec<GatewayProbe>,
}

/// Probes of one gateway.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GatewayProbe {
    /// The gateway's address.
    pub address: Ipv4Addr,
    /// The ARP lookup.
    pub arp: ArpResult,
    /// The echo series; null when ARP already showed the gateway is gone.
    pub ping: Option<PingStats>,
}

/// Outcome of the ARP lookup.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ArpResult {
    /// `answered`, `no_reply`, or `not_applicable` (the link has no Ethernet framing).
    pub status: String,
    /// The MAC that answered.
    pub mac: Option<MacAddr>,
    /// Time to the reply.
    pub rtt_ms: Option<f64>,
    /// Requests sent.
    #[serde(default)]
    pub requests_sent: u32,
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

/// Runs the gateway check.
pub async fn run(ctx: &CheckContext<'_>) -> Result<Outcome, CheckError> {
    let iface = ctx.interface.ok_or_else(|| CheckError::Other("no interface under test".into()))?;
    let default_routes = ctx.snapshot.default_routes();
    let gateways = gateways_of(iface, &default_routes);
    let mut ev = GatewayEvidence { default_routes: default_routes.into_iter().cloned().collect(), gateways: vec![] };
    if gateways.is_empty() {
        let findings = judge(&iface.name, &ev, &ctx.config.gateway);
        return Ok(Outcome::Ran { findings, evidence: Evidence::Gateway(Box::new(ev)) });
    }
    if !ctx.privileges.net_raw {
        return Err(CheckError::NoPrivilege {
            capability: "CAP_NET_RAW",
            operation: "send ARP and ICMP echo to the gateway",
        });
    }
    let source = dhcp::usable_ipv4(iface).map(|(ip, _)| ip);
    let probes = gateways.into_iter().map(|gw| probe(iface, source, gw, &ctx.config.gateway));
    for probe in futures::future::join_all(probes).await {
        ev.gateways.push(probe?);
    }
    Ok(Outcome::Ran {
        findings: judge(&iface.name, &ev, &ctx.config.gateway),
        evidence: Evidence::Gateway(Box::new(ev)),
    })
}

async fn probe(
    iface: &Interface,
    source: Option<Ipv4Addr>,
    gateway: Ipv4Addr,
    settings: &GatewaySettings,
) -> Result<GatewayProbe, CheckError> {
    let arp = match (iface.is_ethernet(), iface.mac, source) {
        (true, Some(mac), Some(src)) => {
            let name = iface.name.clone();
            let timeout = Duration::from_millis(settings.arp_timeout_ms);
            let reply = tokio::task::spawn_blocking(move || arp::resolve(&name, mac, src, gateway, timeout))
                .await
                .map_err(|e| CheckError::Other(format!("ARP task failed: {e}")))??;
            match reply {
                Some(r) => ArpResult {
                    status: "answered".to_string(),
                    mac: Some(r.mac),
                    rtt_ms: Some(millis(r.rtt)),
                    requests_sent: r.requests_sent,
                },
                None => ArpResult { status: "no_reply".to_string(), mac: None, rtt_ms: None, requests_sent: 3 },
            }
        }
        _ => ArpResult { status: "not_applicable".to_string(), mac: None, rtt_ms: None, requests_sent: 0 },
    };
    let ping = if arp.status == "no_reply" { None } else { Some(ping_series(iface, gateway, settings).await?) };
    Ok(GatewayProbe { address: gateway, arp, ping })
}

/// Sends `settings.probes` echo requests, one every `interval_ms`, each waiting up to
/// `timeout_ms`, all in flight together so the series takes about
/// (probes - 1) x interval + timeout.
async fn ping_series(iface: &Interface, target: Ipv4Addr, settings: &GatewaySettings) -> Result<PingStats, CheckError> {
    let config = PingConfig::builder().kind(ICMP::V4).interface(&iface.name).build();
    let client = Client::new(&config)
        .map_err(|e| CheckError::from_io("opening an ICMP socket", "CAP_NET_RAW", "send ICMP echo requests", e))?;
    let ident = PingIdentifier(rand::random());
    let payload = [0x6e_u8; 56];
    let interval = Duration::from_millis(settings.interval_ms);
    let timeout = Duration::from_millis(settings.timeout_ms);
    let probes = (0..settings.probes).map(|i| {
        let client = client.clone();
        async move {
            tokio::time::sleep(interval * i).await;
            let mut pinger = client.pinger(IpAddr::V4(target), ident).await;
            pinger.timeout(timeout);
            pinger.ping(PingSequence(i as u16), &payload).await.ok().map(|(_, rtt)| rtt)
        }
    });
    let rtts = futures::future::join_all(probes).await;
    tracing::debug!(%target, ?rtts, "echo series done");
    Ok(PingStats::from_rtts(&rtts))
}

/// Judges the gateway evidence (pure).
pub fn judge(ifname: &str, ev: &GatewayEvidence, s: &GatewaySettings) -> Vec<Finding> {
    let f = |code, severity, message: String| finding(CheckId::Gateway, code, severity, message);
    if ev.gateways.is_empty() {
        let elsewhere = ev.default_routes.iter().filter(|r| !r.ipv6).count();
        let message = if elsewhere > 0 {
            format!("no IPv4 default route via {ifname}; {elsewhere} default route(s) use other interfaces")
        } else {
            format!("no IPv4 default route via {ifname}")
        };
        return vec![f(Code::GatewayMissing, Severity::Fail, message)];
    }
    let mut findings = Vec::new();
    for gw in &ev.gateways {
        let addr = gw.address;
        if gw.arp.status == "no_reply" {
            findings.push(f(
                Code::GatewayUnreachable,
                Severity::Fail,
                format!("gateway {addr} did not answer {} ARP requests on {ifname}", gw.arp.requests_sent),
            ));
            continue;
        }
        let Some(p) = &gw.ping else { continue };
        if p.received == 0 {
            let message = match gw.arp.mac {
                Some(mac) => format!("gateway {addr} answers ARP ({mac}) but none of {} pings", p.sent),
                None => format!("gateway {addr} answered none of {} pings", p.sent),
            };
            findings.push(f(Code::GatewayNoEcho, Severity::Warn, message));
            continue;
        }
        let loss_pct = p.loss_ratio * 100.0;
        if p.loss_ratio > s.loss_fail || p.loss_ratio > s.loss_warn {
            let severity = if p.loss_ratio > s.loss_fail { Severity::Fail } else { Severity::Warn };
            findings.push(f(
                Code::GatewayLoss,
                severity,
                format!("{loss_pct:.0} % of pings to gateway {addr} lost ({} of {})", p.sent - p.received, p.sent),
            ));
        }
        if let Some(avg) = p.avg_ms
            && avg > s.rtt_warn_ms
        {
            let severity = if avg > s.rtt_fail_ms { Severity::Fail } else { Severity::Warn };
            let limit = if severity == Severity::Fail { s.rtt_fail_ms } else { s.rtt_warn_ms };
            findings.push(f(
                Code::GatewayLatency,
                severity,
                format!("average RTT to gateway {addr} is {avg:.1} ms (limit {limit} ms)"),
            ));
        }
    }
    findings
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ms(v: u64) -> Option<Duration> {
        Some(Duration::from_millis(v))
    }

    fn ev_with(arp: &'static str, rtts: &[Option<Duration>]) -> GatewayEvidence {
        GatewayEvidence {
            default_routes: vec![],
            gateways: vec![GatewayProbe {
                address: Ipv4Addr::new(198, 18, 0, 1),
                arp: ArpResult {
                    status: arp.to_string(),
                    mac: (arp == "answered").then_some(MacAddr([2, 0, 0, 0, 0, 1])),
                    rtt_ms: None,
                    requests_sent: 1,
                },
                ping: (arp != "no_reply").then(|| PingStats::from_rtts(rtts)),
            }],
        }
    }

    fn codes(ev: &GatewayEvidence) -> Vec<(Code, Severity)> {
        judge("eth0", ev, &GatewaySettings::default()).iter().map(|f| (f.code, f.severity)).collect()
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
        assert!(codes(&ev_with("answered", &[ms(1); 5])).is_empty());
    }

    #[test]
    fn arp_silence_is_unreachable_and_ping_silence_is_no_echo() {
        assert_eq!(codes(&ev_with("no_reply", &[])), [(Code::GatewayUnreachable, Severity::Fail)]);
        assert_eq!(codes(&ev_with("answered", &[None; 5])), [(Code::GatewayNoEcho, Severity::Warn)]);
    }

    #[test]
    fn loss_and_latency_thresholds() {
        // 1 of 5 lost = 20 %: above the 5 % warning, below the 50 % failure.
        assert_eq!(
            codes(&ev_with("answered", &[ms(1), None, ms(1), ms(1), ms(1)])),
            [(Code::GatewayLoss, Severity::Warn)]
        );
        assert_eq!(
            codes(&ev_with("answered", &[ms(1), None, None, None, ms(1)])),
            [(Code::GatewayLoss, Severity::Fail)]
        );
        assert_eq!(codes(&ev_with("answered", &[ms(150); 5])), [(Code::GatewayLatency, Severity::Warn)]);
        assert_eq!(codes(&ev_with("answered", &[ms(1600); 5])), [(Code::GatewayLatency, Severity::Fail)]);
    }

    #[test]
    fn no_default_route_is_missing() {
        let ev = GatewayEvidence { default_routes: vec![], gateways: vec![] };
        assert_eq!(codes(&ev), [(Code::GatewayMissing, Severity::Fail)]);
    }

    #[test]
    fn gateways_come_from_this_interfaces_default_routes() {
        let iface = Interface {
            index: 2,
            name: "eth0".into(),
            link_type: "ether".into(),
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
        };
        let routes = [route(2, "198.18.0.1", 100), route(3, "198.18.5.1", 50), route(2, "fe80::1", 1)];
        let refs: Vec<&Route> = routes.iter().collect();
        assert_eq!(gateways_of(&iface, &refs), [Ipv4Addr::new(198, 18, 0, 1)]);
    }
}
