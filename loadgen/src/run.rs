//! One load run from the command line to the report file.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use bytes::Bytes;
use serde_json::json;
use time::OffsetDateTime;
use tokio_util::sync::CancellationToken;
use weighbridge_report::{
    LoadgenWatch, MAX_TARGETS, OVERFLOW_TARGET, Report, SCHEMA_V1, StoppedBy,
};
use weighbridge_signal::Signals;

use crate::cli::{MergeArgs, Progress, Rate, RunArgs, Stages};
use crate::engine::{self, Load};
use crate::mix::Mix;
use crate::progress;
use crate::recorder::{Recorder, Results, Snapshot};
use crate::request::{ServedBy, VirtualClient};
use crate::schedule::{Schedule, Stage};
use crate::selfwatch;

/// Exit code when the run was stopped by a signal (the report is written).
pub const EXIT_INTERRUPTED: u8 = 130;

/// Exit code when `--out` cannot take a report; checked before any request
/// is sent (EX_CANTCREAT).
pub const EXIT_CANT_CREATE: u8 = 73;
/// Exit code when the report could not be written to `--out` at the end and
/// went to a fallback file instead, whose path is printed (EX_IOERR).
pub const EXIT_FALLBACK: u8 = 74;

/// An error with an exit code of its own.
#[derive(Debug, thiserror::Error)]
#[error("{message}")]
pub struct Fatal {
    pub code: u8,
    pub message: String,
}

/// The load shape the flags describe.
#[derive(Debug)]
enum Shape {
    Open {
        schedule: Schedule,
        stages: Vec<Stage>,
        start_rps: f64,
    },
    Closed {
        connections: usize,
        duration: Duration,
    },
}

fn shape(args: &RunArgs) -> anyhow::Result<Shape> {
    match (&args.stages, args.rps, args.duration) {
        (Some(Stages(stages)), None, None) => {
            if stages.is_empty() {
                bail!("--stages needs at least one DURATION:RPS");
            }
            let schedule = Schedule::new(args.start_rps, stages);
            if schedule.expected_count() < 1.0 {
                bail!("--stages schedules no request (every rate is 0)");
            }
            Ok(Shape::Open {
                schedule,
                stages: stages.clone(),
                start_rps: args.start_rps,
            })
        }
        (None, Some(Rate::PerSecond(rps)), Some(duration)) => {
            if duration.is_zero() {
                bail!("--duration must be longer than 0");
            }
            let stages = vec![Stage { duration, rps }];
            Ok(Shape::Open {
                schedule: Schedule::new(rps, &stages),
                stages,
                start_rps: rps,
            })
        }
        (None, Some(Rate::Max), Some(duration)) => {
            // As for the open loop: a closed loop of no time is not a run.
            if duration.is_zero() {
                bail!("--duration must be longer than 0");
            }
            if args.connections == 0 {
                bail!("--connections must be at least 1");
            }
            Ok(Shape::Closed {
                connections: args.connections,
                duration,
            })
        }
        (None, Some(_), None) => bail!("--rps needs --duration (e.g. --duration 5m)"),
        (None, None, Some(_)) => bail!("--duration needs --rps (a number, or `max`)"),
        (None, None, None) => {
            bail!("say how much load: --rps N --duration D, --rps max --duration D, or --stages")
        }
        (Some(_), _, _) => bail!("--stages replaces --rps and --duration; give one or the other"),
    }
}

/// One look of a [`Judge`]: the counts so far in, a reason to stop out.
pub type Look = Box<dyn FnMut(&Snapshot) -> Option<String> + Send>;

/// A judge watching a run: called about once a second with the counts so
/// far; returning a reason stops the load (in-flight requests finish) and
/// marks the report `stopped_by` with it.
pub struct Judge {
    /// Who judges, for the report (`check`).
    pub by: String,
    /// The look.
    pub look: Look,
    /// A window the judge moves (`rollout`: one per step), counted apart
    /// in each look's [`Snapshot::window`].
    pub window: Option<Arc<crate::window::WindowStart>>,
}

impl std::fmt::Debug for Judge {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Judge")
            .field("by", &self.by)
            .finish_non_exhaustive()
    }
}

/// How a run ended.
#[derive(Debug)]
pub struct Ran {
    /// Where the report went.
    pub out: PathBuf,
    /// Stopped by a signal.
    pub interrupted: bool,
    /// Stopped by the judge, with its reason.
    pub stopped_by: Option<String>,
}

/// Runs the load and writes the report; returns the report's path and
/// whether the run was interrupted.
pub async fn run(args: RunArgs) -> anyhow::Result<(PathBuf, bool)> {
    let ran = run_judged(args, None).await?;
    Ok((ran.out, ran.interrupted))
}

/// [`run`], with a judge that may stop the load early.
pub async fn run_judged(args: RunArgs, judge: Option<Judge>) -> anyhow::Result<Ran> {
    let shape = shape(&args)?;
    let url = args.url.clone().context("--url is required")?;
    if !matches!(url.scheme(), "http" | "https") {
        bail!("--url must be http:// or https://, got {url}");
    }
    if args.max_in_flight == 0 {
        bail!("--max-in-flight must be at least 1");
    }
    if args.clients == Some(0) {
        bail!("--clients must be at least 1");
    }
    let body = match &args.body_file {
        Some(p) => Bytes::from(
            std::fs::read(p).with_context(|| format!("reading --body-file {}", p.display()))?,
        ),
        None => Bytes::new(),
    };
    let paths: Vec<(String, u32)> = args.paths.iter().flatten().cloned().collect();
    let mix = Mix::new(
        &url,
        &paths,
        args.method.clone(),
        args.headers.clone(),
        body,
    )?;
    let out = match &args.out {
        Some(p) => p.clone(),
        None => default_out()?,
    };
    // Before any load: a run whose report cannot be written is lost.
    let cant_create = |message: String| Fatal {
        code: EXIT_CANT_CREATE,
        message: format!("{message}; no request was sent"),
    };
    if let Some(dir) = out.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir)
            .map_err(|e| cant_create(format!("cannot create {}: {e}", dir.display())))?;
    }
    Report::check_destination(&out).map_err(|e| cant_create(e.to_string()))?;

    let virtual_clients = args.clients.unwrap_or(0) as usize;
    let tls = crate::request::tls_config()?;
    let clients = if virtual_clients > 0 {
        (0..virtual_clients)
            .map(|_| VirtualClient::new(&tls, true))
            .collect()
    } else {
        vec![VirtualClient::new(&tls, false)]
    };
    let load = Arc::new(Load {
        mix,
        clients,
        served_by: ServedBy {
            target_header: args.target_header.clone(),
            instance_header: args.instance_header.clone(),
            target_json_field: args.target_json_field.clone(),
        },
        timeout: args.timeout,
        seed: args.seed,
    });

    // Time zero a little ahead, so the first requests are not late.
    let lead = Duration::from_millis(50);
    let start = Instant::now() + lead;
    let started_at = OffsetDateTime::now_utc() + lead;
    let mut recorder = Recorder::new(start, virtual_clients);
    if let Some(w) = judge.as_ref().and_then(|j| j.window.clone()) {
        recorder = recorder.with_window(w);
    }
    let recorder = Arc::new(recorder);

    let stop = CancellationToken::new();
    let on_signal = stop.clone();
    let quiet = args.quiet;
    let timeout = args.timeout;
    let signals = Signals::register()?;
    tokio::spawn(async move {
        let signal = signals.recv().await;
        if !quiet {
            eprintln!(
                "\n{signal}: no new requests; waiting up to {} for those in flight",
                humantime::format_duration(timeout)
            );
        }
        on_signal.cancel();
    });

    let total = match &shape {
        Shape::Open { schedule, .. } => schedule.duration(),
        Shape::Closed { duration, .. } => *duration,
    };
    let rate_schedule = match &shape {
        Shape::Open { schedule, .. } => Some(schedule.clone()),
        Shape::Closed { .. } => None,
    };
    let done = CancellationToken::new();
    let mode = if args.quiet {
        Progress::None
    } else {
        args.progress
    };
    let display = tokio::spawn(progress::display(
        mode,
        Arc::clone(&recorder),
        total,
        move |t| rate_schedule.as_ref().map(|s| s.rate_at(t)),
        done.clone(),
    ));

    let judge_by = judge.as_ref().map(|j| j.by.clone());
    // The judge's task ends with its reason to stop, or with nothing when
    // the run ended first.
    let judging = judge.map(|mut judge| {
        let (recorder, stop, done) = (Arc::clone(&recorder), stop.clone(), done.clone());
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(Duration::from_secs(1));
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                tokio::select! {
                    _ = tick.tick() => {}
                    () = done.cancelled() => return None,
                }
                if let Some(reason) = (judge.look)(&recorder.snapshot()) {
                    stop.cancel();
                    return Some(reason);
                }
            }
        })
    });

    let end = match &shape {
        Shape::Open { schedule, .. } => {
            engine::open_loop(
                Arc::clone(&load),
                Arc::clone(&recorder),
                schedule,
                args.arrivals,
                args.max_in_flight,
                stop.clone(),
            )
            .await
        }
        Shape::Closed {
            connections,
            duration,
        } => {
            engine::closed_loop(
                Arc::clone(&load),
                Arc::clone(&recorder),
                *connections,
                *duration,
                stop.clone(),
            )
            .await
        }
    };
    done.cancel();
    let watch = display.await.context("progress display")?;
    let stopped_by = match judging {
        Some(j) => j.await.context("the judge")?,
        None => None,
    };
    let interrupted = end.interrupted && stopped_by.is_none();
    let results = recorder.close();
    let ended_at = OffsetDateTime::now_utc();

    let mut report = build_report(
        &args,
        &shape,
        &load,
        Finished {
            started_at,
            ended_at,
            interrupted,
            results,
            cpu_percent: watch.mean_cpu(),
        },
    );
    report.stopped_by = stopped_by.clone().map(|reason| StoppedBy {
        by: judge_by.unwrap_or_default(),
        reason,
    });
    if let Err(e) = report.write_atomic(&out) {
        // Keep the run: write it where a file can still go, and say where.
        let fallback = std::env::temp_dir().join(format!(
            "loadgen-{}.json",
            report.runs.first().map_or("run", String::as_str)
        ));
        let message = match report.write_atomic(&fallback) {
            Ok(()) => format!(
                "{e}; the report was written to {} instead",
                fallback.display()
            ),
            Err(e2) => format!("{e}; the fallback {e2} failed too, the run is lost"),
        };
        return Err(Fatal {
            code: EXIT_FALLBACK,
            message,
        }
        .into());
    }
    if let Err(e) = report.validate() {
        bail!(
            "the report written to {} is inconsistent ({e}); this is a loadgen bug, please report it",
            out.display()
        );
    }
    if !args.quiet {
        print!("{}", summary(&report, &out));
    }
    Ok(Ran {
        out,
        interrupted,
        stopped_by,
    })
}

/// What a finished run measured, beside what it was asked to do.
struct Finished {
    started_at: OffsetDateTime,
    ended_at: OffsetDateTime,
    interrupted: bool,
    results: Results,
    /// loadgen's own mean CPU use over the run.
    cpu_percent: f64,
}

fn build_report(args: &RunArgs, shape: &Shape, load: &Load, finished: Finished) -> Report {
    let Finished {
        started_at,
        ended_at,
        interrupted,
        results,
        cpu_percent,
    } = finished;
    let urls = load
        .mix
        .endpoints
        .iter()
        .map(|e| e.url.to_string())
        .collect();
    let mut extra = BTreeMap::new();
    let paths: Vec<_> = args
        .paths
        .iter()
        .flatten()
        .map(|(p, w)| json!({ "path": p, "weight": w }))
        .collect();
    extra.insert("paths".to_owned(), json!(paths));
    extra.insert("method".to_owned(), json!(args.method.as_str()));
    extra.insert("timeout_s".to_owned(), json!(args.timeout.as_secs_f64()));
    extra.insert("seed".to_owned(), json!(args.seed));
    if let Some(c) = args.clients {
        extra.insert("clients".to_owned(), json!(c));
    }
    let (rps, stages, duration_s) = match shape {
        Shape::Open {
            schedule,
            stages,
            start_rps,
        } => {
            extra.insert("mode".to_owned(), json!("open-loop"));
            extra.insert(
                "arrivals".to_owned(),
                json!(format!("{:?}", args.arrivals).to_lowercase()),
            );
            extra.insert("max_in_flight".to_owned(), json!(args.max_in_flight));
            extra.insert("start_rps".to_owned(), json!(start_rps));
            let peak = stages.iter().map(|s| s.rps).fold(*start_rps, f64::max);
            let stages = stages
                .iter()
                .map(|s| weighbridge_report::Stage {
                    duration_s: s.duration.as_secs_f64(),
                    rps: s.rps,
                    extra: BTreeMap::new(),
                })
                .collect();
            (peak, stages, schedule.duration().as_secs_f64())
        }
        Shape::Closed {
            connections,
            duration,
        } => {
            extra.insert("mode".to_owned(), json!("closed-loop"));
            extra.insert("connections".to_owned(), json!(connections));
            (0.0, Vec::new(), duration.as_secs_f64())
        }
    };
    let clients = (!results.clients.is_empty()).then_some(results.clients);
    Report {
        schema: SCHEMA_V1.to_owned(),
        config: weighbridge_report::Config {
            urls,
            rps,
            stages,
            duration_s,
            workers: 1,
            extra,
        },
        started_at,
        ended_at: ended_at.max(started_at),
        interrupted,
        runs: vec![format!("{:032x}", rand::random::<u128>())],
        totals: results.totals,
        targets: results.targets,
        paths: results.paths,
        timeline: results.timeline,
        hosts: results.hosts,
        clients,
        loadgen: Some(LoadgenWatch {
            cpu_percent,
            max_send_lag_ms: results.lag_max_ms,
            send_lag_p99_ms: Some(results.lag_p99_ms),
            bottleneck: selfwatch::is_bottleneck(results.lag_p99_ms),
        }),
        stopped_by: None,
    }
}

/// The short human summary printed at the end.
pub fn summary(r: &Report, out: &Path) -> String {
    use std::fmt::Write as _;
    let t = &r.totals;
    let secs = (r.ended_at - r.started_at).as_seconds_f64().max(1e-9);
    let mut s = String::new();
    let _ = writeln!(
        s,
        "{}: {} scheduled, {} ok, {} failed, {} dropped in {:.1} s ({:.1} rps sent{})",
        if r.interrupted {
            "loadgen (interrupted)".to_owned()
        } else if let Some(stop) = &r.stopped_by {
            format!("loadgen (stopped by {}: {})", stop.by, stop.reason)
        } else {
            "loadgen".to_owned()
        },
        t.scheduled,
        t.ok,
        t.failed,
        t.dropped,
        secs,
        t.sent as f64 / secs,
        if r.config.rps > 0.0 {
            format!(", peak target {:.0}", r.config.rps)
        } else {
            String::new()
        },
    );
    let f = &t.failures;
    if t.failed > 0 {
        let _ = writeln!(
            s,
            "  failures: connect {} timeout {} 4xx {} 5xx {} other {}",
            f.connect, f.timeout, f.http_4xx, f.http_5xx, f.other
        );
    }
    let served: u64 = r.targets.values().map(|x| x.requests).sum();
    for (label, x) in &r.targets {
        let instances = r.hosts.values().filter(|h| &h.target == label).count();
        let _ = writeln!(
            s,
            "  {label:<10} {:>8} ({:>5.1}%)  ok {:>8}  p50 {:.1} ms  p99 {:.1} ms  max {:.1} ms (corrected; raw p99 {:.1} ms)  {instances} instance(s)",
            x.requests,
            100.0 * x.requests as f64 / served.max(1) as f64,
            x.ok,
            x.latency_ms.p50,
            x.latency_ms.p99,
            x.latency_ms.max,
            x.raw_latency_ms.p99,
        );
    }
    if let Some(x) = r.targets.get(OVERFLOW_TARGET) {
        let _ = writeln!(
            s,
            "  WARNING: more than {MAX_TARGETS} target labels; {} responses with new labels are counted as `{OVERFLOW_TARGET}` (does --target-header name a per-request value?)",
            x.requests
        );
    }
    if let Some(w) = &r.loadgen {
        let _ = writeln!(
            s,
            "  loadgen CPU {:.0}% of a core, latest send {:.1} ms after its due time",
            w.cpu_percent, w.max_send_lag_ms
        );
        if w.bottleneck {
            let _ = writeln!(
                s,
                "  WARNING: loadgen could not keep its schedule: it, not the target, limited this run"
            );
        }
    }
    let _ = writeln!(s, "report: {}", out.display());
    s
}

fn default_out() -> anyhow::Result<PathBuf> {
    let now = OffsetDateTime::now_utc();
    let stamp = format!(
        "{:04}{:02}{:02}T{:02}{:02}{:02}Z",
        now.year(),
        u8::from(now.month()),
        now.day(),
        now.hour(),
        now.minute(),
        now.second()
    );
    Ok(PathBuf::from("reports").join(format!("loadgen-{stamp}.json")))
}

/// Merges reports from several workers into one file.
pub fn merge(args: &MergeArgs) -> anyhow::Result<Report> {
    let reports = args
        .reports
        .iter()
        .map(|p| Report::read(p).map_err(anyhow::Error::from))
        .collect::<anyhow::Result<Vec<_>>>()?;
    let merged = weighbridge_report::merge(&reports)?;
    merged
        .write_atomic(&args.out)
        .with_context(|| format!("writing {}", args.out.display()))?;
    Ok(merged)
}
