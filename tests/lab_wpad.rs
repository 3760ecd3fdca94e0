//! End-to-end scenarios of WPAD through DHCP and of the PAC's proxies: the lab router's
//! dnsmasq sends option 252 (the WPAD URL, draft-ietf-wrec-wpad-01) to the dhcp check's
//! DISCOVER, nginx serves the PAC it names, tinyproxy is the proxy (the peers of
//! `tests/lab/wpad.rs`, shared with `tests/lab_proxy.rs`), and nftables in the router drops
//! the client's direct web traffic so that only a proxy gets through. Each test runs the
//! real binary in the client namespace and reads the report through the library's typed
//! model (`nettriage::report::Report`), asserting on codes and typed fields.

mod lab;

use lab::wpad::{
    TLS_PROXY_PORT, TOOLS, drop_direct_web, proxy_url, run_with_env, start_origin, start_tinyproxy, start_tls_proxy,
    urls,
};
use lab::{Lab, LabOptions, SERVER_IP, assert_check_status, assert_report_contract, pretty};
use nettriage::check::web::{TlsVerdict, WebEvidence};
use nettriage::platform::proxy::{DhcpWpadState, PacProxyStatus, ProxySource, WpadOrigin};
use nettriage::report::{CheckId, Code, Report};
use serde_json::Value;

/// Where nginx serves the lab's PACs (a port the router does not drop).
const PAC_PORT: u16 = 8095;

fn typed(r: &Value) -> Report {
    serde_json::from_value(r.clone()).unwrap_or_else(|e| panic!("report does not read: {e}"))
}

fn web_ev(report: &Report) -> &WebEvidence {
    report.web_evidence().expect("the web check has evidence")
}

/// Every hop of every probe, connectivity first.
fn all_hops(ev: &WebEvidence) -> Vec<&nettriage::check::web::HttpHop> {
    ev.connectivity.iter().map(|c| &c.probe).chain(&ev.targets).flat_map(|p| &p.hops).collect()
}

/// The lab's DHCP server sends option 252 naming a PAC that nginx serves; the PAC names
/// tinyproxy, the only way out. No proxy is set anywhere else: the dhcp check's first
/// offer carries the URL, the web check fetches that PAC
/// (`pac.source` `dhcp`, `dhcp_wpad_state` `used`) and every probe, HTTP and HTTPS
/// (CONNECT), passes through the proxy with `via.source` `dhcp`. With `[web] wpad = false`
/// option 252 is not consulted and the probes go direct, into the router's drop.
#[test]
#[cfg_attr(nettriage_lab_skip, ignore = "NETTRIAGE_LAB=skip")]
fn wpad_from_dhcp_option_252_names_the_proxy() {
    lab::require_tools("wpad_from_dhcp_option_252_names_the_proxy", TOOLS);
    let pac_url = format!("http://{SERVER_IP}:{PAC_PORT}/wpad.dat");
    let opts =
        LabOptions { router_dnsmasq_extra: vec![format!("dhcp-option=252,\"{pac_url}\"")], ..Default::default() };
    let mut lab = Lab::start_with("wpad_from_dhcp_option_252_names_the_proxy", opts);
    let pac = format!("function FindProxyForURL(url, host) {{ return \\\"PROXY {SERVER_IP}:8888\\\"; }}");
    let ca_file = start_origin(
        &mut lab,
        &format!(
            "server {{ listen {SERVER_IP}:{PAC_PORT}; default_type application/x-ns-proxy-autoconfig;\n\
               location = /wpad.dat {{ return 200 \"{pac}\"; }} }}\n"
        ),
    );
    start_tinyproxy(&mut lab, None);
    drop_direct_web(&lab);
    let (check_url, https) = urls();
    let ca = ca_file.to_str().unwrap();
    let args = ["--connectivity-url", &check_url, "--url", &https, "--ca-file", ca];
    let (code, r, _, _) = run_with_env(&lab, &[], &args);
    assert_report_contract(code, &r);
    assert_check_status(&r, "web", "pass");
    let report = typed(&r);
    let offers = &report.dhcp_evidence().expect("dhcp evidence").probe.offers;
    assert!(offers.iter().any(|o| o.wpad.as_deref() == Some(pac_url.as_str())), "{}", pretty(&r));
    let ev = web_ev(&report);
    let p = &ev.proxy.as_ref().expect("proxy discovery ran").discovery;
    assert_eq!(p.dhcp_wpad_state, DhcpWpadState::Used, "{}", pretty(&r));
    let given = p.dhcp_wpad.as_ref().expect("option 252 in the evidence");
    assert_eq!((given.url.as_str(), given.origin), (pac_url.as_str(), WpadOrigin::Offer), "{}", pretty(&r));
    assert_eq!(p.wpad_host, None, "WPAD through DNS is not needed");
    let info = p.pac.as_ref().expect("the PAC");
    assert_eq!((info.source, info.fetched, info.url.as_str()), (ProxySource::Dhcp, true, pac_url.as_str()));
    let hops = all_hops(ev);
    assert_eq!(hops.len(), 2, "{}", pretty(&r));
    for hop in hops {
        assert_eq!(hop.via.proxy.as_deref(), Some(proxy_url().as_str()), "{}", pretty(&r));
        assert_eq!(hop.via.source, Some(ProxySource::Dhcp), "{}", pretty(&r));
        assert_eq!(hop.status, Some(200), "{}", pretty(&r));
    }

    // Control: WPAD off, so option 252 is not consulted; direct web traffic is dropped.
    let config = lab.tmp().join("nowpad.toml");
    std::fs::write(&config, "[web]\nwpad = false\n").unwrap();
    let mut off = args.to_vec();
    off.extend(["--config", config.to_str().unwrap()]);
    let (code, r, _, _) = run_with_env(&lab, &[], &off);
    assert_report_contract(code, &r);
    assert_check_status(&r, "web", "fail");
    let report = typed(&r);
    let ev = web_ev(&report);
    let p = &ev.proxy.as_ref().expect("proxy discovery ran").discovery;
    assert_eq!((p.dhcp_wpad_state, &p.pac), (DhcpWpadState::NotConsulted, &None), "{}", pretty(&r));
    assert!(all_hops(ev).iter().all(|h| h.via.proxy.is_none()), "{}", pretty(&r));
    let codes: Vec<Code> = report.check(CheckId::Web).unwrap().findings.iter().map(|f| f.code).collect();
    assert!(codes.iter().all(|c| *c == Code::WebUnreachable), "{}", pretty(&r));
}

/// A PAC (named by the config's `pac_url`) that names a dead proxy (nothing listens on
/// 8899) before the live tinyproxy: both are tested and in the evidence with their results,
/// the probes go through the live one and pass, and the `web.pac_not_evaluated` notice
/// stays. A PAC naming only dead proxies is `web.proxy_unreachable`, the root cause; one
/// that ends in DIRECT is used direct, with the dead proxy a warning.
#[test]
#[cfg_attr(nettriage_lab_skip, ignore = "NETTRIAGE_LAB=skip")]
fn every_proxy_of_a_pac_is_tested_and_a_dead_one_is_skipped() {
    lab::require_tools("every_proxy_of_a_pac_is_tested_and_a_dead_one_is_skipped", TOOLS);
    let mut lab = Lab::start("every_proxy_of_a_pac_is_tested_and_a_dead_one_is_skipped");
    let pac = |proxies: &str| format!("function FindProxyForURL(url, host) {{ return \\\"{proxies}\\\"; }}");
    let (mixed, dead, fallback) = (
        pac(&format!("PROXY {SERVER_IP}:8899; PROXY {SERVER_IP}:8888")),
        pac(&format!("PROXY {SERVER_IP}:8899; PROXY {SERVER_IP}:8897")),
        pac(&format!("PROXY {SERVER_IP}:8899; DIRECT")),
    );
    let ca_file = start_origin(
        &mut lab,
        &format!(
            "server {{ listen {SERVER_IP}:{PAC_PORT}; default_type application/x-ns-proxy-autoconfig;\n\
               location = /mixed.pac {{ return 200 \"{mixed}\"; }}\n\
               location = /dead.pac {{ return 200 \"{dead}\"; }}\n\
               location = /fallback.pac {{ return 200 \"{fallback}\"; }} }}\n"
        ),
    );
    start_tinyproxy(&mut lab, None);
    drop_direct_web(&lab);
    let (check_url, https) = urls();
    let ca = ca_file.to_str().unwrap();
    let config = |name: &str| {
        let path = lab.tmp().join(format!("{name}.toml"));
        std::fs::write(&path, format!("[web]\npac_url = \"http://{SERVER_IP}:{PAC_PORT}/{name}.pac\"\n")).unwrap();
        path.display().to_string()
    };

    let mixed_config = config("mixed");
    let args = ["--config", &mixed_config, "--connectivity-url", &check_url, "--url", &https, "--ca-file", ca];
    let (code, r, _, _) = run_with_env(&lab, &[], &args);
    assert_report_contract(code, &r);
    assert_check_status(&r, "web", "pass");
    let report = typed(&r);
    let ev = web_ev(&report);
    let proxy = ev.proxy.as_ref().expect("proxy discovery ran");
    let info = proxy.discovery.pac.as_ref().expect("the PAC");
    let tests: Vec<(&str, PacProxyStatus)> = info.proxy_tests.iter().map(|t| (t.proxy.as_str(), t.status)).collect();
    let (dead_proxy, live_proxy) = (format!("http://{SERVER_IP}:8899"), proxy_url());
    assert_eq!(
        tests,
        [(dead_proxy.as_str(), PacProxyStatus::Unreachable), (live_proxy.as_str(), PacProxyStatus::Works)],
        "{}",
        pretty(&r)
    );
    assert_eq!(info.proxy_tests[1].http_status, Some(200), "{}", pretty(&r));
    assert!(proxy.notices.iter().any(|n| n.code == Code::WebPacNotEvaluated), "{}", pretty(&r));
    let hops = all_hops(ev);
    assert_eq!(hops.len(), 2, "{}", pretty(&r));
    for hop in hops {
        assert_eq!(hop.via.proxy.as_deref(), Some(live_proxy.as_str()), "{}", pretty(&r));
        assert_eq!((hop.via.source, hop.status), (Some(ProxySource::Pac), Some(200)), "{}", pretty(&r));
    }

    let dead_config = config("dead");
    let args = ["--config", &dead_config, "--connectivity-url", &check_url];
    let (code, r, _, _) = run_with_env(&lab, &[], &args);
    assert_report_contract(code, &r);
    assert_check_status(&r, "web", "fail");
    let report = typed(&r);
    let ev = web_ev(&report);
    let info = ev.proxy.as_ref().and_then(|p| p.discovery.pac.as_ref()).expect("the PAC");
    assert_eq!(info.proxy_tests.len(), 2, "{}", pretty(&r));
    assert!(info.proxy_tests.iter().all(|t| !t.status.answers()), "{}", pretty(&r));
    let web = report.check(CheckId::Web).expect("web");
    assert_eq!(web.findings.first().map(|f| f.code), Some(Code::WebProxyUnreachable), "{}", pretty(&r));
    assert_eq!(lab::root_cause_code(&r).as_deref(), Some("web.proxy_unreachable"), "{}", pretty(&r));

    // A PAC whose proxy is dead but that ends in DIRECT: the probes go direct, as a
    // browser falls back (here direct web is dropped, so they fail on their own), and the
    // dead proxy is a warning beside them.
    let fallback_config = config("fallback");
    let args = ["--config", &fallback_config, "--connectivity-url", &check_url];
    let (code, r, _, _) = run_with_env(&lab, &[], &args);
    assert_report_contract(code, &r);
    let report = typed(&r);
    let ev = web_ev(&report);
    let hops = all_hops(ev);
    assert!(!hops.is_empty(), "{}", pretty(&r));
    assert!(hops.iter().all(|h| h.via.proxy.is_none()), "went direct: {}", pretty(&r));
    let web = report.check(CheckId::Web).expect("web");
    let dead_proxy = web.findings.iter().find(|f| f.code == Code::WebProxyUnreachable).expect("dead proxy noted");
    assert_eq!(dead_proxy.severity, nettriage::report::Severity::Warn, "{}", pretty(&r));
}

/// An `https://` proxy (socat terminating TLS in front of tinyproxy, its certificate from a
/// second lab CA): the connectivity probe goes as an absolute-form request inside the TLS
/// connection to the proxy, the HTTPS target as `CONNECT` inside it and then TLS to the
/// origin through that (TLS in TLS); both pass with `via.proxy` the `https://` URL. The
/// proxy's certificate is verified like any server's: without its CA the proxy cannot be
/// used, `web.proxy_unreachable`.
#[test]
#[cfg_attr(nettriage_lab_skip, ignore = "NETTRIAGE_LAB=skip")]
fn an_https_proxy_carries_http_and_connect_inside_tls() {
    let mut tools = TOOLS.to_vec();
    tools.push(("socat", "socat"));
    lab::require_tools("an_https_proxy_carries_http_and_connect_inside_tls", &tools);
    let mut lab = Lab::start("an_https_proxy_carries_http_and_connect_inside_tls");
    let origin_ca = start_origin(&mut lab, "");
    start_tinyproxy(&mut lab, None);
    let proxy_ca = start_tls_proxy(&mut lab);
    drop_direct_web(&lab);
    let both = lab.tmp().join("both-cas.pem");
    let pems = [&origin_ca, &proxy_ca].map(|p| std::fs::read_to_string(p).unwrap());
    std::fs::write(&both, pems.concat()).unwrap();
    let tls_proxy = format!("https://{SERVER_IP}:{TLS_PROXY_PORT}");
    let vars = [format!("http_proxy={tls_proxy}"), format!("https_proxy={tls_proxy}")];
    let (check_url, https) = urls();
    let args = ["--connectivity-url", &check_url, "--url", &https, "--ca-file", both.to_str().unwrap()];
    let (code, r, _, _) = run_with_env(&lab, &vars, &args);
    assert_report_contract(code, &r);
    assert_check_status(&r, "web", "pass");
    let report = typed(&r);
    let ev = web_ev(&report);
    let hops = all_hops(ev);
    assert_eq!(hops.len(), 2, "{}", pretty(&r));
    for hop in &hops {
        assert_eq!(hop.via.proxy.as_deref(), Some(tls_proxy.as_str()), "{}", pretty(&r));
        assert_eq!((hop.via.source, hop.status), (Some(ProxySource::Env), Some(200)), "{}", pretty(&r));
    }
    let target_tls = ev.targets[0].hops[0].tls.as_ref().expect("the origin's TLS");
    assert_eq!(target_tls.verdict, TlsVerdict::Ok, "{}", pretty(&r));

    // The proxy's CA is not trusted: its certificate does not verify, so it is not used.
    let args = ["--connectivity-url", &check_url, "--ca-file", origin_ca.to_str().unwrap()];
    let (code, r, _, _) = run_with_env(&lab, &vars, &args);
    assert_report_contract(code, &r);
    assert_check_status(&r, "web", "fail");
    let report = typed(&r);
    let hop = all_hops(web_ev(&report))[0];
    assert!(hop.via.proxy_unreachable, "{}", pretty(&r));
    assert_eq!(lab::root_cause_code(&r).as_deref(), Some("web.proxy_unreachable"), "{}", pretty(&r));
}
