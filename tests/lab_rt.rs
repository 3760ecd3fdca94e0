//! A real Request Tracker 5 (Debian's request-tracker5, SQLite backend, built-in server)
//! in the lab's server namespace receives nettriage's tickets through REST2, and the test
//! reads them back through REST2: the ticket, its subject carrying the idempotency key, the
//! attachments byte for byte; a second delivery of the same ticket creates none; a comment
//! on an existing ticket carries its attachment; a wrong token is a permanent 401.
//!
//! The first scenario delivers from the client namespace (a helper thread entered with
//! setns(2), see `tests/lab/rt.rs`) through `nettriage::ticket::deliver`, to check REST2's
//! requests one by one; the second runs the real binary (`run --ticket`, then `ticket
//! REPORT.json`) end to end. Needs what the lab needs plus
//! `request-tracker5 rt5-db-sqlite` and curl.

mod lab;
#[path = "lab/rt.rs"]
mod rt_lab;

use std::os::unix::fs::PermissionsExt;

use base64::Engine;
use lab::Lab;
use nettriage::config::{RtSettings, TicketSettings, TicketSystem};
use nettriage::ticket::{Attachment, DeliveryError, Step, Ticket};
use rt_lab::{Rt, deliver_in};
use serde_json::Value;

fn ticket(key: &str) -> Ticket {
    let mut pcap = vec![0xd4, 0xc3, 0xb2, 0xa1, 0x02, 0x00, 0x04, 0x00];
    pcap.extend((0..=255u8).cycle().take(5000));
    Ticket {
        key: key.into(),
        subject: "[nettriage] dns.resolver_unreachable on sw-3/ge-0/0/12".into(),
        body_text: "The DNS resolver 198.18.0.1 does not answer.\nNext: check the resolver.".into(),
        body_markdown: "**The DNS resolver does not answer.**".into(),
        attachments: vec![
            Attachment {
                name: "report.html".into(),
                content_type: "text/html".into(),
                bytes: b"<!doctype html><title>r</title><p>dns.resolver_unreachable</p>".to_vec(),
            },
            Attachment {
                name: "capture.pcap".into(),
                content_type: "application/vnd.tcpdump.pcap".into(),
                bytes: pcap,
            },
        ],
    }
}

fn settings(rt: &Rt, token_file: &std::path::Path, comment_on: Option<u64>) -> TicketSettings {
    TicketSettings {
        system: Some(TicketSystem::Rt),
        timeout_ms: 20_000,
        rt: Some(RtSettings {
            url: rt.url.clone(),
            queue: "General".into(),
            ticket: comment_on,
            secret_env: None,
            secret_file: Some(token_file.into()),
        }),
        ..TicketSettings::default()
    }
}

/// The attachments (file name -> bytes) RT holds for ticket `id`, read back through REST2
/// from the client namespace.
fn attachments_of(lab: &Lab, rt: &Rt, id: &str) -> Vec<(String, Vec<u8>)> {
    let list =
        rt.get(lab, &lab.c, &format!("/REST/2.0/ticket/{id}/attachments?per_page=100")).expect("attachments list");
    let mut files = Vec::new();
    for item in list["items"].as_array().expect("items") {
        let aid = item["id"].as_str().map(str::to_string).or_else(|| item["id"].as_u64().map(|n| n.to_string()));
        let one =
            rt.get(lab, &lab.c, &format!("/REST/2.0/attachment/{}", aid.expect("attachment id"))).expect("attachment");
        let name = one["Filename"].as_str().unwrap_or_default();
        if name.is_empty() {
            continue;
        }
        let content = one["Content"].as_str().unwrap_or_default().replace('\n', "");
        let bytes = base64::engine::general_purpose::STANDARD.decode(content).expect("base64 content");
        files.push((name.to_string(), bytes));
    }
    files
}

fn assert_attachments(got: &[(String, Vec<u8>)], want: &Ticket) {
    for a in &want.attachments {
        let found = got.iter().find(|(n, _)| n == &a.name).unwrap_or_else(|| panic!("{} not in RT: {got:?}", a.name));
        assert_eq!(found.1, a.bytes, "{}: bytes differ", a.name);
    }
}

/// A report reaches a real RT: the ticket is created in the queue with the key in its
/// subject and both attachments byte for byte; delivering the same ticket again finds it
/// and creates no second one; a comment on it carries the attachments too; a wrong token
/// is refused with a permanent 401 at the create step.
#[test]
#[cfg_attr(nettriage_lab_skip, ignore = "NETTRIAGE_LAB=skip")]
fn rt_receives_the_ticket_with_attachments_through_rest2() {
    let test = "rt_receives_the_ticket_with_attachments_through_rest2";
    lab::require_tools(test, rt_lab::TOOLS);
    let mut lab = Lab::start(test);
    let rt = Rt::start(&mut lab);
    let key = format!("r-lab-{}", std::process::id());
    let t = ticket(&key);

    let receipt = deliver_in(&lab.c, &settings(&rt, &rt.token_file, None), &t).expect("delivered to RT");
    assert_eq!(receipt.system, TicketSystem::Rt);
    let id = receipt.reference.clone();

    let got: Value = rt.get(&lab, &lab.c, &format!("/REST/2.0/ticket/{id}")).expect("ticket read back");
    let subject = got["Subject"].as_str().unwrap_or_default();
    assert!(subject.contains(&key) && subject.contains("dns.resolver_unreachable"), "subject {subject:?}");
    assert_eq!(got["Queue"]["id"].as_str().or(got["Queue"]["Name"].as_str()), Some("1"), "queue General: {got}");
    assert_attachments(&attachments_of(&lab, &rt, &id), &t);

    // The same ticket again (a retry after a lost answer): found, not created twice.
    let again = deliver_in(&lab.c, &settings(&rt, &rt.token_file, None), &t).expect("second delivery");
    assert_eq!(again.reference, id);
    let query = format!("/REST/2.0/tickets?query=Subject%20LIKE%20%27{key}%27");
    let found = rt.get(&lab, &lab.c, &query).expect("search");
    assert_eq!(found["count"].as_u64(), Some(1), "one ticket for the key: {found}");

    // A comment with the attachments on the existing ticket.
    let number: u64 = id.parse().expect("RT ids are numbers");
    let mut follow = ticket(&format!("{key}-2"));
    follow.attachments[0].name = "report-2.html".into();
    let commented = deliver_in(&lab.c, &settings(&rt, &rt.token_file, Some(number)), &follow).expect("comment");
    assert_eq!(commented.reference, id);
    assert_attachments(&attachments_of(&lab, &rt, &id), &follow);

    // A wrong token: RT refuses, permanently, at the first request of the create.
    let wrong = rt.dir.join("wrong-token");
    std::fs::write(&wrong, "1-1-00000000000000000000000000000000").unwrap();
    std::fs::set_permissions(&wrong, std::fs::Permissions::from_mode(0o600)).unwrap();
    let err = deliver_in(&lab.c, &settings(&rt, &wrong, None), &ticket("r-lab-wrong")).unwrap_err();
    match &err {
        DeliveryError::Status { status, step, .. } => assert_eq!((*status, *step), (401, Step::Create), "{err}"),
        other => panic!("want a 401 Status, got {other:?}"),
    }
    assert!(!err.is_transient());
}

/// The real binary end to end: `run --ticket` in the client namespace with `[ticket]
/// system = "rt"` in its config file delivers the report into the real RT; the ticket's
/// subject carries the report's id (the idempotency key) and its HTML attachment is the
/// report file byte for byte (the run is `--redact`, as a ticket is by default); `ticket REPORT.json` for the same report creates no second
/// ticket.
#[test]
#[cfg_attr(nettriage_lab_skip, ignore = "NETTRIAGE_LAB=skip")]
fn run_ticket_delivers_the_report_into_a_real_rt() {
    let test = "run_ticket_delivers_the_report_into_a_real_rt";
    lab::require_tools(test, rt_lab::TOOLS);
    let mut lab = Lab::start(test);
    let rt = Rt::start(&mut lab);
    let outbox = lab.tmp().join("outbox");
    let config = lab.tmp().join("config.toml");
    std::fs::write(
        &config,
        format!(
            "[ticket]\nsystem = \"rt\"\noutbox = \"{}\"\ntimeout_ms = 20000\n\n[ticket.rt]\nurl = \"{}\"\n\
             queue = \"General\"\nsecret_file = \"{}\"\n",
            outbox.display(),
            rt.url,
            rt.token_file.display()
        ),
    )
    .unwrap();
    let html = lab.tmp().join("report.html");
    let config_arg = config.to_str().unwrap();
    let out = lab.run_nettriage_raw(
        &[],
        &[
            "run",
            "--interface",
            "eth0",
            "--format",
            "json",
            "--dns-name",
            lab::WWW_NAME,
            "--config",
            config_arg,
            "--redact",
            "--output",
            html.to_str().unwrap(),
            "--ticket",
        ],
    );
    let report = lab::parse_report(&out);
    assert!(matches!(out.code, 0 | 1), "the lab run is healthy or degraded: {}", out.stderr);
    let key = report["id"].as_str().expect("a live report has an id").to_string();

    let query = format!("/REST/2.0/tickets?query=Subject%20LIKE%20%27{key}%27");
    let found = rt.get(&lab, &lab.c, &query).expect("search");
    assert_eq!(found["count"].as_u64(), Some(1), "one ticket for the report: {found}; stderr {}", out.stderr);
    let id = found["items"][0]["id"]
        .as_str()
        .map(str::to_string)
        .or_else(|| found["items"][0]["id"].as_u64().map(|n| n.to_string()))
        .expect("ticket id");
    let files = attachments_of(&lab, &rt, &id);
    let html_bytes = std::fs::read(&html).unwrap();
    assert!(
        files.iter().any(|(name, bytes)| name.ends_with(".html") && *bytes == html_bytes),
        "the HTML report is attached byte for byte: {:?}",
        files.iter().map(|(n, b)| (n, b.len())).collect::<Vec<_>>()
    );

    // The saved report handed over again: RT already has it, nothing new is created.
    let saved = lab.tmp().join("report.json");
    std::fs::write(&saved, serde_json::to_vec(&report).unwrap()).unwrap();
    let again = lab.run_nettriage_raw(&[], &["ticket", saved.to_str().unwrap(), "--config", config_arg]);
    assert_eq!(again.code, 0, "ticket REPORT.json: {}", again.stderr);
    let found = rt.get(&lab, &lab.c, &query).expect("search");
    assert_eq!(found["count"].as_u64(), Some(1), "still one ticket: {found}");
}
