//! `nettriage survey install-timer`: the library writes the unit texts
//! (`systemd::timer_units`); this module prints them or writes them atomically into
//! `--unit-dir` and tells the user how to enable the timer. Before writing it creates the
//! directories the units need (a custom history directory, the textfile directory: systemd
//! refuses a missing `ReadWritePaths=`), and it refuses to write units that would run a
//! binary from a build tree or a home directory (`systemd::unsuitable_binary`).

#![allow(clippy::print_stdout, clippy::print_stderr)]

use std::io::Write;

use nettriage::app::RunError;
use nettriage::files::{DirState, prepare_dir, write_atomic};
use nettriage::systemd::{SERVICE_NAME, TIMER_NAME, TimerSettings, timer_units, unsuitable_binary};

use super::cli::TimerArgs;
use super::stdout_error;

impl TimerArgs {
    /// What the units run, as the library takes it.
    pub fn settings(&self) -> TimerSettings {
        TimerSettings {
            every: self.every.into(),
            site: self.site.clone(),
            location: self.location.clone(),
            db: self.db.clone(),
            textfile: self.textfile.clone(),
            run_options: self.run_options.clone(),
        }
    }
}

/// Writes (or with `--print` prints) the service and timer units.
pub fn install_timer(args: &TimerArgs) -> Result<u8, RunError> {
    let binary = match &args.binary {
        Some(path) => path.clone(),
        None => std::env::current_exe().map_err(RunError::CurrentExe)?,
    };
    if let Some(reason) = unsuitable_binary(&binary) {
        return Err(RunError::UnitBinary { path: binary, reason });
    }
    let settings = args.settings();
    let (service, timer) = timer_units(&binary.display().to_string(), &settings);
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    let say = |out: &mut std::io::StdoutLock<'_>, text: &str| writeln!(out, "{text}").map_err(stdout_error);
    if args.print {
        say(&mut out, &format!("# {SERVICE_NAME}\n{service}\n# {TIMER_NAME}\n{timer}"))?;
        return Ok(0);
    }
    // systemd refuses to start a unit whose ReadWritePaths= are missing.
    let custom_db_dir = settings.db.as_deref().and_then(std::path::Path::parent).filter(|d| !d.as_os_str().is_empty());
    for dir in custom_db_dir.into_iter().chain(settings.textfile.as_deref()) {
        if prepare_dir(dir)? == DirState::Created {
            say(&mut out, &format!("created {}", dir.display()))?;
        }
    }
    for (name, text) in [(SERVICE_NAME, &service), (TIMER_NAME, &timer)] {
        let path = args.unit_dir.join(name);
        write_atomic(&path, text.as_bytes())?;
        say(&mut out, &format!("wrote {}", path.display()))?;
    }
    say(&mut out, "enable it with: systemctl daemon-reload && systemctl enable --now nettriage-survey.timer")?;
    Ok(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn units_are_written_to_the_unit_directory() {
        let dir = tempfile::tempdir().unwrap();
        let a = TimerArgs {
            every: "15m".parse().unwrap(),
            site: "HQ".into(),
            location: String::new(),
            db: None,
            textfile: None,
            unit_dir: dir.path().to_path_buf(),
            binary: Some("/usr/bin/nettriage".into()),
            print: false,
            run_options: vec![],
        };
        install_timer(&a).unwrap();
        for name in [SERVICE_NAME, TIMER_NAME] {
            assert!(std::fs::read_to_string(dir.path().join(name)).unwrap().starts_with("# Written by"));
        }
        let mut names: Vec<_> = std::fs::read_dir(dir.path()).unwrap().map(|e| e.unwrap().file_name()).collect();
        names.sort();
        assert_eq!(names, [SERVICE_NAME, TIMER_NAME], "no temporary files left behind");
    }

    #[test]
    fn settings_carry_every_flag() {
        let a = TimerArgs {
            every: "30m".parse().unwrap(),
            site: "HQ".into(),
            location: "lab".into(),
            db: Some("/tmp/h.db".into()),
            textfile: Some("/tmp/tf".into()),
            unit_dir: "/etc/systemd/system".into(),
            binary: None,
            print: true,
            run_options: vec!["--target".into(), "a.example:443".into()],
        };
        let s = a.settings();
        assert_eq!(s.every, std::time::Duration::from_secs(1800));
        assert_eq!((s.site.as_str(), s.location.as_str()), ("HQ", "lab"));
        assert_eq!(s.db.as_deref(), Some(std::path::Path::new("/tmp/h.db")));
        assert_eq!(s.textfile.as_deref(), Some(std::path::Path::new("/tmp/tf")));
        assert_eq!(s.run_options, ["--target", "a.example:443"]);
    }
}
