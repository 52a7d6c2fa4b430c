//! Health routes, outside the base path (load balancers probe them there).
//!
//! - `/health` and `/ready`: readiness. 200 normally, **503 while draining**
//!   after SIGTERM, so an ALB or HAProxy health check takes this instance out
//!   of rotation while it still serves what reaches it.
//! - `/live`: liveness, 200 as long as the process answers (for a container
//!   `HEALTHCHECK`, which should not kill a draining task).

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde_json::{Value, json};

use crate::state::AppState;

pub async fn ready(State(state): State<AppState>) -> (StatusCode, Json<Value>) {
    if state.is_draining() {
        (
            StatusCode::SERVICE_UNAVAILABLE,
            Json(json!({ "status": "draining" })),
        )
    } else {
        (StatusCode::OK, Json(json!({ "status": "ok" })))
    }
}

pub async fn live() -> Json<Value> {
    Json(json!({ "status": "alive" }))
}
