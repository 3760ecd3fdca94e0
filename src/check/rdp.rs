//! The `rdp` service profile (docs/checks/rdp.md): SKELETON, filled in by its owner.
//!
//! A profile is a check that runs only when chosen (`--profile rdp`, `[profiles] enabled`),
//! after the layers it needs (`runner::GRAPH`); blocks nothing. Its contract, shared by
//! every profile: a typed evidence, a pure [`judge`], [`details`] (the report's one-line
//! summary), [`targets`] (each target and whether it worked, for metrics), [`budget_ms`]
//! and, with the `live` feature, `run`.

use serde::{Deserialize, Serialize};

use crate::check::ProfileTarget;
use crate::config::RdpSettings;
use crate::report::Finding;

/// What the `rdp` profile observed.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct RdpEvidence {}

/// The findings the evidence shows (pure).
pub fn judge(_ev: &RdpEvidence, _settings: &RdpSettings) -> Vec<Finding> {
    unimplemented!("the rdp profile's judge")
}

/// One line for the report's details column (table, Markdown, HTML).
pub fn details(_ev: &RdpEvidence) -> String {
    unimplemented!("the rdp profile's details line")
}

/// Each target tested and whether it worked (`nettriage_profile_check_success`).
pub fn targets(_ev: &RdpEvidence) -> Vec<ProfileTarget> {
    unimplemented!("the rdp profile's targets")
}

/// The longest this check may take, in milliseconds (the runner's budget).
pub fn budget_ms(settings: &RdpSettings) -> u64 {
    settings.timeout_ms * 3 + 1_000
}

/// Runs the profile's probes and judges them.
#[cfg(feature = "live")]
pub async fn run(_ctx: &crate::check::CheckContext<'_>) -> Result<crate::check::Outcome, crate::check::CheckError> {
    unimplemented!("the rdp profile's probes")
}
