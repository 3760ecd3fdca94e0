//! LDAP replies from a domain controller (TCP 389), as one stream: `frame_len` and
//! `decode_message` must never panic, frames stay within `MAX_MESSAGE`, and whatever entry
//! comes out must go through the `ad` profile's judge and details line.
#![no_main]

use libfuzzer_sys::fuzz_target;
use nettriage::check::ad::ldap::{LdapMessage, MAX_MESSAGE, decode_message, frame_len};
use nettriage::check::ad::{AdEvidence, DcProbe, LdapProbe, ProbeState, asn1, details, judge, targets};
use nettriage::config::AdSettings;

fuzz_target!(|data: &[u8]| {
    let mut buf = data;
    let mut dc = DcProbe { name: "dc1.corp.lab".into(), ..DcProbe::default() };
    while let Ok(Some(len)) = frame_len(buf) {
        assert!(len <= MAX_MESSAGE);
        if len > buf.len() {
            break;
        }
        if let Ok((_, LdapMessage::Entry(dse))) = decode_message(&buf[..len]) {
            for text in [&dse.dns_host_name, &dse.default_naming_context, &dse.current_time].into_iter().flatten() {
                assert!(text.chars().count() <= 256);
                let _ = asn1::generalized_time_ms(text);
            }
            dc.ldap = LdapProbe { state: ProbeState::Ok, rootdse: Some(dse), ..LdapProbe::default() };
        }
        buf = &buf[len..];
    }
    let _ = decode_message(data);
    let ev = AdEvidence { domain: "corp.lab".into(), dcs: vec![dc], ..AdEvidence::default() };
    let _ = judge(&ev, &AdSettings::default());
    let _ = details(&ev);
    let _ = targets(&ev);
});
