//! The analyze benchmark's capture generator (examples/bench_captures, used by
//! tests/bench_analyze.sh), checked in process at a small size: what it says it wrote is
//! what `nettriage analyze` reads back. The generated DNS capture crosses
//! `analyze::MAX_TRACKED`, so the counters beyond the tracking bound are checked too; the
//! replicated lab capture must give the original's verdict. Offline: no network, no binary.

#![cfg(feature = "live")]

#[path = "../examples/bench_captures/generate.rs"]
#[allow(dead_code)] // the example uses all of it; this test only some
mod generate;

use std::collections::BTreeMap;
use std::net::IpAddr;

use nettriage::analyze::MAX_TRACKED;
use nettriage::app::analyze_reader;
use nettriage::report::{CheckId, CheckStatus, Report};

/// (server, queries seen, answered) per server, as analyze's DNS evidence counts them.
fn dns_counts(report: &Report) -> BTreeMap<IpAddr, (usize, usize)> {
    let dns = report.dns_evidence().expect("dns evidence");
    dns.servers
        .iter()
        .map(|s| {
            let c = s.capture.as_ref().expect("capture counters");
            (s.server, (c.queries_total, c.answered))
        })
        .collect()
}

#[test]
fn generated_dns_capture_reads_back_with_every_exchange() {
    let exchanges = MAX_TRACKED as u64 + 1_500;
    let mut file = Vec::new();
    let wrote = generate::dns_capture(exchanges, 7, &mut file).unwrap();
    assert_eq!(wrote.exchanges, exchanges);
    assert_eq!(wrote.bytes, file.len() as u64);
    // Some of every kind the generator promises.
    let answered: u64 = wrote.per_server.iter().map(|(_, _, a)| a).sum();
    assert!(answered < exchanges && wrote.nxdomain > 0);

    let report = analyze_reader(file.as_slice(), "generated.pcap", false).unwrap();
    assert_eq!(report.capture.as_ref().unwrap().packets, wrote.packets);
    let expected: BTreeMap<IpAddr, (usize, usize)> = wrote
        .per_server
        .iter()
        .map(|(ip, queries, answered)| (IpAddr::V4(*ip), (*queries as usize, *answered as usize)))
        .collect();
    assert_eq!(dns_counts(&report), expected);
}

#[test]
fn replicated_lab_capture_keeps_its_exchanges_and_verdict() {
    let original_bytes = std::fs::read(concat!(env!("CARGO_MANIFEST_DIR"), "/captures/lab_healthy.pcap")).unwrap();
    let original = analyze_reader(original_bytes.as_slice(), "lab_healthy.pcap", false).unwrap();
    let original_packets = original.capture.as_ref().unwrap().packets;

    let mut file = Vec::new();
    let wrote =
        generate::replicate(&mut original_bytes.as_slice(), 20 * original_bytes.len() as u64, &mut file).unwrap();
    assert!(wrote.copies >= 20);
    assert_eq!(wrote.packets, wrote.copies * original_packets);
    let report = analyze_reader(file.as_slice(), "replica.pcap", false).unwrap();
    let capture = report.capture.as_ref().unwrap();
    assert_eq!(capture.packets, wrote.packets);
    // Time keeps increasing: the replica spans the copies end to end.
    assert!(capture.last_packet.unwrap().0 > original.capture.as_ref().unwrap().last_packet.unwrap().0);

    // Every DNS query of every copy is its own exchange, each answered.
    let copies = wrote.copies as usize;
    let expected: BTreeMap<IpAddr, (usize, usize)> =
        dns_counts(&original).into_iter().map(|(ip, (q, a))| (ip, (q * copies, a * copies))).collect();
    assert_eq!(dns_counts(&report), expected);
    // Each copy's pings are matched to their replies (the identifiers vary per copy).
    let pings = |r: &Report| {
        let gw = r.check(CheckId::Gateway).and_then(|c| c.gateway()).expect("gateway evidence");
        gw.gateways.iter().filter_map(|g| g.ping.as_ref()).map(|p| (p.sent, p.received)).collect::<Vec<_>>()
    };
    let one = pings(&original);
    assert!(!one.is_empty());
    assert_eq!(
        pings(&report),
        one.iter().map(|(s, r)| (s * wrote.copies as u32, r * wrote.copies as u32)).collect::<Vec<_>>()
    );
    // The same verdict as the original: status, root cause and every check's codes.
    assert_eq!(report.diagnosis.status, original.diagnosis.status);
    let codes = |r: &Report| -> Vec<(CheckId, CheckStatus, Vec<_>)> {
        r.checks.iter().map(|c| (c.id, c.status, c.findings.iter().map(|f| f.code).collect())).collect()
    };
    assert_eq!(codes(&report), codes(&original));
}
