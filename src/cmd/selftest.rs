//! `nettriage selftest`: the end user's one-click self-test. A live checklist in plain
//! words (`render::checklist`), one sentence, and an HTML report file for IT.
//!
//! The verdict is printed before anything is written, and the report goes to the first
//! place that takes it ([`report_locations`]): `--output`, the current directory, the
//! desktop, the downloads folder, the home directory, the temporary directory. The user
//! is told the absolute path and a `file://` link to it; the exit code is the run's
//! status, wherever the file went.

#![allow(clippy::print_stdout, clippy::print_stderr)]

use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};

use indicatif::ProgressDrawTarget;
use nettriage::app::{self, RunError};
use nettriage::config::Config;
use nettriage::render;
use nettriage::render::checklist::Checklist;
use nettriage::report::CheckId;

use super::ignore_broken_pipe;

/// Runs with the checklist, prints the verdict, writes the report file, and returns the
/// exit code.
pub async fn selftest(config: &Config, format_given: bool, ticket: bool) -> Result<u8, RunError> {
    if format_given {
        return Err(RunError::NotApplicable {
            option: "--format".into(),
            command: "selftest",
            why: "the self-test prints its checklist and writes an HTML report; for JSON use --output FILE.json or `run --format json`",
        });
    }
    if ticket && let Err(code) = super::ticket::check_before_run(config) {
        return Ok(code);
    }
    // Behind a captive portal with no configuration the end user's test must not say
    // healthy: without a configured connectivity URL, NetworkManager's public endpoint.
    let config = &Config { web: config.web.clone().for_selftest(), ..config.clone() };
    let live = std::io::stdout().is_terminal().then(ProgressDrawTarget::stdout);
    let profiles: Vec<CheckId> = config.profiles.enabled.iter().map(|p| p.check()).collect();
    let checklist = Checklist::new(live, Box::new(std::io::stdout()), &profiles);
    let stdout = std::io::stdout();
    // The checklist draws its own header: nothing else writes to the terminal until it is
    // settled, so the bars are never shifted under a stray line.
    let report = app::collect(config, &|event| checklist.update(&event)).await?;
    checklist.finish(&report.checks);
    ignore_broken_pipe(writeln!(stdout.lock(), "\n{}", render::sentence(&report)))?;
    if let Some(line) = render::neighbour_line(&report) {
        ignore_broken_pipe(writeln!(stdout.lock(), "{line}"))?;
    }
    if report.checks.iter().any(render::checklist::only_privilege_missing) {
        ignore_broken_pipe(writeln!(
            stdout.lock(),
            "Some checks need administrator rights and were not done: run it again with \
             `sudo nettriage selftest`, or ask IT to allow it (`setcap cap_net_raw,cap_net_admin+ep` on the program)."
        ))?;
    }
    let name = app::default_report_name(&report);
    let home = dirs::home_dir();
    // xdg-user-dirs names the desktop; without it, ~/Desktop if there is one.
    let desktop = dirs::desktop_dir().or_else(|| home.as_ref().map(|h| h.join("Desktop")).filter(|d| d.is_dir()));
    let places = report_locations(
        config.output.as_deref(),
        &name,
        std::env::current_dir().ok(),
        [desktop, dirs::download_dir(), home],
        std::env::temp_dir(),
    );
    let mut failures: Vec<(PathBuf, RunError)> = Vec::new();
    for path in places {
        match app::write_report(&report, &path) {
            Ok(()) => {
                let shown = std::path::absolute(&path).unwrap_or(path);
                let mut out = stdout.lock();
                ignore_broken_pipe(writeln!(out, "Report for IT: {}", shown.display()))?;
                if let Ok(link) = url::Url::from_file_path(&shown) {
                    ignore_broken_pipe(writeln!(out, "Open it: {link}"))?;
                }
                for (tried, error) in &failures {
                    if config.output.as_ref() == Some(tried) {
                        eprintln!("nettriage: could not save the report as {}: {error}", tried.display());
                    } else {
                        tracing::info!(path = %tried.display(), %error, "report not written there");
                    }
                }
                let code = report.diagnosis.status.exit_code();
                if ticket {
                    return Ok(super::ticket::after_run(config, &report, code).await);
                }
                super::ticket::flush_after_run(config, &report).await;
                return Ok(code);
            }
            Err(e) => failures.push((path, e)),
        }
    }
    // Nowhere took it: say where it was tried, and fail with the last reason; the ticket
    // (or the outbox) is then the only copy.
    for (tried, error) in &failures {
        eprintln!("nettriage: could not save the report in {}: {error}", tried.display());
    }
    if ticket {
        super::ticket::after_run(config, &report, 0).await;
    }
    Err(failures.pop().map_or(RunError::NoReportLocation, |(_, e)| e))
}

/// Where the self-test tries to write its report, in order: `output` if given, then
/// `name` in the current directory, each of `user_dirs` (desktop, downloads, home), and
/// the temporary directory; each place once.
pub fn report_locations(
    output: Option<&Path>,
    name: &str,
    current: Option<PathBuf>,
    user_dirs: [Option<PathBuf>; 3],
    temp: PathBuf,
) -> Vec<PathBuf> {
    let mut places: Vec<PathBuf> = output.map(Path::to_path_buf).into_iter().collect();
    let dirs = current.into_iter().chain(user_dirs.into_iter().flatten()).chain([temp]);
    for dir in dirs {
        let path = dir.join(name);
        if !places.contains(&path) {
            places.push(path);
        }
    }
    places
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn locations_are_output_cwd_desktop_downloads_home_temp_each_once() {
        let p = |s: &str| PathBuf::from(s);
        let places = report_locations(
            Some(Path::new("/x/out.html")),
            "r.html",
            Some(p("/home/ann")),
            [Some(p("/home/ann/Desktop")), None, Some(p("/home/ann"))],
            p("/tmp"),
        );
        assert_eq!(places, [p("/x/out.html"), p("/home/ann/r.html"), p("/home/ann/Desktop/r.html"), p("/tmp/r.html")]);
    }
}
