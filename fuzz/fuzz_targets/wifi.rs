//! nl80211 answers and 802.11 information elements: decoding (wl-nl80211 and our
//! conversion into plain structs), the IE parser and the judging that follows must never
//! panic, whatever the kernel or the air sends.
#![no_main]

use libfuzzer_sys::fuzz_target;
use nettriage::check::wifi::{Readings, ScanRun, judge, observe};
use nettriage::config::WifiSettings;
use nettriage::platform::wifi::{
    ScanWait, bands_from, bss_from, decode_dump, interface_from, parse_ies, security_of, station_from, survey_from,
};

fuzz_target!(|data: &[u8]| {
    // The same bytes as raw information elements.
    let ies = parse_ies(data);
    let _ = security_of(&ies, data.first().is_some_and(|b| b & 1 == 1));
    let _ = ies.width_mhz();

    // The bytes as an nl80211 dump, then everything that reads it.
    let Ok(msgs) = decode_dump(data) else { return };
    let Some(interface) = msgs.iter().find_map(|m| interface_from(&m.attributes)) else { return };
    let readings = Readings {
        interface,
        bands: bands_from(&msgs),
        stations: msgs.iter().filter_map(|m| station_from(&m.attributes)).collect(),
        surveys: msgs.iter().filter_map(|m| survey_from(&m.attributes)).collect(),
        bss_dump: msgs.iter().filter_map(|m| bss_from(&m.attributes)).collect(),
        scan: ScanRun::Ran(ScanWait { outcome: "completed".into(), waited_ms: 3000, joined_running_scan: false }),
        notes: Vec::new(),
    };
    let settings = WifiSettings::default();
    let evidence = observe(readings, settings.interference_floor_dbm);
    let _ = judge(&evidence, &settings);
    // Writing the evidence into a report and reading it back must not panic.
    let written = nettriage::report::Evidence::Wifi(Box::new(evidence));
    let _ = nettriage::report::Evidence::from_json(nettriage::report::CheckId::Wifi, written.to_json());
});
