//! The systemd units that run `nettriage survey --once` on a timer.
//!
//! Pure: [`timer_units`] returns the service and timer texts for [`TimerSettings`]; the
//! binary's `survey install-timer` command prints them or writes them with
//! [`crate::files::write_atomic`]. The service runs with only CAP_NET_RAW and
//! CAP_NET_ADMIN, a read-only system, and write access to the history and textfile
//! directories.

use std::path::PathBuf;
use std::time::Duration;

/// The service unit's file name.
pub const SERVICE_NAME: &str = "nettriage-survey.service";
/// The timer unit's file name.
pub const TIMER_NAME: &str = "nettriage-survey.timer";

/// What the units run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TimerSettings {
    /// How often the survey runs.
    pub every: Duration,
    /// Site tag of every run.
    pub site: String,
    /// Location tag of every run.
    pub location: String,
    /// History database; `None` is [`crate::history::DEFAULT_PATH`].
    pub db: Option<PathBuf>,
    /// Directory for node_exporter's textfile collector, if any.
    pub textfile: Option<PathBuf>,
    /// Options passed to every run, e.g. `--target crm.example.com:443`.
    pub run_options: Vec<String>,
}

/// Quotes one argument for a systemd `ExecStart=` line (double quotes, C escapes).
fn systemd_quote(arg: &str) -> String {
    let plain = !arg.is_empty() && arg.chars().all(|c| c.is_ascii_alphanumeric() || "-_./:=@,+".contains(c));
    if plain {
        return arg.to_string();
    }
    let mut out = String::from("\"");
    for c in arg.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '$' => out.push_str("$$"),
            '%' => out.push_str("%%"),
            '\n' => out.push_str("\\n"),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// The service and timer units for a survey every `args.every` (pure).
pub fn timer_units(binary: &str, args: &TimerSettings) -> (String, String) {
    let db = args.db.clone().unwrap_or_else(|| PathBuf::from(crate::history::DEFAULT_PATH));
    let mut exec = vec![binary.to_string(), "survey".into(), "--once".into()];
    exec.extend(["--site".into(), args.site.clone(), "--location".into(), args.location.clone()]);
    exec.extend(["--db".into(), db.display().to_string()]);
    let mut writable = vec![db.parent().map_or_else(|| "/var/lib/nettriage".into(), |p| p.display().to_string())];
    if let Some(dir) = &args.textfile {
        exec.extend(["--textfile".into(), dir.display().to_string()]);
        writable.push(dir.display().to_string());
    }
    exec.extend(args.run_options.iter().cloned());
    let exec: Vec<String> = exec.iter().map(|a| systemd_quote(a)).collect();
    let writable: Vec<String> = writable.iter().map(|a| systemd_quote(a)).collect();
    let every = humantime::format_duration(args.every).to_string();
    let service = format!(
        "# Written by `nettriage survey install-timer`.\n\
         [Unit]\n\
         Description=nettriage site survey ({site} / {location})\n\
         Wants=network-online.target\n\
         After=network-online.target\n\n\
         [Service]\n\
         Type=oneshot\n\
         ExecStart={exec}\n\
         # A degraded (1) or broken (2) network is a result, stored in the history, not a unit failure.\n\
         SuccessExitStatus=1 2\n\
         AmbientCapabilities=CAP_NET_RAW CAP_NET_ADMIN\n\
         CapabilityBoundingSet=CAP_NET_RAW CAP_NET_ADMIN\n\
         NoNewPrivileges=yes\n\
         ProtectSystem=strict\n\
         ProtectHome=yes\n\
         ReadWritePaths={writable}\n\
         TimeoutStartSec=10min\n",
        site = args.site,
        location = args.location,
        exec = exec.join(" "),
        writable = writable.join(" "),
    );
    let timer = format!(
        "# Written by `nettriage survey install-timer`.\n\
         [Unit]\n\
         Description=Run the nettriage site survey every {every}\n\n\
         [Timer]\n\
         OnBootSec=1min\n\
         OnUnitActiveSec={every}\n\
         AccuracySec=10s\n\
         Persistent=true\n\n\
         [Install]\n\
         WantedBy=timers.target\n"
    );
    (service, timer)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(run_options: &[&str]) -> TimerSettings {
        TimerSettings {
            every: Duration::from_secs(15 * 60),
            site: "HQ".into(),
            location: "floor 2 \"west\" 100%".into(),
            db: None,
            textfile: Some(PathBuf::from("/var/lib/node_exporter/textfile_collector")),
            run_options: run_options.iter().map(|s| s.to_string()).collect(),
        }
    }

    #[test]
    fn units_run_the_survey_once_per_period_with_quoted_arguments() {
        let (service, timer) = timer_units("/usr/local/bin/nettriage", &args(&["--target", "crm.example.com:443"]));
        let exec = service.lines().find(|l| l.starts_with("ExecStart=")).unwrap();
        assert_eq!(
            exec,
            "ExecStart=/usr/local/bin/nettriage survey --once --site HQ --location \"floor 2 \\\"west\\\" 100%%\" \
             --db /var/lib/nettriage/history.db --textfile /var/lib/node_exporter/textfile_collector \
             --target crm.example.com:443"
        );
        assert!(service.contains("SuccessExitStatus=1 2") && service.contains("AmbientCapabilities=CAP_NET_RAW"));
        assert!(service.contains("ReadWritePaths=/var/lib/nettriage /var/lib/node_exporter/textfile_collector"));
        assert!(timer.contains("OnUnitActiveSec=15m") && timer.contains("WantedBy=timers.target"));
    }
}
