//! `check` on the local topology (HAProxy from the policy, backends as
//! processes): the load stops as soon as the sequential judge decides, the
//! report says why, and the exit code is the verdict. Bounded: each run has
//! a `--max-duration`, and every process is stopped.
//!
//! False alarms: HAProxy's weighted draw is unseeded. A correct split FAILs
//! with probability at most alpha = 0.001 whenever `check` stops, and with
//! ±5 pp bands its sequences fit inside long before the 60 s limit (about
//! 2 000 requests, 5 s at 400 rps); the 10/90 policy against a 30/70 router
//! is 20 pp off, which the sequences exclude within a few hundred requests.

use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;
use topology::local::{Local, Options};
use weighbridge_policy::Policy;
use weighbridge_report::Report;
use weighbridge_testkit::workspace_bin;

const POLICY: &str =
    r#"{"schema":"weighbridge.policy/v1","targets":{"ecs":10,"canary":90},"base_path":"dev"}"#;

fn bin_dir() -> PathBuf {
    workspace_bin("backend")
        .parent()
        .expect("bin dir")
        .to_owned()
}

/// Runs check against `local`; returns (exit code, JSON verdict, report).
fn check(local: &Local, policy: &Path, dir: &Path, extra: &[&str]) -> (i32, Value, Report) {
    let out = dir.join("check.json");
    let run = Command::new(env!("CARGO_BIN_EXE_check"))
        .args(["--url", &local.url(""), "--path", "/host", "--policy"])
        .arg(policy)
        .args([
            "--rps",
            "400",
            "--max-duration",
            "60s",
            "--quiet",
            "--format",
            "json",
            "--out",
        ])
        .arg(&out)
        .args(extra)
        .output()
        .expect("run check");
    let v: Value = serde_json::from_slice(&run.stdout).unwrap_or_else(|e| {
        panic!(
            "check printed no JSON ({e}): {}{}",
            String::from_utf8_lossy(&run.stdout),
            String::from_utf8_lossy(&run.stderr)
        )
    });
    let report = Report::read(&out).expect("report");
    (run.status.code().unwrap_or(-1), v, report)
}

#[test]
fn check_stops_the_load_at_the_verdict() {
    let dir = tempfile::tempdir().expect("tempdir");
    let pfile = dir.path().join("policy.json");
    std::fs::write(&pfile, POLICY).expect("policy");
    let policy: Policy = POLICY.parse().expect("valid policy");

    // As configured, ±5 pp: PASS, long before the 60 s (24 000 requests).
    let local = Local::start(Options::new(policy.clone(), bin_dir())).expect("topology");
    let (code, v, report) = check(&local, &pfile, dir.path(), &["--tolerance", "5"]);
    local.stop();
    println!(
        "as configured: {} after {} s, {} requests scheduled",
        v["verdict"], v["sequential"]["stopped_at_s"], report.totals.scheduled
    );
    assert_eq!((code, v["verdict"].as_str()), (0, Some("PASS")), "{v:#}");
    let stop = report.stopped_by.as_ref().expect("stopped by the judge");
    assert_eq!(stop.by, "check");
    assert!(stop.reason.starts_with("PASS"), "{}", stop.reason);
    assert!(!report.interrupted);
    assert!(report.totals.scheduled < 400 * 30, "{:?}", report.totals);
    assert!(
        v["sequential"]["stopped_at_s"]
            .as_u64()
            .is_some_and(|t| t < 30),
        "{v:#}"
    );

    // The router draws 30/70 where the policy says 10/90: FAIL within seconds.
    let mut o = Options::new(policy, bin_dir());
    o.router_weights = Some(vec![("ecs".into(), 30), ("canary".into(), 70)]);
    let local = Local::start(o).expect("topology");
    let (code, v, report) = check(&local, &pfile, dir.path(), &[]);
    local.stop();
    println!(
        "30/70 router, 10/90 policy: {} after {} s, {} requests scheduled",
        v["verdict"], v["sequential"]["stopped_at_s"], report.totals.scheduled
    );
    assert_eq!((code, v["verdict"].as_str()), (1, Some("FAIL")), "{v:#}");
    assert!(
        report
            .stopped_by
            .is_some_and(|s| s.reason.starts_with("FAIL"))
    );
    assert!(report.totals.scheduled < 400 * 15, "{:?}", report.totals);
}

#[test]
fn a_path_on_an_exclusive_rule_is_refused_before_any_load() {
    let dir = tempfile::tempdir().expect("tempdir");
    let pfile = dir.path().join("policy.json");
    std::fs::write(
        &pfile,
        r#"{"schema":"weighbridge.policy/v1","targets":{"ecs":10,"canary":90},
            "path_rules":[{"path":"/creature","target":"ecs"}],"base_path":"dev"}"#,
    )
    .expect("policy");
    let run = Command::new(env!("CARGO_BIN_EXE_check"))
        .args([
            "--url",
            "http://127.0.0.1:9/dev",
            "--path",
            "/host:9,/creature:1",
            "--policy",
        ])
        .arg(&pfile)
        .arg("--out")
        .arg(dir.path().join("r.json"))
        .output()
        .expect("run check");
    assert_eq!(run.status.code(), Some(65));
    assert!(String::from_utf8_lossy(&run.stderr).contains("exclusive rule"));
    assert!(!dir.path().join("r.json").exists(), "no load was sent");
}

/// Bad numbers are usage errors before any load; a router that answers
/// nothing is never a PASS: INCONCLUSIVE, or FAIL with --max-error-rate.
#[test]
fn bad_input_and_a_dead_router_never_pass() {
    let dir = tempfile::tempdir().expect("tempdir");
    let out = dir.path().join("r.json");
    let check = || {
        let mut c = Command::new(env!("CARGO_BIN_EXE_check"));
        // Port 9 (discard) on loopback: nothing listens, every connect fails.
        c.args([
            "--url",
            "http://127.0.0.1:9/dev",
            "--weights",
            "a=1,b=1",
            "--quiet",
            "--out",
        ])
        .arg(&out)
        .stdout(std::process::Stdio::null());
        c
    };
    for bad in [
        &["--rps", "0"][..],
        &["--max-duration", "0s"],
        &["--alpha", "nan"],
    ] {
        let code = check().args(bad).status().expect("run check").code();
        assert!(matches!(code, Some(64 | 65)), "{bad:?}: {code:?}");
        assert!(!out.exists(), "{bad:?}: no load was sent");
    }
    let dead = check()
        .args(["--max-duration", "2s"])
        .status()
        .expect("run check");
    assert_eq!(dead.code(), Some(2));
    let dead = check()
        .args(["--max-duration", "2s", "--max-error-rate", "1%"])
        .status()
        .expect("run check");
    assert_eq!(dead.code(), Some(1));
}
