//! Capture files from users: reading them, extracting UDP and analysing them must never
//! panic. `analyze` drives every frame through the wire decoder and its reassembler and
//! folds the packets into the layers' evidence, so the folding is fuzzed too.
#![no_main]

use libfuzzer_sys::fuzz_target;
use nettriage::analyze::analyze;
use nettriage::pcap::{read_bytes, udp_datagram};

fuzz_target!(|data: &[u8]| {
    if let Ok(frames) = read_bytes(data) {
        for frame in &frames {
            let _ = udp_datagram(&frame.data);
        }
        let _ = analyze(&frames, "fuzz.pcap", nettriage::types::Timestamp(std::time::UNIX_EPOCH), String::new());
    }
});
