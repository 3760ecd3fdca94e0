//! `[profiles.ad]`: the settings of the `ad` profile (`src/check/ad.rs`); each
//! threshold's source is in `docs/checks/ad.md`.
//!
//! The domain comes from here first; without `domain` the check takes resolv.conf's
//! `domain`, then the first `search` entry (what the DHCP client wrote there from the
//! lease's option 15/119).

use serde::Deserialize;

use crate::config::ConfigError;

/// Kerberos' default maximum clock skew, seconds (RFC 4120 §1.6 "5 minutes"; Microsoft's
/// "Maximum tolerance for computer clock synchronization" policy default).
pub const KERBEROS_MAX_SKEW_S: f64 = 300.0;

/// `[profiles.ad]` settings.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct AdSettings {
    /// How long one network operation of this profile may take, in milliseconds.
    pub timeout_ms: u64,
    /// The Active Directory DNS domain (`corp.example.com`); default: resolv.conf's
    /// `domain`, else its first `search` entry.
    pub domain: Option<String>,
    /// The AD site of this machine: its site-specific DC records are asked first.
    pub site: Option<String>,
    /// Domain controllers known beforehand (names or addresses), tested besides the ones
    /// the SRV records name.
    pub dcs: Vec<String>,
    /// At most this many domain controllers are probed (the SRV records' order).
    pub max_dcs: usize,
    /// A clock offset against the DC above this many seconds is a warning.
    pub clock_warn_s: f64,
    /// A clock offset against the DC above this many seconds is a failure (Kerberos
    /// rejects the logon).
    pub clock_fail_s: f64,
}

impl Default for AdSettings {
    fn default() -> Self {
        AdSettings {
            timeout_ms: 2_000,
            domain: None,
            site: None,
            dcs: Vec::new(),
            max_dcs: 4,
            clock_warn_s: 60.0,
            clock_fail_s: KERBEROS_MAX_SKEW_S,
        }
    }
}

/// Whether `name` is a syntactically valid DNS name (labels of 1-63 letters, digits,
/// `-` or `_`, at most 253 characters).
pub(crate) fn is_dns_name(name: &str) -> bool {
    let name = name.strip_suffix('.').unwrap_or(name);
    !name.is_empty()
        && name.len() <= 253
        && name.split('.').all(|l| {
            !l.is_empty() && l.len() <= 63 && l.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        })
}

impl AdSettings {
    /// Checks the values (ranges, syntax).
    pub(crate) fn validate(&self) -> Result<(), ConfigError> {
        crate::config::check_range("profiles.ad.timeout_ms", self.timeout_ms as f64, 10.0, 60_000.0)?;
        crate::config::check_range("profiles.ad.max_dcs", self.max_dcs as f64, 1.0, 32.0)?;
        crate::config::check_range("profiles.ad.clock_warn_s", self.clock_warn_s, 0.0, 86_400.0)?;
        crate::config::check_range("profiles.ad.clock_fail_s", self.clock_fail_s, self.clock_warn_s, 86_400.0)?;
        if let Some(domain) = &self.domain
            && !is_dns_name(domain)
        {
            return Err(invalid("profiles.ad.domain", format!("`{domain}` is not a DNS domain name")));
        }
        if let Some(site) = &self.site
            && (site.is_empty() || site.contains('.') || !is_dns_name(site))
        {
            return Err(invalid("profiles.ad.site", format!("`{site}` is not an AD site name (one DNS label)")));
        }
        for dc in &self.dcs {
            if dc.parse::<std::net::IpAddr>().is_err() && !is_dns_name(dc) {
                return Err(invalid("profiles.ad.dcs", format!("`{dc}` is neither an address nor a host name")));
            }
        }
        Ok(())
    }
}

fn invalid(what: &str, message: String) -> ConfigError {
    ConfigError::Invalid { what: what.into(), message }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_validate_and_bad_values_are_rejected() {
        assert!(AdSettings::default().validate().is_ok());
        let ok = AdSettings {
            domain: Some("corp.lab".into()),
            site: Some("Default-First-Site-Name".into()),
            dcs: vec!["dc1.corp.lab".into(), "198.18.0.20".into()],
            ..AdSettings::default()
        };
        assert!(ok.validate().is_ok());
        for bad in [
            AdSettings { domain: Some("corp lab".into()), ..AdSettings::default() },
            AdSettings { domain: Some(String::new()), ..AdSettings::default() },
            AdSettings { site: Some("a.b".into()), ..AdSettings::default() },
            AdSettings { dcs: vec!["dc 1".into()], ..AdSettings::default() },
            AdSettings { max_dcs: 0, ..AdSettings::default() },
            AdSettings { clock_warn_s: 400.0, ..AdSettings::default() },
        ] {
            assert!(matches!(bad.validate(), Err(ConfigError::Invalid { .. })), "{bad:?}");
        }
    }
}
