//! Contract tests of the HTTP ticket systems (Request Tracker REST2, Jira, ServiceNow,
//! Zendesk): `nettriage::ticket::deliver` talks to a fake of each vendor, a small hyper
//! server on loopback inside this test process (no probe of any network), which checks
//! every request against the vendor's documented method, path, query, headers (auth
//! scheme, content types, `X-Atlassian-Token`, `Idempotency-Key`) and body (JSON fields,
//! base64 attachments, multipart layout, raw uploads) and answers as the vendor does; the
//! test asserts the `Receipt` and that no request broke the contract. The error contracts
//! (401, 403, 413, 429/503 with `Retry-After`, 500, a closed port, an untrusted TLS
//! certificate, a stalled server, an oversized or malformed answer, bad credentials files)
//! assert the `DeliveryError` variant, its step, status and `is_transient()`.
//!
//! Vendor references are cited in each system's module (`src/ticket/*.rs`); a real RT is
//! exercised in `tests/lab_rt.rs`.

use std::collections::HashMap;
use std::convert::Infallible;
use std::net::SocketAddr;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use base64::Engine;
use http_body_util::{BodyExt, Full};
use hyper::body::{Bytes, Incoming};
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use nettriage::config::{JiraSettings, RtSettings, ServiceNowSettings, TicketSettings, TicketSystem, ZendeskSettings};
use nettriage::ticket::{Attachment, DeliveryError, Receipt, Step, Ticket, deliver};
use serde_json::{Value, json};

const SECRET: &str = "s3cr3t-t0ken-value";
const KEY: &str = "r-20261130-0001";

// ---------------------------------------------------------------------------
// The fake vendor server
// ---------------------------------------------------------------------------

/// One request as the fake server received it.
#[derive(Debug, Clone)]
struct Seen {
    method: String,
    path: String,
    query: HashMap<String, String>,
    headers: HashMap<String, String>,
    body: Vec<u8>,
}

impl Seen {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(&name.to_ascii_lowercase()).map(String::as_str)
    }

    fn json(&self) -> Result<Value, String> {
        serde_json::from_slice(&self.body).map_err(|e| format!("{} {}: body is not JSON: {e}", self.method, self.path))
    }
}

/// What the fake answers.
struct Answer {
    status: u16,
    headers: Vec<(&'static str, String)>,
    body: Vec<u8>,
}

fn answer(status: u16, body: Value) -> Answer {
    Answer { status, headers: vec![("content-type", "application/json".into())], body: body.to_string().into_bytes() }
}

/// A vendor's behaviour: checks a request against the contract (Err names the breach) and
/// answers it.
type Vendor = Arc<dyn Fn(&Seen) -> Result<Answer, String> + Send + Sync>;

/// The fake server: every request seen, every contract breach.
struct Fake {
    addr: SocketAddr,
    seen: Arc<Mutex<Vec<Seen>>>,
    breaches: Arc<Mutex<Vec<String>>>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for Fake {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl Fake {
    /// Serves `vendor` over plain HTTP on 127.0.0.1 (or over TLS with `tls`).
    async fn start(vendor: Vendor, tls: Option<Arc<rustls::ServerConfig>>) -> Fake {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let seen = Arc::new(Mutex::new(Vec::new()));
        let breaches = Arc::new(Mutex::new(Vec::new()));
        let (seen2, breaches2) = (Arc::clone(&seen), Arc::clone(&breaches));
        let task = tokio::spawn(async move {
            loop {
                let Ok((stream, _)) = listener.accept().await else { return };
                let (vendor, seen, breaches, tls) =
                    (Arc::clone(&vendor), Arc::clone(&seen2), Arc::clone(&breaches2), tls.clone());
                tokio::spawn(async move {
                    let service = service_fn(move |req: hyper::Request<Incoming>| {
                        let (vendor, seen, breaches) = (Arc::clone(&vendor), Arc::clone(&seen), Arc::clone(&breaches));
                        async move { Ok::<_, Infallible>(handle(req, &*vendor, &seen, &breaches).await) }
                    });
                    match tls {
                        Some(config) => {
                            let Ok(stream) = tokio_rustls::TlsAcceptor::from(config).accept(stream).await else {
                                return;
                            };
                            let _ = http1::Builder::new().serve_connection(TokioIo::new(stream), service).await;
                        }
                        None => {
                            let _ = http1::Builder::new().serve_connection(TokioIo::new(stream), service).await;
                        }
                    }
                });
            }
        });
        Fake { addr, seen, breaches, task }
    }

    fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    fn seen(&self) -> Vec<Seen> {
        self.seen.lock().unwrap().clone()
    }

    /// Asserts that no request broke the contract.
    fn assert_kept(&self) {
        let breaches = self.breaches.lock().unwrap();
        assert!(breaches.is_empty(), "contract breaches: {breaches:#?}");
    }
}

async fn handle(
    req: hyper::Request<Incoming>,
    vendor: &(dyn Fn(&Seen) -> Result<Answer, String> + Send + Sync),
    seen: &Mutex<Vec<Seen>>,
    breaches: &Mutex<Vec<String>>,
) -> hyper::Response<Full<Bytes>> {
    let (parts, body) = req.into_parts();
    let body = body.collect().await.map(|b| b.to_bytes().to_vec()).unwrap_or_default();
    let query =
        parts.uri.query().map(|q| url::form_urlencoded::parse(q.as_bytes()).into_owned().collect()).unwrap_or_default();
    let headers = parts
        .headers
        .iter()
        .map(|(k, v)| (k.as_str().to_string(), String::from_utf8_lossy(v.as_bytes()).into_owned()))
        .collect();
    let request = Seen { method: parts.method.to_string(), path: parts.uri.path().to_string(), query, headers, body };
    seen.lock().unwrap().push(request.clone());
    let answer = vendor(&request).unwrap_or_else(|breach| {
        breaches.lock().unwrap().push(breach.clone());
        answer(400, json!({ "error": breach }))
    });
    let mut response = hyper::Response::builder().status(answer.status);
    for (name, value) in answer.headers {
        response = response.header(name, value);
    }
    response.body(Full::new(Bytes::from(answer.body))).unwrap()
}

/// Fails the contract unless `cond`.
fn need(cond: bool, what: impl Into<String>) -> Result<(), String> {
    if cond { Ok(()) } else { Err(what.into()) }
}

fn need_header(s: &Seen, name: &str, want: &str) -> Result<(), String> {
    need(
        s.header(name) == Some(want),
        format!("{} {}: header {name} is {:?}, want {want:?}", s.method, s.path, s.header(name)),
    )
}

fn basic(user: &str, secret: &str) -> String {
    format!("Basic {}", base64::engine::general_purpose::STANDARD.encode(format!("{user}:{secret}")))
}

// ---------------------------------------------------------------------------
// Fixtures
// ---------------------------------------------------------------------------

fn ticket() -> Ticket {
    let mut pcap = vec![0xd4, 0xc3, 0xb2, 0xa1, 0x02, 0x00, 0x04, 0x00];
    pcap.extend((0..=255u8).cycle().take(3000));
    Ticket {
        key: KEY.into(),
        subject: "[nettriage] dns.resolver_unreachable on sw-3/ge-0/0/12".into(),
        body_text: "The DNS resolver does not answer.\nNext: check the resolver.".into(),
        body_markdown: "**The DNS resolver does not answer.**".into(),
        attachments: vec![
            Attachment {
                name: "report.html".into(),
                content_type: "text/html".into(),
                bytes: b"<html>r</html>".to_vec(),
            },
            Attachment {
                name: "report.json".into(),
                content_type: "application/json".into(),
                bytes: br#"{"id":"r-20261130-0001"}"#.to_vec(),
            },
            Attachment {
                name: "capture.pcap".into(),
                content_type: "application/vnd.tcpdump.pcap".into(),
                bytes: pcap,
            },
        ],
    }
}

/// A 0600 file holding the secret, in `dir`.
fn secret_file(dir: &Path) -> PathBuf {
    let path = dir.join("token");
    std::fs::write(&path, format!("{SECRET}\n")).unwrap();
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).unwrap();
    path
}

fn common(system: TicketSystem) -> TicketSettings {
    TicketSettings { system: Some(system), timeout_ms: 5_000, ..TicketSettings::default() }
}

fn rt_settings(url: &str, secret: &Path, comment_on: Option<u64>) -> TicketSettings {
    TicketSettings {
        rt: Some(RtSettings {
            url: url.into(),
            queue: "Network".into(),
            ticket: comment_on,
            secret_env: None,
            secret_file: Some(secret.into()),
        }),
        ..common(TicketSystem::Rt)
    }
}

fn jira_settings(url: &str, secret: &Path, user: Option<&str>) -> TicketSettings {
    TicketSettings {
        jira: Some(JiraSettings {
            url: url.into(),
            project: Some("NET".into()),
            issue: None,
            issue_type: "Task".into(),
            user: user.map(str::to_string),
            secret_env: None,
            secret_file: Some(secret.into()),
        }),
        ..common(TicketSystem::Jira)
    }
}

fn servicenow_settings(url: &str, secret: &Path) -> TicketSettings {
    TicketSettings {
        servicenow: Some(ServiceNowSettings {
            url: url.into(),
            user: "nettriage.integration".into(),
            assignment_group: Some("Network".into()),
            secret_env: None,
            secret_file: Some(secret.into()),
        }),
        ..common(TicketSystem::Servicenow)
    }
}

fn zendesk_settings(url: &str, secret: &Path, update: Option<u64>) -> TicketSettings {
    TicketSettings {
        zendesk: Some(ZendeskSettings {
            url: url.into(),
            email: "agent@example.org".into(),
            ticket: update,
            secret_env: None,
            secret_file: Some(secret.into()),
        }),
        ..common(TicketSystem::Zendesk)
    }
}

fn receipt(system: TicketSystem, reference: &str) -> Receipt {
    Receipt { system, reference: reference.into() }
}

// ---------------------------------------------------------------------------
// Request Tracker REST2
// ---------------------------------------------------------------------------

/// RT REST2: token auth; `GET /REST/2.0/tickets?query=`; `POST /REST/2.0/ticket` and
/// `POST /REST/2.0/ticket/N/comment` with JSON and base64 `Attachments`.
fn rt_vendor(existing: Option<&'static str>) -> Vendor {
    Arc::new(move |s: &Seen| {
        need_header(s, "authorization", &format!("token {SECRET}"))?;
        match (s.method.as_str(), s.path.as_str()) {
            ("GET", "/REST/2.0/tickets") => {
                let query = s.query.get("query").ok_or("search without query")?;
                need(query.contains(KEY) && query.starts_with("Subject LIKE '"), format!("search query {query:?}"))?;
                let items: Vec<Value> = existing.iter().map(|id| json!({"id": id, "type": "ticket"})).collect();
                Ok(answer(
                    200,
                    json!({"count": items.len(), "total": items.len(), "page": 1, "per_page": 20, "items": items}),
                ))
            }
            ("POST", "/REST/2.0/ticket") => {
                need_header(s, "content-type", "application/json")?;
                let body = s.json()?;
                need(body["Queue"] == "Network", "Queue")?;
                need(
                    body["Subject"].as_str().is_some_and(|t| t.contains(KEY) && t.contains("dns.resolver_unreachable")),
                    "Subject",
                )?;
                need(body["ContentType"] == "text/plain", "ContentType")?;
                need(body["Content"].as_str().is_some_and(|c| c.contains("resolver")), "Content")?;
                rt_attachments(&body)?;
                Ok(answer(201, json!({"id": "42", "type": "ticket", "_url": "http://rt/REST/2.0/ticket/42"})))
            }
            ("POST", "/REST/2.0/ticket/7/comment") => {
                need_header(s, "content-type", "application/json")?;
                let body = s.json()?;
                need(body["ContentType"] == "text/plain" && body["Content"].is_string(), "comment Content")?;
                rt_attachments(&body)?;
                Ok(answer(201, json!(["Comments added"])))
            }
            _ => Err(format!("RT has no {} {}", s.method, s.path)),
        }
    })
}

fn rt_attachments(body: &Value) -> Result<(), String> {
    let list = body["Attachments"].as_array().ok_or("no Attachments array")?;
    let want = ticket().attachments;
    need(list.len() == want.len(), format!("{} attachments, want {}", list.len(), want.len()))?;
    for (got, want) in list.iter().zip(&want) {
        need(
            got["FileName"] == want.name.as_str() && got["FileType"] == want.content_type.as_str(),
            "FileName/FileType",
        )?;
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(got["FileContent"].as_str().ok_or("FileContent not a string")?)
            .map_err(|e| format!("FileContent not base64: {e}"))?;
        need(bytes == want.bytes, format!("{}: bytes differ", want.name))?;
    }
    Ok(())
}

#[tokio::test]
async fn contract_rt_creates_a_ticket_with_base64_attachments_after_a_search() {
    let dir = tempfile::tempdir().unwrap();
    let fake = Fake::start(rt_vendor(None), None).await;
    let got = deliver(&rt_settings(&fake.url(), &secret_file(dir.path()), None), &ticket()).await.unwrap();
    fake.assert_kept();
    assert_eq!(got, receipt(TicketSystem::Rt, "42"));
    let calls: Vec<(String, String)> = fake.seen().into_iter().map(|s| (s.method, s.path)).collect();
    assert_eq!(calls, [("GET".into(), "/REST/2.0/tickets".into()), ("POST".into(), "/REST/2.0/ticket".into())]);
}

#[tokio::test]
async fn contract_rt_retry_finds_the_ticket_and_creates_none() {
    let dir = tempfile::tempdir().unwrap();
    let fake = Fake::start(rt_vendor(Some("41")), None).await;
    let got = deliver(&rt_settings(&fake.url(), &secret_file(dir.path()), None), &ticket()).await.unwrap();
    fake.assert_kept();
    assert_eq!(got, receipt(TicketSystem::Rt, "41"));
    assert!(fake.seen().iter().all(|s| s.method == "GET"), "a retried delivery must not create");
}

#[tokio::test]
async fn contract_rt_comments_on_an_existing_ticket() {
    let dir = tempfile::tempdir().unwrap();
    let fake = Fake::start(rt_vendor(None), None).await;
    let got = deliver(&rt_settings(&fake.url(), &secret_file(dir.path()), Some(7)), &ticket()).await.unwrap();
    fake.assert_kept();
    assert_eq!(got, receipt(TicketSystem::Rt, "7"));
    assert_eq!(fake.seen().len(), 1);
}

// ---------------------------------------------------------------------------
// Jira
// ---------------------------------------------------------------------------

/// One part of a multipart body: its headers (names lower-cased) and content.
type FormPart = (HashMap<String, String>, Vec<u8>);

/// Parses a `multipart/form-data` body.
fn multipart(content_type: &str, body: &[u8]) -> Result<Vec<FormPart>, String> {
    let boundary = content_type
        .strip_prefix("multipart/form-data; boundary=")
        .ok_or(format!("content type {content_type:?} is not multipart/form-data with a boundary"))?;
    let delimiter = format!("--{boundary}");
    let text = body;
    let mut parts = Vec::new();
    let mut rest = text.strip_prefix(delimiter.as_bytes()).ok_or("body does not start with the boundary")?;
    loop {
        if rest.starts_with(b"--") {
            return Ok(parts);
        }
        rest = rest.strip_prefix(b"\r\n").ok_or("no CRLF after a boundary")?;
        let end = find(rest, b"\r\n\r\n").ok_or("part without a blank line")?;
        let head = String::from_utf8_lossy(&rest[..end]).into_owned();
        let headers = head
            .split("\r\n")
            .filter_map(|l| l.split_once(':'))
            .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_string()))
            .collect();
        rest = &rest[end + 4..];
        let close = format!("\r\n{delimiter}");
        let stop = find(rest, close.as_bytes()).ok_or("part without a closing boundary")?;
        parts.push((headers, rest[..stop].to_vec()));
        rest = &rest[stop + close.len()..];
    }
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

/// Jira v2: Basic (Cloud) or Bearer (Data Center); search (`/search/jql` on Cloud,
/// `/search` on DC); `POST /rest/api/2/issue`; attachments as multipart part `file` with
/// `X-Atlassian-Token: no-check`.
fn jira_vendor(cloud: bool, existing: Option<(&'static str, &'static [&'static str])>) -> Vendor {
    Arc::new(move |s: &Seen| {
        let auth = if cloud { basic("ops@example.org", SECRET) } else { format!("Bearer {SECRET}") };
        need_header(s, "authorization", &auth)?;
        let search = if cloud { "/rest/api/2/search/jql" } else { "/rest/api/2/search" };
        match (s.method.as_str(), s.path.as_str()) {
            ("GET", p) if p == search => {
                let jql = s.query.get("jql").ok_or("search without jql")?;
                need(jql == &format!("labels = \"nettriage-{KEY}\""), format!("jql {jql:?}"))?;
                let issues: Vec<Value> = existing.iter().map(|(k, _)| json!({"id": "10001", "key": k})).collect();
                Ok(answer(200, json!({"issues": issues})))
            }
            ("POST", "/rest/api/2/issue") => {
                need_header(s, "content-type", "application/json")?;
                let f = &s.json()?["fields"];
                need(f["project"]["key"] == "NET" && f["issuetype"]["name"] == "Task", "project/issuetype")?;
                need(f["summary"].as_str().is_some_and(|t| t.contains("dns.resolver_unreachable")), "summary")?;
                need(f["description"].is_string(), "description")?;
                need(f["labels"] == json!([format!("nettriage-{KEY}")]), "labels")?;
                Ok(answer(201, json!({"id": "10001", "key": "NET-7", "self": "http://jira/rest/api/2/issue/10001"})))
            }
            ("GET", "/rest/api/2/issue/NET-7") => {
                need(s.query.get("fields").map(String::as_str) == Some("attachment"), "fields=attachment")?;
                let names = existing.map(|(_, n)| n).unwrap_or_default();
                let list: Vec<Value> = names.iter().map(|n| json!({"filename": n})).collect();
                Ok(answer(200, json!({"key": "NET-7", "fields": {"attachment": list}})))
            }
            ("POST", "/rest/api/2/issue/NET-7/attachments") => {
                need_header(s, "x-atlassian-token", "no-check")?;
                let parts = multipart(s.header("content-type").unwrap_or_default(), &s.body)?;
                need(parts.len() == 1, format!("{} parts, want 1", parts.len()))?;
                let (headers, content) = &parts[0];
                let disposition = headers.get("content-disposition").ok_or("part without Content-Disposition")?;
                need(
                    disposition.starts_with("form-data; name=\"file\"; filename=\""),
                    format!("disposition {disposition:?}"),
                )?;
                let want = ticket()
                    .attachments
                    .into_iter()
                    .find(|a| disposition.ends_with(&format!("filename=\"{}\"", a.name)))
                    .ok_or(format!("unknown file in {disposition:?}"))?;
                need(headers.get("content-type") == Some(&want.content_type), "part content type")?;
                need(content == &want.bytes, format!("{}: bytes differ", want.name))?;
                Ok(answer(200, json!([{"filename": want.name, "size": want.bytes.len()}])))
            }
            _ => Err(format!("Jira has no {} {}", s.method, s.path)),
        }
    })
}

#[tokio::test]
async fn contract_jira_cloud_creates_an_issue_and_attaches_each_file_as_multipart() {
    let dir = tempfile::tempdir().unwrap();
    let fake = Fake::start(jira_vendor(true, None), None).await;
    let settings = jira_settings(&fake.url(), &secret_file(dir.path()), Some("ops@example.org"));
    let got = deliver(&settings, &ticket()).await.unwrap();
    fake.assert_kept();
    assert_eq!(got, receipt(TicketSystem::Jira, "NET-7"));
    let uploads = fake.seen().iter().filter(|s| s.path.ends_with("/attachments")).count();
    assert_eq!(uploads, 3);
}

#[tokio::test]
async fn contract_jira_data_center_retry_uploads_only_the_missing_files() {
    let dir = tempfile::tempdir().unwrap();
    let fake = Fake::start(jira_vendor(false, Some(("NET-7", &["report.html"]))), None).await;
    let got = deliver(&jira_settings(&fake.url(), &secret_file(dir.path()), None), &ticket()).await.unwrap();
    fake.assert_kept();
    assert_eq!(got, receipt(TicketSystem::Jira, "NET-7"));
    let seen = fake.seen();
    assert!(!seen.iter().any(|s| s.method == "POST" && s.path == "/rest/api/2/issue"), "no second issue");
    assert_eq!(seen.iter().filter(|s| s.path.ends_with("/attachments")).count(), 2);
}

#[tokio::test]
async fn contract_jira_comments_and_attaches_to_an_existing_issue() {
    let dir = tempfile::tempdir().unwrap();
    let vendor = jira_vendor(true, None);
    let comments = Arc::new(Mutex::new(0));
    let counted = Arc::clone(&comments);
    let fake = Fake::start(
        Arc::new(move |s: &Seen| {
            if s.method == "POST" && s.path == "/rest/api/2/issue/NET-7/comment" {
                need_header(s, "authorization", &basic("ops@example.org", SECRET))?;
                need(s.json()?["body"].as_str().is_some_and(|b| b.contains("resolver")), "comment body")?;
                *counted.lock().unwrap() += 1;
                return Ok(answer(201, json!({"id": "100"})));
            }
            vendor(s)
        }),
        None,
    )
    .await;
    let mut settings = jira_settings(&fake.url(), &secret_file(dir.path()), Some("ops@example.org"));
    if let Some(j) = settings.jira.as_mut() {
        j.issue = Some("NET-7".into());
        j.project = None;
    }
    let got = deliver(&settings, &ticket()).await.unwrap();
    fake.assert_kept();
    assert_eq!(got, receipt(TicketSystem::Jira, "NET-7"));
    assert_eq!(*comments.lock().unwrap(), 1);
    assert_eq!(fake.seen().len(), 4, "one comment, three attachments, no search");
}

#[tokio::test]
async fn contract_jira_without_project_or_issue_is_a_configuration_error() {
    let dir = tempfile::tempdir().unwrap();
    let mut settings = jira_settings("http://127.0.0.1:9", &secret_file(dir.path()), None);
    if let Some(j) = settings.jira.as_mut() {
        j.project = None;
    }
    let err = deliver(&settings, &ticket()).await.unwrap_err();
    assert!(err.is_config(), "{err:?}");
}

// ---------------------------------------------------------------------------
// ServiceNow
// ---------------------------------------------------------------------------

/// ServiceNow: Basic auth; Table API search and create on `incident`; Attachment API
/// `POST /api/now/attachment/file` with the raw bytes and the file's Content-Type.
fn servicenow_vendor() -> Vendor {
    Arc::new(|s: &Seen| {
        need_header(s, "authorization", &basic("nettriage.integration", SECRET))?;
        need_header(s, "accept", "application/json")?;
        match (s.method.as_str(), s.path.as_str()) {
            ("GET", "/api/now/table/incident") => {
                need(s.query.get("sysparm_query") == Some(&format!("correlation_id={KEY}")), "sysparm_query")?;
                Ok(answer(200, json!({"result": []})))
            }
            ("POST", "/api/now/table/incident") => {
                need_header(s, "content-type", "application/json")?;
                let body = s.json()?;
                need(
                    body["short_description"].as_str().is_some_and(|t| t.contains("dns.resolver_unreachable")),
                    "short_description",
                )?;
                need(body["description"].is_string(), "description")?;
                need(body["correlation_id"] == KEY, "correlation_id")?;
                need(body["assignment_group"] == "Network", "assignment_group")?;
                Ok(answer(
                    201,
                    json!({"result": {"sys_id": "9d385017c611228701d22104cc95c371", "number": "INC0010042"}}),
                ))
            }
            ("POST", "/api/now/attachment/file") => {
                let q = &s.query;
                need(q.get("table_name").map(String::as_str) == Some("incident"), "table_name")?;
                need(
                    q.get("table_sys_id").map(String::as_str) == Some("9d385017c611228701d22104cc95c371"),
                    "table_sys_id",
                )?;
                let name = q.get("file_name").ok_or("no file_name")?;
                let want =
                    ticket().attachments.into_iter().find(|a| &a.name == name).ok_or(format!("unknown file {name}"))?;
                need_header(s, "content-type", &want.content_type)?;
                need(s.body == want.bytes, format!("{name}: bytes differ"))?;
                Ok(answer(201, json!({"result": {"file_name": name, "table_name": "incident"}})))
            }
            _ => Err(format!("ServiceNow has no {} {}", s.method, s.path)),
        }
    })
}

#[tokio::test]
async fn contract_servicenow_creates_an_incident_and_attaches_the_raw_files() {
    let dir = tempfile::tempdir().unwrap();
    let fake = Fake::start(servicenow_vendor(), None).await;
    let got = deliver(&servicenow_settings(&fake.url(), &secret_file(dir.path())), &ticket()).await.unwrap();
    fake.assert_kept();
    assert_eq!(got, receipt(TicketSystem::Servicenow, "INC0010042"));
    assert_eq!(fake.seen().iter().filter(|s| s.path == "/api/now/attachment/file").count(), 3);
}

// ---------------------------------------------------------------------------
// Zendesk
// ---------------------------------------------------------------------------

/// Zendesk: Basic `email/token:TOKEN`; search by external id; raw uploads to
/// `/api/v2/uploads?filename=` answering tokens; `POST /api/v2/tickets` with
/// `Idempotency-Key` and the tokens, or `PUT /api/v2/tickets/{id}`.
fn zendesk_vendor() -> Vendor {
    let uploads = Arc::new(Mutex::new(Vec::<String>::new()));
    Arc::new(move |s: &Seen| {
        need_header(s, "authorization", &basic("agent@example.org/token", SECRET))?;
        match (s.method.as_str(), s.path.as_str()) {
            ("GET", "/api/v2/tickets") => {
                need(s.query.get("external_id").map(String::as_str) == Some(KEY), "external_id")?;
                Ok(answer(200, json!({"tickets": [], "count": 0})))
            }
            ("POST", "/api/v2/uploads") => {
                let name = s.query.get("filename").ok_or("no filename")?;
                let want =
                    ticket().attachments.into_iter().find(|a| &a.name == name).ok_or(format!("unknown file {name}"))?;
                need_header(s, "content-type", &want.content_type)?;
                need(s.body == want.bytes, format!("{name}: bytes differ"))?;
                let mut tokens = uploads.lock().unwrap();
                let token = format!("tok{}", tokens.len() + 1);
                tokens.push(token.clone());
                Ok(answer(201, json!({"upload": {"token": token, "attachment": {"file_name": name}}})))
            }
            ("POST", "/api/v2/tickets") | ("PUT", "/api/v2/tickets/99") => {
                need_header(s, "content-type", "application/json")?;
                let body = s.json()?;
                let t = &body["ticket"];
                let tokens = uploads.lock().unwrap().clone();
                need(t["comment"]["uploads"] == json!(tokens) && tokens.len() == 3, "comment.uploads")?;
                need(t["comment"]["body"].as_str().is_some_and(|b| b.contains("resolver")), "comment.body")?;
                if s.method == "POST" {
                    need_header(s, "idempotency-key", KEY)?;
                    need(t["external_id"] == KEY && t["subject"].is_string(), "subject/external_id")?;
                    Ok(answer(201, json!({"ticket": {"id": 35436, "external_id": KEY}})))
                } else {
                    Ok(answer(200, json!({"ticket": {"id": 99}})))
                }
            }
            _ => Err(format!("Zendesk has no {} {}", s.method, s.path)),
        }
    })
}

#[tokio::test]
async fn contract_zendesk_uploads_then_creates_with_the_tokens_and_an_idempotency_key() {
    let dir = tempfile::tempdir().unwrap();
    let fake = Fake::start(zendesk_vendor(), None).await;
    let got = deliver(&zendesk_settings(&fake.url(), &secret_file(dir.path()), None), &ticket()).await.unwrap();
    fake.assert_kept();
    assert_eq!(got, receipt(TicketSystem::Zendesk, "35436"));
    let order: Vec<String> = fake.seen().into_iter().map(|s| format!("{} {}", s.method, s.path)).collect();
    assert_eq!(order.first().map(String::as_str), Some("GET /api/v2/tickets"));
    assert_eq!(order.last().map(String::as_str), Some("POST /api/v2/tickets"));
}

#[tokio::test]
async fn contract_zendesk_updates_an_existing_ticket() {
    let dir = tempfile::tempdir().unwrap();
    let fake = Fake::start(zendesk_vendor(), None).await;
    let got = deliver(&zendesk_settings(&fake.url(), &secret_file(dir.path()), Some(99)), &ticket()).await.unwrap();
    fake.assert_kept();
    assert_eq!(got, receipt(TicketSystem::Zendesk, "99"));
    assert!(fake.seen().iter().all(|s| s.method != "GET"), "an update does not search");
}

// ---------------------------------------------------------------------------
// Error contracts
// ---------------------------------------------------------------------------

/// A vendor answering every request with `status` and `headers`.
fn refusing(status: u16, headers: Vec<(&'static str, String)>) -> Vendor {
    Arc::new(move |_| Ok(Answer { status, headers: headers.clone(), body: b"{}".to_vec() }))
}

async fn rt_error(vendor: Vendor) -> DeliveryError {
    let dir = tempfile::tempdir().unwrap();
    let fake = Fake::start(vendor, None).await;
    let err = deliver(&rt_settings(&fake.url(), &secret_file(dir.path()), None), &ticket()).await.unwrap_err();
    assert!(!err.to_string().contains(SECRET), "the secret leaked into {err}");
    err
}

fn status_of(err: &DeliveryError) -> (Step, u16, Option<Duration>) {
    match err {
        DeliveryError::Status { step, status, retry_after, endpoint } => {
            assert!(endpoint.starts_with("http://127.0.0.1:"), "{endpoint}");
            (*step, *status, *retry_after)
        }
        other => panic!("want a Status error, got {other:?}"),
    }
}

#[tokio::test]
async fn contract_errors_401_403_are_permanent() {
    for code in [401, 403] {
        let err = rt_error(refusing(code, vec![])).await;
        assert_eq!(status_of(&err), (Step::Create, code, None));
        assert!(!err.is_transient() && !err.is_config());
    }
}

#[tokio::test]
async fn contract_errors_413_on_an_upload_is_permanent() {
    let dir = tempfile::tempdir().unwrap();
    let zendesk = zendesk_vendor();
    let fake = Fake::start(
        Arc::new(move |s: &Seen| if s.path == "/api/v2/uploads" { Ok(answer(413, json!({}))) } else { zendesk(s) }),
        None,
    )
    .await;
    let err = deliver(&zendesk_settings(&fake.url(), &secret_file(dir.path()), None), &ticket()).await.unwrap_err();
    assert_eq!(status_of(&err), (Step::Upload, 413, None));
    assert!(!err.is_transient());
}

#[tokio::test]
async fn contract_errors_429_and_503_carry_retry_after() {
    let err = rt_error(refusing(429, vec![("retry-after", "30".into())])).await;
    assert_eq!(status_of(&err), (Step::Create, 429, Some(Duration::from_secs(30))));
    assert!(err.is_transient());

    let later = httpdate::fmt_http_date(std::time::SystemTime::now() + Duration::from_secs(120));
    let err = rt_error(refusing(503, vec![("retry-after", later)])).await;
    let (step, status, retry_after) = status_of(&err);
    assert_eq!((step, status), (Step::Create, 503));
    let wait = retry_after.expect("an HTTP-date Retry-After is parsed");
    assert!(wait > Duration::from_secs(100) && wait <= Duration::from_secs(120), "{wait:?}");
    assert!(err.is_transient());

    let err = rt_error(refusing(429, vec![("retry-after", "whenever".into())])).await;
    assert_eq!(status_of(&err), (Step::Create, 429, None));
}

#[tokio::test]
async fn contract_errors_500_is_transient() {
    let err = rt_error(refusing(500, vec![])).await;
    assert_eq!(status_of(&err), (Step::Create, 500, None));
    assert!(err.is_transient());
}

#[tokio::test]
async fn contract_errors_a_malformed_or_oversized_answer_is_a_transport_error() {
    let err = rt_error(Arc::new(|_| Ok(Answer { status: 200, headers: vec![], body: b"<html>".to_vec() }))).await;
    assert!(matches!(err, DeliveryError::Transport { step: Step::Create, .. }), "{err:?}");
    let huge = vec![b' '; 2 * 1024 * 1024];
    let err = rt_error(Arc::new(move |_| Ok(Answer { status: 200, headers: vec![], body: huge.clone() }))).await;
    assert!(matches!(err, DeliveryError::Transport { step: Step::Create, .. }), "{err:?}");
    assert!(err.is_transient());
}

#[tokio::test]
async fn contract_errors_a_closed_port_is_a_transient_connect_error() {
    let dir = tempfile::tempdir().unwrap();
    let port = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.local_addr().unwrap().port()
    };
    let settings = rt_settings(&format!("http://127.0.0.1:{port}"), &secret_file(dir.path()), None);
    let err = deliver(&settings, &ticket()).await.unwrap_err();
    assert!(matches!(err, DeliveryError::Transport { step: Step::Connect, .. }), "{err:?}");
    assert!(err.is_transient());
}

#[tokio::test]
async fn contract_errors_a_stalled_server_times_out() {
    let dir = tempfile::tempdir().unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    // Accepts and never answers.
    let holder = tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((stream, _)) = listener.accept().await {
            held.push(stream);
        }
    });
    let mut settings = rt_settings(&format!("http://{addr}"), &secret_file(dir.path()), None);
    settings.timeout_ms = 300;
    let started = std::time::Instant::now();
    let err = deliver(&settings, &ticket()).await.unwrap_err();
    holder.abort();
    assert!(matches!(err, DeliveryError::Transport { step: Step::Create, .. }), "{err:?}");
    assert!(err.is_transient());
    assert!(started.elapsed() < Duration::from_secs(5), "bounded by timeout_ms");
}

#[tokio::test]
async fn contract_errors_bad_credentials_files_are_configuration_errors() {
    let dir = tempfile::tempdir().unwrap();
    let path = secret_file(dir.path());
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o640)).unwrap();
    let err = deliver(&rt_settings("http://127.0.0.1:9", &path, None), &ticket()).await.unwrap_err();
    assert!(err.is_config(), "{err:?}");
    assert!(!err.to_string().contains(SECRET));
    let err =
        deliver(&rt_settings("http://127.0.0.1:9", &dir.path().join("absent"), None), &ticket()).await.unwrap_err();
    assert!(err.is_config(), "{err:?}");
}

// ---------------------------------------------------------------------------
// TLS
// ---------------------------------------------------------------------------

/// A CA and a leaf for 127.0.0.1 made with openssl in `dir`: (ca.pem, server config).
fn tls_server(dir: &Path) -> (PathBuf, Arc<rustls::ServerConfig>) {
    use rustls::pki_types::pem::PemObject;
    use rustls::pki_types::{CertificateDer, PrivateKeyDer};
    let run = |args: &[&str]| {
        let out = std::process::Command::new("openssl").current_dir(dir).args(args).output().expect("openssl runs");
        assert!(out.status.success(), "openssl {args:?}: {}", String::from_utf8_lossy(&out.stderr));
    };
    let ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes"];
    run(&[
        &["req", "-x509"],
        &ec[..],
        &["-keyout", "ca.key", "-out", "ca.pem", "-days", "2", "-subj", "/CN=contract CA"],
    ]
    .concat());
    run(&[
        &["req", "-x509", "-CA", "ca.pem", "-CAkey", "ca.key"],
        &ec[..],
        &["-keyout", "leaf.key", "-out", "leaf.pem", "-days", "2", "-subj", "/CN=127.0.0.1"],
        &["-addext", "subjectAltName=IP:127.0.0.1", "-addext", "basicConstraints=critical,CA:FALSE"],
        &["-addext", "extendedKeyUsage=serverAuth"],
    ]
    .concat());
    let certs: Vec<CertificateDer<'static>> =
        CertificateDer::pem_file_iter(dir.join("leaf.pem")).unwrap().collect::<Result<_, _>>().unwrap();
    let key = PrivateKeyDer::from_pem_file(dir.join("leaf.key")).unwrap();
    let config = rustls::ServerConfig::builder_with_provider(Arc::new(rustls::crypto::ring::default_provider()))
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_no_client_auth()
        .with_single_cert(certs, key)
        .unwrap();
    (dir.join("ca.pem"), Arc::new(config))
}

#[tokio::test]
async fn contract_tls_untrusted_certificate_fails_at_the_tls_step_and_ca_file_trusts_it() {
    let dir = tempfile::tempdir().unwrap();
    let (ca, server) = tls_server(dir.path());
    let fake = Fake::start(rt_vendor(None), Some(server)).await;
    let url = format!("https://{}", fake.addr);
    let mut settings = rt_settings(&url, &secret_file(dir.path()), None);

    let err = deliver(&settings, &ticket()).await.unwrap_err();
    assert!(matches!(err, DeliveryError::Transport { step: Step::Tls, .. }), "{err:?}");
    // The shared shape counts every transport failure as transient (the outbox keeps it).
    assert!(err.is_transient());
    assert!(fake.seen().is_empty(), "nothing is sent over an untrusted connection");

    settings.ca_file = Some(ca);
    let got = deliver(&settings, &ticket()).await.unwrap();
    fake.assert_kept();
    assert_eq!(got, receipt(TicketSystem::Rt, "42"));
}

// ---------------------------------------------------------------------------
// Proxy
// ---------------------------------------------------------------------------

#[tokio::test]
async fn contract_proxy_carries_the_requests_when_configured() {
    let dir = tempfile::tempdir().unwrap();
    // The fake stands in for the proxy: an http:// target goes to it in absolute form, so
    // the target name is never resolved here.
    let fake = Fake::start(rt_vendor(None), None).await;
    let mut settings = rt_settings("http://rt.example.invalid", &secret_file(dir.path()), None);
    settings.proxy = Some(fake.url());
    let got = deliver(&settings, &ticket()).await.unwrap();
    fake.assert_kept();
    assert_eq!(got, receipt(TicketSystem::Rt, "42"));
    assert_eq!(fake.seen().len(), 2);

    settings.proxy = Some("socks5://127.0.0.1:1080".into());
    let err = deliver(&settings, &ticket()).await.unwrap_err();
    assert!(err.is_config(), "{err:?}");
}
