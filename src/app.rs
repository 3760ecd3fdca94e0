//! One run from validated config to rendered report and exit code.
//!
//! Reads the netlink snapshot once, picks the interface, runs the check graph with a live
//! progress line on a terminal, diagnoses, builds the [`Report`], and renders it to stdout
//! and optionally a file. Only this module and the renderers write output.

use std::io::{IsTerminal, Write};
use std::sync::Mutex;
use std::time::{Duration, Instant, SystemTime};

use crate::check::{CheckContext, Facts};
use crate::cli::{AnalyzeArgs, ColorArg, DiffArgs, FormatArg};
use crate::config::{Config, Format};
use crate::diagnosis::diagnose;
use crate::platform::capture::{CaptureError, Recorder};
use crate::platform::netlink::{NetSnapshot, NetlinkError};
use crate::platform::privilege::Privileges;
use crate::redact::redact;
use crate::render::checklist::Checklist;
use crate::render::progress::ProgressLine;
use crate::report::{CaptureInfo, HostInfo, Report, RunStatus, SCHEMA_VERSION, ToolInfo};
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
    #[error("{0}")]
    Interface(String),
    /// The packet capture could not be started or written.
    #[error(transparent)]
    Capture(#[from] CaptureError),
    /// An input file could not be read or is not what it should be.
    #[error("{path}: {message}")]
    Input {
        /// The file.
        path: String,
        /// What is wrong.
        message: String,
    },
    /// The report file could not be written.
    #[error("cannot write report to {path}: {source}")]
    Output {
        /// The file.
        path: String,
        /// Why.
        source: std::io::Error,
    },
}

/// Runs every check, telling `observer` as checks start and finish, and returns the report
/// (redacted when the config says so).
pub async fn collect(config: &Config, observer: &(dyn Fn(runner::Progress) + Sync)) -> Result<Report, RunError> {
    let started_at = SystemTime::now();
    let started = Instant::now();
    let snapshot = tokio::time::timeout(Duration::from_secs(3), NetSnapshot::read())
        .await
        .map_err(|_| RunError::NetlinkTimeout)??;
    let interface = snapshot.select(config.interface.as_deref()).map_err(RunError::Interface)?;
    let privileges = Privileges::current();
    let facts = Facts::default();
    let ctx = CheckContext { config, snapshot: &snapshot, interface, privileges, facts: &facts };

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
            Some(CaptureInfo { path, packets })
        }
        None => None,
    };

    let report = Report {
        schema_version: SCHEMA_VERSION.to_string(),
        tool: ToolInfo { name: env!("CARGO_PKG_NAME").into(), version: env!("CARGO_PKG_VERSION").into() },
        started_at: humantime::format_rfc3339_millis(started_at).to_string(),
        duration_ms: started.elapsed().as_millis() as u64,
        host: HostInfo { hostname: hostname() },
        interface: interface.map(|i| i.name.clone()),
        privileged: privileges.full(),
        redacted: false,
        capture,
        diagnosis: diagnose(&checks),
        checks,
    };
    Ok(if config.redact { redact(&report) } else { report })
}

/// Runs, renders, and returns the process exit code.
pub async fn run(config: &Config) -> Result<u8, RunError> {
    // A live progress line on stderr when it is a terminal.
    let live = std::io::stderr().is_terminal();
    let line = Mutex::new(ProgressLine::default());
    let on_progress = |event: runner::Progress| {
        if live && let Ok(mut line) = line.lock() {
            let text = line.update(&event);
            ProgressLine::draw(&mut std::io::stderr(), &text);
        }
    };
    let report = collect(config, &on_progress).await;
    if live {
        ProgressLine::clear(&mut std::io::stderr());
    }
    let report = report?;
    let color = match config.color {
        ColorArg::Always => true,
        ColorArg::Never => false,
        ColorArg::Auto => std::io::stdout().is_terminal() && std::env::var_os("NO_COLOR").is_none(),
    };
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    ignore_broken_pipe(render::write(&report, config.format, &mut out, color))?;
    if let Some(path) = &config.output {
        let shown = path.display().to_string();
        let written = write_file(&report, path);
        written.map_err(|source| RunError::Output { path: shown.clone(), source })?;
        if config.format == Format::Table {
            ignore_broken_pipe(writeln!(out, "Report written to {shown}"))?;
        }
    }
    Ok(report.diagnosis.status.exit_code())
}

/// Writes the report to `path` atomically (temp file, then rename), so a reader never
/// sees half a report.
fn write_file(report: &Report, path: &std::path::Path) -> std::io::Result<()> {
    let mut buf = Vec::new();
    render::write(report, Format::for_path(path), &mut buf, false)?;
    let dir = path.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(std::path::Path::new("."));
    let file_name = path.file_name().ok_or_else(|| std::io::Error::other("not a file name"))?;
    let tmp = dir.join(format!(".{}.tmp{}", file_name.to_string_lossy(), std::process::id()));
    std::fs::write(&tmp, &buf)?;
    std::fs::rename(&tmp, path).inspect_err(|_| {
        let _ = std::fs::remove_file(&tmp);
    })
}

/// The end user's one-click self-test: checklist, one sentence, an HTML report file.
pub async fn selftest(config: &Config) -> Result<u8, RunError> {
    let checklist = Checklist::new(std::io::stdout().is_terminal(), Box::new(std::io::stdout()));
    let stdout = std::io::stdout();
    ignore_broken_pipe(writeln!(stdout.lock(), "Checking your network connection…"))?;
    let report = collect(config, &|event| checklist.update(&event)).await?;
    let path = match &config.output {
        Some(path) => path.clone(),
        None => std::path::PathBuf::from(default_report_name(&report)),
    };
    let shown = path.display().to_string();
    write_file(&report, &path).map_err(|source| RunError::Output { path: shown.clone(), source })?;
    let mut out = stdout.lock();
    ignore_broken_pipe(writeln!(out, "\n{}", render::sentence(&report)))?;
    ignore_broken_pipe(writeln!(out, "Report for IT: {shown}"))?;
    Ok(report.diagnosis.status.exit_code())
}

/// `nettriage analyze`: reports a capture's exchanges; exits with its status.
pub fn analyze(args: &AnalyzeArgs) -> Result<u8, RunError> {
    let shown = args.capture.display().to_string();
    let frames = crate::pcap::read_file(&args.capture)
        .map_err(|e| RunError::Input { path: shown.clone(), message: e.to_string() })?;
    let started_at = humantime::format_rfc3339_millis(SystemTime::now()).to_string();
    let report = crate::analyze::analyze(&frames, &shown, started_at, hostname());
    let report = if args.redact { redact(&report) } else { report };
    let format = args.format.map_or(Format::Table, Format::from);
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    ignore_broken_pipe(render::write(&report, format, &mut out, false))?;
    if let Some(path) = &args.output {
        write_file(&report, path).map_err(|source| RunError::Output { path: path.display().to_string(), source })?;
    }
    Ok(report.diagnosis.status.exit_code())
}

/// `nettriage diff`: compares two JSON reports; exits with the newer one's status.
pub fn diff(args: &DiffArgs) -> Result<u8, RunError> {
    let read = |path: &std::path::Path| -> Result<crate::report::Report, RunError> {
        let input = |message: String| RunError::Input { path: path.display().to_string(), message };
        let text = std::fs::read_to_string(path).map_err(|e| input(e.to_string()))?;
        let value: serde_json::Value = serde_json::from_str(&text).map_err(|e| input(format!("not JSON: {e}")))?;
        crate::diff::read(value).map_err(input)
    };
    let (old, new) = (read(&args.old)?, read(&args.new)?);
    let d = crate::diff::diff(&old, &new);
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    let written = match args.format {
        Some(FormatArg::Json) => {
            serde_json::to_writer_pretty(&mut out, &d).map_err(std::io::Error::other).and_then(|()| writeln!(out))
        }
        _ => crate::diff::write_table(&d, &mut out),
    };
    ignore_broken_pipe(written)?;
    let status = match d.new.status.as_str() {
        "healthy" => RunStatus::Healthy,
        "degraded" => RunStatus::Degraded,
        _ => RunStatus::Broken,
    };
    Ok(status.exit_code())
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
    let stamp: String = report.started_at.chars().filter(|c| c.is_ascii_digit() || *c == 'T').take(15).collect();
    format!("nettriage-{host}-{stamp}Z.html")
}

fn ignore_broken_pipe(result: std::io::Result<()>) -> Result<(), RunError> {
    match result {
        Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => {
            Err(RunError::Output { path: "standard output".into(), source: e })
        }
        _ => Ok(()),
    }
}

fn hostname() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|h| h.trim().to_string())
        .ok()
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "unknown".into())
}
