//! `[profiles.m365]`: the settings of the `m365` profile (`src/check/m365.rs`): the
//! endpoint list is data here (with the published defaults), not code; each threshold's
//! source is in `docs/checks/m365.md`.
//!
//! The defaults are the `Optimize` and `Allow` rows of Microsoft's "Microsoft 365 URLs and
//! IP address ranges" (worldwide instance; rows 1, 12, 31 and 56; docs/checks/m365.md
//! cites the page) and the Teams transport relay Microsoft names for its media path
//! (UDP 3478-3481, row 11). A site replaces them in its config file, without a release.

use std::path::PathBuf;

use serde::Deserialize;

use crate::config::ConfigError;

/// The placeholder of a tenant-specific URL (`https://{tenant}.sharepoint.com/`): replaced by
/// `tenant`; without a tenant such endpoints are skipped, with a note.
pub const TENANT_PLACEHOLDER: &str = "{tenant}";

/// The Teams transport relay's name, as Microsoft's split-tunnel guide names it for tests
/// (`tracert worldaz.tr.teams.microsoft.com`); it resolves into the Teams media ranges of
/// row 11 (52.112.0.0/14, 52.122.0.0/15).
pub const DEFAULT_MEDIA_RELAY: &str = "worldaz.tr.teams.microsoft.com";

/// The Teams media relay ports (row 11: UDP 3478, 3479, 3480, 3481).
pub const DEFAULT_MEDIA_PORTS: [u16; 4] = [3478, 3479, 3480, 3481];

/// One Microsoft 365 endpoint to test.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct M365Endpoint {
    /// The service category (`exchange`, `sharepoint`, `teams`, `login`, or a site's own
    /// lower-case name): a category is down when one of its endpoints is.
    pub category: String,
    /// The HTTPS URL requested; may hold `{tenant}`.
    pub url: String,
}

impl M365Endpoint {
    fn new(category: &str, url: &str) -> M365Endpoint {
        M365Endpoint { category: category.to_string(), url: url.to_string() }
    }

    /// The URL with the tenant put in; `None` when it needs a tenant and none is set.
    pub fn resolved_url(&self, tenant: Option<&str>) -> Option<String> {
        match (self.url.contains(TENANT_PLACEHOLDER), tenant) {
            (false, _) => Some(self.url.clone()),
            (true, Some(t)) => Some(self.url.replace(TENANT_PLACEHOLDER, t)),
            (true, None) => None,
        }
    }
}

/// The published defaults: the `Optimize` and `Allow` endpoints of each category (see the
/// module header for their source).
pub fn default_endpoints() -> Vec<M365Endpoint> {
    vec![
        // Row 1, Exchange Online, Optimize.
        M365Endpoint::new("exchange", "https://outlook.office365.com/"),
        M365Endpoint::new("exchange", "https://outlook.office.com/"),
        // Row 31, SharePoint Online and OneDrive for Business, Optimize (tenant-specific).
        M365Endpoint::new("sharepoint", "https://{tenant}.sharepoint.com/"),
        M365Endpoint::new("sharepoint", "https://{tenant}-my.sharepoint.com/"),
        // Row 12, Microsoft Teams, Allow.
        M365Endpoint::new("teams", "https://teams.microsoft.com/"),
        // Row 56, Microsoft 365 Common and Office Online (Entra ID sign-in), Allow.
        M365Endpoint::new("login", "https://login.microsoftonline.com/"),
    ]
}

/// `[profiles.m365]` settings.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct M365Settings {
    /// How long one network operation of this profile may take, in milliseconds (one
    /// endpoint's DNS + TCP + TLS + request; the media probe's wait for an answer).
    pub timeout_ms: u64,
    /// The endpoints tested (default: Microsoft's published list, `default_endpoints`).
    pub endpoints: Vec<M365Endpoint>,
    /// The tenant's name (`contoso` for `contoso.sharepoint.com`): fills
    /// `{tenant}`; without it the tenant-specific endpoints are skipped.
    pub tenant: Option<String>,
    /// A PEM file of the CA certificates that count as Microsoft's public chain; a chain
    /// that validates (system store and `--ca-file`) but not through these is TLS
    /// inspection (`m365.tls_inspected`). Default: Mozilla's public root set (the
    /// webpki-roots crate), which Microsoft's own CAs chain to.
    pub public_ca_file: Option<PathBuf>,
    /// The Teams media relay (a name or an address) the STUN probe asks; empty: no media
    /// probe.
    pub media_relay: String,
    /// The relay's UDP ports asked (default 3478-3481); empty: no media probe.
    pub media_ports: Vec<u16>,
}

impl Default for M365Settings {
    fn default() -> Self {
        M365Settings {
            timeout_ms: 3_000,
            endpoints: default_endpoints(),
            tenant: None,
            public_ca_file: None,
            media_relay: DEFAULT_MEDIA_RELAY.to_string(),
            media_ports: DEFAULT_MEDIA_PORTS.to_vec(),
        }
    }
}

impl M365Settings {
    /// Checks the values (ranges, syntax).
    pub(crate) fn validate(&self) -> Result<(), ConfigError> {
        crate::config::check_range("profiles.m365.timeout_ms", self.timeout_ms as f64, 10.0, 60_000.0)?;
        let invalid = |what: &str, message: String| ConfigError::Invalid { what: what.to_string(), message };
        if let Some(t) = &self.tenant {
            let ok = !t.is_empty()
                && t.len() <= 63
                && t.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
                && !t.starts_with('-')
                && !t.ends_with('-');
            if !ok {
                return Err(invalid(
                    "profiles.m365.tenant",
                    format!("`{t}` is not a tenant name (one DNS label: letters, digits, hyphens)"),
                ));
            }
        }
        for (i, e) in self.endpoints.iter().enumerate() {
            let what = format!("profiles.m365.endpoints[{i}]");
            let category_ok = !e.category.is_empty()
                && e.category.len() <= 32
                && e.category.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_');
            if !category_ok {
                return Err(invalid(
                    &format!("{what}.category"),
                    format!("`{}` is not a category name (lower-case letters, digits, `_`)", e.category),
                ));
            }
            if !e.url.starts_with("https://") {
                return Err(invalid(&format!("{what}.url"), format!("`{}` is not an https:// URL", e.url)));
            }
            let filled = e.url.replace(TENANT_PLACEHOLDER, "tenant");
            crate::config::validate_url(&filled).map_err(|m| invalid(&format!("{what}.url"), m))?;
        }
        if self.media_ports.contains(&0) {
            return Err(invalid("profiles.m365.media_ports", "port 0 cannot be asked".into()));
        }
        if self.media_relay.chars().any(char::is_whitespace) {
            return Err(invalid(
                "profiles.m365.media_relay",
                format!("`{}` is not a host name or an address", self.media_relay),
            ));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_defaults_validate_and_cover_the_four_categories() {
        let s = M365Settings::default();
        s.validate().unwrap();
        let mut categories: Vec<&str> = s.endpoints.iter().map(|e| e.category.as_str()).collect();
        categories.dedup();
        assert_eq!(categories, ["exchange", "sharepoint", "teams", "login"]);
        assert_eq!(s.media_ports, [3478, 3479, 3480, 3481]);
    }

    #[test]
    fn tenant_urls_need_a_tenant() {
        let e = M365Endpoint::new("sharepoint", "https://{tenant}-my.sharepoint.com/");
        assert_eq!(e.resolved_url(None), None);
        assert_eq!(e.resolved_url(Some("contoso")).as_deref(), Some("https://contoso-my.sharepoint.com/"));
        let plain = M365Endpoint::new("teams", "https://teams.microsoft.com/");
        assert_eq!(plain.resolved_url(None).as_deref(), Some("https://teams.microsoft.com/"));
    }

    #[test]
    fn bad_values_are_refused() {
        let bad = [
            M365Settings { tenant: Some("con toso".into()), ..M365Settings::default() },
            M365Settings { tenant: Some(String::new()), ..M365Settings::default() },
            M365Settings {
                endpoints: vec![M365Endpoint::new("Exchange", "https://a.example/")],
                ..M365Settings::default()
            },
            M365Settings {
                endpoints: vec![M365Endpoint::new("teams", "http://a.example/")],
                ..M365Settings::default()
            },
            M365Settings { media_ports: vec![0], ..M365Settings::default() },
            M365Settings { timeout_ms: 1, ..M365Settings::default() },
        ];
        for s in bad {
            assert!(matches!(s.validate(), Err(ConfigError::Invalid { .. })), "{s:?}");
        }
    }

    #[test]
    fn a_config_table_replaces_the_list() {
        let s: M365Settings = toml::from_str(
            "tenant = \"contoso\"\nmedia_ports = [3478]\n\
             [[endpoints]]\ncategory = \"exchange\"\nurl = \"https://mail.example/\"\n",
        )
        .unwrap();
        s.validate().unwrap();
        assert_eq!(s.endpoints.len(), 1);
        assert_eq!(s.tenant.as_deref(), Some("contoso"));
        assert_eq!(s.media_relay, DEFAULT_MEDIA_RELAY);
    }
}
