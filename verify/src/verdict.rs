//! The vocabulary every judge shares: the three verdicts and their exit
//! codes. `split`, `scaling` and `compare` each return one of these; the
//! renderers and the command line read it without knowing which judge
//! produced it.

use serde::Serialize;

/// Exit code: the verdict was PASS.
pub const EXIT_PASS: u8 = 0;
/// Exit code: the verdict was FAIL.
pub const EXIT_FAIL: u8 = 1;
/// Exit code: the verdict was INCONCLUSIVE.
pub const EXIT_INCONCLUSIVE: u8 = 2;

/// The three verdicts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Verdict {
    /// The traffic splits as configured, within the tolerance.
    Pass,
    /// It does not: a leak, or a deviation larger than the tolerance.
    Fail,
    /// The data cannot tell yet; more requests would.
    Inconclusive,
}

impl Verdict {
    /// The exit code of `verify` for this verdict.
    pub fn exit_code(self) -> u8 {
        match self {
            Verdict::Pass => EXIT_PASS,
            Verdict::Fail => EXIT_FAIL,
            Verdict::Inconclusive => EXIT_INCONCLUSIVE,
        }
    }

    /// `PASS`, `FAIL` or `INCONCLUSIVE`.
    pub fn as_str(self) -> &'static str {
        match self {
            Verdict::Pass => "PASS",
            Verdict::Fail => "FAIL",
            Verdict::Inconclusive => "INCONCLUSIVE",
        }
    }
}
