//! The command line: clap definitions and the glue from arguments to a
//! verdict and an exit code.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};
use weighbridge_policy::Policy;

use crate::counts::{Counts, parse_pairs};
use crate::error::InputError;
use crate::exact::{DEFAULT_MC_DRAWS, DEFAULT_MC_SEED};
use crate::output::{self, Format};
use crate::split::{self, SplitOptions, SplitReport};

const EXIT_CODES: &str = "\
Exit codes:
  0   PASS
  1   FAIL
  2   INCONCLUSIVE (more requests would decide it)
  64  usage error: the command line could not be parsed
  65  invalid input: policy, weights or counts are wrong
  66  an input file cannot be read";

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
}

/// Arguments of `verify split`.
#[derive(Debug, Args)]
#[command(group(clap::ArgGroup::new("expected").required(true).args(["weights", "policy"])))]
pub struct SplitArgs {
    /// Requests served per target, e.g. `ecs=1042,lambda=8958` (labels as in
    /// the x-served-by header). Loadgen report files will be another source.
    #[arg(long, value_name = "LABEL=COUNT,...", value_parser = parse_counts, required = true)]
    pub counts: Option<Counts>,

    /// Expected weights, e.g. `ecs=10,lambda=90` (integers 0-999 as ALB
    /// takes them; a weight of 0 means no request may reach that target).
    #[arg(long, value_name = "LABEL=WEIGHT,...", value_parser = parse_weights)]
    pub weights: Option<WeightList>,

    /// Traffic policy file (weighbridge.policy/v1) giving the weights, path
    /// rules and stickiness; see docs/policy.md.
    #[arg(long, value_name = "FILE")]
    pub policy: Option<PathBuf>,

    /// Significance level: the test rejects the weights when p < alpha; also
    /// the simultaneous error rate of the confidence intervals.
    #[arg(long, default_value_t = 0.001, value_name = "P")]
    pub alpha: f64,

    /// Practical tolerance in percentage points of share: a target off by more
    /// than this (and significantly so) FAILs; all within it PASSes.
    #[arg(long, default_value_t = 1.0, value_name = "PP")]
    pub tolerance: f64,

    /// Power the test must have against a deviation of one tolerance for a
    /// non-rejection to count as PASS (below it: INCONCLUSIVE).
    #[arg(long, default_value_t = 0.8, value_name = "P")]
    pub power: f64,

    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Text)]
    pub format: Format,

    /// Draws of the Monte Carlo test used for 3+ targets when an expected
    /// count is below 5.
    #[arg(long, default_value_t = DEFAULT_MC_DRAWS, value_name = "N")]
    pub mc_draws: u32,

    /// Seed of the Monte Carlo test (fixed, so a verdict is reproducible).
    #[arg(long, default_value_t = DEFAULT_MC_SEED, value_name = "SEED")]
    pub seed: u64,
}

fn parse_counts(text: &str) -> Result<Counts, String> {
    Counts::parse_inline(text).map_err(|e| e.to_string())
}

/// The parsed value of `--weights`: label → weight, in the order given.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WeightList(pub Vec<(String, u64)>);

fn parse_weights(text: &str) -> Result<WeightList, String> {
    parse_pairs(text).map(WeightList).map_err(|e| e.to_string())
}

impl SplitArgs {
    /// The options of the judge.
    pub fn options(&self) -> SplitOptions {
        SplitOptions {
            alpha: self.alpha,
            tolerance_pp: self.tolerance,
            power: self.power,
            mc_draws: self.mc_draws,
            mc_seed: self.seed,
        }
    }

    /// The expected split: the policy file, or a policy of `--weights` only.
    pub fn policy(&self) -> Result<Policy, InputError> {
        match (&self.policy, &self.weights) {
            (Some(path), _) => Ok(Policy::load(path)?),
            (None, Some(weights)) => Ok(Policy::from_weights(&weights.0)?),
            (None, None) => Err(InputError::BadList {
                list: String::new(),
                reason: "give --weights or --policy".to_owned(),
            }),
        }
    }

    /// The counts to judge. This is where report files (and CloudWatch)
    /// plug in: each source yields [`Counts`], merged here.
    pub fn counts(&self) -> Result<Counts, InputError> {
        Ok(self.counts.clone().unwrap_or_default())
    }
}

/// Runs `verify split`: the verdict, rendered in the requested format.
pub fn run_split(args: &SplitArgs) -> Result<(SplitReport, String), InputError> {
    let policy = args.policy()?;
    let counts = args.counts()?;
    let report = split::judge(&policy, &counts, &args.options())?;
    let rendered = match args.format {
        Format::Text => output::text(&report),
        Format::Json => output::json(&report),
    };
    Ok((report, rendered))
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
        Command::Split(args) => match run_split(&args) {
            Ok((report, rendered)) => {
                print!("{rendered}");
                if args.format == Format::Json {
                    println!();
                }
                report.verdict.exit_code()
            }
            Err(e) => {
                eprintln!("verify: error: {e}");
                e.exit_code()
            }
        },
    }
}
