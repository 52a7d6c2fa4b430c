//! The `check` binary: everything lives in [`rollout::check`].

use clap::Parser as _;

#[tokio::main]
async fn main() -> std::process::ExitCode {
    // A usage error exits 64 (EX_USAGE), never clap's 2, which would read
    // as INCONCLUSIVE.
    let args = match rollout::check::CheckArgs::try_parse() {
        Ok(args) => args,
        Err(e) => {
            let _ = e.print();
            return std::process::ExitCode::from(if e.use_stderr() { 64 } else { 0 });
        }
    };
    std::process::ExitCode::from(rollout::check::run(args).await)
}
