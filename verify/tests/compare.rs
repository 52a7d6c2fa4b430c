//! `verify compare`: the canary gate on synthetic reports whose truth is
//! known (fixed seeds), through the binary.

mod common;

use common::{verify, write};
use weighbridge_report::synth::Scenario;

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
                min_latency_increase_ms: 0.0,
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

/// Thresholds that would let anything through are refused before any
/// report is read: a NaN compares false with every number, and a side of
/// zero requests says nothing.
#[test]
fn thresholds_that_let_anything_pass_are_input_errors() {
    let mut s = stable_canary(6);
    s.http_5xx = vec![("canary".into(), 0.2)];
    s.slowdown = vec![("canary".into(), 3.0)];
    let (code, v) = compare(&s, &[]);
    assert_eq!((code, v["verdict"].as_str()), (1, Some("FAIL")), "{v:#}");
    for bad in [
        &["--max-error-increase", "NaN"][..],
        &["--max-latency-increase", "NaN"],
        &["--max-error-increase", "inf"],
        &["--max-latency-increase=-1"],
        &["--min-requests", "0"],
        &["--alpha", "NaN"],
    ] {
        let (code, v) = compare(&s, bad);
        assert_eq!((code, &v), (65, &serde_json::Value::Null), "{bad:?}");
    }
}

/// Fisher's one-sided test answers at once for counts of any size (the
/// exact sum stops where its terms vanish; past a standard deviation of
/// 10^4 the normal approximation answers) and agrees with the exact sum
/// where both apply.
#[test]
fn fisher_answers_for_any_counts() {
    use verify::compare::fisher_one_sided;
    // References, exact in rational arithmetic:
    //   python3 -c "from math import comb; from fractions import Fraction as F;
    //     M,K,N,k = 200000,150,100000,60;
    //     print(float(F(sum(comb(K,i)*comb(M-K,N-i) for i in range(k,K+1)), comb(M,N))))"
    // gives 0.994454250365235; with M,K,N,k = 20000,150,10000,90: 0.008588603234681502.
    let p = fisher_one_sided(90, 100_000, 60, 100_000);
    assert!((p - 0.994_454_250_365_235).abs() < 1e-9, "{p}");
    let p = fisher_one_sided(60, 10_000, 90, 10_000);
    assert!((p - 0.008_588_603_234_681_502).abs() < 1e-9, "{p}");
    // Huge counts: a real increase is still found, and no increase is not.
    let big = 1u64 << 50;
    assert!(fisher_one_sided(big / 100, big, big / 90, big) < 1e-12);
    assert!(fisher_one_sided(big / 100, big, big / 100, big) > 0.4);
    // Sums that overflow say nothing (judge_compare refuses them first).
    assert_eq!(
        fisher_one_sided(u64::MAX, u64::MAX, u64::MAX, u64::MAX),
        1.0
    );
}

/// A run whose load generator could not keep up says nothing about the
/// canary: the same data that PASS, and the same that FAIL, are
/// INCONCLUSIVE once the report says loadgen was the bottleneck.
#[test]
fn a_load_generator_that_could_not_keep_up_makes_the_gate_inconclusive() {
    use verify::compare::{CompareOptions, judge_compare};
    use verify::{ScalingOptions, Verdict, judge_scaling};
    use weighbridge_report::LoadgenWatch;
    let limited = Some(LoadgenWatch {
        cpu_percent: 99.0,
        max_send_lag_ms: 8_000.0,
        // Over half of scaling's default 10 s window, as well.
        send_lag_p99_ms: Some(6_000.0),
        bottleneck: true,
    });
    // The command line's defaults.
    let options = CompareOptions {
        baseline: "stable".into(),
        candidate: "canary".into(),
        alpha: 0.01,
        max_error_increase_pp: 1.0,
        max_latency_increase: 0.2,
        min_latency_increase_ms: 0.0,
        min_requests: 100,
    };
    let scaling = ScalingOptions::default();
    let mut healthy = stable_canary(1).report().expect("report");
    let compared = judge_compare(&healthy, &options).expect("judged");
    assert_eq!(compared.verdict, Verdict::Pass);
    assert_eq!(judge_scaling(&healthy, &scaling).verdict, Verdict::Pass);
    healthy.loadgen = limited;
    let r = judge_compare(&healthy, &options).expect("judged");
    assert_eq!(r.verdict, Verdict::Inconclusive, "{}", r.reason);
    assert!(
        r.reason.contains("could not keep up") && r.reason.contains("PASS"),
        "{}",
        r.reason
    );
    assert_eq!(
        judge_scaling(&healthy, &scaling).verdict,
        Verdict::Inconclusive
    );

    // A FAIL is held too: the errors may be loadgen's own.
    let mut worse = stable_canary(2);
    worse.http_5xx = vec![("canary".into(), 0.05)];
    let mut worse = worse.report().expect("report");
    assert_eq!(
        judge_compare(&worse, &options).expect("judged").verdict,
        Verdict::Fail
    );
    worse.loadgen = limited;
    assert_eq!(
        judge_compare(&worse, &options).expect("judged").verdict,
        Verdict::Inconclusive
    );
}
