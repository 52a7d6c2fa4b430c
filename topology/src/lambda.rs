//! The `lambda` target locally: the real lambda binary behind a real Lambda
//! runtime emulator (`cargo lambda watch --only-lambda-apis`), which serves
//! function URLs over HTTP at `/lambda-url/<function>/...`; the router
//! prepends that prefix for the `lambda` group.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{Context, bail};

use crate::process::{Proc, free_port, wait_for_port};

/// The function name the emulator routes `/lambda-url/lambda/...` to.
pub const FUNCTION_NAME: &str = "lambda";

/// How the `lambda` label runs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LambdaRuntime {
    /// Under `cargo lambda watch --only-lambda-apis` (`cargo-lambda` from
    /// `CARGO_LAMBDA`, else PATH).
    Emulator { cargo_lambda: PathBuf },
    /// Not available: a policy with a `lambda` target cannot start.
    Unavailable(String),
}

impl Default for LambdaRuntime {
    fn default() -> Self {
        let exe = std::env::var_os("CARGO_LAMBDA")
            .map_or_else(|| PathBuf::from("cargo-lambda"), PathBuf::from);
        Self::Emulator { cargo_lambda: exe }
    }
}

/// What `start` returns: the emulator, the function, the address the router
/// sends to, and the path prefix it prepends.
pub type Started = (Vec<Proc>, Proc, SocketAddr, Option<String>);

impl LambdaRuntime {
    pub fn start(
        &self,
        bin_dir: &Path,
        env: &[(String, String)],
        logs: &Path,
    ) -> anyhow::Result<Started> {
        let cargo_lambda = match self {
            Self::Emulator { cargo_lambda } => cargo_lambda,
            Self::Unavailable(why) => bail!("the policy has a `lambda` target but {why}"),
        };
        // cargo-lambda wants a Cargo project to stand in; an empty one will do.
        let project = logs.join("emulator-project");
        std::fs::create_dir_all(project.join("src"))?;
        std::fs::write(
            project.join("Cargo.toml"),
            "[package]\nname = \"emulator\"\nversion = \"0.0.0\"\nedition = \"2021\"\n\n[workspace]\n",
        )?;
        std::fs::write(project.join("src/main.rs"), "fn main() {}\n")?;
        let port = free_port()?;
        let script = "cd \"$1\" && shift && exec \"$@\" 2>&1";
        let cl = cargo_lambda.to_string_lossy();
        let project_s = project.to_string_lossy();
        let port_s = port.to_string();
        let mut emulator = Proc::spawn(
            "cargo-lambda",
            Path::new("sh"),
            &[
                "-c",
                script,
                "sh",
                &project_s,
                &cl,
                "lambda",
                "watch",
                "--only-lambda-apis",
                "-A",
                "127.0.0.1",
                "-P",
                &port_s,
            ],
            &[],
            Some(&logs.join("lambda-emulator.log")),
        )
        .with_context(|| format!("starting {cl}"))?;
        let mut vars: Vec<(String, String)> = Vec::new();
        let found = emulator.wait_for_line(
            Duration::from_secs(30),
            "print the AWS_LAMBDA_* variables",
            |line| {
                if let Some(pos) = line.find("AWS_LAMBDA_")
                    && let Some((k, v)) = line[pos..].trim().split_once('=')
                {
                    vars.push((k.to_owned(), v.to_owned()));
                }
                line.contains("starting Runtime server").then_some(())
            },
        );
        if found.is_err() {
            bail!(
                "the Lambda emulator did not start: is cargo-lambda installed (`pip install cargo-lambda`, or run scripts/setup; set CARGO_LAMBDA to its path)? See {}",
                logs.join("lambda-emulator.log").display()
            );
        }
        if !vars.iter().any(|(k, _)| k == "AWS_LAMBDA_RUNTIME_API") {
            bail!("the Lambda emulator printed no AWS_LAMBDA_RUNTIME_API");
        }
        let mut all: Vec<(&str, &str)> =
            env.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        for (k, v) in &vars {
            if k != "AWS_LAMBDA_FUNCTION_NAME" {
                all.push((k, v));
            }
        }
        all.push(("AWS_LAMBDA_FUNCTION_NAME", FUNCTION_NAME));
        all.push(("AWS_LAMBDA_LOG_STREAM_NAME", "local/lambda-1"));
        all.push(("RUST_LOG", "info"));
        let exe = bin_dir.join("lambda");
        if !exe.exists() {
            bail!(
                "{} not found: build it with `cargo build --release -p lambda`",
                exe.display()
            );
        }
        let function = Proc::spawn("lambda", &exe, &[], &all, Some(&logs.join("lambda-1.log")))?;
        let addr = SocketAddr::from(([127, 0, 0, 1], port));
        if !wait_for_port(addr, Duration::from_secs(10)) {
            bail!("the Lambda emulator does not listen on {addr}");
        }
        Ok((
            vec![emulator],
            function,
            addr,
            Some(format!("/lambda-url/{FUNCTION_NAME}")),
        ))
    }
}
