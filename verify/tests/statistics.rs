//! The statistics core against reference values computed independently.
//!
//! Reference values marked "scipy" were computed with SciPy 1.17.1 in a
//! throwaway venv (`python3 -m venv /tmp/v && /tmp/v/bin/pip install scipy`):
//!   stats.chisquare([1042,8958],[1000,9000])        -> 1.96, 0.16151331846753808
//!   stats.chisquare([1300,8700],[1000,9000])        -> 100.0, 1.5239706048320995e-23
//!   stats.chisquare([4120,3390,2490],[4000,3500,2500]) -> 7.097142857142857, 0.02876570417856482
//!   stats.chisquare([101000,899000],[100000,900000]) -> 11.11111111111111, 0.0008581206663936758
//!   stats.binomtest(k, n, p).pvalue                 (two-sided)
//!   stats.chi2.isf(0.001, df)                       (critical values)
//!   stats.ncx2.sf(x, df, nc)                        (noncentral survival)
//!   stats.ncx2.sf(2e5, 1, 199900)   -> 0.45548410422368496  (summed: mu below 1e5)
//!   stats.ncx2.sf(2e5, 1, 200100)   -> 0.5445048144747384   (Sankaran past 1e5)
//!   stats.ncx2.sf(2.01e5, 1, 200100) -> 0.15748442083289396
//!   stats.ncx2.sf(5e6, 4, 5e6)      -> 0.5002676186062884

use verify::chisq::{chi2_critical, chi2_sf, pearson};
use verify::exact::{binomial_two_sided, monte_carlo};
use verify::intervals::{simultaneous_wilson, wilson, z_two_sided};
use verify::power::{
    noncentral_chi2_sf, noncentral_chi2_sf_bounded, noncentrality_per_request, power,
    power_df1_closed_form, required_n, required_n_for_leak,
};

fn close(actual: f64, expected: f64, rel: f64) {
    let err = ((actual - expected) / expected).abs();
    assert!(
        err <= rel,
        "{actual:e} vs reference {expected:e} (relative error {err:e} > {rel:e})"
    );
}

#[test]
fn pearson_matches_scipy() {
    let r = pearson(&[1042, 8958], &[0.1, 0.9]);
    close(r.statistic, 1.96, 1e-12);
    assert_eq!(r.df, 1);
    close(r.p_value, 0.161_513_318_467_538_08, 1e-9);

    let r = pearson(&[1300, 8700], &[0.1, 0.9]);
    close(r.statistic, 100.0, 1e-12);
    // 1 - cdf would give 0 here; the survival function keeps the digits.
    close(r.p_value, 1.523_970_604_832_099_5e-23, 1e-6);

    let r = pearson(&[4120, 3390, 2490], &[0.40, 0.35, 0.25]);
    close(r.statistic, 7.097_142_857_142_857, 1e-12);
    assert_eq!(r.df, 2);
    close(r.p_value, 0.028_765_704_178_564_82, 1e-9);

    let r = pearson(&[101_000, 899_000], &[0.1, 0.9]);
    close(r.p_value, 0.000_858_120_666_393_675_8, 1e-8);
}

#[test]
fn far_tail_is_not_zero() {
    assert!(chi2_sf(400.0, 1) > 0.0);
    assert!(chi2_sf(400.0, 1) < 1e-80);
}

#[test]
fn critical_values_match_scipy() {
    close(chi2_critical(0.001, 1), 10.827_566_170_662_733, 1e-9);
    close(chi2_critical(0.001, 2), 13.815_510_557_964_274, 1e-9);
    close(chi2_critical(0.05, 3), 7.814_727_903_251_178, 1e-9);
}

#[test]
fn exact_binomial_matches_scipy() {
    close(
        binomial_two_sided(3, 30, 0.5),
        8.430_331_945_419_312e-6,
        1e-9,
    );
    close(
        binomial_two_sided(7, 40, 0.05),
        0.003_391_897_577_935_977_3,
        1e-9,
    );
    close(
        binomial_two_sided(0, 30, 0.1),
        0.068_217_946_937_126_1,
        1e-9,
    );
    close(binomial_two_sided(10, 10, 0.5), 0.001_953_125, 1e-9);
    // the most likely outcome: p = 1
    close(binomial_two_sided(2, 20, 0.1), 1.0, 1e-12);
}

#[test]
fn monte_carlo_agrees_with_chi_square_when_counts_are_large() {
    // With expected counts in the hundreds the asymptotic p-value is good;
    // the Monte Carlo estimate must agree within a few of its standard errors
    // (sd of a proportion near 0.0288 with 20 000 draws is 0.0012).
    let observed = [412, 339, 249];
    let probs = [0.40, 0.35, 0.25];
    let asymptotic = pearson(&observed, &probs).p_value;
    let mc = monte_carlo(&observed, &probs, 20_000, 7);
    assert!(
        (mc - asymptotic).abs() < 0.006,
        "monte carlo {mc} vs chi-square {asymptotic}"
    );
    // Fixed seed, fixed answer.
    assert_eq!(mc, monte_carlo(&observed, &probs, 20_000, 7));
    // Never zero.
    assert!(monte_carlo(&[100, 0, 0], &probs, 1000, 1) > 0.0);
}

#[test]
fn noncentral_matches_scipy() {
    close(
        noncentral_chi2_sf(13.815_510_557_964_274, 2, 10.0),
        0.342_062_813_861_982_95,
        1e-9,
    );
    close(
        noncentral_chi2_sf(18.466_826_952_903_173, 4, 50.0),
        0.998_835_944_249_266_1,
        1e-9,
    );
    close(
        noncentral_chi2_sf(10.827_566_170_662_733, 1, 25.0),
        0.956_318_340_401_540_6,
        1e-9,
    );
    close(
        noncentral_chi2_sf(30.0, 3, 0.5),
        7.381_331_625_076_708e-6,
        1e-8,
    );
    close(
        noncentral_chi2_sf(10.827_566_170_662_733, 1, 2000.0),
        1.0,
        1e-12,
    );
    // λ = 0 is the central distribution
    close(noncentral_chi2_sf(5.0, 2, 0.0), chi2_sf(5.0, 2), 1e-15);
}

#[test]
fn noncentral_truncation_error_is_tiny() {
    for &(x, df, lambda) in &[
        (10.8, 1, 0.3),
        (13.8, 2, 11.0),
        (20.0, 4, 90.0),
        (12.0, 1, 400.0),
    ] {
        let (_, bound) = noncentral_chi2_sf_bounded(x, df, lambda);
        assert!(bound < 1e-12, "λ = {lambda}: truncation bound {bound:e}");
    }
}

#[test]
fn power_agrees_with_df1_closed_form() {
    // df = 1: P(|Z + √λ| > z_{α/2}) exactly.
    for alpha in [0.05, 0.01, 0.001] {
        let crit = chi2_critical(alpha, 1);
        for lambda in [0.0, 0.5, 2.0, 5.0, 10.0, 17.0, 30.0, 60.0] {
            let mixture = noncentral_chi2_sf(crit, 1, lambda);
            let closed = power_df1_closed_form(lambda, alpha);
            assert!(
                (mixture - closed).abs() < 1e-9,
                "alpha {alpha}, λ {lambda}: mixture {mixture} vs closed form {closed}"
            );
        }
    }
}

#[test]
fn least_favourable_deviation() {
    // Two targets 10/90, tolerance 1 pp: λ/N = 0.01² / (0.1 · 0.9).
    close(
        noncentrality_per_request(&[0.1, 0.9], 0.01),
        1e-4 / 0.09,
        1e-12,
    );
    // 40/35/25: the target closest to 50 % (40 %) is the least favourable.
    close(
        noncentrality_per_request(&[0.4, 0.35, 0.25], 0.01),
        1e-4 / 0.24,
        1e-12,
    );
}

#[test]
fn required_n_reaches_the_power_and_no_fewer_do() {
    for probs in [vec![0.1, 0.9], vec![0.5, 0.5], vec![0.4, 0.35, 0.25]] {
        let n = required_n(&probs, 0.01, 0.001, 0.8);
        assert!(power(n, &probs, 0.01, 0.001) >= 0.8);
        assert!(power(n - 1, &probs, 0.01, 0.001) < 0.8);
    }
    // 10/90 at 1 pp: (z_.0005 + z_.2)² · 0.09 / 1e-4 = 17.07 · 900 ≈ 15 366.
    let n = required_n(&[0.1, 0.9], 0.01, 0.001, 0.8);
    assert!((15_300..15_400).contains(&n), "{n}");
}

#[test]
fn leak_sample_size() {
    // (1 − 0.01)^N ≤ 0.2  ⇔  N ≥ 160.1
    assert_eq!(required_n_for_leak(0.01, 0.8), 161);
}

#[test]
fn wilson_intervals() {
    // Textbook value: 0 of 10 at 95 %: [0, 0.2775].
    let iv = wilson(0, 10, 0.05);
    assert_eq!(iv.low, 0.0);
    close(iv.high, 0.277_532_799_747_965_6, 1e-6);
    // Contains the point estimate, inside [0, 1].
    let iv = wilson(1042, 10_000, 0.0005);
    assert!(iv.low < 0.1042 && 0.1042 < iv.high);
    // Bonferroni: each of 2 intervals at alpha/2 is wider than one at alpha.
    let sim = simultaneous_wilson(&[1042, 8958], 0.001);
    let single = wilson(1042, 10_000, 0.001);
    assert!(sim[0].high - sim[0].low > single.high - single.low);
    close(z_two_sided(0.05), 1.959_963_984_540_054, 1e-9);
}

/// Any noncentrality answers at once: the degrees of freedom of the
/// Poisson terms never overflow (a huge lambda used to wrap them and loop
/// for minutes), the sum is capped, and past half a noncentrality of 1e5
/// Sankaran's approximation answers, within 1e-4 of scipy on both sides of
/// the switch.
#[test]
fn noncentral_chi_square_answers_for_any_noncentrality() {
    for lambda in [1e3, 1e6, 1.7e10, 3.7e19, 1e300, f64::MAX, f64::INFINITY] {
        let (p, err) = noncentral_chi2_sf_bounded(10.83, 1, lambda);
        assert_eq!(p, 1.0, "lambda {lambda:e}");
        assert!(err <= 1e-5, "lambda {lambda:e}: {err:e}");
    }
    for (x, df, lambda, reference) in [
        (2e5, 1, 199_900.0, 0.455_484_104_223_684_96),
        (2e5, 1, 200_100.0, 0.544_504_814_474_738_4),
        (2.01e5, 1, 200_100.0, 0.157_484_420_832_893_96),
        (5e6, 4, 5e6, 0.500_267_618_606_288_4),
    ] {
        let p = noncentral_chi2_sf(x, df, lambda);
        assert!(
            (p - reference).abs() < 1e-4,
            "{x} {df} {lambda}: {p} vs {reference}"
        );
    }
    // Far past anything a test asks: still a probability, at once.
    let p = noncentral_chi2_sf(1e12 + 1.0, 1, 1e12);
    assert!((0.0..=1.0).contains(&p), "{p}");
    assert!(noncentral_chi2_sf(f64::NAN, 1, 10.0).is_nan());
}

/// A tolerance too small for any run saturates instead of wrapping: the
/// sample size for power used to wrap u64 and never return (`--tolerance
/// 1e-8`), and the leak sample size was 0 for a tolerance below 1e-16 (`1 -
/// t` rounds to 1), so zero requests PASSed.
#[test]
fn sample_sizes_saturate_for_tiny_tolerances() {
    assert_eq!(required_n(&[0.1, 0.9], 1e-10, 0.001, 0.8), u64::MAX);
    assert!(required_n(&[0.1, 0.9], 1e-4, 0.001, 0.8) > 10_000_000);
    let n = required_n_for_leak(1e-17, 0.8);
    assert!(n > 10u64.pow(16), "{n}");
    assert_eq!(required_n_for_leak(1e-300, 0.8), u64::MAX);
}
