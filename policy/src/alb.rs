//! The ALB listener rules a policy stands for: the rules the Terraform in
//! `infra/modules/network/rules.tf` builds from the same file, computed in
//! Rust so the local router and the real ALB agree (a test checks both
//! against `infra/tests/expected_rules.json`).
//!
//! The mapping, kept simple and identical in both places:
//! - path rule `i` (file order) becomes a rule of priority
//!   [`FIRST_PATH_RULE_PRIORITY`]` + i` forwarding only to its target, with
//!   the two path patterns `{prefix}{path}` and `{prefix}{path}/*`, where
//!   `{prefix}` is `/` + the base path, or nothing without a base path (so a
//!   route is `/x`, never `//x`) and a trailing `/` of the rule path is
//!   dropped;
//! - then one weighted rule of priority [`WEIGHTED_RULE_PRIORITY`] for the
//!   whole base path (`{prefix}` and `{prefix}/*`, or `/*` without a base
//!   path), forwarding to every target with its weight (zero included),
//!   sorted by label (Terraform iterates an object's keys in that order),
//!   with the policy's stickiness;
//! - anything else gets the listener's fixed 404 default action.

use serde::Serialize;

use crate::policy::{Policy, Stickiness};

/// Priority of the first path rule; rule `i` gets this plus `i`.
pub const FIRST_PATH_RULE_PRIORITY: u32 = 1;
/// Priority of the weighted rule: the lowest precedence ALB accepts.
pub const WEIGHTED_RULE_PRIORITY: u32 = 50_000;

/// One listener rule: path patterns and a forward action.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ListenerRule {
    /// A stable name: `path-0`, `path-1`, …, `weighted`.
    pub name: String,
    /// ALB rule priority (lower wins).
    pub priority: u32,
    /// The rule's `path-pattern` condition values.
    pub path_patterns: Vec<String>,
    /// The target groups of the forward action, sorted by label.
    pub forward: Vec<ForwardTarget>,
    /// Target-group stickiness of the forward action; `None` for a path
    /// rule, which forwards to a single target.
    pub stickiness: Option<Stickiness>,
}

/// One target group of a forward action.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ForwardTarget {
    /// The policy's target label (Terraform maps it to a target group).
    pub target: String,
    /// The ALB weight.
    pub weight: u32,
}

/// The rules, in priority order: the path rules, then the weighted rule.
pub fn alb_listener_rules(policy: &Policy) -> Vec<ListenerRule> {
    let prefix = policy
        .base_path()
        .map(|base| format!("/{base}"))
        .unwrap_or_default();
    let mut rules: Vec<ListenerRule> = policy
        .path_rules()
        .iter()
        .zip(FIRST_PATH_RULE_PRIORITY..)
        .enumerate()
        .map(|(i, (rule, priority))| ListenerRule {
            name: format!("path-{i}"),
            priority,
            path_patterns: patterns(&prefix, rule.path.trim_end_matches('/')),
            forward: vec![ForwardTarget {
                target: rule.target.clone(),
                weight: 1,
            }],
            stickiness: None,
        })
        .collect();
    let mut forward: Vec<ForwardTarget> = policy
        .targets()
        .iter()
        .map(|t| ForwardTarget {
            target: t.label.clone(),
            weight: t.weight,
        })
        .collect();
    forward.sort_by(|a, b| a.target.cmp(&b.target));
    rules.push(ListenerRule {
        name: "weighted".to_owned(),
        priority: WEIGHTED_RULE_PRIORITY,
        path_patterns: patterns(&prefix, ""),
        forward,
        stickiness: Some(policy.stickiness()),
    });
    rules
}

/// `{prefix}{path}` and `{prefix}{path}/*`; `/` and `/*` when both are empty.
fn patterns(prefix: &str, path: &str) -> Vec<String> {
    let exact = format!("{prefix}{path}");
    if exact.is_empty() {
        vec!["/".to_owned(), "/*".to_owned()]
    } else {
        vec![exact.clone(), format!("{exact}/*")]
    }
}
