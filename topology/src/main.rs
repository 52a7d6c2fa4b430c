use clap::Parser as _;
use topology::cli::{Cli, Command};

#[tokio::main]
async fn main() -> std::process::ExitCode {
    // A usage error exits 64 (EX_USAGE), never clap's 2: `demo` passes
    // verify's exit code through, and 2 there means INCONCLUSIVE.
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            let _ = e.print();
            return std::process::ExitCode::from(if e.use_stderr() { 64 } else { 0 });
        }
    };
    let result = match cli.command {
        Command::Render(args) => {
            topology::cli::render(&args).map(|()| std::process::ExitCode::SUCCESS)
        }
        Command::Up(args) => topology::demo::up(args).await,
        Command::Demo(args) => topology::demo::demo(args).await,
        Command::RolloutDemo(args) => topology::demo::rollout_demo(args).await,
    };
    result.unwrap_or_else(|e| {
        eprintln!("topology: {e:#}");
        std::process::ExitCode::from(3)
    })
}
