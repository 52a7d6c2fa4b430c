//! Faults on demand, for checks that must catch a bad canary:
//! `GET {base}/status/{code}`, `GET {base}/delay/{ms}`, and `FAULT_RATE`,
//! a share of responses replaced by 500s (see `middleware::inject_faults`).

use std::time::Duration;

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use serde_json::{Value, json};

use crate::error::ApiError;
use crate::state::AppState;

/// Parses a path segment as a whole number in `range`, or says what is wrong.
pub fn parse_in_range(
    name: &str,
    raw: &str,
    range: std::ops::RangeInclusive<u64>,
) -> Result<u64, ApiError> {
    let v: u64 = raw
        .parse()
        .map_err(|_| ApiError::BadRequest(format!("{name} must be a whole number, got `{raw}`")))?;
    if range.contains(&v) {
        Ok(v)
    } else {
        Err(ApiError::BadRequest(format!(
            "{name} must be between {} and {}, got {v}",
            range.start(),
            range.end()
        )))
    }
}

/// Answers with the requested status (200–599) and a JSON body.
pub async fn status(
    State(state): State<AppState>,
    Path(code): Path<String>,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let code = parse_in_range("status code", &code, 200..=599)?;
    let status = u16::try_from(code)
        .ok()
        .and_then(|c| StatusCode::from_u16(c).ok())
        .ok_or_else(|| ApiError::BadRequest(format!("{code} is not a status code")))?;
    Ok((
        status,
        Json(json!({ "status": code, "backend": state.identity.label })),
    ))
}

/// Answers after `ms` milliseconds (at most `MAX_DELAY_MS`), without using CPU.
pub async fn delay(
    State(state): State<AppState>,
    Path(ms): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let ms = parse_in_range("delay in ms", &ms, 0..=state.config.max_delay_ms)?;
    tokio::select! {
        () = tokio::time::sleep(Duration::from_millis(ms)) => {}
        () = state.shutdown.cancelled() => {
            return Err(ApiError::Unavailable(
                "the server is shutting down; the delay was cut short".to_owned(),
            ));
        }
    }
    Ok(Json(
        json!({ "delayed_ms": ms, "backend": state.identity.label }),
    ))
}
