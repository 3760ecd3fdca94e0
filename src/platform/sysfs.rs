//! Facts about an interface that netlink does not carry, from `/sys/class/net/IF/`.
//!
//! Speed and duplex come from the driver through sysfs (`ethtool` reads the same); they are
//! absent or `-1`/`unknown` on virtual links and links without carrier, which is reported
//! as unknown rather than guessed.

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
