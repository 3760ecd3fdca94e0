//! The one decoder for bytes on the wire: Ethernet frames, from the capture reader
//! ([`crate::pcap`]), the `--capture` filter ([`crate::platform::capture`]), ARP
//! ([`crate::platform::arp`]) and DHCP ([`crate::platform::dhcp`]) alike.
//!
//! Captures of other link types come through [`decode_link`] (and
//! [`Reassembler::feed_link`]) with their [`LinkType`]: Linux cooked v1/v2, raw IP,
//! NULL/loopback, and 802.11/radiotap data frames (through their LLC/SNAP header) have
//! their link header read here and translated into the Ethernet fields a [`Packet`] has
//! (addresses the header lacks are zeros), and the rest takes the one path below.
//!
//! [`decode`] turns one frame into a typed [`Packet`]: Ethernet addresses, every
//! 802.1Q/802.1ad VLAN tag (outermost first), then ARP or IPv4/IPv6 (with IPv6 extension
//! headers), then UDP, TCP, ICMP or ICMPv6 (with the packet an error message quotes). It is
//! pure and total: anything malformed is an `Err`, never a panic. A capture record that a
//! snap length cut decodes through [`decode_captured`]: its whole headers are read and the
//! packet is marked [`Ip::truncated`], its payload the captured start. A fragment of an IP
//! datagram decodes with [`Transport::Fragment`]; a [`Reassembler`], fed frames in capture
//! order, joins fragments into whole packets within bounds (datagrams in flight, bytes per
//! datagram, a timeout measured in capture time).
//!
//! Tunnels are unwrapped into the same [`Packet`]: GRE (IP protocol 47, RFC 2784 with
//! RFC 2890's key and sequence number) carrying IPv4, IPv6 or Ethernet (transparent
//! Ethernet bridging), and VXLAN (UDP port 4789, RFC 7348) carrying Ethernet, nested up to
//! [`MAX_TUNNEL_DEPTH`] levels. The packet is the innermost one, its outer layers listed in
//! [`Packet::tunnels`]; a tunnel packet that is a fragment is reassembled first, and
//! fragments inside a tunnel are reassembled per tunnel.
//!
//! The IP and transport layers are `etherparse`'s slices (`Ipv4Slice`, `Ipv6HeaderSlice`,
//! `UdpSlice`, `TcpSlice`, `Icmpv4Slice`, `Icmpv6Slice`, `ArpPacketSlice`, and
//! `LaxIpSlice` for the truncated packet an ICMP error quotes), and reassembly keeps one
//! `etherparse::defrag::IpDefragBuf` per datagram. Four parts are our own, and why:
//! - the Ethernet and VLAN layer: `SlicedPacket` keeps at most three link extensions and
//!   its VLAN ids in a fixed-size array, while captures from trunks may stack more tags;
//!   walking tags is a few lines, bounded by the frame's length;
//! - the IPv6 extension-header walk: etherparse's goes on past a fragment header into the
//!   fragment's data, which misreads a later fragment whose fragmentable part starts with
//!   an extension header; ours stops there, and walks the rest once reassembled;
//! - the reassembly pool: `etherparse::defrag::IpDefragPool` is documented as not safe
//!   against memory exhaustion (no bound on datagrams in flight), so [`Reassembler`] holds
//!   the buffers itself, bounded by [`ReassemblyLimits`];
//! - GRE and VXLAN: etherparse reads neither; each header is a few fixed fields.
//!
//! What is validated is decided here and nowhere else: lengths at every layer (a frame
//! shorter than its headers or than the IP or UDP length says is malformed; Ethernet
//! padding beyond the IP length is ignored), ARP only for Ethernet/IPv4 with 6- and 4-byte
//! addresses, and every IP fragment, first or later, without a transport layer until it is
//! reassembled (no reader takes a fragment's bytes for a UDP or TCP header). Checksums are not checked: frames captured on a packet socket carry the
//! outgoing ones before checksum offload fills them in, so checking would reject the
//! machine's own traffic.

use std::borrow::Cow;
use std::collections::HashMap;
use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::time::Duration;

use etherparse::defrag::IpDefragBuf;
use etherparse::{
    ArpHardwareId, ArpPacketSlice, EtherType, Icmpv4Slice, Icmpv6Slice, IpFragOffset, IpNumber, Ipv4Slice,
    Ipv6ExtensionSlice, Ipv6HeaderSlice, LaxIpSlice, LaxIpv4Slice, TcpSlice, UdpSlice,
};

use crate::types::MacAddr;

/// Ethernet header length (destination, source, EtherType).
pub const ETHERNET_HEADER_LEN: usize = 14;
/// EtherType of IPv4.
pub const ETHERTYPE_IPV4: u16 = 0x0800;
/// EtherType of ARP.
pub const ETHERTYPE_ARP: u16 = 0x0806;
/// EtherType of IPv6.
pub const ETHERTYPE_IPV6: u16 = 0x86dd;
/// Tag protocol identifiers taken for a VLAN tag: 802.1Q, 802.1ad (S-tag), and the
/// pre-standard QinQ 0x9100.
pub const VLAN_TPIDS: [u16; 3] = [0x8100, 0x88a8, 0x9100];

/// IP protocol number of ICMP.
pub const PROTO_ICMP: u8 = 1;
/// IP protocol number of TCP.
pub const PROTO_TCP: u8 = 6;
/// IP protocol number of UDP.
pub const PROTO_UDP: u8 = 17;
/// IP protocol number of ICMPv6.
pub const PROTO_ICMPV6: u8 = 58;

/// The layer a decoding error is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Layer {
    /// The Ethernet header.
    Ethernet,
    /// A capture's link-layer header other than Ethernet ([`LinkType`]): Linux cooked,
    /// NULL/loopback, 802.11 or radiotap.
    Link,
    /// An 802.1Q/802.1ad tag.
    Vlan,
    /// An ARP packet.
    Arp,
    /// The IPv4 header.
    Ipv4,
    /// The IPv6 header or its extension headers.
    Ipv6,
    /// The UDP header.
    Udp,
    /// The TCP header.
    Tcp,
    /// The ICMP header.
    Icmp,
    /// The ICMPv6 header.
    Icmpv6,
    /// A GRE header.
    Gre,
}

impl fmt::Display for Layer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Layer::Ethernet => "Ethernet",
            Layer::Link => "link-layer",
            Layer::Vlan => "VLAN",
            Layer::Arp => "ARP",
            Layer::Ipv4 => "IPv4",
            Layer::Ipv6 => "IPv6",
            Layer::Udp => "UDP",
            Layer::Tcp => "TCP",
            Layer::Icmp => "ICMP",
            Layer::Icmpv6 => "ICMPv6",
            Layer::Gre => "GRE",
        })
    }
}

/// Why a fragment was not taken into a reassembly.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FragmentRejected {
    /// [`ReassemblyLimits::max_in_flight`] datagrams are already being reassembled.
    TooManyInFlight,
    /// The fragment reaches beyond [`ReassemblyLimits::max_datagram_bytes`].
    TooLarge,
    /// It overlaps or contradicts the fragments already held (offsets, lengths, end); the
    /// datagram is dropped.
    Inconsistent,
    /// The capture's snap length cut it: its data is not all there; the datagram is
    /// dropped.
    Cut,
}

impl fmt::Display for FragmentRejected {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            FragmentRejected::TooManyInFlight => "too many datagrams in reassembly",
            FragmentRejected::TooLarge => "datagram larger than the reassembly limit",
            FragmentRejected::Inconsistent => "fragment inconsistent with the ones held",
            FragmentRejected::Cut => "fragment cut by the capture's snap length",
        })
    }
}

/// A frame that could not be decoded, or a fragment that could not be reassembled.
#[derive(Debug, thiserror::Error)]
pub enum WireError {
    /// The frame ends inside a header of `layer`.
    #[error("{layer} header truncated: frame of {len} bytes")]
    Truncated {
        /// The layer cut short.
        layer: Layer,
        /// The frame's length.
        len: usize,
    },
    /// A header of `layer` is malformed (lengths, version, ...).
    #[error("malformed {layer} header")]
    Malformed {
        /// The layer.
        layer: Layer,
        /// What etherparse found.
        #[source]
        source: Box<dyn std::error::Error + Send + Sync>,
    },
    /// A fragment from `src` to `dst` was dropped.
    #[error("fragment {src} -> {dst} (id {id}) dropped: {reason}")]
    Fragment {
        /// Source of the datagram.
        src: IpAddr,
        /// Destination of the datagram.
        dst: IpAddr,
        /// IP identification.
        id: u32,
        /// Why.
        reason: FragmentRejected,
    },
    /// Tunnels nested deeper than [`MAX_TUNNEL_DEPTH`].
    #[error("tunnels nested deeper than {limit} levels")]
    TooDeep {
        /// The limit.
        limit: usize,
    },
}

fn malformed<E: std::error::Error + Send + Sync + 'static>(layer: Layer) -> impl FnOnce(E) -> WireError {
    move |e| WireError::Malformed { layer, source: Box::new(e) }
}

/// One decoded Ethernet frame; for a tunnelled packet, the innermost packet.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Packet {
    /// Ethernet destination (of the innermost Ethernet header the packet came in).
    pub dst_mac: MacAddr,
    /// Ethernet source (of the innermost Ethernet header the packet came in).
    pub src_mac: MacAddr,
    /// VLAN ids of the 802.1Q/802.1ad tags of the innermost Ethernet header the packet came
    /// in, outermost first (empty: untagged).
    pub vlans: Vec<u16>,
    /// The tunnels the packet was carried in, outermost first (empty: not tunnelled).
    pub tunnels: Vec<Tunnel>,
    /// What the frame carries.
    pub net: Net,
}

/// The network layer of a frame.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Net {
    /// ARP for IPv4 over Ethernet.
    Arp(Arp),
    /// IPv4 or IPv6.
    Ip(Ip),
    /// Any other EtherType (or an 802.3 length field, or ARP for other address kinds).
    Other {
        /// The EtherType after the VLAN tags.
        ether_type: u16,
    },
}

/// ARP operation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ArpOperation {
    /// Who-has (1).
    Request,
    /// Is-at (2).
    Reply,
    /// Any other operation code.
    Other(u16),
}

/// An ARP packet for IPv4 over Ethernet.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Arp {
    /// Request or reply.
    pub operation: ArpOperation,
    /// Sender hardware address.
    pub sender_mac: MacAddr,
    /// Sender protocol address.
    pub sender_ip: Ipv4Addr,
    /// Target hardware address.
    pub target_mac: MacAddr,
    /// Target protocol address.
    pub target_ip: Ipv4Addr,
}

/// An IPv4 or IPv6 packet.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ip {
    /// Source address.
    pub src: IpAddr,
    /// Destination address.
    pub dst: IpAddr,
    /// The protocol of the payload, after any IPv6 extension headers (or IPv4 AH).
    pub protocol: u8,
    /// IPv4 TTL or IPv6 hop limit.
    pub hop_limit: u8,
    /// IPv6 extension headers (and an IPv4 authentication header) by protocol number, in
    /// order: 0 hop-by-hop, 43 routing, 44 fragment, 60 destination options, 51 AH.
    pub extensions: Vec<u8>,
    /// Set when this packet is one fragment of a larger datagram.
    pub fragment: Option<Fragment>,
    /// Whether this packet was joined from fragments by a [`Reassembler`].
    pub reassembled: bool,
    /// Whether the capture holds fewer bytes of this datagram than its IP header says: a
    /// snap length cut the record ([`decode_captured`]). The headers up to the transport's
    /// are whole (or the frame would not decode); the payload is what was captured
    /// ([`Udp::payload`], [`Tcp::payload_len`]), so only the headers are to be judged.
    pub truncated: bool,
    /// The transport layer.
    pub transport: Transport,
}

/// Where a fragment sits in its datagram.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Fragment {
    /// IP identification (16 bits for IPv4, 32 for IPv6).
    pub id: u32,
    /// Offset of this fragment's data in the datagram's payload, in bytes.
    pub offset: u16,
    /// Whether more fragments follow.
    pub more: bool,
}

/// The transport layer of an IP packet.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Transport {
    /// UDP.
    Udp(Udp),
    /// TCP.
    Tcp(Tcp),
    /// ICMP (in IPv4).
    Icmp(Icmp),
    /// ICMPv6 (in IPv6).
    Icmpv6(Icmp),
    /// A fragment: the transport is known only once reassembled.
    Fragment,
    /// Any other protocol.
    Other,
}

/// A UDP datagram.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Udp {
    /// Source port.
    pub src_port: u16,
    /// Destination port.
    pub dst_port: u16,
    /// The payload, as long as the UDP length says; only its start when [`Ip::truncated`].
    pub payload: Vec<u8>,
}

/// TCP header flags.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct TcpFlags {
    /// FIN.
    pub fin: bool,
    /// SYN.
    pub syn: bool,
    /// RST.
    pub rst: bool,
    /// PSH.
    pub psh: bool,
    /// ACK.
    pub ack: bool,
    /// URG.
    pub urg: bool,
    /// ECE.
    pub ece: bool,
    /// CWR.
    pub cwr: bool,
}

/// A TCP segment's header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Tcp {
    /// Source port.
    pub src_port: u16,
    /// Destination port.
    pub dst_port: u16,
    /// Sequence number.
    pub seq: u32,
    /// Acknowledgment number.
    pub ack: u32,
    /// Flags.
    pub flags: TcpFlags,
    /// Receive window.
    pub window: u16,
    /// Bytes of payload.
    pub payload_len: usize,
}

/// An ICMP or ICMPv6 message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Icmp {
    /// Type.
    pub kind: u8,
    /// Code.
    pub code: u8,
    /// What the type means, with its fields.
    pub message: IcmpMessage,
}

impl Icmp {
    /// Why a destination was unreachable, from an ICMP type 3 or ICMPv6 type 1 message's
    /// code; `None` for any other message.
    pub fn unreachable_reason(&self) -> Option<UnreachableReason> {
        let IcmpMessage::Unreachable { .. } = self.message else { return None };
        Some(match (self.kind, self.code) {
            (3, 0) => UnreachableReason::Network,
            (3, 1) => UnreachableReason::Host,
            (3, 2) => UnreachableReason::Protocol,
            (3, 3) | (1, 4) => UnreachableReason::Port,
            (3, 9 | 10 | 13) | (1, 1) => UnreachableReason::AdministrativelyProhibited,
            (1, 0) => UnreachableReason::NoRoute,
            (1, 3) => UnreachableReason::Address,
            (1, 5 | 6) => UnreachableReason::RejectedByPolicy,
            _ => UnreachableReason::Other,
        })
    }
}

/// What an ICMP/ICMPv6 destination unreachable says (its code, RFC 792/1812 and RFC 4443).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UnreachableReason {
    /// ICMP code 0.
    Network,
    /// ICMP code 1.
    Host,
    /// ICMP code 2.
    Protocol,
    /// ICMP code 3, ICMPv6 code 4.
    Port,
    /// ICMP codes 9, 10 and 13, ICMPv6 code 1.
    AdministrativelyProhibited,
    /// ICMPv6 code 0.
    NoRoute,
    /// ICMPv6 code 3.
    Address,
    /// ICMPv6 codes 5 (ingress/egress policy) and 6 (reject route).
    RejectedByPolicy,
    /// Any other code.
    Other,
}

impl fmt::Display for UnreachableReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            UnreachableReason::Network => "network unreachable",
            UnreachableReason::Host => "host unreachable",
            UnreachableReason::Protocol => "protocol unreachable",
            UnreachableReason::Port => "port unreachable",
            UnreachableReason::AdministrativelyProhibited => "administratively prohibited",
            UnreachableReason::NoRoute => "no route to destination",
            UnreachableReason::Address => "address unreachable",
            UnreachableReason::RejectedByPolicy => "rejected by policy",
            UnreachableReason::Other => "destination unreachable",
        })
    }
}

/// The ICMP/ICMPv6 messages the checks use.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum IcmpMessage {
    /// Echo request (ICMP 8, ICMPv6 128).
    EchoRequest {
        /// Identifier.
        id: u16,
        /// Sequence number.
        seq: u16,
    },
    /// Echo reply (ICMP 0, ICMPv6 129).
    EchoReply {
        /// Identifier.
        id: u16,
        /// Sequence number.
        seq: u16,
    },
    /// Destination unreachable (ICMP 3 but code 4, ICMPv6 1); the reason is the code.
    Unreachable {
        /// The packet that could not be delivered, as far as it was quoted.
        quoted: Option<Quoted>,
    },
    /// Packet too big (ICMPv6 2), or its IPv4 form: destination unreachable with code 4,
    /// fragmentation needed and DF set (RFC 1191).
    PacketTooBig {
        /// The next hop's MTU.
        mtu: u32,
        /// The packet that was too big.
        quoted: Option<Quoted>,
    },
    /// Time exceeded (ICMP 11, ICMPv6 3).
    TimeExceeded {
        /// The packet whose hop limit ran out.
        quoted: Option<Quoted>,
    },
    /// Router Solicitation (ICMPv6 133, RFC 4861 section 4.1).
    RouterSolicitation,
    /// Router Advertisement (ICMPv6 134, RFC 4861 section 4.2): the whole ICMPv6 message
    /// (type, code, checksum, body), for the one RA parser,
    /// `check::ipv6::parse_router_advert`, to read.
    RouterAdvertisement {
        /// The ICMPv6 message as it came.
        message: Vec<u8>,
    },
    /// Neighbor Solicitation (ICMPv6 135, RFC 4861 section 4.3); one from the unspecified
    /// address is duplicate address detection (RFC 4862 section 5.4.2).
    NeighborSolicitation {
        /// The address asked about.
        target: Ipv6Addr,
    },
    /// Neighbor Advertisement (ICMPv6 136, RFC 4861 section 4.4).
    NeighborAdvertisement {
        /// The address it answers for.
        target: Ipv6Addr,
        /// R: the sender is a router.
        router: bool,
        /// S: an answer to a solicitation.
        solicited: bool,
        /// The Target Link-Layer Address option (the first, on Ethernet), if any.
        target_mac: Option<MacAddr>,
    },
    /// Any other type (and a neighbour discovery message too short for its fixed part).
    Other,
}

/// The start of the packet an ICMP error quotes. Only the first 8 bytes of its transport
/// header are guaranteed to be there.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Quoted {
    /// Source of the quoted packet (us, for errors about what we sent).
    pub src: IpAddr,
    /// Destination of the quoted packet.
    pub dst: IpAddr,
    /// Its protocol, after any IPv6 extension headers.
    pub protocol: u8,
    /// Source and destination ports, for UDP and TCP (and a first or whole fragment): a
    /// UDP or TCP traceroute's probe is told by them.
    pub ports: Option<(u16, u16)>,
    /// Identifier and sequence number of a quoted ICMP or ICMPv6 echo request (a first or
    /// whole fragment): the 8 bytes every ICMP error quotes hold them, so a time exceeded
    /// names exactly which of a `traceroute -I` or mtr's probes expired.
    pub echo: Option<(u16, u16)>,
    /// The quoted packet's size as its header states it (IPv4 total length, IPv6 40 +
    /// payload length): for a packet-too-big, the size that did not fit.
    pub size: u32,
}

impl Quoted {
    /// The quoted packet's source and destination as socket addresses (UDP and TCP only).
    pub fn sockets(&self) -> Option<(SocketAddr, SocketAddr)> {
        let (sport, dport) = self.ports?;
        Some((SocketAddr::new(self.src, sport), SocketAddr::new(self.dst, dport)))
    }
}

/// A UDP datagram found in a frame, with its socket addresses.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UdpDatagram {
    /// Sender.
    pub src: SocketAddr,
    /// Receiver.
    pub dst: SocketAddr,
    /// The UDP payload.
    pub payload: Vec<u8>,
}

impl Packet {
    /// The IP layer, if any.
    pub fn ip(&self) -> Option<&Ip> {
        match &self.net {
            Net::Ip(ip) => Some(ip),
            _ => None,
        }
    }

    /// The ARP packet, if any.
    pub fn arp(&self) -> Option<&Arp> {
        match &self.net {
            Net::Arp(arp) => Some(arp),
            _ => None,
        }
    }

    /// The UDP datagram, if the packet is a whole (or reassembled) UDP packet.
    pub fn udp_datagram(&self) -> Option<UdpDatagram> {
        let ip = self.ip()?;
        let Transport::Udp(udp) = &ip.transport else { return None };
        Some(UdpDatagram {
            src: SocketAddr::new(ip.src, udp.src_port),
            dst: SocketAddr::new(ip.dst, udp.dst_port),
            payload: udp.payload.clone(),
        })
    }

    /// The UDP datagram, taking the payload out of the packet.
    pub fn into_udp_datagram(self) -> Option<UdpDatagram> {
        let Net::Ip(ip) = self.net else { return None };
        let Transport::Udp(udp) = ip.transport else { return None };
        Some(UdpDatagram {
            src: SocketAddr::new(ip.src, udp.src_port),
            dst: SocketAddr::new(ip.dst, udp.dst_port),
            payload: udp.payload,
        })
    }
}

/// Extracts the UDP datagram of an Ethernet frame (any VLAN depth, IPv4 or IPv6); `None`
/// for anything else, malformed frames and fragments included (pure).
pub fn udp_datagram(frame: &[u8]) -> Option<UdpDatagram> {
    decode(frame).ok()?.into_udp_datagram()
}

fn mac_at(frame: &[u8], at: usize) -> Option<MacAddr> {
    frame.get(at..at + 6).and_then(MacAddr::from_slice)
}

fn be16(bytes: &[u8], at: usize) -> Option<u16> {
    Some(u16::from_be_bytes([*bytes.get(at)?, *bytes.get(at + 1)?]))
}

/// Decodes one Ethernet frame, unwrapping GRE and VXLAN tunnels (pure; never panics). A
/// tunnel packet that is a fragment is returned as the fragment (see [`Reassembler`]).
pub fn decode(frame: &[u8]) -> Result<Packet, WireError> {
    decode_link(LinkType::Ethernet, frame)
}

/// Decodes one frame of a capture whose link type is `link` (pure; never panics): the link
/// header is read (see [`LinkType`]) and the rest goes through the same VLAN, IP and
/// transport path as [`decode`]. Addresses a link header does not carry are
/// [`MacAddr`] zeros (a broadcast destination is `ff:ff:ff:ff:ff:ff` when the header
/// says so).
pub fn decode_link(link: LinkType, frame: &[u8]) -> Result<Packet, WireError> {
    decode_captured(link, frame, false)
}

/// [`decode_link`] for a capture record that a snap length may have cut: `truncated` says
/// the record holds fewer bytes than the packet had on the wire. A datagram whose IP
/// length reaches past the captured bytes then decodes, headers whole, with
/// [`Ip::truncated`] set and the payload cut where the capture cut it (instead of being
/// malformed); headers that are themselves cut are still an error.
pub fn decode_captured(link: LinkType, frame: &[u8], truncated: bool) -> Result<Packet, WireError> {
    let (mut packet, mut data) = decode_frame(link, frame, truncated)?;
    while let Some((inner, rest)) = decapsulate(&packet, data)? {
        (packet, data) = (inner, rest);
    }
    Ok(packet)
}

/// [`decode_captured`], also returning the IP payload (for a fragment: the data it
/// carries); `cut`: the capture's snap length cut the record.
fn decode_frame(link: LinkType, frame: &[u8], cut: bool) -> Result<(Packet, &[u8]), WireError> {
    let header = link_header(link, frame)?;
    let LinkHeader { dst_mac, src_mac, mut ether_type, mut at } = header;
    let truncated = |layer| WireError::Truncated { layer, len: frame.len() };
    let mut vlans = Vec::new();
    while VLAN_TPIDS.contains(&ether_type) {
        let (Some(tci), Some(inner)) = (be16(frame, at), be16(frame, at + 2)) else {
            return Err(truncated(Layer::Vlan));
        };
        vlans.push(tci & 0x0fff);
        ether_type = inner;
        at += 4;
    }
    let body = frame.get(at..).unwrap_or_default();
    let (net, payload) = decode_network(ether_type, body, cut)?;
    Ok((Packet { dst_mac, src_mac, vlans, tunnels: Vec::new(), net }, payload))
}

/// The network layer `ether_type` names, and its payload (for IP, the transport bytes);
/// `cut`: the capture's snap length cut the record.
fn decode_network(ether_type: u16, body: &[u8], cut: bool) -> Result<(Net, &[u8]), WireError> {
    Ok(match ether_type {
        ETHERTYPE_ARP => (decode_arp(body)?, &[][..]),
        ETHERTYPE_IPV4 => decode_ipv4(body, cut).map(|(ip, payload)| (Net::Ip(ip), payload))?,
        ETHERTYPE_IPV6 => decode_ipv6(body, cut).map(|(ip, payload)| (Net::Ip(ip), payload))?,
        _ => (Net::Other { ether_type }, &[][..]),
    })
}

// ---------------------------------------------------------------------------------------
// Link types
// ---------------------------------------------------------------------------------------

/// The link-layer header types of captures that are decoded (tcpdump.org's LINKTYPE_
/// numbers). Everything else is refused by the capture reader, naming the number.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum LinkType {
    /// LINKTYPE_ETHERNET (1): Ethernet II / 802.3.
    Ethernet,
    /// LINKTYPE_NULL (0): BSD loopback, a 4-byte address family in the capturing host's
    /// byte order.
    Null,
    /// LINKTYPE_LOOP (108): OpenBSD loopback, the address family in network byte order.
    Loop,
    /// LINKTYPE_RAW (101): a bare IPv4 or IPv6 packet (the version nibble tells which).
    Raw,
    /// LINKTYPE_IPV4 (228): a bare IPv4 packet.
    Ipv4,
    /// LINKTYPE_IPV6 (229): a bare IPv6 packet.
    Ipv6,
    /// LINKTYPE_LINUX_SLL (113): Linux cooked capture v1 (`tcpdump -i any` before 4.99).
    LinuxSll,
    /// LINKTYPE_LINUX_SLL2 (276): Linux cooked capture v2 (`tcpdump -i any`).
    LinuxSll2,
    /// LINKTYPE_IEEE802_11 (105): 802.11 frames; data frames' LLC/SNAP payload is read.
    Ieee80211,
    /// LINKTYPE_IEEE802_11_RADIOTAP (127): a radiotap header, then an 802.11 frame.
    Radiotap,
}

impl LinkType {
    /// Every link type decoded.
    pub const ALL: [LinkType; 10] = [
        LinkType::Ethernet,
        LinkType::Null,
        LinkType::Loop,
        LinkType::Raw,
        LinkType::Ipv4,
        LinkType::Ipv6,
        LinkType::LinuxSll,
        LinkType::LinuxSll2,
        LinkType::Ieee80211,
        LinkType::Radiotap,
    ];

    /// The link type of a LINKTYPE_ number, if it is one that is decoded.
    pub fn from_number(number: u32) -> Option<LinkType> {
        LinkType::ALL.into_iter().find(|l| l.number() == number)
    }

    /// The LINKTYPE_ number.
    pub fn number(self) -> u32 {
        match self {
            LinkType::Null => 0,
            LinkType::Ethernet => 1,
            LinkType::Raw => 101,
            LinkType::Ieee80211 => 105,
            LinkType::Loop => 108,
            LinkType::LinuxSll => 113,
            LinkType::Radiotap => 127,
            LinkType::Ipv4 => 228,
            LinkType::Ipv6 => 229,
            LinkType::LinuxSll2 => 276,
        }
    }

    /// The name tcpdump.org gives it, without `LINKTYPE_` (`ETHERNET`, `LINUX_SLL2`, ...).
    pub fn name(self) -> &'static str {
        match self {
            LinkType::Ethernet => "ETHERNET",
            LinkType::Null => "NULL",
            LinkType::Loop => "LOOP",
            LinkType::Raw => "RAW",
            LinkType::Ipv4 => "IPV4",
            LinkType::Ipv6 => "IPV6",
            LinkType::LinuxSll => "LINUX_SLL",
            LinkType::LinuxSll2 => "LINUX_SLL2",
            LinkType::Ieee80211 => "IEEE802_11",
            LinkType::Radiotap => "IEEE802_11_RADIOTAP",
        }
    }
}

impl fmt::Display for LinkType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} ({})", self.name(), self.number())
    }
}

/// What a link header says: addresses, the EtherType of what follows and where it starts.
struct LinkHeader {
    dst_mac: MacAddr,
    src_mac: MacAddr,
    ether_type: u16,
    at: usize,
}

const NO_MAC: MacAddr = MacAddr([0; 6]);
const BROADCAST_MAC: MacAddr = MacAddr([0xff; 6]);
/// EtherType given to a frame that carries no network layer this decoder reads (an 802.11
/// management or control frame, an encrypted data frame, a non-SNAP LLC payload).
const ETHERTYPE_NONE: u16 = 0;

/// Reads the link header of `frame` for `link`.
fn link_header(link: LinkType, frame: &[u8]) -> Result<LinkHeader, WireError> {
    let truncated = |layer| WireError::Truncated { layer, len: frame.len() };
    match link {
        LinkType::Ethernet => {
            let (Some(dst_mac), Some(src_mac), Some(ether_type)) =
                (mac_at(frame, 0), mac_at(frame, 6), be16(frame, 12))
            else {
                return Err(truncated(Layer::Ethernet));
            };
            Ok(LinkHeader { dst_mac, src_mac, ether_type, at: ETHERNET_HEADER_LEN })
        }
        LinkType::Raw | LinkType::Ipv4 | LinkType::Ipv6 => {
            let version = frame.first().map(|b| b >> 4).ok_or(truncated(Layer::Link))?;
            let ether_type = match (link, version) {
                (LinkType::Ipv4, _) | (LinkType::Raw, 4) => ETHERTYPE_IPV4,
                (LinkType::Ipv6, _) | (LinkType::Raw, 6) => ETHERTYPE_IPV6,
                _ => ETHERTYPE_NONE,
            };
            Ok(LinkHeader { dst_mac: NO_MAC, src_mac: NO_MAC, ether_type, at: 0 })
        }
        LinkType::Null | LinkType::Loop => {
            let family = frame.get(..4).ok_or(truncated(Layer::Link))?;
            let family = <[u8; 4]>::try_from(family).map_err(|_| truncated(Layer::Link))?;
            // NULL is in the capturing host's byte order: the family is a small number, so
            // the end holding the non-zero byte tells the order.
            let family = if link == LinkType::Loop || family[0] == 0 {
                u32::from_be_bytes(family)
            } else {
                u32::from_le_bytes(family)
            };
            let ether_type = match family {
                2 => ETHERTYPE_IPV4,
                // AF_INET6 on Linux, the BSDs, FreeBSD and macOS.
                10 | 24 | 28 | 30 => ETHERTYPE_IPV6,
                _ => ETHERTYPE_NONE,
            };
            Ok(LinkHeader { dst_mac: NO_MAC, src_mac: NO_MAC, ether_type, at: 4 })
        }
        LinkType::LinuxSll => {
            // packet type, ARPHRD type, address length, 8 address bytes, protocol.
            let (Some(packet_type), Some(addr_len), Some(protocol)) = (be16(frame, 0), be16(frame, 4), be16(frame, 14))
            else {
                return Err(truncated(Layer::Link));
            };
            let src_mac = if addr_len == 6 { mac_at(frame, 6).unwrap_or(NO_MAC) } else { NO_MAC };
            Ok(LinkHeader {
                dst_mac: sll_destination(packet_type),
                src_mac,
                ether_type: sll_protocol(protocol),
                at: 16,
            })
        }
        LinkType::LinuxSll2 => {
            // protocol, reserved, interface index, ARPHRD type, packet type, address
            // length, 8 address bytes.
            let (Some(protocol), Some(&packet_type), Some(&addr_len)) = (be16(frame, 0), frame.get(10), frame.get(11))
            else {
                return Err(truncated(Layer::Link));
            };
            if frame.len() < 20 {
                return Err(truncated(Layer::Link));
            }
            let src_mac = if addr_len == 6 { mac_at(frame, 12).unwrap_or(NO_MAC) } else { NO_MAC };
            let dst_mac = sll_destination(u16::from(packet_type));
            Ok(LinkHeader { dst_mac, src_mac, ether_type: sll_protocol(protocol), at: 20 })
        }
        LinkType::Ieee80211 => ieee80211_header(frame, 0),
        LinkType::Radiotap => {
            // version 0, padding, little-endian length of the whole radiotap header.
            let (Some(&0), Some(len)) = (frame.first(), frame.get(2..4)) else {
                return Err(truncated(Layer::Link));
            };
            let len = usize::from(u16::from_le_bytes([len[0], len[1]]));
            if len < 8 || len > frame.len() {
                return Err(truncated(Layer::Link));
            }
            ieee80211_header(frame, len)
        }
    }
}

/// The destination a Linux cooked header's packet type implies: broadcast for
/// PACKET_BROADCAST (1), unknown otherwise.
fn sll_destination(packet_type: u16) -> MacAddr {
    if packet_type == 1 { BROADCAST_MAC } else { NO_MAC }
}

/// A Linux cooked header's protocol as an EtherType: values below 0x0600 are Linux
/// pseudo-protocols (802.3 frames, 802.2 LLC, CAN, ...), not read.
fn sll_protocol(protocol: u16) -> u16 {
    if protocol < 0x0600 { ETHERTYPE_NONE } else { protocol }
}

/// Reads an 802.11 MAC header starting at `start` and, for an unprotected data frame, the
/// LLC/SNAP header after it. Other frames (management, control, encrypted data, non-SNAP
/// LLC) decode with no network layer.
fn ieee80211_header(frame: &[u8], start: usize) -> Result<LinkHeader, WireError> {
    let truncated = || WireError::Truncated { layer: Layer::Link, len: frame.len() };
    let (Some(&fc0), Some(&fc1)) = (frame.get(start), frame.get(start + 1)) else {
        return Err(truncated());
    };
    let (kind, subtype) = ((fc0 >> 2) & 0x3, fc0 >> 4);
    let (to_ds, from_ds, protected, order) = (fc1 & 0x01 != 0, fc1 & 0x02 != 0, fc1 & 0x40 != 0, fc1 & 0x80 != 0);
    let addr = |n: usize| mac_at(frame, start + 4 + 6 * n);
    let other = |src_mac, dst_mac| LinkHeader { dst_mac, src_mac, ether_type: ETHERTYPE_NONE, at: frame.len() };
    if kind != 2 {
        return Ok(other(addr(1).unwrap_or(NO_MAC), addr(0).unwrap_or(NO_MAC)));
    }
    let qos = subtype & 0x8 != 0;
    let null_data = subtype & 0x4 != 0;
    let mut len = 24;
    if to_ds && from_ds {
        len += 6;
    }
    if qos {
        len += 2;
        if order {
            len += 4;
        }
    }
    let (Some(a1), Some(a2), Some(a3)) = (addr(0), addr(1), addr(2)) else {
        return Err(truncated());
    };
    let (dst_mac, src_mac) = match (to_ds, from_ds) {
        (false, false) => (a1, a2),
        (true, false) => (a3, a2),
        (false, true) => (a1, a3),
        (true, true) => (a3, mac_at(frame, start + 24).ok_or_else(truncated)?),
    };
    if protected || null_data {
        return Ok(other(src_mac, dst_mac));
    }
    let llc = start + len;
    const SNAP: [u8; 6] = [0xaa, 0xaa, 0x03, 0, 0, 0];
    let header = frame.get(llc..llc + 6).ok_or_else(truncated)?;
    if header != SNAP {
        return Ok(other(src_mac, dst_mac));
    }
    let ether_type = be16(frame, llc + 6).ok_or_else(truncated)?;
    Ok(LinkHeader { dst_mac, src_mac, ether_type, at: llc + 8 })
}

fn decode_arp(body: &[u8]) -> Result<Net, WireError> {
    let arp = ArpPacketSlice::from_slice(body).map_err(malformed(Layer::Arp))?;
    if arp.hw_addr_type() != ArpHardwareId::ETHERNET
        || arp.proto_addr_type() != EtherType::IPV4
        || arp.hw_addr_size() != 6
        || arp.proto_addr_size() != 4
    {
        return Ok(Net::Other { ether_type: ETHERTYPE_ARP });
    }
    let ip = |b: &[u8]| <[u8; 4]>::try_from(b).map(Ipv4Addr::from).ok();
    let (Some(sender_mac), Some(target_mac), Some(sender_ip), Some(target_ip)) = (
        MacAddr::from_slice(arp.sender_hw_addr()),
        MacAddr::from_slice(arp.target_hw_addr()),
        ip(arp.sender_protocol_addr()),
        ip(arp.target_protocol_addr()),
    ) else {
        return Err(WireError::Truncated { layer: Layer::Arp, len: body.len() });
    };
    let operation = match arp.operation().0 {
        1 => ArpOperation::Request,
        2 => ArpOperation::Reply,
        other => ArpOperation::Other(other),
    };
    Ok(Net::Arp(Arp { operation, sender_mac, sender_ip, target_mac, target_ip }))
}

fn decode_ipv4(body: &[u8], cut: bool) -> Result<(Ip, &[u8]), WireError> {
    // A whole datagram, or (in a cut record) one whose total length reaches past the bytes
    // captured: etherparse's lax slice takes the captured bytes as the payload.
    let lax;
    let (header, auth, ip_number, fragmented, payload, truncated) = match Ipv4Slice::from_slice(body) {
        Ok(ip) => {
            let p = ip.payload();
            (ip.header().to_header(), ip.extensions().auth.is_some(), p.ip_number, p.fragmented, p.payload, false)
        }
        Err(e) if cut => {
            lax = match LaxIpv4Slice::from_slice(body) {
                Ok((lax, None)) if lax.payload().incomplete => lax,
                _ => return Err(malformed(Layer::Ipv4)(e)),
            };
            let p = lax.payload();
            (lax.header().to_header(), lax.extensions().auth.is_some(), p.ip_number, p.fragmented, p.payload, true)
        }
        Err(e) => return Err(malformed(Layer::Ipv4)(e)),
    };
    let extensions = if auth { vec![IpNumber::AUTHENTICATION_HEADER.0] } else { vec![] };
    let fragment = fragmented.then(|| Fragment {
        id: u32::from(header.identification),
        offset: header.fragment_offset.value() * 8,
        more: header.more_fragments,
    });
    let (src, dst) = (IpAddr::V4(header.source.into()), IpAddr::V4(header.destination.into()));
    let transport = if fragment.is_some() {
        Transport::Fragment
    } else {
        decode_transport(ip_number.0, payload, false, truncated)?
    };
    let ip = Ip {
        src,
        dst,
        protocol: ip_number.0,
        hop_limit: header.time_to_live,
        extensions,
        fragment,
        reassembled: false,
        truncated,
        transport,
    };
    Ok((ip, payload))
}

fn decode_ipv6(body: &[u8], cut: bool) -> Result<(Ip, &[u8]), WireError> {
    let header = Ipv6HeaderSlice::from_slice(body).map_err(malformed(Layer::Ipv6))?;
    // The payload length bounds the packet (Ethernet padding dropped); 0 is a jumbogram,
    // whose length is in an option: the rest of the frame. In a cut record, a length past
    // the bytes captured leaves the captured bytes as the payload.
    let mut end = match usize::from(header.payload_length()) {
        0 => body.len(),
        len => IPV6_HEADER_LEN + len,
    };
    let truncated = cut && end > body.len();
    if truncated {
        end = body.len();
    }
    let payload = body.get(IPV6_HEADER_LEN..end).ok_or(WireError::Truncated { layer: Layer::Ipv6, len: body.len() })?;
    let (extensions, protocol, rest, fragment) = ipv6_extensions(header.next_header().0, payload)?;
    let transport =
        if fragment.is_some() { Transport::Fragment } else { decode_transport(protocol, rest, true, truncated)? };
    let ip = Ip {
        src: IpAddr::V6(header.source_addr()),
        dst: IpAddr::V6(header.destination_addr()),
        protocol,
        hop_limit: header.hop_limit(),
        extensions,
        fragment,
        reassembled: false,
        truncated,
        transport,
    };
    Ok((ip, rest))
}

/// IPv6 header length.
const IPV6_HEADER_LEN: usize = 40;

/// IPv6 extension headers walked (each tells the next's type and its own length).
type Ipv6Extensions<'a> = (Vec<u8>, u8, &'a [u8], Option<Fragment>);

/// Walks the IPv6 extension headers that start with header type `next` in `bytes`: the
/// types seen, the protocol after them, the bytes after them and, when a fragment header
/// fragments the packet, where this fragment sits. The walk stops after such a fragment
/// header, since what follows is fragment data (etherparse's walk goes on into it, which
/// misreads a later fragment whose fragmentable part starts with an extension header).
fn ipv6_extensions(mut next: u8, mut bytes: &[u8]) -> Result<Ipv6Extensions<'_>, WireError> {
    const HOP_BY_HOP: u8 = 0;
    const ROUTING: u8 = 43;
    const FRAGMENT: u8 = 44;
    const AUTHENTICATION: u8 = 51;
    const DESTINATION_OPTIONS: u8 = 60;
    let truncated = |bytes: &[u8]| WireError::Truncated { layer: Layer::Ipv6, len: bytes.len() };
    let mut seen = Vec::new();
    loop {
        let len = match next {
            HOP_BY_HOP | ROUTING | DESTINATION_OPTIONS => (usize::from(*bytes.get(1).ok_or(truncated(bytes))?) + 1) * 8,
            AUTHENTICATION => (usize::from(*bytes.get(1).ok_or(truncated(bytes))?) + 2) * 4,
            FRAGMENT => 8,
            _ => return Ok((seen, next, bytes, None)),
        };
        let (header, after) = (bytes.get(..len).ok_or(truncated(bytes))?, &bytes[len..]);
        seen.push(next);
        if next == FRAGMENT {
            let field = u16::from_be_bytes([header[2], header[3]]);
            let (offset, more) = (field & 0xfff8, field & 1 == 1);
            if offset != 0 || more {
                let id = u32::from_be_bytes([header[4], header[5], header[6], header[7]]);
                return Ok((seen, header[0], after, Some(Fragment { id, offset, more })));
            }
        }
        next = header[0];
        bytes = after;
    }
}

/// The transport layer of an IP payload (`v6`: carried in IPv6; `cut`: the payload is only
/// the start of the datagram's, a snap length cut it, so the UDP length is not held
/// against the bytes).
fn decode_transport(protocol: u8, bytes: &[u8], v6: bool, cut: bool) -> Result<Transport, WireError> {
    Ok(match (protocol, v6) {
        (PROTO_UDP, _) => {
            let udp = if cut { UdpSlice::from_slice_lax(bytes) } else { UdpSlice::from_slice(bytes) }
                .map_err(malformed(Layer::Udp))?;
            Transport::Udp(Udp {
                src_port: udp.source_port(),
                dst_port: udp.destination_port(),
                payload: udp.payload().to_vec(),
            })
        }
        (PROTO_TCP, _) => {
            let tcp = TcpSlice::from_slice(bytes).map_err(malformed(Layer::Tcp))?;
            Transport::Tcp(Tcp {
                src_port: tcp.source_port(),
                dst_port: tcp.destination_port(),
                seq: tcp.sequence_number(),
                ack: tcp.acknowledgment_number(),
                flags: TcpFlags {
                    fin: tcp.fin(),
                    syn: tcp.syn(),
                    rst: tcp.rst(),
                    psh: tcp.psh(),
                    ack: tcp.ack(),
                    urg: tcp.urg(),
                    ece: tcp.ece(),
                    cwr: tcp.cwr(),
                },
                window: tcp.window_size(),
                payload_len: tcp.payload().len(),
            })
        }
        (PROTO_ICMP, false) => {
            let icmp = Icmpv4Slice::from_slice(bytes).map_err(malformed(Layer::Icmp))?;
            let (kind, code, rest) = (icmp.type_u8(), icmp.code_u8(), icmp.bytes5to8());
            let message = match kind {
                8 => IcmpMessage::EchoRequest { id: id_of(rest), seq: seq_of(rest) },
                0 => IcmpMessage::EchoReply { id: id_of(rest), seq: seq_of(rest) },
                3 if code == 4 => IcmpMessage::PacketTooBig {
                    mtu: u32::from(seq_of(rest)), // RFC 1191: the next-hop MTU in bytes 7-8
                    quoted: quoted(icmp.payload()),
                },
                3 => IcmpMessage::Unreachable { quoted: quoted(icmp.payload()) },
                11 => IcmpMessage::TimeExceeded { quoted: quoted(icmp.payload()) },
                _ => IcmpMessage::Other,
            };
            Transport::Icmp(Icmp { kind, code, message })
        }
        (PROTO_ICMPV6, true) => {
            let icmp = Icmpv6Slice::from_slice(bytes).map_err(malformed(Layer::Icmpv6))?;
            let (kind, code, rest) = (icmp.type_u8(), icmp.code_u8(), icmp.bytes5to8());
            let message = match kind {
                128 => IcmpMessage::EchoRequest { id: id_of(rest), seq: seq_of(rest) },
                129 => IcmpMessage::EchoReply { id: id_of(rest), seq: seq_of(rest) },
                1 => IcmpMessage::Unreachable { quoted: quoted(icmp.payload()) },
                2 => IcmpMessage::PacketTooBig { mtu: u32::from_be_bytes(rest), quoted: quoted(icmp.payload()) },
                3 => IcmpMessage::TimeExceeded { quoted: quoted(icmp.payload()) },
                133..=136 => neighbor_discovery(kind, rest, icmp.slice()),
                _ => IcmpMessage::Other,
            };
            Transport::Icmpv6(Icmp { kind, code, message })
        }
        _ => Transport::Other,
    })
}

fn id_of(rest: [u8; 4]) -> u16 {
    u16::from_be_bytes([rest[0], rest[1]])
}

fn seq_of(rest: [u8; 4]) -> u16 {
    u16::from_be_bytes([rest[2], rest[3]])
}

/// The packet an ICMP error quotes (truncated by design, so decoded leniently).
fn quoted(inner: &[u8]) -> Option<Quoted> {
    let (ip, _) = LaxIpSlice::from_slice(inner).ok()?;
    let payload = ip.payload();
    let first = match &ip {
        LaxIpSlice::Ipv4(v4) => v4.header().fragments_offset().value() == 0,
        LaxIpSlice::Ipv6(v6) => v6.extensions().clone().into_iter().all(|ext| match ext {
            Ipv6ExtensionSlice::Fragment(f) => f.fragment_offset().value() == 0,
            _ => true,
        }),
    };
    let protocol = payload.ip_number.0;
    let ports = (first && matches!(protocol, PROTO_UDP | PROTO_TCP))
        .then(|| Some((be16(payload.payload, 0)?, be16(payload.payload, 2)?)))
        .flatten();
    let echo_request = matches!((protocol, payload.payload.first()), (PROTO_ICMP, Some(8)) | (PROTO_ICMPV6, Some(128)));
    let echo = (first && echo_request).then(|| Some((be16(payload.payload, 4)?, be16(payload.payload, 6)?))).flatten();
    let size = match &ip {
        LaxIpSlice::Ipv4(v4) => u32::from(v4.header().total_len()),
        LaxIpSlice::Ipv6(v6) => 40 + u32::from(v6.header().payload_length()),
    };
    Some(Quoted { src: ip.source_addr(), dst: ip.destination_addr(), protocol, ports, echo, size })
}

/// Most options read from one Neighbor Advertisement looking for its target link-layer
/// address (a message is at most a packet long; this bounds the walk by count too).
const MAX_ND_OPTIONS: usize = 64;

/// A neighbour discovery message (ICMPv6 133 to 136, RFC 4861 section 4): `rest` is bytes
/// 5 to 8 of the ICMPv6 header, `message` the whole ICMPv6 message. Neighbor
/// Solicitations and Advertisements are read here (their fixed part and, for an
/// advertisement, the Target Link-Layer Address option); a Router Advertisement is handed
/// on whole. Too short for its fixed part: [`IcmpMessage::Other`].
fn neighbor_discovery(kind: u8, rest: [u8; 4], message: &[u8]) -> IcmpMessage {
    let target = || -> Option<Ipv6Addr> { Some(Ipv6Addr::from(<[u8; 16]>::try_from(message.get(8..24)?).ok()?)) };
    match kind {
        133 => IcmpMessage::RouterSolicitation,
        134 => IcmpMessage::RouterAdvertisement { message: message.to_vec() },
        135 => target().map_or(IcmpMessage::Other, |target| IcmpMessage::NeighborSolicitation { target }),
        _ => {
            let Some(target) = target() else { return IcmpMessage::Other };
            // Options: type, length in units of 8 bytes, value; a zero length ends the walk
            // (RFC 4861 section 4.6: such a message is invalid, but the fixed part is read).
            let mut target_mac = None;
            let mut at = 24;
            for _ in 0..MAX_ND_OPTIONS {
                let (Some(&ty), Some(&len)) = (message.get(at), message.get(at + 1)) else { break };
                let end = at + usize::from(len) * 8;
                if len == 0 || end > message.len() {
                    break;
                }
                if ty == 2 && len == 1 {
                    target_mac = MacAddr::from_slice(&message[at + 2..at + 8]).filter(|m| !m.is_zero());
                    break;
                }
                at = end;
            }
            IcmpMessage::NeighborAdvertisement {
                target,
                router: rest[0] & 0x80 != 0,
                solicited: rest[0] & 0x40 != 0,
                target_mac,
            }
        }
    }
}

// ---------------------------------------------------------------------------------------
// Tunnels
// ---------------------------------------------------------------------------------------

/// IP protocol number of GRE.
pub const PROTO_GRE: u8 = 47;
/// UDP destination port of VXLAN (RFC 7348).
pub const VXLAN_PORT: u16 = 4789;
/// GRE protocol type of transparent Ethernet bridging: an Ethernet frame inside.
pub const ETHERTYPE_TRANSPARENT_ETHERNET: u16 = 0x6558;
/// Most tunnel layers unwrapped from one frame; a packet nested deeper is
/// [`WireError::TooDeep`].
pub const MAX_TUNNEL_DEPTH: usize = 4;

/// The kind of a tunnel.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TunnelKind {
    /// GRE (RFC 2784, RFC 2890) carrying IPv4, IPv6 or Ethernet.
    Gre,
    /// VXLAN (RFC 7348) carrying Ethernet.
    Vxlan,
}

impl fmt::Display for TunnelKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            TunnelKind::Gre => "GRE",
            TunnelKind::Vxlan => "VXLAN",
        })
    }
}

/// One tunnel layer a packet came through: the outer packet's endpoints and identifier.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Tunnel {
    /// GRE or VXLAN.
    pub kind: TunnelKind,
    /// The outer packet's source (a tunnel endpoint).
    pub src: IpAddr,
    /// The outer packet's destination (the other endpoint).
    pub dst: IpAddr,
    /// The GRE key (when the header has one) or the VXLAN network identifier.
    pub id: Option<u32>,
    /// VLAN ids of the frame that carried the outer packet, outermost first.
    pub vlans: Vec<u16>,
}

/// What a tunnel header says is inside it.
enum Inner<'a> {
    /// An Ethernet frame.
    Ethernet(&'a [u8]),
    /// A network-layer packet of this EtherType (IPv4 or IPv6), without a link layer.
    Network(u16, &'a [u8]),
}

/// Unwraps one tunnel layer: when `packet` (whose IP payload, the transport bytes, is
/// `data`) is a whole GRE or VXLAN packet this decoder reads, the packet inside it with the
/// tunnel appended to its `tunnels`, and the inner packet's own IP payload. `Ok(None)`: not
/// a tunnel, a fragment (reassemble first), or a GRE payload other than IPv4, IPv6 and
/// Ethernet. A packet inside a GRE tunnel without Ethernet keeps the outer frame's MACs
/// and VLAN tags.
fn decapsulate<'a>(packet: &Packet, data: &'a [u8]) -> Result<Option<(Packet, &'a [u8])>, WireError> {
    let Net::Ip(ip) = &packet.net else { return Ok(None) };
    if ip.fragment.is_some() {
        return Ok(None);
    }
    let found = match &ip.transport {
        Transport::Other if ip.protocol == PROTO_GRE => gre(data)?.map(|(key, inner)| (TunnelKind::Gre, key, inner)),
        Transport::Udp(udp) if udp.dst_port == VXLAN_PORT => {
            let udp = if ip.truncated { UdpSlice::from_slice_lax(data) } else { UdpSlice::from_slice(data) }
                .map_err(malformed(Layer::Udp))?;
            vxlan(udp.payload()).map(|(vni, frame)| (TunnelKind::Vxlan, Some(vni), Inner::Ethernet(frame)))
        }
        _ => None,
    };
    let Some((kind, id, inner)) = found else { return Ok(None) };
    if packet.tunnels.len() >= MAX_TUNNEL_DEPTH {
        return Err(WireError::TooDeep { limit: MAX_TUNNEL_DEPTH });
    }
    let mut tunnels = packet.tunnels.clone();
    tunnels.push(Tunnel { kind, src: ip.src, dst: ip.dst, id, vlans: packet.vlans.clone() });
    let (inner, payload) = match inner {
        // Port 4789 alone does not make a datagram VXLAN (a DNS client may have picked it as
        // its source port, so its answers go to 4789): an inner frame that does not decode
        // leaves the datagram as plain UDP.
        Inner::Ethernet(frame) if kind == TunnelKind::Vxlan => {
            match decode_frame(LinkType::Ethernet, frame, ip.truncated) {
                Ok(decoded) => decoded,
                Err(_) => return Ok(None),
            }
        }
        Inner::Ethernet(frame) => decode_frame(LinkType::Ethernet, frame, ip.truncated)?,
        Inner::Network(ether_type, bytes) => {
            let (net, payload) = decode_network(ether_type, bytes, ip.truncated)?;
            let outer = Packet { net, tunnels: Vec::new(), vlans: packet.vlans.clone(), ..*packet };
            (outer, payload)
        }
    };
    Ok(Some((Packet { tunnels, ..inner }, payload)))
}

/// Reads a GRE header (RFC 2784; RFC 2890's key and sequence number): the key, if any,
/// and what it carries. `None` for other versions (1 is PPTP's enhanced GRE), RFC 1701
/// source routing, and payloads other than IPv4, IPv6 and Ethernet.
fn gre(bytes: &[u8]) -> Result<Option<(Option<u32>, Inner<'_>)>, WireError> {
    const CHECKSUM: u8 = 0x80;
    const ROUTING: u8 = 0x40;
    const KEY: u8 = 0x20;
    const SEQUENCE: u8 = 0x10;
    let truncated = || WireError::Truncated { layer: Layer::Gre, len: bytes.len() };
    let (Some(&flags), Some(&version), Some(protocol)) = (bytes.first(), bytes.get(1), be16(bytes, 2)) else {
        return Err(truncated());
    };
    if version & 0x07 != 0 || flags & ROUTING != 0 {
        return Ok(None);
    }
    // The checksum and its reserved half-word, then the key, then the sequence number.
    let mut at = 4 + if flags & CHECKSUM != 0 { 4 } else { 0 };
    let key = if flags & KEY != 0 {
        let key = bytes.get(at..at + 4).ok_or_else(truncated)?;
        at += 4;
        Some(u32::from_be_bytes([key[0], key[1], key[2], key[3]]))
    } else {
        None
    };
    at += if flags & SEQUENCE != 0 { 4 } else { 0 };
    let payload = bytes.get(at..).ok_or_else(truncated)?;
    Ok(match protocol {
        ETHERTYPE_TRANSPARENT_ETHERNET => Some((key, Inner::Ethernet(payload))),
        ETHERTYPE_IPV4 | ETHERTYPE_IPV6 => Some((key, Inner::Network(protocol, payload))),
        _ => None,
    })
}

/// Reads a VXLAN header: the network identifier and the Ethernet frame after it. `None`
/// when the datagram is too short or the I flag (VNI valid) is clear: not VXLAN, whatever
/// its port says.
fn vxlan(bytes: &[u8]) -> Option<(u32, &[u8])> {
    const VNI_VALID: u8 = 0x08;
    // Only the group-policy extension's G bit (0x80) may join I among the flags, and the
    // byte after the VNI is reserved (RFC 7348 section 5): stricter than a receiver needs
    // to be, because a capture reader has only the port to go on.
    const OTHER_FLAGS: u8 = 0x77;
    let header = bytes.get(..8)?;
    let vxlan = header[0] & VNI_VALID != 0 && header[0] & OTHER_FLAGS == 0 && header[7] == 0;
    vxlan.then(|| (u32::from_be_bytes([0, header[4], header[5], header[6]]), &bytes[8..]))
}

// ---------------------------------------------------------------------------------------
// Reassembly
// ---------------------------------------------------------------------------------------

/// Bounds of a [`Reassembler`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReassemblyLimits {
    /// Datagrams being reassembled at once; fragments of further datagrams are dropped.
    pub max_in_flight: usize,
    /// Largest reassembled payload (after the IP header), in bytes; at most 65,535.
    pub max_datagram_bytes: usize,
    /// A datagram whose last fragment is older than this (in capture time) is dropped.
    pub timeout: Duration,
}

impl Default for ReassemblyLimits {
    /// 64 datagrams in flight, 65,535 bytes each, 30 s (Linux's `ipfrag_time`).
    fn default() -> Self {
        ReassemblyLimits { max_in_flight: 64, max_datagram_bytes: 65_535, timeout: Duration::from_secs(30) }
    }
}

/// What a [`Reassembler`] did, for reports.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ReassemblyStats {
    /// Datagrams joined from fragments.
    pub reassembled: u64,
    /// Fragments dropped (limits or inconsistency).
    pub dropped_fragments: u64,
    /// Datagrams given up incomplete after the timeout.
    pub timed_out: u64,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
struct FragKey {
    vlans: Vec<u16>,
    tunnels: Vec<Tunnel>,
    src: IpAddr,
    dst: IpAddr,
    id: u32,
    protocol: u8,
}

#[derive(Debug)]
struct InFlight {
    buf: IpDefragBuf,
    last_seen: Duration,
}

/// Joins IPv4 and IPv6 fragments into whole packets, bounded by [`ReassemblyLimits`]. Feed
/// it every frame in capture order with its capture timestamp.
#[derive(Debug)]
pub struct Reassembler {
    limits: ReassemblyLimits,
    in_flight: HashMap<FragKey, InFlight>,
    stats: ReassemblyStats,
}

impl Default for Reassembler {
    fn default() -> Self {
        Reassembler::new(ReassemblyLimits::default())
    }
}

impl Reassembler {
    /// An empty reassembler with these limits (`max_datagram_bytes` capped at 65,535).
    pub fn new(limits: ReassemblyLimits) -> Reassembler {
        let limits = ReassemblyLimits { max_datagram_bytes: limits.max_datagram_bytes.min(65_535), ..limits };
        Reassembler { limits, in_flight: HashMap::new(), stats: ReassemblyStats::default() }
    }

    /// What was done so far.
    pub fn stats(&self) -> ReassemblyStats {
        self.stats
    }

    /// Datagrams currently being reassembled.
    pub fn in_flight(&self) -> usize {
        self.in_flight.len()
    }

    /// Decodes `frame`, seen at capture time `at`: a whole packet is returned as it is, a
    /// fragment is held (`Ok(None)`) until its datagram is complete, then the reassembled
    /// packet is returned (with the Ethernet and IP fields of the last fragment, and
    /// [`Ip::reassembled`] set). Tunnels are unwrapped as [`decode`] does, each layer
    /// reassembled before it is unwrapped. Datagrams idle past the timeout are dropped first.
    pub fn feed(&mut self, frame: &[u8], at: Duration) -> Result<Option<Packet>, WireError> {
        self.feed_link(LinkType::Ethernet, frame, at)
    }

    /// [`Reassembler::feed`] for a frame of a capture whose link type is `link`
    /// ([`decode_link`]).
    pub fn feed_link(&mut self, link: LinkType, frame: &[u8], at: Duration) -> Result<Option<Packet>, WireError> {
        self.feed_captured(link, frame, false, at)
    }

    /// [`Reassembler::feed_link`] for a capture record that a snap length may have cut
    /// (`truncated`; [`decode_captured`]): a cut packet is returned with [`Ip::truncated`]
    /// set, a cut fragment is dropped ([`FragmentRejected::Cut`]): its datagram cannot be
    /// completed.
    pub fn feed_captured(
        &mut self,
        link: LinkType,
        frame: &[u8],
        truncated: bool,
        at: Duration,
    ) -> Result<Option<Packet>, WireError> {
        self.expire(at);
        let (mut packet, data) = decode_frame(link, frame, truncated)?;
        let mut data = Cow::Borrowed(data);
        // Each turn reassembles or unwraps one layer; decapsulate bounds the depth.
        loop {
            if packet.ip().is_some_and(|ip| ip.fragment.is_some()) {
                let Some((whole, payload)) = self.reassemble(packet, &data, at)? else { return Ok(None) };
                (packet, data) = (whole, Cow::Owned(payload));
            }
            let inner = match data {
                Cow::Borrowed(bytes) => decapsulate(&packet, bytes)?.map(|(p, rest)| (p, Cow::Borrowed(rest))),
                Cow::Owned(bytes) => decapsulate(&packet, &bytes)?.map(|(p, rest)| (p, Cow::Owned(rest.to_vec()))),
            };
            match inner {
                Some((p, rest)) => (packet, data) = (p, rest),
                None => return Ok(Some(packet)),
            }
        }
    }

    /// Takes a fragment (`packet`, carrying `data`) into its datagram's buffer; once the
    /// datagram is complete, the whole packet and its transport bytes.
    fn reassemble(
        &mut self,
        mut packet: Packet,
        data: &[u8],
        at: Duration,
    ) -> Result<Option<(Packet, Vec<u8>)>, WireError> {
        let Net::Ip(ip) = &mut packet.net else { return Ok(None) };
        let Some(fragment) = ip.fragment else { return Ok(None) };
        let key = FragKey {
            vlans: packet.vlans.clone(),
            tunnels: packet.tunnels.clone(),
            src: ip.src,
            dst: ip.dst,
            id: fragment.id,
            protocol: ip.protocol,
        };
        let reject = |reason| WireError::Fragment { src: ip.src, dst: ip.dst, id: fragment.id, reason };
        if ip.truncated {
            self.in_flight.remove(&key);
            self.stats.dropped_fragments += 1;
            return Err(reject(FragmentRejected::Cut));
        }
        if usize::from(fragment.offset) + data.len() > self.limits.max_datagram_bytes {
            self.in_flight.remove(&key);
            self.stats.dropped_fragments += 1;
            return Err(reject(FragmentRejected::TooLarge));
        }
        if !self.in_flight.contains_key(&key) && self.in_flight.len() >= self.limits.max_in_flight {
            self.stats.dropped_fragments += 1;
            return Err(reject(FragmentRejected::TooManyInFlight));
        }
        let entry = self.in_flight.entry(key.clone()).or_insert_with(|| InFlight {
            buf: IpDefragBuf::new(IpNumber(ip.protocol), Vec::new(), Vec::new()),
            last_seen: at,
        });
        entry.last_seen = entry.last_seen.max(at);
        let offset = IpFragOffset::try_new(fragment.offset / 8).map_err(|_| reject(FragmentRejected::Inconsistent));
        if offset
            .and_then(|o| entry.buf.add(o, fragment.more, data).map_err(|_| reject(FragmentRejected::Inconsistent)))
            .is_err()
        {
            self.in_flight.remove(&key);
            self.stats.dropped_fragments += 1;
            return Err(reject(FragmentRejected::Inconsistent));
        }
        if !entry.buf.is_complete() {
            return Ok(None);
        }
        let Some(done) = self.in_flight.remove(&key) else { return Ok(None) };
        let (mut payload, _) = done.buf.take_bufs();
        if ip.src.is_ipv6() {
            // The fragmentable part may start with more extension headers.
            let (more, protocol, rest, inner) = ipv6_extensions(ip.protocol, &payload)?;
            ip.extensions.extend(more);
            ip.protocol = protocol;
            ip.transport =
                if inner.is_some() { Transport::Other } else { decode_transport(protocol, rest, true, false)? };
            let headers = payload.len() - rest.len();
            payload.drain(..headers);
        } else {
            ip.transport = decode_transport(ip.protocol, &payload, false, false)?;
        }
        ip.fragment = None;
        ip.reassembled = true;
        self.stats.reassembled += 1;
        Ok(Some((packet, payload)))
    }

    fn expire(&mut self, now: Duration) {
        let timeout = self.limits.timeout;
        let before = self.in_flight.len();
        self.in_flight.retain(|_, f| now.saturating_sub(f.last_seen) <= timeout);
        self.stats.timed_out += (before - self.in_flight.len()) as u64;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pcap::{self, Frame};

    fn capture(name: &str) -> Vec<Frame> {
        let path = format!("{}/captures/{name}", env!("CARGO_MANIFEST_DIR"));
        pcap::read_file(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
    }

    /// Every capture in `captures/` (README.md says how each was recorded).
    fn all_captures() -> Vec<(String, Vec<Frame>)> {
        let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/captures");
        let mut names: Vec<String> = std::fs::read_dir(dir)
            .unwrap()
            .filter_map(|e| e.ok()?.file_name().into_string().ok())
            .filter(|n| n.ends_with(".pcap"))
            .collect();
        names.sort();
        assert!(names.len() >= 7, "{names:?}");
        names.into_iter().map(|n| (n.clone(), capture(&n))).collect()
    }

    /// The decoder pcap.rs had before this module (pnet, untagged IPv4/IPv6 only), kept
    /// here as the oracle the new one is compared against on the real captures.
    fn previous_udp_datagram(frame: &[u8]) -> Option<UdpDatagram> {
        use pnet::packet::Packet as _;
        use pnet::packet::ethernet::{EtherTypes, EthernetPacket};
        use pnet::packet::ip::IpNextHeaderProtocols;
        use pnet::packet::ipv4::Ipv4Packet;
        use pnet::packet::ipv6::Ipv6Packet;
        use pnet::packet::udp::UdpPacket;
        let eth = EthernetPacket::new(frame)?;
        let (src_ip, dst_ip, udp_bytes) = match eth.get_ethertype() {
            EtherTypes::Ipv4 => {
                let ip = Ipv4Packet::new(eth.payload())?;
                let header = usize::from(ip.get_header_length()) * 4;
                let total = usize::from(ip.get_total_length());
                if ip.get_next_level_protocol() != IpNextHeaderProtocols::Udp || header < 20 || total < header {
                    return None;
                }
                let body = eth.payload().get(header..total.min(eth.payload().len()))?;
                (IpAddr::V4(ip.get_source()), IpAddr::V4(ip.get_destination()), body.to_vec())
            }
            EtherTypes::Ipv6 => {
                let ip = Ipv6Packet::new(eth.payload())?;
                if ip.get_next_header() != IpNextHeaderProtocols::Udp {
                    return None;
                }
                (IpAddr::V6(ip.get_source()), IpAddr::V6(ip.get_destination()), ip.payload().to_vec())
            }
            _ => return None,
        };
        let udp = UdpPacket::new(&udp_bytes)?;
        let len = usize::from(udp.get_length());
        let payload = udp_bytes.get(8..len.clamp(8, udp_bytes.len()))?.to_vec();
        Some(UdpDatagram {
            src: SocketAddr::new(src_ip, udp.get_source()),
            dst: SocketAddr::new(dst_ip, udp.get_destination()),
            payload,
        })
    }

    #[test]
    fn every_frame_of_every_capture_decodes() {
        for (name, frames) in all_captures() {
            let mut reassembler = Reassembler::default();
            for (i, f) in frames.iter().enumerate() {
                let packet = decode(&f.data).unwrap_or_else(|e| panic!("{name} frame {i}: {e}"));
                assert!(packet.vlans.is_empty(), "{name} frame {i}");
                // LLDP (0x88cc) and CDP (802.3 with a length, LLC/SNAP) are link-local
                // discovery frames, decoded by platform::lldp, not IP.
                let ethertype = u16::from_be_bytes([f.data[12], f.data[13]]);
                let discovery = ethertype == 0x88cc || ethertype <= 1500;
                assert!(discovery || !matches!(packet.net, Net::Other { .. }), "{name} frame {i}: ARP or IP");
                reassembler.feed(&f.data, f.timestamp).unwrap_or_else(|e| panic!("{name} frame {i}: {e}"));
            }
            assert_eq!(reassembler.in_flight(), 0, "{name}: every datagram completes");
        }
    }

    #[test]
    fn udp_results_match_the_previous_decoder_on_the_real_captures() {
        let mut compared = 0;
        for (name, frames) in all_captures() {
            for (i, f) in frames.iter().enumerate() {
                let fragment = decode(&f.data).unwrap().ip().is_some_and(|ip| ip.fragment.is_some());
                if fragment {
                    // The old decoder read a fragment's data as a UDP header; now one
                    // place says a fragment has no transport until it is reassembled.
                    assert_eq!(udp_datagram(&f.data), None, "{name} frame {i}");
                    continue;
                }
                assert_eq!(udp_datagram(&f.data), previous_udp_datagram(&f.data), "{name} frame {i}");
                compared += usize::from(udp_datagram(&f.data).is_some());
            }
        }
        // DHCP: 7 + 3 + 4 frames; DNS in the healthy run: 6; the 2 queries of
        // dns_fragments.pcap (their answers are fragments).
        assert_eq!(compared, 7 + 3 + 4 + 6 + 2);
    }

    #[test]
    fn the_healthy_run_decodes_to_its_exchanges() {
        let frames = capture("lab_healthy.pcap");
        let packets: Vec<Packet> = frames.iter().map(|f| decode(&f.data).unwrap()).collect();
        let gw = Ipv4Addr::new(198, 18, 0, 1);
        let me = Ipv4Addr::new(198, 18, 0, 10);
        let arps: Vec<&Arp> = packets.iter().filter_map(Packet::arp).collect();
        assert_eq!(arps.len(), 2);
        assert_eq!((arps[0].operation, arps[0].sender_ip, arps[0].target_ip), (ArpOperation::Request, me, gw));
        assert_eq!((arps[1].operation, arps[1].sender_ip, arps[1].target_ip), (ArpOperation::Reply, gw, me));
        assert_eq!(arps[1].target_mac, arps[0].sender_mac);
        assert_eq!(packets[2].src_mac, arps[1].sender_mac, "the reply's frame comes from the MAC it announces");

        let echoes: Vec<(IcmpMessage, IpAddr)> = packets
            .iter()
            .filter_map(|p| match &p.ip()?.transport {
                Transport::Icmp(icmp) => Some((icmp.message.clone(), p.ip()?.src)),
                _ => None,
            })
            .collect();
        assert_eq!(echoes.len(), 10);
        for (n, pair) in echoes.chunks(2).enumerate() {
            let (IcmpMessage::EchoRequest { id, seq }, IpAddr::V4(from)) = pair[0] else { panic!("{pair:?}") };
            assert_eq!((&pair[1].0, pair[1].1), (&IcmpMessage::EchoReply { id, seq }, IpAddr::V4(gw)));
            assert_eq!((from, usize::from(seq)), (me, n));
        }

        let tcp: Vec<(SocketAddr, Tcp)> = packets
            .iter()
            .filter_map(|p| match &p.ip()?.transport {
                Transport::Tcp(t) => Some((SocketAddr::new(p.ip()?.src, t.src_port), *t)),
                _ => None,
            })
            .collect();
        assert_eq!(tcp.len(), 5);
        let (syn, syn_ack) = (tcp[0].1, tcp[1].1);
        assert!(syn.flags.syn && !syn.flags.ack && syn.dst_port == 8080);
        assert!(syn_ack.flags.syn && syn_ack.flags.ack && syn_ack.ack == syn.seq.wrapping_add(1));
        assert!(tcp[3].1.flags.fin);
        assert_eq!(tcp[1].0, "198.18.1.2:8080".parse().unwrap());

        let solicitations = packets
            .iter()
            .filter(|p| {
                matches!(&p.ip().map(|ip| &ip.transport), Some(Transport::Icmpv6(Icmp { kind: 133, code: 0, .. })))
            })
            .count();
        assert_eq!(solicitations, 15, "as tcpdump lists them");
    }

    /// `frame` with VLAN tags `(tpid, vid)` inserted after the MAC addresses, outermost first.
    fn tagged(frame: &[u8], tags: &[(u16, u16)]) -> Vec<u8> {
        let mut out = frame[..12].to_vec();
        for &(tpid, vid) in tags {
            out.extend_from_slice(&tpid.to_be_bytes());
            out.extend_from_slice(&(0x2000 | vid).to_be_bytes()); // priority 1
        }
        out.extend_from_slice(&frame[12..]);
        out
    }

    #[test]
    fn vlan_tags_at_any_depth_are_kept_outermost_first() {
        let cases: [&[(u16, u16)]; 4] = [
            &[(0x8100, 10)],
            &[(0x88a8, 100), (0x8100, 10)],
            &[(0x9100, 7), (0x8100, 4094)],
            &[(0x88a8, 1), (0x8100, 2), (0x8100, 3), (0x8100, 4), (0x8100, 5)],
        ];
        for name in ["lab_healthy.pcap", "dhcp_dora.pcap", "fragments.pcap"] {
            for f in capture(name) {
                let plain = decode(&f.data).unwrap();
                for tags in cases {
                    let frame = tagged(&f.data, tags);
                    let packet = decode(&frame).unwrap();
                    let vids: Vec<u16> = tags.iter().map(|t| t.1).collect();
                    assert_eq!(packet.vlans, vids);
                    assert_eq!(Packet { vlans: vec![], ..packet }, plain, "{name}");
                    assert_eq!(udp_datagram(&frame), udp_datagram(&f.data));
                    for cut in 12..frame.len().min(14 + 4 * tags.len()) {
                        assert!(matches!(decode(&frame[..cut]), Err(WireError::Truncated { .. })));
                    }
                }
            }
        }
    }

    #[test]
    fn ipv6_hop_by_hop_options_are_walked_to_icmpv6() {
        let frames = capture("ipv6_mld.pcap");
        assert_eq!(frames.len(), 4);
        for f in &frames {
            let packet = decode(&f.data).unwrap();
            let ip = packet.ip().unwrap();
            assert_eq!(ip.extensions, [0], "a hop-by-hop header (router alert)");
            assert_eq!((ip.protocol, ip.hop_limit), (PROTO_ICMPV6, 1));
            let Transport::Icmpv6(icmp) = &ip.transport else { panic!("{ip:?}") };
            assert_eq!((icmp.kind, &icmp.message), (143, &IcmpMessage::Other), "an MLDv2 report");
        }
    }

    /// The payload the lab sent in fragmented UDP datagrams (captures/README.md).
    fn lab_udp_payload() -> Vec<u8> {
        (0..10).flat_map(|_| 0..=255u8).collect()
    }

    /// Reassembles a capture's frames in the given order; the complete packets.
    fn reassemble<'a>(
        frames: impl IntoIterator<Item = &'a Frame>,
        limits: ReassemblyLimits,
    ) -> (Vec<Packet>, Reassembler) {
        let mut r = Reassembler::new(limits);
        let packets = frames.into_iter().filter_map(|f| r.feed(&f.data, f.timestamp).ok().flatten()).collect();
        (packets, r)
    }

    fn check_reassembled(packets: &[Packet]) {
        assert_eq!(packets.len(), 6, "{packets:#?}");
        assert!(packets.iter().all(|p| p.ip().unwrap().reassembled && p.ip().unwrap().fragment.is_none()));
        let v6 = |p: &Packet| p.ip().unwrap().src.is_ipv6();
        assert_eq!(packets.iter().filter(|p| v6(p)).count(), 3);
        let udp: Vec<UdpDatagram> = packets.iter().filter_map(Packet::udp_datagram).collect();
        assert_eq!(udp.len(), 2);
        for d in &udp {
            assert_eq!((d.dst.port(), d.payload.clone()), (9, lab_udp_payload()));
        }
        let echoes: Vec<(u16, u16)> = packets
            .iter()
            .filter_map(|p| match p.ip()?.transport {
                Transport::Icmp(Icmp { message: IcmpMessage::EchoRequest { id, seq }, .. })
                | Transport::Icmpv6(Icmp { message: IcmpMessage::EchoRequest { id, seq }, .. }) => Some((id, seq)),
                _ => None,
            })
            .collect();
        assert_eq!(echoes.len(), 2, "one ping -s 3000 over IPv4, one over IPv6");
        assert!(echoes.iter().all(|e| e.1 == 1));
    }

    #[test]
    fn ipv4_and_ipv6_fragments_of_the_lab_capture_reassemble() {
        let frames = capture("fragments.pcap");
        assert_eq!(frames.len(), 16);
        let fragments = frames.iter().filter(|f| decode(&f.data).unwrap().ip().unwrap().fragment.is_some()).count();
        assert_eq!(fragments, 16, "the capture holds fragments only");
        for f in &frames {
            let packet = decode(&f.data).unwrap();
            let ip = packet.ip().unwrap();
            assert!(matches!(ip.transport, Transport::Fragment));
            let expected: &[u8] = if ip.src.is_ipv6() { &[44] } else { &[] };
            assert_eq!(ip.extensions, expected, "IPv6 fragments carry a fragment header");
        }
        let (packets, r) = reassemble(&frames, ReassemblyLimits::default());
        check_reassembled(&packets);
        assert_eq!(r.stats(), ReassemblyStats { reassembled: 6, dropped_fragments: 0, timed_out: 0 });
        // In reverse order too: the last fragment first.
        let (packets, _) = reassemble(frames.iter().rev(), ReassemblyLimits::default());
        check_reassembled(&packets);
        // The same datagrams, reassembled, give the same answers as the ones parsed whole.
        let udp = reassemble(&frames, ReassemblyLimits::default()).0.iter().find_map(Packet::udp_datagram).unwrap();
        assert_eq!(udp.src, "198.18.0.10:51313".parse().unwrap());
    }

    #[test]
    fn ipv6_fragments_whose_fragmentable_part_starts_with_options_reassemble() {
        // The lab's IPv6 UDP datagram, fragmented again with a destination options header
        // (PadN) at the start of its fragmentable part: the later fragment then starts with
        // data, though its fragment header names options as the next header.
        let frames = capture("fragments.pcap");
        let v6_udp: Vec<&Frame> = frames
            .iter()
            .filter(|f| decode(&f.data).unwrap().ip().is_some_and(|ip| ip.src.is_ipv6() && ip.protocol == PROTO_UDP))
            .collect();
        assert_eq!(v6_udp.len(), 2);
        const AFTER_FRAGMENT_HEADER: usize = 14 + 40 + 8;
        let mut fragmentable = vec![PROTO_UDP, 0, 1, 4, 0, 0, 0, 0];
        for f in &v6_udp {
            fragmentable.extend_from_slice(&f.data[AFTER_FRAGMENT_HEADER..]);
        }
        let (first, second) = fragmentable.split_at(1448);
        let build = |chunk: &[u8], offset: usize, more: bool| {
            let mut frame = v6_udp[0].data[..14 + 40].to_vec();
            frame[14 + 4..14 + 6].copy_from_slice(&((8 + chunk.len()) as u16).to_be_bytes());
            frame[14 + 6] = 44;
            frame.extend_from_slice(&[60, 0]);
            frame.extend_from_slice(&(offset as u16 | u16::from(more)).to_be_bytes());
            frame.extend_from_slice(&0x5eed_u32.to_be_bytes());
            frame.extend_from_slice(chunk);
            frame
        };
        let fragments = [build(first, 0, true), build(second, 1448, false)];
        for order in [[0, 1], [1, 0]] {
            let mut r = Reassembler::default();
            assert!(r.feed(&fragments[order[0]], Duration::ZERO).unwrap().is_none());
            let packet = r.feed(&fragments[order[1]], Duration::ZERO).unwrap().unwrap();
            let ip = packet.ip().unwrap();
            assert_eq!((ip.extensions.as_slice(), ip.protocol), (&[44, 60][..], PROTO_UDP));
            assert_eq!(packet.udp_datagram().unwrap().payload, lab_udp_payload());
        }
    }

    #[test]
    fn reassembly_is_bounded() {
        let frames = capture("fragments.pcap");
        // One datagram in flight: the capture interleaves none, so all still complete...
        let (packets, r) = reassemble(&frames, ReassemblyLimits { max_in_flight: 1, ..ReassemblyLimits::default() });
        assert_eq!((packets.len(), r.stats().dropped_fragments), (6, 0));
        // ...but with request and reply fragments interleaved, the second is dropped.
        let mut mixed: Vec<&Frame> = frames[..6].iter().collect();
        mixed.swap(1, 3);
        let mut r = Reassembler::new(ReassemblyLimits { max_in_flight: 1, ..ReassemblyLimits::default() });
        let results: Vec<_> = mixed.iter().map(|f| r.feed(&f.data, f.timestamp)).collect();
        assert!(
            results
                .iter()
                .any(|res| matches!(res, Err(WireError::Fragment { reason: FragmentRejected::TooManyInFlight, .. })))
        );
        assert!(r.in_flight() <= 1);

        // Datagrams larger than the limit are dropped, with their fragments held so far.
        let (packets, r) =
            reassemble(&frames, ReassemblyLimits { max_datagram_bytes: 2000, ..ReassemblyLimits::default() });
        assert!(packets.is_empty(), "every datagram of the capture is larger than 2000 bytes");
        assert!(r.stats().dropped_fragments > 0 && r.in_flight() <= 6);

        // A datagram idle past the timeout (in capture time) is given up.
        let timeout = Duration::from_secs(30);
        let mut r = Reassembler::new(ReassemblyLimits { timeout, ..ReassemblyLimits::default() });
        assert!(r.feed(&frames[0].data, frames[0].timestamp).unwrap().is_none());
        assert_eq!(r.in_flight(), 1);
        let late = frames[0].timestamp + timeout + Duration::from_secs(1);
        for f in &frames[1..3] {
            assert!(r.feed(&f.data, late).unwrap().is_none(), "the first fragment is gone");
        }
        assert_eq!(r.stats().timed_out, 1);

        // A fragment that contradicts the ones held (a second last fragment with another
        // end) drops the datagram.
        let mut r = Reassembler::default();
        let mut other_end = frames[2].data.clone();
        let total = u16::from_be_bytes([other_end[16], other_end[17]]);
        other_end[16..18].copy_from_slice(&(total - 8).to_be_bytes());
        other_end.truncate(other_end.len() - 8);
        assert!(r.feed(&frames[0].data, frames[0].timestamp).unwrap().is_none());
        assert!(r.feed(&frames[2].data, frames[2].timestamp).unwrap().is_none());
        let got = r.feed(&other_end, frames[2].timestamp);
        assert!(matches!(got, Err(WireError::Fragment { reason: FragmentRejected::Inconsistent, .. })), "{got:?}");
        assert_eq!((r.in_flight(), r.stats().dropped_fragments), (0, 1));
        assert!(r.feed(&frames[1].data, frames[1].timestamp).unwrap().is_none(), "nothing left to complete");
    }

    #[test]
    fn icmp_errors_quote_the_packet_they_are_about() {
        // A port unreachable from the router about the client's real DNS query, built the way
        // a kernel builds it: ICMP header, then the query's IP header and first 8 bytes.
        let frames = capture("lab_healthy.pcap");
        let query = frames.iter().find(|f| udp_datagram(&f.data).is_some_and(|d| d.dst.port() == 53)).unwrap();
        let sent = udp_datagram(&query.data).unwrap();
        let quote = &query.data[14..14 + 20 + 8];
        let mut icmp = vec![3, 3, 0, 0, 0, 0, 0, 0];
        icmp.extend_from_slice(quote);
        let mut ip = vec![0x45, 0, 0, 0, 0, 0, 0, 0, 64, PROTO_ICMP, 0, 0, 198, 18, 0, 1, 198, 18, 0, 10];
        let total = (ip.len() + icmp.len()) as u16;
        ip[2..4].copy_from_slice(&total.to_be_bytes());
        let mut frame = query.data[6..12].to_vec();
        frame.extend_from_slice(&query.data[..6]);
        frame.extend_from_slice(&ETHERTYPE_IPV4.to_be_bytes());
        frame.extend_from_slice(&ip);
        frame.extend_from_slice(&icmp);
        let packet = decode(&frame).unwrap();
        let Transport::Icmp(Icmp { kind: 3, code: 3, message: IcmpMessage::Unreachable { quoted: Some(q) } }) =
            packet.ip().unwrap().transport
        else {
            panic!("{packet:?}")
        };
        assert_eq!(q.protocol, PROTO_UDP);
        assert_eq!(q.sockets(), Some((sent.src, sent.dst)));
        // Quoting less than the ports still names the addresses.
        let short = &frame[..frame.len() - 6];
        let mut short = short.to_vec();
        let total = (short.len() - 14) as u16;
        short[16..18].copy_from_slice(&total.to_be_bytes());
        let Transport::Icmp(Icmp { message: IcmpMessage::Unreachable { quoted: Some(q) }, .. }) =
            decode(&short).unwrap().ip().unwrap().transport
        else {
            panic!()
        };
        assert_eq!((q.dst, q.ports), (sent.dst.ip(), None));
        // Code 4 (fragmentation needed) carries the next hop's MTU: a packet too big.
        let mut too_big = frame.clone();
        too_big[14 + 20 + 1] = 4;
        too_big[14 + 20 + 6..14 + 20 + 8].copy_from_slice(&1400u16.to_be_bytes());
        let Transport::Icmp(Icmp { message: IcmpMessage::PacketTooBig { mtu: 1400, quoted: Some(q) }, .. }) =
            decode(&too_big).unwrap().ip().unwrap().transport
        else {
            panic!()
        };
        assert_eq!(q.sockets(), Some((sent.src, sent.dst)));
    }

    #[test]
    fn unreachable_reasons_follow_each_family_codes() {
        let unreachable = |kind, code| Icmp { kind, code, message: IcmpMessage::Unreachable { quoted: None } };
        use UnreachableReason::*;
        let v4: Vec<_> = [0, 1, 2, 3, 9, 10, 13, 5].map(|c| unreachable(3, c).unreachable_reason()).to_vec();
        assert_eq!(
            v4,
            [
                Network,
                Host,
                Protocol,
                Port,
                AdministrativelyProhibited,
                AdministrativelyProhibited,
                AdministrativelyProhibited,
                Other
            ]
            .map(Some)
        );
        let v6: Vec<_> = [0, 1, 3, 4, 5, 6, 2].map(|c| unreachable(1, c).unreachable_reason()).to_vec();
        assert_eq!(
            v6,
            [NoRoute, AdministrativelyProhibited, Address, Port, RejectedByPolicy, RejectedByPolicy, Other].map(Some)
        );
        // Not an unreachable: no reason (IPv4 code 4 decodes as a packet too big).
        let too_big = Icmp { kind: 3, code: 4, message: IcmpMessage::PacketTooBig { mtu: 1400, quoted: None } };
        assert_eq!(too_big.unreachable_reason(), None);
        assert_eq!(
            Icmp { kind: 8, code: 0, message: IcmpMessage::EchoRequest { id: 1, seq: 1 } }.unreachable_reason(),
            None
        );
    }

    #[test]
    fn truncated_and_mutated_frames_never_panic() {
        let mut decoded = 0usize;
        for (_, frames) in all_captures() {
            let mut r = Reassembler::default();
            for f in &frames {
                for cut in 0..f.data.len() {
                    let _ = decode(&f.data[..cut]);
                    let _ = r.feed(&f.data[..cut], f.timestamp);
                }
                // Single-byte mutations of the headers (the first 80 bytes), 3 per byte.
                for i in 0..f.data.len().min(80) {
                    for m in [|b: u8| !b, |b: u8| b ^ 0x01, |_| 0xff] {
                        let mut bad = f.data.clone();
                        bad[i] = m(bad[i]);
                        decoded += usize::from(decode(&bad).is_ok());
                        let _ = r.feed(&bad, f.timestamp);
                    }
                }
            }
            assert!(r.in_flight() <= ReassemblyLimits::default().max_in_flight);
        }
        assert!(decoded > 0);
    }

    // ---- tunnels ---------------------------------------------------------------------

    const OUTER_SRC: [u8; 4] = [198, 18, 0, 1];
    const OUTER_DST: [u8; 4] = [198, 18, 0, 2];

    /// An Ethernet frame from 02:..:01 to 02:..:02 carrying `payload` as `ether_type`.
    fn ether(ether_type: u16, payload: &[u8]) -> Vec<u8> {
        let mut frame = vec![2, 0, 0, 0, 0, 2, 2, 0, 0, 0, 0, 1];
        frame.extend_from_slice(&ether_type.to_be_bytes());
        frame.extend_from_slice(payload);
        frame
    }

    /// An IPv4 packet (no options, checksum left zero) from OUTER_SRC to OUTER_DST.
    fn ipv4(protocol: u8, payload: &[u8]) -> Vec<u8> {
        let total = (20 + payload.len()) as u16;
        let mut ip = vec![0x45, 0];
        ip.extend_from_slice(&total.to_be_bytes());
        ip.extend_from_slice(&[0, 0, 0, 0, 64, protocol, 0, 0]);
        ip.extend_from_slice(&OUTER_SRC);
        ip.extend_from_slice(&OUTER_DST);
        ip.extend_from_slice(payload);
        ip
    }

    /// A GRE header: flags (checksum 0x80, key 0x20, sequence 0x10), protocol, then the
    /// optional fields, then `payload`.
    fn gre(flags: u8, protocol: u16, key: u32, payload: &[u8]) -> Vec<u8> {
        let mut gre = vec![flags, 0];
        gre.extend_from_slice(&protocol.to_be_bytes());
        if flags & 0x80 != 0 {
            gre.extend_from_slice(&[0xab, 0xcd, 0, 0]);
        }
        if flags & 0x20 != 0 {
            gre.extend_from_slice(&key.to_be_bytes());
        }
        if flags & 0x10 != 0 {
            gre.extend_from_slice(&7u32.to_be_bytes());
        }
        gre.extend_from_slice(payload);
        gre
    }

    /// `frame` inside GRE (transparent Ethernet bridging) inside an Ethernet frame.
    fn in_gretap(frame: &[u8], flags: u8, key: u32) -> Vec<u8> {
        ether(ETHERTYPE_IPV4, &ipv4(PROTO_GRE, &gre(flags, ETHERTYPE_TRANSPARENT_ETHERNET, key, frame)))
    }

    /// `frame` inside VXLAN (UDP 4789) inside an Ethernet frame.
    fn in_vxlan(frame: &[u8], vni: u32) -> Vec<u8> {
        let mut udp = Vec::new();
        udp.extend_from_slice(&49152u16.to_be_bytes());
        udp.extend_from_slice(&VXLAN_PORT.to_be_bytes());
        udp.extend_from_slice(&((8 + 8 + frame.len()) as u16).to_be_bytes());
        udp.extend_from_slice(&[0, 0, 0x08, 0, 0, 0]);
        udp.extend_from_slice(&(vni << 8).to_be_bytes());
        udp.extend_from_slice(frame);
        ether(ETHERTYPE_IPV4, &ipv4(PROTO_UDP, &udp))
    }

    fn tunnel(kind: TunnelKind, id: Option<u32>) -> Tunnel {
        Tunnel { kind, src: IpAddr::from(OUTER_SRC), dst: IpAddr::from(OUTER_DST), id, vlans: vec![] }
    }

    #[test]
    fn frames_inside_gre_and_vxlan_decode_like_the_frames_themselves() {
        let mut compared = 0;
        for name in ["lab_healthy.pcap", "dhcp_dora.pcap", "ipv6_mld.pcap"] {
            for f in capture(name) {
                let plain = decode(&f.data).unwrap();
                // GRE with every combination of checksum, key and sequence number.
                for flags in [0x00, 0x80, 0x20, 0x10, 0xb0] {
                    let packet = decode(&in_gretap(&f.data, flags, 42)).unwrap();
                    let id = (flags & 0x20 != 0).then_some(42);
                    assert_eq!(packet.tunnels, [tunnel(TunnelKind::Gre, id)], "{name}");
                    assert_eq!(Packet { tunnels: vec![], ..packet }, plain, "{name}");
                }
                let packet = decode(&in_vxlan(&f.data, 100)).unwrap();
                assert_eq!(packet.tunnels, [tunnel(TunnelKind::Vxlan, Some(100))]);
                assert_eq!(Packet { tunnels: vec![], ..packet.clone() }, plain);
                assert_eq!(udp_datagram(&in_vxlan(&f.data, 100)), udp_datagram(&f.data));
                // GRE carrying the IP packet alone: the outer frame's MACs.
                if let Some(ip) = plain.ip() {
                    let ether_type = if ip.src.is_ipv6() { ETHERTYPE_IPV6 } else { ETHERTYPE_IPV4 };
                    let wrapped = ether(ETHERTYPE_IPV4, &ipv4(PROTO_GRE, &gre(0, ether_type, 0, &f.data[14..])));
                    let packet = decode(&wrapped).unwrap();
                    assert_eq!((packet.tunnels.len(), packet.ip()), (1, Some(ip)), "{name}");
                    assert_eq!(packet.src_mac, MacAddr([2, 0, 0, 0, 0, 1]));
                    compared += 1;
                }
                // The inner frame's VLAN tags are the packet's; the outer's the tunnel's.
                let inner = tagged(&f.data, &[(0x8100, 30)]);
                let outer = tagged(&in_gretap(&inner, 0x20, 9), &[(0x88a8, 100), (0x8100, 200)]);
                let packet = decode(&outer).unwrap();
                assert_eq!((packet.vlans.as_slice(), packet.tunnels[0].vlans.as_slice()), (&[30][..], &[100, 200][..]));
            }
        }
        assert!(compared > 40);
    }

    #[test]
    fn tunnels_nest_up_to_the_depth_limit() {
        let f = &capture("lab_healthy.pcap")[0];
        let mut frame = f.data.clone();
        for depth in 1..=MAX_TUNNEL_DEPTH + 1 {
            frame = if depth % 2 == 0 { in_vxlan(&frame, depth as u32) } else { in_gretap(&frame, 0x20, depth as u32) };
            let mut r = Reassembler::default();
            if depth <= MAX_TUNNEL_DEPTH {
                let packet = decode(&frame).unwrap();
                assert_eq!(packet.tunnels.len(), depth);
                // Outermost first: the last wrapping is the first tunnel.
                assert_eq!(packet.tunnels[0].id, Some(depth as u32));
                assert_eq!(r.feed(&frame, f.timestamp).unwrap(), Some(packet));
            } else {
                assert!(matches!(decode(&frame), Err(WireError::TooDeep { limit: MAX_TUNNEL_DEPTH })));
                assert!(matches!(r.feed(&frame, f.timestamp), Err(WireError::TooDeep { .. })));
            }
        }
    }

    #[test]
    fn gre_and_vxlan_headers_are_validated() {
        let f = &capture("lab_healthy.pcap")[0];
        let plain = decode(&f.data).unwrap();
        // A GRE header cut short (before the protocol type, or inside the key or sequence).
        for gre_bytes in [&[0x20u8, 0][..], &[0x20, 0, 0x65, 0x58, 0, 0][..], &[0x90, 0, 0x65, 0x58, 0, 0, 0, 0][..]] {
            let frame = ether(ETHERTYPE_IPV4, &ipv4(PROTO_GRE, gre_bytes));
            assert!(matches!(decode(&frame), Err(WireError::Truncated { layer: Layer::Gre, .. })), "{gre_bytes:?}");
        }
        // GRE version 1 (PPTP), source routing and unknown payload types are not unwrapped.
        let mut v1 = gre(0x20, ETHERTYPE_TRANSPARENT_ETHERNET, 1, &f.data);
        v1[1] = 1;
        let mut routing = gre(0, ETHERTYPE_TRANSPARENT_ETHERNET, 0, &f.data);
        routing[0] = 0x40;
        for gre_bytes in [v1, routing, gre(0, 0x8847, 0, &f.data)] {
            let packet = decode(&ether(ETHERTYPE_IPV4, &ipv4(PROTO_GRE, &gre_bytes))).unwrap();
            assert!(packet.tunnels.is_empty());
            let ip = packet.ip().unwrap();
            assert_eq!((ip.protocol, &ip.transport), (PROTO_GRE, &Transport::Other));
        }
        // A malformed inner frame makes the frame malformed.
        let frame = in_gretap(&f.data[..20], 0, 0);
        assert!(decode(&frame).is_err());
        // UDP to port 4789 whose header is not VXLAN's (other flag bits, a reserved byte
        // set, or an inner frame that does not decode) is plain UDP: e.g. a DNS answer to a
        // client that used 4789 as its source port.
        for (at, value) in [(0, 0x0e), (7, 1)] {
            let mut odd = in_vxlan(&f.data, 5);
            odd[14 + 20 + 8 + at] = value;
            let packet = decode(&odd).unwrap();
            assert!(packet.tunnels.is_empty(), "byte {at} = {value:#04x} is not VXLAN");
        }
        let mut short_inner = in_vxlan(&f.data[..20], 5);
        let udp_len = (short_inner.len() - 34) as u16;
        short_inner[38..40].copy_from_slice(&udp_len.to_be_bytes());
        let packet = decode(&short_inner).unwrap();
        assert!(packet.tunnels.is_empty() && packet.udp_datagram().is_some_and(|d| d.dst.port() == VXLAN_PORT));
        // UDP to port 4789 without the VXLAN I flag is plain UDP.
        let mut no_flag = in_vxlan(&f.data, 5);
        no_flag[14 + 20 + 8] = 0;
        let packet = decode(&no_flag).unwrap();
        assert!(packet.tunnels.is_empty() && packet.udp_datagram().is_some_and(|d| d.dst.port() == VXLAN_PORT));
        assert_ne!(packet, plain);
    }

    #[test]
    fn records_cut_by_the_snap_length_decode_their_whole_headers() {
        // Every UDP and ICMP packet of the lab captures, cut 3 bytes short, plain and in a
        // GRE and a VXLAN tunnel: flagged as cut, the headers decode the same, the payload
        // is the captured start; unflagged, the frame is malformed.
        let mut compared = 0;
        for name in ["lab_healthy.pcap", "formats/ethernet.pcap"] {
            for f in capture(name) {
                let Ok(whole) = decode(&f.data) else { continue };
                let Some(ip) = whole.ip().filter(|ip| ip.fragment.is_none()) else { continue };
                let payload_len = match &ip.transport {
                    Transport::Udp(udp) if udp.payload.len() >= 3 => udp.payload.len(),
                    Transport::Icmp(_) | Transport::Icmpv6(_) => 0,
                    _ => continue,
                };
                for (frame, tunnelled) in
                    [(f.data.clone(), false), (in_gretap(&f.data, 0x20, 3), true), (in_vxlan(&f.data, 9), true)]
                {
                    let cut = &frame[..frame.len() - 3];
                    assert!(decode(cut).is_err() || tunnelled, "{name}: unflagged, a cut frame is malformed");
                    let packet = decode_captured(LinkType::Ethernet, cut, true).unwrap();
                    let got = packet.ip().unwrap();
                    assert!(got.truncated && !ip.truncated);
                    assert_eq!((got.src, got.dst, got.protocol), (ip.src, ip.dst, ip.protocol));
                    assert_eq!(packet.tunnels.len(), usize::from(tunnelled));
                    match (&got.transport, &ip.transport) {
                        (Transport::Udp(a), Transport::Udp(b)) => {
                            assert_eq!((a.src_port, a.dst_port), (b.src_port, b.dst_port));
                            assert_eq!(a.payload, b.payload[..payload_len - 3]);
                        }
                        (Transport::Icmp(a), Transport::Icmp(b)) | (Transport::Icmpv6(a), Transport::Icmpv6(b)) => {
                            assert_eq!(a.message, b.message)
                        }
                        other => panic!("{name}: {other:?}"),
                    }
                    compared += 1;
                }
                // A record flagged as cut whose datagram is whole is not truncated.
                assert_eq!(decode_captured(LinkType::Ethernet, &f.data, true).unwrap(), whole);
            }
        }
        assert!(compared > 20, "{compared}");

        // A cut fragment cannot be completed: dropped, never joined with the wrong bytes.
        let frames = capture("fragments.pcap");
        let mut r = Reassembler::default();
        let first = &frames[0].data;
        let err = r.feed_captured(LinkType::Ethernet, &first[..first.len() - 8], true, frames[0].timestamp);
        assert!(matches!(err, Err(WireError::Fragment { reason: FragmentRejected::Cut, .. })), "{err:?}");
        assert_eq!((r.stats().dropped_fragments, r.in_flight()), (1, 0));
    }

    #[test]
    fn fragments_inside_and_outside_a_tunnel_reassemble() {
        // The lab's fragments, each in GRE: reassembled per tunnel.
        let frames = capture("fragments.pcap");
        let wrapped: Vec<Frame> =
            frames.iter().map(|f| Frame { data: in_gretap(&f.data, 0x20, 42), timestamp: f.timestamp }).collect();
        let (packets, r) = reassemble(&wrapped, ReassemblyLimits::default());
        check_reassembled(&packets);
        assert!(packets.iter().all(|p| p.tunnels == [tunnel(TunnelKind::Gre, Some(42))]));
        assert_eq!(r.stats().reassembled, 6);
        // The same datagram id in two tunnels (other keys) is two datagrams.
        let mut r = Reassembler::default();
        assert!(r.feed(&in_gretap(&frames[0].data, 0x20, 1), frames[0].timestamp).unwrap().is_none());
        assert!(r.feed(&in_gretap(&frames[0].data, 0x20, 2), frames[0].timestamp).unwrap().is_none());
        assert_eq!(r.in_flight(), 2);

        // A GRE packet fragmented outside, whose inner packet is itself a fragment (the lab
        // recording's 120-record DNS answer; captures/README.md).
        let frames = capture("tunnels/tunnel_gretap.pcap");
        let outer_fragments = frames.iter().filter(|f| decode(&f.data).unwrap().tunnels.is_empty()).count();
        assert!(outer_fragments >= 1);
        for order in [false, true] {
            let mut r = Reassembler::default();
            let mut big = None;
            let fed: Vec<&Frame> = if order { frames.iter().rev().collect() } else { frames.iter().collect() };
            for f in fed {
                if let Some(p) = r.feed(&f.data, f.timestamp).unwrap()
                    && let Some(d) = p.udp_datagram().filter(|d| d.payload.len() > 1500)
                {
                    assert_eq!(p.tunnels, [tunnel(TunnelKind::Gre, Some(42))]);
                    big = Some(d);
                }
            }
            let big = big.expect("the big answer, reassembled");
            assert_eq!(big.src, "198.19.1.1:53".parse().unwrap());
            assert_eq!((r.stats().reassembled, r.in_flight()), (2, 0), "one outer, one inner datagram");
        }
    }

    #[test]
    fn the_tunnel_captures_decode_to_their_inner_exchanges() {
        let inner_udp = |name: &str| -> Vec<(Packet, UdpDatagram)> {
            let mut r = Reassembler::default();
            capture(name)
                .iter()
                .filter_map(|f| r.feed(&f.data, f.timestamp).unwrap())
                .filter(|p| !p.tunnels.is_empty())
                .filter_map(|p| p.udp_datagram().map(|d| (p, d)))
                .collect()
        };
        let ports = |d: &[(Packet, UdpDatagram)]| -> Vec<u16> { d.iter().map(|(_, d)| d.dst.port()).collect() };
        let gretap = inner_udp("tunnels/tunnel_gretap.pcap");
        let dhcp = gretap.iter().filter(|(_, d)| [67, 68].contains(&d.dst.port())).count();
        let dns = gretap.iter().filter(|(_, d)| d.src.port() == 53 || d.dst.port() == 53).count();
        assert_eq!((dhcp, dns, gretap.len()), (4, 4, 8), "{:?}", ports(&gretap));
        let vxlan = inner_udp("tunnels/tunnel_vxlan.pcap");
        assert!(vxlan.iter().all(|(p, _)| p.tunnels == [tunnel(TunnelKind::Vxlan, Some(100))]));
        assert_eq!(vxlan.len(), 6, "DISCOVER, OFFER, REQUEST, ACK, a query and its answer");
        let gre = inner_udp("tunnels/tunnel_gre_ip.pcap");
        assert_eq!(gre.len(), 4);
        assert_eq!(gre.iter().filter(|(_, d)| d.src.is_ipv6()).count(), 2);
        assert!(gre.iter().all(|(p, _)| p.tunnels == [tunnel(TunnelKind::Gre, None)] && p.vlans.is_empty()));

        // tcpdump's VXLAN test capture (captures/README.md): echoes and ARP inside VNI 100.
        for f in capture("tunnels/tcpdump_vxlan.pcap") {
            let packet = decode(&f.data).unwrap();
            let t = &packet.tunnels[..];
            assert!(matches!(t, [Tunnel { kind: TunnelKind::Vxlan, id: Some(100), .. }]), "{t:?}");
            assert!(matches!(packet.net, Net::Arp(_)) || matches!(packet.ip().unwrap().transport, Transport::Icmp(_)));
        }

        // A trunk: every frame tagged, the VLAN the DHCP exchange ran on.
        for (name, vlans) in [("tunnels/trunk_vlans.pcap", [10, 20]), ("tunnels/trunk_vlan_two_servers.pcap", [10, 30])]
        {
            let frames = capture(name);
            let mut seen: Vec<u16> = frames.iter().map(|f| decode(&f.data).unwrap().vlans[0]).collect();
            seen.dedup();
            assert_eq!(seen, vlans, "{name}");
        }
    }

    #[test]
    fn truncated_and_mutated_tunnel_frames_never_panic() {
        let names = ["tunnel_gretap", "tunnel_gre_ip", "tunnel_vxlan", "trunk_vlans", "tcpdump_vxlan"];
        for name in names {
            let mut r = Reassembler::default();
            for f in capture(&format!("tunnels/{name}.pcap")) {
                for cut in 0..f.data.len() {
                    let _ = decode(&f.data[..cut]);
                    let _ = r.feed(&f.data[..cut], f.timestamp);
                }
                // Single-byte mutations of the outer and inner headers (the first 120 bytes).
                for i in 0..f.data.len().min(120) {
                    for m in [|b: u8| !b, |b: u8| b ^ 0x01, |_| 0xff] {
                        let mut bad = f.data.clone();
                        bad[i] = m(bad[i]);
                        if let Ok(packet) = decode(&bad) {
                            assert!(packet.tunnels.len() <= MAX_TUNNEL_DEPTH);
                        }
                        let _ = r.feed(&bad, f.timestamp);
                    }
                }
            }
            assert!(r.in_flight() <= ReassemblyLimits::default().max_in_flight);
        }
    }

    /// The neighbour discovery of `captures/ipv6_dad_failed.pcap` and
    /// `ipv6_two_routers.pcap` (the kernel's and radvd's bytes) decodes to its typed
    /// messages: the DAD probe's target, the advertisement's flags and target link-layer
    /// address, and the whole RA for the ipv6 check's parser; a cut one is `Other`.
    #[test]
    fn neighbour_discovery_decodes_to_its_messages() {
        let icmp6 = |f: &Frame| match decode(&f.data).unwrap().net {
            Net::Ip(Ip { src, hop_limit, transport: Transport::Icmpv6(icmp), .. }) => (src, hop_limit, icmp.message),
            other => panic!("{other:?}"),
        };
        let dad = capture("ipv6_dad_failed.pcap");
        let tentative: Ipv6Addr = "2001:2:0:1::77".parse().unwrap();
        assert_eq!(
            icmp6(&dad[0]),
            (IpAddr::V6(Ipv6Addr::UNSPECIFIED), 255, IcmpMessage::NeighborSolicitation { target: tentative })
        );
        let (_, _, answer) = icmp6(&dad[1]);
        let IcmpMessage::NeighborAdvertisement { target, router: false, solicited: false, target_mac: Some(mac) } =
            answer
        else {
            panic!("{answer:?}")
        };
        assert_eq!((target, Some(mac)), (tentative, Some(decode(&dad[1].data).unwrap().src_mac)));

        let routers = capture("ipv6_two_routers.pcap");
        let messages: Vec<(IpAddr, u8, IcmpMessage)> = routers.iter().map(icmp6).collect();
        let ras: Vec<&Vec<u8>> = messages
            .iter()
            .filter_map(|(_, _, m)| match m {
                IcmpMessage::RouterAdvertisement { message } => Some(message),
                _ => None,
            })
            .collect();
        assert_eq!(ras.len(), 4);
        assert!(ras.iter().all(|m| m[0] == 134 && m.len() >= 16));
        assert!(messages.iter().any(|(_, hop, m)| *hop == 255 && *m == IcmpMessage::RouterSolicitation));
        assert!(
            messages
                .iter()
                .any(|(_, _, m)| matches!(m, IcmpMessage::NeighborAdvertisement { router: true, solicited: true, .. }))
        );
        // An advertisement cut inside its target address has no fixed part: `Other`.
        let na = dad[1].data.clone();
        let ip_len = na.len() - ETHERNET_HEADER_LEN;
        let mut cut = na[..na.len() - (ip_len - 40 - 20)].to_vec();
        cut[ETHERNET_HEADER_LEN + 4..ETHERNET_HEADER_LEN + 6].copy_from_slice(&20u16.to_be_bytes());
        assert_eq!(icmp6(&Frame { timestamp: dad[1].timestamp, data: cut }).2, IcmpMessage::Other);
    }
}

#[cfg(test)]
mod link_tests {
    //! The link headers of [`LinkType`], built around the lab's real Ethernet frames: each
    //! decodes to the same network layer as the Ethernet original.
    use super::*;

    fn frames() -> Vec<Vec<u8>> {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/captures/lab_healthy.pcap");
        crate::pcap::read_file(path).unwrap().into_iter().map(|f| f.data).collect()
    }

    /// The frame's EtherType and what follows it.
    fn split(frame: &[u8]) -> (u16, &[u8]) {
        (be16(frame, 12).unwrap(), &frame[ETHERNET_HEADER_LEN..])
    }

    fn sll(frame: &[u8]) -> Vec<u8> {
        let (ether_type, rest) = split(frame);
        let mut out = vec![0, 4, 0, 1, 0, 6];
        out.extend_from_slice(&frame[6..12]);
        out.extend_from_slice(&[0, 0]);
        out.extend_from_slice(&ether_type.to_be_bytes());
        out.extend_from_slice(rest);
        out
    }

    fn sll2(frame: &[u8]) -> Vec<u8> {
        let (ether_type, rest) = split(frame);
        let mut out = ether_type.to_be_bytes().to_vec();
        out.extend_from_slice(&[0, 0, 0, 0, 0, 2, 0, 1, 0, 6]);
        out.extend_from_slice(&frame[6..12]);
        out.extend_from_slice(&[0, 0]);
        out.extend_from_slice(rest);
        out
    }

    fn wifi(frame: &[u8], radiotap: bool) -> Vec<u8> {
        let (ether_type, rest) = split(frame);
        let mut out = if radiotap { vec![0, 0, 8, 0, 0, 0, 0, 0] } else { vec![] };
        // Data frame from the distribution system: addr1 = DA, addr2 = BSSID, addr3 = SA.
        out.extend_from_slice(&[0x08, 0x02, 0, 0]);
        out.extend_from_slice(&frame[0..6]);
        out.extend_from_slice(&[2, 0, 0, 0, 0, 1]);
        out.extend_from_slice(&frame[6..12]);
        out.extend_from_slice(&[0, 0]);
        out.extend_from_slice(&[0xaa, 0xaa, 0x03, 0, 0, 0]);
        out.extend_from_slice(&ether_type.to_be_bytes());
        out.extend_from_slice(rest);
        out
    }

    #[test]
    fn every_link_type_decodes_like_ethernet() {
        for frame in frames() {
            let want = decode(&frame).unwrap();
            let (ether_type, rest) = split(&frame);
            for (link, bytes) in [
                (LinkType::LinuxSll, sll(&frame)),
                (LinkType::LinuxSll2, sll2(&frame)),
                (LinkType::Ieee80211, wifi(&frame, false)),
                (LinkType::Radiotap, wifi(&frame, true)),
            ] {
                let got = decode_link(link, &bytes).unwrap_or_else(|e| panic!("{link}: {e}"));
                assert_eq!(got.net, want.net, "{link}");
                assert_eq!(got.src_mac, want.src_mac, "{link}");
            }
            if ether_type == ETHERTYPE_IPV4 || ether_type == ETHERTYPE_IPV6 {
                let family: u32 = if ether_type == ETHERTYPE_IPV4 { 2 } else { 10 };
                let mut null = family.to_le_bytes().to_vec();
                null.extend_from_slice(rest);
                let mut lo = family.to_be_bytes().to_vec();
                lo.extend_from_slice(rest);
                let ip = if ether_type == ETHERTYPE_IPV4 { LinkType::Ipv4 } else { LinkType::Ipv6 };
                for (link, bytes) in
                    [(LinkType::Raw, rest), (ip, rest), (LinkType::Null, &null[..]), (LinkType::Loop, &lo[..])]
                {
                    assert_eq!(decode_link(link, bytes).unwrap().net, want.net, "{link}");
                }
            }
        }
    }

    #[test]
    fn link_types_round_trip_their_numbers_and_cut_frames_are_errors() {
        for link in LinkType::ALL {
            assert_eq!(LinkType::from_number(link.number()), Some(link));
            for cut in [&[][..], &[0x45][..], &[0, 0, 0x20, 0, 0][..]] {
                let _ = decode_link(link, cut);
            }
        }
        assert_eq!(LinkType::from_number(147), None);
        let frame = &frames()[0];
        for cut in 0..frame.len() {
            for link in LinkType::ALL {
                let _ = decode_link(link, &frame[..cut]);
            }
        }
    }

    #[test]
    fn protected_and_management_wifi_frames_carry_no_network_layer() {
        let frame = &frames()[0];
        let mut protected = wifi(frame, false);
        protected[1] |= 0x40;
        assert!(matches!(decode_link(LinkType::Ieee80211, &protected).unwrap().net, Net::Other { .. }));
        let mut beacon = wifi(frame, false);
        beacon[0] = 0x80;
        assert!(matches!(decode_link(LinkType::Ieee80211, &beacon).unwrap().net, Net::Other { .. }));
    }

    #[test]
    fn the_reassembler_takes_other_link_types() {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/captures/fragments.pcap");
        let frames = crate::pcap::read_file(path).unwrap();
        let (mut eth, mut cooked) = (Reassembler::default(), Reassembler::default());
        let (mut a, mut b) = (0, 0);
        for f in &frames {
            a += usize::from(matches!(eth.feed(&f.data, f.timestamp), Ok(Some(_))));
            b += usize::from(matches!(cooked.feed_link(LinkType::LinuxSll2, &sll2(&f.data), f.timestamp), Ok(Some(_))));
        }
        assert!(a > 0);
        assert_eq!(a, b);
        assert_eq!(eth.stats(), cooked.stats());
    }
}
