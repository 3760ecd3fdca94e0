//! The serialisable report model: pure data, no I/O.
//!
//! This is the contract with everything downstream of a run: the renderers in `render/`,
//! tickets, scripts and monitoring. Its JSON form is `schema_version` "1"; within that
//! version fields are only ever added, never renamed or removed (see `docs/report.md`).
//! Every other module may use this one; it uses [`crate::codes`] and the checks' evidence
//! types (plain data in `check/*.rs`), which [`Evidence`] carries.
//!
//! Reading is tolerant so that stored reports of other versions still read: unknown fields
//! are ignored, unknown codes read as [`Code::Unknown`], fields added later default, checks
//! and findings of layers this build does not know are left out, and evidence that does
//! not fit this version's type exactly is kept whole as read ([`Evidence::Extended`],
//! [`Evidence::Other`]), so writing a report back never loses anything.

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::check::ad::AdEvidence;
use crate::check::dhcp::DhcpEvidence;
use crate::check::dns::DnsEvidence;
use crate::check::gateway::GatewayEvidence;
use crate::check::ipv6::Ipv6Evidence;
use crate::check::link::LinkEvidence;
use crate::check::m365::M365Evidence;
use crate::check::neighbours::{NeighbourLine, NeighboursEvidence};
use crate::check::path::PathEvidence;
use crate::check::ports::PortsEvidence;
use crate::check::printers::PrintersEvidence;
use crate::check::rdp::RdpEvidence;
use crate::check::smb::SmbEvidence;
use crate::check::web::WebEvidence;
use crate::check::wifi::{WifiEvidence, WifiSkipEvidence};
pub use crate::codes::Code;
pub use crate::types::Timestamp;

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
    /// The switch port: LLDP and CDP neighbours, VLAN, speed, duplex and power as the
    /// switch reports them.
    Neighbours,
    /// DHCP lease and addressing.
    Dhcp,
    /// IPv6 addressing: Router Advertisements, the addresses the kernel formed, DAD.
    Ipv6,
    /// Default gateway reachability.
    Gateway,
    /// Resolvers.
    Dns,
    /// The path's MTU: whether full-size packets reach the gateway and the targets.
    Path,
    /// Web access: connectivity probe (captive portals), HTTP(S) targets and TLS.
    Web,
    /// TCP reachability of targets.
    Ports,
    /// Profile `ad`: Active Directory (DC records, Kerberos, LDAP, the clock).
    Ad,
    /// Profile `smb`: file shares (SMB2 negotiation).
    Smb,
    /// Profile `printers`: IPP state, raw and LPD ports, mDNS-advertised printers.
    Printers,
    /// Profile `m365`: Microsoft 365 endpoints and Teams media ports.
    M365,
    /// Profile `rdp`: remote desktop (TCP 3389, the RDP negotiation).
    Rdp,
}

impl CheckId {
    /// Every layer check (each run has them all), in the order the layers are reported and
    /// the root cause is chosen. The service profiles ([`CheckId::PROFILES`]) follow them
    /// when chosen.
    pub const ALL: [CheckId; 10] = [
        CheckId::Link,
        CheckId::Wifi,
        CheckId::Neighbours,
        CheckId::Dhcp,
        CheckId::Ipv6,
        CheckId::Gateway,
        CheckId::Dns,
        CheckId::Path,
        CheckId::Web,
        CheckId::Ports,
    ];

    /// The service profiles' checks, in report order (after [`CheckId::ALL`]); a run has
    /// those chosen by `--profile` or `[profiles] enabled`.
    pub const PROFILES: [CheckId; 5] = [CheckId::Ad, CheckId::Smb, CheckId::Printers, CheckId::M365, CheckId::Rdp];

    /// Every check this version knows, layers then profiles: the report order.
    pub fn every() -> impl Iterator<Item = CheckId> {
        CheckId::ALL.into_iter().chain(CheckId::PROFILES)
    }

    /// Whether this check is a service profile's (runs only when chosen).
    pub fn is_profile(self) -> bool {
        CheckId::PROFILES.contains(&self)
    }

    /// The identifier as it appears in reports.
    pub fn as_str(self) -> &'static str {
        match self {
            CheckId::Link => "link",
            CheckId::Neighbours => "neighbours",
            CheckId::Wifi => "wifi",
            CheckId::Dhcp => "dhcp",
            CheckId::Ipv6 => "ipv6",
            CheckId::Gateway => "gateway",
            CheckId::Dns => "dns",
            CheckId::Path => "path",
            CheckId::Web => "web",
            CheckId::Ports => "ports",
            CheckId::Ad => "ad",
            CheckId::Smb => "smb",
            CheckId::Printers => "printers",
            CheckId::M365 => "m365",
            CheckId::Rdp => "rdp",
        }
    }

    /// A short human title for the layer.
    pub fn title(self) -> &'static str {
        match self {
            CheckId::Link => "Network link",
            CheckId::Neighbours => "Switch port (LLDP, CDP)",
            CheckId::Wifi => "Wi-Fi",
            CheckId::Dhcp => "Address (DHCP)",
            CheckId::Ipv6 => "IPv6 addressing",
            CheckId::Gateway => "Gateway",
            CheckId::Dns => "Name servers (DNS)",
            CheckId::Path => "Path (MTU)",
            CheckId::Web => "Web (HTTP, TLS)",
            CheckId::Ports => "Services (TCP)",
            CheckId::Ad => "Active Directory",
            CheckId::Smb => "File shares (SMB)",
            CheckId::Printers => "Printers",
            CheckId::M365 => "Microsoft 365",
            CheckId::Rdp => "Remote desktop (RDP)",
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
    #[serde(default)]
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

/// Why a check was skipped, as a stable snake_case code; `reason` says the same in words.
///
/// Consumers key on this, never on the `reason` text. A code written by a newer version
/// reads back as [`SkipReason::Unknown`] holding it, and is written out again unchanged.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum SkipReason {
    /// `blocked`: an earlier layer failed; `blocked_by` names it.
    Blocked,
    /// `no_interface`: no interface under test was found.
    NoInterface,
    /// `not_wireless`: the interface under test is not a Wi-Fi interface.
    NotWireless,
    /// `not_station`: a Wi-Fi interface, but not in client (station) mode.
    NotStation,
    /// `no_targets`: no TCP targets were configured.
    NoTargets,
    /// `no_urls`: no connectivity URL and no URL targets were configured (web check).
    NoUrls,
    /// `ipv6_disabled`: IPv6 is switched off on the interface, or it has no link-local
    /// address (ipv6 check).
    Ipv6Disabled,
    /// `no_resolved_target`: no target name could be resolved, so none was probed.
    NoResolvedTarget,
    /// `not_observable_in_capture`: `analyze` cannot see this layer in a packet capture.
    NotObservableInCapture,
    /// `no_packets_in_capture`: the capture holds no packets of this layer.
    NoPacketsInCapture,
    /// A code this version does not know (from a newer version), as written.
    Unknown(String),
}

impl SkipReason {
    /// Every code this version knows.
    pub const KNOWN: [SkipReason; 10] = [
        SkipReason::Blocked,
        SkipReason::NoInterface,
        SkipReason::NotWireless,
        SkipReason::NotStation,
        SkipReason::NoTargets,
        SkipReason::NoUrls,
        SkipReason::Ipv6Disabled,
        SkipReason::NoResolvedTarget,
        SkipReason::NotObservableInCapture,
        SkipReason::NoPacketsInCapture,
    ];

    /// The code as it appears in reports.
    pub fn as_str(&self) -> &str {
        match self {
            SkipReason::Blocked => "blocked",
            SkipReason::NoInterface => "no_interface",
            SkipReason::NotWireless => "not_wireless",
            SkipReason::NotStation => "not_station",
            SkipReason::NoTargets => "no_targets",
            SkipReason::NoUrls => "no_urls",
            SkipReason::Ipv6Disabled => "ipv6_disabled",
            SkipReason::NoResolvedTarget => "no_resolved_target",
            SkipReason::NotObservableInCapture => "not_observable_in_capture",
            SkipReason::NoPacketsInCapture => "no_packets_in_capture",
            SkipReason::Unknown(code) => code,
        }
    }

    /// The reason for `code`; a code this version does not know becomes [`SkipReason::Unknown`].
    pub fn from_code(code: &str) -> SkipReason {
        SkipReason::KNOWN.into_iter().find(|r| r.as_str() == code).unwrap_or_else(|| SkipReason::Unknown(code.into()))
    }
}

impl std::fmt::Display for SkipReason {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Serialize for SkipReason {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for SkipReason {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let code = String::deserialize(deserializer)?;
        Ok(SkipReason::from_code(&code))
    }
}

/// A check's measurements: one variant per layer, serialised as the bare evidence object
/// (or `null`), exactly as `docs/checks/<id>.md` documents it. The layer types are boxed so
/// a [`CheckResult`] stays small whichever layer it is.
///
/// Reading a stored report converts the evidence by the check's `id` (see
/// [`Evidence::from_json`]); evidence that does not fit this version's type exactly is kept
/// as read ([`Evidence::Extended`] or [`Evidence::Other`]), so nothing is lost. No check
/// produces either.
#[derive(Debug, Clone, PartialEq, Default)]
pub enum Evidence {
    /// No evidence (`null`): blocked, errored, or skipped before observing anything.
    #[default]
    None,
    /// The link check's.
    Link(Box<LinkEvidence>),
    /// The Wi-Fi check's, when it ran.
    Wifi(Box<WifiEvidence>),
    /// What the Wi-Fi check saw before skipping (not wireless, or not a client interface).
    WifiSkipped(Box<WifiSkipEvidence>),
    /// The DHCP check's.
    Dhcp(Box<DhcpEvidence>),
    /// The gateway check's.
    Gateway(Box<GatewayEvidence>),
    /// The DNS check's.
    Dns(Box<DnsEvidence>),
    /// The ports check's.
    Ports(Box<PortsEvidence>),
    /// The web check's.
    Web(Box<WebEvidence>),
    /// The ipv6 check's (also when it skipped: what it saw of the interface).
    Ipv6(Box<Ipv6Evidence>),
    /// The path check's.
    Path(Box<PathEvidence>),
    /// The neighbours check's.
    Neighbours(Box<NeighboursEvidence>),
    /// The `ad` profile's.
    Ad(Box<AdEvidence>),
    /// The `smb` profile's.
    Smb(Box<SmbEvidence>),
    /// The `printers` profile's.
    Printers(Box<PrintersEvidence>),
    /// The `m365` profile's.
    M365(Box<M365Evidence>),
    /// The `rdp` profile's.
    Rdp(Box<RdpEvidence>),
    /// Evidence that reads as its layer's type only by leaving fields out (a newer version
    /// added them, or `analyze` adds its capture fields): `known` serves the accessors,
    /// `raw` is what is written back.
    Extended {
        /// The part this version understands: one of the layer variants above.
        known: Box<Evidence>,
        /// The evidence as read.
        raw: serde_json::Value,
    },
    /// Evidence this version's types do not describe at all (written by another version, or
    /// by `analyze` until it produces the layer types), kept as read.
    Other(serde_json::Value),
}

impl Evidence {
    /// Reads `value` as the evidence of check `id`: `null` is [`Evidence::None`]; evidence
    /// that reads as the layer's type and writes back without losing anything (fields it
    /// lacks take their defaults) is that variant; evidence that reads only by leaving
    /// fields out is [`Evidence::Extended`]; anything else is [`Evidence::Other`].
    pub fn from_json(id: CheckId, value: serde_json::Value) -> Evidence {
        fn typed<'a, T: Deserialize<'a>>(value: &'a serde_json::Value) -> Option<T> {
            T::deserialize(value).map_err(|e| tracing::debug!(error = %e, "evidence kept as read")).ok()
        }
        let converted = match (&value, id) {
            (serde_json::Value::Null, _) => return Evidence::None,
            (_, CheckId::Link) => typed(&value).map(|e| Evidence::Link(Box::new(e))),
            (_, CheckId::Wifi) => typed(&value).map(|w| Evidence::Wifi(Box::new(w))).or_else(|| {
                // The skip shape has only these two fields; anything richer that did not
                // read as `WifiEvidence` must not be narrowed to it.
                let only_skip_fields =
                    value.as_object().is_some_and(|o| o.keys().all(|k| k == "wireless" || k == "interface"));
                only_skip_fields.then(|| typed(&value).map(|e| Evidence::WifiSkipped(Box::new(e)))).flatten()
            }),
            (_, CheckId::Dhcp) => typed(&value).map(|d| Evidence::Dhcp(Box::new(d))),
            (_, CheckId::Gateway) => typed(&value).map(|e| Evidence::Gateway(Box::new(e))),
            (_, CheckId::Dns) => typed(&value).map(|e| Evidence::Dns(Box::new(e))),
            (_, CheckId::Ports) => typed(&value).map(|e| Evidence::Ports(Box::new(e))),
            (_, CheckId::Web) => typed(&value).map(|e| Evidence::Web(Box::new(e))),
            (_, CheckId::Ipv6) => typed(&value).map(|e| Evidence::Ipv6(Box::new(e))),
            (_, CheckId::Path) => typed(&value).map(|e| Evidence::Path(Box::new(e))),
            (_, CheckId::Neighbours) => typed(&value).map(|e| Evidence::Neighbours(Box::new(e))),
            (_, CheckId::Ad) => typed(&value).map(|e| Evidence::Ad(Box::new(e))),
            (_, CheckId::Smb) => typed(&value).map(|e| Evidence::Smb(Box::new(e))),
            (_, CheckId::Printers) => typed(&value).map(|e| Evidence::Printers(Box::new(e))),
            (_, CheckId::M365) => typed(&value).map(|e| Evidence::M365(Box::new(e))),
            (_, CheckId::Rdp) => typed(&value).map(|e| Evidence::Rdp(Box::new(e))),
        };
        match converted {
            None => Evidence::Other(value),
            Some(known) if covers(&known.to_json(), &value) => known,
            Some(known) => Evidence::Extended { known: Box::new(known), raw: value },
        }
    }

    /// The layer variant this evidence is, or holds (for [`Evidence::Extended`]).
    pub fn known(&self) -> &Evidence {
        match self {
            Evidence::Extended { known, .. } => known,
            other => other,
        }
    }

    /// The evidence as JSON, as it appears in the report (for raw dumps).
    pub fn to_json(&self) -> serde_json::Value {
        serde_json::to_value(self).unwrap_or(serde_json::Value::Null)
    }

    /// Whether there is no evidence (`null`).
    pub fn is_none(&self) -> bool {
        matches!(self, Evidence::None)
    }
}

impl Serialize for Evidence {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            Evidence::None => serializer.serialize_none(),
            Evidence::Link(e) => e.serialize(serializer),
            Evidence::Wifi(e) => e.serialize(serializer),
            Evidence::WifiSkipped(e) => e.serialize(serializer),
            Evidence::Dhcp(e) => e.serialize(serializer),
            Evidence::Gateway(e) => e.serialize(serializer),
            Evidence::Dns(e) => e.serialize(serializer),
            Evidence::Ports(e) => e.serialize(serializer),
            Evidence::Web(e) => e.serialize(serializer),
            Evidence::Ipv6(e) => e.serialize(serializer),
            Evidence::Path(e) => e.serialize(serializer),
            Evidence::Neighbours(e) => e.serialize(serializer),
            Evidence::Ad(e) => e.serialize(serializer),
            Evidence::Smb(e) => e.serialize(serializer),
            Evidence::Printers(e) => e.serialize(serializer),
            Evidence::M365(e) => e.serialize(serializer),
            Evidence::Rdp(e) => e.serialize(serializer),
            Evidence::Extended { raw, .. } => raw.serialize(serializer),
            Evidence::Other(v) => v.serialize(serializer),
        }
    }
}

/// Whether `written` (evidence as this version writes it) holds everything in `read` (as
/// read): the same values, every field of `read` present; `written` may have more fields
/// (ones an older version lacked). Numbers compare by value (`12` and `12.0` are equal).
fn covers(written: &serde_json::Value, read: &serde_json::Value) -> bool {
    use serde_json::Value;
    match (written, read) {
        (Value::Object(w), Value::Object(r)) => r.iter().all(|(k, rv)| w.get(k).is_some_and(|wv| covers(wv, rv))),
        (Value::Array(w), Value::Array(r)) => w.len() == r.len() && w.iter().zip(r).all(|(wv, rv)| covers(wv, rv)),
        (Value::Number(w), Value::Number(r)) => w == r || w.as_f64().is_some_and(|w| r.as_f64() == Some(w)),
        (w, r) => w == r,
    }
}

/// The result of one check.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CheckResult {
    /// Which check.
    pub id: CheckId,
    /// Its outcome.
    pub status: CheckStatus,
    /// Wall time the check took.
    pub duration_ms: u64,
    /// The failed check that kept this one from running, if any.
    pub blocked_by: Option<CheckId>,
    /// Why the check was skipped or could not run, in words.
    pub reason: Option<String>,
    /// Why the check was skipped, as a code (set exactly when `status` is `skipped`; absent
    /// from reports of versions before it existed).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason_code: Option<SkipReason>,
    /// What it found.
    pub findings: Vec<Finding>,
    /// Check-specific measurements (see `docs/checks/<id>.md`).
    pub evidence: Evidence,
}

impl<'de> Deserialize<'de> for CheckResult {
    /// Reads the `id` first, then the evidence as that layer's type ([`Evidence::from_json`]).
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        struct Raw {
            id: CheckId,
            status: CheckStatus,
            #[serde(default)]
            duration_ms: u64,
            #[serde(default)]
            blocked_by: Option<CheckId>,
            #[serde(default)]
            reason: Option<String>,
            #[serde(default)]
            reason_code: Option<SkipReason>,
            #[serde(default, deserialize_with = "known_only")]
            findings: Vec<Finding>,
            #[serde(default)]
            evidence: serde_json::Value,
        }
        let raw = Raw::deserialize(deserializer)?;
        Ok(CheckResult {
            id: raw.id,
            status: raw.status,
            duration_ms: raw.duration_ms,
            blocked_by: raw.blocked_by,
            reason: raw.reason,
            reason_code: raw.reason_code,
            findings: raw.findings,
            evidence: Evidence::from_json(raw.id, raw.evidence),
        })
    }
}

impl CheckResult {
    /// The link evidence, if this is a link check that has it.
    pub fn link(&self) -> Option<&LinkEvidence> {
        match self.evidence.known() {
            Evidence::Link(e) => Some(e),
            _ => None,
        }
    }

    /// The Wi-Fi evidence, if this is a Wi-Fi check that ran.
    pub fn wifi(&self) -> Option<&WifiEvidence> {
        match self.evidence.known() {
            Evidence::Wifi(e) => Some(e),
            _ => None,
        }
    }

    /// The DHCP evidence, if this is a DHCP check that has it.
    pub fn dhcp(&self) -> Option<&DhcpEvidence> {
        match self.evidence.known() {
            Evidence::Dhcp(e) => Some(e),
            _ => None,
        }
    }

    /// The gateway evidence, if this is a gateway check that has it.
    pub fn gateway(&self) -> Option<&GatewayEvidence> {
        match self.evidence.known() {
            Evidence::Gateway(e) => Some(e),
            _ => None,
        }
    }

    /// The DNS evidence, if this is a DNS check that has it.
    pub fn dns(&self) -> Option<&DnsEvidence> {
        match self.evidence.known() {
            Evidence::Dns(e) => Some(e),
            _ => None,
        }
    }

    /// The ports evidence, if this is a ports check that has it.
    pub fn ports(&self) -> Option<&PortsEvidence> {
        match self.evidence.known() {
            Evidence::Ports(e) => Some(e),
            _ => None,
        }
    }

    /// The web evidence, if this is a web check that has it.
    pub fn web(&self) -> Option<&WebEvidence> {
        match self.evidence.known() {
            Evidence::Web(e) => Some(e),
            _ => None,
        }
    }

    /// The IPv6 evidence, if this is an ipv6 check that has it.
    pub fn ipv6(&self) -> Option<&Ipv6Evidence> {
        match self.evidence.known() {
            Evidence::Ipv6(e) => Some(e),
            _ => None,
        }
    }

    /// The path evidence, if this is a path check that has it.
    pub fn path(&self) -> Option<&PathEvidence> {
        match self.evidence.known() {
            Evidence::Path(e) => Some(e),
            _ => None,
        }
    }

    /// The neighbours evidence, if this is a neighbours check that has it.
    pub fn neighbours(&self) -> Option<&NeighboursEvidence> {
        match self.evidence.known() {
            Evidence::Neighbours(e) => Some(e),
            _ => None,
        }
    }

    /// The `ad` profile's evidence, if this is that check and it has it.
    pub fn ad(&self) -> Option<&AdEvidence> {
        match self.evidence.known() {
            Evidence::Ad(e) => Some(e),
            _ => None,
        }
    }

    /// The `smb` profile's evidence, if this is that check and it has it.
    pub fn smb(&self) -> Option<&SmbEvidence> {
        match self.evidence.known() {
            Evidence::Smb(e) => Some(e),
            _ => None,
        }
    }

    /// The `printers` profile's evidence, if this is that check and it has it.
    pub fn printers(&self) -> Option<&PrintersEvidence> {
        match self.evidence.known() {
            Evidence::Printers(e) => Some(e),
            _ => None,
        }
    }

    /// The `m365` profile's evidence, if this is that check and it has it.
    pub fn m365(&self) -> Option<&M365Evidence> {
        match self.evidence.known() {
            Evidence::M365(e) => Some(e),
            _ => None,
        }
    }

    /// The `rdp` profile's evidence, if this is that check and it has it.
    pub fn rdp(&self) -> Option<&RdpEvidence> {
        match self.evidence.known() {
            Evidence::Rdp(e) => Some(e),
            _ => None,
        }
    }
}

/// Reads a list leniently: elements this build cannot read (a finding or check of a layer
/// it does not know, written by a newer version) are left out instead of failing the report.
fn known_only<'de, D, T>(deserializer: D) -> Result<Vec<T>, D::Error>
where
    D: Deserializer<'de>,
    T: serde::de::DeserializeOwned,
{
    let raw = Vec::<serde_json::Value>::deserialize(deserializer)?;
    Ok(raw
        .into_iter()
        .filter_map(|v| {
            serde_json::from_value(v).map_err(|e| tracing::debug!(error = %e, "report entry left out")).ok()
        })
        .collect())
}

/// Reads an optional value leniently: one this build cannot read is `None`.
fn or_none<'de, D, T>(deserializer: D) -> Result<Option<T>, D::Error>
where
    D: Deserializer<'de>,
    T: serde::de::DeserializeOwned,
{
    let raw = Option::<serde_json::Value>::deserialize(deserializer)?;
    Ok(raw.and_then(|v| serde_json::from_value(v).ok()))
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
    /// Nothing to judge: every check was skipped (a capture with none of the traffic the
    /// checks read). Not healthy: nothing was seen to work.
    Unknown,
}

impl RunStatus {
    /// The status as it appears in reports.
    pub fn as_str(self) -> &'static str {
        match self {
            RunStatus::Healthy => "healthy",
            RunStatus::Degraded => "degraded",
            RunStatus::Broken => "broken",
            RunStatus::Unknown => "unknown",
        }
    }

    /// The process exit code for this verdict (monitoring-plugins convention).
    pub fn exit_code(self) -> u8 {
        match self {
            RunStatus::Healthy => 0,
            RunStatus::Degraded => 1,
            RunStatus::Broken => 2,
            RunStatus::Unknown => 3,
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
    #[serde(default)]
    pub summary: String,
    /// What a technician should do next.
    #[serde(default)]
    pub next_steps: Vec<String>,
}

/// The verdict over all checks.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Diagnosis {
    /// Healthy, degraded or broken.
    pub status: RunStatus,
    /// Null when healthy.
    #[serde(default, deserialize_with = "or_none")]
    pub root_cause: Option<RootCause>,
    /// Every finding of every check, in layer order.
    #[serde(default, deserialize_with = "known_only")]
    pub findings: Vec<Finding>,
}

/// The tool that wrote the report.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ToolInfo {
    /// Always `nettriage`.
    pub name: String,
    /// The crate version.
    pub version: String,
}

/// The machine the report is about.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct HostInfo {
    /// The kernel's hostname.
    pub hostname: String,
}

/// A complete run report.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Report {
    /// `"1"`.
    pub schema_version: String,
    /// This report's id: 32 random hex digits made once when the run ends ([`new_report_id`]),
    /// kept by every copy of the report (files, history, tickets), so a ticket system is
    /// sent one ticket per report however often it is retried. Reports written before it
    /// (and analysed captures) have none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// Which tool and version.
    #[serde(default)]
    pub tool: ToolInfo,
    /// Start time (RFC 3339 UTC in JSON).
    pub started_at: Timestamp,
    /// Wall time of the whole run.
    #[serde(default)]
    pub duration_ms: u64,
    /// Which machine.
    #[serde(default)]
    pub host: HostInfo,
    /// The interface under test, if one was found.
    #[serde(default)]
    pub interface: Option<String>,
    /// The switch port the interface is plugged into, as the neighbours check heard it
    /// (LLDP, CDP or lldpd): the line a technician copies into the ticket. Absent when
    /// nothing was heard or the check did not run.
    #[serde(default, skip_serializing_if = "Option::is_none", deserialize_with = "or_none")]
    pub neighbour: Option<NeighbourLine>,
    /// Whether the run had CAP_NET_RAW and CAP_NET_ADMIN (at its start).
    #[serde(default)]
    pub privileged: bool,
    /// What a live run did with its capabilities: held at the start, the sockets opened
    /// before the drop, the sets read back after it (docs/privileges.md). Absent in
    /// reports of older versions and of `analyze`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub privileges: Option<crate::platform::privilege::PrivilegeReport>,
    /// Whether MACs, public addresses, SSIDs and the hostname were replaced by placeholders.
    #[serde(default)]
    pub redacted: bool,
    /// The packet capture written during the run (`--capture`), if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub capture: Option<CaptureInfo>,
    /// The verdict.
    pub diagnosis: Diagnosis,
    /// One entry per check, in layer order.
    #[serde(deserialize_with = "known_only")]
    pub checks: Vec<CheckResult>,
}

/// A packet capture: the one written alongside a live run's report (`--capture`: only
/// `path` and `packets`), or the one `nettriage analyze` read (every field it knows).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct CaptureInfo {
    /// Where the pcap file was written, or the file analysed (`-` for standard input).
    pub path: String,
    /// Packets in it (for `analyze`: the packet records read).
    pub packets: u64,
    /// Container format of an analysed capture: `pcap` or `pcapng`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub format: Option<String>,
    /// Link-layer header types of the records read, by their tcpdump.org names without
    /// `LINKTYPE_` (`ETHERNET`, `LINUX_SLL2`, ...).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub link_types: Vec<String>,
    /// Capture time of the earliest packet.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub first_packet: Option<Timestamp>,
    /// Capture time of the latest packet.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_packet: Option<Timestamp>,
    /// Packets captured shorter than they were on the wire (snap length): counted, and
    /// judged by their whole headers.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub truncated_records: Option<u64>,
    /// Records not read: packets on interfaces of an unsupported link type, blocks that
    /// do not parse.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub skipped_records: Option<u64>,
    /// Records whose timestamp was impossible (the previous record's time was used).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bad_timestamps: Option<u64>,
    /// Why reading stopped before the end of the file, if it did (a file cut inside a
    /// record, a damaged record): everything before was read and judged.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cut: Option<String>,
    /// What was cut, skipped or guessed in reading an analysed capture, one note per kind
    /// (`capture.truncated`, `capture.cut`, `capture.skipped`, `capture.bad_timestamps`).
    /// Informational: about the file, not the network, so they are not findings and do
    /// not change the verdict.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub notes: Vec<CaptureNote>,
    /// VLAN ids of the 802.1Q/802.1ad tags seen in an analysed capture (any depth, inside
    /// tunnels too), ascending.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub vlans: Vec<u16>,
    /// The tunnels an analysed capture's packets came through, one entry per kind and
    /// key/VNI, in order of first sighting (at most 100).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tunnels: Vec<TunnelSeen>,
}

/// One tunnel seen in an analysed capture.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TunnelSeen {
    /// `gre` or `vxlan`.
    pub kind: String,
    /// The GRE key (when the header has one) or the VXLAN network identifier (VNI).
    pub id: Option<u32>,
    /// Packets that came through it (the outermost layer of a nested tunnel counts too).
    pub packets: u64,
}

/// One informational note about an analysed capture file (docs/checks/capture.md).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CaptureNote {
    /// A `capture.*` code.
    pub code: Code,
    /// Technician-facing prose; do not parse.
    pub message: String,
}

impl Report {
    /// The result of one check, if present.
    pub fn check(&self, id: CheckId) -> Option<&CheckResult> {
        self.checks.iter().find(|c| c.id == id)
    }

    /// The link check's evidence, if it has any.
    pub fn link_evidence(&self) -> Option<&LinkEvidence> {
        self.check(CheckId::Link).and_then(CheckResult::link)
    }

    /// The Wi-Fi check's evidence, if it ran.
    pub fn wifi_evidence(&self) -> Option<&WifiEvidence> {
        self.check(CheckId::Wifi).and_then(CheckResult::wifi)
    }

    /// The DHCP check's evidence, if it has any.
    pub fn dhcp_evidence(&self) -> Option<&DhcpEvidence> {
        self.check(CheckId::Dhcp).and_then(CheckResult::dhcp)
    }

    /// The gateway check's evidence, if it has any.
    pub fn gateway_evidence(&self) -> Option<&GatewayEvidence> {
        self.check(CheckId::Gateway).and_then(CheckResult::gateway)
    }

    /// The DNS check's evidence, if it has any.
    pub fn dns_evidence(&self) -> Option<&DnsEvidence> {
        self.check(CheckId::Dns).and_then(CheckResult::dns)
    }

    /// The ports check's evidence, if it has any.
    pub fn ports_evidence(&self) -> Option<&PortsEvidence> {
        self.check(CheckId::Ports).and_then(CheckResult::ports)
    }

    /// The web check's evidence, if it has any.
    pub fn web_evidence(&self) -> Option<&WebEvidence> {
        self.check(CheckId::Web).and_then(CheckResult::web)
    }

    /// The ipv6 check's evidence, if it has any.
    pub fn ipv6_evidence(&self) -> Option<&Ipv6Evidence> {
        self.check(CheckId::Ipv6).and_then(CheckResult::ipv6)
    }

    /// The path check's evidence, if it has any.
    pub fn path_evidence(&self) -> Option<&PathEvidence> {
        self.check(CheckId::Path).and_then(CheckResult::path)
    }

    /// The neighbours check's evidence, if it has any.
    pub fn neighbours_evidence(&self) -> Option<&NeighboursEvidence> {
        self.check(CheckId::Neighbours).and_then(CheckResult::neighbours)
    }
}

/// A new report id: 128 random bits as 32 lowercase hex digits.
pub fn new_report_id() -> String {
    format!("{:032x}", rand::random::<u128>())
}

/// A report of `checks` from host `desk-214` on `eth0`, diagnosed, for tests.
#[cfg(test)]
pub(crate) fn test_report(checks: Vec<CheckResult>, started_at: &str, duration_ms: u64) -> Report {
    Report {
        schema_version: SCHEMA_VERSION.into(),
        id: None,
        tool: ToolInfo { name: "nettriage".into(), version: "0.1.0".into() },
        started_at: started_at.parse().expect("an RFC 3339 test time"),
        duration_ms,
        host: HostInfo { hostname: "desk-214".into() },
        interface: Some("eth0".into()),
        neighbour: None,
        privileged: true,
        privileges: None,
        redacted: false,
        capture: None,
        diagnosis: crate::diagnosis::diagnose(&checks),
        checks,
    }
}

/// Typed evidence for unit tests, built from the few values each test cares about.
#[cfg(test)]
pub(crate) mod fixtures {
    use serde_json::json;

    use super::Evidence;
    use crate::check::gateway::{ArpResult, ArpStatus, GatewayEvidence, GatewayProbe, PingStats};
    use crate::check::ports::PortOutcome;
    use crate::check::wifi::WifiSkipEvidence;

    /// Reads `value` as `T`, panicking when the fixture does not fit the type.
    pub(crate) fn typed<T: serde::de::DeserializeOwned>(value: serde_json::Value) -> T {
        serde_json::from_value(value).expect("fixture fits its evidence type")
    }

    /// Link evidence for an Ethernet interface that is up.
    pub(crate) fn link(name: &str, speed_mbps: Option<u32>) -> Evidence {
        Evidence::Link(Box::new(typed(json!({
            "interface": {"index": 2, "name": name, "link_type": "ether", "mac": "02:00:00:00:00:10", "mtu": 1500,
                          "admin_up": true, "lower_up": true, "carrier": true, "oper_state": "up"},
            "speed_mbps": speed_mbps, "duplex": speed_mbps.map(|_| "full"), "selected_by": "default_route"
        }))))
    }

    /// The Wi-Fi check's skip evidence on a wired interface.
    pub(crate) fn wired_wifi() -> Evidence {
        Evidence::WifiSkipped(Box::new(WifiSkipEvidence { wireless: false, interface: None }))
    }

    /// Wi-Fi evidence of an associated client with `signal_dbm` and `scan` (a `ScanReport`).
    pub(crate) fn wifi(ssid: &str, signal_dbm: f64, scan: serde_json::Value) -> Evidence {
        Evidence::Wifi(Box::new(typed(json!({
            "wireless": true,
            "interface": {"ifindex": 3, "name": "wlan0", "iftype": "station"},
            "associated": true,
            "link": {"ssid": ssid, "signal_dbm": signal_dbm, "band": "5GHz", "channel": 36},
            "scan": scan,
        }))))
    }

    /// A scan that did not run.
    pub(crate) fn no_scan() -> serde_json::Value {
        json!({"status": "not_run", "floor_dbm": -82})
    }

    /// DHCP evidence with one usable address.
    pub(crate) fn dhcp(ip: &str, prefix_len: u8, valid_lft_s: Option<u32>) -> Evidence {
        Evidence::Dhcp(Box::new(typed(json!({
            "ipv4": [{"address": ip, "prefix_len": prefix_len, "scope": "global", "dynamic": valid_lft_s.is_some(),
                      "valid_lft_s": valid_lft_s}],
            "usable_ipv4": ip,
            "current": {},
            "probe": {"status": "not_run", "reason": "a test"},
            "duplicate_check": {"status": "not_run"},
        }))))
    }

    /// Gateway evidence: one gateway that answered ARP and these echo RTTs (ms; `None` lost).
    pub(crate) fn gateway(address: &str, rtts_ms: &[Option<f64>]) -> Evidence {
        let rtts: Vec<_> =
            rtts_ms.iter().map(|r| r.map(|ms| std::time::Duration::from_secs_f64(ms / 1000.0))).collect();
        Evidence::Gateway(Box::new(GatewayEvidence {
            default_routes: vec![],
            gateways: vec![GatewayProbe {
                address: address.parse().expect("an IPv4 address"),
                arp: ArpResult {
                    status: ArpStatus::Answered,
                    mac: "02:00:00:00:00:01".parse().ok(),
                    rtt_ms: Some(0.05),
                    requests_sent: 1,
                    seen: None,
                },
                ping: Some(PingStats::from_rtts(&rtts)),
            }],
            capture: None,
            gateways_v6: vec![],
            echo_socket: None,
        }))
    }

    /// DNS evidence: per server its verdict and mean answer time, with an A and an AAAA query
    /// for `www.site.test` that took that long.
    pub(crate) fn dns(servers: &[(&str, &str, Option<f64>)]) -> Evidence {
        let servers: Vec<_> = servers
            .iter()
            .map(|(server, verdict, avg)| {
                let outcome = if avg.is_some() { "answer" } else { "timeout" };
                let query = |rtype: &str| {
                    json!({"name": "www.site.test", "record_type": rtype, "outcome": outcome, "ms": avg, "attempts": 1})
                };
                json!({"server": server, "verdict": verdict, "avg_ms": avg, "queries": [query("A"), query("AAAA")]})
            })
            .collect();
        Evidence::Dns(Box::new(typed(json!({
            "source": "/etc/resolv.conf", "names": ["www.site.test"], "cache_buster": "nt-abcdefgh.site.test",
            "servers": servers
        }))))
    }

    /// Ports evidence: per target its outcome and time.
    pub(crate) fn ports(targets: &[(&str, PortOutcome, Option<f64>)]) -> Evidence {
        let targets: Vec<_> = targets
            .iter()
            .map(|(target, outcome, ms)| json!({"target": target, "address": target, "outcome": outcome, "ms": ms}))
            .collect();
        Evidence::Ports(Box::new(typed(json!({ "targets": targets }))))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn evidence_reads_by_id_and_never_loses_what_it_read() {
        let ev = fixtures::gateway("198.18.0.1", &[Some(1.0), None]);
        let json = ev.to_json();
        // Exactly this version's shape: the layer variant, written back unchanged.
        assert_eq!(Evidence::from_json(CheckId::Gateway, json.clone()), ev);
        // An older report without a list reads with the default.
        let mut older = json.clone();
        older.as_object_mut().unwrap().remove("default_routes");
        assert!(matches!(Evidence::from_json(CheckId::Gateway, older), Evidence::Gateway(_)));
        // A newer report's extra field: readable through the accessor, and kept when written.
        let mut newer = json.clone();
        newer["gateways"][0]["vlan_id"] = serde_json::json!(10);
        let read = Evidence::from_json(CheckId::Gateway, newer.clone());
        assert!(matches!(&read, Evidence::Extended { .. }));
        assert!(matches!(read.known(), Evidence::Gateway(g) if g.gateways[0].ping.is_some()));
        assert_eq!(read.to_json(), newer);
        let check = CheckResult {
            id: CheckId::Gateway,
            status: CheckStatus::Pass,
            duration_ms: 1,
            blocked_by: None,
            reason: None,
            reason_code: None,
            findings: vec![],
            evidence: read,
        };
        assert_eq!(check.gateway().map(|g| g.gateways.len()), Some(1));
        // Another layer's evidence, or a shape this version cannot read, is kept whole.
        for (id, value) in [(CheckId::Dns, json.clone()), (CheckId::Gateway, serde_json::json!({"gateways": 3}))] {
            let read = Evidence::from_json(id, value.clone());
            assert_eq!(read, Evidence::Other(value), "{id}");
        }
        assert_eq!(Evidence::from_json(CheckId::Link, serde_json::Value::Null), Evidence::None);
        // The Wi-Fi skip shape reads as itself, and nothing richer is narrowed to it.
        let skip = fixtures::wired_wifi();
        assert_eq!(Evidence::from_json(CheckId::Wifi, skip.to_json()), skip);
        let odd = serde_json::json!({"wireless": true, "scan": "elsewhere"});
        assert_eq!(Evidence::from_json(CheckId::Wifi, odd.clone()), Evidence::Other(odd));
    }

    #[test]
    fn ids_and_statuses_serialise_as_documented() {
        assert_eq!(serde_json::to_string(&CheckId::Gateway).unwrap(), "\"gateway\"");
        assert_eq!(serde_json::to_string(&CheckStatus::Skipped).unwrap(), "\"skipped\"");
        assert_eq!(serde_json::to_string(&RunStatus::Degraded).unwrap(), "\"degraded\"");
        assert_eq!(serde_json::to_string(&Code::DnsTimeout).unwrap(), "\"dns.timeout\"");
        for id in CheckId::every() {
            assert_eq!(serde_json::to_string(&id).unwrap(), format!("\"{}\"", id.as_str()));
        }
        // A code from a newer version reads as itself instead of failing the report.
        let newer: Code = serde_json::from_str("\"dns.bogus\"").unwrap();
        assert!(!newer.is_known());
        assert_eq!(newer.as_str(), "dns.bogus");
    }

    #[test]
    fn skip_reasons_round_trip_and_tolerate_unknown_codes() {
        for reason in SkipReason::KNOWN {
            let json = serde_json::to_string(&reason).unwrap();
            assert_eq!(json, format!("\"{}\"", reason.as_str()));
            assert_eq!(serde_json::from_str::<SkipReason>(&json).unwrap(), reason);
            let code = reason.as_str();
            // Digits as the schema's pattern allows them (`ipv6_disabled`).
            assert!(
                code.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_'),
                "{code} is not snake_case"
            );
        }
        let unknown: SkipReason = serde_json::from_str("\"not_on_this_planet\"").unwrap();
        assert_eq!(unknown, SkipReason::Unknown("not_on_this_planet".into()));
        assert_eq!(serde_json::to_string(&unknown).unwrap(), "\"not_on_this_planet\"");
    }

    #[test]
    fn a_check_result_without_reason_code_still_reads() {
        let json = r#"{"id":"wifi","status":"skipped","duration_ms":0,"blocked_by":null,
            "reason":"not a wireless interface","findings":[],"evidence":{"wireless":false}}"#;
        let result: CheckResult = serde_json::from_str(json).unwrap();
        assert_eq!((result.status, &result.reason_code), (CheckStatus::Skipped, &None));
        let written = serde_json::to_value(&result).unwrap();
        assert!(written.get("reason_code").is_none(), "absent stays absent: {written}");
    }
}
