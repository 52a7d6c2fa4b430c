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

    /// The verdict a document wrote as [`Verdict::as_str`]; anything else
    /// reads as INCONCLUSIVE (not proven either way), never as PASS.
    pub fn from_text(text: &str) -> Verdict {
        match text {
            "PASS" => Verdict::Pass,
            "FAIL" => Verdict::Fail,
            _ => Verdict::Inconclusive,
        }
    }
}

/// Why the run's own load generator makes its measurements unreliable:
/// `Some` when the report says loadgen was the bottleneck (it sent late,
/// `loadgen.bottleneck`). Latencies, error rates and scaling reactions then
/// describe loadgen, not the targets.
pub fn loadgen_limited(report: &weighbridge_report::Report) -> Option<String> {
    let w = report.loadgen.as_ref()?;
    w.bottleneck.then(|| {
        format!(
            "the load generator could not keep up (sends up to {:.0} ms late, {:.0} % CPU): what \
             was measured describes it, not the targets",
            w.max_send_lag_ms, w.cpu_percent
        )
    })
}

/// The share of a judge's window that loadgen's send lag may take before
/// the windows it counts in no longer hold the load asked of them: past
/// half a window, the load a target sees in a window is mostly the last
/// one's.
pub const LAG_SHARE_OF_WINDOW: f64 = 0.5;

/// [`loadgen_limited`] for a judge that counts in windows of `window_s`
/// seconds (`verify scaling`): loadgen limited the run when its send lag
/// p99 exceeds [`LAG_SHARE_OF_WINDOW`] of the window. A lag of tens or a
/// hundred milliseconds, which a busy shared machine gives, skews
/// latencies but not a reaction counted in whole-second windows (requests
/// are counted by intended send time). Reports without the p99
/// fall back on `loadgen.bottleneck`.
pub fn loadgen_limited_in_windows(
    report: &weighbridge_report::Report,
    window_s: u64,
) -> Option<String> {
    let w = report.loadgen.as_ref()?;
    match w.send_lag_p99_ms {
        Some(p99) if p99 <= LAG_SHARE_OF_WINDOW * 1000.0 * window_s as f64 => None,
        Some(p99) => Some(format!(
            "the load generator could not keep up (sends {p99:.0} ms late at p99, more than \
             {:.0} % of the {window_s} s window; {:.0} % CPU): what was measured describes it, \
             not the targets",
            100.0 * LAG_SHARE_OF_WINDOW,
            w.cpu_percent
        )),
        None => loadgen_limited(report),
    }
}

/// A PASS or FAIL held as INCONCLUSIVE when `limited` says the load
/// generator could not keep up; the verdict it replaces stays in the reason.
pub fn hold(verdict: Verdict, reason: String, limited: Option<&str>) -> (Verdict, String) {
    match limited {
        Some(why) if verdict != Verdict::Inconclusive => (
            Verdict::Inconclusive,
            format!(
                "{why}; without that the verdict would be {}: {reason}",
                verdict.as_str()
            ),
        ),
        _ => (verdict, reason),
    }
}
