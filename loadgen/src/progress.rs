//! What the user sees while it runs: a live bar on a terminal (indicatif),
//! plain periodic lines otherwise, nothing with `--quiet`; and a short
//! summary at the end.

use std::io::IsTerminal;
use std::sync::Arc;
use std::time::{Duration, Instant};

use indicatif::{ProgressBar, ProgressStyle};
use tokio_util::sync::CancellationToken;

use crate::cli::Progress;
use crate::recorder::{Recorder, Snapshot};
use crate::selfwatch::{self, SelfWatch};

/// Plain lines come this often when stderr is not a terminal.
const PLAIN_EVERY: Duration = Duration::from_secs(5);

/// One status line: rates, errors, p99, split.
pub fn status_line(s: &Snapshot, elapsed: f64, target_rps: Option<f64>) -> String {
    let achieved = if elapsed > 0.0 {
        s.sent as f64 / elapsed
    } else {
        0.0
    };
    let rate = match target_rps {
        Some(t) => format!("{achieved:.0}/{t:.0} rps"),
        None => format!("{achieved:.0} rps"),
    };
    let served: u64 = s.targets.values().sum();
    let split = s
        .targets
        .iter()
        .map(|(k, v)| format!("{k} {:.1}%", 100.0 * *v as f64 / served.max(1) as f64))
        .collect::<Vec<_>>()
        .join(" ");
    let p99 = s
        .recent_p99_ms
        .map_or_else(|| "-".to_owned(), |p| format!("{p:.1}ms"));
    let mut line = format!(
        "{rate} | ok {} failed {} dropped {} | p99 {p99} | {split}",
        s.ok, s.failed, s.dropped
    );
    if selfwatch::is_bottleneck(s.lag_p99_ms) {
        line.push_str(&format!(
            " | LOADGEN IS THE BOTTLENECK (sends {:.0} ms late)",
            s.lag_p99_ms
        ));
    }
    line
}

/// Runs the display until `done`; returns the self-watch for the report.
pub async fn display(
    mode: Progress,
    recorder: Arc<Recorder>,
    total: Duration,
    rate_at: impl Fn(f64) -> Option<f64> + Send,
    done: CancellationToken,
) -> SelfWatch {
    let mut watch = SelfWatch::new();
    let terminal = std::io::stderr().is_terminal();
    let mode = match mode {
        Progress::Auto if terminal => Progress::Bar,
        Progress::Auto => Progress::Plain,
        m => m,
    };
    let bar = (mode == Progress::Bar).then(|| {
        let bar = ProgressBar::new(total.as_millis() as u64);
        bar.set_style(
            ProgressStyle::with_template("{elapsed_precise}/{duration_precise} [{bar:30}] {msg}")
                .unwrap_or_else(|_| ProgressStyle::default_bar())
                .progress_chars("=> "),
        );
        bar
    });
    let started = Instant::now();
    let mut tick = tokio::time::interval(Duration::from_millis(250));
    let mut last_cpu = Instant::now();
    let mut last_plain = Instant::now();
    loop {
        tokio::select! {
            _ = tick.tick() => {}
            () = done.cancelled() => break,
        }
        if last_cpu.elapsed() >= Duration::from_secs(1) {
            watch.sample();
            last_cpu = Instant::now();
        }
        let elapsed = recorder.start().elapsed().as_secs_f64().max(0.0);
        let snap = recorder.snapshot();
        let line = status_line(&snap, elapsed, rate_at(elapsed));
        match (&bar, mode) {
            (Some(bar), _) => {
                bar.set_position(started.elapsed().as_millis() as u64);
                bar.set_message(line);
            }
            (None, Progress::Plain) if last_plain.elapsed() >= PLAIN_EVERY => {
                eprintln!("[{elapsed:>6.1}s] {line}");
                last_plain = Instant::now();
            }
            _ => {}
        }
    }
    if let Some(bar) = bar {
        bar.finish_and_clear();
    }
    watch
}
