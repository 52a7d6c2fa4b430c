//! Real processes for integration tests: the backend binary and a local SQS
//! (`moto_server`). Each starts on a free loopback port and is stopped by its
//! PID when dropped, so no test leaves anything running.
#![allow(dead_code, unreachable_pub)]

use std::io::{BufRead, BufReader};
use std::net::{SocketAddr, TcpListener};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;

/// A running `backend` process.
pub struct Backend {
    pub child: Child,
    pub addr: SocketAddr,
    /// Every log line the process printed, as it prints them.
    pub logs: mpsc::Receiver<String>,
}

impl Backend {
    /// Starts the binary with `PORT=0` and the given environment, and waits
    /// for its `listening` log line to learn the port.
    pub fn start(args: &[&str], env: &[(&str, &str)]) -> Self {
        let mut b = Self::spawn(args, env);
        let line = b.wait_for_log("listening", Duration::from_secs(20));
        b.addr = line["addr"]
            .as_str()
            .expect("addr")
            .parse()
            .expect("socket address");
        b
    }

    /// Starts the binary without waiting for anything.
    pub fn spawn(args: &[&str], env: &[(&str, &str)]) -> Self {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_backend"));
        cmd.args(args)
            .env_clear()
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .env("PORT", "0")
            .env("BIND", "127.0.0.1")
            .env("RUST_LOG", "info")
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit());
        for (k, v) in env {
            cmd.env(k, v);
        }
        let mut child = cmd.spawn().expect("start backend binary");
        let stdout = child.stdout.take().expect("stdout");
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        Self {
            child,
            addr: SocketAddr::from(([127, 0, 0, 1], 0)),
            logs: rx,
        }
    }

    /// Waits for a JSON log line whose `message` is `message`; panics after `timeout`.
    pub fn wait_for_log(&mut self, message: &str, timeout: Duration) -> serde_json::Value {
        let deadline = Instant::now() + timeout;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            let Ok(line) = self.logs.recv_timeout(left) else {
                let _ = self.child.kill();
                panic!("backend did not log `{message}` within {timeout:?}");
            };
            if let Ok(v) = serde_json::from_str::<serde_json::Value>(&line)
                && v["message"] == message
            {
                return v;
            }
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{}", self.addr, path)
    }

    pub fn pid(&self) -> Pid {
        Pid::from_raw(i32::try_from(self.child.id()).expect("pid fits"))
    }

    pub fn signal(&self, signal: Signal) {
        kill(self.pid(), signal).expect("send signal");
    }

    /// Waits for the process to exit on its own, up to `timeout`.
    pub fn wait_exit(&mut self, timeout: Duration) -> Option<ExitStatus> {
        let deadline = Instant::now() + timeout;
        while Instant::now() < deadline {
            if let Ok(Some(status)) = self.child.try_wait() {
                return Some(status);
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        None
    }

    /// Total CPU time (user + system) the process has used so far, from
    /// `/proc/<pid>/stat` (clock ticks at 100 Hz on Linux).
    pub fn cpu_time(&self) -> Duration {
        proc_cpu_time(self.child.id())
    }
}

pub fn proc_cpu_time(pid: u32) -> Duration {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).expect("read /proc stat");
    // Fields after the command name (which may contain spaces) start at `)`.
    let rest = &stat[stat.rfind(')').expect("comm") + 2..];
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let utime: u64 = fields[11].parse().expect("utime");
    let stime: u64 = fields[12].parse().expect("stime");
    Duration::from_millis((utime + stime) * 10)
}

impl Drop for Backend {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = kill(self.pid(), Signal::SIGKILL);
            let _ = self.child.wait();
        }
    }
}

/// A free TCP port on 127.0.0.1 (bound and released; fine for tests).
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .expect("bind")
        .local_addr()
        .expect("addr")
        .port()
}

/// A running `moto_server` (the SQS API, in memory).
pub struct Moto {
    pub child: Child,
    pub port: u16,
}

impl Moto {
    /// `MOTO_SERVER` names the executable; otherwise `moto_server` from PATH
    /// (`.ci/run` installs it into a venv and puts that on PATH).
    pub fn start() -> Self {
        Self::start_on(free_port())
    }

    pub fn start_on(port: u16) -> Self {
        let exe = std::env::var("MOTO_SERVER").unwrap_or_else(|_| "moto_server".to_owned());
        let child = Command::new(&exe)
            .args(["-H", "127.0.0.1", "-p", &port.to_string()])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| {
                panic!("cannot start `{exe}` ({e}): install it with `pip install 'moto[server]'` or run .ci/run, or set MOTO_SERVER")
            });
        let moto = Self { child, port };
        let deadline = Instant::now() + Duration::from_secs(30);
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(
                Instant::now() < deadline,
                "moto_server did not listen on {port} within 30 s"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
        moto
    }

    pub fn endpoint(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    pub fn stop(&mut self) {
        let _ = kill(
            Pid::from_raw(i32::try_from(self.child.id()).expect("pid")),
            Signal::SIGKILL,
        );
        let _ = self.child.wait();
    }
}

impl Drop for Moto {
    fn drop(&mut self) {
        self.stop();
    }
}

/// Environment that points the AWS SDK at a local endpoint with dummy keys.
pub fn aws_env(endpoint: &str) -> Vec<(&'static str, String)> {
    vec![
        ("AWS_ENDPOINT_URL", endpoint.to_owned()),
        ("AWS_ACCESS_KEY_ID", "testing".to_owned()),
        ("AWS_SECRET_ACCESS_KEY", "testing".to_owned()),
        ("AWS_REGION", "us-east-1".to_owned()),
        ("AWS_EC2_METADATA_DISABLED", "true".to_owned()),
    ]
}
