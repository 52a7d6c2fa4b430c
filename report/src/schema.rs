//! The serde types of report schema `weighbridge.report/v1`.
//!
//! Every type here is plain data: no invariants are enforced at construction,
//! because a report is read from files written by other processes (and other
//! versions). [`Report::validate`](crate::Report::validate) is the one place
//! that decides whether a report is consistent.
//!
//! Forward compatibility: readers ignore fields they do not know (serde's
//! default), so a v1 writer may add optional fields without breaking older
//! readers. Only `config` keeps unknown fields (in [`Config::extra`]), because
//! loadgen records free-form settings there on purpose.
//!
//! Maps are `BTreeMap`s so a written report is byte-for-byte deterministic
//! (sorted keys), which keeps fixtures and diffs stable.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::Value;
use time::OffsetDateTime;

/// The `schema` string this crate writes.
pub const SCHEMA_V1: &str = "weighbridge.report/v1";

/// The target label of a response that named no target (no `x-served-by`
/// header): loadgen writes it, verify judges it as a target the policy does
/// not know.
pub const UNKNOWN_TARGET: &str = "unknown";

/// How many distinct target labels loadgen keeps. A split has a handful; a
/// label that changes per response (a `--target-header` naming a request id)
/// would otherwise grow every per-target table, and the report, without end.
pub const MAX_TARGETS: usize = 100;

/// The label loadgen records responses under once `MAX_TARGETS` distinct
/// labels have been seen; verify judges it as a target the policy does not
/// know.
pub const OVERFLOW_TARGET: &str = "overflow";

/// How many distinct instance ids (`hosts` keys) loadgen keeps. Once that
/// many have been seen, a response from a new instance is counted under
/// `overflow:<its target label>` (one bucket per target, so `hosts` still
/// adds up per target).
pub const MAX_INSTANCES: usize = 1000;

/// The prefix of the per-target instance overflow buckets.
pub const OVERFLOW_INSTANCE_PREFIX: &str = "overflow:";

/// The longest target label or instance id loadgen writes, in bytes. A
/// longer value is kept as its first bytes, `~` and a 16-hex-digit FNV-1a
/// hash of the whole value, 256 bytes at most, so distinct values stay
/// distinct.
pub const MAX_LABEL_LEN: usize = 256;

/// The family prefix of every weighbridge report schema string.
pub(crate) const SCHEMA_FAMILY: &str = "weighbridge.report/";

/// One load run (or several merged ones): the document `loadgen` writes and
/// `verify` reads.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Report {
    /// Format and major version, always [`SCHEMA_V1`] when written by this crate.
    /// Readers also accept `weighbridge.report/v1.N` (additive minor revisions).
    pub schema: String,
    /// What was asked for.
    pub config: Config,
    /// Wall-clock start of the run (RFC 3339). Time zero of every `t`,
    /// `first_seen` and `last_seen` in the report.
    #[serde(with = "time::serde::rfc3339")]
    pub started_at: OffsetDateTime,
    /// Wall-clock end of the run, after in-flight requests finished (RFC 3339).
    #[serde(with = "time::serde::rfc3339")]
    pub ended_at: OffsetDateTime,
    /// True when the run was stopped early (Ctrl-C, SIGTERM). The counts are
    /// still complete for the part that ran.
    pub interrupted: bool,
    /// Ids of the loadgen runs this report holds: one for a run (random, 128
    /// bits in hex), every input's for a merge. Merging a run twice (the same
    /// file given twice, or a merge with one of its own inputs) would count
    /// its requests twice, so a repeated id is an error. Absent in reports
    /// from before it was added.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub runs: Vec<String>,
    /// Run-wide counts.
    pub totals: Totals,
    /// Per target label (the `x-served-by` header of the response).
    pub targets: BTreeMap<String, Target>,
    /// Request path → target label → responses, for path-rule checks.
    #[serde(default)]
    pub paths: BTreeMap<String, BTreeMap<String, u64>>,
    /// One entry per second of the run, sorted by `t`, no duplicates.
    pub timeline: Vec<Second>,
    /// Per instance id (the `x-backend-host` header of the response).
    #[serde(default)]
    pub hosts: BTreeMap<String, Host>,
    /// Present when loadgen simulated sticky clients: client id → what it saw.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub clients: Option<BTreeMap<String, VirtualClient>>,
    /// Present when loadgen watched itself; tells whether the numbers above
    /// measure the system under test or the load generator.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub loadgen: Option<LoadgenWatch>,
    /// Present when a judge watching the run stopped the load because the
    /// data had decided (`check`): who and why. Such a run is not
    /// `interrupted`; its counts are complete up to the stop. An optional,
    /// additive v1 field.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stopped_by: Option<StoppedBy>,
}

/// Who stopped a run before its scheduled end, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StoppedBy {
    /// The program that stopped it, e.g. `check`.
    pub by: String,
    /// Why, in one sentence (e.g. the verdict and its reason).
    pub reason: String,
}

/// The load that was requested.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Config {
    /// Every URL that was loaded (a merged report holds the union).
    pub urls: Vec<String>,
    /// Requested rate in requests per second (for staged runs: the highest
    /// stage rate). A merged report holds the sum over workers.
    pub rps: f64,
    /// Rate stages, in order; empty for a constant-rate run.
    #[serde(default)]
    pub stages: Vec<Stage>,
    /// Requested duration in seconds (the sum of the stages for staged runs).
    pub duration_s: f64,
    /// How many loadgen processes this report stands for (1 unless merged).
    #[serde(default = "one")]
    pub workers: u32,
    /// Free-form settings loadgen chose to record (paths mix, clients,
    /// max_in_flight, timeouts, ...). Kept verbatim on read and write.
    #[serde(flatten)]
    pub extra: BTreeMap<String, Value>,
}

fn one() -> u32 {
    1
}

/// One stage of a staged run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Stage {
    /// How long the stage lasts, in seconds.
    pub duration_s: f64,
    /// Target rate of the stage, requests per second.
    pub rps: f64,
    /// Stage settings loadgen chose to record (for example a ramp shape).
    #[serde(flatten)]
    pub extra: BTreeMap<String, Value>,
}

/// Run-wide counts. Invariants: `scheduled == ok + failed + dropped`,
/// `sent == ok + failed`, and the failure classes add up to `failed`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Totals {
    /// Requests whose intended send time fell inside the run.
    pub scheduled: u64,
    /// Requests that were actually sent (`ok + failed`).
    pub sent: u64,
    /// Responses with status 1xx–3xx.
    pub ok: u64,
    /// Sent requests that did not end `ok` (see [`Failures`] for the classes).
    pub failed: u64,
    /// Scheduled requests never sent (generator over capacity, or the run
    /// was interrupted before their time).
    pub dropped: u64,
    /// `failed`, split by class.
    #[serde(default)]
    pub failures: Failures,
}

/// Failed requests by class. The classes add up to [`Totals::failed`].
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Failures {
    /// Could not connect (refused, reset before a response, DNS, TLS).
    #[serde(default)]
    pub connect: u64,
    /// No complete response within the request timeout.
    #[serde(default)]
    pub timeout: u64,
    /// Response status 400–499.
    #[serde(default)]
    pub http_4xx: u64,
    /// Response status 500–599.
    #[serde(default)]
    pub http_5xx: u64,
    /// Anything else, including requests abandoned in flight when the run ended.
    #[serde(default)]
    pub other: u64,
}

impl Failures {
    /// Sum of all classes (saturating, so a hostile file cannot overflow it).
    pub fn sum(&self) -> u64 {
        [
            self.connect,
            self.timeout,
            self.http_4xx,
            self.http_5xx,
            self.other,
        ]
        .iter()
        .fold(0u64, |a, b| a.saturating_add(*b))
    }
}

/// What one target label received.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Target {
    /// Responses from this target (`ok + failed`).
    pub requests: u64,
    /// Responses from this target that were ok.
    pub ok: u64,
    /// Responses from this target that failed (4xx/5xx; errors without a
    /// response have no target and are only in [`Totals`]).
    pub failed: u64,
    /// Latency of the ok responses measured from the *intended* send time
    /// (coordinated-omission corrected), milliseconds.
    pub latency_ms: Latency,
    /// Latency of the ok responses measured from the *actual* send time, milliseconds.
    pub raw_latency_ms: Latency,
    /// The full distributions behind `latency_ms` and `raw_latency_ms`.
    pub histograms: Histograms,
}

/// Summary of a latency distribution, milliseconds. All zero when empty.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct Latency {
    /// Median.
    pub p50: f64,
    /// 90th percentile.
    pub p90: f64,
    /// 99th percentile.
    pub p99: f64,
    /// Largest recorded value.
    pub max: f64,
}

/// Mergeable HDR histograms of one target, in **microseconds**: base64
/// (standard alphabet, padded) of HdrHistogram's V2 *compressed* (deflate)
/// encoding, the format every HdrHistogram implementation reads. Each holds
/// exactly `ok` values.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Histograms {
    /// Corrected latency (from intended send time).
    pub corrected: String,
    /// Raw latency (from actual send time).
    pub raw: String,
}

/// One second of the run: the requests whose *intended* send time fell in
/// `[t, t + 1)` seconds after `started_at`, wherever their response arrived.
///
/// Bucketing by intended time (not completion time) means every request is
/// in exactly one second, so each entry balances like [`Totals`] does.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Second {
    /// Whole seconds since `started_at`.
    pub t: u64,
    /// As in [`Totals`], for this second.
    pub scheduled: u64,
    /// As in [`Totals`], for this second.
    pub sent: u64,
    /// As in [`Totals`], for this second.
    pub ok: u64,
    /// As in [`Totals`], for this second.
    pub failed: u64,
    /// As in [`Totals`], for this second.
    pub dropped: u64,
    /// Target label → responses in this second.
    #[serde(default)]
    pub targets: BTreeMap<String, u64>,
    /// Instance id → responses in this second: the instances seen.
    #[serde(default)]
    pub instances: BTreeMap<String, u64>,
    /// Request path → target label → responses in this second: `targets`
    /// broken down by path, so that a judge looking second by second can
    /// leave requests on rule paths out. An optional, additive v1 field:
    /// reports written before it lack it (and then a second's paths are
    /// unknown, never "none").
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub paths: BTreeMap<String, BTreeMap<String, u64>>,
    /// Corrected latency of this second's ok responses, all targets together;
    /// absent when the second has no ok response.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub latency_ms: Option<SecondLatency>,
    /// Target label → corrected latency of this second's ok responses from
    /// that target (targets with no ok response that second are absent).
    /// An optional, additive v1 field: reports written before it lack it.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub target_latency_ms: BTreeMap<String, SecondLatency>,
}

/// Percentiles of one second, milliseconds.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct SecondLatency {
    /// Median.
    pub p50: f64,
    /// 90th percentile.
    pub p90: f64,
    /// 99th percentile.
    pub p99: f64,
}

/// One backend instance.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Host {
    /// Target label of the first response from this instance.
    pub target: String,
    /// Responses from this instance.
    pub requests: u64,
    /// Seconds since `started_at` of its first response (fractional).
    pub first_seen: f64,
    /// Seconds since `started_at` of its last response (fractional).
    pub last_seen: f64,
}

/// One virtual client of loadgen's `--clients` (not the HTTP client that
/// sends the requests): what it was served, for the stickiness checks.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct VirtualClient {
    /// Target label of the client's first response: the one stickiness
    /// should have kept it on.
    pub first_target: String,
    /// Target label → responses this client got from it.
    pub targets: BTreeMap<String, u64>,
}

/// Loadgen watching itself.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct LoadgenWatch {
    /// Mean CPU use of the loadgen process over the run, percent of one core
    /// (may exceed 100); a merge keeps the busiest worker's.
    pub cpu_percent: f64,
    /// Largest delay between a request's intended and actual send time, milliseconds.
    pub max_send_lag_ms: f64,
    /// 99th percentile of that delay, milliseconds (a merge keeps the
    /// largest worker's). An optional, additive v1 field: reports written
    /// before it lack it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub send_lag_p99_ms: Option<f64>,
    /// True when loadgen itself limited the run (CPU saturated or send lag
    /// beyond its threshold): the results then say little about the target.
    pub bottleneck: bool,
}
