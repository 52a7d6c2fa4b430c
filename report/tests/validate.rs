//! One test per kind of breakage: each breaks one thing in a valid report and
//! checks that both `validate` and the reading path reject it with the
//! expected error.

mod common;

use weighbridge_report::{
    HistogramKind, ParseError, Report, TargetRecorder, ValidationError, encode_histogram,
    new_histogram,
};

/// Breaks a valid sample with `f` and returns the error. Also checks that the
/// text form of the broken report is refused by `from_json` with the same
/// error, so no reading path accepts it either.
fn broken(f: impl FnOnce(&mut Report)) -> ValidationError {
    let mut report = common::sample();
    f(&mut report);
    let err = report
        .validate()
        .expect_err("the broken report must be rejected");
    match Report::from_json(&report.to_json()) {
        Err(ParseError::Invalid(e)) => assert_eq!(e, err),
        // JSON has no NaN or infinity: serde_json writes them as null,
        // which no longer parses as a number.
        Err(ParseError::Json(_)) if matches!(err, ValidationError::InvalidNumber { value, .. } if !value.is_finite()) =>
            {}
        other => panic!("from_json must reject with {err:?}, got {other:?}"),
    }
    assert!(!err.to_string().is_empty());
    err
}

fn first_second_with_target(r: &Report, label: &str) -> usize {
    r.timeline
        .iter()
        .position(|s| s.targets.get(label).is_some_and(|n| *n > 0))
        .expect("sample has traffic for every target")
}

#[test]
fn sample_is_valid() {
    common::sample().validate().expect("valid");
}

#[test]
fn wrong_schema() {
    let err = broken(|r| r.schema = "weighbridge.report/v2".into());
    assert_eq!(
        err,
        ValidationError::UnsupportedSchema {
            found: "weighbridge.report/v2".into()
        }
    );
    assert!(err.to_string().contains("weighbridge.report/v1"), "{err}");
}

#[test]
fn zero_workers() {
    assert_eq!(broken(|r| r.config.workers = 0), ValidationError::NoWorkers);
}

#[test]
fn nan_negative_and_infinite_numbers() {
    let err = broken(|r| r.config.rps = f64::NAN);
    assert!(
        matches!(&err, ValidationError::InvalidNumber { field, .. } if field == "config.rps"),
        "{err:?}"
    );
    let err = broken(|r| r.hosts.values_mut().for_each(|h| h.first_seen = -1.0));
    assert!(
        matches!(&err, ValidationError::InvalidNumber { field, value } if field.ends_with("first_seen") && *value == -1.0),
        "{err:?}"
    );
    let err = broken(|r| r.loadgen.as_mut().expect("sample watches").cpu_percent = f64::INFINITY);
    assert!(
        matches!(&err, ValidationError::InvalidNumber { field, .. } if field == "loadgen.cpu_percent"),
        "{err:?}"
    );
    let err = broken(|r| r.targets.get_mut("ecs").expect("ecs").raw_latency_ms.p50 = -0.5);
    assert!(
        matches!(&err, ValidationError::InvalidNumber { field, .. } if field == "targets.ecs.raw_latency_ms.p50"),
        "{err:?}"
    );
}

#[test]
fn negative_counts_do_not_parse() {
    let text = common::sample()
        .to_json()
        .replacen("\"dropped\": ", "\"dropped\": -", 1);
    assert!(matches!(Report::from_json(&text), Err(ParseError::Json(_))));
}

#[test]
fn percentiles_decrease() {
    let err = broken(|r| {
        let l = r.timeline[0].latency_ms.as_mut().expect("ok traffic");
        l.p90 = l.p99 + 1.0;
    });
    assert_eq!(
        err,
        ValidationError::PercentilesDecrease {
            field: "timeline[t=0].latency_ms".into()
        }
    );
}

#[test]
fn target_percentiles_decrease() {
    let err = broken(|r| {
        let l = r.timeline[0]
            .target_latency_ms
            .get_mut("ecs")
            .expect("ecs answered in second 0");
        l.p50 = l.p90 + 1.0;
    });
    assert_eq!(
        err,
        ValidationError::PercentilesDecrease {
            field: "timeline[t=0].target_latency_ms.ecs".into()
        }
    );
}

#[test]
fn target_latency_of_a_target_that_did_not_serve() {
    let err = broken(|r| {
        let l = r.timeline[0].target_latency_ms["ecs"];
        r.timeline[0].target_latency_ms.insert("nobody".into(), l);
    });
    assert!(
        matches!(&err, ValidationError::SecondUnbalanced { t: 0, reason } if reason.contains("\"nobody\"")),
        "{err}"
    );
}

#[test]
fn ended_before_started() {
    let err = broken(|r| r.ended_at = r.started_at - time::Duration::seconds(1));
    assert!(
        matches!(err, ValidationError::EndedBeforeStarted { .. }),
        "{err:?}"
    );
}

#[test]
fn totals_do_not_balance() {
    let err = broken(|r| r.totals.scheduled += 1);
    assert!(
        matches!(err, ValidationError::TotalsUnbalanced { .. }),
        "{err:?}"
    );
}

#[test]
fn sent_does_not_balance() {
    let err = broken(|r| r.totals.sent -= 1);
    assert!(
        matches!(err, ValidationError::SentUnbalanced { .. }),
        "{err:?}"
    );
}

#[test]
fn failure_classes_do_not_add_up() {
    let err = broken(|r| r.totals.failures.other += 1);
    let failed = common::sample().totals.failed;
    assert_eq!(
        err,
        ValidationError::FailureClassesMismatch {
            classes: u128::from(failed) + 1,
            failed
        }
    );
    assert_eq!(
        common::failures_sum(&common::sample().totals.failures),
        failed
    );
}

#[test]
fn target_does_not_balance() {
    let err = broken(|r| r.targets.get_mut("lambda").expect("lambda").requests += 1);
    assert!(
        matches!(&err, ValidationError::TargetUnbalanced { target, .. } if target == "lambda"),
        "{err:?}"
    );
}

#[test]
fn targets_exceed_totals() {
    let err = broken(|r| {
        let t = r.targets.get_mut("ecs").expect("ecs");
        t.failed += 1_000;
        t.requests += 1_000;
    });
    assert!(
        matches!(
            err,
            ValidationError::TargetsExceedTotals {
                field: "failed",
                ..
            }
        ),
        "{err:?}"
    );
}

#[test]
fn overflowing_counts_do_not_balance() {
    // Wrapping or saturating sums would make this look balanced.
    let err = broken(|r| {
        r.totals.scheduled = u64::MAX;
        r.totals.ok = u64::MAX;
        r.totals.dropped += 1;
    });
    assert!(
        matches!(err, ValidationError::TotalsUnbalanced { .. }),
        "{err:?}"
    );
}

#[test]
fn histogram_does_not_decode() {
    let err = broken(|r| r.targets.get_mut("ecs").expect("ecs").histograms.raw = "AAAA".into());
    assert!(
        matches!(&err, ValidationError::HistogramInvalid { target, kind: HistogramKind::Raw, .. } if target == "ecs"),
        "{err:?}"
    );
    let err = broken(|r| {
        r.targets.get_mut("ecs").expect("ecs").histograms.corrected = "%%% not base64".into()
    });
    assert!(
        matches!(
            &err,
            ValidationError::HistogramInvalid {
                kind: HistogramKind::Corrected,
                ..
            }
        ),
        "{err:?}"
    );
}

#[test]
fn histogram_count_differs_from_ok() {
    let mut h = new_histogram();
    h.record(10_000).expect("records");
    let one_value = encode_histogram(&h).expect("encodes");
    let err = broken(|r| {
        r.targets
            .get_mut("lambda")
            .expect("lambda")
            .histograms
            .corrected = one_value
    });
    let ok = common::sample().targets["lambda"].ok;
    assert_eq!(
        err,
        ValidationError::HistogramCountMismatch {
            target: "lambda".into(),
            kind: HistogramKind::Corrected,
            count: 1,
            ok
        }
    );
}

#[test]
fn latency_summary_differs_from_histogram() {
    let err = broken(|r| r.targets.get_mut("ecs").expect("ecs").latency_ms.max += 1.0);
    assert!(
        matches!(&err, ValidationError::LatencyMismatch { target, kind: HistogramKind::Corrected, .. } if target == "ecs"),
        "{err:?}"
    );
    // Swapping the corrected and raw histograms is caught too.
    let err = broken(|r| {
        let t = r.targets.get_mut("ecs").expect("ecs");
        std::mem::swap(&mut t.histograms.corrected, &mut t.histograms.raw);
    });
    assert!(
        matches!(err, ValidationError::LatencyMismatch { .. }),
        "{err:?}"
    );
}

#[test]
fn latency_summary_tolerates_float_noise_only() {
    let mut r = common::sample();
    r.targets.get_mut("ecs").expect("ecs").latency_ms.p50 += 1e-9;
    r.validate()
        .expect("sub-microsecond noise is not a mismatch");
}

#[test]
fn unknown_target_in_paths_and_timeline() {
    let err = broken(|r| {
        r.paths
            .entry("/host".into())
            .or_default()
            .insert("ghost".into(), 1);
    });
    assert_eq!(
        err,
        ValidationError::UnknownTarget {
            place: "paths".into(),
            target: "ghost".into()
        }
    );
    let err = broken(|r| {
        let i = first_second_with_target(r, "ecs");
        *r.timeline[i].targets.get_mut("ecs").expect("ecs") -= 1;
        r.timeline[i].targets.insert("ghost".into(), 1);
    });
    assert!(
        matches!(&err, ValidationError::UnknownTarget { target, .. } if target == "ghost"),
        "{err:?}"
    );
}

/// Every response is counted under its request path, so a report whose
/// paths lost an entry (or all of them) would hide a path-rule leak.
#[test]
fn paths_that_do_not_add_up_to_the_target() {
    let err = broken(|r| {
        r.paths.remove("/ecs-only").expect("path");
    });
    assert!(
        matches!(&err, ValidationError::PathsIncomplete { target, sum, requests } if target == "ecs" && sum < &u128::from(*requests)),
        "{err:?}"
    );
    let err = broken(|r| r.paths.clear());
    assert!(
        matches!(&err, ValidationError::PathsIncomplete { .. }),
        "{err:?}"
    );
    let err = broken(|r| {
        *r.paths
            .get_mut("/host")
            .expect("path")
            .get_mut("lambda")
            .expect("lambda") -= 1
    });
    assert!(
        matches!(&err, ValidationError::PathsIncomplete { target, .. } if target == "lambda"),
        "{err:?}"
    );
}

#[test]
fn a_run_listed_twice() {
    let err = broken(|r| {
        let run = r.runs[0].clone();
        r.runs.push(run);
    });
    assert!(matches!(&err, ValidationError::RunTwice { .. }), "{err:?}");
}

#[test]
fn paths_exceed_target() {
    let err = broken(|r| {
        *r.paths
            .get_mut("/ecs-only")
            .expect("path")
            .get_mut("ecs")
            .expect("ecs") += 1
    });
    assert!(
        matches!(&err, ValidationError::SectionExceedsTarget { section: "paths", target, .. } if target == "ecs"),
        "{err:?}"
    );
}

#[test]
fn timeline_not_sorted() {
    let err = broken(|r| r.timeline.swap(1, 2));
    assert_eq!(
        err,
        ValidationError::TimelineNotSorted {
            index: 2,
            previous: 2,
            t: 1
        }
    );
    let err = broken(|r| r.timeline[1].t = 0);
    assert!(
        matches!(err, ValidationError::TimelineNotSorted { .. }),
        "{err:?}"
    );
}

#[test]
fn second_after_end() {
    let err = broken(|r| {
        r.timeline.push(weighbridge_report::Second {
            t: 60,
            ..Default::default()
        })
    });
    assert!(
        matches!(err, ValidationError::SecondAfterEnd { t: 60, .. }),
        "{err:?}"
    );
}

#[test]
fn second_does_not_balance() {
    let err = broken(|r| r.timeline[0].scheduled += 1);
    assert!(
        matches!(err, ValidationError::SecondUnbalanced { t: 0, .. }),
        "{err:?}"
    );
    let err = broken(|r| r.timeline[1].sent += 1);
    assert!(
        matches!(err, ValidationError::SecondUnbalanced { t: 1, .. }),
        "{err:?}"
    );
    let err = broken(|r| {
        let i = first_second_with_target(r, "ecs");
        *r.timeline[i].targets.get_mut("ecs").expect("ecs") += 1_000;
    });
    assert!(
        matches!(err, ValidationError::SecondUnbalanced { .. }),
        "{err:?}"
    );
}

#[test]
fn timeline_sums_differ_from_totals() {
    let err = broken(|r| {
        let s = r
            .timeline
            .iter_mut()
            .find(|s| s.failed > 0)
            .expect("sample has failures");
        s.failed -= 1;
        s.ok += 1;
    });
    assert!(
        matches!(
            err,
            ValidationError::TimelineTotalsMismatch { field: "ok", .. }
        ),
        "{err:?}"
    );
    let err = broken(|r| {
        r.timeline.pop();
    });
    assert!(
        matches!(
            err,
            ValidationError::TimelineTotalsMismatch {
                field: "scheduled",
                ..
            }
        ),
        "{err:?}"
    );
}

#[test]
fn timeline_target_sum_differs_from_target() {
    let err = broken(|r| {
        let i = first_second_with_target(r, "lambda");
        *r.timeline[i].targets.get_mut("lambda").expect("lambda") -= 1;
    });
    assert!(
        matches!(&err, ValidationError::TimelineTargetMismatch { target, .. } if target == "lambda"),
        "{err:?}"
    );
}

#[test]
fn unknown_host_in_timeline() {
    let err = broken(|r| {
        let n = r.timeline[0]
            .instances
            .remove("lambda-env-a")
            .expect("lambda serves from the start");
        r.timeline[0].instances.insert("ghost-host".into(), n);
    });
    assert_eq!(
        err,
        ValidationError::UnknownHost {
            t: 0,
            host: "ghost-host".into()
        }
    );
}

#[test]
fn timeline_host_sum_differs_from_host() {
    let err = broken(|r| r.hosts.get_mut("ecs-task-2").expect("scaled out").requests += 1);
    assert!(
        matches!(&err, ValidationError::TimelineHostMismatch { host, .. } if host == "ecs-task-2"),
        "{err:?}"
    );
}

#[test]
fn host_last_seen_before_first_seen() {
    let err = broken(|r| {
        let h = r.hosts.get_mut("ecs-task-1").expect("host");
        std::mem::swap(&mut h.first_seen, &mut h.last_seen);
    });
    assert!(
        matches!(&err, ValidationError::HostSeenReversed { host, .. } if host == "ecs-task-1"),
        "{err:?}"
    );
}

#[test]
fn host_of_unknown_target() {
    let err = broken(|r| r.hosts.get_mut("ecs-task-1").expect("host").target = "ghost".into());
    assert_eq!(
        err,
        ValidationError::UnknownTarget {
            place: "hosts".into(),
            target: "ghost".into()
        }
    );
}

#[test]
fn client_first_target_not_among_its_targets() {
    let err = broken(|r| {
        let c = r
            .clients
            .as_mut()
            .expect("sample has clients")
            .get_mut("c0")
            .expect("c0");
        c.first_target = "nowhere".into();
    });
    assert_eq!(
        err,
        ValidationError::ClientFirstTargetMissing {
            client: "c0".into(),
            first_target: "nowhere".into()
        }
    );
}

#[test]
fn clients_exceed_target() {
    let err = broken(|r| {
        let c = r
            .clients
            .as_mut()
            .expect("sample has clients")
            .get_mut("c1")
            .expect("c1");
        *c.targets.entry("ecs".into()).or_default() += 10_000;
    });
    assert!(
        matches!(&err, ValidationError::SectionExceedsTarget { section: "clients", target, .. } if target == "ecs"),
        "{err:?}"
    );
}

#[test]
fn empty_run_is_valid() {
    // An interrupted run that never sent anything is consistent, and its
    // targets (if any recorder existed) summarise to zero.
    let mut r = common::sample();
    r.totals = Default::default();
    r.timeline.clear();
    r.paths.clear();
    r.hosts.clear();
    r.clients = None;
    r.targets = [(
        "ecs".to_owned(),
        TargetRecorder::new().to_target().expect("encodes"),
    )]
    .into();
    r.interrupted = true;
    r.validate().expect("an empty run is consistent");
}

/// Each second's `targets`, all under one path, as `timeline[].paths`.
fn with_second_paths(r: &mut Report) {
    for s in &mut r.timeline {
        s.paths = [("/host".to_owned(), s.targets.clone())].into();
    }
}

#[test]
fn second_paths_break_the_targets_down_exactly() {
    let mut r = common::sample();
    with_second_paths(&mut r);
    r.validate()
        .expect("per-second paths that add up are valid");
    let err = broken(|r| {
        with_second_paths(r);
        let i = first_second_with_target(r, "ecs");
        *r.timeline[i]
            .paths
            .get_mut("/host")
            .expect("path")
            .get_mut("ecs")
            .expect("ecs") -= 1;
    });
    assert!(
        matches!(err, ValidationError::SecondUnbalanced { .. }),
        "{err:?}"
    );
    let err = broken(|r| {
        with_second_paths(r);
        r.timeline[0]
            .paths
            .entry("/other".to_owned())
            .or_default()
            .insert("nobody".to_owned(), 1);
    });
    assert!(
        matches!(err, ValidationError::UnknownTarget { .. }),
        "{err:?}"
    );
}
