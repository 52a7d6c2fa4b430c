//! The run's timeline cut into windows of whole seconds, one way for every
//! reader: the per-window split test, the scaling judge's load series and
//! the HTML charts. Window `i` holds the seconds `[i·w, (i+1)·w)` by
//! intended send time; the last one may be shorter, and a rate divides by
//! the seconds a window really has.

use weighbridge_report::{Report, Second};

/// `seconds` of run in windows of `window_s` seconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Windows {
    /// Seconds per window (at least 1).
    pub window_s: u64,
    /// Seconds of run covered.
    pub seconds: u64,
}

impl Windows {
    /// `seconds` of run in windows of `window_s` (0 is taken as 1).
    pub fn new(seconds: u64, window_s: u64) -> Windows {
        Windows {
            window_s: window_s.max(1),
            seconds,
        }
    }

    /// The report's timeline, to its last second, in windows of `window_s`.
    pub fn of_timeline(report: &Report, window_s: u64) -> Windows {
        let seconds = report.timeline.last().map_or(0, |s| s.t.saturating_add(1));
        Windows::new(seconds, window_s)
    }

    /// How many windows (a partial last one included).
    pub fn count(&self) -> usize {
        usize::try_from(self.seconds.div_ceil(self.window_s)).unwrap_or(usize::MAX)
    }

    /// The window second `t` falls in, `None` past the end.
    pub fn index(&self, t: u64) -> Option<usize> {
        usize::try_from(t / self.window_s)
            .ok()
            .filter(|&i| i < self.count())
    }

    /// First second of window `i`.
    pub fn start_s(&self, i: usize) -> u64 {
        i as u64 * self.window_s
    }

    /// Seconds window `i` really covers (at least 1): a rate's divisor.
    pub fn length_s(&self, i: usize) -> u64 {
        self.seconds
            .saturating_sub(self.start_s(i))
            .clamp(1, self.window_s)
    }

    /// `value` of each second, summed per window.
    pub fn sums(&self, report: &Report, value: impl Fn(&Second) -> u64) -> Vec<u64> {
        let mut sums = vec![0u64; self.count()];
        for s in &report.timeline {
            if let Some(w) = self.index(s.t) {
                sums[w] += value(s);
            }
        }
        sums
    }

    /// Per-window sums as rates per second.
    pub fn rates(&self, sums: &[u64]) -> Vec<f64> {
        sums.iter()
            .enumerate()
            .map(|(i, &n)| n as f64 / self.length_s(i) as f64)
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_last_window_is_short_and_rates_divide_by_its_length() {
        let w = Windows::new(25, 10);
        assert_eq!(w.count(), 3);
        assert_eq!(
            (w.index(0), w.index(19), w.index(30)),
            (Some(0), Some(1), None)
        );
        assert_eq!((w.length_s(0), w.length_s(2)), (10, 5));
        assert_eq!(w.rates(&[100, 50, 50]), [10.0, 5.0, 10.0]);
        assert_eq!(Windows::new(0, 0).count(), 0);
    }
}
