//! `verify split --schedule ROLLOUT.json`: a finished rollout judged after
//! the fact, each step's window of the load report against the weights in
//! force during it. The reports are synthetic (fixed seeds), one per step
//! merged as loadgen workers' reports are, so every second's split is known.

mod common;

use std::path::{Path, PathBuf};

use common::{json_output, policy_file, verify, write};
use predicates::prelude::*;
use time::macros::datetime;
use verify::split::{ScheduleInputError, judge_schedule};
use verify::{SplitOptions, Verdict};
use weighbridge_policy::Policy;
use weighbridge_report::Report;
use weighbridge_report::rollout::Schedule;
use weighbridge_report::synth::{PathMix, Scenario};

/// Targets `stable` and `canary`, one path only `stable` may serve.
const POLICY: &str = r#"{
  "schema": "weighbridge.policy/v1",
  "targets": {"stable": 100, "canary": 0},
  "path_rules": [{"path": "/only-stable", "target": "stable"}]
}"#;

/// The same targets without path rules.
const POLICY_NO_RULES: &str = r#"{
  "schema": "weighbridge.policy/v1",
  "targets": {"stable": 100, "canary": 0}
}"#;

/// The rollout the router really did: 95/5, 75/25, 50/50.
const TRUTH: [f64; 3] = [0.05, 0.25, 0.5];

/// The load run starts at 12:00:00.250 (not on a whole second, as loadgen's
/// never is); each step is 60 s of load at `rps`.
const STEP_S: u64 = 60;

fn policy() -> Policy {
    POLICY.parse().expect("policy")
}

/// One step's load: 60 s at `rps` with `canary` at `share`, 5 % of requests
/// on the rule path (always `stable`), starting `step` minutes in.
fn step_load(step: usize, share: f64, rps: u64, paths_per_second: bool) -> Scenario {
    let mut s = Scenario::constant(
        STEP_S,
        rps,
        &[("stable", 1.0 - share), ("canary", share)],
        40 + step as u64,
    );
    s.started_at = datetime!(2025-03-01 12:00:00.250 UTC)
        + time::Duration::seconds((STEP_S * step as u64) as i64);
    s.paths = vec![
        PathMix {
            path: "/host".to_owned(),
            weight: 0.95,
            routed_to: None,
        },
        PathMix {
            path: "/only-stable".to_owned(),
            weight: 0.05,
            routed_to: Some("stable".to_owned()),
        },
    ];
    s.timeline_paths = paths_per_second;
    s
}

/// The whole rollout's load report: the three steps merged (180 s).
fn rollout_report(rps: u64, paths_per_second: bool) -> Report {
    let parts: Vec<Report> = TRUTH
        .iter()
        .enumerate()
        .map(|(i, &share)| {
            step_load(i, share, rps, paths_per_second)
                .report()
                .expect("report")
        })
        .collect();
    weighbridge_report::merge(&parts).expect("merged")
}

/// A hand-written schedule: step `i` says `canary` = `canary[i]` (of 100)
/// over minute `i` of the run, less 5 s of convergence after each change.
fn schedule_json(canary: &[u32]) -> String {
    let steps: Vec<String> = canary
        .iter()
        .enumerate()
        .map(|(i, &c)| {
            let from = datetime!(2025-03-01 12:00:05 UTC)
                + time::Duration::seconds((STEP_S * i as u64) as i64);
            let to = datetime!(2025-03-01 12:01:00 UTC)
                + time::Duration::seconds((STEP_S * i as u64) as i64);
            let fmt = |t: time::OffsetDateTime| {
                t.format(&time::format_description::well_known::Rfc3339)
                    .expect("rfc3339")
            };
            format!(
                r#"{{"weights": {{"stable": {}, "canary": {c}}},
                    "window": {{"from": "{}", "to": "{}"}}}}"#,
                100 - c,
                fmt(from),
                fmt(to)
            )
        })
        .collect();
    format!(
        r#"{{"schema": "weighbridge.rollout/v1", "steps": [{}]}}"#,
        steps.join(",\n")
    )
}

fn schedule_file(dir: &Path, name: &str, json: &str) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, json).expect("write schedule");
    path
}

fn schedule(dir: &Path, canary: &[u32]) -> Schedule {
    Schedule::read(schedule_file(dir, "parse.json", &schedule_json(canary))).expect("schedule")
}

#[test]
fn a_report_that_follows_its_schedule_passes_every_step() {
    let dir = tempfile::tempdir().expect("tmp");
    let report = rollout_report(2000, true);
    let judged = judge_schedule(
        &policy(),
        &report,
        &schedule(dir.path(), &[5, 25, 50]),
        &SplitOptions::default(),
    )
    .expect("judged");
    assert_eq!(judged.verdict, Verdict::Pass, "{judged:#?}");
    assert_eq!(judged.steps.len(), 3);
    assert!((judged.step_alpha - 0.001 / 3.0).abs() < 1e-15);
    for (i, step) in judged.steps.iter().enumerate() {
        assert_eq!(
            step.verdict,
            Verdict::Pass,
            "step {}: {}",
            i + 1,
            step.reason
        );
        // From 12:00:05 (second 5 starts at :05.25) to 12:01:00 (second 59
        // ends at :00.25, past it): seconds 5 to 58.
        let first = 5 + STEP_S * i as u64;
        assert_eq!(
            (step.window.judged_from_s, step.window.judged_to_s),
            (first, first + 54)
        );
        assert_eq!(step.split.alpha, judged.step_alpha);
        assert!(step.split.rule_routed > 0, "rule paths left out");
        let canary = step.shares["canary"];
        assert!((canary - TRUTH[i]).abs() < 0.01, "{canary}");
        // 54 of 60 s at 2000 rps, less 5 % on the rule path.
        assert!(step.split.total == 54 * 2000, "{}", step.split.total);
    }
    assert!(judged.unjudged > 0, "convergence seconds are not judged");
    assert!(judged.notes[0].contains("Bonferroni"), "{:?}", judged.notes);
}

#[test]
fn a_step_with_the_wrong_weights_fails_at_that_step() {
    let dir = tempfile::tempdir().expect("tmp");
    let report = write(dir.path(), "load.json", &rollout_report(2000, true));
    let policy = policy_file(dir.path(), "policy.json", POLICY);
    // Step 2 says 90/10; the router sent 75/25.
    let sched = schedule_file(dir.path(), "rollout.json", &schedule_json(&[5, 10, 50]));
    let junit = dir.path().join("junit.xml");
    let v = json_output(
        verify()
            .args(["split", "--format", "json"])
            .arg(&report)
            .arg("--policy")
            .arg(&policy)
            .arg("--schedule")
            .arg(&sched)
            .arg("--junit")
            .arg(&junit),
        1,
    );
    assert_eq!(v["schema"], "weighbridge.verify.schedule/v1");
    assert_eq!(v["verdict"], "FAIL");
    let reason = v["reason"].as_str().expect("reason");
    assert!(
        reason.starts_with("step 2 (stable 90 %, canary 10 %): stable got 7")
            && reason.contains("canary got 2"),
        "{reason}"
    );
    let verdicts: Vec<&str> = v["steps"]
        .as_array()
        .expect("steps")
        .iter()
        .map(|s| s["verdict"].as_str().expect("verdict"))
        .collect();
    assert_eq!(verdicts, ["PASS", "FAIL", "PASS"]);
    assert_eq!(v["steps"][1]["step"], 2);
    assert_eq!(v["steps"][1]["index"], 1);
    assert_eq!(v["steps"][1]["weights"]["canary"], 10);
    assert_eq!(v["steps"][1]["window"]["judged_from_s"], 65);
    assert_eq!(v["steps"][1]["split"]["verdict"], "FAIL");

    let xml = std::fs::read_to_string(&junit).expect("junit");
    assert!(
        xml.contains("tests=\"3\"") && xml.contains("failures=\"1\""),
        "{xml}"
    );
    let case = |name: &str| {
        let start = xml
            .find(&format!("<testcase name=\"{name}"))
            .unwrap_or_else(|| panic!("no case {name}: {xml}"));
        let end = xml[start..].find("</testcase>").expect("closed") + start;
        xml[start..end].to_owned()
    };
    assert!(case("step 2 (").contains("<failure"), "{xml}");
    assert!(!case("step 1 (").contains("<failure"), "{xml}");
    assert!(!case("step 3 (").contains("<failure"), "{xml}");
}

#[test]
fn text_markdown_and_html_show_every_step() {
    let dir = tempfile::tempdir().expect("tmp");
    let report = write(dir.path(), "load.json", &rollout_report(2000, true));
    let policy = policy_file(dir.path(), "policy.json", POLICY);
    let sched = schedule_file(dir.path(), "rollout.json", &schedule_json(&[5, 10, 50]));
    let summary = dir.path().join("summary.md");
    let html = dir.path().join("page.html");
    let out = verify()
        .env("GITHUB_STEP_SUMMARY", &summary)
        .arg("split")
        .arg(&report)
        .arg("--policy")
        .arg(&policy)
        .arg("--schedule")
        .arg(&sched)
        .arg("--html")
        .arg(&html)
        .assert()
        .code(1)
        .get_output()
        .stdout
        .clone();
    let text = String::from_utf8(out).expect("utf-8");
    let lines: Vec<&str> = text.lines().collect();
    assert!(lines[0].starts_with("step  weights"), "{text}");
    assert!(
        lines[1].starts_with("1     stable 95 %, canary 5 %"),
        "{text}"
    );
    assert!(lines[2].contains("[65, 119)"), "{text}");
    assert!(lines[2].contains("FAIL"), "{text}");
    assert!(text.contains("Bonferroni"), "{text}");
    assert!(
        text.contains("verdict:  FAIL — step 2 (stable 90 %, canary 10 %)"),
        "{text}"
    );
    let md = std::fs::read_to_string(&summary).expect("summary");
    assert!(md.contains("verify split --schedule: FAIL"), "{md}");
    assert!(
        md.contains("| 2 | stable 90 %, canary 10 % | \\[65, 119) |"),
        "{md}"
    );
    let page = std::fs::read_to_string(&html).expect("html");
    assert!(
        page.contains("Step 2: stable 90 %, canary 10 %"),
        "{page:.2000}"
    );
    assert!(page.contains("<svg"), "the run's charts");
}

#[test]
fn a_step_outside_the_report_is_invalid_input_naming_the_step() {
    let dir = tempfile::tempdir().expect("tmp");
    let report = write(dir.path(), "load.json", &rollout_report(200, true));
    let policy = policy_file(dir.path(), "policy.json", POLICY);
    let mut json = schedule_json(&[5, 25]);
    json = json.replace(
        "]}",
        r#", {"weights": {"canary": 100}, "window": {"from": "2025-03-01T13:00:00Z", "to": "2025-03-01T13:05:00Z"}}]}"#,
    );
    let sched = schedule_file(dir.path(), "late.json", &json);
    verify()
        .arg("split")
        .arg(&report)
        .arg("--policy")
        .arg(&policy)
        .arg("--schedule")
        .arg(&sched)
        .assert()
        .code(65)
        .stderr(
            predicate::str::contains("step 3 (steps[2], canary 100 %)")
                .and(predicate::str::contains(
                    "2025-03-01T13:00:00Z – 2025-03-01T13:05:00Z",
                ))
                .and(predicate::str::contains(
                    "2025-03-01T12:00:00.25Z – 2025-03-01T12:03:00.25Z",
                ))
                .and(predicate::str::contains(
                    "lies outside the report's timeline",
                )),
        );

    // A window shorter than a second of the timeline holds none of it.
    let json = r#"{"schema": "weighbridge.rollout/v1", "steps": [{"weights": {"stable": 1},
        "window": {"from": "2025-03-01T12:00:10Z", "to": "2025-03-01T12:00:10.900Z"}}]}"#;
    let sched = schedule_file(dir.path(), "short.json", json);
    verify()
        .arg("split")
        .arg(&report)
        .arg("--policy")
        .arg(&policy)
        .arg("--schedule")
        .arg(&sched)
        .assert()
        .code(65)
        .stderr(predicate::str::contains("step 1 (steps[0], stable 100 %)"))
        .stderr(predicate::str::contains("holds no whole second"));
}

#[test]
fn a_step_the_report_covers_in_part_is_judged_on_that_part_with_a_note() {
    let dir = tempfile::tempdir().expect("tmp");
    let report = rollout_report(2000, true);
    // The last step runs on to 12:05:00; the report ends at 12:03:00.25.
    let json = schedule_json(&[5, 25, 50]).replace("12:03:00Z", "12:05:00Z");
    let sched = Schedule::read(schedule_file(dir.path(), "long.json", &json)).expect("schedule");
    let judged =
        judge_schedule(&policy(), &report, &sched, &SplitOptions::default()).expect("judged");
    let last = &judged.steps[2];
    assert!(last.window.partial);
    assert_eq!((last.window.from_s, last.window.to_s), (125, 299));
    assert_eq!(
        (last.window.judged_from_s, last.window.judged_to_s),
        (125, 180)
    );
    assert_eq!(last.verdict, Verdict::Pass, "{}", last.reason);
    assert!(
        judged
            .notes
            .iter()
            .any(|n| n.starts_with("step 3 (") && n.contains("covers only seconds 125 to 180")),
        "{:?}",
        judged.notes
    );
}

#[test]
fn labels_the_policy_does_not_know_are_invalid_input_naming_them() {
    let dir = tempfile::tempdir().expect("tmp");
    let report = write(dir.path(), "load.json", &rollout_report(200, true));
    let policy = policy_file(dir.path(), "policy.json", POLICY);
    let json = schedule_json(&[5, 25, 50]).replace("\"canary\": 25", "\"green\": 25");
    let sched = schedule_file(dir.path(), "unknown.json", &json);
    verify()
        .arg("split")
        .arg(&report)
        .arg("--policy")
        .arg(&policy)
        .arg("--schedule")
        .arg(&sched)
        .assert()
        .code(65)
        .stderr(predicate::str::contains("step 2 (steps[1])"))
        .stderr(predicate::str::contains("unknown target \"green\""));
}

#[test]
fn malformed_and_missing_schedules_are_input_errors() {
    let dir = tempfile::tempdir().expect("tmp");
    let report = write(dir.path(), "load.json", &rollout_report(200, true));
    let policy = policy_file(dir.path(), "policy.json", POLICY);
    let run = |sched: &Path| {
        let mut cmd = verify();
        cmd.arg("split")
            .arg(&report)
            .arg("--policy")
            .arg(&policy)
            .arg("--schedule")
            .arg(sched);
        cmd
    };
    let truncated = schedule_file(dir.path(), "truncated.json", &schedule_json(&[5, 25])[..60]);
    run(&truncated)
        .assert()
        .code(65)
        .stderr(predicate::str::contains("not a well-formed"));
    let wrong_schema = schedule_file(
        dir.path(),
        "schema.json",
        &schedule_json(&[5]).replace("rollout/v1", "rollout/v9"),
    );
    run(&wrong_schema)
        .assert()
        .code(65)
        .stderr(predicate::str::contains("weighbridge.rollout/v9"));
    let overlapping = schedule_file(
        dir.path(),
        "overlap.json",
        &schedule_json(&[5, 25]).replace("12:01:05Z", "12:00:30Z"),
    );
    run(&overlapping)
        .assert()
        .code(65)
        .stderr(predicate::str::contains("must not overlap"));
    let too_heavy = schedule_file(
        dir.path(),
        "heavy.json",
        &schedule_json(&[5]).replace("\"canary\": 5", "\"canary\": 1000"),
    );
    run(&too_heavy)
        .assert()
        .code(65)
        .stderr(predicate::str::contains("step 1 (steps[0])"))
        .stderr(predicate::str::contains("out of range"));
    run(&dir.path().join("missing.json"))
        .assert()
        .code(66)
        .stderr(predicate::str::contains("cannot read schedule"));
}

#[test]
fn rule_paths_without_per_second_paths_are_refused_unless_the_policy_has_none() {
    let dir = tempfile::tempdir().expect("tmp");
    let old = rollout_report(2000, false);
    let sched = schedule(dir.path(), &[5, 25, 50]);
    let err =
        judge_schedule(&policy(), &old, &sched, &SplitOptions::default()).expect_err("refused");
    assert!(
        matches!(err, ScheduleInputError::NoPathsPerSecond { .. }),
        "{err}"
    );
    assert_eq!(err.exit_code(), 65);
    assert!(err.to_string().contains("timeline[].paths"), "{err}");
    // Without rules there is nothing to tell apart: judged (the rule-path
    // requests are ordinary ones then; `stable` served them all, so the
    // canary's share is a little lower than the router's split).
    let no_rules: Policy = POLICY_NO_RULES.parse().expect("policy");
    let judged = judge_schedule(&no_rules, &old, &sched, &SplitOptions::default())
        .expect("judged without rules");
    assert_eq!(judged.steps.len(), 3);
    assert!(judged.steps.iter().all(|s| s.split.rule_routed == 0));
}

#[test]
fn a_leak_to_a_target_the_step_does_not_name_fails_that_step() {
    let dir = tempfile::tempdir().expect("tmp");
    let report = rollout_report(200, true);
    // Step 1 names only stable: the canary has weight 0 then, and its 5 % leak.
    let json =
        schedule_json(&[5, 25, 50]).replacen(r#""stable": 95, "canary": 5"#, r#""stable": 100"#, 1);
    let sched = Schedule::read(schedule_file(dir.path(), "leak.json", &json)).expect("schedule");
    let judged =
        judge_schedule(&policy(), &report, &sched, &SplitOptions::default()).expect("judged");
    assert_eq!(judged.verdict, Verdict::Fail);
    assert!(
        judged.reason.starts_with("step 1 (stable 100 %): ")
            && judged.reason.contains("which has weight 0"),
        "{}",
        judged.reason
    );
}

#[test]
fn schedule_does_not_combine_with_other_judges_or_sources() {
    let dir = tempfile::tempdir().expect("tmp");
    let report = write(dir.path(), "load.json", &rollout_report(100, true));
    let sched = schedule_file(dir.path(), "rollout.json", &schedule_json(&[5]));
    for extra in [
        &["--sequential"][..],
        &["--window", "10s"],
        &["--sticky"],
        &["--max-error-rate", "1%"],
        &["--counts", "stable=1"],
    ] {
        verify()
            .args(["split", "--weights", "stable=1,canary=0"])
            .arg(&report)
            .arg("--schedule")
            .arg(&sched)
            .args(extra)
            .assert()
            .code(64)
            .stderr(predicate::str::contains("cannot be used with"));
    }
}

#[test]
fn a_sticky_policy_is_refused_and_weights_alone_are_enough() {
    let dir = tempfile::tempdir().expect("tmp");
    let report = write(dir.path(), "load.json", &rollout_report(200, true));
    let sched = schedule_file(dir.path(), "rollout.json", &schedule_json(&[5, 25, 50]));
    let sticky = policy_file(
        dir.path(),
        "sticky.json",
        &POLICY.replace(
            "\"path_rules\"",
            "\"stickiness\": {\"enabled\": true, \"duration_seconds\": 3600},\n  \"path_rules\"",
        ),
    );
    verify()
        .arg("split")
        .arg(&report)
        .arg("--policy")
        .arg(&sticky)
        .arg("--schedule")
        .arg(&sched)
        .assert()
        .code(65)
        .stderr(predicate::str::contains("sticky client"));
    // `--weights` gives the labels; the rule path is then an ordinary one.
    let v = json_output(
        verify()
            .args([
                "split",
                "--weights",
                "stable=1,canary=1",
                "--format",
                "json",
            ])
            .args(["--tolerance", "5pp"])
            .arg(&report)
            .arg("--schedule")
            .arg(&sched),
        0,
    );
    assert_eq!(v["verdict"], "PASS", "{v:#}");
}
