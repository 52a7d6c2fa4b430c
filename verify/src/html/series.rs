//! A report's timeline cut into chart windows: rates per window, and the
//! latency percentiles that stay honest when seconds are merged.

use std::collections::{BTreeMap, BTreeSet};

use weighbridge_report::Report;

use crate::windows::Windows;

/// Points per chart the window is chosen for: one point per second on short
/// runs, coarser on long ones so a line stays readable.
const POINTS: u64 = 120;

/// A report's timeline in chart windows.
pub(super) struct Series {
    pub(super) window_s: u64,
    /// Start of each window, seconds since the run started.
    pub(super) starts: Vec<f64>,
    /// Requests/s scheduled in each window.
    pub(super) scheduled: Vec<f64>,
    /// Label → responses per second in each window.
    pub(super) served: BTreeMap<String, Vec<f64>>,
    /// Requests/s sent that got no response (connect errors, timeouts).
    pub(super) no_response: Vec<f64>,
    /// Requests/s dropped (`--max-in-flight`).
    pub(super) dropped: Vec<f64>,
    /// Label → (p50, p99) per window, `None` for windows without ok
    /// responses: p50 is the response-weighted mean of the seconds' p50, p99
    /// the worst second's p99 (a spike stays visible in a long window).
    pub(super) latency: BTreeMap<String, Vec<Option<(f64, f64)>>>,
}

/// Per-window latency accumulator: weighted p50 sum, weight, worst p99.
#[derive(Clone, Copy, Default)]
struct LatencyAcc {
    p50_sum: f64,
    weight: f64,
    p99_max: Option<f64>,
}

impl Series {
    pub(super) fn from_report(report: &Report) -> Self {
        let seconds = Windows::of_timeline(report, 1).seconds;
        let cut = Windows::new(seconds, seconds.div_ceil(POINTS));
        let (window_s, windows) = (cut.window_s, cut.count());
        let labels: BTreeSet<&String> = report
            .timeline
            .iter()
            .flat_map(|s| s.targets.keys())
            .collect();
        let mut scheduled = vec![0.0; windows];
        let mut no_response = vec![0.0; windows];
        let mut dropped = vec![0.0; windows];
        let mut served: BTreeMap<String, Vec<f64>> = labels
            .iter()
            .map(|l| ((*l).clone(), vec![0.0; windows]))
            .collect();
        let mut lat: BTreeMap<String, Vec<LatencyAcc>> = BTreeMap::new();
        let per_target = report
            .timeline
            .iter()
            .any(|s| !s.target_latency_ms.is_empty());
        for s in &report.timeline {
            let Some(w) = cut.index(s.t) else {
                continue;
            };
            scheduled[w] += s.scheduled as f64;
            dropped[w] += s.dropped as f64;
            let answered: u64 = s.targets.values().sum();
            no_response[w] += s.sent.saturating_sub(answered) as f64;
            for (label, n) in &s.targets {
                if let Some(v) = served.get_mut(label) {
                    v[w] += *n as f64;
                }
            }
            let mut add = |label: &str, p50: f64, p99: f64, weight: u64| {
                let acc = &mut lat
                    .entry(label.to_owned())
                    .or_insert_with(|| vec![LatencyAcc::default(); windows])[w];
                let weight = weight.max(1) as f64;
                acc.p50_sum += p50 * weight;
                acc.weight += weight;
                acc.p99_max = Some(acc.p99_max.map_or(p99, |m| m.max(p99)));
            };
            if per_target {
                for (label, l) in &s.target_latency_ms {
                    add(
                        label,
                        l.p50,
                        l.p99,
                        s.targets.get(label).copied().unwrap_or(0),
                    );
                }
            } else if let Some(l) = s.latency_ms {
                add("all targets", l.p50, l.p99, s.ok);
            }
        }
        let per_second = |v: &mut Vec<f64>| {
            for (i, x) in v.iter_mut().enumerate() {
                *x /= cut.length_s(i) as f64;
            }
        };
        per_second(&mut scheduled);
        per_second(&mut no_response);
        per_second(&mut dropped);
        served.values_mut().for_each(per_second);
        let latency = lat
            .into_iter()
            .map(|(label, v)| {
                let points = v
                    .into_iter()
                    .map(|a| a.p99_max.map(|p99| (a.p50_sum / a.weight, p99)))
                    .collect();
                (label, points)
            })
            .collect();
        Series {
            window_s,
            starts: (0..windows).map(|i| cut.start_s(i) as f64).collect(),
            scheduled,
            served,
            no_response,
            dropped,
            latency,
        }
    }

    pub(super) fn end(&self) -> f64 {
        self.starts.last().map_or(1.0, |s| s + self.window_s as f64)
    }
}

#[cfg(test)]
mod tests {
    use weighbridge_report::SecondLatency;

    use super::*;
    use weighbridge_report::synth::Scenario;

    fn second(t: u64, ecs: u64, p99: f64) -> weighbridge_report::Second {
        let mut s = weighbridge_report::Second {
            t,
            scheduled: ecs + 2,
            sent: ecs + 1,
            ok: ecs,
            dropped: 1,
            failed: 1,
            ..Default::default()
        };
        s.targets.insert("ecs".into(), ecs);
        let l = SecondLatency {
            p50: 1.0,
            p90: 2.0,
            p99,
        };
        s.latency_ms = Some(l);
        s.target_latency_ms.insert("ecs".into(), l);
        s
    }

    #[test]
    fn windows_keep_every_request_and_the_worst_p99() {
        // 240 s: windows of 2 s (120 points). Second 10 has a 90 ms spike.
        let mut report = Scenario::constant(240, 10, &[("ecs", 1.0)], 1)
            .report()
            .expect("report");
        report.timeline = (0..240)
            .map(|t| second(t, 10, if t == 10 { 90.0 } else { 5.0 }))
            .collect();
        let s = Series::from_report(&report);
        assert_eq!(s.window_s, 2);
        assert_eq!(s.starts.len(), 120);
        assert!((s.scheduled[0] - 12.0).abs() < 1e-9, "{}", s.scheduled[0]);
        assert!((s.served["ecs"][0] - 10.0).abs() < 1e-9);
        // sent 11, answered 10: one a second without a response; one dropped.
        assert!((s.no_response[0] - 1.0).abs() < 1e-9);
        assert!((s.dropped[0] - 1.0).abs() < 1e-9);
        // The spike of second 10 stays at full height in window 5.
        assert_eq!(s.latency["ecs"][5], Some((1.0, 90.0)));
        assert_eq!(s.latency["ecs"][4], Some((1.0, 5.0)));
    }
}
