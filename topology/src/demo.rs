//! The main job in one command: the topology, load until the split is
//! decided (`check`), the verdict.

use std::process::ExitCode;

use anyhow::Context;
use tokio::process::Command;

use crate::cli::{DemoArgs, UpArgs, describe};
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
