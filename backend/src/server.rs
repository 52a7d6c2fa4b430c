//! The ECS container: serve the router over TCP and drain on SIGTERM.
//!
//! Draining: on SIGTERM (or Ctrl-C) readiness turns 503 at once, while every
//! request keeps being served for the drain time, long enough for the load
//! balancer's health check to take this instance out of rotation. Then the
//! listener closes and in-flight requests get `SHUTDOWN_GRACE` to finish;
//! whatever is still open after that is cut, and the process exits 0.
//!
//! Each connection is served by hyper with a small watchdog in the same task:
//! a client that starts a request must send its headers within
//! `HEADER_TIMEOUT`, and a keep-alive connection with no request in flight is
//! closed after `IDLE_TIMEOUT`. The watchdog reads two atomics per socket
//! read (no lock, no timer per read); its timer is set on request
//! boundaries. Request bodies are bounded by `BODY_TIMEOUT` where they are
//! read; at most `MAX_CONNECTIONS` connections are served at once.

use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use axum::Router;
use hyper::body::Incoming;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto::Builder;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{Notify, Semaphore};
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;
use tower::Service;
use weighbridge_signal::Signals;

use crate::config::{Config, ServeConfig, StressMode};
use crate::identity::Identity;
use crate::router::app;
use crate::sqs::Queue;
use crate::state::AppState;

/// Headers hyper itself accepts (its default): above the server's own limit
/// (`middleware::MAX_HEADERS`), so a client sees the JSON 431. Raising it
/// costs on every request (hyper then allocates that many header slots per
/// parse), so it stays at the default.
pub const HYPER_MAX_HEADERS: usize = 100;

/// Builds the shared state: identity, and the SQS client when `QUEUE_URL` is set.
pub async fn build_state(config: Config, default_label: &str) -> AppState {
    let identity = Identity::resolve(&config, default_label).await;
    let queue = match config.queue_url() {
        Some(url) => Some(Queue::connect(url.to_owned()).await),
        None => None,
    };
    AppState::new(config, identity, queue)
}

/// Logs a loud warning when the stress routes are open to anyone.
pub fn warn_if_stress_open(config: &Config) {
    if config.effective_stress_mode() == StressMode::On {
        tracing::warn!(
            "STRESS ROUTES ARE OPEN: anyone can call /stress-cpu and /work; \
             set STRESS_TOKEN (or STRESS_MODE=token|off) to close them"
        );
    }
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
    warn_if_stress_open(&state.config);
    let drain_over = CancellationToken::new();
    let drain_state = state.clone();
    let drain = serve.drain;
    let on_drain_over = drain_over.clone();
    tokio::spawn(async move {
        let signal = signals.recv().await;
        drain_state.start_draining();
        tracing::info!(
            signal,
            drain_seconds = drain.as_secs_f64(),
            "draining: readiness is 503, still serving"
        );
        tokio::time::sleep(drain).await;
        tracing::info!("drain over: closing the listener, finishing in-flight requests");
        on_drain_over.cancel();
    });

    let mut builder = Builder::new(TokioExecutor::new());
    // The watchdog below times headers and idle connections: hyper's own
    // header timer also runs while a keep-alive connection is idle, which
    // would close it long before a load balancer's idle timeout.
    builder
        .http1()
        .timer(TokioTimer::new())
        .header_read_timeout(None);
    builder.http2().timer(TokioTimer::new());
    let builder = Arc::new(builder);
    let limits = Limits {
        header: serve.header_timeout,
        idle: serve.idle_timeout,
    };
    let app = app(state.clone());
    let slots = Arc::new(Semaphore::new(serve.max_connections));
    let mut connections = JoinSet::new();
    loop {
        let permit = tokio::select! {
            () = drain_over.cancelled() => break,
            permit = Arc::clone(&slots).acquire_owned() => permit?,
        };
        let (tcp, _peer) = tokio::select! {
            () = drain_over.cancelled() => break,
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(e) => {
                    // EMFILE and friends: wait a little rather than spin.
                    tracing::warn!(error = %e, "accept failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
        };
        while connections.try_join_next().is_some() {}
        let _ = tcp.set_nodelay(true);
        let builder = Arc::clone(&builder);
        let app = app.clone();
        let state_for_conn = state.clone();
        let stop = drain_over.clone();
        connections.spawn(async move {
            serve_connection(&builder, tcp, app, state_for_conn, stop, limits).await;
            drop(permit);
        });
    }
    drop(listener);

    let open = connections.len();
    let finished = tokio::time::timeout(serve.shutdown_grace, async {
        while connections.join_next().await.is_some() {}
    })
    .await;
    if finished.is_err() {
        tracing::warn!(
            open = connections.len(),
            of = open,
            grace_seconds = serve.shutdown_grace.as_secs_f64(),
            "grace over: cutting the connections still open"
        );
        connections.abort_all();
        while connections.join_next().await.is_some() {}
    }
    state.shutdown.cancel();
    state.stress.stop();
    tracing::info!("stopped");
    Ok(())
}

/// The per-connection deadlines.
#[derive(Debug, Clone, Copy)]
struct Limits {
    header: Duration,
    idle: Duration,
}

/// What the watchdog knows about a connection, in milliseconds since it was
/// accepted (`0` in `head_started_ms` means "no request being read").
#[derive(Debug)]
struct Activity {
    epoch: Instant,
    in_flight: AtomicUsize,
    head_started_ms: AtomicU64,
    idle_since_ms: AtomicU64,
    /// Woken when a request starts arriving (once per request, not per read).
    head_started: Notify,
}

impl Activity {
    fn new() -> Self {
        Self {
            epoch: Instant::now(),
            in_flight: AtomicUsize::new(0),
            head_started_ms: AtomicU64::new(0),
            idle_since_ms: AtomicU64::new(0),
            head_started: Notify::new(),
        }
    }

    fn now_ms(&self) -> u64 {
        // At least 1, so that `0` keeps meaning "not started".
        u64::try_from(self.epoch.elapsed().as_millis())
            .unwrap_or(u64::MAX)
            .max(1)
    }

    /// Bytes arrived: when no request is in flight, they start one.
    fn on_read(&self) {
        if self.in_flight.load(Ordering::Relaxed) == 0
            && self.head_started_ms.load(Ordering::Relaxed) == 0
        {
            self.head_started_ms.store(self.now_ms(), Ordering::Relaxed);
            self.head_started.notify_one();
        }
    }

    fn request_started(&self) {
        self.in_flight.fetch_add(1, Ordering::Relaxed);
        self.head_started_ms.store(0, Ordering::Relaxed);
    }

    fn request_done(&self) {
        self.idle_since_ms.store(self.now_ms(), Ordering::Relaxed);
        self.in_flight.fetch_sub(1, Ordering::Relaxed);
    }

    /// Resolves when the connection must be closed, with the reason.
    async fn expired(&self, limits: Limits) -> &'static str {
        let header_ms = u64::try_from(limits.header.as_millis()).unwrap_or(u64::MAX);
        let idle_ms = u64::try_from(limits.idle.as_millis()).unwrap_or(u64::MAX);
        loop {
            let now = self.now_ms();
            let (deadline, reason) = if self.in_flight.load(Ordering::Relaxed) > 0 {
                // A handler runs: its own limits apply; look again later.
                (now.saturating_add(header_ms.min(idle_ms)), "")
            } else {
                match self.head_started_ms.load(Ordering::Relaxed) {
                    0 => (
                        self.idle_since_ms
                            .load(Ordering::Relaxed)
                            .saturating_add(idle_ms),
                        "idle timeout",
                    ),
                    started => (started.saturating_add(header_ms), "header timeout"),
                }
            };
            if !reason.is_empty() && now >= deadline {
                return reason;
            }
            let wait = Duration::from_millis(deadline.saturating_sub(now).max(1));
            tokio::select! {
                () = tokio::time::sleep(wait) => {}
                () = self.head_started.notified() => {}
            }
        }
    }
}

/// Marks a request done when dropped (answered, failed or cancelled).
struct InFlight(Arc<Activity>);

impl Drop for InFlight {
    fn drop(&mut self) {
        self.0.request_done();
    }
}

/// The socket, telling the watchdog when bytes arrive.
struct Watched {
    inner: TcpStream,
    activity: Arc<Activity>,
}

impl AsyncRead for Watched {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        let before = buf.filled().len();
        let this = &mut *self;
        let poll = Pin::new(&mut this.inner).poll_read(cx, buf);
        if buf.filled().len() > before {
            this.activity.on_read();
        }
        poll
    }
}

impl AsyncWrite for Watched {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        Pin::new(&mut self.inner).poll_write(cx, buf)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[std::io::IoSlice<'_>],
    ) -> Poll<std::io::Result<usize>> {
        Pin::new(&mut self.inner).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}

async fn serve_connection(
    builder: &Builder<TokioExecutor>,
    tcp: TcpStream,
    app: Router,
    state: AppState,
    drain_over: CancellationToken,
    limits: Limits,
) {
    let activity = Arc::new(Activity::new());
    let io = TokioIo::new(Watched {
        inner: tcp,
        activity: Arc::clone(&activity),
    });
    let on_request = Arc::clone(&activity);
    let service = hyper::service::service_fn(move |request: hyper::Request<Incoming>| {
        on_request.request_started();
        let in_flight = InFlight(Arc::clone(&on_request));
        let mut app = app.clone();
        let refused = crate::middleware::check_request_head(request.uri(), request.headers())
            .err()
            .map(|e| crate::middleware::error_with_identity(&state, &e));
        async move {
            if let Some(refused) = refused {
                drop(in_flight);
                return Ok(refused);
            }
            let response = app.call(request.map(axum::body::Body::new)).await;
            drop(in_flight);
            response
        }
    });
    let connection = builder.serve_connection_with_upgrades(io, service);
    tokio::pin!(connection);
    tokio::select! {
        result = connection.as_mut() => {
            if let Err(e) = result {
                tracing::debug!(error = %e, "connection ended with an error");
            }
        }
        reason = activity.expired(limits) => {
            tracing::debug!(reason, "closing the connection");
        }
        () = drain_over.cancelled() => {
            connection.as_mut().graceful_shutdown();
            let _ = connection.await;
        }
    }
}
