//! `[profiles.ad]`: the settings of the `ad` profile (`src/check/ad.rs`); each
//! threshold's source is in `docs/checks/ad.md`.

use serde::Deserialize;

use crate::config::ConfigError;

/// `[profiles.ad]` settings.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct AdSettings {
    /// How long one network operation of this profile may take, in milliseconds.
    pub timeout_ms: u64,
}

impl Default for AdSettings {
    fn default() -> Self {
        AdSettings { timeout_ms: 2_000 }
    }
}

impl AdSettings {
    /// Checks the values (ranges, syntax).
    pub(crate) fn validate(&self) -> Result<(), ConfigError> {
        crate::config::check_range("profiles.ad.timeout_ms", self.timeout_ms as f64, 10.0, 60_000.0)
    }
}
