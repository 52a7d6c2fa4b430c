//! weighbridge's load generator: open-loop load (no coordinated omission)
//! that records which target and which instance served every request, in
//! memory that does not grow with the run, into the report `verify` reads.

pub mod cli;
pub mod engine;
pub mod mix;
pub mod progress;
pub mod recorder;
pub mod request;
pub mod run;
pub mod schedule;
pub mod selfwatch;
pub mod window;

use std::process::ExitCode;

/// The binary's whole life; `main` only calls this.
pub async fn main_with(cli: cli::Cli) -> ExitCode {
    match cli.command {
        Some(cli::Command::Merge(args)) => match run::merge(&args) {
            Ok(r) => {
                println!(
                    "merged {} reports ({} requests scheduled) into {}",
                    args.reports.len(),
                    r.totals.scheduled,
                    args.out.display()
                );
                ExitCode::SUCCESS
            }
            Err(e) => {
                eprintln!("loadgen merge: {e:#}");
                ExitCode::FAILURE
            }
        },
        None => match run::run(cli.run).await {
            Ok((_, false)) => ExitCode::SUCCESS,
            Ok((_, true)) => ExitCode::from(run::EXIT_INTERRUPTED),
            Err(e) => {
                eprintln!("loadgen: {e:#}");
                match e.downcast_ref::<run::Fatal>() {
                    Some(f) => ExitCode::from(f.code),
                    None => ExitCode::FAILURE,
                }
            }
        },
    }
}
