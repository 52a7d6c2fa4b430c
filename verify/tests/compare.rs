//! `verify compare`: the canary gate on synthetic reports whose truth is
//! known (fixed seeds), through the binary.

mod common;

use common::{verify, write};
use verify::synth::Scenario;

fn stable_canary(seed: u64) -> Scenario {
    Scenario::constant(60, 200, &[("stable", 0.5), ("canary", 0.5)], seed)
}

fn compare(s: &Scenario, extra: &[&str]) -> (i32, serde_json::Value) {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = write(dir.path(), "r.json", &s.report().expect("report"));
    let out = verify()
        .arg("compare")
        .arg(&path)
        .args([
            "--baseline",
            "stable",
            "--candidate",
            "canary",
            "--format",
            "json",
        ])
        .args(extra)
        .output()
        .expect("run");
    let v = serde_json::from_slice(&out.stdout).unwrap_or(serde_json::Value::Null);
    (out.status.code().unwrap_or(-1), v)
}

#[test]
fn a_healthy_canary_passes() {
    let (code, v) = compare(&stable_canary(1), &[]);
    assert_eq!((code, v["verdict"].as_str()), (0, Some("PASS")), "{v:#}");
}

#[test]
fn a_canary_with_more_errors_fails() {
    let mut s = stable_canary(2);
    s.http_5xx = vec![("canary".into(), 0.05)];
    let dir = tempfile::tempdir().expect("tempdir");
    let junit = dir.path().join("compare.xml");
    let junit_arg = junit.to_string_lossy().into_owned();
    let (code, v) = compare(&s, &["--junit", &junit_arg]);
    assert_eq!((code, v["verdict"].as_str()), (1, Some("FAIL")), "{v:#}");
    let xml = std::fs::read_to_string(&junit).expect("junit written");
    assert!(
        xml.contains(r#"failures="1""#) && xml.contains("<failure message="),
        "{xml}"
    );
    assert!(
        v["error_p_value"].as_f64().is_some_and(|p| p < 1e-6),
        "{v:#}"
    );
}

#[test]
fn a_slower_canary_fails_on_latency() {
    let mut s = stable_canary(3);
    s.slowdown = vec![("canary".into(), 1.6)];
    let (code, v) = compare(&s, &[]);
    assert_eq!((code, v["verdict"].as_str()), (1, Some("FAIL")), "{v:#}");
    assert!(v["p99_increase"].as_f64().is_some_and(|x| x > 0.4), "{v:#}");
}

#[test]
fn too_few_requests_is_inconclusive_and_unknown_targets_are_errors() {
    let s = Scenario::constant(2, 20, &[("stable", 0.5), ("canary", 0.5)], 4);
    let (code, v) = compare(&s, &[]);
    assert_eq!(
        (code, v["verdict"].as_str()),
        (2, Some("INCONCLUSIVE")),
        "{v:#}"
    );
    let (code, _) = compare(&Scenario::constant(10, 100, &[("stable", 1.0)], 5), &[]);
    assert_eq!(code, 65, "a report without the candidate is invalid input");
}

/// False alarms: 100 healthy canaries (fixed seeds, so the outcome is
/// reproducible) with both thresholds at zero, so only the two one-sided
/// tests at alpha 0.01 decide: together they false-alarm at most 2 % of the
/// time, and P(Binomial(100, 0.02) > 6) = 0.0041, the bound's false-alarm
/// rate.
#[test]
fn healthy_canaries_rarely_fail() {
    let fails = (100..200)
        .filter(|seed| {
            let r = stable_canary(*seed).report().expect("report");
            let o = verify::compare::CompareOptions {
                baseline: "stable".into(),
                candidate: "canary".into(),
                alpha: 0.01,
                max_error_increase_pp: 0.0,
                max_latency_increase: 0.0,
                min_requests: 100,
            };
            verify::compare::judge_compare(&r, &o)
                .expect("judge")
                .verdict
                == verify::Verdict::Fail
        })
        .count();
    assert!(fails <= 6, "{fails} of 100 healthy canaries failed");
}
