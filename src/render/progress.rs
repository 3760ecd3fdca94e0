//! The live progress line shown on a terminal (stderr) while checks run.
//!
//! One line, rewritten in place: each check's state as it starts and finishes. It is only
//! drawn when stderr is a terminal, and erased before the report is printed.

use std::collections::BTreeMap;
use std::io::Write;

use crate::progress::Progress;
use crate::report::{CheckId, CheckStatus};

/// Tracks check states and redraws the line.
#[derive(Debug, Default)]
pub struct ProgressLine {
    states: BTreeMap<CheckId, Option<CheckStatus>>,
}

impl ProgressLine {
    /// Records an event and returns the line to draw.
    pub fn update(&mut self, event: &Progress) -> String {
        match event {
            Progress::Started(id) => {
                self.states.insert(*id, None);
            }
            Progress::Finished(result) => {
                self.states.insert(result.id, Some(result.status));
            }
        }
        self.line()
    }

    fn line(&self) -> String {
        let parts: Vec<String> = CheckId::every()
            .filter_map(|id| {
                self.states.get(&id).map(|state| match state {
                    None => format!("{id} …"),
                    Some(status) => format!("{id} {}", status.as_str()),
                })
            })
            .collect();
        format!("checking: {}", parts.join("  "))
    }

    /// Draws `line` over the current terminal line.
    pub fn draw(out: &mut impl Write, line: &str) {
        let _ = write!(out, "\r\x1b[2K{line}");
        let _ = out.flush();
    }

    /// Erases the line.
    pub fn clear(out: &mut impl Write) {
        let _ = write!(out, "\r\x1b[2K");
        let _ = out.flush();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::CheckResult;

    #[test]
    fn line_lists_checks_in_layer_order() {
        let mut p = ProgressLine::default();
        p.update(&Progress::Started(CheckId::Wifi));
        let line = p.update(&Progress::Started(CheckId::Link));
        assert_eq!(line, "checking: link …  wifi …");
        let done = CheckResult {
            id: CheckId::Link,
            status: CheckStatus::Pass,
            duration_ms: 1,
            blocked_by: None,
            reason: None,
            reason_code: None,
            findings: vec![],
            evidence: crate::report::Evidence::None,
        };
        assert_eq!(p.update(&Progress::Finished(done)), "checking: link pass  wifi …");
    }
}
