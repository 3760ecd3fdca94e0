//! End-to-end scenarios of the `m365` service profile: the Microsoft 365 endpoint names of
//! the profile's defaults pointed at the lab's server through the lab's DNS, nginx serving
//! each over HTTPS with a lab-CA certificate (the CA `public_ca_file` names as the public
//! one), coturn answering STUN on UDP 3478 as the Teams media relay. Faults: the sign-in
//! endpoint's TCP 443 rejected with nft, an "inspection" CA's certificate for Outlook (a
//! TLS-inspecting proxy), UDP 3478-3481 dropped. Each test runs the real binary with
//! `--profile m365 --config FILE` in the client namespace and asserts on codes, statuses
//! and typed evidence, never on message text.

mod lab;
#[path = "lab/m365.rs"]
mod m365_lab;

use lab::{assert_check_status, assert_exit, assert_report_contract, codes, pretty};
use m365_lab::{LOGIN_IP, M365Lab, TOOLS, evidence};
use nettriage::check::m365::{M365Evidence, MEDIA_TARGET, MediaOutcome, targets};
use serde_json::Value;

fn typed(report: &Value) -> M365Evidence {
    serde_json::from_value(evidence(report).clone()).expect("m365 evidence reads as M365Evidence")
}

/// Every category answers through the web layer with a chain of the configured public CA,
/// and the relay answers STUN: the profile passes, the run is healthy.
#[test]
#[cfg_attr(nettriage_lab_skip, ignore = "NETTRIAGE_LAB=skip")]
fn m365_healthy_endpoints_and_media_relay() {
    let test = "m365_healthy_endpoints_and_media_relay";
    lab::require_tools(test, TOOLS);
    let m = M365Lab::start(test, &[]);
    let (code, r, _) = m.run(&[]);
    assert_report_contract(code, &r);
    assert_check_status(&r, "m365", "pass");
    assert!(codes(&r, "m365").is_empty(), "{}", pretty(&r));
    assert_exit(code, 0, &r);
    let ev = typed(&r);
    let categories: Vec<&str> = ev.endpoints.iter().map(|e| e.category.as_str()).collect();
    assert_eq!(categories, ["exchange", "exchange", "sharepoint", "sharepoint", "teams", "login"]);
    for e in &ev.endpoints {
        let hop = &e.probe.hops[0];
        assert_eq!(hop.status, Some(200), "{}", pretty(&r));
        let tls = hop.tls.as_ref().expect("HTTPS has TLS evidence");
        assert_eq!(tls.public_root, Some(true), "{}", pretty(&r));
    }
    assert!(ev.skipped.is_empty());
    let media = ev.media.as_ref().expect("the media probe ran");
    let p3478 = media.ports.iter().find(|p| p.port == 3478).expect("port 3478 asked");
    assert_eq!(p3478.outcome, MediaOutcome::Answered, "{}", pretty(&r));
    let mapped = p3478.response.as_ref().and_then(|s| s.mapped).expect("XOR-MAPPED-ADDRESS");
    assert_eq!(mapped.ip().to_string(), lab::CLIENT_IP);
    assert!(targets(&ev).iter().all(|t| t.success), "{}", pretty(&r));
    assert!(targets(&ev).iter().any(|t| t.target == MEDIA_TARGET));
}

/// The sign-in endpoint's TCP 443 rejected in the router (nft): the `login` category is
/// `m365.unreachable` (fail), the other categories still pass.
#[test]
#[cfg_attr(nettriage_lab_skip, ignore = "NETTRIAGE_LAB=skip")]
fn m365_a_blocked_endpoint_is_its_category_unreachable() {
    let test = "m365_a_blocked_endpoint_is_its_category_unreachable";
    lab::require_tools(test, TOOLS);
    let m = M365Lab::start(test, &[]);
    let r_ns = m.lab.r.clone();
    m.lab.nft(
        &r_ns,
        &format!(
            "table ip nettriage_m365 {{\n  chain forward {{\n    type filter hook forward priority filter;\n\
                 ip daddr {LOGIN_IP} tcp dport 443 reject with tcp reset\n  }}\n}}\n"
        ),
    );
    let (code, r, _) = m.run(&[]);
    assert_report_contract(code, &r);
    assert_eq!(codes(&r, "m365"), ["m365.unreachable"], "{}", pretty(&r));
    assert_check_status(&r, "m365", "fail");
    assert_exit(code, 2, &r);
    let ev = typed(&r);
    let failed: Vec<String> = targets(&ev).into_iter().filter(|t| !t.success).map(|t| t.target).collect();
    assert_eq!(failed, ["login"], "{}", pretty(&r));
    let login = ev.endpoints.iter().find(|e| e.category == "login").unwrap();
    let error = login.probe.hops[0].error.as_ref().expect("the login request failed");
    assert_eq!(error.phase, nettriage::check::web::Phase::Connect, "{}", pretty(&r));
}

/// Outlook served with a certificate of another CA, trusted through --ca-file but not the
/// configured public one (a TLS-inspecting proxy): `m365.tls_inspected` (warn), Outlook
/// still reachable; the run is degraded.
#[test]
#[cfg_attr(nettriage_lab_skip, ignore = "NETTRIAGE_LAB=skip")]
fn m365_a_tls_inspecting_middlebox_is_tls_inspected() {
    let test = "m365_a_tls_inspecting_middlebox_is_tls_inspected";
    lab::require_tools(test, TOOLS);
    let m = M365Lab::start(test, &["outlook.office365.com"]);
    let (code, r, _) = m.run(&[]);
    assert_report_contract(code, &r);
    assert_eq!(codes(&r, "m365"), ["m365.tls_inspected"], "{}", pretty(&r));
    assert_check_status(&r, "m365", "warn");
    assert_exit(code, 1, &r);
    let ev = typed(&r);
    let outlook = ev.endpoints.iter().find(|e| e.probe.url == "https://outlook.office365.com/").unwrap();
    let tls = outlook.probe.hops[0].tls.as_ref().unwrap();
    assert_eq!(tls.public_root, Some(false), "{}", pretty(&r));
    assert_eq!(tls.chain[0].issuer, "CN=nettriage lab inspection", "{}", pretty(&r));
    assert!(targets(&ev).iter().all(|t| t.success), "{}", pretty(&r));
}

/// UDP 3478-3481 dropped in the router: no STUN answer on any port, `m365.media_blocked`
/// (warn); the web endpoints still pass.
#[test]
#[cfg_attr(nettriage_lab_skip, ignore = "NETTRIAGE_LAB=skip")]
fn m365_dropped_media_ports_are_media_blocked() {
    let test = "m365_dropped_media_ports_are_media_blocked";
    lab::require_tools(test, TOOLS);
    let m = M365Lab::start(test, &[]);
    let r_ns = m.lab.r.clone();
    m.lab.nft(
        &r_ns,
        "table ip nettriage_m365 {\n  chain forward {\n    type filter hook forward priority filter;\n\
             udp dport 3478-3481 drop\n  }\n}\n",
    );
    let (code, r, _) = m.run(&[]);
    assert_report_contract(code, &r);
    assert_eq!(codes(&r, "m365"), ["m365.media_blocked"], "{}", pretty(&r));
    assert_check_status(&r, "m365", "warn");
    assert_exit(code, 1, &r);
    let ev = typed(&r);
    let media = ev.media.as_ref().unwrap();
    assert_eq!(media.ports.len(), 4);
    assert!(media.ports.iter().all(|p| p.outcome == MediaOutcome::NoAnswer && p.requests >= 2), "{}", pretty(&r));
    let t = targets(&ev);
    assert_eq!(t.iter().find(|t| t.target == MEDIA_TARGET).map(|t| t.success), Some(false));
    assert!(t.iter().filter(|t| t.target != MEDIA_TARGET).all(|t| t.success), "{}", pretty(&r));
}

/// Direct web traffic dropped in the router, tinyproxy in the server namespace the only way
/// out, set as users set it (`HTTPS_PROXY`): every endpoint goes through the proxy
/// (`CONNECT`, then TLS to the origin: the chain still validates through the public CA, no
/// inspection), each hop's `via` names it, and the profile passes; the media probe stays
/// direct (UDP) and still answers. The same run without the proxy fails every category.
#[test]
#[cfg_attr(nettriage_lab_skip, ignore = "NETTRIAGE_LAB=skip")]
fn m365_endpoints_go_through_the_systems_proxy() {
    let test = "m365_endpoints_go_through_the_systems_proxy";
    lab::require_tools(test, TOOLS);
    lab::require_tools(test, &[("tinyproxy", "tinyproxy")]);
    let mut m = M365Lab::start(test, &[]);
    m.set_server_hosts();
    lab::wpad::start_tinyproxy(&mut m.lab, None);
    lab::wpad::drop_direct_web(&m.lab);
    let vars = [format!("HTTPS_PROXY={}", lab::wpad::proxy_url())];
    let (code, r, _) = m.run_with_env(&vars, &[]);
    assert_report_contract(code, &r);
    assert_check_status(&r, "m365", "pass");
    assert!(codes(&r, "m365").is_empty(), "{}", pretty(&r));
    let ev = typed(&r);
    assert_eq!(ev.endpoints.len(), 6, "{}", pretty(&r));
    for e in &ev.endpoints {
        let hop = &e.probe.hops[0];
        assert_eq!(hop.via.proxy.as_deref(), Some(lab::wpad::proxy_url().as_str()), "{}", pretty(&r));
        assert_eq!((hop.status, hop.tls.as_ref().and_then(|t| t.public_root)), (Some(200), Some(true)));
    }
    let media = ev.media.as_ref().unwrap();
    assert!(media.ports.iter().any(|p| p.outcome == MediaOutcome::Answered), "{}", pretty(&r));

    let (code, r, _) = m.run(&[]);
    assert_report_contract(code, &r);
    assert_check_status(&r, "m365", "fail");
    assert_eq!(codes(&r, "m365"), ["m365.unreachable"; 4], "{}", pretty(&r));
}
