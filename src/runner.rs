//! Runs the checks as a dependency graph, with per-check budgets and a run deadline.
//!
//! The graph is link -> dhcp -> gateway -> dns -> path -> web -> ports (path, web and
//! ports start once gateway is done; their report order is the layer order), with wifi
//! beside link (dhcp waits for both) and ipv6 beside dhcp (it also waits for link and
//! wifi; nothing waits for it). A check starts as soon as its prerequisites allow, so independent
//! checks run concurrently. A check whose prerequisite failed is not run: it is reported
//! `skipped` with `blocked_by` naming the failed check (the one that really failed, also
//! through a chain of skipped checks), so nothing runs into a timeout behind a known
//! failure. Each check gets the smaller of its own budget and what is left of the run's
//! deadline.
//!
//! A check may have a *gate*: a pure, immediate answer to "could my result block the next
//! layers?". When the gate is open, the checks that require it start at once instead of
//! waiting for it to finish. Only the absence of a usable address blocks the gateway, and
//! that is known before any packet is sent, so with an address the dhcp check runs beside
//! all the others: its DISCOVER's listener stays open while they run and hears every
//! server that answers during the run. The runner tells it ([`crate::check::Facts::dhcp_alone`]) when
//! nothing else is running or can start, and it then stops once its minimum window
//! (`--dhcp-window`) has passed, so a healthy run ends with its last check.
//!
//! Checks see the run's deadline ([`CheckContext::deadline`]) and stop waiting on the
//! network just before it ([`CheckContext::cutoff`]), reporting what they observed with
//! their own codes; `tool.timeout` is left for a check that returned nothing by then.
//! Every finished check is recorded ([`crate::check::Facts::mark_finished`]), so a check
//! that needs another's facts for only part of its work (ports: named targets) starts
//! with its prerequisites and waits for those facts only where it needs them.

use std::collections::{BTreeMap, BTreeSet};
use std::future::Future;
use std::pin::Pin;
use std::time::{Duration, Instant};

use futures::StreamExt;
use futures::stream::FuturesUnordered;

use crate::check::{self, CheckContext, CheckError, Outcome};
use crate::config::Config;
use crate::progress::Progress;
use crate::report::{CheckId, CheckResult, CheckStatus, Code, Finding, Severity, SkipReason};

/// One node of the check graph.
#[derive(Debug, Clone, Copy)]
pub struct Node {
    /// The check.
    pub id: CheckId,
    /// Checks that must not have failed for this one to run.
    pub requires: &'static [CheckId],
    /// Checks that must have finished first (their data is used), without blocking.
    pub after: &'static [CheckId],
    /// Early verdict: `true` when this check's result cannot block the checks that require
    /// it, so they may start while it still runs. Must agree with the codes that
    /// [block](Code::blocks): a gate that opens is a promise.
    pub gate: Option<fn(&CheckContext<'_>) -> bool>,
}

/// The check graph, in report order: the layers, then the service profiles (which run
/// only when chosen, see [`selected`]).
pub const GRAPH: [Node; 15] = [
    Node { id: CheckId::Link, requires: &[], after: &[], gate: None },
    Node { id: CheckId::Wifi, requires: &[], after: &[], gate: Some(check::wifi::gate) },
    // neighbours listens for the switch's LLDP/CDP beside everything else (it needs a link
    // with carrier); none of its codes blocks, so nothing waits for it.
    Node { id: CheckId::Neighbours, requires: &[CheckId::Link], after: &[], gate: None },
    Node { id: CheckId::Dhcp, requires: &[CheckId::Link, CheckId::Wifi], after: &[], gate: Some(check::dhcp::gate) },
    // ipv6 runs beside dhcp: it needs a link (and an associated Wi-Fi), nothing of IPv4,
    // and nothing requires it, so its verdicts never block the IPv4 chain.
    Node { id: CheckId::Ipv6, requires: &[CheckId::Link, CheckId::Wifi], after: &[], gate: None },
    Node { id: CheckId::Gateway, requires: &[CheckId::Dhcp], after: &[], gate: None },
    Node { id: CheckId::Dns, requires: &[CheckId::Gateway], after: &[], gate: None },
    // path needs a working first hop; it probes the gateway and address targets at once
    // and waits for dns only for named targets (as ports does). It comes before web and
    // ports in the report: a blackhole is a failure of the path layer, below them, so it
    // is named as the root cause before the stalls it causes above. Nothing waits for it:
    // small packets pass a blackhole, so it blocks nothing.
    Node { id: CheckId::Path, requires: &[CheckId::Gateway], after: &[], gate: None },
    // web resolves through the system resolver itself; after dns so a portal is judged
    // with DNS known to work, and before ports in the report so it is named first.
    Node { id: CheckId::Web, requires: &[CheckId::Gateway], after: &[CheckId::Dns], gate: None },
    // ports starts beside dns: it probes address targets at once (they need no DNS, even
    // when DNS is down) and waits for dns only for named targets; it reports itself
    // blocked by dns when no target could be resolved.
    Node { id: CheckId::Ports, requires: &[CheckId::Gateway], after: &[], gate: None },
    // The service profiles come after the layers they use: a working first hop, and DNS
    // finished (they resolve names themselves), so a broken layer below is named as the root
    // cause before them. None of their codes blocks. Printers on the segment need no gateway
    // (mDNS, a printer's own address), only an address; m365 goes through the web layer's
    // proxy discovery, after web.
    Node { id: CheckId::Ad, requires: &[CheckId::Gateway], after: &[CheckId::Dns], gate: None },
    Node { id: CheckId::Smb, requires: &[CheckId::Gateway], after: &[CheckId::Dns], gate: None },
    Node { id: CheckId::Printers, requires: &[CheckId::Dhcp], after: &[CheckId::Dns], gate: None },
    Node { id: CheckId::M365, requires: &[CheckId::Gateway], after: &[CheckId::Dns, CheckId::Web], gate: None },
    Node { id: CheckId::Rdp, requires: &[CheckId::Gateway], after: &[CheckId::Dns], gate: None },
];

/// Whether `id` runs with `config`: every layer does; a profile only when chosen
/// (`--profile`, `[profiles] enabled`).
pub fn selected(id: CheckId, config: &Config) -> bool {
    crate::config::Profile::of_check(id).is_none_or(|p| config.profiles.is_enabled(p))
}

fn node(id: CheckId) -> &'static Node {
    GRAPH.iter().find(|n| n.id == id).expect("every check is in the graph")
}

/// The time budget of one check, from its settings (the run deadline caps it further).
pub fn budget(id: CheckId, config: &Config) -> Duration {
    let ms = match id {
        CheckId::Link => 2_000,
        // It listens until the run ends (or the `--neighbours` window, which extends the
        // deadline); it stops by the cutoff.
        CheckId::Neighbours => config.deadline.as_millis() as u64,
        // Reading the link takes milliseconds; a scan may wait for the kernel's results.
        CheckId::Wifi => 2_000 + if config.wifi.scan { config.wifi.scan_timeout_ms } else { 0 },
        // The DISCOVER's listener stays open for the whole run (it stops by the cutoff).
        CheckId::Dhcp => config.deadline.as_millis() as u64,
        CheckId::Gateway => {
            let g = &config.gateway;
            g.arp_timeout_ms + g.interval_ms * u64::from(g.probes.saturating_sub(1)) + g.timeout_ms + 1_000
        }
        // Every query may be retried once after a timeout.
        CheckId::Dns => 2 * config.dns.timeout_ms + 1_000,
        // The RA window, then a netlink re-read and resolv.conf.
        CheckId::Ipv6 => config.ipv6.ra_window_ms + 1_000,
        // Searches run concurrently, each within SEARCH_BUDGET; named targets wait for dns.
        CheckId::Path => {
            let named = config.targets.iter().any(|t| matches!(t.host, crate::config::TargetHost::Name(_)));
            let dns_wait = if named { budget(CheckId::Dns, config).as_millis() as u64 } else { 0 };
            dns_wait + check::path::SEARCH_BUDGET_MS + 1_000
        }
        // Probes run concurrently, each bounded by the probe timeout (redirects included),
        // after proxy discovery (bounded by its own budget: gsettings, WPAD, the PAC).
        CheckId::Web => config.web.timeout_ms + 1_000 + check::web::proxy::DISCOVERY_BUDGET_MS,
        CheckId::Ports => {
            let waves = config.targets.len().div_ceil(config.ports.concurrency.max(1)).max(1) as u64;
            // It starts beside dns; named targets wait for dns's answers first.
            let named = config.targets.iter().any(|t| matches!(t.host, crate::config::TargetHost::Name(_)));
            let dns_wait = if named { budget(CheckId::Dns, config).as_millis() as u64 } else { 0 };
            dns_wait + waves * config.ports.timeout_ms + 1_000
        }
        CheckId::Ad => check::ad::budget_ms(&config.profiles.ad),
        CheckId::Smb => check::smb::budget_ms(&config.profiles.smb),
        CheckId::Printers => check::printers::budget_ms(&config.profiles.printers),
        CheckId::M365 => check::m365::budget_ms(&config.profiles.m365),
        CheckId::Rdp => check::rdp::budget_ms(&config.profiles.rdp),
    };
    Duration::from_millis(ms)
}

/// If a prerequisite failed in a way that makes this check untestable (a failure whose
/// code [blocks](Code::blocks)), or was skipped because something failed, the check that
/// really failed.
pub fn blocker(node: &Node, done: &BTreeMap<CheckId, CheckResult>) -> Option<CheckId> {
    node.requires.iter().find_map(|req| {
        let result = done.get(req)?;
        match result.status {
            CheckStatus::Fail => {
                result.findings.iter().any(|f| f.severity == Severity::Fail && f.code.blocks()).then_some(*req)
            }
            CheckStatus::Skipped => result.blocked_by,
            _ => None,
        }
    })
}

/// Runs every check and returns their results in report order.
pub async fn run(ctx: &CheckContext<'_>, progress: &(dyn Fn(Progress) + Sync)) -> Vec<CheckResult> {
    let deadline = ctx.deadline;
    let mut done: BTreeMap<CheckId, CheckResult> = BTreeMap::new();
    let mut started: BTreeSet<CheckId> = BTreeSet::new();
    let finish = |done: &mut BTreeMap<CheckId, CheckResult>, result: CheckResult| {
        progress(Progress::Finished(result.clone()));
        ctx.facts.mark_finished(result.id);
        done.insert(result.id, result);
    };
    type Running<'r> = Pin<Box<dyn Future<Output = CheckResult> + 'r>>;
    let mut running: FuturesUnordered<Running<'_>> = FuturesUnordered::new();

    loop {
        // Start (or skip) everything whose prerequisites now allow it, until nothing changes.
        loop {
            let ready: Vec<&Node> = GRAPH
                .iter()
                .filter(|n| selected(n.id, ctx.config) && !started.contains(&n.id))
                .filter(|n| {
                    n.requires.iter().all(|r| done.contains_key(r) || (started.contains(r) && gate_open(*r, ctx)))
                        && n.after.iter().all(|a| done.contains_key(a))
                })
                .collect();
            if ready.is_empty() {
                break;
            }
            for n in ready {
                started.insert(n.id);
                if let Some(by) = blocker(n, &done) {
                    finish(&mut done, blocked(n.id, by));
                } else {
                    progress(Progress::Started(n.id));
                    running.push(Box::pin(run_one(n.id, ctx, deadline)));
                }
            }
        }
        ctx.facts.set_dhcp_alone(dhcp_alone(&started, &done));
        ctx.facts.set_neighbours_alone(alone(CheckId::Neighbours, &started, &done, &[]));
        match running.next().await {
            Some(result) => finish(&mut done, result),
            None => break,
        }
    }
    assert_eq!(done.len(), GRAPH.iter().filter(|n| selected(n.id, ctx.config)).count(), "check graph has a cycle");
    CheckId::every().filter_map(|id| done.remove(&id)).collect()
}

/// Whether dhcp is the only check still running: every other check has started and
/// finished, or cannot start before dhcp finishes (it would have started otherwise).
/// The neighbours listener does not count: it listens only while the others run.
fn dhcp_alone(started: &BTreeSet<CheckId>, done: &BTreeMap<CheckId, CheckResult>) -> bool {
    alone(CheckId::Dhcp, started, done, &[CheckId::Neighbours])
}

/// Whether `id` is running and no other check (but those in `ignoring`) is.
fn alone(
    id: CheckId,
    started: &BTreeSet<CheckId>,
    done: &BTreeMap<CheckId, CheckResult>,
    ignoring: &[CheckId],
) -> bool {
    let running = |id: &CheckId| started.contains(id) && !done.contains_key(id);
    running(&id)
        && CheckId::every().filter(|other| *other != id && !ignoring.contains(other)).all(|other| !running(&other))
}

fn gate_open(id: CheckId, ctx: &CheckContext<'_>) -> bool {
    node(id).gate.is_some_and(|gate| gate(ctx))
}

fn blocked(id: CheckId, by: CheckId) -> CheckResult {
    CheckResult {
        id,
        status: CheckStatus::Skipped,
        duration_ms: 0,
        blocked_by: Some(by),
        reason: Some(format!("blocked by {by}: that layer failed, so this one cannot be tested")),
        reason_code: Some(SkipReason::Blocked),
        findings: Vec::new(),
        evidence: crate::report::Evidence::None,
    }
}

async fn run_one(id: CheckId, ctx: &CheckContext<'_>, deadline: Instant) -> CheckResult {
    let started = Instant::now();
    let limit = budget(id, ctx.config).min(deadline.saturating_duration_since(started));
    let outcome = if limit.is_zero() { None } else { tokio::time::timeout(limit, dispatch(id, ctx)).await.ok() };
    let duration_ms = started.elapsed().as_millis() as u64;
    tracing::debug!(check = %id, duration_ms, budget_ms = limit.as_millis() as u64, "check finished");
    match outcome {
        Some(Ok(outcome)) => from_outcome(id, outcome, duration_ms),
        Some(Err(error)) => errored(id, error.code(), error.to_string(), duration_ms),
        None if limit.is_zero() => errored(
            id,
            Code::ToolTimeout,
            "the run's deadline passed before this check could start".into(),
            duration_ms,
        ),
        None => errored(
            id,
            Code::ToolTimeout,
            format!("did not finish within {} ms (check budget or run deadline)", limit.as_millis()),
            duration_ms,
        ),
    }
}

async fn dispatch(id: CheckId, ctx: &CheckContext<'_>) -> Result<Outcome, CheckError> {
    match id {
        CheckId::Link => check::link::run(ctx).await,
        CheckId::Neighbours => check::neighbours::run(ctx).await,
        CheckId::Wifi => check::wifi::run(ctx).await,
        CheckId::Dhcp => check::dhcp::run(ctx).await,
        CheckId::Ipv6 => check::ipv6::run(ctx).await,
        CheckId::Gateway => check::gateway::run(ctx).await,
        CheckId::Dns => check::dns::run(ctx).await,
        CheckId::Path => check::path::run(ctx).await,
        CheckId::Web => check::web::run(ctx).await,
        CheckId::Ports => check::ports::run(ctx).await,
        CheckId::Ad => check::ad::run(ctx).await,
        CheckId::Smb => check::smb::run(ctx).await,
        CheckId::Printers => check::printers::run(ctx).await,
        CheckId::M365 => check::m365::run(ctx).await,
        CheckId::Rdp => check::rdp::run(ctx).await,
    }
}

fn from_outcome(id: CheckId, outcome: Outcome, duration_ms: u64) -> CheckResult {
    match outcome {
        Outcome::Ran { findings, evidence } => CheckResult {
            id,
            status: check::status_of(&findings),
            duration_ms,
            blocked_by: None,
            reason: None,
            reason_code: None,
            findings,
            evidence,
        },
        Outcome::Skipped { code, reason, blocked_by, evidence } => CheckResult {
            id,
            status: CheckStatus::Skipped,
            duration_ms,
            blocked_by,
            reason: Some(reason),
            reason_code: Some(code),
            findings: Vec::new(),
            evidence,
        },
    }
}

fn errored(id: CheckId, code: Code, reason: String, duration_ms: u64) -> CheckResult {
    let finding = Finding { code, severity: Severity::Warn, layer: id, message: reason.clone() };
    CheckResult {
        id,
        status: CheckStatus::Error,
        duration_ms,
        blocked_by: None,
        reason: Some(reason),
        reason_code: None,
        findings: vec![finding],
        evidence: crate::report::Evidence::None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::Evidence;

    fn result(id: CheckId, status: CheckStatus, blocked_by: Option<CheckId>) -> CheckResult {
        let code = match id {
            CheckId::Link => Code::LinkNoCarrier,
            CheckId::Dhcp => Code::DhcpNoIpv4,
            _ => Code::GatewayUnreachable,
        };
        let findings = if status == CheckStatus::Fail {
            vec![Finding { code, severity: Severity::Fail, layer: id, message: String::new() }]
        } else {
            vec![]
        };
        CheckResult {
            id,
            status,
            duration_ms: 0,
            blocked_by,
            reason: None,
            reason_code: (status == CheckStatus::Skipped).then_some(SkipReason::NotWireless),
            findings,
            evidence: crate::report::Evidence::None,
        }
    }

    #[test]
    fn skips_carry_their_code_and_ran_or_errored_checks_none() {
        assert_eq!(blocked(CheckId::Dns, CheckId::Gateway).reason_code, Some(SkipReason::Blocked));
        let skipped = Outcome::Skipped {
            code: SkipReason::NoTargets,
            reason: "no targets".into(),
            blocked_by: None,
            evidence: Evidence::None,
        };
        let r = from_outcome(CheckId::Ports, skipped, 0);
        assert_eq!((r.status, r.reason_code), (CheckStatus::Skipped, Some(SkipReason::NoTargets)));
        let ran = Outcome::Ran { findings: vec![], evidence: Evidence::None };
        assert_eq!(from_outcome(CheckId::Ports, ran, 0).reason_code, None);
        assert_eq!(errored(CheckId::Ports, Code::ToolTimeout, "late".into(), 0).reason_code, None);
    }

    #[test]
    fn graph_is_in_report_order_and_acyclic() {
        let ids: Vec<_> = GRAPH.iter().map(|n| n.id).collect();
        assert_eq!(ids, CheckId::every().collect::<Vec<_>>());
        for (i, n) in GRAPH.iter().enumerate() {
            for dep in n.requires.iter().chain(n.after) {
                assert!(ids[..i].contains(dep), "{:?} depends on a later check", n.id);
            }
        }
    }

    #[test]
    fn blocking_names_the_check_that_really_failed() {
        let mut done = BTreeMap::new();
        done.insert(CheckId::Link, result(CheckId::Link, CheckStatus::Fail, None));
        done.insert(CheckId::Wifi, result(CheckId::Wifi, CheckStatus::Skipped, None));
        assert_eq!(blocker(node(CheckId::Dhcp), &done), Some(CheckId::Link));
        done.insert(CheckId::Dhcp, blocked(CheckId::Dhcp, CheckId::Link));
        assert_eq!(blocker(node(CheckId::Gateway), &done), Some(CheckId::Link));
    }

    #[test]
    fn a_failure_that_leaves_the_layer_usable_does_not_block() {
        let mut done = BTreeMap::new();
        let mut dhcp = result(CheckId::Dhcp, CheckStatus::Fail, None);
        dhcp.findings[0].code = Code::DhcpUnexpectedServer;
        done.insert(CheckId::Dhcp, dhcp);
        assert_eq!(blocker(node(CheckId::Gateway), &done), None);
    }

    #[test]
    fn dhcp_is_alone_only_when_nothing_else_runs() {
        let started: BTreeSet<CheckId> = [CheckId::Link, CheckId::Wifi, CheckId::Dhcp, CheckId::Gateway].into();
        let mut done = BTreeMap::new();
        done.insert(CheckId::Link, result(CheckId::Link, CheckStatus::Pass, None));
        done.insert(CheckId::Wifi, result(CheckId::Wifi, CheckStatus::Skipped, None));
        assert!(!dhcp_alone(&started, &done), "the gateway still runs");
        done.insert(CheckId::Gateway, result(CheckId::Gateway, CheckStatus::Pass, None));
        assert!(
            dhcp_alone(&started, &done),
            "nothing else runs (dns and ports would have started with the gateway done)"
        );
        done.insert(CheckId::Dhcp, result(CheckId::Dhcp, CheckStatus::Pass, None));
        assert!(!dhcp_alone(&started, &done), "dhcp itself has finished");
        // A closed gate: only dhcp has started after link and wifi.
        let started: BTreeSet<CheckId> = [CheckId::Link, CheckId::Wifi, CheckId::Dhcp].into();
        done.remove(&CheckId::Dhcp);
        done.remove(&CheckId::Gateway);
        assert!(dhcp_alone(&started, &done));
    }

    #[test]
    fn warnings_errors_and_plain_skips_do_not_block() {
        let mut done = BTreeMap::new();
        done.insert(CheckId::Link, result(CheckId::Link, CheckStatus::Warn, None));
        done.insert(CheckId::Wifi, result(CheckId::Wifi, CheckStatus::Skipped, None));
        assert_eq!(blocker(node(CheckId::Dhcp), &done), None);
        done.insert(CheckId::Dhcp, result(CheckId::Dhcp, CheckStatus::Pass, None));
        done.insert(CheckId::Gateway, result(CheckId::Gateway, CheckStatus::Error, None));
        assert_eq!(blocker(node(CheckId::Dns), &done), None);
    }

    #[test]
    fn default_timeouts_fit_the_default_deadline() {
        // The slowest run that still tests every layer: no DHCP offer, the gateway answers
        // ARP but no ping, every DNS query times out and is retried, a target is filtered.
        let c = Config::default();
        let g = &c.gateway;
        let worst_ms = c.dhcp.offer_cap_ms
            + g.arp_timeout_ms.min(100)
            + g.interval_ms * u64::from(g.probes - 1)
            + g.timeout_ms
            + 2 * c.dns.timeout_ms
            + c.ports.timeout_ms;
        assert!(Duration::from_millis(worst_ms) < c.deadline, "{worst_ms} ms");
        for id in CheckId::ALL {
            assert!(budget(id, &c) <= c.deadline, "{id} budget exceeds the deadline");
        }
        // Named targets wait for dns inside the ports check, so its budget covers that too.
        let named = Config::resolve(
            &crate::config::Overrides { targets: vec!["crm.example.com:443".into()], ..Default::default() },
            None,
        )
        .unwrap();
        assert!(budget(CheckId::Ports, &named) >= budget(CheckId::Dns, &named) + budget(CheckId::Ports, &c));
        assert!(budget(CheckId::Ports, &named) <= named.deadline);
    }
}
