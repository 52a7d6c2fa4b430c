//! A rollout judged after the fact (`verify split --schedule ROLLOUT.json`):
//! each step's window of a finished load report against the weights in
//! force during that step.
//!
//! The schedule is a `weighbridge.rollout/v1` document
//! ([`weighbridge_report::rollout::Schedule`]): per step, the weights and
//! the wall-clock window `[from, to)`. The report's `started_at` is time
//! zero of its timeline; second `t` holds the requests whose intended send
//! time fell in `[t, t + 1)`. A second belongs to a step when that whole
//! second lies inside the step's window: partial seconds at the edges are
//! left out, so no request is counted for a step it may not belong to.
//!
//! Each step's seconds are summed into [`Counts`] (per target and, from
//! `timeline[].paths`, per path) and judged by the fixed-N judge
//! ([`super::judge_with`]) against [`Policy::with_weights`] of the step's
//! weights: the policy's targets, path rules and stickiness are kept, a
//! target the step does not name has weight 0 (a request on it is a leak).
//!
//! Each step is a separate test. So that a correct rollout FAILs *some*
//! step with probability at most alpha, alpha is spread over the steps
//! (Bonferroni): each is judged at `alpha / steps`.
//!
//! The verdict: FAIL if any step FAILs, else INCONCLUSIVE if any is, else
//! PASS; the reason names the first step that FAILed (or was undecided).

use std::collections::BTreeMap;

use serde::{Serialize, Serializer};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;
use weighbridge_policy::{Policy, PolicyError};
use weighbridge_report::Report;
use weighbridge_report::rollout::{Schedule, ScheduleError};

use super::{SplitOptions, SplitReport, Unit, judge_with};
use crate::counts::Counts;
use crate::error::{EXIT_INVALID_INPUT, EXIT_NO_INPUT, InputError};
use crate::verdict::Verdict;

const NANOS_PER_S: i128 = 1_000_000_000;

/// A schedule that cannot be judged against the report. Never a verdict.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ScheduleInputError {
    /// The policy, the options or the reports (as for `verify split`).
    #[error(transparent)]
    Input(#[from] InputError),
    /// The schedule file cannot be read, or is not a valid schedule.
    #[error(transparent)]
    Schedule(#[from] ScheduleError),
    /// A step's weights do not fit the policy (an unknown label, a weight
    /// out of range).
    #[error("schedule step {step} (steps[{index}]): {source}")]
    Weights {
        /// 1-based step number.
        step: usize,
        /// 0-based index in `steps`.
        index: usize,
        /// What is wrong.
        source: PolicyError,
    },
    /// A step's window has no second in common with the report's timeline.
    #[error(transparent)]
    Outside(Box<StepOutside>),
    /// A step's window holds no whole second of the timeline.
    #[error(
        "schedule step {step} (steps[{index}], {name}): its window {from} – {to} holds no whole second of the report's timeline (seconds start at {start}); a step is judged on the whole seconds inside its window"
    )]
    NoWholeSecond {
        /// 1-based step number.
        step: usize,
        /// 0-based index in `steps`.
        index: usize,
        /// The step's weights as shares.
        name: String,
        /// The step's window, RFC 3339.
        from: String,
        /// The step's window, RFC 3339.
        to: String,
        /// The report's `started_at`, RFC 3339.
        start: String,
    },
    /// Rule-path traffic in a report whose timeline has no per-path counts.
    #[error(
        "--schedule cannot judge this report: {on_rule_paths} requests are on paths with an exclusive rule, and its timeline has no per-path counts (timeline[].paths, which older loadgens do not write), so no step's rule-path requests can be told apart; judge a newer report, or the whole report without --schedule"
    )]
    NoPathsPerSecond {
        /// Requests on rule paths in the whole report.
        on_rule_paths: u64,
    },
    /// Stickiness: a step's requests repeat earlier steps' assignments.
    #[error(
        "--schedule cannot judge this rollout: {why}, and a sticky client stays on the target it got in an earlier step, so a step's requests do not follow that step's weights; judge the whole report without --schedule"
    )]
    Sticky {
        /// Where stickiness comes from.
        why: &'static str,
    },
}

/// A step whose window has no second in common with the report's timeline.
#[derive(Debug, thiserror::Error)]
#[error(
    "schedule step {step} (steps[{index}], {name}): its window {from} – {to} (seconds {from_s} to {to_s} of the report) lies outside the report's timeline, {start} – {end} (seconds {lo} to {hi}); is this the report of that rollout?"
)]
pub struct StepOutside {
    /// 1-based step number.
    pub step: usize,
    /// 0-based index in `steps`.
    pub index: usize,
    /// The step's weights as shares.
    pub name: String,
    /// The step's window, RFC 3339.
    pub from: String,
    /// The step's window, RFC 3339.
    pub to: String,
    /// The window's whole seconds on the report's timeline.
    pub from_s: i128,
    /// The window's whole seconds on the report's timeline.
    pub to_s: i128,
    /// The report's timeline, RFC 3339.
    pub start: String,
    /// The report's timeline, RFC 3339.
    pub end: String,
    /// The report's timeline, seconds since `started_at`.
    pub lo: u64,
    /// The report's timeline, seconds since `started_at`.
    pub hi: u64,
}

impl ScheduleInputError {
    /// The process exit code: 66 for a file that cannot be read, 65 for
    /// anything else (as [`InputError::exit_code`]).
    pub fn exit_code(&self) -> u8 {
        match self {
            ScheduleInputError::Input(e) => e.exit_code(),
            ScheduleInputError::Schedule(ScheduleError::Read { .. }) => EXIT_NO_INPUT,
            _ => EXIT_INVALID_INPUT,
        }
    }
}

/// Where a step's window lies on the report's timeline.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct StepSpan {
    /// Wall-clock start of the window, as the schedule gives it.
    #[serde(serialize_with = "rfc3339")]
    pub from: OffsetDateTime,
    /// Wall-clock end of the window (exclusive).
    #[serde(serialize_with = "rfc3339")]
    pub to: OffsetDateTime,
    /// The whole seconds of the timeline inside the window, `[from_s,
    /// to_s)` since the report's `started_at` (negative before it).
    pub from_s: i64,
    /// See `from_s`.
    pub to_s: i64,
    /// The part of those the report covers: the seconds judged.
    pub judged_from_s: u64,
    /// See `judged_from_s`.
    pub judged_to_s: u64,
    /// Seconds judged, `judged_to_s − judged_from_s`.
    pub seconds: u64,
    /// Whether the report covers only part of the window.
    pub partial: bool,
}

/// One step's verdict.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct StepVerdict {
    /// 1-based step number.
    pub step: usize,
    /// 0-based index in the schedule's `steps`.
    pub index: usize,
    /// The step's positive weights as shares, in policy order
    /// (`stable 75 %, canary 25 %`).
    pub name: String,
    /// The step's weights as the schedule gives them.
    pub weights: BTreeMap<String, u32>,
    /// Its window.
    pub window: StepSpan,
    /// The step's verdict.
    pub verdict: Verdict,
    /// Why.
    pub reason: String,
    /// Requests in the step's weighted test.
    pub n: u64,
    /// Observed share of each positive-weight target in the weighted test.
    pub shares: BTreeMap<String, f64>,
    /// The fixed-N verdict on the step's counts, in full (its `alpha` is
    /// the per-step level).
    pub split: SplitReport,
}

/// The verdict on a whole schedule.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ScheduleReport {
    /// FAIL if any step FAILed, else INCONCLUSIVE if any was, else PASS.
    pub verdict: Verdict,
    /// Why, naming the first step that decided it.
    pub reason: String,
    /// The run's alpha (`--alpha`): the bound on a false FAIL of any step.
    pub alpha: f64,
    /// The level of each step's test, `alpha / steps` (Bonferroni).
    pub step_alpha: f64,
    /// The report's `started_at`: second 0 of its timeline.
    #[serde(serialize_with = "rfc3339")]
    pub report_started_at: OffsetDateTime,
    /// The report's timeline, `[timeline_from_s, timeline_to_s)`.
    pub timeline_from_s: u64,
    /// See `timeline_from_s`.
    pub timeline_to_s: u64,
    /// Requests in seconds of no step's window (before the first, between
    /// steps, after the last): not judged.
    pub unjudged: u64,
    /// One entry per step, in schedule order.
    pub steps: Vec<StepVerdict>,
    /// Things worth knowing that do not change the verdict.
    pub notes: Vec<String>,
}

fn rfc3339<S: Serializer>(t: &OffsetDateTime, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&wall(*t))
}

fn wall(t: OffsetDateTime) -> String {
    t.format(&Rfc3339).unwrap_or_else(|_| t.to_string())
}

/// A share as a percentage without trailing zeros: `25 %`, `33.33 %`, `0.1 %`.
fn share_text(share: f64) -> String {
    let text = format!("{:.2}", 100.0 * share);
    let text = text.trim_end_matches('0').trim_end_matches('.');
    format!("{text} %")
}

/// A policy's positive weights as shares, in policy order.
fn describe(policy: &Policy) -> String {
    policy
        .expected_shares()
        .into_iter()
        .filter(|(_, share)| *share > 0.0)
        .map(|(label, share)| format!("{label} {}", share_text(share)))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Seconds from `start` to `at`: the whole seconds `t` with `[t, t + 1)`
/// starting at or after `at` (`ceil`) or ending at or before it (`floor`).
fn seconds_since(start: OffsetDateTime, at: OffsetDateTime) -> (i128, i128) {
    let nanos = (at - start).whole_nanoseconds();
    let floor = nanos.div_euclid(NANOS_PER_S);
    let ceil = -(-nanos).div_euclid(NANOS_PER_S);
    (ceil, floor)
}

fn clamp_u64(x: i128) -> u64 {
    u64::try_from(x.max(0)).unwrap_or(u64::MAX)
}

fn clamp_i64(x: i128) -> i64 {
    i64::try_from(x).unwrap_or(if x < 0 { i64::MIN } else { i64::MAX })
}

/// Judges each step of `schedule` on its window of `report` (merged and
/// validated), against `policy` with the step's weights, at `options.alpha`
/// spread over the steps.
pub fn judge_schedule(
    policy: &Policy,
    report: &Report,
    schedule: &Schedule,
    options: &SplitOptions,
) -> Result<ScheduleReport, ScheduleInputError> {
    options.validate()?;
    if schedule.steps.is_empty() {
        return Err(InputError::NothingToJudge("the schedule has no steps".to_owned()).into());
    }
    if policy.stickiness().enabled {
        return Err(ScheduleInputError::Sticky {
            why: "the policy enables stickiness",
        });
    }

    // Each step's policy first: a wrong label is an error whatever the report.
    let mut policies = Vec::with_capacity(schedule.steps.len());
    for (index, step) in schedule.steps.iter().enumerate() {
        let weights: Vec<(&str, u64)> = step
            .weights
            .iter()
            .map(|(label, &w)| (label.as_str(), u64::from(w)))
            .collect();
        let p = policy
            .with_weights(&weights)
            .map_err(|source| ScheduleInputError::Weights {
                step: index + 1,
                index,
                source,
            })?;
        policies.push(p);
    }

    // Rule paths need each second's paths, as the sequential replay does.
    if let Some(on_rule_paths) = crate::reports::rule_paths_without_seconds(policy, report) {
        return Err(ScheduleInputError::NoPathsPerSecond { on_rule_paths });
    }

    let lo = report.timeline.iter().map(|s| s.t).min().unwrap_or(0);
    let hi = report.timeline.iter().map(|s| s.t + 1).max().unwrap_or(0);
    let start = report.started_at;
    let k = schedule.steps.len();
    let step_options = SplitOptions {
        alpha: options.alpha / k as f64,
        ..*options
    };

    let mut steps = Vec::with_capacity(k);
    let mut notes = Vec::new();
    let mut judged_seconds: Vec<(u64, u64)> = Vec::with_capacity(k);
    for (index, (step, step_policy)) in schedule.steps.iter().zip(&policies).enumerate() {
        let name = describe(step_policy);
        let (from_s, _) = seconds_since(start, step.window.from);
        let (_, to_s) = seconds_since(start, step.window.to);
        if to_s <= from_s {
            return Err(ScheduleInputError::NoWholeSecond {
                step: index + 1,
                index,
                name,
                from: wall(step.window.from),
                to: wall(step.window.to),
                start: wall(start),
            });
        }
        let judged_from = from_s.max(i128::from(lo));
        let judged_to = to_s.min(i128::from(hi));
        if judged_to <= judged_from {
            return Err(ScheduleInputError::Outside(Box::new(StepOutside {
                step: index + 1,
                index,
                name,
                from: wall(step.window.from),
                to: wall(step.window.to),
                from_s,
                to_s,
                start: wall(start + time::Duration::seconds(i64::try_from(lo).unwrap_or(0))),
                end: wall(start + time::Duration::seconds(i64::try_from(hi).unwrap_or(0))),
                lo,
                hi,
            })));
        }
        let (judged_from, judged_to) = (clamp_u64(judged_from), clamp_u64(judged_to));
        judged_seconds.push((judged_from, judged_to));

        let mut counts = Counts::new();
        for second in report
            .timeline
            .iter()
            .filter(|s| (judged_from..judged_to).contains(&s.t))
        {
            for (label, &count) in &second.targets {
                counts.add(label, count);
            }
            for (path, by_target) in &second.paths {
                for (label, &count) in by_target {
                    counts.add_path(path, label, count);
                }
            }
        }
        let mut split = judge_with(step_policy, &counts, &step_options, Unit::Requests)?;
        split.source = "reports";
        let partial = i128::from(judged_from) > from_s || i128::from(judged_to) < to_s;
        if partial {
            let note = format!(
                "step {} ({name}): the report covers only seconds {judged_from} to {judged_to} \
                 of its window's {from_s} to {to_s}; the covered {} s were judged",
                index + 1,
                judged_to - judged_from
            );
            split.notes.push(note.clone());
            notes.push(note);
        }
        let shares = split
            .targets
            .iter()
            .filter(|t| t.weight.is_some_and(|w| w > 0))
            .map(|t| (t.label.clone(), t.share))
            .collect();
        steps.push(StepVerdict {
            step: index + 1,
            index,
            name,
            weights: step.weights.clone(),
            window: StepSpan {
                from: step.window.from,
                to: step.window.to,
                from_s: clamp_i64(from_s),
                to_s: clamp_i64(to_s),
                judged_from_s: judged_from,
                judged_to_s: judged_to,
                seconds: judged_to - judged_from,
                partial,
            },
            verdict: split.verdict,
            reason: split.reason.clone(),
            n: split.n,
            shares,
            split,
        });
    }

    let unjudged: u64 = report
        .timeline
        .iter()
        .filter(|s| {
            !judged_seconds
                .iter()
                .any(|(from, to)| (*from..*to).contains(&s.t))
        })
        .flat_map(|s| s.targets.values())
        .sum();

    let first = |v: Verdict| steps.iter().find(|s| s.verdict == v);
    let (verdict, reason) = if let Some(s) = first(Verdict::Fail) {
        (
            Verdict::Fail,
            format!("step {} ({}): {}", s.step, s.name, s.reason),
        )
    } else if let Some(s) = first(Verdict::Inconclusive) {
        (
            Verdict::Inconclusive,
            format!("step {} ({}): {}", s.step, s.name, s.reason),
        )
    } else {
        (
            Verdict::Pass,
            format!(
                "every step's split is within tolerance of the weights in force during it ({k} \
                 step{} PASS)",
                if k == 1 { "" } else { "s" }
            ),
        )
    };

    notes.insert(
        0,
        format!(
            "each step is a separate test: alpha {} is spread over the {k} step{} (Bonferroni), \
             each judged at alpha {:.3e}, so a correct rollout FAILs some step with probability \
             at most {}",
            options.alpha,
            if k == 1 { "" } else { "s" },
            step_options.alpha,
            options.alpha
        ),
    );
    notes.insert(
        1,
        "a step counts the timeline's whole seconds inside its window (requests by intended send \
         time); partial seconds at the window's edges are left out"
            .to_owned(),
    );
    if unjudged > 0 {
        notes.push(format!(
            "{unjudged} responses fell in seconds outside every step's window (before the first \
             step, between steps, after the last) and were not judged"
        ));
    }
    if report.interrupted {
        notes.push("the load run was interrupted; the counts cover the part that ran".to_owned());
    }

    Ok(ScheduleReport {
        verdict,
        reason,
        alpha: options.alpha,
        step_alpha: step_options.alpha,
        report_started_at: start,
        timeline_from_s: lo,
        timeline_to_s: hi,
        unjudged,
        steps,
        notes,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    #[test]
    fn whole_seconds_inside_a_window() {
        let start = datetime!(2025-03-01 12:00:00.400 UTC);
        // [12:00:10, 12:00:20) holds seconds 10 (from 12:00:10.4) to 18
        // (ends 12:00:19.4); second 9 starts before the window.
        let (from, _) = seconds_since(start, datetime!(2025-03-01 12:00:10 UTC));
        let (_, to) = seconds_since(start, datetime!(2025-03-01 12:00:20 UTC));
        assert_eq!((from, to), (10, 19));
        let (from, floor) = seconds_since(start, datetime!(2025-03-01 12:00:00 UTC));
        assert_eq!((from, floor), (0, -1));
        let (from, floor) = seconds_since(start, datetime!(2025-03-01 12:00:05.400 UTC));
        assert_eq!((from, floor), (5, 5));
    }

    #[test]
    fn shares_are_written_without_trailing_zeros() {
        assert_eq!(share_text(0.25), "25 %");
        assert_eq!(share_text(1.0 / 3.0), "33.33 %");
        assert_eq!(share_text(0.001), "0.1 %");
    }
}
