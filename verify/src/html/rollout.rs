//! The page of a rollout: the verdict, a table of steps (weights asked
//! for, weights the router reported, the window, the three judges), and the
//! load's split over time against each step's weights, the changes and the
//! rollback marked.

use maud::{PreEscaped, html};
use weighbridge_report::Report;
use weighbridge_report::rollout::{RolloutReport, weights_text as weights};

use super::charts::{Stretch, latency_chart, legend, rate_chart, schedule_share_chart};
use super::series::Series;
use super::{STYLE, badge, notes, verdict_header};
use crate::fmt::p_short;
use crate::verdict::Verdict;

fn shares(w: &std::collections::BTreeMap<String, u32>) -> Vec<(String, f64)> {
    let total: f64 = w.values().map(|&x| f64::from(x)).sum();
    w.iter()
        .map(|(l, &x)| {
            (
                l.clone(),
                if total > 0.0 {
                    f64::from(x) / total
                } else {
                    0.0
                },
            )
        })
        .collect()
}

/// The page of `rollout`; `load` is the load report of the run, for the charts.
pub fn rollout_page(r: &RolloutReport, load: Option<&Report>) -> String {
    let since = |t: time::OffsetDateTime| {
        load.map_or(0.0, |l| (t - l.started_at).as_seconds_f64().max(0.0))
    };
    let body = html! {
        (verdict_header("rollout", Verdict::from_text(&r.verdict), &r.reason))
        p { "Policy " (r.policy) ", router " (r.router) ", traffic from " (r.traffic)
            @if let (Some(b), Some(c)) = (&r.baseline, &r.candidate) { ", baseline " strong { (b) } ", candidate " strong { (c) } } "." }
        h2 { "Steps" }
        table {
            tr { th.n { "step" } th { "weights" } th { "router reports" } th.n { "window (s)" } th.n { "n" } th { "split" } th { "gate" } th { "errors" } th { "verdict" } th { "why" } }
            @for s in &r.steps {
                tr {
                    td.n { (s.index + 1) }
                    td { (weights(&s.weights)) }
                    td { (weights(&s.applied)) }
                    td.n { (match (s.window.from_s, s.window.to_s) { (Some(a), Some(b)) => format!("{a}–{b}"), _ => "–".to_owned() }) }
                    td.n { (s.split.n) }
                    td { (badge(Verdict::from_text(&s.split.verdict))) " " (s.split.shares.iter().map(|(l, x)| format!("{l} {:.1} %", 100.0 * x)).collect::<Vec<_>>().join(", ")) }
                    td { @match &s.gate {
                        Some(g) => { (badge(Verdict::from_text(&g.verdict))) " errors p = " (p_short(g.error_p_value)) ", latency p = " (p_short(g.latency_p_value)) },
                        None => "n/a (a side has weight 0)",
                    } }
                    td { (badge(Verdict::from_text(&s.errors.verdict))) " " (s.errors.failed) " / " (s.errors.requests) }
                    td { (badge(Verdict::from_text(&s.verdict))) }
                    td { (s.reason) }
                }
            }
        }
        p { @if r.rolled_back { "Rolled back: the router reports " } @else { "Final weights: " } strong { (weights(&r.final_weights)) } }
        (notes(&r.notes))
        @if let Some(l) = load.filter(|l| !l.timeline.is_empty()) {
            @let series = Series::from_report(l);
            @let stretches: Vec<Stretch> = r.steps.iter().enumerate().map(|(i, s)| Stretch {
                from_s: since(s.changed_at),
                to_s: r.steps.get(i + 1).map_or_else(|| r.rolled_back_at.map_or(series.end(), since), |n| since(n.changed_at)),
                shares: shares(&s.weights),
            }).collect();
            @for (title, drawn, caption) in [
                ("Split over time, against each step's weights", schedule_share_chart(&series, &stretches, r.rolled_back_at.map(since)),
                 "Share of all responses per target each second (solid) and the share the step in force gives it (dashed). Grey: a weight change; red: the rollback. Each step is judged from its change plus the convergence time."),
                ("Requests per second", rate_chart(&series), "Scheduled load, and where each request went (a target, no response, dropped)."),
                ("Latency per target", latency_chart(&series), "Corrected latency of ok responses: p99 solid, p50 dashed."),
            ] {
                h2 { (title) }
                figure {
                    @match drawn {
                        Ok(d) => { (PreEscaped(d.svg)) (legend(&d.keys)) },
                        Err(e) => p { "This chart could not be drawn: " (e) },
                    }
                    figcaption { (caption) }
                }
            }
        }
    };
    let markup = html! {
        (maud::DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                title { "weighbridge rollout" }
                style { (PreEscaped(STYLE)) }
            }
            body { h1 { "weighbridge rollout" } (body) }
        }
    };
    markup.into_string()
}
