//! `nettriage survey install-timer` end to end, without a lab: the real binary writes the
//! units into a temporary directory, creates the directories they need, refuses what
//! systemd would not run, and `systemd-analyze verify` (Debian's `systemd` package; it
//! needs no running systemd) accepts the units it writes.

use std::path::Path;
use std::process::{Command, Output};

fn nettriage(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_nettriage")).args(args).output().expect("run nettriage")
}

fn unit_lines(path: &Path) -> Vec<String> {
    std::fs::read_to_string(path).unwrap().lines().map(str::to_string).collect()
}

/// `systemd-analyze`, or a failure naming the package: this test never passes unchecked.
fn systemd_analyze() -> &'static str {
    let found = Command::new("systemd-analyze").arg("--version").output().is_ok_and(|o| o.status.success());
    assert!(found, "systemd-analyze is missing: apt-get install systemd (CI installs it)");
    "systemd-analyze"
}

#[test]
fn units_are_verified_by_systemd_and_their_directories_exist() {
    let tmp = tempfile::tempdir().unwrap();
    // An installed copy of the binary: units must not run the one in the build tree.
    let bin_dir = tmp.path().join("bin");
    std::fs::create_dir_all(&bin_dir).unwrap();
    let installed = bin_dir.join("nettriage");
    std::fs::copy(env!("CARGO_BIN_EXE_nettriage"), &installed).unwrap();
    let units = tmp.path().join("units");
    std::fs::create_dir_all(&units).unwrap();
    let db = tmp.path().join("state").join("history.db");
    let textfile = tmp.path().join("node_exporter").join("textfile");
    let (units_arg, db_arg, tf_arg, bin_arg) = (
        units.display().to_string(),
        db.display().to_string(),
        textfile.display().to_string(),
        installed.display().to_string(),
    );
    let out = nettriage(&[
        "survey",
        "install-timer",
        "--unit-dir",
        &units_arg,
        "--db",
        &db_arg,
        "--textfile",
        &tf_arg,
        "--binary",
        &bin_arg,
        "--every",
        "5m",
        "--site",
        "HQ 100%",
        "--location",
        "floor\n2",
        "--",
        "--target",
        "198.18.1.2:8080",
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(db.parent().unwrap().is_dir() && textfile.is_dir(), "the ReadWritePaths= exist");
    let service = units.join("nettriage-survey.service");
    let timer = units.join("nettriage-survey.timer");
    let lines = unit_lines(&service);
    assert!(lines.iter().any(|l| l.starts_with(&format!("ExecStart={bin_arg} survey --once"))), "{lines:?}");
    assert!(!unit_lines(&timer).iter().any(|l| l.starts_with("Persistent=")));

    let verify = Command::new(systemd_analyze())
        .args(["verify", &service.display().to_string(), &timer.display().to_string()])
        .output()
        .unwrap();
    assert!(
        verify.status.success(),
        "systemd-analyze verify: {}{}",
        String::from_utf8_lossy(&verify.stdout),
        String::from_utf8_lossy(&verify.stderr)
    );
}

#[test]
fn the_default_history_directory_is_a_state_directory() {
    let out = nettriage(&["survey", "install-timer", "--print", "--binary", "/usr/bin/nettriage"]);
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    let text = String::from_utf8(out.stdout).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert!(lines.contains(&"StateDirectory=nettriage"), "{text}");
    assert!(!lines.iter().any(|l| l.starts_with("ReadWritePaths=")), "{text}");
}

#[test]
fn a_build_tree_binary_and_a_period_under_a_minute_are_refused() {
    let tmp = tempfile::tempdir().unwrap();
    let units = tmp.path().display().to_string();
    // The test binary runs from target/: no --binary means this binary, which is refused.
    let out = nettriage(&["survey", "install-timer", "--unit-dir", &units]);
    assert_eq!(out.status.code(), Some(3));
    let out = nettriage(&["survey", "install-timer", "--unit-dir", &units, "--binary", "/usr/bin/x", "--every", "30s"]);
    assert_eq!(out.status.code(), Some(3), "clap refuses the period");
    assert_eq!(std::fs::read_dir(tmp.path()).unwrap().count(), 0, "nothing was written");
}
