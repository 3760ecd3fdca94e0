//! The I/O half of the `printers` profile (the `live` feature): the mDNS browse on the
//! interface's segment, name resolution of configured printers, and per printer an IPP
//! Get-Printer-Attributes over HTTP (hyper's client connection; TLS for `ipps` without
//! checking the certificate, since printers carry self-signed ones and nothing secret is
//! sent) beside TCP connects to 9100 and 515. Every wait is bounded by the profile's
//! timeouts and the run's cutoff; the judging is [`super::judge`]'s.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::Arc;
use std::time::{Duration, Instant};

use http_body_util::{BodyExt, Full, Limited};
use hyper::body::Bytes;
use hyper::header::{CONTENT_TYPE, HOST};
use hyper_util::rt::TokioIo;
use rustls::pki_types::ServerName;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::{TcpStream, UdpSocket};
use tokio::sync::Semaphore;

use super::mdns::{self, Browse};
use super::*;
use crate::check::ports::classify_error;
use crate::check::web::any_cert::AnyCertificate;
use crate::check::{CheckContext, CheckError, Outcome};
use crate::report::{Evidence, SkipReason};
use crate::types::millis;

/// After an answer, the browse ends once this long passes with nothing new and nothing
/// missing: responders answer a legacy unicast query at once (RFC 6762 §6.7), so the
/// rest of the window would only wait for printers that are not there.
const QUIET: Duration = Duration::from_millis(300);

/// Runs the profile's probes and judges them.
pub async fn run(ctx: &CheckContext<'_>) -> Result<Outcome, CheckError> {
    let settings = &ctx.config.profiles.printers;
    let stop_by = ctx.cutoff();
    let timeout = Duration::from_millis(settings.timeout_ms);
    let configured = settings.specs();
    let source_v4 = ctx.interface.and_then(|i| {
        i.addresses.iter().find_map(|a| match a.address {
            IpAddr::V4(v4) if !v4.is_loopback() => Some(v4),
            _ => None,
        })
    });
    let discover = async {
        if !settings.discover {
            return None;
        }
        let window =
            Duration::from_millis(settings.discovery_ms).min(stop_by.saturating_duration_since(Instant::now()));
        Some(browse(source_v4, window).await)
    };
    let resolve = futures::future::join_all(configured.iter().map(|(_, spec)| resolve(&spec.host, timeout, stop_by)));
    let (discovery, resolved) = tokio::join!(discover, resolve);
    let services = discovery.as_ref().map(|d| d.services.clone()).unwrap_or_default();
    let planned = plan(&configured, &resolved, &services);
    if planned.is_empty() {
        let reason = match &discovery {
            Some(d) => match &d.error {
                Some(e) => format!("no printer configured, and the mDNS browse failed: {e}"),
                None => "no printer configured and none advertised over mDNS on this segment".into(),
            },
            None => "no printer configured (`[profiles.printers] printers`) and discovery is off".into(),
        };
        let ev = PrintersEvidence { discovery, printers: Vec::new() };
        return Ok(Outcome::Skipped {
            code: SkipReason::NoTargets,
            reason,
            blocked_by: None,
            evidence: Evidence::Printers(Box::new(ev)),
        });
    }
    let limit = Arc::new(Semaphore::new(settings.concurrency.max(1)));
    let probes = planned.into_iter().map(|(printer, endpoint)| {
        let limit = Arc::clone(&limit);
        async move {
            let _permit = limit.acquire().await.ok();
            probe(printer, endpoint, timeout, stop_by).await
        }
    });
    let printers = futures::future::join_all(probes).await;
    let ev = PrintersEvidence { discovery, printers };
    Ok(Outcome::Ran { findings: judge(&ev, settings), evidence: Evidence::Printers(Box::new(ev)) })
}

/// The first address of `host` (an address as is, a name through the system's resolver).
async fn resolve(host: &str, timeout: Duration, stop_by: Instant) -> Result<IpAddr, String> {
    if let Ok(ip) = host.parse::<IpAddr>() {
        return Ok(ip);
    }
    let timeout = timeout.min(stop_by.saturating_duration_since(Instant::now()));
    match tokio::time::timeout(timeout, tokio::net::lookup_host((host, 0))).await {
        Ok(Ok(mut addrs)) => addrs.next().map(|a| a.ip()).ok_or_else(|| "no address".to_string()),
        Ok(Err(e)) => Err(e.to_string()),
        Err(_) => Err("the lookup timed out".into()),
    }
}

/// A UDP socket for the browse, its multicast leaving through the interface of `source`.
fn mdns_socket(source: Ipv4Addr) -> std::io::Result<UdpSocket> {
    let socket = socket2::Socket::new(socket2::Domain::IPV4, socket2::Type::DGRAM, Some(socket2::Protocol::UDP))?;
    socket.set_multicast_if_v4(&source)?;
    // RFC 6762 §11: mDNS packets are sent with TTL 255.
    socket.set_multicast_ttl_v4(255)?;
    socket.set_multicast_loop_v4(false)?;
    socket.bind(&SocketAddr::new(IpAddr::V4(source), 0).into())?;
    socket.set_nonblocking(true)?;
    UdpSocket::from_std(socket.into())
}

/// One DNS-SD browse for printer services within `window`.
async fn browse(source: Option<Ipv4Addr>, window: Duration) -> Discovery {
    let start = Instant::now();
    let mut discovery = Discovery::default();
    let Some(source) = source else {
        discovery.error = Some("the interface has no IPv4 address to send the mDNS query from".into());
        return discovery;
    };
    let socket = match mdns_socket(source) {
        Ok(s) => s,
        Err(e) => {
            discovery.error = Some(format!("mDNS socket on {source}: {e}"));
            return discovery;
        }
    };
    let group = SocketAddr::new(IpAddr::V4(mdns::MDNS_V4), mdns::MDNS_PORT);
    let id: u16 = rand::random();
    let send = |msg: hickory_proto::op::Message| {
        let socket = &socket;
        async move {
            match msg.to_vec() {
                Ok(bytes) => socket.send_to(&bytes, group).await.map(|_| ()),
                Err(e) => Err(std::io::Error::other(e.to_string())),
            }
        }
    };
    if let Err(e) = send(mdns::browse_query(id)).await {
        discovery.error = Some(format!("mDNS query to {group}: {e}"));
        discovery.window_ms = millis(start.elapsed()) as u64;
        return discovery;
    }
    let end = start + window;
    let mut state = Browse::default();
    let mut buf = vec![0u8; 9_000];
    let mut last_news: Option<Instant> = None;
    let mut resolve_sent = false;
    loop {
        let now = Instant::now();
        let missing = mdns::resolve_query(id.wrapping_add(1), &state);
        let until = match next_step(now, end, last_news, missing.is_some(), resolve_sent) {
            Step::Stop => break,
            Step::Resolve => {
                resolve_sent = true;
                if let Some(q) = missing {
                    let _ = send(q).await.inspect_err(|e| tracing::debug!(error = %e, "mDNS resolve query not sent"));
                }
                last_news = Some(now);
                continue;
            }
            Step::Wait(until) => until,
        };
        match tokio::time::timeout(until - now, socket.recv_from(&mut buf)).await {
            Ok(Ok((n, _from))) => {
                if state.add(&buf[..n]) {
                    discovery.responses = discovery.responses.saturating_add(1);
                    last_news = Some(Instant::now());
                }
            }
            Ok(Err(e)) => {
                tracing::debug!(error = %e, "mDNS receive failed");
                break;
            }
            Err(_) => {}
        }
    }
    discovery.services = state.services();
    discovery.window_ms = millis(start.elapsed()) as u64;
    discovery
}

/// What the browse does next.
#[derive(Debug, PartialEq, Eq)]
enum Step {
    /// Send the query for what the answers left out.
    Resolve,
    /// Wait for answers until then.
    Wait(Instant),
    /// The browse is over.
    Stop,
}

/// The browse's timing (pure): before any answer it waits to the window's `end`; after an
/// answer it asks for what is `missing` once things calm down (a third of [`QUIET`]), and
/// ends [`QUIET`] after the last news when nothing more is to be asked.
fn next_step(now: Instant, end: Instant, last_news: Option<Instant>, missing: bool, resolve_sent: bool) -> Step {
    let until = match last_news {
        None => end,
        Some(at) if missing && !resolve_sent => {
            let ask = at + QUIET / 3;
            if now >= ask && now < end {
                return Step::Resolve;
            }
            ask.min(end)
        }
        Some(at) => (at + QUIET).min(end),
    };
    if now >= until { Step::Stop } else { Step::Wait(until) }
}

/// One TCP connect, classified.
async fn connect(address: SocketAddr, timeout: Duration, stop_by: Instant) -> (TcpProbe, Option<TcpStream>) {
    let start = Instant::now();
    let timeout = timeout.min(stop_by.saturating_duration_since(start));
    let (outcome, stream) = match tokio::time::timeout(timeout, TcpStream::connect(address)).await {
        Ok(Ok(s)) => (PortOutcome::Open, Some(s)),
        Ok(Err(e)) => (classify_error(&e), None),
        Err(_) => (PortOutcome::Filtered, None),
    };
    (TcpProbe { port: address.port(), outcome, ms: Some(millis(start.elapsed())) }, stream)
}

/// Probes one printer: IPP (when it has an endpoint), 9100 and 515 at once.
async fn probe(
    mut printer: PrinterResult,
    endpoint: Option<IppEndpoint>,
    timeout: Duration,
    stop_by: Instant,
) -> PrinterResult {
    let Some(address) = printer.address else { return printer };
    let port_probe = |port: u16| async move { connect(SocketAddr::new(address, port), timeout, stop_by).await.0 };
    let ipp = async {
        match &endpoint {
            Some(e) => Some(ipp_request(address, e, timeout, stop_by).await),
            None => None,
        }
    };
    let (ipp, raw, lpd) = tokio::join!(ipp, port_probe(RAW_PORT), port_probe(LPD_PORT));
    printer.ipp = ipp;
    printer.raw = Some(raw);
    printer.lpd = Some(lpd);
    printer
}

/// Get-Printer-Attributes to `endpoint` at `address`, bounded by `timeout` in all.
async fn ipp_request(address: IpAddr, endpoint: &IppEndpoint, timeout: Duration, stop_by: Instant) -> IppProbe {
    let start = Instant::now();
    let uri = endpoint.uri.clone();
    let timeout = timeout.min(stop_by.saturating_duration_since(start));
    let (tcp, stream) = connect(SocketAddr::new(address, endpoint.port), timeout, stop_by).await;
    let Some(stream) = stream else {
        let outcome = match tcp.outcome {
            PortOutcome::Refused => IppOutcome::Refused,
            PortOutcome::Filtered => IppOutcome::Timeout,
            PortOutcome::Unreachable => IppOutcome::Unreachable,
            _ => IppOutcome::Failed,
        };
        return IppProbe::failed(uri, outcome, tcp.ms, None);
    };
    let left = timeout.saturating_sub(start.elapsed());
    let exchange = async {
        if endpoint.tls {
            let connector = tokio_rustls::TlsConnector::from(Arc::new(tls_config()));
            let name = ServerName::IpAddress(address.into());
            match connector.connect(name, stream).await {
                Ok(tls) => post(tls, endpoint).await,
                Err(e) => Err((IppOutcome::TlsFailed, None, e.to_string())),
            }
        } else {
            post(stream, endpoint).await
        }
    };
    let ms = || Some(millis(start.elapsed()));
    match tokio::time::timeout(left, exchange).await {
        Err(_) => IppProbe::failed(uri, IppOutcome::Timeout, ms(), Some("no IPP answer in time".into())),
        Ok(Err((outcome, http_status, error))) => {
            let mut p = IppProbe::failed(uri, outcome, ms(), Some(error));
            p.http_status = http_status;
            p
        }
        Ok(Ok(body)) => IppProbe::from_body(uri, ms(), &body),
    }
}

type PostError = (IppOutcome, Option<u16>, String);

/// The HTTP POST of the request over `io`; the body of a 200 answer, at most
/// [`MAX_IPP_BYTES`].
async fn post<S>(io: S, endpoint: &IppEndpoint) -> Result<Bytes, PostError>
where
    S: AsyncRead + AsyncWrite + Send + Unpin + 'static,
{
    let failed = |e: &dyn std::fmt::Display| (IppOutcome::Failed, None, e.to_string());
    let (mut sender, connection) =
        hyper::client::conn::http1::handshake(TokioIo::new(io)).await.map_err(|e| failed(&e))?;
    let driver = tokio::spawn(async move {
        let _ = connection.await;
    });
    let body = ipp::encode_get_printer_attributes(&endpoint.uri, rand::random::<u32>() >> 1 | 1);
    let request = hyper::Request::post(endpoint.path())
        .header(HOST, endpoint.authority())
        .header(CONTENT_TYPE, "application/ipp")
        .body(Full::new(Bytes::from(body)))
        .map_err(|e| failed(&e))?;
    let result = async {
        let response = sender.send_request(request).await.map_err(|e| {
            // A peer that answers with something that is not HTTP at all.
            let outcome = if e.is_parse() { IppOutcome::NotIpp } else { IppOutcome::Failed };
            (outcome, None, e.to_string())
        })?;
        let status = response.status().as_u16();
        if status != 200 {
            return Err((IppOutcome::HttpError, Some(status), format!("HTTP {status}")));
        }
        Limited::new(response.into_body(), MAX_IPP_BYTES)
            .collect()
            .await
            .map(|c| c.to_bytes())
            .map_err(|e| (IppOutcome::NotIpp, Some(status), format!("reading the body: {e}")))
    }
    .await;
    driver.abort();
    result
}

/// A TLS client that takes any certificate: printers serve self-signed ones, and the
/// profile only reads their state (signatures are still checked, so the handshake is real).
fn tls_config() -> rustls::ClientConfig {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let verifier = Arc::new(AnyCertificate::new(provider));
    match verifier.client_config() {
        Ok(config) => config,
        // The ring provider always supports the default versions; an empty config would
        // fail its handshakes, which the evidence then says.
        Err(_) => {
            rustls::ClientConfig::builder().dangerous().with_custom_certificate_verifier(verifier).with_no_client_auth()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_browse_waits_asks_once_and_ends_when_quiet() {
        let t0 = Instant::now();
        let end = t0 + Duration::from_millis(1_000);
        // Nothing heard: wait for the whole window, then stop.
        assert_eq!(next_step(t0, end, None, false, false), Step::Wait(end));
        assert_eq!(next_step(end, end, None, false, false), Step::Stop);
        // An incomplete answer: wake up to ask, then ask.
        let heard = t0 + Duration::from_millis(50);
        assert_eq!(next_step(heard, end, Some(heard), true, false), Step::Wait(heard + QUIET / 3));
        assert_eq!(next_step(heard + QUIET / 3, end, Some(heard), true, false), Step::Resolve);
        // Asked (or nothing missing): stop once quiet.
        assert_eq!(next_step(heard, end, Some(heard), true, true), Step::Wait(heard + QUIET));
        assert_eq!(next_step(heard + QUIET, end, Some(heard), false, false), Step::Stop);
        // Never past the window.
        let late = end - Duration::from_millis(10);
        assert_eq!(next_step(late, end, Some(late), false, false), Step::Wait(end));
        assert_eq!(next_step(end, end, Some(late), true, false), Step::Stop);
    }
}
