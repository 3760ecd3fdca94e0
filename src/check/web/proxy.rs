//! The web check's proxy half: the discovery evidence, the `via` of each request, and the
//! two proxy verdicts.
//!
//! `platform::proxy` finds the settings (environment, `/etc/environment`, GNOME, PAC, WPAD
//! through DHCP option 252 and through DNS) and answers which route a URL takes; this
//! module turns that into the web evidence ([`ProxyReport`], [`Via`]), takes the option 252
//! URL the dhcp check handed over in `check::Facts` ([`use_dhcp_wpad`]), uses a fetched PAC
//! and the tests of its proxies ([`use_pac`], [`use_proxy_tests`]) and judges it all
//! ([`proxy_finding`]: `web.proxy_auth_required` for a 407 from the proxy,
//! `web.proxy_unreachable` when the proxy itself could not be reached; [`pac_finding`]:
//! `web.proxy_unreachable` when no proxy of the PAC answers). The I/O (the `CONNECT`
//! tunnel, TLS to an `https://` proxy, fetching the PAC, testing its proxies) is in the
//! parent's `live` half and in [`live`] here. Credentials never reach anything in this module's output:
//! [`Via`] holds the proxy's URL as `ProxyServer::shown` gives it.

use serde::{Deserialize, Serialize};

use super::{HttpHop, WebProbe};
use crate::check::dns::Notice;
use crate::check::finding;
use crate::platform::proxy::{
    DhcpWpad, DhcpWpadState, PacInfo, PacProxyTest, PacScan, ProxyEvidence, ProxyPlan, ProxyServer, ProxySetting,
    ProxySource, Route, apply_pac, dhcp_pac_url, scan_pac,
};
use crate::report::{CheckId, Code, Finding, Severity};

/// Bytes of a PAC file read at most.
pub const MAX_PAC_BYTES: usize = 256 * 1024;
/// Milliseconds for fetching a PAC at most (less when `web.timeout_ms` is shorter).
pub const PAC_TIMEOUT_MS: u64 = 1_200;
/// Milliseconds one test of a PAC's proxy may take at most (connect, then `CONNECT`); the
/// proxies are tested concurrently.
pub const PROXY_TEST_TIMEOUT_MS: u64 = 1_000;
/// Milliseconds the web check waits at most for the dhcp check's word on option 252 (its
/// first offer usually came long before the web check starts; a lease file is read at once).
pub const DHCP_WPAD_WAIT_MS: u64 = 500;
/// Milliseconds proxy discovery may take at most before the probes start: GNOME's settings
/// (`live::GNOME_BUDGET`), WPAD through DHCP ([`DHCP_WPAD_WAIT_MS`]), the WPAD name
/// (`live::WPAD_LOOKUP`), the PAC ([`PAC_TIMEOUT_MS`]) and the tests of its proxies
/// ([`PROXY_TEST_TIMEOUT_MS`]). Usually a few milliseconds; the runner adds it to the web
/// budget.
pub const DISCOVERY_BUDGET_MS: u64 = 3_500;

/// The path one request took.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Via {
    /// The proxy's URL (without credentials); `None`: direct to the origin.
    #[serde(default)]
    pub proxy: Option<String>,
    /// The setting that decided (`env`, `etc_environment`, `gsettings`, `pac`, `wpad`,
    /// `config`); `None`: no proxy is configured at all.
    #[serde(default)]
    pub source: Option<ProxySource>,
    /// Whether the proxy itself could not be reached (its name did not resolve, it refused
    /// the connection, or the time ran out before it accepted).
    #[serde(default)]
    pub proxy_unreachable: bool,
}

impl Via {
    /// The evidence for a route.
    pub fn of(route: &Route) -> Via {
        match route {
            Route::Direct { source } => Via { proxy: None, source: *source, proxy_unreachable: false },
            Route::Proxy { server, source } => {
                Via { proxy: Some(server.shown()), source: Some(*source), proxy_unreachable: false }
            }
        }
    }
}

/// Proxy discovery in the web evidence: the settings found with their sources, the PAC,
/// and informational notices (`web.pac_unusable`, `web.pac_not_evaluated`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ProxyReport {
    /// What discovery found.
    #[serde(flatten)]
    pub discovery: ProxyEvidence,
    /// Informational notices; not findings, they do not change the check's status.
    #[serde(default)]
    pub notices: Vec<Notice>,
}

/// The proxy finding of one probe (pure): the first hop that went through a proxy and got
/// 407 is `web.proxy_auth_required`, one whose proxy could not be reached
/// `web.proxy_unreachable`; `None` otherwise (the other verdicts then apply).
pub fn proxy_finding(probe: &WebProbe) -> Option<Finding> {
    probe.hops.iter().find_map(|hop: &HttpHop| {
        let proxy = hop.via.proxy.as_deref()?;
        let source = hop.via.source.map_or("unknown", ProxySource::as_str);
        if hop.status == Some(407) {
            return Some(finding(
                CheckId::Web,
                Code::WebProxyAuthRequired,
                Severity::Fail,
                format!("{}: the proxy {proxy} (from {source}) answered 407 Proxy Authentication Required", hop.url),
            ));
        }
        if hop.via.proxy_unreachable {
            let why = hop.error.as_ref().map_or_else(String::new, |e| format!(": {}", e.message));
            return Some(finding(
                CheckId::Web,
                Code::WebProxyUnreachable,
                Severity::Fail,
                format!("{}: the proxy {proxy} (from {source}) could not be reached{why}", hop.url),
            ));
        }
        None
    })
}

/// Uses a fetched PAC (pure): records it in the report, scans it, and routes the plan
/// through its first proxy. `body` is `None` when the fetch failed (`error` says why).
/// Returns whether the PAC is usable: then its proxies are tested and [`use_proxy_tests`]
/// finishes the job (the plan's choice among them, the `web.pac_not_evaluated` notice).
pub fn use_pac(
    plan: &mut ProxyPlan,
    report: &mut ProxyReport,
    url: &str,
    source: ProxySource,
    body: Option<&[u8]>,
    error: Option<String>,
) -> bool {
    let shown = crate::config::without_credentials(url);
    let mut info = PacInfo {
        url: shown.clone(),
        source,
        fetched: body.is_some(),
        bytes: body.map_or(0, |b| b.len() as u64),
        evaluated: false,
        scan: None,
        proxy_tests: Vec::new(),
        error,
    };
    let Some(body) = body else {
        report.notices.push(Notice {
            code: Code::WebPacUnusable,
            message: format!(
                "the PAC file {shown} (from {}) could not be fetched: {}",
                source.as_str(),
                info.error.as_deref().unwrap_or("no answer")
            ),
        });
        report.discovery.pac = Some(info);
        return false;
    };
    let scan: PacScan = scan_pac(&String::from_utf8_lossy(body));
    let usable = scan.defines_find_proxy && (!scan.proxies.is_empty() || scan.direct);
    if usable {
        apply_pac(plan, &scan, pac_route_source(source));
        set_shown(plan, report);
    } else {
        info.error = Some(if scan.defines_find_proxy {
            "it names no PROXY and no DIRECT".into()
        } else {
            "it does not define FindProxyForURL".into()
        });
        report.notices.push(Notice {
            code: Code::WebPacUnusable,
            message: format!("the PAC file {shown} is not usable: {}", info.error.as_deref().unwrap_or_default()),
        });
    }
    info.scan = Some(scan);
    report.discovery.pac = Some(info);
    usable
}

/// How requests a PAC routes are labelled: `wpad` (found through DNS) or `dhcp` (option
/// 252) when WPAD found it, `pac` when a setting named it.
fn pac_route_source(source: ProxySource) -> ProxySource {
    match source {
        ProxySource::Wpad | ProxySource::Dhcp => source,
        _ => ProxySource::Pac,
    }
}

/// The plan's proxies as the evidence shows them.
fn set_shown(plan: &ProxyPlan, report: &mut ProxyReport) {
    let shown = |slot: &Option<(ProxyServer, ProxySource)>| {
        slot.as_ref().map(|(server, source)| ProxySetting { value: server.shown(), source: *source })
    };
    if plan.http.is_some() {
        report.discovery.http = shown(&plan.http);
        report.discovery.https = shown(&plan.https);
    }
}

/// Finishes a usable PAC with the tests of its proxies (pure; `tests` in the order of the
/// scan): records them, routes the plan through the first proxy that answers `CONNECT`
/// (a browser falls back along the PAC's list the same way) or, when none answers, leaves
/// the first (so every probe shows the dead proxy), and adds the `web.pac_not_evaluated`
/// notice, which says the URL-by-URL choice of `FindProxyForURL` was not made.
pub fn use_proxy_tests(plan: &mut ProxyPlan, report: &mut ProxyReport, tests: Vec<PacProxyTest>) {
    let Some(info) = report.discovery.pac.as_mut() else { return };
    let source = pac_route_source(info.source);
    if let Some(live) = tests.iter().find(|t| t.status.answers())
        && let Ok(server) = ProxyServer::parse(&live.proxy)
        && plan.direct.is_none()
    {
        plan.http = Some((server.clone(), source));
        plan.https = Some((server, source));
    }
    let (named, direct) = info.scan.as_ref().map_or((0, false), |s| (s.proxies.len(), s.direct));
    let answering = tests.iter().filter(|t| t.status.answers()).count();
    // Every proxy dead, and the PAC ends in DIRECT: a browser falls back to it after the
    // proxies time out, so the probes go direct too (and `pac_finding` warns).
    if !tests.is_empty() && answering == 0 && direct && plan.direct.is_none() {
        plan.http = None;
        plan.https = None;
        plan.direct = Some(source);
    }
    info.proxy_tests = tests;
    let chosen = match (&plan.direct, &plan.http) {
        (None, Some((server, _))) => format!("PROXY {}", server.authority()),
        _ => "DIRECT".to_string(),
    };
    let url = info.url.clone();
    set_shown(plan, report);
    report.notices.push(Notice {
        code: Code::WebPacNotEvaluated,
        message: format!(
            "the PAC file {url} was scanned, not run, so its URL-by-URL choice (FindProxyForURL) was not made: \
             it names {named} proxies{}, {answering} of them answered CONNECT; the probes used {chosen}",
            if direct { " and DIRECT" } else { "" }
        ),
    });
}

/// `web.proxy_unreachable` for a PAC none of whose proxies answered `CONNECT` (pure):
/// nothing the PAC can return works, whatever `FindProxyForURL` would choose.
pub fn pac_finding(report: &ProxyReport) -> Option<Finding> {
    let info = report.discovery.pac.as_ref()?;
    if info.proxy_tests.is_empty() || info.proxy_tests.iter().any(|t| t.status.answers()) {
        return None;
    }
    // With DIRECT after the proxies, pages still load, after each proxy's timeout: a warning.
    let falls_back = info.scan.as_ref().is_some_and(|s| s.direct);
    let each: Vec<String> = info
        .proxy_tests
        .iter()
        .map(|t| format!("{} ({})", t.proxy, t.error.as_deref().unwrap_or("no answer")))
        .collect();
    Some(finding(
        CheckId::Web,
        Code::WebProxyUnreachable,
        if falls_back { Severity::Warn } else { Severity::Fail },
        format!(
            "no proxy of the PAC file {} (from {}) could be reached: {}{}",
            info.url,
            info.source.as_str(),
            crate::check::named(&each, "; ", 8),
            if falls_back { "; it ends in DIRECT, so pages load only after each proxy's timeout" } else { "" }
        ),
    ))
}

/// The `host:port` a PAC's proxies are asked to `CONNECT` to (pure): the first `https://`
/// target's, else the host of the first URL given with port 443.
pub fn test_authority<'a>(urls: impl IntoIterator<Item = &'a str>) -> Option<String> {
    let mut first = None;
    for text in urls {
        let Some((scheme, rest)) = text.split_once("://") else { continue };
        let authority = rest.split(['/', '?', '#']).next().unwrap_or_default();
        let host_port = authority.rsplit('@').next().unwrap_or_default();
        if host_port.is_empty() {
            continue;
        }
        if scheme.eq_ignore_ascii_case("https") {
            let has_port = host_port.rsplit_once(':').is_some_and(|(h, p)| !h.ends_with(':') && !p.contains(']'));
            return Some(if has_port { host_port.to_string() } else { format!("{host_port}:443") });
        }
        if first.is_none() {
            let host = match host_port.strip_prefix('[') {
                Some(v6) => format!("[{}]", v6.split(']').next().unwrap_or_default()),
                None => host_port.split(':').next().unwrap_or_default().to_string(),
            };
            first = Some(format!("{host}:443"));
        }
    }
    first
}

/// The `CONNECT` request for `authority` (`host:port`, IPv6 in brackets), with the proxy's
/// credentials when it has some (pure).
pub fn connect_request(authority: &str, proxy: &ProxyServer) -> String {
    let auth = proxy.authorization().map(|a| format!("Proxy-Authorization: {a}\r\n")).unwrap_or_default();
    format!(
        "CONNECT {authority} HTTP/1.1\r\nHost: {authority}\r\nUser-Agent: nettriage/{}\r\n{auth}\r\n",
        env!("CARGO_PKG_VERSION")
    )
}

/// The status code of a proxy's answer to `CONNECT` (pure): `HTTP/1.x NNN ...` on the first
/// line; `None` for anything else.
pub fn connect_status(head: &[u8]) -> Option<u16> {
    let line = head.split(|b| *b == b'\n').next()?;
    let line = std::str::from_utf8(line).ok()?.trim_end();
    let mut words = line.split(' ');
    let version = words.next()?;
    if !version.starts_with("HTTP/1.") {
        return None;
    }
    let code = words.next()?;
    (code.len() == 3).then(|| code.parse().ok()).flatten().filter(|c| (100..600).contains(c))
}

/// The I/O half: discovery from the live system, bounded in time.
#[cfg(feature = "live")]
pub mod live {
    use std::path::Path;
    use std::time::Duration;

    use super::{DHCP_WPAD_WAIT_MS, ProxyReport, use_dhcp_wpad};
    use crate::check::Facts;
    use crate::config::WebSettings;
    use crate::platform::proxy::live::{env_vars, file_vars, gnome};
    use crate::platform::proxy::{DhcpWpad, ProxyPlan, ProxySource, combine, search_domain, wpad_url};
    use crate::report::CheckId;

    /// How long reading GNOME's settings may take in all (each `gsettings` call is bounded
    /// too).
    pub const GNOME_BUDGET: Duration = Duration::from_millis(400);
    /// How long the WPAD name's lookup may take.
    pub const WPAD_LOOKUP: Duration = Duration::from_millis(400);

    /// Discovery from the static sources (config, environment, `/etc/environment`, GNOME,
    /// WPAD through DHCP from `facts`, WPAD's name): the plan, the report, and the PAC to
    /// fetch, if any.
    pub async fn discover(web: &WebSettings, facts: &Facts) -> (ProxyPlan, ProxyReport, Option<(String, ProxySource)>) {
        let env = env_vars();
        let etc = file_vars(Path::new("/etc/environment"));
        let (plan, ev, pac) = combine(web.proxy.as_deref(), web.pac_url.as_deref(), &env, &etc, Err("not_consulted"));
        let undecided = |plan: &ProxyPlan, pac: &Option<(String, ProxySource)>| {
            plan.http.is_none() && plan.https.is_none() && plan.direct.is_none() && pac.is_none()
        };
        let (plan, ev, mut pac) = if undecided(&plan, &pac) && web.proxy.is_none() {
            let g = tokio::time::timeout(GNOME_BUDGET, gnome()).await.unwrap_or(Err("timeout"));
            combine(None, web.pac_url.as_deref(), &env, &etc, g.as_ref().map_err(|e| *e))
        } else {
            (plan, ev, pac)
        };
        let mut report = ProxyReport { discovery: ev, notices: Vec::new() };
        if undecided(&plan, &pac) && web.proxy.is_none() && web.wpad {
            let given = dhcp_wpad(facts, Duration::from_millis(DHCP_WPAD_WAIT_MS)).await;
            pac = use_dhcp_wpad(&mut report, given);
        }
        if undecided(&plan, &pac) && web.proxy.is_none() && web.wpad {
            let domain = std::fs::read_to_string("/etc/resolv.conf").ok().and_then(|t| search_domain(&t));
            if let Some(url) = domain.as_deref().and_then(wpad_url) {
                let host = url.trim_start_matches("http://").split('/').next().unwrap_or_default().to_string();
                let found = tokio::time::timeout(WPAD_LOOKUP, tokio::net::lookup_host((host.as_str(), 80)))
                    .await
                    .ok()
                    .and_then(Result::ok)
                    .is_some_and(|mut a| a.next().is_some());
                tracing::debug!(%host, found, "WPAD name looked up");
                report.discovery.wpad_host = Some(host);
                if found {
                    pac = Some((url, ProxySource::Wpad));
                }
            }
        }
        (plan, report, pac)
    }

    /// The dhcp check's word on option 252 (`Facts::dhcp_wpad`), waiting at most `wait` for
    /// it (and not past the dhcp check's end): `None` when it did not come in time,
    /// `Some(None)` when DHCP gave no option 252.
    async fn dhcp_wpad(facts: &Facts, wait: Duration) -> Option<Option<DhcpWpad>> {
        let until = tokio::time::Instant::now() + wait;
        loop {
            if let Some(given) = facts.dhcp_wpad.get() {
                return Some(given.clone());
            }
            if facts.is_finished(CheckId::Dhcp) || tokio::time::Instant::now() >= until {
                return None;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }
}

/// WPAD through DHCP (pure): records what the dhcp check handed over (`None`: nothing in
/// time) in the report and returns the PAC to fetch when option 252 is a usable URL; an
/// unusable one is a `web.pac_unusable` notice.
pub fn use_dhcp_wpad(report: &mut ProxyReport, given: Option<Option<DhcpWpad>>) -> Option<(String, ProxySource)> {
    let d = &mut report.discovery;
    let Some(given) = given else {
        d.dhcp_wpad_state = DhcpWpadState::NoAnswer;
        return None;
    };
    let Some(wpad) = given else {
        d.dhcp_wpad_state = DhcpWpadState::NotOffered;
        return None;
    };
    let result = dhcp_pac_url(&wpad.url);
    d.dhcp_wpad = Some(wpad);
    match result {
        Ok(url) => {
            d.dhcp_wpad_state = DhcpWpadState::Used;
            Some((url, ProxySource::Dhcp))
        }
        Err(why) => {
            d.dhcp_wpad_state = DhcpWpadState::Unusable;
            report.notices.push(Notice {
                code: Code::WebPacUnusable,
                message: format!(
                    "DHCP option 252 (WPAD) `{}` is not usable: {why}",
                    d.dhcp_wpad.as_ref().map_or("", |w| w.url.as_str())
                ),
            });
            None
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::check::web::{HopError, Phase};
    use crate::platform::proxy::PacProxyStatus;

    fn via_hop(status: Option<u16>, unreachable: bool) -> HttpHop {
        HttpHop {
            url: "http://www.site.test/".into(),
            status,
            via: Via {
                proxy: Some("http://198.18.1.2:8888".into()),
                source: Some(ProxySource::Env),
                proxy_unreachable: unreachable,
            },
            error: unreachable.then(|| HopError { phase: Phase::Connect, timeout: false, message: "refused".into() }),
            ..HttpHop::default()
        }
    }

    fn probe(hops: Vec<HttpHop>) -> WebProbe {
        WebProbe { url: "http://www.site.test/".into(), hops, error: None, total_ms: None }
    }

    #[test]
    fn a_407_from_the_proxy_and_an_unreachable_proxy_are_named() {
        let f = proxy_finding(&probe(vec![via_hop(Some(407), false)])).unwrap();
        assert_eq!((f.code, f.severity), (Code::WebProxyAuthRequired, Severity::Fail));
        let f = proxy_finding(&probe(vec![via_hop(None, true)])).unwrap();
        assert_eq!((f.code, f.severity), (Code::WebProxyUnreachable, Severity::Fail));
        assert_eq!(proxy_finding(&probe(vec![via_hop(Some(200), false)])), None);
        // A 407 straight from an origin (no proxy in the way) is not a proxy verdict.
        let direct = HttpHop { url: "http://a/".into(), status: Some(407), ..HttpHop::default() };
        assert_eq!(proxy_finding(&probe(vec![direct])), None);
    }

    #[test]
    fn connect_requests_carry_credentials_only_in_the_header() {
        let p = ProxyServer::parse("http://user:pass@proxy.example:3128").unwrap();
        let req = connect_request("www.site.test:443", &p);
        assert!(req.starts_with("CONNECT www.site.test:443 HTTP/1.1\r\n"));
        assert!(req.contains("Proxy-Authorization: Basic dXNlcjpwYXNz\r\n") && req.ends_with("\r\n\r\n"));
        let anon = connect_request("[2001:db8::1]:443", &ProxyServer::parse("proxy.example:3128").unwrap());
        assert!(!anon.contains("Proxy-Authorization"));
    }

    #[test]
    fn connect_answers_parse_their_status() {
        assert_eq!(connect_status(b"HTTP/1.1 200 Connection established\r\n\r\n"), Some(200));
        assert_eq!(connect_status(b"HTTP/1.0 407 Proxy Authentication Required\r\n"), Some(407));
        for bad in [&b""[..], b"SSH-2.0-x\r\n", b"HTTP/1.1 2000 x", b"HTTP/2 200", b"HTTP/1.1 abc", b"\xff\xfe"] {
            assert_eq!(connect_status(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn a_fetched_pac_routes_the_plan_and_leaves_a_notice() {
        let mut plan = ProxyPlan::default();
        let mut report = ProxyReport::default();
        let pac = b"function FindProxyForURL(url, host) { return \"PROXY 198.18.1.2:8888; DIRECT\"; }";
        assert!(use_pac(
            &mut plan,
            &mut report,
            "http://u:pw@pac.site.test/p.pac",
            ProxySource::Config,
            Some(pac),
            None
        ));
        assert!(matches!(plan.route("http", "www.site.test", 80), Route::Proxy { source: ProxySource::Pac, .. }));
        assert!(report.notices.is_empty(), "the notice waits for the proxies' tests");
        use_proxy_tests(&mut plan, &mut report, vec![]);
        let info = report.discovery.pac.as_ref().unwrap();
        assert_eq!((info.fetched, info.evaluated, info.url.as_str()), (true, false, "http://pac.site.test/p.pac"));
        assert_eq!(report.notices.iter().map(|n| n.code).collect::<Vec<_>>(), [Code::WebPacNotEvaluated]);
        assert_eq!(report.discovery.http.as_ref().map(|s| s.source), Some(ProxySource::Pac));

        let mut plan = ProxyPlan::default();
        let mut report = ProxyReport::default();
        assert!(!use_pac(
            &mut plan,
            &mut report,
            "http://wpad.site.test/wpad.dat",
            ProxySource::Wpad,
            Some(b"<html>"),
            None
        ));
        assert_eq!(plan.route("http", "a", 80), Route::Direct { source: None });
        assert_eq!(report.notices[0].code, Code::WebPacUnusable);
        assert!(!use_pac(&mut plan, &mut report, "http://x/", ProxySource::Gsettings, None, Some("refused".into())));
        assert_eq!(report.notices[1].code, Code::WebPacUnusable);
        assert!(!report.discovery.pac.unwrap().fetched);
    }

    #[test]
    fn option_252_is_used_before_dns_and_an_unusable_one_is_a_notice() {
        use crate::platform::proxy::{DhcpWpad, WpadOrigin};
        let server = Some("198.18.0.1".parse().unwrap());
        let mut report = ProxyReport::default();
        let given = DhcpWpad::new("http://198.18.1.2/wpad.dat", WpadOrigin::Offer, server);
        let pac = use_dhcp_wpad(&mut report, Some(Some(given.clone())));
        assert_eq!(pac, Some(("http://198.18.1.2/wpad.dat".into(), ProxySource::Dhcp)));
        assert_eq!(report.discovery.dhcp_wpad_state, DhcpWpadState::Used);
        assert_eq!(report.discovery.dhcp_wpad, Some(given));
        assert!(report.notices.is_empty());
        // The PAC it names routes as `dhcp`.
        let mut plan = ProxyPlan::default();
        let body = b"function FindProxyForURL(u, h) { return \"PROXY 198.18.1.2:8888\"; }";
        assert!(use_pac(&mut plan, &mut report, "http://198.18.1.2/wpad.dat", ProxySource::Dhcp, Some(body), None));
        assert!(matches!(plan.route("http", "a", 80), Route::Proxy { source: ProxySource::Dhcp, .. }));
        assert_eq!(report.discovery.pac.as_ref().map(|p| p.source), Some(ProxySource::Dhcp));

        let mut report = ProxyReport::default();
        let bad = DhcpWpad::new("wpad.dat\u{fffd}", WpadOrigin::Lease, None);
        assert_eq!(use_dhcp_wpad(&mut report, Some(Some(bad))), None);
        assert_eq!(report.discovery.dhcp_wpad_state, DhcpWpadState::Unusable);
        assert_eq!(report.notices.iter().map(|n| n.code).collect::<Vec<_>>(), [Code::WebPacUnusable]);

        let mut report = ProxyReport::default();
        assert_eq!(use_dhcp_wpad(&mut report, Some(None)), None);
        assert_eq!(report.discovery.dhcp_wpad_state, DhcpWpadState::NotOffered);
        assert_eq!(use_dhcp_wpad(&mut report, None), None);
        assert_eq!(report.discovery.dhcp_wpad_state, DhcpWpadState::NoAnswer);
        assert!(report.notices.is_empty() && report.discovery.dhcp_wpad.is_none());
    }

    fn tested(proxy: &str, status: PacProxyStatus) -> PacProxyTest {
        PacProxyTest {
            proxy: proxy.into(),
            status,
            http_status: None,
            connect_ms: None,
            error: (!status.answers()).then(|| "refused".into()),
        }
    }

    /// A PAC naming a dead proxy first and a live one second: the probes go through the
    /// live one, both tests are in the evidence, the notice says the choice was not run;
    /// with every proxy dead the PAC's DIRECT is used and the dead proxies are a
    /// `web.proxy_unreachable` warning; without DIRECT, the first stays (the probes show it)
    /// and the PAC fails as `web.proxy_unreachable`.
    #[test]
    fn every_pac_proxy_is_tested_and_the_first_that_answers_is_used() {
        let pac = b"function FindProxyForURL(u, h) { if (h == \"a\") return \"PROXY 198.18.1.2:8899\"; \
                    return \"PROXY 198.18.1.2:8888; DIRECT\"; }";
        let mut plan = ProxyPlan::default();
        let mut report = ProxyReport::default();
        assert!(use_pac(&mut plan, &mut report, "http://198.18.1.2/p.pac", ProxySource::Wpad, Some(pac), None));
        let dead = tested("http://198.18.1.2:8899", PacProxyStatus::Unreachable);
        let live = tested("http://198.18.1.2:8888", PacProxyStatus::Works);
        let mut all_dead_plan = plan.clone();
        let mut all_dead = report.clone();
        use_proxy_tests(&mut plan, &mut report, vec![dead.clone(), live.clone()]);
        let Route::Proxy { server, source } = plan.route("https", "www.site.test", 443) else { panic!("a proxy") };
        assert_eq!((server.shown(), source), ("http://198.18.1.2:8888".to_string(), ProxySource::Wpad));
        assert_eq!(report.discovery.https.as_ref().map(|s| s.value.as_str()), Some("http://198.18.1.2:8888"));
        let info = report.discovery.pac.as_ref().unwrap();
        assert_eq!(info.proxy_tests, [dead.clone(), live]);
        assert_eq!(report.notices.iter().map(|n| n.code).collect::<Vec<_>>(), [Code::WebPacNotEvaluated]);
        assert_eq!(pac_finding(&report), None);

        // Every proxy dead, the PAC ending in DIRECT: the probes go direct, as a browser
        // falls back, and the dead proxies are a warning.
        let also_dead = tested("http://198.18.1.2:8888", PacProxyStatus::NoAnswer);
        let mut fallback_plan = all_dead_plan.clone();
        let mut fallback = all_dead.clone();
        use_proxy_tests(&mut fallback_plan, &mut fallback, vec![dead.clone(), also_dead.clone()]);
        assert!(matches!(fallback_plan.route("http", "a", 80), Route::Direct { source: Some(ProxySource::Wpad) }));
        let f = pac_finding(&fallback).unwrap();
        assert_eq!((f.code, f.severity), (Code::WebProxyUnreachable, Severity::Warn));

        // Without DIRECT: the first proxy stays (the probes show it fail) and the PAC fails.
        if let Some(scan) = all_dead.discovery.pac.as_mut().and_then(|p| p.scan.as_mut()) {
            scan.direct = false;
        }
        use_proxy_tests(&mut all_dead_plan, &mut all_dead, vec![dead, also_dead]);
        let Route::Proxy { server, .. } = all_dead_plan.route("http", "a", 80) else { panic!("a proxy") };
        assert_eq!(server.port, 8899, "the first proxy stays");
        let f = pac_finding(&all_dead).unwrap();
        assert_eq!((f.code, f.severity), (Code::WebProxyUnreachable, Severity::Fail));
        // Judged with the rest of the web evidence, it comes first.
        let ev = crate::check::web::WebEvidence { proxy: Some(all_dead), ..Default::default() };
        assert_eq!(crate::check::web::judge(&ev).first().map(|f| f.code), Some(Code::WebProxyUnreachable));
        // A proxy that answers 407 or refuses the tunnel is there: not unreachable.
        let mut report = ProxyReport::default();
        assert!(use_pac(&mut ProxyPlan::default(), &mut report, "http://p/", ProxySource::Pac, Some(pac), None));
        use_proxy_tests(
            &mut ProxyPlan::default(),
            &mut report,
            vec![tested("http://p:1", PacProxyStatus::AuthRequired)],
        );
        assert_eq!(pac_finding(&report), None);
    }

    #[test]
    fn proxies_are_asked_to_connect_to_the_first_https_target() {
        let urls = ["http://198.18.1.2/check", "https://www.site.test/x", "https://b.test:8443/"];
        assert_eq!(test_authority(urls).as_deref(), Some("www.site.test:443"));
        assert_eq!(test_authority(["https://u:p@b.test:8443/"]).as_deref(), Some("b.test:8443"));
        assert_eq!(test_authority(["http://198.18.1.2:8080/check"]).as_deref(), Some("198.18.1.2:443"));
        assert_eq!(test_authority(["https://[2001:db8::1]/"]).as_deref(), Some("[2001:db8::1]:443"));
        assert_eq!(test_authority(["http://[2001:db8::1]:80/"]).as_deref(), Some("[2001:db8::1]:443"));
        assert_eq!(test_authority(["https://[2001:db8::1]:8443/"]).as_deref(), Some("[2001:db8::1]:8443"));
        assert_eq!(test_authority(["nonsense", "http:///x"]), None);
    }

    #[test]
    fn via_names_the_proxy_without_credentials() {
        let server = ProxyServer::parse("http://u:secret@p.example:3128").unwrap();
        let via = Via::of(&Route::Proxy { server, source: ProxySource::Config });
        assert_eq!(via.proxy.as_deref(), Some("http://p.example:3128"));
        assert!(!serde_json::to_string(&via).unwrap().contains("secret"));
        assert_eq!(Via::of(&Route::Direct { source: None }), Via::default());
    }
}
