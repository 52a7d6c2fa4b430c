//! Judging one step's window: the split against the step's weights (verify's
//! sequential judge, so a look every second keeps its error bound), the
//! canary gate (verify's compare on the window's two sides), and the error
//! rate. The rules are verify's; this module only feeds them the window.

use std::collections::BTreeMap;

use loadgen::window::WindowCounts;
use verify::compare::{CompareOptions, SideData, judge_sides};
use verify::split::routing::route;
use verify::split::sequential::judge_looks;
use verify::{Counts, InputError, SplitOptions, Verdict};
use weighbridge_policy::Policy;
use weighbridge_report::Histogram;
use weighbridge_report::rollout::{ErrorCheck, GateCheck, SplitCheck, StickinessCheck};

/// How each step is judged.
#[derive(Debug, Clone)]
pub struct StepRules {
    /// The split's options; `alpha` already spread over the steps.
    pub split: SplitOptions,
    /// The gate's options; `alpha` already spread over its looks.
    pub gate: CompareOptions,
    /// FAIL a step whose share of failed requests is above this.
    pub max_error_rate: Option<f64>,
}

/// One look at a step's window.
#[derive(Debug, Clone)]
pub struct Judgement {
    pub verdict: Verdict,
    pub reason: String,
    pub split: SplitCheck,
    /// The split's verdict as judged: by request, or with stickiness by
    /// the clients new in the window.
    pub split_verdict: Verdict,
    pub gate: Option<(Verdict, GateCheck)>,
    pub errors: (Verdict, ErrorCheck),
    pub stickiness: Option<(Verdict, StickinessCheck)>,
}

/// The window's counts as verify's [`Counts`], per-path breakdown included.
pub fn counts_of(w: &WindowCounts) -> Counts {
    let mut counts = Counts::new();
    for (label, &n) in &w.targets {
        counts.add(label, n);
    }
    for (path, by_target) in &w.paths {
        for (label, &n) in by_target {
            counts.add_path(path, label, n);
        }
    }
    counts
}

/// The split of the window against `policy` (the step's), sequentially:
/// PASS or FAIL once the confidence sequences decide, INCONCLUSIVE before.
pub fn judge_split(
    policy: &Policy,
    options: &SplitOptions,
    w: &WindowCounts,
) -> Result<(Verdict, SplitCheck), InputError> {
    let counts = counts_of(w);
    let summary = judge_looks(
        policy,
        options,
        std::iter::once((w.seconds, counts.clone())),
        Verdict::Inconclusive,
    )?;
    let routed = route(policy, &counts)?;
    let n = summary.n;
    let shares = policy
        .targets()
        .iter()
        .map(|t| {
            let x = routed.weighted(&counts, &t.label);
            (
                t.label.clone(),
                if n == 0 { 0.0 } else { x as f64 / n as f64 },
            )
        })
        .collect();
    let check = SplitCheck {
        verdict: summary.verdict.as_str().to_owned(),
        reason: summary.reason.clone(),
        n,
        counts: w.targets.clone(),
        shares,
    };
    Ok((summary.verdict, check))
}

fn side(w: &WindowCounts, label: &str) -> SideData {
    let requests = w.targets.get(label).copied().unwrap_or(0);
    let failed = w.target_failed.get(label).copied().unwrap_or(0);
    let histogram = w
        .target_latency
        .get(label)
        .cloned()
        .or_else(|| Histogram::new(2).ok())
        .unwrap_or_else(|| unreachable!("a 2-digit histogram can always be made"));
    SideData::new(label, requests, failed, histogram)
}

/// The canary gate on the window, when both sides have weight in the step.
pub fn judge_gate(
    policy: &Policy,
    options: &CompareOptions,
    w: &WindowCounts,
) -> Result<Option<(Verdict, GateCheck)>, InputError> {
    let weighted = |l: &str| policy.weight(l).unwrap_or(0) > 0;
    if !weighted(&options.baseline) || !weighted(&options.candidate) {
        return Ok(None);
    }
    let with_target: u64 = w.target_failed.values().sum();
    let without = w.failed.saturating_sub(with_target);
    let r = judge_sides(
        side(w, &options.baseline),
        side(w, &options.candidate),
        without,
        None,
        options,
    )?;
    let check = GateCheck {
        verdict: r.verdict.as_str().to_owned(),
        reason: r.reason.clone(),
        baseline_requests: r.baseline.requests,
        baseline_failed: r.baseline.failed,
        candidate_requests: r.candidate.requests,
        candidate_failed: r.candidate.failed,
        baseline_p99_ms: r.baseline.p99_ms,
        candidate_p99_ms: r.candidate.p99_ms,
        error_p_value: r.error_p_value,
        latency_p_value: r.latency_p_value,
        alpha: options.alpha,
    };
    Ok(Some((r.verdict, check)))
}

/// The window's error rate against the limit (PASS when only reported).
pub fn judge_errors(max: Option<f64>, w: &WindowCounts) -> (Verdict, ErrorCheck) {
    let requests = w.ok + w.failed;
    let rate = if requests == 0 {
        0.0
    } else {
        w.failed as f64 / requests as f64
    };
    let (verdict, reason) = match max {
        Some(m) if rate > m => (
            Verdict::Fail,
            format!(
                "{} of {requests} requests failed ({:.2} %), above the limit of {:.2} %",
                w.failed,
                100.0 * rate,
                100.0 * m
            ),
        ),
        Some(m) => (
            Verdict::Pass,
            format!(
                "{} of {requests} requests failed ({:.2} %), within {:.2} %",
                w.failed,
                100.0 * rate,
                100.0 * m
            ),
        ),
        None => (
            Verdict::Pass,
            format!(
                "{} of {requests} requests failed ({:.2} %; no limit set)",
                w.failed,
                100.0 * rate
            ),
        ),
    };
    (
        verdict,
        ErrorCheck {
            verdict: verdict.as_str().to_owned(),
            reason,
            requests,
            failed: w.failed,
            max_rate: max,
        },
    )
}

/// Sticky clients: the first assignments of clients new in the window,
/// judged against the step's weights (they are the only clients the new
/// weights act on), and how far the per-request share of the candidate
/// lags the step's weight (stuck clients keep the split they started in).
pub fn judge_stickiness(
    policy: &Policy,
    options: &SplitOptions,
    candidate: &str,
    w: &WindowCounts,
    split: &SplitCheck,
) -> Result<(Verdict, StickinessCheck), InputError> {
    let share = |l: &str| {
        let total = policy.total_weight() as f64;
        f64::from(policy.weight(l).unwrap_or(0)) / total
    };
    let lag_pp = 100.0 * (split.shares.get(candidate).copied().unwrap_or(0.0) - share(candidate));
    let new_clients: u64 = w.first_assignments.values().sum();
    let (verdict, reason) = if new_clients == 0 {
        (
            Verdict::Inconclusive,
            "no client started in this step: the step's weights acted on nobody the load can see"
                .to_owned(),
        )
    } else {
        let mut counts = Counts::new();
        for (label, &n) in &w.first_assignments {
            counts.add(label, n);
        }
        let s = judge_looks(
            policy,
            options,
            std::iter::once((w.seconds, counts)),
            Verdict::Inconclusive,
        )?;
        (
            s.verdict,
            format!("{new_clients} clients started in this step: {}", s.reason),
        )
    };
    Ok((
        verdict,
        StickinessCheck {
            verdict: verdict.as_str().to_owned(),
            reason: format!(
                "{reason}; the candidate's share of requests is {lag_pp:+.1} pp off its weight"
            ),
            first_assignments: w.first_assignments.clone(),
            request_share_lag_pp: lag_pp,
        },
    ))
}

/// The worst of several verdicts: FAIL over INCONCLUSIVE over PASS.
pub fn worst(verdicts: impl IntoIterator<Item = Verdict>) -> Verdict {
    verdicts
        .into_iter()
        .fold(Verdict::Pass, |acc, v| match (acc, v) {
            (Verdict::Fail, _) | (_, Verdict::Fail) => Verdict::Fail,
            (Verdict::Inconclusive, _) | (_, Verdict::Inconclusive) => Verdict::Inconclusive,
            _ => Verdict::Pass,
        })
}

/// Judges the window: `complete` once the step has been held its hold
/// (before that only a FAIL of the split counts, as the sequential judge
/// allows at any look; the gate and the error rate wait for the hold).
pub fn judge(
    policy: &Policy,
    rules: &StepRules,
    w: &WindowCounts,
    complete: bool,
) -> Result<Judgement, InputError> {
    let (split_verdict, split) = judge_split(policy, &rules.split, w)?;
    let sticky = policy.stickiness().enabled;
    let stickiness = if sticky {
        Some(judge_stickiness(
            policy,
            &rules.split,
            &rules.gate.candidate,
            w,
            &split,
        )?)
    } else {
        None
    };
    let gate = if complete {
        judge_gate(policy, &rules.gate, w)?
    } else {
        None
    };
    let errors = judge_errors(rules.max_error_rate, w);
    // With stickiness the requests keep the clients' old split: the clients
    // new in the step are what its weights are judged on.
    // The per-request split is then reported, not judged.
    let split_counts = match &stickiness {
        Some((v, _)) => *v,
        None => split_verdict,
    };
    let mut parts: Vec<(&str, Verdict, String)> =
        vec![("split", split_counts, split.reason.clone())];
    if let Some((v, s)) = &stickiness {
        parts.push(("sticky clients", *v, s.reason.clone()));
    }
    if let Some((v, g)) = &gate {
        parts.push(("canary gate", *v, g.reason.clone()));
    }
    if complete {
        parts.push(("error rate", errors.0, errors.1.reason.clone()));
    }
    let verdict = if complete {
        worst(parts.iter().map(|p| p.1))
    } else if split_counts == Verdict::Fail {
        Verdict::Fail
    } else {
        Verdict::Inconclusive
    };
    let reason = parts
        .iter()
        .find(|p| p.1 == verdict)
        .map(|(what, _, why)| format!("{what}: {why}"))
        .unwrap_or_else(|| "held for its hold: not judged yet".to_owned());
    Ok(Judgement {
        verdict,
        reason,
        split,
        split_verdict: split_counts,
        gate,
        errors,
        stickiness,
    })
}

/// Responses per target as weights-like text: `stable 2 850, canary 150`.
pub fn counts_text(c: &BTreeMap<String, u64>) -> String {
    c.iter()
        .map(|(l, n)| format!("{l} {n}"))
        .collect::<Vec<_>>()
        .join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn window(stable: u64, canary: u64, canary_failed: u64) -> WindowCounts {
        let mut w = WindowCounts {
            seconds: 10,
            ..WindowCounts::default()
        };
        w.targets.insert("stable".into(), stable);
        w.targets.insert("canary".into(), canary);
        w.target_failed.insert("canary".into(), canary_failed);
        w.ok = stable + canary - canary_failed;
        w.failed = canary_failed;
        let mut h = Histogram::new(2).expect("histogram");
        for _ in 0..stable {
            h.record(2_000).expect("record");
        }
        w.target_latency.insert("stable".into(), h.clone());
        w.target_latency.insert("canary".into(), h);
        w
    }

    fn rules() -> StepRules {
        StepRules {
            split: SplitOptions::default(),
            gate: CompareOptions {
                baseline: "stable".into(),
                candidate: "canary".into(),
                alpha: 0.001,
                max_error_increase_pp: 1.0,
                max_latency_increase: 0.2,
                min_latency_increase_ms: 5.0,
                min_requests: 50,
            },
            max_error_rate: Some(0.01),
        }
    }

    fn policy(stable: u64, canary: u64) -> Policy {
        Policy::from_weights(&[("stable", stable), ("canary", canary)]).expect("policy")
    }

    #[test]
    fn a_good_step_passes_and_a_faulty_candidate_fails_the_gate() {
        let p = policy(75, 25);
        let good = judge(&p, &rules(), &window(75_000, 25_000, 0), true).expect("judge");
        assert_eq!(good.verdict, Verdict::Pass, "{}", good.reason);
        assert!(good.gate.is_some());
        // 5 % of the candidate failing: the gate sees it, the error rate
        // (1.25 % overall) too.
        let bad = judge(&p, &rules(), &window(75_000, 25_000, 1_250), true).expect("judge");
        assert_eq!(bad.verdict, Verdict::Fail);
        assert!(bad.reason.starts_with("canary gate"), "{}", bad.reason);
        // Before the hold only the split may decide, and it does not FAIL here.
        let early = judge(&p, &rules(), &window(75_000, 25_000, 1_250), false).expect("judge");
        assert_eq!(early.verdict, Verdict::Inconclusive);
    }

    #[test]
    fn a_router_that_kept_the_old_split_fails_the_split_at_any_look() {
        let p = policy(50, 50);
        let j = judge(&p, &rules(), &window(9_000, 1_000, 0), false).expect("judge");
        assert_eq!(j.verdict, Verdict::Fail);
        assert!(j.reason.starts_with("split"), "{}", j.reason);
    }

    #[test]
    fn the_gate_waits_for_weight_on_both_sides() {
        let p = policy(0, 100);
        let j = judge(&p, &rules(), &window(0, 10_000, 0), true).expect("judge");
        assert!(j.gate.is_none());
        assert_eq!(j.verdict, Verdict::Pass, "{}", j.reason);
    }
}
