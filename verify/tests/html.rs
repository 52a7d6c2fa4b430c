//! `--html FILE`: the self-contained page, through the binary, on synthetic
//! reports (fixed seeds).

mod common;

use std::path::Path;

use common::{fixture, verify, write};
use weighbridge_report::synth::{Instance, Scenario};

/// Runs verify with `args` and `--html page.html` in a temp dir; returns the
/// exit code, stdout and the page.
fn page(dir: &Path, args: &[&str]) -> (i32, String, String) {
    let html = dir.join("page.html");
    let out = verify()
        .args(args)
        .arg("--html")
        .arg(&html)
        .output()
        .expect("run");
    let page = std::fs::read_to_string(&html).unwrap_or_default();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        page,
    )
}

/// Nothing on the page may need the network to open.
fn assert_self_contained(page: &str) {
    assert!(
        page.starts_with("<!DOCTYPE html>"),
        "{}",
        &page[..100.min(page.len())]
    );
    for external in ["<script", "src=", "href=", "@import", "url("] {
        assert!(
            !page.contains(external),
            "the page loads something: {external}"
        );
    }
}

fn ecs_lambda(seed: u64) -> Scenario {
    let mut s = Scenario::constant(90, 250, &[("ecs", 0.1), ("lambda", 0.9)], seed);
    s.instances = vec![
        Instance {
            id: "task-1".into(),
            target: "ecs".into(),
            from: 0,
            to: u64::MAX,
        },
        Instance {
            id: "task-2".into(),
            target: "ecs".into(),
            from: 40,
            to: u64::MAX,
        },
    ];
    s
}

#[test]
fn split_page_has_the_verdict_and_four_charts() {
    let dir = tempfile::tempdir().expect("tempdir");
    let report = write(
        dir.path(),
        "r.json",
        &ecs_lambda(1).report().expect("report"),
    );
    let path = report.to_string_lossy().into_owned();
    let (code, stdout, page) = page(
        dir.path(),
        // 2 392 of 22 500 is 10.63 %: its interval reaches 11.3 %, inside 10 % ± 2 pp.
        &[
            "split",
            &path,
            "--weights",
            "ecs=10,lambda=90",
            "--tolerance",
            "2",
        ],
    );
    assert_eq!(code, 0, "{stdout}");
    assert_self_contained(&page);
    assert!(page.contains(r#"<span class="verdict PASS">PASS</span>"#));
    assert_eq!(
        page.matches("<svg").count(),
        4,
        "rate, split, latency, instances"
    );
    for title in [
        "Requests per second",
        "Split over time",
        "Latency per target",
        "Instances per target",
    ] {
        assert!(page.contains(title), "{title}");
    }
    // The configured shares are drawn and named; latency is per target.
    assert!(page.contains("ecs configured: 10.0 %"));
    assert!(page.contains("lambda configured: 90.0 %"));
    assert!(page.contains("ecs p99") && page.contains("lambda p50"));
    // The verdict table has each target's observed share.
    assert!(page.contains("<td>ecs</td>") && page.contains("<td>lambda</td>"));
}

#[test]
fn a_failing_split_says_fail_and_names_the_leak() {
    let dir = tempfile::tempdir().expect("tempdir");
    let s = Scenario::constant(60, 100, &[("ecs", 0.5), ("lambda", 0.5)], 2);
    let report = write(dir.path(), "r.json", &s.report().expect("report"));
    let path = report.to_string_lossy().into_owned();
    let (code, _, page) = page(
        dir.path(),
        &["split", &path, "--weights", "ecs=0,lambda=100"],
    );
    assert_eq!(code, 1);
    assert!(page.contains(r#"<span class="verdict FAIL">FAIL</span>"#));
    assert!(page.contains("<h2>Leaks</h2>") && page.contains("weight 0"));
}

#[test]
fn labels_from_the_input_are_escaped() {
    let dir = tempfile::tempdir().expect("tempdir");
    let s = Scenario::constant(30, 50, &[("ecs", 0.5), ("<script>x</script>", 0.5)], 3);
    let report = write(dir.path(), "r.json", &s.report().expect("report"));
    let path = report.to_string_lossy().into_owned();
    let (code, _, page) = page(dir.path(), &["split", &path, "--weights", "ecs=100"]);
    assert_eq!(code, 1, "an unknown target fails");
    assert_self_contained(&page);
    assert!(page.contains("&lt;script&gt;x&lt;/script&gt;"));
}

#[test]
fn inline_counts_have_a_page_without_a_timeline() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (code, _, page) = page(
        dir.path(),
        &[
            "split",
            "--counts",
            "ecs=2000,lambda=18000",
            "--weights",
            "ecs=10,lambda=90",
        ],
    );
    assert_eq!(code, 0);
    assert_self_contained(&page);
    assert!(page.contains("No timeline"));
    assert_eq!(page.matches("<svg").count(), 0);
}

#[test]
fn a_report_without_per_target_latency_charts_all_targets_together() {
    // The fixture predates timeline[].target_latency_ms.
    let dir = tempfile::tempdir().expect("tempdir");
    let path = fixture("report-small.json").to_string_lossy().into_owned();
    let (code, _, page) = page(
        dir.path(),
        &["split", &path, "--weights", "ecs=20,lambda=80"],
    );
    assert!(code <= 2, "a verdict, not an error: {code}");
    assert!(page.contains("all targets p99"));
    assert_eq!(page.matches("<svg").count(), 4);
}

#[test]
fn compare_page_shows_both_sides() {
    let dir = tempfile::tempdir().expect("tempdir");
    let s = Scenario::constant(60, 200, &[("stable", 0.5), ("canary", 0.5)], 4);
    let report = write(dir.path(), "r.json", &s.report().expect("report"));
    let path = report.to_string_lossy().into_owned();
    let (code, _, page) = page(
        dir.path(),
        &[
            "compare",
            &path,
            "--baseline",
            "stable",
            "--candidate",
            "canary",
        ],
    );
    assert_eq!(code, 0);
    assert_self_contained(&page);
    assert!(page.contains("<strong>stable</strong>") && page.contains("<strong>canary</strong>"));
    assert!(page.contains("Fisher exact p = "));
    assert_eq!(page.matches("<svg").count(), 4);
}

#[test]
fn scaling_page_lists_the_checks_and_the_events() {
    let dir = tempfile::tempdir().expect("tempdir");
    let report = write(
        dir.path(),
        "r.json",
        &ecs_lambda(5).report().expect("report"),
    );
    let path = report.to_string_lossy().into_owned();
    let (code, stdout, page) = page(
        dir.path(),
        &["scaling", &path, "--target", "ecs", "--max-instances", "1"],
    );
    assert_eq!(code, 1, "two ECS tasks break --max-instances 1: {stdout}");
    assert_self_contained(&page);
    assert!(page.contains("max-instances"));
    assert!(
        page.contains("<td>scale-out</td>"),
        "the second task is a 1 → 2 scale-out"
    );
    assert_eq!(page.matches("<svg").count(), 4);
}

#[test]
fn an_unwritable_page_is_an_error_after_the_verdict() {
    let dir = tempfile::tempdir().expect("tempdir");
    let out = verify()
        .args([
            "split",
            "--counts",
            "ecs=10,lambda=90",
            "--weights",
            "ecs=10,lambda=90",
        ])
        .arg("--html")
        .arg(dir.path().join("no-such-dir").join("page.html"))
        .output()
        .expect("run");
    assert_eq!(out.status.code(), Some(73));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("cannot write") && stderr.contains("page.html"),
        "{stderr}"
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("verdict:"));
}
