//! The split judged as the data arrive: the same bands and the same
//! three-valued rule as [`super::decision`], with anytime-valid confidence
//! sequences in place of fixed-N intervals, so the verdict may be read after
//! every second and the run stopped at the first decision without raising
//! either error above alpha.
//!
//! **The confidence sequence** of a target's share is the beta-binomial
//! mixture: with a Beta(a, b) prior, after `x` of `n` requests,
//!
//! `M_n(q) = B(a + x, b + n − x) / B(a, b) / (q^x (1 − q)^(n − x))`
//!
//! is, for the true share `q`, a nonnegative martingale with mean 1 (the
//! Bayes factor of the mixture against `q`), so by Ville's inequality
//! `P(M_n(q) ≥ k/alpha for some n) ≤ alpha/k`. The sequence is
//! `{q : M_n(q) < k/alpha}`: all k targets' sequences hold at every n
//! together with probability at least `1 − alpha`. On that event every
//! decision is right, whenever the run stops: false FAIL ≤ alpha, false
//! PASS ≤ alpha/k, at any stopping time.
//!
//! **The prior** is centred on the expected share `e` with strength
//! `A = e(1 − e)/t²` (t the band's half-width), a = A·e, b = A·(1 − e):
//! its spread matches the deviations the band is about, which keeps the
//! sequence narrow around the N where the band is decided (any prior is
//! valid; this one is not tuned to the data).
//!
//! `ln M_n(q)` is convex in q with its minimum at `x/n`, so the sequence is
//! an interval around `x/n`, and "wholly above the band" is "`x/n` above
//! the band and `M_n(band.high) ≥ k/alpha`"; no interval ends are solved for.

use serde::Serialize;
use statrs::function::beta::ln_beta;
use statrs::function::gamma::ln_gamma;
use weighbridge_policy::Policy;

use super::decision::{self, Call};
use super::options::SplitOptions;
use super::routing::{self, Leak};
use crate::counts::Counts;
use crate::error::InputError;
use crate::fmt::pct;
use crate::intervals::Interval;
use crate::verdict::Verdict;

/// The smallest prior strength, so that a band of nearly 100 % (one target
/// with all the weight) still has a proper prior.
pub const MIN_PRIOR_STRENGTH: f64 = 1.0;

/// Prior shares are kept this far inside (0, 1), so that a target expected
/// at 100 % still has a proper Beta prior.
pub const PRIOR_SHARE_MARGIN: f64 = 1e-9;

/// The confidence sequence of one target's share.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Sequence {
    /// Beta prior, first shape.
    pub a: f64,
    /// Beta prior, second shape.
    pub b: f64,
    /// `ln(k / alpha)`: a share is excluded once `ln M_n` reaches it.
    pub ln_threshold: f64,
}

impl Sequence {
    /// The sequence for a target expected at `expected` with band
    /// half-width `half_width`, among `k` targets at simultaneous `alpha`.
    pub fn new(expected: f64, half_width: f64, k: usize, alpha: f64) -> Sequence {
        let e = expected.clamp(PRIOR_SHARE_MARGIN, 1.0 - PRIOR_SHARE_MARGIN);
        let strength = (e * (1.0 - e) / (half_width * half_width)).max(MIN_PRIOR_STRENGTH);
        Sequence {
            a: strength * e,
            b: strength * (1.0 - e),
            ln_threshold: (k.max(1) as f64 / alpha).ln(),
        }
    }

    /// `ln M_n(q)` for `x` of `n`, `0 < q < 1`.
    pub fn ln_ratio(&self, x: u64, n: u64, q: f64) -> f64 {
        let (x, rest) = (x as f64, (n - x) as f64);
        ln_beta(self.a + x, self.b + rest)
            - ln_beta(self.a, self.b)
            - x * q.ln()
            - rest * (-q).ln_1p()
    }

    /// Whether the sequence has excluded share `q` after `x` of `n`.
    pub fn excludes(&self, x: u64, n: u64, q: f64) -> bool {
        self.ln_ratio(x, n, q) >= self.ln_threshold
    }

    /// Where the sequence lies relative to `band` after `x` of `n`.
    pub fn call(&self, x: u64, n: u64, band: Interval) -> Call {
        if n == 0 {
            return Call::Undecided;
        }
        let share = x as f64 / n as f64;
        let low_edge = band.low > 0.0;
        let high_edge = band.high < 1.0;
        if high_edge && share > band.high && self.excludes(x, n, band.high) {
            return Call::Above;
        }
        if low_edge && share < band.low && self.excludes(x, n, band.low) {
            return Call::Below;
        }
        let low_ok = !low_edge || (share > band.low && self.excludes(x, n, band.low));
        let high_ok = !high_edge || (share < band.high && self.excludes(x, n, band.high));
        if low_ok && high_ok {
            Call::Inside
        } else {
            Call::Undecided
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_clearly_wrong_share_is_excluded_and_the_right_one_is_not() {
        let s = Sequence::new(0.1, 0.01, 2, 0.001);
        assert!(s.excludes(2_000, 10_000, 0.1));
        assert!(!s.excludes(1_000, 10_000, 0.1));
    }

    #[test]
    fn the_calls_follow_the_data() {
        let s = Sequence::new(0.1, 0.01, 2, 0.001);
        let band = Interval {
            low: 0.09,
            high: 0.11,
        };
        assert_eq!(s.call(0, 0, band), Call::Undecided);
        assert_eq!(s.call(100, 1_000, band), Call::Undecided);
        assert_eq!(s.call(10_000, 100_000, band), Call::Inside);
        assert_eq!(s.call(1_500, 10_000, band), Call::Above);
        assert_eq!(s.call(500, 10_000, band), Call::Below);
    }
}

/// What the sequential judge decided, and when.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SequentialSummary {
    /// PASS or FAIL at the first look that decided; INCONCLUSIVE if none did.
    pub verdict: Verdict,
    /// Why.
    pub reason: String,
    /// The look that decided: seconds since the start (the end of that second).
    pub stopped_at_s: Option<u64>,
    /// Requests in the weighted test at that look (at the last look if none decided).
    pub n: u64,
    /// Looks taken (one per second).
    pub looks: u64,
    /// The same data judged once, at the end, by the fixed-N rule.
    pub fixed_n_verdict: Verdict,
    /// The sample-ratio-mismatch statistic, anytime-valid: the smallest
    /// `1 / BF` over the looks so far (at most 1), where BF is the
    /// Dirichlet-multinomial mixture's Bayes factor against the exact
    /// weights ([`SrmMixture`]). Below alpha: the split differs from the
    /// exact weights, whether or not by more than the tolerance. Absent with
    /// fewer than two weighted targets.
    pub srm_p_value: Option<f64>,
}

/// The sample-ratio-mismatch test run as the data arrive (the mixture
/// test of Lindon & Malek, 2022): under the exact weights `p`, with a
/// Dirichlet(`A·p`) prior on the shares,
///
/// `BF_n = Γ(A) / Γ(A + n) · Π Γ(A·p_i + x_i) / Γ(A·p_i) / Π p_i^x_i`
///
/// is a nonnegative martingale with mean 1, so `min(1, 1 / max BF)` is a
/// p-value valid at any stopping time. `A` is the smallest prior strength
/// of the targets' confidence sequences (the widest prior among them).
#[derive(Debug, Clone, PartialEq)]
pub struct SrmMixture {
    shares: Vec<f64>,
    strength: f64,
}

impl SrmMixture {
    /// The test of `shares` (positive, summing to 1) with prior strength `strength`.
    pub fn new(shares: Vec<f64>, strength: f64) -> SrmMixture {
        SrmMixture { shares, strength }
    }

    /// `ln BF_n` for `observed` counts, in the order of `shares`.
    pub fn ln_bayes_factor(&self, observed: &[u64]) -> f64 {
        let n: f64 = observed.iter().map(|&x| x as f64).sum();
        let mut ln = ln_gamma(self.strength) - ln_gamma(self.strength + n);
        for (&x, &p) in observed.iter().zip(&self.shares) {
            let (x, alpha) = (x as f64, self.strength * p);
            ln += ln_gamma(alpha + x) - ln_gamma(alpha) - x * p.ln();
        }
        ln
    }
}

/// Judges cumulative counts look by look (`(seconds, counts so far)`, in
/// time order) and stops at the first look that decides. Counts with a
/// per-path breakdown are routed as the fixed-N judge routes them
/// ([`routing::route`]): rule-path requests leave the weighted test, and a
/// leak (a rule path served by another target, a request on a zero-weight
/// or unknown target) decides FAIL at the look it appears in.
pub fn judge_looks(
    policy: &Policy,
    options: &SplitOptions,
    looks: impl IntoIterator<Item = (u64, Counts)>,
    fixed_n_verdict: Verdict,
) -> Result<SequentialSummary, InputError> {
    let positive = routing::weighted_targets(policy);
    let k = positive.len();
    let bands: Vec<Interval> = positive
        .iter()
        .map(|(_, e)| options.tolerance.band(*e))
        .collect();
    let sequences: Vec<Sequence> = positive
        .iter()
        .map(|(_, e)| Sequence::new(*e, options.tolerance.half_width(*e), k, options.alpha))
        .collect();
    let srm = (k >= 2).then(|| {
        let strength = sequences
            .iter()
            .map(|s| s.a + s.b)
            .fold(f64::INFINITY, f64::min);
        SrmMixture::new(positive.iter().map(|(_, e)| *e).collect(), strength)
    });
    let mut summary = SequentialSummary {
        verdict: Verdict::Inconclusive,
        reason: "no look decided: every confidence sequence still reaches outside its band"
            .to_owned(),
        stopped_at_s: None,
        n: 0,
        looks: 0,
        fixed_n_verdict,
        srm_p_value: srm.as_ref().map(|_| 1.0),
    };
    for (t, counts) in looks {
        summary.looks += 1;
        let routed = routing::route(policy, &counts)?;
        let observed: Vec<u64> = positive
            .iter()
            .map(|(l, _)| routed.weighted(&counts, l))
            .collect();
        let n: u64 = observed.iter().sum();
        summary.n = n;
        if let (Some(srm), Some(p)) = (&srm, &mut summary.srm_p_value) {
            *p = p.min((-srm.ln_bayes_factor(&observed)).exp().min(1.0));
        }
        if !routed.leaks.is_empty() {
            let what: Vec<String> = routed.leaks.iter().map(Leak::describe).collect();
            summary.verdict = Verdict::Fail;
            summary.reason = format!("after {t} s: {}", what.join("; "));
            summary.stopped_at_s = Some(t);
            return Ok(summary);
        }
        let calls: Vec<Call> = observed
            .iter()
            .zip(&sequences)
            .zip(&bands)
            .map(|((&x, s), &band)| s.call(x, n, band))
            .collect();
        let verdict = decision::verdict(&calls);
        if verdict == Verdict::Inconclusive {
            continue;
        }
        summary.verdict = verdict;
        summary.stopped_at_s = Some(t);
        summary.reason = if verdict == Verdict::Pass {
            format!(
                "after {t} s and {n} requests every target's confidence sequence lies inside its \
                 band ({})",
                options.tolerance
            )
        } else {
            let outside: Vec<String> = positive
                .iter()
                .zip(&observed)
                .zip(&calls)
                .filter(|(_, c)| matches!(c, Call::Above | Call::Below))
                .map(|(((label, e), &x), c)| {
                    format!(
                        "{label} at {} of an expected {}, {} its band",
                        pct(x as f64 / n as f64),
                        pct(*e),
                        if *c == Call::Above { "above" } else { "below" }
                    )
                })
                .collect();
            format!("after {t} s and {n} requests: {}", outside.join("; "))
        };
        return Ok(summary);
    }
    Ok(summary)
}
