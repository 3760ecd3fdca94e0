//! Validated settings, built from the command line and the TOML config file.
//!
//! Defaults < config file < command line. The command line arrives as plain
//! [`Overrides`] (the binary converts its clap arguments into them), so no clap type is
//! seen here or below. Everything is checked here, before any packet is
//! sent, so that a bad value is a clear "could not run" (exit 3) and never a surprise in the
//! middle of a check. Every threshold's source is documented in `docs/checks/`.

use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::Deserialize;

mod profiles;
mod ticket;
pub use profiles::{
    AdSettings, M365Endpoint, M365Settings, PrinterSpec, PrintersSettings, Profile, ProfilesSettings, RdpSettings,
    SmbSettings, UncError, UncPath,
};
pub use ticket::{
    JiraSettings, RtSettings, SecretSource, ServiceNowSettings, SmtpSettings, TicketSettings, TicketSystem,
    ZendeskSettings,
};

/// Where the config file is looked for when `--config` is not given.
pub const DEFAULT_CONFIG_PATH: &str = "/etc/nettriage/config.toml";

/// DNS name tested when none is configured: NetAlly's default lookup name (ANCHORS.md, b).
pub const DEFAULT_DNS_NAME: &str = "www.google.com";

/// A configuration problem; every one means exit code 3.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The config file could not be read.
    #[error("cannot read config file {path}: {source}")]
    Read {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// The config file is not valid TOML for nettriage.
    #[error("invalid config file {}{}: {message}{}", path.display(), at.as_ref().map_or(String::new(), |a| format!(", line {} column {}", a.line, a.column)), at.as_ref().map_or(String::new(), |a| format!("\n  {} | {}", a.line, a.text)))]
    Parse {
        /// The file.
        path: PathBuf,
        /// The parser's message.
        message: String,
        /// Where in the file, when the parser said.
        at: Option<TextPosition>,
    },
    /// A value is out of range or malformed.
    #[error("invalid {what}: {message}")]
    Invalid {
        /// Which setting.
        what: String,
        /// What is wrong.
        message: String,
    },
}

/// A place in a text file, for error messages.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TextPosition {
    /// Line, from 1.
    pub line: usize,
    /// Column in characters, from 1.
    pub column: usize,
    /// The line's text (at most 200 characters).
    pub text: String,
}

impl TextPosition {
    /// The position of byte `offset` in `text` (clamped to the text).
    pub fn of(text: &str, offset: usize) -> TextPosition {
        let mut offset = offset.min(text.len());
        while !text.is_char_boundary(offset) {
            offset -= 1;
        }
        let before = &text[..offset];
        let line_start = before.rfind('\n').map_or(0, |i| i + 1);
        let line_end = text[offset..].find('\n').map_or(text.len(), |i| offset + i);
        TextPosition {
            line: before.matches('\n').count() + 1,
            column: text[line_start..offset].chars().count() + 1,
            text: text[line_start..line_end].trim_end_matches('\r').chars().take(200).collect(),
        }
    }
}

fn invalid(what: impl Into<String>, message: impl Into<String>) -> ConfigError {
    ConfigError::Invalid { what: what.into(), message: message.into() }
}

/// Report formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// Terminal table.
    Table,
    /// JSON report (schema_version "1").
    Json,
    /// Markdown for tickets (Jira, ServiceNow, Zendesk).
    Markdown,
    /// One self-contained HTML file.
    Html,
}

impl Format {
    /// The format implied by a file name's extension: `.txt` table, `.md` Markdown,
    /// `.html`/`.htm` HTML, anything else JSON.
    pub fn for_path(path: &std::path::Path) -> Format {
        match path.extension().and_then(|e| e.to_str()).map(str::to_ascii_lowercase).as_deref() {
            Some("txt") => Format::Table,
            Some("md" | "markdown") => Format::Markdown,
            Some("html" | "htm") => Format::Html,
            _ => Format::Json,
        }
    }
}

/// When to colour terminal output.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Color {
    /// Only when stdout is a terminal and NO_COLOR is unset.
    #[default]
    Auto,
    /// Always.
    Always,
    /// Never.
    Never,
}

/// What the command line says about a run, as plain values: each `None` or empty field
/// leaves the config file's value (or the default) in place. The binary builds this from
/// its clap arguments; field meanings are those of the `run` flags of the same names.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Overrides {
    /// `--interface`.
    pub interface: Option<String>,
    /// `--target`, as given (HOST:PORT or \[IPv6\]:PORT).
    pub targets: Vec<String>,
    /// `--dns-name`.
    pub dns_names: Vec<String>,
    /// `--format`.
    pub format: Option<Format>,
    /// `--output`.
    pub output: Option<PathBuf>,
    /// `--deadline`, in seconds.
    pub deadline: Option<u64>,
    /// `--config`: the config file; `None` reads [`DEFAULT_CONFIG_PATH`] if it exists.
    pub config: Option<PathBuf>,
    /// `--expected-dhcp-server`.
    pub expected_dhcp_servers: Vec<std::net::Ipv4Addr>,
    /// `--dhcp-full`.
    pub dhcp_full: bool,
    /// `--dhcp-request-ip`.
    pub dhcp_request_ip: Option<std::net::Ipv4Addr>,
    /// `--dhcp-window`, in milliseconds.
    pub dhcp_window_ms: Option<u64>,
    /// `--wifi-scan`.
    pub wifi_scan: bool,
    /// `--capture`.
    pub capture: Option<PathBuf>,
    /// `--redact`.
    pub redact: bool,
    /// `--color`.
    pub color: Color,
    /// `--url`, as given.
    pub urls: Vec<String>,
    /// `--connectivity-url`.
    pub connectivity_url: Option<String>,
    /// `--ca-file`.
    pub ca_file: Option<PathBuf>,
    /// `--proxy`.
    pub proxy: Option<String>,
    /// `--neighbours`: wait up to `[neighbours] window_secs` for the switch's LLDP/CDP.
    pub neighbours: bool,
    /// `--profile`: service profiles added to the config file's `[profiles] enabled`.
    pub profiles: Vec<Profile>,
}

/// A TCP service to probe.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    /// Name or address as given.
    pub host: TargetHost,
    /// TCP port, 1 to 65535.
    pub port: u16,
}

/// The host part of a target.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TargetHost {
    /// An address literal: probed even when DNS is down.
    Ip(IpAddr),
    /// A DNS name: resolved through the dns check's answers.
    Name(String),
}

impl std::fmt::Display for Target {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.host {
            TargetHost::Ip(IpAddr::V6(ip)) => write!(f, "[{ip}]:{}", self.port),
            TargetHost::Ip(ip) => write!(f, "{ip}:{}", self.port),
            TargetHost::Name(name) => write!(f, "{name}:{}", self.port),
        }
    }
}

impl std::str::FromStr for Target {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, String> {
        let (host, port) = if let Some(rest) = text.strip_prefix('[') {
            let (host, port) = rest.split_once("]:").ok_or("expected [IPv6]:PORT")?;
            let ip: std::net::Ipv6Addr = host.parse().map_err(|_| format!("`{host}` is not an IPv6 address"))?;
            (TargetHost::Ip(IpAddr::V6(ip)), port)
        } else {
            let (host, port) = text.rsplit_once(':').ok_or("expected HOST:PORT")?;
            if host.contains(':') {
                return Err("write IPv6 targets as [ADDRESS]:PORT".into());
            }
            let host = match host.parse::<IpAddr>() {
                Ok(ip) => TargetHost::Ip(ip),
                Err(_) => TargetHost::Name(validate_dns_name(host)?),
            };
            (host, port)
        };
        let port: u16 = port.parse().map_err(|_| format!("`{port}` is not a port number"))?;
        if port == 0 {
            return Err("port 0 cannot be probed".into());
        }
        Ok(Target { host, port })
    }
}

/// Checks that `name` is a DNS name we can put on the wire; returns it lowercased without a
/// trailing dot.
pub fn validate_dns_name(name: &str) -> Result<String, String> {
    let name = name.trim_end_matches('.').to_ascii_lowercase();
    if name.is_empty() || name.len() > 253 {
        return Err(format!("`{name}` is not a valid DNS name (1 to 253 characters)"));
    }
    for label in name.split('.') {
        let ok_chars = label.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
        if label.is_empty() || label.len() > 63 || !ok_chars || label.starts_with('-') {
            return Err(format!("`{name}` is not a valid DNS name (bad label `{label}`)"));
        }
    }
    Ok(name)
}

/// Link thresholds.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct LinkSettings {
    /// Warn when errors are more than this share of packets (0.001 = 0.1 %).
    pub error_ratio_warn: f64,
    /// ...and at least this many errors were counted, so a handful of old errors is ignored.
    pub error_min_count: u64,
}

impl Default for LinkSettings {
    fn default() -> Self {
        Self { error_ratio_warn: 0.001, error_min_count: 10 }
    }
}

/// DHCP probe settings and thresholds.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct DhcpSettings {
    /// Send a DHCPDISCOVER (no REQUEST, nothing changes on the machine); `false` reads only
    /// the lease state.
    pub probe: bool,
    /// The DISCOVER's listener stays open while any other check runs (bounded by the run
    /// deadline), so every server that answers during the run is heard; this is the
    /// least it listens, counted from the DISCOVER, when the rest of the run is quicker
    /// (`--dhcp-window`; `None`: [`DEFAULT_DHCP_WINDOW_MS`] for a run,
    /// [`SURVEY_DHCP_WINDOW_MS`] for a survey). `offer_window_ms` is read as the same key.
    #[serde(alias = "offer_window_ms")]
    pub window_ms: Option<u64>,
    /// When no offer came at all, keep listening at least this long before judging
    /// `dhcp.no_offer` (nmap's broadcast-dhcp-discover waits 10 s;
    /// dnsmasq pings an address for up to 3 s before offering it to a new client, so 3.3 s
    /// still sees such a server, as `dhcp.slow`, and the worst case of a whole run stays
    /// under the default 10 s deadline).
    pub offer_cap_ms: u64,
    /// Warn when the first offer took longer than this (our choice: RFC 2131 clients
    /// retransmit after about 4 s, so an offer after 1 s already costs a visible delay).
    pub slow_ms: f64,
    /// How long the RFC 5227 ARP probe for our own address listens for another owner
    /// (RFC 5227 takes up to 9 s; systemd #30724 asks for about 200 ms).
    pub duplicate_probe_ms: u64,
    /// Run a complete DISCOVER-OFFER-REQUEST-ACK with a separate identity, then RELEASE.
    pub full: bool,
    /// Instead of DISCOVER, ask for this address directly (an INIT-REBOOT REQUEST, as a
    /// client does for its old address); implies `full`.
    pub request_ip: Option<std::net::Ipv4Addr>,
}

/// The DHCP listener's minimum window in a run, from the DISCOVER: long enough for the
/// servers of a LAN that answer at once (a second one included), short enough that a
/// healthy run stays near 200 ms; servers slower than this are still heard while the other
/// checks run.
pub const DEFAULT_DHCP_WINDOW_MS: u64 = 200;
/// The DHCP listener's minimum window in a survey, where nobody waits for the result: long
/// enough for a server behind a relay or one that delays its offers.
pub const SURVEY_DHCP_WINDOW_MS: u64 = 2000;

impl DhcpSettings {
    /// The least the DISCOVER's listener listens ([`DhcpSettings::window_ms`], else the
    /// run's default).
    pub fn window(&self) -> std::time::Duration {
        std::time::Duration::from_millis(self.window_ms.unwrap_or(DEFAULT_DHCP_WINDOW_MS))
    }
}

impl Default for DhcpSettings {
    fn default() -> Self {
        Self {
            probe: true,
            window_ms: None,
            offer_cap_ms: 3300,
            slow_ms: 1000.0,
            duplicate_probe_ms: 200,
            full: false,
            request_ip: None,
        }
    }
}

/// Gateway probe settings and thresholds.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct GatewaySettings {
    /// Echo requests per gateway (NetAlly pings 3, LinkIQ 4; 5 gives loss in 20 % steps).
    pub probes: u32,
    /// Milliseconds between echo requests (25: the five-probe series takes about 100 ms
    /// plus the last reply, and consecutive replies still measure jitter; a LAN gateway
    /// answers in well under 25 ms, so the probes rarely overlap).
    pub interval_ms: u64,
    /// Milliseconds to wait for each echo reply (LinkIQ: 1 s).
    pub timeout_ms: u64,
    /// Milliseconds to wait for the gateway's ARP reply (three requests are sent).
    pub arp_timeout_ms: u64,
    /// Warn above this loss ratio (netdiag: loss over 5 % is "significant").
    pub loss_warn: f64,
    /// Fail above this loss ratio (a majority of probes lost).
    pub loss_fail: f64,
    /// Warn when the average RTT is above this (netdiag fails its gateway check above 100 ms).
    pub rtt_warn_ms: f64,
    /// Fail when the average RTT is above this (ChromeOS gateway routine: 1500 ms).
    pub rtt_fail_ms: f64,
}

impl Default for GatewaySettings {
    fn default() -> Self {
        Self {
            probes: 5,
            interval_ms: 25,
            timeout_ms: 1000,
            arp_timeout_ms: 1000,
            loss_warn: 0.05,
            loss_fail: 0.5,
            rtt_warn_ms: 100.0,
            rtt_fail_ms: 1500.0,
        }
    }
}

/// DNS settings and thresholds.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct DnsSettings {
    /// Milliseconds to wait for each answer; a timed-out query is retried once (as ChromeOS does).
    pub timeout_ms: u64,
    /// Warn when a server's average answer time is above this (ChromeOS: 400 ms "slightly above").
    pub slow_ms: f64,
    /// The resolver configuration to read.
    pub resolv_conf: PathBuf,
    /// systemd-resolved's list of its upstream servers, read when resolv.conf names its
    /// stub (127.0.0.53).
    pub resolved_upstreams: PathBuf,
    /// NetworkManager's resolv.conf without its dnsmasq stub, read when resolv.conf names
    /// 127.0.0.1, ::1 or 127.0.1.1.
    pub networkmanager_upstreams: PathBuf,
    /// systemd-resolved's configuration (drop-ins in the same path plus `.d`), read for
    /// its global `DNSOverTLS=` mode when resolv.conf names its stub.
    pub resolved_conf: PathBuf,
}

impl Default for DnsSettings {
    fn default() -> Self {
        Self {
            timeout_ms: 1500,
            slow_ms: 400.0,
            resolv_conf: PathBuf::from("/etc/resolv.conf"),
            resolved_upstreams: PathBuf::from("/run/systemd/resolve/resolv.conf"),
            networkmanager_upstreams: PathBuf::from("/run/NetworkManager/no-stub-resolv.conf"),
            resolved_conf: PathBuf::from("/etc/systemd/resolved.conf"),
        }
    }
}

/// TCP probe settings.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct PortsSettings {
    /// Milliseconds to wait for a connection before calling the port filtered.
    pub timeout_ms: u64,
    /// Most connections in flight at once (RustScan's false negatives came from too many).
    pub concurrency: usize,
}

impl Default for PortsSettings {
    fn default() -> Self {
        Self { timeout_ms: 2000, concurrency: 32 }
    }
}

/// Web (HTTP and TLS) settings; sources in `docs/checks/web.md`.
///
/// The connectivity probe is off unless `connectivity_url` is set: nettriage does not
/// contact a third party nobody asked it to, and CI and the lab never reach the internet.
/// Public endpoints a site may choose are listed in `docs/checks/web.md` (NetworkManager's
/// `http://nmcheck.gnome.org/check_network_status.txt`, Android's `generate_204`, Windows'
/// `connecttest.txt`).
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct WebSettings {
    /// The connectivity-check URL (plain `http://` is what tells a portal from a TLS
    /// failure); `None`: no connectivity probe.
    pub connectivity_url: Option<String>,
    /// What the connectivity URL answers when nothing is in the way.
    pub connectivity_expect: ConnectivityExpect,
    /// URLs to probe (`--url`), `http://` or `https://`.
    pub urls: Vec<String>,
    /// Milliseconds for one probe, the whole redirect chain included (ChromeOS gives each
    /// HTTPS request 5 s; 3 s keeps the default run inside its 10 s deadline).
    pub timeout_ms: u64,
    /// Redirects followed at most, per probe.
    pub max_redirects: u8,
    /// Body bytes read at most, per response.
    pub max_body_bytes: usize,
    /// A PEM file of CA certificates trusted in addition to the system's (a site's own PKI).
    pub ca_file: Option<PathBuf>,
    /// Milliseconds of connect + TLS + time to first byte over which a URL target is slow
    /// (`web.slow`): ChromeOS's "high" HTTPS latency band starts at 500 ms.
    pub slow_ms: u64,
    /// Milliseconds over which it is very slow: ChromeOS's "very high" band, over 1000 ms.
    pub very_slow_ms: u64,
    /// The proxy for every probe (`http://[user:password@]host:port`), or `direct` for none;
    /// `None`: discovered (`platform::proxy`, order in `docs/checks/web.md`).
    pub proxy: Option<String>,
    /// A PAC file's URL to take the proxy from, ahead of the environment's proxy variables.
    pub pac_url: Option<String>,
    /// Whether to look for a PAC at `http://wpad.<first search domain>/wpad.dat` when no
    /// other source sets a proxy.
    pub wpad: bool,
}

/// The connectivity URL `selftest` uses when none is configured: NetworkManager's public
/// endpoint, answering 200 with `NetworkManager is online` (the default
/// [`ConnectivityExpect`]). `run` and `survey` never contact it unless configured.
pub const SELFTEST_CONNECTIVITY_URL: &str = "http://nmcheck.gnome.org/check_network_status.txt";

impl WebSettings {
    /// These settings for `selftest`: without a configured connectivity URL, NetworkManager's
    /// endpoint with its expected answer, so a captive portal is never called healthy by the
    /// end user's test. A configured URL (and its `connectivity_expect`) is kept.
    pub fn for_selftest(mut self) -> WebSettings {
        if self.connectivity_url.is_none() {
            self.connectivity_url = Some(SELFTEST_CONNECTIVITY_URL.to_string());
            self.connectivity_expect = ConnectivityExpect::default();
        }
        self
    }
}

impl Default for WebSettings {
    fn default() -> Self {
        WebSettings {
            connectivity_url: None,
            connectivity_expect: ConnectivityExpect::default(),
            urls: Vec::new(),
            timeout_ms: 3000,
            max_redirects: 5,
            max_body_bytes: 64 * 1024,
            ca_file: None,
            slow_ms: 500,
            very_slow_ms: 1000,
            proxy: None,
            pac_url: None,
            wpad: true,
        }
    }
}

/// The answer a connectivity URL gives when nothing is in the way. A table given in the
/// config file needs `status`; a `body` it leaves out matches any body (it does not keep the
/// default's NetworkManager text).
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct ConnectivityExpect {
    /// The HTTP status (204 for `generate_204`, 200 for the text endpoints).
    pub status: u16,
    /// The body, compared after trimming white space; `None`: any body.
    #[serde(default)]
    pub body: Option<String>,
}

impl Default for ConnectivityExpect {
    fn default() -> Self {
        // NetworkManager's endpoint and body (ANCHORS.md e), the default for a site that
        // sets only `connectivity_url` to it.
        ConnectivityExpect { status: 200, body: Some("NetworkManager is online".into()) }
    }
}

/// `url` without its user information (`user:password@`), as reports and errors show URLs:
/// credentials in a URL are used for nothing and never printed (pure).
pub fn without_credentials(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else { return url.to_string() };
    let end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    match rest[..end].rfind('@') {
        Some(at) => format!("{scheme}://{}", &rest[at + 1..]),
        None => url.to_string(),
    }
}

/// Checks a URL's shape without parsing it fully (the web check parses it with `url`):
/// `http://` or `https://`, a host, no white space, at most 2048 bytes.
pub fn validate_url(text: &str) -> Result<(), String> {
    let rest = text
        .strip_prefix("http://")
        .or_else(|| text.strip_prefix("https://"))
        .ok_or_else(|| "only http:// and https:// URLs can be probed".to_string())?;
    if text.len() > 2048 {
        return Err("longer than 2048 bytes".into());
    }
    if text.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err("contains white space or control characters".into());
    }
    let authority = rest.split(['/', '?', '#']).next().unwrap_or_default();
    let host = authority.rsplit('@').next().unwrap_or_default();
    if host.is_empty() || host.starts_with(':') {
        return Err("has no host".into());
    }
    Ok(())
}

/// IPv6 addressing settings (`[ipv6]`; sources in `docs/checks/ipv6.md`).
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct Ipv6Settings {
    /// Send a Router Solicitation and listen for Router Advertisements; `false` reads only
    /// the addresses the kernel formed.
    pub solicit: bool,
    /// The longest the listener waits for Router Advertisements after the solicitation.
    /// RFC 4861 lets a router delay its answer by up to MAX_RA_DELAY_TIME (500 ms), so
    /// 1000 ms hears every router that answers as the RFC says.
    pub ra_window_ms: u64,
    /// Once an advertisement arrived, how much longer to listen for a second router.
    pub ra_grace_ms: u64,
    /// Routers that may advertise (link-local addresses or MACs); an advertisement from any
    /// other is `ipv6.unexpected_router`. Empty: not checked.
    pub expected_routers_v6: Vec<RouterId>,
}

impl Default for Ipv6Settings {
    fn default() -> Self {
        Ipv6Settings { solicit: true, ra_window_ms: 1000, ra_grace_ms: 150, expected_routers_v6: Vec::new() }
    }
}

/// A router named in `expected_routers_v6`: its link-local address or its MAC.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(try_from = "String")]
pub enum RouterId {
    /// The router's link-local address (the source of its advertisements).
    Addr(std::net::Ipv6Addr),
    /// The router's MAC (the advertisement's source link-layer address).
    Mac(crate::types::MacAddr),
}

impl std::str::FromStr for RouterId {
    type Err = String;

    /// Reads `fe80::1` or `02:00:00:00:00:01`.
    fn from_str(text: &str) -> Result<RouterId, String> {
        if let Ok(ip) = text.parse::<std::net::Ipv6Addr>() {
            // Router Advertisements always come from a link-local address (RFC 4861 6.1.2).
            if (ip.segments()[0] & 0xffc0) != 0xfe80 {
                return Err(format!("{ip} is not link-local: routers advertise from fe80::/10"));
            }
            return Ok(RouterId::Addr(ip));
        }
        text.parse::<crate::types::MacAddr>()
            .map(RouterId::Mac)
            .map_err(|_| format!("`{text}` is neither a link-local IPv6 address nor a MAC"))
    }
}

impl TryFrom<String> for RouterId {
    type Error = String;

    fn try_from(text: String) -> Result<RouterId, String> {
        text.parse()
    }
}

impl std::fmt::Display for RouterId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            RouterId::Addr(ip) => write!(f, "{ip}"),
            RouterId::Mac(mac) => write!(f, "{mac}"),
        }
    }
}

/// Switch-port neighbours (`[neighbours]`; sources in `docs/checks/neighbours.md`).
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct NeighboursSettings {
    /// Wait up to `window_secs` for the switch's LLDP or CDP (`--neighbours`; surveys set
    /// it); `false`: listen only while the run lasts anyway.
    pub listen: bool,
    /// How long `--neighbours` waits, in seconds: LLDP's default transmit interval is 30 s
    /// (IEEE 802.1AB msgTxInterval), CDP's 60 s; 35 s hears one LLDP frame with a margin.
    pub window_secs: u64,
    /// The VLAN the switch port should put this machine in (the site's access VLAN); the
    /// switch saying another is `link.unexpected_vlan`. `None`: not checked.
    pub expected_vlan: Option<u16>,
    /// Ask lldpd (`lldpcli -f json show neighbors details`) for the neighbours it knows.
    pub lldpcli: bool,
    /// lldpd's control socket (`lldpcli -u`); `None`: lldpcli's default.
    pub lldpd_socket: Option<PathBuf>,
    /// When the wait ends before the window does: `each` (one frame of each protocol, LLDP
    /// and CDP) or `first` (the first LLDP frame). lldpd's answer ends it either way.
    pub wait: NeighboursWait,
}

impl Default for NeighboursSettings {
    fn default() -> Self {
        NeighboursSettings {
            listen: false,
            window_secs: 35,
            expected_vlan: None,
            lldpcli: true,
            lldpd_socket: None,
            wait: NeighboursWait::Each,
        }
    }
}

impl NeighboursSettings {
    /// A run deadline (seconds) long enough to wait the window: waiting for the switch
    /// needs the run to last `window_secs` and the checks' wrap-up (1 s).
    pub fn stretch(&self, deadline_secs: u64) -> u64 {
        deadline_secs.max(self.window_secs.saturating_add(1))
    }
}

impl Config {
    /// Makes every run wait up to `[neighbours] window_secs` for the switch (as
    /// `--neighbours` does), the deadline stretched to fit: what a survey's runs do.
    pub fn listen_for_neighbours(&mut self) {
        self.neighbours.listen = true;
        let secs = self.neighbours.stretch(self.deadline.as_secs());
        self.deadline = self.deadline.max(Duration::from_secs(secs));
    }
}

/// When the neighbours check stops listening before its window ends (`[neighbours] wait`).
#[derive(Debug, Clone, Copy, Deserialize, PartialEq, Eq, Default)]
#[serde(rename_all = "snake_case")]
pub enum NeighboursWait {
    /// Once one LLDP and one CDP frame were heard: a Cisco switch sends both, and CDP
    /// names the native VLAN and duplex where its LLDP may not. On a switch that sends
    /// only LLDP the wait lasts the whole window.
    #[default]
    Each,
    /// At the first LLDP frame: LLDP carries everything the judge reads, so this is the
    /// quick choice on networks known to run LLDP.
    First,
}

impl NeighboursWait {
    /// `each` or `first`, as in the config file.
    pub fn as_str(self) -> &'static str {
        match self {
            NeighboursWait::Each => "each",
            NeighboursWait::First => "first",
        }
    }
}

/// Wi-Fi settings and thresholds (sources in `docs/checks/wifi.md`).
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct WifiSettings {
    /// Trigger a scan for neighbouring access points (`--wifi-scan`; needs CAP_NET_ADMIN).
    pub scan: bool,
    /// How long to wait for the scan to finish (a full 2.4 + 5 GHz active scan takes 2 to 4 s).
    pub scan_timeout_ms: u64,
    /// Warn when the signal is below this (wdutil guide: -70 to -80 dBm is "weak"; netdiag:
    /// at least -70 dBm is "fair"; ChromeOS calls about -75 dBm weak).
    pub signal_warn_dbm: i32,
    /// Fail when the signal is below this (wdutil guide: below -80 dBm "barely usable").
    pub signal_fail_dbm: i32,
    /// Warn when SNR is below this (802.11 OFDM sensitivity: 36 Mbit/s needs about 21 dB).
    pub snr_warn_db: i32,
    /// Fail when SNR is below this (about what the lowest 6 Mbit/s OFDM rate needs).
    pub snr_fail_db: i32,
    /// Warn when the transmit rate is below this (24 Mbit/s: the highest mandatory OFDM rate).
    pub bitrate_warn_mbps: f64,
    /// Warn when retries exceed this share of transmitted packets.
    pub retry_ratio_warn: f64,
    /// Warn when failed transmissions exceed this share (netdiag notes loss over 1 %).
    pub failed_ratio_warn: f64,
    /// Judge retries only after this many transmitted packets.
    pub retry_min_packets: u64,
    /// Access points below this signal are not counted as interference (-82 dBm: the 802.11
    /// clear-channel-assessment threshold for a 20 MHz OFDM preamble).
    pub interference_floor_dbm: i32,
    /// Warn when this many other AP radios above the floor share or overlap our channel.
    pub congested_ap_count: u32,
    /// Warn when the channel is sensed busy more than this share of the time.
    pub busy_ratio_warn: f64,
}

impl Default for WifiSettings {
    fn default() -> Self {
        Self {
            scan: false,
            scan_timeout_ms: 4000,
            signal_warn_dbm: -70,
            signal_fail_dbm: -80,
            snr_warn_db: 20,
            snr_fail_db: 10,
            bitrate_warn_mbps: 24.0,
            retry_ratio_warn: 0.10,
            failed_ratio_warn: 0.01,
            retry_min_packets: 100,
            interference_floor_dbm: -82,
            congested_ap_count: 3,
            busy_ratio_warn: 0.5,
        }
    }
}

/// The config file's shape. Every key is optional.
#[derive(Debug, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
struct FileConfig {
    interface: Option<String>,
    targets: Vec<String>,
    dns_names: Vec<String>,
    deadline_secs: Option<u64>,
    expected_dhcp_servers: Vec<std::net::Ipv4Addr>,
    link: LinkSettings,
    dhcp: DhcpSettings,
    gateway: GatewaySettings,
    dns: DnsSettings,
    ports: PortsSettings,
    wifi: WifiSettings,
    web: WebSettings,
    ipv6: Ipv6Settings,
    ticket: TicketSettings,
    neighbours: NeighboursSettings,
    profiles: ProfilesSettings,
}

/// Everything a run needs, validated.
#[derive(Debug, Clone)]
pub struct Config {
    /// Interface requested by the user, if any.
    pub interface: Option<String>,
    /// TCP services to probe.
    pub targets: Vec<Target>,
    /// Names to resolve (the configured ones, then the targets' names).
    pub dns_names: Vec<String>,
    /// Deadline for the whole run.
    pub deadline: Duration,
    /// Stdout format.
    pub format: Format,
    /// Report file, if any.
    pub output: Option<PathBuf>,
    /// Colour choice for the terminal.
    pub color: Color,
    /// Replace identifying values with placeholders in every output.
    pub redact: bool,
    /// Where to write the run's packets, if anywhere.
    pub capture: Option<PathBuf>,
    /// Link thresholds.
    pub link: LinkSettings,
    /// DHCP servers that may answer; an offer from any other is `dhcp.unexpected_server`.
    /// Empty: not checked.
    pub expected_dhcp_servers: Vec<std::net::Ipv4Addr>,
    /// DHCP settings.
    pub dhcp: DhcpSettings,
    /// Gateway settings.
    pub gateway: GatewaySettings,
    /// DNS settings.
    pub dns: DnsSettings,
    /// TCP settings.
    pub ports: PortsSettings,
    /// Wi-Fi settings.
    pub wifi: WifiSettings,
    /// Web settings (connectivity probe, URL targets, trust).
    pub web: WebSettings,
    /// IPv6 addressing settings (router solicitation, expected routers).
    pub ipv6: Ipv6Settings,
    /// Ticket hand-off (`[ticket]`): where `nettriage ticket` delivers reports.
    pub ticket: TicketSettings,
    /// Switch-port neighbours (LLDP, CDP, lldpd).
    pub neighbours: NeighboursSettings,
    /// Service profiles (`[profiles]`, `--profile`): which run, and their settings.
    pub profiles: ProfilesSettings,
}

impl Default for Config {
    fn default() -> Self {
        Config::resolve(&Overrides::default(), None).expect("defaults are valid")
    }
}

impl Config {
    /// Builds the config from the command line, reading `--config` or the default file.
    pub fn load(args: &Overrides) -> Result<Config, ConfigError> {
        let path = match &args.config {
            Some(path) => Some(path.clone()),
            None => Some(PathBuf::from(DEFAULT_CONFIG_PATH)).filter(|p| p.exists()),
        };
        let text = match &path {
            Some(path) => {
                Some(std::fs::read_to_string(path).map_err(|source| ConfigError::Read { path: path.clone(), source })?)
            }
            None => None,
        };
        let file = text.map(|text| (path.unwrap_or_default(), text));
        Config::resolve(args, file.as_ref().map(|(p, t)| (p.as_path(), t.as_str())))
    }

    /// Builds the config from the command line and the text of a config file (pure).
    pub fn resolve(args: &Overrides, file: Option<(&Path, &str)>) -> Result<Config, ConfigError> {
        let file: FileConfig = match file {
            Some((path, text)) => toml::from_str(text).map_err(|e| ConfigError::Parse {
                path: path.to_path_buf(),
                message: e.message().to_string(),
                at: e.span().map(|span| TextPosition::of(text, span.start)),
            })?,
            None => FileConfig::default(),
        };

        let target_texts = if args.targets.is_empty() { &file.targets } else { &args.targets };
        let targets = target_texts
            .iter()
            .map(|t| t.parse::<Target>().map_err(|m| invalid(format!("target `{t}`"), m)))
            .collect::<Result<Vec<_>, _>>()?;

        let name_texts = if args.dns_names.is_empty() { &file.dns_names } else { &args.dns_names };
        let mut dns_names = name_texts
            .iter()
            .map(|n| validate_dns_name(n).map_err(|m| invalid("DNS name", m)))
            .collect::<Result<Vec<_>, _>>()?;
        if dns_names.is_empty() {
            dns_names.push(DEFAULT_DNS_NAME.to_string());
        }
        for target in &targets {
            if let TargetHost::Name(name) = &target.host
                && !dns_names.contains(name)
            {
                dns_names.push(name.clone());
            }
        }

        let deadline_secs = args.deadline.or(file.deadline_secs).unwrap_or(10);
        if !(1..=300).contains(&deadline_secs) {
            return Err(invalid("deadline", format!("{deadline_secs} s is outside 1 to 300 s")));
        }
        let neighbours = NeighboursSettings { listen: file.neighbours.listen || args.neighbours, ..file.neighbours };
        let deadline_secs = if neighbours.listen { neighbours.stretch(deadline_secs) } else { deadline_secs };

        let interface = args.interface.clone().or(file.interface);
        if let Some(name) = &interface
            && (name.is_empty() || name.len() > 15 || name.contains(['/', ' ']))
        {
            return Err(invalid("interface", format!("`{name}` is not an interface name")));
        }

        let format = args.format.unwrap_or(Format::Table);

        let config = Config {
            interface,
            targets,
            dns_names,
            deadline: Duration::from_secs(deadline_secs),
            format,
            output: args.output.clone(),
            color: args.color,
            redact: args.redact,
            capture: args.capture.clone(),
            link: file.link,
            expected_dhcp_servers: if args.expected_dhcp_servers.is_empty() {
                file.expected_dhcp_servers
            } else {
                args.expected_dhcp_servers.clone()
            },
            dhcp: {
                let request_ip = args.dhcp_request_ip.or(file.dhcp.request_ip);
                let full = file.dhcp.full || args.dhcp_full || request_ip.is_some();
                let window_ms = args.dhcp_window_ms.or(file.dhcp.window_ms);
                DhcpSettings { full, request_ip, window_ms, ..file.dhcp }
            },
            gateway: file.gateway,
            dns: file.dns,
            ports: file.ports,
            wifi: WifiSettings { scan: file.wifi.scan || args.wifi_scan, ..file.wifi },
            web: WebSettings {
                connectivity_url: args.connectivity_url.clone().or(file.web.connectivity_url),
                urls: if args.urls.is_empty() { file.web.urls } else { args.urls.clone() },
                ca_file: args.ca_file.clone().or(file.web.ca_file),
                proxy: args.proxy.clone().or(file.web.proxy),
                ..file.web
            },
            ipv6: file.ipv6,
            ticket: file.ticket,
            neighbours,
            profiles: file.profiles.with(&args.profiles),
        };
        config.validate()?;
        Ok(config)
    }

    fn validate(&self) -> Result<(), ConfigError> {
        let d = &self.dhcp;
        if let Some(ms) = d.window_ms {
            check_range("dhcp.window_ms", ms as f64, 10.0, 60_000.0)?;
        }
        check_range("dhcp.offer_cap_ms", d.offer_cap_ms as f64, 10.0, 30_000.0)?;
        check_range("dhcp.slow_ms", d.slow_ms, 0.0, 30_000.0)?;
        check_range("dhcp.duplicate_probe_ms", d.duplicate_probe_ms as f64, 10.0, 10_000.0)?;
        let g = &self.gateway;
        check_range("gateway.probes", g.probes as f64, 1.0, 100.0)?;
        check_range("gateway.interval_ms", g.interval_ms as f64, 10.0, 5000.0)?;
        check_range("gateway.timeout_ms", g.timeout_ms as f64, 10.0, 10_000.0)?;
        check_range("gateway.arp_timeout_ms", g.arp_timeout_ms as f64, 10.0, 10_000.0)?;
        check_range("gateway.loss_warn", g.loss_warn, 0.0, 1.0)?;
        check_range("gateway.loss_fail", g.loss_fail, g.loss_warn, 1.0)?;
        check_range("gateway.rtt_warn_ms", g.rtt_warn_ms, 0.0, 60_000.0)?;
        check_range("gateway.rtt_fail_ms", g.rtt_fail_ms, g.rtt_warn_ms, 60_000.0)?;
        check_range("dns.timeout_ms", self.dns.timeout_ms as f64, 10.0, 30_000.0)?;
        check_range("dns.slow_ms", self.dns.slow_ms, 0.0, 60_000.0)?;
        check_range("ports.timeout_ms", self.ports.timeout_ms as f64, 10.0, 60_000.0)?;
        check_range("ports.concurrency", self.ports.concurrency as f64, 1.0, 1024.0)?;
        check_range("ticket.timeout_ms", self.ticket.timeout_ms as f64, 100.0, 300_000.0)?;
        check_range(
            "ticket.max_attachment_bytes",
            self.ticket.max_attachment_bytes as f64,
            1024.0,
            1024.0 * 1024.0 * 1024.0,
        )?;
        let w = &self.wifi;
        check_range("wifi.scan_timeout_ms", w.scan_timeout_ms as f64, 500.0, 30_000.0)?;
        check_range("wifi.signal_warn_dbm", f64::from(w.signal_warn_dbm), -100.0, -20.0)?;
        check_range("wifi.signal_fail_dbm", f64::from(w.signal_fail_dbm), -110.0, f64::from(w.signal_warn_dbm))?;
        check_range("wifi.snr_warn_db", f64::from(w.snr_warn_db), 0.0, 60.0)?;
        check_range("wifi.snr_fail_db", f64::from(w.snr_fail_db), 0.0, f64::from(w.snr_warn_db))?;
        check_range("wifi.bitrate_warn_mbps", w.bitrate_warn_mbps, 0.0, 100_000.0)?;
        check_range("wifi.retry_ratio_warn", w.retry_ratio_warn, 0.0, 1.0)?;
        check_range("wifi.failed_ratio_warn", w.failed_ratio_warn, 0.0, 1.0)?;
        check_range("wifi.retry_min_packets", w.retry_min_packets as f64, 0.0, 1e12)?;
        check_range("wifi.interference_floor_dbm", f64::from(w.interference_floor_dbm), -110.0, -20.0)?;
        check_range("wifi.congested_ap_count", f64::from(w.congested_ap_count), 1.0, 1000.0)?;
        check_range("wifi.busy_ratio_warn", w.busy_ratio_warn, 0.0, 1.0)?;
        let v6 = &self.ipv6;
        check_range("ipv6.ra_window_ms", v6.ra_window_ms as f64, 100.0, 10_000.0)?;
        check_range("ipv6.ra_grace_ms", v6.ra_grace_ms as f64, 0.0, v6.ra_window_ms as f64)?;
        if v6.expected_routers_v6.len() > 32 {
            return Err(invalid("ipv6.expected_routers_v6", "more than 32 routers"));
        }
        check_range("neighbours.window_secs", self.neighbours.window_secs as f64, 1.0, 299.0)?;
        if let Some(vlan) = self.neighbours.expected_vlan {
            check_range("neighbours.expected_vlan", f64::from(vlan), 1.0, 4094.0)?;
        }
        self.profiles.validate()?;
        check_range("link.error_ratio_warn", self.link.error_ratio_warn, 0.0, 1.0)?;
        check_range("link.error_min_count", self.link.error_min_count as f64, 0.0, 1e12)?;
        if self.targets.len() > 4096 {
            return Err(invalid("targets", "more than 4096 targets"));
        }
        if self.dns_names.len() > 64 {
            return Err(invalid("dns_names", "more than 64 names"));
        }
        let web = &self.web;
        check_range("web.timeout_ms", web.timeout_ms as f64, 100.0, 60_000.0)?;
        check_range("web.max_redirects", f64::from(web.max_redirects), 0.0, 20.0)?;
        check_range("web.max_body_bytes", web.max_body_bytes as f64, 0.0, 16.0 * 1024.0 * 1024.0)?;
        check_range("web.slow_ms", web.slow_ms as f64, 1.0, 60_000.0)?;
        check_range("web.very_slow_ms", web.very_slow_ms as f64, web.slow_ms as f64, 60_000.0)?;
        check_range("web.connectivity_expect.status", f64::from(web.connectivity_expect.status), 100.0, 599.0)?;
        if web.urls.len() > 32 {
            return Err(invalid("urls", "more than 32 URLs"));
        }
        for url in web.connectivity_url.iter().chain(&web.urls) {
            validate_url(url).map_err(|m| invalid(format!("URL `{}`", without_credentials(url)), m))?;
        }
        if let Some(proxy) = web.proxy.as_deref().map(str::trim).filter(|p| !p.eq_ignore_ascii_case("direct")) {
            // A bare `host:port` is an http:// proxy, as in the environment variables.
            let full = if proxy.contains("://") { proxy.to_string() } else { format!("http://{proxy}") };
            let what = || format!("web.proxy `{}`", without_credentials(proxy));
            let scheme = full.split("://").next().unwrap_or_default();
            if !scheme.eq_ignore_ascii_case("http") && !scheme.eq_ignore_ascii_case("https") {
                return Err(invalid(what(), "only http:// and https:// proxies (or `direct`) can be used"));
            }
            validate_url(&full).map_err(|m| invalid(what(), m))?;
        }
        if let Some(pac) = &web.pac_url {
            validate_url(pac).map_err(|m| invalid(format!("web.pac_url `{}`", without_credentials(pac)), m))?;
        }
        Ok(())
    }
}

pub(crate) fn check_range(what: &str, value: f64, min: f64, max: f64) -> Result<(), ConfigError> {
    if value.is_nan() || value < min || value > max {
        return Err(invalid(what, format!("{value} is outside {min} to {max}")));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    #[test]
    fn selftest_uses_networkmanagers_endpoint_only_when_none_is_configured() {
        let default = super::WebSettings::default().for_selftest();
        assert_eq!(default.connectivity_url.as_deref(), Some(super::SELFTEST_CONNECTIVITY_URL));
        assert_eq!(default.connectivity_expect, super::ConnectivityExpect::default());
        super::validate_url(super::SELFTEST_CONNECTIVITY_URL).unwrap();
        let site = super::WebSettings {
            connectivity_url: Some("http://check.site.test/ok".into()),
            connectivity_expect: super::ConnectivityExpect { status: 204, body: None },
            ..super::WebSettings::default()
        };
        assert_eq!(site.clone().for_selftest(), site, "a site's own endpoint is kept");
        assert_eq!(super::WebSettings::default().connectivity_url, None, "run keeps it off");
    }

    #[test]
    fn text_positions_count_lines_and_characters() {
        let text = "a = 1\nbé = x\n";
        assert_eq!(TextPosition::of(text, 0), TextPosition { line: 1, column: 1, text: "a = 1".into() });
        assert_eq!(TextPosition::of(text, 12), TextPosition { line: 2, column: 6, text: "bé = x".into() });
        assert_eq!(TextPosition::of(text, 8).column, 2, "inside a character: its start");
        assert_eq!(TextPosition::of(text, 999).line, 3, "clamped to the end");
    }

    use super::*;

    fn args() -> Overrides {
        Overrides::default()
    }

    #[test]
    fn targets_parse_names_ipv4_and_ipv6() {
        let t: Target = "crm.example.com:443".parse().unwrap();
        assert_eq!(t.host, TargetHost::Name("crm.example.com".into()));
        let t: Target = "198.18.1.2:8080".parse().unwrap();
        assert_eq!(t.to_string(), "198.18.1.2:8080");
        let t: Target = "[2001:db8::1]:22".parse().unwrap();
        assert_eq!(t.to_string(), "[2001:db8::1]:22");
        for bad in ["nope", "host:0", "host:70000", "2001:db8::1:22", "-bad.example:1", ":80", "[::1]80"] {
            assert!(bad.parse::<Target>().is_err(), "{bad} should not parse");
        }
    }

    #[test]
    fn command_line_wins_over_file_and_names_include_targets() {
        let file = r#"
            targets = ["file.example:22"]
            dns_names = ["one.example"]
            deadline_secs = 20
            [gateway]
            probes = 9
        "#;
        let mut a = args();
        a.targets = vec!["cli.example:443".into()];
        let c = Config::resolve(&a, Some((Path::new("x.toml"), file))).unwrap();
        assert_eq!(c.targets.len(), 1);
        assert_eq!(c.targets[0].to_string(), "cli.example:443");
        assert_eq!(c.dns_names, ["one.example", "cli.example"]);
        assert_eq!(c.deadline, Duration::from_secs(20));
        assert_eq!(c.gateway.probes, 9);
        assert_eq!(c.gateway.timeout_ms, GatewaySettings::default().timeout_ms);
    }

    #[test]
    fn waiting_for_the_switch_stretches_the_deadline_to_the_window() {
        let plain = Config::resolve(&args(), None).unwrap();
        assert!(!plain.neighbours.listen);
        assert_eq!(plain.deadline, Duration::from_secs(10));
        let asked = Config::resolve(&Overrides { neighbours: true, ..args() }, None).unwrap();
        assert!(asked.neighbours.listen);
        assert_eq!(asked.deadline, Duration::from_secs(36));
        assert_eq!(asked.neighbours.wait, NeighboursWait::Each);
        let file = "[neighbours]\nlisten = true\nwindow_secs = 5\nexpected_vlan = 42\nwait = \"first\"\n";
        let c = Config::resolve(&args(), Some((Path::new("x.toml"), file))).unwrap();
        assert_eq!((c.deadline, c.neighbours.expected_vlan), (Duration::from_secs(10), Some(42)));
        assert_eq!(c.neighbours.wait, NeighboursWait::First);
        // A survey's runs listen: the window, the deadline stretched (never shortened).
        let mut surveyed = plain.clone();
        surveyed.listen_for_neighbours();
        assert!(surveyed.neighbours.listen);
        assert_eq!(surveyed.deadline, Duration::from_secs(36));
        let mut long = Config::resolve(&Overrides { deadline: Some(60), ..args() }, None).unwrap();
        long.listen_for_neighbours();
        assert_eq!(long.deadline, Duration::from_secs(60));
        for bad in [
            "[neighbours]\nexpected_vlan = 4095\n",
            "[neighbours]\nwindow_secs = 0\n",
            "[neighbours]\nvlan = 1\n",
            "[neighbours]\nwait = \"both\"\n",
        ] {
            assert!(Config::resolve(&args(), Some((Path::new("x.toml"), bad))).is_err(), "{bad}");
        }
    }

    #[test]
    fn profiles_come_from_the_file_and_the_command_line_once_each_in_report_order() {
        assert!(Config::resolve(&args(), None).unwrap().profiles.enabled.is_empty());
        let file = "[profiles]\nenabled = [\"rdp\", \"ad\"]\n[profiles.smb]\ntimeout_ms = 500\n";
        let c = Config::resolve(
            &Overrides { profiles: vec![Profile::Printers, Profile::Ad], ..args() },
            Some((Path::new("x.toml"), file)),
        )
        .unwrap();
        assert_eq!(c.profiles.enabled, [Profile::Ad, Profile::Printers, Profile::Rdp]);
        assert!(c.profiles.is_enabled(Profile::Rdp) && !c.profiles.is_enabled(Profile::Smb));
        assert_eq!(c.profiles.smb.timeout_ms, 500);
        for bad in ["[profiles]\nenabled = [\"fax\"]\n", "[profiles.rdp]\ntimeout_ms = 0\n", "[profiles]\nad = 1\n"] {
            assert!(Config::resolve(&args(), Some((Path::new("x.toml"), bad))).is_err(), "{bad}");
        }
    }

    #[test]
    fn defaults_apply_without_file() {
        let c = Config::resolve(&args(), None).unwrap();
        assert_eq!(c.dns_names, [DEFAULT_DNS_NAME]);
        assert_eq!(c.deadline, Duration::from_secs(10));
        assert_eq!(c.format, Format::Table);
    }

    #[test]
    fn bad_values_are_clear_errors() {
        let bad_file = "[gateway]\nprobez = 3\n";
        let e = Config::resolve(&args(), Some((Path::new("c.toml"), bad_file))).unwrap_err();
        assert!(e.to_string().contains("probez"), "{e}");
        let ConfigError::Parse { at: Some(at), .. } = e else { panic!("{e}") };
        assert_eq!(at, TextPosition { line: 2, column: 1, text: "probez = 3".into() });
        let e = Config::resolve(&args(), Some((Path::new("c.toml"), "targets = [\n  \"a:1\",\n  3 ]\n"))).unwrap_err();
        let ConfigError::Parse { at: Some(at), .. } = e else { panic!("{e}") };
        assert_eq!((at.line, at.column), (3, 3), "{at:?}");
        let e = Config::resolve(&args(), Some((Path::new("c.toml"), "[gateway]\nloss_fail = 2.0"))).unwrap_err();
        assert!(e.to_string().contains("gateway.loss_fail"), "{e}");
        let mut a = args();
        a.deadline = Some(0);
        assert!(Config::resolve(&a, None).is_err());
        let mut a = args();
        a.interface = Some("a/b".into());
        assert!(Config::resolve(&a, None).is_err());
    }

    #[test]
    fn dhcp_window_from_the_command_line_the_file_or_the_default() {
        let file = |text: &str| Config::resolve(&args(), Some((Path::new("c.toml"), text)));
        assert_eq!(Config::default().dhcp.window(), Duration::from_millis(DEFAULT_DHCP_WINDOW_MS));
        assert_eq!(file("[dhcp]\nwindow_ms = 900\n").unwrap().dhcp.window_ms, Some(900));
        // The former key still reads, as the same setting.
        assert_eq!(file("[dhcp]\noffer_window_ms = 700\n").unwrap().dhcp.window_ms, Some(700));
        let mut a = args();
        a.dhcp_window_ms = Some(1500);
        let text = "[dhcp]\nwindow_ms = 900\n";
        let c = Config::resolve(&a, Some((Path::new("c.toml"), text))).unwrap();
        assert_eq!(c.dhcp.window(), Duration::from_millis(1500), "the command line wins");
        for bad in [5, 60_001] {
            a.dhcp_window_ms = Some(bad);
            assert!(matches!(Config::resolve(&a, None), Err(ConfigError::Invalid { .. })), "{bad} ms");
        }
    }

    #[test]
    fn documented_example_config_is_valid_and_shows_the_defaults() {
        let doc = include_str!("../docs/config.md");
        let start = doc.find("```toml\n").expect("docs/config.md has a toml example") + 8;
        let example = &doc[start..start + doc[start..].find("```").unwrap()];
        let c = Config::resolve(&args(), Some((Path::new("docs/config.md"), example))).unwrap();
        assert_eq!(c.gateway, GatewaySettings::default());
        assert_eq!(c.dns, DnsSettings::default());
        assert_eq!(c.ports, PortsSettings::default());
        assert_eq!(c.link, LinkSettings::default());
        assert_eq!(c.dhcp, DhcpSettings::default());
        assert_eq!(c.wifi, WifiSettings::default());
        assert_eq!(c.web, WebSettings::default());
    }

    #[test]
    fn the_web_proxy_is_checked_without_showing_credentials() {
        let resolve = |a: &Overrides, file: &str| Config::resolve(a, Some((Path::new("c.toml"), file)));
        for ok in
            ["direct", "DIRECT", "http://u:pw@proxy.example:3128", "proxy.example:3128", "https://proxy.example:8443"]
        {
            let file = format!("[web]\nproxy = \"{ok}\"\npac_url = \"http://wpad.example/wpad.dat\"\n");
            assert!(resolve(&args(), &file).is_ok(), "{ok}");
        }
        for bad in ["socks5://u:secret@s:1080", "http://u:secret@", "ftp://x"] {
            let e = resolve(&args(), &format!("[web]\nproxy = \"{bad}\"\n")).unwrap_err();
            assert!(matches!(e, ConfigError::Invalid { .. }) && !e.to_string().contains("secret"), "{bad}");
        }
        let mut a = args();
        a.proxy = Some("http://cli.example:8080".into());
        let c = resolve(&a, "[web]\nproxy = \"http://file.example:1\"\nwpad = false\n").unwrap();
        assert_eq!((c.web.proxy.as_deref(), c.web.wpad), (Some("http://cli.example:8080"), false));
    }

    #[test]
    fn web_urls_come_from_flags_or_file_and_are_checked() {
        let file = "[web]\nconnectivity_url = \"http://check.site.test/ok\"\nurls = [\"https://a.site.test/\"]\n\
                    connectivity_expect = { status = 204 }\n";
        let c = Config::resolve(&args(), Some((Path::new("c.toml"), file))).unwrap();
        assert_eq!(c.web.connectivity_url.as_deref(), Some("http://check.site.test/ok"));
        assert_eq!(c.web.connectivity_expect, ConnectivityExpect { status: 204, body: None });
        assert_eq!(c.web.urls, ["https://a.site.test/"]);
        let mut a = args();
        a.urls = vec!["http://b.site.test:8080/x?y=1".into()];
        a.ca_file = Some("ca.pem".into());
        let c = Config::resolve(&a, Some((Path::new("c.toml"), file))).unwrap();
        assert_eq!(c.web.urls, ["http://b.site.test:8080/x?y=1"], "the command line replaces the list");
        assert_eq!(c.web.ca_file.as_deref(), Some(Path::new("ca.pem")));
        for bad in ["ftp://a.site.test/", "http://", "http://:80/", "http://a b/", "a.site.test"] {
            let mut a = args();
            a.urls = vec![bad.into()];
            assert!(matches!(Config::resolve(&a, None), Err(ConfigError::Invalid { .. })), "{bad}");
        }
        let mut a = args();
        a.urls = (0..33).map(|i| format!("http://h{i}.site.test/")).collect();
        assert!(Config::resolve(&a, None).is_err(), "more than 32 URLs");
        let slow = "[web]\ntimeout_ms = 10\n";
        assert!(Config::resolve(&args(), Some((Path::new("c.toml"), slow))).is_err());
        // The web.slow bands: set in the file, the very slow one not below the slow one.
        let bands = "[web]\nslow_ms = 300\nvery_slow_ms = 800\n";
        let c = Config::resolve(&args(), Some((Path::new("c.toml"), bands))).unwrap();
        assert_eq!((c.web.slow_ms, c.web.very_slow_ms), (300, 800));
        assert_eq!((WebSettings::default().slow_ms, WebSettings::default().very_slow_ms), (500, 1000));
        for bad in ["[web]\nslow_ms = 900\nvery_slow_ms = 800\n", "[web]\nslow_ms = 0\n"] {
            assert!(Config::resolve(&args(), Some((Path::new("c.toml"), bad))).is_err(), "{bad}");
        }
    }

    #[test]
    fn wifi_scan_comes_from_flag_or_file_and_thresholds_are_checked() {
        let c = Config::resolve(&args(), None).unwrap();
        assert_eq!(c.wifi, WifiSettings::default());
        let mut a = args();
        a.wifi_scan = true;
        assert!(Config::resolve(&a, None).unwrap().wifi.scan);
        let file = "[wifi]\nscan = true\nsignal_warn_dbm = -65\n";
        let c = Config::resolve(&args(), Some((Path::new("c.toml"), file))).unwrap();
        assert!(c.wifi.scan && c.wifi.signal_warn_dbm == -65 && c.wifi.signal_fail_dbm == -80);
        let e = Config::resolve(&args(), Some((Path::new("c.toml"), "[wifi]\nsignal_fail_dbm = -60\n"))).unwrap_err();
        assert!(e.to_string().contains("wifi.signal_fail_dbm"), "{e}");
        let e = Config::resolve(&args(), Some((Path::new("c.toml"), "[wifi]\nscan_time = 1\n"))).unwrap_err();
        assert!(e.to_string().contains("scan_time"), "{e}");
    }

    #[test]
    fn ipv6_settings_read_routers_by_address_or_mac_and_check_their_ranges() {
        let c = Config::resolve(&args(), None).unwrap();
        assert_eq!(c.ipv6, Ipv6Settings::default());
        assert!(c.ipv6.solicit && c.ipv6.expected_routers_v6.is_empty());
        let file = "[ipv6]\nra_window_ms = 600\nexpected_routers_v6 = [\"fe80::1\", \"02:00:5E:00:53:01\"]\n";
        let c = Config::resolve(&args(), Some((Path::new("c.toml"), file))).unwrap();
        assert_eq!(c.ipv6.ra_window_ms, 600);
        assert_eq!(
            c.ipv6.expected_routers_v6,
            [
                RouterId::Addr("fe80::1".parse().unwrap()),
                RouterId::Mac(crate::types::MacAddr([2, 0, 0x5e, 0, 0x53, 1]))
            ]
        );
        // A global address can never be an RA's source; neither can a name.
        for bad in ["2001:db8::1", "router.lan"] {
            let file = format!("[ipv6]\nexpected_routers_v6 = [\"{bad}\"]\n");
            let e = Config::resolve(&args(), Some((Path::new("c.toml"), &file))).unwrap_err();
            assert!(matches!(e, ConfigError::Parse { .. }), "{bad}: {e:?}");
        }
        for (file, key) in [
            ("[ipv6]\nra_window_ms = 50\n", "ipv6.ra_window_ms"),
            ("[ipv6]\nra_window_ms = 500\nra_grace_ms = 600\n", "ipv6.ra_grace_ms"),
        ] {
            let e = Config::resolve(&args(), Some((Path::new("c.toml"), file))).unwrap_err();
            assert!(matches!(&e, ConfigError::Invalid { what, .. } if what == key), "{file}: {e:?}");
        }
    }

    #[test]
    fn output_format_follows_extension() {
        assert_eq!(Format::for_path(Path::new("r.json")), Format::Json);
        assert_eq!(Format::for_path(Path::new("r.TXT")), Format::Table);
        assert_eq!(Format::for_path(Path::new("ticket.md")), Format::Markdown);
        assert_eq!(Format::for_path(Path::new("r.html")), Format::Html);
        assert_eq!(Format::for_path(Path::new("r.htm")), Format::Html);
        assert_eq!(Format::for_path(Path::new("report")), Format::Json);
    }
}
