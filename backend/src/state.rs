//! What every handler shares: configuration, identity, the drain flag, the
//! CPU stress controller and the SQS client. Built once per process (for the
//! Lambda: once per execution environment, outside the handler).

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use axum::http::HeaderValue;
use tokio::sync::Semaphore;
use tokio_util::sync::CancellationToken;

use crate::config::Config;
use crate::identity::Identity;
use crate::sqs::Queue;
use crate::stress::Stress;

/// Cheap to clone; everything lives behind one `Arc`.
#[derive(Debug, Clone)]
pub struct AppState(Arc<Inner>);

#[derive(Debug)]
pub struct Inner {
    pub config: Config,
    pub identity: Identity,
    pub queue: Option<Queue>,
    pub stress: Stress,
    /// The identity headers, pre-validated: a label or instance id with bytes
    /// that are not legal in a header is replaced with `invalid` at start-up.
    pub headers: IdentityHeaders,
    /// One permit per `/work` request allowed to burn at once.
    pub work_slots: Arc<Semaphore>,
    /// Cancelled when the drain is over: running `/work` burns stop.
    pub shutdown: CancellationToken,
    draining: AtomicBool,
}

#[derive(Debug, Clone)]
pub struct IdentityHeaders {
    pub served_by: HeaderValue,
    pub host: HeaderValue,
    pub version: HeaderValue,
}

impl AppState {
    pub fn new(config: Config, identity: Identity, queue: Option<Queue>) -> Self {
        let header = |s: &str| {
            HeaderValue::from_str(s).unwrap_or_else(|_| HeaderValue::from_static("invalid"))
        };
        let headers = IdentityHeaders {
            served_by: header(&identity.label),
            host: header(&identity.instance),
            version: header(&identity.version),
        };
        let work_slots = Arc::new(Semaphore::new(config.max_work_concurrency.max(1)));
        Self(Arc::new(Inner {
            work_slots,
            shutdown: CancellationToken::new(),
            config,
            identity,
            queue,
            stress: Stress::new(),
            headers,
            draining: AtomicBool::new(false),
        }))
    }

    /// Marks the process as draining: readiness answers 503 from now on.
    pub fn start_draining(&self) {
        self.0.draining.store(true, Ordering::SeqCst);
    }

    pub fn is_draining(&self) -> bool {
        self.0.draining.load(Ordering::SeqCst)
    }
}

impl std::ops::Deref for AppState {
    type Target = Inner;
    fn deref(&self) -> &Inner {
        &self.0
    }
}
