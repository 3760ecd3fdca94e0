//! `nettriage codes`, `completions` and `manpages`: what the binary tells about itself.
//!
//! `codes` writes the finding-code catalogue (`render::catalogue`) for a knowledge base;
//! `completions` and `manpages` generate shell completions (clap_complete) and man pages
//! (clap_mangen) from the same clap definitions as `--help`, so they never drift from it.
//! The Debian package runs the last two at build time.

#![allow(clippy::print_stdout, clippy::print_stderr)]

use std::io::Write;
use std::path::Path;

use clap::CommandFactory;
use nettriage::app::RunError;
use nettriage::files::write_atomic;
use nettriage::render::catalogue;

use super::cli::{Cli, CodesArgs, CodesFormat, CompletionsArgs, ManpagesArgs, ShellArg};
use super::ignore_broken_pipe;

/// Writes the catalogue of the codes asked for; exit 0, or 3 when a filter matches no code.
pub fn codes(args: &CodesArgs) -> Result<u8, RunError> {
    let entries = catalogue::entries(&args.codes);
    if entries.is_empty() {
        return Err(RunError::BadValue {
            flag: "CODE",
            value: args.codes.join(" "),
            expected: "a known finding code or layer prefix (`nettriage codes` lists them)",
        });
    }
    let mut buf = Vec::new();
    let written = match args.format.unwrap_or(CodesFormat::Table) {
        CodesFormat::Table => catalogue::write_table(&entries, &mut buf),
        CodesFormat::Json => catalogue::write_json(&entries, &mut buf),
        CodesFormat::Markdown => catalogue::write_markdown(&entries, &mut buf),
        CodesFormat::Html => catalogue::write_html(&entries, &mut buf),
    };
    written.map_err(|source| RunError::Output { path: "the code catalogue".into(), source })?;
    match &args.output {
        Some(path) => write_atomic(path, &buf)?,
        None => ignore_broken_pipe(std::io::stdout().lock().write_all(&buf))?,
    }
    Ok(0)
}

/// Prints the completion script for one shell.
pub fn completions(args: &CompletionsArgs) -> Result<u8, RunError> {
    let shell = match args.shell {
        ShellArg::Bash => clap_complete::Shell::Bash,
        ShellArg::Zsh => clap_complete::Shell::Zsh,
        ShellArg::Fish => clap_complete::Shell::Fish,
    };
    let mut buf = Vec::new();
    clap_complete::generate(shell, &mut Cli::command(), "nettriage", &mut buf);
    ignore_broken_pipe(std::io::stdout().lock().write_all(&buf))?;
    Ok(0)
}

/// Writes `nettriage.1` and `nettriage-SUB.1` for every subcommand (nested ones too) into
/// the directory, creating it; prints each path written.
pub fn manpages(args: &ManpagesArgs) -> Result<u8, RunError> {
    std::fs::create_dir_all(&args.dir).map_err(|source| RunError::CreateDir { path: args.dir.clone(), source })?;
    let mut cmd = Cli::command();
    cmd.build();
    let mut written = Vec::new();
    write_pages(&cmd, &args.dir, &mut written)?;
    let mut out = std::io::stdout().lock();
    for path in written {
        ignore_broken_pipe(writeln!(out, "{}", path.display()))?;
    }
    Ok(0)
}

/// Renders the built `cmd` as `<display name>.1` in `dir` (clap names a subcommand
/// `nettriage-codes` once built) and recurses into its visible subcommands.
fn write_pages(cmd: &clap::Command, dir: &Path, written: &mut Vec<std::path::PathBuf>) -> Result<(), RunError> {
    let name = cmd.get_display_name().unwrap_or(cmd.get_name()).to_string();
    let mut buf = Vec::new();
    clap_mangen::Man::new(cmd.clone())
        .render(&mut buf)
        .map_err(|source| RunError::Output { path: format!("man page {name}.1"), source })?;
    let path = dir.join(format!("{name}.1"));
    write_atomic(&path, &buf)?;
    written.push(path);
    for sub in cmd.get_subcommands().filter(|s| !s.is_hide_set() && s.get_name() != "help") {
        write_pages(sub, dir, written)?;
    }
    Ok(())
}
