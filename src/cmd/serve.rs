//! `nettriage serve`: `/metrics` for Prometheus until SIGINT/SIGTERM; the server is the
//! library's `serve::serve`.

use nettriage::app::RunError;

use super::cli::ServeArgs;
use super::stop_signal;

/// Serves until a signal; exits 0.
pub async fn serve(args: &ServeArgs) -> Result<u8, RunError> {
    let signalled = stop_signal()?;
    nettriage::serve::serve(args.listen, args.db.clone(), signalled).await?;
    Ok(0)
}
