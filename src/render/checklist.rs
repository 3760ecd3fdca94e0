//! The end user's live checklist for `nettriage selftest`: one plain-language line per
//! layer, a spinner while it runs, a tick or a cross when done, under a header line. On a
//! terminal it is drawn with indicatif, the header included (anything else written to the
//! terminal while the bars are live would shift them and leave stale lines behind);
//! otherwise the header and then each line are printed once, when its check finishes.
//! [`Checklist::finish`] settles every line, so the final screen is the header and one
//! line per layer, before the caller prints the verdict.

use std::collections::BTreeMap;
use std::io::Write;
use std::sync::Mutex;
use std::time::Duration;

use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};

use crate::progress::Progress;
use crate::report::{CheckId, CheckResult, CheckStatus, Code, Severity};

/// What an end user calls each layer.
pub fn label(id: CheckId) -> &'static str {
    match id {
        CheckId::Link => "Network cable or Wi-Fi connection",
        CheckId::Wifi => "Wi-Fi signal",
        CheckId::Dhcp => "Network address",
        CheckId::Ipv6 => "Checking IPv6",
        CheckId::Neighbours => "Which switch port this is",
        CheckId::Gateway => "Connection to the router",
        CheckId::Dns => "Finding websites by name",
        CheckId::Path => "Large packets on the way",
        CheckId::Web => "Opening websites",
        CheckId::Ports => "Reaching the services you need",
        CheckId::Ad => "Signing in to the company domain",
        CheckId::Smb => "Shared drives",
        CheckId::Printers => "Printers",
        CheckId::M365 => "Microsoft 365 (Outlook, Teams)",
        CheckId::Rdp => "Remote desktop",
    }
}

/// Whether the only problem a check reported is missing privileges (`tool.no_privilege`):
/// what it could not check is the user's rights, not the network.
pub fn only_privilege_missing(result: &CheckResult) -> bool {
    let problems: Vec<_> = result.findings.iter().filter(|f| f.severity >= Severity::Warn).collect();
    !problems.is_empty() && problems.iter().all(|f| f.code == Code::ToolNoPrivilege)
}

/// The words for a line whose only problem is missing privileges.
pub const NEEDS_ADMIN: &str = "partly checked: the rest needs administrator rights";

/// The tick or cross and the words for a finished check.
pub fn outcome(result: &CheckResult) -> (&'static str, &'static str) {
    if matches!(result.status, CheckStatus::Warn | CheckStatus::Error) && only_privilege_missing(result) {
        return ("?", NEEDS_ADMIN);
    }
    match result.status {
        CheckStatus::Pass => ("✔", "OK"),
        CheckStatus::Warn => ("!", "works, with a problem"),
        CheckStatus::Fail => ("✘", "not working"),
        CheckStatus::Skipped if result.blocked_by.is_some() => ("–", "not checked (an earlier step failed)"),
        CheckStatus::Skipped => ("–", "not checked"),
        CheckStatus::Error => ("?", "could not be checked"),
    }
}

/// One finished line, as printed without a terminal.
pub fn line(result: &CheckResult) -> String {
    let (mark, words) = outcome(result);
    // The switch port is an answer, not only a verdict: say what was heard.
    if let Some(ev) = result.neighbours() {
        let heard = match crate::check::neighbours::line(ev) {
            Some(line) => line.sentence(),
            None => "nothing heard during the test".to_string(),
        };
        return format!("{mark} {}: {words}; {heard}", label(result.id));
    }
    format!("{mark} {}: {words}", label(result.id))
}

/// The words above the checklist.
pub const HEADER: &str = "Checking your network connection…";

/// The line a layer ends with when the run reported nothing for it.
fn unreported(id: CheckId) -> String {
    format!("– {}: not checked", label(id))
}

/// The bars on the terminal; the `MultiProgress` and the header are kept so that they
/// stay tracked (and drawn) as long as the checklist.
struct Live {
    _multi: MultiProgress,
    _header: ProgressBar,
    bars: BTreeMap<CheckId, ProgressBar>,
}

/// The live checklist.
pub struct Checklist {
    live: Option<Live>,
    plain: Mutex<Box<dyn Write + Send>>,
}

impl Checklist {
    /// A checklist under [`HEADER`], drawn live on the terminal `live` (the caller's
    /// choice, e.g. `ProgressDrawTarget::stdout()`), else printed line by line to `plain`.
    /// Nothing else may write to that terminal until [`Checklist::finish`].
    /// `profiles` are the service profiles' checks the run has (their lines follow the
    /// layers').
    pub fn new(live: Option<ProgressDrawTarget>, plain: Box<dyn Write + Send>, profiles: &[CheckId]) -> Checklist {
        let plain = Mutex::new(plain);
        let live = match live {
            Some(target) => Some(Self::bars(target, profiles)),
            None => {
                if let Ok(mut out) = plain.lock() {
                    let _ = writeln!(out, "{HEADER}");
                }
                None
            }
        };
        Checklist { live, plain }
    }

    /// The header and one spinner per layer, in layer order, all on one `MultiProgress`.
    fn bars(target: ProgressDrawTarget, profiles: &[CheckId]) -> Live {
        let multi = MultiProgress::with_draw_target(target);
        // The header is a bar of its own: finished at once, it stays drawn above the others.
        let header = multi.add(ProgressBar::new_spinner());
        header.set_style(ProgressStyle::with_template("{msg}").expect("valid template"));
        header.finish_with_message(HEADER);
        let style = ProgressStyle::with_template("{spinner} {msg}")
            .expect("valid template")
            .tick_strings(&["⠋", "⠙", "⠹", "⠸", "⠼", "⠴", "⠦", "⠧", "⠇", "⠏", "✔"]);
        let bars = CheckId::ALL
            .iter()
            .chain(profiles)
            .map(|&id| {
                let bar = multi.add(ProgressBar::new_spinner());
                bar.set_style(style.clone());
                bar.set_message(format!("{}: waiting", label(id)));
                (id, bar)
            })
            .collect();
        Live { _multi: multi, _header: header, bars }
    }

    /// Settles the checklist once the run is over: every layer still spinning or waiting
    /// ends with its line from `checks` (or "not checked" when the run reported nothing for
    /// it), so no spinner is left ticking and the terminal is free for the verdict.
    pub fn finish(&self, checks: &[CheckResult]) {
        let Some(live) = &self.live else { return };
        for (id, bar) in &live.bars {
            if !bar.is_finished() {
                let text = checks.iter().find(|c| c.id == *id).map_or_else(|| unreported(*id), line);
                bar.set_style(ProgressStyle::with_template("{msg}").expect("valid template"));
                bar.finish_with_message(text);
            }
        }
    }

    /// Records a progress event.
    pub fn update(&self, event: &Progress) {
        match (&self.live, event) {
            (Some(live), Progress::Started(id)) => {
                if let Some(bar) = live.bars.get(id) {
                    bar.set_message(format!("{}: checking…", label(*id)));
                    bar.enable_steady_tick(Duration::from_millis(100));
                }
            }
            (Some(live), Progress::Finished(result)) => {
                if let Some(bar) = live.bars.get(&result.id) {
                    bar.set_style(ProgressStyle::with_template("{msg}").expect("valid template"));
                    bar.finish_with_message(line(result));
                }
            }
            (None, Progress::Finished(result)) => {
                if let Ok(mut out) = self.plain.lock() {
                    let _ = writeln!(out, "{}", line(result));
                }
            }
            (None, Progress::Started(_)) => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn result(status: CheckStatus, blocked_by: Option<CheckId>) -> CheckResult {
        CheckResult {
            id: CheckId::Dns,
            status,
            duration_ms: 1,
            blocked_by,
            reason: None,
            reason_code: None,
            findings: vec![],
            evidence: crate::report::Evidence::None,
        }
    }

    #[test]
    fn plain_lines_use_plain_words() {
        assert_eq!(line(&result(CheckStatus::Pass, None)), "✔ Finding websites by name: OK");
        assert_eq!(line(&result(CheckStatus::Fail, None)), "✘ Finding websites by name: not working");
        assert!(line(&result(CheckStatus::Skipped, Some(CheckId::Link))).contains("an earlier step failed"));
    }

    #[test]
    fn missing_privileges_are_said_as_such_not_as_a_problem_of_the_network() {
        let no_privilege = crate::report::Finding {
            code: Code::ToolNoPrivilege,
            severity: Severity::Warn,
            layer: CheckId::Dns,
            message: "needs CAP_NET_RAW".into(),
        };
        let mut r = result(CheckStatus::Warn, None);
        r.findings = vec![no_privilege.clone()];
        assert_eq!(outcome(&r), ("?", NEEDS_ADMIN));
        r.status = CheckStatus::Error;
        assert_eq!(outcome(&r), ("?", NEEDS_ADMIN));
        // Another problem beside it is still "works, with a problem".
        r.status = CheckStatus::Warn;
        r.findings.push(crate::report::Finding { code: Code::DnsSlow, ..no_privilege });
        assert_eq!(outcome(&r).1, "works, with a problem");
    }

    #[test]
    fn on_a_terminal_the_header_is_a_bar_and_finish_settles_every_layer() {
        let list = Checklist::new(Some(ProgressDrawTarget::hidden()), Box::new(std::io::sink()), &[]);
        list.update(&Progress::Started(CheckId::Dns));
        list.update(&Progress::Started(CheckId::Link));
        list.finish(&[result(CheckStatus::Pass, None)]);
        let live = list.live.as_ref().expect("drawn live");
        assert!(live._header.is_finished() && live._header.message() == HEADER);
        assert!(live.bars.values().all(ProgressBar::is_finished));
        assert_eq!(live.bars[&CheckId::Dns].message(), line(&result(CheckStatus::Pass, None)));
        // Started but never reported, and never started: both end as "not checked".
        assert_eq!(live.bars[&CheckId::Link].message(), unreported(CheckId::Link));
        assert_eq!(live.bars[&CheckId::Ports].message(), unreported(CheckId::Ports));
    }

    #[test]
    fn without_a_terminal_each_finished_check_is_one_line() {
        #[derive(Clone, Default)]
        struct Buf(std::sync::Arc<Mutex<Vec<u8>>>);
        impl Write for Buf {
            fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
                self.0.lock().unwrap().extend_from_slice(b);
                Ok(b.len())
            }
            fn flush(&mut self) -> std::io::Result<()> {
                Ok(())
            }
        }
        let buf = Buf::default();
        let list = Checklist::new(None, Box::new(buf.clone()), &[]);
        list.update(&Progress::Started(CheckId::Dns));
        list.update(&Progress::Finished(result(CheckStatus::Pass, None)));
        assert_eq!(
            String::from_utf8(buf.0.lock().unwrap().clone()).unwrap(),
            format!("{HEADER}\n✔ Finding websites by name: OK\n")
        );
    }
}
