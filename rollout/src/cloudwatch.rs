//! A rollout judged on production traffic, with no load sent: each step's
//! split is read from the load balancer's `RequestCount` per target group
//! over the step's window (as `verify split --cloudwatch` reads it) and
//! judged with the fixed-N rule. The windows are whole minutes (the
//! metric's period): the window starts at the first whole minute after
//! the change plus the convergence time, and is read `--metric-delay`
//! after it ends, once CloudWatch has the minute. CloudWatch has no
//! latency per request and no failures per target group in this metric:
//! the canary gate and the error rate are not judged (said in the report).

use std::time::Duration;

use time::OffsetDateTime;
use tokio::sync::watch;
use verify::cloudwatch::{Query, fetch};
use verify::{SplitOptions, Unit, Verdict, judge_with};
use weighbridge_report::rollout::{Check, ErrorCheck, SplitCheck};

use crate::drive::{Ending, StepRun, conclude};
use crate::plan::{Plan, weights_of};
use crate::router::{Router, weights_text};
use crate::step::Judgement;

/// Time, as the rollout waits on it: the wall clock, or a test's.
pub trait Clock {
    fn now(&self) -> OffsetDateTime;
    fn sleep_until(&self, t: OffsetDateTime) -> impl std::future::Future<Output = ()> + Send;
}

/// The wall clock.
#[derive(Debug, Clone, Copy, Default)]
pub struct WallClock;

impl Clock for WallClock {
    fn now(&self) -> OffsetDateTime {
        OffsetDateTime::now_utc()
    }

    async fn sleep_until(&self, t: OffsetDateTime) {
        let wait = (t - OffsetDateTime::now_utc()).max(time::Duration::ZERO);
        tokio::time::sleep(Duration::try_from(wait).unwrap_or_default()).await;
    }
}

/// A test's clock: starts at a given time and, asked to sleep, jumps there
/// at once (`rollout --simulated-clock`), so a schedule of minutes is
/// walked in milliseconds against CloudWatch data put for those minutes.
#[derive(Debug)]
pub struct SimulatedClock(std::sync::Mutex<OffsetDateTime>);

impl SimulatedClock {
    pub fn starting_at(t: OffsetDateTime) -> Self {
        SimulatedClock(std::sync::Mutex::new(t))
    }
}

impl Clock for SimulatedClock {
    fn now(&self) -> OffsetDateTime {
        *self
            .0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    async fn sleep_until(&self, t: OffsetDateTime) {
        {
            let mut now = self
                .0
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            *now = (*now).max(t);
        }
        tokio::task::yield_now().await;
    }
}

/// Where the counts come from: the load balancer and a target group per
/// label, as CloudWatch dimensions.
#[derive(Debug, Clone)]
pub struct Source {
    pub load_balancer: String,
    pub target_groups: Vec<(String, String)>,
}

impl Source {
    /// The dimensions of a listener rule's load balancer and of the target
    /// groups' ARNs.
    pub fn from_arns(rule_arn: &str, target_groups: &[(String, String)]) -> Result<Source, String> {
        let load_balancer = crate::elbv2::load_balancer_dimension(rule_arn).ok_or_else(|| {
            format!("--listener-rule {rule_arn}: not a listener-rule ARN (…:listener-rule/app/NAME/ID/…)")
        })?;
        let target_groups = target_groups
            .iter()
            .map(|(label, arn)| {
                crate::elbv2::target_group_dimension(arn)
                    .map(|d| (label.clone(), d))
                    .ok_or_else(|| {
                        format!("--target-group {label}={arn}: not a target group ARN (…:targetgroup/NAME/ID)")
                    })
            })
            .collect::<Result<_, _>>()?;
        Ok(Source {
            load_balancer,
            target_groups,
        })
    }
}

/// How the CloudWatch rollout is timed.
#[derive(Debug, Clone, Copy)]
pub struct Timing {
    /// Left out after each change [default: one metric period].
    pub convergence: Duration,
    /// How long after a window ends its minutes are read.
    pub metric_delay: Duration,
}

const MINUTE: i64 = 60;

/// `t` rounded up to a whole minute.
fn ceil_minute(t: OffsetDateTime) -> OffsetDateTime {
    let s = t.unix_timestamp();
    let up = if s % MINUTE == 0 && t.nanosecond() == 0 {
        s
    } else {
        (s / MINUTE + 1) * MINUTE
    };
    OffsetDateTime::from_unix_timestamp(up).unwrap_or(t)
}

fn minutes(d: Duration) -> i64 {
    let s = i64::try_from(d.as_secs()).unwrap_or(i64::MAX / 2).max(1);
    (s + MINUTE - 1) / MINUTE
}

/// Walks the schedule on `router`, judging each step on CloudWatch; stops
/// (and rolls back) when `stop` turns true.
#[allow(clippy::too_many_arguments)]
pub async fn drive<C: Clock + Sync>(
    plan: &Plan,
    split: &SplitOptions,
    router: &Router,
    source: &Source,
    timing: Timing,
    clock: &C,
    mut stop: watch::Receiver<bool>,
    say: bool,
) -> Ending {
    let mut ending = Ending {
        steps: Vec::new(),
        verdict: Verdict::Pass,
        reason: String::new(),
        rolled_back: false,
        rolled_back_at: None,
        final_weights: Vec::new(),
        interrupted: false,
        router_error: None,
        notes: vec![
            "traffic from CloudWatch RequestCount per target group: the canary gate and the error rate are not judged (the metric has no latency per request and no failures per target group), and path rules cannot be checked".to_owned(),
        ],
    };
    let mut previous = router.read(&plan.policy).await.ok();
    'steps: for (i, step) in plan.steps.iter().enumerate() {
        let weights = weights_of(step);
        let label = format!("step {} ({})", i + 1, weights_text(&weights));
        if let Err(e) = router.set(&weights).await {
            ending.router_error = Some(e.to_string());
            ending.verdict = Verdict::Inconclusive;
            ending.reason = format!("{label}: the router could not be changed: {e}");
            break;
        }
        let changed_at = clock.now();
        let applied = match router.read(&plan.policy).await {
            Ok(a) => a,
            Err(e) => {
                ending.router_error = Some(e.to_string());
                ending.verdict = Verdict::Inconclusive;
                ending.reason = format!("{label}: the router could not be read: {e}");
                break;
            }
        };
        let from = ceil_minute(changed_at + timing.convergence);
        let hold = minutes(step.hold);
        let longest = minutes(plan.longest_hold(i)).max(hold);
        let looks = u32::try_from((longest + hold - 1) / hold)
            .unwrap_or(1)
            .max(1);
        let options = SplitOptions {
            alpha: split.alpha / f64::from(looks),
            ..*split
        };
        let mut run = StepRun {
            index: i,
            weights: weights.clone(),
            applied: applied.clone(),
            changed_at,
            convergence: timing.convergence,
            from_second: 0,
            seconds: 0,
            extensions: 0,
            verdict: Verdict::Inconclusive,
            reason: String::new(),
            router: Check {
                verdict: "PASS".to_owned(),
                reason: format!("the router reports {}", weights_text(&applied)),
            },
            judgement: None,
            window_wall: None,
        };
        if let Some(why) = crate::router::mismatch(previous.as_deref(), &applied, &weights) {
            run.router = Check {
                verdict: "FAIL".to_owned(),
                reason: why.clone(),
            };
            run.verdict = Verdict::Fail;
            run.reason = format!("router: {why}");
            ending.verdict = Verdict::Fail;
            ending.reason = format!("{label}: {}", run.reason);
            ending.steps.push(run);
            break;
        }
        previous = Some(applied.clone());
        let mut to = from + time::Duration::minutes(hold);
        if say {
            crate::drive::say(&format!(
                "{label}: set; router reports {}; CloudWatch window from {from} (read {} after each minute)",
                weights_text(&applied),
                humantime::format_duration(timing.metric_delay)
            ));
        }
        loop {
            let wake = to + time::Duration::try_from(timing.metric_delay).unwrap_or_default();
            tokio::select! {
                () = clock.sleep_until(wake) => {}
                _ = stop.wait_for(|s| *s) => {
                    run.reason = "interrupted before the step was decided".to_owned();
                    ending.interrupted = true;
                    ending.verdict = Verdict::Inconclusive;
                    ending.reason = format!("interrupted during {label}: rolled back");
                    ending.steps.push(run);
                    break 'steps;
                }
            }
            let query = Query {
                target_groups: source.target_groups.clone(),
                load_balancer: source.load_balancer.clone(),
                start: from,
                end: to,
            };
            let fetched = tokio::task::spawn_blocking(move || fetch(&query)).await;
            let counts = match fetched {
                Ok(Ok(cw)) => cw.counts,
                Ok(Err(e)) => {
                    ending.verdict = Verdict::Inconclusive;
                    ending.reason = format!("{label}: CloudWatch could not be read: {e}");
                    ending.router_error = Some(e.to_string());
                    ending.steps.push(run);
                    break 'steps;
                }
                Err(e) => {
                    ending.verdict = Verdict::Inconclusive;
                    ending.reason = format!("{label}: the CloudWatch call did not finish: {e}");
                    ending.steps.push(run);
                    break 'steps;
                }
            };
            let policy = plan.step_policy(i);
            let judged = match judge_with(&policy, &counts, &options, Unit::Requests) {
                Ok(j) => j,
                Err(e) => {
                    ending.verdict = Verdict::Inconclusive;
                    ending.reason = format!("{label} could not be judged: {e}");
                    ending.steps.push(run);
                    break 'steps;
                }
            };
            run.window_wall = Some((from, to));
            run.judgement = Some(Judgement {
                verdict: judged.verdict,
                reason: judged.reason.clone(),
                split: SplitCheck {
                    verdict: judged.verdict.as_str().to_owned(),
                    reason: judged.reason.clone(),
                    n: judged.n,
                    counts: judged
                        .targets
                        .iter()
                        .map(|t| (t.label.clone(), t.observed))
                        .collect(),
                    shares: judged
                        .targets
                        .iter()
                        .map(|t| (t.label.clone(), t.share))
                        .collect(),
                },
                split_verdict: judged.verdict,
                gate: None,
                errors: (
                    Verdict::Pass,
                    ErrorCheck {
                        verdict: "PASS".to_owned(),
                        reason: "not measured: RequestCount has no failures per target group"
                            .to_owned(),
                        requests: judged.total,
                        failed: 0,
                        max_rate: None,
                    },
                ),
                stickiness: None,
            });
            let span = (to - from).whole_minutes();
            if judged.verdict != Verdict::Inconclusive || span >= longest {
                run.verdict = judged.verdict;
                run.reason = match judged.verdict {
                    Verdict::Fail => format!(
                        "the router reports {} but the traffic does not follow: split: {}",
                        weights_text(&applied),
                        judged.reason
                    ),
                    Verdict::Inconclusive => format!(
                        "not decided after {span} min (the longest hold): split: {}",
                        judged.reason
                    ),
                    Verdict::Pass => format!("split: {}", judged.reason),
                };
                break;
            }
            run.extensions += 1;
            to += time::Duration::minutes(hold);
        }
        let verdict = run.verdict;
        let reason = format!("{label}: {}", run.reason);
        if say {
            crate::drive::say(&format!("{label}: {} — {}", verdict.as_str(), run.reason));
        }
        ending.steps.push(run);
        if verdict != Verdict::Pass {
            ending.verdict = verdict;
            ending.reason = reason;
            break;
        }
    }
    conclude(plan, router, &mut ending, say).await;
    ending
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn windows_are_whole_minutes() {
        let t = OffsetDateTime::from_unix_timestamp(1_740_830_420).expect("time");
        assert_eq!(ceil_minute(t).unix_timestamp(), 1_740_830_460);
        let whole = OffsetDateTime::from_unix_timestamp(1_740_830_460).expect("time");
        assert_eq!(ceil_minute(whole), whole);
        assert_eq!(minutes(Duration::from_secs(61)), 2);
        assert_eq!(minutes(Duration::from_secs(15)), 1);
    }
}
