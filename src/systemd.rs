//! The systemd units that run `nettriage survey --once` on a timer.
//!
//! Pure: [`timer_units`] returns the service and timer texts for [`TimerSettings`]; the
//! binary's `survey install-timer` command prints them or writes them with
//! [`crate::files::write_atomic`]. The service runs with only CAP_NET_RAW and
//! CAP_NET_ADMIN, a read-only system, and write access to the history and textfile
//! directories: the default history directory is the unit's `StateDirectory=`
//! (`/var/lib/nettriage`, which systemd creates), a custom one and the textfile directory
//! are `ReadWritePaths=` (which systemd refuses when missing, so the installer creates
//! them). [`unsuitable_binary`] tells which binaries a unit must not run (a cargo build
//! tree, a home directory the unit cannot see).

use std::path::{Path, PathBuf};
use std::time::Duration;

/// The service unit's file name.
pub const SERVICE_NAME: &str = "nettriage-survey.service";
/// The timer unit's file name.
pub const TIMER_NAME: &str = "nettriage-survey.timer";

/// The shortest period a timer may have: a survey run itself takes seconds, and a
/// shorter period would only pile up runs (systemd does not start a oneshot service
/// that is still running, so they would silently be skipped).
pub const MIN_EVERY: Duration = Duration::from_secs(60);

/// The history directory systemd creates for the unit (`StateDirectory=`), under
/// `/var/lib`: the directory of [`crate::history::DEFAULT_PATH`].
const STATE_DIRECTORY: &str = "nettriage";

/// Why `binary` must not be the `ExecStart=` of a unit, if it must not: a path inside a
/// cargo build tree (gone after `cargo clean`, replaced by every build), a relative path,
/// or one under `/home` or `/root`, which the unit's `ProtectHome=yes` hides.
pub fn unsuitable_binary(binary: &Path) -> Option<&'static str> {
    if !binary.is_absolute() {
        return Some("it is not an absolute path");
    }
    let parts: Vec<&std::ffi::OsStr> = binary.iter().collect();
    let in_build_tree = parts
        .windows(2)
        .any(|w| w[0] == "target" && (w[1] == "debug" || w[1] == "release" || w[1] == "llvm-cov-target"))
        || parts.windows(3).any(|w| w[0] == "target" && w[2] == "release");
    if in_build_tree {
        return Some("it is inside a cargo build tree");
    }
    if binary.starts_with("/home") || binary.starts_with("/root") {
        return Some("it is under /home or /root, which the unit's ProtectHome=yes hides");
    }
    None
}

/// `text` as plain unit-file text: `%` doubled (systemd expands `%` specifiers in
/// `Description=`), line breaks and other control characters made spaces.
fn unit_text(text: &str) -> String {
    text.chars().map(|c| if c.is_control() { ' ' } else { c }).collect::<String>().replace('%', "%%")
}

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
    let default_db = PathBuf::from(crate::history::DEFAULT_PATH);
    let db = args.db.clone().unwrap_or_else(|| default_db.clone());
    let mut exec = vec![binary.to_string(), "survey".into(), "--once".into()];
    exec.extend(["--site".into(), args.site.clone(), "--location".into(), args.location.clone()]);
    exec.extend(["--db".into(), db.display().to_string()]);
    let mut writable = Vec::new();
    let state_directory = if db.parent() == default_db.parent() {
        format!("StateDirectory={STATE_DIRECTORY}\n")
    } else {
        writable.push(db.parent().map_or_else(|| ".".into(), |p| p.display().to_string()));
        String::new()
    };
    if let Some(dir) = &args.textfile {
        exec.extend(["--textfile".into(), dir.display().to_string()]);
        writable.push(dir.display().to_string());
    }
    exec.extend(args.run_options.iter().cloned());
    let exec: Vec<String> = exec.iter().map(|a| systemd_quote(a)).collect();
    let writable: Vec<String> = writable.iter().map(|a| systemd_quote(a)).collect();
    let read_write =
        if writable.is_empty() { String::new() } else { format!("ReadWritePaths={}\n", writable.join(" ")) };
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
         {state_directory}\
         {read_write}\
         TimeoutStartSec=10min\n",
        site = unit_text(&args.site),
        location = unit_text(&args.location),
        exec = exec.join(" "),
    );
    // No `Persistent=`: it only applies to OnCalendar= timers.
    let timer = format!(
        "# Written by `nettriage survey install-timer`.\n\
         [Unit]\n\
         Description=Run the nettriage site survey every {every}\n\n\
         [Timer]\n\
         OnBootSec=1min\n\
         OnUnitActiveSec={every}\n\
         AccuracySec=10s\n\n\
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
        let lines: Vec<&str> = service.lines().collect();
        assert!(lines.contains(&"StateDirectory=nettriage"), "the default history directory is systemd's to create");
        assert!(lines.contains(&"ReadWritePaths=/var/lib/node_exporter/textfile_collector"));
        assert!(lines.contains(&"Description=nettriage site survey (HQ / floor 2 \"west\" 100%%)"));
        assert!(timer.contains("OnUnitActiveSec=15m") && timer.contains("WantedBy=timers.target"));
        assert!(!timer.contains("Persistent="), "Persistent= has no effect on a monotonic timer");
    }

    #[test]
    fn a_custom_history_directory_is_a_read_write_path_and_control_characters_go() {
        let mut a = args(&[]);
        (a.db, a.textfile, a.site) = (Some(PathBuf::from("/srv/nt/h.db")), None, "a\nb".into());
        let (service, _) = timer_units("/usr/bin/nettriage", &a);
        let lines: Vec<&str> = service.lines().collect();
        assert!(lines.contains(&"ReadWritePaths=/srv/nt") && !service.contains("StateDirectory="));
        assert!(lines.iter().any(|l| l.starts_with("Description=nettriage site survey (a b /")));
    }

    #[test]
    fn units_do_not_run_a_binary_from_a_build_tree_or_a_home_directory() {
        for bad in [
            "/work/nettriage/target/debug/nettriage",
            "/src/nt/target/release/nettriage",
            "/src/nt/target/x86_64-unknown-linux-gnu/release/nettriage",
            "/home/ann/.cargo/bin/nettriage",
            "/root/nettriage",
            "nettriage",
        ] {
            assert!(unsuitable_binary(Path::new(bad)).is_some(), "{bad}");
        }
        for good in ["/usr/bin/nettriage", "/usr/local/bin/nettriage", "/opt/nettriage/bin/nettriage"] {
            assert_eq!(unsuitable_binary(Path::new(good)), None, "{good}");
        }
    }
}
