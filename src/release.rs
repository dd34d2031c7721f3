//! Embargoed stories appear by themselves at their release time: a task of
//! the server's runtime waits for the store's next release time and moves
//! what is due into the indexes, with no request needed.

use std::sync::Arc;
use std::time::Duration;

use chrono::Utc;

use crate::app::App;

/// Longest wait between looks at the next release time: a story held with
/// an earlier release than any before is noticed within this.
const POLL: Duration = Duration::from_millis(250);

/// Runs until the server stops.
pub async fn run(app: Arc<App>) {
    loop {
        let now = Utc::now();
        let due = match app.store().next_release() {
            Some(at) if at <= now => true,
            Some(at) => {
                tokio::time::sleep((at - now).to_std().unwrap_or(POLL).min(POLL)).await;
                false
            }
            None => {
                tokio::time::sleep(POLL).await;
                false
            }
        };
        if !due {
            continue;
        }
        let releaser = Arc::clone(&app);
        let released = tokio::task::spawn_blocking(move || releaser.release_due(now)).await;
        match released.map_err(|e| e.to_string()).and_then(|r| r.map_err(|e| e.to_string())) {
            Ok(released) => {
                if released.is_empty() {
                    // Due but not released (the store is being rebuilt): look again shortly.
                    tokio::time::sleep(POLL).await;
                }
                for put in &released {
                    let a = put.article();
                    tracing::info!(id = %a.id, section = %a.section.slug, outcome = put.outcome(), "embargo released");
                }
            }
            Err(e) => {
                tracing::error!(error = %e, "releasing embargoed stories");
                tokio::time::sleep(POLL).await;
            }
        }
    }
}
