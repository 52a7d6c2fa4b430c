//! Exclusive path rules and how a request path is matched against them.
//!
//! Matching, kept deliberately simple and the same everywhere:
//! - the query string and fragment of the request path are ignored;
//! - when the policy has a base path (`"dev"`), a request path must start
//!   with `/dev` followed by `/` or the end of the path, and that prefix is
//!   removed before matching (`/dev/small-woodland-creature` →
//!   `/small-woodland-creature`); a request outside the base path matches no
//!   rule;
//! - a rule matches its path exactly, or any path below it at a segment
//!   boundary: rule `/ice-cream-flavor` matches `/ice-cream-flavor`,
//!   `/ice-cream-flavor/` and `/ice-cream-flavor/vanilla`, not
//!   `/ice-cream-flavors`. In ALB terms a rule `/x` is the pair of path
//!   patterns `/base/x` and `/base/x/*`;
//! - matching is case-sensitive (as ALB's);
//! - rules are tried in file order, the first match wins.

use serde::Serialize;

use crate::error::PolicyError;

/// A path that only one target may serve.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PathRule {
    /// The path, relative to the base path, starting with `/`.
    pub path: String,
    /// The only target allowed to serve it.
    pub target: String,
}

impl PathRule {
    /// Whether this rule matches a path that already has its base path and
    /// query removed (see the module docs).
    pub fn matches(&self, relative_path: &str) -> bool {
        let rule = self.path.trim_end_matches('/');
        match relative_path.strip_prefix(rule) {
            Some(rest) => rest.is_empty() || rest.starts_with('/'),
            None => false,
        }
    }
}

const FORBIDDEN: &[char] = &['?', '#', '*', ' ', '\t', '\n', '\r'];

/// A character no path (rule or base) may contain: the ones above, any
/// other whitespace and any control character.
fn forbidden(c: char) -> bool {
    FORBIDDEN.contains(&c) || c.is_whitespace() || c.is_control()
}

/// The first `.` or `..` segment of a `/`-separated path, if any.
fn dot_segment(path: &str) -> Option<&str> {
    path.split('/').find(|s| matches!(*s, "." | ".."))
}

pub(crate) fn validate_rule_path(path: &str, at: &str) -> Result<(), PolicyError> {
    if !path.starts_with('/') {
        return Err(PolicyError::PathNotAbsolute {
            at: at.to_owned(),
            path: path.to_owned(),
        });
    }
    if let Some(found) = path.chars().find(|&c| forbidden(c)) {
        return Err(PolicyError::PathInvalidChar {
            at: at.to_owned(),
            path: path.to_owned(),
            found,
        });
    }
    if path.contains("//") {
        return Err(PolicyError::PathEmptySegment {
            at: at.to_owned(),
            path: path.to_owned(),
        });
    }
    if let Some(segment) = dot_segment(path) {
        return Err(PolicyError::PathDotSegment {
            at: at.to_owned(),
            path: path.to_owned(),
            segment: segment.to_owned(),
        });
    }
    Ok(())
}

/// `"/dev/"` → `Some("dev")`, `""` or `"/"` → `None`.
pub(crate) fn normalize_base_path(value: &str) -> Result<Option<String>, PolicyError> {
    let trimmed = value.trim_matches('/');
    if trimmed.is_empty() {
        return Ok(None);
    }
    let invalid = |reason| PolicyError::InvalidBasePath {
        value: value.to_owned(),
        reason,
    };
    if trimmed.split('/').any(str::is_empty) {
        return Err(invalid("empty path segment ('//')"));
    }
    if trimmed.chars().any(forbidden) {
        return Err(invalid(
            "only path segments are allowed: no '?', '#', '*', whitespace or control characters",
        ));
    }
    if dot_segment(trimmed).is_some() {
        return Err(invalid(
            "'.' and '..' segments are not allowed (a request path never keeps them)",
        ));
    }
    Ok(Some(trimmed.to_owned()))
}

/// Removes query, fragment and base path; `None` when the request is not
/// under the base path.
pub(crate) fn strip_base<'a>(request_path: &'a str, base: Option<&str>) -> Option<&'a str> {
    let path = request_path
        .split(['?', '#'])
        .next()
        .unwrap_or(request_path);
    let Some(base) = base else {
        return Some(path);
    };
    let rest = path.strip_prefix('/')?.strip_prefix(base)?;
    if rest.is_empty() {
        Some("/")
    } else if rest.starts_with('/') {
        Some(rest)
    } else {
        None
    }
}
