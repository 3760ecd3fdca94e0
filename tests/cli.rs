//! The binary's behaviour around the checks, without a network: output closed by the
//! reader (`| head`), options a command would ignore, and what `history` accepts. The
//! reports come from `analyze` on a capture recorded in the lab, stored with the library.

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use nettriage::history::History;

fn bin() -> Command {
    Command::new(env!("CARGO_BIN_EXE_nettriage"))
}

/// Runs the binary with its stdout closed before it writes: the reader went away.
fn exit_code_with_closed_stdout(args: &[&str]) -> (Option<i32>, String) {
    let mut child = bin().args(args).stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().unwrap();
    drop(child.stdout.take());
    let mut stderr = String::new();
    child.stderr.take().unwrap().read_to_string(&mut stderr).unwrap();
    (child.wait().unwrap().code(), stderr)
}

/// A history with two runs (the healthy lab capture, twice) and a JSON report file.
fn fixtures(dir: &Path) -> (PathBuf, PathBuf) {
    let report = nettriage::app::analyze_file(Path::new("captures/lab_healthy.pcap"), false).unwrap();
    let db = dir.join("history.db");
    let mut history = History::open(&db).unwrap();
    history.insert(&report, "HQ", "floor 2").unwrap();
    history.insert(&report, "Branch", "").unwrap();
    let json = dir.join("report.json");
    std::fs::write(&json, serde_json::to_vec(&report).unwrap()).unwrap();
    (db, json)
}

#[test]
fn a_closed_stdout_ends_every_command_quietly() {
    let dir = tempfile::tempdir().unwrap();
    let (db, json) = fixtures(dir.path());
    let (db, json) = (db.display().to_string(), json.display().to_string());
    for args in [
        vec!["diff", &json, &json, "--format", "json"],
        vec!["diff", &json, &json],
        vec!["history", "--db", &db],
        vec!["history", "--db", &db, "--format", "json"],
        vec!["history", "trend", "--db", &db, "--format", "json"],
        vec!["history", "trend", "--db", &db],
        vec!["history", "export", "--db", &db],
        vec!["analyze", "captures/lab_healthy.pcap", "--format", "json"],
        vec!["codes"],
        vec!["codes", "--format", "markdown"],
        vec!["completions", "bash"],
    ] {
        let (code, stderr) = exit_code_with_closed_stdout(&args);
        assert_eq!(code, Some(0), "{args:?}: {stderr}");
        assert!(stderr.is_empty(), "{args:?} said: {stderr}");
    }
}

#[test]
fn options_a_command_would_ignore_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let (db, _) = fixtures(dir.path());
    let db = db.display().to_string();
    for args in [
        vec!["history", "--db", &db, "--format", "markdown"],
        vec!["history", "--db", &db, "--format", "html"],
        vec!["history", "export", "--db", &db, "--format", "table"],
        vec!["history", "trend", "--db", &db, "--format", "markdown"],
        vec!["history", "show", "1", "--db", &db, "--site", "Branch"],
        // Refused before any network check: these exit at once.
        vec!["survey", "--output", "x.html", "--db", &db, "--once"],
        vec!["survey", "--format", "json", "--db", &db, "--once"],
        vec!["selftest", "--format", "json"],
    ] {
        let out = bin().args(&args).output().unwrap();
        assert_eq!(out.status.code(), Some(3), "{args:?}: {}", String::from_utf8_lossy(&out.stderr));
        assert!(out.stdout.is_empty(), "{args:?} wrote output");
    }
    // What they accept still works.
    for args in [
        vec!["history", "--db", &db, "--format", "json"],
        vec!["history", "show", "1", "--db", &db, "--format", "markdown"],
        vec!["history", "trend", "--db", &db, "--format", "html"],
        vec!["history", "--db", &db, "--since", "2000-01-01"],
        vec!["history", "--db", &db, "--since", "100000d"],
    ] {
        let out = bin().args(&args).output().unwrap();
        assert_eq!(out.status.code(), Some(0), "{args:?}: {}", String::from_utf8_lossy(&out.stderr));
    }
}

#[test]
fn history_filters_by_date_and_age() {
    let dir = tempfile::tempdir().unwrap();
    let (db, _) = fixtures(dir.path());
    let db = db.display().to_string();
    let count = |since: &str| -> usize {
        let out = bin().args(["history", "--db", &db, "--format", "json", "--since", since]).output().unwrap();
        assert_eq!(out.status.code(), Some(0), "{since}: {}", String::from_utf8_lossy(&out.stderr));
        serde_json::from_slice::<serde_json::Value>(&out.stdout).unwrap().as_array().unwrap().len()
    };
    // The capture's runs are stamped with the analysis time (now): an age of a day keeps
    // both, a date in the future keeps none.
    assert_eq!(count("24h"), 2);
    assert_eq!(count("2999-01-01"), 0);
}

#[test]
fn an_empty_trend_says_so() {
    let dir = tempfile::tempdir().unwrap();
    let (db, _) = fixtures(dir.path());
    let db = db.display().to_string();
    for format in ["table", "json", "html"] {
        let out =
            bin().args(["history", "trend", "--db", &db, "--site", "nowhere", "--format", format]).output().unwrap();
        assert_eq!(out.status.code(), Some(0), "{format}");
        assert!(!out.stderr.is_empty(), "{format}: an empty trend is announced on stderr");
    }
    let out = bin().args(["history", "trend", "--db", &db, "--format", "json"]).output().unwrap();
    assert!(out.stderr.is_empty(), "a trend with runs says nothing on stderr");
}

/// `codes` exports every finding code the binary knows, in every format, to stdout or a file;
/// a filter that matches nothing is a usage error (exit 3).
#[test]
fn codes_export_the_whole_catalogue_in_every_format() {
    let dir = tempfile::tempdir().unwrap();
    let out = bin().args(["codes", "--format", "json"]).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let all: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let all = all.as_array().unwrap();
    assert_eq!(all.len(), nettriage::codes::Code::ALL.len());
    for entry in all {
        assert!(entry["summary"].as_str().is_some_and(|s| !s.is_empty()), "{entry}");
        assert!(entry["doc"].as_str().is_some_and(|d| d.starts_with("docs/checks/")), "{entry}");
    }
    for (format, file) in [("markdown", "kb.md"), ("html", "kb.html"), ("table", "kb.txt")] {
        let path = dir.path().join(file);
        let status = bin().args(["codes", "--format", format, "--output"]).arg(&path).status().unwrap();
        assert!(status.success(), "{format}");
        let text = std::fs::read_to_string(&path).unwrap();
        for code in nettriage::codes::Code::ALL {
            assert!(text.contains(code.as_str()), "{format} lacks {code}");
        }
    }
    let dns = bin().args(["codes", "dns", "--format", "json"]).output().unwrap();
    let dns: serde_json::Value = serde_json::from_slice(&dns.stdout).unwrap();
    assert!(dns.as_array().unwrap().iter().all(|e| e["layer"] == "dns"));
    assert_eq!(bin().args(["codes", "no.such_code"]).status().unwrap().code(), Some(3));
}

/// The completion scripts load in their shell (bash here: `complete -p` names the
/// function), and the man pages cover every subcommand and render with `man -l`.
#[test]
fn completions_load_and_man_pages_render() {
    let dir = tempfile::tempdir().unwrap();
    let script = dir.path().join("nettriage.bash");
    let out = bin().args(["completions", "bash"]).output().unwrap();
    assert!(out.status.success());
    std::fs::write(&script, &out.stdout).unwrap();
    let loaded = Command::new("bash")
        .arg("-c")
        .arg(format!("source {} && complete -p nettriage", script.display()))
        .output()
        .expect("bash runs");
    assert!(loaded.status.success(), "{}", String::from_utf8_lossy(&loaded.stderr));
    assert!(String::from_utf8_lossy(&loaded.stdout).contains("-F _nettriage nettriage"));
    for shell in ["zsh", "fish"] {
        let out = bin().args(["completions", shell]).output().unwrap();
        assert!(out.status.success() && !out.stdout.is_empty(), "{shell}");
    }

    let man_dir = dir.path().join("man");
    let status = bin().arg("manpages").arg(&man_dir).stdout(Stdio::null()).status().unwrap();
    assert!(status.success());
    for page in ["nettriage", "nettriage-run", "nettriage-selftest", "nettriage-codes", "nettriage-history-trend"] {
        let path = man_dir.join(format!("{page}.1"));
        assert!(path.exists(), "{page}.1 missing");
        let rendered = Command::new("man")
            .arg("-l")
            .arg(&path)
            .env("MANPAGER", "cat")
            .env("MANWIDTH", "80")
            .output()
            .expect("man (man-db) is installed: .ci/run installs it");
        assert!(rendered.status.success(), "man -l {page}.1: {}", String::from_utf8_lossy(&rendered.stderr));
        assert!(String::from_utf8_lossy(&rendered.stdout).contains("NAME"), "{page}.1 has no NAME section");
    }
}
