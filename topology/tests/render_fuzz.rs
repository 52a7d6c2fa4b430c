//! Bounded property tests (512 cases, fixed seed): whatever strings are
//! given for `--servers`, `--socket` and `--prefix`, `topology render`
//! either refuses them or writes a configuration with no injected line:
//! exactly the lines that well-formed values give, and no control
//! character, quote or backslash anywhere.

use std::path::Path;

use proptest::prelude::*;
use proptest::test_runner::{Config, RngSeed};
use topology::cli::RenderArgs;

const POLICY: &str = r#"{"schema":"weighbridge.policy/v1","targets":{"ecs":10,"lambda":90},
  "path_rules":[{"path":"/small-woodland-creature","target":"ecs"}],
  "stickiness":{"enabled":true,"duration_seconds":60},"base_path":"dev"}"#;

fn config() -> Config {
    Config {
        cases: 512,
        rng_seed: RngSeed::Fixed(0x746f_706f),
        failure_persistence: None,
        ..Config::default()
    }
}

/// Strings that are often valid, often nearly valid, sometimes anything.
fn value(valid: &'static str) -> impl Strategy<Value = String> {
    prop_oneof![
        14 => valid,
        2 => "[a-z0-9.:@/_%\\[\\]=, \n\r\t\"'#\\\\-]{0,24}",
        1 => any::<String>(),
        2 => (valid, "[\n\r\t \"'#\\\\\u{0}\u{b}\u{85}\u{2028}]", valid)
            .prop_map(|(a, bad, b)| format!("{a}{bad}{b}")),
    ]
}

const ADDR: &str = "(127\\.0\\.0\\.1|\\[::1\\]|[a-z][a-z0-9]{0,6}(\\.[a-z]{1,3})?):[1-9][0-9]{0,3}";
const SOCKET: &str = "(/[a-z0-9._-]{1,6}){1,3}|(ipv4@)?127\\.0\\.0\\.1:[1-9][0-9]{0,3}";
const PREFIX: &str = "(/[a-z0-9._~-]{1,6}){1,3}";

struct Rendered {
    cfg: String,
    map: String,
}

fn render(
    dir: &Path,
    servers: &[String],
    prefix: Option<&str>,
    socket: &str,
    allow_tcp: bool,
) -> Option<Rendered> {
    let policy = dir.join("policy.json");
    std::fs::write(&policy, POLICY).expect("policy");
    let out = dir.join("out");
    let mut groups = vec![format!("ecs={}", servers.join(","))];
    groups.push("lambda=127.0.0.1:9000".to_owned());
    let args = RenderArgs {
        policy,
        servers: groups,
        prefixes: prefix.map(|p| format!("ecs={p}")).into_iter().collect(),
        maxconn: Vec::new(),
        bind: "127.0.0.1:8080".parse().expect("addr"),
        weights_map: "/etc/haproxy/weights.map".into(),
        socket: socket.into(),
        allow_tcp_runtime_api: allow_tcp,
        resolver: None,
        out_dir: out.clone(),
    };
    topology::cli::render(&args).ok()?;
    Some(Rendered {
        cfg: std::fs::read_to_string(out.join("haproxy.cfg")).expect("cfg"),
        map: std::fs::read_to_string(out.join("weights.map")).expect("map"),
    })
}

fn line_count(s: &str) -> usize {
    s.lines().count()
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn values_are_refused_or_inject_nothing(
        servers in prop::collection::vec(value(ADDR), 1..4),
        prefix in prop::option::of(value(PREFIX)),
        socket in value(SOCKET),
        allow_tcp in any::<bool>(),
    ) {
        let tmp = tempfile::tempdir().expect("tempdir");
        let Some(got) = render(tmp.path(), &servers, prefix.as_deref(), &socket, allow_tcp) else {
            // Refused: nothing written.
            prop_assert!(!tmp.path().join("out/haproxy.cfg").exists());
            return Ok(());
        };
        // The same shape with well-formed values of our own: as many lines.
        let n = servers.join(",").split(',').count();
        let plain: Vec<String> = (0..n).map(|i| format!("127.0.0.1:{}", i + 1)).collect();
        let base_dir = tempfile::tempdir().expect("tempdir");
        let base = render(base_dir.path(), &plain, prefix.as_ref().map(|_| "/p"), "/run/a.sock", false)
            .expect("the baseline renders");
        prop_assert_eq!(line_count(&got.cfg), line_count(&base.cfg), "{}", got.cfg);
        prop_assert_eq!(&got.map, &base.map);
        for c in got.cfg.chars() {
            prop_assert!(c == '\n' || !c.is_control(), "control character {:?} in\n{}", c, got.cfg);
            prop_assert!(c.is_ascii(), "non-ASCII {:?} in\n{}", c, got.cfg);
        }
        // Every server line is `server NAME ADDR check`, one per address.
        let server_lines: Vec<&str> = got
            .cfg
            .lines()
            .map(str::trim)
            .filter(|l| l.starts_with("server "))
            .collect();
        prop_assert_eq!(server_lines.len(), n + 1);
        for l in server_lines {
            let words: Vec<&str> = l.split(' ').collect();
            prop_assert_eq!(words.len(), 4, "{}", l);
            prop_assert_eq!(words[3], "check");
        }
        // The socket line has the socket and nothing else.
        let sock_lines: Vec<&str> = got.cfg.lines().map(str::trim).filter(|l| l.starts_with("stats socket")).collect();
        prop_assert_eq!(sock_lines, vec![format!("stats socket {socket} mode 600 level admin")]);
        // Outside the one 404 body, no quote or backslash anywhere.
        for l in got.cfg.lines().filter(|l| !l.contains("http-request return status 404") && !l.contains("Set-Cookie")) {
            prop_assert!(!l.contains(['"', '\'', '\\']), "{}", l);
        }
        if !allow_tcp {
            prop_assert!(socket.starts_with('/') && !socket.contains(['@', ':']), "{}", socket);
        }
    }
}
