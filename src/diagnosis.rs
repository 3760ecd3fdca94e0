//! Root-cause inference over check results: pure functions, no I/O.
//!
//! The run is `broken` when any check failed, `degraded` when something warned or could
//! not run, `unknown` when every check was skipped (nothing to judge: a capture without
//! the traffic the checks read), `healthy` otherwise. The root cause is the earliest layer in graph order
//! (link, wifi, dhcp, gateway, dns, path, web, ports) that failed: a captive portal or a proxy
//! problem (web) comes before any port it also blocks; when nothing failed, the earliest
//! warning. The ipv6 layer sits beside that chain: its failure (or warning) is the root
//! cause only when no layer of the chain failed (or warned). Later layers that failed only because of it are already `skipped` by the
//! runner, so this is the layer a technician should look at first.
//!
//! A broken IPv6 path beside a working IPv4 chain (`ipv6.broken` from the ports check, in a
//! run that is only degraded) is the root cause of a degraded run, ahead of earlier IPv4
//! warnings, unless an earlier IPv6 finding explains it (an `ipv6.*` finding of another
//! check, `gateway.v6_unreachable` or `gateway.v6_loss`).
//!
//! One cause is judged across layers: when DHCP servers that set the client up differently
//! answered (`dhcp.multiple_servers` with offers that disagree, a warning on its own) and
//! a layer that lives on DHCP's settings (gateway, dns, ports) failed, the competing
//! server is the root cause: the client may hold the wrong server's lease (a rogue that
//! answered first), and the failure above is its symptom.
//!
//! Likewise a captive portal that hijacks DNS (every unknown name answered with the
//! portal's address) fails `dns.hijacked` one layer below the `web.captive_portal` it
//! causes: the portal is the root cause, and the hijack a contributing finding. So are the
//! hijacking resolver's other DNS failures in that run (a portal's resolver often refuses
//! what it does not fake, such as AAAA queries before sign-in).
//!
//! The root cause's summary is the code's sentence, except where this run's evidence says
//! more: a web-layer cause names what was seen (the portal's sign-in page, the certificate's
//! issuer, the URL, the clock's offset), keyed on the code's text so that codes the web
//! check adds later (proxy, blocked, slow, intercepted) read the same way.

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
            let failed = first_beside_ipv6(&findings, |f| f.severity == Severity::Fail);
            failed
                .and_then(|f| competing_dhcp(checks, &findings, f).or_else(|| hijacking_portal(&findings, f)))
                .or(failed)
        }
        RunStatus::Degraded => broken_ipv6(&findings).or_else(|| first_beside_ipv6(&findings, |_| true)),
    };
    let root_cause = deciding.map(|f| RootCause {
        code: f.code,
        layer: f.layer,
        summary: summary(f.code, checks),
        next_steps: f.code.next_steps().iter().map(|s| s.to_string()).collect(),
    });
    Diagnosis { status, root_cause, findings }
}

/// The first finding that `matches`, one of the IPv4 chain's before one of `ipv6`: the
/// ipv6 layer sits beside that chain (it is reported after dhcp), so its verdict is the
/// root cause only when nothing in the chain itself went wrong.
fn first_beside_ipv6(findings: &[Finding], matches: impl Fn(&Finding) -> bool) -> Option<&Finding> {
    findings.iter().find(|f| matches(f) && f.layer != CheckId::Ipv6).or_else(|| findings.iter().find(|f| matches(f)))
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
    web_summary(code, checks).unwrap_or_else(|| code.summary().to_string())
}

/// The plain sentence of a web-layer root cause, naming what this run saw (the sign-in
/// page, the certificate's issuer, the URL, the clock's offset); `None` for other codes, or
/// when the evidence does not say more than the code's own summary. Keyed on the code text,
/// so codes added by later versions of the web check get their sentence here too.
fn web_summary(code: Code, checks: &[CheckResult]) -> Option<String> {
    use crate::check::web::{HttpHop, TlsVerdict, WebProbe, hop_skew_s, without_credentials};
    let web = checks.iter().find_map(|c| c.web());
    let probes: Vec<&WebProbe> =
        web.map(|w| w.connectivity.iter().map(|c| &c.probe).chain(w.targets.iter()).collect()).unwrap_or_default();
    let hops = || probes.iter().flat_map(|p| p.hops.iter());
    let issuer_of = |hop: &HttpHop| hop.tls.as_ref().and_then(|t| t.chain.last()).map(|c| c.issuer.clone());
    let tls_hop = |verdict: TlsVerdict| hops().find(|h| h.tls.as_ref().is_some_and(|t| t.verdict == verdict));
    let text: String = match code.as_str() {
        "web.captive_portal" => {
            let page = web.and_then(|w| w.connectivity.as_ref()).and_then(|c| c.portal_url.as_deref())?;
            format!(
                "This network wants you to sign in first: open a web browser, go to {} and sign in or accept the terms",
                without_credentials(page)
            )
        }
        "web.proxy_auth_required" => "The network's web proxy asks for a user name and password that this computer \
             does not give, so websites do not load: ask IT for the proxy login, or enter it in the system's proxy settings"
            .into(),
        "web.proxy_unreachable" => "This computer is set to open websites through a web proxy that does not answer, \
             so websites do not load: ask IT whether the proxy is still in use, or correct the proxy settings"
            .into(),
        "web.blocked" => {
            let url = probes.iter().find(|p| p.last().and_then(|h| h.status).is_some_and(|s| s == 403 || s == 451));
            match url {
                Some(p) => format!(
                    "A filter on this network blocks {}: ask IT whether the site is meant to be blocked",
                    without_credentials(&p.url)
                ),
                None => "A filter on this network blocks a website that was tested: ask IT whether it is meant to be \
                         blocked"
                    .into(),
            }
        }
        "web.slow" => {
            let slowest = probes.iter().filter(|p| p.total_ms.is_some()).max_by(|a, b| {
                a.total_ms.unwrap_or_default().total_cmp(&b.total_ms.unwrap_or_default())
            })?;
            format!(
                "Websites load slowly from here: {} took {:.1} s to load",
                without_credentials(&slowest.url),
                slowest.total_ms.unwrap_or_default() / 1000.0
            )
        }
        "web.http_error" => {
            let p = probes.iter().find(|p| p.last().and_then(|h| h.status).is_some_and(|s| s >= 400))?;
            let status = p.last().and_then(|h| h.status)?;
            format!(
                "The website {} answered with an error (HTTP {status}): the fault is on that website's side, not in \
                 your connection",
                without_credentials(&p.url)
            )
        }
        "web.unreachable" => {
            // The probe that failed without a TLS verdict of its own (those have their codes).
            let failed = |h: &HttpHop| h.error.is_some() && h.tls.as_ref().is_none_or(|t| t.verdict == TlsVerdict::Ok);
            let p = probes.iter().find(|p| p.last().is_some_and(failed) || p.hops.is_empty())?;
            format!("The website {} could not be reached from this network", without_credentials(&p.url))
        }
        "tls.intercepted" => {
            let issuer = hops().find_map(issuer_of)?;
            format!(
                "A device on this network opens your secure connections and shows its own certificate, issued by \
                 \"{issuer}\": a company firewall inspecting traffic, or someone listening in; ask IT whether that \
                 issuer is theirs before you trust it"
            )
        }
        "tls.untrusted" => {
            let issuer = tls_hop(TlsVerdict::Untrusted).and_then(issuer_of)?;
            format!(
                "A secure website's certificate, issued by \"{issuer}\", is not trusted by this computer, so browsers \
                 will warn or refuse to connect: ask IT whether that issuer is theirs"
            )
        }
        "tls.expired" => {
            let hop = tls_hop(TlsVerdict::Expired)?;
            let until = hop.tls.as_ref()?.chain.first()?.not_after?.to_string();
            format!(
                "The certificate of {} expired on {}, so browsers will refuse to connect: the website's operator must \
                 renew it (or, if the date looks right to others, this computer's clock is wrong)",
                without_credentials(&hop.url),
                until.get(..10).unwrap_or(&until)
            )
        }
        "tls.old_protocol" => {
            let old = hops().find_map(|h| {
                let v = h.tls.as_ref()?.version.as_deref()?;
                ["SSLv2", "SSLv3", "TLSv1_0", "TLSv1_1"].contains(&v).then_some((h, v))
            });
            match old {
                Some((hop, version)) => format!(
                    "The secure website {} only speaks an old, insecure protocol ({}) that browsers refuse: its \
                     operator must update it",
                    without_credentials(&hop.url),
                    version.replace('_', ".")
                ),
                None => "A secure website only speaks an old, insecure protocol that browsers refuse: its operator \
                         must update it"
                    .into(),
            }
        }
        "time.skew" => {
            let mut skews: Vec<f64> = hops().filter_map(hop_skew_s).collect();
            skews.sort_by(f64::total_cmp);
            let median = *skews.get(skews.len().checked_sub(1)? / 2)?;
            format!(
                "This computer's clock is {} {}, so secure websites and company logins (Kerberos) can fail: turn on \
                 automatic date and time",
                offset_words(median.abs()),
                if median > 0.0 { "fast" } else { "slow" }
            )
        }
        _ => return None,
    };
    Some(format!("{text}."))
}

/// A clock offset in words: `3 minutes`, `5 hours`, `2 days`.
fn offset_words(seconds: f64) -> String {
    let (n, unit) = if seconds >= 172_800.0 {
        (seconds / 86_400.0, "days")
    } else if seconds >= 7_200.0 {
        (seconds / 3_600.0, "hours")
    } else if seconds >= 120.0 {
        (seconds / 60.0, "minutes")
    } else {
        (seconds, "seconds")
    };
    format!("{:.0} {unit}", n.floor())
}

/// In a degraded run (nothing failed, so the IPv4 chain works), the finding that explains
/// an `ipv6.broken`: the first earlier IPv6 finding that can (an `ipv6.*` finding of another
/// check, such as a rogue or missing router advertisement, `gateway.v6_unreachable` or
/// `gateway.v6_loss`), else `ipv6.broken` itself. Earlier IPv4-chain warnings (a slow
/// resolver, a gateway that drops ping) do not outrank it: the user's complaint is that
/// websites load slowly, and this is why. `None` without `ipv6.broken`.
fn broken_ipv6(findings: &[Finding]) -> Option<&Finding> {
    findings.iter().find(|f| f.code == Code::Ipv6Broken)?;
    findings.iter().find(|f| {
        f.code.as_str().starts_with("ipv6.") || matches!(f.code, Code::GatewayV6Unreachable | Code::GatewayV6Loss)
    })
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

/// The `web.captive_portal` finding when `failed` is a DNS failure in a run where DNS is
/// hijacked (`dns.hijacked`): a portal that answers every name with its own address
/// controls the resolver to show its page, so the portal (and the sentence telling the user
/// to sign in) is the cause.
fn hijacking_portal<'f>(findings: &'f [Finding], failed: &Finding) -> Option<&'f Finding> {
    if failed.layer != CheckId::Dns || !findings.iter().any(|f| f.code == Code::DnsHijacked) {
        return None;
    }
    findings.iter().find(|f| f.code == Code::WebCaptivePortal && f.severity == Severity::Fail)
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
    fn ipv6_is_the_root_cause_only_when_the_ipv4_chain_is_fine() {
        let dad = || check(CheckId::Ipv6, CheckStatus::Fail, vec![(Code::Ipv6DadFailed, Severity::Fail)]);
        let d = diagnose(&[
            check(CheckId::Link, CheckStatus::Pass, vec![]),
            dad(),
            check(CheckId::Dns, CheckStatus::Fail, vec![(Code::DnsTimeout, Severity::Fail)]),
        ]);
        assert_eq!(d.root_cause.map(|r| r.code), Some(Code::DnsTimeout));
        let d = diagnose(&[check(CheckId::Link, CheckStatus::Pass, vec![]), dad()]);
        assert_eq!((d.status, d.root_cause.map(|r| r.code)), (RunStatus::Broken, Some(Code::Ipv6DadFailed)));
        // A rogue v6 router (warn) beside a slow resolver (warn): the chain's warning first.
        let d = diagnose(&[
            check(CheckId::Ipv6, CheckStatus::Warn, vec![(Code::Ipv6MultipleRouters, Severity::Warn)]),
            check(CheckId::Dns, CheckStatus::Warn, vec![(Code::DnsSlow, Severity::Warn)]),
        ]);
        assert_eq!(d.root_cause.map(|r| r.code), Some(Code::DnsSlow));
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
    fn a_portal_that_hijacks_dns_is_the_root_cause_not_the_hijack() {
        let dns = |sev| check(CheckId::Dns, CheckStatus::Fail, vec![(Code::DnsRefused, sev), (Code::DnsHijacked, sev)]);
        let web = |code| check(CheckId::Web, CheckStatus::Fail, vec![(code, Severity::Fail)]);
        let d = diagnose(&[dns(Severity::Fail), web(Code::WebCaptivePortal)]);
        assert_eq!(
            (d.status, d.root_cause.map(|r| (r.code, r.layer))),
            (RunStatus::Broken, Some((Code::WebCaptivePortal, CheckId::Web)))
        );
        // The hijack stays among the findings.
        assert!(d.findings.iter().any(|f| f.code == Code::DnsHijacked));
        // Another web failure does not explain a hijack: the earliest failure stays.
        let d = diagnose(&[dns(Severity::Fail), web(Code::WebHttpError)]);
        assert_eq!(d.root_cause.map(|r| r.code), Some(Code::DnsRefused));
        // Nor does a portal explain a DNS failure without a hijack.
        let refused = check(CheckId::Dns, CheckStatus::Fail, vec![(Code::DnsRefused, Severity::Fail)]);
        let d = diagnose(&[refused, web(Code::WebCaptivePortal)]);
        assert_eq!(d.root_cause.map(|r| r.code), Some(Code::DnsRefused));
    }

    #[test]
    fn a_proxy_problem_is_the_root_cause_above_ports() {
        for code in [Code::WebProxyAuthRequired, Code::WebProxyUnreachable] {
            let d = diagnose(&[
                check(CheckId::Dns, CheckStatus::Pass, vec![]),
                check(CheckId::Web, CheckStatus::Fail, vec![(code, Severity::Fail)]),
                check(CheckId::Ports, CheckStatus::Fail, vec![(Code::PortsFiltered, Severity::Fail)]),
            ]);
            let root = d.root_cause.unwrap();
            assert_eq!((root.code, root.layer), (code, CheckId::Web));
            assert!(!root.summary.is_empty());
        }
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
    fn broken_ipv6_beside_working_ipv4_is_the_root_cause_of_a_degraded_run() {
        let d = diagnose(&[
            check(CheckId::Gateway, CheckStatus::Warn, vec![(Code::GatewayNoEcho, Severity::Warn)]),
            check(CheckId::Dns, CheckStatus::Warn, vec![(Code::DnsSlow, Severity::Warn)]),
            check(CheckId::Ports, CheckStatus::Warn, vec![(Code::Ipv6Broken, Severity::Warn)]),
        ]);
        assert_eq!(d.status, RunStatus::Degraded);
        let root = d.root_cause.unwrap();
        assert_eq!((root.code, root.layer), (Code::Ipv6Broken, CheckId::Ports));
        assert_eq!(root.summary, Code::Ipv6Broken.summary());
        // The IPv6 router gone explains it.
        let d = diagnose(&[
            check(CheckId::Gateway, CheckStatus::Warn, vec![(Code::GatewayV6Unreachable, Severity::Warn)]),
            check(CheckId::Ports, CheckStatus::Warn, vec![(Code::Ipv6Broken, Severity::Warn)]),
        ]);
        assert_eq!(d.root_cause.unwrap().code, Code::GatewayV6Unreachable);
        // A v6 router that only drops echo does not.
        let d = diagnose(&[
            check(CheckId::Gateway, CheckStatus::Warn, vec![(Code::GatewayV6NoEcho, Severity::Warn)]),
            check(CheckId::Ports, CheckStatus::Warn, vec![(Code::Ipv6Broken, Severity::Warn)]),
        ]);
        assert_eq!(d.root_cause.unwrap().code, Code::Ipv6Broken);
        // A failure of the IPv4 chain still wins: the run is broken.
        let d = diagnose(&[
            check(CheckId::Dns, CheckStatus::Fail, vec![(Code::DnsTimeout, Severity::Fail)]),
            check(CheckId::Ports, CheckStatus::Warn, vec![(Code::Ipv6Broken, Severity::Warn)]),
        ]);
        assert_eq!((d.status, d.root_cause.unwrap().code), (RunStatus::Broken, Code::DnsTimeout));
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

    #[test]
    fn each_web_root_cause_has_its_own_sentence_naming_what_was_seen() {
        use crate::check::web::*;
        let cert = |issuer: &str| CertInfo {
            subject: "CN=www.site.test".into(),
            issuer: issuer.into(),
            sans: vec![],
            not_before: None,
            not_after: Some("2026-11-20T00:00:00Z".parse().unwrap()),
        };
        let tls = |verdict, version: &str, issuer: &str| TlsInfo {
            verdict,
            version: Some(version.into()),
            cipher: None,
            alpn: None,
            chain: vec![cert(issuer)],
            error: None,
            ..TlsInfo::default()
        };
        let hop = |url: &str, status: Option<u16>, tls: Option<TlsInfo>| HttpHop {
            url: url.into(),
            status,
            tls,
            error: status.is_none().then(|| HopError { phase: Phase::Connect, timeout: true, message: String::new() }),
            total_ms: Some(2.0),
            ..HttpHop::default()
        };
        let probe = |h: HttpHop, total_ms: f64| WebProbe {
            url: h.url.clone(),
            hops: vec![h],
            error: None,
            total_ms: Some(total_ms),
        };
        let login = "http://198.18.1.2/login?session=1";
        let portal_probe = WebProbe {
            url: "http://check.site.test/ok".into(),
            hops: vec![
                HttpHop {
                    url: "http://check.site.test/ok".into(),
                    status: Some(302),
                    location: Some(login.into()),
                    ..HttpHop::default()
                },
                hop(login, Some(200), None),
            ],
            error: None,
            total_ms: Some(3.0),
        };
        let (state, portal_url) = assess(&portal_probe, 204, None);
        let mut skewed = hop("https://old.site.test/", Some(200), Some(tls(TlsVerdict::Ok, "TLSv1_1", "CN=Old CA")));
        skewed.date = Some("Sun, 22 Nov 2026 07:00:00 GMT".into());
        skewed.received = Some("2026-11-24T07:00:00Z".parse().unwrap());
        let ev = WebEvidence {
            connectivity: Some(ConnectivityProbe {
                expect_status: 204,
                expect_body: None,
                body_matched: None,
                probe: portal_probe,
                state,
                portal_url,
            }),
            targets: vec![
                probe(
                    hop(
                        "https://inspected.site.test/",
                        Some(200),
                        Some(tls(TlsVerdict::Untrusted, "TLSv1_3", "CN=Corp Inspection CA")),
                    ),
                    5.0,
                ),
                probe(
                    hop("https://expired.site.test/", None, Some(tls(TlsVerdict::Expired, "TLSv1_3", "CN=Lab CA"))),
                    4.0,
                ),
                probe(hop("http://blocked.site.test/", Some(451), None), 2500.0),
                probe(hop("http://down.site.test/", None, None), 1.0),
                probe(skewed, 6.0),
            ],
            ..WebEvidence::default()
        };
        let web = |code: &str| {
            let code: Code = serde_json::from_value(serde_json::json!(code)).unwrap();
            let mut c = check(CheckId::Web, CheckStatus::Fail, vec![(code, Severity::Fail)]);
            c.evidence = Evidence::Web(Box::new(ev.clone()));
            let root = diagnose(&[c]).root_cause.unwrap();
            assert_eq!(root.code, code, "the code stays");
            root.summary
        };
        // Each names the value the evidence holds: the page, the issuer, the URL, the date,
        // the protocol, the clock's offset.
        for (code, named) in [
            ("web.captive_portal", login),
            ("tls.intercepted", "CN=Corp Inspection CA"),
            ("tls.untrusted", "CN=Corp Inspection CA"),
            ("tls.expired", "2026-11-20"),
            ("tls.old_protocol", "TLSv1.1"),
            ("web.blocked", "http://blocked.site.test/"),
            ("web.http_error", "http://blocked.site.test/"),
            ("web.slow", "http://blocked.site.test/"),
            ("web.unreachable", "http://down.site.test/"),
            ("time.skew", "2 days"),
        ] {
            let summary = web(code);
            assert!(summary.contains(named), "{code}: {summary}");
        }
        // Proxy causes have sentences of their own, not the unknown code's.
        for code in ["web.proxy_auth_required", "web.proxy_unreachable"] {
            let summary = web(code);
            let unknown: Code = serde_json::from_value(serde_json::json!("web.brand_new")).unwrap();
            assert_ne!(summary, unknown.summary(), "{code}");
        }
        // Without evidence to name, the code's own summary.
        let bare = diagnose(&[check(CheckId::Web, CheckStatus::Fail, vec![(Code::TlsExpired, Severity::Fail)])]);
        assert_eq!(bare.root_cause.unwrap().summary, Code::TlsExpired.summary());
        assert_eq!((offset_words(90.0), offset_words(7_300.0)), ("90 seconds".to_string(), "2 hours".to_string()));
    }
}
