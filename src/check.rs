//! What a check is: its context, its outcome, and how it fails to run.
//!
//! A check is an async function `run(&CheckContext) -> Result<Outcome, CheckError>` in
//! `check/<layer>.rs`. It is split in two halves: an I/O half that gathers observations
//! through [`crate::platform`] and a pure `judge` half that turns observations into
//! findings, where most unit tests live; only the I/O half needs the `live` feature. A
//! broken layer is an `Ok(Outcome)` with `fail` findings; `Err(CheckError)` means the
//! check could not run at all. The runner (`runner.rs`) decides when each check runs and
//! what blocks it.

pub mod ad;
pub mod dhcp;
pub mod dns;
pub mod gateway;
pub mod ipv6;
pub mod link;
pub mod m365;
pub mod neighbours;
pub mod path;
pub mod ports;
pub mod printers;
pub mod rdp;
pub mod smb;
pub mod web;
pub mod wifi;

use std::collections::BTreeSet;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

use crate::config::Config;
use crate::platform::netlink::{Interface, NetSnapshot};
use crate::platform::privilege::Privileges;
use crate::report::{CheckId, CheckStatus, Code, Evidence, Finding, Severity, SkipReason};

/// What every check may read.
pub struct CheckContext<'a> {
    /// Validated settings.
    pub config: &'a Config,
    /// Links, addresses and routes, read once at the start of the run.
    pub snapshot: &'a NetSnapshot,
    /// The interface under test, if one was found.
    pub interface: Option<&'a Interface>,
    /// Capabilities the process holds.
    pub privileges: Privileges,
    /// Facts that earlier checks hand to later ones.
    pub facts: &'a Facts,
    /// When the run's deadline passes: the runner ends a check still running then as
    /// `tool.timeout`, so a check that waits on the network stops by [`Self::cutoff`] and
    /// reports what it observed so far.
    pub deadline: Instant,
}

/// How long before the run's deadline a check stops waiting, to judge and hand back what
/// it saw before the runner gives up on it.
pub const WRAP_UP: Duration = Duration::from_millis(100);

impl CheckContext<'_> {
    /// When a check must stop waiting on the network: the run's deadline less [`WRAP_UP`].
    pub fn cutoff(&self) -> Instant {
        self.deadline.checked_sub(WRAP_UP).unwrap_or(self.deadline)
    }
}

/// Facts handed between checks. Each slot is written once, by the check that owns it;
/// the runner writes which checks finished and whether the DHCP listener is the last one
/// still running.
#[derive(Debug, Default)]
pub struct Facts {
    /// Names resolved by the dns check.
    pub dns: OnceLock<dns::DnsFacts>,
    /// The MTU a router advertisement announced (its MTU option), for the path check to
    /// compare with the interface's (`link.mtu_mismatch`). A hook for the IPv6 addressing
    /// check, which owns the router advertisements and sets it when one carried the option;
    /// nothing sets it until that check does.
    pub ra_mtu: OnceLock<u32>,
    /// WPAD through DHCP, for the web check's proxy discovery: option 252 of a lease file,
    /// else of the first offer to the DISCOVER (`None`: neither carried it, or the probe did
    /// not run). Set once by the dhcp check as soon as it knows, which is long before it
    /// finishes (its listener stays open for the run); shared with the listener's thread.
    pub dhcp_wpad: Arc<OnceLock<Option<crate::platform::proxy::DhcpWpad>>>,
    /// Set by the runner once no check but dhcp is running or can still start without it:
    /// the DISCOVER's listener may then stop when its minimum window has passed. Shared
    /// with the listener's blocking thread.
    pub dhcp_alone: Arc<AtomicBool>,
    /// Set by the runner once every other check has finished (or cannot start): the
    /// neighbours listener, which without `--neighbours` listens only while the run lasts
    /// anyway, then stops. Shared with the listener's blocking thread.
    pub neighbours_alone: Arc<AtomicBool>,
    finished: Mutex<BTreeSet<CheckId>>,
    #[cfg(feature = "live")]
    changed: tokio::sync::Notify,
}

impl Facts {
    /// Records that `id` has its result (the runner calls it for every check, skipped
    /// ones too) and wakes whoever waits for it.
    pub fn mark_finished(&self, id: CheckId) {
        self.finished.lock().unwrap_or_else(std::sync::PoisonError::into_inner).insert(id);
        #[cfg(feature = "live")]
        self.changed.notify_waiters();
    }

    /// Whether `id` has its result.
    pub fn is_finished(&self, id: CheckId) -> bool {
        self.finished.lock().unwrap_or_else(std::sync::PoisonError::into_inner).contains(&id)
    }

    /// Waits until `id` has its result: a check that needs another's facts for part of its
    /// work (ports: the addresses of named targets) starts at once and waits only there.
    #[cfg(feature = "live")]
    pub async fn finished(&self, id: CheckId) {
        loop {
            let notified = self.changed.notified();
            tokio::pin!(notified);
            // Registered before looking, so a mark between the look and the wait is seen.
            notified.as_mut().enable();
            if self.is_finished(id) {
                return;
            }
            notified.await;
        }
    }

    /// Tells the DHCP listener whether it is alone (see [`Facts::dhcp_alone`]).
    pub fn set_dhcp_alone(&self, alone: bool) {
        self.dhcp_alone.store(alone, Ordering::Release);
    }

    /// Tells the neighbours listener whether it is alone (see [`Facts::neighbours_alone`]).
    pub fn set_neighbours_alone(&self, alone: bool) {
        self.neighbours_alone.store(alone, Ordering::Release);
    }
}

/// One target of a service profile and whether it worked: what
/// `nettriage_profile_check_success{profile, target}` reports per target.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProfileTarget {
    /// The target as the report names it (a host, `\\server\share`, a URL, a printer).
    pub target: String,
    /// Whether the profile could use it.
    pub success: bool,
}

/// What a check that ran (or chose not to) produced.
#[derive(Debug, Clone, PartialEq)]
pub enum Outcome {
    /// The check ran; its status follows from the worst finding.
    Ran {
        /// What it found (empty: pass).
        findings: Vec<Finding>,
        /// Measurements: the layer's own evidence variant.
        evidence: Evidence,
    },
    /// The check did not apply or was blocked by data from an earlier check.
    Skipped {
        /// Why, as a stable code.
        code: SkipReason,
        /// Why, in words.
        reason: String,
        /// The check whose failure blocked it, if that is the reason.
        blocked_by: Option<CheckId>,
        /// Whatever was observed before deciding to skip.
        evidence: Evidence,
    },
}

/// A check that could not run.
#[derive(Debug, thiserror::Error)]
pub enum CheckError {
    /// A capability the check needs is missing.
    #[error("needs {capability} to {operation}; run with sudo or `setcap cap_net_raw,cap_net_admin+ep` on the binary")]
    NoPrivilege {
        /// e.g. `CAP_NET_RAW`.
        capability: &'static str,
        /// What it was for, e.g. `send ARP requests`.
        operation: &'static str,
    },
    /// An operating-system call failed.
    #[error("{operation}: {source}")]
    Os {
        /// What was being done.
        operation: String,
        /// The error.
        source: std::io::Error,
    },
    /// The run has no interface to test (the link check reports why).
    #[error("no interface under test")]
    NoInterface,
    /// A packet socket failed after it was opened.
    #[error(transparent)]
    Packet(crate::platform::packet::PacketError),
    /// A blocking probe task panicked or was cancelled.
    #[cfg(feature = "live")]
    #[error("{operation} task failed: {source}")]
    Task {
        /// Which probe, e.g. `DHCP probe`.
        operation: &'static str,
        /// Why the task ended.
        source: tokio::task::JoinError,
    },
    /// The CA file given with `--ca-file` (or `web.ca_file`) could not be used.
    #[error("cannot use CA file {}: {reason}", path.display())]
    CaFile {
        /// The file.
        path: std::path::PathBuf,
        /// Why.
        reason: String,
    },
    /// The interface is wireless but nl80211 could not be used on it.
    #[error("{interface} is a Wi-Fi interface, but {source}")]
    Wifi {
        /// The interface.
        interface: String,
        /// The nl80211 error.
        source: crate::platform::wifi::WifiError,
    },
}

impl From<crate::platform::packet::PacketError> for CheckError {
    fn from(e: crate::platform::packet::PacketError) -> CheckError {
        match e {
            crate::platform::packet::PacketError::NoPrivilege(_) => {
                CheckError::NoPrivilege { capability: "CAP_NET_RAW", operation: "open a packet socket (ARP, DHCP)" }
            }
            other => CheckError::Packet(other),
        }
    }
}

impl CheckError {
    /// The finding code that stands for this error in reports.
    pub fn code(&self) -> Code {
        match self {
            CheckError::NoPrivilege { .. } => Code::ToolNoPrivilege,
            CheckError::Os { .. }
            | CheckError::NoInterface
            | CheckError::Packet(_)
            | CheckError::Wifi { .. }
            | CheckError::CaFile { .. } => Code::ToolCheckError,
            #[cfg(feature = "live")]
            CheckError::Task { .. } => Code::ToolCheckError,
        }
    }

    /// Wraps an io error, recognising a permission error as missing privileges.
    pub fn from_io(
        operation: impl Into<String>,
        capability: &'static str,
        what_for: &'static str,
        source: std::io::Error,
    ) -> CheckError {
        if source.kind() == std::io::ErrorKind::PermissionDenied {
            CheckError::NoPrivilege { capability, operation: what_for }
        } else {
            CheckError::Os { operation: operation.into(), source }
        }
    }
}

/// Where a check's observations came from: the one thing, besides the evidence itself,
/// that a layer's `judge` is told. A live run probes actively and knows which address is
/// its gateway and how long its own probes took; a capture (`nettriage analyze`) is
/// passive, may miss unicast replies sent to other hosts, and sees other hosts' retries
/// and ARP sweeps. Each layer's page in docs/checks/ says what the judge does differently
/// ("Live and capture").
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Source {
    /// Observed by this run's own probes.
    #[default]
    Live,
    /// Read from a packet capture.
    Capture,
}

/// At most `max` items joined with `sep`, the rest counted ("; and 3 more"): finding
/// messages stay bounded however many targets a capture holds.
pub fn named(items: &[String], sep: &str, max: usize) -> String {
    let mut text = items.iter().take(max).cloned().collect::<Vec<_>>().join(sep);
    if items.len() > max {
        text.push_str(&format!("{sep}and {} more", items.len() - max));
    }
    text
}

/// A finding for `layer`.
pub fn finding(layer: CheckId, code: Code, severity: Severity, message: impl Into<String>) -> Finding {
    Finding { code, severity, layer, message: message.into() }
}

/// The status that a list of findings earns.
pub fn status_of(findings: &[Finding]) -> CheckStatus {
    match findings.iter().map(|f| f.severity).max() {
        None => CheckStatus::Pass,
        Some(Severity::Warn) => CheckStatus::Warn,
        Some(Severity::Fail) => CheckStatus::Fail,
    }
}
