//! Lease files: every parser must be total on any input.
#![no_main]

use libfuzzer_sys::fuzz_target;
use nettriage::platform::lease::{
    parse_dhclient, parse_dhcpcd, parse_networkd, parse_networkd_json, parse_nm_device_state,
};

fuzz_target!(|data: &[u8]| {
    let _ = parse_dhcpcd(data);
    let text = String::from_utf8_lossy(data);
    let _ = parse_networkd(&text);
    let _ = parse_networkd_json(&text);
    let _ = parse_nm_device_state(&text);
    let _ = parse_dhclient(&text, "eth0");
});
