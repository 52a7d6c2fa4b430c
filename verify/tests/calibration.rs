//! Is the judge fair? Simulated correct splits (seeded, so every run sees the
//! same samples) must rarely FAIL, and real deviations must be caught.
//!
//! These are simulations of the whole judge; `tests/error_bounds.rs` proves
//! the bounds exactly, target by target. A false FAIL has probability at
//! most alpha, so over S simulated correct splits the FAIL count is at most
//! Binomial(S, alpha) in distribution. Each bound below is the mean plus
//! about four standard deviations (or, for tiny means, a Poisson tail
//! probability below 0.001), and is stated next to its assert.

use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use verify::binomial::two_sided;
use verify::chisq::pearson;
use verify::exact::multinomial;
use verify::{Counts, SplitOptions, Verdict, judge};
use weighbridge_policy::Policy;

fn simulate_verdicts(
    labels: &[(&str, u64)],
    true_probs: &[f64],
    n: u64,
    sims: u32,
    seed: u64,
) -> [u32; 3] {
    let policy = Policy::from_weights(labels).expect("valid");
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut sample = vec![0; true_probs.len()];
    let mut tally = [0u32; 3];
    for _ in 0..sims {
        multinomial(&mut rng, n, true_probs, &mut sample);
        let mut c = Counts::new();
        for ((label, _), &k) in labels.iter().zip(&sample) {
            c.add(label, k);
        }
        let r = judge(&policy, &c, &SplitOptions::default()).expect("valid");
        tally[usize::from(r.verdict.exit_code())] += 1;
    }
    tally
}

/// 1000 simulated correct splits of 20 000 requests each, per weight set, at
/// the default alpha 0.001: expected FAILs at most 1 (FAIL needs a rejection
/// at alpha); P(Poisson(1) ≥ 6) ≈ 0.0006, so at most 5 FAILs each.
#[test]
fn correct_splits_rarely_fail() {
    type Case<'a> = (&'a [(&'a str, u64)], &'a [f64]);
    let cases: &[Case<'_>] = &[
        (&[("a", 50), ("b", 50)], &[0.5, 0.5]),
        (&[("a", 95), ("b", 5)], &[0.95, 0.05]),
        (&[("ecs", 10), ("lambda", 90)], &[0.1, 0.9]),
        (&[("a", 40), ("b", 35), ("c", 25)], &[0.40, 0.35, 0.25]),
    ];
    for (i, (labels, probs)) in cases.iter().enumerate() {
        let [_, fail, _] = simulate_verdicts(labels, probs, 20_000, 1000, 1000 + i as u64);
        assert!(fail <= 5, "{labels:?}: {fail} FAILs in 1000 correct splits");
    }
}

/// 100/0: a correct split never FAILs (no leak can appear).
#[test]
fn all_to_one_target_never_fails() {
    let policy = Policy::from_weights(&[("stable", 100), ("canary", 0)]).expect("valid");
    for n in [1u64, 100, 10_000] {
        let mut c = Counts::new();
        c.add("stable", n);
        let r = judge(&policy, &c, &SplitOptions::default()).expect("valid");
        assert_ne!(r.verdict, Verdict::Fail);
    }
}

/// The raw test's level at alpha = 0.05: 2000 simulated 90/10 splits of
/// 5 000, rejection count mean 100, sd 9.7: within [60, 140].
#[test]
fn chi_square_level_is_alpha() {
    let mut rng = ChaCha8Rng::seed_from_u64(42);
    let probs = [0.1, 0.9];
    let mut sample = [0u64; 2];
    let rejections = (0..2000)
        .filter(|_| {
            multinomial(&mut rng, 5_000, &probs, &mut sample);
            pearson(&sample, &probs).p_value < 0.05
        })
        .count();
    assert!(
        (60..=140).contains(&rejections),
        "{rejections} rejections of 2000 at alpha 0.05"
    );
}

/// The exact binomial test is conservative: at n = 30, p = 0.5, alpha = 0.05
/// its true level is 0.043; over 2000 simulations the rejections stay below
/// 0.05 · 2000 + 4 sd = 140.
#[test]
fn exact_binomial_level_at_most_alpha() {
    let mut rng = ChaCha8Rng::seed_from_u64(43);
    let mut sample = [0u64; 2];
    let rejections = (0..2000)
        .filter(|_| {
            multinomial(&mut rng, 30, &[0.5, 0.5], &mut sample);
            two_sided(sample[0], 30, 0.5) < 0.05
        })
        .count();
    assert!(rejections <= 140, "{rejections} rejections of 2000");
}

/// Small-count 40/35/25 splits (N = 10, so the Monte Carlo test with 2 000
/// draws is used): 300 simulations at alpha = 0.05, mean ≤ 15, sd 3.8, so
/// at most 30 rejections.
#[test]
fn monte_carlo_level_at_most_alpha() {
    let policy = Policy::from_weights(&[("a", 40), ("b", 35), ("c", 25)]).expect("valid");
    let probs = [0.40, 0.35, 0.25];
    let mut rng = ChaCha8Rng::seed_from_u64(44);
    let mut sample = [0u64; 3];
    let options = SplitOptions {
        alpha: 0.05,
        mc_draws: 2_000,
        ..SplitOptions::default()
    };
    let mut rejections = 0;
    for _ in 0..300 {
        multinomial(&mut rng, 10, &probs, &mut sample);
        let mut c = Counts::new();
        c.add("a", sample[0])
            .add("b", sample[1])
            .add("c", sample[2]);
        let r = judge(&policy, &c, &options).expect("valid");
        assert_eq!(r.test, verify::TestUsed::MonteCarlo);
        if r.p_value.expect("p") < 0.05 {
            rejections += 1;
        }
    }
    assert!(rejections <= 30, "{rejections} rejections of 300");
}

/// A real deviation of 3 pp (13/87 served where 10/90 is configured) at
/// 20 000 requests: the FAIL threshold is about 11 % + 3.48 sd = 2 354
/// requests to ecs, the mean is 2 600 with sd 47.6, so a run below it is
/// 5 sd out (probability 1e-7). All of 200 simulations must FAIL.
#[test]
fn deviations_of_three_points_are_caught() {
    let [pass, fail, inconclusive] = simulate_verdicts(
        &[("ecs", 10), ("lambda", 90)],
        &[0.13, 0.87],
        20_000,
        200,
        7,
    );
    assert_eq!(fail, 200, "pass {pass}, inconclusive {inconclusive}");
}

/// Sticky clients, 50/50: 200 simulated runs of 50 clients × 20 requests
/// (seeded). Judged by clients, a correct split FAILs at most about alpha
/// of the time: expected ≤ 0.2 FAILs, P(Poisson(0.2) ≥ 4) ≈ 6e-5, so at most
/// 3. Judged by requests, the same runs FAIL far more often (each client's
/// 20 requests repeat one decision, so the request counts overstate the
/// evidence about 20-fold): at least 50 of 200, typically about 90.
#[test]
fn sticky_clients_are_judged_fairly_by_clients_not_requests() {
    use verify::{ReportChecks, judge_report};
    use weighbridge_report::synth::Scenario;
    let policy = Policy::from_weights(&[("blue", 50), ("green", 50)]).expect("valid");
    let sticky = ReportChecks {
        sticky: true,
        ..ReportChecks::default()
    };
    let (mut by_clients, mut by_requests) = (0, 0);
    for seed in 0..200 {
        let mut s = Scenario::constant(20, 50, &[("blue", 0.5), ("green", 0.5)], 9000 + seed);
        s.clients = Some(50);
        s.sticky = true;
        let report = s.report().expect("report");
        let r = judge_report(&policy, &report, &SplitOptions::default(), &sticky).expect("judged");
        assert_eq!(r.n, 50);
        if r.verdict == Verdict::Fail {
            by_clients += 1;
        }
        let r = judge_report(
            &policy,
            &report,
            &SplitOptions::default(),
            &ReportChecks::default(),
        )
        .expect("judged");
        if r.verdict == Verdict::Fail {
            by_requests += 1;
        }
    }
    assert!(by_clients <= 3, "{by_clients} FAILs of 200 judging clients");
    assert!(
        by_requests >= 50,
        "only {by_requests} FAILs of 200 judging requests"
    );
}
