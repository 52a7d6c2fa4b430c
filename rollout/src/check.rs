//! `check`: load until decided. Sends load to the router, feeds each
//! settled second's counts to verify's sequential judge, stops the load at
//! the first PASS or FAIL, writes the loadgen report (marked `stopped_by`
//! with the reason), and answers as `verify split --sequential` on that
//! report does: the same outputs, the same exit codes.
//!
//! Only *settled* seconds are judged (every request due in them answered or
//! failed): counting responses as they arrive would under-count a slow
//! target in the last second or two and could FAIL a correct split early.
//! The replay of the written report then looks at every second, so its
//! verdict is the one the judge reached, at the same second or, when a live
//! look was skipped, one second earlier.

use std::path::PathBuf;
use std::time::Duration;

use clap::Parser;
use loadgen::recorder::Snapshot;
use loadgen::run::{Judge, run_judged};
use verify::cli::{OutputArgs, WeightList, deliver_split, load_policy, render_split};
use verify::split::sequential::judge_looks;
use verify::tolerance::{Tolerance, ToleranceBound};
use verify::{Counts, InputError, ReportChecks, SplitOptions, Verdict};
use weighbridge_policy::Policy;
use weighbridge_report::Report;

use verify::error::EXIT_USAGE;
/// Exit code when the load could not run (the router unreachable is not
/// this: those requests fail and are judged).
pub const EXIT_NO_RUN: u8 = 3;
/// Exit code when Ctrl-C or SIGTERM stopped the load (the report and the
/// verdict so far are still written).
pub const EXIT_INTERRUPTED: u8 = 130;

/// Load until decided: `check --url URL --policy FILE --rps 200 --max-duration 5m`.
///
/// Sends `--rps` requests per second to `--url` (open loop, as loadgen),
/// judges the split after every settled second with anytime-valid
/// confidence sequences (verify's sequential judge: a look every second
/// keeps both errors within `--alpha`), and stops the load at the first
/// PASS or FAIL; at `--max-duration` without one it answers INCONCLUSIVE.
///
/// Exit codes: 0 PASS, 1 FAIL, 2 INCONCLUSIVE (as verify), 3 the load could
/// not run, 64 usage error, 65 invalid input (policy, option out of range),
/// 66 the policy cannot be read, 73 an
/// output file cannot be written, 130 interrupted (report written).
#[derive(Debug, Parser)]
#[command(name = "check", version, verbatim_doc_comment)]
pub struct CheckArgs {
    /// The router's URL, e.g. `http://127.0.0.1:8080/dev` (paths of --path
    /// are appended).
    #[arg(long, value_name = "URL")]
    pub url: url::Url,

    /// Traffic policy file (weighbridge.policy/v1) giving the weights.
    #[arg(long, value_name = "FILE", required_unless_present = "weights")]
    pub policy: Option<PathBuf>,

    /// Expected weights instead of a policy, e.g. `ecs=10,lambda=90`.
    #[arg(long, value_name = "LABEL=WEIGHT,...", conflicts_with = "policy", value_parser = verify::cli::parse_weights)]
    pub weights: Option<WeightList>,

    /// Load rate, requests per second.
    #[arg(long, default_value_t = 200, value_name = "N")]
    pub rps: u32,

    /// Longest the load runs when nothing is decided (human duration: 90s, 5m).
    #[arg(long, default_value = "5m", value_name = "DURATION", value_parser = humantime::parse_duration)]
    pub max_duration: Duration,

    /// Request mix appended to --url, as loadgen's (`/host:9,/other:1`).
    /// Requests on a path with an exclusive rule in the policy are held to
    /// the rule (served by another target: FAIL at that second) and left
    /// out of the weighted split, as `verify split` does.
    #[arg(long = "path", value_name = "PATH[:WEIGHT],...", action = clap::ArgAction::Append)]
    pub paths: Vec<String>,

    /// The bound on each error (false PASS, false FAIL), whenever the load stops.
    #[arg(long, default_value_t = 0.001, value_name = "P")]
    pub alpha: f64,

    /// Tolerance bands, as verify's: `1pp` and/or `50%` [default: 1pp, 50%].
    #[arg(long, value_name = "1pp|50%", action = clap::ArgAction::Append)]
    pub tolerance: Vec<ToleranceBound>,

    /// FAIL when more than this share of requests failed, overall or at any
    /// one target (judged on the whole run at the end): `0.01` or `1%`.
    /// Unset: failures are reported only.
    #[arg(long, value_name = "RATE", value_parser = verify::cli::parse_rate)]
    pub max_error_rate: Option<f64>,

    /// Where the loadgen report goes.
    #[arg(long, default_value = "reports/check.json", value_name = "FILE")]
    pub out: PathBuf,

    /// No progress display and no loadgen summary.
    #[arg(long, short)]
    pub quiet: bool,

    /// Where the verdict goes.
    #[command(flatten)]
    pub output: OutputArgs,
}

impl CheckArgs {
    fn policy(&self) -> Result<Policy, InputError> {
        load_policy(self.policy.as_deref(), self.weights.as_ref())
    }

    fn options(&self) -> SplitOptions {
        SplitOptions {
            alpha: self.alpha,
            tolerance: Tolerance::from_bounds(&self.tolerance),
            ..SplitOptions::default()
        }
    }

    /// loadgen's arguments for this run.
    fn load(&self) -> Result<loadgen::cli::RunArgs, clap::Error> {
        let mut argv: Vec<String> = vec![
            "loadgen".into(),
            "--url".into(),
            self.url.to_string(),
            "--rps".into(),
            self.rps.to_string(),
            "--duration".into(),
            humantime::format_duration(self.max_duration).to_string(),
            "--out".into(),
            self.out.display().to_string(),
        ];
        for p in &self.paths {
            argv.extend(["--path".to_owned(), p.clone()]);
        }
        if self.quiet {
            argv.push("--quiet".into());
        }
        <loadgen::cli::Cli as Parser>::try_parse_from(argv).map(|cli| cli.run)
    }
}

/// One look of the sequential judge at the settled seconds: the verdict
/// and reason once decided.
fn look(policy: &Policy, options: &SplitOptions, snap: &Snapshot) -> Option<String> {
    if snap.settled_seconds == 0 {
        return None;
    }
    let mut counts = Counts::new();
    for (label, &n) in &snap.settled_targets {
        counts.add(label, n);
    }
    for (path, by_target) in &snap.settled_paths {
        for (label, &n) in by_target {
            counts.add_path(path, label, n);
        }
    }
    let s = match judge_looks(
        policy,
        options,
        std::iter::once((snap.settled_seconds, counts)),
        Verdict::Inconclusive,
    ) {
        Ok(s) => s,
        // Not from loadgen's own counts; the replay of the report says why.
        Err(e) => return Some(format!("the counts could not be judged: {e}")),
    };
    (s.verdict != Verdict::Inconclusive).then(|| format!("{}: {}", s.verdict.as_str(), s.reason))
}

/// Runs `check`; returns the exit code.
pub async fn run(args: CheckArgs) -> u8 {
    let input_error = |e: &InputError| {
        eprintln!("check: error: {e}");
        e.exit_code()
    };
    let policy = match args.policy() {
        Ok(p) => p,
        Err(e) => return input_error(&e),
    };
    let options = args.options();
    if let Err(e) = options.validate() {
        return input_error(&e);
    }
    if args.rps == 0 || args.max_duration.is_zero() {
        eprintln!("check: error: --rps and --max-duration must be more than 0");
        return EXIT_USAGE;
    }
    let checks = ReportChecks {
        max_error_rate: args.max_error_rate,
        ..ReportChecks::default()
    };
    if let Err(e) = checks.validate() {
        return input_error(&e);
    }
    let load = match args.load() {
        Ok(load) => load,
        Err(e) => {
            let _ = e.print();
            return EXIT_USAGE;
        }
    };
    if !args.quiet && args.output.format == verify::output::Format::Text {
        println!(
            "check: {} rps to {} until the split is decided (at most {}, alpha {}, bands {})",
            args.rps,
            args.url,
            humantime::format_duration(args.max_duration),
            options.alpha,
            options.tolerance
        );
    }
    let judge = {
        let policy = policy.clone();
        Judge {
            by: "check".to_owned(),
            look: Box::new(move |snap: &Snapshot| look(&policy, &options, snap)),
            window: None,
        }
    };
    let ran = match run_judged(load, Some(judge)).await {
        Ok(ran) => ran,
        Err(e) => {
            eprintln!("check: {e:#}");
            return e
                .downcast_ref::<loadgen::run::Fatal>()
                .map_or(EXIT_NO_RUN, |f| f.code);
        }
    };
    let report = match Report::read(&ran.out) {
        Ok(r) => r,
        Err(e) => {
            eprintln!("check: cannot read back {}: {e}", ran.out.display());
            return EXIT_NO_RUN;
        }
    };
    let judged = match verify::inputs::replay_report(&policy, &report, &options, &checks) {
        Ok(j) => j,
        Err(e) => return input_error(&e),
    };
    let rendered = render_split(&judged, args.output.format);
    let code = deliver_split(&args.output, &judged, rendered, Some(&report));
    if ran.interrupted {
        EXIT_INTERRUPTED
    } else {
        code
    }
}
