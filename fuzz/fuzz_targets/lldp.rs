//! LLDP (and CDP) frames from the network: `decode_frame` must never panic, must keep every
//! list within its cap, and the neighbours check's merge, judge and line must take
//! whatever it returns.
#![no_main]

use libfuzzer_sys::fuzz_target;
use nettriage::check::neighbours::{MAX_NEIGHBOURS, NeighboursEvidence, judge, line, merge, notices};
use nettriage::config::NeighboursSettings;
use nettriage::platform::lldp::{
    Duplex, Heard, MAX_ADDRESSES, MAX_POLICIES, MAX_TEXT, MAX_VLANS, decode_frame, decode_lldpdu,
};

fuzz_target!(|data: &[u8]| {
    let mut ev = NeighboursEvidence {
        interface: "eth0".into(),
        local_speed_mbps: Some(1000),
        local_duplex: Some(Duplex::Full),
        ..NeighboursEvidence::default()
    };
    // The bytes as a whole frame, and as an LLDPDU after an LLDP header.
    let mut framed = vec![0x01, 0x80, 0xc2, 0, 0, 0x0e, 2, 0, 0, 0, 0, 1, 0x88, 0xcc];
    framed.extend_from_slice(data);
    for frame in [data, framed.as_slice()] {
        match decode_frame(frame) {
            Some(Heard::Neighbour(n)) => {
                assert!(n.management_addresses.len() <= MAX_ADDRESSES);
                assert!(n.vlans.len() <= MAX_VLANS);
                assert!(n.med.as_ref().is_none_or(|m| m.policies.len() <= MAX_POLICIES));
                for text in [&n.system_name, &n.system_description, &n.port_id, &n.port_description].into_iter().flatten() {
                    assert!(text.chars().count() <= MAX_TEXT);
                }
                merge(&mut ev.neighbours, *n);
            }
            Some(Heard::Malformed(..)) => ev.malformed_frames += 1,
            None => {}
        }
    }
    let _ = decode_lldpdu(data);
    assert!(ev.neighbours.len() <= MAX_NEIGHBOURS);
    ev.notices = notices(&ev);
    let _ = judge(&ev, &NeighboursSettings { expected_vlan: Some(10), ..NeighboursSettings::default() });
    if let Some(l) = line(&ev) {
        let _ = l.sentence();
    }
});
