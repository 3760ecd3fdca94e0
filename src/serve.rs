//! `/metrics` for Prometheus: a small, bounded HTTP server over the survey history.
//!
//! Every scrape reads the latest stored run of every site and location from the history
//! ([`crate::history`]) and renders it with [`crate::metrics::render_many`]. Requests are
//! bounded in size (8 KiB), time (5 s each way) and number (16 at once). The server runs
//! until the `shutdown` future given by the caller completes (the binary's `serve` command
//! passes SIGINT/SIGTERM); it never prints.

use std::future::Future;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;

use crate::app::RunError;
use crate::metrics;
use crate::report::Report;
use crate::survey::open_history;

/// The body of `/metrics`: the latest run of every site and location.
fn metrics_body(db: &Option<PathBuf>) -> Result<String, RunError> {
    let history = open_history(db)?;
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
async fn answer(mut stream: tokio::net::TcpStream, db: Option<PathBuf>) {
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
    let (status, kind, body) = match (method, path.split('?').next().unwrap_or("")) {
        ("GET", "/metrics") => match metrics_body(&db) {
            Ok(body) => ("200 OK", metrics::CONTENT_TYPE, body),
            Err(e) => ("500 Internal Server Error", "text/plain; charset=utf-8", format!("{e}\n")),
        },
        ("GET", "/") => ("200 OK", "text/plain; charset=utf-8", "nettriage: see /metrics\n".to_string()),
        ("GET", _) => ("404 Not Found", "text/plain; charset=utf-8", "not found\n".to_string()),
        _ => ("405 Method Not Allowed", "text/plain; charset=utf-8", "only GET\n".to_string()),
    };
    let head = format!(
        "HTTP/1.1 {status}\r\nContent-Type: {kind}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    );
    let _ = tokio::time::timeout(std::time::Duration::from_secs(5), async {
        let _ = stream.write_all(head.as_bytes()).await;
        let _ = stream.write_all(body.as_bytes()).await;
        let _ = stream.shutdown().await;
    })
    .await;
}

/// Serves `/metrics` on `listen` from the history `db` until `shutdown` completes.
///
/// Fails at once, not at the first scrape, when the database cannot be opened or the
/// address cannot be bound.
pub async fn serve(
    listen: SocketAddr,
    db: Option<PathBuf>,
    shutdown: impl Future<Output = ()>,
) -> Result<(), RunError> {
    open_history(&db)?;
    let listener =
        tokio::net::TcpListener::bind(listen).await.map_err(|source| RunError::Listen { addr: listen, source })?;
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
                let db = db.clone();
                tokio::spawn(async move {
                    answer(stream, db).await;
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
        let body = metrics_body(&Some(path)).unwrap();
        assert_eq!(sample(&body, "nettriage_run_status", "HQ"), Some(0.0));
        assert_eq!(sample(&body, "nettriage_run_status", "Branch"), Some(2.0));
    }

    #[test]
    fn a_missing_database_directory_is_an_error() {
        let dir = tempfile::tempdir().unwrap();
        let missing = Some(dir.path().join("missing").join("history.db"));
        assert!(matches!(metrics_body(&missing), Err(RunError::History(_))));
    }
}
