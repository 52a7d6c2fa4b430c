//! The binary against hostile clients and absurd settings: slow headers,
//! stalled bodies, idle keep-alive, stuck clients at shutdown, unbounded
//! `/work`, open stress routes, over-long requests, absurd caps.

mod support;

use std::time::{Duration, Instant};

use support::Sig as Signal;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

fn client(timeout: Duration) -> reqwest::Client {
    reqwest::Client::builder()
        .timeout(timeout)
        .build()
        .expect("client")
}

async fn connect(b: &support::Process) -> TcpStream {
    TcpStream::connect(b.addr).await.expect("connect")
}

/// Reads until the server closes the connection; returns what it sent, or
/// panics if it is still open after `within`.
async fn read_until_closed(s: &mut TcpStream, within: Duration) -> Vec<u8> {
    let mut all = Vec::new();
    tokio::time::timeout(within, async {
        let mut buf = [0u8; 4096];
        loop {
            match s.read(&mut buf).await {
                Ok(0) | Err(_) => break,
                Ok(n) => all.extend_from_slice(&buf[..n]),
            }
        }
    })
    .await
    .unwrap_or_else(|_| panic!("connection still open after {within:?}"));
    all
}

#[tokio::test]
async fn slow_headers_are_cut_after_header_timeout() {
    let b = support::start(&[], &[("HEADER_TIMEOUT", "1s"), ("IDLE_TIMEOUT", "60s")]);
    let mut s = connect(&b).await;
    s.write_all(b"GET /host HTTP/1.1\r\nHost: x\r\n")
        .await
        .expect("write");
    let started = Instant::now();
    read_until_closed(&mut s, Duration::from_secs(6)).await;
    assert!(started.elapsed() >= Duration::from_millis(900));
}

#[tokio::test]
async fn idle_keep_alive_is_closed_after_idle_timeout() {
    let b = support::start(&[], &[("HEADER_TIMEOUT", "60s"), ("IDLE_TIMEOUT", "1s")]);
    let mut s = connect(&b).await;
    s.write_all(b"GET /live HTTP/1.1\r\nHost: x\r\n\r\n")
        .await
        .expect("write");
    let got = read_until_closed(&mut s, Duration::from_secs(6)).await;
    assert!(
        got.starts_with(b"HTTP/1.1 200"),
        "{}",
        String::from_utf8_lossy(&got)
    );
}

#[tokio::test]
async fn a_stalled_body_is_a_json_408() {
    let b = support::start(&[], &[("BODY_TIMEOUT", "1s")]);
    let mut s = connect(&b).await;
    s.write_all(
        b"POST /send-to-sqs HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{\"a\":",
    )
    .await
    .expect("write");
    let got = read_until_closed(&mut s, Duration::from_secs(6)).await;
    let text = String::from_utf8_lossy(&got);
    assert!(text.starts_with("HTTP/1.1 408"), "{text}");
    assert!(text.contains("x-served-by"), "{text}");
    assert!(text.contains("\"error\":\"request_timeout\""), "{text}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stuck_clients_do_not_block_shutdown() {
    let mut b = support::start(
        &[],
        &[
            ("DRAIN_SECONDS", "1s"),
            ("SHUTDOWN_GRACE", "1s"),
            ("HEADER_TIMEOUT", "60s"),
            ("IDLE_TIMEOUT", "60s"),
        ],
    );
    let mut slow = connect(&b).await;
    slow.write_all(b"GET /host HTTP/1.1\r\n")
        .await
        .expect("write");
    let mut chunked = connect(&b).await;
    chunked
        .write_all(b"POST /send-to-sqs HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n1\r\n{\r\n")
        .await
        .expect("write");
    let delayed = tokio::spawn(
        client(Duration::from_secs(30))
            .get(b.url("/delay/30000"))
            .send(),
    );
    // Let the delayed request reach the server before the signal.
    tokio::time::sleep(Duration::from_millis(200)).await;
    b.signal(Signal::SIGTERM);
    let status = b
        .wait_exit(Duration::from_secs(8))
        .expect("exits within drain + grace (+ slack)");
    assert!(status.success(), "{status:?}");
    let _ = delayed.await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn work_is_capped_with_a_json_503() {
    let b = support::start(&[], &[("MAX_WORK_CONCURRENCY", "1")]);
    let long = || {
        tokio::spawn(
            client(Duration::from_secs(60))
                .get(b.url("/work/8000"))
                .send(),
        )
    };
    // The long request can itself lose the race for the one slot to a
    // short one (and get the 503); it is sent again until it holds it.
    let mut holder = long();
    let deadline = Instant::now() + Duration::from_secs(20);
    let c = client(Duration::from_secs(10));
    loop {
        if holder.is_finished() {
            holder = long();
        }
        let resp = c.get(b.url("/work/1")).send().await.expect("GET /work/1");
        if resp.status() == 503 {
            assert!(resp.headers().contains_key("x-served-by"));
            let body: serde_json::Value = resp.json().await.expect("json");
            assert_eq!(body["error"], "busy", "{body}");
            break;
        }
        let status = resp.status();
        let text = resp.text().await.unwrap_or_default();
        assert!(
            Instant::now() < deadline,
            "never refused past MAX_WORK_CONCURRENCY=1: {status} {text}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    holder.abort();
}

#[tokio::test]
async fn abandoned_work_stops_burning() {
    let b = support::start(&[], &[]);
    let _ = client(Duration::from_millis(500))
        .get(b.url("/work/10000"))
        .send()
        .await;
    // The client is gone; the burn must stop within a check (microseconds).
    tokio::time::sleep(Duration::from_millis(300)).await;
    let before = b.cpu_time();
    tokio::time::sleep(Duration::from_millis(1000)).await;
    let burnt = b.cpu_time().saturating_sub(before);
    assert!(
        burnt < Duration::from_millis(300),
        "still burning: {burnt:?} in 1 s"
    );
}

#[test]
fn work_burns_cpu_time() {
    let used = std::time::Instant::now();
    assert!(backend::stress::burn_cpu(
        Duration::from_millis(200),
        || false
    ));
    assert!(used.elapsed() >= Duration::from_millis(200));
    let stopped = backend::stress::burn_cpu(Duration::from_secs(60), || true);
    assert!(!stopped);
}

#[tokio::test]
async fn a_stress_token_closes_the_stress_routes_by_default() {
    let b = support::start(&[], &[("STRESS_TOKEN", "s3cret")]);
    let c = client(Duration::from_secs(10));
    let resp = c.get(b.url("/stress-cpu/1/1")).send().await.expect("GET");
    assert_eq!(resp.status(), 403);
    let resp = c
        .get(b.url("/work/1"))
        .bearer_auth("s3cret")
        .send()
        .await
        .expect("GET");
    assert_eq!(resp.status(), 200);
}

#[test]
fn open_stress_routes_are_announced() {
    let mut b = support::start(&[], &[]);
    let line = b.wait_for_log(
        "STRESS ROUTES ARE OPEN: anyone can call /stress-cpu and /work; \
         set STRESS_TOKEN (or STRESS_MODE=token|off) to close them",
        Duration::from_secs(5),
    );
    assert_eq!(line["level"], "WARN", "{line}");
}

#[tokio::test]
async fn over_long_requests_get_json_with_identity() {
    let b = support::start(&[], &[("BACKEND_LABEL", "ecs")]);
    let c = client(Duration::from_secs(10));
    // A 65,534-byte path: the longest hyper itself accepts.
    let mut s = connect(&b).await;
    let request = format!(
        "GET /{} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
        "a".repeat(65_533)
    );
    s.write_all(request.as_bytes()).await.expect("write");
    let got = read_until_closed(&mut s, Duration::from_secs(10)).await;
    let text = String::from_utf8_lossy(&got);
    assert!(text.starts_with("HTTP/1.1 414"), "{text}");
    assert!(text.contains("x-served-by: ecs"), "{text}");
    assert!(text.contains("\"error\":\"uri_too_long\""), "{text}");
    assert!(text.contains("\"backend\":\"ecs\""), "{text}");

    let mut req = c.get(b.url("/host"));
    for i in 0..80 {
        req = req.header(format!("x-h{i}"), "v");
    }
    let resp = req.send().await.expect("GET many headers");
    assert_eq!(resp.status(), 431);
    assert_eq!(resp.headers()["x-served-by"], "ecs");
    let body: serde_json::Value = resp.json().await.expect("json");
    assert_eq!(body["backend"], "ecs", "{body}");

    let resp = c
        .get(b.url("/host"))
        .header("x-big", "b".repeat(100_000))
        .send()
        .await
        .expect("GET big header");
    assert_eq!(resp.status(), 431);
    assert_eq!(resp.headers()["x-served-by"], "ecs");
}

#[test]
fn absurd_caps_are_refused_at_start_up() {
    for (var, max) in [
        ("MAX_STRESS_SECONDS", "86400"),
        ("MAX_WORK_MS", "600000"),
        ("MAX_DELAY_MS", "600000"),
    ] {
        let mut c = backend::Config::defaults();
        match var {
            "MAX_STRESS_SECONDS" => c.max_stress_seconds = u64::MAX,
            "MAX_WORK_MS" => c.max_work_ms = u64::MAX,
            _ => c.max_delay_ms = u64::MAX,
        }
        let err = c.validate().expect_err(var).to_string();
        assert!(err.contains(var) && err.contains(max), "{err}");
        let mut p = support::spawn(&[], &[(var, "18446744073709551615"), ("PORT", "0")]);
        let status = p
            .wait_exit(Duration::from_secs(10))
            .unwrap_or_else(|| panic!("{var}=u64::MAX: still running"));
        assert!(!status.success(), "{var}: {status:?}");
    }
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_backend"))
        .env_clear()
        .env("MAX_STRESS_SECONDS", "18446744073709551615")
        .env("PORT", "0")
        .output()
        .expect("run");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(
        err.contains("MAX_STRESS_SECONDS") && err.contains("86400"),
        "{err}"
    );
}
