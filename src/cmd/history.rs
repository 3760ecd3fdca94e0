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

use super::cli::{FormatArg, HistoryArgs, HistoryCommand};
use super::{print_json, stdout_error};

/// A time for `--since`/`--until`: RFC 3339 (UTC unless an offset is given), a date
/// (`2026-11-30`, midnight UTC), or an age before `now` (`24h`, `7d`, `90min`).
pub fn parse_time(text: &str, now: SystemTime) -> Option<SystemTime> {
    let text = text.trim();
    if let Ok(t) = humantime::parse_rfc3339_weak(text) {
        return Some(t);
    }
    if text.len() == 10
        && let Ok(t) = humantime::parse_rfc3339_weak(&format!("{text}T00:00:00"))
    {
        return Some(t);
    }
    let age = humantime::parse_duration(text).ok()?;
    // No run is older than the epoch (and times before it cannot be written as RFC 3339).
    Some(now.checked_sub(age).unwrap_or(SystemTime::UNIX_EPOCH).max(SystemTime::UNIX_EPOCH))
}

fn filter(args: &HistoryArgs) -> Result<Filter, RunError> {
    let now = SystemTime::now();
    let time = |text: &Option<String>, what: &'static str| -> Result<Option<SystemTime>, RunError> {
        text.as_deref()
            .map(|t| {
                parse_time(t, now).ok_or_else(|| RunError::BadValue {
                    flag: what,
                    value: t.to_string(),
                    expected: "an RFC 3339 time, a date (2026-11-30) or an age (24h, 7d)",
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

/// Refuses options the subcommand would ignore: a format it cannot write, filters on
/// `show` (which takes one run by id).
fn check_options(args: &HistoryArgs) -> Result<(), RunError> {
    let (command, formats, hint): (&'static str, &[FormatArg], &'static str) = match &args.command {
        None | Some(HistoryCommand::List) => {
            ("history list", &[FormatArg::Table, FormatArg::Json], "list writes table or json")
        }
        Some(HistoryCommand::Show { .. }) => {
            ("history show", &[FormatArg::Table, FormatArg::Json, FormatArg::Markdown, FormatArg::Html], "")
        }
        Some(HistoryCommand::Export) => ("history export", &[FormatArg::Json], "export always writes JSON Lines"),
        Some(HistoryCommand::Trend) => {
            ("history trend", &[FormatArg::Table, FormatArg::Json, FormatArg::Html], "trend writes table, json or html")
        }
    };
    if let Some(format) = args.format
        && !formats.contains(&format)
    {
        let name = format!("{format:?}").to_lowercase();
        return Err(RunError::NotApplicable { option: format!("--format {name}"), command, why: hint });
    }
    if matches!(args.command, Some(HistoryCommand::Show { .. })) {
        let filters = [
            ("--site", args.site.is_some()),
            ("--location", args.location.is_some()),
            ("--since", args.since.is_some()),
            ("--until", args.until.is_some()),
            ("--status", args.status.is_some()),
            ("--limit", args.limit.is_some()),
        ];
        if let Some((flag, _)) = filters.iter().find(|(_, given)| *given) {
            return Err(RunError::NotApplicable {
                option: flag.to_string(),
                command,
                why: "show takes one run by its id; filter with `history list`",
            });
        }
    }
    Ok(())
}

/// `nettriage history`: list (default), show, export, trend.
pub fn history(args: &HistoryArgs) -> Result<u8, RunError> {
    check_options(args)?;
    let f = filter(args)?;
    let db = open_history_read(&args.db)?;
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
            if trend.groups.is_empty() {
                // Said on stderr, so a JSON or HTML reader still gets a valid document.
                eprintln!("nettriage: no stored runs match these filters; nothing to summarise");
            }
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

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    #[test]
    fn times_are_rfc3339_dates_or_ages() {
        let now = humantime::parse_rfc3339("2026-11-30T12:00:00Z").unwrap();
        let at = |t: &str| humantime::parse_rfc3339(t).unwrap();
        assert_eq!(parse_time("2026-11-30T08:00:00Z", now), Some(at("2026-11-30T08:00:00Z")));
        assert_eq!(parse_time("2026-11-30", now), Some(at("2026-11-30T00:00:00Z")));
        assert_eq!(parse_time("24h", now), Some(now - Duration::from_secs(86_400)));
        assert_eq!(parse_time("7d", now), Some(now - Duration::from_secs(7 * 86_400)));
        assert_eq!(parse_time("100000d", now), Some(SystemTime::UNIX_EPOCH), "clamped to the epoch");
        for bad in ["yesterday", "2026-13-40", "", "-5h"] {
            assert_eq!(parse_time(bad, now), None, "{bad}");
        }
    }
}
