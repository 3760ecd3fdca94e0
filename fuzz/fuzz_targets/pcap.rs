//! Capture files from users: reading them and extracting UDP must never panic.
#![no_main]

use libfuzzer_sys::fuzz_target;
use nettriage::pcap::{read_bytes, udp_datagram};

fuzz_target!(|data: &[u8]| {
    if let Ok(frames) = read_bytes(data) {
        for frame in &frames {
            let _ = udp_datagram(&frame.data);
        }
    }
});
