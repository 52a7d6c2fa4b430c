//! When each request is due. The rate is piecewise linear (stages ramp
//! linearly from the previous rate to their own), so the expected number of
//! requests by time `t` is the integral `Λ(t)`, piecewise quadratic. Request
//! `i` (0-based) is due at `Λ⁻¹(i)` for evenly spaced arrivals, or at
//! `Λ⁻¹(S_i)` with `S_i` a sum of unit exponentials for Poisson arrivals:
//! both are the same inverse, which keeps ramps exact in either mode.

use std::time::Duration;

use rand::SeedableRng;
use rand::rngs::SmallRng;
use rand_distr::{Distribution, Exp1};

/// One stage: over `duration`, the rate goes linearly from where the
/// previous stage ended (or the start rate) to `rps`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Stage {
    pub duration: Duration,
    pub rps: f64,
}

/// How arrivals are spread.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum Arrivals {
    /// Evenly spaced: request i at exactly Λ⁻¹(i) (wrk2's constant throughput).
    #[default]
    Uniform,
    /// A Poisson process with the same (time-varying) rate.
    Poisson,
}

#[derive(Debug, Clone, Copy)]
struct Segment {
    start: f64,
    duration: f64,
    r0: f64,
    r1: f64,
    /// Λ at the segment start.
    before: f64,
}

impl Segment {
    fn count(&self) -> f64 {
        0.5 * (self.r0 + self.r1) * self.duration
    }

    /// Seconds into the segment at which `n` requests (counted from its
    /// start) are due: solves r0·τ + (r1−r0)/(2d)·τ² = n.
    fn time_of(&self, n: f64) -> f64 {
        if n <= 0.0 {
            return 0.0;
        }
        let slope = (self.r1 - self.r0) / self.duration;
        if slope.abs() < 1e-12 {
            return n / self.r0;
        }
        // Stable root of (slope/2)τ² + r0·τ − n = 0.
        let disc = (self.r0 * self.r0 + 2.0 * slope * n).max(0.0);
        let tau = 2.0 * n / (self.r0 + disc.sqrt());
        tau.clamp(0.0, self.duration)
    }
}

/// The rate over the whole run.
#[derive(Debug, Clone)]
pub struct Schedule {
    segments: Vec<Segment>,
    total_duration: f64,
    total_count: f64,
}

impl Schedule {
    /// Stages starting from `start_rps`.
    pub fn new(start_rps: f64, stages: &[Stage]) -> Self {
        let mut segments = Vec::with_capacity(stages.len());
        let (mut t, mut before, mut r) = (0.0, 0.0, start_rps);
        for s in stages {
            let d = s.duration.as_secs_f64();
            if d > 0.0 {
                let seg = Segment {
                    start: t,
                    duration: d,
                    r0: r,
                    r1: s.rps,
                    before,
                };
                before += seg.count();
                segments.push(seg);
                t += d;
            }
            r = s.rps;
        }
        Self {
            segments,
            total_duration: t,
            total_count: before,
        }
    }

    /// A constant rate for a duration.
    pub fn constant(rps: f64, duration: Duration) -> Self {
        Self::new(rps, &[Stage { duration, rps }])
    }

    pub fn duration(&self) -> Duration {
        Duration::from_secs_f64(self.total_duration)
    }

    /// The expected number of requests over the whole run.
    pub fn expected_count(&self) -> f64 {
        self.total_count
    }

    /// The rate at `t` seconds.
    pub fn rate_at(&self, t: f64) -> f64 {
        self.segments
            .iter()
            .find(|s| t < s.start + s.duration)
            .map_or(0.0, |s| {
                s.r0 + (s.r1 - s.r0) * ((t - s.start) / s.duration).clamp(0.0, 1.0)
            })
    }

    /// Λ⁻¹(n): seconds from the start at which the n-th arrival (in
    /// expected-count units) is due; `None` once past the end of the run.
    pub fn time_of(&self, n: f64) -> Option<f64> {
        if n >= self.total_count {
            return None;
        }
        // Few segments: a linear scan is as fast as a search.
        let seg = self
            .segments
            .iter()
            .rev()
            .find(|s| s.before <= n && s.count() > 0.0)?;
        Some(seg.start + seg.time_of(n - seg.before))
    }

    /// The due times, in seconds from the start, of every request.
    pub fn arrivals(&self, arrivals: Arrivals, seed: u64) -> ArrivalIter<'_> {
        ArrivalIter {
            schedule: self,
            arrivals,
            rng: SmallRng::seed_from_u64(seed),
            next: 0.0,
        }
    }
}

/// Due times in order (seconds from the start).
#[derive(Debug)]
pub struct ArrivalIter<'a> {
    schedule: &'a Schedule,
    arrivals: Arrivals,
    rng: SmallRng,
    /// Position in expected-count units.
    next: f64,
}

impl Iterator for ArrivalIter<'_> {
    type Item = f64;

    fn next(&mut self) -> Option<f64> {
        let position = match self.arrivals {
            Arrivals::Uniform => self.next,
            Arrivals::Poisson => {
                let gap: f64 = Exp1.sample(&mut self.rng);
                self.next + gap
            }
        };
        let t = self.schedule.time_of(position)?;
        self.next = match self.arrivals {
            Arrivals::Uniform => self.next + 1.0,
            Arrivals::Poisson => position,
        };
        Some(t)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn secs(s: u64) -> Duration {
        Duration::from_secs(s)
    }

    #[test]
    fn constant_rate_spaces_requests_evenly() {
        let s = Schedule::constant(100.0, secs(2));
        let times: Vec<f64> = s.arrivals(Arrivals::Uniform, 1).collect();
        assert_eq!(times.len(), 200);
        assert!((times[1] - times[0] - 0.01).abs() < 1e-9);
        assert!((times[199] - 1.99).abs() < 1e-9);
    }

    #[test]
    fn ramp_counts_match_the_integral() {
        // 0 -> 100 rps over 10 s, then 100 for 10 s, then down to 0 over 10 s.
        let s = Schedule::new(
            0.0,
            &[
                Stage {
                    duration: secs(10),
                    rps: 100.0,
                },
                Stage {
                    duration: secs(10),
                    rps: 100.0,
                },
                Stage {
                    duration: secs(10),
                    rps: 0.0,
                },
            ],
        );
        assert!((s.expected_count() - 2000.0).abs() < 1e-9);
        let times: Vec<f64> = s.arrivals(Arrivals::Uniform, 1).collect();
        assert_eq!(times.len(), 2000);
        // In the first second of a 0->100 ramp: Λ(1) = 5 requests.
        assert_eq!(times.iter().filter(|t| **t < 1.0).count(), 5);
        // In the flat middle: 100 per second.
        assert_eq!(
            times.iter().filter(|t| (12.0..13.0).contains(*t)).count(),
            100
        );
        // Sorted.
        assert!(times.windows(2).all(|w| w[0] <= w[1]));
        assert!((s.rate_at(5.0) - 50.0).abs() < 1e-9);
        assert!((s.rate_at(25.0) - 50.0).abs() < 1e-9);
    }

    #[test]
    fn zero_rate_stage_sends_nothing() {
        let s = Schedule::new(
            0.0,
            &[
                Stage {
                    duration: secs(5),
                    rps: 0.0,
                },
                Stage {
                    duration: secs(1),
                    rps: 10.0,
                },
            ],
        );
        let times: Vec<f64> = s.arrivals(Arrivals::Uniform, 1).collect();
        assert!(times.iter().all(|t| *t >= 5.0), "{times:?}");
        assert_eq!(times.len(), 5);
    }

    #[test]
    fn poisson_has_the_right_mean_and_spread() {
        // 10 000 expected arrivals: count within 5 sd (sd = 100).
        let s = Schedule::constant(1000.0, secs(10));
        let n = s.arrivals(Arrivals::Poisson, 7).count() as f64;
        assert!((n - 10_000.0).abs() < 500.0, "{n}");
        // Gaps are exponential: the coefficient of variation is about 1
        // (uniform arrivals would give 0).
        let times: Vec<f64> = s.arrivals(Arrivals::Poisson, 7).collect();
        let gaps: Vec<f64> = times.windows(2).map(|w| w[1] - w[0]).collect();
        let mean = gaps.iter().sum::<f64>() / gaps.len() as f64;
        let var = gaps.iter().map(|g| (g - mean).powi(2)).sum::<f64>() / gaps.len() as f64;
        let cv = var.sqrt() / mean;
        assert!((cv - 1.0).abs() < 0.05, "cv {cv}");
        // Same seed, same arrivals.
        let again: Vec<f64> = s.arrivals(Arrivals::Poisson, 7).collect();
        assert_eq!(times, again);
    }
}
