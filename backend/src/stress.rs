//! CPU stress: keep the process at a requested share of the CPU it may use,
//! in background threads, while requests keep being served.
//!
//! A second call while one runs **replaces** it: the running threads stop at
//! their next slice and the new share applies for the new duration. Shares
//! are never added up, so `/stress-cpu/75/120` always means 75 %, whatever ran
//! before. `/stress-cpu/...` with the same numbers simply restarts the clock.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use serde::Serialize;

use crate::cpu_budget;

/// Each thread alternates busy and idle within this slice. Short enough that
/// a 1-second run is smooth, long enough that the scheduler's granularity
/// (a few ms) does not distort the duty cycle.
const SLICE: Duration = Duration::from_millis(20);

/// Controls the background stress threads of this process.
#[derive(Debug, Default)]
pub struct Stress {
    /// Bumped by every start; threads of an older generation stop.
    generation: Arc<AtomicU64>,
    /// The generation currently burning, 0 when idle.
    running: Arc<AtomicU64>,
    /// Held by `start` and `stop`, so two of them never interleave their
    /// updates of `generation` and `running`.
    control: Mutex<()>,
}

/// What a start did, echoed in the HTTP answer.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct StressPlan {
    pub percent: u8,
    pub seconds: u64,
    /// CPUs this process may use (cgroup quota aware).
    pub allowed_cpus: f64,
    /// Cores' worth of CPU the threads burn together.
    pub target_cores: f64,
    pub threads: usize,
    /// Whether a run in progress was replaced by this one.
    pub replaced: bool,
}

impl Stress {
    pub fn new() -> Self {
        Self::default()
    }

    /// Starts (or replaces) a stress run and returns at once.
    pub fn start(&self, percent: u8, seconds: u64) -> StressPlan {
        self.start_with_budget(percent, seconds, cpu_budget::allowed_cpus())
    }

    /// As [`Self::start`], with the CPU budget given (for tests).
    pub fn start_with_budget(&self, percent: u8, seconds: u64, allowed_cpus: f64) -> StressPlan {
        let _control = self.control.lock().unwrap_or_else(PoisonError::into_inner);
        let generation = self.generation.load(Ordering::SeqCst) + 1;
        // Claim `running` before the old threads learn they are replaced: one
        // that stops after this cannot clear the new run's flag (its
        // compare-exchange fails), and `replaced` is false only when the old
        // run had already ended.
        let replaced = self.running.swap(generation, Ordering::SeqCst) != 0;
        self.generation.store(generation, Ordering::SeqCst);
        let target_cores = allowed_cpus * f64::from(percent) / 100.0;
        let threads = (allowed_cpus.ceil() as usize).max(1);
        let duty = (target_cores / threads as f64).clamp(0.0, 1.0);
        // `seconds` is capped at start-up (MAX_STRESS_SECONDS <= 86400), but
        // never trust an addition to an `Instant`.
        let now = Instant::now();
        let deadline = now.checked_add(Duration::from_secs(seconds)).unwrap_or(now);
        for _ in 0..threads {
            let current = Arc::clone(&self.generation);
            let running = Arc::clone(&self.running);
            std::thread::spawn(move || {
                burn(&current, generation, duty, deadline);
                // Only the newest generation clears the flag, so a replaced
                // run's threads exiting do not mark the new run as idle.
                let _ = running.compare_exchange(generation, 0, Ordering::SeqCst, Ordering::SeqCst);
            });
        }
        tracing::info!(
            percent,
            seconds,
            allowed_cpus,
            target_cores,
            threads,
            replaced,
            "stress-cpu started"
        );
        StressPlan {
            percent,
            seconds,
            allowed_cpus,
            target_cores,
            threads,
            replaced,
        }
    }

    /// Stops any run in progress (used on shutdown).
    pub fn stop(&self) {
        let _control = self.control.lock().unwrap_or_else(PoisonError::into_inner);
        self.generation.fetch_add(1, Ordering::SeqCst);
        self.running.store(0, Ordering::SeqCst);
    }
}

fn burn(current: &AtomicU64, generation: u64, duty: f64, deadline: Instant) {
    let busy = SLICE.mul_f64(duty);
    while current.load(Ordering::Relaxed) == generation {
        let slice_start = Instant::now();
        if slice_start >= deadline {
            break;
        }
        spin_for(busy);
        if let Some(idle) = (slice_start + SLICE).checked_duration_since(Instant::now()) {
            std::thread::sleep(idle);
        }
    }
}

/// Burns `duration` of wall time on the calling thread (the busy part of a
/// stress slice).
pub fn spin_for(duration: Duration) {
    let until = Instant::now() + duration;
    let mut x = 0u64;
    while Instant::now() < until {
        x = std::hint::black_box(x.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1));
    }
}

/// CPU time used so far by the calling thread, when the OS can tell.
fn thread_cpu_time() -> Option<Duration> {
    let ts = nix::time::clock_gettime(nix::time::ClockId::CLOCK_THREAD_CPUTIME_ID).ok()?;
    Some(Duration::new(
        u64::try_from(ts.tv_sec()).ok()?,
        u32::try_from(ts.tv_nsec()).ok()?,
    ))
}

/// Burns `duration` of **CPU time** on the calling thread (measured on the
/// thread's CPU clock, so a contended CPU makes it take longer, not do less),
/// checking `stop` every few microseconds. Returns whether it finished
/// (`false`: stopped). Without a thread CPU clock, wall time is used.
pub fn burn_cpu(duration: Duration, stop: impl Fn() -> bool) -> bool {
    let wall_start = Instant::now();
    let cpu_start = thread_cpu_time();
    let used = || match (cpu_start, thread_cpu_time()) {
        (Some(a), Some(b)) => b.saturating_sub(a),
        _ => wall_start.elapsed(),
    };
    let mut x = 0u64;
    loop {
        if used() >= duration {
            return true;
        }
        if stop() {
            return false;
        }
        for _ in 0..20_000 {
            x = std::hint::black_box(x.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1));
        }
    }
}

/// Sets its flag when dropped: a blocking burn started for a request stops
/// when the request's future is dropped (client gone, connection cut).
#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plan_scales_with_budget_and_replaces() {
        let s = Stress::new();
        let p = s.start_with_budget(50, 1, 0.5);
        assert_eq!(p.threads, 1);
        assert!((p.target_cores - 0.25).abs() < 1e-9);
        let p2 = s.start_with_budget(75, 1, 2.0);
        assert_eq!(p2.threads, 2);
        assert!((p2.target_cores - 1.5).abs() < 1e-9);
        assert!(p2.replaced);
        s.stop();
    }
}
