//! `rollout`'s command line.

use std::path::PathBuf;
use std::time::Duration;

use clap::Parser;
use verify::cli::{OutputArgs, TargetGroups, WeightList};
use verify::tolerance::ToleranceBound;

use crate::plan::OnInconclusive;

/// Walk a policy's rollout schedule, judging every step on the traffic.
///
/// For each of the policy's `rollout.steps`: set the step's weights on the
/// router, read them back, wait `--convergence`, then judge the step's
/// window while it is held:
///   - the split against the step's weights (rule paths held to their rule,
///     leaks to zero-weight targets FAIL), with anytime-valid confidence
///     sequences, so it may FAIL at any second;
///   - the canary gate: the candidate against the baseline, errors (Fisher)
///     and latency (rank test, p99), as `verify compare`;
///   - the error rate (`--max-error-rate`).
///
/// Three-way: the step's weights, what the router reports, what the traffic
/// shows. A router that reports other weights, or traffic that does not
/// follow what it reports, FAILs the step with that named.
///
/// PASS moves to the next step after the hold. FAIL rolls back to the first
/// step's weights (or --rollback-weights) and exits 1. INCONCLUSIVE holds
/// longer, up to --max-hold, then exits 2, leaving the weights as
/// --on-inconclusive says. Ctrl-C or SIGTERM rolls back and writes both
/// reports before exiting 130.
///
/// Local:  rollout --policy config/rollout.json --url http://127.0.0.1:8080/dev \
///           --haproxy /tmp/weighbridge-x/haproxy.sock   (topology up prints it)
/// AWS:    rollout --policy config/rollout.json --url https://.../dev \
///           --listener-rule arn:aws:elasticloadbalancing:...:listener-rule/app/... \
///           --target-group stable=arn:...,canary=arn:...
///
/// Exit codes: 0 every step PASSed, 1 a step FAILed (rolled back), 2 a step
/// stayed INCONCLUSIVE, 3 the load could not run, 64 usage error, 65 invalid
/// input (policy without steps, unknown label, option out of range), 66 the
/// policy cannot be read, 69 the router cannot be reached or changed, 73 an
/// output cannot be written, 130 interrupted (rolled back, reports written).
#[derive(Debug, Parser)]
#[command(name = "rollout", version, verbatim_doc_comment)]
pub struct RolloutArgs {
    /// Traffic policy with a `rollout.steps` schedule (weighbridge.policy/v1).
    #[arg(long, value_name = "FILE")]
    pub policy: PathBuf,

    /// The router's URL the load goes to, e.g. `http://127.0.0.1:8080/dev`
    /// (paths of --path are appended).
    #[arg(
        long,
        value_name = "URL",
        required_unless_present = "cloudwatch",
        conflicts_with = "cloudwatch"
    )]
    pub url: Option<url::Url>,

    /// No load: judge each step on the production traffic the load
    /// balancer counted (CloudWatch RequestCount per target group, whole
    /// minutes, read --metric-delay after each window). Needs
    /// --listener-rule and --target-group; the canary gate and the error
    /// rate are not judged (the metric has neither). --convergence
    /// defaults to one period (1m).
    #[arg(long, requires = "listener_rule")]
    pub cloudwatch: bool,

    /// With --cloudwatch: how long after a window ends its minutes are read
    /// (CloudWatch publishes a minute's counts a minute or two late).
    #[arg(long, default_value = "2m", value_name = "DURATION", value_parser = humantime::parse_duration)]
    pub metric_delay: Duration,

    /// Test hook for --cloudwatch: time starts at this RFC 3339 instant and
    /// jumps ahead instead of waiting (CloudWatch data for those minutes
    /// must already be there).
    #[arg(long, hide = true, requires = "cloudwatch", value_parser = parse_time)]
    pub simulated_clock: Option<time::OffsetDateTime>,

    /// HAProxy's runtime API socket (the local topology's; `topology up`
    /// prints it): the weights go to its map.
    #[arg(
        long,
        value_name = "SOCKET",
        required_unless_present = "listener_rule",
        conflicts_with = "listener_rule"
    )]
    pub haproxy: Option<PathBuf>,

    /// An ALB listener rule whose forward action gets each step's weights
    /// (ModifyRule; its stickiness config is kept). Needs --target-group.
    #[arg(long, value_name = "ARN", requires = "target_groups")]
    pub listener_rule: Option<String>,

    /// Target group ARN of each label, for --listener-rule:
    /// `stable=arn:...,canary=arn:...`.
    #[arg(long = "target-group", value_name = "LABEL=ARN,...", value_parser = verify::cli::parse_target_groups)]
    pub target_groups: Option<TargetGroups>,

    /// Load rate, requests per second, for the whole rollout.
    #[arg(long, default_value_t = 200, value_name = "N")]
    pub rps: u32,

    /// Request mix appended to --url, as loadgen's (`/host:9,/other:1`).
    #[arg(long = "path", value_name = "PATH[:WEIGHT],...", action = clap::ArgAction::Append)]
    pub paths: Vec<String>,

    /// Virtual clients with their own cookies (for stickiness): each keeps
    /// the target it first got. Unset: one shared client without cookies.
    #[arg(long, value_name = "N")]
    pub clients: Option<u32>,

    /// The baseline target [default: with two targets, the one the first
    /// step weighs most].
    #[arg(long, value_name = "LABEL")]
    pub baseline: Option<String>,

    /// The candidate target [default: with two targets, the other one].
    #[arg(long, value_name = "LABEL")]
    pub candidate: Option<String>,

    /// Weights a rollback sets [default: the first step's]: `stable=100`
    /// (labels left out get 0).
    #[arg(long, value_name = "LABEL=WEIGHT,...", value_parser = verify::cli::parse_weights)]
    pub rollback_weights: Option<WeightList>,

    /// Time after each weight change that no judge counts: requests due in
    /// it may still be on their way through the old weights [default: 1s
    /// plus loadgen's worst send lag so far, rounded up to whole seconds].
    #[arg(long, value_name = "DURATION", value_parser = humantime::parse_duration)]
    pub convergence: Option<Duration>,

    /// Longest a step is held when its verdict is still INCONCLUSIVE at
    /// its hold [default: twice the step's hold].
    #[arg(long, value_name = "DURATION", value_parser = humantime::parse_duration)]
    pub max_hold: Option<Duration>,

    /// What the weights are left at when a step stays INCONCLUSIVE.
    #[arg(long, value_enum, default_value_t = OnInconclusive::Rollback)]
    pub on_inconclusive: OnInconclusive,

    /// Bound on a false verdict over the whole rollout (spread over the
    /// steps, and over the gate's looks in each).
    #[arg(long, default_value_t = 0.001, value_name = "P")]
    pub alpha: f64,

    /// Tolerance bands of the split, as verify's: `1pp` and/or `50%`
    /// [default: 1pp, 50%].
    #[arg(long, value_name = "1pp|50%", action = clap::ArgAction::Append)]
    pub tolerance: Vec<ToleranceBound>,

    /// FAIL a step whose share of failed requests is above this: `0.01` or `1%`.
    #[arg(long, default_value = "1%", value_name = "RATE", value_parser = verify::cli::parse_rate)]
    pub max_error_rate: f64,

    /// The gate: largest acceptable rise of the candidate's error rate over
    /// the baseline's, in percentage points.
    #[arg(long, default_value_t = 1.0, value_name = "PP")]
    pub max_error_increase: f64,

    /// The gate: largest acceptable rise of the candidate's p99 latency
    /// (0.2 = +20 %).
    #[arg(long, default_value_t = 0.2, value_name = "FRACTION")]
    pub max_latency_increase: f64,

    /// The gate: smallest rise of the candidate's p99 that can FAIL, with
    /// a rise above --max-latency-increase too (below it a relative rise is
    /// scheduler noise: loopback p99s of a few ms move by a ms or two).
    #[arg(long, default_value = "5ms", value_name = "DURATION", value_parser = humantime::parse_duration)]
    pub min_latency_increase: std::time::Duration,

    /// The gate: fewer requests than this on a side leaves it INCONCLUSIVE
    /// (the step is held longer). The gate FAILs only on evidence, so this
    /// is its power: with N candidate requests, a fault rate f is seen when
    /// about 4 failures show up (N·f well above 4). Set it from the smallest
    /// fault rate that must not pass.
    #[arg(long, default_value_t = 100, value_name = "N")]
    pub min_requests: u64,

    /// Where the rollout report goes (weighbridge.rollout/v1, docs/rollout.md).
    #[arg(long, default_value = "reports/rollout.json", value_name = "FILE")]
    pub out: PathBuf,

    /// Where the load report of the whole run goes (a normal loadgen report).
    #[arg(long, default_value = "reports/rollout-load.json", value_name = "FILE")]
    pub load_out: PathBuf,

    /// No progress display and no loadgen summary.
    #[arg(long, short)]
    pub quiet: bool,

    /// Where the verdict goes: stdout's format, `--junit` (one test case
    /// per step), `--html` (the split over time against each step's weights).
    #[command(flatten)]
    pub output: OutputArgs,
}

fn parse_time(text: &str) -> Result<time::OffsetDateTime, String> {
    time::OffsetDateTime::parse(text, &time::format_description::well_known::Rfc3339)
        .map_err(|e| format!("{text:?} is not an RFC 3339 time: {e}"))
}
