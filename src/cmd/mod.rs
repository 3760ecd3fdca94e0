//! The command layer: one module per subcommand, each turning its clap arguments
//! ([`cli`]) into the library's plain settings, calling the library, and writing what the
//! user sees to stdout. Binary-only: nothing here is part of the `nettriage` library.
//!
//! Shared here: the conversions from clap types to library settings, and the helpers that
//! write to stdout (a broken pipe is not an error).

// The command layer is where output is written.
#![allow(clippy::print_stdout, clippy::print_stderr)]

pub mod analyze;
pub mod cli;
pub mod codes;
pub mod diff;
pub mod history;
pub mod install_timer;
pub mod run;
pub mod selftest;
pub mod serve;
pub mod survey;
pub mod ticket;

use std::io::Write;

use nettriage::app::RunError;
use nettriage::config::{Color, Format, Overrides, Profile};

use self::cli::{ColorArg, FormatArg, ProfileArg, RunArgs};

impl From<FormatArg> for Format {
    fn from(arg: FormatArg) -> Format {
        match arg {
            FormatArg::Table => Format::Table,
            FormatArg::Json => Format::Json,
            FormatArg::Markdown => Format::Markdown,
            FormatArg::Html => Format::Html,
        }
    }
}

impl From<ColorArg> for Color {
    fn from(arg: ColorArg) -> Color {
        match arg {
            ColorArg::Auto => Color::Auto,
            ColorArg::Always => Color::Always,
            ColorArg::Never => Color::Never,
        }
    }
}

impl From<ProfileArg> for Profile {
    fn from(arg: ProfileArg) -> Profile {
        match arg {
            ProfileArg::Ad => Profile::Ad,
            ProfileArg::Smb => Profile::Smb,
            ProfileArg::Printers => Profile::Printers,
            ProfileArg::M365 => Profile::M365,
            ProfileArg::Rdp => Profile::Rdp,
        }
    }
}

impl RunArgs {
    /// The command line's part of the config, as the library's plain [`Overrides`].
    pub fn overrides(&self) -> Overrides {
        Overrides {
            interface: self.interface.clone(),
            targets: self.targets.clone(),
            dns_names: self.dns_names.clone(),
            format: self.format.map(Format::from),
            output: self.output.clone(),
            deadline: self.deadline,
            config: self.config.clone(),
            expected_dhcp_servers: self.expected_dhcp_servers.clone(),
            dhcp_full: self.dhcp_full,
            dhcp_request_ip: self.dhcp_request_ip,
            dhcp_window_ms: self.dhcp_window_ms,
            wifi_scan: self.wifi_scan,
            capture: self.capture.clone(),
            redact: self.redact,
            color: self.color.into(),
            urls: self.urls.clone(),
            connectivity_url: self.connectivity_url.clone(),
            ca_file: self.ca_file.clone(),
            proxy: self.proxy.clone(),
            neighbours: self.neighbours,
            profiles: self.profiles.iter().map(|p| Profile::from(*p)).collect(),
        }
    }
}

/// Catches SIGINT and SIGTERM from now on; the returned future completes when either
/// arrives (so one that arrives before anyone waits is not lost).
pub fn stop_signal() -> Result<impl Future<Output = ()> + Send + 'static, RunError> {
    use tokio::signal::unix::{SignalKind, signal};
    let mut sigint = signal(SignalKind::interrupt()).map_err(RunError::Signal)?;
    let mut sigterm = signal(SignalKind::terminate()).map_err(RunError::Signal)?;
    Ok(async move {
        tokio::select! {
            _ = sigint.recv() => {}
            _ = sigterm.recv() => {}
        }
    })
}

/// An error writing to stdout.
pub fn stdout_error(source: std::io::Error) -> RunError {
    RunError::Output { path: "standard output".into(), source }
}

/// Output to stdout succeeded, or stopped at a closed pipe (`nettriage ... | head`).
pub fn ignore_broken_pipe(result: std::io::Result<()>) -> Result<(), RunError> {
    match result {
        Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => Err(stdout_error(e)),
        _ => Ok(()),
    }
}

/// Writes `value` as pretty JSON and a newline.
pub fn print_json<T: serde::Serialize>(out: &mut impl Write, value: &T) -> Result<(), RunError> {
    serde_json::to_writer_pretty(&mut *out, value)
        .map_err(std::io::Error::from)
        .and_then(|()| writeln!(out))
        .map_err(stdout_error)
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    #[test]
    fn every_run_flag_reaches_the_overrides() {
        let cli = cli::Cli::try_parse_from([
            "nettriage",
            "-i",
            "eth0",
            "-t",
            "a.example:443",
            "-n",
            "b.example",
            "-f",
            "markdown",
            "-o",
            "r.json",
            "-d",
            "20",
            "-c",
            "c.toml",
            "--expected-dhcp-server",
            "198.18.0.1",
            "--dhcp-full",
            "--dhcp-request-ip",
            "198.18.0.9",
            "--dhcp-window",
            "1500",
            "--wifi-scan",
            "--capture",
            "c.pcap",
            "--redact",
            "--color",
            "never",
            "--profile",
            "rdp",
            "--profile",
            "ad",
        ])
        .unwrap();
        let o = cli.run.overrides();
        let expected = Overrides {
            interface: Some("eth0".into()),
            targets: vec!["a.example:443".into()],
            dns_names: vec!["b.example".into()],
            format: Some(Format::Markdown),
            output: Some("r.json".into()),
            deadline: Some(20),
            config: Some("c.toml".into()),
            expected_dhcp_servers: vec!["198.18.0.1".parse().unwrap()],
            dhcp_full: true,
            dhcp_request_ip: Some("198.18.0.9".parse().unwrap()),
            dhcp_window_ms: Some(1500),
            wifi_scan: true,
            capture: Some("c.pcap".into()),
            redact: true,
            color: Color::Never,
            profiles: vec![Profile::Rdp, Profile::Ad],
            ..Overrides::default()
        };
        assert_eq!(o, expected);
        let bare = cli::Cli::try_parse_from(["nettriage"]).unwrap();
        assert_eq!(bare.run.overrides(), Overrides::default());
    }

    #[test]
    fn clap_refuses_what_would_be_ignored_and_reads_what_users_type() {
        let parse = |args: &[&str]| cli::Cli::try_parse_from(std::iter::once("nettriage").chain(args.iter().copied()));
        let kind = |args: &[&str]| parse(args).err().map(|e| e.kind());
        use clap::error::ErrorKind;
        assert_eq!(kind(&["survey", "--count", "0"]), Some(ErrorKind::ValueValidation));
        assert_eq!(kind(&["survey", "--once", "--count", "5"]), Some(ErrorKind::ArgumentConflict));
        assert_eq!(kind(&["diff", "a.json", "b.json", "--format", "html"]), Some(ErrorKind::InvalidValue));
        assert_eq!(kind(&["diff", "a.json", "b.json", "--format", "markdown"]), Some(ErrorKind::InvalidValue));
        // A negative deadline is read as a value and refused as one, not as an unknown flag.
        assert_eq!(kind(&["--deadline", "-1"]), Some(ErrorKind::ValueValidation));
        assert_eq!(kind(&["--deadline", "301"]), Some(ErrorKind::ValueValidation));
        assert_eq!(parse(&["--deadline", "300"]).unwrap().run.deadline, Some(300));
        let Some(cli::Command::Serve(serve)) = parse(&["serve", "--listen", "localhost:9464"]).unwrap().command else {
            panic!("serve")
        };
        assert!(serve.listen.ip().is_loopback() && serve.listen.port() == 9464, "{}", serve.listen);
        assert_eq!(kind(&["serve", "--listen", "9464"]), Some(ErrorKind::ValueValidation));
    }

    #[test]
    fn help_prints_each_default_once() {
        use clap::CommandFactory;
        let mut command = cli::Cli::command();
        let mut seen = Vec::new();
        command.build();
        let mut stack = vec![command];
        while let Some(mut c) = stack.pop() {
            let help = c.render_long_help().to_string();
            for line in help.lines() {
                assert!(line.matches("[default:").count() <= 1, "{}: {line}", c.get_name());
            }
            assert_eq!(help.matches("[default: 15m] [default: 15m]").count(), 0);
            seen.push(c.get_name().to_string());
            stack.extend(c.get_subcommands().cloned());
        }
        assert!(seen.iter().any(|n| n == "install-timer"), "{seen:?}");
    }
}
