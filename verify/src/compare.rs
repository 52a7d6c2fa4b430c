//! `verify compare REPORT... --baseline A --candidate B`: the canary gate.
//! Is the candidate target worse than the baseline, in errors or latency,
//! by more than the thresholds, with evidence?
//!
//! - Errors: one-sided Fisher exact test on the 2×2 table (failed / ok ×
//!   baseline / candidate), from the hypergeometric distribution: the
//!   chance of at least the candidate's failures if both failed alike.
//! - Latency: one-sided Mann–Whitney rank test on the corrected latencies of
//!   the ok responses, computed from the two HDR histograms (values in the
//!   same bucket are ties), with the normal approximation and tie
//!   correction; plus the p99 ratio a person reads.
//!
//! FAIL when a test rejects at `--alpha` **and** the difference is larger
//! than its threshold (`--max-error-increase` points, `--max-latency-increase`
//! of p99); INCONCLUSIVE when either side has fewer than `--min-requests`;
//! PASS otherwise.

use std::collections::BTreeMap;

use serde::Serialize;
use statrs::distribution::{ContinuousCDF, Normal};
use statrs::function::factorial::ln_binomial;
use weighbridge_report::{Histogram, Report, decode_histogram};

use crate::counts::MAX_TOTAL;
use crate::error::InputError;
use crate::reports;
use crate::verdict::Verdict;

/// Thresholds of the gate.
#[derive(Debug, Clone, PartialEq)]
pub struct CompareOptions {
    pub baseline: String,
    pub candidate: String,
    pub alpha: f64,
    /// Largest acceptable rise of the error rate, in percentage points.
    pub max_error_increase_pp: f64,
    /// Largest acceptable rise of p99 latency, as a fraction (0.2 = +20 %).
    pub max_latency_increase: f64,
    /// Smallest rise of p99 latency, in milliseconds, that counts: below
    /// it a relative rise is noise of the clock and the scheduler (a
    /// loopback p99 of 4 ms moves by a millisecond or two from one window to
    /// the next). 0: any rise counts.
    pub min_latency_increase_ms: f64,
    /// Fewer requests than this on either side: INCONCLUSIVE.
    pub min_requests: u64,
}

impl CompareOptions {
    /// Every threshold finite and in range: a NaN threshold compares false
    /// with everything, so it would let any candidate PASS.
    pub fn validate(&self) -> Result<(), InputError> {
        if !(self.alpha > 0.0 && self.alpha < 1.0) {
            return Err(InputError::BadOption {
                name: "alpha",
                value: self.alpha,
                reason: "must be between 0 and 1",
            });
        }
        if !(self.max_error_increase_pp.is_finite() && self.max_error_increase_pp >= 0.0) {
            return Err(InputError::BadOption {
                name: "max-error-increase",
                value: self.max_error_increase_pp,
                reason: "must be a finite number of percentage points, 0 or more",
            });
        }
        if !(self.max_latency_increase.is_finite() && self.max_latency_increase >= 0.0) {
            return Err(InputError::BadOption {
                name: "max-latency-increase",
                value: self.max_latency_increase,
                reason: "must be a finite fraction, 0 or more (0.2 = +20 %)",
            });
        }
        if !(self.min_latency_increase_ms.is_finite() && self.min_latency_increase_ms >= 0.0) {
            return Err(InputError::BadOption {
                name: "min-latency-increase-ms",
                value: self.min_latency_increase_ms,
                reason: "must be a finite number of milliseconds, 0 or more",
            });
        }
        if self.min_requests == 0 {
            return Err(InputError::BadOption {
                name: "min-requests",
                value: 0.0,
                reason: "must be at least 1: a side without requests says nothing",
            });
        }
        Ok(())
    }
}

/// One side of the comparison.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Side {
    pub label: String,
    pub requests: u64,
    pub failed: u64,
    pub error_rate: f64,
    pub p50_ms: f64,
    pub p99_ms: f64,
}

/// The gate's verdict.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CompareReport {
    pub schema: &'static str,
    pub verdict: Verdict,
    pub reason: String,
    pub baseline: Side,
    pub candidate: Side,
    /// One-sided Fisher exact p-value: candidate fails more.
    pub error_p_value: f64,
    /// Candidate minus baseline error rate, percentage points.
    pub error_increase_pp: f64,
    /// One-sided Mann–Whitney p-value: candidate is slower.
    pub latency_p_value: f64,
    /// Candidate p99 over baseline p99, minus one.
    pub p99_increase: f64,
    pub alpha: f64,
    pub notes: Vec<String>,
}

/// Standard deviation of the candidate's failures past which Fisher's test
/// uses the normal approximation of the hypergeometric: its error is then
/// below 1e-4, while the exact sum would need tens of thousands of terms per
/// standard deviation.
pub const FISHER_EXACT_MAX_SD: f64 = 1e4;

/// P(X ≥ k) for the candidate's failures X under "both fail alike": the
/// one-sided Fisher exact test, X hypergeometric (population `base_n +
/// cand_n`, `base_failed + cand_failed` failures, `cand_n` draws).
///
/// Bounded time for any counts: the hypergeometric is unimodal, so the sum
/// starts at `k`, walks away from the mode and stops once a term no longer
/// changes it; past [`FISHER_EXACT_MAX_SD`] the normal approximation
/// (continuity corrected) answers instead. Counts whose sums overflow give 1
/// (no evidence); [`judge_compare`] refuses them before this is asked.
pub fn fisher_one_sided(base_failed: u64, base_n: u64, cand_failed: u64, cand_n: u64) -> f64 {
    let (Some(total), Some(failed)) = (
        base_n.checked_add(cand_n),
        base_failed.checked_add(cand_failed),
    ) else {
        return 1.0;
    };
    if total == 0 || failed == 0 || cand_failed == 0 || failed > total {
        return 1.0;
    }
    let k = cand_failed;
    let lo = cand_n.saturating_sub(total - failed);
    let hi = cand_n.min(failed);
    if k <= lo {
        return 1.0;
    }
    if k > hi {
        return 0.0;
    }
    let (big_n, big_k, n) = (total as f64, failed as f64, cand_n as f64);
    let share = big_k / big_n;
    let mean = n * share;
    let sd = (n * share * (1.0 - share) * (big_n - n) / (big_n - 1.0).max(1.0)).sqrt();
    if sd > FISHER_EXACT_MAX_SD {
        let z = (k as f64 - 0.5 - mean) / sd;
        return Normal::standard().sf(z).clamp(0.0, 1.0);
    }
    let ln_denominator = ln_binomial(total, cand_n);
    let pmf = |i: u64| {
        (ln_binomial(failed, i) + ln_binomial(total - failed, cand_n - i) - ln_denominator).exp()
    };
    let mode = (((n + 1.0) * (big_k + 1.0)) / (big_n + 2.0)).floor() as u64;
    // Sums the terms from `from` away from the mode (so they shrink) until
    // one is lost in the sum.
    let tail = |from: u64, up: bool| {
        let mut sum = 0.0;
        let mut i = from;
        loop {
            let term = pmf(i);
            sum += term;
            if term <= sum * 1e-17 || (up && i == hi) || (!up && i == lo) {
                break;
            }
            i = if up { i + 1 } else { i - 1 };
        }
        sum
    };
    let p = if k > mode {
        tail(k, true)
    } else {
        1.0 - tail(k - 1, false)
    };
    p.clamp(0.0, 1.0)
}

/// One-sided Mann–Whitney p-value that `b`'s values tend to be larger than
/// `a`'s, from two histograms of the same configuration.
pub fn mann_whitney_b_greater(a: &Histogram<u64>, b: &Histogram<u64>) -> f64 {
    let (na, nb) = (a.len() as f64, b.len() as f64);
    if na == 0.0 || nb == 0.0 {
        return 1.0;
    }
    let mut cells: BTreeMap<u64, (f64, f64)> = BTreeMap::new();
    for v in a.iter_recorded() {
        cells.entry(v.value_iterated_to()).or_default().0 += v.count_at_value() as f64;
    }
    for v in b.iter_recorded() {
        cells.entry(v.value_iterated_to()).or_default().1 += v.count_at_value() as f64;
    }
    let n = na + nb;
    let (mut below, mut rank_sum_b, mut ties) = (0.0, 0.0, 0.0);
    for (ca, cb) in cells.values() {
        let t = ca + cb;
        // The cell's values share the average of ranks below+1 ..= below+t.
        rank_sum_b += cb * (below + (t + 1.0) / 2.0);
        ties += t * t * t - t;
        below += t;
    }
    let u = rank_sum_b - nb * (nb + 1.0) / 2.0;
    let mean = na * nb / 2.0;
    let var = na * nb / 12.0 * ((n + 1.0) - ties / (n * (n - 1.0)).max(1.0));
    if var <= 0.0 {
        return 1.0;
    }
    let z = (u - mean - 0.5) / var.sqrt();
    Normal::standard().sf(z)
}

/// One side's data, wherever it was counted: a report's target, or one
/// step's window of a rollout.
#[derive(Debug, Clone)]
pub struct SideData {
    pub side: Side,
    /// Corrected latency of the ok responses, microseconds.
    pub histogram: Histogram<u64>,
}

impl SideData {
    /// A side from its counts and latency histogram (microseconds); the
    /// percentiles are read from the histogram.
    pub fn new(label: &str, requests: u64, failed: u64, histogram: Histogram<u64>) -> SideData {
        let ms = |q: f64| {
            if histogram.is_empty() {
                0.0
            } else {
                histogram.value_at_quantile(q) as f64 / 1000.0
            }
        };
        SideData {
            side: Side {
                label: label.to_owned(),
                requests,
                failed,
                error_rate: if requests == 0 {
                    0.0
                } else {
                    failed as f64 / requests as f64
                },
                p50_ms: ms(0.5),
                p99_ms: ms(0.99),
            },
            histogram,
        }
    }
}

fn side(report: &Report, label: &str) -> Result<SideData, InputError> {
    let t = report
        .targets
        .get(label)
        .ok_or_else(|| reports::unknown_target(report, label))?;
    let hist = decode_histogram(&t.histograms.corrected).map_err(|e| InputError::BadList {
        list: label.to_owned(),
        reason: format!("its latency histogram does not decode: {e}"),
    })?;
    let side = Side {
        label: label.to_owned(),
        requests: t.requests,
        failed: t.failed,
        error_rate: if t.requests == 0 {
            0.0
        } else {
            t.failed as f64 / t.requests as f64
        },
        p50_ms: t.latency_ms.p50,
        p99_ms: t.latency_ms.p99,
    };
    Ok(SideData {
        side,
        histogram: hist,
    })
}

/// Judges the candidate against the baseline in a (merged) report.
pub fn judge_compare(report: &Report, o: &CompareOptions) -> Result<CompareReport, InputError> {
    o.validate()?;
    if o.baseline == o.candidate {
        return Err(InputError::BadList {
            list: o.candidate.clone(),
            reason: "baseline and candidate are the same target".to_owned(),
        });
    }
    let baseline = side(report, &o.baseline)?;
    let candidate = side(report, &o.candidate)?;
    let without = crate::failures::errors(report, None).without_target;
    judge_sides(
        baseline,
        candidate,
        without,
        crate::verdict::loadgen_limited(report).as_deref(),
        o,
    )
}

/// The gate on two sides however counted: `without_target` failed requests
/// that reached neither (a note), `limited` why the load generator's figures
/// cannot be trusted, if so (the verdict is then held, as every judge does).
pub fn judge_sides(
    baseline: SideData,
    candidate: SideData,
    without_target: u64,
    limited: Option<&str>,
    o: &CompareOptions,
) -> Result<CompareReport, InputError> {
    o.validate()?;
    let SideData {
        side: baseline,
        histogram: hb,
    } = baseline;
    let SideData {
        side: candidate,
        histogram: hc,
    } = candidate;
    let total = u128::from(baseline.requests) + u128::from(candidate.requests);
    if total > u128::from(MAX_TOTAL) {
        return Err(InputError::CountsTooLarge {
            total,
            max: MAX_TOTAL,
        });
    }
    let error_p_value = fisher_one_sided(
        baseline.failed,
        baseline.requests,
        candidate.failed,
        candidate.requests,
    );
    let error_increase_pp = 100.0 * (candidate.error_rate - baseline.error_rate);
    let latency_p_value = mann_whitney_b_greater(&hb, &hc);
    let p99_increase = if baseline.p99_ms > 0.0 {
        candidate.p99_ms / baseline.p99_ms - 1.0
    } else {
        0.0
    };
    let mut notes = Vec::new();
    let without = without_target;
    if without > 0 {
        notes.push(format!("{without} failed requests reached no target (connect errors, timeouts): they are in neither side"));
    }
    let errors_worse = error_p_value < o.alpha && error_increase_pp > o.max_error_increase_pp;
    let slower = latency_p_value < o.alpha
        && p99_increase > o.max_latency_increase
        && candidate.p99_ms - baseline.p99_ms > o.min_latency_increase_ms;
    let (verdict, reason) =
        if baseline.requests < o.min_requests || candidate.requests < o.min_requests {
            (
                Verdict::Inconclusive,
                format!(
                    "fewer than {} requests on a side ({} baseline, {} candidate)",
                    o.min_requests, baseline.requests, candidate.requests
                ),
            )
        } else if errors_worse || slower {
            let mut why = Vec::new();
            if errors_worse {
                why.push(format!(
                    "error rate {:+.2} pp (p = {error_p_value:.2e})",
                    error_increase_pp
                ));
            }
            if slower {
                why.push(format!(
                    "p99 latency {:+.0} % (p = {latency_p_value:.2e})",
                    100.0 * p99_increase
                ));
            }
            (
                Verdict::Fail,
                format!("the candidate is worse: {}", why.join("; ")),
            )
        } else {
            (
                Verdict::Pass,
                "the candidate is not worse than the baseline beyond the thresholds".to_owned(),
            )
        };
    let (verdict, reason) = crate::verdict::hold(verdict, reason, limited);
    Ok(CompareReport {
        schema: "weighbridge.verify.compare/v1",
        verdict,
        reason,
        baseline,
        candidate,
        error_p_value,
        error_increase_pp,
        latency_p_value,
        p99_increase,
        alpha: o.alpha,
        notes,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fisher_matches_reference_values() {
        // Exact hypergeometric tails computed independently in Python:
        //   from math import comb
        //   sum(comb(12,k)*comb(188,100-k) for k in range(10,13))/comb(200,100)
        //     = 0.016520054662092488   (2/100 vs 10/100 failed)
        //   sum(comb(10,k)*comb(190,100-k) for k in range(5,11))/comb(200,100)
        //     = 0.626235124935476      (5/100 vs 5/100)
        let p = fisher_one_sided(2, 100, 10, 100);
        assert!((p - 0.016_520_054_662).abs() < 1e-9, "{p}");
        let p = fisher_one_sided(5, 100, 5, 100);
        assert!((p - 0.626_235_124_935).abs() < 1e-9, "{p}");
        assert_eq!(fisher_one_sided(0, 100, 0, 100), 1.0);
    }

    fn hist(values: impl Iterator<Item = u64>) -> Histogram<u64> {
        let mut h = weighbridge_report::new_histogram();
        for v in values {
            h.record(v).expect("record");
        }
        h
    }

    #[test]
    fn rank_test_sees_a_shift_and_not_noise() {
        let a = hist((0..2000).map(|i| 1000 + (i * 7919) % 5000));
        let same = hist((0..2000).map(|i| 1000 + (i * 104_729) % 5000));
        let slower = hist((0..2000).map(|i| 1400 + (i * 104_729) % 5000));
        let p_same = mann_whitney_b_greater(&a, &same);
        assert!(p_same > 0.05, "{p_same}");
        let p_slow = mann_whitney_b_greater(&a, &slower);
        assert!(p_slow < 1e-6, "{p_slow}");
        // And the other way round it is not "slower".
        assert!(mann_whitney_b_greater(&slower, &a) > 0.99);
    }
}
