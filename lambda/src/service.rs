//! The HTTP service `lambda_http` runs for every event: [`backend::app`], the
//! one router, behind two adjustments to the request made before routing.
//! Tests drive this same service through `lambda_http`'s adapter, so a
//! fixture takes the path a real event takes.

use backend::AppState;
use lambda_http::Request;
use tower::util::{MapRequest, MapResponse};

use crate::client_path;
use crate::response::SyncResponse;

/// The router behind [`prepare`], its responses wrapped in [`SyncResponse`].
/// `Clone + Send + Sync`, as the router is: plain `fn` pointers around it.
pub type HttpService = MapResponse<
    MapRequest<axum::Router, fn(Request) -> Request>,
    fn(axum::response::Response) -> SyncResponse,
>;

/// Wraps the backend's router for `lambda_http`.
pub fn http_service(state: AppState) -> HttpService {
    let prepared = MapRequest::new(backend::app(state), prepare as fn(Request) -> Request);
    MapResponse::new(
        prepared,
        SyncResponse::new as fn(axum::response::Response) -> SyncResponse,
    )
}

/// What an event-made request needs before the router sees it:
/// - its path is the one the client requested, stage included
///   ([`client_path`]);
/// - its trace headers name the invocation span (which is the child of the
///   invocation's X-Ray trace id, see [`crate::invocation`]), so the
///   router's request span is a child of the invocation, whatever
///   `traceparent` a client sent. `lambda_http` has already put the
///   invocation's `x-amzn-trace-id` in; this replaces it with the span's own
///   id as parent. Without an OpenTelemetry exporter nothing changes.
pub fn prepare(mut request: Request) -> Request {
    client_path::restore(&mut request);
    backend::telemetry::inject_current_context(request.headers_mut());
    request
}
