//! The `topology` command line.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::Context;
use clap::{Args, Parser, Subcommand};
use weighbridge_policy::Policy;

use crate::haproxy::{Group, RouterSpec, Server, weights_map};
use crate::local::{Local, Options};

/// weighbridge's local topology: the ALB-faithful router generated from the
/// traffic policy, and the targets as processes on 127.0.0.1 (what
/// docker-compose.yml describes, without Docker).
#[derive(Debug, Parser)]
#[command(name = "topology", version, about, long_about)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Write the router's haproxy.cfg and weights.map for given servers.
    Render(RenderArgs),
    /// Start the topology and keep it up until Ctrl-C.
    Up(UpArgs),
    /// The main job: start the topology, run a short load, print the
    /// verdict of `verify split`, stop everything. Exit code: verify's.
    Demo(DemoArgs),
    /// A progressive rollout, locally: start the topology of a policy with
    /// a `rollout` schedule, walk its steps with `rollout` (each judged on
    /// the traffic), stop everything. Exit code: rollout's.
    RolloutDemo(RolloutDemoArgs),
}

#[derive(Debug, Args)]
pub struct RolloutDemoArgs {
    #[command(flatten)]
    pub topology: TopologyArgs,
    /// Start the candidate with FAULT_RATE=0.05 (5 % of its responses are
    /// 500s): the canary gate sees it and the rollout rolls back.
    #[arg(long)]
    pub bad_candidate: bool,
    /// The candidate [default: with two targets, the one the first step
    /// weighs least].
    #[arg(long, value_name = "LABEL")]
    pub candidate: Option<String>,
    /// Load rate.
    #[arg(long, default_value_t = 300)]
    pub rps: u32,
    /// The split's tolerance, in percentage points.
    #[arg(long, default_value_t = 5.0)]
    pub tolerance: f64,
    /// Where the rollout report goes.
    #[arg(long, default_value = "reports/rollout.json")]
    pub out: PathBuf,
    /// Where the load report of the whole run goes.
    #[arg(long, default_value = "reports/rollout-load.json")]
    pub load_out: PathBuf,
    /// Where the rollout's HTML page goes.
    #[arg(long, default_value = "reports/rollout.html")]
    pub html: PathBuf,
}

#[derive(Debug, Args)]
pub struct RenderArgs {
    /// Traffic policy file.
    #[arg(long, default_value = "config/policy.json")]
    pub policy: PathBuf,
    /// Servers of a target group: `LABEL=HOST:PORT[,HOST:PORT...]`. Repeatable.
    #[arg(long = "servers", value_name = "LABEL=ADDR,...", required = true)]
    pub servers: Vec<String>,
    /// Path prefix the router prepends for a group: `LABEL=/prefix`.
    #[arg(long = "prefix", value_name = "LABEL=PREFIX")]
    pub prefixes: Vec<String>,
    /// At most N requests at once on each server of a group, the rest
    /// queued in the router: `LABEL=N`. For a Lambda runtime emulator, the
    /// number of function processes polling it (it wedges when it holds
    /// more invocations than they take).
    #[arg(long = "maxconn", value_name = "LABEL=N")]
    pub maxconn: Vec<String>,
    /// Address the router listens on.
    #[arg(long, default_value = "0.0.0.0:8080")]
    pub bind: SocketAddr,
    /// Where the weights map is at run time (for `set map`).
    #[arg(long, default_value = "/usr/local/etc/haproxy/weights.map")]
    pub weights_map: PathBuf,
    /// Where HAProxy creates its runtime API socket.
    #[arg(long, default_value = "/var/run/haproxy/admin.sock")]
    pub socket: PathBuf,
    /// Let `--socket` be a TCP address (`ipv4@IP:PORT`). The runtime API
    /// has admin level (it changes weights and servers): without this flag
    /// only a Unix socket path is accepted.
    #[arg(long)]
    pub allow_tcp_runtime_api: bool,
    /// DNS server for re-resolving server names: IP:PORT (Docker:
    /// 127.0.0.11:53), or `resolv.conf` for the nameservers of the router's
    /// /etc/resolv.conf (any container engine).
    #[arg(long)]
    pub resolver: Option<String>,
    /// Where to write haproxy.cfg and weights.map.
    #[arg(long)]
    pub out_dir: PathBuf,
}

/// The most instances `--instances` starts for one label (processes on a
/// 2-core machine).
pub const MAX_INSTANCES: usize = 64;

#[derive(Debug, Args)]
pub struct TopologyArgs {
    /// Traffic policy file: the weights, path rules and stickiness.
    #[arg(long, default_value = "config/policy.json")]
    pub policy: PathBuf,
    /// Router port on 127.0.0.1 (0: a free one).
    #[arg(long, default_value_t = 8080)]
    pub port: u16,
    /// Instances per label, 1 to 64, e.g. `ecs=3`: backend processes, or for
    /// `lambda` execution environments polling one emulator (default: ecs
    /// and lambda 2, others 1).
    #[arg(long, value_name = "LABEL=N,...", value_delimiter = ',')]
    pub instances: Vec<String>,
    /// Start the router with these weights instead of the policy's (the
    /// policy, and so the verdict's expectation, stays as it is).
    #[arg(long, value_name = "LABEL=W,...", value_delimiter = ',')]
    pub router_weights: Vec<String>,
    /// Also run SQS (moto_server) and give the targets a queue.
    #[arg(long)]
    pub sqs: bool,
    /// Directory with the backend, lambda, loadgen and verify binaries
    /// (default: next to this one).
    #[arg(long)]
    pub bin_dir: Option<PathBuf>,
    /// Extra environment for the instances of one label, after the
    /// topology's own: `LABEL:KEY=VALUE`, repeatable. E.g. a bad candidate:
    /// `--env canary:FAULT_RATE=0.05`.
    #[arg(long = "env", value_name = "LABEL:KEY=VALUE")]
    pub env: Vec<String>,
    /// Test hook: the router reports weight changes (runtime API) but keeps
    /// drawing with its first weights, as a misbehaving load balancer would.
    #[arg(long, hide = true)]
    pub frozen_weights: bool,
}

#[derive(Debug, Args)]
pub struct UpArgs {
    #[command(flatten)]
    pub topology: TopologyArgs,
    /// Also write where everything is as JSON (router URL, runtime API
    /// socket, weights map, configuration directory) to this file, for
    /// scripts (`rollout --haproxy` takes the socket).
    #[arg(long, value_name = "FILE")]
    pub state: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct DemoArgs {
    #[command(flatten)]
    pub topology: TopologyArgs,
    /// Load rate.
    #[arg(long, default_value_t = 300)]
    pub rps: u32,
    /// Longest the load runs: `check` stops it as soon as the split is
    /// decided (a correct 10/90 split at ±3 pp, usually within 10 to 20 s),
    /// and answers INCONCLUSIVE if nothing is decided by then.
    #[arg(long, visible_alias = "duration", default_value = "60s", value_parser = humantime::parse_duration)]
    pub max_duration: Duration,
    /// The practical tolerance, in percentage points: a target's share may
    /// be this far off its weight (and at most half of it) and still PASS.
    /// Narrower tolerances need more requests, so longer runs.
    #[arg(long, default_value_t = 3.0)]
    pub tolerance: f64,
    /// Where to write the loadgen report.
    #[arg(long, default_value = "reports/demo.json")]
    pub out: PathBuf,
    /// Where verify writes the verdict as an HTML page with charts (open it
    /// in a browser; it needs no network).
    #[arg(long, default_value = "reports/demo.html")]
    pub html: PathBuf,
}

fn pairs(items: &[String], what: &str) -> anyhow::Result<Vec<(String, String)>> {
    items
        .iter()
        .map(|s| {
            s.split_once('=')
                .map(|(k, v)| (k.trim().to_owned(), v.trim().to_owned()))
                .with_context(|| format!("{what} {s:?} is not LABEL=VALUE"))
        })
        .collect()
}

impl TopologyArgs {
    pub fn options(&self) -> anyhow::Result<Options> {
        let policy = Policy::load(&self.policy)?;
        let bin_dir = match &self.bin_dir {
            Some(d) => d.clone(),
            None => std::env::current_exe()?
                .parent()
                .context("binary directory")?
                .to_owned(),
        };
        let mut o = Options::new(policy, bin_dir);
        o.port = self.port;
        o.sqs = self.sqs;
        for (k, v) in pairs(&self.instances, "--instances")? {
            if !o.policy.targets().iter().any(|t| t.label == k) {
                anyhow::bail!("--instances: `{k}` is not a target of the policy");
            }
            let n = v
                .parse::<usize>()
                .ok()
                .filter(|n| (1..=MAX_INSTANCES).contains(n))
                .with_context(|| {
                    format!("--instances: `{k}={v}`: the count must be 1 to {MAX_INSTANCES}")
                })?;
            o.instances.insert(k, n);
        }
        o.frozen_weights = self.frozen_weights;
        for e in &self.env {
            let (label, kv) = e
                .split_once(':')
                .with_context(|| format!("--env {e:?} is not LABEL:KEY=VALUE"))?;
            let (k, v) = kv
                .split_once('=')
                .with_context(|| format!("--env {e:?} is not LABEL:KEY=VALUE"))?;
            if !o.policy.targets().iter().any(|t| t.label == label) {
                anyhow::bail!("--env {e:?}: `{label}` is not a target of the policy");
            }
            let name_ok = k
                .chars()
                .next()
                .is_some_and(|c| c.is_ascii_uppercase() || c == '_')
                && k.chars()
                    .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_');
            if !name_ok {
                anyhow::bail!(
                    "--env {e:?}: `{k}` is not an environment variable name (A-Z, 0-9, _)"
                );
            }
            o.target_env
                .entry(label.to_owned())
                .or_default()
                .push((k.to_owned(), v.to_owned()));
        }
        if !self.router_weights.is_empty() {
            let w = pairs(&self.router_weights, "--router-weights")?
                .into_iter()
                .map(|(k, v)| {
                    Ok((
                        k,
                        v.parse::<u32>()
                            .with_context(|| format!("--router-weights: `{v}` is not 0-999"))?,
                    ))
                })
                .collect::<anyhow::Result<Vec<_>>>()?;
            o.router_weights = Some(w);
        }
        Ok(o)
    }
}

pub fn render(args: &RenderArgs) -> anyhow::Result<()> {
    let policy = Policy::load(&args.policy)?;
    let prefixes: BTreeMap<String, String> =
        pairs(&args.prefixes, "--prefix")?.into_iter().collect();
    let servers = pairs(&args.servers, "--servers")?;
    let maxconn = pairs(&args.maxconn, "--maxconn")?
        .into_iter()
        .map(|(label, n)| {
            n.parse::<u32>()
                .ok()
                .filter(|n| *n > 0)
                .map(|n| (label, n))
                .with_context(|| format!("--maxconn: {n:?} is not a count of 1 or more"))
        })
        .collect::<anyhow::Result<BTreeMap<String, u32>>>()?;
    let given: [(&str, Vec<&String>); 2] = [
        ("--prefix", prefixes.keys().collect()),
        ("--maxconn", maxconn.keys().collect()),
    ];
    for (flag, labels) in given {
        if let Some(unknown) = labels
            .into_iter()
            .find(|k| !servers.iter().any(|(label, _)| label == *k))
        {
            anyhow::bail!("{flag} {unknown:?}: no --servers were given for that label");
        }
    }
    let groups = servers
        .into_iter()
        .map(|(label, addrs)| Group {
            servers: addrs
                .split(',')
                .enumerate()
                .map(|(i, a)| Server {
                    name: format!("{label}{}", i + 1),
                    address: a.to_owned(),
                    maxconn: maxconn.get(&label).copied(),
                })
                .collect(),
            path_prefix: prefixes.get(&label).cloned(),
            label,
        })
        .collect();
    let mut spec = RouterSpec::from_policy(&policy, args.bind, Path::new("."), groups)?;
    spec.weights_map = args.weights_map.clone();
    spec.stats_socket = args.socket.clone();
    spec.resolver = args.resolver.clone();
    spec.allow_tcp_runtime_api = args.allow_tcp_runtime_api;
    std::fs::create_dir_all(&args.out_dir)?;
    std::fs::write(args.out_dir.join("haproxy.cfg"), spec.render()?)?;
    std::fs::write(
        args.out_dir.join("weights.map"),
        weights_map(&spec.weights()),
    )?;
    println!(
        "wrote {}/haproxy.cfg and weights.map",
        args.out_dir.display()
    );
    Ok(())
}

/// Prints where everything is.
pub fn describe(local: &Local) -> String {
    use std::fmt::Write as _;
    let mut s = String::new();
    let _ = writeln!(
        s,
        "router      {}  (try {})",
        local.router_addr,
        local.url("/host")
    );
    for (label, procs) in &local.targets {
        for p in procs {
            let _ = writeln!(s, "  {label:<10} {} (pid {})", p.addr, p.child.id());
        }
    }
    let _ = writeln!(
        s,
        "runtime API {}  (weights map {}; rollout --haproxy takes it)",
        local.runtime.socket.display(),
        local.runtime.weights_map.display()
    );
    if let Some(q) = &local.queue_url {
        let _ = writeln!(s, "sqs         {q}");
    }
    let _ = writeln!(s, "config+logs {}", local.dir.display());
    s
}

/// Where everything is, as `topology up --state` writes it.
pub fn state_json(local: &Local) -> serde_json::Value {
    serde_json::json!({
        "url": local.url(""),
        "router": local.router_addr.to_string(),
        "runtime_api": local.runtime.socket,
        "weights_map": local.runtime.weights_map,
        "dir": local.dir,
        "targets": local.targets.iter().map(|(label, procs)| {
            (label.clone(), procs.iter().map(|p| p.addr.to_string()).collect::<Vec<_>>())
        }).collect::<BTreeMap<_, _>>(),
    })
}
