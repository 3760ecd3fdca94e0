//! One run from validated config to a [`Report`], and the file work around it.
//!
//! [`collect`] reads the netlink snapshot once, picks the interface, opens the privileged
//! sockets the run will use and drops CAP_NET_RAW and CAP_NET_ADMIN
//! ([`PrivilegePolicy`], `platform::privilege`, docs/privileges.md), runs the check graph
//! (telling an observer as checks start and finish), diagnoses and builds the report.
//! [`write_report`] writes a report file atomically in the format its extension names,
//! [`analyze_file`] turns a capture into a report, [`read_report`] reads a stored
//! report for `diff`. Nothing here prints: the binary's command modules (`src/cmd/`) show
//! progress and write to stdout.

use std::path::Path;
use std::time::{Duration, Instant, SystemTime};

use crate::check::{CheckContext, Facts};
use crate::codes::Code;
use crate::config::{Config, Format};
use crate::diagnosis::diagnose;
use crate::files::WriteError;
use crate::history::HistoryError;
use crate::platform::capture::{CaptureError, Recorder};
use crate::platform::netlink::{NetSnapshot, NetlinkError};
use crate::platform::privilege::{self, DropStatus, NetCap, OpenedSockets, PrivilegeReport, Privileges, SocketKind};
use crate::platform::{icmp, packet};
use crate::progress::Progress;
use crate::redact::redact;
use crate::report::{CaptureInfo, CaptureNote, HostInfo, Report, SCHEMA_VERSION, Timestamp, ToolInfo};
use crate::{render, runner};

/// Exit code when the run could not happen (monitoring-plugins "unknown").
pub const EXIT_COULD_NOT_RUN: u8 = 3;

/// Why a run could not happen.
#[derive(Debug, thiserror::Error)]
pub enum RunError {
    /// Reading interfaces and routes failed.
    #[error(transparent)]
    Netlink(#[from] NetlinkError),
    /// Reading interfaces and routes hung.
    #[error("reading interfaces and routes from netlink timed out")]
    NetlinkTimeout,
    /// The requested interface does not exist.
    #[error(transparent)]
    Interface(#[from] crate::platform::netlink::NoSuchInterface),
    /// The packet capture could not be started or written.
    #[error(transparent)]
    Capture(#[from] CaptureError),
    /// A capture file could not be read.
    #[error("{}: {source}", path.display())]
    ReadCapture {
        /// The file.
        path: std::path::PathBuf,
        /// Why.
        source: crate::pcap::PcapError,
    },
    /// A report file could not be read.
    #[error("{}: {source}", path.display())]
    ReadReport {
        /// The file.
        path: std::path::PathBuf,
        /// Why.
        source: ReportFileError,
    },
    /// The run history could not be opened, read or written.
    #[error(transparent)]
    History(#[from] HistoryError),
    /// A command-line value is not what it should be.
    #[error("{flag}: `{value}` is not {expected}")]
    BadValue {
        /// The flag, e.g. `--since`.
        flag: &'static str,
        /// The value given.
        value: String,
        /// What it should be, e.g. `an RFC 3339 time`.
        expected: &'static str,
    },
    /// No stored run has this id.
    #[error("the history has no run with id {0}")]
    NoSuchRun(i64),
    /// Output could not be written (standard output).
    #[error("cannot write report to {path}: {source}")]
    Output {
        /// What was being written to.
        path: String,
        /// Why.
        source: std::io::Error,
    },
    /// A file (report, textfile, unit) could not be written atomically.
    #[error(transparent)]
    Write(#[from] WriteError),
    /// A directory (the default history's) could not be created.
    #[error("cannot create directory {}: {source}", path.display())]
    CreateDir {
        /// The directory.
        path: std::path::PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// The metrics textfile could not be written.
    #[error("cannot write the metrics textfile in {}: {source}", dir.display())]
    Textfile {
        /// The textfile collector's directory.
        dir: std::path::PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// The `/metrics` server could not listen.
    #[error("cannot listen on {addr}: {source}")]
    Listen {
        /// The address asked for.
        addr: std::net::SocketAddr,
        /// Why.
        source: std::io::Error,
    },
    /// SIGINT/SIGTERM could not be caught.
    #[error("cannot catch SIGINT and SIGTERM: {0}")]
    Signal(#[source] std::io::Error),
    /// The running binary's path, needed for the systemd unit, is unknown.
    #[error("cannot find the running binary's path: {0}")]
    CurrentExe(#[source] std::io::Error),
    /// An option was given to a command that has no use for it.
    #[error("{option} does not apply to `{command}`: {why}")]
    NotApplicable {
        /// The option as typed, e.g. `--format markdown`.
        option: String,
        /// The command, e.g. `history list`.
        command: &'static str,
        /// What to do instead.
        why: &'static str,
    },
    /// The self-test found no place to save its report.
    #[error("no place to save the report was found")]
    NoReportLocation,
    /// `survey install-timer` would write units that run a binary they must not run.
    #[error(
        "cannot write units that run {}: {reason}; install nettriage first (for example \
         `sudo install -m 0755 {} /usr/local/bin/nettriage`) and run install-timer from \
         there, or name the installed binary with --binary PATH",
        path.display(),
        path.display()
    )]
    UnitBinary {
        /// The binary.
        path: std::path::PathBuf,
        /// Why not ([`crate::systemd::unsuitable_binary`]).
        reason: &'static str,
    },
    /// `--redact` was asked for (or URL credentials had to be removed) and the report
    /// could not be redacted safely: nothing is written.
    #[error(transparent)]
    Redact(#[from] crate::redact::RedactError),
}

/// Why a report file does not read.
#[derive(Debug, thiserror::Error)]
pub enum ReportFileError {
    /// The file could not be read.
    #[error(transparent)]
    Io(#[from] std::io::Error),
    /// It is not JSON.
    #[error("not JSON: {0}")]
    NotJson(#[source] serde_json::Error),
    /// It is JSON, but not a report this build reads.
    #[error(transparent)]
    NotAReport(#[from] crate::diff::ReadError),
}

/// What a run does with its capabilities.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PrivilegePolicy {
    /// Open the privileged sockets the run will use, then drop CAP_NET_RAW and
    /// CAP_NET_ADMIN for the rest of the process (`run`, `selftest`): the process cannot
    /// open another one.
    DropAfterOpening,
    /// Keep them: a survey opens its sockets again on every run.
    Keep,
}

/// Runs every check, telling `observer` as checks start and finish, and returns the report
/// (redacted when the config says so). The capabilities are dropped once the privileged
/// sockets are open ([`PrivilegePolicy::DropAfterOpening`]).
pub async fn collect(config: &Config, observer: &(dyn Fn(Progress) + Sync)) -> Result<Report, RunError> {
    collect_with(config, observer, PrivilegePolicy::DropAfterOpening).await
}

/// Closes the sockets opened before the drop that no check took, however the run ends.
struct Preopened;

impl Drop for Preopened {
    fn drop(&mut self) {
        packet::release_preopened();
        icmp::release_preopened();
    }
}

/// [`collect`] with a choice of what to do with the capabilities.
pub async fn collect_with(
    config: &Config,
    observer: &(dyn Fn(Progress) + Sync),
    policy: PrivilegePolicy,
) -> Result<Report, RunError> {
    let started_at = SystemTime::now();
    let started = Instant::now();
    let snapshot = tokio::time::timeout(Duration::from_secs(3), NetSnapshot::read())
        .await
        .map_err(|_| RunError::NetlinkTimeout)??;
    let interface = snapshot.select(config.interface.as_deref()).map_err(RunError::Interface)?;
    let privileges = Privileges::current();
    let _preopened = Preopened;
    let privilege_report = settle_privileges(config, &snapshot, interface, privileges, policy, started);
    let facts = Facts::default();
    let deadline = Instant::now() + config.deadline;
    let ctx = CheckContext { config, snapshot: &snapshot, interface, privileges, facts: &facts, deadline };

    // After the drop: the recorder's thread starts without the capabilities, on a packet
    // socket opened before it.
    let recorder = match (&config.capture, interface) {
        (Some(path), Some(iface)) => {
            let ports = config.targets.iter().map(|t| t.port).collect();
            Some((path.display().to_string(), Recorder::start(&iface.name, path, ports)?))
        }
        _ => None,
    };
    let checks = runner::run(&ctx, observer).await;
    let capture = match recorder {
        Some((path, recorder)) => {
            let packets = tokio::task::spawn_blocking(move || recorder.finish())
                .await
                .map_err(|e| CaptureError::Io { path: path.clone(), source: std::io::Error::other(e) })??;
            Some(CaptureInfo { path, packets, ..CaptureInfo::default() })
        }
        None => None,
    };

    let report = Report {
        schema_version: SCHEMA_VERSION.to_string(),
        id: Some(crate::report::new_report_id()),
        tool: ToolInfo { name: env!("CARGO_PKG_NAME").into(), version: env!("CARGO_PKG_VERSION").into() },
        started_at: Timestamp(started_at),
        duration_ms: started.elapsed().as_millis() as u64,
        host: HostInfo { hostname: hostname() },
        interface: interface.map(|i| i.name.clone()),
        neighbour: checks
            .iter()
            .find_map(crate::report::CheckResult::neighbours)
            .and_then(crate::check::neighbours::line),
        privileged: privileges.full(),
        privileges: Some(privilege_report),
        redacted: false,
        capture,
        diagnosis: diagnose(&checks),
        checks,
    };
    // Credentials in a URL (a proxy's, a target's) never reach a report, redacted or not.
    let report = crate::redact::strip_credentials(&report)?;
    Ok(if config.redact { redact(&report)? } else { report })
}

/// Opens the privileged sockets the run will use and drops the network capabilities
/// (with [`PrivilegePolicy::DropAfterOpening`]), and says what was done. Runs before the
/// run starts any thread: capabilities are per thread, and a thread started before the
/// drop would keep them ([`PrivilegeReport::threads_holding`] counts any).
fn settle_privileges(
    config: &Config,
    snapshot: &NetSnapshot,
    interface: Option<&crate::platform::netlink::Interface>,
    privileges: Privileges,
    policy: PrivilegePolicy,
    started: Instant,
) -> PrivilegeReport {
    let at_start = privilege::read_sets(None).unwrap_or_else(|e| {
        tracing::warn!("{e}; using /proc/self/status");
        privilege::CapSets { effective: privileges.held(), ..Default::default() }
    });
    let held = NetCap::ALL.into_iter().any(|c| at_start.holds(c));
    let mut report = PrivilegeReport {
        uid: privilege::current_uid(),
        at_start,
        opened: vec![],
        drop: DropStatus::NothingHeld,
        kept: vec![],
        dropped_at_ms: None,
        after_drop: None,
        no_new_privs: false,
        threads: 0,
        threads_holding: 0,
        ping: Some(privilege::ping_access()),
        error: None,
    };
    if !held {
        return report;
    }
    if policy == PrivilegePolicy::Keep {
        report.drop = DropStatus::KeptForSurvey;
        return report;
    }
    if privileges.net_raw
        && let Some(iface) = interface
    {
        report.opened = preopen_sockets(config, snapshot, iface);
    }
    // The kernel checks CAP_NET_ADMIN of the thread that sends the nl80211 scan request,
    // when it sends it: no socket can be opened for that ahead, so a run asked to scan
    // keeps that one capability.
    report.kept = privilege::kept_for(config.wifi.scan, privileges);
    let keep: Vec<NetCap> = report.kept.iter().map(|k| k.capability).collect();
    match privilege::drop_network(&keep) {
        Ok(done) => {
            report.drop = DropStatus::Dropped;
            report.dropped_at_ms = Some(crate::types::millis(started.elapsed()));
            report.after_drop = Some(done.after);
            report.no_new_privs = done.no_new_privs;
            report.threads = done.threads;
            report.threads_holding = done.threads_holding;
            tracing::info!(threads = done.threads, holding = done.threads_holding, "network capabilities dropped");
        }
        Err(e) => {
            tracing::warn!("{e}");
            report.drop = DropStatus::Failed;
            report.error = Some(e.to_string());
        }
    }
    report
}

/// Opens every privileged socket the run's checks will ask for on `iface`, before the
/// drop: packet sockets for the dhcp probes (DISCOVER, duplicate address, the full
/// exchange), each gateway's ARP or Neighbor Solicitation, the capture and the neighbours
/// check's promiscuous listener; raw ICMP and
/// ICMPv6 sockets for the path check's destinations and the Router Solicitation; one echo
/// client per family with a gateway. One that cannot be opened is logged; the check that
/// needed it then reports `tool.no_privilege`.
fn preopen_sockets(
    config: &Config,
    snapshot: &NetSnapshot,
    iface: &crate::platform::netlink::Interface,
) -> Vec<OpenedSockets> {
    use crate::check::{gateway, path};
    use crate::config::TargetHost;
    let routes = snapshot.default_routes();
    let (gw4, gw6) = (gateway::gateways_of(iface, &routes), gateway::gateways_v6_of(iface, &routes));
    let mut opened = Vec::new();
    let mut note = |kind: SocketKind, result: std::io::Result<usize>| match result {
        Ok(0) => {}
        Ok(n) => opened.push(OpenedSockets { kind, count: n as u32 }),
        Err(e) => tracing::warn!(?kind, "opening a socket before the capability drop: {e}"),
    };
    if iface.is_ethernet() {
        let capture = usize::from(config.capture.is_some());
        let n = 3 + gw4.len() + gw6.len() + capture;
        note(SocketKind::Packet, packet::preopen(&iface.name, n).map_err(std::io::Error::other));
        // The neighbours check hears LLDP and CDP on a promiscuous one.
        note(SocketKind::Packet, packet::preopen_with(&iface.name, 1, true).map_err(std::io::Error::other));
    }
    let targets = |v6: bool| {
        config
            .targets
            .iter()
            .filter(|t| match t.host {
                TargetHost::Ip(ip) => ip.is_ipv6() == v6,
                TargetHost::Name(_) => true,
            })
            .count()
    };
    let raw_v4 = (gw4.iter().filter(|g| !g.is_link_local()).count() + targets(false)).min(path::MAX_DESTINATIONS);
    let raw_v6 =
        1 + (gw6.iter().filter(|g| !g.is_unicast_link_local()).count() + targets(true)).min(path::MAX_DESTINATIONS);
    note(SocketKind::RawIcmpV4, icmp::preopen_raw(false, raw_v4));
    note(SocketKind::RawIcmpV6, icmp::preopen_raw(true, raw_v6));
    if !gw4.is_empty() {
        note(SocketKind::EchoV4, icmp::preopen_echo_client(false, &iface.name).map(|()| 1));
    }
    if !gw6.is_empty() {
        note(SocketKind::EchoV6, icmp::preopen_echo_client(true, &iface.name).map(|()| 1));
    }
    opened
}

/// Writes the report to `path` atomically (temp file, then rename), so a reader never
/// sees half a report; the format follows the extension ([`Format::for_path`]).
pub fn write_report(report: &Report, path: &Path) -> Result<(), RunError> {
    let mut buf = Vec::new();
    render::write(report, Format::for_path(path), &mut buf, false)
        .map_err(|source| RunError::Output { path: path.display().to_string(), source })?;
    Ok(crate::files::write_atomic(path, &buf)?)
}

/// `nettriage analyze`'s work: reads a capture (pcap or pcapng; `-` is standard input)
/// and judges its exchanges into a report (redacted when asked).
pub fn analyze_file(capture: &Path, redact_it: bool) -> Result<Report, RunError> {
    if capture == Path::new("-") {
        return analyze_reader(std::io::stdin().lock(), "-", redact_it);
    }
    let file = std::fs::File::open(capture).map_err(|source| RunError::ReadCapture {
        path: capture.to_path_buf(),
        source: crate::pcap::PcapError::Io { path: capture.display().to_string(), source },
    })?;
    analyze_reader(std::io::BufReader::new(file), &capture.display().to_string(), redact_it)
}

/// [`analyze_file`] on a stream: the capture is read record by record (memory constant
/// in its size) and `shown` names it in the report (`capture.path` and the evidence).
/// The report's `capture` says what was read and what was cut; its `host` is
/// [`crate::analyze::CAPTURED_HOST`], since the capture does not say which machine took it.
pub fn analyze_reader(reader: impl std::io::Read, shown: &str, redact_it: bool) -> Result<Report, RunError> {
    let (ipv6, neighbours) = Default::default();
    analyze_reader_with(reader, shown, redact_it, ipv6, neighbours)
}

/// [`analyze_reader`] with the site's IPv6 settings (`expected_routers_v6` tells a
/// configured router from a rogue one in the capture's Router Advertisements) and
/// neighbours settings (`expected_vlan` is judged against the VLAN the capture's LLDP or
/// CDP frames name).
pub fn analyze_reader_with(
    reader: impl std::io::Read,
    shown: &str,
    redact_it: bool,
    ipv6: crate::config::Ipv6Settings,
    neighbours: crate::config::NeighboursSettings,
) -> Result<Report, RunError> {
    let mut analysis = crate::analyze::Analysis::new().with_ipv6_settings(ipv6).with_neighbours_settings(neighbours);
    let summary =
        crate::pcap::read_records(reader, |r| analysis.feed_captured(r.link, r.data, r.is_truncated(), r.timestamp))
            .map_err(|source| RunError::ReadCapture { path: shown.into(), source })?;
    let (vlans, tunnels) = analysis.encapsulations();
    let mut report = analysis.finish(shown, Timestamp::now(), crate::analyze::CAPTURED_HOST.to_string());
    report.capture = Some(CaptureInfo { vlans, tunnels, ..capture_info(shown, &summary) });
    Ok(if redact_it { redact(&report)? } else { report })
}

/// The report's account of an analysed capture.
fn capture_info(shown: &str, summary: &crate::pcap::CaptureSummary) -> CaptureInfo {
    let at = |d: std::time::Duration| Timestamp(std::time::UNIX_EPOCH + d);
    CaptureInfo {
        path: shown.to_string(),
        packets: summary.packets,
        format: Some(
            match summary.format {
                crate::pcap::CaptureFormat::Pcap => "pcap",
                crate::pcap::CaptureFormat::Pcapng => "pcapng",
            }
            .to_string(),
        ),
        link_types: summary.link_types.iter().map(|l| l.name().to_string()).collect(),
        first_packet: summary.first.map(at),
        last_packet: summary.last.map(at),
        truncated_records: Some(summary.truncated),
        skipped_records: Some(summary.skipped),
        bad_timestamps: Some(summary.bad_timestamps),
        cut: summary.cut.clone(),
        notes: capture_notes(summary),
        vlans: vec![],
        tunnels: vec![],
    }
}

/// The informational notes on what reading a capture cut, skipped or guessed, in the
/// order a technician needs them (docs/checks/capture.md).
pub fn capture_notes(summary: &crate::pcap::CaptureSummary) -> Vec<CaptureNote> {
    let mut notes = Vec::new();
    let mut note = |code, message: String| notes.push(CaptureNote { code, message });
    if let Some(why) = &summary.cut {
        note(
            Code::CaptureCut,
            format!("the file breaks off after {} records ({why}); they were read and judged", summary.packets),
        );
    }
    if summary.truncated > 0 {
        note(
            Code::CaptureTruncated,
            format!(
                "{} of {} packets were cut by the snap length; they were judged by their whole headers",
                summary.truncated, summary.packets
            ),
        );
    }
    if summary.skipped > 0 {
        let links: Vec<String> = summary.unsupported_link_types.iter().map(|n| format!("LINKTYPE {n}")).collect();
        let what = if links.is_empty() { String::new() } else { format!(" (including {})", links.join(", ")) };
        note(
            Code::CaptureSkipped,
            format!("{} records were skipped: unsupported link types or unreadable blocks{what}", summary.skipped),
        );
    }
    if summary.bad_timestamps > 0 {
        note(
            Code::CaptureBadTimestamps,
            format!(
                "{} records had impossible timestamps; the previous record's time was used",
                summary.bad_timestamps
            ),
        );
    }
    notes
}

/// Reads a JSON report for `nettriage diff`; reports of other versions read too
/// ([`crate::diff::read`]).
pub fn read_report(path: &Path) -> Result<crate::report::Report, RunError> {
    let fail = |source: ReportFileError| RunError::ReadReport { path: path.to_path_buf(), source };
    let text = std::fs::read_to_string(path).map_err(|e| fail(e.into()))?;
    let value: serde_json::Value = serde_json::from_str(&text).map_err(|e| fail(ReportFileError::NotJson(e)))?;
    crate::diff::read(value).map_err(|e| fail(e.into()))
}

/// `nettriage-<hostname>-<UTC timestamp>.html`, safe as a file name.
pub fn default_report_name(report: &Report) -> String {
    let host: String = report
        .host
        .hostname
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() || c == '-' { c } else { '_' })
        .take(64)
        .collect();
    let stamp: String =
        report.started_at.to_string().chars().filter(|c| c.is_ascii_digit() || *c == 'T').take(15).collect();
    format!("nettriage-{host}-{stamp}Z.html")
}

fn hostname() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|h| h.trim().to_string())
        .ok()
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "unknown".into())
}
