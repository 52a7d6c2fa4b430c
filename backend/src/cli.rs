//! The command line of the `backend` binary: serve (default) or consume.

use clap::{Parser, Subcommand};
use tokio_util::sync::CancellationToken;
use weighbridge_signal::Signals;

use crate::config::{Config, ConsumeConfig, ServeConfig};
use crate::server;
use crate::sqs::Queue;
use crate::telemetry::Telemetry;
use crate::worker;

/// weighbridge sample workload: the HTTP service every target runs (ECS
/// container, local process), or the SQS worker with `consume`.
///
/// Every flag can also be given as the environment variable shown.
/// Routes (under BASE_PATH): /host, /stress-cpu/{percent}/{seconds},
/// /work/{ms}, POST /send-to-sqs, /small-woodland-creature,
/// /ice-cream-flavor, /status/{code}, /delay/{ms}; outside it: /health,
/// /ready (503 while draining), /live.
#[derive(Debug, Parser)]
#[command(name = "backend", version, about, long_about)]
pub struct Cli {
    #[command(flatten)]
    pub config: Config,

    #[command(flatten)]
    pub serve: ServeConfig,

    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Serve HTTP (the default when no subcommand is given).
    Serve,
    /// Run the SQS worker on QUEUE_URL until SIGTERM.
    Consume(ConsumeConfig),
    /// Probe a running server's `/live` on 127.0.0.1:PORT and exit 0 if it
    /// answers 200 (for a container HEALTHCHECK in an image with no curl).
    Probe {
        /// Path to probe.
        #[arg(long, default_value = "/live")]
        path: String,
    },
}

/// Runs the binary; `main` only calls this.
pub async fn run(cli: Cli) -> anyhow::Result<()> {
    cli.config.validate()?;
    cli.serve.validate()?;
    let work = match cli.command {
        Some(Command::Probe { path }) => return probe(cli.serve.port, &path).await,
        None | Some(Command::Serve) => None,
        Some(Command::Consume(consume)) => Some(consume),
    };
    let telemetry = Telemetry::init("weighbridge-backend")?;
    let result = match work {
        None => server::serve(cli.config, cli.serve).await,
        Some(consume) => run_worker(cli.config, consume).await,
    };
    telemetry.shutdown();
    result
}

async fn probe(port: u16, path: &str) -> anyhow::Result<()> {
    let url = format!("http://127.0.0.1:{port}{path}");
    let client = reqwest::Client::builder()
        .timeout(std::time::Duration::from_secs(2))
        .build()?;
    let status = client.get(&url).send().await?.status();
    anyhow::ensure!(status.is_success(), "{url} answered {status}");
    Ok(())
}

async fn run_worker(config: Config, consume: ConsumeConfig) -> anyhow::Result<()> {
    let url = config
        .queue_url()
        .map(str::to_owned)
        .ok_or_else(|| anyhow::anyhow!("`consume` needs a queue: set QUEUE_URL or --queue-url"))?;
    let signals = Signals::register()?;
    let queue = Queue::connect(url).await;
    let stop = CancellationToken::new();
    let on_signal = stop.clone();
    tokio::spawn(async move {
        let signal = signals.recv().await;
        tracing::info!(signal, "stopping after the current batch");
        on_signal.cancel();
    });
    worker::consume(&queue, &consume, stop).await;
    Ok(())
}

#[cfg(test)]
mod tests {
    use clap::CommandFactory;

    #[test]
    fn command_line_is_consistent() {
        super::Cli::command().debug_assert();
    }
}
