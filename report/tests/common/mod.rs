//! A deterministic, miniature loadgen: builds consistent reports the way
//! loadgen will (recorders per target, per-second buckets), so tests can
//! break one thing at a time and compare merges against the raw values.

#![allow(dead_code)] // each test file uses a different part

use std::collections::BTreeMap;
use std::time::Duration;

use serde_json::json;
use time::OffsetDateTime;
use time::macros::datetime;
use weighbridge_report::{
    Config, Failures, Histogram, Host, LoadgenWatch, Report, SCHEMA_V1, Second, SecondLatency,
    TargetRecorder, Totals, VirtualClient, new_histogram,
};

/// A simulated run and the exact values it recorded.
pub(crate) struct Sim {
    pub(crate) report: Report,
    /// Target label → every corrected latency recorded, microseconds.
    pub(crate) corrected_us: BTreeMap<String, Vec<u64>>,
    /// Target label → every raw latency recorded, microseconds.
    pub(crate) raw_us: BTreeMap<String, Vec<u64>>,
}

pub(crate) const T0: OffsetDateTime = datetime!(2025-03-01 12:00:00 UTC);

/// splitmix64: small, deterministic, good enough to spread test traffic.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

/// Simulates `seconds` seconds at `rps` requests per second starting at
/// `started_at`, with drops, every failure class, two targets, three hosts
/// (one appearing at second 2, like a scale-out), two paths and sticky
/// clients whose ids are `{client_prefix}{n}`.
pub(crate) fn simulate(
    started_at: OffsetDateTime,
    seconds: u64,
    rps: u64,
    seed: u64,
    client_prefix: &str,
) -> Sim {
    let mut rng = Rng(seed);
    let mut totals = Totals::default();
    let mut recorders: BTreeMap<String, TargetRecorder> = BTreeMap::new();
    let mut corrected_us: BTreeMap<String, Vec<u64>> = BTreeMap::new();
    let mut raw_us: BTreeMap<String, Vec<u64>> = BTreeMap::new();
    let mut paths: BTreeMap<String, BTreeMap<String, u64>> = BTreeMap::new();
    let mut hosts: BTreeMap<String, Host> = BTreeMap::new();
    let mut clients: BTreeMap<String, VirtualClient> = BTreeMap::new();
    let mut timeline = Vec::new();
    let mut max_lag_us = 0u64;

    for t in 0..seconds {
        let mut second = Second {
            t,
            ..Second::default()
        };
        let mut second_hist = new_histogram();
        let mut target_hists: BTreeMap<String, Histogram<u64>> = BTreeMap::new();
        for j in 0..rps {
            let intended_s = t as f64 + j as f64 / rps as f64;
            second.scheduled += 1;
            totals.scheduled += 1;
            let roll = rng.below(100);
            if roll < 4 {
                second.dropped += 1;
                totals.dropped += 1;
                continue;
            }
            second.sent += 1;
            totals.sent += 1;
            if roll < 7 {
                second.failed += 1;
                totals.failed += 1;
                if roll < 6 {
                    totals.failures.connect += 1;
                } else {
                    totals.failures.timeout += 1;
                }
                continue;
            }
            let path = if rng.below(5) == 0 {
                "/ecs-only"
            } else {
                "/host"
            };
            let target = if path == "/ecs-only" || rng.below(10) < 3 {
                "ecs"
            } else {
                "lambda"
            };
            let host = match target {
                "ecs" if t >= 2 && rng.below(2) == 0 => "ecs-task-2",
                "ecs" => "ecs-task-1",
                _ => "lambda-env-a",
            };
            let raw = 5_000 + rng.below(50_000);
            let lag = rng.below(3_000);
            let corrected = raw + lag;
            max_lag_us = max_lag_us.max(lag);
            let seen = intended_s + corrected as f64 / 1e6;

            let recorder = recorders.entry(target.to_owned()).or_default();
            if roll < 10 {
                second.failed += 1;
                totals.failed += 1;
                if roll < 9 {
                    totals.failures.http_5xx += 1;
                } else {
                    totals.failures.http_4xx += 1;
                }
                recorder.record_failed();
            } else {
                second.ok += 1;
                totals.ok += 1;
                recorder.record_ok(Duration::from_micros(corrected), Duration::from_micros(raw));
                corrected_us
                    .entry(target.to_owned())
                    .or_default()
                    .push(corrected);
                raw_us.entry(target.to_owned()).or_default().push(raw);
                second_hist
                    .record(corrected)
                    .expect("auto-resizing histogram records");
                target_hists
                    .entry(target.to_owned())
                    .or_insert_with(|| Histogram::new(2).expect("valid precision"))
                    .record(corrected)
                    .expect("auto-resizing histogram records");
            }
            *second.targets.entry(target.to_owned()).or_default() += 1;
            *second.instances.entry(host.to_owned()).or_default() += 1;
            *paths
                .entry(path.to_owned())
                .or_default()
                .entry(target.to_owned())
                .or_default() += 1;
            let h = hosts.entry(host.to_owned()).or_insert_with(|| Host {
                target: target.to_owned(),
                requests: 0,
                first_seen: seen,
                last_seen: seen,
            });
            h.requests += 1;
            h.first_seen = h.first_seen.min(seen);
            h.last_seen = h.last_seen.max(seen);
            let client = clients
                .entry(format!("{client_prefix}{}", j % 5))
                .or_insert_with(|| VirtualClient {
                    first_target: target.to_owned(),
                    targets: BTreeMap::new(),
                });
            *client.targets.entry(target.to_owned()).or_default() += 1;
        }
        second.latency_ms = SecondLatency::from_histogram(&second_hist);
        second.target_latency_ms = target_hists
            .iter()
            .filter_map(|(label, h)| SecondLatency::from_histogram(h).map(|l| (label.clone(), l)))
            .collect();
        timeline.push(second);
    }

    let targets = recorders
        .iter()
        .map(|(label, r)| (label.clone(), r.to_target().expect("encodes")))
        .collect();
    let mut extra = BTreeMap::new();
    extra.insert("max_in_flight".to_owned(), json!(256));
    extra.insert("paths".to_owned(), json!({"/host": 0.8, "/ecs-only": 0.2}));
    let report = Report {
        schema: SCHEMA_V1.to_owned(),
        config: Config {
            urls: vec!["http://127.0.0.1:8080".to_owned()],
            rps: rps as f64,
            stages: Vec::new(),
            duration_s: seconds as f64,
            workers: 1,
            extra,
        },
        started_at,
        ended_at: started_at + time::Duration::milliseconds(seconds as i64 * 1000 + 250),
        interrupted: false,
        // As loadgen does: one id per run (deterministic here).
        runs: vec![format!(
            "sim-{seed}-{client_prefix}-{}",
            started_at.unix_timestamp_nanos()
        )],
        totals,
        targets,
        paths,
        timeline,
        hosts,
        clients: Some(clients),
        loadgen: Some(LoadgenWatch {
            cpu_percent: 12.5 + seed as f64,
            max_send_lag_ms: max_lag_us as f64 / 1000.0,
            send_lag_p99_ms: Some(max_lag_us as f64 / 1000.0),
            bottleneck: false,
        }),
        stopped_by: None,
    };
    Sim {
        report,
        corrected_us,
        raw_us,
    }
}

/// A valid report, small enough to break by hand.
pub(crate) fn sample() -> Report {
    let report = simulate(T0, 4, 50, 1, "c").report;
    report
        .validate()
        .expect("the simulator writes valid reports");
    report
}

/// Failures helper for hand-written expectations.
pub(crate) fn failures_sum(f: &Failures) -> u64 {
    f.connect + f.timeout + f.http_4xx + f.http_5xx + f.other
}
