//! Reading packet captures (classic pcap), for replaying recorded exchanges.
//!
//! A thin, bounded wrapper over the `pcap-file` crate: captures come from the network and
//! from users, so the file size and frame count are capped and a damaged file is an error,
//! never a panic. Only Ethernet captures (link type 1) are returned as frames; decoding
//! them is [`crate::wire`]'s job (`udp_datagram` and `UdpDatagram` are re-exported from
//! there for the readers of captures).

use std::path::Path;
use std::time::Duration;

use pcap_file::DataLink;
use pcap_file::pcap::PcapReader;

pub use crate::wire::{UdpDatagram, udp_datagram};

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
    #[error("not a readable pcap capture: {0}")]
    Format(#[source] pcap_file::PcapError),
    /// More than [`MAX_FRAMES`] frames.
    #[error("more than {MAX_FRAMES} frames")]
    TooManyFrames,
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
    let mut reader = PcapReader::new(bytes).map_err(PcapError::Format)?;
    let link = reader.header().datalink;
    if link != DataLink::ETHERNET {
        return Err(PcapError::LinkType(link));
    }
    let mut frames = Vec::new();
    while let Some(packet) = reader.next_packet() {
        let packet = packet.map_err(PcapError::Format)?;
        if frames.len() == MAX_FRAMES {
            return Err(PcapError::TooManyFrames);
        }
        frames.push(Frame { timestamp: packet.timestamp, data: packet.data.into_owned() });
    }
    Ok(frames)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn garbage_and_truncated_captures_are_errors_not_panics() {
        assert!(matches!(read_bytes(b""), Err(PcapError::Format(_))));
        assert!(matches!(read_bytes(b"not a pcap file at all, just text"), Err(PcapError::Format(_))));
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
