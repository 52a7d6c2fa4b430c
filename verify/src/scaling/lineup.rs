//! What AWS says about an ECS service's scaling, lined up with what the
//! clients saw ([`line_up`], no I/O): activities that started during the
//! run (seconds since the report's `started_at`), each matched to the
//! first scaling event of the ECS target the clients saw in the same
//! direction at or after it (or one still under way then); the lag is the
//! client-seen change minus the activity's start. Two checks join the
//! scaling report: `aws-activities` (FAIL when an activity failed) and
//! `aws-seen-by-clients` (FAIL when a change of the desired count was not
//! seen within `--within` / `--scale-in-within`, INCONCLUSIVE when that
//! deadline ends after the run). [`super::aws`] fetches what is lined up.

use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use super::{
    AwsScaling, Check, Deployment, Direction, LinedUpActivity, LinedUpServiceEvent, ScalingOptions,
    ScalingReport, TargetScaling, desired_text, takes_effect,
};
use crate::fmt::secs;
use crate::verdict::Verdict;

/// One Application Auto Scaling activity, as AWS reports it.
#[derive(Debug, Clone, PartialEq)]
pub struct Activity {
    /// Activity id.
    pub id: String,
    /// When it started.
    pub start: OffsetDateTime,
    /// When it ended, if it has.
    pub end: Option<OffsetDateTime>,
    /// `Pending`, `InProgress`, `Successful`, `Overridden`, `Unfulfilled` or `Failed`.
    pub status: String,
    /// The status message, if any.
    pub status_message: Option<String>,
    /// Description, e.g. "Setting desired count to 3.".
    pub description: String,
    /// Cause, e.g. "monitor alarm ... in state ALARM triggered policy ...".
    pub cause: String,
}

impl Activity {
    /// The desired count it sets, from the description (or the status message).
    pub fn desired_to(&self) -> Option<u64> {
        desired_count_in(&self.description)
            .or_else(|| self.status_message.as_deref().and_then(desired_count_in))
    }
}

/// The number after "desired count to" in `text`, e.g. 3 in "Setting
/// desired count to 3.".
pub fn desired_count_in(text: &str) -> Option<u64> {
    const KEY: &str = "desired count to";
    let at = text.to_ascii_lowercase().find(KEY)? + KEY.len();
    let rest = text.get(at..)?.trim_start();
    let digits: String = rest.chars().take_while(char::is_ascii_digit).collect();
    digits.parse().ok()
}

/// One ECS service event (the service's own log: tasks started, stopped,
/// steady state).
#[derive(Debug, Clone, PartialEq)]
pub struct ServiceEvent {
    /// When.
    pub at: OffsetDateTime,
    /// What.
    pub message: String,
}

/// What AWS said about the service, at the time of the query.
#[derive(Debug, Clone, PartialEq)]
pub struct EcsObservations {
    /// Cluster as given.
    pub cluster: String,
    /// Service as given.
    pub service: String,
    /// Desired count now.
    pub desired: u64,
    /// Running tasks now.
    pub running: u64,
    /// Pending tasks now.
    pub pending: u64,
    /// Deployments now.
    pub deployments: Vec<Deployment>,
    /// The service's recent events (ECS keeps the last 100).
    pub events: Vec<ServiceEvent>,
    /// Every scaling activity AWS still lists for the service (six weeks).
    pub activities: Vec<Activity>,
}

/// The last path segment of an ARN (`arn:...:cluster/NAME` → `NAME`), or
/// the text itself.
fn name_of(text: &str) -> &str {
    if text.starts_with("arn:") {
        text.rsplit('/').next().unwrap_or(text)
    } else {
        text
    }
}

/// The Application Auto Scaling resource id of an ECS service.
pub fn resource_id(cluster: &str, service: &str) -> String {
    format!("service/{}/{}", name_of(cluster), name_of(service))
}

/// Where a time falls relative to the run.
enum InRun {
    /// Before its start.
    Before,
    /// This many whole seconds after its start.
    At(u64),
    /// At or after its end.
    After,
}

/// Where `t` falls relative to the run `[start, start + duration_s)`.
fn in_run(start: OffsetDateTime, t: OffsetDateTime, duration_s: u64) -> InRun {
    let dt = (t - start).as_seconds_f64();
    if dt < 0.0 {
        return InRun::Before;
    }
    let s = dt.floor() as u64;
    if s >= duration_s {
        InRun::After
    } else {
        InRun::At(s)
    }
}

fn rfc3339(t: OffsetDateTime) -> String {
    t.format(&Rfc3339).unwrap_or_default()
}

/// Statuses that mean the desired count was not (fully) set.
fn did_not_scale(status: &str) -> bool {
    matches!(status, "Failed" | "Unfulfilled")
}

/// The first client-seen event in `direction` at or after `at_s` (or still
/// under way then: two activities in quick succession make one event) that
/// reaches the desired count `to` (at least `to` instances for a scale-out,
/// at most for a scale-in), and the second the clients saw the change.
fn matching_event(
    ts: &TargetScaling,
    direction: Direction,
    at_s: u64,
    to: Option<u64>,
) -> Option<(usize, u64)> {
    let reaches = |e: &crate::scaling::ScalingEvent| match (direction, to) {
        (Direction::Up, Some(to)) => e.to >= to,
        (Direction::Down, Some(to)) => e.to <= to,
        (_, None) => true,
    };
    ts.events
        .iter()
        .enumerate()
        .find(|(_, e)| e.direction == direction && e.end_s >= at_s && reaches(e))
        .map(|(i, e)| {
            (
                i,
                if e.start_s >= at_s {
                    e.start_s
                } else {
                    e.end_s
                },
            )
        })
}

/// Lines `obs` up with `report` (judged from a run that started at
/// `run_started_at`): fills `report.aws`, appends the `aws-activities` and
/// `aws-seen-by-clients` checks and notes, and recomputes the verdict.
pub fn line_up(
    report: &mut ScalingReport,
    run_started_at: OffsetDateTime,
    obs: &EcsObservations,
    target: &str,
    options: &ScalingOptions,
) {
    let ts = report
        .targets
        .iter()
        .find(|t| t.target == target && t.instances_seen > 0)
        .cloned();
    let window_s = report.window_s.max(1);
    let mut sorted: Vec<&Activity> = obs.activities.iter().collect();
    sorted.sort_by_key(|a| a.start);

    let (mut before_run, mut after_run) = (0, 0);
    let mut previous: Option<u64> = None;
    let mut activities = Vec::new();
    let mut checks = Vec::new();
    let mut notes = Vec::new();
    let mut check = |name: &'static str, verdict: Verdict, detail: String| {
        checks.push(Check {
            target: target.to_owned(),
            name,
            verdict,
            detail,
        });
    };
    for a in sorted {
        let to = a.desired_to();
        let from = previous;
        if takes_effect(&a.status) && to.is_some() {
            previous = to;
        }
        let at_s = match in_run(run_started_at, a.start, report.duration_s) {
            InRun::At(s) => s,
            InRun::Before => {
                before_run += 1;
                continue;
            }
            InRun::After => {
                after_run += 1;
                continue;
            }
        };
        // Without an earlier activity: compare with what the clients saw then.
        let baseline = from.or_else(|| {
            let w = usize::try_from(at_s / window_s).ok()?;
            ts.as_ref()?.series.get(w).copied()
        });
        let direction = match (baseline, to) {
            (Some(b), Some(t)) if t > b => Some(Direction::Up),
            (Some(b), Some(t)) if t < b => Some(Direction::Down),
            _ => None,
        };
        let seen = match (&ts, direction) {
            (Some(ts), Some(d)) if takes_effect(&a.status) => matching_event(ts, d, at_s, to),
            _ => None,
        };
        if to.is_none() {
            notes.push(format!(
                "{target}: verify cannot read a desired count from the scaling activity at {at_s} s ({:?})",
                a.description
            ));
        }
        activities.push(LinedUpActivity {
            id: a.id.clone(),
            start: rfc3339(a.start),
            at_s,
            from,
            to,
            direction,
            status: a.status.clone(),
            status_message: a.status_message.clone(),
            description: a.description.clone(),
            cause: a.cause.clone(),
            event: seen.map(|(i, _)| i),
            seen_at_s: seen.map(|(_, s)| s),
            lag_s: seen.map(|(_, s)| s - at_s),
        });
    }

    // aws-activities: did AWS manage to scale?
    let failed: Vec<&LinedUpActivity> = activities
        .iter()
        .filter(|a| did_not_scale(&a.status))
        .collect();
    if activities.is_empty() {
        check(
            "aws-activities",
            Verdict::Pass,
            "AWS reports no scaling activity during the run".to_owned(),
        );
        if before_run == 0 && after_run == 0 {
            notes.push(format!(
                "Application Auto Scaling has no activity at all for {}: is a scalable target registered for the service?",
                resource_id(&obs.cluster, &obs.service)
            ));
        }
    } else if failed.is_empty() {
        check(
            "aws-activities",
            Verdict::Pass,
            format!(
                "{} scaling activities during the run, none failed",
                activities.len()
            ),
        );
    } else {
        let what: Vec<String> = failed
            .iter()
            .map(|a| {
                format!(
                    "at {} s {:?}: {}",
                    a.at_s,
                    a.description,
                    a.status_message.as_deref().unwrap_or("no status message")
                )
            })
            .collect();
        check(
            "aws-activities",
            Verdict::Fail,
            format!(
                "{} of {} scaling activities during the run failed or were unfulfilled ({})",
                failed.len(),
                activities.len(),
                what.join("; ")
            ),
        );
    }

    // aws-seen-by-clients: every change of the desired count.
    let effective: Vec<&LinedUpActivity> = activities
        .iter()
        .filter(|a| takes_effect(&a.status))
        .collect();
    if ts.is_none() && !effective.is_empty() {
        check(
            "aws-seen-by-clients",
            Verdict::Inconclusive,
            format!(
                "{} scaling activities during the run, but no instances of target {target:?} in the report to compare with (check --ecs-target and --target)",
                effective.len()
            ),
        );
    }
    for a in effective {
        let (Some(ts), Some(direction)) = (&ts, a.direction) else {
            continue;
        };
        let (word, within_s) = match direction {
            Direction::Up => ("scale-out", options.within_s),
            Direction::Down => ("scale-in", options.scale_in_within_s),
        };
        let within = within_s.max(0.0).round() as u64;
        let what = format!("desired {} at {} s ({})", desired_text(a), a.at_s, a.status);
        match (a.event, a.lag_s) {
            (Some(e), Some(lag)) => {
                let e = &ts.events[e];
                check(
                    "aws-seen-by-clients",
                    if lag <= within {
                        Verdict::Pass
                    } else {
                        Verdict::Fail
                    },
                    format!(
                        "{what}: clients saw a {word} {} → {} at {} s, {} later (deadline {})",
                        e.from,
                        e.to,
                        a.seen_at_s.unwrap_or(e.start_s),
                        secs(lag as f64),
                        secs(within as f64)
                    ),
                );
            }
            _ => {
                let watched = report.duration_s.saturating_sub(a.at_s);
                // A change the clients saw that falls short of the desired count.
                let partly = ts
                    .events
                    .iter()
                    .find(|e| e.direction == direction && e.end_s >= a.at_s)
                    .map_or(String::new(), |e| {
                        format!(
                            " (they saw {} → {} at {} s, short of it)",
                            e.from, e.to, e.start_s
                        )
                    });
                let to = a.to.map_or(String::new(), |t| format!(" to {t}"));
                if watched >= within {
                    check(
                        "aws-seen-by-clients",
                        Verdict::Fail,
                        format!(
                            "{what}: clients saw no {word}{to} within {}{partly}",
                            secs(within as f64)
                        ),
                    );
                } else {
                    check(
                        "aws-seen-by-clients",
                        Verdict::Inconclusive,
                        format!(
                            "{what}: clients saw no {word}{to} yet, but the run ended {} after it (deadline {}){partly}",
                            secs(watched as f64),
                            secs(within as f64)
                        ),
                    );
                }
            }
        }
    }

    // Changes the clients saw that no scaling activity explains.
    if let Some(ts) = &ts {
        for (i, e) in ts.events.iter().enumerate() {
            if !activities.iter().any(|a| a.event == Some(i)) {
                notes.push(format!(
                    "{target}: clients saw {} → {} at {} s with no scaling activity behind it (a deployment, a replaced task, or scaling outside Application Auto Scaling)",
                    e.from, e.to, e.start_s
                ));
            }
        }
    }

    let clients_last_window = ts.as_ref().and_then(|t| t.series.last().copied());
    notes.push(format!(
        "ECS service {} (cluster {}) at the time of the query: desired {}, running {}, pending {}; clients saw {} instances of {target} in the last window",
        obs.service,
        obs.cluster,
        obs.desired,
        obs.running,
        obs.pending,
        clients_last_window.map_or("no".to_owned(), |n| n.to_string()),
    ));
    if before_run > 0 {
        notes.push(format!(
            "{before_run} scaling activities before the run ignored"
        ));
    }
    if after_run > 0 {
        notes.push(format!(
            "{after_run} scaling activities after the run ignored"
        ));
    }
    if obs.deployments.len() > 1 {
        notes.push(format!(
            "the ECS service has {} deployments (a rollout): instance changes may come from it, not from scaling",
            obs.deployments.len()
        ));
    }

    let mut service_events: Vec<LinedUpServiceEvent> = obs
        .events
        .iter()
        .filter_map(|e| match in_run(run_started_at, e.at, report.duration_s) {
            InRun::At(at_s) => Some(LinedUpServiceEvent {
                at_s,
                message: e.message.clone(),
            }),
            InRun::Before | InRun::After => None,
        })
        .collect();
    service_events.sort_by_key(|e| e.at_s);

    report.checks.extend(checks);
    report.notes.extend(notes);
    report.aws = Some(AwsScaling {
        target: target.to_owned(),
        cluster: obs.cluster.clone(),
        service: obs.service.clone(),
        run_started_at: rfc3339(run_started_at),
        desired: obs.desired,
        running: obs.running,
        pending: obs.pending,
        clients_last_window,
        activities,
        before_run,
        after_run,
        service_events,
        deployments: obs.deployments.clone(),
    });
    report.rejudge();
}

#[cfg(test)]
mod tests {
    use time::Duration;
    use weighbridge_report::Report;

    use super::*;
    use crate::scaling::{Expect, judge_scaling};
    use weighbridge_report::synth::Scenario;

    /// Clients see 2 → 4 tasks at 90 s and 4 → 2 at about 240 s.
    fn run() -> Report {
        Scenario::scale_out_and_in("t", 7).report().expect("report")
    }

    fn options() -> ScalingOptions {
        ScalingOptions {
            expect: Expect::Any,
            within_s: 60.0,
            scale_in_within_s: 120.0,
            ..ScalingOptions::default()
        }
    }

    fn activity(report: &Report, at_s: i64, to: u64, status: &str) -> Activity {
        Activity {
            id: format!("act-{at_s}"),
            start: report.started_at + Duration::seconds(at_s),
            end: Some(report.started_at + Duration::seconds(at_s + 5)),
            status: status.to_owned(),
            status_message: None,
            description: format!("Setting desired count to {to}."),
            cause: "monitor alarm in state ALARM triggered policy cpu".to_owned(),
        }
    }

    fn obs(activities: Vec<Activity>) -> EcsObservations {
        EcsObservations {
            cluster: "main".to_owned(),
            service: "web".to_owned(),
            desired: 2,
            running: 2,
            pending: 0,
            deployments: Vec::new(),
            events: Vec::new(),
            activities,
        }
    }

    fn lined_up(activities: impl Fn(&Report) -> Vec<Activity>) -> ScalingReport {
        let report = run();
        let mut judged = judge_scaling(&report, &options());
        line_up(
            &mut judged,
            report.started_at,
            &obs(activities(&report)),
            "ecs",
            &options(),
        );
        judged
    }

    fn checks<'a>(r: &'a ScalingReport, name: &str) -> Vec<&'a Check> {
        r.checks.iter().filter(|c| c.name == name).collect()
    }

    #[test]
    fn reads_the_desired_count_from_a_description() {
        assert_eq!(desired_count_in("Setting desired count to 3."), Some(3));
        assert_eq!(
            desired_count_in(
                "Successfully set desired count to 12. Change successfully fulfilled by ecs."
            ),
            Some(12)
        );
        assert_eq!(desired_count_in("Setting min capacity to 2."), None);
        assert_eq!(
            resource_id("arn:aws:ecs:us-east-1:1:cluster/main", "web"),
            "service/main/web"
        );
    }

    #[test]
    fn activities_are_matched_with_their_lag() {
        let r = lined_up(|rep| {
            vec![
                activity(rep, 200, 2, "Successful"),
                activity(rep, 60, 4, "Successful"),
                activity(rep, -600, 2, "Successful"),
            ]
        });
        let aws = r.aws.as_ref().expect("aws");
        assert_eq!(aws.before_run, 1);
        assert_eq!(aws.activities.len(), 2);
        let out = &aws.activities[0];
        assert_eq!((out.at_s, out.from, out.to), (60, Some(2), Some(4)));
        assert_eq!(out.direction, Some(Direction::Up));
        assert_eq!(
            (out.event, out.seen_at_s, out.lag_s),
            (Some(0), Some(90), Some(30))
        );
        let back = &aws.activities[1];
        assert_eq!(back.direction, Some(Direction::Down));
        assert_eq!(back.event, Some(1));
        let lag = back.lag_s.expect("scale-in seen");
        assert!((39..=41).contains(&lag), "{lag}");
        let seen = checks(&r, "aws-seen-by-clients");
        assert_eq!(seen.len(), 2);
        assert!(seen.iter().all(|c| c.verdict == Verdict::Pass), "{seen:?}");
        assert_eq!(checks(&r, "aws-activities")[0].verdict, Verdict::Pass);
        assert_eq!(r.verdict, Verdict::Pass, "{}", r.reason);
        assert!(
            r.notes
                .iter()
                .any(|n| n.contains("1 scaling activities before the run ignored"))
        );
        assert!(
            r.notes
                .iter()
                .any(|n| n.contains("desired 2, running 2, pending 0")
                    && n.contains("clients saw 2 instances"))
        );
    }

    #[test]
    fn a_change_seen_only_in_part_fails() {
        // Desired 2 → 6 at 60 s; the clients saw 2 → 4 at 90 s and no more.
        let r = lined_up(|rep| vec![activity(rep, 60, 6, "Successful")]);
        let seen = checks(&r, "aws-seen-by-clients");
        assert_eq!(seen[0].verdict, Verdict::Fail, "{seen:?}");
        assert!(
            seen[0].detail.contains("to 6") && seen[0].detail.contains("saw 2 → 4 at 90 s"),
            "{}",
            seen[0].detail
        );
        // That 2 → 4 then has no activity behind it: a note says so.
        assert!(
            r.notes
                .iter()
                .any(|n| n.contains("2 → 4 at 90 s with no scaling activity")),
            "{:?}",
            r.notes
        );
    }

    #[test]
    fn an_unfulfilled_activity_fails_like_a_failed_one() {
        let r = lined_up(|rep| vec![activity(rep, 60, 4, "Unfulfilled")]);
        let act = checks(&r, "aws-activities");
        assert_eq!(act[0].verdict, Verdict::Fail, "{act:?}");
        assert!(act[0].detail.contains("unfulfilled"), "{}", act[0].detail);
    }

    #[test]
    fn no_activity_at_all_asks_whether_the_service_autoscales() {
        let r = lined_up(|_| Vec::new());
        assert!(
            r.notes
                .iter()
                .any(|n| n.contains("no activity at all for service/main/web")),
            "{:?}",
            r.notes
        );
    }

    #[test]
    fn a_change_never_seen_fails() {
        // Desired 4 → 6 at 100 s: the clients never saw a sixth... or fifth task.
        let r = lined_up(|rep| {
            vec![
                activity(rep, 60, 4, "Successful"),
                activity(rep, 100, 6, "Successful"),
            ]
        });
        let seen = checks(&r, "aws-seen-by-clients");
        assert_eq!(seen[0].verdict, Verdict::Pass);
        assert_eq!(seen[1].verdict, Verdict::Fail, "{seen:?}");
        assert!(
            seen[1].detail.contains("no scale-out to 6 within 1m"),
            "{}",
            seen[1].detail
        );
        assert_eq!(r.verdict, Verdict::Fail);
        assert!(r.reason.contains("aws-seen-by-clients"), "{}", r.reason);
    }

    #[test]
    fn a_failed_activity_fails() {
        let r = lined_up(|rep| {
            vec![
                activity(rep, 60, 4, "Successful"),
                activity(rep, 120, 8, "Failed"),
            ]
        });
        let act = checks(&r, "aws-activities");
        assert_eq!(act.len(), 1);
        assert_eq!(act[0].verdict, Verdict::Fail);
        assert!(act[0].detail.contains("1 of 2"), "{}", act[0].detail);
        // The failed change is not expected to be seen by the clients.
        assert_eq!(checks(&r, "aws-seen-by-clients").len(), 1);
        assert_eq!(r.verdict, Verdict::Fail);
    }

    #[test]
    fn a_deadline_past_the_run_is_inconclusive() {
        // 4 → 6 at 270 s with a 60 s deadline: the run ends 30 s after it.
        let r = lined_up(|rep| {
            vec![
                activity(rep, 60, 4, "Successful"),
                activity(rep, 200, 2, "Successful"),
                activity(rep, 270, 6, "Successful"),
            ]
        });
        let seen = checks(&r, "aws-seen-by-clients");
        assert_eq!(seen.len(), 3);
        assert_eq!(seen[2].verdict, Verdict::Inconclusive, "{seen:?}");
        assert!(
            seen[2].detail.contains("the run ended 30s after it"),
            "{}",
            seen[2].detail
        );
        assert_eq!(r.verdict, Verdict::Inconclusive, "{}", r.reason);
    }

    #[test]
    fn activities_outside_the_run_are_ignored() {
        let report = run();
        let before = judge_scaling(&report, &options());
        let r = lined_up(|rep| {
            vec![
                activity(rep, -3600, 4, "Failed"),
                activity(rep, -600, 2, "Successful"),
                activity(rep, 400, 9, "Failed"),
            ]
        });
        let aws = r.aws.as_ref().expect("aws");
        assert!(aws.activities.is_empty());
        assert_eq!((aws.before_run, aws.after_run), (2, 1));
        let act = checks(&r, "aws-activities");
        assert_eq!(act[0].verdict, Verdict::Pass);
        assert!(
            act[0].detail.contains("no scaling activity"),
            "{}",
            act[0].detail
        );
        assert!(checks(&r, "aws-seen-by-clients").is_empty());
        assert_eq!(r.verdict, before.verdict);
        assert!(
            r.notes
                .iter()
                .any(|n| n.contains("2 scaling activities before the run ignored"))
        );
    }

    #[test]
    fn the_verdict_is_recomputed_like_judge_scaling() {
        // A report that FAILs on its own stays FAIL, with the same reason first.
        let report = run();
        let strict = ScalingOptions {
            max_instances: Some(3),
            ..options()
        };
        let mut judged = judge_scaling(&report, &strict);
        let (verdict, reason) = (judged.verdict, judged.reason.clone());
        judged.rejudge();
        assert_eq!(
            (judged.verdict, judged.reason.clone()),
            (verdict, reason.clone())
        );
        line_up(
            &mut judged,
            report.started_at,
            &obs(Vec::new()),
            "ecs",
            &strict,
        );
        assert_eq!(judged.verdict, Verdict::Fail);
        assert_eq!(judged.reason, reason);
        // A label with no instances cannot be compared: INCONCLUSIVE.
        let mut judged = judge_scaling(&report, &options());
        let acts = vec![activity(&report, 60, 4, "Successful")];
        line_up(
            &mut judged,
            report.started_at,
            &obs(acts),
            "fargate",
            &options(),
        );
        let seen = checks(&judged, "aws-seen-by-clients");
        assert_eq!(seen[0].verdict, Verdict::Inconclusive);
        assert!(
            seen[0].detail.contains("--ecs-target"),
            "{}",
            seen[0].detail
        );
    }
}
