//! The verdict on a traffic split: leak checks, exact simultaneous
//! intervals against per-target tolerance bands, and the sample-ratio
//! test. `docs/verify.md` explains how to read it.
//!
//! Decision, in this order:
//! 1. any request on a zero-weight target, on a target the policy does not
//!    know, or on a rule path served by the wrong target → **FAIL**;
//! 2. some target's simultaneous Clopper-Pearson interval (confidence
//!    `1 − alpha/k`) lies wholly outside its tolerance band → **FAIL**;
//! 3. every target's interval lies within its band → **PASS**;
//! 4. otherwise **INCONCLUSIVE**, with the number of requests that would
//!    decide it if the observed shares held.
//!
//! Both errors are bounded by `alpha` for every split and every N (see
//! [`decision`]). The goodness-of-fit p-value against the exact weights (the
//! sample-ratio-mismatch statistic) is reported, and a rejection within
//! tolerance is a note, never a FAIL.
//!
//! With a single positive-weight target (100/0) the same rule applies to
//! its share of 100 %: it PASSes once a leak as large as the tolerance would
//! have shown up with probability `1 − alpha/2`.

pub mod decision;
mod options;
pub mod routing;
pub mod schedule;
pub mod sequential;

pub use options::{MAX_MC_DRAWS, SplitOptions};

use serde::Serialize;
use weighbridge_policy::Policy;

use crate::binomial;
use crate::chisq::{self, chi2_cdf};
use crate::counts::Counts;
use crate::dispersion::Heterogeneity;
use crate::error::InputError;
use crate::exact;
use crate::failures::ErrorReport;
use crate::fmt::pct;
use crate::intervals::Interval;
use crate::verdict::Verdict;
use decision::Call;
pub use routing::{Leak, LeakKind, weighted_targets};
pub use schedule::{ScheduleInputError, ScheduleReport, StepVerdict, judge_schedule};

/// Smallest expected count for which the chi-square approximation is used.
pub const MIN_EXPECTED_FOR_CHI_SQUARE: f64 = 5.0;

/// Lower-tail probability (continuity corrected) below which counts are
/// called near-perfect.
pub const NEAR_PERFECT_LOWER_TAIL: f64 = 0.01;

/// Which goodness-of-fit test produced the p-value.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum TestUsed {
    /// Three or more targets, every expected count ≥ 5: Pearson's chi-square.
    PearsonChiSquare,
    /// Two targets: exact two-sided binomial.
    ExactBinomial,
    /// Three or more targets, some expected count < 5: seeded Monte Carlo.
    MonteCarlo,
    /// Nothing to test (one positive-weight target, or no requests).
    None,
}

impl TestUsed {
    /// A human name.
    pub fn describe(self) -> &'static str {
        match self {
            TestUsed::PearsonChiSquare => "Pearson chi-square",
            TestUsed::ExactBinomial => "exact binomial",
            TestUsed::MonteCarlo => "Monte Carlo chi-square (expected count < 5)",
            TestUsed::None => "none",
        }
    }
}

/// What the weighted test counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Unit {
    /// Requests (the default).
    Requests,
    /// Sticky clients, each counted once by its first target.
    Clients,
}

impl Unit {
    /// `requests` or `clients`.
    pub fn as_str(self) -> &'static str {
        match self {
            Unit::Requests => "requests",
            Unit::Clients => "clients",
        }
    }
}

/// Per-client facts from a report with simulated clients.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ClientSummary {
    /// Clients in the report.
    pub clients: u64,
    /// Clients served by more than one target.
    pub switched: u64,
    /// Homogeneity of the split across clients (non-sticky runs).
    pub heterogeneity: Option<Heterogeneity>,
}

/// Per-window homogeneity of the split.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct WindowSummary {
    /// Window length, seconds.
    pub window_s: u64,
    /// Where the per-window counts came from (`timeline` or `cloudwatch`).
    pub from: &'static str,
    /// The test; `None` when fewer than two windows had requests.
    pub test: Option<Heterogeneity>,
}

/// One target's line of the verdict.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TargetRow {
    /// Label.
    pub label: String,
    /// Weight in the policy; `None` for a target the policy does not know.
    pub weight: Option<u32>,
    /// Requests counted for it in the weighted test (rule-path requests left out).
    pub observed: u64,
    /// Observed share. Positive-weight targets: of the requests in the
    /// weighted test. Zero-weight and unknown targets: of all weighted
    /// requests, leaks included.
    pub share: f64,
    /// Expected share, `weight / total weight`.
    pub expected_share: f64,
    /// Expected count, `N · expected_share`.
    pub expected: f64,
    /// `share − expected_share`, in percentage points.
    pub deviation_pp: f64,
    /// Simultaneous Clopper-Pearson interval of the share, at confidence
    /// `1 − alpha/k` (positive-weight targets).
    pub interval: Option<Interval>,
    /// The shares within tolerance of the expected one (positive-weight targets).
    pub band: Option<Interval>,
    /// Where the interval lies relative to the band (positive-weight targets).
    pub call: Option<Call>,
}

/// The complete verdict with everything that led to it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SplitReport {
    /// PASS, FAIL or INCONCLUSIVE.
    pub verdict: Verdict,
    /// One sentence: why.
    pub reason: String,
    /// The goodness-of-fit test used.
    pub test: TestUsed,
    /// p-value of that test (`None` when nothing was tested).
    pub p_value: Option<f64>,
    /// Pearson statistic.
    pub statistic: Option<f64>,
    /// Degrees of freedom, k − 1.
    pub df: u32,
    /// Dispersion index, statistic / df (about 1 for independent routing,
    /// near 0 for deterministic round-robin).
    pub dispersion: Option<f64>,
    /// Requests in the weighted test (positive-weight targets, rule paths left out).
    pub n: u64,
    /// All requests counted, leaks and rule paths included.
    pub total: u64,
    /// Requests on paths with an exclusive rule, left out of the weighted test.
    pub rule_routed: u64,
    /// Significance level used.
    pub alpha: f64,
    /// Absolute tolerance used, percentage points.
    pub tolerance_pp: f64,
    /// Relative tolerance used, percent of each target's expected share.
    pub tolerance_relative_pct: f64,
    /// Confidence of each simultaneous interval, `1 − alpha / k`.
    pub interval_confidence: f64,
    /// Every target: policy targets in policy order, then unknown ones.
    pub targets: Vec<TargetRow>,
    /// Every leak found.
    pub leaks: Vec<Leak>,
    /// Requests that would decide an INCONCLUSIVE verdict.
    pub required_n: Option<u64>,
    /// How `required_n` was worked out.
    pub required_n_basis: Option<String>,
    /// Monte Carlo draws and seed, when that test was used.
    pub monte_carlo: Option<MonteCarloInfo>,
    /// What the weighted test counted: requests, or sticky clients.
    pub unit: Unit,
    /// Where the counts came from: `inline`, `reports` or `cloudwatch`.
    pub source: &'static str,
    /// Failed requests (reports only).
    pub errors: Option<ErrorReport>,
    /// The split per time window (reports and CloudWatch).
    pub windows: Option<WindowSummary>,
    /// Per-client facts (reports with simulated clients).
    pub clients: Option<ClientSummary>,
    /// The report replayed second by second (`--sequential`): when the
    /// sequential judge would have stopped, and with what. The verdict is
    /// then the sequential one.
    pub sequential: Option<sequential::SequentialSummary>,
    /// Things worth knowing that do not change the verdict.
    pub notes: Vec<String>,
}

impl SplitReport {
    /// Makes the verdict FAIL for `reason` (a check outside the split test,
    /// e.g. the error rate), keeping an existing FAIL's reason first.
    pub fn fail_with(&mut self, reason: String) {
        if self.verdict == Verdict::Fail {
            self.reason = format!("{}; {reason}", self.reason);
        } else {
            if self.verdict == Verdict::Inconclusive {
                self.notes
                    .push(format!("the split alone was INCONCLUSIVE: {}", self.reason));
            }
            self.verdict = Verdict::Fail;
            self.reason = reason;
            self.required_n = None;
            self.required_n_basis = None;
        }
    }
}

/// Parameters of a Monte Carlo test, so that its p-value can be reproduced.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct MonteCarloInfo {
    /// Draws.
    pub draws: u32,
    /// Seed.
    pub seed: u64,
}

/// Judges `counts` against `policy`.
///
/// Failed requests, windows and clients are judged around this in
/// [`crate::inputs`], which has the whole report.
pub fn judge(
    policy: &Policy,
    counts: &Counts,
    options: &SplitOptions,
) -> Result<SplitReport, InputError> {
    judge_with(policy, counts, options, Unit::Requests)
}

/// [`judge`], counting `unit`s (sticky clients, each once by its first
/// target, or requests).
pub fn judge_with(
    policy: &Policy,
    counts: &Counts,
    options: &SplitOptions,
    unit: Unit,
) -> Result<SplitReport, InputError> {
    options.validate()?;
    counts.check()?;
    let mut notes = Vec::new();

    // --- path rules and leaks: which requests the weighted test sees ---
    let routed = routing::route(policy, counts)?;
    let weighted = |label: &str| routed.weighted(counts, label);
    let rule_routed = routed.rule_routed();
    let stray_rows = routed.strays.clone();
    let leaks = routed.leaks.clone();

    // --- the weighted test over positive-weight targets ---
    let positive = weighted_targets(policy);
    let probs: Vec<f64> = positive.iter().map(|(_, share)| *share).collect();
    let observed: Vec<u64> = positive.iter().map(|(l, _)| weighted(l)).collect();
    let n: u64 = observed.iter().sum();
    let k = positive.len();
    let df = (k - 1) as u32;
    let all_weighted: u64 = n
        + policy
            .targets()
            .iter()
            .filter(|t| t.weight == 0)
            .map(|t| weighted(&t.label))
            .sum::<u64>()
        + stray_rows.iter().map(|(_, c)| c).sum::<u64>();

    // The sample-ratio statistic: does the split differ from the exact
    // weights at all? Reported, never the verdict's reason on its own.
    let mut test = TestUsed::None;
    let mut p_value = None;
    let mut statistic = None;
    let mut monte_carlo = None;
    if k >= 2 && n > 0 {
        let stat = chisq::pearson_statistic(&observed, &probs);
        statistic = Some(stat);
        let min_expected = probs.iter().fold(f64::INFINITY, |m, p| m.min(p * n as f64));
        let p = if k == 2 {
            test = TestUsed::ExactBinomial;
            binomial::two_sided(observed[0], n, probs[0])
        } else if min_expected >= MIN_EXPECTED_FOR_CHI_SQUARE {
            test = TestUsed::PearsonChiSquare;
            chisq::chi2_sf(stat, df)
        } else {
            test = TestUsed::MonteCarlo;
            monte_carlo = Some(MonteCarloInfo {
                draws: options.mc_draws,
                seed: options.mc_seed,
            });
            exact::monte_carlo(&observed, &probs, options.mc_draws, options.mc_seed)
        };
        p_value = Some(p);
        if min_expected >= MIN_EXPECTED_FOR_CHI_SQUARE {
            // Near-perfect counts: how likely is a statistic this small
            // (continuity corrected so that hitting the expected counts
            // exactly is not "impossible")?
            let corrected: f64 = observed
                .iter()
                .zip(&probs)
                .map(|(&o, &p)| {
                    let e = n as f64 * p;
                    let d = (o as f64 - e).abs() + 0.5;
                    d * d / e
                })
                .sum();
            let lower = chi2_cdf(corrected, df);
            if lower < NEAR_PERFECT_LOWER_TAIL {
                notes.push(format!(
                    "counts are closer to the weights than independent random routing makes likely \
                     (P = {lower:.2e} of a split this even; dispersion {:.3}, expected about 1): \
                     typical of a deterministic (weighted round-robin) router; not a failure, but \
                     requests are not independent, so the intervals are conservative",
                    stat / f64::from(df)
                ));
            }
        }
    }

    // --- intervals, bands and calls ---
    let per_side = decision::per_side(options.alpha, k);
    let bands: Vec<Interval> = probs.iter().map(|&p| options.tolerance.band(p)).collect();
    let calls: Vec<Call> = observed
        .iter()
        .zip(&bands)
        .map(|(&x, &band)| decision::call(x, n, band, per_side))
        .collect();
    let intervals = binomial::simultaneous(&observed, options.alpha);

    // --- rows ---
    let mut rows = Vec::new();
    let mut positive_index = 0;
    for t in policy.targets() {
        if t.weight > 0 {
            let i = positive_index;
            positive_index += 1;
            let share = if n > 0 {
                observed[i] as f64 / n as f64
            } else {
                0.0
            };
            rows.push(TargetRow {
                label: t.label.clone(),
                weight: Some(t.weight),
                observed: observed[i],
                share,
                expected_share: probs[i],
                expected: n as f64 * probs[i],
                deviation_pp: if n > 0 {
                    100.0 * (share - probs[i])
                } else {
                    0.0
                },
                interval: (n > 0).then_some(intervals[i]),
                band: Some(bands[i]),
                call: Some(calls[i]),
            });
        } else {
            let count = weighted(&t.label);
            let share = if all_weighted > 0 {
                count as f64 / all_weighted as f64
            } else {
                0.0
            };
            rows.push(TargetRow {
                label: t.label.clone(),
                weight: Some(0),
                observed: count,
                share,
                expected_share: 0.0,
                expected: 0.0,
                deviation_pp: 100.0 * share,
                interval: None,
                band: None,
                call: None,
            });
        }
    }
    for (label, count) in &stray_rows {
        let share = *count as f64 / all_weighted as f64;
        rows.push(TargetRow {
            label: label.clone(),
            weight: None,
            observed: *count,
            share,
            expected_share: 0.0,
            expected: 0.0,
            deviation_pp: 100.0 * share,
            interval: None,
            band: None,
            call: None,
        });
    }

    if policy.stickiness().enabled && unit == Unit::Requests {
        notes.push(
            "stickiness is enabled: requests of one client are not independent, so request \
             counts overstate the evidence; judge first assignments per client (needs a loadgen \
             report with clients)"
                .to_owned(),
        );
    }

    // --- decision ---
    let mut required_n = None;
    let mut required_n_basis = None;
    let rejected = p_value.is_some_and(|p| p < options.alpha);
    let conf = 100.0 * (1.0 - 2.0 * per_side);
    let positive_rows: Vec<&TargetRow> = rows.iter().filter(|r| r.call.is_some()).collect();
    let (verdict, reason) = if !leaks.is_empty() {
        let what: Vec<String> = leaks.iter().map(Leak::describe).collect();
        (Verdict::Fail, what.join("; "))
    } else {
        match decision::verdict(&calls) {
            Verdict::Fail => {
                let outside: Vec<String> = positive_rows
                    .iter()
                    .filter(|r| matches!(r.call, Some(Call::Above | Call::Below)))
                    .map(|r| describe_outside(r))
                    .collect();
                (Verdict::Fail, outside.join("; "))
            }
            Verdict::Pass if k == 1 => (
                Verdict::Pass,
                format!(
                    "all {n} requests went to {}, the only target with a positive weight: a leak \
                     of {} pp would have shown up with probability {}",
                    positive[0].0,
                    options.tolerance.absolute_pp,
                    1.0 - per_side
                ),
            ),
            Verdict::Pass => (
                Verdict::Pass,
                format!(
                    "every target's share is within tolerance ({}): each simultaneous {conf:.4} % \
                     interval lies inside its band",
                    options.tolerance
                ),
            ),
            Verdict::Inconclusive => {
                // If the shares seen so far held (the weights, before any request).
                let shares: Vec<f64> = if n > 0 {
                    observed.iter().map(|&x| x as f64 / n as f64).collect()
                } else {
                    probs.clone()
                };
                match decision::required_n(&shares, &bands, per_side, n) {
                    Some((needed, would)) => {
                        required_n = Some(needed);
                        required_n_basis = Some(format!(
                            "requests for the rule to {} if the {} shares hold; exact \
                             Clopper-Pearson intervals at {conf:.4} %",
                            if would == Verdict::Pass {
                                "PASS"
                            } else {
                                "FAIL"
                            },
                            if n > 0 { "observed" } else { "expected" }
                        ));
                    }
                    None => {
                        required_n_basis = Some(
                            "a share sits on the edge of its band: no number of requests \
                             would decide it if the shares hold"
                                .to_owned(),
                        );
                    }
                }
                let reason = if n == 0 {
                    "no requests reached the weighted targets".to_owned()
                } else {
                    let open: Vec<String> = positive_rows
                        .iter()
                        .filter(|r| r.call == Some(Call::Undecided))
                        .map(|r| describe_undecided(r))
                        .collect();
                    format!(
                        "not enough requests to tell whether the split is within tolerance: {}",
                        open.join("; ")
                    )
                };
                (Verdict::Inconclusive, reason)
            }
        }
    };
    if rejected && verdict != Verdict::Fail {
        notes.push(format!(
            "the split differs from the exact weights (sample-ratio test p = {:.3e} < alpha {}); \
             {}",
            p_value.unwrap_or(f64::NAN),
            options.alpha,
            if verdict == Verdict::Pass {
                "every share is within tolerance, so the difference is too small to matter"
            } else {
                "whether it exceeds the tolerance is not decided yet"
            }
        ));
    }

    if test == TestUsed::MonteCarlo {
        notes.push(format!(
            "an expected count is below 5: the sample-ratio p-value is a Monte Carlo estimate \
             ({} draws, seed {}, standard error at most {:.1e})",
            options.mc_draws,
            options.mc_seed,
            0.5 / f64::from(options.mc_draws).sqrt()
        ));
    }

    Ok(SplitReport {
        verdict,
        reason,
        test,
        p_value,
        statistic,
        df,
        dispersion: statistic.filter(|_| df > 0).map(|s| s / f64::from(df)),
        n,
        total: counts.total(),
        rule_routed,
        alpha: options.alpha,
        tolerance_pp: options.tolerance.absolute_pp,
        tolerance_relative_pct: options.tolerance.relative_pct,
        interval_confidence: 1.0 - 2.0 * per_side,
        targets: rows,
        leaks,
        required_n,
        required_n_basis,
        monte_carlo,
        unit,
        source: "inline",
        errors: None,
        windows: None,
        clients: None,
        sequential: None,
        notes,
    })
}

fn describe_band(r: &TargetRow) -> String {
    match (r.interval, r.band) {
        (Some(iv), Some(band)) => format!(
            "interval {}–{}, band {}–{}",
            pct(iv.low),
            pct(iv.high),
            pct(band.low),
            pct(band.high)
        ),
        (None, Some(band)) => format!("band {}–{}", pct(band.low), pct(band.high)),
        _ => String::new(),
    }
}

fn describe_outside(r: &TargetRow) -> String {
    format!(
        "{} got {} instead of {} ({:+.2} pp), {} its band ({})",
        r.label,
        pct(r.share),
        pct(r.expected_share),
        r.deviation_pp,
        if r.call == Some(Call::Above) {
            "above"
        } else {
            "below"
        },
        describe_band(r)
    )
}

fn describe_undecided(r: &TargetRow) -> String {
    format!(
        "{} got {} of an expected {} ({})",
        r.label,
        pct(r.share),
        pct(r.expected_share),
        describe_band(r)
    )
}
