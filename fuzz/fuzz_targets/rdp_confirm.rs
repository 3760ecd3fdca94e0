//! RDP X.224 Connection Confirms from the network (`parse_confirm`, MS-RDPBCGR 2.2.1.2):
//! must never panic, must agree with the TPKT length the reader uses, and whatever it
//! accepts must fold into evidence that the judge, the details line and the metrics
//! targets handle.
#![no_main]

use libfuzzer_sys::fuzz_target;
use nettriage::check::ports::PortOutcome;
use nettriage::check::rdp::{
    MAX_CONFIRM, Negotiation, REQUESTED, RdpEvidence, RdpHost, details, judge, parse_confirm, targets, tpkt_length,
};
use nettriage::config::RdpSettings;

fuzz_target!(|data: &[u8]| {
    let parsed = parse_confirm(data);
    if parsed.is_ok() {
        let len = tpkt_length(data).expect("an accepted confirm has a TPKT header");
        assert!(len <= MAX_CONFIRM && len <= data.len());
    }
    let negotiation = Negotiation::from_answer(REQUESTED, parsed, data);
    let host = RdpHost {
        target: "ts1:3389".into(),
        tcp: Some(PortOutcome::Open),
        negotiation: Some(negotiation),
        ..RdpHost::default()
    };
    let ev = RdpEvidence { hosts: vec![host] };
    for require_nla in [false, true] {
        let _ = judge(&ev, &RdpSettings { require_nla, ..RdpSettings::default() });
    }
    let _ = details(&ev);
    assert_eq!(targets(&ev).len(), 1);
});
