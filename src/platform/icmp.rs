//! ICMP echo at a chosen packet size with Don't Fragment, for path MTU discovery, and the
//! ICMP errors that answer it (IPv4 "fragmentation needed", ICMPv6 "packet too big").
//!
//! The `path` check ([`crate::check::path`]) drives the search; this module builds and
//! parses the bytes and owns the socket. Packets are built whole, IP header included
//! (`IP_HDRINCL`/`IPV6_HDRINCL` through socket2's safe setters): with a header of its
//! own the kernel sends the packet as built, with DF on IPv4 and never fragmented on
//! IPv6. It still refuses (`EMSGSIZE`) a packet above a path MTU it has cached for the
//! destination; `IP_PMTUDISC_PROBE`/`IPV6_PMTUDISC_PROBE` would ignore that cache, but
//! socket2 has no `IP_MTU_DISCOVER` setter and the crate denies `unsafe`, so the path
//! check reads such a refusal as a limit announced earlier. The sockets are raw ICMP/ICMPv6 sockets, which receive every ICMP message
//! the host gets: echo replies and the errors quoting our requests (no error queue is
//! needed). surge-ping, used by the gateway check, drops every message that is not an
//! echo reply and cannot set DF, hence this module.
//!
//! Opening the sockets: raw ICMP/ICMPv6 sockets need CAP_NET_RAW, so the run opens the
//! ones it will use before it drops its capabilities ([`preopen_raw`] for the path check
//! and the Router Solicitation, [`preopen_echo_client`] for the gateway's echo series;
//! see `platform::privilege`), and [`raw_socket`] and [`echo_client`] hand those out
//! first. Without CAP_NET_RAW the gateway's echo client is an unprivileged ICMP datagram
//! ("ping") socket where `net.ipv4.ping_group_range` allows it ([`EchoSocketKind`] says
//! which was used). The path check has no such fallback: a ping socket cannot carry a
//! packet built whole, socket2 has no `IP_MTU_DISCOVER` setter to set DF on one without
//! `unsafe`, and it would report fragmentation-needed only through the socket's error
//! queue (`MSG_ERRQUEUE`), which this module does not read.
//!
//! [`parse_v4`] and [`parse_v6`] read untrusted bytes from the network: they are pure,
//! return `None` on anything they do not understand, and are fuzzed
//! (`fuzz/fuzz_targets/icmp_errors.rs`).

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// IPv4 header without options.
pub const IPV4_HEADER: u32 = 20;
/// IPv6 fixed header.
pub const IPV6_HEADER: u32 = 40;
/// ICMP and ICMPv6 echo header.
pub const ECHO_HEADER: u32 = 8;
/// The smallest packet an echo can be built at, for either family.
pub const MIN_PACKET: u32 = IPV6_HEADER + ECHO_HEADER;
/// The largest packet built (an IPv4 total length and IPv6 payload length are 16 bits).
pub const MAX_PACKET: u32 = 65_535;

/// One ICMP message that concerns an echo of ours.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IcmpEvent {
    /// An echo reply.
    EchoReply {
        /// Who answered.
        from: IpAddr,
        /// The echo identifier.
        ident: u16,
        /// The echo sequence number.
        seq: u16,
    },
    /// IPv4 destination unreachable, fragmentation needed and DF set (type 3 code 4,
    /// RFC 1191), or ICMPv6 packet too big (type 2, RFC 8201), quoting one of our echoes.
    TooBig {
        /// The router that sent it.
        from: IpAddr,
        /// The MTU it reports for its next hop (0 from a pre-RFC 1191 router).
        mtu: u32,
        /// Where the quoted packet was going.
        destination: IpAddr,
        /// The quoted echo's identifier.
        ident: u16,
        /// The quoted echo's sequence number.
        seq: u16,
        /// The quoted packet's size as the router saw it (IPv4 total length, IPv6 40 +
        /// payload length).
        size: u32,
    },
}

fn u16_at(b: &[u8], at: usize) -> Option<u16> {
    Some(u16::from_be_bytes([*b.get(at)?, *b.get(at + 1)?]))
}

fn u32_at(b: &[u8], at: usize) -> Option<u32> {
    Some(u32::from_be_bytes([*b.get(at)?, *b.get(at + 1)?, *b.get(at + 2)?, *b.get(at + 3)?]))
}

fn v4_at(b: &[u8], at: usize) -> Option<Ipv4Addr> {
    let o: [u8; 4] = b.get(at..at + 4)?.try_into().ok()?;
    Some(Ipv4Addr::from(o))
}

fn v6_at(b: &[u8], at: usize) -> Option<Ipv6Addr> {
    let o: [u8; 16] = b.get(at..at + 16)?.try_into().ok()?;
    Some(Ipv6Addr::from(o))
}

/// The Internet checksum (RFC 1071) over `parts` as one byte string.
pub fn checksum(parts: &[&[u8]]) -> u16 {
    let mut sum: u32 = 0;
    let mut odd: Option<u8> = None;
    for part in parts {
        for &byte in *part {
            match odd.take() {
                Some(high) => sum += u32::from(u16::from_be_bytes([high, byte])),
                None => odd = Some(byte),
            }
        }
    }
    if let Some(high) = odd {
        sum += u32::from(u16::from_be_bytes([high, 0]));
    }
    while sum > 0xffff {
        sum = (sum & 0xffff) + (sum >> 16);
    }
    !(sum as u16)
}

/// The echo request payload: a recognisable pattern (the same byte everywhere, so a
/// truncated quote is still ours by identifier and sequence).
const FILL: u8 = 0x6e;

/// An IPv4 packet of `size` bytes (total length) carrying an ICMP echo request, with DF
/// set. `source` may be unspecified (the kernel then fills it in); the kernel fills in
/// the header checksum. `size` is clamped to what an echo can be built at.
pub fn build_echo_v4(source: Ipv4Addr, destination: Ipv4Addr, ident: u16, seq: u16, size: u32) -> Vec<u8> {
    let size = size.clamp(IPV4_HEADER + ECHO_HEADER, MAX_PACKET) as usize;
    let mut p = vec![FILL; size];
    p[0] = 0x45;
    p[1] = 0;
    p[2..4].copy_from_slice(&(size as u16).to_be_bytes());
    p[4..6].copy_from_slice(&seq.to_be_bytes());
    // Flags: DF (0x4000), no fragment offset.
    p[6..8].copy_from_slice(&0x4000u16.to_be_bytes());
    p[8] = 64;
    p[9] = 1;
    p[10..12].fill(0);
    p[12..16].copy_from_slice(&source.octets());
    p[16..20].copy_from_slice(&destination.octets());
    let icmp = &mut p[20..];
    icmp[0] = 8;
    icmp[1] = 0;
    icmp[2..4].fill(0);
    icmp[4..6].copy_from_slice(&ident.to_be_bytes());
    icmp[6..8].copy_from_slice(&seq.to_be_bytes());
    let sum = checksum(&[icmp]);
    icmp[2..4].copy_from_slice(&sum.to_be_bytes());
    p
}

/// An IPv6 packet of `size` bytes (40 + payload length) carrying an ICMPv6 echo request
/// with its checksum over the pseudo-header (RFC 8200 section 8.1). `size` is clamped to
/// what an echo can be built at.
pub fn build_echo_v6(source: Ipv6Addr, destination: Ipv6Addr, ident: u16, seq: u16, size: u32) -> Vec<u8> {
    let size = size.clamp(IPV6_HEADER + ECHO_HEADER, MAX_PACKET) as usize;
    let payload_len = size - IPV6_HEADER as usize;
    let mut p = vec![FILL; size];
    p[0..4].copy_from_slice(&0x6000_0000u32.to_be_bytes());
    p[4..6].copy_from_slice(&(payload_len as u16).to_be_bytes());
    p[6] = 58;
    p[7] = 64;
    p[8..24].copy_from_slice(&source.octets());
    p[24..40].copy_from_slice(&destination.octets());
    let (header, icmp) = p.split_at_mut(IPV6_HEADER as usize);
    icmp[0] = 128;
    icmp[1] = 0;
    icmp[2..4].fill(0);
    icmp[4..6].copy_from_slice(&ident.to_be_bytes());
    icmp[6..8].copy_from_slice(&seq.to_be_bytes());
    let pseudo_len = (payload_len as u32).to_be_bytes();
    let sum = checksum(&[&header[8..40], &pseudo_len, &[0, 0, 0, 58], icmp]);
    icmp[2..4].copy_from_slice(&sum.to_be_bytes());
    p
}

/// Reads what a raw IPv4 ICMP socket received (IPv4 header, then ICMP): an echo reply, or
/// a fragmentation-needed error quoting an ICMP echo request. Anything else (other ICMP,
/// truncated or malformed bytes, a quote that is not an echo request) is `None`.
pub fn parse_v4(bytes: &[u8]) -> Option<IcmpEvent> {
    let first = *bytes.first()?;
    if first >> 4 != 4 {
        return None;
    }
    let ihl = usize::from(first & 0x0f) * 4;
    if ihl < 20 || *bytes.get(9)? != 1 {
        return None;
    }
    let from = IpAddr::V4(v4_at(bytes, 12)?);
    let icmp = bytes.get(ihl..)?;
    match (*icmp.first()?, *icmp.get(1)?) {
        (0, 0) => Some(IcmpEvent::EchoReply { from, ident: u16_at(icmp, 4)?, seq: u16_at(icmp, 6)? }),
        (3, 4) => {
            let mtu = u32::from(u16_at(icmp, 6)?);
            let quoted = icmp.get(8..)?;
            let q_first = *quoted.first()?;
            let q_ihl = usize::from(q_first & 0x0f) * 4;
            if q_first >> 4 != 4 || q_ihl < 20 || *quoted.get(9)? != 1 {
                return None;
            }
            let size = u32::from(u16_at(quoted, 2)?);
            let destination = IpAddr::V4(v4_at(quoted, 16)?);
            let echo = quoted.get(q_ihl..)?;
            if *echo.first()? != 8 {
                return None;
            }
            Some(IcmpEvent::TooBig { from, mtu, destination, ident: u16_at(echo, 4)?, seq: u16_at(echo, 6)?, size })
        }
        _ => None,
    }
}

/// Reads what a raw ICMPv6 socket received (the ICMPv6 message, without the IPv6 header;
/// `from` is the sender the socket reported): an echo reply, or a packet-too-big error
/// quoting an ICMPv6 echo request without extension headers. Anything else is `None`.
pub fn parse_v6(bytes: &[u8], from: Ipv6Addr) -> Option<IcmpEvent> {
    let from = IpAddr::V6(from);
    match (*bytes.first()?, *bytes.get(1)?) {
        (129, 0) => Some(IcmpEvent::EchoReply { from, ident: u16_at(bytes, 4)?, seq: u16_at(bytes, 6)? }),
        (2, 0) => {
            let mtu = u32_at(bytes, 4)?;
            let quoted = bytes.get(8..)?;
            if *quoted.first()? >> 4 != 6 || *quoted.get(6)? != 58 {
                return None;
            }
            let size = IPV6_HEADER + u32::from(u16_at(quoted, 4)?);
            let destination = IpAddr::V6(v6_at(quoted, 24)?);
            let echo = quoted.get(IPV6_HEADER as usize..)?;
            if *echo.first()? != 128 {
                return None;
            }
            Some(IcmpEvent::TooBig { from, mtu, destination, ident: u16_at(echo, 4)?, seq: u16_at(echo, 6)?, size })
        }
        _ => None,
    }
}

/// Raw ICMP (`false`) and ICMPv6 (`true`) sockets opened before the capability drop.
#[cfg(feature = "live")]
static RAW: std::sync::Mutex<Vec<(bool, socket2::Socket)>> = std::sync::Mutex::new(Vec::new());

/// Echo clients (a raw socket bound to an interface) opened before the capability drop:
/// family (`true`: ICMPv6), interface, client.
#[cfg(feature = "live")]
static ECHO: std::sync::Mutex<Vec<(bool, String, surge_ping::Client)>> = std::sync::Mutex::new(Vec::new());

#[cfg(feature = "live")]
fn new_raw(v6: bool) -> std::io::Result<socket2::Socket> {
    use socket2::{Domain, Protocol, Socket, Type};
    if v6 {
        Socket::new(Domain::IPV6, Type::RAW, Some(Protocol::ICMPV6))
    } else {
        Socket::new(Domain::IPV4, Type::RAW, Some(Protocol::ICMPV4))
    }
}

/// Opens `count` raw ICMP (`v6` false) or ICMPv6 sockets now, for [`raw_socket`] to hand
/// out after the capabilities are dropped. Returns how many were opened.
#[cfg(feature = "live")]
pub fn preopen_raw(v6: bool, count: usize) -> std::io::Result<usize> {
    let mut opened = Vec::with_capacity(count);
    for _ in 0..count {
        opened.push((v6, new_raw(v6)?));
    }
    RAW.lock().unwrap_or_else(std::sync::PoisonError::into_inner).extend(opened);
    Ok(count)
}

/// A raw ICMP or ICMPv6 socket, not yet configured: a pre-opened one ([`preopen_raw`])
/// when one is left, with the messages it queued while it waited read away; else a new
/// one (needs CAP_NET_RAW).
#[cfg(feature = "live")]
pub fn raw_socket(v6: bool) -> std::io::Result<socket2::Socket> {
    let taken = {
        let mut pool = RAW.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        pool.iter().position(|(family, _)| *family == v6).map(|i| pool.swap_remove(i).1)
    };
    let Some(socket) = taken else { return new_raw(v6) };
    socket.set_nonblocking(true)?;
    let mut buf = [0u8; 2048];
    // At most what a receive buffer holds; a read error (WouldBlock) means it is empty.
    for _ in 0..4096 {
        if std::io::Read::read(&mut &socket, &mut buf).is_err() {
            break;
        }
    }
    socket.set_nonblocking(false)?;
    Ok(socket)
}

/// Which kind of socket carried an echo series.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EchoSocketKind {
    /// A raw ICMP/ICMPv6 socket (CAP_NET_RAW, opened before the drop).
    Raw,
    /// An unprivileged ICMP datagram ("ping") socket, allowed by
    /// `net.ipv4.ping_group_range` (blackbox_exporter documents the same fallback).
    Datagram,
}

/// Opens the echo client for `v6` bound to `interface` on a raw socket now, for
/// [`echo_client`] to hand out after the capabilities are dropped. Needs a tokio runtime
/// (the client's receive task).
#[cfg(feature = "live")]
pub fn preopen_echo_client(v6: bool, interface: &str) -> std::io::Result<()> {
    let kind = if v6 { surge_ping::ICMP::V6 } else { surge_ping::ICMP::V4 };
    let config =
        surge_ping::Config::builder().kind(kind).interface(interface).sock_type_hint(socket2::Type::RAW).build();
    let client = surge_ping::Client::new(&config)?;
    if client.get_socket().get_type() != socket2::Type::RAW {
        // surge-ping fell back to a datagram socket: not what was asked for up front.
        return Err(std::io::Error::new(std::io::ErrorKind::PermissionDenied, "no raw ICMP socket"));
    }
    ECHO.lock().unwrap_or_else(std::sync::PoisonError::into_inner).push((v6, interface.to_string(), client));
    Ok(())
}

/// The echo client for `v6` on `interface`: the pre-opened raw one ([`preopen_echo_client`],
/// shared by every series), else a new one on an ICMP datagram socket (no capability
/// needed where `net.ipv4.ping_group_range` allows it), else on a raw socket (needs
/// CAP_NET_RAW). Says which kind it is. Needs a tokio runtime.
#[cfg(feature = "live")]
pub fn echo_client(v6: bool, interface: &str) -> std::io::Result<(surge_ping::Client, EchoSocketKind)> {
    let pooled = ECHO
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
        .iter()
        .find(|(family, name, _)| *family == v6 && name == interface)
        .map(|(_, _, client)| client.clone());
    if let Some(client) = pooled {
        return Ok((client, EchoSocketKind::Raw));
    }
    let kind = if v6 { surge_ping::ICMP::V6 } else { surge_ping::ICMP::V4 };
    let config =
        surge_ping::Config::builder().kind(kind).interface(interface).sock_type_hint(socket2::Type::DGRAM).build();
    let client = surge_ping::Client::new(&config)?;
    let kind = if client.get_socket().get_type() == socket2::Type::RAW {
        EchoSocketKind::Raw
    } else {
        EchoSocketKind::Datagram
    };
    Ok((client, kind))
}

/// Closes the pre-opened raw sockets and echo clients nobody took (the end of a run).
#[cfg(feature = "live")]
pub fn release_preopened() {
    RAW.lock().unwrap_or_else(std::sync::PoisonError::into_inner).clear();
    ECHO.lock().unwrap_or_else(std::sync::PoisonError::into_inner).clear();
}

/// A raw ICMP (IPv4) or ICMPv6 socket that sends whole packets built here and receives
/// every ICMP message the host gets.
#[cfg(feature = "live")]
pub struct EchoSocket {
    socket: tokio::net::UdpSocket,
    v6: bool,
}

#[cfg(feature = "live")]
impl EchoSocket {
    /// Opens the socket for `family_v6` (raw, header included): a pre-opened one
    /// ([`raw_socket`]), else a new one, which needs CAP_NET_RAW.
    pub fn open(family_v6: bool) -> std::io::Result<EchoSocket> {
        let socket = raw_socket(family_v6)?;
        if family_v6 {
            socket.set_header_included_v6(true)?;
        } else {
            socket.set_header_included_v4(true)?;
        }
        socket.set_nonblocking(true)?;
        // A raw socket reads and writes datagrams with addresses, as a UDP socket does:
        // tokio's UdpSocket gives it readiness without any unsafe buffer handling.
        let socket = tokio::net::UdpSocket::from_std(std::net::UdpSocket::from(socket))?;
        Ok(EchoSocket { socket, v6: family_v6 })
    }

    /// Sends a whole packet (from [`build_echo_v4`] or [`build_echo_v6`]) to `destination`.
    /// A packet larger than the device MTU fails with `EMSGSIZE`.
    pub async fn send(&self, packet: &[u8], destination: IpAddr) -> std::io::Result<()> {
        self.socket.send_to(packet, std::net::SocketAddr::new(destination, 0)).await.map(|_| ())
    }

    /// Receives the next message that concerns an echo (anything else is skipped).
    pub async fn recv(&self, buf: &mut [u8]) -> std::io::Result<IcmpEvent> {
        loop {
            let (n, from) = self.socket.recv_from(buf).await?;
            let bytes = buf.get(..n).unwrap_or_default();
            let event = match from.ip() {
                IpAddr::V6(from) if self.v6 => parse_v6(bytes, from),
                IpAddr::V4(_) if !self.v6 => parse_v4(bytes),
                _ => None,
            };
            if let Some(event) = event {
                return Ok(event);
            }
        }
    }
}

/// The source address the kernel would choose to reach `destination` (a UDP socket is
/// connected, which sends nothing).
#[cfg(feature = "live")]
pub fn source_for(destination: IpAddr) -> std::io::Result<IpAddr> {
    let bind: std::net::SocketAddr = match destination {
        IpAddr::V4(_) => (Ipv4Addr::UNSPECIFIED, 0).into(),
        IpAddr::V6(_) => (Ipv6Addr::UNSPECIFIED, 0).into(),
    };
    let udp = std::net::UdpSocket::bind(bind)?;
    udp.connect((destination, 9))?;
    Ok(udp.local_addr()?.ip())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v4(s: &str) -> Ipv4Addr {
        s.parse().unwrap()
    }

    /// What a router sends back for `packet`: its header, ICMP 3/4 with `mtu`, and the
    /// first 28 bytes of the packet (RFC 792's minimum quote).
    fn frag_needed(router: Ipv4Addr, to: Ipv4Addr, mtu: u16, packet: &[u8], quote: usize) -> Vec<u8> {
        let mut icmp = vec![3, 4, 0, 0, 0, 0];
        icmp.extend_from_slice(&mtu.to_be_bytes());
        icmp.extend_from_slice(&packet[..quote.min(packet.len())]);
        let mut ip = vec![0x45, 0xc0, 0, 0, 0, 0, 0, 0, 64, 1, 0, 0];
        ip.extend_from_slice(&router.octets());
        ip.extend_from_slice(&to.octets());
        let total = (ip.len() + icmp.len()) as u16;
        ip[2..4].copy_from_slice(&total.to_be_bytes());
        ip.extend(icmp);
        ip
    }

    #[test]
    fn an_echo_v4_has_df_its_size_and_a_valid_checksum() {
        let p = build_echo_v4(v4("198.18.0.100"), v4("198.18.1.2"), 0x1234, 7, 1500);
        assert_eq!(p.len(), 1500);
        assert_eq!(u16_at(&p, 2), Some(1500));
        assert_eq!(u16_at(&p, 6), Some(0x4000), "DF, no offset");
        assert_eq!(checksum(&[&p[20..]]), 0, "a checksum over a valid message is zero");
        // Too small to hold an echo: built at the smallest echo.
        assert_eq!(build_echo_v4(Ipv4Addr::UNSPECIFIED, v4("198.18.1.2"), 1, 1, 3).len(), 28);
    }

    #[test]
    fn an_echo_v6_checksum_covers_the_pseudo_header() {
        let (src, dst): (Ipv6Addr, Ipv6Addr) = ("2001:2:0:1::100".parse().unwrap(), "2001:2:0:2::2".parse().unwrap());
        let p = build_echo_v6(src, dst, 9, 3, 1280);
        assert_eq!(p.len(), 1280);
        assert_eq!(u16_at(&p, 4), Some(1240));
        let len = 1240u32.to_be_bytes();
        assert_eq!(checksum(&[&p[8..40], &len, &[0, 0, 0, 58], &p[40..]]), 0);
    }

    #[test]
    fn frag_needed_quoting_our_echo_is_read_with_its_mtu_and_size() {
        let (me, router, server) = (v4("198.18.0.100"), v4("198.18.0.1"), v4("198.18.1.2"));
        let echo = build_echo_v4(me, server, 0xbeef, 42, 1500);
        let err = frag_needed(router, me, 1400, &echo, 28);
        assert_eq!(
            parse_v4(&err),
            Some(IcmpEvent::TooBig {
                from: IpAddr::V4(router),
                mtu: 1400,
                destination: IpAddr::V4(server),
                ident: 0xbeef,
                seq: 42,
                size: 1500
            })
        );
        // Every truncation is refused or read, never a panic; cut inside the echo header
        // it is refused.
        for cut in 0..err.len() {
            let _ = parse_v4(&err[..cut]);
        }
        assert_eq!(parse_v4(&err[..err.len() - 1]), None);
        // A quote of a UDP packet is not ours.
        let mut udp = echo.clone();
        udp[9] = 17;
        assert_eq!(parse_v4(&frag_needed(router, me, 1400, &udp, 28)), None);
    }

    #[test]
    fn an_echo_reply_v4_is_read_and_other_icmp_is_not() {
        let mut reply = build_echo_v4(v4("198.18.1.2"), v4("198.18.0.100"), 5, 6, 100);
        reply[20] = 0;
        assert_eq!(
            parse_v4(&reply),
            Some(IcmpEvent::EchoReply { from: IpAddr::V4(v4("198.18.1.2")), ident: 5, seq: 6 })
        );
        reply[20] = 11; // time exceeded
        assert_eq!(parse_v4(&reply), None);
        assert_eq!(parse_v4(&[]), None);
        assert_eq!(parse_v4(&[0x4f; 60]), None);
    }

    #[test]
    fn packet_too_big_quoting_our_echo_is_read() {
        let (me, router, server): (Ipv6Addr, Ipv6Addr, Ipv6Addr) =
            ("2001:2:0:1::100".parse().unwrap(), "2001:2:0:1::1".parse().unwrap(), "2001:2:0:2::2".parse().unwrap());
        let echo = build_echo_v6(me, server, 77, 1, 1500);
        let mut ptb = vec![2, 0, 0, 0];
        ptb.extend_from_slice(&1400u32.to_be_bytes());
        // RFC 4443: as much of the packet as fits in the minimum MTU.
        ptb.extend_from_slice(&echo[..1232]);
        assert_eq!(
            parse_v6(&ptb, router),
            Some(IcmpEvent::TooBig {
                from: IpAddr::V6(router),
                mtu: 1400,
                destination: IpAddr::V6(server),
                ident: 77,
                seq: 1,
                size: 1500
            })
        );
        for cut in 0..56 {
            assert_eq!(parse_v6(&ptb[..cut], router), None, "cut at {cut}");
        }
        let mut reply = echo[40..].to_vec();
        reply[0] = 129;
        assert_eq!(
            parse_v6(&reply, server),
            Some(IcmpEvent::EchoReply { from: IpAddr::V6(server), ident: 77, seq: 1 })
        );
    }
}
