//! The decision rule of the split judge, as pure functions of counts and
//! bands, so that it can be checked exactly (`tests/calibration.rs`).
//!
//! Each positive-weight target `i` has a band `[lo_i, hi_i]` around its
//! expected share (see [`crate::tolerance`]) and a simultaneous
//! Clopper-Pearson interval at confidence `1 − alpha/k`. Its call is:
//! - **inside** when the interval lies within the band,
//! - **above** / **below** when the interval lies wholly above / below it,
//! - **undecided** otherwise.
//!
//! The interval's ends are compared with the band's through the exact
//! binomial tails at the band's edges (the interval's lower end is above
//! `q` exactly when `P_q(X ≥ x) < alpha/2k`), so no bisection and no
//! rounding decide a call.
//!
//! The split PASSes when every target is inside, FAILs when any is above or
//! below (leaks are judged before this), and is INCONCLUSIVE otherwise.
//! What that guarantees, for every split and every N:
//! - a **false FAIL** (every true share within its band) needs some
//!   interval to miss its true share: probability at most
//!   `k · alpha/k = alpha`;
//! - a **false PASS** (some true share outside its band) needs that
//!   target's interval to miss its true share on one side: probability at
//!   most `alpha / 2k`.

use serde::Serialize;

use crate::binomial::{lower_tail, upper_tail};
use crate::counts::MAX_TOTAL;
use crate::intervals::Interval;
use crate::verdict::Verdict;

/// Where one target's interval lies relative to its band.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Call {
    /// Within the band.
    Inside,
    /// Wholly above the band.
    Above,
    /// Wholly below the band.
    Below,
    /// Neither: more requests would tell.
    Undecided,
}

/// The call for `x` of `n` requests against `band`, each interval end
/// tested at `per_side` (`alpha / 2k`).
pub fn call(x: u64, n: u64, band: Interval, per_side: f64) -> Call {
    // Interval low end > band.high  ⇔  P_{band.high}(X ≥ x) < per_side.
    if band.high < 1.0 && upper_tail(x, n, band.high) < per_side {
        return Call::Above;
    }
    // Interval high end < band.low  ⇔  P_{band.low}(X ≤ x) < per_side.
    if band.low > 0.0 && lower_tail(x, n, band.low) < per_side {
        return Call::Below;
    }
    let low_inside = band.low <= 0.0 || upper_tail(x, n, band.low) <= per_side;
    let high_inside = band.high >= 1.0 || lower_tail(x, n, band.high) <= per_side;
    if low_inside && high_inside {
        Call::Inside
    } else {
        Call::Undecided
    }
}

/// The verdict of a set of calls (leaks are judged by the caller).
pub fn verdict(calls: &[Call]) -> Verdict {
    if calls.iter().any(|c| matches!(c, Call::Above | Call::Below)) {
        Verdict::Fail
    } else if !calls.is_empty() && calls.iter().all(|&c| c == Call::Inside) {
        Verdict::Pass
    } else {
        Verdict::Inconclusive
    }
}

/// The per-side level for `k` targets at simultaneous level `alpha`.
pub fn per_side(alpha: f64, k: usize) -> f64 {
    alpha / (2.0 * k.max(1) as f64)
}

/// The verdict `n` requests would get if the targets' shares were exactly
/// `shares` (counts rounded to whole requests).
fn verdict_at(shares: &[f64], bands: &[Interval], per_side: f64, n: u64) -> Verdict {
    let calls: Vec<Call> = shares
        .iter()
        .zip(bands)
        .map(|(&s, &band)| {
            let x = ((s * n as f64).round() as u64).min(n);
            call(x, n, band, per_side)
        })
        .collect();
    verdict(&calls)
}

/// The smallest number of requests above `from` at which, if the shares
/// held, the rule would decide, and what it would decide; `None` when no
/// number up to [`MAX_TOTAL`] decides (a share sitting on its band's edge).
///
/// Found by doubling, then bisection, so it takes at most about 110 looks
/// whatever the input; the answer is approximate where rounding to whole
/// requests makes the verdict flicker near the threshold.
pub fn required_n(
    shares: &[f64],
    bands: &[Interval],
    per_side: f64,
    from: u64,
) -> Option<(u64, Verdict)> {
    let decided = |n: u64| verdict_at(shares, bands, per_side, n) != Verdict::Inconclusive;
    let mut undecided = from;
    let mut probe = from.max(1).saturating_mul(2);
    loop {
        if probe > MAX_TOTAL {
            if decided(MAX_TOTAL) {
                probe = MAX_TOTAL;
                break;
            }
            return None;
        }
        if decided(probe) {
            break;
        }
        undecided = probe;
        probe = probe.saturating_mul(2);
    }
    let (mut lo, mut hi) = (undecided, probe);
    while hi - lo > 1 {
        let mid = lo + (hi - lo) / 2;
        if decided(mid) {
            hi = mid;
        } else {
            lo = mid;
        }
    }
    Some((hi, verdict_at(shares, bands, per_side, hi)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn band(low: f64, high: f64) -> Interval {
        Interval { low, high }
    }

    #[test]
    fn a_dead_small_target_is_below_its_band_once_silence_cannot_be_chance() {
        let b = band(0.005, 0.015);
        let p = per_side(0.001, 2);
        assert_eq!(call(0, 1000, b, p), Call::Undecided);
        assert_eq!(call(0, 2000, b, p), Call::Below);
    }

    #[test]
    fn required_n_is_the_first_deciding_count() {
        let bands = [band(0.09, 0.11), band(0.89, 0.91)];
        let p = per_side(0.001, 2);
        let (n, v) = required_n(&[0.1, 0.9], &bands, p, 0).expect("decides");
        assert_eq!(v, Verdict::Pass);
        assert_eq!(verdict_at(&[0.1, 0.9], &bands, p, n), Verdict::Pass);
        assert_eq!(
            verdict_at(&[0.1, 0.9], &bands, p, n - 1),
            Verdict::Inconclusive
        );
    }

    #[test]
    fn a_share_on_the_band_edge_is_never_decided() {
        let bands = [band(0.09, 0.11), band(0.89, 0.91)];
        assert_eq!(
            required_n(&[0.11, 0.89], &bands, per_side(0.001, 2), 100),
            None
        );
    }
}
