//! The `rdp` service profile (docs/checks/rdp.md): can this machine open a remote desktop
//! session's transport to each configured host?
//!
//! A profile is a check that runs only when chosen (`--profile rdp`, `[profiles] enabled`),
//! after the layers it needs (`runner::GRAPH`: the gateway, and dns for named hosts);
//! blocks nothing. Its contract, shared by every profile: a typed [`RdpEvidence`], a pure
//! [`judge`], [`details`] (the report's one-line summary), [`targets`] (each host and
//! whether it worked, for metrics), [`budget_ms`] and, with the `live` feature, `run`.
//!
//! Per host, concurrently under a cap: resolve the name (the system resolver, as an RDP
//! client does), TCP connect (classified like the ports check, [`PortOutcome`]), then the
//! first step of every RDP connection: a TPKT + X.224 Connection Request carrying an
//! RDP_NEG_REQ (MS-RDPBCGR 2.2.1.1) that offers TLS, CredSSP and CredSSP with Early User
//! Authorization, and the server's X.224 Connection Confirm (2.2.1.2) with either an
//! RDP_NEG_RSP (the security protocol it selected) or an RDP_NEG_FAILURE (why it refuses).
//! When the server selects TLS or CredSSP, the TLS handshake that follows is completed
//! (tokio-rustls, any certificate accepted: RDP hosts normally present a self-signed one)
//! and the certificate is kept as evidence; the connection ends there, before any
//! credentials. With `require_nla`, a host that selected CredSSP is asked a second time
//! offering TLS alone: a host that enforces NLA answers HYBRID_REQUIRED_BY_SERVER.
//!
//! The PDUs are written by hand ([`connection_request`], [`parse_confirm`]): together 19
//! and 19 bytes of fixed layout. The `ironrdp-pdu` crate decodes them too, but its current
//! release needs Rust 1.94 (nettriage's MSRV is 1.88) and brings the whole RDP PDU set
//! (licensing, fast-path, bitmap codecs) for these two messages. The confirm parser reads
//! bytes from the network: it is bounded ([`MAX_CONFIRM`]), never panics, and has a fuzz
//! target (`fuzz/fuzz_targets/rdp_confirm.rs`).

use serde::{Deserialize, Serialize};

use crate::check::ports::PortOutcome;
use crate::check::web::CertInfo;
use crate::check::{ProfileTarget, finding, named};
use crate::config::RdpSettings;
use crate::report::{CheckId, Code, Finding, Severity};

/// Standard RDP Security (MS-RDPBCGR 2.2.1.1.1 `PROTOCOL_RDP`).
pub const PROTOCOL_RDP: u32 = 0x0000_0000;
/// TLS 1.0, 1.1 or 1.2 (`PROTOCOL_SSL`).
pub const PROTOCOL_SSL: u32 = 0x0000_0001;
/// CredSSP, Network Level Authentication (`PROTOCOL_HYBRID`).
pub const PROTOCOL_HYBRID: u32 = 0x0000_0002;
/// RDSTLS (`PROTOCOL_RDSTLS`).
pub const PROTOCOL_RDSTLS: u32 = 0x0000_0004;
/// CredSSP with the Early User Authorization Result PDU (`PROTOCOL_HYBRID_EX`).
pub const PROTOCOL_HYBRID_EX: u32 = 0x0000_0008;
/// RDS AAD Auth (`PROTOCOL_RDSAAD`).
pub const PROTOCOL_RDSAAD: u32 = 0x0000_0010;
/// What this profile offers: TLS, CredSSP and CredSSP with Early User Authorization, as
/// current Windows clients do (standard RDP security is implied by every request).
pub const REQUESTED: u32 = PROTOCOL_SSL | PROTOCOL_HYBRID | PROTOCOL_HYBRID_EX;

/// The longest Connection Confirm read: the real one is 19 bytes; a TPKT may announce up
/// to 65535, which a hostile peer would use to make us wait and buffer.
pub const MAX_CONFIRM: usize = 512;
/// Most hosts named in one finding's message.
const MAX_NAMED: usize = 10;
/// Most bytes of an unparsable confirm kept (hex) in the evidence.
const KEEP_BYTES: usize = 64;

/// What the `rdp` profile observed.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct RdpEvidence {
    /// One entry per configured host, in configuration order.
    pub hosts: Vec<RdpHost>,
}

/// One remote desktop host and how far a connection to it got.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct RdpHost {
    /// The host as configured, with its port (`ts1.corp.example:3389`).
    pub target: String,
    /// The address connected to (`None`: the name did not resolve).
    pub address: Option<std::net::SocketAddr>,
    /// How the TCP connect ended (`unresolved`: not attempted).
    pub tcp: Option<PortOutcome>,
    /// Time to resolve the name, in ms (names only).
    pub resolve_ms: Option<f64>,
    /// Time of the TCP handshake, in ms.
    pub connect_ms: Option<f64>,
    /// The negotiation offering [`REQUESTED`] (`None`: TCP did not open).
    pub negotiation: Option<Negotiation>,
    /// Time from the Connection Request to the whole Connection Confirm, in ms.
    pub negotiation_ms: Option<f64>,
    /// The TLS handshake after the server selected TLS or CredSSP.
    pub tls: Option<RdpTls>,
    /// With `require_nla` and CredSSP selected: the second negotiation, offering TLS alone.
    pub tls_only: Option<Negotiation>,
    /// With `require_nla`: whether the host refuses clients without NLA (`None`: not
    /// known, the second negotiation did not run or did not end cleanly).
    pub nla_enforced: Option<bool>,
    /// Why resolving or connecting failed, as the system said.
    pub error: Option<String>,
}

impl RdpHost {
    /// Whether a client could open the session's transport: TCP opened, the server
    /// selected a protocol, and a TLS handshake it asked for completed.
    pub fn works(&self) -> bool {
        self.tcp == Some(PortOutcome::Open)
            && self.negotiation.as_ref().is_some_and(Negotiation::agreed)
            && self.tls.as_ref().is_none_or(|t| t.error.is_none())
    }
}

/// How one negotiation (Connection Request, Connection Confirm) ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum NegotiationResult {
    /// An RDP_NEG_RSP: the server selected a protocol.
    Selected,
    /// A Connection Confirm without RDP_NEG_RSP: a server older than RDP 5.2 negotiation,
    /// standard RDP security (MS-RDPBCGR 2.2.1.2).
    Legacy,
    /// An RDP_NEG_FAILURE: the server refuses what was offered.
    Refused,
    /// The answer is not a Connection Confirm the specification allows.
    Malformed,
    /// The server closed (or reset) the connection before answering.
    Closed,
    /// No whole answer within the timeout.
    Timeout,
    /// A result written by a newer version.
    #[serde(other)]
    Unknown,
}

/// One negotiation: what was offered and what the server answered.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Negotiation {
    /// How it ended.
    pub result: NegotiationResult,
    /// The `requestedProtocols` sent.
    pub requested: u32,
    /// The protocol selected (`selected`, `legacy`).
    pub selected: Option<SecurityProtocol>,
    /// `selectedProtocol` as sent (`selected`).
    pub selected_code: Option<u32>,
    /// The RDP_NEG_RSP flags (e.g. 0x01 `EXTENDED_CLIENT_DATA_SUPPORTED`).
    pub flags: Option<u8>,
    /// The refusal (`refused`).
    pub failure: Option<NegotiationFailure>,
    /// `failureCode` as sent (`refused`).
    pub failure_code: Option<u32>,
    /// What is wrong with the answer (`malformed`).
    pub malformed: Option<ConfirmError>,
    /// The first bytes of an answer that is malformed, in hex.
    pub received_hex: Option<String>,
    /// The error that ended the connection (`closed`), as the system said.
    pub error: Option<String>,
}

impl Default for Negotiation {
    fn default() -> Self {
        Negotiation {
            result: NegotiationResult::Unknown,
            requested: REQUESTED,
            selected: None,
            selected_code: None,
            flags: None,
            failure: None,
            failure_code: None,
            malformed: None,
            received_hex: None,
            error: None,
        }
    }
}

impl Negotiation {
    /// The negotiation that `requested` got from `answer` (pure): the parsed confirm, or
    /// why there is none. `received` is what was read, for a malformed answer's evidence.
    pub fn from_answer(requested: u32, answer: Result<Confirm, ConfirmError>, received: &[u8]) -> Negotiation {
        let base = Negotiation { requested, ..Negotiation::default() };
        match answer {
            Ok(Confirm::Selected { protocol, flags }) => Negotiation {
                result: NegotiationResult::Selected,
                selected: Some(SecurityProtocol::from_code(protocol)),
                selected_code: Some(protocol),
                flags: Some(flags),
                ..base
            },
            Ok(Confirm::Legacy) => {
                Negotiation { result: NegotiationResult::Legacy, selected: Some(SecurityProtocol::Rdp), ..base }
            }
            Ok(Confirm::Failure { code }) => Negotiation {
                result: NegotiationResult::Refused,
                failure: Some(NegotiationFailure::from_code(code)),
                failure_code: Some(code),
                ..base
            },
            Err(e) => Negotiation {
                result: NegotiationResult::Malformed,
                malformed: Some(e),
                received_hex: Some(hex(&received[..received.len().min(KEEP_BYTES)])),
                ..base
            },
        }
    }

    /// Whether the server agreed on a protocol (selected, or legacy standard RDP).
    pub fn agreed(&self) -> bool {
        matches!(self.result, NegotiationResult::Selected | NegotiationResult::Legacy)
    }

    /// What happened, in a few words (`TLS selected`, `refused: SSL_CERT_NOT_ON_SERVER`).
    pub fn summary(&self) -> String {
        match self.result {
            NegotiationResult::Selected | NegotiationResult::Legacy => {
                format!("{} selected", self.selected.unwrap_or(SecurityProtocol::Unknown).label())
            }
            NegotiationResult::Refused => format!(
                "refused: {}",
                match (self.failure, self.failure_code) {
                    (Some(NegotiationFailure::Unknown) | None, Some(code)) => format!("failure code {code}"),
                    (Some(f), _) => f.name().to_string(),
                    (None, None) => "no failure code".into(),
                }
            ),
            NegotiationResult::Malformed => {
                format!("malformed answer ({})", self.malformed.map_or("unknown".into(), |m| m.to_string()))
            }
            NegotiationResult::Closed => "connection closed before the negotiation answer".into(),
            NegotiationResult::Timeout => "no negotiation answer".into(),
            NegotiationResult::Unknown => "unknown negotiation result".into(),
        }
    }
}

/// A security protocol of MS-RDPBCGR 2.2.1.1.1.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SecurityProtocol {
    /// Standard RDP Security (RC4, no server authentication).
    Rdp,
    /// TLS.
    Ssl,
    /// CredSSP: Network Level Authentication.
    Hybrid,
    /// RDSTLS.
    Rdstls,
    /// CredSSP with Early User Authorization: Network Level Authentication.
    HybridEx,
    /// RDS AAD Auth (Microsoft Entra ID sign-in).
    Rdsaad,
    /// A value this version does not know.
    #[serde(other)]
    Unknown,
}

impl SecurityProtocol {
    /// The protocol of a `selectedProtocol` value.
    pub fn from_code(code: u32) -> SecurityProtocol {
        match code {
            PROTOCOL_RDP => SecurityProtocol::Rdp,
            PROTOCOL_SSL => SecurityProtocol::Ssl,
            PROTOCOL_HYBRID => SecurityProtocol::Hybrid,
            PROTOCOL_RDSTLS => SecurityProtocol::Rdstls,
            PROTOCOL_HYBRID_EX => SecurityProtocol::HybridEx,
            PROTOCOL_RDSAAD => SecurityProtocol::Rdsaad,
            _ => SecurityProtocol::Unknown,
        }
    }

    /// Its name in reports.
    pub fn label(self) -> &'static str {
        match self {
            SecurityProtocol::Rdp => "standard RDP security",
            SecurityProtocol::Ssl => "TLS",
            SecurityProtocol::Hybrid => "CredSSP (NLA)",
            SecurityProtocol::Rdstls => "RDSTLS",
            SecurityProtocol::HybridEx => "CredSSP with early user authorization (NLA)",
            SecurityProtocol::Rdsaad => "RDS AAD Auth",
            SecurityProtocol::Unknown => "an unknown protocol",
        }
    }

    /// Whether it authenticates the user before the session starts (NLA).
    pub fn is_nla(self) -> bool {
        matches!(self, SecurityProtocol::Hybrid | SecurityProtocol::HybridEx)
    }

    /// Whether a TLS handshake follows the negotiation (MS-RDPBCGR 1.3.1.1; CredSSP runs
    /// inside TLS).
    pub fn starts_tls(self) -> bool {
        matches!(self, SecurityProtocol::Ssl | SecurityProtocol::Hybrid | SecurityProtocol::HybridEx)
    }
}

/// An RDP_NEG_FAILURE `failureCode` (MS-RDPBCGR 2.2.1.2.2).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum NegotiationFailure {
    /// 1: the server requires TLS, which the client did not offer.
    SslRequiredByServer,
    /// 2: the server allows only standard RDP security.
    SslNotAllowedByServer,
    /// 3: the server has no certificate for TLS.
    SslCertNotOnServer,
    /// 4: the request's flags contradict each other.
    InconsistentFlags,
    /// 5: the server requires CredSSP (NLA), which the client did not offer.
    HybridRequiredByServer,
    /// 6: the server requires TLS with user authentication.
    SslWithUserAuthRequiredByServer,
    /// A code this version does not know (the number is in `failure_code`).
    #[serde(other)]
    Unknown,
}

impl NegotiationFailure {
    /// The failure of a `failureCode`.
    pub fn from_code(code: u32) -> NegotiationFailure {
        match code {
            1 => NegotiationFailure::SslRequiredByServer,
            2 => NegotiationFailure::SslNotAllowedByServer,
            3 => NegotiationFailure::SslCertNotOnServer,
            4 => NegotiationFailure::InconsistentFlags,
            5 => NegotiationFailure::HybridRequiredByServer,
            6 => NegotiationFailure::SslWithUserAuthRequiredByServer,
            _ => NegotiationFailure::Unknown,
        }
    }

    /// The specification's name.
    pub fn name(self) -> &'static str {
        match self {
            NegotiationFailure::SslRequiredByServer => "SSL_REQUIRED_BY_SERVER",
            NegotiationFailure::SslNotAllowedByServer => "SSL_NOT_ALLOWED_BY_SERVER",
            NegotiationFailure::SslCertNotOnServer => "SSL_CERT_NOT_ON_SERVER",
            NegotiationFailure::InconsistentFlags => "INCONSISTENT_FLAGS",
            NegotiationFailure::HybridRequiredByServer => "HYBRID_REQUIRED_BY_SERVER",
            NegotiationFailure::SslWithUserAuthRequiredByServer => "SSL_WITH_USER_AUTH_REQUIRED_BY_SERVER",
            NegotiationFailure::Unknown => "unknown",
        }
    }

    /// What it means for the technician.
    pub fn meaning(self) -> &'static str {
        match self {
            NegotiationFailure::SslRequiredByServer => "the host requires TLS",
            NegotiationFailure::SslNotAllowedByServer => {
                "the host allows only standard RDP security, which current clients refuse"
            }
            NegotiationFailure::SslCertNotOnServer => "the host is set to TLS but has no usable certificate",
            NegotiationFailure::InconsistentFlags => "the host found the request inconsistent",
            NegotiationFailure::HybridRequiredByServer => "the host requires NLA (CredSSP)",
            NegotiationFailure::SslWithUserAuthRequiredByServer => "the host requires TLS with user authentication",
            NegotiationFailure::Unknown => "a refusal this version does not know",
        }
    }
}

/// The TLS handshake after the negotiation.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct RdpTls {
    /// The TLS version agreed (`TLSv1_3`).
    pub version: Option<String>,
    /// The cipher suite agreed.
    pub cipher: Option<String>,
    /// The host's certificate (any is accepted: evidence, not a verdict).
    pub certificate: Option<CertInfo>,
    /// Whether the certificate names itself as its issuer (normal for RDP hosts that use
    /// the certificate Windows generates).
    pub self_signed: Option<bool>,
    /// Time of the handshake, in ms.
    pub ms: Option<f64>,
    /// Why the handshake failed, as the TLS library said (`None`: it completed).
    pub error: Option<String>,
}

/// A parsed X.224 Connection Confirm (MS-RDPBCGR 2.2.1.2).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Confirm {
    /// RDP_NEG_RSP: the protocol selected and the response's flags.
    Selected {
        /// `selectedProtocol`.
        protocol: u32,
        /// `flags`.
        flags: u8,
    },
    /// RDP_NEG_FAILURE with its `failureCode`.
    Failure {
        /// `failureCode`.
        code: u32,
    },
    /// No negotiation data: standard RDP security.
    Legacy,
}

/// Why bytes are not a Connection Confirm.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ConfirmError {
    /// Fewer bytes than the headers or the TPKT length announce.
    #[error("truncated")]
    Truncated,
    /// The first byte is not TPKT version 3 (RFC 1006).
    #[error("not a TPKT packet")]
    NotTpkt,
    /// The TPKT or X.224 length is impossible (too short, too long, or inconsistent).
    #[error("impossible length")]
    BadLength,
    /// An X.224 TPDU other than Connection Confirm (e.g. a Disconnect Request).
    #[error("not an X.224 Connection Confirm")]
    NotConnectionConfirm,
    /// The negotiation structure has an unknown type or a length other than 8.
    #[error("invalid negotiation structure")]
    BadNegotiation,
    /// A kind this version does not know.
    #[serde(other)]
    #[error("unknown")]
    Unknown,
}

/// The X.224 Connection Request with an RDP_NEG_REQ offering `requested` (MS-RDPBCGR
/// 2.2.1.1): TPKT header, X.224 CR TPDU (no cookie, no routing token), negotiation request.
pub fn connection_request(requested: u32) -> [u8; 19] {
    let mut pdu = [0u8; 19];
    // TPKT: version 3, reserved, length 19 (big-endian).
    pdu[..4].copy_from_slice(&[0x03, 0x00, 0x00, 19]);
    // X.224: length indicator 14 (the bytes after it), CR with CDT 0, DST-REF 0, SRC-REF 0,
    // class 0.
    pdu[4..11].copy_from_slice(&[14, 0xE0, 0, 0, 0, 0, 0]);
    // RDP_NEG_REQ: type 1, flags 0, length 8 (little-endian), requestedProtocols.
    pdu[11..15].copy_from_slice(&[0x01, 0x00, 0x08, 0x00]);
    pdu[15..].copy_from_slice(&requested.to_le_bytes());
    pdu
}

/// The TPKT length announced by the first bytes of an answer: `Some` once 4 bytes of a
/// TPKT header are there (pure; for the reader, which then reads exactly that much).
pub fn tpkt_length(bytes: &[u8]) -> Option<usize> {
    match bytes {
        [0x03, _, hi, lo, ..] => Some(usize::from(u16::from_be_bytes([*hi, *lo]))),
        _ => None,
    }
}

/// Parses an X.224 Connection Confirm (MS-RDPBCGR 2.2.1.2) from `bytes`, which start with
/// its TPKT header (pure, bounded: reads at most the announced length). Bytes after the
/// announced length are ignored.
pub fn parse_confirm(bytes: &[u8]) -> Result<Confirm, ConfirmError> {
    let Some(&version) = bytes.first() else {
        return Err(ConfirmError::Truncated);
    };
    if version != 0x03 {
        return Err(ConfirmError::NotTpkt);
    }
    let length = tpkt_length(bytes).ok_or(ConfirmError::Truncated)?;
    // TPKT header (4) + the shortest CC TPDU (length indicator + 6).
    if !(11..=MAX_CONFIRM).contains(&length) {
        return Err(ConfirmError::BadLength);
    }
    let pdu = bytes.get(..length).ok_or(ConfirmError::Truncated)?;
    let tpdu = &pdu[4..];
    let li = usize::from(tpdu[0]);
    // The length indicator counts the TPDU's bytes after itself: the fixed part is 6.
    if li < 6 || li + 1 != tpdu.len() {
        return Err(ConfirmError::BadLength);
    }
    // CC is 1101 in the upper nibble; the lower is CDT (credit), 0 in class 0.
    if tpdu[1] & 0xF0 != 0xD0 {
        return Err(ConfirmError::NotConnectionConfirm);
    }
    // DST-REF (2), SRC-REF (2), class option (1): not interpreted.
    let variable = &tpdu[7..];
    match variable {
        [] => Ok(Confirm::Legacy),
        [kind, flags, len_lo, len_hi, a, b, c, d] => {
            if u16::from_le_bytes([*len_lo, *len_hi]) != 8 {
                return Err(ConfirmError::BadNegotiation);
            }
            let value = u32::from_le_bytes([*a, *b, *c, *d]);
            match kind {
                0x02 => Ok(Confirm::Selected { protocol: value, flags: *flags }),
                0x03 => Ok(Confirm::Failure { code: value }),
                _ => Err(ConfirmError::BadNegotiation),
            }
        }
        _ => Err(ConfirmError::BadNegotiation),
    }
}

/// Bytes as lowercase hex.
fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// The findings the evidence shows (pure).
///
/// - `rdp.unreachable` (fail): the name does not resolve, or TCP does not open (refused,
///   no answer, unreachable). One finding naming every such host.
/// - `rdp.negotiation_failed` (fail): TCP opens but the server refuses the offer
///   (RDP_NEG_FAILURE, with its code), answers with something that is not a Connection
///   Confirm, closes, or does not answer; or the TLS handshake it asked for fails.
/// - `rdp.negotiation_failed` (warn), only with `require_nla`: the host selected TLS or
///   standard RDP security instead of CredSSP, or selected CredSSP but also let a client
///   in that offered TLS alone (NLA offered, not enforced). The service works; the site's
///   policy is not met.
/// - `tool.check_error` (warn): a local error prevented the connect.
pub fn judge(ev: &RdpEvidence, settings: &RdpSettings) -> Vec<Finding> {
    let mut unreachable = Vec::new();
    let mut failed = Vec::new();
    let mut weak = Vec::new();
    let mut local = Vec::new();
    for h in &ev.hosts {
        match h.tcp {
            Some(PortOutcome::Open) => {}
            Some(PortOutcome::LocalError) => {
                local.push(format!("{}: {}", h.target, h.error.as_deref().unwrap_or("error")));
                continue;
            }
            Some(outcome) => {
                let why = match outcome {
                    PortOutcome::Unresolved => "name does not resolve",
                    PortOutcome::Refused => "connection refused",
                    PortOutcome::Filtered => "no answer",
                    _ => "unreachable",
                };
                unreachable.push(format!("{} ({why})", h.target));
                continue;
            }
            None => continue,
        }
        let Some(neg) = &h.negotiation else {
            failed.push(format!("{} (no negotiation)", h.target));
            continue;
        };
        if !neg.agreed() {
            let detail = match (neg.result, neg.failure) {
                (NegotiationResult::Refused, Some(f)) if f != NegotiationFailure::Unknown => {
                    format!("{}: {}", neg.summary(), f.meaning())
                }
                _ => neg.summary(),
            };
            failed.push(format!("{} ({detail})", h.target));
            continue;
        }
        if let Some(err) = h.tls.as_ref().and_then(|t| t.error.as_deref()) {
            let protocol = neg.selected.unwrap_or(SecurityProtocol::Unknown).label();
            failed.push(format!("{} ({protocol} selected, then the TLS handshake failed: {err})", h.target));
            continue;
        }
        if settings.require_nla {
            let selected = neg.selected.unwrap_or(SecurityProtocol::Unknown);
            if !selected.is_nla() {
                weak.push(format!("{} ({} selected although NLA was offered)", h.target, selected.label()));
            } else if h.nla_enforced == Some(false) {
                let got = h.tls_only.as_ref().map(Negotiation::summary).unwrap_or_default();
                weak.push(format!("{} (NLA offered but not enforced: a client offering only TLS got {got})", h.target));
            }
        }
    }
    let mut findings = Vec::new();
    if !unreachable.is_empty() {
        findings.push(finding(
            CheckId::Rdp,
            Code::RdpUnreachable,
            Severity::Fail,
            format!("{} cannot be reached", named(&unreachable, ", ", MAX_NAMED)),
        ));
    }
    if !failed.is_empty() {
        findings.push(finding(
            CheckId::Rdp,
            Code::RdpNegotiationFailed,
            Severity::Fail,
            format!("the RDP negotiation failed with {}", named(&failed, ", ", MAX_NAMED)),
        ));
    }
    if !weak.is_empty() {
        findings.push(finding(
            CheckId::Rdp,
            Code::RdpNegotiationFailed,
            Severity::Warn,
            format!("Network Level Authentication is required but {}", named(&weak, ", ", MAX_NAMED)),
        ));
    }
    if !local.is_empty() {
        findings.push(finding(
            CheckId::Rdp,
            Code::ToolCheckError,
            Severity::Warn,
            format!("could not probe {}", named(&local, "; ", MAX_NAMED)),
        ));
    }
    findings
}

/// One line for the report's details column (table, Markdown, HTML):
/// `ts1:3389: TLS selected in 12 ms; ts2:3389: connection refused`.
pub fn details(ev: &RdpEvidence) -> String {
    if ev.hosts.is_empty() {
        return "no hosts tested".into();
    }
    let parts: Vec<String> = ev.hosts.iter().map(host_line).collect();
    named(&parts, "; ", MAX_NAMED)
}

/// One host's part of [`details`].
fn host_line(h: &RdpHost) -> String {
    let what = match (h.tcp, &h.negotiation) {
        (Some(PortOutcome::Open), Some(neg)) => {
            let mut s = neg.summary();
            if let Some(ms) = h.negotiation_ms {
                s.push_str(&format!(" in {ms:.0} ms"));
            }
            if let Some(err) = h.tls.as_ref().and_then(|t| t.error.as_ref()) {
                s.push_str(&format!(", TLS failed: {err}"));
            } else if h.nla_enforced == Some(false) {
                s.push_str(", NLA not enforced");
            }
            s
        }
        (Some(PortOutcome::Open), None) => "open, not negotiated".into(),
        (Some(PortOutcome::Unresolved), _) => "name does not resolve".into(),
        (Some(PortOutcome::Refused), _) => "connection refused".into(),
        (Some(PortOutcome::Filtered), _) => "no answer".into(),
        (Some(PortOutcome::Unreachable), _) => "unreachable".into(),
        (Some(PortOutcome::LocalError), _) => "local error".into(),
        (None, _) => "not tested".into(),
    };
    format!("{}: {what}", h.target)
}

/// Each host tested and whether a client could open the session's transport
/// (`nettriage_profile_check_success`).
pub fn targets(ev: &RdpEvidence) -> Vec<ProfileTarget> {
    ev.hosts.iter().map(|h| ProfileTarget { target: h.target.clone(), success: h.works() }).collect()
}

/// The longest this check may take, in milliseconds (the runner's budget): hosts run
/// concurrently; one host resolves, connects, negotiates and completes TLS, each within
/// `timeout_ms`, but all of it within this budget (what is still waiting then is recorded
/// as a timeout).
pub fn budget_ms(settings: &RdpSettings) -> u64 {
    settings.timeout_ms * 3 + 1_000
}

#[cfg(feature = "live")]
pub use live::run;

/// The probes: sockets, the system resolver and TLS.
#[cfg(feature = "live")]
mod live {
    use std::net::SocketAddr;
    use std::sync::Arc;
    use std::time::{Duration, Instant};

    use rustls::crypto::CryptoProvider;
    use rustls::pki_types::ServerName;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    use tokio::net::TcpStream;
    use tokio::sync::Semaphore;

    use super::*;
    use crate::check::ports::classify_error;
    use crate::check::web::any_cert::AnyCertificate;
    use crate::check::{CheckContext, CheckError, Outcome, WRAP_UP};
    use crate::config::{Target, TargetHost};
    use crate::report::{Evidence, SkipReason};
    use crate::types::millis;

    /// Most hosts probed at once.
    const MAX_CONCURRENT: usize = 16;

    /// Runs the profile's probes and judges them.
    pub async fn run(ctx: &CheckContext<'_>) -> Result<Outcome, CheckError> {
        let settings = &ctx.config.profiles.rdp;
        let hosts = settings.targets();
        if hosts.is_empty() {
            return Ok(Outcome::Skipped {
                code: SkipReason::NoTargets,
                reason: "no remote desktop hosts configured (`hosts` under [profiles.rdp])".into(),
                blocked_by: None,
                evidence: Evidence::None,
            });
        }
        let started = Instant::now();
        let own = started + Duration::from_millis(budget_ms(settings)).saturating_sub(WRAP_UP * 2);
        let stop_by = own.min(ctx.cutoff());
        let limit = Semaphore::new(MAX_CONCURRENT);
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let probes = hosts.iter().map(|target| {
            let limit = &limit;
            let provider = Arc::clone(&provider);
            async move {
                let _permit = limit.acquire().await.ok();
                probe_host(target, settings, stop_by, provider).await
            }
        });
        let ev = RdpEvidence { hosts: futures::future::join_all(probes).await };
        tracing::debug!(hosts = ev.hosts.len(), "rdp probes done");
        Ok(Outcome::Ran { findings: judge(&ev, settings), evidence: Evidence::Rdp(Box::new(ev)) })
    }

    /// The smaller of `timeout` and what is left until `stop_by`.
    fn within(timeout: Duration, stop_by: Instant) -> Duration {
        timeout.min(stop_by.saturating_duration_since(Instant::now()))
    }

    /// Resolves, connects, negotiates and completes TLS with one host.
    async fn probe_host(
        target: &Target,
        settings: &RdpSettings,
        stop_by: Instant,
        provider: Arc<CryptoProvider>,
    ) -> RdpHost {
        let timeout = Duration::from_millis(settings.timeout_ms);
        let mut host = RdpHost { target: target.to_string(), ..RdpHost::default() };
        let address = match &target.host {
            TargetHost::Ip(ip) => SocketAddr::new(*ip, target.port),
            TargetHost::Name(name) => {
                let start = Instant::now();
                let looked = tokio::time::timeout(
                    within(timeout, stop_by),
                    tokio::net::lookup_host((name.as_str(), target.port)),
                )
                .await;
                host.resolve_ms = Some(millis(start.elapsed()));
                match looked {
                    Ok(Ok(mut found)) => match found.next() {
                        Some(a) => a,
                        None => {
                            host.tcp = Some(PortOutcome::Unresolved);
                            host.error = Some("no address".into());
                            return host;
                        }
                    },
                    Ok(Err(e)) => {
                        host.tcp = Some(PortOutcome::Unresolved);
                        host.error = Some(format!("resolve {name}: {e}"));
                        return host;
                    }
                    Err(_) => {
                        host.tcp = Some(PortOutcome::Unresolved);
                        host.error = Some(format!("resolve {name}: no answer within {} ms", timeout.as_millis()));
                        return host;
                    }
                }
            }
        };
        host.address = Some(address);
        let (negotiation, ms, stream) = match connect(address, timeout, stop_by, &mut host).await {
            Connected::Stream(stream) => negotiate(stream, REQUESTED, timeout, stop_by).await,
            Connected::Reset(error) => (
                Negotiation { result: NegotiationResult::Closed, error: Some(error), ..Negotiation::default() },
                None,
                None,
            ),
            Connected::Failed => return host,
        };
        host.negotiation_ms = ms;
        let selected = negotiation.selected.filter(|_| negotiation.result == NegotiationResult::Selected);
        host.negotiation = Some(negotiation);
        if let (Some(protocol), Some(stream)) = (selected, stream)
            && protocol.starts_tls()
        {
            host.tls = Some(tls_handshake(stream, &target.host, timeout, stop_by, provider).await);
        }
        if settings.require_nla
            && selected.is_some_and(SecurityProtocol::is_nla)
            && host.tls.as_ref().is_none_or(|t| t.error.is_none())
        {
            let mut second = RdpHost::default();
            if let Connected::Stream(stream) = connect(address, timeout, stop_by, &mut second).await {
                let (tls_only, _, _) = negotiate(stream, PROTOCOL_SSL, timeout, stop_by).await;
                host.nla_enforced = match (tls_only.result, tls_only.failure) {
                    (NegotiationResult::Refused, Some(NegotiationFailure::HybridRequiredByServer)) => Some(true),
                    (NegotiationResult::Selected | NegotiationResult::Legacy, _) => Some(false),
                    _ => None,
                };
                host.tls_only = Some(tls_only);
            }
        }
        host
    }

    /// How a connect ended.
    enum Connected {
        /// Open.
        Stream(TcpStream),
        /// The handshake completed and the peer reset the connection at once (the connect
        /// itself reports the reset when it arrives first): open, then closed.
        Reset(String),
        /// Not open; the outcome is in the host's evidence.
        Failed,
    }

    /// One TCP connect, its outcome and time written into `host`.
    async fn connect(address: SocketAddr, timeout: Duration, stop_by: Instant, host: &mut RdpHost) -> Connected {
        let start = Instant::now();
        let result = tokio::time::timeout(within(timeout, stop_by), TcpStream::connect(address)).await;
        host.connect_ms = Some(millis(start.elapsed()));
        match result {
            Ok(Ok(stream)) => {
                host.tcp = Some(PortOutcome::Open);
                let _ = stream.set_nodelay(true);
                Connected::Stream(stream)
            }
            Ok(Err(e)) if e.kind() == std::io::ErrorKind::ConnectionReset => {
                host.tcp = Some(PortOutcome::Open);
                Connected::Reset(e.to_string())
            }
            Ok(Err(e)) => {
                host.tcp = Some(classify_error(&e));
                host.error = Some(format!("connect {address}: {e}"));
                Connected::Failed
            }
            Err(_) => {
                host.tcp = Some(PortOutcome::Filtered);
                Connected::Failed
            }
        }
    }

    /// How reading the confirm ended.
    enum ReadEnd {
        /// The whole TPKT (or enough to know it is not one).
        Complete,
        /// The peer closed.
        Eof,
        /// A socket error.
        Error(std::io::Error),
    }

    /// Reads one TPKT from `stream`: its 4-byte header, then exactly the length it
    /// announces, at most [`MAX_CONFIRM`] bytes; stops at once on a first byte that is not
    /// TPKT. Never reads past the TPKT (the TLS handshake follows on the same stream).
    async fn read_tpkt(stream: &mut TcpStream, buf: &mut Vec<u8>) -> ReadEnd {
        let mut chunk = [0u8; MAX_CONFIRM];
        loop {
            let want = match buf.first() {
                Some(&b) if b != 0x03 => return ReadEnd::Complete,
                _ => match tpkt_length(buf) {
                    Some(len) if !(4..=MAX_CONFIRM).contains(&len) => return ReadEnd::Complete,
                    Some(len) => len,
                    None => 4,
                },
            };
            if buf.len() >= want {
                return ReadEnd::Complete;
            }
            let room = want - buf.len();
            match stream.read(&mut chunk[..room]).await {
                Ok(0) => return ReadEnd::Eof,
                Ok(n) => buf.extend_from_slice(&chunk[..n]),
                Err(e) => return ReadEnd::Error(e),
            }
        }
    }

    /// Sends the Connection Request offering `requested` and reads the confirm; hands the
    /// stream back when the server agreed (for TLS).
    async fn negotiate(
        mut stream: TcpStream,
        requested: u32,
        timeout: Duration,
        stop_by: Instant,
    ) -> (Negotiation, Option<f64>, Option<TcpStream>) {
        let start = Instant::now();
        let limit = within(timeout, stop_by);
        let mut buf = Vec::with_capacity(32);
        let exchange = async {
            stream.write_all(&connection_request(requested)).await.map_err(ReadEnd::Error)?;
            match read_tpkt(&mut stream, &mut buf).await {
                ReadEnd::Complete => Ok(()),
                end => Err(end),
            }
        };
        let ended = tokio::time::timeout(limit, exchange).await;
        let ms = Some(millis(start.elapsed()));
        let base = Negotiation { requested, ..Negotiation::default() };
        let negotiation = match ended {
            Ok(Ok(())) => Negotiation::from_answer(requested, parse_confirm(&buf), &buf),
            // Whatever arrived before the peer closed or went silent is judged as sent: a
            // truncated confirm is malformed; nothing at all is a close or a timeout.
            _ if !buf.is_empty() => Negotiation::from_answer(requested, parse_confirm(&buf), &buf),
            Ok(Err(ReadEnd::Error(e))) => {
                Negotiation { result: NegotiationResult::Closed, error: Some(e.to_string()), ..base }
            }
            Ok(Err(_)) => Negotiation { result: NegotiationResult::Closed, ..base },
            Err(_) => Negotiation { result: NegotiationResult::Timeout, ..base },
        };
        let keep = negotiation.agreed().then_some(stream);
        (negotiation, ms, keep)
    }

    /// Completes the TLS handshake the server asked for, accepting any certificate and
    /// keeping it; the connection ends there (no CredSSP, no credentials).
    async fn tls_handshake(
        stream: TcpStream,
        host: &TargetHost,
        timeout: Duration,
        stop_by: Instant,
        provider: Arc<CryptoProvider>,
    ) -> RdpTls {
        let mut tls = RdpTls::default();
        let name = match host {
            TargetHost::Ip(ip) => ServerName::IpAddress((*ip).into()),
            TargetHost::Name(n) => match ServerName::try_from(n.clone()) {
                Ok(n) => n,
                Err(e) => {
                    tls.error = Some(e.to_string());
                    return tls;
                }
            },
        };
        let keeper = Arc::new(AnyCertificate::new(provider));
        let config = match keeper.client_config() {
            Ok(config) => config,
            Err(e) => {
                tls.error = Some(e.to_string());
                return tls;
            }
        };
        let start = Instant::now();
        let connector = tokio_rustls::TlsConnector::from(Arc::new(config));
        let result = tokio::time::timeout(within(timeout, stop_by), connector.connect(name, stream)).await;
        tls.ms = Some(millis(start.elapsed()));
        if let Some(der) = keeper.take_leaf() {
            tls.certificate = crate::check::web::cert_info(&der);
            tls.self_signed = tls.certificate.as_ref().map(|c| c.subject == c.issuer);
        }
        match result {
            Ok(Ok(stream)) => {
                let (_, conn) = stream.get_ref();
                tls.version = conn.protocol_version().map(|v| format!("{v:?}"));
                tls.cipher = conn.negotiated_cipher_suite().map(|s| format!("{:?}", s.suite()));
            }
            Ok(Err(e)) => tls.error = Some(e.to_string()),
            Err(_) => tls.error = Some(format!("no handshake within {} ms", timeout.as_millis())),
        }
        tls
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// xrdp 0.9.21 (`security_layer=negotiate`, a certificate) answering [`REQUESTED`]:
    /// TLS selected, flags `EXTENDED_CLIENT_DATA_SUPPORTED` (captures/rdp/README.md).
    const XRDP_TLS: &[u8] = include_bytes!("../../captures/rdp/xrdp_confirm_tls.bin");
    /// xrdp 0.9.21 (`security_layer=tls`, the certificate file missing): SSL_CERT_NOT_ON_SERVER.
    const XRDP_NO_CERT: &[u8] = include_bytes!("../../captures/rdp/xrdp_confirm_cert_missing.bin");

    fn confirm(variable: &[u8]) -> Vec<u8> {
        let li = 6 + variable.len();
        let mut pdu = vec![0x03, 0x00, 0x00, (4 + 1 + li) as u8, li as u8, 0xD0, 0, 0, 0x12, 0x34, 0];
        pdu.extend_from_slice(variable);
        pdu
    }

    fn host(target: &str, tcp: PortOutcome, negotiation: Option<Negotiation>) -> RdpHost {
        RdpHost { target: target.into(), tcp: Some(tcp), negotiation, negotiation_ms: Some(12.4), ..RdpHost::default() }
    }

    fn selected(protocol: u32) -> Negotiation {
        Negotiation::from_answer(REQUESTED, Ok(Confirm::Selected { protocol, flags: 1 }), &[])
    }

    fn refused(code: u32) -> Negotiation {
        Negotiation::from_answer(REQUESTED, Ok(Confirm::Failure { code }), &[])
    }

    fn codes(findings: &[Finding]) -> Vec<(Code, Severity)> {
        findings.iter().map(|f| (f.code, f.severity)).collect()
    }

    #[test]
    fn the_request_is_the_specifications_bytes() {
        let pdu = connection_request(REQUESTED);
        assert_eq!(hex(&pdu), "030000130ee00000000000010008000b000000");
        assert_eq!(tpkt_length(&pdu), Some(pdu.len()));
        assert_eq!(pdu[4] as usize + 5, pdu.len());
        assert_eq!(u32::from_le_bytes(pdu[15..19].try_into().unwrap()), 0x0b);
    }

    #[test]
    fn real_xrdp_confirms_parse() {
        assert_eq!(parse_confirm(XRDP_TLS), Ok(Confirm::Selected { protocol: PROTOCOL_SSL, flags: 0x01 }));
        assert_eq!(parse_confirm(XRDP_NO_CERT), Ok(Confirm::Failure { code: 3 }));
        let neg = Negotiation::from_answer(REQUESTED, parse_confirm(XRDP_NO_CERT), XRDP_NO_CERT);
        assert_eq!(neg.failure, Some(NegotiationFailure::SslCertNotOnServer));
    }

    #[test]
    fn confirms_of_every_kind_parse_and_bad_ones_are_named() {
        assert_eq!(parse_confirm(&confirm(&[])), Ok(Confirm::Legacy));
        let rsp = confirm(&[0x02, 0x1f, 0x08, 0x00, 0x08, 0, 0, 0]);
        assert_eq!(parse_confirm(&rsp), Ok(Confirm::Selected { protocol: PROTOCOL_HYBRID_EX, flags: 0x1f }));
        let fail = confirm(&[0x03, 0x00, 0x08, 0x00, 0x05, 0, 0, 0]);
        assert_eq!(parse_confirm(&fail), Ok(Confirm::Failure { code: 5 }));
        // Bytes after the TPKT are ignored.
        let mut more = rsp.clone();
        more.extend_from_slice(&[0x16, 0x03]);
        assert!(parse_confirm(&more).is_ok());

        assert_eq!(parse_confirm(&[]), Err(ConfirmError::Truncated));
        assert_eq!(parse_confirm(&rsp[..3]), Err(ConfirmError::Truncated));
        assert_eq!(parse_confirm(&rsp[..rsp.len() - 1]), Err(ConfirmError::Truncated));
        assert_eq!(parse_confirm(b"HTTP/1.1 400 Bad Request\r\n"), Err(ConfirmError::NotTpkt));
        assert_eq!(parse_confirm(&[0x03, 0, 0xff, 0xff]), Err(ConfirmError::BadLength));
        assert_eq!(parse_confirm(&[0x03, 0, 0, 5, 0]), Err(ConfirmError::BadLength));
        let mut bad_li = rsp.clone();
        bad_li[4] = 20;
        assert_eq!(parse_confirm(&bad_li), Err(ConfirmError::BadLength));
        let mut dr = confirm(&[]);
        dr[5] = 0x80;
        assert_eq!(parse_confirm(&dr), Err(ConfirmError::NotConnectionConfirm));
        let bad_type = confirm(&[0x07, 0x00, 0x08, 0x00, 0x01, 0, 0, 0]);
        assert_eq!(parse_confirm(&bad_type), Err(ConfirmError::BadNegotiation));
        let bad_len = confirm(&[0x02, 0x00, 0x09, 0x00, 0x01, 0, 0, 0]);
        assert_eq!(parse_confirm(&bad_len), Err(ConfirmError::BadNegotiation));
        assert_eq!(parse_confirm(&confirm(&[0x02, 0x00, 0x08])), Err(ConfirmError::BadNegotiation));
    }

    #[test]
    fn a_reachable_host_that_selects_a_protocol_passes() {
        let ev = RdpEvidence {
            hosts: vec![
                host("ts1:3389", PortOutcome::Open, Some(selected(PROTOCOL_SSL))),
                host("ts2:3389", PortOutcome::Open, Some(selected(PROTOCOL_HYBRID))),
                host(
                    "old:3389",
                    PortOutcome::Open,
                    Some(Negotiation::from_answer(REQUESTED, Ok(Confirm::Legacy), &[])),
                ),
            ],
        };
        assert!(judge(&ev, &RdpSettings::default()).is_empty());
        assert!(targets(&ev).iter().all(|t| t.success));
        assert_eq!(details(&ev).matches("selected in 12 ms").count(), 3);
    }

    #[test]
    fn unreachable_and_refused_hosts_fail_with_their_codes() {
        let ev = RdpEvidence {
            hosts: vec![
                host("a:3389", PortOutcome::Refused, None),
                host("b:3389", PortOutcome::Filtered, None),
                host("c:3389", PortOutcome::Unresolved, None),
                host("d:3389", PortOutcome::Open, Some(refused(3))),
                host("e:3389", PortOutcome::Open, Some(refused(99))),
                host(
                    "f:3389",
                    PortOutcome::Open,
                    Some(Negotiation::from_answer(REQUESTED, Err(ConfirmError::NotTpkt), b"x")),
                ),
                host(
                    "g:3389",
                    PortOutcome::Open,
                    Some(Negotiation { result: NegotiationResult::Timeout, ..Negotiation::default() }),
                ),
                host(
                    "h:3389",
                    PortOutcome::Open,
                    Some(Negotiation { result: NegotiationResult::Closed, ..Negotiation::default() }),
                ),
                host("i:3389", PortOutcome::LocalError, None),
            ],
        };
        let findings = judge(&ev, &RdpSettings::default());
        assert_eq!(
            codes(&findings),
            [
                (Code::RdpUnreachable, Severity::Fail),
                (Code::RdpNegotiationFailed, Severity::Fail),
                (Code::ToolCheckError, Severity::Warn)
            ]
        );
        assert!(targets(&ev).iter().all(|t| !t.success));
        assert_eq!(ev.hosts[4].negotiation.as_ref().and_then(|n| n.failure), Some(NegotiationFailure::Unknown));
        assert_eq!(ev.hosts[5].negotiation.as_ref().and_then(|n| n.received_hex.clone()).as_deref(), Some("78"));
    }

    #[test]
    fn a_failed_tls_handshake_after_the_negotiation_is_a_failure() {
        let mut h = host("ts1:3389", PortOutcome::Open, Some(selected(PROTOCOL_SSL)));
        h.tls = Some(RdpTls { error: Some("handshake".into()), ..RdpTls::default() });
        let ev = RdpEvidence { hosts: vec![h] };
        assert_eq!(codes(&judge(&ev, &RdpSettings::default())), [(Code::RdpNegotiationFailed, Severity::Fail)]);
        assert!(!targets(&ev)[0].success);
    }

    #[test]
    fn require_nla_warns_about_hosts_that_do_not_use_or_enforce_it() {
        let nla = RdpSettings { require_nla: true, ..RdpSettings::default() };
        let tls = RdpEvidence { hosts: vec![host("ts1:3389", PortOutcome::Open, Some(selected(PROTOCOL_SSL)))] };
        assert!(judge(&tls, &RdpSettings::default()).is_empty());
        assert_eq!(codes(&judge(&tls, &nla)), [(Code::RdpNegotiationFailed, Severity::Warn)]);
        assert!(targets(&tls)[0].success, "a policy warning does not make the host unusable");

        let mut lax = host("ts2:3389", PortOutcome::Open, Some(selected(PROTOCOL_HYBRID_EX)));
        lax.nla_enforced = Some(false);
        lax.tls_only = Some(selected(PROTOCOL_SSL));
        let mut strict = host("ts3:3389", PortOutcome::Open, Some(selected(PROTOCOL_HYBRID)));
        strict.nla_enforced = Some(true);
        assert_eq!(
            codes(&judge(&RdpEvidence { hosts: vec![lax] }, &nla)),
            [(Code::RdpNegotiationFailed, Severity::Warn)]
        );
        assert!(judge(&RdpEvidence { hosts: vec![strict] }, &nla).is_empty());
    }

    #[test]
    fn evidence_round_trips_and_tolerates_unknown_values() {
        let mut h = host("ts1:3389", PortOutcome::Open, Some(selected(PROTOCOL_SSL)));
        h.tls = Some(RdpTls { version: Some("TLSv1_3".into()), self_signed: Some(true), ..RdpTls::default() });
        let ev = RdpEvidence { hosts: vec![h] };
        let json = serde_json::to_value(&ev).unwrap();
        assert_eq!(serde_json::from_value::<RdpEvidence>(json).unwrap(), ev);
        let newer = serde_json::json!({"hosts": [{"target": "x:3389", "tcp": "open", "extra": 1,
            "negotiation": {"result": "quantum", "selected": "rdp_v99", "failure": "new_reason", "malformed": "odd"}}]});
        let read: RdpEvidence = serde_json::from_value(newer).unwrap();
        let neg = read.hosts[0].negotiation.as_ref().unwrap();
        assert_eq!(neg.result, NegotiationResult::Unknown);
        assert_eq!(neg.selected, Some(SecurityProtocol::Unknown));
        assert_eq!(neg.failure, Some(NegotiationFailure::Unknown));
        assert_eq!(neg.malformed, Some(ConfirmError::Unknown));
        assert_eq!(serde_json::from_value::<RdpEvidence>(serde_json::json!({})).unwrap(), RdpEvidence::default());
    }
}
