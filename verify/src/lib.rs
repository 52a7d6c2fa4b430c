//! weighbridge `verify`: the statistical judge of a traffic split.
//!
//! One concern per module: [`verdict`] (the three verdicts and their exit
//! codes, shared by every judge), [`chisq`] (Pearson's test), [`binomial`]
//! (exact binomial tails, test and Clopper-Pearson interval), [`exact`]
//! (the Monte Carlo test for small counts), [`intervals`] (the interval
//! type), [`tolerance`] (per-target tolerance bands), [`split`] (the
//! decision, its rule in [`split::decision`]), [`counts`]
//! (inline input), [`reports`] (loadgen reports: read, merge, tables),
//! [`cloudwatch`] (ALB RequestCount), [`inputs`] (each input to a complete
//! verdict), [`dispersion`] (per-window and per-client homogeneity),
//! [`failures`] (failed requests and `--max-error-rate`), [`scaling`] (the
//! autoscaling reaction; [`scaling::aws`] asks AWS about an ECS service,
//! [`scaling::lineup`] lines that up with the clients' view), [`compare`]
//! (the canary gate), [`output`] (text and JSON), `fmt`
//! (percentages, p-values and durations as every output writes them), [`html`]
//! (the `--html` page with charts), [`ci`] (markdown step
//! summary, JUnit),
//! [`cli`] (the command line).
//! How to read a verdict: `docs/verify.md`.

pub mod binomial;
pub mod chisq;
pub mod ci;
pub mod cli;
pub mod cloudwatch;
pub mod compare;
pub mod counts;
pub mod dispersion;
pub mod error;
pub mod exact;
pub mod failures;
mod fmt;
pub mod html;
pub mod inputs;
pub mod intervals;
pub mod output;
pub mod reports;
pub mod scaling;
pub mod split;
pub mod tolerance;
pub mod verdict;
pub mod windows;

pub use counts::Counts;
pub use error::InputError;
pub use inputs::{ReportChecks, judge_cloudwatch, judge_report};
pub use scaling::{Expect, ScalingOptions, ScalingReport, judge_scaling};
pub use split::{SplitOptions, SplitReport, TestUsed, Unit, judge, judge_with};
pub use verdict::Verdict;
