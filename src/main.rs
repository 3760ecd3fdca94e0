//! The `nettriage` binary: parse arguments, build the config, run the command, exit.
//!
//! Everything that knows about clap or writes to stdout/stderr lives in the binary's
//! command modules ([`cmd`]); the `nettriage` library below them takes plain settings,
//! returns values and never prints.

mod cmd;

use std::process::ExitCode;

use clap::Parser;
use clap::error::ErrorKind;
use nettriage::app::{EXIT_COULD_NOT_RUN, RunError};
use nettriage::config::Config;
use nettriage::history::HistoryError;

use crate::cmd::cli::{Cli, Command, ServeArgs, SurveyArgs, SurveyCommand};

#[allow(clippy::print_stderr)]
fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            let _ = e.print();
            return match e.kind() {
                ErrorKind::DisplayHelp | ErrorKind::DisplayVersion => ExitCode::SUCCESS,
                _ => ExitCode::from(EXIT_COULD_NOT_RUN),
            };
        }
    };
    init_logging(cli.verbose);
    enum Job {
        Run,
        Selftest,
        Survey(Box<SurveyArgs>),
        Serve(ServeArgs),
    }
    let (args, job) = match cli.command {
        Some(Command::Run(args)) => (args, Job::Run),
        Some(Command::Selftest(args)) => (args, Job::Selftest),
        Some(Command::Survey(survey)) => match &survey.command {
            Some(SurveyCommand::InstallTimer(timer)) => {
                return exit(cmd::install_timer::install_timer(timer));
            }
            None => (survey.run.clone(), Job::Survey(survey)),
        },
        Some(Command::Ticket(args)) => return exit(cmd::ticket::ticket(&args)),
        Some(Command::Diff(args)) => return exit(cmd::diff::diff(&args)),
        Some(Command::Analyze(args)) => return exit(cmd::analyze::analyze(&args)),
        Some(Command::History(args)) => return exit(cmd::history::history(&args)),
        Some(Command::Codes(args)) => return exit(cmd::codes::codes(&args)),
        Some(Command::Completions(args)) => return exit(cmd::codes::completions(&args)),
        Some(Command::Manpages(args)) => return exit(cmd::codes::manpages(&args)),
        Some(Command::Serve(args)) => (cli.run, Job::Serve(args)),
        None => (cli.run, Job::Run),
    };
    let format_given = args.format.is_some();
    let ticket = args.ticket;
    let config = match Config::load(&args.overrides()) {
        Ok(config) => config,
        Err(e) => {
            eprintln!("nettriage: {e}");
            return ExitCode::from(EXIT_COULD_NOT_RUN);
        }
    };
    let runtime = match tokio::runtime::Builder::new_current_thread().enable_all().build() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("nettriage: cannot start the async runtime: {e}");
            return ExitCode::from(EXIT_COULD_NOT_RUN);
        }
    };
    let result = match job {
        Job::Run => runtime.block_on(cmd::run::run(&config, ticket)),
        Job::Selftest => runtime.block_on(cmd::selftest::selftest(&config, format_given, ticket)),
        Job::Survey(survey) => runtime.block_on(cmd::survey::survey(&config, &survey)),
        Job::Serve(args) => runtime.block_on(cmd::serve::serve(&args)),
    };
    exit(result)
}

/// The process exit code for a command's result; an error is printed and means 3.
/// Standard output closed by the reader (`nettriage history | head`) is not an error: the
/// command stops quietly with 0, as ripgrep and the classic tools do.
#[allow(clippy::print_stderr)]
fn exit(result: Result<u8, RunError>) -> ExitCode {
    match result {
        Ok(code) => ExitCode::from(code),
        Err(RunError::Output { source, .. } | RunError::History(HistoryError::Export(source)))
            if source.kind() == std::io::ErrorKind::BrokenPipe =>
        {
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("nettriage: {e}");
            ExitCode::from(EXIT_COULD_NOT_RUN)
        }
    }
}

fn init_logging(verbose: u8) {
    let level = match verbose {
        0 => "warn",
        1 => "info",
        2 => "debug",
        _ => "trace",
    };
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(level));
    tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr).init();
}
