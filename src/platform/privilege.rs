//! Which network capabilities the process holds, read from `/proc/self/status`.
//!
//! Checks that need CAP_NET_RAW (ARP, ICMP, DHCP over packet sockets) consult this before
//! opening sockets, so a missing capability is reported as `tool.no_privilege` with a way
//! to grant it, not as a bare EPERM.

use serde::Serialize;

const CAP_NET_ADMIN: u32 = 12;
const CAP_NET_RAW: u32 = 13;

/// The capabilities nettriage cares about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Privileges {
    /// CAP_NET_RAW: raw and packet sockets.
    pub net_raw: bool,
    /// CAP_NET_ADMIN: interface and socket options that change state.
    pub net_admin: bool,
}

impl Privileges {
    /// Reads the effective capabilities of this process; none if they cannot be read.
    pub fn current() -> Privileges {
        std::fs::read_to_string("/proc/self/status")
            .ok()
            .and_then(|status| parse_status(&status))
            .unwrap_or(Privileges { net_raw: false, net_admin: false })
    }

    /// Whether both capabilities are held.
    pub fn full(self) -> bool {
        self.net_raw && self.net_admin
    }
}

/// Parses the `CapEff:` line of a `/proc/PID/status` text.
pub fn parse_status(status: &str) -> Option<Privileges> {
    let hex = status.lines().find_map(|l| l.strip_prefix("CapEff:"))?.trim();
    let bits = u64::from_str_radix(hex, 16).ok()?;
    Some(Privileges { net_raw: bits & (1 << CAP_NET_RAW) != 0, net_admin: bits & (1 << CAP_NET_ADMIN) != 0 })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_root_and_dropped_capability_sets() {
        let root = "Name:\tx\nCapInh:\t0000000000000000\nCapEff:\t000001ffffffffff\n";
        assert_eq!(parse_status(root), Some(Privileges { net_raw: true, net_admin: true }));
        let raw_only = "CapEff:\t0000000000002000\n";
        assert_eq!(parse_status(raw_only), Some(Privileges { net_raw: true, net_admin: false }));
        assert_eq!(parse_status("CapEff:\t0000000000000000"), Some(Privileges { net_raw: false, net_admin: false }));
        assert_eq!(parse_status("CapEff: zz"), None);
        assert_eq!(parse_status(""), None);
    }
}
