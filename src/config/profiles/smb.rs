//! `[profiles.smb]`: the settings of the `smb` profile (`src/check/smb.rs`); each
//! threshold's source is in `docs/checks/smb.md`.

use serde::Deserialize;

use crate::config::ConfigError;

/// `[profiles.smb]` settings.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct SmbSettings {
    /// How long one network operation of this profile may take, in milliseconds.
    pub timeout_ms: u64,
}

impl Default for SmbSettings {
    fn default() -> Self {
        SmbSettings { timeout_ms: 2_000 }
    }
}

impl SmbSettings {
    /// Checks the values (ranges, syntax).
    pub(crate) fn validate(&self) -> Result<(), ConfigError> {
        crate::config::check_range("profiles.smb.timeout_ms", self.timeout_ms as f64, 10.0, 60_000.0)
    }
}
