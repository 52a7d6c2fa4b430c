//! Merging the reports of several loadgen workers into one.
//!
//! Cost is linear in the total size of the inputs (timeline seconds are
//! combined through one ordered map keyed by merged second, a few hundred
//! keys for a five-minute run) plus one histogram decode per input target
//! and kind, so `verify` can merge a hundred five-minute reports in a small
//! fraction of a second.

use std::collections::{BTreeMap, HashMap, HashSet};

use hdrhistogram::Histogram;
use serde_json::Value;
use thiserror::Error;
use time::OffsetDateTime;

use crate::histogram::{HistogramError, decode_histogram, new_histogram};
use crate::schema::{
    Config, Host, LoadgenWatch, Report, SCHEMA_V1, Second, SecondLatency, Stage, Target, Totals,
    VirtualClient,
};
use crate::validate::{HistogramKind, ValidationError};

/// Reports could not be merged.
#[derive(Debug, Error)]
pub enum MergeError {
    /// The slice was empty.
    #[error("no report to merge")]
    Empty,
    /// A histogram of an input does not decode or does not add.
    #[error("report #{index}, target {target:?}: {kind} histogram: {source}")]
    Histogram {
        /// Position of the report in the input slice.
        index: usize,
        /// Target label.
        target: String,
        /// Which histogram.
        kind: HistogramKind,
        /// What failed.
        source: HistogramError,
    },
    /// A merged histogram could not be encoded (an internal error).
    #[error("merged histogram of target {target:?} could not be encoded: {source}")]
    Encode {
        /// Target label.
        target: String,
        /// What failed.
        source: HistogramError,
    },
    /// One instance id answers for two different targets in different
    /// reports: the labels are misconfigured, and adding them up would hide it.
    #[error("instance {host:?} served target {first:?} in one report and {second:?} in another")]
    HostTargetConflict {
        /// Instance id.
        host: String,
        /// Target in an earlier report.
        first: String,
        /// Target in a later report.
        second: String,
    },
    /// Two inputs hold the same loadgen run (the same file given twice, or
    /// a merge and one of its own inputs): its requests would count twice.
    #[error(
        "reports #{first} and #{second} hold the same loadgen run ({run}): merging it twice would count its requests twice"
    )]
    SameRunTwice {
        /// Position of the earlier report.
        first: usize,
        /// Position of the later one.
        second: usize,
        /// The run id, or for reports without run ids, their start time.
        run: String,
    },
    /// The merged report fails validation (an input was inconsistent; inputs
    /// from [`Report::read`] never cause this).
    #[error("merged report is inconsistent: {0}")]
    Invalid(#[from] ValidationError),
}

/// Merges the reports of several workers (or earlier merges) into one
/// validated report. The index of a report in `reports` is its worker index.
///
/// - `started_at` is the earliest start, `ended_at` the latest end.
/// - Counts, paths and per-target counts add; histograms merge exactly and
///   the latency summaries are recomputed from them.
/// - Timeline: each report's `t` is shifted by its start offset from the
///   merged `started_at`, **rounded to the nearest whole second** (halves
///   round up), so an event lands at most half a second from its true
///   wall-clock second; entries that land on the same `t` add. Their
///   per-second percentiles are combined as the mean weighted by `ok`, an
///   approximation (exact percentiles are in the targets' histograms).
/// - Hosts are shifted by the exact (fractional) offset; `first_seen` is the
///   minimum and `last_seen` the maximum over reports, `requests` add.
/// - Clients: union. If any client id occurs in more than one report, every
///   id is rewritten as `w<index>:<id>` so the workers' clients stay apart.
/// - Config: `urls` is the union (in first-seen order), `rps` and `workers`
///   add, `duration_s` is the largest; stages are kept (rates added) when all
///   reports have the same stage durations, and dropped otherwise. Extra
///   config keys are kept when every report has the same value.
/// - `interrupted` if any was; loadgen self-watch: highest CPU, highest send
///   lag, bottleneck if any was.
/// - `runs` is every input's; a run found in two inputs is
///   [`MergeError::SameRunTwice`]. Inputs without run ids (older reports)
///   are told apart by start, end and totals instead.
pub fn merge(reports: &[Report]) -> Result<Report, MergeError> {
    let first = reports.first().ok_or(MergeError::Empty)?;
    check_distinct_runs(reports)?;
    let started_at = reports
        .iter()
        .map(|r| r.started_at)
        .min()
        .unwrap_or(first.started_at);
    let ended_at = reports
        .iter()
        .map(|r| r.ended_at)
        .max()
        .unwrap_or(first.ended_at);

    let mut timeline = TimelineAcc::default();
    let mut hosts: BTreeMap<String, Host> = BTreeMap::new();
    for report in reports {
        let (whole, exact) = offset(started_at, report.started_at);
        timeline.add(&report.timeline, whole);
        add_hosts(&mut hosts, &report.hosts, exact)?;
    }

    let merged = Report {
        schema: SCHEMA_V1.to_owned(),
        config: merge_config(reports),
        started_at,
        ended_at,
        interrupted: reports.iter().any(|r| r.interrupted),
        stopped_by: reports.iter().find_map(|r| r.stopped_by.clone()),
        runs: reports
            .iter()
            .flat_map(|r| r.runs.iter().cloned())
            .collect(),
        totals: merge_totals(reports),
        targets: merge_targets(reports)?,
        paths: merge_paths(reports),
        timeline: timeline.finish(),
        hosts,
        clients: merge_clients(reports),
        loadgen: merge_watch(reports),
    };
    merged.validate()?;
    Ok(merged)
}

/// No loadgen run is in two inputs. A report without run ids (written
/// before they were added) stands for one run identified by its start, end
/// and totals: two of those equal to the nanosecond and the request are the
/// same file.
fn check_distinct_runs(reports: &[Report]) -> Result<(), MergeError> {
    let mut seen: HashMap<String, usize> = HashMap::new();
    for (index, report) in reports.iter().enumerate() {
        let ids = if report.runs.is_empty() {
            vec![format!(
                "started {}, ended {}, {} scheduled, {} ok, {} failed",
                report.started_at,
                report.ended_at,
                report.totals.scheduled,
                report.totals.ok,
                report.totals.failed
            )]
        } else {
            report.runs.clone()
        };
        for run in ids {
            if let Some(&first) = seen.get(&run) {
                return Err(MergeError::SameRunTwice {
                    first,
                    second: index,
                    run,
                });
            }
            seen.insert(run, index);
        }
    }
    Ok(())
}

/// Offset of `start` after `origin`: whole seconds rounded to nearest (halves
/// up), and exact fractional seconds. Integer nanoseconds keep the rounding
/// exact; `origin` is the earliest start, so the offset is never negative.
fn offset(origin: OffsetDateTime, start: OffsetDateTime) -> (u64, f64) {
    let d = start - origin;
    let nanos = d.whole_nanoseconds().max(0);
    let whole = (nanos + 500_000_000) / 1_000_000_000;
    (
        u64::try_from(whole).unwrap_or(u64::MAX),
        d.as_seconds_f64().max(0.0),
    )
}

fn merge_config(reports: &[Report]) -> Config {
    let mut urls = Vec::new();
    let mut seen = HashSet::new();
    for url in reports.iter().flat_map(|r| &r.config.urls) {
        if seen.insert(url.as_str()) {
            urls.push(url.clone());
        }
    }
    let configs: Vec<&Config> = reports.iter().map(|r| &r.config).collect();
    Config {
        urls,
        rps: configs.iter().map(|c| c.rps).sum(),
        stages: merge_stages(&configs),
        duration_s: configs.iter().map(|c| c.duration_s).fold(0.0, f64::max),
        workers: configs
            .iter()
            .fold(0u32, |n, c| n.saturating_add(c.workers)),
        extra: common_extra(configs.iter().map(|c| &c.extra)),
    }
}

/// Stage rates add when every report ran the same stage durations (workers
/// started with the same plan); otherwise no single plan describes the merge.
fn merge_stages(configs: &[&Config]) -> Vec<Stage> {
    let Some(first) = configs.first() else {
        return Vec::new();
    };
    let same_plan = configs.iter().all(|c| {
        c.stages.len() == first.stages.len()
            && c.stages
                .iter()
                .zip(&first.stages)
                .all(|(a, b)| a.duration_s == b.duration_s)
    });
    if !same_plan {
        return Vec::new();
    }
    (0..first.stages.len())
        .map(|i| Stage {
            duration_s: first.stages[i].duration_s,
            rps: configs.iter().map(|c| c.stages[i].rps).sum(),
            extra: common_extra(configs.iter().map(|c| &c.stages[i].extra)),
        })
        .collect()
}

/// The keys every map has with the same value: a key the workers disagree
/// on has no single true value for the merge.
fn common_extra<'a>(
    mut maps: impl Iterator<Item = &'a BTreeMap<String, Value>>,
) -> BTreeMap<String, Value> {
    let Some(first) = maps.next() else {
        return BTreeMap::new();
    };
    let mut common = first.clone();
    for map in maps {
        common.retain(|k, v| map.get(k) == Some(v));
    }
    common
}

fn merge_totals(reports: &[Report]) -> Totals {
    let mut t = Totals::default();
    for r in reports {
        let s = &r.totals;
        add(&mut t.scheduled, s.scheduled);
        add(&mut t.sent, s.sent);
        add(&mut t.ok, s.ok);
        add(&mut t.failed, s.failed);
        add(&mut t.dropped, s.dropped);
        add(&mut t.failures.connect, s.failures.connect);
        add(&mut t.failures.timeout, s.failures.timeout);
        add(&mut t.failures.http_4xx, s.failures.http_4xx);
        add(&mut t.failures.http_5xx, s.failures.http_5xx);
        add(&mut t.failures.other, s.failures.other);
    }
    t
}

/// Saturating: real counts never get near `u64::MAX`, and a saturated sum
/// fails validation of the merged report instead of wrapping silently.
fn add(into: &mut u64, value: u64) {
    *into = into.saturating_add(value);
}

fn merge_targets(reports: &[Report]) -> Result<BTreeMap<String, Target>, MergeError> {
    struct Acc {
        corrected: Histogram<u64>,
        raw: Histogram<u64>,
        failed: u64,
    }
    let mut accs: BTreeMap<&str, Acc> = BTreeMap::new();
    for (index, report) in reports.iter().enumerate() {
        for (label, target) in &report.targets {
            let acc = accs.entry(label).or_insert_with(|| Acc {
                corrected: new_histogram(),
                raw: new_histogram(),
                failed: 0,
            });
            add(&mut acc.failed, target.failed);
            let parts = [
                (
                    HistogramKind::Corrected,
                    &target.histograms.corrected,
                    &mut acc.corrected,
                ),
                (HistogramKind::Raw, &target.histograms.raw, &mut acc.raw),
            ];
            for (kind, encoded, into) in parts {
                let error = |source| MergeError::Histogram {
                    index,
                    target: label.clone(),
                    kind,
                    source,
                };
                let histogram = decode_histogram(encoded).map_err(error)?;
                into.add(&histogram)
                    .map_err(|e| error(HistogramError::Add(e)))?;
            }
        }
    }
    accs.into_iter()
        .map(|(label, acc)| {
            Target::from_histograms(&acc.corrected, &acc.raw, acc.failed)
                .map(|t| (label.to_owned(), t))
                .map_err(|source| MergeError::Encode {
                    target: label.to_owned(),
                    source,
                })
        })
        .collect()
}

fn merge_paths(reports: &[Report]) -> BTreeMap<String, BTreeMap<String, u64>> {
    let mut paths: BTreeMap<String, BTreeMap<String, u64>> = BTreeMap::new();
    for (path, by_label) in reports.iter().flat_map(|r| &r.paths) {
        add_counts(paths.entry(path.clone()).or_default(), by_label);
    }
    paths
}

/// Adds `from` into `into`, cloning a key only when it is new.
fn add_counts(into: &mut BTreeMap<String, u64>, from: &BTreeMap<String, u64>) {
    for (key, n) in from {
        match into.get_mut(key) {
            Some(count) => add(count, *n),
            None => {
                into.insert(key.clone(), *n);
            }
        }
    }
}

fn add_hosts(
    into: &mut BTreeMap<String, Host>,
    from: &BTreeMap<String, Host>,
    shift_s: f64,
) -> Result<(), MergeError> {
    for (id, h) in from {
        let first_seen = h.first_seen + shift_s;
        let last_seen = h.last_seen + shift_s;
        match into.get_mut(id) {
            Some(m) => {
                if m.target != h.target {
                    return Err(MergeError::HostTargetConflict {
                        host: id.clone(),
                        first: m.target.clone(),
                        second: h.target.clone(),
                    });
                }
                add(&mut m.requests, h.requests);
                m.first_seen = m.first_seen.min(first_seen);
                m.last_seen = m.last_seen.max(last_seen);
            }
            None => {
                into.insert(
                    id.clone(),
                    Host {
                        target: h.target.clone(),
                        requests: h.requests,
                        first_seen,
                        last_seen,
                    },
                );
            }
        }
    }
    Ok(())
}

fn merge_clients(reports: &[Report]) -> Option<BTreeMap<String, VirtualClient>> {
    let with_clients: Vec<(usize, &BTreeMap<String, VirtualClient>)> = reports
        .iter()
        .enumerate()
        .filter_map(|(i, r)| r.clients.as_ref().map(|c| (i, c)))
        .collect();
    if with_clients.is_empty() {
        return None;
    }
    let mut seen = HashSet::new();
    let collide = with_clients
        .iter()
        .flat_map(|(_, clients)| clients.keys())
        .any(|id| !seen.insert(id.as_str()));
    let mut merged = BTreeMap::new();
    for (index, clients) in with_clients {
        for (id, client) in clients {
            let id = if collide {
                format!("w{index}:{id}")
            } else {
                id.clone()
            };
            merged.insert(id, client.clone());
        }
    }
    Some(merged)
}

fn merge_watch(reports: &[Report]) -> Option<LoadgenWatch> {
    reports
        .iter()
        .filter_map(|r| r.loadgen)
        .reduce(|a, b| LoadgenWatch {
            cpu_percent: a.cpu_percent.max(b.cpu_percent),
            max_send_lag_ms: a.max_send_lag_ms.max(b.max_send_lag_ms),
            send_lag_p99_ms: match (a.send_lag_p99_ms, b.send_lag_p99_ms) {
                (Some(x), Some(y)) => Some(x.max(y)),
                (x, y) => x.or(y),
            },
            bottleneck: a.bottleneck || b.bottleneck,
        })
}

/// Timeline seconds keyed by merged `t`, with what is needed to combine
/// per-second percentiles.
#[derive(Default)]
struct TimelineAcc {
    seconds: BTreeMap<u64, SecondAcc>,
    /// Some input second had responses but no per-path breakdown (a report
    /// from before `timeline[].paths`): the merged seconds then carry none,
    /// since a partial breakdown would read as complete.
    paths_missing: bool,
}

#[derive(Default)]
struct SecondAcc {
    second: Second,
    /// Contributions with percentiles: their count, the first one verbatim
    /// (kept exactly when it is the only one), and `ok`-weighted sums.
    latency: LatencyAcc,
    /// The same per target, weighted by the target's responses that second.
    target_latency: BTreeMap<String, LatencyAcc>,
}

/// Percentiles of one second from several reports: kept exactly when only
/// one report has them, else their weighted mean (an approximation: the
/// per-second histograms are not kept).
#[derive(Default)]
struct LatencyAcc {
    parts: u32,
    first: Option<SecondLatency>,
    weight: f64,
    weighted: [f64; 3],
}

impl LatencyAcc {
    fn add(&mut self, l: SecondLatency, weight: u64) {
        let w = weight as f64;
        self.parts += 1;
        self.first.get_or_insert(l);
        self.weight += w;
        self.weighted[0] += l.p50 * w;
        self.weighted[1] += l.p90 * w;
        self.weighted[2] += l.p99 * w;
    }

    fn finish(self) -> Option<SecondLatency> {
        match self.parts {
            0 => None,
            1 => self.first,
            _ if self.weight > 0.0 => Some(SecondLatency {
                p50: self.weighted[0] / self.weight,
                p90: self.weighted[1] / self.weight,
                p99: self.weighted[2] / self.weight,
            }),
            _ => self.first,
        }
    }
}

impl TimelineAcc {
    fn add(&mut self, timeline: &[Second], shift: u64) {
        for s in timeline {
            let t = s.t.saturating_add(shift);
            let acc = self.seconds.entry(t).or_default();
            let m = &mut acc.second;
            m.t = t;
            add(&mut m.scheduled, s.scheduled);
            add(&mut m.sent, s.sent);
            add(&mut m.ok, s.ok);
            add(&mut m.failed, s.failed);
            add(&mut m.dropped, s.dropped);
            add_counts(&mut m.targets, &s.targets);
            add_counts(&mut m.instances, &s.instances);
            if s.paths.is_empty() && s.targets.values().any(|&n| n > 0) {
                self.paths_missing = true;
            }
            for (path, by_target) in &s.paths {
                add_counts(m.paths.entry(path.clone()).or_default(), by_target);
            }
            if let Some(l) = s.latency_ms {
                acc.latency.add(l, s.ok);
            }
            for (label, l) in &s.target_latency_ms {
                let weight = s.targets.get(label).copied().unwrap_or(0);
                acc.target_latency
                    .entry(label.clone())
                    .or_default()
                    .add(*l, weight);
            }
        }
    }

    fn finish(self) -> Vec<Second> {
        let paths_missing = self.paths_missing;
        self.seconds
            .into_values()
            .map(|acc| {
                let mut second = acc.second;
                if paths_missing {
                    second.paths.clear();
                }
                second.latency_ms = acc.latency.finish();
                second.target_latency_ms = acc
                    .target_latency
                    .into_iter()
                    .filter_map(|(label, l)| l.finish().map(|l| (label, l)))
                    .collect();
                second
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use time::Duration;
    use time::macros::datetime;

    use super::offset;

    #[test]
    fn offsets_round_to_the_nearest_second_halves_up() {
        let origin = datetime!(2025-01-01 00:00:00 UTC);
        let at = |ms: i64| offset(origin, origin + Duration::milliseconds(ms));
        assert_eq!(at(0).0, 0);
        assert_eq!(at(499).0, 0);
        assert_eq!(at(500).0, 1);
        assert_eq!(at(1_499).0, 1);
        assert_eq!(at(2_501).0, 3);
        assert!((at(2_501).1 - 2.501).abs() < 1e-9);
    }
}
