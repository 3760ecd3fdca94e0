//! The `m365` service profile (docs/checks/m365.md): SKELETON, filled in by its owner.
//!
//! A profile is a check that runs only when chosen (`--profile m365`, `[profiles] enabled`),
//! after the layers it needs (`runner::GRAPH`); blocks nothing. Its contract, shared by
//! every profile: a typed evidence, a pure [`judge`], [`details`] (the report's one-line
//! summary), [`targets`] (each target and whether it worked, for metrics), [`budget_ms`]
//! and, with the `live` feature, `run`.

use serde::{Deserialize, Serialize};

use crate::check::ProfileTarget;
use crate::config::M365Settings;
use crate::report::Finding;

/// What the `m365` profile observed.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct M365Evidence {}

/// The findings the evidence shows (pure).
pub fn judge(_ev: &M365Evidence, _settings: &M365Settings) -> Vec<Finding> {
    unimplemented!("the m365 profile's judge")
}

/// One line for the report's details column (table, Markdown, HTML).
pub fn details(_ev: &M365Evidence) -> String {
    unimplemented!("the m365 profile's details line")
}

/// Each target tested and whether it worked (`nettriage_profile_check_success`).
pub fn targets(_ev: &M365Evidence) -> Vec<ProfileTarget> {
    unimplemented!("the m365 profile's targets")
}

/// The longest this check may take, in milliseconds (the runner's budget).
pub fn budget_ms(settings: &M365Settings) -> u64 {
    settings.timeout_ms * 3 + 1_000
}

/// Runs the profile's probes and judges them.
#[cfg(feature = "live")]
pub async fn run(_ctx: &crate::check::CheckContext<'_>) -> Result<crate::check::Outcome, crate::check::CheckError> {
    unimplemented!("the m365 profile's probes")
}
