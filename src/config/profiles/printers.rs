//! `[profiles.printers]`: the settings of the `printers` profile (`src/check/printers.rs`); each
//! threshold's source is in `docs/checks/printers.md`.

use serde::Deserialize;

use crate::config::ConfigError;

/// `[profiles.printers]` settings.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct PrintersSettings {
    /// The printers to test: IPP URIs (`ipp://host:631/ipp/print`, `ipps://...`) or host
    /// names and addresses (IPP at `ipp://HOST:631/ipp/print`, raw 9100 and LPD 515).
    pub printers: Vec<String>,
    /// Whether to look for printers advertised over mDNS (DNS-SD) on the interface's segment.
    pub discover: bool,
    /// How long to listen for mDNS answers, in milliseconds.
    pub discovery_ms: u64,
    /// How long one network operation of this profile may take, in milliseconds.
    pub timeout_ms: u64,
    /// How many printers are tested at once.
    pub concurrency: usize,
}

impl Default for PrintersSettings {
    fn default() -> Self {
        PrintersSettings {
            printers: Vec::new(),
            discover: true,
            discovery_ms: 1_000,
            timeout_ms: 2_000,
            concurrency: 8,
        }
    }
}

/// The most printers a configuration may list.
pub const MAX_PRINTERS: usize = 256;

/// A configured printer, parsed: where its IPP service is and which host it is on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PrinterSpec {
    /// `ipp` or `ipps`.
    pub scheme: &'static str,
    /// The host (a name, or an address without brackets).
    pub host: String,
    /// The IPP port (631 unless the URI says).
    pub port: u16,
    /// The resource path without its leading `/` (`ipp/print` unless the URI says).
    pub path: String,
    /// Whether the configuration gave a URI (the printer is expected to speak IPP there)
    /// rather than a host.
    pub uri_given: bool,
}

impl PrinterSpec {
    /// The IPP URI to ask (`ipp://host:port/path`), brackets around IPv6 addresses.
    pub fn uri(&self) -> String {
        let host = if self.host.contains(':') { format!("[{}]", self.host) } else { self.host.clone() };
        format!("{}://{}:{}/{}", self.scheme, host, self.port, self.path)
    }

    /// Parses a `printers` entry: an `ipp://`/`ipps://` URI or a host (pure).
    pub fn parse(text: &str) -> Result<PrinterSpec, String> {
        let text = text.trim();
        let (scheme, rest, uri_given) = if let Some(rest) = text.strip_prefix("ipp://") {
            ("ipp", rest, true)
        } else if let Some(rest) = text.strip_prefix("ipps://") {
            ("ipps", rest, true)
        } else if text.contains("://") {
            return Err(format!("`{text}`: only ipp:// and ipps:// URIs or a host name are understood"));
        } else {
            ("ipp", text, false)
        };
        let (authority, path) = match rest.find('/') {
            Some(i) if uri_given => (&rest[..i], rest[i + 1..].to_string()),
            Some(_) => return Err(format!("`{text}`: a host has no path; give an ipp:// URI")),
            None => (rest, "ipp/print".to_string()),
        };
        let (host, port) = if let Some(inner) = authority.strip_prefix('[') {
            let (addr, after) = inner.split_once(']').ok_or_else(|| format!("`{text}`: unclosed `[`"))?;
            (addr.to_string(), after.strip_prefix(':'))
        } else if authority.matches(':').count() > 1 {
            // A bare IPv6 address.
            (authority.to_string(), None)
        } else {
            match authority.split_once(':') {
                Some((h, p)) => (h.to_string(), Some(p)),
                None => (authority.to_string(), None),
            }
        };
        let port = match port {
            Some(p) => p.parse::<u16>().ok().filter(|&p| p > 0).ok_or_else(|| format!("`{text}`: bad port `{p}`"))?,
            None => 631,
        };
        if host.parse::<std::net::IpAddr>().is_err() {
            crate::config::validate_dns_name(&host).map_err(|e| format!("`{text}`: {e}"))?;
        }
        if path.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return Err(format!("`{text}`: the path has spaces or control characters"));
        }
        Ok(PrinterSpec { scheme, host, port, path, uri_given })
    }
}

impl PrintersSettings {
    /// Checks the values (ranges, syntax).
    pub(crate) fn validate(&self) -> Result<(), ConfigError> {
        crate::config::check_range("profiles.printers.timeout_ms", self.timeout_ms as f64, 10.0, 60_000.0)?;
        crate::config::check_range("profiles.printers.discovery_ms", self.discovery_ms as f64, 100.0, 30_000.0)?;
        crate::config::check_range("profiles.printers.concurrency", self.concurrency as f64, 1.0, 64.0)?;
        if self.printers.len() > MAX_PRINTERS {
            return Err(ConfigError::Invalid {
                what: "profiles.printers.printers".into(),
                message: format!("{} printers, at most {MAX_PRINTERS}", self.printers.len()),
            });
        }
        for p in &self.printers {
            PrinterSpec::parse(p)
                .map_err(|message| ConfigError::Invalid { what: "profiles.printers.printers".into(), message })?;
        }
        Ok(())
    }

    /// The configured printers, parsed (entries that do not parse are left out; `validate`
    /// has refused them already).
    pub fn specs(&self) -> Vec<(String, PrinterSpec)> {
        self.printers.iter().filter_map(|p| PrinterSpec::parse(p).ok().map(|s| (p.clone(), s))).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uris_and_hosts_parse() {
        let s = PrinterSpec::parse("ipp://printer.example:8631/ipp/print/lab").unwrap();
        assert_eq!(
            (s.host.as_str(), s.port, s.path.as_str(), s.uri_given),
            ("printer.example", 8631, "ipp/print/lab", true)
        );
        let s = PrinterSpec::parse("198.18.0.5").unwrap();
        assert_eq!((s.port, s.path.as_str(), s.uri_given), (631, "ipp/print", false));
        assert_eq!(s.uri(), "ipp://198.18.0.5:631/ipp/print");
        let s = PrinterSpec::parse("ipps://[2001:db8::5]/ipp").unwrap();
        assert_eq!((s.scheme, s.host.as_str(), s.port), ("ipps", "2001:db8::5", 631));
        assert_eq!(s.uri(), "ipps://[2001:db8::5]:631/ipp");
        assert_eq!(PrinterSpec::parse("2001:db8::5").unwrap().host, "2001:db8::5");
    }

    #[test]
    fn the_table_reads_from_toml_and_unknown_keys_are_refused() {
        let s: PrintersSettings = toml::from_str(
            "printers = [\"ipp://198.18.0.20:8631/ipp/print\", \"printer-2f\"]\ndiscover = false\ndiscovery_ms = 500",
        )
        .unwrap();
        assert_eq!((s.printers.len(), s.discover, s.discovery_ms, s.timeout_ms), (2, false, 500, 2_000));
        assert!(s.validate().is_ok());
        assert_eq!(s.specs().len(), 2);
        assert!(toml::from_str::<PrintersSettings>("printer = []").is_err());
    }

    #[test]
    fn bad_entries_are_refused() {
        for bad in
            ["http://printer/", "ipp://printer:0/", "ipp://printer:99999/", "bad host", "host/path", "ipp://[::1/"]
        {
            assert!(PrinterSpec::parse(bad).is_err(), "{bad}");
        }
        let settings = PrintersSettings { printers: vec!["smb://x".into()], ..Default::default() };
        assert!(settings.validate().is_err());
        assert!(PrintersSettings::default().validate().is_ok());
        assert!(PrintersSettings { discovery_ms: 10, ..Default::default() }.validate().is_err());
    }
}
