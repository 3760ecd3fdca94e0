//! The Wi-Fi layer: association, signal and channel from nl80211.
//!
//! Not built yet. On a wired interface the check is skipped with that reason; on a
//! wireless one it is skipped saying the Wi-Fi checks are not available in this version,
//! so no result is ever invented.

use serde::Serialize;

use crate::check::{CheckContext, CheckError, Outcome, evidence};
use crate::platform::sysfs;

#[derive(Serialize)]
struct WifiEvidence {
    wireless: bool,
}

/// Runs the Wi-Fi check.
pub async fn run(ctx: &CheckContext<'_>) -> Result<Outcome, CheckError> {
    let Some(iface) = ctx.interface else {
        return Ok(Outcome::Skipped {
            reason: "no interface under test".into(),
            blocked_by: None,
            evidence: serde_json::Value::Null,
        });
    };
    let wireless = sysfs::is_wireless(&iface.name);
    let reason = if wireless {
        format!("{} is wireless, but Wi-Fi checks are not available in this version", iface.name)
    } else {
        "not a wireless interface".to_string()
    };
    Ok(Outcome::Skipped { reason, blocked_by: None, evidence: evidence(&WifiEvidence { wireless }) })
}
