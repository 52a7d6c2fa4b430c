//! Aggregates results as they come, in memory that does not grow with the
//! run's length: HDR histograms per target (whole run) and one small entry
//! per second. A second's latency histogram is reduced to p50/p90/p99 and
//! freed as soon as every request scheduled in that second has ended, so at
//! most a timeout's worth of per-second histograms exist at once.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use weighbridge_report::{
    Failures, Histogram, Host, MAX_INSTANCES, MAX_LABEL_LEN, MAX_TARGETS, OVERFLOW_INSTANCE_PREFIX,
    OVERFLOW_TARGET, SecondLatency, Target, TargetRecorder, Totals, VirtualClient,
};

use crate::request::{Class, Outcome};
use crate::window::{SettledSecond, WindowCounts, WindowStart};

/// Per-second histograms need fewer digits than the run's (2 digits: ±1 %).
const SECOND_DIGITS: u8 = 2;

#[derive(Debug, Default)]
struct SecondAcc {
    scheduled: u64,
    sent: u64,
    ok: u64,
    failed: u64,
    dropped: u64,
    targets: HashMap<String, u64>,
    instances: HashMap<String, u64>,
    /// Request path → target label → responses: `targets` by path.
    paths: HashMap<String, HashMap<String, u64>>,
    /// The second's overall latency: at finalize, the sum of
    /// `target_histograms`. Every response carries a target label
    /// (`unknown` when it named none), so requests are recorded once, per
    /// target, which keeps the work under the lock to one record; an ok
    /// outcome without a label would be recorded here directly.
    histogram: Option<Histogram<u64>>,
    latency: Option<SecondLatency>,
    /// Per target: latency over time per target.
    target_histograms: HashMap<String, Histogram<u64>>,
    target_latency: BTreeMap<String, SecondLatency>,
    /// Target label → failed responses from it.
    target_failed: HashMap<String, u64>,
    /// Target label → virtual clients whose first response this was.
    first_assignments: HashMap<String, u64>,
    done: bool,
}

impl SecondAcc {
    fn in_flight(&self) -> u64 {
        self.sent - self.ok - self.failed
    }
}

#[derive(Debug)]
struct HostAcc {
    target: String,
    requests: u64,
    first_seen: f64,
    last_seen: f64,
}

#[derive(Debug, Default)]
struct ClientAcc {
    first_target: Option<String>,
    targets: HashMap<String, u64>,
}

#[derive(Debug, Default)]
struct State {
    seconds: Vec<SecondAcc>,
    /// Seconds before this index are final (histogram reduced and freed).
    finalized: usize,
    /// Target label → responses in the final seconds, kept as seconds are
    /// finalized so that a snapshot does not sum the timeline.
    settled_targets: BTreeMap<String, u64>,
    /// The same, per request path (path → target → responses).
    settled_paths: BTreeMap<String, BTreeMap<String, u64>>,
    failures: Failures,
    targets: HashMap<String, TargetRecorder>,
    paths: HashMap<String, HashMap<String, u64>>,
    hosts: HashMap<String, HostAcc>,
    clients: Vec<ClientAcc>,
    /// How late requests were sent, in microseconds.
    lag: Option<Histogram<u64>>,
    /// Set when the run is over: late results are ignored (already counted).
    closed: bool,
    /// The judge's window, when it set one ([`WindowStart`]).
    window: Option<WindowCounts>,
    /// Histograms of finished seconds, reset for reuse: a run allocates a
    /// timeout's worth of them once instead of one per second, which keeps
    /// the heap from growing (fragmenting) over a long run.
    spare: Vec<Histogram<u64>>,
}

impl State {
    /// The outcome with its label, or [`OVERFLOW_TARGET`] when it is a new
    /// label and [`MAX_TARGETS`] have been seen: memory stays bounded, and
    /// the response is still counted.
    ///
    /// Instance ids likewise: at most [`MAX_INSTANCES`], then
    /// `overflow:<target>`. Labels and ids longer than [`MAX_LABEL_LEN`]
    /// bytes are shortened first ([`shorten`]).
    fn capped(&self, mut outcome: Outcome) -> Outcome {
        outcome.target = outcome.target.map(shorten);
        outcome.instance = outcome.instance.map(shorten);
        if let Some(t) = &outcome.target
            && self.targets.len() >= MAX_TARGETS
            && !self.targets.contains_key(t)
        {
            outcome.target = Some(OVERFLOW_TARGET.to_owned());
        }
        if let (Some(i), Some(t)) = (&outcome.instance, &outcome.target)
            && self.hosts.len() >= MAX_INSTANCES
            && !self.hosts.contains_key(i)
        {
            outcome.instance = Some(format!("{OVERFLOW_INSTANCE_PREFIX}{t}"));
        }
        outcome
    }
}

/// `value` if it is at most [`MAX_LABEL_LEN`] bytes, otherwise its first
/// bytes (on a char boundary), `~` and the FNV-1a hash of the whole value
/// in 16 hex digits: at most `MAX_LABEL_LEN` bytes, distinct for distinct
/// values (up to hash collisions), the same in every worker.
pub fn shorten(value: String) -> String {
    if value.len() <= MAX_LABEL_LEN {
        return value;
    }
    let hash = value.bytes().fold(0xcbf2_9ce4_8422_2325_u64, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3)
    });
    let mut keep = MAX_LABEL_LEN - 17;
    while !value.is_char_boundary(keep) {
        keep -= 1;
    }
    format!("{}~{hash:016x}", &value[..keep])
}

/// A consistent view for the progress display.
#[derive(Debug, Clone, Default)]
pub struct Snapshot {
    pub scheduled: u64,
    pub sent: u64,
    pub ok: u64,
    pub failed: u64,
    pub dropped: u64,
    pub targets: BTreeMap<String, u64>,
    /// p99 of the last finished second, in ms (corrected).
    pub recent_p99_ms: Option<f64>,
    /// p99 of how late requests were sent, in ms.
    pub lag_p99_ms: f64,
    /// Seconds whose every request has been answered or has failed (by
    /// intended send time, from the start): the counts below are final.
    pub settled_seconds: u64,
    /// Target label → responses to requests due in the settled seconds.
    /// Unlike `targets`, which counts responses as they arrive (so a slow
    /// target lags behind a fast one), these are the counts a judge can
    /// read while the run goes on: the timeline the report will have.
    pub settled_targets: BTreeMap<String, u64>,
    /// `settled_targets` per request path: path → target label → responses
    /// (so a judge can leave requests on rule paths out).
    pub settled_paths: BTreeMap<String, BTreeMap<String, u64>>,
    /// Time since the run's time zero (negative times are zero).
    pub elapsed: Duration,
    /// The judge's window ([`Recorder::with_window`]), empty until a second
    /// of it has settled.
    pub window: Option<WindowCounts>,
}

/// Everything the report needs, once the run is over.
#[derive(Debug)]
pub struct Results {
    pub totals: Totals,
    pub targets: BTreeMap<String, Target>,
    pub paths: BTreeMap<String, BTreeMap<String, u64>>,
    pub timeline: Vec<weighbridge_report::Second>,
    pub hosts: BTreeMap<String, Host>,
    pub clients: BTreeMap<String, VirtualClient>,
    pub lag_p99_ms: f64,
    pub lag_max_ms: f64,
}

/// Shared by the scheduler and every request task.
#[derive(Debug)]
pub struct Recorder {
    start: Instant,
    state: Mutex<State>,
    /// Where a judge wants its window to start (see [`crate::window`]).
    window_start: Option<Arc<WindowStart>>,
}

fn second_of(offset: Duration) -> usize {
    usize::try_from(offset.as_secs()).unwrap_or(usize::MAX)
}

impl Recorder {
    /// `start` is the schedule's time zero; `clients` the number of virtual
    /// clients (0 when not simulating clients).
    pub fn new(start: Instant, clients: usize) -> Self {
        let state = State {
            clients: (0..clients).map(|_| ClientAcc::default()).collect(),
            lag: Histogram::new(3).ok(),
            ..State::default()
        };
        Self {
            start,
            state: Mutex::new(state),
            window_start: None,
        }
    }

    /// Also counts the requests due from `start`'s second on apart, in
    /// [`Snapshot::window`].
    #[must_use]
    pub fn with_window(mut self, start: Arc<WindowStart>) -> Self {
        self.window_start = Some(start);
        self
    }

    pub fn start(&self) -> Instant {
        self.start
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        // A panic while holding the lock cannot leave counts half-updated in
        // a way worth refusing to report: keep going with the data.
        self.state
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// A request came due at `due`: it was sent (`sent`) or dropped.
    pub fn dispatched(&self, due: Instant, sent: bool) {
        let sec = second_of(due.saturating_duration_since(self.start));
        let mut guard = self.lock();
        let st = &mut *guard;
        if st.closed {
            return;
        }
        let s = second_mut(&mut st.seconds, sec);
        s.scheduled += 1;
        if sent {
            s.sent += 1;
            if s.histogram.is_none() && !s.done {
                s.histogram = st
                    .spare
                    .pop()
                    .or_else(|| Histogram::new(SECOND_DIGITS).ok());
            }
        } else {
            s.dropped += 1;
        }
    }

    /// A sent request ended. `due` is when it should have been sent,
    /// `sent_at` when it was, `done` when its response was complete.
    pub fn finished(
        &self,
        due: Instant,
        sent_at: Instant,
        done: Instant,
        path: &str,
        client: Option<usize>,
        outcome: Outcome,
    ) {
        let sec = second_of(due.saturating_duration_since(self.start));
        let corrected = done.saturating_duration_since(due);
        let raw = done.saturating_duration_since(sent_at);
        let lag = sent_at.saturating_duration_since(due);
        let arrival = done.saturating_duration_since(self.start).as_secs_f64();
        let mut guard = self.lock();
        let st = &mut *guard;
        if st.closed {
            return;
        }
        let outcome = st.capped(outcome);
        if let Some(h) = &mut st.lag {
            record(h, micros(lag));
        }
        let ok = outcome.class == Class::Ok;
        match outcome.class {
            Class::Ok => {}
            Class::Http4xx => st.failures.http_4xx += 1,
            Class::Http5xx => st.failures.http_5xx += 1,
            Class::Connect => st.failures.connect += 1,
            Class::Timeout => st.failures.timeout += 1,
            Class::Other => st.failures.other += 1,
        }
        let s = second_mut(&mut st.seconds, sec);
        if ok {
            s.ok += 1;
            let h = match &outcome.target {
                Some(_) if s.done => None,
                Some(target) => match s.target_histograms.get_mut(target) {
                    Some(h) => Some(h),
                    None => st
                        .spare
                        .pop()
                        .or_else(|| Histogram::new(SECOND_DIGITS).ok())
                        .map(|h| s.target_histograms.entry(target.clone()).or_insert(h)),
                },
                None => s.histogram.as_mut(),
            };
            if let Some(h) = h {
                record(h, micros(corrected));
            }
        } else {
            s.failed += 1;
            if let Some(target) = &outcome.target {
                *s.target_failed.entry_ref(target) += 1;
            }
        }
        if let Some(target) = outcome.target {
            *s.targets.entry_ref(&target) += 1;
            if let Some(instance) = &outcome.instance {
                *s.instances.entry_ref(instance) += 1;
            }
            let recorder = st.targets.entry_ref(&target);
            if ok {
                recorder.record_ok(corrected, raw);
            } else {
                recorder.record_failed();
            }
            *st.paths.entry_ref(path).entry_ref(&target) += 1;
            *s.paths.entry_ref(path).entry_ref(&target) += 1;
            if let Some(instance) = outcome.instance {
                match st.hosts.get_mut(&instance) {
                    Some(h) => {
                        h.requests += 1;
                        h.first_seen = h.first_seen.min(arrival);
                        h.last_seen = h.last_seen.max(arrival);
                    }
                    None => {
                        st.hosts.insert(
                            instance,
                            HostAcc {
                                target: target.clone(),
                                requests: 1,
                                first_seen: arrival,
                                last_seen: arrival,
                            },
                        );
                    }
                }
            }
            if let Some(c) = client.and_then(|i| st.clients.get_mut(i)) {
                if c.first_target.is_none() {
                    c.first_target = Some(target.clone());
                    *s.first_assignments.entry_ref(&target) += 1;
                }
                *c.targets.entry(target).or_default() += 1;
            }
        }
        self.finalize_ready(st, Instant::now());
    }

    /// Reduces the per-second histograms of seconds that are over and have
    /// nothing in flight.
    fn finalize_ready(&self, st: &mut State, now: Instant) {
        let elapsed = now.saturating_duration_since(self.start).as_secs();
        while st.finalized < st.seconds.len() {
            let idx = st.finalized;
            let s = &mut st.seconds[idx];
            let over = (idx as u64) < elapsed;
            if !over || s.in_flight() > 0 {
                break;
            }
            if let Some(start) = &self.window_start {
                WindowCounts::settle(
                    &mut st.window,
                    start,
                    &SettledSecond {
                        index: idx as u64,
                        sent: s.sent,
                        ok: s.ok,
                        failed: s.failed,
                        dropped: s.dropped,
                        targets: &s.targets,
                        paths: &s.paths,
                        target_failed: &s.target_failed,
                        target_histograms: &s.target_histograms,
                        first_assignments: &s.first_assignments,
                    },
                );
            }
            finalize(s, &mut st.spare);
            let s = &st.seconds[idx];
            for (label, &count) in &s.targets {
                *st.settled_targets.entry(label.clone()).or_default() += count;
            }
            for (path, by_target) in &s.paths {
                let settled = st.settled_paths.entry(path.clone()).or_default();
                for (label, &count) in by_target {
                    *settled.entry(label.clone()).or_default() += count;
                }
            }
            st.finalized += 1;
        }
    }

    /// For the live display.
    pub fn snapshot(&self) -> Snapshot {
        let mut guard = self.lock();
        let st = &mut *guard;
        self.finalize_ready(st, Instant::now());
        let mut snap = Snapshot::default();
        for s in &st.seconds {
            snap.scheduled += s.scheduled;
            snap.sent += s.sent;
            snap.ok += s.ok;
            snap.failed += s.failed;
            snap.dropped += s.dropped;
        }
        for (label, t) in &st.targets {
            snap.targets.insert(label.clone(), t.ok() + t.failed());
        }
        snap.settled_seconds = st.finalized as u64;
        snap.settled_targets.clone_from(&st.settled_targets);
        snap.settled_paths.clone_from(&st.settled_paths);
        snap.elapsed = Instant::now().saturating_duration_since(self.start);
        // A start moved since the last settled second: its window is empty.
        snap.window = match (self.window_start.as_ref().and_then(|w| w.get()), &st.window) {
            (Some(from), Some(w)) if w.from_second == from => Some(w.clone()),
            (Some(from), _) => Some(WindowCounts {
                from_second: from,
                ..WindowCounts::default()
            }),
            (None, _) => None,
        };
        snap.recent_p99_ms = st.seconds[..st.finalized]
            .iter()
            .rev()
            .find_map(|s| s.latency.map(|l| l.p99));
        snap.lag_p99_ms = st
            .lag
            .as_ref()
            .map_or(0.0, |h| h.value_at_quantile(0.99) as f64 / 1000.0);
        snap
    }

    /// Ends the run: whatever is still in flight is counted as failed
    /// (`other`), and the results are returned. Later results are ignored.
    pub fn close(&self) -> Results {
        let mut guard = self.lock();
        let st = &mut *guard;
        st.closed = true;
        let mut abandoned = 0;
        for s in &mut st.seconds {
            let left = s.in_flight();
            s.failed += left;
            abandoned += left;
        }
        st.failures.other += abandoned;
        for s in &mut st.seconds[st.finalized..] {
            finalize(s, &mut st.spare);
        }
        st.spare.clear();
        st.finalized = st.seconds.len();

        let mut totals = Totals {
            failures: st.failures.clone(),
            ..Totals::default()
        };
        let timeline = st
            .seconds
            .iter()
            .enumerate()
            .map(|(t, s)| {
                totals.scheduled += s.scheduled;
                totals.sent += s.sent;
                totals.ok += s.ok;
                totals.failed += s.failed;
                totals.dropped += s.dropped;
                weighbridge_report::Second {
                    t: t as u64,
                    scheduled: s.scheduled,
                    sent: s.sent,
                    ok: s.ok,
                    failed: s.failed,
                    dropped: s.dropped,
                    targets: s.targets.iter().map(|(k, v)| (k.clone(), *v)).collect(),
                    instances: s.instances.iter().map(|(k, v)| (k.clone(), *v)).collect(),
                    paths: s
                        .paths
                        .iter()
                        .map(|(p, m)| (p.clone(), m.iter().map(|(k, v)| (k.clone(), *v)).collect()))
                        .collect(),
                    latency_ms: s.latency,
                    target_latency_ms: s.target_latency.clone(),
                }
            })
            .collect();
        let targets = st
            .targets
            .iter()
            .filter_map(|(label, r)| r.to_target().ok().map(|t| (label.clone(), t)))
            .collect();
        let paths = st
            .paths
            .iter()
            .map(|(p, m)| (p.clone(), m.iter().map(|(k, v)| (k.clone(), *v)).collect()))
            .collect();
        let hosts = st
            .hosts
            .iter()
            .map(|(id, h)| {
                (
                    id.clone(),
                    Host {
                        target: h.target.clone(),
                        requests: h.requests,
                        first_seen: h.first_seen,
                        last_seen: h.last_seen,
                    },
                )
            })
            .collect();
        let clients = st
            .clients
            .iter()
            .enumerate()
            .filter_map(|(i, c)| {
                let first_target = c.first_target.clone()?;
                Some((
                    format!("c{i}"),
                    VirtualClient {
                        first_target,
                        targets: c.targets.iter().map(|(k, v)| (k.clone(), *v)).collect(),
                    },
                ))
            })
            .collect();
        let (lag_p99_ms, lag_max_ms) = st.lag.as_ref().map_or((0.0, 0.0), |h| {
            (
                h.value_at_quantile(0.99) as f64 / 1000.0,
                h.max() as f64 / 1000.0,
            )
        });
        Results {
            totals,
            targets,
            paths,
            timeline,
            hosts,
            clients,
            lag_p99_ms,
            lag_max_ms,
        }
    }
}

fn finalize(s: &mut SecondAcc, spare: &mut Vec<Histogram<u64>>) {
    if !s.done {
        let mut all = s.histogram.take();
        for (target, mut h) in s.target_histograms.drain() {
            if let Some(l) = SecondLatency::from_histogram(&h) {
                s.target_latency.insert(target, l);
            }
            if let Some(all) = &mut all {
                // Auto-resizing histograms of the same precision: adding
                // cannot fail.
                let _ = all.add(&h);
            }
            h.reset();
            spare.push(h);
        }
        if let Some(mut all) = all {
            s.latency = SecondLatency::from_histogram(&all);
            all.reset();
            spare.push(all);
        }
        s.done = true;
    }
}

fn second_mut(seconds: &mut Vec<SecondAcc>, sec: usize) -> &mut SecondAcc {
    if seconds.len() <= sec {
        seconds.resize_with(sec + 1, SecondAcc::default);
    }
    &mut seconds[sec]
}

/// Records into an auto-resizing histogram (`saturating_record` would clamp
/// to the current range instead of growing it).
fn record(h: &mut Histogram<u64>, value: u64) {
    if h.record(value).is_err() {
        h.saturating_record(value);
    }
}

fn micros(d: Duration) -> u64 {
    u64::try_from(d.as_micros()).unwrap_or(u64::MAX).max(1)
}

/// `entry` without allocating a key when it is already there (the common case).
trait EntryRef<V> {
    fn entry_ref(&mut self, key: &str) -> &mut V;
}

impl<V: Default> EntryRef<V> for HashMap<String, V> {
    fn entry_ref(&mut self, key: &str) -> &mut V {
        if !self.contains_key(key) {
            self.insert(key.to_owned(), V::default());
        }
        self.get_mut(key)
            .unwrap_or_else(|| unreachable!("inserted above"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ok(target: &str, instance: &str) -> Outcome {
        Outcome {
            class: Class::Ok,
            target: Some(target.into()),
            instance: Some(instance.into()),
        }
    }

    /// A label per response (a misconfigured `--target-header`) stops
    /// growing the tables at `MAX_TARGETS`; every response is still counted.
    #[test]
    fn target_labels_are_capped() {
        let start = Instant::now() - Duration::from_secs(5);
        let r = Recorder::new(start, 0);
        let at = start + Duration::from_millis(100);
        let n = MAX_TARGETS + 50;
        for i in 0..n {
            r.dispatched(at, true);
            r.finished(at, at, at, "/", None, ok(&format!("req-{i}"), "i"));
        }
        // A label seen before the cap keeps its own row.
        r.dispatched(at, true);
        r.finished(at, at, at, "/", None, ok("req-0", "i"));
        let res = r.close();
        assert_eq!(res.targets.len(), MAX_TARGETS + 1);
        assert_eq!(res.targets[OVERFLOW_TARGET].requests, 50);
        assert_eq!(res.targets["req-0"].requests, 2);
        assert_eq!(res.totals.ok, n as u64 + 1);
        assert!(res.timeline[0].targets.len() <= MAX_TARGETS + 1);
    }

    /// The window counts only the settled seconds from its start on, and a
    /// new start drops the old window's counts.
    #[test]
    fn the_window_counts_its_seconds_apart() {
        let start = Instant::now() - Duration::from_secs(10);
        let window = Arc::new(WindowStart::default());
        let r = Recorder::new(start, 1).with_window(Arc::clone(&window));
        let at = |s: f64| start + Duration::from_secs_f64(s);
        let failed = |target: &str| Outcome {
            class: Class::Http5xx,
            target: Some(target.into()),
            instance: Some("x".into()),
        };
        window.set(2);
        // Seconds in the past: each settles as soon as nothing of it is in
        // flight, so a second's requests are all dispatched first.
        for sec in 0..4 {
            let t = at(f64::from(sec) + 0.5);
            r.dispatched(t, true);
            r.dispatched(t, true);
            let done = t + Duration::from_millis(3);
            r.finished(t, t, done, "/p", Some(0), ok("stable", "s1"));
            r.finished(t, t, t, "/p", None, failed("canary"));
        }
        let w = r.snapshot().window.expect("a window");
        assert_eq!((w.from_second, w.seconds), (2, 2));
        assert_eq!(w.targets["stable"], 2);
        assert_eq!(w.targets["canary"], 2);
        assert_eq!(w.target_failed["canary"], 2);
        assert!(!w.target_failed.contains_key("stable"));
        assert_eq!((w.ok, w.failed, w.sent), (2, 2, 4));
        assert_eq!(w.paths["/p"]["stable"], 2);
        assert_eq!(w.target_latency["stable"].len(), 2);
        // The client's first response was in second 0: not in this window.
        assert!(w.first_assignments.is_empty());
        // A second still to come: nothing settled in the new window yet.
        window.set(20);
        let w = r.snapshot().window.expect("a window");
        assert_eq!((w.from_second, w.seconds, w.sent), (20, 0, 0));
    }

    #[test]
    fn accounting_adds_up_including_abandoned_requests() {
        let start = Instant::now() - Duration::from_secs(5);
        let r = Recorder::new(start, 2);
        let at = |s: f64| start + Duration::from_secs_f64(s);
        // Second 0: two ok, one dropped. Second 1: one 5xx, one connect
        // error, one still in flight at the end.
        r.dispatched(at(0.1), true);
        r.dispatched(at(0.2), true);
        r.dispatched(at(0.3), false);
        r.finished(
            at(0.1),
            at(0.1),
            at(0.15),
            "/dev/host",
            Some(0),
            ok("ecs", "e1"),
        );
        r.finished(
            at(0.2),
            at(0.2),
            at(0.30),
            "/dev/host",
            Some(1),
            ok("lambda", "l1"),
        );
        r.dispatched(at(1.1), true);
        r.dispatched(at(1.2), true);
        r.dispatched(at(1.3), true);
        r.finished(
            at(1.1),
            at(1.1),
            at(1.2),
            "/dev/host",
            Some(0),
            Outcome {
                class: Class::Http5xx,
                target: Some("ecs".into()),
                instance: Some("e1".into()),
            },
        );
        r.finished(
            at(1.2),
            at(1.2),
            at(1.2),
            "/dev/host",
            None,
            Outcome {
                class: Class::Connect,
                target: None,
                instance: None,
            },
        );
        let res = r.close();
        let t = &res.totals;
        assert_eq!(
            (t.scheduled, t.sent, t.ok, t.failed, t.dropped),
            (6, 5, 2, 3, 1)
        );
        assert_eq!(t.scheduled, t.ok + t.failed + t.dropped);
        assert_eq!(
            (t.failures.http_5xx, t.failures.connect, t.failures.other),
            (1, 1, 1)
        );
        assert_eq!(res.targets["ecs"].requests, 2);
        assert_eq!(res.targets["ecs"].ok, 1);
        assert_eq!(res.paths["/dev/host"]["ecs"], 2);
        assert_eq!(res.hosts["e1"].requests, 2);
        assert!((res.hosts["e1"].first_seen - 0.15).abs() < 1e-6);
        assert_eq!(res.clients["c0"].first_target, "ecs");
        assert_eq!(res.clients["c1"].first_target, "lambda");
        assert_eq!(res.timeline.len(), 2);
        assert_eq!(res.timeline[1].failed, 3);
        // Second 0's ok responses took 50 and 100 ms from their due times.
        let sl = res.timeline[0].latency_ms.expect("latency of second 0");
        assert!(
            (sl.p50 - 50.0).abs() < 1.0 && (sl.p99 - 100.0).abs() < 1.5,
            "{sl:?}"
        );
        // Per target, second 0: ecs answered in 50 ms, lambda in 100 ms;
        // second 1 had no ok response, so no target latency.
        let per_target = &res.timeline[0].target_latency_ms;
        assert_eq!(per_target.len(), 2, "{per_target:?}");
        assert!((per_target["ecs"].p99 - 50.0).abs() < 1.0, "{per_target:?}");
        assert!(
            (per_target["lambda"].p50 - 100.0).abs() < 1.5,
            "{per_target:?}"
        );
        assert!(res.timeline[1].target_latency_ms.is_empty());
        // Corrected latency counts from the due time: 50 ms and 100 ms.
        let l = res.targets["lambda"].latency_ms;
        assert!((l.p50 - 100.0).abs() < 1.0, "{l:?}");
    }

    #[test]
    fn finished_seconds_free_their_histograms() {
        let start = Instant::now() - Duration::from_secs(100);
        let r = Recorder::new(start, 0);
        for s in 0..90u64 {
            let due = start + Duration::from_secs(s) + Duration::from_millis(10);
            r.dispatched(due, true);
            r.finished(
                due,
                due,
                due + Duration::from_millis(5),
                "/",
                None,
                ok("ecs", "e"),
            );
        }
        let st = r.lock();
        let live = st.seconds.iter().filter(|s| s.histogram.is_some()).count();
        assert!(live <= 1, "{live} per-second histograms still held");
        let live_targets: usize = st.seconds.iter().map(|s| s.target_histograms.len()).sum();
        assert!(
            live_targets <= 1,
            "{live_targets} per-target histograms still held"
        );
        assert!(st.seconds.iter().all(|s| s.target_latency.len() <= 1));
        assert!(
            st.spare.len() <= 3,
            "{} spare histograms: they are reused, not piled up",
            st.spare.len()
        );
        assert_eq!(st.finalized, 90);
    }

    /// The judge's counts: a second with a request still in flight is not
    /// settled, and nothing after it is counted, however many answers came.
    #[test]
    fn settled_counts_stop_at_the_first_second_with_a_request_in_flight() {
        let start = Instant::now() - Duration::from_secs(10);
        let r = Recorder::new(start, 0);
        let at = |s: f64| start + Duration::from_secs_f64(s);
        // Sent in due order, as the scheduler does; second 2's request is
        // never answered.
        for second in [0.1, 1.1, 2.1, 3.1] {
            r.dispatched(at(second), true);
        }
        for (second, target) in [(0.1, "ecs"), (1.1, "lambda"), (3.1, "lambda")] {
            r.finished(
                at(second),
                at(second),
                at(second + 0.01),
                "/",
                None,
                ok(target, "i"),
            );
        }
        let snap = r.snapshot();
        assert_eq!(snap.settled_seconds, 2);
        assert_eq!(snap.settled_targets.get("ecs"), Some(&1));
        assert_eq!(snap.settled_targets.get("lambda"), Some(&1));
        // Responses as they arrived: both lambdas.
        assert_eq!(snap.targets.get("lambda"), Some(&2));
    }
}
