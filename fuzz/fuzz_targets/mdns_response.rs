//! mDNS (DNS-SD) answers from the segment: `Browse::add` must take any datagram without a
//! panic, keep at most `MAX_INSTANCES` services, and what it found must go through the
//! follow-up query and the printers' plan.
#![no_main]

use libfuzzer_sys::fuzz_target;
use nettriage::check::printers::mdns::{Browse, MAX_INSTANCES, resolve_query};
use nettriage::check::printers::plan;

fuzz_target!(|data: &[u8]| {
    let mut browse = Browse::default();
    browse.add(data);
    // The same datagram twice, as a responder repeating itself: no growth past the cap.
    browse.add(data);
    let services = browse.services();
    assert!(services.len() <= MAX_INSTANCES);
    if let Some(q) = resolve_query(1, &browse) {
        let _ = q.to_vec();
    }
    let _ = plan(&[], &[], &services);
});
