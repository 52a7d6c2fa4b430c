//! Runs the function: cold start once, then the Lambda runtime loop.
//!
//! How the pieces are layered, and why this way:
//!
//! ```text
//! Runtime API ─▶ InvocationService        span per invocation (X-Ray parent), flush at the end
//!                └▶ (lambda_runtime)      posts the response / error to the Runtime API
//!                   └▶ lambda_http Adapter event JSON ⇄ http::Request / Response
//!                      └▶ HttpService     client path + trace headers (crate::service)
//!                         └▶ backend::app the one Router
//! ```
//!
//! `lambda_http::run(router)` serves an axum router as it is, but returns
//! only when the runtime stops: it leaves no place for a per-invocation
//! flush. `lambda_http::runtime(service)` returns the `Runtime` itself, to
//! which layers can be added, but it asks more of the service: `Send +
//! 'static` with `Send + 'static` futures, and a response that is `Send +
//! Sync`. An axum `Router` is `Clone + Send + Sync`, but its response body is
//! an `UnsyncBoxBody`, `Send` and not `Sync`, so the router alone does not
//! compile there. The usual detours are worse: a `Mutex` around the router
//! (serialises nothing useful and hides the problem), buffering the body
//! into a new response in an extra async step (a copy of every body), or a
//! tower layer on the router that flushes when the response future ends
//! (flushes before `lambda_http` has even serialised the response, so every
//! caller waits for the export, and still has the `Sync` problem). Instead:
//! - the router is wrapped only in `MapRequest` / `MapResponse` with plain
//!   `fn` pointers ([`crate::service`]), which keep it `Clone + Send + Sync`;
//!   the response goes into a `SyncWrapper` ([`crate::response`]), `Sync`
//!   by construction and converted by `lambda_http`'s own code, no copy;
//! - the flush is a layer on the *runtime* (`Runtime::layer`), around the
//!   service that posts the response to the Runtime API
//!   ([`crate::invocation`]): it sees `LambdaInvocation`s, knows nothing of
//!   the router, shares the telemetry handle through an `Arc` (`Telemetry` is
//!   `Send + Sync`), and its future, polled on the runtime's own task one
//!   invocation at a time, needs to be neither `Send` nor `Sync`.

use std::sync::Arc;

use backend::telemetry::Telemetry;

use crate::cli::Cli;
use crate::invocation::InvocationLayer;
use crate::service::http_service;
use crate::startup::{self, SERVICE_NAME};

/// Cold start, then serve invocations until the Runtime API goes away.
pub async fn run(cli: Cli) -> anyhow::Result<()> {
    startup::check_environment()?;
    let telemetry = Arc::new(Telemetry::init(SERVICE_NAME)?);
    let state = startup::build_state(cli.config).await?;
    tracing::info!(
        label = %state.identity.label,
        instance = %state.identity.instance,
        version = %state.identity.version,
        base = %state.config.route_prefix(),
        queue = state.queue.is_some(),
        "ready"
    );
    let runtime = lambda_http::runtime(http_service(state))
        .layer(InvocationLayer::new(Arc::clone(&telemetry)));
    let result = runtime.run().await.map_err(anyhow::Error::from_boxed);
    telemetry.flush();
    result
}
