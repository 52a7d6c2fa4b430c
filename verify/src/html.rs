//! `--html FILE`: one self-contained page for a person rather than a CI
//! log. The verdict first (why, the numbers behind it), then the run's
//! timeline as charts: requests per second, the split over time against the
//! configured shares, latency percentiles per target, instances per target.
//!
//! The charts are SVG drawn by `plotters` and inlined, the style sheet is
//! inline too: the file opens offline, can be attached to a CI run, and
//! loads nothing. `maud` builds the markup and escapes every label and
//! message taken from the inputs.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use maud::{DOCTYPE, Markup, PreEscaped, html};
use plotters::coord::types::RangedCoordf64;
use plotters::prelude::*;
use weighbridge_report::Report;

use crate::compare::CompareReport;
use crate::fmt::p_short;
use crate::scaling::{self, ScalingOptions, ScalingReport};
use crate::split::SplitReport;
use crate::verdict::Verdict;

/// Chart size in pixels (the page scales it to the window width).
const WIDTH: u32 = 960;
const HEIGHT: u32 = 300;

/// Points per chart the window is chosen for: one point per second on short
/// runs, coarser on long ones so a line stays readable.
const POINTS: u64 = 120;

const STYLE: &str = "
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

fn verdict_header(what: &str, verdict: Verdict, reason: &str) -> Markup {
    html! {
        h2 { "Verdict (" (what) ")" }
        p { (badge(verdict)) }
        p.reason { (reason) }
    }
}

fn badge(v: Verdict) -> Markup {
    html! { span class=(format!("verdict {}", v.as_str())) { (v.as_str()) } }
}

fn notes(notes: &[String]) -> Markup {
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

/// A report's timeline in chart windows.
struct Series {
    window_s: u64,
    /// Start of each window, seconds since the run started.
    starts: Vec<f64>,
    /// Requests/s scheduled in each window.
    scheduled: Vec<f64>,
    /// Label → responses per second in each window.
    served: BTreeMap<String, Vec<f64>>,
    /// Requests/s sent that got no response (connect errors, timeouts).
    no_response: Vec<f64>,
    /// Requests/s dropped (`--max-in-flight`).
    dropped: Vec<f64>,
    /// Label → (p50, p99) per window, `None` for windows without ok
    /// responses: p50 is the response-weighted mean of the seconds' p50, p99
    /// the worst second's p99 (a spike stays visible in a long window).
    latency: BTreeMap<String, Vec<Option<(f64, f64)>>>,
}

/// Per-window latency accumulator: weighted p50 sum, weight, worst p99.
#[derive(Clone, Copy, Default)]
struct LatencyAcc {
    p50_sum: f64,
    weight: f64,
    p99_max: Option<f64>,
}

impl Series {
    fn from_report(report: &Report) -> Self {
        let seconds = report.timeline.last().map_or(0, |s| s.t.saturating_add(1));
        let window_s = seconds.div_ceil(POINTS).max(1);
        let windows = usize::try_from(seconds.div_ceil(window_s)).unwrap_or(0);
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
            let w = usize::try_from(s.t / window_s).unwrap_or(usize::MAX);
            if w >= windows {
                continue;
            }
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
        let length = |i: usize| {
            let start = i as u64 * window_s;
            seconds.saturating_sub(start).clamp(1, window_s) as f64
        };
        let per_second = |v: &mut Vec<f64>| {
            for (i, x) in v.iter_mut().enumerate() {
                *x /= length(i);
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
            starts: (0..windows).map(|i| (i as u64 * window_s) as f64).collect(),
            scheduled,
            served,
            no_response,
            dropped,
            latency,
        }
    }

    fn end(&self) -> f64 {
        self.starts.last().map_or(1.0, |s| s + self.window_s as f64)
    }
}

/// One colour per label, the same in every chart of the page.
fn colour(index: usize) -> RGBColor {
    const COLOURS: [RGBColor; 8] = [
        RGBColor(31, 119, 180),
        RGBColor(255, 127, 14),
        RGBColor(44, 160, 44),
        RGBColor(214, 39, 40),
        RGBColor(148, 103, 189),
        RGBColor(140, 86, 75),
        RGBColor(227, 119, 194),
        RGBColor(127, 127, 127),
    ];
    COLOURS[index % COLOURS.len()]
}

/// One line of a legend (drawn in HTML, under the chart, where it cannot
/// hide the data).
struct Key {
    label: String,
    colour: RGBColor,
    dashed: bool,
}

impl Key {
    fn solid(label: impl Into<String>, colour: RGBColor) -> Self {
        Key {
            label: label.into(),
            colour,
            dashed: false,
        }
    }

    fn dashed(label: impl Into<String>, colour: RGBColor) -> Self {
        Key {
            label: label.into(),
            colour,
            dashed: true,
        }
    }
}

/// A drawn chart: the SVG and its legend.
struct Drawn {
    svg: String,
    keys: Vec<Key>,
}

fn legend(keys: &[Key]) -> Markup {
    html! {
        p.legend {
            @for k in keys {
                span.key {
                    span.swatch style=(format!(
                        "border-top:{} {} rgb({},{},{})",
                        if k.dashed { "2px" } else { "3px" },
                        if k.dashed { "dashed" } else { "solid" },
                        k.colour.0, k.colour.1, k.colour.2
                    )) {}
                    (k.label)
                }
            }
        }
    }
}

type Area<'b> = DrawingArea<SVGBackend<'b>, plotters::coord::Shift>;
type Chart<'a, 'b> = ChartContext<'a, SVGBackend<'b>, Cartesian2d<RangedCoordf64, RangedCoordf64>>;

fn err(e: impl std::fmt::Display) -> String {
    e.to_string()
}

/// Draws one chart: axes from 0 to `end` seconds and from 0 to `top`, then
/// whatever `draw` adds; returns the SVG.
fn chart(
    end: f64,
    top: f64,
    y_desc: &str,
    whole_y: bool,
    draw: impl FnOnce(&mut Chart<'_, '_>) -> Result<(), String>,
) -> Result<String, String> {
    let mut out = String::new();
    {
        let root: Area<'_> = SVGBackend::with_string(&mut out, (WIDTH, HEIGHT)).into_drawing_area();
        root.fill(&WHITE).map_err(err)?;
        let mut chart = ChartBuilder::on(&root)
            .margin(12)
            .x_label_area_size(36)
            .y_label_area_size(64)
            .build_cartesian_2d(0.0..end, 0.0..top)
            .map_err(err)?;
        let whole = |v: &f64| format!("{v:.0}");
        let y_fmt = |v: &f64| {
            if whole_y || top >= 10.0 {
                format!("{v:.0}")
            } else {
                format!("{v:.1}")
            }
        };
        let mut mesh = chart.configure_mesh();
        mesh.x_desc("seconds since start")
            .y_desc(y_desc)
            .x_label_formatter(&whole)
            .y_label_formatter(&y_fmt)
            .light_line_style(WHITE.mix(0.0));
        if whole_y {
            // Integer ticks only (instance counts).
            mesh.y_labels(
                usize::try_from((top as u64).saturating_add(1))
                    .unwrap_or(12)
                    .min(12),
            );
        }
        mesh.draw().map_err(err)?;
        draw(&mut chart)?;
        root.present().map_err(err)?;
    }
    Ok(out)
}

fn line(
    chart: &mut Chart<'_, '_>,
    points: Vec<(f64, f64)>,
    colour: RGBColor,
    dashed: bool,
) -> Result<(), String> {
    if dashed {
        chart
            .draw_series(DashedLineSeries::new(points, 7, 5, colour.stroke_width(2)))
            .map_err(err)?;
    } else {
        chart
            .draw_series(LineSeries::new(points, colour.stroke_width(2)))
            .map_err(err)?;
    }
    Ok(())
}

/// `points` (x ascending) cut wherever a window is missing: no data there,
/// and joining across would draw data that is not there.
fn segments(points: Vec<(f64, f64)>, window: f64) -> Vec<Vec<(f64, f64)>> {
    let mut out: Vec<Vec<(f64, f64)>> = Vec::new();
    for p in points {
        match out.last_mut() {
            Some(seg) if seg.last().is_some_and(|last| p.0 - last.0 <= window * 1.5) => seg.push(p),
            _ => out.push(vec![p]),
        }
    }
    out
}

/// Draws `points` as [`segments`]: lines, and a dot for a lone point.
fn gappy_line(
    chart: &mut Chart<'_, '_>,
    points: Vec<(f64, f64)>,
    window: f64,
    colour: RGBColor,
    dashed: bool,
) -> Result<(), String> {
    for seg in segments(points, window) {
        if let [only] = seg[..] {
            chart
                .draw_series(std::iter::once(Circle::new(only, 3, colour.filled())))
                .map_err(err)?;
        } else {
            line(chart, seg, colour, dashed)?;
        }
    }
    Ok(())
}

impl Series {
    /// Colour index of a label: its place among the labels that served.
    fn colour_of(&self, label: &str) -> RGBColor {
        colour(
            self.served
                .keys()
                .position(|l| l == label)
                .unwrap_or(self.served.len()),
        )
    }

    fn points(&self, values: &[f64]) -> Vec<(f64, f64)> {
        self.starts
            .iter()
            .copied()
            .zip(values.iter().copied())
            .collect()
    }
}

fn rate_chart(series: &Series) -> Result<Drawn, String> {
    let top = series
        .scheduled
        .iter()
        .chain(series.served.values().flatten())
        .fold(1.0_f64, |a, &b| a.max(b))
        * 1.1;
    // Every scheduled request is on the chart: answered by a target,
    // sent without a response, or dropped.
    const NO_RESPONSE: RGBColor = RGBColor(90, 90, 90);
    const DROPPED: RGBColor = RGBColor(200, 0, 0);
    let any = |v: &[f64]| v.iter().any(|&x| x > 0.0);
    let mut keys = vec![Key::dashed("scheduled", BLACK)];
    for label in series.served.keys() {
        keys.push(Key::solid(label.clone(), series.colour_of(label)));
    }
    if any(&series.no_response) {
        keys.push(Key::solid(
            "no response (connect error, timeout)",
            NO_RESPONSE,
        ));
    }
    if any(&series.dropped) {
        keys.push(Key::dashed("dropped (--max-in-flight)", DROPPED));
    }
    let svg = chart(series.end(), top, "requests/s", false, |c| {
        line(c, series.points(&series.scheduled), BLACK, true)?;
        for (label, v) in &series.served {
            line(c, series.points(v), series.colour_of(label), false)?;
        }
        if any(&series.no_response) {
            line(c, series.points(&series.no_response), NO_RESPONSE, false)?;
        }
        if any(&series.dropped) {
            line(c, series.points(&series.dropped), DROPPED, true)?;
        }
        Ok(())
    })?;
    Ok(Drawn { svg, keys })
}

fn share_chart(series: &Series, expected: &[(String, f64)]) -> Result<Drawn, String> {
    let totals: Vec<f64> = (0..series.starts.len())
        .map(|i| series.served.values().map(|v| v[i]).sum())
        .collect();
    let mut keys = Vec::new();
    for label in series.served.keys() {
        keys.push(Key::solid(label.clone(), series.colour_of(label)));
    }
    for (label, share) in expected {
        keys.push(Key::dashed(
            format!("{label} configured: {:.1} %", share * 100.0),
            series.colour_of(label),
        ));
    }
    let svg = chart(series.end(), 100.0, "share of responses, %", false, |c| {
        for (label, v) in &series.served {
            let points = series
                .starts
                .iter()
                .zip(v.iter().zip(&totals))
                .filter(|(_, (_, t))| **t > 0.0)
                .map(|(x, (n, t))| (*x, 100.0 * n / t))
                .collect();
            gappy_line(
                c,
                points,
                series.window_s as f64,
                series.colour_of(label),
                false,
            )?;
        }
        for (label, share) in expected {
            let y = share * 100.0;
            line(
                c,
                vec![(0.0, y), (series.end(), y)],
                series.colour_of(label),
                true,
            )?;
        }
        Ok(())
    })?;
    Ok(Drawn { svg, keys })
}

fn latency_chart(series: &Series) -> Result<Drawn, String> {
    let top = series
        .latency
        .values()
        .flatten()
        .flatten()
        .fold(1.0_f64, |a, &(_, p99)| a.max(p99))
        * 1.1;
    let worst = if series.window_s > 1 {
        " (worst second of each window)"
    } else {
        ""
    };
    let mut keys = Vec::new();
    for label in series.latency.keys() {
        let c = series.colour_of(label);
        keys.push(Key::solid(format!("{label} p99{worst}"), c));
        keys.push(Key::dashed(format!("{label} p50"), c));
    }
    let svg = chart(series.end(), top, "latency, ms", false, |c| {
        for (label, v) in &series.latency {
            let pick = |f: fn(&(f64, f64)) -> f64| -> Vec<(f64, f64)> {
                series
                    .starts
                    .iter()
                    .zip(v)
                    .filter_map(|(x, p)| p.as_ref().map(|p| (*x, f(p))))
                    .collect()
            };
            let window = series.window_s as f64;
            gappy_line(c, pick(|p| p.1), window, series.colour_of(label), false)?;
            gappy_line(c, pick(|p| p.0), window, series.colour_of(label), true)?;
        }
        Ok(())
    })?;
    Ok(Drawn { svg, keys })
}

fn instances_chart(scaling: &ScalingReport, series: &Series) -> Result<Drawn, String> {
    let window = scaling.window_s.max(1) as f64;
    let top = scaling
        .targets
        .iter()
        .map(|t| t.max)
        .max()
        .unwrap_or(1)
        .saturating_add(1) as f64;
    let mut keys: Vec<Key> = scaling
        .targets
        .iter()
        .map(|t| Key::solid(t.target.clone(), series.colour_of(&t.target)))
        .collect();
    let desired = scaling
        .aws
        .as_ref()
        .and_then(|aws| desired_steps(scaling, aws, series.end()));
    if let Some(aws) = &scaling.aws
        && desired.is_some()
    {
        keys.push(Key::dashed(
            format!("{} desired count (Application Auto Scaling)", aws.target),
            series.colour_of(&aws.target),
        ));
    }
    let top = desired
        .iter()
        .flatten()
        .fold(top, |a, &(_, y)| a.max(y + 1.0));
    let svg = chart(series.end(), top, "instances", true, |c| {
        for t in &scaling.targets {
            // A step line: flat across each window.
            let points = t
                .series
                .iter()
                .enumerate()
                .flat_map(|(i, &n)| {
                    let x = i as f64 * window;
                    [(x, n as f64), ((x + window).min(series.end()), n as f64)]
                })
                .collect();
            line(c, points, series.colour_of(&t.target), false)?;
        }
        if let (Some(points), Some(aws)) = (desired, &scaling.aws) {
            line(c, points, series.colour_of(&aws.target), true)?;
        }
        Ok(())
    })?;
    Ok(Drawn { svg, keys })
}

/// The desired count AWS set over the run, as a step line: from the count
/// before the first activity that took effect (or the instances the
/// clients saw at the start) through each change. `None` without one.
fn desired_steps(
    scaling: &ScalingReport,
    aws: &crate::scaling::AwsScaling,
    end: f64,
) -> Option<Vec<(f64, f64)>> {
    let applied: Vec<_> = aws
        .activities
        .iter()
        .filter(|a| crate::scaling::takes_effect(&a.status))
        .filter_map(|a| a.to.map(|to| (a.at_s as f64, to as f64, a.from)))
        .collect();
    let &(_, _, first_from) = applied.first()?;
    let initial = first_from.or_else(|| {
        scaling
            .targets
            .iter()
            .find(|t| t.target == aws.target)
            .map(|t| t.initial)
    })? as f64;
    let mut points = vec![(0.0, initial)];
    let mut level = initial;
    for (at, to, _) in applied {
        points.push((at, level));
        points.push((at, to));
        level = to;
    }
    points.push((end, level));
    Some(points)
}

#[cfg(test)]
mod tests {
    use weighbridge_report::SecondLatency;

    use super::*;
    use crate::synth::Scenario;

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

    #[test]
    fn a_silent_window_breaks_the_line() {
        let points = vec![(0.0, 1.0), (1.0, 1.0), (5.0, 2.0), (6.0, 2.0), (9.0, 3.0)];
        let segs = segments(points, 1.0);
        assert_eq!(segs.len(), 3, "{segs:?}");
        assert_eq!(segs[2], vec![(9.0, 3.0)], "a lone point is its own segment");
    }

    #[test]
    fn the_configured_share_adds_what_path_rules_send() {
        use crate::synth::PathMix;
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
