//! DHCPv4 over a packet socket: DISCOVER (and, for the technician's full exchange,
//! REQUEST and RELEASE) built with dhcproto, and replies parsed from raw Ethernet frames.
//!
//! Frames are built and parsed by pure functions (`build_*`, `parse_reply`), tested on
//! captures of the lab's dnsmasq and fuzzed. Replies come from the network and are
//! untrusted: anything that is not a well-formed BOOTREPLY for our transaction and hardware
//! address is ignored, and every collection is bounded in count and time. The socket half
//! (`Channel`) is blocking; callers run it on a blocking thread.

use std::net::Ipv4Addr;
use std::time::{Duration, Instant};

use dhcproto::v4::{self, Decodable, Decoder, DhcpOption, Encodable, Encoder, Flags, MessageType, Opcode, OptionCode};
use pnet::datalink::{self, Channel as PnetChannel, Config as ChannelConfig, DataLinkReceiver, DataLinkSender};
use pnet::packet::ethernet::{EtherTypes, EthernetPacket, MutableEthernetPacket};
use pnet::packet::ip::IpNextHeaderProtocols;
use pnet::packet::ipv4::{self, MutableIpv4Packet};
use pnet::packet::udp::{self, MutableUdpPacket};
use pnet::util::MacAddr as PnetMac;
use serde::Serialize;

use crate::pcap::udp_datagram;
use crate::types::MacAddr;

/// The most replies one collection keeps; a flood beyond this is counted, not stored.
pub const MAX_REPLIES: usize = 64;

const CLIENT_PORT: u16 = 68;
/// RFC 2131 section 3: the options field starts with 99.130.83.99. dhcproto does not check
/// it, so junk would otherwise decode as a message.
const MAGIC_COOKIE: [u8; 4] = [99, 130, 83, 99];
const SERVER_PORT: u16 = 67;

/// Why the probe could not be attempted.
#[derive(Debug, thiserror::Error)]
pub enum DhcpError {
    /// Opening the packet socket was not permitted.
    #[error("opening a packet socket on {0} needs CAP_NET_RAW")]
    NoPrivilege(String),
    /// The interface is not visible to pnet or is not Ethernet.
    #[error("interface {0} cannot carry DHCP over Ethernet")]
    NoInterface(String),
    /// Any other socket error.
    #[error("packet socket on {interface}: {source}")]
    Io {
        /// The interface.
        interface: String,
        /// The error.
        source: std::io::Error,
    },
}

/// A DHCP reply (OFFER, ACK or NAK) as seen on the wire.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DhcpReply {
    /// `offer`, `ack` or `nak`.
    pub kind: &'static str,
    /// Server identifier (option 54), else the IP source address.
    pub server: Ipv4Addr,
    /// Ethernet source of the reply: the server, or the relay that forwarded it.
    pub server_mac: MacAddr,
    /// The address offered or acknowledged (yiaddr).
    pub address: Ipv4Addr,
    /// Option 1.
    pub subnet_mask: Option<Ipv4Addr>,
    /// Option 3.
    pub routers: Vec<Ipv4Addr>,
    /// Option 6.
    pub dns: Vec<Ipv4Addr>,
    /// Option 15.
    pub domain: Option<String>,
    /// Option 51, seconds.
    pub lease_time_s: Option<u32>,
    /// Option 58 (T1), seconds.
    pub renew_s: Option<u32>,
    /// Option 59 (T2), seconds.
    pub rebind_s: Option<u32>,
    /// giaddr, when a relay agent forwarded the exchange.
    pub relay: Option<Ipv4Addr>,
    /// Whether option 82 (relay agent information) was present (set by `parse_reply`).
    pub relay_agent_info: bool,
    /// Option 56: the server's message, usually with a NAK.
    pub message: Option<String>,
    /// Time from our request to this reply, in ms (filled in by the collector).
    pub ms: f64,
}

/// Who the probe pretends to be: the interface's own MAC (passes DHCP snooping) or, for
/// the full exchange, a separate, clearly marked identity.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProbeIdentity {
    /// The chaddr and Ethernet source.
    pub mac: MacAddr,
    /// Option 61, when set.
    pub client_id: Option<Vec<u8>>,
}

fn base_message(xid: u32, who: &ProbeIdentity, kind: MessageType) -> v4::Message {
    let mut msg = v4::Message::new_with_id(
        xid,
        Ipv4Addr::UNSPECIFIED,
        Ipv4Addr::UNSPECIFIED,
        Ipv4Addr::UNSPECIFIED,
        Ipv4Addr::UNSPECIFIED,
        &who.mac.0,
    );
    msg.set_flags(Flags::default().set_broadcast());
    let opts = msg.opts_mut();
    opts.insert(DhcpOption::MessageType(kind));
    if let Some(id) = &who.client_id {
        opts.insert(DhcpOption::ClientIdentifier(id.clone()));
    }
    msg
}

fn with_parameter_request(mut msg: v4::Message) -> v4::Message {
    msg.opts_mut().insert(DhcpOption::ParameterRequestList(vec![
        OptionCode::SubnetMask,
        OptionCode::Router,
        OptionCode::DomainNameServer,
        OptionCode::DomainName,
        OptionCode::AddressLeaseTime,
        OptionCode::Renewal,
        OptionCode::Rebinding,
    ]));
    msg.opts_mut().insert(DhcpOption::MaxMessageSize(1500));
    msg
}

/// A broadcast DHCPDISCOVER frame from `who` with transaction `xid` (broadcast flag set).
pub fn build_discover(xid: u32, who: &ProbeIdentity) -> Vec<u8> {
    let msg = with_parameter_request(base_message(xid, who, MessageType::Discover));
    frame(who.mac, PnetMac::broadcast(), Ipv4Addr::UNSPECIFIED, Ipv4Addr::BROADCAST, &msg)
}

/// A broadcast DHCPREQUEST for `address`: in SELECTING state when answering `server`'s
/// offer, in INIT-REBOOT state (no server identifier, RFC 2131 section 4.3.2) without one.
pub fn build_request(xid: u32, who: &ProbeIdentity, server: Option<Ipv4Addr>, address: Ipv4Addr) -> Vec<u8> {
    let mut msg = with_parameter_request(base_message(xid, who, MessageType::Request));
    if let Some(server) = server {
        msg.opts_mut().insert(DhcpOption::ServerIdentifier(server));
    }
    msg.opts_mut().insert(DhcpOption::RequestedIpAddress(address));
    frame(who.mac, PnetMac::broadcast(), Ipv4Addr::UNSPECIFIED, Ipv4Addr::BROADCAST, &msg)
}

/// A DHCPRELEASE of `address` to `server` (unicast, as RFC 2131 section 4.4.6 says).
pub fn build_release(
    xid: u32,
    who: &ProbeIdentity,
    server: Ipv4Addr,
    server_mac: MacAddr,
    address: Ipv4Addr,
) -> Vec<u8> {
    let mut msg = base_message(xid, who, MessageType::Release);
    msg.set_flags(Flags::default());
    msg.set_ciaddr(address);
    msg.opts_mut().insert(DhcpOption::ServerIdentifier(server));
    frame(who.mac, PnetMac::from(server_mac.0), address, server, &msg)
}

fn frame(src_mac: MacAddr, dst_mac: PnetMac, src: Ipv4Addr, dst: Ipv4Addr, msg: &v4::Message) -> Vec<u8> {
    let mut payload = Vec::with_capacity(300);
    msg.encode(&mut Encoder::new(&mut payload)).expect("encoding into a Vec cannot fail");
    let udp_len = 8 + payload.len();
    let ip_len = 20 + udp_len;
    let mut buf = vec![0u8; 14 + ip_len];
    {
        let mut eth = MutableEthernetPacket::new(&mut buf).expect("buffer sized for the frame");
        eth.set_destination(dst_mac);
        eth.set_source(PnetMac::from(src_mac.0));
        eth.set_ethertype(EtherTypes::Ipv4);
    }
    {
        let mut udp = MutableUdpPacket::new(&mut buf[34..]).expect("buffer sized for the frame");
        udp.set_source(CLIENT_PORT);
        udp.set_destination(SERVER_PORT);
        udp.set_length(udp_len as u16);
        udp.set_payload(&payload);
        let checksum = udp::ipv4_checksum(&udp.to_immutable(), &src, &dst);
        udp.set_checksum(checksum);
    }
    let mut ip = MutableIpv4Packet::new(&mut buf[14..]).expect("buffer sized for the frame");
    ip.set_version(4);
    ip.set_header_length(5);
    ip.set_total_length(ip_len as u16);
    ip.set_ttl(64);
    ip.set_next_level_protocol(IpNextHeaderProtocols::Udp);
    ip.set_source(src);
    ip.set_destination(dst);
    let checksum = ipv4::checksum(&ip.to_immutable());
    ip.set_checksum(checksum);
    buf
}

/// If `frame` is a DHCP reply (OFFER, ACK or NAK) for transaction `xid` and hardware
/// address `chaddr`, its contents (pure; `ms` is left at 0).
pub fn parse_reply(frame: &[u8], xid: u32, chaddr: MacAddr) -> Option<DhcpReply> {
    let eth = EthernetPacket::new(frame)?;
    let dgram = udp_datagram(frame)?;
    if dgram.src.port() != SERVER_PORT || dgram.dst.port() != CLIENT_PORT {
        return None;
    }
    let (msg, relay_agent_info) = decode(&dgram.payload)?;
    if msg.opcode() != Opcode::BootReply || msg.xid() != xid || msg.chaddr().get(..6) != Some(&chaddr.0[..]) {
        return None;
    }
    let src_ip = match dgram.src.ip() {
        std::net::IpAddr::V4(ip) => ip,
        std::net::IpAddr::V6(_) => return None,
    };
    let mut reply = reply_from(&msg, src_ip, MacAddr(eth.get_source().octets()))?;
    reply.relay_agent_info = relay_agent_info;
    Some(reply)
}

/// Decodes a DHCP message (request or reply) from a UDP payload or lease file; `None` for
/// anything malformed (pure).
pub fn decode_message(payload: &[u8]) -> Option<v4::Message> {
    decode(payload).map(|(msg, _)| msg)
}

/// Length of the fixed BOOTP header, before the magic cookie and the options.
const BOOTP_HEADER_LEN: usize = 236;

/// The options nettriage reads, with the length each must have. dhcproto 0.15 stops at the
/// first option it cannot decode, and its debug builds assert on the length of some others
/// (Rapid Commit, Client FQDN, ...), so a crafted packet could panic it: every message is
/// first rebuilt with only these options, each joined (RFC 3396) and length-checked.
fn option_is_valid(code: u8, data: &[u8]) -> bool {
    match code {
        // subnet mask, requested address, lease time, server id, T1, T2
        1 | 50 | 51 | 54 | 58 | 59 => data.len() == 4,
        // routers, DNS servers
        3 | 6 => !data.is_empty() && data.len() % 4 == 0,
        // host name, domain name, message
        12 | 15 | 56 => !data.is_empty() && std::str::from_utf8(data).is_ok(),
        // message type
        53 => data.len() == 1,
        // parameter request list
        55 => !data.is_empty(),
        // maximum message size
        57 => data.len() == 2,
        // client identifier (RFC 2132: at least 2 bytes)
        61 => data.len() >= 2,
        _ => false,
    }
}

/// Option 82, relay agent information: only its presence is reported.
const RELAY_AGENT_INFO: u8 = 82;

/// Decodes after rebuilding the message with only valid, wanted options; also says whether
/// option 82 was present.
fn decode(bytes: &[u8]) -> Option<(v4::Message, bool)> {
    if bytes.len() > 64 * 1024 {
        return None;
    }
    let header = bytes.get(..BOOTP_HEADER_LEN)?;
    if bytes.get(BOOTP_HEADER_LEN..BOOTP_HEADER_LEN + 4)? != MAGIC_COOKIE {
        return None;
    }
    let options = bytes.get(BOOTP_HEADER_LEN + 4..).unwrap_or_default();
    let mut found: Vec<(u8, Vec<u8>)> = Vec::new();
    let mut relay_agent_info = false;
    let mut i = 0usize;
    while let Some(&code) = options.get(i) {
        match code {
            0 => i += 1,
            255 => break,
            _ => {
                let Some(&len) = options.get(i + 1) else { break };
                let end = i + 2 + usize::from(len);
                let Some(data) = options.get(i + 2..end) else { break };
                relay_agent_info |= code == RELAY_AGENT_INFO;
                match found.iter_mut().find(|(c, _)| *c == code) {
                    Some((_, acc)) => acc.extend_from_slice(data),
                    None => found.push((code, data.to_vec())),
                }
                i = end;
            }
        }
    }
    let mut clean = Vec::with_capacity(BOOTP_HEADER_LEN + 4 + 128);
    clean.extend_from_slice(header);
    clean.extend_from_slice(&MAGIC_COOKIE);
    for (code, data) in found.iter().filter(|(code, data)| option_is_valid(*code, data)) {
        // Long values are split again into consecutive options, which dhcproto joins.
        for chunk in data.chunks(255) {
            clean.push(*code);
            clean.push(u8::try_from(chunk.len()).ok()?);
            clean.extend_from_slice(chunk);
        }
    }
    clean.push(255);
    let msg = v4::Message::decode(&mut Decoder::new(&clean)).ok()?;
    Some((msg, relay_agent_info))
}

/// The reply fields of a decoded DHCP message (pure).
pub fn reply_from(msg: &v4::Message, src_ip: Ipv4Addr, src_mac: MacAddr) -> Option<DhcpReply> {
    let opts = msg.opts();
    let kind = match opts.msg_type()? {
        MessageType::Offer => "offer",
        MessageType::Ack => "ack",
        MessageType::Nak => "nak",
        _ => return None,
    };
    let mut reply = DhcpReply {
        kind,
        server: src_ip,
        server_mac: src_mac,
        address: msg.yiaddr(),
        subnet_mask: None,
        routers: vec![],
        dns: vec![],
        domain: None,
        lease_time_s: None,
        renew_s: None,
        rebind_s: None,
        relay: Some(msg.giaddr()).filter(|g| !g.is_unspecified()),
        relay_agent_info: false,
        message: None,
        ms: 0.0,
    };
    for (_, opt) in opts.iter() {
        match opt {
            DhcpOption::ServerIdentifier(ip) => reply.server = *ip,
            DhcpOption::SubnetMask(ip) => reply.subnet_mask = Some(*ip),
            DhcpOption::Router(ips) => reply.routers = ips.iter().take(16).copied().collect(),
            DhcpOption::DomainNameServer(ips) => reply.dns = ips.iter().take(16).copied().collect(),
            DhcpOption::DomainName(d) => reply.domain = Some(d.chars().take(255).collect()),
            DhcpOption::AddressLeaseTime(t) => reply.lease_time_s = Some(*t),
            DhcpOption::Renewal(t) => reply.renew_s = Some(*t),
            DhcpOption::Rebinding(t) => reply.rebind_s = Some(*t),
            DhcpOption::Message(m) => reply.message = Some(m.chars().take(255).collect()),
            _ => {}
        }
    }
    Some(reply)
}

/// The replies of one collection, bounded.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Collected {
    /// Replies in arrival order, at most [`MAX_REPLIES`].
    pub replies: Vec<DhcpReply>,
    /// Replies beyond [`MAX_REPLIES`] that were counted but not kept.
    pub dropped: u32,
}

/// An open packet socket on one interface.
pub struct Channel {
    interface: String,
    tx: Box<dyn DataLinkSender>,
    rx: Box<dyn DataLinkReceiver>,
}

impl Channel {
    /// Opens a packet socket on `interface`.
    pub fn open(interface: &str) -> Result<Channel, DhcpError> {
        let iface = datalink::interfaces()
            .into_iter()
            .find(|i| i.name == interface)
            .ok_or_else(|| DhcpError::NoInterface(interface.to_string()))?;
        let config = ChannelConfig {
            read_timeout: Some(Duration::from_millis(20)),
            promiscuous: false,
            ..ChannelConfig::default()
        };
        match datalink::channel(&iface, config) {
            Ok(PnetChannel::Ethernet(tx, rx)) => Ok(Channel { interface: interface.to_string(), tx, rx }),
            Ok(_) => Err(DhcpError::NoInterface(interface.to_string())),
            Err(e) if e.kind() == std::io::ErrorKind::PermissionDenied => {
                Err(DhcpError::NoPrivilege(interface.to_string()))
            }
            Err(source) => Err(DhcpError::Io { interface: interface.to_string(), source }),
        }
    }

    /// Sends one frame.
    pub fn send(&mut self, frame: &[u8]) -> Result<(), DhcpError> {
        match self.tx.send_to(frame, None) {
            Some(Err(source)) => Err(DhcpError::Io { interface: self.interface.clone(), source }),
            _ => Ok(()),
        }
    }

    /// Sends `frame`, then collects replies for transaction `xid` to `chaddr` until
    /// `settle` has passed since the first matching reply, or `cap` since sending, or
    /// `stop_at_first` is true and one arrived. Returns what came, bounded.
    pub fn exchange(
        &mut self,
        frame: &[u8],
        xid: u32,
        chaddr: MacAddr,
        settle: Duration,
        cap: Duration,
        stop_at_first: bool,
    ) -> Result<Collected, DhcpError> {
        self.send(frame)?;
        let start = Instant::now();
        let mut out = Collected::default();
        let mut first: Option<Instant> = None;
        loop {
            let now = Instant::now();
            let until = first.map_or(start + cap, |f| (f + settle).min(start + cap));
            if now >= until || (stop_at_first && first.is_some()) {
                return Ok(out);
            }
            match self.rx.next() {
                Ok(bytes) => {
                    if let Some(mut reply) = parse_reply(bytes, xid, chaddr) {
                        first.get_or_insert_with(Instant::now);
                        if out.replies.len() < MAX_REPLIES {
                            reply.ms = crate::check::millis(start.elapsed());
                            out.replies.push(reply);
                        } else {
                            out.dropped = out.dropped.saturating_add(1);
                        }
                    }
                }
                Err(e)
                    if matches!(
                        e.kind(),
                        std::io::ErrorKind::TimedOut | std::io::ErrorKind::WouldBlock | std::io::ErrorKind::Interrupted
                    ) => {}
                Err(source) => return Err(DhcpError::Io { interface: self.interface.clone(), source }),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use pnet::packet::ipv4::Ipv4Packet;

    const ME: MacAddr = MacAddr([0x02, 0x00, 0x00, 0x00, 0x00, 0x10]);

    fn me() -> ProbeIdentity {
        ProbeIdentity { mac: ME, client_id: None }
    }

    #[test]
    fn discover_is_a_valid_broadcast_bootrequest() {
        let frame = build_discover(0xdead_beef, &me());
        let d = udp_datagram(&frame).unwrap();
        assert_eq!((d.src.port(), d.dst.port()), (68, 67));
        assert_eq!(d.dst.ip().to_string(), "255.255.255.255");
        let msg = decode_message(&d.payload).unwrap();
        assert_eq!(msg.opcode(), Opcode::BootRequest);
        assert_eq!(msg.xid(), 0xdead_beef);
        assert!(msg.flags().broadcast());
        assert_eq!(&msg.chaddr()[..6], &ME.0);
        assert_eq!(msg.opts().msg_type(), Some(MessageType::Discover));
        let ip = Ipv4Packet::new(&frame[14..]).unwrap();
        assert_eq!(ip.get_checksum(), ipv4::checksum(&ip));
        // A request is never mistaken for a reply.
        assert!(parse_reply(&frame, 0xdead_beef, ME).is_none());
    }

    #[test]
    fn request_and_release_carry_server_and_address() {
        let server = Ipv4Addr::new(198, 18, 0, 1);
        let addr = Ipv4Addr::new(198, 18, 0, 150);
        let who = ProbeIdentity { mac: ME, client_id: Some(b"nettriage-probe".to_vec()) };
        let req = decode_message(&udp_datagram(&build_request(7, &who, Some(server), addr)).unwrap().payload).unwrap();
        assert_eq!(req.opts().msg_type(), Some(MessageType::Request));
        assert_eq!(req.opts().get(OptionCode::ServerIdentifier), Some(&DhcpOption::ServerIdentifier(server)));
        assert_eq!(req.opts().get(OptionCode::RequestedIpAddress), Some(&DhcpOption::RequestedIpAddress(addr)));
        assert!(req.opts().contains(OptionCode::ClientIdentifier));
        let reboot = build_request(9, &who, None, addr);
        let reboot = decode_message(&udp_datagram(&reboot).unwrap().payload).unwrap();
        assert!(!reboot.opts().contains(OptionCode::ServerIdentifier));
        let rel_frame = build_release(8, &who, server, MacAddr([2, 0, 0, 0, 0, 1]), addr);
        let rel = udp_datagram(&rel_frame).unwrap();
        assert_eq!((rel.src.ip().to_string(), rel.dst.ip().to_string()), (addr.to_string(), server.to_string()));
        let msg = decode_message(&rel.payload).unwrap();
        assert_eq!((msg.opts().msg_type(), msg.ciaddr()), (Some(MessageType::Release), addr));
    }

    #[test]
    fn junk_is_ignored() {
        assert!(decode_message(&[]).is_none());
        assert!(decode_message(&[0u8; 239]).is_none());
        assert!(decode_message(&[0xffu8; 600]).is_none());
        let frame = build_discover(1, &me());
        for cut in 0..frame.len() {
            assert!(parse_reply(&frame[..cut], 1, ME).is_none());
        }
    }
}
