//! Intervals of shares: the type every judge reports, and the exact
//! (Clopper-Pearson) interval the split judge uses.

pub use crate::binomial::clopper_pearson;

/// A closed interval of shares, both ends in `[0, 1]`.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize)]
pub struct Interval {
    /// Lower end.
    pub low: f64,
    /// Upper end.
    pub high: f64,
}

/// Simultaneous intervals for every share of a multinomial sample:
/// Clopper-Pearson at `alpha / k` each (Bonferroni), so that all k cover
/// their true shares together with probability at least `1 − alpha`.
pub fn simultaneous(observed: &[u64], alpha: f64) -> Vec<Interval> {
    let n: u64 = observed.iter().sum();
    let per = alpha / observed.len().max(1) as f64;
    observed
        .iter()
        .map(|&x| clopper_pearson(x, n, per))
        .collect()
}
