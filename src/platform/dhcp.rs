//! DHCPv4 over a packet socket: DISCOVER (and, for the technician's full exchange,
//! REQUEST and RELEASE) built with dhcproto, and replies parsed from raw Ethernet frames.
//!
//! Frames are built and parsed by pure functions (`build_*`, `parse_reply`), tested on
//! captures of the lab's dnsmasq and fuzzed. Replies come from the network and are
//! untrusted: anything that is not a well-formed BOOTREPLY for our transaction and hardware
//! address is ignored, and every collection is bounded in count and time. The socket half
//! (`Channel`) is blocking; callers run it on a blocking thread.
//!
//! [`DhcpOptions`] is the one type for the options nettriage reads (mask, routers, DNS
//! servers, domain, lease times, the WPAD URL of option 252), with one set of limits ([`MAX_ROUTERS`], [`MAX_DNS`],
//! [`MAX_TEXT_CHARS`]): a reply here, a lease in [`crate::platform::lease`] and the
//! interface's current configuration in `check::dhcp` all hold it.

use std::net::Ipv4Addr;
use std::time::{Duration, Instant};

use dhcproto::v4::{self, Decodable, Decoder, DhcpOption, Encodable, Encoder, Flags, MessageType, Opcode, OptionCode};
use pnet::datalink::{DataLinkReceiver, DataLinkSender};
use pnet::packet::ethernet::{EtherTypes, MutableEthernetPacket};
use pnet::packet::ip::IpNextHeaderProtocols;
use pnet::packet::ipv4::{self, MutableIpv4Packet};
use pnet::packet::udp::{self, MutableUdpPacket};
use pnet::util::MacAddr as PnetMac;
use serde::{Deserialize, Serialize};

use crate::platform::packet::{self, PacketError};
use crate::types::MacAddr;
use crate::wire;

/// The most replies one collection keeps; a flood beyond this is counted, not stored.
pub const MAX_REPLIES: usize = 64;

const CLIENT_PORT: u16 = 68;
/// RFC 2131 section 3: the options field starts with 99.130.83.99. dhcproto does not check
/// it, so junk would otherwise decode as a message.
const MAGIC_COOKIE: [u8; 4] = [99, 130, 83, 99];
const SERVER_PORT: u16 = 67;

/// Most routers (option 3) kept, from a reply, a lease file or the routing table.
pub const MAX_ROUTERS: usize = 16;
/// Most DNS servers (option 6) kept, from a reply, a lease file or resolv.conf.
pub const MAX_DNS: usize = 16;
/// Most characters kept of a text option (domain name, server message, WPAD URL).
pub const MAX_TEXT_CHARS: usize = 255;

/// The DHCP options nettriage reads, as a server sent them, a client stored them, or the
/// interface uses them now. Every collection is bounded by the limits above: set them
/// through [`DhcpOptions::set_routers`], [`DhcpOptions::set_dns`] and
/// [`DhcpOptions::set_domain`]. Serialised flattened into its holder, so the report's field
/// names are the options' own (`subnet_mask`, `routers`, ...).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct DhcpOptions {
    /// Option 1.
    pub subnet_mask: Option<Ipv4Addr>,
    /// Option 3, in the server's order of preference (at most [`MAX_ROUTERS`]).
    #[serde(default)]
    pub routers: Vec<Ipv4Addr>,
    /// Option 6 (at most [`MAX_DNS`]).
    #[serde(default)]
    pub dns: Vec<Ipv4Addr>,
    /// Option 15 (at most [`MAX_TEXT_CHARS`] characters).
    pub domain: Option<String>,
    /// Option 51, seconds; `u32::MAX` is an infinite lease.
    pub lease_time_s: Option<u32>,
    /// Option 58 (T1), seconds.
    pub renew_s: Option<u32>,
    /// Option 59 (T2), seconds.
    pub rebind_s: Option<u32>,
    /// Option 252, WPAD (draft-ietf-wrec-wpad-01 section 4.4.1): the URL of the network's
    /// proxy auto-config file, as the server sent it (see [`DhcpOptions::set_wpad`]). The web
    /// check uses it before `wpad.<domain>`. Left out of the JSON when absent (reports of
    /// earlier versions never have it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub wpad: Option<String>,
}

impl DhcpOptions {
    /// The options of a decoded DHCP message (pure).
    pub fn from_message(msg: &v4::Message) -> DhcpOptions {
        let mut options = DhcpOptions::default();
        for (_, opt) in msg.opts().iter() {
            match opt {
                DhcpOption::SubnetMask(ip) => options.subnet_mask = Some(*ip),
                DhcpOption::Router(ips) => options.set_routers(ips.iter().copied()),
                DhcpOption::DomainNameServer(ips) => options.set_dns(ips.iter().copied()),
                DhcpOption::DomainName(d) => options.set_domain(d),
                DhcpOption::AddressLeaseTime(t) => options.lease_time_s = Some(*t),
                DhcpOption::Renewal(t) => options.renew_s = Some(*t),
                DhcpOption::Rebinding(t) => options.rebind_s = Some(*t),
                DhcpOption::Unknown(u) if u8::from(u.code()) == WPAD => {
                    options.set_wpad(&String::from_utf8_lossy(u.data()));
                }
                _ => {}
            }
        }
        options
    }

    /// Sets the routers, keeping at most [`MAX_ROUTERS`].
    pub fn set_routers(&mut self, routers: impl IntoIterator<Item = Ipv4Addr>) {
        self.routers = routers.into_iter().take(MAX_ROUTERS).collect();
    }

    /// Sets the DNS servers, keeping at most [`MAX_DNS`].
    pub fn set_dns(&mut self, dns: impl IntoIterator<Item = Ipv4Addr>) {
        self.dns = dns.into_iter().take(MAX_DNS).collect();
    }

    /// Sets the domain: trailing NULs (some servers send C strings) and surrounding
    /// whitespace dropped, at most [`MAX_TEXT_CHARS`] characters, `None` when empty.
    pub fn set_domain(&mut self, domain: &str) {
        self.domain = bounded_text(domain.trim_end_matches('\0'));
    }

    /// Sets the WPAD URL (option 252): trailing NULs (servers often send a C string, as the
    /// draft's own example does) and surrounding whitespace dropped, every control
    /// character replaced by U+FFFD so nothing the server sent can break a log line or a
    /// table, at most [`MAX_TEXT_CHARS`] characters, `None` when empty. Whether it is a
    /// usable URL is the web check's question (`platform::proxy::dhcp_pac_url`).
    pub fn set_wpad(&mut self, url: &str) {
        let clean: String =
            url.trim_end_matches('\0').chars().map(|c| if c.is_control() { '\u{fffd}' } else { c }).collect();
        self.wpad = bounded_text(&clean);
    }

    /// Whether no option is set.
    pub fn is_empty(&self) -> bool {
        *self == DhcpOptions::default()
    }
}

/// Text from the network or a file, trimmed and cut to [`MAX_TEXT_CHARS`] characters;
/// `None` when nothing is left.
pub fn bounded_text(text: &str) -> Option<String> {
    let text = text.trim();
    (!text.is_empty()).then(|| text.chars().take(MAX_TEXT_CHARS).collect())
}

/// A DHCP message type (option 53), as reports name it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DhcpKind {
    /// DHCPDISCOVER.
    Discover,
    /// DHCPOFFER.
    Offer,
    /// DHCPREQUEST.
    Request,
    /// DHCPDECLINE.
    Decline,
    /// DHCPACK.
    Ack,
    /// DHCPNAK.
    Nak,
    /// DHCPRELEASE.
    Release,
    /// DHCPINFORM.
    Inform,
    /// Any other type (a report of a newer version may name one this build does not know).
    #[serde(other)]
    Other,
}

impl DhcpKind {
    /// The kind of a dhcproto message type.
    pub fn of(t: MessageType) -> DhcpKind {
        match t {
            MessageType::Discover => DhcpKind::Discover,
            MessageType::Offer => DhcpKind::Offer,
            MessageType::Request => DhcpKind::Request,
            MessageType::Decline => DhcpKind::Decline,
            MessageType::Ack => DhcpKind::Ack,
            MessageType::Nak => DhcpKind::Nak,
            MessageType::Release => DhcpKind::Release,
            MessageType::Inform => DhcpKind::Inform,
            _ => DhcpKind::Other,
        }
    }

    /// Whether servers send this kind (OFFER, ACK, NAK).
    pub fn is_reply(self) -> bool {
        matches!(self, DhcpKind::Offer | DhcpKind::Ack | DhcpKind::Nak)
    }
}

/// A DHCP reply (OFFER, ACK or NAK) as seen on the wire. It reads as its options
/// (`reply.routers`, through `Deref`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DhcpReply {
    /// `offer`, `ack` or `nak`.
    pub kind: DhcpKind,
    /// Server identifier (option 54), else the IP source address.
    pub server: Ipv4Addr,
    /// Ethernet source of the reply: the server, or the relay that forwarded it.
    pub server_mac: MacAddr,
    /// The address offered or acknowledged (yiaddr).
    pub address: Ipv4Addr,
    /// The options offered (mask, routers, DNS, domain, lease times).
    #[serde(flatten)]
    pub options: DhcpOptions,
    /// giaddr, when a relay agent forwarded the exchange.
    pub relay: Option<Ipv4Addr>,
    /// Whether option 82 (relay agent information) was present (set by `parse_reply`).
    #[serde(default)]
    pub relay_agent_info: bool,
    /// Option 56: the server's message, usually with a NAK (at most [`MAX_TEXT_CHARS`]).
    pub message: Option<String>,
    /// Time from our request to this reply, in ms (filled in by the collector).
    pub ms: f64,
}

impl std::ops::Deref for DhcpReply {
    type Target = DhcpOptions;

    fn deref(&self) -> &DhcpOptions {
        &self.options
    }
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
        OptionCode::Unknown(WPAD),
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
/// address `chaddr`, its contents (pure; `ms` is left at 0). The frame is decoded by
/// [`crate::wire`] (any VLAN depth; a fragment is not a reply, nor a reply inside a GRE or
/// VXLAN tunnel passing the interface: it answers someone on another segment).
pub fn parse_reply(frame: &[u8], xid: u32, chaddr: MacAddr) -> Option<DhcpReply> {
    let packet = wire::decode(frame).ok().filter(|p| p.tunnels.is_empty())?;
    let src_mac = packet.src_mac;
    let dgram = packet.into_udp_datagram()?;
    if dgram.src.port() != SERVER_PORT || dgram.dst.port() != CLIENT_PORT {
        return None;
    }
    let (msg, relay_agent_info) = decode(&dgram.payload, true)?;
    if msg.opcode() != Opcode::BootReply || msg.xid() != xid || msg.chaddr().get(..6) != Some(&chaddr.0[..]) {
        return None;
    }
    let src_ip = match dgram.src.ip() {
        std::net::IpAddr::V4(ip) => ip,
        std::net::IpAddr::V6(_) => return None,
    };
    let mut reply = reply_from(&msg, src_ip, src_mac)?;
    reply.relay_agent_info = relay_agent_info;
    Some(reply)
}

/// Decodes a DHCP message (request or reply) from a UDP payload or lease file; `None` for
/// anything malformed (pure).
///
/// Lenient: an option of the wrong length is dropped and the rest kept, which suits lease
/// files written by a local client. Replies from the network go through `parse_reply`,
/// which rejects such messages outright.
pub fn decode_message(payload: &[u8]) -> Option<v4::Message> {
    decode(payload, false).map(|(msg, _)| msg)
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
        3 | 6 => !data.is_empty() && data.len().is_multiple_of(4),
        // host name, domain name, message
        12 | 15 | 56 => !data.is_empty() && std::str::from_utf8(data).is_ok(),
        // WPAD URL: any bytes (decoded lossily and sanitised by `set_wpad`)
        WPAD => !data.is_empty(),
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

fn is_wanted(code: u8) -> bool {
    matches!(code, 1 | 3 | 6 | 12 | 15 | 50 | 51 | 53 | 54 | 55 | 56 | 57 | 58 | 59 | 61 | WPAD)
}

/// Option 252, the WPAD URL (draft-ietf-wrec-wpad-01; "auto-proxy-config" in IANA's
/// BOOTP/DHCP registry, a private-use code that Windows, NetworkManager, dhcpcd and
/// ISC dhclient use for it).
pub const WPAD: u8 = 252;

/// Option 82, relay agent information: only its presence is reported.
const RELAY_AGENT_INFO: u8 = 82;

/// Decodes after rebuilding the message with only valid, wanted options; also says whether
/// option 82 was present. `strict` rejects a message whose options area is malformed (an
/// option running past the end) or that has a wanted option of the wrong length: from the
/// network, such a packet is not a trustworthy offer.
fn decode(bytes: &[u8], strict: bool) -> Option<(v4::Message, bool)> {
    if bytes.len() > 64 * 1024 {
        return None;
    }
    let header = bytes.get(..BOOTP_HEADER_LEN)?;
    // hlen above the 16-byte chaddr field makes dhcproto's `chaddr()` slice out of
    // bounds (found by the dhcp_reply fuzz target).
    if header[2] > 16 || bytes.get(BOOTP_HEADER_LEN..BOOTP_HEADER_LEN + 4)? != MAGIC_COOKIE {
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
                let Some(&len) = options.get(i + 1) else {
                    if strict {
                        return None;
                    }
                    break;
                };
                let end = i + 2 + usize::from(len);
                let Some(data) = options.get(i + 2..end) else {
                    if strict {
                        return None;
                    }
                    break;
                };
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
    // Text that is not UTF-8 (or empty) is only dropped; a wrong length is a malformed packet.
    let text = |code: u8| matches!(code, 12 | 15 | 56 | WPAD);
    if strict && found.iter().any(|(code, data)| !text(*code) && is_wanted(*code) && !option_is_valid(*code, data)) {
        return None;
    }
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
    let kind = DhcpKind::of(opts.msg_type()?);
    if !kind.is_reply() {
        return None;
    }
    let message = opts.iter().find_map(|(_, opt)| match opt {
        DhcpOption::Message(m) => bounded_text(m),
        _ => None,
    });
    let server = opts
        .iter()
        .find_map(|(_, opt)| match opt {
            DhcpOption::ServerIdentifier(ip) => Some(*ip),
            _ => None,
        })
        .unwrap_or(src_ip);
    Some(DhcpReply {
        kind,
        server,
        server_mac: src_mac,
        address: msg.yiaddr(),
        options: DhcpOptions::from_message(msg),
        relay: Some(msg.giaddr()).filter(|g| !g.is_unspecified()),
        relay_agent_info: false,
        message,
        ms: 0.0,
    })
}

/// The replies of one collection, bounded.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Collected {
    /// Replies in arrival order, at most [`MAX_REPLIES`].
    #[serde(default)]
    pub replies: Vec<DhcpReply>,
    /// Replies beyond [`MAX_REPLIES`] that were counted but not kept.
    #[serde(default)]
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
    pub fn open(interface: &str) -> Result<Channel, PacketError> {
        let (tx, rx) = packet::open(interface)?;
        Ok(Channel { interface: interface.to_string(), tx, rx })
    }

    /// Sends one frame.
    pub fn send(&mut self, frame: &[u8]) -> Result<(), PacketError> {
        match self.tx.send_to(frame, None) {
            Some(Err(source)) => Err(PacketError::io(&self.interface, source)),
            _ => Ok(()),
        }
    }

    /// Sends `frame`, then collects replies for transaction `xid` to `chaddr` until
    /// `settle` has passed since the first matching reply, or `cap` since sending, or a
    /// reply of one of the kinds in `until` arrived. Reply times are measured from just
    /// before the send. Returns what came, bounded.
    pub fn exchange(
        &mut self,
        frame: &[u8],
        xid: u32,
        chaddr: MacAddr,
        settle: Duration,
        cap: Duration,
        until: &[DhcpKind],
    ) -> Result<Collected, PacketError> {
        self.listen(frame, xid, chaddr, |elapsed, got| {
            let first = got.replies.first().and_then(|r| Duration::try_from_secs_f64(r.ms / 1000.0).ok());
            let end = first.map_or(cap, |f| (f + settle).min(cap));
            elapsed >= end || got.replies.iter().any(|r| until.contains(&r.kind))
        })
    }

    /// Sends `frame`, then collects replies for transaction `xid` to `chaddr` until `done`
    /// says so. `done` is asked before every receive, at least every
    /// [`packet::READ_TIMEOUT`], with the time since just before the send and what came so
    /// far. Reply times are measured from just before the send. Returns what came, bounded.
    pub fn listen(
        &mut self,
        frame: &[u8],
        xid: u32,
        chaddr: MacAddr,
        mut done: impl FnMut(Duration, &Collected) -> bool,
    ) -> Result<Collected, PacketError> {
        let start = Instant::now();
        self.send(frame)?;
        let mut out = Collected::default();
        loop {
            if done(start.elapsed(), &out) {
                return Ok(out);
            }
            match self.rx.next() {
                Ok(bytes) => {
                    if let Some(mut reply) = parse_reply(bytes, xid, chaddr) {
                        if out.replies.len() < MAX_REPLIES {
                            reply.ms = crate::types::millis(start.elapsed());
                            out.replies.push(reply);
                        } else {
                            out.dropped = out.dropped.saturating_add(1);
                        }
                    }
                }
                Err(e) if packet::is_idle(&e) => {}
                Err(source) => return Err(PacketError::io(&self.interface, source)),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wire::udp_datagram;
    use pnet::packet::ethernet::EthernetPacket;
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
        let Some(DhcpOption::ParameterRequestList(asked)) = msg.opts().get(OptionCode::ParameterRequestList) else {
            panic!("no parameter request list");
        };
        assert!(asked.contains(&OptionCode::Unknown(WPAD)), "option 252 is asked for: {asked:?}");
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
    fn hardware_address_length_beyond_chaddr_is_rejected() {
        // Regression: the dhcp_reply fuzz target found that hlen > 16 panics in dhcproto.
        let who = me();
        let mut frame = build_discover(5, &who);
        frame[42] = 2; // op: BOOTREPLY
        let offer = frame.clone();
        frame[42 + 2] = 255; // hlen
        assert!(parse_reply(&frame, 5, ME).is_none());
        assert!(decode_message(&frame[42..]).is_none());
        // The same message with a sane hlen still decodes (it has no OFFER type, so it is
        // not a reply, but it gets that far).
        assert!(decode_message(&offer[42..]).is_some());
    }

    #[test]
    fn malformed_option_areas_are_rejected_from_the_network() {
        // A valid OFFER, then variants with a broken options area.
        let mut msg = v4::Message::new_with_id(
            9,
            Ipv4Addr::UNSPECIFIED,
            Ipv4Addr::new(198, 18, 0, 150),
            Ipv4Addr::UNSPECIFIED,
            Ipv4Addr::UNSPECIFIED,
            &ME.0,
        );
        msg.set_opcode(Opcode::BootReply);
        msg.opts_mut().insert(DhcpOption::MessageType(MessageType::Offer));
        msg.opts_mut().insert(DhcpOption::ServerIdentifier(Ipv4Addr::new(198, 18, 0, 1)));
        let good = frame(
            MacAddr([2, 0, 0, 0, 0, 1]),
            PnetMac::broadcast(),
            Ipv4Addr::new(198, 18, 0, 1),
            Ipv4Addr::BROADCAST,
            &msg,
        );
        let fix_lengths = |mut f: Vec<u8>| {
            let udp_len = (f.len() - 34) as u16;
            f[38..40].copy_from_slice(&udp_len.to_be_bytes());
            let ip_len = (f.len() - 14) as u16;
            f[16..18].copy_from_slice(&ip_len.to_be_bytes());
            f
        };
        // Reply frames are sent from port 67 to 68; `frame` builds client frames, so swap.
        let as_reply = |mut f: Vec<u8>| {
            f[34..36].copy_from_slice(&67u16.to_be_bytes());
            f[36..38].copy_from_slice(&68u16.to_be_bytes());
            f[40..42].fill(0); // no UDP checksum
            f
        };
        let good = as_reply(good);
        assert!(parse_reply(&good, 9, ME).is_some(), "the well-formed offer is taken");
        let end = good.len() - 1; // the end option
        let mut past_end = good[..end].to_vec();
        past_end.extend_from_slice(&[6, 200, 1, 2, 3]);
        assert!(parse_reply(&fix_lengths(past_end), 9, ME).is_none());
        let mut short_router = good[..end].to_vec();
        short_router.extend_from_slice(&[3, 3, 1, 2, 3, 255]);
        assert!(parse_reply(&fix_lengths(short_router.clone()), 9, ME).is_none());
        // The lenient path (lease files) keeps the message and drops the bad option.
        let udp = udp_datagram(&fix_lengths(short_router)).unwrap();
        assert!(decode_message(&udp.payload).is_some());
    }

    #[test]
    fn replies_and_leases_share_the_options_and_their_limits() {
        let many: Vec<Ipv4Addr> = (1..=40).map(|i| Ipv4Addr::new(198, 18, 0, i)).collect();
        let long_domain = "a".repeat(400);
        let mut msg = v4::Message::new_with_id(
            9,
            Ipv4Addr::UNSPECIFIED,
            Ipv4Addr::new(198, 18, 0, 150),
            Ipv4Addr::UNSPECIFIED,
            Ipv4Addr::UNSPECIFIED,
            &ME.0,
        );
        msg.set_opcode(Opcode::BootReply);
        msg.opts_mut().insert(DhcpOption::MessageType(MessageType::Ack));
        msg.opts_mut().insert(DhcpOption::Router(many.clone()));
        msg.opts_mut().insert(DhcpOption::DomainNameServer(many.clone()));
        msg.opts_mut().insert(DhcpOption::DomainName(long_domain.clone()));
        msg.opts_mut().insert(DhcpOption::AddressLeaseTime(3600));
        let bytes = msg.to_vec().unwrap();
        let reply = reply_from(&decode_message(&bytes).unwrap(), Ipv4Addr::new(198, 18, 0, 1), ME).unwrap();
        assert_eq!((reply.routers.len(), reply.dns.len()), (MAX_ROUTERS, MAX_DNS));
        assert_eq!(reply.domain.as_ref().map(|d| d.chars().count()), Some(MAX_TEXT_CHARS));
        // The same ACK stored by dhcpcd, and the same values in a networkd lease, give the
        // same options under the same limits.
        let dhcpcd = crate::platform::lease::parse_dhcpcd(&bytes).unwrap();
        assert_eq!(dhcpcd.options, reply.options);
        let list = many.iter().map(Ipv4Addr::to_string).collect::<Vec<_>>().join(" ");
        let networkd = crate::platform::lease::parse_networkd(&format!(
            "ROUTER={list}\nDNS={list}\nDOMAINNAME={long_domain}\nLIFETIME=3600\n"
        ))
        .unwrap();
        assert_eq!(networkd.options, reply.options);
    }

    /// An ACK carrying option 252 as a C string (the draft's example ends in NUL), split in
    /// two instances (RFC 3396), with a control character: the URL is joined, cleaned and
    /// bounded, and the same bytes stored by dhcpcd read the same.
    #[test]
    fn wpad_option_is_joined_cleaned_and_bounded() {
        let ack = |parts: &[&[u8]]| {
            let mut msg = v4::Message::new_with_id(
                9,
                Ipv4Addr::UNSPECIFIED,
                Ipv4Addr::new(198, 18, 0, 150),
                Ipv4Addr::UNSPECIFIED,
                Ipv4Addr::UNSPECIFIED,
                &ME.0,
            );
            msg.set_opcode(Opcode::BootReply);
            msg.opts_mut().insert(DhcpOption::MessageType(MessageType::Ack));
            let mut bytes = msg.to_vec().unwrap();
            // Drop the end option, append the 252 instances, end again.
            assert_eq!(bytes.pop(), Some(255));
            for part in parts {
                bytes.push(WPAD);
                bytes.push(u8::try_from(part.len()).unwrap());
                bytes.extend_from_slice(part);
            }
            bytes.push(255);
            bytes
        };
        let bytes = ack(&[b"http://198.18.1.2/wp", b"ad.dat\0"]);
        let reply = reply_from(&decode_message(&bytes).unwrap(), Ipv4Addr::new(198, 18, 0, 1), ME).unwrap();
        assert_eq!(reply.wpad.as_deref(), Some("http://198.18.1.2/wpad.dat"));
        assert_eq!(crate::platform::lease::parse_dhcpcd(&bytes).unwrap().wpad, reply.wpad);
        let reply = |bytes: &[u8]| decode(bytes, true).and_then(|(m, _)| reply_from(&m, Ipv4Addr::LOCALHOST, ME));
        let odd = reply(&ack(&[b"http://a.test/\x1b[2Jx\xff.dat"])).unwrap();
        assert_eq!(odd.wpad.as_deref(), Some("http://a.test/\u{fffd}[2Jx\u{fffd}.dat"));
        let long = vec![b'a'; 255];
        let long = reply(&ack(&[&long, &long, &long])).unwrap();
        assert_eq!(long.wpad.as_ref().map(|w| w.chars().count()), Some(MAX_TEXT_CHARS));
        // An empty option 252 is dropped, not a malformed reply.
        let empty = reply(&ack(&[b""])).unwrap();
        assert_eq!(empty.wpad, None);
        let only_nul = reply(&ack(&[b"\0\0"])).unwrap();
        assert_eq!(only_nul.wpad, None);
    }

    #[test]
    fn report_keeps_the_field_names_of_replies_and_leases() {
        let keys = |v: serde_json::Value| -> Vec<String> {
            let mut keys: Vec<String> = v.as_object().unwrap().keys().cloned().collect();
            keys.sort();
            keys
        };
        let sorted = |names: &[&str]| {
            let mut names: Vec<String> = names.iter().map(|n| n.to_string()).collect();
            names.sort();
            names
        };
        // `wpad` is left out when absent (as here).
        let options = ["subnet_mask", "routers", "dns", "domain", "lease_time_s", "renew_s", "rebind_s"];
        let frames = frames(DORA);
        let reply = replies_to(&frames, &sent(&frames)[0]).remove(0);
        let mut expected =
            vec!["kind", "server", "server_mac", "address", "relay", "relay_agent_info", "message", "ms"];
        expected.extend(options);
        assert_eq!(keys(serde_json::to_value(&reply).unwrap()), sorted(&expected));
        let lease = crate::platform::lease::parse_networkd("ADDRESS=198.18.0.150\n").unwrap();
        let mut expected =
            vec!["client", "source", "address", "server", "expires_unix", "renew_unix", "rebind_unix", "domain_search"];
        expected.extend(options);
        assert_eq!(keys(serde_json::to_value(&lease).unwrap()), sorted(&expected));
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

    // Replays of exchanges recorded in the namespace lab (captures/README.md, "DHCP
    // exchanges"): real dnsmasq bytes through the same parser the probe uses. MACs and
    // transaction ids differ per recording, so they are read from the client's messages.

    const DORA: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/captures/dhcp_dora.pcap");
    const TWO_SERVERS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/captures/dhcp_two_servers.pcap");
    const NAK: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/captures/dhcp_nak.pcap");
    const LAB_ROUTER: Ipv4Addr = Ipv4Addr::new(198, 18, 0, 1);
    const ROGUE: Ipv4Addr = Ipv4Addr::new(198, 18, 0, 66);

    /// A BOOTREQUEST the client sent, as captured.
    struct Sent {
        kind: MessageType,
        xid: u32,
        chaddr: MacAddr,
        msg: v4::Message,
        frame: Vec<u8>,
    }

    fn frames(path: &str) -> Vec<Vec<u8>> {
        let frames = crate::pcap::read_file(path).unwrap_or_else(|e| panic!("{path}: {e}"));
        assert!(!frames.is_empty(), "{path} is empty");
        frames.into_iter().map(|f| f.data).collect()
    }

    /// The client's DISCOVER/REQUEST/RELEASE messages (port 68 to 67), in capture order.
    fn sent(frames: &[Vec<u8>]) -> Vec<Sent> {
        frames
            .iter()
            .filter_map(|frame| {
                let d = udp_datagram(frame)?;
                if (d.src.port(), d.dst.port()) != (CLIENT_PORT, SERVER_PORT) {
                    return None;
                }
                let msg = decode_message(&d.payload)?;
                assert_eq!(msg.opcode(), Opcode::BootRequest);
                Some(Sent {
                    kind: msg.opts().msg_type()?,
                    xid: msg.xid(),
                    chaddr: MacAddr::from_slice(msg.chaddr().get(..6)?)?,
                    msg,
                    frame: frame.clone(),
                })
            })
            .collect()
    }

    /// Every frame `parse_reply` accepts for this transaction and client, in capture order.
    fn replies_to(frames: &[Vec<u8>], to: &Sent) -> Vec<DhcpReply> {
        frames.iter().filter_map(|f| parse_reply(f, to.xid, to.chaddr)).collect()
    }

    /// The UDP payloads of the server's replies (port 67 to 68).
    fn server_payloads(frames: &[Vec<u8>]) -> Vec<Vec<u8>> {
        frames
            .iter()
            .filter_map(|f| udp_datagram(f))
            .filter(|d| (d.src.port(), d.dst.port()) == (SERVER_PORT, CLIENT_PORT))
            .map(|d| d.payload)
            .collect()
    }

    fn is_probe_mac(mac: MacAddr) -> bool {
        mac.0[..3] == [0x02, 0x6e, 0x74]
    }

    fn assert_lab_settings(r: &DhcpReply) {
        assert_eq!(r.server, LAB_ROUTER, "{r:?}");
        assert_eq!(r.subnet_mask, Some(Ipv4Addr::new(255, 255, 255, 0)), "{r:?}");
        assert_eq!(r.routers, [LAB_ROUTER], "{r:?}");
        assert_eq!(r.dns, [LAB_ROUTER], "{r:?}");
        // dhcp-range=...,5m: 300 s, with dnsmasq's T1 = 1/2 and T2 = 7/8 (rounded down).
        assert_eq!((r.lease_time_s, r.renew_s, r.rebind_s), (Some(300), Some(150), Some(262)), "{r:?}");
        assert_eq!((r.relay, r.relay_agent_info, r.ms), (None, false, 0.0), "{r:?}");
        assert!((100..=200).contains(&r.address.octets()[3]), "in the lab's dhcp-range: {r:?}");
    }

    #[test]
    fn replay_dora_offer_then_ack_for_the_requested_address() {
        let frames = frames(DORA);
        let sent = sent(&frames);
        let kinds: Vec<MessageType> = sent.iter().map(|s| s.kind).collect();
        assert_eq!(kinds, [MessageType::Discover, MessageType::Discover, MessageType::Request, MessageType::Release]);

        // The normal probe: the interface's own MAC, one offer with the lab's settings.
        let probe = &sent[0];
        assert!(!is_probe_mac(probe.chaddr), "the probe uses the interface's MAC");
        assert!(probe.msg.flags().broadcast());
        let offers = replies_to(&frames, probe);
        assert_eq!(offers.len(), 1, "{offers:?}");
        assert_eq!(offers[0].kind, DhcpKind::Offer);
        assert_lab_settings(&offers[0]);

        // The full exchange: separate identity, OFFER, then an ACK for what was requested.
        let (discover, request, release) = (&sent[1], &sent[2], &sent[3]);
        assert!(is_probe_mac(discover.chaddr), "{}", discover.chaddr);
        assert_eq!((request.xid, request.chaddr), (discover.xid, discover.chaddr));
        let got = replies_to(&frames, discover);
        let got_kinds: Vec<DhcpKind> = got.iter().map(|r| r.kind).collect();
        assert_eq!(got_kinds, [DhcpKind::Offer, DhcpKind::Ack]);
        let (offer, ack) = (&got[0], &got[1]);
        assert_lab_settings(offer);
        assert_lab_settings(ack);
        assert_eq!(
            request.msg.opts().get(OptionCode::RequestedIpAddress),
            Some(&DhcpOption::RequestedIpAddress(offer.address))
        );
        assert_eq!(
            request.msg.opts().get(OptionCode::ServerIdentifier),
            Some(&DhcpOption::ServerIdentifier(offer.server))
        );
        assert_eq!(ack.address, offer.address, "the ACK is for the requested address");
        assert_eq!(ack.server_mac, offer.server_mac);

        // The RELEASE goes back unicast to the server that acknowledged, for that address.
        assert_eq!(release.msg.ciaddr(), ack.address);
        assert_eq!(
            release.msg.opts().get(OptionCode::ServerIdentifier),
            Some(&DhcpOption::ServerIdentifier(ack.server))
        );
        let eth = EthernetPacket::new(&release.frame).unwrap();
        assert_eq!(MacAddr(eth.get_destination().octets()), ack.server_mac);
        let rel = udp_datagram(&release.frame).unwrap();
        assert_eq!((rel.src.ip(), rel.dst.ip()), (std::net::IpAddr::V4(ack.address), std::net::IpAddr::V4(ack.server)));

        // Neither identity accepts the other's replies, nor a reply with one field wrong.
        let probe_offer = frames.iter().find(|f| parse_reply(f, probe.xid, probe.chaddr).is_some()).unwrap();
        assert!(parse_reply(probe_offer, discover.xid, discover.chaddr).is_none());
        assert!(parse_reply(probe_offer, probe.xid ^ 1, probe.chaddr).is_none());
        assert!(parse_reply(probe_offer, probe.xid, discover.chaddr).is_none());
        // Our own requests are never taken for replies.
        for s in &sent {
            assert!(parse_reply(&s.frame, s.xid, s.chaddr).is_none());
        }
    }

    #[test]
    fn replay_offers_on_a_tagged_trunk_parse_the_same() {
        let frames = frames(DORA);
        let probe = &sent(&frames)[0];
        let plain = replies_to(&frames, probe);
        assert_eq!(plain.len(), 1);
        for tags in [&[0x81u8, 0x00, 0, 10][..], &[0x88, 0xa8, 0, 100, 0x81, 0x00, 0, 10]] {
            let tagged: Vec<Vec<u8>> = frames
                .iter()
                .map(|f| {
                    let mut t = f[..12].to_vec();
                    t.extend_from_slice(tags);
                    t.extend_from_slice(&f[12..]);
                    t
                })
                .collect();
            assert_eq!(replies_to(&tagged, probe), plain);
        }
        // The same offer inside GRE (transparent Ethernet bridging) is not ours.
        let in_gre: Vec<Vec<u8>> = frames
            .iter()
            .map(|f| {
                let mut outer = f[..12].to_vec();
                outer.extend_from_slice(&[0x08, 0x00, 0x45, 0, 0, 0, 0, 0, 0, 0, 64, 47, 0, 0]);
                outer.extend_from_slice(&[198, 18, 0, 1, 198, 18, 0, 2, 0, 0, 0x65, 0x58]);
                outer.extend_from_slice(f);
                let total = (outer.len() - 14) as u16;
                outer[16..18].copy_from_slice(&total.to_be_bytes());
                outer
            })
            .collect();
        assert!(in_gre.iter().all(|f| wire::decode(f).is_ok_and(|p| p.tunnels.len() == 1)));
        assert!(replies_to(&in_gre, probe).is_empty());
    }

    #[test]
    fn replay_two_servers_offer_from_distinct_servers_and_macs() {
        let frames = frames(TWO_SERVERS);
        let sent = sent(&frames);
        assert_eq!(sent.len(), 1);
        assert_eq!(sent[0].kind, MessageType::Discover);
        let offers = replies_to(&frames, &sent[0]);
        assert_eq!(offers.len(), 2, "{offers:?}");
        assert!(offers.iter().all(|o| o.kind == DhcpKind::Offer));
        let mut servers: Vec<Ipv4Addr> = offers.iter().map(|o| o.server).collect();
        servers.sort();
        servers.dedup();
        assert_eq!(servers, [LAB_ROUTER, ROGUE], "exactly two distinct servers");
        assert_ne!(offers[0].server_mac, offers[1].server_mac);

        let lab = offers.iter().find(|o| o.server == LAB_ROUTER).unwrap();
        assert_lab_settings(lab);
        let rogue = offers.iter().find(|o| o.server == ROGUE).unwrap();
        assert_eq!(rogue.routers, [ROGUE], "the rogue names itself as the gateway");
        assert!(rogue.dns.is_empty(), "a DHCP-only dnsmasq (port=0) sends no DNS option");
        assert!((150..=160).contains(&rogue.address.octets()[3]), "{rogue:?}");
        assert_eq!(rogue.subnet_mask, Some(Ipv4Addr::new(255, 255, 255, 0)));
    }

    #[test]
    fn replay_nak_wrong_network() {
        let frames = frames(NAK);
        let sent = sent(&frames);
        let kinds: Vec<MessageType> = sent.iter().map(|s| s.kind).collect();
        assert_eq!(kinds, [MessageType::Discover, MessageType::Request]);
        let request = &sent[1];
        assert!(is_probe_mac(request.chaddr));
        // INIT-REBOOT (RFC 2131 section 4.3.2): requested address, no server id, no ciaddr.
        let asked = Ipv4Addr::new(198, 19, 9, 9);
        assert_eq!(
            request.msg.opts().get(OptionCode::RequestedIpAddress),
            Some(&DhcpOption::RequestedIpAddress(asked))
        );
        assert!(!request.msg.opts().contains(OptionCode::ServerIdentifier));
        assert_eq!(request.msg.ciaddr(), Ipv4Addr::UNSPECIFIED);

        let got = replies_to(&frames, request);
        assert_eq!(got.len(), 1, "{got:?}");
        let nak = &got[0];
        assert_eq!(nak.kind, DhcpKind::Nak);
        assert_eq!(nak.message.as_deref(), Some("wrong network"));
        assert_eq!((nak.server, nak.address), (LAB_ROUTER, Ipv4Addr::UNSPECIFIED));
        assert_eq!((nak.lease_time_s, nak.subnet_mask), (None, None));
        // The probe's own DISCOVER in the same run still got its offer.
        let offers = replies_to(&frames, &sent[0]);
        assert_eq!(offers.iter().map(|o| o.kind).collect::<Vec<_>>(), [DhcpKind::Offer]);
    }

    #[test]
    fn replay_truncated_and_mutated_frames_never_panic() {
        // Every truncation of every frame of the three captures, for every identity in them.
        let mut offer_frame = None;
        for path in [DORA, TWO_SERVERS, NAK] {
            let frames = frames(path);
            let ids: Vec<(u32, MacAddr)> = sent(&frames).iter().map(|s| (s.xid, s.chaddr)).collect();
            for frame in &frames {
                for cut in 0..frame.len() {
                    for &(xid, chaddr) in &ids {
                        let got = parse_reply(&frame[..cut], xid, chaddr);
                        // Ethernet 14 + IPv4 20 + UDP 8 + BOOTP 236 + cookie 4.
                        if cut < 14 + 20 + 8 + 240 {
                            assert!(got.is_none(), "{path}: a {cut}-byte frame parsed");
                        }
                    }
                }
                if offer_frame.is_none() && ids.iter().any(|&(x, c)| parse_reply(frame, x, c).is_some()) {
                    offer_frame = Some((frame.clone(), ids.clone()));
                }
            }
        }

        // Single-byte mutations of one real OFFER: each byte of the frame (headers and the
        // whole UDP payload) in turn set to a few values (bounded: 4 per byte, about 1,400
        // parses). Whatever parses must still be a bounded reply.
        let (frame, ids) = offer_frame.expect("a reply in the captures");
        let (xid, chaddr) = ids[0];
        let original = parse_reply(&frame, xid, chaddr).unwrap();
        assert_eq!(original.kind, DhcpKind::Offer);
        let start = frame.len() - udp_datagram(&frame).unwrap().payload.len();
        assert_eq!(start, 14 + 20 + 8);
        let mut parsed = 0;
        for i in 0..frame.len() {
            for m in [|b: u8| !b, |b: u8| b ^ 0x01, |_| 0x00, |_| 0xff] {
                let mut bad = frame.clone();
                bad[i] = m(bad[i]);
                if let Some(r) = parse_reply(&bad, xid, chaddr) {
                    parsed += 1;
                    assert!(r.kind.is_reply());
                    assert!(r.routers.len() <= MAX_ROUTERS && r.dns.len() <= MAX_DNS);
                    assert!(r.domain.as_ref().is_none_or(|d| d.chars().count() <= MAX_TEXT_CHARS));
                    assert!(r.message.as_ref().is_none_or(|m| m.chars().count() <= MAX_TEXT_CHARS));
                }
            }
        }
        assert!(parsed > 0, "mutated padding and unused fields still parse");
        // The fields the filter keys on: a changed xid, chaddr or opcode is not our reply.
        let p = start;
        for i in (p + 4..p + 8).chain(p + 28..p + 34).chain([p]) {
            let mut bad = frame.clone();
            bad[i] ^= 0x01;
            assert!(parse_reply(&bad, xid, chaddr).is_none(), "byte {} of the payload", i - p);
        }
    }

    #[test]
    fn replay_offer_with_oversized_hlen_is_ignored_not_a_panic() {
        // dhcproto's `chaddr()` slices chaddr[..hlen] with the wire's hlen. Anyone on the
        // segment sees our broadcast DISCOVER's xid and can answer a real offer like this.
        let frames = frames(DORA);
        let probe = &sent(&frames)[0];
        let offer = frames.iter().find(|f| parse_reply(f, probe.xid, probe.chaddr).is_some()).unwrap();
        let hlen_at = 14 + 20 + 8 + 2;
        for hlen in [17u8, 0xf9, 0xff] {
            let mut bad = offer.clone();
            bad[hlen_at] = hlen;
            assert!(parse_reply(&bad, probe.xid, probe.chaddr).is_none(), "hlen {hlen}");
        }
    }

    #[test]
    fn replay_replies_survive_a_dhcproto_round_trip() {
        let mut checked = 0;
        for path in [DORA, TWO_SERVERS, NAK] {
            for payload in server_payloads(&frames(path)) {
                // decode -> encode -> decode, as dhcproto's own tests do.
                let msg = v4::Message::decode(&mut Decoder::new(&payload)).unwrap();
                let bytes = msg.to_vec().unwrap();
                let again = v4::Message::decode(&mut Decoder::new(&bytes)).unwrap();
                assert_eq!(msg, again, "{path}");
                // And the product's view of it is the same before and after.
                let from = (LAB_ROUTER, MacAddr([2, 0, 0, 0, 0, 1]));
                let before = reply_from(&decode_message(&payload).unwrap(), from.0, from.1).unwrap();
                let after = reply_from(&decode_message(&bytes).unwrap(), from.0, from.1).unwrap();
                assert_eq!(before, after, "{path}");
                if before.kind == DhcpKind::Offer {
                    checked += 1;
                }
            }
        }
        assert_eq!(checked, 5, "offers: 2 in dora, 2 in two_servers, 1 in nak");
    }
}
