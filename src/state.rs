//! What every HTTP handler shares.

use std::sync::Arc;

use actix_web::http::header::HeaderValue;

use crate::app::App;
use crate::token::Token;
use crate::urls::PublicUrl;

/// The handlers' shared state.
pub struct AppState {
    pub app: Arc<App>,
    pub token: Token,
    pub public: PublicUrl,
    /// `Cache-Control` of documents, made once (cut before an embargo release).
    pub cache_control: HeaderValue,
    /// What the start makes (or made) again from the archive, for `/healthz`.
    pub recovery: std::sync::Arc<crate::rebuild::Recovery>,
}

impl AppState {
    /// `Cache-Control` for a document now: the configured max-age (and edge
    /// s-maxage), cut so that no copy outlives the next embargo release
    /// (which changes documents).
    pub fn cache_control(&self) -> HeaderValue {
        let Some(release) = self.app.store().next_release() else { return self.cache_control.clone() };
        let max_age = self.app.site().max_age;
        let left = (release - chrono::Utc::now()).num_seconds().max(0) as u64;
        if left >= self.app.edge().longest(max_age) {
            return self.cache_control.clone();
        }
        self.app.edge().cache_control(max_age, Some(left))
    }
}
