//! The one place that picks status codes: every error answer is JSON
//! `{"error": kind, "detail": what to fix}`; 5xx details are opaque and the
//! cause is logged.

use actix_web::http::{header, StatusCode};
use actix_web::{HttpResponse, ResponseError};
use serde::Serialize;

use crate::import::IngestError;

/// An error answer.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ApiError {
    /// Missing, empty or wrong bearer token.
    #[error("send the import token as `Authorization: Bearer <token>`")]
    Unauthorized,
    /// Body over `WIREFEED_MAX_BODY`.
    #[error("the body is larger than {limit} bytes (WIREFEED_MAX_BODY)")]
    TooLarge { limit: usize },
    /// Not a text body.
    #[error("the body must be text (Content-Type: text/plain; charset=...) or NITF / NewsML-G2 XML (application/xml, text/xml, application/nitf+xml, application/vnd.iptc.g2.newsitem+xml), not {0}")]
    UnsupportedMedia(String),
    /// A bad request, with a kind and a detail.
    #[error("{detail}")]
    BadRequest { kind: &'static str, detail: String },
    /// The client took too long to send the body.
    #[error("the body took too long to arrive")]
    Timeout,
    /// A method the resource does not take.
    #[error("this resource does not take {0}")]
    MethodNotAllowed(String),
    /// No such thing.
    #[error("{0}")]
    NotFound(String),
    /// The request conflicts with what is stored (a killed story sent again).
    #[error("{0}")]
    Conflict(String),
    /// The thing was there and was killed.
    #[error("{0}")]
    Gone(String),
    /// The disk is (nearly) full: writes are refused, reads go on.
    #[error("{0}")]
    InsufficientStorage(String),
    /// A limit of the store (e.g. WIREFEED_MAX_SECTIONS) would be passed.
    #[error("{0}")]
    Limit(String),
    /// Well-formed JSON with a value that is not allowed.
    #[error("{detail}")]
    Invalid { kind: &'static str, detail: String },
    /// The thing to create exists already (a subscriber's name).
    #[error("{0}")]
    Exists(String),
    /// The store cannot answer now (it is being opened again); try again.
    #[error("the store is unavailable for a moment; try again shortly")]
    Unavailable(String),
    /// Something broke on our side.
    #[error("internal error")]
    Internal(String),
}

#[derive(Serialize)]
struct Body<'a> {
    error: &'a str,
    detail: String,
}

impl ApiError {
    fn kind(&self) -> &'static str {
        match self {
            ApiError::Unauthorized => "unauthorized",
            ApiError::TooLarge { .. } => "too_large",
            ApiError::UnsupportedMedia(_) => "unsupported_media_type",
            ApiError::BadRequest { kind, .. } => kind,
            ApiError::Timeout => "timeout",
            ApiError::MethodNotAllowed(_) => "method_not_allowed",
            ApiError::NotFound(_) => "not_found",
            ApiError::Conflict(_) => "killed",
            ApiError::Gone(_) => "gone",
            ApiError::InsufficientStorage(_) => "insufficient_storage",
            ApiError::Limit(_) => "limit_reached",
            ApiError::Invalid { kind, .. } => kind,
            ApiError::Exists(_) => "exists",
            ApiError::Unavailable(_) => "unavailable",
            ApiError::Internal(_) => "internal",
        }
    }

    pub fn bad(kind: &'static str, detail: impl Into<String>) -> ApiError {
        ApiError::BadRequest { kind, detail: detail.into() }
    }

    pub fn internal(cause: impl std::fmt::Display) -> ApiError {
        ApiError::Internal(cause.to_string())
    }
}

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        match self {
            ApiError::Unauthorized => StatusCode::UNAUTHORIZED,
            ApiError::TooLarge { .. } => StatusCode::PAYLOAD_TOO_LARGE,
            ApiError::UnsupportedMedia(_) => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            ApiError::BadRequest { .. } => StatusCode::BAD_REQUEST,
            ApiError::Timeout => StatusCode::REQUEST_TIMEOUT,
            ApiError::MethodNotAllowed(_) => StatusCode::METHOD_NOT_ALLOWED,
            ApiError::NotFound(_) => StatusCode::NOT_FOUND,
            ApiError::Conflict(_) => StatusCode::CONFLICT,
            ApiError::Gone(_) => StatusCode::GONE,
            ApiError::InsufficientStorage(_) => StatusCode::INSUFFICIENT_STORAGE,
            ApiError::Limit(_) | ApiError::Invalid { .. } => StatusCode::UNPROCESSABLE_ENTITY,
            ApiError::Exists(_) => StatusCode::CONFLICT,
            ApiError::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
            ApiError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn error_response(&self) -> HttpResponse {
        match self {
            ApiError::Internal(cause) => tracing::error!(cause = %cause, "internal error"),
            ApiError::Unavailable(cause) => tracing::warn!(cause = %cause, "store unavailable"),
            ApiError::InsufficientStorage(detail) => tracing::warn!(detail = %detail, "import refused: disk space"),
            _ => {}
        }
        let mut res = HttpResponse::build(self.status_code());
        if matches!(self, ApiError::Unauthorized) {
            res.insert_header((header::WWW_AUTHENTICATE, "Bearer realm=\"wirefeed\""));
        }
        if matches!(self, ApiError::Unavailable(_)) {
            res.insert_header((header::RETRY_AFTER, "2"));
        }
        res.insert_header((header::CACHE_CONTROL, "no-store"));
        res.json(Body { error: self.kind(), detail: self.to_string() })
    }
}

impl From<IngestError> for ApiError {
    fn from(e: IngestError) -> ApiError {
        match e {
            IngestError::Parse(crate::wire::ParseError::TooLarge { limit, .. }) => ApiError::TooLarge { limit },
            IngestError::Parse(p) => ApiError::BadRequest { kind: p.kind(), detail: p.to_string() },
            IngestError::Section(s) => ApiError::bad("bad_section", s.to_string()),
            IngestError::Store(s) => s.into(),
            e @ IngestError::Killed(_) => ApiError::Conflict(e.to_string()),
        }
    }
}

impl From<crate::store::StoreError> for ApiError {
    fn from(e: crate::store::StoreError) -> ApiError {
        use crate::store::StoreError;
        match e {
            StoreError::LowSpace { .. } | StoreError::NoSpace(_) => ApiError::InsufficientStorage(e.to_string()),
            StoreError::TooManySections { .. } => ApiError::Limit(e.to_string()),
            StoreError::Unavailable(_) | StoreError::FlushTimeout(_) => ApiError::Unavailable(e.to_string()),
            e => ApiError::internal(e),
        }
    }
}

impl From<actix_web::error::BlockingError> for ApiError {
    fn from(e: actix_web::error::BlockingError) -> ApiError {
        ApiError::internal(e)
    }
}
