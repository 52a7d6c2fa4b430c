//! The main job in one command: the topology, load until the split is
//! decided (`check`), the verdict.

use std::process::ExitCode;

use anyhow::Context;
use tokio::process::Command;

use crate::cli::{DemoArgs, RolloutDemoArgs, UpArgs, describe};
use crate::local::Local;
use weighbridge_signal::Signals;

async fn start(args: &crate::cli::TopologyArgs) -> anyhow::Result<Local> {
    let options = args.options()?;
    eprintln!(
        "starting the local topology from {} ...",
        args.policy.display()
    );
    tokio::task::spawn_blocking(move || Local::start(options)).await?
}

pub async fn up(args: UpArgs) -> anyhow::Result<ExitCode> {
    // A signal while the topology starts is kept, and stops it once started.
    let signals = Signals::register()?;
    let local = start(&args.topology).await?;
    print!("{}", describe(&local));
    if let Some(path) = &args.state {
        let text = serde_json::to_string_pretty(&crate::cli::state_json(&local))?;
        if let Err(e) = std::fs::write(path, text + "\n") {
            tokio::task::spawn_blocking(move || local.stop()).await?;
            anyhow::bail!("cannot write --state {}: {e}", path.display());
        }
        println!("state       {}", path.display());
    }
    println!("up; Ctrl-C stops everything");
    let signal = signals.recv().await;
    eprintln!("{signal}: stopping");
    tokio::task::spawn_blocking(move || local.stop()).await?;
    Ok(ExitCode::SUCCESS)
}

pub async fn demo(args: DemoArgs) -> anyhow::Result<ExitCode> {
    let signals = Signals::register()?;
    let local = start(&args.topology).await?;
    print!("{}", describe(&local));
    let bin_dir = local.options().bin_dir.clone();
    let mix: Vec<String> = std::iter::once("/host:18".to_owned())
        .chain(
            local
                .options()
                .policy
                .path_rules()
                .iter()
                .map(|r| format!("{}:1", r.path)),
        )
        .collect();
    if let Some(dir) = args.out.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir)?;
    }
    let url = local.url("");
    println!(
        "\ncheck: {} rps against {url} until the split is decided (at most {})",
        args.rps,
        humantime::format_duration(args.max_duration)
    );
    let mut check = Command::new(bin_dir.join("check"));
    check
        .args(["--url", &url, "--path", &mix.join(","), "--rps"])
        .arg(args.rps.to_string())
        .arg("--max-duration")
        .arg(humantime::format_duration(args.max_duration).to_string())
        .arg("--policy")
        .arg(&args.topology.policy)
        .args(["--tolerance", &format!("{}pp", args.tolerance)])
        .arg("--out")
        .arg(&args.out)
        .arg("--html")
        .arg(&args.html)
        .kill_on_drop(true);
    let status = tokio::select! {
        s = check.status() => s.context("running check")?,
        sig = signals.recv() => {
            eprintln!("{sig}: stopping everything");
            tokio::task::spawn_blocking(move || local.stop()).await?;
            return Ok(ExitCode::from(130));
        }
    };
    tokio::task::spawn_blocking(move || local.stop()).await?;
    println!(
        "\nthe load report: {} (verify split --sequential {} --policy {} replays it)",
        args.out.display(),
        args.out.display(),
        args.topology.policy.display()
    );
    println!("charts and verdict: {}", args.html.display());
    Ok(ExitCode::from(
        u8::try_from(status.code().unwrap_or(70)).unwrap_or(70),
    ))
}

/// The candidate of a rollout demo: named, or with two targets the one the
/// first step weighs least.
fn candidate_of(
    policy: &weighbridge_policy::Policy,
    named: Option<&str>,
) -> anyhow::Result<String> {
    if let Some(c) = named {
        return Ok(c.to_owned());
    }
    let first = policy.rollout().first().context(
        "the policy has no rollout schedule: give one with `rollout.steps` (config/rollout.json is an example)",
    )?;
    if first.weights.len() != 2 {
        anyhow::bail!("the policy has more than two targets: name the candidate with --candidate");
    }
    first
        .weights
        .iter()
        .min_by_key(|t| t.weight)
        .map(|t| t.label.clone())
        .context("no targets")
}

pub async fn rollout_demo(mut args: RolloutDemoArgs) -> anyhow::Result<ExitCode> {
    let signals = Signals::register()?;
    let policy = weighbridge_policy::Policy::load(&args.topology.policy)?;
    let candidate = candidate_of(&policy, args.candidate.as_deref())?;
    if args.bad_candidate {
        args.topology
            .env
            .push(format!("{candidate}:FAULT_RATE=0.05"));
    }
    let local = start(&args.topology).await?;
    print!("{}", describe(&local));
    if args.bad_candidate {
        println!(
            "bad candidate: {candidate} answers 5 % of its requests with a 500 (FAULT_RATE=0.05)"
        );
    }
    for path in [&args.out, &args.load_out, &args.html] {
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir)?;
        }
    }
    let bin_dir = local.options().bin_dir.clone();
    let url = local.url("");
    println!();
    let mut rollout = Command::new(bin_dir.join("rollout"));
    rollout
        .args(["--url", &url, "--path", "/host", "--rps"])
        .arg(args.rps.to_string())
        .arg("--policy")
        .arg(&args.topology.policy)
        .arg("--haproxy")
        .arg(&local.runtime.socket)
        .args(["--candidate", &candidate])
        .args(["--tolerance", &format!("{}pp", args.tolerance)])
        // The gate judges a step once each side has 200 requests (about
        // 15 s at 5 % of 300 rps): a 5 % fault rate is then seen with
        // probability 0.997.
        .args(["--min-requests", "200"])
        .arg("--out")
        .arg(&args.out)
        .arg("--load-out")
        .arg(&args.load_out)
        .arg("--html")
        .arg(&args.html)
        .kill_on_drop(true);
    let mut child = rollout.spawn().context("starting rollout")?;
    let status = tokio::select! {
        s = child.wait() => s.context("running rollout")?,
        sig = signals.recv() => {
            // rollout rolls back and writes its reports on SIGTERM: pass the
            // signal on (a Ctrl-C reached it already, from the terminal),
            // wait for it, then stop the topology.
            eprintln!("{sig}: rollout rolls back, then everything stops");
            if let Some(pid) = child.id().and_then(|p| i32::try_from(p).ok()) {
                let _ = nix::sys::signal::kill(
                    nix::unistd::Pid::from_raw(pid),
                    nix::sys::signal::Signal::SIGTERM,
                );
            }
            let _ = tokio::time::timeout(std::time::Duration::from_secs(30), child.wait()).await;
            tokio::task::spawn_blocking(move || local.stop()).await?;
            return Ok(ExitCode::from(130));
        }
    };
    tokio::task::spawn_blocking(move || local.stop()).await?;
    println!(
        "\nthe rollout report: {}, the load report: {} (verify split {} --policy {} --schedule {} judges it again)",
        args.out.display(),
        args.load_out.display(),
        args.load_out.display(),
        args.topology.policy.display(),
        args.out.display()
    );
    println!("charts and verdict: {}", args.html.display());
    Ok(ExitCode::from(
        u8::try_from(status.code().unwrap_or(70)).unwrap_or(70),
    ))
}
