//! `POST {base}/send-to-sqs`: a JSON object from the caller, sent to the
//! queue unchanged with the request's trace context.

use axum::Json;
use axum::body::Body;
use axum::extract::State;
use axum::http::HeaderMap;
use serde_json::{Value, json};

use super::host::now_rfc3339;
use crate::error::ApiError;
use crate::sqs::{SQS_MAX_BYTES, trace_header};
use crate::state::AppState;

pub async fn send_to_sqs(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Body,
) -> Result<Json<Value>, ApiError> {
    let timeout = state.config.body_timeout;
    let bytes = tokio::time::timeout(timeout, axum::body::to_bytes(body, SQS_MAX_BYTES))
        .await
        .map_err(|_| {
            ApiError::RequestTimeout(format!(
                "the request body did not arrive within {} (BODY_TIMEOUT)",
                humantime::format_duration(timeout)
            ))
        })?
        .map_err(|e| {
            if std::error::Error::source(&e)
                .is_some_and(|s| s.is::<http_body_util::LengthLimitError>())
            {
                ApiError::PayloadTooLarge {
                    size: SQS_MAX_BYTES + 1,
                    limit: SQS_MAX_BYTES,
                }
            } else {
                ApiError::BadRequest(format!("could not read the body: {e}"))
            }
        })?;
    let value: Value = serde_json::from_slice(&bytes)
        .map_err(|e| ApiError::BadRequest(format!("body is not valid JSON: {e}")))?;
    if !value.is_object() {
        return Err(ApiError::BadRequest(format!(
            "body must be a JSON object, got {}",
            json_type(&value)
        )));
    }
    let queue = state.queue.as_ref().ok_or_else(|| {
        ApiError::Unavailable("no queue configured: set QUEUE_URL on this instance".to_owned())
    })?;
    // Valid JSON is valid UTF-8; send the caller's text unchanged.
    let text = std::str::from_utf8(&bytes).map_err(|e| ApiError::BadRequest(e.to_string()))?;
    let sent = queue.send(text, Some(&trace_header(&headers))).await?;
    tracing::info!(message_id = %sent.message_id, bytes = text.len(), "message sent to SQS");
    Ok(Json(json!({
        "status": "success",
        "messageId": sent.message_id,
        "md5OfBody": sent.md5_of_body,
        "timestamp": now_rfc3339(),
        "backend": state.identity.label,
    })))
}

fn json_type(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}
