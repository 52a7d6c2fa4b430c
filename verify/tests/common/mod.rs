//! Shared test helpers: synthetic reports written to a temp dir, policy
//! files, the verify binary.
#![allow(dead_code, unreachable_pub)]

use std::path::{Path, PathBuf};

use assert_cmd::Command;
use weighbridge_report::Report;

pub fn verify() -> Command {
    Command::cargo_bin("verify").expect("binary built")
}

/// Runs `cmd`, checks its exit code, and parses its standard output as JSON.
pub fn json_output(cmd: &mut Command, code: i32) -> serde_json::Value {
    let out = cmd.assert().code(code).get_output().stdout.clone();
    serde_json::from_slice(&out).expect("JSON on standard output")
}

/// Writes `report` to `dir/name` and returns the path.
pub fn write(dir: &Path, name: &str, report: &Report) -> PathBuf {
    let path = dir.join(name);
    report.write_atomic(&path).expect("write report");
    path
}

/// Writes a policy file.
pub fn policy_file(dir: &Path, name: &str, json: &str) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, json).expect("write policy");
    path
}

pub const FIXTURES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures");

pub fn fixture(name: &str) -> PathBuf {
    Path::new(FIXTURES).join(name)
}
