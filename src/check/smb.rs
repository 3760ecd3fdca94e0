//! The `smb` service profile (docs/checks/smb.md): can this machine negotiate SMB2 or later
//! with the servers of the configured shares (`[profiles.smb] shares`)?
//!
//! A profile is a check that runs only when chosen (`--profile smb`, `[profiles] enabled`),
//! after the layers it needs (`runner::GRAPH`); blocks nothing. Its contract, shared by
//! every profile: a typed evidence ([`SmbEvidence`]), a pure [`judge`], [`details`] (the
//! report's one-line summary), [`targets`] (each share and whether it worked, for metrics),
//! [`budget_ms`] and, with the `live` feature, `run`.
//!
//! For each server (the shares' servers, each once, probed concurrently under a cap): the
//! system resolver, TCP 445, an SMB2 NEGOTIATE offering 2.0.2, 2.1, 3.0, 3.0.2 and 3.1.1 with
//! the 3.1.1 negotiate contexts (MS-SMB2 2.2.3), and the server's NEGOTIATE response read
//! (2.2.4: dialect, signing enabled/required, capabilities, server GUID, maximum sizes, the
//! cipher and signing algorithm it chose). No credentials: the check stops there. A server
//! that gives no SMB2 answer (closes, resets, stays silent, answers something else) is asked
//! again with an SMB1 NEGOTIATE (MS-CIFS 2.2.4.52) offering `NT LM 0.12`, `SMB 2.002` and
//! `SMB 2.???`: one that picks `NT LM 0.12` speaks only SMB1 (`smb.smb1_only`).
//!
//! The request builders and the response parsers ([`parse_message`]) are hand-written: the
//! Rust SMB crates are full clients (sessions, NTLM/Kerberos, file I/O, their own
//! transport and runtime) that neither expose a bare NEGOTIATE exchange nor speak SMB1, and
//! only two fixed-layout messages are needed here. The parsers read bytes from any peer on
//! port 445: they are bounded (one frame of at most [`MAX_FRAME`] bytes, at most
//! [`MAX_CONTEXTS`] negotiate contexts), never index out of range, and are fuzzed
//! (`fuzz/fuzz_targets/smb_negotiate.rs`); `captures/smb/` holds real responses of Samba's
//! smbd for their tests.

use std::net::SocketAddr;
#[cfg(feature = "live")]
use std::sync::Arc;
#[cfg(feature = "live")]
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};

use crate::check::{ProfileTarget, finding, named};
use crate::config::SmbSettings;
use crate::report::{CheckId, Code, Finding, Severity};

/// The SMB port (MS-SMB2 2.1: Direct TCP transport).
pub const SMB_PORT: u16 = 445;
/// The largest frame read from a server: a NEGOTIATE response is a few hundred bytes plus
/// the server's security blob (SPNEGO hints, well under 4 KiB in practice).
pub const MAX_FRAME: usize = 65_536;
/// Most negotiate contexts read from one response.
pub const MAX_CONTEXTS: usize = 16;
/// Most servers probed at the same time.
pub const MAX_PARALLEL: usize = 8;
/// Most shares named in one finding's message.
const MAX_NAMED: usize = 5;

/// The SMB2 dialects offered, oldest first (MS-SMB2 2.2.3: 2.0.2, 2.1, 3.0, 3.0.2, 3.1.1).
pub const SMB2_DIALECTS: [u16; 5] = [0x0202, 0x0210, 0x0300, 0x0302, 0x0311];
/// The SMB1 dialects offered in the fallback, in order (MS-CIFS 2.2.4.52.1; MS-SMB2
/// 3.3.5.3.1 for the two SMB2 ones).
pub const SMB1_DIALECTS: [&str; 3] = ["NT LM 0.12", "SMB 2.002", "SMB 2.???"];
/// The `DialectRevision` a server answers an SMB1 NEGOTIATE offering `SMB 2.???` with
/// when it supports SMB 2.1 or later (MS-SMB2 2.2.4).
pub const DIALECT_WILDCARD: u16 = 0x02FF;

// ---------------------------------------------------------------------------
// Evidence
// ---------------------------------------------------------------------------

/// What the `smb` profile observed.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct SmbEvidence {
    /// The configured shares, in the order given, each with its server.
    pub shares: Vec<SmbShare>,
    /// One entry per server (each once), in order of first mention.
    pub servers: Vec<SmbServer>,
}

/// One configured share.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct SmbShare {
    /// The share as `\\server\share` (`--redact` makes it `share-N`).
    pub share: String,
    /// Its server, as written in the path (the key of [`SmbEvidence::servers`]).
    pub server: String,
}

/// How talking SMB to one server ended.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SmbOutcome {
    /// The server negotiated SMB 2.0.2 or later.
    Smb2,
    /// The server speaks only SMB1: it chose `NT LM 0.12` ([`SMB1_DIALECTS`]).
    Smb1Only,
    /// The server answered SMB but chose none of the offered dialects, or refused the
    /// negotiation with an error status.
    NoCommonDialect,
    /// Something answered on 445, but not SMB.
    NotSmb,
    /// The connection opened but the server closed it, reset it or said nothing in time.
    NoAnswer,
    /// TCP 445 refused (RST): no SMB server on that address.
    Refused,
    /// No answer to the TCP connection (dropped by a firewall, or the host is down).
    Filtered,
    /// ICMP unreachable or no route to the server.
    Unreachable,
    /// A local error before anything was sent (no address of that family, ...).
    LocalError,
    /// The server name did not resolve.
    Unresolved,
    /// Not probed: the run's deadline came first.
    #[default]
    NotProbed,
}

impl SmbOutcome {
    /// The outcome as written in the evidence.
    pub fn as_str(self) -> &'static str {
        match self {
            SmbOutcome::Smb2 => "smb2",
            SmbOutcome::Smb1Only => "smb1_only",
            SmbOutcome::NoCommonDialect => "no_common_dialect",
            SmbOutcome::NotSmb => "not_smb",
            SmbOutcome::NoAnswer => "no_answer",
            SmbOutcome::Refused => "refused",
            SmbOutcome::Filtered => "filtered",
            SmbOutcome::Unreachable => "unreachable",
            SmbOutcome::LocalError => "local_error",
            SmbOutcome::Unresolved => "unresolved",
            SmbOutcome::NotProbed => "not_probed",
        }
    }
}

/// What one server answered.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct SmbServer {
    /// The server as written in the share paths.
    pub server: String,
    /// The address connected to (the resolver's first, IPv4 preferred).
    pub address: Option<SocketAddr>,
    /// How it ended.
    pub outcome: SmbOutcome,
    /// Time to open TCP 445, in milliseconds.
    pub connect_ms: Option<f64>,
    /// Time from the NEGOTIATE request to its response, in milliseconds (of the exchange
    /// that decided the outcome).
    pub negotiate_ms: Option<f64>,
    /// The dialect chosen: `2.0.2`, `2.1`, `3.0`, `3.0.2`, `3.1.1`, `2.???` (SMB 2.1 or
    /// later, answered to the SMB1 fallback) or `NT LM 0.12` (SMB1).
    pub dialect: Option<String>,
    /// The SMB2 `DialectRevision` (0x0311 for 3.1.1).
    pub dialect_revision: Option<u16>,
    /// Whether the server has signing enabled.
    pub signing_enabled: Option<bool>,
    /// Whether the server requires signing (Windows domain controllers, Samba with
    /// `server signing = mandatory`).
    pub signing_required: Option<bool>,
    /// The SMB2 capabilities the server announced (`dfs`, `leasing`, `large_mtu`,
    /// `multi_channel`, `persistent_handles`, `directory_leasing`, `encryption`).
    pub capabilities: Vec<String>,
    /// The server's GUID.
    pub server_guid: Option<String>,
    /// The largest transaction, read and write the server accepts, in bytes.
    pub max_transact_size: Option<u32>,
    /// See `max_transact_size`.
    pub max_read_size: Option<u32>,
    /// See `max_transact_size`.
    pub max_write_size: Option<u32>,
    /// The cipher a 3.1.1 server chose (`aes-128-ccm`, `aes-128-gcm`, `aes-256-ccm`,
    /// `aes-256-gcm`), if it chose one.
    pub cipher: Option<String>,
    /// The signing algorithm a 3.1.1 server chose (`hmac-sha256`, `aes-cmac`, `aes-gmac`).
    pub signing_algorithm: Option<String>,
    /// The NT status of an SMB2 error response to the NEGOTIATE, as `0xC00000BB`.
    pub status: Option<String>,
    /// Whether the SMB1 NEGOTIATE was sent (the SMB2 one had no SMB2 answer).
    pub smb1_fallback: bool,
    /// What went wrong, when something did (the OS error, the parser's reason).
    pub error: Option<String>,
}

impl SmbServer {
    /// Whether shares on this server can be used by a current client (SMB2 or later).
    pub fn usable(&self) -> bool {
        self.outcome == SmbOutcome::Smb2
    }
}

impl SmbEvidence {
    /// The server entry of `share`.
    pub fn server_of(&self, share: &SmbShare) -> Option<&SmbServer> {
        self.servers.iter().find(|s| s.server == share.server)
    }
}

// ---------------------------------------------------------------------------
// Judge, details, targets
// ---------------------------------------------------------------------------

/// The findings the evidence shows (pure): `smb.smb1_only` for shares whose server speaks
/// only SMB1, `smb.unreachable` for shares whose server gave no SMB at all; both fail (the
/// drive does not open).
pub fn judge(ev: &SmbEvidence, _settings: &SmbSettings) -> Vec<Finding> {
    let mut smb1 = Vec::new();
    let mut down = Vec::new();
    for share in &ev.shares {
        let Some(server) = ev.server_of(share) else { continue };
        match server.outcome {
            SmbOutcome::Smb2 => {}
            SmbOutcome::Smb1Only => smb1.push(format!("{} ({})", share.share, server_address(server))),
            other => down.push(format!("{} ({}: {})", share.share, server_address(server), reason(server, other))),
        }
    }
    let mut findings = Vec::new();
    if !down.is_empty() {
        findings.push(finding(
            CheckId::Smb,
            Code::SmbUnreachable,
            Severity::Fail,
            format!("no SMB answer for {}", named(&down, "; ", MAX_NAMED)),
        ));
    }
    if !smb1.is_empty() {
        findings.push(finding(
            CheckId::Smb,
            Code::SmbSmb1Only,
            Severity::Fail,
            format!("the server speaks only SMB1 (NT LM 0.12) for {}", named(&smb1, "; ", MAX_NAMED)),
        ));
    }
    findings
}

fn server_address(server: &SmbServer) -> String {
    match server.address {
        Some(a) if a.ip().to_string() != server.server => format!("{} at {}", server.server, a.ip()),
        _ => server.server.clone(),
    }
}

fn reason(server: &SmbServer, outcome: SmbOutcome) -> String {
    let what = match outcome {
        SmbOutcome::NoCommonDialect => "no common dialect",
        SmbOutcome::NotSmb => "not SMB on port 445",
        SmbOutcome::NoAnswer => "no SMB answer",
        SmbOutcome::Refused => "TCP 445 refused",
        SmbOutcome::Filtered => "TCP 445 timed out",
        SmbOutcome::Unreachable => "unreachable",
        SmbOutcome::LocalError => "local error",
        SmbOutcome::Unresolved => "name did not resolve",
        SmbOutcome::NotProbed => "not probed before the deadline",
        SmbOutcome::Smb2 | SmbOutcome::Smb1Only => "",
    };
    match (&server.error, &server.status) {
        (_, Some(status)) => format!("{what}, status {status}"),
        (Some(e), None) => format!("{what}, {e}"),
        (None, None) => what.to_string(),
    }
}

/// One line for the report's details column (table, Markdown, HTML): the first share and
/// its server's dialect and signing, then how many shares work.
pub fn details(ev: &SmbEvidence) -> String {
    let Some(first) = ev.shares.first() else {
        return "no shares configured".to_string();
    };
    let describe = |share: &SmbShare| match ev.server_of(share) {
        Some(s) if s.outcome == SmbOutcome::Smb2 => {
            let dialect = s.dialect.as_deref().unwrap_or("?");
            let signing = match s.signing_required {
                Some(true) => "signing required",
                Some(false) => "signing not required",
                None => "signing unknown",
            };
            format!("{}: SMB {dialect}, {signing}", share.share)
        }
        Some(s) if s.outcome == SmbOutcome::Smb1Only => format!("{}: SMB1 only", share.share),
        Some(s) => format!("{}: {}", share.share, s.outcome.as_str().replace('_', " ")),
        None => format!("{}: not probed", share.share),
    };
    let mut line = describe(first);
    if ev.shares.len() > 1 {
        let ok = targets(ev).iter().filter(|t| t.success).count();
        line.push_str(&format!(" ({ok} of {} shares on SMB2+)", ev.shares.len()));
    }
    line
}

/// Each share tested and whether its server negotiated SMB2 or later
/// (`nettriage_profile_check_success`).
pub fn targets(ev: &SmbEvidence) -> Vec<ProfileTarget> {
    ev.shares
        .iter()
        .map(|s| ProfileTarget { target: s.share.clone(), success: ev.server_of(s).is_some_and(SmbServer::usable) })
        .collect()
}

/// The longest this check may take, in milliseconds (the runner's budget): a server's
/// probes run one after another (resolve, connect, negotiate, and for the SMB1 fallback a
/// second connect and negotiate), servers in parallel.
pub fn budget_ms(settings: &SmbSettings) -> u64 {
    settings.timeout_ms * 5 + 500
}

// ---------------------------------------------------------------------------
// Wire format: requests
// ---------------------------------------------------------------------------

const SMB2_MAGIC: [u8; 4] = [0xFE, b'S', b'M', b'B'];
const SMB1_MAGIC: [u8; 4] = [0xFF, b'S', b'M', b'B'];
const SMB2_HEADER_LEN: usize = 64;
const SMB1_HEADER_LEN: usize = 32;
const SMB2_NEGOTIATE: u16 = 0x0000;
const SMB1_COM_NEGOTIATE: u8 = 0x72;
const SMB2_FLAGS_SERVER_TO_REDIR: u32 = 0x0000_0001;

/// Negotiate context types (MS-SMB2 2.2.3.1).
const PREAUTH_INTEGRITY_CAPABILITIES: u16 = 0x0001;
const ENCRYPTION_CAPABILITIES: u16 = 0x0002;
const SIGNING_CAPABILITIES: u16 = 0x0008;

/// Wraps `message` in the Direct TCP transport header (MS-SMB2 2.1: a zero byte and a
/// 24-bit big-endian length).
fn framed(message: Vec<u8>) -> Vec<u8> {
    let len = message.len() as u32;
    let mut out = Vec::with_capacity(message.len() + 4);
    out.push(0);
    out.extend_from_slice(&len.to_be_bytes()[1..]);
    out.extend(message);
    out
}

fn pad8(buf: &mut Vec<u8>) {
    while !buf.len().is_multiple_of(8) {
        buf.push(0);
    }
}

/// An SMB2 NEGOTIATE request (MS-SMB2 2.2.3) offering [`SMB2_DIALECTS`], with the 3.1.1
/// negotiate contexts (pre-authentication integrity with SHA-512 and `salt`, encryption:
/// AES-128-GCM, AES-128-CCM, AES-256-GCM, AES-256-CCM; signing: AES-GMAC, AES-CMAC,
/// HMAC-SHA256), framed for TCP.
pub fn smb2_negotiate_request(client_guid: [u8; 16], salt: [u8; 32]) -> Vec<u8> {
    let mut m = Vec::with_capacity(256);
    // SMB2 header (2.2.1.2, sync).
    m.extend_from_slice(&SMB2_MAGIC);
    m.extend_from_slice(&(SMB2_HEADER_LEN as u16).to_le_bytes()); // StructureSize
    m.extend_from_slice(&0u16.to_le_bytes()); // CreditCharge
    m.extend_from_slice(&0u32.to_le_bytes()); // ChannelSequence/Reserved
    m.extend_from_slice(&SMB2_NEGOTIATE.to_le_bytes()); // Command
    m.extend_from_slice(&1u16.to_le_bytes()); // CreditRequest
    m.extend_from_slice(&0u32.to_le_bytes()); // Flags
    m.extend_from_slice(&0u32.to_le_bytes()); // NextCommand
    m.extend_from_slice(&0u64.to_le_bytes()); // MessageId
    m.extend_from_slice(&0u32.to_le_bytes()); // Reserved (ProcessId)
    m.extend_from_slice(&0u32.to_le_bytes()); // TreeId
    m.extend_from_slice(&0u64.to_le_bytes()); // SessionId
    m.extend_from_slice(&[0; 16]); // Signature
    // NEGOTIATE request (2.2.3).
    m.extend_from_slice(&36u16.to_le_bytes()); // StructureSize
    m.extend_from_slice(&(SMB2_DIALECTS.len() as u16).to_le_bytes());
    m.extend_from_slice(&0x0001u16.to_le_bytes()); // SecurityMode: signing enabled
    m.extend_from_slice(&0u16.to_le_bytes()); // Reserved
    // Capabilities: DFS, leasing, large MTU, multi-channel, persistent handles,
    // directory leasing, encryption (what a current client announces).
    m.extend_from_slice(&0x0000_007Fu32.to_le_bytes());
    m.extend_from_slice(&client_guid);
    let context_offset_at = m.len();
    m.extend_from_slice(&0u32.to_le_bytes()); // NegotiateContextOffset (patched below)
    m.extend_from_slice(&3u16.to_le_bytes()); // NegotiateContextCount
    m.extend_from_slice(&0u16.to_le_bytes()); // Reserved2
    for d in SMB2_DIALECTS {
        m.extend_from_slice(&d.to_le_bytes());
    }
    pad8(&mut m);
    let offset = m.len() as u32;
    m[context_offset_at..context_offset_at + 4].copy_from_slice(&offset.to_le_bytes());
    // Pre-authentication integrity (2.2.3.1.1): one algorithm (SHA-512), a 32-byte salt.
    let mut preauth = Vec::with_capacity(38);
    preauth.extend_from_slice(&1u16.to_le_bytes());
    preauth.extend_from_slice(&32u16.to_le_bytes());
    preauth.extend_from_slice(&0x0001u16.to_le_bytes());
    preauth.extend_from_slice(&salt);
    // Encryption (2.2.3.1.2), the client's preference first.
    let mut encryption = Vec::with_capacity(10);
    encryption.extend_from_slice(&4u16.to_le_bytes());
    for cipher in [0x0002u16, 0x0001, 0x0004, 0x0003] {
        encryption.extend_from_slice(&cipher.to_le_bytes());
    }
    // Signing (2.2.3.1.7).
    let mut signing = Vec::with_capacity(8);
    signing.extend_from_slice(&3u16.to_le_bytes());
    for alg in [0x0002u16, 0x0001, 0x0000] {
        signing.extend_from_slice(&alg.to_le_bytes());
    }
    let contexts = [
        (PREAUTH_INTEGRITY_CAPABILITIES, preauth),
        (ENCRYPTION_CAPABILITIES, encryption),
        (SIGNING_CAPABILITIES, signing),
    ];
    for (i, (kind, data)) in contexts.iter().enumerate() {
        if i > 0 {
            pad8(&mut m);
        }
        m.extend_from_slice(&kind.to_le_bytes());
        m.extend_from_slice(&(data.len() as u16).to_le_bytes());
        m.extend_from_slice(&0u32.to_le_bytes());
        m.extend_from_slice(data);
    }
    framed(m)
}

/// An SMB1 NEGOTIATE request (MS-CIFS 2.2.4.52.1) offering [`SMB1_DIALECTS`], framed for
/// TCP.
pub fn smb1_negotiate_request() -> Vec<u8> {
    let mut m = Vec::with_capacity(80);
    m.extend_from_slice(&SMB1_MAGIC);
    m.push(SMB1_COM_NEGOTIATE);
    m.extend_from_slice(&0u32.to_le_bytes()); // Status
    m.push(0x18); // Flags: case insensitive, canonicalized paths
    // Flags2: long names, extended security, NT status codes, Unicode.
    m.extend_from_slice(&0xC801u16.to_le_bytes());
    m.extend_from_slice(&0u16.to_le_bytes()); // PIDHigh
    m.extend_from_slice(&[0; 8]); // SecurityFeatures
    m.extend_from_slice(&0u16.to_le_bytes()); // Reserved
    m.extend_from_slice(&0xFFFFu16.to_le_bytes()); // TID
    m.extend_from_slice(&0xFEFFu16.to_le_bytes()); // PIDLow
    m.extend_from_slice(&0u16.to_le_bytes()); // UID
    m.extend_from_slice(&0u16.to_le_bytes()); // MID
    m.push(0); // WordCount
    let dialects: Vec<u8> =
        SMB1_DIALECTS.iter().flat_map(|d| std::iter::once(0x02).chain(d.bytes()).chain(std::iter::once(0))).collect();
    m.extend_from_slice(&(dialects.len() as u16).to_le_bytes());
    m.extend(dialects);
    framed(m)
}

// ---------------------------------------------------------------------------
// Wire format: responses
// ---------------------------------------------------------------------------

/// A server's answer to a NEGOTIATE, parsed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SmbReply {
    /// An SMB2 NEGOTIATE response (to either request).
    Smb2(Smb2Negotiate),
    /// An SMB2 error response to the NEGOTIATE: its NT status.
    Smb2Error {
        /// The header's Status.
        status: u32,
    },
    /// An SMB1 NEGOTIATE response.
    Smb1(Smb1Negotiate),
}

/// The fields of an SMB2 NEGOTIATE response (MS-SMB2 2.2.4) this check reports.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Smb2Negotiate {
    /// SecurityMode: bit 0 signing enabled, bit 1 signing required.
    pub security_mode: u16,
    /// The dialect chosen (0x0311 for 3.1.1, [`DIALECT_WILDCARD`] for `SMB 2.???`).
    pub dialect_revision: u16,
    /// ServerGuid.
    pub server_guid: [u8; 16],
    /// Capabilities (2.2.4).
    pub capabilities: u32,
    /// MaxTransactSize.
    pub max_transact_size: u32,
    /// MaxReadSize.
    pub max_read_size: u32,
    /// MaxWriteSize.
    pub max_write_size: u32,
    /// The length of the security blob (SPNEGO) the server sent.
    pub security_buffer_length: u16,
    /// The cipher an SMB 3.1.1 server chose in its encryption context (0: none).
    pub cipher: Option<u16>,
    /// The signing algorithm an SMB 3.1.1 server chose in its signing context.
    pub signing_algorithm: Option<u16>,
    /// The pre-authentication hash algorithm a 3.1.1 server chose (1: SHA-512).
    pub preauth_hash: Option<u16>,
}

impl Smb2Negotiate {
    /// Whether the server has signing enabled.
    pub fn signing_enabled(&self) -> bool {
        self.security_mode & 0x0001 != 0
    }

    /// Whether the server requires signing.
    pub fn signing_required(&self) -> bool {
        self.security_mode & 0x0002 != 0
    }
}

/// The fields of an SMB1 NEGOTIATE response (MS-CIFS 2.2.4.52.2) this check reads.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Smb1Negotiate {
    /// The index of the chosen dialect in the request's list (0xFFFF: none).
    pub dialect_index: u16,
    /// SecurityMode of the NT LM 0.12 response: 0x04 signatures enabled, 0x08 required.
    pub security_mode: Option<u8>,
    /// Capabilities of the NT LM 0.12 response.
    pub capabilities: Option<u32>,
    /// MaxBufferSize of the NT LM 0.12 response.
    pub max_buffer_size: Option<u32>,
}

/// Why bytes from a server are not a NEGOTIATE response.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SmbParseError {
    /// The transport header is not a session message (type 0x00).
    #[error("not an SMB transport frame (first bytes {0:02x?})")]
    NotSmbTransport([u8; 4]),
    /// A frame longer than [`MAX_FRAME`].
    #[error("frame of {0} bytes, over the limit")]
    TooLarge(usize),
    /// The message does not start with `\xFESMB` or `\xFFSMB`.
    #[error("not an SMB message (first bytes {0:02x?})")]
    NotSmb([u8; 4]),
    /// The message ends before a field.
    #[error("truncated {0}")]
    Truncated(&'static str),
    /// The message is SMB, but not a NEGOTIATE response.
    #[error("unexpected SMB command {0:#06x}")]
    UnexpectedCommand(u16),
    /// A fixed-size structure with the wrong StructureSize or WordCount.
    #[error("bad {what} size {value}")]
    BadSize {
        /// Which structure.
        what: &'static str,
        /// The size it claimed.
        value: u16,
    },
}

fn u16_at(b: &[u8], at: usize, what: &'static str) -> Result<u16, SmbParseError> {
    b.get(at..at + 2).map(|s| u16::from_le_bytes([s[0], s[1]])).ok_or(SmbParseError::Truncated(what))
}

fn u32_at(b: &[u8], at: usize, what: &'static str) -> Result<u32, SmbParseError> {
    b.get(at..at + 4).map(|s| u32::from_le_bytes([s[0], s[1], s[2], s[3]])).ok_or(SmbParseError::Truncated(what))
}

/// The length of the message that follows a Direct TCP transport header (MS-SMB2 2.1),
/// `None` for a keep-alive (RFC 1002 type 0x85) the reader skips.
pub fn frame_length(header: [u8; 4]) -> Result<Option<usize>, SmbParseError> {
    match header[0] {
        0x00 => {
            let len = u32::from_be_bytes([0, header[1], header[2], header[3]]) as usize;
            if len > MAX_FRAME { Err(SmbParseError::TooLarge(len)) } else { Ok(Some(len)) }
        }
        0x85 if header[1..] == [0, 0, 0] => Ok(None),
        _ => Err(SmbParseError::NotSmbTransport(header)),
    }
}

/// Parses one SMB message (without its transport header) as a NEGOTIATE response, SMB2 or
/// SMB1.
pub fn parse_message(msg: &[u8]) -> Result<SmbReply, SmbParseError> {
    let magic: [u8; 4] = msg.get(..4).and_then(|m| m.try_into().ok()).ok_or(SmbParseError::Truncated("protocol id"))?;
    match magic {
        SMB2_MAGIC => parse_smb2(msg),
        SMB1_MAGIC => parse_smb1(msg),
        other => Err(SmbParseError::NotSmb(other)),
    }
}

fn parse_smb2(msg: &[u8]) -> Result<SmbReply, SmbParseError> {
    if msg.len() < SMB2_HEADER_LEN {
        return Err(SmbParseError::Truncated("SMB2 header"));
    }
    let header_size = u16_at(msg, 4, "SMB2 header")?;
    if header_size as usize != SMB2_HEADER_LEN {
        return Err(SmbParseError::BadSize { what: "SMB2 header", value: header_size });
    }
    let status = u32_at(msg, 8, "SMB2 header")?;
    let command = u16_at(msg, 12, "SMB2 header")?;
    let flags = u32_at(msg, 16, "SMB2 header")?;
    if command != SMB2_NEGOTIATE || flags & SMB2_FLAGS_SERVER_TO_REDIR == 0 {
        return Err(SmbParseError::UnexpectedCommand(command));
    }
    let body = &msg[SMB2_HEADER_LEN..];
    let size = u16_at(body, 0, "NEGOTIATE response")?;
    if status != 0 {
        // An error response (2.2.2) has StructureSize 9; its data is not needed.
        return Ok(SmbReply::Smb2Error { status });
    }
    if size != 65 {
        return Err(SmbParseError::BadSize { what: "NEGOTIATE response", value: size });
    }
    if body.len() < 64 {
        return Err(SmbParseError::Truncated("NEGOTIATE response"));
    }
    let dialect_revision = u16_at(body, 4, "DialectRevision")?;
    let context_count = u16_at(body, 6, "NegotiateContextCount")?;
    let mut server_guid = [0u8; 16];
    server_guid.copy_from_slice(&body[8..24]);
    let mut n = Smb2Negotiate {
        security_mode: u16_at(body, 2, "SecurityMode")?,
        dialect_revision,
        server_guid,
        capabilities: u32_at(body, 24, "Capabilities")?,
        max_transact_size: u32_at(body, 28, "MaxTransactSize")?,
        max_read_size: u32_at(body, 32, "MaxReadSize")?,
        max_write_size: u32_at(body, 36, "MaxWriteSize")?,
        security_buffer_length: u16_at(body, 58, "SecurityBufferLength")?,
        cipher: None,
        signing_algorithm: None,
        preauth_hash: None,
    };
    if dialect_revision == 0x0311 && context_count > 0 {
        // Offsets count from the start of the SMB2 header.
        let offset = u32_at(body, 60, "NegotiateContextOffset")? as usize;
        read_contexts(msg, offset, usize::from(context_count).min(MAX_CONTEXTS), &mut n)?;
    }
    Ok(SmbReply::Smb2(n))
}

/// Reads the negotiate contexts of a 3.1.1 response (MS-SMB2 2.2.4.1): each 8-byte
/// aligned, an 8-byte header then its data.
fn read_contexts(msg: &[u8], mut at: usize, count: usize, n: &mut Smb2Negotiate) -> Result<(), SmbParseError> {
    for i in 0..count {
        if i > 0 {
            at = at.checked_add(7).ok_or(SmbParseError::Truncated("negotiate context"))? & !7;
        }
        let kind = u16_at(msg, at, "negotiate context")?;
        let len = usize::from(u16_at(msg, at + 2, "negotiate context")?);
        let data_at = at + 8;
        let data = msg.get(data_at..data_at + len).ok_or(SmbParseError::Truncated("negotiate context data"))?;
        // Each chosen value is the first of the context's list (the server sends one).
        match kind {
            PREAUTH_INTEGRITY_CAPABILITIES if u16_at(data, 0, "preauth context")? >= 1 => {
                n.preauth_hash = Some(u16_at(data, 4, "preauth context")?);
            }
            ENCRYPTION_CAPABILITIES if u16_at(data, 0, "encryption context")? >= 1 => {
                n.cipher = Some(u16_at(data, 2, "encryption context")?);
            }
            SIGNING_CAPABILITIES if u16_at(data, 0, "signing context")? >= 1 => {
                n.signing_algorithm = Some(u16_at(data, 2, "signing context")?);
            }
            _ => {}
        }
        at = data_at + len;
    }
    Ok(())
}

fn parse_smb1(msg: &[u8]) -> Result<SmbReply, SmbParseError> {
    if msg.len() < SMB1_HEADER_LEN + 1 {
        return Err(SmbParseError::Truncated("SMB1 header"));
    }
    if msg[4] != SMB1_COM_NEGOTIATE {
        return Err(SmbParseError::UnexpectedCommand(u16::from(msg[4])));
    }
    let words = &msg[SMB1_HEADER_LEN + 1..];
    let word_count = msg[SMB1_HEADER_LEN];
    match word_count {
        // The NT LM 0.12 response (2.2.4.52.2): 17 words.
        17 => Ok(SmbReply::Smb1(Smb1Negotiate {
            dialect_index: u16_at(words, 0, "DialectIndex")?,
            security_mode: Some(*words.get(2).ok_or(SmbParseError::Truncated("SecurityMode"))?),
            max_buffer_size: Some(u32_at(words, 7, "MaxBufferSize")?),
            capabilities: Some(u32_at(words, 19, "Capabilities")?),
        })),
        // The core protocol's response, or "none of these" (DialectIndex 0xFFFF): 1 word;
        // the LANMAN responses: 13 words. Only the index matters then.
        1 | 13 => Ok(SmbReply::Smb1(Smb1Negotiate {
            dialect_index: u16_at(words, 0, "DialectIndex")?,
            security_mode: None,
            capabilities: None,
            max_buffer_size: None,
        })),
        other => Err(SmbParseError::BadSize { what: "SMB1 NEGOTIATE response", value: u16::from(other) }),
    }
}

/// The dialect's name: `3.1.1` for 0x0311.
pub fn dialect_name(revision: u16) -> String {
    match revision {
        0x0202 => "2.0.2".into(),
        0x0210 => "2.1".into(),
        0x0300 => "3.0".into(),
        0x0302 => "3.0.2".into(),
        0x0311 => "3.1.1".into(),
        DIALECT_WILDCARD => "2.???".into(),
        other => format!("{other:#06x}"),
    }
}

/// The names of the SMB2 capability bits (MS-SMB2 2.2.4).
pub fn capability_names(bits: u32) -> Vec<String> {
    const NAMES: [(u32, &str); 7] = [
        (0x01, "dfs"),
        (0x02, "leasing"),
        (0x04, "large_mtu"),
        (0x08, "multi_channel"),
        (0x10, "persistent_handles"),
        (0x20, "directory_leasing"),
        (0x40, "encryption"),
    ];
    NAMES.iter().filter(|(bit, _)| bits & bit != 0).map(|(_, name)| (*name).to_string()).collect()
}

fn cipher_name(id: u16) -> Option<String> {
    Some(
        match id {
            0x0000 => return None,
            0x0001 => "aes-128-ccm",
            0x0002 => "aes-128-gcm",
            0x0003 => "aes-256-ccm",
            0x0004 => "aes-256-gcm",
            other => return Some(format!("{other:#06x}")),
        }
        .to_string(),
    )
}

fn signing_name(id: u16) -> String {
    match id {
        0x0000 => "hmac-sha256".into(),
        0x0001 => "aes-cmac".into(),
        0x0002 => "aes-gmac".into(),
        other => format!("{other:#06x}"),
    }
}

fn guid_text(g: &[u8; 16]) -> String {
    // Mixed-endian, as Windows shows GUIDs.
    format!(
        "{:08x}-{:04x}-{:04x}-{:02x}{:02x}-{:02x}{:02x}{:02x}{:02x}{:02x}{:02x}",
        u32::from_le_bytes([g[0], g[1], g[2], g[3]]),
        u16::from_le_bytes([g[4], g[5]]),
        u16::from_le_bytes([g[6], g[7]]),
        g[8],
        g[9],
        g[10],
        g[11],
        g[12],
        g[13],
        g[14],
        g[15]
    )
}

impl SmbServer {
    /// Records an SMB2 NEGOTIATE response: outcome `smb2` with its fields.
    pub fn record_smb2(&mut self, n: &Smb2Negotiate) {
        self.outcome = SmbOutcome::Smb2;
        self.dialect = Some(dialect_name(n.dialect_revision));
        self.dialect_revision = Some(n.dialect_revision);
        self.signing_enabled = Some(n.signing_enabled());
        self.signing_required = Some(n.signing_required());
        self.capabilities = capability_names(n.capabilities);
        self.server_guid = Some(guid_text(&n.server_guid));
        self.max_transact_size = Some(n.max_transact_size);
        self.max_read_size = Some(n.max_read_size);
        self.max_write_size = Some(n.max_write_size);
        self.cipher = n.cipher.and_then(cipher_name);
        self.signing_algorithm = n.signing_algorithm.map(signing_name);
    }

    /// Records an SMB1 NEGOTIATE response to [`smb1_negotiate_request`]: `smb1_only` when
    /// the server chose `NT LM 0.12`, `no_common_dialect` otherwise (the SMB2 dialects are
    /// answered with an SMB2 response, [`Self::record_smb2`]).
    pub fn record_smb1(&mut self, n: &Smb1Negotiate) {
        if n.dialect_index == 0 {
            self.outcome = SmbOutcome::Smb1Only;
            self.dialect = Some(SMB1_DIALECTS[0].to_string());
            self.signing_enabled = n.security_mode.map(|m| m & 0x04 != 0);
            self.signing_required = n.security_mode.map(|m| m & 0x08 != 0);
        } else {
            self.outcome = SmbOutcome::NoCommonDialect;
            self.error = Some(format!("SMB1 dialect index {:#06x}", n.dialect_index));
        }
    }
}

// ---------------------------------------------------------------------------
// Probes (live)
// ---------------------------------------------------------------------------

/// Runs the profile's probes and judges them.
#[cfg(feature = "live")]
pub async fn run(ctx: &crate::check::CheckContext<'_>) -> Result<crate::check::Outcome, crate::check::CheckError> {
    use crate::check::Outcome;
    use crate::report::{Evidence, SkipReason};

    let settings = &ctx.config.profiles.smb;
    let paths = settings.unc_paths();
    let mut ev = SmbEvidence {
        shares: paths.iter().map(|p| SmbShare { share: p.display(), server: p.server.clone() }).collect(),
        servers: Vec::new(),
    };
    if paths.is_empty() {
        return Ok(Outcome::Skipped {
            code: SkipReason::NoTargets,
            reason: "no shares configured ([profiles.smb] shares)".into(),
            blocked_by: None,
            evidence: Evidence::Smb(Box::new(ev)),
        });
    }
    let mut servers: Vec<String> = Vec::new();
    for p in &paths {
        if !servers.iter().any(|s| s.eq_ignore_ascii_case(&p.server)) {
            servers.push(p.server.clone());
        }
    }
    // Shares on the same server written in another case point at the first spelling.
    for share in &mut ev.shares {
        if let Some(s) = servers.iter().find(|s| s.eq_ignore_ascii_case(&share.server)) {
            share.server.clone_from(s);
        }
    }
    let timeout = Duration::from_millis(settings.timeout_ms);
    let cutoff = ctx.cutoff();
    let cap = Arc::new(tokio::sync::Semaphore::new(MAX_PARALLEL));
    let mut tasks = tokio::task::JoinSet::new();
    for (i, server) in servers.iter().enumerate() {
        let (server, cap) = (server.clone(), Arc::clone(&cap));
        tasks.spawn(async move {
            let _permit = cap.acquire_owned().await;
            (i, probe_server(server, timeout, cutoff).await)
        });
    }
    let mut results: Vec<SmbServer> =
        servers.iter().map(|s| SmbServer { server: s.clone(), ..SmbServer::default() }).collect();
    let collect = async {
        while let Some(done) = tasks.join_next().await {
            match done {
                Ok((i, server)) => {
                    if let Some(slot) = results.get_mut(i) {
                        *slot = server;
                    }
                }
                Err(e) => tracing::warn!("smb probe task failed: {e}"),
            }
        }
    };
    // Every probe bounds its own waits by the cutoff; this is the backstop.
    if tokio::time::timeout_at(cutoff.into(), collect).await.is_err() {
        tasks.abort_all();
    }
    ev.servers = results;
    let findings = judge(&ev, settings);
    Ok(Outcome::Ran { findings, evidence: Evidence::Smb(Box::new(ev)) })
}

/// How one request/response exchange ended.
#[cfg(feature = "live")]
enum Exchange {
    Reply(SmbReply, f64),
    /// The server closed or reset the connection, or said nothing in time.
    Silent(String),
    /// It answered bytes that are not a NEGOTIATE response.
    Garbage(SmbParseError),
}

#[cfg(feature = "live")]
async fn probe_server(server: String, timeout: Duration, cutoff: Instant) -> SmbServer {
    let mut out = SmbServer { server: server.clone(), ..SmbServer::default() };
    let wait = move || timeout.min(cutoff.saturating_duration_since(Instant::now()));
    let addrs = match tokio::time::timeout(wait(), tokio::net::lookup_host((server.as_str(), SMB_PORT))).await {
        Ok(Ok(a)) => a.collect::<Vec<SocketAddr>>(),
        Ok(Err(e)) => {
            out.outcome = SmbOutcome::Unresolved;
            out.error = Some(e.to_string());
            return out;
        }
        Err(_) => {
            out.outcome = SmbOutcome::Unresolved;
            out.error = Some("resolver timed out".into());
            return out;
        }
    };
    let Some(addr) = addrs.iter().find(|a| a.is_ipv4()).or(addrs.first()).copied() else {
        out.outcome = SmbOutcome::Unresolved;
        out.error = Some("no address".into());
        return out;
    };
    out.address = Some(addr);

    let mut stream = match connect(addr, wait()).await {
        Ok((stream, ms)) => {
            out.connect_ms = Some(ms);
            stream
        }
        Err((outcome, error)) => {
            out.outcome = outcome;
            out.error = Some(error);
            return out;
        }
    };
    let request = smb2_negotiate_request(rand::random(), rand::random());
    let first = exchange(&mut stream, &request, wait()).await;
    drop(stream);
    let first_failure = match first {
        Exchange::Reply(SmbReply::Smb2(n), ms) => {
            out.record_smb2(&n);
            out.negotiate_ms = Some(ms);
            return out;
        }
        Exchange::Reply(SmbReply::Smb2Error { status }, ms) => {
            out.outcome = SmbOutcome::NoCommonDialect;
            out.status = Some(format!("{status:#010X}").replace("0X", "0x"));
            out.negotiate_ms = Some(ms);
            return out;
        }
        // An SMB1 answer to an SMB2 request: an SMB1 server; ask it properly below.
        Exchange::Reply(SmbReply::Smb1(_), _) => (SmbOutcome::NoAnswer, "SMB1 reply to SMB2".to_string()),
        Exchange::Silent(e) => (SmbOutcome::NoAnswer, e),
        Exchange::Garbage(e) => (SmbOutcome::NotSmb, e.to_string()),
    };

    // The SMB1 fallback, on a new connection (the server may have closed the first).
    out.smb1_fallback = true;
    let fail = |mut out: SmbServer, (outcome, error): (SmbOutcome, String)| {
        out.outcome = outcome;
        out.error = Some(error);
        out
    };
    let mut stream = match connect(addr, wait()).await {
        Ok((stream, _)) => stream,
        Err(_) => return fail(out, first_failure),
    };
    match exchange(&mut stream, &smb1_negotiate_request(), wait()).await {
        Exchange::Reply(SmbReply::Smb1(n), ms) => {
            out.record_smb1(&n);
            out.negotiate_ms = Some(ms);
            out
        }
        Exchange::Reply(SmbReply::Smb2(n), ms) => {
            out.record_smb2(&n);
            out.negotiate_ms = Some(ms);
            out
        }
        Exchange::Reply(SmbReply::Smb2Error { status }, ms) => {
            out.outcome = SmbOutcome::NoCommonDialect;
            out.status = Some(format!("{status:#010X}").replace("0X", "0x"));
            out.negotiate_ms = Some(ms);
            out
        }
        // Neither request got an SMB answer: report the first attempt's reason.
        Exchange::Silent(_) | Exchange::Garbage(_) => fail(out, first_failure),
    }
}

#[cfg(feature = "live")]
async fn connect(addr: SocketAddr, wait: Duration) -> Result<(tokio::net::TcpStream, f64), (SmbOutcome, String)> {
    const EHOSTUNREACH: i32 = 113;
    const ENETUNREACH: i32 = 101;
    let started = Instant::now();
    match tokio::time::timeout(wait, tokio::net::TcpStream::connect(addr)).await {
        Ok(Ok(s)) => Ok((s, crate::types::millis(started.elapsed()))),
        Ok(Err(e)) => {
            let outcome = match (e.kind(), e.raw_os_error()) {
                (std::io::ErrorKind::ConnectionRefused, _) => SmbOutcome::Refused,
                (_, Some(EHOSTUNREACH | ENETUNREACH)) => SmbOutcome::Unreachable,
                (std::io::ErrorKind::TimedOut, _) => SmbOutcome::Filtered,
                _ => SmbOutcome::LocalError,
            };
            Err((outcome, format!("connect to {addr}: {e}")))
        }
        Err(_) => Err((SmbOutcome::Filtered, format!("connect to {addr}: no answer in {} ms", wait.as_millis()))),
    }
}

/// Sends `request` and reads one frame (skipping keep-alives, at most a few) within `wait`.
#[cfg(feature = "live")]
async fn exchange(stream: &mut tokio::net::TcpStream, request: &[u8], wait: Duration) -> Exchange {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    let started = Instant::now();
    let io = async {
        stream.write_all(request).await.map_err(|e| Exchange::Silent(format!("send: {e}")))?;
        for _ in 0..4 {
            let mut header = [0u8; 4];
            stream.read_exact(&mut header).await.map_err(|e| Exchange::Silent(silent_reason(&e)))?;
            let len = match frame_length(header) {
                Ok(Some(len)) => len,
                Ok(None) => continue,
                Err(e) => return Err(Exchange::Garbage(e)),
            };
            let mut msg = vec![0u8; len];
            stream.read_exact(&mut msg).await.map_err(|e| Exchange::Silent(silent_reason(&e)))?;
            return Ok(msg);
        }
        Err(Exchange::Silent("only keep-alives".into()))
    };
    match tokio::time::timeout(wait, io).await {
        Ok(Ok(msg)) => match parse_message(&msg) {
            Ok(reply) => Exchange::Reply(reply, crate::types::millis(started.elapsed())),
            Err(e) => Exchange::Garbage(e),
        },
        Ok(Err(e)) => e,
        Err(_) => Exchange::Silent(format!("no answer in {} ms", wait.as_millis())),
    }
}

#[cfg(feature = "live")]
fn silent_reason(e: &std::io::Error) -> String {
    match e.kind() {
        std::io::ErrorKind::UnexpectedEof => "the server closed the connection".into(),
        std::io::ErrorKind::ConnectionReset => "the server reset the connection".into(),
        _ => format!("receive: {e}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn share(path: &str, server: &str) -> SmbShare {
        SmbShare { share: path.into(), server: server.into() }
    }

    fn server(name: &str, outcome: SmbOutcome) -> SmbServer {
        SmbServer { server: name.into(), outcome, ..SmbServer::default() }
    }

    fn smb2_server(name: &str) -> SmbServer {
        let mut s = server(name, SmbOutcome::Smb2);
        s.dialect = Some("3.1.1".into());
        s.signing_required = Some(true);
        s
    }

    fn codes(f: &[Finding]) -> Vec<(Code, Severity)> {
        f.iter().map(|f| (f.code, f.severity)).collect()
    }

    #[test]
    fn smb2_servers_pass_and_the_others_fail_with_their_code() {
        let settings = SmbSettings::default();
        let ok = SmbEvidence { shares: vec![share(r"\\fs1\data", "fs1")], servers: vec![smb2_server("fs1")] };
        assert!(judge(&ok, &settings).is_empty());
        assert_eq!(details(&ok), r"\\fs1\data: SMB 3.1.1, signing required");
        assert_eq!(targets(&ok), [ProfileTarget { target: r"\\fs1\data".into(), success: true }]);

        let mixed = SmbEvidence {
            shares: vec![
                share(r"\\fs1\data", "fs1"),
                share(r"\\nas\scans", "nas"),
                share(r"\\gone\x", "gone"),
                share(r"\\gone\y", "gone"),
            ],
            servers: vec![smb2_server("fs1"), server("nas", SmbOutcome::Smb1Only), server("gone", SmbOutcome::Refused)],
        };
        let f = judge(&mixed, &settings);
        assert_eq!(codes(&f), [(Code::SmbUnreachable, Severity::Fail), (Code::SmbSmb1Only, Severity::Fail)]);
        assert_eq!(targets(&mixed).iter().map(|t| t.success).collect::<Vec<_>>(), [true, false, false, false]);
        assert!(details(&mixed).contains("1 of 4"));
    }

    #[test]
    fn every_outcome_but_smb2_and_smb1_is_unreachable() {
        for outcome in [
            SmbOutcome::NoCommonDialect,
            SmbOutcome::NotSmb,
            SmbOutcome::NoAnswer,
            SmbOutcome::Refused,
            SmbOutcome::Filtered,
            SmbOutcome::Unreachable,
            SmbOutcome::LocalError,
            SmbOutcome::Unresolved,
            SmbOutcome::NotProbed,
        ] {
            let ev = SmbEvidence { shares: vec![share(r"\\s\x", "s")], servers: vec![server("s", outcome)] };
            assert_eq!(codes(&judge(&ev, &SmbSettings::default())), [(Code::SmbUnreachable, Severity::Fail)]);
            assert!(!details(&ev).is_empty());
        }
        assert_eq!(details(&SmbEvidence::default()), "no shares configured");
    }

    #[test]
    fn evidence_reads_back_from_json_and_tolerates_missing_fields() {
        let mut s = smb2_server("fs1");
        s.address = Some("198.18.1.2:445".parse().unwrap());
        s.capabilities = vec!["large_mtu".into()];
        let ev = SmbEvidence { shares: vec![share(r"\\fs1\data", "fs1")], servers: vec![s] };
        let json = serde_json::to_value(&ev).unwrap();
        assert_eq!(json["shares"][0]["share"], r"\\fs1\data");
        assert_eq!(json["servers"][0]["outcome"], "smb2");
        assert_eq!(serde_json::from_value::<SmbEvidence>(json).unwrap(), ev);
        let sparse: SmbEvidence = serde_json::from_str(r#"{"servers":[{"server":"x"}],"later":1}"#).unwrap();
        assert_eq!(sparse.servers[0].outcome, SmbOutcome::NotProbed);
    }

    #[test]
    fn the_smb2_request_has_the_layout_of_ms_smb2() {
        let req = smb2_negotiate_request([7; 16], [9; 32]);
        assert_eq!(frame_length(req[..4].try_into().unwrap()), Ok(Some(req.len() - 4)));
        let m = &req[4..];
        assert_eq!(m[..4], SMB2_MAGIC);
        let body = &m[64..];
        assert_eq!(u16_at(body, 0, "").unwrap(), 36);
        assert_eq!(u16_at(body, 2, "").unwrap(), 5);
        let dialects: Vec<u16> = (0..5).map(|i| u16_at(body, 36 + 2 * i, "").unwrap()).collect();
        assert_eq!(dialects, SMB2_DIALECTS);
        let offset = u32_at(body, 28, "").unwrap() as usize;
        assert!(offset.is_multiple_of(8));
        assert_eq!(u16_at(body, 32, "").unwrap(), 3);
        // The first context is the pre-authentication one with the salt.
        assert_eq!(u16_at(m, offset, "").unwrap(), PREAUTH_INTEGRITY_CAPABILITIES);
        assert_eq!(m[offset + 14..offset + 46], [9; 32]);
        // The last context ends the message.
        let last = m.len() - 8 - 8;
        assert_eq!(u16_at(m, last, "").unwrap(), SIGNING_CAPABILITIES);
    }

    #[test]
    fn the_smb1_request_offers_the_three_dialects() {
        let req = smb1_negotiate_request();
        let m = &req[4..];
        assert_eq!(m[..4], SMB1_MAGIC);
        assert_eq!(m[4], SMB1_COM_NEGOTIATE);
        let byte_count = u16_at(m, 33, "").unwrap() as usize;
        let names: Vec<&[u8]> = m[35..35 + byte_count].split(|b| *b == 0).filter(|s| !s.is_empty()).collect();
        assert_eq!(names.len(), 3);
        assert_eq!(names[0], b"\x02NT LM 0.12");
        assert_eq!(names[2], b"\x02SMB 2.???");
    }

    /// A synthetic SMB2 NEGOTIATE response: `dialect`, `mode`, and 3.1.1 contexts.
    fn smb2_response(dialect: u16, mode: u16, contexts: &[(u16, Vec<u8>)]) -> Vec<u8> {
        let mut m = Vec::new();
        m.extend_from_slice(&SMB2_MAGIC);
        m.extend_from_slice(&64u16.to_le_bytes());
        m.extend_from_slice(&[0; 6]);
        m.extend_from_slice(&0u16.to_le_bytes());
        m.extend_from_slice(&1u16.to_le_bytes());
        m.extend_from_slice(&1u32.to_le_bytes());
        m.resize(64, 0);
        m.extend_from_slice(&65u16.to_le_bytes());
        m.extend_from_slice(&mode.to_le_bytes());
        m.extend_from_slice(&dialect.to_le_bytes());
        m.extend_from_slice(&(contexts.len() as u16).to_le_bytes());
        m.extend_from_slice(&[0xAB; 16]);
        m.extend_from_slice(&0x2Fu32.to_le_bytes());
        for size in [8_388_608u32, 8_388_608, 8_388_608] {
            m.extend_from_slice(&size.to_le_bytes());
        }
        m.extend_from_slice(&[0; 16]);
        m.extend_from_slice(&128u16.to_le_bytes());
        m.extend_from_slice(&0u16.to_le_bytes());
        let at = m.len();
        m.extend_from_slice(&0u32.to_le_bytes());
        pad8(&mut m);
        let off = m.len() as u32;
        m[at..at + 4].copy_from_slice(&off.to_le_bytes());
        for (i, (kind, data)) in contexts.iter().enumerate() {
            if i > 0 {
                pad8(&mut m);
            }
            m.extend_from_slice(&kind.to_le_bytes());
            m.extend_from_slice(&(data.len() as u16).to_le_bytes());
            m.extend_from_slice(&[0; 4]);
            m.extend_from_slice(data);
        }
        m
    }

    #[test]
    fn a_311_response_gives_dialect_signing_and_contexts() {
        let msg = smb2_response(
            0x0311,
            0x0003,
            &[
                (PREAUTH_INTEGRITY_CAPABILITIES, vec![1, 0, 0, 0, 1, 0]),
                (ENCRYPTION_CAPABILITIES, vec![1, 0, 2, 0]),
                (SIGNING_CAPABILITIES, vec![1, 0, 1, 0]),
            ],
        );
        let Ok(SmbReply::Smb2(n)) = parse_message(&msg) else { panic!("not parsed: {:?}", parse_message(&msg)) };
        assert!(n.signing_enabled() && n.signing_required());
        assert_eq!((n.preauth_hash, n.cipher, n.signing_algorithm), (Some(1), Some(2), Some(1)));
        let mut s = SmbServer::default();
        s.record_smb2(&n);
        assert_eq!(s.dialect.as_deref(), Some("3.1.1"));
        assert_eq!(s.cipher.as_deref(), Some("aes-128-gcm"));
        assert_eq!(s.signing_algorithm.as_deref(), Some("aes-cmac"));
        assert_eq!(s.capabilities, ["dfs", "leasing", "large_mtu", "multi_channel", "directory_leasing"]);
        assert_eq!(s.server_guid.as_deref(), Some("abababab-abab-abab-abab-abababababab"));
    }

    #[test]
    fn every_truncation_of_a_response_is_an_error_not_a_panic() {
        let msg = smb2_response(0x0311, 1, &[(ENCRYPTION_CAPABILITIES, vec![1, 0, 2, 0])]);
        for end in 0..msg.len() {
            assert!(parse_message(&msg[..end]).is_err(), "prefix of {end} bytes accepted");
        }
        // A context offset pointing past the end.
        let mut bad = msg.clone();
        bad[64 + 60..64 + 64].copy_from_slice(&u32::MAX.to_le_bytes());
        assert!(matches!(parse_message(&bad), Err(SmbParseError::Truncated(_))));
        // A 2.1 response ignores the context fields.
        assert!(matches!(parse_message(&smb2_response(0x0210, 1, &[])), Ok(SmbReply::Smb2(_))));
    }

    #[test]
    fn transport_headers_and_garbage_are_classified() {
        assert_eq!(frame_length([0, 0, 1, 0]), Ok(Some(256)));
        assert_eq!(frame_length([0x85, 0, 0, 0]), Ok(None));
        assert_eq!(frame_length([0, 0xFF, 0xFF, 0xFF]), Err(SmbParseError::TooLarge(0xFF_FFFF)));
        assert!(matches!(frame_length(*b"HTTP"), Err(SmbParseError::NotSmbTransport(_))));
        assert!(matches!(parse_message(b"SSH-2.0-OpenSSH"), Err(SmbParseError::NotSmb(_))));
    }

    #[test]
    fn an_smb2_error_status_is_reported() {
        let mut msg = smb2_response(0x0311, 1, &[]);
        msg[8..12].copy_from_slice(&0xC000_00BBu32.to_le_bytes());
        msg[64..66].copy_from_slice(&9u16.to_le_bytes());
        msg.truncate(64 + 9);
        assert_eq!(parse_message(&msg), Ok(SmbReply::Smb2Error { status: 0xC000_00BB }));
    }

    /// captures/smb/ (captures/record_smb.sh): Samba 4.17's smbd, `server signing =
    /// mandatory`, answering a 3.1.1 NEGOTIATE built independently in Python.
    const SMBD_REQUEST: &[u8] = include_bytes!("../../captures/smb/smb2_negotiate_request.bin");
    const SMBD_RESPONSE: &[u8] = include_bytes!("../../captures/smb/smb2_negotiate_response.bin");
    /// The same smbd limited to NT1, answering the SMB1 NEGOTIATE.
    const SMBD_NT1_RESPONSE: &[u8] = include_bytes!("../../captures/smb/smb1_negotiate_response.bin");

    fn unframe(frame: &[u8]) -> &[u8] {
        let len = frame_length(frame[..4].try_into().unwrap()).unwrap().unwrap();
        assert_eq!(len, frame.len() - 4);
        &frame[4..]
    }

    #[test]
    fn the_request_matches_the_one_smbd_answered_in_the_lab() {
        assert_eq!(smb2_negotiate_request([0x11; 16], [0x22; 32]), SMBD_REQUEST);
    }

    #[test]
    fn smbds_real_311_response_is_read() {
        let Ok(SmbReply::Smb2(n)) = parse_message(unframe(SMBD_RESPONSE)) else { panic!("not read") };
        assert_eq!(n.dialect_revision, 0x0311);
        assert!(n.signing_enabled() && n.signing_required());
        assert_eq!((n.preauth_hash, n.cipher, n.signing_algorithm), (Some(1), Some(2), Some(2)));
        assert_eq!((n.max_transact_size, n.max_read_size, n.max_write_size), (8_388_608, 8_388_608, 8_388_608));
        assert!(n.security_buffer_length > 0);
        let mut s = SmbServer::default();
        s.record_smb2(&n);
        assert_eq!(s.outcome, SmbOutcome::Smb2);
        assert_eq!(s.capabilities, ["dfs", "leasing", "large_mtu", "multi_channel"]);
        assert_eq!((s.cipher.as_deref(), s.signing_algorithm.as_deref()), (Some("aes-128-gcm"), Some("aes-gmac")));
        // Every cut of the real response is refused, never a panic.
        for end in 0..SMBD_RESPONSE.len() - 4 {
            let _ = parse_message(&unframe(SMBD_RESPONSE)[..end]);
        }
    }

    #[test]
    fn smbds_real_nt1_response_is_smb1_only() {
        let Ok(SmbReply::Smb1(n)) = parse_message(unframe(SMBD_NT1_RESPONSE)) else { panic!("not read") };
        assert_eq!(n.dialect_index, 0);
        let mut s = SmbServer::default();
        s.record_smb1(&n);
        assert_eq!(s.outcome, SmbOutcome::Smb1Only);
        assert_eq!(s.dialect.as_deref(), Some("NT LM 0.12"));
        assert!(n.max_buffer_size.is_some_and(|m| m > 0));
    }

    #[test]
    fn smb1_responses_pick_nt_lm_or_nothing() {
        let mut m = Vec::new();
        m.extend_from_slice(&SMB1_MAGIC);
        m.push(SMB1_COM_NEGOTIATE);
        m.resize(32, 0);
        m.push(17);
        let mut words = vec![0u8; 34];
        words[2] = 0x03 | 0x08;
        words[7..11].copy_from_slice(&16_644u32.to_le_bytes());
        m.extend_from_slice(&words);
        m.extend_from_slice(&0u16.to_le_bytes());
        let Ok(SmbReply::Smb1(n)) = parse_message(&m) else { panic!("{:?}", parse_message(&m)) };
        let mut s = SmbServer::default();
        s.record_smb1(&n);
        assert_eq!(s.outcome, SmbOutcome::Smb1Only);
        assert_eq!(s.signing_required, Some(true));
        assert_eq!(n.max_buffer_size, Some(16_644));
        // "None of these": one word, 0xFFFF.
        let mut none = m[..32].to_vec();
        none.extend_from_slice(&[1, 0xFF, 0xFF, 0, 0]);
        let Ok(SmbReply::Smb1(n)) = parse_message(&none) else { panic!() };
        let mut s = SmbServer::default();
        s.record_smb1(&n);
        assert_eq!(s.outcome, SmbOutcome::NoCommonDialect);
        for end in 0..SMB1_HEADER_LEN + 1 + 23 {
            assert!(parse_message(&m[..end]).is_err(), "prefix of {end} bytes accepted");
        }
    }
}
