//! Synthetic loadgen reports, for tests and benchmarks: a deterministic,
//! miniature loadgen that routes simulated requests by given shares, path
//! rules, sticky clients and instance lifetimes, and records them with the
//! report crate's own types (`TargetRecorder`, per-second buckets), so every
//! report it builds passes `Report::validate`.
//!
//! Not a model of any real router: a way to build reports whose truth is
//! known, so the judge can be tested against it.

use std::collections::BTreeMap;
use std::time::Duration;

use crate::{
    Config, Histogram, HistogramError, Host, Report, SCHEMA_V1, Second, SecondLatency, Stage,
    TargetRecorder, Totals, VirtualClient, new_histogram,
};
use rand::{RngExt as _, SeedableRng};
use rand_chacha::ChaCha8Rng;
use time::OffsetDateTime;

/// One backend instance of a scenario, alive (serving) for `t` in `[from, to)` seconds.
#[derive(Debug, Clone, PartialEq)]
pub struct Instance {
    /// Instance id (the `x-backend-host` header).
    pub id: String,
    /// Target label it serves.
    pub target: String,
    /// First second it serves.
    pub from: u64,
    /// Second after the last it serves.
    pub to: u64,
}

/// A request path of the mix.
#[derive(Debug, Clone, PartialEq)]
pub struct PathMix {
    /// The request path.
    pub path: String,
    /// Relative frequency.
    pub weight: f64,
    /// The target the router sends it to regardless of the split (a path rule), if any.
    pub routed_to: Option<String>,
}

/// What to simulate.
#[derive(Debug, Clone, PartialEq)]
pub struct Scenario {
    /// Wall-clock start.
    pub started_at: OffsetDateTime,
    /// Scheduled requests per second, one entry per second of the run.
    pub rate: Vec<u64>,
    /// Routing shares of the split, label → probability (need not add to 1).
    pub shares: Vec<(String, f64)>,
    /// Instances; a target without one is served by `<label>-1`, alive all run.
    pub instances: Vec<Instance>,
    /// Path mix; empty means every request is `/host`.
    pub paths: Vec<PathMix>,
    /// Probability that a sent request fails without a response (connect error).
    pub connect_failure: f64,
    /// Probability that a response is a 5xx, per target label (default 0).
    pub http_5xx: Vec<(String, f64)>,
    /// Latency multiplier per target label (default 1: 4–46 ms).
    pub slowdown: Vec<(String, f64)>,
    /// Simulated clients: requests cycle through this many client ids.
    pub clients: Option<u32>,
    /// Sticky clients: after its first response a client stays on that target.
    pub sticky: bool,
    /// Rate stages to record in the config (informational).
    pub stages: Vec<Stage>,
    /// Seed of the simulation.
    pub seed: u64,
    /// Write each second's per-path counts (`timeline[].paths`), as loadgen
    /// does; `false` gives the report an older loadgen wrote.
    pub timeline_paths: bool,
}

impl Scenario {
    /// The scaling run the scaling tests share: `ecs` only, 20 rps for 60 s,
    /// 100 rps for 120 s, 20 rps for 120 s; two tasks (`{prefix}1`,
    /// `{prefix}2`) throughout, two more (`{prefix}3`, `{prefix}4`) serving
    /// from 90 s to 240 s: a scale-out 30 s after the rise, a scale-in 60 s
    /// after the fall.
    pub fn scale_out_and_in(prefix: &str, seed: u64) -> Scenario {
        let mut s = Scenario::constant(300, 20, &[("ecs", 1.0)], seed);
        for rate in &mut s.rate[60..180] {
            *rate = 100;
        }
        s.instances = [
            (1, 0, u64::MAX),
            (2, 0, u64::MAX),
            (3, 90, 240),
            (4, 90, 240),
        ]
        .iter()
        .map(|&(n, from, to)| Instance {
            id: format!("{prefix}{n}"),
            target: "ecs".to_owned(),
            from,
            to,
        })
        .collect();
        s
    }

    /// A constant-rate run of `seconds` at `rps` split by `shares`.
    pub fn constant(seconds: u64, rps: u64, shares: &[(&str, f64)], seed: u64) -> Scenario {
        Scenario {
            started_at: time::macros::datetime!(2025-03-01 12:00:00 UTC),
            rate: vec![rps; usize::try_from(seconds).unwrap_or(0)],
            shares: shares.iter().map(|(l, p)| ((*l).to_owned(), *p)).collect(),
            instances: Vec::new(),
            paths: Vec::new(),
            connect_failure: 0.0,
            http_5xx: Vec::new(),
            slowdown: Vec::new(),
            clients: None,
            sticky: false,
            stages: Vec::new(),
            seed,
            timeline_paths: true,
        }
    }

    /// Builds the report.
    pub fn report(&self) -> Result<Report, HistogramError> {
        let mut rng = ChaCha8Rng::seed_from_u64(self.seed);
        let mut instances = self.instances.clone();
        for (label, _) in &self.shares {
            if !instances.iter().any(|i| &i.target == label) {
                instances.push(Instance {
                    id: format!("{label}-1"),
                    target: label.clone(),
                    from: 0,
                    to: u64::MAX,
                });
            }
        }
        for path in &self.paths {
            if let Some(target) = &path.routed_to
                && !instances.iter().any(|i| &i.target == target)
            {
                instances.push(Instance {
                    id: format!("{target}-1"),
                    target: target.clone(),
                    from: 0,
                    to: u64::MAX,
                });
            }
        }
        let share_total: f64 = self.shares.iter().map(|(_, p)| p).sum();
        let path_total: f64 = self.paths.iter().map(|p| p.weight).sum();
        let fail_5xx = |label: &str| {
            self.http_5xx
                .iter()
                .find(|(l, _)| l == label)
                .map_or(0.0, |(_, p)| *p)
        };

        let mut totals = Totals::default();
        let mut recorders: BTreeMap<String, TargetRecorder> = BTreeMap::new();
        let mut paths: BTreeMap<String, BTreeMap<String, u64>> = BTreeMap::new();
        let mut hosts: BTreeMap<String, Host> = BTreeMap::new();
        let mut clients: BTreeMap<String, VirtualClient> = BTreeMap::new();
        let mut timeline = Vec::with_capacity(self.rate.len());
        let mut client_index: u64 = 0;
        let mut alive: Vec<&Instance> = Vec::new();

        for (t, &rps) in self.rate.iter().enumerate() {
            let t = t as u64;
            let mut second = Second {
                t,
                ..Second::default()
            };
            let mut second_hist = new_histogram();
            let mut target_hists: BTreeMap<String, Histogram<u64>> = BTreeMap::new();
            for j in 0..rps {
                second.scheduled += 1;
                totals.scheduled += 1;
                second.sent += 1;
                totals.sent += 1;
                if rng.random::<f64>() < self.connect_failure {
                    second.failed += 1;
                    totals.failed += 1;
                    totals.failures.connect += 1;
                    continue;
                }
                let path = self.pick_path(&mut rng, path_total);
                let client_id = self.clients.map(|c| {
                    let id = format!("c{}", client_index % u64::from(c.max(1)));
                    client_index += 1;
                    id
                });
                let sticky_target = match (&client_id, self.sticky) {
                    (Some(id), true) => clients.get(id).map(|c| c.first_target.clone()),
                    _ => None,
                };
                let target = match (path.and_then(|p| p.routed_to.clone()), sticky_target) {
                    (Some(rule), _) => rule,
                    (None, Some(sticky)) => sticky,
                    (None, None) => {
                        let mut x = rng.random::<f64>() * share_total;
                        let mut chosen = self.shares.last().map(|(l, _)| l.clone());
                        for (label, p) in &self.shares {
                            if x < *p {
                                chosen = Some(label.clone());
                                break;
                            }
                            x -= p;
                        }
                        chosen.unwrap_or_default()
                    }
                };
                alive.clear();
                alive.extend(
                    instances
                        .iter()
                        .filter(|i| i.target == target && i.from <= t && t < i.to),
                );
                let host = if alive.is_empty() {
                    format!("{target}-overflow")
                } else {
                    alive[rng.random_range(0..alive.len())].id.clone()
                };
                let factor = self
                    .slowdown
                    .iter()
                    .find(|(l, _)| l == &target)
                    .map_or(1.0, |(_, f)| *f);
                let raw_us = ((4_000 + rng.random_range(0..40_000u64)) as f64 * factor) as u64;
                let corrected_us = raw_us + rng.random_range(0..2_000u64);
                let seen = t as f64 + j as f64 / rps as f64 + corrected_us as f64 / 1e6;

                let recorder = recorders.entry(target.clone()).or_default();
                if rng.random::<f64>() < fail_5xx(&target) {
                    second.failed += 1;
                    totals.failed += 1;
                    totals.failures.http_5xx += 1;
                    recorder.record_failed();
                } else {
                    second.ok += 1;
                    totals.ok += 1;
                    recorder.record_ok(
                        Duration::from_micros(corrected_us),
                        Duration::from_micros(raw_us),
                    );
                    // Auto-resizing histogram: recording cannot fail.
                    let _ = second_hist.record(corrected_us);
                    let _ = target_hists
                        .entry(target.clone())
                        .or_insert_with(new_histogram)
                        .record(corrected_us);
                }
                *second.targets.entry(target.clone()).or_default() += 1;
                *second.instances.entry(host.clone()).or_default() += 1;
                let path_name = path.map_or("/host", |p| p.path.as_str());
                if self.timeline_paths {
                    *second
                        .paths
                        .entry(path_name.to_owned())
                        .or_default()
                        .entry(target.clone())
                        .or_default() += 1;
                }
                *paths
                    .entry(path_name.to_owned())
                    .or_default()
                    .entry(target.clone())
                    .or_default() += 1;
                let h = hosts.entry(host).or_insert_with(|| Host {
                    target: target.clone(),
                    requests: 0,
                    first_seen: seen,
                    last_seen: seen,
                });
                h.requests += 1;
                h.first_seen = h.first_seen.min(seen);
                h.last_seen = h.last_seen.max(seen);
                if let Some(id) = client_id {
                    let c = clients.entry(id).or_insert_with(|| VirtualClient {
                        first_target: target.clone(),
                        targets: BTreeMap::new(),
                    });
                    *c.targets.entry(target).or_default() += 1;
                }
            }
            second.latency_ms = SecondLatency::from_histogram(&second_hist);
            second.target_latency_ms = target_hists
                .iter()
                .filter_map(|(label, h)| {
                    SecondLatency::from_histogram(h).map(|l| (label.clone(), l))
                })
                .collect();
            timeline.push(second);
        }

        let mut targets = BTreeMap::new();
        for (label, r) in &recorders {
            targets.insert(label.clone(), r.to_target()?);
        }
        let seconds = self.rate.len() as u64;
        Ok(Report {
            schema: SCHEMA_V1.to_owned(),
            config: Config {
                urls: vec!["http://127.0.0.1:8080/dev".to_owned()],
                rps: self.rate.iter().copied().max().unwrap_or(0) as f64,
                stages: self.stages.clone(),
                duration_s: seconds as f64,
                workers: 1,
                extra: BTreeMap::new(),
            },
            started_at: self.started_at,
            ended_at: self.started_at + time::Duration::milliseconds(seconds as i64 * 1000 + 100),
            interrupted: false,
            // Deterministic: the same scenario is the same run.
            runs: vec![format!(
                "synth-{:016x}-{}",
                self.seed,
                self.started_at.unix_timestamp_nanos()
            )],
            totals,
            targets,
            paths,
            timeline,
            hosts,
            clients: self.clients.map(|_| clients),
            loadgen: None,
            stopped_by: None,
        })
    }

    fn pick_path(&self, rng: &mut ChaCha8Rng, total: f64) -> Option<&PathMix> {
        if self.paths.is_empty() {
            return None;
        }
        let mut x = rng.random::<f64>() * total;
        for p in &self.paths {
            if x < p.weight {
                return Some(p);
            }
            x -= p.weight;
        }
        self.paths.last()
    }
}
