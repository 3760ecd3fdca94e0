//! `[profiles.printers]`: the settings of the `printers` profile (`src/check/printers.rs`); each
//! threshold's source is in `docs/checks/printers.md`.

use serde::Deserialize;

use crate::config::ConfigError;

/// `[profiles.printers]` settings.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct PrintersSettings {
    /// How long one network operation of this profile may take, in milliseconds.
    pub timeout_ms: u64,
}

impl Default for PrintersSettings {
    fn default() -> Self {
        PrintersSettings { timeout_ms: 2_000 }
    }
}

impl PrintersSettings {
    /// Checks the values (ranges, syntax).
    pub(crate) fn validate(&self) -> Result<(), ConfigError> {
        crate::config::check_range("profiles.printers.timeout_ms", self.timeout_ms as f64, 10.0, 60_000.0)
    }
}
