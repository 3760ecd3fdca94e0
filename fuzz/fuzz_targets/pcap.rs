//! Capture files from users: reading them (pcap and pcapng, any link type), extracting UDP
//! and analysing them must never panic. `analyze` drives every record through the wire
//! decoder for its link type and the reassembler, and folds the packets into the layers'
//! evidence, so the folding is fuzzed too. Inputs that start with the pcapng magic
//! exercise the pcapng block reader; the others the classic pcap reader.
#![no_main]

use libfuzzer_sys::fuzz_target;
use nettriage::analyze::{Analysis, analyze};
use nettriage::pcap::{read_bytes, read_records, udp_datagram};
use nettriage::types::Timestamp;

fuzz_target!(|data: &[u8]| {
    if let Ok(frames) = read_bytes(data) {
        for frame in &frames {
            let _ = udp_datagram(&frame.data);
        }
        let _ = analyze(&frames, "fuzz.pcap", Timestamp(std::time::UNIX_EPOCH), String::new());
    }
    // The streaming path `nettriage analyze` takes, every link type included.
    let mut analysis = Analysis::new();
    if read_records(data, |r| analysis.feed_captured(r.link, r.data, r.is_truncated(), r.timestamp)).is_ok() {
        let _ = analysis.finish("fuzz.pcapng", Timestamp(std::time::UNIX_EPOCH), String::new());
    }
});
