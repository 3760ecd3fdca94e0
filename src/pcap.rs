//! Reading packet captures (classic pcap), for replaying recorded exchanges.
//!
//! A thin, bounded wrapper over the `pcap-file` crate: captures come from the network and
//! from users, so the file size and frame count are capped and a damaged file is an error,
//! never a panic. Only Ethernet captures (link type 1) are returned as frames.

use std::net::{IpAddr, SocketAddr};
use std::path::Path;
use std::time::Duration;

use pnet::packet::Packet;
use pnet::packet::ethernet::{EtherTypes, EthernetPacket};
use pnet::packet::ip::IpNextHeaderProtocols;
use pnet::packet::ipv4::Ipv4Packet;
use pnet::packet::ipv6::Ipv6Packet;
use pnet::packet::udp::UdpPacket;

use pcap_file::DataLink;
use pcap_file::pcap::PcapReader;

/// Largest capture file read (256 MiB).
pub const MAX_FILE_BYTES: u64 = 256 * 1024 * 1024;
/// Most frames read from one capture.
pub const MAX_FRAMES: usize = 1_000_000;

/// One captured Ethernet frame.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Frame {
    /// Capture time since the Unix epoch.
    pub timestamp: Duration,
    /// The frame's bytes, from the Ethernet header on.
    pub data: Vec<u8>,
}

/// A capture that could not be read.
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
    /// Larger than [`MAX_FILE_BYTES`].
    #[error("{path} is larger than {MAX_FILE_BYTES} bytes")]
    TooLarge {
        /// The file.
        path: String,
    },
    /// Not a pcap file, or damaged.
    #[error("{0}")]
    Format(String),
    /// Not an Ethernet capture.
    #[error("unsupported link type {0:?}: only Ethernet captures are read")]
    LinkType(DataLink),
}

/// Reads every Ethernet frame of the pcap file at `path`.
pub fn read_file(path: impl AsRef<Path>) -> Result<Vec<Frame>, PcapError> {
    let path = path.as_ref();
    let shown = path.display().to_string();
    let meta = std::fs::metadata(path).map_err(|source| PcapError::Io { path: shown.clone(), source })?;
    if meta.len() > MAX_FILE_BYTES {
        return Err(PcapError::TooLarge { path: shown });
    }
    let bytes = std::fs::read(path).map_err(|source| PcapError::Io { path: shown, source })?;
    read_bytes(&bytes)
}

/// Reads every Ethernet frame of a pcap held in memory.
pub fn read_bytes(bytes: &[u8]) -> Result<Vec<Frame>, PcapError> {
    let mut reader = PcapReader::new(bytes).map_err(|e| PcapError::Format(e.to_string()))?;
    let link = reader.header().datalink;
    if link != DataLink::ETHERNET {
        return Err(PcapError::LinkType(link));
    }
    let mut frames = Vec::new();
    while let Some(packet) = reader.next_packet() {
        let packet = packet.map_err(|e| PcapError::Format(e.to_string()))?;
        if frames.len() == MAX_FRAMES {
            return Err(PcapError::Format(format!("more than {MAX_FRAMES} frames")));
        }
        frames.push(Frame { timestamp: packet.timestamp, data: packet.data.into_owned() });
    }
    Ok(frames)
}

/// A UDP datagram found in an Ethernet frame.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UdpDatagram {
    /// Sender.
    pub src: SocketAddr,
    /// Receiver.
    pub dst: SocketAddr,
    /// The UDP payload.
    pub payload: Vec<u8>,
}

/// Extracts the UDP datagram of an Ethernet/IPv4 or Ethernet/IPv6 frame (pure; anything
/// else, including a truncated or inconsistent header, is `None`).
pub fn udp_datagram(frame: &[u8]) -> Option<UdpDatagram> {
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn garbage_and_truncated_captures_are_errors_not_panics() {
        assert!(read_bytes(b"").is_err());
        assert!(read_bytes(b"not a pcap file at all, just text").is_err());
        let good = std::fs::read(concat!(env!("CARGO_MANIFEST_DIR"), "/captures/arp_gateway.pcap")).unwrap();
        assert!(!read_bytes(&good).unwrap().is_empty());
        for cut in 0..good.len() {
            let _ = read_bytes(&good[..cut]);
        }
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
