//! Neighbor Advertisements from the network: `parse_advertisement` must never panic, and
//! never return the all-zero MAC.
#![no_main]

use std::net::Ipv6Addr;

use libfuzzer_sys::fuzz_target;
use nettriage::platform::neighbor_solicit::parse_advertisement;

fuzz_target!(|frame: &[u8]| {
    // Ask about the IPv6 source address of an untagged frame, so valid answers are reachable.
    let asked = frame
        .get(22..38)
        .and_then(|b| <[u8; 16]>::try_from(b).ok())
        .map_or(Ipv6Addr::UNSPECIFIED, Ipv6Addr::from);
    if let Some(mac) = parse_advertisement(frame, asked) {
        assert!(!mac.is_zero());
    }
});
