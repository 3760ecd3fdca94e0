//! The DNS layer: every configured resolver, queried on its own.
//!
//! Which servers are the system's comes from [`crate::platform::resolv`]: resolv.conf read
//! as glibc reads it (zones kept as scope ids, only the first `MAXNS` servers, `options`),
//! with local stubs followed to their upstreams (systemd-resolved's 127.0.0.53,
//! NetworkManager's dnsmasq) where those are written down, and the stub itself tested
//! where they are not. Each server gets A and AAAA queries for every test name plus one
//! query for a random label that no cache can answer (ChromeOS's technique, ANCHORS.md b).
//! Queries go over a connected UDP socket so an ICMP unreachable from the server is seen
//! (`dns.unreachable`) instead of waiting for a timeout; a timed-out query is retried once.
//! Message building and parsing use hickory's codec; judging is pure. `nettriage analyze`
//! ([`crate::analyze`]) fills the same [`DnsEvidence`] from a capture's queries (with
//! [`QuerySeen`] and [`ServerCapture`] for what only a capture shows) and calls the same
//! [`server_result`] and [`judge`] with [`Source::Capture`].

use std::collections::BTreeMap;
use std::net::{IpAddr, SocketAddr};
#[cfg(feature = "live")]
use std::time::{Duration, Instant};

use hickory_proto::op::{Message, MessageType, OpCode, Query, ResponseCode};
use hickory_proto::rr::{Name, RData, RecordType};
use serde::{Deserialize, Serialize};
#[cfg(feature = "live")]
use tokio::net::UdpSocket;

#[cfg(feature = "live")]
use crate::check::{CheckContext, CheckError, Outcome};
use crate::check::{Source, finding, named};
use crate::config::DnsSettings;
use crate::platform::resolv::{self, ConfState, Discovery, Nameserver, ResolverPaths, StubKind};
#[cfg(feature = "live")]
use crate::report::Evidence;
use crate::report::{CheckId, Code, Finding, Severity};
use crate::types::Timestamp;
#[cfg(feature = "live")]
use crate::types::millis;

/// Most servers or names listed in one finding's message.
const MAX_NAMED: usize = 10;

/// What later checks learn from DNS.
#[derive(Debug, Clone, Default)]
pub struct DnsFacts {
    /// Addresses per name, from the first server that answered it.
    pub resolved: BTreeMap<String, Vec<IpAddr>>,
    /// Whether at least one server worked (so an empty answer means "no such address").
    pub any_server_ok: bool,
}

/// What the dns check saw.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DnsEvidence {
    /// The file the servers came from.
    pub source: String,
    /// Set when resolv.conf pointed at systemd-resolved's stub and its upstreams were tested.
    pub stub: Option<IpAddr>,
    /// The names tested.
    #[serde(default)]
    pub names: Vec<String>,
    /// The random, uncacheable name.
    pub cache_buster: String,
    /// One entry per server.
    #[serde(default)]
    pub servers: Vec<ServerResult>,
    /// Set when the evidence comes from a capture (`source` is then the capture file).
    #[serde(flatten)]
    pub capture: Option<DnsCapture>,
    /// The system's resolvers as glibc and the local stubs see them (live runs only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub system: Option<Box<SystemView>>,
}

/// The system's view of DNS: which resolvers glibc uses, what the stubs forward to, what
/// glibc's options make a lookup wait, and the informational notices about them.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SystemView {
    /// resolv.conf and the stubs, as read.
    #[serde(flatten)]
    pub resolvers: Discovery,
    /// Every server queried, with its zone and the stub it was found behind.
    #[serde(default)]
    pub tested: Vec<TestedServer>,
    /// Seconds glibc waits on silent resolvers before a lookup reaches one that answers
    /// (`timeout_s` for each silent resolver listed before the first working one); `null`
    /// when no resolver was tested directly, none works, or `rotate` spreads the lookups.
    pub glibc_wait_s: Option<u32>,
    /// Seconds a lookup takes before glibc gives up when no resolver answers:
    /// `timeout_s × attempts × resolvers` (resolv.conf(5); a timeout of 0 counts as 1 s),
    /// an estimate, not a model of glibc's exact back-off.
    pub glibc_give_up_s: u32,
    /// Informational observations (codes documented in docs/checks/dns.md); they are not
    /// findings and do not change the check's status.
    #[serde(default)]
    pub notices: Vec<Notice>,
    /// DNS-over-TLS probes of systemd-resolved's upstreams when it is set to
    /// `DNSOverTLS=yes` or `opportunistic` (port 853, one query over TLS each).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub dot: Vec<DotProbe>,
    /// When resolv.conf names systemd-resolved's stub: what `resolvectl status` gave
    /// (`read N sections`, or why not), the source of per-link DNS-over-TLS modes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resolvectl: Option<String>,
}

/// One DNS-over-TLS probe (RFC 7858): a TLS connection to port 853, verified against the
/// system's trust store and `--ca-file` with the server's address as its name, and one
/// query over it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DotProbe {
    /// The upstream probed.
    pub server: IpAddr,
    /// resolved's mode that asked for it.
    pub mode: resolv::DotMode,
    /// How it ended.
    pub outcome: DotOutcome,
    /// Time from the connect to the answer.
    pub ms: Option<f64>,
    /// What failed, in words.
    pub error: Option<String>,
}

/// How a DNS-over-TLS probe ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DotOutcome {
    /// The query over TLS was answered.
    Answer,
    /// Nothing listens on 853 (connection refused).
    Refused,
    /// No answer to the connection, the handshake or the query in time.
    Timeout,
    /// The network says the server cannot be reached.
    Unreachable,
    /// The TLS handshake worked only up to the certificate, which does not validate (an
    /// opportunistic resolver accepts it; a strict one does not).
    Untrusted,
    /// The TLS handshake failed otherwise (an alert, a reset).
    HandshakeFailed,
    /// The TLS session came up but the answer was missing or not ours.
    NoAnswer,
    /// A local problem (the trust store, `--ca-file`); says nothing about the server.
    LocalError,
}

impl DotOutcome {
    /// Whether resolved in `mode` can use the server over TLS with this outcome.
    pub fn usable(self, mode: resolv::DotMode) -> bool {
        match self {
            DotOutcome::Answer | DotOutcome::LocalError => true,
            // Opportunistic mode does not validate certificates.
            DotOutcome::Untrusted => mode == resolv::DotMode::Opportunistic,
            _ => false,
        }
    }
}

/// One server the check queried.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TestedServer {
    /// The server, with its zone and scope id.
    #[serde(flatten)]
    pub nameserver: Nameserver,
    /// The local stub whose upstream it is; `null` for a resolver from resolv.conf.
    pub via: Option<IpAddr>,
}

/// An informational observation: a code and words, never a change of status.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Notice {
    /// Stable code (`dns.default_server`, ...).
    pub code: Code,
    /// What was seen, in words.
    pub message: String,
}

/// What a capture adds to the dns evidence.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DnsCapture {
    /// Servers seen (the report lists at most `analyze::MAX_LISTED`).
    pub servers_total: usize,
    /// Queries not judged: beyond `analyze::MAX_TRACKED` and found with the table of open
    /// queries full (queries beyond the bound are otherwise judged from counters).
    pub untracked: u32,
}

/// What a capture adds to one server's results.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ServerCapture {
    /// Queries seen (the report lists at most `analyze::MAX_LISTED`).
    pub queries_total: usize,
    /// Queries the server answered (any response code).
    pub answered: usize,
    /// Queries whose failure is held against the server ([`counts_against`]): every one
    /// seen, not only those listed.
    #[serde(default)]
    pub failed: usize,
    /// When the first of them was sent (capture time).
    #[serde(default)]
    pub first_failure: Option<Timestamp>,
    /// When the last of them was sent (capture time).
    #[serde(default)]
    pub last_failure: Option<Timestamp>,
    /// The VLAN (innermost 802.1Q/802.1ad tag) the first query to the server came in;
    /// absent when untagged.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub vlan: Option<u16>,
}

/// Where and when a capture saw one query.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct QuerySeen {
    /// The client's address and port.
    pub client: SocketAddr,
    /// The DNS message id.
    pub id: u16,
    /// When the query was first sent, since the start of the capture.
    pub at_ms: f64,
    /// Failed (no answer, an ICMP error, an error rcode such as FORMERR, BADVERS or
    /// SERVFAIL, or an unreadable answer), but a later query for the same name and type to
    /// this server was answered (the client's retry, or its EDNS fallback): not held
    /// against the server.
    pub answered_on_retry: bool,
    /// The answer was cut by the capture's snap length: judged from its header (id, QR
    /// bit, rcode, answer count) and its question if captured; its records are not read.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub answer_cut: bool,
}

/// One server's verdict: `ok`, or the finding code it earned.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ServerVerdict {
    /// Every query was answered usefully.
    Ok,
    /// The code this server earned (`dns.timeout`, `dns.servfail`, ...).
    Failed(Code),
}

impl ServerVerdict {
    /// `ok` or the code, as reports write it.
    pub fn as_str(self) -> &'static str {
        match self {
            ServerVerdict::Ok => "ok",
            ServerVerdict::Failed(code) => code.as_str(),
        }
    }

    /// The code, when the server failed.
    pub fn code(self) -> Option<Code> {
        match self {
            ServerVerdict::Ok => None,
            ServerVerdict::Failed(code) => Some(code),
        }
    }
}

impl std::fmt::Display for ServerVerdict {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Serialize for ServerVerdict {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for ServerVerdict {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = std::borrow::Cow::<str>::deserialize(d)?;
        Ok(match &*text {
            "ok" => ServerVerdict::Ok,
            code => ServerVerdict::Failed(Code::parse(code)),
        })
    }
}

/// Results for one server.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ServerResult {
    /// The server.
    pub server: IpAddr,
    /// `ok`, or the finding code this server earned (`dns.timeout`, ...).
    pub verdict: ServerVerdict,
    /// Mean answer time over the queries it answered.
    pub avg_ms: Option<f64>,
    /// Every query.
    #[serde(default)]
    pub queries: Vec<QueryResult>,
    /// Live runs: the share of queries whose first attempt got no answer (the retry was
    /// needed), 0 to 1 — a flapping server, even when every query was answered in the end.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub first_attempt_loss: Option<f64>,
    /// Set when the results come from a capture.
    #[serde(flatten)]
    pub capture: Option<ServerCapture>,
}

/// One query and its outcome.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct QueryResult {
    /// Name asked.
    pub name: String,
    /// `A` or `AAAA`.
    pub record_type: String,
    /// What came back.
    pub outcome: QueryOutcome,
    /// Response code when there was a response.
    pub rcode: Option<String>,
    /// Addresses in the answer.
    #[serde(default)]
    pub answers: Vec<IpAddr>,
    /// Time to the response.
    pub ms: Option<f64>,
    /// Attempts made (a timeout is retried once).
    #[serde(default)]
    pub attempts: u32,
    /// Whether this was the random-label query.
    #[serde(default)]
    pub cache_buster: bool,
    /// Error text for `unreachable` and `error`.
    pub error: Option<String>,
    /// Set when the query was read from a capture.
    #[serde(flatten)]
    pub seen: Option<QuerySeen>,
}

impl QueryResult {
    /// Whether the server answered at all (any response code).
    pub fn is_response(&self) -> bool {
        !matches!(self.outcome, QueryOutcome::Timeout | QueryOutcome::Unreachable | QueryOutcome::LocalError)
    }

    /// Whether a failure of this query is held against the server: not when a later
    /// retry of it was answered (seen in a capture).
    fn counts(&self) -> bool {
        !self.seen.as_ref().is_some_and(|s| s.answered_on_retry)
    }
}

/// How one query ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum QueryOutcome {
    /// NOERROR with addresses.
    Answer,
    /// NOERROR without addresses of the asked type.
    NoData,
    /// NXDOMAIN.
    Nxdomain,
    /// SERVFAIL.
    Servfail,
    /// REFUSED.
    Refused,
    /// Any other response code (FORMERR, NOTIMP, ...).
    OtherRcode,
    /// A response came (its id and direction match) but does not parse as a DNS message
    /// (seen in a capture).
    Malformed,
    /// No response, also after the retry.
    Timeout,
    /// ICMP unreachable or no route to the server.
    Unreachable,
    /// A local problem (no socket); says nothing about the server.
    LocalError,
}

/// The addresses of the servers the system's lookups reach, from the paths in `settings`
/// (resolv.conf's first three, local stubs replaced by their upstreams where known): what
/// the dhcp check compares with the DNS servers DHCP offers.
pub fn system_servers(settings: &DnsSettings) -> Vec<IpAddr> {
    let discovery = resolv::discover(&resolver_paths(settings), &|_| None);
    discovery.servers_to_test().into_iter().map(|(ns, _)| ns.ip).collect()
}

/// The resolver files named in the settings.
fn resolver_paths(settings: &DnsSettings) -> ResolverPaths {
    ResolverPaths {
        resolv_conf: settings.resolv_conf.clone(),
        resolved_upstreams: settings.resolved_upstreams.clone(),
        networkmanager_upstreams: settings.networkmanager_upstreams.clone(),
        resolved_conf: settings.resolved_conf.clone(),
    }
}

/// The evidence's `source` and `stub`: the stub's upstream file and the stub when the only
/// system resolver is a followed stub, else resolv.conf and none.
#[cfg(any(feature = "live", test))]
fn source_and_stub(d: &Discovery) -> (String, Option<IpAddr>) {
    if let [only] = d.system.as_slice()
        && let Some(stub) = &only.stub
        && !stub.upstreams.is_empty()
        && let Some(file) = &stub.upstreams_source
    {
        return (file.clone(), Some(only.nameserver.ip));
    }
    let stub = d.system.iter().find(|r| r.stub.as_ref().is_some_and(|s| !s.upstreams.is_empty()));
    (d.resolv_conf.clone(), stub.map(|r| r.nameserver.ip))
}

/// The informational notices about the system's resolvers (pure).
pub fn notices(d: &Discovery) -> Vec<Notice> {
    let mut out = Vec::new();
    match d.conf_state {
        ConfState::Read => {}
        ConfState::Missing => out.push(Notice {
            code: Code::DnsDefaultServer,
            message: format!("{} is missing or unreadable: glibc asks {}", d.resolv_conf, resolv::GLIBC_DEFAULT_SERVER),
        }),
        ConfState::NoNameserver => out.push(Notice {
            code: Code::DnsDefaultServer,
            message: format!("{} names no server: glibc asks {}", d.resolv_conf, resolv::GLIBC_DEFAULT_SERVER),
        }),
    }
    if !d.ignored.is_empty() {
        let ignored: Vec<String> = d.ignored.iter().map(|n| n.text.clone()).collect();
        out.push(Notice {
            code: Code::DnsIgnoredServers,
            message: format!(
                "glibc uses only the first {} nameservers; not asked and not tested: {}",
                resolv::MAXNS,
                named(&ignored, ", ", MAX_NAMED)
            ),
        });
    }
    for r in &d.system {
        if let Some(stub) = &r.stub
            && stub.upstreams.is_empty()
        {
            let what = match stub.kind {
                StubKind::SystemdResolved => "systemd-resolved's stub, its upstream file not readable",
                StubKind::NetworkManagerDnsmasq => "NetworkManager's dnsmasq",
                StubKind::Unknown => "a local stub",
            };
            out.push(Notice {
                code: Code::DnsStubUpstreamsUnknown,
                message: format!("{} is {what}: upstreams unknown, the stub itself was tested", r.nameserver.text),
            });
        }
    }
    for r in &d.system {
        if let Some(stub) = &r.stub
            && !stub.upstreams.is_empty()
            && let Some(mode @ (resolv::DotMode::Yes | resolv::DotMode::Opportunistic)) = stub.dns_over_tls
        {
            let mode = if mode == resolv::DotMode::Yes { "yes" } else { "opportunistic" };
            out.push(Notice {
                code: Code::DnsDotNotProbed,
                message: format!(
                    "systemd-resolved is set to DNSOverTLS={mode}: its upstreams were queried on UDP port 53, not over TLS on 853"
                ),
            });
        }
    }
    let zones = d
        .system
        .iter()
        .map(|r| &r.nameserver)
        .chain(d.system.iter().filter_map(|r| r.stub.as_ref()).flat_map(|s| s.upstreams.iter()));
    for ns in zones.filter(|ns| ns.zone_unresolved()) {
        out.push(Notice {
            code: Code::DnsZoneUnknown,
            message: format!("{}: the zone names no interface here, so the address has no scope", ns.text),
        });
    }
    out
}

/// What glibc's options make a lookup wait, from the servers' verdicts (pure): (seconds
/// before a lookup reaches a working resolver, seconds before it gives up).
pub fn glibc_waits(d: &Discovery, servers: &[ServerResult]) -> (Option<u32>, u32) {
    let o = &d.options;
    let give_up = o.timeout_s.max(1).saturating_mul(o.attempts).saturating_mul(d.system.len() as u32);
    if o.rotate {
        return (None, give_up);
    }
    let mut wait = 0u32;
    for r in &d.system {
        if r.stub.as_ref().is_some_and(|s| !s.upstreams.is_empty()) {
            // glibc asks the stub, which was not tested itself.
            return (None, give_up);
        }
        match servers.iter().find(|s| s.server == r.nameserver.ip).map(|s| s.verdict) {
            Some(ServerVerdict::Ok) => return (Some(wait), give_up),
            Some(ServerVerdict::Failed(Code::DnsTimeout)) => wait = wait.saturating_add(o.timeout_s.max(1)),
            // An ICMP error or an error rcode: glibc moves on at once.
            Some(ServerVerdict::Failed(_)) => {}
            None => return (None, give_up),
        }
    }
    (None, give_up)
}

/// A random label under the first test name's zone, e.g. `nt-qzkfmwpa.example.com`.
pub fn cache_buster(first_name: &str) -> String {
    let labels: Vec<&str> = first_name.split('.').collect();
    let zone = if labels.len() >= 3 { labels[1..].join(".") } else { first_name.to_string() };
    let random: String = (0..8).map(|_| char::from(b'a' + rand::random::<u8>() % 26)).collect();
    format!("nt-{random}.{zone}")
}

/// Runs the dns check.
#[cfg(feature = "live")]
pub async fn run(ctx: &CheckContext<'_>) -> Result<Outcome, CheckError> {
    let settings = &ctx.config.dns;
    let paths = resolver_paths(settings);
    // Zones name interfaces of this network namespace: the run's netlink snapshot knows them.
    let ifindex =
        |name: &str| ctx.snapshot.interfaces.iter().find(|i| i.name == name).map(|i| i.index).filter(|&i| i != 0);
    let discovery = resolv::discover(&paths, &ifindex);
    let (source, stub) = source_and_stub(&discovery);
    let tested = discovery.servers_to_test();
    let names = ctx.config.dns_names.clone();
    let buster = cache_buster(names.first().map(String::as_str).unwrap_or("example.com"));
    let timeout = Duration::from_millis(settings.timeout_ms);
    // A query still unanswered when the run's deadline comes is a timeout like any other.
    let stop_by = ctx.cutoff();

    let per_server = tested.iter().map(|(ns, _)| {
        let names = &names;
        let buster = &buster;
        async move {
            let mut jobs = Vec::new();
            for name in names {
                jobs.push((name.clone(), RecordType::A, false));
                jobs.push((name.clone(), RecordType::AAAA, false));
            }
            jobs.push((buster.clone(), RecordType::A, true));
            let addr = ns.socket_addr(53);
            let queries = futures::future::join_all(
                jobs.into_iter().map(|(name, rtype, cb)| query(addr, name, rtype, cb, timeout, stop_by)),
            )
            .await;
            server_result(ns.ip, queries, Source::Live)
        }
    });
    // systemd-resolved's DNS-over-TLS upstreams (its per-link modes from resolvectl),
    // probed on 853 while the UDP queries run.
    let dot_probes = async {
        let (links, resolvectl) = resolvectl_status(&discovery).await;
        let dot_targets = dot_upstreams(&discovery, &links);
        let dot_roots = if dot_targets.is_empty() {
            Err(String::new())
        } else {
            crate::check::web::roots(ctx.config.web.ca_file.as_deref())
                .map(std::sync::Arc::new)
                .map_err(|e| format!("trust store: {e}"))
        };
        let first_name = names.first().cloned().unwrap_or_else(|| "example.com".into());
        let probes = futures::future::join_all(dot_targets.iter().map(|&(server, mode)| {
            probe_dot(
                server,
                mode,
                dot_roots.clone(),
                first_name.clone(),
                timeout.min(stop_by.saturating_duration_since(Instant::now())),
            )
        }))
        .await;
        (probes, resolvectl)
    };
    let (server_results, (dot, resolvectl)) = futures::join!(futures::future::join_all(per_server), dot_probes);

    let mut facts = DnsFacts::default();
    for name in &names {
        let answers = server_results.iter().find_map(|s| {
            let ips: Vec<IpAddr> =
                s.queries.iter().filter(|q| &q.name == name).flat_map(|q| q.answers.iter().copied()).collect();
            (!ips.is_empty()).then_some(ips)
        });
        facts.resolved.insert(name.clone(), answers.unwrap_or_default());
    }
    facts.any_server_ok = server_results.iter().any(|s| s.verdict == ServerVerdict::Ok);
    let _ = ctx.facts.dns.set(facts);

    let (glibc_wait_s, glibc_give_up_s) = glibc_waits(&discovery, &server_results);
    let mut notices = notices(&discovery);
    // The notice stays when no probe got as far as the network (the trust store or
    // `--ca-file` could not be read): then nothing is known about DNS over TLS.
    if dot.iter().any(|p| p.outcome != DotOutcome::LocalError) {
        notices.retain(|n| n.code != Code::DnsDotNotProbed);
    }
    let system = SystemView {
        dot,
        resolvectl,
        notices,
        tested: tested.into_iter().map(|(nameserver, via)| TestedServer { nameserver, via }).collect(),
        resolvers: discovery,
        glibc_wait_s,
        glibc_give_up_s,
    };
    let ev = DnsEvidence {
        source,
        stub,
        names,
        cache_buster: buster,
        servers: server_results,
        capture: None,
        system: Some(Box::new(system)),
    };
    Ok(Outcome::Ran { findings: judge(&ev, settings, Source::Live), evidence: Evidence::Dns(Box::new(ev)) })
}

/// The upstreams systemd-resolved reaches over TLS, with its mode: the mode of the link
/// that lists the server in `resolvectl status` when that was read, else the global mode
/// of resolved's configuration files.
pub fn dot_upstreams(d: &Discovery, links: &[resolv::ResolvectlLink]) -> Vec<(IpAddr, resolv::DotMode)> {
    let mut out: Vec<(IpAddr, resolv::DotMode)> = Vec::new();
    for r in &d.system {
        let Some(stub) = r.stub.as_ref().filter(|s| s.kind == StubKind::SystemdResolved) else { continue };
        for ns in &stub.upstreams {
            let mode = resolv::resolvectl_dot_mode(links, ns.ip).or(stub.dns_over_tls);
            if let Some(mode @ (resolv::DotMode::Yes | resolv::DotMode::Opportunistic)) = mode
                && !out.iter().any(|(ip, _)| *ip == ns.ip)
            {
                out.push((ns.ip, mode));
            }
        }
    }
    out
}

/// `resolvectl status`, bounded (2 s, 1 MiB), when resolv.conf names systemd-resolved's
/// stub: its per-link servers and DNS-over-TLS modes, or why they are not known.
#[cfg(feature = "live")]
async fn resolvectl_status(d: &Discovery) -> (Vec<resolv::ResolvectlLink>, Option<String>) {
    let resolved = d.system.iter().any(|r| r.stub.as_ref().is_some_and(|s| s.kind == StubKind::SystemdResolved));
    if !resolved {
        return (vec![], None);
    }
    let mut command = tokio::process::Command::new("resolvectl");
    command.args(["status", "--no-pager"]).stdin(std::process::Stdio::null()).kill_on_drop(true);
    match tokio::time::timeout(Duration::from_secs(2), command.output()).await {
        Ok(Ok(out)) if out.status.success() => {
            let text = String::from_utf8_lossy(&out.stdout[..out.stdout.len().min(1 << 20)]).into_owned();
            let links = resolv::parse_resolvectl_status(&text);
            let note = format!("read {} sections", links.len());
            (links, Some(note))
        }
        Ok(Ok(out)) => (vec![], Some(format!("resolvectl status failed ({})", out.status))),
        Ok(Err(e)) => (vec![], Some(format!("resolvectl not available: {e}"))),
        Err(_) => (vec![], Some("resolvectl status did not answer within 2 s".into())),
    }
}

/// Probes `server` over DNS-over-TLS (port 853): connect, TLS handshake verified against
/// `roots` with the address as the server name (public DoT resolvers carry their
/// addresses in their certificates), one query for `name`, bounded by `timeout` overall.
#[cfg(feature = "live")]
async fn probe_dot(
    server: IpAddr,
    mode: resolv::DotMode,
    roots: Result<std::sync::Arc<rustls::RootCertStore>, String>,
    name: String,
    timeout: Duration,
) -> DotProbe {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut probe = DotProbe { server, mode, outcome: DotOutcome::LocalError, ms: None, error: None };
    let roots = match roots {
        Ok(roots) => roots,
        Err(e) => {
            probe.error = Some(e);
            return probe;
        }
    };
    let started = Instant::now();
    let attempt = async {
        let tcp = tokio::net::TcpStream::connect(SocketAddr::new(server, 853)).await.map_err(|e| {
            let outcome = match e.kind() {
                std::io::ErrorKind::ConnectionRefused => DotOutcome::Refused,
                _ => DotOutcome::Unreachable,
            };
            (outcome, format!("connect to port 853: {e}"))
        })?;
        let provider = std::sync::Arc::new(rustls::crypto::ring::default_provider());
        let config = rustls::ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .map_err(|e| (DotOutcome::LocalError, e.to_string()))?
            .with_root_certificates(roots)
            .with_no_client_auth();
        let connector = tokio_rustls::TlsConnector::from(std::sync::Arc::new(config));
        let server_name = rustls::pki_types::ServerName::IpAddress(server.into());
        let mut tls = connector.connect(server_name, tcp).await.map_err(|e| {
            let certificate = e
                .get_ref()
                .and_then(|inner| inner.downcast_ref::<rustls::Error>())
                .is_some_and(|r| matches!(r, rustls::Error::InvalidCertificate(_)));
            let outcome = if certificate { DotOutcome::Untrusted } else { DotOutcome::HandshakeFailed };
            (outcome, format!("TLS handshake: {e}"))
        })?;
        let Ok(qname) = Name::from_ascii(format!("{name}.")) else {
            return Err((DotOutcome::LocalError, format!("`{name}` cannot be encoded as a DNS name")));
        };
        let id: u16 = rand::random();
        let bytes =
            build_query(id, &qname, RecordType::A).to_vec().map_err(|e| (DotOutcome::LocalError, e.to_string()))?;
        // RFC 7858 section 3.3: each message is prefixed with its two-byte length.
        let mut framed = (bytes.len() as u16).to_be_bytes().to_vec();
        framed.extend_from_slice(&bytes);
        tls.write_all(&framed).await.map_err(|e| (DotOutcome::NoAnswer, format!("send the query: {e}")))?;
        let mut len = [0u8; 2];
        tls.read_exact(&mut len).await.map_err(|e| (DotOutcome::NoAnswer, format!("read the answer: {e}")))?;
        let mut answer = vec![0u8; usize::from(u16::from_be_bytes(len))];
        tls.read_exact(&mut answer).await.map_err(|e| (DotOutcome::NoAnswer, format!("read the answer: {e}")))?;
        parse_response(&answer, id).map(|_| ()).ok_or((DotOutcome::NoAnswer, "the answer is not ours".to_string()))
    };
    match tokio::time::timeout(timeout, attempt).await {
        Ok(Ok(())) => {
            probe.outcome = DotOutcome::Answer;
            probe.ms = Some(millis(started.elapsed()));
        }
        Ok(Err((outcome, error))) => (probe.outcome, probe.error) = (outcome, Some(error)),
        Err(_) => (probe.outcome, probe.error) = (DotOutcome::Timeout, Some(format!("no answer within {timeout:?}"))),
    }
    probe
}

/// Builds a recursive query for `name` (pure).
pub fn build_query(id: u16, name: &Name, rtype: RecordType) -> Message {
    let mut msg = Message::new(id, MessageType::Query, OpCode::Query);
    msg.metadata.recursion_desired = true;
    msg.add_query(Query::query(name.clone(), rtype));
    msg
}

/// Parses a datagram as the response to query `id`; `None` for anything else (pure).
pub fn parse_response(bytes: &[u8], id: u16) -> Option<Message> {
    let msg = Message::from_vec(bytes).ok()?;
    (msg.metadata.id == id && msg.metadata.message_type == MessageType::Response).then_some(msg)
}

/// Classifies a response to a query of `rtype` (pure).
pub fn classify(msg: &Message, rtype: RecordType) -> (QueryOutcome, Vec<IpAddr>) {
    let answers: Vec<IpAddr> = msg
        .answers
        .iter()
        .filter_map(|r| match (&r.data, rtype) {
            (RData::A(a), RecordType::A) => Some(IpAddr::V4(a.0)),
            (RData::AAAA(a), RecordType::AAAA) => Some(IpAddr::V6(a.0)),
            _ => None,
        })
        .collect();
    let outcome = match msg.metadata.response_code {
        ResponseCode::NoError if answers.is_empty() => QueryOutcome::NoData,
        ResponseCode::NoError => QueryOutcome::Answer,
        ResponseCode::NXDomain => QueryOutcome::Nxdomain,
        ResponseCode::ServFail => QueryOutcome::Servfail,
        ResponseCode::Refused => QueryOutcome::Refused,
        _ => QueryOutcome::OtherRcode,
    };
    (outcome, answers)
}

#[cfg(feature = "live")]
enum Exchange {
    Response(Message, Duration),
    Timeout,
    Unreachable(String),
    LocalError(String),
}

#[cfg(feature = "live")]
async fn query(
    server: SocketAddr,
    name: String,
    rtype: RecordType,
    cache_buster: bool,
    timeout: Duration,
    stop_by: Instant,
) -> QueryResult {
    let mut result = QueryResult {
        name: name.clone(),
        record_type: rtype.to_string(),
        outcome: QueryOutcome::Timeout,
        rcode: None,
        answers: vec![],
        ms: None,
        attempts: 0,
        cache_buster,
        error: None,
        seen: None,
    };
    let Ok(qname) = Name::from_ascii(format!("{name}.")) else {
        result.outcome = QueryOutcome::LocalError;
        result.error = Some(format!("`{name}` cannot be encoded as a DNS name"));
        return result;
    };
    // ChromeOS retries a DNS lookup once after a timeout (ANCHORS.md b).
    // Each attempt waits at most until `stop_by` (the run's deadline): what the server did
    // until then is the observation.
    for attempt in 1..=2 {
        let left = stop_by.saturating_duration_since(Instant::now());
        if left.is_zero() {
            if attempt == 1 {
                result.error = Some("not sent: the run's deadline had passed".into());
            }
            break;
        }
        result.attempts = attempt;
        match exchange(server, &qname, rtype, timeout.min(left)).await {
            Exchange::Response(msg, elapsed) => {
                let (outcome, answers) = classify(&msg, rtype);
                result.outcome = outcome;
                result.answers = answers;
                result.rcode = Some(msg.metadata.response_code.to_string());
                result.ms = Some(millis(elapsed));
                return result;
            }
            Exchange::Unreachable(error) => {
                result.outcome = QueryOutcome::Unreachable;
                result.error = Some(error);
                return result;
            }
            Exchange::LocalError(error) => {
                result.outcome = QueryOutcome::LocalError;
                result.error = Some(error);
                return result;
            }
            Exchange::Timeout => {
                tracing::debug!(%server, %name, %rtype, attempt, "dns query timed out");
                continue;
            }
        }
    }
    result
}

#[cfg(feature = "live")]
async fn exchange(server: SocketAddr, name: &Name, rtype: RecordType, timeout: Duration) -> Exchange {
    let bind: SocketAddr = if server.is_ipv4() { "0.0.0.0:0" } else { "[::]:0" }.parse().expect("valid");
    let socket = match UdpSocket::bind(bind).await {
        Ok(s) => s,
        Err(e) => return Exchange::LocalError(format!("cannot open UDP socket: {e}")),
    };
    if let Err(e) = socket.connect(server).await {
        return Exchange::Unreachable(e.to_string());
    }
    let id: u16 = rand::random();
    let Ok(bytes) = build_query(id, name, rtype).to_vec() else {
        return Exchange::LocalError("cannot encode query".into());
    };
    let start = Instant::now();
    if let Err(e) = socket.send(&bytes).await {
        return Exchange::Unreachable(e.to_string());
    }
    let mut buf = vec![0u8; 4096];
    let deadline = start + timeout;
    loop {
        match tokio::time::timeout_at(deadline.into(), socket.recv(&mut buf)).await {
            Err(_) => return Exchange::Timeout,
            Ok(Err(e)) => return Exchange::Unreachable(e.to_string()),
            Ok(Ok(len)) => {
                // Anything that is not our response (a stray or spoofed datagram) is
                // ignored and we keep waiting until the deadline.
                if let Some(msg) = parse_response(&buf[..len], id) {
                    return Exchange::Response(msg, start.elapsed());
                }
            }
        }
    }
}

/// Whether a query's outcome is a failure held against its server: no answer, an ICMP
/// error, an error rcode or an unreadable answer, unless a later retry was answered
/// (NXDOMAIN is not counted: from a capture it is judged over all names).
pub fn counts_against(q: &QueryResult) -> bool {
    q.counts()
        && matches!(
            q.outcome,
            QueryOutcome::Timeout
                | QueryOutcome::Unreachable
                | QueryOutcome::Servfail
                | QueryOutcome::Refused
                | QueryOutcome::OtherRcode
                | QueryOutcome::Malformed
        )
}

/// One server's results from its queries: the mean answer time and the verdict (pure).
pub fn server_result(server: IpAddr, queries: Vec<QueryResult>, source: Source) -> ServerResult {
    let times: Vec<f64> = queries.iter().filter_map(|q| q.ms).collect();
    let avg_ms =
        (!times.is_empty()).then(|| (times.iter().sum::<f64>() / times.len() as f64 * 1000.0).round() / 1000.0);
    let verdict = server_verdict(&queries, source).map_or(ServerVerdict::Ok, ServerVerdict::Failed);
    // Live: every query sent at least once, except those that never left (local errors,
    // ICMP unreachable); a query that needed a second attempt lost its first.
    let sent: Vec<&QueryResult> = queries
        .iter()
        .filter(|q| q.attempts > 0 && !matches!(q.outcome, QueryOutcome::LocalError | QueryOutcome::Unreachable))
        .collect();
    let first_attempt_loss = (source == Source::Live && !sent.is_empty()).then(|| {
        let lost = sent.iter().filter(|q| q.attempts > 1 || q.outcome == QueryOutcome::Timeout).count();
        (lost as f64 / sent.len() as f64 * 1000.0).round() / 1000.0
    });
    ServerResult { server, verdict, avg_ms, queries, first_attempt_loss, capture: None }
}

/// The failure code a server earns from its queries, `None` when it works (pure).
/// A missing AAAA record (NODATA) and NXDOMAIN for the random label are normal answers; a
/// failed query that a later retry got answered (seen in a capture) is forgiven: a
/// timeout followed by any answer, and an error rcode (FORMERR, BADVERS, SERVFAIL) or an
/// unreadable answer followed by a useful one (an EDNS fallback is a retry, not a failure).
///
/// NXDOMAIN for a real name is `dns.nxdomain`. A capture also holds other clients'
/// lookups, where NXDOMAIN is routine (search-list expansions), so from a capture the
/// server earns it only when it answered NXDOMAIN to every name it was asked and
/// answered (`Source::Capture`).
pub fn server_verdict(queries: &[QueryResult], source: Source) -> Option<Code> {
    let failed = |o: QueryOutcome| queries.iter().any(|q| q.outcome == o && q.counts());
    let has = |o: QueryOutcome| queries.iter().any(|q| q.outcome == o);
    let real = || queries.iter().filter(|q| !q.cache_buster);
    let nxdomain = match source {
        Source::Live => real().any(|q| q.outcome == QueryOutcome::Nxdomain),
        Source::Capture => {
            real().any(|q| q.outcome == QueryOutcome::Nxdomain)
                && real().all(|q| !matches!(q.outcome, QueryOutcome::Answer | QueryOutcome::NoData))
        }
    };
    if failed(QueryOutcome::Unreachable) {
        Some(Code::DnsUnreachable)
    } else if failed(QueryOutcome::Timeout) {
        Some(Code::DnsTimeout)
    } else if failed(QueryOutcome::Malformed) {
        Some(Code::DnsMalformed)
    } else if failed(QueryOutcome::Servfail) || failed(QueryOutcome::OtherRcode) {
        Some(Code::DnsServfail)
    } else if has(QueryOutcome::Refused) {
        Some(Code::DnsRefused)
    } else if nxdomain {
        Some(Code::DnsNxdomain)
    } else {
        None
    }
}

/// Judges the DNS evidence (pure), live or from a capture. When every server fails, each
/// failure code is a `fail` finding naming its servers; when only some fail, one
/// `dns.partial` warning. `dns.slow` is judged live only: a capture's timings include
/// other clients' queries and retries, and the run's settings are not known.
pub fn judge(ev: &DnsEvidence, settings: &DnsSettings, source: Source) -> Vec<Finding> {
    let f = |code, severity, message: String| finding(CheckId::Dns, code, severity, message);
    if ev.servers.is_empty() {
        return vec![f(Code::DnsNoServers, Severity::Fail, format!("no nameserver in {}", ev.source))];
    }
    let failing: Vec<(&ServerResult, Code)> =
        ev.servers.iter().filter_map(|s| s.verdict.code().map(|c| (s, c))).collect();
    let mut findings = Vec::new();
    if failing.len() == ev.servers.len() {
        let mut codes: Vec<Code> = failing.iter().map(|(_, c)| *c).collect();
        codes.sort();
        codes.dedup();
        for code in codes {
            let servers: Vec<String> =
                failing.iter().filter(|(_, c)| *c == code).map(|(s, _)| describe(s, code)).collect();
            findings.push(f(code, Severity::Fail, named(&servers, "; ", MAX_NAMED)));
        }
    } else if !failing.is_empty() {
        let bad: Vec<String> = failing.iter().map(|(s, c)| format!("{} ({c})", s.server)).collect();
        let good = ev.servers.len() - failing.len();
        let mut message = format!(
            "{} of {} resolvers fail: {}; {good} work",
            failing.len(),
            ev.servers.len(),
            named(&bad, ", ", MAX_NAMED)
        );
        if let Some(wait) = ev.system.as_ref().and_then(|s| s.glibc_wait_s).filter(|&w| w > 0) {
            message.push_str(&format!("; glibc waits {wait} s on silent resolvers before every lookup"));
        }
        findings.push(f(Code::DnsPartial, Severity::Warn, message));
    }
    // NXDOMAIN rewriting: the random label must not exist, so an address for it was made
    // up (a portal, ISP redirection or a filter). From a capture this is judged only for
    // labels recognisably nettriage's random label (other clients' names are unknown).
    let hijacked: Vec<(&ServerResult, IpAddr)> =
        ev.servers.iter().filter_map(|s| hijacked_to(s).map(|ip| (s, ip))).collect();
    if !hijacked.is_empty() {
        let severity = if hijacked.len() == ev.servers.len() { Severity::Fail } else { Severity::Warn };
        let named_servers: Vec<String> = hijacked
            .iter()
            .map(|(s, ip)| {
                let name = s.queries.iter().find(|q| is_hijacked(q)).map(|q| q.name.as_str()).unwrap_or("?");
                format!("{} answers {name} (must not exist) with {ip}", s.server)
            })
            .collect();
        findings.push(f(
            Code::DnsHijacked,
            severity,
            format!(
                "{} of {} resolvers rewrite NXDOMAIN: {}",
                hijacked.len(),
                ev.servers.len(),
                named(&named_servers, "; ", MAX_NAMED)
            ),
        ));
    }
    let local: Vec<String> = ev
        .servers
        .iter()
        .flat_map(|s| s.queries.iter().filter(|q| q.outcome == QueryOutcome::LocalError).map(move |q| (s, q)))
        .map(|(s, q)| format!("{} {} {}: {}", s.server, q.name, q.record_type, q.error.as_deref().unwrap_or("error")))
        .collect();
    if !local.is_empty() {
        findings.push(f(
            Code::ToolCheckError,
            Severity::Warn,
            format!("could not send queries: {}", named(&local, "; ", MAX_NAMED)),
        ));
    }
    // systemd-resolved set to DNS-over-TLS: what it can use over TLS. In strict mode
    // (`yes`) no usable upstream means no name resolves at all: a failure; in
    // `opportunistic` mode it falls back to unencrypted DNS: a warning.
    let dot = ev.system.as_ref().map(|s| s.dot.as_slice()).unwrap_or_default();
    let unusable: Vec<String> = dot
        .iter()
        .filter(|p| !p.outcome.usable(p.mode))
        .map(|p| format!("{} {}", p.server, p.error.as_deref().unwrap_or("failed")))
        .collect();
    if !unusable.is_empty() {
        let strict = dot.iter().any(|p| p.mode == resolv::DotMode::Yes);
        let none_usable = dot.iter().all(|p| !p.outcome.usable(p.mode));
        let (severity, mode) = match (strict, none_usable) {
            (true, true) => (Severity::Fail, "DNSOverTLS=yes: no upstream usable, lookups fail"),
            (true, false) => (Severity::Warn, "DNSOverTLS=yes: some upstreams unusable"),
            (false, _) => (Severity::Warn, "DNSOverTLS=opportunistic: lookups fall back to unencrypted DNS"),
        };
        findings.push(f(
            Code::DnsDotFailed,
            severity,
            format!("{mode}; over TLS on port 853: {}", named(&unusable, "; ", MAX_NAMED)),
        ));
    }
    if source == Source::Live {
        // A server that works but needed retries flaps: the intermittent fault a survey
        // exists to catch, and each lost first attempt cost the user a resolver timeout.
        for s in ev.servers.iter().filter(|s| s.verdict == ServerVerdict::Ok) {
            let retried = s.queries.iter().filter(|q| q.is_response() && q.attempts > 1).count();
            if retried > 0 {
                let asked = s.queries.iter().filter(|q| q.attempts > 0).count();
                let share = s.first_attempt_loss.unwrap_or(retried as f64 / asked.max(1) as f64) * 100.0;
                findings.push(f(
                    Code::DnsFlaky,
                    Severity::Warn,
                    format!(
                        "{} answered {retried} of {asked} queries only on the retry ({share:.0} % of first attempts lost)",
                        s.server
                    ),
                ));
            }
        }
        for s in ev.servers.iter().filter(|s| s.verdict == ServerVerdict::Ok) {
            if let Some(avg) = s.avg_ms
                && avg > settings.slow_ms
            {
                findings.push(f(
                    Code::DnsSlow,
                    Severity::Warn,
                    format!("{} answers in {avg:.0} ms on average (limit {} ms)", s.server, settings.slow_ms),
                ));
            }
        }
    }
    findings
}

/// Whether `q` is the random-label query answered with addresses (NOERROR + records).
fn is_hijacked(q: &QueryResult) -> bool {
    q.cache_buster && q.outcome == QueryOutcome::Answer && !q.answers.is_empty()
}

/// The address a server gave for the random label that must not exist, if it gave one:
/// the server rewrites NXDOMAIN (`dns.hijacked`).
pub fn hijacked_to(s: &ServerResult) -> Option<IpAddr> {
    s.queries.iter().find(|q| is_hijacked(q)).and_then(|q| q.answers.first().copied())
}

fn describe(s: &ServerResult, code: Code) -> String {
    let bad: Vec<&QueryResult> = s
        .queries
        .iter()
        .filter(|q| match code {
            Code::DnsNxdomain => q.outcome == QueryOutcome::Nxdomain && !q.cache_buster,
            Code::DnsTimeout => q.outcome == QueryOutcome::Timeout && q.counts(),
            Code::DnsUnreachable => q.outcome == QueryOutcome::Unreachable && q.counts(),
            Code::DnsServfail => matches!(q.outcome, QueryOutcome::Servfail | QueryOutcome::OtherRcode) && q.counts(),
            Code::DnsMalformed => q.outcome == QueryOutcome::Malformed && q.counts(),
            Code::DnsRefused => q.outcome == QueryOutcome::Refused,
            _ => false,
        })
        .collect();
    let what = match code {
        Code::DnsTimeout => "did not answer".to_string(),
        Code::DnsUnreachable => {
            format!("is unreachable ({})", bad.iter().find_map(|q| q.error.as_deref()).unwrap_or("ICMP unreachable"))
        }
        Code::DnsServfail => "answered SERVFAIL".to_string(),
        Code::DnsMalformed => "answered with messages that do not parse".to_string(),
        Code::DnsRefused => "refused the query".to_string(),
        Code::DnsNxdomain => "says the name does not exist".to_string(),
        _ => code.to_string(),
    };
    let mut names: Vec<String> = Vec::new();
    for q in &bad {
        if !names.contains(&q.name) {
            names.push(q.name.clone());
        }
    }
    let mut text = format!("{} {what} for {}", s.server, named(&names, ", ", MAX_NAMED));
    // From a capture: when, and how many of all the queries it saw.
    if let Some(c) = &s.capture
        && let (Some(first), Some(last)) = (c.first_failure, c.last_failure)
    {
        let span = if first == last { format!("at {first}") } else { format!("from {first} to {last}") };
        text.push_str(&format!(" ({span}; {} of {} queries failed)", c.failed, c.queries_total));
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    fn q(name: &str, outcome: QueryOutcome, ms: Option<f64>, cache_buster: bool) -> QueryResult {
        QueryResult {
            name: name.into(),
            record_type: "A".into(),
            outcome,
            rcode: None,
            answers: vec![],
            ms,
            attempts: 1,
            cache_buster,
            error: None,
            seen: None,
        }
    }

    fn server(ip: &str, queries: Vec<QueryResult>) -> ServerResult {
        server_result(ip.parse().unwrap(), queries, Source::Live)
    }

    fn ev(servers: Vec<ServerResult>) -> DnsEvidence {
        DnsEvidence {
            source: "/etc/resolv.conf".into(),
            stub: None,
            names: vec!["www.site.test".into()],
            cache_buster: "nt-abcdefgh.site.test".into(),
            servers,
            capture: None,
            system: None,
        }
    }

    fn healthy(ip: &str, ms: f64) -> ServerResult {
        server(
            ip,
            vec![
                q("www.site.test", QueryOutcome::Answer, Some(ms), false),
                q("www.site.test", QueryOutcome::NoData, Some(ms), false),
                q("nt-abcdefgh.site.test", QueryOutcome::Nxdomain, Some(ms), true),
            ],
        )
    }

    fn codes(ev: &DnsEvidence) -> Vec<(Code, Severity)> {
        judge(ev, &DnsSettings::default(), Source::Live).iter().map(|f| (f.code, f.severity)).collect()
    }

    fn hijacking(ip: &str) -> ServerResult {
        let mut buster = q("nt-abcdefgh.site.test", QueryOutcome::Answer, Some(1.0), true);
        buster.answers = vec!["198.18.1.99".parse().unwrap()];
        server(ip, vec![q("www.site.test", QueryOutcome::Answer, Some(1.0), false), buster])
    }

    #[test]
    fn a_made_up_address_for_the_random_label_is_dns_hijacked() {
        let bad = hijacking("198.18.0.1");
        assert_eq!(hijacked_to(&bad), Some("198.18.1.99".parse().unwrap()));
        assert_eq!(hijacked_to(&healthy("198.18.0.2", 1.0)), None);
        // One of two servers: a warning; every server: a failure.
        assert_eq!(codes(&ev(vec![bad.clone(), healthy("198.18.0.2", 1.0)])), [(Code::DnsHijacked, Severity::Warn)]);
        assert_eq!(codes(&ev(vec![bad.clone(), hijacking("198.18.0.2")])), [(Code::DnsHijacked, Severity::Fail)]);
        // The same from a capture: the random label is recognisable there too.
        let got: Vec<Code> =
            judge(&ev(vec![bad]), &DnsSettings::default(), Source::Capture).iter().map(|f| f.code).collect();
        assert_eq!(got, [Code::DnsHijacked]);
    }

    #[test]
    fn an_answer_without_addresses_or_for_a_real_name_is_not_hijacking() {
        // NOERROR but no address (NODATA-like) for the random label: not hijacked.
        let empty = server("198.18.0.1", vec![q("nt-abcdefgh.site.test", QueryOutcome::Answer, Some(1.0), true)]);
        assert_eq!(hijacked_to(&empty), None);
        // Addresses for a real name: not hijacked.
        let mut real = q("www.site.test", QueryOutcome::Answer, Some(1.0), false);
        real.answers = vec!["198.18.1.2".parse().unwrap()];
        assert_eq!(hijacked_to(&server("198.18.0.1", vec![real])), None);
    }

    #[test]
    fn a_capture_forgives_retried_queries_and_wants_nxdomain_for_every_name() {
        let seen = |retried| QuerySeen {
            client: "198.18.0.10:40000".parse().unwrap(),
            id: 1,
            at_ms: 0.0,
            answered_on_retry: retried,
            answer_cut: false,
        };
        let mut lost = q("www.site.test", QueryOutcome::Timeout, None, false);
        lost.seen = Some(seen(true));
        let answered = q("www.site.test", QueryOutcome::Answer, Some(1.0), false);
        let ip: IpAddr = "198.18.0.1".parse().unwrap();
        assert_eq!(server_result(ip, vec![lost.clone(), answered.clone()], Source::Capture).verdict, ServerVerdict::Ok);
        lost.seen = Some(seen(false));
        assert_eq!(
            server_result(ip, vec![lost, answered.clone()], Source::Capture).verdict,
            ServerVerdict::Failed(Code::DnsTimeout)
        );

        let nx = q("other.site.test", QueryOutcome::Nxdomain, Some(1.0), false);
        assert_eq!(server_verdict(&[nx.clone(), answered.clone()], Source::Live), Some(Code::DnsNxdomain));
        assert_eq!(server_verdict(&[nx.clone(), answered], Source::Capture), None, "another client's typo");
        assert_eq!(server_verdict(std::slice::from_ref(&nx), Source::Capture), Some(Code::DnsNxdomain));

        // No latency judgement from a capture.
        let slow = ev(vec![healthy("198.18.0.1", 450.0)]);
        assert!(judge(&slow, &DnsSettings::default(), Source::Capture).is_empty());
    }

    #[test]
    fn a_capture_forgives_error_rcodes_retried_and_names_unreadable_answers() {
        let ip: IpAddr = "198.18.0.1".parse().unwrap();
        let seen = |retried| QuerySeen {
            client: "198.18.0.10:40000".parse().unwrap(),
            id: 1,
            at_ms: 0.0,
            answered_on_retry: retried,
            answer_cut: false,
        };
        let answered = q("www.site.test", QueryOutcome::Answer, Some(1.0), false);
        for (outcome, code) in [
            (QueryOutcome::OtherRcode, Code::DnsServfail),
            (QueryOutcome::Servfail, Code::DnsServfail),
            (QueryOutcome::Malformed, Code::DnsMalformed),
        ] {
            let mut failed = q("www.site.test", outcome, Some(1.0), false);
            failed.seen = Some(seen(true));
            assert!(!counts_against(&failed));
            assert_eq!(server_verdict(&[failed.clone(), answered.clone()], Source::Capture), None, "{outcome:?}");
            failed.seen = Some(seen(false));
            assert!(counts_against(&failed));
            assert_eq!(server_verdict(&[failed, answered.clone()], Source::Capture), Some(code), "{outcome:?}");
        }
        // A malformed answer is judged before error rcodes, after silence.
        let malformed = q("www.site.test", QueryOutcome::Malformed, Some(1.0), false);
        let servfail = q("www.site.test", QueryOutcome::Servfail, Some(1.0), false);
        let timeout = q("www.site.test", QueryOutcome::Timeout, None, false);
        assert_eq!(server_verdict(&[servfail.clone(), malformed.clone()], Source::Live), Some(Code::DnsMalformed));
        assert_eq!(server_verdict(&[malformed, timeout], Source::Live), Some(Code::DnsTimeout));
        let e =
            ev(vec![server_result(ip, vec![q("x.test", QueryOutcome::Malformed, Some(1.0), false)], Source::Capture)]);
        assert_eq!(codes(&e), [(Code::DnsMalformed, Severity::Fail)]);
        assert!(!counts_against(&answered) && counts_against(&servfail));
    }

    #[test]
    fn resolv_conf_parsing() {
        let text = b"# comment\nsearch corp.example\nnameserver 198.18.0.1\nnameserver 2001:db8::53\nnameserver bogus\nnameserver 198.18.0.1\n";
        let d = resolv::assemble(&ResolverPaths::default(), Ok(resolv::parse_resolv_conf(text, &|_| None)), None, None);
        let servers: Vec<IpAddr> = d.servers_to_test().iter().map(|(ns, _)| ns.ip).collect();
        assert_eq!(servers, ["198.18.0.1".parse::<IpAddr>().unwrap(), "2001:db8::53".parse().unwrap()]);
        assert!(resolv::parse_resolv_conf(b"", &|_| None).nameservers.is_empty());
        assert!(resolv::parse_resolv_conf(&[0xff, 0xfe, 0x00], &|_| None).nameservers.is_empty());
    }

    fn discovery(conf: &str, resolved: Option<&str>) -> Discovery {
        let parse = |t: &str| resolv::parse_resolv_conf(t.as_bytes(), &|n| (n == "eth0").then_some(2));
        resolv::assemble(&ResolverPaths::default(), Ok(parse(conf)), resolved.map(|t| parse(t).nameservers), None)
    }

    fn notice_codes(d: &Discovery) -> Vec<Code> {
        notices(d).iter().map(|n| n.code).collect()
    }

    #[test]
    fn notices_name_defaults_ignored_servers_unknown_stubs_and_zones() {
        assert!(notice_codes(&discovery("nameserver 198.18.0.1\n", None)).is_empty());
        assert_eq!(notice_codes(&discovery("", None)), [Code::DnsDefaultServer, Code::DnsStubUpstreamsUnknown]);
        let err = resolv::ResolvError::Read { path: "/x".into(), source: std::io::ErrorKind::NotFound.into() };
        let missing = resolv::assemble(&ResolverPaths::default(), Err(err), None, None);
        assert_eq!(notices(&missing)[0].code, Code::DnsDefaultServer);
        let four = "nameserver 198.18.0.1\nnameserver 198.18.0.2\nnameserver 198.18.0.3\nnameserver 198.18.0.4\n";
        assert_eq!(notice_codes(&discovery(four, None)), [Code::DnsIgnoredServers]);
        assert_eq!(notice_codes(&discovery("nameserver 127.0.0.11\n", None)), [Code::DnsStubUpstreamsUnknown]);
        assert!(notice_codes(&discovery("nameserver 127.0.0.53\n", Some("nameserver 198.18.0.1\n"))).is_empty());
        assert_eq!(notice_codes(&discovery("nameserver fe80::1%wlan9\n", None)), [Code::DnsZoneUnknown]);
        assert!(notice_codes(&discovery("nameserver fe80::1%eth0\n", None)).is_empty());
        let mut dot = discovery("nameserver 127.0.0.53\n", Some("nameserver 198.18.0.1\n"));
        dot.system[0].stub.as_mut().unwrap().dns_over_tls = Some(resolv::DotMode::Yes);
        assert_eq!(notice_codes(&dot), [Code::DnsDotNotProbed]);
        dot.system[0].stub.as_mut().unwrap().dns_over_tls = Some(resolv::DotMode::No);
        assert!(notice_codes(&dot).is_empty());
    }

    #[test]
    fn the_stub_and_its_upstream_file_are_the_source() {
        let d = discovery("nameserver 127.0.0.53\n", Some("nameserver 198.18.0.1\n"));
        let (source, stub) = source_and_stub(&d);
        assert_eq!(source, "/run/systemd/resolve/resolv.conf");
        assert_eq!(stub, Some("127.0.0.53".parse().unwrap()));
        let d = discovery("nameserver 198.18.0.2\nnameserver 127.0.0.53\n", Some("nameserver 198.18.0.1\n"));
        assert_eq!(source_and_stub(&d), ("/etc/resolv.conf".into(), Some("127.0.0.53".parse().unwrap())));
        assert_eq!(source_and_stub(&discovery("nameserver 198.18.0.2\n", None)), ("/etc/resolv.conf".into(), None));
    }

    #[test]
    fn glibc_waits_timeout_per_silent_resolver_before_the_first_working_one() {
        let dead = |ip: &str| server(ip, vec![q("www.site.test", QueryOutcome::Timeout, None, false)]);
        let refused = |ip: &str| server(ip, vec![q("www.site.test", QueryOutcome::Unreachable, None, false)]);
        let three =
            "options timeout:2 attempts:3\nnameserver 198.18.0.1\nnameserver 198.18.0.2\nnameserver 198.18.0.3\n";
        let d = discovery(three, None);
        let servers = vec![dead("198.18.0.1"), refused("198.18.0.2"), healthy("198.18.0.3", 1.0)];
        assert_eq!(glibc_waits(&d, &servers), (Some(2), 18));
        let servers = vec![healthy("198.18.0.1", 1.0), dead("198.18.0.2"), dead("198.18.0.3")];
        assert_eq!(glibc_waits(&d, &servers), (Some(0), 18));
        let servers = vec![dead("198.18.0.1"), dead("198.18.0.2"), dead("198.18.0.3")];
        assert_eq!(glibc_waits(&d, &servers), (None, 18));
        let rotate = discovery(&format!("{three}options rotate\n"), None);
        assert_eq!(glibc_waits(&rotate, &[healthy("198.18.0.1", 1.0)]).0, None);
        // The partial finding says what glibc waits.
        let mut e = ev(vec![dead("198.18.0.1"), refused("198.18.0.2"), healthy("198.18.0.3", 1.0)]);
        let (wait, give_up) = glibc_waits(&d, &e.servers);
        assert_eq!(wait, Some(2));
        e.system = Some(Box::new(SystemView {
            resolvers: d,
            tested: vec![],
            glibc_wait_s: wait,
            glibc_give_up_s: give_up,
            notices: vec![],
            resolvectl: None,
            dot: vec![],
        }));
        assert_eq!(codes(&e), [(Code::DnsPartial, Severity::Warn)]);
        let json = serde_json::to_value(&e).unwrap();
        let back: DnsEvidence = serde_json::from_value(json).unwrap();
        assert_eq!(back, e, "the system view round-trips");
    }

    #[test]
    fn cache_buster_is_random_under_the_zone() {
        let a = cache_buster("www.site.test");
        assert!(a.starts_with("nt-") && a.ends_with(".site.test") && a.len() == "nt-abcdefgh.site.test".len());
        assert_ne!(a, cache_buster("www.site.test"));
        assert!(cache_buster("example.com").ends_with(".example.com"));
    }

    #[test]
    fn healthy_servers_pass_and_nxdomain_for_the_random_label_is_normal() {
        assert!(codes(&ev(vec![healthy("198.18.0.1", 2.0), healthy("198.18.1.2", 3.0)])).is_empty());
    }

    #[test]
    fn local_errors_are_tool_errors_not_server_faults() {
        let mut local = q("www.site.test", QueryOutcome::LocalError, None, false);
        local.error = Some("cannot open UDP socket".into());
        let s = server("198.18.0.1", vec![local, q("www.site.test", QueryOutcome::Answer, Some(1.0), false)]);
        assert_eq!(s.verdict, ServerVerdict::Ok);
        assert_eq!(codes(&ev(vec![s])), [(Code::ToolCheckError, Severity::Warn)]);
    }

    #[test]
    fn all_servers_failing_names_each_failure() {
        let timeout = |ip| server(ip, vec![q("www.site.test", QueryOutcome::Timeout, None, false)]);
        assert_eq!(
            codes(&ev(vec![timeout("198.18.0.1"), timeout("198.18.0.2")])),
            [(Code::DnsTimeout, Severity::Fail)]
        );
        let servfail = server("198.18.0.1", vec![q("www.site.test", QueryOutcome::Servfail, Some(1.0), false)]);
        let refused = server("198.18.0.2", vec![q("www.site.test", QueryOutcome::Refused, Some(1.0), false)]);
        assert_eq!(
            codes(&ev(vec![servfail, refused])),
            [(Code::DnsServfail, Severity::Fail), (Code::DnsRefused, Severity::Fail)]
        );
        let nx = server("198.18.0.1", vec![q("www.site.test", QueryOutcome::Nxdomain, Some(1.0), false)]);
        assert_eq!(codes(&ev(vec![nx])), [(Code::DnsNxdomain, Severity::Fail)]);
        let unreach = server("198.18.0.1", vec![q("www.site.test", QueryOutcome::Unreachable, None, false)]);
        assert_eq!(codes(&ev(vec![unreach])), [(Code::DnsUnreachable, Severity::Fail)]);
    }

    #[test]
    fn per_link_dns_over_tls_from_resolvectl_decides_what_is_probed() {
        let d = discovery("nameserver 127.0.0.53\n", Some("nameserver 198.18.0.1\nnameserver 198.18.0.2\n"));
        assert!(dot_upstreams(&d, &[]).is_empty(), "no mode anywhere: nothing to probe");
        let links = resolv::parse_resolvectl_status(
            "Global\n  Protocols: -DNSOverTLS\nLink 2 (eth0)\n  Protocols: +DefaultRoute +DNSOverTLS\n  DNS Servers: 198.18.0.1\n",
        );
        assert_eq!(dot_upstreams(&d, &links), [("198.18.0.1".parse().unwrap(), resolv::DotMode::Yes)]);
    }

    #[test]
    fn dns_over_tls_that_resolved_cannot_use_is_a_finding() {
        use resolv::DotMode::{Opportunistic, Yes};
        let probe =
            |mode, outcome| DotProbe { server: "198.18.0.1".parse().unwrap(), mode, outcome, ms: None, error: None };
        let with = |dot: Vec<DotProbe>| {
            let mut e = ev(vec![healthy("198.18.0.1", 1.0)]);
            let d = discovery("nameserver 198.18.0.1\n", None);
            e.system = Some(Box::new(SystemView {
                resolvers: d,
                tested: vec![],
                glibc_wait_s: None,
                glibc_give_up_s: 10,
                notices: vec![],
                resolvectl: None,
                dot,
            }));
            codes(&e)
        };
        assert!(with(vec![probe(Yes, DotOutcome::Answer)]).is_empty());
        assert_eq!(with(vec![probe(Yes, DotOutcome::Refused)]), [(Code::DnsDotFailed, Severity::Fail)]);
        assert_eq!(with(vec![probe(Yes, DotOutcome::Untrusted)]), [(Code::DnsDotFailed, Severity::Fail)]);
        assert_eq!(
            with(vec![probe(Yes, DotOutcome::Timeout), probe(Yes, DotOutcome::Answer)]),
            [(Code::DnsDotFailed, Severity::Warn)]
        );
        // Opportunistic: an unvalidated certificate is fine, nothing on 853 falls back.
        assert!(with(vec![probe(Opportunistic, DotOutcome::Untrusted)]).is_empty());
        assert_eq!(with(vec![probe(Opportunistic, DotOutcome::Refused)]), [(Code::DnsDotFailed, Severity::Warn)]);
    }

    #[test]
    fn a_server_that_answers_only_on_the_retry_is_flaky() {
        let retried = |name: &str| QueryResult { attempts: 2, ..q(name, QueryOutcome::Answer, Some(0.3), false) };
        let queries = vec![
            retried("www.site.test"),
            q("www.site.test", QueryOutcome::NoData, Some(0.3), false),
            q("nt-abcdefgh.site.test", QueryOutcome::Nxdomain, Some(0.3), true),
            q("www.site.test", QueryOutcome::Answer, Some(0.3), false),
        ];
        let s = server_result("198.18.0.1".parse().unwrap(), queries, Source::Live);
        assert_eq!((s.verdict, s.first_attempt_loss), (ServerVerdict::Ok, Some(0.25)));
        assert_eq!(codes(&ev(vec![s.clone()])), [(Code::DnsFlaky, Severity::Warn)]);
        // From a capture a retry is forgiven, and there is no first-attempt share.
        let c = server_result("198.18.0.1".parse().unwrap(), s.queries.clone(), Source::Capture);
        assert_eq!(c.first_attempt_loss, None);
        assert!(judge(&ev(vec![c]), &DnsSettings::default(), Source::Capture).is_empty());
        // Every first attempt answered: no loss, no finding.
        let fine = server_result(
            "198.18.0.1".parse().unwrap(),
            vec![q("a.test", QueryOutcome::Answer, Some(1.0), false)],
            Source::Live,
        );
        assert_eq!(fine.first_attempt_loss, Some(0.0));
        assert!(codes(&ev(vec![fine])).is_empty());
    }

    #[test]
    fn one_dead_resolver_is_partial_and_slow_is_a_warning() {
        let dead = server("198.18.0.2", vec![q("www.site.test", QueryOutcome::Timeout, None, false)]);
        assert_eq!(codes(&ev(vec![healthy("198.18.0.1", 2.0), dead])), [(Code::DnsPartial, Severity::Warn)]);
        assert_eq!(codes(&ev(vec![healthy("198.18.0.1", 450.0)])), [(Code::DnsSlow, Severity::Warn)]);
        assert_eq!(codes(&ev(vec![])), [(Code::DnsNoServers, Severity::Fail)]);
    }

    /// Replays the lab's recorded answers from dnsmasq through the same parse and classify
    /// path as a live query.
    fn replay(file: &str) -> Vec<(String, QueryOutcome, Vec<IpAddr>)> {
        let path = format!("{}/captures/{file}", env!("CARGO_MANIFEST_DIR"));
        crate::pcap::read_file(path)
            .unwrap()
            .iter()
            .filter_map(|f| crate::pcap::udp_datagram(&f.data))
            .filter(|d| d.src.port() == 53)
            .map(|d| {
                let id = u16::from_be_bytes([d.payload[0], d.payload[1]]);
                let msg = parse_response(&d.payload, id).expect("a DNS response");
                let q = &msg.queries[0];
                let (outcome, answers) = classify(&msg, q.query_type());
                (q.name().to_string(), outcome, answers)
            })
            .collect()
    }

    #[test]
    fn replays_healthy_lab_answers() {
        let got = replay("lab_healthy.pcap");
        assert_eq!(got.len(), 3);
        assert_eq!(got[0], ("www.site.test.".into(), QueryOutcome::Answer, vec!["198.18.1.2".parse().unwrap()]));
        assert_eq!((got[1].0.as_str(), got[1].1), ("www.site.test.", QueryOutcome::NoData));
        assert!(got[2].0.starts_with("nt-"));
        assert_eq!(got[2].1, QueryOutcome::Nxdomain);
    }

    #[test]
    fn query_encodes_and_foreign_datagrams_are_rejected() {
        let name = Name::from_ascii("www.site.test.").unwrap();
        let bytes = build_query(0x1234, &name, RecordType::A).to_vec().unwrap();
        // Our own query is not a response.
        assert!(parse_response(&bytes, 0x1234).is_none());
        assert!(parse_response(&[], 1).is_none());
        assert!(parse_response(&[0xff; 11], 1).is_none());
    }
}
