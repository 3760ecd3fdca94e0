//! lldpd's neighbour table as `lldpcli -f json show neighbors details` prints it (a local
//! program, but its text comes from the network): `parse_lldpcli_json` must never panic
//! and must keep its lists within their caps.
#![no_main]

use libfuzzer_sys::fuzz_target;
use nettriage::check::neighbours::MAX_NEIGHBOURS;
use nettriage::platform::lldp::{MAX_ADDRESSES, MAX_VLANS, parse_lldpcli_json};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    for interface in [None, Some("eth0")] {
        if let Ok(all) = parse_lldpcli_json(text, interface) {
            assert!(all.len() <= MAX_NEIGHBOURS);
            for n in &all {
                assert!(n.management_addresses.len() <= MAX_ADDRESSES && n.vlans.len() <= MAX_VLANS);
            }
        }
    }
});
