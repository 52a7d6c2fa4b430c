//! `verify scaling`: instances over time, events, reaction times, checks.
//!
//! The scenario (`Scenario::scale_out_and_in`): 20 rps for 60 s, 100 rps for 120 s, 20 rps for 120 s, all
//! to ECS. Two tasks run throughout; two more serve from 90 s to 240 s. So
//! the load rises at 60 s and falls at 180 s; ECS scales out 2 → 4 at 90 s
//! (30 s after the rise) and back in 4 → 2 at 240 s (60 s after the fall).

mod common;

use common::{json_output, verify, write};
use predicates::prelude::*;
use verify::scaling::{Direction, load_changes};
use verify::{Expect, ScalingOptions, Verdict, judge_scaling};
use weighbridge_report::Report;
use weighbridge_report::synth::Scenario;

fn scenario(seed: u64) -> Scenario {
    Scenario::scale_out_and_in("task-", seed)
}

fn report() -> Report {
    scenario(1).report().expect("report")
}

fn both(within_s: f64) -> ScalingOptions {
    ScalingOptions {
        expect: Expect::Both,
        within_s,
        scale_in_within_s: 120.0,
        ..ScalingOptions::default()
    }
}

#[test]
fn scale_out_and_in_with_reaction_times() {
    let r = judge_scaling(&report(), &both(60.0));
    assert_eq!(r.verdict, Verdict::Pass, "{}", r.reason);
    let ecs = &r.targets[0];
    assert_eq!(
        (ecs.initial, ecs.min, ecs.max, ecs.instances_seen),
        (2, 2, 4, 4)
    );
    assert_eq!(ecs.events.len(), 2, "{:?}", ecs.events);
    let out = &ecs.events[0];
    assert_eq!((out.direction, out.from, out.to), (Direction::Up, 2, 4));
    assert_eq!(out.start_s, 90);
    let back = &ecs.events[1];
    assert_eq!(
        (back.direction, back.from, back.to),
        (Direction::Down, 4, 2)
    );
    assert!((239..=241).contains(&back.start_s), "{}", back.start_s);
    assert_eq!(ecs.scale_out_reactions.len(), 1);
    assert_eq!(ecs.scale_out_reactions[0].reaction_s, Some(30));
    let rin = ecs.scale_in_reactions[0]
        .reaction_s
        .expect("scale-in reaction");
    assert!((59..=61).contains(&rin), "{rin}");
    // The load: a rise at 0 (the run starts), one at 60 s, a fall at 180 s.
    let kinds: Vec<(Direction, u64)> = r.load.iter().map(|l| (l.direction, l.at_s)).collect();
    assert_eq!(
        kinds,
        vec![
            (Direction::Up, 0),
            (Direction::Up, 60),
            (Direction::Down, 180)
        ]
    );
}

#[test]
fn too_slow_a_scale_out_fails() {
    let r = judge_scaling(&report(), &both(20.0));
    assert_eq!(r.verdict, Verdict::Fail);
    assert!(r.reason.contains("scale-out"), "{}", r.reason);
}

#[test]
fn limits_and_cooldowns() {
    let mut o = ScalingOptions {
        max_instances: Some(3),
        ..ScalingOptions::default()
    };
    assert_eq!(judge_scaling(&report(), &o).verdict, Verdict::Fail);
    o.max_instances = Some(4);
    o.min_instances = Some(2);
    assert_eq!(judge_scaling(&report(), &o).verdict, Verdict::Pass);
    o.min_instances = Some(3);
    assert_eq!(judge_scaling(&report(), &o).verdict, Verdict::Fail);
    // Scale-in 60 s after the fall, but the cooldown says not before 90 s.
    let o = ScalingOptions {
        scale_in_not_before_s: 90.0,
        ..both(60.0)
    };
    let r = judge_scaling(&report(), &o);
    assert_eq!(r.verdict, Verdict::Fail);
    assert!(r.reason.contains("scale-in"), "{}", r.reason);
}

#[test]
fn expect_none_fails_on_any_event() {
    let o = ScalingOptions {
        expect: Expect::None,
        ..ScalingOptions::default()
    };
    assert_eq!(judge_scaling(&report(), &o).verdict, Verdict::Fail);
}

/// Four tasks throughout, but the first answers came 2.5 s into the run
/// (a slow start): the instances that answered first were there from the
/// start, so there is no 0 -> 4 scale-out.
#[test]
fn a_late_first_answer_is_not_a_scale_out() {
    let mut r = Scenario::constant(60, 100, &[("ecs", 1.0)], 4)
        .report()
        .expect("report");
    for h in r.hosts.values_mut() {
        h.first_seen = h.first_seen.max(2.5);
    }
    let o = ScalingOptions {
        expect: Expect::None,
        window_s: 1,
        ..ScalingOptions::default()
    };
    let v = judge_scaling(&r, &o);
    assert_eq!(v.verdict, Verdict::Pass, "{v:#?}");
    assert!(v.targets.iter().all(|t| t.events.is_empty()), "{v:#?}");
}

#[test]
fn no_scale_out_is_a_fail_after_the_deadline_and_inconclusive_before() {
    let mut s = scenario(2);
    s.instances.truncate(2); // never scales
    let r = judge_scaling(&s.report().expect("r"), &both(60.0));
    assert_eq!(r.verdict, Verdict::Fail, "{}", r.reason);
    // Deadline 10 min, run ends 4 min after the rise: cannot tell yet.
    let o = ScalingOptions {
        expect: Expect::ScaleOut,
        within_s: 600.0,
        ..ScalingOptions::default()
    };
    let r = judge_scaling(&s.report().expect("r"), &o);
    assert_eq!(r.verdict, Verdict::Inconclusive, "{}", r.reason);
}

#[test]
fn no_load_fall_means_scale_in_is_inconclusive() {
    let s = Scenario::constant(120, 50, &[("ecs", 1.0)], 3);
    let o = ScalingOptions {
        expect: Expect::ScaleIn,
        ..ScalingOptions::default()
    };
    let r = judge_scaling(&s.report().expect("r"), &o);
    assert_eq!(r.verdict, Verdict::Inconclusive);
    assert!(r.reason.contains("never showed a fall"), "{}", r.reason);
}

#[test]
fn failed_requests_while_scaling_are_counted() {
    let mut s = scenario(4);
    s.http_5xx = vec![("ecs".to_owned(), 0.02)];
    let o = ScalingOptions {
        max_failed_while_scaling: Some(0),
        ..ScalingOptions::default()
    };
    let r = judge_scaling(&s.report().expect("r"), &o);
    assert_eq!(r.verdict, Verdict::Fail);
    assert!(r.targets[0].events.iter().all(|e| e.failed_nearby > 0));
}

#[test]
fn a_ramp_is_one_rise() {
    let series: Vec<f64> = (0..12)
        .map(|w| {
            if w < 3 {
                10.0
            } else {
                f64::from(w.min(8)) * 15.0
            }
        })
        .collect();
    let changes = load_changes(&series, 10, 0.25);
    let rises: Vec<u64> = changes
        .iter()
        .filter(|c| c.direction == Direction::Up)
        .map(|c| c.at_s)
        .collect();
    assert_eq!(rises, vec![0, 30], "{changes:?}");
    assert_eq!(changes[1].to_rps, 120.0);
}

#[test]
fn command_line_json_text_and_exit_codes() {
    let dir = tempfile::tempdir().expect("tmp");
    let path = write(dir.path(), "scaling.json", &report());
    let v = json_output(
        verify().arg("scaling").arg(&path).args([
            "--target",
            "ecs",
            "--expect",
            "both",
            "--within",
            "1m",
            "--scale-in-within",
            "2m",
            "--format",
            "json",
        ]),
        0,
    );
    assert_eq!(v["schema"], "weighbridge.verify.scaling/v1");
    assert_eq!(v["verdict"], "PASS");
    assert_eq!(v["targets"][0]["events"][0]["from"], 2);
    assert_eq!(v["targets"][0]["scale_out_reactions"][0]["reaction_s"], 30);
    verify()
        .arg("scaling")
        .arg(&path)
        .args(["--expect", "scale-out", "--within", "20s"])
        .assert()
        .code(1)
        .stdout(
            predicate::str::contains("verdict:  FAIL")
                .and(predicate::str::contains("scale-out at 90 s")),
        );
    verify()
        .arg("scaling")
        .arg(&path)
        .args(["--within", "soon"])
        .assert()
        .code(64);
    verify()
        .arg("scaling")
        .arg(dir.path().join("missing.json"))
        .assert()
        .code(66);
}

/// A label the report does not have is an input error, as in `compare`:
/// judging a target that never served is no verdict at all.
#[test]
fn an_unknown_target_is_an_input_error() {
    let dir = tempfile::tempdir().expect("tmp");
    let path = write(dir.path(), "scaling.json", &report());
    verify()
        .arg("scaling")
        .arg(&path)
        .args(["--target", "nope", "--expect", "scale-out"])
        .assert()
        .code(65)
        .stdout("")
        .stderr(predicate::str::contains(
            "no target \"nope\" in the report (its targets: ecs)",
        ));
}

/// A send lag small next to the window leaves the verdict alone; one over
/// half the window holds it as INCONCLUSIVE, as the `bottleneck` flag
/// does for reports without the p99.
#[test]
fn send_lag_is_weighed_against_the_window() {
    let watch = |p99: Option<f64>, bottleneck: bool| {
        let mut r = report();
        r.loadgen = Some(weighbridge_report::LoadgenWatch {
            cpu_percent: 40.0,
            max_send_lag_ms: 400.0,
            send_lag_p99_ms: p99,
            bottleneck,
        });
        judge_scaling(&r, &both(60.0))
    };
    // The scenario's default window is 10 s: 5 s of p99 lag is its bound.
    let busy = watch(Some(1_500.0), true);
    assert_eq!(busy.verdict, Verdict::Pass, "{}", busy.reason);
    assert!(busy.loadgen_limited.is_none());
    let starved = watch(Some(6_000.0), true);
    assert_eq!(starved.verdict, Verdict::Inconclusive, "{}", starved.reason);
    assert!(
        starved.reason.contains("6000 ms late at p99"),
        "{}",
        starved.reason
    );
    let old = watch(None, true);
    assert_eq!(old.verdict, Verdict::Inconclusive, "{}", old.reason);
    assert_eq!(watch(None, false).verdict, Verdict::Pass);
}
