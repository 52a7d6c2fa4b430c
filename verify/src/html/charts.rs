//! The page's charts: SVG drawn by `plotters` from a [`Series`], each with
//! its legend drawn in HTML under it.

use maud::{Markup, html};
use plotters::coord::types::RangedCoordf64;
use plotters::prelude::*;

use super::series::Series;
use crate::scaling::ScalingReport;

/// Chart size in pixels (the page scales it to the window width).
const WIDTH: u32 = 960;
const HEIGHT: u32 = 300;

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
pub(super) struct Key {
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
pub(super) struct Drawn {
    pub(super) svg: String,
    pub(super) keys: Vec<Key>,
}

pub(super) fn legend(keys: &[Key]) -> Markup {
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

pub(super) fn rate_chart(series: &Series) -> Result<Drawn, String> {
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

pub(super) fn share_chart(series: &Series, expected: &[(String, f64)]) -> Result<Drawn, String> {
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
        observed_shares(c, series, &totals)?;
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

/// Each target's share of the responses per window, solid.
fn observed_shares(c: &mut Chart<'_, '_>, series: &Series, totals: &[f64]) -> Result<(), String> {
    for (label, v) in &series.served {
        let points = series
            .starts
            .iter()
            .zip(v.iter().zip(totals))
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
    Ok(())
}

pub(super) fn latency_chart(series: &Series) -> Result<Drawn, String> {
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

pub(super) fn instances_chart(scaling: &ScalingReport, series: &Series) -> Result<Drawn, String> {
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

/// One stretch of a schedule for [`schedule_share_chart`]: from `from_s`
/// (seconds since the load's start) to `to_s`, these shares expected.
pub(super) struct Stretch {
    pub(super) from_s: f64,
    pub(super) to_s: f64,
    pub(super) shares: Vec<(String, f64)>,
}

/// The split over time against a schedule: each target's share of the
/// responses (solid), the share the step in force gives it (dashed, a step
/// function), a grey line at each change and a red one at `rollback_s`.
pub(super) fn schedule_share_chart(
    series: &Series,
    stretches: &[Stretch],
    rollback_s: Option<f64>,
) -> Result<Drawn, String> {
    const CHANGE: RGBColor = RGBColor(150, 150, 150);
    const ROLLBACK: RGBColor = RGBColor(200, 0, 0);
    let totals: Vec<f64> = (0..series.starts.len())
        .map(|i| series.served.values().map(|v| v[i]).sum())
        .collect();
    let mut keys: Vec<Key> = series
        .served
        .keys()
        .map(|l| Key::solid(l.clone(), series.colour_of(l)))
        .collect();
    let labels: Vec<String> = stretches
        .iter()
        .flat_map(|s| s.shares.iter().map(|(l, _)| l.clone()))
        .fold(Vec::new(), |mut acc, l| {
            if !acc.contains(&l) {
                acc.push(l);
            }
            acc
        });
    for l in &labels {
        keys.push(Key::dashed(
            format!("{l}: the step's weight"),
            series.colour_of(l),
        ));
    }
    keys.push(Key::solid("weight change", CHANGE));
    if rollback_s.is_some() {
        keys.push(Key::solid("rollback", ROLLBACK));
    }
    let end = series.end();
    let svg = chart(end, 100.0, "share of responses, %", false, |c| {
        for s in stretches {
            line(c, vec![(s.from_s, 0.0), (s.from_s, 100.0)], CHANGE, false)?;
        }
        if let Some(r) = rollback_s {
            line(c, vec![(r, 0.0), (r, 100.0)], ROLLBACK, false)?;
        }
        observed_shares(c, series, &totals)?;
        for l in &labels {
            let mut points = Vec::new();
            for s in stretches {
                let y = 100.0
                    * s.shares
                        .iter()
                        .find(|(k, _)| k == l)
                        .map_or(0.0, |(_, x)| *x);
                points.push((s.from_s, y));
                points.push((s.to_s.min(end), y));
            }
            line(c, points, series.colour_of(l), true)?;
        }
        Ok(())
    })?;
    Ok(Drawn { svg, keys })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_silent_window_breaks_the_line() {
        let points = vec![(0.0, 1.0), (1.0, 1.0), (5.0, 2.0), (6.0, 2.0), (9.0, 3.0)];
        let segs = segments(points, 1.0);
        assert_eq!(segs.len(), 3, "{segs:?}");
        assert_eq!(segs[2], vec![(9.0, 3.0)], "a lone point is its own segment");
    }
}
