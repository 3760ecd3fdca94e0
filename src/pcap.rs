//! Reading packet captures, streamed: classic pcap and pcapng, from a file or any reader
//! (standard input included), one record at a time.
//!
//! [`read_records`] takes any [`Read`], tells the format by its first four bytes and hands
//! each packet record to a callback as a [`Record`] (capture time, [`LinkType`], the bytes
//! captured and the length on the wire), then returns a [`CaptureSummary`] of what was read
//! and what was cut. Memory is constant in the file size: `pcap-file` reads through one
//! fixed buffer and a record's bytes are lent to the callback, never kept. Decoding the
//! bytes is [`crate::wire`]'s job ([`crate::wire::decode_link`]); `udp_datagram` and
//! `UdpDatagram` are re-exported from there for the readers of Ethernet captures.
//!
//! - **classic pcap**: micro- and nanosecond magics, either byte order; one link type.
//! - **pcapng**: every section (byte order per section header) and every interface
//!   description block, each with its own link type and timestamp resolution
//!   (`if_tsresol`, powers of 10 or of 2); enhanced, simple and obsolete packet blocks;
//!   other blocks are skipped. Blocks are framed here, not by `pcap-file`'s `PcapNgReader`:
//!   that reader parses every section header's and interface description's options
//!   itself and refuses an option list that ends without `opt_endofopt`, which the pcapng
//!   specification allows and tshark reads (tcpdump's `ospf-sr.pcapng`, written by
//!   rtbrick-lspgen). The framing is the specification's: a 12-byte header (the type, the
//!   total length and, for a section header, the byte-order magic that sets the order of
//!   every block up to the next section), the body read into one reused buffer, the
//!   trailing length checked against the leading one, and a bound on a block's size
//!   ([`MAX_PCAPNG_BLOCK`]). Bodies are read here too, leniently, so one odd block does not
//!   stop the file. `pcap-file` still reads classic pcap.
//! - **damage**: a file is never refused for a record. A record cut by the snap length
//!   is handed on as it is and counted ([`CaptureSummary::truncated`]); a timestamp that
//!   cannot be one (sub-second part out of range) takes the previous record's time and is
//!   counted; a packet on an interface of an unsupported link type, or a block that does
//!   not parse, is counted in [`CaptureSummary::skipped`]; a file that ends inside a
//!   record (copied while still being written) or whose framing breaks ends the reading
//!   there, with [`CaptureSummary::cut`] saying so. Only a stream that is not a capture at
//!   all, or whose only link types are not decoded, is an error ([`PcapError`]).
//!
//! [`read_file`] and [`read_bytes`] collect the Ethernet frames of a capture into memory,
//! for tests and small fixtures; `analyze` streams with [`read_records`].

use std::collections::BTreeSet;
use std::io::Read;
use std::path::Path;
use std::time::Duration;

use pcap_file::TsResolution;
use pcap_file::pcap::PcapReader;
use serde::{Deserialize, Serialize};

use crate::wire::LinkType;
pub use crate::wire::{UdpDatagram, udp_datagram};

/// First bytes of a pcapng file (the section header block's type).
const PCAPNG_MAGIC: [u8; 4] = [0x0a, 0x0d, 0x0d, 0x0a];
/// pcapng block types read here.
const BLOCK_SECTION_HEADER: u32 = 0x0a0d_0d0a;
const BLOCK_INTERFACE_DESCRIPTION: u32 = 0x0000_0001;
const BLOCK_PACKET_OBSOLETE: u32 = 0x0000_0002;
const BLOCK_SIMPLE_PACKET: u32 = 0x0000_0003;
const BLOCK_ENHANCED_PACKET: u32 = 0x0000_0006;
/// The section header block's byte-order magic, as written in the section's own order.
const BYTE_ORDER_MAGIC: u32 = 0x1a2b_3c4d;
/// Largest pcapng block read, in bytes with its header and trailer (Wireshark's bound,
/// 16 MiB): a larger declared length is a broken framing, and memory stays bounded.
pub const MAX_PCAPNG_BLOCK: u32 = 16 * 1024 * 1024;
/// pcapng option codes read here.
const OPT_END: u16 = 0;
const OPT_IF_NAME: u16 = 2;
const OPT_IF_TSRESOL: u16 = 9;

/// The bits of a classic pcap header's link-type field that hold the LINKTYPE_ number
/// (libpcap's `LT_LINKTYPE`). The upper bits carry the FCS length and its flag
/// (`LT_FCS_LENGTH_PRESENT`, `LT_FCS_LENGTH`): libpcap and Wireshark read the link type
/// through them, so a file that sets them is not refused as an unknown link type.
const PCAP_LINKTYPE_BITS: u32 = 0x03ff_ffff;

/// The suggestion given with an unsupported link type.
pub const CONVERT_HINT: &str =
    "convert it to Ethernet with `editcap -T ether IN OUT`, or record it again with `tcpdump -y EN10MB`";

/// One captured Ethernet frame, held in memory ([`read_file`], [`read_bytes`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Frame {
    /// Capture time since the Unix epoch.
    pub timestamp: Duration,
    /// The frame's bytes, from the Ethernet header on.
    pub data: Vec<u8>,
}

/// One packet record of a capture, lent to [`read_records`]' callback.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Record<'a> {
    /// Capture time since the Unix epoch.
    pub timestamp: Duration,
    /// The link-layer header type of the interface it was captured on.
    pub link: LinkType,
    /// The bytes captured (shorter than `original_len` when the snap length cut it).
    pub data: &'a [u8],
    /// The packet's length on the wire.
    pub original_len: u32,
}

impl Record<'_> {
    /// Whether the snap length cut the record: fewer bytes captured than the packet had.
    pub fn is_truncated(&self) -> bool {
        u32::try_from(self.data.len()).is_ok_and(|len| len < self.original_len)
    }
}

/// The container format of a capture.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum CaptureFormat {
    /// Classic libpcap (micro- or nanosecond, either byte order).
    Pcap,
    /// pcapng.
    Pcapng,
}

/// What [`read_records`] read, and what it could not.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CaptureSummary {
    /// The container format.
    pub format: CaptureFormat,
    /// The link types of the records handed on.
    pub link_types: BTreeSet<LinkType>,
    /// Records handed on.
    pub packets: u64,
    /// Records handed on with fewer bytes than the packet had (snap length).
    pub truncated: u64,
    /// Records handed on with an impossible timestamp (the previous record's time used).
    pub bad_timestamps: u64,
    /// Records or blocks not handed on: unsupported link types, unparsable blocks.
    pub skipped: u64,
    /// LINKTYPE_ numbers of interfaces that are not decoded (their records are skipped).
    pub unsupported_link_types: BTreeSet<u32>,
    /// Why reading stopped before the end of the stream, if it did (a record cut short,
    /// a broken block framing, an I/O error part-way).
    pub cut: Option<String>,
    /// Capture time of the earliest record handed on.
    pub first: Option<Duration>,
    /// Capture time of the latest record handed on.
    pub last: Option<Duration>,
    /// Names of the capture's interfaces (pcapng `if_name`), in file order.
    pub interfaces: Vec<String>,
}

impl CaptureSummary {
    fn new(format: CaptureFormat) -> CaptureSummary {
        CaptureSummary {
            format,
            link_types: BTreeSet::new(),
            packets: 0,
            truncated: 0,
            bad_timestamps: 0,
            skipped: 0,
            unsupported_link_types: BTreeSet::new(),
            cut: None,
            first: None,
            last: None,
            interfaces: Vec::new(),
        }
    }
}

/// A capture that could not be read at all.
#[derive(Debug, thiserror::Error)]
pub enum PcapError {
    /// The file could not be opened or read.
    #[error("cannot read {path}: {source}")]
    Io {
        /// The file.
        path: String,
        /// Why.
        source: std::io::Error,
    },
    /// The stream is empty or shorter than a capture header.
    #[error("empty: not a pcap or pcapng capture")]
    Empty,
    /// Not a pcap or pcapng stream, or its header is damaged.
    #[error("not a readable pcap or pcapng capture: {0}")]
    Format(#[source] pcap_file::PcapError),
    /// Every interface of the capture has a link type that is not decoded.
    #[error("unsupported link type {number}{}: {CONVERT_HINT}", link_name(*.number))]
    LinkType {
        /// The LINKTYPE_ number.
        number: u32,
    },
}

/// ` (NAME)` for a LINKTYPE_ number `pcap-file` knows, for messages.
fn link_name(number: u32) -> String {
    match pcap_file::DataLink::from(number) {
        pcap_file::DataLink::Unknown(_) => String::new(),
        known => format!(" ({known:?})"),
    }
}

/// Reads every record of the capture `reader` holds (pcap or pcapng, told by its first
/// bytes), handing each to `on_record` in file order; returns what was read. Damage after
/// the header is reported in the summary, not as an error (see the module docs).
pub fn read_records<R: Read>(
    mut reader: R,
    mut on_record: impl FnMut(&Record<'_>),
) -> Result<CaptureSummary, PcapError> {
    let mut magic = [0u8; 4];
    let mut got = 0;
    while got < magic.len() {
        match reader.read(&mut magic[got..]) {
            Ok(0) => return Err(PcapError::Empty),
            Ok(n) => got += n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(source) => return Err(PcapError::Io { path: "-".into(), source }),
        }
    }
    let stream = std::io::Cursor::new(magic).chain(reader);
    let mut summary;
    let mut clock = Clock::default();
    if magic == PCAPNG_MAGIC {
        summary = CaptureSummary::new(CaptureFormat::Pcapng);
        read_pcapng(stream, &mut summary, &mut clock, &mut on_record)?;
    } else {
        summary = CaptureSummary::new(CaptureFormat::Pcap);
        read_pcap(stream, &mut summary, &mut clock, &mut on_record)?;
    }
    match summary.unsupported_link_types.iter().next() {
        Some(&number) if summary.packets == 0 => Err(PcapError::LinkType { number }),
        _ => Ok(summary),
    }
}

/// Keeps the last good timestamp, for records whose own is impossible.
#[derive(Debug, Default)]
struct Clock {
    last: Duration,
}

/// Hands one record on and counts it.
fn deliver(
    summary: &mut CaptureSummary,
    clock: &mut Clock,
    on_record: &mut impl FnMut(&Record<'_>),
    timestamp: Option<Duration>,
    link: LinkType,
    data: &[u8],
    original_len: u32,
) {
    let timestamp = match timestamp {
        Some(ts) => {
            clock.last = ts;
            ts
        }
        None => {
            summary.bad_timestamps += 1;
            clock.last
        }
    };
    if (data.len() as u64) < u64::from(original_len) {
        summary.truncated += 1;
    }
    summary.packets += 1;
    summary.link_types.insert(link);
    summary.first = Some(summary.first.map_or(timestamp, |f| f.min(timestamp)));
    summary.last = Some(summary.last.map_or(timestamp, |l| l.max(timestamp)));
    on_record(&Record { timestamp, link, data, original_len });
}

/// Why a read stopped part-way, in words for the report.
fn cut_reason(e: &pcap_file::PcapError) -> String {
    match e {
        pcap_file::PcapError::IoError(io) if io.kind() == std::io::ErrorKind::UnexpectedEof => CUT_INSIDE.to_string(),
        other => format!("reading stopped at a damaged record: {other}"),
    }
}

fn read_pcap<R: Read>(
    stream: R,
    summary: &mut CaptureSummary,
    clock: &mut Clock,
    on_record: &mut impl FnMut(&Record<'_>),
) -> Result<(), PcapError> {
    let mut reader = PcapReader::new(stream).map_err(|e| match e {
        pcap_file::PcapError::IoError(io) if io.kind() == std::io::ErrorKind::UnexpectedEof => PcapError::Empty,
        other => PcapError::Format(other),
    })?;
    let header = reader.header();
    let number = u32::from(header.datalink) & PCAP_LINKTYPE_BITS;
    let Some(link) = LinkType::from_number(number) else {
        return Err(PcapError::LinkType { number });
    };
    let nano = header.ts_resolution == TsResolution::NanoSecond;
    while let Some(packet) = reader.next_raw_packet() {
        let packet = match packet {
            Ok(packet) => packet,
            Err(e) => {
                summary.cut = Some(cut_reason(&e));
                break;
            }
        };
        let nanos = if nano { Some(packet.ts_frac) } else { packet.ts_frac.checked_mul(1000) };
        let timestamp = nanos.filter(|&n| n < 1_000_000_000).map(|n| Duration::new(u64::from(packet.ts_sec), n));
        deliver(summary, clock, on_record, timestamp, link, &packet.data, packet.orig_len);
    }
    Ok(())
}

/// An interface description block as far as it is needed.
#[derive(Debug, Clone, Copy)]
struct Interface {
    /// `None`: a link type that is not decoded (its number is in the summary).
    link: Option<LinkType>,
    /// `if_tsresol`: bit 7 clear, 10^-n seconds; set, 2^-n. Default 6 (microseconds).
    tsresol: u8,
}

/// How a read of a block's bytes ended.
enum Fill {
    /// All of them.
    Full,
    /// None: the stream ended cleanly before the block.
    Eof,
    /// Some: the stream ended inside the block.
    Partial,
}

/// Fills `buf` from `stream`, retrying interrupted reads.
fn fill<R: Read>(stream: &mut R, buf: &mut [u8]) -> std::io::Result<Fill> {
    let mut got = 0;
    while got < buf.len() {
        match stream.read(&mut buf[got..]) {
            Ok(0) => return Ok(if got == 0 { Fill::Eof } else { Fill::Partial }),
            Ok(n) => got += n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(Fill::Full)
}

/// Why pcapng reading stopped, before or after the first section header.
enum Stop {
    /// The stream ended cleanly between blocks.
    End,
    /// The stream ended inside a block.
    Cut,
    /// The framing is broken (a length or magic that cannot be).
    Broken(&'static str),
    /// Reading failed.
    Io(std::io::Error),
}

const CUT_INSIDE: &str = "the file ends inside a record (cut short while being written or copied)";

fn read_pcapng<R: Read>(
    mut stream: R,
    summary: &mut CaptureSummary,
    clock: &mut Clock,
    on_record: &mut impl FnMut(&Record<'_>),
) -> Result<(), PcapError> {
    let mut interfaces: Vec<Interface> = Vec::new();
    // The current section's byte order, set by each section header block.
    let mut big = false;
    let mut sections = 0u64;
    // One buffer for every block's body, grown to the largest block (at most MAX_PCAPNG_BLOCK).
    let mut body: Vec<u8> = Vec::new();
    let stop = loop {
        let mut head = [0u8; 12];
        match fill(&mut stream, &mut head[..8]) {
            Ok(Fill::Full) => {}
            Ok(Fill::Eof) => break Stop::End,
            Ok(Fill::Partial) => break Stop::Cut,
            Err(e) => break Stop::Io(e),
        }
        let section = head[..4] == PCAPNG_MAGIC;
        let mut header_len = 8;
        if section {
            match fill(&mut stream, &mut head[8..12]) {
                Ok(Fill::Full) => {}
                Ok(_) => break Stop::Cut,
                Err(e) => break Stop::Io(e),
            }
            let magic = [head[8], head[9], head[10], head[11]];
            big = match u32::from_le_bytes(magic) {
                BYTE_ORDER_MAGIC => false,
                m if m.swap_bytes() == BYTE_ORDER_MAGIC => true,
                _ => break Stop::Broken("a section header block without its byte-order magic"),
            };
            header_len = 12;
        } else if sections == 0 {
            break Stop::Broken("the file does not start with a section header block");
        }
        let word = |b: [u8; 4]| if big { u32::from_be_bytes(b) } else { u32::from_le_bytes(b) };
        let kind = word([head[0], head[1], head[2], head[3]]);
        let total = word([head[4], head[5], head[6], head[7]]);
        let least = if section { 28 } else { 12 };
        if total < least || total % 4 != 0 || total > MAX_PCAPNG_BLOCK {
            break Stop::Broken("a block length that cannot be one");
        }
        // The body after the 12-byte header (a section header's magic is its first word).
        let Ok(rest) = usize::try_from(total - 12) else { break Stop::Broken("a block too large") };
        body.clear();
        body.extend_from_slice(&head[8..header_len]);
        let at = body.len();
        body.resize(rest + 4, 0);
        match fill(&mut stream, &mut body[at..]) {
            Ok(Fill::Full) => {}
            Ok(_) => break Stop::Cut,
            Err(e) => break Stop::Io(e),
        }
        let trailer = [body[rest], body[rest + 1], body[rest + 2], body[rest + 3]];
        if word(trailer) != total {
            break Stop::Broken("a block whose trailing length differs from its leading one");
        }
        let block = Body { bytes: &body[..rest], big };
        match kind {
            BLOCK_SECTION_HEADER => {
                sections += 1;
                interfaces.clear();
            }
            BLOCK_INTERFACE_DESCRIPTION => match block.interface() {
                Some((interface, name)) => {
                    if interface.link.is_none() {
                        summary.unsupported_link_types.insert(u32::from(block.u16(0).unwrap_or_default()));
                    }
                    if let Some(name) = name {
                        summary.interfaces.push(name);
                    }
                    interfaces.push(interface);
                }
                None => {
                    // Keep the numbering of the interfaces after it.
                    summary.skipped += 1;
                    interfaces.push(Interface { link: None, tsresol: 6 });
                }
            },
            BLOCK_ENHANCED_PACKET | BLOCK_PACKET_OBSOLETE | BLOCK_SIMPLE_PACKET => {
                let packet = match kind {
                    BLOCK_ENHANCED_PACKET => block.enhanced_packet(),
                    BLOCK_PACKET_OBSOLETE => block.obsolete_packet(),
                    _ => block.simple_packet(),
                };
                let Some(packet) = packet else {
                    summary.skipped += 1;
                    continue;
                };
                let Some(&Interface { link: Some(link), tsresol }) = interfaces.get(packet.interface) else {
                    summary.skipped += 1;
                    continue;
                };
                let timestamp = match packet.ticks {
                    Some(ticks) => ticks_to_time(ticks, tsresol),
                    // A simple packet block has no time: the previous record's.
                    None => Some(clock.last),
                };
                deliver(summary, clock, on_record, timestamp, link, packet.data, packet.original_len);
            }
            _ => {}
        }
    };
    match stop {
        Stop::End if sections > 0 => {}
        // Nothing whole before the first section header ended: not a capture to read.
        Stop::End | Stop::Cut if sections == 0 => return Err(PcapError::Empty),
        Stop::Broken(what) if sections == 0 => {
            return Err(PcapError::Format(pcap_file::PcapError::InvalidField(what)));
        }
        Stop::Io(source) if sections == 0 => return Err(PcapError::Io { path: "-".into(), source }),
        Stop::Cut => summary.cut = Some(CUT_INSIDE.to_string()),
        Stop::Broken(what) => summary.cut = Some(format!("reading stopped at a damaged block: {what}")),
        Stop::Io(e) => summary.cut = Some(format!("reading stopped: {e}")),
        Stop::End => {}
    }
    Ok(())
}

/// A packet block's fields.
struct PacketFields<'a> {
    interface: usize,
    ticks: Option<u64>,
    data: &'a [u8],
    original_len: u32,
}

/// A pcapng block body, read in its section's byte order.
struct Body<'a> {
    bytes: &'a [u8],
    big: bool,
}

impl<'a> Body<'a> {
    fn u16(&self, at: usize) -> Option<u16> {
        let b: [u8; 2] = self.bytes.get(at..at + 2)?.try_into().ok()?;
        Some(if self.big { u16::from_be_bytes(b) } else { u16::from_le_bytes(b) })
    }

    fn u32(&self, at: usize) -> Option<u32> {
        let b: [u8; 4] = self.bytes.get(at..at + 4)?.try_into().ok()?;
        Some(if self.big { u32::from_be_bytes(b) } else { u32::from_le_bytes(b) })
    }

    fn ticks(&self, at: usize) -> Option<u64> {
        Some((u64::from(self.u32(at)?) << 32) | u64::from(self.u32(at + 4)?))
    }

    /// Captured bytes at `at`, `captured` long (bounded by the body).
    fn data(&self, at: usize, captured: u32) -> Option<&'a [u8]> {
        let end = at.checked_add(usize::try_from(captured).ok()?)?;
        self.bytes.get(at..end)
    }

    /// Link type, reserved, snap length, then options.
    fn interface(&self) -> Option<(Interface, Option<String>)> {
        let number = u32::from(self.u16(0)?);
        self.u32(4)?;
        let mut interface = Interface { link: LinkType::from_number(number), tsresol: 6 };
        let mut name = None;
        let mut at = 8;
        while let (Some(code), Some(len)) = (self.u16(at), self.u16(at + 2)) {
            if code == OPT_END {
                break;
            }
            let Some(value) = self.bytes.get(at + 4..at + 4 + usize::from(len)) else { break };
            match code {
                OPT_IF_TSRESOL => {
                    if let Some(&r) = value.first() {
                        interface.tsresol = r;
                    }
                }
                OPT_IF_NAME => name = Some(String::from_utf8_lossy(value).into_owned()),
                _ => {}
            }
            at += 4 + usize::from(len).next_multiple_of(4);
        }
        Some((interface, name))
    }

    /// Interface id, timestamp (high, low), captured length, original length, data.
    fn enhanced_packet(&self) -> Option<PacketFields<'a>> {
        let captured = self.u32(12)?;
        Some(PacketFields {
            interface: usize::try_from(self.u32(0)?).ok()?,
            ticks: Some(self.ticks(4)?),
            data: self.data(20, captured)?,
            original_len: self.u32(16)?,
        })
    }

    /// Interface id (16 bits), drops count, timestamp, captured length, original length.
    fn obsolete_packet(&self) -> Option<PacketFields<'a>> {
        let captured = self.u32(12)?;
        Some(PacketFields {
            interface: usize::from(self.u16(0)?),
            ticks: Some(self.ticks(4)?),
            data: self.data(20, captured)?,
            original_len: self.u32(16)?,
        })
    }

    /// Original length, then the data (as much as the block holds, up to that length).
    fn simple_packet(&self) -> Option<PacketFields<'a>> {
        let original_len = self.u32(0)?;
        let held = self.bytes.get(4..)?;
        let len = held.len().min(usize::try_from(original_len).unwrap_or(usize::MAX));
        Some(PacketFields { interface: 0, ticks: None, data: held.get(..len)?, original_len })
    }
}

/// A pcapng timestamp in units of `tsresol` as time since the epoch; `None` when the
/// resolution cannot be one.
fn ticks_to_time(ticks: u64, tsresol: u8) -> Option<Duration> {
    let exponent = u32::from(tsresol & 0x7f);
    if tsresol & 0x80 == 0 {
        let per_second = 10u64.checked_pow(exponent)?;
        let (secs, frac) = (ticks / per_second, ticks % per_second);
        let nanos = if exponent <= 9 { frac * 10u64.pow(9 - exponent) } else { frac / 10u64.pow(exponent - 9) };
        Some(Duration::new(secs, u32::try_from(nanos).ok()?))
    } else {
        if exponent >= 64 {
            return None;
        }
        let secs = ticks >> exponent;
        let frac = u128::from(ticks & ((1u64 << exponent) - 1));
        let nanos = (frac * 1_000_000_000) >> exponent;
        Some(Duration::new(secs, u32::try_from(nanos).ok()?))
    }
}

/// Reads every frame of the Ethernet capture (pcap or pcapng) at `path` into memory.
pub fn read_file(path: impl AsRef<Path>) -> Result<Vec<Frame>, PcapError> {
    let path = path.as_ref();
    let io = |source| PcapError::Io { path: path.display().to_string(), source };
    let file = std::fs::File::open(path).map_err(io)?;
    collect_ethernet(std::io::BufReader::new(file))
}

/// Reads every frame of an Ethernet capture (pcap or pcapng) held in memory.
pub fn read_bytes(bytes: &[u8]) -> Result<Vec<Frame>, PcapError> {
    collect_ethernet(bytes)
}

fn collect_ethernet<R: Read>(reader: R) -> Result<Vec<Frame>, PcapError> {
    let mut frames = Vec::new();
    let mut other = None;
    read_records(reader, |r| {
        if r.link == LinkType::Ethernet {
            frames.push(Frame { timestamp: r.timestamp, data: r.data.to_vec() });
        } else {
            other.get_or_insert(r.link.number());
        }
    })?;
    match other {
        Some(number) if frames.is_empty() => Err(PcapError::LinkType { number }),
        _ => Ok(frames),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fixture(name: &str) -> Vec<u8> {
        std::fs::read(format!("{}/captures/{name}", env!("CARGO_MANIFEST_DIR"))).unwrap()
    }

    fn records(bytes: &[u8]) -> (CaptureSummary, Vec<(Duration, LinkType, Vec<u8>)>) {
        let mut out = Vec::new();
        let summary = read_records(bytes, |r| out.push((r.timestamp, r.link, r.data.to_vec()))).unwrap();
        (summary, out)
    }

    #[test]
    fn garbage_and_truncated_captures_are_errors_not_panics() {
        assert!(matches!(read_bytes(b""), Err(PcapError::Empty)));
        assert!(matches!(read_bytes(b"not a pcap file at all, just text"), Err(PcapError::Format(_))));
        let good = fixture("arp_gateway.pcap");
        assert!(!read_bytes(&good).unwrap().is_empty());
        for cut in 0..good.len() {
            let _ = read_bytes(&good[..cut]);
        }
    }

    /// The tcpdump test suite's captures whose header's link-type field also carries FCS
    /// bits (`0x3000_0001`, `0x0400_0001`) are Ethernet to libpcap and Wireshark.
    #[test]
    fn fcs_bits_in_the_link_type_field_are_not_part_of_the_link_type() {
        let good = fixture("lab_healthy.pcap");
        let (_, want) = records(&good);
        for field in [0x3000_0001u32, 0x0400_0001, 0x4000_0001] {
            let mut bytes = good.clone();
            bytes[20..24].copy_from_slice(&field.to_le_bytes());
            let (summary, got) = records(&bytes);
            assert_eq!(got, want, "{field:#x}");
            assert_eq!(summary.link_types.iter().copied().collect::<Vec<_>>(), vec![LinkType::Ethernet]);
        }
        // A reserved bit below the FCS bits still names another (unknown) link type.
        let mut bytes = good;
        bytes[20..24].copy_from_slice(&0x0001_0001u32.to_le_bytes());
        assert!(matches!(read_records(&bytes[..], |_| {}), Err(PcapError::LinkType { number: 0x0001_0001 })));
    }

    #[test]
    fn a_file_cut_inside_its_last_record_keeps_the_records_before() {
        let good = fixture("lab_healthy.pcap");
        let (whole, all) = records(&good);
        assert_eq!(whole.cut, None);
        let (cut, some) = records(&good[..good.len() - 10]);
        assert_eq!(some.len(), all.len() - 1);
        assert_eq!(some[..], all[..all.len() - 1]);
        assert!(cut.cut.is_some());
        assert_eq!(cut.format, CaptureFormat::Pcap);
    }

    #[test]
    fn snap_length_cuts_and_bad_timestamps_are_counted_not_refused() {
        let mut bytes = fixture("arp_gateway.pcap");
        // Header: 24 bytes; first record header: ts_sec, ts_usec, incl_len, orig_len (LE).
        let orig_len = u32::from_le_bytes(bytes[36..40].try_into().unwrap());
        bytes[36..40].copy_from_slice(&(orig_len + 100).to_le_bytes());
        bytes[28..32].copy_from_slice(&2_000_000u32.to_le_bytes());
        // A snap length smaller than the records (pcap-file refuses such files).
        bytes[16..20].copy_from_slice(&20u32.to_le_bytes());
        let (summary, got) = records(&bytes);
        assert_eq!(summary.truncated, 1);
        assert_eq!(summary.bad_timestamps, 1);
        assert_eq!(summary.packets, got.len() as u64);
        assert!(got.len() >= 2);
    }

    #[test]
    fn classic_pcap_in_both_byte_orders_and_nanoseconds() {
        let le = fixture("arp_gateway.pcap");
        let (_, want) = records(&le);
        // The same records, big-endian and with nanosecond timestamps.
        let mut be = Vec::new();
        be.extend_from_slice(&0xa1b2_3c4du32.to_be_bytes());
        be.extend_from_slice(&2u16.to_be_bytes());
        be.extend_from_slice(&4u16.to_be_bytes());
        be.extend_from_slice(&[0; 8]);
        be.extend_from_slice(&65535u32.to_be_bytes());
        be.extend_from_slice(&1u32.to_be_bytes());
        for (ts, _, data) in &want {
            be.extend_from_slice(&(ts.as_secs() as u32).to_be_bytes());
            be.extend_from_slice(&ts.subsec_nanos().to_be_bytes());
            be.extend_from_slice(&(data.len() as u32).to_be_bytes());
            be.extend_from_slice(&(data.len() as u32).to_be_bytes());
            be.extend_from_slice(data);
        }
        let (summary, got) = records(&be);
        assert_eq!(got, want);
        assert_eq!(summary.link_types.iter().copied().collect::<Vec<_>>(), vec![LinkType::Ethernet]);
    }

    #[test]
    fn pcapng_timestamp_resolutions() {
        assert_eq!(ticks_to_time(1_500_000, 6), Some(Duration::from_millis(1500)));
        assert_eq!(ticks_to_time(1_500_000_000, 9), Some(Duration::from_millis(1500)));
        assert_eq!(ticks_to_time(3 << 20, 0x80 | 20), Some(Duration::from_secs(3)));
        assert_eq!(ticks_to_time(5 << 19 | 1 << 18, 0x80 | 19), Some(Duration::from_millis(5500)));
        assert_eq!(ticks_to_time(12, 0), Some(Duration::from_secs(12)));
        assert_eq!(ticks_to_time(1, 0x80 | 70), None);
        assert_eq!(ticks_to_time(1, 25), None);
    }

    /// pcapng blocks, built by hand in either byte order.
    struct Ng {
        big: bool,
        out: Vec<u8>,
    }

    impl Ng {
        fn u16(&self, v: u16) -> [u8; 2] {
            if self.big { v.to_be_bytes() } else { v.to_le_bytes() }
        }

        fn u32(&self, v: u32) -> [u8; 4] {
            if self.big { v.to_be_bytes() } else { v.to_le_bytes() }
        }

        fn block(&mut self, kind: u32, body: &[u8]) {
            let mut body = body.to_vec();
            body.resize(body.len().next_multiple_of(4), 0);
            let len = u32::try_from(body.len() + 12).unwrap();
            let (k, l) = (self.u32(kind), self.u32(len));
            self.out.extend_from_slice(&k);
            self.out.extend_from_slice(&l);
            self.out.extend_from_slice(&body);
            self.out.extend_from_slice(&l);
        }

        fn section(&mut self) {
            let mut body = self.u32(0x1a2b_3c4d).to_vec();
            body.extend_from_slice(&self.u16(1));
            body.extend_from_slice(&self.u16(0));
            body.extend_from_slice(&[0xff; 8]);
            self.block(BLOCK_SECTION_HEADER, &body);
        }

        fn interface(&mut self, link: u16, tsresol: Option<u8>) {
            let mut body = self.u16(link).to_vec();
            body.extend_from_slice(&[0, 0]);
            body.extend_from_slice(&self.u32(65535));
            if let Some(r) = tsresol {
                body.extend_from_slice(&self.u16(OPT_IF_TSRESOL));
                body.extend_from_slice(&self.u16(1));
                body.extend_from_slice(&[r, 0, 0, 0]);
                body.extend_from_slice(&[0, 0, 0, 0]);
            }
            self.block(BLOCK_INTERFACE_DESCRIPTION, &body);
        }

        fn packet(&mut self, kind: u32, interface: u32, ticks: u64, data: &[u8]) {
            let mut body = match kind {
                BLOCK_PACKET_OBSOLETE => {
                    let mut b = self.u16(interface as u16).to_vec();
                    b.extend_from_slice(&self.u16(0));
                    b
                }
                _ => self.u32(interface).to_vec(),
            };
            body.extend_from_slice(&self.u32((ticks >> 32) as u32));
            body.extend_from_slice(&self.u32(ticks as u32));
            body.extend_from_slice(&self.u32(data.len() as u32));
            body.extend_from_slice(&self.u32(data.len() as u32));
            body.extend_from_slice(data);
            self.block(kind, &body);
        }

        fn simple(&mut self, data: &[u8]) {
            let mut body = self.u32(data.len() as u32).to_vec();
            body.extend_from_slice(data);
            self.block(BLOCK_SIMPLE_PACKET, &body);
        }
    }

    #[test]
    fn pcapng_interfaces_resolutions_packet_blocks_and_sections() {
        let frames = read_file(concat!(env!("CARGO_MANIFEST_DIR"), "/captures/lab_healthy.pcap")).unwrap();
        let eth = &frames[0].data;
        let ip = &frames.iter().find(|f| f.data[12..14] == [0x08, 0x00]).unwrap().data[14..];
        let mut ng = Ng { big: false, out: vec![] };
        ng.section();
        ng.interface(1, None); // Ethernet, microseconds
        ng.interface(101, Some(9)); // RAW, nanoseconds
        ng.interface(147, None); // a user link type: not decoded
        ng.packet(BLOCK_ENHANCED_PACKET, 0, 1_700_000_000_250_000, eth);
        ng.packet(BLOCK_ENHANCED_PACKET, 1, 1_700_000_001_000_000_123, ip);
        ng.packet(BLOCK_ENHANCED_PACKET, 2, 1, eth);
        ng.block(0x0000_0bad, &[1, 2, 3, 4, 5]);
        ng.simple(eth);
        ng.packet(BLOCK_PACKET_OBSOLETE, 1, 1_700_000_002_000_000_000, ip);
        ng.packet(BLOCK_ENHANCED_PACKET, 9, 1, eth); // no such interface
        let mut be = Ng { big: true, out: vec![] };
        be.section();
        be.interface(113, Some(0x80 | 20)); // LINUX_SLL, 2^-20 s
        let mut sll = vec![0, 0, 0, 1, 0, 6, 2, 0, 0, 0, 0, 1, 0, 0, 0x08, 0x00];
        sll.extend_from_slice(ip);
        be.packet(BLOCK_ENHANCED_PACKET, 0, 1_700_000_003 << 20 | 1 << 19, &sll);
        // A big-endian section first in its file, too.
        assert_eq!(records(&be.out).0.packets, 1);
        let mut bytes = ng.out;
        bytes.extend_from_slice(&be.out);

        let (summary, got) = records(&bytes);
        let want: Vec<(Duration, LinkType, Vec<u8>)> = vec![
            (Duration::new(1_700_000_000, 250_000_000), LinkType::Ethernet, eth.clone()),
            (Duration::new(1_700_000_001, 123), LinkType::Raw, ip.to_vec()),
            // A simple packet block: interface 0, the previous record's time.
            (Duration::new(1_700_000_001, 123), LinkType::Ethernet, eth.clone()),
            (Duration::new(1_700_000_002, 0), LinkType::Raw, ip.to_vec()),
            (Duration::new(1_700_000_003, 500_000_000), LinkType::LinuxSll, sll.clone()),
        ];
        assert_eq!(got, want);
        assert_eq!(summary.format, CaptureFormat::Pcapng);
        assert_eq!(summary.packets, 5);
        assert_eq!(summary.skipped, 2, "the unsupported interface's packet and the one of no interface");
        assert_eq!(summary.unsupported_link_types, BTreeSet::from([147]));
        assert_eq!(summary.cut, None);
        for r in &got {
            let packet = crate::wire::decode_link(r.1, &r.2).unwrap();
            assert!(matches!(packet.net, crate::wire::Net::Ip(_) | crate::wire::Net::Arp(_)), "{:?}", r.1);
        }
        // Cut anywhere: never a panic, never more than was there.
        for cut in 0..bytes.len() {
            if let Ok(s) = read_records(&bytes[..cut], |_| {}) {
                assert!(s.packets <= 5);
            }
        }
        // Only interfaces of unsupported link types: refused, naming the type.
        let mut only = Ng { big: false, out: vec![] };
        only.section();
        only.interface(147, None);
        only.packet(BLOCK_ENHANCED_PACKET, 0, 1, eth);
        assert!(matches!(read_records(&only.out[..], |_| {}), Err(PcapError::LinkType { number: 147 })));
    }

    /// The framing: option lists that end without `opt_endofopt` (the specification allows
    /// it), a trailing length that differs from the leading one, a length that cannot be
    /// one or is over the bound, a stream that does not start with a section header.
    #[test]
    fn pcapng_block_framing_is_checked_and_lenient_where_the_specification_is() {
        let frames = read_file(concat!(env!("CARGO_MANIFEST_DIR"), "/captures/lab_healthy.pcap")).unwrap();
        let eth = &frames[0].data;
        for big in [false, true] {
            let mut ng = Ng { big, out: vec![] };
            // A section header whose option list (a shb_userappl) has no opt_endofopt.
            let mut shb = ng.u32(0x1a2b_3c4d).to_vec();
            shb.extend_from_slice(&ng.u16(1));
            shb.extend_from_slice(&ng.u16(0));
            shb.extend_from_slice(&[0xff; 8]);
            shb.extend_from_slice(&ng.u16(4));
            shb.extend_from_slice(&ng.u16(4));
            shb.extend_from_slice(b"lspg");
            ng.block(BLOCK_SECTION_HEADER, &shb);
            // An interface whose options (if_name, if_tsresol) end without opt_endofopt.
            let mut idb = ng.u16(1).to_vec();
            idb.extend_from_slice(&[0, 0]);
            idb.extend_from_slice(&ng.u32(65535));
            idb.extend_from_slice(&ng.u16(OPT_IF_NAME));
            idb.extend_from_slice(&ng.u16(4));
            idb.extend_from_slice(b"eth0");
            idb.extend_from_slice(&ng.u16(OPT_IF_TSRESOL));
            idb.extend_from_slice(&ng.u16(1));
            idb.extend_from_slice(&[9, 0, 0, 0]);
            ng.block(BLOCK_INTERFACE_DESCRIPTION, &idb);
            ng.packet(BLOCK_ENHANCED_PACKET, 0, 1_700_000_000_000_000_007, eth);
            let good = ng.out.clone();
            let (summary, got) = records(&good);
            assert_eq!(summary.cut, None, "big {big}");
            assert_eq!(summary.interfaces, vec!["eth0".to_string()]);
            assert_eq!(got, vec![(Duration::new(1_700_000_000, 7), LinkType::Ethernet, eth.clone())]);

            let last = good.len() - 4; // the packet block's trailing length
            let mut bad = good.clone();
            bad[last] ^= 4;
            let (summary, got) = records(&bad);
            assert!(summary.cut.is_some() && got.is_empty(), "a trailer that differs");

            let packet_at = good.len() - (20 + 12 + eth.len().next_multiple_of(4));
            for length in [0u32, 8, 14, MAX_PCAPNG_BLOCK + 4, u32::MAX - 3] {
                let mut bad = good.clone();
                let b = if big { length.to_be_bytes() } else { length.to_le_bytes() };
                bad[packet_at + 4..packet_at + 8].copy_from_slice(&b);
                let (summary, got) = records(&bad);
                assert!(summary.cut.is_some() && got.is_empty(), "length {length}");
                assert_eq!(summary.interfaces.len(), 1);
            }
            // Cut inside the packet block: the blocks before are read, the cut is said.
            let (summary, got) = records(&good[..good.len() - 6]);
            assert!(summary.cut.is_some() && got.is_empty());
            assert_eq!(summary.interfaces.len(), 1);
            // Cut inside the first section header: nothing to read.
            assert!(matches!(read_records(&good[..20], |_| {}), Err(PcapError::Empty)));
            // A section header without its byte-order magic is not pcapng.
            let mut bad = good.clone();
            bad[8..12].copy_from_slice(&[1, 2, 3, 4]);
            assert!(matches!(read_records(&bad[..], |_| {}), Err(PcapError::Format(_))));
        }
    }

    #[test]
    fn unsupported_link_type_is_named() {
        let mut bytes = fixture("arp_gateway.pcap");
        bytes[20..24].copy_from_slice(&147u32.to_le_bytes());
        assert!(matches!(read_records(&bytes[..], |_| {}), Err(PcapError::LinkType { number: 147 })));
    }

    #[test]
    fn udp_datagrams_of_the_healthy_lab_capture() {
        let frames = read_file(concat!(env!("CARGO_MANIFEST_DIR"), "/captures/lab_healthy.pcap")).unwrap();
        let dns: Vec<UdpDatagram> =
            frames.iter().filter_map(|f| udp_datagram(&f.data)).filter(|d| d.src.port() == 53).collect();
        assert_eq!(dns.len(), 3, "A, AAAA and the random-label answers");
        assert!(dns.iter().all(|d| d.src.ip().to_string() == "198.18.0.1"));
        for frame in &frames {
            for cut in 0..frame.data.len() {
                let _ = udp_datagram(&frame.data[..cut]);
            }
        }
    }
}
