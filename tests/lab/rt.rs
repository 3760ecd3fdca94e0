//! A real Request Tracker 5 for the lab tests (`tests/lab_rt.rs`): Debian's
//! request-tracker5 with the SQLite backend, configured by a private `RT_SiteConfig.pm` in
//! the lab's temp dir (`RT_SITE_CONFIG`, `RT_SITE_CONFIG_DIR`: nothing under /etc is read
//! or written), its database initialised there with `rt-setup-database-5 --action init`,
//! an auth token made for root through RT's own API, and RT's built-in server
//! (`rt-server`) started in the lab's server namespace on SERVER_IP:8880. The server is a
//! lab daemon: killed by PID (and anything left in the namespace) with the lab. Every step
//! is bounded.
//!
//! Also: delivering a ticket from the client namespace (a helper thread enters it with
//! setns(2); `nettriage ticket` replaces this once the CLI is on the branch) and reading
//! tickets back through REST2 with curl from the client namespace.

use std::fs;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use nettriage::config::TicketSettings;
use nettriage::ticket::{DeliveryError, Receipt, Ticket};
use serde_json::Value;

use crate::lab::{Lab, SERVER_IP, run_cmd};

/// Programs (and their Debian packages) this helper needs.
pub const TOOLS: &[(&str, &str)] =
    &[("rt-setup-database-5", "request-tracker5 rt5-db-sqlite"), ("perl", "perl-base"), ("curl", "curl")];

/// RT's built-in server, in the lab's libexec.
const RT_SERVER: &str = "/usr/share/request-tracker5/libexec/rt-server";
/// RT's Perl library.
const RT_LIB: &str = "/usr/share/request-tracker5/lib";
/// The port RT listens on in the server namespace.
pub const RT_PORT: u16 = 8880;

/// A running lab RT.
pub struct Rt {
    /// Base URL (`http://198.18.1.2:8880`).
    pub url: String,
    /// Directory of its config, database and token.
    pub dir: PathBuf,
    /// A 0600 file holding root's auth token.
    pub token_file: PathBuf,
}

impl Rt {
    /// Sets up and starts RT in the lab's server namespace; waits (bounded) until REST2
    /// answers with the token.
    pub fn start(lab: &mut Lab) -> Rt {
        let dir = lab.tmp().join("rt");
        for sub in ["site.d", "mason", "session"] {
            fs::create_dir_all(dir.join(sub)).unwrap();
        }
        let url = format!("http://{SERVER_IP}:{RT_PORT}");
        let d = dir.display();
        fs::write(
            dir.join("RT_SiteConfig.pm"),
            format!(
                "Set($rtname, 'lab');\nSet($Organization, 'lab.test');\n\
                 Set($WebDomain, '{SERVER_IP}');\nSet($WebPort, {RT_PORT});\nSet($WebPath, '');\n\
                 Set($WebBaseURL, '{url}');\n\
                 Set($DatabaseType, 'SQLite');\nSet($DatabaseName, '{d}/rt.db');\n\
                 Set($LogToSTDERR, 'warning');\nSet($LogToSyslog, undef);\nSet($LogToFile, undef);\n\
                 Set($MasonDataDir, '{d}/mason');\nSet($MasonSessionDir, '{d}/session');\n1;\n"
            ),
        )
        .unwrap();
        let env = Self::env(&dir);

        let started = Instant::now();
        let init =
            run_env(&env, &["rt-setup-database-5", "--action", "init", "--skip-create"], Duration::from_secs(180));
        assert!(init.0, "rt-setup-database-5 --action init failed:\n{}", init.1);
        crate::lab::note("rt", &format!("database initialised in {:.1}s", started.elapsed().as_secs_f64()));

        // root's auth token, made through RT's API (RT::AuthToken), printed on the last line.
        let script = "use RT; RT::LoadConfig(); RT::Init(); \
                      my $u = RT::User->new(RT->SystemUser); $u->Load('root') or die 'no root'; \
                      my $t = RT::AuthToken->new(RT->SystemUser); \
                      my ($ok, $msg, $token) = $t->Create(Owner => $u->Id, Description => 'nettriage lab'); \
                      die \"token: $msg\" unless $ok; print \"TOKEN $token\\n\";";
        let made = run_env(&env, &["perl", &format!("-I{RT_LIB}"), "-e", script], Duration::from_secs(60));
        assert!(made.0, "RT auth token not made:\n{}", made.1);
        let token = made
            .1
            .lines()
            .find_map(|l| l.strip_prefix("TOKEN "))
            .unwrap_or_else(|| panic!("no token in:\n{}", made.1))
            .trim()
            .to_string();
        let token_file = dir.join("token");
        fs::write(&token_file, &token).unwrap();
        use std::os::unix::fs::PermissionsExt;
        fs::set_permissions(&token_file, fs::Permissions::from_mode(0o600)).unwrap();
        fs::write(dir.join("auth.header"), format!("Authorization: token {token}\n")).unwrap();
        fs::set_permissions(dir.join("auth.header"), fs::Permissions::from_mode(0o600)).unwrap();

        let s = lab.s.clone();
        let mut argv: Vec<String> = vec!["env".into()];
        argv.extend(env.iter().map(|(k, v)| format!("{k}={v}")));
        argv.extend([RT_SERVER.to_string(), "--port".into(), RT_PORT.to_string()]);
        let argv: Vec<&str> = argv.iter().map(String::as_str).collect();
        lab.spawn_in("rt-server", &s, &argv);

        let rt = Rt { url, dir, token_file };
        let started = Instant::now();
        loop {
            if let Some(v) = rt.get(lab, &s, "/REST/2.0/queues/all")
                && v["count"].as_u64().is_some_and(|n| n >= 1)
            {
                break;
            }
            assert!(
                started.elapsed() < Duration::from_secs(60),
                "RT did not answer REST2 within 60 s:\n{}",
                lab.daemon_log("rt-server")
            );
            std::thread::sleep(Duration::from_millis(500));
        }
        crate::lab::note("rt", &format!("REST2 answers after {:.1}s", started.elapsed().as_secs_f64()));
        rt
    }

    fn env(dir: &Path) -> Vec<(&'static str, String)> {
        vec![
            ("RT_SITE_CONFIG", dir.join("RT_SiteConfig.pm").display().to_string()),
            ("RT_SITE_CONFIG_DIR", dir.join("site.d").display().to_string()),
        ]
    }

    /// `GET <url><path>` from namespace `ns` with root's token (curl, bounded); the JSON
    /// answer, or None when RT did not answer 200 with JSON.
    pub fn get(&self, lab: &Lab, ns: &str, path: &str) -> Option<Value> {
        let header = format!("@{}", self.dir.join("auth.header").display());
        let url = format!("{}{path}", self.url);
        let out = lab.exec(ns, &["curl", "-s", "-f", "-m", "10", "-H", &header, &url]);
        if !out.status.success() {
            return None;
        }
        serde_json::from_slice(&out.stdout).ok()
    }
}

/// Runs `argv` with `env` added, bounded; (success, stdout+stderr).
fn run_env(env: &[(&str, String)], argv: &[&str], timeout: Duration) -> (bool, String) {
    let mut full: Vec<String> = vec!["env".into()];
    full.extend(env.iter().map(|(k, v)| format!("{k}={v}")));
    full.extend(argv.iter().map(|a| a.to_string()));
    let full: Vec<&str> = full.iter().map(String::as_str).collect();
    match run_cmd(&full, timeout) {
        Some(o) => (
            o.status.success(),
            format!("{}{}", String::from_utf8_lossy(&o.stdout), String::from_utf8_lossy(&o.stderr)),
        ),
        None => (false, format!("timed out after {timeout:?}: {argv:?}")),
    }
}

/// Delivers `ticket` with `settings` from inside namespace `ns`: a helper thread enters it
/// with setns(2) and runs the delivery on its own single-threaded runtime, so every socket
/// is opened in that namespace (none in the host's).
pub fn deliver_in(ns: &str, settings: &TicketSettings, ticket: &Ticket) -> Result<Receipt, DeliveryError> {
    let path = format!("/run/netns/{ns}");
    let (settings, ticket) = (settings.clone(), ticket.clone());
    let handle = std::thread::spawn(move || {
        let f = fs::File::open(&path).unwrap_or_else(|e| panic!("open {path}: {e}"));
        nix::sched::setns(&f, nix::sched::CloneFlags::CLONE_NEWNET).unwrap_or_else(|e| panic!("setns({path}): {e}"));
        let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        runtime.block_on(nettriage::ticket::deliver(&settings, &ticket))
    });
    handle.join().expect("delivery thread panicked")
}
