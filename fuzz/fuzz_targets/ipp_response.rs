//! IPP responses from a printer (or a hostile peer): `ipp::decode` must never panic and
//! must stay within its bounds, and what the profile builds from any body
//! (`IppProbe::from_body`) must go through the judge, the details line and the targets.
//! Seeds: captures/printers/*.ipp (real ippeveprinter answers).
#![no_main]

use libfuzzer_sys::fuzz_target;
use nettriage::check::ports::PortOutcome;
use nettriage::check::printers::ipp::{MAX_ITEMS, PrinterAttributes, decode};
use nettriage::check::printers::{
    IppProbe, PrinterResult, PrintersEvidence, RAW_PORT, TcpProbe, details, judge, targets,
};
use nettriage::config::PrintersSettings;

fuzz_target!(|data: &[u8]| {
    if let Ok(response) = decode(data) {
        assert!(response.attributes.len() <= MAX_ITEMS);
        let attrs = PrinterAttributes::from_response(&response);
        assert!(attrs.state_reasons.len() <= 32);
    }
    let ipp = IppProbe::from_body("ipp://198.18.0.20:631/ipp/print".into(), Some(1.0), data);
    let printer = PrinterResult {
        target: "198.18.0.20".into(),
        host: "198.18.0.20".into(),
        address: Some([198, 18, 0, 20].into()),
        ipp: Some(ipp),
        raw: Some(TcpProbe { port: RAW_PORT, outcome: PortOutcome::Refused, ms: None }),
        ..PrinterResult::default()
    };
    let ev = PrintersEvidence { discovery: None, printers: vec![printer] };
    let _ = judge(&ev, &PrintersSettings::default());
    let _ = details(&ev);
    assert_eq!(targets(&ev).len(), 1);
});
