//! `[profiles]` settings: the service profiles a run adds after the network layers
//! (`--profile NAME`, repeatable, or `enabled = [...]` here), and each profile's own table
//! (`[profiles.ad]`, `[profiles.smb]`, `[profiles.printers]`, `[profiles.m365]`,
//! `[profiles.rdp]`).
//!
//! A profile is a check (`src/check/<profile>.rs`) that runs only when chosen; its settings
//! live in `src/config/profiles/<profile>.rs`, one file each, so every profile is one check
//! file and one settings file. Each threshold's source is in `docs/checks/<profile>.md`.

use serde::{Deserialize, Serialize};

use super::ConfigError;
use crate::report::CheckId;

mod ad;
mod m365;
mod printers;
mod rdp;
mod smb;

pub use ad::AdSettings;
pub use m365::{M365Endpoint, M365Settings};
pub use printers::{PrinterSpec, PrintersSettings};
pub use rdp::RdpSettings;
pub use smb::{SmbSettings, UncError, UncPath};

/// A service profile: an extra check chosen by `--profile` or `[profiles] enabled`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Profile {
    /// Active Directory: domain controllers, Kerberos, LDAP, the clock against the DC.
    Ad,
    /// File shares: SMB2 negotiation with the configured servers.
    Smb,
    /// Printers: IPP state, raw 9100 and LPD 515, the ones advertised over mDNS.
    Printers,
    /// Microsoft 365: the published endpoints through the web layer, Teams media ports.
    M365,
    /// Remote desktop: TCP 3389 and the RDP negotiation.
    Rdp,
}

impl Profile {
    /// Every profile, in report order.
    pub const ALL: [Profile; 5] = [Profile::Ad, Profile::Smb, Profile::Printers, Profile::M365, Profile::Rdp];

    /// The name used on the command line, in the config file and in metrics.
    pub fn name(self) -> &'static str {
        match self {
            Profile::Ad => "ad",
            Profile::Smb => "smb",
            Profile::Printers => "printers",
            Profile::M365 => "m365",
            Profile::Rdp => "rdp",
        }
    }
}

impl Profile {
    /// The check that runs this profile.
    pub fn check(self) -> CheckId {
        match self {
            Profile::Ad => CheckId::Ad,
            Profile::Smb => CheckId::Smb,
            Profile::Printers => CheckId::Printers,
            Profile::M365 => CheckId::M365,
            Profile::Rdp => CheckId::Rdp,
        }
    }

    /// The profile a check runs, if it is a profile's check.
    pub fn of_check(id: CheckId) -> Option<Profile> {
        Profile::ALL.into_iter().find(|p| p.check() == id)
    }
}

impl std::fmt::Display for Profile {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// `[profiles]`: which profiles run, and each one's settings.
#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct ProfilesSettings {
    /// The profiles every run adds (the command line's `--profile` adds to these).
    pub enabled: Vec<Profile>,
    /// `[profiles.ad]`.
    pub ad: AdSettings,
    /// `[profiles.smb]`.
    pub smb: SmbSettings,
    /// `[profiles.printers]`.
    pub printers: PrintersSettings,
    /// `[profiles.m365]`.
    pub m365: M365Settings,
    /// `[profiles.rdp]`.
    pub rdp: RdpSettings,
}

impl ProfilesSettings {
    /// Whether `profile` runs.
    pub fn is_enabled(&self, profile: Profile) -> bool {
        self.enabled.contains(&profile)
    }

    /// Adds the command line's profiles to the file's, each once, in [`Profile::ALL`] order.
    pub(super) fn with(mut self, extra: &[Profile]) -> Self {
        let chosen: Vec<Profile> =
            Profile::ALL.into_iter().filter(|p| self.enabled.contains(p) || extra.contains(p)).collect();
        self.enabled = chosen;
        self
    }

    /// Checks every profile's settings (also of profiles not enabled: a bad file is an
    /// error whether or not the profile runs today).
    pub(super) fn validate(&self) -> Result<(), ConfigError> {
        self.ad.validate()?;
        self.smb.validate()?;
        self.printers.validate()?;
        self.m365.validate()?;
        self.rdp.validate()
    }
}
