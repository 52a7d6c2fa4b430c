//! The policy file: the example in config/, every validation error, path
//! matching with a base path, the rollout schedule.

use std::time::Duration;

use weighbridge_policy::{Policy, PolicyError, Stickiness};

const EXAMPLE: &str = include_str!("../../config/policy.json");

fn parse(text: &str) -> Result<Policy, PolicyError> {
    text.parse()
}

/// A valid document with `extra` spliced in after the targets.
fn with(targets: &str, extra: &str) -> String {
    format!(r#"{{"schema": "weighbridge.policy/v1", "targets": {targets}{extra}}}"#)
}

fn err(text: &str) -> PolicyError {
    match parse(text) {
        Ok(p) => panic!("expected an error, got {p:?}"),
        Err(e) => e,
    }
}

#[test]
fn example_policy_parses() {
    let p = parse(EXAMPLE).expect("config/policy.json is valid");
    assert_eq!(p.weight("ecs"), Some(10));
    assert_eq!(p.weight("lambda"), Some(90));
    assert_eq!(p.weight("nope"), None);
    assert_eq!(p.total_weight(), 100);
    assert_eq!(p.expected_shares(), vec![("ecs", 0.1), ("lambda", 0.9)]);
    assert_eq!(p.path_rules().len(), 2);
    assert_eq!(
        p.stickiness(),
        Stickiness {
            enabled: false,
            duration_seconds: 3600
        }
    );
    assert_eq!(p.base_path(), Some("dev"));
    assert!(p.rollout().is_empty());
}

#[test]
fn load_reads_a_file_and_names_it_in_errors() {
    let dir = tempfile::tempdir().expect("tempdir");
    let good = dir.path().join("good.json");
    std::fs::write(&good, EXAMPLE).expect("write");
    assert!(Policy::load(&good).is_ok());

    let bad = dir.path().join("bad.json");
    std::fs::write(&bad, with(r#"{"ecs": 1000}"#, "")).expect("write");
    let e = Policy::load(&bad).expect_err("weight 1000");
    assert!(e.to_string().contains("bad.json"), "{e}");
    assert!(matches!(
        e.root(),
        PolicyError::WeightOutOfRange { value: 1000, .. }
    ));

    let missing = dir.path().join("missing.json");
    let e = Policy::load(&missing).expect_err("missing");
    assert!(matches!(e, PolicyError::Read { .. }), "{e:?}");
}

#[test]
fn rule_matching_respects_base_path_and_segments() {
    let p = parse(EXAMPLE).expect("valid");
    let target = |path: &str| p.rule_for_path(path).map(|r| r.target.as_str());
    assert_eq!(target("/dev/small-woodland-creature"), Some("ecs"));
    assert_eq!(target("/dev/small-woodland-creature/"), Some("ecs"));
    assert_eq!(target("/dev/small-woodland-creature/x?y=1"), Some("ecs"));
    assert_eq!(target("/dev/ice-cream-flavor?size=2"), Some("lambda"));
    assert_eq!(target("/dev/ice-cream-flavors"), None, "segment boundary");
    assert_eq!(
        target("/small-woodland-creature"),
        None,
        "outside the base path"
    );
    assert_eq!(target("/devx/small-woodland-creature"), None);
    assert_eq!(target("/dev/host"), None);
    assert_eq!(target("/dev"), None);
    assert_eq!(
        target("/dev/Small-Woodland-Creature"),
        None,
        "case-sensitive"
    );
}

#[test]
fn no_base_path_means_root() {
    for base in ["", r#", "base_path": """#, r#", "base_path": "/""#] {
        let text = with(
            r#"{"a": 1, "b": 1}"#,
            &format!(r#", "path_rules": [{{"path": "/x", "target": "a"}}]{base}"#),
        );
        let p = parse(&text).expect("valid");
        assert_eq!(p.base_path(), None);
        assert_eq!(p.rule_for_path("/x").map(|r| r.target.as_str()), Some("a"));
        assert_eq!(p.rule_for_path("//x"), None);
    }
}

#[test]
fn base_path_is_normalized() {
    let p = parse(&with(r#"{"a": 1}"#, r#", "base_path": "/api/v2/""#)).expect("valid");
    assert_eq!(p.base_path(), Some("api/v2"));
    let p = parse(&with(
        r#"{"a": 1, "b": 2}"#,
        r#", "base_path": "api/v2", "path_rules": [{"path": "/x", "target": "b"}]"#,
    ))
    .expect("valid");
    assert_eq!(
        p.rule_for_path("/api/v2/x/1").map(|r| r.target.as_str()),
        Some("b")
    );
}

#[test]
fn first_rule_wins() {
    let p = parse(&with(
        r#"{"a": 1, "b": 1}"#,
        r#", "path_rules": [{"path": "/x/y", "target": "b"}, {"path": "/x", "target": "a"}]"#,
    ))
    .expect("valid");
    assert_eq!(
        p.rule_for_path("/x/y/z").map(|r| r.target.as_str()),
        Some("b")
    );
    assert_eq!(
        p.rule_for_path("/x/q").map(|r| r.target.as_str()),
        Some("a")
    );
}

#[test]
fn zero_weight_targets_are_allowed_and_have_share_zero() {
    let p = parse(&with(r#"{"stable": 100, "canary": 0}"#, "")).expect("valid");
    assert_eq!(p.expected_shares(), vec![("stable", 1.0), ("canary", 0.0)]);
}

#[test]
fn stickiness_defaults() {
    let p = parse(&with(r#"{"a": 1}"#, "")).expect("valid");
    assert_eq!(p.stickiness(), Stickiness::default());
    let p = parse(&with(r#"{"a": 1}"#, r#", "stickiness": {"enabled": true}"#)).expect("valid");
    assert!(p.stickiness().enabled);
    assert_eq!(p.stickiness().duration_seconds, 86_400);
}

#[test]
fn rollout_steps_parse_human_and_numeric_holds() {
    let p = parse(&with(
        r#"{"blue": 100, "green": 0}"#,
        r#", "rollout": {"steps": [
            {"weights": {"blue": 90, "green": 10}, "hold": "5m"},
            {"weights": {"green": 100}, "hold": 30}
        ]}"#,
    ))
    .expect("valid");
    let steps = p.rollout();
    assert_eq!(steps.len(), 2);
    assert_eq!(steps[0].hold, Duration::from_secs(300));
    assert_eq!(steps[1].hold, Duration::from_secs(30));
    assert_eq!(steps[1].weights[0].label, "blue");
    assert_eq!(steps[1].weights[0].weight, 0, "omitted target gets 0");
    assert_eq!(steps[1].weights[1].weight, 100);
}

#[test]
fn from_weights_validates_like_a_file() {
    let p = Policy::from_weights(&[("ecs", 10), ("lambda", 90)]).expect("valid");
    assert_eq!(p.expected_shares(), vec![("ecs", 0.1), ("lambda", 0.9)]);
    assert!(matches!(
        Policy::from_weights(&[("ecs", 0), ("lambda", 0)]),
        Err(PolicyError::AllWeightsZero { .. })
    ));
    assert!(matches!(
        Policy::from_weights(&[("ecs", 1), ("ecs", 2)]),
        Err(PolicyError::DuplicateKey { .. })
    ));
    assert!(matches!(
        Policy::from_weights(&[("ecs", 5000)]),
        Err(PolicyError::WeightOutOfRange { value: 5000, .. })
    ));
}

// ---- every validation error ----

#[test]
fn error_syntax() {
    assert!(matches!(err("{"), PolicyError::Syntax(_)));
    assert!(matches!(err("[]"), PolicyError::Syntax(_)));
}

#[test]
fn error_unknown_field_is_syntax_and_named() {
    let e = err(&with(r#"{"a": 1}"#, r#", "stickyness": {"enabled": true}"#));
    assert!(matches!(e, PolicyError::Syntax(_)));
    assert!(e.to_string().contains("stickyness"), "{e}");
}

#[test]
fn error_missing_schema() {
    let e = err(r#"{"targets": {"a": 1}}"#);
    assert!(matches!(e, PolicyError::MissingSchema { .. }), "{e:?}");
}

#[test]
fn error_wrong_schema() {
    let e = err(r#"{"schema": "weighbridge.policy/v9", "targets": {"a": 1}}"#);
    assert!(
        matches!(e, PolicyError::WrongSchema { ref found, .. } if found == "weighbridge.policy/v9")
    );
}

#[test]
fn error_missing_targets() {
    let e = err(r#"{"schema": "weighbridge.policy/v1"}"#);
    assert!(matches!(e, PolicyError::MissingField { field: "targets" }));
}

#[test]
fn error_no_targets() {
    assert!(matches!(
        err(&with("{}", "")),
        PolicyError::NoTargets { .. }
    ));
}

#[test]
fn error_too_many_targets() {
    let e = err(&with(r#"{"a":1,"b":1,"c":1,"d":1,"e":1,"f":1}"#, ""));
    assert!(matches!(
        e,
        PolicyError::TooManyTargets {
            count: 6,
            max: 5,
            ..
        }
    ));
}

#[test]
fn error_duplicate_target() {
    let e = err(&with(r#"{"a": 1, "a": 2}"#, ""));
    assert!(matches!(e, PolicyError::DuplicateKey { ref key, .. } if key == "a"));
    assert!(e.to_string().contains("targets"), "{e}");
}

#[test]
fn error_invalid_label() {
    for label in [
        "",
        "a=b",
        "a,b",
        "a b",
        "x123456789012345678901234567890123",
    ] {
        let e = err(&with(&format!(r#"{{"{label}": 1}}"#), ""));
        assert!(
            matches!(e, PolicyError::InvalidLabel { .. }),
            "{label:?}: {e:?}"
        );
    }
}

#[test]
fn error_weight_not_integer() {
    for w in ["-1", "1.5", "\"10\"", "null"] {
        let e = err(&with(&format!(r#"{{"a": {w}}}"#), ""));
        assert!(
            matches!(e, PolicyError::WeightNotInteger { ref at, .. } if at == "targets.a"),
            "{w}: {e:?}"
        );
    }
}

#[test]
fn error_weight_out_of_range() {
    let e = err(&with(r#"{"a": 1000}"#, ""));
    assert!(matches!(
        e,
        PolicyError::WeightOutOfRange {
            value: 1000,
            max: 999,
            ..
        }
    ));
    assert_eq!(
        e.to_string(),
        "targets.a: weight 1000 is out of range 0..=999"
    );
}

#[test]
fn error_all_weights_zero() {
    let e = err(&with(r#"{"a": 0, "b": 0}"#, ""));
    assert!(matches!(e, PolicyError::AllWeightsZero { .. }));
}

#[test]
fn error_rule_unknown_target() {
    let e = err(&with(
        r#"{"a": 1}"#,
        r#", "path_rules": [{"path": "/x", "target": "b"}]"#,
    ));
    assert!(
        matches!(e, PolicyError::UnknownTarget { ref at, ref target, .. } if at == "path_rules[0].target" && target == "b"),
        "{e:?}"
    );
}

#[test]
fn error_rule_path_not_absolute() {
    let e = err(&with(
        r#"{"a": 1}"#,
        r#", "path_rules": [{"path": "x", "target": "a"}]"#,
    ));
    assert!(matches!(e, PolicyError::PathNotAbsolute { ref at, .. } if at == "path_rules[0].path"));
}

#[test]
fn error_rule_path_wildcard() {
    for p in ["/x*", "/x?a=1", "/x#f", "/a b"] {
        let e = err(&with(
            r#"{"a": 1}"#,
            &format!(r#", "path_rules": [{{"path": "{p}", "target": "a"}}]"#),
        ));
        assert!(
            matches!(e, PolicyError::PathInvalidChar { .. }),
            "{p}: {e:?}"
        );
    }
}

#[test]
fn error_duplicate_rule() {
    let e = err(&with(
        r#"{"a": 1, "b": 1}"#,
        r#", "path_rules": [{"path": "/x", "target": "a"}, {"path": "/y", "target": "a"}, {"path": "/x", "target": "b"}]"#,
    ));
    assert!(
        matches!(e, PolicyError::DuplicatePath { first: 0, ref at, .. } if at == "path_rules[2].path"),
        "{e:?}"
    );
}

#[test]
fn error_stickiness_duration() {
    for d in [0u64, 604_801] {
        let e = err(&with(
            r#"{"a": 1}"#,
            &format!(r#", "stickiness": {{"enabled": true, "duration_seconds": {d}}}"#),
        ));
        assert!(matches!(e, PolicyError::StickinessDuration { value, .. } if value == d));
    }
    // the bounds themselves are fine
    for d in [1u64, 604_800] {
        parse(&with(
            r#"{"a": 1}"#,
            &format!(r#", "stickiness": {{"enabled": true, "duration_seconds": {d}}}"#),
        ))
        .expect("in range");
    }
}

#[test]
fn error_invalid_base_path() {
    for b in ["dev//x", "dev?x", "de v", "dev*"] {
        let e = err(&with(r#"{"a": 1}"#, &format!(r#", "base_path": "{b}""#)));
        assert!(
            matches!(e, PolicyError::InvalidBasePath { .. }),
            "{b}: {e:?}"
        );
    }
}

#[test]
fn error_empty_rollout() {
    let e = err(&with(r#"{"a": 1}"#, r#", "rollout": {"steps": []}"#));
    assert!(matches!(e, PolicyError::EmptyRollout));
}

#[test]
fn error_rollout_unknown_target() {
    let e = err(&with(
        r#"{"a": 1}"#,
        r#", "rollout": {"steps": [{"weights": {"a": 1, "z": 1}, "hold": "1m"}]}"#,
    ));
    assert!(
        matches!(e, PolicyError::UnknownTarget { ref at, .. } if at == "rollout.steps[0].weights.z"),
        "{e:?}"
    );
}

#[test]
fn error_rollout_step_weights() {
    let e = err(&with(
        r#"{"a": 1}"#,
        r#", "rollout": {"steps": [{"weights": {"a": 1}, "hold": "1m"}, {"weights": {"a": 0}, "hold": "1m"}]}"#,
    ));
    assert!(
        matches!(e, PolicyError::AllWeightsZero { ref at } if at == "rollout.steps[1].weights")
    );
    let e = err(&with(
        r#"{"a": 1}"#,
        r#", "rollout": {"steps": [{"weights": {"a": 1000}, "hold": "1m"}]}"#,
    ));
    assert!(
        matches!(e, PolicyError::WeightOutOfRange { ref at, .. } if at == "rollout.steps[0].weights.a")
    );
}

#[test]
fn error_rollout_hold() {
    for hold in [r#""soon""#, r#""0s""#, "0", "-5", "true", "1.5"] {
        let e = err(&with(
            r#"{"a": 1}"#,
            &format!(r#", "rollout": {{"steps": [{{"weights": {{"a": 1}}, "hold": {hold}}}]}}"#),
        ));
        assert!(
            matches!(e, PolicyError::InvalidHold { ref at, .. } if at == "rollout.steps[0].hold"),
            "{hold}: {e:?}"
        );
    }
}

#[test]
fn error_rule_path_empty_segment() {
    for p in ["//a", "/a//b", "/a//", "//"] {
        let e = err(&with(
            r#"{"a": 1}"#,
            &format!(r#", "path_rules": [{{"path": "{p}", "target": "a"}}]"#),
        ));
        assert!(
            matches!(e, PolicyError::PathEmptySegment { ref at, .. } if at == "path_rules[0].path"),
            "{p}: {e:?}"
        );
    }
}

#[test]
fn error_rule_path_dot_segment() {
    for (p, seg) in [
        ("/../a", ".."),
        ("/./a", "."),
        ("/a/..", ".."),
        ("/a/./b", "."),
        ("/..", ".."),
    ] {
        let e = err(&with(
            r#"{"a": 1}"#,
            &format!(r#", "path_rules": [{{"path": "{p}", "target": "a"}}]"#),
        ));
        assert!(
            matches!(e, PolicyError::PathDotSegment { ref segment, .. } if segment == seg),
            "{p}: {e:?}"
        );
        assert!(e.to_string().contains("never match"), "{e}");
    }
    // Dots inside a segment are ordinary characters.
    parse(&with(
        r#"{"a": 1}"#,
        r#", "path_rules": [{"path": "/a.b/..c/.d", "target": "a"}]"#,
    ))
    .expect("dots inside segments are fine");
}

#[test]
fn error_rule_path_control_character() {
    for p in [r"/a\u000bb", r"/a\u0000", r"/a\u007f", r"/a\u00a0b"] {
        let e = err(&with(
            r#"{"a": 1}"#,
            &format!(r#", "path_rules": [{{"path": "{p}", "target": "a"}}]"#),
        ));
        assert!(
            matches!(e, PolicyError::PathInvalidChar { .. }),
            "{p}: {e:?}"
        );
    }
}

#[test]
fn error_shadowed_rule() {
    for (first, second) in [("/a/", "/a"), ("/a", "/a/"), ("/a", "/a/b"), ("/", "/x")] {
        let e = err(&with(
            r#"{"a": 1, "b": 1}"#,
            &format!(
                r#", "path_rules": [{{"path": "{first}", "target": "a"}}, {{"path": "{second}", "target": "b"}}]"#
            ),
        ));
        assert!(
            matches!(e, PolicyError::ShadowedPath { by: 0, ref at, ref by_path, .. }
                if at == "path_rules[1].path" && by_path == first),
            "{first} then {second}: {e:?}"
        );
        assert!(e.to_string().contains("can never match"), "{e}");
    }
    // A narrower rule first, a sibling sharing a prefix: both can match.
    for (first, second) in [("/a/b", "/a"), ("/a", "/ab"), ("/ab", "/a")] {
        parse(&with(
            r#"{"a": 1, "b": 1}"#,
            &format!(
                r#", "path_rules": [{{"path": "{first}", "target": "a"}}, {{"path": "{second}", "target": "b"}}]"#
            ),
        ))
        .unwrap_or_else(|e| panic!("{first} then {second}: {e}"));
    }
}

#[test]
fn error_base_path_dot_segments() {
    for b in ["..", ".", "dev/..", "../dev", "/dev/./x/", r"dev\u0007"] {
        let e = err(&with(r#"{"a": 1}"#, &format!(r#", "base_path": "{b}""#)));
        assert!(
            matches!(e, PolicyError::InvalidBasePath { .. }),
            "{b}: {e:?}"
        );
    }
    let p = parse(&with(r#"{"a": 1}"#, r#", "base_path": "v1.2/.well""#)).expect("dots inside");
    assert_eq!(p.base_path(), Some("v1.2/.well"));
}

#[test]
fn with_weights_keeps_rules_and_names_unknown_labels() {
    let p: Policy = r#"{"schema":"weighbridge.policy/v1","targets":{"stable":100,"canary":0},
        "path_rules":[{"path":"/x","target":"canary"}],
        "rollout":{"steps":[{"weights":{"stable":90,"canary":10},"hold":"1m"}]}}"#
        .parse()
        .expect("policy");
    let step = p
        .with_weights(&[("canary", 25u64), ("stable", 75)])
        .expect("weights");
    assert_eq!(step.weight("stable"), Some(75));
    assert_eq!(step.weight("canary"), Some(25));
    assert_eq!(step.path_rules(), p.path_rules());
    assert!(step.rollout().is_empty());
    let only = p.with_weights(&[("canary", 5u64)]).expect("weights");
    assert_eq!(only.weight("stable"), Some(0));
    let err = p
        .with_weights(&[("blue", 5u64)])
        .expect_err("unknown label");
    assert!(err.to_string().contains("blue"), "{err}");
    assert!(p.with_weights(&[("stable", 0u64)]).is_err(), "all zero");
    assert_eq!(p.at_step(&p.rollout()[0]).weight("canary"), Some(10));
}

/// The example rollouts parse, and the test bed's starts where the deployed
/// policy is (its first step is where a rollback returns): the same
/// targets, weights, rules, stickiness and base path as config/policy.json.
#[test]
fn the_example_rollouts_start_from_the_deployed_policy() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let deployed = Policy::load(root.join("config/policy.json")).expect("policy.json");
    let aws = Policy::load(root.join("config/rollout-aws.json")).expect("rollout-aws.json");
    let local = Policy::load(root.join("config/rollout.json")).expect("rollout.json");
    assert!(aws.rollout().len() >= 4 && local.rollout().len() >= 4);
    assert_eq!(aws.targets(), deployed.targets());
    assert_eq!(aws.rollout()[0].weights, deployed.targets());
    assert_eq!(aws.path_rules(), deployed.path_rules());
    assert_eq!(aws.stickiness(), deployed.stickiness());
    assert_eq!(aws.base_path(), deployed.base_path());
    assert_eq!(local.rollout()[0].weights, local.targets());
}
