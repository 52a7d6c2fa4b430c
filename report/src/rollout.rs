//! The rollout report (`weighbridge.rollout/v1`): what `rollout` did at each
//! step of a schedule and why, written beside the load report of the whole
//! run. `verify split --schedule` reads the same document back (only each
//! step's weights and window), so a schedule driven by something else
//! (CodeDeploy, a script) can be judged after the fact from a hand-written
//! file of the same shape. docs/rollout.md describes every field.

use std::collections::BTreeMap;
use std::path::Path;

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use crate::io::{ReportError, write_json_atomic};

/// The schema string of a rollout report, major version 1.
pub const ROLLOUT_SCHEMA_V1: &str = "weighbridge.rollout/v1";

/// One rollout: the schedule walked, step by step.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RolloutReport {
    /// Always [`ROLLOUT_SCHEMA_V1`].
    pub schema: String,
    /// `PASS` every step passed; `FAIL` a step failed and the weights were
    /// rolled back; `INCONCLUSIVE` a step could not be decided within its
    /// longest hold (or the rollout was interrupted).
    pub verdict: String,
    /// Why, naming the step.
    pub reason: String,
    /// The policy file the schedule came from.
    pub policy: String,
    /// Where the weights went (`haproxy runtime API …`, `listener rule arn:…`).
    pub router: String,
    /// Where the traffic was counted: `load` (loadgen inside the run) or
    /// `cloudwatch` (RequestCount per target group, no load sent).
    pub traffic: String,
    /// The load report of the whole run, when `traffic` is `load`. Its
    /// timeline's `t` is the time base of every `window.from_s` below.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub load_report: Option<String>,
    /// The target whose weight the rollout takes from.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub baseline: Option<String>,
    /// The target the rollout moves traffic to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub candidate: Option<String>,
    /// Wall-clock start and end of the rollout (RFC 3339).
    #[serde(with = "time::serde::rfc3339")]
    pub started_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339")]
    pub ended_at: OffsetDateTime,
    /// Whether the weights were rolled back at the end.
    pub rolled_back: bool,
    /// When the rollback was applied (RFC 3339).
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        with = "time::serde::rfc3339::option"
    )]
    pub rolled_back_at: Option<OffsetDateTime>,
    /// The weights the router holds at the end, as read back from it.
    #[serde(default)]
    pub final_weights: BTreeMap<String, u32>,
    /// The steps taken, in order (the rollback is not a step).
    pub steps: Vec<RolloutStepReport>,
    /// Anything a reader should know that is not a verdict.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub notes: Vec<String>,
}

/// One step: the weights asked for, what the router reported, the window
/// judged and the three verdicts.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RolloutStepReport {
    /// 0-based position in the policy's `rollout.steps`.
    pub index: usize,
    /// The step's weights (the policy's).
    pub weights: BTreeMap<String, u32>,
    /// The weights the router reported after the change.
    #[serde(default)]
    pub applied: BTreeMap<String, u32>,
    /// How long the policy holds the step, seconds.
    pub hold_s: f64,
    /// The time after the change left out of every judgement, seconds.
    pub convergence_s: f64,
    /// When the weights were changed (RFC 3339).
    #[serde(with = "time::serde::rfc3339")]
    pub changed_at: OffsetDateTime,
    /// The window judged.
    pub window: StepWindow,
    /// The step's verdict: the worst of the four below.
    pub verdict: String,
    /// Why.
    pub reason: String,
    /// Router read-back: the weights it reported against the step's.
    pub router: Check,
    /// The split of the window's traffic against the step's weights.
    pub split: SplitCheck,
    /// The canary gate (`verify compare`): the candidate against the
    /// baseline. Absent when either has weight 0 in the step.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gate: Option<GateCheck>,
    /// The window's error rate.
    pub errors: ErrorCheck,
    /// Sticky clients, when the policy has stickiness on.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stickiness: Option<StickinessCheck>,
}

/// Where a step's judged window is.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StepWindow {
    /// Wall-clock start and end (RFC 3339): the convergence window left
    /// out, the hold (and any extension) in.
    #[serde(with = "time::serde::rfc3339")]
    pub from: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339")]
    pub to: OffsetDateTime,
    /// The same window in the load report's timeline: seconds `[from_s,
    /// to_s)` since its `started_at`. Absent on CloudWatch.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub from_s: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub to_s: Option<u64>,
    /// How many times the step was held longer than its hold because it
    /// was not decided.
    #[serde(default)]
    pub extensions: u32,
}

/// A verdict and its reason.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Check {
    pub verdict: String,
    pub reason: String,
}

/// The split of one step.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SplitCheck {
    pub verdict: String,
    pub reason: String,
    /// Requests in the weighted test (rule paths left out).
    pub n: u64,
    /// Responses per target in the window (all paths).
    pub counts: BTreeMap<String, u64>,
    /// Share of the weighted test per target.
    pub shares: BTreeMap<String, f64>,
}

/// The canary gate of one step.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GateCheck {
    pub verdict: String,
    pub reason: String,
    /// Requests and failures per side.
    pub baseline_requests: u64,
    pub baseline_failed: u64,
    pub candidate_requests: u64,
    pub candidate_failed: u64,
    /// p99 latency per side, milliseconds.
    pub baseline_p99_ms: f64,
    pub candidate_p99_ms: f64,
    /// One-sided p-values: the candidate fails more; is slower.
    pub error_p_value: f64,
    pub latency_p_value: f64,
    /// The level each look of the gate is tested at (alpha spread over the
    /// looks a step can take).
    pub alpha: f64,
}

/// The error rate of one step.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ErrorCheck {
    pub verdict: String,
    pub reason: String,
    pub requests: u64,
    pub failed: u64,
    /// The limit, a fraction; absent when only reported.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_rate: Option<f64>,
}

/// Sticky clients during one step.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StickinessCheck {
    pub verdict: String,
    pub reason: String,
    /// Clients whose first response came in this step's window, per target
    /// of that first response.
    pub first_assignments: BTreeMap<String, u64>,
    /// The candidate's share of the window's requests minus its weight, in
    /// percentage points: how far stuck clients hold the split back.
    pub request_share_lag_pp: f64,
}

/// Weights as `canary=5, stable=95`.
pub fn weights_text(weights: &BTreeMap<String, u32>) -> String {
    weights
        .iter()
        .map(|(l, x)| format!("{l}={x}"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// A schedule: the part of a rollout report `verify split --schedule` needs.
/// A hand-written file needs only `schema` and, per step, `weights` and
/// `window.from` / `window.to`.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct Schedule {
    pub schema: String,
    pub steps: Vec<ScheduledStep>,
}

/// One step of a [`Schedule`].
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct ScheduledStep {
    pub weights: BTreeMap<String, u32>,
    pub window: ScheduledWindow,
}

/// The window of a [`ScheduledStep`], wall clock.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct ScheduledWindow {
    #[serde(with = "time::serde::rfc3339")]
    pub from: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339")]
    pub to: OffsetDateTime,
}

/// A schedule file that cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum ScheduleError {
    #[error("cannot read schedule {}: {source}", path.display())]
    Read {
        path: std::path::PathBuf,
        source: std::io::Error,
    },
    #[error("schedule {}: not a well-formed {ROLLOUT_SCHEMA_V1} document: {source}", path.display())]
    Json {
        path: std::path::PathBuf,
        source: serde_json::Error,
    },
    #[error("schedule {}: {reason}", path.display())]
    Invalid {
        path: std::path::PathBuf,
        reason: String,
    },
}

impl RolloutReport {
    /// Writes the report atomically (the load report's way: a reader never
    /// sees half of it), refusing destinations as
    /// [`crate::Report::check_destination`] does.
    pub fn write_atomic(&self, path: impl AsRef<Path>) -> Result<(), ReportError> {
        let path = path.as_ref();
        crate::Report::check_destination(path)?;
        write_json_atomic(path, self).map_err(|source| ReportError::Write {
            path: path.to_owned(),
            source,
        })
    }
}

impl Schedule {
    /// Reads a schedule (a rollout report, or a file of its shape) and
    /// checks it: the schema, at least one step, each window ending after
    /// it starts, windows in order without overlap, a positive weight in
    /// every step.
    pub fn read(path: impl AsRef<Path>) -> Result<Self, ScheduleError> {
        let path = path.as_ref();
        let text = std::fs::read_to_string(path).map_err(|source| ScheduleError::Read {
            path: path.to_owned(),
            source,
        })?;
        let s: Schedule = serde_json::from_str(&text).map_err(|source| ScheduleError::Json {
            path: path.to_owned(),
            source,
        })?;
        s.check().map_err(|reason| ScheduleError::Invalid {
            path: path.to_owned(),
            reason,
        })?;
        Ok(s)
    }

    fn check(&self) -> Result<(), String> {
        if self.schema != ROLLOUT_SCHEMA_V1 {
            return Err(format!(
                "schema is {:?}; a schedule is a {ROLLOUT_SCHEMA_V1} document",
                self.schema
            ));
        }
        if self.steps.is_empty() {
            return Err("steps: empty; a schedule needs at least one step".into());
        }
        for (i, step) in self.steps.iter().enumerate() {
            if step.window.to <= step.window.from {
                return Err(format!("steps[{i}].window: `to` must be after `from`"));
            }
            if step.weights.values().all(|&w| w == 0) {
                return Err(format!(
                    "steps[{i}].weights: give at least one positive weight"
                ));
            }
            if i > 0 && step.window.from < self.steps[i - 1].window.to {
                return Err(format!(
                    "steps[{i}].window starts before steps[{}] ends: windows must not overlap",
                    i - 1
                ));
            }
        }
        Ok(())
    }
}
