//! What a raw ICMP or ICMPv6 socket receives, as the path check reads it: the first byte
//! chooses the family (even: an IPv4 packet for `parse_v4`; odd: an ICMPv6 message for
//! `parse_v6`). They must never panic, and an IPv4 next-hop MTU fits its 16-bit field.
#![no_main]

use std::net::Ipv6Addr;

use libfuzzer_sys::fuzz_target;
use nettriage::platform::icmp::{IcmpEvent, parse_v4, parse_v6};

fuzz_target!(|data: &[u8]| {
    let Some((&family, bytes)) = data.split_first() else { return };
    if family % 2 == 0 {
        if let Some(IcmpEvent::TooBig { mtu, size, .. }) = parse_v4(bytes) {
            assert!(mtu <= u32::from(u16::MAX) && size <= u32::from(u16::MAX));
        }
    } else {
        let _ = parse_v6(bytes, Ipv6Addr::LOCALHOST);
    }
});
