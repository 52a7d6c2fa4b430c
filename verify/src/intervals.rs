//! The interval of shares every judge reports (the exact interval itself is
//! [`crate::binomial::clopper_pearson`]).

/// A closed interval of shares, both ends in `[0, 1]`.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize)]
pub struct Interval {
    /// Lower end.
    pub low: f64,
    /// Upper end.
    pub high: f64,
}
