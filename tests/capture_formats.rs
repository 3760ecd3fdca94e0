//! `nettriage analyze` on real captures of one lab exchange in every format and link type
//! it reads (captures/formats/, recorded by captures/record_formats.sh; README.md there):
//! each gives the findings of the Ethernet original, and the report's `capture` says what
//! was read. Damaged copies (cut inside the last record, snap length 96) are read as far as
//! they go. Offline, in-process: no network is touched and the binary is not run.

#![cfg(feature = "live")]

use std::collections::BTreeSet;
use std::io::Read;
use std::path::PathBuf;

use nettriage::app::{analyze_file, analyze_reader};
use nettriage::codes::Code;
use nettriage::report::{CheckId, CheckStatus, Report, RunStatus};

fn path(name: &str) -> PathBuf {
    PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/captures/formats")).join(name)
}

fn report(name: &str) -> Report {
    analyze_file(&path(name), false).unwrap_or_else(|e| panic!("{name}: {e}"))
}

/// What is compared between formats: the run status, the root cause's code, each check's
/// status and its finding codes.
type Verdict = (RunStatus, Option<Code>, Vec<(CheckId, CheckStatus, BTreeSet<Code>)>);

fn verdict(r: &Report) -> Verdict {
    (
        r.diagnosis.status,
        r.diagnosis.root_cause.as_ref().map(|c| c.code),
        r.checks.iter().map(|c| (c.id, c.status, c.findings.iter().map(|f| f.code).collect())).collect(),
    )
}

/// The codes of the capture's informational notes.
fn note_codes(r: &Report) -> Vec<Code> {
    r.capture.as_ref().unwrap().notes.iter().map(|n| n.code).collect()
}

fn link_types(r: &Report) -> Vec<&str> {
    r.capture.as_ref().unwrap().link_types.iter().map(String::as_str).collect()
}

#[test]
fn the_ethernet_original_shows_the_recorded_faults() {
    let r = report("ethernet.pcap");
    let capture = r.capture.as_ref().unwrap();
    assert_eq!(capture.format.as_deref(), Some("pcap"));
    assert_eq!(link_types(&r), ["ETHERNET"]);
    assert_eq!(capture.packets, 18);
    assert_eq!(capture.cut, None);
    assert_eq!(capture.truncated_records, Some(0));
    assert!(capture.notes.is_empty(), "{:?}", capture.notes);
    assert!(capture.first_packet.unwrap() < capture.last_packet.unwrap());
    assert_eq!(r.host.hostname, nettriage::analyze::CAPTURED_HOST);
    let codes: BTreeSet<Code> = r.diagnosis.findings.iter().map(|f| f.code).collect();
    // The silent DNS address and the refused port.
    assert!(codes.contains(&Code::DnsPartial) || codes.contains(&Code::DnsTimeout), "{codes:?}");
    assert!(codes.contains(&Code::PortsRefused), "{codes:?}");
    assert_eq!(r.check(CheckId::Gateway).unwrap().status, CheckStatus::Pass);
}

#[test]
fn every_format_and_link_type_gives_the_findings_of_the_ethernet_original() {
    let original = verdict(&report("ethernet.pcap"));
    for (name, format, link) in [
        ("ethernet_nano.pcap", "pcap", "ETHERNET"),
        ("ethernet.pcapng", "pcapng", "ETHERNET"),
        ("any_sll.pcap", "pcap", "LINUX_SLL"),
        ("any_sll2.pcap", "pcap", "LINUX_SLL2"),
    ] {
        let r = report(name);
        assert_eq!(verdict(&r), original, "{name}");
        let capture = r.capture.as_ref().unwrap();
        assert_eq!(capture.format.as_deref(), Some(format), "{name}");
        assert_eq!(link_types(&r), [link], "{name}");
        assert!(capture.packets >= 18, "{name}: {}", capture.packets);
    }
}

#[test]
fn nanosecond_timestamps_keep_their_precision() {
    let micro = report("ethernet.pcap").capture.unwrap().first_packet.unwrap().0;
    let nano = report("ethernet_nano.pcap").capture.unwrap().first_packet.unwrap().0;
    let gap = nano.duration_since(micro).unwrap_or_else(|e| e.duration());
    assert!(gap < std::time::Duration::from_micros(1), "{gap:?}");
}

#[test]
fn a_raw_ip_capture_of_the_tunnel_shows_the_same_faults() {
    let r = report("tunnel_raw.pcap");
    assert_eq!(link_types(&r), ["RAW"]);
    let original = verdict(&report("ethernet.pcap"));
    let raw = verdict(&r);
    // No ARP on a tun link; DNS and ports are the same exchanges.
    for id in [CheckId::Dns, CheckId::Ports] {
        let pick = |v: &Verdict| v.2.iter().find(|c| c.0 == id).cloned();
        assert_eq!(pick(&raw), pick(&original), "{id:?}");
    }
    assert_eq!(r.check(CheckId::Gateway).unwrap().status, CheckStatus::Pass);
}

#[test]
fn a_file_cut_inside_its_last_record_is_read_up_to_the_cut() {
    let whole = report("ethernet.pcap");
    for (name, whole_packets) in [("ethernet_cut.pcap", 18), ("ethernet_cut.pcapng", 18)] {
        let r = report(name);
        let capture = r.capture.as_ref().unwrap();
        assert!(capture.cut.is_some(), "{name}");
        assert_eq!(note_codes(&r), [Code::CaptureCut], "{name}");
        assert!(capture.packets >= whole_packets - 1 && capture.packets <= whole_packets, "{name}");
        // The DNS exchanges are before the cut.
        let dns = |r: &Report| verdict(r).2.into_iter().find(|c| c.0 == CheckId::Dns);
        assert_eq!(dns(&r), dns(&whole), "{name}");
    }
}

#[test]
fn a_snap_length_shorter_than_the_packets_is_counted_not_refused() {
    let r = report("ethernet_snap96.pcap");
    let capture = r.capture.as_ref().unwrap();
    assert_eq!(capture.packets, 18);
    // The six 98-byte echoes and the 99-byte DNS answer; queries, ARP and TCP are shorter.
    assert_eq!(capture.truncated_records, Some(7));
    assert_eq!(note_codes(&r), [Code::CaptureTruncated]);
    // The cut echoes and answer are judged by their whole headers: the same findings.
    let original = report("ethernet.pcap");
    assert_eq!(verdict(&r), verdict(&original));
    let pings = |r: &Report| -> Vec<(u32, u32)> {
        let gateways = &r.gateway_evidence().unwrap().gateways;
        gateways.iter().filter_map(|g| g.ping.as_ref()).map(|p| (p.sent, p.received)).collect()
    };
    assert_eq!(pings(&r), pings(&original));
    assert!(!pings(&r).is_empty());
    let dns = r.dns_evidence().unwrap();
    let cut: Vec<_> =
        dns.servers.iter().flat_map(|s| &s.queries).filter(|q| q.seen.as_ref().unwrap().answer_cut).collect();
    assert_eq!(cut.len(), 1, "the 99-byte answer");
    assert_eq!(cut[0].outcome, nettriage::check::dns::QueryOutcome::Answer);
}

#[test]
fn the_report_names_the_vlans_and_tunnels_it_saw() {
    let tunnels = PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/captures/tunnels"));
    let capture = |name: &str| analyze_file(&tunnels.join(name), false).unwrap().capture.unwrap();
    let trunk = capture("trunk_vlans.pcap");
    assert_eq!((trunk.vlans.as_slice(), trunk.tunnels.len()), (&[10, 20][..], 0));
    let vxlan = capture("tunnel_vxlan.pcap");
    let seen: Vec<(&str, Option<u32>)> = vxlan.tunnels.iter().map(|t| (t.kind.as_str(), t.id)).collect();
    assert_eq!(seen, [("vxlan", Some(100))]);
    assert!(vxlan.tunnels[0].packets >= 6);
    let gre = capture("tunnel_gre_ip.pcap");
    assert_eq!(gre.tunnels.iter().map(|t| (t.kind.as_str(), t.id)).collect::<Vec<_>>(), [("gre", None)]);
    // A plain capture has neither.
    let plain = report("ethernet.pcap").capture.unwrap();
    assert!(plain.vlans.is_empty() && plain.tunnels.is_empty());
}

/// A pipe hands over a few bytes at a time (`tcpdump -w - | nettriage analyze -`).
struct Trickle<'a>(&'a [u8]);

impl Read for Trickle<'_> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = buf.len().min(self.0.len()).min(7);
        buf[..n].copy_from_slice(&self.0[..n]);
        self.0 = &self.0[n..];
        Ok(n)
    }
}

/// What `analyze -` does with standard input, on a stream that trickles in (the binary's
/// `-` itself is run in the lab test `analyze_reads_tcpdump_any_and_pcapng_recordings`).
#[test]
fn a_stream_that_trickles_in_is_read_like_the_file() {
    for name in ["ethernet.pcapng", "any_sll2.pcap"] {
        let bytes = std::fs::read(path(name)).unwrap();
        let streamed = analyze_reader(Trickle(&bytes), "-", false).unwrap();
        let from_file = report(name);
        assert_eq!(streamed.capture.as_ref().unwrap().path, "-");
        assert_eq!(verdict(&streamed), verdict(&from_file), "{name}");
        let (a, b) = (streamed.capture.unwrap(), from_file.capture.unwrap());
        assert_eq!((a.packets, a.format, a.link_types), (b.packets, b.format, b.link_types), "{name}");
    }
}

#[test]
fn an_unsupported_link_type_is_named() {
    let mut bytes = std::fs::read(path("ethernet.pcap")).unwrap();
    bytes[20..24].copy_from_slice(&147u32.to_le_bytes());
    let err = nettriage::pcap::read_records(&bytes[..], |_| {}).unwrap_err();
    assert!(matches!(err, nettriage::pcap::PcapError::LinkType { number: 147 }));
}
