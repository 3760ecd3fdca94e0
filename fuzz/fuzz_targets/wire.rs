//! Frames from the network or a capture: `wire::decode` and `wire::decode_link` (every
//! link type) must never panic (GRE and VXLAN tunnels included, unwrapped at most
//! `MAX_TUNNEL_DEPTH` deep), and a
//! `Reassembler` fed any sequence of frames stays within its limits.
#![no_main]

use std::time::Duration;

use libfuzzer_sys::fuzz_target;
use nettriage::wire::{self, Reassembler, ReassemblyLimits};

fuzz_target!(|data: &[u8]| {
    if let Ok(packet) = wire::decode(data) {
        assert!(packet.tunnels.len() <= wire::MAX_TUNNEL_DEPTH);
    }
    // Every capture link type's header reader in front of the same decoder.
    for link in wire::LinkType::ALL {
        if let Ok(packet) = wire::decode_link(link, data) {
            assert!(packet.tunnels.len() <= wire::MAX_TUNNEL_DEPTH);
        }
        // As a record a snap length cut: headers read as far as they go.
        if let Ok(packet) = wire::decode_captured(link, data, true) {
            assert!(packet.tunnels.len() <= wire::MAX_TUNNEL_DEPTH);
        }
    }
    // The same bytes as a sequence of frames: a length byte, then the frame, with the
    // capture time advancing a second per frame so the timeout is exercised too.
    let limits = ReassemblyLimits { max_in_flight: 4, max_datagram_bytes: 4096, timeout: Duration::from_secs(3) };
    let mut reassembler = Reassembler::new(limits);
    let mut rest = data;
    let mut at = Duration::ZERO;
    while let Some((&len, tail)) = rest.split_first() {
        let (frame, tail) = tail.split_at(usize::from(len).min(tail.len()));
        // An odd length byte marks the frame as cut by a snap length.
        if let Ok(Some(packet)) = reassembler.feed_captured(wire::LinkType::Ethernet, frame, len % 2 == 1, at) {
            assert!(packet.tunnels.len() <= wire::MAX_TUNNEL_DEPTH);
            let _ = packet.udp_datagram();
        }
        assert!(reassembler.in_flight() <= limits.max_in_flight);
        rest = tail;
        at += Duration::from_secs(1);
    }
});
