//! Everything that can be wrong with a policy file, each error naming the
//! field (a JSON-pointer-like location such as `targets.ecs` or
//! `path_rules[2].target`) and the offending value.

use std::path::PathBuf;

/// An invalid or unreadable traffic policy.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum PolicyError {
    /// The file could not be read.
    #[error("cannot read policy file {}: {source}", path.display())]
    Read {
        /// The file.
        path: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// Any other error, attributed to the file it came from.
    #[error("{}: {error}", path.display())]
    InFile {
        /// The file.
        path: PathBuf,
        /// What is wrong in it.
        #[source]
        error: Box<PolicyError>,
    },
    /// Not JSON, or a field of the wrong JSON type, or an unknown field.
    #[error("not a valid policy document: {0}")]
    Syntax(#[source] serde_json::Error),
    /// `schema` is absent.
    #[error("schema: missing; a policy must say \"schema\": \"{expected}\"")]
    MissingSchema {
        /// The schema this version understands.
        expected: &'static str,
    },
    /// `schema` names a format this version does not understand.
    #[error("schema: unsupported version {found:?}, expected {expected:?}")]
    WrongSchema {
        /// What the file says.
        found: String,
        /// The schema this version understands.
        expected: &'static str,
    },
    /// A required field is absent.
    #[error("{field}: missing")]
    MissingField {
        /// The field.
        field: &'static str,
    },
    /// `targets` is empty.
    #[error("{at}: no targets; at least one target with a positive weight is required")]
    NoTargets {
        /// Where.
        at: String,
    },
    /// More targets than an ALB forward action accepts.
    #[error("{at}: {count} targets, but a forward action takes at most {max}")]
    TooManyTargets {
        /// Where.
        at: String,
        /// How many were given.
        count: usize,
        /// The limit.
        max: usize,
    },
    /// The same key twice in one object.
    #[error("{at}: {key:?} appears more than once")]
    DuplicateKey {
        /// Where.
        at: String,
        /// The repeated key.
        key: String,
    },
    /// A target label that is empty, too long or has characters outside
    /// `[A-Za-z0-9_.-]`.
    #[error(
        "{at}: invalid target label {label:?}: use 1 to {max} characters of letters, digits, '-', '_' or '.'"
    )]
    InvalidLabel {
        /// Where.
        at: String,
        /// The label.
        label: String,
        /// Longest label accepted.
        max: usize,
    },
    /// A weight that is not a non-negative integer.
    #[error("{at}: weight must be an integer from 0 to {max}, found {value}")]
    WeightNotInteger {
        /// Where.
        at: String,
        /// The JSON value found.
        value: String,
        /// Largest weight accepted.
        max: u32,
    },
    /// A weight above what ALB accepts.
    #[error("{at}: weight {value} is out of range 0..={max}")]
    WeightOutOfRange {
        /// Where.
        at: String,
        /// The weight.
        value: u64,
        /// Largest weight accepted.
        max: u32,
    },
    /// Every weight is zero: no traffic could be forwarded.
    #[error("{at}: every weight is 0; at least one target needs a positive weight")]
    AllWeightsZero {
        /// Where.
        at: String,
    },
    /// A target referenced (by a path rule or a rollout step) that is not in `targets`.
    #[error("{at}: unknown target {target:?}; known targets are {known}")]
    UnknownTarget {
        /// Where.
        at: String,
        /// The label used.
        target: String,
        /// The labels that exist, comma separated.
        known: String,
    },
    /// A path rule whose path does not start with `/`.
    #[error("{at}: path {path:?} must start with '/'")]
    PathNotAbsolute {
        /// Where.
        at: String,
        /// The path.
        path: String,
    },
    /// A path rule with characters this format does not accept.
    #[error(
        "{at}: path {path:?} contains {found:?}; rules match a path and everything below it, wildcards, query strings and fragments are not supported"
    )]
    PathInvalidChar {
        /// Where.
        at: String,
        /// The path.
        path: String,
        /// The character.
        found: char,
    },
    /// A path rule with an empty segment (`//`): clients and proxies
    /// collapse or reject such paths, so the rule would not match what it
    /// seems to.
    #[error("{at}: path {path:?} has an empty segment ('//')")]
    PathEmptySegment {
        /// Where.
        at: String,
        /// The path.
        path: String,
    },
    /// A path rule with a `.` or `..` segment: clients and proxies resolve
    /// those before the path reaches a rule, so the rule could never match.
    #[error(
        "{at}: path {path:?} has a {segment:?} segment; '.' and '..' are resolved before routing, so the rule could never match"
    )]
    PathDotSegment {
        /// Where.
        at: String,
        /// The path.
        path: String,
        /// The segment, `.` or `..`.
        segment: String,
    },
    /// A path rule that can never match: an earlier rule matches its path
    /// and everything below it, and the first match wins.
    #[error(
        "{at}: path {path:?} can never match: path_rules[{by}] ({by_path:?}) comes first and matches it and everything below it"
    )]
    ShadowedPath {
        /// Where.
        at: String,
        /// The path.
        path: String,
        /// Index of the earlier rule that matches first.
        by: usize,
        /// That rule's path.
        by_path: String,
    },
    /// Two path rules for the same path.
    #[error("{at}: path {path:?} already has a rule at path_rules[{first}]")]
    DuplicatePath {
        /// Where.
        at: String,
        /// The path.
        path: String,
        /// Index of the first rule with that path.
        first: usize,
    },
    /// Stickiness duration outside what ALB accepts.
    #[error(
        "stickiness.duration_seconds: {value} is out of range {min}..={max} (1 second to 7 days)"
    )]
    StickinessDuration {
        /// The value.
        value: u64,
        /// Smallest accepted.
        min: u64,
        /// Largest accepted.
        max: u64,
    },
    /// A base path that is not a plain path segment list.
    #[error("base_path: {value:?} is invalid: {reason}")]
    InvalidBasePath {
        /// The value.
        value: String,
        /// Why.
        reason: &'static str,
    },
    /// `rollout.steps` is empty.
    #[error("rollout.steps: empty; give at least one step or leave rollout out")]
    EmptyRollout,
    /// A rollout hold that is not a positive duration.
    #[error("{at}: invalid hold {value}: {reason}")]
    InvalidHold {
        /// Where.
        at: String,
        /// The value found.
        value: String,
        /// Why.
        reason: String,
    },
}

impl PolicyError {
    /// The error itself, without the file it was found in.
    pub fn root(&self) -> &PolicyError {
        match self {
            PolicyError::InFile { error, .. } => error.root(),
            other => other,
        }
    }
}
