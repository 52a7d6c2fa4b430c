//! The `lambda` target locally: the real lambda binary behind a real Lambda
//! runtime emulator (`cargo lambda watch --only-lambda-apis`), which serves
//! function URLs over HTTP at `/lambda-url/<function>/...`; the router
//! prepends that prefix for the `lambda` group.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{Context, bail};

use weighbridge_process::{Proc, free_port, wait_for_port};

/// The function name the emulator gives the one function it serves with
/// `--only-lambda-apis`: its function URLs are `/lambda-url/_/...`.
pub const FUNCTION_NAME: &str = "_";

/// How the `lambda` label runs: under `cargo lambda watch
/// --only-lambda-apis` (`cargo-lambda` from `CARGO_LAMBDA`, else PATH).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LambdaRuntime {
    pub cargo_lambda: PathBuf,
}

impl Default for LambdaRuntime {
    fn default() -> Self {
        let exe = std::env::var_os("CARGO_LAMBDA")
            .map_or_else(|| PathBuf::from("cargo-lambda"), PathBuf::from);
        Self { cargo_lambda: exe }
    }
}

/// The runtime emulator, running.
#[derive(Debug)]
pub struct Emulator {
    pub proc: Proc,
    /// Where it serves the Runtime API and function URLs.
    pub addr: SocketAddr,
    /// The `AWS_LAMBDA_*` variables it printed for the function.
    pub vars: Vec<(String, String)>,
}

impl LambdaRuntime {
    /// Starts `cargo lambda watch --only-lambda-apis` on a free port.
    pub fn start_emulator(&self, logs: &Path) -> anyhow::Result<Emulator> {
        let cargo_lambda = &self.cargo_lambda;
        // cargo-lambda wants a Cargo project to stand in; an empty one will do.
        let project = logs.join("emulator-project");
        std::fs::create_dir_all(project.join("src"))?;
        std::fs::write(
            project.join("Cargo.toml"),
            "[package]\nname = \"emulator\"\nversion = \"0.0.0\"\nedition = \"2021\"\n\n[workspace]\n",
        )?;
        std::fs::write(project.join("src/main.rs"), "fn main() {}\n")?;
        let port = free_port()?;
        // Its messages go to stderr: fold them into stdout to read them.
        let script = "cd \"$1\" && shift && exec \"$@\" 2>&1";
        let cl = cargo_lambda.to_string_lossy();
        let project_s = project.to_string_lossy();
        let port_s = port.to_string();
        let log = logs.join("lambda-emulator.log");
        let mut proc = Proc::spawn(
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
            Some(&log),
        )
        .with_context(|| format!("starting {cl}"))?;
        let mut vars: Vec<(String, String)> = Vec::new();
        let found = proc.wait_for_line(
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
        if found.is_err() || !vars.iter().any(|(k, _)| k == "AWS_LAMBDA_RUNTIME_API") {
            bail!(
                "the Lambda emulator did not start: is cargo-lambda installed (`pip install cargo-lambda`, \
                 or run scripts/setup; CARGO_LAMBDA names it)? See {}",
                log.display()
            );
        }
        let addr = SocketAddr::from(([127, 0, 0, 1], port));
        if !wait_for_port(addr, Duration::from_secs(10)) {
            bail!("the Lambda emulator does not listen on {addr}");
        }
        Ok(Emulator { proc, addr, vars })
    }
}

impl Emulator {
    /// One of the variables the emulator printed.
    pub fn var(&self, key: &str) -> Option<&str> {
        self.vars
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }

    /// The function URL of `path` (`/lambda-url/_/...`).
    pub fn url(&self, path: &str) -> String {
        format!("http://{}{}{path}", self.addr, self.path_prefix())
    }

    /// What the router prepends for the `lambda` group.
    pub fn path_prefix(&self) -> String {
        format!("/lambda-url/{FUNCTION_NAME}")
    }

    /// Runs the function binary `exe` against this emulator, with `env`
    /// added to what the emulator printed. `AWS_LAMBDA_LOG_STREAM_NAME`
    /// (which real Lambda sets and the emulator does not) defaults to
    /// `local/lambda-1`.
    pub fn start_function(
        &self,
        exe: &Path,
        env: &[(String, String)],
        log: Option<&Path>,
    ) -> anyhow::Result<Proc> {
        if !exe.exists() {
            bail!(
                "{} not found: build it with `cargo build --release -p lambda`",
                exe.display()
            );
        }
        let mut all: Vec<(&str, &str)> = vec![
            ("RUST_LOG", "info"),
            ("AWS_LAMBDA_LOG_STREAM_NAME", "local/lambda-1"),
        ];
        all.extend(self.vars.iter().map(|(k, v)| (k.as_str(), v.as_str())));
        // The caller's settings win (the last value of a variable counts).
        all.extend(env.iter().map(|(k, v)| (k.as_str(), v.as_str())));
        Ok(Proc::spawn("lambda", exe, &[], &all, log)?)
    }
}
