//! Unattended use: `nettriage survey` (repeated runs kept in the history and exported as
//! metrics) and `nettriage history` (list, show, export, trend).
//!
//! A survey run is never cut short: SIGINT and SIGTERM are caught, the run in progress
//! finishes and is stored (one transaction), and only then does the survey stop. Each run
//! is a full report, like `run`. Rendering stays in `render`; storage in [`crate::history`];
//! the exposition in [`crate::metrics`].

use std::io::Write;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::SystemTime;

use comfy_table::presets::UTF8_FULL_CONDENSED;
use comfy_table::{ContentArrangement, Table};

use crate::app::{self, RunError};
use crate::cli::{HistoryArgs, HistoryCommand, ServeArgs, SurveyArgs, TimerArgs};
use crate::config::{Config, Format};
use crate::history::{Filter, History, HistoryError, Trend};
use crate::report::{Report, RunStatus};
use crate::{metrics, render};

impl From<HistoryError> for RunError {
    fn from(e: HistoryError) -> RunError {
        RunError::Input { path: "history".into(), message: e.to_string() }
    }
}

fn io_err(what: &str, e: std::io::Error) -> RunError {
    RunError::Output { path: what.to_string(), source: e }
}

/// The history database: `--db`, else the default path (its directory is created).
fn open_db(db: &Option<PathBuf>) -> Result<History, RunError> {
    let path = db.clone().unwrap_or_else(|| PathBuf::from(crate::history::DEFAULT_PATH));
    if db.is_none()
        && let Some(dir) = path.parent()
    {
        std::fs::create_dir_all(dir).map_err(|e| io_err(&dir.display().to_string(), e))?;
    }
    Ok(History::open(&path)?)
}

/// `nettriage survey`: runs until `--count`, `--once`, or a signal; returns the last run's
/// exit code.
pub async fn survey(config: &Config, args: &SurveyArgs) -> Result<u8, RunError> {
    use tokio::signal::unix::{SignalKind, signal};
    // A survey records the neighbourhood too: on a wireless interface every run scans.
    let mut config = config.clone();
    config.wifi.scan = true;
    let config = &config;
    let mut history = open_db(&args.db)?;
    // Catch the signals before the first run, so that one arriving mid-run lets it finish.
    let stop = Arc::new(AtomicBool::new(false));
    let wake = Arc::new(tokio::sync::Notify::new());
    let mut sigint = signal(SignalKind::interrupt()).map_err(|e| io_err("signal handler", e))?;
    let mut sigterm = signal(SignalKind::terminate()).map_err(|e| io_err("signal handler", e))?;
    {
        let (stop, wake) = (Arc::clone(&stop), Arc::clone(&wake));
        tokio::spawn(async move {
            tokio::select! {
                _ = sigint.recv() => {}
                _ = sigterm.recv() => {}
            }
            stop.store(true, Ordering::SeqCst);
            wake.notify_one();
        });
    }
    let every: std::time::Duration = args.every.into();
    let mut done = 0u64;
    let mut last;
    loop {
        let started = tokio::time::Instant::now();
        let report = app::collect(config, &|_| {}).await?;
        let id = history.insert(&report, &args.site, &args.location)?;
        if let Some(dir) = &args.textfile {
            let text = metrics::render(&report, &args.site, &args.location);
            metrics::write_textfile(dir, "nettriage.prom", &text).map_err(|e| io_err(&dir.display().to_string(), e))?;
        }
        last = report.diagnosis.status.exit_code();
        let root = report.diagnosis.root_cause.as_ref().map(|r| format!(" ({})", r.code)).unwrap_or_default();
        let line = format!("run {id} at {}: {}{root}", report.started_at, report.diagnosis.status.as_str());
        writeln!(std::io::stdout(), "{line}").map_err(|e| io_err("standard output", e))?;
        done += 1;
        if args.once || args.count.is_some_and(|c| done >= c) || stop.load(Ordering::SeqCst) {
            break;
        }
        tokio::select! {
            _ = tokio::time::sleep_until(started + every) => {}
            _ = wake.notified() => {}
        }
        if stop.load(Ordering::SeqCst) {
            break;
        }
    }
    Ok(last)
}

/// The body of `/metrics`: the latest run of every site and location.
fn metrics_body(db: &Option<PathBuf>) -> Result<String, RunError> {
    let history = open_db(db)?;
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

/// `nettriage serve`: `/metrics` for Prometheus until SIGINT/SIGTERM.
pub async fn serve(args: &ServeArgs) -> Result<u8, RunError> {
    use tokio::signal::unix::{SignalKind, signal};
    // Fail now, not at the first scrape, when the database cannot be opened.
    open_db(&args.db)?;
    let listener = tokio::net::TcpListener::bind(args.listen)
        .await
        .map_err(|e| io_err(&format!("listening on {}", args.listen), e))?;
    let mut sigint = signal(SignalKind::interrupt()).map_err(|e| io_err("signal handler", e))?;
    let mut sigterm = signal(SignalKind::terminate()).map_err(|e| io_err("signal handler", e))?;
    // At most this many requests at once; more wait in the listen backlog.
    let slots = Arc::new(tokio::sync::Semaphore::new(16));
    loop {
        tokio::select! {
            _ = sigint.recv() => return Ok(0),
            _ = sigterm.recv() => return Ok(0),
            accepted = listener.accept() => {
                let Ok((stream, _)) = accepted else { continue };
                let Ok(permit) = Arc::clone(&slots).acquire_owned().await else { continue };
                let db = args.db.clone();
                tokio::spawn(async move {
                    answer(stream, db).await;
                    drop(permit);
                });
            }
        }
    }
}

fn filter(args: &HistoryArgs) -> Result<Filter, RunError> {
    let time = |text: &Option<String>, what: &str| -> Result<Option<SystemTime>, RunError> {
        text.as_deref()
            .map(|t| {
                humantime::parse_rfc3339_weak(t).map_err(|e| RunError::Input {
                    path: what.into(),
                    message: format!("`{t}` is not an RFC 3339 time: {e}"),
                })
            })
            .transpose()
    };
    let status = match args.status.as_deref() {
        None => None,
        Some("healthy") => Some(RunStatus::Healthy),
        Some("degraded") => Some(RunStatus::Degraded),
        Some("broken") => Some(RunStatus::Broken),
        Some(other) => {
            return Err(RunError::Input {
                path: "--status".into(),
                message: format!("`{other}` is not healthy, degraded or broken"),
            });
        }
    };
    Ok(Filter {
        site: args.site.clone(),
        location: args.location.clone(),
        since: time(&args.since, "--since")?,
        until: time(&args.until, "--until")?,
        status,
        limit: args.limit,
    })
}

/// `nettriage history`: list (default), show, export, trend.
pub fn history(args: &HistoryArgs) -> Result<u8, RunError> {
    let db = open_db(&args.db)?;
    let f = filter(args)?;
    let format = args.format.map(Format::from);
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    match &args.command {
        None | Some(HistoryCommand::List) => {
            let runs = db.list(&f)?;
            if format == Some(Format::Json) {
                print_json(&mut out, &runs)?;
            } else {
                let mut table = Table::new();
                table
                    .load_style(UTF8_FULL_CONDENSED)
                    .set_content_arrangement(ContentArrangement::Dynamic)
                    .force_no_tty();
                table.set_header(["id", "started", "site", "location", "status", "root cause", "ms"]);
                for r in runs {
                    table.add_row([
                        r.id.to_string(),
                        r.started_at,
                        r.site,
                        r.location,
                        r.status,
                        r.root_cause.unwrap_or_default(),
                        r.duration_ms.to_string(),
                    ]);
                }
                writeln!(out, "{table}").map_err(|e| io_err("standard output", e))?;
            }
        }
        Some(HistoryCommand::Show { id }) => {
            let value = db
                .get(*id)?
                .ok_or_else(|| RunError::Input { path: "history".into(), message: format!("no run with id {id}") })?;
            match serde_json::from_value::<Report>(value.clone()) {
                Ok(report) => render::write(&report, format.unwrap_or(Format::Table), &mut out, false)
                    .map_err(|e| io_err("standard output", e))?,
                // A report from another version: show it as stored.
                Err(_) => print_json(&mut out, &value)?,
            }
        }
        Some(HistoryCommand::Export) => {
            db.export(&f, &mut out)?;
        }
        Some(HistoryCommand::Trend) => {
            let trend = db.trend(&f)?;
            if format == Some(Format::Json) {
                print_json(&mut out, &trend)?;
            } else if format == Some(Format::Html) {
                write_trend_html(&db, &f, &trend, &mut out)?;
            } else {
                write_trend(&trend, &mut out).map_err(|e| io_err("standard output", e))?;
            }
        }
    }
    Ok(0)
}

/// The trend as text: one block per site and location.
pub fn write_trend(trend: &Trend, out: &mut impl Write) -> std::io::Result<()> {
    for g in &trend.groups {
        writeln!(
            out,
            "{} / {}: {} runs ({} healthy, {} degraded, {} broken), {} to {}",
            g.site, g.location, g.runs, g.healthy, g.degraded, g.broken, g.first_run, g.last_run
        )?;
        let mut table = Table::new();
        table.load_style(UTF8_FULL_CONDENSED).set_content_arrangement(ContentArrangement::Dynamic).force_no_tty();
        table.set_header(["measure", "p50", "p95", "max", "samples"]);
        for a in &g.availability {
            table.add_row([
                format!("{} available", a.check),
                format!("{:.1} %", a.ratio * 100.0),
                String::new(),
                String::new(),
                a.runs.to_string(),
            ]);
        }
        for (name, d) in [
            ("gateway RTT ms", &g.gateway_rtt_ms),
            ("gateway loss", &g.gateway_loss_ratio),
            ("DNS ms", &g.dns_ms),
            ("Wi-Fi signal dBm (p5 for p95)", &g.wifi_signal_dbm),
        ] {
            if let Some(d) = d {
                let hi = if name.starts_with("Wi-Fi") { d.p5 } else { d.p95 };
                table.add_row([
                    name.to_string(),
                    format!("{:.2}", d.p50),
                    format!("{hi:.2}"),
                    format!("{:.2}", d.max),
                    d.samples.to_string(),
                ]);
            }
        }
        writeln!(out, "{table}")?;
        if !g.root_causes.is_empty() {
            let causes: Vec<String> = g.root_causes.iter().map(|r| format!("{} ×{}", r.code, r.runs)).collect();
            writeln!(out, "Most frequent root causes: {}", causes.join(", "))?;
        }
    }
    Ok(())
}

fn print_json<T: serde::Serialize>(out: &mut impl Write, value: &T) -> Result<(), RunError> {
    serde_json::to_writer_pretty(&mut *out, value)
        .map_err(std::io::Error::other)
        .and_then(|()| writeln!(out))
        .map_err(|e| io_err("standard output", e))
}

/// Quotes one argument for a systemd `ExecStart=` line (double quotes, C escapes).
fn systemd_quote(arg: &str) -> String {
    let plain = !arg.is_empty() && arg.chars().all(|c| c.is_ascii_alphanumeric() || "-_./:=@,+".contains(c));
    if plain {
        return arg.to_string();
    }
    let mut out = String::from("\"");
    for c in arg.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '$' => out.push_str("$$"),
            '%' => out.push_str("%%"),
            '\n' => out.push_str("\\n"),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// The service and timer units for a survey every `args.every` (pure).
pub fn timer_units(binary: &str, args: &TimerArgs) -> (String, String) {
    let db = args.db.clone().unwrap_or_else(|| PathBuf::from(crate::history::DEFAULT_PATH));
    let mut exec = vec![binary.to_string(), "survey".into(), "--once".into()];
    exec.extend(["--site".into(), args.site.clone(), "--location".into(), args.location.clone()]);
    exec.extend(["--db".into(), db.display().to_string()]);
    let mut writable = vec![db.parent().map_or_else(|| "/var/lib/nettriage".into(), |p| p.display().to_string())];
    if let Some(dir) = &args.textfile {
        exec.extend(["--textfile".into(), dir.display().to_string()]);
        writable.push(dir.display().to_string());
    }
    exec.extend(args.run_options.iter().cloned());
    let exec: Vec<String> = exec.iter().map(|a| systemd_quote(a)).collect();
    let writable: Vec<String> = writable.iter().map(|a| systemd_quote(a)).collect();
    let every = args.every.to_string();
    let service = format!(
        "# Written by `nettriage survey install-timer`.\n\
         [Unit]\n\
         Description=nettriage site survey ({site} / {location})\n\
         Wants=network-online.target\n\
         After=network-online.target\n\n\
         [Service]\n\
         Type=oneshot\n\
         ExecStart={exec}\n\
         # A degraded (1) or broken (2) network is a result, stored in the history, not a unit failure.\n\
         SuccessExitStatus=1 2\n\
         AmbientCapabilities=CAP_NET_RAW CAP_NET_ADMIN\n\
         CapabilityBoundingSet=CAP_NET_RAW CAP_NET_ADMIN\n\
         NoNewPrivileges=yes\n\
         ProtectSystem=strict\n\
         ProtectHome=yes\n\
         ReadWritePaths={writable}\n\
         TimeoutStartSec=10min\n",
        site = args.site,
        location = args.location,
        exec = exec.join(" "),
        writable = writable.join(" "),
    );
    let timer = format!(
        "# Written by `nettriage survey install-timer`.\n\
         [Unit]\n\
         Description=Run the nettriage site survey every {every}\n\n\
         [Timer]\n\
         OnBootSec=1min\n\
         OnUnitActiveSec={every}\n\
         AccuracySec=10s\n\
         Persistent=true\n\n\
         [Install]\n\
         WantedBy=timers.target\n"
    );
    (service, timer)
}

/// `nettriage survey install-timer`: writes (or prints) the units.
pub fn install_timer(args: &TimerArgs) -> Result<u8, RunError> {
    let binary = std::env::current_exe().map_err(|e| io_err("the running binary's path", e))?;
    let (service, timer) = timer_units(&binary.display().to_string(), args);
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    let say = |out: &mut std::io::StdoutLock<'_>, text: &str| {
        writeln!(out, "{text}").map_err(|e| io_err("standard output", e))
    };
    if args.print {
        say(&mut out, &format!("# nettriage-survey.service\n{service}\n# nettriage-survey.timer\n{timer}"))?;
        return Ok(0);
    }
    for (name, text) in [("nettriage-survey.service", &service), ("nettriage-survey.timer", &timer)] {
        let path = args.unit_dir.join(name);
        std::fs::write(&path, text).map_err(|e| io_err(&path.display().to_string(), e))?;
        say(&mut out, &format!("wrote {}", path.display()))?;
    }
    say(&mut out, "enable it with: systemctl daemon-reload && systemctl enable --now nettriage-survey.timer")?;
    Ok(0)
}

/// How many of the newest runs the HTML trend page charts.
pub const CHARTED_RUNS: usize = 500;

/// One site's series for the charts, oldest first: gateway RTT, DNS time, Wi-Fi signal.
type Series = (Vec<Option<f64>>, Vec<Option<f64>>, Vec<Option<f64>>);

fn series(history: &History, filter: &Filter, site: &str, location: &str) -> Result<Series, RunError> {
    let f = Filter {
        site: Some(site.into()),
        location: Some(location.into()),
        limit: Some(CHARTED_RUNS),
        ..filter.clone()
    };
    let mut out: Series = (vec![], vec![], vec![]);
    for run in history.list(&f)?.into_iter().rev() {
        let report = history.get(run.id)?.and_then(|v| serde_json::from_value::<Report>(v).ok());
        let m = report.as_ref().map(metrics::Measurements::from_report);
        let mean = |xs: Vec<f64>| (!xs.is_empty()).then(|| xs.iter().sum::<f64>() / xs.len() as f64);
        out.0.push(m.as_ref().and_then(|m| mean(m.gateways.iter().filter_map(|g| g.avg_ms).collect())));
        out.1.push(m.as_ref().and_then(|m| mean(m.dns.iter().filter_map(|d| d.avg_ms).collect())));
        out.2.push(m.as_ref().and_then(|m| m.wifi_signal_dbm));
    }
    Ok(out)
}

/// The trend as one self-contained HTML page with SVG charts: latency and signal over
/// time and root-cause counts, per site and location.
pub fn write_trend_html(
    history: &History,
    filter: &Filter,
    trend: &Trend,
    out: &mut impl Write,
) -> Result<(), RunError> {
    use crate::render::html::{bar_chart, escape, line_chart};
    let mut h = String::from(
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'\">\
         <title>nettriage trend</title><style>body{font-family:system-ui,sans-serif;margin:1.5rem;color:#1d2330}\
         table{border-collapse:collapse}td,th{padding:.2rem .7rem;border-bottom:1px solid #ddd;text-align:left}\
         svg text{font-size:11px;fill:#333}</style></head><body><h1>nettriage trend</h1>\n",
    );
    for g in &trend.groups {
        h.push_str(&format!(
            "<section><h2>{} / {}</h2><p>{} runs: {} healthy, {} degraded, {} broken ({} to {})</p><table>\
             <tr><th>layer</th><th>available</th><th>runs</th></tr>",
            escape(&g.site),
            escape(&g.location),
            g.runs,
            g.healthy,
            g.degraded,
            g.broken,
            escape(&g.first_run),
            escape(&g.last_run)
        ));
        for a in &g.availability {
            h.push_str(&format!(
                "<tr><td>{}</td><td>{:.1} %</td><td>{}</td></tr>",
                escape(&a.check),
                a.ratio * 100.0,
                a.runs
            ));
        }
        h.push_str("</table>");
        let (rtt, dns, signal) = series(history, filter, &g.site, &g.location)?;
        h.push_str(&line_chart("Gateway RTT per run", "ms", &rtt));
        h.push_str(&line_chart("DNS answer time per run", "ms", &dns));
        h.push_str(&line_chart("Wi-Fi signal per run", "dBm", &signal));
        let causes: Vec<(String, Option<f64>)> =
            g.root_causes.iter().map(|r| (r.code.clone(), Some(r.runs as f64))).collect();
        if !causes.is_empty() {
            h.push_str(&bar_chart("Root causes (runs)", &causes).replace(" ms</text>", "</text>"));
        }
        h.push_str("</section>\n");
    }
    h.push_str("</body></html>\n");
    out.write_all(h.as_bytes()).map_err(|e| io_err("standard output", e))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(run_options: &[&str]) -> TimerArgs {
        TimerArgs {
            every: "15m".parse().unwrap(),
            site: "HQ".into(),
            location: "floor 2 \"west\" 100%".into(),
            db: None,
            textfile: Some(PathBuf::from("/var/lib/node_exporter/textfile_collector")),
            unit_dir: PathBuf::from("/etc/systemd/system"),
            print: true,
            run_options: run_options.iter().map(|s| s.to_string()).collect(),
        }
    }

    #[test]
    fn units_run_the_survey_once_per_period_with_quoted_arguments() {
        let (service, timer) = timer_units("/usr/local/bin/nettriage", &args(&["--target", "crm.example.com:443"]));
        let exec = service.lines().find(|l| l.starts_with("ExecStart=")).unwrap();
        assert_eq!(
            exec,
            "ExecStart=/usr/local/bin/nettriage survey --once --site HQ --location \"floor 2 \\\"west\\\" 100%%\" \
             --db /var/lib/nettriage/history.db --textfile /var/lib/node_exporter/textfile_collector \
             --target crm.example.com:443"
        );
        assert!(service.contains("SuccessExitStatus=1 2") && service.contains("AmbientCapabilities=CAP_NET_RAW"));
        assert!(service.contains("ReadWritePaths=/var/lib/nettriage /var/lib/node_exporter/textfile_collector"));
        assert!(timer.contains("OnUnitActiveSec=15m") && timer.contains("WantedBy=timers.target"));
    }

    #[test]
    fn units_are_written_to_the_unit_directory() {
        let dir = tempfile::tempdir().unwrap();
        let mut a = args(&[]);
        a.print = false;
        a.unit_dir = dir.path().to_path_buf();
        install_timer(&a).unwrap();
        for name in ["nettriage-survey.service", "nettriage-survey.timer"] {
            assert!(std::fs::read_to_string(dir.path().join(name)).unwrap().starts_with("# Written by"));
        }
    }
}
