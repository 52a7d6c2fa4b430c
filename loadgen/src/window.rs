//! A judge's window: the requests due from a given second on, counted
//! apart while the run goes on, so that a judge watching a changing router
//! (`rollout`, one window per step) reads each step's counts, failures and
//! latencies without the steps before it.
//!
//! The judge moves the start with [`WindowStart::set`], always to a second
//! still to come (so no request due in it has been sent). The recorder
//! adds each second to the window as that second settles (every request
//! due in it answered or failed), so the window's counts are final counts,
//! like the report's timeline.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};

use weighbridge_report::Histogram;

/// No window.
const NONE: u64 = u64::MAX;

/// Where the window starts, shared by the judge (which moves it) and the
/// recorder (which reads it as seconds settle).
#[derive(Debug)]
pub struct WindowStart(AtomicU64);

impl Default for WindowStart {
    fn default() -> Self {
        WindowStart(AtomicU64::new(NONE))
    }
}

impl WindowStart {
    /// Starts a new window at `second` (since the run's start): requests
    /// due from then on are counted in it, and the previous window's counts
    /// are dropped.
    pub fn set(&self, second: u64) {
        self.0.store(second.min(NONE - 1), Ordering::SeqCst);
    }

    /// The window's first second, if a window is set.
    pub fn get(&self) -> Option<u64> {
        let v = self.0.load(Ordering::SeqCst);
        (v != NONE).then_some(v)
    }
}

/// The settled seconds of the window, added up.
#[derive(Debug, Clone, Default)]
pub struct WindowCounts {
    /// The window's first second (since the run's start).
    pub from_second: u64,
    /// Settled seconds in the window so far: it covers `[from_second,
    /// from_second + seconds)`.
    pub seconds: u64,
    pub sent: u64,
    pub ok: u64,
    /// Failed requests, with or without a target (connect errors, timeouts).
    pub failed: u64,
    pub dropped: u64,
    /// Target label → responses.
    pub targets: BTreeMap<String, u64>,
    /// Request path → target label → responses.
    pub paths: BTreeMap<String, BTreeMap<String, u64>>,
    /// Target label → failed responses (4xx/5xx from that target).
    pub target_failed: BTreeMap<String, u64>,
    /// Target label → latency of its ok responses, corrected for
    /// coordinated omission, microseconds (2 significant digits, as the
    /// timeline's per-second histograms).
    pub target_latency: BTreeMap<String, Histogram<u64>>,
    /// Target label → virtual clients whose first response came in the
    /// window, by the target of that response.
    pub first_assignments: BTreeMap<String, u64>,
}

/// One settled second, as the recorder hands it to the window.
#[derive(Debug)]
pub(crate) struct SettledSecond<'a> {
    pub(crate) index: u64,
    pub(crate) sent: u64,
    pub(crate) ok: u64,
    pub(crate) failed: u64,
    pub(crate) dropped: u64,
    pub(crate) targets: &'a std::collections::HashMap<String, u64>,
    pub(crate) paths: &'a std::collections::HashMap<String, std::collections::HashMap<String, u64>>,
    pub(crate) target_failed: &'a std::collections::HashMap<String, u64>,
    pub(crate) target_histograms: &'a std::collections::HashMap<String, Histogram<u64>>,
    pub(crate) first_assignments: &'a std::collections::HashMap<String, u64>,
}

impl WindowCounts {
    /// Adds a settled second that `start` puts in the window; a new start
    /// drops what was counted before it.
    pub(crate) fn settle(
        window: &mut Option<WindowCounts>,
        start: &WindowStart,
        s: &SettledSecond<'_>,
    ) {
        let Some(from) = start.get() else {
            *window = None;
            return;
        };
        if window.as_ref().is_none_or(|w| w.from_second != from) {
            *window = Some(WindowCounts {
                from_second: from,
                ..WindowCounts::default()
            });
        }
        let Some(w) = window.as_mut() else { return };
        if s.index < from {
            return;
        }
        w.seconds = s.index + 1 - from;
        w.sent += s.sent;
        w.ok += s.ok;
        w.failed += s.failed;
        w.dropped += s.dropped;
        add_all(&mut w.targets, s.targets);
        add_all(&mut w.target_failed, s.target_failed);
        add_all(&mut w.first_assignments, s.first_assignments);
        for (path, by_target) in s.paths {
            add_all(w.paths.entry(path.clone()).or_default(), by_target);
        }
        for (label, h) in s.target_histograms {
            match w.target_latency.get_mut(label) {
                // Auto-resizing histograms of the same precision: adding
                // cannot fail.
                Some(acc) => {
                    let _ = acc.add(h);
                }
                None => {
                    w.target_latency.insert(label.clone(), h.clone());
                }
            }
        }
    }
}

fn add_all(into: &mut BTreeMap<String, u64>, from: &std::collections::HashMap<String, u64>) {
    for (k, &v) in from {
        *into.entry(k.clone()).or_default() += v;
    }
}
