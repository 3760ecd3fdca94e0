//! The addressing layer: does the interface hold a usable IPv4 address?
//!
//! This is the lease-state half of the DHCP layer, read from the run's netlink snapshot
//! (no packets are sent). The active DHCP probe (DISCOVER/OFFER) is not built yet; the
//! evidence says so instead of pretending. `usable_ipv4` is also what the gateway check
//! uses as its source address.

use std::net::{IpAddr, Ipv4Addr};

use serde::Serialize;

use crate::check::{CheckContext, CheckError, Outcome, evidence, finding};
use crate::platform::netlink::{IfAddr, Interface};
use crate::report::{CheckId, Code, Finding, Severity};

/// What the addressing check saw.
#[derive(Debug, Clone, Serialize)]
pub struct DhcpEvidence {
    /// The interface's IPv4 addresses, usable or not.
    pub ipv4: Vec<IfAddr>,
    /// The address later checks use as their source.
    pub usable_ipv4: Option<Ipv4Addr>,
    /// Whether an active DHCP probe ran (`not_run` until that probe exists).
    pub probe: &'static str,
}

/// The first IPv4 address fit to talk from: global scope, not link-local (169.254/16),
/// not tentative and not a duplicate.
pub fn usable_ipv4(iface: &Interface) -> Option<(Ipv4Addr, u8)> {
    iface.addresses.iter().find_map(|a| match a.address {
        IpAddr::V4(ip) if is_usable(a, ip) => Some((ip, a.prefix_len)),
        _ => None,
    })
}

fn is_usable(a: &IfAddr, ip: Ipv4Addr) -> bool {
    !ip.is_link_local() && !ip.is_loopback() && !a.tentative && !a.dad_failed && a.scope == "global"
}

/// Runs the addressing check.
pub async fn run(ctx: &CheckContext<'_>) -> Result<Outcome, CheckError> {
    let Some(iface) = ctx.interface else {
        return Err(CheckError::Other("no interface under test".into()));
    };
    let ev = observe(iface);
    Ok(Outcome::Ran { findings: judge(&iface.name, &ev), evidence: evidence(&ev) })
}

/// Collects the addressing evidence of `iface` (pure).
pub fn observe(iface: &Interface) -> DhcpEvidence {
    DhcpEvidence {
        ipv4: iface.addresses.iter().filter(|a| a.address.is_ipv4()).cloned().collect(),
        usable_ipv4: usable_ipv4(iface).map(|(ip, _)| ip),
        probe: "not_run",
    }
}

/// Judges the addressing (pure).
pub fn judge(ifname: &str, ev: &DhcpEvidence) -> Vec<Finding> {
    if ev.usable_ipv4.is_some() {
        return Vec::new();
    }
    let seen: Vec<String> = ev.ipv4.iter().map(|a| format!("{}/{}", a.address, a.prefix_len)).collect();
    let message = if seen.is_empty() {
        format!("{ifname} has no IPv4 address")
    } else {
        format!("{ifname} has no usable IPv4 address (only {})", seen.join(", "))
    };
    vec![finding(CheckId::Dhcp, Code::DhcpNoIpv4, Severity::Fail, message)]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn addr(ip: &str, scope: &str) -> IfAddr {
        IfAddr {
            address: ip.parse().unwrap(),
            prefix_len: 24,
            scope: scope.into(),
            dynamic: true,
            tentative: false,
            dad_failed: false,
            valid_lft_s: Some(3600),
            preferred_lft_s: Some(3600),
        }
    }

    fn iface(addresses: Vec<IfAddr>) -> Interface {
        Interface {
            index: 2,
            name: "eth0".into(),
            link_type: "ether".into(),
            mac: None,
            mtu: None,
            admin_up: true,
            lower_up: true,
            carrier: Some(true),
            oper_state: "up".into(),
            carrier_changes: None,
            counters: None,
            addresses,
        }
    }

    #[test]
    fn global_ipv4_is_usable() {
        let i = iface(vec![addr("fe80::1", "link"), addr("198.18.0.10", "global")]);
        assert_eq!(usable_ipv4(&i), Some((Ipv4Addr::new(198, 18, 0, 10), 24)));
        assert!(judge("eth0", &observe(&i)).is_empty());
    }

    #[test]
    fn apipa_duplicate_or_missing_ipv4_is_no_ipv4() {
        let mut dup = addr("198.18.0.10", "global");
        dup.dad_failed = true;
        for addrs in [vec![], vec![addr("169.254.3.4", "link")], vec![dup], vec![addr("2001:db8::1", "global")]] {
            let ev = observe(&iface(addrs));
            let codes: Vec<_> = judge("eth0", &ev).iter().map(|f| f.code).collect();
            assert_eq!(codes, [Code::DhcpNoIpv4]);
        }
    }
}
