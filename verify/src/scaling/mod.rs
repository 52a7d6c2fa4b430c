//! The autoscaling reaction, from a (merged) report: how many instances of
//! each target were serving over time, when that number went up and down,
//! how long after the load rose and fell, and whether that meets the
//! expectation given on the command line. `docs/verify.md` explains it.
//!
//! - **Instances over time.** An instance (`hosts`) counts as serving from
//!   the second of its first response to the second of its last. Instances
//!   first seen in the first window are the initial fleet (present from
//!   t = 0: at a low rate a running task may simply not have been hit yet),
//!   and instances last seen in the last window stay to the end.
//! - **Scaling events.** Changes of that count in one direction, no more
//!   than one window apart, make one event: scale-out or scale-in, from how
//!   many to how many, when it started and when it ended.
//! - **Load changes.** The scheduled rate (`timeline[].scheduled`) per
//!   window; a rise when it exceeds the last level by more than
//!   `load_change` (relative, and by at least 1 request/s), a fall when it
//!   drops below it by as much; consecutive changes in one direction merge.
//!   A change extends while the following windows keep moving the same way
//!   (a ramp is one rise). A run that starts with load counts as a rise at
//!   t = 0.
//! - **Reaction time.** From a load change to the start of the first
//!   scaling event in the matching direction after it.

pub mod aws;
pub mod lineup;

use serde::Serialize;
use weighbridge_report::Report;

use crate::error::InputError;
use crate::fmt::secs;
use crate::verdict::Verdict;
use crate::windows::Windows;

/// What the run is expected to show.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, clap::ValueEnum)]
#[serde(rename_all = "kebab-case")]
pub enum Expect {
    /// No expectation about scaling events (only the other checks).
    Any,
    /// No scaling at all.
    None,
    /// A scale-out after each load rise, within `--within`.
    ScaleOut,
    /// A scale-in after each load fall, within `--scale-in-within`.
    ScaleIn,
    /// Both.
    Both,
}

/// Thresholds and expectations.
#[derive(Debug, Clone, PartialEq)]
pub struct ScalingOptions {
    /// Targets to check; empty means every target with instances.
    pub targets: Vec<String>,
    /// The expected events.
    pub expect: Expect,
    /// Deadline from a load rise to the start of a scale-out, seconds.
    pub within_s: f64,
    /// Deadline from a load fall to the start of a scale-in, seconds.
    pub scale_in_within_s: f64,
    /// A scale-in must not start sooner than this after a load fall (cooldown), seconds.
    pub scale_in_not_before_s: f64,
    /// Fewest instances allowed while the run lasts.
    pub min_instances: Option<u64>,
    /// Most instances allowed.
    pub max_instances: Option<u64>,
    /// Window for load levels and for grouping instance changes, seconds.
    pub window_s: u64,
    /// Relative change of the scheduled rate that counts as a load change.
    pub load_change: f64,
    /// Most failed requests allowed while scaling (from one window before an
    /// event to one window after it); unchecked when `None`.
    pub max_failed_while_scaling: Option<u64>,
}

impl ScalingOptions {
    /// Checks every option's range.
    pub fn validate(&self) -> Result<(), InputError> {
        if !(self.load_change > 0.0 && self.load_change < 10.0) {
            return Err(InputError::BadOption {
                name: "load-change",
                value: self.load_change,
                reason: "must be more than 0 (a fraction, e.g. 0.25)",
            });
        }
        crate::error::check_window(self.window_s)
    }
}

impl Default for ScalingOptions {
    fn default() -> Self {
        ScalingOptions {
            targets: Vec::new(),
            expect: Expect::Any,
            within_s: 300.0,
            scale_in_within_s: 900.0,
            scale_in_not_before_s: 0.0,
            min_instances: None,
            max_instances: None,
            window_s: 10,
            load_change: 0.25,
            max_failed_while_scaling: None,
        }
    }
}

/// Direction of a change.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Direction {
    /// More instances, or more load.
    Up,
    /// Fewer.
    Down,
}

/// A change of the scheduled rate.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LoadChange {
    /// Rise or fall.
    pub direction: Direction,
    /// Seconds since the start of the run (start of the window where it showed).
    pub at_s: u64,
    /// Rate before, requests/s.
    pub from_rps: f64,
    /// Rate after, requests/s.
    pub to_rps: f64,
}

/// A scaling event of one target.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ScalingEvent {
    /// `up` = scale-out, `down` = scale-in.
    pub direction: Direction,
    /// Second the count first changed.
    pub start_s: u64,
    /// Second of the last change of the event.
    pub end_s: u64,
    /// Instances before.
    pub from: u64,
    /// Instances after.
    pub to: u64,
    /// Failed requests from one window before the event to one window after.
    pub failed_nearby: u64,
}

/// A load change and the reaction to it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Reaction {
    /// The load change (index into `load`).
    pub load_change: usize,
    /// The matching event (index into the target's `events`), if any.
    pub event: Option<usize>,
    /// Seconds from the load change to the event's start.
    pub reaction_s: Option<u64>,
}

/// One check and its outcome.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Check {
    /// Target label.
    pub target: String,
    /// Short name (`scale-out`, `scale-in`, `max-instances`, ...).
    pub name: &'static str,
    /// PASS, FAIL or INCONCLUSIVE.
    pub verdict: Verdict,
    /// What was seen.
    pub detail: String,
}

/// One target's instances over time.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TargetScaling {
    /// Label.
    pub target: String,
    /// Instances ever seen.
    pub instances_seen: u64,
    /// Instances serving at the start.
    pub initial: u64,
    /// Fewest serving at any second.
    pub min: u64,
    /// Most serving at any second.
    pub max: u64,
    /// Most instances serving in each window (`window_s`), from t = 0.
    pub series: Vec<u64>,
    /// Scale-out and scale-in events.
    pub events: Vec<ScalingEvent>,
    /// Reactions to load rises (scale-out).
    pub scale_out_reactions: Vec<Reaction>,
    /// Reactions to load falls (scale-in).
    pub scale_in_reactions: Vec<Reaction>,
}

/// The verdict on the scaling reaction.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ScalingReport {
    /// PASS, FAIL or INCONCLUSIVE.
    pub verdict: Verdict,
    /// Why.
    pub reason: String,
    /// Seconds of the run.
    pub duration_s: u64,
    /// Window used, seconds.
    pub window_s: u64,
    /// The expectation.
    pub expect: Expect,
    /// Scheduled requests/s per window.
    pub load_series: Vec<f64>,
    /// Load rises and falls.
    pub load: Vec<LoadChange>,
    /// Per target.
    pub targets: Vec<TargetScaling>,
    /// Every check.
    pub checks: Vec<Check>,
    /// Remarks.
    pub notes: Vec<String>,
    /// What AWS says about the ECS service's scaling, lined up with the
    /// clients' view (`--ecs-cluster`/`--ecs-service`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub aws: Option<AwsScaling>,
    /// Why the load generator makes this run's reactions unreliable (it
    /// could not keep up); the verdict is then INCONCLUSIVE.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub loadgen_limited: Option<String>,
}

impl ScalingReport {
    /// Recomputes `verdict` and `reason` from `checks` (after checks were
    /// added), exactly as [`judge_scaling`] computes them.
    pub fn rejudge(&mut self) {
        let (verdict, reason) = overall(&self.checks, self.targets.is_empty());
        (self.verdict, self.reason) =
            crate::verdict::hold(verdict, reason, self.loadgen_limited.as_deref());
    }
}

/// The scheduled rate per window, requests/s (one window at least).
fn load_series(report: &Report, seconds: u64, window_s: u64) -> Vec<f64> {
    let windows = Windows::new(seconds.max(1), window_s);
    windows.rates(&windows.sums(report, |s| s.scheduled))
}

/// A window that moves the rate at least this much further (relative) in the
/// same direction extends a load change (a ramp) instead of ending it.
pub const RAMP_STEP: f64 = 0.02;

/// Rises and falls of `series` (per window), as described in the module
/// docs; a change extends while the following windows keep moving the same
/// way by at least [`RAMP_STEP`].
pub fn load_changes(series: &[f64], window_s: u64, threshold: f64) -> Vec<LoadChange> {
    let mut out: Vec<LoadChange> = Vec::new();
    let Some(&first) = series.first() else {
        return out;
    };
    if first >= 1.0 {
        out.push(LoadChange {
            direction: Direction::Up,
            at_s: 0,
            from_rps: 0.0,
            to_rps: first,
        });
    }
    let mut level = first;
    // The change being extended while the rate keeps moving its way (a ramp).
    let mut ramping: Option<usize> = out.len().checked_sub(1);
    for w in 1..series.len() {
        let (prev, r) = (series[w - 1], series[w]);
        if let Some(i) = ramping {
            let continues = match out[i].direction {
                Direction::Up => r > prev * (1.0 + RAMP_STEP),
                Direction::Down => r < prev * (1.0 - RAMP_STEP),
            };
            if continues {
                out[i].to_rps = r;
                level = r;
                continue;
            }
            ramping = None;
        }
        let direction = if r > level * (1.0 + threshold) && r - level >= 1.0 {
            Direction::Up
        } else if r < level * (1.0 - threshold) && level - r >= 1.0 {
            Direction::Down
        } else {
            continue;
        };
        out.push(LoadChange {
            direction,
            at_s: w as u64 * window_s,
            from_rps: level,
            to_rps: r,
        });
        ramping = Some(out.len() - 1);
        level = r;
    }
    out
}

/// Instances of `target` serving in each second `0..seconds`.
fn instance_counts(report: &Report, target: &str, seconds: u64, window_s: u64) -> Vec<u64> {
    let n = usize::try_from(seconds).unwrap_or(0);
    // Difference array: +1 at the first second, −1 after the last.
    let mut diff = vec![0i64; n + 1];
    let hosts: Vec<_> = report
        .hosts
        .values()
        .filter(|h| h.target == target)
        .collect();
    // The target's first answer opens its run: instances that answered
    // within a window of it were serving from the start (a first response
    // that came late, from a slow start-up, is not a scale-out).
    let first = hosts
        .iter()
        .map(|h| h.first_seen)
        .fold(f64::INFINITY, f64::min);
    let opened = if first.is_finite() {
        first.floor() as u64
    } else {
        0
    };
    for host in hosts {
        let mut from = host.first_seen.floor() as u64;
        let mut to = host.last_seen.floor() as u64;
        if from < opened + window_s {
            from = 0;
        }
        if to + window_s >= seconds {
            to = seconds.saturating_sub(1);
        }
        let from = usize::try_from(from).unwrap_or(n).min(n);
        let to = usize::try_from(to).unwrap_or(n).min(n.saturating_sub(1));
        if from <= to && from < n {
            diff[from] += 1;
            diff[to + 1] -= 1;
        }
    }
    let mut level = 0i64;
    diff.iter()
        .take(n)
        .map(|d| {
            level += d;
            level.max(0) as u64
        })
        .collect()
}

fn events(counts: &[u64], failed: &[u64], window_s: u64) -> Vec<ScalingEvent> {
    let mut out: Vec<ScalingEvent> = Vec::new();
    for t in 1..counts.len() {
        let (before, now) = (counts[t - 1], counts[t]);
        if before == now {
            continue;
        }
        let direction = if now > before {
            Direction::Up
        } else {
            Direction::Down
        };
        let t = t as u64;
        match out.last_mut() {
            Some(e) if e.direction == direction && t <= e.end_s + window_s => {
                e.end_s = t;
                e.to = now;
            }
            _ => out.push(ScalingEvent {
                direction,
                start_s: t,
                end_s: t,
                from: before,
                to: now,
                failed_nearby: 0,
            }),
        }
    }
    for e in &mut out {
        let lo = e.start_s.saturating_sub(window_s) as usize;
        let hi = ((e.end_s + window_s) as usize).min(failed.len().saturating_sub(1));
        e.failed_nearby = failed.get(lo..=hi).map_or(0, |s| s.iter().sum());
    }
    out
}

/// One reaction per episode of load changes in `direction` (consecutive
/// changes with no opposite change between them): the first event in that
/// direction starting after the episode began and before the load turned,
/// timed from the latest change of the episode at or before it (without an
/// event: from the episode's last change).
fn reactions(load: &[LoadChange], events: &[ScalingEvent], direction: Direction) -> Vec<Reaction> {
    let mut out = Vec::new();
    let mut i = 0;
    while i < load.len() {
        if load[i].direction != direction {
            i += 1;
            continue;
        }
        let mut j = i;
        while j + 1 < load.len() && load[j + 1].direction == direction {
            j += 1;
        }
        let turn = load.get(j + 1).map_or(u64::MAX, |o| o.at_s);
        let event = events.iter().position(|e| {
            e.direction == direction && e.start_s >= load[i].at_s && e.start_s < turn
        });
        let from = match event {
            Some(e) => (i..=j)
                .rev()
                .find(|&k| load[k].at_s <= events[e].start_s)
                .unwrap_or(i),
            None => j,
        };
        out.push(Reaction {
            load_change: from,
            event,
            reaction_s: event.map(|e| events[e].start_s - load[from].at_s),
        });
        i = j + 1;
    }
    out
}

/// A duration in seconds as people read it (`1m 30s`).
/// Judges the scaling reaction in `report`.
pub fn judge_scaling(report: &Report, options: &ScalingOptions) -> ScalingReport {
    let window_s = options.window_s.max(1);
    let from_timeline = report.timeline.last().map_or(0, |s| s.t + 1);
    let from_clock = (report.ended_at - report.started_at)
        .as_seconds_f64()
        .ceil() as u64;
    // Loadgen writes every second of the run; the clock (which includes the
    // in-flight tail after the last send) only matters without a timeline.
    let seconds = if from_timeline > 0 {
        from_timeline
    } else {
        from_clock.max(1)
    };
    let mut failed = vec![0u64; usize::try_from(seconds).unwrap_or(0)];
    for s in &report.timeline {
        if let Some(f) = failed.get_mut(usize::try_from(s.t).unwrap_or(usize::MAX)) {
            *f += s.failed;
        }
    }
    let load_series = load_series(report, seconds, window_s);
    let load = load_changes(&load_series, window_s, options.load_change);

    let mut labels: Vec<String> = if options.targets.is_empty() {
        let mut l: Vec<String> = report.hosts.values().map(|h| h.target.clone()).collect();
        l.sort();
        l.dedup();
        l
    } else {
        options.targets.clone()
    };
    labels.dedup();

    let mut notes = Vec::new();
    let mut checks = Vec::new();
    let mut targets = Vec::new();
    if labels.is_empty() {
        notes.push(
            "the report has no instances (hosts): responses carried no x-backend-host header"
                .to_owned(),
        );
    }
    for label in &labels {
        let counts = instance_counts(report, label, seconds, window_s);
        let events = events(&counts, &failed, window_s);
        let series: Vec<u64> = counts
            .chunks(usize::try_from(window_s).unwrap_or(1))
            .map(|c| c.iter().copied().max().unwrap_or(0))
            .collect();
        let seen = report.hosts.values().filter(|h| &h.target == label).count() as u64;
        let ts = TargetScaling {
            target: label.clone(),
            instances_seen: seen,
            initial: counts.first().copied().unwrap_or(0),
            min: counts.iter().copied().min().unwrap_or(0),
            max: counts.iter().copied().max().unwrap_or(0),
            series,
            scale_out_reactions: reactions(&load, &events, Direction::Up),
            scale_in_reactions: reactions(&load, &events, Direction::Down),
            events,
        };
        check_target(&ts, &load, seconds, options, &mut checks);
        targets.push(ts);
    }

    let loadgen_limited = crate::verdict::loadgen_limited_in_windows(report, options.window_s);
    let (verdict, reason) = overall(&checks, labels.is_empty());
    let (verdict, reason) = crate::verdict::hold(verdict, reason, loadgen_limited.as_deref());
    ScalingReport {
        verdict,
        reason,
        duration_s: seconds,
        window_s,
        expect: options.expect,
        load_series,
        load,
        targets,
        checks,
        notes,
        aws: None,
        loadgen_limited,
    }
}

/// The overall verdict and its reason: the worst of the checks (FAIL, then
/// INCONCLUSIVE); INCONCLUSIVE without any target to judge.
fn overall(checks: &[Check], no_targets: bool) -> (Verdict, String) {
    let failing: Vec<&Check> = checks
        .iter()
        .filter(|c| c.verdict == Verdict::Fail)
        .collect();
    let open: Vec<&Check> = checks
        .iter()
        .filter(|c| c.verdict == Verdict::Inconclusive)
        .collect();
    if !failing.is_empty() {
        (Verdict::Fail, join_checks(&failing))
    } else if no_targets {
        (
            Verdict::Inconclusive,
            "no instances in the report: nothing to judge".to_owned(),
        )
    } else if !open.is_empty() {
        (Verdict::Inconclusive, join_checks(&open))
    } else if checks.is_empty() {
        (
            Verdict::Pass,
            "no expectation given (--expect any and no limits): reported only".to_owned(),
        )
    } else {
        (Verdict::Pass, format!("all {} checks met", checks.len()))
    }
}

fn join_checks(checks: &[&Check]) -> String {
    checks
        .iter()
        .map(|c| format!("{} {}: {}", c.target, c.name, c.detail))
        .collect::<Vec<_>>()
        .join("; ")
}

fn check_target(
    ts: &TargetScaling,
    load: &[LoadChange],
    seconds: u64,
    options: &ScalingOptions,
    checks: &mut Vec<Check>,
) {
    let mut push = |name: &'static str, verdict: Verdict, detail: String| {
        checks.push(Check {
            target: ts.target.clone(),
            name,
            verdict,
            detail,
        });
    };
    if ts.instances_seen == 0 {
        push(
            "instances",
            Verdict::Inconclusive,
            "no instance of this target was seen".to_owned(),
        );
        return;
    }
    if let Some(max) = options.max_instances {
        let ok = ts.max <= max;
        push(
            "max-instances",
            if ok { Verdict::Pass } else { Verdict::Fail },
            format!("at most {} instances served (limit {max})", ts.max),
        );
    }
    if let Some(min) = options.min_instances {
        let ok = ts.min >= min;
        push(
            "min-instances",
            if ok { Verdict::Pass } else { Verdict::Fail },
            format!("at least {} instances served (limit {min})", ts.min),
        );
    }
    let want_out = matches!(options.expect, Expect::ScaleOut | Expect::Both);
    let want_in = matches!(options.expect, Expect::ScaleIn | Expect::Both);
    if options.expect == Expect::None {
        let n = ts.events.len();
        push(
            "no-scaling",
            if n == 0 { Verdict::Pass } else { Verdict::Fail },
            if n == 0 {
                format!("the instance count stayed at {}", ts.initial)
            } else {
                format!(
                    "{n} scaling events ({} → {} at {} s first)",
                    ts.events[0].from, ts.events[0].to, ts.events[0].start_s
                )
            },
        );
    }
    if want_out {
        let expected = Expected {
            name: "scale-out",
            reactions: &ts.scale_out_reactions,
            within_s: options.within_s,
            not_before_s: 0.0,
        };
        judge_reactions(ts, load, seconds, &expected, &mut push);
    }
    if want_in {
        let expected = Expected {
            name: "scale-in",
            reactions: &ts.scale_in_reactions,
            within_s: options.scale_in_within_s,
            not_before_s: options.scale_in_not_before_s,
        };
        judge_reactions(ts, load, seconds, &expected, &mut push);
    }
    if let Some(max_failed) = options.max_failed_while_scaling {
        let failed: u64 = ts.events.iter().map(|e| e.failed_nearby).sum();
        push(
            "failed-while-scaling",
            if failed <= max_failed {
                Verdict::Pass
            } else {
                Verdict::Fail
            },
            format!(
                "{failed} requests failed around {} scaling events (limit {max_failed})",
                ts.events.len()
            ),
        );
    }
}

/// One expected reaction to the load's changes: the check's name, the
/// reactions found, and when each must come (between `not_before_s` and
/// `within_s` after its load change).
struct Expected<'a> {
    name: &'static str,
    reactions: &'a [Reaction],
    within_s: f64,
    not_before_s: f64,
}

fn judge_reactions(
    ts: &TargetScaling,
    load: &[LoadChange],
    seconds: u64,
    expected: &Expected<'_>,
    push: &mut impl FnMut(&'static str, Verdict, String),
) {
    let &Expected {
        name,
        reactions,
        within_s,
        not_before_s,
    } = expected;
    let (load_word, count_word) = if name == "scale-out" {
        ("rise", "out")
    } else {
        ("fall", "in")
    };
    if reactions.is_empty() {
        push(
            name,
            Verdict::Inconclusive,
            format!(
                "the load never showed a {load_word}, so there was nothing to scale {count_word} for"
            ),
        );
        return;
    }
    for r in reactions {
        let l = &load[r.load_change];
        let what = format!(
            "load {load_word} at {} s ({:.0} → {:.0} rps)",
            l.at_s, l.from_rps, l.to_rps
        );
        match (r.event, r.reaction_s) {
            (Some(e), Some(dt)) => {
                let e = &ts.events[e];
                let dt_f = dt as f64;
                let verdict = if dt_f > within_s || dt_f < not_before_s {
                    Verdict::Fail
                } else {
                    Verdict::Pass
                };
                let limit = if not_before_s > 0.0 {
                    format!("between {} and {}", secs(not_before_s), secs(within_s))
                } else {
                    format!("within {}", secs(within_s))
                };
                push(
                    name,
                    verdict,
                    format!(
                        "{what}: scaled {count_word} {} → {} after {} (expected {limit})",
                        e.from,
                        e.to,
                        secs(dt_f)
                    ),
                );
            }
            _ => {
                let watched = seconds.saturating_sub(l.at_s) as f64;
                if watched >= within_s {
                    push(
                        name,
                        Verdict::Fail,
                        format!("{what}: no scale-{count_word} within {}", secs(within_s)),
                    );
                } else {
                    push(
                        name,
                        Verdict::Inconclusive,
                        format!(
                            "{what}: no scale-{count_word} yet, but the run ended {} after it (deadline {})",
                            secs(watched),
                            secs(within_s)
                        ),
                    );
                }
            }
        }
    }
}

// --- the AWS view of an ECS service, lined up with the run (filled by
// `lineup` with `--ecs-cluster`) ---

/// One ECS deployment of the service.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Deployment {
    /// Deployment id.
    pub id: String,
    /// `PRIMARY`, `ACTIVE` or `INACTIVE`.
    pub status: String,
    /// Tasks desired by it.
    pub desired: u64,
    /// Tasks running.
    pub running: u64,
    /// Tasks pending.
    pub pending: u64,
    /// Rollout state (`COMPLETED`, `IN_PROGRESS`, `FAILED`), if reported.
    pub rollout_state: Option<String>,
}

/// An activity of the run, lined up with what the clients saw.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LinedUpActivity {
    /// Activity id.
    pub id: String,
    /// Wall-clock start (RFC 3339).
    pub start: String,
    /// Seconds since the start of the run.
    pub at_s: u64,
    /// Desired count before: the previous activity's (unknown for the first one AWS lists).
    pub from: Option<u64>,
    /// Desired count it set (from the description).
    pub to: Option<u64>,
    /// `up` or `down`; unknown when the desired count is unreadable or unchanged.
    pub direction: Option<Direction>,
    /// AWS status (`Successful`, `Failed`, ...).
    pub status: String,
    /// AWS status message.
    pub status_message: Option<String>,
    /// Description as AWS gives it.
    pub description: String,
    /// Cause as AWS gives it.
    pub cause: String,
    /// The matching client-seen scaling event (index into the target's `events`).
    pub event: Option<usize>,
    /// Second (since start) the clients saw the change.
    pub seen_at_s: Option<u64>,
    /// Seconds from the activity to the client-seen change.
    pub lag_s: Option<u64>,
}

/// An ECS service event during the run.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LinedUpServiceEvent {
    /// Seconds since the start of the run.
    pub at_s: u64,
    /// The message.
    pub message: String,
}

/// The AWS view of the ECS service over the run (`aws` in the JSON).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AwsScaling {
    /// The report's target label of the service.
    pub target: String,
    /// Cluster.
    pub cluster: String,
    /// Service.
    pub service: String,
    /// Wall-clock start of the run (RFC 3339): time zero of every `at_s`.
    pub run_started_at: String,
    /// Desired count at the time of the query.
    pub desired: u64,
    /// Running tasks at the time of the query.
    pub running: u64,
    /// Pending tasks at the time of the query.
    pub pending: u64,
    /// Instances of the target the clients saw in the last window.
    pub clients_last_window: Option<u64>,
    /// Scaling activities that started during the run, oldest first.
    pub activities: Vec<LinedUpActivity>,
    /// Activities that started before the run (ignored).
    pub before_run: usize,
    /// Activities that started after the run (ignored).
    pub after_run: usize,
    /// ECS service events during the run, oldest first.
    pub service_events: Vec<LinedUpServiceEvent>,
    /// Deployments at the time of the query.
    pub deployments: Vec<Deployment>,
}

/// AWS activity statuses whose change of the desired count the clients should see.
pub(crate) fn takes_effect(status: &str) -> bool {
    matches!(status, "Successful" | "InProgress")
}

/// "2 → 4" (or "? → 4" when the count before is unknown).
pub(crate) fn desired_text(a: &LinedUpActivity) -> String {
    let n = |v: Option<u64>| v.map_or("?".to_owned(), |v| v.to_string());
    format!("{} → {}", n(a.from), n(a.to))
}
