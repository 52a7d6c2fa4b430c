//! `GET {base}/host`: who served this request.

use axum::Json;
use axum::extract::State;
use serde::Serialize;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use crate::identity::Identity;
use crate::state::AppState;

/// The current time as RFC 3339 (UTC).
pub fn now_rfc3339() -> String {
    OffsetDateTime::now_utc()
        .format(&Rfc3339)
        .unwrap_or_else(|_| String::from("1970-01-01T00:00:00Z"))
}

/// The body of `/host`: a message with the time, then the identity.
#[derive(Debug, Serialize)]
pub struct HostBody {
    message: String,
    #[serde(flatten)]
    identity: Identity,
}

pub async fn host(State(state): State<AppState>) -> Json<HostBody> {
    Json(HostBody {
        message: format!("Request handled by backend at {}", now_rfc3339()),
        identity: state.identity.clone(),
    })
}
