//! Kerberos replies from a KDC (UDP 88, and TCP 88 after the 4-octet length):
//! `decode_reply` and `tcp_len` must never panic, and a KRB-ERROR's clock must go through
//! the `ad` profile's clock judgement.
#![no_main]

use libfuzzer_sys::fuzz_target;
use nettriage::check::ad::kerberos::{KdcReply, MAX_REPLY, decode_reply, tcp_len};
use nettriage::check::ad::{AdEvidence, ClockReading, DcProbe, judge};
use nettriage::config::AdSettings;

fuzz_target!(|data: &[u8]| {
    let mut replies = vec![decode_reply(data)];
    if let Some(prefix) = data.get(..4)
        && let Ok(len) = tcp_len(prefix.try_into().unwrap_or_default())
    {
        assert!(len <= MAX_REPLY);
        if let Some(body) = data.get(4..4 + len) {
            replies.push(decode_reply(body));
        }
    }
    for reply in replies.into_iter().flatten() {
        if let KdcReply::Error { stime_unix_ms: Some(ms), realm, .. } = reply {
            assert!(realm.chars().count() <= 256);
            let dc = DcProbe {
                name: "dc1".into(),
                clock: vec![ClockReading { dc: "dc1".into(), offset_ms: ms as f64, ..ClockReading::default() }],
                ..DcProbe::default()
            };
            let ev = AdEvidence { domain: "corp.lab".into(), clock: dc.clock.first().cloned(), dcs: vec![dc], ..AdEvidence::default() };
            let _ = judge(&ev, &AdSettings::default());
        }
    }
});
