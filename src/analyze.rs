//! Offline analysis of a packet capture (`nettriage analyze FILE.pcap`): the exchanges in a
//! capture, judged by the live checks' own judges.
//!
//! Input is a capture's records, streamed: [`Analysis::feed`] takes each frame with its
//! link type and time as [`crate::pcap::read_records`] reads them (pcap or pcapng, any
//! link type [`crate::wire::LinkType`] decodes), and [`Analysis::finish`] judges;
//! [`analyze`] does both for Ethernet frames held in memory. Output is a [`Report`] of `schema_version` "1"
//! like a live run's: `interface` is null, `privileged` false, `duration_ms` the capture's
//! time span, and the checks come in [`CheckId`] order. `link`, `wifi` and `web` are
//! `skipped` ("not observable in a capture"); `neighbours`, `dhcp`, `gateway`, `dns` and
//! `ports` are rebuilt from the packets, each `skipped` when the capture holds no packets
//! of its kind (the report's `neighbour` line comes from the capture's LLDP or CDP);
//! `ipv6` and `path` are rebuilt from neighbour discovery and too-big reports, and are
//! `skipped` as not observable when the capture holds none; the verdict is
//! [`crate::diagnosis::diagnose`]'s. Pure: no I/O, no clock; the caller reads the file and
//! passes the start time and hostname.
//!
//! The pipeline is read, decode, fold, judge, report. Every frame goes through the one wire
//! decoder, [`crate::wire::Reassembler::feed`] (with its capture timestamp), and folding
//! matches on the typed [`crate::wire::Packet`]: VLAN tags of any depth are read past,
//! GRE and VXLAN tunnels unwrapped (the inner packets are folded like any other), IP
//! fragments are reassembled (bounded, [`crate::wire::ReassemblyLimits`]'s defaults) and
//! ICMP errors come with the packet they quote. This module decodes no frame bytes of its
//! own; the payloads go to the live checks' parsers
//! ([`crate::platform::dhcp::decode_message`], [`crate::check::dns::parse_response`] and
//! `classify`). Folding pairs requests with
//! answers and fills the live checks' evidence types ([`DhcpEvidence`], [`GatewayEvidence`],
//! [`DnsEvidence`], [`PortsEvidence`], [`Ipv6Evidence`], [`PathEvidence`]) with their
//! capture-only parts set (`capture`, `seen`, `attempts`). Judging is the layer's own `judge` with [`Source::Capture`] and the
//! default settings: this module holds no verdicts and no finding messages. What a capture
//! changes in a judge is documented there and in docs/checks/ ("Live and capture").
//!
//! # Folding
//!
//! - **LLDP and CDP** (Ethernet captures, at most one 802.1Q tag): every frame goes to the
//!   neighbours check's decoder ([`crate::platform::lldp::decode_frame`]), one neighbour
//!   per switch port as last heard, into a [`NeighboursEvidence`] with `capture` set and
//!   `ended` `capture`; judged by [`crate::check::neighbours::judge`] with the
//!   `[neighbours]` settings given ([`Analysis::with_neighbours_settings`]:
//!   `expected_vlan`). The capturing interface's speed and duplex are not in a capture, so
//!   `link.duplex_mismatch` and `link.speed_mismatch` are never judged from one; the VLAN
//!   and power the switch reports are.
//! - **DHCP** (UDP 67/68): messages are grouped into transactions by xid, client
//!   hardware address and VLAN, with DISCOVER count, broadcast flag, whether an OFFER or
//!   ACK came and the address asked for. OFFERs name the servers, per VLAN. The VLAN is
//!   the innermost 802.1Q/802.1ad tag of the Ethernet header the message came in (inside
//!   a tunnel: the inner frame's), or none: servers on different VLANs of a trunk are
//!   different segments' servers. The live fields (`usable_ipv4`, `current`) come from the
//!   last ACK; the probe is `not_run`.
//! - **ARP**: who-has requests are matched to is-at replies by target and requester;
//!   announcements (sender = target) expect no reply and are ignored. RFC 5227 probes
//!   (sender 0.0.0.0) fill the dhcp evidence's `duplicate_check`: a reply for the probed
//!   address from another MAC within 2 s (RFC 5227 ANNOUNCE_WAIT) is a conflict. Each
//!   target records who asked (`requesters`), whether every asker was sweeping the segment
//!   (asked for [`ARP_SWEEP_TARGETS`] addresses or more: `sweep`) and whether the last DHCP
//!   ACK names it a router (`dhcp_router`): the judge calls ARP silence unreachable only
//!   for a gateway.
//! - **ICMP echo** (v4 and v6): requests are matched to replies by (source, destination,
//!   identifier, sequence); every ARP or echo target is one `gateways[]` entry. An ICMP
//!   time exceeded quoting an echo request marks exactly that request (the quoted
//!   identifier and sequence, [`crate::wire::Quoted::echo`]) as a traceroute's probe: it
//!   leaves the series and is counted in `time_exceeded`. One quoting a UDP query to port
//!   53 or a TCP SYN (by its sockets) marks that query or attempt as a UDP or TCP
//!   traceroute's probe, judged neither way.
//!   Echoes whose every sender is a DHCP server that offered the echoed address are the
//!   server's conflict check before the OFFER (RFC 2131 section 4.4.1): counted, marked
//!   `dhcp_conflict_check`, not judged. A request seen again with the same id and
//!   sequence within `ECHO_COPY_WINDOW` (1 s) is a copy; later, another request.
//! - **DNS** (UDP 53): queries are matched to responses by (client address and port,
//!   server, id) and question. A resend on the same socket is one query with more
//!   `attempts`; an unanswered query followed by an answered one for the same name and type
//!   to the same server is marked `answered_on_retry`, and so is an error rcode or an
//!   unreadable answer followed by a useful answer (an EDNS fallback). A response that
//!   matches a query (id, QR bit, sockets) but does not parse makes it `malformed`. An ICMP
//!   unreachable quoting a query makes it `unreachable`. Each server's failures held
//!   against it are counted with the times of the first and last (`failed`,
//!   `first_failure`, `last_failure`).
//! - **IPv6 neighbour discovery** (hop limit 255; RFC 4861 7.1): Router Solicitations are
//!   counted, Router Advertisements read by the ipv6 check's own parser
//!   ([`crate::check::ipv6::parse_router_advert`]) into one router per source (as last
//!   heard, at most `MAX_ROUTERS`), forwarded or malformed ones counted `invalid`. A Neighbor
//!   Solicitation from `::` is a DAD probe (RFC 4862 5.4); an advertisement for its address
//!   from another MAC within 2 s (`DAD_ANSWER_WINDOW`) is a conflict (`ipv6.dad_failed`).
//!   Other solicitations are matched to advertisements by target, as ARP is: a router (the
//!   source of an RA with a router lifetime, or an advertisement with the R flag) that
//!   some host solicited or pinged is a `gateways_v6` entry, its echoes leaving `gateways`.
//!   What a capture cannot show (the interface's addresses, sysctls, resolvers) is left
//!   empty or unknown, and the judge skips the rules that need it.
//! - **Too big** (IPv4 fragmentation needed, ICMPv6 packet too big): each report whose MTU
//!   is below the size of the packet it quotes is a reduced path MTU to the quoted
//!   destination (`path.mtu_reduced`); an echo request it quotes leaves the ping series (it
//!   was too big, not lost). A blackhole is not inferred (docs/checks/path.md).
//! - **TCP**: each SYN (retransmissions folded in) starts a connection attempt, ended by a
//!   SYN-ACK (`open`), a RST (`refused`), an ICMP unreachable quoting it (`unreachable`),
//!   or nothing by the end of the capture (`filtered`). Attempts are counted per
//!   destination; the target's `outcome` is its last attempt's.
//! - **Cut records**: a record the snap length cut ([`Analysis::feed_captured`]) is decoded
//!   as far as its headers go ([`crate::wire::Ip::truncated`]): TCP flags, ICMP messages
//!   and a DNS answer's header (rcode, answer count) and question are folded as usual, the
//!   query marked `answer_cut`; an answer cut inside its DNS header is not judged, and a
//!   cut DHCP message is not read.
//! - **Bounded**: frames that do not decode are skipped, and so are fragments the
//!   reassembler holds or drops (a datagram is folded once all its fragments are in, or
//!   never: limits, inconsistency, 30 s of capture time); at most [`MAX_TRACKED`] exchanges
//!   of each kind are tracked in detail, and evidence lists hold at most [`MAX_LISTED`]
//!   entries, with totals alongside. DNS queries beyond the bound are still matched and
//!   judged: each open query is kept until its answer (at most `MAX_OPEN`, 65,536, open;
//!   when full, the oldest open query counts as unanswered), then
//!   only per-server counters and, per question, the failures a later answer may forgive;
//!   the judge gets one query standing for each outcome beyond the bound, removed before
//!   the evidence is reported. Those queries and their answers (nearly all of a long
//!   capture) are read in place when they have the plain shape (`LiteMessage`: header,
//!   question, A/AAAA counts; anything else is decoded by hickory-proto as the tracked
//!   ones are), and their questions are keyed by the case-folded wire name (`QName`). TCP connection attempts beyond the bound likewise: each
//!   open until answered, then counted per target (the ports row is counters anyway).
//!   ICMP echo requests beyond the bound are matched and counted into the target's
//!   `sent`, `received`, loss and mean RTT (`rtts_ms`, min, max and jitter are from the
//!   tracked ones; time exceeded is matched for tracked requests only). ARP requests are
//!   counted per target always; new ARP targets and DHCP transactions beyond the bound are
//!   counted as `untracked`.
//!   Judges see everything tracked; lists are cut after judging.
//!
//! A request whose answer fell after the end of the capture counts as unanswered: stop
//! tcpdump a moment after the exchange.

use std::collections::VecDeque;

// foldhash's HashMap (std's, with a fast non-cryptographic hasher): every map here is keyed
// by addresses, ids and names from the capture and sits on the per-packet path.
use foldhash::HashMap;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::time::Duration;

use dhcproto::v4::{DhcpOption, Opcode, OptionCode};
use hickory_proto::op::{Header, Message, MessageType, OpCode, Query, ResponseCode};
use hickory_proto::rr::{Name, RData, RecordType};
use hickory_proto::serialize::binary::{BinDecodable, BinDecoder};

use crate::check::dhcp::{
    self, CurrentConfig, DhcpCapture, DhcpEvidence, DhcpMessageSeen, DhcpServerSeen, DhcpTransaction, DuplicateCheck,
    Probe, ProbeStatus,
};
use crate::check::dns::{
    self, DnsCapture, DnsEvidence, QueryOutcome, QueryResult, QuerySeen, ServerCapture, ServerResult, classify,
    parse_response,
};
use crate::check::gateway::{
    self, ARP_SWEEP_TARGETS, ArpExchange, ArpResult, ArpSeen, ArpStatus, GatewayCapture, GatewayEvidence, GatewayProbe,
    GatewayV6Probe, PingStats,
};
use crate::check::ipv6::{
    self, DadSeen, Ipv6Capture, Ipv6Evidence, MAX_ROUTERS, RouterAdvert, SolicitStatus, Solicitation,
    parse_router_advert,
};
use crate::check::neighbours::{self, Ended, LldpdStatus, NeighboursEvidence};
use crate::check::path::{self, PathCapture, PathEvidence, PathProbe, PathStatus, Role, TooBigSeen};
use crate::check::ports::{self, PortAttempts, PortOutcome, PortResult, PortsCapture, PortsEvidence};
use crate::check::{Source, status_of};
use crate::config::{DhcpSettings, DnsSettings, GatewaySettings, Ipv6Settings, NeighboursSettings};
use crate::pcap::Frame;
use crate::platform::dhcp::{DhcpKind, DhcpReply, decode_message, reply_from};
use crate::platform::lldp::{self, Heard, Neighbour, Protocol};
use crate::report::{
    CheckId, CheckResult, CheckStatus, Evidence, Finding, HostInfo, Report, SCHEMA_VERSION, SkipReason, ToolInfo,
    TunnelSeen,
};
use crate::types::{MacAddr, Timestamp, millis};
use crate::wire::{
    Arp, ArpOperation, Icmp, IcmpMessage, LinkType, Net, PROTO_TCP, PROTO_UDP, Packet, Quoted, Reassembler, Tcp,
    TcpFlags, Transport, TunnelKind, UdpDatagram,
};

/// Most exchanges of one kind (DHCP transactions, ARP requests, echo requests, DNS
/// queries, TCP connection attempts) tracked; beyond this they are only counted.
pub const MAX_TRACKED: usize = 10_000;
/// Most entries of one list in the evidence; totals are given alongside.
pub const MAX_LISTED: usize = 100;
/// Reason for the checks a capture cannot show.
pub const NOT_OBSERVABLE: &str = "not observable in a capture";

/// Most DNS queries or TCP attempts beyond [`MAX_TRACKED`] open at once (when full, the
/// oldest counts as unanswered), most questions with failures a later answer may still
/// forgive, and most TCP targets beyond the bound (further ones are `untracked`).
const MAX_OPEN: usize = 65_536;
/// Two echo requests with the same addresses, id and sequence closer than this are one
/// request seen twice (a capture on a bridge or of both sides of a router); further
/// apart, the second was sent again.
const ECHO_COPY_WINDOW: Duration = Duration::from_secs(1);
/// Most different requesters kept per ARP or echo target.
const MAX_REQUESTERS: usize = 16;
/// Most messages kept per DHCP transaction (a DISCOVER storm is counted, not kept).
const MAX_DHCP_MESSAGES: usize = 32;
/// Most addresses kept from one DNS answer.
const MAX_ANSWERS: usize = 16;
/// How long after an RFC 5227 probe a reply from another host counts as a conflict
/// (RFC 5227's ANNOUNCE_WAIT).
const PROBE_ANSWER_WINDOW: Duration = Duration::from_secs(2);
/// How long after a duplicate address detection probe (a Neighbor Solicitation from `::`)
/// a Neighbor Advertisement for the address from another MAC counts as a conflict: twice
/// RFC 4861's RETRANS_TIMER (1 s), the wait after each probe (RFC 4862 section 5.4), so a
/// host sending two probes is covered as well.
const DAD_ANSWER_WINDOW: Duration = Duration::from_secs(2);
/// The hop limit every neighbour discovery message carries (RFC 4861 sections 6.1 and
/// 7.1): anything else was forwarded and is not valid.
const ND_HOP_LIMIT: u8 = 255;
/// Most packet-too-big reports kept per destination (distinct sender, MTU and size).
const MAX_TOO_BIG: usize = 16;
/// Ports of DHCPv4 servers and clients.
const DHCP_PORTS: [u16; 2] = [67, 68];
const DNS_PORT: u16 = 53;

/// What the report's `host.hostname` says for an analysed capture: the capture does not
/// record which machine it was taken on, and the analysing machine is not it.
pub const CAPTURED_HOST: &str = "unknown (analysed capture)";

/// Analyses the Ethernet frames of a capture held in memory (pure): [`Analysis`] fed
/// every frame in order. `source` is the capture's path as shown in the evidence;
/// `started_at` and `hostname` go into the report as given.
pub fn analyze(frames: &[Frame], source: &str, started_at: Timestamp, hostname: String) -> Report {
    let mut analysis = Analysis::new();
    for frame in frames {
        analysis.feed(LinkType::Ethernet, &frame.data, frame.timestamp);
    }
    analysis.finish(source, started_at, hostname)
}

/// One capture's analysis, fed frame by frame (streamed: the state is per open exchange,
/// not per frame), then turned into a [`Report`] by [`Analysis::finish`].
pub struct Analysis {
    /// Created with the first frame, whose time is the capture's start.
    state: Option<State>,
    reassembler: Reassembler,
    start: Option<Duration>,
    end: Duration,
    /// VLAN ids seen, any depth.
    vlans: std::collections::BTreeSet<u16>,
    /// Tunnels seen by kind and key/VNI, in order of first sighting (at most [`MAX_LISTED`]).
    tunnels: Vec<TunnelSeen>,
    /// The ipv6 judge's settings (`expected_routers_v6`); the defaults unless given.
    ipv6_settings: Ipv6Settings,
    /// LLDP and CDP frames, folded into the neighbours check's evidence.
    neighbours: NeighboursState,
    /// The neighbours judge's settings (`expected_vlan`); the defaults unless given.
    neighbours_settings: NeighboursSettings,
}

impl Default for Analysis {
    fn default() -> Self {
        Analysis::new()
    }
}

impl Analysis {
    /// Nothing seen yet.
    pub fn new() -> Analysis {
        Analysis {
            state: None,
            reassembler: Reassembler::default(),
            start: None,
            end: Duration::ZERO,
            vlans: std::collections::BTreeSet::new(),
            tunnels: Vec::new(),
            ipv6_settings: Ipv6Settings::default(),
            neighbours: NeighboursState::default(),
            neighbours_settings: NeighboursSettings::default(),
        }
    }

    /// Judges the capture's LLDP and CDP frames with `settings` (its `expected_vlan` makes
    /// a switch port in another VLAN `link.unexpected_vlan`) instead of the defaults.
    pub fn with_neighbours_settings(mut self, settings: NeighboursSettings) -> Analysis {
        self.neighbours_settings = settings;
        self
    }

    /// Judges the capture's router advertisements with `settings` (its
    /// `expected_routers_v6` makes any other router `ipv6.unexpected_router`) instead of
    /// the defaults.
    pub fn with_ipv6_settings(mut self, settings: Ipv6Settings) -> Analysis {
        self.ipv6_settings = settings;
        self
    }

    /// Decodes one frame of link type `link`, captured at `ts`, and folds it in. Frames
    /// that do not decode, and fragments still waiting for the rest, add nothing.
    pub fn feed(&mut self, link: LinkType, frame: &[u8], ts: Duration) {
        self.feed_captured(link, frame, false, ts);
    }

    /// [`Analysis::feed`] for a capture record that the snap length may have cut
    /// (`truncated`: fewer bytes captured than the packet had): what its whole headers say
    /// is judged (a TCP SYN-ACK, an echo reply, a DNS answer's id, flags and rcode), never
    /// a cut payload ([`crate::wire::decode_captured`]).
    pub fn feed_captured(&mut self, link: LinkType, frame: &[u8], truncated: bool, ts: Duration) {
        let start = *self.start.get_or_insert(ts);
        self.start = Some(start.min(ts));
        self.end = self.end.max(ts);
        let state = self.state.get_or_insert_with(|| State::new(ts));
        if link == LinkType::Ethernet {
            self.neighbours.feed(frame, truncated, ts.saturating_sub(start));
        }
        if let Ok(Some(packet)) = self.reassembler.feed_captured(link, frame, truncated, ts) {
            self.vlans.extend(packet.vlans.iter().chain(packet.tunnels.iter().flat_map(|t| &t.vlans)));
            for tunnel in &packet.tunnels {
                let kind = match tunnel.kind {
                    TunnelKind::Gre => "gre",
                    TunnelKind::Vxlan => "vxlan",
                };
                let listed = self.tunnels.len();
                match self.tunnels.iter_mut().find(|t| t.kind == kind && t.id == tunnel.id) {
                    Some(seen) => seen.packets += 1,
                    None if listed < MAX_LISTED => {
                        self.tunnels.push(TunnelSeen { kind: kind.to_string(), id: tunnel.id, packets: 1 })
                    }
                    None => {}
                }
            }
            state.feed(packet, ts);
        }
    }

    /// The encapsulations seen so far, for the report's `capture`: the VLAN ids
    /// (ascending) and the tunnels.
    pub fn encapsulations(&self) -> (Vec<u16>, Vec<TunnelSeen>) {
        (self.vlans.iter().copied().collect(), self.tunnels.clone())
    }

    /// Judges what was fed into a report: `source` is the capture's path as shown in the
    /// evidence; `started_at` and `hostname` go into the report as given.
    pub fn finish(self, source: &str, started_at: Timestamp, hostname: String) -> Report {
        let start = self.start.unwrap_or_default();
        let end = self.end;
        let state = self.state.unwrap_or_else(|| State::new(start));
        let checks = vec![
            skipped(CheckId::Link, SkipReason::NotObservableInCapture, NOT_OBSERVABLE),
            skipped(CheckId::Wifi, SkipReason::NotObservableInCapture, NOT_OBSERVABLE),
            self.neighbours.check(source, &self.neighbours_settings),
            state.dhcp_check(source),
            state.ipv6_check(source, end, &self.ipv6_settings),
            state.gateway_check(source),
            state.dns_check(source),
            state.path_check(source),
            skipped(CheckId::Web, SkipReason::NotObservableInCapture, NOT_OBSERVABLE),
            state.ports_check(source),
        ];
        let diagnosis = crate::diagnosis::diagnose(&checks);
        let neighbour = checks.iter().find_map(CheckResult::neighbours).and_then(neighbours::line);
        Report {
            schema_version: SCHEMA_VERSION.to_string(),
            id: None,
            tool: ToolInfo { name: env!("CARGO_PKG_NAME").to_string(), version: env!("CARGO_PKG_VERSION").to_string() },
            started_at,
            duration_ms: whole_ms(end.saturating_sub(start)),
            host: HostInfo { hostname },
            interface: None,
            neighbour,
            privileged: false,
            privileges: None,
            redacted: false,
            capture: None,
            diagnosis,
            checks,
        }
    }
}

fn whole_ms(d: Duration) -> u64 {
    u64::try_from(d.as_millis()).unwrap_or(u64::MAX)
}

fn skipped(id: CheckId, code: SkipReason, reason: &str) -> CheckResult {
    CheckResult {
        id,
        status: CheckStatus::Skipped,
        duration_ms: 0,
        blocked_by: None,
        reason: Some(reason.to_string()),
        reason_code: Some(code),
        findings: vec![],
        evidence: Evidence::None,
    }
}

fn ran(id: CheckId, span: Span, findings: Vec<Finding>, evidence: Evidence) -> CheckResult {
    CheckResult {
        id,
        status: status_of(&findings),
        duration_ms: span.ms(),
        blocked_by: None,
        reason: None,
        reason_code: None,
        findings,
        evidence,
    }
}

fn round3(v: f64) -> f64 {
    (v * 1000.0).round() / 1000.0
}

/// First and last packet of one kind.
#[derive(Debug, Clone, Copy, Default)]
struct Span {
    first: Option<Duration>,
    last: Duration,
}

impl Span {
    fn add(&mut self, ts: Duration) {
        self.first.get_or_insert(ts);
        self.last = self.last.max(ts);
    }

    fn ms(self) -> u64 {
        self.first.map_or(0, |first| whole_ms(self.last.saturating_sub(first)))
    }

    /// The span covering both.
    fn merge(self, other: Span) -> Span {
        let first = match (self.first, other.first) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
        Span { first, last: self.last.max(other.last) }
    }
}

// ---------------------------------------------------------------------------------------
// Neighbours (LLDP, CDP)
// ---------------------------------------------------------------------------------------

/// The capture's LLDP and CDP frames: every neighbour as last heard (one per switch port,
/// at most [`neighbours::MAX_NEIGHBOURS`]), the frames that decoded per protocol and those
/// that did not (as a live run counts them), and their span.
#[derive(Default)]
struct NeighboursState {
    neighbours: Vec<Neighbour>,
    lldp_frames: u32,
    cdp_frames: u32,
    malformed: u32,
    span: Span,
}

impl NeighboursState {
    /// Folds an Ethernet frame in if it is LLDP or CDP (read by the live check's decoder,
    /// [`lldp::decode_frame`]); `since_start`: its time from the capture's first record. A
    /// discovery frame the snap length cut and that does not decode is not counted as
    /// malformed: the switch sent it whole.
    fn feed(&mut self, frame: &[u8], truncated: bool, since_start: Duration) {
        let Some(heard) = lldp::decode_frame(frame) else { return };
        match heard {
            Heard::Neighbour(mut n) => {
                match n.protocol {
                    Protocol::Lldp => self.lldp_frames = self.lldp_frames.saturating_add(1),
                    Protocol::Cdp => self.cdp_frames = self.cdp_frames.saturating_add(1),
                }
                n.heard_after_ms = Some(whole_ms(since_start));
                neighbours::merge(&mut self.neighbours, *n);
            }
            Heard::Malformed(..) if truncated => return,
            Heard::Malformed(..) => self.malformed = self.malformed.saturating_add(1),
        }
        self.span.add(since_start);
    }

    /// The neighbours check of the capture: `skipped` when it holds no LLDP or CDP frame,
    /// else the live judge on what the switches said. The capturing interface's speed and
    /// duplex are not in a capture, so only the switch's own claims are judged.
    fn check(&self, source: &str, settings: &NeighboursSettings) -> CheckResult {
        if self.lldp_frames == 0 && self.cdp_frames == 0 && self.malformed == 0 {
            return skipped(
                CheckId::Neighbours,
                SkipReason::NoPacketsInCapture,
                "no LLDP or CDP frames in the capture",
            );
        }
        let mut ev = NeighboursEvidence {
            interface: String::new(),
            neighbours: self.neighbours.clone(),
            local_speed_mbps: None,
            local_duplex: None,
            expected_vlan: settings.expected_vlan,
            waited: false,
            window_ms: None,
            listened_ms: self.span.ms(),
            ended: Ended::Capture,
            lldp_frames: self.lldp_frames,
            cdp_frames: self.cdp_frames,
            malformed_frames: self.malformed,
            listen_error: None,
            lldpd: LldpdStatus::Disabled,
            lldpd_error: None,
            notices: Vec::new(),
            capture: Some(source.to_string()),
        };
        ev.notices = neighbours::notices(&ev);
        let findings = neighbours::judge(&ev, settings);
        ran(CheckId::Neighbours, self.span, findings, Evidence::Neighbours(Box::new(ev)))
    }
}

// ---------------------------------------------------------------------------------------
// State
// ---------------------------------------------------------------------------------------

struct State {
    start: Duration,
    dhcp: DhcpState,
    ipv6: Ipv6State,
    neighbors: NeighborState,
    path: PathState,
    gateway: GatewayState,
    dns: DnsState,
    tcp: TcpState,
    /// The VLAN (innermost tag, or none) of the first request to each ARP, echo and DNS
    /// target (at most [`MAX_OPEN`] targets), so a trunk's gateways and servers are named
    /// with their VLAN.
    first_vlan: HashMap<IpAddr, Option<u16>>,
}

impl State {
    fn new(start: Duration) -> State {
        State {
            start,
            dhcp: DhcpState::default(),
            ipv6: Ipv6State::default(),
            neighbors: NeighborState::default(),
            path: PathState::default(),
            gateway: GatewayState::default(),
            dns: DnsState::default(),
            tcp: TcpState::default(),
            first_vlan: HashMap::default(),
        }
    }

    /// The VLAN the first request to `target` came in (none: untagged or not seen).
    fn vlan_of(&self, target: IpAddr) -> Option<u16> {
        self.first_vlan.get(&target).copied().flatten()
    }

    /// Notes the VLAN of a request to `target`, if it is the first.
    fn request_to(&mut self, target: IpAddr, vlan: Option<u16>) {
        if self.first_vlan.len() < MAX_OPEN || self.first_vlan.contains_key(&target) {
            self.first_vlan.entry(target).or_insert(vlan);
        }
    }

    /// Folds one decoded (or reassembled) packet into the state.
    fn feed(&mut self, packet: Packet, ts: Duration) {
        let src_mac = packet.src_mac;
        let vlan = packet.vlans.last().copied();
        match &packet.net {
            Net::Arp(arp) if arp.operation == ArpOperation::Request => self.request_to(IpAddr::V4(arp.target_ip), vlan),
            Net::Ip(ip) => match &ip.transport {
                Transport::Icmp(Icmp { message: IcmpMessage::EchoRequest { .. }, .. })
                | Transport::Icmpv6(Icmp { message: IcmpMessage::EchoRequest { .. }, .. }) => {
                    self.request_to(ip.dst, vlan)
                }
                Transport::Udp(udp) if udp.dst_port == DNS_PORT => self.request_to(ip.dst, vlan),
                _ => {}
            },
            _ => {}
        }
        let ip = match packet.net {
            Net::Arp(arp) => return self.arp(&arp, ts),
            Net::Ip(ip) => ip,
            Net::Other { .. } => return,
        };
        match ip.transport {
            Transport::Udp(udp) => {
                let d = UdpDatagram {
                    src: SocketAddr::new(ip.src, udp.src_port),
                    dst: SocketAddr::new(ip.dst, udp.dst_port),
                    payload: udp.payload,
                };
                if DHCP_PORTS.contains(&d.src.port()) || DHCP_PORTS.contains(&d.dst.port()) {
                    // A cut DHCP message has lost its options, the message type among them.
                    if !ip.truncated {
                        self.dhcp.feed(&d, src_mac, vlan, ts);
                    }
                } else if d.src.port() == DNS_PORT || d.dst.port() == DNS_PORT {
                    self.dns.feed(&d, ip.truncated, ts, self.start);
                }
            }
            Transport::Tcp(tcp) => self.tcp.feed(ip.src, ip.dst, &tcp, ts),
            Transport::Icmpv6(icmp) => {
                if let IpAddr::V6(src) = ip.src {
                    self.neighbor_discovery(src, ip.hop_limit, src_mac, vlan, &icmp.message, ts);
                }
                self.icmp(ip.src, ip.dst, &icmp, ts);
            }
            Transport::Icmp(icmp) => self.icmp(ip.src, ip.dst, &icmp, ts),
            Transport::Fragment | Transport::Other => {}
        }
    }

    fn arp(&mut self, arp: &Arp, ts: Duration) {
        let (sender, target) = (arp.sender_ip, arp.target_ip);
        match arp.operation {
            ArpOperation::Request => {
                // An RFC 5227 probe asks whether anyone else has the address; a reply from
                // another MAC is a duplicate address (the dhcp check's duplicate_check).
                if sender.is_unspecified() {
                    if !target.is_unspecified() {
                        self.gateway.arp_probe(target, arp.sender_mac, ts);
                    }
                    return;
                }
                // Announcements expect no reply.
                if sender == target {
                    return;
                }
                self.gateway.arp_request(sender, arp.sender_mac, target, ts, self.start);
            }
            // A reply without a hardware address answers nothing.
            ArpOperation::Reply if !arp.sender_mac.is_zero() => {
                self.gateway.probe_answered(sender, arp.sender_mac, ts);
                self.gateway.arp_reply(sender, arp.sender_mac, target, ts);
            }
            ArpOperation::Reply | ArpOperation::Other(_) => {}
        }
    }

    /// Router Solicitations and Advertisements (the ipv6 evidence), duplicate address
    /// detection, and Neighbor Solicitations and Advertisements (the gateway evidence's
    /// IPv6 part). Messages whose hop limit is not 255 were forwarded: not valid (RFC 4861
    /// sections 6.1 and 7.1.1), counted as invalid when they are advertisements.
    fn neighbor_discovery(
        &mut self,
        src: Ipv6Addr,
        hop_limit: u8,
        src_mac: MacAddr,
        vlan: Option<u16>,
        message: &IcmpMessage,
        ts: Duration,
    ) {
        let valid = hop_limit == ND_HOP_LIMIT;
        match message {
            IcmpMessage::RouterSolicitation if valid => self.ipv6.solicitation(ts),
            IcmpMessage::RouterAdvertisement { message } => self.ipv6.advertisement(src, valid, message, ts),
            IcmpMessage::NeighborSolicitation { target } if valid => {
                if src.is_unspecified() {
                    if !src_mac.is_zero() {
                        self.ipv6.dad_probe(*target, src_mac, ts);
                    }
                } else {
                    self.request_to(IpAddr::V6(*target), vlan);
                    self.neighbors.solicitation(src, *target, ts);
                }
            }
            IcmpMessage::NeighborAdvertisement { target, router, target_mac, .. } if valid => {
                let Some(mac) = target_mac.or((!src_mac.is_zero()).then_some(src_mac)) else { return };
                self.ipv6.dad_answer(*target, mac, ts);
                self.neighbors.advertisement(*target, *router, mac, ts);
            }
            _ => {}
        }
    }

    fn icmp(&mut self, src: IpAddr, dst: IpAddr, icmp: &Icmp, ts: Duration) {
        match icmp.message {
            IcmpMessage::EchoRequest { id, seq } => self.gateway.echo_request(src, dst, id, seq, ts),
            IcmpMessage::EchoReply { id, seq } => self.gateway.echo_reply(src, dst, id, seq, ts),
            IcmpMessage::Unreachable { quoted: Some(quoted) } => {
                let Some(what) = icmp.unreachable_reason() else { return };
                let Some((from, to)) = quoted.sockets() else { return };
                let error = format!("ICMP {what} from {src}");
                match quoted.protocol {
                    PROTO_UDP if to.port() == DNS_PORT => self.dns.unreachable(from, to.ip(), error),
                    PROTO_TCP => self.tcp.unreachable(from, to, error, ts),
                    _ => {}
                }
            }
            // A packet too big for the next hop (IPv4 fragmentation needed, ICMPv6 packet too
            // big): the path evidence; an echo request it quotes was too big, not lost.
            IcmpMessage::PacketTooBig { mtu, quoted } => {
                self.path.too_big(src, mtu, quoted.as_ref(), ts);
                if let Some(q) = quoted
                    && let Some((id, seq)) = q.echo
                {
                    self.gateway.echo_too_big(q.src, q.dst, id, seq, ts);
                }
            }
            // A TTL-limited probe (a traceroute's: ICMP, UDP or TCP), matched exactly by the
            // echo id and sequence or the sockets the error quotes: not a ping that was
            // lost, a query that timed out or a port that is filtered.
            IcmpMessage::TimeExceeded { quoted: Some(quoted) } => {
                if let Some((id, seq)) = quoted.echo {
                    self.gateway.echo_expired(quoted.src, quoted.dst, id, seq, ts)
                } else if let Some((from, to)) = quoted.sockets() {
                    match quoted.protocol {
                        PROTO_UDP if to.port() == DNS_PORT => self.dns.expired(from, to.ip()),
                        PROTO_TCP => self.tcp.expired(from, to),
                        _ => {}
                    }
                }
            }
            _ => {}
        }
    }

    // -----------------------------------------------------------------------------------
    // From observations to the layers' evidence and judges
    // -----------------------------------------------------------------------------------

    fn dhcp_check(&self, source: &str) -> CheckResult {
        let s = &self.dhcp;
        if s.txns.is_empty() && s.untracked == 0 && self.gateway.probes.is_empty() {
            return skipped(CheckId::Dhcp, SkipReason::NoPacketsInCapture, "no DHCP packets in the capture");
        }
        let ack = s.last_ack.as_ref();
        let mut ev = DhcpEvidence {
            ipv4: vec![],
            usable_ipv4: ack.map(|a| a.address),
            leases: vec![],
            current: CurrentConfig {
                routers: ack.map(|a| a.routers.clone()).unwrap_or_default(),
                dns: ack.map(|a| a.dns.clone()).unwrap_or_default(),
                subnet_mask: ack.and_then(|a| a.subnet_mask),
                ..CurrentConfig::default()
            },
            probe: Probe {
                status: ProbeStatus::NotRun,
                reason: Some(format!("{NOT_OBSERVABLE}: see `transactions`")),
                mac: None,
                xid: None,
                offers: vec![],
                dropped: 0,
                first_offer_ms: None,
                listened_ms: None,
            },
            full: None,
            duplicate_check: self.gateway.duplicate_check(),
            capture: Some(DhcpCapture {
                source: source.to_string(),
                transactions: s.txns.clone(),
                transactions_total: s.txns.len(),
                servers: s.servers.clone(),
                untracked: s.untracked,
            }),
        };
        let findings = dhcp::judge(source, &ev, &DhcpSettings::default(), &[], Source::Capture);
        if let Some(c) = ev.capture.as_mut() {
            c.transactions.truncate(MAX_LISTED);
        }
        ran(CheckId::Dhcp, s.span, findings, Evidence::Dhcp(Box::new(ev)))
    }

    fn ipv6_check(&self, source: &str, end: Duration, settings: &Ipv6Settings) -> CheckResult {
        let v = &self.ipv6;
        if v.solicitations == 0 && v.received == 0 && v.invalid == 0 && v.probes.is_empty() {
            return skipped(
                CheckId::Ipv6,
                SkipReason::NotObservableInCapture,
                "no Router Solicitation or Advertisement and no duplicate address detection in the capture",
            );
        }
        let solicitation = match v.first_solicitation {
            Some(first) => Solicitation {
                status: SolicitStatus::Sent,
                reason: Some(format!("{} router solicitation(s) in the capture", v.solicitations)),
                listened_ms: Some(millis(end.saturating_sub(first))),
                received: v.received,
                invalid: v.invalid,
                dropped: v.dropped,
            },
            None => Solicitation {
                status: SolicitStatus::NotRun,
                reason: Some("no router solicitation in the capture: unsolicited advertisements only".to_string()),
                listened_ms: None,
                received: v.received,
                invalid: v.invalid,
                dropped: v.dropped,
            },
        };
        let mut ev = Ipv6Evidence {
            interface: source.to_string(),
            enabled: true,
            sysctl: crate::platform::sysfs::Ipv6Conf::default(),
            solicitation: Some(solicitation),
            ra_mtu: v.routers.iter().find_map(|r| r.mtu),
            routers: v.routers.clone(),
            kernel_ra_routes: vec![],
            addresses: vec![],
            resolvers: vec![],
            notices: vec![],
            capture: Some(Ipv6Capture {
                source: source.to_string(),
                router_solicitations: v.solicitations,
                dad: v
                    .probes
                    .iter()
                    .map(|p| DadSeen { address: p.address, prober: p.prober, conflict_mac: p.conflict })
                    .collect(),
            }),
        };
        ev.notices = ipv6::notices(&ev);
        let findings = ipv6::judge(&ev, settings, Source::Capture);
        ran(CheckId::Ipv6, v.span, findings, Evidence::Ipv6(Box::new(ev)))
    }

    fn path_check(&self, source: &str) -> CheckResult {
        let p = &self.path;
        if p.destinations.is_empty() {
            let reason = if p.total == 0 {
                "no ICMP fragmentation-needed or packet-too-big in the capture: a capture shows the path MTU only \
                 when a router reports it (a blackhole is judged by live runs)"
                    .to_string()
            } else {
                format!(
                    "{} ICMP fragmentation-needed or packet-too-big in the capture, none quoting a packet larger \
                     than the MTU it reports: the path MTU is not observable",
                    p.total
                )
            };
            return skipped(CheckId::Path, SkipReason::NotObservableInCapture, &reason);
        }
        let destinations = p
            .destinations
            .iter()
            .map(|(address, reports)| {
                let largest = reports.iter().map(|t| t.size).max().unwrap_or(0);
                PathProbe {
                    target: address.to_string(),
                    role: Role::Target,
                    address: *address,
                    status: PathStatus::Reduced,
                    full_size: largest,
                    min_size: path::min_size(*address),
                    largest_ok: None,
                    smallest_lost: reports.iter().map(|t| t.size).min(),
                    reported_mtu: reports.iter().filter(|t| t.mtu > 0 && t.mtu < t.size).map(|t| t.mtu).min(),
                    too_big: reports.clone(),
                    probes: vec![],
                    rtt_ms: None,
                    rounds: 0,
                    ms: 0.0,
                }
            })
            .collect();
        let mut ev = PathEvidence {
            interface_mtu: None,
            ra_mtu: self.ipv6.routers.iter().find_map(|r| r.mtu),
            destinations,
            notices: vec![],
            capture: Some(PathCapture { source: source.to_string(), too_big_total: p.total }),
        };
        ev.notices = path::notices(&ev);
        let findings = path::judge(&ev);
        ran(CheckId::Path, p.span, findings, Evidence::Path(Box::new(ev)))
    }

    /// The IPv6 part of the gateway evidence: every router the capture shows (an RA with a
    /// router lifetime, or a Neighbor Advertisement with the R flag) that some host
    /// solicited or pinged, with its Neighbor Solicitations and echoes.
    fn gateways_v6(&self, routers: &[Ipv4Addr]) -> Vec<GatewayV6Probe> {
        let mut out: Vec<GatewayV6Probe> = Vec::new();
        let advertised = self.ipv6.routers.iter().filter(|r| r.router_lifetime_s > 0).map(|r| r.source);
        for address in advertised.chain(self.neighbors.routers.iter().copied()) {
            if out.iter().any(|g| g.address == address) || out.len() >= MAX_LISTED {
                continue;
            }
            let ns = self.neighbors.targets.get(&address);
            let pinged = self.gateway.echo_index.contains_key(&IpAddr::V6(address));
            if ns.is_none_or(|t| t.requests == 0) && !pinged {
                continue;
            }
            let seen = |replies: u32, requesters: u32| ArpSeen {
                replies,
                exchanges: vec![],
                requesters,
                sweep: false,
                dhcp_router: false,
                vlan: self.vlan_of(IpAddr::V6(address)),
            };
            let ns = match ns.filter(|t| t.requests > 0) {
                Some(t) => ArpResult {
                    status: if t.replies > 0 { ArpStatus::Answered } else { ArpStatus::NoReply },
                    mac: t.mac,
                    rtt_ms: t.rtt.map(millis),
                    requests_sent: t.requests,
                    seen: Some(seen(t.replies, t.requesters.len() as u32)),
                },
                None => ArpResult {
                    status: ArpStatus::NotApplicable,
                    mac: None,
                    rtt_ms: None,
                    requests_sent: 0,
                    seen: Some(seen(0, 0)),
                },
            };
            let ping = if pinged { self.gateway.entry(IpAddr::V6(address), routers).ping } else { None };
            out.push(GatewayV6Probe { address, ns, ping });
        }
        out
    }

    fn gateway_check(&self, source: &str) -> CheckResult {
        let g = &self.gateway;
        let routers: Vec<Ipv4Addr> = self.dhcp.last_ack.as_ref().map(|a| a.routers.clone()).unwrap_or_default();
        let gateways_v6 = self.gateways_v6(&routers);
        if g.order.is_empty() && g.untracked == 0 && gateways_v6.is_empty() {
            return skipped(
                CheckId::Gateway,
                SkipReason::NoPacketsInCapture,
                "no ARP or ICMP echo packets in the capture",
            );
        }
        // An IPv6 router's echoes are in its `gateways_v6` entry.
        let mut gateways: Vec<GatewayProbe> = g
            .order
            .iter()
            .filter(|a| !matches!(a, IpAddr::V6(v6) if gateways_v6.iter().any(|r| r.address == *v6)))
            .map(|&address| g.entry(address, &routers))
            .collect();
        // Echoes whose every sender is a DHCP server that offered the address: the
        // server's conflict check before its OFFER (RFC 2131 section 4.4.1), not a gateway's.
        for gw in &mut gateways {
            let IpAddr::V4(address) = gw.address else { continue };
            let Some(ping) = gw.ping.as_mut() else { continue };
            let requesters = g.echo_index.get(&gw.address).and_then(|&i| g.echo[i].requesters.as_ref());
            ping.dhcp_conflict_check = requesters.is_some_and(|r| {
                !r.is_empty() && r.iter().all(|server| self.dhcp.offered.contains(&(*server, address)))
            });
        }
        for gw in &mut gateways {
            if let Some(seen) = gw.arp.seen.as_mut() {
                seen.vlan = self.vlan_of(gw.address);
            }
        }
        let mut ev = GatewayEvidence {
            default_routes: vec![],
            capture: Some(GatewayCapture {
                source: source.to_string(),
                gateways_total: gateways.len(),
                untracked: g.untracked,
            }),
            gateways,
            gateways_v6,
            echo_socket: None,
        };
        // Only unanswered lookups of addresses that are not gateways (a router sweeping
        // absent hosts): nothing about a gateway was seen, so nothing to judge. The
        // evidence still lists what was seen.
        if g.untracked == 0 && ev.gateways_v6.is_empty() && !ev.gateways.iter().any(gateway::observed_in_capture) {
            ev.gateways.truncate(MAX_LISTED);
            return CheckResult {
                evidence: Evidence::Gateway(Box::new(ev)),
                ..skipped(
                    CheckId::Gateway,
                    SkipReason::NoPacketsInCapture,
                    "no exchange with a gateway in the capture: only unanswered ARP lookups of other addresses",
                )
            };
        }
        let findings = gateway::judge(source, &ev, &GatewaySettings::default(), Source::Capture);
        ev.gateways.truncate(MAX_LISTED);
        let span = if ev.gateways_v6.is_empty() { g.span } else { g.span.merge(self.neighbors.span) };
        ran(CheckId::Gateway, span, findings, Evidence::Gateway(Box::new(ev)))
    }

    fn dns_check(&self, source: &str) -> CheckResult {
        let d = &self.dns;
        if d.queries.is_empty() && d.overflow.order.is_empty() && d.untracked == 0 {
            return skipped(CheckId::Dns, SkipReason::NoPacketsInCapture, "no DNS queries in the capture");
        }
        let mut order: Vec<IpAddr> = Vec::new();
        let mut by_server: HashMap<IpAddr, Vec<&DnsQuery>> = HashMap::default();
        // A query whose answer was cut inside its header came back, but nothing says how.
        for q in d.queries.iter().filter(|q| !q.unjudged) {
            by_server
                .entry(q.server)
                .or_insert_with(|| {
                    order.push(q.server);
                    Vec::new()
                })
                .push(q);
        }
        for server in &d.overflow.order {
            if !by_server.contains_key(server) {
                by_server.insert(*server, Vec::new());
                order.push(*server);
            }
        }
        if order.is_empty() && d.untracked == 0 {
            return skipped(
                CheckId::Dns,
                SkipReason::NoPacketsInCapture,
                "no DNS exchange to judge in the capture: only TTL-limited probes or answers cut inside their header",
            );
        }
        // (server, name, type) to the last time a query for it was answered (any rcode) and
        // answered usefully: an earlier unanswered query for the same was retried, and an
        // earlier error rcode (FORMERR, BADVERS, SERVFAIL) or unreadable answer followed by
        // a useful one was an EDNS fallback or a retry.
        let extra_failures = d.overflow.failures();
        let mut listed: Vec<usize> = Vec::new();
        let mut last_answered: HashMap<Question, Duration> = d.overflow.late_answered.clone();
        let mut last_useful: HashMap<Question, Duration> = d.overflow.late_useful.clone();
        for q in d.queries.iter().filter(|q| is_response(q.outcome)) {
            let key = (q.server, q.key_name.clone(), q.rtype);
            if is_useful(q.outcome) {
                let t = last_useful.entry(key.clone()).or_default();
                *t = (*t).max(q.first_sent);
            }
            let t = last_answered.entry(key).or_default();
            *t = (*t).max(q.first_sent);
        }
        let servers: Vec<ServerResult> = order
            .iter()
            .map(|server| {
                let queries = &by_server[server];
                let forgiven = |q: &DnsQuery| {
                    let later = if is_useful(q.outcome) {
                        return false;
                    } else if is_response(q.outcome) {
                        &last_useful
                    } else {
                        &last_answered
                    };
                    later.get(&(q.server, q.key_name.clone(), q.rtype)).is_some_and(|t| *t > q.first_sent)
                };
                let mut results: Vec<QueryResult> = queries.iter().map(|q| q.result(forgiven(q))).collect();
                let mut answered = results.iter().filter(|q| q.is_response()).count();
                // When the failures held against the server happened, in capture time.
                let failed: Vec<Duration> = queries
                    .iter()
                    .zip(&results)
                    .filter(|(_, r)| dns::counts_against(r))
                    .map(|(q, _)| q.first_sent)
                    .collect();
                let mut ms_sum = results.iter().filter_map(|q| q.ms).sum::<f64>();
                let mut ms_count = results.iter().filter(|q| q.ms.is_some()).count();
                let mut total = queries.len();
                // Beyond the tracking bound: the counters, and one query standing for each
                // outcome so the verdict is over every query (removed after judging).
                let runs = extra_failures.get(server).map(Vec::as_slice).unwrap_or_default();
                let failures = failed.len() + runs.iter().map(|r| r.count).sum::<usize>();
                let first = failed.iter().copied().chain(runs.iter().map(|r| r.first)).min();
                let last = failed.iter().copied().chain(runs.iter().map(|r| r.last)).max();
                if let Some(tally) = d.overflow.servers.get(server) {
                    total += tally.total;
                    answered += tally.answered;
                    ms_sum += tally.ms_sum;
                    ms_count += tally.ms_count;
                    results.extend(tally.useful.iter().map(|(o, name, rtype)| example(&name.display(), *rtype, *o)));
                }
                results.extend(runs.iter().map(FailureRun::example));
                let at = |d: Option<Duration>| d.map(|d| Timestamp(std::time::UNIX_EPOCH + d));
                let mut result = dns::server_result(*server, results, Source::Capture);
                if ms_count > 0 {
                    result.avg_ms = Some(round3(ms_sum / ms_count as f64));
                }
                result.capture = Some(ServerCapture {
                    queries_total: total,
                    answered,
                    failed: failures,
                    first_failure: at(first),
                    last_failure: at(last),
                    vlan: self.vlan_of(*server),
                });
                listed.push(queries.len().min(MAX_LISTED));
                result
            })
            .collect();

        let mut names: Vec<String> = Vec::new();
        let mut cache_buster = String::new();
        for q in &d.queries {
            if is_cache_buster(&q.name) {
                if cache_buster.is_empty() {
                    cache_buster = q.name.clone();
                }
            } else if names.len() < MAX_LISTED && !names.contains(&q.name) {
                names.push(q.name.clone());
            }
        }
        let mut ev = DnsEvidence {
            source: source.to_string(),
            stub: None,
            names,
            cache_buster,
            capture: Some(DnsCapture { servers_total: servers.len(), untracked: d.untracked }),
            servers,
            system: None,
        };
        let findings = dns::judge(&ev, &DnsSettings::default(), Source::Capture);
        ev.servers.truncate(MAX_LISTED);
        for (server, listed) in ev.servers.iter_mut().zip(listed) {
            server.queries.truncate(listed);
        }
        ran(CheckId::Dns, d.span, findings, Evidence::Dns(Box::new(ev)))
    }

    fn ports_check(&self, source: &str) -> CheckResult {
        let t = &self.tcp;
        if t.attempts.is_empty() && t.overflow_order.is_empty() && t.untracked == 0 {
            return skipped(
                CheckId::Ports,
                SkipReason::NoPacketsInCapture,
                "no TCP connection attempts (SYN) in the capture",
            );
        }
        let mut order: Vec<SocketAddr> = Vec::new();
        let mut by_target: HashMap<SocketAddr, Vec<&TcpAttempt>> = HashMap::default();
        for a in t.attempts.iter().filter(|a| !a.probe) {
            by_target
                .entry(a.server)
                .or_insert_with(|| {
                    order.push(a.server);
                    Vec::new()
                })
                .push(a);
        }
        for server in &t.overflow_order {
            if !by_target.contains_key(server) {
                by_target.insert(*server, Vec::new());
                order.push(*server);
            }
        }
        if order.is_empty() && t.untracked == 0 {
            return skipped(
                CheckId::Ports,
                SkipReason::NoPacketsInCapture,
                "no TCP connection attempts in the capture: only a traceroute's TTL-limited SYNs",
            );
        }
        // Attempts beyond the bound still open at the end of the capture were filtered.
        let mut still_open: HashMap<SocketAddr, TargetTally> = HashMap::default();
        for a in t.overflow_open.values() {
            still_open.entry(a.server).or_default().add(a);
        }
        let targets: Vec<PortResult> = order
            .iter()
            .map(|server| {
                let mut tally = TargetTally::default();
                for a in &by_target[server] {
                    tally.add(a);
                }
                for extra in [t.overflow.get(server), still_open.get(server)].into_iter().flatten() {
                    tally.merge(extra);
                }
                port_result(*server, &tally)
            })
            .collect();
        let mut ev = PortsEvidence {
            capture: Some(PortsCapture {
                source: source.to_string(),
                targets_total: targets.len(),
                untracked: t.untracked,
            }),
            targets,
        };
        let findings = ports::judge(&ev);
        ev.targets.truncate(MAX_LISTED);
        ran(CheckId::Ports, t.span, findings, Evidence::Ports(Box::new(ev)))
    }
}

// ---------------------------------------------------------------------------------------
// DHCP state
// ---------------------------------------------------------------------------------------

#[derive(Default)]
struct DhcpState {
    span: Span,
    txns: Vec<DhcpTransaction>,
    /// When each transaction's first message was seen.
    first: Vec<Duration>,
    /// By xid, client MAC and VLAN.
    index: HashMap<(u32, MacAddr, Option<u16>), usize>,
    servers: Vec<DhcpServerSeen>,
    last_ack: Option<DhcpReply>,
    untracked: u32,
    /// (server, address) of each OFFER: its server identifier and its IP source, with the
    /// address offered (at most [`MAX_OPEN`]), for the servers' conflict-detection pings.
    offered: std::collections::HashSet<(IpAddr, Ipv4Addr), foldhash::fast::RandomState>,
}

impl DhcpState {
    /// Folds one DHCP message that came on `vlan` (the innermost tag, if any).
    fn feed(&mut self, d: &UdpDatagram, src_mac: MacAddr, vlan: Option<u16>, ts: Duration) {
        let Some(msg) = decode_message(&d.payload) else { return };
        let Some(client_mac) = msg.chaddr().get(..6).and_then(MacAddr::from_slice) else { return };
        let opts = msg.opts();
        let (kind, server, server_mac, address, reply) = match msg.opcode() {
            Opcode::BootRequest => {
                let Some(kind) = opts.msg_type().map(DhcpKind::of) else { return };
                if kind.is_reply() || kind == DhcpKind::Other {
                    return;
                }
                let server = match opts.get(OptionCode::ServerIdentifier) {
                    Some(DhcpOption::ServerIdentifier(ip)) => Some(*ip),
                    _ => None,
                };
                let requested = match opts.get(OptionCode::RequestedIpAddress) {
                    Some(DhcpOption::RequestedIpAddress(ip)) => Some(*ip),
                    _ => Some(msg.ciaddr()).filter(|ip| !ip.is_unspecified()),
                };
                (kind, server, None, requested, None)
            }
            Opcode::BootReply => {
                let IpAddr::V4(src_ip) = d.src.ip() else { return };
                let Some(reply) = reply_from(&msg, src_ip, src_mac) else { return };
                let address = Some(reply.address).filter(|ip| !ip.is_unspecified());
                (reply.kind, Some(reply.server), Some(reply.server_mac), address, Some(reply))
            }
            Opcode::Unknown(_) => return,
        };
        self.span.add(ts);
        let key = (msg.xid(), client_mac, vlan);
        let i = match self.index.get(&key) {
            Some(&i) => i,
            None if self.txns.len() >= MAX_TRACKED => {
                self.untracked = self.untracked.saturating_add(1);
                return;
            }
            None => {
                self.txns.push(DhcpTransaction {
                    xid: msg.xid(),
                    client_mac,
                    messages: vec![],
                    dropped: 0,
                    discovers: 0,
                    broadcast: false,
                    answered: false,
                    requested: None,
                    vlan,
                });
                self.first.push(ts);
                self.index.insert(key, self.txns.len() - 1);
                self.txns.len() - 1
            }
        };
        let txn = &mut self.txns[i];
        match kind {
            DhcpKind::Discover => {
                txn.discovers = txn.discovers.saturating_add(1);
                txn.broadcast |= msg.flags().broadcast();
            }
            DhcpKind::Request | DhcpKind::Decline | DhcpKind::Release | DhcpKind::Inform => {
                txn.requested = address.or(txn.requested)
            }
            _ => {}
        }
        let message = reply.as_ref().and_then(|r| r.message.clone());
        if txn.messages.len() < MAX_DHCP_MESSAGES {
            let ms = millis(ts.saturating_sub(self.first[i]));
            txn.messages.push(DhcpMessageSeen { kind, server, server_mac, address, message, ms });
        } else {
            txn.dropped = txn.dropped.saturating_add(1);
        }
        let Some(reply) = reply else { return };
        match reply.kind {
            DhcpKind::Offer => {
                txn.answered = true;
                if self.offered.len() < MAX_OPEN && !reply.address.is_unspecified() {
                    self.offered.insert((IpAddr::V4(reply.server), reply.address));
                    self.offered.insert((d.src.ip(), reply.address));
                }
                match self.servers.iter().position(|s| s.server == reply.server && s.vlan == vlan) {
                    Some(i) => self.servers[i].offers = self.servers[i].offers.saturating_add(1),
                    None if self.servers.len() < MAX_LISTED => self.servers.push(DhcpServerSeen {
                        server: reply.server,
                        mac: reply.server_mac,
                        offers: 1,
                        vlan,
                    }),
                    None => {}
                }
            }
            DhcpKind::Ack => {
                txn.answered = true;
                self.last_ack = Some(reply);
            }
            _ => {}
        }
    }
}

// ---------------------------------------------------------------------------------------
// IPv6 state: router discovery and duplicate address detection
// ---------------------------------------------------------------------------------------

#[derive(Default)]
struct Ipv6State {
    span: Span,
    /// Router Solicitations seen, and when the first was.
    solicitations: u32,
    first_solicitation: Option<Duration>,
    /// One entry per router, as last heard (at most [`MAX_ROUTERS`]).
    routers: Vec<RouterAdvert>,
    /// Valid RAs, RAs failing RFC 4861's checks (the parser's, and hop limit 255), and
    /// valid ones from routers beyond [`MAX_ROUTERS`].
    received: u32,
    invalid: u32,
    dropped: u32,
    /// Duplicate address detection probes, one per (address, prober), at most [`MAX_LISTED`].
    probes: Vec<DadProbe>,
}

/// A duplicate address detection probe and the first other host that answered it.
struct DadProbe {
    address: Ipv6Addr,
    prober: MacAddr,
    /// The latest probe for this address from this prober.
    at: Duration,
    conflict: Option<MacAddr>,
}

impl Ipv6State {
    fn solicitation(&mut self, ts: Duration) {
        self.span.add(ts);
        self.solicitations = self.solicitations.saturating_add(1);
        self.first_solicitation.get_or_insert(ts);
    }

    /// A Router Advertisement (the whole ICMPv6 message), read by the ipv6 check's own
    /// parser; `valid` is false when its hop limit was not 255.
    fn advertisement(&mut self, source: Ipv6Addr, valid: bool, message: &[u8], ts: Duration) {
        self.span.add(ts);
        let Some(mut ra) = valid.then(|| parse_router_advert(message, source).ok()).flatten() else {
            self.invalid = self.invalid.saturating_add(1);
            return;
        };
        self.received = self.received.saturating_add(1);
        // As the live check's `first_ms`: from the (first) solicitation before it.
        ra.first_ms = self.first_solicitation.filter(|rs| *rs <= ts).map(|rs| millis(ts - rs));
        let kept = self.routers.len();
        match self.routers.iter_mut().find(|r| r.source == ra.source) {
            Some(known) => {
                ra.count = known.count.saturating_add(1);
                ra.first_ms = known.first_ms.or(ra.first_ms);
                *known = ra;
            }
            None if kept < MAX_ROUTERS => self.routers.push(ra),
            None => self.dropped = self.dropped.saturating_add(1),
        }
    }

    fn dad_probe(&mut self, address: Ipv6Addr, prober: MacAddr, ts: Duration) {
        self.span.add(ts);
        let kept = self.probes.len();
        match self.probes.iter_mut().find(|p| p.address == address && p.prober == prober) {
            Some(p) => p.at = ts,
            None if kept < MAX_LISTED => {
                self.probes.push(DadProbe { address, prober, at: ts, conflict: None });
            }
            None => {}
        }
    }

    /// A Neighbor Advertisement for `target` from `mac`: a conflict for every recent probe
    /// of that address by another MAC (RFC 4862 section 5.4.4).
    fn dad_answer(&mut self, target: Ipv6Addr, mac: MacAddr, ts: Duration) {
        for p in &mut self.probes {
            if p.address == target
                && p.prober != mac
                && p.conflict.is_none()
                && ts >= p.at
                && ts - p.at <= DAD_ANSWER_WINDOW
            {
                p.conflict = Some(mac);
                self.span.add(ts);
            }
        }
    }
}

// ---------------------------------------------------------------------------------------
// Neighbour state: Neighbor Solicitations and Advertisements (the ARP of IPv6)
// ---------------------------------------------------------------------------------------

#[derive(Default)]
struct NeighborState {
    /// First and last Neighbor Solicitation or Advertisement of a tracked target.
    span: Span,
    /// Per address asked about (at most [`MAX_TRACKED`]; beyond, not tracked).
    targets: HashMap<Ipv6Addr, NsTarget>,
    /// Addresses a Neighbor Advertisement with the R flag showed to be routers (at most
    /// [`MAX_ROUTERS`]).
    routers: Vec<Ipv6Addr>,
}

#[derive(Default)]
struct NsTarget {
    requests: u32,
    /// Different hosts that asked, at most [`MAX_REQUESTERS`].
    requesters: Vec<Ipv6Addr>,
    replies: u32,
    mac: Option<MacAddr>,
    /// The oldest solicitation not answered yet, and the first round trip.
    pending: Option<Duration>,
    rtt: Option<Duration>,
}

impl NeighborState {
    fn solicitation(&mut self, sender: Ipv6Addr, target: Ipv6Addr, ts: Duration) {
        if self.targets.len() >= MAX_TRACKED && !self.targets.contains_key(&target) {
            return;
        }
        self.span.add(ts);
        let t = self.targets.entry(target).or_default();
        t.requests = t.requests.saturating_add(1);
        t.pending.get_or_insert(ts);
        if t.requesters.len() < MAX_REQUESTERS && !t.requesters.contains(&sender) {
            t.requesters.push(sender);
        }
    }

    fn advertisement(&mut self, target: Ipv6Addr, router: bool, mac: MacAddr, ts: Duration) {
        if router && !self.routers.contains(&target) && self.routers.len() < MAX_ROUTERS {
            self.routers.push(target);
        }
        let Some(t) = self.targets.get_mut(&target) else { return };
        self.span.add(ts);
        t.replies = t.replies.saturating_add(1);
        t.mac.get_or_insert(mac);
        if let Some(sent) = t.pending.take() {
            t.rtt.get_or_insert(ts.saturating_sub(sent));
        }
    }
}

// ---------------------------------------------------------------------------------------
// Path state: fragmentation needed and packet too big
// ---------------------------------------------------------------------------------------

#[derive(Default)]
struct PathState {
    span: Span,
    /// Per destination of the packets that were too big, in order seen (at most
    /// [`MAX_LISTED`]): the distinct reports (at most [`MAX_TOO_BIG`]).
    destinations: Vec<(IpAddr, Vec<TooBigSeen>)>,
    /// Every report seen, also those without a readable quote or a plausible MTU.
    total: u32,
}

impl PathState {
    fn too_big(&mut self, from: IpAddr, mtu: u32, quoted: Option<&Quoted>, ts: Duration) {
        self.span.add(ts);
        self.total = self.total.saturating_add(1);
        // A report whose MTU is not below the size of the packet it quotes (a crafted or
        // broken one) says nothing about the path: counted, not listed.
        let Some(q) = quoted.filter(|q| mtu < q.size) else { return };
        let report = TooBigSeen { from, mtu, size: q.size };
        let listed = self.destinations.len();
        match self.destinations.iter_mut().find(|(d, _)| *d == q.dst) {
            Some((_, reports)) if reports.len() < MAX_TOO_BIG && !reports.contains(&report) => reports.push(report),
            Some(_) => {}
            None if listed < MAX_LISTED => self.destinations.push((q.dst, vec![report])),
            None => {}
        }
    }
}

// ---------------------------------------------------------------------------------------
// Gateway state: ARP (with RFC 5227 probes) and ICMP echo
// ---------------------------------------------------------------------------------------

#[derive(Default)]
struct GatewayState {
    span: Span,
    /// ARP and echo targets in order of first appearance.
    order: Vec<IpAddr>,
    arp: Vec<ArpTarget>,
    arp_index: HashMap<Ipv4Addr, usize>,
    arp_stored: usize,
    echo: Vec<EchoTarget>,
    echo_index: HashMap<IpAddr, usize>,
    echo_pending: HashMap<(IpAddr, IpAddr, u16, u16), (usize, usize)>,
    echo_stored: usize,
    /// Echo requests beyond [`MAX_TRACKED`] waiting for their reply: (target, sent).
    echo_open: OpenTable<(IpAddr, IpAddr, u16, u16), (usize, Duration)>,
    /// Requester to how many different addresses it asked ARP for (counted up to
    /// [`ARP_SWEEP_TARGETS`]).
    asked: HashMap<Ipv4Addr, u32>,
    /// RFC 5227 probes, one per (address, prober), at most [`MAX_LISTED`].
    probes: Vec<ArpProbe>,
    untracked: u32,
}

struct ArpTarget {
    requests: u32,
    /// Different hosts that asked, at most [`MAX_REQUESTERS`].
    requesters: Vec<Ipv4Addr>,
    replies: u32,
    mac: Option<MacAddr>,
    /// The exchanges and when each request was sent.
    exchanges: Vec<(ArpExchange, Duration)>,
}

/// An RFC 5227 ARP probe (sender 0.0.0.0) and the first other host that answered it.
struct ArpProbe {
    address: Ipv4Addr,
    prober: MacAddr,
    /// The latest probe for this address from this prober.
    at: Duration,
    conflict: Option<MacAddr>,
}

struct EchoTarget {
    rtts: Vec<Option<Duration>>,
    sent: Vec<Duration>,
    /// Whether each request was answered by ICMP time exceeded (a traceroute's probe).
    expired: Vec<bool>,
    /// Whether each request was answered by packet too big / fragmentation needed: too big
    /// for the path, not lost (the path evidence has it).
    too_big: Vec<bool>,
    /// Requests beyond [`MAX_TRACKED`], counted only: sent, answered, and the sum of
    /// their RTTs in ms.
    extra_sent: u32,
    extra_received: u32,
    extra_ms: f64,
    /// Requests beyond the bound answered by ICMP time exceeded (not in `extra_sent`).
    extra_expired: u32,
    /// The hosts that sent the requests (at most [`MAX_REQUESTERS`]; `None` past that).
    requesters: Option<Vec<IpAddr>>,
}

impl GatewayState {
    fn see(&mut self, address: IpAddr) {
        let known = match address {
            IpAddr::V4(v4) => self.arp_index.contains_key(&v4),
            IpAddr::V6(_) => false,
        } || self.echo_index.contains_key(&address);
        if !known {
            self.order.push(address);
        }
    }

    fn arp_target(&mut self, address: Ipv4Addr) -> Option<usize> {
        if let Some(&i) = self.arp_index.get(&address) {
            return Some(i);
        }
        if self.arp.len() >= MAX_TRACKED {
            self.untracked = self.untracked.saturating_add(1);
            return None;
        }
        self.see(IpAddr::V4(address));
        self.arp.push(ArpTarget { requests: 0, requesters: vec![], replies: 0, mac: None, exchanges: vec![] });
        self.arp_index.insert(address, self.arp.len() - 1);
        Some(self.arp.len() - 1)
    }

    fn arp_request(&mut self, sender: Ipv4Addr, sender_mac: MacAddr, target: Ipv4Addr, ts: Duration, start: Duration) {
        self.span.add(ts);
        let Some(i) = self.arp_target(target) else { return };
        let stored = self.arp_stored < MAX_TRACKED;
        let t = &mut self.arp[i];
        t.requests = t.requests.saturating_add(1);
        if t.requesters.len() < MAX_REQUESTERS && !t.requesters.contains(&sender) {
            t.requesters.push(sender);
            let asked = self.asked.entry(sender).or_default();
            *asked = (*asked + 1).min(ARP_SWEEP_TARGETS);
        }
        if stored && t.exchanges.len() < MAX_LISTED {
            let exchange = ArpExchange {
                requester: sender,
                requester_mac: sender_mac,
                at_ms: millis(ts.saturating_sub(start)),
                is_at: None,
                rtt_ms: None,
            };
            t.exchanges.push((exchange, ts));
            self.arp_stored += 1;
        }
    }

    fn arp_reply(&mut self, sender: Ipv4Addr, mac: MacAddr, to: Ipv4Addr, ts: Duration) {
        self.span.add(ts);
        let Some(i) = self.arp_target(sender) else { return };
        let t = &mut self.arp[i];
        t.replies = t.replies.saturating_add(1);
        t.mac.get_or_insert(mac);
        if let Some((x, sent)) = t.exchanges.iter_mut().rev().find(|(x, _)| x.requester == to && x.is_at.is_none()) {
            x.is_at = Some(mac);
            x.rtt_ms = Some(millis(ts.saturating_sub(*sent)));
        }
    }

    fn arp_probe(&mut self, address: Ipv4Addr, prober: MacAddr, ts: Duration) {
        self.span.add(ts);
        let known = self.probes.iter().position(|p| p.address == address && p.prober == prober);
        match known {
            Some(i) => self.probes[i].at = ts,
            None if self.probes.len() < MAX_LISTED => {
                self.probes.push(ArpProbe { address, prober, at: ts, conflict: None });
            }
            None => self.untracked = self.untracked.saturating_add(1),
        }
    }

    /// A reply for `sender` from `mac`: a conflict for every recent probe of that address
    /// by another MAC.
    fn probe_answered(&mut self, sender: Ipv4Addr, mac: MacAddr, ts: Duration) {
        for p in &mut self.probes {
            if p.address == sender
                && p.prober != mac
                && p.conflict.is_none()
                && ts >= p.at
                && ts - p.at <= PROBE_ANSWER_WINDOW
            {
                p.conflict = Some(mac);
            }
        }
    }

    /// The dhcp check's duplicate-address probe as the capture shows it: the first probe
    /// another host answered, else the first probe.
    fn duplicate_check(&self) -> DuplicateCheck {
        match self.probes.iter().find(|p| p.conflict.is_some()).or(self.probes.first()) {
            Some(p) => DuplicateCheck {
                status: ProbeStatus::Ran,
                address: Some(p.address),
                conflict_mac: p.conflict,
                reason: None,
            },
            None => DuplicateCheck {
                status: ProbeStatus::NotRun,
                address: None,
                conflict_mac: None,
                reason: Some("no ARP probe (RFC 5227) in the capture".to_string()),
            },
        }
    }

    fn echo_request(&mut self, src: IpAddr, dst: IpAddr, id: u16, seq: u16, ts: Duration) {
        self.span.add(ts);
        let key = (src, dst, id, seq);
        if let Some(&(t, p)) = self.echo_pending.get(&key)
            && self.echo[t].rtts[p].is_none()
            && ts.saturating_sub(self.echo[t].sent[p]) < ECHO_COPY_WINDOW
        {
            // The same probe seen twice at once (a capture on a bridge): one probe. Sent
            // again later with the same id and sequence, it is another request (tshark's
            // count too).
            return;
        }
        let beyond = self.echo_stored >= MAX_TRACKED;
        if beyond
            && (self.echo_open.contains_key(&key)
                || (!self.echo_index.contains_key(&dst) && self.echo.len() >= MAX_OPEN))
        {
            if !self.echo_open.contains_key(&key) {
                self.untracked = self.untracked.saturating_add(1);
            }
            return;
        }
        let t = match self.echo_index.get(&dst) {
            Some(&t) => t,
            None => {
                self.see(dst);
                self.echo.push(EchoTarget {
                    rtts: vec![],
                    sent: vec![],
                    expired: vec![],
                    too_big: vec![],
                    extra_sent: 0,
                    extra_expired: 0,
                    extra_received: 0,
                    extra_ms: 0.0,
                    requesters: Some(vec![]),
                });
                self.echo_index.insert(dst, self.echo.len() - 1);
                self.echo.len() - 1
            }
        };
        let requesters = &mut self.echo[t].requesters;
        if let Some(list) = requesters
            && !list.contains(&src)
        {
            if list.len() < MAX_REQUESTERS {
                list.push(src);
            } else {
                *requesters = None;
            }
        }
        if beyond {
            // Counted only; when the table is full the oldest open request stays lost.
            if self.echo_open.len() >= MAX_OPEN {
                self.echo_open.pop_oldest();
            }
            self.echo_open.insert(key, (t, ts));
            self.echo[t].extra_sent = self.echo[t].extra_sent.saturating_add(1);
            return;
        }
        let target = &mut self.echo[t];
        target.rtts.push(None);
        target.sent.push(ts);
        target.expired.push(false);
        target.too_big.push(false);
        let probe = (t, target.rtts.len() - 1);
        self.echo_pending.insert(key, probe);
        self.echo_stored += 1;
    }

    /// An ICMP time exceeded quoting the echo request `id`/`seq` from `src` to `dst`: that
    /// request, still open, was a traceroute's TTL-limited probe (matched exactly, tracked
    /// or beyond the bound).
    fn echo_expired(&mut self, src: IpAddr, dst: IpAddr, id: u16, seq: u16, ts: Duration) {
        let key = (src, dst, id, seq);
        if let Some(&(t, p)) = self.echo_pending.get(&key) {
            let target = &mut self.echo[t];
            if target.rtts[p].is_none() && !target.expired[p] {
                target.expired[p] = true;
                self.span.add(ts);
            }
        } else if let Some((t, _)) = self.echo_open.remove(&key) {
            // Beyond the bound: not a ping, so out of `sent`.
            let target = &mut self.echo[t];
            target.extra_sent = target.extra_sent.saturating_sub(1);
            target.extra_expired = target.extra_expired.saturating_add(1);
            self.span.add(ts);
        }
    }

    /// A packet too big quoting the echo request `id`/`seq` from `src` to `dst`: that
    /// request did not fit the path (tracked requests only; beyond the bound it counts as
    /// lost).
    fn echo_too_big(&mut self, src: IpAddr, dst: IpAddr, id: u16, seq: u16, ts: Duration) {
        if let Some(&(t, p)) = self.echo_pending.get(&(src, dst, id, seq)) {
            let target = &mut self.echo[t];
            if target.rtts[p].is_none() && !target.expired[p] && !target.too_big[p] {
                target.too_big[p] = true;
                self.span.add(ts);
            }
        }
    }

    fn echo_reply(&mut self, src: IpAddr, dst: IpAddr, id: u16, seq: u16, ts: Duration) {
        let key = (dst, src, id, seq);
        if let Some(&(t, p)) = self.echo_pending.get(&key)
            && self.echo[t].rtts[p].is_none()
            && !self.echo[t].expired[p]
        {
            self.span.add(ts);
            let target = &mut self.echo[t];
            target.rtts[p] = Some(ts.saturating_sub(target.sent[p]));
        } else if let Some((t, sent)) = self.echo_open.remove(&key) {
            self.span.add(ts);
            let target = &mut self.echo[t];
            target.extra_received = target.extra_received.saturating_add(1);
            target.extra_ms += millis(ts.saturating_sub(sent));
        }
    }

    /// One row of the gateway evidence: the live check's fields for an address seen;
    /// `routers` are those of the capture's DHCP ACK.
    fn entry(&self, address: IpAddr, routers: &[Ipv4Addr]) -> GatewayProbe {
        let sweeper = |r: &Ipv4Addr| self.asked.get(r).is_some_and(|n| *n >= ARP_SWEEP_TARGETS);
        let dhcp_router = matches!(address, IpAddr::V4(v4) if routers.contains(&v4));
        let arp = match address {
            IpAddr::V4(v4) => self.arp_index.get(&v4).map(|&i| &self.arp[i]),
            IpAddr::V6(_) => None,
        };
        let arp = match arp {
            Some(t) => ArpResult {
                status: if t.replies > 0 { ArpStatus::Answered } else { ArpStatus::NoReply },
                mac: t.mac,
                rtt_ms: t.exchanges.iter().find_map(|(x, _)| x.rtt_ms),
                requests_sent: t.requests,
                seen: Some(ArpSeen {
                    replies: t.replies,
                    exchanges: t.exchanges.iter().map(|(x, _)| x.clone()).collect(),
                    requesters: t.requesters.len() as u32,
                    sweep: !t.requesters.is_empty() && t.requesters.iter().all(sweeper),
                    dhcp_router,
                    vlan: None,
                }),
            },
            None => ArpResult {
                status: ArpStatus::NotApplicable,
                mac: None,
                rtt_ms: None,
                requests_sent: 0,
                seen: Some(ArpSeen {
                    replies: 0,
                    exchanges: vec![],
                    requesters: 0,
                    sweep: false,
                    dhcp_router,
                    vlan: None,
                }),
            },
        };
        let ping = self.echo_index.get(&address).map(|&i| {
            let e = &self.echo[i];
            let pings: Vec<Option<Duration>> = e
                .rtts
                .iter()
                .zip(e.expired.iter().zip(&e.too_big))
                .filter(|(_, (expired, too_big))| !**expired && !**too_big)
                .map(|(rtt, _)| *rtt)
                .collect();
            let mut stats = PingStats::from_rtts(&pings);
            stats.rtts_ms.truncate(MAX_LISTED);
            if e.extra_sent > 0 {
                // Beyond the bound: counted into sent, received, the loss and the mean.
                let tracked_sum = stats.avg_ms.unwrap_or(0.0) * f64::from(stats.received);
                stats.sent = stats.sent.saturating_add(e.extra_sent);
                stats.received = stats.received.saturating_add(e.extra_received);
                stats.loss_ratio = f64::from(stats.sent - stats.received) / f64::from(stats.sent);
                if stats.received > 0 {
                    stats.avg_ms = Some(round3((tracked_sum + e.extra_ms) / f64::from(stats.received)));
                }
            }
            let expired = (e.expired.iter().filter(|x| **x).count() as u32).saturating_add(e.extra_expired);
            stats.time_exceeded = (expired > 0).then_some(expired);
            stats
        });
        GatewayProbe { address, arp, ping }
    }
}

// ---------------------------------------------------------------------------------------
// DNS state
// ---------------------------------------------------------------------------------------

#[derive(Default)]
struct DnsState {
    span: Span,
    queries: Vec<DnsQuery>,
    /// (client, server, id) to the query waiting for its response.
    pending: HashMap<(SocketAddr, IpAddr, u16), usize>,
    /// (client, server) to the latest query on that socket, for ICMP errors (which quote
    /// only the UDP header, not the DNS id).
    sockets: HashMap<(SocketAddr, IpAddr), usize>,
    /// Queries beyond [`MAX_TRACKED`]: matched and judged, kept as counters.
    overflow: DnsOverflow,
    untracked: u32,
}

/// Open exchanges beyond [`MAX_TRACKED`], with their order of arrival so that the oldest
/// can make room (amortised O(1): the order is compacted when mostly stale).
struct OpenTable<K, V> {
    map: HashMap<K, (u64, V)>,
    order: VecDeque<(u64, K)>,
    next: u64,
}

impl<K, V> Default for OpenTable<K, V> {
    fn default() -> Self {
        OpenTable { map: HashMap::default(), order: VecDeque::new(), next: 0 }
    }
}

impl<K: std::hash::Hash + Eq + Copy, V> OpenTable<K, V> {
    fn len(&self) -> usize {
        self.map.len()
    }

    fn get(&self, k: &K) -> Option<&V> {
        self.map.get(k).map(|(_, v)| v)
    }

    fn get_mut(&mut self, k: &K) -> Option<&mut V> {
        self.map.get_mut(k).map(|(_, v)| v)
    }

    fn contains_key(&self, k: &K) -> bool {
        self.map.contains_key(k)
    }

    fn values(&self) -> impl Iterator<Item = &V> {
        self.map.values().map(|(_, v)| v)
    }

    /// Inserts `v` as the newest entry (replacing any entry under `k`).
    fn insert(&mut self, k: K, v: V) {
        self.next += 1;
        self.map.insert(k, (self.next, v));
        self.order.push_back((self.next, k));
        self.compact();
    }

    fn remove(&mut self, k: &K) -> Option<V> {
        let (_, v) = self.map.remove(k)?;
        self.compact();
        Some(v)
    }

    /// Removes and returns the oldest entry.
    fn pop_oldest(&mut self) -> Option<(K, V)> {
        while let Some((seq, k)) = self.order.pop_front() {
            if self.map.get(&k).is_some_and(|(s, _)| *s == seq) {
                return self.map.remove(&k).map(|(_, v)| (k, v));
            }
        }
        None
    }

    fn compact(&mut self) {
        if self.order.len() > 2 * self.map.len() + 64 {
            let map = &self.map;
            self.order.retain(|(seq, k)| map.get(k).is_some_and(|(s, _)| s == seq));
        }
    }
}

/// One question's open queries beyond the bound; `keys` may hold stale keys (compacted
/// when they are most of it), `live` counts the open ones.
#[derive(Default)]
struct OpenKeys {
    keys: Vec<(SocketAddr, IpAddr, u16)>,
    live: usize,
}

/// A server and a question (case-folded wire name, type): what a retry asks again.
type Question = (IpAddr, QName, RecordType);

/// The queries beyond [`MAX_TRACKED`]: each open query until its answer (or
/// it is the oldest open one when room is needed), then only counters per server and, per
/// question, the failures a later answer may still forgive. Bounded by [`MAX_OPEN`].
#[derive(Default)]
struct DnsOverflow {
    open: OpenTable<(SocketAddr, IpAddr, u16), OpenQuery>,
    /// Each question's open queries not yet retried, so an answer to a retry forgives
    /// them (a retried query leaves its question's list, not the open table).
    open_by_question: HashMap<Question, OpenKeys>,
    /// (client, server) to the latest open query's id, for ICMP errors.
    sockets: HashMap<(SocketAddr, IpAddr), u16>,
    servers: HashMap<IpAddr, Tally>,
    /// Servers first seen beyond the tracking bound, in order.
    order: Vec<IpAddr>,
    /// Failures not (yet) followed by an answer that forgives them.
    pending_failures: HashMap<Question, Vec<FailureRun>>,
    /// When a tracked question was last answered (any rcode) and answered usefully by a
    /// query beyond the bound, so tracked failures are forgiven alike.
    late_answered: HashMap<Question, Duration>,
    late_useful: HashMap<Question, Duration>,
}

struct OpenQuery {
    question: Question,
    first_sent: Duration,
    last_sent: Duration,
    /// A later query for the same question was answered: if this one never is, it was
    /// retried, not a failure (its own answer, when it comes, still counts).
    retried: bool,
}

/// One server's queries beyond the bound.
#[derive(Default)]
struct Tally {
    total: usize,
    answered: usize,
    ms_sum: f64,
    ms_count: usize,
    /// Failures that no answer can forgive any more (the question table was full).
    kept_failures: Vec<FailureRun>,
    /// Each useful outcome seen, for the random label and for other names, with one
    /// question.
    useful: Vec<(QueryOutcome, QName, RecordType)>,
}

/// Failures of one kind: how many, the first and the last, and one question.
#[derive(Clone)]
struct FailureRun {
    outcome: QueryOutcome,
    name: QName,
    rtype: RecordType,
    count: usize,
    first: Duration,
    last: Duration,
}

impl FailureRun {
    fn one(outcome: QueryOutcome, question: &Question, at: Duration) -> FailureRun {
        FailureRun { outcome, name: question.1.clone(), rtype: question.2, count: 1, first: at, last: at }
    }

    /// Adds `run` to the run of the same outcome in `runs`.
    fn merge(runs: &mut Vec<FailureRun>, run: FailureRun) {
        match runs.iter_mut().find(|r| r.outcome == run.outcome) {
            Some(r) => {
                r.count += run.count;
                r.first = r.first.min(run.first);
                r.last = r.last.max(run.last);
            }
            None => runs.push(run),
        }
    }

    /// The run as one query of the judge's, standing for all of them.
    fn example(&self) -> QueryResult {
        example(&self.name.display(), self.rtype, self.outcome)
    }
}

/// A query standing for the queries of one outcome beyond the tracking bound, for the
/// judge only (removed before the evidence is reported).
fn example(name: &str, rtype: RecordType, outcome: QueryOutcome) -> QueryResult {
    QueryResult {
        name: name.to_string(),
        record_type: rtype.to_string(),
        outcome,
        rcode: None,
        answers: vec![],
        ms: None,
        attempts: 1,
        cache_buster: is_cache_buster(name),
        error: None,
        seen: None,
    }
}

impl DnsOverflow {
    fn tally(&mut self, server: IpAddr) -> &mut Tally {
        if !self.servers.contains_key(&server) {
            self.order.push(server);
        }
        self.servers.entry(server).or_default()
    }

    /// A query beyond the bound; `false` when it could not be kept (the open-query table
    /// is full even after the oldest open query was counted unanswered).
    fn query(&mut self, key: (SocketAddr, IpAddr, u16), qname: QName, rtype: RecordType, ts: Duration) -> bool {
        if let Some(open) = self.open.get_mut(&key)
            && open.question.1 == qname
            && open.question.2 == rtype
        {
            open.last_sent = ts;
            return true;
        }
        if self.open.len() >= MAX_OPEN {
            // No room: the oldest open query went unanswered.
            if let Some((old_key, old)) = self.open.pop_oldest() {
                self.unindex(old_key, &old);
                self.finish(old, QueryOutcome::Timeout, None);
            }
        }
        if let Some(old) = self.remove_open(key) {
            // The socket reused the id for another question before an answer: the old one
            // went unanswered.
            self.finish(old, QueryOutcome::Timeout, None);
        }
        let question = (key.1, qname, rtype);
        self.tally(key.1).total += 1;
        self.sockets.insert((key.0, key.1), key.2);
        let keys = self.open_by_question.entry(question.clone()).or_default();
        keys.keys.push(key);
        keys.live += 1;
        self.open.insert(key, OpenQuery { question, first_sent: ts, last_sent: ts, retried: false });
        true
    }

    fn remove_open(&mut self, key: (SocketAddr, IpAddr, u16)) -> Option<OpenQuery> {
        let q = self.open.remove(&key)?;
        self.unindex(key, &q);
        Some(q)
    }

    /// Takes a query that left the open table out of the socket map and its question's
    /// list (lazily: the list is compacted when it holds mostly stale keys).
    fn unindex(&mut self, key: (SocketAddr, IpAddr, u16), q: &OpenQuery) {
        if self.sockets.get(&(key.0, key.1)) == Some(&key.2) {
            self.sockets.remove(&(key.0, key.1));
        }
        if q.retried {
            return; // already out of its question's list
        }
        let Some(keys) = self.open_by_question.get_mut(&q.question) else { return };
        keys.live = keys.live.saturating_sub(1);
        if keys.live == 0 {
            self.open_by_question.remove(&q.question);
        } else if keys.keys.len() > 2 * keys.live + 16 {
            let open = &self.open;
            keys.keys.retain(|k| *k != key && open.get(k).is_some_and(|o| o.question == q.question && !o.retried));
        }
    }

    /// A response (or an ICMP error) to an open query beyond the bound; `false` when it
    /// matches none.
    fn answer(&mut self, key: (SocketAddr, IpAddr, u16), reply: &LateReply, ts: Duration) -> bool {
        let Some(open) = self.open.get(&key) else { return false };
        if let Some((name, rtype)) = reply.question()
            && (*name != open.question.1 || rtype != open.question.2)
        {
            return false;
        }
        let outcome = match reply {
            LateReply::Unreadable => QueryOutcome::Malformed,
            LateReply::Whole { rcode, a, aaaa, .. } => {
                let answered = match open.question.2 {
                    RecordType::A => *a > 0,
                    RecordType::AAAA => *aaaa > 0,
                    _ => false,
                };
                outcome_of(*rcode, answered)
            }
            LateReply::Cut { outcome, .. } => *outcome,
            LateReply::HeaderCut => {
                // Answered, but nothing says how: neither counted nor judged.
                self.remove_open(key);
                return true;
            }
        };
        let Some(open) = self.remove_open(key) else { return false };
        let ms = millis(ts.saturating_sub(open.last_sent));
        self.finish(open, outcome, Some(ms));
        true
    }

    fn unreachable(&mut self, client: SocketAddr, server: IpAddr) -> bool {
        let Some(&id) = self.sockets.get(&(client, server)) else { return false };
        let Some(open) = self.remove_open((client, server, id)) else { return false };
        self.finish(open, QueryOutcome::Unreachable, None);
        true
    }

    /// Counts a finished query: a useful answer forgives the question's earlier failures,
    /// any answer its earlier silences; a failure waits for a later answer.
    fn finish(&mut self, q: OpenQuery, outcome: QueryOutcome, ms: Option<f64>) {
        let question = q.question;
        let server = question.0;
        let tally = self.tally(server);
        if let Some(ms) = ms {
            tally.answered += 1;
            tally.ms_sum += ms;
            tally.ms_count += 1;
        }
        let random = question.1.is_cache_buster();
        if is_useful(outcome) && !tally.useful.iter().any(|(o, n, _)| *o == outcome && n.is_cache_buster() == random) {
            tally.useful.push((outcome, question.1.clone(), question.2));
        }
        if is_response(outcome) {
            if let Some(t) = self.late_answered.get_mut(&question) {
                *t = (*t).max(q.first_sent);
            }
            if is_useful(outcome)
                && let Some(t) = self.late_useful.get_mut(&question)
            {
                *t = (*t).max(q.first_sent);
            }
            if let Some(runs) = self.pending_failures.get_mut(&question) {
                // A useful answer forgives every failure; any answer forgives silences.
                runs.retain(|r| !is_useful(outcome) && is_response(r.outcome));
                if runs.is_empty() {
                    self.pending_failures.remove(&question);
                }
            }
            // Earlier queries for the question still open were retried: not failures if
            // they stay unanswered, but still open, since their own answers may come (other
            // clients ask the same question at the same time).
            // Marked, they leave the question's list: the next answer does not scan them again.
            if let Some(keys) = self.open_by_question.get_mut(&question) {
                let open = &mut self.open;
                let mut retried = 0;
                keys.keys.retain(|k| match open.get_mut(k) {
                    Some(o) if o.question == question && !o.retried => {
                        if o.first_sent < q.first_sent {
                            o.retried = true;
                            retried += 1;
                        }
                        !o.retried
                    }
                    _ => false, // stale: answered, or the key was reused
                });
                keys.live = keys.live.saturating_sub(retried);
                if keys.live == 0 {
                    self.open_by_question.remove(&question);
                }
            }
        }
        if q.retried && !is_response(outcome) {
            return;
        }
        if is_useful(outcome) {
            return;
        }
        let run = FailureRun::one(outcome, &question, q.first_sent);
        if let Some(runs) = self.pending_failures.get_mut(&question) {
            FailureRun::merge(runs, run);
        } else if self.pending_failures.len() < MAX_OPEN {
            self.pending_failures.insert(question, vec![run]);
        } else {
            FailureRun::merge(&mut self.tally(server).kept_failures, run);
        }
    }

    /// Each server's failures beyond the bound that nothing forgave, with the queries
    /// still open at the end of the capture counted as unanswered.
    fn failures(&self) -> HashMap<IpAddr, Vec<FailureRun>> {
        let mut out: HashMap<IpAddr, Vec<FailureRun>> = HashMap::default();
        for (server, tally) in &self.servers {
            out.entry(*server).or_default().extend(tally.kept_failures.iter().cloned());
        }
        for ((server, _, _), runs) in &self.pending_failures {
            let all = out.entry(*server).or_default();
            for r in runs {
                FailureRun::merge(all, r.clone());
            }
        }
        for q in self.open.values().filter(|q| !q.retried) {
            let all = out.entry(q.question.0).or_default();
            FailureRun::merge(all, FailureRun::one(QueryOutcome::Timeout, &q.question, q.first_sent));
        }
        out
    }
}

struct DnsQuery {
    client: SocketAddr,
    server: IpAddr,
    id: u16,
    qname: Name,
    name: String,
    /// `qname` case-folded, as the questions beyond the bound are keyed.
    key_name: QName,
    rtype: RecordType,
    at_ms: f64,
    first_sent: Duration,
    last_sent: Duration,
    attempts: u32,
    outcome: QueryOutcome,
    rcode: Option<String>,
    answers: Vec<IpAddr>,
    ms: Option<f64>,
    error: Option<String>,
    /// The answer was cut by the snap length (judged from its header).
    answer_cut: bool,
    /// Not judged (neither answered nor failed): its answer was cut inside its header, or
    /// it was a TTL-limited probe that an ICMP time exceeded answered.
    unjudged: bool,
    done: bool,
}

/// A DNS response as far as the capture holds it.
enum Reply {
    /// Whole, and it parses.
    Whole(Message),
    /// Cut by the capture's snap length: its header, and its first question if that was
    /// captured whole.
    Cut { header: Header, question: Option<Query> },
    /// Cut inside its 12-byte header (a snap length under 54 bytes): a response came, its
    /// rcode was not captured.
    HeaderCut,
    /// Whole, but does not parse as a response to `id`.
    Unreadable,
}

impl Reply {
    /// Reads a response to query `id`; `cut`: the snap length cut it.
    fn read(payload: &[u8], id: u16, cut: bool) -> Reply {
        if let Some(msg) = parse_response(payload, id) {
            return Reply::Whole(msg);
        }
        match read_head(payload) {
            Some((header, question))
                if cut && header.metadata.id == id && header.metadata.message_type == MessageType::Response =>
            {
                Reply::Cut { header, question }
            }
            None if cut => Reply::HeaderCut,
            _ => Reply::Unreadable,
        }
    }

    /// The question the response names, if it names one.
    fn question(&self) -> Option<(&Name, RecordType)> {
        let question = match self {
            Reply::Whole(msg) => msg.queries.first(),
            Reply::Cut { question, .. } => question.as_ref(),
            Reply::HeaderCut | Reply::Unreadable => None,
        }?;
        Some((question.name(), question.query_type()))
    }
}

/// A DNS message's header and its first question if it is there (for a message a snap
/// length cut); `None` when even the header is cut.
fn read_head(bytes: &[u8]) -> Option<(Header, Option<Query>)> {
    let mut decoder = BinDecoder::new(bytes);
    let header = Header::read(&mut decoder).ok()?;
    let question = (header.counts.queries > 0).then(|| Query::read(&mut decoder).ok()).flatten();
    Some((header, question))
}

/// What a cut answer's header says: its rcode, and for NOERROR whether it holds answer
/// records (taken as an answer; the records themselves were not captured).
fn cut_outcome(header: &Header) -> QueryOutcome {
    outcome_of(header.metadata.response_code, header.counts.answers > 0)
}

/// A response's outcome by its rcode and, for NOERROR, whether it answered the question
/// (as [`classify`] says of a whole message).
fn outcome_of(rcode: ResponseCode, answered: bool) -> QueryOutcome {
    match rcode {
        ResponseCode::NoError if !answered => QueryOutcome::NoData,
        ResponseCode::NoError => QueryOutcome::Answer,
        ResponseCode::NXDomain => QueryOutcome::Nxdomain,
        ResponseCode::ServFail => QueryOutcome::Servfail,
        ResponseCode::Refused => QueryOutcome::Refused,
        _ => QueryOutcome::OtherRcode,
    }
}

/// Whether the server answered at all (any rcode, or an answer that does not parse).
fn is_response(outcome: QueryOutcome) -> bool {
    !matches!(outcome, QueryOutcome::Timeout | QueryOutcome::Unreachable | QueryOutcome::LocalError)
}

/// Whether the server answered usefully: addresses, no data, or no such name.
fn is_useful(outcome: QueryOutcome) -> bool {
    matches!(outcome, QueryOutcome::Answer | QueryOutcome::NoData | QueryOutcome::Nxdomain)
}

impl DnsQuery {
    /// The query in the dns check's terms, with where the capture saw it.
    fn result(&self, answered_on_retry: bool) -> QueryResult {
        QueryResult {
            name: self.name.clone(),
            record_type: self.rtype.to_string(),
            outcome: self.outcome,
            rcode: self.rcode.clone(),
            answers: self.answers.clone(),
            ms: self.ms,
            attempts: self.attempts,
            cache_buster: is_cache_buster(&self.name),
            error: self.error.clone(),
            seen: Some(QuerySeen {
                client: self.client,
                id: self.id,
                at_ms: self.at_ms,
                answered_on_retry,
                answer_cut: self.answer_cut,
            }),
        }
    }
}

/// Whether `name` is nettriage's random label (`nt-` and 8 lowercase letters).
fn is_cache_buster(name: &str) -> bool {
    let label = name.split('.').next().unwrap_or_default();
    label.len() == 11 && label.starts_with("nt-") && label[3..].bytes().all(|b| b.is_ascii_lowercase())
}

fn display_name(name: &Name) -> String {
    let text = name.to_string();
    match text.strip_suffix('.') {
        Some(stripped) if !stripped.is_empty() => stripped.to_string(),
        _ => text,
    }
}

/// A question's name as its wire labels (each length-prefixed, then the root's 0), ASCII
/// case-folded: what DNS compares, hashed and compared without a `String` per query.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
struct QName(Box<[u8]>);

impl QName {
    /// A decoded name's labels, case-folded.
    fn of(name: &Name) -> QName {
        let mut out = Vec::with_capacity(32);
        for label in name.iter() {
            out.push(u8::try_from(label.len()).unwrap_or(u8::MAX));
            out.extend(label.iter().map(u8::to_ascii_lowercase));
        }
        out.push(0);
        QName(out.into_boxed_slice())
    }

    /// The name for people, lowercase, as [`display_name`] writes it.
    fn display(&self) -> String {
        Name::read(&mut BinDecoder::new(&self.0)).map(|n| display_name(&n).to_ascii_lowercase()).unwrap_or_default()
    }

    /// [`is_cache_buster`] on the first label.
    fn is_cache_buster(&self) -> bool {
        let b = &self.0;
        b.first() == Some(&11)
            && b.get(1..4) == Some(b"nt-".as_slice())
            && b.get(4..12).is_some_and(|l| l.iter().all(u8::is_ascii_lowercase))
    }
}

/// Longest name read by [`LiteMessage`] (wire bytes); longer ones go to hickory-proto.
const LITE_NAME_MAX: usize = 250;
/// Most compression pointers followed in one name by [`LiteMessage`].
const LITE_POINTERS_MAX: usize = 16;

/// A DNS message read in place, without building one, for the exchanges beyond
/// [`MAX_TRACKED`] (nearly all of a long capture): the header, the one question (case-folded),
/// the rcode with its EDNS bits, and how many A and AAAA records answer. Only the plain
/// shape is read: opcode QUERY, one question whose name has no pointer, records of the
/// types A, AAAA, NS, CNAME, PTR, SOA with whole data, and at most one OPT without options
/// in the additional section. Anything else is `None` and goes to hickory-proto, which
/// decides it as before: what this reads, hickory-proto reads the same way.
struct LiteMessage {
    id: u16,
    response: bool,
    rcode: ResponseCode,
    question: (QName, RecordType),
    a: usize,
    aaaa: usize,
}

impl LiteMessage {
    fn read(b: &[u8]) -> Option<LiteMessage> {
        let h = b.get(..12)?;
        let u16_at = |i: usize| Some(u16::from_be_bytes([*b.get(i)?, *b.get(i + 1)?]));
        if (h[2] >> 3) & 0x0f != 0 {
            return None; // not a standard query or its response
        }
        let count = |i: usize| u16::from_be_bytes([h[i], h[i + 1]]);
        if count(4) != 1 {
            return None;
        }
        let mut at = 12;
        let mut folded = Vec::with_capacity(32);
        loop {
            let len = usize::from(*b.get(at)?);
            if len == 0 {
                folded.push(0);
                at += 1;
                break;
            }
            if len > 63 || folded.len() + len + 2 > LITE_NAME_MAX {
                return None;
            }
            folded.push(len as u8);
            folded.extend(b.get(at + 1..at + 1 + len)?.iter().map(u8::to_ascii_lowercase));
            at += 1 + len;
        }
        let qtype = u16_at(at)?;
        u16_at(at + 2)?;
        at += 4;
        let (mut a, mut aaaa, mut high, mut edns) = (0, 0, 0u8, false);
        for (section, n) in [(0, count(6)), (1, count(8)), (2, count(10))] {
            for _ in 0..n {
                let owner = at;
                at = skip_name(b, at)?;
                let rtype = u16_at(at)?;
                let ttl_high = *b.get(at + 4)?;
                let rdlen = usize::from(u16_at(at + 8)?);
                at += 10;
                let end = at.checked_add(rdlen).filter(|&e| e <= b.len())?;
                match rtype {
                    41 => {
                        if section != 2 || edns || rdlen != 0 || b[owner] != 0 {
                            return None;
                        }
                        edns = true;
                        high = ttl_high;
                    }
                    _ if rdlen == 0 => return None,
                    1 if rdlen == 4 => a += usize::from(section == 0),
                    28 if rdlen == 16 => aaaa += usize::from(section == 0),
                    2 | 5 | 12 if skip_name(b, at)? == end => {}
                    6 if skip_name(b, skip_name(b, at)?)?.checked_add(20) == Some(end) => {}
                    _ => return None,
                }
                at = end;
            }
        }
        Some(LiteMessage {
            id: count(0),
            response: h[2] & 0x80 != 0,
            rcode: ResponseCode::from(high, h[3]),
            question: (QName(folded.into_boxed_slice()), RecordType::from(qtype)),
            a,
            aaaa,
        })
    }
}

/// Where the name at `start` ends in `b`, checked as hickory-proto reads names (labels
/// of at most 63 bytes; pointers only to before the part that points, never back into
/// it); `None` for anything else, or a name longer than [`LITE_NAME_MAX`].
fn skip_name(b: &[u8], start: usize) -> Option<usize> {
    let (mut at, mut segment, mut bound) = (start, start, None::<usize>);
    let (mut end, mut total, mut pointers) = (None, 0usize, 0usize);
    loop {
        if bound.is_some_and(|m| at >= m) {
            return None;
        }
        let len = *b.get(at)?;
        match len >> 6 {
            0 if len == 0 => return Some(end.unwrap_or(at + 1)),
            0 => {
                let len = usize::from(len);
                b.get(at + 1..at + 1 + len)?;
                total += len + 1;
                if total > LITE_NAME_MAX {
                    return None;
                }
                at += 1 + len;
            }
            3 => {
                let ptr = usize::from(u16::from_be_bytes([len, *b.get(at + 1)?]) & 0x3fff);
                pointers += 1;
                if ptr >= segment || pointers > LITE_POINTERS_MAX {
                    return None;
                }
                end.get_or_insert(at + 2);
                bound = Some(segment);
                (at, segment) = (ptr, ptr);
            }
            _ => return None,
        }
    }
}

/// A response to a query beyond [`MAX_TRACKED`], as far as judging it needs.
enum LateReply {
    /// Whole: the question it names, its rcode, its A and AAAA answers.
    Whole { question: Option<(QName, RecordType)>, rcode: ResponseCode, a: usize, aaaa: usize },
    /// Cut by the snap length (see [`Reply::Cut`]).
    Cut { question: Option<(QName, RecordType)>, outcome: QueryOutcome },
    /// See [`Reply::HeaderCut`].
    HeaderCut,
    /// See [`Reply::Unreadable`].
    Unreadable,
}

impl LateReply {
    /// Reads a response to query `id` ([`LiteMessage`], else [`Reply::read`]).
    fn read(payload: &[u8], id: u16, cut: bool) -> LateReply {
        if let Some(lite) = LiteMessage::read(payload)
            && lite.id == id
            && lite.response
        {
            return LateReply::Whole { question: Some(lite.question), rcode: lite.rcode, a: lite.a, aaaa: lite.aaaa };
        }
        match Reply::read(payload, id, cut) {
            Reply::Whole(msg) => LateReply::Whole {
                question: msg.queries.first().map(|q| (QName::of(q.name()), q.query_type())),
                rcode: msg.metadata.response_code,
                a: msg.answers.iter().filter(|r| matches!(r.data, RData::A(_))).count(),
                aaaa: msg.answers.iter().filter(|r| matches!(r.data, RData::AAAA(_))).count(),
            },
            Reply::Cut { header, question } => LateReply::Cut {
                question: question.map(|q| (QName::of(q.name()), q.query_type())),
                outcome: cut_outcome(&header),
            },
            Reply::HeaderCut => LateReply::HeaderCut,
            Reply::Unreadable => LateReply::Unreadable,
        }
    }

    /// The question the response names, if it names one.
    fn question(&self) -> Option<(&QName, RecordType)> {
        match self {
            LateReply::Whole { question, .. } | LateReply::Cut { question, .. } => {
                question.as_ref().map(|(n, t)| (n, *t))
            }
            LateReply::HeaderCut | LateReply::Unreadable => None,
        }
    }
}

impl DnsState {
    /// `cut`: the snap length cut the datagram, `d.payload` is only its start.
    fn feed(&mut self, d: &UdpDatagram, cut: bool, ts: Duration, start: Duration) {
        // The QR bit says which way it goes; a server-to-server query has port 53 at both ends.
        let is_response = d.payload.get(2).is_some_and(|b| b & 0x80 != 0);
        if is_response && d.src.port() == DNS_PORT {
            self.response(d, cut, ts);
        } else if !is_response && d.dst.port() == DNS_PORT {
            self.query(d, cut, ts, start);
        }
    }

    fn query(&mut self, d: &UdpDatagram, cut: bool, ts: Duration, start: Duration) {
        // Beyond the tracking bound a query of the plain shape is read without building a
        // message (see `LiteMessage`); one still open among the tracked ones goes the long way.
        if self.queries.len() >= MAX_TRACKED
            && let Some(lite) = LiteMessage::read(&d.payload)
        {
            if lite.response {
                return;
            }
            let key = (d.src, d.dst.ip(), lite.id);
            if self.pending.get(&key).is_none_or(|&i| self.queries[i].done) {
                self.span.add(ts);
                let (qname, rtype) = lite.question;
                if !self.overflow.query(key, qname, rtype, ts) {
                    self.untracked = self.untracked.saturating_add(1);
                }
                return;
            }
        }
        // A cut query is read as far as its question (what matching needs).
        let (metadata, question) = match Message::from_vec(&d.payload) {
            Ok(mut msg) if !msg.queries.is_empty() => (msg.metadata, msg.queries.swap_remove(0)),
            Ok(_) => return,
            Err(_) if cut => match read_head(&d.payload) {
                Some((header, Some(question))) => (header.metadata, question),
                _ => return,
            },
            Err(_) => return,
        };
        if metadata.message_type != MessageType::Query || metadata.op_code != OpCode::Query {
            return;
        }
        let question = &question;
        self.span.add(ts);
        let key = (d.src, d.dst.ip(), metadata.id);
        if let Some(&i) = self.pending.get(&key) {
            let q = &mut self.queries[i];
            if !q.done && q.qname == *question.name() && q.rtype == question.query_type() {
                q.attempts = q.attempts.saturating_add(1);
                q.last_sent = ts;
                return;
            }
        }
        if self.queries.len() >= MAX_TRACKED {
            if !self.overflow.query(key, QName::of(question.name()), question.query_type(), ts) {
                self.untracked = self.untracked.saturating_add(1);
            }
            return;
        }
        // Answers beyond the bound to this question forgive its failures alike.
        let key_name = QName::of(question.name());
        let asked = (d.dst.ip(), key_name.clone(), question.query_type());
        self.overflow.late_answered.entry(asked.clone()).or_default();
        self.overflow.late_useful.entry(asked).or_default();
        self.queries.push(DnsQuery {
            client: d.src,
            server: d.dst.ip(),
            id: metadata.id,
            qname: question.name().clone(),
            name: display_name(question.name()),
            key_name,
            rtype: question.query_type(),
            at_ms: millis(ts.saturating_sub(start)),
            first_sent: ts,
            last_sent: ts,
            attempts: 1,
            outcome: QueryOutcome::Timeout,
            rcode: None,
            answers: vec![],
            ms: None,
            error: None,
            answer_cut: false,
            unjudged: false,
            done: false,
        });
        let i = self.queries.len() - 1;
        self.pending.insert(key, i);
        self.sockets.insert((d.src, d.dst.ip()), i);
    }

    fn response(&mut self, d: &UdpDatagram, cut: bool, ts: Duration) {
        let Some(id) = d.payload.get(..2).map(|b| u16::from_be_bytes([b[0], b[1]])) else { return };
        let key = (d.dst, d.src.ip(), id);
        let tracked = self.pending.get(&key).copied().filter(|&i| !self.queries[i].done);
        let Some(i) = tracked else {
            if self.overflow.open.contains_key(&key) {
                let reply = LateReply::read(&d.payload, id, cut);
                if self.overflow.answer(key, &reply, ts) {
                    self.span.add(ts);
                }
            }
            return;
        };
        let reply = Reply::read(&d.payload, id, cut);
        let q = &mut self.queries[i];
        // A response names the question it answers; one for another name is not ours.
        if let Some((name, rtype)) = reply.question()
            && (*name != q.qname || rtype != q.rtype)
        {
            return;
        }
        self.span.add(ts);
        q.ms = Some(millis(ts.saturating_sub(q.last_sent)));
        q.done = true;
        match &reply {
            // The id, the QR bit and the sockets say this is the server's answer: one that
            // does not parse is a malformed answer, not silence.
            Reply::Unreadable => {
                q.outcome = QueryOutcome::Malformed;
                q.error = Some(format!("{}-byte answer that does not parse as DNS", d.payload.len()));
            }
            Reply::Whole(msg) => {
                let (outcome, mut answers) = classify(msg, q.rtype);
                answers.truncate(MAX_ANSWERS);
                q.outcome = outcome;
                q.answers = answers;
                q.rcode = Some(msg.metadata.response_code.to_string());
            }
            Reply::Cut { header, .. } => {
                q.outcome = cut_outcome(header);
                q.rcode = Some(header.metadata.response_code.to_string());
                q.answer_cut = true;
            }
            Reply::HeaderCut => {
                q.answer_cut = true;
                q.unjudged = true;
            }
        }
    }

    /// An ICMP time exceeded quoting the latest open query from `client` to `server`: a
    /// TTL-limited probe (a DNS traceroute's), neither answered nor failed.
    fn expired(&mut self, client: SocketAddr, server: IpAddr) {
        let tracked = self.sockets.get(&(client, server)).copied().filter(|&i| !self.queries[i].done);
        match tracked {
            Some(i) => {
                self.queries[i].unjudged = true;
                self.queries[i].done = true;
            }
            None => {
                if let Some(&id) = self.overflow.sockets.get(&(client, server)) {
                    self.overflow.remove_open((client, server, id));
                }
            }
        }
    }

    fn unreachable(&mut self, client: SocketAddr, server: IpAddr, error: String) {
        let tracked = self.sockets.get(&(client, server)).copied().filter(|&i| !self.queries[i].done);
        let Some(i) = tracked else {
            self.overflow.unreachable(client, server);
            return;
        };
        let q = &mut self.queries[i];
        q.outcome = QueryOutcome::Unreachable;
        q.error = Some(error);
        q.done = true;
    }
}

// ---------------------------------------------------------------------------------------
// TCP state
// ---------------------------------------------------------------------------------------

#[derive(Default)]
struct TcpState {
    span: Span,
    attempts: Vec<TcpAttempt>,
    /// (client, server) to the latest attempt between them.
    pending: HashMap<(SocketAddr, SocketAddr), usize>,
    /// Attempts beyond [`MAX_TRACKED`]: each open until answered (at most [`MAX_OPEN`]),
    /// then counted per target.
    overflow_open: OpenTable<(SocketAddr, SocketAddr), TcpAttempt>,
    overflow: HashMap<SocketAddr, TargetTally>,
    /// Targets first seen beyond the bound, in order.
    overflow_order: Vec<SocketAddr>,
    untracked: u32,
}

struct TcpAttempt {
    server: SocketAddr,
    first_syn: Duration,
    syns: u32,
    /// How the attempt ended and when; `None`: no answer (filtered).
    outcome: Option<(PortOutcome, Duration)>,
    error: Option<String>,
    /// A traceroute's TTL-limited SYN (an ICMP time exceeded quoted it): not judged.
    probe: bool,
}

impl TcpState {
    fn feed(&mut self, src: IpAddr, dst: IpAddr, tcp: &Tcp, ts: Duration) {
        let src = SocketAddr::new(src, tcp.src_port);
        let dst = SocketAddr::new(dst, tcp.dst_port);
        let TcpFlags { syn, ack, rst, .. } = tcp.flags;
        if syn && !ack && !rst {
            self.span.add(ts);
            if let Some(&i) = self.pending.get(&(src, dst))
                && self.attempts[i].outcome.is_none()
            {
                self.attempts[i].syns = self.attempts[i].syns.saturating_add(1);
                return;
            }
            if self.attempts.len() >= MAX_TRACKED {
                self.overflow_syn(src, dst, ts);
                return;
            }
            self.attempts.push(TcpAttempt {
                server: dst,
                first_syn: ts,
                syns: 1,
                outcome: None,
                error: None,
                probe: false,
            });
            self.pending.insert((src, dst), self.attempts.len() - 1);
        } else if (syn && ack) || rst {
            let outcome = if rst { PortOutcome::Refused } else { PortOutcome::Open };
            // A tracked attempt already answered: the answer is to a later attempt from the
            // same port (beyond the bound), or a repeat.
            let open = self.pending.get(&(dst, src)).copied().filter(|&i| self.attempts[i].outcome.is_none());
            let Some(i) = open else {
                self.overflow_end((dst, src), outcome, None, ts);
                return;
            };
            self.span.add(ts);
            self.attempts[i].outcome = Some((outcome, ts));
        }
    }

    /// An ICMP time exceeded quoting the SYN from `client` to `server`: a TCP
    /// traceroute's TTL-limited probe, not a connection attempt.
    fn expired(&mut self, client: SocketAddr, server: SocketAddr) {
        match self.pending.get(&(client, server)) {
            Some(&i) if self.attempts[i].outcome.is_none() => self.attempts[i].probe = true,
            Some(_) => {}
            None => {
                self.overflow_open.remove(&(client, server));
            }
        }
    }

    fn unreachable(&mut self, client: SocketAddr, server: SocketAddr, error: String, ts: Duration) {
        let open = self.pending.get(&(client, server)).copied().filter(|&i| self.attempts[i].outcome.is_none());
        let Some(i) = open else {
            self.overflow_end((client, server), PortOutcome::Unreachable, Some(error), ts);
            return;
        };
        self.span.add(ts);
        self.attempts[i].outcome = Some((PortOutcome::Unreachable, ts));
        self.attempts[i].error = Some(error);
    }

    /// A SYN beyond the tracking bound: a retransmission, or a new open attempt.
    fn overflow_syn(&mut self, client: SocketAddr, server: SocketAddr, ts: Duration) {
        if let Some(a) = self.overflow_open.get_mut(&(client, server)) {
            a.syns = a.syns.saturating_add(1);
            return;
        }
        let known = self.overflow.contains_key(&server);
        if !known && self.overflow.len() >= MAX_OPEN {
            self.untracked = self.untracked.saturating_add(1);
            return;
        }
        if self.overflow_open.len() >= MAX_OPEN
            && let Some((_, oldest)) = self.overflow_open.pop_oldest()
        {
            // No room: the oldest open attempt got no answer (filtered).
            self.overflow_tally(oldest.server).add(&oldest);
        }
        if self.overflow_open.len() >= MAX_OPEN {
            self.untracked = self.untracked.saturating_add(1);
            return;
        }
        if !known {
            self.overflow.insert(server, TargetTally::default());
            self.overflow_order.push(server);
        }
        self.overflow_open.insert(
            (client, server),
            TcpAttempt { server, first_syn: ts, syns: 1, outcome: None, error: None, probe: false },
        );
    }

    fn overflow_tally(&mut self, server: SocketAddr) -> &mut TargetTally {
        self.overflow.entry(server).or_default()
    }

    /// An answer to an open attempt beyond the bound.
    fn overflow_end(
        &mut self,
        key: (SocketAddr, SocketAddr),
        outcome: PortOutcome,
        error: Option<String>,
        ts: Duration,
    ) {
        let Some(mut a) = self.overflow_open.remove(&key) else { return };
        self.span.add(ts);
        a.outcome = Some((outcome, ts));
        a.error = error;
        self.overflow_tally(a.server).add(&a);
    }
}

/// A target's connection attempts as counters: what a ports row needs, for the tracked
/// attempts and for those beyond [`MAX_TRACKED`] alike.
#[derive(Debug, Clone, Default)]
struct TargetTally {
    attempts: u32,
    open: u32,
    refused: u32,
    filtered: u32,
    unreachable: u32,
    syn_retransmissions: u32,
    /// Per outcome (open, refused, unreachable), the sum and count of the times from the
    /// first SYN to it, in ms.
    ms: [(f64, u32); 3],
    /// The latest attempt's first SYN and outcome.
    last: Option<(Duration, PortOutcome)>,
    /// The latest attempt's error, with its first SYN.
    error: Option<(Duration, String)>,
    first_failure: Option<Duration>,
    last_failure: Option<Duration>,
}

fn ms_slot(outcome: PortOutcome) -> Option<usize> {
    match outcome {
        PortOutcome::Open => Some(0),
        PortOutcome::Refused => Some(1),
        PortOutcome::Unreachable => Some(2),
        _ => None,
    }
}

impl TargetTally {
    /// Counts one attempt; one without an outcome was filtered.
    fn add(&mut self, a: &TcpAttempt) {
        let outcome = a.outcome.map_or(PortOutcome::Filtered, |(o, _)| o);
        self.attempts = self.attempts.saturating_add(1);
        let n = match outcome {
            PortOutcome::Open => &mut self.open,
            PortOutcome::Refused => &mut self.refused,
            PortOutcome::Unreachable => &mut self.unreachable,
            _ => &mut self.filtered,
        };
        *n = n.saturating_add(1);
        self.syn_retransmissions = self.syn_retransmissions.saturating_add(a.syns.saturating_sub(1));
        if let (Some((_, at)), Some(slot)) = (a.outcome, ms_slot(outcome)) {
            self.ms[slot].0 += millis(at.saturating_sub(a.first_syn));
            self.ms[slot].1 += 1;
        }
        if self.last.is_none_or(|(t, _)| a.first_syn >= t) {
            self.last = Some((a.first_syn, outcome));
        }
        if let Some(e) = &a.error
            && self.error.as_ref().is_none_or(|(t, _)| a.first_syn >= *t)
        {
            self.error = Some((a.first_syn, e.clone()));
        }
        if outcome != PortOutcome::Open {
            self.first_failure = Some(self.first_failure.map_or(a.first_syn, |t| t.min(a.first_syn)));
            self.last_failure = Some(self.last_failure.map_or(a.first_syn, |t| t.max(a.first_syn)));
        }
    }

    /// Adds another tally of the same target.
    fn merge(&mut self, o: &TargetTally) {
        self.attempts = self.attempts.saturating_add(o.attempts);
        self.open = self.open.saturating_add(o.open);
        self.refused = self.refused.saturating_add(o.refused);
        self.filtered = self.filtered.saturating_add(o.filtered);
        self.unreachable = self.unreachable.saturating_add(o.unreachable);
        self.syn_retransmissions = self.syn_retransmissions.saturating_add(o.syn_retransmissions);
        for (mine, theirs) in self.ms.iter_mut().zip(o.ms) {
            mine.0 += theirs.0;
            mine.1 += theirs.1;
        }
        if let Some((t, outcome)) = o.last
            && self.last.is_none_or(|(mine, _)| t >= mine)
        {
            self.last = Some((t, outcome));
        }
        if let Some((t, e)) = &o.error
            && self.error.as_ref().is_none_or(|(mine, _)| *t >= *mine)
        {
            self.error = Some((*t, e.clone()));
        }
        self.first_failure = self.first_failure.into_iter().chain(o.first_failure).min();
        self.last_failure = self.last_failure.into_iter().chain(o.last_failure).max();
    }
}

/// One row of the ports evidence: the target's attempts counted by outcome; `outcome` is
/// the last attempt's, `ms` the mean time from the first SYN to that outcome.
fn port_result(server: SocketAddr, t: &TargetTally) -> PortResult {
    let outcome = t.last.map_or(PortOutcome::Filtered, |(_, o)| o);
    let at = |d: Duration| Timestamp(std::time::UNIX_EPOCH + d);
    let ms = ms_slot(outcome).map(|slot| t.ms[slot]).filter(|(_, n)| *n > 0).map(|(sum, n)| round3(sum / f64::from(n)));
    PortResult {
        target: server.to_string(),
        address: Some(server),
        outcome,
        ms,
        error: t.error.as_ref().map(|(_, e)| e.clone()),
        attempts: Some(PortAttempts {
            attempts: t.attempts,
            open: t.open,
            refused: t.refused,
            filtered: t.filtered,
            unreachable: t.unreachable,
            syn_retransmissions: t.syn_retransmissions,
            first_failure: t.first_failure.map(at),
            last_failure: t.last_failure.map(at),
        }),
        families: vec![],
        happy_eyeballs_cost_ms: None,
        mss: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::check::dns::build_query;
    use crate::platform::dhcp::{ProbeIdentity, build_discover};
    use crate::report::{Code, RunStatus, Severity};
    use dhcproto::v4::{self, Encodable, MessageType as DhcpMessageType};
    use hickory_proto::op::ResponseCode;
    use hickory_proto::rr::rdata::A;
    use hickory_proto::rr::{RData, Record};
    use pnet::packet::arp::{ArpHardwareTypes, ArpOperations, MutableArpPacket};
    use pnet::packet::ethernet::{EtherType, EtherTypes, MutableEthernetPacket};
    use pnet::packet::ip::{IpNextHeaderProtocol, IpNextHeaderProtocols};
    use pnet::packet::ipv4::MutableIpv4Packet;
    use pnet::packet::tcp::MutableTcpPacket;
    use pnet::packet::tcp::TcpFlags;
    use pnet::packet::udp::MutableUdpPacket;
    use pnet::util::MacAddr as PnetMac;
    use serde_json::Value;

    const CLIENT: Ipv4Addr = Ipv4Addr::new(198, 18, 0, 10);
    const GATEWAY: Ipv4Addr = Ipv4Addr::new(198, 18, 0, 1);
    const DNS2: Ipv4Addr = Ipv4Addr::new(198, 18, 0, 2);
    const SERVER: Ipv4Addr = Ipv4Addr::new(198, 18, 1, 2);
    const CLIENT_MAC: MacAddr = MacAddr([0x02, 0, 0, 0, 0, 0x10]);
    const ROUTER_MAC: MacAddr = MacAddr([0x02, 0, 0, 0, 0, 0x01]);
    const ROGUE_MAC: MacAddr = MacAddr([0x02, 0, 0, 0, 0, 0x66]);
    const BROADCAST: MacAddr = MacAddr([0xff; 6]);

    // ---- helpers -------------------------------------------------------------------------

    fn capture(name: &str) -> Vec<Frame> {
        let path = format!("{}/captures/{name}", env!("CARGO_MANIFEST_DIR"));
        crate::pcap::read_file(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
    }

    fn report(frames: &[Frame]) -> Report {
        analyze(frames, "test.pcap", "2026-11-24T06:48:44.851Z".parse().unwrap(), "lab".into())
    }

    /// A check's evidence as JSON, for asserting on capture-only fields by their names.
    fn ev(r: &Report, id: CheckId) -> Value {
        check(r, id).evidence.to_json()
    }

    fn check(r: &Report, id: CheckId) -> &CheckResult {
        r.check(id).unwrap()
    }

    fn codes(r: &Report, id: CheckId) -> Vec<(Code, Severity)> {
        check(r, id).findings.iter().map(|f| (f.code, f.severity)).collect()
    }

    /// Panics with every violation unless the report matches `docs/report.schema.json`.
    fn assert_matches_schema(r: &Report) {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/docs/report.schema.json");
        let schema: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
        let validator = jsonschema::draft202012::new(&schema).unwrap();
        let value = serde_json::to_value(r).unwrap();
        let errors: Vec<String> =
            validator.iter_errors(&value).map(|e| format!("{}: {e}", e.instance_path())).collect();
        assert!(errors.is_empty(), "{}\n{}", errors.join("\n"), serde_json::to_string_pretty(&value).unwrap());
    }

    fn at(ms: u64, data: Vec<u8>) -> Frame {
        Frame { timestamp: Duration::from_secs(1_700_000_000) + Duration::from_millis(ms), data }
    }

    fn eth(src: MacAddr, dst: MacAddr, ethertype: EtherType, payload: &[u8]) -> Vec<u8> {
        let mut buf = vec![0u8; 14 + payload.len()];
        let mut e = MutableEthernetPacket::new(&mut buf).unwrap();
        e.set_source(PnetMac::from(src.0));
        e.set_destination(PnetMac::from(dst.0));
        e.set_ethertype(ethertype);
        e.set_payload(payload);
        buf
    }

    fn ip(
        src_mac: MacAddr,
        dst_mac: MacAddr,
        src: Ipv4Addr,
        dst: Ipv4Addr,
        proto: IpNextHeaderProtocol,
        body: &[u8],
    ) -> Vec<u8> {
        let mut buf = vec![0u8; 20 + body.len()];
        let mut p = MutableIpv4Packet::new(&mut buf).unwrap();
        p.set_version(4);
        p.set_header_length(5);
        p.set_total_length((20 + body.len()) as u16);
        p.set_ttl(64);
        p.set_next_level_protocol(proto);
        p.set_source(src);
        p.set_destination(dst);
        p.set_payload(body);
        eth(src_mac, dst_mac, EtherTypes::Ipv4, &buf)
    }

    /// From the client to `dst` (through the router's MAC).
    fn out(dst: Ipv4Addr, proto: IpNextHeaderProtocol, body: &[u8]) -> Vec<u8> {
        ip(CLIENT_MAC, ROUTER_MAC, CLIENT, dst, proto, body)
    }

    /// From `src` back to the client.
    fn back(src: Ipv4Addr, proto: IpNextHeaderProtocol, body: &[u8]) -> Vec<u8> {
        ip(ROUTER_MAC, CLIENT_MAC, src, CLIENT, proto, body)
    }

    fn udp(sport: u16, dport: u16, payload: &[u8]) -> Vec<u8> {
        let mut buf = vec![0u8; 8 + payload.len()];
        let mut u = MutableUdpPacket::new(&mut buf).unwrap();
        u.set_source(sport);
        u.set_destination(dport);
        u.set_length((8 + payload.len()) as u16);
        u.set_payload(payload);
        buf
    }

    fn tcp(sport: u16, dport: u16, flags: u8) -> Vec<u8> {
        let mut buf = vec![0u8; 20];
        let mut t = MutableTcpPacket::new(&mut buf).unwrap();
        t.set_source(sport);
        t.set_destination(dport);
        t.set_data_offset(5);
        t.set_flags(flags);
        t.set_window(64240);
        buf
    }

    fn echo(kind: u8, id: u16, seq: u16) -> Vec<u8> {
        let mut body = vec![kind, 0, 0, 0];
        body.extend_from_slice(&id.to_be_bytes());
        body.extend_from_slice(&seq.to_be_bytes());
        body.extend_from_slice(&[0x6e; 56]);
        body
    }

    fn name(text: &str) -> Name {
        Name::from_ascii(text).unwrap()
    }

    fn dns_query(id: u16, qname: &str, rtype: RecordType) -> Vec<u8> {
        build_query(id, &name(qname), rtype).to_vec().unwrap()
    }

    fn dns_response(id: u16, qname: &str, rtype: RecordType, rcode: ResponseCode, answer: Option<Ipv4Addr>) -> Vec<u8> {
        let mut msg = build_query(id, &name(qname), rtype);
        msg.metadata.message_type = MessageType::Response;
        msg.metadata.response_code = rcode;
        if let Some(ip) = answer {
            msg.add_answer(Record::from_rdata(name(qname), 60, RData::A(A(ip))));
        }
        msg.to_vec().unwrap()
    }

    /// A DNS exchange on client port `port`: the query at `ms`, the response 2 ms later
    /// (none when `rcode` is `None`).
    fn dns_exchange(ms: u64, server: Ipv4Addr, port: u16, id: u16, rcode: Option<ResponseCode>) -> Vec<Frame> {
        let mut frames = vec![at(
            ms,
            out(server, IpNextHeaderProtocols::Udp, &udp(port, 53, &dns_query(id, "www.site.test.", RecordType::A))),
        )];
        if let Some(rcode) = rcode {
            let answer = (rcode == ResponseCode::NoError).then_some(SERVER);
            let response = dns_response(id, "www.site.test.", RecordType::A, rcode, answer);
            frames.push(at(ms + 2, back(server, IpNextHeaderProtocols::Udp, &udp(53, port, &response))));
        }
        frames
    }

    fn arp_frame(
        op: pnet::packet::arp::ArpOperation,
        sender: (MacAddr, Ipv4Addr),
        target: (MacAddr, Ipv4Addr),
    ) -> Vec<u8> {
        let mut buf = vec![0u8; 28];
        let mut a = MutableArpPacket::new(&mut buf).unwrap();
        a.set_hardware_type(ArpHardwareTypes::Ethernet);
        a.set_protocol_type(EtherTypes::Ipv4);
        a.set_hw_addr_len(6);
        a.set_proto_addr_len(4);
        a.set_operation(op);
        a.set_sender_hw_addr(PnetMac::from(sender.0.0));
        a.set_sender_proto_addr(sender.1);
        a.set_target_hw_addr(PnetMac::from(target.0.0));
        a.set_target_proto_addr(target.1);
        let dst = if op == ArpOperations::Request { BROADCAST } else { target.0 };
        eth(sender.0, dst, EtherTypes::Arp, &buf)
    }

    fn who_has(target: Ipv4Addr) -> Vec<u8> {
        arp_frame(ArpOperations::Request, (CLIENT_MAC, CLIENT), (MacAddr([0; 6]), target))
    }

    fn is_at(sender: Ipv4Addr) -> Vec<u8> {
        arp_frame(ArpOperations::Reply, (ROUTER_MAC, sender), (CLIENT_MAC, CLIENT))
    }

    fn dhcp_reply(xid: u32, client: MacAddr, server: Ipv4Addr, server_mac: MacAddr, kind: DhcpMessageType) -> Vec<u8> {
        let yiaddr = if kind == DhcpMessageType::Nak { Ipv4Addr::UNSPECIFIED } else { Ipv4Addr::new(198, 18, 0, 150) };
        let mut msg =
            v4::Message::new_with_id(xid, Ipv4Addr::UNSPECIFIED, yiaddr, server, Ipv4Addr::UNSPECIFIED, &client.0);
        msg.set_opcode(Opcode::BootReply);
        msg.opts_mut().insert(DhcpOption::MessageType(kind));
        msg.opts_mut().insert(DhcpOption::ServerIdentifier(server));
        let payload = msg.to_vec().unwrap();
        ip(server_mac, BROADCAST, server, Ipv4Addr::BROADCAST, IpNextHeaderProtocols::Udp, &udp(67, 68, &payload))
    }

    fn discover(xid: u32, mac: MacAddr) -> Vec<u8> {
        build_discover(xid, &ProbeIdentity { mac, client_id: None })
    }

    // ---- the lab's captures --------------------------------------------------------------

    #[test]
    fn lab_healthy_capture_is_healthy_with_dhcp_skipped() {
        let r = report(&capture("lab_healthy.pcap"));
        assert_matches_schema(&r);
        assert_eq!(r.diagnosis.status, RunStatus::Healthy, "{:#?}", r.diagnosis);
        assert_eq!((r.schema_version.as_str(), r.tool.name.as_str()), ("1", "nettriage"));
        assert_eq!((r.interface.as_deref(), r.privileged, r.host.hostname.as_str()), (None, false, "lab"));
        assert!(r.duration_ms > 90_000, "the capture spans about 96 s: {}", r.duration_ms);
        let ids: Vec<CheckId> = r.checks.iter().map(|c| c.id).collect();
        assert_eq!(ids, CheckId::ALL);
        for id in [CheckId::Link, CheckId::Wifi] {
            assert_eq!(check(&r, id).status, CheckStatus::Skipped);
            assert_eq!(check(&r, id).reason_code, Some(SkipReason::NotObservableInCapture));
        }
        let dhcp = check(&r, CheckId::Dhcp);
        assert_eq!((dhcp.status, &dhcp.reason_code), (CheckStatus::Skipped, &Some(SkipReason::NoPacketsInCapture)));

        let gw = check(&r, CheckId::Gateway);
        assert_eq!(gw.status, CheckStatus::Pass);
        let g = &gw.evidence.to_json()["gateways"][0];
        assert_eq!((g["address"].as_str(), g["arp"]["status"].as_str()), (Some("198.18.0.1"), Some("answered")));
        assert_eq!(g["arp"]["mac"], "ca:67:75:6e:cc:98");
        assert_eq!(g["arp"]["exchanges"][0]["requester"], "198.18.0.10");
        assert!(g["arp"]["rtt_ms"].as_f64().unwrap() < 1.0);
        assert_eq!((g["ping"]["sent"].as_u64(), g["ping"]["received"].as_u64()), (Some(5), Some(5)));
        assert_eq!(g["ping"]["rtts_ms"].as_array().unwrap().len(), 5);
        assert_eq!(gw.evidence.to_json()["source"], "test.pcap");

        let dns = check(&r, CheckId::Dns);
        assert_eq!(dns.status, CheckStatus::Pass);
        let server = &dns.evidence.to_json()["servers"][0];
        assert_eq!((server["server"].as_str(), server["verdict"].as_str()), (Some("198.18.0.1"), Some("ok")));
        let outcomes: Vec<&str> =
            server["queries"].as_array().unwrap().iter().map(|q| q["outcome"].as_str().unwrap()).collect();
        assert_eq!(outcomes, ["answer", "no_data", "nxdomain"], "NXDOMAIN for the random label is no finding");
        assert_eq!(server["queries"][0]["answers"][0], "198.18.1.2");
        assert_eq!(dns.evidence.to_json()["names"], serde_json::json!(["www.site.test"]));
        assert_eq!(dns.evidence.to_json()["cache_buster"], "nt-rtasbvko.site.test");

        let ports = check(&r, CheckId::Ports);
        assert_eq!(ports.status, CheckStatus::Pass);
        let t = &ports.evidence.to_json()["targets"][0];
        assert_eq!((t["target"].as_str(), t["outcome"].as_str()), (Some("198.18.1.2:8080"), Some("open")));
        assert!(t["ms"].as_f64().unwrap() < 1.0);
    }

    #[test]
    fn arp_gateway_capture_passes_without_pings() {
        let r = report(&capture("arp_gateway.pcap"));
        assert_matches_schema(&r);
        assert_eq!(r.diagnosis.status, RunStatus::Healthy);
        let gw = check(&r, CheckId::Gateway);
        assert_eq!(gw.status, CheckStatus::Pass);
        assert_eq!(gw.evidence.to_json()["gateways"][0]["arp"]["status"], "answered");
        assert!(gw.evidence.to_json()["gateways"][0]["ping"].is_null());
        for id in [CheckId::Dhcp, CheckId::Dns, CheckId::Ports] {
            assert_eq!(check(&r, id).status, CheckStatus::Skipped, "{id}");
            assert_eq!(check(&r, id).reason_code, Some(SkipReason::NoPacketsInCapture), "{id}");
        }
    }

    #[test]
    fn dhcp_dora_capture_passes_with_every_transaction() {
        let r = report(&capture("dhcp_dora.pcap"));
        assert_matches_schema(&r);
        let dhcp = check(&r, CheckId::Dhcp);
        assert_eq!(dhcp.status, CheckStatus::Pass, "{:?}", dhcp.findings);
        let dhcp_ev = dhcp.evidence.to_json();
        let txns = dhcp_ev["transactions"].as_array().unwrap();
        assert_eq!(txns.len(), 2, "the probe and the full exchange");
        let kinds = |t: &Value| -> Vec<String> {
            t["messages"].as_array().unwrap().iter().map(|m| m["kind"].as_str().unwrap().to_string()).collect()
        };
        assert_eq!(kinds(&txns[0]), ["discover", "offer"]);
        assert_eq!(kinds(&txns[1]), ["discover", "offer", "request", "ack", "release"]);
        assert!(txns[1]["client_mac"].as_str().unwrap().starts_with("02:6e:74:"));
        assert_eq!(txns[1]["messages"][1]["server"], "198.18.0.1");
        assert_eq!(txns[1]["messages"][0]["ms"], 0.0);
        assert!(txns[1]["messages"][3]["ms"].as_f64().unwrap() > 0.0);
        // The live fields come from the last ACK.
        assert_eq!(dhcp.evidence.to_json()["current"]["routers"], serde_json::json!(["198.18.0.1"]));
        assert_eq!(dhcp.evidence.to_json()["usable_ipv4"], txns[1]["messages"][3]["address"]);
        assert_eq!(dhcp.evidence.to_json()["servers"].as_array().unwrap().len(), 1);
    }

    #[test]
    fn dhcp_two_servers_capture_warns_naming_both_servers() {
        let r = report(&capture("dhcp_two_servers.pcap"));
        assert_matches_schema(&r);
        assert_eq!(codes(&r, CheckId::Dhcp), [(Code::DhcpMultipleServers, Severity::Warn)]);
        let servers = ev(&r, CheckId::Dhcp)["servers"].clone();
        let seen: Vec<(&str, &str)> = servers
            .as_array()
            .unwrap()
            .iter()
            .map(|s| (s["server"].as_str().unwrap(), s["mac"].as_str().unwrap()))
            .collect();
        assert_eq!(seen, [("198.18.0.1", "2e:b4:55:b5:0d:d0"), ("198.18.0.66", "66:58:8f:ed:f2:97")]);
        assert_eq!(r.diagnosis.status, RunStatus::Degraded);
        assert_eq!(r.diagnosis.root_cause.unwrap().code, Code::DhcpMultipleServers);
    }

    #[test]
    fn dhcp_nak_capture_fails_with_the_servers_message() {
        let r = report(&capture("dhcp_nak.pcap"));
        assert_matches_schema(&r);
        assert_eq!(codes(&r, CheckId::Dhcp), [(Code::DhcpNak, Severity::Fail)]);
        let txns = ev(&r, CheckId::Dhcp)["transactions"].as_array().unwrap().clone();
        let nak = txns.iter().find(|t| t["messages"].as_array().unwrap().iter().any(|m| m["kind"] == "nak")).unwrap();
        assert_eq!(nak["requested"], "198.19.9.9");
        let m = nak["messages"].as_array().unwrap().iter().find(|m| m["kind"] == "nak").unwrap();
        assert_eq!(m["message"], "wrong network", "the server's own words (option 56)");
        assert_eq!(r.diagnosis.status, RunStatus::Broken);
        assert_eq!(r.diagnosis.root_cause.unwrap().code, Code::DhcpNak);
    }

    // ---- synthetic exchanges -------------------------------------------------------------

    #[test]
    fn discover_without_offer_is_no_offer() {
        let r = report(&[at(0, discover(7, CLIENT_MAC)), at(1000, discover(7, CLIENT_MAC))]);
        assert_matches_schema(&r);
        assert_eq!(codes(&r, CheckId::Dhcp), [(Code::DhcpNoOffer, Severity::Fail)]);
        let t = ev(&r, CheckId::Dhcp)["transactions"][0].clone();
        assert_eq!(
            (t["xid"].as_u64(), t["discovers"].as_u64(), t["answered"].as_bool()),
            (Some(7), Some(2), Some(false))
        );
        assert_eq!(t["broadcast"], true);
        assert_eq!(check(&r, CheckId::Dhcp).duration_ms, 1000);
        assert_eq!(r.diagnosis.status, RunStatus::Broken);

        // Answered under a new xid later: the client got there, a warning only.
        let r = report(&[
            at(0, discover(7, CLIENT_MAC)),
            at(4000, discover(8, CLIENT_MAC)),
            at(4001, dhcp_reply(8, CLIENT_MAC, GATEWAY, ROUTER_MAC, DhcpMessageType::Offer)),
        ]);
        assert_eq!(codes(&r, CheckId::Dhcp), [(Code::DhcpNoOffer, Severity::Warn)]);

        // An offer for another client does not answer ours; one for this client in another
        // transaction shows the server does answer it.
        let r = report(&[
            at(0, discover(7, CLIENT_MAC)),
            at(1, dhcp_reply(7, ROGUE_MAC, GATEWAY, ROUTER_MAC, DhcpMessageType::Offer)),
        ]);
        assert_eq!(codes(&r, CheckId::Dhcp), [(Code::DhcpNoOffer, Severity::Fail)]);
        let r = report(&[
            at(0, discover(7, CLIENT_MAC)),
            at(2, dhcp_reply(9, CLIENT_MAC, GATEWAY, ROUTER_MAC, DhcpMessageType::Offer)),
        ]);
        assert_eq!(codes(&r, CheckId::Dhcp), [(Code::DhcpNoOffer, Severity::Warn)]);
        let txns = ev(&r, CheckId::Dhcp)["transactions"].clone();
        assert_eq!((txns[0]["answered"].as_bool(), txns[1]["answered"].as_bool()), (Some(false), Some(true)));

        let r = report(&[
            at(0, discover(7, CLIENT_MAC)),
            at(1, dhcp_reply(7, CLIENT_MAC, GATEWAY, ROUTER_MAC, DhcpMessageType::Offer)),
            at(2, dhcp_reply(7, CLIENT_MAC, Ipv4Addr::new(198, 18, 0, 66), ROGUE_MAC, DhcpMessageType::Offer)),
        ]);
        assert_eq!(codes(&r, CheckId::Dhcp), [(Code::DhcpMultipleServers, Severity::Warn)]);
    }

    #[test]
    fn dns_unanswered_is_timeout_when_no_server_answers_and_partial_when_one_does() {
        let silent = [dns_exchange(0, GATEWAY, 40000, 1, None), dns_exchange(10, DNS2, 40001, 2, None)].concat();
        let r = report(&silent);
        assert_matches_schema(&r);
        assert_eq!(codes(&r, CheckId::Dns), [(Code::DnsTimeout, Severity::Fail)]);
        let servers = ev(&r, CheckId::Dns)["servers"].clone();
        assert_eq!(
            (servers[0]["verdict"].as_str(), servers[1]["verdict"].as_str()),
            (Some("dns.timeout"), Some("dns.timeout"))
        );

        let r = report(
            &[dns_exchange(0, GATEWAY, 40000, 1, Some(ResponseCode::NoError)), dns_exchange(10, DNS2, 40001, 2, None)]
                .concat(),
        );
        assert_matches_schema(&r);
        assert_eq!(codes(&r, CheckId::Dns), [(Code::DnsPartial, Severity::Warn)]);
        let servers = &check(&r, CheckId::Dns).evidence.to_json()["servers"];
        assert_eq!((servers[0]["verdict"].as_str(), servers[1]["verdict"].as_str()), (Some("ok"), Some("dns.timeout")));
        assert_eq!(servers[0]["queries"][0]["ms"], 2.0);
        assert!(servers[1]["avg_ms"].is_null());

        // A response with the wrong id, from the wrong server or for another name is not an answer.
        let query = dns_query(5, "www.site.test.", RecordType::A);
        let r = report(&[
            at(0, out(GATEWAY, IpNextHeaderProtocols::Udp, &udp(40000, 53, &query))),
            at(
                1,
                back(
                    GATEWAY,
                    IpNextHeaderProtocols::Udp,
                    &udp(
                        53,
                        40000,
                        &dns_response(6, "www.site.test.", RecordType::A, ResponseCode::NoError, Some(SERVER)),
                    ),
                ),
            ),
            at(
                2,
                back(
                    DNS2,
                    IpNextHeaderProtocols::Udp,
                    &udp(
                        53,
                        40000,
                        &dns_response(5, "www.site.test.", RecordType::A, ResponseCode::NoError, Some(SERVER)),
                    ),
                ),
            ),
            at(
                3,
                back(
                    GATEWAY,
                    IpNextHeaderProtocols::Udp,
                    &udp(53, 40000, &dns_response(5, "evil.test.", RecordType::A, ResponseCode::NoError, Some(SERVER))),
                ),
            ),
        ]);
        assert_eq!(codes(&r, CheckId::Dns), [(Code::DnsTimeout, Severity::Fail)]);
    }

    #[test]
    fn dns_retry_resends_and_icmp_unreachable() {
        // The live check's retry: a new socket and id after a timeout; answered, so ok.
        let r = report(
            &[
                dns_exchange(0, GATEWAY, 40000, 1, None),
                dns_exchange(1500, GATEWAY, 40001, 2, Some(ResponseCode::NoError)),
            ]
            .concat(),
        );
        assert_eq!(check(&r, CheckId::Dns).status, CheckStatus::Pass, "{:?}", check(&r, CheckId::Dns).findings);
        assert_eq!(check(&r, CheckId::Dns).evidence.to_json()["servers"][0]["queries"][0]["answered_on_retry"], true);

        // A resend on the same socket with the same id is one query with two attempts.
        let q = dns_query(3, "www.site.test.", RecordType::A);
        let resend = at(1000, out(GATEWAY, IpNextHeaderProtocols::Udp, &udp(40000, 53, &q)));
        let mut frames = dns_exchange(0, GATEWAY, 40000, 3, None);
        frames.push(resend);
        frames.push(at(
            1003,
            back(
                GATEWAY,
                IpNextHeaderProtocols::Udp,
                &udp(53, 40000, &dns_response(3, "www.site.test.", RecordType::A, ResponseCode::NoError, Some(SERVER))),
            ),
        ));
        let r = report(&frames);
        let q0 = &check(&r, CheckId::Dns).evidence.to_json()["servers"][0]["queries"][0];
        assert_eq!(
            (q0["attempts"].as_u64(), q0["ms"].as_f64(), q0["outcome"].as_str()),
            (Some(2), Some(3.0), Some("answer"))
        );

        // ICMP port unreachable quoting the query.
        let mut frames = dns_exchange(0, GATEWAY, 40000, 4, None);
        let quoted =
            out(GATEWAY, IpNextHeaderProtocols::Udp, &udp(40000, 53, &dns_query(4, "www.site.test.", RecordType::A)));
        let mut icmp = vec![3, 3, 0, 0, 0, 0, 0, 0];
        icmp.extend_from_slice(&quoted[14..14 + 28]);
        frames.push(at(1, back(GATEWAY, IpNextHeaderProtocols::Icmp, &icmp)));
        let r = report(&frames);
        assert_eq!(codes(&r, CheckId::Dns), [(Code::DnsUnreachable, Severity::Fail)]);
        assert_eq!(ev(&r, CheckId::Dns)["servers"][0]["queries"][0]["outcome"], "unreachable");
    }

    #[test]
    fn dns_servfail_and_refused() {
        let r = report(&dns_exchange(0, GATEWAY, 40000, 1, Some(ResponseCode::ServFail)));
        assert_matches_schema(&r);
        assert_eq!(codes(&r, CheckId::Dns), [(Code::DnsServfail, Severity::Fail)]);
        assert_eq!(check(&r, CheckId::Dns).evidence.to_json()["servers"][0]["queries"][0]["outcome"], "servfail");

        let r = report(
            &[
                dns_exchange(0, GATEWAY, 40000, 1, Some(ResponseCode::ServFail)),
                dns_exchange(5, DNS2, 40001, 2, Some(ResponseCode::Refused)),
            ]
            .concat(),
        );
        assert_eq!(codes(&r, CheckId::Dns), [(Code::DnsServfail, Severity::Fail), (Code::DnsRefused, Severity::Fail)]);

        let r = report(
            &[
                dns_exchange(0, GATEWAY, 40000, 1, Some(ResponseCode::NoError)),
                dns_exchange(5, DNS2, 40001, 2, Some(ResponseCode::ServFail)),
            ]
            .concat(),
        );
        assert_eq!(codes(&r, CheckId::Dns), [(Code::DnsPartial, Severity::Warn)]);

        // NXDOMAIN for every name asked is dns.nxdomain, as in a live run; NXDOMAIN for one
        // name among answered ones is another client's typo, not a resolver fault.
        let r = report(&dns_exchange(0, GATEWAY, 40000, 1, Some(ResponseCode::NXDomain)));
        assert_eq!(codes(&r, CheckId::Dns), [(Code::DnsNxdomain, Severity::Fail)]);
        let typo = dns_response(2, "wwww.site.test.", RecordType::A, ResponseCode::NXDomain, None);
        let mut frames = dns_exchange(0, GATEWAY, 40000, 1, Some(ResponseCode::NoError));
        frames.push(at(
            5,
            out(GATEWAY, IpNextHeaderProtocols::Udp, &udp(40001, 53, &dns_query(2, "wwww.site.test.", RecordType::A))),
        ));
        frames.push(at(6, back(GATEWAY, IpNextHeaderProtocols::Udp, &udp(53, 40001, &typo))));
        let r = report(&frames);
        assert_eq!(check(&r, CheckId::Dns).status, CheckStatus::Pass, "{:?}", codes(&r, CheckId::Dns));
    }

    #[test]
    fn tcp_rst_is_refused_silence_filtered_and_icmp_unreachable() {
        let syn = |ms, port| at(ms, out(SERVER, IpNextHeaderProtocols::Tcp, &tcp(port, 8080, TcpFlags::SYN)));
        let r = report(&[
            syn(0, 50000),
            at(1, back(SERVER, IpNextHeaderProtocols::Tcp, &tcp(8080, 50000, TcpFlags::RST | TcpFlags::ACK))),
        ]);
        assert_matches_schema(&r);
        assert_eq!(codes(&r, CheckId::Ports), [(Code::PortsRefused, Severity::Fail)]);
        let t = &check(&r, CheckId::Ports).evidence.to_json()["targets"][0];
        assert_eq!(
            (t["target"].as_str(), t["outcome"].as_str(), t["ms"].as_f64()),
            (Some("198.18.1.2:8080"), Some("refused"), Some(1.0))
        );

        // SYN and its retransmissions, no answer.
        let r = report(&[syn(0, 50000), syn(1000, 50000), syn(3000, 50000)]);
        assert_matches_schema(&r);
        assert_eq!(codes(&r, CheckId::Ports), [(Code::PortsFiltered, Severity::Fail)]);
        let t = &check(&r, CheckId::Ports).evidence.to_json()["targets"][0];
        assert_eq!(
            (t["attempts"].as_u64(), t["syn_retransmissions"].as_u64(), t["outcome"].as_str()),
            (Some(1), Some(2), Some("filtered"))
        );
        assert!(t["ms"].is_null());

        // A retransmitted SYN that is finally answered is one slow, open attempt: the lost
        // first SYN is `ports.flaky`, as in a live run.
        let synack = |ms, port| {
            at(ms, back(SERVER, IpNextHeaderProtocols::Tcp, &tcp(8080, port, TcpFlags::SYN | TcpFlags::ACK)))
        };
        let r = report(&[syn(0, 50000), syn(1000, 50000), synack(1001, 50000)]);
        assert_eq!(codes(&r, CheckId::Ports), [(Code::PortsFlaky, Severity::Warn)]);
        assert_eq!(check(&r, CheckId::Ports).evidence.to_json()["targets"][0]["ms"], 1001.0);

        // Refused once, open later: intermittent, a warning.
        let r = report(&[
            syn(0, 50000),
            at(1, back(SERVER, IpNextHeaderProtocols::Tcp, &tcp(8080, 50000, TcpFlags::RST | TcpFlags::ACK))),
            syn(10, 50001),
            synack(11, 50001),
        ]);
        assert_eq!(codes(&r, CheckId::Ports), [(Code::PortsRefused, Severity::Warn)]);
        let t = ev(&r, CheckId::Ports)["targets"][0].clone();
        assert_eq!((t["attempts"].as_u64(), t["refused"].as_u64(), t["open"].as_u64()), (Some(2), Some(1), Some(1)));

        // ICMP host unreachable quoting the SYN.
        let quoted = out(SERVER, IpNextHeaderProtocols::Tcp, &tcp(50000, 8080, TcpFlags::SYN));
        let mut icmp = vec![3, 1, 0, 0, 0, 0, 0, 0];
        icmp.extend_from_slice(&quoted[14..14 + 28]);
        let r = report(&[syn(0, 50000), at(3, back(GATEWAY, IpNextHeaderProtocols::Icmp, &icmp))]);
        assert_eq!(codes(&r, CheckId::Ports), [(Code::PortsUnreachable, Severity::Fail)]);
        assert_eq!(
            check(&r, CheckId::Ports).evidence.to_json()["targets"][0]["error"],
            "ICMP host unreachable from 198.18.0.1"
        );

        // Handshake segments of an untracked connection alone are no attempt.
        let r = report(&[synack(0, 50000)]);
        assert_eq!(check(&r, CheckId::Ports).status, CheckStatus::Skipped);
    }

    #[test]
    fn a_single_unanswered_arp_on_a_busy_segment_is_not_a_gateway_fault() {
        let r = report(&[at(0, who_has(GATEWAY))]);
        assert!(codes(&r, CheckId::Gateway).is_empty(), "{:?}", codes(&r, CheckId::Gateway));
        // Nor is it a gateway that works: nothing was seen of one.
        assert_eq!(check(&r, CheckId::Gateway).status, CheckStatus::Skipped);
        // Answered, it is an exchange that worked.
        let r = report(&[at(0, who_has(GATEWAY)), at(1, is_at(GATEWAY))]);
        assert_eq!(check(&r, CheckId::Gateway).status, CheckStatus::Pass);
    }

    #[test]
    fn arp_silence_is_unreachable_and_echo_loss_is_judged() {
        let r = report(&[at(0, who_has(GATEWAY)), at(1000, who_has(GATEWAY)), at(2000, who_has(GATEWAY))]);
        assert_matches_schema(&r);
        assert_eq!(codes(&r, CheckId::Gateway), [(Code::GatewayUnreachable, Severity::Fail)]);
        let arp = ev(&r, CheckId::Gateway)["gateways"][0]["arp"].clone();
        assert_eq!((arp["requests_sent"].as_u64(), arp["status"].as_str()), (Some(3), Some("no_reply")));
        assert_eq!(arp["exchanges"][2]["requester"], "198.18.0.10");

        // Answered at last: no finding; the reply pairs with the latest request.
        let r = report(&[at(0, who_has(GATEWAY)), at(1000, who_has(GATEWAY)), at(1001, is_at(GATEWAY))]);
        assert_eq!(check(&r, CheckId::Gateway).status, CheckStatus::Pass);
        let arp = &check(&r, CheckId::Gateway).evidence.to_json()["gateways"][0]["arp"];
        assert_eq!((arp["rtt_ms"].as_f64(), arp["requests_sent"].as_u64()), (Some(1.0), Some(2)));

        // ARP probes (sender 0.0.0.0) and announcements expect no reply.
        let probe = arp_frame(ArpOperations::Request, (CLIENT_MAC, Ipv4Addr::UNSPECIFIED), (MacAddr([0; 6]), CLIENT));
        let announce = arp_frame(ArpOperations::Request, (CLIENT_MAC, CLIENT), (MacAddr([0; 6]), CLIENT));
        let r = report(&[at(0, probe), at(1, announce)]);
        assert_eq!(check(&r, CheckId::Gateway).status, CheckStatus::Skipped);

        // Echo: 10 sent, 9 answered = 10 % loss; 20 sent, 19 answered = 5 %, not above.
        let series = |sent: u16, lost: u16| -> Vec<Frame> {
            let mut frames = vec![at(0, who_has(GATEWAY)), at(1, is_at(GATEWAY))];
            for seq in 0..sent {
                let ms = 10 + u64::from(seq) * 100;
                frames.push(at(ms, out(GATEWAY, IpNextHeaderProtocols::Icmp, &echo(8, 77, seq))));
                if seq >= lost {
                    frames.push(at(ms + 1, back(GATEWAY, IpNextHeaderProtocols::Icmp, &echo(0, 77, seq))));
                }
            }
            frames
        };
        let r = report(&series(10, 1));
        assert_matches_schema(&r);
        assert_eq!(codes(&r, CheckId::Gateway), [(Code::GatewayLoss, Severity::Warn)]);
        let ping = &check(&r, CheckId::Gateway).evidence.to_json()["gateways"][0]["ping"];
        assert_eq!((ping["sent"].as_u64(), ping["received"].as_u64()), (Some(10), Some(9)));
        assert!(ping["rtts_ms"][0].is_null() && ping["rtts_ms"][1] == 1.0);
        assert!(codes(&report(&series(20, 1)), CheckId::Gateway).is_empty());
        assert_eq!(codes(&report(&series(5, 5)), CheckId::Gateway), [(Code::GatewayNoEcho, Severity::Warn)]);

        // No ARP in the capture for a pinged address: no_echo too, ARP "not_applicable".
        let r = report(&[at(0, out(SERVER, IpNextHeaderProtocols::Icmp, &echo(8, 1, 1)))]);
        assert_matches_schema(&r);
        assert_eq!(codes(&r, CheckId::Gateway), [(Code::GatewayNoEcho, Severity::Warn)]);
        assert_eq!(check(&r, CheckId::Gateway).evidence.to_json()["gateways"][0]["arp"]["status"], "not_applicable");

        // ARP unanswered and pings unanswered: unreachable only.
        let r = report(&[at(0, who_has(GATEWAY)), at(5, out(GATEWAY, IpNextHeaderProtocols::Icmp, &echo(8, 1, 1)))]);
        assert_eq!(codes(&r, CheckId::Gateway), [(Code::GatewayUnreachable, Severity::Fail)]);
    }

    #[test]
    fn an_answered_arp_probe_is_a_duplicate_address() {
        // RFC 5227: the client asks whether anyone else has 198.18.0.10; another host does.
        let probe =
            || arp_frame(ArpOperations::Request, (CLIENT_MAC, Ipv4Addr::UNSPECIFIED), (MacAddr([0; 6]), CLIENT));
        let other = arp_frame(ArpOperations::Reply, (ROGUE_MAC, CLIENT), (CLIENT_MAC, Ipv4Addr::UNSPECIFIED));
        let r = report(&[at(0, probe()), at(3, other.clone())]);
        assert_matches_schema(&r);
        assert_eq!(codes(&r, CheckId::Dhcp), [(Code::DhcpDuplicateAddress, Severity::Fail)]);
        let dup = ev(&r, CheckId::Dhcp)["duplicate_check"].clone();
        assert_eq!(
            (dup["address"].as_str(), dup["conflict_mac"].as_str()),
            (Some("198.18.0.10"), Some("02:00:00:00:00:66"))
        );

        // Unanswered, answered by the prober itself, or answered long after: no conflict.
        let r = report(&[at(0, probe())]);
        assert_eq!(check(&r, CheckId::Dhcp).status, CheckStatus::Pass);
        assert_eq!(ev(&r, CheckId::Dhcp)["duplicate_check"]["status"], "ran");
        let own = arp_frame(ArpOperations::Reply, (CLIENT_MAC, CLIENT), (ROGUE_MAC, Ipv4Addr::UNSPECIFIED));
        assert_eq!(check(&report(&[at(0, probe()), at(1, own)]), CheckId::Dhcp).status, CheckStatus::Pass);
        assert_eq!(check(&report(&[at(0, probe()), at(5000, other)]), CheckId::Dhcp).status, CheckStatus::Pass);
    }

    #[test]
    fn vlan_tagged_frames_decode_like_untagged_ones() {
        let tag = |frame: Vec<u8>| {
            let mut tagged = frame[..12].to_vec();
            tagged.extend_from_slice(&[0x81, 0x00, 0x00, 0x0a]);
            tagged.extend_from_slice(&frame[12..]);
            tagged
        };
        let r = report(&[
            at(0, tag(out(SERVER, IpNextHeaderProtocols::Tcp, &tcp(50000, 443, TcpFlags::SYN)))),
            at(1, tag(back(SERVER, IpNextHeaderProtocols::Tcp, &tcp(443, 50000, TcpFlags::RST)))),
        ]);
        assert_eq!(codes(&r, CheckId::Ports), [(Code::PortsRefused, Severity::Fail)]);
    }

    #[test]
    fn gateways_and_dns_servers_are_named_with_the_vlan_they_were_asked_on() {
        // VLAN 10 in the 802.1Q tag's identifier; DNS2 is asked untagged.
        let tag = |frame: Vec<u8>| {
            let mut tagged = frame[..12].to_vec();
            tagged.extend_from_slice(&[0x81, 0x00, 0x00, 0x0a]);
            tagged.extend_from_slice(&frame[12..]);
            tagged
        };
        let mut frames = vec![at(0, tag(who_has(GATEWAY))), at(1, tag(is_at(GATEWAY)))];
        frames.extend(
            dns_exchange(10, GATEWAY, 40000, 1, Some(ResponseCode::NoError)).into_iter().map(|f| at(10, tag(f.data))),
        );
        frames.extend(dns_exchange(20, DNS2, 40001, 2, Some(ResponseCode::NoError)));
        let r = report(&frames);
        assert_matches_schema(&r);
        let g = check(&r, CheckId::Gateway).gateway().unwrap();
        let vlans: Vec<(IpAddr, Option<u16>)> =
            g.gateways.iter().map(|gw| (gw.address, gw.arp.seen.as_ref().and_then(|s| s.vlan))).collect();
        assert_eq!(vlans, [(IpAddr::V4(GATEWAY), Some(10))]);
        let dns = check(&r, CheckId::Dns).dns().unwrap();
        let vlans: Vec<(IpAddr, Option<u16>)> =
            dns.servers.iter().map(|s| (s.server, s.capture.as_ref().and_then(|c| c.vlan))).collect();
        assert_eq!(vlans, [(IpAddr::V4(GATEWAY), Some(10)), (IpAddr::V4(DNS2), None)]);
    }

    #[test]
    fn vlan_tags_of_any_depth_and_kind_decode_like_untagged_ones() {
        // 802.1ad outer tag, then 802.1Q, then the legacy 0x9100 QinQ TPID: three deep.
        let tag = |frame: Vec<u8>| {
            let mut tagged = frame[..12].to_vec();
            for (tpid, vid) in [(0x88a8u16, 100u16), (0x8100, 200), (0x9100, 300)] {
                tagged.extend_from_slice(&tpid.to_be_bytes());
                tagged.extend_from_slice(&vid.to_be_bytes());
            }
            tagged.extend_from_slice(&frame[12..]);
            tagged
        };
        let frames = dns_exchange(0, GATEWAY, 40000, 1, Some(ResponseCode::NoError));
        let untagged = report(&frames);
        let tagged = report(&frames.into_iter().map(|f| Frame { data: tag(f.data), ..f }).collect::<Vec<_>>());
        assert_eq!(check(&tagged, CheckId::Dns).status, CheckStatus::Pass);
        let outcome = |r: &Report| check(r, CheckId::Dns).dns().map(|d| d.servers[0].queries[0].outcome);
        assert_eq!(outcome(&tagged), outcome(&untagged));
        assert_eq!(outcome(&tagged), Some(QueryOutcome::Answer));
    }

    #[test]
    fn fragmented_dns_answers_are_reassembled_and_count_as_answers() {
        // Real large answers (120 A over IPv4, 120 AAAA over IPv6) that the server's kernel
        // fragmented; captures/README.md says how they were recorded.
        let frames = capture("dns_fragments.pcap");
        let fragments = frames
            .iter()
            .filter_map(|f| crate::wire::decode(&f.data).ok())
            .filter(|p| p.ip().is_some_and(|ip| ip.fragment.is_some()))
            .count();
        assert_eq!((frames.len(), fragments), (7, 5), "2 IPv4 and 3 IPv6 fragments");

        let r = report(&frames);
        assert_matches_schema(&r);
        let dns = check(&r, CheckId::Dns);
        assert_eq!(dns.status, CheckStatus::Pass, "{:?}", codes(&r, CheckId::Dns));
        let seen: Vec<(String, &str, QueryOutcome, usize)> = dns
            .dns()
            .expect("typed DNS evidence")
            .servers
            .iter()
            .map(|s| {
                let q = &s.queries[0];
                (s.server.to_string(), q.record_type.as_str(), q.outcome, q.answers.len())
            })
            .collect();
        let expected = [
            ("198.18.0.1".to_string(), "A", QueryOutcome::Answer, MAX_ANSWERS),
            ("2001:2::1".to_string(), "AAAA", QueryOutcome::Answer, MAX_ANSWERS),
        ];
        assert_eq!(seen, expected, "answers kept up to MAX_ANSWERS of 120");

        // Without its last fragment the IPv6 answer never completes: that query timed out.
        let r = report(&frames[..frames.len() - 1]);
        let servers = &check(&r, CheckId::Dns).dns().expect("typed DNS evidence").servers;
        assert_eq!(
            (servers[0].queries[0].outcome, servers[1].queries[0].outcome),
            (QueryOutcome::Answer, QueryOutcome::Timeout)
        );
    }

    #[test]
    fn empty_capture_skips_every_layer_and_is_unknown_not_healthy() {
        // An empty capture, and one with only traffic no check reads (a UDP datagram to
        // port 5000, an ARP announcement): nothing to judge, exit code 3.
        let other = at(0, out(SERVER, IpNextHeaderProtocols::Udp, &udp(40000, 5000, b"hello")));
        let announce = at(1, arp_frame(ArpOperations::Request, (CLIENT_MAC, CLIENT), (MacAddr([0; 6]), CLIENT)));
        for frames in [vec![], vec![other, announce]] {
            let r = report(&frames);
            assert_matches_schema(&r);
            assert_eq!((r.diagnosis.status, r.diagnosis.status.exit_code()), (RunStatus::Unknown, 3));
            assert!(r.diagnosis.root_cause.is_none() && r.diagnosis.findings.is_empty());
            assert!(r.checks.iter().all(|c| c.status == CheckStatus::Skipped));
            for id in [CheckId::Dhcp, CheckId::Gateway, CheckId::Dns, CheckId::Ports] {
                assert_eq!(check(&r, id).reason_code, Some(SkipReason::NoPacketsInCapture), "{id}");
            }
        }
        assert_eq!(report(&[]).duration_ms, 0);
    }

    // ---- the passive-capture policy (docs/analyze-and-diff.md) ----------------------------

    #[test]
    fn an_answer_that_does_not_parse_is_malformed_not_silence() {
        // A real answer cut in its answer record: id, QR bit and sockets match the query.
        let whole = dns_response(1, "www.site.test.", RecordType::A, ResponseCode::NoError, Some(SERVER));
        let cut = &whole[..whole.len() - 3];
        assert!(Message::from_vec(cut).is_err());
        let query = dns_query(1, "www.site.test.", RecordType::A);
        let frames = [
            at(0, out(GATEWAY, IpNextHeaderProtocols::Udp, &udp(40000, 53, &query))),
            at(2, back(GATEWAY, IpNextHeaderProtocols::Udp, &udp(53, 40000, cut))),
        ];
        let r = report(&frames);
        assert_matches_schema(&r);
        assert_eq!(codes(&r, CheckId::Dns), [(Code::DnsMalformed, Severity::Fail)]);
        let q = &check(&r, CheckId::Dns).dns().expect("typed DNS evidence").servers[0].queries[0];
        assert_eq!((q.outcome, q.ms), (QueryOutcome::Malformed, Some(2.0)));

        // The client asked again and got a readable answer: a retry, not a finding.
        let mut retried = frames.to_vec();
        retried.extend(dns_exchange(10, GATEWAY, 40001, 2, Some(ResponseCode::NoError)));
        assert_eq!(check(&report(&retried), CheckId::Dns).status, CheckStatus::Pass);
    }

    /// Feeds `frames` as capture records, each cut to its `Some(len)` bytes by a snap
    /// length (and flagged as cut), into a report.
    fn report_cut(frames: &[(Frame, Option<usize>)]) -> Report {
        let mut analysis = Analysis::new();
        for (f, cut) in frames {
            let len = cut.unwrap_or(f.data.len()).min(f.data.len());
            analysis.feed_captured(LinkType::Ethernet, &f.data[..len], len < f.data.len(), f.timestamp);
        }
        analysis.finish("test.pcap", "2026-11-24T06:48:44.851Z".parse().unwrap(), "lab".into())
    }

    #[test]
    fn answers_cut_by_the_snap_length_are_judged_by_their_headers() {
        // Ethernet, IPv4 and UDP headers: 42 bytes; the DNS header: 12 more.
        const HEADERS: usize = 42;
        let query = dns_query(1, "www.site.test.", RecordType::A);
        for rcode in [ResponseCode::NoError, ResponseCode::ServFail, ResponseCode::NXDomain, ResponseCode::Refused] {
            let answer = (rcode == ResponseCode::NoError).then_some(SERVER);
            let response = dns_response(1, "www.site.test.", RecordType::A, rcode, answer);
            let frames = [
                at(0, out(GATEWAY, IpNextHeaderProtocols::Udp, &udp(40000, 53, &query))),
                at(2, back(GATEWAY, IpNextHeaderProtocols::Udp, &udp(53, 40000, &response))),
            ];
            let whole = report(&frames);
            // Cut after the header, inside the question, and (an answer with a record)
            // after the question (12 + 15 + 4 bytes).
            for keep in [12, 20, 31].into_iter().filter(|&keep| frames[1].data.len() > HEADERS + keep) {
                let r = report_cut(&[(frames[0].clone(), None), (frames[1].clone(), Some(HEADERS + keep))]);
                assert_matches_schema(&r);
                assert_eq!(codes(&r, CheckId::Dns), codes(&whole, CheckId::Dns), "{rcode} cut after {keep}");
                let q = &check(&r, CheckId::Dns).dns().unwrap().servers[0].queries[0];
                let want = check(&whole, CheckId::Dns).dns().unwrap().servers[0].queries[0].outcome;
                assert_eq!((q.outcome, q.ms), (want, Some(2.0)), "{rcode} cut after {keep}");
                assert!(q.seen.as_ref().is_some_and(|s| s.answer_cut));
                // Without the flag, the same bytes are a malformed frame: nothing came.
                let unflagged = report(&[frames[0].clone(), at(2, frames[1].data[..HEADERS + keep].to_vec())]);
                assert_eq!(codes(&unflagged, CheckId::Dns), [(Code::DnsTimeout, Severity::Fail)]);
            }
        }
        // An answer cut inside its DNS header came, but says nothing: neither a timeout nor
        // malformed, and the other server's answer is judged as usual.
        let mut frames: Vec<(Frame, Option<usize>)> =
            dns_exchange(0, GATEWAY, 40000, 1, Some(ResponseCode::ServFail)).into_iter().map(|f| (f, None)).collect();
        frames[1].1 = Some(HEADERS + 6);
        frames.extend(dns_exchange(5, DNS2, 40001, 2, Some(ResponseCode::NoError)).into_iter().map(|f| (f, None)));
        let r = report_cut(&frames);
        assert_eq!(check(&r, CheckId::Dns).status, CheckStatus::Pass);
        assert!(codes(&r, CheckId::Dns).is_empty());
    }

    #[test]
    fn echo_replies_and_handshakes_cut_by_the_snap_length_count() {
        // A 98-byte echo exchange cut to 96 bytes (tcpdump -s 96), and a SYN-ACK whose
        // options were cut: the headers are whole.
        let mut frames = Vec::new();
        for seq in 0..3u16 {
            frames
                .push((at(u64::from(seq) * 10, out(GATEWAY, IpNextHeaderProtocols::Icmp, &echo(8, 7, seq))), Some(96)));
            frames.push((
                at(u64::from(seq) * 10 + 1, back(GATEWAY, IpNextHeaderProtocols::Icmp, &echo(0, 7, seq))),
                Some(96),
            ));
        }
        let syn_ack = TcpFlags::SYN | TcpFlags::ACK;
        frames.push((at(40, out(SERVER, IpNextHeaderProtocols::Tcp, &tcp(41000, 443, TcpFlags::SYN))), None));
        frames.push((at(41, back(SERVER, IpNextHeaderProtocols::Tcp, &tcp(443, 41000, syn_ack))), None));
        let r = report_cut(&frames);
        let ping = check(&r, CheckId::Gateway).gateway().unwrap().gateways[0].ping.clone().unwrap();
        assert_eq!((ping.sent, ping.received), (3, 3));
        assert_eq!(check(&r, CheckId::Gateway).status, CheckStatus::Pass);
        assert_eq!(check(&r, CheckId::Ports).status, CheckStatus::Pass);
        // Unflagged, the cut echoes do not decode: nothing about the gateway was seen.
        let unflagged: Vec<Frame> =
            frames.iter().map(|(f, cut)| at(0, f.data[..cut.unwrap_or(f.data.len())].to_vec())).take(6).collect();
        assert_eq!(check(&report(&unflagged), CheckId::Gateway).status, CheckStatus::Skipped);
    }

    #[test]
    fn an_error_rcode_then_success_for_the_same_question_is_a_retry() {
        // EDNS fallback: FORMERR (or BADVERS, SERVFAIL) to the first query, the same
        // question answered on the retry.
        for rcode in [ResponseCode::FormErr, ResponseCode::ServFail] {
            let mut frames = dns_exchange(0, GATEWAY, 40000, 1, Some(rcode));
            frames.extend(dns_exchange(5, GATEWAY, 40000, 2, Some(ResponseCode::NoError)));
            let r = report(&frames);
            assert_matches_schema(&r);
            assert_eq!(check(&r, CheckId::Dns).status, CheckStatus::Pass, "{rcode}: {:?}", codes(&r, CheckId::Dns));
            let queries = &check(&r, CheckId::Dns).dns().expect("typed DNS evidence").servers[0].queries;
            let retried: Vec<bool> =
                queries.iter().map(|q| q.seen.as_ref().is_some_and(|s| s.answered_on_retry)).collect();
            assert_eq!(retried, [true, false]);
            // The other order, or no success at all, is a failure.
            let mut frames = dns_exchange(0, GATEWAY, 40000, 1, Some(ResponseCode::NoError));
            frames.extend(dns_exchange(5, GATEWAY, 40000, 2, Some(rcode)));
            assert_eq!(codes(&report(&frames), CheckId::Dns), [(Code::DnsServfail, Severity::Fail)]);
        }
        // A retry to another server does not excuse this one.
        let mut frames = dns_exchange(0, GATEWAY, 40000, 1, Some(ResponseCode::ServFail));
        frames.extend(dns_exchange(5, DNS2, 40000, 2, Some(ResponseCode::NoError)));
        assert_eq!(codes(&report(&frames), CheckId::Dns), [(Code::DnsPartial, Severity::Warn)]);
    }

    #[test]
    fn a_router_sweeping_absent_hosts_is_not_an_unreachable_gateway() {
        // The router asks three times for each of ten absent hosts, nobody answers.
        let sweep =
            |target: Ipv4Addr| arp_frame(ArpOperations::Request, (ROUTER_MAC, GATEWAY), (MacAddr([0; 6]), target));
        let mut frames = Vec::new();
        for round in 0..3u64 {
            for host in 100..110u8 {
                frames.push(at(round * 1000 + u64::from(host), sweep(Ipv4Addr::new(198, 18, 0, host))));
            }
        }
        let r = report(&frames);
        assert_matches_schema(&r);
        // Nothing about our gateway was seen: not a pass, nothing to judge.
        let gateway = check(&r, CheckId::Gateway);
        assert_eq!(
            (gateway.status, gateway.reason_code.clone()),
            (CheckStatus::Skipped, Some(SkipReason::NoPacketsInCapture)),
            "{:?}",
            codes(&r, CheckId::Gateway)
        );
        assert!(gateway.findings.is_empty());
        assert_eq!(r.diagnosis.status, RunStatus::Unknown);
        assert_eq!(r.diagnosis.status.exit_code(), 3);
        // What was seen is still listed.
        let g = gateway.gateway().expect("typed gateway evidence");
        let seen = g.gateways[0].arp.seen.as_ref().expect("capture fields");
        assert_eq!((g.gateways.len(), g.gateways[0].arp.requests_sent, seen.sweep), (10, 3, true));

        // Beside a healthy DNS exchange, the sweep does not make the gateway pass either.
        let mut with_dns = frames.clone();
        with_dns.extend(dns_exchange(4000, GATEWAY, 40000, 1, Some(ResponseCode::NoError)));
        let r = report(&with_dns);
        assert_eq!(check(&r, CheckId::Gateway).status, CheckStatus::Skipped);
        assert_eq!((r.diagnosis.status, check(&r, CheckId::Dns).status), (RunStatus::Healthy, CheckStatus::Pass));

        // The client asking for its gateway three times alongside is still judged.
        frames.extend([at(4000, who_has(GATEWAY)), at(5000, who_has(GATEWAY)), at(6000, who_has(GATEWAY))]);
        assert_eq!(codes(&report(&frames), CheckId::Gateway), [(Code::GatewayUnreachable, Severity::Fail)]);
    }

    #[test]
    fn echoes_answered_by_time_exceeded_are_a_traceroute_not_loss() {
        // traceroute -I to SERVER: TTL 1..5 expire at the gateway, TTL 6 gets the reply.
        let time_exceeded = |seq: u16| {
            let quoted = out(SERVER, IpNextHeaderProtocols::Icmp, &echo(8, 9, seq));
            let mut body = vec![11, 0, 0, 0, 0, 0, 0, 0];
            body.extend_from_slice(&quoted[14..14 + 28]);
            back(GATEWAY, IpNextHeaderProtocols::Icmp, &body)
        };
        let mut frames = Vec::new();
        for seq in 1..=6u16 {
            let ms = u64::from(seq) * 10;
            frames.push(at(ms, out(SERVER, IpNextHeaderProtocols::Icmp, &echo(8, 9, seq))));
            let answer =
                if seq < 6 { time_exceeded(seq) } else { back(SERVER, IpNextHeaderProtocols::Icmp, &echo(0, 9, seq)) };
            frames.push(at(ms + 1, answer));
        }
        let r = report(&frames);
        assert_matches_schema(&r);
        assert_eq!(check(&r, CheckId::Gateway).status, CheckStatus::Pass, "{:?}", codes(&r, CheckId::Gateway));
        let g = check(&r, CheckId::Gateway).gateway().expect("typed gateway evidence");
        let ping = g.gateways[0].ping.as_ref().expect("echo series");
        assert_eq!((ping.sent, ping.received, ping.time_exceeded), (1, 1, Some(5)));

        // Without the time-exceeded replies the same requests are 5 of 6 lost.
        let silent: Vec<Frame> =
            frames.iter().enumerate().filter(|(i, _)| i % 2 == 0 || *i == 11).map(|(_, f)| f.clone()).collect();
        assert_eq!(codes(&report(&silent), CheckId::Gateway), [(Code::GatewayLoss, Severity::Fail)]);

        // A ping (id 7) whose request 7/1 was lost, and a time exceeded for a traceroute
        // probe (9/99) whose request the capture missed: the time exceeded quotes id and
        // sequence, so it matches no request and the lost ping stays lost (matching the
        // oldest open request of the pair would have hidden the loss).
        let mut both = vec![at(0, out(SERVER, IpNextHeaderProtocols::Icmp, &echo(8, 7, 1))), at(5, time_exceeded(99))];
        for seq in 2..=4u16 {
            let ms = 100 + u64::from(seq) * 10;
            both.push(at(ms, out(SERVER, IpNextHeaderProtocols::Icmp, &echo(8, 7, seq))));
            both.push(at(ms + 1, back(SERVER, IpNextHeaderProtocols::Icmp, &echo(0, 7, seq))));
        }
        let r = report(&both);
        let g = check(&r, CheckId::Gateway).gateway().expect("typed gateway evidence");
        let ping = g.gateways[0].ping.as_ref().expect("echo series");
        assert_eq!((ping.sent, ping.received, ping.time_exceeded), (4, 3, None));

        // Only a traceroute's expired probes: no ping, nothing about a gateway to judge.
        let probes: Vec<Frame> = frames[..10].to_vec();
        let r = report(&probes);
        assert_eq!(check(&r, CheckId::Gateway).status, CheckStatus::Skipped);
        assert_eq!(r.diagnosis.status, RunStatus::Unknown);
    }

    #[test]
    fn tcp_and_dns_traceroute_probes_are_not_filtered_ports_or_timeouts() {
        // An ICMP time exceeded from the gateway quoting the first 28 bytes (IP header and
        // the transport's first 8: the ports) of the packet that expired.
        let expired = |frame: &[u8]| {
            let mut body = vec![11, 0, 0, 0, 0, 0, 0, 0];
            body.extend_from_slice(&frame[14..14 + 28]);
            back(GATEWAY, IpNextHeaderProtocols::Icmp, &body)
        };
        // traceroute -T -p 443: three SYNs expire on the way, the fourth gets the SYN-ACK.
        let mut frames = Vec::new();
        for hop in 0..4u16 {
            let ms = u64::from(hop) * 10;
            let syn = out(SERVER, IpNextHeaderProtocols::Tcp, &tcp(41000 + hop, 443, TcpFlags::SYN));
            let answer = if hop < 3 {
                expired(&syn)
            } else {
                back(SERVER, IpNextHeaderProtocols::Tcp, &tcp(443, 41000 + hop, TcpFlags::SYN | TcpFlags::ACK))
            };
            frames.extend([at(ms, syn), at(ms + 1, answer)]);
        }
        let r = report(&frames);
        assert_matches_schema(&r);
        assert_eq!(check(&r, CheckId::Ports).status, CheckStatus::Pass, "{:?}", codes(&r, CheckId::Ports));
        let ports = check(&r, CheckId::Ports).ports().expect("typed ports evidence");
        assert_eq!(ports.targets.len(), 1);
        // Without the time exceeded, the expired SYNs are unanswered attempts.
        let silent: Vec<Frame> =
            frames.iter().enumerate().filter(|(i, _)| i % 2 == 0 || *i == 7).map(|(_, f)| f.clone()).collect();
        assert!(codes(&report(&silent), CheckId::Ports).iter().any(|(c, _)| *c == Code::PortsFiltered));
        // Only the expired probes: nothing to judge.
        let probes: Vec<Frame> = frames[..6].to_vec();
        assert_eq!(check(&report(&probes), CheckId::Ports).status, CheckStatus::Skipped);

        // A DNS traceroute: queries with a TTL of 1 and 2 expire, the third is answered.
        let mut frames = Vec::new();
        for hop in 0..3u16 {
            let mut exchange = dns_exchange(u64::from(hop) * 10, SERVER, 42000 + hop, hop, Some(ResponseCode::NoError));
            if hop < 2 {
                exchange[1] = at(u64::from(hop) * 10 + 1, expired(&exchange[0].data));
            }
            frames.extend(exchange);
        }
        let r = report(&frames);
        assert_eq!(check(&r, CheckId::Dns).status, CheckStatus::Pass, "{:?}", codes(&r, CheckId::Dns));
        let probes: Vec<Frame> = frames[..4].to_vec();
        assert_eq!(check(&report(&probes), CheckId::Dns).status, CheckStatus::Skipped);
    }

    #[test]
    fn a_discover_followed_by_a_request_naming_a_server_was_answered() {
        // The real DORA capture, as a switch port that does not see the server's frames
        // (OFFER and ACK sent unicast to the client) sees it: the client 02:6e:74:77:99:88's
        // DISCOVER, REQUEST (naming the server) and RELEASE.
        let client = MacAddr([0x02, 0x6e, 0x74, 0x77, 0x99, 0x88]);
        let client_only: Vec<Frame> = capture("dhcp_dora.pcap")
            .into_iter()
            .filter(|f| crate::wire::decode(&f.data).is_ok_and(|p| p.src_mac == client))
            .collect();
        assert_eq!(client_only.len(), 3);
        let r = report(&client_only);
        assert_matches_schema(&r);
        let kinds: Vec<DhcpKind> = check(&r, CheckId::Dhcp)
            .dhcp()
            .and_then(|d| d.capture.as_ref())
            .map(|c| c.transactions.iter().flat_map(|t| t.messages.iter().map(|m| m.kind)).collect())
            .unwrap_or_default();
        assert!(kinds.contains(&DhcpKind::Discover) && kinds.contains(&DhcpKind::Request), "{kinds:?}");
        assert!(!kinds.iter().any(|k| k.is_reply()), "{kinds:?}");
        assert!(
            !codes(&r, CheckId::Dhcp).iter().any(|(c, _)| *c == Code::DhcpNoOffer),
            "{:?}",
            codes(&r, CheckId::Dhcp)
        );

        // DISCOVERs alone, broadcast, never answered: still no offer.
        let r = report(&[at(0, discover(5, CLIENT_MAC)), at(4000, discover(5, CLIENT_MAC))]);
        assert_eq!(codes(&r, CheckId::Dhcp), [(Code::DhcpNoOffer, Severity::Fail)]);
    }

    #[test]
    fn a_late_outage_is_reported_with_its_time_range() {
        // Ten answered queries, then the server stops answering for the last five.
        let mut frames = Vec::new();
        for i in 0..15u16 {
            let rcode = (i < 10).then_some(ResponseCode::NoError);
            frames.extend(dns_exchange(u64::from(i) * 1000, GATEWAY, 40000 + i, i, rcode));
        }
        let r = report(&frames);
        assert_matches_schema(&r);
        assert_eq!(codes(&r, CheckId::Dns), [(Code::DnsTimeout, Severity::Fail)]);
        let server = &check(&r, CheckId::Dns).dns().expect("typed DNS evidence").servers[0];
        let c = server.capture.as_ref().expect("capture fields");
        let at_s = |s: u64| Some(Timestamp(std::time::UNIX_EPOCH + Duration::from_secs(1_700_000_000 + s)));
        assert_eq!(
            (c.queries_total, c.answered, c.failed, c.first_failure, c.last_failure),
            (15, 10, 5, at_s(10), at_s(14))
        );

        // A port that opened, then was refused at 10 s and 20 s.
        let syn = |ms, port| at(ms, out(SERVER, IpNextHeaderProtocols::Tcp, &tcp(port, 8080, TcpFlags::SYN)));
        let answer = |ms, port, flags| at(ms, back(SERVER, IpNextHeaderProtocols::Tcp, &tcp(8080, port, flags)));
        let r = report(&[
            syn(0, 50000),
            answer(1, 50000, TcpFlags::SYN | TcpFlags::ACK),
            syn(10_000, 50001),
            answer(10_001, 50001, TcpFlags::RST | TcpFlags::ACK),
            syn(20_000, 50002),
            answer(20_001, 50002, TcpFlags::RST | TcpFlags::ACK),
        ]);
        assert_matches_schema(&r);
        assert_eq!(codes(&r, CheckId::Ports), [(Code::PortsRefused, Severity::Warn)]);
        let a = check(&r, CheckId::Ports).ports().expect("typed ports evidence").targets[0].attempts.clone().unwrap();
        assert_eq!((a.refused, a.first_failure, a.last_failure), (2, at_s(10), at_s(20)));
    }

    #[test]
    fn tracking_is_bounded_and_every_connection_attempt_is_judged() {
        let mut frames: Vec<Frame> = (0..MAX_TRACKED)
            .map(|i| {
                let (sport, dport) = (10_000 + (i % 50_000) as u16, 1000 + (i % 150) as u16);
                at(i as u64, out(SERVER, IpNextHeaderProtocols::Tcp, &tcp(sport, dport, TcpFlags::SYN)))
            })
            .collect();
        let late = MAX_TRACKED as u64 + 1_000;
        // Beyond the bound: five attempts to a new port, each refused, and one more SYN to
        // an old port that is answered.
        for i in 0..5u16 {
            let ms = late + u64::from(i) * 10;
            frames.push(at(ms, out(SERVER, IpNextHeaderProtocols::Tcp, &tcp(60_000 + i, 9999, TcpFlags::SYN))));
            let rst = tcp(9999, 60_000 + i, TcpFlags::RST | TcpFlags::ACK);
            frames.push(at(ms + 1, back(SERVER, IpNextHeaderProtocols::Tcp, &rst)));
        }
        frames.push(at(late + 100, out(SERVER, IpNextHeaderProtocols::Tcp, &tcp(61_000, 1000, TcpFlags::SYN))));
        let synack = tcp(1000, 61_000, TcpFlags::SYN | TcpFlags::ACK);
        frames.push(at(late + 102, back(SERVER, IpNextHeaderProtocols::Tcp, &synack)));
        let r = report(&frames);
        assert_matches_schema(&r);
        let ev = &check(&r, CheckId::Ports).evidence.to_json();
        assert_eq!(ev["untracked"], 0);
        assert_eq!((ev["targets"].as_array().unwrap().len(), ev["targets_total"].as_u64()), (MAX_LISTED, Some(151)));
        let first = ev["targets"][0].clone();
        assert_eq!(
            (first["target"].as_str(), first["attempts"].as_u64(), first["open"].as_u64(), first["outcome"].as_str()),
            (Some("198.18.1.2:1000"), Some(68), Some(1), Some("open")),
            "the answered attempt beyond the bound counts and is the last"
        );
        assert_eq!(first["ms"], 2.0);
        assert_eq!(
            codes(&r, CheckId::Ports),
            [(Code::PortsRefused, Severity::Fail), (Code::PortsFiltered, Severity::Fail)],
            "judged on all 151 targets, the late refused one included"
        );
    }

    #[test]
    fn every_dns_query_is_judged_beyond_the_tracking_bound() {
        // MAX_TRACKED answered queries, then the server stops answering: the late outage
        // is the finding, with its time range, and the lists stay bounded.
        let mut frames: Vec<Frame> = Vec::new();
        for i in 0..MAX_TRACKED {
            let port = 1024 + (i % 60_000) as u16;
            frames.extend(dns_exchange(i as u64, GATEWAY, port, i as u16, Some(ResponseCode::NoError)));
        }
        let late = MAX_TRACKED as u64 + 1_000;
        let mut outage = frames.clone();
        for i in 0..50u16 {
            outage.extend(dns_exchange(late + u64::from(i) * 100, GATEWAY, 30_000 + i, i, None));
        }
        let r = report(&outage);
        assert_matches_schema(&r);
        assert_eq!(codes(&r, CheckId::Dns), [(Code::DnsTimeout, Severity::Fail)]);
        let dns = check(&r, CheckId::Dns).dns().expect("typed DNS evidence");
        let server = &dns.servers[0];
        let c = server.capture.as_ref().expect("capture fields");
        let at_ms = |ms: u64| {
            Some(Timestamp(std::time::UNIX_EPOCH + Duration::from_secs(1_700_000_000) + Duration::from_millis(ms)))
        };
        assert_eq!(
            (c.queries_total, c.answered, c.failed, c.first_failure, c.last_failure),
            (MAX_TRACKED + 50, MAX_TRACKED, 50, at_ms(late), at_ms(late + 49 * 100))
        );
        assert_eq!((server.queries.len(), dns.capture.as_ref().map(|c| c.untracked)), (MAX_LISTED, Some(0)));
        assert!(server.queries.iter().all(|q| q.seen.is_some()), "only real queries are listed");

        // Beyond the bound too, a retry answered and an EDNS fallback are forgiven.
        let mut retried = frames.clone();
        retried.extend(dns_exchange(late, GATEWAY, 30_000, 1, None));
        retried.extend(dns_exchange(late + 1_000, GATEWAY, 30_001, 2, Some(ResponseCode::NoError)));
        retried.extend(dns_exchange(late + 2_000, GATEWAY, 30_002, 3, Some(ResponseCode::FormErr)));
        retried.extend(dns_exchange(late + 2_010, GATEWAY, 30_002, 4, Some(ResponseCode::NoError)));
        let r = report(&retried);
        assert_eq!(check(&r, CheckId::Dns).status, CheckStatus::Pass, "{:?}", codes(&r, CheckId::Dns));
        let c = check(&r, CheckId::Dns).dns().unwrap().servers[0].capture.clone().unwrap();
        assert_eq!((c.queries_total, c.failed), (MAX_TRACKED + 4, 0));

        // An ICMP port unreachable quoting a query beyond the bound.
        let mut refused_port = frames.clone();
        let query =
            out(GATEWAY, IpNextHeaderProtocols::Udp, &udp(30_000, 53, &dns_query(1, "www.site.test.", RecordType::A)));
        let mut icmp = vec![3, 3, 0, 0, 0, 0, 0, 0];
        icmp.extend_from_slice(&query[14..14 + 28]);
        refused_port.push(at(late, query));
        refused_port.push(at(late + 1, back(GATEWAY, IpNextHeaderProtocols::Icmp, &icmp)));
        assert_eq!(codes(&report(&refused_port), CheckId::Dns), [(Code::DnsUnreachable, Severity::Fail)]);

        // An error rcode beyond the bound that nothing forgives is judged.
        let mut servfail = frames;
        servfail.extend(dns_exchange(late, GATEWAY, 30_000, 1, Some(ResponseCode::ServFail)));
        assert_eq!(codes(&report(&servfail), CheckId::Dns), [(Code::DnsServfail, Severity::Fail)]);
    }

    #[test]
    fn echo_requests_beyond_the_tracking_bound_are_judged() {
        // MAX_TRACKED answered pings, then 5,000 unanswered: a third of all lost.
        let mut frames = vec![at(0, who_has(GATEWAY)), at(1, is_at(GATEWAY))];
        for i in 0..MAX_TRACKED + 5_000 {
            let (ms, seq) = (10 + i as u64, i as u16);
            frames.push(at(ms, out(GATEWAY, IpNextHeaderProtocols::Icmp, &echo(8, (i / 65_536) as u16, seq))));
            if i < MAX_TRACKED {
                frames.push(at(ms + 2, back(GATEWAY, IpNextHeaderProtocols::Icmp, &echo(0, 0, seq))));
            }
        }
        // One more beyond the bound, answered in 4 ms.
        let last = (MAX_TRACKED + 5_000) as u64 + 100;
        frames.push(at(last, out(GATEWAY, IpNextHeaderProtocols::Icmp, &echo(8, 9, 1))));
        frames.push(at(last + 4, back(GATEWAY, IpNextHeaderProtocols::Icmp, &echo(0, 9, 1))));
        let r = report(&frames);
        assert_matches_schema(&r);
        // A third lost: above the default loss_warn (5 %), below loss_fail (50 %).
        assert_eq!(codes(&r, CheckId::Gateway), [(Code::GatewayLoss, Severity::Warn)]);
        let g = check(&r, CheckId::Gateway).gateway().expect("typed gateway evidence");
        let ping = g.gateways[0].ping.as_ref().expect("echo series");
        let sent = (MAX_TRACKED + 5_001) as u32;
        assert_eq!((ping.sent, ping.received), (sent, MAX_TRACKED as u32 + 1));
        assert_eq!(ping.rtts_ms.len(), MAX_LISTED);
        let expected_avg = (2.0 * MAX_TRACKED as f64 + 4.0) / (MAX_TRACKED as f64 + 1.0);
        assert!((ping.avg_ms.unwrap() - expected_avg).abs() < 0.001, "{:?}", ping.avg_ms);
        assert_eq!(check(&r, CheckId::Gateway).gateway().unwrap().capture.as_ref().unwrap().untracked, 0);
    }

    #[test]
    fn the_open_table_gives_up_its_oldest_entry_and_stays_compact() {
        let mut t: OpenTable<u32, u32> = OpenTable::default();
        for k in 0..10 {
            t.insert(k, k * 10);
        }
        t.insert(3, 31); // re-inserted: now the newest
        assert_eq!(t.remove(&0), Some(0));
        assert_eq!(t.pop_oldest(), Some((1, 10)));
        assert_eq!(t.pop_oldest(), Some((2, 20)));
        assert_eq!(t.pop_oldest(), Some((4, 40)), "3 moved to the back");
        assert_eq!((t.len(), t.get(&3), t.contains_key(&1)), (6, Some(&31), false));
        // Many short-lived entries: the order queue stays within twice the live ones.
        for k in 100..10_100 {
            t.insert(k, k);
            t.remove(&k);
        }
        assert!(t.order.len() <= 2 * t.len() + 64, "{}", t.order.len());
        let rest: Vec<u32> = std::iter::from_fn(|| t.pop_oldest().map(|(k, _)| k)).collect();
        assert_eq!(rest, [5, 6, 7, 8, 9, 3]);
    }

    #[test]
    fn truncated_and_mutated_frames_never_panic() {
        let names = [
            "lab_healthy.pcap",
            "dhcp_dora.pcap",
            "dhcp_two_servers.pcap",
            "dhcp_nak.pcap",
            "arp_gateway.pcap",
            "dns_fragments.pcap",
            "fragments.pcap",
            "ipv6_ra.pcap",
            "ipv6_two_routers.pcap",
            "ipv6_dad_failed.pcap",
        ];
        let all: Vec<Frame> = names.iter().flat_map(|n| capture(n)).collect();
        let mut cut: Vec<Frame> = Vec::new();
        for frame in &all {
            for len in 0..frame.data.len() {
                cut.push(Frame { timestamp: frame.timestamp, data: frame.data[..len].to_vec() });
            }
        }
        let r = report(&cut);
        assert_eq!(r.checks.len(), CheckId::ALL.len());
        for frame in &all {
            let _ = report(std::slice::from_ref(frame));
        }
        // Every byte of every frame flipped in turn, each mutation fed after the originals.
        let mut mutated = all.clone();
        for frame in &all {
            for i in 0..frame.data.len() {
                for m in [0xffu8, 0x01, 0x80] {
                    let mut data = frame.data.clone();
                    data[i] ^= m;
                    mutated.push(Frame { timestamp: frame.timestamp, data });
                }
            }
        }
        let r = report(&mutated);
        assert_eq!(r.checks.len(), CheckId::ALL.len());
        assert_matches_schema(&r);
    }

    // ---- tunnels and VLAN trunks (captures/tunnels/, captures/README.md) -----------------

    /// The DHCP servers of a capture's evidence as (server, vlan).
    fn dhcp_servers(r: &Report) -> Vec<(String, Option<u64>)> {
        let servers = ev(r, CheckId::Dhcp)["servers"].clone();
        let servers = servers.as_array().unwrap();
        servers.iter().map(|s| (s["server"].as_str().unwrap().to_string(), s["vlan"].as_u64())).collect()
    }

    #[test]
    fn a_trunk_with_one_dhcp_server_per_vlan_is_healthy() {
        let r = report(&capture("tunnels/trunk_vlans.pcap"));
        assert_matches_schema(&r);
        let dhcp = check(&r, CheckId::Dhcp);
        assert_eq!((dhcp.status, codes(&r, CheckId::Dhcp)), (CheckStatus::Pass, vec![]));
        assert_eq!(dhcp_servers(&r), [("198.19.10.1".to_string(), Some(10)), ("198.19.20.1".to_string(), Some(20))]);
        let txns = ev(&r, CheckId::Dhcp)["transactions"].clone();
        let vlans: Vec<(Option<u64>, bool)> =
            txns.as_array().unwrap().iter().map(|t| (t["vlan"].as_u64(), t["answered"] == true)).collect();
        assert_eq!(vlans, [(Some(10), true), (Some(20), true)]);
        assert_eq!(r.diagnosis.status, RunStatus::Healthy);
    }

    #[test]
    fn two_dhcp_servers_on_one_vlan_of_a_trunk_are_multiple_servers() {
        let r = report(&capture("tunnels/trunk_vlan_two_servers.pcap"));
        assert_matches_schema(&r);
        assert_eq!(codes(&r, CheckId::Dhcp), [(Code::DhcpMultipleServers, Severity::Warn)]);
        let servers = dhcp_servers(&r);
        assert_eq!(servers.len(), 3, "{servers:?}");
        assert_eq!(servers.iter().filter(|s| s.1 == Some(30)).count(), 2, "{servers:?}");
        assert_eq!(servers.iter().filter(|s| s.1 == Some(10)).count(), 1, "{servers:?}");
        // The same frames untagged: all three servers on one segment.
        let untagged: Vec<Frame> = capture("tunnels/trunk_vlan_two_servers.pcap")
            .into_iter()
            .map(|f| Frame { data: [&f.data[..12], &f.data[16..]].concat(), ..f })
            .collect();
        let r = report(&untagged);
        assert_eq!(codes(&r, CheckId::Dhcp), [(Code::DhcpMultipleServers, Severity::Warn)]);
        assert!(dhcp_servers(&r).iter().all(|s| s.1.is_none()));
    }

    #[test]
    fn dhcp_and_dns_inside_gre_and_vxlan_are_judged() {
        for name in ["tunnels/tunnel_gretap.pcap", "tunnels/tunnel_vxlan.pcap"] {
            let r = report(&capture(name));
            assert_matches_schema(&r);
            let dhcp = check(&r, CheckId::Dhcp);
            assert_eq!((dhcp.status, codes(&r, CheckId::Dhcp)), (CheckStatus::Pass, vec![]), "{name}");
            assert_eq!(dhcp_servers(&r), [("198.19.1.1".to_string(), None)], "{name}");
            let kinds: Vec<String> = ev(&r, CheckId::Dhcp)["transactions"][0]["messages"]
                .as_array()
                .unwrap()
                .iter()
                .map(|m| m["kind"].as_str().unwrap().to_string())
                .collect();
            assert_eq!(kinds, ["discover", "offer", "request", "ack"], "{name}");
            let dns = check(&r, CheckId::Dns);
            assert_eq!(dns.status, CheckStatus::Pass, "{name}: {:?}", dns.findings);
            let server = &dns.evidence.to_json()["servers"][0];
            assert_eq!(server["server"], "198.19.1.1", "{name}");
            assert!(server["queries"].as_array().unwrap().iter().all(|q| q["outcome"] == "answer"), "{name}");
            assert_eq!(r.diagnosis.status, RunStatus::Healthy, "{name}");
        }
        // The 120-record answer fragmented inside the GRE tunnel, and the GRE packet
        // carrying its first fragment fragmented outside: both reassembled.
        let r = report(&capture("tunnels/tunnel_gretap.pcap"));
        let queries = ev(&r, CheckId::Dns)["servers"][0]["queries"].clone();
        let big = queries.as_array().unwrap().iter().find(|q| q["name"] == "big.site.test").unwrap().clone();
        assert_eq!((big["outcome"].as_str(), big["answers"].as_array().unwrap().len()), (Some("answer"), 16));

        // GRE carrying IPv4 and IPv6 packets (no Ethernet inside).
        let r = report(&capture("tunnels/tunnel_gre_ip.pcap"));
        assert_matches_schema(&r);
        let dns = check(&r, CheckId::Dns);
        assert_eq!(dns.status, CheckStatus::Pass, "{:?}", dns.findings);
        let servers: Vec<String> = dns.evidence.to_json()["servers"]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| s["server"].as_str().unwrap().to_string())
            .collect();
        assert_eq!(servers, ["198.19.1.1", "2001:2:0:1::1"]);

        // tcpdump's own VXLAN test capture: ICMP echoes and ARP inside VNI 100.
        let r = report(&capture("tunnels/tcpdump_vxlan.pcap"));
        assert_matches_schema(&r);
        let gw = check(&r, CheckId::Gateway);
        assert_eq!(gw.status, CheckStatus::Pass, "{:?}", gw.findings);
        let g = gw.evidence.to_json()["gateways"].clone();
        let echo = g.as_array().unwrap().iter().find(|g| g["address"] == "192.168.203.5").unwrap().clone();
        assert_eq!((echo["ping"]["sent"].as_u64(), echo["ping"]["received"].as_u64()), (Some(4), Some(4)));
    }

    #[test]
    fn answers_beyond_the_tracking_bound_match_their_own_queries() {
        let late = MAX_TRACKED as u64 + 1_000;
        // DNS: two clients ask the same question; the later one is answered first (a cache
        // hit), then the earlier one (a miss): both answered, neither a failure.
        let mut frames: Vec<Frame> = Vec::new();
        for i in 0..MAX_TRACKED {
            frames.extend(dns_exchange(i as u64, GATEWAY, 1024 + i as u16, i as u16, Some(ResponseCode::NoError)));
        }
        let query = dns_query(1, "www.site.test.", RecordType::A);
        frames.push(at(late, out(GATEWAY, IpNextHeaderProtocols::Udp, &udp(30_000, 53, &query))));
        frames.extend(dns_exchange(late + 1, GATEWAY, 30_001, 2, Some(ResponseCode::NoError)));
        let answer = dns_response(1, "www.site.test.", RecordType::A, ResponseCode::NoError, Some(SERVER));
        frames.push(at(late + 10, back(GATEWAY, IpNextHeaderProtocols::Udp, &udp(53, 30_000, &answer))));
        let r = report(&frames);
        let c = check(&r, CheckId::Dns).dns().unwrap().servers[0].capture.clone().unwrap();
        assert_eq!((c.queries_total, c.answered, c.failed), (MAX_TRACKED + 2, MAX_TRACKED + 2, 0));

        // TCP: a port of a tracked, answered attempt used again beyond the bound: its
        // SYN-ACK answers the new attempt.
        let mut frames: Vec<Frame> = Vec::new();
        for i in 0..MAX_TRACKED {
            let port = 10_000 + i as u16;
            frames.push(at(2 * i as u64, out(SERVER, IpNextHeaderProtocols::Tcp, &tcp(port, 8080, TcpFlags::SYN))));
            let synack = tcp(8080, port, TcpFlags::SYN | TcpFlags::ACK);
            frames.push(at(2 * i as u64 + 1, back(SERVER, IpNextHeaderProtocols::Tcp, &synack)));
        }
        let late = 2 * MAX_TRACKED as u64 + 1_000;
        frames.push(at(late, out(SERVER, IpNextHeaderProtocols::Tcp, &tcp(10_000, 8080, TcpFlags::SYN))));
        let synack = tcp(8080, 10_000, TcpFlags::SYN | TcpFlags::ACK);
        frames.push(at(late + 1, back(SERVER, IpNextHeaderProtocols::Tcp, &synack)));
        let r = report(&frames);
        assert_eq!(check(&r, CheckId::Ports).status, CheckStatus::Pass, "{:?}", codes(&r, CheckId::Ports));
        let target = ev(&r, CheckId::Ports)["targets"][0].clone();
        assert_eq!(
            (target["attempts"].as_u64(), target["open"].as_u64()),
            (Some(MAX_TRACKED as u64 + 1), Some(MAX_TRACKED as u64 + 1))
        );
    }

    /// RFC 2131 section 4.4.1: a DHCP server pings the address it is about to offer. Those
    /// echoes are counted (marked `dhcp_conflict_check`) but not judged as a gateway's;
    /// the same echoes from a host that offered nothing are pings, judged. The same probe
    /// sent again 30 s later is a second request; seen twice at once, one.
    #[test]
    fn a_dhcp_servers_conflict_ping_is_counted_not_judged() {
        let offered = Ipv4Addr::new(198, 18, 0, 150);
        let xid = 0x4242;
        let ping =
            |from: Ipv4Addr| ip(ROUTER_MAC, BROADCAST, from, offered, IpNextHeaderProtocols::Icmp, &echo(8, 7, 1));
        let frames = |pinger: Ipv4Addr| {
            vec![
                at(0, discover(xid, CLIENT_MAC)),
                at(10, ping(pinger)),
                at(10, ping(pinger)), // a bridge's copy
                at(30_010, ping(pinger)),
                at(30_600, dhcp_reply(xid, CLIENT_MAC, GATEWAY, ROUTER_MAC, DhcpMessageType::Offer)),
            ]
        };
        let r = report(&frames(GATEWAY));
        let gw = ev(&r, CheckId::Gateway);
        let entry = gw["gateways"].as_array().unwrap().iter().find(|g| g["address"] == "198.18.0.150").unwrap().clone();
        assert_eq!(entry["ping"]["sent"], 2);
        assert_eq!(entry["ping"]["dhcp_conflict_check"], true);
        assert!(codes(&r, CheckId::Gateway).is_empty());
        assert_eq!(check(&r, CheckId::Gateway).status, CheckStatus::Skipped);
        assert_matches_schema(&r);
        // Pinged by a host that offered nothing: a ping that went unanswered.
        let r = report(&frames(SERVER));
        assert_eq!(codes(&r, CheckId::Gateway), [(Code::GatewayNoEcho, Severity::Warn)]);
        assert_matches_schema(&r);
    }

    /// [`LiteMessage`] reads only what hickory-proto reads, and reads it alike: on plain
    /// messages and on every cut and many one-byte changes of them, whenever it reads a
    /// message, hickory-proto reads it too, with the same id, direction, rcode (EDNS bits
    /// included), question (case-folded) and A/AAAA answer counts.
    #[test]
    fn the_lite_dns_reader_agrees_with_hickory_proto() {
        use hickory_proto::op::Edns;
        use hickory_proto::rr::rdata::{AAAA, CNAME, SOA};
        let mut messages = Vec::new();
        let mut query = build_query(7, &name("Www.Example.COM."), RecordType::A);
        let mut edns = Edns::new();
        edns.set_max_payload(1232);
        query.set_edns(edns.clone());
        messages.push(query.to_vec().unwrap());
        let mut answer = query.clone();
        answer.metadata.message_type = MessageType::Response;
        answer.add_answer(Record::from_rdata(
            name("www.example.com."),
            60,
            RData::CNAME(CNAME(name("a.example.net."))),
        ));
        answer.add_answer(Record::from_rdata(name("a.example.net."), 60, RData::A(A(Ipv4Addr::new(198, 18, 0, 9)))));
        answer.add_answer(Record::from_rdata(name("a.example.net."), 60, RData::A(A(Ipv4Addr::new(198, 18, 0, 10)))));
        messages.push(answer.to_vec().unwrap());
        let mut nx = build_query(9, &name("nt-abcdefgh.example.org."), RecordType::AAAA);
        nx.metadata.message_type = MessageType::Response;
        nx.metadata.response_code = ResponseCode::NXDomain;
        nx.add_authority(Record::from_rdata(
            name("example.org."),
            900,
            RData::SOA(SOA::new(name("ns.example.org."), name("host.example.org."), 1, 2, 3, 4, 5)),
        ));
        nx.set_edns(edns);
        messages.push(nx.to_vec().unwrap());
        let mut six = build_query(11, &name("v6.example."), RecordType::AAAA);
        six.metadata.message_type = MessageType::Response;
        six.add_answer(Record::from_rdata(name("v6.example."), 60, RData::AAAA(AAAA(std::net::Ipv6Addr::LOCALHOST))));
        messages.push(six.to_vec().unwrap());
        let mut badvers = messages[0].clone();
        badvers[2] |= 0x80;
        let last = badvers.len() - 6; // the OPT's extended-rcode byte
        badvers[last] = 1;
        messages.push(badvers);
        let mut variants = Vec::new();
        for m in &messages {
            variants.push(m.clone());
            for cut in 0..m.len() {
                variants.push(m[..cut].to_vec());
            }
            for i in 0..m.len() {
                for v in [0x00, 0xff, 0xc0, 0x3f, 0x40, m[i] ^ 1, m[i].wrapping_add(4)] {
                    let mut changed = m.clone();
                    changed[i] = v;
                    variants.push(changed);
                }
            }
        }
        let mut read = 0;
        for bytes in &variants {
            let Some(lite) = LiteMessage::read(bytes) else { continue };
            read += 1;
            let msg = Message::from_vec(bytes).unwrap_or_else(|e| panic!("{bytes:02x?}: hickory refuses it: {e}"));
            assert_eq!(lite.id, msg.metadata.id);
            assert_eq!(lite.response, msg.metadata.message_type == MessageType::Response);
            assert_eq!(lite.rcode, msg.metadata.response_code, "{bytes:02x?}");
            let q = &msg.queries[0];
            assert_eq!(lite.question, (QName::of(q.name()), q.query_type()));
            assert_eq!(lite.a, msg.answers.iter().filter(|r| matches!(r.data, RData::A(_))).count());
            assert_eq!(lite.aaaa, msg.answers.iter().filter(|r| matches!(r.data, RData::AAAA(_))).count());
        }
        assert!(read >= messages.len() * 10, "{read}");
        assert_eq!(LiteMessage::read(&messages[0]).unwrap().question.0, QName::of(&name("www.example.com.")));
        assert!(LiteMessage::read(&messages[2]).unwrap().question.0.is_cache_buster());
        assert_eq!(QName::of(&name("nt-abcdefgh.Example.org.")).display(), "nt-abcdefgh.example.org");
    }

    // ---- IPv6 neighbour discovery and path MTU (captures/record_ipv6.sh) ---------------

    const ROUTER6: Ipv6Addr = Ipv6Addr::new(0xfe80, 0, 0, 0, 0, 0, 0, 1);
    const ROGUE6: Ipv6Addr = Ipv6Addr::new(0xfe80, 0, 0, 0, 0, 0, 0, 0x66);
    const CLIENT6: Ipv6Addr = Ipv6Addr::new(0xfe80, 0, 0, 0, 0, 0, 0, 0x10);
    const SERVER6: Ipv6Addr = Ipv6Addr::new(0x2001, 2, 0, 2, 0, 0, 0, 2);
    const ALL_NODES: Ipv6Addr = Ipv6Addr::new(0xff02, 0, 0, 0, 0, 0, 0, 1);

    /// An IPv6 packet carrying the ICMPv6 message `icmp` (checksums are not checked).
    fn ip6(src_mac: MacAddr, src: Ipv6Addr, dst: Ipv6Addr, hop_limit: u8, icmp: &[u8]) -> Vec<u8> {
        let mut p = vec![0x60, 0, 0, 0];
        p.extend_from_slice(&(icmp.len() as u16).to_be_bytes());
        p.extend_from_slice(&[58, hop_limit]);
        p.extend_from_slice(&src.octets());
        p.extend_from_slice(&dst.octets());
        p.extend_from_slice(icmp);
        eth(src_mac, MacAddr([0x33, 0x33, 0, 0, 0, 1]), EtherTypes::Ipv6, &p)
    }

    fn rs() -> Vec<u8> {
        ip6(CLIENT_MAC, CLIENT6, Ipv6Addr::new(0xff02, 0, 0, 0, 0, 0, 0, 2), 255, &[133, 0, 0, 0, 0, 0, 0, 0])
    }

    /// A Router Advertisement with a router lifetime and a source link-layer option.
    fn ra(mac: MacAddr, src: Ipv6Addr, hop_limit: u8) -> Vec<u8> {
        let mut m = vec![134, 0, 0, 0, 64, 0];
        m.extend_from_slice(&1800u16.to_be_bytes());
        m.extend_from_slice(&[0; 8]);
        m.extend_from_slice(&[1, 1]);
        m.extend_from_slice(&mac.0);
        ip6(mac, src, ALL_NODES, hop_limit, &m)
    }

    fn ns(mac: MacAddr, src: Ipv6Addr, target: Ipv6Addr) -> Vec<u8> {
        let mut m = vec![135, 0, 0, 0, 0, 0, 0, 0];
        m.extend_from_slice(&target.octets());
        ip6(mac, src, ALL_NODES, 255, &m)
    }

    fn na(mac: MacAddr, target: Ipv6Addr, router: bool) -> Vec<u8> {
        let mut m = vec![136, 0, 0, 0, if router { 0xa0 } else { 0x20 }, 0, 0, 0];
        m.extend_from_slice(&target.octets());
        m.extend_from_slice(&[2, 1]);
        m.extend_from_slice(&mac.0);
        ip6(mac, target, ALL_NODES, 255, &m)
    }

    fn ipv6_ev(r: &Report) -> &Ipv6Evidence {
        r.check(CheckId::Ipv6).and_then(CheckResult::ipv6).expect("ipv6 evidence")
    }

    fn notice_codes(notices: &[crate::check::dns::Notice]) -> Vec<Code> {
        notices.iter().map(|n| n.code).collect()
    }

    #[test]
    fn without_neighbour_discovery_or_too_big_reports_ipv6_and_path_are_not_observable() {
        let r = report(&capture("dhcp_dora.pcap"));
        for id in [CheckId::Ipv6, CheckId::Path] {
            assert_eq!(check(&r, id).status, CheckStatus::Skipped, "{id:?}");
            assert_eq!(check(&r, id).reason_code, Some(SkipReason::NotObservableInCapture), "{id:?}");
        }
    }

    #[test]
    fn router_advertisements_are_read_by_the_ipv6_parser_and_judged_by_its_judge() {
        let frames = vec![
            at(0, rs()),
            at(10, ra(ROUTER_MAC, ROUTER6, 255)),
            at(20, ra(ROGUE_MAC, ROGUE6, 255)),
            // Forwarded (hop limit not 255): not valid, not a router.
            at(30, ra(MacAddr([2, 0, 0, 0, 0, 0x99]), Ipv6Addr::new(0xfe80, 0, 0, 0, 0, 0, 0, 0x99), 64)),
            at(4000, ra(ROUTER_MAC, ROUTER6, 255)),
        ];
        let r = report(&frames);
        assert_eq!(codes(&r, CheckId::Ipv6), [(Code::Ipv6MultipleRouters, Severity::Warn)]);
        let ev = ipv6_ev(&r);
        let routers: Vec<(Ipv6Addr, Option<MacAddr>, u32)> =
            ev.routers.iter().map(|r| (r.source, r.mac, r.count)).collect();
        assert_eq!(routers, [(ROUTER6, Some(ROUTER_MAC), 2), (ROGUE6, Some(ROGUE_MAC), 1)]);
        assert_eq!(ev.routers[0].first_ms, Some(10.0), "from the solicitation to its first advertisement");
        let sol = ev.solicitation.as_ref().unwrap();
        assert_eq!((sol.status, sol.received, sol.invalid), (SolicitStatus::Sent, 3, 1));
        // What a capture cannot show stays unknown.
        assert!(ev.addresses.is_empty() && ev.resolvers.is_empty() && ev.sysctl.accept_ra.is_none());
        assert_matches_schema(&r);

        // The configured routers make the other one unexpected (it has a router lifetime).
        let settings = Ipv6Settings {
            expected_routers_v6: vec![crate::config::RouterId::Addr(ROUTER6)],
            ..Ipv6Settings::default()
        };
        let mut analysis = Analysis::new().with_ipv6_settings(settings);
        for f in &frames {
            analysis.feed(LinkType::Ethernet, &f.data, f.timestamp);
        }
        let r = analysis.finish("test.pcap", "2026-11-24T06:48:44.851Z".parse().unwrap(), "lab".into());
        assert_eq!(codes(&r, CheckId::Ipv6), [(Code::Ipv6UnexpectedRouter, Severity::Fail)]);
    }

    #[test]
    fn unanswered_router_solicitations_are_the_no_router_notice() {
        let r = report(&[at(0, rs()), at(4000, rs()), at(8000, rs())]);
        let c = check(&r, CheckId::Ipv6);
        assert_eq!(c.status, CheckStatus::Pass);
        assert!(c.findings.is_empty());
        let ev = ipv6_ev(&r);
        assert_eq!(notice_codes(&ev.notices), [Code::Ipv6NoRouter]);
        assert_eq!(ev.capture.as_ref().unwrap().router_solicitations, 3);
        // Advertisements alone (no solicitation seen): no notice.
        let r = report(&[at(0, ra(ROUTER_MAC, ROUTER6, 255))]);
        assert!(ipv6_ev(&r).notices.is_empty());
    }

    #[test]
    fn a_dad_probe_answered_by_another_mac_is_dad_failed() {
        let tentative = Ipv6Addr::new(0x2001, 2, 0, 1, 0, 0, 0, 0x77);
        let probe = at(0, ns(CLIENT_MAC, Ipv6Addr::UNSPECIFIED, tentative));
        let r = report(&[probe.clone(), at(1, na(ROGUE_MAC, tentative, false))]);
        assert_eq!(codes(&r, CheckId::Ipv6), [(Code::Ipv6DadFailed, Severity::Fail)]);
        let dad = &ipv6_ev(&r).capture.as_ref().unwrap().dad;
        assert_eq!(dad.len(), 1);
        assert_eq!((dad[0].address, dad[0].prober, dad[0].conflict_mac), (tentative, CLIENT_MAC, Some(ROGUE_MAC)));
        assert_eq!(r.diagnosis.root_cause.as_ref().map(|c| c.code), Some(Code::Ipv6DadFailed));
        // The prober's own advertisement (after DAD succeeded), or another host's much
        // later, is no conflict.
        for answer in [at(1, na(CLIENT_MAC, tentative, false)), at(3000, na(ROGUE_MAC, tentative, false))] {
            let r = report(&[probe.clone(), answer]);
            assert!(codes(&r, CheckId::Ipv6).is_empty());
            assert_eq!(ipv6_ev(&r).capture.as_ref().unwrap().dad[0].conflict_mac, None);
        }
    }

    #[test]
    fn neighbor_solicitations_of_an_ipv6_router_are_its_gateway_evidence() {
        let asked = |n: u64| -> Vec<Frame> {
            let mut frames = vec![at(0, ra(ROUTER_MAC, ROUTER6, 255))];
            frames.extend((0..n).map(|i| at(100 + i * 1000, ns(CLIENT_MAC, CLIENT6, ROUTER6))));
            frames
        };
        // Three solicitations nobody answered: the router is gone.
        let r = report(&asked(3));
        assert_eq!(codes(&r, CheckId::Gateway), [(Code::GatewayV6Unreachable, Severity::Fail)]);
        let gw = r.check(CheckId::Gateway).and_then(CheckResult::gateway).unwrap();
        assert!(gw.gateways.is_empty());
        assert_eq!(gw.gateways_v6.len(), 1);
        assert_eq!((gw.gateways_v6[0].address, gw.gateways_v6[0].ns.status), (ROUTER6, ArpStatus::NoReply));
        assert_eq!(gw.gateways_v6[0].ns.requests_sent, 3);
        // One the capture may have ended before the answer to: not judged.
        let r = report(&asked(1));
        assert!(codes(&r, CheckId::Gateway).is_empty());
        // Answered (with the R flag): the router's MAC and round trip.
        let mut frames = asked(1);
        frames.push(at(101, na(ROUTER_MAC, ROUTER6, true)));
        let r = report(&frames);
        assert_eq!(check(&r, CheckId::Gateway).status, CheckStatus::Pass);
        let gw = r.check(CheckId::Gateway).and_then(CheckResult::gateway).unwrap();
        let lookup = &gw.gateways_v6[0].ns;
        assert_eq!((lookup.status, lookup.mac, lookup.rtt_ms), (ArpStatus::Answered, Some(ROUTER_MAC), Some(1.0)));
        assert_matches_schema(&r);
        // A Neighbor Advertisement with the R flag names a router without any RA.
        let global = Ipv6Addr::new(0x2001, 2, 0, 1, 0, 0, 0, 1);
        let r = report(&[at(0, ns(CLIENT_MAC, CLIENT6, global)), at(1, na(ROUTER_MAC, global, true))]);
        let gw = r.check(CheckId::Gateway).and_then(CheckResult::gateway).unwrap();
        assert_eq!(gw.gateways_v6.iter().map(|g| g.address).collect::<Vec<_>>(), [global]);
    }

    #[test]
    fn a_packet_too_big_is_a_reduced_path_mtu_and_the_echo_it_quotes_is_not_lost() {
        let client6 = Ipv6Addr::new(0x2001, 2, 0, 1, 0, 0, 0, 0x10);
        let router6 = Ipv6Addr::new(0x2001, 2, 0, 1, 0, 0, 0, 1);
        let mut request = echo(128, 7, 1);
        request.resize(1460, 0x6e); // ping -s 1452: a 1500-byte packet
        let request = ip6(CLIENT_MAC, client6, SERVER6, 64, &request);
        let mut ptb = vec![2, 0, 0, 0];
        ptb.extend_from_slice(&1400u32.to_be_bytes());
        ptb.extend_from_slice(&request[14..14 + 1232]);
        let frames = vec![at(0, request), at(1, ip6(ROUTER_MAC, router6, client6, 64, &ptb))];
        let r = report(&frames);
        assert_eq!(check(&r, CheckId::Path).status, CheckStatus::Pass);
        let path = r.check(CheckId::Path).and_then(CheckResult::path).unwrap();
        assert_eq!(notice_codes(&path.notices), [Code::PathMtuReduced]);
        let d = &path.destinations[0];
        assert_eq!(
            (d.address, d.status, d.reported_mtu, d.smallest_lost),
            (IpAddr::V6(SERVER6), PathStatus::Reduced, Some(1400), Some(1500))
        );
        assert_eq!(d.too_big, [TooBigSeen { from: IpAddr::V6(router6), mtu: 1400, size: 1500 }]);
        assert_eq!(path.capture.as_ref().map(|c| c.too_big_total), Some(1));
        // The echo that was too big is not a lost ping.
        assert!(codes(&r, CheckId::Gateway).is_empty());
        assert_matches_schema(&r);
    }

    /// `captures/ipv6_two_routers.pcap`: radvd on the router and a rogue radvd, the
    /// client's solicitation, its DAD, a Neighbor Solicitation of the router and 3 pings.
    #[test]
    fn the_two_routers_capture_is_multiple_routers_with_the_router_answering() {
        let r = report(&capture("ipv6_two_routers.pcap"));
        assert_eq!(codes(&r, CheckId::Ipv6), [(Code::Ipv6MultipleRouters, Severity::Warn)]);
        let ev = ipv6_ev(&r);
        assert_eq!(ev.routers.len(), 2);
        assert!(ev.routers.iter().all(|r| r.router_lifetime_s == 1800 && r.mac.is_some()));
        assert!(ev.capture.as_ref().unwrap().dad.iter().all(|d| d.conflict_mac.is_none()));
        let gw = r.check(CheckId::Gateway).and_then(CheckResult::gateway).unwrap();
        assert_eq!(gw.gateways_v6.len(), 1, "the router the client solicited and pinged");
        let router = &gw.gateways_v6[0];
        assert!(ev.routers.iter().any(|r| r.source == router.address && r.mac == router.ns.mac));
        assert_eq!(router.ns.status, ArpStatus::Answered);
        let ping = router.ping.as_ref().unwrap();
        assert_eq!((ping.sent, ping.received), (3, 3));
        assert_eq!(check(&r, CheckId::Gateway).status, CheckStatus::Pass);
        assert_eq!(r.diagnosis.root_cause.as_ref().map(|c| c.code), Some(Code::Ipv6MultipleRouters));
        assert_matches_schema(&r);
    }

    /// `captures/ipv6_dad_failed.pcap`: the kernel's DAD for an address another host has.
    #[test]
    fn the_dad_capture_is_dad_failed() {
        let r = report(&capture("ipv6_dad_failed.pcap"));
        assert_eq!(codes(&r, CheckId::Ipv6), [(Code::Ipv6DadFailed, Severity::Fail)]);
        let dad = &ipv6_ev(&r).capture.as_ref().unwrap().dad;
        assert_eq!(dad.len(), 1);
        assert_eq!(dad[0].address, "2001:2:0:1::77".parse::<Ipv6Addr>().unwrap());
        assert!(dad[0].conflict_mac.is_some_and(|m| m != dad[0].prober));
        assert_eq!(r.diagnosis.status, RunStatus::Broken);
        assert_matches_schema(&r);
    }

    /// `captures/mtu_too_big.pcap`: a router with a 1400-byte WAN link answering TCP
    /// uploads and 1500-byte echoes with fragmentation needed and packet too big.
    #[test]
    fn the_too_big_capture_is_a_reduced_path_mtu_for_both_families() {
        let r = report(&capture("mtu_too_big.pcap"));
        let path = r.check(CheckId::Path).and_then(CheckResult::path).unwrap();
        assert!(check(&r, CheckId::Path).findings.is_empty());
        assert_eq!(notice_codes(&path.notices), [Code::PathMtuReduced]);
        let mut families: Vec<&str> = path.destinations.iter().map(PathProbe::family).collect();
        families.sort_unstable();
        families.dedup();
        assert_eq!(families.len(), 2, "{families:?}");
        assert_eq!(path.destinations.len(), 4, "two TCP uploads and two echoes");
        assert!(path.destinations.iter().all(|d| d.status == PathStatus::Reduced && d.reported_mtu == Some(1400)));
        // The too-big echoes are not lost pings, and the uploads connected.
        assert!(codes(&r, CheckId::Gateway).is_empty());
        assert_eq!(check(&r, CheckId::Ports).status, CheckStatus::Pass);
        assert_eq!(r.diagnosis.status, RunStatus::Healthy);
        assert_matches_schema(&r);
    }

    // ---- LLDP and CDP (captures/lldp.pcap, captures/cdp.pcap: lldpd in the lab) -------

    fn neighbours_ev(r: &Report) -> &NeighboursEvidence {
        check(r, CheckId::Neighbours).neighbours().expect("neighbours evidence")
    }

    #[test]
    fn lldp_frames_name_the_switch_port_and_are_judged_by_the_neighbours_judge() {
        let r = report(&capture("lldp.pcap"));
        assert_matches_schema(&r);
        let ev = neighbours_ev(&r);
        assert_eq!((ev.lldp_frames, ev.cdp_frames, ev.malformed_frames), (3, 0, 0));
        assert_eq!((ev.ended, ev.capture.as_deref()), (Ended::Capture, Some("test.pcap")));
        // The capturing interface's speed and duplex are not in a capture: unknown, so the
        // switch's 10GBASE-T full is not compared; its power shortfall is its own claim.
        assert_eq!((ev.local_speed_mbps, ev.local_duplex), (None, None));
        assert_eq!(ev.neighbours.len(), 1, "three frames of one port are one neighbour");
        assert_eq!(codes(&r, CheckId::Neighbours), [(Code::LinkPoeInsufficient, Severity::Warn)]);
        let line = r.neighbour.as_ref().expect("the report's neighbour line");
        assert_eq!(
            (line.switch.as_deref(), line.port.as_deref(), line.vlan, line.protocol),
            (Some("sw-lab-1"), Some("Gi1/0/14"), Some(42), Protocol::Lldp)
        );
        // No other layer in it: only neighbours ran.
        assert_eq!(check(&r, CheckId::Dhcp).reason_code, Some(SkipReason::NoPacketsInCapture));
    }

    #[test]
    fn the_expected_vlan_from_the_config_is_judged_against_the_capture() {
        let settings = NeighboursSettings { expected_vlan: Some(10), ..NeighboursSettings::default() };
        let mut analysis = Analysis::new().with_neighbours_settings(settings);
        for f in &capture("lldp.pcap") {
            analysis.feed(LinkType::Ethernet, &f.data, f.timestamp);
        }
        let r = analysis.finish("test.pcap", "2026-11-24T06:48:44.851Z".parse().unwrap(), "lab".into());
        assert_eq!(
            codes(&r, CheckId::Neighbours),
            [(Code::LinkUnexpectedVlan, Severity::Fail), (Code::LinkPoeInsufficient, Severity::Warn)]
        );
        assert_eq!(check(&r, CheckId::Neighbours).status, CheckStatus::Fail);
        assert_eq!(neighbours_ev(&r).expected_vlan, Some(10));
        assert_matches_schema(&r);
    }

    #[test]
    fn cdp_frames_are_folded_too() {
        let r = report(&capture("cdp.pcap"));
        assert_matches_schema(&r);
        let ev = neighbours_ev(&r);
        assert_eq!((ev.lldp_frames, ev.cdp_frames), (0, 3));
        assert_eq!(check(&r, CheckId::Neighbours).status, CheckStatus::Pass);
        let line = r.neighbour.as_ref().unwrap();
        assert_eq!(
            (line.switch.as_deref(), line.port.as_deref(), line.protocol),
            (Some("sw-lab-1"), Some("desk-214"), Protocol::Cdp)
        );
    }

    #[test]
    fn a_capture_without_discovery_frames_skips_neighbours_and_a_broken_one_is_a_notice() {
        let r = report(&capture("dhcp_dora.pcap"));
        assert_eq!(check(&r, CheckId::Neighbours).reason_code, Some(SkipReason::NoPacketsInCapture));
        assert_eq!(r.neighbour, None);
        // An LLDPDU whose first TLV is not the chassis id: counted, a notice, no verdict.
        let mut frames = capture("lldp.pcap");
        frames.truncate(1);
        let mut bad = frames[0].clone();
        bad.data[14] = 5 << 1;
        frames.push(bad);
        let r = report(&frames);
        let ev = neighbours_ev(&r);
        assert_eq!((ev.lldp_frames, ev.malformed_frames), (1, 1), "as a live run counts them");
        assert_eq!(notice_codes(&ev.notices), [Code::NeighboursMalformed]);
        // Only malformed frames: the check ran and saw no neighbour; no line.
        let r = report(&frames[1..]);
        assert_eq!(check(&r, CheckId::Neighbours).status, CheckStatus::Pass);
        assert!(neighbours_ev(&r).neighbours.is_empty() && r.neighbour.is_none());
        assert_matches_schema(&r);
    }

    #[test]
    fn lldp_med_from_a_capture_names_the_voice_vlan() {
        let r = report(&capture("lldp_med.pcap"));
        assert_matches_schema(&r);
        let c = check(&r, CheckId::Neighbours);
        let med = neighbours_ev(&r).neighbours[0].med.as_ref().expect("LLDP-MED");
        assert_eq!(med.voice().map(|p| (p.vlan, p.priority, p.dscp)), Some((Some(100), 5, 46)));
        assert!(crate::render::details(c).contains("voice vlan 100 dscp 46"), "{}", crate::render::details(c));
    }
}
