//! The `verify` binary: exit codes, output formats, help.

mod common;

use common::{json_output, policy_file, verify};
use predicates::prelude::*;

const POLICY: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../config/policy.json");

/// The repository's policy without its path rules: inline counts carry no
/// per-path data, so only a policy without rules can judge them.
const POLICY_WITHOUT_RULES: &str = r#"{"schema": "weighbridge.policy/v1",
  "targets": {"ecs": 10, "lambda": 90}, "base_path": "dev"}"#;

#[test]
fn pass_exits_0() {
    verify()
        .args([
            "split",
            "--counts",
            "ecs=100400,lambda=899600",
            "--weights",
            "ecs=10,lambda=90",
        ])
        .assert()
        .code(0)
        .stdout(predicate::str::contains("verdict:  PASS"));
}

#[test]
fn fail_exits_1() {
    verify()
        .args([
            "split",
            "--counts",
            "ecs=1300,lambda=8700",
            "--weights",
            "ecs=10,lambda=90",
        ])
        .assert()
        .code(1)
        .stdout(predicate::str::contains("verdict:  FAIL"));
}

#[test]
fn inconclusive_exits_2_and_says_how_many_requests() {
    verify()
        .args([
            "split",
            "--counts",
            "ecs=1042,lambda=8958",
            "--weights",
            "ecs=10,lambda=90",
        ])
        .assert()
        .code(2)
        .stdout(
            predicate::str::contains("INCONCLUSIVE")
                .and(predicate::str::contains("would decide it")),
        );
}

#[test]
fn policy_file_works() {
    let dir = tempfile::tempdir().expect("tmp");
    let policy = policy_file(dir.path(), "policy.json", POLICY_WITHOUT_RULES);
    verify()
        .args(["split", "--counts", "ecs=100400,lambda=899600", "--policy"])
        .arg(&policy)
        .assert()
        .code(0);
}

/// Inline counts cannot show a path-rule leak, so a policy with path rules
/// cannot PASS them: an input error that says why.
#[test]
fn inline_counts_against_a_policy_with_path_rules_are_an_input_error() {
    verify()
        .args([
            "split",
            "--counts",
            "ecs=100400,lambda=899600",
            "--policy",
            POLICY,
        ])
        .assert()
        .code(65)
        .stdout("")
        .stderr(
            predicate::str::contains("path rules (/small-woodland-creature -> ecs")
                .and(predicate::str::contains("no per-path counts")),
        );
}

#[test]
fn leak_to_unknown_target_exits_1() {
    let dir = tempfile::tempdir().expect("tmp");
    let policy = policy_file(dir.path(), "policy.json", POLICY_WITHOUT_RULES);
    verify()
        .args([
            "split",
            "--counts",
            "ecs=100400,lambda=899600,ec2=2",
            "--policy",
        ])
        .arg(&policy)
        .assert()
        .code(1)
        .stdout(predicate::str::contains("does not know"));
}

#[test]
fn json_has_the_fields() {
    let v = json_output(
        verify().args([
            "split",
            "--counts",
            "ecs=1042,lambda=8958",
            "--weights",
            "ecs=10,lambda=90",
            "--format",
            "json",
        ]),
        2,
    );
    assert_eq!(v["schema"], "weighbridge.verify.split/v1");
    assert_eq!(v["verdict"], "INCONCLUSIVE");
    assert_eq!(v["test"], "exact_binomial");
    assert_eq!(v["n"], 10000);
    assert_eq!(v["df"], 1);
    // scipy: stats.binomtest(1042, 10000, 0.1).pvalue
    let p = v["p_value"].as_f64().expect("p");
    assert!((p - 0.161_507_407_498_656_39).abs() < 1e-9);
    assert!((v["statistic"].as_f64().expect("stat") - 1.96).abs() < 1e-12);
    assert_eq!(v["targets"][0]["label"], "ecs");
    assert_eq!(v["targets"][0]["observed"], 1042);
    assert!(v["targets"][0]["interval"]["low"].is_f64());
    assert_eq!(v["targets"][0]["call"], "undecided");
    assert!(v["targets"][0]["band"]["high"].is_f64());
    assert_eq!(v["tolerance_relative_pct"], 50.0);
    assert!(v["required_n"].is_u64());
    assert!(v["notes"].is_array());
}

#[test]
fn usage_errors_exit_64_not_2() {
    for args in [
        vec!["split", "--counts", "ecs=1"],  // no weights
        vec!["split", "--weights", "ecs=1"], // no counts
        vec!["split", "--counts", "ecs=x", "--weights", "ecs=1"], // bad number
        vec![
            "split",
            "--counts",
            "ecs=1",
            "--weights",
            "ecs=1",
            "--bogus",
        ],
        vec![
            "split",
            "--counts",
            "ecs=1",
            "--weights",
            "ecs=1",
            "--alpha",
            "abc",
        ],
        vec!["split", "--counts", "ecs=1,ecs=2", "--weights", "ecs=1"], // duplicate
        vec![
            "split",
            "--counts",
            "ecs=1",
            "--weights",
            "ecs=1",
            "--policy",
            POLICY,
        ],
        vec![
            "split",
            "--counts",
            "ecs=1",
            "--weights",
            "ecs=1",
            "report.json",
        ],
        vec!["nonsense"],
        vec![],
    ] {
        verify()
            .args(&args)
            .assert()
            .code(64)
            .stderr(predicate::str::is_empty().not());
    }
}

#[test]
fn invalid_input_exits_65() {
    for args in [
        vec!["split", "--counts", "ecs=1", "--weights", "ecs=1000"],
        vec!["split", "--counts", "ecs=1", "--weights", "ecs=0,lambda=0"],
        vec![
            "split",
            "--counts",
            "ecs=1",
            "--weights",
            "ecs=1",
            "--alpha",
            "2",
        ],
        vec![
            "split",
            "--counts",
            "ecs=1",
            "--weights",
            "ecs=1",
            "--tolerance=-1",
        ],
    ] {
        verify()
            .args(&args)
            .assert()
            .code(65)
            .stderr(predicate::str::starts_with("verify: error:"));
    }
}

#[test]
fn invalid_policy_file_exits_65_and_missing_66() {
    let dir = std::env::temp_dir().join(format!("verify-cli-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("dir");
    let bad = dir.join("bad.json");
    std::fs::write(
        &bad,
        r#"{"schema": "weighbridge.policy/v1", "targets": {"a": 1000}}"#,
    )
    .expect("write");
    verify()
        .args(["split", "--counts", "a=1", "--policy"])
        .arg(&bad)
        .assert()
        .code(65)
        .stderr(predicate::str::contains("targets.a"));
    verify()
        .args(["split", "--counts", "a=1", "--policy"])
        .arg(dir.join("missing.json"))
        .assert()
        .code(66);
    std::fs::remove_dir_all(&dir).expect("cleanup");
}

#[test]
fn help_explains_flags_and_exit_codes() {
    verify().args(["split", "--help"]).assert().code(0).stdout(
        predicate::str::contains("--tolerance")
            .and(predicate::str::contains("--alpha"))
            .and(predicate::str::contains("1pp|50%"))
            .and(predicate::str::contains("64"))
            .and(predicate::str::contains("INCONCLUSIVE")),
    );
}
