//! Which requests the weighted test sees. Requests on a path with an
//! exclusive rule are left out of it (the rule, not the weights, routed
//! them); a rule-path request served by another target than the rule's,
//! and any request on a zero-weight or unknown target, is a leak. The
//! fixed-N judge and the sequential one route each look the same way.

use std::collections::BTreeMap;

use serde::Serialize;
use weighbridge_policy::Policy;

use crate::counts::Counts;
use crate::error::InputError;

/// Requests where the policy says there must be none.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Leak {
    /// The target that served them.
    pub target: String,
    /// How many.
    pub count: u64,
    /// Why they are a leak.
    pub kind: LeakKind,
    /// Where they went, when per-path counts were given: path → count.
    pub paths: BTreeMap<String, u64>,
}

/// Why requests are a leak.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum LeakKind {
    /// The target has weight 0.
    ZeroWeight,
    /// The policy has no such target.
    UnknownTarget,
    /// An exclusive path rule sends the path to another target.
    PathRule {
        /// The target the rule names.
        expected_target: String,
    },
}

impl Leak {
    /// One sentence: how many, where, why, and on which paths.
    pub fn describe(&self) -> String {
        let what = match &self.kind {
            LeakKind::ZeroWeight => format!(
                "{} requests reached {}, which has weight 0",
                self.count, self.target
            ),
            LeakKind::UnknownTarget => format!(
                "{} requests were served by {}, a target the policy does not know",
                self.count, self.target
            ),
            LeakKind::PathRule { expected_target } => format!(
                "{} requests on paths reserved for {expected_target} were served by {}",
                self.count, self.target
            ),
        };
        if self.paths.is_empty() {
            what
        } else {
            let paths: Vec<String> = self
                .paths
                .iter()
                .map(|(p, c)| format!("{p} ({c})"))
                .collect();
            format!("{what} [{}]", paths.join(", "))
        }
    }
}

/// The targets of the weighted test (positive weight) and their expected
/// shares, in policy order.
pub fn weighted_targets(policy: &Policy) -> Vec<(&str, f64)> {
    policy
        .expected_shares()
        .into_iter()
        .filter(|(_, share)| *share > 0.0)
        .collect()
}

/// Counts routed by the policy: what the rules took, and every leak.
#[derive(Debug, Clone, Default)]
pub struct Routed {
    /// Target → requests on rule paths (left out of the weighted test).
    rule_counts: BTreeMap<String, u64>,
    /// Rule-path, zero-weight and unknown-target leaks, in that order.
    pub leaks: Vec<Leak>,
    /// Targets the policy does not know, with their weighted requests.
    pub strays: Vec<(String, u64)>,
}

impl Routed {
    /// Requests the weights routed to `label`: its total less its rule-path
    /// requests.
    pub fn weighted(&self, counts: &Counts, label: &str) -> u64 {
        counts.get(label) - self.rule_counts.get(label).copied().unwrap_or(0)
    }

    /// All requests on rule paths.
    pub fn rule_routed(&self) -> u64 {
        self.rule_counts.values().sum()
    }
}

/// Routes `counts` by `policy`'s rules and weights. Refuses per-path counts
/// that exceed a target's total (the breakdown cannot hold more than it
/// breaks down).
pub fn route(policy: &Policy, counts: &Counts) -> Result<Routed, InputError> {
    let mut rule_counts: BTreeMap<String, u64> = BTreeMap::new();
    let mut rule_leaks: BTreeMap<(String, String), BTreeMap<String, u64>> = BTreeMap::new();
    let mut non_rule_paths: BTreeMap<&str, BTreeMap<String, u64>> = BTreeMap::new();
    for (path, by_target) in counts.paths() {
        let rule = policy.rule_for_path(path);
        for (label, &count) in by_target {
            if count == 0 {
                continue;
            }
            match rule {
                Some(rule) => {
                    let c = rule_counts.entry(label.clone()).or_default();
                    *c = c.saturating_add(count);
                    if *label != rule.target {
                        *rule_leaks
                            .entry((label.clone(), rule.target.clone()))
                            .or_default()
                            .entry(path.clone())
                            .or_default() += count;
                    }
                }
                None => {
                    *non_rule_paths
                        .entry(label.as_str())
                        .or_default()
                        .entry(path.clone())
                        .or_default() += count;
                }
            }
        }
    }
    for (label, &paths) in &rule_counts {
        let total = counts.get(label);
        if paths > total {
            return Err(InputError::PathCountsExceedTotal {
                target: label.clone(),
                paths,
                total,
            });
        }
    }
    let mut routed = Routed {
        rule_counts,
        ..Routed::default()
    };
    for ((target, expected_target), paths) in rule_leaks {
        routed.leaks.push(Leak {
            count: paths.values().sum(),
            target,
            kind: LeakKind::PathRule { expected_target },
            paths,
        });
    }
    let paths_of = |label: &str| non_rule_paths.get(label).cloned().unwrap_or_default();
    for t in policy.targets().iter().filter(|t| t.weight == 0) {
        let count = routed.weighted(counts, &t.label);
        if count > 0 {
            routed.leaks.push(Leak {
                target: t.label.clone(),
                count,
                kind: LeakKind::ZeroWeight,
                paths: paths_of(&t.label),
            });
        }
    }
    for (label, _) in counts.targets() {
        let count = routed.weighted(counts, label);
        if policy.weight(label).is_none() && count > 0 {
            routed.leaks.push(Leak {
                target: label.clone(),
                count,
                kind: LeakKind::UnknownTarget,
                paths: paths_of(label),
            });
            routed.strays.push((label.clone(), count));
        }
    }
    Ok(routed)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn policy() -> Policy {
        r#"{"schema":"weighbridge.policy/v1","targets":{"ecs":10,"lambda":90,"canary":0},
                "path_rules":[{"path":"/only-ecs","target":"ecs"}]}"#
            .parse()
            .expect("policy")
    }

    #[test]
    fn rule_paths_leave_the_weighted_test_and_misroutes_are_leaks() {
        let mut counts = Counts::new();
        counts.add("ecs", 30).add("lambda", 95).add("canary", 2);
        counts
            .add_path("/only-ecs", "ecs", 20)
            .add_path("/only-ecs", "lambda", 5)
            .add_path("/host", "ecs", 10)
            .add_path("/host", "lambda", 90)
            .add_path("/host", "canary", 2);
        let routed = route(&policy(), &counts).expect("routed");
        assert_eq!(routed.weighted(&counts, "ecs"), 10);
        assert_eq!(routed.weighted(&counts, "lambda"), 90);
        assert_eq!(routed.rule_routed(), 25);
        let kinds: Vec<(&str, u64)> = routed
            .leaks
            .iter()
            .map(|l| (l.target.as_str(), l.count))
            .collect();
        assert_eq!(kinds, [("lambda", 5), ("canary", 2)]);
        assert!(routed.leaks[0].describe().contains("/only-ecs (5)"));
    }

    #[test]
    fn a_breakdown_larger_than_its_total_is_refused() {
        let mut counts = Counts::new();
        counts.add("ecs", 1).add_path("/only-ecs", "ecs", 2);
        assert!(matches!(
            route(&policy(), &counts),
            Err(InputError::PathCountsExceedTotal { .. })
        ));
    }
}
