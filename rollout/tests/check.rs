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
    let mix: &[&str] = if extra.contains(&"--path") {
        &[]
    } else {
        &["--path", "/host"]
    };
    let run = Command::new(env!("CARGO_BIN_EXE_check"))
        .args(["--url", &local.url("")])
        .args(mix)
        .arg("--policy")
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

/// Requests on a rule path are held to the rule second by second and left
/// out of the weighted split: with the router's rule, PASS, the rule-path
/// requests counted apart; judged against a policy whose rule names the
/// other target, FAIL at the first settled second.
#[test]
fn rule_paths_are_held_to_their_rule_as_the_load_runs() {
    let dir = tempfile::tempdir().expect("tempdir");
    let routed = r#"{"schema":"weighbridge.policy/v1","targets":{"ecs":10,"canary":90},
        "path_rules":[{"path":"/creature","target":"ecs"}],"base_path":"dev"}"#;
    let pfile = dir.path().join("policy.json");
    std::fs::write(&pfile, routed).expect("policy");
    let wrong = dir.path().join("wrong.json");
    std::fs::write(
        &wrong,
        routed.replace(r#""target":"ecs""#, r#""target":"canary""#),
    )
    .expect("policy");
    let policy: Policy = routed.parse().expect("valid policy");
    let local = Local::start(Options::new(policy, bin_dir())).expect("topology");
    let mix = ["--path", "/host:9,/creature:1", "--tolerance", "5"];
    let (code, v, report) = check(&local, &pfile, dir.path(), &mix);
    let (wrong_code, wrong_v, _) = check(&local, &wrong, dir.path(), &mix);
    local.stop();
    assert_eq!((code, v["verdict"].as_str()), (0, Some("PASS")), "{v:#}");
    let on_rule = report
        .paths
        .get("/dev/creature")
        .expect("rule-path requests in the report");
    assert_eq!(on_rule.keys().collect::<Vec<_>>(), ["ecs"], "{on_rule:?}");
    assert!(
        v["rule_routed"].as_u64().is_some_and(|n| n > 0),
        "rule-path requests counted apart: {v:#}"
    );
    assert!(
        report
            .timeline
            .iter()
            .any(|s| s.paths.contains_key("/dev/creature")),
        "the timeline has per-path counts"
    );
    assert_eq!(
        (wrong_code, wrong_v["verdict"].as_str()),
        (1, Some("FAIL")),
        "{wrong_v:#}"
    );
    assert!(
        wrong_v["reason"]
            .as_str()
            .is_some_and(|r| r.contains("reserved for canary")),
        "{wrong_v:#}"
    );
    assert!(
        wrong_v["sequential"]["stopped_at_s"]
            .as_u64()
            .is_some_and(|t| t <= 3),
        "{wrong_v:#}"
    );
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
