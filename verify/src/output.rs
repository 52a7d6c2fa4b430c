//! Rendering a verdict of any judge: a short table for people, JSON for
//! machines. (Markdown and JUnit are in `ci`, the HTML page in `html`.)

use std::fmt::Write as _;

use serde::Serialize;

use crate::compare::CompareReport;
use crate::fmt::{p_text, pct};
use crate::scaling::{Direction, ScalingReport};
use crate::split::{ScheduleReport, SplitReport, StepVerdict, TestUsed, Unit};

/// Version of the JSON output of `verify split`.
pub const SPLIT_JSON_SCHEMA: &str = "weighbridge.verify.split/v1";

/// Version of the JSON output of `verify scaling`.
pub const SCALING_JSON_SCHEMA: &str = "weighbridge.verify.scaling/v1";

/// Version of the JSON output of `verify split --schedule`.
pub const SCHEDULE_JSON_SCHEMA: &str = "weighbridge.verify.schedule/v1";

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

#[derive(Serialize)]
struct ScalingJsonOut<'a> {
    schema: &'static str,
    #[serde(flatten)]
    report: &'a ScalingReport,
}

/// The compare report as one JSON object (its `schema` is a field of the report).
pub fn compare_json(report: &CompareReport) -> String {
    serde_json::to_string_pretty(report).unwrap_or_default()
}

/// The scaling report as one JSON object, `schema` first.
pub fn scaling_json(report: &ScalingReport) -> String {
    let out = ScalingJsonOut {
        schema: SCALING_JSON_SCHEMA,
        report,
    };
    serde_json::to_string_pretty(&out).unwrap_or_else(|e| format!("{{\"error\": \"{e}\"}}"))
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
        "{:<label_w$}  {:>6}  {:>10}  {:>8}  {:>8}  {:>9}  {:<22}  band",
        "target",
        "weight",
        "requests",
        "share",
        "expected",
        "deviation",
        format!("interval ({conf})")
    );
    for t in &report.targets {
        let weight = t.weight.map_or("?".to_owned(), |w| w.to_string());
        let interval = t.interval.map_or(String::new(), |iv| {
            format!("[{}, {}]", pct(iv.low), pct(iv.high))
        });
        let band = t.band.map_or(String::new(), |b| {
            format!("[{}, {}]", pct(b.low), pct(b.high))
        });
        let _ = writeln!(
            out,
            "{:<label_w$}  {:>6}  {:>10}  {:>8}  {:>8}  {:>+6.2} pp  {interval:<22}  {band}",
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
                "test:     {} against the exact weights: X² = {stat:.3}, df = {}, p = {} (alpha {})",
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
    if report.unit == Unit::Clients {
        let _ = writeln!(
            out,
            "unit:     clients (sticky): each client counted once, by its first target"
        );
    }
    if let Some(w) = &report.windows {
        match &w.test {
            Some(h) => {
                let _ = writeln!(
                    out,
                    "windows:  {} windows of {} s ({}): heterogeneity X² = {:.1}, df = {}, p = {}, dispersion {:.2}",
                    h.rows,
                    w.window_s,
                    w.from,
                    h.statistic,
                    h.df,
                    p_text(h.p_value),
                    h.dispersion
                );
            }
            None => {
                let _ = writeln!(
                    out,
                    "windows:  fewer than two windows of {} s with requests: not tested",
                    w.window_s
                );
            }
        }
    }
    if let Some(c) = &report.clients {
        let disp = c.heterogeneity.as_ref().map_or(String::new(), |h| {
            format!(
                "; across clients X² = {:.1}, df = {}, p = {}, dispersion {:.2}",
                h.statistic,
                h.df,
                p_text(h.p_value),
                h.dispersion
            )
        });
        let _ = writeln!(
            out,
            "clients:  {}, {} served by more than one target{disp}",
            c.clients, c.switched
        );
    }
    if let Some(e) = &report.errors {
        let per: Vec<String> = e
            .targets
            .iter()
            .map(|t| format!("{} {}/{}", t.target, t.failed, t.requests))
            .collect();
        let limit = e
            .max_error_rate
            .map_or(String::new(), |m| format!(" (limit {} %)", 100.0 * m));
        let _ = writeln!(
            out,
            "errors:   {} of {} failed ({:.3} %){limit}: {}; {} without a response",
            e.failed,
            e.sent,
            100.0 * e.rate,
            if per.is_empty() {
                "no target".to_owned()
            } else {
                per.join(", ")
            },
            e.without_target
        );
    }
    let _ = writeln!(
        out,
        "bands:    {} pp or {} % of the expected share, whichever is tighter",
        report.tolerance_pp, report.tolerance_relative_pct
    );
    for note in &report.notes {
        let _ = writeln!(out, "note:     {note}");
    }
    if let Some(s) = &report.sequential {
        let when = match s.stopped_at_s {
            Some(t) => format!("would have stopped at {t} s, after {} requests", s.n),
            None => format!("never decided, {} requests at the last look", s.n),
        };
        let _ = writeln!(
            out,
            "sequential: {} looks, one a second: {when} (fixed N on the whole run: {}){}",
            s.looks,
            s.fixed_n_verdict.as_str(),
            s.srm_p_value
                .map(|p| format!("; SRM p = {}", crate::fmt::p_text(p)))
                .unwrap_or_default()
        );
    }
    let _ = writeln!(
        out,
        "verdict:  {} — {}",
        report.verdict.as_str(),
        report.reason
    );
    if let (None, Some(basis)) = (report.required_n, &report.required_n_basis) {
        let _ = writeln!(out, "          {basis}");
    }
    if let Some(n) = report.required_n {
        let basis = report.required_n_basis.as_deref().unwrap_or("");
        if n >= crate::counts::MAX_TOTAL {
            let _ = writeln!(
                out,
                "          no run could send enough requests to decide it ({basis}): the tolerance is too small"
            );
        } else {
            let _ = writeln!(
                out,
                "          about {n} requests would decide it ({basis})"
            );
        }
    }
    out
}

/// The scaling report as text: load changes, each target's instances and
/// events, every check, the verdict.
pub fn scaling_text(report: &ScalingReport) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "run:      {} s, windows of {} s, expecting {}",
        report.duration_s,
        report.window_s,
        serde_json::to_value(report.expect)
            .ok()
            .and_then(|v| v.as_str().map(str::to_owned))
            .unwrap_or_default()
    );
    let load: Vec<String> = report
        .load_series
        .iter()
        .map(|r| format!("{r:.0}"))
        .collect();
    let _ = writeln!(out, "load:     {} rps per window", load.join(" "));
    for l in &report.load {
        let _ = writeln!(
            out,
            "          {} at {} s: {:.0} → {:.0} rps",
            arrow(l.direction, "rise", "fall"),
            l.at_s,
            l.from_rps,
            l.to_rps
        );
    }
    for t in &report.targets {
        let series: Vec<String> = t.series.iter().map(u64::to_string).collect();
        let _ = writeln!(
            out,
            "\n{}:  {} instances seen, {} at start, min {}, max {}",
            t.target, t.instances_seen, t.initial, t.min, t.max
        );
        let _ = writeln!(out, "  instances per window: {}", series.join(" "));
        for e in &t.events {
            let _ = writeln!(
                out,
                "  {} at {} s (until {} s): {} → {}, {} failed requests nearby",
                arrow(e.direction, "scale-out", "scale-in"),
                e.start_s,
                e.end_s,
                e.from,
                e.to,
                e.failed_nearby
            );
        }
        for r in t.scale_out_reactions.iter().chain(&t.scale_in_reactions) {
            let l = &report.load[r.load_change];
            let _ = match r.reaction_s {
                Some(dt) => writeln!(
                    out,
                    "  reaction to the load {} at {} s: {dt} s",
                    arrow(l.direction, "rise", "fall"),
                    l.at_s
                ),
                None => writeln!(
                    out,
                    "  reaction to the load {} at {} s: none",
                    arrow(l.direction, "rise", "fall"),
                    l.at_s
                ),
            };
        }
    }
    if let Some(aws) = &report.aws {
        aws_text(aws, &mut out);
    }
    if !report.checks.is_empty() {
        out.push('\n');
    }
    for c in &report.checks {
        let _ = writeln!(
            out,
            "check:    {:<12} {} {}: {}",
            c.verdict.as_str(),
            c.target,
            c.name,
            c.detail
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
    out
}

fn arrow(d: Direction, up: &'static str, down: &'static str) -> &'static str {
    match d {
        Direction::Up => up,
        Direction::Down => down,
    }
}

/// The AWS scaling activities of `verify scaling --ecs-cluster`.
fn aws_text(aws: &crate::scaling::AwsScaling, out: &mut String) {
    let _ = writeln!(
        out,
        "\naws:      ECS service {} (cluster {}) as target {}: desired {}, running {}, pending {} now",
        aws.service, aws.cluster, aws.target, aws.desired, aws.running, aws.pending
    );
    if aws.activities.is_empty() {
        let _ = writeln!(out, "  no scaling activity during the run");
    }
    for a in &aws.activities {
        let seen = match (a.seen_at_s, a.lag_s) {
            (Some(at), Some(lag)) => format!("seen by clients at {at} s, after {lag} s"),
            _ => "not seen by clients".to_owned(),
        };
        let _ = writeln!(
            out,
            "  activity at {} s: desired {}, {}, {seen} ({})",
            a.at_s,
            crate::scaling::desired_text(a),
            a.status,
            a.cause
        );
    }
    for e in &aws.service_events {
        let _ = writeln!(out, "  ECS event at {} s: {}", e.at_s, e.message);
    }
}

/// The compare verdict as a table: both sides, the tests, notes, the verdict.
pub fn compare_text(r: &CompareReport) -> String {
    let mut s = String::new();
    let _ = writeln!(
        s,
        "{:<10} {:<12} {:>9} {:>8} {:>9} {:>10} {:>10}",
        "side", "target", "requests", "failed", "errors", "p50", "p99"
    );
    for (name, x) in [("baseline", &r.baseline), ("candidate", &r.candidate)] {
        let _ = writeln!(
            s,
            "{name:<10} {:<12} {:>9} {:>8} {:>8.3}% {:>8.1}ms {:>8.1}ms",
            x.label,
            x.requests,
            x.failed,
            100.0 * x.error_rate,
            x.p50_ms,
            x.p99_ms
        );
    }
    let _ = writeln!(
        s,
        "\nerrors:   {:+.3} pp, Fisher exact (one-sided) p = {:.3e}",
        r.error_increase_pp, r.error_p_value
    );
    let _ = writeln!(
        s,
        "latency:  p99 {:+.1} %, Mann-Whitney (one-sided) p = {:.3e}",
        100.0 * r.p99_increase,
        r.latency_p_value
    );
    for n in &r.notes {
        let _ = writeln!(s, "note:     {n}");
    }
    let _ = writeln!(s, "verdict:  {} — {}", r.verdict.as_str(), r.reason);
    s
}

#[derive(Serialize)]
struct ScheduleJsonOut<'a> {
    schema: &'static str,
    #[serde(flatten)]
    report: &'a ScheduleReport,
}

/// The schedule report as one JSON object, `schema` first.
pub fn schedule_json(report: &ScheduleReport) -> String {
    let out = ScheduleJsonOut {
        schema: SCHEDULE_JSON_SCHEMA,
        report,
    };
    serde_json::to_string_pretty(&out).unwrap_or_else(|e| format!("{{\"error\": \"{e}\"}}"))
}

/// A step's observed shares of its positive-weight targets, in policy order.
pub fn step_observed(step: &StepVerdict) -> String {
    if step.n == 0 {
        return "no requests".to_owned();
    }
    step.split
        .targets
        .iter()
        .filter(|t| t.weight.is_some_and(|w| w > 0))
        .map(|t| format!("{} {}", t.label, pct(t.share)))
        .collect::<Vec<_>>()
        .join(", ")
}

/// A step's judged seconds since the report's start, `[from, to)`.
pub fn step_seconds(step: &StepVerdict) -> String {
    format!(
        "[{}, {})",
        step.window.judged_from_s, step.window.judged_to_s
    )
}

/// The notes of each step's own verdict that the schedule's notes do not
/// already carry, as `(step, note)`.
pub fn step_notes(report: &ScheduleReport) -> Vec<(usize, &str)> {
    report
        .steps
        .iter()
        .flat_map(|s| s.split.notes.iter().map(move |n| (s.step, n.as_str())))
        .filter(|(_, n)| !report.notes.iter().any(|r| r == n))
        .collect()
}

/// The schedule report as text: one line per step, the notes, the verdict.
pub fn schedule_text(report: &ScheduleReport) -> String {
    let mut out = String::new();
    let header = [
        "step", "weights", "seconds", "n", "observed", "verdict", "reason",
    ];
    let rows: Vec<[String; 7]> = report
        .steps
        .iter()
        .map(|s| {
            [
                s.step.to_string(),
                s.name.clone(),
                step_seconds(s),
                s.n.to_string(),
                step_observed(s),
                s.verdict.as_str().to_owned(),
                s.reason.clone(),
            ]
        })
        .collect();
    let width = |i: usize| {
        rows.iter()
            .map(|r| r[i].chars().count())
            .chain([header[i].len()])
            .max()
            .unwrap_or(0)
    };
    let w: Vec<usize> = (0..6).map(width).collect();
    let line = |cells: [&str; 7]| {
        format!(
            "{:<w0$}  {:<w1$}  {:<w2$}  {:>w3$}  {:<w4$}  {:<w5$}  {}",
            cells[0],
            cells[1],
            cells[2],
            cells[3],
            cells[4],
            cells[5],
            cells[6],
            w0 = w[0],
            w1 = w[1],
            w2 = w[2],
            w3 = w[3],
            w4 = w[4],
            w5 = w[5],
        )
    };
    let _ = writeln!(out, "{}", line(header));
    for r in &rows {
        let cells: [&str; 7] = [&r[0], &r[1], &r[2], &r[3], &r[4], &r[5], &r[6]];
        let _ = writeln!(out, "{}", line(cells));
    }
    out.push('\n');
    let _ = writeln!(
        out,
        "timeline: seconds [{}, {}) since {} (the load report's start); second t holds the requests sent in [t, t + 1)",
        report.timeline_from_s,
        report.timeline_to_s,
        report
            .report_started_at
            .format(&time::format_description::well_known::Rfc3339)
            .unwrap_or_default()
    );
    if let Some(first) = report.steps.first() {
        let _ = writeln!(
            out,
            "bands:    {} pp or {} % of the expected share, whichever is tighter",
            first.split.tolerance_pp, first.split.tolerance_relative_pct
        );
    }
    for note in &report.notes {
        let _ = writeln!(out, "note:     {note}");
    }
    for (step, note) in step_notes(report) {
        let _ = writeln!(out, "note:     step {step}: {note}");
    }
    let _ = writeln!(
        out,
        "verdict:  {} — {}",
        report.verdict.as_str(),
        report.reason
    );
    out
}

/// The schedule verdict as markdown for the step summary: the verdict, a
/// table of the steps, the notes. (Beside the other renderings of the
/// schedule; the step summary of the other judges is in `ci`.)
pub fn schedule_markdown(r: &ScheduleReport) -> String {
    use crate::ci::md_escape;
    let icon = |v: crate::verdict::Verdict| match v {
        crate::verdict::Verdict::Pass => "✅",
        crate::verdict::Verdict::Fail => "❌",
        crate::verdict::Verdict::Inconclusive => "⚠️",
    };
    let mut out = String::new();
    let _ = writeln!(
        out,
        "### {} verify split --schedule: {}\n\n{}\n",
        icon(r.verdict),
        r.verdict.as_str(),
        md_escape(&r.reason)
    );
    let _ = writeln!(
        out,
        "| step | weights | seconds | n | observed | verdict | reason |\n|---:|---|---|---:|---|---|---|"
    );
    for s in &r.steps {
        let _ = writeln!(
            out,
            "| {} | {} | {} | {} | {} | {} {} | {} |",
            s.step,
            md_escape(&s.name),
            md_escape(&step_seconds(s)),
            s.n,
            md_escape(&step_observed(s)),
            icon(s.verdict),
            s.verdict.as_str(),
            md_escape(&s.reason)
        );
    }
    for note in &r.notes {
        let _ = writeln!(out, "\n> {}", md_escape(note));
    }
    for (step, note) in step_notes(r) {
        let _ = writeln!(out, "\n> step {step}: {}", md_escape(note));
    }
    out.push('\n');
    out
}

/// The JUnit cases of a schedule verdict: one per step (FAIL a failure,
/// INCONCLUSIVE skipped).
pub fn schedule_cases(r: &ScheduleReport) -> Vec<crate::ci::Case> {
    r.steps
        .iter()
        .map(|s| {
            (
                format!("step {} ({})", s.step, s.name),
                s.verdict,
                s.reason.clone(),
            )
        })
        .collect()
}
