//! OTLP trace export, in-process: the real binary exports to an OTLP/HTTP
//! receiver run by this test, and the exported span continues the trace of
//! the caller's `X-Amzn-Trace-Id`.

mod support;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::HeaderMap;
use axum::routing::post;

use support::Sig as Signal;

type Received = Arc<Mutex<Vec<(String, Bytes)>>>;

async fn receive(State(store): State<Received>, headers: HeaderMap, body: Bytes) -> &'static str {
    let ct = headers
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    store.lock().expect("lock").push((ct, body));
    ""
}

#[tokio::test]
async fn spans_are_exported_over_otlp_with_the_callers_xray_trace() {
    let store: Received = Arc::default();
    let receiver = Router::new()
        .route("/v1/traces", post(receive))
        .with_state(store.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let endpoint = format!("http://{}", listener.local_addr().expect("addr"));
    let server = tokio::spawn(async move { axum::serve(listener, receiver).await });

    let mut b = support::start(
        &[],
        &[
            ("BASE_PATH", "dev"),
            ("DRAIN_SECONDS", "0s"),
            ("OTEL_EXPORTER_OTLP_ENDPOINT", &endpoint),
            ("OTEL_SERVICE_NAME", "backend-under-test"),
        ],
    );
    let trace_id = "5759e988bd862e3fe1be46a994272793";
    let header = format!(
        "Root=1-{}-{};Parent=53995c3f42cd8ad8;Sampled=1",
        &trace_id[..8],
        &trace_id[8..]
    );
    let resp = reqwest::Client::new()
        .get(b.url("/dev/host"))
        .header("x-amzn-trace-id", header)
        .send()
        .await
        .expect("GET");
    assert_eq!(resp.status(), 200);

    // Shutdown flushes the batch exporter.
    b.signal(Signal::SIGTERM);
    let status = tokio::task::spawn_blocking(move || b.wait_exit(Duration::from_secs(15)))
        .await
        .expect("join")
        .expect("backend exits");
    assert!(status.success());
    server.abort();

    let got = store.lock().expect("lock").clone();
    assert!(!got.is_empty(), "no OTLP export received");
    let want = hex_bytes(trace_id);
    let matching: Vec<_> = got
        .iter()
        .filter(|(_, body)| contains(body, &want))
        .collect();
    assert!(
        !matching.is_empty(),
        "no exported span carries the caller's X-Ray trace id"
    );
    assert!(
        matching
            .iter()
            .all(|(ct, _)| ct == "application/x-protobuf"),
        "{got:?}"
    );
    assert!(
        matching
            .iter()
            .any(|(_, body)| contains(body, b"backend-under-test"))
    );
}

fn hex_bytes(hex: &str) -> Vec<u8> {
    (0..hex.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&hex[i..i + 2], 16).expect("hex"))
        .collect()
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}
