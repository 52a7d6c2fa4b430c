//! `rollout` on the local topology (HAProxy from the policy, the targets as
//! processes): a five-step schedule walked on the runtime API, each step
//! judged on its own window of one load. Bounded: every step has a hold and
//! a longest hold, the load a duration; every process is stopped (by PID,
//! when the topology is dropped, a failed assertion included).
//!
//! False alarms: HAProxy's draw is unseeded. Each step's split is judged at
//! alpha / 5 with anytime-valid confidence sequences, the gate's looks at
//! alpha / 5 / 3: a healthy rollout FAILs with probability at most
//! alpha = 0.001.
//!
//! The gate's power: it FAILs a candidate only on evidence, and PASSes a
//! step only once each side has `--min-requests` (200 here), the step held
//! longer until then (up to `--max-hold`, 18 s). The bad candidate (5 % of
//! its responses 500s) at weight 5 gets about 120 requests in the 6 s hold
//! at 400 rps, so the gate first judges it at the second look (12 s, about
//! 240 requests): Fisher's test rejects at 0.001 / 5 / 3 with 4 or more
//! failures (the baseline has none; p ≈ 0.05^4), which Bin(240, 0.05) misses
//! with probability 0.0019, and the third look (18 s, 360 requests) with
//! 1.3e-5. Missed, the step is INCONCLUSIVE, never PASS.

use std::io::{BufRead as _, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;
use topology::local::{Local, Options};
use weighbridge_policy::Policy;
use weighbridge_report::Report;
use weighbridge_testkit::workspace_bin;

const POLICY: &str = r#"{"schema":"weighbridge.policy/v1",
    "targets":{"stable":100,"canary":0},"base_path":"dev",
    "rollout":{"steps":[
        {"weights":{"stable":100,"canary":0},"hold":"3s"},
        {"weights":{"stable":95,"canary":5},"hold":"6s"},
        {"weights":{"stable":75,"canary":25},"hold":"6s"},
        {"weights":{"stable":50,"canary":50},"hold":"6s"},
        {"weights":{"canary":100},"hold":"4s"}]}}"#;

fn bin_dir() -> PathBuf {
    workspace_bin("backend")
        .parent()
        .expect("bin dir")
        .to_owned()
}

fn policy_file(dir: &Path, text: &str) -> PathBuf {
    let p = dir.join("policy.json");
    std::fs::write(&p, text).expect("policy");
    p
}

/// The rollout command against `local`, JSON on stdout.
fn rollout_cmd(local: &Local, policy: &Path, dir: &Path, extra: &[&str]) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_rollout"));
    c.args(["--url", &local.url(""), "--path", "/host", "--haproxy"])
        .arg(&local.runtime.socket)
        .arg("--policy")
        .arg(policy)
        .args([
            "--rps",
            "400",
            "--tolerance",
            "5pp",
            "--quiet",
            "--format",
            "json",
        ])
        .arg("--out")
        .arg(dir.join("rollout.json"))
        .arg("--load-out")
        .arg(dir.join("load.json"))
        .arg("--junit")
        .arg(dir.join("rollout.xml"))
        .args(extra);
    c
}

/// Runs rollout; returns (exit code, the rollout report, the load report).
fn rollout(local: &Local, policy: &Path, dir: &Path, extra: &[&str]) -> (i32, Value, Report) {
    let run = rollout_cmd(local, policy, dir, extra)
        .output()
        .expect("run rollout");
    let v: Value = serde_json::from_slice(&run.stdout).unwrap_or_else(|e| {
        panic!(
            "rollout printed no JSON ({e}): {}{}",
            String::from_utf8_lossy(&run.stdout),
            String::from_utf8_lossy(&run.stderr)
        )
    });
    let written: Value = serde_json::from_str(
        &std::fs::read_to_string(dir.join("rollout.json")).expect("rollout report"),
    )
    .expect("rollout report JSON");
    assert_eq!(v, written, "stdout and the report file say the same");
    let load = Report::read(dir.join("load.json")).expect("load report");
    (run.status.code().unwrap_or(-1), v, load)
}

fn weights_now(local: &Local, policy: &Policy) -> Vec<(String, u32)> {
    local
        .runtime
        .weights(&topology::haproxy::draw_order(policy))
        .expect("weights")
        .into_iter()
        .map(|f| (f.target, f.weight))
        .collect()
}

fn w(pairs: &[(&str, u32)]) -> Vec<(String, u32)> {
    let mut v: Vec<(String, u32)> = pairs.iter().map(|(l, x)| ((*l).to_owned(), *x)).collect();
    v.sort();
    v
}

fn sorted(mut v: Vec<(String, u32)>) -> Vec<(String, u32)> {
    v.sort();
    v
}

#[test]
fn a_healthy_candidate_walks_every_step() {
    let dir = tempfile::tempdir().expect("tempdir");
    let pfile = policy_file(dir.path(), POLICY);
    let policy: Policy = POLICY.parse().expect("policy");
    let local = Local::start(Options::new(policy.clone(), bin_dir())).expect("topology");
    let (code, v, load) = rollout(&local, &pfile, dir.path(), &[]);
    let after = weights_now(&local, &policy);
    local.stop();
    println!(
        "healthy: {} in {} steps, {} requests, {} failed",
        v["verdict"],
        v["steps"].as_array().map_or(0, Vec::len),
        load.totals.scheduled,
        load.totals.failed
    );
    assert_eq!((code, v["verdict"].as_str()), (0, Some("PASS")), "{v:#}");
    let steps = v["steps"].as_array().expect("steps");
    assert_eq!(steps.len(), 5, "{v:#}");
    for (i, s) in steps.iter().enumerate() {
        assert_eq!(s["verdict"], "PASS", "step {i}: {s:#}");
        assert_eq!(s["router"]["verdict"], "PASS", "step {i}");
        assert_eq!(s["weights"], s["applied"], "step {i}: read back as set");
        // Windows follow each other, each after its change.
        assert!(s["window"]["to_s"].as_u64() > s["window"]["from_s"].as_u64());
    }
    // The gate runs where both sides have weight, only there.
    assert!(steps[0]["gate"].is_null() && steps[4]["gate"].is_null());
    assert!(
        steps[1..4].iter().all(|s| s["gate"]["verdict"] == "PASS"),
        "{v:#}"
    );
    assert_eq!(load.totals.failed, 0, "{:?}", load.totals);
    assert_eq!(load.totals.dropped, 0, "{:?}", load.totals);
    assert_eq!(v["rolled_back"], false);
    assert_eq!(sorted(after), w(&[("stable", 0), ("canary", 100)]));
    let junit = std::fs::read_to_string(dir.path().join("rollout.xml")).expect("junit");
    assert_eq!(junit.matches("<testcase").count(), 5, "{junit}");
    assert!(!junit.contains("<failure"), "{junit}");

    // The same run judged after the fact by verify, from the two reports.
    let verify = Command::new(workspace_bin("verify"))
        .args(["split"])
        .arg(dir.path().join("load.json"))
        .arg("--policy")
        .arg(&pfile)
        .arg("--schedule")
        .arg(dir.path().join("rollout.json"))
        .args(["--tolerance", "5pp", "--format", "json"])
        .output()
        .expect("verify");
    let judged: Value = serde_json::from_slice(&verify.stdout).expect("verify JSON");
    assert_eq!(verify.status.code(), Some(0), "{judged:#}");
    assert_eq!(
        judged["steps"].as_array().map(Vec::len),
        Some(5),
        "{judged:#}"
    );
}

#[test]
fn a_faulty_candidate_is_rolled_back_where_the_gate_sees_it() {
    let dir = tempfile::tempdir().expect("tempdir");
    let pfile = policy_file(dir.path(), POLICY);
    let policy: Policy = POLICY.parse().expect("policy");
    let mut o = Options::new(policy.clone(), bin_dir());
    o.target_env
        .insert("canary".into(), vec![("FAULT_RATE".into(), "0.05".into())]);
    let local = Local::start(o).expect("topology");
    let (code, v, load) = rollout(&local, &pfile, dir.path(), &[]);
    let after = weights_now(&local, &policy);
    local.stop();
    println!("faulty: {}: {}", v["verdict"], v["reason"]);
    assert_eq!((code, v["verdict"].as_str()), (1, Some("FAIL")), "{v:#}");
    let steps = v["steps"].as_array().expect("steps");
    // Step 1 has no candidate traffic; step 2 (5 %) is the first where the
    // gate can see it, and does.
    assert_eq!(steps.len(), 2, "{v:#}");
    assert_eq!(steps[0]["verdict"], "PASS");
    assert_eq!(steps[1]["verdict"], "FAIL");
    assert_eq!(steps[1]["gate"]["verdict"], "FAIL", "{:#}", steps[1]);
    assert!(
        steps[1]["gate"]["candidate_failed"].as_u64() > Some(0),
        "{:#}",
        steps[1]
    );
    assert_eq!(steps[1]["gate"]["baseline_failed"], 0);
    assert!(
        v["reason"]
            .as_str()
            .is_some_and(|r| r.starts_with("step 2")),
        "{v:#}"
    );
    // Rolled back to the first step's weights, as read back from the router.
    assert_eq!(v["rolled_back"], true);
    assert_eq!(v["final_weights"]["stable"], 100);
    assert_eq!(v["final_weights"]["canary"], 0);
    assert_eq!(sorted(after), w(&[("stable", 100), ("canary", 0)]));
    assert!(load.targets["canary"].failed > 0);
    let junit = std::fs::read_to_string(dir.path().join("rollout.xml")).expect("junit");
    assert_eq!(junit.matches("<failure").count(), 1, "{junit}");
}

#[test]
fn a_router_that_reports_a_change_it_did_not_make_fails_the_three_way_check() {
    let dir = tempfile::tempdir().expect("tempdir");
    let pfile = policy_file(dir.path(), POLICY);
    let policy: Policy = POLICY.parse().expect("policy");
    let mut o = Options::new(policy, bin_dir());
    o.frozen_weights = true;
    let local = Local::start(o).expect("topology");
    let (code, v, _) = rollout(&local, &pfile, dir.path(), &[]);
    local.stop();
    println!("frozen router: {}: {}", v["verdict"], v["reason"]);
    assert_eq!((code, v["verdict"].as_str()), (1, Some("FAIL")), "{v:#}");
    let steps = v["steps"].as_array().expect("steps");
    assert_eq!(steps.len(), 2, "{v:#}");
    // The router says 95/5 (read back equal), the traffic stays 100/0.
    assert_eq!(steps[1]["router"]["verdict"], "PASS");
    assert_eq!(steps[1]["split"]["verdict"], "FAIL", "{:#}", steps[1]);
    assert_eq!(steps[1]["split"]["shares"]["canary"], 0.0);
    assert!(
        steps[1]["reason"]
            .as_str()
            .is_some_and(|r| r.contains("does not follow")),
        "{:#}",
        steps[1]
    );
}

#[test]
fn sigterm_rolls_back_and_writes_both_reports() {
    let dir = tempfile::tempdir().expect("tempdir");
    let pfile = policy_file(dir.path(), POLICY);
    let policy: Policy = POLICY.parse().expect("policy");
    let local = Local::start(Options::new(policy.clone(), bin_dir())).expect("topology");
    let cmd = rollout_cmd(&local, &pfile, dir.path(), &[]);
    // Text on stdout, to see the steps go by.
    let args: Vec<String> = cmd
        .get_args()
        .map(|a| a.to_string_lossy().into_owned())
        .filter(|a| a != "--quiet")
        .collect();
    let mut cmd = Command::new(cmd.get_program());
    cmd.args(
        args.iter()
            .map(|a| if a == "json" { "text" } else { a.as_str() }),
    )
    .stdout(Stdio::piped());
    let mut child = cmd.spawn().expect("rollout");
    let stdout = child.stdout.take().expect("stdout");
    let deadline = Instant::now() + Duration::from_secs(60);
    let mut seen = Vec::new();
    let mut reader = BufReader::new(stdout);
    loop {
        let mut line = String::new();
        assert!(
            reader.read_line(&mut line).expect("read") > 0,
            "rollout ended: {seen:#?}"
        );
        let line = line.trim_end().to_owned();
        seen.push(line.clone());
        // Step 3 (25 %) set: stop it there.
        if line.starts_with("step 3/5: ") && line.contains(" set; ") {
            break;
        }
        assert!(Instant::now() < deadline, "no step 3 in 60 s: {seen:#?}");
    }
    // Keep reading, so rollout's stdout stays open.
    let rest = std::thread::spawn(move || {
        let mut lines = Vec::new();
        for line in reader.lines().map_while(Result::ok) {
            lines.push(line);
        }
        lines
    });
    let pid = nix::unistd::Pid::from_raw(i32::try_from(child.id()).expect("pid"));
    nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGTERM).expect("SIGTERM");
    let status = child.wait().expect("wait");
    seen.extend(rest.join().expect("reader"));
    let after = weights_now(&local, &policy);
    local.stop();
    assert_eq!(status.code(), Some(130), "{seen:#?}");
    let v: Value = serde_json::from_str(
        &std::fs::read_to_string(dir.path().join("rollout.json")).expect("rollout report"),
    )
    .expect("JSON");
    assert_eq!(v["rolled_back"], true, "{v:#}");
    assert!(
        v["reason"]
            .as_str()
            .is_some_and(|r| r.contains("interrupted")),
        "{v:#}"
    );
    assert_eq!(sorted(after), w(&[("stable", 100), ("canary", 0)]));
    let load = Report::read(dir.path().join("load.json")).expect("load report");
    assert!(load.interrupted || load.stopped_by.is_some());
}

/// Every bad input is refused before any weight changes, with verify's
/// exit codes.
#[test]
fn bad_input_changes_nothing() {
    let dir = tempfile::tempdir().expect("tempdir");
    let pfile = policy_file(dir.path(), POLICY);
    let policy: Policy = POLICY.parse().expect("policy");
    let local = Local::start(Options::new(policy.clone(), bin_dir())).expect("topology");
    let before = weights_now(&local, &policy);
    let no_steps = dir.path().join("no-steps.json");
    std::fs::write(
        &no_steps,
        r#"{"schema":"weighbridge.policy/v1","targets":{"stable":100,"canary":0}}"#,
    )
    .expect("policy");
    let unknown_step = dir.path().join("unknown-step.json");
    std::fs::write(
        &unknown_step,
        POLICY.replace(r#"{"canary":100}"#, r#"{"green":100}"#),
    )
    .expect("policy");
    let run = |policy: &Path, extra: &[&str]| {
        let out = rollout_cmd(&local, policy, dir.path(), extra)
            .output()
            .expect("rollout");
        (
            out.status.code().unwrap_or(-1),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    };
    let cases: Vec<(&str, (i32, String), i32, &str)> = vec![
        ("no steps", run(&no_steps, &[]), 65, "rollout.steps"),
        (
            "unknown label in a step",
            run(&unknown_step, &[]),
            65,
            "green",
        ),
        (
            "unknown rollback label",
            run(&pfile, &["--rollback-weights", "blue=100"]),
            65,
            "blue",
        ),
        (
            "unknown baseline",
            run(&pfile, &["--baseline", "blue"]),
            65,
            "blue",
        ),
        (
            "alpha out of range",
            run(&pfile, &["--alpha", "0.7"]),
            65,
            "alpha",
        ),
        (
            "no such policy",
            run(&dir.path().join("none.json"), &[]),
            66,
            "none.json",
        ),
    ];
    let unreachable = Command::new(env!("CARGO_BIN_EXE_rollout"))
        .args(["--url", &local.url(""), "--haproxy"])
        .arg(dir.path().join("no.sock"))
        .arg("--policy")
        .arg(&pfile)
        .arg("--out")
        .arg(dir.path().join("r.json"))
        .arg("--load-out")
        .arg(dir.path().join("l.json"))
        .output()
        .expect("rollout");
    let after = weights_now(&local, &policy);
    local.stop();
    for (what, (code, stderr), want, names) in &cases {
        assert_eq!(code, want, "{what}: {stderr}");
        assert!(stderr.contains(names), "{what}: {stderr}");
    }
    let stderr = String::from_utf8_lossy(&unreachable.stderr);
    assert_eq!(unreachable.status.code(), Some(69), "{stderr}");
    assert!(stderr.contains("no weight was changed"), "{stderr}");
    assert!(!dir.path().join("r.json").exists() && !dir.path().join("l.json").exists());
    assert_eq!(before, after, "no weight changed");
}
