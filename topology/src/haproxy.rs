//! The router: an HAProxy configuration that behaves like an ALB listener
//! with weighted target groups, rendered from the same listener rules the
//! Terraform builds ([`weighbridge_policy::alb::alb_listener_rules`]), so the
//! laptop and AWS route from one policy file.
//!
//! How it matches ALB:
//! - rules by priority: exclusive path rules first, then the weighted rule,
//!   then a fixed 404 (JSON) for anything else;
//! - the target group is drawn **per request** with the weights (keep-alive
//!   clients still split), then servers in the group take turns;
//! - weights are integers 0–999 and 0 means no traffic. They live in a map
//!   file as cumulative bounds (`cum_<label>`, `total`), so the runtime API
//!   (`set map`) changes them while it runs, without dropping a connection;
//! - optional stickiness: a cookie pins a client to the group it first got,
//!   for the policy's duration (group-level, like ALB's `AWSALBTG`);
//! - health checks on `/health` take a failing or draining server out.

use std::fmt::Write as _;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use weighbridge_policy::Policy;
use weighbridge_policy::alb::{ForwardTarget, ListenerRule, alb_listener_rules};

use crate::validate::{self, Invalid};

/// The file name of the weights map (the runtime API finds it by this name).
pub const WEIGHTS_MAP_NAME: &str = "weights.map";
/// The file name of the frozen copy a test router draws from.
pub const FROZEN_MAP_NAME: &str = "frozen.map";

/// Name of the stickiness cookie (the router's `AWSALBTG`).
pub const STICKY_COOKIE: &str = "wb_tg";
/// The draw is `rand(DRAW_RANGE)` scaled to the total weight.
const DRAW_RANGE: u64 = 1_000_000;

/// One server of a target group.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Server {
    pub name: String,
    /// `host:port`, an IP address or a name HAProxy resolves.
    pub address: String,
    /// At most this many requests at once on the server; more wait in
    /// HAProxy's queue (`timeout queue`, then a 503). The Lambda emulator is
    /// one address for N execution environments, each serving one
    /// invocation at a time, as on AWS: it gets N. None: no limit.
    pub maxconn: Option<u32>,
}

/// A target group: the servers behind one policy label.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Group {
    pub label: String,
    pub servers: Vec<Server>,
    /// Prepended to the request path, e.g. `/lambda-url/_` for a Lambda
    /// behind `cargo lambda watch` (which serves function URLs there).
    pub path_prefix: Option<String>,
}

/// Everything the configuration needs.
#[derive(Debug, Clone)]
pub struct RouterSpec {
    pub bind: SocketAddr,
    /// Runtime API socket (admin level), for `set map` and `add server`.
    pub stats_socket: PathBuf,
    /// Where the weights map file is (written next to the configuration).
    pub weights_map: PathBuf,
    pub rules: Vec<ListenerRule>,
    pub groups: Vec<Group>,
    /// Health-check interval in milliseconds (ALB: 5–300 s; locally faster).
    pub check_interval_ms: u64,
    /// A DNS server to re-resolve server names with (Docker's is
    /// `127.0.0.11:53`), or `resolv.conf` for the container's own, so the
    /// router starts before its targets exist and follows them when they
    /// are recreated.
    pub resolver: Option<String>,
    /// Whether `stats_socket` may be a TCP address (`ipv4@IP:PORT`): the
    /// runtime API has admin level, so only when asked for explicitly.
    pub allow_tcp_runtime_api: bool,
    /// A test hook: the draw reads this map instead of `weights_map`, which
    /// stays loaded (the runtime API changes and reports it) but routes
    /// nothing, so the router reports new weights and keeps the old split:
    /// what a rollout's traffic check must catch.
    pub frozen_map: Option<PathBuf>,
}

#[derive(Debug, thiserror::Error)]
pub enum RenderError {
    #[error("the policy names target `{0}`, but no servers were given for it")]
    NoServers(String),
    #[error(
        "label {0:?} cannot be used in an HAProxy backend name: use letters, digits, '-', '_' or '.'"
    )]
    BadLabel(String),
    #[error("servers for label {0:?} were given more than once")]
    DuplicateGroup(String),
    #[error(transparent)]
    Invalid(#[from] Invalid),
}

impl RouterSpec {
    /// The rules of `policy`, with servers for each of its targets.
    pub fn from_policy(
        policy: &Policy,
        bind: SocketAddr,
        dir: &Path,
        groups: Vec<Group>,
    ) -> Result<Self, RenderError> {
        Ok(Self {
            bind,
            stats_socket: dir.join("haproxy.sock"),
            weights_map: dir.join(WEIGHTS_MAP_NAME),
            rules: alb_listener_rules(policy),
            groups,
            check_interval_ms: 500,
            resolver: None,
            allow_tcp_runtime_api: false,
            frozen_map: None,
        })
    }

    fn weighted(&self) -> Option<&ListenerRule> {
        self.rules.iter().find(|r| is_weighted(r))
    }

    /// The weights the weighted rule starts with.
    pub fn weights(&self) -> Vec<ForwardTarget> {
        self.weighted()
            .map(|r| r.forward.clone())
            .unwrap_or_default()
    }

    /// Renders `haproxy.cfg`.
    pub fn render(&self) -> Result<String, RenderError> {
        for g in &self.groups {
            if g.label.is_empty()
                || !g
                    .label
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c))
            {
                return Err(RenderError::BadLabel(g.label.clone()));
            }
        }
        for r in &self.rules {
            for f in &r.forward {
                if !self.groups.iter().any(|g| g.label == f.target) {
                    return Err(RenderError::NoServers(f.target.clone()));
                }
            }
        }
        self.validate()?;
        let mut c = String::new();
        self.global(&mut c);
        if let Some(ns) = &self.resolver {
            let source = if ns == validate::RESOLV_CONF {
                "parse-resolv-conf".to_owned()
            } else {
                format!("nameserver dns1 {ns}")
            };
            let _ = writeln!(c, "resolvers dns\n    {source}\n    hold valid 5s\n");
        }
        self.frontend(&mut c);
        for g in &self.groups {
            self.backend(&mut c, g);
        }
        Ok(c)
    }

    /// Every value the configuration is written from: see [`validate`].
    fn validate(&self) -> Result<(), RenderError> {
        for (i, g) in self.groups.iter().enumerate() {
            if self.groups[..i].iter().any(|h| h.label == g.label) {
                return Err(RenderError::DuplicateGroup(g.label.clone()));
            }
            let what = format!("servers of `{}`", g.label);
            if g.servers.is_empty() {
                return Err(RenderError::NoServers(g.label.clone()));
            }
            for (j, s) in g.servers.iter().enumerate() {
                validate::name(&format!("{what}: server name"), &s.name)?;
                if g.servers[..j].iter().any(|t| t.name == s.name) {
                    return Err(Invalid {
                        what: format!("{what}: server name"),
                        value: s.name.clone(),
                        reason: "used twice in one group".to_owned(),
                    }
                    .into());
                }
                validate::address(&format!("{what}: address"), &s.address)?;
            }
            if let Some(prefix) = &g.path_prefix {
                validate::path_prefix(&format!("path prefix of `{}`", g.label), prefix)?;
            }
        }
        for r in &self.rules {
            validate::name("listener rule name", &r.name)?;
            for f in &r.forward {
                validate::name("listener rule target", &f.target)?;
            }
            for p in &r.path_patterns {
                let path = match p.strip_suffix("/*") {
                    Some("") => "/",
                    Some(prefix) => prefix,
                    None => p,
                };
                validate::route_path(&format!("path of listener rule {}", r.name), path)?;
            }
        }
        validate::runtime_socket(
            "runtime API socket",
            &self.stats_socket,
            self.allow_tcp_runtime_api,
        )?;
        validate::file_path("weights map", &self.weights_map)?;
        if let Some(frozen) = &self.frozen_map {
            validate::file_path("frozen weights map", frozen)?;
        }
        if let Some(ns) = &self.resolver {
            validate::resolver("resolver", ns)?;
        }
        Ok(())
    }

    fn global(&self, c: &mut String) {
        let _ = writeln!(
            c,
            "# Generated by `topology` from the traffic policy: do not edit by hand.
global
    log stderr format raw local0 warning
    stats socket {sock} mode 600 level admin
    maxconn 8000

defaults
    mode http
    log global
    option httplog
    timeout connect 2s
    timeout client 60s
    timeout server 60s
    timeout http-request 10s
    timeout http-keep-alive 60s
    # A request waits at most this long for a server under its maxconn;
    # one whose client gave up meanwhile is not sent at all.
    timeout queue 10s
    option abortonclose
    # A connection refused by a server that just went away is retried on
    # another one, as an ALB does for a deregistering target.
    retries 2
    option redispatch 1
    retry-on conn-failure empty-response
",
            sock = self.stats_socket.display()
        );
    }

    fn frontend(&self, c: &mut String) {
        let map = self
            .frozen_map
            .as_ref()
            .unwrap_or(&self.weights_map)
            .display();
        let _ = writeln!(c, "frontend listener\n    bind {}", self.bind);
        let _ = writeln!(c, "    http-response set-header x-router haproxy");
        // HAProxy evaluates every `http-request` rule before any `use_backend`:
        // write them in that order too, so the file reads as it runs.
        let (mut acls, mut requests, mut routes) = (Vec::new(), Vec::new(), Vec::new());
        let mut all = Vec::new();
        for r in &self.rules {
            let acl = format!("rule_{}", r.name.replace('-', "_"));
            for p in &r.path_patterns {
                let cond = match p.strip_suffix("/*") {
                    Some("") => "path_beg /".to_owned(),
                    Some(prefix) => format!("path_beg {prefix}/"),
                    None => format!("path {p}"),
                };
                acls.push(format!("acl {acl} {cond}"));
            }
            all.push((acl, r));
        }
        requests.push(format!(
            "http-request return status 404 content-type application/json string \"{{\\\"error\\\":\\\"not_found\\\",\\\"message\\\":\\\"no listener rule matches this path\\\",\\\"backend\\\":\\\"router\\\"}}\" unless {}",
            all.iter().map(|(a, _)| a.as_str()).collect::<Vec<_>>().join(" || ")
        ));
        // Path rules: one target each, in priority order, before the draw.
        for (acl, r) in all.iter().filter(|(_, r)| !is_weighted(r)) {
            if let Some(f) = r.forward.first() {
                routes.push(format!("use_backend tg_{} if {acl}", f.target));
            }
        }
        if let Some((wacl, w)) = all.iter().find(|(_, r)| is_weighted(r)) {
            if w.stickiness.is_some_and(|s| s.enabled) {
                let labels: Vec<&str> = w.forward.iter().map(|f| f.target.as_str()).collect();
                acls.push(format!(
                    "acl has_sticky req.cook({STICKY_COOKIE}) -m str {}",
                    labels.join(" ")
                ));
                requests.push(format!(
                    "http-request set-var(txn.sticky) str(1) if {wacl} has_sticky"
                ));
                routes.push(format!(
                    "use_backend tg_%[req.cook({STICKY_COOKIE})] if {wacl} has_sticky"
                ));
            }
            // The weighted draw, per request: x = rand * total / range is in
            // [0, total); group i wins when x < cum_i (cumulative weights).
            requests.push(format!(
                "http-request set-var(txn.total) str(total),map_str_int({map},0) if {wacl}"
            ));
            if self.frozen_map.is_some() {
                // Loaded, so the runtime API can change and show it; read
                // into a variable nothing uses.
                requests.push(format!(
                    "http-request set-var(txn.reported) str(total),map_str_int({},0) if {wacl}",
                    self.weights_map.display()
                ));
            }
            requests.push(format!("http-request set-var(txn.x) rand({DRAW_RANGE}),mul(txn.total),div({DRAW_RANGE}) if {wacl}"));
            for f in &w.forward {
                let label = &f.target;
                let var = label.replace(['-', '.'], "_");
                requests.push(format!("http-request set-var(txn.cum_{var}) str(cum_{label}),map_str_int({map},0) if {wacl}"));
                acls.push(format!(
                    "acl draw_{var} var(txn.x),sub(txn.cum_{var}) -m int lt 0"
                ));
                routes.push(format!("use_backend tg_{label} if {wacl} draw_{var}"));
            }
        }
        for line in acls.iter().chain(&requests) {
            let _ = writeln!(c, "    {line}");
        }
        let _ = writeln!(
            c,
            "    # Rules by priority: exclusive paths, stickiness, then the weighted draw."
        );
        for line in &routes {
            let _ = writeln!(c, "    {line}");
        }
        let _ = writeln!(c);
    }

    fn backend(&self, c: &mut String, g: &Group) {
        let health = format!("{}/health", g.path_prefix.as_deref().unwrap_or(""));
        let _ = writeln!(
            c,
            "backend tg_{label}
    balance roundrobin
    option httpchk GET {health}
    http-check expect status 200
    default-server inter {ms}ms fastinter {ms}ms fall 2 rise 2{dns}",
            label = g.label,
            ms = self.check_interval_ms,
            dns = if self.resolver.is_some() {
                " resolvers dns init-addr last,libc,none"
            } else {
                ""
            },
        );
        if let Some(prefix) = &g.path_prefix {
            let _ = writeln!(c, "    http-request set-path {prefix}%[path]");
        }
        if let Some(s) = self
            .weighted()
            .and_then(|w| w.stickiness)
            .filter(|s| s.enabled)
        {
            let _ = writeln!(
                c,
                "    http-response add-header Set-Cookie \"{STICKY_COOKIE}={label}; Max-Age={secs}; Path=/; HttpOnly\" unless {{ var(txn.sticky) -m found }}",
                label = g.label,
                secs = s.duration_seconds,
            );
        }
        for s in &g.servers {
            let maxconn = s
                .maxconn
                .map(|n| format!(" maxconn {n}"))
                .unwrap_or_default();
            let _ = writeln!(c, "    server {} {} check{maxconn}", s.name, s.address);
        }
        let _ = writeln!(c);
    }
}

/// The labels of the weighted rule in the order its draw tests them: the
/// order [`RuntimeApi::weights`](crate::runtime::RuntimeApi::weights) reads
/// the cumulative bounds in.
pub fn draw_order(policy: &Policy) -> Vec<String> {
    alb_listener_rules(policy)
        .iter()
        .find(|r| is_weighted(r))
        .map(|r| r.forward.iter().map(|f| f.target.clone()).collect())
        .unwrap_or_default()
}

/// The weights map: `total` and the cumulative bound of each label, in the
/// order the draw tests them (the weighted rule's order, sorted by label).
pub fn weights_map(weights: &[ForwardTarget]) -> String {
    let mut out =
        String::from("# Generated by `topology`: cumulative weights of the weighted rule.\n");
    let mut cum = 0u64;
    for w in weights {
        cum += u64::from(w.weight);
        let _ = writeln!(out, "cum_{} {cum}", w.target);
    }
    let _ = writeln!(out, "total {cum}");
    out
}

/// The runtime API commands that change the weights in place.
pub fn set_weights_commands(map_file: &Path, weights: &[ForwardTarget]) -> Vec<String> {
    weights_map(weights)
        .lines()
        .filter(|l| !l.starts_with('#'))
        .filter_map(|l| l.split_once(' '))
        .map(|(k, v)| format!("set map {} {k} {v}", map_file.display()))
        .collect()
}

/// The weighted (default) rule, as opposed to an exclusive path rule:
/// `alb_listener_rules` gives stickiness settings to it alone.
fn is_weighted(rule: &ListenerRule) -> bool {
    rule.stickiness.is_some()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(policy: &str) -> RouterSpec {
        let policy: Policy = policy.parse().expect("policy");
        let groups = policy
            .targets()
            .iter()
            .map(|t| Group {
                label: t.label.clone(),
                servers: vec![Server {
                    name: format!("{}1", t.label),
                    address: "127.0.0.1:1".into(),
                    maxconn: None,
                }],
                path_prefix: (t.label == "lambda").then(|| "/lambda-url/_".to_owned()),
            })
            .collect();
        RouterSpec::from_policy(
            &policy,
            "127.0.0.1:8080".parse().expect("addr"),
            Path::new("/run/wb"),
            groups,
        )
        .expect("spec")
    }

    const POLICY: &str = r#"{"schema":"weighbridge.policy/v1","targets":{"ecs":10,"lambda":90},
        "path_rules":[{"path":"/small-woodland-creature","target":"ecs"},{"path":"/ice-cream-flavor","target":"lambda"}],
        "stickiness":{"enabled":true,"duration_seconds":3600},"base_path":"dev"}"#;

    #[test]
    fn path_rules_come_before_the_weighted_draw() {
        let cfg = spec(POLICY).render().expect("render");
        let creature = cfg
            .find("use_backend tg_ecs if rule_path_0")
            .expect("path rule 0");
        let flavor = cfg
            .find("use_backend tg_lambda if rule_path_1")
            .expect("path rule 1");
        let draw = cfg
            .find("use_backend tg_ecs if rule_weighted draw_ecs")
            .expect("weighted");
        assert!(creature < draw && flavor < draw);
        assert!(cfg.contains("acl rule_path_0 path /dev/small-woodland-creature\n"));
        assert!(cfg.contains("acl rule_path_0 path_beg /dev/small-woodland-creature/\n"));
        assert!(cfg.contains("acl rule_weighted path_beg /dev/\n"));
        assert!(cfg.contains("http-request return status 404"));
        assert!(cfg.contains("http-request set-path /lambda-url/_%[path]"));
        assert!(cfg.contains("option httpchk GET /lambda-url/_/health"));
        assert!(cfg.contains("Max-Age=3600"));
        assert!(!cfg.contains("//"), "no doubled slashes in paths:\n{cfg}");
    }

    #[test]
    fn weights_map_is_cumulative_and_keeps_zero_weights() {
        let w = vec![
            ForwardTarget {
                target: "blue".into(),
                weight: 0,
            },
            ForwardTarget {
                target: "green".into(),
                weight: 95,
            },
            ForwardTarget {
                target: "red".into(),
                weight: 5,
            },
        ];
        assert_eq!(
            weights_map(&w),
            "# Generated by `topology`: cumulative weights of the weighted rule.\ncum_blue 0\ncum_green 95\ncum_red 100\ntotal 100\n"
        );
        let cmds = set_weights_commands(Path::new("/x/weights.map"), &w);
        assert_eq!(cmds[1], "set map /x/weights.map cum_green 95");
        assert_eq!(cmds.len(), 4);
    }

    #[test]
    fn missing_servers_are_an_error() {
        let mut s = spec(POLICY);
        s.groups.retain(|g| g.label != "lambda");
        assert!(matches!(s.render(), Err(RenderError::NoServers(l)) if l == "lambda"));
    }
}
