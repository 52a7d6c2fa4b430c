//! `rollout`: walk a policy's schedule, judging every step on the traffic.
//! See `rollout --help`.

use std::process::ExitCode;

use clap::Parser;
use rollout::args::RolloutArgs;

#[tokio::main]
async fn main() -> ExitCode {
    let args = match RolloutArgs::try_parse() {
        Ok(a) => a,
        Err(e) => {
            let _ = e.print();
            return ExitCode::from(if e.use_stderr() {
                verify::error::EXIT_USAGE
            } else {
                0
            });
        }
    };
    ExitCode::from(rollout::drive::run(args).await)
}
