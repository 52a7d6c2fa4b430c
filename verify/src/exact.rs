//! The seeded Monte Carlo multinomial test, for three or more targets when
//! an expected count is too small for the chi-square approximation (two
//! targets get the exact binomial test of [`crate::binomial`]).

use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use rand_distr::{Binomial, Distribution};

use crate::chisq::pearson_statistic;

/// Default number of Monte Carlo draws.
pub const DEFAULT_MC_DRAWS: u32 = 100_000;

/// Default seed of the Monte Carlo test: the same counts always give the
/// same p-value.
pub const DEFAULT_MC_SEED: u64 = 0x5EED_0F5B;

/// Monte Carlo goodness-of-fit test: draws `draws` multinomial samples of
/// the observed size at `probs` with a ChaCha8 generator seeded by `seed`,
/// and returns `(1 + #{X²_sim ≥ X²_obs}) / (1 + draws)`, an exact-level
/// p-value (never 0) whose Monte Carlo standard error is at most
/// `0.5 / √draws`.
pub fn monte_carlo(observed: &[u64], probs: &[f64], draws: u32, seed: u64) -> f64 {
    let n: u64 = observed.iter().sum();
    let stat = pearson_statistic(observed, probs);
    // Compare with a tiny slack so that ties in floating point count as ties.
    let threshold = stat * (1.0 - 1e-12);
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut sample = vec![0u64; observed.len()];
    let mut at_least = 0u64;
    for _ in 0..draws {
        multinomial(&mut rng, n, probs, &mut sample);
        if pearson_statistic(&sample, probs) >= threshold {
            at_least += 1;
        }
    }
    (1 + at_least) as f64 / (1 + u64::from(draws)) as f64
}

/// One multinomial draw of `n` at `probs` (positive, summing to 1) into
/// `out`, by conditional binomials: the count of category `i`
/// is `Binomial(remaining n, p_i / remaining p)`.
pub fn multinomial<R: rand::Rng + ?Sized>(rng: &mut R, n: u64, probs: &[f64], out: &mut [u64]) {
    let mut remaining_n = n;
    let mut remaining_p = 1.0;
    let last = probs.len() - 1;
    for (i, &p) in probs.iter().enumerate() {
        if i == last || remaining_n == 0 {
            out[i] = if i == last { remaining_n } else { 0 };
            remaining_n -= out[i];
            continue;
        }
        let q = (p / remaining_p).clamp(0.0, 1.0);
        out[i] = Binomial::new(remaining_n, q).map_or(0, |b| b.sample(rng));
        remaining_n -= out[i];
        remaining_p -= p;
    }
}
