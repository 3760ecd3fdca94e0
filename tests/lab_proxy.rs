//! End-to-end scenarios of the web layer's proxy support: a real tinyproxy in the lab's
//! server namespace (its own config, pid file and log in the lab's temp dir, killed by PID
//! with the lab), nginx as the origin (`start_nginx`), nftables in the router dropping the
//! client's direct web traffic so that only the proxy gets through, and a PAC served by
//! nginx. Each test runs the real binary in the client namespace with the proxy set the way
//! a user sets it (environment variables, `--proxy`, the config file) and asserts on codes
//! and typed evidence fields (`via`, `proxy.pac`), never on message text.
//!
//! The origin is addressed by its IP (`198.18.1.2`): the proxy, not the client, resolves
//! the origin's name, and the server namespace has no resolver of its own. The HTTPS
//! origin's certificate names that IP (a lab CA, `--ca-file`).

mod lab;

use std::fs;
use std::time::{Duration, Instant};

use lab::web::web;
use lab::wpad::{
    PROXY_PORT, TOOLS, drop_direct_web, hops, proxy_url, run_with_env, start_origin, start_tinyproxy, urls,
};
use lab::{Lab, SERVER_IP, WWW_NAME, assert_check_status, assert_report_contract, codes, pretty};
use serde_json::Value;

/// The proxy is the only way out (the router drops direct web traffic): through it, the
/// connectivity probe (absolute-form HTTP) and an HTTPS target (CONNECT, then TLS with the
/// lab CA) pass, and every hop's `via` names the proxy and `env` as its source. The same run
/// with `--proxy direct` fails: the pass came through the proxy.
#[test]
#[cfg_attr(nettriage_lab_skip, ignore = "NETTRIAGE_LAB=skip")]
fn proxy_required_and_working_over_http_and_connect() {
    lab::require_tools("proxy_required_and_working_over_http_and_connect", TOOLS);
    let mut lab = Lab::start("proxy_required_and_working_over_http_and_connect");
    let ca_file = start_origin(&mut lab, "");
    start_tinyproxy(&mut lab, None);
    drop_direct_web(&lab);
    let (check_url, https) = urls();
    let ca = ca_file.to_str().unwrap();
    let vars = [format!("http_proxy={}", proxy_url()), format!("HTTPS_PROXY={}", proxy_url())];
    let args = ["--connectivity-url", &check_url, "--url", &https, "--ca-file", ca];
    let (code, r, _, _) = run_with_env(&lab, &vars, &args);
    assert_report_contract(code, &r);
    assert_check_status(&r, "web", "pass");
    let ev = web(&r);
    assert_eq!(ev["connectivity"]["state"], "online", "{}", pretty(&r));
    let target = &ev["targets"][0]["hops"][0];
    assert_eq!(
        (target["status"].as_u64(), &target["tls"]["verdict"]),
        (Some(200), &Value::from("ok")),
        "{}",
        pretty(&r)
    );
    let all = hops(&r);
    assert_eq!(all.len(), 2, "{}", pretty(&r));
    for hop in &all {
        assert_eq!(hop["via"]["proxy"], proxy_url().as_str(), "{}", pretty(&r));
        assert_eq!(hop["via"]["source"], "env", "{}", pretty(&r));
    }
    assert_eq!(ev["proxy"]["http"]["source"], "env", "{}", pretty(&r));
    assert_eq!(ev["proxy"]["https"]["value"], proxy_url().as_str(), "{}", pretty(&r));

    // Control: without the proxy the router's drop wins.
    let mut direct = args.to_vec();
    direct.extend(["--proxy", "direct"]);
    let (code, r, _, _) = run_with_env(&lab, &vars, &direct);
    assert_report_contract(code, &r);
    assert_check_status(&r, "web", "fail");
    assert!(codes(&r, "web").iter().all(|c| c == "web.unreachable"), "{}", pretty(&r));
    assert!(hops(&r).iter().all(|h| h["via"]["proxy"].is_null()), "{}", pretty(&r));
}

/// tinyproxy with basic auth: without credentials both the HTTP request and the CONNECT get
/// 407, `web.proxy_auth_required` is the root cause; with `user:password@` in the proxy URL
/// the run passes, and the password appears nowhere in what nettriage printed.
#[test]
#[cfg_attr(nettriage_lab_skip, ignore = "NETTRIAGE_LAB=skip")]
fn proxy_407_without_credentials_and_pass_with_them_never_printed() {
    lab::require_tools("proxy_407_without_credentials_and_pass_with_them_never_printed", TOOLS);
    let mut lab = Lab::start("proxy_407_without_credentials_and_pass_with_them_never_printed");
    const PASSWORD: &str = "Sw0rdf1shLab";
    let ca_file = start_origin(&mut lab, "");
    start_tinyproxy(&mut lab, Some(("labuser", PASSWORD)));
    drop_direct_web(&lab);
    let (check_url, https) = urls();
    let ca = ca_file.to_str().unwrap();
    let args = ["--connectivity-url", &check_url, "--url", &https, "--ca-file", ca];

    let anonymous = [format!("http_proxy={}", proxy_url()), format!("https_proxy={}", proxy_url())];
    let (code, r, _, _) = run_with_env(&lab, &anonymous, &args);
    assert_report_contract(code, &r);
    assert_check_status(&r, "web", "fail");
    assert_eq!(codes(&r, "web"), ["web.proxy_auth_required", "web.proxy_auth_required"], "{}", pretty(&r));
    assert_eq!(lab::root_cause_code(&r).as_deref(), Some("web.proxy_auth_required"), "{}", pretty(&r));
    assert!(hops(&r).iter().all(|h| h["status"] == 407), "{}", pretty(&r));

    let with = format!("http://labuser:{PASSWORD}@{SERVER_IP}:{PROXY_PORT}");
    let (code, r, stdout, stderr) =
        run_with_env(&lab, &[format!("http_proxy={with}"), format!("https_proxy={with}")], &args);
    assert_report_contract(code, &r);
    assert_check_status(&r, "web", "pass");
    assert!(hops(&r).iter().all(|h| h["via"]["proxy"] == proxy_url().as_str()), "{}", pretty(&r));
    assert!(!stdout.contains(PASSWORD) && !stderr.contains(PASSWORD), "the password was printed");
    // Verbose logs and the table output too.
    let (_, _, stdout, stderr) = run_with_env(&lab, &[format!("http_proxy={with}")], &["-vvv", "--url", &check_url]);
    assert!(!stdout.contains(PASSWORD) && !stderr.contains(PASSWORD), "the password was printed with -vvv");
    let out = lab.run_nettriage_raw(
        &["env", &format!("http_proxy={with}")],
        &["run", "--interface", "eth0", "--format", "table", "--dns-name", WWW_NAME, "--url", &check_url],
    );
    assert!(!out.stdout.contains(PASSWORD) && !out.stderr.contains(PASSWORD), "the password was in the table");
}

/// A proxy is configured but nothing listens there: every probe is
/// `web.proxy_unreachable`, the root cause, and its hop says `via.proxy_unreachable`.
#[test]
#[cfg_attr(nettriage_lab_skip, ignore = "NETTRIAGE_LAB=skip")]
fn proxy_down_is_the_root_cause() {
    lab::require_tools("proxy_down_is_the_root_cause", TOOLS);
    let mut lab = Lab::start("proxy_down_is_the_root_cause");
    start_origin(&mut lab, "");
    let (check_url, https) = urls();
    let dead = format!("http://{SERVER_IP}:8899");
    let (code, r, _, _) = run_with_env(
        &lab,
        &[format!("http_proxy={dead}"), format!("https_proxy={dead}")],
        &["--connectivity-url", &check_url, "--url", &https],
    );
    assert_report_contract(code, &r);
    assert_check_status(&r, "web", "fail");
    assert_eq!(codes(&r, "web"), ["web.proxy_unreachable", "web.proxy_unreachable"], "{}", pretty(&r));
    assert_eq!(lab::root_cause_code(&r).as_deref(), Some("web.proxy_unreachable"), "{}", pretty(&r));
    for hop in hops(&r) {
        assert_eq!(
            (&hop["via"]["proxy_unreachable"], &hop["error"]["phase"]),
            (&Value::from(true), &Value::from("connect"))
        );
    }
}

fn write_config(lab: &Lab, text: &str) -> String {
    let path = lab.tmp().join("nettriage.toml");
    fs::write(&path, text).unwrap();
    path.display().to_string()
}

/// A PAC served by nginx, named by the config's `pac_url`: it is fetched and scanned (not
/// run), the proxy it names carries the probes (`via.source` `pac`), the notice says it was
/// not evaluated. A second PAC that loops forever names no proxy: the run ends in time,
/// with the `web.pac_unusable` notice, and the probes go direct.
#[test]
#[cfg_attr(nettriage_lab_skip, ignore = "NETTRIAGE_LAB=skip")]
fn pac_from_the_config_is_scanned_and_a_looping_pac_cannot_hang() {
    lab::require_tools("pac_from_the_config_is_scanned_and_a_looping_pac_cannot_hang", TOOLS);
    let mut lab = Lab::start("pac_from_the_config_is_scanned_and_a_looping_pac_cannot_hang");
    let pac = format!(
        "function FindProxyForURL(url, host) {{\\n  if (host == \\\"intranet.site.test\\\") return \\\"DIRECT\\\";\\n  \
         return \\\"PROXY {SERVER_IP}:{PROXY_PORT}; DIRECT\\\";\\n}}\\n"
    );
    let looping = "function FindProxyForURL(url, host) {\\n  while (true) {}\\n}\\n";
    start_origin(
        &mut lab,
        &format!(
            "server {{ listen {SERVER_IP}:8094; default_type application/x-ns-proxy-autoconfig;\n\
               location = /proxy.pac {{ return 200 \"{pac}\"; }}\n\
               location = /loop.pac {{ return 200 \"{looping}\"; }} }}\n"
        ),
    );
    start_tinyproxy(&mut lab, None);
    drop_direct_web(&lab);
    let (check_url, _) = urls();
    let config = write_config(&lab, &format!("[web]\npac_url = \"http://{SERVER_IP}:8094/proxy.pac\"\n"));
    let (code, r, _, _) = run_with_env(&lab, &[], &["--config", &config, "--connectivity-url", &check_url]);
    assert_report_contract(code, &r);
    assert_check_status(&r, "web", "pass");
    let p = &web(&r)["proxy"];
    assert_eq!(
        (&p["pac"]["fetched"], &p["pac"]["evaluated"]),
        (&Value::from(true), &Value::from(false)),
        "{}",
        pretty(&r)
    );
    assert_eq!(p["pac"]["scan"]["proxies"], serde_json::json!([proxy_url()]), "{}", pretty(&r));
    assert_eq!(p["pac"]["scan"]["direct"], true, "{}", pretty(&r));
    assert_eq!(p["notices"][0]["code"], "web.pac_not_evaluated", "{}", pretty(&r));
    let hop = &hops(&r)[0];
    assert_eq!((&hop["via"]["proxy"], &hop["via"]["source"]), (&Value::from(proxy_url()), &Value::from("pac")));

    // The looping PAC: nothing to use, so direct, and the router drops direct web traffic.
    let config = write_config(&lab, &format!("[web]\npac_url = \"http://{SERVER_IP}:8094/loop.pac\"\n"));
    let started = Instant::now();
    let (code, r, _, _) = run_with_env(&lab, &[], &["--config", &config, "--connectivity-url", &check_url]);
    assert!(started.elapsed() < Duration::from_secs(20), "bounded");
    assert_report_contract(code, &r);
    let p = &web(&r)["proxy"];
    assert_eq!(p["notices"][0]["code"], "web.pac_unusable", "{}", pretty(&r));
    assert_eq!(p["pac"]["scan"]["defines_find_proxy"], true, "{}", pretty(&r));
    assert!(hops(&r).iter().all(|h| h["via"]["proxy"].is_null()), "{}", pretty(&r));
    assert_eq!(codes(&r, "web"), ["web.unreachable"], "{}", pretty(&r));
}

/// WPAD through DNS: the client's resolv.conf has `search site.test` and a resolver (a
/// dnsmasq of this test on a second server address) that knows `wpad.site.test`; nginx
/// serves `/wpad.dat` for that name. No proxy is set anywhere else: the PAC found by WPAD
/// names the proxy, and the probes go through it with `via.source` `wpad`.
#[test]
#[cfg_attr(nettriage_lab_skip, ignore = "NETTRIAGE_LAB=skip")]
fn wpad_from_the_search_domain_names_the_proxy() {
    lab::require_tools("wpad_from_the_search_domain_names_the_proxy", TOOLS);
    let mut lab = Lab::start("wpad_from_the_search_domain_names_the_proxy");
    const WPAD_DNS: &str = "198.18.1.53";
    let pac = format!("function FindProxyForURL(url, host) {{ return \\\"PROXY {SERVER_IP}:{PROXY_PORT}\\\"; }}");
    start_origin(
        &mut lab,
        &format!(
            "server {{ listen {SERVER_IP}:80; server_name wpad.site.test;\n\
               location = /wpad.dat {{ return 200 \"{pac}\"; }} }}\n"
        ),
    );
    start_tinyproxy(&mut lab, None);
    let s = lab.s.clone();
    lab.ip(&s, &["addr", "add", &format!("{WPAD_DNS}/24"), "dev", "eth0"]);
    let dir = lab.tmp().join("dnsmasq-wpad");
    fs::create_dir_all(&dir).unwrap();
    let conf = dir.join("dnsmasq.conf");
    fs::write(
        &conf,
        format!(
            "listen-address={WPAD_DNS}\nbind-interfaces\nport=53\nno-dhcp-interface=eth0\nuser=root\ngroup=root\n\
             local=/site.test/\nhost-record=wpad.site.test,{SERVER_IP}\nhost-record={WWW_NAME},{SERVER_IP}\n"
        ),
    )
    .unwrap();
    let conf_arg = format!("--conf-file={}", conf.display());
    lab.spawn_in("dnsmasq-wpad", &s, &["dnsmasq", "--keep-in-foreground", "--no-resolv", "--no-hosts", &conf_arg]);
    let started = Instant::now();
    while lab.dig_rcode(WPAD_DNS, "wpad.site.test") != "NOERROR" {
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "dnsmasq did not start: {}",
            lab.daemon_log("dnsmasq-wpad")
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    lab.set_resolv_conf(&[&format!("nameserver {WPAD_DNS}"), "search site.test"]);
    let (check_url, _) = urls();
    let (code, r, _, _) = run_with_env(&lab, &[], &["--connectivity-url", &check_url]);
    assert_report_contract(code, &r);
    assert_check_status(&r, "web", "pass");
    let p = &web(&r)["proxy"];
    assert_eq!(p["wpad_host"], "wpad.site.test", "{}", pretty(&r));
    assert_eq!(
        (&p["pac"]["source"], &p["pac"]["fetched"]),
        (&Value::from("wpad"), &Value::from(true)),
        "{}",
        pretty(&r)
    );
    let hop = &hops(&r)[0];
    assert_eq!((&hop["via"]["proxy"], &hop["via"]["source"]), (&Value::from(proxy_url()), &Value::from("wpad")));
}

/// GNOME's settings: no proxy variable is set, and GLib's keyfile backend
/// (`GSETTINGS_BACKEND=keyfile`, the file under the run's `$XDG_CONFIG_HOME`) holds
/// `org.gnome.system.proxy` `mode='manual'` with the lab proxy for HTTP: `gsettings` is read
/// and the connectivity probe goes through that proxy with `via.source` `gsettings`.
#[test]
#[cfg_attr(nettriage_lab_skip, ignore = "NETTRIAGE_LAB=skip")]
fn gnome_manual_proxy_settings_are_used() {
    let mut tools = TOOLS.to_vec();
    tools.push(("gsettings", "libglib2.0-bin gsettings-desktop-schemas"));
    lab::require_tools("gnome_manual_proxy_settings_are_used", &tools);
    let mut lab = Lab::start("gnome_manual_proxy_settings_are_used");
    start_origin(&mut lab, "");
    start_tinyproxy(&mut lab, None);
    drop_direct_web(&lab);
    // The lab runs nettriage with HOME=<tmp>/home and XDG_CONFIG_HOME=<tmp>/home/.config.
    let settings = lab.tmp().join("home/.config/glib-2.0/settings");
    fs::create_dir_all(&settings).unwrap();
    fs::write(
        settings.join("keyfile"),
        format!(
            "[system/proxy]\nmode='manual'\nignore-hosts=['localhost']\n\n\
             [system/proxy/http]\nhost='{SERVER_IP}'\nport={PROXY_PORT}\n"
        ),
    )
    .unwrap();
    let (check_url, _) = urls();
    let (code, r, _, _) =
        run_with_env(&lab, &["GSETTINGS_BACKEND=keyfile".into()], &["--connectivity-url", &check_url]);
    assert_report_contract(code, &r);
    assert_check_status(&r, "web", "pass");
    let p = &web(&r)["proxy"];
    assert_eq!(p["gsettings"], "read", "{}", pretty(&r));
    assert_eq!((&p["http"]["value"], &p["http"]["source"]), (&Value::from(proxy_url()), &Value::from("gsettings")));
    let hop = &hops(&r)[0];
    assert_eq!((&hop["via"]["proxy"], &hop["via"]["source"]), (&Value::from(proxy_url()), &Value::from("gsettings")));
}
