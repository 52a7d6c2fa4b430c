//! End to end: the function binary (the release bootstrap when `LAMBDA_BIN`
//! names it) runs against the Lambda Runtime API emulator of `cargo lambda
//! watch --only-lambda-apis` and is called over HTTP through the emulator's
//! Function URL endpoint, `/lambda-url/<name>/...`. SQS is `moto_server`,
//! traces go to an OTLP receiver run by this test. Everything listens on
//! 127.0.0.1, and every process is stopped by its PID at the end.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use aws_sdk_sqs::types::MessageSystemAttributeName;
use axum::body::Bytes;
use axum::extract::State;
use axum::routing::post;
use serde_json::{Value, json};
use topology::lambda::LambdaRuntime;
use weighbridge_testkit::{Moto, aws_env};

const LOG_STREAM: &str = "2026/11/23/[$LATEST]e2e0123456789abcdef0123456789ab";
const TRACE_ID: &str = "6740a5c83f1b2c4d5e6f708192a3b4e1";

type Received = Arc<Mutex<Vec<Bytes>>>;

async fn receive(State(store): State<Received>, body: Bytes) -> &'static str {
    store.lock().expect("lock").push(body);
    ""
}

/// An OTLP/HTTP receiver on 127.0.0.1; returns its endpoint.
async fn otlp_receiver(store: Received) -> (String, tokio::task::JoinHandle<()>) {
    let app = axum::Router::new()
        .route("/v1/traces", post(receive))
        .with_state(store);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let endpoint = format!("http://{}", listener.local_addr().expect("addr"));
    let server = tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    (endpoint, server)
}

/// The function binary: the release bootstrap when `LAMBDA_BIN` names it,
/// else this build's.
fn lambda_bin() -> std::path::PathBuf {
    std::env::var_os("LAMBDA_BIN").map_or_else(|| env!("CARGO_BIN_EXE_lambda").into(), Into::into)
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

fn hex_bytes(hex: &str) -> Vec<u8> {
    (0..hex.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&hex[i..i + 2], 16).expect("hex"))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn function_serves_http_through_the_runtime_emulator() {
    tokio::time::timeout(Duration::from_secs(240), scenario())
        .await
        .expect("the end-to-end scenario finishes within 240 s");
}

async fn scenario() {
    let moto = tokio::task::spawn_blocking(Moto::start)
        .await
        .expect("moto");
    let sqs = weighbridge_testkit::sqs_client(&moto.endpoint());
    let queue_url = sqs
        .create_queue()
        .queue_name("weighbridge-e2e")
        .send()
        .await
        .expect("create queue")
        .queue_url()
        .expect("queue url")
        .to_owned();

    let store: Received = Arc::default();
    let (otlp, receiver) = otlp_receiver(store.clone()).await;

    let logs = tempfile::tempdir().expect("tempdir");
    let logs_dir = logs.path().to_owned();
    let emulator =
        tokio::task::spawn_blocking(move || LambdaRuntime::default().start_emulator(&logs_dir))
            .await
            .expect("join")
            .unwrap_or_else(|e| panic!("{e:#}"));
    let name = topology::lambda::FUNCTION_NAME;

    let mut env = aws_env(&moto.endpoint());
    env.extend([
        ("BASE_PATH", "dev".to_owned()),
        ("QUEUE_URL", queue_url.clone()),
        // Set by Lambda itself; the emulator does not.
        ("AWS_LAMBDA_LOG_STREAM_NAME", LOG_STREAM.to_owned()),
        ("OTEL_EXPORTER_OTLP_ENDPOINT", otlp),
        ("OTEL_SERVICE_NAME", "lambda-under-test".to_owned()),
        // Batches would wait ten minutes: only the per-invocation flush
        // can deliver spans while the test runs.
        ("OTEL_BSP_SCHEDULE_DELAY", "600000".to_owned()),
    ]);
    let env: Vec<(String, String)> = env.into_iter().map(|(k, v)| (k.to_owned(), v)).collect();
    let mut function = emulator
        .start_function(&lambda_bin(), &env, None)
        .unwrap_or_else(|e| panic!("{e:#}"));
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(30))
        .build()
        .expect("client");
    let url = |path: &str| emulator.url(path);

    // Several requests, one execution environment: same x-backend-host.
    let trace_header = format!(
        "Root=1-{}-{};Parent=53995c3f42cd8ad8;Sampled=1",
        &TRACE_ID[..8],
        &TRACE_ID[8..]
    );
    for _ in 0..3 {
        let resp = client
            .get(url("/dev/host"))
            .header("x-amzn-trace-id", &trace_header)
            .send()
            .await
            .expect("GET /dev/host");
        assert_eq!(resp.status(), 200);
        assert_eq!(resp.headers()["x-served-by"], "lambda");
        assert_eq!(resp.headers()["x-backend-host"], LOG_STREAM);
        assert!(resp.headers().contains_key("x-backend-version"));
        let body: Value = resp.json().await.expect("json");
        assert_eq!(body["backend"], "lambda");
        assert_eq!(body["instance"], LOG_STREAM);
        assert_eq!(body["functionName"], name);
        assert_eq!(
            body["memoryMb"].as_u64().map(|m| m.to_string()).as_deref(),
            emulator.var("AWS_LAMBDA_FUNCTION_MEMORY_SIZE")
        );
    }

    let resp = client
        .get(url("/health"))
        .send()
        .await
        .expect("GET /health");
    assert_eq!(resp.status(), 200);
    assert_eq!(resp.headers()["x-served-by"], "lambda");

    // A POST with a body: the message lands in SQS as sent.
    let message = json!({ "order": 42, "item": "acorn" });
    let resp = client
        .post(url("/dev/send-to-sqs"))
        .header("x-amzn-trace-id", &trace_header)
        .json(&message)
        .send()
        .await
        .expect("POST /dev/send-to-sqs");
    assert_eq!(resp.status(), 200);
    assert_eq!(resp.headers()["x-served-by"], "lambda");
    let body: Value = resp.json().await.expect("json");
    assert_eq!(body["status"], "success");
    assert_eq!(body["backend"], "lambda");
    let received = sqs
        .receive_message()
        .queue_url(&queue_url)
        .wait_time_seconds(2)
        .message_system_attribute_names(MessageSystemAttributeName::AwsTraceHeader)
        .send()
        .await
        .expect("receive");
    let messages = received.messages.unwrap_or_default();
    assert_eq!(messages.len(), 1, "{messages:?}");
    let sent: Value = serde_json::from_str(messages[0].body().expect("body")).expect("json");
    assert_eq!(sent, message);
    assert_eq!(messages[0].message_id(), body["messageId"].as_str());
    let message_trace = messages[0]
        .attributes()
        .and_then(|a| a.get(&MessageSystemAttributeName::AwsTraceHeader))
        .cloned()
        .expect("the message carries an AWSTraceHeader");

    // A 404, JSON, with the identity.
    let resp = client.get(url("/dev/nope")).send().await.expect("GET");
    assert_eq!(resp.status(), 404);
    assert_eq!(resp.headers()["x-served-by"], "lambda");
    let body: Value = resp.json().await.expect("json");
    assert_eq!(body["error"], "not_found");
    assert_eq!(body["backend"], "lambda");

    // Bad input: a body that is not JSON, a path parameter that is no number.
    let resp = client
        .post(url("/dev/send-to-sqs"))
        .header("content-type", "application/json")
        .body("{not json")
        .send()
        .await
        .expect("POST");
    assert_eq!(resp.status(), 400);
    assert_eq!(
        resp.json::<Value>().await.expect("json")["error"],
        "bad_request"
    );
    let resp = client
        .get(url("/dev/status/abc"))
        .send()
        .await
        .expect("GET");
    assert_eq!(resp.status(), 400);
    assert_eq!(resp.headers()["x-served-by"], "lambda");

    // Spans were flushed at the end of each invocation, with the function
    // still running (the batch delay is ten minutes).
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    while store.lock().expect("lock").is_empty() && tokio::time::Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let exports = store.lock().expect("lock").clone();
    assert!(
        !exports.is_empty(),
        "no spans exported while the function runs: the per-invocation flush did not happen"
    );
    assert!(
        exports.iter().any(|b| contains(b, b"lambda-under-test")),
        "exports do not name the service"
    );
    assert!(
        exports.iter().any(|b| contains(b, b"invocation")),
        "no invocation span exported"
    );
    // The message's AWSTraceHeader is the request span's context: its trace
    // is the invocation's (the client's header does not win over it), and
    // that trace is the one exported.
    let root = message_trace
        .split(';')
        .find_map(|kv| kv.strip_prefix("Root=1-"))
        .expect("a Root in AWSTraceHeader")
        .replace('-', "");
    assert_eq!(root.len(), 32, "{message_trace}");
    assert_ne!(
        root, TRACE_ID,
        "the client's trace header won over the invocation's"
    );
    assert!(
        exports.iter().any(|b| contains(b, &hex_bytes(&root))),
        "the request's trace {root} was not exported"
    );

    let lines: Vec<String> = function.logs.try_iter().collect();
    assert!(
        lines.iter().any(|l| l.contains("\"ready\"")),
        "the function never logged its cold start: {lines:?}"
    );
    function.stop(Duration::from_secs(5));
    drop(emulator);
    receiver.abort();
}
