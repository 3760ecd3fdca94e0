//! Redaction for reports that leave the building (`--redact`): MAC addresses, public IP
//! addresses, SSIDs and the hostname become stable placeholders.
//!
//! Works on the report as JSON (so every field, evidence included, is covered and every
//! format rendered from the result is redacted alike), but field by field, by what each
//! field is: code and enum fields (`code`, `status`, `layer`, …) are never rewritten, so a
//! host named `gateway` or `dns` cannot change `"gateway.unreachable"`. Placeholders are
//! valid values of their types, so the redacted report reads back into the same typed
//! evidence (its details lines and charts stay), and recognisable as placeholders:
//!
//! - MACs: the documentation block `00:00:5e:00:53:00`–`ff` (RFC 7042 §2.1.2), in order of
//!   first appearance; beyond 256 distinct MACs, the locally administered block
//!   `02:00:5e:10:00:00`–`02:00:5e:10:ff:ff`.
//! - Public IPv4: 192.0.2.0/24, 198.51.100.0/24, 203.0.113.0/24 (RFC 5737).
//! - Public IPv6: `2001:db8:ffff:N::/64` per distinct /64 (RFC 3849).
//! - IPv6 interface identifiers derived from a MAC (EUI-64, `…ff:fe…`), and any address
//!   holding a known MAC's bytes: those bytes are rebuilt from the MAC's placeholder, so
//!   `fe80::486d:c9ff:fe8a:267e` of `4a:6d:c9:8a:26:7e` becomes `fe80::200:5eff:fe00:5300`
//!   when that MAC is `00:00:5e:00:53:00`.
//! - The hostname and SSIDs stay text placeholders (`host-1`, `ssid-1`), and so does the
//!   name of every proxy a request went through (`via.proxy`, and the proxies a PAC names,
//!   `proxy_tests[].proxy`): `http://proxy.corp.example:3128` becomes `http://proxy-1:3128`
//!   there and wherever else the report names it (the discovery evidence, messages). A
//!   proxy given by its address follows the address rules above.
//! - The switch this interface is plugged into (LLDP/CDP neighbours, the report's
//!   `neighbour` line): names, chassis ids and descriptions become `switch-1`, ports
//!   `port-1`, IPv4 management addresses, private ones too, documentation addresses (IPv6
//!   ones as every IPv6 address above); switch names are also replaced inside free text
//!   (finding messages).
//! - The service profiles' share paths (`share`: `\\\\server\\share` becomes `share-1`) and
//!   printer names (`printer_name`: `printer-1`), also inside free text.
//! - URL query strings and fragments (a portal's parameters, tokens) become `?query-1`,
//!   `#fragment-1`, keeping scheme, host and path; user information in a URL is removed,
//!   and [`strip_credentials`] does that to every report, redacted or not.
//!
//! The same value gets the same placeholder throughout one report, so a technician can
//! still see that two findings name the same device. Private, link-local, loopback, shared
//! (100.64/10), benchmarking (198.18/15) and documentation addresses are kept (their
//! EUI-64 identifiers aside): they identify nothing outside the site. Placeholders never
//! collide with an address kept from the report.
//!
//! Redaction fails closed: [`redact`] returns a [`RedactError`] when the result does not
//! read back with the same typed evidence and codes, or when anything identifying survives
//! it; the caller ([`crate::app`]) then writes nothing.

use std::collections::{HashMap, HashSet};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use serde_json::Value;

use crate::report::{CheckId, Evidence, Report};

/// Why a report could not be redacted. Nothing is written when this happens.
#[derive(Debug, thiserror::Error)]
pub enum RedactError {
    /// The report could not be turned into JSON to be redacted.
    #[error("redacting the report: cannot serialise it: {0}")]
    Serialise(#[source] serde_json::Error),
    /// More distinct values of one kind than its placeholder blocks hold.
    #[error("redacting the report: more than {limit} distinct {kind} values to replace")]
    TooMany {
        /// What ran out (`MAC`, `IPv4`, `IPv6`).
        kind: &'static str,
        /// How many placeholders that kind has.
        limit: usize,
    },
    /// The redacted report does not read back as a report.
    #[error("redacting the report: the result does not read back: {0}")]
    ReadBack(#[source] serde_json::Error),
    /// A check's evidence lost its type through redaction.
    #[error("redacting the report: the {check} check's evidence lost its type")]
    Untyped {
        /// The check.
        check: CheckId,
    },
    /// Redaction changed a code, status or layer.
    #[error("redacting the report: it changed the {what}")]
    Changed {
        /// Which part (`diagnosis`, `checks`).
        what: &'static str,
    },
    /// Something identifying survived redaction.
    #[error("redacting the report: a {what} survived it")]
    Leak {
        /// What kind of value (`MAC`, `public address`, `hostname`).
        what: &'static str,
    },
}

/// Fields whose values are codes or enum names: never rewritten.
const CODE_KEYS: &[&str] = &["code", "root_cause", "reason_code", "severity", "status", "layer", "id", "blocked_by"];

/// Other enum-valued fields: only addresses (which no enum value holds) are replaced in
/// them, never the hostname or an SSID.
const ENUM_KEYS: &[&str] = &[
    "kind",
    "outcome",
    "verdict",
    "scope",
    "link_type",
    "oper_state",
    "duplex",
    "selected_by",
    "iftype",
    "band",
    "bands",
    "supported_bands",
    "record_type",
    "protocol",
    "client",
    "state",
    "rcode",
];

/// Keys whose values name something of a service profile, with their placeholder's kind.
const NAMED_KEYS: [(&str, &str); 2] = [("share", "share"), ("printer_name", "printer")];

/// What a string field is, from its key.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Field {
    /// A code or enum name: left alone.
    Code,
    /// An enum name: addresses only.
    Enum,
    /// An SSID: a text placeholder.
    Ssid,
    /// The hostname: a text placeholder.
    Hostname,
    /// A switch's name, chassis id or description (LLDP/CDP): a text placeholder.
    Switch,
    /// A switch port's id or description: a text placeholder.
    SwitchPort,
    /// A switch's management address: a documentation address, private or not.
    SwitchAddress,
    /// A named thing of a service profile (a share path, a printer name): a text
    /// placeholder of its kind, also replaced in free text.
    Named(&'static str),
    /// Anything else: addresses, the hostname and known SSIDs inside the text.
    Text,
}

fn field(key: Option<&str>) -> Field {
    match key {
        Some(k) if CODE_KEYS.contains(&k) => Field::Code,
        Some(k) if ENUM_KEYS.contains(&k) => Field::Enum,
        Some("ssid") => Field::Ssid,
        Some("hostname") => Field::Hostname,
        Some(
            "system_name" | "switch" | "chassis_id" | "system_description" | "platform" | "serial_number" | "asset_id",
        ) => Field::Switch,
        Some("port_id" | "port_description" | "port") => Field::SwitchPort,
        Some("management_addresses" | "management_address") => Field::SwitchAddress,
        Some(k) => NAMED_KEYS.iter().find(|(key, _)| *key == k).map_or(Field::Text, |(_, kind)| Field::Named(kind)),
        _ => Field::Text,
    }
}

/// Returns a redacted copy of `report`, or an error when it cannot be redacted safely
/// (never the unredacted report).
pub fn redact(report: &Report) -> Result<Report, RedactError> {
    let mut value = serde_json::to_value(report).map_err(RedactError::Serialise)?;
    let mut r = Redactor::default();
    let hostname = report.host.hostname.trim();
    if hostname.len() >= 2 && hostname != "unknown" {
        r.hostname = Some(hostname.to_ascii_lowercase());
    }
    r.interface = report.interface.clone();
    r.survey(&value, None);
    r.walk(&mut value, None)?;
    let mut out: Report = serde_json::from_value(value).map_err(RedactError::ReadBack)?;
    out.redacted = true;
    verify(report, &out, &r)?;
    Ok(out)
}

/// Returns `report` with the user information (`user:password@`) of every URL in every
/// string removed: proxy and URL credentials are never kept in a report, with or without
/// `--redact` ([`crate::app`] applies this to every live report). Fails closed like
/// [`redact`] when the result does not read back with the same typed evidence and codes.
pub fn strip_credentials(report: &Report) -> Result<Report, RedactError> {
    let json = serde_json::to_string(report).map_err(RedactError::Serialise)?;
    let scrubbed = crate::check::web::scrub_credentials(&json);
    if scrubbed == json {
        return Ok(report.clone());
    }
    let out: Report = serde_json::from_str(&scrubbed).map_err(RedactError::ReadBack)?;
    verify_typed(report, &out)?;
    Ok(out)
}

/// The fail-closed checks: same typed evidence, same codes, nothing identifying left.
fn verify(before: &Report, after: &Report, r: &Redactor) -> Result<(), RedactError> {
    verify_typed(before, after)?;
    let value = serde_json::to_value(after).map_err(RedactError::Serialise)?;
    r.check_clean(&value, None)
}

/// Same checks, same typed evidence, same codes and diagnosis.
fn verify_typed(before: &Report, after: &Report) -> Result<(), RedactError> {
    if before.checks.len() != after.checks.len() {
        return Err(RedactError::Changed { what: "checks" });
    }
    for (b, a) in before.checks.iter().zip(&after.checks) {
        let untyped = |e: &Evidence| matches!(e.known(), Evidence::Other(_));
        if std::mem::discriminant(b.evidence.known()) != std::mem::discriminant(a.evidence.known())
            || (!untyped(&b.evidence) && untyped(&a.evidence))
        {
            return Err(RedactError::Untyped { check: b.id });
        }
        let codes = |c: &crate::report::CheckResult| {
            (c.id, c.status, c.blocked_by, c.reason_code.clone(), findings(&c.findings))
        };
        if codes(b) != codes(a) {
            return Err(RedactError::Changed { what: "checks" });
        }
    }
    let (bd, ad) = (&before.diagnosis, &after.diagnosis);
    let root = |d: &crate::report::Diagnosis| d.root_cause.as_ref().map(|r| (r.code, r.layer));
    if (bd.status, root(bd), findings(&bd.findings)) != (ad.status, root(ad), findings(&ad.findings)) {
        return Err(RedactError::Changed { what: "diagnosis" });
    }
    Ok(())
}

fn findings(f: &[crate::report::Finding]) -> Vec<(crate::report::Code, crate::report::Severity, CheckId)> {
    f.iter().map(|f| (f.code, f.severity, f.layer)).collect()
}

type Mac = [u8; 6];

#[derive(Default)]
struct Redactor {
    /// The hostname, lower case, when it is worth replacing.
    hostname: Option<String>,
    /// SSIDs seen in `ssid` fields, to replace in free text too.
    ssids: Vec<String>,
    /// Host names (lower case) of the proxies in `proxy` fields, to replace everywhere.
    proxy_hosts: Vec<String>,
    /// Switch names seen in LLDP/CDP fields, to replace in free text too.
    switches: Vec<String>,
    /// Switch ports seen in LLDP/CDP fields (not the interface's own name), likewise.
    ports: Vec<String>,
    /// The service profiles' named things ([`NAMED_KEYS`]): kind and value, likewise.
    named: Vec<(&'static str, String)>,
    /// The interface under test (a port id equal to it is not replaced in free text).
    interface: Option<String>,
    /// Unicast MACs in the report (colon or dash form).
    known_macs: Vec<Mac>,
    /// Addresses the report holds and keeps: placeholders avoid them.
    reserved: HashSet<IpAddr>,
    macs: HashMap<Mac, Mac>,
    placeholder_macs: HashSet<Mac>,
    v4: HashMap<Ipv4Addr, Ipv4Addr>,
    v4_next: usize,
    v6: HashMap<Ipv6Addr, Ipv6Addr>,
    v6_prefixes: HashMap<[u8; 8], u16>,
    v6_iids: u64,
    text: HashMap<(&'static str, String), String>,
    text_counts: HashMap<&'static str, usize>,
}

/// Public IPv4 placeholders: hosts 1-254 of the three RFC 5737 blocks.
const V4_BLOCKS: [[u8; 3]; 3] = [[192, 0, 2], [198, 51, 100], [203, 0, 113]];
const V4_LIMIT: usize = 3 * 254;
/// The RFC 7042 documentation block's first five octets.
const MAC_DOC: [u8; 5] = [0x00, 0x00, 0x5e, 0x00, 0x53];
/// The locally administered fallback block's first four octets.
const MAC_FALLBACK: [u8; 4] = [0x02, 0x00, 0x5e, 0x10];
const MAC_LIMIT: usize = 256 + 65536;

impl Redactor {
    /// First pass: collects what the report holds (MACs, kept addresses, SSIDs) so that
    /// placeholders avoid kept values and free text is redacted like the fields.
    fn survey(&mut self, v: &Value, key: Option<&str>) {
        match v {
            Value::String(s) => {
                let f = field(key);
                if f == Field::Code {
                    return;
                }
                if f == Field::Ssid && s.chars().count() >= 3 && !self.ssids.contains(s) {
                    self.ssids.push(s.clone());
                }
                if key == Some("proxy")
                    && let Some(host) = proxy_host_name(s)
                    && !self.proxy_hosts.contains(&host)
                {
                    self.proxy_hosts.push(host);
                }
                if matches!(key, Some("system_name" | "switch")) && s.chars().count() >= 3 && !self.switches.contains(s)
                {
                    self.switches.push(s.clone());
                }
                if let Field::Named(kind) = f
                    && s.chars().count() >= 3
                    && !self.named.iter().any(|(_, v)| v == s)
                {
                    self.named.push((kind, s.clone()));
                }
                if f == Field::SwitchPort
                    && s.chars().count() >= 3
                    && self.interface.as_deref() != Some(s.as_str())
                    && !self.ports.contains(s)
                {
                    self.ports.push(s.clone());
                }
                for token in tokens(s) {
                    match token {
                        Token::Mac(m) if is_unicast(m) && !self.known_macs.contains(&m) => self.known_macs.push(m),
                        Token::Ip(ip) if !is_public(ip) => {
                            self.reserved.insert(ip);
                        }
                        _ => {}
                    }
                }
            }
            Value::Array(items) => items.iter().for_each(|i| self.survey(i, key)),
            Value::Object(map) => map.iter().for_each(|(k, i)| self.survey(i, Some(k))),
            _ => {}
        }
    }

    fn walk(&mut self, v: &mut Value, key: Option<&str>) -> Result<(), RedactError> {
        match v {
            Value::String(s) => {
                *s = match field(key) {
                    Field::Code => return Ok(()),
                    Field::Enum => self.addresses(s)?,
                    Field::Ssid => self.text_placeholder("ssid", s),
                    Field::Switch => self.text_placeholder("switch", s),
                    Field::Named(kind) => self.text_placeholder(kind, s),
                    Field::SwitchPort => self.text_placeholder("port", s),
                    Field::SwitchAddress => match s.parse::<IpAddr>() {
                        Ok(IpAddr::V4(v4)) => self.v4(v4)?.to_string(),
                        Ok(IpAddr::V6(v6)) => self.v6(v6)?.to_string(),
                        Err(_) => self.text_placeholder("address", s),
                    },
                    Field::Hostname if self.hostname.is_some() => self.text_placeholder("host", s),
                    Field::Hostname | Field::Text => {
                        let s = self.url_parts(s);
                        let s = self.addresses(&s)?;
                        self.names(&s)
                    }
                };
            }
            Value::Array(items) => {
                for i in items {
                    self.walk(i, key)?;
                }
            }
            Value::Object(map) => {
                let old = std::mem::take(map);
                for (k, mut item) in old {
                    self.walk(&mut item, Some(&k))?;
                    // Keys are field names or (in maps) values: addresses only.
                    map.insert(self.addresses(&k)?, item);
                }
            }
            _ => {}
        }
        Ok(())
    }

    fn text_placeholder(&mut self, kind: &'static str, value: &str) -> String {
        let key = (kind, value.to_lowercase());
        if let Some(p) = self.text.get(&key) {
            return p.clone();
        }
        let n = self.text_counts.entry(kind).or_default();
        *n += 1;
        let p = format!("{kind}-{n}");
        self.text.insert(key, p.clone());
        p
    }

    /// Replaces the query string and the fragment of every URL inside `s` with stable
    /// placeholders (`?query-1`, `#fragment-1`), keeping scheme, host and path: a portal's
    /// URL carries the client's MAC, address and session tokens in its parameters, a
    /// target's URL may carry an API key. The user information is removed outright.
    fn url_parts(&mut self, s: &str) -> String {
        if !s.contains("://") {
            return s.to_string();
        }
        let s = crate::check::web::scrub_credentials(s);
        let mut out = String::with_capacity(s.len());
        let mut rest = s.as_str();
        while let Some(i) = rest.find("://") {
            let (head, tail) = rest.split_at(i + 3);
            out.push_str(head);
            let end = url_end(tail);
            let url = &tail[..end];
            let (before_fragment, fragment) = match url.split_once('#') {
                Some((b, f)) => (b, Some(f)),
                None => (url, None),
            };
            let (path, query) = match before_fragment.split_once('?') {
                Some((p, q)) => (p, Some(q)),
                None => (before_fragment, None),
            };
            out.push_str(path);
            if let Some(q) = query.filter(|q| !q.is_empty()) {
                out.push('?');
                out.push_str(&self.text_placeholder("query", q));
            }
            if let Some(f) = fragment.filter(|f| !f.is_empty()) {
                out.push('#');
                out.push_str(&self.text_placeholder("fragment", f));
            }
            rest = &tail[end..];
        }
        out.push_str(rest);
        out
    }

    /// Replaces MACs and addresses inside `s` (keeping the text around them).
    fn addresses(&mut self, s: &str) -> Result<String, RedactError> {
        let mut out = String::with_capacity(s.len());
        for piece in pieces(s) {
            match piece {
                Piece::Other(text) => out.push_str(text),
                Piece::Token { token, text, tail } => {
                    match token {
                        Token::Mac(m) => {
                            let p = self.mac(m)?;
                            // Keep the separator the text used.
                            out.push_str(&format_mac(p, if text.contains('-') { '-' } else { ':' }));
                        }
                        Token::Ip(ip) => out.push_str(&self.ip(ip)?.to_string()),
                        Token::IpPort(ip, port) => out.push_str(&format!("{}:{port}", self.ip(IpAddr::V4(ip))?)),
                        Token::None => out.push_str(text),
                    }
                    out.push_str(tail);
                }
            }
        }
        // Known MACs in any other spelling (bare hex, Cisco dotted, inside longer runs).
        for real in self.known_macs.clone() {
            let p = self.mac(real)?;
            for (from, to) in mac_spellings(real).into_iter().zip(mac_spellings(p)) {
                out = replace_ci(&out, &from, &to);
            }
        }
        Ok(out)
    }

    /// Replaces the hostname (as a whole name, or the first label of a dotted name) and
    /// known SSIDs inside free text.
    fn names(&mut self, s: &str) -> String {
        let mut out = s.to_string();
        if let Some(host) = self.hostname.clone() {
            let placeholder = self.text_placeholder("host", &host);
            out = replace_names(&out, &host, &placeholder);
        }
        for host in self.proxy_hosts.clone() {
            if out.to_ascii_lowercase().contains(&host) {
                let placeholder = self.text_placeholder("proxy", &host);
                out = replace_names(&out, &host, &placeholder);
            }
        }
        for ssid in self.ssids.clone() {
            if out.contains(&ssid) {
                let p = self.text_placeholder("ssid", &ssid);
                out = out.replace(&ssid, &p);
            }
        }
        for switch in self.switches.clone() {
            if out.contains(&switch) {
                let p = self.text_placeholder("switch", &switch);
                out = out.replace(&switch, &p);
            }
        }
        for port in self.ports.clone() {
            if out.contains(&port) {
                let p = self.text_placeholder("port", &port);
                out = out.replace(&port, &p);
            }
        }
        for (kind, value) in self.named.clone() {
            if out.contains(&value) {
                let p = self.text_placeholder(kind, &value);
                out = out.replace(&value, &p);
            }
        }
        out
    }

    fn mac(&mut self, m: Mac) -> Result<Mac, RedactError> {
        if !is_unicast(m) {
            return Ok(m);
        }
        if let Some(p) = self.macs.get(&m) {
            return Ok(*p);
        }
        let n = self.macs.len();
        let p = if n < 256 {
            let [a, b, c, d, e] = MAC_DOC;
            [a, b, c, d, e, n as u8]
        } else if n < MAC_LIMIT {
            let [a, b, c, d] = MAC_FALLBACK;
            let k = (n - 256) as u16;
            [a, b, c, d, (k >> 8) as u8, k as u8]
        } else {
            return Err(RedactError::TooMany { kind: "MAC", limit: MAC_LIMIT });
        };
        self.macs.insert(m, p);
        self.placeholder_macs.insert(p);
        if !self.known_macs.contains(&m) {
            self.known_macs.push(m);
        }
        Ok(p)
    }

    fn ip(&mut self, ip: IpAddr) -> Result<IpAddr, RedactError> {
        Ok(match ip {
            IpAddr::V4(v4) if is_public_v4(v4) => IpAddr::V4(self.v4(v4)?),
            IpAddr::V4(v4) => IpAddr::V4(v4),
            IpAddr::V6(v6) => IpAddr::V6(self.v6(v6)?),
        })
    }

    fn v4(&mut self, ip: Ipv4Addr) -> Result<Ipv4Addr, RedactError> {
        if let Some(p) = self.v4.get(&ip) {
            return Ok(*p);
        }
        loop {
            if self.v4_next >= V4_LIMIT {
                return Err(RedactError::TooMany { kind: "IPv4", limit: V4_LIMIT });
            }
            let [a, b, c] = V4_BLOCKS[self.v4_next / 254];
            let p = Ipv4Addr::new(a, b, c, (self.v4_next % 254) as u8 + 1);
            self.v4_next += 1;
            if !self.reserved.contains(&IpAddr::V4(p)) {
                self.v4.insert(ip, p);
                return Ok(p);
            }
        }
    }

    fn v6(&mut self, ip: Ipv6Addr) -> Result<Ipv6Addr, RedactError> {
        if let Some(p) = self.v6.get(&ip) {
            return Ok(*p);
        }
        if let Some(v4) = ip.to_ipv4_mapped() {
            return Ok(self.v4(v4)?.to_ipv6_mapped());
        }
        let mut o = ip.octets();
        let mut iid_from_mac = false;
        // EUI-64: the interface identifier is a MAC with ff:fe in the middle.
        if o[11] == 0xff && o[12] == 0xfe {
            let real = [o[8] ^ 0x02, o[9], o[10], o[13], o[14], o[15]];
            if is_unicast(real) {
                let p = self.mac(real)?;
                o[8] = p[0] ^ 0x02;
                o[9..11].copy_from_slice(&p[1..3]);
                o[13..16].copy_from_slice(&p[3..6]);
                iid_from_mac = true;
            }
        }
        // Any known MAC's six bytes elsewhere in the address (as is or U/L-flipped).
        for real in self.known_macs.clone() {
            let p = self.mac(real)?;
            for flip in [0u8, 0x02] {
                let want = [real[0] ^ flip, real[1], real[2], real[3], real[4], real[5]];
                for start in 0..=10 {
                    if o[start..start + 6] == want {
                        o[start..start + 6].copy_from_slice(&[p[0] ^ flip, p[1], p[2], p[3], p[4], p[5]]);
                        if start >= 8 {
                            iid_from_mac = true;
                        }
                    }
                }
            }
        }
        if is_public_v6(ip) {
            let prefix: [u8; 8] = o[..8].try_into().unwrap_or_default();
            let n = match self.v6_prefixes.get(&prefix) {
                Some(n) => *n,
                None => {
                    let used: HashSet<u16> = self
                        .reserved
                        .iter()
                        .filter_map(|a| match a {
                            IpAddr::V6(v6) if v6.segments()[..3] == [0x2001, 0x0db8, 0xffff] => Some(v6.segments()[3]),
                            _ => None,
                        })
                        .chain(self.v6_prefixes.values().copied())
                        .collect();
                    let n = (1..=u16::MAX)
                        .find(|n| !used.contains(n))
                        .ok_or(RedactError::TooMany { kind: "IPv6", limit: usize::from(u16::MAX) })?;
                    self.v6_prefixes.insert(prefix, n);
                    n
                }
            };
            o[..8].copy_from_slice(&[0x20, 0x01, 0x0d, 0xb8, 0xff, 0xff, (n >> 8) as u8, n as u8]);
            if !iid_from_mac {
                self.v6_iids += 1;
                o[8..].copy_from_slice(&self.v6_iids.to_be_bytes());
            }
        }
        let p = Ipv6Addr::from(o);
        self.v6.insert(ip, p);
        Ok(p)
    }

    /// The independent last check over the redacted report: every unicast MAC is a
    /// placeholder, no public address and no EUI-64 of a real MAC is left, no known MAC in
    /// any spelling, and not the hostname outside code fields.
    fn check_clean(&self, v: &Value, key: Option<&str>) -> Result<(), RedactError> {
        match v {
            Value::String(s) => {
                let f = field(key);
                if f == Field::Code {
                    return Ok(());
                }
                self.check_text(s)?;
                if f != Field::Enum && url_part_survived(s) {
                    return Err(RedactError::Leak { what: "URL query, fragment or user information" });
                }
                if f != Field::Enum
                    && let Some(host) = &self.hostname
                    && replace_names(s, host, "") != *s
                {
                    return Err(RedactError::Leak { what: "hostname" });
                }
                if f != Field::Enum && self.proxy_hosts.iter().any(|h| replace_names(s, h, "") != *s) {
                    return Err(RedactError::Leak { what: "proxy name" });
                }
            }
            Value::Array(items) => {
                for i in items {
                    self.check_clean(i, key)?;
                }
            }
            Value::Object(map) => {
                for (k, i) in map {
                    self.check_text(k)?;
                    self.check_clean(i, Some(k))?;
                }
            }
            _ => {}
        }
        Ok(())
    }

    fn check_text(&self, s: &str) -> Result<(), RedactError> {
        let mac_ok = |m: Mac| !is_unicast(m) || self.placeholder_macs.contains(&m);
        for token in tokens(s) {
            match token {
                Token::Mac(m) if !mac_ok(m) => return Err(RedactError::Leak { what: "MAC" }),
                Token::Ip(ip) if is_public(ip) => return Err(RedactError::Leak { what: "public address" }),
                Token::IpPort(ip, _) if is_public_v4(ip) => {
                    return Err(RedactError::Leak { what: "public address" });
                }
                Token::Ip(IpAddr::V6(v6)) => {
                    let o = v6.octets();
                    if o[11] == 0xff && o[12] == 0xfe && !mac_ok([o[8] ^ 0x02, o[9], o[10], o[13], o[14], o[15]]) {
                        return Err(RedactError::Leak { what: "MAC" });
                    }
                }
                _ => {}
            }
        }
        let lower = s.to_ascii_lowercase();
        for real in self.known_macs.iter().filter(|m| !self.placeholder_macs.contains(*m)) {
            if mac_spellings(*real).iter().any(|form| lower.contains(form.as_str())) {
                return Err(RedactError::Leak { what: "MAC" });
            }
        }
        Ok(())
    }
}

/// Where the URL that `tail` (the text after `://`) starts with ends: at white space, a
/// quote or an angle bracket, less trailing punctuation of the sentence around it
/// (`URL: message`, `(URL)`, `URL.`).
fn url_end(tail: &str) -> usize {
    let end = tail.find(|c: char| "<>\"'`".contains(c) || c.is_whitespace()).unwrap_or(tail.len());
    tail[..end].trim_end_matches([':', ',', '.', ';', ')', ']', '!']).len()
}

/// Whether a URL inside `s` still has user information, or a query or fragment that is
/// not a placeholder of [`Redactor::url_parts`].
fn url_part_survived(s: &str) -> bool {
    let placeholder = |text: &str, kind: &str| {
        text.strip_prefix(kind).and_then(|n| n.strip_prefix('-')).is_some_and(|n| n.parse::<u64>().is_ok())
    };
    let mut rest = s;
    while let Some(i) = rest.find("://") {
        let tail = &rest[i + 3..];
        let end = url_end(tail);
        let url = &tail[..end];
        let authority_end = url.find(['/', '?', '#']).unwrap_or(url.len());
        if url[..authority_end].contains('@') {
            return true;
        }
        let (before_fragment, fragment) = url.split_once('#').map_or((url, None), |(b, f)| (b, Some(f)));
        let query = before_fragment.split_once('?').map(|(_, q)| q);
        if query.is_some_and(|q| !q.is_empty() && !placeholder(q, "query"))
            || fragment.is_some_and(|f| !f.is_empty() && !placeholder(f, "fragment"))
        {
            return true;
        }
        rest = &tail[end..];
    }
    false
}

/// A recognised run of address characters.
#[derive(Clone, Copy)]
enum Token {
    Mac(Mac),
    Ip(IpAddr),
    IpPort(Ipv4Addr, u16),
    None,
}

enum Piece<'a> {
    Other(&'a str),
    /// `text` is the token as written, `tail` the trailing dots/colons that are not part of it.
    Token {
        token: Token,
        text: &'a str,
        tail: &'a str,
    },
}

/// Splits `s` into runs of address characters (hex digits, `:`, `.`, and `-` inside a
/// dashed MAC) and everything else.
fn pieces(s: &str) -> Vec<Piece<'_>> {
    let bytes = s.as_bytes();
    let addr_char = |b: u8| b.is_ascii_hexdigit() || b == b':' || b == b'.';
    let mut out = Vec::new();
    let (mut i, mut other) = (0, 0);
    while i < bytes.len() {
        let boundary = i == 0 || !(bytes[i - 1].is_ascii_alphanumeric() || bytes[i - 1] == b'-');
        // A dashed MAC (aa-bb-cc-dd-ee-ff) standing alone.
        if boundary
            && let Some(m) = s.get(i..i + 17).and_then(|t| parse_mac(t, '-'))
            && !bytes.get(i + 17).is_some_and(|b| b.is_ascii_alphanumeric() || *b == b'-')
        {
            if other < i {
                out.push(Piece::Other(&s[other..i]));
            }
            out.push(Piece::Token { token: Token::Mac(m), text: &s[i..i + 17], tail: "" });
            i += 17;
            other = i;
            continue;
        }
        if addr_char(bytes[i]) {
            let start = i;
            while i < bytes.len() && addr_char(bytes[i]) {
                i += 1;
            }
            if other < start {
                out.push(Piece::Other(&s[other..start]));
            }
            let run = &s[start..i];
            // Trailing dots and colons are punctuation, unless they end an address (an
            // IPv6 prefix such as `2001:db8:1::`).
            let text = if matches!(classify(run), Token::Ip(_)) { run } else { run.trim_end_matches(['.', ':']) };
            let tail = &run[text.len()..];
            out.push(Piece::Token { token: classify(text), text, tail });
            other = i;
        } else {
            // Step over a whole UTF-8 character.
            i += s[i..].chars().next().map_or(1, char::len_utf8);
        }
    }
    if other < bytes.len() {
        out.push(Piece::Other(&s[other..]));
    }
    out
}

fn tokens(s: &str) -> impl Iterator<Item = Token> + '_ {
    pieces(s).into_iter().filter_map(|p| match p {
        Piece::Token { token, .. } => Some(token),
        Piece::Other(_) => None,
    })
}

fn classify(text: &str) -> Token {
    if let Some(m) = parse_mac(text, ':') {
        return Token::Mac(m);
    }
    if let Ok(ip) = text.parse::<IpAddr>() {
        return Token::Ip(ip);
    }
    if let Some((host, port)) = text.rsplit_once(':')
        && let Ok(ip) = host.parse::<Ipv4Addr>()
        && let Ok(port) = port.parse::<u16>()
    {
        return Token::IpPort(ip, port);
    }
    Token::None
}

fn parse_mac(s: &str, sep: char) -> Option<Mac> {
    let mut m = [0u8; 6];
    let mut parts = s.split(sep);
    for byte in &mut m {
        let p = parts.next()?;
        if p.len() != 2 {
            return None;
        }
        *byte = u8::from_str_radix(p, 16).ok()?;
    }
    parts.next().is_none().then_some(m)
}

/// Neither multicast/broadcast nor all zeros: a MAC that names one device.
fn is_unicast(m: Mac) -> bool {
    m[0] & 0x01 == 0 && m != [0; 6]
}

fn format_mac(m: Mac, sep: char) -> String {
    m.iter().map(|b| format!("{b:02x}")).collect::<Vec<_>>().join(&sep.to_string())
}

/// Lower-case spellings of a MAC: colon, dash, bare hex and Cisco dotted.
fn mac_spellings(m: Mac) -> [String; 4] {
    let bare: String = m.iter().map(|b| format!("{b:02x}")).collect();
    let cisco = format!("{}.{}.{}", &bare[0..4], &bare[4..8], &bare[8..12]);
    [format_mac(m, ':'), format_mac(m, '-'), bare, cisco]
}

/// The host of a proxy URL (`http://proxy.corp.example:3128`) when it is a name, lower
/// case; `None` for an address (the address rules apply to it) or anything else.
fn proxy_host_name(url: &str) -> Option<String> {
    let rest = url.split_once("://").map_or(url, |(_, r)| r);
    let authority = rest.split(['/', '?', '#']).next()?;
    let host_port = authority.rsplit('@').next()?;
    if host_port.starts_with('[') {
        return None;
    }
    let host = host_port.split(':').next()?.trim_end_matches('.').to_ascii_lowercase();
    let is_name = !host.is_empty()
        && host.parse::<IpAddr>().is_err()
        && host.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_'))
        && host.chars().any(|c| c.is_ascii_alphabetic());
    is_name.then_some(host)
}

/// Replaces every ASCII-case-insensitive occurrence of `from` (lower case) in `s`.
fn replace_ci(s: &str, from: &str, to: &str) -> String {
    let lower = s.to_ascii_lowercase();
    if !lower.contains(from) {
        return s.to_string();
    }
    let mut out = String::with_capacity(s.len());
    let mut last = 0;
    for (i, _) in lower.match_indices(from) {
        if i >= last {
            out.push_str(&s[last..i]);
            out.push_str(to);
            last = i + from.len();
        }
    }
    out.push_str(&s[last..]);
    out
}

/// Replaces `host` (lower case) where it stands as a whole name in `s`: bounded by
/// characters that cannot be part of a host name, or followed by a dot and a domain.
fn replace_names(s: &str, host: &str, placeholder: &str) -> String {
    let name_char = |c: char| c.is_ascii_alphanumeric() || c == '-' || c == '_';
    let lower = s.to_ascii_lowercase();
    let mut out = String::with_capacity(s.len());
    let mut last = 0;
    for (i, _) in lower.match_indices(host) {
        let end = i + host.len();
        let before_ok = i == 0 || !lower[..i].ends_with(|c: char| name_char(c) || c == '.');
        let after_ok = !lower[end..].starts_with(name_char);
        if i >= last && before_ok && after_ok {
            out.push_str(&s[last..i]);
            out.push_str(placeholder);
            last = end;
        }
    }
    out.push_str(&s[last..]);
    out
}

/// Whether an address is globally routable (and so identifies a site or a person).
pub fn is_public(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => is_public_v4(v4),
        IpAddr::V6(v6) => is_public_v6(v6),
    }
}

fn is_public_v4(ip: Ipv4Addr) -> bool {
    let o = ip.octets();
    !(ip.is_private()
        || ip.is_loopback()
        || ip.is_link_local()
        || ip.is_broadcast()
        || ip.is_unspecified()
        || ip.is_multicast()
        || ip.is_documentation()
        || o[0] == 0
        || (o[0] == 100 && (o[1] & 0xc0) == 64)
        || (o[0] == 198 && (o[1] & 0xfe) == 18)
        || o[0] >= 240)
}

fn is_public_v6(ip: Ipv6Addr) -> bool {
    let s = ip.segments();
    if let Some(v4) = ip.to_ipv4_mapped() {
        return is_public_v4(v4);
    }
    // Global unicast is 2000::/3; 2001:db8::/32 is documentation.
    (s[0] & 0xe000) == 0x2000 && !(s[0] == 0x2001 && s[1] == 0x0db8)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::check::ports::PortOutcome;
    use crate::report::*;

    fn other_report(evidence: Value, hostname: &str, message: &str) -> Report {
        Report {
            schema_version: SCHEMA_VERSION.into(),
            id: None,
            tool: ToolInfo { name: "nettriage".into(), version: "0".into() },
            started_at: "2026-11-24T07:00:00.000Z".parse().unwrap(),
            duration_ms: 1,
            host: HostInfo { hostname: hostname.into() },
            interface: Some("eth0".into()),
            neighbour: None,
            privileged: true,
            privileges: None,
            redacted: false,
            capture: None,
            diagnosis: Diagnosis {
                status: RunStatus::Broken,
                root_cause: Some(RootCause {
                    code: Code::GatewayUnreachable,
                    layer: CheckId::Gateway,
                    summary: format!("{hostname} cannot reach the router"),
                    next_steps: vec![],
                }),
                findings: vec![Finding {
                    code: Code::GatewayUnreachable,
                    severity: Severity::Fail,
                    layer: CheckId::Gateway,
                    message: message.into(),
                }],
            },
            checks: vec![CheckResult {
                id: CheckId::Link,
                status: CheckStatus::Pass,
                duration_ms: 1,
                blocked_by: None,
                reason: None,
                reason_code: None,
                findings: vec![],
                evidence: Evidence::Other(evidence),
            }],
        }
    }

    fn report() -> Report {
        let evidence = serde_json::json!({
            "interface": {"name": "eth0", "mac": "46:82:98:96:A8:67"},
            "servers": [{"server": "8.8.8.8", "verdict": "ok"}, {"server": "198.18.0.1"}, {"server": "192.0.2.1"}],
            "gateways": [{"address": "192.168.1.1", "arp": {"mac": "46:82:98:96:a8:67"}}],
            "ssid": "Corp WiFi",
            "bssid": "aa:bb:cc:dd:ee:f0",
            "v6": "2a00:1450:4001:81b::200e",
            "doc6": "2001:db8::1",
        });
        other_report(
            evidence,
            "alice-laptop",
            "8.8.8.8:443 refused; seen from alice-laptop via 46:82:98:96:a8:67 on Corp WiFi.",
        )
    }

    fn mac_of(s: &str) -> Mac {
        parse_mac(s, ':').unwrap()
    }

    #[test]
    fn identifying_values_become_stable_valid_placeholders() {
        let r = redact(&report()).unwrap();
        let json = serde_json::to_string(&r).unwrap();
        for secret in
            ["alice-laptop", "46:82:98:96", "46:82:98:96:A8:67", "8.8.8.8", "Corp WiFi", "aa:bb:cc", "2a00:1450"]
        {
            assert!(!json.to_lowercase().contains(&secret.to_lowercase()), "{secret} leaked: {json}");
        }
        assert!(r.redacted);
        assert_eq!(r.host.hostname, "host-1");
        let ev = &r.checks[0].evidence.to_json();
        // The same MAC in two places (and in two cases) is the same placeholder, from the
        // documentation block.
        let mac = ev["interface"]["mac"].as_str().unwrap();
        assert_eq!(mac_of(mac)[..5], MAC_DOC);
        assert_eq!(ev["gateways"][0]["arp"]["mac"], mac);
        // 192.0.2.1 is in the report and kept, so the placeholder avoids it.
        assert_eq!(ev["servers"][0]["server"], "192.0.2.2");
        assert_eq!(ev["servers"][2]["server"], "192.0.2.1");
        assert_eq!(
            r.diagnosis.findings[0].message,
            format!("192.0.2.2:443 refused; seen from host-1 via {mac} on ssid-1.")
        );
        let v6: Ipv6Addr = ev["v6"].as_str().unwrap().parse().unwrap();
        assert_eq!(v6.segments()[..3], [0x2001, 0x0db8, 0xffff]);
        // What a technician needs and identifies nobody is kept.
        assert_eq!(ev["servers"][1]["server"], "198.18.0.1");
        assert_eq!(ev["gateways"][0]["address"], "192.168.1.1");
        assert_eq!(ev["doc6"], "2001:db8::1");
        assert_eq!(ev["ssid"], "ssid-1");
        let bssid = mac_of(ev["bssid"].as_str().unwrap());
        assert!(bssid[..5] == MAC_DOC && ev["bssid"] != mac);
    }

    #[test]
    fn eui64_and_embedded_macs_follow_the_mac_placeholder() {
        let evidence = serde_json::json!({
            "mac": "4a:6d:c9:8a:26:7e",
            "link_local": "fe80::486d:c9ff:fe8a:267e",
            "global": "2a00:1450:4001:81b:486d:c9ff:fe8a:267e",
            "embedded": "fd00::4a6d:c98a:267e",
            "other_eui64": "fe80::211:22ff:fe33:4455",
            "spellings": "4A-6D-C9-8A-26-7E 4a6dc98a267e 4a6d.c98a.267e",
        });
        let r = redact(&other_report(evidence, "unknown", "fe80::486d:c9ff:fe8a:267e%eth0 did not answer")).unwrap();
        let ev = r.checks[0].evidence.to_json();
        assert_eq!(ev["mac"], "00:00:5e:00:53:00");
        assert_eq!(ev["link_local"], "fe80::200:5eff:fe00:5300");
        assert_eq!(ev["global"], "2001:db8:ffff:1:200:5eff:fe00:5300");
        assert_eq!(ev["embedded"], "fd00::5e00:5300");
        // An EUI-64 of a MAC seen nowhere else gets a MAC placeholder of its own.
        assert_eq!(ev["other_eui64"], "fe80::200:5eff:fe00:5301");
        assert_eq!(ev["spellings"], "00-00-5e-00-53-00 00005e005300 0000.5e00.5300");
        assert_eq!(r.diagnosis.findings[0].message, "fe80::200:5eff:fe00:5300%eth0 did not answer");
    }

    /// A report with typed evidence for every layer, holding MACs and public addresses.
    fn typed_report(hostname: &str) -> Report {
        use crate::report::fixtures;
        let check = |id, evidence| CheckResult {
            id,
            status: CheckStatus::Pass,
            duration_ms: 3,
            blocked_by: None,
            reason: None,
            reason_code: None,
            findings: vec![],
            evidence,
        };
        let scan = serde_json::json!({"status": "ran", "floor_dbm": -82, "access_points": [
            {"ssid": "Corp", "bssid": "4a:6d:c9:8a:26:7f", "freq_mhz": 5180, "channel": 36, "band": "5GHz",
             "signal_dbm": -48.0, "security": {"protocol": "wpa2"}}]});
        let checks = vec![
            check(CheckId::Link, fixtures::link("eth0", Some(1000))),
            check(CheckId::Wifi, fixtures::wifi("Corp", -48.0, scan)),
            check(CheckId::Dhcp, fixtures::dhcp("81.2.69.160", 24, Some(3000))),
            check(CheckId::Ipv6, ipv6_evidence()),
            check(CheckId::Gateway, fixtures::gateway("81.2.69.1", &[Some(0.2), None, Some(0.3)])),
            check(CheckId::Dns, fixtures::dns(&[("9.9.9.9", "ok", Some(4.0))])),
            check(CheckId::Web, web_evidence("https://www.example.com/", "1.1.1.1:443")),
            check(CheckId::Ports, fixtures::ports(&[("1.1.1.1:443", PortOutcome::Open, Some(0.4))])),
        ];
        let mut r = test_report(checks, "2026-11-24T07:00:00.000Z", 3420);
        r.host.hostname = hostname.into();
        r.diagnosis.findings.push(Finding {
            code: Code::PortsRefused,
            severity: Severity::Warn,
            layer: CheckId::Ports,
            message: format!("1.1.1.1:443 refused from {hostname}"),
        });
        r
    }

    /// A router with a MAC-derived link-local address advertising a public prefix; the
    /// client's SLAAC address in it.
    fn ipv6_evidence() -> Evidence {
        use crate::check::ipv6::{AddrKind, Ipv6Evidence, PrefixInfo, RouterAdvert, RouterPreference, V6Address};
        let router = RouterAdvert {
            source: "fe80::486d:c9ff:fe8a:2680".parse().unwrap(),
            mac: Some("4a:6d:c9:8a:26:80".parse().unwrap()),
            hop_limit: 64,
            managed: false,
            other_config: false,
            preference: RouterPreference::Medium,
            router_lifetime_s: 1800,
            reachable_time_ms: 0,
            retrans_timer_ms: 0,
            prefixes: vec![PrefixInfo {
                prefix: "2a00:1450:4001:81c::".parse().unwrap(),
                prefix_len: 64,
                on_link: true,
                autonomous: true,
                valid_lft_s: 86400,
                preferred_lft_s: 14400,
            }],
            mtu: Some(1500),
            rdnss: vec!["2a00:1450:4001:81c::53".parse().unwrap()],
            rdnss_lifetime_s: Some(600),
            dnssl: vec![],
            options_skipped: 0,
            first_ms: Some(12.0),
            count: 1,
        };
        let address = V6Address {
            address: "2a00:1450:4001:81c:486d:c9ff:fe8a:267e".parse().unwrap(),
            prefix_len: 64,
            kind: AddrKind::Slaac,
            scope: crate::platform::netlink::AddrScope::Global,
            tentative: false,
            dad_failed: false,
            valid_lft_s: Some(86400),
            preferred_lft_s: Some(14400),
        };
        Evidence::Ipv6(Box::new(Ipv6Evidence {
            interface: "eth0".into(),
            enabled: true,
            sysctl: Default::default(),
            solicitation: None,
            ra_mtu: Some(1500),
            routers: vec![router],
            kernel_ra_routes: vec![],
            addresses: vec![address],
            resolvers: vec![],
            notices: vec![],
            capture: None,
        }))
    }

    fn web_evidence(url: &str, address: &str) -> Evidence {
        use crate::check::web::{HttpHop, WebEvidence, WebProbe};
        let hop = HttpHop {
            url: url.into(),
            address: Some(address.parse().unwrap()),
            status: Some(200),
            total_ms: Some(3.0),
            ..HttpHop::default()
        };
        let probe = WebProbe { url: url.into(), hops: vec![hop], error: None, total_ms: Some(3.0) };
        Evidence::Web(Box::new(WebEvidence { connectivity: None, targets: vec![probe], ..WebEvidence::default() }))
    }

    #[test]
    fn redacted_evidence_stays_typed_for_every_layer() {
        let before = typed_report("desk-214");
        let after = redact(&before).unwrap();
        let json = serde_json::to_string(&after).unwrap();
        for secret in [
            "81.2.69",
            "9.9.9.9",
            "1.1.1.1",
            "02:00:00:00:00",
            "4a:6d:c9",
            "desk-214",
            "\"Corp\"",
            "2a00:1450",
            "486d:c9ff",
        ] {
            assert!(!json.contains(secret), "{secret} leaked: {json}");
        }
        // Read back from its JSON, as diff and history do.
        let read: Report = serde_json::from_str(&json).unwrap();
        for (b, a) in before.checks.iter().zip(&read.checks) {
            assert_eq!(std::mem::discriminant(&b.evidence), std::mem::discriminant(&a.evidence), "{}", a.id);
            assert!(!matches!(a.evidence, Evidence::Other(_) | Evidence::Extended { .. }), "{}", a.id);
            assert!(!crate::render::details(a).is_empty(), "{}: no details line", a.id);
        }
        assert_eq!(read.gateway_evidence().unwrap().gateways[0].address.to_string(), "192.0.2.2");
        assert!(read.gateway_evidence().unwrap().gateways[0].ping.is_some(), "the RTT chart keeps its data");
        assert_eq!(read.dns_evidence().unwrap().servers[0].server.to_string(), "192.0.2.3");
    }

    #[test]
    fn url_queries_fragments_and_credentials_become_placeholders_and_paths_stay() {
        use crate::check::web::{ConnectivityProbe, HttpHop, WebEvidence, WebProbe, assess};
        let check_url = "http://check.site.test/ok";
        let login = "http://198.18.1.2/login?mac=4a:6d:c9:8a:26:7e&session=s3cr3t#step2";
        let hops = vec![
            HttpHop { url: check_url.into(), status: Some(302), location: Some(login.into()), ..HttpHop::default() },
            HttpHop { url: login.into(), status: Some(200), ..HttpHop::default() },
        ];
        let probe = WebProbe { url: check_url.into(), hops, error: None, total_ms: Some(2.0) };
        let (state, portal_url) = assess(&probe, 200, None);
        let target = "https://api.example.com/v1/status?api_key=k3y";
        let mut r = typed_report("desk-214");
        let web = r.checks.iter_mut().find(|c| c.id == CheckId::Web).unwrap();
        let Evidence::Web(ev) = web_evidence(target, "1.1.1.1:443") else { unreachable!() };
        web.evidence = Evidence::Web(Box::new(WebEvidence {
            connectivity: Some(ConnectivityProbe {
                expect_status: 204,
                expect_body: None,
                body_matched: None,
                probe,
                state,
                portal_url,
            }),
            ..*ev
        }));
        r.diagnosis.findings[0].message = format!("via http://user:pa55w0rd@proxy.site.test:3128 to {login}: failed");
        let after = redact(&r).unwrap();
        let json = serde_json::to_string(&after).unwrap();
        for secret in ["s3cr3t", "k3y", "step2", "pa55w0rd", "user:", "4a:6d:c9"] {
            assert!(!json.contains(secret), "{secret} leaked: {json}");
        }
        let ev = after.web_evidence().unwrap();
        let c = ev.connectivity.as_ref().unwrap();
        // The path stays, the same query is the same placeholder everywhere.
        assert_eq!(c.portal_url.as_deref(), Some("http://198.18.1.2/login?query-1#fragment-1"));
        assert_eq!(c.probe.hops[1].url, "http://198.18.1.2/login?query-1#fragment-1");
        assert_eq!(ev.targets[0].url, "https://api.example.com/v1/status?query-2");
        assert_eq!(
            after.diagnosis.findings[0].message,
            "via http://proxy.site.test:3128 to http://198.18.1.2/login?query-1#fragment-1: failed"
        );
        // Without --redact, credentials still go (and nothing else changes).
        let stripped = strip_credentials(&r).unwrap();
        assert_eq!(
            stripped.diagnosis.findings[0].message,
            format!("via http://proxy.site.test:3128 to {login}: failed")
        );
        assert_eq!(stripped.checks, r.checks);
        assert!(url_part_survived("see http://a.test/x?y=1") && url_part_survived("http://u:p@a.test/"));
        assert!(!url_part_survived("http://a.test/x?query-3#fragment-1 and http://b.test/"));
    }

    /// `--redact` replaces the name of the proxy each request went through, in `via` and
    /// wherever else the report names it; a proxy given by a private address stays.
    #[test]
    fn the_proxy_name_in_via_becomes_a_placeholder() {
        use crate::check::web::proxy::ProxyReport;
        use crate::check::web::{HttpHop, Via, WebEvidence, WebProbe};
        use crate::platform::proxy::{ProxyEvidence, ProxySetting, ProxySource};
        let named = "http://Proxy.Corp.Example:3128";
        let via =
            |proxy: &str| Via { proxy: Some(proxy.into()), source: Some(ProxySource::Env), proxy_unreachable: false };
        let hop = |url: &str, proxy: &str| HttpHop {
            url: url.into(),
            status: Some(200),
            via: via(proxy),
            ..HttpHop::default()
        };
        let probe = |url: &str, proxy: &str| WebProbe {
            url: url.into(),
            hops: vec![hop(url, proxy)],
            error: None,
            total_ms: Some(2.0),
        };
        let mut r = typed_report("desk-214");
        let web = r.checks.iter_mut().find(|c| c.id == CheckId::Web).unwrap();
        web.evidence = Evidence::Web(Box::new(WebEvidence {
            targets: vec![probe("http://a.site.test/", named), probe("http://b.site.test/", "http://10.1.2.3:8080")],
            proxy: Some(ProxyReport {
                discovery: ProxyEvidence {
                    http: Some(ProxySetting {
                        value: "http://proxy.corp.example:3128".into(),
                        source: ProxySource::Env,
                    }),
                    ..ProxyEvidence::default()
                },
                notices: vec![],
            }),
            ..WebEvidence::default()
        }));
        r.diagnosis.findings[0].message = "the proxy http://proxy.corp.example:3128 (from env) answered 407".into();
        let after = redact(&r).unwrap();
        let json = serde_json::to_string(&after).unwrap();
        assert!(!json.to_ascii_lowercase().contains("corp.example"), "the proxy name leaked: {json}");
        let ev = after.web_evidence().unwrap();
        assert_eq!(ev.targets[0].hops[0].via.proxy.as_deref(), Some("http://proxy-1:3128"));
        assert_eq!(ev.targets[1].hops[0].via.proxy.as_deref(), Some("http://10.1.2.3:8080"), "a private address stays");
        assert_eq!(ev.targets[0].hops[0].via.source, Some(ProxySource::Env));
        let shown = ev.proxy.as_ref().and_then(|p| p.discovery.http.as_ref()).map(|s| s.value.as_str());
        assert_eq!(shown, Some("http://proxy-1:3128"));
        assert_eq!(after.diagnosis.findings[0].message, "the proxy http://proxy-1:3128 (from env) answered 407");
        // The origins' names are not proxies: they stay.
        assert_eq!(ev.targets[0].url, "http://a.site.test/");
        assert_eq!(proxy_host_name("http://[2001:db8::1]:3128"), None);
        assert_eq!(proxy_host_name("http://198.18.1.2:8888"), None);
        assert_eq!(proxy_host_name("p.example:1").as_deref(), Some("p.example"));
    }

    #[test]
    fn a_host_named_like_a_layer_changes_no_code() {
        for hostname in ["gateway", "dns", "Gateway", "link", "pass"] {
            let before = typed_report(hostname);
            let mut before = before;
            before.diagnosis.findings[0].message = format!("{hostname} cannot reach {hostname}.example.");
            let after = redact(&before).unwrap();
            assert_eq!(after.host.hostname, "host-1");
            let ids: Vec<_> = after.checks.iter().map(|c| (c.id, c.status)).collect();
            assert_eq!(ids, before.checks.iter().map(|c| (c.id, c.status)).collect::<Vec<_>>());
            assert_eq!(after.diagnosis.root_cause, before.diagnosis.root_cause);
            assert_eq!(after.diagnosis.findings[0].code, before.diagnosis.findings[0].code);
            assert_eq!(after.diagnosis.findings[0].layer, before.diagnosis.findings[0].layer);
            assert_eq!(after.diagnosis.findings[0].message, "host-1 cannot reach host-1.example.");
        }
        // A gateway.unreachable finding survives a host named `gateway`.
        let r = redact(&other_report(serde_json::json!({}), "gateway", "gateway.unreachable on gateway")).unwrap();
        assert_eq!(r.diagnosis.findings[0].code, Code::GatewayUnreachable);
        let root = r.diagnosis.root_cause.unwrap();
        assert_eq!((root.code, root.layer), (Code::GatewayUnreachable, CheckId::Gateway));
        assert_eq!(root.summary, "host-1 cannot reach the router");
    }

    #[test]
    fn redaction_fails_closed() {
        // More public addresses than the documentation ranges hold: an error, not the report.
        let many: Vec<String> = (0..V4_LIMIT + 1).map(|i| format!("8.{}.{}.1", i / 250, i % 250)).collect();
        let r = other_report(serde_json::json!({ "servers": many }), "unknown", "");
        assert!(matches!(redact(&r), Err(RedactError::TooMany { kind: "IPv4", .. })));

        // A result whose codes changed, whose evidence lost its type, or that still holds
        // a secret is refused by the last check.
        let before = typed_report("desk-214");
        let mut r = Redactor { hostname: Some("desk-214".into()), ..Redactor::default() };
        r.survey(&serde_json::to_value(&before).unwrap(), None);
        let mut changed = before.clone();
        changed.diagnosis.findings[0].code = Code::DnsTimeout;
        assert!(matches!(verify(&before, &changed, &r), Err(RedactError::Changed { what: "diagnosis" })));
        let mut untyped = before.clone();
        let at = before.checks.iter().position(|c| c.id == CheckId::Gateway).unwrap();
        untyped.checks[at].evidence = Evidence::Other(before.checks[at].evidence.to_json());
        assert!(matches!(verify(&before, &untyped, &r), Err(RedactError::Untyped { check: CheckId::Gateway })));
        // The unredacted report itself: its MACs, addresses and hostname are all caught.
        assert!(matches!(verify(&before, &before, &r), Err(RedactError::Leak { .. })));
        let mut host_only = redact(&before).unwrap();
        host_only.diagnosis.findings[0].message = "seen from desk-214".into();
        assert!(matches!(verify(&before, &host_only, &r), Err(RedactError::Leak { .. })));
        let clean = |v: Value| r.check_clean(&v, None);
        assert!(matches!(
            clean(serde_json::json!({"message": "from desk-214."})),
            Err(RedactError::Leak { what: "hostname" })
        ));
        assert!(matches!(
            clean(serde_json::json!({"m": "fe80::4882:98ff:fe96:a867"})),
            Err(RedactError::Leak { what: "MAC" })
        ));
        assert!(matches!(
            clean(serde_json::json!({"m": "to 8.8.8.8:53"})),
            Err(RedactError::Leak { what: "public address" })
        ));
        assert!(clean(serde_json::json!({"m": "to 192.0.2.1:53 and fe80::1", "code": "desk-214"})).is_ok());
    }

    #[test]
    fn every_stored_capture_redacts_with_its_evidence_typed() {
        let dir = format!("{}/captures", env!("CARGO_MANIFEST_DIR"));
        let mut seen = 0;
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.extension().is_none_or(|e| e != "pcap") {
                continue;
            }
            let frames = crate::pcap::read_file(&path).unwrap();
            let name = path.display().to_string();
            let before = crate::analyze::analyze(&frames, &name, "2026-11-24T07:00:00Z".parse().unwrap(), "vm".into());
            let after = redact(&before).unwrap_or_else(|e| panic!("{name}: {e}"));
            let read: Report = serde_json::from_str(&serde_json::to_string(&after).unwrap()).unwrap();
            for (b, a) in before.checks.iter().zip(&read.checks) {
                assert_eq!(std::mem::discriminant(b.evidence.known()), std::mem::discriminant(a.evidence.known()));
                assert_eq!(
                    crate::render::details(b).is_empty(),
                    crate::render::details(a).is_empty(),
                    "{name} {}",
                    a.id
                );
            }
            seen += 1;
        }
        assert!(seen >= 5, "captures/ holds the stored captures");
    }

    #[test]
    fn public_ranges() {
        for ip in ["8.8.8.8", "1.1.1.1", "2a00:1450::1", "::ffff:8.8.4.4"] {
            assert!(is_public(ip.parse().unwrap()), "{ip}");
        }
        for ip in [
            "10.1.2.3",
            "172.16.0.1",
            "192.168.0.1",
            "100.64.0.1",
            "198.19.255.1",
            "169.254.1.1",
            "127.0.0.1",
            "fe80::1",
            "fd00::1",
            "2001:db8::5",
            "192.0.2.1",
            "224.0.0.1",
        ] {
            assert!(!is_public(ip.parse().unwrap()), "{ip}");
        }
    }

    #[test]
    fn the_switch_name_port_and_management_address_are_redacted() {
        use crate::check::neighbours::{NeighboursEvidence, judge, line};
        use crate::config::NeighboursSettings;
        use crate::platform::lldp::{Neighbour, Protocol};
        let switch = Neighbour {
            protocol: Protocol::Lldp,
            chassis_id: Some("4e:9c:50:f2:13:50".into()),
            system_name: Some("core-sw-berlin".into()),
            system_description: Some("Cisco IOS 15.2(7)E3".into()),
            port_id: Some("Gi1/0/14".into()),
            port_description: Some("desk 214 anna".into()),
            management_addresses: vec!["10.20.0.2".parse().unwrap()],
            port_vlan: Some(42),
            ..Neighbour::default()
        };
        let ev = NeighboursEvidence { interface: "eth0".into(), neighbours: vec![switch], ..Default::default() };
        let findings = judge(&ev, &NeighboursSettings { expected_vlan: Some(10), ..Default::default() });
        let check = crate::report::CheckResult {
            id: CheckId::Neighbours,
            status: crate::report::CheckStatus::Fail,
            duration_ms: 5,
            blocked_by: None,
            reason: None,
            reason_code: None,
            findings,
            evidence: Evidence::Neighbours(Box::new(ev.clone())),
        };
        let mut before = crate::report::test_report(vec![check], "2026-11-24T07:00:00.000Z", 10);
        before.neighbour = line(&ev);
        let after = redact(&before).unwrap();
        let text = serde_json::to_string(&after).unwrap();
        for secret in ["core-sw-berlin", "Gi1/0/14", "desk 214 anna", "10.20.0.2", "15.2(7)E3", "4e:9c:50:f2:13:50"] {
            assert!(!text.contains(secret), "{secret} survived: {text}");
        }
        let line = after.neighbour.as_ref().unwrap();
        let n = &after.neighbours_evidence().unwrap().neighbours[0];
        // The same value, the same placeholder, in the line and the evidence.
        assert_eq!((&line.switch, &line.port, line.vlan), (&n.system_name, &n.port_id, Some(42)));
        assert!(line.switch.as_deref().is_some_and(|s| s.starts_with("switch-")));
        assert!(line.port.as_deref().is_some_and(|s| s.starts_with("port-")));
        assert_eq!(n.management_addresses[0].to_string(), "192.0.2.1");
        assert_eq!(after.checks[0].findings[0].code, Code::LinkUnexpectedVlan);
    }
    #[test]
    fn share_paths_become_placeholders_in_evidence_and_messages() {
        use crate::check::smb::{SmbEvidence, SmbOutcome, SmbServer, SmbShare, judge};
        use crate::config::SmbSettings;
        let share = r"\\fs1.corp.example\hr-salaries";
        let ev = SmbEvidence {
            shares: vec![SmbShare { share: share.into(), server: "fs1.corp.example".into() }],
            servers: vec![SmbServer {
                server: "fs1.corp.example".into(),
                address: Some("10.1.2.3:445".parse().unwrap()),
                outcome: SmbOutcome::Smb1Only,
                ..SmbServer::default()
            }],
        };
        let findings = judge(&ev, &SmbSettings::default());
        assert!(findings[0].message.contains(share), "the message names the share");
        let check = crate::report::CheckResult {
            id: CheckId::Smb,
            status: crate::report::CheckStatus::Fail,
            duration_ms: 5,
            blocked_by: None,
            reason: None,
            reason_code: None,
            findings,
            evidence: Evidence::Smb(Box::new(ev)),
        };
        let before = crate::report::test_report(vec![check], "2026-11-24T07:00:00.000Z", 10);
        let after = redact(&before).unwrap();
        let ev = after.checks[0].smb().expect("typed smb evidence");
        assert!(ev.shares[0].share.starts_with("share-"), "{}", ev.shares[0].share);
        let message = &after.checks[0].findings[0].message;
        assert!(message.contains(&ev.shares[0].share) && !message.contains("hr-salaries"), "{message}");
        assert!(!serde_json::to_string(&after).unwrap().contains("hr-salaries"));
        assert_eq!(after.checks[0].findings[0].code, Code::SmbSmb1Only);
        assert_eq!(ev.servers[0].outcome, SmbOutcome::Smb1Only);
    }
}
