//! Command lines loadgen must refuse before sending anything: durations
//! beyond the maximum run (they used to panic, exit 101) and a zero
//! duration in either loop. Refusals are clap usage errors (exit 2) that
//! name the problem. The URL is a loopback port nobody listens on.

use std::process::Command;

fn loadgen(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_loadgen"))
        .args(["--url", "http://127.0.0.1:9/", "--quiet"])
        .args(args)
        .output()
        .expect("run loadgen")
}

fn assert_usage_error(args: &[&str], needle: &str) {
    let out = loadgen(args);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{args:?}: {err}");
    assert!(!err.contains("panicked"), "{args:?}: {err}");
    assert!(err.contains(needle), "{args:?}: {err}");
}

#[test]
fn durations_beyond_the_maximum_run_are_usage_errors() {
    assert_usage_error(&["--stages", "100000000000000s:1"], "maximum run");
    assert_usage_error(
        &["--rps", "1", "--duration", "18446744073709551615s"],
        "maximum run",
    );
    assert_usage_error(&["--rps", "max", "--duration", "25h"], "maximum run");
    // Each stage fits, the sum does not.
    assert_usage_error(&["--stages", "13h:1,12h:1"], "maximum run");
}

#[test]
fn zero_duration_is_refused_in_both_loops() {
    assert_usage_error(&["--rps", "max", "--duration", "0s"], "longer than 0");
    assert_usage_error(&["--rps", "10", "--duration", "0s"], "longer than 0");
}
