//! Facts about an interface that netlink does not carry, from `/sys/class/net/IF/`.
//!
//! Speed and duplex come from the driver through sysfs (`ethtool` reads the same); they are
//! absent or `-1`/`unknown` on virtual links and links without carrier, which is reported
//! as unknown rather than guessed. The interface's IPv6 settings (`disable_ipv6`,
//! `accept_ra`, `autoconf`, `forwarding`) come from `/proc/sys/net/ipv6/conf/IF/`, the
//! same files `sysctl` reads.

use std::path::Path;

/// Link speed in Mbit/s and duplex, where the driver reports them.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LinkSpeed {
    /// Mbit/s.
    pub speed_mbps: Option<u32>,
    /// `full` or `half`.
    pub duplex: Option<String>,
}

/// Reads speed and duplex of `ifname`.
pub fn link_speed(ifname: &str) -> LinkSpeed {
    let dir = Path::new("/sys/class/net").join(ifname);
    let read = |file: &str| std::fs::read_to_string(dir.join(file)).ok();
    LinkSpeed {
        speed_mbps: read("speed").and_then(|s| parse_speed(&s)),
        duplex: read("duplex").and_then(|s| parse_duplex(&s)),
    }
}

/// Whether `ifname` is an 802.11 interface (it has a `phy80211` link in sysfs).
pub fn is_wireless(ifname: &str) -> bool {
    Path::new("/sys/class/net").join(ifname).join("phy80211").exists()
}

/// An interface's IPv6 sysctls (`/proc/sys/net/ipv6/conf/IF/`); each `None` when the file
/// is missing or unreadable (no IPv6 in the kernel: the whole directory is missing).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Ipv6Conf {
    /// `disable_ipv6`: 1 turns IPv6 off on the interface.
    pub disable_ipv6: Option<i64>,
    /// `accept_ra`: 0 ignores Router Advertisements, 1 accepts them unless forwarding, 2
    /// accepts them even when forwarding.
    pub accept_ra: Option<i64>,
    /// `autoconf`: 0 forms no SLAAC addresses from RA prefixes.
    pub autoconf: Option<i64>,
    /// `forwarding`: 1 makes the interface a router (it then ignores RAs unless
    /// `accept_ra` is 2).
    pub forwarding: Option<i64>,
}

impl Ipv6Conf {
    /// Whether IPv6 is switched off: `disable_ipv6` is set, or the kernel has no IPv6.
    pub fn disabled(&self) -> bool {
        self.disable_ipv6.is_none_or(|v| v != 0)
    }
}

/// Reads the IPv6 sysctls of `ifname`.
pub fn ipv6_conf(ifname: &str) -> Ipv6Conf {
    let dir = Path::new("/proc/sys/net/ipv6/conf").join(ifname);
    let read = |file: &str| std::fs::read_to_string(dir.join(file)).ok().and_then(|s| s.trim().parse::<i64>().ok());
    Ipv6Conf {
        disable_ipv6: read("disable_ipv6"),
        accept_ra: read("accept_ra"),
        autoconf: read("autoconf"),
        forwarding: read("forwarding"),
    }
}

fn parse_speed(text: &str) -> Option<u32> {
    text.trim().parse::<i64>().ok().filter(|v| *v > 0).and_then(|v| u32::try_from(v).ok())
}

fn parse_duplex(text: &str) -> Option<String> {
    match text.trim() {
        d @ ("full" | "half") => Some(d.to_string()),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_speed_and_duplex_are_none() {
        assert_eq!(parse_speed("1000\n"), Some(1000));
        assert_eq!(parse_speed("-1\n"), None);
        assert_eq!(parse_speed("4294967295"), Some(4_294_967_295));
        assert_eq!(parse_speed(""), None);
        assert_eq!(parse_duplex("full\n").as_deref(), Some("full"));
        assert_eq!(parse_duplex("unknown"), None);
    }
}
