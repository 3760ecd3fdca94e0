//! Proxy discovery: which HTTP proxy, if any, this machine would send a web request through.
//!
//! The web check (`check::web`) asks [`ProxyPlan::route`] for every URL it fetches, so its
//! probes take the path a browser or `curl` on this machine would take, and says in the
//! evidence which path that was (`via`). The sources, in the order the first one that sets
//! a proxy wins (`docs/checks/web.md`):
//!
//! 1. the config file's `[web] proxy` (`"direct"` turns proxies off) and `[web] pac_url`;
//! 2. the process environment: `http_proxy`, `https_proxy`, `no_proxy` (lower case wins over
//!    upper case, as curl reads them), then the same names in `/etc/environment` (pam_env's
//!    `KEY=value` file) for each variable the environment does not set;
//! 3. GNOME's settings (`gsettings get org.gnome.system.proxy ...`), when the binary exists:
//!    `mode` `manual` gives the `http`/`https` host and port and `ignore-hosts`, `auto` the
//!    `autoconfig-url` (a PAC);
//! 4. WPAD through DHCP: the URL of option 252 ([`DhcpWpad`], which the dhcp check hands
//!    over from a lease file or its first offer), checked by [`dhcp_pac_url`];
//! 5. WPAD through DNS: `http://wpad.<first search domain>/wpad.dat`.
//!
//! A PAC file is JavaScript (`FindProxyForURL(url, host)`). nettriage embeds no JavaScript
//! engine (the pure-Rust one, boa_engine, needs a newer Rust than this crate's 1.88 and
//! compiles too long for this project's build budget), so a PAC is **scanned, not
//! evaluated**: [`scan_pac`] lists every `PROXY`/`HTTPS host:port` and `DIRECT` it names;
//! the web check tests each proxy ([`PacProxyTest`]) and the probes go through the first
//! that answers. The evidence says so. A PAC cannot loop or exhaust memory here, since it
//! never runs.
//!
//! Proxies are `http://` or `https://` (TLS to the proxy itself, then the request or
//! `CONNECT` inside it); SOCKS proxies are listed, not used.
//!
//! Everything here is pure except [`live`] (reading the environment, `/etc/environment`,
//! and running `gsettings` bounded in time). Credentials in a proxy URL are kept only in
//! [`ProxyServer`] for the `Proxy-Authorization` header; nothing that is printed,
//! serialised or logged carries them.

use std::fmt;
use std::net::{IpAddr, Ipv4Addr};

use serde::{Deserialize, Serialize};

/// Where a proxy setting came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ProxySource {
    /// The config file's `[web] proxy` or `pac_url`.
    Config,
    /// The process environment.
    Env,
    /// `/etc/environment`.
    EtcEnvironment,
    /// GNOME's settings (`gsettings`).
    Gsettings,
    /// A PAC file named by the config, the environment or GNOME.
    Pac,
    /// A PAC file found by WPAD (`wpad.<domain>`).
    Wpad,
    /// A PAC file found by WPAD through DHCP option 252.
    Dhcp,
}

impl ProxySource {
    /// The source as it appears in reports.
    pub fn as_str(self) -> &'static str {
        match self {
            ProxySource::Config => "config",
            ProxySource::Env => "env",
            ProxySource::EtcEnvironment => "etc_environment",
            ProxySource::Gsettings => "gsettings",
            ProxySource::Pac => "pac",
            ProxySource::Wpad => "wpad",
            ProxySource::Dhcp => "dhcp",
        }
    }
}

/// A proxy URL that cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ProxyUrlError {
    /// Not `http[s]://host[:port]` (or a bare `host:port`).
    #[error("proxy `{shown}` is not http[s]://host[:port]: {reason}")]
    Invalid {
        /// The URL without credentials.
        shown: String,
        /// What is wrong.
        reason: &'static str,
    },
    /// A scheme nettriage does not speak to a proxy (`socks5://`, `socks4://`).
    #[error("proxy `{shown}` uses the unsupported scheme `{scheme}` (only http:// and https:// proxies are used)")]
    UnsupportedScheme {
        /// The URL without credentials.
        shown: String,
        /// The scheme.
        scheme: String,
    },
}

/// The port of a proxy URL that names none: 1080, as curl assumes (`CURLOPT_PROXY`).
pub const DEFAULT_PROXY_PORT: u16 = 1080;
/// The port of an `https://` proxy URL that names none: 443, as curl assumes
/// (`CURL_DEFAULT_HTTPS_PROXY_PORT` in its `lib/url.h`).
pub const DEFAULT_HTTPS_PROXY_PORT: u16 = 443;

/// An HTTP proxy server: where to connect, how to show it, whether to speak TLS to it, and
/// its credentials (which only [`ProxyServer::authorization`] reveals, and `Debug` hides).
#[derive(Clone, PartialEq, Eq)]
pub struct ProxyServer {
    /// The host name or address (IPv6 without brackets).
    pub host: String,
    /// The port (1080 when the URL names none, as curl assumes; 443 for `https://`).
    pub port: u16,
    /// An `https://` proxy: TLS to the proxy itself (verified like any server, for its
    /// name), then the request or `CONNECT` inside that TLS connection.
    pub tls: bool,
    credentials: Option<(String, String)>,
}

impl fmt::Debug for ProxyServer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ProxyServer")
            .field("host", &self.host)
            .field("port", &self.port)
            .field("tls", &self.tls)
            .field("credentials", &self.credentials.as_ref().map(|_| "<hidden>"))
            .finish()
    }
}

impl ProxyServer {
    /// Parses `http[s]://[user[:password]@]host[:port][/]` or a bare `host[:port]` (as the
    /// environment variables are often set); user and password are percent-decoded.
    pub fn parse(text: &str) -> Result<ProxyServer, ProxyUrlError> {
        let text = text.trim();
        let shown = crate::config::without_credentials(text);
        let invalid = |reason| ProxyUrlError::Invalid { shown: shown.clone(), reason };
        let mut tls = false;
        let rest = match text.split_once("://") {
            Some((scheme, rest)) if scheme.eq_ignore_ascii_case("http") => rest,
            Some((scheme, rest)) if scheme.eq_ignore_ascii_case("https") => {
                tls = true;
                rest
            }
            Some((scheme, _)) => {
                return Err(ProxyUrlError::UnsupportedScheme {
                    shown: shown.clone(),
                    scheme: scheme.chars().take(16).collect(),
                });
            }
            None => text,
        };
        let authority = rest.split(['/', '?', '#']).next().unwrap_or_default();
        let (userinfo, host_port) = match authority.rfind('@') {
            Some(at) => (Some(&authority[..at]), &authority[at + 1..]),
            None => (None, authority),
        };
        let (host, port) = if let Some(v6) = host_port.strip_prefix('[') {
            let (h, after) = v6.split_once(']').ok_or_else(|| invalid("an IPv6 address without `]`"))?;
            (h, after.strip_prefix(':'))
        } else {
            match host_port.split_once(':') {
                Some((h, p)) => (h, Some(p)),
                None => (host_port, None),
            }
        };
        if host.is_empty() {
            return Err(invalid("no host"));
        }
        if !host.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_' | ':')) {
            return Err(invalid("the host has characters a host name cannot have"));
        }
        if host.contains(':') && host.parse::<std::net::Ipv6Addr>().is_err() {
            return Err(invalid("the host has characters a host name cannot have"));
        }
        let port = match port {
            None | Some("") if tls => DEFAULT_HTTPS_PROXY_PORT,
            None | Some("") => DEFAULT_PROXY_PORT,
            Some(p) => p.parse::<u16>().ok().filter(|p| *p != 0).ok_or_else(|| invalid("the port is not 1-65535"))?,
        };
        let credentials = userinfo.map(|u| {
            let (user, pass) = u.split_once(':').unwrap_or((u, ""));
            (percent_decode(user), percent_decode(pass))
        });
        Ok(ProxyServer { host: host.to_ascii_lowercase(), port, tls, credentials })
    }

    /// `http://host:port` (`https://` for a TLS proxy), without credentials: how reports,
    /// logs and errors name it.
    pub fn shown(&self) -> String {
        format!("{}://{}", if self.tls { "https" } else { "http" }, self.authority())
    }

    /// `host:port` to connect to (IPv6 in brackets).
    pub fn authority(&self) -> String {
        if self.host.contains(':') {
            format!("[{}]:{}", self.host, self.port)
        } else {
            format!("{}:{}", self.host, self.port)
        }
    }

    /// Whether the URL carried credentials.
    pub fn has_credentials(&self) -> bool {
        self.credentials.is_some()
    }

    /// The `Proxy-Authorization` header value (`Basic base64(user:password)`, RFC 7617),
    /// when the URL carried credentials. Never log or print it.
    pub fn authorization(&self) -> Option<String> {
        let (user, pass) = self.credentials.as_ref()?;
        Some(format!("Basic {}", base64(format!("{user}:{pass}").as_bytes())))
    }
}

/// Standard base64 with padding (RFC 4648 section 4).
fn base64(bytes: &[u8]) -> String {
    const TABLE: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let b = [chunk[0], chunk.get(1).copied().unwrap_or(0), chunk.get(2).copied().unwrap_or(0)];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(char::from(TABLE[((n >> (18 - 6 * i)) & 63) as usize]));
            } else {
                out.push('=');
            }
        }
    }
    out
}

/// `%XX` sequences decoded; anything else (an invalid escape, invalid UTF-8) kept lossily.
fn percent_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = |b: u8| char::from(b).to_digit(16);
        if bytes[i] == b'%'
            && let (Some(h), Some(l)) = (bytes.get(i + 1).and_then(|b| hex(*b)), bytes.get(i + 2).and_then(|b| hex(*b)))
        {
            out.push((h * 16 + l) as u8);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Variables of an `/etc/environment`-style file (pam_env's simple form): `KEY=value` lines,
/// an optional leading `export `, values in single or double quotes or bare, `#` comments
/// and blank lines skipped, lines without `=` ignored. Later lines win; at most 1024 kept.
pub fn parse_env_file(text: &str) -> Vec<(String, String)> {
    let mut vars: Vec<(String, String)> = Vec::new();
    for line in text.lines() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let line = line.strip_prefix("export ").map_or(line, str::trim_start);
        let Some((key, value)) = line.split_once('=') else { continue };
        let key = key.trim();
        if key.is_empty() || !key.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
            continue;
        }
        let value = value.trim();
        let value = match value.chars().next() {
            Some(q @ ('"' | '\'')) => {
                let inner = &value[1..];
                inner.find(q).map_or(inner, |end| &inner[..end])
            }
            _ => value.split(" #").next().unwrap_or_default().trim_end(),
        };
        vars.retain(|(k, _)| k != key);
        if vars.len() < 1024 {
            vars.push((key.to_string(), value.to_string()));
        }
    }
    vars
}

/// One `no_proxy` entry.
#[derive(Debug, Clone, PartialEq, Eq)]
enum NoProxyEntry {
    /// `*`: no proxy for anything.
    All,
    /// A domain: the host itself or any name under it (`.example.com` and `example.com`
    /// alike, as curl); with a port, only that port.
    Domain { name: String, port: Option<u16> },
    /// An address, or a network in CIDR notation.
    Net { ip: IpAddr, prefix: u8, port: Option<u16> },
}

/// The hosts that bypass the proxy (`no_proxy`, GNOME's `ignore-hosts`), matched as curl
/// matches `NO_PROXY`: comma or space separated; `*` alone matches every host; a name
/// matches itself and the names under it (a leading `.` or `*.` changes nothing); `:port`
/// limits an entry to that port; an IP address matches only itself (no name lookup), a CIDR
/// network the addresses in it. Case does not matter. At most 256 entries are kept.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct NoProxy {
    entries: Vec<NoProxyEntry>,
}

impl NoProxy {
    /// Parses a `no_proxy` value.
    pub fn parse(text: &str) -> NoProxy {
        let mut entries = Vec::new();
        for item in text.split([',', ' ', '\t', '\n']).map(str::trim).filter(|s| !s.is_empty()).take(256) {
            if item == "*" {
                entries.push(NoProxyEntry::All);
                continue;
            }
            // [v6]:port, v6, v6/len, v4[/len][:port], name[:port]
            let (body, port) = if let Some(v6) = item.strip_prefix('[') {
                match v6.split_once(']') {
                    Some((addr, after)) => (addr, after.strip_prefix(':').and_then(|p| p.parse().ok())),
                    None => continue,
                }
            } else if item.matches(':').count() == 1 {
                let (h, p) = item.split_once(':').unwrap_or((item, ""));
                match p.parse::<u16>() {
                    Ok(p) => (h, Some(p)),
                    Err(_) => continue,
                }
            } else {
                (item, None)
            };
            let (addr, prefix) = match body.split_once('/') {
                Some((a, len)) => (a, len.parse::<u8>().ok()),
                None => (body, None),
            };
            if let Ok(ip) = addr.parse::<IpAddr>() {
                let max = if ip.is_ipv4() { 32 } else { 128 };
                let prefix = prefix.unwrap_or(max).min(max);
                entries.push(NoProxyEntry::Net { ip, prefix, port });
                continue;
            }
            let name = body.trim_start_matches('*').trim_start_matches('.').trim_end_matches('.').to_ascii_lowercase();
            if !name.is_empty() {
                entries.push(NoProxyEntry::Domain { name, port });
            }
        }
        NoProxy { entries }
    }

    /// Adds the entries of another list (GNOME's `ignore-hosts` after `no_proxy`).
    pub fn extend(&mut self, other: NoProxy) {
        self.entries.extend(other.entries);
        self.entries.truncate(512);
    }

    /// Whether the list has no entry.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Whether a request to `host` (a name, or an address, IPv6 with or without brackets)
    /// on `port` bypasses the proxy.
    pub fn matches(&self, host: &str, port: u16) -> bool {
        let host = host.trim_start_matches('[').trim_end_matches(']').trim_end_matches('.').to_ascii_lowercase();
        let ip = host.parse::<IpAddr>().ok();
        self.entries.iter().any(|e| match e {
            NoProxyEntry::All => true,
            NoProxyEntry::Domain { name, port: p } => {
                p.is_none_or(|p| p == port)
                    && ip.is_none()
                    && (host == *name || host.strip_suffix(name.as_str()).is_some_and(|head| head.ends_with('.')))
            }
            NoProxyEntry::Net { ip: net, prefix, port: p } => {
                p.is_none_or(|p| p == port) && ip.is_some_and(|ip| in_network(ip, *net, *prefix))
            }
        })
    }
}

/// Whether `ip` is in `net/prefix` (different families never match).
fn in_network(ip: IpAddr, net: IpAddr, prefix: u8) -> bool {
    match (ip, net) {
        (IpAddr::V4(a), IpAddr::V4(n)) => {
            let mask = if prefix == 0 { 0 } else { u32::MAX << (32 - u32::from(prefix.min(32))) };
            u32::from(a) & mask == u32::from(n) & mask
        }
        (IpAddr::V6(a), IpAddr::V6(n)) => {
            let mask = if prefix == 0 { 0 } else { u128::MAX << (128 - u32::from(prefix.min(128))) };
            u128::from(a) & mask == u128::from(n) & mask
        }
        _ => false,
    }
}

/// What a scan of a PAC file found (the file is not run: see the module header).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PacScan {
    /// Whether the text defines `FindProxyForURL` (a PAC without it is not a PAC).
    pub defines_find_proxy: bool,
    /// Every `PROXY host:port` (and `HTTP host:port`) it names as `http://host:port`, and
    /// every `HTTPS host:port` as `https://host:port`, first seen first, at most
    /// [`MAX_PAC_PROXIES`], without credentials.
    pub proxies: Vec<String>,
    /// Whether it names `DIRECT`.
    pub direct: bool,
    /// Other proxy kinds it names (`SOCKS`, `SOCKS4`, `SOCKS5`), which are not used.
    #[serde(default)]
    pub unsupported: Vec<String>,
}

/// Proxies kept from a PAC scan.
pub const MAX_PAC_PROXIES: usize = 16;

/// Scans a PAC file's text for the proxies it can return (pure, total on any input).
///
/// Looks at the contents of every string literal (`"..."`, `'...'`, no escapes needed for
/// PAC return values) and splits it on `;` into `KIND [host:port]` directives, as
/// `FindProxyForURL` returns them (`"PROXY p.example:3128; HTTPS p.example:443; DIRECT"`).
pub fn scan_pac(text: &str) -> PacScan {
    let mut scan = PacScan { defines_find_proxy: text.contains("FindProxyForURL"), ..PacScan::default() };
    let mut rest = text;
    while let Some(start) = rest.find(['"', '\'']) {
        let quote = rest.as_bytes()[start];
        let after = &rest[start + 1..];
        let Some(end) = after.find(char::from(quote)) else { break };
        let literal = &after[..end];
        rest = &after[end + 1..];
        if literal.len() > 4096 {
            continue;
        }
        for directive in literal.split(';') {
            let mut words = directive.split_ascii_whitespace();
            let (Some(kind), target, extra) = (words.next(), words.next(), words.next()) else { continue };
            if extra.is_some() {
                continue;
            }
            match (kind.to_ascii_uppercase().as_str(), target) {
                ("DIRECT", None) => scan.direct = true,
                (kind @ ("PROXY" | "HTTP" | "HTTPS"), Some(target)) => {
                    let url = if kind == "HTTPS" { format!("https://{target}") } else { target.to_string() };
                    if let Ok(server) = ProxyServer::parse(&url)
                        && !target.contains("://")
                    {
                        let shown = server.shown();
                        if !scan.proxies.contains(&shown) && scan.proxies.len() < MAX_PAC_PROXIES {
                            scan.proxies.push(shown);
                        }
                    }
                }
                (k @ ("SOCKS" | "SOCKS4" | "SOCKS5"), Some(target))
                    if target
                        .chars()
                        .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | ':' | '[' | ']'))
                        && scan.unsupported.len() < MAX_PAC_PROXIES =>
                {
                    let entry = format!("{k} {target}");
                    if !scan.unsupported.contains(&entry) {
                        scan.unsupported.push(entry);
                    }
                }
                _ => {}
            }
        }
    }
    scan
}

/// A GVariant text value as `gsettings get` prints it: `'text'` and `uint32 3128`/`3128`
/// and `['a', 'b']` (pure). Strings lose their quotes; a list gives its items.
pub fn parse_gvariant(text: &str) -> Vec<String> {
    let text = text.trim();
    let text = text.strip_prefix("@as ").unwrap_or(text);
    if let Some(list) = text.strip_prefix('[').and_then(|t| t.strip_suffix(']')) {
        return list
            .split(',')
            .map(|s| unquote(s.trim()))
            .filter(|s| !s.is_empty())
            .take(256)
            .map(str::to_string)
            .collect();
    }
    let value = text.rsplit(' ').next().unwrap_or(text);
    let value = if text.starts_with(['\'', '"']) { unquote(text) } else { value };
    if value.is_empty() { Vec::new() } else { vec![value.to_string()] }
}

fn unquote(s: &str) -> &str {
    for q in ['\'', '"'] {
        if let Some(inner) = s.strip_prefix(q).and_then(|t| t.strip_suffix(q)) {
            return inner;
        }
    }
    s
}

/// GNOME's proxy settings as `gsettings` printed them (one value per key; `None`: not read).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct GnomeProxy {
    /// `org.gnome.system.proxy mode`: `none`, `manual` or `auto`.
    pub mode: Option<String>,
    /// `autoconfig-url`.
    pub autoconfig_url: Option<String>,
    /// `ignore-hosts`.
    pub ignore_hosts: Vec<String>,
    /// `org.gnome.system.proxy.http host` and `port`.
    pub http: Option<(String, u16)>,
    /// `org.gnome.system.proxy.https host` and `port`.
    pub https: Option<(String, u16)>,
}

/// The raw proxy variables of one place (the environment, or `/etc/environment`): the value
/// of each of `http_proxy`, `https_proxy`, `no_proxy` (lower case first, then upper case).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ProxyVars {
    /// `http_proxy` / `HTTP_PROXY`.
    pub http: Option<String>,
    /// `https_proxy` / `HTTPS_PROXY`.
    pub https: Option<String>,
    /// `no_proxy` / `NO_PROXY`.
    pub no_proxy: Option<String>,
}

impl ProxyVars {
    /// Picks the proxy variables out of `vars` (empty values count as unset).
    pub fn from_vars<'a>(vars: impl IntoIterator<Item = (&'a str, &'a str)> + Clone) -> ProxyVars {
        let get = |lower: &str, upper: &str| {
            let find = |name: &str| vars.clone().into_iter().find(|(k, v)| *k == name && !v.trim().is_empty());
            find(lower).or_else(|| find(upper)).map(|(_, v)| v.trim().to_string())
        };
        ProxyVars {
            http: get("http_proxy", "HTTP_PROXY"),
            https: get("https_proxy", "HTTPS_PROXY"),
            no_proxy: get("no_proxy", "NO_PROXY"),
        }
    }
}

/// One proxy setting in the evidence: its value without credentials, and its source.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProxySetting {
    /// The value (a proxy URL without credentials, a `no_proxy` list, a PAC URL).
    pub value: String,
    /// Where it came from.
    pub source: ProxySource,
}

/// The PAC file used, in the evidence.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PacInfo {
    /// Its URL (without credentials).
    pub url: String,
    /// Where the URL came from (`config`, `env`... `gsettings`, `wpad`).
    pub source: ProxySource,
    /// Whether it was fetched (HTTP 200 within the size and time bounds).
    #[serde(default)]
    pub fetched: bool,
    /// Bytes fetched.
    #[serde(default)]
    pub bytes: u64,
    /// Always `false`: the PAC is scanned for the proxies it names, not run.
    #[serde(default)]
    pub evaluated: bool,
    /// What the scan found, when it was fetched.
    #[serde(default)]
    pub scan: Option<PacScan>,
    /// Each proxy the scan found, tested: reachable, and how it answered `CONNECT`. Absent
    /// in reports of earlier versions.
    #[serde(default)]
    pub proxy_tests: Vec<PacProxyTest>,
    /// Why it could not be fetched or used.
    #[serde(default)]
    pub error: Option<String>,
}

/// How a proxy named by a PAC answered its test (a TCP connect, then `CONNECT`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PacProxyStatus {
    /// It opened the tunnel (2xx).
    Works,
    /// It answered 407: it needs credentials.
    AuthRequired,
    /// It answered with another status (it refuses that tunnel, but it is there).
    Refuses,
    /// It accepted the connection but gave no HTTP answer in time.
    NoAnswer,
    /// Its name did not resolve, the connection was refused, or none was made in time.
    Unreachable,
}

impl PacProxyStatus {
    /// Whether the proxy is there at all: it answered `CONNECT`, with any status.
    pub fn answers(self) -> bool {
        matches!(self, PacProxyStatus::Works | PacProxyStatus::AuthRequired | PacProxyStatus::Refuses)
    }
}

/// One proxy of a PAC, tested.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PacProxyTest {
    /// The proxy's URL (as [`ProxyServer::shown`] gives it).
    pub proxy: String,
    /// What came of it.
    pub status: PacProxyStatus,
    /// The status of its answer to `CONNECT`.
    #[serde(default)]
    pub http_status: Option<u16>,
    /// Time to connect to it.
    #[serde(default)]
    pub connect_ms: Option<f64>,
    /// Why it did not work, in words.
    #[serde(default)]
    pub error: Option<String>,
}

/// Proxy discovery, as the evidence shows it (no credentials anywhere).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ProxyEvidence {
    /// The proxy for `http://` URLs.
    #[serde(default)]
    pub http: Option<ProxySetting>,
    /// The proxy for `https://` URLs.
    #[serde(default)]
    pub https: Option<ProxySetting>,
    /// The hosts that bypass the proxy.
    #[serde(default)]
    pub no_proxy: Option<ProxySetting>,
    /// `true` when the config says `proxy = "direct"`.
    #[serde(default)]
    pub forced_direct: bool,
    /// The PAC file, when one was named or found.
    #[serde(default)]
    pub pac: Option<PacInfo>,
    /// GNOME's settings: `read` when gsettings answered, else why not (`not_installed`,
    /// `failed`, `timeout`, `not_consulted` when an earlier source already decided).
    #[serde(default)]
    pub gsettings: String,
    /// `wpad.<domain>` as tried, when WPAD through DNS was tried.
    #[serde(default)]
    pub wpad_host: Option<String>,
    /// WPAD through DHCP: whether option 252 was looked at and what came of it.
    #[serde(default)]
    pub dhcp_wpad_state: DhcpWpadState,
    /// The option 252 URL DHCP gave (without credentials), whether usable or not.
    #[serde(default)]
    pub dhcp_wpad: Option<DhcpWpad>,
    /// Proxy values that could not be used (unparsable, unsupported scheme), in words.
    #[serde(default)]
    pub ignored: Vec<String>,
}

/// Where the WPAD URL of DHCP option 252 was read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum WpadOrigin {
    /// A DHCP client's lease file (what the system's client accepted).
    Lease,
    /// The first OFFER to the dhcp check's own DISCOVER.
    Offer,
}

/// The WPAD URL DHCP gave (option 252): handed from the dhcp check to the web check
/// (`check::Facts::dhcp_wpad`) and shown in the proxy evidence.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DhcpWpad {
    /// The option's text (`DhcpOptions::set_wpad` bounds and cleans it), without
    /// credentials; not necessarily a URL ([`dhcp_pac_url`] says).
    pub url: String,
    /// A lease file or an offer.
    pub origin: WpadOrigin,
    /// The DHCP server that sent it (the lease's server identifier, or the offering server).
    #[serde(default)]
    pub server: Option<Ipv4Addr>,
}

impl DhcpWpad {
    /// The hand-over for a URL of `origin` from `server` (credentials removed).
    pub fn new(url: &str, origin: WpadOrigin, server: Option<Ipv4Addr>) -> DhcpWpad {
        DhcpWpad { url: crate::config::without_credentials(url), origin, server }
    }
}

/// What WPAD through DHCP came to, in the evidence.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DhcpWpadState {
    /// Not looked at: an earlier source decided, WPAD is off (`[web] wpad = false`), or the
    /// report is from a version without it.
    #[default]
    NotConsulted,
    /// DHCP answered (a lease or an offer) without option 252.
    NotOffered,
    /// No lease with option 252 and no offer came within the wait (`DHCP_WPAD_WAIT_MS` of
    /// the web check), or the dhcp check did not probe.
    NoAnswer,
    /// Option 252 named a usable URL: its PAC was fetched.
    Used,
    /// Option 252 is not a usable URL (`web.pac_unusable` says why); WPAD through DNS was
    /// tried next.
    Unusable,
}

/// The PAC URL of a DHCP option 252 text (pure): `http://` or `https://` (either case)
/// with a host (name, IPv4, or IPv6 in brackets) and an optional port 1-65535; no spaces or
/// control characters (`set_wpad` turned those into U+FFFD). `Err` says what is wrong.
pub fn dhcp_pac_url(text: &str) -> Result<String, &'static str> {
    let text = text.trim();
    if text.is_empty() {
        return Err("it is empty");
    }
    if text.chars().any(|c| c.is_whitespace() || c.is_control() || c == '\u{fffd}') {
        return Err("it has spaces or control characters");
    }
    let Some((scheme, rest)) = text.split_once("://") else { return Err("it is not a URL (no scheme)") };
    if !scheme.eq_ignore_ascii_case("http") && !scheme.eq_ignore_ascii_case("https") {
        return Err("it is not an http:// or https:// URL");
    }
    let authority = rest.split(['/', '?', '#']).next().unwrap_or_default();
    let host_port = authority.rsplit('@').next().unwrap_or_default();
    let (host, port) = if let Some(v6) = host_port.strip_prefix('[') {
        let (h, after) = v6.split_once(']').ok_or("an IPv6 address without `]`")?;
        if h.parse::<std::net::Ipv6Addr>().is_err() {
            return Err("the host is not an IPv6 address");
        }
        (h, after.strip_prefix(':'))
    } else {
        match host_port.split_once(':') {
            Some((h, p)) => (h, Some(p)),
            None => (host_port, None),
        }
    };
    if host.is_empty() {
        return Err("it has no host");
    }
    if !host_port.starts_with('[') && !host.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_')) {
        return Err("the host has characters a host name cannot have");
    }
    if let Some(p) = port
        && p.parse::<u16>().ok().filter(|p| *p != 0).is_none()
    {
        return Err("the port is not 1-65535");
    }
    Ok(text.to_string())
}

/// The path a request takes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Route {
    /// Straight to the origin; `source` is the setting that said so (`no_proxy`, `DIRECT`),
    /// `None` when no proxy is configured at all.
    Direct {
        /// The deciding source.
        source: Option<ProxySource>,
    },
    /// Through an HTTP proxy.
    Proxy {
        /// The proxy.
        server: ProxyServer,
        /// Where the proxy came from.
        source: ProxySource,
    },
}

/// The proxies to use, with credentials (never serialised): built by discovery, asked per
/// URL.
#[derive(Debug, Clone, Default)]
pub struct ProxyPlan {
    /// The proxy for `http://` URLs.
    pub http: Option<(ProxyServer, ProxySource)>,
    /// The proxy for `https://` URLs.
    pub https: Option<(ProxyServer, ProxySource)>,
    /// The hosts that bypass them, and where the list came from.
    pub no_proxy: NoProxy,
    /// Where `no_proxy` came from.
    pub no_proxy_source: Option<ProxySource>,
    /// `Some(source)`: proxies are off (config `direct`, or a PAC that names only `DIRECT`).
    pub direct: Option<ProxySource>,
}

impl ProxyPlan {
    /// The route for a request to `scheme://host:port` (pure).
    pub fn route(&self, scheme: &str, host: &str, port: u16) -> Route {
        if let Some(source) = self.direct {
            return Route::Direct { source: Some(source) };
        }
        let chosen = if scheme.eq_ignore_ascii_case("https") { &self.https } else { &self.http };
        let Some((server, source)) = chosen else { return Route::Direct { source: None } };
        if self.no_proxy.matches(host, port) {
            return Route::Direct { source: self.no_proxy_source.or(Some(*source)) };
        }
        Route::Proxy { server: server.clone(), source: *source }
    }
}

/// Adds one proxy URL to the plan and the evidence, or notes why it is not usable.
fn set_proxy(
    slot: &mut Option<(ProxyServer, ProxySource)>,
    shown: &mut Option<ProxySetting>,
    ignored: &mut Vec<String>,
    text: &str,
    source: ProxySource,
) {
    if slot.is_some() {
        return;
    }
    match ProxyServer::parse(text) {
        Ok(server) => {
            *shown = Some(ProxySetting { value: server.shown(), source });
            *slot = Some((server, source));
        }
        Err(e) => ignored.push(format!("{} ({})", e, source.as_str())),
    }
}

/// What discovery found before any PAC is fetched (pure): the plan from the static
/// sources, the evidence, and the PAC URL still to fetch, if the static sources set no
/// proxy but name one.
///
/// `config_proxy` is `[web] proxy` (a URL or `direct`), `config_pac` `[web] pac_url`;
/// `env` and `etc` the proxy variables of the process and of `/etc/environment`;
/// `gnome` GNOME's settings (`Err`: why they were not read).
pub fn combine(
    config_proxy: Option<&str>,
    config_pac: Option<&str>,
    env: &ProxyVars,
    etc: &ProxyVars,
    gnome: Result<&GnomeProxy, &str>,
) -> (ProxyPlan, ProxyEvidence, Option<(String, ProxySource)>) {
    let mut plan = ProxyPlan::default();
    let mut ev = ProxyEvidence { gsettings: "not_consulted".into(), ..ProxyEvidence::default() };
    if let Some(p) = config_proxy.map(str::trim) {
        if p.eq_ignore_ascii_case("direct") {
            plan.direct = Some(ProxySource::Config);
            ev.forced_direct = true;
            return (plan, ev, None);
        }
        set_proxy(&mut plan.http, &mut ev.http, &mut ev.ignored, p, ProxySource::Config);
        set_proxy(&mut plan.https, &mut ev.https, &mut ev.ignored, p, ProxySource::Config);
        if plan.http.is_some() {
            return (plan, ev, None);
        }
    }
    if let Some(pac) = config_pac {
        return (plan, ev, Some((pac.trim().to_string(), ProxySource::Config)));
    }
    for (vars, source) in [(env, ProxySource::Env), (etc, ProxySource::EtcEnvironment)] {
        if let Some(v) = &vars.http {
            set_proxy(&mut plan.http, &mut ev.http, &mut ev.ignored, v, source);
        }
        if let Some(v) = &vars.https {
            set_proxy(&mut plan.https, &mut ev.https, &mut ev.ignored, v, source);
        }
        if plan.no_proxy_source.is_none()
            && let Some(v) = &vars.no_proxy
        {
            plan.no_proxy = NoProxy::parse(v);
            plan.no_proxy_source = Some(source);
            ev.no_proxy = Some(ProxySetting { value: v.chars().take(1024).collect(), source });
        }
    }
    if plan.http.is_some() || plan.https.is_some() {
        return (plan, ev, None);
    }
    let gnome = match gnome {
        Ok(g) => g,
        Err(why) => {
            ev.gsettings = why.to_string();
            return (plan, ev, None);
        }
    };
    ev.gsettings = "read".into();
    match gnome.mode.as_deref() {
        Some("manual") => {
            for (slot, shown, hp) in
                [(&mut plan.http, &mut ev.http, &gnome.http), (&mut plan.https, &mut ev.https, &gnome.https)]
            {
                if let Some((host, port)) = hp
                    && !host.is_empty()
                {
                    let text = if host.contains(':') { format!("[{host}]:{port}") } else { format!("{host}:{port}") };
                    set_proxy(slot, shown, &mut ev.ignored, &text, ProxySource::Gsettings);
                }
            }
            if !gnome.ignore_hosts.is_empty() && plan.no_proxy_source.is_none() {
                let list = gnome.ignore_hosts.join(",");
                plan.no_proxy = NoProxy::parse(&list);
                plan.no_proxy_source = Some(ProxySource::Gsettings);
                ev.no_proxy = Some(ProxySetting { value: list, source: ProxySource::Gsettings });
            }
            (plan, ev, None)
        }
        Some("auto") => {
            let pac = gnome.autoconfig_url.clone().filter(|u| !u.trim().is_empty());
            (plan, ev, pac.map(|u| (u, ProxySource::Gsettings)))
        }
        _ => (plan, ev, None),
    }
}

/// Uses a scanned PAC (pure): its first proxy for every URL, or direct when it names only
/// `DIRECT` (or nothing usable).
pub fn apply_pac(plan: &mut ProxyPlan, scan: &PacScan, source: ProxySource) {
    match scan.proxies.first().and_then(|p| ProxyServer::parse(p).ok()) {
        Some(server) => {
            plan.http = Some((server.clone(), source));
            plan.https = Some((server, source));
        }
        None if scan.direct => plan.direct = Some(source),
        None => {}
    }
}

/// The WPAD PAC URL for a search domain: `http://wpad.<domain>/wpad.dat` (pure; `None` for
/// an empty domain or one with characters a domain cannot have).
pub fn wpad_url(domain: &str) -> Option<String> {
    let domain = domain.trim().trim_end_matches('.').to_ascii_lowercase();
    if domain.is_empty() || !domain.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_')) {
        return None;
    }
    Some(format!("http://wpad.{domain}/wpad.dat"))
}

/// The first search domain of a resolv.conf text (pure): glibc uses the last `search` or
/// `domain` line; `None` without one.
pub fn search_domain(resolv_conf: &str) -> Option<String> {
    let mut found = None;
    for line in resolv_conf.lines() {
        let mut words = line.split_ascii_whitespace();
        if let Some("search" | "domain") = words.next() {
            found = words.next().filter(|w| !w.starts_with(['#', ';'])).map(|w| w.trim_end_matches('.').to_string());
        }
    }
    found.filter(|d| !d.is_empty())
}

/// The I/O half: the environment, `/etc/environment`, `gsettings`.
#[cfg(feature = "live")]
pub mod live {
    use std::path::Path;
    use std::time::Duration;

    use super::{GnomeProxy, ProxyVars, parse_env_file, parse_gvariant};

    /// How long one `gsettings` call may take.
    pub const GSETTINGS_TIMEOUT: Duration = Duration::from_millis(400);

    /// The proxy variables of this process's environment.
    pub fn env_vars() -> ProxyVars {
        let vars: Vec<(String, String)> = std::env::vars_os()
            .filter_map(|(k, v)| Some((k.into_string().ok()?, v.into_string().ok()?)))
            .filter(|(k, _)| k.to_ascii_lowercase().ends_with("_proxy"))
            .collect();
        ProxyVars::from_vars(vars.iter().map(|(k, v)| (k.as_str(), v.as_str())))
    }

    /// The proxy variables of an `/etc/environment`-style file (empty when it cannot be
    /// read; at most 64 KiB are read).
    pub fn file_vars(path: &Path) -> ProxyVars {
        use std::io::Read;
        let mut text = String::new();
        if let Ok(f) = std::fs::File::open(path) {
            let _ = f.take(64 * 1024).read_to_string(&mut text);
        }
        let vars = parse_env_file(&text);
        ProxyVars::from_vars(vars.iter().map(|(k, v)| (k.as_str(), v.as_str())))
    }

    /// GNOME's proxy settings through `gsettings`, each call bounded by
    /// [`GSETTINGS_TIMEOUT`]; `Err` says why they could not be read (`not_installed`,
    /// `timeout`, `failed`).
    pub async fn gnome() -> Result<GnomeProxy, &'static str> {
        async fn get(schema: &str, key: &str) -> Result<Vec<String>, &'static str> {
            let mut cmd = tokio::process::Command::new("gsettings");
            cmd.args(["get", schema, key])
                .stdin(std::process::Stdio::null())
                .stderr(std::process::Stdio::null())
                .kill_on_drop(true);
            let out = match tokio::time::timeout(GSETTINGS_TIMEOUT, cmd.output()).await {
                Err(_) => return Err("timeout"),
                Ok(Err(e)) if e.kind() == std::io::ErrorKind::NotFound => return Err("not_installed"),
                Ok(Err(_)) => return Err("failed"),
                Ok(Ok(out)) => out,
            };
            if !out.status.success() {
                return Err("failed");
            }
            Ok(parse_gvariant(&String::from_utf8_lossy(&out.stdout[..out.stdout.len().min(16 * 1024)])))
        }
        let first = |v: Vec<String>| v.into_iter().next();
        let mode = first(get("org.gnome.system.proxy", "mode").await?);
        let mut g = GnomeProxy { mode, ..GnomeProxy::default() };
        match g.mode.as_deref() {
            Some("auto") => g.autoconfig_url = first(get("org.gnome.system.proxy", "autoconfig-url").await?),
            Some("manual") => {
                g.ignore_hosts = get("org.gnome.system.proxy", "ignore-hosts").await.unwrap_or_default();
                for (schema, slot) in
                    [("org.gnome.system.proxy.http", &mut g.http), ("org.gnome.system.proxy.https", &mut g.https)]
                {
                    let host = first(get(schema, "host").await.unwrap_or_default());
                    let port = first(get(schema, "port").await.unwrap_or_default()).and_then(|p| p.parse().ok());
                    if let (Some(h), Some(p)) = (host, port) {
                        *slot = Some((h, p));
                    }
                }
            }
            _ => {}
        }
        Ok(g)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn proxy_urls_parse_with_and_without_scheme_and_hide_credentials() {
        let p = ProxyServer::parse("http://user:p%40ss@Proxy.Example:3128/").unwrap();
        assert_eq!((p.host.as_str(), p.port, p.shown()), ("proxy.example", 3128, "http://proxy.example:3128".into()));
        // "user:p@ss" in base64.
        assert_eq!(p.authorization().as_deref(), Some("Basic dXNlcjpwQHNz"));
        assert!(!format!("{p:?}").contains("p@ss") && !format!("{p:?}").contains("p%40ss"));
        let bare = ProxyServer::parse("10.0.0.1:8080").unwrap();
        assert_eq!((bare.port, bare.authorization()), (8080, None));
        assert_eq!(ProxyServer::parse("http://proxy.example").unwrap().port, DEFAULT_PROXY_PORT);
        assert_eq!(ProxyServer::parse("http://[2001:db8::1]:3128").unwrap().shown(), "http://[2001:db8::1]:3128");
        let tls = ProxyServer::parse("https://u:pw@Proxy.Example/").unwrap();
        assert_eq!((tls.tls, tls.port, tls.shown()), (true, 443, "https://proxy.example:443".to_string()));
        assert!(!ProxyServer::parse("http://p:1").unwrap().tls && !ProxyServer::parse("p:1").unwrap().tls);
        assert!(matches!(
            ProxyServer::parse("socks5://u:secret@h:1080"),
            Err(ProxyUrlError::UnsupportedScheme { ref shown, .. }) if !shown.contains("secret")
        ));
        for bad in ["", "http://", "http://:3128", "http://h:0", "http://h:99999", "http://h o:1", "http://[::1"] {
            assert!(ProxyServer::parse(bad).is_err(), "{bad:?}");
        }
        let e = ProxyServer::parse("http://u:secret@h:notaport").unwrap_err();
        assert!(!e.to_string().contains("secret"));
    }

    #[test]
    fn base64_pads_as_rfc_4648() {
        for (plain, encoded) in
            [("", ""), ("f", "Zg=="), ("fo", "Zm8="), ("foo", "Zm9v"), ("foob", "Zm9vYg=="), ("fooba", "Zm9vYmE=")]
        {
            assert_eq!(base64(plain.as_bytes()), encoded);
        }
    }

    #[test]
    fn env_files_take_quotes_comments_and_export() {
        let text = "# proxy\nhttp_proxy=\"http://p.example:3128\"\n export https_proxy='http://p.example:3129' \n\
                    no_proxy=localhost,.corp.example # trailing\nPATH=/usr/bin\nbroken line\n=novalue\nBAD KEY=x\n\
                    http_proxy=http://later.example:1\n";
        let vars = parse_env_file(text);
        let get = |k: &str| vars.iter().find(|(key, _)| key == k).map(|(_, v)| v.as_str());
        assert_eq!(get("http_proxy"), Some("http://later.example:1"), "later lines win");
        assert_eq!(get("https_proxy"), Some("http://p.example:3129"));
        assert_eq!(get("no_proxy"), Some("localhost,.corp.example"));
        assert_eq!(get("BAD KEY"), None);
        assert_eq!(vars.len(), 4);
        let pv = ProxyVars::from_vars(vars.iter().map(|(k, v)| (k.as_str(), v.as_str())));
        assert_eq!(pv.http.as_deref(), Some("http://later.example:1"));
    }

    #[test]
    fn lower_case_variables_win_and_empty_ones_are_unset() {
        let vars = [
            ("HTTP_PROXY", "http://upper:1"),
            ("http_proxy", "http://lower:2"),
            ("https_proxy", " "),
            ("HTTPS_PROXY", "up:3"),
        ];
        let pv = ProxyVars::from_vars(vars);
        assert_eq!(pv.http.as_deref(), Some("http://lower:2"));
        assert_eq!(pv.https.as_deref(), Some("up:3"));
        assert_eq!(pv.no_proxy, None);
    }

    #[test]
    fn no_proxy_matches_as_curl_does() {
        let np =
            NoProxy::parse("localhost, .corp.example,site.test:8080 10.0.0.0/8,192.0.2.7,[2001:db8::1],*.dev.example");
        assert!(np.matches("localhost", 80));
        assert!(
            np.matches("corp.example", 443) && np.matches("a.b.corp.example", 80) && np.matches("A.CORP.EXAMPLE.", 80)
        );
        assert!(!np.matches("notcorp.example", 80), "suffix at a dot boundary only");
        assert!(np.matches("www.site.test", 8080) && !np.matches("www.site.test", 80), "the port limits the entry");
        assert!(np.matches("10.1.2.3", 80) && !np.matches("11.0.0.1", 80));
        assert!(np.matches("192.0.2.7", 443) && !np.matches("192.0.2.8", 443));
        assert!(np.matches("[2001:db8::1]", 443) && np.matches("2001:db8::1", 443));
        assert!(np.matches("x.dev.example", 80) && np.matches("dev.example", 80));
        assert!(!np.matches("example", 80));
        assert!(NoProxy::parse("*").matches("anything.example", 1));
        assert!(NoProxy::parse("").is_empty() && !NoProxy::parse("").matches("a", 1));
        // A name entry never matches an address (no lookups).
        assert!(!NoProxy::parse("localhost").matches("127.0.0.1", 80));
        assert!(NoProxy::parse("::1").matches("::1", 80));
        assert!(NoProxy::parse("0.0.0.0/0").matches("198.18.1.2", 80));
    }

    #[test]
    fn pac_scan_lists_proxies_and_direct() {
        let pac = r#"
            function FindProxyForURL(url, host) {
                if (dnsDomainIs(host, ".site.test")) return "DIRECT";
                if (shExpMatch(url, "https:*")) return 'PROXY p2.example:8080';
                return "PROXY p1.example:3128; PROXY p2.example:8080; HTTPS t.example:8443; SOCKS5 s.example:1080; DIRECT";
            }"#;
        let scan = scan_pac(pac);
        assert!(scan.defines_find_proxy && scan.direct);
        assert_eq!(scan.proxies, ["http://p2.example:8080", "http://p1.example:3128", "https://t.example:8443"]);
        assert!(ProxyServer::parse(&scan.proxies[2]).unwrap().tls);
        assert_eq!(scan.unsupported, ["SOCKS5 s.example:1080"]);
        let none = scan_pac("this is not javascript \"at all");
        assert!(!none.defines_find_proxy && none.proxies.is_empty() && !none.direct);
        let looping = scan_pac("function FindProxyForURL(u, h) { while (true) {} return \"PROXY p:1\"; }");
        assert_eq!(looping.proxies, ["http://p:1"], "a PAC is scanned, never run");
    }

    #[test]
    fn gvariant_values_lose_their_quotes() {
        assert_eq!(parse_gvariant("'manual'\n"), ["manual"]);
        assert_eq!(parse_gvariant("3128\n"), ["3128"]);
        assert_eq!(parse_gvariant("uint32 3128"), ["3128"]);
        assert_eq!(parse_gvariant("['localhost', '127.0.0.0/8', '::1']"), ["localhost", "127.0.0.0/8", "::1"]);
        assert!(parse_gvariant("@as []").is_empty() && parse_gvariant("''").is_empty());
    }

    fn vars(http: Option<&str>, https: Option<&str>, no: Option<&str>) -> ProxyVars {
        ProxyVars { http: http.map(Into::into), https: https.map(Into::into), no_proxy: no.map(Into::into) }
    }

    #[test]
    fn the_environment_wins_over_etc_environment_variable_by_variable() {
        let env = vars(Some("http://env.example:1"), None, None);
        let etc = vars(Some("http://etc.example:2"), Some("http://etc.example:3"), Some("site.test"));
        let (plan, ev, pac) = combine(None, None, &env, &etc, Err("not_installed"));
        assert_eq!(pac, None);
        assert_eq!(ev.http, Some(ProxySetting { value: "http://env.example:1".into(), source: ProxySource::Env }));
        assert_eq!(ev.https.map(|s| s.source), Some(ProxySource::EtcEnvironment));
        assert_eq!(ev.no_proxy.map(|s| s.source), Some(ProxySource::EtcEnvironment));
        assert_eq!(ev.gsettings, "not_consulted");
        assert!(matches!(plan.route("http", "a.example", 80), Route::Proxy { source: ProxySource::Env, .. }));
        assert_eq!(
            plan.route("https", "www.site.test", 443),
            Route::Direct { source: Some(ProxySource::EtcEnvironment) }
        );
        let (plan, ev, _) = combine(None, None, &ProxyVars::default(), &ProxyVars::default(), Err("not_installed"));
        assert_eq!(plan.route("http", "a", 80), Route::Direct { source: None });
        assert_eq!(ev.gsettings, "not_installed");
    }

    #[test]
    fn the_config_wins_and_direct_turns_proxies_off() {
        let env = vars(Some("http://env.example:1"), None, None);
        let (plan, ev, _) = combine(Some("direct"), None, &env, &ProxyVars::default(), Err("x"));
        assert!(ev.forced_direct);
        assert_eq!(plan.route("http", "a", 80), Route::Direct { source: Some(ProxySource::Config) });
        let (plan, _, _) = combine(Some("http://u:pw@cfg.example:8"), None, &env, &ProxyVars::default(), Err("x"));
        let Route::Proxy { server, source } = plan.route("https", "a", 443) else { panic!("proxy expected") };
        assert_eq!(
            (server.shown(), source, server.has_credentials()),
            ("http://cfg.example:8".into(), ProxySource::Config, true)
        );
        let (_, _, pac) = combine(None, Some("http://wpad.example/p.pac"), &env, &ProxyVars::default(), Err("x"));
        assert_eq!(pac, Some(("http://wpad.example/p.pac".into(), ProxySource::Config)));
    }

    #[test]
    fn unusable_proxy_values_are_noted_without_credentials() {
        let env = vars(Some("socks5://u:secret@s:1080"), None, None);
        let (plan, ev, _) = combine(None, None, &env, &ProxyVars::default(), Err("x"));
        assert!(plan.http.is_none());
        assert_eq!(ev.ignored.len(), 1);
        assert!(!ev.ignored[0].contains("secret"));
    }

    #[test]
    fn gnome_manual_and_auto_modes() {
        let g = GnomeProxy {
            mode: Some("manual".into()),
            ignore_hosts: vec!["localhost".into(), "*.corp.example".into()],
            http: Some(("gp.example".into(), 3128)),
            https: Some(("gp.example".into(), 3129)),
            ..GnomeProxy::default()
        };
        let (plan, ev, _) = combine(None, None, &ProxyVars::default(), &ProxyVars::default(), Ok(&g));
        assert_eq!(ev.gsettings, "read");
        assert_eq!(ev.https.map(|s| s.value), Some("http://gp.example:3129".into()));
        assert_eq!(plan.route("http", "x.corp.example", 80), Route::Direct { source: Some(ProxySource::Gsettings) });
        let auto =
            GnomeProxy { mode: Some("auto".into()), autoconfig_url: Some("http://pac.example/x.pac".into()), ..g };
        let (_, _, pac) = combine(None, None, &ProxyVars::default(), &ProxyVars::default(), Ok(&auto));
        assert_eq!(pac, Some(("http://pac.example/x.pac".into(), ProxySource::Gsettings)));
    }

    #[test]
    fn a_scanned_pac_routes_through_its_first_proxy_or_direct() {
        let mut plan = ProxyPlan::default();
        apply_pac(
            &mut plan,
            &scan_pac("function FindProxyForURL(u,h){return \"PROXY p:3128; DIRECT\";}"),
            ProxySource::Wpad,
        );
        assert!(matches!(plan.route("https", "a", 443), Route::Proxy { source: ProxySource::Wpad, .. }));
        let mut plan = ProxyPlan::default();
        apply_pac(&mut plan, &scan_pac("function FindProxyForURL(u,h){return \"DIRECT\";}"), ProxySource::Pac);
        assert_eq!(plan.route("http", "a", 80), Route::Direct { source: Some(ProxySource::Pac) });
    }

    #[test]
    fn dhcp_option_252_must_be_an_http_url() {
        for good in [
            "http://198.18.1.2/wpad.dat",
            "HTTP://wpad.site.test:8080/proxy.pac",
            "https://[2001:db8::1]/wpad.dat",
            "http://pac.site.test",
        ] {
            assert_eq!(dhcp_pac_url(good).as_deref(), Ok(good), "{good}");
        }
        assert_eq!(dhcp_pac_url("  http://a.test/w.dat ").as_deref(), Ok("http://a.test/w.dat"));
        for bad in [
            "",
            "wpad.dat",
            "198.18.1.2/wpad.dat",
            "ftp://a.test/wpad.dat",
            "http://",
            "http:///wpad.dat",
            "http://a b/w.dat",
            "http://a.test:0/",
            "http://a.test:99999/",
            "http://[::1/w.dat",
            "http://[nope]/w.dat",
            "http://a\u{fffd}b/",
            "http://a/\u{7}",
            "http://a%2f.test/",
        ] {
            assert!(dhcp_pac_url(bad).is_err(), "{bad:?}");
        }
        let w = DhcpWpad::new("http://u:secret@a.test/w.dat", WpadOrigin::Offer, None);
        assert!(!w.url.contains("secret"));
    }

    #[test]
    fn wpad_urls_come_from_the_search_domain() {
        assert_eq!(search_domain("nameserver 1.1.1.1\nsearch a.example b.example\n"), Some("a.example".into()));
        assert_eq!(search_domain("search a.example\ndomain c.example.\n"), Some("c.example".into()));
        assert_eq!(search_domain("nameserver 1.1.1.1\n"), None);
        assert_eq!(wpad_url("Site.Test."), Some("http://wpad.site.test/wpad.dat".into()));
        assert_eq!(wpad_url(""), None);
        assert_eq!(wpad_url("bad/domain"), None);
    }
}
