//! Pearson's chi-square goodness-of-fit test and the central chi-square
//! distribution helpers the rest of the judge uses.

use statrs::distribution::{ChiSquared, ContinuousCDF};

/// The result of a Pearson goodness-of-fit test.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ChiSquare {
    /// `Σ (O_i − E_i)² / E_i`.
    pub statistic: f64,
    /// Degrees of freedom, `k − 1`.
    pub df: u32,
    /// Upper-tail probability of the statistic, from the survival function.
    pub p_value: f64,
}

/// The Pearson statistic `Σ (O_i − E_i)² / E_i` with `E_i = N·p_i`.
///
/// `probs` must be positive and add up to 1; `observed` and `probs` have the
/// same length.
pub fn pearson_statistic(observed: &[u64], probs: &[f64]) -> f64 {
    let n: u64 = observed.iter().sum();
    let n = n as f64;
    observed
        .iter()
        .zip(probs)
        .map(|(&o, &p)| {
            let e = n * p;
            let d = o as f64 - e;
            d * d / e
        })
        .sum()
}

/// Pearson's chi-square test of `observed` against the probabilities
/// `probs` (positive, summing to 1), `df = k − 1`, p-value from
/// [`chi2_sf`]. Needs `k ≥ 2` and `N > 0`.
pub fn pearson(observed: &[u64], probs: &[f64]) -> ChiSquare {
    debug_assert_eq!(observed.len(), probs.len());
    debug_assert!(observed.len() >= 2);
    let statistic = pearson_statistic(observed, probs);
    let df = (observed.len() - 1) as u32;
    ChiSquare {
        statistic,
        df,
        p_value: chi2_sf(statistic, df),
    }
}

/// Upper tail `P(X > x)` of a central chi-square with `df` degrees of
/// freedom, from statrs' survival function (never `1 − cdf`, which loses
/// every digit below 1e-16).
pub fn chi2_sf(x: f64, df: u32) -> f64 {
    if x <= 0.0 {
        return 1.0;
    }
    match ChiSquared::new(f64::from(df)) {
        Ok(d) => d.sf(x),
        Err(_) => f64::NAN,
    }
}

/// Lower tail `P(X ≤ x)` of a central chi-square.
pub fn chi2_cdf(x: f64, df: u32) -> f64 {
    if x <= 0.0 {
        return 0.0;
    }
    match ChiSquared::new(f64::from(df)) {
        Ok(d) => d.cdf(x),
        Err(_) => f64::NAN,
    }
}

/// The critical value `x` with `P(X > x) = alpha`, found by bisection on
/// the survival function (so it is accurate for alpha far below 1e-3).
pub fn chi2_critical(alpha: f64, df: u32) -> f64 {
    let mut hi = f64::from(df).max(1.0);
    // Bounded: past 2^1100 the survival function is 0 for any df.
    for _ in 0..1100 {
        if chi2_sf(hi, df) <= alpha {
            break;
        }
        hi *= 2.0;
    }
    let mut lo = 0.0;
    for _ in 0..200 {
        let mid = 0.5 * (lo + hi);
        if chi2_sf(mid, df) > alpha {
            lo = mid;
        } else {
            hi = mid;
        }
        if hi - lo <= 1e-12 * hi {
            break;
        }
    }
    0.5 * (lo + hi)
}
