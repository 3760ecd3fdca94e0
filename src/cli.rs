//! Command-line types (clap derive) and nothing else.
//!
//! Every flag's `///` doc is its help text. These types are turned into a validated
//! [`crate::config::Config`] before anything runs; no module below `config` sees clap.

// Doc comments here are help text, where `[IPv6]:PORT` is literal, not an intra-doc link.
#![allow(rustdoc::broken_intra_doc_links)]

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

/// Layered network diagnostics: link, addressing, gateway, DNS and TCP services checked in
/// one run, with the root cause named.
///
/// Exit codes: 0 healthy, 1 degraded, 2 broken, 3 could not run.
#[derive(Debug, Parser)]
#[command(name = "nettriage", version, args_conflicts_with_subcommands = true)]
pub struct Cli {
    /// What to do; without a subcommand, `run` with the options given here.
    #[command(subcommand)]
    pub command: Option<Command>,

    /// Options of the default `run` command.
    #[command(flatten)]
    pub run: RunArgs,

    /// More log output on stderr (-v info, -vv debug, -vvv trace); RUST_LOG overrides.
    #[arg(short, long, action = clap::ArgAction::Count, global = true)]
    pub verbose: u8,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run every check on one interface and diagnose the root cause (the default).
    Run(RunArgs),
    /// One-click self-test for end users: runs every check with a friendly checklist,
    /// explains the result in one sentence and writes an HTML report to send to IT
    /// (nettriage-HOST-TIMESTAMP.html in the current directory, or --output).
    Selftest(RunArgs),
    /// Read a packet capture (from --capture or tcpdump) and report its DHCP, ARP, ICMP, DNS
    /// and TCP exchanges with the same finding codes as a live run.
    Analyze(AnalyzeArgs),
    /// Show what changed between two JSON reports: status per layer, new and resolved
    /// findings, latency changes. Exits with the newer report's status code.
    Diff(DiffArgs),
}

/// Options of `nettriage analyze`.
#[derive(Debug, Clone, Args)]
pub struct AnalyzeArgs {
    /// The capture to read (classic pcap with Ethernet frames).
    #[arg(value_name = "FILE.pcap")]
    pub capture: PathBuf,
    /// Output format on stdout [default: table].
    #[arg(short, long, value_enum, value_name = "FORMAT")]
    pub format: Option<FormatArg>,
    /// Also write the report to FILE; the format follows the extension [default: no file].
    #[arg(short, long, value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// Replace MAC addresses, public IP addresses and the hostname with placeholders.
    #[arg(long)]
    pub redact: bool,
}

/// Options of `nettriage diff`.
#[derive(Debug, Clone, Args)]
pub struct DiffArgs {
    /// The older report (JSON, as written by `--format json` or `--output FILE.json`).
    #[arg(value_name = "OLD.json")]
    pub old: PathBuf,
    /// The newer report.
    #[arg(value_name = "NEW.json")]
    pub new: PathBuf,
    /// Output format: table or json [default: table].
    #[arg(short, long, value_enum, value_name = "FORMAT")]
    pub format: Option<FormatArg>,
}

/// Output formats for the report.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum FormatArg {
    /// A summary table for the terminal.
    Table,
    /// The full report as JSON (schema_version "1").
    Json,
    /// Markdown to paste into a ticket: verdict, a table of layers, details per layer.
    Markdown,
    /// One self-contained HTML file: banner, layer ladder, charts, evidence, raw JSON.
    Html,
}

/// Options of `nettriage run`.
#[derive(Debug, Clone, Default, Args)]
pub struct RunArgs {
    /// Interface to test [default: the one with the default route, else the first that is up].
    #[arg(short, long, value_name = "IF")]
    pub interface: Option<String>,

    /// TCP service to check, as HOST:PORT or [IPv6]:PORT; repeat for several
    /// [default: from the config file, else none and the ports check is skipped].
    #[arg(short, long = "target", value_name = "HOST:PORT")]
    pub targets: Vec<String>,

    /// Name to resolve through every DNS server; repeat for several
    /// [default: from the config file, else www.google.com].
    #[arg(short = 'n', long = "dns-name", value_name = "NAME")]
    pub dns_names: Vec<String>,

    /// Output format on stdout [default: table].
    #[arg(short, long, value_enum, value_name = "FORMAT")]
    pub format: Option<FormatArg>,

    /// Also write the full report to FILE; the format follows the extension
    /// (.json, .md, .html, .txt) [default: no file].
    #[arg(short, long, value_name = "FILE")]
    pub output: Option<PathBuf>,

    /// Deadline for the whole run in seconds, 1 to 300; checks still running then are
    /// reported as errors [default: 10].
    #[arg(short, long, value_name = "SECS")]
    pub deadline: Option<u64>,

    /// TOML config file with targets, names and thresholds; the command line wins
    /// [default: /etc/nettriage/config.toml if it exists].
    #[arg(short, long, value_name = "FILE")]
    pub config: Option<PathBuf>,

    /// DHCP server allowed to answer; repeat for several. An offer from any other server is
    /// reported as `dhcp.unexpected_server` [default: from the config file, else not checked].
    #[arg(long = "expected-dhcp-server", value_name = "IP")]
    pub expected_dhcp_servers: Vec<std::net::Ipv4Addr>,

    /// Also run a complete DHCP exchange (DISCOVER, OFFER, REQUEST, ACK) with a separate,
    /// clearly marked MAC and client identifier, timing each step, then RELEASE the address
    /// so the pool is not held. The machine's own address and lease are never touched.
    #[arg(long)]
    pub dhcp_full: bool,

    /// With the full exchange, ask for this address directly (an INIT-REBOOT REQUEST, as a
    /// client does for its old address) instead of taking an offer: an authoritative server
    /// NAKs an address that is wrong for this network. Implies --dhcp-full [default: none].
    #[arg(long, value_name = "IP")]
    pub dhcp_request_ip: Option<std::net::Ipv4Addr>,

    /// On a Wi-Fi interface, also scan for nearby access points (up to 4 s, needs
    /// CAP_NET_ADMIN) to count co- and adjacent-channel interference and suggest quieter
    /// channels [default: off, or `scan = true` under `[wifi]` in the config file].
    #[arg(long)]
    pub wifi_scan: bool,

    /// Write every packet the checks send and receive on the tested interface (DHCP, ARP,
    /// ICMP, DNS, TCP handshakes) to this pcap file for Wireshark; needs CAP_NET_RAW
    /// [default: no capture].
    #[arg(long, value_name = "FILE.pcap")]
    pub capture: Option<PathBuf>,

    /// Replace MAC addresses, public IP addresses, SSIDs/BSSIDs and the hostname with stable
    /// placeholders in every output (for reports that leave the organisation).
    #[arg(long)]
    pub redact: bool,

    /// Colour in the terminal table: auto (only on a terminal), always or never.
    #[arg(long, value_enum, value_name = "WHEN", default_value_t = ColorArg::Auto)]
    pub color: ColorArg,
}

/// When to colour terminal output.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, ValueEnum)]
pub enum ColorArg {
    /// Only when stdout is a terminal and NO_COLOR is unset.
    #[default]
    Auto,
    /// Always.
    Always,
    /// Never.
    Never,
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn cli_definition_is_valid() {
        Cli::command().debug_assert();
    }

    #[test]
    fn every_argument_has_help() {
        fn walk(cmd: &clap::Command) {
            for arg in cmd.get_arguments() {
                let id = arg.get_id().as_str();
                if id == "help" || id == "version" {
                    continue;
                }
                assert!(arg.get_help().is_some(), "--{id} of `{}` has no help", cmd.get_name());
            }
            for sub in cmd.get_subcommands() {
                walk(sub);
            }
        }
        walk(&Cli::command());
    }

    /// The interface is reviewed like code: a change to any flag or its help shows here.
    #[test]
    fn help_snapshots() {
        let mut cmd = Cli::command().term_width(100);
        insta::assert_snapshot!("nettriage_help", cmd.render_long_help().to_string());
        let run = cmd.find_subcommand_mut("run").expect("run subcommand");
        insta::assert_snapshot!("run_help", run.render_long_help().to_string());
    }

    #[test]
    fn bare_invocation_and_run_parse_the_same_options() {
        let bare = Cli::try_parse_from(["nettriage", "-t", "a.example:443", "-f", "json"]).unwrap();
        assert!(bare.command.is_none());
        assert_eq!(bare.run.targets, ["a.example:443"]);
        let run = Cli::try_parse_from(["nettriage", "run", "-t", "a.example:443"]).unwrap();
        let Some(Command::Run(args)) = run.command else { panic!("run subcommand") };
        assert_eq!(args.targets, ["a.example:443"]);
    }
}
