//! What every HTTP handler shares.

use std::net::SocketAddr;
use std::sync::{Arc, OnceLock};

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
    /// What the start makes (or made) again from the archive, for `/healthz`.
    pub recovery: std::sync::Arc<crate::rebuild::Recovery>,
    /// The `WIREFEED_ADMIN_BIND` listener's address, once bound: requests
    /// that came through it see `/metrics` and `/healthz` in full without
    /// the token.
    pub admin: Arc<OnceLock<SocketAddr>>,
}

impl AppState {
    /// Whether `req` came through the admin listener.
    pub fn is_admin(&self, req: &actix_web::HttpRequest) -> bool {
        self.admin.get().is_some_and(|addr| req.app_config().local_addr() == *addr)
    }

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

    /// `Cache-Control` for a subscriber's document: for its reader only
    /// (a shared cache must not keep it: its key is in its links), with the
    /// same lifetimes as the public documents'.
    pub fn private_cache_control(&self, older: bool) -> &HeaderValue {
        let release = self.app.store().next_release();
        self.app.private_lifetimes().get(older, release.map(|r| r.timestamp()), chrono::Utc::now().timestamp())
    }
}
