//! weighbridge `verify`: the statistical judge of a traffic split.
//!
//! One concern per module: [`chisq`] (Pearson's test), [`exact`] (exact
//! binomial and Monte Carlo tests for small counts), [`intervals`]
//! (simultaneous Wilson intervals), [`power`] (noncentral chi-square power
//! and the sample size that decides), [`split`] (the decision), [`counts`]
//! (the input), [`output`] (text and JSON), [`cli`] (the command line).
//! How to read a verdict: `docs/verify.md`.

pub mod chisq;
pub mod cli;
pub mod counts;
pub mod error;
pub mod exact;
pub mod intervals;
pub mod output;
pub mod power;
pub mod split;

pub use counts::Counts;
pub use error::InputError;
pub use split::{SplitOptions, SplitReport, TestUsed, Verdict, judge};
