//! DNS responses from the network: parsing and classifying must never panic.
#![no_main]

use libfuzzer_sys::fuzz_target;
use nettriage::check::dns::{classify, parse_response};

fuzz_target!(|data: &[u8]| {
    let id = data.get(..2).map_or(0, |b| u16::from_be_bytes([b[0], b[1]]));
    if let Some(msg) = parse_response(data, id) {
        for query in &msg.queries {
            let _ = classify(&msg, query.query_type());
        }
    }
});
