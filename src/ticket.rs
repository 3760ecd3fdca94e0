//! Ticket hand-off: a finished report delivered into the site's ticket system
//! (`nettriage ticket`, `--ticket` on `run`/`selftest`).
//!
//! This module is the shared shape: the [`Ticket`] built from a report (subject, bodies,
//! attachments, an idempotency key), the [`Receipt`] a system gives back, the
//! [`DeliveryError`] that names the endpoint and the [`Step`] that failed, and [`deliver`],
//! which sends one ticket to the system the settings choose. One file per system below it
//! (`smtp`, `rt`, `jira`, `servicenow`, `zendesk`); the outbox that keeps undelivered
//! tickets on disk is `outbox`. Settings are `config::TicketSettings`.
//!
//! Also here, for every system: [`Ticket::from_report`] (the report redacted, rendered and
//! attached; the key is the report's id, [`ticket_key`]), [`read_secret`] (a credential
//! from the environment or a 0600 file, never from the command line), [`check_settings`]
//! (a configuration error found before a run, not after it) and [`subject`].

use std::io::Read;
use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::config::{Format, SecretSource, TicketSettings, TicketSystem};
use crate::redact::RedactError;
use crate::report::Report;

mod http;
pub mod jira;
pub mod outbox;
pub mod rt;
pub mod servicenow;
pub mod smtp;
pub mod zendesk;

/// One report, ready to deliver. Built once; delivered (or queued) as it is, so a retry
/// sends the same bytes under the same key.
#[derive(Debug, Clone, PartialEq)]
pub struct Ticket {
    /// Idempotency key: the report's id. A system that already has a ticket with this key
    /// is not sent a second one.
    pub key: String,
    /// Subject line: carries the root-cause code and the neighbour (switch/port) when
    /// known, so service-desk routing rules can key on them.
    pub subject: String,
    /// The plain-language verdict and summary, as text.
    pub body_text: String,
    /// The Markdown summary (for systems that render Markdown or wiki text).
    pub body_markdown: String,
    /// Files attached: the HTML report, the JSON report, the capture when there is one.
    pub attachments: Vec<Attachment>,
}

/// A file attached to a ticket.
#[derive(Debug, Clone, PartialEq)]
pub struct Attachment {
    /// File name shown in the ticket.
    pub name: String,
    /// MIME type (`text/html`, `application/json`, `application/vnd.tcpdump.pcap`).
    pub content_type: String,
    /// The bytes.
    pub bytes: Vec<u8>,
}

/// What a ticket system answered on success.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Receipt {
    /// The system that took the ticket.
    pub system: TicketSystem,
    /// The ticket's reference there: RT ticket number, Jira key, ServiceNow number,
    /// Zendesk id, or the SMTP message id.
    pub reference: String,
}

/// The step of a delivery that failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Step {
    /// Reading the settings or the credential.
    Configure,
    /// Resolving and connecting to the endpoint.
    Connect,
    /// TLS (or STARTTLS) with the endpoint.
    Tls,
    /// Authenticating.
    Authenticate,
    /// Uploading an attachment.
    Upload,
    /// Creating the ticket.
    Create,
    /// Commenting on or updating an existing ticket.
    Update,
    /// Sending the message (SMTP).
    Send,
}

impl std::fmt::Display for Step {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Step::Configure => "configure",
            Step::Connect => "connect",
            Step::Tls => "tls",
            Step::Authenticate => "authenticate",
            Step::Upload => "upload",
            Step::Create => "create",
            Step::Update => "update",
            Step::Send => "send",
        })
    }
}

/// Why a delivery failed. Every variant names the endpoint and the step, never a secret.
#[derive(Debug, thiserror::Error)]
pub enum DeliveryError {
    /// The settings are missing or wrong (exit code 3 in the binary).
    #[error("ticket {system}: configuration: {message}")]
    Config {
        /// The system configured.
        system: &'static str,
        /// What is wrong.
        message: String,
    },
    /// The endpoint could not be reached, or the connection failed.
    #[error("ticket {endpoint}: {step}: {message}")]
    Transport {
        /// The endpoint (URL or host:port), without credentials.
        endpoint: String,
        /// The step that failed.
        step: Step,
        /// What went wrong.
        message: String,
    },
    /// The endpoint answered with an error status.
    #[error("ticket {endpoint}: {step}: HTTP {status}{}", retry_after.map(|d| format!(" (retry after {} s)", d.as_secs())).unwrap_or_default())]
    Status {
        /// The endpoint.
        endpoint: String,
        /// The step that failed.
        step: Step,
        /// HTTP status (or SMTP reply code).
        status: u16,
        /// `Retry-After` of a 429 or 503.
        retry_after: Option<Duration>,
    },
    /// The mail server refused with an SMTP reply code: 4xx is transient (greylisting, a
    /// full queue), 5xx permanent (unknown recipient, authentication refused).
    #[error("ticket {endpoint}: {step}: SMTP {code}: {message}")]
    Refused {
        /// The mail server (host:port).
        endpoint: String,
        /// The step that failed.
        step: Step,
        /// The SMTP reply code.
        code: u16,
        /// The server's reply text.
        message: String,
    },
    /// The system is not supported by this build.
    #[error("ticket {system}: not supported by this build")]
    Unsupported {
        /// The system configured.
        system: &'static str,
    },
}

impl DeliveryError {
    /// A configuration error (the binary exits 3; retrying will not help).
    pub fn is_config(&self) -> bool {
        matches!(self, DeliveryError::Config { .. })
    }

    /// Worth retrying later (network down, 429, 5xx), as opposed to a refusal that will
    /// not change (401/403/413, bad settings).
    pub fn is_transient(&self) -> bool {
        match self {
            DeliveryError::Transport { .. } => true,
            DeliveryError::Status { status, .. } => *status == 429 || *status >= 500,
            DeliveryError::Refused { code, .. } => (400..500).contains(code),
            DeliveryError::Config { .. } | DeliveryError::Unsupported { .. } => false,
        }
    }
}

/// Delivers one ticket to the system `settings.system` names.
pub async fn deliver(settings: &TicketSettings, ticket: &Ticket) -> Result<Receipt, DeliveryError> {
    let Some(system) = settings.system else {
        return Err(DeliveryError::Config { system: "none", message: "no [ticket] system configured".into() });
    };
    let missing = || DeliveryError::Config {
        system: system.name(),
        message: format!("[ticket.{}] is missing from the config file", system.name()),
    };
    match system {
        TicketSystem::Smtp => smtp::deliver(settings, settings.smtp.as_ref().ok_or_else(missing)?, ticket).await,
        TicketSystem::Rt => rt::deliver(settings, settings.rt.as_ref().ok_or_else(missing)?, ticket).await,
        TicketSystem::Jira => jira::deliver(settings, settings.jira.as_ref().ok_or_else(missing)?, ticket).await,
        TicketSystem::Servicenow => {
            servicenow::deliver(settings, settings.servicenow.as_ref().ok_or_else(missing)?, ticket).await
        }
        TicketSystem::Zendesk => {
            zendesk::deliver(settings, settings.zendesk.as_ref().ok_or_else(missing)?, ticket).await
        }
    }
}

/// Why a [`Ticket`] could not be built from a report.
#[derive(Debug, thiserror::Error)]
pub enum BuildError {
    /// The report could not be redacted safely: nothing leaves the machine.
    #[error(transparent)]
    Redact(#[from] RedactError),
    /// The report could not be rendered for the ticket.
    #[error("cannot render the report as {format:?} for the ticket: {source}")]
    Render {
        /// The format being rendered.
        format: Format,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// The capture to attach could not be read.
    #[error("cannot read the capture {} to attach it: {source}", path.display())]
    Capture {
        /// The capture file.
        path: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
}

/// The longest key a ticket may have (it names the outbox entry).
const MAX_KEY_LEN: usize = 64;

/// The idempotency key of a report: its id ([`Report::id`]) when it has a usable one,
/// else (reports of older versions, analysed captures) a stable digest of what does not
/// change when the report is copied, read back or redacted: its start time, duration,
/// tool version and interface. The key is made of `[0-9A-Za-z_-]` only, at most 64
/// characters, so it is safe as a file name and a Message-ID.
pub fn ticket_key(report: &Report) -> String {
    if let Some(id) = &report.id
        && is_safe_key(id)
    {
        return id.clone();
    }
    let material = format!(
        "{}\n{}\n{}\n{}\n{}",
        report.started_at,
        report.duration_ms,
        report.tool.version,
        report.interface.as_deref().unwrap_or(""),
        report.diagnosis.status.as_str()
    );
    format!("r{:016x}", fnv1a64(material.as_bytes()))
}

/// Whether `key` may name an outbox entry: 1 to 64 of `[0-9A-Za-z_-]`.
pub fn is_safe_key(key: &str) -> bool {
    !key.is_empty()
        && key.len() <= MAX_KEY_LEN
        && key.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

/// FNV-1a, 64 bits: a stable digest (the same in every build and version).
fn fnv1a64(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325u64, |h, b| (h ^ u64::from(*b)).wrapping_mul(0x0100_0000_01b3))
}

/// The switch and port the tested interface is plugged into (`sw-3/Gi1/0/14`), when the
/// report's neighbours check heard it (the report's `neighbour` line: LLDP, CDP or lldpd),
/// so the subject names it and service-desk routing rules can key on it.
pub fn neighbour(report: &Report) -> Option<String> {
    let line = report.neighbour.as_ref()?;
    match (&line.switch, &line.port) {
        (Some(switch), Some(port)) => Some(format!("{switch}/{port}")),
        (Some(switch), None) => Some(switch.clone()),
        (None, Some(port)) => Some(format!("port {port}")),
        (None, None) => None,
    }
}

/// The subject line: `nettriage: <status> <root-cause code> on <host>/<interface>`, then
/// ` via <switch/port>` when the neighbour is known; a healthy run has no code.
pub fn subject(report: &Report) -> String {
    let mut subject = format!("nettriage: {}", report.diagnosis.status.as_str());
    if let Some(rc) = &report.diagnosis.root_cause {
        subject.push_str(&format!(" {}", rc.code));
    }
    subject.push_str(&format!(" on {}/{}", report.host.hostname, report.interface.as_deref().unwrap_or("-")));
    if let Some(n) = neighbour(report) {
        subject.push_str(&format!(" via {n}"));
    }
    // A header line: no line breaks, bounded.
    subject.chars().map(|c| if c.is_control() { ' ' } else { c }).take(200).collect()
}

impl Ticket {
    /// Builds the ticket for `report`: redacted first unless `settings.redact` is false (a
    /// report already redacted is taken as it is, so its attachment is the very file the
    /// run wrote), the subject ([`subject`]), the plain-language sentence and the Markdown
    /// summary as the body, the HTML and JSON reports attached, and `capture` when given.
    /// An attachment larger than `settings.max_attachment_bytes` is left out and the body
    /// says so. The key is [`ticket_key`] of the report as given.
    pub fn from_report(
        report: &Report,
        settings: &TicketSettings,
        capture: Option<&Path>,
    ) -> Result<Ticket, BuildError> {
        let key = ticket_key(report);
        let redacted;
        let report = if settings.redact && !report.redacted {
            redacted = crate::redact::redact(report)?;
            &redacted
        } else {
            report
        };
        let render = |format: Format| -> Result<Vec<u8>, BuildError> {
            let mut buf = Vec::new();
            crate::render::write(report, format, &mut buf, false)
                .map_err(|source| BuildError::Render { format, source })?;
            Ok(buf)
        };
        let markdown = String::from_utf8_lossy(&render(Format::Markdown)?).into_owned();
        let summary = match markdown.find(crate::render::markdown::DETAILS_OPEN) {
            Some(at) => markdown[..at].trim_end().to_string(),
            None => markdown.trim_end().to_string(),
        };
        let html_name = crate::app::default_report_name(report);
        let stem = html_name.trim_end_matches(".html").to_string();
        let mut candidates = vec![
            Attachment {
                name: html_name,
                content_type: "text/html; charset=utf-8".into(),
                bytes: render(Format::Html)?,
            },
            Attachment {
                name: format!("{stem}.json"),
                content_type: "application/json".into(),
                bytes: render(Format::Json)?,
            },
        ];
        let limit = settings.max_attachment_bytes;
        let mut left_out = Vec::new();
        if let Some(path) = capture {
            let name = path
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .filter(|n| !n.is_empty())
                .unwrap_or_else(|| format!("{stem}.pcap"));
            match read_bounded(path, limit)? {
                Bounded::Whole(bytes) => {
                    candidates.push(Attachment { name, content_type: "application/vnd.tcpdump.pcap".into(), bytes })
                }
                Bounded::TooLarge(size) => left_out.push((name, size)),
            }
        }
        let mut attachments = Vec::new();
        for a in candidates {
            if a.bytes.len() as u64 > limit {
                left_out.push((a.name, a.bytes.len() as u64));
            } else {
                attachments.push(a);
            }
        }
        let mut body_text = format!("{}\n\n{summary}\n", crate::render::sentence(report));
        for (name, size) in &left_out {
            body_text.push_str(&format!(
                "\n{name} ({size} bytes) is not attached: it is larger than the {limit} bytes allowed \
                 (max_attachment_bytes under [ticket]).\n"
            ));
        }
        Ok(Ticket { key, subject: subject(report), body_text, body_markdown: summary, attachments })
    }
}

/// A file read up to a bound.
enum Bounded {
    /// The whole file.
    Whole(Vec<u8>),
    /// Larger than the bound: its size.
    TooLarge(u64),
}

/// Reads `path` whole if it has at most `limit` bytes (never more than `limit + 1` read).
fn read_bounded(path: &Path, limit: u64) -> Result<Bounded, BuildError> {
    let fail = |source| BuildError::Capture { path: path.to_path_buf(), source };
    let file = std::fs::File::open(path).map_err(fail)?;
    let size = file.metadata().map_err(fail)?.len();
    if size > limit {
        return Ok(Bounded::TooLarge(size));
    }
    let mut bytes = Vec::new();
    file.take(limit.saturating_add(1)).read_to_end(&mut bytes).map_err(fail)?;
    if bytes.len() as u64 > limit {
        return Ok(Bounded::TooLarge(bytes.len() as u64));
    }
    Ok(Bounded::Whole(bytes))
}

/// The largest secret file read (a token or password is far smaller).
const MAX_SECRET_BYTES: u64 = 64 * 1024;

/// Reads a credential: the environment variable `secret_env`, or the file `secret_file`,
/// which must be a regular file that neither group nor others may read or write (mode
/// 0600 or stricter); a file readable by others is refused, naming the path. One trailing
/// line break is removed. `Ok(None)` when neither is set (a system that needs no
/// credential); a configuration error when both are set, the variable is unset or empty,
/// or the file is missing, too open or empty. The value is never logged.
pub fn read_secret(system: TicketSystem, source: &SecretSource) -> Result<Option<String>, DeliveryError> {
    let config = |message: String| DeliveryError::Config { system: system.name(), message };
    match (&source.secret_env, &source.secret_file) {
        (None, None) => Ok(None),
        (Some(_), Some(_)) => Err(config("secret_env and secret_file are both set; set one".into())),
        (Some(var), None) => match std::env::var(var) {
            Ok(value) if !value.is_empty() => Ok(Some(value)),
            Ok(_) => Err(config(format!("the environment variable {var} (secret_env) is empty"))),
            Err(_) => Err(config(format!("the environment variable {var} (secret_env) is not set"))),
        },
        (None, Some(path)) => read_secret_file(path).map(Some).map_err(config),
    }
}

/// The secret in `path`, or why it is refused (a message naming the path).
fn read_secret_file(path: &Path) -> Result<String, String> {
    use std::os::unix::fs::{MetadataExt, PermissionsExt};
    let shown = path.display();
    let file = std::fs::File::open(path).map_err(|e| format!("cannot read the secret file {shown}: {e}"))?;
    let meta = file.metadata().map_err(|e| format!("cannot read the secret file {shown}: {e}"))?;
    if !meta.is_file() {
        return Err(format!("the secret file {shown} is not a regular file"));
    }
    let mode = meta.permissions().mode() & 0o777;
    if mode & 0o077 != 0 {
        return Err(format!(
            "the secret file {shown} may be read or written by others (mode {mode:04o}); run `chmod 600 {shown}`"
        ));
    }
    let euid = crate::platform::privilege::effective_uid()
        .ok_or_else(|| format!("the secret file {shown}: cannot tell who runs nettriage (/proc/self/status)"))?;
    if meta.uid() != euid {
        return Err(format!("the secret file {shown} is owned by uid {}, not by the caller (uid {euid})", meta.uid()));
    }
    let mut text = String::new();
    file.take(MAX_SECRET_BYTES + 1)
        .read_to_string(&mut text)
        .map_err(|e| format!("cannot read the secret file {shown}: {e}"))?;
    if text.len() as u64 > MAX_SECRET_BYTES {
        return Err(format!("the secret file {shown} is larger than {MAX_SECRET_BYTES} bytes"));
    }
    let secret = text.strip_suffix('\n').map(|t| t.strip_suffix('\r').unwrap_or(t)).unwrap_or(&text);
    if secret.is_empty() {
        return Err(format!("the secret file {shown} is empty"));
    }
    Ok(secret.to_string())
}

/// Checks the settings the way [`deliver`] will read them, without sending anything: a
/// system is chosen and its table is there. Called before a run with `--ticket`, so a
/// configuration error is said at once rather than after the run.
pub fn check_settings(settings: &TicketSettings) -> Result<TicketSystem, DeliveryError> {
    let Some(system) = settings.system else {
        return Err(DeliveryError::Config {
            system: "none",
            message: "no ticket system configured: set `system` under [ticket] in the config file".into(),
        });
    };
    let present = match system {
        TicketSystem::Smtp => settings.smtp.is_some(),
        TicketSystem::Rt => settings.rt.is_some(),
        TicketSystem::Jira => settings.jira.is_some(),
        TicketSystem::Servicenow => settings.servicenow.is_some(),
        TicketSystem::Zendesk => settings.zendesk.is_some(),
    };
    if !present {
        return Err(DeliveryError::Config {
            system: system.name(),
            message: format!("[ticket.{}] is missing from the config file", system.name()),
        });
    }
    Ok(system)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::SmtpSettings;
    use crate::report::CheckId;

    fn settings(redact: bool) -> TicketSettings {
        TicketSettings { redact, ..TicketSettings::default() }
    }

    #[test]
    fn subject_carries_status_root_cause_host_and_interface() {
        let report = crate::render::sample_report();
        let rc = report.diagnosis.root_cause.as_ref().expect("the sample has a root cause");
        assert_eq!(rc.layer, CheckId::Dns);
        let ticket = Ticket::from_report(&report, &settings(false), None).unwrap();
        assert_eq!(ticket.subject, format!("nettriage: broken {} on desk-214/eth0", rc.code));
        assert_eq!(neighbour(&report), None, "the sample report heard no switch");
        // Redacted: the hostname is the placeholder, the code stays for routing rules.
        let redacted = Ticket::from_report(&report, &settings(true), None).unwrap();
        assert!(!redacted.subject.contains("desk-214"));
        assert!(redacted.subject.starts_with(&format!("nettriage: broken {} on ", rc.code)));
    }

    #[test]
    fn subject_names_the_switch_port_when_the_report_has_one() {
        use crate::check::neighbours::NeighbourLine;
        let mut report = crate::render::sample_report();
        report.neighbour = Some(NeighbourLine {
            switch: Some("sw-3".into()),
            port: Some("Gi1/0/14".into()),
            vlan: Some(42),
            protocol: Default::default(),
            via: Default::default(),
            management_address: None,
        });
        let ticket = Ticket::from_report(&report, &settings(false), None).unwrap();
        assert!(ticket.subject.ends_with(" via sw-3/Gi1/0/14"), "{}", ticket.subject);
        // Redacted, the switch and port are placeholders, still there for routing.
        let redacted = Ticket::from_report(&report, &settings(true), None).unwrap();
        assert!(!redacted.subject.contains("sw-3") && redacted.subject.contains(" via "), "{}", redacted.subject);
    }

    #[test]
    fn attachments_are_the_html_and_json_reports_of_the_redacted_report() {
        let report = crate::render::sample_report();
        let ticket = Ticket::from_report(&report, &settings(true), None).unwrap();
        let names: Vec<&str> = ticket.attachments.iter().map(|a| a.name.as_str()).collect();
        assert_eq!(names.len(), 2, "{names:?}");
        assert!(names[0].ends_with(".html") && names[1].ends_with(".json"), "{names:?}");
        let redacted = crate::redact::redact(&report).unwrap();
        let mut html = Vec::new();
        crate::render::write(&redacted, Format::Html, &mut html, false).unwrap();
        assert_eq!(ticket.attachments[0].bytes, html);
        let back: Report = serde_json::from_slice(&ticket.attachments[1].bytes).unwrap();
        assert!(back.redacted);
        assert_eq!(back.diagnosis.root_cause.map(|r| r.code), report.diagnosis.root_cause.as_ref().map(|r| r.code));
        // The body starts with the end user's sentence.
        assert!(ticket.body_text.starts_with(&crate::render::sentence(&redacted)));
        assert!(!ticket.body_markdown.contains(crate::render::markdown::DETAILS_OPEN));
        // Not redacted when the settings say so; an already redacted report is taken as is.
        let plain = Ticket::from_report(&report, &settings(false), None).unwrap();
        let back: Report = serde_json::from_slice(&plain.attachments[1].bytes).unwrap();
        assert!(!back.redacted);
        let again = Ticket::from_report(&redacted, &settings(true), None).unwrap();
        assert_eq!(again.attachments[0].bytes, html);
    }

    #[test]
    fn a_capture_is_attached_within_the_bound_and_left_out_above_it() {
        let dir = tempfile::tempdir().unwrap();
        let pcap = dir.path().join("run.pcap");
        std::fs::write(&pcap, vec![0xd4u8; 4000]).unwrap();
        let report = crate::render::sample_report();
        let big = TicketSettings { max_attachment_bytes: 1_000_000, ..settings(false) };
        let t = Ticket::from_report(&report, &big, Some(&pcap)).unwrap();
        let a = t.attachments.iter().find(|a| a.name == "run.pcap").expect("the capture is attached");
        assert_eq!(a.bytes.len(), 4000);
        assert_eq!(a.content_type, "application/vnd.tcpdump.pcap");
        let small = TicketSettings { max_attachment_bytes: 3000, ..settings(false) };
        let t = Ticket::from_report(&report, &small, Some(&pcap)).unwrap();
        assert!(t.attachments.iter().all(|a| a.name != "run.pcap"));
        assert!(t.body_text.contains("run.pcap"), "the body names what was left out");
        // A capture that does not read is an error naming it.
        let missing = dir.path().join("gone.pcap");
        match Ticket::from_report(&report, &big, Some(&missing)) {
            Err(BuildError::Capture { path, .. }) => assert_eq!(path, missing),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn the_key_is_the_report_id_and_survives_copies_and_redaction() {
        let mut report = crate::render::sample_report();
        let fallback = ticket_key(&report);
        assert!(is_safe_key(&fallback));
        assert_eq!(ticket_key(&crate::redact::redact(&report).unwrap()), fallback);
        let json = serde_json::to_string(&report).unwrap();
        assert_eq!(ticket_key(&serde_json::from_str(&json).unwrap()), fallback);
        report.id = Some(crate::report::new_report_id());
        let id = report.id.clone().unwrap();
        assert_eq!(id.len(), 32);
        assert_eq!(ticket_key(&report), id);
        let redacted = crate::redact::redact(&report).unwrap();
        assert_eq!(redacted.id.as_deref(), Some(id.as_str()), "redaction keeps the id");
        assert_eq!(Ticket::from_report(&report, &settings(true), None).unwrap().key, id);
        // An id that cannot name a file is not used.
        report.id = Some("../../etc/passwd".into());
        assert_eq!(ticket_key(&report), fallback);
        assert_ne!(crate::report::new_report_id(), id);
    }

    #[test]
    fn secrets_come_from_the_environment_or_a_private_file() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("pw");
        std::fs::write(&file, "s3cret\n").unwrap();
        let from_file = SecretSource { secret_env: None, secret_file: Some(file.clone()) };
        std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o644)).unwrap();
        let e = read_secret(TicketSystem::Smtp, &from_file).unwrap_err();
        assert!(e.is_config());
        assert!(e.to_string().contains(&file.display().to_string()), "the refusal names the file: {e}");
        std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o640)).unwrap();
        assert!(read_secret(TicketSystem::Smtp, &from_file).unwrap_err().is_config());
        std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o600)).unwrap();
        assert_eq!(read_secret(TicketSystem::Smtp, &from_file).unwrap().as_deref(), Some("s3cret"));
        std::fs::write(&file, "").unwrap();
        assert!(read_secret(TicketSystem::Smtp, &from_file).unwrap_err().is_config());
        let missing = SecretSource { secret_env: None, secret_file: Some(dir.path().join("none")) };
        assert!(read_secret(TicketSystem::Rt, &missing).unwrap_err().is_config());
        assert_eq!(read_secret(TicketSystem::Rt, &SecretSource::default()).unwrap(), None);
        let unset = SecretSource { secret_env: Some("NETTRIAGE_TEST_SURELY_UNSET_VARIABLE".into()), secret_file: None };
        assert!(read_secret(TicketSystem::Jira, &unset).unwrap_err().is_config());
        let both = SecretSource { secret_env: Some("PATH".into()), secret_file: Some(file) };
        assert!(read_secret(TicketSystem::Jira, &both).unwrap_err().is_config());
        let env = SecretSource { secret_env: Some("PATH".into()), secret_file: None };
        assert_eq!(read_secret(TicketSystem::Jira, &env).unwrap(), std::env::var("PATH").ok());
    }

    #[test]
    fn settings_without_a_system_or_its_table_are_configuration_errors() {
        assert!(check_settings(&TicketSettings::default()).unwrap_err().is_config());
        let no_table = TicketSettings { system: Some(TicketSystem::Smtp), ..TicketSettings::default() };
        assert!(check_settings(&no_table).unwrap_err().is_config());
        let smtp = SmtpSettings {
            server: "mail.example.org".into(),
            port: None,
            starttls: true,
            from: "nt@example.org".into(),
            to: vec!["help@example.org".into()],
            ca_file: None,
            username: None,
            secret_env: None,
            secret_file: None,
        };
        let ok = TicketSettings { system: Some(TicketSystem::Smtp), smtp: Some(smtp), ..TicketSettings::default() };
        assert_eq!(check_settings(&ok).unwrap(), TicketSystem::Smtp);
    }

    #[test]
    fn smtp_replies_are_transient_below_500_and_permanent_above() {
        let refused =
            |code| DeliveryError::Refused { endpoint: "m:587".into(), step: Step::Send, code, message: String::new() };
        assert!(refused(421).is_transient());
        assert!(refused(451).is_transient());
        assert!(!refused(550).is_transient());
        assert!(!refused(535).is_transient());
        assert!(!refused(550).is_config());
    }

    #[test]
    fn ticket_config_errors_are_refused_when_the_file_is_read() {
        use crate::config::{Config, ConfigError, Overrides};
        let dir = tempfile::tempdir().unwrap();
        let load = |text: &str| {
            let path = dir.path().join("c.toml");
            std::fs::write(&path, text).unwrap();
            Config::load(&Overrides { config: Some(path), ..Overrides::default() })
        };
        let ok = load(
            "[ticket]\nsystem = \"smtp\"\n[ticket.smtp]\nserver = \"198.18.0.1\"\nport = 2525\nstarttls = false\n\
             from = \"nt@lab.test\"\nto = [\"help@lab.test\"]\n",
        )
        .unwrap();
        assert_eq!(ok.ticket.system, Some(TicketSystem::Smtp));
        assert_eq!(ok.ticket.smtp.as_ref().and_then(|s| s.port), Some(2525));
        assert!(ok.ticket.redact);
        assert!(matches!(load("[ticket]\nsystem = \"fax\"\n"), Err(ConfigError::Parse { .. })));
        assert!(matches!(load("[ticket]\nsytem = \"smtp\"\n"), Err(ConfigError::Parse { .. })));
        assert!(
            matches!(load("[ticket.smtp]\nserver = \"m\"\n"), Err(ConfigError::Parse { .. })),
            "from and to are required"
        );
        assert!(
            matches!(
                load("[ticket.smtp]\nserver = \"m\"\nfrom = \"a@b\"\nto = [\"c@d\"]\npassword = \"x\"\n"),
                Err(ConfigError::Parse { .. })
            ),
            "no password in the file"
        );
        assert!(matches!(load("[ticket]\ntimeout_ms = 0\n"), Err(ConfigError::Invalid { .. })));
        assert!(matches!(load("[ticket]\nmax_attachment_bytes = 10\n"), Err(ConfigError::Invalid { .. })));
    }
}
