//! The captures of the analyze benchmark (tests/bench_analyze.sh), written as classic pcap
//! (microseconds, little-endian, Ethernet):
//!
//! - [`dns_capture`]: a synthetic capture of DNS exchanges between clients and a few
//!   resolvers, all in 198.18.0.0/15. The messages are built by hickory-proto and the
//!   frames by etherparse (both dependencies of nettriage), so they are what a resolver
//!   really sends: EDNS in both directions, A answers (some behind a CNAME), AAAA with no
//!   data and the zone's SOA, NXDOMAIN with the SOA, and some queries never answered; random
//!   ids and client ports, answers after a realistic delay (so exchanges interleave).
//! - [`replicate`]: a real capture repeated until it reaches a size, each copy shifted in
//!   time after the previous one, with its DNS ids, ICMP echo identifiers and client ports
//!   varied (checksums updated), so the copies are different exchanges.
//!
//! Rust rather than a Python script: the same crates as nettriage build the messages, a
//! gigabyte is written in seconds, and `tests/bench_captures.rs` runs the generator in
//! process (this file is its module) to check what `analyze` reads from it. The generator
//! does not use nettriage's own decoder, so the test is not the code checking itself.
//! A deterministic generator (splitmix64 from a seed): the same arguments give the same file.

use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::io::{self, Read, Write};
use std::net::Ipv4Addr;

use etherparse::PacketBuilder;
use hickory_proto::op::{Edns, Message, MessageType, OpCode, Query, ResponseCode};
use hickory_proto::rr::rdata::{A, CNAME, SOA};
use hickory_proto::rr::{Name, RData, Record, RecordType};

/// The start of the generated capture: 2026-11-30 00:00:00 UTC.
pub const START_UNIX_S: u64 = 1_795_996_800;

/// The resolvers of the generated capture, and how often each is asked (per mille). The
/// last one is a flaky secondary: it leaves [`FLAKY_UNANSWERED_PER_MILLE`] unanswered.
pub const SERVERS: [(Ipv4Addr, u32); 3] =
    [(Ipv4Addr::new(198, 18, 0, 1), 700), (Ipv4Addr::new(198, 18, 0, 2), 250), (Ipv4Addr::new(198, 19, 255, 53), 50)];
/// Unanswered queries per mille at the first two servers.
pub const UNANSWERED_PER_MILLE: u32 = 5;
/// Unanswered queries per mille at the third server.
pub const FLAKY_UNANSWERED_PER_MILLE: u32 = 40;
/// Clients in the generated capture: 198.18.16.1 and up.
pub const CLIENTS: u32 = 250;

/// What [`dns_capture`] wrote, counted by the generator itself.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DnsSummary {
    /// Exchanges (queries) written.
    pub exchanges: u64,
    /// Packets written (queries and responses).
    pub packets: u64,
    /// Per server of [`SERVERS`]: (queries, answered).
    pub per_server: Vec<(Ipv4Addr, u64, u64)>,
    /// Responses that were NXDOMAIN.
    pub nxdomain: u64,
    /// Bytes written, the file header included.
    pub bytes: u64,
}

/// What [`replicate`] wrote.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ReplicaSummary {
    /// Copies of the input written.
    pub copies: u64,
    /// Packets written.
    pub packets: u64,
    /// Bytes written, the file header included.
    pub bytes: u64,
}

/// splitmix64: small, fast and good enough to pick names and delays.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// Uniform in `0..n` (n > 0).
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

/// Names that resolve: (name, CNAME target or none, how many addresses).
const NAMES: [(&str, Option<&str>, u8); 12] = [
    ("www.example.com.", None, 1),
    ("mail.example.org.", None, 1),
    ("api.example.net.", None, 2),
    ("cdn.example.com.", Some("edge-7.cdn.example.net."), 3),
    ("login.example.org.", None, 1),
    ("time.example.net.", None, 2),
    ("static.example.com.", Some("edge-2.cdn.example.net."), 2),
    ("intranet.corp.example.", None, 1),
    ("printer3.corp.example.", None, 1),
    ("update.example.net.", Some("mirror.example.org."), 2),
    ("chat.example.com.", None, 1),
    ("files.corp.example.", None, 1),
];
/// Names that do not exist (typos, search-list expansions, WPAD); a random label is added
/// to some, as a browser's probe would.
const MISSING: [&str; 4] =
    ["wpad.corp.example.", "www.exmaple.com.", "mail.example.org.corp.example.", "isatap.corp.example."];

fn name(text: &str) -> Name {
    // The names above are valid; a failure here is a bug in this file.
    Name::from_ascii(text).expect("valid name")
}

/// The zone apex of a name (its last two labels) with its SOA, as an authority record.
fn soa_for(qname: &Name) -> Record {
    let apex = qname.trim_to(2);
    let mname = name("ns1.example.net.");
    let rname = name("hostmaster.example.net.");
    Record::from_rdata(apex, 900, RData::SOA(SOA::new(mname, rname, 2_026_113_001, 7200, 3600, 1_209_600, 900)))
}

fn edns() -> Edns {
    let mut e = Edns::new();
    e.set_max_payload(1232);
    e
}

/// One question and its answer, as DNS messages.
fn messages(rng: &mut Rng, id: u16) -> (Vec<u8>, Vec<u8>, bool) {
    let roll = rng.below(100);
    let (qname, rtype, missing) = if roll < 8 {
        let base = MISSING[rng.below(MISSING.len() as u64) as usize];
        let text = if rng.below(2) == 0 { format!("nt-{:08x}.{base}", rng.next() as u32) } else { base.to_string() };
        (name(&text), RecordType::A, true)
    } else {
        let rtype = if roll < 70 { RecordType::A } else { RecordType::AAAA };
        (name(NAMES[rng.below(NAMES.len() as u64) as usize].0), rtype, false)
    };
    let mut query = Message::new(id, MessageType::Query, OpCode::Query);
    query.metadata.recursion_desired = true;
    query.add_query(Query::query(qname.clone(), rtype));
    query.set_edns(edns());

    let mut answer = Message::new(id, MessageType::Response, OpCode::Query);
    answer.metadata.recursion_desired = true;
    answer.metadata.recursion_available = true;
    answer.add_query(Query::query(qname.clone(), rtype));
    answer.set_edns(edns());
    if missing {
        answer.metadata.response_code = ResponseCode::NXDomain;
        answer.add_authority(soa_for(&qname));
    } else if rtype == RecordType::AAAA {
        answer.add_authority(soa_for(&qname));
    } else {
        let (_, cname, count) = NAMES.iter().find(|(n, _, _)| name(n) == qname).copied().unwrap_or(NAMES[0]);
        let ttl = 30 + rng.below(3570) as u32;
        let owner = match cname {
            Some(target) => {
                answer.add_answer(Record::from_rdata(qname.clone(), ttl, RData::CNAME(CNAME(name(target)))));
                name(target)
            }
            None => qname.clone(),
        };
        let base = rng.below(1 << 15) as u32;
        for i in 0..u32::from(count) {
            // 198.18.0.0/15: the upper 17 bits fixed, 15 bits of host.
            let ip = Ipv4Addr::from(0xc612_0000 | (1 + (base + i) % 0x7ffe) | ((base & 1) << 16));
            answer.add_answer(Record::from_rdata(owner.clone(), ttl, RData::A(A(ip))));
        }
    }
    // The messages above always encode; an empty payload would only make a bad packet.
    (query.to_vec().unwrap_or_default(), answer.to_vec().unwrap_or_default(), missing)
}

/// Writes the pcap file header (microseconds, little-endian, Ethernet, snap length 65535).
fn write_header(out: &mut impl Write) -> io::Result<u64> {
    let mut h = Vec::with_capacity(24);
    h.extend_from_slice(&0xa1b2_c3d4u32.to_le_bytes());
    h.extend_from_slice(&2u16.to_le_bytes());
    h.extend_from_slice(&4u16.to_le_bytes());
    h.extend_from_slice(&0i32.to_le_bytes());
    h.extend_from_slice(&0u32.to_le_bytes());
    h.extend_from_slice(&65_535u32.to_le_bytes());
    h.extend_from_slice(&1u32.to_le_bytes());
    out.write_all(&h)?;
    Ok(24)
}

/// Writes one record at `us` microseconds since the epoch.
fn write_record(out: &mut impl Write, us: u64, frame: &[u8]) -> io::Result<u64> {
    let len = u32::try_from(frame.len()).map_err(|_| io::Error::other("frame too long"))?;
    let secs = u32::try_from(us / 1_000_000).map_err(|_| io::Error::other("timestamp after 2106"))?;
    out.write_all(&secs.to_le_bytes())?;
    out.write_all(&((us % 1_000_000) as u32).to_le_bytes())?;
    out.write_all(&len.to_le_bytes())?;
    out.write_all(&len.to_le_bytes())?;
    out.write_all(frame)?;
    Ok(16 + u64::from(len))
}

fn mac(prefix: u8, n: u32) -> [u8; 6] {
    let b = n.to_be_bytes();
    [0x02, prefix, b[0], b[1], b[2], b[3]]
}

/// A UDP/IPv4 frame.
fn udp_frame(src: (Ipv4Addr, u16, [u8; 6]), dst: (Ipv4Addr, u16, [u8; 6]), ttl: u8, payload: &[u8]) -> Vec<u8> {
    let builder = PacketBuilder::ethernet2(src.2, dst.2).ipv4(src.0.octets(), dst.0.octets(), ttl).udp(src.1, dst.1);
    let mut frame = Vec::with_capacity(builder.size(payload.len()));
    // Writing to a Vec fails only for a payload over 64 KiB, which DNS here never is.
    builder.write(&mut frame, payload).expect("frame fits");
    frame
}

/// Writes `exchanges` DNS exchanges (a query every 3.6 ms on average, about an hour for a
/// million), seeded by `seed`, to `out` as a pcap file.
pub fn dns_capture(exchanges: u64, seed: u64, out: &mut impl Write) -> io::Result<DnsSummary> {
    let mut rng = Rng(seed);
    let mut summary =
        DnsSummary { per_server: SERVERS.iter().map(|(ip, _)| (*ip, 0, 0)).collect(), ..DnsSummary::default() };
    summary.bytes = write_header(out)?;
    let router_mac = mac(0xee, 1);
    // Responses waiting for their time: (time µs, sequence for a stable order, frame).
    let mut pending: BinaryHeap<Reverse<(u64, u64, Vec<u8>)>> = BinaryHeap::new();
    let mut t = START_UNIX_S * 1_000_000;
    for seq in 0..exchanges {
        t += 100 + rng.below(7000);
        while pending.peek().is_some_and(|Reverse((at, _, _))| *at <= t) {
            if let Some(Reverse((at, _, frame))) = pending.pop() {
                summary.bytes += write_record(out, at, &frame)?;
                summary.packets += 1;
            }
        }
        let pick = rng.below(1000) as u32;
        let server = if pick < SERVERS[0].1 {
            0
        } else if pick < SERVERS[0].1 + SERVERS[1].1 {
            1
        } else {
            2
        };
        let client_n = 1 + rng.below(u64::from(CLIENTS)) as u32;
        let client = Ipv4Addr::from(u32::from(Ipv4Addr::new(198, 18, 16, 0)) + client_n);
        let port = 32_768 + rng.below(28_232) as u16;
        let id = rng.next() as u16;
        let (query, answer, missing) = messages(&mut rng, id);
        let server_ip = SERVERS[server].0;
        let client_end = (client, port, mac(0x10, client_n));
        let server_end = (server_ip, 53, router_mac);
        summary.bytes += write_record(out, t, &udp_frame(client_end, server_end, 64, &query))?;
        summary.packets += 1;
        summary.exchanges += 1;
        summary.per_server[server].1 += 1;
        let lost = if server == 2 { FLAKY_UNANSWERED_PER_MILLE } else { UNANSWERED_PER_MILLE };
        if rng.below(1000) < u64::from(lost) {
            continue;
        }
        // A cache hit answers in a fraction of a millisecond, a miss in 5 to 80 ms.
        let delay = if rng.below(10) < 7 { 60 + rng.below(400) } else { 5_000 + rng.below(75_000) };
        pending.push(Reverse((t + delay, seq, udp_frame(server_end, client_end, 63, &answer))));
        summary.per_server[server].2 += 1;
        summary.nxdomain += u64::from(missing);
    }
    while let Some(Reverse((at, _, frame))) = pending.pop() {
        summary.bytes += write_record(out, at, &frame)?;
        summary.packets += 1;
    }
    out.flush()?;
    Ok(summary)
}

/// One record of a classic pcap file: time in microseconds and the captured bytes.
struct InRecord {
    us: u64,
    data: Vec<u8>,
}

/// Reads a classic pcap file of Ethernet frames (either byte order, micro- or nanosecond).
fn read_pcap(input: &mut impl Read) -> io::Result<Vec<InRecord>> {
    let mut bytes = Vec::new();
    input.read_to_end(&mut bytes)?;
    let bad = |what: &str| io::Error::new(io::ErrorKind::InvalidData, what.to_string());
    let magic = bytes.get(..4).ok_or_else(|| bad("shorter than a pcap header"))?;
    let (le, nanos) = match [magic[0], magic[1], magic[2], magic[3]] {
        [0xd4, 0xc3, 0xb2, 0xa1] => (true, false),
        [0xa1, 0xb2, 0xc3, 0xd4] => (false, false),
        [0x4d, 0x3c, 0xb2, 0xa1] => (true, true),
        [0xa1, 0xb2, 0x3c, 0x4d] => (false, true),
        _ => return Err(bad("not a classic pcap file (pcapng: convert it with editcap -F pcap)")),
    };
    let u32_at = |b: &[u8], at: usize| -> Option<u32> {
        let w: [u8; 4] = b.get(at..at + 4)?.try_into().ok()?;
        Some(if le { u32::from_le_bytes(w) } else { u32::from_be_bytes(w) })
    };
    if u32_at(&bytes, 20) != Some(1) {
        return Err(bad("not an Ethernet capture"));
    }
    let mut records = Vec::new();
    let mut at = 24;
    while let (Some(secs), Some(frac), Some(len)) = (u32_at(&bytes, at), u32_at(&bytes, at + 4), u32_at(&bytes, at + 8))
    {
        let data = bytes.get(at + 16..at + 16 + len as usize).ok_or_else(|| bad("cut inside a record"))?;
        let frac_us = if nanos { u64::from(frac) / 1000 } else { u64::from(frac) };
        records.push(InRecord { us: u64::from(secs) * 1_000_000 + frac_us, data: data.to_vec() });
        at += 16 + len as usize;
    }
    Ok(records)
}

/// RFC 1624: the ones' complement checksum `sum` after a 16-bit word changed.
fn checksum_update(sum: u16, old: u16, new: u16) -> u16 {
    let mut s = u32::from(!sum) + u32::from(!old) + u32::from(new);
    while s > 0xffff {
        s = (s & 0xffff) + (s >> 16);
    }
    !(s as u16)
}

fn word(frame: &[u8], at: usize) -> Option<u16> {
    Some(u16::from_be_bytes(frame.get(at..at + 2)?.try_into().ok()?))
}

/// Replaces the 16-bit word at `at` and updates the checksum at `sum_at` (a UDP checksum
/// of zero means none and stays zero).
fn patch(frame: &mut [u8], at: usize, new: u16, sum_at: usize, udp: bool) {
    let (Some(old), Some(sum)) = (word(frame, at), word(frame, sum_at)) else { return };
    frame[at..at + 2].copy_from_slice(&new.to_be_bytes());
    if udp && sum == 0 {
        return;
    }
    let mut updated = checksum_update(sum, old, new);
    if udp && updated == 0 {
        updated = 0xffff;
    }
    frame[sum_at..sum_at + 2].copy_from_slice(&updated.to_be_bytes());
}

/// A client port of copy `k`: ports from 1024 up move, in that range.
fn vary_port(port: u16, k: u64) -> u16 {
    if port < 1024 {
        return port;
    }
    let span = 65_536 - 1024;
    (1024 + (u64::from(port) - 1024 + k * 7919) % span) as u16
}

/// Varies the DNS id, ICMP echo identifier and client port of one IPv4 frame for copy `k`
/// (the same change in both directions, so requests still match their answers).
fn vary(frame: &mut [u8], k: u64) {
    let mut l3 = 14;
    while matches!(word(frame, l3 - 2), Some(0x8100 | 0x88a8)) {
        l3 += 4;
    }
    if word(frame, l3 - 2) != Some(0x0800) || frame.len() < l3 + 20 || frame[l3] >> 4 != 4 {
        return;
    }
    let ihl = usize::from(frame[l3] & 0x0f) * 4;
    let fragment = word(frame, l3 + 6).unwrap_or(0) & 0x3fff;
    if fragment != 0 {
        return; // a fragment: its transport header is in the first one only
    }
    let l4 = l3 + ihl;
    let (Some(sport), Some(dport)) = (word(frame, l4), word(frame, l4 + 2)) else { return };
    let delta = (k as u16).wrapping_mul(40_503);
    match frame[l3 + 9] {
        17 if sport == 53 || dport == 53 => {
            if let Some(id) = word(frame, l4 + 8) {
                patch(frame, l4 + 8, id.wrapping_add(delta), l4 + 6, true);
            }
            let client_at = if sport == 53 { l4 + 2 } else { l4 };
            let port = if sport == 53 { dport } else { sport };
            patch(frame, client_at, vary_port(port, k), l4 + 6, true);
        }
        6 => {
            // The client's port is the higher one (the service's is well known or lower).
            let client_at = if sport > dport { l4 } else { l4 + 2 };
            patch(frame, client_at, vary_port(sport.max(dport), k), l4 + 16, false);
        }
        1 if matches!(frame.get(l4), Some(0 | 8)) => {
            if let Some(ident) = word(frame, l4 + 4) {
                patch(frame, l4 + 4, ident.wrapping_add(delta), l4 + 2, false);
            }
        }
        _ => {}
    }
}

/// Repeats the classic pcap capture read from `input` until the output reaches
/// `target_bytes`, each copy starting one second after the previous one ended, its
/// exchanges varied ([`vary`]).
pub fn replicate(input: &mut impl Read, target_bytes: u64, out: &mut impl Write) -> io::Result<ReplicaSummary> {
    let records = read_pcap(input)?;
    let (Some(first), Some(last)) = (records.first(), records.last()) else {
        return Err(io::Error::new(io::ErrorKind::InvalidData, "the capture has no packets"));
    };
    let span = last.us.saturating_sub(first.us) + 1_000_000;
    let mut summary = ReplicaSummary { bytes: write_header(out)?, ..ReplicaSummary::default() };
    let mut frame = Vec::new();
    let mut k = 0;
    while summary.bytes < target_bytes {
        let shift = k * span;
        for r in &records {
            frame.clear();
            frame.extend_from_slice(&r.data);
            vary(&mut frame, k);
            summary.bytes += write_record(out, r.us + shift, &frame)?;
            summary.packets += 1;
        }
        k += 1;
        summary.copies = k;
    }
    out.flush()?;
    Ok(summary)
}
