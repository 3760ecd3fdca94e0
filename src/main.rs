//! The `nettriage` binary: parse arguments, build the config, run, exit.

use std::process::ExitCode;

use clap::Parser;
use clap::error::ErrorKind;
use nettriage::app::{self, EXIT_COULD_NOT_RUN};
use nettriage::cli::{Cli, Command};
use nettriage::config::Config;

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
        Survey(Box<nettriage::cli::SurveyArgs>),
        Serve(nettriage::cli::ServeArgs),
    }
    let (args, job) = match cli.command {
        Some(Command::Run(args)) => (args, Job::Run),
        Some(Command::Selftest(args)) => (args, Job::Selftest),
        Some(Command::Survey(survey)) => match &survey.command {
            Some(nettriage::cli::SurveyCommand::InstallTimer(timer)) => {
                return exit(nettriage::survey::install_timer(timer));
            }
            None => (survey.run.clone(), Job::Survey(survey)),
        },
        Some(Command::Diff(args)) => return exit(app::diff(&args)),
        Some(Command::Analyze(args)) => return exit(app::analyze(&args)),
        Some(Command::History(args)) => return exit(nettriage::survey::history(&args)),
        Some(Command::Serve(args)) => (cli.run, Job::Serve(args)),
        None => (cli.run, Job::Run),
    };
    let config = match Config::from_args(&args) {
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
        Job::Run => runtime.block_on(app::run(&config)),
        Job::Selftest => runtime.block_on(app::selftest(&config)),
        Job::Survey(survey) => runtime.block_on(nettriage::survey::survey(&config, &survey)),
        Job::Serve(args) => runtime.block_on(nettriage::survey::serve(&args)),
    };
    exit(result)
}

/// The process exit code for a command's result; an error is printed and means 3.
#[allow(clippy::print_stderr)]
fn exit(result: Result<u8, app::RunError>) -> ExitCode {
    match result {
        Ok(code) => ExitCode::from(code),
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
