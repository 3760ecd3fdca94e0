//! End-to-end scenarios of the `printers` service profile: CUPS' real `ippeveprinter` on the
//! client's segment, found over mDNS (python3-zeroconf) and healthy, then with an empty
//! toner and tray (attention); a stopped printer refusing jobs (a minimal IPP peer:
//! ippeveprinter has no Pause-Printer); printers switched off or unplugged (unreachable);
//! and a hostile peer answering garbage for IPP (unreachable, no panic). Each runs the real
//! binary with `--profile printers --config FILE` in the client namespace and asserts on
//! codes and the typed evidence, never on message text.

mod lab;
#[path = "lab/printers.rs"]
mod printers_lab;

use lab::{Lab, RunOutput, assert_check_status, assert_report_contract, codes, parse_report, require_tools};
use nettriage::check::ports::PortOutcome;
use nettriage::check::printers::{IppOutcome, PrinterSource, PrinterState};
use printers_lab::{
    ABSENT_IP, DOWN_IP, IPP_PORT, PEER_IP, PRINTER_IP, PRINTER_NAME, STOPPED_NAME, advertise, config, empty_supplies,
    evidence, lan_host, start_ippeveprinter, start_peer,
};
use serde_json::Value;

/// The tools these scenarios start, with their Debian packages.
const TOOLS: [(&str, &str); 4] = [
    ("ippeveprinter", "cups-ipp-utils"),
    ("dbus-daemon", "dbus-daemon"),
    ("python3", "python3-zeroconf"),
    ("sysctl", "procps"),
];

/// `nettriage run --interface eth0 --format json --profile printers --config FILE`.
fn run(lab: &Lab, config: &str) -> (RunOutput, Value) {
    let args = ["run", "--interface", "eth0", "--format", "json", "--profile", "printers", "--config", config];
    let out = lab.run_nettriage_raw(&[], &args);
    let report = parse_report(&out);
    assert_report_contract(out.code, &report);
    (out, report)
}

/// A healthy ippeveprinter advertised over mDNS, nothing configured: found by the browse,
/// asked over IPP at the advertised port and path, idle and accepting jobs.
#[test]
#[cfg_attr(nettriage_lab_skip, ignore = "NETTRIAGE_LAB=skip")]
fn printers_healthy_ippeveprinter_is_found_over_mdns() {
    require_tools("printers_healthy_ippeveprinter_is_found_over_mdns", &TOOLS);
    let mut lab = Lab::start("printers_healthy_ippeveprinter_is_found_over_mdns");
    let ns = start_ippeveprinter(&mut lab);
    advertise(&mut lab, &ns);
    let file = config(&lab, "discover = true\ndiscovery_ms = 3000\ntimeout_ms = 2000");
    let (_, r) = run(&lab, &file);
    assert_check_status(&r, "printers", "pass");
    assert!(codes(&r, "printers").is_empty(), "{:?}", codes(&r, "printers"));
    let ev = evidence(&r);
    let d = ev.discovery.as_ref().expect("the browse ran");
    assert!(d.error.is_none() && d.responses >= 1, "{d:?}");
    let svc = d.services.iter().find(|s| s.service == "_ipp._tcp").expect("the _ipp._tcp advertisement");
    assert_eq!((svc.printer_name.as_str(), svc.port), (PRINTER_NAME, Some(IPP_PORT)));
    assert_eq!(svc.address.map(|a| a.to_string()).as_deref(), Some(PRINTER_IP));
    assert_eq!(ev.printers.len(), 1);
    let p = &ev.printers[0];
    assert_eq!(p.source, PrinterSource::Discovered);
    let ipp = p.ipp.as_ref().expect("IPP was asked");
    assert_eq!(ipp.outcome, IppOutcome::Answered);
    assert_eq!(ipp.uri, format!("ipp://{PRINTER_IP}:{IPP_PORT}/ipp/print"));
    assert_eq!((ipp.state, ipp.accepting_jobs), (Some(PrinterState::Idle), Some(true)));
    assert_eq!(ipp.printer_name.as_deref(), Some(PRINTER_NAME));
    assert!(ipp.state_reasons.is_empty(), "{:?}", ipp.state_reasons);
    // The browse ends soon after the answers, not at the end of its 3 s window.
    assert!(d.window_ms < 2_500, "browse took {} ms", d.window_ms);

    // `--redact`: the printer's names become printer-N everywhere, its verdict stays.
    let args =
        ["run", "--interface", "eth0", "--format", "json", "--profile", "printers", "--config", &file, "--redact"];
    let out = lab.run_nettriage_raw(&[], &args);
    let redacted = parse_report(&out);
    assert_report_contract(out.code, &redacted);
    assert!(!out.stdout.contains(PRINTER_NAME), "a printer name survived --redact:\n{}", out.stdout);
    let ev = evidence(&redacted);
    let name = ev.printers[0].ipp.as_ref().and_then(|i| i.printer_name.clone()).unwrap_or_default();
    assert!(name.starts_with("printer-"), "{name}");
    assert_check_status(&redacted, "printers", "pass");
}

/// The configured ippeveprinter after its toner and main tray were emptied: it goes on
/// (idle, `-report` reasons), so `printer.attention` is a warning.
#[test]
#[cfg_attr(nettriage_lab_skip, ignore = "NETTRIAGE_LAB=skip")]
fn printers_attention_from_ippeveprinter() {
    require_tools("printers_attention_from_ippeveprinter", &TOOLS);
    let mut lab = Lab::start("printers_attention_from_ippeveprinter");
    start_ippeveprinter(&mut lab);
    empty_supplies(&lab);
    let uri = format!("ipp://{PRINTER_IP}:{IPP_PORT}/ipp/print");
    let file = config(&lab, &format!("printers = [\"{uri}\"]\ndiscover = false"));
    let (_, r) = run(&lab, &file);
    assert_eq!(codes(&r, "printers"), vec!["printer.attention"]);
    assert_check_status(&r, "printers", "warn");
    let ev = evidence(&r);
    assert!(ev.discovery.is_none());
    let ipp = ev.printers[0].ipp.as_ref().expect("IPP was asked");
    assert_eq!(ev.printers[0].source, PrinterSource::Configured);
    assert!(ipp.state_reasons.iter().any(|r| r == "toner-empty-report"), "{:?}", ipp.state_reasons);
    assert!(ipp.state_reasons.iter().any(|r| r == "media-empty-report"), "{:?}", ipp.state_reasons);
}

/// A stopped, paused printer with a paper jam that refuses jobs (a bare host: IPP on 631).
#[test]
#[cfg_attr(nettriage_lab_skip, ignore = "NETTRIAGE_LAB=skip")]
fn printers_stopped_and_not_accepting() {
    require_tools("printers_stopped_and_not_accepting", &TOOLS);
    let mut lab = Lab::start("printers_stopped_and_not_accepting");
    start_peer(&mut lab, "stopped");
    let file = config(&lab, &format!("printers = [\"{PEER_IP}\"]\ndiscover = false"));
    let (out, r) = run(&lab, &file);
    let mut got = codes(&r, "printers");
    got.sort();
    assert_eq!(got, vec!["printer.attention", "printer.not_accepting", "printer.stopped"]);
    assert_check_status(&r, "printers", "fail");
    assert_eq!(out.code, 2, "a broken service fails the run");
    let ipp = evidence(&r).printers[0].ipp.clone().expect("IPP was asked");
    assert_eq!((ipp.state, ipp.accepting_jobs), (Some(PrinterState::Stopped), Some(false)));
    assert_eq!(ipp.printer_name.as_deref(), Some(STOPPED_NAME));
}

/// A printer switched off (its host answers, every port closed) and one unplugged (no host
/// at the address): both `printer.unreachable`, each with its ports' outcomes.
#[test]
#[cfg_attr(nettriage_lab_skip, ignore = "NETTRIAGE_LAB=skip")]
fn printers_down_are_unreachable() {
    require_tools("printers_down_are_unreachable", &TOOLS);
    let mut lab = Lab::start("printers_down_are_unreachable");
    lan_host(&mut lab, "down", DOWN_IP);
    let file = config(
        &lab,
        &format!(
            "printers = [\"{DOWN_IP}\", \"ipp://{ABSENT_IP}:631/ipp/print\"]\ndiscover = false\ntimeout_ms = 1000"
        ),
    );
    let (_, r) = run(&lab, &file);
    assert_eq!(codes(&r, "printers"), vec!["printer.unreachable", "printer.unreachable"]);
    assert_check_status(&r, "printers", "fail");
    let ev = evidence(&r);
    let down = &ev.printers[0];
    assert_eq!(down.ipp.as_ref().map(|i| i.outcome), Some(IppOutcome::Refused));
    assert_eq!(down.raw.as_ref().map(|p| p.outcome), Some(PortOutcome::Refused));
    assert_eq!(down.lpd.as_ref().map(|p| p.outcome), Some(PortOutcome::Refused));
    let absent = &ev.printers[1];
    assert!(!absent.reachable());
    assert_ne!(absent.raw.as_ref().map(|p| p.outcome), Some(PortOutcome::Open));
}

/// A hostile peer answering every IPP request with a different malformation (bad version,
/// lengths past the end, collections nested without end, HTML): each printer
/// `printer.unreachable` with the answer recorded as not IPP, and the run completes.
#[test]
#[cfg_attr(nettriage_lab_skip, ignore = "NETTRIAGE_LAB=skip")]
fn printers_hostile_ipp_peer_is_unreachable_not_a_panic() {
    require_tools("printers_hostile_ipp_peer_is_unreachable_not_a_panic", &TOOLS);
    let mut lab = Lab::start("printers_hostile_ipp_peer_is_unreachable_not_a_panic");
    start_peer(&mut lab, "garbage");
    let entries: Vec<String> = ["a", "b", "c", "d"].iter().map(|p| format!("\"ipp://{PEER_IP}:631/{p}\"")).collect();
    let file = config(&lab, &format!("printers = [{}]\ndiscover = false", entries.join(", ")));
    let (out, r) = run(&lab, &file);
    assert_eq!(codes(&r, "printers"), vec!["printer.unreachable"; 4]);
    assert_check_status(&r, "printers", "fail");
    assert_eq!(out.code, 2);
    for p in evidence(&r).printers {
        let ipp = p.ipp.expect("IPP was asked");
        assert_eq!(ipp.outcome, IppOutcome::NotIpp, "{ipp:?}");
        assert_eq!(ipp.http_status, Some(200));
    }
}
