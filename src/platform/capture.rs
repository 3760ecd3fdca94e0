//! Packet evidence (`--capture FILE.pcap`): every packet the checks send and receive on
//! the tested interface, written as a classic pcap a technician opens in Wireshark.
//!
//! A packet socket on the interface sees incoming frames and outgoing ones (also those the
//! other checks send on their own packet sockets). Only what the checks produce is kept —
//! ARP, ICMP/ICMPv6, DNS, DHCP, and TCP to or from the target ports (`is_relevant`, pure) —
//! so the file holds the run's exchanges, not the machine's other traffic. The recorder
//! runs on its own thread until stopped and is bounded in packets and bytes.

use std::fs::File;
use std::io::BufWriter;
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::JoinHandle;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use crate::platform::packet::{self, PacketError};
use crate::wire::{self, Net, Transport};
use pcap_file::DataLink;
use pcap_file::pcap::{PcapHeader, PcapPacket, PcapWriter};

/// Most packets one capture keeps.
pub const MAX_PACKETS: u64 = 100_000;
/// Most bytes of packet data one capture keeps (64 MiB).
pub const MAX_BYTES: u64 = 64 * 1024 * 1024;

/// Why a capture could not start or finish.
#[derive(Debug, thiserror::Error)]
pub enum CaptureError {
    /// The packet socket could not be opened or read.
    #[error("cannot capture: {0}")]
    Socket(#[from] PacketError),
    /// A file or socket error.
    #[error("capture to {path}: {source}")]
    Io {
        /// The pcap file.
        path: String,
        /// Why.
        source: std::io::Error,
    },
}

/// Whether the run's checks could have produced `frame` (pure): ARP, ICMP/ICMPv6, DNS
/// (53), DHCP (67/68), TCP with a port in `tcp_ports`, and IP fragments (whose ports only
/// the first fragment shows; keeping them lets `analyze` reassemble a large DNS answer),
/// at any VLAN depth. Decoded by [`crate::wire`]; a frame it rejects is not kept.
pub fn is_relevant(frame: &[u8], tcp_ports: &[u16]) -> bool {
    let Ok(packet) = wire::decode(frame) else { return false };
    match packet.net {
        Net::Arp(_) => true,
        Net::Other { ether_type } => ether_type == wire::ETHERTYPE_ARP,
        Net::Ip(ip) => match ip.transport {
            Transport::Icmp(_) | Transport::Icmpv6(_) | Transport::Fragment => true,
            Transport::Udp(u) => [u.src_port, u.dst_port].iter().any(|p| matches!(p, 53 | 67 | 68)),
            Transport::Tcp(t) => [t.src_port, t.dst_port].iter().any(|p| *p == 53 || tcp_ports.contains(p)),
            Transport::Other => false,
        },
    }
}

/// A capture running in the background.
pub struct Recorder {
    stop: Arc<AtomicBool>,
    thread: JoinHandle<Result<u64, CaptureError>>,
}

impl Recorder {
    /// Opens the packet socket and the file, and starts recording.
    pub fn start(interface: &str, path: &Path, tcp_ports: Vec<u16>) -> Result<Recorder, CaptureError> {
        let shown = path.display().to_string();
        let (_, mut rx) = packet::open(interface)?;
        let interface_name = interface.to_string();
        let io = |source| CaptureError::Io { path: shown.clone(), source };
        let file = BufWriter::new(File::create(path).map_err(io)?);
        let header = PcapHeader { datalink: DataLink::ETHERNET, snaplen: 65_535, ..PcapHeader::default() };
        let mut writer = PcapWriter::with_header(file, header)
            .map_err(|e| CaptureError::Io { path: shown.clone(), source: std::io::Error::other(e) })?;
        let stop = Arc::new(AtomicBool::new(false));
        let flag = Arc::clone(&stop);
        let thread = std::thread::Builder::new()
            .name("capture".into())
            .spawn(move || {
                let (mut packets, mut bytes) = (0u64, 0u64);
                while !flag.load(Ordering::Relaxed) {
                    match rx.next() {
                        Ok(frame) => {
                            if packets >= MAX_PACKETS || bytes + frame.len() as u64 > MAX_BYTES {
                                continue;
                            }
                            if is_relevant(frame, &tcp_ports) {
                                let now = SystemTime::now().duration_since(UNIX_EPOCH).unwrap_or_default();
                                let packet = PcapPacket::new(now, frame.len() as u32, frame);
                                writer.write_packet(&packet).map_err(|e| CaptureError::Io {
                                    path: shown.clone(),
                                    source: std::io::Error::other(e),
                                })?;
                                packets += 1;
                                bytes += frame.len() as u64;
                            }
                        }
                        Err(e) if packet::is_idle(&e) => {}
                        Err(source) => return Err(CaptureError::Socket(PacketError::io(&interface_name, source))),
                    }
                }
                let mut file = writer.into_writer();
                std::io::Write::flush(&mut file).map_err(|source| CaptureError::Io { path: shown, source })?;
                Ok(packets)
            })
            .map_err(|source| CaptureError::Io { path: path.display().to_string(), source })?;
        Ok(Recorder { stop, thread })
    }

    /// Stops recording (after a short grace period for the last replies) and returns the
    /// number of packets written.
    pub fn finish(self) -> Result<u64, CaptureError> {
        std::thread::sleep(Duration::from_millis(50));
        self.stop.store(true, Ordering::Relaxed);
        self.thread.join().unwrap_or_else(|_| {
            Err(CaptureError::Io { path: "capture".into(), source: std::io::Error::other("capture thread panicked") })
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_what_the_checks_send_and_nothing_else() {
        let frames = crate::pcap::read_file(concat!(env!("CARGO_MANIFEST_DIR"), "/captures/lab_healthy.pcap")).unwrap();
        let kept = frames.iter().filter(|f| is_relevant(&f.data, &[8080])).count();
        // Everything in the lab capture is the run's own traffic (ARP, ICMP, DNS, TCP to
        // 8080) or ICMPv6 router solicitations, which are ICMP too.
        assert_eq!(kept, frames.len());
        assert_eq!(frames.iter().filter(|f| is_relevant(&f.data, &[])).count(), frames.len() - 5, "the 5 TCP segments");
        for f in &frames {
            for cut in 0..f.data.len() {
                let _ = is_relevant(&f.data[..cut], &[8080]);
            }
        }
    }

    #[test]
    fn keeps_fragments_and_tagged_frames() {
        let frag = crate::pcap::read_file(concat!(env!("CARGO_MANIFEST_DIR"), "/captures/fragments.pcap")).unwrap();
        assert!(frag.iter().all(|f| is_relevant(&f.data, &[])), "a large DNS answer arrives in fragments");
        let frames = crate::pcap::read_file(concat!(env!("CARGO_MANIFEST_DIR"), "/captures/lab_healthy.pcap")).unwrap();
        for f in &frames {
            let mut tagged = f.data[..12].to_vec();
            tagged.extend_from_slice(&[0x88, 0xa8, 0, 100, 0x81, 0x00, 0, 10]);
            tagged.extend_from_slice(&f.data[12..]);
            assert_eq!(is_relevant(&tagged, &[8080]), is_relevant(&f.data, &[8080]));
            assert_eq!(is_relevant(&tagged, &[]), is_relevant(&f.data, &[]));
        }
    }
}
