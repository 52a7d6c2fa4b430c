//! Output for CI systems: a markdown summary appended to the file named by
//! `GITHUB_STEP_SUMMARY` (GitHub Actions shows it on the run's page), and a
//! JUnit XML file (`--junit FILE`) that most CI systems display as tests.

use std::fmt::Write as _;
use std::fs::OpenOptions;
use std::io::Write as _;
use std::path::Path;

use quick_junit::{NonSuccessKind, TestCase, TestCaseStatus, TestSuite};

use crate::compare::CompareReport;
use crate::fmt::{p_text, pct};
use crate::scaling::ScalingReport;
use crate::split::SplitReport;
use crate::verdict::Verdict;

/// The environment variable GitHub Actions sets to the step summary file.
pub const STEP_SUMMARY_ENV: &str = "GITHUB_STEP_SUMMARY";

fn icon(v: Verdict) -> &'static str {
    match v {
        Verdict::Pass => "✅",
        Verdict::Fail => "❌",
        Verdict::Inconclusive => "⚠️",
    }
}

/// Text as it must go into markdown: GitHub renders inline HTML and
/// markdown syntax in a step summary, so a target label such as
/// `</script><script>` or `*x*` has to arrive as the text it is. HTML's
/// three specials become entities; markdown's inline punctuation is
/// backslash-escaped (what CommonMark allows before any ASCII punctuation);
/// a character that would start a block (`#`, `>`, `-`, `+`, `=`) is escaped
/// at the start; line breaks and control characters become spaces, so a
/// value stays in its table cell.
pub fn md_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for (i, c) in s.chars().enumerate() {
        match c {
            '<' => out.push_str("&lt;"),
            '>' if i > 0 => out.push_str("&gt;"),
            '&' => out.push_str("&amp;"),
            '\\' | '`' | '*' | '_' | '[' | ']' | '|' | '~' => {
                out.push('\\');
                out.push(c);
            }
            '#' | '>' | '-' | '+' | '=' if i == 0 => {
                out.push('\\');
                out.push(c);
            }
            c if c.is_control() => out.push(' '),
            c => out.push(c),
        }
    }
    out
}

/// The compare verdict as markdown: its text report in a fenced block. The
/// fence is longer than any run of backticks in the text (CommonMark's
/// rule), so no label can close it; inside it nothing is rendered.
pub fn compare_markdown(r: &CompareReport) -> String {
    let text = crate::output::compare_text(r);
    let mut longest = 0;
    let mut run = 0;
    for c in text.chars() {
        if c == '`' {
            run += 1;
            longest = longest.max(run);
        } else {
            run = 0;
        }
    }
    let fence = "`".repeat((longest + 1).max(3));
    format!(
        "## verify compare: {}\n\n{fence}\n{}{fence}\n",
        r.verdict.as_str(),
        text
    )
}

/// The split verdict as markdown.
pub fn split_markdown(r: &SplitReport) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "### {} verify split: {}\n\n{}\n",
        icon(r.verdict),
        r.verdict.as_str(),
        md_escape(&r.reason)
    );
    let _ = writeln!(
        out,
        "| target | weight | {} | share | expected | deviation |\n|---|---:|---:|---:|---:|---:|",
        r.unit.as_str()
    );
    for t in &r.targets {
        let _ = writeln!(
            out,
            "| {} | {} | {} | {} | {} | {:+.2} pp |",
            md_escape(&t.label),
            t.weight.map_or("?".to_owned(), |w| w.to_string()),
            t.observed,
            pct(t.share),
            pct(t.expected_share),
            t.deviation_pp
        );
    }
    if let (Some(p), Some(stat)) = (r.p_value, r.statistic) {
        let _ = writeln!(
            out,
            "\n{} against the exact weights: X² = {stat:.3}, df = {}, p = {} (alpha {}, tolerance {} pp or {} %)",
            r.test.describe(),
            r.df,
            p_text(p),
            r.alpha,
            r.tolerance_pp,
            r.tolerance_relative_pct
        );
    }
    if let Some(e) = &r.errors {
        let _ = writeln!(
            out,
            "\nFailed requests: {} of {} ({:.3} %), {} without a response.",
            e.failed,
            e.sent,
            100.0 * e.rate,
            e.without_target
        );
    }
    if let Some(n) = r.required_n {
        if n >= crate::counts::MAX_TOTAL {
            let _ = writeln!(
                out,
                "\nNo run could send enough {} to decide it: the tolerance is too small.",
                r.unit.as_str()
            );
        } else {
            let _ = writeln!(out, "\nAbout {n} {} would decide it.", r.unit.as_str());
        }
    }
    for note in &r.notes {
        let _ = writeln!(out, "\n> {}", md_escape(note));
    }
    out.push('\n');
    out
}

/// The scaling verdict as markdown.
pub fn scaling_markdown(r: &ScalingReport) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "### {} verify scaling: {}\n\n{}\n",
        icon(r.verdict),
        r.verdict.as_str(),
        md_escape(&r.reason)
    );
    let _ = writeln!(
        out,
        "| target | instances seen | start | min | max | events |\n|---|---:|---:|---:|---:|---|"
    );
    for t in &r.targets {
        let events: Vec<String> = t
            .events
            .iter()
            .map(|e| format!("{}→{} at {} s", e.from, e.to, e.start_s))
            .collect();
        let _ = writeln!(
            out,
            "| {} | {} | {} | {} | {} | {} |",
            md_escape(&t.target),
            t.instances_seen,
            t.initial,
            t.min,
            t.max,
            events.join(", ")
        );
    }
    if !r.checks.is_empty() {
        let _ = writeln!(
            out,
            "\n| check | target | result | detail |\n|---|---|---|---|"
        );
        for c in &r.checks {
            let _ = writeln!(
                out,
                "| {} | {} | {} {} | {} |",
                c.name,
                md_escape(&c.target),
                icon(c.verdict),
                c.verdict.as_str(),
                md_escape(&c.detail)
            );
        }
    }
    if let Some(aws) = &r.aws {
        out.push_str(&aws_markdown(aws));
    }
    for note in &r.notes {
        let _ = writeln!(out, "\n> {}", md_escape(note));
    }
    out.push('\n');
    out
}

/// The AWS scaling activities of `verify scaling --ecs-cluster` as a table.
fn aws_markdown(aws: &crate::scaling::AwsScaling) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "\nECS service {} (cluster {}, target {}): desired {}, running {}, pending {} now\n",
        md_escape(&aws.service),
        md_escape(&aws.cluster),
        md_escape(&aws.target),
        aws.desired,
        aws.running,
        aws.pending
    );
    if aws.activities.is_empty() {
        let _ = writeln!(out, "No scaling activity during the run.");
        return out;
    }
    let _ = writeln!(
        out,
        "| since start | desired | status | seen by clients |\n|---:|---|---|---|"
    );
    for a in &aws.activities {
        let _ = writeln!(
            out,
            "| {} s | {} | {} | {} |",
            a.at_s,
            crate::scaling::desired_text(a),
            md_escape(&a.status),
            a.lag_s
                .map_or("not seen".to_owned(), |l| format!("after {l} s"))
        );
    }
    out
}

/// Appends `markdown` to the file named by `GITHUB_STEP_SUMMARY`, if set.
pub fn append_step_summary(markdown: &str) -> std::io::Result<()> {
    let Some(path) = std::env::var_os(STEP_SUMMARY_ENV).filter(|p| !p.is_empty()) else {
        return Ok(());
    };
    let mut file = OpenOptions::new().create(true).append(true).open(path)?;
    file.write_all(markdown.as_bytes())
}

/// One JUnit test case: name, verdict, message.
pub type Case = (String, Verdict, String);

/// A JUnit XML document of one suite: FAIL is a `<failure>`, INCONCLUSIVE
/// a `<skipped>` (not proven either way), PASS a plain test case with the
/// reason as its output.
pub fn junit(suite: &str, cases: &[Case]) -> String {
    let mut test_suite = TestSuite::new(suite);
    for (name, verdict, message) in cases {
        let status = match verdict {
            Verdict::Pass => TestCaseStatus::success(),
            Verdict::Fail => {
                let mut status = TestCaseStatus::non_success(NonSuccessKind::Failure);
                status.set_message(message.as_str());
                status
            }
            Verdict::Inconclusive => {
                let mut status = TestCaseStatus::skipped();
                status.set_message(format!("INCONCLUSIVE: {message}"));
                status
            }
        };
        let mut case = TestCase::new(name.as_str(), status);
        case.set_classname(suite);
        if *verdict == Verdict::Pass {
            case.set_system_out(message.as_str());
        }
        test_suite.add_test_case(case);
    }
    let mut report = quick_junit::Report::new(suite);
    report.add_test_suite(test_suite);
    // Serialising into a String cannot fail for I/O; should quick-junit
    // refuse anyway, the error is written where the XML would be.
    report
        .to_string()
        .unwrap_or_else(|e| format!("<!-- JUnit XML could not be written: {e} -->\n"))
}

/// The JUnit cases of a split verdict: the split itself, and the error rate
/// when it was checked.
pub fn split_cases(r: &SplitReport) -> Vec<Case> {
    let mut cases = vec![("split".to_owned(), r.verdict, r.reason.clone())];
    if let Some(e) = &r.errors
        && e.max_error_rate.is_some()
    {
        let v = if e.exceeded.is_empty() {
            Verdict::Pass
        } else {
            Verdict::Fail
        };
        cases.push((
            "error-rate".to_owned(),
            v,
            e.failure_reason()
                .unwrap_or_else(|| format!("{:.3} % of requests failed", 100.0 * e.rate)),
        ));
    }
    cases
}

/// The JUnit cases of a scaling verdict: one per check.
pub fn scaling_cases(r: &ScalingReport) -> Vec<Case> {
    if r.checks.is_empty() {
        return vec![("scaling".to_owned(), r.verdict, r.reason.clone())];
    }
    r.checks
        .iter()
        .map(|c| {
            (
                format!("{} {}", c.target, c.name),
                c.verdict,
                c.detail.clone(),
            )
        })
        .collect()
}

/// The JUnit case of a compare verdict.
pub fn compare_cases(r: &CompareReport) -> Vec<Case> {
    vec![("compare".to_owned(), r.verdict, r.reason.clone())]
}

/// Writes `xml` to `path`.
pub fn write_junit(path: &Path, xml: &str) -> std::io::Result<()> {
    std::fs::write(path, xml)
}
