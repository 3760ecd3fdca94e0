//! ARP who-has over a packet socket (pnet), to tell a gateway that is gone from one that
//! only drops ping.
//!
//! `build_request` and `parse_reply` are pure and fuzzed (`fuzz/fuzz_targets/arp.rs`);
//! `resolve` opens the socket and is blocking, so callers run it on a blocking thread.
//! Replies come from the network and are untrusted: anything that is not a well-formed
//! reply from the address we asked about is ignored.

use std::net::Ipv4Addr;
use std::time::{Duration, Instant};

use pnet::packet::arp::{ArpHardwareTypes, ArpOperations, MutableArpPacket};
use pnet::packet::ethernet::{EtherTypes, MutableEthernetPacket};
use pnet::util::MacAddr as PnetMac;

use crate::platform::packet::{self, PacketError};
use crate::types::MacAddr;
use crate::wire::{self, ArpOperation};

/// Length of an ARP request frame on Ethernet (without FCS or padding).
pub const REQUEST_LEN: usize = 42;

/// A reply: who answered and how fast.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ArpReply {
    /// The hardware address that claims the IP.
    pub mac: MacAddr,
    /// Time from the first request to the reply.
    pub rtt: Duration,
    /// How many requests were sent before the reply came.
    pub requests_sent: u32,
}

/// Builds a broadcast ARP request asking who has `target`.
pub fn build_request(src_mac: MacAddr, src_ip: Ipv4Addr, target: Ipv4Addr) -> [u8; REQUEST_LEN] {
    let mut frame = [0u8; REQUEST_LEN];
    {
        let mut eth = MutableEthernetPacket::new(&mut frame).expect("frame is large enough");
        eth.set_destination(PnetMac::broadcast());
        eth.set_source(PnetMac::from(src_mac.0));
        eth.set_ethertype(EtherTypes::Arp);
    }
    let mut arp = MutableArpPacket::new(&mut frame[14..]).expect("frame is large enough");
    arp.set_hardware_type(ArpHardwareTypes::Ethernet);
    arp.set_protocol_type(EtherTypes::Ipv4);
    arp.set_hw_addr_len(6);
    arp.set_proto_addr_len(4);
    arp.set_operation(ArpOperations::Request);
    arp.set_sender_hw_addr(PnetMac::from(src_mac.0));
    arp.set_sender_proto_addr(src_ip);
    arp.set_target_hw_addr(PnetMac::zero());
    arp.set_target_proto_addr(target);
    frame
}

/// If `frame` is an Ethernet ARP reply (at any VLAN depth) in which `asked` announces
/// itself, its MAC. The frame is decoded by [`crate::wire`], which takes ARP only for
/// Ethernet/IPv4 with 6- and 4-byte addresses; a zero sender MAC is no answer, nor is a
/// reply inside a GRE or VXLAN tunnel passing the interface (another segment's).
pub fn parse_reply(frame: &[u8], asked: Ipv4Addr) -> Option<MacAddr> {
    let packet = wire::decode(frame).ok().filter(|p| p.tunnels.is_empty())?;
    let arp = packet.arp()?;
    if arp.operation != ArpOperation::Reply || arp.sender_ip != asked {
        return None;
    }
    (!arp.sender_mac.is_zero()).then_some(arp.sender_mac)
}

/// Asks who has `target` on `interface`, sending up to three requests spread over
/// `timeout`, and returns the first valid reply from another host (`None`: nobody answered
/// in time). With `src_ip` 0.0.0.0 this is an RFC 5227 ARP probe: asking for our own
/// address finds another host using it. Blocking: run it with `spawn_blocking`.
pub fn resolve(
    interface: &str,
    src_mac: MacAddr,
    src_ip: Ipv4Addr,
    target: Ipv4Addr,
    timeout: Duration,
) -> Result<Option<ArpReply>, PacketError> {
    let (mut tx, mut rx) = packet::open(interface)?;

    let request = build_request(src_mac, src_ip, target);
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
                // Our own frames can echo back on a packet socket; only another host counts.
                if let Some(mac) = parse_reply(frame, target).filter(|m| *m != src_mac) {
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
    use crate::pcap;
    use pnet::packet::Packet;
    use pnet::packet::arp::ArpPacket;
    use pnet::packet::ethernet::EthernetPacket;

    const ME: MacAddr = MacAddr([0x02, 0, 0, 0, 0, 0x10]);

    #[test]
    fn request_round_trips_through_pnet() {
        let frame = build_request(ME, Ipv4Addr::new(198, 18, 0, 10), Ipv4Addr::new(198, 18, 0, 1));
        let eth = EthernetPacket::new(&frame).unwrap();
        assert_eq!(eth.get_destination(), PnetMac::broadcast());
        let arp = ArpPacket::new(eth.payload()).unwrap();
        assert_eq!(arp.get_operation(), ArpOperations::Request);
        assert_eq!(arp.get_target_proto_addr(), Ipv4Addr::new(198, 18, 0, 1));
        // A request is not a reply, even from the address asked about.
        assert_eq!(parse_reply(&frame, Ipv4Addr::new(198, 18, 0, 10)), None);
    }

    #[test]
    fn replays_lab_capture_of_gateway_reply() {
        let frames = pcap::read_file(concat!(env!("CARGO_MANIFEST_DIR"), "/captures/arp_gateway.pcap")).unwrap();
        let gw = Ipv4Addr::new(198, 18, 0, 1);
        let replies: Vec<MacAddr> = frames.iter().filter_map(|f| parse_reply(&f.data, gw)).collect();
        assert_eq!(replies.len(), 1, "one reply from the gateway in the capture");
        assert!(!replies[0].is_zero());
        // The same capture has no reply for another address.
        assert!(frames.iter().all(|f| parse_reply(&f.data, Ipv4Addr::new(198, 18, 0, 99)).is_none()));
        // On a trunk (802.1Q, and QinQ), the same reply is understood.
        for tags in [&[0x81u8, 0x00, 0, 10][..], &[0x88, 0xa8, 0, 100, 0x81, 0x00, 0, 10]] {
            let tagged: Vec<MacAddr> = frames
                .iter()
                .filter_map(|f| {
                    let mut t = f.data[..12].to_vec();
                    t.extend_from_slice(tags);
                    t.extend_from_slice(&f.data[12..]);
                    parse_reply(&t, gw)
                })
                .collect();
            assert_eq!(tagged, replies);
        }
    }

    #[test]
    fn malformed_frames_are_ignored() {
        let gw = Ipv4Addr::new(198, 18, 0, 1);
        let mut reply = build_request(MacAddr([2, 0, 0, 0, 0, 1]), gw, Ipv4Addr::new(198, 18, 0, 10));
        reply[21] = 2; // operation: reply
        assert_eq!(parse_reply(&reply, gw), Some(MacAddr([2, 0, 0, 0, 0, 1])));
        for len in 0..reply.len() {
            assert_eq!(parse_reply(&reply[..len], gw), None, "truncated to {len}");
        }
        let mut bad_len = reply;
        bad_len[18] = 8; // hardware address length
        assert_eq!(parse_reply(&bad_len, gw), None);
        let mut zero_mac = reply;
        zero_mac[22..28].fill(0);
        assert_eq!(parse_reply(&zero_mac, gw), None);
    }
}
