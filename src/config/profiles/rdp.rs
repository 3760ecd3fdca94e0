//! `[profiles.rdp]`: the settings of the `rdp` profile (`src/check/rdp.rs`); each
//! threshold's source is in `docs/checks/rdp.md`.

use serde::Deserialize;

use crate::config::ConfigError;

/// `[profiles.rdp]` settings.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct RdpSettings {
    /// How long one network operation of this profile may take, in milliseconds.
    pub timeout_ms: u64,
}

impl Default for RdpSettings {
    fn default() -> Self {
        RdpSettings { timeout_ms: 2_000 }
    }
}

impl RdpSettings {
    /// Checks the values (ranges, syntax).
    pub(crate) fn validate(&self) -> Result<(), ConfigError> {
        crate::config::check_range("profiles.rdp.timeout_ms", self.timeout_ms as f64, 10.0, 60_000.0)
    }
}
