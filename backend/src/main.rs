use clap::Parser;

#[tokio::main]
async fn main() -> std::process::ExitCode {
    let cli = backend::cli::Cli::parse();
    match backend::cli::run(cli).await {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("backend: {e:#}");
            std::process::ExitCode::FAILURE
        }
    }
}
