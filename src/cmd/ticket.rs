//! `nettriage ticket` (deliver a saved report, `list` and `flush` the outbox) and the
//! hand-off of `--ticket` on `run` and `selftest`.
//!
//! The work is the library's `ticket` module: `Ticket::from_report`,
//! `ticket::outbox::deliver_or_queue`, `Outbox::{list, flush}`. This module reads the
//! report file, says what happened in words, and maps it to an exit code: 0 delivered (or
//! delivered before), 1 queued for a retry, 2 refused and kept marked failed, 3 a
//! configuration error or a ticket that could not be kept. On `run`/`selftest` the exit
//! code stays the run's unless the ticket settings are wrong or the ticket was lost.

#![allow(clippy::print_stdout, clippy::print_stderr)]

use std::io::Write;
use std::path::Path;
use std::time::Duration;

use nettriage::app::{self, EXIT_COULD_NOT_RUN, RunError};
use nettriage::config::{Config, Overrides, TicketSettings};
use nettriage::report::{Report, RunStatus};
use nettriage::ticket::outbox::{self, EntryState, FlushOptions, FlushSummary, Handoff, Outbox};
use nettriage::ticket::{self, Ticket};

use super::cli::{TicketArgs, TicketCommand};
use super::ignore_broken_pipe;

/// How long a run may spend delivering the outbox after it is done.
pub const FLUSH_AFTER_RUN: Duration = Duration::from_secs(5);

/// Exit code: the ticket is queued for a retry.
pub const EXIT_QUEUED: u8 = 1;
/// Exit code: the ticket was refused and is kept marked failed.
pub const EXIT_REFUSED: u8 = 2;

/// `nettriage ticket ...`: returns the exit code.
pub fn ticket(args: &TicketArgs) -> Result<u8, RunError> {
    let overrides = Overrides { config: args.config.clone(), ..Overrides::default() };
    let config = match Config::load(&overrides) {
        Ok(config) => config,
        Err(e) => {
            eprintln!("nettriage: {e}");
            return Ok(EXIT_COULD_NOT_RUN);
        }
    };
    let settings = &config.ticket;
    match &args.command {
        Some(TicketCommand::List) => list(settings),
        Some(TicketCommand::Flush { retry_failed }) => {
            if let Err(e) = ticket::check_settings(settings) {
                eprintln!("nettriage: {e}");
                return Ok(EXIT_COULD_NOT_RUN);
            }
            let runtime = runtime()?;
            let outbox = Outbox::for_settings(settings);
            match runtime.block_on(outbox.flush(settings, FlushOptions { retry_failed: *retry_failed })) {
                Ok(summary) => Ok(print_flush(&summary, &outbox, false)),
                Err(e) => {
                    eprintln!("nettriage: {e}");
                    Ok(EXIT_COULD_NOT_RUN)
                }
            }
        }
        None => {
            let Some(path) = &args.report else {
                eprintln!("nettriage: name a REPORT.json to deliver, or use `ticket list` or `ticket flush`");
                return Ok(EXIT_COULD_NOT_RUN);
            };
            if let Err(e) = ticket::check_settings(settings) {
                eprintln!("nettriage: {e}");
                return Ok(EXIT_COULD_NOT_RUN);
            }
            let report = app::read_report(path)?;
            let runtime = runtime()?;
            let code = runtime.block_on(hand_off(settings, &report, args.capture.as_deref(), false));
            Ok(code)
        }
    }
}

fn runtime() -> Result<tokio::runtime::Runtime, RunError> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| RunError::Output { path: "the async runtime".into(), source: e })
}

/// Checks the ticket settings before a run with `--ticket`: a configuration error is said
/// now (exit code 3), not after the run.
pub fn check_before_run(config: &Config) -> Result<(), u8> {
    ticket::check_settings(&config.ticket).map(|_| ()).map_err(|e| {
        eprintln!("nettriage: --ticket: {e}");
        EXIT_COULD_NOT_RUN
    })
}

/// Builds the ticket for `report`, delivers or queues it, and says what happened (on
/// stderr when `after_run`, beside a report on stdout). Returns the `ticket` command's
/// exit code for it (0, 1, 2 or 3).
pub async fn hand_off(settings: &TicketSettings, report: &Report, capture: Option<&Path>, after_run: bool) -> u8 {
    let ticket = match Ticket::from_report(report, settings, capture) {
        Ok(ticket) => ticket,
        Err(e) => {
            eprintln!("nettriage: ticket not made: {e}");
            return EXIT_COULD_NOT_RUN;
        }
    };
    let say = |line: String| {
        if after_run {
            eprintln!("nettriage: {line}");
        } else {
            let _ = ignore_broken_pipe(writeln!(std::io::stdout(), "{line}"));
        }
    };
    match outbox::deliver_or_queue(settings, &ticket).await {
        Handoff::Delivered(receipt) => {
            say(format!("ticket delivered to {}: {}", receipt.system.name(), receipt.reference));
            0
        }
        Handoff::AlreadySent => {
            say(format!("ticket {} was delivered before; not sent again", ticket.key));
            0
        }
        Handoff::Queued { error, outbox } => {
            eprintln!(
                "nettriage: the ticket was not delivered ({error}); it is queued in {} and will be sent by \
                 `nettriage ticket flush` or the next run",
                outbox.display()
            );
            EXIT_QUEUED
        }
        Handoff::Failed { error, outbox } => {
            eprintln!(
                "nettriage: the ticket was refused ({error}); it is kept in {} marked failed: fix the cause, \
                 then `nettriage ticket flush --retry-failed`",
                outbox.display()
            );
            if error.is_config() { EXIT_COULD_NOT_RUN } else { EXIT_REFUSED }
        }
        Handoff::InProgress { outbox } => {
            say(format!(
                "ticket {} is being delivered by another nettriage process (outbox {})",
                ticket.key,
                outbox.display()
            ));
            0
        }
        Handoff::NotKept { error, outbox } => {
            eprintln!(
                "nettriage: the ticket was not delivered ({error}) and the outbox could not keep it ({outbox}); \
                 the report itself is where the run put it"
            );
            EXIT_COULD_NOT_RUN
        }
    }
}

/// `--ticket` after a run: the run's exit code, or 3 when the ticket settings were wrong
/// or the ticket was lost (a queued or refused ticket leaves the code alone).
pub async fn after_run(config: &Config, report: &Report, run_code: u8) -> u8 {
    let handed = hand_off(&config.ticket, report, config.capture.as_deref(), true).await;
    if handed == EXIT_COULD_NOT_RUN {
        return EXIT_COULD_NOT_RUN;
    }
    // A ticket that just failed for a transient reason would fail again at once.
    if handed != EXIT_QUEUED {
        flush_after_run(config, report).await;
    }
    run_code
}

/// After a run that reached the network (healthy or degraded), delivers what the outbox
/// holds, bounded by [`FLUSH_AFTER_RUN`]; says on stderr what it delivered.
pub async fn flush_after_run(config: &Config, report: &Report) {
    if !matches!(report.diagnosis.status, RunStatus::Healthy | RunStatus::Degraded) {
        return;
    }
    match outbox::flush_after_run(&config.ticket, FLUSH_AFTER_RUN).await {
        None => {}
        Some(Ok(summary)) => {
            print_flush(&summary, &Outbox::for_settings(&config.ticket), true);
        }
        Some(Err(e)) => eprintln!("nettriage: {e}"),
    }
}

/// Says what a flush did; returns the exit code of `ticket flush`: 0 everything went, 1
/// some are still queued, 2 some were refused.
fn print_flush(summary: &FlushSummary, outbox: &Outbox, after_run: bool) -> u8 {
    let mut lines = Vec::new();
    for (key, receipt) in &summary.delivered {
        lines.push(format!("delivered {key} to {}: {}", receipt.system.name(), receipt.reference));
    }
    for key in &summary.already_sent {
        lines.push(format!("{key} was delivered before: removed from the outbox, not sent again"));
    }
    for (key, error) in &summary.failed {
        lines.push(format!("{key} refused ({error}): kept, marked failed"));
    }
    for (key, error) in &summary.postponed {
        lines.push(format!("{key} not delivered ({error}): still queued in {}", outbox.dir().display()));
    }
    for line in lines {
        if after_run {
            eprintln!("nettriage: outbox: {line}");
        } else {
            let _ = ignore_broken_pipe(writeln!(std::io::stdout(), "{line}"));
        }
    }
    if !after_run
        && summary.delivered.is_empty()
        && summary.already_sent.is_empty()
        && summary.failed.is_empty()
        && summary.postponed.is_empty()
    {
        let _ = ignore_broken_pipe(writeln!(std::io::stdout(), "nothing to deliver in {}", outbox.dir().display()));
    }
    if !summary.failed.is_empty() {
        EXIT_REFUSED
    } else if !summary.postponed.is_empty() {
        EXIT_QUEUED
    } else {
        0
    }
}

/// `ticket list`: the outbox, oldest first.
fn list(settings: &TicketSettings) -> Result<u8, RunError> {
    let outbox = Outbox::for_settings(settings);
    let entries = match outbox.list() {
        Ok(entries) => entries,
        Err(e) => {
            eprintln!("nettriage: {e}");
            return Ok(EXIT_COULD_NOT_RUN);
        }
    };
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    if entries.is_empty() {
        ignore_broken_pipe(writeln!(out, "the outbox {} is empty", outbox.dir().display()))?;
        return Ok(0);
    }
    ignore_broken_pipe(writeln!(
        out,
        "{:<32}  {:<7}  {:>8}  {:<24}  {:>10}  SUBJECT",
        "KEY", "STATE", "ATTEMPTS", "QUEUED", "BYTES"
    ))?;
    for e in &entries {
        ignore_broken_pipe(writeln!(
            out,
            "{:<32}  {:<7}  {:>8}  {:<24}  {:>10}  {}",
            e.key,
            e.state.as_str(),
            e.attempts,
            e.queued_at.to_string(),
            e.bytes,
            e.subject
        ))?;
        if let Some(error) = &e.last_error
            && e.state != EntryState::Sending
        {
            ignore_broken_pipe(writeln!(out, "    last error: {error}"))?;
        }
        if let Some(when) = e.not_before {
            ignore_broken_pipe(writeln!(out, "    not sent before: {when} (the system's Retry-After)"))?;
        }
    }
    Ok(0)
}
