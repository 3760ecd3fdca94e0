//! The link layer: is the interface there, switched on, with carrier, and clean?
//!
//! Observations come from the run's netlink snapshot plus speed/duplex from sysfs; the
//! judging is pure (`judge`). This is the first layer: when it fails, everything after it
//! is reported as blocked by `link`.

use serde::{Deserialize, Serialize};

use crate::check::{CheckContext, CheckError, Outcome, finding};
use crate::config::LinkSettings;
use crate::platform::netlink::Interface;
use crate::platform::sysfs;
use crate::report::{CheckId, Code, Evidence, Finding, Severity};

/// What the link check saw.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LinkEvidence {
    /// The interface under test, as netlink reports it; null when there is none.
    pub interface: Option<Interface>,
    /// Link speed in Mbit/s, where the driver reports it.
    pub speed_mbps: Option<u32>,
    /// `full` or `half`, where the driver reports it.
    pub duplex: Option<String>,
    /// How the interface was chosen: `requested`, `default_route`, `first_up`, or `none`.
    pub selected_by: String,
}

/// Runs the link check.
pub async fn run(ctx: &CheckContext<'_>) -> Result<Outcome, CheckError> {
    let speed = ctx.interface.map(|i| sysfs::link_speed(&i.name)).unwrap_or_default();
    let selected_by = if ctx.interface.is_none() {
        "none"
    } else if ctx.config.interface.is_some() {
        "requested"
    } else if ctx.interface.is_some_and(|i| ctx.snapshot.default_routes().iter().any(|r| r.oif == Some(i.index))) {
        "default_route"
    } else {
        "first_up"
    };
    let ev = LinkEvidence {
        interface: ctx.interface.cloned(),
        speed_mbps: speed.speed_mbps,
        duplex: speed.duplex,
        selected_by: selected_by.to_string(),
    };
    Ok(Outcome::Ran { findings: judge(&ev, &ctx.config.link), evidence: Evidence::Link(Box::new(ev)) })
}

/// Judges the link (pure).
pub fn judge(ev: &LinkEvidence, settings: &LinkSettings) -> Vec<Finding> {
    let f = |code, severity, message: String| finding(CheckId::Link, code, severity, message);
    let Some(iface) = &ev.interface else {
        return vec![f(
            Code::LinkNoInterface,
            Severity::Fail,
            "no interface to test: none has a default route and none besides loopback is up".into(),
        )];
    };
    if iface.link_type == crate::platform::netlink::LinkType::Loopback {
        return vec![f(
            Code::LinkUnsuitable,
            Severity::Fail,
            format!("{} is the loopback interface: it has no network, router or DHCP server to test", iface.name),
        )];
    }
    if !iface.admin_up {
        return vec![f(Code::LinkAdminDown, Severity::Fail, format!("{} is administratively down", iface.name))];
    }
    if !iface.has_carrier() {
        return vec![f(
            Code::LinkNoCarrier,
            Severity::Fail,
            format!("{} is up but has no carrier (operstate {})", iface.name, iface.oper_state),
        )];
    }
    let mut findings = Vec::new();
    if let Some(c) = iface.counters {
        let errors = c.rx_errors + c.tx_errors;
        let packets = c.rx_packets + c.tx_packets + errors;
        if errors >= settings.error_min_count && packets > 0 {
            let ratio = errors as f64 / packets as f64;
            if ratio > settings.error_ratio_warn {
                findings.push(f(
                    Code::LinkErrors,
                    Severity::Warn,
                    format!(
                        "{} has {errors} errors in {packets} packets ({:.2} %; rx {} of which CRC {}, tx {})",
                        iface.name,
                        ratio * 100.0,
                        c.rx_errors,
                        c.rx_crc_errors,
                        c.tx_errors
                    ),
                ));
            }
        }
    }
    findings
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::platform::netlink::{Counters, LinkType};

    fn iface() -> Interface {
        Interface {
            index: 2,
            name: "eth0".into(),
            link_type: LinkType::Ether,
            mac: None,
            mtu: Some(1500),
            admin_up: true,
            lower_up: true,
            carrier: Some(true),
            oper_state: "up".into(),
            carrier_changes: Some(1),
            counters: None,
            addresses: vec![],
        }
    }

    fn codes(iface: Option<Interface>) -> Vec<Code> {
        let ev =
            LinkEvidence { interface: iface, speed_mbps: None, duplex: None, selected_by: "requested".to_string() };
        judge(&ev, &LinkSettings::default()).iter().map(|f| f.code).collect()
    }

    #[test]
    fn healthy_link_has_no_findings() {
        assert!(codes(Some(iface())).is_empty());
    }

    #[test]
    fn missing_down_and_carrierless_links_fail_in_that_order() {
        assert_eq!(codes(None), [Code::LinkNoInterface]);
        let mut down = iface();
        down.admin_up = false;
        down.carrier = Some(false);
        assert_eq!(codes(Some(down)), [Code::LinkAdminDown]);
        let mut no_carrier = iface();
        no_carrier.carrier = Some(false);
        no_carrier.lower_up = false;
        assert_eq!(codes(Some(no_carrier)), [Code::LinkNoCarrier]);
    }

    #[test]
    fn loopback_is_unsuitable_not_an_addressing_failure() {
        let mut lo = iface();
        (lo.name, lo.link_type) = ("lo".into(), LinkType::Loopback);
        assert_eq!(codes(Some(lo)), [Code::LinkUnsuitable]);
    }

    #[test]
    fn errors_warn_only_above_ratio_and_count() {
        let counters = |rx_errors| Counters {
            rx_packets: 10_000,
            tx_packets: 10_000,
            rx_errors,
            tx_errors: 0,
            rx_dropped: 0,
            tx_dropped: 0,
            rx_crc_errors: rx_errors,
        };
        let mut few = iface();
        few.counters = Some(counters(5));
        assert!(codes(Some(few)).is_empty(), "5 errors are below the minimum count");
        let mut low = iface();
        low.counters = Some(counters(15));
        assert!(codes(Some(low)).is_empty(), "0.075 % is below 0.1 %");
        let mut bad = iface();
        bad.counters = Some(counters(500));
        assert_eq!(codes(Some(bad)), [Code::LinkErrors]);
    }
}
