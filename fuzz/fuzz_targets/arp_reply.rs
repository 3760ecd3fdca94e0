//! ARP replies from the network: `parse_reply` must never panic, and never return the
//! all-zero MAC.
#![no_main]

use std::net::Ipv4Addr;

use libfuzzer_sys::fuzz_target;
use nettriage::platform::arp::parse_reply;

fuzz_target!(|frame: &[u8]| {
    // Ask about the sender address in the frame, so valid replies are reachable.
    let asked = frame.get(28..32).map_or(Ipv4Addr::UNSPECIFIED, |b| Ipv4Addr::new(b[0], b[1], b[2], b[3]));
    if let Some(mac) = parse_reply(frame, asked) {
        assert!(!mac.is_zero());
    }
});
