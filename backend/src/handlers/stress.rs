//! `GET {base}/stress-cpu/{percent}/{seconds}` (the process's CPU held at a
//! share in the background) and `GET {base}/work/{ms}` (CPU burnt inside
//! the request).

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use axum::Json;
use axum::extract::{Path, State};
use serde_json::{Value, json};

use super::faults::parse_in_range;
use crate::error::ApiError;
use crate::state::AppState;
use crate::stress::burn_cpu;

/// Stops a `/work` burn when the request's future is dropped (the client
/// went away).
#[derive(Debug, Default)]
struct StopOnDrop(Arc<AtomicBool>);

impl Drop for StopOnDrop {
    fn drop(&mut self) {
        self.0.store(true, Ordering::Relaxed);
    }
}

/// `GET {base}/stress-cpu/{percent}/{seconds}`: answers at once, burns in
/// the background.
pub async fn stress_cpu(
    State(state): State<AppState>,
    Path((percent, seconds)): Path<(String, String)>,
) -> Result<Json<Value>, ApiError> {
    let percent = parse_in_range("percent", &percent, 1..=100)?;
    let seconds = parse_in_range("seconds", &seconds, 1..=state.config.max_stress_seconds)?;
    let percent = u8::try_from(percent).map_err(|e| ApiError::BadRequest(e.to_string()))?;
    let plan = state.stress.start(percent, seconds);
    Ok(Json(json!({
        "message": format!("Simulating {percent}% CPU usage for {seconds} seconds"),
        "host": state.identity.instance,
        "backend": state.identity.label,
        "plan": plan,
    })))
}

/// `GET {base}/work/{ms}`: burns `ms` of CPU time inside the request, on a
/// blocking thread so the async workers keep serving. At most
/// `MAX_WORK_CONCURRENCY` run at once (a JSON 503 past that); a burn stops
/// when the client goes away or the drain is over.
pub async fn work(
    State(state): State<AppState>,
    Path(ms): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let ms = parse_in_range("work in ms", &ms, 0..=state.config.max_work_ms)?;
    let Ok(permit) = Arc::clone(&state.work_slots).try_acquire_owned() else {
        return Err(ApiError::Busy(format!(
            "{} /work requests are already running (MAX_WORK_CONCURRENCY); try again later",
            state.config.max_work_concurrency
        )));
    };
    let guard = StopOnDrop::default();
    let stop = Arc::clone(&guard.0);
    let shutdown = state.shutdown.clone();
    let finished = tokio::task::spawn_blocking(move || {
        // The slot is free only once the thread really stopped burning.
        let _permit = permit;
        burn_cpu(Duration::from_millis(ms), || {
            stop.load(Ordering::Relaxed) || shutdown.is_cancelled()
        })
    })
    .await
    .map_err(|e| ApiError::Internal(format!("work thread failed: {e}")))?;
    drop(guard);
    if !finished {
        return Err(ApiError::Unavailable(
            "the server is shutting down; the work was stopped".to_owned(),
        ));
    }
    Ok(Json(
        json!({ "worked_ms": ms, "backend": state.identity.label }),
    ))
}
