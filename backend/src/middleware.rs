//! Layers every response passes through.

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use rand::Rng;
use serde_json::{Value, json};
use subtle::ConstantTimeEq;

use crate::config::StressMode;
use crate::error::ApiError;
use crate::state::AppState;

/// Error bodies are small; anything larger is passed through untouched.
const MAX_ERROR_BODY: usize = 64 * 1024;

/// Adds `x-served-by`, `x-backend-host`, `x-backend-version` to every
/// response, and makes every error JSON with the `backend` label in it,
/// including the ones axum itself produces (405, path rejections...).
pub async fn identity(State(state): State<AppState>, response: Response) -> Response {
    let mut response = if response.status().is_client_error() || response.status().is_server_error()
    {
        json_error_with_label(response, &state.identity.label).await
    } else {
        response
    };
    let h = response.headers_mut();
    h.insert("x-served-by", state.headers.served_by.clone());
    h.insert("x-backend-host", state.headers.host.clone());
    h.insert("x-backend-version", state.headers.version.clone());
    response
}

async fn json_error_with_label(response: Response, label: &str) -> Response {
    let (mut parts, body) = response.into_parts();
    let Ok(bytes) = axum::body::to_bytes(body, MAX_ERROR_BODY).await else {
        return (parts.status, "error body too large").into_response();
    };
    let mut value = match serde_json::from_slice::<Value>(&bytes) {
        Ok(Value::Object(map)) => Value::Object(map),
        _ => {
            let reason = parts.status.canonical_reason().unwrap_or("error");
            let text = String::from_utf8_lossy(&bytes).trim().to_owned();
            json!({
                "error": reason.to_lowercase().replace(' ', "_"),
                "message": if text.is_empty() { reason.to_owned() } else { text },
            })
        }
    };
    if let Some(obj) = value.as_object_mut() {
        obj.entry("backend").or_insert_with(|| json!(label));
    }
    let body = serde_json::to_vec(&value).unwrap_or_default();
    parts.headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    parts.headers.remove(header::CONTENT_LENGTH);
    Response::from_parts(parts, Body::from(body))
}

/// Replaces a share (`FAULT_RATE`) of responses under the base path with a
/// 500, before the handler runs (a faulty canary does not do the work either).
pub async fn inject_faults(
    State(state): State<AppState>,
    request: Request,
    next: Next,
) -> Response {
    let rate = state.config.fault_rate;
    if rate > 0.0 && rand::rng().random_bool(rate) {
        let body = json!({ "error": "injected_fault", "message": format!("FAULT_RATE={rate} chose this request to fail") });
        return (StatusCode::INTERNAL_SERVER_ERROR, axum::Json(body)).into_response();
    }
    next.run(request).await
}

/// Guards the routes that can take the instance down (`STRESS_MODE`).
pub async fn guard_stress(State(state): State<AppState>, request: Request, next: Next) -> Response {
    match state.config.effective_stress_mode() {
        StressMode::On | StressMode::Auto => next.run(request).await,
        StressMode::Off => ApiError::NotFound(format!(
            "{} (stress routes are off: STRESS_MODE=off)",
            request.uri().path()
        ))
        .into_response(),
        StressMode::Token => {
            let expected = state.config.stress_token.as_deref().unwrap_or_default();
            let given = request
                .headers()
                .get(header::AUTHORIZATION)
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.strip_prefix("Bearer "));
            if !expected.is_empty()
                && given.is_some_and(|g| bool::from(g.as_bytes().ct_eq(expected.as_bytes())))
            {
                next.run(request).await
            } else {
                ApiError::Forbidden.into_response()
            }
        }
    }
}

/// Longest request target (path and query) accepted, in bytes. Hyper's own
/// limit (65534 bytes, answered with an empty 414) lies above it.
pub const MAX_URI_BYTES: usize = 8 * 1024;
/// Most request headers accepted. Hyper is configured to allow more
/// (`server::HYPER_MAX_HEADERS`) so that this answer, not hyper's, is seen.
pub const MAX_HEADERS: usize = 64;
/// Largest total size of the request headers (names, values, 4 bytes of
/// framing each), in bytes; below hyper's read buffer.
pub const MAX_HEADER_BYTES: usize = 64 * 1024;

/// Refuses over-long request targets (414) and too many or too large
/// headers (431). The server calls it before the router, for every request
/// (a plain function, not a router layer: it stays off the hot path's cost).
pub fn check_request_head(uri: &http::Uri, headers: &http::HeaderMap) -> Result<(), ApiError> {
    let uri_len = uri.path_and_query().map_or(0, |pq| pq.as_str().len());
    if uri_len > MAX_URI_BYTES {
        return Err(ApiError::UriTooLong(format!(
            "the request target is {uri_len} bytes; the limit is {MAX_URI_BYTES} bytes"
        )));
    }
    if headers.len() > MAX_HEADERS {
        return Err(ApiError::HeadersTooLarge(format!(
            "{} request headers; the limit is {MAX_HEADERS}",
            headers.len()
        )));
    }
    let size: usize = headers
        .iter()
        .map(|(k, v)| k.as_str().len() + v.len() + 4)
        .sum();
    if size > MAX_HEADER_BYTES {
        return Err(ApiError::HeadersTooLarge(format!(
            "the request headers are {size} bytes; the limit is {MAX_HEADER_BYTES} bytes"
        )));
    }
    Ok(())
}

/// An error answered outside the router, made the way the router's
/// identity layer makes it: JSON `{error, message, backend}` and the
/// identity headers.
pub fn error_with_identity(state: &AppState, error: &ApiError) -> Response {
    let body = json!({
        "error": error.kind(),
        "message": error.to_string(),
        "backend": state.identity.label,
    });
    let mut response = (error.status(), axum::Json(body)).into_response();
    let h = response.headers_mut();
    h.insert("x-served-by", state.headers.served_by.clone());
    h.insert("x-backend-host", state.headers.host.clone());
    h.insert("x-backend-version", state.headers.version.clone());
    response
}

/// The fallback: 404 JSON naming the path.
pub async fn not_found(request: Request) -> ApiError {
    ApiError::NotFound(request.uri().path().to_owned())
}
