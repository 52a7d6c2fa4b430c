//! Files: round trip, atomic write, errors that name the file, forward
//! compatibility within v1 and refusal of other major versions.

mod common;

use std::fs;
use std::path::Path;

use serde_json::{Value, json};
use weighbridge_report::{ParseError, Report, ReportError, ValidationError};

fn entries(dir: &std::path::Path) -> Vec<String> {
    let mut names: Vec<String> = fs::read_dir(dir)
        .expect("dir readable")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

#[test]
fn json_round_trip_is_exact() {
    let report = common::sample();
    let text = report.to_json();
    assert!(text.contains("\"schema\": \"weighbridge.report/v1\""));
    assert!(text.contains("\"started_at\": \"2025-03-01T12:00:00Z\""));
    let back = Report::from_json(&text).expect("parses");
    assert_eq!(back, report);
    assert_eq!(back.to_json(), text, "output is deterministic");
}

#[test]
fn atomic_write_then_read_leaves_only_the_report() {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("report.json");
    let report = common::sample();
    report.write_atomic(&path).expect("writes");
    assert_eq!(entries(dir.path()), ["report.json"]);
    assert_eq!(Report::read(&path).expect("reads"), report);

    // Overwriting replaces the whole file, still without leftovers.
    let mut second = report.clone();
    second.interrupted = true;
    second.write_atomic(&path).expect("overwrites");
    assert_eq!(entries(dir.path()), ["report.json"]);
    assert!(Report::read(&path).expect("reads").interrupted);
}

#[cfg(unix)]
#[test]
fn written_report_is_readable_by_others() {
    use std::os::unix::fs::PermissionsExt as _;
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("report.json");
    common::sample().write_atomic(&path).expect("writes");
    let mode = fs::metadata(&path).expect("exists").permissions().mode();
    assert_eq!(mode & 0o044, 0o044, "mode {mode:o}");
}

#[test]
fn failed_write_names_the_file_and_leaves_nothing() {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("missing-dir").join("report.json");
    let err = common::sample()
        .write_atomic(&path)
        .expect_err("no such dir");
    // Found by the destination check, before anything is written.
    assert!(matches!(err, ReportError::Destination { .. }), "{err:?}");
    assert!(err.to_string().contains("missing-dir"), "{err}");
    assert!(entries(dir.path()).is_empty());
}

#[test]
fn read_errors_name_the_file_and_the_problem() {
    let dir = tempfile::tempdir().expect("temp dir");

    let missing = dir.path().join("nope.json");
    let err = Report::read(&missing).expect_err("missing");
    assert!(matches!(err, ReportError::Read { .. }), "{err:?}");
    assert!(err.to_string().contains("nope.json"), "{err}");

    let garbage = dir.path().join("garbage.json");
    fs::write(&garbage, "{ not json").expect("write");
    let err = Report::read(&garbage).expect_err("garbage");
    assert!(
        matches!(
            err,
            ReportError::Parse {
                source: ParseError::Json(_),
                ..
            }
        ),
        "{err:?}"
    );
    assert!(err.to_string().contains("garbage.json"), "{err}");

    let mut report = common::sample();
    report.totals.dropped += 1;
    let broken = dir.path().join("broken.json");
    report
        .write_atomic(&broken)
        .expect("writes even a broken report");
    let err = Report::read(&broken).expect_err("broken");
    assert!(
        matches!(
            err,
            ReportError::Parse {
                source: ParseError::Invalid(ValidationError::TotalsUnbalanced { .. }),
                ..
            }
        ),
        "{err:?}"
    );
    let message = err.to_string();
    assert!(
        message.contains("broken.json") && message.contains("scheduled"),
        "{message}"
    );
}

#[test]
fn unknown_fields_are_tolerated_within_v1() {
    let mut value: Value = serde_json::from_str(&common::sample().to_json()).expect("json");
    value["schema"] = json!("weighbridge.report/v1.4");
    value["future_section"] = json!({"anything": [1, 2, 3]});
    value["totals"]["retried"] = json!(3);
    value["targets"]["ecs"]["p999_ms"] = json!(12.5);
    value["timeline"][0]["cpu"] = json!(0.5);
    value["hosts"]["ecs-task-1"]["az"] = json!("eu-west-1a");
    value["config"]["max_in_flight"] = json!(512);
    value["config"]["timeout_s"] = json!(10);
    let report = Report::from_json(&value.to_string()).expect("a newer v1 writer is readable");
    assert_eq!(report.config.extra["timeout_s"], json!(10));
    assert_eq!(report.config.extra["max_in_flight"], json!(512));
    // Config extras survive a rewrite; unknown fields elsewhere are dropped.
    let rewritten = report.to_json();
    assert!(rewritten.contains("timeout_s") && !rewritten.contains("future_section"));
}

#[test]
fn another_major_version_is_refused_as_such() {
    // A v2 document may look nothing like v1; the error must be about the
    // version, not about a missing field.
    let v2 = json!({
        "schema": "weighbridge.report/v2",
        "runs": [],
    });
    let err = Report::from_json(&v2.to_string()).expect_err("v2");
    assert!(
        matches!(&err, ParseError::Invalid(ValidationError::UnsupportedSchema { found }) if found == "weighbridge.report/v2"),
        "{err:?}"
    );
    assert!(err.to_string().contains("weighbridge.report/v1"), "{err}");

    let other = json!({"schema": "something-else/v1"});
    assert!(matches!(
        Report::from_json(&other.to_string()),
        Err(ParseError::Invalid(
            ValidationError::UnsupportedSchema { .. }
        ))
    ));
}

#[test]
fn missing_schema_or_section_is_a_parse_error() {
    let mut value: Value = serde_json::from_str(&common::sample().to_json()).expect("json");
    value.as_object_mut().expect("object").remove("totals");
    let err = Report::from_json(&value.to_string()).expect_err("no totals");
    assert!(
        matches!(&err, ParseError::Json(e) if e.to_string().contains("totals")),
        "{err:?}"
    );
    value.as_object_mut().expect("object").remove("schema");
    assert!(matches!(
        Report::from_json(&value.to_string()),
        Err(ParseError::Json(_))
    ));
}

#[test]
fn timestamps_must_be_rfc3339() {
    let mut value: Value = serde_json::from_str(&common::sample().to_json()).expect("json");
    value["started_at"] = json!("2025-03-01 12:00:00");
    assert!(matches!(
        Report::from_json(&value.to_string()),
        Err(ParseError::Json(_))
    ));
    value["started_at"] = json!("2025-03-01T13:00:00.250+01:00");
    let report = Report::from_json(&value.to_string()).expect("offsets and fractions are RFC 3339");
    assert_eq!(
        report.started_at,
        common::T0 + time::Duration::milliseconds(250)
    );
}

/// What is at the path is not a regular writable file: the write is refused
/// as `Destination`, and the thing is left as it was (a rename used to
/// replace each with a regular file).
#[test]
fn write_refuses_what_it_would_replace() {
    use std::os::unix::fs::PermissionsExt as _;
    let dir = tempfile::tempdir().expect("temp dir");
    let report = common::sample();

    let readonly = dir.path().join("readonly.json");
    fs::write(&readonly, "keep").expect("write");
    fs::set_permissions(&readonly, fs::Permissions::from_mode(0o444)).expect("chmod");
    let target = dir.path().join("target.json");
    fs::write(&target, "target").expect("write");
    let link = dir.path().join("link.json");
    std::os::unix::fs::symlink(&target, &link).expect("symlink");
    let subdir = dir.path().join("sub");
    fs::create_dir(&subdir).expect("mkdir");

    for path in [&readonly, &link, &subdir] {
        let err = report.write_atomic(path).expect_err("refused");
        assert!(
            matches!(err, ReportError::Destination { .. }),
            "{path:?}: {err}"
        );
        assert!(
            err.to_string().contains(&path.display().to_string()),
            "{err}"
        );
    }
    assert_eq!(fs::read_to_string(&readonly).expect("read"), "keep");
    assert!(
        fs::symlink_metadata(&link)
            .expect("link")
            .file_type()
            .is_symlink()
    );
    assert_eq!(fs::read_to_string(&target).expect("read"), "target");
    assert!(subdir.is_dir());
    // A device (as root a rename would have replaced /dev/full itself).
    let err = Report::check_destination("/dev/full").expect_err("a device");
    assert!(matches!(err, ReportError::Destination { .. }), "{err}");
    assert!(Path::new("/dev/full").exists());
    // A directory that takes no file.
    let err = Report::check_destination("/proc/weighbridge-report.json").expect_err("/proc");
    assert!(matches!(err, ReportError::Destination { .. }), "{err}");
    // Nothing left behind by the checks.
    assert_eq!(
        entries(dir.path()),
        ["link.json", "readonly.json", "sub", "target.json"]
    );
}
