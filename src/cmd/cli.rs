//! Command-line types (clap derive) and nothing else.
//!
//! Every flag's `///` doc is its help text. These types live in the binary only: the
//! command modules beside this one turn them into the library's plain settings
//! (`nettriage::config::Overrides`, `SurveySettings`, `TimerSettings`, ...) before
//! anything runs, so the library never sees clap.

// Doc comments here are help text, where `[IPv6]:PORT` is literal, not an intra-doc link.
#![allow(rustdoc::broken_intra_doc_links)]

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

/// Layered network diagnostics: link, addressing, gateway, DNS and TCP services checked in
/// one run, with the root cause named.
///
/// Exit codes: 0 healthy, 1 degraded, 2 broken, 3 could not run or nothing to judge.
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
    /// Run repeatedly for a site survey: every run is stored in the history database and,
    /// with --textfile, exported for node_exporter. Stops after --count runs, with --once,
    /// or on SIGINT/SIGTERM after the run in progress is stored.
    Survey(Box<SurveyArgs>),
    /// Stored survey runs: list them (the default), show one, export JSON Lines, or
    /// summarise trends per site and location.
    History(HistoryArgs),
    /// Serve the latest survey result of every site and location at /metrics for
    /// Prometheus (text exposition format), until SIGINT/SIGTERM.
    Serve(ServeArgs),
    /// Deliver a saved JSON report to the ticket system configured under [ticket] in the
    /// config file (email, Request Tracker, Jira, ServiceNow, Zendesk), or work the outbox
    /// of tickets not delivered yet (`ticket list`, `ticket flush`). Exit codes: 0
    /// delivered (or delivered before), 1 queued for a retry, 2 refused (kept, marked
    /// failed), 3 configuration error or the ticket could not be kept.
    Ticket(TicketArgs),
    /// Show what changed between two JSON reports: status per layer, new and resolved
    /// findings, latency changes. Exits with the newer report's status code.
    Diff(DiffArgs),
    /// Export the finding-code catalogue for a knowledge base: every code with its
    /// plain-language summary, what it means (thresholds and their sources), its likely
    /// owner and the next steps.
    Codes(CodesArgs),
    /// Print a shell completion script for bash, zsh or fish to standard output.
    Completions(CompletionsArgs),
    /// Write the man pages (nettriage.1 and one page per subcommand) into a directory.
    Manpages(ManpagesArgs),
}

/// Options of `nettriage ticket`.
#[derive(Debug, Clone, Args)]
#[command(args_conflicts_with_subcommands = true, arg_required_else_help = true)]
pub struct TicketArgs {
    /// Work the outbox instead of delivering a report.
    #[command(subcommand)]
    pub command: Option<TicketCommand>,
    /// The report to deliver: JSON, as written by `--output FILE.json` or `--format json`
    /// (the HTML and JSON reports are attached, redacted unless the config says otherwise).
    #[arg(value_name = "REPORT.json")]
    pub report: Option<PathBuf>,
    /// Also attach this packet capture (as written by `--capture`), if it is within
    /// `max_attachment_bytes` [default: no capture].
    #[arg(long, value_name = "FILE.pcap")]
    pub capture: Option<PathBuf>,
    /// TOML config file with the [ticket] settings [default: /etc/nettriage/config.toml if
    /// it exists].
    #[arg(short, long, value_name = "FILE", global = true)]
    pub config: Option<PathBuf>,
}

/// What `nettriage ticket` does with the outbox.
#[derive(Debug, Clone, Subcommand)]
pub enum TicketCommand {
    /// Deliver every queued ticket, oldest first; each is removed only once the ticket
    /// system took it, and a ticket delivered before is never sent again. Stops at the
    /// first one that fails for a reason worth retrying (the endpoint is down).
    Flush {
        /// Also retry the tickets marked failed (refused earlier, e.g. by a wrong password
        /// since fixed).
        #[arg(long)]
        retry_failed: bool,
    },
    /// List the tickets in the outbox, oldest first: key, state (queued, failed, sending),
    /// attempts, when queued, size, subject and the last error.
    List,
}

/// Options of `nettriage codes`.
#[derive(Debug, Clone, Args)]
pub struct CodesArgs {
    /// Only these codes, or every code of a layer given by its prefix (`dns` or `dns.`)
    /// [default: every code].
    #[arg(value_name = "CODE")]
    pub codes: Vec<String>,
    /// Output format [default: table].
    #[arg(short, long, value_enum, value_name = "FORMAT")]
    pub format: Option<CodesFormat>,
    /// Write to this file (atomically) instead of standard output.
    #[arg(short, long, value_name = "FILE")]
    pub output: Option<PathBuf>,
}

/// Output formats of `nettriage codes`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum CodesFormat {
    /// Code, severity and summary as a table for the terminal.
    Table,
    /// Every field as a JSON array, for import into another tool.
    Json,
    /// One Markdown article per code, for a wiki or knowledge base.
    Markdown,
    /// One self-contained HTML page with an anchor per code.
    Html,
}

/// Options of `nettriage completions`.
#[derive(Debug, Clone, Args)]
pub struct CompletionsArgs {
    /// The shell to complete for.
    #[arg(value_enum, value_name = "SHELL")]
    pub shell: ShellArg,
}

/// Shells `nettriage completions` writes scripts for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ShellArg {
    /// GNU bash (load with `source <(nettriage completions bash)`).
    Bash,
    /// Z shell.
    Zsh,
    /// fish.
    Fish,
}

/// Options of `nettriage manpages`.
#[derive(Debug, Clone, Args)]
pub struct ManpagesArgs {
    /// The directory to write the pages into (created if missing).
    #[arg(value_name = "DIR")]
    pub dir: PathBuf,
}

/// Options of `nettriage survey`.
#[derive(Debug, Clone, Args)]
#[command(args_conflicts_with_subcommands = true)]
pub struct SurveyArgs {
    /// Instead of surveying now, install a systemd timer that runs the survey.
    #[command(subcommand)]
    pub command: Option<SurveyCommand>,
    /// The options of every run.
    #[command(flatten)]
    pub run: RunArgs,
    /// Site tag stored with every run, e.g. "HQ".
    #[arg(long, default_value = "default")]
    pub site: String,
    /// Location tag stored with every run, e.g. "floor 2 room 214" [default: empty].
    #[arg(long, default_value = "", hide_default_value = true)]
    pub location: String,
    /// History database [default: /var/lib/nettriage/history.db].
    #[arg(long, value_name = "PATH")]
    pub db: Option<PathBuf>,
    /// Time from the start of one run to the start of the next, e.g. 30s, 15m.
    #[arg(long, value_name = "DURATION", default_value = "5m")]
    pub every: humantime::Duration,
    /// Stop after this many runs, 1 or more [default: until stopped].
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u64).range(1..))]
    pub count: Option<u64>,
    /// One run, then stop (for cron).
    #[arg(long, conflicts_with = "count")]
    pub once: bool,
    /// After every run, write nettriage.prom for node_exporter's textfile collector into
    /// this directory (atomically) [default: none].
    #[arg(long, value_name = "DIR")]
    pub textfile: Option<PathBuf>,
}

/// What `nettriage survey` can do besides surveying.
#[derive(Debug, Clone, Subcommand)]
pub enum SurveyCommand {
    /// Write a systemd service and timer that run `survey --once` every --every (or print
    /// them with --print). Options after `--` are passed to every run, e.g.
    /// `-- --target crm.example.com:443`.
    InstallTimer(TimerArgs),
}

/// Options of `nettriage survey install-timer`.
#[derive(Debug, Clone, Args)]
pub struct TimerArgs {
    /// How often the survey runs, at least 1m, e.g. 15m.
    #[arg(long, value_name = "DURATION", default_value = "15m", value_parser = timer_period)]
    pub every: humantime::Duration,
    /// Site tag of every run.
    #[arg(long, default_value = "default")]
    pub site: String,
    /// Location tag of every run [default: empty].
    #[arg(long, default_value = "", hide_default_value = true)]
    pub location: String,
    /// History database; a custom one's directory is created now [default: /var/lib/nettriage/history.db, created by systemd].
    #[arg(long, value_name = "PATH")]
    pub db: Option<PathBuf>,
    /// Directory for node_exporter's textfile collector, created now if missing [default: none].
    #[arg(long, value_name = "DIR")]
    pub textfile: Option<PathBuf>,
    /// The installed nettriage the units run [default: this binary, unless it is in a build tree or a home directory].
    #[arg(long, value_name = "PATH")]
    pub binary: Option<PathBuf>,
    /// Where to write the unit files.
    #[arg(long, value_name = "DIR", default_value = "/etc/systemd/system")]
    pub unit_dir: PathBuf,
    /// Print the unit files instead of writing them.
    #[arg(long)]
    pub print: bool,
    /// Options for every run (after `--`), e.g. `-- --target crm.example.com:443`.
    #[arg(last = true, value_name = "RUN OPTIONS")]
    pub run_options: Vec<String>,
}

/// Options of `nettriage serve`.
#[derive(Debug, Clone, Args)]
pub struct ServeArgs {
    /// Address to listen on, as IP:PORT, [IPv6]:PORT or HOST:PORT (e.g. localhost:9464).
    #[arg(long, value_name = "ADDR", default_value = "127.0.0.1:9464", value_parser = listen_addr)]
    pub listen: std::net::SocketAddr,
    /// History database to read [default: /var/lib/nettriage/history.db].
    #[arg(long, value_name = "PATH")]
    pub db: Option<PathBuf>,
}

/// Options of `nettriage history`.
#[derive(Debug, Clone, Args)]
pub struct HistoryArgs {
    /// What to do with the stored runs [default: list].
    #[command(subcommand)]
    pub command: Option<HistoryCommand>,
    /// History database [default: /var/lib/nettriage/history.db].
    #[arg(long, value_name = "PATH", global = true)]
    pub db: Option<PathBuf>,
    /// Only runs of this site [default: all].
    #[arg(long, global = true)]
    pub site: Option<String>,
    /// Only runs of this location [default: all].
    #[arg(long, global = true)]
    pub location: Option<String>,
    /// Only runs started at or after this time: RFC 3339 (2026-11-30T08:00:00Z), a date
    /// (2026-11-30, midnight UTC) or an age (24h, 7d) [default: no limit].
    #[arg(long, value_name = "TIME", global = true)]
    pub since: Option<String>,
    /// Only runs started before this time, written as for --since [default: no limit].
    #[arg(long, value_name = "TIME", global = true)]
    pub until: Option<String>,
    /// Only runs with this status: healthy, degraded, broken or unknown [default: all].
    #[arg(long, global = true)]
    pub status: Option<String>,
    /// At most this many runs, newest first [default: all].
    #[arg(long, value_name = "N", global = true)]
    pub limit: Option<usize>,
    /// Output format: list takes table or json, trend table, json or html, show any report
    /// format; export always writes JSON Lines [default: table].
    #[arg(short, long, value_enum, value_name = "FORMAT", global = true)]
    pub format: Option<FormatArg>,
}

/// What `nettriage history` does.
#[derive(Debug, Clone, Subcommand)]
pub enum HistoryCommand {
    /// List runs (the default).
    List,
    /// Print one stored report in any report format.
    Show {
        /// The run's id, as `history list` shows it.
        id: i64,
    },
    /// Write the stored runs as JSON Lines, oldest first: one {"id", "site", "location",
    /// "report"} object per line.
    Export,
    /// Availability per layer, latency and signal percentiles, and the most frequent root
    /// causes, per site and location.
    Trend,
}

/// Options of `nettriage analyze`.
#[derive(Debug, Clone, Args)]
pub struct AnalyzeArgs {
    /// The capture to read: pcap or pcapng (Ethernet, Linux cooked, raw IP, loopback or
    /// 802.11 frames), or `-` for standard input (`tcpdump -w - | nettriage analyze -`).
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
    /// TOML config file whose [ipv6] expected_routers_v6 tells a configured router from a
    /// rogue one and whose [neighbours] expected_vlan is judged against the capture's
    /// LLDP/CDP [default: /etc/nettriage/config.toml if it exists].
    #[arg(short, long, value_name = "FILE")]
    pub config: Option<PathBuf>,
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
    /// Output format [default: table].
    #[arg(short, long, value_enum, value_name = "FORMAT")]
    pub format: Option<DiffFormat>,
}

/// Output formats of `nettriage diff`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum DiffFormat {
    /// A table for the terminal.
    Table,
    /// The comparison as JSON.
    Json,
}

/// Service profiles a run can add after the network layers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ProfileArg {
    /// Active Directory: DC records, Kerberos, LDAP, the clock against the DC.
    Ad,
    /// File shares: SMB2 negotiation with the configured servers.
    Smb,
    /// Printers: IPP state, raw 9100 and LPD 515, mDNS-advertised printers.
    Printers,
    /// Microsoft 365: the published endpoints, TLS inspection, Teams media ports.
    M365,
    /// Remote desktop: TCP 3389 and the RDP negotiation.
    Rdp,
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

    /// Deadline for the whole run in seconds, 1 to 300; checks stop waiting just before it
    /// and report what they observed, and one that observed nothing is an error
    /// [default: 10].
    #[arg(short, long, value_name = "SECS", allow_hyphen_values = true, value_parser = deadline_secs)]
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

    /// Listen for DHCP offers at least this many milliseconds after the DISCOVER, 10 to
    /// 60000; the listener stays open while other checks run, so a slower second server is
    /// still heard in a longer run [default: 200 for a run, 2000 for a survey, or
    /// `window_ms` under `[dhcp]` in the config file].
    #[arg(long = "dhcp-window", value_name = "MS")]
    pub dhcp_window_ms: Option<u64>,

    /// On a Wi-Fi interface, also scan for nearby access points (up to 4 s, needs
    /// CAP_NET_ADMIN) to count co- and adjacent-channel interference and suggest quieter
    /// channels [default: off, or `scan = true` under `[wifi]` in the config file].
    #[arg(long)]
    pub wifi_scan: bool,

    /// Wait for the switch to say which port and VLAN this is (LLDP or CDP): up to 35 s,
    /// ending once one frame of each protocol came (or at the first LLDP frame with `wait
    /// = "first"`); the run's deadline grows to fit [default: listen only while the run
    /// lasts, or `listen = true` / `window_secs` / `wait` under `[neighbours]` in the config
    /// file; survey runs always wait].
    #[arg(long)]
    pub neighbours: bool,

    /// Add a service profile's checks after the network layers (repeatable): ad, smb,
    /// printers, m365, rdp; each is set up under `[profiles.NAME]` in the config file
    /// (docs/checks/NAME.md) [default: `enabled` under `[profiles]`, else none].
    #[arg(long = "profile", value_name = "NAME")]
    pub profiles: Vec<ProfileArg>,

    /// Write every packet the checks send and receive on the tested interface (DHCP, ARP,
    /// ICMP, DNS, TCP handshakes) to this pcap file for Wireshark; needs CAP_NET_RAW
    /// [default: no capture].
    #[arg(long, value_name = "FILE.pcap")]
    pub capture: Option<PathBuf>,

    /// URL to fetch over HTTP(S), timing DNS, connect, TLS, first byte and total and
    /// checking the status and the certificate; repeat for several [default: from the
    /// config file, else none].
    #[arg(long = "url", value_name = "URL")]
    pub urls: Vec<String>,

    /// Connectivity-check URL: a plain-HTTP page with a known answer (set under `[web]` in
    /// the config file with `connectivity_expect`); a redirect or another answer is a
    /// captive portal [default: from the config file, else none for `run` and `survey`;
    /// `selftest` uses http://nmcheck.gnome.org/check_network_status.txt].
    #[arg(long, value_name = "URL")]
    pub connectivity_url: Option<String>,

    /// PEM file of CA certificates to trust besides the system's, for a site's own PKI
    /// [default: from the config file, else only the system's trust store].
    #[arg(long, value_name = "FILE.pem")]
    pub ca_file: Option<PathBuf>,

    /// Proxy for the web probes, `http[s]://[user:password@]host:port`, or `direct` for
    /// none (credentials are better kept in the config file, which `ps` does not show)
    /// [default: from the config file, else discovered: environment, /etc/environment,
    /// GNOME settings, WPAD through DHCP and DNS].
    #[arg(long, value_name = "URL")]
    pub proxy: Option<String>,

    /// Replace MAC addresses, public IP addresses, SSIDs/BSSIDs and the hostname with stable
    /// placeholders in every output (for reports that leave the organisation).
    #[arg(long)]
    pub redact: bool,

    /// Deliver the report to the ticket system configured under [ticket] in the config
    /// file; one that cannot be delivered now is queued in the outbox and sent by `ticket
    /// flush` or the next run. The exit code stays the run's (3 for a ticket
    /// configuration error) [default: no ticket; `run` and `selftest` only].
    #[arg(long)]
    pub ticket: bool,

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

/// A run's deadline in seconds: 1 to 300 (a negative number is read, then refused).
fn deadline_secs(text: &str) -> Result<u64, String> {
    match text.trim().parse::<i64>() {
        Ok(secs @ 1..=300) => Ok(secs as u64),
        Ok(_) => Err("the deadline is 1 to 300 seconds".into()),
        Err(_) => Err("the deadline is a whole number of seconds, 1 to 300".into()),
    }
}

/// A listening address: IP:PORT, [IPv6]:PORT, or HOST:PORT resolved through the system's
/// resolver (`/etc/hosts` first: `localhost:9464`); the first address is used.
fn listen_addr(text: &str) -> Result<std::net::SocketAddr, String> {
    if let Ok(addr) = text.parse() {
        return Ok(addr);
    }
    use std::net::ToSocketAddrs;
    let mut addrs = text.to_socket_addrs().map_err(|e| format!("not an IP:PORT or HOST:PORT ({e})"))?;
    addrs.next().ok_or_else(|| format!("{text} has no address"))
}

/// A timer's period: a duration of at least [`nettriage::systemd::MIN_EVERY`].
fn timer_period(text: &str) -> Result<humantime::Duration, String> {
    let period: humantime::Duration = text.parse().map_err(|e| format!("{e}"))?;
    if std::time::Duration::from(period) < nettriage::systemd::MIN_EVERY {
        return Err("a timer runs the survey at most once a minute: use 1m or more".into());
    }
    Ok(period)
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
        let ticket = cmd.find_subcommand_mut("ticket").expect("ticket subcommand");
        insta::assert_snapshot!("ticket_help", ticket.render_long_help().to_string());
    }

    #[test]
    fn ticket_takes_a_report_or_an_outbox_command() {
        let parse = |args: &[&str]| Cli::try_parse_from(std::iter::once("nettriage").chain(args.iter().copied()));
        let Some(Command::Ticket(t)) =
            parse(&["ticket", "r.json", "--capture", "c.pcap", "-c", "n.toml"]).unwrap().command
        else {
            panic!("ticket")
        };
        assert_eq!(t.report.as_deref(), Some(std::path::Path::new("r.json")));
        assert_eq!(t.capture.as_deref(), Some(std::path::Path::new("c.pcap")));
        assert!(t.command.is_none());
        let Some(Command::Ticket(t)) = parse(&["ticket", "flush", "--retry-failed", "-c", "n.toml"]).unwrap().command
        else {
            panic!("ticket flush")
        };
        assert!(matches!(t.command, Some(TicketCommand::Flush { retry_failed: true })));
        assert_eq!(t.config.as_deref(), Some(std::path::Path::new("n.toml")));
        let Some(Command::Ticket(t)) = parse(&["ticket", "list"]).unwrap().command else { panic!("ticket list") };
        assert!(matches!(t.command, Some(TicketCommand::List)));
        // Nothing to do is the help, not a silent success.
        assert_eq!(
            parse(&["ticket"]).unwrap_err().kind(),
            clap::error::ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand
        );
        let Some(Command::Run(run)) = parse(&["run", "--ticket"]).unwrap().command else { panic!("run") };
        assert!(run.ticket);
        let Some(Command::Selftest(s)) = parse(&["selftest", "--ticket"]).unwrap().command else { panic!("selftest") };
        assert!(s.ticket);
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
