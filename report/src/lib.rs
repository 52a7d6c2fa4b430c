//! The weighbridge load report, `weighbridge.report/v1`: the one definition
//! of the JSON document that `loadgen` writes and `verify` reads.
//!
//! - `schema.rs`: the serde types ([`Report`] and its parts).
//! - `histogram.rs`: recording latencies ([`TargetRecorder`]) and the base64
//!   HDR histogram wire form ([`encode_histogram`], [`decode_histogram`]).
//! - [`Report::validate`]: every invariant, as a [`ValidationError`] a caller
//!   can match on.
//! - [`Report::read`] / [`Report::write_atomic`]: files; reading always
//!   validates, writing is atomic.
//! - [`merge`]: several workers' reports into one.
//! - `synth` (feature `synth`, for tests and benchmarks only): a
//!   deterministic miniature loadgen whose reports' truth is known.
//!
//! The field-by-field reference, units, invariants and versioning rules are
//! in `docs/report.md`; the JSON Schema is `report/schema/report.v1.schema.json`.
//!
//! ```
//! use std::time::Duration;
//! use weighbridge_report::TargetRecorder;
//!
//! let mut ecs = TargetRecorder::new();
//! ecs.record_ok(Duration::from_millis(12), Duration::from_millis(11));
//! ecs.record_failed();
//! let target = ecs.to_target()?;
//! assert_eq!((target.requests, target.ok, target.failed), (2, 1, 1));
//! # Ok::<(), weighbridge_report::HistogramError>(())
//! ```

mod histogram;
mod io;
mod merge;
pub mod rollout;
mod schema;
#[cfg(feature = "synth")]
pub mod synth;
mod validate;

pub use histogram::{
    HistogramError, SIGNIFICANT_DIGITS, TargetRecorder, decode_histogram, encode_histogram,
    new_histogram,
};
pub use io::{ParseError, ReportError};
pub use merge::{MergeError, merge};
pub use schema::{
    Config, Failures, Histograms, Host, Latency, LoadgenWatch, MAX_INSTANCES, MAX_LABEL_LEN,
    MAX_TARGETS, OVERFLOW_INSTANCE_PREFIX, OVERFLOW_TARGET, Report, SCHEMA_V1, Second,
    SecondLatency, Stage, StoppedBy, Target, Totals, UNKNOWN_TARGET, VirtualClient,
};
pub use validate::{HistogramKind, ValidationError};

/// Re-exported so callers record into the same histogram type without
/// depending on `hdrhistogram` themselves.
pub use hdrhistogram::Histogram;
