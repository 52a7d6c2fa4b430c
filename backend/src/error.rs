//! The one error type handlers return. Every variant becomes a JSON body
//! `{"error": <kind>, "message": <what was wrong>, "backend": <label>}`; the
//! label is filled in by the identity middleware, which sees every response.

use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::json;

#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// The request was malformed (a path parameter out of range, bad JSON...).
    #[error("{0}")]
    BadRequest(String),
    /// A stress route called without the right bearer token.
    #[error("this route requires `Authorization: Bearer <STRESS_TOKEN>`")]
    Forbidden,
    /// No such route (or a route that is switched off).
    #[error("no route for {0}")]
    NotFound(String),
    /// The body is larger than the route accepts.
    #[error("body is {size} bytes or more; the limit is {limit} bytes")]
    PayloadTooLarge { size: usize, limit: usize },
    /// The request body did not arrive in time (`BODY_TIMEOUT`).
    #[error("{0}")]
    RequestTimeout(String),
    /// The request target is longer than this server accepts.
    #[error("{0}")]
    UriTooLong(String),
    /// The request headers are larger than this server accepts.
    #[error("{0}")]
    HeadersTooLarge(String),
    /// Too many requests of this kind are running (`MAX_WORK_CONCURRENCY`).
    #[error("{0}")]
    Busy(String),
    /// A dependency the route needs is not configured.
    #[error("{0}")]
    Unavailable(String),
    /// A dependency answered with an error or could not be reached.
    #[error("{0}")]
    BadGateway(String),
    /// Anything else that went wrong on our side.
    #[error("{0}")]
    Internal(String),
}

impl ApiError {
    pub fn status(&self) -> StatusCode {
        match self {
            Self::BadRequest(_) => StatusCode::BAD_REQUEST,
            Self::Forbidden => StatusCode::FORBIDDEN,
            Self::NotFound(_) => StatusCode::NOT_FOUND,
            Self::PayloadTooLarge { .. } => StatusCode::PAYLOAD_TOO_LARGE,
            Self::RequestTimeout(_) => StatusCode::REQUEST_TIMEOUT,
            Self::UriTooLong(_) => StatusCode::URI_TOO_LONG,
            Self::HeadersTooLarge(_) => StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE,
            Self::Busy(_) => StatusCode::SERVICE_UNAVAILABLE,
            Self::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
            Self::BadGateway(_) => StatusCode::BAD_GATEWAY,
            Self::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    /// A short machine-readable kind, stable across versions.
    pub fn kind(&self) -> &'static str {
        match self {
            Self::BadRequest(_) => "bad_request",
            Self::Forbidden => "forbidden",
            Self::NotFound(_) => "not_found",
            Self::PayloadTooLarge { .. } => "payload_too_large",
            Self::RequestTimeout(_) => "request_timeout",
            Self::UriTooLong(_) => "uri_too_long",
            Self::HeadersTooLarge(_) => "request_header_fields_too_large",
            Self::Busy(_) => "busy",
            Self::Unavailable(_) => "unavailable",
            Self::BadGateway(_) => "bad_gateway",
            Self::Internal(_) => "internal",
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        if self.status().is_server_error() {
            tracing::warn!(error = %self, kind = self.kind(), "request failed");
        }
        let body = json!({ "error": self.kind(), "message": self.to_string() });
        (self.status(), Json(body)).into_response()
    }
}
