//! Proxy discovery's parsers on any bytes: `/etc/environment` lines, proxy URLs, `no_proxy`
//! lists, gsettings values, PAC files (scanned and used as the web check uses them) and
//! DHCP option 252 (WPAD) texts must be total (no panic), keep their bounds, and never let a
//! proxy URL's password into what is shown.
#![no_main]

use libfuzzer_sys::fuzz_target;
use nettriage::check::web::proxy::{ProxyReport, use_dhcp_wpad, use_pac, use_proxy_tests};
use nettriage::platform::dhcp::{DhcpOptions, MAX_TEXT_CHARS};
use nettriage::platform::proxy::{
    DhcpWpad, MAX_PAC_PROXIES, NoProxy, ProxyPlan, ProxyServer, ProxySource, ProxyVars, WpadOrigin, dhcp_pac_url,
    parse_env_file, parse_gvariant, scan_pac, search_domain, wpad_url,
};

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let vars = parse_env_file(&text);
    assert!(vars.len() <= 1024);
    let pv = ProxyVars::from_vars(vars.iter().map(|(k, v)| (k.as_str(), v.as_str())));
    for value in [&pv.http, &pv.https].into_iter().flatten() {
        if let Ok(server) = ProxyServer::parse(value) {
            let _ = server.authorization();
            assert!(!server.shown().contains('@'));
        }
    }
    let np = NoProxy::parse(&text);
    for host in text.split_whitespace().take(16) {
        let _ = np.matches(host, 443);
    }
    if let Ok(server) = ProxyServer::parse(&text) {
        assert!(!server.shown().contains('@'));
    }
    let scan = scan_pac(&text);
    assert!(scan.proxies.len() <= MAX_PAC_PROXIES && scan.unsupported.len() <= MAX_PAC_PROXIES);
    // The PAC as the web check uses it: the plan routes only through proxies it parsed.
    let (mut plan, mut report) = (ProxyPlan::default(), ProxyReport::default());
    if use_pac(&mut plan, &mut report, "http://pac.site.test/p.pac", ProxySource::Pac, Some(data), None) {
        use_proxy_tests(&mut plan, &mut report, Vec::new());
    }
    if let Some((server, _)) = &plan.http {
        assert!(scan.proxies.contains(&server.shown()));
    }
    // Option 252 as DHCP gives it: cleaned and bounded, and a usable URL has no spaces.
    let mut options = DhcpOptions::default();
    options.set_wpad(&text);
    if let Some(w) = &options.wpad {
        assert!(w.chars().count() <= MAX_TEXT_CHARS && !w.chars().any(char::is_control));
        if let Ok(url) = dhcp_pac_url(w) {
            assert!(!url.chars().any(char::is_whitespace));
        }
        let given = DhcpWpad::new(w, WpadOrigin::Offer, None);
        let _ = use_dhcp_wpad(&mut ProxyReport::default(), Some(Some(given)));
    }
    let _ = parse_gvariant(&text);
    if let Some(domain) = search_domain(&text) {
        let _ = wpad_url(&domain);
    }
});
