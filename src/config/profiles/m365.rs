//! `[profiles.m365]`: the settings of the `m365` profile (`src/check/m365.rs`): the
//! endpoint list is data here (with the published defaults), not code; each threshold's
//! source is in `docs/checks/m365.md`.

use serde::Deserialize;

use crate::config::ConfigError;

/// One Microsoft 365 endpoint to test.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct M365Endpoint {
    /// The service category (`exchange`, `sharepoint`, `teams`, `login`).
    pub category: String,
    /// The HTTPS URL requested.
    pub url: String,
}

/// `[profiles.m365]` settings.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct M365Settings {
    /// How long one network operation of this profile may take, in milliseconds.
    pub timeout_ms: u64,
    /// The endpoints tested.
    pub endpoints: Vec<M365Endpoint>,
}

impl Default for M365Settings {
    fn default() -> Self {
        M365Settings { timeout_ms: 3_000, endpoints: Vec::new() }
    }
}

impl M365Settings {
    /// Checks the values (ranges, syntax).
    pub(crate) fn validate(&self) -> Result<(), ConfigError> {
        crate::config::check_range("profiles.m365.timeout_ms", self.timeout_ms as f64, 10.0, 60_000.0)
    }
}
