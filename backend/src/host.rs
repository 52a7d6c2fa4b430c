//! `GET {base}/host`: who served this request.

use axum::Json;
use axum::extract::State;
use serde_json::{Value, json};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use crate::state::AppState;

/// The current time as RFC 3339 (UTC).
pub fn now_rfc3339() -> String {
    OffsetDateTime::now_utc()
        .format(&Rfc3339)
        .unwrap_or_else(|_| String::from("1970-01-01T00:00:00Z"))
}

pub async fn host(State(state): State<AppState>) -> Json<Value> {
    let id = &state.identity;
    let mut body = json!({
        "message": format!("Request handled by backend at {}", now_rfc3339()),
        "hostname": id.hostname,
        "imageUri": id.image_uri,
        "backend": id.label,
        "instance": id.instance,
        "version": id.version,
    });
    if let (Some(ecs), Some(obj)) = (&id.ecs, body.as_object_mut()) {
        obj.insert("taskArn".into(), json!(ecs.task_arn));
        obj.insert("cluster".into(), json!(ecs.cluster));
        obj.insert("availabilityZone".into(), json!(ecs.availability_zone));
    }
    if let (Some(l), Some(obj)) = (&id.lambda, body.as_object_mut()) {
        obj.insert("functionName".into(), json!(l.function_name));
        obj.insert("functionVersion".into(), json!(l.function_version));
        obj.insert("memoryMb".into(), json!(l.memory_mb));
        obj.insert("logStream".into(), json!(l.log_stream));
    }
    Json(body)
}
