//! `nettriage history`: list, show, export and trend over the stored survey runs.
//!
//! The queries are the library's `history::History` (opened with
//! `survey::open_history_read`, which never creates one); tables are drawn here, reports and trends by the renderers
//! (`render::write`, `render::trend`).

#![allow(clippy::print_stdout, clippy::print_stderr)]

use std::io::Write;
use std::time::SystemTime;

use comfy_table::presets::UTF8_FULL_CONDENSED;
use comfy_table::{ContentArrangement, Table};

use nettriage::app::RunError;
use nettriage::config::Format;
use nettriage::history::Filter;
use nettriage::render;
use nettriage::render::trend::{write_trend, write_trend_html};
use nettriage::report::{Report, RunStatus};
use nettriage::survey::{open_history_read, trend_series};

use super::cli::{HistoryArgs, HistoryCommand};
use super::{print_json, stdout_error};

fn filter(args: &HistoryArgs) -> Result<Filter, RunError> {
    let time = |text: &Option<String>, what: &'static str| -> Result<Option<SystemTime>, RunError> {
        text.as_deref()
            .map(|t| {
                humantime::parse_rfc3339_weak(t).map_err(|_| RunError::BadValue {
                    flag: what,
                    value: t.to_string(),
                    expected: "an RFC 3339 time",
                })
            })
            .transpose()
    };
    let status = match args.status.as_deref() {
        None => None,
        Some("healthy") => Some(RunStatus::Healthy),
        Some("degraded") => Some(RunStatus::Degraded),
        Some("broken") => Some(RunStatus::Broken),
        Some("unknown") => Some(RunStatus::Unknown),
        Some(other) => {
            return Err(RunError::BadValue {
                flag: "--status",
                value: other.to_string(),
                expected: "healthy, degraded, broken or unknown",
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
    let db = open_history_read(&args.db)?;
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
                writeln!(out, "{table}").map_err(stdout_error)?;
            }
        }
        Some(HistoryCommand::Show { id }) => {
            let value = db.get(*id)?.ok_or(RunError::NoSuchRun(*id))?;
            match serde_json::from_value::<Report>(value.clone()) {
                Ok(report) => {
                    render::write(&report, format.unwrap_or(Format::Table), &mut out, false).map_err(stdout_error)?
                }
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
                let series = trend_series(&db, &f, &trend)?;
                write_trend_html(&trend, &series, &mut out).map_err(stdout_error)?;
            } else {
                write_trend(&trend, &mut out).map_err(stdout_error)?;
            }
        }
    }
    Ok(0)
}
