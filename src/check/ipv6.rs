//! The IPv6 addressing layer: Router Advertisements, the addresses the kernel formed, DAD.
//!
//! It runs beside the dhcp check (after link and wifi; nothing requires it, so none of its
//! verdicts blocks the IPv4 chain). The I/O half sends one Router Solicitation (RFC 4861
//! 6.3.7) on a raw ICMPv6 socket, hop limit 255, to all-routers `ff02::2` with the source
//! link-layer option, and collects every Router Advertisement for a bounded window, then
//! re-reads the interface's addresses through [`crate::platform::netlink`] (an address
//! formed from an answer to this solicitation is seen) and the resolvers the system is
//! configured with through [`crate::platform::resolv`]. The pure half is [`parse_router_advert`] (bytes to
//! a typed [`RouterAdvert`]) and [`judge`] (evidence to findings).
//!
//! RAs are parsed here, not with `pnet_packet::icmpv6::ndp`: its option length is computed
//! as `u8 * 8` (an option of 32 units or more overflows: a panic in debug and fuzz builds),
//! and it reads a zero-length option as a 2-byte one where RFC 4861 6.1.2 says to drop the
//! whole message. The parser here is bounded: at most [`MAX_OPTIONS`] options per RA, at
//! most [`MAX_PREFIXES`] prefixes, [`MAX_RDNSS`] resolvers and [`MAX_DNSSL`] search names
//! kept; the listener keeps at most [`MAX_ROUTERS`] sources, counts the rest, and stops at
//! the window's end or the run's cutoff, so a flood of RAs ends on time in bounded memory.
//!
//! Why the window: a router delays its answer to a solicitation by up to
//! MAX_RA_DELAY_TIME = 500 ms (RFC 4861 10), so 1000 ms (`ipv6.ra_window_ms`) hears every
//! router that answers as the RFC says; once one has answered, the listener waits
//! `ipv6.ra_grace_ms` (150 ms) more for a second one and stops. A default route the kernel
//! installed from an earlier RA (`proto ra`) is noted, not relied on.
//!
//! `nettriage analyze` ([`crate::analyze`]) fills the same [`Ipv6Evidence`] from a
//! capture's Router Solicitations and Advertisements (read by [`parse_router_advert`]) and
//! duplicate address detection ([`Ipv6Capture`]), and calls [`judge`] with
//! [`Source::Capture`].

use std::net::{IpAddr, Ipv6Addr};

use serde::{Deserialize, Serialize};

use crate::check::dns::Notice;
use crate::check::{Source, finding, named};
use crate::config::{Ipv6Settings, RouterId};
use crate::platform::netlink::{AddrScope, IfAddr};
use crate::platform::sysfs::Ipv6Conf;
use crate::report::{CheckId, Code, Finding, Severity};
use crate::types::MacAddr;

#[cfg(feature = "live")]
use crate::check::{CheckContext, CheckError, Outcome};
#[cfg(feature = "live")]
use crate::report::{Evidence, SkipReason};

/// ICMPv6 type of a Router Solicitation.
pub const ROUTER_SOLICITATION: u8 = 133;
/// ICMPv6 type of a Router Advertisement.
pub const ROUTER_ADVERTISEMENT: u8 = 134;
/// Router sources kept per run (more are counted in [`Solicitation::dropped`]).
pub const MAX_ROUTERS: usize = 32;
/// Options read per RA; the rest are counted in [`RouterAdvert::options_skipped`].
pub const MAX_OPTIONS: usize = 64;
/// Prefix Information options kept per RA.
pub const MAX_PREFIXES: usize = 16;
/// RDNSS addresses kept per RA.
pub const MAX_RDNSS: usize = 8;
/// DNSSL names kept per RA.
pub const MAX_DNSSL: usize = 8;
/// Most addresses listed in the evidence.
pub const MAX_ADDRESSES: usize = 64;
/// Bytes read per ICMPv6 message (a 9000-byte jumbo frame's payload fits).
pub const RECEIVE_BUFFER: usize = 9216;
/// Names listed at most in one finding message.
const MAX_NAMED: usize = 5;

/// A router's preference for being the default router (RFC 4191 2.2).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RouterPreference {
    /// `01`.
    High,
    /// `00`, the default.
    Medium,
    /// `11`.
    Low,
    /// `10`: reserved, read as medium (RFC 4191 2.2).
    Reserved,
}

/// One Prefix Information option (RFC 4861 4.6.2).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PrefixInfo {
    /// The prefix (bits after `prefix_len` as sent).
    pub prefix: Ipv6Addr,
    /// Its length.
    pub prefix_len: u8,
    /// L: the prefix is on-link.
    pub on_link: bool,
    /// A: hosts may form addresses in it by SLAAC (RFC 4862).
    pub autonomous: bool,
    /// Valid lifetime in seconds (`u32::MAX`: forever).
    pub valid_lft_s: u32,
    /// Preferred lifetime in seconds (`u32::MAX`: forever).
    pub preferred_lft_s: u32,
}

impl PrefixInfo {
    /// Whether a host forms a SLAAC address from it (RFC 4862 5.5.3): A set, a valid
    /// lifetime, preferred not above valid, not link-local, and a /64 (the interface
    /// identifier of Ethernet-like links is 64 bits, RFC 4291 2.5.1).
    pub fn slaac_usable(&self) -> bool {
        self.autonomous
            && self.valid_lft_s > 0
            && self.preferred_lft_s <= self.valid_lft_s
            && !is_link_local(self.prefix)
            && self.prefix_len == 64
    }
}

/// One Router Advertisement source, as last heard.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RouterAdvert {
    /// The sender's link-local address (the packet's source).
    pub source: Ipv6Addr,
    /// The sender's MAC, from the source link-layer address option.
    pub mac: Option<MacAddr>,
    /// Cur Hop Limit advertised (0: unspecified).
    pub hop_limit: u8,
    /// M: addresses are available by DHCPv6 (RFC 8415).
    pub managed: bool,
    /// O: other configuration (DNS) is available by stateless DHCPv6.
    pub other_config: bool,
    /// Default router preference.
    pub preference: RouterPreference,
    /// Router Lifetime in seconds; 0: not a default router.
    pub router_lifetime_s: u16,
    /// Reachable Time in ms (0: unspecified).
    pub reachable_time_ms: u32,
    /// Retrans Timer in ms (0: unspecified).
    pub retrans_timer_ms: u32,
    /// Prefix Information options (at most [`MAX_PREFIXES`]).
    #[serde(default)]
    pub prefixes: Vec<PrefixInfo>,
    /// The MTU option (RFC 4861 4.6.4).
    pub mtu: Option<u32>,
    /// Recursive DNS servers (RFC 8106 5.1; at most [`MAX_RDNSS`]).
    #[serde(default)]
    pub rdnss: Vec<Ipv6Addr>,
    /// The RDNSS lifetime in seconds (the first RDNSS option's).
    pub rdnss_lifetime_s: Option<u32>,
    /// DNS search list (RFC 8106 5.2; at most [`MAX_DNSSL`]).
    #[serde(default)]
    pub dnssl: Vec<String>,
    /// Options not read: unknown types, invalid ones, or beyond the caps.
    #[serde(default)]
    pub options_skipped: u32,
    /// Milliseconds from the solicitation to the first RA from this source.
    pub first_ms: Option<f64>,
    /// RAs heard from this source in the window.
    #[serde(default)]
    pub count: u32,
}

/// Why bytes were not read as a Router Advertisement (RFC 4861 6.1.2's validity checks).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum RaError {
    /// Another ICMPv6 type.
    #[error("ICMPv6 type {0} is not a router advertisement")]
    NotRa(u8),
    /// ICMP code is not 0.
    #[error("ICMP code {0} (must be 0)")]
    BadCode(u8),
    /// Shorter than the 16-byte RA header.
    #[error("{0} bytes, shorter than a router advertisement")]
    Short(usize),
    /// An option has length 0: the whole message is dropped.
    #[error("option at byte {0} has length 0")]
    ZeroLengthOption(usize),
    /// An option runs past the end of the message.
    #[error("option at byte {0} runs past the end")]
    TruncatedOption(usize),
    /// The source is not link-local.
    #[error("source {0} is not link-local")]
    NotLinkLocal(Ipv6Addr),
}

/// Whether `ip` is in fe80::/10.
pub fn is_link_local(ip: Ipv6Addr) -> bool {
    (ip.segments()[0] & 0xffc0) == 0xfe80
}

/// Reads one Router Advertisement: `icmp` is the ICMPv6 message (type, code, checksum,
/// body; the kernel has verified the checksum), `source` the packet's source address
/// (pure; never panics, bounded by the module's caps).
pub fn parse_router_advert(icmp: &[u8], source: Ipv6Addr) -> Result<RouterAdvert, RaError> {
    let ty = *icmp.first().ok_or(RaError::Short(0))?;
    if ty != ROUTER_ADVERTISEMENT {
        return Err(RaError::NotRa(ty));
    }
    if icmp.len() < 16 {
        return Err(RaError::Short(icmp.len()));
    }
    if icmp[1] != 0 {
        return Err(RaError::BadCode(icmp[1]));
    }
    if !is_link_local(source) {
        return Err(RaError::NotLinkLocal(source));
    }
    let be32 = |b: &[u8]| u32::from_be_bytes([b[0], b[1], b[2], b[3]]);
    let flags = icmp[5];
    let mut ra = RouterAdvert {
        source,
        mac: None,
        hop_limit: icmp[4],
        managed: flags & 0x80 != 0,
        other_config: flags & 0x40 != 0,
        preference: match (flags >> 3) & 0b11 {
            0b01 => RouterPreference::High,
            0b00 => RouterPreference::Medium,
            0b11 => RouterPreference::Low,
            _ => RouterPreference::Reserved,
        },
        router_lifetime_s: u16::from_be_bytes([icmp[6], icmp[7]]),
        reachable_time_ms: be32(&icmp[8..12]),
        retrans_timer_ms: be32(&icmp[12..16]),
        prefixes: Vec::new(),
        mtu: None,
        rdnss: Vec::new(),
        rdnss_lifetime_s: None,
        dnssl: Vec::new(),
        options_skipped: 0,
        first_ms: None,
        count: 1,
    };
    // First pass: every option's length is checked before any is used (RFC 4861 6.1.2:
    // one zero-length option invalidates the message).
    let mut at = 16;
    let mut options: Vec<(u8, &[u8])> = Vec::new();
    while at < icmp.len() {
        let Some(&len) = icmp.get(at + 1) else { return Err(RaError::TruncatedOption(at)) };
        if len == 0 {
            return Err(RaError::ZeroLengthOption(at));
        }
        let end = at + usize::from(len) * 8;
        let body = icmp.get(at..end).ok_or(RaError::TruncatedOption(at))?;
        if options.len() < MAX_OPTIONS {
            options.push((body[0], body));
        } else {
            ra.options_skipped = ra.options_skipped.saturating_add(1);
        }
        at = end;
    }
    for (kind, body) in options {
        if !read_option(&mut ra, kind, body) {
            ra.options_skipped = ra.options_skipped.saturating_add(1);
        }
    }
    Ok(ra)
}

/// Reads one option (its whole bytes, type and length included) into `ra`; `false` when it
/// was not used (unknown, invalid, or beyond a cap).
fn read_option(ra: &mut RouterAdvert, kind: u8, body: &[u8]) -> bool {
    let be32 = |b: &[u8]| u32::from_be_bytes([b[0], b[1], b[2], b[3]]);
    let addr = |b: &[u8]| <[u8; 16]>::try_from(b).ok().map(Ipv6Addr::from);
    match kind {
        // Source Link-Layer Address: 6 bytes on Ethernet.
        1 if body.len() >= 8 && ra.mac.is_none() => {
            ra.mac = MacAddr::from_slice(&body[2..8]);
            true
        }
        // Prefix Information: exactly 32 bytes (length 4).
        3 if body.len() == 32 && ra.prefixes.len() < MAX_PREFIXES => {
            let prefix_len = body[2];
            let Some(prefix) = addr(&body[16..32]) else { return false };
            if prefix_len > 128 {
                return false;
            }
            ra.prefixes.push(PrefixInfo {
                prefix,
                prefix_len,
                on_link: body[3] & 0x80 != 0,
                autonomous: body[3] & 0x40 != 0,
                valid_lft_s: be32(&body[4..8]),
                preferred_lft_s: be32(&body[8..12]),
            });
            true
        }
        // MTU: length 1.
        5 if body.len() == 8 => {
            ra.mtu = Some(be32(&body[4..8]));
            true
        }
        // RDNSS: length 3 + 2n (RFC 8106 5.1: below 3 the option is invalid).
        25 if body.len() >= 24 => {
            ra.rdnss_lifetime_s.get_or_insert(be32(&body[4..8]));
            for chunk in body[8..].chunks_exact(16) {
                if ra.rdnss.len() >= MAX_RDNSS {
                    break;
                }
                if let Some(ip) = addr(chunk)
                    && !ra.rdnss.contains(&ip)
                {
                    ra.rdnss.push(ip);
                }
            }
            true
        }
        // DNSSL: length 2 or more; names in DNS wire form without compression, zero padded.
        31 if body.len() >= 16 => {
            let mut rest = &body[8..];
            while ra.dnssl.len() < MAX_DNSSL {
                match read_name(rest) {
                    Some((name, used)) if !name.is_empty() => {
                        ra.dnssl.push(name);
                        rest = &rest[used..];
                    }
                    _ => break,
                }
            }
            true
        }
        _ => false,
    }
}

/// Reads one uncompressed DNS name; `None` for anything malformed. An empty name is the
/// padding after the last one.
fn read_name(bytes: &[u8]) -> Option<(String, usize)> {
    let mut name = String::new();
    let mut at = 0;
    loop {
        let len = usize::from(*bytes.get(at)?);
        at += 1;
        if len == 0 {
            return Some((name, at));
        }
        // Compression pointers and the extended label types are not allowed here.
        if len > 63 || name.len() + len > 253 {
            return None;
        }
        let label = bytes.get(at..at + len)?;
        if !label.iter().all(|b| b.is_ascii_alphanumeric() || *b == b'-' || *b == b'_') {
            return None;
        }
        if !name.is_empty() {
            name.push('.');
        }
        name.extend(label.iter().map(|b| char::from(*b)));
        at += len;
    }
}

/// What a Router Solicitation's listener did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SolicitStatus {
    /// Sent, and listened for the window.
    Sent,
    /// Not sent (no privilege, switched off, the run's deadline): see `reason`.
    NotRun,
}

/// The Router Solicitation and what its listener heard.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Solicitation {
    /// Whether it was sent.
    pub status: SolicitStatus,
    /// Why not, or what went wrong while listening.
    pub reason: Option<String>,
    /// Milliseconds listened for.
    pub listened_ms: Option<f64>,
    /// Router Advertisements received (valid ones, every source).
    #[serde(default)]
    pub received: u32,
    /// ICMPv6 messages of type 134 that failed RFC 4861's validity checks.
    #[serde(default)]
    pub invalid: u32,
    /// Valid RAs from sources beyond [`MAX_ROUTERS`], not kept.
    #[serde(default)]
    pub dropped: u32,
}

/// What kind of address, by the kernel's flags.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AddrKind {
    /// fe80::/10.
    LinkLocal,
    /// A temporary (privacy) address, RFC 8981 (was RFC 4941).
    Temporary,
    /// Formed by SLAAC (RFC 4862): dynamic and in a /64 advertised as autonomous, or the
    /// stable address privacy extensions manage (`mngtmpaddr`).
    Slaac,
    /// Dynamic, not from an advertised prefix: DHCPv6 (RFC 8415) or another daemon.
    Dynamic,
    /// Permanent: configured by hand or by a static profile.
    Static,
}

impl AddrKind {
    /// The kind as reports write it.
    pub fn as_str(self) -> &'static str {
        match self {
            AddrKind::LinkLocal => "link_local",
            AddrKind::Temporary => "temporary",
            AddrKind::Slaac => "slaac",
            AddrKind::Dynamic => "dynamic",
            AddrKind::Static => "static",
        }
    }
}

/// One IPv6 address on the interface.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct V6Address {
    /// The address.
    pub address: Ipv6Addr,
    /// Its prefix length.
    pub prefix_len: u8,
    /// How it was formed, as far as the flags tell.
    pub kind: AddrKind,
    /// `global`, `link`, ...
    pub scope: AddrScope,
    /// Duplicate address detection still runs.
    #[serde(default)]
    pub tentative: bool,
    /// Duplicate address detection failed: another host has it.
    #[serde(default)]
    pub dad_failed: bool,
    /// Seconds it stays valid; null: forever.
    pub valid_lft_s: Option<u32>,
    /// Seconds it stays preferred; null: forever.
    pub preferred_lft_s: Option<u32>,
}

impl V6Address {
    /// Whether it is a global address the host can use (or will, once DAD finishes).
    pub fn usable_global(&self) -> bool {
        self.scope == AddrScope::Global && !self.dad_failed && self.kind != AddrKind::LinkLocal
    }
}

/// What the ipv6 check saw.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Ipv6Evidence {
    /// The interface.
    pub interface: String,
    /// Whether IPv6 is on there (`disable_ipv6` is 0 and a link-local address exists).
    pub enabled: bool,
    /// The interface's IPv6 sysctls.
    pub sysctl: Ipv6Conf,
    /// The Router Solicitation; null when IPv6 is off.
    pub solicitation: Option<Solicitation>,
    /// Every router heard, one entry per source (at most [`MAX_ROUTERS`]), in order heard.
    #[serde(default)]
    pub routers: Vec<RouterAdvert>,
    /// The MTU option of the first router that sent one: what the link's MTU should be,
    /// for comparison with the interface's.
    pub ra_mtu: Option<u32>,
    /// Next hops of default routes the kernel installed from earlier RAs (`proto ra`).
    #[serde(default)]
    pub kernel_ra_routes: Vec<IpAddr>,
    /// The IPv6 addresses on the interface after the window (at most [`MAX_ADDRESSES`]).
    #[serde(default)]
    pub addresses: Vec<V6Address>,
    /// The system's configured resolvers (resolv.conf and the stubs' upstreams), either
    /// family; empty when resolv.conf is missing or names no server.
    #[serde(default)]
    pub resolvers: Vec<IpAddr>,
    /// Informational observations (`ipv6.no_router`); they are not findings and do not
    /// change the check's status.
    #[serde(default)]
    pub notices: Vec<Notice>,
    /// Set when the evidence comes from a capture (`nettriage analyze`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub capture: Option<Ipv6Capture>,
}

/// What a capture adds to the ipv6 evidence: the neighbour discovery it shows. The
/// interface's addresses, sysctls and resolvers are not in a capture: `addresses` and
/// `resolvers` stay empty and `sysctl` unknown, and the rules that read them are not applied.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Ipv6Capture {
    /// The capture file, as given.
    pub source: String,
    /// Router Solicitations seen (any host's).
    pub router_solicitations: u32,
    /// Duplicate address detection seen (at most `analyze::MAX_LISTED`), one entry per
    /// address and prober.
    #[serde(default)]
    pub dad: Vec<DadSeen>,
}

/// One duplicate address detection (RFC 4862 section 5.4): a Neighbor Solicitation from
/// the unspecified address for `address`, and the first Neighbor Advertisement for it from
/// another MAC, if one came within 2 s.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DadSeen {
    /// The tentative address.
    pub address: Ipv6Addr,
    /// The MAC of the host that probed for it.
    pub prober: MacAddr,
    /// The MAC of the host that answered it already has the address: DAD failed.
    pub conflict_mac: Option<MacAddr>,
}

impl Ipv6Evidence {
    /// Distinct RDNSS addresses over every router.
    pub fn rdnss(&self) -> Vec<Ipv6Addr> {
        let mut out: Vec<Ipv6Addr> = Vec::new();
        for ip in self.routers.iter().flat_map(|r| &r.rdnss) {
            if !out.contains(ip) {
                out.push(*ip);
            }
        }
        out
    }
}

/// Classifies the interface's IPv6 addresses by their flags and the advertised prefixes
/// (pure).
pub fn classify(addresses: &[IfAddr], routers: &[RouterAdvert]) -> Vec<V6Address> {
    let advertised = |ip: Ipv6Addr| {
        routers.iter().flat_map(|r| &r.prefixes).any(|p| p.autonomous && same_prefix(ip, p.prefix, p.prefix_len))
    };
    addresses
        .iter()
        .filter_map(|a| match a.address {
            IpAddr::V6(ip) => Some((a, ip)),
            IpAddr::V4(_) => None,
        })
        .take(MAX_ADDRESSES)
        .map(|(a, ip)| V6Address {
            address: ip,
            prefix_len: a.prefix_len,
            kind: if is_link_local(ip) {
                AddrKind::LinkLocal
            } else if a.temporary {
                AddrKind::Temporary
            } else if a.mngtmpaddr || (a.dynamic && a.prefix_len == 64 && (advertised(ip) || a.valid_lft_s.is_some())) {
                // The kernel's SLAAC addresses are /64 with lifetimes; DHCPv6 gives /128.
                AddrKind::Slaac
            } else if a.dynamic {
                AddrKind::Dynamic
            } else {
                AddrKind::Static
            },
            scope: a.scope,
            tentative: a.tentative,
            dad_failed: a.dad_failed,
            valid_lft_s: a.valid_lft_s,
            preferred_lft_s: a.preferred_lft_s,
        })
        .collect()
}

/// Whether `ip` is inside `prefix/len`.
fn same_prefix(ip: Ipv6Addr, prefix: Ipv6Addr, len: u8) -> bool {
    let len = u32::from(len.min(128));
    if len == 0 {
        return true;
    }
    let mask = u128::MAX << (128 - len);
    (u128::from(ip) & mask) == (u128::from(prefix) & mask)
}

/// Whether `router` is one of `expected`, by link-local address or MAC.
fn is_expected(router: &RouterAdvert, expected: &[RouterId]) -> bool {
    expected.iter().any(|e| match e {
        RouterId::Addr(ip) => *ip == router.source,
        RouterId::Mac(mac) => router.mac == Some(*mac),
    })
}

/// How a router is named in messages: its link-local address and MAC.
fn router_name(r: &RouterAdvert) -> String {
    match r.mac {
        Some(mac) => format!("{} ({mac})", r.source),
        None => r.source.to_string(),
    }
}

/// The informational notices (pure): `ipv6.no_router` when a solicitation was sent and no
/// router answered.
pub fn notices(ev: &Ipv6Evidence) -> Vec<Notice> {
    let mut out = Vec::new();
    if let Some(s) = &ev.solicitation
        && s.status == SolicitStatus::Sent
        && ev.routers.is_empty()
    {
        let listened = s.listened_ms.map_or(String::new(), |ms| format!(" in {ms:.0} ms"));
        let kernel = if ev.kernel_ra_routes.is_empty() {
            String::new()
        } else {
            format!("; the kernel still has a default route from an earlier RA via {}", ev.kernel_ra_routes[0])
        };
        out.push(Notice {
            code: Code::Ipv6NoRouter,
            message: format!("no Router Advertisement answered the solicitation on {}{listened}{kernel}", ev.interface),
        });
    }
    out
}

/// Judges IPv6 addressing (pure).
///
/// What a capture changes ([`Source::Capture`]): duplicate address detection is read from
/// the probes it shows ([`Ipv6Capture::dad`]: a Neighbor Advertisement for the probed
/// address from another MAC is `ipv6.dad_failed`), and `ipv6.no_address` and `ipv6.no_dns`
/// are not judged (a capture does not show the interface's addresses or resolvers). The
/// router rules are the same.
pub fn judge(ev: &Ipv6Evidence, settings: &Ipv6Settings, source: Source) -> Vec<Finding> {
    let f = |code, severity, message: String| finding(CheckId::Ipv6, code, severity, message);
    let mut out = Vec::new();
    let mut failed: Vec<String> = ev.addresses.iter().filter(|a| a.dad_failed).map(|a| a.address.to_string()).collect();
    for d in ev.capture.iter().flat_map(|c| &c.dad) {
        if let Some(mac) = d.conflict_mac {
            failed.push(format!("{} (probed by {}, answered by {mac})", d.address, d.prober));
        }
    }
    if !failed.is_empty() {
        out.push(f(
            Code::Ipv6DadFailed,
            Severity::Fail,
            format!(
                "duplicate address detection failed for {} on {}: another host on the link uses it",
                named(&failed, ", ", MAX_NAMED),
                ev.interface
            ),
        ));
    }
    let expected = &settings.expected_routers_v6;
    if expected.is_empty() {
        if ev.routers.len() > 1 {
            let names: Vec<String> = ev.routers.iter().map(router_name).collect();
            out.push(f(
                Code::Ipv6MultipleRouters,
                Severity::Warn,
                format!(
                    "{} routers advertise on {}: {}",
                    ev.routers.len(),
                    ev.interface,
                    named(&names, ", ", MAX_NAMED)
                ),
            ));
        }
    } else {
        let rogue: Vec<&RouterAdvert> = ev.routers.iter().filter(|r| !is_expected(r, expected)).collect();
        if !rogue.is_empty() {
            // Hosts follow a router with a lifetime (their default route) or a prefix they
            // form addresses in: traffic goes through it. Otherwise it is noise.
            let harmful =
                rogue.iter().any(|r| r.router_lifetime_s > 0 || r.prefixes.iter().any(PrefixInfo::slaac_usable));
            let names: Vec<String> = rogue.iter().map(|r| router_name(r)).collect();
            out.push(f(
                Code::Ipv6UnexpectedRouter,
                if harmful { Severity::Fail } else { Severity::Warn },
                format!(
                    "router advertisements from {} on {}, not in expected_routers_v6{}",
                    named(&names, ", ", MAX_NAMED),
                    ev.interface,
                    if harmful { " (hosts use it as a default router or form addresses from it)" } else { "" }
                ),
            ));
        }
    }
    if source == Source::Capture {
        return out;
    }
    let has_global = ev.addresses.iter().any(V6Address::usable_global);
    let slaac: Vec<&PrefixInfo> = ev.routers.iter().flat_map(|r| &r.prefixes).filter(|p| p.slaac_usable()).collect();
    let managed = ev.routers.iter().any(|r| r.managed && r.router_lifetime_s > 0);
    if !has_global && (!slaac.is_empty() || managed) {
        let offered = match slaac.first() {
            Some(p) => format!("the prefix {}/{} is advertised for SLAAC", p.prefix, p.prefix_len),
            None => "a router sets the M flag (addresses by DHCPv6)".to_string(),
        };
        let conf = &ev.sysctl;
        let why = if conf.accept_ra == Some(0) {
            " (accept_ra is 0)"
        } else if conf.autoconf == Some(0) && !slaac.is_empty() {
            " (autoconf is 0)"
        } else if conf.forwarding == Some(1) && conf.accept_ra != Some(2) {
            " (forwarding is 1, so the kernel ignores RAs)"
        } else {
            ""
        };
        out.push(f(
            Code::Ipv6NoAddress,
            Severity::Fail,
            format!("{offered} but {} has no global IPv6 address{why}", ev.interface),
        ));
    }
    if has_global && ev.rdnss().is_empty() && ev.resolvers.is_empty() {
        out.push(f(
            Code::Ipv6NoDns,
            Severity::Warn,
            format!(
                "{} has a global IPv6 address but no resolver: no RDNSS in the advertisements and none in resolv.conf",
                ev.interface
            ),
        ));
    }
    out
}

/// Runs the ipv6 check.
#[cfg(feature = "live")]
pub async fn run(ctx: &CheckContext<'_>) -> Result<Outcome, CheckError> {
    let iface = ctx.interface.ok_or(CheckError::NoInterface)?;
    let settings = &ctx.config.ipv6;
    let sysctl = crate::platform::sysfs::ipv6_conf(&iface.name);
    let link_local = iface
        .addresses
        .iter()
        .filter_map(|a| match a.address {
            IpAddr::V6(ip) if is_link_local(ip) => Some((ip, a)),
            _ => None,
        })
        .collect::<Vec<_>>();
    let mut ev = Ipv6Evidence {
        interface: iface.name.clone(),
        enabled: !sysctl.disabled() && !link_local.is_empty(),
        sysctl,
        solicitation: None,
        routers: Vec::new(),
        ra_mtu: None,
        kernel_ra_routes: Vec::new(),
        addresses: classify(&iface.addresses, &[]),
        resolvers: Vec::new(),
        notices: Vec::new(),
        capture: None,
    };
    if !ev.enabled {
        let reason = if sysctl.disabled() {
            format!("IPv6 is switched off on {} (disable_ipv6, or no IPv6 in the kernel)", iface.name)
        } else {
            format!("{} has no IPv6 link-local address", iface.name)
        };
        return Ok(Outcome::Skipped {
            code: SkipReason::Ipv6Disabled,
            reason,
            blocked_by: None,
            evidence: Evidence::Ipv6(Box::new(ev)),
        });
    }
    // A solicitation (with its source link-layer option) only from a link-local address
    // that passed DAD (RFC 4861 4.1: never the option with the unspecified source).
    let ready = link_local.iter().any(|(_, a)| !a.tentative && !a.dad_failed);
    let mut privilege_gap = false;
    let solicitation = if !settings.solicit {
        not_run("switched off (ipv6.solicit = false)")
    } else if !ctx.privileges.net_raw {
        privilege_gap = true;
        not_run("needs CAP_NET_RAW: addresses only")
    } else if !ready {
        // The kernel has no source address for it until the link-local passes DAD.
        not_run("the link-local address has not passed duplicate address detection yet")
    } else {
        let mac = iface.mac.filter(|m| !m.is_zero());
        let window = std::time::Duration::from_millis(settings.ra_window_ms);
        let grace = std::time::Duration::from_millis(settings.ra_grace_ms);
        let stop_by = (std::time::Instant::now() + window).min(ctx.cutoff());
        match solicit(&iface.name, iface.index, mac, stop_by, grace).await {
            Ok((sol, routers)) => {
                ev.routers = routers;
                sol
            }
            Err(e) if e.kind() == std::io::ErrorKind::PermissionDenied => {
                privilege_gap = true;
                not_run("needs CAP_NET_RAW: addresses only")
            }
            Err(e) => not_run(&format!("router solicitation on {} failed: {e}", iface.name)),
        }
    };
    ev.solicitation = Some(solicitation);
    ev.ra_mtu = ev.routers.iter().find_map(|r| r.mtu);
    // Handed to the path check, which compares it with the interface MTU (link.mtu_mismatch)
    // when it finishes after this check.
    if let Some(mtu) = ev.ra_mtu {
        let _ = ctx.facts.ra_mtu.set(mtu);
    }
    // The addresses now: one formed from an answer to our solicitation is seen.
    let fresh = crate::platform::netlink::NetSnapshot::read().await.ok();
    let snapshot = fresh.as_ref().unwrap_or(ctx.snapshot);
    let now = snapshot.interfaces.iter().find(|i| i.index == iface.index).unwrap_or(iface);
    ev.addresses = classify(&now.addresses, &ev.routers);
    ev.kernel_ra_routes = snapshot
        .routes
        .iter()
        .filter(|r| r.ipv6 && r.from_ra && r.is_default() && r.oif == Some(iface.index))
        .filter_map(|r| r.gateway)
        .collect();
    ev.resolvers = configured_resolvers(&ctx.config.dns);
    ev.notices = notices(&ev);
    let mut findings = judge(&ev, settings, Source::Live);
    if privilege_gap {
        findings.push(finding(
            CheckId::Ipv6,
            Code::ToolNoPrivilege,
            Severity::Warn,
            "the router solicitation needs CAP_NET_RAW; only the addresses were checked",
        ));
    }
    Ok(Outcome::Ran { findings, evidence: Evidence::Ipv6(Box::new(ev)) })
}

/// The resolvers the system is configured with (resolv.conf's, local stubs replaced by their
/// upstreams where known); none when resolv.conf is missing or names no server, where
/// glibc's fallback to 127.0.0.1 is not a configured resolver.
#[cfg(feature = "live")]
fn configured_resolvers(dns: &crate::config::DnsSettings) -> Vec<IpAddr> {
    use crate::platform::resolv::{self, ConfState, ResolverPaths};
    let paths = ResolverPaths {
        resolv_conf: dns.resolv_conf.clone(),
        resolved_upstreams: dns.resolved_upstreams.clone(),
        networkmanager_upstreams: dns.networkmanager_upstreams.clone(),
        resolved_conf: dns.resolved_conf.clone(),
    };
    let discovery = resolv::discover(&paths, &|_| None);
    if discovery.conf_state != ConfState::Read {
        return Vec::new();
    }
    discovery.servers_to_test().into_iter().map(|(ns, _)| ns.ip).collect()
}

#[cfg(feature = "live")]
fn not_run(reason: &str) -> Solicitation {
    Solicitation {
        status: SolicitStatus::NotRun,
        reason: Some(reason.into()),
        listened_ms: None,
        received: 0,
        invalid: 0,
        dropped: 0,
    }
}

/// A Router Solicitation (RFC 4861 4.1), with the source link-layer option when `mac` is
/// given; the kernel fills in the checksum of a raw ICMPv6 socket.
pub fn router_solicitation(mac: Option<MacAddr>) -> Vec<u8> {
    let mut rs = vec![ROUTER_SOLICITATION, 0, 0, 0, 0, 0, 0, 0];
    if let Some(mac) = mac {
        rs.extend_from_slice(&[1, 1]);
        rs.extend_from_slice(&mac.0);
    }
    rs
}

/// Sends one Router Solicitation on `ifname` and collects the advertisements until
/// `stop_by`, or `grace` after the first one.
#[cfg(feature = "live")]
async fn solicit(
    ifname: &str,
    ifindex: u32,
    mac: Option<MacAddr>,
    stop_by: std::time::Instant,
    grace: std::time::Duration,
) -> std::io::Result<(Solicitation, Vec<RouterAdvert>)> {
    use std::net::SocketAddrV6;

    // Opened before the run dropped CAP_NET_RAW (platform::privilege), when it had it.
    let socket = crate::platform::icmp::raw_socket(true)?;
    socket.bind_device(Some(ifname.as_bytes()))?;
    // RFC 4861 6.1.1/6.1.2: neighbour discovery is sent and accepted with hop limit 255 only.
    socket.set_multicast_hops_v6(255)?;
    socket.set_unicast_hops_v6(255)?;
    socket.set_multicast_if_v6(ifindex)?;
    socket.set_nonblocking(true)?;
    // A raw ICMPv6 socket reads and writes whole ICMPv6 messages; std's UDP socket type is
    // only the datagram calls (sendto, recvfrom) over the descriptor.
    let socket = tokio::net::UdpSocket::from_std(std::net::UdpSocket::from(socket))?;
    let all_routers = SocketAddrV6::new(Ipv6Addr::new(0xff02, 0, 0, 0, 0, 0, 0, 2), 0, 0, ifindex);
    let sent = std::time::Instant::now();
    socket.send_to(&router_solicitation(mac), all_routers).await?;

    let mut sol = Solicitation {
        status: SolicitStatus::Sent,
        reason: None,
        listened_ms: None,
        received: 0,
        invalid: 0,
        dropped: 0,
    };
    let mut routers: Vec<RouterAdvert> = Vec::new();
    // An RA may fill a jumbo frame; a longer one is cut and then fails the length checks.
    let mut buf = vec![0u8; RECEIVE_BUFFER];
    let mut until = stop_by;
    loop {
        let received = tokio::time::timeout_at(until.into(), socket.recv_from(&mut buf)).await;
        let (n, from) = match received {
            Err(_) => break,
            Ok(Err(e)) => {
                sol.reason = Some(format!("receiving stopped: {e}"));
                break;
            }
            Ok(Ok(got)) => got,
        };
        let std::net::SocketAddr::V6(from) = from else { continue };
        let bytes = &buf[..n];
        if bytes.first() != Some(&ROUTER_ADVERTISEMENT) {
            continue;
        }
        match parse_router_advert(bytes, *from.ip()) {
            Err(e) => {
                sol.invalid = sol.invalid.saturating_add(1);
                tracing::debug!(source = %from.ip(), error = %e, "router advertisement dropped");
            }
            Ok(mut ra) => {
                sol.received = sol.received.saturating_add(1);
                let at_ms = crate::types::millis(sent.elapsed());
                if let Some(known) = routers.iter_mut().find(|r| r.source == ra.source) {
                    ra.first_ms = known.first_ms;
                    ra.count = known.count.saturating_add(1);
                    *known = ra;
                } else if routers.len() < MAX_ROUTERS {
                    ra.first_ms = Some(at_ms);
                    routers.push(ra);
                } else {
                    sol.dropped = sol.dropped.saturating_add(1);
                }
                if sol.received == 1 {
                    until = until.min(std::time::Instant::now() + grace);
                }
            }
        }
    }
    sol.listened_ms = Some(crate::types::millis(sent.elapsed()));
    Ok((sol, routers))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ll(last: u16) -> Ipv6Addr {
        Ipv6Addr::new(0xfe80, 0, 0, 0, 0, 0, 0, last)
    }

    /// An RA as radvd sends it in the lab: M=0 O=0, lifetime 1800, the SLLA, a /64 prefix
    /// with L and A, MTU 1500, one RDNSS and one DNSSL name.
    fn lab_ra() -> Vec<u8> {
        let mut b = vec![134, 0, 0, 0, 64, 0x00, 0x07, 0x08, 0, 0, 0, 0, 0, 0, 0, 0];
        b.extend_from_slice(&[1, 1, 0x02, 0, 0, 0, 0, 0x01]);
        let mut prefix = vec![3, 4, 64, 0xc0];
        prefix.extend_from_slice(&86400u32.to_be_bytes());
        prefix.extend_from_slice(&14400u32.to_be_bytes());
        prefix.extend_from_slice(&[0; 4]);
        prefix.extend_from_slice(&"2001:2:0:1::".parse::<Ipv6Addr>().unwrap().octets());
        b.extend_from_slice(&prefix);
        b.extend_from_slice(&[5, 1, 0, 0]);
        b.extend_from_slice(&1500u32.to_be_bytes());
        let mut rdnss = vec![25, 3, 0, 0];
        rdnss.extend_from_slice(&600u32.to_be_bytes());
        rdnss.extend_from_slice(&"2001:2:0:2::2".parse::<Ipv6Addr>().unwrap().octets());
        b.extend_from_slice(&rdnss);
        let mut dnssl = vec![31, 3, 0, 0];
        dnssl.extend_from_slice(&600u32.to_be_bytes());
        dnssl.extend_from_slice(b"\x03lab\x07example\x00");
        dnssl.resize(24, 0);
        b.extend_from_slice(&dnssl);
        b
    }

    #[test]
    fn a_complete_advertisement_reads_into_its_fields() {
        let ra = parse_router_advert(&lab_ra(), ll(1)).unwrap();
        assert_eq!(ra.source, ll(1));
        assert_eq!(ra.mac, Some(MacAddr([2, 0, 0, 0, 0, 1])));
        assert_eq!((ra.hop_limit, ra.managed, ra.other_config, ra.router_lifetime_s), (64, false, false, 1800));
        assert_eq!(ra.preference, RouterPreference::Medium);
        assert_eq!(ra.prefixes.len(), 1);
        let p = &ra.prefixes[0];
        assert_eq!((p.prefix, p.prefix_len), ("2001:2:0:1::".parse().unwrap(), 64));
        assert!(p.on_link && p.autonomous && p.slaac_usable());
        assert_eq!((p.valid_lft_s, p.preferred_lft_s), (86400, 14400));
        assert_eq!(ra.mtu, Some(1500));
        assert_eq!(ra.rdnss, ["2001:2:0:2::2".parse::<Ipv6Addr>().unwrap()]);
        assert_eq!(ra.rdnss_lifetime_s, Some(600));
        assert_eq!(ra.dnssl, ["lab.example"]);
        assert_eq!(ra.options_skipped, 0);
    }

    /// The ICMPv6 messages and source addresses of the Router Advertisements in
    /// `captures/ipv6_ra.pcap` (classic pcap, Ethernet, IPv6 without extension headers).
    fn recorded_ras() -> Vec<(Ipv6Addr, Vec<u8>)> {
        let bytes = std::fs::read(concat!(env!("CARGO_MANIFEST_DIR"), "/captures/ipv6_ra.pcap")).unwrap();
        let mut out = Vec::new();
        let mut at = 24;
        while at + 16 <= bytes.len() {
            let len = u32::from_le_bytes(bytes[at + 8..at + 12].try_into().unwrap()) as usize;
            let frame = &bytes[at + 16..at + 16 + len];
            assert_eq!(&frame[12..14], &[0x86, 0xdd]);
            assert_eq!(frame[20], 58);
            let source = Ipv6Addr::from(<[u8; 16]>::try_from(&frame[22..38]).unwrap());
            out.push((source, frame[54..].to_vec()));
            at += 16 + len;
        }
        out
    }

    #[test]
    fn radvds_advertisements_recorded_in_the_lab_read_as_tcpdump_shows_them() {
        let ras = recorded_ras();
        assert_eq!(ras.len(), 2, "the unsolicited RA and the answer to rdisc6");
        for (source, icmp) in &ras {
            let ra = parse_router_advert(icmp, *source).unwrap();
            assert_eq!(ra.source, "fe80::b842:d7ff:feda:eb46".parse::<Ipv6Addr>().unwrap());
            assert_eq!(ra.mac, Some("2a:72:4f:91:40:6b".parse().unwrap()));
            assert_eq!((ra.hop_limit, ra.managed, ra.other_config), (64, false, false));
            assert_eq!((ra.router_lifetime_s, ra.reachable_time_ms, ra.retrans_timer_ms), (1800, 0, 0));
            let p = &ra.prefixes[..];
            assert_eq!(p.len(), 1);
            assert_eq!((p[0].prefix, p[0].prefix_len), ("2001:2:0:1::".parse().unwrap(), 64));
            assert!(p[0].on_link && p[0].autonomous && p[0].slaac_usable());
            assert_eq!((p[0].valid_lft_s, p[0].preferred_lft_s), (86400, 14400));
            assert_eq!(ra.rdnss, ["2001:2:0:2::2".parse::<Ipv6Addr>().unwrap()]);
            assert_eq!(ra.rdnss_lifetime_s, Some(10));
            assert_eq!(ra.dnssl, ["lab.example"]);
            assert_eq!(ra.mtu, Some(1500));
            assert_eq!(ra.options_skipped, 0);
            // Every cut of the real message is refused or read, never a panic.
            for cut in 0..icmp.len() {
                let _ = parse_router_advert(&icmp[..cut], *source);
            }
        }
    }

    #[test]
    fn flags_and_preference_are_read() {
        let mut b = lab_ra();
        b[5] = 0x80 | 0x40 | (0b01 << 3);
        let ra = parse_router_advert(&b, ll(1)).unwrap();
        assert!(ra.managed && ra.other_config);
        assert_eq!(ra.preference, RouterPreference::High);
        b[5] = 0b11 << 3;
        assert_eq!(parse_router_advert(&b, ll(1)).unwrap().preference, RouterPreference::Low);
    }

    #[test]
    fn invalid_messages_are_refused_by_rfc_4861s_rules() {
        let good = lab_ra();
        assert_eq!(parse_router_advert(&good[..15], ll(1)), Err(RaError::Short(15)));
        assert_eq!(parse_router_advert(&[], ll(1)), Err(RaError::Short(0)));
        assert_eq!(parse_router_advert(&[133, 0, 0, 0], ll(1)), Err(RaError::NotRa(133)));
        let mut code = good.clone();
        code[1] = 1;
        assert_eq!(parse_router_advert(&code, ll(1)), Err(RaError::BadCode(1)));
        let global = "2001:db8::1".parse().unwrap();
        assert_eq!(parse_router_advert(&good, global), Err(RaError::NotLinkLocal(global)));
        let mut zero = good.clone();
        zero[17] = 0;
        assert_eq!(parse_router_advert(&zero, ll(1)), Err(RaError::ZeroLengthOption(16)));
        // Cut inside the prefix option.
        assert_eq!(parse_router_advert(&good[..40], ll(1)), Err(RaError::TruncatedOption(24)));
        // A lone type byte after the options.
        let mut dangling = good.clone();
        dangling.push(1);
        assert!(matches!(parse_router_advert(&dangling, ll(1)), Err(RaError::TruncatedOption(_))));
    }

    #[test]
    fn every_truncation_and_byte_flip_is_handled_without_panic() {
        let good = lab_ra();
        for cut in 0..good.len() {
            let _ = parse_router_advert(&good[..cut], ll(1));
        }
        for i in 0..good.len() {
            for v in [0u8, 1, 0x1f, 0x20, 0xff] {
                let mut b = good.clone();
                b[i] = v;
                let _ = parse_router_advert(&b, ll(1));
            }
        }
        // A 255-unit option (2040 bytes) whose length used to overflow u8 arithmetic.
        let mut big = good[..16].to_vec();
        big.extend_from_slice(&[25, 255]);
        big.resize(16 + 2040, 0);
        let ra = parse_router_advert(&big, ll(1)).unwrap();
        assert!(ra.rdnss.len() <= MAX_RDNSS);
    }

    #[test]
    fn options_beyond_the_caps_are_counted_not_kept() {
        let mut b = lab_ra()[..16].to_vec();
        for i in 0..(MAX_OPTIONS + 10) {
            let mut prefix = vec![3, 4, 64, 0xc0];
            prefix.extend_from_slice(&[0, 0, 1, 0, 0, 0, 1, 0, 0, 0, 0, 0]);
            prefix.extend_from_slice(&Ipv6Addr::new(0x2001, 2, i as u16, 0, 0, 0, 0, 0).octets());
            b.extend_from_slice(&prefix);
        }
        let ra = parse_router_advert(&b, ll(1)).unwrap();
        assert_eq!(ra.prefixes.len(), MAX_PREFIXES);
        assert_eq!(ra.options_skipped as usize, MAX_OPTIONS + 10 - MAX_PREFIXES);
    }

    #[test]
    fn malformed_rdnss_and_dnssl_are_skipped() {
        let mut b = lab_ra()[..16].to_vec();
        // RDNSS of length 2 (below RFC 8106's minimum of 3).
        b.extend_from_slice(&[25, 2, 0, 0, 0, 0, 0, 60, 0, 0, 0, 0, 0, 0, 0, 0]);
        // DNSSL with a compression pointer.
        b.extend_from_slice(&[31, 2, 0, 0, 0, 0, 0, 60, 0xc0, 0x0c, 0, 0, 0, 0, 0, 0]);
        let ra = parse_router_advert(&b, ll(1)).unwrap();
        assert!(ra.rdnss.is_empty() && ra.dnssl.is_empty());
        assert_eq!(ra.options_skipped, 1);
    }

    #[test]
    fn the_solicitation_carries_the_source_link_layer_option() {
        assert_eq!(router_solicitation(None), [133, 0, 0, 0, 0, 0, 0, 0]);
        let rs = router_solicitation(Some(MacAddr([2, 0, 0, 0, 0, 9])));
        assert_eq!(rs.len(), 16);
        assert_eq!(&rs[8..], [1, 1, 2, 0, 0, 0, 0, 9]);
    }

    fn if_addr(ip: &str, prefix_len: u8, scope: AddrScope, dynamic: bool) -> IfAddr {
        IfAddr {
            address: ip.parse().unwrap(),
            prefix_len,
            scope,
            dynamic,
            tentative: false,
            dad_failed: false,
            temporary: false,
            mngtmpaddr: false,
            valid_lft_s: dynamic.then_some(86400),
            preferred_lft_s: dynamic.then_some(14400),
        }
    }

    fn evidence(routers: Vec<RouterAdvert>, addrs: &[IfAddr]) -> Ipv6Evidence {
        let mut ev = Ipv6Evidence {
            interface: "eth0".into(),
            enabled: true,
            sysctl: Ipv6Conf { disable_ipv6: Some(0), accept_ra: Some(1), autoconf: Some(1), forwarding: Some(0) },
            solicitation: Some(Solicitation {
                status: SolicitStatus::Sent,
                reason: None,
                listened_ms: Some(180.0),
                received: routers.len() as u32,
                invalid: 0,
                dropped: 0,
            }),
            ra_mtu: routers.iter().find_map(|r| r.mtu),
            addresses: classify(addrs, &routers),
            routers,
            kernel_ra_routes: vec![],
            resolvers: vec!["198.18.0.1".parse().unwrap()],
            notices: vec![],
            capture: None,
        };
        ev.notices = notices(&ev);
        ev
    }

    fn codes(ev: &Ipv6Evidence, settings: &Ipv6Settings) -> Vec<(Code, Severity)> {
        judge(ev, settings, Source::Live).iter().map(|f| (f.code, f.severity)).collect()
    }

    fn healthy_addrs() -> Vec<IfAddr> {
        vec![
            if_addr("fe80::1:2", 64, AddrScope::Link, false),
            if_addr("2001:2:0:1:0:ff:fe00:10", 64, AddrScope::Global, true),
        ]
    }

    #[test]
    fn a_healthy_dual_stack_link_passes() {
        let ra = parse_router_advert(&lab_ra(), ll(1)).unwrap();
        let ev = evidence(vec![ra], &healthy_addrs());
        assert!(judge(&ev, &Ipv6Settings::default(), Source::Live).is_empty());
        assert!(ev.notices.is_empty());
        assert_eq!(ev.ra_mtu, Some(1500));
        assert_eq!(ev.addresses[0].kind, AddrKind::LinkLocal);
        assert_eq!(ev.addresses[1].kind, AddrKind::Slaac);
    }

    #[test]
    fn no_router_is_a_notice_not_a_finding() {
        let ev = evidence(vec![], &healthy_addrs()[..1]);
        assert!(judge(&ev, &Ipv6Settings::default(), Source::Live).is_empty());
        assert_eq!(ev.notices.iter().map(|n| n.code).collect::<Vec<_>>(), [Code::Ipv6NoRouter]);
    }

    #[test]
    fn two_routers_warn_and_an_unexpected_one_fails_when_hosts_would_follow_it() {
        let real = parse_router_advert(&lab_ra(), ll(1)).unwrap();
        let mut rogue_bytes = lab_ra();
        rogue_bytes[21] = 0x66;
        let rogue = parse_router_advert(&rogue_bytes, ll(0x66)).unwrap();
        let ev = evidence(vec![real.clone(), rogue.clone()], &healthy_addrs());
        assert_eq!(codes(&ev, &Ipv6Settings::default()), [(Code::Ipv6MultipleRouters, Severity::Warn)]);

        let by_addr = Ipv6Settings { expected_routers_v6: vec![RouterId::Addr(ll(1))], ..Default::default() };
        assert_eq!(codes(&ev, &by_addr), [(Code::Ipv6UnexpectedRouter, Severity::Fail)]);
        let by_mac = Ipv6Settings {
            expected_routers_v6: vec![RouterId::Mac(MacAddr([2, 0, 0, 0, 0, 1]))],
            ..Default::default()
        };
        assert_eq!(codes(&ev, &by_mac), [(Code::Ipv6UnexpectedRouter, Severity::Fail)]);
        // Both expected: neither code.
        let both = Ipv6Settings {
            expected_routers_v6: vec![RouterId::Addr(ll(1)), RouterId::Addr(ll(0x66))],
            ..Default::default()
        };
        assert!(codes(&ev, &both).is_empty());
        // A rogue with lifetime 0 and no usable prefix is only a warning.
        let mut harmless = rogue;
        harmless.router_lifetime_s = 0;
        harmless.prefixes.clear();
        let ev = evidence(vec![real, harmless], &healthy_addrs());
        assert_eq!(codes(&ev, &by_addr), [(Code::Ipv6UnexpectedRouter, Severity::Warn)]);
    }

    #[test]
    fn an_offered_prefix_without_a_global_address_fails() {
        let ra = parse_router_advert(&lab_ra(), ll(1)).unwrap();
        let ev = evidence(vec![ra.clone()], &healthy_addrs()[..1]);
        assert_eq!(codes(&ev, &Ipv6Settings::default()), [(Code::Ipv6NoAddress, Severity::Fail)]);
        // A tentative address counts (DAD is still running); a failed one does not.
        let mut tentative = healthy_addrs();
        tentative[1].tentative = true;
        assert!(codes(&evidence(vec![ra.clone()], &tentative), &Ipv6Settings::default()).is_empty());
        // M flag without prefixes: a DHCPv6 address was expected.
        let mut managed = ra;
        managed.prefixes.clear();
        managed.managed = true;
        let ev = evidence(vec![managed], &healthy_addrs()[..1]);
        assert_eq!(codes(&ev, &Ipv6Settings::default()), [(Code::Ipv6NoAddress, Severity::Fail)]);
    }

    #[test]
    fn a_failed_dad_fails_and_names_the_address() {
        let ra = parse_router_advert(&lab_ra(), ll(1)).unwrap();
        let mut addrs = healthy_addrs();
        addrs.push(IfAddr {
            dad_failed: true,
            tentative: true,
            ..if_addr("2001:2:0:1::10", 64, AddrScope::Global, false)
        });
        let ev = evidence(vec![ra], &addrs);
        let findings = judge(&ev, &Ipv6Settings::default(), Source::Live);
        assert_eq!(findings.iter().map(|f| f.code).collect::<Vec<_>>(), [Code::Ipv6DadFailed]);
        assert_eq!(findings[0].severity, Severity::Fail);
    }

    #[test]
    fn a_global_address_without_any_resolver_warns() {
        let mut ra = parse_router_advert(&lab_ra(), ll(1)).unwrap();
        ra.rdnss.clear();
        let mut ev = evidence(vec![ra.clone()], &healthy_addrs());
        ev.resolvers.clear();
        assert_eq!(codes(&ev, &Ipv6Settings::default()), [(Code::Ipv6NoDns, Severity::Warn)]);
        // RDNSS alone is enough, and so is an IPv4 resolver.
        let with_rdnss = evidence(vec![parse_router_advert(&lab_ra(), ll(1)).unwrap()], &healthy_addrs());
        assert!(codes(&with_rdnss, &Ipv6Settings::default()).is_empty());
    }

    #[test]
    fn addresses_are_classified_by_their_flags() {
        let addrs = [
            IfAddr { temporary: true, ..if_addr("2001:2:0:1:1234:5678:9abc:def0", 64, AddrScope::Global, true) },
            IfAddr { mngtmpaddr: true, ..if_addr("2001:2:0:1::ff", 64, AddrScope::Global, true) },
            if_addr("2001:2:0:1::1:5", 128, AddrScope::Global, true),
            if_addr("2001:2:0:9::5", 64, AddrScope::Global, false),
            if_addr("198.18.0.10", 24, AddrScope::Global, false),
        ];
        let kinds: Vec<AddrKind> = classify(&addrs, &[]).iter().map(|a| a.kind).collect();
        assert_eq!(kinds, [AddrKind::Temporary, AddrKind::Slaac, AddrKind::Dynamic, AddrKind::Static]);
    }

    #[test]
    fn evidence_round_trips_through_json() {
        let ra = parse_router_advert(&lab_ra(), ll(1)).unwrap();
        let ev = evidence(vec![ra], &healthy_addrs());
        let json = serde_json::to_value(&ev).unwrap();
        assert_eq!(serde_json::from_value::<Ipv6Evidence>(json).unwrap(), ev);
    }
}
