//! Rendering a verdict: a short table for people, JSON for machines.

use std::fmt::Write as _;

use serde::Serialize;

use crate::split::{SplitReport, TestUsed};

/// Version of the JSON output of `verify split`.
pub const SPLIT_JSON_SCHEMA: &str = "weighbridge.verify.split/v1";

/// Output formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// A readable table and the verdict line.
    Text,
    /// One JSON object (see docs/verify.md).
    Json,
}

#[derive(Serialize)]
struct JsonOut<'a> {
    schema: &'static str,
    #[serde(flatten)]
    report: &'a SplitReport,
}

/// The report as one JSON object, `schema` first.
pub fn json(report: &SplitReport) -> String {
    let out = JsonOut {
        schema: SPLIT_JSON_SCHEMA,
        report,
    };
    serde_json::to_string_pretty(&out).unwrap_or_else(|e| format!("{{\"error\": \"{e}\"}}"))
}

fn pct(x: f64) -> String {
    format!("{:.2} %", 100.0 * x)
}

fn p_text(p: f64) -> String {
    if p == 0.0 {
        "< 1e-300".to_owned()
    } else if p < 1e-4 {
        format!("{p:.3e}")
    } else {
        format!("{p:.4}")
    }
}

/// The report as a table, the test line, notes and the verdict line.
pub fn text(report: &SplitReport) -> String {
    let mut out = String::new();
    let label_w = report
        .targets
        .iter()
        .map(|t| t.label.len())
        .max()
        .unwrap_or(6)
        .max(6);
    let conf = format!("{:.3} %", 100.0 * report.interval_confidence);
    let _ = writeln!(
        out,
        "{:<label_w$}  {:>6}  {:>10}  {:>8}  {:>8}  {:>9}  interval ({conf})",
        "target", "weight", "requests", "share", "expected", "deviation"
    );
    for t in &report.targets {
        let weight = t.weight.map_or("?".to_owned(), |w| w.to_string());
        let interval = t.interval.map_or(String::new(), |iv| {
            format!("[{}, {}]", pct(iv.low), pct(iv.high))
        });
        let _ = writeln!(
            out,
            "{:<label_w$}  {:>6}  {:>10}  {:>8}  {:>8}  {:>+6.2} pp  {interval}",
            t.label,
            weight,
            t.observed,
            pct(t.share),
            pct(t.expected_share),
            t.deviation_pp,
        );
    }
    out.push('\n');
    match (report.test, report.statistic, report.p_value) {
        (TestUsed::None, _, _) | (_, None, _) | (_, _, None) => {
            let _ = writeln!(out, "test:     none (no split to test)");
        }
        (test, Some(stat), Some(p)) => {
            let _ = writeln!(
                out,
                "test:     {}: X² = {stat:.3}, df = {}, p = {} (alpha {})",
                test.describe(),
                report.df,
                p_text(p),
                report.alpha
            );
        }
    }
    let _ = writeln!(
        out,
        "requests: {} in the weighted test, {} counted, {} on rule paths",
        report.n, report.total, report.rule_routed
    );
    if let Some(power) = report.power {
        let _ = writeln!(
            out,
            "power:    {:.3} to detect a {} pp deviation (required {})",
            power.achieved, report.tolerance_pp, power.target
        );
    }
    for note in &report.notes {
        let _ = writeln!(out, "note:     {note}");
    }
    let _ = writeln!(
        out,
        "verdict:  {} — {}",
        report.verdict.as_str(),
        report.reason
    );
    if let Some(n) = report.required_n {
        let basis = report.required_n_basis.as_deref().unwrap_or("");
        let _ = writeln!(
            out,
            "          about {n} requests would decide it ({basis})"
        );
    }
    out
}
