//! End-to-end scenarios of the `ad` profile against a real Samba Active Directory domain
//! controller (Debian's samba, provisioned per lab in its temp dir, see tests/lab/ad.rs):
//! healthy; the DC's clock seven minutes ahead (faketime on the DC only); Kerberos
//! dropped with nft on the DC; the DC's services stopped while DNS still names it; the
//! client on a resolver that does not know the domain; and a hostile "DC" answering
//! garbage on 88 and 389. Each runs the real binary in the client namespace with
//! `--profile ad --config FILE` and asserts on codes and the typed evidence.
//!
//! Recording the decoders' fixtures: with `NETTRIAGE_AD_RECORD=DIR`, the healthy scenario
//! also captures the DC's side with tcpdump into `DIR/ad_samba.pcap` (captures/README.md).

#[path = "lab/ad.rs"]
mod ad_lab;
mod lab;

use ad_lab::{DC_FQDN, DC_IP, DOMAIN, REALM};
use lab::{Lab, LabOptions, assert_check_status, assert_report_contract, codes};
use nettriage::check::ad::kerberos::{KDC_ERR_C_PRINCIPAL_UNKNOWN, KdcReply};
use nettriage::check::ad::{AdEvidence, ClockSource, DcOrigin, ProbeState, SrvKind, Transport};
use serde_json::Value;

/// `run --profile ad --config FILE` in the client namespace.
fn run_ad(lab: &Lab, config: &str) -> Value {
    let (code, report, stderr) = lab.run_nettriage(&["--profile", "ad", "--config", config]);
    assert_report_contract(code, &report);
    assert!(!stderr.contains("panicked"), "{stderr}");
    report
}

fn evidence(report: &Value) -> AdEvidence {
    serde_json::from_value(lab::check(report, "ad")["evidence"].clone()).expect("typed ad evidence")
}

fn ad_codes(report: &Value) -> Vec<String> {
    codes(report, "ad")
}

/// A lab whose client asks the DC's DNS, with the DC provisioned.
fn lab_with_dc(test: &str) -> (Lab, ad_lab::Dc) {
    let mut lab = Lab::start_with(test, LabOptions::default());
    let dc = ad_lab::provision(&mut lab);
    lab.set_resolv_conf(&[&format!("nameserver {DC_IP}"), &format!("search {DOMAIN}")]);
    (lab, dc)
}

/// Samba healthy: SRV records, every port, the rootDSE, a KRB-ERROR with the KDC's clock,
/// no finding; then Kerberos dropped with nft on the DC: `ad.kerberos_unreachable` fails
/// while LDAP still answers.
#[test]
#[cfg_attr(nettriage_lab_skip, ignore = "NETTRIAGE_LAB=skip")]
fn ad_samba_healthy_then_kerberos_dropped() {
    let (mut lab, dc) = lab_with_dc("ad_samba_healthy_then_kerberos_dropped");
    let record = std::env::var("NETTRIAGE_AD_RECORD").ok();
    if let Some(dir) = &record {
        let file = format!("{dir}/ad_samba.pcap");
        lab.spawn_in(
            "tcpdump",
            &dc.ns.clone(),
            &["tcpdump", "-i", "eth0", "-U", "-w", &file, "port 88 or port 389 or port 53"],
        );
        std::thread::sleep(std::time::Duration::from_millis(500));
    }
    ad_lab::start(&mut lab, &dc, None);
    // The config names no domain: resolv.conf's search list gives it.
    let config = lab.tmp().join("empty.toml");
    std::fs::write(&config, "[profiles.ad]\ntimeout_ms = 1500\n").unwrap();
    let r = run_ad(&lab, &config.display().to_string());
    assert_check_status(&r, "ad", "pass");
    let ev = evidence(&r);
    assert_eq!(ev.domain, DOMAIN);
    assert_eq!(ev.domain_source, nettriage::check::ad::DomainSource::ResolvConf);
    assert!(ev.has_dc_records(), "{:?}", ev.lookups);
    let srv = ev.srv(SrvKind::Dc).unwrap();
    assert!(srv.records.iter().any(|r| r.target.eq_ignore_ascii_case(DC_FQDN)), "{srv:?}");
    assert_eq!(ev.dcs.len(), 1, "{:?}", ev.dcs);
    let d = &ev.dcs[0];
    assert_eq!((d.origin, d.address.map(|a| a.to_string())), (DcOrigin::Srv, Some(DC_IP.to_string())));
    assert!(d.ports.iter().all(|p| p.state == ProbeState::Ok), "{:?}", d.ports);
    let dse = d.ldap.rootdse.as_ref().expect("rootDSE read");
    assert!(dse.dns_host_name.as_deref().is_some_and(|h| h.eq_ignore_ascii_case(DC_FQDN)), "{dse:?}");
    assert!(dse.default_naming_context.as_deref().is_some_and(|n| n.eq_ignore_ascii_case("DC=corp,DC=lab")));
    for k in &d.kerberos {
        assert_eq!(k.state, ProbeState::Ok, "{k:?}");
        let Some(KdcReply::Error { error_code, realm, stime_unix_ms }) = &k.reply else { panic!("{k:?}") };
        assert_eq!((*error_code, realm.as_str()), (KDC_ERR_C_PRINCIPAL_UNKNOWN, REALM));
        assert!(stime_unix_ms.is_some());
    }
    let clock = ev.clock.as_ref().expect("a clock reading");
    assert_eq!(clock.source, ClockSource::Kerberos);
    assert!(clock.offset_ms.abs() < 5_000.0, "{clock:?}");
    assert!(d.clock.iter().any(|c| c.source == ClockSource::Ldap && c.offset_ms.abs() < 5_000.0), "{:?}", d.clock);
    if record.is_some() {
        // Let tcpdump write what it saw before the second scenario adds more.
        std::thread::sleep(std::time::Duration::from_millis(500));
    }

    // Kerberos dropped (UDP and TCP 88) on the DC.
    lab.nft(
        &dc.ns,
        "table inet adtest {\n  chain input {\n    type filter hook input priority 0; policy accept;\n    tcp dport 88 drop\n    udp dport 88 drop\n  }\n}\n",
    );
    let r = run_ad(&lab, &ad_lab::config(&lab, ""));
    assert_check_status(&r, "ad", "fail");
    assert_eq!(ad_codes(&r), ["ad.kerberos_unreachable"]);
    let ev = evidence(&r);
    let d = &ev.dcs[0];
    assert!(d.reachable() && d.ldap_ok() && !d.kerberos_ok(), "{d:?}");
    assert!(d.kerberos.iter().any(|k| k.transport == Transport::Tcp && k.state == ProbeState::Timeout));
}

/// The DC's clock seven minutes ahead (faketime on the DC's samba only): `ad.clock_skew`
/// fails, read from the KDC's own clock; the site's DC record is found.
#[test]
#[cfg_attr(nettriage_lab_skip, ignore = "NETTRIAGE_LAB=skip")]
fn ad_samba_clock_seven_minutes_off_is_clock_skew() {
    let (mut lab, dc) = lab_with_dc("ad_samba_clock_seven_minutes_off_is_clock_skew");
    ad_lab::start(&mut lab, &dc, Some("+7m"));
    // Samba registers its DC under the default site: the site's record is asked first.
    let r = run_ad(&lab, &ad_lab::config(&lab, "site = \"Default-First-Site-Name\"\n"));
    assert_check_status(&r, "ad", "fail");
    assert_eq!(ad_codes(&r), ["ad.clock_skew"]);
    let ev = evidence(&r);
    let site = ev.srv(SrvKind::SiteDc).expect("the site's lookup");
    assert!(site.records.iter().any(|r| r.target.eq_ignore_ascii_case(DC_FQDN)), "{site:?}");
    let clock = ev.clock.expect("a clock reading");
    assert_eq!(clock.source, ClockSource::Kerberos);
    assert!((clock.offset_ms / 1000.0 - 420.0).abs() < 10.0, "{clock:?}");
}

/// DNS names the DC but its services are down (no samba on the host): every DC down is
/// `ad.dc_unreachable` (fail). Then the client on the router's dnsmasq without the
/// domain's records: `ad.dns_not_domain`.
#[test]
#[cfg_attr(nettriage_lab_skip, ignore = "NETTRIAGE_LAB=skip")]
fn ad_dc_stopped_and_resolver_without_the_domain() {
    let opts = LabOptions { router_dnsmasq_extra: ad_lab::router_dc_records(), ..LabOptions::default() };
    let mut lab = Lab::start_with("ad_dc_stopped_and_resolver_without_the_domain", opts);
    ad_lab::add_dc_host(&mut lab);
    lab.set_resolv_conf(&[&format!("nameserver {}", lab::GATEWAY_IP)]);
    let r = run_ad(&lab, &ad_lab::config(&lab, ""));
    assert_check_status(&r, "ad", "fail");
    assert_eq!(ad_codes(&r), ["ad.dc_unreachable"]);
    let ev = evidence(&r);
    assert_eq!(ev.dcs.len(), 1);
    assert!(ev.dcs[0].ports.iter().all(|p| p.state == ProbeState::Refused), "{:?}", ev.dcs[0].ports);

    // The server namespace's dnsmasq knows nothing of corp.lab.
    lab.set_resolv_conf(&[&format!("nameserver {}", lab::SERVER_IP)]);
    let r = run_ad(&lab, &ad_lab::config(&lab, ""));
    assert_check_status(&r, "ad", "fail");
    assert_eq!(ad_codes(&r), ["ad.dns_not_domain"]);
    assert!(evidence(&r).dcs.is_empty());
}

/// A hostile "DC" (garbage on TCP 88/389/445/636/3268 and UDP 88): no panic, the ports
/// are open so the DC counts as reachable, and neither Kerberos nor LDAP is believed.
#[test]
#[cfg_attr(nettriage_lab_skip, ignore = "NETTRIAGE_LAB=skip")]
fn ad_hostile_dc_replies_are_not_believed() {
    let opts = LabOptions { router_dnsmasq_extra: ad_lab::router_dc_records(), ..LabOptions::default() };
    let mut lab = Lab::start_with("ad_hostile_dc_replies_are_not_believed", opts);
    ad_lab::start_hostile(&mut lab);
    lab.set_resolv_conf(&[&format!("nameserver {}", lab::GATEWAY_IP)]);
    let started = std::time::Instant::now();
    let r = run_ad(&lab, &ad_lab::config(&lab, ""));
    assert!(started.elapsed() < std::time::Duration::from_secs(20));
    assert_check_status(&r, "ad", "fail");
    let mut got = ad_codes(&r);
    got.sort();
    assert_eq!(got, ["ad.kerberos_unreachable", "ad.ldap_unreachable"]);
    let ev = evidence(&r);
    let d = &ev.dcs[0];
    assert!(d.reachable());
    assert!(d.ldap.rootdse.is_none() && d.kerberos.iter().all(|k| k.reply.is_none()), "{d:?}");
    assert!(ev.clock.is_none());
}
