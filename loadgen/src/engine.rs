//! Drives the load: the open-loop scheduler (requests due on a fixed
//! schedule, whatever the target does) and the closed loop of `--rps max`.

use std::sync::Arc;
use std::time::{Duration, Instant};

use rand::SeedableRng;
use rand::rngs::SmallRng;
use tokio::sync::Semaphore;
use tokio_util::sync::CancellationToken;

use crate::mix::Mix;
use crate::recorder::Recorder;
use crate::request::{Class, Connection, Outcome, ServedBy, VirtualClient};
use crate::schedule::{Arrivals, Schedule};

/// What to send and how.
#[derive(Debug)]
pub struct Load {
    pub mix: Mix,
    pub clients: Vec<VirtualClient>,
    pub served_by: ServedBy,
    pub timeout: Duration,
    pub seed: u64,
}

/// How the run ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RunEnd {
    /// Stopped early by a signal.
    pub interrupted: bool,
}

/// Sends one request and records it. `due` is the intended send time.
async fn send_one(load: &Load, recorder: &Recorder, due: Instant, endpoint: usize, client: usize) {
    let sent_at = Instant::now();
    let e = &load.mix.endpoints[endpoint];
    let c = &load.clients[client];
    let outcome = c
        .execute(
            load.mix.request(endpoint),
            &e.url,
            load.timeout,
            &load.served_by,
        )
        .await;
    // Virtual clients (`--clients`) are the ones with a cookie jar.
    let client_id = c.cookies.is_some().then_some(client);
    recorder.finished(due, sent_at, Instant::now(), &e.path, client_id, outcome);
}

/// Sends on the worker's own connection, opening it first if needed.
async fn on_own_connection(
    load: &Load,
    conn: &mut Option<Connection>,
    client: usize,
    endpoint: usize,
) -> Outcome {
    if conn.as_ref().is_none_or(|c| !c.is_open()) {
        let uri = &load.mix.endpoints[endpoint].uri;
        *conn = match tokio::time::timeout(load.timeout, load.clients[client].connect(uri)).await {
            Ok(Ok(c)) => Some(c),
            Ok(Err(class)) => return Outcome::failed(class),
            Err(_) => return Outcome::failed(Class::Timeout),
        };
    }
    match conn {
        Some(c) => {
            c.execute(
                load.mix.direct_request(endpoint),
                load.timeout,
                &load.served_by,
            )
            .await
        }
        None => Outcome::failed(Class::Connect),
    }
}

/// Open loop: request i is due at `start + Λ⁻¹(i)`. A request that cannot
/// start because `max_in_flight` are already out is dropped, never delayed.
/// On `stop`, scheduling ends at once; requests in flight get up to the
/// timeout to finish before the caller closes the recorder.
pub async fn open_loop(
    load: Arc<Load>,
    recorder: Arc<Recorder>,
    schedule: &Schedule,
    arrivals: Arrivals,
    max_in_flight: usize,
    stop: CancellationToken,
) -> RunEnd {
    let start = recorder.start();
    let permits = Arc::new(Semaphore::new(max_in_flight));
    let mut rng = SmallRng::seed_from_u64(load.seed);
    let mut interrupted = false;
    for offset in schedule.arrivals(arrivals, load.seed) {
        let due = start + Duration::from_secs_f64(offset);
        if due > Instant::now() {
            // Timers have millisecond resolution: everything due within the
            // tick is sent together, and each request's latency still counts
            // from its own due time.
            tokio::select! {
                () = tokio::time::sleep_until(due.into()) => {}
                () = stop.cancelled() => { interrupted = true; break; }
            }
        } else if stop.is_cancelled() {
            interrupted = true;
            break;
        }
        let endpoint = load.mix.pick(&mut rng);
        let client = Mix::pick_client(&mut rng, load.clients.len());
        match Arc::clone(&permits).try_acquire_owned() {
            Ok(permit) => {
                recorder.dispatched(due, true);
                let (load, recorder) = (Arc::clone(&load), Arc::clone(&recorder));
                tokio::spawn(async move {
                    send_one(&load, &recorder, due, endpoint, client).await;
                    drop(permit);
                });
            }
            Err(_) => recorder.dispatched(due, false),
        }
    }
    // Wait for what is in flight (each request ends by its own timeout).
    let all = u32::try_from(max_in_flight).unwrap_or(u32::MAX);
    let grace = load.timeout + Duration::from_secs(1);
    let _ = tokio::time::timeout(grace, permits.acquire_many(all)).await;
    RunEnd { interrupted }
}

/// Closed loop (`--rps max`): `connections` workers each send, wait for the
/// answer, and send again, until `duration` is over.
pub async fn closed_loop(
    load: Arc<Load>,
    recorder: Arc<Recorder>,
    connections: usize,
    duration: Duration,
    stop: CancellationToken,
) -> RunEnd {
    let end = recorder.start() + duration;
    let mut workers = tokio::task::JoinSet::new();
    for w in 0..connections {
        let (load, recorder, stop) = (Arc::clone(&load), Arc::clone(&recorder), stop.clone());
        workers.spawn(async move {
            let mut rng = SmallRng::seed_from_u64(load.seed.wrapping_add(w as u64));
            let client = w % load.clients.len();
            // Without cookies to keep, each worker owns one connection (no
            // pool in the way), reopened after a failure.
            let mut conn: Option<Connection> = None;
            loop {
                let now = Instant::now();
                if now >= end || stop.is_cancelled() {
                    break;
                }
                let endpoint = load.mix.pick(&mut rng);
                recorder.dispatched(now, true);
                if load.clients[client].cookies.is_some() {
                    send_one(&load, &recorder, now, endpoint, client).await;
                    continue;
                }
                let outcome = on_own_connection(&load, &mut conn, client, endpoint).await;
                if !matches!(outcome.class, Class::Ok | Class::Http4xx | Class::Http5xx) {
                    conn = None;
                }
                let path = &load.mix.endpoints[endpoint].path;
                recorder.finished(now, now, Instant::now(), path, None, outcome);
            }
        });
    }
    let grace = load.timeout + Duration::from_secs(1);
    let joined = async { while workers.join_next().await.is_some() {} };
    tokio::select! {
        () = joined => {}
        () = async { stop.cancelled().await; tokio::time::sleep(grace).await } => {}
    }
    RunEnd {
        interrupted: stop.is_cancelled(),
    }
}
