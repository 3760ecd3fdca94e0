//! CDP packets from the network: `decode_cdp` (the packet after the LLC/SNAP header) and
//! `decode_frame` (the same bytes behind a CDP frame's header) must never panic and must
//! keep every list within its cap.
#![no_main]

use libfuzzer_sys::fuzz_target;
use nettriage::check::neighbours::{NeighboursEvidence, judge};
use nettriage::config::NeighboursSettings;
use nettriage::platform::cdp::{CDP_MULTICAST, CDP_SNAP, decode_cdp};
use nettriage::platform::lldp::{Heard, MAX_ADDRESSES, decode_frame};

fuzz_target!(|data: &[u8]| {
    if let Ok(n) = decode_cdp(data) {
        assert!(n.management_addresses.len() <= MAX_ADDRESSES);
        let ev = NeighboursEvidence { neighbours: vec![n], ..NeighboursEvidence::default() };
        let _ = judge(&ev, &NeighboursSettings { expected_vlan: Some(1), ..NeighboursSettings::default() });
    }
    let mut frame = CDP_MULTICAST.to_vec();
    frame.extend_from_slice(&[2, 0, 0, 0, 0, 1]);
    let len = u16::try_from((data.len() + CDP_SNAP.len()).min(1500)).unwrap_or(1500);
    frame.extend_from_slice(&len.to_be_bytes());
    frame.extend_from_slice(&CDP_SNAP);
    frame.extend_from_slice(data);
    if let Some(Heard::Neighbour(n)) = decode_frame(&frame) {
        assert!(n.management_addresses.len() <= MAX_ADDRESSES);
    }
});
