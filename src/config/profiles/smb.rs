//! `[profiles.smb]`: the settings of the `smb` profile (`src/check/smb.rs`): the shares to
//! test (`shares`, UNC paths) and the time one network operation may take; each threshold's
//! source is in `docs/checks/smb.md`. [`UncPath::parse`] is the one UNC parser: the check
//! reads the server of each share from it.

use serde::Deserialize;

use crate::config::ConfigError;

/// `[profiles.smb]` settings.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct SmbSettings {
    /// The shares to test, as UNC paths: `\\server\share` (in TOML `"\\\\server\\share"` or
    /// a literal string `'\\server\share'`) or `//server/share`; a path below the share
    /// is allowed and ignored.
    pub shares: Vec<String>,
    /// How long one network operation of this profile may take (resolving a name,
    /// connecting, one negotiation), in milliseconds.
    pub timeout_ms: u64,
}

impl Default for SmbSettings {
    fn default() -> Self {
        SmbSettings { shares: Vec::new(), timeout_ms: 2_000 }
    }
}

/// Most shares in `[profiles.smb] shares`.
pub const MAX_SHARES: usize = 64;

impl SmbSettings {
    /// Checks the values (ranges, syntax).
    pub(crate) fn validate(&self) -> Result<(), ConfigError> {
        crate::config::check_range("profiles.smb.timeout_ms", self.timeout_ms as f64, 10.0, 60_000.0)?;
        if self.shares.len() > MAX_SHARES {
            return Err(ConfigError::Invalid {
                what: "profiles.smb.shares".into(),
                message: format!("{} shares, at most {MAX_SHARES}", self.shares.len()),
            });
        }
        for share in &self.shares {
            UncPath::parse(share).map_err(|e| ConfigError::Invalid {
                what: "profiles.smb.shares".into(),
                message: format!("{share:?}: {e}"),
            })?;
        }
        Ok(())
    }

    /// The configured shares, parsed (the ones validation accepted: all of them
    /// once the config is loaded).
    pub fn unc_paths(&self) -> Vec<UncPath> {
        self.shares.iter().filter_map(|s| UncPath::parse(s).ok()).collect()
    }
}

/// A share's UNC path, parsed: `\\server\share[\path]` or `//server/share[/path]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UncPath {
    /// The server: a host name, an IPv4 address, or an IPv6 address in brackets (kept
    /// without them).
    pub server: String,
    /// The share name.
    pub share: String,
}

impl UncPath {
    /// Parses a UNC path; the path below the share is checked for empty components only.
    pub fn parse(text: &str) -> Result<UncPath, UncError> {
        let text = text.trim();
        let (sep, rest) = if let Some(rest) = text.strip_prefix("\\\\") {
            ('\\', rest)
        } else if let Some(rest) = text.strip_prefix("//") {
            ('/', rest)
        } else {
            return Err(UncError::NoPrefix);
        };
        let rest = rest.strip_suffix(sep).unwrap_or(rest);
        let mut parts = rest.split(sep);
        let server = parts.next().unwrap_or_default();
        let share = parts.next().ok_or(UncError::NoShare)?;
        if parts.any(str::is_empty) {
            return Err(UncError::EmptyComponent);
        }
        let server = parse_server(server)?;
        // MS-FSCC 2.1.6 (share names): no control characters and none of `"\/[]:|<>+=;,*?`.
        if share.is_empty() {
            return Err(UncError::NoShare);
        }
        if share.len() > 80 || share.chars().any(|c| c.is_control() || "\"\\/[]:|<>+=;,*?".contains(c)) {
            return Err(UncError::BadShare);
        }
        Ok(UncPath { server, share: share.to_string() })
    }

    /// The path in the form the report uses: `\\server\share`.
    pub fn display(&self) -> String {
        if self.server.contains(':') {
            format!("\\\\[{}]\\{}", self.server, self.share)
        } else {
            format!("\\\\{}\\{}", self.server, self.share)
        }
    }
}

fn parse_server(server: &str) -> Result<String, UncError> {
    if let Some(inner) = server.strip_prefix('[').and_then(|s| s.strip_suffix(']')) {
        return inner.parse::<std::net::Ipv6Addr>().map(|a| a.to_string()).map_err(|_| UncError::BadServer);
    }
    // A DNS name or NetBIOS name (RFC 1123 labels; NetBIOS names are at most 15 characters
    // of the same set in practice), or an IPv4 address.
    let ok_label = |l: &str| {
        !l.is_empty()
            && l.len() <= 63
            && l.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
            && !l.starts_with('-')
            && !l.ends_with('-')
    };
    if server.is_empty() {
        return Err(UncError::NoServer);
    }
    if server.len() > 253 || !server.split('.').all(ok_label) {
        return Err(UncError::BadServer);
    }
    Ok(server.to_string())
}

/// Why a UNC path was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum UncError {
    /// It does not start with `\\` or `//`.
    #[error("a share path starts with \\\\ or // (\\\\server\\share)")]
    NoPrefix,
    /// No server name.
    #[error("no server name")]
    NoServer,
    /// The server is neither a host name nor an address.
    #[error("the server is not a host name or an address")]
    BadServer,
    /// No share name after the server.
    #[error("no share name after the server")]
    NoShare,
    /// The share name has characters share names cannot have, or is too long.
    #[error("the share name has a character share names cannot have, or is over 80 characters")]
    BadShare,
    /// Two separators in a row below the share.
    #[error("an empty path component")]
    EmptyComponent,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_unc_forms_parse_to_the_same_server_and_share() {
        let a = UncPath::parse(r"\\fs1.corp.example\data").unwrap();
        let b = UncPath::parse("//fs1.corp.example/data/").unwrap();
        assert_eq!(a, b);
        assert_eq!((a.server.as_str(), a.share.as_str()), ("fs1.corp.example", "data"));
        assert_eq!(a.display(), r"\\fs1.corp.example\data");
        let deep = UncPath::parse(r"\\FS1\Team$\2026\plans").unwrap();
        assert_eq!((deep.server.as_str(), deep.share.as_str()), ("FS1", "Team$"));
        let v6 = UncPath::parse(r"\\[2001:db8::1]\x").unwrap();
        assert_eq!(v6.server, "2001:db8::1");
        assert_eq!(v6.display(), r"\\[2001:db8::1]\x");
        assert_eq!(UncPath::parse(r"\\198.18.1.2\data").unwrap().server, "198.18.1.2");
    }

    #[test]
    fn malformed_unc_paths_are_refused_with_their_reason() {
        let cases = [
            ("fs1\\data", UncError::NoPrefix),
            (r"\fs1\data", UncError::NoPrefix),
            (r"\\\data", UncError::NoServer),
            (r"\\fs1", UncError::NoShare),
            (r"\\fs1\", UncError::NoShare),
            (r"\\fs 1\data", UncError::BadServer),
            (r"\\[zz]\data", UncError::BadServer),
            (r"\\fs1\da:ta", UncError::BadShare),
            (r"\\fs1\data\\x", UncError::EmptyComponent),
            ("//fs1/a*b", UncError::BadShare),
        ];
        for (text, want) in cases {
            assert_eq!(UncPath::parse(text), Err(want), "{text}");
        }
    }

    #[test]
    fn validate_names_the_bad_share() {
        let s = SmbSettings { shares: vec![r"\\fs1\ok".into(), "fs1/bad".into()], ..SmbSettings::default() };
        assert!(matches!(s.validate(), Err(ConfigError::Invalid { what, .. }) if what == "profiles.smb.shares"));
        let good = SmbSettings { shares: vec![r"\\fs1\ok".into(), "//fs2/b".into()], ..SmbSettings::default() };
        assert!(good.validate().is_ok());
        assert_eq!(good.unc_paths().len(), 2);
    }

    #[test]
    fn the_toml_table_reads_shares_in_both_quotings() {
        let s: SmbSettings =
            toml::from_str("shares = ['\\\\fs1\\data', \"\\\\\\\\fs2\\\\x\"]\ntimeout_ms = 500").unwrap();
        assert_eq!(s.unc_paths().iter().map(UncPath::display).collect::<Vec<_>>(), [r"\\fs1\data", r"\\fs2\x"]);
        assert_eq!(s.timeout_ms, 500);
    }
}
