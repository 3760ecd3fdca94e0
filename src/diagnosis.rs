//! Root-cause inference over check results: pure functions, no I/O.
//!
//! The run is `broken` when any check failed, `degraded` when something warned or could
//! not run, `unknown` when every check was skipped (nothing to judge: a capture without
//! the traffic the checks read), `healthy` otherwise. The root cause is the earliest layer in graph order
//! (link, wifi, dhcp, gateway, dns, path, web, ports) that failed; when nothing failed, the earliest
//! warning. Later layers that failed only because of it are already `skipped` by the
//! runner, so this is the layer a technician should look at first.
//!
//! One cause is judged across layers: when DHCP servers that set the client up differently
//! answered (`dhcp.multiple_servers` with offers that disagree, a warning on its own) and
//! a layer that lives on DHCP's settings (gateway, dns, ports) failed, the competing
//! server is the root cause: the client may hold the wrong server's lease (a rogue that
//! answered first), and the failure above is its symptom.

use crate::check::gateway::ArpStatus;
use crate::report::{
    CheckId, CheckResult, CheckStatus, Code, Diagnosis, Evidence, Finding, RootCause, RunStatus, Severity,
};

/// Diagnoses a run from its check results (in report order).
pub fn diagnose(checks: &[CheckResult]) -> Diagnosis {
    let findings: Vec<_> = checks.iter().flat_map(|c| c.findings.iter().cloned()).collect();
    let any = |s: CheckStatus| checks.iter().any(|c| c.status == s);
    let status = if any(CheckStatus::Fail) {
        RunStatus::Broken
    } else if any(CheckStatus::Warn) || any(CheckStatus::Error) || !findings.is_empty() {
        RunStatus::Degraded
    } else if checks.iter().all(|c| c.status == CheckStatus::Skipped) {
        RunStatus::Unknown
    } else {
        RunStatus::Healthy
    };
    let deciding = match status {
        RunStatus::Healthy | RunStatus::Unknown => None,
        RunStatus::Broken => {
            let failed = findings.iter().find(|f| f.severity == Severity::Fail);
            failed.and_then(|f| competing_dhcp(checks, &findings, f)).or(failed)
        }
        RunStatus::Degraded => findings.first(),
    };
    let root_cause = deciding.map(|f| RootCause {
        code: f.code,
        layer: f.layer,
        summary: summary(f.code, checks),
        next_steps: f.code.next_steps().iter().map(|s| s.to_string()).collect(),
    });
    Diagnosis { status, root_cause, findings }
}

/// The root cause's summary, in words that fit this run's evidence: the code's summary,
/// except where other layers saw something that contradicts its plain reading.
///
/// - `gateway.unreachable` when the router that did not answer ARP answered this run's
///   DHCP DISCOVER (or the full exchange): it is alive, so the words are "answered DHCP but
///   not ARP", not "not responding at all".
fn summary(code: Code, checks: &[CheckResult]) -> String {
    if code == Code::GatewayUnreachable {
        let silent: Vec<std::net::IpAddr> = checks
            .iter()
            .filter_map(|c| c.gateway())
            .flat_map(|g| g.gateways.iter())
            .filter(|g| g.arp.status != ArpStatus::Answered)
            .map(|g| g.address)
            .collect();
        let answered_dhcp = checks.iter().filter_map(|c| c.dhcp()).any(|d| {
            let full = d.full.iter().flat_map(|f| f.offer.iter().chain(f.reply.iter()));
            d.probe.offers.iter().chain(full).any(|reply| silent.contains(&std::net::IpAddr::V4(reply.server)))
        });
        if answered_dhcp {
            return "The router answered DHCP in this run but not ARP: a filter or an ARP problem on the router, \
                    not a router that is switched off."
                .into();
        }
    }
    code.summary().to_string()
}

/// The `dhcp.multiple_servers` finding when it explains `failed`: a failure in a layer
/// that uses DHCP's settings, with servers whose offers disagree.
fn competing_dhcp<'f>(checks: &[CheckResult], findings: &'f [Finding], failed: &Finding) -> Option<&'f Finding> {
    if !matches!(failed.layer, CheckId::Gateway | CheckId::Dns | CheckId::Ports) {
        return None;
    }
    let disagree = checks.iter().any(|c| matches!(&c.evidence, Evidence::Dhcp(ev) if ev.offers_disagree()));
    findings.iter().find(|f| f.code == Code::DhcpMultipleServers).filter(|_| disagree)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(id: CheckId, status: CheckStatus, findings: Vec<(Code, Severity)>) -> CheckResult {
        CheckResult {
            id,
            status,
            duration_ms: 1,
            blocked_by: None,
            reason: None,
            reason_code: None,
            findings: findings
                .into_iter()
                .map(|(code, severity)| Finding { code, severity, layer: id, message: String::new() })
                .collect(),
            evidence: crate::report::Evidence::None,
        }
    }

    #[test]
    fn healthy_run_has_no_root_cause() {
        let d = diagnose(&[
            check(CheckId::Link, CheckStatus::Pass, vec![]),
            check(CheckId::Wifi, CheckStatus::Skipped, vec![]),
        ]);
        assert_eq!(d.status, RunStatus::Healthy);
        assert!(d.root_cause.is_none() && d.findings.is_empty());
    }

    #[test]
    fn earliest_failure_wins_over_earlier_warnings() {
        let d = diagnose(&[
            check(CheckId::Link, CheckStatus::Warn, vec![(Code::LinkErrors, Severity::Warn)]),
            check(CheckId::Gateway, CheckStatus::Warn, vec![(Code::GatewayNoEcho, Severity::Warn)]),
            check(CheckId::Dns, CheckStatus::Fail, vec![(Code::DnsTimeout, Severity::Fail)]),
            check(CheckId::Ports, CheckStatus::Fail, vec![(Code::PortsRefused, Severity::Fail)]),
        ]);
        assert_eq!(d.status, RunStatus::Broken);
        let root = d.root_cause.unwrap();
        assert_eq!((root.code, root.layer), (Code::DnsTimeout, CheckId::Dns));
        assert!(!root.next_steps.is_empty());
        assert_eq!(d.findings.len(), 4);
    }

    #[test]
    fn competing_dhcp_servers_explain_a_failure_above() {
        use crate::check::dhcp::tests::{addr, ev, good, offer};
        let here = vec![addr("198.18.0.10", "global", true, Some(3000))];
        let rogue = offer("198.18.0.66", 9, "198.18.0.66", "198.18.0.66", 1.0);
        let with = |offers, failed: CheckId| {
            let mut dhcp = check(CheckId::Dhcp, CheckStatus::Warn, vec![(Code::DhcpMultipleServers, Severity::Warn)]);
            dhcp.evidence = Evidence::Dhcp(Box::new(ev(here.clone(), offers)));
            let code = if failed == CheckId::Link { Code::LinkNoCarrier } else { Code::DnsTimeout };
            diagnose(&[dhcp, check(failed, CheckStatus::Fail, vec![(code, Severity::Fail)])])
        };
        let d = with(vec![rogue.clone(), good()], CheckId::Dns);
        assert_eq!((d.status, d.root_cause.map(|r| r.code)), (RunStatus::Broken, Some(Code::DhcpMultipleServers)));
        // Servers that agree (a failover pair) do not explain a DNS failure.
        let twin = offer("198.18.0.2", 2, "198.18.0.1", "198.18.0.1", 3.0);
        assert_eq!(with(vec![twin, good()], CheckId::Dns).root_cause.map(|r| r.code), Some(Code::DnsTimeout));
        // Nor a failure below DHCP.
        assert_eq!(with(vec![rogue, good()], CheckId::Link).root_cause.map(|r| r.code), Some(Code::LinkNoCarrier));
    }

    #[test]
    fn warnings_and_errors_degrade() {
        let d = diagnose(&[
            check(CheckId::Gateway, CheckStatus::Warn, vec![(Code::GatewayNoEcho, Severity::Warn)]),
            check(CheckId::Dns, CheckStatus::Pass, vec![]),
        ]);
        assert_eq!(d.status, RunStatus::Degraded);
        assert_eq!(d.root_cause.unwrap().code, Code::GatewayNoEcho);
        let d = diagnose(&[check(CheckId::Gateway, CheckStatus::Error, vec![(Code::ToolNoPrivilege, Severity::Warn)])]);
        assert_eq!(d.status, RunStatus::Degraded);
        assert_eq!(d.root_cause.unwrap().layer, CheckId::Gateway);
    }

    #[test]
    fn nothing_judged_is_unknown_not_healthy() {
        let d = diagnose(&[
            check(CheckId::Link, CheckStatus::Skipped, vec![]),
            check(CheckId::Dns, CheckStatus::Skipped, vec![]),
        ]);
        assert_eq!((d.status, d.status.exit_code(), d.status.as_str()), (RunStatus::Unknown, 3, "unknown"));
        assert!(d.root_cause.is_none() && d.findings.is_empty());
        assert_eq!(serde_json::to_string(&d.status).unwrap(), "\"unknown\"");
        // One check that ran is something judged.
        let d = diagnose(&[
            check(CheckId::Link, CheckStatus::Pass, vec![]),
            check(CheckId::Dns, CheckStatus::Skipped, vec![]),
        ]);
        assert_eq!(d.status, RunStatus::Healthy);
    }

    #[test]
    fn a_router_that_answered_dhcp_but_not_arp_is_not_called_dead() {
        use crate::report::fixtures::{dhcp, gateway, typed};
        let mut gw = check(CheckId::Gateway, CheckStatus::Fail, vec![(Code::GatewayUnreachable, Severity::Fail)]);
        let crate::report::Evidence::Gateway(mut ev) = gateway("198.18.0.1", &[]) else { unreachable!() };
        ev.gateways[0].arp.status = ArpStatus::NoReply;
        gw.evidence = crate::report::Evidence::Gateway(ev);
        let mut dh = check(CheckId::Dhcp, CheckStatus::Pass, vec![]);
        dh.evidence = dhcp("198.18.0.10", 24, Some(3600));
        let plain = diagnose(&[dh.clone(), gw.clone()]).root_cause.unwrap().summary;
        assert_eq!(plain, Code::GatewayUnreachable.summary(), "no DHCP answer from it: the code's words");
        let crate::report::Evidence::Dhcp(mut d) = dhcp("198.18.0.10", 24, Some(3600)) else { unreachable!() };
        d.probe = typed(serde_json::json!({"status": "ran", "offers": [
            {"kind": "offer", "server": "198.18.0.1", "server_mac": "02:00:00:00:00:01", "address": "198.18.0.150",
             "options": {}, "relay_agent_info": false, "ms": 3.2}], "first_offer_ms": 3.2}));
        dh.evidence = crate::report::Evidence::Dhcp(d);
        let root = diagnose(&[dh, gw]).root_cause.unwrap();
        assert_eq!(root.code, Code::GatewayUnreachable, "the code stays");
        assert_ne!(root.summary, Code::GatewayUnreachable.summary(), "the words fit the evidence");
    }
}
