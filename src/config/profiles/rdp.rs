//! `[profiles.rdp]`: the settings of the `rdp` profile (`src/check/rdp.rs`): the remote
//! desktop hosts to test, whether Network Level Authentication is required, and the
//! timeout; each value's source is in `docs/checks/rdp.md`.
//!
//! Hosts are written as `host`, `host:port`, an address, or `[IPv6]:port`; the port
//! defaults to 3389 (MS-RDPBCGR 2.2.1.1: "the server listens on TCP port 3389 by
//! default"). Each is parsed into the same [`Target`] the ports check uses.

use std::net::IpAddr;

use serde::Deserialize;

use crate::config::{ConfigError, Target, TargetHost, validate_dns_name};

/// The port a remote desktop host listens on unless told otherwise.
pub const RDP_PORT: u16 = 3389;

/// Most hosts one run tests (a site's session hosts, not a scan).
pub const MAX_HOSTS: usize = 64;

/// `[profiles.rdp]` settings.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct RdpSettings {
    /// How long one network operation of this profile may take (name resolution, the TCP
    /// connect, the negotiation, the TLS handshake), in milliseconds.
    pub timeout_ms: u64,
    /// The remote desktop hosts: `"host"`, `"host:port"`, an address or `"[IPv6]:port"`;
    /// the port defaults to 3389. Empty: the profile is skipped (`no_targets`).
    pub hosts: Vec<String>,
    /// The site's policy requires Network Level Authentication (CredSSP): a host that
    /// selects TLS or standard RDP security, or that also lets a client in without NLA, is
    /// a warning (`rdp.negotiation_failed`, severity warn).
    pub require_nla: bool,
}

impl Default for RdpSettings {
    fn default() -> Self {
        RdpSettings { timeout_ms: 2_000, hosts: Vec::new(), require_nla: false }
    }
}

impl RdpSettings {
    /// Checks the values (ranges, syntax).
    pub(crate) fn validate(&self) -> Result<(), ConfigError> {
        crate::config::check_range("profiles.rdp.timeout_ms", self.timeout_ms as f64, 10.0, 60_000.0)?;
        if self.hosts.len() > MAX_HOSTS {
            return Err(ConfigError::Invalid {
                what: "profiles.rdp.hosts".into(),
                message: format!("{} hosts, at most {MAX_HOSTS}", self.hosts.len()),
            });
        }
        for host in &self.hosts {
            parse_host(host).map_err(|message| ConfigError::Invalid {
                what: format!("profiles.rdp.hosts entry `{host}`"),
                message,
            })?;
        }
        Ok(())
    }

    /// The hosts as targets (a host that does not parse is left out: `validate`
    /// refuses those before a run).
    pub fn targets(&self) -> Vec<Target> {
        self.hosts.iter().filter_map(|h| parse_host(h).ok()).collect()
    }
}

/// Parses one `hosts` entry: `host`, `host:port`, an IPv4 or IPv6 address (bare or
/// `[IPv6]:port`); without a port, [`RDP_PORT`].
pub fn parse_host(text: &str) -> Result<Target, String> {
    let text = text.trim();
    if text.is_empty() {
        return Err("empty host".into());
    }
    if let Ok(ip) = text.parse::<IpAddr>() {
        return Ok(Target { host: TargetHost::Ip(ip), port: RDP_PORT });
    }
    if let Some(v6) = text.strip_prefix('[').and_then(|t| t.strip_suffix(']')) {
        let ip: std::net::Ipv6Addr = v6.parse().map_err(|_| format!("`{v6}` is not an IPv6 address"))?;
        return Ok(Target { host: TargetHost::Ip(IpAddr::V6(ip)), port: RDP_PORT });
    }
    if text.starts_with('[') || text.contains(':') {
        return text.parse::<Target>();
    }
    Ok(Target { host: TargetHost::Name(validate_dns_name(text)?), port: RDP_PORT })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hosts_take_the_default_port_unless_they_name_one() {
        let t = parse_host("ts1.corp.example").unwrap();
        assert_eq!((t.host, t.port), (TargetHost::Name("ts1.corp.example".into()), 3389));
        let t = parse_host("ts1.corp.example:3390").unwrap();
        assert_eq!(t.port, 3390);
        let t = parse_host("198.18.1.2").unwrap();
        assert_eq!((t.host, t.port), (TargetHost::Ip("198.18.1.2".parse().unwrap()), 3389));
        let t = parse_host("2001:db8::5").unwrap();
        assert_eq!((t.host, t.port), (TargetHost::Ip("2001:db8::5".parse().unwrap()), 3389));
        let t = parse_host("[2001:db8::5]").unwrap();
        assert_eq!(t.port, 3389);
        let t = parse_host("[2001:db8::5]:4000").unwrap();
        assert_eq!((t.host, t.port), (TargetHost::Ip("2001:db8::5".parse().unwrap()), 4000));
    }

    #[test]
    fn bad_hosts_and_values_are_refused() {
        for bad in ["", "host:0", "host:99999", "ho st", "[nope]:3389", "[2001:db8::5]:x", "a..b"] {
            assert!(parse_host(bad).is_err(), "{bad:?} accepted");
        }
        let s = RdpSettings { hosts: vec!["ok.example".into(), "bad host".into()], ..RdpSettings::default() };
        assert!(matches!(s.validate(), Err(ConfigError::Invalid { .. })));
        let s = RdpSettings { hosts: vec!["h".into(); MAX_HOSTS + 1], ..RdpSettings::default() };
        assert!(s.validate().is_err());
        let s = RdpSettings { hosts: vec!["ts1".into(), "198.18.1.2:3390".into()], ..RdpSettings::default() };
        s.validate().unwrap();
        assert_eq!(s.targets().len(), 2);
    }
}
