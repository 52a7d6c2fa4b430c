//! Errors of the judge's input, each with its exit code (the verdicts' own
//! codes, 0 to 2, are in [`crate::verdict`]).

use weighbridge_policy::PolicyError;
use weighbridge_report::{MergeError, ReportError};

/// Exit code: the command line could not be parsed (unknown flag, missing
/// or malformed value). `EX_USAGE` of sysexits.h; clap's own 2 would read as
/// INCONCLUSIVE.
pub const EXIT_USAGE: u8 = 64;
/// Exit code: the input was read but is invalid (policy, weights or counts).
/// `EX_DATAERR`.
pub const EXIT_INVALID_INPUT: u8 = 65;
/// Exit code: an input file could not be read. `EX_NOINPUT`.
pub const EXIT_NO_INPUT: u8 = 66;
/// Exit code: a service the input comes from (CloudWatch, ECS, Application
/// Auto Scaling) could not be queried. `EX_UNAVAILABLE`.
pub const EXIT_UNAVAILABLE: u8 = 69;
/// Exit code: an output file (`--junit`) could not be written. `EX_CANTCREAT`.
pub const EXIT_CANT_CREATE: u8 = 73;

/// Something wrong with what the judge was asked to judge. Never a verdict.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum InputError {
    /// The policy file or the `--weights` are invalid or unreadable.
    #[error(transparent)]
    Policy(#[from] PolicyError),
    /// A `LABEL=NUMBER` list that does not parse.
    #[error("{list:?}: {reason}")]
    BadList {
        /// The text given.
        list: String,
        /// What is wrong.
        reason: String,
    },
    /// A label given twice in one list.
    #[error("{label:?} is given more than once")]
    DuplicateLabel {
        /// The label.
        label: String,
    },
    /// An option outside its range.
    #[error("--{name} {value}: {reason}")]
    BadOption {
        /// The option, without dashes.
        name: &'static str,
        /// The value given.
        value: f64,
        /// The range it must be in.
        reason: &'static str,
    },
    /// A report file that cannot be read, or is not a valid report
    /// (truncated, unknown version, totals that do not add up).
    #[error(transparent)]
    Report(Box<ReportError>),
    /// Reports that cannot be merged.
    #[error("the reports cannot be merged: {0}")]
    Merge(Box<MergeError>),
    /// CloudWatch could not be queried.
    #[error("CloudWatch: {0}")]
    CloudWatch(String),
    /// An AWS service other than CloudWatch (ECS, Application Auto Scaling)
    /// could not be queried: no credentials, no network, access denied.
    #[error(
        "{service}: {message} (check AWS_REGION, the credentials (AWS_PROFILE, a role) and the network; AWS_ENDPOINT_URL for a stand-in)"
    )]
    Aws {
        /// The service (`ECS`, `Application Auto Scaling`).
        service: &'static str,
        /// The call and what went wrong.
        message: String,
    },
    /// `--ecs-cluster`/`--ecs-service` name no service ECS knows.
    #[error(
        "ECS has no service {service:?} in cluster {cluster:?} ({reason}): check --ecs-cluster, --ecs-service and AWS_REGION"
    )]
    UnknownEcsService {
        /// Cluster as given.
        cluster: String,
        /// Service as given.
        service: String,
        /// ECS's reason (`MISSING`, ...).
        reason: String,
    },
    /// A report (or CloudWatch) that holds nothing to judge.
    #[error("{0}")]
    NothingToJudge(String),
    /// Per-path counts of a target that add up to more than its total.
    #[error(
        "path counts for target {target:?} add up to {paths} requests under path rules, more than its total of {total}"
    )]
    PathCountsExceedTotal {
        /// The target.
        target: String,
        /// Sum over rule paths.
        paths: u64,
        /// The target's total.
        total: u64,
    },
    /// A target label asked for (`--target`, `--baseline`, `--candidate`)
    /// that the report does not have.
    #[error("no target {label:?} in the report (its targets: {known})")]
    UnknownTarget {
        /// The label asked for.
        label: String,
        /// The report's target labels, comma separated.
        known: String,
    },
    /// Counts whose total is more than the statistics can count exactly.
    #[error(
        "the counts add up to {total} requests, more than the {max} (2^53) the statistics can count exactly; no real run is that large, so the input is wrong"
    )]
    CountsTooLarge {
        /// The total (exact).
        total: u128,
        /// [`crate::counts::MAX_TOTAL`].
        max: u64,
    },
    /// The policy has exclusive path rules, but the counts have no per-path
    /// breakdown: rule-path leaks could not be seen, and rule-path requests
    /// would be judged as if they were weighted.
    #[error(
        "the policy has path rules ({rules}), but {from} carry no per-path counts: path-rule leaks cannot be checked; judge a loadgen report, or give --weights instead of --policy"
    )]
    PathDataMissing {
        /// The rules, `path -> target`, comma separated.
        rules: String,
        /// Where the counts came from (`--counts`).
        from: &'static str,
    },

    /// `--sequential` cannot replay this report faithfully.
    #[error("--sequential cannot replay this report: {reason}")]
    SequentialUnsupported {
        /// Why, and what to do instead.
        reason: String,
    },
}

impl From<ReportError> for InputError {
    fn from(e: ReportError) -> Self {
        InputError::Report(Box::new(e))
    }
}

impl From<MergeError> for InputError {
    fn from(e: MergeError) -> Self {
        InputError::Merge(Box::new(e))
    }
}

/// `--window` is at least one second: every judge that cuts the timeline
/// into windows checks it here.
pub(crate) fn check_window(window_s: u64) -> Result<(), InputError> {
    if window_s == 0 {
        return Err(InputError::BadOption {
            name: "window",
            value: 0.0,
            reason: "must be at least one second",
        });
    }
    Ok(())
}

impl InputError {
    /// The process exit code for this error.
    pub fn exit_code(&self) -> u8 {
        match self {
            InputError::Policy(e) if matches!(e.root(), PolicyError::Read { .. }) => EXIT_NO_INPUT,
            InputError::Report(e) if matches!(**e, ReportError::Read { .. }) => EXIT_NO_INPUT,
            InputError::CloudWatch(_) | InputError::Aws { .. } => EXIT_UNAVAILABLE,
            _ => EXIT_INVALID_INPUT,
        }
    }
}
