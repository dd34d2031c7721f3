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
    /// `Cache-Control` of current documents while no release is near, made once.
    pub cache_control: HeaderValue,
}

impl AppState {
    /// `Cache-Control` for a document now (`older`: a `?before=` page): see
    /// [`crate::edge::Lifetimes`] for how a near embargo release cuts it
    /// without telling when it is due.
    pub fn cache_control(&self, older: bool) -> &HeaderValue {
        let release = self.app.store().next_release();
        if release.is_none() && !older {
            return &self.cache_control;
        }
        self.app.lifetimes().get(older, release.map(|r| r.timestamp()), chrono::Utc::now().timestamp())
    }
}
