//! Proxy discovery's parsers on any bytes: `/etc/environment` lines, proxy URLs, `no_proxy`
//! lists, gsettings values and PAC files must be total (no panic), keep their bounds, and
//! never let a proxy URL's password into what is shown.
#![no_main]

use libfuzzer_sys::fuzz_target;
use nettriage::platform::proxy::{
    MAX_PAC_PROXIES, NoProxy, ProxyServer, ProxyVars, parse_env_file, parse_gvariant, scan_pac, search_domain, wpad_url,
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
    let _ = parse_gvariant(&text);
    if let Some(domain) = search_domain(&text) {
        let _ = wpad_url(&domain);
    }
});
