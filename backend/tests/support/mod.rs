//! The backend binary under test, started through the workspace's testkit.
#![allow(dead_code, unused_imports, unreachable_pub)]

use std::path::Path;

pub use weighbridge_testkit::{Moto, Process, Sig, aws_env, free_port};

fn exe() -> &'static Path {
    Path::new(env!("CARGO_BIN_EXE_backend"))
}

/// Starts the server on a free port and waits until it listens.
pub fn start(args: &[&str], env: &[(&str, &str)]) -> Process {
    Process::start_backend(exe(), args, env)
}

/// Starts the binary without waiting (e.g. `consume`).
pub fn spawn(args: &[&str], env: &[(&str, &str)]) -> Process {
    Process::spawn(exe(), args, env)
}
