//! What the judge judges: requests counted per target, optionally broken
//! down per path. Inline `--counts` fill only the per-target part; loadgen
//! reports (once they are read) and CloudWatch fill both or either.

use std::collections::BTreeMap;

use crate::error::InputError;

/// The largest total the judge accepts: 2^53, the last count an `f64`
/// holds exactly (shares, expected counts and statistics are computed in
/// `f64`). Nine quadrillion requests is years of any real traffic; a total
/// beyond it is a broken input, never a verdict.
pub const MAX_TOTAL: u64 = 1 << 53;

/// Requests served, per target label, with an optional per-path breakdown.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Counts {
    targets: Vec<(String, u64)>,
    paths: BTreeMap<String, BTreeMap<String, u64>>,
}

impl Counts {
    /// No requests.
    pub fn new() -> Counts {
        Counts::default()
    }

    /// Adds `count` requests served by `label` (counts of the same label add up).
    pub fn add(&mut self, label: &str, count: u64) -> &mut Counts {
        match self.targets.iter_mut().find(|(l, _)| l == label) {
            // Saturating: an absurd total is refused by `check`, never wrapped.
            Some((_, c)) => *c = c.saturating_add(count),
            None => self.targets.push((label.to_owned(), count)),
        }
        self
    }

    /// Records that `count` of the requests already counted for `label`
    /// were for `path` (a breakdown: it does not change the per-target totals).
    pub fn add_path(&mut self, path: &str, label: &str, count: u64) -> &mut Counts {
        let c = self
            .paths
            .entry(path.to_owned())
            .or_default()
            .entry(label.to_owned())
            .or_default();
        *c = c.saturating_add(count);
        self
    }

    /// Per-target totals in the order first seen.
    pub fn targets(&self) -> &[(String, u64)] {
        &self.targets
    }

    /// The total of one target, 0 when it was never seen.
    pub fn get(&self, label: &str) -> u64 {
        self.targets
            .iter()
            .find(|(l, _)| l == label)
            .map_or(0, |(_, c)| *c)
    }

    /// The per-path breakdown: path → target → count.
    pub fn paths(&self) -> &BTreeMap<String, BTreeMap<String, u64>> {
        &self.paths
    }

    /// All requests counted (saturating; [`Counts::check`] refuses totals
    /// past [`MAX_TOTAL`] before any statistic sees them).
    pub fn total(&self) -> u64 {
        self.targets
            .iter()
            .fold(0u64, |sum, (_, c)| sum.saturating_add(*c))
    }

    /// Refuses counts the statistics cannot take: a total over [`MAX_TOTAL`]
    /// (summed exactly, so nothing wraps on the way).
    pub fn check(&self) -> Result<(), InputError> {
        let total: u128 = self.targets.iter().map(|(_, c)| u128::from(*c)).sum();
        if total > u128::from(MAX_TOTAL) {
            return Err(InputError::CountsTooLarge {
                total,
                max: MAX_TOTAL,
            });
        }
        Ok(())
    }

    /// Parses `ecs=1042,lambda=8958`.
    pub fn parse_inline(text: &str) -> Result<Counts, InputError> {
        let mut counts = Counts::new();
        for (label, count) in parse_pairs(text)? {
            counts.add(&label, count);
        }
        Ok(counts)
    }
}

/// Parses a `LABEL=NUMBER,LABEL=NUMBER` list; labels must be unique.
pub fn parse_pairs(text: &str) -> Result<Vec<(String, u64)>, InputError> {
    let bad = |reason: String| InputError::BadList {
        list: text.to_owned(),
        reason,
    };
    if text.trim().is_empty() {
        return Err(bad(
            "empty list; expected LABEL=NUMBER,LABEL=NUMBER".to_owned()
        ));
    }
    let mut pairs: Vec<(String, u64)> = Vec::new();
    for item in text.split(',') {
        let item = item.trim();
        let Some((label, number)) = item.split_once('=') else {
            return Err(bad(format!("{item:?} is not LABEL=NUMBER")));
        };
        let label = label.trim();
        if label.is_empty() {
            return Err(bad(format!("{item:?} has an empty label")));
        }
        let number: u64 = number.trim().parse().map_err(|_| {
            bad(format!(
                "{:?} is not a non-negative whole number",
                number.trim()
            ))
        })?;
        if pairs.iter().any(|(l, _)| l == label) {
            return Err(InputError::DuplicateLabel {
                label: label.to_owned(),
            });
        }
        pairs.push((label.to_owned(), number));
    }
    Ok(pairs)
}
