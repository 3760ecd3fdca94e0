//! The `m365` service profile (docs/checks/m365.md): can this machine use Microsoft 365
//! (Outlook, SharePoint/OneDrive, Teams, the sign-in) the way Microsoft asks networks to
//! carry it?
//!
//! A profile is a check that runs only when chosen (`--profile m365`, `[profiles] enabled`),
//! after the layers it needs (`runner::GRAPH`: after `dns` and `web`); blocks nothing. Its
//! contract, shared by every profile: a typed evidence, a pure [`judge`], [`details`] (the
//! report's one-line summary), [`targets`] (each target and whether it worked, for
//! metrics), [`budget_ms`] and, with the `live` feature, `run`.
//!
//! Two probes, at once, each bounded by `profiles.m365.timeout_ms`:
//!
//! - every endpoint of `[profiles.m365] endpoints` (data, with Microsoft's published
//!   defaults: `config::profiles::m365`) goes through the web layer exactly as the `web`
//!   check's URL targets do (`check::web::probe_urls`: the system's proxy, DNS, TCP, TLS,
//!   one GET, no redirect followed): a category with an endpoint that does not answer is
//!   `m365.unreachable`; a chain that validates only through a CA outside the public set
//!   (`public_ca_file`, default Mozilla's roots: `TlsInfo::public_root`) is
//!   `m365.tls_inspected`;
//! - a STUN Binding Request ([`stun`]) to the Teams media relay on each UDP port
//!   (3478-3481): no answer on any port is `m365.media_blocked`. UDP never goes through an
//!   HTTP proxy, so this probe is always direct.

use std::collections::BTreeMap;
use std::net::IpAddr;

use serde::{Deserialize, Serialize};

use crate::check::web::{HttpHop, Phase, ProbeErrorKind, TlsVerdict, WebProbe};
use crate::check::{ProfileTarget, finding};
use crate::config::M365Settings;
use crate::report::{CheckId, Code, Finding, Severity};

pub mod stun;

use stun::StunResponse;

/// The metrics target of the media probe (beside the categories).
pub const MEDIA_TARGET: &str = "teams_media";

/// What the `m365` profile observed.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct M365Evidence {
    /// Each endpoint requested, in the configured order.
    pub endpoints: Vec<EndpointProbe>,
    /// Endpoints not requested (a tenant-specific URL without `tenant`).
    pub skipped: Vec<SkippedEndpoint>,
    /// The PEM file whose CAs counted as the public ones; `None`: Mozilla's root set.
    pub public_ca_file: Option<String>,
    /// The Teams media probe; `None`: not run (no relay or no ports configured).
    pub media: Option<MediaProbe>,
}

/// One endpoint requested through the web layer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EndpointProbe {
    /// The category it belongs to (`exchange`, `sharepoint`, `teams`, `login`, ...).
    pub category: String,
    /// The request, as the web check records its URL targets (one hop: redirects are not
    /// followed, an answer of any status is reachability).
    pub probe: WebProbe,
}

/// An endpoint not requested, and why.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SkippedEndpoint {
    /// Its category.
    pub category: String,
    /// The URL as configured (with its `{tenant}` placeholder).
    pub url: String,
    /// Why, as a stable code.
    pub reason: SkipCause,
}

/// Why an endpoint was not requested.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SkipCause {
    /// The URL names the tenant and `[profiles.m365] tenant` is not set.
    NoTenant,
}

/// The STUN probe of the Teams media relay.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct MediaProbe {
    /// The relay as configured.
    pub relay: String,
    /// The address asked.
    pub address: Option<IpAddr>,
    /// Why no request was sent (the name did not resolve, no socket), if none was.
    pub error: Option<String>,
    /// Each port asked.
    pub ports: Vec<MediaPort>,
}

impl MediaProbe {
    /// The ports a STUN answer came from.
    pub fn answered(&self) -> impl Iterator<Item = &MediaPort> {
        self.ports.iter().filter(|p| p.outcome == MediaOutcome::Answered)
    }
}

/// One UDP port of the relay.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MediaPort {
    /// The UDP port.
    pub port: u16,
    /// How the exchange ended.
    pub outcome: MediaOutcome,
    /// Requests sent (RFC 5389 section 7.2.1 retransmissions within the timeout).
    #[serde(default)]
    pub requests: u32,
    /// From the first request to the answer, in milliseconds.
    #[serde(default)]
    pub rtt_ms: Option<f64>,
    /// The answer.
    #[serde(default)]
    pub response: Option<StunResponse>,
}

/// How one port's STUN exchange ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MediaOutcome {
    /// A Binding response (success or error) came back.
    Answered,
    /// An ICMP port unreachable came back: UDP gets there, nothing listens.
    Refused,
    /// Nothing came back within the timeout (a filter, or loss).
    NoAnswer,
    /// The request could not be sent.
    SendFailed,
}

impl MediaOutcome {
    /// The outcome as it appears in reports.
    pub fn as_str(self) -> &'static str {
        match self {
            MediaOutcome::Answered => "answered",
            MediaOutcome::Refused => "refused",
            MediaOutcome::NoAnswer => "no_answer",
            MediaOutcome::SendFailed => "send_failed",
        }
    }
}

/// Why an endpoint did not answer (pure): `None` when its request got an HTTP answer.
pub fn failure(probe: &WebProbe) -> Option<String> {
    let Some(hop) = probe.hops.first() else {
        return Some(match &probe.error {
            Some(e) => format!("invalid URL: {}", e.message),
            None => "no request was made".into(),
        });
    };
    let Some(error) = &hop.error else {
        // A redirect not followed is still an answer.
        return match (hop.status, &probe.error) {
            (Some(_), _) => None,
            (None, Some(e)) if e.kind != ProbeErrorKind::TooManyRedirects => Some(e.message.clone()),
            (None, _) => Some("no answer".into()),
        };
    };
    let mut why = error.phase.as_str().to_string();
    if let Some(tls) = &hop.tls
        && tls.verdict != TlsVerdict::Ok
    {
        let verdict = tls.verdict.code().map_or("failed", |c| c.as_str());
        why.push_str(&format!(" ({verdict}"));
        if let Some(issuer) = tls.chain.first().map(|c| c.issuer.as_str()) {
            why.push_str(&format!(", issued by {issuer}"));
        }
        why.push(')');
    } else if error.timeout {
        why.push_str(" (timeout)");
    } else if error.phase == Phase::Connect && hop.status.is_some() {
        why.push_str(&format!(" (the proxy answered CONNECT with HTTP {})", hop.status.unwrap_or_default()));
    }
    if hop.via.proxy.is_some() {
        why.push_str(if hop.via.proxy_unreachable { " at the proxy" } else { " through the proxy" });
    }
    Some(why)
}

/// The first hop's TLS, when its chain validated only through a CA outside the public set.
fn inspected(probe: &WebProbe) -> Option<&HttpHop> {
    probe
        .hops
        .first()
        .filter(|h| h.tls.as_ref().is_some_and(|t| t.verdict == TlsVerdict::Ok && t.public_root == Some(false)))
}

/// Each category with its endpoints, in the order first configured.
fn categories(ev: &M365Evidence) -> Vec<(&str, Vec<&EndpointProbe>)> {
    let mut order: Vec<&str> = Vec::new();
    let mut by: BTreeMap<&str, Vec<&EndpointProbe>> = BTreeMap::new();
    for e in &ev.endpoints {
        if !order.contains(&e.category.as_str()) {
            order.push(&e.category);
        }
        by.entry(&e.category).or_default().push(e);
    }
    order.into_iter().map(|c| (c, by.remove(c).unwrap_or_default())).collect()
}

/// The findings the evidence shows (pure).
///
/// - `m365.unreachable` (fail), one per category with an endpoint that got no HTTP answer:
///   every default endpoint is a required one (Microsoft's `Optimize`/`Allow`), so one
///   down is that service down, and each service is judged on its own;
/// - `m365.tls_inspected` (warn), once, naming the endpoints whose chain validated only
///   through a CA outside the public set and its issuer;
/// - `m365.media_blocked` (warn) when the media probe ran and no port answered.
pub fn judge(ev: &M365Evidence, _settings: &M365Settings) -> Vec<Finding> {
    let mut out = Vec::new();
    for (category, endpoints) in categories(ev) {
        let failed: Vec<String> = endpoints
            .iter()
            .filter_map(|e| failure(&e.probe).map(|why| format!("{} failed at {why}", e.probe.url)))
            .collect();
        if !failed.is_empty() {
            out.push(finding(
                CheckId::M365,
                Code::M365Unreachable,
                Severity::Fail,
                format!("Microsoft 365 {category}: {}", failed.join("; ")),
            ));
        }
    }
    let inspected: Vec<String> = ev
        .endpoints
        .iter()
        .filter_map(|e| {
            let hop = inspected(&e.probe)?;
            let issuer = hop.tls.as_ref().and_then(|t| t.chain.last()).map_or("an unnamed CA", |c| c.issuer.as_str());
            Some(format!("{} (issued by {issuer})", e.probe.url))
        })
        .collect();
    if !inspected.is_empty() {
        out.push(finding(
            CheckId::M365,
            Code::M365TlsInspected,
            Severity::Warn,
            format!(
                "the certificate chains of {} lead to a CA outside the public set: TLS inspection, which Microsoft asks to bypass for these endpoints",
                inspected.join(", ")
            ),
        ));
    }
    if let Some(media) = &ev.media
        && media.answered().next().is_none()
    {
        let message = match (&media.error, media.ports.is_empty()) {
            (Some(e), _) => format!("Teams media relay {}: {e}", media.relay),
            (None, true) => format!("Teams media relay {}: no port was asked", media.relay),
            (None, false) => {
                let ports: Vec<String> =
                    media.ports.iter().map(|p| format!("{} {}", p.port, p.outcome.as_str())).collect();
                format!(
                    "Teams media relay {}: no STUN answer on UDP {}; calls fall back to TCP 443",
                    media.relay,
                    ports.join(", ")
                )
            }
        };
        out.push(finding(CheckId::M365, Code::M365MediaBlocked, Severity::Warn, message));
    }
    out
}

/// One line for the report's details column (table, Markdown, HTML).
pub fn details(ev: &M365Evidence) -> String {
    let mut parts: Vec<String> = categories(ev)
        .into_iter()
        .map(|(category, endpoints)| {
            let down = endpoints.iter().filter(|e| failure(&e.probe).is_some()).count();
            match down {
                0 => format!("{category} ok"),
                n => format!("{category} {n}/{} down", endpoints.len()),
            }
        })
        .collect();
    let mut skipped: Vec<&str> = ev.skipped.iter().map(|s| s.category.as_str()).collect();
    skipped.dedup();
    parts.extend(skipped.into_iter().map(|c| format!("{c} skipped (no tenant)")));
    if let Some(media) = &ev.media {
        let answered = media.answered().count();
        parts.push(match &media.error {
            Some(_) => "media relay not asked".into(),
            None => format!("media UDP {answered}/{} ports answer", media.ports.len()),
        });
    }
    let inspected = ev.endpoints.iter().filter(|e| inspected(&e.probe).is_some()).count();
    if inspected > 0 {
        parts.push(format!("TLS inspected on {inspected}"));
    }
    if parts.is_empty() { "nothing tested".into() } else { parts.join(", ") }
}

/// Each target tested and whether it worked (`nettriage_profile_check_success`): one per
/// category (every endpoint answered) and [`MEDIA_TARGET`] (a port answered).
pub fn targets(ev: &M365Evidence) -> Vec<ProfileTarget> {
    let mut out: Vec<ProfileTarget> = categories(ev)
        .into_iter()
        .map(|(category, endpoints)| ProfileTarget {
            target: category.to_string(),
            success: endpoints.iter().all(|e| failure(&e.probe).is_none()),
        })
        .collect();
    if let Some(media) = &ev.media {
        out.push(ProfileTarget { target: MEDIA_TARGET.into(), success: media.answered().next().is_some() });
    }
    out
}

/// The longest this check may take, in milliseconds (the runner's budget): a PAC fetch and
/// its proxies' tests, then the endpoints and the media probe at once, each within the
/// timeout.
pub fn budget_ms(settings: &M365Settings) -> u64 {
    settings.timeout_ms * 3 + 1_000
}

#[cfg(feature = "live")]
pub use live::run;

#[cfg(feature = "live")]
mod live {
    //! The I/O half: the endpoints through the web layer, the STUN exchanges over UDP.

    use std::net::{IpAddr, SocketAddr};
    use std::time::{Duration, Instant};

    use tokio::net::UdpSocket;

    use super::*;
    use crate::check::{CheckContext, CheckError, Outcome};
    use crate::config::WebSettings;
    use crate::report::{Evidence, SkipReason};
    use crate::types::millis;

    /// Body bytes read from one endpoint (its status is what counts).
    const MAX_BODY: usize = 16 * 1024;

    /// Whether the media probe runs.
    fn media_wanted(settings: &M365Settings) -> bool {
        !settings.media_relay.is_empty() && !settings.media_ports.is_empty()
    }

    /// Runs the profile's probes and judges them.
    pub async fn run(ctx: &CheckContext<'_>) -> Result<Outcome, CheckError> {
        let settings = &ctx.config.profiles.m365;
        let tenant = settings.tenant.as_deref();
        let mut wanted = Vec::new();
        let mut skipped = Vec::new();
        for e in &settings.endpoints {
            match e.resolved_url(tenant) {
                Some(url) => wanted.push((e.category.clone(), url)),
                None => skipped.push(SkippedEndpoint {
                    category: e.category.clone(),
                    url: e.url.clone(),
                    reason: SkipCause::NoTenant,
                }),
            }
        }
        if wanted.is_empty() && !media_wanted(settings) {
            return Ok(Outcome::Skipped {
                code: SkipReason::NoTargets,
                reason: "no Microsoft 365 endpoint to request (a tenant-specific list without [profiles.m365] tenant) and no media relay".into(),
                blocked_by: None,
                evidence: Evidence::M365(Box::new(M365Evidence { skipped, ..M365Evidence::default() })),
            });
        }
        let timeout = Duration::from_millis(settings.timeout_ms);
        let web = WebSettings {
            connectivity_url: None,
            urls: wanted.iter().map(|(_, u)| u.clone()).collect(),
            timeout_ms: settings.timeout_ms,
            max_redirects: 0,
            max_body_bytes: MAX_BODY,
            ..ctx.config.web.clone()
        };
        let endpoints = async {
            if wanted.is_empty() {
                return Ok(Vec::new());
            }
            crate::check::web::probe_urls(ctx, &web, settings.public_ca_file.as_deref()).await.map(|(p, _)| p)
        };
        let media = async {
            if !media_wanted(settings) {
                return None;
            }
            Some(probe_media(&settings.media_relay, &settings.media_ports, timeout).await)
        };
        let (probes, media) = futures::join!(endpoints, media);
        let endpoints =
            wanted.into_iter().zip(probes?).map(|((category, _), probe)| EndpointProbe { category, probe }).collect();
        let ev = M365Evidence {
            endpoints,
            skipped,
            public_ca_file: settings.public_ca_file.as_ref().map(|p| p.display().to_string()),
            media,
        };
        Ok(Outcome::Ran { findings: judge(&ev, settings), evidence: Evidence::M365(Box::new(ev)) })
    }

    /// Resolves the relay (IPv4 preferred, as the web layer) and asks each port at once.
    async fn probe_media(relay: &str, ports: &[u16], timeout: Duration) -> MediaProbe {
        let mut probe = MediaProbe { relay: relay.to_string(), ..MediaProbe::default() };
        let address = match relay.trim_matches(['[', ']']).parse::<IpAddr>() {
            Ok(ip) => Ok(ip),
            Err(_) => match tokio::time::timeout(timeout, tokio::net::lookup_host((relay, 0))).await {
                Ok(Ok(found)) => {
                    let found: Vec<SocketAddr> = found.collect();
                    found
                        .iter()
                        .find(|a| a.is_ipv4())
                        .or(found.first())
                        .map(SocketAddr::ip)
                        .ok_or_else(|| format!("{relay} has no address"))
                }
                Ok(Err(e)) => Err(format!("resolving {relay}: {e}")),
                Err(_) => Err(format!("resolving {relay}: no answer within {} ms", timeout.as_millis())),
            },
        };
        let address = match address {
            Ok(a) => a,
            Err(e) => {
                probe.error = Some(e);
                return probe;
            }
        };
        probe.address = Some(address);
        probe.ports = futures::future::join_all(ports.iter().map(|&p| ask(SocketAddr::new(address, p), timeout))).await;
        probe
    }

    /// One STUN exchange: a Binding Request, resent after 500 ms, then doubling (RFC 5389
    /// section 7.2.1), until an answer to it or the timeout.
    async fn ask(to: SocketAddr, timeout: Duration) -> MediaPort {
        let mut port =
            MediaPort { port: to.port(), outcome: MediaOutcome::SendFailed, requests: 0, rtt_ms: None, response: None };
        let bind: SocketAddr = if to.is_ipv4() { ([0, 0, 0, 0], 0).into() } else { ([0u16; 8], 0).into() };
        let socket = match UdpSocket::bind(bind).await {
            Ok(s) => s,
            Err(e) => {
                tracing::debug!(error = %e, %to, "no UDP socket for STUN");
                return port;
            }
        };
        // Connected, so an ICMP port unreachable comes back as ECONNREFUSED.
        if let Err(e) = socket.connect(to).await {
            tracing::debug!(error = %e, %to, "STUN socket cannot connect");
            return port;
        }
        let id: stun::TransactionId = rand::random();
        let request = stun::binding_request(&id);
        let started = Instant::now();
        let deadline = started + timeout;
        let mut rto = Duration::from_millis(500);
        let mut next_send = started;
        let mut buf = [0u8; 1500];
        port.outcome = MediaOutcome::NoAnswer;
        loop {
            let now = Instant::now();
            if now >= deadline {
                return port;
            }
            if now >= next_send {
                match socket.send(&request).await {
                    Ok(_) => port.requests += 1,
                    Err(e) if e.kind() == std::io::ErrorKind::ConnectionRefused => {
                        port.outcome = MediaOutcome::Refused;
                        return port;
                    }
                    Err(e) => {
                        tracing::debug!(error = %e, %to, "STUN request not sent");
                        if port.requests == 0 {
                            port.outcome = MediaOutcome::SendFailed;
                            return port;
                        }
                    }
                }
                next_send = now + rto;
                rto *= 2;
            }
            let wait = next_send.min(deadline).saturating_duration_since(Instant::now());
            match tokio::time::timeout(wait, socket.recv_from(&mut buf)).await {
                Err(_) => continue,
                Ok(Err(e)) if e.kind() == std::io::ErrorKind::ConnectionRefused => {
                    port.outcome = MediaOutcome::Refused;
                    return port;
                }
                Ok(Err(e)) => {
                    tracing::debug!(error = %e, %to, "STUN receive failed");
                    continue;
                }
                Ok(Ok((n, from))) => {
                    if from.ip() != to.ip() {
                        continue;
                    }
                    match stun::decode_response(&buf[..n], &id) {
                        Ok(response) => {
                            port.outcome = MediaOutcome::Answered;
                            port.rtt_ms = Some(millis(started.elapsed()));
                            port.response = Some(response);
                            return port;
                        }
                        Err(e) => tracing::debug!(error = %e, %to, "not our STUN answer"),
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::check::web::{CertInfo, HopError, TlsInfo};
    use stun::StunClass;

    fn ok_hop(url: &str, public_root: Option<bool>) -> HttpHop {
        HttpHop {
            url: url.into(),
            status: Some(200),
            tls: Some(TlsInfo {
                verdict: TlsVerdict::Ok,
                public_root,
                chain: vec![CertInfo {
                    subject: "CN=leaf".into(),
                    issuer: "CN=inspector".into(),
                    sans: vec![],
                    not_before: None,
                    not_after: None,
                }],
                ..TlsInfo::default()
            }),
            ..HttpHop::default()
        }
    }

    fn endpoint(category: &str, hop: HttpHop) -> EndpointProbe {
        EndpointProbe {
            category: category.into(),
            probe: WebProbe { url: hop.url.clone(), hops: vec![hop], error: None, total_ms: Some(5.0) },
        }
    }

    fn failed(url: &str, phase: Phase) -> HttpHop {
        HttpHop {
            url: url.into(),
            error: Some(HopError { phase, timeout: false, message: "refused".into() }),
            ..HttpHop::default()
        }
    }

    fn media(outcomes: &[MediaOutcome]) -> MediaProbe {
        MediaProbe {
            relay: "relay.example".into(),
            address: Some([192, 0, 2, 1].into()),
            error: None,
            ports: outcomes
                .iter()
                .zip(3478..)
                .map(|(&outcome, port)| MediaPort {
                    port,
                    outcome,
                    requests: 1,
                    rtt_ms: None,
                    response: (outcome == MediaOutcome::Answered).then_some(StunResponse {
                        class: StunClass::Success,
                        mapped: None,
                        error_code: None,
                        software: None,
                    }),
                })
                .collect(),
        }
    }

    fn healthy() -> M365Evidence {
        M365Evidence {
            endpoints: vec![
                endpoint("exchange", ok_hop("https://outlook.office365.com/", Some(true))),
                endpoint("exchange", ok_hop("https://outlook.office.com/", Some(true))),
                endpoint("teams", ok_hop("https://teams.microsoft.com/", Some(true))),
                endpoint("login", ok_hop("https://login.microsoftonline.com/", Some(true))),
            ],
            skipped: vec![SkippedEndpoint {
                category: "sharepoint".into(),
                url: "https://{tenant}.sharepoint.com/".into(),
                reason: SkipCause::NoTenant,
            }],
            public_ca_file: None,
            media: Some(media(&[MediaOutcome::Answered; 4])),
        }
    }

    fn codes(ev: &M365Evidence) -> Vec<(Code, Severity)> {
        judge(ev, &M365Settings::default()).iter().map(|f| (f.code, f.severity)).collect()
    }

    #[test]
    fn a_healthy_run_has_no_findings_and_every_target_succeeds() {
        let ev = healthy();
        assert!(codes(&ev).is_empty());
        let t = targets(&ev);
        let names: Vec<&str> = t.iter().map(|t| t.target.as_str()).collect();
        assert_eq!(names, ["exchange", "teams", "login", MEDIA_TARGET]);
        assert!(t.iter().all(|t| t.success));
    }

    #[test]
    fn one_endpoint_down_is_its_category_unreachable() {
        let mut ev = healthy();
        ev.endpoints[1] = endpoint("exchange", failed("https://outlook.office.com/", Phase::Connect));
        ev.endpoints[3] = endpoint("login", failed("https://login.microsoftonline.com/", Phase::Resolve));
        assert_eq!(codes(&ev), [(Code::M365Unreachable, Severity::Fail), (Code::M365Unreachable, Severity::Fail)]);
        let t = targets(&ev);
        assert_eq!(t.iter().map(|t| t.success).collect::<Vec<_>>(), [false, true, false, true]);
    }

    #[test]
    fn any_http_status_and_an_unfollowed_redirect_are_reachable() {
        let mut ev = healthy();
        let mut redirect = ok_hop("https://outlook.office365.com/", Some(true));
        redirect.status = Some(302);
        redirect.location = Some("https://outlook.office365.com/owa/".into());
        ev.endpoints[0] = endpoint("exchange", redirect);
        ev.endpoints[0].probe.error = Some(crate::check::web::ProbeError {
            kind: ProbeErrorKind::TooManyRedirects,
            message: "more than 0 redirects".into(),
        });
        let mut forbidden = ok_hop("https://teams.microsoft.com/", Some(true));
        forbidden.status = Some(403);
        ev.endpoints[2] = endpoint("teams", forbidden);
        assert!(codes(&ev).is_empty());
    }

    #[test]
    fn a_chain_outside_the_public_set_is_tls_inspected_once() {
        let mut ev = healthy();
        ev.endpoints[0] = endpoint("exchange", ok_hop("https://outlook.office365.com/", Some(false)));
        ev.endpoints[2] = endpoint("teams", ok_hop("https://teams.microsoft.com/", Some(false)));
        assert_eq!(codes(&ev), [(Code::M365TlsInspected, Severity::Warn)]);
        assert!(targets(&ev).iter().all(|t| t.success));
    }

    #[test]
    fn an_untrusted_chain_is_unreachable_at_tls() {
        let mut ev = healthy();
        let mut hop = failed("https://teams.microsoft.com/", Phase::Tls);
        hop.tls = Some(TlsInfo { verdict: TlsVerdict::Untrusted, ..TlsInfo::default() });
        ev.endpoints[2] = endpoint("teams", hop);
        assert_eq!(codes(&ev), [(Code::M365Unreachable, Severity::Fail)]);
        assert!(failure(&ev.endpoints[2].probe).is_some_and(|w| w.starts_with("tls")));
    }

    #[test]
    fn media_is_blocked_only_when_no_port_answers() {
        let mut ev = healthy();
        ev.media = Some(media(&[MediaOutcome::NoAnswer, MediaOutcome::NoAnswer, MediaOutcome::Answered]));
        assert!(codes(&ev).is_empty());
        ev.media = Some(media(&[MediaOutcome::NoAnswer, MediaOutcome::Refused, MediaOutcome::NoAnswer]));
        assert_eq!(codes(&ev), [(Code::M365MediaBlocked, Severity::Warn)]);
        assert_eq!(targets(&ev).last().map(|t| t.success), Some(false));
        ev.media = Some(MediaProbe { relay: "r".into(), error: Some("no address".into()), ..MediaProbe::default() });
        assert_eq!(codes(&ev), [(Code::M365MediaBlocked, Severity::Warn)]);
        ev.media = None;
        assert!(codes(&ev).is_empty());
        assert!(targets(&ev).iter().all(|t| t.target != MEDIA_TARGET));
    }

    #[test]
    fn details_name_each_category_the_skips_and_the_media_ports() {
        let mut ev = healthy();
        ev.endpoints[1] = endpoint("exchange", failed("https://outlook.office.com/", Phase::Connect));
        let line = details(&ev);
        assert!(!line.contains('\n'));
        for part in ["exchange 1/2 down", "teams ok", "sharepoint skipped", "4/4"] {
            assert!(line.contains(part), "{line}");
        }
        assert_eq!(details(&M365Evidence::default()), "nothing tested");
    }

    #[test]
    fn evidence_round_trips_and_tolerates_missing_fields() {
        let ev = healthy();
        let json = serde_json::to_string(&ev).unwrap();
        assert_eq!(serde_json::from_str::<M365Evidence>(&json).unwrap(), ev);
        assert_eq!(serde_json::from_str::<M365Evidence>("{}").unwrap(), M365Evidence::default());
    }
}
