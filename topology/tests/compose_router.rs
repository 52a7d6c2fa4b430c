//! The router configuration that docker-compose.yml mounts is generated from
//! config/policy.json; this test regenerates it and fails when the committed
//! copy differs (someone edited one without the other), and checks that
//! HAProxy accepts it.

use std::path::{Path, PathBuf};

use topology::cli::RenderArgs;

/// The one command that writes config/haproxy/ (also in README.md).
const REGENERATE: &str = "cargo run -p topology -- render --policy config/policy.json \
    --servers ecs=ecs-1:3000,ecs-2:3000 --servers lambda=lambda-emulator:9000 \
    --prefix lambda=/lambda-url/_ --maxconn lambda=1 --bind 0.0.0.0:8080 --resolver resolv.conf \
    --out-dir config/haproxy";

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("workspace root")
        .to_owned()
}

fn render_into(out: &Path) {
    let args = RenderArgs {
        policy: root().join("config/policy.json"),
        servers: vec![
            "ecs=ecs-1:3000,ecs-2:3000".into(),
            "lambda=lambda-emulator:9000".into(),
        ],
        prefixes: vec!["lambda=/lambda-url/_".into()],
        maxconn: vec!["lambda=1".into()],
        bind: "0.0.0.0:8080".parse().expect("addr"),
        weights_map: "/usr/local/etc/haproxy/weights.map".into(),
        socket: "/var/run/haproxy/admin.sock".into(),
        allow_tcp_runtime_api: false,
        resolver: Some("resolv.conf".into()),
        out_dir: out.to_owned(),
    };
    topology::cli::render(&args).expect("render");
}

#[test]
fn committed_router_config_matches_the_policy() {
    let tmp = tempfile::tempdir().expect("tempdir");
    render_into(tmp.path());
    for file in ["haproxy.cfg", "weights.map"] {
        let fresh = std::fs::read_to_string(tmp.path().join(file)).expect("rendered");
        let committed =
            std::fs::read_to_string(root().join("config/haproxy").join(file)).unwrap_or_default();
        assert!(
            fresh == committed,
            "config/haproxy/{file} is stale; regenerate it with:\n  {REGENERATE}"
        );
    }
}

#[test]
fn haproxy_accepts_the_compose_router_config() {
    let tmp = tempfile::tempdir().expect("tempdir");
    render_into(tmp.path());
    // Point the run-time paths at the temp dir; names stay unresolved here.
    let cfg = std::fs::read_to_string(tmp.path().join("haproxy.cfg"))
        .expect("cfg")
        .replace(
            "/usr/local/etc/haproxy/weights.map",
            &tmp.path().join("weights.map").display().to_string(),
        )
        .replace(
            "/var/run/haproxy/admin.sock",
            &tmp.path().join("admin.sock").display().to_string(),
        );
    let path = tmp.path().join("check.cfg");
    std::fs::write(&path, cfg).expect("write");
    let out = std::process::Command::new("haproxy")
        .args(["-c", "-f"])
        .arg(&path)
        .output()
        .expect("haproxy is installed (scripts/setup installs it)");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}
