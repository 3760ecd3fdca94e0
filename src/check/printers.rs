//! The `printers` service profile (docs/checks/printers.md): the configured printers and
//! the ones advertised over mDNS on the segment, each asked for its state over IPP
//! (Get-Printer-Attributes, RFC 8011 §4.2.5) and tried on raw 9100 and LPD 515.
//!
//! A profile is a check that runs only when chosen (`--profile printers`, `[profiles] enabled`),
//! after the layers it needs (`runner::GRAPH`: an address, and DNS finished); it blocks
//! nothing. Its contract, shared by every profile: a typed evidence ([`PrintersEvidence`]),
//! a pure [`judge`], [`details`] (the report's one-line summary), [`targets`] (each printer
//! and whether it worked, for `nettriage_profile_check_success`), [`budget_ms`] and, with
//! the `live` feature, `run`. The bytes on the wire are read by two pure decoders beside
//! this file: [`ipp`] (IPP's binary encoding, hand-written and fuzzed) and [`mdns`]
//! (DNS-SD answers through hickory-proto). TCP outcomes reuse the ports check's
//! [`PortOutcome`] and its error classification.

pub mod ipp;
pub mod mdns;

use std::net::IpAddr;

use serde::{Deserialize, Serialize};

use crate::check::ProfileTarget;
use crate::check::ports::PortOutcome;
use crate::config::PrintersSettings;
use crate::report::{CheckId, Code, Finding, Severity};

pub use mdns::MdnsService;

/// The raw (JetDirect, "PDL data stream") printing port.
pub const RAW_PORT: u16 = 9100;
/// The LPD port (RFC 1179).
pub const LPD_PORT: u16 = 515;
/// The most bytes of an IPP response read: a full Get-Printer-Attributes answer of a real
/// printer is a few kilobytes, ours asks for six attributes.
pub const MAX_IPP_BYTES: usize = 256 * 1024;

/// What the `printers` profile observed.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct PrintersEvidence {
    /// The mDNS browse, when `discover` is on.
    pub discovery: Option<Discovery>,
    /// Every printer tested: the configured ones first, then those only mDNS named.
    pub printers: Vec<PrinterResult>,
}

/// The mDNS (DNS-SD) browse for printer services on the interface's segment.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Discovery {
    /// How long it listened, in milliseconds.
    pub window_ms: u64,
    /// How many mDNS responses arrived.
    pub responses: u32,
    /// Every printer service instance the answers named.
    pub services: Vec<MdnsService>,
    /// Why the browse could not be made (no IPv4 address, a socket error).
    pub error: Option<String>,
}

/// Where a printer of the evidence came from.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PrinterSource {
    /// `[profiles.printers] printers`.
    #[default]
    Configured,
    /// Only an mDNS advertisement.
    Discovered,
    /// Configured, and also advertised over mDNS.
    Both,
}

/// The printer's `printer-state` (RFC 8011 §5.4.11).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PrinterState {
    /// 3: ready for a new job.
    Idle,
    /// 4: printing.
    Processing,
    /// 5: stopped; `printer-state-reasons` says why.
    Stopped,
    /// Any other value (kept in `state_code`).
    #[serde(other)]
    Unknown,
}

impl PrinterState {
    /// The state of a `printer-state` value.
    pub fn of(code: i32) -> PrinterState {
        match code {
            3 => PrinterState::Idle,
            4 => PrinterState::Processing,
            5 => PrinterState::Stopped,
            _ => PrinterState::Unknown,
        }
    }
}

/// How the IPP request ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum IppOutcome {
    /// An IPP response with a successful status code.
    Answered,
    /// An IPP response with an error status code (`status_code`).
    IppError,
    /// An HTTP answer other than 200 (`http_status`).
    HttpError,
    /// An answer that is not IPP (garbage, HTML, a truncated body).
    NotIpp,
    /// The TLS handshake of an `ipps` URI failed.
    TlsFailed,
    /// Connection refused.
    Refused,
    /// No answer within the timeout.
    Timeout,
    /// ICMP unreachable or no route.
    Unreachable,
    /// The connection broke or a local error.
    Failed,
    /// A code this version does not know.
    #[serde(other)]
    Unknown,
}

/// One TCP connect, classified.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TcpProbe {
    /// The port.
    pub port: u16,
    /// How the connect ended.
    pub outcome: PortOutcome,
    /// How long it took, in milliseconds.
    #[serde(default)]
    pub ms: Option<f64>,
}

/// The Get-Printer-Attributes request and what the printer said.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct IppProbe {
    /// The printer URI asked.
    pub uri: String,
    /// How it ended.
    pub outcome: IppOutcome,
    /// How long it took, in milliseconds.
    #[serde(default)]
    pub ms: Option<f64>,
    /// The HTTP status, when one came.
    #[serde(default)]
    pub http_status: Option<u16>,
    /// The IPP status code, when an IPP response came (0x0000-0x00FF successful).
    #[serde(default)]
    pub status_code: Option<u16>,
    /// What went wrong, in words.
    #[serde(default)]
    pub error: Option<String>,
    /// `printer-name`.
    #[serde(default)]
    pub printer_name: Option<String>,
    /// `printer-make-and-model`.
    #[serde(default)]
    pub make_and_model: Option<String>,
    /// `printer-state`, read.
    #[serde(default)]
    pub state: Option<PrinterState>,
    /// `printer-state`, as sent.
    #[serde(default)]
    pub state_code: Option<i32>,
    /// `printer-state-reasons` keywords (`none` left out).
    #[serde(default)]
    pub state_reasons: Vec<String>,
    /// `printer-state-message`.
    #[serde(default)]
    pub state_message: Option<String>,
    /// `printer-is-accepting-jobs`.
    #[serde(default)]
    pub accepting_jobs: Option<bool>,
}

impl IppProbe {
    /// A probe that ended as `outcome` before any answer was read.
    pub fn failed(uri: String, outcome: IppOutcome, ms: Option<f64>, error: Option<String>) -> IppProbe {
        IppProbe {
            uri,
            outcome,
            ms,
            http_status: None,
            status_code: None,
            error,
            printer_name: None,
            make_and_model: None,
            state: None,
            state_code: None,
            state_reasons: Vec::new(),
            state_message: None,
            accepting_jobs: None,
        }
    }

    /// The probe of an HTTP 200 answer whose body is `body` (pure): decoded as IPP and the
    /// printer's attributes read.
    pub fn from_body(uri: String, ms: Option<f64>, body: &[u8]) -> IppProbe {
        match ipp::decode(body) {
            Err(e) => {
                let mut p = IppProbe::failed(uri, IppOutcome::NotIpp, ms, Some(e.to_string()));
                p.http_status = Some(200);
                p
            }
            Ok(response) => {
                let attrs = ipp::PrinterAttributes::from_response(&response);
                IppProbe {
                    uri,
                    outcome: if response.is_success() { IppOutcome::Answered } else { IppOutcome::IppError },
                    ms,
                    http_status: Some(200),
                    status_code: Some(response.status_code),
                    error: None,
                    printer_name: attrs.name,
                    make_and_model: attrs.make_and_model,
                    state: attrs.state.map(PrinterState::of),
                    state_code: attrs.state,
                    state_reasons: attrs.state_reasons,
                    state_message: attrs.state_message,
                    accepting_jobs: attrs.accepting_jobs,
                }
            }
        }
    }

    /// Whether the printer answered over IPP with its attributes.
    pub fn answered(&self) -> bool {
        self.outcome == IppOutcome::Answered
    }
}

/// One printer and what each of its ports said.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct PrinterResult {
    /// The printer as configured (a URI or host), or its mDNS instance name.
    pub target: String,
    /// Where it came from.
    pub source: PrinterSource,
    /// The mDNS services that advertised it (`_ipp._tcp`, ...).
    pub services: Vec<String>,
    /// The mDNS instance name, when advertised.
    pub printer_name: Option<String>,
    /// The host (a name or an address).
    pub host: String,
    /// The address tested.
    pub address: Option<IpAddr>,
    /// Why the host's name did not resolve.
    pub resolve_error: Option<String>,
    /// Whether it is expected to speak IPP: given as an `ipp://` URI or advertised as
    /// `_ipp._tcp`/`_ipps._tcp` (a bare host may be a raw-only printer).
    pub ipp_expected: bool,
    /// The IPP request, when one was made.
    pub ipp: Option<IppProbe>,
    /// Raw printing, TCP 9100.
    pub raw: Option<TcpProbe>,
    /// LPD, TCP 515.
    pub lpd: Option<TcpProbe>,
}

impl PrinterResult {
    /// The name a technician knows it by: IPP's `printer-name`, else the mDNS name, else
    /// the target.
    pub fn label(&self) -> &str {
        self.ipp
            .as_ref()
            .and_then(|i| i.printer_name.as_deref())
            .or(self.printer_name.as_deref())
            .unwrap_or(&self.target)
    }

    fn open(probe: Option<&TcpProbe>) -> bool {
        probe.is_some_and(|p| p.outcome == PortOutcome::Open)
    }

    /// Whether raw 9100 or LPD 515 accepted a connection.
    pub fn other_port_open(&self) -> bool {
        Self::open(self.raw.as_ref()) || Self::open(self.lpd.as_ref())
    }

    /// Whether the printer can be used at all: IPP answered, or a raw/LPD port is open.
    pub fn reachable(&self) -> bool {
        self.ipp.as_ref().is_some_and(IppProbe::answered) || self.other_port_open()
    }

    /// Whether the printer can be printed to: reachable, not stopped and accepting jobs.
    pub fn usable(&self) -> bool {
        let ipp = self.ipp.as_ref().filter(|i| i.answered());
        self.reachable()
            && ipp.is_none_or(|i| i.accepting_jobs != Some(false) && i.state != Some(PrinterState::Stopped))
    }
}

/// How much a state reason matters.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum ReasonWeight {
    /// The printer goes on printing, but someone should look (toner low, paused).
    Warn,
    /// The printer cannot print until someone acts (out of paper, jam, door open).
    Fail,
}

/// Reasons that stop printing until a person acts (PWG 5100.9 / RFC 8011 §5.4.12
/// keywords), in plain words.
const STOPS_PRINTING: [(&str, &str); 18] = [
    ("media-empty", "out of paper"),
    ("media-needed", "paper must be loaded"),
    ("media-jam", "paper jam"),
    ("toner-empty", "out of toner"),
    ("marker-supply-empty", "out of ink or toner"),
    ("marker-waste-full", "waste ink or toner container full"),
    ("door-open", "a door is open"),
    ("cover-open", "a cover is open"),
    ("interlock-open", "an interlock is open"),
    ("input-tray-missing", "a paper tray is missing"),
    ("output-tray-missing", "the output tray is missing"),
    ("output-area-full", "the output tray is full"),
    ("offline", "offline"),
    ("shutdown", "shut down"),
    ("spool-area-full", "no room left for print jobs"),
    ("fuser-over-temp", "the fuser is too hot"),
    ("opc-life-over", "the drum is worn out"),
    ("interpreter-resource-unavailable", "cannot process the job format"),
];

/// Reasons that need a person soon but do not stop printing, in plain words.
const NEEDS_ATTENTION: [(&str, &str); 14] = [
    ("media-low", "paper low"),
    ("toner-low", "toner low"),
    ("marker-supply-low", "ink or toner low"),
    ("marker-waste-almost-full", "waste ink or toner container almost full"),
    ("developer-low", "developer low"),
    ("developer-empty", "developer empty"),
    ("opc-near-eol", "the drum is near the end of its life"),
    ("paused", "paused"),
    ("moving-to-paused", "pausing"),
    ("stopping", "stopping"),
    ("timed-out", "not answering its connection"),
    ("deactivated", "deactivated"),
    ("hold-new-jobs", "holding new jobs"),
    ("stacker-almost-full", "the output stacker is almost full"),
];

/// Classifies one `printer-state-reasons` keyword (pure): its weight and plain words, or
/// `None` for reasons that need no one (`none`, vendor or informational keywords).
///
/// The suffix decides over the keyword's own weight where RFC 8011 §5.4.12 gives one:
/// `-error` means the printer stopped (fail), `-warning` and `-report` that it goes on
/// (warn). Unknown keywords count only with `-error` or `-warning`.
pub fn classify_reason(keyword: &str) -> Option<(ReasonWeight, String)> {
    let (base, suffix) = ["-error", "-warning", "-report"]
        .into_iter()
        .find_map(|s| keyword.strip_suffix(s).map(|b| (b, Some(s))))
        .unwrap_or((keyword, None));
    let known = STOPS_PRINTING
        .iter()
        .map(|(k, w)| (k, w, ReasonWeight::Fail))
        .chain(NEEDS_ATTENTION.iter().map(|(k, w)| (k, w, ReasonWeight::Warn)))
        .find(|(k, _, _)| **k == base);
    match (known, suffix) {
        (Some((_, words, _)), Some("-error")) => Some((ReasonWeight::Fail, words.to_string())),
        (Some((_, words, _)), Some(_)) => Some((ReasonWeight::Warn, words.to_string())),
        (Some((_, words, weight)), None) => Some((weight, words.to_string())),
        (None, Some("-error")) => Some((ReasonWeight::Fail, base.replace('-', " "))),
        (None, Some("-warning")) => Some((ReasonWeight::Warn, base.replace('-', " "))),
        (None, _) => None,
    }
}

fn finding(code: Code, severity: Severity, message: String) -> Finding {
    Finding { code, severity, layer: CheckId::Printers, message }
}

/// Where a printer is, for messages: `label (address)`.
fn place(p: &PrinterResult) -> String {
    match p.address {
        Some(a) => format!("{} ({a})", p.label()),
        None => format!("{} ({})", p.label(), p.host),
    }
}

/// Why IPP did not give the printer's attributes, in words.
fn ipp_failure(i: &IppProbe) -> String {
    let what = match i.outcome {
        IppOutcome::Answered => "answered",
        IppOutcome::IppError => "IPP error",
        IppOutcome::HttpError => "HTTP error",
        IppOutcome::NotIpp => "the answer is not IPP",
        IppOutcome::TlsFailed => "TLS handshake failed",
        IppOutcome::Refused => "connection refused",
        IppOutcome::Timeout => "no answer",
        IppOutcome::Unreachable => "unreachable",
        IppOutcome::Failed | IppOutcome::Unknown => "failed",
    };
    let mut text = format!("IPP {}: {what}", i.uri);
    if let Some(s) = i.status_code.filter(|_| i.outcome == IppOutcome::IppError) {
        text.push_str(&format!(" (status 0x{s:04x})"));
    }
    if let Some(s) = i.http_status.filter(|_| i.outcome == IppOutcome::HttpError) {
        text.push_str(&format!(" (HTTP {s})"));
    }
    text
}

fn port_words(p: Option<&TcpProbe>, port: u16) -> String {
    match p {
        Some(t) => format!("{port} {}", t.outcome.as_str()),
        None => format!("{port} not tried"),
    }
}

/// The findings the evidence shows (pure), per printer:
/// - `printer.unreachable`, fail, when nothing answers (IPP gave no attributes and raw 9100
///   and LPD 515 are closed), or its name does not resolve; warn when a printer expected to
///   speak IPP (an `ipp://` URI, an `_ipp._tcp` advertisement) does not while 9100 or 515
///   answers (driverless printing uses IPP);
/// - `printer.stopped`, fail, for `printer-state` 5;
/// - `printer.not_accepting`, fail, for `printer-is-accepting-jobs` false;
/// - `printer.attention` for state reasons that need a person ([`classify_reason`]):
///   fail when one stops printing, else warn.
pub fn judge(ev: &PrintersEvidence, _settings: &PrintersSettings) -> Vec<Finding> {
    let mut findings = Vec::new();
    for p in &ev.printers {
        if let Some(e) = &p.resolve_error {
            findings.push(finding(
                Code::PrinterUnreachable,
                Severity::Fail,
                format!("{}: the name {} does not resolve ({e})", p.label(), p.host),
            ));
            continue;
        }
        let ports = format!("{}, {}", port_words(p.raw.as_ref(), RAW_PORT), port_words(p.lpd.as_ref(), LPD_PORT));
        let ipp = p.ipp.as_ref();
        let ipp_words = ipp.map_or_else(|| "IPP not tried".to_string(), ipp_failure);
        if !p.reachable() {
            findings.push(finding(
                Code::PrinterUnreachable,
                Severity::Fail,
                format!("{}: nothing answers ({ipp_words}; TCP {ports})", place(p)),
            ));
            continue;
        }
        let Some(ipp) = ipp.filter(|i| i.answered()) else {
            // Reachable on 9100/515 only.
            if p.ipp_expected || ipp.is_some_and(|i| !matches!(i.outcome, IppOutcome::Refused | IppOutcome::Timeout)) {
                findings.push(finding(
                    Code::PrinterUnreachable,
                    Severity::Warn,
                    format!("{}: its IPP service does not work ({ipp_words}); only TCP {ports}", place(p)),
                ));
            }
            continue;
        };
        if ipp.state == Some(PrinterState::Stopped) {
            let why = if ipp.state_reasons.is_empty() {
                String::new()
            } else {
                format!(" (printer-state-reasons: {})", ipp.state_reasons.join(", "))
            };
            findings.push(finding(Code::PrinterStopped, Severity::Fail, format!("{} is stopped{why}", place(p))));
        }
        if ipp.accepting_jobs == Some(false) {
            findings.push(finding(
                Code::PrinterNotAccepting,
                Severity::Fail,
                format!("{} does not accept jobs (printer-is-accepting-jobs false)", place(p)),
            ));
        }
        let reasons: Vec<(ReasonWeight, String, &str)> = ipp
            .state_reasons
            .iter()
            .filter_map(|r| classify_reason(r).map(|(w, words)| (w, words, r.as_str())))
            .collect();
        if let Some(worst) = reasons.iter().map(|(w, _, _)| *w).max() {
            let words: Vec<String> = reasons.iter().map(|(_, w, k)| format!("{w} ({k})")).collect();
            let severity = if worst == ReasonWeight::Fail { Severity::Fail } else { Severity::Warn };
            findings.push(finding(
                Code::PrinterAttention,
                severity,
                format!("{} needs attention: {}", place(p), words.join(", ")),
            ));
        }
    }
    findings
}

/// One line for the report's details column (table, Markdown, HTML).
pub fn details(ev: &PrintersEvidence) -> String {
    let found = ev.discovery.as_ref().map(|d| {
        let names: std::collections::BTreeSet<&str> = d.services.iter().map(|s| s.printer_name.as_str()).collect();
        format!("mDNS: {} advertised", names.len())
    });
    if ev.printers.is_empty() {
        return found.map_or_else(|| "no printer configured".into(), |f| format!("no printer configured; {f}"));
    }
    let states: Vec<String> = ev
        .printers
        .iter()
        .map(|p| {
            let state = if !p.reachable() {
                "unreachable".to_string()
            } else {
                match p.ipp.as_ref().filter(|i| i.answered()) {
                    None => "raw/LPD only".to_string(),
                    Some(i) => {
                        let mut s = match i.state {
                            Some(PrinterState::Idle) => "idle",
                            Some(PrinterState::Processing) => "printing",
                            Some(PrinterState::Stopped) => "stopped",
                            Some(PrinterState::Unknown) | None => "state unknown",
                        }
                        .to_string();
                        if i.accepting_jobs == Some(false) {
                            s.push_str(", not accepting jobs");
                        }
                        let words: Vec<String> =
                            i.state_reasons.iter().filter_map(|r| classify_reason(r).map(|(_, w)| w)).collect();
                        if !words.is_empty() {
                            s.push_str(&format!(", {}", words.join(", ")));
                        }
                        s
                    }
                }
            };
            format!("{}: {state}", p.label())
        })
        .collect();
    let mut line = states.join("; ");
    if let Some(f) = found {
        line.push_str(&format!(" ({f})"));
    }
    line
}

/// Each printer tested and whether it worked: reachable and accepting jobs
/// (`nettriage_profile_check_success`).
pub fn targets(ev: &PrintersEvidence) -> Vec<ProfileTarget> {
    ev.printers.iter().map(|p| ProfileTarget { target: p.target.clone(), success: p.usable() }).collect()
}

/// The longest this check may take, in milliseconds (the runner's budget): the mDNS
/// window, name resolution, then the printers in waves of `concurrency`, each an IPP
/// request (connect, then the answer) beside its two TCP connects.
pub fn budget_ms(settings: &PrintersSettings) -> u64 {
    let discovery = if settings.discover { settings.discovery_ms } else { 0 };
    let count = settings.printers.len().max(1) as u64;
    let waves = count.div_ceil(settings.concurrency.max(1) as u64).max(1);
    // Discovered printers come in a wave of their own, at most.
    let waves = if settings.discover { waves + 1 } else { waves };
    discovery + settings.timeout_ms + waves * settings.timeout_ms * 2 + 1_000
}

/// The printers to test from the configuration and the browse, merged (pure): a
/// discovered instance whose address (or host) is a configured printer's adds its services
/// to that one; the others become printers of their own, one per instance name and
/// address. `resolved` holds the configured printers' addresses (or why not), in order.
pub fn plan(
    configured: &[(String, crate::config::PrinterSpec)],
    resolved: &[Result<IpAddr, String>],
    discovered: &[MdnsService],
) -> Vec<(PrinterResult, Option<IppEndpoint>)> {
    let mut out: Vec<(PrinterResult, Option<IppEndpoint>)> = configured
        .iter()
        .zip(resolved)
        .map(|((text, spec), address)| {
            let p = PrinterResult {
                target: text.clone(),
                source: PrinterSource::Configured,
                host: spec.host.clone(),
                address: address.as_ref().ok().copied(),
                resolve_error: address.as_ref().err().cloned(),
                ipp_expected: spec.uri_given,
                ..Default::default()
            };
            let endpoint = IppEndpoint { tls: spec.scheme == "ipps", port: spec.port, uri: spec.uri() };
            (p, Some(endpoint))
        })
        .collect();
    for s in discovered {
        let same = |p: &PrinterResult| {
            (s.address.is_some() && p.address == s.address)
                || s.host.as_deref().is_some_and(|h| h.eq_ignore_ascii_case(&p.host))
        };
        let index = match out.iter().position(|(p, _)| same(p) && p.source != PrinterSource::Discovered) {
            Some(i) => {
                out[i].0.source = PrinterSource::Both;
                if out[i].0.printer_name.is_none() {
                    out[i].0.printer_name = Some(s.printer_name.clone());
                }
                i
            }
            None => match out.iter().position(|(p, _)| {
                p.source == PrinterSource::Discovered && p.printer_name.as_deref() == Some(&s.printer_name) && same(p)
            }) {
                Some(i) => i,
                None => {
                    out.push((
                        PrinterResult {
                            target: s.printer_name.clone(),
                            source: PrinterSource::Discovered,
                            printer_name: Some(s.printer_name.clone()),
                            host: s.host.clone().unwrap_or_default(),
                            address: s.address,
                            resolve_error: s.address.is_none().then(|| "mDNS gave no address for it".to_string()),
                            ..Default::default()
                        },
                        None,
                    ));
                    out.len() - 1
                }
            },
        };
        let (p, endpoint) = &mut out[index];
        if !p.services.contains(&s.service) {
            p.services.push(s.service.clone());
        }
        let tls = s.service == "_ipps._tcp";
        if (s.service == "_ipp._tcp" || tls) && p.source == PrinterSource::Discovered {
            p.ipp_expected = true;
            // Plain IPP is preferred when both are advertised.
            let better = endpoint.as_ref().is_none_or(|e| e.tls && !tls);
            if better && let (Some(port), Some(address)) = (s.port, s.address) {
                let host = if address.is_ipv6() { format!("[{address}]") } else { address.to_string() };
                let path = s.resource_path.clone().unwrap_or_else(|| "ipp/print".into());
                let scheme = if tls { "ipps" } else { "ipp" };
                *endpoint = Some(IppEndpoint { tls, port, uri: format!("{scheme}://{host}:{port}/{path}") });
            }
        }
    }
    out
}

/// Where a printer's IPP service is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IppEndpoint {
    /// Over TLS (`ipps`).
    pub tls: bool,
    /// The TCP port.
    pub port: u16,
    /// The printer URI sent in the request (`ipp://host:port/path`).
    pub uri: String,
}

impl IppEndpoint {
    /// The request's path (`/ipp/print`).
    pub fn path(&self) -> String {
        let after_scheme = self.uri.split_once("://").map_or(self.uri.as_str(), |(_, r)| r);
        match after_scheme.find('/') {
            Some(i) => after_scheme[i..].to_string(),
            None => "/".into(),
        }
    }

    /// The `Host` header (`host:port`).
    pub fn authority(&self) -> String {
        let after_scheme = self.uri.split_once("://").map_or(self.uri.as_str(), |(_, r)| r);
        after_scheme.split('/').next().unwrap_or_default().to_string()
    }
}

#[cfg(feature = "live")]
mod live;

#[cfg(feature = "live")]
pub use live::run;

#[cfg(test)]
mod tests {
    use super::*;

    fn answered(state: i32, reasons: &[&str], accepting: bool) -> IppProbe {
        IppProbe {
            outcome: IppOutcome::Answered,
            http_status: Some(200),
            status_code: Some(0),
            printer_name: Some("Lab Printer".into()),
            state: Some(PrinterState::of(state)),
            state_code: Some(state),
            state_reasons: reasons.iter().map(|r| r.to_string()).collect(),
            accepting_jobs: Some(accepting),
            ..IppProbe::failed("ipp://198.18.0.7:631/ipp/print".into(), IppOutcome::Answered, Some(3.0), None)
        }
    }

    fn tcp(port: u16, outcome: PortOutcome) -> Option<TcpProbe> {
        Some(TcpProbe { port, outcome, ms: Some(1.0) })
    }

    fn printer(ipp: Option<IppProbe>, raw: PortOutcome, lpd: PortOutcome) -> PrinterResult {
        PrinterResult {
            target: "198.18.0.7".into(),
            host: "198.18.0.7".into(),
            address: Some("198.18.0.7".parse().unwrap()),
            ipp,
            raw: tcp(RAW_PORT, raw),
            lpd: tcp(LPD_PORT, lpd),
            ..Default::default()
        }
    }

    fn codes(p: PrinterResult) -> Vec<(Code, Severity)> {
        let ev = PrintersEvidence { discovery: None, printers: vec![p] };
        judge(&ev, &PrintersSettings::default()).into_iter().map(|f| (f.code, f.severity)).collect()
    }

    #[test]
    fn an_idle_printer_accepting_jobs_is_fine() {
        let p = printer(Some(answered(3, &[], true)), PortOutcome::Open, PortOutcome::Refused);
        assert!(p.usable());
        assert_eq!(codes(p.clone()), vec![]);
        let ev = PrintersEvidence { discovery: None, printers: vec![p] };
        assert_eq!(targets(&ev), vec![ProfileTarget { target: "198.18.0.7".into(), success: true }]);
    }

    #[test]
    fn nothing_answering_is_unreachable() {
        let ipp = IppProbe::failed("ipp://198.18.0.7:631/ipp/print".into(), IppOutcome::Timeout, None, None);
        let p = printer(Some(ipp), PortOutcome::Filtered, PortOutcome::Refused);
        assert_eq!(codes(p.clone()), vec![(Code::PrinterUnreachable, Severity::Fail)]);
        assert!(!targets(&PrintersEvidence { discovery: None, printers: vec![p] })[0].success);
        let unresolved = PrinterResult {
            resolve_error: Some("no such name".into()),
            ..printer(None, PortOutcome::Unresolved, PortOutcome::Unresolved)
        };
        assert_eq!(codes(unresolved), vec![(Code::PrinterUnreachable, Severity::Fail)]);
    }

    #[test]
    fn garbage_on_ipp_is_unreachable_and_a_warning_when_raw_answers() {
        let garbage = IppProbe::from_body("ipp://198.18.0.7:631/ipp/print".into(), None, b"<html>hello</html>");
        assert_eq!(garbage.outcome, IppOutcome::NotIpp);
        assert_eq!(
            codes(printer(Some(garbage.clone()), PortOutcome::Refused, PortOutcome::Refused)),
            vec![(Code::PrinterUnreachable, Severity::Fail)]
        );
        assert_eq!(
            codes(printer(Some(garbage), PortOutcome::Open, PortOutcome::Refused)),
            vec![(Code::PrinterUnreachable, Severity::Warn)]
        );
        // A bare host that only does raw printing: no IPP expected, nothing to say.
        let refused = IppProbe::failed("ipp://198.18.0.7:631/ipp/print".into(), IppOutcome::Refused, None, None);
        assert_eq!(codes(printer(Some(refused.clone()), PortOutcome::Open, PortOutcome::Refused)), vec![]);
        let expected =
            PrinterResult { ipp_expected: true, ..printer(Some(refused), PortOutcome::Open, PortOutcome::Refused) };
        assert_eq!(codes(expected), vec![(Code::PrinterUnreachable, Severity::Warn)]);
    }

    #[test]
    fn stopped_and_not_accepting_fail() {
        let p = printer(Some(answered(5, &["paused"], false)), PortOutcome::Refused, PortOutcome::Refused);
        assert!(!p.usable());
        assert_eq!(
            codes(p),
            vec![
                (Code::PrinterStopped, Severity::Fail),
                (Code::PrinterNotAccepting, Severity::Fail),
                (Code::PrinterAttention, Severity::Warn)
            ]
        );
    }

    #[test]
    fn reasons_that_stop_printing_fail_and_the_others_warn() {
        let warn =
            printer(Some(answered(3, &["toner-low-report", "none"], true)), PortOutcome::Open, PortOutcome::Open);
        assert_eq!(codes(warn), vec![(Code::PrinterAttention, Severity::Warn)]);
        let fail =
            printer(Some(answered(4, &["media-empty", "toner-low"], true)), PortOutcome::Open, PortOutcome::Open);
        assert_eq!(codes(fail), vec![(Code::PrinterAttention, Severity::Fail)]);
        // Vendor keywords without a severity suffix are not a person's job.
        let vendor = printer(Some(answered(3, &["com.example-sleeping"], true)), PortOutcome::Open, PortOutcome::Open);
        assert_eq!(codes(vendor), vec![]);
    }

    #[test]
    fn reason_suffixes_decide_the_weight() {
        assert_eq!(classify_reason("media-empty-error").map(|r| r.0), Some(ReasonWeight::Fail));
        assert_eq!(classify_reason("media-empty-warning").map(|r| r.0), Some(ReasonWeight::Warn));
        assert_eq!(classify_reason("offline-report").map(|r| r.0), Some(ReasonWeight::Warn));
        assert_eq!(classify_reason("toner-low-error").map(|r| r.0), Some(ReasonWeight::Fail));
        assert_eq!(classify_reason("something-new-error").map(|r| r.0), Some(ReasonWeight::Fail));
        assert_eq!(classify_reason("something-new-report"), None);
        assert_eq!(classify_reason("none"), None);
    }

    #[test]
    fn discovered_printers_merge_into_configured_ones_by_address() {
        let configured = vec![("198.18.0.7".to_string(), crate::config::PrinterSpec::parse("198.18.0.7").unwrap())];
        let resolved = vec![Ok("198.18.0.7".parse().unwrap())];
        let service = |name: &str, svc: &str, addr: &str, port: u16| MdnsService {
            printer_name: name.into(),
            service: svc.into(),
            host: Some("host.local".into()),
            port: Some(port),
            address: Some(addr.parse().unwrap()),
            resource_path: Some("ipp/print".into()),
        };
        let discovered = vec![
            service("Lab Printer", "_ipp._tcp", "198.18.0.7", 631),
            service("Other", "_ipps._tcp", "198.18.0.8", 8443),
            service("Other", "_ipp._tcp", "198.18.0.8", 8631),
            service("Other", "_pdl-datastream._tcp", "198.18.0.8", 9100),
        ];
        let planned = plan(&configured, &resolved, &discovered);
        assert_eq!(planned.len(), 2);
        assert_eq!(planned[0].0.source, PrinterSource::Both);
        assert_eq!(planned[0].1.as_ref().unwrap().uri, "ipp://198.18.0.7:631/ipp/print");
        assert_eq!(planned[1].0.source, PrinterSource::Discovered);
        assert_eq!(planned[1].0.services.len(), 3);
        // Plain IPP wins over IPPS when both are advertised.
        let e = planned[1].1.as_ref().unwrap();
        assert_eq!(
            (e.tls, e.uri.as_str(), e.path(), e.authority()),
            (false, "ipp://198.18.0.8:8631/ipp/print", "/ipp/print".to_string(), "198.18.0.8:8631".to_string())
        );
    }

    /// Real answers of CUPS' ippeveprinter to our request (`captures/record_printers.sh`).
    #[test]
    fn real_ippeveprinter_answers_are_judged() {
        let uri = "ipp://127.0.0.1:8631/ipp/print".to_string();
        let healthy =
            IppProbe::from_body(uri.clone(), None, include_bytes!("../../captures/printers/ippeveprinter_healthy.ipp"));
        assert_eq!(healthy.outcome, IppOutcome::Answered);
        assert_eq!((healthy.state, healthy.accepting_jobs), (Some(PrinterState::Idle), Some(true)));
        assert_eq!(healthy.printer_name.as_deref(), Some("Lab Printer"));
        assert!(healthy.state_reasons.is_empty());
        assert_eq!(codes(printer(Some(healthy), PortOutcome::Refused, PortOutcome::Refused)), vec![]);

        let attention =
            IppProbe::from_body(uri, None, include_bytes!("../../captures/printers/ippeveprinter_attention.ipp"));
        assert_eq!(attention.state_reasons, vec!["media-empty-report".to_string(), "toner-empty-report".to_string()]);
        assert_eq!(
            codes(printer(Some(attention), PortOutcome::Refused, PortOutcome::Refused)),
            vec![(Code::PrinterAttention, Severity::Warn)]
        );
    }

    #[test]
    fn evidence_reads_back_and_tolerates_missing_fields() {
        let ev = PrintersEvidence {
            discovery: Some(Discovery { window_ms: 1500, responses: 1, services: vec![], error: None }),
            printers: vec![printer(
                Some(answered(5, &["media-jam-error"], true)),
                PortOutcome::Open,
                PortOutcome::Refused,
            )],
        };
        let json = serde_json::to_value(&ev).unwrap();
        assert_eq!(serde_json::from_value::<PrintersEvidence>(json.clone()).unwrap(), ev);
        assert_eq!(json["printers"][0]["ipp"]["printer_name"], "Lab Printer");
        let old: PrintersEvidence = serde_json::from_str(r#"{"printers":[{"target":"x","future":1}]}"#).unwrap();
        assert_eq!(old.printers[0].target, "x");
        assert!(!details(&ev).is_empty());
    }
}
