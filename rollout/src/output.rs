//! The rollout's verdict on stdout (text or JSON), in the GitHub step
//! summary, as JUnit (one test case per step) and as an HTML page; the
//! writers are verify's, so a rollout reads like every other verdict.

use std::fmt::Write as _;

use verify::Verdict;
use verify::ci::{self, Case, md_escape};
use verify::cli::OutputArgs;
use verify::error::EXIT_CANT_CREATE;
use verify::output::Format;
use weighbridge_report::Report;
use weighbridge_report::rollout::{RolloutReport, RolloutStepReport, weights_text as weights};

fn shares(s: &RolloutStepReport) -> String {
    s.split
        .shares
        .iter()
        .map(|(l, x)| format!("{l} {:.1} %", 100.0 * x))
        .collect::<Vec<_>>()
        .join(", ")
}

/// The verdict as text: a line per step, then the verdict.
pub fn text(r: &RolloutReport) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "\nrollout of {} on {}", r.policy, r.router);
    let _ = writeln!(
        out,
        "{:<5} {:<26} {:>9} {:>7} {:<28} {:<13} verdict",
        "step", "weights", "window s", "n", "observed", "gate"
    );
    for s in &r.steps {
        let window = match (s.window.from_s, s.window.to_s) {
            (Some(a), Some(b)) => format!("{a}-{b}"),
            _ => "-".to_owned(),
        };
        let gate = s
            .gate
            .as_ref()
            .map_or("n/a".to_owned(), |g| g.verdict.clone());
        let _ = writeln!(
            out,
            "{:<5} {:<26} {:>9} {:>7} {:<28} {:<13} {}",
            s.index + 1,
            weights(&s.weights),
            window,
            s.split.n,
            shares(s),
            gate,
            s.verdict
        );
        if s.verdict != "PASS" {
            let _ = writeln!(out, "      {}", s.reason);
        }
    }
    if r.rolled_back {
        let _ = writeln!(
            out,
            "rolled back: the router reports {}",
            weights(&r.final_weights)
        );
    } else {
        let _ = writeln!(out, "final weights: {}", weights(&r.final_weights));
    }
    for n in &r.notes {
        let _ = writeln!(out, "note: {n}");
    }
    let _ = writeln!(out, "\n{}: {}", r.verdict, r.reason);
    out
}

/// The step summary: a table of steps, the verdict, the rollback.
pub fn markdown(r: &RolloutReport) -> String {
    let icon = |v: &str| match v {
        "PASS" => "✅",
        "FAIL" => "❌",
        _ => "⚠️",
    };
    let mut md = format!(
        "### {} rollout: {}\n\n{}\n\n| step | weights | router reports | window (s) | n | observed | gate | errors | verdict |\n|---|---|---|---|---|---|---|---|---|\n",
        icon(&r.verdict),
        r.verdict,
        md_escape(&r.reason)
    );
    for s in &r.steps {
        let window = match (s.window.from_s, s.window.to_s) {
            (Some(a), Some(b)) => format!("{a}–{b}"),
            _ => "–".to_owned(),
        };
        let _ = writeln!(
            md,
            "| {} | {} | {} | {} | {} | {} | {} | {} | {} {} |",
            s.index + 1,
            md_escape(&weights(&s.weights)),
            md_escape(&weights(&s.applied)),
            window,
            s.split.n,
            md_escape(&shares(s)),
            s.gate
                .as_ref()
                .map_or("n/a".to_owned(), |g| g.verdict.clone()),
            s.errors.verdict,
            icon(&s.verdict),
            s.verdict
        );
    }
    let _ = writeln!(
        md,
        "\n{}: {}\n",
        if r.rolled_back {
            "Rolled back; the router reports"
        } else {
            "Final weights"
        },
        md_escape(&weights(&r.final_weights))
    );
    md
}

/// JUnit: one test case per step (FAIL a failure, INCONCLUSIVE skipped).
pub fn cases(r: &RolloutReport) -> Vec<Case> {
    let mut cases: Vec<Case> = r
        .steps
        .iter()
        .map(|s| {
            (
                format!("step {} ({})", s.index + 1, weights(&s.weights)),
                Verdict::from_text(&s.verdict),
                s.reason.clone(),
            )
        })
        .collect();
    if cases.is_empty() {
        cases.push((
            "rollout".to_owned(),
            Verdict::from_text(&r.verdict),
            r.reason.clone(),
        ));
    }
    cases
}

/// Prints the verdict, writes the CI outputs, returns the exit code.
pub fn deliver(out: &OutputArgs, r: &RolloutReport, load: Option<&Report>) -> u8 {
    let rendered = match out.format {
        Format::Text => text(r),
        Format::Json => {
            serde_json::to_string_pretty(r).unwrap_or_else(|e| format!("{{\"error\":\"{e}\"}}"))
                + "\n"
        }
    };
    // A closed stdout loses the text, not the exit code or the files.
    {
        use std::io::Write as _;
        let _ = std::io::stdout().lock().write_all(rendered.as_bytes());
    }
    if let Err(e) = ci::append_step_summary(&markdown(r)) {
        eprintln!(
            "rollout: warning: cannot append to ${}: {e}",
            ci::STEP_SUMMARY_ENV
        );
    }
    if let Some(path) = &out.junit
        && let Err(e) = ci::write_junit(path, &ci::junit("rollout", &cases(r)))
    {
        eprintln!("rollout: error: cannot write {}: {e}", path.display());
        return EXIT_CANT_CREATE;
    }
    if let Some(path) = &out.html
        && let Err(e) = verify::html::write(path, &verify::html::rollout_page(r, load))
    {
        eprintln!("rollout: error: cannot write {}: {e}", path.display());
        return EXIT_CANT_CREATE;
    }
    Verdict::from_text(&r.verdict).exit_code()
}
