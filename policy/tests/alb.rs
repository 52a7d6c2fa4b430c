//! The ALB listener rules of a policy: the example policy gives exactly the
//! rules in `infra/tests/expected_rules.json` (which the Terraform test also
//! checks), so the local router and the Terraform agree.

use weighbridge_policy::Policy;
use weighbridge_policy::alb::{WEIGHTED_RULE_PRIORITY, alb_listener_rules};

const EXAMPLE: &str = include_str!("../../config/policy.json");
const EXPECTED: &str = include_str!("../../infra/tests/expected_rules.json");

fn rules_json(policy: &str) -> serde_json::Value {
    let policy: Policy = policy.parse().expect("a valid policy");
    serde_json::to_value(alb_listener_rules(&policy)).expect("rules serialize")
}

#[test]
fn example_policy_matches_the_terraform_expectation() {
    let expected: serde_json::Value =
        serde_json::from_str(EXPECTED).expect("expected_rules.json is JSON");
    assert_eq!(rules_json(EXAMPLE), expected);
}

#[test]
fn no_base_path_never_gives_a_double_slash() {
    for base in [r#""""#, r#""/""#] {
        let rules = rules_json(&format!(
            r#"{{"schema": "weighbridge.policy/v1", "targets": {{"ecs": 1}},
                "path_rules": [{{"path": "/host/", "target": "ecs"}}], "base_path": {base}}}"#
        ));
        assert_eq!(
            rules[0]["path_patterns"],
            serde_json::json!(["/host", "/host/*"])
        );
        assert_eq!(rules[1]["path_patterns"], serde_json::json!(["/", "/*"]));
    }
}

#[test]
fn weighted_rule_sorts_targets_and_keeps_zero_weights() {
    let rules = rules_json(
        r#"{"schema": "weighbridge.policy/v1", "targets": {"stable": 95, "canary": 5, "old": 0},
            "stickiness": {"enabled": true}, "base_path": "/api/v2/"}"#,
    );
    assert_eq!(
        rules,
        serde_json::json!([{
            "name": "weighted",
            "priority": WEIGHTED_RULE_PRIORITY,
            "path_patterns": ["/api/v2", "/api/v2/*"],
            "forward": [
                {"target": "canary", "weight": 5},
                {"target": "old", "weight": 0},
                {"target": "stable", "weight": 95}
            ],
            "stickiness": {"enabled": true, "duration_seconds": 86400}
        }])
    );
}

#[test]
fn path_rules_keep_file_order_as_priority() {
    let rules = rules_json(
        r#"{"schema": "weighbridge.policy/v1", "targets": {"a": 1, "b": 1},
            "path_rules": [{"path": "/z", "target": "b"}, {"path": "/a", "target": "a"}]}"#,
    );
    let got: Vec<(u64, &str)> = rules
        .as_array()
        .expect("a list")
        .iter()
        .map(|r| {
            (
                r["priority"].as_u64().expect("a priority"),
                r["path_patterns"][0].as_str().expect("a pattern"),
            )
        })
        .collect();
    assert_eq!(got, vec![(1, "/z"), (2, "/a"), (50_000, "/")]);
}
