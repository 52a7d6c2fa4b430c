//! The real binary on an ephemeral port: HTTP, identity headers, SIGTERM
//! draining, and the CPU it really burns under `/stress-cpu`.

mod support;

use std::time::{Duration, Instant};

use support::Sig as Signal;

fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .timeout(Duration::from_secs(10))
        .build()
        .expect("client")
}

#[tokio::test]
async fn serves_identity_over_http() {
    let b = support::start(
        &[],
        &[
            ("BASE_PATH", "dev"),
            ("INSTANCE_ID", "ecs-7"),
            ("BACKEND_LABEL", "ecs"),
        ],
    );
    let resp = client()
        .get(b.url("/dev/host"))
        .send()
        .await
        .expect("GET /dev/host");
    assert_eq!(resp.status(), 200);
    assert_eq!(resp.headers()["x-served-by"], "ecs");
    assert_eq!(resp.headers()["x-backend-host"], "ecs-7");
    assert!(resp.headers().contains_key("x-backend-version"));
    let body: serde_json::Value = resp.json().await.expect("json");
    assert_eq!(body["backend"], "ecs");

    let resp = client()
        .get(b.url("/nope"))
        .send()
        .await
        .expect("GET /nope");
    assert_eq!(resp.status(), 404);
    assert_eq!(resp.headers()["x-served-by"], "ecs");
}

#[test]
fn bad_configuration_exits_non_zero_with_a_message() {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_backend"))
        .env_clear()
        .env("STRESS_MODE", "token")
        .env("PORT", "0")
        .output()
        .expect("run");
    assert!(!out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("STRESS_TOKEN"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );

    let out = std::process::Command::new(env!("CARGO_BIN_EXE_backend"))
        .env_clear()
        .env("FAULT_RATE", "2")
        .output()
        .expect("run");
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("FAULT_RATE"));
}

#[test]
fn consume_without_a_queue_is_an_error() {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_backend"))
        .env_clear()
        .arg("consume")
        .output()
        .expect("run");
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("QUEUE_URL"));
}

/// SIGTERM: readiness 503 at once, every request still served during the
/// drain (including one in flight when the listener closes), exit 0.
/// SIGTERM starts a 5 s drain: readiness turns 503, requests keep being
/// answered, and one still in flight when the listener closes completes.
/// The checks run in the first 1.2 s, so a busy machine has ample slack.
#[tokio::test]
async fn sigterm_drains_without_failing_a_request() {
    const DRAIN: Duration = Duration::from_secs(5);
    let mut b = support::start(&[], &[("BASE_PATH", "dev"), ("DRAIN_SECONDS", "5s")]);
    let c = client();
    assert_eq!(
        c.get(b.url("/health"))
            .send()
            .await
            .expect("health")
            .status(),
        200
    );

    b.signal(Signal::SIGTERM);
    let signalled = Instant::now();
    // Sent now, answered after the drain: still in flight when it ends.
    let slow = tokio::spawn({
        let c = c.clone();
        let url = b.url("/dev/delay/5500");
        async move { c.get(url).send().await.map(|r| r.status().as_u16()) }
    });
    let mut saw_draining = false;
    loop {
        let r = c
            .get(b.url("/dev/host"))
            .send()
            .await
            .expect("request during drain must succeed");
        assert_eq!(r.status(), 200, "request during drain");
        let h = c
            .get(b.url("/health"))
            .send()
            .await
            .expect("health during drain");
        saw_draining |= h.status() == 503;
        if saw_draining || signalled.elapsed() >= Duration::from_millis(1200) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(saw_draining, "readiness never reported 503 while draining");
    // Answered while (and after) readiness said 503.
    let r = c
        .get(b.url("/dev/host"))
        .send()
        .await
        .expect("request after readiness turned 503");
    assert_eq!(r.status(), 200);
    assert_eq!(
        slow.await
            .expect("join")
            .expect("in-flight request finished"),
        200
    );

    let status = b
        .wait_exit(Duration::from_secs(15))
        .expect("process exits after the drain");
    assert!(status.success(), "exit status {status:?}");
    assert!(signalled.elapsed() >= DRAIN, "exited before the drain time");
}

/// A SIGTERM the moment the server says it listens (before it has answered
/// anything) still drains and exits 0: the handler is installed before the
/// listener opens, not when the server loop first looks for it.
#[test]
fn sigterm_right_after_start_drains() {
    for _ in 0..5 {
        let mut b = support::start(&[], &[("DRAIN_SECONDS", "100ms")]);
        b.signal(Signal::SIGTERM);
        let status = b
            .wait_exit(Duration::from_secs(10))
            .expect("exits after the drain");
        assert!(status.success(), "killed by the signal: {status:?}");
    }
}

/// `/stress-cpu/50/3` on this machine: answered before the burn ends (it
/// runs in the background), and the process's CPU time over the run is about
/// half of what it may use. Loose bounds: other tests and builds share the 2
/// cores, so the lower bound only proves that real CPU was burnt (an idle
/// process uses ~0); `bench/stress-cpu` measures precisely.
#[tokio::test]
async fn stress_cpu_really_burns_cpu() {
    const BURN: Duration = Duration::from_secs(3);
    let b = support::start(&[], &[("BASE_PATH", "dev")]);
    let cpus = backend::cpu_budget::allowed_cpus();
    let before = b.cpu_time();
    let t0 = Instant::now();
    let resp = client()
        .get(b.url("/dev/stress-cpu/50/3"))
        .send()
        .await
        .expect("stress");
    assert_eq!(resp.status(), 200);
    // The burn's deadline was set before this answer was sent.
    let burn_over = Instant::now() + BURN;
    assert!(
        t0.elapsed() < BURN,
        "stress must answer at once, not after the burn: took {:?}",
        t0.elapsed()
    );
    // Still serving while it burns.
    let resp = client()
        .get(b.url("/dev/host"))
        .send()
        .await
        .expect("host while stressed");
    assert_eq!(resp.status(), 200);
    tokio::time::sleep_until((burn_over + Duration::from_millis(300)).into()).await;
    let used = (b.cpu_time() - before).as_secs_f64();
    let expected = 0.5 * cpus * BURN.as_secs_f64();
    assert!(
        used > 0.2 && used < expected * 1.5,
        "used {used:.2} CPU-seconds, expected about {expected:.2} (50 % of {cpus} CPUs for {BURN:?})"
    );
    // And it stops: over the next second almost nothing is used.
    let idle_before = b.cpu_time();
    tokio::time::sleep(Duration::from_millis(1000)).await;
    let idle = (b.cpu_time() - idle_before).as_secs_f64();
    assert!(
        idle < 0.2,
        "still burning {idle:.2} CPU-seconds per second after the run"
    );
}

/// `backend probe` (the image's HEALTHCHECK) passes against a live server
/// and fails, with a message, against a closed port.
#[tokio::test]
async fn probe_checks_liveness() {
    let b = support::start(&[], &[]);
    let port = b.addr.port().to_string();
    let probe = |port: String| {
        tokio::task::spawn_blocking(move || {
            std::process::Command::new(env!("CARGO_BIN_EXE_backend"))
                .env_clear()
                .env("PORT", port)
                .arg("probe")
                .output()
                .expect("run probe")
        })
    };
    let ok = probe(port).await.expect("join");
    assert!(
        ok.status.success(),
        "{}",
        String::from_utf8_lossy(&ok.stderr)
    );
    let closed = support::free_port().to_string();
    let bad = probe(closed).await.expect("join");
    assert!(!bad.status.success());
    assert!(String::from_utf8_lossy(&bad.stderr).contains("/live"));
}
