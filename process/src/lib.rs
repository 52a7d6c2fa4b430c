//! Child processes that are always stopped: every process the topology (or a
//! test) starts is a [`Proc`], killed by its PID when dropped, whatever
//! happened in between (an error, a panic, Ctrl-C handled by the caller).
//! [`moto`] starts `moto_server`, the local stand-in for AWS.
//!
//! A leaf crate, so that the test support (`weighbridge-testkit`) can share
//! it with the topology without depending on the topology.

use std::io::{BufRead, BufReader, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::Path;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;

/// A running child whose stdout lines can be waited on (and optionally
/// copied to a log file).
#[derive(Debug)]
pub struct Proc {
    pub name: String,
    pub child: Child,
    /// The address it listens on, once known.
    pub addr: SocketAddr,
    /// Every stdout line, as printed.
    pub logs: mpsc::Receiver<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum ProcError {
    #[error("cannot start {name} ({program}): {source}")]
    Spawn {
        name: String,
        program: String,
        source: std::io::Error,
    },
    #[error("{name} did not {what} within {timeout:?}")]
    Timeout {
        name: String,
        what: String,
        timeout: Duration,
    },
    #[error("{name} exited early ({status})")]
    Exited { name: String, status: ExitStatus },
    #[error("{name}: {message}")]
    Bad { name: String, message: String },
}

impl Proc {
    /// Starts `program` with a clean environment (PATH and HOME kept) plus
    /// `env`. Stdout lines go to the channel and, if `log` is given, to that
    /// file; stderr goes to `log` too, or is inherited.
    pub fn spawn(
        name: &str,
        program: &Path,
        args: &[&str],
        env: &[(&str, &str)],
        log: Option<&Path>,
    ) -> Result<Self, ProcError> {
        let mut cmd = Command::new(program);
        cmd.args(args).env_clear().stdout(Stdio::piped());
        for keep in ["PATH", "HOME", "TMPDIR"] {
            if let Ok(v) = std::env::var(keep) {
                cmd.env(keep, v);
            }
        }
        for (k, v) in env {
            cmd.env(k, v);
        }
        let mut file = match log {
            Some(p) => Some(
                std::fs::OpenOptions::new()
                    .create(true)
                    .append(true)
                    .open(p)
                    .map_err(|source| ProcError::Spawn {
                        name: name.to_owned(),
                        program: p.display().to_string(),
                        source,
                    })?,
            ),
            None => None,
        };
        match &file {
            Some(f) => {
                let err = f.try_clone().map_err(|source| ProcError::Spawn {
                    name: name.to_owned(),
                    program: program.display().to_string(),
                    source,
                })?;
                cmd.stderr(Stdio::from(err));
            }
            None => {
                cmd.stderr(Stdio::inherit());
            }
        }
        let mut child = cmd.spawn().map_err(|source| ProcError::Spawn {
            name: name.to_owned(),
            program: program.display().to_string(),
            source,
        })?;
        let (tx, rx) = mpsc::channel();
        if let Some(stdout) = child.stdout.take() {
            std::thread::spawn(move || {
                for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                    if let Some(f) = &mut file {
                        let _ = writeln!(f, "{line}");
                    }
                    // The receiver may be gone; keep draining so the child
                    // never blocks on a full pipe.
                    let _ = tx.send(line);
                }
            });
        }
        Ok(Self {
            name: name.to_owned(),
            child,
            addr: SocketAddr::from(([127, 0, 0, 1], 0)),
            logs: rx,
        })
    }

    /// Starts the backend binary on `127.0.0.1:0` and learns its port from
    /// its `listening` log line.
    pub fn start_backend(
        name: &str,
        exe: &Path,
        args: &[&str],
        env: &[(&str, &str)],
        log: Option<&Path>,
    ) -> Result<Self, ProcError> {
        let mut all: Vec<(&str, &str)> =
            vec![("PORT", "0"), ("BIND", "127.0.0.1"), ("RUST_LOG", "info")];
        all.extend_from_slice(env);
        let mut p = Self::spawn(name, exe, args, &all, log)?;
        let line = p.wait_for_log("listening", Duration::from_secs(20))?;
        p.addr = line["addr"]
            .as_str()
            .and_then(|a| a.parse().ok())
            .ok_or_else(|| ProcError::Bad {
                name: name.to_owned(),
                message: format!("no address in {line}"),
            })?;
        Ok(p)
    }

    /// Waits for a JSON log line whose `message` is `message`.
    pub fn wait_for_log(
        &mut self,
        message: &str,
        timeout: Duration,
    ) -> Result<serde_json::Value, ProcError> {
        self.wait_for_line(timeout, &format!("log `{message}`"), |line| {
            serde_json::from_str::<serde_json::Value>(line)
                .ok()
                .filter(|v| v["message"] == message)
        })
    }

    /// Waits for a stdout line for which `pick` returns something.
    pub fn wait_for_line<T>(
        &mut self,
        timeout: Duration,
        what: &str,
        mut pick: impl FnMut(&str) -> Option<T>,
    ) -> Result<T, ProcError> {
        let deadline = Instant::now() + timeout;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.logs.recv_timeout(left.min(Duration::from_millis(200))) {
                Ok(line) => {
                    if let Some(v) = pick(&line) {
                        return Ok(v);
                    }
                }
                Err(_) => {
                    if let Ok(Some(status)) = self.child.try_wait() {
                        return Err(ProcError::Exited {
                            name: self.name.clone(),
                            status,
                        });
                    }
                    if left.is_zero() {
                        return Err(ProcError::Timeout {
                            name: self.name.clone(),
                            what: what.to_owned(),
                            timeout,
                        });
                    }
                }
            }
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{}", self.addr, path)
    }

    pub fn pid(&self) -> Pid {
        Pid::from_raw(i32::try_from(self.child.id()).unwrap_or(i32::MAX))
    }

    pub fn signal(&self, signal: Signal) -> nix::Result<()> {
        kill(self.pid(), signal)
    }

    /// Stops the process now (SIGKILL) and reaps it.
    pub fn kill(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = kill(self.pid(), Signal::SIGKILL);
            let _ = self.child.wait();
        }
    }

    /// SIGTERM, then SIGKILL if it has not exited within `grace`.
    pub fn stop(&mut self, grace: Duration) -> Option<ExitStatus> {
        if let Ok(Some(s)) = self.child.try_wait() {
            return Some(s);
        }
        let _ = self.signal(Signal::SIGTERM);
        let status = self.wait_exit(grace);
        if status.is_none() {
            self.kill();
        }
        status
    }

    /// Waits for the process to exit on its own, up to `timeout`.
    pub fn wait_exit(&mut self, timeout: Duration) -> Option<ExitStatus> {
        let deadline = Instant::now() + timeout;
        loop {
            if let Ok(Some(status)) = self.child.try_wait() {
                return Some(status);
            }
            if Instant::now() >= deadline {
                return None;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for Proc {
    fn drop(&mut self) {
        self.kill();
    }
}

/// A free TCP port on 127.0.0.1 (bound, then released).
pub fn free_port() -> std::io::Result<u16> {
    Ok(TcpListener::bind("127.0.0.1:0")?.local_addr()?.port())
}

/// Waits until something accepts TCP connections on `addr`.
pub fn wait_for_port(addr: SocketAddr, timeout: Duration) -> bool {
    let deadline = Instant::now() + timeout;
    while Instant::now() < deadline {
        if TcpStream::connect_timeout(&addr, Duration::from_millis(200)).is_ok() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    false
}

/// `moto_server`, an in-memory AWS API (SQS, CloudWatch, ECS, ...) on
/// loopback, and what the AWS SDK needs to reach it.
pub mod moto {
    use std::net::SocketAddr;
    use std::path::Path;
    use std::time::Duration;

    use super::{Proc, ProcError, wait_for_port};

    /// Starts `moto_server` on `127.0.0.1:port` (`MOTO_SERVER` names the
    /// executable, else `moto_server` from PATH), its output to `log`, and
    /// waits until it listens.
    pub fn start(port: u16, log: &Path) -> Result<Proc, ProcError> {
        let exe = std::env::var("MOTO_SERVER").unwrap_or_else(|_| "moto_server".to_owned());
        let p = Proc::spawn(
            "moto_server",
            Path::new(&exe),
            &["-H", "127.0.0.1", "-p", &port.to_string()],
            &[],
            Some(log),
        )
        .map_err(|e| ProcError::Bad {
            name: "moto_server".to_owned(),
            message: format!(
                "{e}; moto_server is needed: run scripts/setup (it installs moto[server]) or set MOTO_SERVER"
            ),
        })?;
        if !wait_for_port(
            SocketAddr::from(([127, 0, 0, 1], port)),
            Duration::from_secs(30),
        ) {
            return Err(ProcError::Timeout {
                name: "moto_server".to_owned(),
                what: format!("listen on {port}"),
                timeout: Duration::from_secs(30),
            });
        }
        Ok(p)
    }

    /// The environment that points the AWS SDK at a local endpoint, with dummy
    /// keys and no instance-metadata lookups.
    pub fn aws_env(endpoint: &str) -> Vec<(&'static str, String)> {
        vec![
            ("AWS_ENDPOINT_URL", endpoint.to_owned()),
            ("AWS_ACCESS_KEY_ID", "local".to_owned()),
            ("AWS_SECRET_ACCESS_KEY", "local".to_owned()),
            ("AWS_REGION", "us-east-1".to_owned()),
            ("AWS_EC2_METADATA_DISABLED", "true".to_owned()),
        ]
    }

    /// An SQS client for a local endpoint, with dummy credentials.
    #[cfg(feature = "sqs")]
    pub fn sqs_client(endpoint: &str) -> aws_sdk_sqs::Client {
        let creds = aws_sdk_sqs::config::Credentials::new("local", "local", None, None, "local");
        let conf = aws_sdk_sqs::Config::builder()
            .behavior_version(aws_sdk_sqs::config::BehaviorVersion::latest())
            .region(aws_sdk_sqs::config::Region::new("us-east-1"))
            .endpoint_url(endpoint)
            .credentials_provider(creds)
            .build();
        aws_sdk_sqs::Client::from_conf(conf)
    }
}
