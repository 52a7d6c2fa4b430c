//! The decision table: PASS / FAIL / INCONCLUSIVE examples, leaks, unknown
//! targets, path rules, notes.

use verify::split::{LeakKind, TestUsed};
use verify::{Counts, SplitOptions, SplitReport, Verdict, judge};
use weighbridge_policy::Policy;

const POLICY: &str = include_str!("../../config/policy.json");

fn weights(pairs: &[(&str, u64)]) -> Policy {
    Policy::from_weights(pairs).expect("valid weights")
}

fn counts(pairs: &[(&str, u64)]) -> Counts {
    let mut c = Counts::new();
    for (l, n) in pairs {
        c.add(l, *n);
    }
    c
}

fn run(policy: &Policy, c: &Counts) -> SplitReport {
    judge(policy, c, &SplitOptions::default()).expect("valid input")
}

fn ten_ninety() -> Policy {
    weights(&[("ecs", 10), ("lambda", 90)])
}

#[test]
fn pass_when_intervals_fit_in_tolerance() {
    let r = run(
        &ten_ninety(),
        &counts(&[("ecs", 100_400), ("lambda", 899_600)]),
    );
    assert_eq!(r.verdict, Verdict::Pass, "{}", r.reason);
    assert_eq!(r.test, TestUsed::PearsonChiSquare);
    assert!(r.targets.iter().all(|t| t.interval.is_some()));
}

#[test]
fn pass_on_power_when_nothing_is_rejected() {
    // 20 000 requests at 10/90: power > 0.8 against 1 pp; intervals alone
    // (half-width about 0.74 pp + deviation) would not all fit.
    let r = run(
        &ten_ninety(),
        &counts(&[("ecs", 2_060), ("lambda", 17_940)]),
    );
    assert_eq!(r.verdict, Verdict::Pass, "{}", r.reason);
    let p = r.power.expect("power");
    assert!(p.achieved >= 0.8, "{}", p.achieved);
    assert!(r.reason.contains("power"), "{}", r.reason);
}

#[test]
fn inconclusive_with_too_few_requests() {
    let r = run(&ten_ninety(), &counts(&[("ecs", 1042), ("lambda", 8958)]));
    assert_eq!(r.verdict, Verdict::Inconclusive, "{}", r.reason);
    let n = r.required_n.expect("required n");
    assert!((15_300..15_400).contains(&n), "{n}");
    assert_eq!(r.verdict.exit_code(), 2);
}

#[test]
fn fail_on_a_large_deviation() {
    let r = run(&ten_ninety(), &counts(&[("ecs", 1300), ("lambda", 8700)]));
    assert_eq!(r.verdict, Verdict::Fail);
    assert!(r.p_value.expect("p") < 1e-20);
    assert!(r.reason.contains("ecs got 13.00 %"), "{}", r.reason);
    assert_eq!(r.verdict.exit_code(), 1);
}

#[test]
fn significant_but_within_tolerance_passes_with_a_note() {
    // 10.05 % at 10 million requests: p ≈ 1e-7, but 0.05 pp is negligible.
    let r = run(
        &ten_ninety(),
        &counts(&[("ecs", 1_005_000), ("lambda", 8_995_000)]),
    );
    assert!(r.p_value.expect("p") < 0.001);
    assert_eq!(r.verdict, Verdict::Pass, "{}", r.reason);
    assert!(
        r.notes.iter().any(|n| n.contains("too small to matter")),
        "{:?}",
        r.notes
    );
}

#[test]
fn significant_but_undecided_is_inconclusive() {
    // 10.8 % of 20 000: rejects (p ≈ 1.6e-4), off by 0.8 pp < 1 pp, but the
    // interval still reaches past 11 %.
    let r = run(
        &ten_ninety(),
        &counts(&[("ecs", 2_160), ("lambda", 17_840)]),
    );
    assert!(r.p_value.expect("p") < 0.001);
    assert_eq!(r.verdict, Verdict::Inconclusive, "{}", r.reason);
    assert!(r.required_n.expect("n") > 20_000);
}

#[test]
fn zero_weight_leak_fails_and_counts() {
    let p = weights(&[("stable", 100), ("canary", 0)]);
    let r = run(&p, &counts(&[("stable", 9_999), ("canary", 1)]));
    assert_eq!(r.verdict, Verdict::Fail);
    assert_eq!(r.leaks.len(), 1);
    assert_eq!(r.leaks[0].count, 1);
    assert_eq!(r.leaks[0].kind, LeakKind::ZeroWeight);
    assert!(r.reason.contains("weight 0"), "{}", r.reason);
}

#[test]
fn zero_weight_leak_names_paths() {
    let p = weights(&[("stable", 100), ("canary", 0)]);
    let mut c = counts(&[("stable", 500), ("canary", 3)]);
    c.add_path("/host", "canary", 2)
        .add_path("/other", "canary", 1);
    let r = run(&p, &c);
    assert_eq!(r.verdict, Verdict::Fail);
    assert_eq!(r.leaks[0].paths.get("/host"), Some(&2));
    assert!(r.reason.contains("/host (2)"), "{}", r.reason);
}

#[test]
fn single_target_passes_without_leaks_once_enough_requests() {
    let p = weights(&[("stable", 100), ("canary", 0)]);
    assert_eq!(run(&p, &counts(&[("stable", 200)])).verdict, Verdict::Pass);
    let r = run(&p, &counts(&[("stable", 50)]));
    assert_eq!(r.verdict, Verdict::Inconclusive);
    assert_eq!(r.required_n, Some(161));
}

#[test]
fn unknown_target_fails() {
    let r = run(
        &ten_ninety(),
        &counts(&[("ecs", 100_400), ("lambda", 899_600), ("ec2", 1)]),
    );
    assert_eq!(r.verdict, Verdict::Fail);
    assert_eq!(r.leaks[0].kind, LeakKind::UnknownTarget);
    assert!(
        r.targets
            .iter()
            .any(|t| t.label == "ec2" && t.weight.is_none())
    );
}

#[test]
fn unknown_target_with_zero_requests_is_not_a_leak() {
    let r = run(
        &ten_ninety(),
        &counts(&[("ecs", 100_400), ("lambda", 899_600), ("ec2", 0)]),
    );
    assert_eq!(r.verdict, Verdict::Pass);
}

#[test]
fn path_rules_leak_and_are_left_out_of_the_weighted_test() {
    let policy: Policy = POLICY.parse().expect("example policy");
    // 100 000 weighted requests at exactly 10/90 plus 5 000 rule requests
    // each way: without leaving them out, ecs would look like 14 %.
    let mut c = counts(&[("ecs", 10_000 + 5_000), ("lambda", 90_000 + 5_000)]);
    c.add_path("/dev/small-woodland-creature", "ecs", 5_000)
        .add_path("/dev/ice-cream-flavor", "lambda", 5_000)
        .add_path("/dev/host", "ecs", 10_000);
    let r = run(&policy, &c);
    assert_eq!(r.rule_routed, 10_000);
    assert_eq!(r.n, 100_000);
    assert_eq!(r.verdict, Verdict::Pass, "{}", r.reason);

    // One request on the lambda-only path served by ecs: FAIL, with the path.
    c.add("ecs", 1)
        .add_path("/dev/ice-cream-flavor/x", "ecs", 1);
    let r = run(&policy, &c);
    assert_eq!(r.verdict, Verdict::Fail);
    assert_eq!(
        r.leaks[0].kind,
        LeakKind::PathRule {
            expected_target: "lambda".to_owned()
        }
    );
    assert_eq!(r.leaks[0].paths.get("/dev/ice-cream-flavor/x"), Some(&1));
}

#[test]
fn path_counts_above_totals_are_an_input_error() {
    let policy: Policy = POLICY.parse().expect("example policy");
    let mut c = counts(&[("ecs", 10), ("lambda", 90)]);
    c.add_path("/dev/small-woodland-creature", "ecs", 11);
    let e = judge(&policy, &c, &SplitOptions::default()).expect_err("inconsistent");
    assert!(matches!(
        e,
        verify::InputError::PathCountsExceedTotal { .. }
    ));
}

#[test]
fn near_perfect_counts_get_a_note_not_a_failure() {
    let r = run(
        &ten_ninety(),
        &counts(&[("ecs", 10_000), ("lambda", 90_000)]),
    );
    assert_eq!(r.verdict, Verdict::Pass);
    assert!(
        r.notes.iter().any(|n| n.contains("round-robin")),
        "{:?}",
        r.notes
    );
    // Ordinary random-looking counts get no such note.
    let r = run(
        &ten_ninety(),
        &counts(&[("ecs", 10_080), ("lambda", 89_920)]),
    );
    assert!(!r.notes.iter().any(|n| n.contains("round-robin")));
}

#[test]
fn small_counts_use_exact_tests() {
    let r = run(
        &weights(&[("a", 50), ("b", 50)]),
        &counts(&[("a", 3), ("b", 27)]),
    );
    assert_eq!(r.test, TestUsed::PearsonChiSquare, "expected 15 each");
    let r = run(&ten_ninety(), &counts(&[("ecs", 7), ("lambda", 33)]));
    assert_eq!(r.test, TestUsed::ExactBinomial);
    // scipy: stats.binomtest(7, 40, 0.1).pvalue = 0.11429730690698581
    let p = r.p_value.expect("p");
    assert!((p - 0.114_297_306_906_985_81).abs() < 1e-9, "{p}");
    let three = weights(&[("a", 40), ("b", 35), ("c", 25)]);
    let r = run(&three, &counts(&[("a", 1), ("b", 0), ("c", 12)]));
    assert_eq!(r.test, TestUsed::MonteCarlo);
    assert!(r.monte_carlo.is_some());
    assert_eq!(r.verdict, Verdict::Fail, "{}", r.reason);
}

#[test]
fn no_requests_is_inconclusive() {
    let r = run(&ten_ninety(), &Counts::new());
    assert_eq!(r.verdict, Verdict::Inconclusive);
    assert!(r.required_n.is_some());
}

#[test]
fn stickiness_gets_a_note() {
    let p: Policy = r#"{"schema": "weighbridge.policy/v1", "targets": {"a": 1, "b": 1},
        "stickiness": {"enabled": true, "duration_seconds": 60}}"#
        .parse()
        .expect("valid");
    let r = run(&p, &counts(&[("a", 5000), ("b", 5000)]));
    assert!(r.notes.iter().any(|n| n.contains("stickiness")));
}

#[test]
fn bad_options_are_input_errors() {
    for o in [
        SplitOptions {
            alpha: 0.0,
            ..SplitOptions::default()
        },
        SplitOptions {
            alpha: 1.0,
            ..SplitOptions::default()
        },
        SplitOptions {
            tolerance_pp: 0.0,
            ..SplitOptions::default()
        },
        SplitOptions {
            power: 1.0,
            ..SplitOptions::default()
        },
        SplitOptions {
            mc_draws: 0,
            ..SplitOptions::default()
        },
    ] {
        assert!(
            judge(&ten_ninety(), &counts(&[("ecs", 1)]), &o).is_err(),
            "{o:?}"
        );
    }
}
