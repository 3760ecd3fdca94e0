//! Ticket hand-off: a finished report delivered into the site's ticket system
//! (`nettriage ticket`, `--ticket` on `run`/`selftest`).
//!
//! This module is the shared shape: the [`Ticket`] built from a report (subject, bodies,
//! attachments, an idempotency key), the [`Receipt`] a system gives back, the
//! [`DeliveryError`] that names the endpoint and the [`Step`] that failed, and [`deliver`],
//! which sends one ticket to the system the settings choose. One file per system below it
//! (`smtp`, `rt`, `jira`, `servicenow`, `zendesk`); the outbox that keeps undelivered
//! tickets on disk is `outbox`. Settings are `config::TicketSettings`.

use std::time::Duration;

use crate::config::{TicketSettings, TicketSystem};

mod http;
pub mod jira;
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
