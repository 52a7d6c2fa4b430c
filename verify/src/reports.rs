//! Loadgen reports as the judge's input: read (and validated) with
//! `Report::read`, merged with `weighbridge_report::merge`, then turned into
//! what the tests need: per-target and per-path [`Counts`], per-window
//! tables from the timeline, and per-client first assignments.

use std::collections::BTreeMap;
use std::path::PathBuf;

use weighbridge_report::{Report, merge};

use crate::counts::Counts;
use crate::error::InputError;
use crate::windows::Windows;

/// Reads every file (each validated on read) and merges them into one
/// validated report. A missing, truncated, unknown-version or inconsistent
/// report is an error, never a verdict.
pub fn read_merged(paths: &[PathBuf]) -> Result<Report, InputError> {
    match paths {
        [] => Err(InputError::NothingToJudge(
            "no report file given".to_owned(),
        )),
        [one] => Ok(Report::read(one)?),
        _ => {
            let mut reports = Vec::with_capacity(paths.len());
            for path in paths {
                reports.push(Report::read(path)?);
            }
            Ok(merge(&reports)?)
        }
    }
}

/// The error for a label the report has no target for.
pub fn unknown_target(report: &Report, label: &str) -> InputError {
    InputError::UnknownTarget {
        label: label.to_owned(),
        known: report
            .targets
            .keys()
            .cloned()
            .collect::<Vec<_>>()
            .join(", "),
    }
}

/// Requests per target (`requests` = ok + failed responses: a 5xx was still
/// routed there) and the per-path breakdown.
pub fn counts(report: &Report) -> Counts {
    let mut c = Counts::new();
    for (label, target) in &report.targets {
        c.add(label, target.requests);
    }
    for (path, by_target) in &report.paths {
        for (label, &n) in by_target {
            c.add_path(path, label, n);
        }
    }
    c
}

/// The timeline cut into windows of `window_s` seconds: one row per window,
/// one column per label of `labels` (responses whose intended send time fell
/// in the window). Rule-path requests cannot be told apart here.
/// Windows without a second in the timeline have no row.
pub fn window_table(report: &Report, labels: &[String], window_s: u64) -> Vec<Vec<u64>> {
    let windows = Windows::of_timeline(report, window_s);
    let mut rows: BTreeMap<usize, Vec<u64>> = BTreeMap::new();
    for second in &report.timeline {
        let Some(w) = windows.index(second.t) else {
            continue;
        };
        let row = rows.entry(w).or_insert_with(|| vec![0; labels.len()]);
        for (i, label) in labels.iter().enumerate() {
            row[i] += second.targets.get(label).copied().unwrap_or(0);
        }
    }
    rows.into_values().collect()
}

/// Clients counted by their first target (the assignment stickiness should
/// keep), and how many clients were later served by another target too.
pub fn client_counts(report: &Report) -> Option<(Counts, u64)> {
    let clients = report.clients.as_ref()?;
    let mut c = Counts::new();
    let mut switched = 0;
    for client in clients.values() {
        c.add(&client.first_target, 1);
        if client
            .targets
            .iter()
            .any(|(l, &n)| n > 0 && *l != client.first_target)
        {
            switched += 1;
        }
    }
    Some((c, switched))
}

/// Clients × `labels` table of responses, for the per-client homogeneity test.
pub fn client_table(report: &Report, labels: &[String]) -> Option<Vec<Vec<u64>>> {
    let clients = report.clients.as_ref()?;
    Some(
        clients
            .values()
            .map(|c| {
                labels
                    .iter()
                    .map(|l| c.targets.get(l).copied().unwrap_or(0))
                    .collect()
            })
            .collect(),
    )
}

/// The requests on paths with an exclusive rule in `policy`, when the
/// report's timeline cannot place them second by second (a loadgen older
/// than `timeline[].paths`): a judge of seconds cannot leave them out of
/// the weighted split. None when there are none, or the seconds have paths.
pub fn rule_paths_without_seconds(
    policy: &weighbridge_policy::Policy,
    report: &Report,
) -> Option<u64> {
    let on_rule_paths: u64 = report
        .paths
        .iter()
        .filter(|(path, _)| policy.rule_for_path(path).is_some())
        .map(|(_, by_target)| by_target.values().sum::<u64>())
        .sum();
    let per_path = report
        .timeline
        .iter()
        .all(|s| !s.paths.is_empty() || s.targets.values().all(|&n| n == 0));
    (on_rule_paths > 0 && !per_path).then_some(on_rule_paths)
}
