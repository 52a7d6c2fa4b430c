//! The verdict on a traffic split: leak checks, the goodness-of-fit test,
//! simultaneous intervals, power, and the decision table that turns them
//! into PASS / FAIL / INCONCLUSIVE. `docs/verify.md` explains how to read it.
//!
//! Decision, in this order:
//! 1. any request on a zero-weight target, on a target the policy does not
//!    know, or on a rule path served by the wrong target → **FAIL**;
//! 2. the goodness-of-fit test rejects at `alpha` **and** some target's
//!    observed share is off by more than the tolerance → **FAIL**;
//! 3. every target's simultaneous Wilson interval (Bonferroni `alpha / k`)
//!    lies within expected ± tolerance → **PASS** (with a note when the test
//!    rejected: a real but practically negligible difference);
//! 4. the test does not reject and its power against the least favourable
//!    deviation of one tolerance is at least `--power` → **PASS**;
//! 5. otherwise **INCONCLUSIVE**, with the number of requests that would
//!    decide it.
//!
//! With a single positive-weight target (100/0) there is no split to test:
//! it PASSes once enough requests were seen that a leak at the tolerance
//! rate would have shown up with probability `--power`.

use std::collections::BTreeMap;

use serde::Serialize;
use weighbridge_policy::Policy;

use crate::chisq::{self, chi2_cdf};
use crate::counts::Counts;
use crate::dispersion::Heterogeneity;
use crate::error::InputError;
use crate::exact::{self, DEFAULT_MC_DRAWS, DEFAULT_MC_SEED};
use crate::failures::ErrorReport;
use crate::fmt::pct;
use crate::intervals::{self, Interval};
use crate::power;
use crate::verdict::Verdict;

/// Smallest expected count for which the chi-square approximation is used.
pub const MIN_EXPECTED_FOR_CHI_SQUARE: f64 = 5.0;

/// Most Monte Carlo draws `--mc-draws` accepts, so the test answers in
/// seconds whatever is asked.
pub const MAX_MC_DRAWS: u32 = 10_000_000;

/// Lower-tail probability (continuity corrected) below which counts are
/// called near-perfect.
pub const NEAR_PERFECT_LOWER_TAIL: f64 = 0.01;

/// Which goodness-of-fit test produced the p-value.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum TestUsed {
    /// Pearson's chi-square, every expected count ≥ 5.
    PearsonChiSquare,
    /// Two targets, some expected count < 5: exact two-sided binomial.
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
            TestUsed::ExactBinomial => "exact binomial (expected count < 5)",
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

/// The thresholds of the judge.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SplitOptions {
    /// Significance level of the test, and the simultaneous error rate of the
    /// intervals. Default 0.001.
    pub alpha: f64,
    /// Practical tolerance in percentage points of share. Default 1.
    pub tolerance_pp: f64,
    /// Power needed to PASS on a non-rejection. Default 0.8.
    pub power: f64,
    /// Draws of the Monte Carlo test. Default 100 000.
    pub mc_draws: u32,
    /// Seed of the Monte Carlo test.
    pub mc_seed: u64,
}

impl Default for SplitOptions {
    fn default() -> Self {
        SplitOptions {
            alpha: 0.001,
            tolerance_pp: 1.0,
            power: 0.8,
            mc_draws: DEFAULT_MC_DRAWS,
            mc_seed: DEFAULT_MC_SEED,
        }
    }
}

impl SplitOptions {
    /// Checks every option's range.
    pub fn validate(&self) -> Result<(), InputError> {
        let open_unit = |v: f64| v > 0.0 && v < 1.0;
        if !open_unit(self.alpha) {
            return Err(InputError::BadOption {
                name: "alpha",
                value: self.alpha,
                reason: "must be between 0 and 1, exclusive",
            });
        }
        if !(self.tolerance_pp > 0.0 && self.tolerance_pp < 50.0) {
            return Err(InputError::BadOption {
                name: "tolerance",
                value: self.tolerance_pp,
                reason: "must be more than 0 and less than 50 percentage points",
            });
        }
        if !open_unit(self.power) {
            return Err(InputError::BadOption {
                name: "power",
                value: self.power,
                reason: "must be between 0 and 1, exclusive",
            });
        }
        if self.mc_draws == 0 || self.mc_draws > MAX_MC_DRAWS {
            return Err(InputError::BadOption {
                name: "mc-draws",
                value: f64::from(self.mc_draws),
                reason: "must be between 1 and 10000000 (the Monte Carlo error is at most 0.5/sqrt(draws); 10 million draws make it 1.6e-4 and take seconds)",
            });
        }
        Ok(())
    }
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
    /// Simultaneous Wilson interval of the share (positive-weight targets).
    pub interval: Option<Interval>,
}

/// Requests where the policy says there must be none.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Leak {
    /// The target that served them.
    pub target: String,
    /// How many.
    pub count: u64,
    /// Why they are a leak.
    pub kind: LeakKind,
    /// Where they went, when per-path counts were given: path → count.
    pub paths: BTreeMap<String, u64>,
}

/// Why requests are a leak.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum LeakKind {
    /// The target has weight 0.
    ZeroWeight,
    /// The policy has no such target.
    UnknownTarget,
    /// An exclusive path rule sends the path to another target.
    PathRule {
        /// The target the rule names.
        expected_target: String,
    },
}

/// Power of the test against the least favourable deviation of one tolerance.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct PowerReport {
    /// Power at the observed number of requests.
    pub achieved: f64,
    /// The power required (`--power`).
    pub target: f64,
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
    /// Tolerance used, percentage points.
    pub tolerance_pp: f64,
    /// Confidence of each simultaneous interval, `1 − alpha / k`.
    pub interval_confidence: f64,
    /// Every target: policy targets in policy order, then unknown ones.
    pub targets: Vec<TargetRow>,
    /// Every leak found.
    pub leaks: Vec<Leak>,
    /// Power (`None` when there is no split to test).
    pub power: Option<PowerReport>,
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
    let tolerance = options.tolerance_pp / 100.0;
    let mut notes = Vec::new();
    let mut leaks = Vec::new();

    // --- path rules: leaks on rule paths, and requests to leave out ---
    let mut rule_counts: BTreeMap<&str, u64> = BTreeMap::new();
    let mut rule_leaks: BTreeMap<(String, String), BTreeMap<String, u64>> = BTreeMap::new();
    let mut non_rule_paths: BTreeMap<&str, BTreeMap<String, u64>> = BTreeMap::new();
    for (path, by_target) in counts.paths() {
        let rule = policy.rule_for_path(path);
        for (label, &count) in by_target {
            if count == 0 {
                continue;
            }
            match rule {
                Some(rule) => {
                    *rule_counts.entry(label.as_str()).or_default() += count;
                    if *label != rule.target {
                        *rule_leaks
                            .entry((label.clone(), rule.target.clone()))
                            .or_default()
                            .entry(path.clone())
                            .or_default() += count;
                    }
                }
                None => {
                    *non_rule_paths
                        .entry(label.as_str())
                        .or_default()
                        .entry(path.clone())
                        .or_default() += count;
                }
            }
        }
    }
    for (label, &paths) in &rule_counts {
        let total = counts.get(label);
        if paths > total {
            return Err(InputError::PathCountsExceedTotal {
                target: (*label).to_owned(),
                paths,
                total,
            });
        }
    }
    for ((target, expected_target), paths) in rule_leaks {
        leaks.push(Leak {
            count: paths.values().sum(),
            target,
            kind: LeakKind::PathRule { expected_target },
            paths,
        });
    }
    let weighted = |label: &str| counts.get(label) - rule_counts.get(label).copied().unwrap_or(0);
    let rule_routed: u64 = rule_counts.values().sum();
    let paths_of = |label: &str| non_rule_paths.get(label).cloned().unwrap_or_default();

    // --- zero-weight and unknown targets ---
    let mut stray_rows = Vec::new();
    for t in policy.targets().iter().filter(|t| t.weight == 0) {
        let count = weighted(&t.label);
        if count > 0 {
            leaks.push(Leak {
                target: t.label.clone(),
                count,
                kind: LeakKind::ZeroWeight,
                paths: paths_of(&t.label),
            });
        }
    }
    for (label, _) in counts.targets() {
        let count = weighted(label);
        if policy.weight(label).is_none() && count > 0 {
            leaks.push(Leak {
                target: label.clone(),
                count,
                kind: LeakKind::UnknownTarget,
                paths: paths_of(label),
            });
            stray_rows.push((label.clone(), count));
        }
    }

    // --- the weighted test over positive-weight targets ---
    let positive: Vec<(&str, f64)> = policy
        .expected_shares()
        .into_iter()
        .filter(|(_, share)| *share > 0.0)
        .collect();
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

    let mut test = TestUsed::None;
    let mut p_value = None;
    let mut statistic = None;
    let mut monte_carlo = None;
    if k >= 2 && n > 0 {
        let stat = chisq::pearson_statistic(&observed, &probs);
        statistic = Some(stat);
        let min_expected = probs.iter().fold(f64::INFINITY, |m, p| m.min(p * n as f64));
        let p = if min_expected >= MIN_EXPECTED_FOR_CHI_SQUARE {
            test = TestUsed::PearsonChiSquare;
            chisq::chi2_sf(stat, df)
        } else if k == 2 {
            test = TestUsed::ExactBinomial;
            exact::binomial_two_sided(observed[0], n, probs[0])
        } else {
            test = TestUsed::MonteCarlo;
            monte_carlo = Some(MonteCarloInfo {
                draws: options.mc_draws,
                seed: options.mc_seed,
            });
            exact::monte_carlo(&observed, &probs, options.mc_draws, options.mc_seed)
        };
        p_value = Some(p);
        if test == TestUsed::PearsonChiSquare {
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
                     requests are not independent, so the p-value is conservative",
                    stat / f64::from(df)
                ));
            }
        }
    }

    let intervals: Vec<Interval> = if n > 0 {
        intervals::simultaneous_wilson(&observed, options.alpha)
    } else {
        Vec::new()
    };

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
                interval: intervals.get(i).copied(),
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
        });
    }

    // --- power ---
    let power_report = (k >= 2).then(|| PowerReport {
        achieved: power::power(n, &probs, tolerance, options.alpha),
        target: options.power,
    });

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
    let off: Vec<&TargetRow> = rows
        .iter()
        .filter(|r| r.weight.is_some_and(|w| w > 0) && r.deviation_pp.abs() > options.tolerance_pp)
        .collect();
    let (verdict, reason) = if !leaks.is_empty() {
        let what: Vec<String> = leaks.iter().map(describe_leak).collect();
        (Verdict::Fail, what.join("; "))
    } else if k == 1 {
        let needed = power::required_n_for_leak(tolerance, options.power);
        if n >= needed {
            (
                Verdict::Pass,
                format!(
                    "all {n} requests went to {}, the only target with a positive weight",
                    positive[0].0
                ),
            )
        } else {
            required_n = Some(needed);
            required_n_basis = Some(format!(
                "requests for a leak at {} % to have shown up with probability {}",
                options.tolerance_pp, options.power
            ));
            (
                Verdict::Inconclusive,
                format!(
                    "no leak in {n} requests, but a leak of {} % could hide in fewer than {needed}",
                    options.tolerance_pp
                ),
            )
        }
    } else if n == 0 {
        required_n = Some(power::required_n(
            &probs,
            tolerance,
            options.alpha,
            options.power,
        ));
        required_n_basis = Some(power_basis(options));
        (
            Verdict::Inconclusive,
            "no requests reached the weighted targets".to_owned(),
        )
    } else if rejected && !off.is_empty() {
        let worst = off
            .iter()
            .map(|r| {
                format!(
                    "{} got {} instead of {} ({:+.2} pp)",
                    r.label,
                    pct(r.share),
                    pct(r.expected_share),
                    r.deviation_pp
                )
            })
            .collect::<Vec<_>>()
            .join(", ");
        (
            Verdict::Fail,
            format!(
                "the split differs from the weights (p = {:.3e} < alpha {}) by more than {} pp: {worst}",
                p_value.unwrap_or(f64::NAN),
                options.alpha,
                options.tolerance_pp
            ),
        )
    } else if rows
        .iter()
        .filter_map(|r| r.interval.map(|iv| (iv, r.expected_share)))
        .all(|(iv, e)| iv.within(e, tolerance))
    {
        if rejected {
            notes.push(format!(
                "the test rejects (p = {:.3e}), but every share is within {} pp of its weight: \
                 a real difference too small to matter at this tolerance",
                p_value.unwrap_or(f64::NAN),
                options.tolerance_pp
            ));
        }
        (
            Verdict::Pass,
            format!(
                "every target's share is within {} pp of its weight (simultaneous {:.4} % intervals)",
                options.tolerance_pp,
                100.0 * (1.0 - options.alpha / k as f64)
            ),
        )
    } else if !rejected && power_report.is_some_and(|p| p.achieved >= options.power) {
        (
            Verdict::Pass,
            format!(
                "no deviation found (p = {:.3}), and the test had power {:.3} to find one of {} pp",
                p_value.unwrap_or(f64::NAN),
                power_report.map_or(f64::NAN, |p| p.achieved),
                options.tolerance_pp
            ),
        )
    } else if rejected {
        let z = intervals::z_two_sided(options.alpha / k as f64);
        required_n = required_n_for_intervals(&rows, tolerance, z).map(|r| r.max(n + 1));
        required_n_basis = Some(
            "requests for the simultaneous intervals to fit within the tolerance if the observed \
             shares hold (approximate)"
                .to_owned(),
        );
        (
            Verdict::Inconclusive,
            format!(
                "the split differs from the weights (p = {:.3e}), but by no more than {} pp so far; \
                 more requests would tell whether the difference exceeds the tolerance",
                p_value.unwrap_or(f64::NAN),
                options.tolerance_pp
            ),
        )
    } else {
        required_n = Some(power::required_n(
            &probs,
            tolerance,
            options.alpha,
            options.power,
        ));
        required_n_basis = Some(power_basis(options));
        (
            Verdict::Inconclusive,
            format!(
                "no deviation found (p = {:.3}), but with {n} requests the test had only power {:.3} \
                 to find one of {} pp",
                p_value.unwrap_or(f64::NAN),
                power_report.map_or(f64::NAN, |p| p.achieved),
                options.tolerance_pp
            ),
        )
    };

    match test {
        TestUsed::ExactBinomial => notes.push(
            "an expected count is below 5: exact two-sided binomial test instead of chi-square"
                .to_owned(),
        ),
        TestUsed::MonteCarlo => notes.push(format!(
            "an expected count is below 5: Monte Carlo test with {} draws, seed {}",
            options.mc_draws, options.mc_seed
        )),
        _ => {}
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
        tolerance_pp: options.tolerance_pp,
        interval_confidence: 1.0 - options.alpha / k as f64,
        targets: rows,
        leaks,
        power: power_report,
        required_n,
        required_n_basis,
        monte_carlo,
        unit,
        source: "inline",
        errors: None,
        windows: None,
        clients: None,
        notes,
    })
}

fn power_basis(options: &SplitOptions) -> String {
    format!(
        "requests for power {} against a {} pp deviation at alpha {}",
        options.power, options.tolerance_pp, options.alpha
    )
}

/// Smallest N at which, if the observed shares held, every interval
/// (normal approximation of its half-width, `z √(p(1−p)/N)`) would fit in
/// expected ± tolerance. `None` when some share is already at the bound.
fn required_n_for_intervals(rows: &[TargetRow], tolerance: f64, z: f64) -> Option<u64> {
    let mut needed: u64 = 0;
    for r in rows.iter().filter(|r| r.interval.is_some()) {
        let room = tolerance - (r.share - r.expected_share).abs();
        if room <= 0.0 {
            return None;
        }
        let var = (r.share * (1.0 - r.share)).max(1e-12);
        needed = needed.max((z * z * var / (room * room)).ceil() as u64);
    }
    Some(needed)
}

fn describe_leak(leak: &Leak) -> String {
    let what = match &leak.kind {
        LeakKind::ZeroWeight => format!(
            "{} requests reached {}, which has weight 0",
            leak.count, leak.target
        ),
        LeakKind::UnknownTarget => format!(
            "{} requests were served by {}, a target the policy does not know",
            leak.count, leak.target
        ),
        LeakKind::PathRule { expected_target } => format!(
            "{} requests on paths reserved for {expected_target} were served by {}",
            leak.count, leak.target
        ),
    };
    if leak.paths.is_empty() {
        what
    } else {
        let paths: Vec<String> = leak
            .paths
            .iter()
            .map(|(p, c)| format!("{p} ({c})"))
            .collect();
        format!("{what} [{}]", paths.join(", "))
    }
}
