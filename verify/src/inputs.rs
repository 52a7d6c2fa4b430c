//! From each input to a complete verdict: a merged loadgen report (requests
//! or sticky clients, path rules, failed requests, windows, clients) or
//! CloudWatch counts (per target group, per period). Inline `--counts` go
//! straight to [`crate::split::judge`].

use weighbridge_policy::Policy;
use weighbridge_report::{MAX_TARGETS, OVERFLOW_TARGET, Report, UNKNOWN_TARGET};

use crate::cloudwatch::{self, CloudWatchCounts};
use crate::counts::Counts;
use crate::dispersion::homogeneity;
use crate::error::InputError;
use crate::failures;
use crate::reports;
use crate::split::{
    ClientSummary, SplitOptions, SplitReport, Unit, WindowSummary, judge_with, sequential,
};

/// Default window of the per-window test, seconds.
pub const DEFAULT_WINDOW_S: u64 = 30;

/// Checks beyond the split test, for reports.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ReportChecks {
    /// Window of the per-window test, seconds.
    pub window_s: u64,
    /// Judge clients, not requests, even if the policy has stickiness off.
    pub sticky: bool,
    /// FAIL above this error rate (a fraction), when given.
    pub max_error_rate: Option<f64>,
}

impl Default for ReportChecks {
    fn default() -> Self {
        ReportChecks {
            window_s: DEFAULT_WINDOW_S,
            sticky: false,
            max_error_rate: None,
        }
    }
}

impl ReportChecks {
    /// Checks every option's range.
    pub fn validate(&self) -> Result<(), InputError> {
        if let Some(max) = self.max_error_rate
            && !(0.0..=1.0).contains(&max)
        {
            return Err(InputError::BadOption {
                name: "max-error-rate",
                value: max,
                reason: "must be a fraction between 0 and 1 (or a percentage like 1%)",
            });
        }
        crate::error::check_window(self.window_s)
    }
}

fn positive_labels(policy: &Policy) -> Vec<String> {
    policy
        .targets()
        .iter()
        .filter(|t| t.weight > 0)
        .map(|t| t.label.clone())
        .collect()
}

/// Judges a (merged, validated) report.
pub fn judge_report(
    policy: &Policy,
    report: &Report,
    options: &SplitOptions,
    checks: &ReportChecks,
) -> Result<SplitReport, InputError> {
    checks.validate()?;
    let counts = reports::counts(report);
    let sticky = checks.sticky || policy.stickiness().enabled;
    let why_sticky = if policy.stickiness().enabled {
        "the policy enables stickiness"
    } else {
        "--sticky was given"
    };
    let by_requests = judge_with(policy, &counts, options, Unit::Requests)?;
    let client_counts = reports::client_counts(report);
    let mut out = match (sticky, &client_counts) {
        (true, Some((clients, _))) if by_requests.leaks.is_empty() => {
            let mut r = judge_with(policy, clients, options, Unit::Clients)?;
            r.notes.insert(
                0,
                format!(
                    "{why_sticky}: judged {} clients by their first target, not {} requests. A \
                     sticky client's later requests follow its first assignment, so they repeat \
                     one decision of the router; only first assignments are independent evidence \
                     of the weights (by requests: p = {}, {})",
                    clients.total(),
                    by_requests.n,
                    by_requests
                        .p_value
                        .map_or("none".to_owned(), |p| format!("{p:.3e}")),
                    by_requests.verdict.as_str()
                ),
            );
            if !policy.path_rules().is_empty() {
                r.notes.push(
                    "path rules were checked on requests; a client whose first request was on a \
                     rule path counts for that rule's target"
                        .to_owned(),
                );
            }
            r
        }
        (true, Some(_)) => {
            let mut r = by_requests;
            r.notes.push(format!(
                "{why_sticky}, but requests leaked, so the split of clients was not tested"
            ));
            r
        }
        (true, None) => {
            let mut r = by_requests;
            if !policy.stickiness().enabled {
                r.notes.push(
                    "--sticky: the report has no clients, so requests were judged; their counts \
                     overstate the evidence"
                        .to_owned(),
                );
            }
            r
        }
        (false, _) => by_requests,
    };
    out.source = "reports";

    // --- per window ---
    let labels = positive_labels(policy);
    let table = reports::window_table(report, &labels, checks.window_s);
    let test = homogeneity("window", &labels, &table);
    if let Some(note) = test.as_ref().and_then(|t| t.note(options.alpha)) {
        out.notes.push(note);
    }
    out.windows = Some(WindowSummary {
        window_s: checks.window_s,
        from: "timeline",
        test,
    });

    // --- per client ---
    if let Some((clients, switched)) = &client_counts {
        let heterogeneity = if sticky {
            None
        } else {
            reports::client_table(report, &labels).and_then(|t| homogeneity("client", &labels, &t))
        };
        if let Some(note) = heterogeneity.as_ref().and_then(|h| h.note(options.alpha)) {
            out.notes.push(note);
        }
        if sticky && *switched > 0 {
            out.notes.push(format!(
                "{switched} of {} clients were served by more than one target although \
                 stickiness is expected (cookie expired or not sent, an instance gone, or \
                 stickiness not configured on the listener)",
                clients.total()
            ));
        }
        out.clients = Some(ClientSummary {
            clients: clients.total(),
            switched: *switched,
            heterogeneity,
        });
    }

    // --- failures ---
    let errors = failures::errors(report, checks.max_error_rate);
    if let Some(reason) = errors.failure_reason() {
        out.fail_with(reason);
    } else if errors.failed > 0 {
        out.notes.push(format!(
            "{} of {} requests failed ({:.3} %; {} without a response); --max-error-rate sets a limit",
            errors.failed,
            errors.sent,
            100.0 * errors.rate,
            errors.without_target
        ));
    }
    out.errors = Some(errors);

    // --- what the report says about itself ---
    if counts.get(UNKNOWN_TARGET) > 0 && policy.weight(UNKNOWN_TARGET).is_none() {
        out.notes.push(format!(
            "{} responses came back without an x-served-by header (loadgen labels them \
             `{UNKNOWN_TARGET}`): something other than a weighbridge backend answered",
            counts.get(UNKNOWN_TARGET)
        ));
    }
    if counts.get(OVERFLOW_TARGET) > 0 && policy.weight(OVERFLOW_TARGET).is_none() {
        out.notes.push(format!(
            "loadgen saw more than {MAX_TARGETS} target labels and counted {} responses as \
             `{OVERFLOW_TARGET}`: the target header does not name targets",
            counts.get(OVERFLOW_TARGET)
        ));
    }
    if report.interrupted {
        out.notes
            .push("the load run was interrupted; the counts cover the part that ran".to_owned());
    }
    if report.loadgen.is_some_and(|l| l.bottleneck) {
        out.notes.push(
            "loadgen reports itself as the bottleneck: latencies and error rates say little \
             about the targets (the split is still judged)"
                .to_owned(),
        );
    }
    if report.totals.dropped > 0 {
        out.notes.push(format!(
            "{} scheduled requests were never sent (loadgen over capacity or interrupted)",
            report.totals.dropped
        ));
    }
    Ok(out)
}

/// Every positive-weight target of the policy needs a target group: checked
/// before CloudWatch is asked anything.
fn check_target_groups(policy: &Policy, labels: &[String]) -> Result<(), InputError> {
    let positive = positive_labels(policy);
    let missing: Vec<&String> = positive.iter().filter(|p| !labels.contains(p)).collect();
    if !missing.is_empty() {
        return Err(InputError::BadList {
            list: labels.join(","),
            reason: format!(
                "--target-group names no target group for {}, which the policy gives a positive weight",
                missing
                    .iter()
                    .map(|s| s.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        });
    }
    Ok(())
}

/// Judges the split of real traffic from CloudWatch: the query and its
/// target groups are checked against the policy before CloudWatch is asked
/// anything, then the counts are judged with the per-period test.
/// Judges a report once, as [`judge_report`] does, then replays its
/// timeline second by second with the sequential judge
/// ([`crate::split::sequential`]): the verdict becomes the one the
/// sequential judge reached at its first decision, as if the run had been
/// stopped there. An error rate above `--max-error-rate` over the whole run
/// still FAILs.
///
/// Each second's per-path counts (`timeline[].paths`) let rule-path
/// requests leave the weighted test look by look, as the fixed-N judge
/// leaves them out. A report written before that field, with traffic on
/// rule paths, is refused rather than judged wrongly; so is a sticky one
/// (sticky clients' requests are not independent).
pub fn replay_report(
    policy: &Policy,
    report: &Report,
    options: &SplitOptions,
    checks: &ReportChecks,
) -> Result<SplitReport, InputError> {
    if checks.sticky || policy.stickiness().enabled {
        return Err(InputError::SequentialUnsupported {
            reason: "stickiness is on, and the sequential judge counts requests, which repeat \
                     their client's first assignment; judge the report once, by clients, \
                     without --sequential"
                .to_owned(),
        });
    }
    if let Some(on_rule_paths) = crate::reports::rule_paths_without_seconds(policy, report) {
        return Err(InputError::SequentialUnsupported {
            reason: format!(
                "{on_rule_paths} requests are on paths with an exclusive rule, and this report's \
                 timeline has no per-path counts (timeline[].paths, which older loadgens do not \
                 write); replay a newer report, or judge this one without --sequential"
            ),
        });
    }
    let mut out = judge_report(policy, report, options, checks)?;
    let mut timeline: Vec<&weighbridge_report::Second> = report.timeline.iter().collect();
    timeline.sort_by_key(|s| s.t);
    let mut so_far = Counts::new();
    let looks = timeline.into_iter().map(|second| {
        for (label, &count) in &second.targets {
            so_far.add(label, count);
        }
        for (path, by_target) in &second.paths {
            for (label, &count) in by_target {
                so_far.add_path(path, label, count);
            }
        }
        (second.t + 1, so_far.clone())
    });
    let summary = sequential::judge_looks(policy, options, looks, out.verdict)?;
    let error_rate_exceeded = out.errors.as_ref().is_some_and(|e| !e.exceeded.is_empty());
    out.notes.push(format!(
        "judged once on all {} requests (fixed N): {} — {}",
        out.n,
        out.verdict.as_str(),
        out.reason
    ));
    if summary.verdict == crate::verdict::Verdict::Pass
        && let Some(p) = summary.srm_p_value.filter(|&p| p < options.alpha)
    {
        out.notes.push(format!(
            "the split differs from the exact weights (sequential SRM p = {}), within the \
             tolerance",
            crate::fmt::p_text(p)
        ));
    }
    out.verdict = summary.verdict;
    out.reason = summary.reason.clone();
    out.required_n = None;
    out.required_n_basis = None;
    out.sequential = Some(summary);
    if error_rate_exceeded {
        out.fail_with("the error rate exceeds --max-error-rate over the whole run".to_owned());
    }
    Ok(out)
}

pub fn judge_cloudwatch(
    policy: &Policy,
    query: &cloudwatch::Query,
    options: &SplitOptions,
) -> Result<SplitReport, InputError> {
    let labels: Vec<String> = query.target_groups.iter().map(|(l, _)| l.clone()).collect();
    check_target_groups(policy, &labels)?;
    let cw = cloudwatch::fetch(query)?;
    judge_cloudwatch_counts(policy, &labels, &cw, options)
}

/// Judges counts from CloudWatch (`labels` checked by
/// [`check_target_groups`]), with the per-period test.
fn judge_cloudwatch_counts(
    policy: &Policy,
    labels: &[String],
    cw: &CloudWatchCounts,
    options: &SplitOptions,
) -> Result<SplitReport, InputError> {
    let positive = positive_labels(policy);
    let mut out = judge_with(policy, &cw.counts, options, Unit::Requests)?;
    out.source = "cloudwatch";
    let table: Vec<Vec<u64>> = cw
        .periods
        .values()
        .map(|row| {
            positive
                .iter()
                .map(|p| {
                    labels
                        .iter()
                        .position(|l| l == p)
                        .map_or(0, |i| row.get(i).copied().unwrap_or(0))
                })
                .collect()
        })
        .collect();
    let test = homogeneity("window", &positive, &table);
    if let Some(note) = test.as_ref().and_then(|t| t.note(options.alpha)) {
        out.notes.push(note);
    }
    out.windows = Some(WindowSummary {
        window_s: u64::try_from(cw.period_s).unwrap_or(60),
        from: "cloudwatch",
        test,
    });
    for t in policy
        .targets()
        .iter()
        .filter(|t| t.weight == 0 && !labels.contains(&t.label))
    {
        out.notes.push(format!(
            "no --target-group was given for {}, which has weight 0: leaks to it were not checked",
            t.label
        ));
    }
    out.notes.push(
        "CloudWatch RequestCount counts requests the load balancer routed to each target group \
         (failed ones included); path rules and failures cannot be checked from it"
            .to_owned(),
    );
    Ok(out)
}
