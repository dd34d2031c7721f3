//! Embargoed stories appear by themselves at their release time: a task of
//! the server's runtime waits for the store's next release time and moves
//! what is due into the indexes, with no request needed.

use std::time::Duration;

use actix_web::web;
use chrono::Utc;

use crate::startup::AppState;
use crate::store::Put;

/// Longest wait between looks at the next release time: a story held with
/// an earlier release than any before is noticed within this.
const POLL: Duration = Duration::from_millis(250);

/// Runs until the server stops.
pub async fn run(state: web::Data<AppState>) {
    loop {
        let now = Utc::now();
        let due = match state.store.next_release() {
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
        let writer = state.clone();
        let released = web::block(move || -> Result<Vec<Put>, crate::store::StoreError> {
            let released = writer.store.release_due(now)?;
            for put in &released {
                if let Put::Created(a) | Put::Updated { article: a, .. } = put {
                    writer.cache.invalidate(&crate::cache::Tag::written(a));
                }
            }
            writer.store.sync()?;
            Ok(released)
        })
        .await;
        match released.map_err(|e| e.to_string()).and_then(|r| r.map_err(|e| e.to_string())) {
            Ok(released) => {
                for put in &released {
                    let a = put.article();
                    if let Put::Created(_) | Put::Updated { .. } = put {
                        state.edge.changed(&crate::cache::Tag::written(a));
                    }
                    state.metrics.imports.with_label_values(&["released"]).inc();
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
