//! The practical tolerance of a split: how far a target's share may be
//! from its weight before it matters.
//!
//! Two bounds, and each target's band is the tighter of them:
//! - **absolute**, in percentage points of share (`--tolerance 1pp`, or a
//!   bare number): right for the big targets, where 1 pp of 90 % is noise;
//! - **relative**, a fraction of the target's expected share
//!   (`--tolerance 50%`): right for the small ones, where an absolute 1 pp
//!   would let a 1 % canary receive nothing at all and still be "within
//!   1 pp".
//!
//! The defaults, 1 pp and 50 %, give 90/10 and 50/50 their ±1 pp bands and a
//! 1 % canary the band 0.5–1.5 %, so a dead canary FAILs once its silence
//! cannot be chance (about 1 700 requests at alpha 0.001).

use std::fmt;
use std::str::FromStr;

use crate::error::InputError;
use crate::intervals::Interval;

/// Default absolute tolerance, percentage points.
pub const DEFAULT_ABSOLUTE_PP: f64 = 1.0;

/// Default relative tolerance, percent of the expected share.
pub const DEFAULT_RELATIVE_PCT: f64 = 50.0;

/// Both bounds of the tolerance.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Tolerance {
    /// Percentage points of share.
    pub absolute_pp: f64,
    /// Percent of the expected share.
    pub relative_pct: f64,
}

impl Default for Tolerance {
    fn default() -> Self {
        Tolerance {
            absolute_pp: DEFAULT_ABSOLUTE_PP,
            relative_pct: DEFAULT_RELATIVE_PCT,
        }
    }
}

/// One `--tolerance` value: which bound it sets.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum ToleranceBound {
    /// `1pp` or `1`: percentage points.
    AbsolutePp(f64),
    /// `50%`: percent of the expected share.
    RelativePct(f64),
}

impl FromStr for ToleranceBound {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let t = text.trim();
        let (number, relative) = if let Some(n) = t.strip_suffix('%') {
            (n, true)
        } else if let Some(n) = t.strip_suffix("pp") {
            (n, false)
        } else {
            (t, false)
        };
        let value: f64 = number.trim().parse().map_err(|_| {
            format!("{text:?} is not a tolerance; write 1pp (percentage points) or 50% (of the expected share)")
        })?;
        Ok(if relative {
            ToleranceBound::RelativePct(value)
        } else {
            ToleranceBound::AbsolutePp(value)
        })
    }
}

impl Tolerance {
    /// The defaults, with each bound given replacing its default.
    pub fn from_bounds(bounds: &[ToleranceBound]) -> Tolerance {
        let mut t = Tolerance::default();
        for b in bounds {
            match *b {
                ToleranceBound::AbsolutePp(v) => t.absolute_pp = v,
                ToleranceBound::RelativePct(v) => t.relative_pct = v,
            }
        }
        t
    }

    /// Refuses bounds that are not finite or out of range.
    pub fn validate(&self) -> Result<(), InputError> {
        if !(self.absolute_pp > 0.0 && self.absolute_pp < 50.0) {
            return Err(InputError::BadOption {
                name: "tolerance",
                value: self.absolute_pp,
                reason: "an absolute tolerance must be more than 0 and less than 50 percentage points",
            });
        }
        if !(self.relative_pct > 0.0 && self.relative_pct <= 100.0) {
            return Err(InputError::BadOption {
                name: "tolerance",
                value: self.relative_pct,
                reason: "a relative tolerance must be more than 0 % and at most 100 % of the expected share",
            });
        }
        Ok(())
    }

    /// The half-width, as a share, for a target expected at `share`.
    pub fn half_width(&self, share: f64) -> f64 {
        (self.absolute_pp / 100.0).min(self.relative_pct / 100.0 * share)
    }

    /// The band of shares that are "as configured" for a target expected at `share`.
    pub fn band(&self, share: f64) -> Interval {
        let t = self.half_width(share);
        Interval {
            low: (share - t).max(0.0),
            high: (share + t).min(1.0),
        }
    }
}

impl fmt::Display for Tolerance {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} pp or {} % of the expected share, whichever is tighter",
            self.absolute_pp, self.relative_pct
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_tighter_bound_makes_the_band() {
        let t = Tolerance::default();
        let big = t.band(0.9);
        assert!((big.low - 0.89).abs() < 1e-12 && (big.high - 0.91).abs() < 1e-12);
        let small = t.band(0.01);
        assert!((small.low - 0.005).abs() < 1e-12 && (small.high - 0.015).abs() < 1e-12);
    }

    #[test]
    fn values_parse_with_their_unit() {
        assert_eq!("2".parse(), Ok(ToleranceBound::AbsolutePp(2.0)));
        assert_eq!("0.5pp".parse(), Ok(ToleranceBound::AbsolutePp(0.5)));
        assert_eq!("20%".parse(), Ok(ToleranceBound::RelativePct(20.0)));
        assert!("lots".parse::<ToleranceBound>().is_err());
    }

    #[test]
    fn non_finite_bounds_are_refused() {
        for t in [
            Tolerance {
                absolute_pp: f64::NAN,
                ..Tolerance::default()
            },
            Tolerance {
                relative_pct: f64::INFINITY,
                ..Tolerance::default()
            },
            Tolerance {
                relative_pct: 0.0,
                ..Tolerance::default()
            },
        ] {
            assert!(t.validate().is_err(), "{t:?}");
        }
    }
}
