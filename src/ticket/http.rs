//! The HTTP side shared by the ticket systems that speak HTTP (`rt`, `jira`, `servicenow`,
//! `zendesk`): one reqwest client per delivery (rustls with ring; trust is the system store
//! plus `[ticket] ca_file`), every request bounded by `[ticket] timeout_ms`, every answer
//! body read bounded by [`MAX_BODY`], and one mapping of failures onto
//! [`DeliveryError`]: connection and TLS failures are `Transport` (transient), an error
//! status is `Status` (401/403/413 permanent, 429/5xx transient, `Retry-After` of a 429 or
//! 503 parsed), a refusal of the settings is `Config`.
//!
//! It also reads the credential ([`read_secret`]: an environment variable, or a file that
//! is mode 0600 and owned by the caller) and keeps it out of every message: [`Secret`]'s
//! `Debug` prints nothing of it, and errors name the variable or the path, never the value.

use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use base64::Engine;
use reqwest::header::{HeaderMap, HeaderValue, RETRY_AFTER};
use reqwest::{Method, RequestBuilder, StatusCode};
use rustls::RootCertStore;
use rustls::pki_types::CertificateDer;
use rustls::pki_types::pem::PemObject;
use serde::de::DeserializeOwned;
use url::Url;

use crate::config::{SecretSource, TicketSettings, TicketSystem};

use super::{Attachment, DeliveryError, Step, Ticket};

/// Largest answer body read from a ticket system (their JSON answers are a few KiB).
pub(crate) const MAX_BODY: usize = 1024 * 1024;

/// A credential. Its `Debug` shows nothing of the value, so it can sit in structs that are
/// logged or printed in a panic.
#[derive(Clone)]
pub(crate) struct Secret(String);

impl Secret {
    /// The value, for the one header that carries it.
    pub(crate) fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Secret(..)")
    }
}

/// Reads the credential `source` names: `secret_env` (the variable must be set and not
/// empty) or `secret_file` (a regular file of mode 0600 or stricter, owned by the effective
/// user running nettriage; otherwise refused, naming the path). Exactly one must be given.
/// One trailing newline is dropped.
pub(crate) fn read_secret(system: TicketSystem, source: &SecretSource) -> Result<Secret, DeliveryError> {
    let config = |message: String| DeliveryError::Config { system: system.name(), message };
    let Some(value) = super::read_secret(system, source)? else {
        return Err(config("no credential: set secret_env or secret_file".into()));
    };
    if value.contains(['\r', '\n', '\0']) {
        return Err(config("the credential holds a line break or NUL".into()));
    }
    Ok(Secret(value))
}

/// How requests authenticate.
#[derive(Debug, Clone)]
pub(crate) enum Auth {
    /// `Authorization: token <secret>` (Request Tracker REST2).
    Token(Secret),
    /// `Authorization: Bearer <secret>` (Jira Data Center personal access token).
    Bearer(Secret),
    /// `Authorization: Basic base64(user:secret)`.
    Basic {
        /// User name (Jira Cloud: the account e-mail; Zendesk: `email/token`).
        user: String,
        /// Password or API token.
        secret: Secret,
    },
}

impl Auth {
    fn header(&self) -> Result<HeaderValue, String> {
        let text = match self {
            Auth::Token(s) => format!("token {}", s.expose()),
            Auth::Bearer(s) => format!("Bearer {}", s.expose()),
            Auth::Basic { user, secret } => {
                let raw = format!("{user}:{}", secret.expose());
                format!("Basic {}", base64::engine::general_purpose::STANDARD.encode(raw))
            }
        };
        let mut value =
            HeaderValue::from_str(&text).map_err(|_| "the credential is not a valid header value".to_string())?;
        value.set_sensitive(true);
        Ok(value)
    }
}

/// The attachments a delivery sends, and a note for the body naming those left out.
pub(crate) struct Sendable<'a> {
    /// Attachments within `max_attachment_bytes`.
    pub attachments: Vec<&'a Attachment>,
    /// "left out" note to append to the body, when some were too large.
    pub note: Option<String>,
}

impl Sendable<'_> {
    /// `body` with the note appended, if any.
    pub(crate) fn body(&self, body: &str) -> String {
        match &self.note {
            Some(note) => format!("{body}\n\n{note}"),
            None => body.to_string(),
        }
    }
}

/// Splits the ticket's attachments by `max_attachment_bytes`: larger ones are left out and
/// named in a note (the ticket builder normally leaves them out already; this keeps the
/// bound whatever built the ticket).
pub(crate) fn sendable<'a>(common: &TicketSettings, ticket: &'a Ticket) -> Sendable<'a> {
    let max = common.max_attachment_bytes;
    let (attachments, left): (Vec<&Attachment>, Vec<&Attachment>) =
        ticket.attachments.iter().partition(|a| a.bytes.len() as u64 <= max);
    let note = (!left.is_empty()).then(|| {
        let names: Vec<String> = left.iter().map(|a| format!("{} ({} bytes)", a.name, a.bytes.len())).collect();
        format!("Left out (larger than {max} bytes): {}", names.join(", "))
    });
    for a in &left {
        tracing::warn!(name = %a.name, bytes = a.bytes.len(), max, "attachment left out of the ticket");
    }
    Sendable { attachments, note }
}

/// An answer with a success status.
#[derive(Debug)]
pub(crate) struct Reply {
    /// The endpoint (for errors about the body).
    pub endpoint: String,
    /// The step it answered.
    pub step: Step,
    /// The status.
    pub status: StatusCode,
    /// The body (at most [`MAX_BODY`] bytes).
    pub body: Vec<u8>,
}

impl Reply {
    /// The body as JSON of type `T`; a body that is not is a `Transport` error naming the
    /// endpoint (the system answered something this client does not understand).
    pub(crate) fn json<T: DeserializeOwned>(&self) -> Result<T, DeliveryError> {
        serde_json::from_slice(&self.body)
            .map_err(|e| self.unexpected(&format!("answer is not the expected JSON: {e}")))
    }

    /// A `Transport` error for an answer without what the step needs.
    pub(crate) fn unexpected(&self, what: &str) -> DeliveryError {
        DeliveryError::Transport {
            endpoint: self.endpoint.clone(),
            step: self.step,
            message: format!("HTTP {}: {what}", self.status.as_u16()),
        }
    }
}

/// One delivery's HTTP client: base URL, authentication, bounds.
#[derive(Debug)]
pub(crate) struct Http {
    client: reqwest::Client,
    base: Url,
    auth: Auth,
    system: TicketSystem,
}

impl Http {
    /// A client for `system` at `base_url` (http or https, no credentials in it), trusting
    /// the system store plus `common.ca_file`, through `common.proxy` or direct (never the
    /// environment's proxy variables), with `common.timeout_ms` on every request and no
    /// redirects followed (a redirect is an error status, so credentials never follow one).
    pub(crate) fn new(
        common: &TicketSettings,
        system: TicketSystem,
        base_url: &str,
        auth: Auth,
    ) -> Result<Http, DeliveryError> {
        let config = |message: String| DeliveryError::Config { system: system.name(), message };
        let base = Url::parse(base_url).map_err(|e| config(format!("url {base_url:?}: {e}")))?;
        if !matches!(base.scheme(), "http" | "https") || base.host_str().is_none() {
            return Err(config(format!("url {base_url:?}: not an http or https URL")));
        }
        if !base.username().is_empty() || base.password().is_some() {
            return Err(config("url: credentials do not belong in the URL; use secret_env or secret_file".into()));
        }
        if base.query().is_some() || base.fragment().is_some() {
            return Err(config(format!("url {}: a base URL has no query or fragment", without_query(&base))));
        }
        if common.timeout_ms == 0 {
            return Err(config("timeout_ms is 0".into()));
        }
        let roots = roots(common.ca_file.as_deref()).map_err(config)?;
        let tls = rustls::ClientConfig::builder_with_provider(Arc::new(rustls::crypto::ring::default_provider()))
            .with_safe_default_protocol_versions()
            .map_err(|e| config(format!("TLS: {e}")))?
            .with_root_certificates(roots)
            .with_no_client_auth();
        let timeout = Duration::from_millis(common.timeout_ms);
        let mut headers = HeaderMap::new();
        headers.insert(reqwest::header::ACCEPT, HeaderValue::from_static("application/json"));
        let mut builder = reqwest::Client::builder().no_proxy();
        if let Some(proxy) = common.proxy.as_deref() {
            let parsed = Url::parse(proxy).map_err(|e| config(format!("proxy: {e}")))?;
            if parsed.scheme() != "http" || parsed.host_str().is_none() {
                return Err(config(format!("proxy {}: not an http://host:port URL", without_query(&parsed))));
            }
            builder = builder.proxy(reqwest::Proxy::all(parsed).map_err(|e| config(format!("proxy: {}", chain(&e))))?);
        }
        let client = builder
            .use_preconfigured_tls(tls)
            .timeout(timeout)
            .connect_timeout(timeout)
            .redirect(reqwest::redirect::Policy::none())
            .user_agent(concat!("nettriage/", env!("CARGO_PKG_VERSION")))
            .default_headers(headers)
            .build()
            .map_err(|e| config(format!("HTTP client: {}", chain(&e))))?;
        Ok(Http { client, base, auth, system })
    }

    /// The system this client delivers to.
    pub(crate) fn system(&self) -> TicketSystem {
        self.system
    }

    /// `path` (segments joined with `/`, each percent-encoded) under the base URL, with
    /// `query` pairs.
    pub(crate) fn url(&self, segments: &[&str], query: &[(&str, &str)]) -> Url {
        let mut url = self.base.clone();
        if let Ok(mut path) = url.path_segments_mut() {
            path.pop_if_empty().extend(segments);
        }
        if !query.is_empty() {
            url.query_pairs_mut().extend_pairs(query);
        }
        url
    }

    /// A request of `method` to `url`, authenticated.
    pub(crate) fn request(&self, method: Method, url: Url) -> Result<RequestBuilder, DeliveryError> {
        let auth =
            self.auth.header().map_err(|message| DeliveryError::Config { system: self.system.name(), message })?;
        Ok(self.client.request(method, url).header(reqwest::header::AUTHORIZATION, auth))
    }

    /// Sends `request` for `step`: a success status gives the (bounded) body; an error
    /// status, a timeout or a connection/TLS failure gives the matching [`DeliveryError`].
    pub(crate) async fn send(&self, step: Step, request: RequestBuilder) -> Result<Reply, DeliveryError> {
        let request = request.build().map_err(|e| DeliveryError::Config {
            system: self.system.name(),
            message: format!("request: {}", chain(&e)),
        })?;
        let endpoint = without_query(request.url());
        tracing::debug!(system = self.system.name(), %step, method = %request.method(), %endpoint, "ticket request");
        let mut response = self.client.execute(request).await.map_err(|e| transport(&endpoint, step, &e))?;
        let status = response.status();
        if !status.is_success() {
            let retry_after = if matches!(status.as_u16(), 429 | 503) {
                response
                    .headers()
                    .get(RETRY_AFTER)
                    .and_then(|v| v.to_str().ok())
                    .and_then(|v| parse_retry_after(v, SystemTime::now()))
            } else {
                None
            };
            tracing::debug!(system = self.system.name(), %step, %endpoint, status = status.as_u16(), "ticket system refused");
            return Err(DeliveryError::Status { endpoint, step, status: status.as_u16(), retry_after });
        }
        let mut body = Vec::new();
        while let Some(chunk) = response.chunk().await.map_err(|e| transport(&endpoint, step, &e))? {
            if body.len() + chunk.len() > MAX_BODY {
                return Err(DeliveryError::Transport {
                    endpoint,
                    step,
                    message: format!("answer larger than {MAX_BODY} bytes"),
                });
            }
            body.extend_from_slice(&chunk);
        }
        Ok(Reply { endpoint, step, status, body })
    }
}

/// The trust anchors: the system store and `ca_file` (PEM; must hold a certificate).
fn roots(ca_file: Option<&Path>) -> Result<RootCertStore, String> {
    let mut roots = RootCertStore::empty();
    let native = rustls_native_certs::load_native_certs();
    for e in &native.errors {
        tracing::debug!(error = %e, "system trust store entry not loaded");
    }
    roots.add_parsable_certificates(native.certs);
    if let Some(path) = ca_file {
        let certs = CertificateDer::pem_file_iter(path)
            .and_then(|it| it.collect::<Result<Vec<_>, _>>())
            .map_err(|e| format!("ca_file {}: {e}", path.display()))?;
        let (added, _) = roots.add_parsable_certificates(certs);
        if added == 0 {
            return Err(format!("ca_file {}: holds no CA certificate", path.display()));
        }
    }
    Ok(roots)
}

/// `url` as shown in errors: scheme, host, port and path; no query (it may be long), and
/// never credentials (the base URL refuses them).
fn without_query(url: &Url) -> String {
    let mut shown = url.clone();
    shown.set_query(None);
    shown.set_fragment(None);
    let _ = shown.set_password(None);
    let _ = shown.set_username("");
    shown.to_string()
}

/// A failed exchange as a `Transport` error: TLS failures under [`Step::Tls`], connection
/// failures under [`Step::Connect`], the rest (timeouts, a broken answer) under `step`.
fn transport(endpoint: &str, step: Step, e: &reqwest::Error) -> DeliveryError {
    let failed = if is_tls(e) {
        Step::Tls
    } else if e.is_connect() {
        Step::Connect
    } else {
        step
    };
    let message = if e.is_timeout() { format!("timed out: {}", chain(e)) } else { chain(e) };
    DeliveryError::Transport { endpoint: endpoint.to_string(), step: failed, message }
}

/// Whether a rustls error is somewhere in `e`'s chain, also inside (nested) `io::Error`s,
/// whose `source()` skips the error they wrap.
fn is_tls(e: &reqwest::Error) -> bool {
    fn holds_tls(err: &(dyn std::error::Error + 'static)) -> bool {
        if err.downcast_ref::<rustls::Error>().is_some() {
            return true;
        }
        if let Some(io) = err.downcast_ref::<std::io::Error>()
            && let Some(inner) = io.get_ref()
        {
            return holds_tls(inner);
        }
        false
    }
    let mut next: Option<&(dyn std::error::Error + 'static)> = Some(e);
    while let Some(err) = next {
        if holds_tls(err) {
            return true;
        }
        next = err.source();
    }
    false
}

/// The error and its sources, `: `-joined, without the URL (the caller names the endpoint).
fn chain(e: &reqwest::Error) -> String {
    use std::error::Error as _;
    let mut text = e.to_string();
    if let Some(url) = e.url() {
        text =
            text.replace(&format!(" for url ({url})"), "").replace(&format!(" ({url})"), "").replace(url.as_str(), "");
    }
    let mut next = e.source();
    while let Some(err) = next {
        let part = err.to_string();
        if !text.contains(&part) {
            text.push_str(": ");
            text.push_str(&part);
        }
        next = err.source();
    }
    text
}

/// `Retry-After` (RFC 9110 §10.2.3): delay-seconds, or an HTTP-date (a date in the past
/// is a zero delay). None when it is neither.
pub(crate) fn parse_retry_after(value: &str, now: SystemTime) -> Option<Duration> {
    let value = value.trim();
    if !value.is_empty() && value.bytes().all(|b| b.is_ascii_digit()) {
        return value.parse::<u64>().ok().map(Duration::from_secs);
    }
    let at = httpdate::parse_http_date(value).ok()?;
    Some(at.duration_since(now).unwrap_or(Duration::ZERO))
}

/// `text` cut to at most `max` characters (vendors bound summary fields).
pub(crate) fn truncate_chars(text: &str, max: usize) -> String {
    match text.char_indices().nth(max) {
        Some((at, _)) => text[..at].to_string(),
        None => text.to_string(),
    }
}

/// The idempotency key reduced to `[A-Za-z0-9._-]` (anything else becomes `-`), so it can
/// sit in a Jira label, a ServiceNow encoded query or a TicketSQL string unescaped.
pub(crate) fn safe_key(key: &str) -> String {
    key.chars().map(|c| if c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-') { c } else { '-' }).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retry_after_seconds_and_dates() {
        let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1_445_412_480); // 2015-10-21 07:28:00 GMT
        assert_eq!(parse_retry_after("120", now), Some(Duration::from_secs(120)));
        assert_eq!(parse_retry_after(" 0 ", now), Some(Duration::ZERO));
        assert_eq!(parse_retry_after("Wed, 21 Oct 2015 07:30:00 GMT", now), Some(Duration::from_secs(120)));
        assert_eq!(parse_retry_after("Wed, 21 Oct 2015 07:00:00 GMT", now), Some(Duration::ZERO));
        assert_eq!(parse_retry_after("soon", now), None);
        assert_eq!(parse_retry_after("-5", now), None);
        assert_eq!(parse_retry_after("", now), None);
        assert_eq!(parse_retry_after("99999999999999999999999", now), None);
    }

    #[test]
    fn keys_and_summaries_are_bounded() {
        assert_eq!(safe_key("r-2026.11_30"), "r-2026.11_30");
        assert_eq!(safe_key("a b'\"^c"), "a-b---c");
        assert_eq!(truncate_chars("ééé", 2), "éé");
        assert_eq!(truncate_chars("ab", 5), "ab");
    }

    #[test]
    fn secret_debug_hides_the_value() {
        let s = Secret("hunter2".into());
        assert!(!format!("{s:?}").contains("hunter2"));
        let auth = Auth::Basic { user: "u".into(), secret: s };
        assert!(!format!("{auth:?}").contains("hunter2"));
        assert!(auth.header().unwrap().is_sensitive());
    }

    #[test]
    fn secret_file_must_be_private_and_ours() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("token");
        std::fs::write(&path, "s3cret\n").unwrap();
        let source = SecretSource { secret_env: None, secret_file: Some(path.clone()) };
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
        let err = read_secret(TicketSystem::Rt, &source).unwrap_err();
        assert!(err.is_config());
        assert!(!err.to_string().contains("s3cret"));
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).unwrap();
        assert_eq!(read_secret(TicketSystem::Rt, &source).unwrap().expose(), "s3cret");
        let missing = SecretSource { secret_env: None, secret_file: Some(dir.path().join("absent")) };
        assert!(read_secret(TicketSystem::Rt, &missing).unwrap_err().is_config());
        let dir_source = SecretSource { secret_env: None, secret_file: Some(dir.path().to_path_buf()) };
        assert!(read_secret(TicketSystem::Rt, &dir_source).unwrap_err().is_config());
        let none = SecretSource::default();
        assert!(read_secret(TicketSystem::Rt, &none).unwrap_err().is_config());
        let both = SecretSource { secret_env: Some("X".into()), secret_file: Some(path) };
        assert!(read_secret(TicketSystem::Rt, &both).unwrap_err().is_config());
        let unset = SecretSource { secret_env: Some("NETTRIAGE_TEST_SURELY_UNSET_VAR".into()), secret_file: None };
        assert!(read_secret(TicketSystem::Rt, &unset).unwrap_err().is_config());
    }

    #[test]
    fn base_urls_are_checked() {
        let common = TicketSettings::default();
        let auth = || Auth::Token(Secret("t".into()));
        for bad in ["ftp://rt.example", "not a url", "https://user:pw@rt.example", "https://rt.example/?q=1"] {
            let err = Http::new(&common, TicketSystem::Rt, bad, auth()).unwrap_err();
            assert!(err.is_config(), "{bad}");
            assert!(!err.to_string().contains("pw@"));
        }
        let http = Http::new(&common, TicketSystem::Rt, "https://rt.example/rt/", auth()).unwrap();
        let url = http.url(&["REST", "2.0", "ticket", "a b"], &[("query", "x = 'y'")]);
        assert_eq!(url.path(), "/rt/REST/2.0/ticket/a%20b");
        assert_eq!(url.query_pairs().next().unwrap().1, "x = 'y'");
    }
}
