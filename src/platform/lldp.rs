//! LLDP (IEEE 802.1AB) frames and lldpd's neighbour table, decoded into one [`Neighbour`].
//!
//! The `neighbours` check ([`crate::check`]'s `neighbours`) listens for the frames a
//! switch sends on the port (LLDP: ethertype 0x88cc to 01:80:c2:00:00:0e; CDP: see
//! [`super::cdp`]) and asks lldpd, when it runs, for what it already heard
//! (`lldpcli -f json show neighbors details`). All three sources fold into the same
//! [`Neighbour`], so the check's judge reads one type whatever the source.
//!
//! Our own decoder, not a crate: the LLDP crates on crates.io (erbium's daemon-internal
//! parser, rust_lldp 0.1, codecs inside larger tools) decode only the basic TLVs, none
//! decodes the IEEE 802.3 organisationally specific TLVs this check judges (MAC/PHY
//! configuration with the operational MAU type, power via MDI with the 802.3at
//! requested/allocated power, link aggregation) or the 802.1 VLAN TLVs, none decodes CDP,
//! and none is maintained with fuzzing. The format is small (a TLV list with a 7-bit type
//! and a 9-bit length), so it is written here the way the other parsers of this crate are:
//! pure, every length checked before it is used, counts bounded, `Err` instead of a panic
//! (fuzzed: `fuzz/fuzz_targets/lldp.rs`).
//!
//! [`decode_frame`] is the entry point for a whole Ethernet frame: it recognises LLDP and
//! CDP and hands the payload to [`decode_lldpdu`] or [`super::cdp::decode_cdp`].
//! [`parse_lldpcli_json`] reads lldpd's JSON (lldpd 1.0: a single item is an object, more
//! are an array, at every level), also fuzzed.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use serde::{Deserialize, Serialize};

use crate::types::MacAddr;

/// LLDP's ethertype.
pub const ETHERTYPE_LLDP: u16 = 0x88cc;
/// The nearest-bridge group address LLDP is sent to (802.1AB table 7-1).
pub const LLDP_MULTICAST: [u8; 6] = [0x01, 0x80, 0xc2, 0x00, 0x00, 0x0e];
/// Longest text kept from any TLV (characters): a system description can be 255 bytes.
pub const MAX_TEXT: usize = 255;
/// Most TLVs read from one LLDPDU (a 1500-byte payload holds at most 750 empty ones).
pub const MAX_TLVS: usize = 256;
/// Most management addresses kept per neighbour.
pub const MAX_ADDRESSES: usize = 8;
/// Most VLAN names kept per neighbour.
pub const MAX_VLANS: usize = 32;

/// Which discovery protocol a neighbour spoke.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum Protocol {
    /// IEEE 802.1AB LLDP.
    #[default]
    Lldp,
    /// Cisco Discovery Protocol (v1 or v2).
    Cdp,
}

impl Protocol {
    /// The protocol as it appears in reports and metric labels.
    pub fn as_str(self) -> &'static str {
        match self {
            Protocol::Lldp => "lldp",
            Protocol::Cdp => "cdp",
        }
    }
}

/// How this run learnt of a neighbour.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum Via {
    /// A frame heard on the interface during the run.
    #[default]
    Frame,
    /// lldpd's neighbour table (`lldpcli show neighbors`).
    Lldpd,
}

/// Half or full duplex.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Duplex {
    /// Half duplex.
    Half,
    /// Full duplex.
    Full,
}

impl Duplex {
    /// `half` or `full`.
    pub fn as_str(self) -> &'static str {
        match self {
            Duplex::Half => "half",
            Duplex::Full => "full",
        }
    }

    /// Reads sysfs's and ethtool's words (`half`, `full`).
    pub fn from_word(word: &str) -> Option<Duplex> {
        match word.trim() {
            "half" => Some(Duplex::Half),
            "full" => Some(Duplex::Full),
            _ => None,
        }
    }
}

/// A VLAN the switch names on the port (802.1 VLAN Name TLV).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct VlanName {
    /// The VLAN id.
    pub id: u16,
    /// Its name.
    #[serde(default)]
    pub name: String,
}

/// Auto-negotiation as the switch port reports it (802.3 MAC/PHY TLV).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Autoneg {
    /// The port can auto-negotiate.
    pub supported: bool,
    /// Auto-negotiation is on.
    pub enabled: bool,
}

/// Power over Ethernet as the switch reports it (802.3 Power via MDI TLV, with the
/// 802.3at extension when present).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct Power {
    /// The port is a PSE (it supplies power); `false`: a PD.
    #[serde(default)]
    pub pse: bool,
    /// Power via MDI is enabled on the port.
    #[serde(default)]
    pub enabled: bool,
    /// The PoE class, 0 to 4 (the TLV carries class + 1).
    #[serde(default)]
    pub class: Option<u8>,
    /// Power the device asked for, in milliwatts (802.3at: PD requested power).
    #[serde(default)]
    pub requested_mw: Option<u32>,
    /// Power the switch allocated, in milliwatts (802.3at: PSE allocated power).
    #[serde(default)]
    pub allocated_mw: Option<u32>,
}

/// LLDP-MED (ANSI/TIA-1057) as the switch sends it: what it offers media endpoints (IP
/// phones, video), the voice and video VLANs it hands them, the power it grants, and the
/// switch's own inventory.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(default)]
pub struct Med {
    /// The LLDP-MED capabilities the sender supports (TIA-1057 10.2.2.1): `capabilities`,
    /// `network_policy`, `location`, `power_pse`, `power_pd`, `inventory`.
    pub capabilities: Vec<String>,
    /// The sender's device type: `endpoint_class_1` to `endpoint_class_3`, or
    /// `network_connectivity` (a switch); `None` when not defined.
    pub device_type: Option<String>,
    /// Network policies (TIA-1057 10.2.3), one per application type (at most [`MAX_POLICIES`]).
    pub policies: Vec<NetworkPolicy>,
    /// Extended power via MDI (TIA-1057 10.2.5).
    pub power: Option<MedPower>,
    /// Inventory (TIA-1057 10.2.6): the sender's hardware and software.
    pub inventory: Inventory,
}

/// One LLDP-MED network policy: the VLAN and QoS an application (e.g. voice) is to use.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(default)]
pub struct NetworkPolicy {
    /// `voice`, `voice_signaling`, `guest_voice`, `guest_voice_signaling`,
    /// `softphone_voice`, `video_conferencing`, `streaming_video`, `video_signaling`, or
    /// `type N` for a reserved one.
    pub application: String,
    /// The U flag: the sender does not know the policy (the other fields are to be ignored).
    pub unknown: bool,
    /// The T flag: tagged (802.1Q) with `vlan`; untagged otherwise.
    pub tagged: bool,
    /// The VLAN id (1-4094); `None` for 0 (the port's VLAN, priority-tagged).
    pub vlan: Option<u16>,
    /// The 802.1p priority, 0 to 7.
    pub priority: u8,
    /// The DSCP value, 0 to 63 (46: expedited forwarding, voice).
    pub dscp: u8,
}

/// LLDP-MED extended power via MDI.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(default)]
pub struct MedPower {
    /// `pse` (the sender supplies power) or `pd` (it draws power); `reserved` otherwise.
    pub device: String,
    /// The power source: `unknown`, `primary`/`backup` (a PSE), `pse`/`local`/`pse_and_local`
    /// (a PD).
    pub source: String,
    /// `unknown`, `critical`, `high` or `low`.
    pub priority: String,
    /// The power value in milliwatts (the TLV carries 0.1 W units): what a PSE can supply
    /// or a PD needs.
    pub power_mw: u32,
}

/// LLDP-MED inventory: each field at most 32 characters as sent.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(default)]
pub struct Inventory {
    /// Hardware revision.
    pub hardware_revision: Option<String>,
    /// Firmware revision.
    pub firmware_revision: Option<String>,
    /// Software revision.
    pub software_revision: Option<String>,
    /// Serial number.
    pub serial_number: Option<String>,
    /// Manufacturer name.
    pub manufacturer: Option<String>,
    /// Model name.
    pub model: Option<String>,
    /// Asset id.
    pub asset_id: Option<String>,
}

impl Med {
    /// The voice policy (application `voice`), when the sender knows one.
    pub fn voice(&self) -> Option<&NetworkPolicy> {
        self.policies.iter().find(|p| p.application == "voice" && !p.unknown)
    }
}

/// Most LLDP-MED network policies kept (TIA-1057 defines 8 application types).
pub const MAX_POLICIES: usize = 8;

/// Link aggregation as the switch reports it for the port.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Aggregation {
    /// The port can be aggregated.
    pub capable: bool,
    /// The port is in an aggregate.
    pub enabled: bool,
    /// The aggregate's port id (0: none).
    pub port_id: u32,
}

/// One neighbour (in practice, the switch port this interface is plugged into), from a
/// frame or from lldpd. Every field but `protocol` and `via` is optional: switches send
/// what they are configured to, and CDP has no TTL-independent chassis id.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
#[serde(default)]
pub struct Neighbour {
    /// LLDP or CDP.
    pub protocol: Protocol,
    /// A frame heard during the run, or lldpd's table.
    pub via: Via,
    /// The sender's MAC (frames only).
    pub source_mac: Option<MacAddr>,
    /// The chassis id (LLDP; a MAC as `aa:bb:..`, an address, or text) or CDP's device id.
    pub chassis_id: Option<String>,
    /// The port id (LLDP: often the interface name or its MAC; CDP: the port name).
    pub port_id: Option<String>,
    /// The port description (LLDP TLV 4): often the name the switch shows, e.g. `Gi1/0/14`.
    pub port_description: Option<String>,
    /// The switch's name (LLDP system name; CDP device id).
    pub system_name: Option<String>,
    /// The switch's description (LLDP system description; CDP software version).
    pub system_description: Option<String>,
    /// The hardware platform (CDP).
    pub platform: Option<String>,
    /// Enabled capabilities: `bridge`, `router`, `wlan_ap`, `station`, `telephone`, ...
    pub capabilities: Vec<String>,
    /// Management addresses (at most [`MAX_ADDRESSES`]).
    pub management_addresses: Vec<IpAddr>,
    /// How long the information stays valid, in seconds (LLDP TTL; CDP hold time).
    pub ttl_secs: Option<u16>,
    /// The port's untagged VLAN: LLDP's 802.1 Port VLAN ID, CDP's native VLAN.
    pub port_vlan: Option<u16>,
    /// VLANs named on the port (802.1 VLAN Name TLVs; at most [`MAX_VLANS`]).
    pub vlans: Vec<VlanName>,
    /// Auto-negotiation (802.3 MAC/PHY TLV).
    pub autoneg: Option<Autoneg>,
    /// The operational MAU type (RFC 4836 / IANA-MAU-MIB `dot3MauType` number).
    pub mau_type: Option<u16>,
    /// The port's speed, from the MAU type (or lldpd's description of it).
    pub speed_mbps: Option<u32>,
    /// The port's duplex, from the MAU type or CDP's duplex TLV.
    pub duplex: Option<Duplex>,
    /// Power via MDI (PoE).
    pub power: Option<Power>,
    /// Link aggregation.
    pub aggregation: Option<Aggregation>,
    /// The largest frame the port accepts (802.3 Maximum Frame Size TLV).
    pub max_frame_size: Option<u16>,
    /// LLDP-MED (ANSI/TIA-1057): capabilities, network policies (voice VLAN, DSCP,
    /// priority), extended power, inventory; `None` when the sender sent none.
    pub med: Option<Med>,
    /// Milliseconds after the listener opened that this neighbour's latest frame arrived
    /// (frames only; lldpd's answers are 0).
    pub heard_after_ms: Option<u64>,
}

impl Neighbour {
    /// The name a technician knows the switch by: its system name, else its chassis id.
    pub fn switch_name(&self) -> Option<&str> {
        self.system_name.as_deref().or(self.chassis_id.as_deref())
    }

    /// The port a technician looks for on the switch: the description when the port id is
    /// a MAC (many switches send the MAC as the id and the name as the description), else
    /// the port id.
    pub fn port_name(&self) -> Option<&str> {
        let id_is_mac = self.port_id.as_deref().is_some_and(|p| p.parse::<MacAddr>().is_ok());
        if id_is_mac || self.port_id.is_none() {
            self.port_description.as_deref().or(self.port_id.as_deref())
        } else {
            self.port_id.as_deref()
        }
    }

    /// Whether two records describe the same switch port (the same protocol, chassis and
    /// port): a later frame replaces an earlier one, and lldpd's record of a port heard on
    /// the wire too is not listed twice.
    pub fn same_port(&self, other: &Neighbour) -> bool {
        self.protocol == other.protocol && self.chassis_id == other.chassis_id && self.port_id == other.port_id
    }
}

/// Why an LLDPDU or CDP packet was not read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum DecodeError {
    /// The frame ends inside a header or a TLV.
    #[error("truncated at byte {at}")]
    Truncated {
        /// Offset in the PDU.
        at: usize,
    },
    /// The first three TLVs are not chassis id, port id and TTL (802.1AB 9.2.7.7.1: such
    /// an LLDPDU is discarded).
    #[error("the mandatory chassis id, port id and TTL TLVs are missing or out of order")]
    MissingMandatory,
    /// A TLV's length is impossible for its type.
    #[error("TLV type {tlv} has an invalid length {len}")]
    BadLength {
        /// The TLV type.
        tlv: u16,
        /// Its length.
        len: usize,
    },
    /// More TLVs than [`MAX_TLVS`].
    #[error("more than {MAX_TLVS} TLVs")]
    TooManyTlvs,
    /// CDP: a version other than 1 or 2, or a header too short.
    #[error("not a CDP version 1 or 2 packet")]
    BadCdpHeader,
}

/// What a frame was, for the listener: `None` from [`decode_frame`] means neither.
#[derive(Debug, Clone, PartialEq)]
pub enum Heard {
    /// An LLDP or CDP frame that decoded.
    Neighbour(Box<Neighbour>),
    /// An LLDP or CDP frame that did not decode (counted, never judged).
    Malformed(Protocol, DecodeError),
}

/// Reads an Ethernet frame (with at most one 802.1Q tag): LLDP by its ethertype, CDP by
/// its 802.3 length, LLC/SNAP header and protocol id; `None` for any other frame.
pub fn decode_frame(frame: &[u8]) -> Option<Heard> {
    let dst = frame.get(0..6)?;
    let src = MacAddr::from_slice(frame.get(6..12)?);
    let mut at = 12;
    let mut ethertype = u16::from_be_bytes([*frame.get(at)?, *frame.get(at + 1)?]);
    if ethertype == 0x8100 {
        at += 4;
        ethertype = u16::from_be_bytes([*frame.get(at)?, *frame.get(at + 1)?]);
    }
    let payload = frame.get(at + 2..)?;
    let (protocol, result) = if ethertype == ETHERTYPE_LLDP {
        (Protocol::Lldp, decode_lldpdu(payload))
    } else if ethertype <= 1500 && dst == super::cdp::CDP_MULTICAST {
        // An 802.3 length field: the payload is LLC/SNAP, and CDP's is 00-00-0c / 0x2000.
        let snap = payload.get(0..8)?;
        if snap != super::cdp::CDP_SNAP {
            return None;
        }
        // The length field bounds the LLC payload; padding after it is not CDP.
        let end = usize::from(ethertype).min(payload.len());
        (Protocol::Cdp, super::cdp::decode_cdp(payload.get(8..end).unwrap_or_default()))
    } else {
        return None;
    };
    Some(match result {
        Ok(mut n) => {
            n.source_mac = src;
            Heard::Neighbour(Box::new(n))
        }
        Err(e) => Heard::Malformed(protocol, e),
    })
}

/// Decodes an LLDPDU (the payload after the ethertype).
pub fn decode_lldpdu(pdu: &[u8]) -> Result<Neighbour, DecodeError> {
    let mut n = Neighbour { protocol: Protocol::Lldp, via: Via::Frame, ..Neighbour::default() };
    let mut at = 0usize;
    let mut index = 0usize;
    loop {
        if at == pdu.len() {
            // No End TLV: 802.1AB-2016 made it optional.
            break;
        }
        let header = pdu.get(at..at + 2).ok_or(DecodeError::Truncated { at })?;
        let tlv = u16::from(header[0] >> 1);
        let len = (usize::from(header[0] & 1) << 8) | usize::from(header[1]);
        let value = pdu.get(at + 2..at + 2 + len).ok_or(DecodeError::Truncated { at })?;
        let expected = match index {
            0 => Some(1),
            1 => Some(2),
            2 => Some(3),
            _ => None,
        };
        if expected.is_some_and(|t| t != tlv) {
            return Err(DecodeError::MissingMandatory);
        }
        let bad = || DecodeError::BadLength { tlv, len };
        match tlv {
            0 => break,
            1 => {
                let (&subtype, id) = value.split_first().ok_or_else(bad)?;
                if id.is_empty() {
                    return Err(bad());
                }
                n.chassis_id = Some(id_text(subtype, id, 4, 5));
            }
            2 => {
                let (&subtype, id) = value.split_first().ok_or_else(bad)?;
                if id.is_empty() {
                    return Err(bad());
                }
                n.port_id = Some(id_text(subtype, id, 3, 4));
            }
            3 => {
                let ttl = value.get(0..2).ok_or_else(bad)?;
                n.ttl_secs = Some(u16::from_be_bytes([ttl[0], ttl[1]]));
            }
            4 => n.port_description = text(value),
            5 => n.system_name = text(value),
            6 => n.system_description = text(value),
            7 => {
                let caps = value.get(0..4).ok_or_else(bad)?;
                let enabled = u16::from_be_bytes([caps[2], caps[3]]);
                n.capabilities = LLDP_CAPABILITIES
                    .iter()
                    .filter(|(bit, _)| enabled & (1 << bit) != 0)
                    .map(|(_, name)| (*name).to_string())
                    .collect();
            }
            8 => {
                if let Some(ip) = management_address(value)
                    && n.management_addresses.len() < MAX_ADDRESSES
                    && !n.management_addresses.contains(&ip)
                {
                    n.management_addresses.push(ip);
                }
            }
            127 => organisational(&mut n, value),
            _ => {}
        }
        at += 2 + len;
        index += 1;
        if index > MAX_TLVS {
            return Err(DecodeError::TooManyTlvs);
        }
    }
    if n.chassis_id.is_none() || n.port_id.is_none() || n.ttl_secs.is_none() {
        return Err(DecodeError::MissingMandatory);
    }
    Ok(n)
}

/// Enabled-capability bits of the System Capabilities TLV (802.1AB-2016 table 8-4).
const LLDP_CAPABILITIES: [(u16, &str); 11] = [
    (0, "other"),
    (1, "repeater"),
    (2, "bridge"),
    (3, "wlan_ap"),
    (4, "router"),
    (5, "telephone"),
    (6, "docsis"),
    (7, "station"),
    (8, "c_vlan"),
    (9, "s_vlan"),
    (10, "two_port_mac_relay"),
];

/// A chassis or port id as text: a MAC subtype with 6 bytes as a MAC, a network-address
/// subtype as the address, anything else as text.
fn id_text(subtype: u8, id: &[u8], mac_subtype: u8, addr_subtype: u8) -> String {
    if subtype == mac_subtype
        && let Some(mac) = MacAddr::from_slice(id)
    {
        return mac.to_string();
    }
    if subtype == addr_subtype
        && let Some((&family, addr)) = id.split_first()
        && let Some(ip) = iana_address(family, addr)
    {
        return ip.to_string();
    }
    text(id).unwrap_or_else(|| hex(id))
}

/// An address by its IANA address family number (1 IPv4, 2 IPv6).
fn iana_address(family: u8, addr: &[u8]) -> Option<IpAddr> {
    match (family, addr.len()) {
        (1, 4) => Some(IpAddr::V4(Ipv4Addr::new(addr[0], addr[1], addr[2], addr[3]))),
        (2, 16) => <[u8; 16]>::try_from(addr).ok().map(|b| IpAddr::V6(Ipv6Addr::from(b))),
        _ => None,
    }
}

/// The address of a Management Address TLV (length byte counting the subtype, subtype,
/// address; the interface numbering and OID after it are not needed).
fn management_address(value: &[u8]) -> Option<IpAddr> {
    let len = usize::from(*value.first()?);
    if !(2..=32).contains(&len) {
        return None;
    }
    let string = value.get(1..1 + len)?;
    iana_address(string[0], &string[1..])
}

/// The organisationally specific TLVs this check reads (IEEE 802.1 and 802.3); others are
/// skipped.
fn organisational(n: &mut Neighbour, value: &[u8]) {
    let (Some(oui), Some(&subtype)) = (value.get(0..3), value.get(3)) else { return };
    let info = &value[4..];
    match (oui, subtype) {
        // 802.1 Port VLAN ID (802.1Q-2014 D.2.1): 0 means the port has none.
        ([0x00, 0x80, 0xc2], 1) => {
            if let Some(b) = info.get(0..2) {
                let id = u16::from_be_bytes([b[0], b[1]]);
                n.port_vlan = (1..=4094).contains(&id).then_some(id);
            }
        }
        // 802.1 VLAN Name (D.2.3): VID, name length, name.
        ([0x00, 0x80, 0xc2], 3) => {
            let (Some(b), Some(&len)) = (info.get(0..2), info.get(2)) else { return };
            let Some(name) = info.get(3..3 + usize::from(len)) else { return };
            let id = u16::from_be_bytes([b[0], b[1]]);
            if n.vlans.len() < MAX_VLANS && !n.vlans.iter().any(|v| v.id == id) {
                n.vlans.push(VlanName { id, name: text(name).unwrap_or_default() });
            }
        }
        // Link aggregation: 802.1AB-2009 moved it to 802.1 (subtype 7) from 802.3 (3).
        ([0x00, 0x80, 0xc2], 7) | ([0x00, 0x12, 0x0f], 3) => {
            if let Some(b) = info.get(0..5) {
                n.aggregation = Some(Aggregation {
                    capable: b[0] & 1 != 0,
                    enabled: b[0] & 2 != 0,
                    port_id: u32::from_be_bytes([b[1], b[2], b[3], b[4]]),
                });
            }
        }
        // 802.3 MAC/PHY Configuration/Status (802.3 clause 79.3.1).
        ([0x00, 0x12, 0x0f], 1) => {
            if let Some(b) = info.get(0..5) {
                n.autoneg = Some(Autoneg { supported: b[0] & 1 != 0, enabled: b[0] & 2 != 0 });
                let mau = u16::from_be_bytes([b[3], b[4]]);
                n.mau_type = Some(mau);
                if let Some((speed, duplex)) = mau_speed_duplex(mau) {
                    n.speed_mbps = Some(speed);
                    n.duplex = duplex;
                }
            }
        }
        // 802.3 Power via MDI (79.3.2), with the 802.3at fields when the TLV is long enough.
        ([0x00, 0x12, 0x0f], 2) => {
            if let Some(b) = info.get(0..3) {
                let mut power = Power {
                    pse: b[0] & 1 != 0,
                    enabled: b[0] & 4 != 0,
                    class: (1..=5).contains(&b[2]).then(|| b[2] - 1),
                    requested_mw: None,
                    allocated_mw: None,
                };
                if let Some(at) = info.get(3..8) {
                    // Units of 0.1 W.
                    power.requested_mw = Some(u32::from(u16::from_be_bytes([at[1], at[2]])) * 100);
                    power.allocated_mw = Some(u32::from(u16::from_be_bytes([at[3], at[4]])) * 100);
                }
                n.power = Some(power);
            }
        }
        // 802.3 Maximum Frame Size (79.3.4).
        ([0x00, 0x12, 0x0f], 4) => {
            if let Some(b) = info.get(0..2) {
                n.max_frame_size = Some(u16::from_be_bytes([b[0], b[1]]));
            }
        }
        // LLDP-MED (ANSI/TIA-1057 clause 10.2).
        ([0x00, 0x12, 0xbb], _) => med(n.med.get_or_insert_with(Med::default), subtype, info),
        _ => {}
    }
}

/// The LLDP-MED capability bits (TIA-1057 10.2.2.1, table 10).
const MED_CAPABILITIES: [(u16, &str); 6] =
    [(0, "capabilities"), (1, "network_policy"), (2, "location"), (3, "power_pse"), (4, "power_pd"), (5, "inventory")];

/// Longest inventory text (TIA-1057 10.2.6: at most 32 octets).
const MAX_INVENTORY: usize = 32;

/// One LLDP-MED TLV (`subtype`, its information after the OUI and subtype) into `m`;
/// a TLV too short for its subtype, and location identification (not read), add nothing.
fn med(m: &mut Med, subtype: u8, info: &[u8]) {
    let inventory = |bytes: &[u8]| text(&bytes[..bytes.len().min(MAX_INVENTORY)]);
    match subtype {
        // Capabilities: a 16-bit bitmap and the device type.
        1 => {
            let Some(b) = info.get(0..3) else { return };
            let bits = u16::from_be_bytes([b[0], b[1]]);
            m.capabilities = MED_CAPABILITIES
                .iter()
                .filter(|(bit, _)| bits & (1 << bit) != 0)
                .map(|(_, n)| (*n).to_string())
                .collect();
            m.device_type = match b[2] {
                1 => Some("endpoint_class_1"),
                2 => Some("endpoint_class_2"),
                3 => Some("endpoint_class_3"),
                4 => Some("network_connectivity"),
                _ => None,
            }
            .map(str::to_string);
        }
        // Network policy: application type, then U, T, X, 12-bit VLAN, 3-bit priority, 6-bit DSCP.
        2 => {
            let Some(b) = info.get(0..4) else { return };
            let bits = u32::from_be_bytes([0, b[1], b[2], b[3]]);
            let application = match b[0] {
                1 => "voice".to_string(),
                2 => "voice_signaling".to_string(),
                3 => "guest_voice".to_string(),
                4 => "guest_voice_signaling".to_string(),
                5 => "softphone_voice".to_string(),
                6 => "video_conferencing".to_string(),
                7 => "streaming_video".to_string(),
                8 => "video_signaling".to_string(),
                other => format!("type {other}"),
            };
            let vlan = ((bits >> 9) & 0x0fff) as u16;
            let policy = NetworkPolicy {
                application,
                unknown: bits & (1 << 23) != 0,
                tagged: bits & (1 << 22) != 0,
                vlan: (1..=4094).contains(&vlan).then_some(vlan),
                priority: ((bits >> 6) & 0x07) as u8,
                dscp: (bits & 0x3f) as u8,
            };
            // A later policy for the same application replaces the earlier one.
            if let Some(old) = m.policies.iter_mut().find(|p| p.application == policy.application) {
                *old = policy;
            } else if m.policies.len() < MAX_POLICIES {
                m.policies.push(policy);
            }
        }
        // Extended power via MDI: type (2 bits), source (2), priority (4); power in 0.1 W.
        4 => {
            let Some(b) = info.get(0..3) else { return };
            let pse = match b[0] >> 6 {
                0 => Some(true),
                1 => Some(false),
                _ => None,
            };
            let source = match (pse, (b[0] >> 4) & 0x03) {
                (_, 0) => "unknown",
                (Some(true), 1) => "primary",
                (Some(true), 2) => "backup",
                (Some(false), 1) => "pse",
                (Some(false), 2) => "local",
                (Some(false), 3) => "pse_and_local",
                _ => "reserved",
            };
            let priority = match b[0] & 0x0f {
                0 => "unknown",
                1 => "critical",
                2 => "high",
                3 => "low",
                _ => "reserved",
            };
            m.power = Some(MedPower {
                device: match pse {
                    Some(true) => "pse",
                    Some(false) => "pd",
                    None => "reserved",
                }
                .to_string(),
                source: source.to_string(),
                priority: priority.to_string(),
                power_mw: u32::from(u16::from_be_bytes([b[1], b[2]])) * 100,
            });
        }
        5 => m.inventory.hardware_revision = inventory(info),
        6 => m.inventory.firmware_revision = inventory(info),
        7 => m.inventory.software_revision = inventory(info),
        8 => m.inventory.serial_number = inventory(info),
        9 => m.inventory.manufacturer = inventory(info),
        10 => m.inventory.model = inventory(info),
        11 => m.inventory.asset_id = inventory(info),
        _ => {}
    }
}

/// Speed (Mbit/s) and duplex of an operational MAU type (RFC 4836 `dot3MauType` 1-53 and
/// IANA-MAU-MIB's 10GBASE-T, 54); `None` for types this table does not know.
pub fn mau_speed_duplex(mau: u16) -> Option<(u32, Option<Duplex>)> {
    use Duplex::{Full, Half};
    Some(match mau {
        // 10BASE5, FOIRL, 10BASE2, 10BASE-T, -FP, -FB, -FL, 10BROAD36, 10BASE-FL: no duplex in the type.
        2..=9 => (10, None),
        10 | 12 => (10, Some(Half)),
        11 | 13 => (10, Some(Full)),
        14 => (100, None),
        15 | 17 | 19 => (100, Some(Half)),
        16 | 18 | 20 => (100, Some(Full)),
        21 | 23 | 25 | 27 | 29 => (1000, Some(Half)),
        22 | 24 | 26 | 28 | 30 => (1000, Some(Full)),
        31..=41 | 54 => (10_000, Some(Full)),
        44..=46 => (100, Some(Full)),
        47..=53 => (1000, Some(Full)),
        _ => return None,
    })
}

/// Speed and duplex from lldpd's description of the MAU type, e.g. `1000BaseTFD - Four-pair
/// Category 5 UTP, full duplex mode` or `10GbaseT - ... full duplex mode only`.
pub fn mau_from_description(text: &str) -> (Option<u32>, Option<Duplex>) {
    let name = text.split(" - ").next().unwrap_or(text).trim().to_ascii_lowercase();
    let lower = text.to_ascii_lowercase();
    let speed = if name.starts_with("10gbase") || name.starts_with("10gigbase") {
        Some(10_000)
    } else if name.starts_with("1000base") {
        Some(1000)
    } else if name.starts_with("100base") {
        Some(100)
    } else if name.starts_with("10base") {
        Some(10)
    } else {
        None
    };
    let duplex = if name.ends_with("fd") || lower.contains("full duplex") {
        Some(Duplex::Full)
    } else if name.ends_with("hd") || lower.contains("half duplex") {
        Some(Duplex::Half)
    } else {
        None
    };
    (speed, duplex)
}

/// Printable text of at most [`MAX_TEXT`] characters: invalid UTF-8 replaced, control
/// characters dropped, surrounding space and NULs trimmed; `None` when nothing is left.
pub fn text(bytes: &[u8]) -> Option<String> {
    let s: String = String::from_utf8_lossy(bytes)
        .chars()
        .map(|c| if c == '\n' || c == '\t' { ' ' } else { c })
        .filter(|c| !c.is_control())
        .take(MAX_TEXT)
        .collect();
    let s = s.trim();
    (!s.is_empty()).then(|| s.to_string())
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().take(MAX_TEXT / 2).map(|b| format!("{b:02x}")).collect()
}

/// lldpcli's JSON did not read.
#[derive(Debug, thiserror::Error)]
pub enum LldpcliError {
    /// Not JSON, or not lldpcli's shape.
    #[error("lldpcli's output is not its JSON neighbour table: {0}")]
    Shape(String),
}

/// Reads `lldpcli -f json show neighbors details` into neighbours on `interface` (all
/// interfaces when `None`), at most 16.
pub fn parse_lldpcli_json(text: &str, interface: Option<&str>) -> Result<Vec<Neighbour>, LldpcliError> {
    use serde_json::Value;
    let root: Value = serde_json::from_str(text).map_err(|e| LldpcliError::Shape(e.to_string()))?;
    let lldp = root.get("lldp").ok_or_else(|| LldpcliError::Shape("no `lldp` object".into()))?;
    let mut out = Vec::new();
    // No neighbours: `{"lldp": {}}` or `{"lldp": [{}]}` depending on the version.
    let Some(interfaces) = items(lldp).iter().find_map(|l| l.get("interface")) else { return Ok(out) };
    for entry in items(interfaces) {
        let Some(map) = entry.as_object() else { continue };
        for (name, body) in map {
            if interface.is_some_and(|i| i != name) {
                continue;
            }
            for body in items(body) {
                if out.len() >= 16 {
                    return Ok(out);
                }
                out.push(lldpcli_neighbour(body));
            }
        }
    }
    Ok(out)
}

/// lldpcli's JSON gives one item as itself and several as an array.
fn items(v: &serde_json::Value) -> Vec<&serde_json::Value> {
    match v {
        serde_json::Value::Array(a) => a.iter().take(64).collect(),
        other => vec![other],
    }
}

fn lldpcli_neighbour(body: &serde_json::Value) -> Neighbour {
    use serde_json::Value;
    let s = |v: Option<&Value>| v.and_then(Value::as_str).and_then(|t| text(t.as_bytes()));
    let via = body.get("via").and_then(Value::as_str).unwrap_or("");
    let protocol = if via.to_ascii_uppercase().starts_with("CDP") { Protocol::Cdp } else { Protocol::Lldp };
    let mut n = Neighbour { protocol, via: Via::Lldpd, heard_after_ms: Some(0), ..Neighbour::default() };
    // "chassis": {"NAME": {...}} or, without a system name, {"id": {...}, ...}.
    if let Some(Value::Object(chassis)) = body.get("chassis") {
        let (name, c) = match chassis.iter().next() {
            Some((k, v)) if !chassis.contains_key("id") && v.is_object() => (Some(k.as_str()), v),
            _ => (None, body.get("chassis").unwrap_or(&Value::Null)),
        };
        n.system_name = name.and_then(|t| text(t.as_bytes()));
        n.chassis_id = s(c.get("id").and_then(|i| i.get("value")));
        n.system_description = s(c.get("descr"));
        for ip in c.get("mgmt-ip").map(items).unwrap_or_default() {
            if let Some(ip) = ip.as_str().and_then(|t| t.parse::<IpAddr>().ok())
                && n.management_addresses.len() < MAX_ADDRESSES
            {
                n.management_addresses.push(ip);
            }
        }
        for cap in c.get("capability").map(items).unwrap_or_default() {
            if cap.get("enabled").and_then(Value::as_bool) == Some(true)
                && let Some(t) = cap.get("type").and_then(Value::as_str)
                && n.capabilities.len() < 16
            {
                n.capabilities.push(t.to_ascii_lowercase().replace(' ', "_"));
            }
        }
    }
    if let Some(port) = body.get("port") {
        n.port_id = s(port.get("id").and_then(|i| i.get("value")));
        n.port_description = s(port.get("descr"));
        n.ttl_secs = s(port.get("ttl")).and_then(|t| t.parse().ok());
        if let Some(a) = port.get("auto-negotiation") {
            let flag = |k: &str| a.get(k).and_then(Value::as_bool).unwrap_or(false);
            n.autoneg = Some(Autoneg { supported: flag("supported"), enabled: flag("enabled") });
            if let Some(current) = a.get("current").and_then(Value::as_str) {
                (n.speed_mbps, n.duplex) = mau_from_description(current);
            }
        }
        if let Some(p) = port.get("power") {
            let num = |k: &str| s(p.get(k)).and_then(|t| t.parse::<u32>().ok());
            n.power = Some(Power {
                pse: s(p.get("device-type")).is_some_and(|t| t.eq_ignore_ascii_case("pse")),
                enabled: p.get("enabled").and_then(Value::as_bool).unwrap_or(false),
                class: s(p.get("class"))
                    .and_then(|t| t.trim_start_matches("class").trim().parse::<u8>().ok())
                    .filter(|c| *c <= 8),
                requested_mw: num("requested"),
                allocated_mw: num("allocated"),
            });
        }
    }
    for vlan in body.get("vlan").map(items).unwrap_or_default() {
        let Some(id) = s(vlan.get("vlan-id")).and_then(|t| t.parse::<u16>().ok()) else { continue };
        if vlan.get("pvid").and_then(Value::as_bool) == Some(true) {
            n.port_vlan = Some(id);
        }
        if n.vlans.len() < MAX_VLANS {
            n.vlans.push(VlanName { id, name: s(vlan.get("value")).unwrap_or_default() });
        }
    }
    n
}

#[cfg(test)]
pub(super) mod tests {
    use super::*;

    /// The frames of a capture in `captures/` (also the CDP tests').
    pub(in crate::platform) fn frames(name: &str) -> Vec<Vec<u8>> {
        let path = format!("{}/captures/{name}", env!("CARGO_MANIFEST_DIR"));
        crate::pcap::read_file(std::path::Path::new(&path)).unwrap().into_iter().map(|f| f.data).collect()
    }

    #[test]
    fn lldpd_med_frames_decode_policies_power_and_inventory() {
        // captures/lldp_med.pcap: lldpd -M 4 with two policies, MED power and inventory.
        let all = frames("lldp_med.pcap");
        assert!(all.len() >= 3);
        for frame in &all {
            let Some(Heard::Neighbour(n)) = decode_frame(frame) else { panic!("not decoded") };
            assert_eq!(n.system_name.as_deref(), Some("sw-lab-1"));
            let med = n.med.as_ref().expect("LLDP-MED TLVs");
            assert_eq!(
                med.capabilities,
                ["capabilities", "network_policy", "location", "power_pse", "power_pd", "inventory"]
            );
            assert_eq!(med.device_type.as_deref(), Some("network_connectivity"));
            // As tcpdump -v decodes them: voice tagged VLAN 100, priority 5, DSCP 46 (EF);
            // voice signaling VLAN 100, priority 2, DSCP 24.
            let expected = |application: &str, priority, dscp| NetworkPolicy {
                application: application.into(),
                unknown: false,
                tagged: true,
                vlan: Some(100),
                priority,
                dscp,
            };
            assert_eq!(med.policies, [expected("voice", 5, 46), expected("voice_signaling", 2, 24)]);
            assert_eq!(med.voice().and_then(|p| p.vlan), Some(100));
            // The power byte is 0x12: type 0 (PSE; tcpdump 4.99 prints "PD device" through
            // an operator-precedence slip), source primary, priority high; 154 x 0.1 W.
            let power = med.power.as_ref().unwrap();
            assert_eq!(
                (power.device.as_str(), power.source.as_str(), power.priority.as_str(), power.power_mw),
                ("pse", "primary", "high", 15_400)
            );
            let inv = &med.inventory;
            assert_eq!(inv.hardware_revision.as_deref(), Some("rev B2"));
            assert_eq!(inv.firmware_revision.as_deref(), Some("fw 15.2(7)E"));
            assert_eq!(inv.software_revision.as_deref(), Some("Unknown"), "lldpd sends its own");
            assert_eq!(inv.serial_number.as_deref(), Some("FOC1234X0AB"));
            assert_eq!(inv.manufacturer.as_deref(), Some("Lab Networks"));
            assert_eq!(inv.model.as_deref(), Some("LS-2960-24PC"));
            assert_eq!(inv.asset_id.as_deref(), Some("asset-0042"));
        }
        // Without MED TLVs there is no `med`.
        let Some(Heard::Neighbour(plain)) = decode_frame(&frames("lldp.pcap")[0]) else { panic!() };
        assert_eq!(plain.med, None);
    }

    #[test]
    fn short_or_odd_med_tlvs_add_nothing_or_name_what_they_are() {
        let mut m = Med::default();
        for (subtype, info) in [(1u8, &[0u8, 1][..]), (2, &[1, 0, 0]), (4, &[0x12, 0]), (3, &[1, 2, 3])] {
            med(&mut m, subtype, info);
        }
        assert_eq!(m, Med::default(), "too short for their subtype, or location (not read)");
        // The U flag, VLAN 0 (priority tagged) and a reserved application type.
        med(&mut m, 2, &[9, 0x80, 0x00, 0x00]);
        assert_eq!(
            m.policies,
            [NetworkPolicy {
                application: "type 9".into(),
                unknown: true,
                tagged: false,
                vlan: None,
                priority: 0,
                dscp: 0
            }]
        );
        assert_eq!(m.voice(), None);
        // A PD drawing from PSE and local power, critical, 25.5 W.
        med(&mut m, 4, &[0x71, 0x00, 0xff]);
        let p = m.power.clone().unwrap();
        assert_eq!(
            (p.device.as_str(), p.source.as_str(), p.priority.as_str(), p.power_mw),
            ("pd", "pse_and_local", "critical", 25_500)
        );
        // Inventory text is cut at 32 characters.
        med(&mut m, 10, &[b'x'; 200]);
        assert_eq!(m.inventory.model.as_ref().map(String::len), Some(32));
        // Policies are bounded, one per application.
        for app in 0..=255u8 {
            med(&mut m, 2, &[app, 0x40, 0xc9, 0x6e]);
        }
        assert_eq!(m.policies.len(), MAX_POLICIES);
    }

    #[test]
    fn lldpd_frames_decode_with_every_tlv_it_sent() {
        let all = frames("lldp.pcap");
        assert!(all.len() >= 3);
        for frame in &all {
            let Some(Heard::Neighbour(n)) = decode_frame(frame) else { panic!("not decoded") };
            assert_eq!(n.protocol, Protocol::Lldp);
            assert_eq!(n.system_name.as_deref(), Some("sw-lab-1"));
            assert_eq!(n.port_id.as_deref(), Some("Gi1/0/14"));
            assert_eq!(n.port_description.as_deref(), Some("desk-214"));
            assert_eq!(n.port_name(), Some("Gi1/0/14"));
            assert_eq!(n.system_description.as_deref(), Some("nettriage lab switch"));
            assert_eq!(n.ttl_secs, Some(4));
            assert_eq!(n.port_vlan, Some(42));
            assert_eq!(n.vlans, [VlanName { id: 42, name: "staff".into() }]);
            assert_eq!(n.mau_type, Some(54));
            assert_eq!((n.speed_mbps, n.duplex), (Some(10_000), Some(Duplex::Full)));
            let power = n.power.unwrap();
            assert_eq!((power.class, power.requested_mw, power.allocated_mw), (Some(3), Some(15_400), Some(7_000)));
            assert!(power.pse && power.enabled);
            assert_eq!(n.aggregation.map(|a| (a.capable, a.enabled)), Some((true, false)));
            assert!(n.management_addresses.contains(&"198.18.0.1".parse().unwrap()));
            assert_eq!(n.capabilities, ["station"]);
            assert_eq!(n.chassis_id, n.source_mac.map(|m| m.to_string()));
        }
    }

    #[test]
    fn every_truncation_of_a_real_frame_is_an_error_or_none_never_a_panic() {
        let frame = &frames("lldp.pcap")[0];
        for cut in 0..frame.len() {
            match decode_frame(&frame[..cut]) {
                None | Some(Heard::Malformed(..)) => {}
                // Cut right after a whole TLV: still a valid LLDPDU (no End TLV needed).
                Some(Heard::Neighbour(n)) => assert!(n.ttl_secs.is_some(), "cut {cut}"),
            }
        }
    }

    #[test]
    fn mandatory_tlvs_must_lead() {
        // Port id first: discarded.
        let pdu = [0x04, 0x02, 0x07, b'x', 0x02, 0x02, 0x07, b'y', 0x06, 0x02, 0x00, 0x78];
        assert_eq!(decode_lldpdu(&pdu), Err(DecodeError::MissingMandatory));
        // A length beyond the end.
        assert_eq!(decode_lldpdu(&[0x02, 0x50, 0x07]), Err(DecodeError::Truncated { at: 0 }));
        // An empty chassis id.
        assert!(matches!(decode_lldpdu(&[0x02, 0x01, 0x07]), Err(DecodeError::BadLength { tlv: 1, .. })));
        let ok = [0x02, 0x02, 0x07, b'x', 0x04, 0x02, 0x07, b'y', 0x06, 0x02, 0x00, 0x78, 0, 0];
        let n = decode_lldpdu(&ok).unwrap();
        assert_eq!((n.chassis_id.as_deref(), n.port_id.as_deref(), n.ttl_secs), (Some("x"), Some("y"), Some(120)));
    }

    #[test]
    fn mau_types_give_speed_and_duplex() {
        assert_eq!(mau_speed_duplex(16), Some((100, Some(Duplex::Full))));
        assert_eq!(mau_speed_duplex(15), Some((100, Some(Duplex::Half))));
        assert_eq!(mau_speed_duplex(30), Some((1000, Some(Duplex::Full))));
        assert_eq!(mau_speed_duplex(10), Some((10, Some(Duplex::Half))));
        assert_eq!(mau_speed_duplex(999), None);
        assert_eq!(
            mau_from_description("10GbaseT - Four-pair Category 6A or better, full duplex mode only"),
            (Some(10_000), Some(Duplex::Full))
        );
        assert_eq!(
            mau_from_description("100BaseTXHD - 2 pair category 5 UTP, half duplex mode"),
            (Some(100), Some(Duplex::Half))
        );
        assert_eq!(mau_from_description("1000BaseTFD"), (Some(1000), Some(Duplex::Full)));
        assert_eq!(mau_from_description("unknown"), (None, None));
    }

    #[test]
    fn text_is_bounded_and_printable() {
        assert_eq!(text(b"  sw\x00\x01-1\n "), Some("sw-1".into()));
        assert_eq!(text(&[0xff; 600]).unwrap().chars().count(), MAX_TEXT);
        assert_eq!(text(b"\x00\x00"), None);
    }

    const LLDPCLI_ONE: &str = r#"{
      "lldp": {"interface": {"eth0": {
        "via": "LLDP", "rid": "1", "age": "0 day, 00:00:04",
        "chassis": {"sw-lab-1": {
          "id": {"type": "mac", "value": "4e:9c:50:f2:13:50"},
          "descr": "nettriage lab switch",
          "mgmt-ip": ["198.18.0.1", "fe80::4c9c:50ff:fef2:1350"],
          "mgmt-iface": "2",
          "capability": [{"type": "Bridge", "enabled": true}, {"type": "Router", "enabled": false}]
        }},
        "port": {
          "id": {"type": "local", "value": "Gi1/0/14"},
          "descr": "desk-214", "ttl": "4",
          "auto-negotiation": {"supported": true, "enabled": true, "current": "100BaseTXHD - 2 pair category 5 UTP, half duplex mode"},
          "power": {"supported": true, "enabled": true, "paircontrol": true, "device-type": "PSE", "pairs": "signal",
                    "class": "class 3", "power-type": "2", "source": "PSE", "priority": "low", "requested": "15400", "allocated": "7000"}
        },
        "vlan": [{"vlan-id": "42", "pvid": true, "value": "staff"}, {"vlan-id": "50", "pvid": false, "value": "voice"}]
      }}}
    }"#;

    #[test]
    fn lldpcli_json_reads_into_the_same_neighbour() {
        let all = parse_lldpcli_json(LLDPCLI_ONE, Some("eth0")).unwrap();
        let [n] = all.as_slice() else { panic!("{all:?}") };
        assert_eq!((n.via, n.protocol), (Via::Lldpd, Protocol::Lldp));
        assert_eq!(n.switch_name(), Some("sw-lab-1"));
        assert_eq!(n.port_name(), Some("Gi1/0/14"));
        assert_eq!(n.chassis_id.as_deref(), Some("4e:9c:50:f2:13:50"));
        assert_eq!(n.port_vlan, Some(42));
        assert_eq!(n.vlans.len(), 2);
        assert_eq!((n.speed_mbps, n.duplex), (Some(100), Some(Duplex::Half)));
        assert_eq!(n.power.and_then(|p| p.allocated_mw), Some(7000));
        assert_eq!(n.power.and_then(|p| p.class), Some(3));
        assert_eq!(n.management_addresses.len(), 2);
        assert_eq!(n.capabilities, ["bridge"]);
        assert!(parse_lldpcli_json(LLDPCLI_ONE, Some("eth1")).unwrap().is_empty());
    }

    #[test]
    fn lldpcli_json_of_several_interfaces_none_and_garbage() {
        let cdp = r#"{"lldp": {"interface": [
            {"eth0": {"via": "CDPv2", "chassis": {"sw-2": {"id": {"type": "local", "value": "sw-2"}}}, "port": {"id": {"type": "ifname", "value": "Gi0/3"}}}},
            {"eth1": {"via": "LLDP", "chassis": {"id": {"type": "mac", "value": "00:11:22:33:44:55"}}, "port": {"id": {"type": "mac", "value": "00:11:22:33:44:56"}, "descr": "port 9"}}}
        ]}}"#;
        let all = parse_lldpcli_json(cdp, None).unwrap();
        assert_eq!(all.len(), 2);
        assert_eq!((all[0].protocol, all[0].switch_name()), (Protocol::Cdp, Some("sw-2")));
        assert_eq!((all[1].switch_name(), all[1].port_name()), (Some("00:11:22:33:44:55"), Some("port 9")));
        assert!(parse_lldpcli_json(r#"{"lldp": {}}"#, None).unwrap().is_empty());
        assert!(parse_lldpcli_json(r#"{"lldp": [{}]}"#, None).unwrap().is_empty());
        assert!(parse_lldpcli_json("not json", None).is_err());
        assert!(parse_lldpcli_json(r#"{"other": 1}"#, None).is_err());
        assert_eq!(parse_lldpcli_json(r#"{"lldp": {"interface": {"eth0": 7}}}"#, None).unwrap().len(), 1);
    }
}
