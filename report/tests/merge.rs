//! Merging workers' reports: alignment on wall-clock time, exact histogram
//! merge, and the rules for hosts, clients, config and self-watch.

mod common;

use std::collections::BTreeMap;

use serde_json::json;
use time::Duration;
use weighbridge_report::{
    Histogram, Latency, MergeError, Report, decode_histogram, merge, new_histogram,
};

use common::{Sim, T0, simulate};

/// Three workers starting at +0 s, +2.3 s and +5.7 s: their timelines shift
/// by 0, 2 and 6 whole seconds (nearest second).
fn three_workers() -> (Vec<Sim>, [u64; 3]) {
    let sims = vec![
        simulate(T0, 6, 40, 11, "c"),
        simulate(T0 + Duration::milliseconds(2_300), 5, 30, 12, "c"),
        simulate(T0 + Duration::milliseconds(5_700), 4, 20, 13, "c"),
    ];
    (sims, [0, 2, 6])
}

fn reports(sims: &[Sim]) -> Vec<Report> {
    sims.iter().map(|s| s.report.clone()).collect()
}

fn histogram_of(values: impl IntoIterator<Item = u64>) -> Histogram<u64> {
    let mut h = new_histogram();
    for v in values {
        h.record(v).expect("auto-resizing histogram records");
    }
    h
}

#[test]
fn timelines_align_on_wall_clock_and_counts_add() {
    let (sims, shifts) = three_workers();
    let inputs = reports(&sims);
    let merged = merge(&inputs).expect("merges");

    assert_eq!(merged.started_at, T0);
    assert_eq!(
        merged.ended_at,
        inputs.iter().map(|r| r.ended_at).max().expect("three")
    );

    // Expected: every input second at t + shift, added per merged second.
    let mut expected: BTreeMap<u64, [u64; 5]> = BTreeMap::new();
    let mut expected_targets: BTreeMap<(u64, String), u64> = BTreeMap::new();
    for (report, shift) in inputs.iter().zip(shifts) {
        for s in &report.timeline {
            let e = expected.entry(s.t + shift).or_default();
            for (slot, v) in e
                .iter_mut()
                .zip([s.scheduled, s.sent, s.ok, s.failed, s.dropped])
            {
                *slot += v;
            }
            for (label, n) in &s.targets {
                *expected_targets
                    .entry((s.t + shift, label.clone()))
                    .or_default() += n;
            }
        }
    }
    let got: BTreeMap<u64, [u64; 5]> = merged
        .timeline
        .iter()
        .map(|s| (s.t, [s.scheduled, s.sent, s.ok, s.failed, s.dropped]))
        .collect();
    assert_eq!(got, expected);
    // Worker 0 covers 0..6, worker 1 2..7, worker 2 6..10: 0..10 with overlaps.
    assert_eq!(
        got.keys().copied().collect::<Vec<_>>(),
        (0..10).collect::<Vec<_>>()
    );
    // Second 2 holds workers 0 and 1; second 9 only worker 2.
    assert_eq!(
        got[&2][0],
        inputs[0].timeline[2].scheduled + inputs[1].timeline[0].scheduled
    );
    assert_eq!(got[&9][0], inputs[2].timeline[3].scheduled);
    let got_targets: BTreeMap<(u64, String), u64> = merged
        .timeline
        .iter()
        .flat_map(|s| s.targets.iter().map(|(l, n)| ((s.t, l.clone()), *n)))
        .collect();
    assert_eq!(got_targets, expected_targets);

    let sum = |f: &dyn Fn(&Report) -> u64| inputs.iter().map(f).sum::<u64>();
    assert_eq!(merged.totals.scheduled, sum(&|r| r.totals.scheduled));
    assert_eq!(merged.totals.sent, sum(&|r| r.totals.sent));
    assert_eq!(merged.totals.ok, sum(&|r| r.totals.ok));
    assert_eq!(merged.totals.failed, sum(&|r| r.totals.failed));
    assert_eq!(merged.totals.dropped, sum(&|r| r.totals.dropped));
    assert_eq!(
        merged.totals.failures.connect,
        sum(&|r| r.totals.failures.connect)
    );
    assert_eq!(
        merged.totals.failures.http_5xx,
        sum(&|r| r.totals.failures.http_5xx)
    );
    for label in ["ecs", "lambda"] {
        let t = &merged.targets[label];
        assert_eq!(t.requests, sum(&|r| r.targets[label].requests), "{label}");
        assert_eq!(t.ok, sum(&|r| r.targets[label].ok), "{label}");
        assert_eq!(t.failed, sum(&|r| r.targets[label].failed), "{label}");
    }
    for (path, by_label) in &merged.paths {
        for (label, n) in by_label {
            let expected: u64 = inputs
                .iter()
                .filter_map(|r| r.paths.get(path)?.get(label))
                .sum();
            assert_eq!(*n, expected, "{path} {label}");
        }
    }
    merged.validate().expect("merged report is valid");
}

#[test]
fn merged_histograms_equal_one_histogram_fed_every_value() {
    let (sims, _) = three_workers();
    let merged = merge(&reports(&sims)).expect("merges");
    for label in ["ecs", "lambda"] {
        let all_corrected = histogram_of(
            sims.iter()
                .flat_map(|s| s.corrected_us[label].iter().copied()),
        );
        let all_raw = histogram_of(sims.iter().flat_map(|s| s.raw_us[label].iter().copied()));
        let target = &merged.targets[label];
        let corrected = decode_histogram(&target.histograms.corrected).expect("decodes");
        let raw = decode_histogram(&target.histograms.raw).expect("decodes");
        assert_eq!(corrected.len(), all_corrected.len());
        for q in [0.5, 0.9, 0.99, 0.999, 1.0] {
            assert_eq!(
                corrected.value_at_quantile(q),
                all_corrected.value_at_quantile(q),
                "{label} corrected q{q}"
            );
            assert_eq!(
                raw.value_at_quantile(q),
                all_raw.value_at_quantile(q),
                "{label} raw q{q}"
            );
        }
        assert_eq!(target.latency_ms, Latency::from_histogram(&all_corrected));
        assert_eq!(target.raw_latency_ms, Latency::from_histogram(&all_raw));
        assert_eq!(target.ok, all_corrected.len());
    }
}

#[test]
fn hosts_shift_by_exact_offset_and_combine() {
    let (sims, _) = three_workers();
    let inputs = reports(&sims);
    let merged = merge(&inputs).expect("merges");
    let offsets = [0.0, 2.3, 5.7];
    for (id, host) in &merged.hosts {
        let parts: Vec<_> = inputs
            .iter()
            .zip(offsets)
            .filter_map(|(r, off)| r.hosts.get(id).map(|h| (h, off)))
            .collect();
        let first = parts
            .iter()
            .map(|(h, off)| h.first_seen + off)
            .fold(f64::INFINITY, f64::min);
        let last = parts
            .iter()
            .map(|(h, off)| h.last_seen + off)
            .fold(0.0, f64::max);
        assert!((host.first_seen - first).abs() < 1e-9, "{id}");
        assert!((host.last_seen - last).abs() < 1e-9, "{id}");
        assert_eq!(
            host.requests,
            parts.iter().map(|(h, _)| h.requests).sum::<u64>(),
            "{id}"
        );
    }
    // The lambda environment served every worker from its first second.
    let lambda = &merged.hosts["lambda-env-a"];
    assert!(
        lambda.first_seen < 1.0 && lambda.last_seen > 9.0,
        "{lambda:?}"
    );
}

#[test]
fn colliding_client_ids_get_worker_prefixes() {
    let (sims, _) = three_workers();
    let inputs = reports(&sims);
    let merged = merge(&inputs).expect("merges");
    let clients = merged.clients.as_ref().expect("clients kept");
    assert_eq!(clients.len(), 15);
    for (i, report) in inputs.iter().enumerate() {
        for (id, client) in report.clients.as_ref().expect("simulated") {
            assert_eq!(&clients[&format!("w{i}:{id}")], client);
        }
    }
}

#[test]
fn distinct_client_ids_are_kept_as_they_are() {
    let a = simulate(T0, 3, 20, 1, "a").report;
    let b = simulate(T0, 3, 20, 2, "b").report;
    let merged = merge(&[a.clone(), b.clone()]).expect("merges");
    let clients = merged.clients.expect("clients kept");
    assert_eq!(clients["a3"], a.clients.as_ref().expect("a")["a3"]);
    assert_eq!(clients["b0"], b.clients.as_ref().expect("b")["b0"]);
    assert_eq!(clients.len(), 10);
}

#[test]
fn same_second_latency_is_the_ok_weighted_mean() {
    let a = simulate(T0, 2, 30, 1, "a").report;
    let b = simulate(T0, 2, 60, 2, "b").report;
    let merged = merge(&[a.clone(), b.clone()]).expect("merges");
    let (la, lb) = (
        a.timeline[0].latency_ms.expect("ok traffic"),
        b.timeline[0].latency_ms.expect("ok traffic"),
    );
    let (wa, wb) = (a.timeline[0].ok as f64, b.timeline[0].ok as f64);
    let got = merged.timeline[0].latency_ms.expect("ok traffic");
    assert!((got.p50 - (la.p50 * wa + lb.p50 * wb) / (wa + wb)).abs() < 1e-9);
    assert!((got.p99 - (la.p99 * wa + lb.p99 * wb) / (wa + wb)).abs() < 1e-9);
}

#[test]
fn same_second_target_latency_is_weighted_by_that_targets_responses() {
    let a = simulate(T0, 2, 30, 1, "a").report;
    let b = simulate(T0, 2, 60, 2, "b").report;
    let merged = merge(&[a.clone(), b.clone()]).expect("merges");
    for label in ["ecs", "lambda"] {
        let la = a.timeline[0].target_latency_ms[label];
        let lb = b.timeline[0].target_latency_ms[label];
        let wa = a.timeline[0].targets[label] as f64;
        let wb = b.timeline[0].targets[label] as f64;
        let got = merged.timeline[0].target_latency_ms[label];
        assert!((got.p90 - (la.p90 * wa + lb.p90 * wb) / (wa + wb)).abs() < 1e-9);
    }
    // A single report's per-target percentiles are kept exactly.
    let alone = merge(std::slice::from_ref(&a)).expect("merges");
    assert_eq!(
        alone.timeline[1].target_latency_ms,
        a.timeline[1].target_latency_ms
    );
}

#[test]
fn config_and_self_watch_combine() {
    let mut a = simulate(T0, 3, 20, 1, "a").report;
    let mut b = simulate(T0, 3, 30, 2, "b").report;
    b.config.urls.push("http://127.0.0.1:9090".into());
    a.config.extra.insert("clients".into(), json!(5));
    b.config.extra.insert("clients".into(), json!(7));
    b.interrupted = true;
    b.loadgen.as_mut().expect("watched").bottleneck = true;
    let merged = merge(&[a.clone(), b.clone()]).expect("merges");
    assert_eq!(
        merged.config.urls,
        vec!["http://127.0.0.1:8080", "http://127.0.0.1:9090"]
    );
    assert_eq!(merged.config.rps, 50.0);
    assert_eq!(merged.config.workers, 2);
    assert_eq!(merged.config.extra["max_in_flight"], json!(256));
    assert!(
        !merged.config.extra.contains_key("clients"),
        "workers disagree, so no single value is true"
    );
    assert!(merged.interrupted);
    let watch = merged.loadgen.expect("watched");
    assert!(watch.bottleneck);
    assert_eq!(
        watch.cpu_percent,
        a.loadgen
            .expect("a")
            .cpu_percent
            .max(b.loadgen.expect("b").cpu_percent)
    );
    // Merging merges counts workers, not reports.
    let c = simulate(T0, 3, 20, 3, "c").report;
    let again = merge(&[merged, c]).expect("merges");
    assert_eq!(again.config.workers, 3);
    assert_eq!(again.runs.len(), 3);
}

/// The same run merged twice would count its requests twice: the same
/// report given twice, a merge and one of its own inputs, or (for reports
/// from before run ids) two copies of one file.
#[test]
fn a_run_merged_twice_is_refused() {
    let a = simulate(T0, 3, 20, 1, "a").report;
    let b = simulate(T0, 3, 20, 2, "b").report;
    let twice = merge(&[a.clone(), a.clone()]).expect_err("same report twice");
    assert!(
        matches!(&twice, MergeError::SameRunTwice { first: 0, second: 1, run } if *run == a.runs[0]),
        "{twice:?}"
    );
    let ab = merge(&[a.clone(), b.clone()]).expect("merges");
    let again = merge(&[ab, b.clone()]).expect_err("a merge with its own input");
    assert!(
        matches!(&again, MergeError::SameRunTwice { first: 0, second: 1, run } if *run == b.runs[0]),
        "{again:?}"
    );
    assert!(
        again.to_string().contains("count its requests twice"),
        "{again}"
    );

    let (mut old_a, mut old_b) = (a.clone(), b);
    old_a.runs.clear();
    old_b.runs.clear();
    merge(&[old_a.clone(), old_b]).expect("older reports of two runs merge");
    assert!(matches!(
        merge(&[old_a.clone(), old_a]),
        Err(MergeError::SameRunTwice { .. })
    ));
}

#[test]
fn single_report_merges_to_itself() {
    let r = common::sample();
    let mut merged = merge(std::slice::from_ref(&r)).expect("merges");
    // Histograms are re-encoded (their internal range may differ); the
    // counts and summaries they give must not.
    for (label, t) in &mut merged.targets {
        let original = &r.targets[label];
        assert_eq!(
            decode_histogram(&t.histograms.corrected)
                .expect("decodes")
                .len(),
            original.ok
        );
        t.histograms = original.histograms.clone();
    }
    assert_eq!(merged, r);
}

#[test]
fn merged_report_round_trips_through_a_file() {
    let (sims, _) = three_workers();
    let merged = merge(&reports(&sims)).expect("merges");
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("merged.json");
    merged.write_atomic(&path).expect("writes");
    assert_eq!(Report::read(&path).expect("reads"), merged);
}

#[test]
fn nothing_to_merge() {
    assert!(matches!(merge(&[]), Err(MergeError::Empty)));
}

#[test]
fn an_instance_serving_two_targets_is_refused() {
    let a = simulate(T0, 3, 20, 1, "a").report;
    let mut b = simulate(T0, 3, 20, 2, "b").report;
    // Relabel b's lambda environment as an ECS task id that a also saw.
    let host = b.hosts.remove("lambda-env-a").expect("lambda host");
    b.hosts.insert("ecs-task-1".into(), host);
    let err = merge(&[a, b]).expect_err("conflict");
    assert!(
        matches!(&err, MergeError::HostTargetConflict { host, .. } if host == "ecs-task-1"),
        "{err:?}"
    );
}

#[test]
fn an_undecodable_histogram_names_its_report() {
    let a = simulate(T0, 3, 20, 1, "a").report;
    let mut b = simulate(T0, 3, 20, 2, "b").report;
    b.targets.get_mut("lambda").expect("lambda").histograms.raw = "AAAA".into();
    let err = merge(&[a, b]).expect_err("broken input");
    assert!(
        matches!(&err, MergeError::Histogram { index: 1, target, .. } if target == "lambda"),
        "{err:?}"
    );
}
