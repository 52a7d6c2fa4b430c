//! The judge's options: alpha, the tolerance bands and the Monte Carlo
//! test's draws, with their range checks.

use crate::error::InputError;
use crate::exact::{DEFAULT_MC_DRAWS, DEFAULT_MC_SEED};
use crate::tolerance::Tolerance;

/// Most Monte Carlo draws `--mc-draws` accepts, so the test answers in
/// seconds whatever is asked.
pub const MAX_MC_DRAWS: u32 = 10_000_000;

/// The thresholds of the judge.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SplitOptions {
    /// The bound on each error (false PASS, false FAIL): the simultaneous
    /// error rate of the intervals, and the level of the sample-ratio test.
    /// Default 0.001.
    pub alpha: f64,
    /// How far a share may be from its weight: 1 pp or 50 % of the
    /// expected share, whichever is tighter, by default.
    pub tolerance: Tolerance,
    /// Draws of the Monte Carlo test. Default 100 000.
    pub mc_draws: u32,
    /// Seed of the Monte Carlo test.
    pub mc_seed: u64,
}

impl Default for SplitOptions {
    fn default() -> Self {
        SplitOptions {
            alpha: 0.001,
            tolerance: Tolerance::default(),
            mc_draws: DEFAULT_MC_DRAWS,
            mc_seed: DEFAULT_MC_SEED,
        }
    }
}

impl SplitOptions {
    /// Checks every option's range.
    pub fn validate(&self) -> Result<(), InputError> {
        if !(self.alpha > 0.0 && self.alpha < 0.5) {
            return Err(InputError::BadOption {
                name: "alpha",
                value: self.alpha,
                reason: "must be more than 0 and less than 0.5",
            });
        }
        self.tolerance.validate()?;
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
