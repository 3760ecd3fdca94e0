//! The Debian package end to end (issue #16): build it (`packaging/build-deb.sh`, cargo-deb),
//! check it with lintian, install it with dpkg, check the least-privilege model
//! (`root:nettriage` mode 0750 and only `cap_net_raw,cap_net_admin` on the file), the man
//! pages, the bash completion, the code catalogue and the systemd units; then run a
//! diagnosis in the namespace lab with the INSTALLED binary as an unprivileged member of
//! the group (no root, no sudo: the raw-socket checks must still run), refuse a
//! non-member, reinstall over itself (an upgrade keeps the permissions), and purge (group,
//! override and files gone).
//!
//! It changes this machine's package database, so it runs where CI runs it (root, a fresh
//! machine) and refuses to touch a `nettriage` package it did not install. Set
//! `NETTRIAGE_DEB=path.deb` to test an already built package instead of building one.

mod lab;

use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::process::Output;
use std::time::Duration;

use lab::{
    DEFAULT_SERVER_PORTS, Lab, SERVER_IP, WWW_NAME, assert_check_status, assert_report_contract, check_status,
    parse_report, pretty, run_cmd,
};

const TEST: &str = "debian_package_installs_runs_unprivileged_upgrades_and_purges";
const BIN: &str = "/usr/bin/nettriage";

fn sh(argv: &[&str], timeout: Duration) -> Output {
    run_cmd(argv, timeout).unwrap_or_else(|| panic!("{argv:?} could not run or did not finish in {timeout:?}"))
}

fn ok(argv: &[&str], timeout: Duration) -> String {
    let out = sh(argv, timeout);
    assert!(
        out.status.success(),
        "{argv:?} failed ({}):\n{}\n{}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// Whether dpkg knows an installed `nettriage`.
fn installed() -> bool {
    sh(&["dpkg-query", "-W", "-f", "${Status}", "nettriage"], Duration::from_secs(30)).status.success()
        && ok(&["dpkg-query", "-W", "-f", "${Status}", "nettriage"], Duration::from_secs(30)).contains("installed")
}

/// Purges the package this test installed, also when the test fails.
struct Purge;

impl Drop for Purge {
    fn drop(&mut self) {
        let _ = run_cmd(&["dpkg", "--purge", "nettriage"], Duration::from_secs(120));
    }
}

/// The .deb to test: `NETTRIAGE_DEB`, or one built now with packaging/build-deb.sh.
fn package() -> PathBuf {
    if let Some(path) = std::env::var_os("NETTRIAGE_DEB") {
        return PathBuf::from(path);
    }
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/packaging/build-deb.sh");
    let out = ok(&[script], Duration::from_secs(40 * 60));
    let last = out.lines().last().expect("build-deb.sh prints the .deb path");
    Path::new(env!("CARGO_MANIFEST_DIR")).join(last.trim())
}

fn gid_of(group: &str) -> u32 {
    let line = ok(&["getent", "group", group], Duration::from_secs(10));
    line.split(':').nth(2).and_then(|g| g.trim().parse().ok()).unwrap_or_else(|| panic!("getent group {group}: {line}"))
}

#[test]
#[cfg_attr(nettriage_lab_skip, ignore = "NETTRIAGE_LAB=skip")]
fn debian_package_installs_runs_unprivileged_upgrades_and_purges() {
    lab::require_tools(
        TEST,
        &[
            ("dpkg", "dpkg"),
            ("cargo-deb", "cargo install cargo-deb --locked"),
            ("lintian", "lintian"),
            ("getcap", "libcap2-bin"),
            ("man", "man-db"),
            ("systemd-analyze", "systemd"),
            ("setpriv", "util-linux"),
        ],
    );
    assert!(
        !installed(),
        "a nettriage package is already installed here: this test installs and purges its own, so it refuses"
    );
    let deb = package();
    let deb_s = deb.display().to_string();

    // lintian: no errors or warnings (each override in packaging/lintian is justified there).
    let lint = sh(&["lintian", "--fail-on", "error,warning", &deb_s], Duration::from_secs(300));
    assert!(
        lint.status.success(),
        "lintian {deb_s}:\n{}{}",
        String::from_utf8_lossy(&lint.stdout),
        String::from_utf8_lossy(&lint.stderr)
    );

    let _purge = Purge;
    ok(&["dpkg", "-i", &deb_s], Duration::from_secs(300));
    assert!(installed());

    // The dumpcap model: root:nettriage 0750 with exactly the two capabilities.
    let gid = gid_of("nettriage");
    let meta = std::fs::metadata(BIN).unwrap();
    assert_eq!((meta.uid(), meta.gid(), meta.mode() & 0o7777), (0, gid, 0o750), "owner, group and mode of {BIN}");
    let caps = ok(&["getcap", BIN], Duration::from_secs(10));
    assert!(caps.contains("cap_net_admin,cap_net_raw=ep"), "getcap {BIN}: {caps}");

    // Man pages render, the completion loads, the code catalogue and the units are there.
    let page = ok(&["man", "-l", "/usr/share/man/man1/nettriage-run.1.gz"], Duration::from_secs(30));
    assert!(page.contains("NAME"), "{page}");
    let complete = ok(
        &["bash", "-c", "source /usr/share/bash-completion/completions/nettriage && complete -p nettriage"],
        Duration::from_secs(10),
    );
    assert!(complete.contains("_nettriage"), "{complete}");
    let catalogue = std::fs::read_to_string("/usr/share/doc/nettriage/finding-codes.md").unwrap();
    assert!(nettriage::codes::Code::ALL.iter().all(|c| catalogue.contains(c.as_str())));
    let units = tempfile::tempdir().unwrap();
    for (from, to) in [
        ("nettriage-survey@.service", "nettriage-survey@HQ.service"),
        ("nettriage-survey@.timer", "nettriage-survey@HQ.timer"),
        ("nettriage-serve.service", "nettriage-serve.service"),
    ] {
        std::fs::copy(Path::new("/usr/lib/systemd/system").join(from), units.path().join(to)).unwrap();
    }
    let verify: Vec<String> = ["nettriage-survey@HQ.service", "nettriage-survey@HQ.timer", "nettriage-serve.service"]
        .iter()
        .map(|u| units.path().join(u).display().to_string())
        .collect();
    let mut argv = vec!["systemd-analyze", "verify", "--man=no"];
    argv.extend(verify.iter().map(String::as_str));
    ok(&argv, Duration::from_secs(60));

    // A diagnosis in the lab with the installed binary, as uid/gid 65534 (nobody) with the
    // nettriage group and no inherited capabilities: the file capabilities alone let the
    // DHCP probe and the gateway's ARP run.
    let lab_ = Lab::start(TEST);
    let member = format!("--groups={gid}");
    let wrapper = ["setpriv", "--reuid=65534", "--regid=65534", &member, "--inh-caps=-all", "--"];
    let target = format!("{SERVER_IP}:{}", DEFAULT_SERVER_PORTS[0]);
    let run_args = ["run", "--interface", "eth0", "--format", "json", "--target", &target, "--dns-name", WWW_NAME];
    let out = lab_.run_binary_with(BIN, &wrapper, &run_args, Some(Path::new("/")));
    let report = parse_report(&out);
    assert_report_contract(out.code, &report);
    assert_eq!(out.code, 0, "healthy lab, run by a group member:\n{}", pretty(&report));
    assert_check_status(&report, "dhcp", "pass");
    assert_check_status(&report, "gateway", "pass");
    assert_ne!(check_status(&report, "dhcp"), "skipped");

    // Not a member: the binary is not executable for them (mode 0750), a member's is. Asked
    // with access(2) (`test -x`, as the desktop launcher does): some sandboxed kernels do not
    // enforce the execute bits in execve itself, access(2) always does.
    let access = |groups: &str| {
        let out = sh(
            &["setpriv", "--reuid=65534", "--regid=65534", groups, "--", "sh", "-c", &format!("test -x {BIN}")],
            Duration::from_secs(10),
        );
        out.status.success()
    };
    assert!(access(&member), "a member of the nettriage group may execute {BIN}");
    assert!(!access("--clear-groups"), "a user outside the nettriage group may not execute {BIN}");
    drop(lab_);

    // An upgrade (the same package again) keeps the permissions and capabilities.
    ok(&["dpkg", "-i", &deb_s], Duration::from_secs(300));
    let meta = std::fs::metadata(BIN).unwrap();
    assert_eq!((meta.gid(), meta.mode() & 0o7777), (gid, 0o750));
    assert!(ok(&["getcap", BIN], Duration::from_secs(10)).contains("cap_net_admin,cap_net_raw=ep"));

    // Purge: files, the permissions override and the group are gone.
    ok(&["dpkg", "--purge", "nettriage"], Duration::from_secs(120));
    assert!(!installed());
    assert!(!Path::new(BIN).exists());
    assert!(!sh(&["getent", "group", "nettriage"], Duration::from_secs(10)).status.success(), "group left behind");
    let overrides = ok(&["dpkg-statoverride", "--list"], Duration::from_secs(10));
    assert!(!overrides.contains(BIN), "statoverride left behind: {overrides}");
}
