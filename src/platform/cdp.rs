//! CDP (Cisco Discovery Protocol, versions 1 and 2) packets, decoded into the same
//! [`Neighbour`] as LLDP.
//!
//! A CDP frame is 802.3 with an LLC/SNAP header (DSAP/SSAP 0xaa, control 3, OUI 00-00-0c,
//! protocol id 0x2000) to 01:00:0c:cc:cc:cc; [`super::lldp::decode_frame`] recognises it
//! and hands the CDP packet to [`decode_cdp`]: version, hold time, checksum, then TLVs of a
//! 16-bit type and a 16-bit length that counts the 4-byte header. The TLVs read are those
//! Cisco documents for CDPv2 (device id, addresses, port id, capabilities, software
//! version, platform, native VLAN, duplex, management addresses); the checksum is not
//! verified (Cisco's own implementation has known odd-length quirks, and a wrong checksum
//! says nothing the lengths do not). Pure and fuzzed (`fuzz/fuzz_targets/cdp.rs`).

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use super::lldp::{DecodeError, Duplex, MAX_ADDRESSES, MAX_TLVS, Neighbour, Protocol, Via, text};

/// The multicast address CDP is sent to.
pub const CDP_MULTICAST: [u8; 6] = [0x01, 0x00, 0x0c, 0xcc, 0xcc, 0xcc];
/// The LLC/SNAP header in front of a CDP packet.
pub const CDP_SNAP: [u8; 8] = [0xaa, 0xaa, 0x03, 0x00, 0x00, 0x0c, 0x20, 0x00];

/// CDP capability bits, by their Cisco names.
const CDP_CAPABILITIES: [(u32, &str); 10] = [
    (0x01, "router"),
    (0x02, "bridge"),
    (0x04, "source_route_bridge"),
    (0x08, "switch"),
    (0x10, "host"),
    (0x20, "igmp"),
    (0x40, "repeater"),
    (0x80, "telephone"),
    (0x100, "remotely_managed"),
    (0x400, "two_port_mac_relay"),
];

/// Decodes a CDP packet (after the LLC/SNAP header).
pub fn decode_cdp(packet: &[u8]) -> Result<Neighbour, DecodeError> {
    let header = packet.get(0..4).ok_or(DecodeError::BadCdpHeader)?;
    if !(1..=2).contains(&header[0]) {
        return Err(DecodeError::BadCdpHeader);
    }
    let mut n = Neighbour {
        protocol: Protocol::Cdp,
        via: Via::Frame,
        ttl_secs: Some(u16::from(header[1])),
        ..Neighbour::default()
    };
    let mut at = 4usize;
    let mut count = 0usize;
    while at < packet.len() {
        let head = packet.get(at..at + 4).ok_or(DecodeError::Truncated { at })?;
        let tlv = u16::from_be_bytes([head[0], head[1]]);
        let len = usize::from(u16::from_be_bytes([head[2], head[3]]));
        if len < 4 {
            return Err(DecodeError::BadLength { tlv, len });
        }
        let value = packet.get(at + 4..at + len).ok_or(DecodeError::Truncated { at })?;
        match tlv {
            0x0001 => {
                n.chassis_id = text(value);
                n.system_name = n.chassis_id.clone();
            }
            0x0002 | 0x0016 => {
                for ip in addresses(value) {
                    if n.management_addresses.len() < MAX_ADDRESSES && !n.management_addresses.contains(&ip) {
                        n.management_addresses.push(ip);
                    }
                }
            }
            0x0003 => n.port_id = text(value),
            0x0004 => {
                if let Some(b) = value.get(0..4) {
                    let bits = u32::from_be_bytes([b[0], b[1], b[2], b[3]]);
                    n.capabilities = CDP_CAPABILITIES
                        .iter()
                        .filter(|(bit, _)| bits & bit != 0)
                        .map(|(_, name)| (*name).to_string())
                        .collect();
                }
            }
            0x0005 => n.system_description = text(value),
            0x0006 => n.platform = text(value),
            0x000a => {
                if let Some(b) = value.get(0..2) {
                    let id = u16::from_be_bytes([b[0], b[1]]);
                    n.port_vlan = (1..=4094).contains(&id).then_some(id);
                }
            }
            0x000b => {
                n.duplex = match value.first() {
                    Some(0) => Some(Duplex::Half),
                    Some(1) => Some(Duplex::Full),
                    _ => None,
                };
            }
            _ => {}
        }
        at += len;
        count += 1;
        if count > MAX_TLVS {
            return Err(DecodeError::TooManyTlvs);
        }
    }
    if n.chassis_id.is_none() {
        return Err(DecodeError::MissingMandatory);
    }
    Ok(n)
}

/// The IPv4 and IPv6 addresses of an Addresses TLV: a 32-bit count, then per address a
/// protocol type (1 NLPID, 2 802.2), protocol length, protocol, 16-bit address length and
/// address. IPv4 is NLPID 0xcc; IPv6 is 802.2 `aa aa 03 00 00 00 86 dd`.
fn addresses(value: &[u8]) -> Vec<IpAddr> {
    let mut out = Vec::new();
    let Some(b) = value.get(0..4) else { return out };
    let count = u32::from_be_bytes([b[0], b[1], b[2], b[3]]).min(MAX_ADDRESSES as u32);
    let mut at = 4usize;
    for _ in 0..count {
        let (Some(&ptype), Some(&plen)) = (value.get(at), value.get(at + 1)) else { break };
        let Some(proto) = value.get(at + 2..at + 2 + usize::from(plen)) else { break };
        at += 2 + usize::from(plen);
        let Some(l) = value.get(at..at + 2) else { break };
        let alen = usize::from(u16::from_be_bytes([l[0], l[1]]));
        let Some(addr) = value.get(at + 2..at + 2 + alen) else { break };
        at += 2 + alen;
        let ip = match (ptype, proto, addr.len()) {
            (1, [0xcc], 4) => Some(IpAddr::V4(Ipv4Addr::new(addr[0], addr[1], addr[2], addr[3]))),
            (2, [0xaa, 0xaa, 0x03, 0x00, 0x00, 0x00, 0x86, 0xdd], 16) => {
                <[u8; 16]>::try_from(addr).ok().map(|a| IpAddr::V6(Ipv6Addr::from(a)))
            }
            _ => None,
        };
        out.extend(ip);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::super::lldp::tests::frames;
    use super::super::lldp::{Heard, decode_frame};
    use super::*;

    #[test]
    fn lldpd_cdpv2_frames_decode() {
        let all = frames("cdp.pcap");
        assert!(all.len() >= 3);
        for frame in &all {
            let Some(Heard::Neighbour(n)) = decode_frame(frame) else { panic!("not decoded") };
            assert_eq!(n.protocol, Protocol::Cdp);
            assert_eq!(n.switch_name(), Some("sw-lab-1"));
            assert_eq!(n.port_name(), Some("desk-214"));
            assert_eq!(n.platform.as_deref(), Some("lab"));
            assert_eq!(n.system_description.as_deref(), Some("nettriage lab switch"));
            assert_eq!(n.management_addresses, ["198.18.0.1".parse::<IpAddr>().unwrap()]);
            assert_eq!(n.ttl_secs, Some(4));
            assert_eq!(n.capabilities, ["host"]);
        }
    }

    /// A CDPv2 packet as a Cisco switch sends it: device id, IPv4 and IPv6 addresses,
    /// port, switch capabilities, native VLAN 30, half duplex.
    fn cisco_like() -> Vec<u8> {
        let mut tlvs: Vec<u8> = Vec::new();
        let mut tlv = |t: u16, v: &[u8]| {
            tlvs.extend_from_slice(&t.to_be_bytes());
            tlvs.extend_from_slice(&((v.len() + 4) as u16).to_be_bytes());
            tlvs.extend_from_slice(v);
        };
        tlv(0x0001, b"core-sw.example");
        let mut addrs = vec![0, 0, 0, 2, 1, 1, 0xcc, 0, 4, 198, 18, 0, 2];
        addrs.extend_from_slice(&[2, 8, 0xaa, 0xaa, 0x03, 0, 0, 0, 0x86, 0xdd, 0, 16]);
        addrs.extend_from_slice(&"2001:db8::2".parse::<Ipv6Addr>().unwrap().octets());
        tlv(0x0002, &addrs);
        tlv(0x0003, b"GigabitEthernet1/0/7");
        tlv(0x0004, &[0, 0, 0, 0x28]);
        tlv(0x0006, b"cisco WS-C2960X-48FPD-L");
        tlv(0x000a, &[0, 30]);
        tlv(0x000b, &[0]);
        let mut packet = vec![2, 180, 0, 0];
        packet.extend_from_slice(&tlvs);
        packet
    }

    #[test]
    fn native_vlan_duplex_and_addresses() {
        let n = decode_cdp(&cisco_like()).unwrap();
        assert_eq!(n.port_vlan, Some(30));
        assert_eq!(n.duplex, Some(Duplex::Half));
        assert_eq!(n.ttl_secs, Some(180));
        assert_eq!(n.capabilities, ["switch", "igmp"]);
        assert_eq!(n.management_addresses.len(), 2);
        assert_eq!(n.port_name(), Some("GigabitEthernet1/0/7"));
        // Every truncation is an error (or a shorter valid packet), never a panic.
        let whole = cisco_like();
        for cut in 0..whole.len() {
            let _ = decode_cdp(&whole[..cut]);
        }
        assert_eq!(decode_cdp(&[3, 180, 0, 0]), Err(DecodeError::BadCdpHeader));
        assert!(matches!(decode_cdp(&[2, 180, 0, 0, 0, 1, 0, 2]), Err(DecodeError::BadLength { .. })));
        assert_eq!(decode_cdp(&[2, 180, 0, 0]), Err(DecodeError::MissingMandatory));
    }
}
