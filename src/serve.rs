//! `/metrics` for Prometheus: a small, bounded HTTP server over the survey history.
//!
//! The history ([`crate::history`]) is opened once, read-only, before listening (a
//! missing database is an error, never created; a scrape never writes). Every scrape
//! reads the latest stored run of every site and location on a blocking thread (SQLite
//! is synchronous; the async thread keeps accepting) and renders it with
//! [`crate::metrics::render_many`]. `GET` and `HEAD` are answered. Requests are bounded in
//! size (8 KiB), time (5 s each way) and number (16 at once). The server runs until the
//! `shutdown` future given by the caller completes (the binary's `serve` command passes
//! SIGINT/SIGTERM); it never prints: the caller hears the bound address through
//! `on_listening`.

use std::future::Future;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use crate::app::RunError;
use crate::history::History;
use crate::metrics;
use crate::report::Report;
use crate::survey::open_history_read;

/// The body of `/metrics`: the latest run of every site and location.
fn metrics_body(history: &History) -> Result<String, RunError> {
    let mut runs = Vec::new();
    for (id, site, location) in history.latest_per_location()? {
        if let Some(value) = history.get(id)?
            && let Ok(report) = serde_json::from_value::<Report>(value)
        {
            runs.push((report, site, location));
        }
    }
    let refs: Vec<(&Report, &str, &str)> = runs.iter().map(|(r, s, l)| (r, s.as_str(), l.as_str())).collect();
    Ok(metrics::render_many(&refs))
}

/// Answers one HTTP request, bounded in size and time.
async fn answer(mut stream: tokio::net::TcpStream, history: Arc<Mutex<History>>) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut buf = vec![0u8; 8192];
    let mut len = 0;
    let read = tokio::time::timeout(std::time::Duration::from_secs(5), async {
        while len < buf.len() {
            match stream.read(&mut buf[len..]).await {
                Ok(0) | Err(_) => break,
                Ok(n) => len += n,
            }
            if buf[..len].windows(4).any(|w| w == b"\r\n\r\n") {
                break;
            }
        }
    })
    .await;
    if read.is_err() {
        return;
    }
    let request = String::from_utf8_lossy(&buf[..len]);
    let mut words = request.split_whitespace();
    let (method, path) = (words.next().unwrap_or(""), words.next().unwrap_or(""));
    let text = "text/plain; charset=utf-8";
    let head_only = method == "HEAD";
    let (status, kind, body) = match (method, path.split('?').next().unwrap_or("")) {
        ("GET" | "HEAD", "/metrics") => {
            let read = tokio::task::spawn_blocking(move || {
                let history = history.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
                metrics_body(&history)
            })
            .await;
            match read {
                Ok(Ok(body)) => ("200 OK", metrics::CONTENT_TYPE, body),
                Ok(Err(e)) => ("500 Internal Server Error", text, format!("{e}\n")),
                Err(e) => ("500 Internal Server Error", text, format!("reading the history failed: {e}\n")),
            }
        }
        ("GET" | "HEAD", "/") => ("200 OK", text, "nettriage: see /metrics\n".to_string()),
        ("GET" | "HEAD", _) => ("404 Not Found", text, "not found\n".to_string()),
        _ => ("405 Method Not Allowed", text, "only GET and HEAD\n".to_string()),
    };
    let allow = if status.starts_with("405") { "Allow: GET, HEAD\r\n" } else { "" };
    let head = format!(
        "HTTP/1.1 {status}\r\nContent-Type: {kind}\r\nContent-Length: {}\r\n{allow}Connection: close\r\n\r\n",
        body.len()
    );
    let _ = tokio::time::timeout(std::time::Duration::from_secs(5), async {
        let _ = stream.write_all(head.as_bytes()).await;
        if !head_only {
            let _ = stream.write_all(body.as_bytes()).await;
        }
        let _ = stream.shutdown().await;
    })
    .await;
}

/// Serves `/metrics` on `listen` from the history `db` until `shutdown` completes;
/// `on_listening` hears the bound address and the database once the server listens.
///
/// Fails at once, not at the first scrape, when the database cannot be opened (it must
/// exist: it is opened read-only, once) or the address cannot be bound.
pub async fn serve(
    listen: SocketAddr,
    db: Option<PathBuf>,
    shutdown: impl Future<Output = ()>,
    on_listening: impl FnOnce(SocketAddr, &std::path::Path),
) -> Result<(), RunError> {
    let history = open_history_read(&db)?;
    let listener =
        tokio::net::TcpListener::bind(listen).await.map_err(|source| RunError::Listen { addr: listen, source })?;
    on_listening(listener.local_addr().unwrap_or(listen), history.path());
    let history = Arc::new(Mutex::new(history));
    // At most this many requests at once; more wait in the listen backlog.
    let slots = Arc::new(tokio::sync::Semaphore::new(16));
    let mut shutdown = std::pin::pin!(shutdown);
    loop {
        tokio::select! {
            () = &mut shutdown => return Ok(()),
            accepted = listener.accept() => {
                let Ok((stream, peer)) = accepted else { continue };
                tracing::debug!(%peer, "metrics request");
                let Ok(permit) = Arc::clone(&slots).acquire_owned().await else { continue };
                let history = Arc::clone(&history);
                tokio::spawn(async move {
                    answer(stream, history).await;
                    drop(permit);
                });
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::history::History;
    use crate::metrics::tests::{broken_report, healthy_report};

    /// The value of `name` for `site`, from an exposition body.
    fn sample(body: &str, name: &str, site: &str) -> Option<f64> {
        let lines = prometheus_parse::Scrape::parse(body.lines().map(|l| Ok(l.to_string()))).unwrap();
        lines.samples.into_iter().find(|s| s.metric == name && s.labels.get("site") == Some(site)).and_then(|s| match s
            .value
        {
            prometheus_parse::Value::Gauge(v) | prometheus_parse::Value::Untyped(v) => Some(v),
            _ => None,
        })
    }

    #[test]
    fn metrics_body_has_the_latest_run_of_every_site() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("history.db");
        let mut history = History::open(&path).unwrap();
        history.insert(&broken_report("2026-11-24T07:00:00.000Z"), "HQ", "floor 2").unwrap();
        history.insert(&healthy_report("2026-11-24T07:05:00.000Z"), "HQ", "floor 2").unwrap();
        history.insert(&broken_report("2026-11-24T07:01:00.000Z"), "Branch", "").unwrap();
        drop(history);
        let body = metrics_body(&History::open_read_only(&path).unwrap()).unwrap();
        assert_eq!(sample(&body, "nettriage_run_status", "HQ"), Some(0.0));
        assert_eq!(sample(&body, "nettriage_run_status", "Branch"), Some(2.0));
    }

    #[test]
    fn a_missing_database_is_an_error_and_is_not_created() {
        let dir = tempfile::tempdir().unwrap();
        let missing = dir.path().join("history.db");
        let e = open_history_read(&Some(missing.clone())).unwrap_err();
        assert!(matches!(e, RunError::History(crate::history::HistoryError::NoSuchDatabase { .. })), "{e}");
        assert!(!missing.exists(), "a reader never creates the database");
    }
}
