//! Failed requests, never silently dropped: per target (responses with a
//! 4xx/5xx status), without a target (connect errors, timeouts and other
//! failures that got no response, so no `x-served-by`), and the
//! `--max-error-rate` check over both.

use serde::Serialize;
use weighbridge_report::{Failures, Report};

/// One target's failures.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TargetErrors {
    /// Target label.
    pub target: String,
    /// Responses from it.
    pub requests: u64,
    /// Of which failed.
    pub failed: u64,
    /// `failed / requests` (0 with no requests).
    pub rate: f64,
}

/// Failures of the run.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ErrorReport {
    /// Requests sent.
    pub sent: u64,
    /// Sent requests that failed, with or without a target.
    pub failed: u64,
    /// `failed / sent`.
    pub rate: f64,
    /// Failures without a response, so without a target (connect, timeout, other).
    pub without_target: u64,
    /// Failures by class.
    pub by_class: Failures,
    /// Scheduled requests loadgen never sent (not failures of the target,
    /// but requests the judge did not see).
    pub dropped: u64,
    /// Per target.
    pub targets: Vec<TargetErrors>,
    /// The threshold (`--max-error-rate`), when given.
    pub max_error_rate: Option<f64>,
    /// What exceeded it: `"all requests"` and/or target labels.
    pub exceeded: Vec<String>,
}

fn rate(failed: u64, of: u64) -> f64 {
    if of == 0 {
        0.0
    } else {
        failed as f64 / of as f64
    }
}

/// The failures of `report`, checked against `max_error_rate` (a fraction)
/// when given: the overall rate (every failure, with or without a target,
/// over every request sent) and each target's rate must not exceed it.
pub fn errors(report: &Report, max_error_rate: Option<f64>) -> ErrorReport {
    let targets: Vec<TargetErrors> = report
        .targets
        .iter()
        .map(|(label, t)| TargetErrors {
            target: label.clone(),
            requests: t.requests,
            failed: t.failed,
            rate: rate(t.failed, t.requests),
        })
        .collect();
    let with_target: u64 = targets.iter().map(|t| t.failed).sum();
    let totals = &report.totals;
    let overall = rate(totals.failed, totals.sent);
    let mut exceeded = Vec::new();
    if let Some(max) = max_error_rate {
        if overall > max {
            exceeded.push("all requests".to_owned());
        }
        exceeded.extend(
            targets
                .iter()
                .filter(|t| t.rate > max)
                .map(|t| t.target.clone()),
        );
    }
    ErrorReport {
        sent: totals.sent,
        failed: totals.failed,
        rate: overall,
        without_target: totals.failed.saturating_sub(with_target),
        by_class: totals.failures.clone(),
        dropped: totals.dropped,
        targets,
        max_error_rate,
        exceeded,
    }
}

impl ErrorReport {
    /// Why the run fails the error-rate check, if it does.
    pub fn failure_reason(&self) -> Option<String> {
        let max = self.max_error_rate?;
        if self.exceeded.is_empty() {
            return None;
        }
        let mut parts = Vec::new();
        if self.exceeded.iter().any(|e| e == "all requests") {
            parts.push(format!(
                "{} of {} requests failed ({:.3} %; {} without a response: connect {}, timeout {}, other {})",
                self.failed,
                self.sent,
                100.0 * self.rate,
                self.without_target,
                self.by_class.connect,
                self.by_class.timeout,
                self.by_class.other
            ));
        }
        for t in self
            .targets
            .iter()
            .filter(|t| self.exceeded.contains(&t.target))
        {
            parts.push(format!(
                "{} failed {} of {} ({:.3} %)",
                t.target,
                t.failed,
                t.requests,
                100.0 * t.rate
            ));
        }
        Some(format!(
            "error rate above --max-error-rate {} %: {}",
            100.0 * max,
            parts.join("; ")
        ))
    }
}
