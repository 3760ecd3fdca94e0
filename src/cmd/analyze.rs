//! `nettriage analyze FILE.pcap` (or `-` for standard input): the library streams and
//! judges the capture's exchanges (`app::analyze_reader`); this module opens the input,
//! draws a progress bar on a terminal for files that take more than a second, renders the
//! report and writes `--output`.

#![allow(clippy::print_stdout, clippy::print_stderr)]

use std::io::{IsTerminal, Read};
use std::path::Path;
use std::time::{Duration, Instant};

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use nettriage::app::{self, RunError};
use nettriage::config::Format;
use nettriage::pcap::PcapError;
use nettriage::render;

use super::cli::AnalyzeArgs;
use super::ignore_broken_pipe;

/// How long reading may take before the progress bar appears.
const PROGRESS_AFTER: Duration = Duration::from_secs(1);

/// Reports a capture's exchanges; returns its status's exit code.
pub fn analyze(args: &AnalyzeArgs) -> Result<u8, RunError> {
    if let Some(path) = &args.output {
        nettriage::files::check_file_target(path)?;
    }
    // Only the site's IPv6 and neighbours settings matter to a capture (expected routers,
    // expected VLAN); the file is read as `run` reads it, so a broken one is the same
    // configuration error.
    let overrides = nettriage::config::Overrides { config: args.config.clone(), ..Default::default() };
    let (ipv6, neighbours) = match nettriage::config::Config::load(&overrides) {
        Ok(config) => (config.ipv6, config.neighbours),
        Err(e) => {
            eprintln!("nettriage: {e}");
            return Ok(app::EXIT_COULD_NOT_RUN);
        }
    };
    let report = if args.capture == Path::new("-") {
        app::analyze_reader_with(std::io::stdin().lock(), "-", args.redact, ipv6, neighbours)?
    } else {
        let path = &args.capture;
        let fail = |source| RunError::ReadCapture {
            path: path.clone(),
            source: PcapError::Io { path: path.display().to_string(), source },
        };
        let file = std::fs::File::open(path).map_err(fail)?;
        let len = file.metadata().map_err(fail)?.len();
        let reader = Progress::new(std::io::BufReader::new(file), len);
        app::analyze_reader_with(reader, &path.display().to_string(), args.redact, ipv6, neighbours)?
    };
    let format = args.format.map_or(Format::Table, Format::from);
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    ignore_broken_pipe(render::write(&report, format, &mut out, false))?;
    if let Some(path) = &args.output {
        app::write_report(&report, path)?;
    }
    Ok(report.diagnosis.status.exit_code())
}

/// A reader that shows how much of the file was read, on stderr when it is a terminal,
/// once reading has taken longer than [`PROGRESS_AFTER`].
struct Progress<R> {
    inner: R,
    len: u64,
    read: u64,
    started: Instant,
    live: bool,
    bar: Option<ProgressBar>,
}

impl<R> Progress<R> {
    fn new(inner: R, len: u64) -> Progress<R> {
        let live = std::io::stderr().is_terminal();
        Progress { inner, len, read: 0, started: Instant::now(), live, bar: None }
    }
}

impl<R: Read> Read for Progress<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.read += n as u64;
        if self.live && self.bar.is_none() && self.started.elapsed() >= PROGRESS_AFTER {
            let bar = ProgressBar::with_draw_target(Some(self.len), ProgressDrawTarget::stderr());
            if let Ok(style) = ProgressStyle::with_template("reading {bar:40} {bytes}/{total_bytes} ({eta} left)") {
                bar.set_style(style);
            }
            self.bar = Some(bar);
        }
        if let Some(bar) = &self.bar {
            bar.set_position(self.read);
        }
        Ok(n)
    }
}

impl<R> Drop for Progress<R> {
    fn drop(&mut self) {
        if let Some(bar) = self.bar.take() {
            bar.finish_and_clear();
        }
    }
}
