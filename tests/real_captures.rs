//! `nettriage analyze` on public captures that nobody here recorded (`captures/real/`, from
//! the tcpdump and Zeek test suites; sources, licences and the findings expected from what
//! tshark shows are in `captures/README.md`, section "Public captures").
//!
//! Two kinds of test, both running the real binary (`analyze FILE --format json`), offline:
//! - **verdicts**: each capture's run status, exit code, root cause and every check's status
//!   and finding codes, as written in the README from tshark's view of the file;
//! - **counts against tshark**: the packet records, DNS queries and responses, DHCP
//!   transactions and messages, ARP requests and replies, ICMP echoes and TCP targets that
//!   the report counts are compared with what tshark decodes in the same file. Nothing is
//!   hard-coded: both sides are read from the file. These tests need `tshark`; like the lab
//!   tests they fail when it is missing, and are ignored only with `NETTRIAGE_LAB=skip`
//!   outside CI (build.rs).

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;
use std::process::Command;

use serde_json::Value;

fn real(name: &str) -> PathBuf {
    PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/captures/real")).join(name)
}

/// Every capture in `captures/real/`, by file name.
fn all_captures() -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(real(""))
        .expect("captures/real")
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".pcap") || n.ends_with(".pcapng"))
        .collect();
    names.sort();
    names
}

/// Runs `nettriage analyze FILE --format json`: the exit code and the report.
fn analyze(name: &str) -> (i32, Value) {
    let out = Command::new(env!("CARGO_BIN_EXE_nettriage"))
        .arg("analyze")
        .arg(real(name))
        .args(["--format", "json"])
        .output()
        .expect("run nettriage");
    let code = out.status.code().expect("exit code");
    let report: Value = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("{name}: no JSON report ({e}); stderr: {}", String::from_utf8_lossy(&out.stderr)));
    (code, report)
}

fn check<'a>(report: &'a Value, id: &str) -> &'a Value {
    report["checks"].as_array().unwrap().iter().find(|c| c["id"] == id).unwrap_or_else(|| panic!("no {id} check"))
}

fn codes(check: &Value) -> BTreeSet<String> {
    check["findings"]
        .as_array()
        .map_or_else(BTreeSet::new, |f| f.iter().map(|f| f["code"].as_str().unwrap().to_string()).collect())
}

/// What the README expects of one capture.
struct Expect {
    file: &'static str,
    format: &'static str,
    link_types: &'static [&'static str],
    /// Run status and exit code.
    status: &'static str,
    exit: i32,
    root_cause: Option<&'static str>,
    /// The layers with something to judge: (check, status, finding codes). Every other
    /// layer must be skipped for lack of such traffic.
    judged: &'static [(&'static str, &'static str, &'static [&'static str])],
}

const HEALTHY: (&str, i32) = ("healthy", 0);
const DEGRADED: (&str, i32) = ("degraded", 1);
const BROKEN: (&str, i32) = ("broken", 2);

macro_rules! expect {
    ($file:literal, $format:literal, [$($link:literal),*], $status:expr, $root:expr, [$(($id:literal, $st:literal, [$($code:literal),*])),* $(,)?]) => {
        Expect {
            file: $file,
            format: $format,
            link_types: &[$($link),*],
            status: $status.0,
            exit: $status.1,
            root_cause: $root,
            judged: &[$(($id, $st, &[$($code),*])),*],
        }
    };
}

/// The findings written in captures/README.md, one line per capture.
const EXPECTED: &[Expect] = &[
    expect!("tcpdump-802.1ad_QinQ.pcap", "pcap", ["ETHERNET"], HEALTHY, None, [("gateway", "pass", [])]),
    expect!("tcpdump-dhcp-rfc3004.pcap", "pcap", ["ETHERNET"], HEALTHY, None, [("dhcp", "pass", [])]),
    expect!("tcpdump-dns-badcookie.pcap", "pcap", ["NULL"], HEALTHY, None, [("dns", "pass", [])]),
    expect!("tcpdump-dns-badvers.pcap", "pcap", ["ETHERNET"], HEALTHY, None, [("dns", "pass", [])]),
    expect!("tcpdump-edns-opts.pcap", "pcap", ["ETHERNET"], HEALTHY, None, [("dns", "pass", [])]),
    expect!("tcpdump-vxlan.pcap", "pcap", ["ETHERNET"], HEALTHY, None, [("gateway", "pass", [])]),
    expect!(
        "zeek-arp-who-has-radiotap.pcap",
        "pcap",
        ["IEEE802_11_RADIOTAP"],
        HEALTHY,
        None,
        [("gateway", "pass", [])]
    ),
    expect!("zeek-dhcp-dhcp.pcap", "pcap", ["ETHERNET"], HEALTHY, None, [("dhcp", "pass", [])]),
    expect!(
        "zeek-dns-dns_extended_rcode.pcap",
        "pcap",
        ["IPV4"],
        BROKEN,
        Some("dns.servfail"),
        [("dns", "fail", ["dns.servfail"])]
    ),
    expect!("zeek-dns-ech.pcap", "pcap", ["RAW"], HEALTHY, None, [("dns", "pass", [])]),
    expect!(
        "zeek-dnssec-nsec3.pcap",
        "pcap",
        ["ETHERNET"],
        BROKEN,
        Some("dns.nxdomain"),
        [("dns", "fail", ["dns.nxdomain"])]
    ),
    expect!(
        "zeek-icmp_dot1q.pcap",
        "pcap",
        ["ETHERNET"],
        DEGRADED,
        Some("gateway.loss"),
        [("gateway", "warn", ["gateway.loss"])]
    ),
    expect!("zeek-ipv6-fragmented-dns.pcap", "pcap", ["ETHERNET"], HEALTHY, None, [("dns", "pass", [])]),
    expect!("zeek-linux_dlt_sll2.pcap", "pcap", ["LINUX_SLL2"], HEALTHY, None, [("gateway", "pass", [])]),
    expect!(
        "zeek-linuxsll-arp.pcap",
        "pcap",
        ["LINUX_SLL"],
        BROKEN,
        Some("gateway.unreachable"),
        [("gateway", "fail", ["gateway.unreachable"])]
    ),
    expect!("zeek-pcapng-multi-interface.pcapng", "pcapng", ["ETHERNET"], HEALTHY, None, [("dns", "pass", [])]),
    expect!("zeek-radiotap.pcap", "pcap", ["IEEE802_11_RADIOTAP"], HEALTHY, None, [("dns", "pass", [])]),
    expect!(
        "zeek-tunnels-gre-sample.pcap",
        "pcap",
        ["ETHERNET"],
        BROKEN,
        Some("dns.unreachable"),
        [("gateway", "pass", []), ("dns", "fail", ["dns.unreachable"]), ("ports", "pass", []),]
    ),
    expect!("zeek-vlan-qinqinq.pcap", "pcap", ["ETHERNET"], HEALTHY, None, [("ports", "pass", [])]),
    expect!("zeek-wlanmon.pcap", "pcap", ["IEEE802_11"], HEALTHY, None, [("dns", "pass", [])]),
];

/// Captures whose verdict is asserted by a test of its own below (each needs more than a
/// line of the table; all are in the count comparison).
const OWN_TESTS: &[&str] = &[
    "tcpdump-dhcp-rfc4388.pcap",
    "tcpdump-dns_udp_2.pcap",
    "tcpdump-ospf-sr.pcapng",
    "zeek-icmp-icmp6-nd-options.pcap",
    "zeek-icmp-icmp6-toobig.pcap",
    "tcpdump-LLDP_and_CDP.pcap",
];

fn assert_verdict(e: &Expect) {
    let name = e.file;
    let (exit, r) = analyze(name);
    assert_eq!(r["capture"]["format"], e.format, "{name}");
    let links: Vec<&str> = r["capture"]["link_types"].as_array().unwrap().iter().map(|l| l.as_str().unwrap()).collect();
    assert_eq!(links, e.link_types, "{name}");
    assert_eq!(r["capture"]["cut"], Value::Null, "{name}");
    assert_eq!(r["diagnosis"]["status"], e.status, "{name}");
    assert_eq!(exit, e.exit, "{name}");
    assert_eq!(r["diagnosis"]["root_cause"]["code"].as_str(), e.root_cause, "{name}");
    for id in ["link", "wifi"] {
        assert_eq!(check(&r, id)["reason_code"], "not_observable_in_capture", "{name} {id}");
    }
    for id in ["neighbours", "dhcp", "gateway", "dns", "ports"] {
        let c = check(&r, id);
        match e.judged.iter().find(|(j, _, _)| *j == id) {
            Some((_, status, want)) => {
                assert_eq!(c["status"], *status, "{name} {id}");
                let want: BTreeSet<String> = want.iter().map(|s| s.to_string()).collect();
                assert_eq!(codes(c), want, "{name} {id}");
            }
            None => {
                assert_eq!(c["status"], "skipped", "{name} {id}");
                assert_eq!(c["reason_code"], "no_packets_in_capture", "{name} {id}");
            }
        }
    }
}

#[test]
fn every_public_capture_has_its_expected_verdict() {
    let listed: BTreeSet<&str> = EXPECTED.iter().map(|e| e.file).chain(OWN_TESTS.iter().copied()).collect();
    let present = all_captures();
    let present: BTreeSet<&str> = present.iter().map(String::as_str).collect();
    assert_eq!(listed, present, "captures/real/ and the expectations must list the same files");
    for e in EXPECTED {
        assert_verdict(e);
    }
}

/// The EDNS retry rule on real resolvers: BADVERS (tcpdump `dns-badvers.pcap`) and
/// BADCOOKIE (`dns-badcookie.pcap`) followed by a good answer are retries, not failures;
/// BADVERS with no retry (Zeek `dns_extended_rcode.pcap`) is a failure.
#[test]
fn an_edns_error_then_an_answer_is_a_retry_and_alone_is_a_failure() {
    for name in ["tcpdump-dns-badvers.pcap", "tcpdump-dns-badcookie.pcap"] {
        let (_, r) = analyze(name);
        let server = &check(&r, "dns")["evidence"]["servers"][0];
        assert_eq!(server["verdict"], "ok", "{name}");
        let queries = server["queries"].as_array().unwrap();
        assert_eq!(queries[0]["outcome"], "other_rcode", "{name}");
        assert_eq!(queries[0]["answered_on_retry"], true, "{name}");
        assert_eq!(server["failed"], 0, "{name}");
    }
    let (_, r) = analyze("zeek-dns-dns_extended_rcode.pcap");
    let server = &check(&r, "dns")["evidence"]["servers"][0];
    assert_eq!(server["queries"][0]["outcome"], "other_rcode");
    assert_eq!(server["queries"][0]["answered_on_retry"], false);
    assert_eq!(server["failed"], 1);
}

/// Zeek `ipv6-fragmented-dns.pcap`: a 3,238-byte TXT answer in three IPv6 fragments counts as
/// an answer; the earlier copy of which only the last fragment was captured is the
/// client's resend, answered.
#[test]
fn a_fragmented_ipv6_answer_is_an_answer() {
    let (_, r) = analyze("zeek-ipv6-fragmented-dns.pcap");
    let server = &check(&r, "dns")["evidence"]["servers"][0];
    assert_eq!(server["failed"], 0);
    assert_eq!(server["answered"], server["queries_total"]);
    assert!(server["queries"].as_array().unwrap().iter().any(|q| q["attempts"].as_u64() > Some(1)));
}

/// tcpdump `dns_udp_2.pcap` was recorded with a snap length that cuts the answer after its
/// first A record: the DNS header (id, QR, rcode) is whole, so the server answered. A cut
/// datagram is judged by its headers (`wire::decode_captured`), so this is an answer, not
/// `dns.timeout`.
#[test]
fn an_answer_cut_by_the_snap_length_is_not_a_timeout() {
    let (_, r) = analyze("tcpdump-dns_udp_2.pcap");
    assert_eq!(r["capture"]["truncated_records"], 1);
    let dns = check(&r, "dns");
    assert!(!codes(dns).contains("dns.timeout"), "{:?}", codes(dns));
    assert_eq!(dns["evidence"]["servers"][0]["answered"], 1);
}

/// The snap-length capture is read, counted and judged even while its answer is not used.
#[test]
fn a_snap_length_capture_is_read_and_counted() {
    let (_, r) = analyze("tcpdump-dns_udp_2.pcap");
    assert_eq!(r["capture"]["packets"], 2);
    assert_eq!(r["capture"]["truncated_records"], 1);
    assert_eq!(r["capture"]["cut"], Value::Null);
    assert_ne!(check(&r, "dns")["status"], "skipped");
}

/// tcpdump `ospf-sr.pcapng` (written by rtbrick-lspgen) ends its section header's and
/// interface description's option lists without `opt_endofopt`, which the pcapng
/// specification tells readers to accept and tshark reads (`pcap-file` 2.0's pcapng reader
/// refuses those blocks; `pcap` frames pcapng blocks itself).
#[test]
fn a_pcapng_option_list_without_end_of_options_is_read() {
    let (exit, r) = analyze("tcpdump-ospf-sr.pcapng");
    assert_eq!(r["capture"]["cut"], Value::Null);
    assert_eq!(r["capture"]["packets"], 1);
    assert_eq!(r["capture"]["format"], "pcapng");
    // One OSPF frame: nothing analyze judges.
    assert_eq!(r["diagnosis"]["status"], "unknown");
    assert_eq!(exit, 3);
}

/// tcpdump `dhcp-rfc4388.pcap`: a DHCP server (10.40.2.3) answering four clients through
/// relays (giaddr 10.30.1.1, 10.50.1.1), plus leasequeries (RFC 4388, not DORA messages).
/// Every relayed DORA completes.
#[test]
fn relayed_dhcp_transactions_are_judged() {
    let (_, r) = analyze("tcpdump-dhcp-rfc4388.pcap");
    let dhcp = check(&r, "dhcp");
    assert_eq!(dhcp["status"], "pass");
    assert!(codes(dhcp).is_empty(), "{:?}", codes(dhcp));
    let transactions = array(&dhcp["evidence"]["transactions"]);
    assert_eq!(transactions.len(), 4);
    for t in transactions {
        let kinds: Vec<&str> = array(&t["messages"]).iter().map(|m| m["kind"].as_str().unwrap()).collect();
        assert_eq!(kinds, ["discover", "offer", "request", "ack"], "{}", t["xid"]);
    }
}

/// The same capture: before each OFFER the server pings the address it is about to offer
/// (RFC 2131 section 4.4.1 conflict detection; the router answers host unreachable, so the
/// address is free). Those echoes are not about a gateway: counted, marked
/// `dhcp_conflict_check`, not judged. The two identical probes of 10.30.4.4 (same id and
/// sequence, 30 s apart) are two echo requests, as tshark counts them (and the count test
/// compares them).
#[test]
fn a_dhcp_servers_conflict_ping_is_not_a_gateway_echo() {
    let (exit, r) = analyze("tcpdump-dhcp-rfc4388.pcap");
    assert!(!codes(check(&r, "gateway")).contains("gateway.no_echo"));
    let gateways = array(&check(&r, "gateway")["evidence"]["gateways"]);
    for address in ["10.30.4.4", "10.50.4.4"] {
        let g = gateways.iter().find(|g| g["address"] == address).unwrap_or_else(|| panic!("{address} listed"));
        assert_eq!(g["ping"]["dhcp_conflict_check"], true, "{address}");
    }
    let twice = gateways.iter().find(|g| g["address"] == "10.30.4.4").unwrap();
    assert_eq!(twice["ping"]["sent"], 2);
    assert_eq!(r["diagnosis"]["status"], "healthy");
    assert_eq!(exit, 0);
}

// ---------------------------------------------------------------------------
// Counts against tshark
// ---------------------------------------------------------------------------

/// Fields read from tshark, one line per frame, innermost occurrence (tunnels).
const FIELDS: &[&str] = &[
    "frame.number",
    "dns.flags.response",
    "dns.id",
    "udp.srcport",
    "udp.dstport",
    "dhcp.id",
    "dhcp.hw.mac_addr",
    "arp.opcode",
    "arp.src.proto_ipv4",
    "arp.dst.proto_ipv4",
    "icmp.type",
    "icmpv6.type",
    "ip.src",
    "ip.dst",
    "ipv6.src",
    "ipv6.dst",
    "tcp.flags.syn",
    "tcp.flags.ack",
    "tcp.dstport",
    "frame.protocols",
    "dhcp.option.dhcp",
];

/// One frame as tshark decodes it.
struct Frame(BTreeMap<&'static str, String>);

impl Frame {
    fn get(&self, field: &str) -> Option<&str> {
        self.0.get(field).map(String::as_str).filter(|v| !v.is_empty())
    }

    fn is(&self, field: &str, value: &str) -> bool {
        self.get(field) == Some(value)
    }

    /// A boolean field: tshark prints `1`/`0`, newer versions `True`/`False`.
    fn flag(&self, field: &str) -> Option<bool> {
        match self.get(field)? {
            "1" | "True" | "true" => Some(true),
            "0" | "False" | "false" => Some(false),
            _ => None,
        }
    }

    fn src(&self) -> Option<&str> {
        self.get("ip.src").or(self.get("ipv6.src"))
    }

    fn dst(&self) -> Option<&str> {
        self.get("ip.dst").or(self.get("ipv6.dst"))
    }

    /// An echo request or reply of its own, not one quoted by an ICMP error (whose last
    /// `icmp.type` is the quoted packet's).
    fn echo(&self, v4: &str, v6: &str) -> bool {
        let quoted = self.get("frame.protocols").is_some_and(|p| p.contains(":icmp:ip") || p.contains(":icmpv6:ipv6"));
        !quoted && (self.is("icmp.type", v4) || self.is("icmpv6.type", v6))
    }

    /// A DHCP message of a DORA exchange (or DECLINE, RELEASE, INFORM): not an RFC 4388
    /// leasequery (types 10 to 13), which the dhcp check does not read.
    fn dhcp(&self) -> bool {
        self.get("dhcp.id").is_some()
            && self.get("dhcp.option.dhcp").and_then(|t| t.parse::<u8>().ok()).is_some_and(|t| t <= 8)
    }

    /// Unicast DNS on port 53 (not mDNS, not a query quoted by an ICMP error).
    fn dns(&self) -> Option<bool> {
        let port53 = self.is("udp.srcport", "53") || self.is("udp.dstport", "53");
        let quoted = self.get("icmp.type").is_some_and(|t| t != "0" && t != "8");
        let response = self.flag("dns.flags.response")?;
        (port53 && !quoted).then_some(response)
    }
}

fn tshark_frames(name: &str) -> Vec<Frame> {
    require_tshark();
    let mut cmd = Command::new("tshark");
    cmd.arg("-r").arg(real(name)).args(["-n", "-T", "fields", "-E", "separator=/t", "-E", "occurrence=l"]);
    for f in FIELDS {
        cmd.args(["-e", f]);
    }
    let out = cmd.output().expect("run tshark");
    assert!(out.status.success(), "tshark on {name}: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|line| Frame(FIELDS.iter().copied().zip(line.split('\t').map(str::to_string)).collect()))
        .collect()
}

/// Fails, naming the package, when tshark is not installed (as `lab::require_tools` does).
fn require_tshark() {
    let found = std::env::var_os("PATH")
        .is_some_and(|path| std::env::split_paths(&path).any(|dir| dir.join("tshark").is_file()));
    assert!(
        found,
        "tshark is missing (apt-get install -y --no-install-recommends tshark), or set NETTRIAGE_LAB=skip outside CI"
    );
}

fn array(v: &Value) -> &[Value] {
    v.as_array().map_or(&[], Vec::as_slice)
}

fn count(frames: &[Frame], pred: impl Fn(&Frame) -> bool) -> u64 {
    frames.iter().filter(|f| pred(f)).count() as u64
}

/// The report's numbers and tshark's for one capture: (what, report, tshark).
fn compare(name: &str) -> Vec<(String, u64, u64)> {
    let frames = tshark_frames(name);
    let (_, r) = analyze(name);
    let mut rows = vec![("packet records".to_string(), r["capture"]["packets"].as_u64().unwrap(), frames.len() as u64)];

    // DNS: every query frame is a query or a resend of one; every response is counted.
    let dns = &check(&r, "dns")["evidence"];
    let servers = array(&dns["servers"]);
    let queries: u64 = servers.iter().map(|s| s["queries_total"].as_u64().unwrap()).sum();
    let resends: u64 = servers
        .iter()
        .flat_map(|s| array(&s["queries"]))
        .map(|q| q["attempts"].as_u64().unwrap().saturating_sub(1))
        .sum();
    let answered: u64 = servers.iter().map(|s| s["answered"].as_u64().unwrap()).sum();
    rows.push(("DNS query frames".into(), queries + resends, count(&frames, |f| f.dns() == Some(false))));
    rows.push(("DNS responses".into(), answered, count(&frames, |f| f.dns() == Some(true))));

    // DHCP: transactions by (xid, client MAC) and their messages.
    let dhcp = &check(&r, "dhcp")["evidence"];
    let transactions = array(&dhcp["transactions"]);
    let xids: BTreeSet<(u64, String)> = frames
        .iter()
        .filter(|f| f.dhcp())
        .filter_map(|f| {
            let id = u64::from_str_radix(f.get("dhcp.id")?.trim_start_matches("0x"), 16).ok()?;
            Some((id, f.get("dhcp.hw.mac_addr")?.to_string()))
        })
        .collect();
    rows.push(("DHCP transactions".into(), transactions.len() as u64, xids.len() as u64));
    let messages: u64 = transactions.iter().map(|t| array(&t["messages"]).len() as u64).sum();
    rows.push(("DHCP messages".into(), messages, count(&frames, Frame::dhcp)));

    // ARP and ICMP echo, per address.
    let gateways = array(&check(&r, "gateway")["evidence"]["gateways"]);
    let mut targets: BTreeSet<String> = gateways.iter().map(|g| g["address"].as_str().unwrap().to_string()).collect();
    for f in &frames {
        let request = f.is("arp.opcode", "1") && f.get("arp.src.proto_ipv4") != f.get("arp.dst.proto_ipv4");
        if let (true, Some(t)) = (request, f.get("arp.dst.proto_ipv4")) {
            targets.insert(t.to_string());
        }
        if let (true, Some(t)) = (f.echo("8", "128"), f.dst()) {
            targets.insert(t.to_string());
        }
    }
    for t in &targets {
        let g = gateways.iter().find(|g| g["address"] == t.as_str()).cloned().unwrap_or(Value::Null);
        let n = |v: &Value| v.as_u64().unwrap_or(0);
        let is_t = |v: Option<&str>| v == Some(t.as_str());
        rows.push((
            format!("ARP requests for {t}"),
            n(&g["arp"]["requests_sent"]),
            count(&frames, |f| {
                f.is("arp.opcode", "1")
                    && is_t(f.get("arp.dst.proto_ipv4"))
                    && f.get("arp.src.proto_ipv4") != f.get("arp.dst.proto_ipv4")
            }),
        ));
        rows.push((
            format!("ARP replies from {t}"),
            n(&g["arp"]["replies"]),
            count(&frames, |f| f.is("arp.opcode", "2") && is_t(f.get("arp.src.proto_ipv4"))),
        ));
        rows.push((
            format!("echo requests to {t}"),
            n(&g["ping"]["sent"]),
            count(&frames, |f| f.echo("8", "128") && is_t(f.dst())),
        ));
        rows.push((
            format!("echo replies from {t}"),
            n(&g["ping"]["received"]),
            count(&frames, |f| f.echo("0", "129") && is_t(f.src())),
        ));
    }

    // TCP: the targets of SYNs.
    let report_targets: BTreeSet<String> = array(&check(&r, "ports")["evidence"]["targets"])
        .iter()
        .map(|t| t["address"].as_str().unwrap().to_string())
        .collect();
    let syn_targets: BTreeSet<String> = frames
        .iter()
        .filter(|f| f.flag("tcp.flags.syn") == Some(true) && f.flag("tcp.flags.ack") == Some(false))
        .filter_map(|f| {
            let dst = f.dst()?;
            let port = f.get("tcp.dstport")?;
            Some(if dst.contains(':') { format!("[{dst}]:{port}") } else { format!("{dst}:{port}") })
        })
        .collect();
    rows.push(("TCP targets".into(), report_targets.len() as u64, syn_targets.len() as u64));
    if report_targets != syn_targets {
        rows.push(("TCP targets differ".into(), 0, 1));
    }
    rows
}

#[test]
#[cfg_attr(nettriage_lab_skip, ignore = "NETTRIAGE_LAB=skip")]
fn the_counts_in_the_report_are_tsharks() {
    let mut wrong = Vec::new();
    for name in all_captures() {
        for (what, ours, theirs) in compare(&name) {
            if ours != theirs {
                wrong.push(format!("{name}: {what}: report {ours}, tshark {theirs}"));
            }
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}

/// The snap-length capture: tshark and the report agree on the records and on which is cut.
#[test]
#[cfg_attr(nettriage_lab_skip, ignore = "NETTRIAGE_LAB=skip")]
fn the_truncated_records_are_tsharks() {
    require_tshark();
    let name = "tcpdump-dns_udp_2.pcap";
    let out = Command::new("tshark")
        .arg("-r")
        .arg(real(name))
        .args(["-T", "fields", "-e", "frame.cap_len", "-e", "frame.len"])
        .output()
        .expect("run tshark");
    let text = String::from_utf8_lossy(&out.stdout);
    let cut = text
        .lines()
        .filter(|l| {
            let mut it = l.split('\t').map(|v| v.parse::<u64>().unwrap());
            it.next() < it.next()
        })
        .count() as u64;
    let (_, r) = analyze(name);
    assert_eq!(r["capture"]["truncated_records"].as_u64(), Some(cut));
    assert_eq!(r["capture"]["packets"].as_u64(), Some(text.lines().count() as u64));
}

// ---- IPv6 neighbour discovery and path MTU -------------------------------------------
// The lab captures of `captures/record_ipv6.sh` (and `ipv6_ra.pcap`) and Zeek's ICMPv6
// traces (captures/README.md), each with the codes the ipv6, gateway and path checks give.

/// `nettriage analyze FILE --format json` on a capture anywhere under `captures/`.
fn analyze_capture(relative: &str) -> (i32, Value) {
    let path = PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/captures")).join(relative);
    let out = Command::new(env!("CARGO_BIN_EXE_nettriage"))
        .arg("analyze")
        .arg(&path)
        .args(["--format", "json"])
        .output()
        .expect("run nettriage");
    let report: Value = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!("{relative}: no JSON report ({e}); stderr: {}", String::from_utf8_lossy(&out.stderr))
    });
    (out.status.code().expect("exit code"), report)
}

fn notice_codes(check: &Value) -> BTreeSet<String> {
    check["evidence"]["notices"]
        .as_array()
        .map_or_else(BTreeSet::new, |n| n.iter().map(|n| n["code"].as_str().unwrap().to_string()).collect())
}

/// Run status, exit code, root cause, and for ipv6, gateway and path: status (or the skip
/// reason) and finding and notice codes.
type V6Expect = (
    &'static str,
    (&'static str, i32),
    Option<&'static str>,
    [(&'static str, &'static str, &'static [&'static str]); 3],
);

const V6_EXPECTED: &[V6Expect] = &[
    (
        "ipv6_ra.pcap",
        HEALTHY,
        None,
        [("ipv6", "pass", &[]), ("gateway", "no_packets_in_capture", &[]), ("path", "not_observable_in_capture", &[])],
    ),
    (
        "ipv6_two_routers.pcap",
        DEGRADED,
        Some("ipv6.multiple_routers"),
        [
            ("ipv6", "warn", &["ipv6.multiple_routers"]),
            ("gateway", "pass", &[]),
            ("path", "not_observable_in_capture", &[]),
        ],
    ),
    (
        "ipv6_dad_failed.pcap",
        BROKEN,
        Some("ipv6.dad_failed"),
        [
            ("ipv6", "fail", &["ipv6.dad_failed"]),
            ("gateway", "no_packets_in_capture", &[]),
            ("path", "not_observable_in_capture", &[]),
        ],
    ),
    (
        "mtu_too_big.pcap",
        HEALTHY,
        None,
        [("ipv6", "not_observable_in_capture", &[]), ("gateway", "pass", &[]), ("path", "pass", &["path.mtu_reduced"])],
    ),
    (
        "real/zeek-icmp-icmp6-nd-options.pcap",
        HEALTHY,
        None,
        [("ipv6", "pass", &[]), ("gateway", "no_packets_in_capture", &[]), ("path", "not_observable_in_capture", &[])],
    ),
    (
        "real/zeek-icmp-icmp6-toobig.pcap",
        ("unknown", 3),
        None,
        [
            ("ipv6", "not_observable_in_capture", &[]),
            ("gateway", "no_packets_in_capture", &[]),
            ("path", "not_observable_in_capture", &[]),
        ],
    ),
];

#[test]
fn ipv6_and_path_mtu_captures_have_their_codes() {
    for (file, (status, exit), root, checks) in V6_EXPECTED {
        let (code, r) = analyze_capture(file);
        assert_eq!((r["diagnosis"]["status"].as_str(), code), (Some(*status), *exit), "{file}");
        assert_eq!(r["diagnosis"]["root_cause"]["code"].as_str(), *root, "{file}");
        for (id, want, want_codes) in checks {
            let c = check(&r, id);
            if c["status"] == "skipped" {
                assert_eq!(c["reason_code"], *want, "{file} {id}");
                continue;
            }
            assert_eq!(c["status"], *want, "{file} {id}");
            let got: BTreeSet<String> = codes(c).union(&notice_codes(c)).cloned().collect();
            let want: BTreeSet<String> = want_codes.iter().map(|s| s.to_string()).collect();
            assert_eq!(got, want, "{file} {id}");
        }
    }
}

/// The rogue: both routers are listed with their MACs, and the one the client solicited
/// and pinged is the gateway evidence's IPv6 router.
#[test]
fn the_rogue_router_capture_names_both_routers() {
    let (_, r) = analyze_capture("ipv6_two_routers.pcap");
    let ipv6 = &check(&r, "ipv6")["evidence"];
    let routers = ipv6["routers"].as_array().unwrap();
    assert_eq!(routers.len(), 2);
    let macs: BTreeSet<&str> = routers.iter().map(|r| r["mac"].as_str().unwrap()).collect();
    assert_eq!(macs.len(), 2);
    assert_eq!(ipv6["solicitation"]["status"], "sent");
    let v6 = check(&r, "gateway")["evidence"]["gateways_v6"].as_array().unwrap().clone();
    assert_eq!(v6.len(), 1);
    assert_eq!(v6[0]["ns"]["status"], "answered");
    assert!(macs.contains(v6[0]["ns"]["mac"].as_str().unwrap()));
    assert_eq!((v6[0]["ping"]["sent"].as_u64(), v6[0]["ping"]["received"].as_u64()), (Some(3), Some(3)));
}

/// DAD: the probe from `::` for 2001:2:0:1::77 and the other host's advertisement.
#[test]
fn the_dad_capture_names_the_address_and_both_macs() {
    let (_, r) = analyze_capture("ipv6_dad_failed.pcap");
    let dad = check(&r, "ipv6")["evidence"]["capture"]["dad"].as_array().unwrap().clone();
    assert_eq!(dad.len(), 1);
    assert_eq!(dad[0]["address"], "2001:2:0:1::77");
    assert!(dad[0]["conflict_mac"].is_string());
    assert_ne!(dad[0]["conflict_mac"], dad[0]["prober"]);
}

/// Fragmentation needed and packet too big: each destination with the 1400-byte MTU the
/// router reported, for both families and both kinds of traffic.
#[test]
fn the_too_big_capture_reports_the_routers_mtu_per_destination() {
    let (_, r) = analyze_capture("mtu_too_big.pcap");
    let path = &check(&r, "path")["evidence"];
    let destinations = path["destinations"].as_array().unwrap();
    let addresses: BTreeSet<&str> = destinations.iter().map(|d| d["address"].as_str().unwrap()).collect();
    let want: BTreeSet<&str> = ["198.18.1.2", "198.18.1.3", "2001:2:0:2::2", "2001:2:0:2::3"].into();
    assert_eq!(addresses, want);
    for d in destinations {
        assert_eq!((d["status"].as_str(), d["reported_mtu"].as_u64()), (Some("reduced"), Some(1400)), "{d}");
        assert!(d["too_big"].as_array().unwrap().iter().all(|t| t["size"].as_u64() > Some(1400)), "{d}");
    }
    assert!(path["too_big_total"].as_u64() >= Some(4));
}

/// Zeek's `icmp6-nd-options.pcap` (a router and a host, 2008): one router, whose
/// solicitation-less advertisements and the host's solicitation are answered; the DAD
/// probes are answered only by their own prober's advertisement, which is no conflict.
#[test]
fn zeeks_neighbour_discovery_trace_is_one_router_and_no_duplicate() {
    let (_, r) = analyze_capture("real/zeek-icmp-icmp6-nd-options.pcap");
    let ipv6 = &check(&r, "ipv6")["evidence"];
    assert_eq!(ipv6["routers"].as_array().unwrap().len(), 1);
    assert_eq!(ipv6["routers"][0]["mac"], "c2:00:54:f5:00:00");
    assert_eq!(ipv6["ra_mtu"], 1500);
    let dad = ipv6["capture"]["dad"].as_array().unwrap();
    assert!(!dad.is_empty());
    assert!(dad.iter().all(|d| d["conflict_mac"].is_null()));
}

/// `analyze --config`: with the router the client used named in `expected_routers_v6`, the
/// other router of the capture is the rogue (`ipv6.unexpected_router`), not merely one of
/// two (`ipv6.multiple_routers`); a config file that does not parse is exit code 3.
#[test]
fn analyze_with_a_config_tells_the_rogue_router_from_the_expected_one() {
    let (_, r) = analyze_capture("ipv6_two_routers.pcap");
    let used = check(&r, "gateway")["evidence"]["gateways_v6"][0]["address"].as_str().unwrap().to_string();
    let dir = std::env::temp_dir().join(format!("nettriage-analyze-config-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let config = dir.join("site.toml");
    std::fs::write(&config, format!("[ipv6]\nexpected_routers_v6 = [\"{used}\"]\n")).unwrap();
    let path = PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/captures/ipv6_two_routers.pcap"));
    let run = |config: &std::path::Path| {
        Command::new(env!("CARGO_BIN_EXE_nettriage"))
            .arg("analyze")
            .arg(&path)
            .args(["--format", "json", "--config"])
            .arg(config)
            .output()
            .expect("run nettriage")
    };
    let out = run(&config);
    let report: Value = serde_json::from_slice(&out.stdout).expect("a JSON report");
    let codes: Vec<&str> =
        check(&report, "ipv6")["findings"].as_array().unwrap().iter().map(|f| f["code"].as_str().unwrap()).collect();
    assert!(codes.contains(&"ipv6.unexpected_router"), "{codes:?}");
    let broken = dir.join("broken.toml");
    std::fs::write(&broken, "[ipv6\n").unwrap();
    assert_eq!(run(&broken).status.code(), Some(3), "a config that does not parse");
    std::fs::remove_dir_all(&dir).ok();
}

/// tcpdump's `LLDP_and_CDP.pcap` (two Cisco 3560s on one link, each sending LLDP and
/// CDPv2): every switch port is one neighbour per protocol, as tcpdump -v decodes them;
/// the report's neighbour line is the first LLDP one; nothing is judged without a config
/// (no local speed or duplex in a capture), and `analyze --config` with `expected_vlan`
/// judges the native VLAN 1 both switches report.
#[test]
fn the_lldp_and_cdp_capture_names_both_switches_and_judges_the_expected_vlan() {
    let name = "tcpdump-LLDP_and_CDP.pcap";
    let (exit, r) = analyze(name);
    assert_eq!((exit, r["diagnosis"]["status"].as_str()), (0, Some("healthy")));
    let c = check(&r, "neighbours");
    assert_eq!(c["status"], "pass");
    let ev = &c["evidence"];
    assert_eq!(
        (ev["lldp_frames"].as_u64(), ev["cdp_frames"].as_u64(), ev["malformed_frames"].as_u64()),
        (Some(8), Some(4), Some(0))
    );
    assert_eq!((ev["local_speed_mbps"].clone(), ev["local_duplex"].clone()), (Value::Null, Value::Null));
    let seen: BTreeSet<(String, String, String, u64)> = ev["neighbours"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| {
            let s = |k: &str| n[k].as_str().unwrap_or_default().to_string();
            (s("protocol"), s("chassis_id"), s("port_id"), n["port_vlan"].as_u64().unwrap_or(0))
        })
        .collect();
    let want: BTreeSet<(String, String, String, u64)> = [
        ("lldp", "00:19:2f:a7:b2:8d", "Uplink to S1"),
        ("lldp", "00:18:ba:98:68:8f", "Fa0/13"),
        ("cdp", "S1", "FastEthernet0/13"),
        ("cdp", "S2", "GigabitEthernet0/13"),
    ]
    .iter()
    .map(|(p, c, port)| (p.to_string(), c.to_string(), port.to_string(), 1))
    .collect();
    assert_eq!(seen, want);
    let cdp_s1 = ev["neighbours"].as_array().unwrap().iter().find(|n| n["chassis_id"] == "S1").unwrap();
    assert_eq!((cdp_s1["duplex"].as_str(), cdp_s1["platform"].as_str()), (Some("full"), Some("cisco WS-C3560-24TS")));
    assert_eq!(r["neighbour"]["protocol"], "lldp");
    assert_eq!(r["neighbour"]["vlan"], 1);

    let dir = std::env::temp_dir().join(format!("nettriage-analyze-vlan-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let config = dir.join("site.toml");
    std::fs::write(&config, "[neighbours]\nexpected_vlan = 20\n").unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_nettriage"))
        .arg("analyze")
        .arg(real(name))
        .args(["--format", "json", "--config"])
        .arg(&config)
        .output()
        .expect("run nettriage");
    std::fs::remove_dir_all(&dir).ok();
    let report: Value = serde_json::from_slice(&out.stdout).expect("a JSON report");
    assert_eq!(out.status.code(), Some(2), "an unexpected VLAN is a broken service");
    let c = check(&report, "neighbours");
    assert_eq!(c["status"], "fail");
    let codes: Vec<&str> = c["findings"].as_array().unwrap().iter().map(|f| f["code"].as_str().unwrap()).collect();
    assert_eq!(codes, ["link.unexpected_vlan"; 4], "each switch port in VLAN 1");
    assert_eq!(report["diagnosis"]["root_cause"]["code"], "link.unexpected_vlan");
}
