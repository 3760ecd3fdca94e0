//! DHCP replies from the network: an Ethernet frame in, `parse_reply` must never panic.
//! The transaction id and chaddr are taken from the frame itself so the fuzzer reaches the
//! option decoding instead of stopping at the xid check.
#![no_main]

use libfuzzer_sys::fuzz_target;
use nettriage::platform::dhcp::{MAX_DNS, MAX_ROUTERS, MAX_TEXT_CHARS, parse_reply};
use nettriage::types::MacAddr;

// Ethernet (14) + IPv4 without options (20) + UDP (8) = 42: the BOOTP header starts here.
const BOOTP: usize = 42;

fuzz_target!(|frame: &[u8]| {
    let xid = frame.get(BOOTP + 4..BOOTP + 8).map_or(0, |b| u32::from_be_bytes([b[0], b[1], b[2], b[3]]));
    let chaddr = frame.get(BOOTP + 28..BOOTP + 34).and_then(MacAddr::from_slice).unwrap_or(MacAddr([0; 6]));
    if let Some(reply) = parse_reply(frame, xid, chaddr) {
        assert!(reply.routers.len() <= MAX_ROUTERS && reply.dns.len() <= MAX_DNS);
        // Option 252 (WPAD): bounded, no control characters.
        if let Some(w) = &reply.wpad {
            assert!(w.chars().count() <= MAX_TEXT_CHARS && !w.chars().any(char::is_control));
        }
    }
});
