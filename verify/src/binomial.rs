//! Binomial tails, the Clopper-Pearson interval and the exact two-sided
//! binomial test, each answering in bounded time (a few dozen tail
//! evaluations) whatever the count.
//!
//! The tails: for `X ~ Binomial(n, q)`, `P(X ≤ x) = I_{1−q}(n − x, x + 1)`
//! and `P(X ≥ x) = I_q(x, n − x + 1)`, statrs' regularized incomplete beta,
//! each computed from the side where it is small, so a tail of 1e-300
//! keeps its relative precision. statrs evaluates the continued fraction
//! with at most 140 terms, which is not enough once the count's variance
//! `x (n − x) / n` passes about 10^5: at n = 10^7 near the mean it is 2 %
//! off, at 10^10 it returns a negative number. Past
//! [`SADDLEPOINT_VARIANCE`] the tails are therefore the Lugannani-Rice
//! saddlepoint approximation with Daniels' continuity correction for a
//! lattice, whose relative error is of order `1 / variance` (below 1e-5
//! there; no crate offers it, so it is written here). Both are checked
//! against scipy in `tests/statistics.rs`.

use statrs::distribution::{ContinuousCDF, Normal};
use statrs::function::beta::beta_reg;

use crate::intervals::Interval;

/// Bisection steps for an interval end: 2^-200 is far below an `f64` ulp
/// of any share, so the loop ends on convergence first.
const BISECTION_STEPS: u32 = 200;

/// The variance of a count, `x (n − x) / n`, above which the tails are the
/// saddlepoint approximation instead of statrs' continued fraction.
pub const SADDLEPOINT_VARIANCE: f64 = 2e4;

/// `P(X ≤ x)` for `X ~ Binomial(n, q)`.
pub fn lower_tail(x: u64, n: u64, q: f64) -> f64 {
    if x >= n || q <= 0.0 {
        return 1.0;
    }
    if q >= 1.0 {
        return 0.0;
    }
    if large(x, n) {
        // P(X ≤ x) = 1 − P(X ≥ x + 1), written so the small side keeps its digits.
        return saddlepoint_lower(x + 1, n, q);
    }
    beta_reg((n - x) as f64, (x + 1) as f64, 1.0 - q)
}

/// `P(X ≥ x)` for `X ~ Binomial(n, q)`.
pub fn upper_tail(x: u64, n: u64, q: f64) -> f64 {
    if x == 0 || q >= 1.0 {
        return 1.0;
    }
    if x > n || q <= 0.0 {
        return 0.0;
    }
    if large(x, n) {
        return 1.0 - saddlepoint_lower(x, n, q);
    }
    beta_reg(x as f64, (n - x + 1) as f64, q)
}

fn large(x: u64, n: u64) -> bool {
    let (x, n) = (x as f64, n as f64);
    x * (n - x) / n > SADDLEPOINT_VARIANCE
}

/// `1 − P(X ≥ x) = P(X < x)` by Lugannani-Rice with Daniels' lattice
/// correction: with `p̂ = x/n`, the saddlepoint `ŝ = ln(p̂(1−q) / ((1−p̂)q))`,
/// `w = sign(ŝ) √(2n·KL(p̂‖q))` and `u = (1 − e^{−ŝ}) √(n p̂ (1 − p̂))`,
/// `P(X ≥ x) ≈ 1 − Φ(w) − φ(w) (1/w − 1/u)`. Returned as
/// `Φ(w) + φ(w)(1/w − 1/u)`, which keeps its digits when it is small
/// (x below the mean). Only called with `0 < x < n`, `0 < q < 1`.
fn saddlepoint_lower(x: u64, n: u64, q: f64) -> f64 {
    let (xf, nf) = (x as f64, n as f64);
    let p = xf / nf;
    // Written with ln_1p of the relative differences: KL and ŝ are tiny near
    // the mean, and the plain logarithms would cancel away their digits.
    let d = p - q;
    let (up, down) = ((d / q).ln_1p(), (-d / (1.0 - q)).ln_1p());
    let kl = p * up + (1.0 - p) * down;
    let s = up - down;
    let w = s.signum() * (2.0 * nf * kl.max(0.0)).sqrt();
    let Ok(normal) = Normal::new(0.0, 1.0) else {
        return f64::NAN;
    };
    if w.abs() < 1e-3 {
        // At the mean 1/w and 1/u cancel; the continuity-corrected normal
        // is as good there (its error is of order 1/sd, and the tail ≈ 1/2).
        let sd = (nf * q * (1.0 - q)).sqrt();
        return normal.cdf((xf - 0.5 - nf * q) / sd);
    }
    let u = -(-s).exp_m1() * (nf * p * (1.0 - p)).sqrt();
    let density = (-0.5 * w * w).exp() / (2.0 * std::f64::consts::PI).sqrt();
    (normal.cdf(w) + density * (1.0 / w - 1.0 / u)).clamp(0.0, 1.0)
}

/// The Clopper-Pearson interval of `x` successes in `n` trials at confidence
/// `1 − alpha`: every share `q` whose two one-sided exact tests at
/// `alpha / 2` do not reject. It covers the true share with probability at
/// least `1 − alpha` for every `n` and share (it is exact, not asymptotic).
/// `n = 0` gives `[0, 1]`.
pub fn clopper_pearson(x: u64, n: u64, alpha: f64) -> Interval {
    let half = alpha / 2.0;
    let low = if x == 0 {
        0.0
    } else {
        // P_q(X ≥ x) rises with q: the smallest q where it reaches alpha/2.
        solve_increasing(|q| upper_tail(x, n, q), half)
    };
    let high = if x >= n {
        1.0
    } else {
        // P_q(X ≤ x) falls with q: the largest q where it is still alpha/2.
        solve_increasing(|q| -lower_tail(x, n, q), -half)
    };
    Interval { low, high }
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

/// The `q` in `[0, 1]` where the increasing `f` crosses `target`, by bisection.
fn solve_increasing(f: impl Fn(f64) -> f64, target: f64) -> f64 {
    let (mut lo, mut hi) = (0.0f64, 1.0f64);
    for _ in 0..BISECTION_STEPS {
        let mid = 0.5 * (lo + hi);
        if mid <= lo || mid >= hi {
            break;
        }
        if f(mid) < target {
            lo = mid;
        } else {
            hi = mid;
        }
    }
    0.5 * (lo + hi)
}

/// Relative tolerance when comparing point probabilities, so that outcomes
/// exactly as likely as the observed one are not lost to rounding.
pub const PMF_RELATIVE_TOLERANCE: f64 = 1e-7;

/// Two-sided exact binomial test of `x` in `n` at share `q`: the
/// probability of every outcome no more likely than `x` (the "minimum
/// likelihood" method of R's `binom.test` and scipy's `binomtest`). The
/// outcomes on the other side of the mode are found by binary search, so
/// the cost is logarithmic in `n`.
pub fn two_sided(x: u64, n: u64, q: f64) -> f64 {
    if n == 0 {
        return 1.0;
    }
    if q <= 0.0 {
        return if x == 0 { 1.0 } else { 0.0 };
    }
    if q >= 1.0 {
        return if x == n { 1.0 } else { 0.0 };
    }
    let ln_pmf = |j: u64| ln_pmf(j, n, q);
    let bound = ln_pmf(x) + PMF_RELATIVE_TOLERANCE.ln_1p();
    let mode = (((n + 1) as f64) * q).floor().min(n as f64) as u64;
    let total = if x == mode || ln_pmf(mode) <= bound {
        // x is as likely as the most likely outcome: every outcome counts.
        1.0
    } else if x < mode {
        // The first j above the mode with pmf(j) ≤ pmf(x); pmf falls past the mode.
        let (mut lo, mut hi) = (mode, n + 1);
        while hi - lo > 1 {
            let mid = lo + (hi - lo) / 2;
            if ln_pmf(mid) <= bound {
                hi = mid;
            } else {
                lo = mid;
            }
        }
        lower_tail(x, n, q) + if hi <= n { upper_tail(hi, n, q) } else { 0.0 }
    } else {
        // The last j below the mode with pmf(j) ≤ pmf(x); pmf rises up to the mode.
        let (mut lo, mut hi) = (0u64, mode);
        if ln_pmf(0) > bound {
            upper_tail(x, n, q)
        } else {
            while hi - lo > 1 {
                let mid = lo + (hi - lo) / 2;
                if ln_pmf(mid) <= bound {
                    lo = mid;
                } else {
                    hi = mid;
                }
            }
            lower_tail(lo, n, q) + upper_tail(x, n, q)
        }
    };
    total.min(1.0)
}

/// `ln P(X = j)` for `X ~ Binomial(n, q)`, `0 < q < 1`.
fn ln_pmf(j: u64, n: u64, q: f64) -> f64 {
    use statrs::function::factorial::ln_binomial;
    ln_binomial(n, j) + j as f64 * q.ln() + (n - j) as f64 * (-q).ln_1p()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tails_add_up_around_a_point() {
        for &(x, n, q) in &[(3u64, 10u64, 0.3f64), (0, 5, 0.5), (90, 100, 0.9)] {
            let pmf = lower_tail(x, n, q) - if x == 0 { 0.0 } else { lower_tail(x - 1, n, q) };
            let sum = lower_tail(x, n, q) + upper_tail(x, n, q) - pmf;
            assert!((sum - 1.0).abs() < 1e-12, "{x} {n} {q}: {sum}");
        }
    }

    #[test]
    fn the_interval_of_an_empty_sample_is_everything() {
        let iv = clopper_pearson(0, 0, 0.05);
        assert_eq!((iv.low, iv.high), (0.0, 1.0));
    }

    #[test]
    fn the_two_sided_test_is_one_at_the_mode() {
        assert!((two_sided(50, 100, 0.5) - 1.0).abs() < 1e-12);
    }
}
