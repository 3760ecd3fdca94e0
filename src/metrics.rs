//! The latest run as Prometheus metrics, named in blackbox_exporter's style.
//!
//! [`render`] turns one [`Report`] into the Prometheus text exposition format (version
//! 0.0.4, [`CONTENT_TYPE`]), the format node_exporter's textfile collector and every
//! Prometheus scraper read. It is not the OpenMetrics format, so there is no `# EOF` line.
//! Every family is a gauge with `# HELP` and `# TYPE` lines, and every sample carries the
//! survey's `site` and `location` labels after its own labels, so one Grafana dashboard
//! can show many sites. [`write_textfile`] puts the text where node_exporter picks it up,
//! atomically.
//!
//! The names follow blackbox_exporter (`probe_success`, `probe_duration_seconds`) with a
//! `nettriage_` prefix, base units (seconds, ratios 0 to 1) and one family per quantity:
//!
//! | Family | Labels | Value |
//! |---|---|---|
//! | `nettriage_probe_success` | | 1 when the run is healthy, else 0 |
//! | `nettriage_run_status` | | 0 healthy, 1 degraded, 2 broken, 3 unknown (the exit code) |
//! | `nettriage_probe_duration_seconds` | | wall time of the whole run |
//! | `nettriage_last_run_timestamp_seconds` | | start of the run, Unix time |
//! | `nettriage_root_cause` | `code`, `layer` | 1 for the root cause; absent when healthy |
//! | `nettriage_check_success` | `check` | 1 for pass or warn, 0 for fail or error; skipped checks absent |
//! | `nettriage_check_duration_seconds` | `check` | wall time of each check that was not skipped |
//! | `nettriage_gateway_rtt_seconds` | `gateway`, `family` | mean echo round trip (IPv4 gateways and IPv6 routers) |
//! | `nettriage_gateway_loss_ratio` | `gateway`, `family` | lost echo share |
//! | `nettriage_dns_lookup_seconds` | `server` | mean answer time of a server that answered |
//! | `nettriage_dns_first_attempt_loss_ratio` | `server` | share of its queries whose first attempt got no answer (flapping) |
//! | `nettriage_port_connect_seconds` | `target`, `family` | TCP connect time of an open port, per family probed |
//! | `nettriage_port_success` | `target`, `family` | 1 when the target opened over that family, else 0; one sample per family probed |
//! | `nettriage_http_duration_seconds` | `url`, `phase` | each phase of the final request of a fetched URL (`resolve`, `connect`, `tls`, `processing`, `transfer`: blackbox_exporter's `probe_http_duration_seconds`) |
//! | `nettriage_http_status_code` | `url` | final HTTP status, 0 without an answer (`probe_http_status_code`) |
//! | `nettriage_http_ssl` | `url` | 1 when the final request used TLS (`probe_http_ssl`) |
//! | `nettriage_tls_cert_expiry_timestamp_seconds` | `url` | the leaf certificate's `notAfter`, Unix time (`probe_ssl_earliest_cert_expiry`, here the leaf's) |
//! | `nettriage_web_captive_portal` | | 1 when the connectivity probe found a captive portal, 0 when online; absent when it did not run |
//! | `nettriage_wifi_signal_dbm` | | signal of the Wi-Fi link, when there is one |
//! | `nettriage_profile_check_success` | `profile`, `target` | 1 when a service profile could use the target (a DC, share, printer, endpoint category, RDP host), else 0 |
//! | `nettriage_ad_clock_offset_seconds` | `dc`, `source` | the `ad` profile's clock offset: the DC's time minus this machine's, per DC and per message it was read from (`kerberos`, `ldap`) |
//! | `nettriage_neighbour_info` | `chassis`, `port`, `vlan`, `protocol` | 1 for the switch port of the report's top line (an info metric; `vlan` empty when not advertised); absent when nothing was heard |
//!
//! [`Measurements`] is the one place that reads these numbers out of the checks' evidence;
//! `history` stores the same readings as trend samples, so a dashboard and a trend query
//! never disagree about what a report said. This module reads only [`crate::report`].

use std::fmt::Write as _;
use std::io;
use std::path::{Path, PathBuf};
use std::time::UNIX_EPOCH;

use crate::check::web::ConnectivityState;
use crate::report::{CheckStatus, Evidence, Report, RunStatus};
use crate::types::IpFamily;

/// The HTTP content type of [`render`]'s output: Prometheus text format 0.0.4.
pub const CONTENT_TYPE: &str = "text/plain; version=0.0.4; charset=utf-8";

/// One probed gateway, from `checks[gateway].evidence.gateways[]`.
#[derive(Debug, Clone, PartialEq)]
pub struct GatewayReading {
    /// The gateway's address (a placeholder in a redacted report).
    pub address: String,
    /// Mean echo round trip, ms; `None` when nothing came back or it was not pinged.
    pub avg_ms: Option<f64>,
    /// Lost echo share, 0 to 1; `None` when it was not pinged (ARP already failed).
    pub loss_ratio: Option<f64>,
    /// `ipv4` for the IPv4 gateways, `ipv6` for the IPv6 routers (and a capture's IPv6
    /// echo targets).
    pub family: IpFamily,
}

/// One tested name server, from `checks[dns].evidence.servers[]`.
#[derive(Debug, Clone, PartialEq)]
pub struct DnsReading {
    /// The server's address.
    pub server: String,
    /// Mean answer time, ms; `None` when it answered nothing.
    pub avg_ms: Option<f64>,
    /// Share of queries whose first attempt got no answer, 0 to 1 (a live run's; `None`
    /// from a capture).
    pub first_attempt_loss: Option<f64>,
}

/// One probed TCP target, from `checks[ports].evidence.targets[]`.
#[derive(Debug, Clone, PartialEq)]
pub struct PortReading {
    /// The target as given (`host:port`).
    pub target: String,
    /// `open`, `refused`, `filtered`, ... (see `docs/checks/ports.md`).
    pub outcome: String,
    /// Time to the outcome, ms.
    pub ms: Option<f64>,
    /// The family of the address probed; `None` for a target that was not probed
    /// (`unresolved`). A target probed over both families gives one reading per family.
    pub family: Option<IpFamily>,
}

/// One phase of one fetched URL, from `checks[web].evidence` (the final request of each
/// probe's redirect chain), in blackbox_exporter's phase names.
#[derive(Debug, Clone, PartialEq)]
pub struct HttpPhaseReading {
    /// The URL as given (`connectivity` probes use the connectivity URL).
    pub url: String,
    /// `resolve`, `connect`, `tls`, `processing` or `transfer`.
    pub phase: &'static str,
    /// Milliseconds.
    pub ms: f64,
}

/// One target of a service profile (`--profile`), from the profile's evidence.
#[derive(Debug, Clone, PartialEq)]
pub struct ProfileReading {
    /// The profile (`ad`, `smb`, `printers`, `m365`, `rdp`).
    pub profile: &'static str,
    /// The target as the report names it.
    pub target: String,
    /// Whether the profile could use it.
    pub success: bool,
}

/// One fetched URL (the connectivity probe or a `--url` target), from its final request.
#[derive(Debug, Clone, PartialEq)]
pub struct HttpReading {
    /// The URL as given.
    pub url: String,
    /// Whether this is the connectivity probe (else a URL target).
    pub connectivity: bool,
    /// The final HTTP status; `None` when no answer came.
    pub status: Option<u16>,
    /// Wall time of the whole probe (every redirect), ms.
    pub total_ms: Option<f64>,
    /// Whether the final request used TLS.
    pub ssl: bool,
}

/// A certificate's end of validity, from the leaf of each HTTPS probe's final request.
#[derive(Debug, Clone, PartialEq)]
pub struct CertExpiryReading {
    /// The URL as given.
    pub url: String,
    /// `notAfter`, Unix seconds.
    pub not_after_unix: f64,
}

/// The measured numbers of one report, read from the checks' evidence.
///
/// Missing evidence, or evidence of another version that does not fit this version's types
/// at all (a check that was skipped, [`crate::report::Evidence::Other`]) simply gives fewer
/// readings: this never fails. Evidence with fields added by a newer version is read.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Measurements {
    /// Every probed gateway, in report order.
    pub gateways: Vec<GatewayReading>,
    /// Every tested name server, in report order.
    pub dns: Vec<DnsReading>,
    /// Every probed TCP target, in report order.
    pub ports: Vec<PortReading>,
    /// The Wi-Fi link's signal, dBm (`evidence.link.signal_dbm`).
    pub wifi_signal_dbm: Option<f64>,
    /// The HTTP phases of every web probe that got an answer.
    pub http_phases: Vec<HttpPhaseReading>,
    /// The leaf certificate's expiry of every HTTPS probe that got one.
    pub cert_expiry: Vec<CertExpiryReading>,
    /// Every fetched URL, the connectivity probe first.
    pub http: Vec<HttpReading>,
    /// Whether the connectivity probe found a captive portal; `None` when it did not run.
    pub captive_portal: Option<bool>,
    /// Every target of every service profile that ran, in report order.
    pub profiles: Vec<ProfileReading>,
    /// The `ad` profile's clock offsets against each DC, in report order.
    pub ad_clock: Vec<AdClockReading>,
}

/// One clock offset of the `ad` profile, from `checks[ad].evidence.dcs[].clock[]`.
#[derive(Debug, Clone, PartialEq)]
pub struct AdClockReading {
    /// The DC's name.
    pub dc: String,
    /// `kerberos` or `ldap`.
    pub source: &'static str,
    /// The DC's time minus ours, seconds.
    pub offset_s: f64,
}

impl Measurements {
    /// Reads the measurements out of a report.
    pub fn from_report(report: &Report) -> Measurements {
        let gateways = report
            .gateway_evidence()
            .map(|e| e.gateways.as_slice())
            .unwrap_or_default()
            .iter()
            .map(|g| GatewayReading {
                address: g.address.to_string(),
                avg_ms: g.ping.as_ref().and_then(|p| p.avg_ms),
                loss_ratio: g.ping.as_ref().map(|p| p.loss_ratio),
                family: IpFamily::of(g.address),
            })
            .chain(report.gateway_evidence().map(|e| e.gateways_v6.as_slice()).unwrap_or_default().iter().map(|g| {
                GatewayReading {
                    address: g.address.to_string(),
                    avg_ms: g.ping.as_ref().and_then(|p| p.avg_ms),
                    loss_ratio: g.ping.as_ref().map(|p| p.loss_ratio),
                    family: IpFamily::Ipv6,
                }
            }))
            .collect();
        let dns = report
            .dns_evidence()
            .map(|e| e.servers.as_slice())
            .unwrap_or_default()
            .iter()
            .map(|s| DnsReading {
                server: s.server.to_string(),
                avg_ms: s.avg_ms,
                first_attempt_loss: s.first_attempt_loss,
            })
            .collect();
        let ports = report
            .ports_evidence()
            .map(|e| e.targets.as_slice())
            .unwrap_or_default()
            .iter()
            .flat_map(|t| -> Vec<PortReading> {
                if t.families.is_empty() {
                    vec![PortReading {
                        target: t.target.clone(),
                        outcome: t.outcome.as_str().to_string(),
                        ms: t.ms,
                        family: t.address.map(|a| IpFamily::of(a.ip())),
                    }]
                } else {
                    t.families
                        .iter()
                        .map(|f| PortReading {
                            target: t.target.clone(),
                            outcome: f.outcome.as_str().to_string(),
                            ms: f.ms,
                            family: Some(f.family),
                        })
                        .collect()
                }
            })
            .collect();
        let wifi_signal_dbm = report.wifi_evidence().and_then(|e| e.link.as_ref()).and_then(|l| l.signal_dbm);
        let mut http_phases = Vec::new();
        let mut cert_expiry = Vec::new();
        let mut http = Vec::new();
        let mut captive_portal = None;
        if let Some(web) = report.web_evidence() {
            captive_portal = web.connectivity.as_ref().map(|c| c.state == ConnectivityState::Portal);
            let probes =
                web.connectivity.iter().map(|c| (true, &c.probe)).chain(web.targets.iter().map(|t| (false, t)));
            for (connectivity, probe) in probes {
                let last = probe.last();
                http.push(HttpReading {
                    url: probe.url.clone(),
                    connectivity,
                    status: last.and_then(|h| h.status),
                    total_ms: probe.total_ms,
                    ssl: last.is_some_and(|h| h.tls.is_some()),
                });
                let Some(hop) = last.filter(|h| h.status.is_some()) else { continue };
                for (phase, ms) in hop.phase_ms() {
                    if let Some(ms) = ms {
                        http_phases.push(HttpPhaseReading { url: probe.url.clone(), phase: phase.as_str(), ms });
                    }
                }
                let leaf = hop.tls.as_ref().and_then(|t| t.chain.first()).and_then(|c| c.not_after);
                if let Some(Ok(since)) = leaf.map(|t| t.0.duration_since(std::time::UNIX_EPOCH)) {
                    cert_expiry.push(CertExpiryReading { url: probe.url.clone(), not_after_unix: since.as_secs_f64() });
                }
            }
        }
        let profiles = report.checks.iter().flat_map(profile_targets).collect();
        let ad_clock = report
            .checks
            .iter()
            .filter_map(|c| match c.evidence.known() {
                Evidence::Ad(ev) => Some(ev),
                _ => None,
            })
            .flat_map(|ev| ev.clock_readings())
            .map(|c| AdClockReading { dc: c.dc.clone(), source: c.source.as_str(), offset_s: c.offset_ms / 1000.0 })
            .collect();
        Measurements {
            gateways,
            dns,
            ports,
            wifi_signal_dbm,
            http_phases,
            cert_expiry,
            http,
            captive_portal,
            profiles,
            ad_clock,
        }
    }
}

/// A service profile check's targets, each with whether it worked (none for a layer).
fn profile_targets(check: &crate::report::CheckResult) -> Vec<ProfileReading> {
    use crate::check;
    if !check.id.is_profile() {
        return Vec::new();
    }
    let targets = match check.evidence.known() {
        Evidence::Ad(ev) => check::ad::targets(ev),
        Evidence::Smb(ev) => check::smb::targets(ev),
        Evidence::Printers(ev) => check::printers::targets(ev),
        Evidence::M365(ev) => check::m365::targets(ev),
        Evidence::Rdp(ev) => check::rdp::targets(ev),
        _ => Vec::new(),
    };
    targets
        .into_iter()
        .map(|t| ProfileReading { profile: check.id.as_str(), target: t.target, success: t.success })
        .collect()
}

/// Whether a check status counts as "the layer works" (pass or warn); `None` for skipped.
pub fn check_ok(status: CheckStatus) -> Option<bool> {
    match status {
        CheckStatus::Pass | CheckStatus::Warn => Some(true),
        CheckStatus::Fail | CheckStatus::Error => Some(false),
        CheckStatus::Skipped => None,
    }
}

/// One metric family being built: gauge samples with their own labels (site and location
/// are added when written).
struct Family {
    name: &'static str,
    help: &'static str,
    samples: Vec<(Vec<(&'static str, String)>, f64)>,
}

impl Family {
    fn new(name: &'static str, help: &'static str) -> Family {
        Family { name, help, samples: Vec::new() }
    }

    /// Adds a sample unless one with the same labels is already there: a scraper rejects a
    /// duplicate series (node_exporter drops the whole file), so the first reading wins.
    fn push(&mut self, labels: Vec<(&'static str, String)>, value: f64) {
        if !self.samples.iter().any(|(l, _)| *l == labels) {
            self.samples.push((labels, value));
        }
    }

    fn write(&self, out: &mut String) {
        if self.samples.is_empty() {
            return;
        }
        // Writing to a String cannot fail.
        let _ = writeln!(out, "# HELP {} {}", self.name, self.help);
        let _ = writeln!(out, "# TYPE {} gauge", self.name);
        for (labels, value) in &self.samples {
            out.push_str(self.name);
            out.push('{');
            for (i, (key, val)) in labels.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                let _ = write!(out, "{key}=\"{}\"", escape_label_value(val));
            }
            let _ = writeln!(out, "}} {}", format_value(*value));
        }
    }
}

/// Escapes a label value for the text format: backslash, double quote and line feed.
pub fn escape_label_value(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for c in value.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '"' => out.push_str("\\\""),
            '\n' => out.push_str("\\n"),
            c => out.push(c),
        }
    }
    out
}

/// Formats a sample value as the text format spells it (`NaN`, `+Inf`, `-Inf`).
fn format_value(value: f64) -> String {
    if value.is_nan() {
        "NaN".to_string()
    } else if value.is_infinite() {
        if value > 0.0 { "+Inf" } else { "-Inf" }.to_string()
    } else {
        value.to_string()
    }
}

fn seconds(ms: f64) -> f64 {
    ms / 1000.0
}

fn bool_value(b: bool) -> f64 {
    if b { 1.0 } else { 0.0 }
}

/// Renders a report as Prometheus text exposition format 0.0.4 ([`CONTENT_TYPE`]).
///
/// Every sample is labelled `site` and `location`; families without samples (no root cause
/// on a healthy run, no Wi-Fi on a wired one) are left out entirely.
pub fn render(report: &Report, site: &str, location: &str) -> String {
    render_many(&[(report, site, location)])
}

/// The exposition of several runs (the latest of each site and location, for `serve`): each
/// family's HELP and TYPE once, then every run's samples, told apart by their labels.
pub fn render_many(runs: &[(&Report, &str, &str)]) -> String {
    let mut merged: Vec<Family> = Vec::new();
    for (report, site, location) in runs {
        for (i, family) in families(report, site, location).into_iter().enumerate() {
            if merged.len() <= i {
                merged.push(Family::new(family.name, family.help));
            }
            for (labels, value) in family.samples {
                merged[i].push(labels, value);
            }
        }
    }
    let mut out = String::new();
    for family in &merged {
        family.write(&mut out);
    }
    out
}

/// The families of one run, every sample labelled with `site` and `location`.
fn families(report: &Report, site: &str, location: &str) -> Vec<Family> {
    let status = report.diagnosis.status;
    let m = Measurements::from_report(report);

    let mut probe_success =
        Family::new("nettriage_probe_success", "Whether the last survey run was healthy (1) or not (0).");
    probe_success.push(vec![], bool_value(status == RunStatus::Healthy));
    let mut run_status = Family::new(
        "nettriage_run_status",
        "Verdict of the last survey run: 0 healthy, 1 degraded, 2 broken, 3 unknown.",
    );
    run_status.push(vec![], f64::from(status.exit_code()));
    let mut duration = Family::new("nettriage_probe_duration_seconds", "Wall time of the last survey run in seconds.");
    duration.push(vec![], seconds(report.duration_ms as f64));
    let mut timestamp =
        Family::new("nettriage_last_run_timestamp_seconds", "Start of the last survey run as a Unix timestamp.");
    if let Ok(t) = report.started_at.0.duration_since(UNIX_EPOCH) {
        timestamp.push(vec![], t.as_secs_f64());
    }

    let mut root_cause = Family::new(
        "nettriage_root_cause",
        "The root cause of the last survey run by finding code; absent when healthy.",
    );
    if let Some(cause) = &report.diagnosis.root_cause {
        root_cause
            .push(vec![("code", cause.code.as_str().to_string()), ("layer", cause.layer.as_str().to_string())], 1.0);
    }

    let mut check_success = Family::new(
        "nettriage_check_success",
        "Whether the check's layer works (1 pass or warn, 0 fail or error); skipped checks are absent.",
    );
    let mut check_duration =
        Family::new("nettriage_check_duration_seconds", "Wall time of each check that ran, in seconds.");
    for check in &report.checks {
        let Some(ok) = check_ok(check.status) else { continue };
        let labels = vec![("check", check.id.as_str().to_string())];
        check_success.push(labels.clone(), bool_value(ok));
        check_duration.push(labels, seconds(check.duration_ms as f64));
    }

    let mut gateway_rtt =
        Family::new("nettriage_gateway_rtt_seconds", "Mean ICMP echo round trip to the gateway in seconds.");
    let mut gateway_loss =
        Family::new("nettriage_gateway_loss_ratio", "Share of ICMP echoes to the gateway lost, 0 to 1.");
    for g in &m.gateways {
        let labels = vec![("gateway", g.address.clone()), ("family", g.family.as_str().to_string())];
        if let Some(avg) = g.avg_ms {
            gateway_rtt.push(labels.clone(), seconds(avg));
        }
        if let Some(loss) = g.loss_ratio {
            gateway_loss.push(labels, loss);
        }
    }
    let mut dns_lookup =
        Family::new("nettriage_dns_lookup_seconds", "Mean answer time of each name server that answered, in seconds.");
    for s in &m.dns {
        if let Some(avg) = s.avg_ms {
            dns_lookup.push(vec![("server", s.server.clone())], seconds(avg));
        }
    }
    let mut dns_first_loss = Family::new(
        "nettriage_dns_first_attempt_loss_ratio",
        "Share of each name server's queries whose first attempt got no answer (answered only on the retry, or not at all), 0 to 1.",
    );
    for s in &m.dns {
        if let Some(loss) = s.first_attempt_loss {
            dns_first_loss.push(vec![("server", s.server.clone())], loss);
        }
    }
    let mut port_connect =
        Family::new("nettriage_port_connect_seconds", "TCP connect time of each open target port in seconds.");
    let mut port_success = Family::new(
        "nettriage_port_success",
        "1 when the target port opened over the address family, else 0; one sample per family probed.",
    );
    for p in &m.ports {
        let Some(family) = p.family else { continue };
        let labels = vec![("target", p.target.clone()), ("family", family.as_str().to_string())];
        if p.outcome == "open"
            && let Some(ms) = p.ms
        {
            port_connect.push(labels.clone(), seconds(ms));
        }
        port_success.push(labels, bool_value(p.outcome == "open"));
    }
    let mut http_duration = Family::new(
        "nettriage_http_duration_seconds",
        "Duration of each phase of the final request of each fetched URL, in seconds (blackbox_exporter's phases).",
    );
    for h in &m.http_phases {
        http_duration.push(vec![("url", h.url.clone()), ("phase", h.phase.to_string())], seconds(h.ms));
    }
    let mut cert_expiry = Family::new(
        "nettriage_tls_cert_expiry_timestamp_seconds",
        "When the leaf certificate of each fetched HTTPS URL expires, Unix seconds.",
    );
    for c in &m.cert_expiry {
        cert_expiry.push(vec![("url", c.url.clone())], c.not_after_unix);
    }
    let mut http_status = Family::new(
        "nettriage_http_status_code",
        "Final HTTP status of each fetched URL, 0 when no answer came (blackbox_exporter's probe_http_status_code).",
    );
    let mut http_ssl = Family::new(
        "nettriage_http_ssl",
        "Whether the final request of each fetched URL used TLS, 1 or 0 (blackbox_exporter's probe_http_ssl).",
    );
    for h in &m.http {
        http_status.push(vec![("url", h.url.clone())], f64::from(h.status.unwrap_or(0)));
        http_ssl.push(vec![("url", h.url.clone())], bool_value(h.ssl));
    }
    let mut captive_portal = Family::new(
        "nettriage_web_captive_portal",
        "Whether the connectivity probe found a captive portal (1) or not (0); absent when it did not run.",
    );
    if let Some(portal) = m.captive_portal {
        captive_portal.push(vec![], bool_value(portal));
    }
    let mut ipv6_routers = Family::new(
        "nettriage_ipv6_routers",
        "Sources of IPv6 Router Advertisements heard after the run's Router Solicitation; absent when none was sent.",
    );
    let mut ipv6_addresses = Family::new(
        "nettriage_ipv6_addresses",
        "IPv6 addresses on the interface by scope (global, link), DAD-failed ones left out; absent when IPv6 is off.",
    );
    if let Some(ev) = report.ipv6_evidence().filter(|ev| ev.enabled) {
        if ev.solicitation.as_ref().is_some_and(|s| s.status == crate::check::ipv6::SolicitStatus::Sent) {
            ipv6_routers.push(vec![], ev.routers.len() as f64);
        }
        for scope in [crate::platform::netlink::AddrScope::Global, crate::platform::netlink::AddrScope::Link] {
            let n = ev.addresses.iter().filter(|a| a.scope == scope && !a.dad_failed).count();
            ipv6_addresses.push(vec![("scope", scope.name().into_owned())], n as f64);
        }
    }
    let mut path_mtu = Family::new(
        "nettriage_path_mtu_bytes",
        "The largest packet (bytes, IP header included) that reached each destination and came back with fragmentation forbidden.",
    );
    for p in report.path_evidence().into_iter().flat_map(|ev| ev.destinations.iter()) {
        if let Some(bytes) = p.largest_ok {
            path_mtu.push(vec![("target", p.target.clone()), ("family", p.family().to_string())], f64::from(bytes));
        }
    }
    let mut wifi_signal = Family::new("nettriage_wifi_signal_dbm", "Signal of the Wi-Fi link in dBm.");
    if let Some(dbm) = m.wifi_signal_dbm {
        wifi_signal.push(vec![], dbm);
    }

    let mut profile_success = Family::new(
        "nettriage_profile_check_success",
        "1 when a service profile could use the target (a DC, share, printer, endpoint category, RDP host), else 0.",
    );
    for p in &m.profiles {
        profile_success
            .push(vec![("profile", p.profile.to_string()), ("target", p.target.clone())], bool_value(p.success));
    }

    let mut ad_clock = Family::new(
        "nettriage_ad_clock_offset_seconds",
        "The domain controller's clock minus this machine's (ad profile), per DC and source (kerberos, ldap).",
    );
    for c in &m.ad_clock {
        ad_clock.push(vec![("dc", c.dc.clone()), ("source", c.source.to_string())], c.offset_s);
    }

    let mut neighbour = Family::new(
        "nettriage_neighbour_info",
        "The switch port this interface is plugged into, from LLDP, CDP or lldpd (value always 1).",
    );
    if let Some(n) = &report.neighbour {
        neighbour.push(
            vec![
                ("chassis", n.switch.clone().unwrap_or_default()),
                ("port", n.port.clone().unwrap_or_default()),
                ("vlan", n.vlan.map(|v| v.to_string()).unwrap_or_default()),
                ("protocol", n.protocol.as_str().to_string()),
            ],
            1.0,
        );
    }

    let mut all = vec![
        probe_success,
        run_status,
        duration,
        timestamp,
        root_cause,
        check_success,
        check_duration,
        gateway_rtt,
        gateway_loss,
        dns_lookup,
        dns_first_loss,
        port_connect,
        port_success,
        http_duration,
        http_status,
        http_ssl,
        cert_expiry,
        captive_portal,
        ipv6_routers,
        ipv6_addresses,
        path_mtu,
        wifi_signal,
        profile_success,
        ad_clock,
        neighbour,
    ];
    for family in &mut all {
        for (labels, _) in &mut family.samples {
            labels.push(("site", site.to_string()));
            labels.push(("location", location.to_string()));
        }
    }
    all
}

/// Writes `text` to `dir/name` for node_exporter's textfile collector, atomically.
///
/// Through [`crate::files::write_atomic`]: the text goes to a hidden temporary file in the
/// same directory (which the collector ignores: it reads only `*.prom`), is flushed to
/// disk, and is then renamed over `name`, so a scrape sees either the previous file or the
/// new one, never half of one. `name` must be a plain file name ending in `.prom`.
/// Returns the final path.
pub fn write_textfile(dir: &Path, name: &str, text: &str) -> io::Result<PathBuf> {
    let plain = !name.is_empty() && Path::new(name).file_name() == Some(name.as_ref()) && !name.starts_with('.');
    if !plain || !name.ends_with(".prom") || name.len() == ".prom".len() {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            format!("textfile name {name:?} must be a plain file name ending in .prom"),
        ));
    }
    let path = dir.join(name);
    crate::files::write_atomic(&path, text.as_bytes()).map_err(|e| io::Error::new(e.kind(), e))?;
    Ok(path)
}

#[cfg(test)]
pub(crate) mod tests {
    use std::collections::HashMap;

    use super::*;
    use crate::check::ports::PortOutcome;
    use crate::report::{CheckId, CheckResult, Code, Evidence, Finding, Severity, fixtures};

    fn check(id: CheckId, status: CheckStatus, findings: Vec<Finding>, evidence: Evidence) -> CheckResult {
        CheckResult {
            id,
            status,
            duration_ms: if status == CheckStatus::Skipped { 0 } else { 12 },
            blocked_by: None,
            reason: (status == CheckStatus::Skipped).then(|| "not applicable".to_string()),
            reason_code: (status == CheckStatus::Skipped).then_some(crate::report::SkipReason::NotWireless),
            findings,
            evidence,
        }
    }

    fn report_of(checks: Vec<CheckResult>, started_at: &str) -> Report {
        crate::report::test_report(checks, started_at, 1500)
    }

    /// A healthy wired run: one gateway, one DNS server, one open port, Wi-Fi skipped.
    pub(crate) fn healthy_report(started_at: &str) -> Report {
        report_of(
            vec![
                check(CheckId::Link, CheckStatus::Pass, vec![], fixtures::link("eth0", Some(1000))),
                check(CheckId::Wifi, CheckStatus::Skipped, vec![], fixtures::wired_wifi()),
                check(CheckId::Dhcp, CheckStatus::Pass, vec![], fixtures::dhcp("198.18.0.10", 24, Some(3600))),
                check(
                    CheckId::Gateway,
                    CheckStatus::Pass,
                    vec![],
                    fixtures::gateway("198.18.0.1", &[Some(2.0), Some(3.0), Some(2.5), Some(2.5), Some(2.5)]),
                ),
                check(CheckId::Dns, CheckStatus::Pass, vec![], fixtures::dns(&[("198.18.0.1", "ok", Some(12.0))])),
                check(
                    CheckId::Ports,
                    CheckStatus::Pass,
                    vec![],
                    fixtures::ports(&[("198.18.1.2:443", PortOutcome::Open, Some(4.0))]),
                ),
            ],
            started_at,
        )
    }

    /// A broken Wi-Fi run: the gateway is lossy, the only DNS server times out, so `dns`
    /// fails and `ports` is blocked.
    pub(crate) fn broken_report(started_at: &str) -> Report {
        let finding = |code, severity, layer| Finding { code, severity, layer, message: "seen in a test".into() };
        let mut ports = check(CheckId::Ports, CheckStatus::Skipped, vec![], Evidence::None);
        ports.blocked_by = Some(CheckId::Dns);
        report_of(
            vec![
                check(CheckId::Link, CheckStatus::Pass, vec![], fixtures::link("wlan0", Some(300))),
                check(CheckId::Wifi, CheckStatus::Pass, vec![], fixtures::wifi("corp", -71.0, fixtures::no_scan())),
                check(CheckId::Dhcp, CheckStatus::Pass, vec![], fixtures::dhcp("10.9.0.10", 24, Some(3600))),
                check(
                    CheckId::Gateway,
                    CheckStatus::Warn,
                    vec![finding(Code::GatewayLoss, Severity::Warn, CheckId::Gateway)],
                    fixtures::gateway("10.9.0.1", &[Some(30.0), None, Some(40.0), Some(50.0), Some(40.0)]),
                ),
                check(
                    CheckId::Dns,
                    CheckStatus::Fail,
                    vec![finding(Code::DnsTimeout, Severity::Fail, CheckId::Dns)],
                    fixtures::dns(&[("10.9.0.53", "dns.timeout", None)]),
                ),
                ports,
            ],
            started_at,
        )
    }

    /// [`broken_report`] as a newer nettriage might store it: its DNS finding and root cause
    /// carry a code this build does not know, and fields this build does not know are added
    /// at the top level, to a finding and to the gateway evidence. Read back through the
    /// tolerant deserialisation, as history, diff and `/metrics` read stored reports.
    pub(crate) fn newer_version_report(started_at: &str) -> Report {
        let mut v = serde_json::to_value(broken_report(started_at)).unwrap();
        v["diagnosis"]["root_cause"]["code"] = serde_json::json!("dns.brand_new_code");
        v["diagnosis"]["findings"][1]["code"] = serde_json::json!("dns.brand_new_code");
        v["diagnosis"]["findings"][1]["confidence"] = serde_json::json!(0.9);
        v["checks"][4]["findings"][0]["code"] = serde_json::json!("dns.brand_new_code");
        v["checks"][3]["evidence"]["gateways"][0]["vlan_id"] = serde_json::json!(10);
        v["added_in_a_later_version"] = serde_json::json!({"x": [1, 2]});
        let report: Report = serde_json::from_value(v).unwrap();
        assert_eq!(report.diagnosis.root_cause.as_ref().unwrap().code.as_str(), "dns.brand_new_code");
        report
    }

    #[test]
    fn codes_of_a_newer_version_become_labels_as_themselves() {
        let report = newer_version_report("2026-11-24T07:00:00.000Z");
        let scrape = parse(&render(&report, "HQ", "floor 2"));
        assert_eq!(
            one(&scrape, "nettriage_root_cause", &[("code", "dns.brand_new_code"), ("layer", "dns")]),
            Some(1.0)
        );
        assert_eq!(family(&scrape, "nettriage_root_cause").len(), 1);
        // The evidence with a field this build does not know still gives its readings.
        assert!(close(
            one(&scrape, "nettriage_gateway_rtt_seconds", &[("family", "ipv4"), ("gateway", "10.9.0.1")]),
            0.040
        ));
    }

    /// Parses exposition text with a real parser, and checks that it understood every line
    /// (the parser silently skips lines it cannot read).
    fn parse(text: &str) -> prometheus_parse::Scrape {
        let scrape = prometheus_parse::Scrape::parse(text.lines().map(|l| Ok(l.to_string()))).unwrap();
        let sample_lines = text.lines().filter(|l| !l.starts_with('#')).count();
        assert_eq!(scrape.samples.len(), sample_lines, "a sample line was not understood:\n{text}");
        scrape
    }

    /// The samples of one family, by their own labels (site and location checked and dropped).
    fn family(scrape: &prometheus_parse::Scrape, name: &str) -> HashMap<Vec<(String, String)>, f64> {
        scrape
            .samples
            .iter()
            .filter(|s| s.metric == name)
            .map(|s| {
                assert_eq!(s.labels.get("site"), Some("HQ"), "{name}");
                assert_eq!(s.labels.get("location"), Some("floor 2"), "{name}");
                let prometheus_parse::Value::Gauge(v) = s.value else { panic!("{name} is not a gauge") };
                let mut labels: Vec<(String, String)> = s
                    .labels
                    .iter()
                    .filter(|(k, _)| *k != "site" && *k != "location")
                    .map(|(k, v)| (k.clone(), v.clone()))
                    .collect();
                labels.sort();
                (labels, v)
            })
            .collect()
    }

    fn one(scrape: &prometheus_parse::Scrape, name: &str, labels: &[(&str, &str)]) -> Option<f64> {
        let key: Vec<(String, String)> = labels.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        family(scrape, name).get(&key).copied()
    }

    fn close(a: Option<f64>, b: f64) -> bool {
        a.is_some_and(|a| (a - b).abs() < 1e-9)
    }

    #[test]
    fn healthy_report_parses_with_the_values_and_labels() {
        let text = render(&healthy_report("2026-11-24T07:00:00.500Z"), "HQ", "floor 2");
        let scrape = parse(&text);
        assert_eq!(one(&scrape, "nettriage_probe_success", &[]), Some(1.0));
        assert_eq!(one(&scrape, "nettriage_run_status", &[]), Some(0.0));
        assert!(close(one(&scrape, "nettriage_probe_duration_seconds", &[]), 1.5));
        assert!(close(one(&scrape, "nettriage_last_run_timestamp_seconds", &[]), 1_795_503_600.5), "{text}");
        assert!(family(&scrape, "nettriage_root_cause").is_empty());
        assert!(!text.contains("nettriage_root_cause"), "no empty family headers");
        let success = family(&scrape, "nettriage_check_success");
        assert_eq!(success.len(), 5, "wifi was skipped: {success:?}");
        assert_eq!(one(&scrape, "nettriage_check_success", &[("check", "dns")]), Some(1.0));
        assert_eq!(one(&scrape, "nettriage_check_success", &[("check", "wifi")]), None);
        assert!(close(one(&scrape, "nettriage_check_duration_seconds", &[("check", "gateway")]), 0.012));
        assert!(close(
            one(&scrape, "nettriage_gateway_rtt_seconds", &[("family", "ipv4"), ("gateway", "198.18.0.1")]),
            0.0025
        ));
        assert_eq!(
            one(&scrape, "nettriage_gateway_loss_ratio", &[("family", "ipv4"), ("gateway", "198.18.0.1")]),
            Some(0.0)
        );
        assert!(close(one(&scrape, "nettriage_dns_lookup_seconds", &[("server", "198.18.0.1")]), 0.012));
        assert!(close(
            one(&scrape, "nettriage_port_connect_seconds", &[("family", "ipv4"), ("target", "198.18.1.2:443")]),
            0.004
        ));
        assert!(family(&scrape, "nettriage_wifi_signal_dbm").is_empty());
        for name in scrape.samples.iter().map(|s| s.metric.as_str()) {
            assert!(scrape.docs.contains_key(name), "{name} has no HELP");
            assert!(text.contains(&format!("# TYPE {name} gauge\n")), "{name} has no TYPE");
        }
        assert!(!text.contains("# EOF"), "Prometheus 0.0.4 text, not OpenMetrics");
    }

    #[test]
    fn ipv6_routers_and_per_family_connects_are_labelled_by_family() {
        use crate::check::gateway::{ArpResult, ArpStatus, GatewayV6Probe, PingStats};
        use crate::check::ports::{FamilyProbe, PortOutcome, fold_families};
        use crate::report::Evidence;
        let mut report = healthy_report("2026-11-24T07:00:00.500Z");
        for check in &mut report.checks {
            match &mut check.evidence {
                Evidence::Gateway(ev) => ev.gateways_v6.push(GatewayV6Probe {
                    address: "fe80::1".parse().unwrap(),
                    ns: ArpResult {
                        status: ArpStatus::Answered,
                        mac: None,
                        rtt_ms: None,
                        requests_sent: 1,
                        seen: None,
                    },
                    ping: Some(PingStats::from_rtts(&[Some(std::time::Duration::from_millis(3))])),
                }),
                Evidence::Ports(ev) => {
                    let attempt = |a: &str, outcome, ms| {
                        let address: std::net::SocketAddr = a.parse().unwrap();
                        FamilyProbe {
                            family: IpFamily::of(address.ip()),
                            address,
                            outcome,
                            ms: Some(ms),
                            error: None,
                            mss: None,
                        }
                    };
                    ev.targets.push(fold_families(
                        "www.site.test:8080".into(),
                        vec![
                            attempt("198.18.1.2:8080", PortOutcome::Open, 2.0),
                            attempt("[2001:2:0:2::2]:8080", PortOutcome::Filtered, 2000.0),
                        ],
                    ));
                }
                _ => {}
            }
        }
        let scrape = parse(&render(&report, "HQ", "floor 2"));
        assert!(close(
            one(&scrape, "nettriage_gateway_rtt_seconds", &[("family", "ipv6"), ("gateway", "fe80::1")]),
            0.003
        ));
        assert!(close(
            one(&scrape, "nettriage_gateway_rtt_seconds", &[("family", "ipv4"), ("gateway", "198.18.0.1")]),
            0.0025
        ));
        let www = |family| [("family", family), ("target", "www.site.test:8080")];
        assert!(close(one(&scrape, "nettriage_port_connect_seconds", &www("ipv4")), 0.002));
        assert_eq!(one(&scrape, "nettriage_port_connect_seconds", &www("ipv6")), None, "not open");
        assert_eq!(one(&scrape, "nettriage_port_success", &www("ipv4")), Some(1.0));
        assert_eq!(one(&scrape, "nettriage_port_success", &www("ipv6")), Some(0.0));
        assert_eq!(
            one(&scrape, "nettriage_port_success", &[("family", "ipv4"), ("target", "198.18.1.2:443")]),
            Some(1.0)
        );
    }

    #[test]
    fn broken_report_names_the_root_cause_and_omits_what_was_not_measured() {
        let text = render(&broken_report("2026-11-24T07:00:00.000Z"), "HQ", "floor 2");
        let scrape = parse(&text);
        assert_eq!(one(&scrape, "nettriage_probe_success", &[]), Some(0.0));
        assert_eq!(one(&scrape, "nettriage_run_status", &[]), Some(2.0));
        let causes = family(&scrape, "nettriage_root_cause");
        assert_eq!(causes.len(), 1);
        assert_eq!(one(&scrape, "nettriage_root_cause", &[("code", "dns.timeout"), ("layer", "dns")]), Some(1.0));
        assert_eq!(one(&scrape, "nettriage_check_success", &[("check", "dns")]), Some(0.0));
        assert_eq!(one(&scrape, "nettriage_check_success", &[("check", "gateway")]), Some(1.0), "warn still works");
        assert_eq!(one(&scrape, "nettriage_check_success", &[("check", "ports")]), None, "blocked, so skipped");
        assert!(close(
            one(&scrape, "nettriage_gateway_loss_ratio", &[("family", "ipv4"), ("gateway", "10.9.0.1")]),
            0.2
        ));
        assert!(close(
            one(&scrape, "nettriage_gateway_rtt_seconds", &[("family", "ipv4"), ("gateway", "10.9.0.1")]),
            0.04
        ));
        assert!(family(&scrape, "nettriage_dns_lookup_seconds").is_empty(), "the server never answered");
        assert!(family(&scrape, "nettriage_port_connect_seconds").is_empty());
        assert_eq!(one(&scrape, "nettriage_wifi_signal_dbm", &[]), Some(-71.0));
    }

    #[test]
    fn web_probes_give_blackbox_phases_and_the_certificate_expiry() {
        use crate::check::web::{CertInfo, HttpHop, TlsInfo, TlsVerdict, WebEvidence, WebProbe};
        let url = "https://www.site.test/";
        let hop = HttpHop {
            url: url.into(),
            dns_ms: Some(1.0),
            connect_ms: Some(2.0),
            tls_ms: Some(3.0),
            first_byte_ms: Some(4.0),
            total_ms: Some(15.0),
            status: Some(200),
            tls: Some(TlsInfo {
                verdict: TlsVerdict::Ok,
                version: None,
                cipher: None,
                alpn: None,
                chain: vec![CertInfo {
                    subject: "CN=www.site.test".into(),
                    issuer: "CN=lab".into(),
                    sans: vec![],
                    not_before: None,
                    not_after: Some("2027-01-01T00:00:00Z".parse().unwrap()),
                }],
                error: None,
                ..TlsInfo::default()
            }),
            ..HttpHop::default()
        };
        let unanswered = WebProbe { url: "http://down.site.test/".into(), hops: vec![], error: None, total_ms: None };
        let ev = WebEvidence {
            connectivity: None,
            targets: vec![WebProbe { url: url.into(), hops: vec![hop], error: None, total_ms: Some(15.0) }, unanswered],
            ..WebEvidence::default()
        };
        let report = report_of(
            vec![check(CheckId::Web, CheckStatus::Pass, vec![], Evidence::Web(Box::new(ev)))],
            "2026-11-24T07:00:00.000Z",
        );
        let scrape = parse(&render(&report, "HQ", "floor 2"));
        let phase = |p| one(&scrape, "nettriage_http_duration_seconds", &[("phase", p), ("url", url)]);
        for (p, seconds) in
            [("resolve", 0.001), ("connect", 0.002), ("tls", 0.003), ("processing", 0.004), ("transfer", 0.005)]
        {
            assert!(close(phase(p), seconds), "{p}: {:?}", phase(p));
        }
        assert_eq!(family(&scrape, "nettriage_http_duration_seconds").len(), 5, "only answered probes");
        let expiry = one(&scrape, "nettriage_tls_cert_expiry_timestamp_seconds", &[("url", url)]);
        assert!(close(expiry, 1_798_761_600.0), "{expiry:?}");
        // Status and TLS per URL in blackbox_exporter's sense: 0 for no answer.
        let down = [("url", "http://down.site.test/")];
        assert_eq!(one(&scrape, "nettriage_http_status_code", &[("url", url)]), Some(200.0));
        assert_eq!(one(&scrape, "nettriage_http_status_code", &down), Some(0.0));
        assert_eq!(one(&scrape, "nettriage_http_ssl", &[("url", url)]), Some(1.0));
        assert_eq!(one(&scrape, "nettriage_http_ssl", &down), Some(0.0));
        assert!(family(&scrape, "nettriage_web_captive_portal").is_empty(), "no connectivity probe ran");
    }

    #[test]
    fn the_connectivity_probe_says_whether_a_portal_is_in_the_way() {
        use crate::check::web::{ConnectivityProbe, ConnectivityState, HttpHop, WebEvidence, WebProbe, assess};
        let check_url = "http://check.site.test/ok";
        let login = "http://198.18.1.2/login?mac=02:00:00:00:00:10";
        let probe_with = |hops: Vec<HttpHop>| {
            let probe = WebProbe { url: check_url.into(), hops, error: None, total_ms: Some(3.0) };
            let (state, portal_url) = assess(&probe, 204, None);
            ConnectivityProbe { expect_status: 204, expect_body: None, body_matched: None, probe, state, portal_url }
        };
        let portal = probe_with(vec![
            HttpHop { url: check_url.into(), status: Some(302), location: Some(login.into()), ..HttpHop::default() },
            HttpHop { url: login.into(), status: Some(200), ..HttpHop::default() },
        ]);
        let online = probe_with(vec![HttpHop { url: check_url.into(), status: Some(204), ..HttpHop::default() }]);
        assert_eq!((portal.state, online.state), (ConnectivityState::Portal, ConnectivityState::Online));
        for (probe, want, status) in [(portal, 1.0, 200.0), (online, 0.0, 204.0)] {
            let ev = WebEvidence { connectivity: Some(probe), targets: vec![], ..WebEvidence::default() };
            let report = report_of(
                vec![check(CheckId::Web, CheckStatus::Pass, vec![], Evidence::Web(Box::new(ev)))],
                "2026-11-24T07:00:00.000Z",
            );
            let m = Measurements::from_report(&report);
            assert_eq!(m.captive_portal, Some(want > 0.0));
            assert!(m.http[0].connectivity);
            let scrape = parse(&render(&report, "HQ", "floor 2"));
            assert_eq!(one(&scrape, "nettriage_web_captive_portal", &[]), Some(want));
            assert_eq!(one(&scrape, "nettriage_http_status_code", &[("url", check_url)]), Some(status));
        }
    }

    #[test]
    fn ipv6_gives_the_router_count_and_addresses_by_scope() {
        use crate::check::ipv6::{AddrKind, Ipv6Evidence, SolicitStatus, Solicitation, V6Address};
        use crate::platform::netlink::AddrScope;
        let addr = |ip: &str, kind, scope, dad_failed| V6Address {
            address: ip.parse().unwrap(),
            prefix_len: 64,
            kind,
            scope,
            tentative: dad_failed,
            dad_failed,
            valid_lft_s: None,
            preferred_lft_s: None,
        };
        let ev = Ipv6Evidence {
            interface: "eth0".into(),
            enabled: true,
            sysctl: Default::default(),
            solicitation: Some(Solicitation {
                status: SolicitStatus::Sent,
                reason: None,
                listened_ms: Some(1000.0),
                received: 0,
                invalid: 0,
                dropped: 0,
            }),
            routers: vec![],
            ra_mtu: None,
            kernel_ra_routes: vec![],
            addresses: vec![
                addr("fe80::1", AddrKind::LinkLocal, AddrScope::Link, false),
                addr("2001:2:0:1::10", AddrKind::Static, AddrScope::Global, true),
            ],
            resolvers: vec![],
            notices: vec![],
            capture: None,
        };
        let report = report_of(
            vec![check(CheckId::Ipv6, CheckStatus::Fail, vec![], Evidence::Ipv6(Box::new(ev)))],
            "2026-11-24T07:00:00.000Z",
        );
        let scrape = parse(&render(&report, "HQ", "floor 2"));
        assert_eq!(one(&scrape, "nettriage_ipv6_routers", &[]), Some(0.0));
        assert_eq!(one(&scrape, "nettriage_ipv6_addresses", &[("scope", "link")]), Some(1.0));
        assert_eq!(one(&scrape, "nettriage_ipv6_addresses", &[("scope", "global")]), Some(0.0), "DAD failed");
        // No ipv6 check (a report of an earlier version): no series.
        let scrape = parse(&render(&healthy_report("2026-11-24T07:00:00.000Z"), "HQ", "floor 2"));
        assert!(family(&scrape, "nettriage_ipv6_routers").is_empty());
    }

    #[test]
    fn path_searches_give_the_largest_size_per_destination_and_family() {
        use crate::check::path::{PathEvidence, PathProbe, PathStatus, Role};
        let dest = |target: &str, address: &str, largest_ok: Option<u32>| PathProbe {
            target: target.into(),
            role: Role::Target,
            address: address.parse().unwrap(),
            status: if largest_ok.is_some() { PathStatus::Blackhole } else { PathStatus::NoEcho },
            full_size: 1500,
            min_size: 576,
            largest_ok,
            smallest_lost: largest_ok.map(|b| b + 1),
            reported_mtu: None,
            too_big: vec![],
            probes: vec![],
            rtt_ms: None,
            rounds: 4,
            ms: 400.0,
        };
        let ev = PathEvidence {
            interface_mtu: Some(1500),
            destinations: vec![
                dest("www.site.test:443", "198.18.1.2", Some(1400)),
                dest("www.site.test:443", "2001:2:0:2::2", Some(1380)),
                dest("quiet.site.test:443", "198.18.1.3", None),
            ],
            ..PathEvidence::default()
        };
        let report = report_of(
            vec![check(CheckId::Path, CheckStatus::Fail, vec![], Evidence::Path(Box::new(ev)))],
            "2026-11-24T07:00:00.000Z",
        );
        let scrape = parse(&render(&report, "HQ", "floor 2"));
        let mtu =
            |family| one(&scrape, "nettriage_path_mtu_bytes", &[("family", family), ("target", "www.site.test:443")]);
        assert_eq!((mtu("ipv4"), mtu("ipv6")), (Some(1400.0), Some(1380.0)));
        assert_eq!(family(&scrape, "nettriage_path_mtu_bytes").len(), 2, "no value without an answer");
    }

    #[test]
    fn the_neighbour_is_an_info_metric_with_its_labels() {
        use crate::check::neighbours::NeighbourLine;
        use crate::platform::lldp::{Protocol, Via};
        let mut report = healthy_report("2026-11-24T07:00:00.000Z");
        let scrape = parse(&render(&report, "HQ", "floor 2"));
        assert!(family(&scrape, "nettriage_neighbour_info").is_empty(), "nothing heard: no sample");
        report.neighbour = Some(NeighbourLine {
            switch: Some("sw-lab-1".into()),
            port: Some("Gi1/0/14".into()),
            vlan: Some(42),
            protocol: Protocol::Lldp,
            via: Via::Frame,
            management_address: None,
        });
        let scrape = parse(&render(&report, "HQ", "floor 2"));
        let labels = [("chassis", "sw-lab-1"), ("port", "Gi1/0/14"), ("protocol", "lldp"), ("vlan", "42")];
        assert_eq!(one(&scrape, "nettriage_neighbour_info", &labels), Some(1.0));
    }

    #[test]
    fn the_ad_clock_offset_is_a_gauge_per_dc_and_source() {
        use crate::check::ad::{AdEvidence, ClockReading, ClockSource, DcProbe};
        let mut report = healthy_report("2026-11-24T07:00:00.000Z");
        let reading = |source, offset_ms| ClockReading { dc: "dc1.corp.lab".into(), source, offset_ms };
        let ev = AdEvidence {
            domain: "corp.lab".into(),
            dcs: vec![DcProbe {
                name: "dc1.corp.lab".into(),
                clock: vec![reading(ClockSource::Kerberos, 420_250.0), reading(ClockSource::Ldap, 420_000.0)],
                ..DcProbe::default()
            }],
            ..AdEvidence::default()
        };
        report.checks.push(check(CheckId::Ad, CheckStatus::Fail, vec![], Evidence::Ad(Box::new(ev))));
        let scrape = parse(&render(&report, "HQ", "floor 2"));
        let offset =
            |source| one(&scrape, "nettriage_ad_clock_offset_seconds", &[("dc", "dc1.corp.lab"), ("source", source)]);
        assert!(close(offset("kerberos"), 420.25));
        assert!(close(offset("ldap"), 420.0));
        // The profile's target: the DC, which answered on no port here.
        let dc = [("profile", "ad"), ("target", "dc1.corp.lab")];
        assert_eq!(one(&scrape, "nettriage_profile_check_success", &dc), Some(0.0));
        let readings = Measurements::from_report(&report).profiles;
        assert_eq!(readings, [ProfileReading { profile: "ad", target: "dc1.corp.lab".into(), success: false }]);
        assert!(
            family(
                &parse(&render(&healthy_report("2026-11-24T07:00:00.000Z"), "HQ", "floor 2")),
                "nettriage_ad_clock_offset_seconds"
            )
            .is_empty()
        );
    }

    #[test]
    fn label_values_are_escaped() {
        let site = "He said \"hi\" \\ bye\nnext line";
        let text = render(&healthy_report("2026-11-24T07:00:00.000Z"), site, "a,b=c}");
        let escaped = r#"site="He said \"hi\" \\ bye\nnext line",location="a,b=c}""#;
        let line = text.lines().find(|l| l.starts_with("nettriage_probe_success{")).unwrap();
        assert_eq!(line, format!("nettriage_probe_success{{{escaped}}} 1"));
        // Every sample is still exactly one line.
        for line in text.lines().filter(|l| !l.starts_with('#')) {
            assert!(line.contains(escaped), "{line}");
        }
        assert_eq!(escape_label_value("plain"), "plain");
    }

    #[test]
    fn duplicate_series_are_written_once() {
        let mut report = healthy_report("2026-11-24T07:00:00.000Z");
        let dns = report.checks.iter_mut().find(|c| c.id == CheckId::Dns).unwrap();
        dns.evidence = fixtures::dns(&[("198.18.0.1", "ok", Some(12.0)), ("198.18.0.1", "ok", Some(99.0))]);
        let scrape = parse(&render(&report, "HQ", "floor 2"));
        assert_eq!(family(&scrape, "nettriage_dns_lookup_seconds").len(), 1);
        assert!(close(one(&scrape, "nettriage_dns_lookup_seconds", &[("server", "198.18.0.1")]), 0.012));
    }

    #[test]
    fn special_values_use_the_text_format_spelling() {
        assert_eq!(format_value(f64::NAN), "NaN");
        assert_eq!(format_value(f64::INFINITY), "+Inf");
        assert_eq!(format_value(f64::NEG_INFINITY), "-Inf");
        assert_eq!(format_value(-71.0), "-71");
        assert_eq!(format_value(0.0025), "0.0025");
    }

    #[test]
    fn measurements_read_the_wifi_signal_and_the_gateway() {
        let mut report = broken_report("2026-11-24T07:00:00.000Z");
        assert_eq!(Measurements::from_report(&report).wifi_signal_dbm, Some(-71.0));
        // Evidence of another shape (another version wrote it) gives no reading, not a wrong one.
        let wifi = report.checks.iter_mut().find(|c| c.id == CheckId::Wifi).unwrap();
        wifi.evidence = Evidence::from_json(CheckId::Wifi, serde_json::json!({"wireless": true, "signal_dbm": -60}));
        assert!(matches!(wifi.evidence, Evidence::Other(_)));
        assert_eq!(Measurements::from_report(&report).wifi_signal_dbm, None);
        let m = Measurements::from_report(&healthy_report("2026-11-24T07:00:00.000Z"));
        assert_eq!(m.wifi_signal_dbm, None);
        assert_eq!(
            m.gateways,
            vec![GatewayReading {
                address: "198.18.0.1".into(),
                avg_ms: Some(2.5),
                loss_ratio: Some(0.0),
                family: IpFamily::Ipv4
            }]
        );
    }

    #[test]
    fn textfile_is_replaced_atomically_without_leftovers() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("nettriage.prom"), "old").unwrap();
        let text = render(&healthy_report("2026-11-24T07:00:00.000Z"), "HQ", "floor 2");
        let path = write_textfile(dir.path(), "nettriage.prom", &text).unwrap();
        assert_eq!(path, dir.path().join("nettriage.prom"));
        assert_eq!(std::fs::read_to_string(&path).unwrap(), text);
        let names: Vec<_> = std::fs::read_dir(dir.path()).unwrap().map(|e| e.unwrap().file_name()).collect();
        assert_eq!(names, ["nettriage.prom"], "no temporary file left behind");
    }

    #[test]
    fn textfile_name_must_be_a_plain_prom_file() {
        let dir = tempfile::tempdir().unwrap();
        for bad in ["nettriage.txt", "../x.prom", "sub/x.prom", ".prom", ".hidden.prom", ""] {
            let err = write_textfile(dir.path(), bad, "x").unwrap_err();
            assert_eq!(err.kind(), io::ErrorKind::InvalidInput, "{bad}");
        }
        let missing = dir.path().join("missing");
        let err = write_textfile(&missing, "x.prom", "x").unwrap_err();
        assert!(err.to_string().contains("missing"), "{err}");
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
    }
}
