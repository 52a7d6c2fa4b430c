//! What every loadgen integration test does: run the binary to completion
//! and read the report it wrote, and check that every request is accounted for.

#![allow(dead_code)] // each test file uses a different part

use std::process::{Command, Output};

use weighbridge_report::Report;

pub(crate) fn loadgen() -> Command {
    Command::new(env!("CARGO_BIN_EXE_loadgen"))
}

/// Runs loadgen to completion (in a blocking thread) and reads its report.
pub(crate) async fn run(args: &[&str]) -> (Output, Report, tempfile::TempDir) {
    let dir = tempfile::tempdir().expect("tempdir");
    let out = dir.path().join("report.json");
    let mut cmd = loadgen();
    cmd.args(args).args(["--quiet", "--out"]).arg(&out);
    let output = tokio::task::spawn_blocking(move || cmd.output())
        .await
        .expect("join")
        .expect("run loadgen");
    let report = Report::read(&out).unwrap_or_else(|e| {
        panic!(
            "report unreadable ({e}); stderr: {}",
            String::from_utf8_lossy(&output.stderr)
        )
    });
    (output, report, dir)
}

pub(crate) fn assert_accounted(r: &Report) {
    let t = &r.totals;
    assert_eq!(t.scheduled, t.ok + t.failed + t.dropped, "{t:?}");
    assert_eq!(t.sent, t.ok + t.failed, "{t:?}");
    assert_eq!(t.failures.sum(), t.failed, "{t:?}");
    r.validate().expect("a valid report");
}
