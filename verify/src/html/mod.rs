//! `--html FILE`: one self-contained page for a person rather than a CI
//! log. The verdict first (why, the numbers behind it), then the run's
//! timeline as charts: requests per second, the split over time against the
//! configured shares, latency percentiles per target, instances per target.
//!
//! The charts are SVG drawn by `plotters` and inlined, the style sheet is
//! inline too: the file opens offline, can be attached to a CI run, and
//! loads nothing. `maud` builds the markup and escapes every label and
//! message taken from the inputs.

mod charts;
mod rollout;
mod series;

pub use rollout::rollout_page;

use std::path::Path;

use maud::{DOCTYPE, Markup, PreEscaped, html};
use weighbridge_report::Report;

use charts::{instances_chart, latency_chart, legend, rate_chart, share_chart};
use series::Series;

use crate::compare::CompareReport;
use crate::fmt::p_short;
use crate::scaling::{self, ScalingOptions, ScalingReport};
use crate::split::{ScheduleReport, SplitReport};
use crate::verdict::Verdict;

pub(super) const STYLE: &str = "
body{font-family:system-ui,-apple-system,'Segoe UI',sans-serif;margin:2rem auto;max-width:1000px;color:#1d232a;padding:0 1rem}
h1{font-size:1.5rem;margin-bottom:.25rem}h2{font-size:1.15rem;margin-top:2rem;border-bottom:1px solid #dde2e7;padding-bottom:.25rem}
.meta{color:#5b6570;font-size:.9rem}
.verdict{display:inline-block;padding:.2rem .7rem;border-radius:.3rem;font-weight:700;color:#fff;letter-spacing:.03em}
.PASS{background:#1f7a3a}.FAIL{background:#b42318}.INCONCLUSIVE{background:#b26b00}
.reason{font-size:1.05rem;margin:.6rem 0 1rem}
table{border-collapse:collapse;margin:.5rem 0 1rem;font-size:.92rem}
th,td{border-bottom:1px solid #e6e9ec;padding:.3rem .7rem;text-align:left}
td.n,th.n{text-align:right;font-variant-numeric:tabular-nums}
figure{margin:1rem 0}.legend{margin:.2rem 0 .4rem;font-size:.88rem}.key{margin-right:1.2rem;white-space:nowrap}.swatch{display:inline-block;width:22px;margin-right:.35rem;vertical-align:middle}figcaption{color:#5b6570;font-size:.88rem}
svg{max-width:100%;height:auto}
ul.notes li{margin:.2rem 0}
pre{background:#f5f7f9;padding:.75rem;overflow-x:auto;font-size:.85rem}
";

/// Writes `html` to `path`.
pub fn write(path: &Path, html: &str) -> std::io::Result<()> {
    std::fs::write(path, html)
}

/// The page of `verify split`. `report` is the (merged) report when the
/// counts came from one; inline counts and CloudWatch have no timeline.
pub fn split_page(split: &SplitReport, report: Option<&Report>) -> String {
    let expected = report.map_or_else(Vec::new, |r| expected_shares(split, r));
    let body = html! {
        (verdict_header("split", split.verdict, &split.reason))
        (split_tables(split))
        (notes(&split.notes))
    };
    page("verify split", &body, report, &expected, None)
}

/// The page of `verify split --schedule`: the verdict, a table of the
/// steps, each step's split, and the run's timeline. The split-over-time
/// chart has no dashed configured lines: the weights changed from step to
/// step (the table says which were in force when).
pub fn schedule_page(schedule: &ScheduleReport, report: &Report) -> String {
    let body = html! {
        (verdict_header("split --schedule", schedule.verdict, &schedule.reason))
        table {
            tr {
                th.n { "step" } th { "weights" } th { "window" } th.n { "seconds" }
                th.n { "n" } th { "observed" } th { "verdict" } th { "why" }
            }
            @for s in &schedule.steps {
                tr {
                    td.n { (s.step) } td { (s.name) }
                    td { (wall(s.window.from)) " – " (wall(s.window.to)) }
                    td.n { (crate::output::step_seconds(s)) } td.n { (s.n) }
                    td { (crate::output::step_observed(s)) }
                    td { (badge(s.verdict)) } td { (s.reason) }
                }
            }
        }
        @for s in &schedule.steps {
            h2 { "Step " (s.step) ": " (s.name) " " (badge(s.verdict)) }
            p.reason { (s.reason) }
            (split_tables(&s.split))
            @if !s.split.notes.is_empty() {
                ul.notes { @for n in &s.split.notes { li { (n) } } }
            }
        }
        (notes(&schedule.notes))
    };
    page("verify split --schedule", &body, Some(report), &[], None)
}

fn wall(t: time::OffsetDateTime) -> String {
    t.format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_default()
}

/// The share of all responses each positive-weight target should have had,
/// for the split-over-time chart. The chart counts every response, so when
/// exclusive path rules sent requests to a target, its line is the
/// configured share of the weighted requests plus the requests its rules
/// took (expected count over all responses), not the bare weight.
fn expected_shares(split: &SplitReport, report: &Report) -> Vec<(String, f64)> {
    let all: u64 = report.targets.values().map(|t| t.requests).sum();
    split
        .targets
        .iter()
        .filter(|t| t.weight.is_some_and(|w| w > 0))
        .map(|t| {
            let share =
                if split.rule_routed > 0 && split.unit == crate::split::Unit::Requests && all > 0 {
                    let rule = report
                        .targets
                        .get(&t.label)
                        .map_or(0, |r| r.requests.saturating_sub(t.observed));
                    (t.expected + rule as f64) / all as f64
                } else {
                    t.expected_share
                };
            (t.label.clone(), share)
        })
        .collect()
}

/// The page of `verify scaling`.
pub fn scaling_page(scaling: &ScalingReport, report: &Report) -> String {
    let body = html! {
        (verdict_header("scaling", scaling.verdict, &scaling.reason))
        h2 { "Checks" }
        table {
            tr { th { "target" } th { "check" } th { "verdict" } th { "what was seen" } }
            @for c in &scaling.checks {
                tr { td { (c.target) } td { (c.name) } td { (badge(c.verdict)) } td { (c.detail) } }
            }
        }
        h2 { "Scaling events seen by the clients" }
        @let events: Vec<_> = scaling.targets.iter().flat_map(|t| t.events.iter().map(move |e| (&t.target, e))).collect();
        @if events.is_empty() {
            p { "None: the number of instances serving never changed." }
        } @else {
            table {
                tr { th { "target" } th { "direction" } th.n { "from" } th.n { "to" } th.n { "start (s)" } th.n { "end (s)" } th.n { "failed nearby" } }
                @for (target, e) in events {
                    tr {
                        td { (target) }
                        td { (match e.direction { scaling::Direction::Up => "scale-out", scaling::Direction::Down => "scale-in" }) }
                        td.n { (e.from) } td.n { (e.to) } td.n { (e.start_s) } td.n { (e.end_s) } td.n { (e.failed_nearby) }
                    }
                }
            }
        }
        @if let Some(aws) = &scaling.aws {
            h2 { "What AWS did: " (aws.cluster) " / " (aws.service) }
            p {
                "Now: desired " (aws.desired) ", running " (aws.running) ", pending " (aws.pending)
                @if let Some(n) = aws.clients_last_window { "; the clients saw " (n) " in the last window" }
                ". Times are seconds since the run started (" (aws.run_started_at) ")."
            }
            @if aws.activities.is_empty() {
                p { "No scaling activity during the run." }
            } @else {
                table {
                    tr { th.n { "at (s)" } th { "desired" } th { "status" } th.n { "seen by clients (s)" } th.n { "lag (s)" } th { "cause" } }
                    @for a in &aws.activities {
                        tr {
                            td.n { (a.at_s) } td { (crate::scaling::desired_text(a)) } td { (a.status) }
                            td.n { (a.seen_at_s.map_or("not seen".to_owned(), |s| s.to_string())) }
                            td.n { (a.lag_s.map_or(String::new(), |s| s.to_string())) }
                            td { (a.cause) }
                        }
                    }
                }
            }
            @if !aws.service_events.is_empty() {
                table {
                    tr { th.n { "at (s)" } th { "ECS service event" } }
                    @for e in &aws.service_events { tr { td.n { (e.at_s) } td { (e.message) } } }
                }
            }
        }
        (notes(&scaling.notes))
    };
    page("verify scaling", &body, Some(report), &[], Some(scaling))
}

/// The page of `verify compare`.
pub fn compare_page(compare: &CompareReport, report: &Report) -> String {
    let (b, c) = (&compare.baseline, &compare.candidate);
    let body = html! {
        (verdict_header("compare", compare.verdict, &compare.reason))
        table {
            tr { th { "" } th.n { "requests" } th.n { "failed" } th.n { "error rate" } th.n { "p50 ms" } th.n { "p99 ms" } }
            @for (role, s) in [("baseline", b), ("candidate", c)] {
                tr {
                    td { (role) ": " strong { (s.label) } }
                    td.n { (s.requests) } td.n { (s.failed) }
                    td.n { (format!("{:.3} %", s.error_rate * 100.0)) }
                    td.n { (format!("{:.2}", s.p50_ms)) } td.n { (format!("{:.2}", s.p99_ms)) }
                }
            }
        }
        table {
            tr { td { "errors: candidate − baseline" } td.n { (format!("{:+.3} pp", compare.error_increase_pp)) } td { "Fisher exact p = " (p_short(compare.error_p_value)) } }
            tr { td { "latency: p99 change" } td.n { (format!("{:+.1} %", compare.p99_increase * 100.0)) } td { "Mann–Whitney p = " (p_short(compare.latency_p_value)) } }
            tr { td { "alpha" } td.n { (compare.alpha) } td {} }
        }
        (notes(&compare.notes))
    };
    page("verify compare", &body, Some(report), &[], None)
}

fn page(
    title: &str,
    verdicts: &Markup,
    report: Option<&Report>,
    expected: &[(String, f64)],
    scaling: Option<&ScalingReport>,
) -> String {
    let generated = time::OffsetDateTime::now_utc()
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_default();
    let markup = html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                title { "weighbridge " (title) }
                style { (PreEscaped(STYLE)) }
            }
            body {
                h1 { "weighbridge " (title) }
                p.meta {
                    "Generated " (generated)
                    @if let Some(r) = report {
                        " from a run of " (format!("{:.0}", (r.ended_at - r.started_at).as_seconds_f64())) " s started "
                        (r.started_at.format(&time::format_description::well_known::Rfc3339).unwrap_or_default())
                        ", " (r.totals.scheduled) " requests scheduled, " (r.totals.ok) " ok, "
                        (r.totals.failed) " failed, " (r.totals.dropped) " dropped."
                    }
                }
                (verdicts)
                @if let Some(r) = report {
                    (timeline_charts(r, expected, scaling))
                } @else {
                    p.meta { "No timeline: the counts did not come from a loadgen report." }
                }
            }
        }
    };
    markup.into_string()
}

pub(super) fn verdict_header(what: &str, verdict: Verdict, reason: &str) -> Markup {
    html! {
        h2 { "Verdict (" (what) ")" }
        p { (badge(verdict)) }
        p.reason { (reason) }
    }
}

pub(super) fn badge(v: Verdict) -> Markup {
    html! { span class=(format!("verdict {}", v.as_str())) { (v.as_str()) } }
}

pub(super) fn notes(notes: &[String]) -> Markup {
    html! {
        @if !notes.is_empty() {
            h2 { "Notes" }
            ul.notes { @for n in notes { li { (n) } } }
        }
    }
}

fn split_tables(s: &SplitReport) -> Markup {
    html! {
        table {
            tr {
                th { "target" } th.n { "weight" } th.n { "expected" } th.n { "observed" }
                th.n { "interval (" (format!("{:.2} %", s.interval_confidence * 100.0)) ")" }
                th.n { "band" } th.n { "deviation" } th.n { (s.unit.as_str()) }
            }
            @for t in &s.targets {
                tr {
                    td { (t.label) }
                    td.n { (t.weight.map_or("unknown".to_owned(), |w| w.to_string())) }
                    td.n { (format!("{:.2} %", t.expected_share * 100.0)) }
                    td.n { (format!("{:.2} %", t.share * 100.0)) }
                    td.n { (t.interval.as_ref().map_or(String::new(), |i| format!("{:.2} – {:.2} %", i.low * 100.0, i.high * 100.0))) }
                    td.n { (t.band.as_ref().map_or(String::new(), |b| format!("{:.2} – {:.2} %", b.low * 100.0, b.high * 100.0))) }
                    td.n { (format!("{:+.2} pp", t.deviation_pp)) }
                    td.n { (t.observed) }
                }
            }
        }
        table {
            tr { td { "sample-ratio test" } td { (s.test.describe()) } }
            tr { td { "p-value" } td { (s.p_value.map_or("not tested".to_owned(), p_short)) " (alpha " (s.alpha) ")" } }
            tr { td { "tolerance" } td { (s.tolerance_pp) " percentage points or " (s.tolerance_relative_pct) " % of the expected share, whichever is tighter" } }
            @if let Some(n) = s.required_n {
                tr { td { "would decide at" } td { (n) " " (s.unit.as_str()) } }
            }
            tr { td { "counted" } td { (s.n) " in the weighted test, " (s.total) " in all, " (s.rule_routed) " on path-rule paths (" (s.source) ")" } }
        }
        @if !s.leaks.is_empty() {
            h2 { "Leaks" }
            table {
                tr { th { "target" } th.n { "requests" } th { "why" } th { "paths" } }
                @for l in &s.leaks {
                    tr {
                        td { (l.target) } td.n { (l.count) }
                        td { (match &l.kind {
                            crate::split::LeakKind::ZeroWeight => "weight 0".to_owned(),
                            crate::split::LeakKind::UnknownTarget => "not in the policy".to_owned(),
                            crate::split::LeakKind::PathRule { expected_target } => format!("path rule sends these to {expected_target}"),
                        }) }
                        td { (l.paths.iter().map(|(p, n)| format!("{p} ({n})")).collect::<Vec<_>>().join(", ")) }
                    }
                }
            }
        }
    }
}

/// The charts of a report's timeline.
fn timeline_charts(
    report: &Report,
    expected: &[(String, f64)],
    scaling: Option<&ScalingReport>,
) -> Markup {
    if report.timeline.is_empty() {
        return html! { p.meta { "No timeline: the report has no seconds to draw." } };
    }
    let series = Series::from_report(report);
    let own;
    let scaling = match scaling {
        Some(s) => s,
        None => {
            own = scaling::judge_scaling(
                report,
                &ScalingOptions {
                    window_s: series.window_s,
                    ..ScalingOptions::default()
                },
            );
            &own
        }
    };
    let per = if series.window_s == 1 {
        "per second".to_owned()
    } else {
        format!("per {}-second window", series.window_s)
    };
    let charts = [
        (
            "Requests per second",
            rate_chart(&series),
            format!(
                "Scheduled load, and where each request went (a target, no response, dropped), {per}."
            ),
        ),
        (
            "Split over time",
            share_chart(&series, expected),
            format!(
                "Share of all responses per target, {per}. Dashed: the share the policy gives it (its weight, plus what exclusive path rules send it)."
            ),
        ),
        (
            "Latency per target",
            latency_chart(&series),
            format!(
                "Corrected latency (from the intended send time) of ok responses, {per}: p99 solid, p50 dashed; gaps are windows without an ok response."
            ),
        ),
        (
            "Instances per target",
            instances_chart(scaling, &series),
            format!(
                "Instances serving, per {}-second window, as the clients saw them.",
                scaling.window_s
            ),
        ),
    ];
    html! {
        @for (title, svg, caption) in charts {
            h2 { (title) }
            figure {
                @match svg {
                    Ok(drawn) => { (PreEscaped(drawn.svg)) (legend(&drawn.keys)) },
                    Err(e) => p { "This chart could not be drawn: " (e) },
                }
                figcaption { (caption) }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use weighbridge_report::synth::Scenario;

    #[test]
    fn the_configured_share_adds_what_path_rules_send() {
        use weighbridge_report::synth::PathMix;
        let mut sc = Scenario::constant(60, 200, &[("ecs", 0.1), ("lambda", 0.9)], 3);
        sc.paths = vec![
            PathMix {
                path: "/host".into(),
                weight: 0.9,
                routed_to: None,
            },
            PathMix {
                path: "/creature".into(),
                weight: 0.1,
                routed_to: Some("ecs".into()),
            },
        ];
        let report = sc.report().expect("report");
        let policy: weighbridge_policy::Policy = r#"{"schema": "weighbridge.policy/v1",
            "targets": {"ecs": 10, "lambda": 90},
            "path_rules": [{"path": "/creature", "target": "ecs"}]}"#
            .parse()
            .expect("policy");
        let split = crate::inputs::judge_report(
            &policy,
            &report,
            &crate::SplitOptions::default(),
            &crate::ReportChecks {
                window_s: 30,
                sticky: false,
                max_error_rate: None,
            },
        )
        .expect("judged");
        let shares = expected_shares(&split, &report);
        let all: u64 = report.targets.values().map(|t| t.requests).sum();
        let rule = report.paths["/creature"]["ecs"] as f64;
        let ecs = shares.iter().find(|(l, _)| l == "ecs").expect("ecs").1;
        let want = (split.targets[0].expected + rule) / all as f64;
        assert!((ecs - want).abs() < 1e-12, "{ecs} vs {want}");
        assert!(
            ecs > 0.15,
            "about 0.1 * 0.9 + 0.1 = 0.19 of all responses: {ecs}"
        );
        let total: f64 = shares.iter().map(|(_, s)| s).sum();
        assert!(
            (total - 1.0).abs() < 1e-9,
            "the lines add up to 100 %: {total}"
        );
    }
}
