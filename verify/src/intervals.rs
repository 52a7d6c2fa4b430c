//! Wilson score intervals for a target's share, with a Bonferroni split of
//! alpha so that the intervals of all k targets hold simultaneously.

use statrs::distribution::{ContinuousCDF, Normal};

/// A closed interval of shares, both ends in `[0, 1]`.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize)]
pub struct Interval {
    /// Lower end.
    pub low: f64,
    /// Upper end.
    pub high: f64,
}

impl Interval {
    /// Whether the interval lies within `[center − half_width, center + half_width]`.
    pub fn within(&self, center: f64, half_width: f64) -> bool {
        // A hair of slack so that an interval touching the bound exactly
        // (e.g. 0 for a share that cannot go lower) is not rejected by rounding.
        let eps = 1e-12;
        self.low >= center - half_width - eps && self.high <= center + half_width + eps
    }
}

/// The two-sided standard normal quantile `z` with `P(|Z| > z) = alpha`,
/// computed from the lower tail so small alphas keep their precision.
pub fn z_two_sided(alpha: f64) -> f64 {
    match Normal::new(0.0, 1.0) {
        Ok(n) => -n.inverse_cdf(alpha / 2.0),
        Err(_) => f64::NAN,
    }
}

/// The Wilson score interval of `k` successes in `n` trials at confidence
/// `1 − alpha`. `n = 0` gives `[0, 1]`.
pub fn wilson(k: u64, n: u64, alpha: f64) -> Interval {
    if n == 0 {
        return Interval {
            low: 0.0,
            high: 1.0,
        };
    }
    let z = z_two_sided(alpha);
    let n = n as f64;
    let p = k as f64 / n;
    let z2 = z * z;
    let denom = 1.0 + z2 / n;
    let center = (p + z2 / (2.0 * n)) / denom;
    let half = z / denom * (p * (1.0 - p) / n + z2 / (4.0 * n * n)).sqrt();
    Interval {
        low: (center - half).max(0.0),
        high: (center + half).min(1.0),
    }
}

/// Simultaneous intervals for every share of a multinomial sample:
/// Wilson at `alpha / k` each (Bonferroni), so that all k cover their true
/// shares together with probability at least `1 − alpha`.
pub fn simultaneous_wilson(observed: &[u64], alpha: f64) -> Vec<Interval> {
    let n: u64 = observed.iter().sum();
    let per = alpha / observed.len().max(1) as f64;
    observed.iter().map(|&k| wilson(k, n, per)).collect()
}
