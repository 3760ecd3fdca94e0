//! The `ad` service profile (docs/checks/ad.md): can this machine find and use the
//! Active Directory domain's controllers?
//!
//! A profile is a check that runs only when chosen (`--profile ad`, `[profiles] enabled`),
//! after the layers it needs (`runner::GRAPH`: gateway, then dns); it blocks nothing. Its
//! contract, shared by every profile: a typed [`AdEvidence`], a pure [`judge`], [`details`]
//! (the report's one-line summary), [`targets`] (each DC and whether it answered, for
//! metrics), [`budget_ms`] and, with the `live` feature, `run`.
//!
//! What `run` does, in three phases each bounded by `[profiles.ad] timeout_ms`:
//! 1. the domain ([`choose_domain`]: `[profiles.ad] domain`, else resolv.conf's search
//!    list, which the DHCP client fills from option 15/119); its DC SRV records
//!    (`_ldap._tcp.dc._msdcs`, `_kerberos._tcp`, `_gc._tcp`, the site's first) and the
//!    domain's SOA, asked of the system's resolvers ([`crate::check::dns::system_servers`])
//!    with hickory's codec over UDP, as glibc would (the next server only when one does
//!    not answer, refuses or fails);
//! 2. the addresses of the DCs the records name (the SRV answer's additional section, else
//!    A/AAAA queries), plus `[profiles.ad] dcs`;
//! 3. per DC, all at once: TCP 88, 389, 445, 636, 3268; an anonymous LDAP rootDSE read
//!    ([`ldap`]); a Kerberos AS-REQ for a random principal over UDP and TCP 88
//!    ([`kerberos`]). The KDC's KRB-ERROR and the rootDSE's `currentTime` give the DC's
//!    clock; the offset is taken against the midpoint of the exchange.
//!
//! The LDAP and Kerberos messages are written and read by hand over `asn1-rs` ([`asn1`]):
//! two fixed requests and two replies of which a few fields are read did not warrant
//! `ldap3` (its own BER stack, TLS and a connection manager) or `rasn-kerberos`.

pub mod asn1;
pub mod kerberos;
pub mod ldap;

use std::net::IpAddr;

use serde::{Deserialize, Serialize};

use crate::check::{ProfileTarget, finding, named};
use crate::config::AdSettings;
use crate::report::{CheckId, Code, Finding, Severity};

use self::kerberos::KdcReply;
use self::ldap::RootDse;

/// Most DCs named in one finding's message.
const MAX_NAMED: usize = 6;

/// The TCP ports every DC is tested on: Kerberos, LDAP, SMB (SYSVOL, group policy),
/// LDAPS, the global catalog.
pub const DC_PORTS: [u16; 5] = [88, 389, 445, 636, 3268];

/// Where the domain came from.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DomainSource {
    /// `[profiles.ad] domain`.
    #[default]
    Config,
    /// resolv.conf's `domain` or first `search` entry (from DHCP's option 15/119 where a
    /// DHCP client wrote it).
    ResolvConf,
}

/// The domain the profile tests (pure): the configured one, else the search list's first.
pub fn choose_domain(settings: &AdSettings, search: &[String]) -> Option<(String, DomainSource)> {
    if let Some(d) = &settings.domain {
        return Some((d.trim_end_matches('.').to_ascii_lowercase(), DomainSource::Config));
    }
    search
        .iter()
        .map(|d| d.trim_end_matches('.'))
        .find(|d| {
            d.contains('.')
                && d.split('.').all(|l| !l.is_empty() && l.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-'))
        })
        .map(|d| (d.to_ascii_lowercase(), DomainSource::ResolvConf))
}

/// How a DNS lookup ended.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LookupOutcome {
    /// Records of the type asked.
    Answer,
    /// The name exists but has no records of this type.
    NoData,
    /// The name does not exist.
    Nxdomain,
    /// The server refused.
    Refused,
    /// The server failed.
    Servfail,
    /// Another error rcode.
    OtherRcode,
    /// No server answered in time.
    #[default]
    Timeout,
    /// A local problem (no socket, a name that cannot be encoded), or no resolver known.
    Error,
}

impl LookupOutcome {
    /// Whether a server said the name is unknown to it (NXDOMAIN, REFUSED, SERVFAIL).
    pub fn denies(self) -> bool {
        matches!(self, LookupOutcome::Nxdomain | LookupOutcome::Refused | LookupOutcome::Servfail)
    }
}

/// What the record was asked for.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SrvKind {
    /// `_ldap._tcp.SITE._sites.dc._msdcs.DOMAIN`.
    SiteDc,
    /// `_ldap._tcp.dc._msdcs.DOMAIN`: the domain's DCs.
    #[default]
    Dc,
    /// `_kerberos._tcp.DOMAIN`: the KDCs.
    Kerberos,
    /// `_gc._tcp.DOMAIN`: the global catalogs.
    Gc,
}

/// One SRV record.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct SrvRecord {
    /// The target host, without the trailing dot.
    pub target: String,
    /// Its port.
    pub port: u16,
    /// Lower first.
    pub priority: u16,
    /// Higher more often among equal priorities.
    pub weight: u16,
}

/// One DNS lookup of the profile.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Lookup {
    /// The name asked.
    pub name: String,
    /// `SRV`, `SOA`, `A`, `AAAA`.
    pub record_type: String,
    /// What it is for (SRV lookups).
    pub kind: Option<SrvKind>,
    /// How it ended.
    pub outcome: LookupOutcome,
    /// The server whose answer counts (the last one asked).
    pub server: Option<IpAddr>,
    /// The SRV records (SRV lookups).
    pub records: Vec<SrvRecord>,
    /// What went wrong locally, if anything.
    pub error: Option<String>,
}

/// Where a DC came from.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DcOrigin {
    /// The SRV records.
    #[default]
    Srv,
    /// `[profiles.ad] dcs`.
    Config,
}

/// How a TCP connection or a request ended.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ProbeState {
    /// Connected (ports) or a valid reply (LDAP, Kerberos).
    Ok,
    /// Connection refused (RST) or an ICMP unreachable.
    Refused,
    /// Nothing in time.
    #[default]
    Timeout,
    /// The peer closed without a reply.
    Closed,
    /// The peer answered with something that is not a valid reply.
    Malformed,
    /// A local error, or the run's deadline had passed.
    Error,
}

/// One TCP port of a DC.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct PortProbe {
    /// The port.
    pub port: u16,
    /// How the connection attempt ended.
    pub state: ProbeState,
    /// Time to the outcome, milliseconds.
    pub ms: Option<f64>,
}

/// The anonymous rootDSE read of a DC.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct LdapProbe {
    /// How it ended.
    pub state: ProbeState,
    /// Time to the reply, milliseconds.
    pub ms: Option<f64>,
    /// What the rootDSE said.
    pub rootdse: Option<RootDse>,
    /// What went wrong.
    pub error: Option<String>,
}

/// The transport of a Kerberos exchange.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Transport {
    /// UDP 88.
    #[default]
    Udp,
    /// TCP 88.
    Tcp,
}

/// One AS-REQ to a DC's KDC.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct KerberosProbe {
    /// UDP or TCP.
    pub transport: Transport,
    /// How it ended.
    pub state: ProbeState,
    /// Time to the reply, milliseconds.
    pub ms: Option<f64>,
    /// The KDC's reply.
    pub reply: Option<KdcReply>,
    /// What went wrong.
    pub error: Option<String>,
}

/// Which DC message the clock was read from.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ClockSource {
    /// A KRB-ERROR's `stime`/`susec` (microseconds; the clock Kerberos compares).
    #[default]
    Kerberos,
    /// The rootDSE's `currentTime` (whole seconds).
    Ldap,
}

impl ClockSource {
    /// The name used in reports and metrics.
    pub fn as_str(self) -> &'static str {
        match self {
            ClockSource::Kerberos => "kerberos",
            ClockSource::Ldap => "ldap",
        }
    }
}

/// The DC's clock against this machine's.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct ClockReading {
    /// The DC (its name).
    pub dc: String,
    /// Which message it came from.
    pub source: ClockSource,
    /// The DC's time minus ours (at the exchange's midpoint), milliseconds: positive when
    /// the DC is ahead.
    pub offset_ms: f64,
}

/// One domain controller and what it answered.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct DcProbe {
    /// Its name (or the configured address).
    pub name: String,
    /// The address probed; `None` when its name did not resolve.
    pub address: Option<IpAddr>,
    /// Where it came from.
    pub origin: DcOrigin,
    /// The TCP ports.
    pub ports: Vec<PortProbe>,
    /// The rootDSE read.
    pub ldap: LdapProbe,
    /// The AS-REQs (UDP, TCP).
    pub kerberos: Vec<KerberosProbe>,
    /// The clock offsets read from this DC.
    pub clock: Vec<ClockReading>,
}

impl DcProbe {
    /// Whether it answered at all: a port open, LDAP or Kerberos answered.
    pub fn reachable(&self) -> bool {
        self.ports.iter().any(|p| p.state == ProbeState::Ok) || self.ldap_ok() || self.kerberos_ok()
    }

    /// Whether its KDC answered an AS-REQ (any transport).
    pub fn kerberos_ok(&self) -> bool {
        self.kerberos.iter().any(|k| k.state == ProbeState::Ok)
    }

    /// Whether it answered the rootDSE read.
    pub fn ldap_ok(&self) -> bool {
        self.ldap.state == ProbeState::Ok
    }

    /// The ports that did not connect.
    fn closed_ports(&self) -> Vec<String> {
        self.ports.iter().filter(|p| p.state != ProbeState::Ok).map(|p| p.port.to_string()).collect()
    }

    /// Its name with the address, for messages.
    fn label(&self) -> String {
        match self.address {
            Some(ip) if ip.to_string() != self.name => format!("{} ({ip})", self.name),
            _ => self.name.clone(),
        }
    }
}

/// What the `ad` profile observed.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct AdEvidence {
    /// The domain tested.
    pub domain: String,
    /// Where it came from.
    pub domain_source: DomainSource,
    /// The AD site, when configured.
    pub site: Option<String>,
    /// The resolvers asked, in order.
    pub resolvers: Vec<IpAddr>,
    /// The SRV lookups, the domain's SOA and the DCs' address lookups.
    pub lookups: Vec<Lookup>,
    /// The domain controllers probed, in the order tried.
    pub dcs: Vec<DcProbe>,
    /// The offset judged: the first DC's, Kerberos' when it has both.
    pub clock: Option<ClockReading>,
}

impl AdEvidence {
    /// The lookup of `kind`'s SRV record, if it was made.
    pub fn srv(&self, kind: SrvKind) -> Option<&Lookup> {
        self.lookups.iter().find(|l| l.kind == Some(kind))
    }

    /// The domain's SOA lookup, if it was made.
    pub fn soa(&self) -> Option<&Lookup> {
        self.lookups.iter().find(|l| l.record_type == "SOA")
    }

    /// Whether some DC SRV record was found (site, dc or kerberos).
    pub fn has_dc_records(&self) -> bool {
        [SrvKind::SiteDc, SrvKind::Dc, SrvKind::Kerberos]
            .into_iter()
            .filter_map(|k| self.srv(k))
            .any(|l| l.outcome == LookupOutcome::Answer && !l.records.is_empty())
    }

    /// Every clock offset read, per DC and source (metrics).
    pub fn clock_readings(&self) -> impl Iterator<Item = &ClockReading> {
        self.dcs.iter().flat_map(|d| d.clock.iter())
    }
}

/// The offset judged from a list of DCs: the first DC with a reading, Kerberos' first.
pub fn judged_clock(dcs: &[DcProbe]) -> Option<ClockReading> {
    dcs.iter()
        .find_map(|d| d.clock.iter().find(|c| c.source == ClockSource::Kerberos).or_else(|| d.clock.first()).cloned())
}

/// The DNS rule (docs/checks/ad.md, "DNS"): no DC record and the resolvers deny the
/// domain itself (its SOA: NXDOMAIN, REFUSED, SERVFAIL) is `ad.dns_not_domain`; no DC
/// record while the domain exists, or no resolver answering at all, is `ad.no_dc_records`.
fn dns_finding(ev: &AdEvidence) -> Option<Finding> {
    if ev.has_dc_records() {
        return None;
    }
    let layer = CheckId::Ad;
    let domain = &ev.domain;
    let dc = ev.srv(SrvKind::Dc).map(|l| l.outcome).unwrap_or(LookupOutcome::Error);
    let soa = ev.soa().map(|l| l.outcome).unwrap_or(LookupOutcome::Error);
    let denied = |o: LookupOutcome| o.denies();
    let fallback = if ev.dcs.is_empty() {
        String::new()
    } else {
        format!("; only the configured DCs ({}) were tested", named(&dc_names(&ev.dcs), ", ", MAX_NAMED))
    };
    if denied(soa) && (denied(dc) || dc == LookupOutcome::Timeout) {
        return Some(finding(
            layer,
            Code::AdDnsNotDomain,
            Severity::Fail,
            format!(
                "this machine's resolvers ({}) do not know the domain {domain} (SOA: {}, DC SRV: {}): they are not the domain's DNS servers{fallback}",
                resolvers_text(ev),
                outcome_text(soa),
                outcome_text(dc)
            ),
        ));
    }
    let why = if matches!(dc, LookupOutcome::Timeout | LookupOutcome::Error) {
        format!("no resolver answered the query for _ldap._tcp.dc._msdcs.{domain} ({})", outcome_text(dc))
    } else {
        format!(
            "the resolvers know {domain} but return no DC SRV record for it (_ldap._tcp.dc._msdcs: {})",
            outcome_text(dc)
        )
    };
    Some(finding(layer, Code::AdNoDcRecords, Severity::Fail, format!("{why}{fallback}")))
}

fn resolvers_text(ev: &AdEvidence) -> String {
    if ev.resolvers.is_empty() {
        return "none known".into();
    }
    let list: Vec<String> = ev.resolvers.iter().map(ToString::to_string).collect();
    named(&list, ", ", MAX_NAMED)
}

fn outcome_text(o: LookupOutcome) -> &'static str {
    match o {
        LookupOutcome::Answer => "answered",
        LookupOutcome::NoData => "no records",
        LookupOutcome::Nxdomain => "NXDOMAIN",
        LookupOutcome::Refused => "REFUSED",
        LookupOutcome::Servfail => "SERVFAIL",
        LookupOutcome::OtherRcode => "an error rcode",
        LookupOutcome::Timeout => "no answer",
        LookupOutcome::Error => "not asked",
    }
}

fn dc_names(dcs: &[DcProbe]) -> Vec<String> {
    dcs.iter().map(DcProbe::label).collect()
}

/// The findings the evidence shows (pure).
///
/// DNS first (the rule of docs/checks/ad.md, "DNS"); then per DC: one that answers nothing is
/// `ad.dc_unreachable` (warn, fail when it is every DC, and nothing more is judged);
/// among the DCs that answer, none answering Kerberos or LDAP is a fail of
/// `ad.kerberos_unreachable` / `ad.ldap_unreachable`, some not answering a warning; the
/// judged clock offset over `clock_warn_s` warns and over `clock_fail_s` fails
/// (`ad.clock_skew`).
pub fn judge(ev: &AdEvidence, settings: &AdSettings) -> Vec<Finding> {
    let layer = CheckId::Ad;
    let mut findings: Vec<Finding> = dns_finding(ev).into_iter().collect();
    if ev.dcs.is_empty() {
        return findings;
    }
    let (up, down): (Vec<&DcProbe>, Vec<&DcProbe>) = ev.dcs.iter().partition(|d| d.reachable());
    if up.is_empty() {
        let list: Vec<String> = down.iter().map(|d| unreachable_text(d)).collect();
        findings.push(finding(
            layer,
            Code::AdDcUnreachable,
            Severity::Fail,
            format!("no domain controller of {} answers: {}", ev.domain, named(&list, "; ", MAX_NAMED)),
        ));
        return findings;
    }
    if !down.is_empty() {
        let list: Vec<String> = down.iter().map(|d| unreachable_text(d)).collect();
        findings.push(finding(
            layer,
            Code::AdDcUnreachable,
            Severity::Warn,
            format!(
                "{} of {} domain controllers do not answer: {}",
                down.len(),
                ev.dcs.len(),
                named(&list, "; ", MAX_NAMED)
            ),
        ));
    }
    findings.extend(service_finding(
        &up,
        Code::AdKerberosUnreachable,
        "Kerberos (AS-REQ on UDP and TCP 88)",
        DcProbe::kerberos_ok,
        |d| {
            d.kerberos
                .iter()
                .map(|k| format!("{:?} {}", k.transport, state_text(k.state)))
                .collect::<Vec<_>>()
                .join(", ")
        },
    ));
    findings.extend(service_finding(
        &up,
        Code::AdLdapUnreachable,
        "LDAP (rootDSE on TCP 389)",
        DcProbe::ldap_ok,
        |d| state_text(d.ldap.state).to_string(),
    ));
    if let Some(clock) = &ev.clock {
        let off_s = clock.offset_ms / 1000.0;
        let severity = if off_s.abs() > settings.clock_fail_s {
            Some(Severity::Fail)
        } else if off_s.abs() > settings.clock_warn_s {
            Some(Severity::Warn)
        } else {
            None
        };
        if let Some(severity) = severity {
            let direction = if off_s > 0.0 { "behind" } else { "ahead of" };
            findings.push(finding(
                layer,
                Code::AdClockSkew,
                severity,
                format!(
                    "this machine's clock is {:.0} s {direction} the domain controller {} ({}); Kerberos refuses logons beyond {:.0} s",
                    off_s.abs(),
                    clock.dc,
                    clock.source.as_str(),
                    settings.clock_fail_s
                ),
            ));
        }
    }
    findings
}

fn service_finding(
    up: &[&DcProbe],
    code: Code,
    what: &str,
    ok: fn(&DcProbe) -> bool,
    how: impl Fn(&DcProbe) -> String,
) -> Option<Finding> {
    let failing: Vec<String> = up.iter().filter(|d| !ok(d)).map(|d| format!("{}: {}", d.label(), how(d))).collect();
    if failing.is_empty() {
        return None;
    }
    let severity = if failing.len() == up.len() { Severity::Fail } else { Severity::Warn };
    let lead = if severity == Severity::Fail {
        format!("no reachable domain controller answers {what}")
    } else {
        format!("{} of {} reachable domain controllers do not answer {what}", failing.len(), up.len())
    };
    Some(finding(CheckId::Ad, code, severity, format!("{lead}: {}", named(&failing, "; ", MAX_NAMED))))
}

fn unreachable_text(d: &DcProbe) -> String {
    match d.address {
        None => format!("{}: its name does not resolve", d.name),
        Some(_) => format!("{}: no answer on ports {}", d.label(), d.closed_ports().join(", ")),
    }
}

fn state_text(s: ProbeState) -> &'static str {
    match s {
        ProbeState::Ok => "ok",
        ProbeState::Refused => "refused",
        ProbeState::Timeout => "no answer",
        ProbeState::Closed => "closed without a reply",
        ProbeState::Malformed => "unreadable reply",
        ProbeState::Error => "not tested",
    }
}

/// One line for the report's details column (table, Markdown, HTML).
pub fn details(ev: &AdEvidence) -> String {
    if ev.dcs.is_empty() {
        let dc = ev.srv(SrvKind::Dc).map(|l| l.outcome).unwrap_or(LookupOutcome::Error);
        return format!("{}: no DC found (DC SRV: {})", ev.domain, outcome_text(dc));
    }
    let up = ev.dcs.iter().filter(|d| d.reachable()).count();
    let krb = ev.dcs.iter().filter(|d| d.kerberos_ok()).count();
    let ldap = ev.dcs.iter().filter(|d| d.ldap_ok()).count();
    let first = ev.dcs.iter().find(|d| d.reachable()).unwrap_or(&ev.dcs[0]);
    let mut line =
        format!("{}: {up}/{} DCs answer ({}), Kerberos {krb}, LDAP {ldap}", ev.domain, ev.dcs.len(), first.label());
    if let Some(c) = &ev.clock {
        line.push_str(&format!(", clock {:+.1} s ({})", c.offset_ms / 1000.0, c.source.as_str()));
    }
    line
}

/// Each DC tested and whether it answered (`nettriage_profile_check_success`).
pub fn targets(ev: &AdEvidence) -> Vec<ProfileTarget> {
    ev.dcs.iter().map(|d| ProfileTarget { target: d.name.clone(), success: d.reachable() }).collect()
}

/// The longest this check may take, in milliseconds (the runner's budget): three phases
/// (SRV lookups, DC addresses, DC probes) of one timeout each, and a second of margin.
pub fn budget_ms(settings: &AdSettings) -> u64 {
    settings.timeout_ms * 3 + 1_000
}

#[cfg(feature = "live")]
mod live;
#[cfg(feature = "live")]
pub use live::run;

#[cfg(test)]
mod tests {
    use super::*;

    fn srv(kind: SrvKind, outcome: LookupOutcome, targets: &[&str]) -> Lookup {
        Lookup {
            name: format!("{kind:?}"),
            record_type: "SRV".into(),
            kind: Some(kind),
            outcome,
            server: Some("198.18.0.1".parse().unwrap()),
            records: targets
                .iter()
                .map(|t| SrvRecord { target: (*t).into(), port: 389, priority: 0, weight: 100 })
                .collect(),
            error: None,
        }
    }

    fn soa(outcome: LookupOutcome) -> Lookup {
        Lookup { name: "corp.lab".into(), record_type: "SOA".into(), outcome, ..Lookup::default() }
    }

    fn dc(name: &str, ports_open: bool, krb: bool, ldap: bool, offset_s: Option<f64>) -> DcProbe {
        let state = |ok: bool| if ok { ProbeState::Ok } else { ProbeState::Timeout };
        DcProbe {
            name: name.into(),
            address: Some("198.18.1.2".parse().unwrap()),
            origin: DcOrigin::Srv,
            ports: DC_PORTS.iter().map(|p| PortProbe { port: *p, state: state(ports_open), ms: None }).collect(),
            ldap: LdapProbe { state: state(ldap), ..LdapProbe::default() },
            kerberos: vec![
                KerberosProbe { transport: Transport::Udp, state: state(krb), ..KerberosProbe::default() },
                KerberosProbe { transport: Transport::Tcp, state: state(krb), ..KerberosProbe::default() },
            ],
            clock: offset_s
                .map(|s| ClockReading { dc: name.into(), source: ClockSource::Kerberos, offset_ms: s * 1000.0 })
                .into_iter()
                .collect(),
        }
    }

    fn ev(lookups: Vec<Lookup>, dcs: Vec<DcProbe>) -> AdEvidence {
        let clock = judged_clock(&dcs);
        AdEvidence {
            domain: "corp.lab".into(),
            resolvers: vec!["198.18.0.1".parse().unwrap()],
            lookups,
            dcs,
            clock,
            ..AdEvidence::default()
        }
    }

    fn found() -> Vec<Lookup> {
        vec![srv(SrvKind::Dc, LookupOutcome::Answer, &["dc1.corp.lab"]), soa(LookupOutcome::Answer)]
    }

    fn codes(ev: &AdEvidence) -> Vec<(Code, Severity)> {
        judge(ev, &AdSettings::default()).into_iter().map(|f| (f.code, f.severity)).collect()
    }

    #[test]
    fn a_healthy_domain_passes() {
        let e = ev(found(), vec![dc("dc1.corp.lab", true, true, true, Some(0.4))]);
        assert_eq!(codes(&e), []);
        assert_eq!(targets(&e), [ProfileTarget { target: "dc1.corp.lab".into(), success: true }]);
        assert!(details(&e).contains("1/1"));
    }

    #[test]
    fn clock_thresholds_follow_kerberos_tolerance() {
        for (offset, expected) in [
            (59.0, None),
            (-60.0, None),
            (61.0, Some(Severity::Warn)),
            (-299.0, Some(Severity::Warn)),
            (300.0, Some(Severity::Warn)),
            (301.0, Some(Severity::Fail)),
            (-420.0, Some(Severity::Fail)),
        ] {
            let e = ev(found(), vec![dc("dc1", true, true, true, Some(offset))]);
            let got: Vec<Severity> =
                codes(&e).into_iter().filter(|(c, _)| *c == Code::AdClockSkew).map(|(_, s)| s).collect();
            assert_eq!(got, expected.into_iter().collect::<Vec<_>>(), "{offset}");
        }
        let tight = AdSettings { clock_warn_s: 1.0, clock_fail_s: 5.0, ..AdSettings::default() };
        let e = ev(found(), vec![dc("dc1", true, true, true, Some(6.0))]);
        assert_eq!(judge(&e, &tight)[0].code, Code::AdClockSkew);
        assert_eq!(judge(&e, &tight)[0].severity, Severity::Fail);
    }

    #[test]
    fn kerberos_is_preferred_over_ldap_for_the_clock() {
        let mut d = dc("dc1", true, true, true, None);
        d.clock = vec![
            ClockReading { dc: "dc1".into(), source: ClockSource::Ldap, offset_ms: 1_000.0 },
            ClockReading { dc: "dc1".into(), source: ClockSource::Kerberos, offset_ms: 400_000.0 },
        ];
        assert_eq!(judged_clock(&[d]).map(|c| c.source), Some(ClockSource::Kerberos));
    }

    #[test]
    fn one_dc_down_warns_all_down_fails() {
        let e = ev(found(), vec![dc("dc1", true, true, true, None), dc("dc2", false, false, false, None)]);
        assert_eq!(codes(&e), [(Code::AdDcUnreachable, Severity::Warn)]);
        assert_eq!(targets(&e).iter().filter(|t| t.success).count(), 1);
        let e = ev(found(), vec![dc("dc1", false, false, false, None), dc("dc2", false, false, false, None)]);
        assert_eq!(codes(&e), [(Code::AdDcUnreachable, Severity::Fail)]);
    }

    #[test]
    fn kerberos_or_ldap_silent_on_reachable_dcs() {
        let e = ev(found(), vec![dc("dc1", true, false, true, None)]);
        assert_eq!(codes(&e), [(Code::AdKerberosUnreachable, Severity::Fail)]);
        let e = ev(found(), vec![dc("dc1", true, true, false, None), dc("dc2", true, true, true, None)]);
        assert_eq!(codes(&e), [(Code::AdLdapUnreachable, Severity::Warn)]);
        // A Kerberos answer alone makes the DC reachable.
        let e = ev(found(), vec![dc("dc1", false, true, false, None)]);
        assert_eq!(codes(&e), [(Code::AdLdapUnreachable, Severity::Fail)]);
    }

    #[test]
    fn dns_rule_separates_unknown_domain_from_missing_records() {
        let e = ev(vec![srv(SrvKind::Dc, LookupOutcome::Nxdomain, &[]), soa(LookupOutcome::Nxdomain)], vec![]);
        assert_eq!(codes(&e), [(Code::AdDnsNotDomain, Severity::Fail)]);
        let e = ev(vec![srv(SrvKind::Dc, LookupOutcome::Refused, &[]), soa(LookupOutcome::Refused)], vec![]);
        assert_eq!(codes(&e), [(Code::AdDnsNotDomain, Severity::Fail)]);
        let e = ev(vec![srv(SrvKind::Dc, LookupOutcome::Nxdomain, &[]), soa(LookupOutcome::Answer)], vec![]);
        assert_eq!(codes(&e), [(Code::AdNoDcRecords, Severity::Fail)]);
        let e = ev(vec![srv(SrvKind::Dc, LookupOutcome::NoData, &[]), soa(LookupOutcome::NoData)], vec![]);
        assert_eq!(codes(&e), [(Code::AdNoDcRecords, Severity::Fail)]);
        let e = ev(vec![srv(SrvKind::Dc, LookupOutcome::Timeout, &[]), soa(LookupOutcome::Timeout)], vec![]);
        assert_eq!(codes(&e), [(Code::AdNoDcRecords, Severity::Fail)]);
        // The Kerberos record alone is enough to find DCs.
        let e = ev(
            vec![srv(SrvKind::Dc, LookupOutcome::NoData, &[]), srv(SrvKind::Kerberos, LookupOutcome::Answer, &["dc1"])],
            vec![dc("dc1", true, true, true, None)],
        );
        assert_eq!(codes(&e), []);
        // Configured DCs are still tested and judged under an unknown domain.
        let e = ev(
            vec![srv(SrvKind::Dc, LookupOutcome::Nxdomain, &[]), soa(LookupOutcome::Nxdomain)],
            vec![dc("198.18.1.2", false, false, false, None)],
        );
        assert_eq!(codes(&e), [(Code::AdDnsNotDomain, Severity::Fail), (Code::AdDcUnreachable, Severity::Fail)]);
        assert!(details(&ev(vec![], vec![])).contains("no DC"));
    }

    #[test]
    fn the_domain_comes_from_config_then_the_search_list() {
        let search = vec!["lan".to_string(), "Corp.Lab.".to_string()];
        let configured = AdSettings { domain: Some("ad.example.com".into()), ..AdSettings::default() };
        assert_eq!(choose_domain(&configured, &search), Some(("ad.example.com".into(), DomainSource::Config)));
        assert_eq!(choose_domain(&AdSettings::default(), &search), Some(("corp.lab".into(), DomainSource::ResolvConf)));
        assert_eq!(choose_domain(&AdSettings::default(), &["lan".into()]), None);
    }

    #[test]
    fn evidence_reads_back_and_tolerates_missing_fields() {
        let e = ev(found(), vec![dc("dc1", true, true, true, Some(2.0))]);
        let json = serde_json::to_value(&e).unwrap();
        assert_eq!(serde_json::from_value::<AdEvidence>(json).unwrap(), e);
        let sparse: AdEvidence = serde_json::from_str(r#"{"domain":"x.lab","dcs":[{"name":"dc"}]}"#).unwrap();
        assert!(!sparse.dcs[0].reachable());
    }
}
