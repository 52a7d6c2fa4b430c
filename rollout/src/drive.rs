//! The rollout loop: one loadgen run for the whole schedule, and beside it
//! a controller that sets each step's weights, reads them back, moves the
//! load's window to the step (after the convergence time) and judges it
//! every settled second until the step is decided; then the next step, or
//! the rollback. The load is loadgen's, the judging verify's (via
//! [`crate::step`]); nothing here counts or tests by itself.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use loadgen::recorder::Snapshot;
use loadgen::run::{Judge, run_judged};
use loadgen::window::{WindowCounts, WindowStart};
use time::OffsetDateTime;
use tokio::sync::watch;
use verify::compare::CompareOptions;
use verify::error::{EXIT_CANT_CREATE, EXIT_INVALID_INPUT, EXIT_UNAVAILABLE, EXIT_USAGE};
use verify::tolerance::Tolerance;
use verify::{InputError, SplitOptions, Verdict};
use weighbridge_policy::Policy;
use weighbridge_report::Report;
use weighbridge_report::rollout::{
    Check, ROLLOUT_SCHEMA_V1, RolloutReport, RolloutStepReport, StepWindow,
};

use crate::args::RolloutArgs;
use crate::check::{EXIT_INTERRUPTED, EXIT_NO_RUN};
use crate::plan::{OnInconclusive, Plan, weights_of};
use crate::router::{Router, RouterError, same_split, weights_text};
use crate::step::{self, StepRules};

/// A line on stdout; a closed stdout (`rollout | head`) loses the line,
/// never the rollout (which still rolls back and writes its reports).
macro_rules! out {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        let _ = writeln!(std::io::stdout().lock(), $($arg)*);
    }};
}

/// [`out!`], for the other driver.
pub(crate) fn say(line: &str) {
    out!("{line}");
}

/// What the controller saw of one step, before the load report exists.
#[derive(Debug, Clone)]
pub struct StepRun {
    pub(crate) index: usize,
    pub(crate) weights: Vec<(String, u32)>,
    pub(crate) applied: Vec<(String, u32)>,
    pub(crate) changed_at: OffsetDateTime,
    pub(crate) convergence: Duration,
    pub(crate) from_second: u64,
    pub(crate) seconds: u64,
    pub(crate) extensions: u32,
    pub(crate) verdict: Verdict,
    pub(crate) reason: String,
    pub(crate) router: Check,
    pub(crate) judgement: Option<step::Judgement>,
    /// The window as wall-clock times, when it is not seconds of a load
    /// (CloudWatch).
    pub(crate) window_wall: Option<(OffsetDateTime, OffsetDateTime)>,
}

/// How the controller ended.
#[derive(Debug)]
pub struct Ending {
    pub(crate) steps: Vec<StepRun>,
    pub(crate) verdict: Verdict,
    pub(crate) reason: String,
    pub(crate) rolled_back: bool,
    pub(crate) rolled_back_at: Option<OffsetDateTime>,
    pub(crate) final_weights: Vec<(String, u32)>,
    pub(crate) interrupted: bool,
    /// A router that failed mid-way (exit 69 unless a verdict says more).
    pub(crate) router_error: Option<String>,
    pub(crate) notes: Vec<String>,
}

/// Runs `rollout`; returns the exit code.
pub async fn run(args: RolloutArgs) -> u8 {
    let input_error = |e: &InputError| {
        eprintln!("rollout: error: {e}");
        e.exit_code()
    };
    let policy = match Policy::load(&args.policy) {
        Ok(p) => p,
        Err(e) => return input_error(&InputError::Policy(e)),
    };
    let rollback: Option<Vec<(String, u64)>> = args.rollback_weights.as_ref().map(|w| w.0.clone());
    let plan = match Plan::new(
        policy,
        args.baseline.as_deref(),
        args.candidate.as_deref(),
        rollback.as_deref(),
        args.convergence.unwrap_or(Duration::from_secs(1)),
        args.max_hold,
        args.on_inconclusive,
    ) {
        Ok(p) => p,
        Err(e) => return input_error(&e),
    };
    let steps = plan.steps.len() as f64;
    let split = SplitOptions {
        alpha: args.alpha / steps,
        tolerance: Tolerance::from_bounds(&args.tolerance),
        ..SplitOptions::default()
    };
    if !(args.alpha > 0.0 && args.alpha < 0.5) {
        return input_error(&InputError::BadOption {
            name: "alpha",
            value: args.alpha,
            reason: "must be more than 0 and less than 0.5",
        });
    }
    if let Err(e) = split.validate() {
        return input_error(&e);
    }
    let gate = CompareOptions {
        baseline: plan.baseline.clone(),
        candidate: plan.candidate.clone(),
        alpha: args.alpha / steps,
        max_error_increase_pp: args.max_error_increase,
        max_latency_increase: args.max_latency_increase,
        min_latency_increase_ms: args.min_latency_increase.as_secs_f64() * 1000.0,
        min_requests: args.min_requests,
    };
    if let Err(e) = gate.validate() {
        return input_error(&e);
    }
    if !(0.0..=1.0).contains(&args.max_error_rate) {
        return input_error(&InputError::BadOption {
            name: "max-error-rate",
            value: args.max_error_rate,
            reason: "must be a share between 0 and 1 (or 0 % to 100 %)",
        });
    }
    if args.rps == 0 {
        eprintln!("rollout: error: --rps must be more than 0");
        return EXIT_USAGE;
    }
    if plan.policy.stickiness().enabled && args.clients.is_none() {
        eprintln!(
            "rollout: error: the policy has stickiness on: give --clients N, virtual clients that keep their cookies (one shared client without cookies cannot be sticky)"
        );
        return EXIT_USAGE;
    }
    for out in [&args.out, &args.load_out] {
        if let Some(dir) = out.parent().filter(|d| !d.as_os_str().is_empty())
            && let Err(e) = std::fs::create_dir_all(dir)
        {
            eprintln!("rollout: error: cannot create {}: {e}", dir.display());
            return EXIT_CANT_CREATE;
        }
        if let Err(e) = Report::check_destination(out) {
            eprintln!("rollout: error: {e}; no weight was changed");
            return EXIT_CANT_CREATE;
        }
    }
    // The router last: everything above is checked before it is touched.
    let router = match open_router(&args, &plan.policy).await {
        Ok(r) => r,
        Err(e) => {
            eprintln!("rollout: error: {e}; no weight was changed");
            return match e {
                RouterError::MissingLabel { .. } => EXIT_INVALID_INPUT,
                RouterError::Elbv2(ref inner) if inner.is_input_error() => EXIT_INVALID_INPUT,
                _ => EXIT_UNAVAILABLE,
            };
        }
    };
    let text = !args.quiet && args.output.format == verify::output::Format::Text;
    if args.cloudwatch {
        return run_cloudwatch(&args, &plan, &split, &router, text).await;
    }
    let load = match load_args(&args, &plan) {
        Ok(l) => l,
        Err(e) => {
            let _ = e.print();
            return EXIT_USAGE;
        }
    };
    if text {
        out!(
            "rollout: {} steps of {} on {}, {} rps to {} (baseline {}, candidate {}; at most {})",
            plan.steps.len(),
            args.policy.display(),
            router.describe(),
            args.rps,
            args.url
                .as_ref()
                .map_or_else(String::new, ToString::to_string),
            plan.baseline,
            plan.candidate,
            humantime::format_duration(plan.longest())
        );
    }
    let rules = StepRules {
        split,
        gate,
        max_error_rate: Some(args.max_error_rate),
    };
    let started_at = OffsetDateTime::now_utc();
    let window = Arc::new(WindowStart::default());
    let (snap_tx, snap_rx) = watch::channel::<Option<Arc<Snapshot>>>(None);
    let stop: Arc<Mutex<Option<String>>> = Arc::new(Mutex::new(None));
    let judge = {
        let stop = Arc::clone(&stop);
        Judge {
            by: "rollout".to_owned(),
            look: Box::new(move |snap: &Snapshot| {
                let _ = snap_tx.send(Some(Arc::new(snap.clone())));
                stop.lock().ok().and_then(|mut s| s.take())
            }),
            window: Some(Arc::clone(&window)),
        }
    };
    let controller = Controller {
        plan: &plan,
        rules: &rules,
        router: &router,
        window: &window,
        convergence: args.convergence,
        say: text,
    };
    let (ran, ending) = tokio::join!(run_judged(load, Some(judge)), async {
        let ending = controller.drive(snap_rx).await;
        if let Ok(mut s) = stop.lock() {
            *s = Some(format!("rollout: {}", ending.verdict.as_str()));
        }
        ending
    });
    let ended_at = OffsetDateTime::now_utc();
    let (load_report, load_code) = match ran {
        Ok(ran) => match Report::read(&ran.out) {
            Ok(r) => (Some(r), None),
            Err(e) => {
                eprintln!("rollout: cannot read back {}: {e}", ran.out.display());
                (None, Some(EXIT_NO_RUN))
            }
        },
        Err(e) => {
            eprintln!("rollout: the load: {e:#}");
            let code = e
                .downcast_ref::<loadgen::run::Fatal>()
                .map_or(EXIT_NO_RUN, |f| f.code);
            (None, Some(code))
        }
    };
    let report = rollout_report(
        &args,
        &plan,
        &router,
        &ending,
        load_report.as_ref(),
        started_at,
        ended_at,
    );
    let code = crate::output::deliver(&args.output, &report, load_report.as_ref());
    if let Err(e) = report.write_atomic(&args.out) {
        eprintln!("rollout: error: {e}");
        return EXIT_CANT_CREATE;
    }
    if text {
        out!(
            "\nrollout report: {} (load report: {})",
            args.out.display(),
            args.load_out.display()
        );
    }
    if ending.interrupted {
        return EXIT_INTERRUPTED;
    }
    if ending.router_error.is_some() && ending.verdict != Verdict::Fail {
        return EXIT_UNAVAILABLE;
    }
    match load_code {
        Some(c) if ending.steps.is_empty() => c,
        _ => code,
    }
}

/// The rollout on CloudWatch's counts: no load, a step per whole minutes.
async fn run_cloudwatch(
    args: &RolloutArgs,
    plan: &Plan,
    split: &SplitOptions,
    router: &Router,
    text: bool,
) -> u8 {
    let (Some(rule), Some(tgs)) = (&args.listener_rule, &args.target_groups) else {
        eprintln!(
            "rollout: error: --cloudwatch reads the listener rule's load balancer: give --listener-rule and --target-group"
        );
        return EXIT_USAGE;
    };
    let source = match crate::cloudwatch::Source::from_arns(rule, &tgs.0) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("rollout: error: {e}");
            return EXIT_INVALID_INPUT;
        }
    };
    let timing = crate::cloudwatch::Timing {
        convergence: args.convergence.unwrap_or(Duration::from_secs(60)),
        metric_delay: args.metric_delay,
    };
    let (stop_tx, stop_rx) = watch::channel(false);
    match weighbridge_signal::Signals::register() {
        Ok(signals) => {
            tokio::spawn(async move {
                let signal = signals.recv().await;
                eprintln!("\n{signal}: rolling back");
                let _ = stop_tx.send(true);
            });
        }
        Err(e) => {
            eprintln!("rollout: warning: signals cannot be caught ({e}): Ctrl-C will not roll back")
        }
    }
    if text {
        out!(
            "rollout: {} steps of {} on {}, judged on CloudWatch RequestCount of {} (baseline {}, candidate {})",
            plan.steps.len(),
            args.policy.display(),
            router.describe(),
            source.load_balancer,
            plan.baseline,
            plan.candidate
        );
    }
    let started_at = OffsetDateTime::now_utc();
    let ending = match args.simulated_clock {
        None => {
            crate::cloudwatch::drive(
                plan,
                split,
                router,
                &source,
                timing,
                &crate::cloudwatch::WallClock,
                stop_rx,
                text,
            )
            .await
        }
        Some(t) => {
            let clock = crate::cloudwatch::SimulatedClock::starting_at(t);
            crate::cloudwatch::drive(plan, split, router, &source, timing, &clock, stop_rx, text)
                .await
        }
    };
    let report = rollout_report(
        args,
        plan,
        router,
        &ending,
        None,
        started_at,
        OffsetDateTime::now_utc(),
    );
    finish(args, &report, None, &ending, text)
}

/// Delivers the verdict, writes the rollout report, returns the exit code.
fn finish(
    args: &RolloutArgs,
    report: &RolloutReport,
    load: Option<&Report>,
    ending: &Ending,
    text: bool,
) -> u8 {
    let code = crate::output::deliver(&args.output, report, load);
    if let Err(e) = report.write_atomic(&args.out) {
        eprintln!("rollout: error: {e}");
        return EXIT_CANT_CREATE;
    }
    if text {
        out!("\nrollout report: {}", args.out.display());
    }
    if ending.interrupted {
        return EXIT_INTERRUPTED;
    }
    if ending.router_error.is_some() && ending.verdict != Verdict::Fail {
        return EXIT_UNAVAILABLE;
    }
    code
}

async fn open_router(args: &RolloutArgs, policy: &Policy) -> Result<Router, RouterError> {
    match (&args.haproxy, &args.listener_rule, &args.target_groups) {
        (Some(socket), _, _) => Router::haproxy(socket.clone(), policy).await,
        (None, Some(rule), Some(tgs)) => Router::elbv2(rule, &tgs.0, policy).await,
        _ => Err(RouterError::Join(
            "give --haproxy SOCKET, or --listener-rule ARN with --target-group".to_owned(),
        )),
    }
}

/// loadgen's arguments: the whole schedule at its longest, and a margin;
/// the controller stops the load once the rollout is decided.
fn load_args(args: &RolloutArgs, plan: &Plan) -> Result<loadgen::cli::RunArgs, clap::Error> {
    let longest =
        plan.longest() + plan.steps.len() as u32 * Duration::from_secs(5) + Duration::from_secs(30);
    let mut argv: Vec<String> = vec![
        "loadgen".into(),
        "--url".into(),
        args.url
            .as_ref()
            .map_or_else(String::new, ToString::to_string),
        "--rps".into(),
        args.rps.to_string(),
        "--duration".into(),
        format!("{}s", longest.as_secs()),
        "--out".into(),
        args.load_out.display().to_string(),
        "--progress".into(),
        "none".into(),
    ];
    for p in &args.paths {
        argv.extend(["--path".to_owned(), p.clone()]);
    }
    if let Some(n) = args.clients {
        argv.extend(["--clients".to_owned(), n.to_string()]);
    }
    if args.quiet || args.output.format != verify::output::Format::Text {
        argv.push("--quiet".into());
    }
    <loadgen::cli::Cli as clap::Parser>::try_parse_from(argv).map(|cli| cli.run)
}

/// The controller's view of the run.
struct Controller<'a> {
    plan: &'a Plan,
    rules: &'a StepRules,
    router: &'a Router,
    window: &'a WindowStart,
    convergence: Option<Duration>,
    say: bool,
}

/// The next look of loadgen, or None once the load has ended.
async fn next(rx: &mut watch::Receiver<Option<Arc<Snapshot>>>) -> Option<Arc<Snapshot>> {
    loop {
        rx.changed().await.ok()?;
        if let Some(s) = rx.borrow_and_update().clone() {
            return Some(s);
        }
    }
}

impl Controller<'_> {
    async fn drive(&self, mut rx: watch::Receiver<Option<Arc<Snapshot>>>) -> Ending {
        let mut ending = Ending {
            steps: Vec::new(),
            verdict: Verdict::Pass,
            reason: String::new(),
            rolled_back: false,
            rolled_back_at: None,
            final_weights: Vec::new(),
            interrupted: false,
            router_error: None,
            notes: Vec::new(),
        };
        let Some(first) = next(&mut rx).await else {
            ending.verdict = Verdict::Inconclusive;
            ending.reason = "the load ended before the first step".to_owned();
            ending.final_weights = self
                .router
                .read(&self.plan.policy)
                .await
                .unwrap_or_default();
            return ending;
        };
        // loadgen's time zero, from its own clock: windows are in its seconds.
        let zero = Instant::now()
            .checked_sub(first.elapsed)
            .unwrap_or_else(Instant::now);
        let mut lag_ms = first.lag_p99_ms;
        let mut previous: Option<Vec<(String, u32)>> =
            self.router.read(&self.plan.policy).await.ok();
        for (i, step) in self.plan.steps.iter().enumerate() {
            let run = self
                .step(i, step, zero, &mut lag_ms, previous.as_deref(), &mut rx)
                .await;
            let run = match run {
                Ok(run) => run,
                Err(StepError::Router(e, weights)) => {
                    ending.router_error = Some(e.clone());
                    // Not a verdict on the candidate: the rollout could not
                    // go on (exit 69), and rolls back.
                    ending.verdict = Verdict::Inconclusive;
                    ending.reason = format!(
                        "step {} ({}): the router could not be changed or read: {e}",
                        i + 1,
                        weights_text(&weights)
                    );
                    break;
                }
                Err(StepError::Ended(run)) => {
                    ending.interrupted = true;
                    ending.verdict = Verdict::Inconclusive;
                    ending.reason = format!(
                        "interrupted during step {} ({}): rolled back",
                        i + 1,
                        weights_text(&run.weights)
                    );
                    ending.steps.push(*run);
                    break;
                }
                Err(StepError::Judge(e)) => {
                    ending.verdict = Verdict::Inconclusive;
                    ending.reason = format!("step {} could not be judged: {e}", i + 1);
                    ending.notes.push(ending.reason.clone());
                    break;
                }
            };
            previous = Some(run.applied.clone());
            let verdict = run.verdict;
            let reason = format!(
                "step {} ({}): {}",
                i + 1,
                weights_text(&run.weights),
                run.reason
            );
            if self.say {
                out!(
                    "step {}/{}: {} after {} s of window: {}",
                    i + 1,
                    self.plan.steps.len(),
                    verdict.as_str(),
                    run.seconds,
                    run.reason
                );
            }
            ending.steps.push(run);
            if verdict != Verdict::Pass {
                ending.verdict = verdict;
                ending.reason = reason;
                break;
            }
        }
        conclude(self.plan, self.router, &mut ending, self.say).await;
        ending
    }

    /// One step: change, read back, converge, judge until decided.
    async fn step(
        &self,
        i: usize,
        step: &weighbridge_policy::RolloutStep,
        zero: Instant,
        lag_ms: &mut f64,
        previous: Option<&[(String, u32)]>,
        rx: &mut watch::Receiver<Option<Arc<Snapshot>>>,
    ) -> Result<StepRun, StepError> {
        let weights = weights_of(step);
        let policy = self.plan.step_policy(i);
        let router_err = |e: RouterError| StepError::Router(e.to_string(), weights.clone());
        self.router.set(&weights).await.map_err(router_err)?;
        let changed = Instant::now();
        let changed_at = OffsetDateTime::now_utc();
        let applied = self
            .router
            .read(&self.plan.policy)
            .await
            .map_err(|e| StepError::Router(e.to_string(), weights.clone()))?;
        let convergence = self.convergence.unwrap_or_else(|| {
            Duration::from_secs(1) + Duration::from_secs_f64((*lag_ms / 1000.0).ceil())
        });
        let from_second = (changed.saturating_duration_since(zero) + convergence)
            .as_secs_f64()
            .ceil() as u64;
        self.window.set(from_second);
        let mut run = StepRun {
            index: i,
            weights: weights.clone(),
            applied: applied.clone(),
            changed_at,
            convergence,
            from_second,
            seconds: 0,
            extensions: 0,
            verdict: Verdict::Inconclusive,
            reason: String::new(),
            router: Check {
                verdict: "PASS".to_owned(),
                reason: format!("the router reports {}", weights_text(&applied)),
            },
            judgement: None,
            window_wall: None,
        };
        if self.say {
            out!(
                "step {}/{}: {} set; router reports {}; judged from second {} (convergence {}), held {}",
                i + 1,
                self.plan.steps.len(),
                weights_text(&weights),
                weights_text(&applied),
                from_second,
                humantime::format_duration(convergence),
                humantime::format_duration(step.hold)
            );
        }
        if let Some(why) = crate::router::mismatch(previous, &applied, &weights) {
            run.router = Check {
                verdict: "FAIL".to_owned(),
                reason: why.clone(),
            };
            run.verdict = Verdict::Fail;
            run.reason = format!("router: {why}");
            return Ok(run);
        }
        let hold = step.hold.as_secs().max(1);
        let longest = self.plan.longest_hold(i).as_secs().max(hold);
        let looks = self.plan.gate_looks(i);
        let mut rules = self.rules.clone();
        rules.gate.alpha = self.rules.gate.alpha / f64::from(looks);
        let mut gate_at = hold;
        loop {
            let Some(snap) = next(rx).await else {
                run.reason = "the load ended (interrupted) before the step was decided".to_owned();
                return Err(StepError::Ended(Box::new(run)));
            };
            *lag_ms = lag_ms.max(snap.lag_p99_ms);
            let Some(w) = snap
                .window
                .as_ref()
                .filter(|w| w.from_second == from_second && w.seconds > 0)
            else {
                continue;
            };
            run.seconds = w.seconds;
            let complete = w.seconds >= gate_at;
            let j = step::judge(&policy, &rules, w, complete).map_err(StepError::Judge)?;
            let decided = j.verdict == Verdict::Fail
                || (complete && (j.verdict == Verdict::Pass || w.seconds >= longest));
            if decided {
                run.verdict = j.verdict;
                run.reason = if j.verdict == Verdict::Fail && j.split_verdict == Verdict::Fail {
                    format!(
                        "the router reports {} but the traffic does not follow: {}",
                        weights_text(&applied),
                        j.reason
                    )
                } else if j.verdict == Verdict::Inconclusive {
                    format!(
                        "not decided after {} s (the longest hold): {}",
                        w.seconds, j.reason
                    )
                } else {
                    j.reason.clone()
                };
                run.judgement = Some(j);
                return Ok(run);
            }
            run.judgement = Some(j);
            if complete {
                run.extensions += 1;
                gate_at = (gate_at + hold).min(longest);
                if self.say {
                    out!(
                        "step {}/{}: INCONCLUSIVE at {} s, held to {} s",
                        i + 1,
                        self.plan.steps.len(),
                        w.seconds,
                        gate_at
                    );
                }
            }
        }
    }
}

/// The end of a rollout, however it was driven: the verdict's reason when
/// every step passed, the rollback when one did not (or the run was
/// stopped), and the weights read back from the router.
pub(crate) async fn conclude(plan: &Plan, router: &Router, ending: &mut Ending, say: bool) {
    if ending.verdict == Verdict::Pass {
        ending.reason = format!(
            "every step of {} passed: the traffic followed each step's weights and the candidate was no worse than the baseline",
            plan.steps.len()
        );
    }
    let roll_back = ending.interrupted
        || ending.router_error.is_some()
        || ending.verdict == Verdict::Fail
        || (ending.verdict == Verdict::Inconclusive
            && plan.on_inconclusive == OnInconclusive::Rollback);
    if roll_back {
        if say {
            out!("rolling back to {}", weights_text(&plan.rollback));
        }
        match router.set(&plan.rollback).await {
            Ok(()) => {
                ending.rolled_back = true;
                ending.rolled_back_at = Some(OffsetDateTime::now_utc());
            }
            Err(e) => {
                let e = format!(
                    "the rollback to {} failed: {e}",
                    weights_text(&plan.rollback)
                );
                eprintln!("rollout: error: {e}");
                ending.notes.push(e.clone());
                ending.router_error = Some(e);
            }
        }
    }
    match router.read(&plan.policy).await {
        Ok(w) => {
            if ending.rolled_back && !same_split(&w, &plan.rollback) {
                let e = format!(
                    "after the rollback the router reports {}, not {}",
                    weights_text(&w),
                    weights_text(&plan.rollback)
                );
                ending.notes.push(e.clone());
                ending.router_error = Some(e);
            }
            ending.final_weights = w;
        }
        Err(e) => {
            ending
                .notes
                .push(format!("the final weights could not be read back: {e}"));
        }
    }
}

/// Why a step stopped without a verdict of its own.
#[derive(Debug)]
enum StepError {
    Router(String, Vec<(String, u32)>),
    Ended(Box<StepRun>),
    Judge(InputError),
}

fn map(w: &[(String, u32)]) -> std::collections::BTreeMap<String, u32> {
    w.iter().map(|(l, x)| (l.clone(), *x)).collect()
}

/// The rollout report, its windows placed on the load report's own time
/// zero (so `verify split --schedule` finds the same seconds).
fn rollout_report(
    args: &RolloutArgs,
    plan: &Plan,
    router: &Router,
    ending: &Ending,
    load: Option<&Report>,
    started_at: OffsetDateTime,
    ended_at: OffsetDateTime,
) -> RolloutReport {
    let zero = load.map_or(started_at, |r| r.started_at);
    let at = |s: u64| zero + time::Duration::seconds(i64::try_from(s).unwrap_or(i64::MAX / 2));
    let steps = ending
        .steps
        .iter()
        .map(|s| {
            let j = s.judgement.as_ref();
            let empty_window = WindowCounts::default();
            let errors = j.map_or_else(
                || step::judge_errors(Some(args.max_error_rate), &empty_window).1,
                |j| j.errors.1.clone(),
            );
            RolloutStepReport {
                index: s.index,
                weights: map(&s.weights),
                applied: map(&s.applied),
                hold_s: plan.steps[s.index].hold.as_secs_f64(),
                convergence_s: s.convergence.as_secs_f64(),
                changed_at: s.changed_at,
                window: match s.window_wall {
                    Some((from, to)) => StepWindow {
                        from,
                        to,
                        from_s: None,
                        to_s: None,
                        extensions: s.extensions,
                    },
                    None => StepWindow {
                        from: at(s.from_second),
                        to: at(s.from_second + s.seconds.max(1)),
                        from_s: Some(s.from_second),
                        to_s: Some(s.from_second + s.seconds),
                        extensions: s.extensions,
                    },
                },
                verdict: s.verdict.as_str().to_owned(),
                reason: s.reason.clone(),
                router: s.router.clone(),
                split: j.map_or_else(
                    || weighbridge_report::rollout::SplitCheck {
                        verdict: "INCONCLUSIVE".to_owned(),
                        reason: "not judged: the step ended before its window".to_owned(),
                        n: 0,
                        counts: Default::default(),
                        shares: Default::default(),
                    },
                    |j| j.split.clone(),
                ),
                gate: j.and_then(|j| j.gate.as_ref().map(|g| g.1.clone())),
                errors,
                stickiness: j.and_then(|j| j.stickiness.as_ref().map(|s| s.1.clone())),
            }
        })
        .collect();
    let mut notes = ending.notes.clone();
    notes.push(format!(
        "alpha {} over the rollout: the split of each of the {} steps is judged at {:.2e}, the gate's looks share the same per step",
        args.alpha,
        plan.steps.len(),
        args.alpha / plan.steps.len() as f64
    ));
    RolloutReport {
        schema: ROLLOUT_SCHEMA_V1.to_owned(),
        verdict: ending.verdict.as_str().to_owned(),
        reason: ending.reason.clone(),
        policy: args.policy.display().to_string(),
        router: router.describe(),
        traffic: if args.cloudwatch {
            "cloudwatch"
        } else {
            "load"
        }
        .to_owned(),
        load_report: (!args.cloudwatch).then(|| args.load_out.display().to_string()),
        baseline: Some(plan.baseline.clone()),
        candidate: Some(plan.candidate.clone()),
        started_at,
        ended_at,
        rolled_back: ending.rolled_back,
        rolled_back_at: ending.rolled_back_at,
        final_weights: map(&ending.final_weights),
        steps,
        notes,
    }
}
