//! The command line: clap definitions and the glue from arguments to a
//! verdict and an exit code.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;
use weighbridge_policy::Policy;
use weighbridge_report::rollout::Schedule;

use crate::ci;
use crate::cloudwatch::Query;
use crate::counts::{Counts, parse_pairs};
use crate::error::InputError;
use crate::exact::{DEFAULT_MC_DRAWS, DEFAULT_MC_SEED};
use crate::inputs::{self, ReportChecks};
use crate::output::{self, Format};
use crate::reports;
use crate::scaling::{self, Expect, ScalingOptions, ScalingReport};
use crate::split::{self, ScheduleInputError, ScheduleReport, SplitOptions, SplitReport};
use crate::tolerance::{Tolerance, ToleranceBound};

const EXIT_CODES: &str = "\
Exit codes:
  0   PASS
  1   FAIL
  2   INCONCLUSIVE (more requests would decide it)
  64  usage error: the command line could not be parsed
  65  invalid input: policy, weights, counts or a report are wrong
      (truncated, unknown version, totals that do not add up)
  66  an input file cannot be read
  69  CloudWatch, ECS or Application Auto Scaling cannot be queried
  73  the --junit or --html file cannot be written (the verdict was printed)

When GITHUB_STEP_SUMMARY is set, a markdown summary is appended to it.
How to read a verdict: docs/verify.md";

/// The weighbridge statistical judge.
#[derive(Debug, Parser)]
#[command(
    name = "verify",
    version,
    about = "Judges whether traffic really splits the way the policy says: PASS, FAIL or INCONCLUSIVE",
    after_help = EXIT_CODES
)]
pub struct Cli {
    /// What to judge.
    #[command(subcommand)]
    pub command: Command,
}

/// Subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Judge a traffic split against the configured weights and path rules.
    #[command(after_help = EXIT_CODES)]
    Split(SplitArgs),
    /// Judge the autoscaling reaction: instances per target over time,
    /// scale-out and scale-in events, reaction times to load changes.
    #[command(after_help = EXIT_CODES)]
    Scaling(ScalingArgs),
    /// The canary gate: is the candidate target worse than the baseline in
    /// errors (Fisher's exact test) or latency (rank test, p99)?
    #[command(after_help = EXIT_CODES)]
    Compare(CompareArgs),
}

/// The outputs every subcommand writes: the verdict on stdout in
/// `--format`, and optionally JUnit XML and an HTML page.
#[derive(Debug, Clone, Args)]
pub struct OutputArgs {
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Text)]
    pub format: Format,

    /// Also write the verdict as JUnit XML to FILE, one test case per check
    /// (FAIL = failure, INCONCLUSIVE = skipped).
    #[arg(long, value_name = "FILE")]
    pub junit: Option<PathBuf>,

    /// Also write a self-contained HTML page to FILE (opens offline): the
    /// verdict, and from reports the requests, split, latency and instances
    /// per target over time.
    #[arg(long, value_name = "FILE")]
    pub html: Option<PathBuf>,
}

/// Arguments of `verify compare`.
#[derive(Debug, Args)]
pub struct CompareArgs {
    /// Loadgen report files; several are merged first.
    #[arg(value_name = "REPORT", required = true)]
    pub reports: Vec<PathBuf>,
    /// Target label of the baseline (e.g. `stable`, `blue`).
    #[arg(long, value_name = "LABEL")]
    pub baseline: String,
    /// Target label of the candidate (e.g. `canary`, `green`).
    #[arg(long, value_name = "LABEL")]
    pub candidate: String,
    /// Significance level of both one-sided tests.
    #[arg(long, default_value_t = 0.01, value_name = "P")]
    pub alpha: f64,
    /// Largest acceptable rise of the candidate's error rate, in percentage points.
    #[arg(long, default_value_t = 1.0, value_name = "PP")]
    pub max_error_increase: f64,
    /// Largest acceptable rise of the candidate's p99 latency (0.2 = +20 %).
    #[arg(long, default_value_t = 0.2, value_name = "FRACTION")]
    pub max_latency_increase: f64,
    /// Smallest rise of the candidate's p99 latency, in milliseconds, that
    /// can FAIL (with a rise above --max-latency-increase too).
    #[arg(long, default_value_t = 0.0, value_name = "MS")]
    pub min_latency_increase_ms: f64,
    /// Fewer requests than this on either side: INCONCLUSIVE.
    #[arg(long, default_value_t = 100, value_name = "N")]
    pub min_requests: u64,
    /// Where the verdict goes.
    #[command(flatten)]
    pub output: OutputArgs,
}

/// Runs `verify compare`.
pub fn run_compare(
    args: &CompareArgs,
) -> Result<
    (
        crate::compare::CompareReport,
        String,
        weighbridge_report::Report,
    ),
    InputError,
> {
    let options = crate::compare::CompareOptions {
        baseline: args.baseline.clone(),
        candidate: args.candidate.clone(),
        alpha: args.alpha,
        max_error_increase_pp: args.max_error_increase,
        max_latency_increase: args.max_latency_increase,
        min_latency_increase_ms: args.min_latency_increase_ms,
        min_requests: args.min_requests,
    };
    options.validate()?;
    let merged = reports::read_merged(&args.reports)?;
    let report = crate::compare::judge_compare(&merged, &options)?;
    let rendered = match args.output.format {
        Format::Text => output::compare_text(&report),
        Format::Json => output::compare_json(&report),
    };
    Ok((report, rendered, merged))
}

/// Arguments of `verify split`.
#[derive(Debug, Args)]
#[command(group(clap::ArgGroup::new("expected").required(true).args(["weights", "policy"])))]
#[command(group(clap::ArgGroup::new("source").required(true).args(["reports", "counts", "cloudwatch"])))]
pub struct SplitArgs {
    /// Loadgen report files (weighbridge.report/v1). Several are merged
    /// first (counts add, timelines align on wall-clock time). A missing,
    /// truncated, unknown-version or inconsistent report is an input error,
    /// never a verdict.
    #[arg(value_name = "REPORT")]
    pub reports: Vec<PathBuf>,

    /// Requests served per target instead of reports, e.g.
    /// `ecs=1042,lambda=8958` (labels as in the x-served-by header).
    #[arg(long, value_name = "LABEL=COUNT,...", value_parser = parse_counts)]
    pub counts: Option<Counts>,

    /// Read the counts from CloudWatch instead: AWS/ApplicationELB
    /// RequestCount, Sum per target group between --start and --end.
    /// Region, credentials and endpoint come from the standard AWS chain
    /// (AWS_REGION, AWS_PROFILE, roles; AWS_ENDPOINT_URL for a stand-in).
    #[arg(long, requires_all = ["target_group", "load_balancer", "start", "end"])]
    pub cloudwatch: bool,

    /// With --cloudwatch: target label → target group dimension, e.g.
    /// `ecs=targetgroup/web-ecs/0123456789abcdef,lambda=targetgroup/web-fn/...`.
    #[arg(long, value_name = "LABEL=targetgroup/NAME/ID,...", value_parser = parse_target_groups, requires = "cloudwatch")]
    pub target_group: Option<TargetGroups>,

    /// With --cloudwatch: the load balancer dimension, `app/NAME/ID`.
    #[arg(long, value_name = "app/NAME/ID", requires = "cloudwatch")]
    pub load_balancer: Option<String>,

    /// With --cloudwatch: start of the range, RFC 3339 (e.g. 2025-03-01T12:00:00Z).
    #[arg(long, value_name = "RFC3339", value_parser = parse_time, requires = "cloudwatch")]
    pub start: Option<OffsetDateTime>,

    /// With --cloudwatch: end of the range, RFC 3339.
    #[arg(long, value_name = "RFC3339", value_parser = parse_time, requires = "cloudwatch")]
    pub end: Option<OffsetDateTime>,

    /// Expected weights, e.g. `ecs=10,lambda=90` (integers 0-999 as ALB
    /// takes them; a weight of 0 means no request may reach that target).
    #[arg(long, value_name = "LABEL=WEIGHT,...", value_parser = parse_weights)]
    pub weights: Option<WeightList>,

    /// Traffic policy file (weighbridge.policy/v1) giving the weights, path
    /// rules and stickiness; see docs/policy.md.
    #[arg(long, value_name = "FILE")]
    pub policy: Option<PathBuf>,

    /// The bound on each error: a split truly within tolerance FAILs, and
    /// one truly outside it PASSes, with probability at most alpha. Also the
    /// level of the sample-ratio test.
    #[arg(long, default_value_t = 0.001, value_name = "P")]
    pub alpha: f64,

    /// How far a target's share may be from its weight: `1pp` (percentage
    /// points; a bare number means pp) and/or `50%` (of the target's
    /// expected share). Each target's band is the tighter of the two, so a
    /// 1 % canary gets 0.5-1.5 % and a 90 % target ±1 pp. Give it twice to
    /// set both; one given keeps the other's default [default: 1pp, 50%].
    #[arg(long, value_name = "1pp|50%", action = clap::ArgAction::Append)]
    pub tolerance: Vec<ToleranceBound>,

    /// Reports: FAIL when more than this share of requests failed, overall
    /// (failures without a response included) or at any one target. A
    /// fraction (0.01) or a percentage (1%). Unset: failures are reported only.
    #[arg(long, value_name = "RATE", value_parser = parse_rate)]
    pub max_error_rate: Option<f64>,

    /// Reports: window of the per-window test of the split (human duration:
    /// 30s, 1m). The dispersion across windows shows a split that moves over
    /// time or requests that are not independent.
    #[arg(long, default_value = "30s", value_name = "DURATION", value_parser = parse_seconds)]
    pub window: u64,

    /// Reports: judge clients (each once, by its first target), not
    /// requests, as when the policy enables stickiness.
    #[arg(long)]
    pub sticky: bool,

    /// Reports: replay the run second by second with the sequential judge
    /// (anytime-valid confidence sequences, same bands and error bounds)
    /// and answer with the verdict it reached at its first decision, and
    /// when: how early this run could have been stopped.
    #[arg(long, conflicts_with_all = ["counts", "cloudwatch", "sticky"])]
    pub sequential: bool,

    /// Reports: judge a finished rollout after the fact, each step's window
    /// of the report against the weights in force during that step.
    ///
    /// ROLLOUT.json is a weighbridge.rollout/v1 document (the report
    /// `rollout` writes, or a hand-written file of its shape: per step,
    /// `weights` and `window.from`/`window.to` in RFC 3339; see
    /// docs/verify.md, "Judging a schedule after the fact"). Each step is judged on the
    /// report's whole seconds inside its window (the report's started_at is
    /// second 0; partial seconds at the edges are left out) against the
    /// policy with the step's weights (rules kept; a target the step does
    /// not name has weight 0). --alpha is spread over the steps
    /// (Bonferroni: alpha/steps each), so a correct rollout FAILs some step
    /// with probability at most alpha. FAIL if any step FAILs, else
    /// INCONCLUSIVE if any is, else PASS. A step outside the report, or an
    /// unknown label, is an input error (65). Not with --sequential (each
    /// step is one fixed-N look), --window or --max-error-rate (not judged
    /// per step), --sticky (sticky clients carry one step's split into the
    /// next), --counts or --cloudwatch (no timeline).
    #[arg(
        long,
        value_name = "ROLLOUT.json",
        conflicts_with_all = ["counts", "cloudwatch", "sequential", "sticky", "window", "max_error_rate"]
    )]
    pub schedule: Option<PathBuf>,

    /// Where the verdict goes.
    #[command(flatten)]
    pub output: OutputArgs,

    /// Draws of the Monte Carlo test used for 3+ targets when an expected
    /// count is below 5.
    #[arg(long, default_value_t = DEFAULT_MC_DRAWS, value_name = "N")]
    pub mc_draws: u32,

    /// Seed of the Monte Carlo test (fixed, so a verdict is reproducible).
    #[arg(long, default_value_t = DEFAULT_MC_SEED, value_name = "SEED")]
    pub seed: u64,
}

/// Arguments of `verify scaling`.
#[derive(Debug, Args)]
pub struct ScalingArgs {
    /// Loadgen report files; several are merged first.
    #[arg(value_name = "REPORT", required = true)]
    pub reports: Vec<PathBuf>,

    /// Targets to check (repeat or comma-separate); default every target
    /// with instances in the report.
    #[arg(long, value_name = "LABEL", value_delimiter = ',')]
    pub target: Vec<String>,

    /// What the run should show: a scale-out after each load rise, a
    /// scale-in after each load fall, both, no scaling at all, or any
    /// (report only, apart from the limits below).
    #[arg(long, value_enum, default_value_t = Expect::Any)]
    pub expect: Expect,

    /// Deadline from a load rise to the start of a scale-out.
    #[arg(long, default_value = "5m", value_name = "DURATION", value_parser = parse_seconds)]
    pub within: u64,

    /// Deadline from a load fall to the start of a scale-in.
    #[arg(long, default_value = "15m", value_name = "DURATION", value_parser = parse_seconds)]
    pub scale_in_within: u64,

    /// A scale-in must not start sooner than this after a load fall (the
    /// scale-in cooldown); sooner is a FAIL.
    #[arg(long, default_value = "0s", value_name = "DURATION", value_parser = parse_seconds)]
    pub scale_in_not_before: u64,

    /// FAIL if fewer instances of a checked target ever serve.
    #[arg(long, value_name = "N")]
    pub min_instances: Option<u64>,

    /// FAIL if more instances of a checked target ever serve.
    #[arg(long, value_name = "N")]
    pub max_instances: Option<u64>,

    /// FAIL if more requests than this fail around scaling events (one
    /// window before to one window after). Unset: not checked.
    #[arg(long, value_name = "N")]
    pub max_failed_while_scaling: Option<u64>,

    /// Window for load levels and for grouping instance changes into one event.
    #[arg(long, default_value = "10s", value_name = "DURATION", value_parser = parse_seconds)]
    pub window: u64,

    /// Relative change of the scheduled rate that counts as a load rise or fall.
    #[arg(long, default_value_t = 0.25, value_name = "FRACTION")]
    pub load_change: f64,

    /// Where the verdict goes.
    #[command(flatten)]
    pub output: OutputArgs,

    /// The ECS service to read from AWS (--ecs-cluster, --ecs-service, --ecs-target).
    #[command(flatten)]
    pub ecs: crate::scaling::aws::EcsArgs,
}

impl ScalingArgs {
    /// The options of the scaling judge.
    pub fn options(&self) -> ScalingOptions {
        ScalingOptions {
            targets: self.target.clone(),
            expect: self.expect,
            within_s: self.within as f64,
            scale_in_within_s: self.scale_in_within as f64,
            scale_in_not_before_s: self.scale_in_not_before as f64,
            min_instances: self.min_instances,
            max_instances: self.max_instances,
            window_s: self.window,
            load_change: self.load_change,
            max_failed_while_scaling: self.max_failed_while_scaling,
        }
    }
}

/// The parsed value of `--target-group`: label → target group dimension.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TargetGroups(pub Vec<(String, String)>);

pub fn parse_target_groups(text: &str) -> Result<TargetGroups, String> {
    let mut out: Vec<(String, String)> = Vec::new();
    for item in text.split(',') {
        let Some((label, tg)) = item.trim().split_once('=') else {
            return Err(format!("{item:?} is not LABEL=targetgroup/NAME/ID"));
        };
        let (label, tg) = (label.trim(), tg.trim());
        if label.is_empty() || tg.is_empty() {
            return Err(format!("{item:?} is not LABEL=targetgroup/NAME/ID"));
        }
        if out.iter().any(|(l, _)| l == label) {
            return Err(format!("{label:?} is given more than once"));
        }
        out.push((label.to_owned(), tg.to_owned()));
    }
    Ok(TargetGroups(out))
}

fn parse_time(text: &str) -> Result<OffsetDateTime, String> {
    OffsetDateTime::parse(text, &Rfc3339).map_err(|e| format!("{text:?} is not RFC 3339: {e}"))
}

fn parse_seconds(text: &str) -> Result<u64, String> {
    humantime::parse_duration(text)
        .map(|d| d.as_secs())
        .map_err(|e| format!("{text:?}: {e} (examples: 30s, 5m, 1h)"))
}

/// Parses a rate: a fraction (`0.01`) or a percentage (`1%`).
pub fn parse_rate(text: &str) -> Result<f64, String> {
    let t = text.trim();
    let value = match t.strip_suffix('%') {
        Some(p) => p.trim().parse::<f64>().map(|v| v / 100.0),
        None => t.parse::<f64>(),
    }
    .map_err(|_| format!("{text:?} is not a rate (0.01 or 1%)"))?;
    Ok(value)
}

fn parse_counts(text: &str) -> Result<Counts, String> {
    Counts::parse_inline(text).map_err(|e| e.to_string())
}

/// The parsed value of `--weights`: label → weight, in the order given.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WeightList(pub Vec<(String, u64)>);

/// Parses `--weights`: `LABEL=WEIGHT,...`.
pub fn parse_weights(text: &str) -> Result<WeightList, String> {
    parse_pairs(text).map(WeightList).map_err(|e| e.to_string())
}

/// The expected split of `--policy FILE` or `--weights LIST` (the file wins
/// when both are given); an error when neither is.
pub fn load_policy(
    policy: Option<&std::path::Path>,
    weights: Option<&WeightList>,
) -> Result<Policy, InputError> {
    match (policy, weights) {
        (Some(path), _) => Ok(Policy::load(path)?),
        (None, Some(weights)) => Ok(Policy::from_weights(&weights.0)?),
        (None, None) => Err(InputError::BadList {
            list: String::new(),
            reason: "give --weights or --policy".to_owned(),
        }),
    }
}

impl SplitArgs {
    /// The options of the judge.
    pub fn options(&self) -> SplitOptions {
        SplitOptions {
            alpha: self.alpha,
            tolerance: Tolerance::from_bounds(&self.tolerance),
            mc_draws: self.mc_draws,
            mc_seed: self.seed,
        }
    }

    /// The expected split: the policy file, or a policy of `--weights` only.
    pub fn policy(&self) -> Result<Policy, InputError> {
        load_policy(self.policy.as_deref(), self.weights.as_ref())
    }

    /// The checks that need a report.
    pub fn checks(&self) -> ReportChecks {
        ReportChecks {
            window_s: self.window,
            sticky: self.sticky,
            max_error_rate: self.max_error_rate,
        }
    }

    fn query(&self) -> Result<Query, InputError> {
        let missing = |what: &str| InputError::BadList {
            list: "--cloudwatch".to_owned(),
            reason: format!("{what} is required"),
        };
        Ok(Query {
            target_groups: self
                .target_group
                .clone()
                .ok_or_else(|| missing("--target-group"))?
                .0,
            load_balancer: self
                .load_balancer
                .clone()
                .ok_or_else(|| missing("--load-balancer"))?,
            start: self.start.ok_or_else(|| missing("--start"))?,
            end: self.end.ok_or_else(|| missing("--end"))?,
        })
    }
}

/// Runs `verify split` (with `--schedule`, [`run_schedule`] does): the
/// verdict, rendered in the requested format, and the merged report when
/// the counts came from reports.
pub fn run_split(
    args: &SplitArgs,
) -> Result<(SplitReport, String, Option<weighbridge_report::Report>), InputError> {
    let policy = args.policy()?;
    let options = args.options();
    options.validate()?;
    let mut merged = None;
    let report = if let Some(counts) = &args.counts {
        if !policy.path_rules().is_empty() {
            return Err(InputError::PathDataMissing {
                rules: policy
                    .path_rules()
                    .iter()
                    .map(|r| format!("{} -> {}", r.path, r.target))
                    .collect::<Vec<_>>()
                    .join(", "),
                from: "--counts",
            });
        }
        split::judge(&policy, counts, &options)?
    } else if args.cloudwatch {
        inputs::judge_cloudwatch(&policy, &args.query()?, &options)?
    } else {
        let report = reports::read_merged(&args.reports)?;
        let judged = if args.sequential {
            inputs::replay_report(&policy, &report, &options, &args.checks())?
        } else {
            inputs::judge_report(&policy, &report, &options, &args.checks())?
        };
        merged = Some(report);
        judged
    };
    let rendered = render_split(&report, args.output.format);
    Ok((report, rendered, merged))
}

/// Runs `verify split --schedule FILE`: each step's verdict and the
/// overall one, rendered in the requested format, and the merged report.
/// The policy, the schedule and the reports are read in that order.
pub fn run_schedule(
    args: &SplitArgs,
) -> Result<(ScheduleReport, String, weighbridge_report::Report), ScheduleInputError> {
    let policy = args.policy()?;
    let options = args.options();
    options.validate()?;
    let Some(path) = &args.schedule else {
        return Err(InputError::BadList {
            list: String::new(),
            reason: "--schedule FILE is required".to_owned(),
        }
        .into());
    };
    let schedule = Schedule::read(path)?;
    let merged = reports::read_merged(&args.reports)?;
    let report = split::judge_schedule(&policy, &merged, &schedule, &options)?;
    let rendered = match args.output.format {
        Format::Text => output::schedule_text(&report),
        Format::Json => output::schedule_json(&report),
    };
    Ok((report, rendered, merged))
}

/// Runs `verify scaling`: the verdict, rendered, and the merged report.
pub fn run_scaling(
    args: &ScalingArgs,
) -> Result<(ScalingReport, String, weighbridge_report::Report), InputError> {
    let options = args.options();
    options.validate()?;
    let merged = reports::read_merged(&args.reports)?;
    if let Some(label) = options
        .targets
        .iter()
        .find(|l| !merged.targets.contains_key(l.as_str()))
    {
        return Err(reports::unknown_target(&merged, label));
    }
    let mut report = scaling::judge_scaling(&merged, &options);
    args.ecs.apply(&mut report, &merged, &options)?;
    let rendered = match args.output.format {
        Format::Text => output::scaling_text(&report),
        Format::Json => output::scaling_json(&report),
    };
    Ok((report, rendered, merged))
}

/// Prints a split verdict rendered in `out.format`, writes its CI outputs
/// (step summary, `--junit`, `--html`), and returns the exit code: what
/// `verify split` does with its verdict, for `check` to do the same.
pub fn deliver_split(
    out: &OutputArgs,
    report: &SplitReport,
    rendered: String,
    merged: Option<&weighbridge_report::Report>,
) -> u8 {
    finish(
        out,
        Outcome {
            rendered,
            markdown: ci::split_markdown(report),
            exit: report.verdict.exit_code(),
            junit: || ci::junit("verify split", &ci::split_cases(report)),
            html: || crate::html::split_page(report, merged),
        },
    )
}

/// The split verdict rendered in `format`.
pub fn render_split(report: &SplitReport, format: Format) -> String {
    match format {
        Format::Text => output::text(report),
        Format::Json => output::json(report),
    }
}

/// A verdict ready to go out: its stdout text, its step-summary markdown,
/// its exit code, and how to build the JUnit XML and the HTML page (built
/// only when asked for).
struct Outcome<J, H> {
    rendered: String,
    markdown: String,
    exit: u8,
    junit: J,
    html: H,
}

/// Prints the verdict, writes the CI outputs, and returns the exit code.
fn finish<J, H>(out: &OutputArgs, outcome: Outcome<J, H>) -> u8
where
    J: FnOnce() -> String,
    H: FnOnce() -> String,
{
    print!("{}", outcome.rendered);
    if out.format == Format::Json {
        println!();
    }
    if let Err(e) = ci::append_step_summary(&outcome.markdown) {
        eprintln!(
            "verify: warning: cannot append to ${}: {e}",
            ci::STEP_SUMMARY_ENV
        );
    }
    if let Some(path) = &out.junit
        && let Err(e) = ci::write_junit(path, &(outcome.junit)())
    {
        eprintln!("verify: error: cannot write {}: {e}", path.display());
        return crate::error::EXIT_CANT_CREATE;
    }
    if let Some(path) = &out.html
        && let Err(e) = crate::html::write(path, &(outcome.html)())
    {
        eprintln!("verify: error: cannot write {}: {e}", path.display());
        return crate::error::EXIT_CANT_CREATE;
    }
    outcome.exit
}

/// An input error on stderr, and its exit code.
fn input_error(e: &InputError) -> u8 {
    eprintln!("verify: error: {e}");
    e.exit_code()
}

/// Parses the process arguments and runs; returns the exit code. Usage
/// errors exit 64 (never clap's 2, which means INCONCLUSIVE here).
pub fn main_with_args<I, T>(args: I) -> u8
where
    I: IntoIterator<Item = T>,
    T: Into<std::ffi::OsString> + Clone,
{
    let cli = match Cli::try_parse_from(args) {
        Ok(cli) => cli,
        Err(e) => {
            let _ = e.print();
            return if e.use_stderr() {
                crate::error::EXIT_USAGE
            } else {
                0 // --help, --version
            };
        }
    };
    match cli.command {
        Command::Split(args) if args.schedule.is_some() => match run_schedule(&args) {
            Ok((report, rendered, merged)) => finish(
                &args.output,
                Outcome {
                    rendered,
                    markdown: output::schedule_markdown(&report),
                    exit: report.verdict.exit_code(),
                    junit: || {
                        ci::junit("verify split --schedule", &output::schedule_cases(&report))
                    },
                    html: || crate::html::schedule_page(&report, &merged),
                },
            ),
            Err(e) => {
                eprintln!("verify: error: {e}");
                e.exit_code()
            }
        },
        Command::Split(args) => match run_split(&args) {
            Ok((report, rendered, merged)) => {
                deliver_split(&args.output, &report, rendered, merged.as_ref())
            }
            Err(e) => input_error(&e),
        },
        Command::Scaling(args) => match run_scaling(&args) {
            Ok((report, rendered, merged)) => finish(
                &args.output,
                Outcome {
                    rendered,
                    markdown: ci::scaling_markdown(&report),
                    exit: report.verdict.exit_code(),
                    junit: || ci::junit("verify scaling", &ci::scaling_cases(&report)),
                    html: || crate::html::scaling_page(&report, &merged),
                },
            ),
            Err(e) => input_error(&e),
        },
        Command::Compare(args) => match run_compare(&args) {
            Ok((report, rendered, merged)) => finish(
                &args.output,
                Outcome {
                    rendered,
                    markdown: ci::compare_markdown(&report),
                    exit: report.verdict.exit_code(),
                    junit: || ci::junit("verify compare", &ci::compare_cases(&report)),
                    html: || crate::html::compare_page(&report, &merged),
                },
            ),
            Err(e) => input_error(&e),
        },
    }
}
