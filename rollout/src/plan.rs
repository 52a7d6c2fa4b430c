//! The plan of a rollout: the policy's steps, which target is the baseline
//! and which the candidate, the weights to roll back to, and how each step
//! is judged. Everything here is checked before any weight is changed.

use std::time::Duration;

use verify::InputError;
use weighbridge_policy::{Policy, RolloutStep};

/// What the rollout leaves the router with when a step is INCONCLUSIVE at
/// its longest hold.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum OnInconclusive {
    /// Back to the rollback weights (the safe default).
    Rollback,
    /// Leave the weights of the undecided step in place.
    Hold,
}

/// A checked rollout plan.
#[derive(Debug, Clone)]
pub struct Plan {
    pub policy: Policy,
    pub steps: Vec<RolloutStep>,
    pub baseline: String,
    pub candidate: String,
    /// Every label of the policy, with the weight a rollback sets.
    pub rollback: Vec<(String, u32)>,
    /// Time after each change left out of every judgement.
    pub convergence: Duration,
    /// Longest a step is held when it is not decided at its hold.
    pub max_hold: Option<Duration>,
    pub on_inconclusive: OnInconclusive,
}

/// A step's weights as `(label, weight)` pairs, in the policy's order.
pub fn weights_of(step: &RolloutStep) -> Vec<(String, u32)> {
    step.weights
        .iter()
        .map(|t| (t.label.clone(), t.weight))
        .collect()
}

fn bad(list: &str, reason: impl Into<String>) -> InputError {
    InputError::BadList {
        list: list.to_owned(),
        reason: reason.into(),
    }
}

impl Plan {
    /// Checks the policy's schedule and the labels given, and fills in the
    /// defaults: with two targets, the baseline is the one the first step
    /// weighs most and the candidate the other; the rollback weights are
    /// the first step's.
    pub fn new(
        policy: Policy,
        baseline: Option<&str>,
        candidate: Option<&str>,
        rollback: Option<&[(String, u64)]>,
        convergence: Duration,
        max_hold: Option<Duration>,
        on_inconclusive: OnInconclusive,
    ) -> Result<Plan, InputError> {
        let steps = policy.rollout().to_vec();
        let Some(first) = steps.first() else {
            return Err(bad(
                "rollout.steps",
                "the policy has no rollout schedule: add `rollout.steps` (see docs/policy.md)",
            ));
        };
        let labels: Vec<&str> = policy.targets().iter().map(|t| t.label.as_str()).collect();
        let known = |l: &str, flag: &str| -> Result<String, InputError> {
            if labels.contains(&l) {
                Ok(l.to_owned())
            } else {
                Err(bad(
                    l,
                    format!(
                        "{flag}: not a target of the policy (it has {})",
                        labels.join(", ")
                    ),
                ))
            }
        };
        let by_first_weight = |pick_max: bool| {
            let mut ts: Vec<_> = first.weights.iter().collect();
            ts.sort_by_key(|t| t.weight);
            if pick_max { ts.last() } else { ts.first() }.map(|t| t.label.clone())
        };
        let (baseline, candidate) = match (baseline, candidate) {
            (Some(b), Some(c)) => (known(b, "--baseline")?, known(c, "--candidate")?),
            _ if labels.len() != 2 => {
                return Err(bad(
                    &labels.join(","),
                    "the policy has more than two targets: name them with --baseline and --candidate",
                ));
            }
            (Some(b), None) => {
                let b = known(b, "--baseline")?;
                let c = labels
                    .iter()
                    .find(|l| **l != b)
                    .map(|l| (*l).to_owned())
                    .unwrap_or_default();
                (b, c)
            }
            (None, Some(c)) => {
                let c = known(c, "--candidate")?;
                let b = labels
                    .iter()
                    .find(|l| **l != c)
                    .map(|l| (*l).to_owned())
                    .unwrap_or_default();
                (b, c)
            }
            (None, None) => (
                by_first_weight(true).unwrap_or_default(),
                by_first_weight(false).unwrap_or_default(),
            ),
        };
        if baseline == candidate {
            return Err(bad(
                &baseline,
                "the baseline and the candidate are the same target",
            ));
        }
        let rollback = match rollback {
            None => weights_of(first),
            Some(given) => policy
                .with_weights(given)
                .map_err(InputError::Policy)?
                .targets()
                .iter()
                .map(|t| (t.label.clone(), t.weight))
                .collect(),
        };
        if let Some(m) = max_hold
            && m.is_zero()
        {
            return Err(InputError::BadOption {
                name: "max-hold",
                value: 0.0,
                reason: "must be a positive duration",
            });
        }
        Ok(Plan {
            policy,
            steps,
            baseline,
            candidate,
            rollback,
            convergence,
            max_hold,
            on_inconclusive,
        })
    }

    /// The longest step `i` can be held: `--max-hold`, or twice its hold,
    /// and never less than its hold.
    pub fn longest_hold(&self, i: usize) -> Duration {
        let hold = self.steps[i].hold;
        self.max_hold.unwrap_or(hold * 2).max(hold)
    }

    /// The most looks the canary gate takes in step `i`: at the hold, then
    /// after every further hold until the longest.
    pub fn gate_looks(&self, i: usize) -> u32 {
        let hold = self.steps[i].hold.as_secs_f64().max(1.0);
        let extra = (self.longest_hold(i).as_secs_f64() - hold).max(0.0);
        1 + (extra / hold).ceil() as u32
    }

    /// The longest the whole rollout can take: every step held its longest,
    /// after its convergence.
    pub fn longest(&self) -> Duration {
        (0..self.steps.len())
            .map(|i| self.convergence + self.longest_hold(i))
            .sum()
    }

    /// The policy in force during step `i`.
    pub fn step_policy(&self, i: usize) -> Policy {
        self.policy.at_step(&self.steps[i])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn policy(steps: &str) -> Policy {
        format!(
            r#"{{"schema":"weighbridge.policy/v1","targets":{{"stable":100,"canary":0}},
            "rollout":{{"steps":{steps}}}}}"#
        )
        .parse()
        .expect("policy")
    }

    #[test]
    fn two_targets_need_no_names() {
        let p = policy(
            r#"[{"weights":{"stable":95,"canary":5},"hold":"10s"},{"weights":{"canary":100},"hold":"10s"}]"#,
        );
        let plan = Plan::new(
            p,
            None,
            None,
            None,
            Duration::from_secs(1),
            None,
            OnInconclusive::Rollback,
        )
        .expect("plan");
        assert_eq!(
            (plan.baseline.as_str(), plan.candidate.as_str()),
            ("stable", "canary")
        );
        assert_eq!(
            plan.rollback,
            vec![("stable".to_owned(), 95), ("canary".to_owned(), 5)]
        );
        assert_eq!(plan.longest_hold(0), Duration::from_secs(20));
        assert_eq!(plan.gate_looks(0), 2);
        assert_eq!(plan.longest(), Duration::from_secs(42));
    }

    #[test]
    fn bad_names_are_refused_before_anything() {
        let p = policy(r#"[{"weights":{"stable":95,"canary":5},"hold":"10s"}]"#);
        let plan = |b: Option<&str>, c: Option<&str>, r: Option<&[(String, u64)]>| {
            Plan::new(
                p.clone(),
                b,
                c,
                r,
                Duration::from_secs(1),
                None,
                OnInconclusive::Rollback,
            )
        };
        let e = plan(Some("blue"), None, None).expect_err("unknown");
        assert!(e.to_string().contains("blue"), "{e}");
        assert!(plan(Some("stable"), Some("stable"), None).is_err());
        let e = plan(None, None, Some(&[("green".to_owned(), 1)])).expect_err("unknown");
        assert!(e.to_string().contains("green"), "{e}");
        let none: Policy = r#"{"schema":"weighbridge.policy/v1","targets":{"a":1,"b":1}}"#
            .parse()
            .expect("policy");
        let e = Plan::new(
            none,
            None,
            None,
            None,
            Duration::ZERO,
            None,
            OnInconclusive::Rollback,
        )
        .expect_err("no steps");
        assert!(e.to_string().contains("rollout.steps"), "{e}");
    }
}
