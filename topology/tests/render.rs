//! `topology render` refuses every value that could add a line, a directive
//! or a quote to haproxy.cfg, and a TCP runtime API unless asked for.

use std::path::{Path, PathBuf};

use topology::cli::RenderArgs;

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("workspace root")
        .to_owned()
}

fn args(out: &Path) -> RenderArgs {
    RenderArgs {
        policy: root().join("config/policy.json"),
        servers: vec!["ecs=127.0.0.1:3001".into(), "lambda=127.0.0.1:9000".into()],
        prefixes: vec!["lambda=/lambda-url/_".into()],
        maxconn: Vec::new(),
        bind: "127.0.0.1:8080".parse().expect("addr"),
        weights_map: "/usr/local/etc/haproxy/weights.map".into(),
        socket: "/var/run/haproxy/admin.sock".into(),
        allow_tcp_runtime_api: false,
        resolver: None,
        out_dir: out.to_owned(),
    }
}

/// Renders with `change` applied; the error message, and that nothing was written.
fn refused(change: impl FnOnce(&mut RenderArgs)) -> String {
    let tmp = tempfile::tempdir().expect("tempdir");
    let mut a = args(tmp.path());
    change(&mut a);
    let e = match topology::cli::render(&a) {
        Ok(()) => panic!(
            "rendered:\n{}",
            std::fs::read_to_string(tmp.path().join("haproxy.cfg")).unwrap_or_default()
        ),
        Err(e) => format!("{e:#}"),
    };
    assert!(!tmp.path().join("haproxy.cfg").exists(), "{e}");
    assert!(!e.contains('\n'), "the message is one line: {e}");
    e
}

#[test]
fn a_newline_in_servers_cannot_add_a_server() {
    let e = refused(|a| {
        a.servers[0] = "ecs=127.0.0.1:3001 backup\n  server evil 10.0.0.1:80".into();
    });
    assert!(e.contains("servers of `ecs`: address"), "{e}");
    let e = refused(|a| a.servers[0] = "ecs\n  server evil=127.0.0.1:3001".into());
    assert!(
        e.contains("cannot be used in an HAProxy backend name"),
        "{e}"
    );
    refused(|a| a.servers[0] = "ecs 127.0.0.1:3001\nx".into());
    for bad in ["ecs=127.0.0.1", "ecs=", "ecs=127.0.0.1:3001,", "ecs=a b:1"] {
        refused(|a| a.servers[0] = bad.into());
    }
}

#[test]
fn a_tcp_runtime_api_needs_the_flag() {
    let e = refused(|a| a.socket = "ipv4@0.0.0.0:9999".into());
    assert!(e.contains("--allow-tcp-runtime-api"), "{e}");
    refused(|a| a.socket = "0.0.0.0:9999".into());
    refused(|a| a.socket = "/run/admin.sock\n  stats socket ipv4@0.0.0.0:1".into());

    let tmp = tempfile::tempdir().expect("tempdir");
    let mut a = args(tmp.path());
    a.socket = "ipv4@127.0.0.1:9999".into();
    a.allow_tcp_runtime_api = true;
    topology::cli::render(&a).expect("asked for explicitly");
    let cfg = std::fs::read_to_string(tmp.path().join("haproxy.cfg")).expect("cfg");
    assert!(cfg.contains("stats socket ipv4@127.0.0.1:9999 mode 600 level admin\n"));
}

#[test]
fn prefixes_resolvers_and_map_paths_are_checked() {
    refused(|a| a.prefixes[0] = "lambda=/x\n  http-request deny".into());
    refused(|a| a.prefixes[0] = "lambda=/x%[src]".into());
    refused(|a| a.prefixes[0] = "nobody=/x".into());
    refused(|a| a.resolver = Some("127.0.0.11:53\n  nameserver evil 10.0.0.1:53".into()));
    refused(|a| a.resolver = Some("dns.example:53".into()));
    refused(|a| a.weights_map = "/m.map,0),evil(".into());
    refused(|a| a.servers.push("ecs=127.0.0.1:3002".into()));
}

#[test]
fn a_quote_in_a_policy_path_is_refused() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let policy = tmp.path().join("policy.json");
    std::fs::write(
        &policy,
        r#"{"schema":"weighbridge.policy/v1","targets":{"ecs":1,"lambda":1},
            "path_rules":[{"path":"/a\"b'c","target":"ecs"}]}"#,
    )
    .expect("write");
    let e = refused(|a| a.policy = policy);
    assert!(e.contains("path of listener rule path-0"), "{e}");
}

#[test]
fn the_binary_exits_non_zero_with_the_reason() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_topology"))
        .current_dir(root())
        .args(["render", "--servers", "ecs=127.0.0.1:3001", "--servers"])
        .arg("lambda=127.0.0.1:9000\n  server evil 10.0.0.1:80")
        .args(["--socket", "/tmp/a.sock", "--out-dir"])
        .arg(tmp.path())
        .output()
        .expect("run topology");
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("is refused"), "{stderr}");
    assert!(!tmp.path().join("haproxy.cfg").exists());
}

#[test]
fn maxconn_limits_the_servers_of_its_group_only() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let mut a = args(tmp.path());
    a.maxconn = vec!["lambda=3".into()];
    topology::cli::render(&a).expect("render");
    let cfg = std::fs::read_to_string(tmp.path().join("haproxy.cfg")).expect("cfg");
    assert!(
        cfg.contains("server lambda1 127.0.0.1:9000 check maxconn 3\n"),
        "{cfg}"
    );
    assert!(cfg.contains("server ecs1 127.0.0.1:3001 check\n"), "{cfg}");
    assert!(cfg.contains("timeout queue"), "{cfg}");
    for bad in [
        "lambda=0",
        "lambda=-1",
        "lambda=x",
        "lambda=3\n  server evil 1:1",
    ] {
        let e = refused(|a| a.maxconn = vec![bad.into()]);
        assert!(e.contains("--maxconn"), "{e}");
    }
    let e = refused(|a| a.maxconn = vec!["nobody=1".into()]);
    assert!(e.contains("no --servers were given"), "{e}");
}
