//! Packet sockets on an Ethernet interface (pnet), shared by ARP, DHCP and the capture.
//!
//! One place opens the socket and turns its failures into [`PacketError`], so a missing
//! CAP_NET_RAW reads the same whichever check hit it.

use std::time::Duration;

use pnet::datalink::{self, Channel, Config, DataLinkReceiver, DataLinkSender};

/// How long one receive call waits, so loops can check their own deadlines.
pub const READ_TIMEOUT: Duration = Duration::from_millis(20);

/// A packet socket could not be used.
#[derive(Debug, thiserror::Error)]
pub enum PacketError {
    /// Opening the socket was not permitted.
    #[error("opening a packet socket on {0} needs CAP_NET_RAW")]
    NoPrivilege(String),
    /// The interface is not visible to pnet or is not Ethernet.
    #[error("interface {0} cannot carry Ethernet frames on a packet socket")]
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

impl PacketError {
    /// Wraps an error of a send or receive on `interface`.
    pub fn io(interface: &str, source: std::io::Error) -> PacketError {
        PacketError::Io { interface: interface.to_string(), source }
    }
}

/// The two halves of an open packet socket.
pub type Halves = (Box<dyn DataLinkSender>, Box<dyn DataLinkReceiver>);

/// Opens a non-promiscuous packet socket on `interface` whose receives time out after
/// [`READ_TIMEOUT`].
pub fn open(interface: &str) -> Result<Halves, PacketError> {
    open_with(interface, false)
}

/// [`open`], promiscuous when asked: the neighbours check listens for LLDP's and CDP's
/// group addresses, which the kernel does not join (the mode ends when the socket closes).
pub fn open_with(interface: &str, promiscuous: bool) -> Result<Halves, PacketError> {
    let iface = datalink::interfaces()
        .into_iter()
        .find(|i| i.name == interface)
        .ok_or_else(|| PacketError::NoInterface(interface.to_string()))?;
    let config = Config { read_timeout: Some(READ_TIMEOUT), promiscuous, ..Config::default() };
    match datalink::channel(&iface, config) {
        Ok(Channel::Ethernet(tx, rx)) => Ok((tx, rx)),
        Ok(_) => Err(PacketError::NoInterface(interface.to_string())),
        Err(e) if e.kind() == std::io::ErrorKind::PermissionDenied => {
            Err(PacketError::NoPrivilege(interface.to_string()))
        }
        Err(source) => Err(PacketError::io(interface, source)),
    }
}

/// Whether a receive error only means "nothing arrived yet".
pub fn is_idle(e: &std::io::Error) -> bool {
    matches!(e.kind(), std::io::ErrorKind::TimedOut | std::io::ErrorKind::WouldBlock | std::io::ErrorKind::Interrupted)
}
