//! `nettriage serve`: `/metrics` for Prometheus until SIGINT/SIGTERM; the server is the
//! library's `serve::serve`. One line on stderr says where it listens.

#![allow(clippy::print_stderr)]

use nettriage::app::RunError;

use super::cli::ServeArgs;
use super::stop_signal;

/// Serves until a signal; exits 0.
pub async fn serve(args: &ServeArgs) -> Result<u8, RunError> {
    let signalled = stop_signal()?;
    nettriage::serve::serve(args.listen, args.db.clone(), signalled, |addr, db| {
        eprintln!("nettriage: serving http://{addr}/metrics from {}", db.display());
    })
    .await?;
    Ok(0)
}
