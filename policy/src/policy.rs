//! The validated policy and how it is read.

use std::path::Path;
use std::str::FromStr;
use std::time::Duration;

use serde::Serialize;

use crate::error::PolicyError;
use crate::paths::{self, PathRule};
use crate::raw::{OrderedMap, RawPolicy, RawStep};

/// The schema string every policy file carries.
pub const SCHEMA: &str = "weighbridge.policy/v1";
/// Largest weight an ALB forward action accepts.
pub const MAX_WEIGHT: u32 = 999;
/// Most target groups one ALB forward action accepts.
pub const MAX_TARGETS: usize = 5;
/// Longest target label.
pub const MAX_LABEL_LEN: usize = 32;
/// Shortest stickiness duration ALB accepts, in seconds.
pub const MIN_STICKINESS_SECONDS: u64 = 1;
/// Longest stickiness duration ALB accepts, in seconds (7 days).
pub const MAX_STICKINESS_SECONDS: u64 = 604_800;
/// Stickiness duration when the file gives none (ALB's default, 1 day).
pub const DEFAULT_STICKINESS_SECONDS: u64 = 86_400;

/// One target and its weight.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Target {
    /// The label the backend reports in `x-served-by`.
    pub label: String,
    /// The ALB weight, 0..=999.
    pub weight: u32,
}

/// Target-group stickiness of the forward action.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Stickiness {
    /// Whether a client stays on the target group it first got.
    pub enabled: bool,
    /// How long it stays, 1..=604800 seconds.
    pub duration_seconds: u64,
}

impl Default for Stickiness {
    fn default() -> Self {
        Stickiness {
            enabled: false,
            duration_seconds: DEFAULT_STICKINESS_SECONDS,
        }
    }
}

/// One step of a rollout schedule: these weights, held this long.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RolloutStep {
    /// A weight for every target of the policy, in the policy's target
    /// order (targets the step leaves out get 0).
    pub weights: Vec<Target>,
    /// How long the step is held before the next one.
    #[serde(with = "secs")]
    pub hold: Duration,
}

mod secs {
    use std::time::Duration;
    pub(super) fn serialize<S: serde::Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_u64(d.as_secs())
    }
}

/// A validated traffic policy: the single source of truth for the split.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Policy {
    targets: Vec<Target>,
    path_rules: Vec<PathRule>,
    stickiness: Stickiness,
    base_path: Option<String>,
    rollout: Vec<RolloutStep>,
}

impl FromStr for Policy {
    type Err = PolicyError;

    /// Parses and validates a policy document.
    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let raw: RawPolicy = serde_json::from_str(text).map_err(PolicyError::Syntax)?;
        Policy::from_raw(raw)
    }
}

impl Policy {
    /// Reads and validates a policy file; errors name the file.
    pub fn load(path: impl AsRef<Path>) -> Result<Policy, PolicyError> {
        let path = path.as_ref();
        let text = std::fs::read_to_string(path).map_err(|source| PolicyError::Read {
            path: path.to_path_buf(),
            source,
        })?;
        text.parse().map_err(|error| PolicyError::InFile {
            path: path.to_path_buf(),
            error: Box::new(error),
        })
    }

    /// A policy of weights only (no path rules, stickiness off), validated
    /// like the `targets` of a file. This is what `--weights ecs=10,lambda=90`
    /// means.
    pub fn from_weights<S: AsRef<str>>(weights: &[(S, u64)]) -> Result<Policy, PolicyError> {
        let map = OrderedMap(
            weights
                .iter()
                .map(|(label, w)| (label.as_ref().to_owned(), serde_json::Value::from(*w)))
                .collect(),
        );
        let targets = validate_weights(&map, "weights")?;
        Ok(Policy {
            targets,
            path_rules: Vec::new(),
            stickiness: Stickiness::default(),
            base_path: None,
            rollout: Vec::new(),
        })
    }

    /// This policy with other weights for its targets (path rules,
    /// stickiness and base path kept; the schedule dropped): what the router
    /// holds during one rollout step, or a schedule's step. `weights` gives
    /// a weight to any of the policy's labels (0–999, at least one positive
    /// overall); labels left out get 0; a label the policy does not have is
    /// an error naming it.
    pub fn with_weights<S: AsRef<str>>(&self, weights: &[(S, u64)]) -> Result<Policy, PolicyError> {
        let map = OrderedMap(
            weights
                .iter()
                .map(|(label, w)| (label.as_ref().to_owned(), serde_json::Value::from(*w)))
                .collect(),
        );
        let targets = weights_for(&self.targets, &map, "weights")?;
        Ok(Policy {
            targets,
            path_rules: self.path_rules.clone(),
            stickiness: self.stickiness,
            base_path: self.base_path.clone(),
            rollout: Vec::new(),
        })
    }

    /// The policy in force during `step` of its schedule ([`Policy::with_weights`]).
    pub fn at_step(&self, step: &RolloutStep) -> Policy {
        Policy {
            targets: step.weights.clone(),
            path_rules: self.path_rules.clone(),
            stickiness: self.stickiness,
            base_path: self.base_path.clone(),
            rollout: Vec::new(),
        }
    }

    fn from_raw(raw: RawPolicy) -> Result<Policy, PolicyError> {
        match raw.schema.as_deref() {
            None => return Err(PolicyError::MissingSchema { expected: SCHEMA }),
            Some(SCHEMA) => {}
            Some(other) => {
                return Err(PolicyError::WrongSchema {
                    found: other.to_owned(),
                    expected: SCHEMA,
                });
            }
        }
        let targets = raw
            .targets
            .ok_or(PolicyError::MissingField { field: "targets" })?;
        let targets = validate_weights(&targets, "targets")?;

        let mut path_rules: Vec<PathRule> = Vec::with_capacity(raw.path_rules.len());
        for (i, rule) in raw.path_rules.into_iter().enumerate() {
            let at = format!("path_rules[{i}]");
            paths::validate_rule_path(&rule.path, &format!("{at}.path"))?;
            if !targets.iter().any(|t| t.label == rule.target) {
                return Err(PolicyError::UnknownTarget {
                    at: format!("{at}.target"),
                    target: rule.target,
                    known: known_labels(&targets),
                });
            }
            if let Some(first) = path_rules.iter().position(|r| r.path == rule.path) {
                return Err(PolicyError::DuplicatePath {
                    at: format!("{at}.path"),
                    path: rule.path,
                    first,
                });
            }
            if let Some((by, earlier)) = path_rules
                .iter()
                .enumerate()
                .find(|(_, r)| r.matches(rule.path.trim_end_matches('/')))
            {
                return Err(PolicyError::ShadowedPath {
                    at: format!("{at}.path"),
                    path: rule.path,
                    by,
                    by_path: earlier.path.clone(),
                });
            }
            path_rules.push(PathRule {
                path: rule.path,
                target: rule.target,
            });
        }

        let stickiness = match raw.stickiness {
            None => Stickiness::default(),
            Some(s) => {
                let duration_seconds = s.duration_seconds.unwrap_or(DEFAULT_STICKINESS_SECONDS);
                if !(MIN_STICKINESS_SECONDS..=MAX_STICKINESS_SECONDS).contains(&duration_seconds) {
                    return Err(PolicyError::StickinessDuration {
                        value: duration_seconds,
                        min: MIN_STICKINESS_SECONDS,
                        max: MAX_STICKINESS_SECONDS,
                    });
                }
                Stickiness {
                    enabled: s.enabled,
                    duration_seconds,
                }
            }
        };

        let base_path = match raw.base_path {
            None => None,
            Some(b) => paths::normalize_base_path(&b)?,
        };

        let rollout = match raw.rollout {
            None => Vec::new(),
            Some(r) if r.steps.is_empty() => return Err(PolicyError::EmptyRollout),
            Some(r) => r
                .steps
                .iter()
                .enumerate()
                .map(|(i, step)| validate_step(step, i, &targets))
                .collect::<Result<_, _>>()?,
        };

        Ok(Policy {
            targets,
            path_rules,
            stickiness,
            base_path,
            rollout,
        })
    }

    /// The targets, in file order.
    pub fn targets(&self) -> &[Target] {
        &self.targets
    }

    /// The weight of a target, `None` for a label the policy does not know.
    pub fn weight(&self, label: &str) -> Option<u32> {
        self.targets
            .iter()
            .find(|t| t.label == label)
            .map(|t| t.weight)
    }

    /// Sum of all weights (positive by validation).
    pub fn total_weight(&self) -> u64 {
        self.targets.iter().map(|t| u64::from(t.weight)).sum()
    }

    /// Every target's expected share of the weighted (non-rule) traffic,
    /// `weight / total weight`, in file order; zero-weight targets get 0.0.
    /// The shares add up to 1.
    pub fn expected_shares(&self) -> Vec<(&str, f64)> {
        let total = self.total_weight() as f64;
        self.targets
            .iter()
            .map(|t| (t.label.as_str(), f64::from(t.weight) / total))
            .collect()
    }

    /// The exclusive path rules, in priority order.
    pub fn path_rules(&self) -> &[PathRule] {
        &self.path_rules
    }

    /// The first rule (in priority order) matching a request path, after the
    /// base path is removed. See [`crate::paths`] for the matching rules.
    pub fn rule_for_path(&self, request_path: &str) -> Option<&PathRule> {
        let relative = paths::strip_base(request_path, self.base_path.as_deref())?;
        self.path_rules.iter().find(|r| r.matches(relative))
    }

    /// Stickiness of the forward action.
    pub fn stickiness(&self) -> Stickiness {
        self.stickiness
    }

    /// The base path, without slashes at either end (`"dev"`, `"api/v2"`),
    /// `None` when requests are served at the root.
    pub fn base_path(&self) -> Option<&str> {
        self.base_path.as_deref()
    }

    /// The rollout schedule; empty when the policy has none.
    pub fn rollout(&self) -> &[RolloutStep] {
        &self.rollout
    }
}

fn known_labels(targets: &[Target]) -> String {
    targets
        .iter()
        .map(|t| t.label.as_str())
        .collect::<Vec<_>>()
        .join(", ")
}

fn validate_label(label: &str, at: &str) -> Result<(), PolicyError> {
    let ok = !label.is_empty()
        && label.len() <= MAX_LABEL_LEN
        && label
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'));
    if ok {
        Ok(())
    } else {
        Err(PolicyError::InvalidLabel {
            at: at.to_owned(),
            label: label.to_owned(),
            max: MAX_LABEL_LEN,
        })
    }
}

fn validate_weight(value: &serde_json::Value, at: &str) -> Result<u32, PolicyError> {
    let Some(w) = value.as_u64() else {
        return Err(PolicyError::WeightNotInteger {
            at: at.to_owned(),
            value: value.to_string(),
            max: MAX_WEIGHT,
        });
    };
    match u32::try_from(w) {
        Ok(w) if w <= MAX_WEIGHT => Ok(w),
        _ => Err(PolicyError::WeightOutOfRange {
            at: at.to_owned(),
            value: w,
            max: MAX_WEIGHT,
        }),
    }
}

/// Checks labels, weights, duplicates and limits of a label → weight object;
/// at least one weight must be positive.
fn validate_weights(map: &OrderedMap, at: &str) -> Result<Vec<Target>, PolicyError> {
    if map.0.is_empty() {
        return Err(PolicyError::NoTargets { at: at.to_owned() });
    }
    if map.0.len() > MAX_TARGETS {
        return Err(PolicyError::TooManyTargets {
            at: at.to_owned(),
            count: map.0.len(),
            max: MAX_TARGETS,
        });
    }
    let mut targets: Vec<Target> = Vec::with_capacity(map.0.len());
    for (label, value) in &map.0 {
        let here = format!("{at}.{label}");
        validate_label(label, &here)?;
        if targets.iter().any(|t| &t.label == label) {
            return Err(PolicyError::DuplicateKey {
                at: at.to_owned(),
                key: label.clone(),
            });
        }
        let weight = validate_weight(value, &here)?;
        targets.push(Target {
            label: label.clone(),
            weight,
        });
    }
    if targets.iter().all(|t| t.weight == 0) {
        return Err(PolicyError::AllWeightsZero { at: at.to_owned() });
    }
    Ok(targets)
}

/// Weights given for some of `targets` (at `at` in the document), as a
/// weight for every target in their order: labels left out get 0, a label
/// `targets` does not have is an error naming it.
fn weights_for(
    targets: &[Target],
    given: &OrderedMap,
    at: &str,
) -> Result<Vec<Target>, PolicyError> {
    let given = validate_weights(given, at)?;
    if let Some(unknown) = given
        .iter()
        .find(|g| !targets.iter().any(|t| t.label == g.label))
    {
        return Err(PolicyError::UnknownTarget {
            at: format!("{at}.{}", unknown.label),
            target: unknown.label.clone(),
            known: known_labels(targets),
        });
    }
    Ok(targets
        .iter()
        .map(|t| Target {
            label: t.label.clone(),
            weight: given
                .iter()
                .find(|g| g.label == t.label)
                .map_or(0, |g| g.weight),
        })
        .collect())
}

fn validate_step(step: &RawStep, i: usize, targets: &[Target]) -> Result<RolloutStep, PolicyError> {
    let at = format!("rollout.steps[{i}]");
    let weights = weights_for(targets, &step.weights, &format!("{at}.weights"))?;
    let hold_at = format!("{at}.hold");
    let hold = match &step.hold {
        serde_json::Value::String(s) => {
            humantime::parse_duration(s).map_err(|e| PolicyError::InvalidHold {
                at: hold_at.clone(),
                value: format!("{s:?}"),
                reason: e.to_string(),
            })?
        }
        serde_json::Value::Number(n) if n.as_u64().is_some() => {
            Duration::from_secs(n.as_u64().unwrap_or_default())
        }
        other => {
            return Err(PolicyError::InvalidHold {
                at: hold_at,
                value: other.to_string(),
                reason: "expected a duration such as \"5m\" or a whole number of seconds"
                    .to_owned(),
            });
        }
    };
    if hold.is_zero() {
        return Err(PolicyError::InvalidHold {
            at: hold_at,
            value: step.hold.to_string(),
            reason: "a step must be held for a positive time".to_owned(),
        });
    }
    Ok(RolloutStep { weights, hold })
}
