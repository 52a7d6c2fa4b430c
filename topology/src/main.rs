use clap::Parser;
use topology::cli::{Cli, Command};

#[tokio::main]
async fn main() -> std::process::ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Render(args) => {
            topology::cli::render(&args).map(|()| std::process::ExitCode::SUCCESS)
        }
        Command::Up(args) => topology::demo::up(args).await,
        Command::Demo(args) => topology::demo::demo(args).await,
    };
    result.unwrap_or_else(|e| {
        eprintln!("topology: {e:#}");
        std::process::ExitCode::from(3)
    })
}
