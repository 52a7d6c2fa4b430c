//! The local topology as processes on 127.0.0.1 (what `docker compose`
//! describes, without Docker): HAProxy generated from the policy, target
//! processes per label, optionally SQS (moto_server). Everything started
//! here is a [`Proc`] and is stopped by its PID when [`Local`] is dropped.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{Context, bail};
use weighbridge_policy::Policy;
use weighbridge_policy::alb::ForwardTarget;

use crate::haproxy::{FROZEN_MAP_NAME, Group, RouterSpec, Server, weights_map};
use crate::lambda::LambdaRuntime;
use crate::runtime::RuntimeApi;
use weighbridge_process::moto::{self, aws_env, sqs_client as local_sqs_client};
use weighbridge_process::{Proc, free_port, wait_for_port};

/// What to start.
#[derive(Debug, Clone)]
pub struct Options {
    pub policy: Policy,
    /// Router port (0: a free one).
    pub port: u16,
    /// Instances per label (default 1; `ecs` and `lambda` default to 2).
    pub instances: BTreeMap<String, usize>,
    /// Start the router with these weights instead of the policy's (to
    /// prove that `verify` notices a router that disagrees with the policy).
    pub router_weights: Option<Vec<(String, u32)>>,
    /// Start moto_server and give the targets a queue.
    pub sqs: bool,
    /// Where binaries are (`backend`, `lambda`): default, next to this one.
    pub bin_dir: PathBuf,
    /// How the `lambda` label runs.
    pub lambda: LambdaRuntime,
    /// Drain time of the backend processes.
    pub drain: Duration,
    /// Extra environment for the instances of a label (`FAULT_RATE` for a
    /// bad candidate), after the topology's own.
    pub target_env: BTreeMap<String, Vec<(String, String)>>,
    /// A test hook: the router reports weight changes and keeps drawing
    /// with its first weights ([`RouterSpec::frozen_map`]).
    pub frozen_weights: bool,
}

impl Options {
    pub fn new(policy: Policy, bin_dir: PathBuf) -> Self {
        Self {
            policy,
            port: 0,
            instances: BTreeMap::new(),
            router_weights: None,
            sqs: false,
            bin_dir,
            lambda: LambdaRuntime::default(),
            drain: Duration::from_secs(2),
            target_env: BTreeMap::new(),
            frozen_weights: false,
        }
    }

    fn count(&self, label: &str) -> usize {
        self.instances
            .get(label)
            .copied()
            .unwrap_or(if matches!(label, "ecs" | "lambda") {
                2
            } else {
                1
            })
    }
}

/// The running topology.
#[derive(Debug)]
pub struct Local {
    /// Configuration and logs (removed when the topology stops cleanly;
    /// kept when it fails to start).
    pub dir: PathBuf,
    cleanup: Option<tempfile::TempDir>,
    pub router: Proc,
    pub router_addr: SocketAddr,
    pub runtime: RuntimeApi,
    pub targets: BTreeMap<String, Vec<Proc>>,
    /// Processes that serve a target without being one (the Lambda emulator).
    pub helpers: Vec<Proc>,
    pub queue_url: Option<String>,
    /// The SQS endpoint the targets use (`AWS_ENDPOINT_URL`).
    pub sqs_endpoint: Option<String>,
    pub sqs: Option<Proc>,
    pub base: String,
    options: Options,
    env: Vec<(String, String)>,
    /// The weighted rule's targets and weights as the policy gives them;
    /// `set_weights` overrides these.
    policy_weights: Vec<ForwardTarget>,
}

impl Local {
    pub fn start(options: Options) -> anyhow::Result<Self> {
        let dir = tempfile::Builder::new()
            .prefix("weighbridge-")
            .tempdir()
            .context("temp dir")?;
        let path = dir.path().to_owned();
        match Self::start_in(path.clone(), options) {
            Ok(mut local) => {
                local.cleanup = Some(dir);
                Ok(local)
            }
            Err(e) => {
                // Keep the configuration and logs of a failed start.
                let path = dir.keep();
                Err(e.context(format!("configuration and logs are in {}", path.display())))
            }
        }
    }

    fn start_in(dir: PathBuf, options: Options) -> anyhow::Result<Self> {
        let logs = dir.join("logs");
        std::fs::create_dir_all(&logs)?;
        let base = options
            .policy
            .base_path()
            .map(|b| format!("/{b}"))
            .unwrap_or_default();

        let (sqs, queue_url, mut env) = if options.sqs {
            start_sqs(&logs)?
        } else {
            (None, None, Vec::new())
        };
        env.push((
            "BASE_PATH".into(),
            options.policy.base_path().unwrap_or_default().to_owned(),
        ));
        env.push((
            "DRAIN_SECONDS".into(),
            format!("{}ms", options.drain.as_millis()),
        ));
        if let Some(q) = &queue_url {
            env.push(("QUEUE_URL".into(), q.clone()));
        }

        let mut targets = BTreeMap::new();
        let mut helpers = Vec::new();
        let mut groups = Vec::new();
        for t in options.policy.targets() {
            let label = t.label.clone();
            let mut procs = Vec::new();
            let mut servers = Vec::new();
            let mut path_prefix = None;
            if label == "lambda" {
                // One emulator, and N function processes polling it: N
                // execution environments, each its own instance (log stream)
                // serving one invocation at a time, as on AWS.
                let emulator = options.lambda.start_emulator(&logs)?;
                let n = options.count(&label);
                for i in 1..=n {
                    let mut env = env.clone();
                    env.push((
                        "AWS_LAMBDA_LOG_STREAM_NAME".into(),
                        format!("local/lambda-{i}"),
                    ));
                    env.extend(options.target_env.get(&label).cloned().unwrap_or_default());
                    let mut function = emulator.start_function(
                        &options.bin_dir.join("lambda"),
                        &env,
                        Some(&logs.join(format!("lambda-{i}.log"))),
                    )?;
                    // The function listens nowhere; it is reached through the emulator.
                    function.addr = emulator.addr;
                    procs.push(function);
                }
                servers.push(Server {
                    name: "lambda1".into(),
                    address: emulator.addr.to_string(),
                    // The emulator wedges for good when it holds more
                    // invocations than its functions can take: HAProxy
                    // queues the rest instead.
                    maxconn: Some(u32::try_from(n).unwrap_or(u32::MAX)),
                });
                path_prefix = Some(emulator.path_prefix());
                helpers.push(emulator.proc);
            } else {
                let mut env = env.clone();
                env.extend(options.target_env.get(&label).cloned().unwrap_or_default());
                for i in 1..=options.count(&label) {
                    let p = start_backend(
                        &options.bin_dir,
                        &label,
                        &format!("{label}-{i}"),
                        &env,
                        &logs,
                    )?;
                    servers.push(Server {
                        name: format!("{label}{i}"),
                        address: p.addr.to_string(),
                        maxconn: None,
                    });
                    procs.push(p);
                }
            }
            groups.push(Group {
                label: label.clone(),
                servers,
                path_prefix,
            });
            targets.insert(label, procs);
        }

        let port = if options.port == 0 {
            free_port()?
        } else {
            options.port
        };
        let router_addr = SocketAddr::from(([127, 0, 0, 1], port));
        let mut spec = RouterSpec::from_policy(&options.policy, router_addr, &dir, groups)?;
        if options.frozen_weights {
            let frozen = dir.join(FROZEN_MAP_NAME);
            spec.frozen_map = Some(frozen);
        }
        let policy_weights = spec.weights();
        let weights = match &options.router_weights {
            Some(w) => override_weights(&policy_weights, w)?,
            None => policy_weights.clone(),
        };
        let cfg_path = dir.join("haproxy.cfg");
        std::fs::write(&cfg_path, spec.render()?)?;
        std::fs::write(&spec.weights_map, weights_map(&weights))?;
        if let Some(frozen) = &spec.frozen_map {
            std::fs::write(frozen, weights_map(&weights))?;
        }
        let router = start_haproxy(&cfg_path, router_addr, &logs)?;
        let sqs_endpoint = env
            .iter()
            .find(|(k, _)| k == "AWS_ENDPOINT_URL")
            .map(|(_, v)| v.clone());
        let runtime = RuntimeApi {
            socket: spec.stats_socket.clone(),
            weights_map: spec.weights_map.clone(),
        };
        let local = Self {
            dir,
            cleanup: None,
            router,
            router_addr,
            runtime,
            targets,
            helpers,
            queue_url,
            sqs_endpoint,
            sqs,
            base,
            options,
            env,
            policy_weights,
        };
        local.wait_healthy(Duration::from_secs(20))?;
        Ok(local)
    }

    /// What this topology was started with.
    pub fn options(&self) -> &Options {
        &self.options
    }

    /// The router URL of `path` under the base path.
    pub fn url(&self, path: &str) -> String {
        format!("http://{}{}{}", self.router_addr, self.base, path)
    }

    /// Waits until every server of every group passes its health check.
    pub fn wait_healthy(&self, timeout: Duration) -> anyhow::Result<()> {
        let deadline = std::time::Instant::now() + timeout;
        loop {
            let mut down = Vec::new();
            for label in self.targets.keys() {
                let state = self.runtime.servers(label)?;
                // Columns: be_id be_name srv_id srv_name srv_addr srv_op_state ...
                for line in state
                    .lines()
                    .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
                {
                    let cols: Vec<&str> = line.split_whitespace().collect();
                    if cols.len() > 5 && cols[5] != "2" {
                        down.push(format!("{label}/{}", cols[3]));
                    }
                }
            }
            if down.is_empty() {
                return Ok(());
            }
            if std::time::Instant::now() >= deadline {
                bail!(
                    "not healthy after {timeout:?}: {} (logs in {})",
                    down.join(", "),
                    self.dir.join("logs").display()
                );
            }
            std::thread::sleep(Duration::from_millis(200));
        }
    }

    /// Starts one more instance of `label` and registers it with the router
    /// (a scale-out, as ECS registers a new task with its target group).
    pub fn add_instance(&mut self, label: &str) -> anyhow::Result<String> {
        let n = self.targets.get(label).map_or(0, Vec::len) + 1;
        let instance = format!("{label}-{n}");
        let mut env: Vec<(String, String)> = self.env.clone();
        env.extend(
            self.options
                .target_env
                .get(label)
                .cloned()
                .unwrap_or_default(),
        );
        let p = start_backend(
            &self.options.bin_dir,
            label,
            &instance,
            &env,
            &self.dir.join("logs"),
        )?;
        self.runtime
            .add_server(label, &format!("{label}{n}"), &p.addr.to_string())?;
        self.targets.entry(label.to_owned()).or_default().push(p);
        Ok(instance)
    }

    /// Changes the router's weights while it runs.
    pub fn set_weights(&self, weights: &[(String, u32)]) -> anyhow::Result<()> {
        self.runtime
            .set_weights(&override_weights(&self.policy_weights, weights)?)?;
        Ok(())
    }

    /// Stops everything: targets first (they drain), then the router.
    pub fn stop(mut self) {
        for procs in self.targets.values_mut() {
            for p in procs {
                p.stop(self.options.drain + Duration::from_secs(3));
            }
        }
        for h in &mut self.helpers {
            h.stop(Duration::from_secs(3));
        }
        self.router.stop(Duration::from_secs(3));
        if let Some(s) = &mut self.sqs {
            s.stop(Duration::from_secs(3));
        }
    }
}

fn override_weights(
    current: &[ForwardTarget],
    given: &[(String, u32)],
) -> anyhow::Result<Vec<ForwardTarget>> {
    for (label, _) in given {
        if !current.iter().any(|c| &c.target == label) {
            bail!("router weight for `{label}`, which the policy does not have");
        }
    }
    Ok(current
        .iter()
        .map(|c| ForwardTarget {
            target: c.target.clone(),
            weight: given
                .iter()
                .find(|(l, _)| l == &c.target)
                .map_or(c.weight, |(_, w)| *w),
        })
        .collect())
}

fn start_backend(
    bin_dir: &Path,
    label: &str,
    instance: &str,
    env: &[(String, String)],
    logs: &Path,
) -> anyhow::Result<Proc> {
    let mut all: Vec<(&str, &str)> = env.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    all.push(("BACKEND_LABEL", label));
    all.push(("INSTANCE_ID", instance));
    let exe = bin_dir.join("backend");
    Ok(Proc::start_backend(
        instance,
        &exe,
        &[],
        &all,
        Some(&logs.join(format!("{instance}.log"))),
    )?)
}

fn start_haproxy(cfg: &Path, addr: SocketAddr, logs: &Path) -> anyhow::Result<Proc> {
    let haproxy = Path::new("haproxy");
    let check = std::process::Command::new(haproxy)
        .args(["-c", "-q", "-f"])
        .arg(cfg)
        .output()
        .context(
            "haproxy not found: install it (Debian: apt-get install haproxy), or run scripts/setup",
        )?;
    if !check.status.success() {
        bail!(
            "haproxy rejected the generated configuration {}: {}",
            cfg.display(),
            String::from_utf8_lossy(&check.stderr)
        );
    }
    let cfg_s = cfg.to_string_lossy();
    let p = Proc::spawn(
        "haproxy",
        haproxy,
        &["-db", "-f", &cfg_s],
        &[],
        Some(&logs.join("haproxy.log")),
    )?;
    if !wait_for_port(addr, Duration::from_secs(10)) {
        bail!(
            "haproxy did not listen on {addr} (see {})",
            logs.join("haproxy.log").display()
        );
    }
    Ok(p)
}

/// moto_server on a free port and a queue in it; returns the environment
/// the targets need to reach it.
#[allow(clippy::type_complexity)]
fn start_sqs(logs: &Path) -> anyhow::Result<(Option<Proc>, Option<String>, Vec<(String, String)>)> {
    let port = free_port()?;
    let p = moto::start(port, &logs.join("sqs.log"))?;
    let endpoint = format!("http://127.0.0.1:{port}");
    let env: Vec<(String, String)> = aws_env(&endpoint)
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v))
        .collect();
    let url = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?
        .block_on(async {
            let out = local_sqs_client(&endpoint)
                .create_queue()
                .queue_name("weighbridge")
                .send()
                .await?;
            anyhow::Ok(out.queue_url().unwrap_or_default().to_owned())
        })?;
    Ok((Some(p), Some(url), env))
}
