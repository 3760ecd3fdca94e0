//! One run from validated config to a [`Report`], and the file work around it.
//!
//! [`collect`] reads the netlink snapshot once, picks the interface, runs the check graph
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
use crate::platform::privilege::Privileges;
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

/// Runs every check, telling `observer` as checks start and finish, and returns the report
/// (redacted when the config says so).
pub async fn collect(config: &Config, observer: &(dyn Fn(Progress) + Sync)) -> Result<Report, RunError> {
    let started_at = SystemTime::now();
    let started = Instant::now();
    let snapshot = tokio::time::timeout(Duration::from_secs(3), NetSnapshot::read())
        .await
        .map_err(|_| RunError::NetlinkTimeout)??;
    let interface = snapshot.select(config.interface.as_deref()).map_err(RunError::Interface)?;
    let privileges = Privileges::current();
    let facts = Facts::default();
    let deadline = Instant::now() + config.deadline;
    let ctx = CheckContext { config, snapshot: &snapshot, interface, privileges, facts: &facts, deadline };

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
        redacted: false,
        capture,
        diagnosis: diagnose(&checks),
        checks,
    };
    // Credentials in a URL (a proxy's, a target's) never reach a report, redacted or not.
    let report = crate::redact::strip_credentials(&report)?;
    Ok(if config.redact { redact(&report)? } else { report })
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
    let mut analysis = crate::analyze::Analysis::new();
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
