//! The I/O half of the `ad` profile: the SRV lookups, the DCs' addresses, and the probes
//! of each DC (TCP ports, LDAP rootDSE, Kerberos AS-REQ over UDP and TCP), all bounded by
//! `[profiles.ad] timeout_ms` per phase and by the run's cutoff.
//!
//! Neighbours: `src/check/ad.rs` holds the evidence types and the pure judge this fills
//! and calls; [`super::ldap`] and [`super::kerberos`] build and read the messages; DNS
//! messages are hickory's, as in `src/check/dns.rs`, whose [`dns::system_servers`] says
//! which resolvers the system uses.

use std::net::{IpAddr, SocketAddr};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use hickory_proto::op::{Message, ResponseCode};
use hickory_proto::rr::{Name, RData, RecordType};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpStream, UdpSocket};

use super::kerberos::{self, KdcReply};
use super::ldap::{self, LdapMessage, RootDse};
use super::{
    AdEvidence, ClockReading, ClockSource, DC_PORTS, DcOrigin, DcProbe, KerberosProbe, LdapProbe, Lookup,
    LookupOutcome, PortProbe, ProbeState, SrvKind, SrvRecord, Transport, asn1, choose_domain, judge, judged_clock,
};
use crate::check::{CheckContext, CheckError, Outcome, dns};
use crate::platform::resolv;
use crate::report::{Evidence, SkipReason};
use crate::types::millis;

/// Most bytes read from one LDAP connection.
const MAX_LDAP_BYTES: usize = 2 * ldap::MAX_MESSAGE;

/// Runs the profile's probes and judges them.
pub async fn run(ctx: &CheckContext<'_>) -> Result<Outcome, CheckError> {
    let settings = &ctx.config.profiles.ad;
    let search = match resolv::read_resolv_conf(&ctx.config.dns.resolv_conf, &|_| None) {
        Ok(conf) => conf.search,
        Err(e) => {
            tracing::debug!(error = %e, "ad: resolv.conf unreadable, no search domain");
            Vec::new()
        }
    };
    let Some((domain, domain_source)) = choose_domain(settings, &search) else {
        return Ok(Outcome::Skipped {
            code: SkipReason::NoTargets,
            reason: "no domain to test: set `[profiles.ad] domain`, or a search domain in resolv.conf (DHCP option 15)"
                .into(),
            blocked_by: None,
            evidence: Evidence::None,
        });
    };
    let timeout = Duration::from_millis(settings.timeout_ms);
    let cutoff = ctx.cutoff();
    let phase_end = || (Instant::now() + timeout).min(cutoff);
    let resolvers = dns::system_servers(&ctx.config.dns);

    // Phase 1: the SRV records and the domain's SOA.
    let mut asked: Vec<(String, SrvKind)> = Vec::new();
    if let Some(site) = &settings.site {
        asked.push((format!("_ldap._tcp.{site}._sites.dc._msdcs.{domain}"), SrvKind::SiteDc));
    }
    asked.push((format!("_ldap._tcp.dc._msdcs.{domain}"), SrvKind::Dc));
    asked.push((format!("_kerberos._tcp.{domain}"), SrvKind::Kerberos));
    asked.push((format!("_gc._tcp.{domain}"), SrvKind::Gc));
    let end = phase_end();
    let srv_lookups = futures::future::join_all(
        asked.iter().map(|(name, kind)| lookup(&resolvers, name.clone(), RecordType::SRV, Some(*kind), end)),
    );
    let (srv_results, soa) = tokio::join!(srv_lookups, lookup(&resolvers, domain.clone(), RecordType::SOA, None, end));

    let mut extra_addresses: Vec<(String, IpAddr)> = Vec::new();
    let mut candidates: Vec<(String, DcOrigin)> = Vec::new();
    let mut lookups = Vec::new();
    for result in srv_results {
        extra_addresses.extend(result.additional);
        let l = result.lookup;
        if matches!(l.kind, Some(SrvKind::SiteDc | SrvKind::Dc | SrvKind::Kerberos)) {
            let mut records = l.records.clone();
            records.sort_by(|a, b| a.priority.cmp(&b.priority).then(b.weight.cmp(&a.weight)));
            candidates.extend(records.into_iter().map(|r| (r.target, DcOrigin::Srv)));
        }
        lookups.push(l);
    }
    lookups.push(soa.lookup);
    candidates.extend(settings.dcs.iter().map(|d| (d.trim_end_matches('.').to_string(), DcOrigin::Config)));
    let mut dcs_wanted: Vec<(String, DcOrigin)> = Vec::new();
    for (name, origin) in candidates {
        if !name.is_empty() && !dcs_wanted.iter().any(|(n, _)| n.eq_ignore_ascii_case(&name)) {
            dcs_wanted.push((name, origin));
        }
    }
    dcs_wanted.truncate(settings.max_dcs);

    // Phase 2: the DCs' addresses.
    let end = phase_end();
    let addressed = futures::future::join_all(dcs_wanted.into_iter().map(|(name, origin)| {
        let known: Vec<IpAddr> =
            extra_addresses.iter().filter(|(n, _)| n.eq_ignore_ascii_case(&name)).map(|(_, ip)| *ip).collect();
        let resolvers = &resolvers;
        async move {
            if let Ok(ip) = name.parse::<IpAddr>() {
                return (name, origin, Some(ip), Vec::new());
            }
            if let Some(ip) = known.iter().find(|ip| ip.is_ipv4()).or(known.first()) {
                return (name, origin, Some(*ip), Vec::new());
            }
            let a = lookup(resolvers, name.clone(), RecordType::A, None, end).await;
            let mut made = vec![a.lookup];
            let mut address = a.answers.first().copied();
            if address.is_none() {
                let aaaa = lookup(resolvers, name.clone(), RecordType::AAAA, None, end).await;
                address = aaaa.answers.first().copied();
                made.push(aaaa.lookup);
            }
            (name, origin, address, made)
        }
    }))
    .await;

    // Phase 3: every DC at once.
    let end = phase_end();
    let realm = domain.to_ascii_uppercase();
    let mut dcs_to_probe = Vec::new();
    for (name, origin, address, made) in addressed {
        lookups.extend(made);
        dcs_to_probe.push((name, origin, address));
    }
    let dcs = futures::future::join_all(
        dcs_to_probe.into_iter().map(|(name, origin, address)| probe_dc(name, origin, address, &realm, end)),
    )
    .await;

    let clock = judged_clock(&dcs);
    let ev = AdEvidence { domain, domain_source, site: settings.site.clone(), resolvers, lookups, dcs, clock };
    Ok(Outcome::Ran { findings: judge(&ev, settings), evidence: Evidence::Ad(Box::new(ev)) })
}

/// A lookup and what else its answer carried.
struct LookupResult {
    lookup: Lookup,
    /// A/AAAA answers (address lookups).
    answers: Vec<IpAddr>,
    /// A/AAAA records of the additional section, by owner name (SRV lookups).
    additional: Vec<(String, IpAddr)>,
}

/// Asks the resolvers in order, as glibc does: the next only when one does not answer,
/// refuses or fails; each gets an equal share of the time left.
async fn lookup(
    resolvers: &[IpAddr],
    name: String,
    rtype: RecordType,
    kind: Option<SrvKind>,
    end: Instant,
) -> LookupResult {
    let mut result = LookupResult {
        lookup: Lookup { name: name.clone(), record_type: rtype.to_string(), kind, ..Lookup::default() },
        answers: Vec::new(),
        additional: Vec::new(),
    };
    let Ok(qname) = Name::from_ascii(format!("{name}.")) else {
        result.lookup.outcome = LookupOutcome::Error;
        result.lookup.error = Some(format!("`{name}` cannot be encoded as a DNS name"));
        return result;
    };
    if resolvers.is_empty() {
        result.lookup.outcome = LookupOutcome::Error;
        result.lookup.error = Some("no resolver known (resolv.conf has no usable nameserver)".into());
        return result;
    }
    for (i, server) in resolvers.iter().enumerate() {
        let left = end.saturating_duration_since(Instant::now());
        if left.is_zero() {
            break;
        }
        let share = left / u32::try_from(resolvers.len() - i).unwrap_or(1);
        result.lookup.server = Some(*server);
        match exchange(SocketAddr::new(*server, 53), &qname, rtype, Instant::now() + share).await {
            Ok(msg) => {
                read_answer(&msg, rtype, &mut result);
                if !matches!(
                    result.lookup.outcome,
                    LookupOutcome::Refused | LookupOutcome::Servfail | LookupOutcome::OtherRcode
                ) {
                    return result;
                }
            }
            Err(DnsFailure::Timeout) => result.lookup.outcome = LookupOutcome::Timeout,
            Err(DnsFailure::Local(e)) => {
                result.lookup.outcome = LookupOutcome::Error;
                result.lookup.error = Some(e);
            }
        }
    }
    result
}

/// Folds a response into `result` (its outcome, records and addresses).
fn read_answer(msg: &Message, rtype: RecordType, result: &mut LookupResult) {
    let l = &mut result.lookup;
    l.error = None;
    l.records.clear();
    result.answers.clear();
    result.additional.clear();
    let mut any = false;
    for r in &msg.answers {
        match (&r.data, rtype) {
            (RData::SRV(srv), RecordType::SRV) => {
                any = true;
                let target = srv.target.to_ascii().trim_end_matches('.').to_string();
                // A target of "." means "no such service here" (RFC 2782).
                if !target.is_empty() {
                    l.records.push(SrvRecord { target, port: srv.port, priority: srv.priority, weight: srv.weight });
                }
            }
            (RData::SOA(_), RecordType::SOA) => any = true,
            (RData::A(a), RecordType::A) => {
                any = true;
                result.answers.push(IpAddr::V4(a.0));
            }
            (RData::AAAA(a), RecordType::AAAA) => {
                any = true;
                result.answers.push(IpAddr::V6(a.0));
            }
            _ => {}
        }
    }
    for r in &msg.additionals {
        let owner = r.name.to_ascii().trim_end_matches('.').to_string();
        match &r.data {
            RData::A(a) => result.additional.push((owner, IpAddr::V4(a.0))),
            RData::AAAA(a) => result.additional.push((owner, IpAddr::V6(a.0))),
            _ => {}
        }
    }
    l.outcome = match msg.metadata.response_code {
        ResponseCode::NoError if any => LookupOutcome::Answer,
        ResponseCode::NoError => LookupOutcome::NoData,
        ResponseCode::NXDomain => LookupOutcome::Nxdomain,
        ResponseCode::Refused => LookupOutcome::Refused,
        ResponseCode::ServFail => LookupOutcome::Servfail,
        _ => LookupOutcome::OtherRcode,
    };
}

enum DnsFailure {
    Timeout,
    Local(String),
}

/// One UDP query; stray datagrams are ignored until `until`. An ICMP error counts as no
/// answer from this server (the next one is asked).
async fn exchange(server: SocketAddr, name: &Name, rtype: RecordType, until: Instant) -> Result<Message, DnsFailure> {
    let bind: SocketAddr = if server.is_ipv4() { ([0, 0, 0, 0], 0).into() } else { ([0u16; 8], 0).into() };
    let socket =
        UdpSocket::bind(bind).await.map_err(|e| DnsFailure::Local(format!("cannot open a UDP socket: {e}")))?;
    socket.connect(server).await.map_err(|_| DnsFailure::Timeout)?;
    let id: u16 = rand::random();
    let bytes = dns::build_query(id, name, rtype).to_vec().map_err(|e| DnsFailure::Local(e.to_string()))?;
    socket.send(&bytes).await.map_err(|_| DnsFailure::Timeout)?;
    let mut buf = vec![0u8; 4096];
    loop {
        match tokio::time::timeout_at(until.into(), socket.recv(&mut buf)).await {
            Err(_) | Ok(Err(_)) => return Err(DnsFailure::Timeout),
            Ok(Ok(len)) => {
                if let Some(msg) = dns::parse_response(&buf[..len], id) {
                    return Ok(msg);
                }
            }
        }
    }
}

/// Probes one DC: its ports, LDAP and Kerberos, at once.
async fn probe_dc(name: String, origin: DcOrigin, address: Option<IpAddr>, realm: &str, end: Instant) -> DcProbe {
    let mut dc = DcProbe { name, address, origin, ..DcProbe::default() };
    let Some(ip) = address else { return dc };
    let ports = futures::future::join_all(DC_PORTS.iter().map(|p| port_probe(SocketAddr::new(ip, *p), end)));
    let principal = format!("nettriage-probe-{:016x}", rand::random::<u64>());
    let req = kerberos::as_req(realm, &principal, rand::random());
    let (ports, (ldap, ldap_time), (udp, udp_time), (tcp, tcp_time)) = tokio::join!(
        ports,
        ldap_probe(SocketAddr::new(ip, 389), end),
        kerberos_udp(SocketAddr::new(ip, 88), &req, end),
        kerberos_tcp(SocketAddr::new(ip, 88), &req, end),
    );
    if let Some(offset_ms) = udp_time.or(tcp_time) {
        dc.clock.push(ClockReading { dc: dc.name.clone(), source: ClockSource::Kerberos, offset_ms });
    }
    if let Some(offset_ms) = ldap_time {
        dc.clock.push(ClockReading { dc: dc.name.clone(), source: ClockSource::Ldap, offset_ms });
    }
    dc.ports = ports;
    dc.ldap = ldap;
    dc.kerberos = vec![udp, tcp];
    dc
}

/// Milliseconds since the Unix epoch.
fn unix_ms(t: SystemTime) -> f64 {
    match t.duration_since(UNIX_EPOCH) {
        Ok(d) => d.as_secs_f64() * 1000.0,
        Err(e) => -(e.duration().as_secs_f64() * 1000.0),
    }
}

/// The DC's time minus ours at the midpoint of the exchange, milliseconds.
fn offset_ms(dc_ms: i64, sent: SystemTime, received: SystemTime) -> f64 {
    let mid = (unix_ms(sent) + unix_ms(received)) / 2.0;
    ((dc_ms as f64 - mid) * 1000.0).round() / 1000.0
}

fn io_state(e: &std::io::Error) -> ProbeState {
    use std::io::ErrorKind as K;
    match e.kind() {
        K::ConnectionRefused | K::HostUnreachable | K::NetworkUnreachable => ProbeState::Refused,
        K::UnexpectedEof | K::ConnectionReset | K::ConnectionAborted | K::BrokenPipe => ProbeState::Closed,
        K::TimedOut => ProbeState::Timeout,
        _ => ProbeState::Error,
    }
}

async fn connect(addr: SocketAddr, end: Instant) -> Result<TcpStream, ProbeState> {
    if Instant::now() >= end {
        return Err(ProbeState::Error);
    }
    match tokio::time::timeout_at(end.into(), TcpStream::connect(addr)).await {
        Ok(Ok(s)) => Ok(s),
        Ok(Err(e)) => Err(io_state(&e)),
        Err(_) => Err(ProbeState::Timeout),
    }
}

async fn port_probe(addr: SocketAddr, end: Instant) -> PortProbe {
    let start = Instant::now();
    let state = match connect(addr, end).await {
        Ok(_) => ProbeState::Ok,
        Err(s) => s,
    };
    let ms = (state != ProbeState::Error).then(|| millis(start.elapsed()));
    PortProbe { port: addr.port(), state, ms }
}

/// The rootDSE read; also the clock offset from `currentTime`.
async fn ldap_probe(addr: SocketAddr, end: Instant) -> (LdapProbe, Option<f64>) {
    let start = Instant::now();
    let mut probe = LdapProbe::default();
    let mut stream = match connect(addr, end).await {
        Ok(s) => s,
        Err(state) => {
            probe.state = state;
            return (probe, None);
        }
    };
    let id: i32 = 1 + (rand::random::<u16>() as i32);
    let sent = SystemTime::now();
    let deadline = end.into();
    match tokio::time::timeout_at(deadline, stream.write_all(&ldap::rootdse_request(id))).await {
        Ok(Ok(())) => {}
        Ok(Err(e)) => {
            probe.state = io_state(&e);
            probe.error = Some(format!("cannot send the search to {addr}: {e}"));
            return (probe, None);
        }
        Err(_) => return (probe, None),
    }
    let mut buf: Vec<u8> = Vec::with_capacity(4096);
    let mut chunk = vec![0u8; 8192];
    let mut offset = None;
    loop {
        // Every complete message in the buffer first.
        loop {
            let len = match ldap::frame_len(&buf) {
                Ok(Some(len)) if buf.len() >= len => len,
                Ok(_) => break,
                Err(e) => return (malformed(probe, &e), offset),
            };
            let message: Vec<u8> = buf.drain(..len).collect();
            match ldap::decode_message(&message) {
                Ok((msg_id, _)) if msg_id != i64::from(id) => {}
                Ok((_, LdapMessage::Entry(dse))) => {
                    probe.ms = Some(millis(start.elapsed()));
                    offset = rootdse_offset(&dse, sent, SystemTime::now());
                    probe.rootdse = Some(dse);
                }
                Ok((_, LdapMessage::Done(code))) => {
                    probe.ms.get_or_insert(millis(start.elapsed()));
                    if probe.rootdse.is_some() {
                        probe.state = ProbeState::Ok;
                    } else {
                        probe.state = ProbeState::Malformed;
                        probe.error = Some(format!("the search ended with resultCode {code} and no entry"));
                    }
                    return (probe, offset);
                }
                Ok((_, LdapMessage::Other(op))) => {
                    probe.state = ProbeState::Malformed;
                    probe.error = Some(format!("unexpected LDAP operation [APPLICATION {op}]"));
                    return (probe, offset);
                }
                Err(e) => return (malformed(probe, &e), offset),
            }
        }
        if buf.len() > MAX_LDAP_BYTES {
            probe.state = ProbeState::Malformed;
            probe.error = Some("reply too long".into());
            return (probe, offset);
        }
        match tokio::time::timeout_at(deadline, stream.read(&mut chunk)).await {
            Ok(Ok(0)) => {
                // An entry without the final SearchResultDone still answers the question.
                probe.state = if probe.rootdse.is_some() { ProbeState::Ok } else { ProbeState::Closed };
                return (probe, offset);
            }
            Ok(Ok(n)) => buf.extend_from_slice(&chunk[..n]),
            Ok(Err(e)) => {
                probe.state = if probe.rootdse.is_some() { ProbeState::Ok } else { io_state(&e) };
                return (probe, offset);
            }
            Err(_) => {
                probe.state = if probe.rootdse.is_some() { ProbeState::Ok } else { ProbeState::Timeout };
                return (probe, offset);
            }
        }
    }
}

fn rootdse_offset(dse: &RootDse, sent: SystemTime, received: SystemTime) -> Option<f64> {
    let dc_ms = asn1::generalized_time_ms(dse.current_time.as_deref()?)?;
    Some(offset_ms(dc_ms, sent, received))
}

fn malformed(mut probe: LdapProbe, e: &asn1::DecodeError) -> LdapProbe {
    probe.state = ProbeState::Malformed;
    probe.error = Some(e.to_string());
    probe
}

fn kerberos_result(
    transport: Transport,
    bytes: &[u8],
    start: Instant,
    sent: SystemTime,
) -> (KerberosProbe, Option<f64>) {
    let mut probe = KerberosProbe { transport, ms: Some(millis(start.elapsed())), ..KerberosProbe::default() };
    match kerberos::decode_reply(bytes) {
        Ok(reply) => {
            let offset = match &reply {
                KdcReply::Error { stime_unix_ms: Some(ms), .. } => Some(offset_ms(*ms, sent, SystemTime::now())),
                _ => None,
            };
            probe.state = ProbeState::Ok;
            probe.reply = Some(reply);
            (probe, offset)
        }
        Err(e) => {
            probe.state = ProbeState::Malformed;
            probe.error = Some(e.to_string());
            (probe, None)
        }
    }
}

/// The AS-REQ over UDP: the first datagram back decides.
async fn kerberos_udp(addr: SocketAddr, req: &[u8], end: Instant) -> (KerberosProbe, Option<f64>) {
    let mut probe = KerberosProbe { transport: Transport::Udp, ..KerberosProbe::default() };
    let bind: SocketAddr = if addr.is_ipv4() { ([0, 0, 0, 0], 0).into() } else { ([0u16; 8], 0).into() };
    let socket = match UdpSocket::bind(bind).await {
        Ok(s) => s,
        Err(e) => {
            probe.state = ProbeState::Error;
            probe.error = Some(format!("cannot open a UDP socket: {e}"));
            return (probe, None);
        }
    };
    let start = Instant::now();
    let sent = SystemTime::now();
    if let Err(e) = async {
        socket.connect(addr).await?;
        socket.send(req).await
    }
    .await
    {
        probe.state = io_state(&e);
        probe.error = Some(format!("cannot send to {addr}: {e}"));
        return (probe, None);
    }
    let mut buf = vec![0u8; kerberos::MAX_REPLY];
    match tokio::time::timeout_at(end.into(), socket.recv(&mut buf)).await {
        Ok(Ok(n)) => kerberos_result(Transport::Udp, &buf[..n], start, sent),
        Ok(Err(e)) => {
            probe.state = io_state(&e);
            (probe, None)
        }
        Err(_) => (probe, None),
    }
}

/// The AS-REQ over TCP, length-prefixed.
async fn kerberos_tcp(addr: SocketAddr, req: &[u8], end: Instant) -> (KerberosProbe, Option<f64>) {
    let mut probe = KerberosProbe { transport: Transport::Tcp, ..KerberosProbe::default() };
    let start = Instant::now();
    let mut stream = match connect(addr, end).await {
        Ok(s) => s,
        Err(state) => {
            probe.state = state;
            return (probe, None);
        }
    };
    let sent = SystemTime::now();
    let exchange = async {
        stream.write_all(&kerberos::tcp_frame(req)).await?;
        let mut prefix = [0u8; 4];
        stream.read_exact(&mut prefix).await?;
        let len = kerberos::tcp_len(prefix).map_err(|e| std::io::Error::new(std::io::ErrorKind::InvalidData, e))?;
        let mut body = vec![0u8; len];
        stream.read_exact(&mut body).await?;
        Ok::<Vec<u8>, std::io::Error>(body)
    };
    match tokio::time::timeout_at(end.into(), exchange).await {
        Ok(Ok(body)) => kerberos_result(Transport::Tcp, &body, start, sent),
        Ok(Err(e)) if e.kind() == std::io::ErrorKind::InvalidData => {
            probe.state = ProbeState::Malformed;
            probe.error = Some(e.to_string());
            (probe, None)
        }
        Ok(Err(e)) => {
            probe.state = io_state(&e);
            probe.error = Some(e.to_string());
            (probe, None)
        }
        Err(_) => (probe, None),
    }
}
