//! Power of the chi-square test against the least favourable deviation of
//! one tolerance, from the noncentral chi-square distribution.
//!
//! statrs has no noncentral chi-square, so its survival function is computed
//! as the Poisson mixture of central ones:
//!
//! `P(X'(df, λ) > x) = Σ_j e^{−λ/2} (λ/2)^j / j! · P(X(df + 2j) > x)`.
//!
//! The sum starts at the Poisson mode and walks outwards until a term's
//! Poisson weight is below [`POISSON_TERM_CUTOFF`]; since every central
//! survival probability is at most 1, the truncation error is at most the
//! Poisson mass left out, which is returned by [`noncentral_chi2_sf_bounded`]
//! and stays below 1e-13 (tails of a Poisson decay geometrically past the
//! cut-off). For very large λ (mode above 50) the lower tail is first bounded
//! by `P(J ≤ j*) + P(X(df + 2j*) ≤ x)` with `j* = ⌊λ/4⌋`; when that bound is
//! below 1e-15 the power is reported as 1 without summing.
//!
//! **The least favourable deviation of size t.** The noncentrality of a
//! true split `p + δ` (Σδ = 0) for N requests is `λ = N Σ δ_i² / p_i`. Among
//! all deviations that move some target j by exactly `t`, the smallest λ
//! comes from moving the other targets in proportion to their shares
//! (`δ_i = −δ_j p_i / (1 − p_j)`), giving `λ = N t² / (p_j (1 − p_j))`, and
//! the least favourable target is the one whose share is closest to 50 %.
//! So `λ_min = N t² / max_j p_j (1 − p_j)`: the power at `λ_min` is the
//! smallest power against any split with a target off by `t` or more.

use statrs::function::gamma::ln_gamma;

use crate::chisq::{chi2_critical, chi2_sf};
use crate::intervals::z_two_sided;

/// A Poisson term below this weight ends the sum.
pub const POISSON_TERM_CUTOFF: f64 = 1e-17;

/// Half the noncentrality past which the survival function is Sankaran's
/// normal approximation (error of order `1 / λ`, below 1e-5 here) instead
/// of the Poisson mixture. The power of any test `verify` runs is decided
/// (exactly 1 within 1e-15) long before this.
pub const MAX_EXACT_MU: f64 = 1e5;

/// Most Poisson terms summed on each side of the mode. Reached only when
/// `x` is far out in the tail of a chi-square with a huge noncentrality;
/// the mass left out is then added to the returned truncation bound, so the
/// answer stays honest and the time stays bounded for any input.
pub const MAX_POISSON_TERMS: u32 = 200_000;

/// Survival function `P(X > x)` of a noncentral chi-square with `df` degrees
/// of freedom and noncentrality `lambda`, and a bound on its truncation error.
///
/// Answers in bounded time for any input: at most `2 ·`
/// [`MAX_POISSON_TERMS`] central survival functions of order below about
/// 10^6, or past [`MAX_EXACT_MU`] a closed-form approximation (its second
/// value is then `1 / λ`, the order of its error). Degrees of freedom are
/// carried as `f64`, so a huge noncentrality cannot overflow them.
pub fn noncentral_chi2_sf_bounded(x: f64, df: u32, lambda: f64) -> (f64, f64) {
    if lambda.is_nan() || x.is_nan() {
        return (f64::NAN, 1.0);
    }
    if lambda <= 0.0 {
        return (chi2_sf(x, df), 0.0);
    }
    if x <= 0.0 {
        return (1.0, 0.0);
    }
    if lambda.is_infinite() {
        return (1.0, 0.0);
    }
    let df = f64::from(df);
    let mu = lambda / 2.0;
    if mu > MAX_EXACT_MU {
        let p = sankaran_sf(x, df, lambda);
        // Past ~1e150 the approximation's powers overflow; the mass is then
        // all on one side of x.
        let p = if p.is_nan() {
            if x < df + lambda { 1.0 } else { 0.0 }
        } else {
            p
        };
        return (p, 1.0 / lambda);
    }
    if mu > 50.0 {
        // P(X ≤ x) ≤ P(J ≤ j*) + P(X(df + 2j*) ≤ x), J ~ Poisson(mu).
        let j_star = (mu / 2.0).floor();
        // P(Poisson(mu) ≤ j) = P(X(2j + 2) > 2 mu).
        let poisson_low = central_sf(2.0 * mu, 2.0 * j_star + 2.0);
        let central_low = 1.0 - central_sf(x, df + 2.0 * j_star);
        let bound = poisson_low + central_low.max(0.0);
        if bound < 1e-15 {
            return (1.0, bound);
        }
    }
    let ln_mu = mu.ln();
    let weight = |j: f64| (-mu + j * ln_mu - ln_gamma(j + 1.0)).exp();
    let mode = mu.floor();
    let mut sum = 0.0;
    let mut mass = 0.0;
    // upwards from the mode
    let mut j = mode;
    for _ in 0..MAX_POISSON_TERMS {
        let w = weight(j);
        mass += w;
        sum += w * central_sf(x, df + 2.0 * j);
        if w < POISSON_TERM_CUTOFF && j > mu {
            break;
        }
        j += 1.0;
    }
    // downwards
    let mut j = mode - 1.0;
    for _ in 0..MAX_POISSON_TERMS {
        if j < 0.0 {
            break;
        }
        let w = weight(j);
        mass += w;
        sum += w * central_sf(x, df + 2.0 * j);
        if w < POISSON_TERM_CUTOFF {
            break;
        }
        j -= 1.0;
    }
    let truncation = (1.0 - mass).max(0.0);
    (sum.clamp(0.0, 1.0), truncation)
}

/// Sankaran's (1963) normal approximation of the noncentral chi-square's
/// survival function, `P(X' > x) ≈ Φ(−z)` with `z` from the `h`-th power of
/// `X' / (df + λ)`; its error shrinks like `1 / λ`. Used past
/// [`MAX_EXACT_MU`], where the Poisson mixture would need ever more terms
/// and each central term an incomplete gamma of ever larger order.
fn sankaran_sf(x: f64, df: f64, lambda: f64) -> f64 {
    use statrs::distribution::{ContinuousCDF, Normal};
    let (k, l) = (df, lambda);
    let h = 1.0 - 2.0 / 3.0 * (k + l) * (k + 3.0 * l) / ((k + 2.0 * l) * (k + 2.0 * l));
    let p = (k + 2.0 * l) / ((k + l) * (k + l));
    let m = (h - 1.0) * (1.0 - 3.0 * h);
    let mean = 1.0 + h * p * (h - 1.0 - 0.5 * (2.0 - h) * m * p);
    let sd = h * (2.0 * p).sqrt() * (1.0 + 0.5 * m * p);
    let z = ((x / (k + l)).powf(h) - mean) / sd;
    match Normal::new(0.0, 1.0) {
        Ok(n) => n.sf(z).clamp(0.0, 1.0),
        Err(_) => f64::NAN,
    }
}

/// `P(X > x)` of a central chi-square with real degrees of freedom.
fn central_sf(x: f64, df: f64) -> f64 {
    use statrs::distribution::{ChiSquared, ContinuousCDF};
    if x <= 0.0 {
        return 1.0;
    }
    match ChiSquared::new(df) {
        Ok(d) => d.sf(x),
        Err(_) => f64::NAN,
    }
}

/// Survival function of the noncentral chi-square (see the module docs for
/// the truncation error).
pub fn noncentral_chi2_sf(x: f64, df: u32, lambda: f64) -> f64 {
    noncentral_chi2_sf_bounded(x, df, lambda).0
}

/// The df = 1 closed form of the power: `P(|Z + √λ| > z)` with `z` the
/// two-sided normal critical value at `alpha`.
pub fn power_df1_closed_form(lambda: f64, alpha: f64) -> f64 {
    use statrs::distribution::{ContinuousCDF, Normal};
    let z = z_two_sided(alpha);
    let s = lambda.sqrt();
    match Normal::new(0.0, 1.0) {
        Ok(n) => n.sf(z - s) + n.cdf(-z - s),
        Err(_) => f64::NAN,
    }
}

/// Noncentrality per request of the least favourable deviation of size
/// `tolerance` (a fraction, 0.01 for one percentage point) from the shares
/// `probs`: `t² / max_j p_j (1 − p_j)`.
pub fn noncentrality_per_request(probs: &[f64], tolerance: f64) -> f64 {
    let worst = probs.iter().map(|p| p * (1.0 - p)).fold(0.0_f64, f64::max);
    tolerance * tolerance / worst
}

/// Power of the level-`alpha` chi-square test with `df = k − 1` and `n`
/// requests against the least favourable deviation of size `tolerance`.
pub fn power(n: u64, probs: &[f64], tolerance: f64, alpha: f64) -> f64 {
    let df = (probs.len() - 1) as u32;
    let crit = chi2_critical(alpha, df);
    noncentral_chi2_sf(
        crit,
        df,
        n as f64 * noncentrality_per_request(probs, tolerance),
    )
}

/// The smallest number of requests at which [`power`] reaches `target`,
/// saturating at `u64::MAX` when no countable number does (a tolerance so
/// small that no run could show it). Bounded time for any input.
pub fn required_n(probs: &[f64], tolerance: f64, alpha: f64, target: f64) -> u64 {
    let df = (probs.len() - 1) as u32;
    let crit = chi2_critical(alpha, df);
    let per_request = noncentrality_per_request(probs, tolerance);
    // NaN-safe: a NaN per-request noncentrality or target lands here too.
    if per_request.is_nan() || per_request <= 0.0 || target.is_nan() || target >= 1.0 {
        return u64::MAX;
    }
    // Solve for the noncentrality, which the power increases with.
    let mut hi: f64 = 1.0;
    for _ in 0..1100 {
        if noncentral_chi2_sf(crit, df, hi) >= target {
            break;
        }
        hi *= 2.0;
    }
    let mut lo = 0.0;
    for _ in 0..100 {
        let mid = 0.5 * (lo + hi);
        if noncentral_chi2_sf(crit, df, mid) < target {
            lo = mid;
        } else {
            hi = mid;
        }
        if hi - lo < 1e-9 * hi {
            break;
        }
    }
    let n = (hi / per_request).ceil();
    if n.is_nan() || n >= u64::MAX as f64 {
        return u64::MAX;
    }
    let mut n = n as u64;
    // Rounding in the bisection: step up until the target is met (a few
    // steps at most; the bisection is accurate to 1e-9 relative).
    for _ in 0..64 {
        if power(n, probs, tolerance, alpha) >= target {
            break;
        }
        n = n.saturating_add((n / 1_000_000_000).max(1));
    }
    n
}

/// Requests needed before a leak at rate `tolerance` to a target that should
/// get nothing would have been seen at least once with probability `target`:
/// `⌈ln(1 − target) / ln(1 − tolerance)⌉`.
pub fn required_n_for_leak(tolerance: f64, target: f64) -> u64 {
    // `as` saturates: a tolerance too small to show in a countable run gives
    // u64::MAX, never a wrapped number.
    ((1.0 - target).ln() / (-tolerance).ln_1p()).ceil() as u64
}
