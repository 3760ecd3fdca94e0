//! IPv6 Neighbor Solicitation over a packet socket (pnet): the IPv6 counterpart of
//! [`crate::platform::arp`], to tell an IPv6 router that is gone from one that only drops
//! echo.
//!
//! Why our own solicitation rather than the kernel's neighbour table: the table says what
//! the kernel last concluded (an entry can stay `STALE` for minutes after the router left,
//! and `FAILED` only after the kernel's own retries), while a solicitation sent now and its
//! advertisement, or their absence, is an observation of this run, made the same way as
//! the ARP lookup of an IPv4 gateway. RFC 4861 section 7.2.2: the solicitation goes to the
//! target's solicited-node multicast address (`ff02::1:ffXX:XXXX`, Ethernet
//! `33:33:ff:XX:XX:XX`) with hop limit 255 and our link-layer address in a Source
//! Link-Layer Address option; the router answers with a Neighbor Advertisement.
//!
//! `build_solicitation` and `parse_advertisement` are pure (the frame is decoded by
//! [`crate::wire`], the one decoder); `solicit` opens the socket and is blocking, so callers
//! run it on a blocking thread. Advertisements come from the network and are untrusted:
//! anything that is not a well-formed advertisement from the address asked about, with hop
//! limit 255 (RFC 4861 section 7.1.2: proof it was not forwarded), is ignored.

use std::net::{IpAddr, Ipv6Addr};
use std::time::{Duration, Instant};

use pnet::packet::icmpv6::{self, Icmpv6Packet};

use crate::platform::arp::ArpReply;
use crate::platform::packet::{self, PacketError};
use crate::types::MacAddr;
use crate::wire::{self, Net, Transport};

/// Length of a Neighbor Solicitation frame on Ethernet: 14 Ethernet + 40 IPv6 + 24
/// ICMPv6 + 8 Source Link-Layer Address option.
pub const SOLICITATION_LEN: usize = 86;
/// ICMPv6 type of a Neighbor Solicitation (RFC 4861 section 4.3).
const NEIGHBOR_SOLICITATION: u8 = 135;
/// ICMPv6 type of a Neighbor Advertisement (RFC 4861 section 4.4).
const NEIGHBOR_ADVERTISEMENT: u8 = 136;
/// The only hop limit neighbour discovery accepts (RFC 4861 section 7.1).
const ND_HOP_LIMIT: u8 = 255;
/// IP protocol number of ICMPv6.
const PROTO_ICMPV6: u8 = 58;

/// The solicited-node multicast address of `target` (RFC 4291 section 2.7.1).
pub fn solicited_node(target: Ipv6Addr) -> Ipv6Addr {
    let o = target.octets();
    Ipv6Addr::new(0xff02, 0, 0, 0, 0, 1, 0xff00 | u16::from(o[13]), u16::from_be_bytes([o[14], o[15]]))
}

/// Builds a Neighbor Solicitation from `src_mac`/`src_ip` for `target`, to its
/// solicited-node multicast group, with a Source Link-Layer Address option.
pub fn build_solicitation(src_mac: MacAddr, src_ip: Ipv6Addr, target: Ipv6Addr) -> [u8; SOLICITATION_LEN] {
    let group = solicited_node(target);
    let g = group.octets();
    let mut frame = [0u8; SOLICITATION_LEN];
    // Ethernet: the group's multicast MAC (RFC 2464 section 7), EtherType IPv6.
    frame[..6].copy_from_slice(&[0x33, 0x33, g[12], g[13], g[14], g[15]]);
    frame[6..12].copy_from_slice(&src_mac.0);
    frame[12..14].copy_from_slice(&0x86dd_u16.to_be_bytes());
    // IPv6 header.
    let ip = &mut frame[14..54];
    ip[0] = 0x60;
    ip[4..6].copy_from_slice(&32_u16.to_be_bytes());
    ip[6] = PROTO_ICMPV6;
    ip[7] = ND_HOP_LIMIT;
    ip[8..24].copy_from_slice(&src_ip.octets());
    ip[24..40].copy_from_slice(&g);
    // ICMPv6 Neighbor Solicitation: type, code, checksum, reserved, target, SLLA option.
    let icmp = &mut frame[54..];
    icmp[0] = NEIGHBOR_SOLICITATION;
    icmp[8..24].copy_from_slice(&target.octets());
    icmp[24] = 1; // Source Link-Layer Address
    icmp[25] = 1; // length in units of 8 bytes
    icmp[26..32].copy_from_slice(&src_mac.0);
    let sum = Icmpv6Packet::new(icmp).map(|p| icmpv6::checksum(&p, &src_ip, &group)).unwrap_or(0);
    icmp[2..4].copy_from_slice(&sum.to_be_bytes());
    frame
}

/// If `frame` is a Neighbor Advertisement from `asked` (at any VLAN depth, not inside a
/// tunnel), with hop limit 255, the Ethernet source that sent it. The advertisement's own
/// target field is not read ([`crate::wire`] does not decode neighbour discovery bodies):
/// a router answers a solicitation for its address from that address (RFC 4861 section
/// 7.2.4), so the source is what identifies it. A zero MAC is no answer.
pub fn parse_advertisement(frame: &[u8], asked: Ipv6Addr) -> Option<MacAddr> {
    let packet = wire::decode(frame).ok().filter(|p| p.tunnels.is_empty())?;
    let Net::Ip(ip) = &packet.net else { return None };
    let Transport::Icmpv6(icmp) = &ip.transport else { return None };
    let ok = icmp.kind == NEIGHBOR_ADVERTISEMENT
        && icmp.code == 0
        && ip.hop_limit == ND_HOP_LIMIT
        && ip.src == IpAddr::V6(asked);
    (ok && !packet.src_mac.is_zero()).then_some(packet.src_mac)
}

/// Solicits `target` on `interface`, sending up to three solicitations spread over
/// `timeout` (as [`crate::platform::arp::resolve`] sends its requests), and returns the first
/// valid advertisement from another host (`None`: nobody answered in time). Blocking: run
/// it with `spawn_blocking`.
pub fn solicit(
    interface: &str,
    src_mac: MacAddr,
    src_ip: Ipv6Addr,
    target: Ipv6Addr,
    timeout: Duration,
) -> Result<Option<ArpReply>, PacketError> {
    let (mut tx, mut rx) = packet::open(interface)?;
    let request = build_solicitation(src_mac, src_ip, target);
    let start = Instant::now();
    const ATTEMPTS: u32 = 3;
    let mut sent = 0;
    while start.elapsed() < timeout {
        if sent < ATTEMPTS && start.elapsed() >= timeout * sent / ATTEMPTS {
            if let Some(Err(source)) = tx.send_to(&request, None) {
                return Err(PacketError::io(interface, source));
            }
            sent += 1;
        }
        match rx.next() {
            Ok(frame) => {
                if let Some(mac) = parse_advertisement(frame, target).filter(|m| *m != src_mac) {
                    return Ok(Some(ArpReply { mac, rtt: start.elapsed(), requests_sent: sent }));
                }
            }
            Err(e) if packet::is_idle(&e) => {}
            Err(source) => return Err(PacketError::io(interface, source)),
        }
    }
    Ok(None)
}

#[cfg(test)]
mod tests {
    use super::*;

    const ME: MacAddr = MacAddr([0x02, 0, 0, 0, 0, 0x10]);
    const ROUTER: MacAddr = MacAddr([0x02, 0, 0, 0, 0, 0x01]);

    fn addr(s: &str) -> Ipv6Addr {
        s.parse().unwrap()
    }

    /// A Neighbor Advertisement as a router sends it, built by hand (RFC 4861 section 4.4).
    fn advertisement(src: Ipv6Addr, dst: Ipv6Addr, hop_limit: u8) -> Vec<u8> {
        let mut f = vec![0u8; 14 + 40 + 32];
        f[..6].copy_from_slice(&ME.0);
        f[6..12].copy_from_slice(&ROUTER.0);
        f[12..14].copy_from_slice(&0x86dd_u16.to_be_bytes());
        f[14] = 0x60;
        f[18..20].copy_from_slice(&32_u16.to_be_bytes());
        f[20] = PROTO_ICMPV6;
        f[21] = hop_limit;
        f[22..38].copy_from_slice(&src.octets());
        f[38..54].copy_from_slice(&dst.octets());
        let icmp = &mut f[54..];
        icmp[0] = NEIGHBOR_ADVERTISEMENT;
        icmp[4] = 0xe0; // router, solicited, override
        icmp[8..24].copy_from_slice(&src.octets());
        icmp[24] = 2; // Target Link-Layer Address
        icmp[25] = 1;
        icmp[26..32].copy_from_slice(&ROUTER.0);
        let sum = icmpv6::checksum(&Icmpv6Packet::new(icmp).unwrap(), &src, &dst);
        icmp[2..4].copy_from_slice(&sum.to_be_bytes());
        f
    }

    #[test]
    fn solicitation_goes_to_the_solicited_node_group_with_a_valid_checksum() {
        let (me, gw) = (addr("fe80::10"), addr("2001:2:0:1::1"));
        assert_eq!(solicited_node(gw), addr("ff02::1:ff00:1"));
        let frame = build_solicitation(ME, me, gw);
        assert_eq!(frame[..6], [0x33, 0x33, 0xff, 0, 0, 1]);
        let p = wire::decode(&frame).unwrap();
        let Net::Ip(ip) = p.net else { panic!("not IP") };
        assert_eq!((ip.src, ip.dst, ip.hop_limit), (IpAddr::V6(me), IpAddr::V6(solicited_node(gw)), 255));
        let Transport::Icmpv6(icmp) = ip.transport else { panic!("not ICMPv6") };
        assert_eq!(icmp.kind, NEIGHBOR_SOLICITATION);
        let body = Icmpv6Packet::new(&frame[54..]).unwrap();
        assert_eq!(icmpv6::checksum(&body, &me, &solicited_node(gw)), body.get_checksum());
        assert_eq!(frame[62..78], gw.octets());
        // A solicitation is not an advertisement, even from the address asked about.
        assert_eq!(parse_advertisement(&frame, me), None);
    }

    #[test]
    fn only_an_unforwarded_advertisement_from_the_address_asked_about_counts() {
        let (me, gw) = (addr("fe80::10"), addr("fe80::1"));
        assert_eq!(parse_advertisement(&advertisement(gw, me, 255), gw), Some(ROUTER));
        assert_eq!(parse_advertisement(&advertisement(gw, me, 64), gw), None, "forwarded: hop limit below 255");
        assert_eq!(parse_advertisement(&advertisement(addr("fe80::2"), me, 255), gw), None, "another host");
        let whole = advertisement(gw, me, 255);
        for cut in 0..whole.len() {
            // Truncated frames are refused, never a panic.
            let _ = parse_advertisement(&whole[..cut], gw);
        }
        assert_eq!(parse_advertisement(&whole[..60], gw), None);
    }
}
