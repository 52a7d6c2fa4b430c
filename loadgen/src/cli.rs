//! The command line. Durations are human (`30s`, `5m`, `1h`); every flag is
//! explained by `--help`.

use std::path::PathBuf;
use std::time::Duration;

use clap::{Args, Parser, Subcommand, ValueEnum};

use crate::schedule::{Arrivals, Stage};

/// Open-loop HTTP load that knows which target served every request.
///
/// Requests are sent on a fixed schedule (request i at start + i/rate),
/// whether or not earlier ones have answered, so a slow target cannot slow
/// the load down (no coordinated omission). Latency is measured from the
/// intended send time (corrected) and from the actual send (raw). Each
/// response's `x-served-by` and `x-backend-host` headers say which target and
/// instance served it. The result is a JSON report (docs/report.md) that
/// `verify` judges.
///
/// Examples:
///   loadgen --url http://localhost:8080/dev/host --rps 200 --duration 5m
///   loadgen --url http://localhost:8080/dev --path /host:8,/work/20:2 --stages 30s:50,2m:200,30s:0
///   loadgen --url http://localhost:8080/dev/host --rps max --connections 64 --duration 30s
#[derive(Debug, Parser)]
#[command(
    name = "loadgen",
    version,
    about,
    long_about,
    args_conflicts_with_subcommands = true
)]
pub struct Cli {
    #[command(flatten)]
    pub run: RunArgs,

    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Merge reports of several loadgen workers into one (counts add,
    /// histograms merge, timelines align on wall-clock time).
    Merge(MergeArgs),
}

#[derive(Debug, Args)]
pub struct MergeArgs {
    /// Reports to merge.
    #[arg(required = true, value_name = "REPORT")]
    pub reports: Vec<PathBuf>,
    /// Where to write the merged report.
    #[arg(long, short)]
    pub out: PathBuf,
}

/// The request rate: a number of requests per second, or `max`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Rate {
    PerSecond(f64),
    /// Closed loop: as fast as the target answers, on `--connections`.
    Max,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Progress {
    /// A live bar on a terminal, plain lines otherwise.
    Auto,
    Bar,
    Plain,
    None,
}

#[derive(Debug, Args)]
pub struct RunArgs {
    /// Target URL. With --path, the base the paths are appended to.
    #[arg(long, required = true, value_name = "URL")]
    pub url: Option<url::Url>,

    /// Request mix: paths with weights, appended to --url, e.g.
    /// `/host:8,/work/20:2` (weight 1 when omitted). Repeatable.
    #[arg(long = "path", value_name = "PATH[:WEIGHT],...", value_parser = parse_paths, action = clap::ArgAction::Append)]
    pub paths: Vec<Vec<(String, u32)>>,

    /// Requests per second (fixed rate, open loop), or `max` for a closed
    /// loop as fast as the target answers (with --connections).
    #[arg(long, value_name = "N|max", value_parser = parse_rate, conflicts_with = "stages")]
    pub rps: Option<Rate>,

    /// How long to run at --rps: more than 0, at most 24h.
    #[arg(long, value_name = "DURATION", value_parser = parse_run_duration, conflicts_with = "stages")]
    pub duration: Option<Duration>,

    /// Ramp the rate: `DURATION:RPS,...`, each stage going linearly from the
    /// previous rate to its own, e.g. `30s:50,2m:200,1m:200,30s:0`. The
    /// stages add up to at most 24h.
    #[arg(long, value_name = "DURATION:RPS,...", value_parser = parse_stages)]
    pub stages: Option<Stages>,

    /// Rate at the start of the first stage.
    #[arg(long, default_value_t = 0.0, value_name = "RPS", requires = "stages")]
    pub start_rps: f64,

    /// Arrival process: evenly spaced, or Poisson with the same rate.
    #[arg(long, value_enum, default_value_t = Arrivals::Uniform)]
    pub arrivals: Arrivals,

    /// Seed for Poisson arrivals and the path mix (same seed, same run).
    #[arg(long, default_value_t = 1)]
    pub seed: u64,

    /// Most requests in flight at once. A request that cannot start on time
    /// because of the cap is counted as dropped (never delayed, never lost).
    #[arg(long, default_value_t = 10_000, value_name = "N")]
    pub max_in_flight: usize,

    /// Connections (concurrent requests) for `--rps max`.
    #[arg(long, default_value_t = 50, value_name = "N")]
    pub connections: usize,

    /// Virtual clients, each with its own connections and cookie jar, so
    /// stickiness cookies behave as for real users; requests are spread
    /// over them at random. Without it no cookies are kept.
    #[arg(long, value_name = "N")]
    pub clients: Option<u32>,

    /// Timeout of each request, from send to the end of the body.
    #[arg(long, default_value = "10s", value_parser = humantime::parse_duration, value_name = "DURATION")]
    pub timeout: Duration,

    /// HTTP method.
    #[arg(long, short = 'X', default_value = "GET")]
    pub method: http::Method,

    /// Extra request header `Name: value`. Repeatable.
    #[arg(long = "header", short = 'H', value_name = "NAME: VALUE", value_parser = parse_header)]
    pub headers: Vec<(http::HeaderName, http::HeaderValue)>,

    /// Request body, read from a file.
    #[arg(long, value_name = "FILE")]
    pub body_file: Option<PathBuf>,

    /// Response header naming the target that served the request.
    #[arg(long, default_value = "x-served-by", value_name = "NAME")]
    pub target_header: http::HeaderName,

    /// Response header naming the instance that served the request. At most
    /// 1000 distinct instances are kept (then `overflow:<target>`); values
    /// and target labels over 256 bytes are shortened with a hash.
    #[arg(long, default_value = "x-backend-host", value_name = "NAME")]
    pub instance_header: http::HeaderName,

    /// For targets that do not send the header: a JSON pointer into the
    /// response body giving the target, e.g. `/backend`. Only the first
    /// 64 KiB of a body are kept for this; a longer body is read to its end
    /// but names no target (`unknown`).
    #[arg(long, value_name = "POINTER")]
    pub target_json_field: Option<String>,

    /// Report file. Default: reports/loadgen-<UTC timestamp>.json. Checked
    /// before any load: a symlink, directory, device or read-only file is
    /// refused (exit 73). If writing fails at the end, the report goes to
    /// $TMPDIR/loadgen-<run id>.json instead (printed; exit 74).
    #[arg(long, short, value_name = "FILE")]
    pub out: Option<PathBuf>,

    /// Progress display on stderr.
    #[arg(long, value_enum, default_value_t = Progress::Auto)]
    pub progress: Progress,

    /// No progress and no summary (for CI); the report is still written.
    #[arg(long, short)]
    pub quiet: bool,
}

/// The longest run loadgen accepts (`--duration`, or all `--stages`
/// together): 24 hours. Longer runs are better split; and a duration beyond
/// what the schedule's float seconds can hold would otherwise panic.
pub const MAX_RUN: Duration = Duration::from_secs(24 * 60 * 60);

/// A `--duration`: more than 0 (both loops), at most [`MAX_RUN`].
pub fn parse_run_duration(s: &str) -> Result<Duration, String> {
    let d = humantime::parse_duration(s).map_err(|e| format!("`{s}`: {e}"))?;
    if d.is_zero() {
        return Err("the duration must be longer than 0".to_owned());
    }
    if d > MAX_RUN {
        return Err(format!(
            "`{s}` is longer than the maximum run of {}",
            humantime::format_duration(MAX_RUN)
        ));
    }
    Ok(d)
}

fn parse_rate(s: &str) -> Result<Rate, String> {
    if s.eq_ignore_ascii_case("max") {
        return Ok(Rate::Max);
    }
    let v: f64 = s
        .parse()
        .map_err(|_| format!("`{s}` is not a number or `max`"))?;
    if v.is_finite() && v > 0.0 {
        Ok(Rate::PerSecond(v))
    } else {
        Err(format!("the rate must be positive, got {s}"))
    }
}

/// The stages of `--stages`, in order.
#[derive(Debug, Clone, PartialEq)]
pub struct Stages(pub Vec<Stage>);

pub fn parse_stages(s: &str) -> Result<Stages, String> {
    let stages = s
        .split(',')
        .map(|part| {
            let (d, r) = part
                .trim()
                .rsplit_once(':')
                .ok_or_else(|| format!("stage `{part}` is not DURATION:RPS"))?;
            let duration =
                humantime::parse_duration(d.trim()).map_err(|e| format!("stage `{part}`: {e}"))?;
            let rps: f64 = r
                .trim()
                .parse()
                .map_err(|_| format!("stage `{part}`: `{r}` is not a rate"))?;
            if !rps.is_finite() || rps < 0.0 {
                return Err(format!("stage `{part}`: the rate must be 0 or more"));
            }
            if duration > MAX_RUN {
                return Err(format!(
                    "stage `{part}` is longer than the maximum run of {}",
                    humantime::format_duration(MAX_RUN)
                ));
            }
            Ok(Stage { duration, rps })
        })
        .collect::<Result<Vec<_>, _>>()?;
    // Each stage is at most MAX_RUN, so the sum cannot overflow before the
    // check (a u64 of seconds holds far more than usize::MAX days).
    let total = stages
        .iter()
        .try_fold(Duration::ZERO, |acc, s| acc.checked_add(s.duration));
    match total {
        Some(t) if t <= MAX_RUN => Ok(Stages(stages)),
        _ => Err(format!(
            "the stages add up to more than the maximum run of {}",
            humantime::format_duration(MAX_RUN)
        )),
    }
}

pub fn parse_paths(s: &str) -> Result<Vec<(String, u32)>, String> {
    s.split(',')
        .map(|part| {
            let part = part.trim();
            // The weight is after the last ':' only when it parses as a number,
            // so paths with colons still work.
            let (path, weight) = match part.rsplit_once(':') {
                Some((p, w)) if w.parse::<u32>().is_ok() => (p, w.parse::<u32>().unwrap_or(1)),
                _ => (part, 1),
            };
            if !path.starts_with('/') {
                return Err(format!("path `{path}` must start with `/`"));
            }
            if weight == 0 {
                return Err(format!("path `{path}` has weight 0"));
            }
            Ok((path.to_owned(), weight))
        })
        .collect()
}

fn parse_header(s: &str) -> Result<(http::HeaderName, http::HeaderValue), String> {
    let (name, value) = s
        .split_once(':')
        .ok_or_else(|| format!("header `{s}` is not `Name: value`"))?;
    let name = http::HeaderName::from_bytes(name.trim().as_bytes())
        .map_err(|e| format!("header name `{name}`: {e}"))?;
    let value =
        http::HeaderValue::from_str(value.trim()).map_err(|e| format!("header value: {e}"))?;
    Ok((name, value))
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn command_line_is_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn stages_parse() {
        let s = parse_stages("30s:50, 2m:200,1m:200,30s:0")
            .expect("stages")
            .0;
        assert_eq!(s.len(), 4);
        assert_eq!(
            s[1],
            Stage {
                duration: Duration::from_secs(120),
                rps: 200.0
            }
        );
        assert!(parse_stages("30s").is_err());
        assert!(parse_stages("30s:-1").is_err());
        assert!(parse_stages("soon:5").is_err());
    }

    #[test]
    fn paths_parse_with_default_weights() {
        let p = parse_paths("/host:8,/work/20:2,/ice-cream-flavor").expect("paths");
        assert_eq!(
            p,
            vec![
                ("/host".into(), 8),
                ("/work/20".into(), 2),
                ("/ice-cream-flavor".into(), 1)
            ]
        );
        assert!(parse_paths("host").is_err());
        assert!(parse_paths("/host:0").is_err());
    }

    #[test]
    fn rate_parses() {
        assert_eq!(parse_rate("max"), Ok(Rate::Max));
        assert_eq!(parse_rate("200"), Ok(Rate::PerSecond(200.0)));
        assert!(parse_rate("0").is_err());
        assert!(parse_rate("fast").is_err());
    }
}
