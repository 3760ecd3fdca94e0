//! Packet sockets on an Ethernet interface (pnet), shared by ARP, DHCP and the capture.
//!
//! One place opens the socket and turns its failures into [`PacketError`], so a missing
//! CAP_NET_RAW reads the same whichever check hit it. Sockets can be opened ahead
//! ([`preopen`], before the run drops its capabilities: `platform::privilege`); [`open`]
//! then hands out one of those, emptied of the frames it queued while it waited, before it
//! tries to open a new one.

use std::sync::{Mutex, PoisonError};
use std::time::{Duration, Instant};

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

/// Packet sockets opened before the capability drop, with their interface.
/// Each is kept with whether it is promiscuous.
static PREOPENED: Mutex<Vec<(String, bool, Halves)>> = Mutex::new(Vec::new());

/// The most a pre-opened socket's queue is read to empty it before use.
const DRAIN_LIMIT: Duration = Duration::from_millis(60);

/// Opens `count` packet sockets on `interface` now, for [`open`] to hand out later (after
/// the capabilities are dropped). Returns how many were opened.
pub fn preopen(interface: &str, count: usize) -> Result<usize, PacketError> {
    preopen_with(interface, count, false)
}

/// [`preopen`] in the given mode: the neighbours check's socket is promiscuous
/// ([`open_with`]).
pub fn preopen_with(interface: &str, count: usize, promiscuous: bool) -> Result<usize, PacketError> {
    let mut opened = Vec::with_capacity(count);
    for _ in 0..count {
        opened.push((interface.to_string(), promiscuous, open_new(interface, promiscuous)?));
    }
    PREOPENED.lock().unwrap_or_else(PoisonError::into_inner).extend(opened);
    Ok(count)
}

/// Closes the pre-opened sockets nobody took (the end of a run).
pub fn release_preopened() {
    PREOPENED.lock().unwrap_or_else(PoisonError::into_inner).clear();
}

/// A packet socket on `interface`: a pre-opened one ([`preopen`]) when one is left, its
/// queued frames read away first so that nothing older than the call is seen; else a new
/// one (non-promiscuous, receives time out after [`READ_TIMEOUT`]). Blocking when it
/// empties a queue (up to 60 ms): call it where blocking is allowed.
pub fn open(interface: &str) -> Result<Halves, PacketError> {
    open_with(interface, false)
}

/// [`open`], promiscuous when asked: the neighbours check listens for LLDP's and CDP's
/// group addresses, which the kernel does not join (the mode ends when the socket closes).
/// A pre-opened socket of the same mode is handed out first, as by [`open`].
pub fn open_with(interface: &str, promiscuous: bool) -> Result<Halves, PacketError> {
    let taken = {
        let mut pool = PREOPENED.lock().unwrap_or_else(PoisonError::into_inner);
        pool.iter()
            .position(|(name, promisc, _)| name == interface && *promisc == promiscuous)
            .map(|i| pool.swap_remove(i).2)
    };
    match taken {
        Some((tx, mut rx)) => {
            let start = Instant::now();
            while start.elapsed() < DRAIN_LIMIT && rx.next().is_ok() {}
            Ok((tx, rx))
        }
        None => open_new(interface, promiscuous),
    }
}

fn open_new(interface: &str, promiscuous: bool) -> Result<Halves, PacketError> {
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
