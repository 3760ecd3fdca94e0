//! Progress events of a run, for live displays.
//!
//! A leaf: the runner ([`crate::runner`]) emits these as checks start and finish, and the
//! live displays ([`crate::render::progress`], [`crate::render::checklist`]) consume them,
//! so neither side imports the other. It depends only on [`crate::report`].

use crate::report::{CheckId, CheckResult};

/// Progress of a run, for live displays.
#[derive(Debug, Clone)]
pub enum Progress {
    /// A check started.
    Started(CheckId),
    /// A check finished (or was skipped).
    Finished(CheckResult),
}
