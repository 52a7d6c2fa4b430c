//! Runtime configuration of the workload, from environment variables or the
//! equivalent flags. The same struct configures the ECS binary and the Lambda.

use std::time::Duration;

use clap::{Args, ValueEnum};

/// How the denial-of-service-capable routes (`/stress-cpu`, `/work`) are exposed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum, Default)]
pub enum StressMode {
    /// The default: `token` when `STRESS_TOKEN` is set, else `on` (with a
    /// loud warning at start-up).
    #[default]
    Auto,
    /// Anyone may call them.
    On,
    /// They answer 404, as if they did not exist.
    Off,
    /// They require `Authorization: Bearer <STRESS_TOKEN>` (403 otherwise).
    Token,
}

// Defaults named once, for the flags and for `Config::defaults`.
const DEFAULT_IMAGE_URI: &str = "local";
const DEFAULT_MAX_STRESS_SECONDS: u64 = 900;
const DEFAULT_MAX_WORK_MS: u64 = 10_000;
const DEFAULT_MAX_DELAY_MS: u64 = 30_000;
const DEFAULT_MAX_WORK_CONCURRENCY: usize = 16;

/// The largest accepted values of the caps: anything above is refused at
/// start-up (a cap of `u64::MAX` seconds overflows `Instant`, and a run that
/// long could never be drained).
pub const LIMIT_STRESS_SECONDS: u64 = 86_400;
pub const LIMIT_WORK_MS: u64 = 600_000;
pub const LIMIT_DELAY_MS: u64 = 600_000;
pub const LIMIT_WORK_CONCURRENCY: usize = 1024;
pub const LIMIT_TIMEOUT: Duration = Duration::from_secs(3600);
pub const LIMIT_CONNECTIONS: usize = 1_000_000;

/// Settings shared by every target that serves the router.
#[derive(Debug, Clone, Args)]
pub struct Config {
    /// Prefix for every route but `/health`: `dev` serves `/dev/host`; empty serves `/host`.
    #[arg(long, env = "BASE_PATH", default_value = "")]
    pub base_path: String,

    /// Target label sent in `x-served-by` and in bodies (default: `ecs` for the
    /// container binary, `lambda` for the Lambda).
    #[arg(long, env = "BACKEND_LABEL")]
    pub label: Option<String>,

    /// Version reported in `x-backend-version` (defaults to the crate version,
    /// plus `GIT_COMMIT` when that variable is set at run time).
    #[arg(long = "backend-version", env = "BACKEND_VERSION")]
    pub backend_version: Option<String>,

    /// Instance id reported in `x-backend-host`. Default: the ECS task id, the
    /// Lambda log stream, or `<hostname>-<pid>` locally.
    #[arg(long, env = "INSTANCE_ID")]
    pub instance_id: Option<String>,

    /// Image the container runs, reported by `/host` as `imageUri`.
    #[arg(long, env = "IMAGE_URI", default_value = DEFAULT_IMAGE_URI)]
    pub image_uri: String,

    /// SQS queue URL for `POST /send-to-sqs` and for `consume`. Without it
    /// `/send-to-sqs` answers 503.
    #[arg(long, env = "QUEUE_URL")]
    pub queue_url: Option<String>,

    /// Whether `/stress-cpu` and `/work` are on, off, or need a bearer token
    /// (`auto`: `token` when STRESS_TOKEN is set, else `on` with a warning).
    #[arg(long, env = "STRESS_MODE", value_enum, default_value_t = StressMode::Auto)]
    pub stress_mode: StressMode,

    /// Bearer token required when `STRESS_MODE=token`.
    #[arg(long, env = "STRESS_TOKEN", hide_env_values = true)]
    pub stress_token: Option<String>,

    /// Longest `/stress-cpu` run accepted, in seconds (at most 86400).
    #[arg(long, env = "MAX_STRESS_SECONDS", default_value_t = DEFAULT_MAX_STRESS_SECONDS)]
    pub max_stress_seconds: u64,

    /// Longest `/work/{ms}` accepted, in milliseconds of CPU (at most 600000).
    #[arg(long, env = "MAX_WORK_MS", default_value_t = DEFAULT_MAX_WORK_MS)]
    pub max_work_ms: u64,

    /// Longest `/delay/{ms}` accepted, in milliseconds (at most 600000).
    #[arg(long, env = "MAX_DELAY_MS", default_value_t = DEFAULT_MAX_DELAY_MS)]
    pub max_delay_ms: u64,

    /// `/work` requests burning CPU at once; more get a JSON 503 (1–1024).
    #[arg(long, env = "MAX_WORK_CONCURRENCY", default_value_t = DEFAULT_MAX_WORK_CONCURRENCY)]
    pub max_work_concurrency: usize,

    /// Longest time a request body may take to arrive in full (a JSON 408 after).
    #[arg(long, env = "BODY_TIMEOUT", default_value = "30s", value_parser = humantime::parse_duration)]
    pub body_timeout: Duration,

    /// Share of responses (0.0–1.0) under the base path replaced by a 500, for
    /// canary checks. `/health` is never affected.
    #[arg(long, env = "FAULT_RATE", default_value_t = 0.0, value_parser = parse_rate)]
    pub fault_rate: f64,
}

impl Config {
    /// A configuration with every default, as the binary would have with an
    /// empty environment; tests and the Lambda start from it.
    pub fn defaults() -> Self {
        Self {
            base_path: String::new(),
            label: None,
            backend_version: None,
            instance_id: None,
            image_uri: DEFAULT_IMAGE_URI.to_owned(),
            queue_url: None,
            stress_mode: StressMode::Auto,
            stress_token: None,
            max_stress_seconds: DEFAULT_MAX_STRESS_SECONDS,
            max_work_ms: DEFAULT_MAX_WORK_MS,
            max_delay_ms: DEFAULT_MAX_DELAY_MS,
            max_work_concurrency: DEFAULT_MAX_WORK_CONCURRENCY,
            body_timeout: Duration::from_secs(30),
            fault_rate: 0.0,
        }
    }

    /// The queue URL, when one is set (an empty `QUEUE_URL` means none).
    pub fn queue_url(&self) -> Option<&str> {
        self.queue_url.as_deref().filter(|u| !u.is_empty())
    }

    /// The base path as a route prefix: `""` or `"/dev"` (never a trailing or
    /// doubled slash, so an empty base path gives `/host`, not `//host`).
    pub fn route_prefix(&self) -> String {
        let trimmed = self.base_path.trim_matches('/');
        if trimmed.is_empty() {
            String::new()
        } else {
            format!("/{trimmed}")
        }
    }

    /// Rejects settings that cannot work, before anything starts.
    pub fn validate(&self) -> Result<(), ConfigError> {
        if self.stress_mode == StressMode::Token
            && self.stress_token.as_deref().unwrap_or_default().is_empty()
        {
            return Err(ConfigError::MissingStressToken);
        }
        bounded(
            "MAX_STRESS_SECONDS",
            self.max_stress_seconds,
            1,
            LIMIT_STRESS_SECONDS,
        )?;
        bounded("MAX_WORK_MS", self.max_work_ms, 0, LIMIT_WORK_MS)?;
        bounded("MAX_DELAY_MS", self.max_delay_ms, 0, LIMIT_DELAY_MS)?;
        bounded(
            "MAX_WORK_CONCURRENCY",
            self.max_work_concurrency,
            1,
            LIMIT_WORK_CONCURRENCY,
        )?;
        bounded_duration("BODY_TIMEOUT", self.body_timeout)?;
        Ok(())
    }

    /// The stress mode in force: `auto` resolved against `STRESS_TOKEN`.
    pub fn effective_stress_mode(&self) -> StressMode {
        match self.stress_mode {
            StressMode::Auto if self.stress_token.as_deref().is_some_and(|t| !t.is_empty()) => {
                StressMode::Token
            }
            StressMode::Auto => StressMode::On,
            mode => mode,
        }
    }

    /// The version string: explicit, or the crate version with the commit.
    pub fn version_string(&self) -> String {
        if let Some(v) = &self.backend_version {
            return v.clone();
        }
        match std::env::var("GIT_COMMIT") {
            Ok(c) if !c.is_empty() => format!("{}+{}", env!("CARGO_PKG_VERSION"), c),
            _ => env!("CARGO_PKG_VERSION").to_owned(),
        }
    }
}

fn bounded<T: PartialOrd + std::fmt::Display + Copy>(
    name: &str,
    value: T,
    min: T,
    max: T,
) -> Result<(), ConfigError> {
    if value < min || value > max {
        return Err(ConfigError::Invalid(format!(
            "{name}={value} is out of range: it must be between {min} and {max}"
        )));
    }
    Ok(())
}

fn bounded_duration(name: &str, value: Duration) -> Result<(), ConfigError> {
    if value.is_zero() || value > LIMIT_TIMEOUT {
        return Err(ConfigError::Invalid(format!(
            "{name}={} is out of range: it must be more than 0 and at most {}",
            humantime::format_duration(value),
            humantime::format_duration(LIMIT_TIMEOUT)
        )));
    }
    Ok(())
}

/// A configuration that cannot work.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("STRESS_MODE=token needs a non-empty STRESS_TOKEN")]
    MissingStressToken,
    #[error("{0}")]
    Invalid(String),
}

/// Settings of the HTTP server process (the ECS container).
#[derive(Debug, Clone, Args)]
pub struct ServeConfig {
    /// TCP port to listen on (0 picks a free one; the chosen address is logged).
    #[arg(long, env = "PORT", default_value_t = 3000)]
    pub port: u16,

    /// Address to bind.
    #[arg(long, env = "BIND", default_value = "0.0.0.0")]
    pub bind: std::net::IpAddr,

    /// After SIGTERM: how long readiness reports 503 while requests are still
    /// served, so the load balancer stops routing here before the process exits.
    #[arg(long, env = "DRAIN_SECONDS", default_value = "10s", value_parser = humantime::parse_duration)]
    pub drain: Duration,

    /// After the drain: how long in-flight requests may still finish before
    /// every connection is cut and the process exits.
    #[arg(long, env = "SHUTDOWN_GRACE", default_value = "10s", value_parser = humantime::parse_duration)]
    pub shutdown_grace: Duration,

    /// Longest time a client may take to send a request's headers (from its
    /// first byte); the connection is closed after.
    #[arg(long, env = "HEADER_TIMEOUT", default_value = "10s", value_parser = humantime::parse_duration)]
    pub header_timeout: Duration,

    /// How long a keep-alive connection may sit idle between requests
    /// (keep it above the load balancer's idle timeout, 60 s on an ALB).
    #[arg(long, env = "IDLE_TIMEOUT", default_value = "75s", value_parser = humantime::parse_duration)]
    pub idle_timeout: Duration,

    /// Connections served at once; more wait in the listen backlog.
    #[arg(long, env = "MAX_CONNECTIONS", default_value_t = 4096)]
    pub max_connections: usize,
}

impl ServeConfig {
    /// Rejects server settings out of range, before anything starts.
    pub fn validate(&self) -> Result<(), ConfigError> {
        if self.drain > LIMIT_TIMEOUT {
            return Err(ConfigError::Invalid(format!(
                "DRAIN_SECONDS={} is out of range: it must be at most {}",
                humantime::format_duration(self.drain),
                humantime::format_duration(LIMIT_TIMEOUT)
            )));
        }
        if self.shutdown_grace > LIMIT_TIMEOUT {
            return Err(ConfigError::Invalid(format!(
                "SHUTDOWN_GRACE={} is out of range: it must be at most {}",
                humantime::format_duration(self.shutdown_grace),
                humantime::format_duration(LIMIT_TIMEOUT)
            )));
        }
        bounded_duration("HEADER_TIMEOUT", self.header_timeout)?;
        bounded_duration("IDLE_TIMEOUT", self.idle_timeout)?;
        bounded(
            "MAX_CONNECTIONS",
            self.max_connections,
            1,
            LIMIT_CONNECTIONS,
        )?;
        Ok(())
    }
}

/// Settings of the SQS worker (`backend consume`).
#[derive(Debug, Clone, Args)]
pub struct ConsumeConfig {
    /// CPU milliseconds burnt per message (the simulated work).
    #[arg(long, env = "WORK_MS_PER_MESSAGE", default_value_t = 100)]
    pub work_ms: u64,

    /// Long-poll wait per receive call, in seconds (SQS allows 0–20).
    #[arg(long, env = "WAIT_TIME_SECONDS", default_value_t = 20, value_parser = clap::value_parser!(i32).range(0..=20))]
    pub wait_seconds: i32,

    /// Messages per receive call (SQS allows 1–10).
    #[arg(long, env = "BATCH_SIZE", default_value_t = 10, value_parser = clap::value_parser!(i32).range(1..=10))]
    pub batch_size: i32,

    /// Stop after this many messages were processed (0: run until SIGTERM).
    #[arg(long, env = "MAX_MESSAGES", default_value_t = 0)]
    pub max_messages: u64,
}

fn parse_rate(s: &str) -> Result<f64, String> {
    let v: f64 = s.parse().map_err(|_| format!("`{s}` is not a number"))?;
    if (0.0..=1.0).contains(&v) {
        Ok(v)
    } else {
        Err(format!("{v} is outside 0.0..=1.0"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn route_prefix_never_doubles_slashes() {
        let mut c = Config::defaults();
        for (base, want) in [
            ("", ""),
            ("/", ""),
            ("dev", "/dev"),
            ("/dev/", "/dev"),
            ("a/b", "/a/b"),
        ] {
            c.base_path = base.to_owned();
            assert_eq!(c.route_prefix(), want, "base {base:?}");
        }
    }

    #[test]
    fn fault_rate_is_bounded() {
        assert!(parse_rate("0.25").is_ok());
        assert!(parse_rate("1.5").is_err());
        assert!(parse_rate("x").is_err());
    }
}
