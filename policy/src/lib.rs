//! The weighbridge traffic policy: one JSON file that is the single source of
//! truth for the expected split (target weights), exclusive path rules,
//! stickiness, the base path and an optional rollout schedule.
//!
//! ```
//! let policy: weighbridge_policy::Policy = r#"{
//!     "schema": "weighbridge.policy/v1",
//!     "targets": {"ecs": 10, "lambda": 90},
//!     "path_rules": [{"path": "/small-woodland-creature", "target": "ecs"}],
//!     "base_path": "dev"
//! }"#.parse().expect("valid policy");
//! assert_eq!(policy.expected_shares(), vec![("ecs", 0.1), ("lambda", 0.9)]);
//! let rule = policy.rule_for_path("/dev/small-woodland-creature").expect("a rule");
//! assert_eq!(rule.target, "ecs");
//! ```
//!
//! The file format is documented field by field in `docs/policy.md`.

pub mod alb;
mod error;
pub mod paths;
mod policy;
mod raw;

pub use error::PolicyError;
pub use paths::PathRule;
pub use policy::{
    DEFAULT_STICKINESS_SECONDS, MAX_LABEL_LEN, MAX_STICKINESS_SECONDS, MAX_TARGETS, MAX_WEIGHT,
    MIN_STICKINESS_SECONDS, Policy, RolloutStep, SCHEMA, Stickiness, Target,
};
