//! File-server peers for the `smb` profile's scenarios: Debian's Samba `smbd` in the lab's
//! server namespace with its own smb.conf, every state directory (private, lock, state,
//! cache, pid, ncalrpc) and the share itself in the lab's temp dir, so nothing touches
//! /var/lib/samba or /run/samba; and the hostile peer `tests/lab/hostile_smb.py` answering
//! garbage on 445. Also the config file the runs use and the check's typed evidence.
//! Declared from `tests/lab_smb.rs`.

#![allow(dead_code)]

use std::path::PathBuf;
use std::thread;
use std::time::{Duration, Instant};

use nettriage::check::smb::SmbEvidence;
use serde_json::Value;

use crate::lab::{Lab, SERVER_IP};

/// The file server's name, as the client's /etc/hosts knows it.
pub const FS_NAME: &str = "fs1.site.test";
/// The lab share.
pub const SHARE: &str = "data";

/// How the lab's smbd is set up.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Flavour {
    /// SMB2 and later, signing mandatory.
    Modern,
    /// `server min protocol = NT1`, `server max protocol = NT1`: SMB1 only.
    Smb1Only,
}

/// Starts smbd (`--foreground --debug-stdout`) on SERVER_IP:445 in the server namespace
/// with a private configuration; waits (bounded) until it listens. Not
/// `--no-process-group`: with it, smbd stays in the test's process group, and a run of
/// these tests was ended by a SIGTERM when smbd stopped; without it smbd starts its own
/// session (`setsid`, same PID, which the lab ends) and signals only its own group.
/// Returns its PID (ended by the lab's Drop, or by the test to stop the server).
pub fn start_smbd(lab: &mut Lab, label: &str, flavour: Flavour) -> u32 {
    let dir = lab.tmp().join(label);
    let share = dir.join("share");
    for sub in ["private", "lock", "state", "cache", "pid", "ncalrpc", "log"] {
        std::fs::create_dir_all(dir.join(sub)).unwrap();
    }
    std::fs::create_dir_all(&share).unwrap();
    std::fs::write(share.join("readme.txt"), "nettriage lab share\n").unwrap();
    let protocols = match flavour {
        Flavour::Modern => "server min protocol = SMB2_02\n   server signing = mandatory\n",
        Flavour::Smb1Only => "server min protocol = NT1\n   server max protocol = NT1\n",
    };
    let d = |sub: &str| dir.join(sub).display().to_string();
    let conf = format!(
        "[global]\n   \
         netbios name = LABFS\n   \
         workgroup = LAB\n   \
         server role = standalone server\n   \
         interfaces = {SERVER_IP}/24\n   \
         bind interfaces only = yes\n   \
         smb ports = 445\n   \
         disable netbios = yes\n   \
         private dir = {private}\n   \
         lock directory = {lock}\n   \
         state directory = {state}\n   \
         cache directory = {cache}\n   \
         pid directory = {pid}\n   \
         ncalrpc dir = {ncalrpc}\n   \
         log file = {log}/log.%m\n   \
         passdb backend = tdbsam:{private}/passdb.tdb\n   \
         usershare path =\n   \
         map to guest = Bad User\n   \
         load printers = no\n   \
         printcap name = /dev/null\n   \
         disable spoolss = yes\n   \
         {protocols}\
         \n[{SHARE}]\n   \
         path = {share}\n   \
         read only = yes\n   \
         guest ok = yes\n",
        private = d("private"),
        lock = d("lock"),
        state = d("state"),
        cache = d("cache"),
        pid = d("pid"),
        ncalrpc = d("ncalrpc"),
        log = d("log"),
        share = share.display(),
    );
    let conf_path = dir.join("smb.conf");
    std::fs::write(&conf_path, conf).unwrap();
    let s = lab.s.clone();
    let conf_arg = conf_path.display().to_string();
    let pid = lab.spawn_in(label, &s, &["smbd", "--foreground", "--debug-stdout", "-d", "1", "-s", &conf_arg]);
    wait_listening(lab, label, 445, Duration::from_secs(10));
    pid
}

/// Waits (bounded) until something listens on TCP `port` in the server namespace.
pub fn wait_listening(lab: &Lab, label: &str, port: u16, timeout: Duration) {
    let s = lab.s.clone();
    let filter = format!("sport = :{port}");
    let until = Instant::now() + timeout;
    while Instant::now() < until {
        let out = lab.exec(&s, &["ss", "-Hltn", &filter]);
        if !String::from_utf8_lossy(&out.stdout).trim().is_empty() {
            return;
        }
        thread::sleep(Duration::from_millis(100));
    }
    panic!("{label} does not listen on {port} after {timeout:?}:\n{}", lab.daemon_log(label));
}

/// Starts `tests/lab/hostile_smb.py` on SERVER_IP:445 in the server namespace: each
/// connection gets the next of its malformed answers. Waits until it listens.
pub fn start_hostile(lab: &mut Lab) -> u32 {
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/lab/hostile_smb.py");
    let s = lab.s.clone();
    let pid = lab.spawn_in("hostile-smb", &s, &["python3", "-u", script, "--address", SERVER_IP, "--port", "445"]);
    wait_listening(lab, "hostile-smb", 445, Duration::from_secs(5));
    pid
}

/// Writes the run's config file (`[profiles.smb] shares`) and the client's /etc/hosts
/// entry for [`FS_NAME`]; returns the config's path.
pub fn config(lab: &Lab, shares: &[String]) -> PathBuf {
    lab.set_client_hosts(&[&format!("{SERVER_IP} {FS_NAME}")]);
    let list: Vec<String> = shares.iter().map(|s| format!("'{s}'")).collect();
    let text = format!("[profiles.smb]\nshares = [{}]\ntimeout_ms = 1500\n", list.join(", "));
    let path = lab.tmp().join("smb.toml");
    std::fs::write(&path, text).unwrap();
    path
}

/// The lab share's UNC path.
pub fn lab_share() -> String {
    format!(r"\\{FS_NAME}\{SHARE}")
}

/// The smb check's evidence, typed.
pub fn evidence(report: &Value) -> SmbEvidence {
    let check = crate::lab::check(report, "smb");
    serde_json::from_value(check["evidence"].clone())
        .unwrap_or_else(|e| panic!("smb evidence does not read ({e}): {}", crate::lab::pretty(check)))
}
