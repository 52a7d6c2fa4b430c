//! Test support for weighbridge's integration tests: real processes (the
//! backend binary, `moto_server`) on free loopback ports, each stopped by its
//! PID when dropped, so no test leaves anything running. Processes are
//! `weighbridge-process`'s [`Proc`] (the one the topology uses too), with
//! panicking helpers for tests. The `sqs` feature adds an SQS client for
//! moto.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use nix::sys::signal::Signal;
pub use weighbridge_process::Proc;

pub use nix::sys::signal::Signal as Sig;

/// A process under test: [`Proc`] (stopped by PID when
/// dropped), with test-friendly methods that panic with a message instead
/// of returning errors.
#[derive(Debug)]
pub struct Process(pub Proc);

impl std::ops::Deref for Process {
    type Target = Proc;
    fn deref(&self) -> &Proc {
        &self.0
    }
}

impl std::ops::DerefMut for Process {
    fn deref_mut(&mut self) -> &mut Proc {
        &mut self.0
    }
}

impl Process {
    /// Starts `exe` with a clean environment (PATH kept) plus `env`.
    pub fn spawn(exe: &Path, args: &[&str], env: &[(&str, &str)]) -> Self {
        Self(
            Proc::spawn(&exe.display().to_string(), exe, args, env, None)
                .unwrap_or_else(|e| panic!("{e}")),
        )
    }

    /// Starts the backend binary on `127.0.0.1:0` and learns its port.
    pub fn start_backend(exe: &Path, args: &[&str], env: &[(&str, &str)]) -> Self {
        Self(Proc::start_backend("backend", exe, args, env, None).unwrap_or_else(|e| panic!("{e}")))
    }

    /// Waits for a JSON log line whose `message` is `message`.
    pub fn wait_for_log(&mut self, message: &str, timeout: Duration) -> serde_json::Value {
        self.0
            .wait_for_log(message, timeout)
            .unwrap_or_else(|e| panic!("{e}"))
    }

    pub fn signal(&self, signal: Signal) {
        self.0.signal(signal).expect("send signal");
    }

    /// CPU time (user + system) the process has used so far.
    pub fn cpu_time(&self) -> Duration {
        proc_cpu_time(self.0.child.id())
    }
}

/// CPU time of `pid` from `/proc/<pid>/stat` (clock ticks at 100 Hz).
pub fn proc_cpu_time(pid: u32) -> Duration {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).expect("read /proc stat");
    // The fields after the command name (which may hold spaces) follow `)`.
    let rest = &stat[stat.rfind(')').expect("comm") + 2..];
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let utime: u64 = fields[11].parse().expect("utime");
    let stime: u64 = fields[12].parse().expect("stime");
    Duration::from_millis((utime + stime) * 10)
}

/// A free TCP port on 127.0.0.1 (bound, then released).
pub fn free_port() -> u16 {
    weighbridge_process::free_port().expect("a free port")
}

/// The workspace's binary `name` (e.g. `backend`) for tests of another
/// crate: next to the test executable's `deps/` folder, where
/// `cargo test --workspace` builds it. When missing, it is built now.
pub fn workspace_bin(name: &str) -> PathBuf {
    let exe = std::env::current_exe().expect("test executable path");
    let profile_dir = exe
        .parent()
        .and_then(Path::parent)
        .expect("target/<profile>");
    let bin = profile_dir.join(name);
    if !bin.exists() {
        let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned());
        let release = profile_dir.file_name().is_some_and(|n| n == "release");
        let mut cmd = Command::new(cargo);
        cmd.args(["build", "--quiet", "-p", name, "--bin", name]);
        if release {
            cmd.arg("--release");
        }
        let status = cmd.status().expect("run cargo build");
        assert!(status.success(), "cargo build -p {name} failed");
    }
    assert!(bin.exists(), "{} not found after building", bin.display());
    bin
}

/// A running `moto_server` (an in-memory AWS API, SQS included): the
/// stopped by PID when dropped; its output goes to a log
/// file in the temp dir, not into the test's.
#[derive(Debug)]
pub struct Moto {
    pub proc: Proc,
    pub port: u16,
}

impl Moto {
    /// `MOTO_SERVER` names the executable; otherwise `moto_server` from PATH
    /// (`scripts/setup` installs it into a venv and puts that on PATH).
    pub fn start() -> Self {
        Self::start_on(free_port())
    }

    pub fn start_on(port: u16) -> Self {
        let log = std::env::temp_dir().join(format!("weighbridge-moto-{port}.log"));
        let proc = weighbridge_process::moto::start(port, &log).unwrap_or_else(|e| panic!("{e}"));
        Self { proc, port }
    }

    pub fn endpoint(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    pub fn stop(&mut self) {
        self.proc.kill();
    }
}

/// Environment that points the AWS SDK at a local endpoint with dummy keys.
pub use weighbridge_process::moto::aws_env;

/// An SQS client for a local endpoint (moto), with dummy credentials.
#[cfg(feature = "sqs")]
pub use weighbridge_process::moto::sqs_client;
