//! `[ticket]` settings: where `nettriage ticket` (and `--ticket` on `run`/`selftest`)
//! delivers a report, read from the config file only (credentials never come from the
//! command line, so they never show in a process list).
//!
//! One table per ticket system; `system` chooses which one is used. Credentials are named,
//! not written here: `secret_env` (an environment variable) or `secret_file` (a file that
//! must be mode 0600). The delivery code lives in `crate::ticket`; this module is only the
//! settings' shape and defaults.

use std::path::PathBuf;

use serde::{Deserialize, Serialize};

/// The ticket system a report is delivered to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum TicketSystem {
    /// Email-to-ticket over SMTP (every ticket system accepts it).
    Smtp,
    /// Request Tracker's REST2 API.
    Rt,
    /// Jira (Cloud or Data Center) REST API.
    Jira,
    /// ServiceNow's Table and Attachment APIs.
    Servicenow,
    /// Zendesk's Support API (uploads, then tickets).
    Zendesk,
}

impl TicketSystem {
    /// The name used in the config file, the report and messages.
    pub fn name(self) -> &'static str {
        match self {
            TicketSystem::Smtp => "smtp",
            TicketSystem::Rt => "rt",
            TicketSystem::Jira => "jira",
            TicketSystem::Servicenow => "servicenow",
            TicketSystem::Zendesk => "zendesk",
        }
    }
}

/// Where a credential comes from: an environment variable or a 0600 file. Never the value
/// itself, so a config file can be shared and a report never carries one. Each system's
/// table has `secret_env` and `secret_file` keys; `secret()` gathers them.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SecretSource {
    /// Name of the environment variable holding the secret.
    pub secret_env: Option<String>,
    /// Path of a file (mode 0600, owned by the caller) holding the secret.
    pub secret_file: Option<PathBuf>,
}

/// `[ticket]`: the hand-off of reports to the site's ticket system.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct TicketSettings {
    /// The system reports go to. None: `ticket` refuses with a configuration error.
    pub system: Option<TicketSystem>,
    /// Directory of the outbox (tickets not delivered yet). None: the default state
    /// directory (`/var/lib/nettriage/outbox` as root, `$XDG_STATE_HOME/nettriage/outbox`
    /// otherwise).
    pub outbox: Option<PathBuf>,
    /// Redact reports before they leave the machine (default true).
    pub redact: bool,
    /// Bound on each request to the ticket system, in milliseconds.
    pub timeout_ms: u64,
    /// Largest attachment sent; a larger one is left out and the body says so.
    pub max_attachment_bytes: u64,
    /// A PEM file of CA certificates trusted for the HTTP ticket systems, besides the
    /// system's store (a site or lab ticket system behind a private CA).
    pub ca_file: Option<PathBuf>,
    /// HTTP proxy for the HTTP ticket systems (`http://host:port`); None: direct (the
    /// environment's proxy variables are not used, so a delivery goes where the config
    /// says).
    pub proxy: Option<String>,
    /// Email-to-ticket.
    pub smtp: Option<SmtpSettings>,
    /// Request Tracker.
    pub rt: Option<RtSettings>,
    /// Jira.
    pub jira: Option<JiraSettings>,
    /// ServiceNow.
    pub servicenow: Option<ServiceNowSettings>,
    /// Zendesk.
    pub zendesk: Option<ZendeskSettings>,
}

impl Default for TicketSettings {
    fn default() -> Self {
        TicketSettings {
            system: None,
            outbox: None,
            redact: true,
            timeout_ms: 15_000,
            max_attachment_bytes: 10 * 1024 * 1024,
            ca_file: None,
            proxy: None,
            smtp: None,
            rt: None,
            jira: None,
            servicenow: None,
            zendesk: None,
        }
    }
}

/// `[ticket.smtp]`: email-to-ticket.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct SmtpSettings {
    /// Mail server host name or address.
    pub server: String,
    /// Port; default 587 with STARTTLS, 25 without.
    #[serde(default)]
    pub port: Option<u16>,
    /// Require STARTTLS (default true). False only for a lab or a local relay.
    #[serde(default = "yes")]
    pub starttls: bool,
    /// Envelope and header sender.
    pub from: String,
    /// The ticket system's inbound addresses.
    pub to: Vec<String>,
    /// PEM file of CA certificates to trust for the server besides the system's (a site's
    /// own PKI, or a lab).
    #[serde(default)]
    pub ca_file: Option<PathBuf>,
    /// SMTP user name, when the server wants authentication.
    #[serde(default)]
    pub username: Option<String>,
    /// The SMTP password: the environment variable holding it.
    #[serde(default)]
    pub secret_env: Option<String>,
    /// The SMTP password: a file (mode 0600) holding it.
    #[serde(default)]
    pub secret_file: Option<PathBuf>,
}

/// `[ticket.rt]`: Request Tracker REST2.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct RtSettings {
    /// Base URL of RT (`https://rt.example.org`); REST2 is under `/REST/2.0/`.
    pub url: String,
    /// Queue new tickets are created in.
    #[serde(default = "general")]
    pub queue: String,
    /// Comment on this existing ticket instead of creating one.
    #[serde(default)]
    pub ticket: Option<u64>,
    /// The auth token (`Authorization: token …`): the environment variable holding it.
    #[serde(default)]
    pub secret_env: Option<String>,
    /// The auth token (`Authorization: token …`): a file (mode 0600) holding it.
    #[serde(default)]
    pub secret_file: Option<PathBuf>,
}

/// `[ticket.jira]`: Jira REST API.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct JiraSettings {
    /// Base URL (`https://example.atlassian.net`).
    pub url: String,
    /// Project key new issues are created in.
    #[serde(default)]
    pub project: Option<String>,
    /// Attach to this existing issue (`PROJ-123`) instead of creating one.
    #[serde(default)]
    pub issue: Option<String>,
    /// Issue type of new issues.
    #[serde(default = "task")]
    pub issue_type: String,
    /// Account e-mail (Cloud basic auth with an API token); none: bearer token (Data Center PAT).
    #[serde(default)]
    pub user: Option<String>,
    /// The API token: the environment variable holding it.
    #[serde(default)]
    pub secret_env: Option<String>,
    /// The API token: a file (mode 0600) holding it.
    #[serde(default)]
    pub secret_file: Option<PathBuf>,
}

/// `[ticket.servicenow]`: ServiceNow Table and Attachment APIs.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct ServiceNowSettings {
    /// Instance URL (`https://example.service-now.com`).
    pub url: String,
    /// User name (basic auth).
    pub user: String,
    /// Assignment group of new incidents, if any.
    #[serde(default)]
    pub assignment_group: Option<String>,
    /// The password: the environment variable holding it.
    #[serde(default)]
    pub secret_env: Option<String>,
    /// The password: a file (mode 0600) holding it.
    #[serde(default)]
    pub secret_file: Option<PathBuf>,
}

/// `[ticket.zendesk]`: Zendesk Support API.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct ZendeskSettings {
    /// Base URL (`https://example.zendesk.com`).
    pub url: String,
    /// Agent e-mail (`email/token` basic auth).
    pub email: String,
    /// Update this existing ticket instead of creating one.
    #[serde(default)]
    pub ticket: Option<u64>,
    /// The API token: the environment variable holding it.
    #[serde(default)]
    pub secret_env: Option<String>,
    /// The API token: a file (mode 0600) holding it.
    #[serde(default)]
    pub secret_file: Option<PathBuf>,
}

fn yes() -> bool {
    true
}

fn general() -> String {
    "General".to_string()
}

fn task() -> String {
    "Task".to_string()
}

/// `secret()` for each system's settings: the `secret_env`/`secret_file` pair they all carry.
macro_rules! secret_of {
    ($($settings:ty),+) => {$(
        impl $settings {
            /// Where this system's credential comes from.
            pub fn secret(&self) -> SecretSource {
                SecretSource { secret_env: self.secret_env.clone(), secret_file: self.secret_file.clone() }
            }
        }
    )+};
}

secret_of!(SmtpSettings, RtSettings, JiraSettings, ServiceNowSettings, ZendeskSettings);
