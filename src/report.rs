//! The serialisable report model: pure data, no I/O.
//!
//! This is the contract with everything downstream of a run: the renderers in `render/`,
//! tickets, scripts and monitoring. Its JSON form is `schema_version` "1"; within that
//! version fields are only ever added, never renamed or removed (see `docs/report.md`).
//! Every other module may use this one; it uses only [`crate::codes`].

use serde::{Deserialize, Serialize};

pub use crate::codes::Code;

/// The JSON schema version this build writes.
pub const SCHEMA_VERSION: &str = "1";

/// One layer of the diagnosis; the checks' identifiers in graph order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CheckId {
    /// Interface state, carrier, counters.
    Link,
    /// Wi-Fi association and signal.
    Wifi,
    /// DHCP lease and addressing.
    Dhcp,
    /// Default gateway reachability.
    Gateway,
    /// Resolvers.
    Dns,
    /// TCP reachability of targets.
    Ports,
}

impl CheckId {
    /// Every check, in the order the layers are reported and the root cause is chosen.
    pub const ALL: [CheckId; 6] =
        [CheckId::Link, CheckId::Wifi, CheckId::Dhcp, CheckId::Gateway, CheckId::Dns, CheckId::Ports];

    /// The identifier as it appears in reports.
    pub fn as_str(self) -> &'static str {
        match self {
            CheckId::Link => "link",
            CheckId::Wifi => "wifi",
            CheckId::Dhcp => "dhcp",
            CheckId::Gateway => "gateway",
            CheckId::Dns => "dns",
            CheckId::Ports => "ports",
        }
    }

    /// A short human title for the layer.
    pub fn title(self) -> &'static str {
        match self {
            CheckId::Link => "Network link",
            CheckId::Wifi => "Wi-Fi",
            CheckId::Dhcp => "Address (DHCP)",
            CheckId::Gateway => "Gateway",
            CheckId::Dns => "Name servers (DNS)",
            CheckId::Ports => "Services (TCP)",
        }
    }
}

impl std::fmt::Display for CheckId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// How bad a finding is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Severity {
    /// Degraded: slow, lossy, partly failing, or not fully checked.
    Warn,
    /// Broken at this layer.
    Fail,
}

/// One observation that something is wrong, with a stable code.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Finding {
    /// Stable code, e.g. `dns.timeout`.
    pub code: Code,
    /// Warn or fail.
    pub severity: Severity,
    /// The check that found it.
    pub layer: CheckId,
    /// Technician-facing detail: addresses, numbers, what was seen.
    pub message: String,
}

/// A check's overall outcome.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CheckStatus {
    /// Ran, nothing wrong.
    Pass,
    /// Ran, something degraded.
    Warn,
    /// Ran, this layer is broken.
    Fail,
    /// Did not run: blocked by an earlier layer or not applicable (see `reason`).
    Skipped,
    /// Could not run (privileges, timeout, OS error; see `reason`).
    Error,
}

impl CheckStatus {
    /// The status as it appears in reports.
    pub fn as_str(self) -> &'static str {
        match self {
            CheckStatus::Pass => "pass",
            CheckStatus::Warn => "warn",
            CheckStatus::Fail => "fail",
            CheckStatus::Skipped => "skipped",
            CheckStatus::Error => "error",
        }
    }
}

/// The result of one check.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CheckResult {
    /// Which check.
    pub id: CheckId,
    /// Its outcome.
    pub status: CheckStatus,
    /// Wall time the check took.
    pub duration_ms: u64,
    /// The failed check that kept this one from running, if any.
    pub blocked_by: Option<CheckId>,
    /// Why the check was skipped or could not run.
    pub reason: Option<String>,
    /// What it found.
    pub findings: Vec<Finding>,
    /// Check-specific measurements (see `docs/checks/<id>.md`).
    pub evidence: serde_json::Value,
}

/// The run's overall verdict.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RunStatus {
    /// Everything checked is fine.
    Healthy,
    /// Something is slow, lossy, partly failing or could not be checked.
    Degraded,
    /// A layer is broken.
    Broken,
}

impl RunStatus {
    /// The status as it appears in reports.
    pub fn as_str(self) -> &'static str {
        match self {
            RunStatus::Healthy => "healthy",
            RunStatus::Degraded => "degraded",
            RunStatus::Broken => "broken",
        }
    }

    /// The process exit code for this verdict (monitoring-plugins convention).
    pub fn exit_code(self) -> u8 {
        match self {
            RunStatus::Healthy => 0,
            RunStatus::Degraded => 1,
            RunStatus::Broken => 2,
        }
    }
}

/// The layer named as the root cause, with help for both audiences.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RootCause {
    /// Stable code of the deciding finding.
    pub code: Code,
    /// The layer it belongs to.
    pub layer: CheckId,
    /// One sentence for the end user.
    pub summary: String,
    /// What a technician should do next.
    pub next_steps: Vec<String>,
}

/// The verdict over all checks.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Diagnosis {
    /// Healthy, degraded or broken.
    pub status: RunStatus,
    /// Null when healthy.
    pub root_cause: Option<RootCause>,
    /// Every finding of every check, in layer order.
    pub findings: Vec<Finding>,
}

/// The tool that wrote the report.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ToolInfo {
    /// Always `nettriage`.
    pub name: String,
    /// The crate version.
    pub version: String,
}

/// The machine the report is about.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HostInfo {
    /// The kernel's hostname.
    pub hostname: String,
}

/// A complete run report.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Report {
    /// `"1"`.
    pub schema_version: String,
    /// Which tool and version.
    pub tool: ToolInfo,
    /// RFC 3339 UTC start time.
    pub started_at: String,
    /// Wall time of the whole run.
    pub duration_ms: u64,
    /// Which machine.
    pub host: HostInfo,
    /// The interface under test, if one was found.
    pub interface: Option<String>,
    /// Whether the run had CAP_NET_RAW and CAP_NET_ADMIN.
    pub privileged: bool,
    /// Whether MACs, public addresses, SSIDs and the hostname were replaced by placeholders.
    #[serde(default)]
    pub redacted: bool,
    /// The packet capture written during the run (`--capture`), if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub capture: Option<CaptureInfo>,
    /// The verdict.
    pub diagnosis: Diagnosis,
    /// One entry per check, in layer order.
    pub checks: Vec<CheckResult>,
}

/// A packet capture written alongside the report.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CaptureInfo {
    /// Where the pcap file was written.
    pub path: String,
    /// Packets in it.
    pub packets: u64,
}

impl Report {
    /// The result of one check, if present.
    pub fn check(&self, id: CheckId) -> Option<&CheckResult> {
        self.checks.iter().find(|c| c.id == id)
    }
}

/// A report of `checks` from host `desk-214` on `eth0`, diagnosed, for tests.
#[cfg(test)]
pub(crate) fn test_report(checks: Vec<CheckResult>, started_at: &str, duration_ms: u64) -> Report {
    Report {
        schema_version: SCHEMA_VERSION.into(),
        tool: ToolInfo { name: "nettriage".into(), version: "0.1.0".into() },
        started_at: started_at.into(),
        duration_ms,
        host: HostInfo { hostname: "desk-214".into() },
        interface: Some("eth0".into()),
        privileged: true,
        redacted: false,
        capture: None,
        diagnosis: crate::diagnosis::diagnose(&checks),
        checks,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_and_statuses_serialise_as_documented() {
        assert_eq!(serde_json::to_string(&CheckId::Gateway).unwrap(), "\"gateway\"");
        assert_eq!(serde_json::to_string(&CheckStatus::Skipped).unwrap(), "\"skipped\"");
        assert_eq!(serde_json::to_string(&RunStatus::Degraded).unwrap(), "\"degraded\"");
        assert_eq!(serde_json::to_string(&Code::DnsTimeout).unwrap(), "\"dns.timeout\"");
        for id in CheckId::ALL {
            assert_eq!(serde_json::to_string(&id).unwrap(), format!("\"{}\"", id.as_str()));
        }
        // A code from a newer version reads as itself instead of failing the report.
        let newer: Code = serde_json::from_str("\"dns.bogus\"").unwrap();
        assert!(!newer.is_known());
        assert_eq!(newer.as_str(), "dns.bogus");
    }
}
