//! The DHCP and addressing layer: the address the interface holds, the lease the system
//! keeps, what the network's DHCP servers offer right now, and whether another host uses
//! our address.
//!
//! The lease state needs no packets. The active probe sends one DHCPDISCOVER from the
//! interface's own MAC with the broadcast flag (so it works without an address and passes
//! DHCP snooping) and collects every OFFER for a short window; it never sends REQUEST, so
//! the machine's address and lease are untouched. `--dhcp-full` adds a complete exchange
//! under a separate, clearly marked identity and RELEASEs it. An RFC 5227 ARP probe looks
//! for another owner of our address. Judging is pure (`judge`). `usable_ipv4` is also the
//! gateway check's source address.

use std::net::{IpAddr, Ipv4Addr};
use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::check::{CheckContext, CheckError, Outcome, dns, finding};
use crate::config::{Config, DhcpSettings};
use crate::platform::arp;
use crate::platform::dhcp::{self as wire, Channel, DhcpReply, ProbeIdentity};
use crate::platform::lease::{self, Lease};
use crate::platform::netlink::{IfAddr, Interface, NetSnapshot};
use crate::report::{CheckId, Code, Evidence, Finding, Severity};
use crate::types::MacAddr;

/// The client identifier the full exchange uses, so server logs show who it was: type 0
/// (not a hardware address, RFC 2132 section 9.14) followed by the text.
pub const FULL_CLIENT_ID: &[u8] = b"\0nettriage-probe";

/// What the DHCP check saw.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DhcpEvidence {
    /// The interface's IPv4 addresses, usable or not.
    #[serde(default)]
    pub ipv4: Vec<IfAddr>,
    /// The address later checks use as their source.
    pub usable_ipv4: Option<Ipv4Addr>,
    /// Leases found in the DHCP clients' lease files for this interface.
    #[serde(default)]
    pub leases: Vec<Lease>,
    /// The interface's current default gateways, DNS servers and mask, for comparison.
    pub current: CurrentConfig,
    /// The DISCOVER probe.
    pub probe: Probe,
    /// The `--dhcp-full` exchange, when asked for.
    pub full: Option<FullExchange>,
    /// The RFC 5227 duplicate-address probe.
    pub duplicate_check: DuplicateCheck,
}

/// What the interface uses now.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct CurrentConfig {
    /// IPv4 default gateways via this interface.
    #[serde(default)]
    pub routers: Vec<Ipv4Addr>,
    /// IPv4 resolvers the system uses.
    #[serde(default)]
    pub dns: Vec<Ipv4Addr>,
    /// Subnet mask of the usable address.
    pub subnet_mask: Option<Ipv4Addr>,
}

/// The DISCOVER probe.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Probe {
    /// `ran`, or `not_run` with `reason`.
    pub status: String,
    /// Why it did not run.
    pub reason: Option<String>,
    /// The chaddr used (the interface's own MAC).
    pub mac: Option<MacAddr>,
    /// Transaction id.
    pub xid: Option<u32>,
    /// Every offer, in arrival order (at most 64).
    #[serde(default)]
    pub offers: Vec<DhcpReply>,
    /// Offers beyond the cap, counted only.
    #[serde(default)]
    pub dropped: u32,
    /// Time to the first offer.
    pub first_offer_ms: Option<f64>,
}

/// The full exchange under a separate identity.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FullExchange {
    /// The separate MAC (locally administered, `02:6e:74:..` for "nt").
    pub mac: MacAddr,
    /// Option 61 sent.
    pub client_id: String,
    /// The OFFER taken, if any (none with `--dhcp-request-ip`).
    pub offer: Option<DhcpReply>,
    /// The address asked for in the REQUEST.
    pub requested: Option<Ipv4Addr>,
    /// The ACK or NAK to our REQUEST, if any.
    pub reply: Option<DhcpReply>,
    /// Time from REQUEST to the reply.
    pub request_ms: Option<f64>,
    /// Whether the acknowledged address was released again.
    #[serde(default)]
    pub released: bool,
    /// What went wrong, if a step could not be done.
    pub error: Option<String>,
}

/// The duplicate-address probe.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DuplicateCheck {
    /// `ran` or `not_run`.
    pub status: String,
    /// The address probed.
    pub address: Option<Ipv4Addr>,
    /// The MAC of another host answering for it.
    pub conflict_mac: Option<MacAddr>,
    /// Why it did not run.
    pub reason: Option<String>,
}

/// The first IPv4 address fit to talk from: global scope, not link-local (169.254/16),
/// not tentative and not a duplicate.
pub fn usable_ipv4(iface: &Interface) -> Option<(Ipv4Addr, u8)> {
    iface.addresses.iter().find_map(|a| match a.address {
        IpAddr::V4(ip) if is_usable(a, ip) => Some((ip, a.prefix_len)),
        _ => None,
    })
}

fn is_usable(a: &IfAddr, ip: Ipv4Addr) -> bool {
    !ip.is_link_local() && !ip.is_loopback() && !a.tentative && !a.dad_failed && a.scope == "global"
}

fn mask(prefix: u8) -> Ipv4Addr {
    Ipv4Addr::from(u32::MAX.checked_shl(32 - u32::from(prefix.min(32))).unwrap_or(0))
}

/// What the interface uses now: gateways, resolvers and mask (pure but for resolv.conf).
fn current_config(iface: &Interface, snapshot: &NetSnapshot, config: &Config) -> CurrentConfig {
    let routers = snapshot
        .default_routes()
        .iter()
        .filter(|r| r.oif == Some(iface.index))
        .filter_map(|r| match r.gateway {
            Some(IpAddr::V4(g)) => Some(g),
            _ => None,
        })
        .collect();
    let (_, _, servers) = dns::read_servers(&config.dns.resolv_conf);
    let dns = servers
        .into_iter()
        .filter_map(|ip| match ip {
            IpAddr::V4(v4) => Some(v4),
            IpAddr::V6(_) => None,
        })
        .collect();
    CurrentConfig { routers, dns, subnet_mask: usable_ipv4(iface).map(|(_, p)| mask(p)) }
}

/// The runner's early verdict for this check: with a usable address, nothing this check
/// can find blocks the later layers (only `dhcp.no_ipv4` and `dhcp.apipa` do, and both
/// mean "no usable address"), so the gateway check need not wait for the probes.
pub fn gate(ctx: &CheckContext<'_>) -> bool {
    ctx.interface.and_then(usable_ipv4).is_some()
}

/// Runs the DHCP check.
pub async fn run(ctx: &CheckContext<'_>) -> Result<Outcome, CheckError> {
    let Some(iface) = ctx.interface else {
        return Err(CheckError::Other("no interface under test".into()));
    };
    let settings = &ctx.config.dhcp;
    let usable = usable_ipv4(iface).map(|(ip, _)| ip);
    let mut ev = DhcpEvidence {
        ipv4: iface.addresses.iter().filter(|a| a.address.is_ipv4()).cloned().collect(),
        usable_ipv4: usable,
        leases: lease::find(&iface.name, iface.index),
        current: current_config(iface, ctx.snapshot, ctx.config),
        probe: not_run_probe("disabled in the config (dhcp.probe = false)"),
        full: None,
        duplicate_check: DuplicateCheck {
            status: "not_run".to_string(),
            address: usable,
            conflict_mac: None,
            reason: None,
        },
    };

    let mut privilege_gap = false;
    let can_probe = iface.is_ethernet() && iface.has_carrier();
    if !settings.probe {
        ev.duplicate_check.reason = Some("disabled with the DHCP probe".into());
    } else if !can_probe {
        ev.probe = not_run_probe("the interface has no Ethernet framing or no carrier");
        ev.duplicate_check.reason = ev.probe.reason.clone();
    } else if !ctx.privileges.net_raw {
        privilege_gap = true;
        ev.probe = not_run_probe("needs CAP_NET_RAW: lease state only");
        ev.duplicate_check.reason = ev.probe.reason.clone();
    } else if let Some(mac) = iface.mac {
        let name = iface.name.clone();
        let discover = spawn_probe(name.clone(), mac, settings.clone());
        let duplicate = spawn_duplicate_check(name.clone(), mac, usable, settings.duplicate_probe_ms);
        let (probe, dup) = tokio::join!(discover, duplicate);
        ev.probe = probe?;
        ev.duplicate_check = dup?;
        if settings.full {
            ev.full = Some(spawn_full(name, settings.clone()).await?);
        }
    }

    let mut findings = judge(&iface.name, &ev, settings, &ctx.config.expected_dhcp_servers);
    if privilege_gap {
        findings.push(finding(
            CheckId::Dhcp,
            Code::ToolNoPrivilege,
            Severity::Warn,
            "the DHCP and duplicate-address probes need CAP_NET_RAW; only the lease state was checked",
        ));
    }
    Ok(Outcome::Ran { findings, evidence: Evidence::Dhcp(Box::new(ev)) })
}

fn not_run_probe(reason: &str) -> Probe {
    Probe {
        status: "not_run".to_string(),
        reason: Some(reason.into()),
        mac: None,
        xid: None,
        offers: vec![],
        dropped: 0,
        first_offer_ms: None,
    }
}

async fn blocking<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> Result<T, CheckError> {
    tokio::task::spawn_blocking(f).await.map_err(|e| CheckError::Other(format!("probe task failed: {e}")))
}

async fn spawn_probe(ifname: String, mac: MacAddr, s: DhcpSettings) -> Result<Probe, CheckError> {
    blocking(move || -> Result<Probe, CheckError> {
        let xid: u32 = rand::random();
        let who = ProbeIdentity { mac, client_id: None };
        let mut channel = Channel::open(&ifname)?;
        let got = channel.exchange(
            &wire::build_discover(xid, &who),
            xid,
            mac,
            Duration::from_millis(s.offer_window_ms),
            Duration::from_millis(s.offer_cap_ms),
            &[],
        )?;
        let offers: Vec<DhcpReply> = got.replies.into_iter().filter(|r| r.kind == "offer").collect();
        Ok(Probe {
            status: "ran".to_string(),
            reason: None,
            mac: Some(mac),
            xid: Some(xid),
            first_offer_ms: offers.first().map(|o| o.ms),
            offers,
            dropped: got.dropped,
        })
    })
    .await?
}

async fn spawn_duplicate_check(
    ifname: String,
    mac: MacAddr,
    address: Option<Ipv4Addr>,
    ms: u64,
) -> Result<DuplicateCheck, CheckError> {
    let Some(ip) = address else {
        return Ok(DuplicateCheck {
            status: "not_run".to_string(),
            address: None,
            conflict_mac: None,
            reason: Some("no usable IPv4 address to probe".into()),
        });
    };
    let reply =
        blocking(move || arp::resolve(&ifname, mac, Ipv4Addr::UNSPECIFIED, ip, Duration::from_millis(ms))).await??;
    Ok(DuplicateCheck {
        status: "ran".to_string(),
        address: Some(ip),
        conflict_mac: reply.map(|r| r.mac),
        reason: None,
    })
}

/// A locally administered MAC marked "nt" (02:6e:74:xx:xx:xx), random per run.
pub fn probe_mac() -> MacAddr {
    let r: [u8; 3] = rand::random();
    MacAddr([0x02, 0x6e, 0x74, r[0], r[1], r[2]])
}

async fn spawn_full(ifname: String, s: DhcpSettings) -> Result<FullExchange, CheckError> {
    blocking(move || -> Result<FullExchange, CheckError> {
        let mac = probe_mac();
        let who = ProbeIdentity { mac, client_id: Some(FULL_CLIENT_ID.to_vec()) };
        let mut ex = FullExchange {
            mac,
            client_id: String::from_utf8_lossy(&FULL_CLIENT_ID[1..]).into_owned(),
            offer: None,
            requested: None,
            reply: None,
            request_ms: None,
            released: false,
            error: None,
        };
        let mut channel = Channel::open(&ifname)?;
        let cap = Duration::from_millis(s.offer_cap_ms);
        let xid: u32 = rand::random();
        let request = match s.request_ip {
            // INIT-REBOOT: ask for the address directly, with no server identifier.
            Some(ip) => {
                ex.requested = Some(ip);
                wire::build_request(xid, &who, None, ip)
            }
            None => {
                let offers = channel.exchange(&wire::build_discover(xid, &who), xid, mac, cap, cap, &["offer"])?;
                let Some(offer) = offers.replies.into_iter().find(|r| r.kind == "offer") else {
                    ex.error = Some("no offer for the probe identity".into());
                    return Ok(ex);
                };
                ex.requested = Some(offer.address);
                let request = wire::build_request(xid, &who, Some(offer.server), offer.address);
                ex.offer = Some(offer);
                request
            }
        };
        // A second server's late OFFER must not end the wait for the ACK or NAK.
        let replies = channel.exchange(&request, xid, mac, cap, cap, &["ack", "nak"])?;
        if let Some(reply) = replies.replies.into_iter().find(|r| r.kind == "ack" || r.kind == "nak") {
            ex.request_ms = Some(reply.ms);
            if reply.kind == "ack" {
                // Give the address back at once so the probe never holds a lease.
                channel.send(&wire::build_release(xid, &who, reply.server, reply.server_mac, reply.address))?;
                ex.released = true;
            }
            ex.reply = Some(reply);
        } else {
            ex.error = Some("no ACK or NAK to the REQUEST".into());
        }
        Ok(ex)
    })
    .await?
}

/// The server (with its offer) that matches the interface's current lease: the lease
/// file's server identifier, else the offer whose router is the current gateway.
fn matching_offer(ev: &DhcpEvidence) -> Option<&DhcpReply> {
    let lease_server = ev.leases.iter().find_map(|l| l.server);
    ev.probe
        .offers
        .iter()
        .find(|o| Some(o.server) == lease_server)
        .or_else(|| ev.probe.offers.iter().find(|o| o.routers.iter().any(|r| ev.current.routers.contains(r))))
}

/// Judges the DHCP evidence (pure). Findings are ordered so the cause comes before its
/// symptoms: no offer before "no address".
pub fn judge(ifname: &str, ev: &DhcpEvidence, s: &DhcpSettings, expected: &[Ipv4Addr]) -> Vec<Finding> {
    let f = |code, severity, message: String| finding(CheckId::Dhcp, code, severity, message);
    let mut out = Vec::new();
    let apipa: Vec<&IfAddr> =
        ev.ipv4.iter().filter(|a| matches!(a.address, IpAddr::V4(ip) if ip.is_link_local())).collect();
    let dynamic = ev.ipv4.iter().any(|a| a.dynamic && Some(a.address) == ev.usable_ipv4.map(IpAddr::V4));
    let ran = ev.probe.status == "ran";
    let offers = &ev.probe.offers;

    if ran && offers.is_empty() {
        let waited = s.offer_cap_ms;
        match (ev.usable_ipv4, dynamic) {
            (None, _) => out.push(f(
                Code::DhcpNoOffer,
                Severity::Fail,
                format!("no DHCP server answered a DISCOVER on {ifname} within {waited} ms"),
            )),
            (Some(ip), true) => out.push(f(
                Code::DhcpNoOffer,
                Severity::Warn,
                format!("no DHCP server answered within {waited} ms; {ip} will not be renewed"),
            )),
            // A static address: DHCP is not in use here, silence is expected.
            (Some(_), false) => {}
        }
    }
    if let Some(full) = &ev.full
        && let Some(reply) = full.reply.as_ref().filter(|r| r.kind == "nak")
    {
        let why = reply.message.as_deref().map(|m| format!(": \"{m}\"")).unwrap_or_default();
        out.push(f(
            Code::DhcpNak,
            Severity::Fail,
            format!(
                "{} answered the REQUEST for {} with NAK{why}",
                reply.server,
                full.requested.map_or_else(|| "an address".to_string(), |ip| ip.to_string())
            ),
        ));
    }

    let mut servers: Vec<(Ipv4Addr, MacAddr)> = Vec::new();
    for o in offers {
        if !servers.iter().any(|(ip, _)| *ip == o.server) {
            servers.push((o.server, o.server_mac));
        }
    }
    let unexpected: Vec<&(Ipv4Addr, MacAddr)> =
        servers.iter().filter(|(ip, _)| !expected.is_empty() && !expected.contains(ip)).collect();
    if !unexpected.is_empty() {
        let list: Vec<String> = unexpected.iter().map(|(ip, mac)| format!("{ip} ({mac})")).collect();
        out.push(f(
            Code::DhcpUnexpectedServer,
            Severity::Fail,
            format!("offer from a server not in expected_dhcp_servers: {}", list.join(", ")),
        ));
    }
    if servers.len() > 1 && (expected.is_empty() || !unexpected.is_empty()) {
        let matching = matching_offer(ev).map(|o| o.server);
        let list: Vec<String> = servers
            .iter()
            .map(|(ip, mac)| {
                let tag = if Some(*ip) == matching { ", matches the current lease" } else { "" };
                format!("{ip} ({mac}{tag})")
            })
            .collect();
        out.push(f(
            Code::DhcpMultipleServers,
            Severity::Warn,
            format!("{} DHCP servers answered: {}", servers.len(), list.join("; ")),
        ));
    }

    if ev.usable_ipv4.is_some()
        && let Some(offer) = matching_offer(ev).or(offers.first())
    {
        let mut diffs = Vec::new();
        if !offer.routers.is_empty() && !ev.current.routers.is_empty() && offer.routers[0] != ev.current.routers[0] {
            diffs.push(format!("router {} offered, {} in use", offer.routers[0], ev.current.routers[0]));
        }
        if let (Some(offered), Some(current)) = (offer.subnet_mask, ev.current.subnet_mask)
            && offered != current
        {
            diffs.push(format!("mask {offered} offered, {current} in use"));
        }
        if !offer.dns.is_empty() && !ev.current.dns.is_empty() && !offer.dns.iter().any(|d| ev.current.dns.contains(d))
        {
            diffs.push(format!("DNS {} offered, {} in use", join(&offer.dns), join(&ev.current.dns)));
        }
        if !diffs.is_empty() {
            out.push(f(
                Code::DhcpOfferMismatch,
                Severity::Warn,
                format!("{} offers different settings: {}", offer.server, diffs.join("; ")),
            ));
        }
    }
    if let Some(ms) = ev.probe.first_offer_ms
        && ms > s.slow_ms
    {
        out.push(f(
            Code::DhcpSlow,
            Severity::Warn,
            format!("the first offer took {ms:.0} ms (limit {} ms)", s.slow_ms),
        ));
    }

    if ev.usable_ipv4.is_none() {
        if let Some(a) = apipa.first() {
            out.push(f(
                Code::DhcpApipa,
                Severity::Fail,
                format!("{ifname} uses the self-assigned address {}/{}", a.address, a.prefix_len),
            ));
        } else {
            let seen: Vec<String> = ev.ipv4.iter().map(|a| format!("{}/{}", a.address, a.prefix_len)).collect();
            let message = if seen.is_empty() {
                format!("{ifname} has no IPv4 address")
            } else {
                format!("{ifname} has no usable IPv4 address (only {})", seen.join(", "))
            };
            out.push(f(Code::DhcpNoIpv4, Severity::Fail, message));
        }
    }
    if let (Some(mac), Some(ip)) = (ev.duplicate_check.conflict_mac, ev.duplicate_check.address) {
        out.push(f(
            Code::DhcpDuplicateAddress,
            Severity::Fail,
            format!("another host ({mac}) answers ARP for {ip}, this interface's address"),
        ));
    }
    if let Some(msg) = lease_expiring(ev) {
        out.push(f(Code::DhcpLeaseExpiring, Severity::Warn, msg));
    }
    out
}

/// Warns when a dynamic address is past its rebinding time (7/8 of the lease, RFC 2131
/// section 4.4.5) without renewal: the lease time comes from the lease file, else from
/// what the server offers now; without either, under 60 s left.
fn lease_expiring(ev: &DhcpEvidence) -> Option<String> {
    let usable = ev.usable_ipv4?;
    let addr = ev.ipv4.iter().find(|a| a.address == IpAddr::V4(usable) && a.dynamic)?;
    let left = addr.valid_lft_s?;
    let lease_time = ev
        .leases
        .iter()
        .find(|l| l.address == Some(usable))
        .and_then(|l| l.lease_time_s)
        .or_else(|| matching_offer(ev).and_then(|o| o.lease_time_s));
    let limit = lease_time.map_or(60, |t| t / 8);
    (left < limit).then(|| match lease_time {
        Some(t) => format!("{usable} expires in {left} s of a {t} s lease: past the rebinding time, not renewed"),
        None => format!("{usable} expires in {left} s and has not been renewed"),
    })
}

fn join(ips: &[Ipv4Addr]) -> String {
    ips.iter().map(Ipv4Addr::to_string).collect::<Vec<_>>().join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn addr(ip: &str, scope: &str, dynamic: bool, valid: Option<u32>) -> IfAddr {
        IfAddr {
            address: ip.parse().unwrap(),
            prefix_len: 24,
            scope: scope.into(),
            dynamic,
            tentative: false,
            dad_failed: false,
            valid_lft_s: valid,
            preferred_lft_s: valid,
        }
    }

    fn offer(server: &str, mac: u8, router: &str, dns: &str, ms: f64) -> DhcpReply {
        DhcpReply {
            kind: "offer".to_string(),
            server: server.parse().unwrap(),
            server_mac: MacAddr([2, 0, 0, 0, 0, mac]),
            address: "198.18.0.150".parse().unwrap(),
            subnet_mask: Some(Ipv4Addr::new(255, 255, 255, 0)),
            routers: vec![router.parse().unwrap()],
            dns: vec![dns.parse().unwrap()],
            domain: None,
            lease_time_s: Some(3600),
            renew_s: None,
            rebind_s: None,
            relay: None,
            relay_agent_info: false,
            message: None,
            ms,
        }
    }

    fn ev(ipv4: Vec<IfAddr>, offers: Vec<DhcpReply>) -> DhcpEvidence {
        let usable = ipv4.iter().find_map(|a| match a.address {
            IpAddr::V4(ip) if is_usable(a, ip) => Some(ip),
            _ => None,
        });
        DhcpEvidence {
            ipv4,
            usable_ipv4: usable,
            leases: vec![],
            current: CurrentConfig {
                routers: vec![Ipv4Addr::new(198, 18, 0, 1)],
                dns: vec![Ipv4Addr::new(198, 18, 0, 1)],
                subnet_mask: usable.map(|_| Ipv4Addr::new(255, 255, 255, 0)),
            },
            probe: Probe {
                status: "ran".to_string(),
                reason: None,
                mac: None,
                xid: Some(1),
                first_offer_ms: offers.first().map(|o| o.ms),
                offers,
                dropped: 0,
            },
            full: None,
            duplicate_check: DuplicateCheck {
                status: "ran".to_string(),
                address: usable,
                conflict_mac: None,
                reason: None,
            },
        }
    }

    fn codes(ev: &DhcpEvidence, expected: &[Ipv4Addr]) -> Vec<(Code, Severity)> {
        judge("eth0", ev, &DhcpSettings::default(), expected).iter().map(|f| (f.code, f.severity)).collect()
    }

    fn good() -> DhcpReply {
        offer("198.18.0.1", 1, "198.18.0.1", "198.18.0.1", 2.0)
    }

    #[test]
    fn healthy_segment_has_no_findings() {
        let e = ev(vec![addr("198.18.0.10", "global", true, Some(3000))], vec![good()]);
        assert!(codes(&e, &[]).is_empty());
        assert!(codes(&e, &[Ipv4Addr::new(198, 18, 0, 1)]).is_empty());
    }

    #[test]
    fn no_offer_is_the_cause_before_no_address() {
        let e = ev(vec![], vec![]);
        assert_eq!(codes(&e, &[]), [(Code::DhcpNoOffer, Severity::Fail), (Code::DhcpNoIpv4, Severity::Fail)]);
        let apipa = ev(vec![addr("169.254.7.7", "link", true, None)], vec![]);
        assert_eq!(codes(&apipa, &[]), [(Code::DhcpNoOffer, Severity::Fail), (Code::DhcpApipa, Severity::Fail)]);
        let dynamic = ev(vec![addr("198.18.0.10", "global", true, Some(3000))], vec![]);
        assert_eq!(codes(&dynamic, &[]), [(Code::DhcpNoOffer, Severity::Warn)]);
        let fixed = ev(vec![addr("198.18.0.10", "global", false, None)], vec![]);
        assert!(codes(&fixed, &[]).is_empty(), "a static address needs no DHCP server");
    }

    #[test]
    fn rogue_servers() {
        let rogue = offer("198.18.0.66", 9, "198.18.0.66", "198.18.0.66", 1.0);
        let e = ev(vec![addr("198.18.0.10", "global", true, Some(3000))], vec![good(), rogue]);
        let found = judge("eth0", &e, &DhcpSettings::default(), &[]);
        assert_eq!(found.iter().map(|f| f.code).collect::<Vec<_>>(), [Code::DhcpMultipleServers]);
        assert!(found[0].message.contains("198.18.0.1 (02:00:00:00:00:01, matches the current lease)"));
        assert!(found[0].message.contains("198.18.0.66 (02:00:00:00:00:09)"));
        assert_eq!(
            codes(&e, &[Ipv4Addr::new(198, 18, 0, 1)]),
            [(Code::DhcpUnexpectedServer, Severity::Fail), (Code::DhcpMultipleServers, Severity::Warn)]
        );
        // A configured failover pair is fine.
        assert!(codes(&e, &[Ipv4Addr::new(198, 18, 0, 1), Ipv4Addr::new(198, 18, 0, 66)]).is_empty());
    }

    #[test]
    fn mismatch_slow_duplicate_and_expiry() {
        let other = offer("198.18.0.1", 1, "198.18.0.254", "198.18.9.9", 1500.0);
        let mut e = ev(vec![addr("198.18.0.10", "global", false, None)], vec![other]);
        assert_eq!(codes(&e, &[]), [(Code::DhcpOfferMismatch, Severity::Warn), (Code::DhcpSlow, Severity::Warn)]);
        e.probe.offers = vec![good()];
        e.probe.first_offer_ms = Some(2.0);
        e.duplicate_check.conflict_mac = Some(MacAddr([2, 0, 0, 0, 0, 0x42]));
        assert_eq!(codes(&e, &[]), [(Code::DhcpDuplicateAddress, Severity::Fail)]);
        let expiring = ev(vec![addr("198.18.0.10", "global", true, Some(300))], vec![good()]);
        assert_eq!(codes(&expiring, &[]), [(Code::DhcpLeaseExpiring, Severity::Warn)], "300 s left of 3600");
        let fine = ev(vec![addr("198.18.0.10", "global", true, Some(1000))], vec![good()]);
        assert!(codes(&fine, &[]).is_empty());
    }

    #[test]
    fn nak_in_full_exchange() {
        let mut e = ev(vec![addr("198.18.0.10", "global", false, None)], vec![good()]);
        let mut nak = good();
        nak.kind = "nak".to_string();
        nak.message = Some("address not available".into());
        e.full = Some(FullExchange {
            mac: probe_mac(),
            client_id: "nettriage-probe".into(),
            offer: Some(good()),
            requested: Some(good().address),
            reply: Some(nak),
            request_ms: Some(1.0),
            released: false,
            error: None,
        });
        assert_eq!(codes(&e, &[]), [(Code::DhcpNak, Severity::Fail)]);
    }

    #[test]
    fn the_gate_agrees_with_the_blocking_codes() {
        // The runner lets the gateway start early when a usable address exists; that is
        // only sound if no finding made with a usable address can block.
        let with_address = [
            ev(vec![addr("198.18.0.10", "global", true, Some(30))], vec![]),
            ev(
                vec![addr("198.18.0.10", "global", false, None)],
                vec![offer("198.18.0.66", 9, "198.18.0.66", "198.18.9.9", 2000.0)],
            ),
        ];
        for e in &with_address {
            let found = judge("eth0", e, &DhcpSettings::default(), &[Ipv4Addr::new(198, 18, 0, 1)]);
            assert!(!found.is_empty() && found.iter().all(|f| !f.code.blocks()), "{found:?}");
        }
        let without = ev(vec![addr("169.254.1.1", "link", true, None)], vec![]);
        let found = judge("eth0", &without, &DhcpSettings::default(), &[]);
        assert!(found.iter().any(|f| f.code.blocks()));
    }

    #[test]
    fn probe_mac_is_locally_administered_unicast() {
        let m = probe_mac();
        assert_eq!(m.0[0] & 0x03, 0x02);
        assert_eq!(&m.0[..3], &[0x02, 0x6e, 0x74]);
    }

    #[test]
    fn prefix_to_mask() {
        assert_eq!(mask(24), Ipv4Addr::new(255, 255, 255, 0));
        assert_eq!(mask(0), Ipv4Addr::new(0, 0, 0, 0));
        assert_eq!(mask(32), Ipv4Addr::new(255, 255, 255, 255));
    }
}
