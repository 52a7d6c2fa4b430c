//! Consistency checks of a report: the one place that decides whether a
//! report can be trusted.
//!
//! `verify` must never turn a broken report into a PASS, so every count that
//! appears twice in a report (totals and timeline, targets and histograms,
//! hosts and timeline, ...) is checked against its twin. Sums are computed in
//! `u128`, so a hostile file cannot make a broken report balance by
//! overflowing.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

use thiserror::Error;
use time::OffsetDateTime;

use crate::histogram::decode_histogram;
use crate::schema::{Latency, Report, SCHEMA_FAMILY, SCHEMA_V1, Second, Target};

/// Largest difference (ms) tolerated between a written latency summary and
/// the one recomputed from its histogram: half a microsecond, the histogram
/// unit, so only JSON float parsing noise is forgiven.
const LATENCY_TOLERANCE_MS: f64 = 0.0005;

/// Which of a target's two histograms.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HistogramKind {
    /// Latency from the intended send time.
    Corrected,
    /// Latency from the actual send time.
    Raw,
}

impl fmt::Display for HistogramKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Corrected => "corrected",
            Self::Raw => "raw",
        })
    }
}

/// Why a report is not consistent. The first problem found is reported.
#[derive(Debug, Clone, PartialEq, Error)]
pub enum ValidationError {
    /// `schema` is not a weighbridge report, or is a major version this
    /// build does not read.
    #[error(
        "schema is {found:?}, but this build reads {SCHEMA_V1} (a report of another major version needs a matching weighbridge)"
    )]
    UnsupportedSchema {
        /// The `schema` string found.
        found: String,
    },
    /// `config.workers` is 0.
    #[error("config.workers is 0; a report stands for at least one loadgen")]
    NoWorkers,
    /// A float is negative, NaN or infinite.
    #[error("{field} is {value}, but it must be a finite number >= 0")]
    InvalidNumber {
        /// Where (a JSON-path-like name).
        field: String,
        /// The offending value.
        value: f64,
    },
    /// Percentiles decrease (p50 <= p90 <= p99 <= max must hold).
    #[error("{field}: percentiles decrease; p50 <= p90 <= p99 <= max must hold")]
    PercentilesDecrease {
        /// Where.
        field: String,
    },
    /// `ended_at` is before `started_at`.
    #[error("ended_at {ended_at} is before started_at {started_at}")]
    EndedBeforeStarted {
        /// `started_at`.
        started_at: OffsetDateTime,
        /// `ended_at`.
        ended_at: OffsetDateTime,
    },
    /// `scheduled != ok + failed + dropped`: some request is unaccounted for.
    #[error(
        "totals: scheduled {scheduled} != ok {ok} + failed {failed} + dropped {dropped}; every scheduled request must be accounted for"
    )]
    TotalsUnbalanced {
        /// `totals.scheduled`.
        scheduled: u64,
        /// `totals.ok`.
        ok: u64,
        /// `totals.failed`.
        failed: u64,
        /// `totals.dropped`.
        dropped: u64,
    },
    /// `sent != ok + failed`.
    #[error("totals: sent {sent} != ok {ok} + failed {failed}")]
    SentUnbalanced {
        /// `totals.sent`.
        sent: u64,
        /// `totals.ok`.
        ok: u64,
        /// `totals.failed`.
        failed: u64,
    },
    /// The failure classes do not add up to `totals.failed`.
    #[error("totals: failure classes add up to {classes}, but failed is {failed}")]
    FailureClassesMismatch {
        /// Sum of `totals.failures.*`.
        classes: u128,
        /// `totals.failed`.
        failed: u64,
    },
    /// A target's `requests != ok + failed`.
    #[error("targets.{target}: requests {requests} != ok {ok} + failed {failed}")]
    TargetUnbalanced {
        /// Target label.
        target: String,
        /// Its `requests`.
        requests: u64,
        /// Its `ok`.
        ok: u64,
        /// Its `failed`.
        failed: u64,
    },
    /// The targets together claim more `ok` or `failed` than the totals.
    #[error("targets: {field} adds up to {sum}, more than totals.{field} {total}")]
    TargetsExceedTotals {
        /// `"ok"` or `"failed"`.
        field: &'static str,
        /// Sum over targets.
        sum: u128,
        /// The total.
        total: u64,
    },
    /// A histogram does not decode.
    #[error("targets.{target}: {kind} histogram does not decode: {reason}")]
    HistogramInvalid {
        /// Target label.
        target: String,
        /// Which histogram.
        kind: HistogramKind,
        /// The decoder's message.
        reason: String,
    },
    /// A histogram does not hold exactly `ok` values.
    #[error("targets.{target}: {kind} histogram holds {count} values, but ok is {ok}")]
    HistogramCountMismatch {
        /// Target label.
        target: String,
        /// Which histogram.
        kind: HistogramKind,
        /// Values in the histogram.
        count: u64,
        /// The target's `ok`.
        ok: u64,
    },
    /// A latency summary is not the one its histogram gives.
    #[error(
        "targets.{target}: {kind} latency summary {written:?} does not match its histogram, which gives {expected:?}"
    )]
    LatencyMismatch {
        /// Target label.
        target: String,
        /// Which summary.
        kind: HistogramKind,
        /// What the report says.
        written: Latency,
        /// What the histogram gives.
        expected: Latency,
    },
    /// Some section names a target label that is not in `targets`.
    #[error("{place} names target {target:?}, which is not in targets")]
    UnknownTarget {
        /// Where.
        place: String,
        /// The label.
        target: String,
    },
    /// Per-target counts of a section (paths, hosts, clients) exceed the
    /// target's `requests`.
    #[error(
        "{section}: responses from target {target:?} add up to {sum}, more than its {requests}"
    )]
    SectionExceedsTarget {
        /// `"paths"`, `"hosts"` or `"clients"`.
        section: &'static str,
        /// Target label.
        target: String,
        /// Sum in the section.
        sum: u128,
        /// The target's `requests`.
        requests: u64,
    },
    /// A run id is listed twice in `runs`: the run was merged twice.
    #[error("runs: {run:?} is listed twice: the same loadgen run was merged twice")]
    RunTwice {
        /// The run id.
        run: String,
    },
    /// The per-path counts of a target add up to less than its requests:
    /// path data is missing (every response was for some path).
    #[error(
        "paths: responses from target {target:?} add up to {sum}, but the target has {requests}: every response is counted under its request path, so path data is missing"
    )]
    PathsIncomplete {
        /// Target label.
        target: String,
        /// Sum over `paths`.
        sum: u128,
        /// The target's `requests`.
        requests: u64,
    },
    /// Timeline entries are not strictly increasing in `t`.
    #[error("timeline[{index}]: t = {t} follows t = {previous}; t must strictly increase")]
    TimelineNotSorted {
        /// Position in the array.
        index: usize,
        /// `t` of the entry before.
        previous: u64,
        /// `t` of this entry.
        t: u64,
    },
    /// A timeline second starts after the end of the run.
    #[error("timeline: second {t} starts after the run ended ({elapsed_s} s after started_at)")]
    SecondAfterEnd {
        /// The second.
        t: u64,
        /// `ended_at - started_at` in seconds.
        elapsed_s: f64,
    },
    /// A timeline second does not balance on its own.
    #[error("timeline: second {t} does not balance: {reason}")]
    SecondUnbalanced {
        /// The second.
        t: u64,
        /// Which equation fails.
        reason: String,
    },
    /// A timeline count does not add up to its total.
    #[error("timeline: {field} adds up to {sum}, but totals.{field} is {total}")]
    TimelineTotalsMismatch {
        /// `"scheduled"`, `"sent"`, `"ok"`, `"failed"` or `"dropped"`.
        field: &'static str,
        /// Sum over the timeline.
        sum: u128,
        /// The total.
        total: u64,
    },
    /// The timeline's responses from a target do not add up to its `requests`.
    #[error(
        "timeline: responses from target {target:?} add up to {sum}, but the target has {requests}"
    )]
    TimelineTargetMismatch {
        /// Target label.
        target: String,
        /// Sum over the timeline.
        sum: u128,
        /// The target's `requests`.
        requests: u64,
    },
    /// A timeline second names an instance that is not in `hosts`.
    #[error("timeline: second {t} names instance {host:?}, which is not in hosts")]
    UnknownHost {
        /// The second.
        t: u64,
        /// The instance id.
        host: String,
    },
    /// The timeline's responses from an instance do not add up to its `requests`.
    #[error("timeline: responses from instance {host:?} add up to {sum}, but hosts say {requests}")]
    TimelineHostMismatch {
        /// The instance id.
        host: String,
        /// Sum over the timeline.
        sum: u128,
        /// `hosts[host].requests`.
        requests: u64,
    },
    /// A host was last seen before it was first seen.
    #[error("hosts.{host}: last_seen {last_seen} is before first_seen {first_seen}")]
    HostSeenReversed {
        /// The instance id.
        host: String,
        /// `first_seen`.
        first_seen: f64,
        /// `last_seen`.
        last_seen: f64,
    },
    /// A client's `first_target` is not among the targets it got responses from.
    #[error("clients.{client}: first_target {first_target:?} is not among its targets")]
    ClientFirstTargetMissing {
        /// The client id.
        client: String,
        /// Its `first_target`.
        first_target: String,
    },
}

impl Report {
    /// Checks every invariant of the format; see `docs/report.md`.
    ///
    /// Cost is linear in the size of the report plus one histogram decode
    /// per target and kind.
    pub fn validate(&self) -> Result<(), ValidationError> {
        check_schema(&self.schema)?;
        self.check_numbers()?;
        self.check_totals()?;
        self.check_targets()?;
        self.check_timeline()?;
        self.check_hosts()?;
        self.check_sections()?;
        // Last: the only part that allocates per target.
        for (label, target) in &self.targets {
            check_histograms(label, target)?;
        }
        Ok(())
    }

    fn check_numbers(&self) -> Result<(), ValidationError> {
        if self.config.workers == 0 {
            return Err(ValidationError::NoWorkers);
        }
        let mut runs = std::collections::HashSet::new();
        for run in &self.runs {
            if !runs.insert(run.as_str()) {
                return Err(ValidationError::RunTwice { run: run.clone() });
            }
        }
        number(|| "config.rps".into(), self.config.rps)?;
        number(|| "config.duration_s".into(), self.config.duration_s)?;
        for (i, stage) in self.config.stages.iter().enumerate() {
            number(|| format!("config.stages[{i}].rps"), stage.rps)?;
            number(
                || format!("config.stages[{i}].duration_s"),
                stage.duration_s,
            )?;
        }
        if self.ended_at < self.started_at {
            return Err(ValidationError::EndedBeforeStarted {
                started_at: self.started_at,
                ended_at: self.ended_at,
            });
        }
        for (label, t) in &self.targets {
            latency(|| format!("targets.{label}.latency_ms"), &t.latency_ms)?;
            latency(
                || format!("targets.{label}.raw_latency_ms"),
                &t.raw_latency_ms,
            )?;
        }
        for s in &self.timeline {
            if let Some(l) = &s.latency_ms {
                latency(
                    || format!("timeline[t={}].latency_ms", s.t),
                    &Latency::from(*l),
                )?;
            }
            for (label, l) in &s.target_latency_ms {
                latency(
                    || format!("timeline[t={}].target_latency_ms.{label}", s.t),
                    &Latency::from(*l),
                )?;
            }
        }
        for (id, h) in &self.hosts {
            number(|| format!("hosts.{id}.first_seen"), h.first_seen)?;
            number(|| format!("hosts.{id}.last_seen"), h.last_seen)?;
        }
        if let Some(w) = &self.loadgen {
            number(|| "loadgen.cpu_percent".into(), w.cpu_percent)?;
            number(|| "loadgen.max_send_lag_ms".into(), w.max_send_lag_ms)?;
        }
        Ok(())
    }

    fn check_totals(&self) -> Result<(), ValidationError> {
        let t = &self.totals;
        if u128::from(t.scheduled) != sum([t.ok, t.failed, t.dropped]) {
            return Err(ValidationError::TotalsUnbalanced {
                scheduled: t.scheduled,
                ok: t.ok,
                failed: t.failed,
                dropped: t.dropped,
            });
        }
        if u128::from(t.sent) != sum([t.ok, t.failed]) {
            return Err(ValidationError::SentUnbalanced {
                sent: t.sent,
                ok: t.ok,
                failed: t.failed,
            });
        }
        let f = &t.failures;
        let classes = sum([f.connect, f.timeout, f.http_4xx, f.http_5xx, f.other]);
        if classes != u128::from(t.failed) {
            return Err(ValidationError::FailureClassesMismatch {
                classes,
                failed: t.failed,
            });
        }
        Ok(())
    }

    fn check_targets(&self) -> Result<(), ValidationError> {
        let (mut ok, mut failed) = (0u128, 0u128);
        for (label, t) in &self.targets {
            if u128::from(t.requests) != sum([t.ok, t.failed]) {
                return Err(ValidationError::TargetUnbalanced {
                    target: label.clone(),
                    requests: t.requests,
                    ok: t.ok,
                    failed: t.failed,
                });
            }
            ok += u128::from(t.ok);
            failed += u128::from(t.failed);
        }
        for (field, sum, total) in [
            ("ok", ok, self.totals.ok),
            ("failed", failed, self.totals.failed),
        ] {
            if sum > u128::from(total) {
                return Err(ValidationError::TargetsExceedTotals { field, sum, total });
            }
        }
        Ok(())
    }

    /// A second's `paths`, when present, break its `targets` down exactly.
    fn check_second_paths(&self, s: &Second) -> Result<(), ValidationError> {
        if s.paths.is_empty() {
            return Ok(());
        }
        let mut per_target: BTreeMap<&str, u128> = BTreeMap::new();
        for by_target in s.paths.values() {
            for (label, n) in by_target {
                if !self.targets.contains_key(label) {
                    return Err(ValidationError::UnknownTarget {
                        place: format!("timeline second {} paths", s.t),
                        target: label.clone(),
                    });
                }
                *per_target.entry(label).or_default() += u128::from(*n);
            }
        }
        let labels: BTreeSet<&str> = per_target
            .keys()
            .copied()
            .chain(s.targets.keys().map(String::as_str))
            .collect();
        for label in labels {
            let by_paths = per_target.get(label).copied().unwrap_or(0);
            let total = u128::from(s.targets.get(label).copied().unwrap_or(0));
            if by_paths != total {
                return Err(ValidationError::SecondUnbalanced {
                    t: s.t,
                    reason: format!(
                        "paths give {by_paths} responses from {label:?}, targets give {total}"
                    ),
                });
            }
        }
        Ok(())
    }

    fn check_timeline(&self) -> Result<(), ValidationError> {
        let elapsed_s = (self.ended_at - self.started_at).as_seconds_f64();
        // See docs/report.md, "Merging": merge rounds start offsets to whole
        // seconds, so a merged second may start up to half a second after
        // the exact end; `ceil` allows that and nothing more.
        let last_allowed = elapsed_s.ceil();
        let mut sums = [0u128; 5];
        let mut per_target: BTreeMap<&str, u128> = BTreeMap::new();
        let mut per_host: BTreeMap<&str, u128> = BTreeMap::new();
        let mut previous: Option<u64> = None;
        for (index, s) in self.timeline.iter().enumerate() {
            if let Some(previous) = previous
                && s.t <= previous
            {
                return Err(ValidationError::TimelineNotSorted {
                    index,
                    previous,
                    t: s.t,
                });
            }
            previous = Some(s.t);
            if s.t as f64 > last_allowed {
                return Err(ValidationError::SecondAfterEnd { t: s.t, elapsed_s });
            }
            let unbalanced = |reason: String| ValidationError::SecondUnbalanced { t: s.t, reason };
            if u128::from(s.scheduled) != sum([s.ok, s.failed, s.dropped]) {
                return Err(unbalanced(format!(
                    "scheduled {} != ok {} + failed {} + dropped {}",
                    s.scheduled, s.ok, s.failed, s.dropped
                )));
            }
            if u128::from(s.sent) != sum([s.ok, s.failed]) {
                return Err(unbalanced(format!(
                    "sent {} != ok {} + failed {}",
                    s.sent, s.ok, s.failed
                )));
            }
            let responses = sum(s.targets.values().copied());
            if responses > u128::from(s.sent) {
                return Err(unbalanced(format!(
                    "responses by target add up to {responses}, more than sent {}",
                    s.sent
                )));
            }
            for (i, v) in [s.scheduled, s.sent, s.ok, s.failed, s.dropped]
                .into_iter()
                .enumerate()
            {
                sums[i] += u128::from(v);
            }
            for (label, n) in &s.targets {
                if !self.targets.contains_key(label) {
                    return Err(ValidationError::UnknownTarget {
                        place: format!("timeline second {}", s.t),
                        target: label.clone(),
                    });
                }
                *per_target.entry(label).or_default() += u128::from(*n);
            }
            if let Some(label) = s
                .target_latency_ms
                .keys()
                .find(|l| s.targets.get(*l).is_none_or(|n| *n == 0))
            {
                return Err(ValidationError::SecondUnbalanced {
                    t: s.t,
                    reason: format!(
                        "target_latency_ms has {label:?}, which served no response that second"
                    ),
                });
            }
            self.check_second_paths(s)?;
            for (host, n) in &s.instances {
                if !self.hosts.contains_key(host) {
                    return Err(ValidationError::UnknownHost {
                        t: s.t,
                        host: host.clone(),
                    });
                }
                *per_host.entry(host).or_default() += u128::from(*n);
            }
        }
        let t = &self.totals;
        let fields = ["scheduled", "sent", "ok", "failed", "dropped"];
        let totals = [t.scheduled, t.sent, t.ok, t.failed, t.dropped];
        for ((field, sum), total) in fields.into_iter().zip(sums).zip(totals) {
            if sum != u128::from(total) {
                return Err(ValidationError::TimelineTotalsMismatch { field, sum, total });
            }
        }
        for (label, target) in &self.targets {
            let sum = per_target.get(label.as_str()).copied().unwrap_or(0);
            if sum != u128::from(target.requests) {
                return Err(ValidationError::TimelineTargetMismatch {
                    target: label.clone(),
                    sum,
                    requests: target.requests,
                });
            }
        }
        for (id, host) in &self.hosts {
            let sum = per_host.get(id.as_str()).copied().unwrap_or(0);
            if sum != u128::from(host.requests) {
                return Err(ValidationError::TimelineHostMismatch {
                    host: id.clone(),
                    sum,
                    requests: host.requests,
                });
            }
        }
        Ok(())
    }

    fn check_hosts(&self) -> Result<(), ValidationError> {
        let mut per_target: BTreeMap<&str, u128> = BTreeMap::new();
        for (id, h) in &self.hosts {
            if h.last_seen < h.first_seen {
                return Err(ValidationError::HostSeenReversed {
                    host: id.clone(),
                    first_seen: h.first_seen,
                    last_seen: h.last_seen,
                });
            }
            *per_target.entry(&h.target).or_default() += u128::from(h.requests);
        }
        self.within_targets("hosts", per_target)
    }

    fn check_sections(&self) -> Result<(), ValidationError> {
        let mut per_target: BTreeMap<&str, u128> = BTreeMap::new();
        for by_label in self.paths.values() {
            for (label, n) in by_label {
                *per_target.entry(label).or_default() += u128::from(*n);
            }
        }
        // Every response is on some path: a target whose paths add up to
        // less than its requests lost path data, and with it the path-rule
        // leaks a judge would have seen.
        for (label, target) in &self.targets {
            let sum = per_target.get(label.as_str()).copied().unwrap_or(0);
            if sum < u128::from(target.requests) {
                return Err(ValidationError::PathsIncomplete {
                    target: label.clone(),
                    sum,
                    requests: target.requests,
                });
            }
        }
        self.within_targets("paths", per_target)?;

        let Some(clients) = &self.clients else {
            return Ok(());
        };
        let mut per_target: BTreeMap<&str, u128> = BTreeMap::new();
        for (id, c) in clients {
            if c.targets.get(&c.first_target).is_none_or(|n| *n == 0) {
                return Err(ValidationError::ClientFirstTargetMissing {
                    client: id.clone(),
                    first_target: c.first_target.clone(),
                });
            }
            for (label, n) in &c.targets {
                *per_target.entry(label).or_default() += u128::from(*n);
            }
        }
        self.within_targets("clients", per_target)
    }

    /// Every label of `per_target` is a known target and its sum does not
    /// exceed that target's `requests`.
    fn within_targets(
        &self,
        section: &'static str,
        per_target: BTreeMap<&str, u128>,
    ) -> Result<(), ValidationError> {
        for (label, sum) in per_target {
            let Some(target) = self.targets.get(label) else {
                return Err(ValidationError::UnknownTarget {
                    place: section.to_owned(),
                    target: label.to_owned(),
                });
            };
            if sum > u128::from(target.requests) {
                return Err(ValidationError::SectionExceedsTarget {
                    section,
                    target: label.to_owned(),
                    sum,
                    requests: target.requests,
                });
            }
        }
        Ok(())
    }
}

/// Accepts `weighbridge.report/v1` and additive minor revisions
/// `weighbridge.report/v1.N`; rejects everything else.
pub(crate) fn check_schema(schema: &str) -> Result<(), ValidationError> {
    let supported = schema
        .strip_prefix(SCHEMA_FAMILY)
        .and_then(|version| version.strip_prefix("v1"))
        .is_some_and(|rest| {
            rest.is_empty()
                || rest.strip_prefix('.').is_some_and(|minor| {
                    !minor.is_empty() && minor.bytes().all(|b| b.is_ascii_digit())
                })
        });
    if supported {
        Ok(())
    } else {
        Err(ValidationError::UnsupportedSchema {
            found: schema.to_owned(),
        })
    }
}

fn check_histograms(label: &str, target: &Target) -> Result<(), ValidationError> {
    let pairs = [
        (
            HistogramKind::Corrected,
            &target.histograms.corrected,
            &target.latency_ms,
        ),
        (
            HistogramKind::Raw,
            &target.histograms.raw,
            &target.raw_latency_ms,
        ),
    ];
    for (kind, encoded, written) in pairs {
        let histogram =
            decode_histogram(encoded).map_err(|e| ValidationError::HistogramInvalid {
                target: label.to_owned(),
                kind,
                reason: e.to_string(),
            })?;
        if histogram.len() != target.ok {
            return Err(ValidationError::HistogramCountMismatch {
                target: label.to_owned(),
                kind,
                count: histogram.len(),
                ok: target.ok,
            });
        }
        let expected = Latency::from_histogram(&histogram);
        let close = |a: f64, b: f64| (a - b).abs() <= LATENCY_TOLERANCE_MS;
        if !(close(written.p50, expected.p50)
            && close(written.p90, expected.p90)
            && close(written.p99, expected.p99)
            && close(written.max, expected.max))
        {
            return Err(ValidationError::LatencyMismatch {
                target: label.to_owned(),
                kind,
                written: *written,
                expected,
            });
        }
    }
    Ok(())
}

/// `field` is a closure so the name is only formatted on failure: these
/// checks run for every timeline second of every report.
fn number(field: impl FnOnce() -> String, value: f64) -> Result<(), ValidationError> {
    if value.is_finite() && value >= 0.0 {
        Ok(())
    } else {
        Err(ValidationError::InvalidNumber {
            field: field(),
            value,
        })
    }
}

fn latency(field: impl Fn() -> String, l: &Latency) -> Result<(), ValidationError> {
    number(|| format!("{}.p50", field()), l.p50)?;
    number(|| format!("{}.p90", field()), l.p90)?;
    number(|| format!("{}.p99", field()), l.p99)?;
    number(|| format!("{}.max", field()), l.max)?;
    if l.p50 <= l.p90 && l.p90 <= l.p99 && l.p99 <= l.max {
        Ok(())
    } else {
        Err(ValidationError::PercentilesDecrease { field: field() })
    }
}

fn sum(values: impl IntoIterator<Item = u64>) -> u128 {
    values.into_iter().map(u128::from).sum()
}

#[cfg(test)]
mod tests {
    use super::check_schema;

    #[test]
    fn schema_versions() {
        assert!(check_schema("weighbridge.report/v1").is_ok());
        assert!(check_schema("weighbridge.report/v1.3").is_ok());
        for bad in [
            "weighbridge.report/v2",
            "weighbridge.report/v10",
            "weighbridge.report/v1.",
            "weighbridge.report/v1.x",
            "weighbridge.report/v12",
            "weighbridge.policy/v1",
            "",
        ] {
            assert!(check_schema(bad).is_err(), "{bad} must be rejected");
        }
    }
}
