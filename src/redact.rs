//! Redaction for reports that leave the building (`--redact`): MAC addresses, public IP
//! addresses, SSIDs/BSSIDs and the hostname become stable placeholders.
//!
//! Works on the report as JSON, so every field — evidence included — is covered and every
//! format rendered from the result is redacted alike. The same value gets the same
//! placeholder throughout one report (`mac-1`, `ip-2`, `host-1`, `ssid-1`), so a technician
//! can still see that two findings name the same device. Private, link-local, loopback,
//! shared (100.64/10), benchmarking (198.18/15) and documentation addresses are kept: they
//! identify nothing outside the site and are what a technician needs.

use std::collections::HashMap;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use serde_json::Value;

use crate::report::Report;

/// Returns a redacted copy of `report`.
pub fn redact(report: &Report) -> Report {
    let mut r = Redactor::default();
    let hostname = report.host.hostname.clone();
    if hostname.len() >= 2 && hostname != "unknown" {
        let placeholder = r.placeholder("host", &hostname);
        r.literals.push((hostname, placeholder));
    }
    let mut value = serde_json::to_value(report).expect("a report always serialises");
    r.walk(&mut value, None);
    let mut out: Report = serde_json::from_value(value).unwrap_or_else(|_| report.clone());
    out.redacted = true;
    out
}

#[derive(Default)]
struct Redactor {
    /// Exact strings to replace anywhere (the hostname).
    literals: Vec<(String, String)>,
    seen: HashMap<(String, String), String>,
    counts: HashMap<String, usize>,
}

impl Redactor {
    fn placeholder(&mut self, kind: &str, value: &str) -> String {
        let key = (kind.to_string(), value.to_ascii_lowercase());
        if let Some(p) = self.seen.get(&key) {
            return p.clone();
        }
        let n = self.counts.entry(kind.to_string()).or_default();
        *n += 1;
        let p = format!("{kind}-{n}");
        self.seen.insert(key, p.clone());
        p
    }

    fn walk(&mut self, v: &mut Value, key: Option<&str>) {
        match v {
            Value::String(s) => {
                *s = if matches!(key, Some("ssid")) { self.placeholder("ssid", s) } else { self.text(s) };
            }
            Value::Array(items) => items.iter_mut().for_each(|i| self.walk(i, key)),
            Value::Object(map) => {
                for (k, item) in map.iter_mut() {
                    self.walk(item, Some(k.as_str()));
                }
            }
            _ => {}
        }
    }

    /// Replaces MACs, public IPs and literals inside free text.
    fn text(&mut self, s: &str) -> String {
        let mut out = String::with_capacity(s.len());
        let chars: Vec<char> = s.chars().collect();
        let mut i = 0;
        while i < chars.len() {
            let token_char = |c: char| c.is_ascii_hexdigit() || c == ':' || c == '.';
            if token_char(chars[i]) {
                let start = i;
                while i < chars.len() && token_char(chars[i]) {
                    i += 1;
                }
                let token: String = chars[start..i].iter().collect();
                out.push_str(&self.token(&token));
            } else {
                out.push(chars[i]);
                i += 1;
            }
        }
        for (literal, placeholder) in &self.literals {
            out = out.replace(literal.as_str(), placeholder);
        }
        out
    }

    /// A run of hex digits, colons and dots: a MAC, an address, an address:port, or other.
    fn token(&mut self, token: &str) -> String {
        let trimmed = token.trim_end_matches(['.', ':']);
        let tail = &token[trimmed.len()..];
        if is_mac(trimmed) {
            return format!("{}{tail}", self.placeholder("mac", trimmed));
        }
        if let Ok(ip) = trimmed.parse::<IpAddr>() {
            return format!("{}{tail}", self.ip(ip, trimmed));
        }
        // IPv4:port.
        if let Some((host, port)) = trimmed.rsplit_once(':')
            && let Ok(ip) = host.parse::<Ipv4Addr>()
            && port.chars().all(|c| c.is_ascii_digit())
        {
            return format!("{}:{port}{tail}", self.ip(IpAddr::V4(ip), host));
        }
        token.to_string()
    }

    fn ip(&mut self, ip: IpAddr, text: &str) -> String {
        if is_public(ip) { self.placeholder("ip", text) } else { text.to_string() }
    }
}

fn is_mac(s: &str) -> bool {
    let parts: Vec<&str> = s.split(':').collect();
    parts.len() == 6 && parts.iter().all(|p| p.len() == 2 && p.chars().all(|c| c.is_ascii_hexdigit()))
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
    use crate::report::*;

    fn report() -> Report {
        let evidence = serde_json::json!({
            "interface": {"name": "eth0", "mac": "46:82:98:96:A8:67"},
            "servers": [{"server": "8.8.8.8", "verdict": "ok"}, {"server": "198.18.0.1"}],
            "gateways": [{"address": "192.168.1.1", "arp": {"mac": "46:82:98:96:a8:67"}}],
            "ssid": "Corp WiFi",
            "bssid": "aa:bb:cc:dd:ee:ff",
            "v6": "2a00:1450:4001:81b::200e",
            "doc6": "2001:db8::1",
        });
        Report {
            schema_version: SCHEMA_VERSION.into(),
            tool: ToolInfo { name: "nettriage".into(), version: "0".into() },
            started_at: "2026-11-24T07:00:00.000Z".parse().unwrap(),
            duration_ms: 1,
            host: HostInfo { hostname: "alice-laptop".into() },
            interface: Some("eth0".into()),
            privileged: true,
            redacted: false,
            capture: None,
            diagnosis: Diagnosis {
                status: RunStatus::Broken,
                root_cause: None,
                findings: vec![Finding {
                    code: Code::PortsRefused,
                    severity: Severity::Fail,
                    layer: CheckId::Ports,
                    message: "8.8.8.8:443 refused; seen from alice-laptop via 46:82:98:96:a8:67.".into(),
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

    #[test]
    fn identifying_values_become_stable_placeholders() {
        let r = redact(&report());
        let json = serde_json::to_string(&r).unwrap();
        for secret in
            ["alice-laptop", "46:82:98:96", "46:82:98:96:A8:67", "8.8.8.8", "Corp WiFi", "aa:bb:cc", "2a00:1450"]
        {
            assert!(!json.to_lowercase().contains(&secret.to_lowercase()), "{secret} leaked: {json}");
        }
        assert!(r.redacted);
        assert_eq!(r.host.hostname, "host-1");
        let ev = &r.checks[0].evidence.to_json();
        // The same MAC in two places (and in two cases) is the same placeholder.
        let mac = ev["interface"]["mac"].as_str().unwrap();
        assert!(mac.starts_with("mac-"));
        assert_eq!(ev["gateways"][0]["arp"]["mac"], mac);
        assert_eq!(ev["servers"][0]["server"], "ip-1");
        assert_eq!(r.diagnosis.findings[0].message, format!("ip-1:443 refused; seen from host-1 via {mac}."));
        // What a technician needs and identifies nobody is kept.
        assert_eq!(ev["servers"][1]["server"], "198.18.0.1");
        assert_eq!(ev["gateways"][0]["address"], "192.168.1.1");
        assert_eq!(ev["doc6"], "2001:db8::1");
        assert_eq!(ev["ssid"], "ssid-1");
        assert!(ev["bssid"].as_str().unwrap().starts_with("mac-") && ev["bssid"] != mac);
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
}
