//! The web layer: can this machine open websites, or is something in the way?
//!
//! Two kinds of probe, all concurrent and each bounded in time (`web.timeout_ms` for the
//! whole redirect chain), redirects (`web.max_redirects`) and body bytes
//! (`web.max_body_bytes`):
//!
//! - the **connectivity probe**: `GET` of `connectivity_url`, expecting
//!   `connectivity_expect` (status and body), as NetworkManager, Android and Windows NCSI
//!   do (ANCHORS.md e). A redirect to another host, an HTTPS downgrade, HTTP 511 or a 2xx
//!   answer with another status or body is a captive portal (`web.captive_portal`, the
//!   portal's URL in the evidence);
//! - **URL targets** (`--url`): the phases blackbox_exporter reports (DNS, connect, TLS,
//!   first byte, total), the status, the redirect chain and, for HTTPS, the TLS version,
//!   cipher, ALPN and certificate chain.
//!
//! TLS uses rustls with the system trust store (rustls-native-certs) plus `--ca-file`;
//! verification is never disabled: a chain that fails it is evidence (`tls.untrusted`,
//! `tls.expired`, `tls.old_protocol`, ...), not an `Err`. A chain that validates is checked
//! again against Mozilla's public roots alone (webpki-roots): a private CA for a public name
//! is TLS inspection (`tls.intercepted`); an expired or not yet valid chain is checked
//! inside its own validity, and [`blame_clock`] puts it on the local clock when the
//! servers' `Date` headers agree (`time.skew` then comes first). The judge also names a
//! filter's answers (`web.blocked`: 451, or a 403 with a block-page marker) and slow
//! targets (`web.slow`, ChromeOS's HTTPS latency bands). The I/O half (behind `live`) speaks HTTP/1.1 through
//! hyper's client connection over tokio (and tokio-rustls); the pure [`judge`] reads only
//! [`WebEvidence`]. The check runs after `dns` and before `ports` in the graph
//! (`runner::GRAPH`), so a portal is named as the root cause before any port that the
//! portal also blocks. A capture cannot show this layer (`analyze` skips it).
//!
//! Every request goes the way this machine would send it: `platform::proxy` discovers the
//! proxy settings and [`proxy`] keeps the evidence (`via` on each hop) and the proxy
//! verdicts (`web.proxy_auth_required`, `web.proxy_unreachable`); HTTP goes to a proxy as an
//! absolute-form request, HTTPS through `CONNECT` and then TLS to the origin, both inside a
//! TLS connection to the proxy when it is an `https://` one. The proxies a PAC names are
//! each tested (connect, `CONNECT`) before the probes, which use the first that answers.

use std::net::SocketAddr;

use serde::{Deserialize, Serialize};

use crate::check::finding;
use crate::check::ports::{self, FamilyProbe, PortOutcome};
pub use crate::config::without_credentials;
use crate::report::{CheckId, Code, Finding, Severity};
use crate::types::{IpFamily, Timestamp};

#[cfg(feature = "live")]
pub mod any_cert;
pub mod proxy;
pub use proxy::{ProxyReport, Via};

/// Characters of a response body kept in the evidence.
pub const BODY_EXCERPT_CHARS: usize = 200;
/// Certificates of a chain kept in the evidence.
pub const MAX_CHAIN: usize = 8;

/// What the web check saw.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct WebEvidence {
    /// The connectivity probe, when a connectivity URL is configured.
    #[serde(default)]
    pub connectivity: Option<ConnectivityProbe>,
    /// One probe per URL target, in the order given.
    #[serde(default)]
    pub targets: Vec<WebProbe>,
    /// Proxy discovery: the settings found and their sources (`None`: not run).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub proxy: Option<ProxyReport>,
    /// The site's own DNS search domains (resolv.conf `search`/`domain`): names under them
    /// are private, so a private CA for them is not interception (`tls.intercepted`).
    #[serde(default)]
    pub search_domains: Vec<String>,
    /// The latency bands `web.slow` judges the targets by.
    #[serde(default)]
    pub slow: SlowBands,
    /// URL targets whose host has A and AAAA records, also requested over each family
    /// separately ([`UrlFamilies`]); empty when none has both or this machine cannot use
    /// both families.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub families: Vec<UrlFamilies>,
}

/// ChromeOS's HTTPS latency bands (ANCHORS.md), applied to connect + TLS + time to first
/// byte of each URL target (name resolution is not counted, as in ChromeOS).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct SlowBands {
    /// Over this many milliseconds a target is slow ("high" latency).
    pub high_ms: f64,
    /// Over this many milliseconds it is very slow ("very high").
    pub very_high_ms: f64,
}

impl Default for SlowBands {
    fn default() -> Self {
        SlowBands { high_ms: 500.0, very_high_ms: 1000.0 }
    }
}

/// The connectivity probe: the fetch, what was expected, and the verdict.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ConnectivityProbe {
    /// The status expected.
    pub expect_status: u16,
    /// The body expected (trimmed), if one is.
    #[serde(default)]
    pub expect_body: Option<String>,
    /// Whether the final answer's body was the expected one (`None`: no body expected, or
    /// no answer).
    #[serde(default)]
    pub body_matched: Option<bool>,
    /// The fetch itself.
    pub probe: WebProbe,
    /// The verdict ([`assess`] of the above).
    pub state: ConnectivityState,
    /// The portal's URL, when `state` is `portal`.
    #[serde(default)]
    pub portal_url: Option<String>,
}

/// What the connectivity probe says about the network.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ConnectivityState {
    /// The expected answer came back: full connectivity.
    Online,
    /// A captive portal (or a filter) answered instead.
    Portal,
    /// The endpoint answered with an HTTP error.
    HttpError,
    /// The endpoint could not be fetched (DNS, connect, TLS, timeout).
    Unreachable,
}

impl ConnectivityState {
    /// The state as it appears in reports.
    pub fn as_str(self) -> &'static str {
        match self {
            ConnectivityState::Online => "online",
            ConnectivityState::Portal => "portal",
            ConnectivityState::HttpError => "http_error",
            ConnectivityState::Unreachable => "unreachable",
        }
    }
}

/// One URL fetched, with every request of its redirect chain.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WebProbe {
    /// The URL as given.
    pub url: String,
    /// Each request made, in order (the first, then one per redirect followed).
    #[serde(default)]
    pub hops: Vec<HttpHop>,
    /// Why the chain stopped before an answer, if it did for a reason no hop carries.
    #[serde(default)]
    pub error: Option<ProbeError>,
    /// Wall time of the whole probe.
    #[serde(default)]
    pub total_ms: Option<f64>,
}

impl WebProbe {
    /// The last request of the chain.
    pub fn last(&self) -> Option<&HttpHop> {
        self.hops.last()
    }
}

/// Why a probe stopped without its own hop error.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ProbeError {
    /// The kind, as a stable code.
    pub kind: ProbeErrorKind,
    /// Details in words.
    pub message: String,
}

/// The kinds of [`ProbeError`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ProbeErrorKind {
    /// The URL (or a redirect's `Location`) does not parse or has another scheme.
    InvalidUrl,
    /// More redirects than `web.max_redirects`.
    TooManyRedirects,
}

/// One HTTP request and its answer, with the phases blackbox_exporter names.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct HttpHop {
    /// The URL requested.
    pub url: String,
    /// The address connected to.
    #[serde(default)]
    pub address: Option<SocketAddr>,
    /// Name resolution (system resolver); `None` for an address literal.
    #[serde(default)]
    pub dns_ms: Option<f64>,
    /// TCP connect.
    #[serde(default)]
    pub connect_ms: Option<f64>,
    /// TLS handshake (HTTPS only).
    #[serde(default)]
    pub tls_ms: Option<f64>,
    /// From sending the request to the response headers.
    #[serde(default)]
    pub first_byte_ms: Option<f64>,
    /// The whole request, from resolution to the end of the body.
    #[serde(default)]
    pub total_ms: Option<f64>,
    /// The HTTP status.
    #[serde(default)]
    pub status: Option<u16>,
    /// The `Location` header, made absolute against `url`.
    #[serde(default)]
    pub location: Option<String>,
    /// The `Date` header, as sent.
    #[serde(default)]
    pub date: Option<String>,
    /// The `Via` header (RFC 9110 section 7.6.3): the proxies that relayed the answer.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub via_header: Option<String>,
    /// The `X-Squid-Error` header: Squid's own error page (e.g. `ERR_ACCESS_DENIED 0`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub squid_error: Option<String>,
    /// The local clock when the response headers arrived (compared with `date` for
    /// `time.skew`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub received: Option<Timestamp>,
    /// Body bytes received (at most `web.max_body_bytes` are read).
    #[serde(default)]
    pub body_bytes: u64,
    /// Whether the body was longer than `web.max_body_bytes` and cut.
    #[serde(default)]
    pub body_truncated: bool,
    /// The body's start, as text (at most [`BODY_EXCERPT_CHARS`] characters).
    #[serde(default)]
    pub body_excerpt: Option<String>,
    /// The TLS session, for HTTPS.
    #[serde(default)]
    pub tls: Option<TlsInfo>,
    /// What failed, if the request did not complete.
    #[serde(default)]
    pub error: Option<HopError>,
    /// The path the request took: direct, or which proxy (from which setting).
    #[serde(default)]
    pub via: Via,
}

impl HttpHop {
    /// Whether this answer is a redirect with somewhere to go.
    pub fn redirects(&self) -> bool {
        self.error.is_none() && self.status.is_some_and(|s| (300..400).contains(&s)) && self.location.is_some()
    }
}

/// A request that did not complete: in which phase, and why.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HopError {
    /// The phase that failed.
    pub phase: Phase,
    /// Whether it failed by running out of time.
    #[serde(default)]
    pub timeout: bool,
    /// The error in words.
    pub message: String,
}

/// The phases of one request (blackbox_exporter's `phase` label values, plus `body`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Phase {
    /// Name resolution.
    Resolve,
    /// TCP connect.
    Connect,
    /// TLS handshake.
    Tls,
    /// Sending the request and waiting for the response headers.
    Processing,
    /// Reading the body.
    Transfer,
}

impl Phase {
    /// The phase as it appears in reports and metrics.
    pub fn as_str(self) -> &'static str {
        match self {
            Phase::Resolve => "resolve",
            Phase::Connect => "connect",
            Phase::Tls => "tls",
            Phase::Processing => "processing",
            Phase::Transfer => "transfer",
        }
    }
}

/// The TLS session of an HTTPS request.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct TlsInfo {
    /// The verdict on the handshake and the certificate.
    pub verdict: TlsVerdict,
    /// The protocol version negotiated, e.g. `TLSv1_3`.
    #[serde(default)]
    pub version: Option<String>,
    /// The cipher suite negotiated.
    #[serde(default)]
    pub cipher: Option<String>,
    /// The ALPN protocol agreed, if any.
    #[serde(default)]
    pub alpn: Option<String>,
    /// The chain the server sent, leaf first (at most [`MAX_CHAIN`]).
    #[serde(default)]
    pub chain: Vec<CertInfo>,
    /// The handshake or verification error, in words.
    #[serde(default)]
    pub error: Option<String>,
    /// Whether a chain that validated also validates against the public root set
    /// (Mozilla's, as the webpki-roots crate ships it); `false`: only through a CA of the
    /// system store or `--ca-file` that is not public. `None`: not checked.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub public_root: Option<bool>,
    /// The local clock when the chain was checked.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub checked_at: Option<Timestamp>,
    /// For an expired or not yet valid chain: whether it validates at a time inside its
    /// validity (everything but the time is right). `None`: not checked.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub valid_in_period: Option<bool>,
    /// Set when this computer's clock, not the certificate, explains the verdict
    /// ([`blame_clock`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub clock: Option<ClockBlame>,
}

/// Why an expired or not yet valid chain is the clock's fault.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ClockBlame {
    /// The local clock minus the servers' clocks (the median of their `Date` headers), in
    /// seconds, when the servers' time lies inside the chain's validity; `None` without a
    /// `Date` header.
    #[serde(default)]
    pub skew_s: Option<f64>,
    /// Without a `Date` header, for a not yet valid chain: the local clock is at least this
    /// many seconds behind (the latest `notBefore` of the chain minus `checked_at`).
    #[serde(default)]
    pub behind_at_least_s: Option<f64>,
}

/// How a TLS handshake ended.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TlsVerdict {
    /// Handshake done, chain valid for the name.
    #[default]
    Ok,
    /// The chain does not lead to a trusted CA.
    Untrusted,
    /// The certificate has expired.
    Expired,
    /// The certificate is not valid yet.
    NotYetValid,
    /// The certificate is for another name.
    HostnameMismatch,
    /// The handshake failed otherwise (reset, alert, no common parameters).
    HandshakeFailed,
    /// The server speaks only TLS 1.0/1.1 (a `protocol_version` alert, or a ServerHello
    /// with an old version), which rustls refuses.
    OldProtocol,
}

impl TlsVerdict {
    /// The finding code for a failed verdict.
    pub fn code(self) -> Option<Code> {
        match self {
            TlsVerdict::Ok => None,
            TlsVerdict::Untrusted => Some(Code::TlsUntrusted),
            TlsVerdict::Expired => Some(Code::TlsExpired),
            TlsVerdict::NotYetValid => Some(Code::TlsNotYetValid),
            TlsVerdict::HostnameMismatch => Some(Code::TlsHostnameMismatch),
            TlsVerdict::HandshakeFailed => Some(Code::TlsHandshakeFailed),
            TlsVerdict::OldProtocol => Some(Code::TlsOldProtocol),
        }
    }
}

/// One certificate of a chain, as far as a technician needs it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CertInfo {
    /// The subject's distinguished name.
    pub subject: String,
    /// The issuer's distinguished name.
    pub issuer: String,
    /// DNS names and addresses of the subject alternative name extension.
    #[serde(default)]
    pub sans: Vec<String>,
    /// Start of validity.
    #[serde(default)]
    pub not_before: Option<Timestamp>,
    /// End of validity.
    #[serde(default)]
    pub not_after: Option<Timestamp>,
}

/// The scheme and host (lower case, without port or user) of an absolute URL (pure; `None`
/// when it is not `scheme://host...`).
pub fn scheme_host(url: &str) -> Option<(String, String)> {
    let (scheme, rest) = url.split_once("://")?;
    let authority = rest.split(['/', '?', '#']).next()?;
    let host_port = authority.rsplit('@').next()?;
    let host =
        if let Some(v6) = host_port.strip_prefix('[') { v6.split(']').next()? } else { host_port.split(':').next()? };
    (!host.is_empty()).then(|| (scheme.to_ascii_lowercase(), host.to_ascii_lowercase()))
}

/// Judges a connectivity probe (pure): the state and, for a portal, its URL.
///
/// In order: a redirect to another host or from `https` to `http` is a portal (its target
/// is the portal's URL); a chain that ended without an answer is `unreachable`; the
/// expected status with the expected body (or any body when none is expected) is `online`;
/// HTTP 511 (Network Authentication Required, RFC 6585) or any other 1xx-3xx answer, or a
/// 2xx with the wrong body, is a portal (the URL that answered); any other 4xx/5xx is an
/// `http_error`.
pub fn assess(probe: &WebProbe, expect_status: u16, body_matched: Option<bool>) -> (ConnectivityState, Option<String>) {
    let origin = scheme_host(&probe.url);
    for hop in probe.hops.iter().filter(|h| h.redirects()) {
        let Some(location) = &hop.location else { continue };
        let (Some((from_scheme, from_host)), Some((to_scheme, to_host))) = (&origin, scheme_host(location)) else {
            continue;
        };
        if to_host != *from_host || (from_scheme == "https" && to_scheme == "http") {
            return (ConnectivityState::Portal, Some(location.clone()));
        }
    }
    let Some(last) = probe.last() else { return (ConnectivityState::Unreachable, None) };
    let Some(status) =
        last.status.filter(|_| last.error.is_none() || last.error.as_ref().is_some_and(|e| e.phase == Phase::Transfer))
    else {
        return (ConnectivityState::Unreachable, None);
    };
    if status == expect_status && body_matched != Some(false) {
        return (ConnectivityState::Online, None);
    }
    match status {
        511 | 100..=399 => (ConnectivityState::Portal, Some(last.location.clone().unwrap_or_else(|| last.url.clone()))),
        _ => (ConnectivityState::HttpError, None),
    }
}

/// Judges the web evidence (pure): the connectivity verdict, each target's status, TLS
/// verdicts (interception included), slow targets and the clock, one verdict per probe.
///
/// A TLS failure that [`blame_clock`] put on this computer's clock is preceded by the
/// `time.skew` finding (a failure then, whatever its size), so the diagnosis names the
/// clock, not the certificate.
pub fn judge(ev: &WebEvidence) -> Vec<Finding> {
    let mut findings = Vec::new();
    let fail = |code, message: String| finding(CheckId::Web, code, Severity::Fail, message);
    // Where the first TLS failure the clock explains was pushed: the skew goes before it.
    let mut clock_at: Option<usize> = None;
    let mut push_tls = |findings: &mut Vec<Finding>, probe: &WebProbe| -> bool {
        let Some((f, clock)) = tls_finding(probe) else { return false };
        if clock && clock_at.is_none() {
            clock_at = Some(findings.len());
        }
        findings.push(f);
        true
    };
    findings.extend(ev.proxy.as_ref().and_then(proxy::pac_finding));
    if let Some(c) = &ev.connectivity
        && let Some(f) = proxy::proxy_finding(&c.probe)
    {
        findings.push(f);
    } else if let Some(c) = &ev.connectivity {
        let tls_failed = push_tls(&mut findings, &c.probe);
        findings.extend(intercepted_finding(&c.probe, &ev.search_domains));
        let (state, portal) = assess(&c.probe, c.expect_status, c.body_matched);
        let got = c.probe.last().and_then(|h| h.status).map_or("no answer".to_string(), |s| format!("HTTP {s}"));
        match state {
            ConnectivityState::Online => {}
            ConnectivityState::Portal => findings.push(fail(
                Code::WebCaptivePortal,
                format!(
                    "connectivity check {} answered {got} instead of HTTP {}{}: a captive portal at {}",
                    c.probe.url,
                    c.expect_status,
                    if c.body_matched == Some(false) { " with the expected body" } else { "" },
                    portal.as_deref().unwrap_or(&c.probe.url)
                ),
            )),
            ConnectivityState::HttpError => findings.push(match c.probe.last().and_then(block_marker) {
                Some(marker) => {
                    fail(Code::WebBlocked, format!("connectivity check {} answered {got}: {marker}", c.probe.url))
                }
                None => fail(Code::WebHttpError, format!("connectivity check {} answered {got}", c.probe.url)),
            }),
            // A TLS failure already says why (an `https://` connectivity URL).
            ConnectivityState::Unreachable if tls_failed => {}
            ConnectivityState::Unreachable => findings.extend(unreachable_finding(&c.probe)),
        }
    }
    for probe in &ev.targets {
        if let Some(f) = proxy::proxy_finding(probe) {
            findings.push(f);
            continue;
        }
        if push_tls(&mut findings, probe) {
            continue;
        }
        findings.extend(intercepted_finding(probe, &ev.search_domains));
        if let Some(e) = &probe.error {
            let code = match e.kind {
                ProbeErrorKind::TooManyRedirects => Code::WebHttpError,
                ProbeErrorKind::InvalidUrl => Code::ToolCheckError,
            };
            let severity = if code == Code::ToolCheckError { Severity::Warn } else { Severity::Fail };
            findings.push(finding(CheckId::Web, code, severity, format!("{}: {}", probe.url, e.message)));
            continue;
        }
        match probe.last().and_then(|h| h.status) {
            Some(status) if status >= 400 => {
                let last = probe.last().map_or(probe.url.as_str(), |h| h.url.as_str());
                findings.push(match probe.last().and_then(block_marker) {
                    Some(marker) => {
                        fail(Code::WebBlocked, format!("{} answered HTTP {status} (at {last}): {marker}", probe.url))
                    }
                    None => fail(Code::WebHttpError, format!("{} answered HTTP {status} (at {last})", probe.url)),
                });
            }
            Some(_) => findings.extend(slow_finding(probe, ev.slow)),
            // Reached over the other family: the family verdict names what fails.
            None if ev.families.iter().any(|u| u.url == probe.url && u.answered()) => {}
            None => findings.extend(unreachable_finding(probe)),
        }
    }
    findings.extend(family_findings(ev));
    if let Some(mut skew) = skew_finding(ev) {
        match clock_at {
            Some(at) => {
                skew.severity = Severity::Fail;
                findings.insert(at, skew);
            }
            None => findings.push(skew),
        }
    }
    findings
}

/// Why an answer with this status came from a filter rather than the target (pure):
/// HTTP 451 always (RFC 7725: unavailable for legal reasons); a 403 only with a block-page
/// marker: Squid's `X-Squid-Error` header, or a `Via` header naming a filtering proxy
/// ([`FILTER_VIA`]). `None`: the target's own answer.
pub fn block_marker(hop: &HttpHop) -> Option<String> {
    match hop.status? {
        451 => Some("HTTP 451, unavailable for legal reasons (RFC 7725)".into()),
        403 => {
            if let Some(e) = &hop.squid_error {
                return Some(format!("a proxy's block page (X-Squid-Error: {e})"));
            }
            let via = hop.via_header.as_deref()?;
            let lower = via.to_ascii_lowercase();
            FILTER_VIA.iter().any(|p| lower.contains(p)).then(|| format!("refused by a filtering proxy (Via: {via})"))
        }
        _ => None,
    }
}

/// Products named in a `Via` header that filter web traffic (lower case): a 403 relayed
/// through one of them is treated as the filter's. Other proxies and CDNs (Varnish,
/// CloudFront) relay their origin's 403s and do not count.
pub const FILTER_VIA: &[&str] =
    &["squid", "bluecoat", "proxysg", "zscaler", "fortigate", "fortiproxy", "mcafee web gateway", "websense", "sophos"];

/// Connect + TLS + time to first byte of one request, in ms (`None` without a connect and
/// a first byte).
pub fn hop_latency_ms(hop: &HttpHop) -> Option<f64> {
    Some(hop.connect_ms? + hop.tls_ms.unwrap_or(0.0) + hop.first_byte_ms?)
}

/// `web.slow` for a target whose slowest request is over the bands (a warning).
fn slow_finding(probe: &WebProbe, bands: SlowBands) -> Option<Finding> {
    let (hop, ms) =
        probe.hops.iter().filter_map(|h| hop_latency_ms(h).map(|ms| (h, ms))).max_by(|a, b| a.1.total_cmp(&b.1))?;
    let band = if ms > bands.very_high_ms {
        format!("very high, over {:.0} ms", bands.very_high_ms)
    } else if ms > bands.high_ms {
        format!("high, over {:.0} ms", bands.high_ms)
    } else {
        return None;
    };
    Some(finding(
        CheckId::Web,
        Code::WebSlow,
        Severity::Warn,
        format!("{}: connect, TLS and first byte took {ms:.0} ms ({band}; ChromeOS's HTTPS latency bands)", hop.url),
    ))
}

/// Top-level DNS names (and special-use zones) that are never public: RFC 6761/6762
/// (`test`, `local`, `localhost`, `invalid`), RFC 8375 (`home.arpa`), ICANN's `internal`,
/// and the private names RFC 6762 appendix G lists as in common use.
pub const PRIVATE_ZONES: &[&str] =
    &["test", "local", "localhost", "invalid", "internal", "intranet", "private", "corp", "home", "lan", "home.arpa"];

/// Whether `host` is a public DNS name (pure): not an address literal, not a single label,
/// not under a [`PRIVATE_ZONES`] zone nor under one of the site's `search_domains`.
pub fn is_public_name(host: &str, search_domains: &[String]) -> bool {
    let host = host.trim_end_matches('.').to_ascii_lowercase();
    let bare = host.trim_start_matches('[').trim_end_matches(']');
    if bare.parse::<std::net::IpAddr>().is_ok() || !host.contains('.') {
        return false;
    }
    let under = |zone: &str| {
        let zone = zone.trim_matches('.').to_ascii_lowercase();
        !zone.is_empty() && (host == zone || host.ends_with(&format!(".{zone}")))
    };
    !PRIVATE_ZONES.iter().any(|z| under(z)) && !search_domains.iter().any(|d| under(d))
}

/// The CA a chain leads to, as named by its top certificate's issuer.
fn anchor_name(tls: &TlsInfo) -> Option<&str> {
    tls.chain.last().map(|c| c.issuer.as_str())
}

/// `tls.intercepted` (a warning): a chain that validated, only through a CA outside the
/// public root set, for a public name.
fn intercepted_finding(probe: &WebProbe, search_domains: &[String]) -> Option<Finding> {
    probe.hops.iter().find_map(|hop| {
        let tls = hop.tls.as_ref()?;
        if tls.verdict != TlsVerdict::Ok || tls.public_root != Some(false) {
            return None;
        }
        let (_, host) = scheme_host(&hop.url)?;
        if !is_public_name(&host, search_domains) {
            return None;
        }
        let issuer = anchor_name(tls).unwrap_or("an unnamed CA");
        Some(finding(
            CheckId::Web,
            Code::TlsIntercepted,
            Severity::Warn,
            format!(
                "{}: the public name's chain is issued by {issuer}, a CA outside the public root set: TLS inspection",
                hop.url
            ),
        ))
    })
}

/// Skew over which `time.skew` warns, in seconds (1 minute).
pub const SKEW_WARN_S: f64 = 60.0;
/// Skew over which `time.skew` fails, in seconds: 5 minutes, Kerberos' default tolerance
/// (MIT krb5 `clockskew = 300`).
pub const SKEW_FAIL_S: f64 = 300.0;

/// The local clock minus the server's `Date` of one answer, in seconds (positive: the local
/// clock is ahead). `None` without both times or with a `Date` that does not parse.
pub fn hop_skew_s(hop: &HttpHop) -> Option<f64> {
    let server = parse_http_date(hop.date.as_deref()?)?;
    let local = hop.received?.0.duration_since(std::time::UNIX_EPOCH).ok()?.as_secs_f64();
    Some(local - server as f64)
}

/// The median clock skew over the servers (the skew of each `host:port`'s first answer,
/// each counted once; with an even count the smaller middle one, so one of two does not
/// decide): (the server at the median, its skew, the number of servers).
pub fn median_skew(ev: &WebEvidence) -> Option<(String, f64, usize)> {
    let mut per_host: Vec<(String, f64)> = Vec::new();
    let probes = ev.connectivity.iter().map(|c| &c.probe).chain(ev.targets.iter());
    for hop in probes.flat_map(|p| p.hops.iter()) {
        let Some(skew) = hop_skew_s(hop) else { continue };
        let after_scheme = hop.url.split_once("://").map_or(hop.url.as_str(), |(_, rest)| rest);
        let host = after_scheme.split(['/', '?', '#']).next().unwrap_or_default().to_string();
        if !per_host.iter().any(|(h, _)| *h == host) {
            per_host.push((host, skew));
        }
    }
    if per_host.is_empty() {
        return None;
    }
    per_host.sort_by(|a, b| a.1.abs().total_cmp(&b.1.abs()));
    let count = per_host.len();
    let (host, median) = per_host.swap_remove((count - 1) / 2);
    Some((host, median, count))
}

fn skew_finding(ev: &WebEvidence) -> Option<Finding> {
    let (host, median, count) = median_skew(ev)?;
    let severity = if median.abs() > SKEW_FAIL_S {
        Severity::Fail
    } else if median.abs() > SKEW_WARN_S {
        Severity::Warn
    } else {
        return None;
    };
    let way = if median > 0.0 { "ahead of" } else { "behind" };
    Some(finding(
        CheckId::Web,
        Code::TimeSkew,
        severity,
        format!(
            "the local clock is {:.0} s {way} the servers' Date headers (median of {count} servers; {host} says so); Kerberos allows 300 s",
            median.abs(),
        ),
    ))
}

/// Seconds since the Unix epoch of a timestamp (negative before 1970).
fn epoch_s(t: Timestamp) -> f64 {
    match t.0.duration_since(std::time::UNIX_EPOCH) {
        Ok(d) => d.as_secs_f64(),
        Err(e) => -e.duration().as_secs_f64(),
    }
}

/// The validity all certificates of a chain share: (latest `notBefore`, earliest
/// `notAfter`), in seconds since the epoch.
fn chain_period(chain: &[CertInfo]) -> Option<(f64, f64)> {
    let start = chain.iter().filter_map(|c| c.not_before.map(epoch_s)).reduce(f64::max)?;
    let end = chain.iter().filter_map(|c| c.not_after.map(epoch_s)).reduce(f64::min)?;
    Some((start, end))
}

/// Puts expired and not yet valid chains on the clock where the evidence says so (pure;
/// fills `TlsInfo::clock`, which [`judge`] reads). A chain that validates inside its own
/// validity (`valid_in_period`) is the clock's fault when the servers' time (the local
/// clock at `checked_at` minus the [`median_skew`] of the `Date` headers) lies inside that
/// validity; without any `Date` header, a not yet valid chain gives a lower bound of how
/// far the clock is behind.
pub fn blame_clock(ev: &mut WebEvidence) {
    let median = median_skew(ev).map(|(_, skew, _)| skew);
    let probes = ev.connectivity.iter_mut().map(|c| &mut c.probe).chain(ev.targets.iter_mut());
    for tls in probes.flat_map(|p| p.hops.iter_mut()).filter_map(|h| h.tls.as_mut()) {
        if !matches!(tls.verdict, TlsVerdict::Expired | TlsVerdict::NotYetValid) || tls.valid_in_period != Some(true) {
            continue;
        }
        let (Some(checked), Some((start, end))) = (tls.checked_at.map(epoch_s), chain_period(&tls.chain)) else {
            continue;
        };
        tls.clock = match median {
            Some(skew) => {
                let servers = checked - skew;
                (start <= servers && servers <= end)
                    .then_some(ClockBlame { skew_s: Some(skew), behind_at_least_s: None })
            }
            None if tls.verdict == TlsVerdict::NotYetValid && start > checked => {
                Some(ClockBlame { skew_s: None, behind_at_least_s: Some((start - checked).ceil()) })
            }
            None => None,
        };
    }
}

/// Seconds since the Unix epoch of an HTTP `Date` in the IMF-fixdate form RFC 9110
/// section 5.6.7 requires senders to use (`Sun, 06 Nov 1994 08:49:37 GMT`); `None` for
/// anything else.
pub fn parse_http_date(text: &str) -> Option<i64> {
    let mut parts = text.split_ascii_whitespace();
    let _weekday = parts.next()?.strip_suffix(',')?;
    let day: i64 = parts.next()?.parse().ok()?;
    const MONTHS: [&str; 12] = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];
    let month_name = parts.next()?;
    let month = MONTHS.iter().position(|m| *m == month_name)? as i64 + 1;
    let year: i64 = parts.next()?.parse().ok()?;
    let mut hms = parts.next()?.split(':').map(|x| x.parse::<i64>().ok());
    let (h, mi, sec) = (hms.next()??, hms.next()??, hms.next()??);
    if parts.next()? != "GMT" || parts.next().is_some() || hms.next().is_some() {
        return None;
    }
    if !(1..=31).contains(&day) || !(0..24).contains(&h) || !(0..60).contains(&mi) || !(0..=60).contains(&sec) {
        return None;
    }
    if !(1900..=9999).contains(&year) {
        return None;
    }
    // Days from the civil date (Howard Hinnant's algorithm).
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (month + 9) % 12;
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    Some(days * 86_400 + h * 3600 + mi * 60 + sec)
}

/// The first failed TLS verdict of a probe, and whether [`blame_clock`] put it on the
/// clock.
fn tls_finding(probe: &WebProbe) -> Option<(Finding, bool)> {
    probe.hops.iter().find_map(|hop| {
        let tls = hop.tls.as_ref()?;
        let code = tls.verdict.code()?;
        let issuer = anchor_name(tls).map(|i| format!("; issuer {i}")).unwrap_or_default();
        let why = tls.error.as_deref().unwrap_or("handshake failed");
        let clock = match &tls.clock {
            Some(ClockBlame { skew_s: Some(s), .. }) => format!(
                "; the certificate is valid at the servers' time: this computer's clock is {:.0} s {}",
                s.abs(),
                if *s > 0.0 { "ahead" } else { "behind" }
            ),
            Some(ClockBlame { behind_at_least_s: Some(s), .. }) => {
                format!("; this computer's clock is at least {s:.0} s behind, or the certificate was issued early")
            }
            _ => String::new(),
        };
        let blamed = tls.clock.as_ref().is_some_and(|c| c.skew_s.is_some());
        Some((finding(CheckId::Web, code, Severity::Fail, format!("{}: {why}{issuer}{clock}", hop.url)), blamed))
    })
}

fn unreachable_finding(probe: &WebProbe) -> Option<Finding> {
    let hop = probe.last();
    let detail = match hop.and_then(|h| h.error.as_ref()) {
        Some(e) => format!("{} failed{}: {}", e.phase.as_str(), if e.timeout { " (timeout)" } else { "" }, e.message),
        None => "no request was made".into(),
    };
    Some(finding(CheckId::Web, Code::WebUnreachable, Severity::Fail, format!("{}: {detail}", probe.url)))
}

/// A URL target whose host has both A and AAAA records, requested once over each family
/// (as the ports check connects to such a name): a target `targets[]` reaches over IPv4
/// may still be broken over IPv6, which a browser tries first.
///
/// Only direct requests (a proxy connects for the client), only when this machine could
/// use either family (an IPv4 address, and a usable IPv6 address of global scope: glibc's
/// `AI_ADDRCONFIG` rule), the first address of each family the system resolver gives, and
/// the first request only (no redirect followed).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct UrlFamilies {
    /// The URL target, as in `targets[].url`.
    pub url: String,
    /// One request per family, IPv4 first.
    pub attempts: Vec<WebFamilyAttempt>,
}

/// One family's request to a URL target: in the ports check's terms (the family, the
/// address, how it ended, its time), so the one per-family judge
/// ([`crate::check::ports::judge_families`]) reads both checks.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WebFamilyAttempt {
    /// The family, address and outcome: `open` when an HTTP answer came back (any status),
    /// `filtered` when the request ran out of time in any phase (a path that drops the
    /// packets, or only the large ones), `refused` or `unreachable` when the connect ended
    /// so, `local_error` when it failed otherwise (TLS, HTTP: a fault of the server, not of
    /// the path); `ms` is the whole request; `mss` the connection's segment size.
    #[serde(flatten)]
    pub attempt: FamilyProbe,
    /// The HTTP status of the answer.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<u16>,
    /// The phase the request stopped in, when it did not complete.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub failed_phase: Option<Phase>,
}

impl UrlFamilies {
    /// Whether some family got an HTTP answer: the URL is reachable to a dual-stack client
    /// even when the request `targets[]` made (IPv4 first) failed.
    pub fn answered(&self) -> bool {
        self.attempts.iter().any(|a| a.attempt.outcome == PortOutcome::Open)
    }
}

/// How one family's request ended, in the ports check's terms (pure): see
/// [`WebFamilyAttempt::attempt`]. `connect` is how the TCP connect ended, when it was tried.
pub fn family_outcome(hop: &HttpHop, connect: Option<PortOutcome>) -> PortOutcome {
    match (&hop.error, hop.status, connect) {
        (None, Some(_), _) => PortOutcome::Open,
        (Some(e), _, _) if e.timeout => PortOutcome::Filtered,
        (_, _, Some(c)) if c != PortOutcome::Open => c,
        // An answer whose body then failed still came over this family.
        (Some(e), Some(_), _) if e.phase == Phase::Transfer => PortOutcome::Open,
        _ => PortOutcome::LocalError,
    }
}

/// One family's request as evidence (pure): the outcome of [`family_outcome`], the status,
/// the phase it stopped in, and `mss` (read on the request's own socket).
pub fn family_attempt(hop: &HttpHop, connect: Option<PortOutcome>, mss: Option<u32>) -> Option<WebFamilyAttempt> {
    let address = hop.address?;
    let outcome = family_outcome(hop, connect);
    Some(WebFamilyAttempt {
        attempt: FamilyProbe {
            family: IpFamily::of(address.ip()),
            address,
            outcome,
            ms: hop.total_ms,
            error: hop.error.as_ref().map(|e| format!("{}: {}", e.phase.as_str(), e.message)),
            mss,
        },
        status: hop.status,
        failed_phase: hop.error.as_ref().map(|e| e.phase),
    })
}

/// The per-family verdicts of the URL targets (`ipv6.broken`, `ipv4.broken`): the ports
/// check's own rule ([`crate::check::ports::judge_families`]), in the web layer.
fn family_findings(ev: &WebEvidence) -> Vec<Finding> {
    let attempts: Vec<(&str, Vec<FamilyProbe>)> =
        ev.families.iter().map(|u| (u.url.as_str(), u.attempts.iter().map(|a| a.attempt.clone()).collect())).collect();
    ports::judge_families(CheckId::Web, attempts.iter().map(|(url, a)| (*url, a.as_slice())))
}

/// The search domains of resolv.conf text (pure): the last `search` or `domain` line wins,
/// as in glibc; at most 6 names, lower case, without the trailing dot.
pub fn search_domains(resolv_conf: &str) -> Vec<String> {
    let mut found = Vec::new();
    for line in resolv_conf.lines() {
        let mut words = line.split_ascii_whitespace();
        if matches!(words.next(), Some("search" | "domain")) {
            found =
                words.take(6).map(|w| w.trim_end_matches('.').to_ascii_lowercase()).filter(|w| !w.is_empty()).collect();
        }
    }
    found
}

#[cfg(feature = "live")]
pub(crate) use live::probe_urls;
#[cfg(feature = "live")]
pub(crate) use live::roots;
// A certificate's details, also for the rdp profile's TLS handshake.
#[cfg(feature = "live")]
pub(crate) use live::cert_info;
#[cfg(feature = "live")]
pub use live::run;

#[cfg(feature = "live")]
mod live {
    //! The I/O half: resolution, TCP, TLS and HTTP/1.1 with phase timings.

    use std::net::{IpAddr, SocketAddr};
    use std::path::Path;
    use std::sync::{Arc, Mutex};
    use std::time::{Duration, Instant, SystemTime};

    use http_body_util::{BodyExt, Empty};
    use hyper::header::{ACCEPT, CONNECTION, DATE, HOST, LOCATION, PROXY_AUTHORIZATION, USER_AGENT, VIA};
    use hyper_util::rt::TokioIo;
    use rustls::client::WebPkiServerVerifier;
    use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
    use rustls::crypto::CryptoProvider;
    use rustls::pki_types::pem::PemObject;
    use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
    use rustls::{CertificateError, DigitallySignedStruct, RootCertStore, SignatureScheme};
    use tokio::io::{AsyncRead, AsyncWrite};
    use tokio::net::TcpStream;
    use url::{Host, Url};

    use super::*;
    use crate::check::{CheckContext, CheckError, Outcome};
    use crate::config::WebSettings;
    use crate::platform::proxy::{PacProxyStatus, PacProxyTest, ProxyPlan, ProxyServer, Route};
    use crate::report::{Evidence, SkipReason};
    use crate::types::millis;

    /// Runs the web check.
    pub async fn run(ctx: &CheckContext<'_>) -> Result<Outcome, CheckError> {
        let web = &ctx.config.web;
        if web.connectivity_url.is_none() && web.urls.is_empty() {
            return Ok(Outcome::Skipped {
                code: SkipReason::NoUrls,
                reason: "no connectivity URL and no URL targets configured (give --connectivity-url or --url)".into(),
                blocked_by: None,
                evidence: Evidence::None,
            });
        }
        let (client, proxy_report) = discovered_client(ctx, web).await?;
        let connectivity = async {
            let url = web.connectivity_url.as_ref()?;
            let (probe, body) = client.probe(url).await;
            let expect = &web.connectivity_expect;
            let body_matched = match (&expect.body, &body) {
                (Some(want), Some(got)) => Some(String::from_utf8_lossy(got).trim() == want.trim()),
                _ => None,
            };
            let (state, portal_url) = assess(&probe, expect.status, body_matched);
            Some(ConnectivityProbe {
                expect_status: expect.status,
                expect_body: expect.body.clone(),
                body_matched,
                probe,
                state,
                portal_url,
            })
        };
        let targets = futures::future::join_all(web.urls.iter().map(|u| async { client.probe(u).await.0 }));
        let usable = ports::usable_families(ctx);
        let families = futures::future::join_all(web.urls.iter().map(|u| client.probe_families(u, usable)));
        let (connectivity, targets, families) = futures::join!(connectivity, targets, families);
        let families = families.into_iter().flatten().collect();
        // A small local file, read once (as the dns check reads it).
        let search = match std::fs::read(&ctx.config.dns.resolv_conf) {
            Ok(bytes) => search_domains(&String::from_utf8_lossy(&bytes[..bytes.len().min(64 * 1024)])),
            Err(e) => {
                tracing::debug!(error = %e, path = %ctx.config.dns.resolv_conf.display(), "no search domains");
                Vec::new()
            }
        };
        let slow = SlowBands { high_ms: web.slow_ms as f64, very_high_ms: web.very_slow_ms as f64 };
        let mut ev =
            WebEvidence { connectivity, targets, search_domains: search, slow, proxy: Some(proxy_report), families };
        blame_clock(&mut ev);
        Ok(Outcome::Ran { findings: judge(&ev), evidence: Evidence::Web(Box::new(ev)) })
    }

    /// A client that sends every request the way this machine would: the proxy settings
    /// discovered (`platform::proxy`), a PAC fetched and its proxies tested. Shared by the
    /// web check and the profiles that go through the web layer ([`probe_urls`]).
    async fn discovered_client<'a>(
        ctx: &CheckContext<'_>,
        web: &'a WebSettings,
    ) -> Result<(Client<'a>, ProxyReport), CheckError> {
        let mut client = Client::new(web)?;
        let (plan, mut proxy_report, pac) = proxy::live::discover(web, ctx.facts).await;
        client.plan = plan;
        if let Some((pac_url, source)) = pac {
            // The PAC itself is fetched directly, as browsers do, bounded in bytes and time.
            let pac_settings = WebSettings {
                max_body_bytes: proxy::MAX_PAC_BYTES,
                max_redirects: 2,
                timeout_ms: web.timeout_ms.min(proxy::PAC_TIMEOUT_MS),
                ..web.clone()
            };
            let pac_client = Client::new(&pac_settings)?;
            let (fetched, body) = pac_client.probe(&pac_url).await;
            let last = fetched.last();
            let ok = last.is_some_and(|h| h.status == Some(200) && h.error.is_none() && !h.body_truncated);
            let error = (!ok).then(|| match (last, &fetched.error) {
                (_, Some(e)) => e.message.clone(),
                (Some(h), None) if h.body_truncated => format!("larger than {} bytes", proxy::MAX_PAC_BYTES),
                (Some(h), None) => match (&h.error, h.status) {
                    (Some(e), _) => format!("{} failed: {}", e.phase.as_str(), e.message),
                    (None, Some(s)) => format!("HTTP {s}"),
                    (None, None) => "no answer".into(),
                },
                (None, None) => "no request was made".into(),
            });
            let body = body.filter(|_| ok);
            if proxy::use_pac(&mut client.plan, &mut proxy_report, &pac_url, source, body.as_deref(), error) {
                // Every proxy the PAC names is tested, concurrently and bounded.
                let named = proxy_report.discovery.pac.as_ref().and_then(|p| p.scan.as_ref());
                let servers: Vec<ProxyServer> = named
                    .map(|s| s.proxies.iter().filter_map(|p| ProxyServer::parse(p).ok()).collect())
                    .unwrap_or_default();
                let wanted = web.connectivity_url.iter().chain(&web.urls).map(String::as_str);
                let tests = match proxy::test_authority(wanted) {
                    Some(authority) => {
                        futures::future::join_all(servers.iter().map(|s| client.test_proxy(s, &authority))).await
                    }
                    None => Vec::new(),
                };
                proxy::use_proxy_tests(&mut client.plan, &mut proxy_report, tests);
            }
        }
        Ok((client, proxy_report))
    }

    /// Fetches each of `web.urls` as the web check does (the proxy this machine uses, DNS,
    /// TCP, TLS and a GET, within `web`'s timeout, redirects and body bounds), at once, in
    /// order; also the proxy discovery's report. `public_ca_file`: the CAs a validated chain
    /// must also lead to for [`TlsInfo::public_root`] (`None`: Mozilla's public roots, as
    /// the web check). For the service profiles that test endpoints through the web layer
    /// (`check::m365`).
    pub(crate) async fn probe_urls(
        ctx: &CheckContext<'_>,
        web: &WebSettings,
        public_ca_file: Option<&Path>,
    ) -> Result<(Vec<WebProbe>, ProxyReport), CheckError> {
        let (mut client, proxy_report) = discovered_client(ctx, web).await?;
        if let Some(path) = public_ca_file {
            let roots = pem_roots(path)?;
            let verifier = WebPkiServerVerifier::builder_with_provider(Arc::new(roots), Arc::clone(&client.provider))
                .build()
                .map_err(|e| CheckError::CaFile { path: path.to_path_buf(), reason: e.to_string() })?;
            client.public = Some(verifier);
        }
        let probes = futures::future::join_all(web.urls.iter().map(|u| async { client.probe(u).await.0 })).await;
        Ok((probes, proxy_report))
    }

    /// Loads the trust anchors: the system's store and the `--ca-file`.
    pub(crate) fn roots(ca_file: Option<&Path>) -> Result<RootCertStore, CheckError> {
        let mut roots = RootCertStore::empty();
        let native = rustls_native_certs::load_native_certs();
        for e in &native.errors {
            tracing::debug!(error = %e, "system trust store entry not loaded");
        }
        let (added, ignored) = roots.add_parsable_certificates(native.certs);
        tracing::debug!(added, ignored, "system trust store loaded");
        if let Some(path) = ca_file {
            roots.roots.extend(pem_roots(path)?.roots);
        }
        Ok(roots)
    }

    /// The CA certificates of a PEM file; `Err` when it cannot be read or holds none.
    fn pem_roots(path: &Path) -> Result<RootCertStore, CheckError> {
        let mut roots = RootCertStore::empty();
        let certs = CertificateDer::pem_file_iter(path)
            .and_then(|it| it.collect::<Result<Vec<_>, _>>())
            .map_err(|e| CheckError::CaFile { path: path.to_path_buf(), reason: e.to_string() })?;
        let (added, _) = roots.add_parsable_certificates(certs);
        if added == 0 {
            return Err(CheckError::CaFile { path: path.to_path_buf(), reason: "holds no CA certificate".into() });
        }
        Ok(roots)
    }

    struct Client<'a> {
        settings: &'a WebSettings,
        provider: Arc<CryptoProvider>,
        verifier: Option<Arc<WebPkiServerVerifier>>,
        /// Mozilla's root set alone (webpki-roots): a chain the system store accepts and
        /// this one does not leads to a private CA (`tls.intercepted` for a public name).
        public: Option<Arc<WebPkiServerVerifier>>,
        /// Which proxy each URL goes through (none until discovery sets it).
        plan: ProxyPlan,
    }

    /// A byte stream to the origin or a proxy.
    trait Io: AsyncRead + AsyncWrite + Unpin + Send {}
    impl<T: AsyncRead + AsyncWrite + Unpin + Send> Io for T {}

    /// The connection to a proxy: plain TCP, or TLS over it (an `https://` proxy).
    type ProxyStream = Box<dyn Io>;

    /// Aborts the connection task when the request is done or dropped (timeout).
    struct AbortOnDrop(tokio::task::JoinHandle<()>);

    impl Drop for AbortOnDrop {
        fn drop(&mut self) {
            self.0.abort();
        }
    }

    /// How a direct request's TCP connect ended, and the connection's segment size.
    #[derive(Debug, Default)]
    struct Connected {
        outcome: Option<PortOutcome>,
        mss: Option<u32>,
    }

    impl<'a> Client<'a> {
        fn new(settings: &'a WebSettings) -> Result<Client<'a>, CheckError> {
            let provider = Arc::new(rustls::crypto::ring::default_provider());
            let roots = roots(settings.ca_file.as_deref())?;
            // No trust anchors at all: every HTTPS probe says so (tls.untrusted) rather
            // than the check failing to run.
            let verifier = if roots.is_empty() {
                None
            } else {
                Some(
                    WebPkiServerVerifier::builder_with_provider(Arc::new(roots), Arc::clone(&provider))
                        .build()
                        .map_err(|e| CheckError::CaFile {
                            path: settings.ca_file.clone().unwrap_or_default(),
                            reason: e.to_string(),
                        })?,
                )
            };
            let public_roots = RootCertStore { roots: webpki_roots::TLS_SERVER_ROOTS.to_vec() };
            let public = WebPkiServerVerifier::builder_with_provider(Arc::new(public_roots), Arc::clone(&provider))
                .build()
                .inspect_err(|e| tracing::debug!(error = %e, "public root verifier not built"))
                .ok();
            Ok(Client { settings, provider, verifier, public, plan: ProxyPlan::default() })
        }

        /// Fetches `text` and its redirects within the probe timeout; the final body too.
        async fn probe(&self, text: &str) -> (WebProbe, Option<Vec<u8>>) {
            let started = Instant::now();
            let deadline = started + Duration::from_millis(self.settings.timeout_ms);
            let mut probe = WebProbe { url: without_credentials(text), hops: Vec::new(), error: None, total_ms: None };
            let mut body = None;
            let mut next = Some(text.to_string());
            while let Some(target) = next.take() {
                let url = match Url::parse(&target) {
                    Ok(u) if matches!(u.scheme(), "http" | "https") && u.host().is_some() => u,
                    Ok(u) => {
                        probe.error = Some(ProbeError {
                            kind: ProbeErrorKind::InvalidUrl,
                            message: format!("unsupported URL scheme `{}`", u.scheme()),
                        });
                        break;
                    }
                    Err(e) => {
                        probe.error = Some(ProbeError { kind: ProbeErrorKind::InvalidUrl, message: e.to_string() });
                        break;
                    }
                };
                let mut hop = HttpHop { url: without_credentials(url.as_str()), ..HttpHop::default() };
                let hop_start = Instant::now();
                let left = deadline.saturating_duration_since(hop_start);
                body = match tokio::time::timeout(left, self.fetch(&url, &mut hop)).await {
                    Ok(b) => b,
                    Err(_) => {
                        let phase = pending_phase(&hop, url.scheme() == "https");
                        // Still connecting to the proxy when the time ran out: it is the
                        // proxy that does not answer.
                        hop.via.proxy_unreachable = hop.via.proxy.is_some() && hop.connect_ms.is_none();
                        hop.error = Some(HopError {
                            phase,
                            timeout: true,
                            message: format!("no progress within the {} ms probe timeout", self.settings.timeout_ms),
                        });
                        if phase == Phase::Tls {
                            hop.tls = Some(TlsInfo {
                                verdict: TlsVerdict::HandshakeFailed,
                                error: Some("the TLS handshake timed out".into()),
                                ..TlsInfo::default()
                            });
                        }
                        None
                    }
                };
                hop.total_ms = Some(millis(hop_start.elapsed()));
                if hop.redirects() {
                    if probe.hops.len() >= usize::from(self.settings.max_redirects) {
                        probe.error = Some(ProbeError {
                            kind: ProbeErrorKind::TooManyRedirects,
                            message: format!("more than {} redirects", self.settings.max_redirects),
                        });
                    } else {
                        next = hop.location.clone();
                    }
                }
                probe.hops.push(hop);
            }
            probe.total_ms = Some(millis(started.elapsed()));
            (probe, body)
        }

        /// One request: fills `hop` as each phase completes (so a timeout keeps what was
        /// measured) and returns the body read (bounded).
        async fn fetch(&self, url: &Url, hop: &mut HttpHop) -> Option<Vec<u8>> {
            let port = url.port_or_known_default().unwrap_or(80);
            let route = self.plan.route(url.scheme(), url.host_str().unwrap_or_default(), port);
            hop.via = Via::of(&route);
            if let Route::Proxy { server, .. } = &route {
                return self.fetch_via(url, server, hop).await;
            }
            let address = match url.host()? {
                Host::Ipv4(ip) => SocketAddr::new(IpAddr::V4(ip), port),
                Host::Ipv6(ip) => SocketAddr::new(IpAddr::V6(ip), port),
                Host::Domain(name) => {
                    let t = Instant::now();
                    let found = tokio::net::lookup_host((name, port)).await;
                    hop.dns_ms = Some(millis(t.elapsed()));
                    let addrs: Vec<SocketAddr> = match found {
                        Ok(a) => a.collect(),
                        Err(e) => {
                            hop.error =
                                Some(HopError { phase: Phase::Resolve, timeout: false, message: e.to_string() });
                            return None;
                        }
                    };
                    // Prefer IPv4, which the gateway check vouched for (as the ports check).
                    match addrs.iter().find(|a| a.is_ipv4()).or(addrs.first()) {
                        Some(a) => *a,
                        None => {
                            hop.error = Some(HopError {
                                phase: Phase::Resolve,
                                timeout: false,
                                message: format!("{name} has no address"),
                            });
                            return None;
                        }
                    }
                }
            };
            self.fetch_at(url, address, hop, &mut Connected::default()).await
        }

        /// One direct request to `address` (TLS first for HTTPS): the direct half of
        /// [`Client::fetch`], and each per-family request. How the connect ended, and the
        /// connection's segment size, go to `connected` (kept when a timeout drops this).
        async fn fetch_at(
            &self,
            url: &Url,
            address: SocketAddr,
            hop: &mut HttpHop,
            connected: &mut Connected,
        ) -> Option<Vec<u8>> {
            hop.address = Some(address);
            let t = Instant::now();
            let tcp = match TcpStream::connect(address).await {
                Ok(s) => s,
                Err(e) => {
                    let outcome = crate::check::ports::classify_error(&e);
                    connected.outcome = Some(outcome);
                    hop.error = Some(HopError {
                        phase: Phase::Connect,
                        timeout: false,
                        message: format!("{}: {e}", outcome.as_str()),
                    });
                    return None;
                }
            };
            hop.connect_ms = Some(millis(t.elapsed()));
            connected.outcome = Some(PortOutcome::Open);
            connected.mss = ports::segment_size(&tcp);
            if url.scheme() == "https" {
                let t = Instant::now();
                let tls = self.handshake(url, tcp, hop).await?;
                hop.tls_ms = Some(millis(t.elapsed()));
                self.exchange(tls, url, hop, None).await
            } else {
                self.exchange(tcp, url, hop, None).await
            }
        }

        /// The per-family requests of a URL target ([`UrlFamilies`]): `None` unless its
        /// host is a name with A and AAAA records, the request goes direct, and this
        /// machine can use both families. Both requests run at once, each within the probe
        /// timeout.
        async fn probe_families(&self, text: &str, usable: ports::Usable) -> Option<UrlFamilies> {
            if !(usable.v4 && usable.v6) {
                return None;
            }
            let url = Url::parse(text).ok().filter(|u| matches!(u.scheme(), "http" | "https"))?;
            let Some(Host::Domain(name)) = url.host() else { return None };
            let port = url.port_or_known_default()?;
            if !matches!(self.plan.route(url.scheme(), name, port), Route::Direct { .. }) {
                return None;
            }
            let timeout = Duration::from_millis(self.settings.timeout_ms);
            let found: Vec<SocketAddr> =
                match tokio::time::timeout(timeout, tokio::net::lookup_host((name, port))).await {
                    Ok(Ok(addrs)) => addrs.collect(),
                    _ => return None,
                };
            let v4 = found.iter().find(|a| a.is_ipv4()).copied()?;
            let v6 = found.iter().find(|a| a.is_ipv6()).copied()?;
            let one = |address: SocketAddr| {
                let url = &url;
                async move {
                    let mut hop = HttpHop { url: without_credentials(url.as_str()), ..HttpHop::default() };
                    let mut connected = Connected::default();
                    let start = Instant::now();
                    let fetched = tokio::time::timeout(timeout, self.fetch_at(url, address, &mut hop, &mut connected));
                    if fetched.await.is_err() {
                        let phase = pending_phase(&hop, url.scheme() == "https");
                        hop.error = Some(HopError {
                            phase,
                            timeout: true,
                            message: format!("no progress within the {} ms probe timeout", self.settings.timeout_ms),
                        });
                    }
                    hop.total_ms = Some(millis(start.elapsed()));
                    family_attempt(&hop, connected.outcome, connected.mss)
                }
            };
            let (a, b) = futures::join!(one(v4), one(v6));
            Some(UrlFamilies { url: without_credentials(text), attempts: a.into_iter().chain(b).collect() })
        }

        /// One request through an HTTP proxy: resolve and connect to the proxy (a failure
        /// there marks `via.proxy_unreachable`), then an absolute-form request for HTTP, or
        /// `CONNECT host:port` and TLS to the origin for HTTPS.
        async fn fetch_via(&self, url: &Url, server: &ProxyServer, hop: &mut HttpHop) -> Option<Vec<u8>> {
            let fail = |hop: &mut HttpHop, phase, message: String| {
                hop.via.proxy_unreachable = true;
                hop.error = Some(HopError { phase, timeout: false, message });
            };
            let address = match proxy_address(server, &mut hop.dns_ms).await {
                Ok(a) => a,
                Err(message) => {
                    fail(hop, Phase::Resolve, message);
                    return None;
                }
            };
            hop.address = Some(address);
            let t = Instant::now();
            let tcp = match TcpStream::connect(address).await {
                Ok(s) => s,
                Err(e) => {
                    let outcome = crate::check::ports::classify_error(&e);
                    fail(hop, Phase::Connect, format!("proxy {}: {}: {e}", server.shown(), outcome.as_str()));
                    return None;
                }
            };
            // An https:// proxy: TLS to the proxy first; the connect time includes it.
            let mut stream = match self.to_proxy(server, tcp).await {
                Ok(s) => s,
                Err(message) => {
                    fail(hop, Phase::Connect, message);
                    return None;
                }
            };
            hop.connect_ms = Some(millis(t.elapsed()));
            if url.scheme() != "https" {
                return self.exchange(stream, url, hop, Some(server)).await;
            }
            let port = url.port_or_known_default().unwrap_or(443);
            let authority = format!("{}:{port}", url.host_str().unwrap_or_default());
            let t = Instant::now();
            let status = match tunnel(&mut stream, &authority, server).await {
                Ok(s) => s,
                Err(message) => {
                    hop.error = Some(HopError { phase: Phase::Processing, timeout: false, message });
                    return None;
                }
            };
            if !(200..300).contains(&status) {
                hop.first_byte_ms = Some(millis(t.elapsed()));
                hop.status = Some(status);
                hop.received = Some(Timestamp::now());
                hop.error = Some(HopError {
                    phase: Phase::Connect,
                    timeout: false,
                    message: format!("the proxy {} answered CONNECT {authority} with HTTP {status}", server.shown()),
                });
                return None;
            }
            let t = Instant::now();
            let tls = self.handshake(url, stream, hop).await?;
            hop.tls_ms = Some(millis(t.elapsed()));
            self.exchange(tls, url, hop, None).await
        }

        /// The stream to a proxy: the TCP connection itself, or for an `https://` proxy a
        /// TLS connection over it, verified against the same trust anchors as the origins
        /// (system store and `--ca-file`) for the proxy's name or address. `Err` says why
        /// the proxy cannot be used.
        async fn to_proxy(&self, server: &ProxyServer, tcp: TcpStream) -> Result<ProxyStream, String> {
            if !server.tls {
                return Ok(Box::new(tcp));
            }
            let shown = server.shown();
            let verifier = self
                .verifier
                .clone()
                .ok_or_else(|| format!("proxy {shown}: no trust anchors to verify its certificate"))?;
            let name = ServerName::try_from(server.host.clone()).map_err(|e| format!("proxy {shown}: {e}"))?;
            let mut config = rustls::ClientConfig::builder_with_provider(Arc::clone(&self.provider))
                .with_safe_default_protocol_versions()
                .map_err(|e| format!("proxy {shown}: {e}"))?
                .with_webpki_verifier(verifier)
                .with_no_client_auth();
            config.alpn_protocols = vec![b"http/1.1".to_vec()];
            let tls = tokio_rustls::TlsConnector::from(Arc::new(config))
                .connect(name, tcp)
                .await
                .map_err(|e| format!("TLS to the proxy {shown}: {e}"))?;
            Ok(Box::new(tls))
        }

        /// Tests one proxy a PAC names: connect, then `CONNECT authority`, within
        /// [`proxy::PROXY_TEST_TIMEOUT_MS`] (or the probe timeout when shorter).
        async fn test_proxy(&self, server: &ProxyServer, authority: &str) -> PacProxyTest {
            let limit = Duration::from_millis(self.settings.timeout_ms.min(proxy::PROXY_TEST_TIMEOUT_MS));
            let mut test = PacProxyTest {
                proxy: server.shown(),
                status: PacProxyStatus::Unreachable,
                http_status: None,
                connect_ms: None,
                error: None,
            };
            let attempt = async {
                let mut dns_ms = None;
                let address = proxy_address(server, &mut dns_ms).await?;
                let t = Instant::now();
                let tcp = TcpStream::connect(address)
                    .await
                    .map_err(|e| format!("{}: {e}", crate::check::ports::classify_error(&e).as_str()))?;
                let mut stream = self.to_proxy(server, tcp).await?;
                test.connect_ms = Some(millis(t.elapsed()));
                tunnel(&mut stream, authority, server).await
            };
            match tokio::time::timeout(limit, attempt).await {
                Ok(Ok(status)) => {
                    test.http_status = Some(status);
                    test.status = match status {
                        200..=299 => PacProxyStatus::Works,
                        407 => PacProxyStatus::AuthRequired,
                        _ => PacProxyStatus::Refuses,
                    };
                }
                Ok(Err(message)) => {
                    if test.connect_ms.is_some() {
                        test.status = PacProxyStatus::NoAnswer;
                    }
                    test.error = Some(message);
                }
                Err(_) => {
                    test.status =
                        if test.connect_ms.is_some() { PacProxyStatus::NoAnswer } else { PacProxyStatus::Unreachable };
                    test.error = Some(format!("no answer within {} ms", limit.as_millis()));
                }
            }
            tracing::debug!(proxy = %test.proxy, status = ?test.status, "PAC proxy tested");
            test
        }

        async fn handshake<S>(&self, url: &Url, tcp: S, hop: &mut HttpHop) -> Option<tokio_rustls::client::TlsStream<S>>
        where
            S: AsyncRead + AsyncWrite + Unpin,
        {
            let name = match url.host()? {
                Host::Ipv4(ip) => ServerName::IpAddress(IpAddr::V4(ip).into()),
                Host::Ipv6(ip) => ServerName::IpAddress(IpAddr::V6(ip).into()),
                Host::Domain(d) => match ServerName::try_from(d.to_string()) {
                    Ok(n) => n,
                    Err(e) => {
                        hop.error = Some(HopError { phase: Phase::Tls, timeout: false, message: e.to_string() });
                        return None;
                    }
                },
            };
            let recorder = Arc::new(Recorder {
                inner: self.verifier.clone(),
                public: self.public.clone(),
                seen: Mutex::new(None),
            });
            // The recorder delegates every decision to the WebPKI verifier and only keeps
            // the chain and the verdict for the evidence: verification is not disabled.
            let config = rustls::ClientConfig::builder_with_provider(Arc::clone(&self.provider))
                .with_safe_default_protocol_versions()
                .map(|b| {
                    let mut c = b
                        .dangerous()
                        .with_custom_certificate_verifier(Arc::clone(&recorder) as Arc<dyn ServerCertVerifier>)
                        .with_no_client_auth();
                    c.alpn_protocols = vec![b"http/1.1".to_vec()];
                    c
                });
            let config = match config {
                Ok(c) => c,
                Err(e) => {
                    hop.error = Some(HopError { phase: Phase::Tls, timeout: false, message: e.to_string() });
                    return None;
                }
            };
            let result = tokio_rustls::TlsConnector::from(Arc::new(config)).connect(name, tcp).await;
            let Seen { chain, error: verify_error, public_root, valid_in_period, checked_at } = recorder.take();
            match result {
                Ok(stream) => {
                    let (_, conn) = stream.get_ref();
                    hop.tls = Some(TlsInfo {
                        verdict: TlsVerdict::Ok,
                        version: conn.protocol_version().map(|v| format!("{v:?}")),
                        cipher: conn.negotiated_cipher_suite().map(|s| format!("{:?}", s.suite())),
                        alpn: conn.alpn_protocol().map(|p| String::from_utf8_lossy(p).into_owned()),
                        chain,
                        error: None,
                        public_root,
                        checked_at,
                        valid_in_period,
                        clock: None,
                    });
                    Some(stream)
                }
                Err(e) => {
                    let rustls_error =
                        verify_error.or_else(|| e.get_ref().and_then(|i| i.downcast_ref::<rustls::Error>()).cloned());
                    let verdict = rustls_error.as_ref().map_or(TlsVerdict::HandshakeFailed, verdict_of);
                    let message = rustls_error.map_or_else(|| e.to_string(), |r| r.to_string());
                    hop.tls = Some(TlsInfo {
                        verdict,
                        chain,
                        error: Some(message.clone()),
                        public_root,
                        checked_at,
                        valid_in_period,
                        ..TlsInfo::default()
                    });
                    hop.error = Some(HopError { phase: Phase::Tls, timeout: false, message });
                    None
                }
            }
        }

        /// Sends the GET and reads the answer; `proxy`: the stream goes to this HTTP proxy,
        /// so the request is in absolute form with the proxy's credentials.
        async fn exchange<S>(
            &self,
            stream: S,
            url: &Url,
            hop: &mut HttpHop,
            proxy: Option<&ProxyServer>,
        ) -> Option<Vec<u8>>
        where
            S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
        {
            let processing = |message: String| HopError { phase: Phase::Processing, timeout: false, message };
            let (mut sender, conn) = match hyper::client::conn::http1::handshake(TokioIo::new(stream)).await {
                Ok(pair) => pair,
                Err(e) => {
                    hop.error = Some(processing(e.to_string()));
                    return None;
                }
            };
            let _driver = AbortOnDrop(tokio::spawn(async move {
                if let Err(e) = conn.await {
                    tracing::debug!(error = %e, "HTTP connection ended with an error");
                }
            }));
            let authority = match url.port() {
                Some(p) => format!("{}:{p}", url.host_str().unwrap_or_default()),
                None => url.host_str().unwrap_or_default().to_string(),
            };
            let path = match url.query() {
                Some(q) => format!("{}?{q}", url.path()),
                None => url.path().to_string(),
            };
            let target = match proxy {
                // Absolute form (RFC 9112 section 3.2.2), without user information.
                Some(_) => format!("{}://{authority}{path}", url.scheme()),
                None => path,
            };
            let mut request = hyper::Request::get(target);
            if let Some(auth) = proxy.and_then(ProxyServer::authorization) {
                request = request.header(PROXY_AUTHORIZATION, auth);
            }
            let request = request
                .header(HOST, authority)
                .header(USER_AGENT, concat!("nettriage/", env!("CARGO_PKG_VERSION")))
                .header(ACCEPT, "*/*")
                .header(CONNECTION, "close")
                .body(Empty::<&'static [u8]>::new());
            let request = match request {
                Ok(r) => r,
                Err(e) => {
                    hop.error = Some(processing(e.to_string()));
                    return None;
                }
            };
            let t = Instant::now();
            let response = match sender.send_request(request).await {
                Ok(r) => r,
                Err(e) => {
                    hop.error = Some(processing(e.to_string()));
                    return None;
                }
            };
            hop.first_byte_ms = Some(millis(t.elapsed()));
            hop.status = Some(response.status().as_u16());
            let header = |name| response.headers().get(name).and_then(|v: &hyper::header::HeaderValue| v.to_str().ok());
            hop.location = header(LOCATION).and_then(|l| url.join(l).ok()).map(|u| without_credentials(u.as_str()));
            hop.date = header(DATE).map(str::to_string);
            let short = |v: &str| v.chars().take(200).collect::<String>();
            hop.via_header = header(VIA).map(short);
            hop.squid_error = response.headers().get("x-squid-error").and_then(|v| v.to_str().ok()).map(short);
            hop.received = Some(Timestamp::now());
            let max = self.settings.max_body_bytes;
            let mut body = response.into_body();
            let mut kept: Vec<u8> = Vec::new();
            while let Some(frame) = body.frame().await {
                match frame {
                    Ok(frame) => {
                        let Ok(data) = frame.into_data() else { continue };
                        hop.body_bytes += data.len() as u64;
                        let room = max.saturating_sub(kept.len());
                        kept.extend_from_slice(&data[..data.len().min(room)]);
                        if data.len() > room {
                            hop.body_truncated = true;
                            break;
                        }
                    }
                    Err(e) => {
                        hop.error = Some(HopError { phase: Phase::Transfer, timeout: false, message: e.to_string() });
                        break;
                    }
                }
            }
            let text = String::from_utf8_lossy(&kept);
            hop.body_excerpt = (!kept.is_empty()).then(|| text.chars().take(BODY_EXCERPT_CHARS).collect());
            Some(kept)
        }
    }

    /// The address of a proxy: its IP, or its name resolved (IPv4 preferred, as for the
    /// origins), with the lookup's time in `dns_ms`; `Err` says why there is none.
    async fn proxy_address(server: &ProxyServer, dns_ms: &mut Option<f64>) -> Result<SocketAddr, String> {
        if let Ok(ip) = server.host.parse::<IpAddr>() {
            return Ok(SocketAddr::new(ip, server.port));
        }
        let t = Instant::now();
        let found = tokio::net::lookup_host((server.host.as_str(), server.port)).await;
        *dns_ms = Some(millis(t.elapsed()));
        let addrs: Vec<SocketAddr> = found.map_err(|e| format!("proxy {}: {e}", server.shown()))?.collect();
        addrs
            .iter()
            .find(|a| a.is_ipv4())
            .or(addrs.first())
            .copied()
            .ok_or_else(|| format!("proxy {} has no address", server.shown()))
    }

    /// Asks the proxy on `tcp` for a tunnel to `authority`; its answer's status, or why
    /// there was none. Reads the answer's head byte by byte (at most 16 KiB), so no byte of
    /// what follows (the origin's TLS) is taken.
    async fn tunnel<S>(tcp: &mut S, authority: &str, server: &ProxyServer) -> Result<u16, String>
    where
        S: AsyncRead + AsyncWrite + Unpin,
    {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let request = proxy::connect_request(authority, server);
        tcp.write_all(request.as_bytes()).await.map_err(|e| format!("sending CONNECT to the proxy: {e}"))?;
        let mut head = Vec::with_capacity(256);
        let mut byte = [0u8; 1];
        while !head.ends_with(b"\r\n\r\n") {
            if head.len() >= 16 * 1024 {
                return Err("the proxy's answer to CONNECT has a head over 16 KiB".into());
            }
            match tcp.read(&mut byte).await {
                Ok(0) => return Err("the proxy closed the connection after CONNECT".into()),
                Ok(_) => head.push(byte[0]),
                Err(e) => return Err(format!("reading the proxy's answer to CONNECT: {e}")),
            }
        }
        proxy::connect_status(&head).ok_or_else(|| "the proxy's answer to CONNECT is not HTTP".to_string())
    }

    /// The phase a request was in when its time ran out.
    fn pending_phase(hop: &HttpHop, https: bool) -> Phase {
        if hop.address.is_none() {
            Phase::Resolve
        } else if hop.connect_ms.is_none() {
            Phase::Connect
        } else if https && hop.tls_ms.is_none() {
            Phase::Tls
        } else if hop.first_byte_ms.is_none() {
            Phase::Processing
        } else {
            Phase::Transfer
        }
    }

    /// The verdict a rustls error stands for.
    pub(super) fn verdict_of(e: &rustls::Error) -> TlsVerdict {
        match e {
            rustls::Error::InvalidCertificate(c) => match c {
                CertificateError::Expired | CertificateError::ExpiredContext { .. } => TlsVerdict::Expired,
                CertificateError::NotValidYet | CertificateError::NotValidYetContext { .. } => TlsVerdict::NotYetValid,
                CertificateError::NotValidForName | CertificateError::NotValidForNameContext { .. } => {
                    TlsVerdict::HostnameMismatch
                }
                _ => TlsVerdict::Untrusted,
            },
            // The server answered the ClientHello (TLS 1.2 and 1.3 offered) with its
            // `protocol_version` alert (RFC 8446 section 4.2.1), or chose an older version.
            rustls::Error::AlertReceived(rustls::AlertDescription::ProtocolVersion)
            | rustls::Error::PeerIncompatible(
                rustls::PeerIncompatible::ServerDoesNotSupportTls12Or13
                | rustls::PeerIncompatible::ServerTlsVersionIsDisabledByOurConfig,
            ) => TlsVerdict::OldProtocol,
            _ => TlsVerdict::HandshakeFailed,
        }
    }

    /// A certificate's details (`None` when it does not parse).
    pub(crate) fn cert_info(der: &[u8]) -> Option<CertInfo> {
        use x509_parser::extensions::GeneralName;
        let (_, cert) = x509_parser::parse_x509_certificate(der).ok()?;
        let sans = cert
            .subject_alternative_name()
            .ok()
            .flatten()
            .map(|ext| {
                ext.value
                    .general_names
                    .iter()
                    .filter_map(|n| match n {
                        GeneralName::DNSName(d) => Some(d.to_string()),
                        GeneralName::IPAddress(b) => match b.len() {
                            4 => <[u8; 4]>::try_from(*b).ok().map(|a| IpAddr::from(a).to_string()),
                            16 => <[u8; 16]>::try_from(*b).ok().map(|a| IpAddr::from(a).to_string()),
                            _ => None,
                        },
                        _ => None,
                    })
                    .take(64)
                    .collect()
            })
            .unwrap_or_default();
        let time = |t: i64| {
            let secs = u64::try_from(t).ok()?;
            SystemTime::UNIX_EPOCH.checked_add(Duration::from_secs(secs)).map(Timestamp)
        };
        Some(CertInfo {
            subject: cert.subject().to_string(),
            issuer: cert.issuer().to_string(),
            sans,
            not_before: time(cert.validity().not_before.timestamp()),
            not_after: time(cert.validity().not_after.timestamp()),
        })
    }

    /// What the recorder saw of one chain.
    #[derive(Debug, Default)]
    struct Seen {
        chain: Vec<CertInfo>,
        error: Option<rustls::Error>,
        public_root: Option<bool>,
        valid_in_period: Option<bool>,
        checked_at: Option<Timestamp>,
    }

    /// Delegates verification to the WebPKI verifier and records the chain and the verdict;
    /// for a chain it accepts, whether the public roots alone accept it too; for one it
    /// refuses only for the time, whether it validates inside its own validity.
    #[derive(Debug)]
    struct Recorder {
        /// `None`: no trust anchors at all, so every chain is untrusted.
        inner: Option<Arc<WebPkiServerVerifier>>,
        /// Mozilla's roots alone; `None` when they could not be loaded.
        public: Option<Arc<WebPkiServerVerifier>>,
        seen: Mutex<Option<Seen>>,
    }

    impl Recorder {
        fn take(&self) -> Seen {
            self.seen.lock().map(|mut s| s.take()).unwrap_or_default().unwrap_or_default()
        }
    }

    /// A moment inside the validity all certificates share (the middle of it), when they
    /// share one.
    fn inside(chain: &[CertInfo]) -> Option<UnixTime> {
        let (start, end) = chain_period(chain)?;
        let middle = start + (end - start) / 2.0;
        (start <= end && middle >= 0.0).then(|| UnixTime::since_unix_epoch(Duration::from_secs_f64(middle)))
    }

    impl ServerCertVerifier for Recorder {
        fn verify_server_cert(
            &self,
            end_entity: &CertificateDer<'_>,
            intermediates: &[CertificateDer<'_>],
            server_name: &ServerName<'_>,
            ocsp_response: &[u8],
            now: UnixTime,
        ) -> Result<ServerCertVerified, rustls::Error> {
            let result = match &self.inner {
                Some(inner) => inner.verify_server_cert(end_entity, intermediates, server_name, ocsp_response, now),
                None => Err(rustls::Error::InvalidCertificate(CertificateError::UnknownIssuer)),
            };
            let chain: Vec<CertInfo> =
                std::iter::once(end_entity).chain(intermediates).take(MAX_CHAIN).filter_map(|c| cert_info(c)).collect();
            let public_root = match (&result, &self.public) {
                (Ok(_), Some(public)) => {
                    Some(public.verify_server_cert(end_entity, intermediates, server_name, ocsp_response, now).is_ok())
                }
                _ => None,
            };
            let valid_in_period = match (&result, &self.inner) {
                (Err(e), Some(inner)) if matches!(verdict_of(e), TlsVerdict::Expired | TlsVerdict::NotYetValid) => {
                    inside(&chain).map(|t| {
                        inner.verify_server_cert(end_entity, intermediates, server_name, ocsp_response, t).is_ok()
                    })
                }
                _ => None,
            };
            let checked_at = SystemTime::UNIX_EPOCH.checked_add(Duration::from_secs(now.as_secs())).map(Timestamp);
            if let Ok(mut seen) = self.seen.lock() {
                *seen = Some(Seen {
                    chain,
                    error: result.as_ref().err().cloned(),
                    public_root,
                    valid_in_period,
                    checked_at,
                });
            }
            result
        }

        fn verify_tls12_signature(
            &self,
            message: &[u8],
            cert: &CertificateDer<'_>,
            dss: &DigitallySignedStruct,
        ) -> Result<HandshakeSignatureValid, rustls::Error> {
            match &self.inner {
                Some(inner) => inner.verify_tls12_signature(message, cert, dss),
                None => Err(rustls::Error::InvalidCertificate(CertificateError::UnknownIssuer)),
            }
        }

        fn verify_tls13_signature(
            &self,
            message: &[u8],
            cert: &CertificateDer<'_>,
            dss: &DigitallySignedStruct,
        ) -> Result<HandshakeSignatureValid, rustls::Error> {
            match &self.inner {
                Some(inner) => inner.verify_tls13_signature(message, cert, dss),
                None => Err(rustls::Error::InvalidCertificate(CertificateError::UnknownIssuer)),
            }
        }

        fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
            match &self.inner {
                Some(inner) => inner.supported_verify_schemes(),
                None => rustls::crypto::ring::default_provider().signature_verification_algorithms.supported_schemes(),
            }
        }
    }
}

/// The phases of one request as the reports draw them: name resolution, TCP connect, TLS
/// handshake, time to the first byte (`processing`) and the rest of the transfer (the
/// request's total less the phases before it), each `None` when not measured. The same
/// split feeds `nettriage_http_duration_seconds` and the HTML phase bar.
impl HttpHop {
    /// Each phase with its time in ms, in order.
    pub fn phase_ms(&self) -> [(Phase, Option<f64>); 5] {
        let before = [self.dns_ms, self.connect_ms, self.tls_ms, self.first_byte_ms].iter().flatten().sum::<f64>();
        let transfer = self.total_ms.map(|t| (t - before).max(0.0)).filter(|_| self.first_byte_ms.is_some());
        [
            (Phase::Resolve, self.dns_ms),
            (Phase::Connect, self.connect_ms),
            (Phase::Tls, self.tls_ms),
            (Phase::Processing, self.first_byte_ms),
            (Phase::Transfer, transfer),
        ]
    }
}

/// `text` with the user information (`user:password@`) of every URL in it removed, where
/// [`without_credentials`] takes one URL: for free text (error messages, findings) that
/// may quote a URL. Credentials are never printed, with or without `--redact` (pure).
pub fn scrub_credentials(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(i) = rest.find("://") {
        let (head, tail) = rest.split_at(i + 3);
        out.push_str(head);
        let end = tail.find(|c: char| "/?#<>\"'`".contains(c) || c.is_whitespace()).unwrap_or(tail.len());
        let authority = &tail[..end];
        match authority.rfind('@') {
            Some(at) => out.push_str(&authority[at + 1..]),
            None => out.push_str(authority),
        }
        rest = &tail[end..];
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[cfg(feature = "live")]
    #[test]
    fn a_protocol_version_alert_or_an_old_server_hello_is_old_protocol() {
        use rustls::{AlertDescription, CertificateError, Error, PeerIncompatible};
        let old = [
            Error::AlertReceived(AlertDescription::ProtocolVersion),
            Error::PeerIncompatible(PeerIncompatible::ServerDoesNotSupportTls12Or13),
            Error::PeerIncompatible(PeerIncompatible::ServerTlsVersionIsDisabledByOurConfig),
        ];
        for e in &old {
            assert_eq!(live::verdict_of(e), TlsVerdict::OldProtocol, "{e:?}");
        }
        assert_eq!(
            live::verdict_of(&Error::AlertReceived(AlertDescription::HandshakeFailure)),
            TlsVerdict::HandshakeFailed
        );
        assert_eq!(
            live::verdict_of(&Error::InvalidCertificate(CertificateError::NotValidYet)),
            TlsVerdict::NotYetValid
        );
        assert_eq!(
            live::verdict_of(&Error::InvalidCertificate(CertificateError::UnknownIssuer)),
            TlsVerdict::Untrusted
        );
    }

    /// A hop whose TLS verdict is `verdict`, with a one-certificate chain issued by `issuer`
    /// valid from `nb` to `na` (seconds since the epoch).
    fn tls_hop(url: &str, verdict: TlsVerdict, issuer: &str, nb: u64, na: u64) -> HttpHop {
        let at = |s: u64| Some(Timestamp(std::time::UNIX_EPOCH + std::time::Duration::from_secs(s)));
        let ok = verdict == TlsVerdict::Ok;
        HttpHop {
            url: url.into(),
            status: ok.then_some(200),
            connect_ms: Some(1.0),
            first_byte_ms: ok.then_some(1.0),
            tls: Some(TlsInfo {
                verdict,
                chain: vec![CertInfo {
                    subject: "CN=leaf".into(),
                    issuer: issuer.into(),
                    sans: vec![],
                    not_before: at(nb),
                    not_after: at(na),
                }],
                ..TlsInfo::default()
            }),
            error: (!ok).then(|| HopError { phase: Phase::Tls, timeout: false, message: "x".into() }),
            ..HttpHop::default()
        }
    }

    #[test]
    fn public_names_exclude_addresses_single_labels_private_zones_and_search_domains() {
        let search = vec!["corp.example.com".to_string()];
        for public in ["www.example.com", "WWW.Example.COM.", "a.b.example.org"] {
            assert!(is_public_name(public, &search), "{public}");
        }
        for private in [
            "198.18.1.2",
            "2001:db8::1",
            "[2001:db8::1]",
            "intranet",
            "www.site.test",
            "printer.local",
            "localhost",
            "db.internal",
            "nas.home.arpa",
            "wiki.corp",
            "router.lan",
            "corp.example.com",
            "app.corp.example.com",
        ] {
            assert!(!is_public_name(private, &search), "{private}");
        }
        // A search domain is a suffix by labels, not by characters.
        assert!(is_public_name("notcorp.example.com", &search));
    }

    #[test]
    fn a_private_ca_for_a_public_name_is_interception_named_by_its_issuer() {
        let url = "https://www.example.com/";
        let inspected = |public_root, url: &str| {
            let mut h = tls_hop(url, TlsVerdict::Ok, "CN=Inspection CA", 0, u64::MAX / 4);
            h.tls.as_mut().unwrap().public_root = public_root;
            targets(vec![probe(url, vec![h])])
        };
        assert_eq!(codes(&inspected(Some(false), url)), [(Code::TlsIntercepted, Severity::Warn)]);
        // A public chain, an unchecked one, a private name, an address: no finding.
        assert!(codes(&inspected(Some(true), url)).is_empty());
        assert!(codes(&inspected(None, url)).is_empty());
        assert!(codes(&inspected(Some(false), "https://www.site.test/")).is_empty());
        assert!(codes(&inspected(Some(false), "https://198.18.1.2/")).is_empty());
        let mut own = inspected(Some(false), "https://wiki.corp.example.com/");
        own.search_domains = vec!["corp.example.com".into()];
        assert!(codes(&own).is_empty());
    }

    #[test]
    fn http_451_and_a_filters_403_are_blocked_and_a_targets_403_is_an_http_error() {
        let url = "http://www.example.com/";
        let with = |status, via: Option<&str>, squid: Option<&str>| {
            let mut h = hop(url, status, None);
            h.via_header = via.map(Into::into);
            h.squid_error = squid.map(Into::into);
            h
        };
        let judged = |h: HttpHop| codes(&targets(vec![probe(url, vec![h])]));
        let blocked = [(Code::WebBlocked, Severity::Fail)];
        let http_error = [(Code::WebHttpError, Severity::Fail)];
        assert_eq!(judged(with(451, None, None)), blocked);
        assert_eq!(judged(with(403, None, Some("ERR_ACCESS_DENIED 0"))), blocked);
        assert_eq!(judged(with(403, Some("1.1 proxy.corp (squid/6.10)"), None)), blocked);
        assert_eq!(judged(with(403, None, None)), http_error);
        assert_eq!(judged(with(403, Some("1.1 varnish (Varnish/7.5)"), None)), http_error);
        // A marker on another status does not make it a block.
        assert_eq!(judged(with(404, None, Some("ERR_INVALID_URL 0"))), http_error);
        // The connectivity probe, too.
        let p = probe(CHECK, vec![with(403, None, Some("ERR_ACCESS_DENIED 0"))]);
        assert_eq!(codes(&connectivity(p, None)), blocked);
    }

    #[test]
    fn a_target_over_chromeos_latency_bands_is_slow() {
        let url = "https://www.example.com/";
        let timed = |connect, tls, first_byte| {
            let mut h = hop(url, 200, None);
            (h.connect_ms, h.tls_ms, h.first_byte_ms) = (Some(connect), tls, Some(first_byte));
            targets(vec![probe(url, vec![h])])
        };
        assert!(codes(&timed(100.0, Some(150.0), 200.0)).is_empty());
        assert_eq!(codes(&timed(100.0, Some(200.0), 300.0)), [(Code::WebSlow, Severity::Warn)]);
        assert_eq!(codes(&timed(300.0, None, 900.0)), [(Code::WebSlow, Severity::Warn)]);
        assert_eq!(hop_latency_ms(&timed(1.0, Some(2.0), 3.0).targets[0].hops[0]), Some(6.0));
        // The bands come from the evidence (the `[web]` settings of the run).
        let mut strict = timed(100.0, Some(150.0), 200.0);
        strict.slow = SlowBands { high_ms: 200.0, very_high_ms: 400.0 };
        assert_eq!(codes(&strict), [(Code::WebSlow, Severity::Warn)]);
        // No answer, no latency to judge: the failure says it.
        let mut h = hop(url, 200, None);
        (h.status, h.connect_ms) = (None, Some(900.0));
        h.error = Some(HopError { phase: Phase::Processing, timeout: true, message: "x".into() });
        assert_eq!(codes(&targets(vec![probe(url, vec![h])])), [(Code::WebUnreachable, Severity::Fail)]);
    }

    #[test]
    fn a_certificate_valid_at_the_servers_time_puts_the_failure_on_the_clock() {
        // Local clock at `now`; the servers' Date headers say now + 2 days; the leaf is
        // valid from now + 1 day for 30 days: not yet valid here, valid for the servers.
        let now: u64 = 1_900_000_000;
        let day = 86_400;
        let at = |s: u64| Some(Timestamp(std::time::UNIX_EPOCH + std::time::Duration::from_secs(s)));
        let https = "https://www.site.test/";
        let not_yet = |valid_in_period| {
            let mut h = tls_hop(https, TlsVerdict::NotYetValid, "CN=lab", now + day, now + 31 * day);
            let tls = h.tls.as_mut().unwrap();
            (tls.checked_at, tls.valid_in_period) = (at(now), valid_in_period);
            probe(https, vec![h])
        };
        let dated_ahead = {
            let mut p = dated("http://a.site.test/", 0);
            // `dated` says 1994-11-06T08:49:37Z; receive it 2 days before that.
            p.hops[0].received = at(784_111_777 - 2 * day);
            p
        };
        // Shift the dated answer's times to `now`: the skew is what matters.
        let skew = hop_skew_s(&dated_ahead.hops[0]).unwrap();
        assert_eq!(skew, -2.0 * day as f64);
        let mut ev = targets(vec![not_yet(Some(true)), dated_ahead.clone()]);
        blame_clock(&mut ev);
        let blame = ev.targets[0].hops[0].tls.as_ref().unwrap().clock.clone();
        assert_eq!(blame, Some(ClockBlame { skew_s: Some(skew), behind_at_least_s: None }));
        assert_eq!(codes(&ev), [(Code::TimeSkew, Severity::Fail), (Code::TlsNotYetValid, Severity::Fail)]);
        // A chain that fails for more than the time is not the clock's fault.
        let mut ev = targets(vec![not_yet(Some(false)), dated_ahead.clone()]);
        blame_clock(&mut ev);
        assert_eq!(ev.targets[0].hops[0].tls.as_ref().unwrap().clock, None);
        assert_eq!(codes(&ev), [(Code::TlsNotYetValid, Severity::Fail), (Code::TimeSkew, Severity::Fail)]);
        // Servers that agree with the local clock: the certificate is early, not the clock.
        let mut ev = targets(vec![not_yet(Some(true)), dated("http://a.site.test/", 0)]);
        blame_clock(&mut ev);
        assert_eq!(ev.targets[0].hops[0].tls.as_ref().unwrap().clock, None);
        // No Date header at all: a lower bound of how far the clock is behind.
        let mut ev = targets(vec![not_yet(Some(true))]);
        blame_clock(&mut ev);
        let blame = ev.targets[0].hops[0].tls.as_ref().unwrap().clock.clone();
        assert_eq!(blame, Some(ClockBlame { skew_s: None, behind_at_least_s: Some(day as f64) }));
        assert_eq!(codes(&ev), [(Code::TlsNotYetValid, Severity::Fail)]);
        // An expired chain without a Date header is just expired.
        let mut h = tls_hop(https, TlsVerdict::Expired, "CN=lab", now - 60 * day, now - day);
        let tls = h.tls.as_mut().unwrap();
        (tls.checked_at, tls.valid_in_period) = (at(now), Some(true));
        let mut ev = targets(vec![probe(https, vec![h])]);
        blame_clock(&mut ev);
        assert_eq!(ev.targets[0].hops[0].tls.as_ref().unwrap().clock, None);
    }

    #[test]
    fn search_domains_come_from_the_last_search_or_domain_line() {
        let text = "nameserver 198.18.0.1\ndomain old.example\nsearch Corp.Example.com. lab.example\n# search x\n";
        assert_eq!(search_domains(text), ["corp.example.com", "lab.example"]);
        assert_eq!(search_domains("search a b c d e f g h\n").len(), 6);
        assert!(search_domains("nameserver 1.1.1.1\n").is_empty());
    }

    fn hop(url: &str, status: u16, location: Option<&str>) -> HttpHop {
        HttpHop { url: url.into(), status: Some(status), location: location.map(Into::into), ..HttpHop::default() }
    }

    fn probe(url: &str, hops: Vec<HttpHop>) -> WebProbe {
        WebProbe { url: url.into(), hops, error: None, total_ms: Some(1.0) }
    }

    fn connectivity(p: WebProbe, body_matched: Option<bool>) -> WebEvidence {
        let (state, portal_url) = assess(&p, 204, body_matched);
        WebEvidence {
            connectivity: Some(ConnectivityProbe {
                expect_status: 204,
                expect_body: None,
                body_matched,
                probe: p,
                state,
                portal_url,
            }),
            targets: vec![],
            ..WebEvidence::default()
        }
    }

    fn codes(ev: &WebEvidence) -> Vec<(Code, Severity)> {
        judge(ev).iter().map(|f| (f.code, f.severity)).collect()
    }

    const CHECK: &str = "http://check.example/generate_204";

    /// A 200 from `url` whose `Date` is `skew_s` seconds behind the local receive time.
    fn dated(url: &str, skew_s: u64) -> WebProbe {
        let mut h = hop(url, 200, None);
        // 1994-11-06T08:49:37Z, as in RFC 9110's example.
        h.date = Some("Sun, 06 Nov 1994 08:49:37 GMT".into());
        let local = std::time::UNIX_EPOCH + std::time::Duration::from_secs(784_111_777 + skew_s);
        h.received = Some(Timestamp(local));
        probe(url, vec![h])
    }

    fn targets(probes: Vec<WebProbe>) -> WebEvidence {
        WebEvidence { connectivity: None, targets: probes, ..WebEvidence::default() }
    }

    #[test]
    fn http_dates_parse_in_the_imf_fixdate_form_only() {
        assert_eq!(parse_http_date("Sun, 06 Nov 1994 08:49:37 GMT"), Some(784_111_777));
        assert_eq!(parse_http_date("Thu, 01 Jan 1970 00:00:00 GMT"), Some(0));
        assert_eq!(parse_http_date("Tue, 29 Feb 2028 23:59:59 GMT"), Some(1_835_481_599));
        for bad in [
            "",
            "Sunday, 06-Nov-94 08:49:37 GMT",
            "Sun Nov  6 08:49:37 1994",
            "Sun, 06 Nov 1994 08:49:37 UTC",
            "Sun, 06 Nov 1994 08:49 GMT",
            "Sun, 32 Nov 1994 08:49:37 GMT",
            "Sun, 06 Foo 1994 08:49:37 GMT",
            "Sun, 06 Nov 1994 24:00:00 GMT",
            "Sun, 06 Nov 1994 08:49:37 GMT extra",
            "Sun, 06 Nov 99999999999999999999 08:49:37 GMT",
        ] {
            assert_eq!(parse_http_date(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn clock_skew_warns_over_a_minute_and_fails_over_five() {
        assert!(codes(&targets(vec![dated("http://a.example/", 30)])).is_empty());
        assert_eq!(codes(&targets(vec![dated("http://a.example/", 90)])), [(Code::TimeSkew, Severity::Warn)]);
        assert_eq!(codes(&targets(vec![dated("http://a.example/", 2 * 86_400)])), [(Code::TimeSkew, Severity::Fail)]);
        assert_eq!(hop_skew_s(&dated("http://a.example/", 90).hops[0]), Some(90.0));
        // No receive time or no Date: nothing to judge.
        let mut h = dated("http://a.example/", 2 * 86_400);
        h.hops[0].received = None;
        assert!(codes(&targets(vec![h])).is_empty());
    }

    #[test]
    fn the_median_server_decides_clock_skew() {
        // One broken server two days off among two right ones: no finding.
        let ev = targets(vec![
            dated("http://a.example/", 1),
            dated("http://b.example/x", 2 * 86_400),
            dated("http://c.example:8080/", 2),
        ]);
        assert!(codes(&ev).is_empty());
        // Two of three off by 10 minutes: the clock is wrong.
        let ev = targets(vec![
            dated("http://a.example/", 600),
            dated("http://b.example/", 601),
            dated("http://c.example/", 0),
        ]);
        assert_eq!(codes(&ev), [(Code::TimeSkew, Severity::Fail)]);
        // The same server answering twice counts once.
        let ev = targets(vec![
            dated("http://a.example/1", 600),
            dated("http://a.example/2", 600),
            dated("http://b.example/", 0),
        ]);
        assert!(codes(&ev).is_empty());
    }

    #[test]
    fn scheme_and_host_come_from_absolute_urls_only() {
        assert_eq!(
            scheme_host("HTTP://User:pw@Portal.Example:8080/x?y"),
            Some(("http".into(), "portal.example".into()))
        );
        assert_eq!(scheme_host("https://[2001:db8::1]:443/"), Some(("https".into(), "2001:db8::1".into())));
        assert_eq!(scheme_host("/relative"), None);
        assert_eq!(scheme_host("http:///nohost"), None);
    }

    #[test]
    fn credentials_never_reach_the_evidence() {
        assert_eq!(without_credentials("https://u:secret@h.example:8443/p?q=a@b"), "https://h.example:8443/p?q=a@b");
        assert_eq!(without_credentials("http://h.example/a@b"), "http://h.example/a@b");
        assert_eq!(without_credentials("not a url"), "not a url");
    }

    #[test]
    fn the_expected_answer_is_online() {
        let p = probe(CHECK, vec![hop(CHECK, 204, None)]);
        assert_eq!(assess(&p, 204, None), (ConnectivityState::Online, None));
        assert!(judge(&connectivity(p, None)).is_empty());
    }

    #[test]
    fn a_redirect_to_another_host_is_a_portal_named_by_its_target() {
        let login = "http://portal.example/login?from=x";
        let p = probe(CHECK, vec![hop(CHECK, 302, Some(login)), hop(login, 200, None)]);
        let (state, url) = assess(&p, 204, None);
        assert_eq!((state, url.as_deref()), (ConnectivityState::Portal, Some(login)));
        assert_eq!(codes(&connectivity(p, None)), [(Code::WebCaptivePortal, Severity::Fail)]);
    }

    #[test]
    fn a_downgrade_from_https_is_a_portal_and_a_same_host_redirect_is_followed() {
        let secure = "https://check.example/ok";
        let plain = "http://check.example/ok";
        let p = probe(secure, vec![hop(secure, 301, Some(plain)), hop(plain, 204, None)]);
        assert_eq!(assess(&p, 204, None).0, ConnectivityState::Portal);
        let same = probe(
            CHECK,
            vec![hop(CHECK, 301, Some("http://check.example/b")), hop("http://check.example/b", 204, None)],
        );
        assert_eq!(assess(&same, 204, None).0, ConnectivityState::Online);
    }

    #[test]
    fn another_body_or_status_511_is_a_portal_and_5xx_an_http_error() {
        let wrong_body = probe(CHECK, vec![hop(CHECK, 204, None)]);
        assert_eq!(assess(&wrong_body, 204, Some(false)).0, ConnectivityState::Portal);
        let injected = probe(CHECK, vec![hop(CHECK, 200, None)]);
        assert_eq!(assess(&injected, 204, None), (ConnectivityState::Portal, Some(CHECK.into())));
        let nar = probe(CHECK, vec![hop(CHECK, 511, None)]);
        assert_eq!(assess(&nar, 204, None).0, ConnectivityState::Portal);
        let down = probe(CHECK, vec![hop(CHECK, 503, None)]);
        assert_eq!(codes(&connectivity(down, None)), [(Code::WebHttpError, Severity::Fail)]);
    }

    #[test]
    fn no_answer_is_unreachable_with_the_failed_phase() {
        let mut h = HttpHop { url: CHECK.into(), ..HttpHop::default() };
        h.error = Some(HopError { phase: Phase::Connect, timeout: false, message: "refused".into() });
        let p = probe(CHECK, vec![h]);
        assert_eq!(assess(&p, 204, None).0, ConnectivityState::Unreachable);
        assert_eq!(codes(&connectivity(p, None)), [(Code::WebUnreachable, Severity::Fail)]);
        assert_eq!(assess(&probe(CHECK, vec![]), 204, None).0, ConnectivityState::Unreachable);
    }

    #[test]
    fn each_tls_verdict_has_its_code_and_targets_judge_status() {
        let url = "https://www.example/";
        for verdict in [
            TlsVerdict::Untrusted,
            TlsVerdict::Expired,
            TlsVerdict::NotYetValid,
            TlsVerdict::HostnameMismatch,
            TlsVerdict::HandshakeFailed,
            TlsVerdict::OldProtocol,
        ] {
            let mut h = HttpHop { url: url.into(), ..HttpHop::default() };
            h.tls = Some(TlsInfo {
                verdict,
                version: None,
                cipher: None,
                alpn: None,
                chain: vec![],
                error: Some("x".into()),
                ..TlsInfo::default()
            });
            h.error = Some(HopError { phase: Phase::Tls, timeout: false, message: "x".into() });
            let ev = WebEvidence { connectivity: None, targets: vec![probe(url, vec![h])], ..WebEvidence::default() };
            assert_eq!(codes(&ev), [(verdict.code().unwrap(), Severity::Fail)]);
        }
        let ev = WebEvidence {
            connectivity: None,
            targets: vec![
                probe(url, vec![hop(url, 200, None)]),
                probe("http://b.example/", vec![hop("http://b.example/", 503, None)]),
                probe("http://c.example/", vec![hop("http://c.example/", 404, None)]),
            ],
            ..WebEvidence::default()
        };
        assert_eq!(codes(&ev), [(Code::WebHttpError, Severity::Fail), (Code::WebHttpError, Severity::Fail)]);
    }

    #[test]
    fn an_https_connectivity_url_that_fails_tls_is_one_tls_finding() {
        let url = "https://check.example/";
        let mut h = HttpHop { url: url.into(), ..HttpHop::default() };
        h.tls = Some(TlsInfo {
            verdict: TlsVerdict::Untrusted,
            version: None,
            cipher: None,
            alpn: None,
            chain: vec![],
            error: None,
            ..TlsInfo::default()
        });
        h.error = Some(HopError { phase: Phase::Tls, timeout: false, message: "x".into() });
        assert_eq!(codes(&connectivity(probe(url, vec![h]), None)), [(Code::TlsUntrusted, Severity::Fail)]);
    }

    #[test]
    fn too_many_redirects_and_bad_urls_are_findings() {
        let mut p = probe("http://loop.example/", vec![hop("http://loop.example/", 302, Some("http://loop.example/"))]);
        p.error = Some(ProbeError { kind: ProbeErrorKind::TooManyRedirects, message: "more than 5".into() });
        let mut bad = probe("ftp://x/", vec![]);
        bad.error = Some(ProbeError { kind: ProbeErrorKind::InvalidUrl, message: "scheme".into() });
        let ev = WebEvidence { connectivity: None, targets: vec![p, bad], ..WebEvidence::default() };
        assert_eq!(codes(&ev), [(Code::WebHttpError, Severity::Fail), (Code::ToolCheckError, Severity::Warn)]);
    }

    #[test]
    fn evidence_round_trips_through_json() {
        let ev = connectivity(probe(CHECK, vec![hop(CHECK, 302, Some("http://portal.example/"))]), None);
        let json = serde_json::to_value(&ev).unwrap();
        assert_eq!(json["connectivity"]["state"], "portal");
        let back: WebEvidence = serde_json::from_value(json).unwrap();
        assert_eq!(back, ev);
    }

    /// One family's request to `address`: answered with `status`, or stopped in `phase`
    /// (by a timeout or not), after a connect that ended as `connect`.
    fn family_hop(address: &str, status: Option<u16>, stop: Option<(Phase, bool)>) -> HttpHop {
        HttpHop {
            url: "http://dual.site.test/".into(),
            address: Some(address.parse().unwrap()),
            status,
            total_ms: Some(3.0),
            error: stop.map(|(phase, timeout)| HopError { phase, timeout, message: "x".into() }),
            ..HttpHop::default()
        }
    }

    #[test]
    fn a_family_request_ends_in_the_ports_checks_terms() {
        let v6 = "[2001:2:0:2::2]:80";
        let open = Some(PortOutcome::Open);
        let cases = [
            (family_hop(v6, Some(503), None), open, PortOutcome::Open),
            (family_hop(v6, None, Some((Phase::Connect, true))), None, PortOutcome::Filtered),
            // Connected, then the TLS handshake stalled: the large packets are lost.
            (family_hop(v6, None, Some((Phase::Tls, true))), open, PortOutcome::Filtered),
            (family_hop(v6, None, Some((Phase::Connect, false))), Some(PortOutcome::Refused), PortOutcome::Refused),
            (
                family_hop(v6, None, Some((Phase::Connect, false))),
                Some(PortOutcome::Unreachable),
                PortOutcome::Unreachable,
            ),
            // A certificate the server got wrong is not a broken path.
            (family_hop(v6, None, Some((Phase::Tls, false))), open, PortOutcome::LocalError),
            (family_hop(v6, Some(200), Some((Phase::Transfer, false))), open, PortOutcome::Open),
        ];
        for (hop, connect, want) in cases {
            assert_eq!(family_outcome(&hop, connect), want, "{hop:?}");
        }
        let a = family_attempt(&family_hop(v6, None, Some((Phase::Tls, true))), open, Some(1428)).unwrap();
        assert_eq!((a.attempt.family, a.attempt.mss, a.failed_phase), (IpFamily::Ipv6, Some(1428), Some(Phase::Tls)));
        assert!(family_attempt(&HttpHop::default(), None, None).is_none(), "no address, no attempt");
    }

    #[test]
    fn a_url_that_answers_over_one_family_only_is_the_ports_family_verdict() {
        let url = "http://dual.site.test/";
        let (v4, v6) = ("198.18.1.2:80", "[2001:2:0:2::2]:80");
        let open = Some(PortOutcome::Open);
        let ev = |main: HttpHop, a: HttpHop, ca, b: HttpHop, cb| WebEvidence {
            targets: vec![probe(url, vec![main])],
            families: vec![UrlFamilies {
                url: url.into(),
                attempts: [family_attempt(&a, ca, None), family_attempt(&b, cb, None)].into_iter().flatten().collect(),
            }],
            ..WebEvidence::default()
        };
        let answer = |address| family_hop(address, Some(200), None);
        let dropped = |address| family_hop(address, None, Some((Phase::Connect, true)));

        // IPv6 dropped: the target answers (over IPv4), and IPv6 is named in the web layer.
        let broken6 = ev(answer(v4), answer(v4), open, dropped(v6), None);
        assert_eq!(codes(&broken6), [(Code::Ipv6Broken, Severity::Warn)]);
        assert!(judge(&broken6).iter().all(|f| f.layer == CheckId::Web));
        // The same rule as the ports check's, read from the same attempts.
        let probes: Vec<FamilyProbe> = broken6.families[0].attempts.iter().map(|a| a.attempt.clone()).collect();
        let from_ports = ports::judge_families(CheckId::Web, [(url, probes.as_slice())]);
        assert_eq!(judge(&broken6), from_ports);

        // IPv4 dropped: the main request (IPv4 first) failed, but a dual-stack client gets
        // an answer over IPv6, so the family verdict replaces web.unreachable.
        let broken4 = ev(dropped(v4), dropped(v4), None, answer(v6), open);
        assert_eq!(codes(&broken4), [(Code::Ipv4Broken, Severity::Warn)]);

        // Both answer: nothing; both dropped: unreachable, no family verdict.
        assert!(codes(&ev(answer(v4), answer(v4), open, answer(v6), open)).is_empty());
        assert_eq!(
            codes(&ev(dropped(v4), dropped(v4), None, dropped(v6), None)),
            [(Code::WebUnreachable, Severity::Fail)]
        );

        // Absent when empty, and round-trips.
        let json = serde_json::to_value(&broken6).unwrap();
        assert_eq!(json["families"][0]["attempts"][1]["family"], "ipv6");
        assert_eq!(json["families"][0]["attempts"][1]["outcome"], "filtered");
        assert_eq!(serde_json::from_value::<WebEvidence>(json).unwrap(), broken6);
        assert!(serde_json::to_value(WebEvidence::default()).unwrap().get("families").is_none());
    }
}
