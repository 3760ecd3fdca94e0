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
//! gateway check's source address. `nettriage analyze` ([`crate::analyze`]) fills the same
//! [`DhcpEvidence`] from a capture (every transaction in [`DhcpCapture`], the duplicate
//! check from the RFC 5227 probes it holds) and calls the same `judge` with
//! [`Source::Capture`].

use std::collections::HashMap;
use std::net::{IpAddr, Ipv4Addr};
#[cfg(feature = "live")]
use std::sync::atomic::{AtomicBool, Ordering};
#[cfg(feature = "live")]
use std::sync::{Arc, OnceLock};
#[cfg(feature = "live")]
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};

use crate::check::{CheckContext, Source, finding, named};
#[cfg(feature = "live")]
use crate::check::{CheckError, Outcome, dns};
#[cfg(feature = "live")]
use crate::config::Config;
use crate::config::DhcpSettings;
#[cfg(feature = "live")]
use crate::platform::arp;
#[cfg(feature = "live")]
use crate::platform::dhcp::{self as frames, Channel, ProbeIdentity};
use crate::platform::dhcp::{DhcpKind, DhcpOptions, DhcpReply};
#[cfg(feature = "live")]
use crate::platform::lease;
use crate::platform::lease::Lease;
#[cfg(feature = "live")]
use crate::platform::netlink::NetSnapshot;
use crate::platform::netlink::{AddrScope, IfAddr, Interface};
use crate::platform::proxy::{DhcpWpad, WpadOrigin};
#[cfg(feature = "live")]
use crate::report::Evidence;
use crate::report::{CheckId, Code, Finding, Severity};
use crate::types::MacAddr;

/// The client identifier the full exchange uses, so server logs show who it was: type 0
/// (not a hardware address, RFC 2132 section 9.14) followed by the text.
pub const FULL_CLIENT_ID: &[u8] = b"\0nettriage-probe";
/// Most transactions, servers or NAKs named in one finding's message.
const MAX_NAMED: usize = 10;

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
    /// The RFC 5227 duplicate-address probe (from a capture: the first ARP probe another
    /// host answered, else the first ARP probe seen).
    pub duplicate_check: DuplicateCheck,
    /// Set when the evidence comes from a capture: what the DHCP messages in it show.
    #[serde(flatten)]
    pub capture: Option<DhcpCapture>,
}

/// The DHCP messages of a capture, grouped into transactions.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DhcpCapture {
    /// The capture file, as given.
    pub source: String,
    /// Transactions (xid and client MAC), in order of their first message (at most
    /// `analyze::MAX_LISTED` in a report).
    pub transactions: Vec<DhcpTransaction>,
    /// Transactions seen.
    pub transactions_total: usize,
    /// Every server that sent an OFFER, with the MAC it answered from.
    pub servers: Vec<DhcpServerSeen>,
    /// Messages of transactions beyond `analyze::MAX_TRACKED`, counted only.
    pub untracked: u32,
}

/// One DHCP transaction seen in a capture.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DhcpTransaction {
    /// Transaction id.
    pub xid: u32,
    /// The client's hardware address (chaddr).
    pub client_mac: MacAddr,
    /// The messages, in order (at most 32).
    pub messages: Vec<DhcpMessageSeen>,
    /// Messages beyond the cap, counted only.
    pub dropped: u32,
    /// DISCOVERs sent (retransmissions included).
    pub discovers: u32,
    /// Whether a DISCOVER asked for broadcast replies; without it a server may unicast
    /// the OFFER to the client, which a capture taken elsewhere does not see.
    pub broadcast: bool,
    /// Whether an OFFER or an ACK came.
    pub answered: bool,
    /// The address the client asked for (option 50 or ciaddr).
    pub requested: Option<Ipv4Addr>,
    /// The VLAN the transaction's messages came on (the innermost 802.1Q/802.1ad tag), or
    /// none for untagged frames.
    #[serde(default)]
    pub vlan: Option<u16>,
}

/// One DHCP message of a transaction.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DhcpMessageSeen {
    /// `discover`, `offer`, `request`, `decline`, `ack`, `nak`, `release` or `inform`.
    pub kind: DhcpKind,
    /// Server identifier (option 54) of a reply or a REQUEST.
    pub server: Option<Ipv4Addr>,
    /// Ethernet source of a reply.
    pub server_mac: Option<MacAddr>,
    /// The address offered, acknowledged or asked for.
    pub address: Option<Ipv4Addr>,
    /// Option 56, the server's message (usually with a NAK).
    pub message: Option<String>,
    /// Time since the transaction's first message.
    pub ms: f64,
}

/// A server that sent OFFERs in a capture.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DhcpServerSeen {
    /// Server identifier.
    pub server: Ipv4Addr,
    /// The MAC its first OFFER came from.
    pub mac: MacAddr,
    /// OFFERs sent.
    pub offers: u32,
    /// The VLAN its OFFERs came on (the innermost tag), or none for untagged frames: one
    /// entry per server and VLAN.
    #[serde(default)]
    pub vlan: Option<u16>,
}

/// What the interface uses now (gateways, resolvers, mask), as the same [`DhcpOptions`]
/// offers and leases hold, so they compare field by field under the same limits.
pub type CurrentConfig = DhcpOptions;

/// Whether a probe ran.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ProbeStatus {
    /// It ran; its results follow.
    Ran,
    /// It did not run; `reason` says why.
    NotRun,
}

/// The DISCOVER probe.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Probe {
    /// `ran`, or `not_run` with `reason`.
    pub status: ProbeStatus,
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
    /// How long the listener heard offers after the DISCOVER: it stays open while the
    /// other checks run, so this says how late a second server could have answered and
    /// still been heard.
    #[serde(default)]
    pub listened_ms: Option<f64>,
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
    pub status: ProbeStatus,
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
    !ip.is_link_local() && !ip.is_loopback() && !a.tentative && !a.dad_failed && a.scope == AddrScope::Global
}

#[cfg(any(feature = "live", test))]
fn mask(prefix: u8) -> Ipv4Addr {
    Ipv4Addr::from(u32::MAX.checked_shl(32 - u32::from(prefix.min(32))).unwrap_or(0))
}

/// What the interface uses now: gateways, resolvers and mask (pure but for resolv.conf).
#[cfg(feature = "live")]
fn current_config(iface: &Interface, snapshot: &NetSnapshot, config: &Config) -> CurrentConfig {
    let mut current = DhcpOptions { subnet_mask: usable_ipv4(iface).map(|(_, p)| mask(p)), ..DhcpOptions::default() };
    current.set_routers(snapshot.default_routes().iter().filter(|r| r.oif == Some(iface.index)).filter_map(|r| {
        match r.gateway {
            Some(IpAddr::V4(g)) => Some(g),
            _ => None,
        }
    }));
    let dns = dns::system_servers(&config.dns).into_iter().filter_map(|ip| match ip {
        IpAddr::V4(v4) => Some(v4),
        IpAddr::V6(_) => None,
    });
    current.set_dns(dns);
    current
}

/// The runner's early verdict for this check: with a usable address, nothing this check
/// can find blocks the later layers (only `dhcp.no_ipv4` and `dhcp.apipa` do, and both
/// mean "no usable address"), so the gateway check need not wait for the probes.
pub fn gate(ctx: &CheckContext<'_>) -> bool {
    ctx.interface.and_then(usable_ipv4).is_some()
}

/// Runs the DHCP check.
#[cfg(feature = "live")]
pub async fn run(ctx: &CheckContext<'_>) -> Result<Outcome, CheckError> {
    let Some(iface) = ctx.interface else {
        return Err(CheckError::NoInterface);
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
            status: ProbeStatus::NotRun,
            address: usable,
            conflict_mac: None,
            reason: None,
        },
        capture: None,
    };

    // WPAD through DHCP for the web check: the lease the system's client accepted first;
    // else the listener hands over the first offer's; else, once the probe is over, none.
    let wpad = Arc::clone(&ctx.facts.dhcp_wpad);
    if let Some(w) = lease_wpad(&ev.leases) {
        let _ = wpad.set(Some(w));
    }
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
        let until = Listen {
            wpad: Arc::clone(&wpad),
            alone: Arc::clone(&ctx.facts.dhcp_alone),
            window: settings.window(),
            cap: Duration::from_millis(settings.offer_cap_ms),
            stop_by: ctx.cutoff(),
        };
        let discover = spawn_probe(name.clone(), mac, until);
        let duplicate = spawn_duplicate_check(name.clone(), mac, usable, settings.duplicate_probe_ms);
        // The full exchange uses its own identity and transaction, so it runs beside the
        // listener instead of after the whole run.
        let full = async {
            if settings.full {
                spawn_full(name.clone(), settings.clone(), ctx.cutoff()).await.map(Some)
            } else {
                Ok(None)
            }
        };
        let (probe, dup, full) = tokio::join!(discover, duplicate, full);
        ev.probe = probe?;
        ev.duplicate_check = dup?;
        ev.full = full?;
    }
    let _ = wpad.set(None);

    let mut findings = judge(&iface.name, &ev, settings, &ctx.config.expected_dhcp_servers, Source::Live);
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

#[cfg(any(feature = "live", test))]
fn not_run_probe(reason: &str) -> Probe {
    Probe {
        status: ProbeStatus::NotRun,
        reason: Some(reason.into()),
        mac: None,
        xid: None,
        offers: vec![],
        dropped: 0,
        first_offer_ms: None,
        listened_ms: None,
    }
}

#[cfg(feature = "live")]
async fn blocking<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> Result<T, CheckError> {
    tokio::task::spawn_blocking(f).await.map_err(|source| CheckError::Task { operation: "DHCP probe", source })
}

/// When the DISCOVER's listener stops (and where it hands over the first offer's WPAD URL).
#[cfg(feature = "live")]
struct Listen {
    /// `Facts::dhcp_wpad`: set at the first offer.
    wpad: Arc<OnceLock<Option<DhcpWpad>>>,
    /// Set by the runner when no other check is running or can start.
    alone: Arc<AtomicBool>,
    /// The least it listens.
    window: Duration,
    /// With no offer yet, the least it listens before giving up.
    cap: Duration,
    /// The latest it listens: just before the run's deadline.
    stop_by: Instant,
}

#[cfg(feature = "live")]
impl Listen {
    /// Whether to stop `elapsed` after the DISCOVER, with or without an offer heard: at
    /// the cutoff, or once the rest of the run is done, the window has passed and an offer
    /// came (or, without one, the cap has passed).
    fn done(&self, now: Instant, elapsed: Duration, offered: bool) -> bool {
        now >= self.stop_by
            || (self.alone.load(Ordering::Acquire) && elapsed >= self.window && (offered || elapsed >= self.cap))
    }
}

#[cfg(feature = "live")]
async fn spawn_probe(ifname: String, mac: MacAddr, until: Listen) -> Result<Probe, CheckError> {
    blocking(move || -> Result<Probe, CheckError> {
        let xid: u32 = rand::random();
        let who = ProbeIdentity { mac, client_id: None };
        let mut channel = Channel::open(&ifname)?;
        let mut listened = Duration::ZERO;
        let got = channel.listen(&frames::build_discover(xid, &who), xid, mac, |elapsed, got| {
            listened = elapsed;
            if let Some(first) = got.replies.iter().find(|r| r.kind == DhcpKind::Offer) {
                until.wpad.get_or_init(|| offer_wpad(first));
            }
            until.done(Instant::now(), elapsed, got.replies.iter().any(|r| r.kind == DhcpKind::Offer))
        })?;
        let offers: Vec<DhcpReply> = got.replies.into_iter().filter(|r| r.kind == DhcpKind::Offer).collect();
        tracing::debug!(offers = offers.len(), listened_ms = listened.as_millis() as u64, "DHCP listener closed");
        Ok(Probe {
            status: ProbeStatus::Ran,
            reason: None,
            mac: Some(mac),
            xid: Some(xid),
            first_offer_ms: offers.first().map(|o| o.ms),
            offers,
            dropped: got.dropped,
            listened_ms: Some(crate::types::millis(listened)),
        })
    })
    .await?
}

#[cfg(feature = "live")]
async fn spawn_duplicate_check(
    ifname: String,
    mac: MacAddr,
    address: Option<Ipv4Addr>,
    ms: u64,
) -> Result<DuplicateCheck, CheckError> {
    let Some(ip) = address else {
        return Ok(DuplicateCheck {
            status: ProbeStatus::NotRun,
            address: None,
            conflict_mac: None,
            reason: Some("no usable IPv4 address to probe".into()),
        });
    };
    let reply =
        blocking(move || arp::resolve(&ifname, mac, Ipv4Addr::UNSPECIFIED, ip, Duration::from_millis(ms))).await??;
    Ok(DuplicateCheck { status: ProbeStatus::Ran, address: Some(ip), conflict_mac: reply.map(|r| r.mac), reason: None })
}

/// A locally administered MAC marked "nt" (02:6e:74:xx:xx:xx), random per run.
pub fn probe_mac() -> MacAddr {
    let r: [u8; 3] = rand::random();
    MacAddr([0x02, 0x6e, 0x74, r[0], r[1], r[2]])
}

#[cfg(feature = "live")]
async fn spawn_full(ifname: String, s: DhcpSettings, stop_by: Instant) -> Result<FullExchange, CheckError> {
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
        // Each step waits up to the cap, and never past the run's deadline.
        let cap = || Duration::from_millis(s.offer_cap_ms).min(stop_by.saturating_duration_since(Instant::now()));
        let xid: u32 = rand::random();
        let request = match s.request_ip {
            // INIT-REBOOT: ask for the address directly, with no server identifier.
            Some(ip) => {
                ex.requested = Some(ip);
                frames::build_request(xid, &who, None, ip)
            }
            None => {
                let cap = cap();
                let offers =
                    channel.exchange(&frames::build_discover(xid, &who), xid, mac, cap, cap, &[DhcpKind::Offer])?;
                let Some(offer) = offers.replies.into_iter().find(|r| r.kind == DhcpKind::Offer) else {
                    ex.error = Some("no offer for the probe identity".into());
                    return Ok(ex);
                };
                ex.requested = Some(offer.address);
                let request = frames::build_request(xid, &who, Some(offer.server), offer.address);
                ex.offer = Some(offer);
                request
            }
        };
        // A second server's late OFFER must not end the wait for the ACK or NAK.
        let cap = cap();
        let replies = channel.exchange(&request, xid, mac, cap, cap, &[DhcpKind::Ack, DhcpKind::Nak])?;
        if let Some(reply) = replies.replies.into_iter().find(|r| r.kind == DhcpKind::Ack || r.kind == DhcpKind::Nak) {
            ex.request_ms = Some(reply.ms);
            if reply.kind == DhcpKind::Ack {
                // Give the address back at once so the probe never holds a lease.
                channel.send(&frames::build_release(xid, &who, reply.server, reply.server_mac, reply.address))?;
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

/// The WPAD URL (option 252) of the first lease that has one, for the web check (pure).
pub fn lease_wpad(leases: &[Lease]) -> Option<DhcpWpad> {
    leases.iter().find_map(|l| Some(DhcpWpad::new(l.wpad.as_deref()?, WpadOrigin::Lease, l.server)))
}

/// The WPAD URL (option 252) of an offer, for the web check (pure).
pub fn offer_wpad(offer: &DhcpReply) -> Option<DhcpWpad> {
    Some(DhcpWpad::new(offer.wpad.as_deref()?, WpadOrigin::Offer, Some(offer.server)))
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

/// How `offer` differs from what the interface uses now: the first router, the mask, and
/// DNS servers when none of the offered ones is in use (each compared only when both
/// sides have it).
fn differences(offer: &DhcpReply, current: &CurrentConfig) -> Vec<String> {
    let mut diffs = Vec::new();
    if !offer.routers.is_empty() && !current.routers.is_empty() && offer.routers[0] != current.routers[0] {
        diffs.push(format!("router {} offered, {} in use", offer.routers[0], current.routers[0]));
    }
    if let (Some(offered), Some(now)) = (offer.subnet_mask, current.subnet_mask)
        && offered != now
    {
        diffs.push(format!("mask {offered} offered, {now} in use"));
    }
    if !offer.dns.is_empty() && !current.dns.is_empty() && !offer.dns.iter().any(|d| current.dns.contains(d)) {
        diffs.push(format!("DNS {} offered, {} in use", join(&offer.dns), join(&current.dns)));
    }
    diffs
}

impl DhcpEvidence {
    /// Whether the live probe heard servers whose offers set the client up differently
    /// (another router, mask or DNS servers): then the server a client happens to take
    /// decides whether the layers above work, and a failure there may be that choice
    /// ([`crate::diagnosis`] names `dhcp.multiple_servers` as its cause).
    pub fn offers_disagree(&self) -> bool {
        let offers = &self.probe.offers;
        offers.iter().any(|a| {
            offers.iter().any(|b| {
                a.server != b.server
                    && (a.routers.first() != b.routers.first()
                        || a.subnet_mask != b.subnet_mask
                        || !(a.dns.is_empty() && b.dns.is_empty() || a.dns.iter().any(|d| b.dns.contains(d))))
            })
        })
    }
}

/// A server that offered an address on a VLAN (none: untagged, and always live).
type Offering = (Option<u16>, Ipv4Addr, MacAddr);

/// The servers that offered an address, each once per VLAN with the MAC of its first
/// offer there: the probe's offers live, every OFFER of a capture.
fn offering_servers(ev: &DhcpEvidence) -> Vec<Offering> {
    let mut servers: Vec<Offering> = Vec::new();
    let seen = ev.capture.iter().flat_map(|c| c.servers.iter().map(|s| (s.vlan, s.server, s.mac)));
    for (vlan, ip, mac) in ev.probe.offers.iter().map(|o| (None, o.server, o.server_mac)).chain(seen) {
        if !servers.iter().any(|(v, known, _)| *v == vlan && *known == ip) {
            servers.push((vlan, ip, mac));
        }
    }
    servers
}

/// "SERVER answered WHOSE REQUEST for ADDRESS with NAK: "why"".
fn nak_phrase(
    server: Option<Ipv4Addr>,
    client: Option<MacAddr>,
    requested: Option<Ipv4Addr>,
    why: Option<&str>,
) -> String {
    let server = server.map_or_else(|| "a server".to_string(), |s| s.to_string());
    let whose = client.map_or_else(|| "the".to_string(), |mac| format!("{mac}'s"));
    let asked = requested.map_or_else(|| "an address".to_string(), |ip| ip.to_string());
    let why = why.map(|m| format!(": \"{m}\"")).unwrap_or_default();
    format!("{server} answered {whose} REQUEST for {asked} with NAK{why}")
}

/// Whether a capture shows the transaction was answered: an OFFER or ACK in it, or a
/// REQUEST naming a server (option 54), which a client sends only after an OFFER (a
/// capture on a switch port sees the broadcast DISCOVER and REQUEST, not an OFFER sent
/// unicast to the client).
fn completed(t: &DhcpTransaction) -> bool {
    t.answered || t.messages.iter().any(|m| m.kind == DhcpKind::Request && m.server.is_some())
}

/// The capture's unanswered DISCOVERs as `dhcp.no_offer`: `fail` when some client got no
/// answer in any transaction and asked for broadcast replies; `warn` when every such
/// client was answered in another transaction, or asked for unicast replies (a capture
/// taken on another port does not see those). A transaction the client carried on with
/// (a REQUEST naming a server) was answered ([`completed`]).
fn capture_no_offer(capture: &DhcpCapture) -> Option<Finding> {
    let answered_later =
        |t: &DhcpTransaction| capture.transactions.iter().any(|o| o.client_mac == t.client_mac && completed(o));
    let unanswered: Vec<&DhcpTransaction> =
        capture.transactions.iter().filter(|t| t.discovers > 0 && !completed(t)).collect();
    if unanswered.is_empty() {
        return None;
    }
    let severity =
        if unanswered.iter().any(|t| t.broadcast && !answered_later(t)) { Severity::Fail } else { Severity::Warn };
    let list: Vec<String> = unanswered
        .iter()
        .map(|t| {
            let n = t.discovers;
            let sent = if n == 1 { "1 DISCOVER".to_string() } else { format!("{n} DISCOVERs") };
            let later = if answered_later(t) { ", answered in another transaction" } else { "" };
            let unicast = if t.broadcast { "" } else { ", unicast replies asked for" };
            format!("xid {:#010x} from {} ({sent}{later}{unicast})", t.xid, t.client_mac)
        })
        .collect();
    Some(finding(
        CheckId::Dhcp,
        Code::DhcpNoOffer,
        severity,
        format!("no DHCP server offered an address: {}", named(&list, "; ", MAX_NAMED)),
    ))
}

/// Where each client (MAC and VLAN) of a capture got its last ACK: (transaction, message),
/// both in the order seen.
fn last_acks(transactions: &[DhcpTransaction]) -> HashMap<(MacAddr, Option<u16>), (usize, usize)> {
    let mut out = HashMap::new();
    for (i, t) in transactions.iter().enumerate() {
        if let Some(j) = t.messages.iter().rposition(|m| m.kind == DhcpKind::Ack) {
            out.insert((t.client_mac, t.vlan), (i, j));
        }
    }
    out
}

/// Judges the DHCP evidence (pure), live or from a capture. Findings are ordered so the
/// cause comes before its symptoms: no offer before "no address".
///
/// What a capture changes ([`Source::Capture`]): `dhcp.no_offer` comes from its
/// transactions (see `capture_no_offer`), `dhcp.nak` from every NAK in it that the same
/// client (MAC and VLAN) did not get an ACK after (RFC 2131 section 3.2: a client in
/// INIT-REBOOT asks for its old address, a server on another network NAKs it, the client
/// starts over and is acknowledged: nothing broken), and servers
/// from every OFFER; the interface's own addresses and lease are not in a capture, so
/// `dhcp.no_ipv4`, `dhcp.apipa`, `dhcp.lease_expiring`, `dhcp.offer_mismatch` and
/// `dhcp.slow` are not judged. The duplicate-address finding is judged alike.
pub fn judge(ifname: &str, ev: &DhcpEvidence, s: &DhcpSettings, expected: &[Ipv4Addr], source: Source) -> Vec<Finding> {
    let f = |code, severity, message: String| finding(CheckId::Dhcp, code, severity, message);
    let live = source == Source::Live;
    let mut out = Vec::new();
    let apipa: Vec<&IfAddr> =
        ev.ipv4.iter().filter(|a| matches!(a.address, IpAddr::V4(ip) if ip.is_link_local())).collect();
    let dynamic = ev.ipv4.iter().any(|a| a.dynamic && Some(a.address) == ev.usable_ipv4.map(IpAddr::V4));
    let ran = ev.probe.status == ProbeStatus::Ran;
    let offers = &ev.probe.offers;

    if live && ran && offers.is_empty() {
        let waited = ev.probe.listened_ms.map_or(s.offer_cap_ms, |ms| ms.round() as u64);
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
    if let (false, Some(capture)) = (live, &ev.capture) {
        out.extend(capture_no_offer(capture));
    }
    let mut naks: Vec<String> = Vec::new();
    if let Some(full) = &ev.full
        && let Some(reply) = full.reply.as_ref().filter(|r| r.kind == DhcpKind::Nak)
    {
        naks.push(nak_phrase(Some(reply.server), None, full.requested, reply.message.as_deref()));
    }
    if let Some(capture) = &ev.capture {
        let transactions = &capture.transactions;
        let last_ack = last_acks(transactions);
        for (i, t) in transactions.iter().enumerate() {
            for (j, m) in t.messages.iter().enumerate().filter(|(_, m)| m.kind == DhcpKind::Nak) {
                // The same client acknowledged afterwards: an INIT-REBOOT on another
                // network (or a stale lease) told to start over, which it did.
                if last_ack.get(&(t.client_mac, t.vlan)).is_some_and(|&ack| ack > (i, j)) {
                    continue;
                }
                naks.push(nak_phrase(m.server, Some(t.client_mac), t.requested, m.message.as_deref()));
            }
        }
    }
    if !naks.is_empty() {
        out.push(f(Code::DhcpNak, Severity::Fail, named(&naks, "; ", MAX_NAMED)));
    }

    let servers = offering_servers(ev);
    let is_unexpected = |ip: &Ipv4Addr| !expected.is_empty() && !expected.contains(ip);
    let mut unexpected: Vec<String> = Vec::new();
    for (_, ip, mac) in servers.iter().filter(|(_, ip, _)| is_unexpected(ip)) {
        let text = format!("{ip} ({mac})");
        if !unexpected.contains(&text) {
            unexpected.push(text);
        }
    }
    if !unexpected.is_empty() {
        out.push(f(
            Code::DhcpUnexpectedServer,
            Severity::Fail,
            format!("offer from a server not in expected_dhcp_servers: {}", named(&unexpected, ", ", MAX_NAMED)),
        ));
    }
    // Servers are per segment: two servers on different VLANs of a trunk are each their
    // VLAN's one server; only two on the same VLAN (or untagged) compete.
    let mut vlans: Vec<Option<u16>> = Vec::new();
    for (vlan, _, _) in &servers {
        if !vlans.contains(vlan) {
            vlans.push(*vlan);
        }
    }
    let matching = matching_offer(ev).map(|o| o.server);
    let mut competing: Vec<String> = Vec::new();
    for vlan in vlans {
        let here: Vec<&Offering> = servers.iter().filter(|(v, _, _)| *v == vlan).collect();
        if here.len() < 2 || !(expected.is_empty() || here.iter().any(|(_, ip, _)| is_unexpected(ip))) {
            continue;
        }
        let list: Vec<String> = here
            .iter()
            .map(|(_, ip, mac)| {
                let offer =
                    ev.probe.offers.iter().find(|o| o.server == *ip).filter(|_| live && ev.usable_ipv4.is_some());
                let diffs = offer.map(|o| differences(o, &ev.current));
                let tag = if Some(*ip) == matching {
                    ", the current lease came from it".to_string()
                } else {
                    match diffs {
                        Some(d) if d.is_empty() => ", agrees with the current lease".to_string(),
                        Some(d) => format!(", differs from the current lease: {}", d.join(", ")),
                        None => String::new(),
                    }
                };
                let when = ev.probe.offers.iter().find(|o| o.server == *ip).map(|o| format!(" at {:.0} ms", o.ms));
                format!("{ip} ({mac}{tag}){}", when.unwrap_or_default())
            })
            .collect();
        let on = vlan.map(|v| format!(" on VLAN {v}")).unwrap_or_default();
        competing.push(format!("{} DHCP servers answered{on}: {}", here.len(), named(&list, "; ", MAX_NAMED)));
    }
    if !competing.is_empty() {
        out.push(f(Code::DhcpMultipleServers, Severity::Warn, named(&competing, " | ", MAX_NAMED)));
    }

    if live
        && ev.usable_ipv4.is_some()
        && let Some(offer) = matching_offer(ev).or(offers.first())
    {
        let diffs = differences(offer, &ev.current);
        if !diffs.is_empty() {
            out.push(f(
                Code::DhcpOfferMismatch,
                Severity::Warn,
                format!("{} offers different settings: {}", offer.server, diffs.join("; ")),
            ));
        }
    }
    if let Some(ms) = ev.probe.first_offer_ms
        && live
        && ms > s.slow_ms
    {
        out.push(f(
            Code::DhcpSlow,
            Severity::Warn,
            format!("the first offer took {ms:.0} ms (limit {} ms)", s.slow_ms),
        ));
    }

    if live && ev.usable_ipv4.is_none() {
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
        let whose = if live { "this interface's address" } else { "the address an ARP probe checked" };
        out.push(f(
            Code::DhcpDuplicateAddress,
            Severity::Fail,
            format!("another host ({mac}) answers ARP for {ip}, {whose}"),
        ));
    }
    if let Some(msg) = lease_expiring(ev).filter(|_| live) {
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
pub(crate) mod tests {
    use super::*;

    pub(crate) fn addr(ip: &str, scope: &str, dynamic: bool, valid: Option<u32>) -> IfAddr {
        IfAddr {
            address: ip.parse().unwrap(),
            prefix_len: 24,
            scope: AddrScope::from_name(scope).unwrap(),
            dynamic,
            tentative: false,
            dad_failed: false,
            temporary: false,
            mngtmpaddr: false,
            valid_lft_s: valid,
            preferred_lft_s: valid,
        }
    }

    pub(crate) fn offer(server: &str, mac: u8, router: &str, dns: &str, ms: f64) -> DhcpReply {
        DhcpReply {
            kind: DhcpKind::Offer,
            server: server.parse().unwrap(),
            server_mac: MacAddr([2, 0, 0, 0, 0, mac]),
            address: "198.18.0.150".parse().unwrap(),
            options: DhcpOptions {
                subnet_mask: Some(Ipv4Addr::new(255, 255, 255, 0)),
                routers: vec![router.parse().unwrap()],
                dns: vec![dns.parse().unwrap()],
                lease_time_s: Some(3600),
                ..DhcpOptions::default()
            },
            relay: None,
            relay_agent_info: false,
            message: None,
            ms,
        }
    }

    pub(crate) fn ev(ipv4: Vec<IfAddr>, offers: Vec<DhcpReply>) -> DhcpEvidence {
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
                ..CurrentConfig::default()
            },
            probe: Probe {
                status: ProbeStatus::Ran,
                reason: None,
                mac: None,
                xid: Some(1),
                first_offer_ms: offers.first().map(|o| o.ms),
                offers,
                dropped: 0,
                listened_ms: Some(250.0),
            },
            full: None,
            duplicate_check: DuplicateCheck {
                status: ProbeStatus::Ran,
                address: usable,
                conflict_mac: None,
                reason: None,
            },
            capture: None,
        }
    }

    fn codes(ev: &DhcpEvidence, expected: &[Ipv4Addr]) -> Vec<(Code, Severity)> {
        judge("eth0", ev, &DhcpSettings::default(), expected, Source::Live)
            .iter()
            .map(|f| (f.code, f.severity))
            .collect()
    }

    pub(crate) fn good() -> DhcpReply {
        offer("198.18.0.1", 1, "198.18.0.1", "198.18.0.1", 2.0)
    }

    #[test]
    fn wpad_is_handed_over_from_a_lease_or_an_offer() {
        use crate::platform::proxy::WpadOrigin;
        let mut lease =
            crate::platform::lease::parse_networkd("ADDRESS=198.18.0.150\nSERVER_ADDRESS=198.18.0.1\n").unwrap();
        assert_eq!(lease_wpad(std::slice::from_ref(&lease)), None);
        lease.options.set_wpad("http://198.18.1.2/wpad.dat");
        let w = lease_wpad(&[lease]).unwrap();
        assert_eq!(
            (w.url.as_str(), w.origin, w.server),
            ("http://198.18.1.2/wpad.dat", WpadOrigin::Lease, Some(Ipv4Addr::new(198, 18, 0, 1)))
        );
        let mut o = offer("198.18.0.1", 1, "198.18.0.1", "198.18.0.1", 1.0);
        assert_eq!(offer_wpad(&o), None);
        o.options.set_wpad("http://u:pw@198.18.1.2/wpad.dat\0");
        let w = offer_wpad(&o).unwrap();
        assert_eq!((w.url.as_str(), w.origin), ("http://198.18.1.2/wpad.dat", WpadOrigin::Offer));
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
        let found = judge("eth0", &e, &DhcpSettings::default(), &[], Source::Live);
        assert_eq!(found.iter().map(|f| f.code).collect::<Vec<_>>(), [Code::DhcpMultipleServers]);
        // Which of the servers matches the current lease is decided on the evidence.
        assert_eq!(matching_offer(&e).map(|o| o.server), Some(Ipv4Addr::new(198, 18, 0, 1)));
        assert_eq!(
            codes(&e, &[Ipv4Addr::new(198, 18, 0, 1)]),
            [(Code::DhcpUnexpectedServer, Severity::Fail), (Code::DhcpMultipleServers, Severity::Warn)]
        );
        // A configured failover pair is fine.
        assert!(codes(&e, &[Ipv4Addr::new(198, 18, 0, 1), Ipv4Addr::new(198, 18, 0, 66)]).is_empty());
    }

    #[test]
    fn offers_disagree_only_when_they_set_the_client_up_differently() {
        let here = vec![addr("198.18.0.10", "global", true, Some(3000))];
        let twin = offer("198.18.0.2", 2, "198.18.0.1", "198.18.0.1", 3.0);
        assert!(!ev(here.clone(), vec![good(), twin]).offers_disagree(), "a failover pair agrees");
        let rogue = offer("198.18.0.66", 9, "198.18.0.66", "198.18.0.66", 1.0);
        let e = ev(here.clone(), vec![rogue.clone(), good()]);
        assert!(e.offers_disagree());
        assert!(differences(&good(), &e.current).is_empty(), "the real server agrees with the settings in use");
        assert_eq!(differences(&rogue, &e.current).len(), 2, "router and DNS differ");
        assert!(!ev(here, vec![rogue]).offers_disagree(), "one server alone");
    }

    #[cfg(feature = "live")]
    #[test]
    fn the_listener_stops_when_the_run_is_done_and_the_window_passed() {
        let now = Instant::now();
        let ms = Duration::from_millis;
        let until = Listen {
            wpad: Arc::default(),
            alone: Arc::new(AtomicBool::new(false)),
            window: ms(200),
            cap: ms(3300),
            stop_by: now + ms(9900),
        };
        // Other checks still run: it keeps listening, offers or not, past the window.
        assert!(!until.done(now, ms(5000), true));
        until.alone.store(true, Ordering::Release);
        assert!(!until.done(now, ms(150), true), "before the window");
        assert!(until.done(now, ms(200), true));
        assert!(!until.done(now, ms(2000), false), "no offer yet: wait for the cap");
        assert!(until.done(now, ms(3300), false));
        // The cutoff ends it whatever else holds.
        until.alone.store(false, Ordering::Release);
        assert!(until.done(now + ms(9900), ms(9900), false));
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
        nak.kind = DhcpKind::Nak;
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
            let found = judge("eth0", e, &DhcpSettings::default(), &[Ipv4Addr::new(198, 18, 0, 1)], Source::Live);
            assert!(!found.is_empty() && found.iter().all(|f| !f.code.blocks()), "{found:?}");
        }
        let without = ev(vec![addr("169.254.1.1", "link", true, None)], vec![]);
        let found = judge("eth0", &without, &DhcpSettings::default(), &[], Source::Live);
        assert!(found.iter().any(|f| f.code.blocks()));
    }

    fn txn(xid: u32, mac: u8, broadcast: bool, kinds: &[DhcpKind]) -> DhcpTransaction {
        let message =
            |kind| DhcpMessageSeen { kind, server: None, server_mac: None, address: None, message: None, ms: 0.0 };
        DhcpTransaction {
            xid,
            client_mac: MacAddr([2, 0, 0, 0, 0, mac]),
            messages: kinds.iter().map(|k| message(*k)).collect(),
            dropped: 0,
            discovers: kinds.iter().filter(|k| **k == DhcpKind::Discover).count() as u32,
            broadcast,
            answered: kinds.iter().any(|k| matches!(*k, DhcpKind::Offer | DhcpKind::Ack)),
            requested: None,
            vlan: None,
        }
    }

    fn captured(transactions: Vec<DhcpTransaction>) -> DhcpEvidence {
        let mut e = ev(vec![], vec![]);
        e.probe = not_run_probe("not observable in a capture");
        e.duplicate_check =
            DuplicateCheck { status: ProbeStatus::NotRun, address: None, conflict_mac: None, reason: None };
        e.capture = Some(DhcpCapture {
            source: "x.pcap".into(),
            transactions_total: transactions.len(),
            transactions,
            servers: vec![],
            untracked: 0,
        });
        e
    }

    #[test]
    fn a_capture_judges_its_transactions_not_the_interface() {
        let codes = |e: &DhcpEvidence| -> Vec<(Code, Severity)> {
            judge("eth0", e, &DhcpSettings::default(), &[], Source::Capture)
                .iter()
                .map(|f| (f.code, f.severity))
                .collect()
        };
        // No address on "the interface" is not a capture's business.
        assert!(codes(&captured(vec![])).is_empty());
        let lost = txn(1, 1, true, &[DhcpKind::Discover, DhcpKind::Discover]);
        assert_eq!(codes(&captured(vec![lost.clone()])), [(Code::DhcpNoOffer, Severity::Fail)]);
        // Answered in another transaction, or unicast offers the capture may not see.
        assert_eq!(
            codes(&captured(vec![lost, txn(2, 1, true, &[DhcpKind::Discover, DhcpKind::Offer])])),
            [(Code::DhcpNoOffer, Severity::Warn)]
        );
        assert_eq!(
            codes(&captured(vec![txn(3, 2, false, &[DhcpKind::Discover])])),
            [(Code::DhcpNoOffer, Severity::Warn)]
        );
        assert_eq!(
            codes(&captured(vec![txn(4, 2, true, &[DhcpKind::Request, DhcpKind::Nak])])),
            [(Code::DhcpNak, Severity::Fail)]
        );
        // NAKed, then acknowledged: in the same transaction (Zeek's dhcp.pcap) or a later
        // one of the same client, an INIT-REBOOT told to start over. Another client's ACK,
        // or an ACK before the NAK, does not make it so.
        let restarted = txn(4, 2, true, &[DhcpKind::Request, DhcpKind::Nak, DhcpKind::Request, DhcpKind::Ack]);
        assert!(codes(&captured(vec![restarted])).is_empty());
        let naked = txn(4, 2, true, &[DhcpKind::Request, DhcpKind::Nak]);
        let later = txn(7, 2, true, &[DhcpKind::Discover, DhcpKind::Offer, DhcpKind::Request, DhcpKind::Ack]);
        assert!(codes(&captured(vec![naked.clone(), later.clone()])).is_empty());
        assert_eq!(codes(&captured(vec![later.clone(), naked.clone()])), [(Code::DhcpNak, Severity::Fail)]);
        let other = txn(7, 9, true, &[DhcpKind::Discover, DhcpKind::Offer, DhcpKind::Request, DhcpKind::Ack]);
        assert_eq!(codes(&captured(vec![naked, other])), [(Code::DhcpNak, Severity::Fail)]);
        // A broadcast DISCOVER the client followed with a REQUEST naming a server: the
        // OFFER came (unicast, unseen); a REQUEST without a server (INIT-REBOOT) says not.
        let mut selecting = txn(5, 3, true, &[DhcpKind::Discover, DhcpKind::Request]);
        assert_eq!(codes(&captured(vec![selecting.clone()])), [(Code::DhcpNoOffer, Severity::Fail)]);
        selecting.messages[1].server = Some(Ipv4Addr::new(198, 18, 0, 1));
        assert!(codes(&captured(vec![selecting.clone()])).is_empty());
        let lost_first = txn(6, 3, true, &[DhcpKind::Discover]);
        assert_eq!(codes(&captured(vec![lost_first, selecting])), [(Code::DhcpNoOffer, Severity::Warn)]);
        let mut dup = captured(vec![]);
        dup.duplicate_check = DuplicateCheck {
            status: ProbeStatus::Ran,
            address: Some(Ipv4Addr::new(198, 18, 0, 10)),
            conflict_mac: Some(MacAddr([2; 6])),
            reason: None,
        };
        assert_eq!(codes(&dup), [(Code::DhcpDuplicateAddress, Severity::Fail)]);
    }

    #[test]
    fn servers_compete_only_on_the_same_vlan() {
        let server = |ip: u8, vlan: Option<u16>| DhcpServerSeen {
            server: Ipv4Addr::new(198, 19, 0, ip),
            mac: MacAddr([2, 0, 0, 0, 0, ip]),
            offers: 1,
            vlan,
        };
        let judged = |servers: Vec<DhcpServerSeen>, expected: &[Ipv4Addr]| -> Vec<(Code, Severity)> {
            let mut e = captured(vec![]);
            e.capture.as_mut().unwrap().servers = servers;
            judge("eth0", &e, &DhcpSettings::default(), expected, Source::Capture)
                .iter()
                .map(|f| (f.code, f.severity))
                .collect()
        };
        let multiple = [(Code::DhcpMultipleServers, Severity::Warn)];
        // One server per VLAN of a trunk; the same server on two VLANs (a relay).
        assert!(judged(vec![server(1, Some(10)), server(2, Some(20))], &[]).is_empty());
        assert!(judged(vec![server(1, Some(10)), server(1, Some(20))], &[]).is_empty());
        // Two on one VLAN, or two untagged.
        assert_eq!(judged(vec![server(1, Some(10)), server(2, Some(30)), server(3, Some(30))], &[]), multiple);
        assert_eq!(judged(vec![server(1, None), server(2, None)], &[]), multiple);
        // Expected servers: two expected ones on a VLAN are fine, an unexpected one is named once.
        let expected = [Ipv4Addr::new(198, 19, 0, 1), Ipv4Addr::new(198, 19, 0, 2)];
        assert!(judged(vec![server(1, Some(30)), server(2, Some(30))], &expected).is_empty());
        assert_eq!(
            judged(vec![server(1, Some(10)), server(3, Some(10)), server(3, Some(20))], &expected),
            [(Code::DhcpUnexpectedServer, Severity::Fail), (Code::DhcpMultipleServers, Severity::Warn)]
        );
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
