//! STUN answers from the network (the `m365` profile's Teams media probe): `decode_response`
//! must never panic, for our transaction id and any other, and whatever it returns must be
//! within its caps.
#![no_main]

use libfuzzer_sys::fuzz_target;
use nettriage::check::m365::stun::{HEADER_LEN, MAX_SOFTWARE_CHARS, TransactionId, decode_response};

fuzz_target!(|data: &[u8]| {
    // The id the fuzzer wrote into the header (so matching answers are reached), and a fixed one.
    let mut own: TransactionId = [0; 12];
    if let Some(id) = data.get(8..HEADER_LEN) {
        own.copy_from_slice(id);
    }
    for id in [own, [0x5a; 12]] {
        if let Ok(r) = decode_response(data, &id) {
            assert!(r.software.as_ref().is_none_or(|s| s.chars().count() <= MAX_SOFTWARE_CHARS));
            assert!(r.error_code.is_none_or(|c| (300..700).contains(&c)));
        }
    }
});
