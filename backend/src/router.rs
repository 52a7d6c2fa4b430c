//! The one `Router` every target serves: the ECS binary over TCP, the Lambda
//! through `lambda_http`, tests through `tower::ServiceExt::oneshot`.

use axum::Router;
use axum::middleware::{from_fn_with_state, map_response_with_state};
use axum::routing::{get, post};
use tower_http::trace::{DefaultOnFailure, TraceLayer};
use tracing::Level;

use crate::handlers::{faults, health, host, samples, send, stress};
use crate::state::AppState;
use crate::{middleware, telemetry};

/// Builds the application. Routes other than the health checks live under
/// the configured base path (`/dev/host`, or `/host` when it is empty).
pub fn app(state: AppState) -> Router {
    let stress_routes = Router::new()
        .route("/stress-cpu/{percent}/{seconds}", get(stress::stress_cpu))
        .route("/work/{ms}", get(stress::work))
        .route_layer(from_fn_with_state(state.clone(), middleware::guard_stress));

    let api = Router::new()
        .route("/host", get(host::host))
        .route("/send-to-sqs", post(send::send_to_sqs))
        .route("/small-woodland-creature", get(samples::creature))
        .route("/ice-cream-flavor", get(samples::flavor))
        .route("/status/{code}", get(faults::status))
        .route("/delay/{ms}", get(faults::delay))
        .merge(stress_routes)
        .route_layer(from_fn_with_state(state.clone(), middleware::inject_faults));

    let prefix = state.config.route_prefix();
    let api = if prefix.is_empty() {
        api
    } else {
        Router::new().nest(&prefix, api)
    };

    Router::new()
        .route("/health", get(health::ready))
        .route("/ready", get(health::ready))
        .route("/live", get(health::live))
        .merge(api)
        .fallback(middleware::not_found)
        .layer(map_response_with_state(state.clone(), middleware::identity))
        .layer(
            TraceLayer::new_for_http()
                .make_span_with(telemetry::request_span)
                // Handlers log their own failures with the reason; a 5xx we
                // answer on purpose (/status/500, FAULT_RATE) is not an error.
                .on_failure(DefaultOnFailure::new().level(Level::DEBUG)),
        )
        .with_state(state)
}
