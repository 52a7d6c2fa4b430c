//! The ECS container: serve the router over TCP and drain on SIGTERM.
//!
//! Draining: on SIGTERM (or Ctrl-C) readiness turns 503 at once, while every
//! request keeps being served for the drain time, long enough for the load
//! balancer's health check to take this instance out of rotation. Then the
//! listener closes, in-flight requests finish, and the process exits 0.

use std::net::SocketAddr;

use tokio::net::TcpListener;
use weighbridge_signal::Signals;

use crate::config::{Config, ServeConfig};
use crate::identity::Identity;
use crate::router::app;
use crate::sqs::Queue;
use crate::state::AppState;

/// Builds the shared state: identity, and the SQS client when `QUEUE_URL` is set.
pub async fn build_state(config: Config, default_label: &str) -> AppState {
    let identity = Identity::resolve(&config, default_label).await;
    let queue = match config.queue_url() {
        Some(url) => Some(Queue::connect(url.to_owned()).await),
        None => None,
    };
    AppState::new(config, identity, queue)
}

/// Serves until SIGTERM/SIGINT, then drains and returns.
pub async fn serve(config: Config, serve: ServeConfig) -> anyhow::Result<()> {
    // Before anything can be asked of it: a SIGTERM from now on drains.
    let signals = Signals::register()?;
    let state = build_state(config, "ecs").await;
    let listener = TcpListener::bind(SocketAddr::new(serve.bind, serve.port)).await?;
    let addr = listener.local_addr()?;
    tracing::info!(
        %addr,
        label = %state.identity.label,
        instance = %state.identity.instance,
        version = %state.identity.version,
        base = %state.config.route_prefix(),
        "listening"
    );
    let drain_state = state.clone();
    let drain = serve.drain;
    let shutdown = async move {
        let signal = signals.recv().await;
        drain_state.start_draining();
        tracing::info!(
            signal,
            drain_seconds = drain.as_secs_f64(),
            "draining: readiness is 503, still serving"
        );
        tokio::time::sleep(drain).await;
        tracing::info!("drain over: closing the listener, finishing in-flight requests");
    };
    axum::serve(listener, app(state.clone()))
        .with_graceful_shutdown(shutdown)
        .await?;
    state.stress.stop();
    tracing::info!("stopped");
    Ok(())
}
