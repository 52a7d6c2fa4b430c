//! `POST /send-to-sqs` and `backend consume` against a real SQS API
//! (`moto_server`, started here on a free port and stopped by PID).

mod support;

use std::collections::BTreeSet;
use std::time::Duration;

use aws_sdk_sqs::types::{MessageSystemAttributeName, QueueAttributeName};

use support::{Moto, Process, Sig as Signal, aws_env};

async fn sqs_client(endpoint: &str) -> aws_sdk_sqs::Client {
    weighbridge_testkit::sqs_client(endpoint)
}

async fn create_queue(client: &aws_sdk_sqs::Client, name: &str) -> String {
    client
        .create_queue()
        .queue_name(name)
        .attributes(QueueAttributeName::VisibilityTimeout, "1")
        .send()
        .await
        .expect("create queue")
        .queue_url()
        .expect("queue url")
        .to_owned()
}

/// Receives until the queue stays empty for one long poll; returns bodies
/// (and each message's AWSTraceHeader), deleting nothing.
async fn drain_queue(client: &aws_sdk_sqs::Client, url: &str) -> Vec<(String, Option<String>)> {
    let mut seen = Vec::new();
    loop {
        let out = client
            .receive_message()
            .queue_url(url)
            .max_number_of_messages(10)
            .wait_time_seconds(1)
            .visibility_timeout(30)
            .message_system_attribute_names(MessageSystemAttributeName::AwsTraceHeader)
            .send()
            .await
            .expect("receive");
        let msgs = out.messages.unwrap_or_default();
        if msgs.is_empty() {
            return seen;
        }
        for m in msgs {
            let trace = m
                .attributes()
                .and_then(|a| a.get(&MessageSystemAttributeName::AwsTraceHeader))
                .cloned();
            seen.push((m.body().unwrap_or_default().to_owned(), trace));
        }
    }
}

fn backend_with_queue(moto: &Moto, url: &str) -> Process {
    let env = aws_env(&moto.endpoint());
    let mut all: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
    all.push(("QUEUE_URL", url));
    all.push(("BASE_PATH", "dev"));
    support::start(&[], &all)
}

fn http() -> reqwest::Client {
    reqwest::Client::builder()
        .timeout(Duration::from_secs(30))
        .build()
        .expect("client")
}

#[tokio::test]
async fn a_200_means_the_message_is_in_the_queue_with_its_trace() {
    let moto = Moto::start();
    let sqs = sqs_client(&moto.endpoint()).await;
    let url = create_queue(&sqs, "orders").await;
    let b = backend_with_queue(&moto, &url);

    let trace = "Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1";
    let body = r#"{"order":42,"items":["tea","scones"],"note":"ünïcödé"}"#;
    let resp = http()
        .post(b.url("/dev/send-to-sqs"))
        .header("content-type", "application/json")
        .header("x-amzn-trace-id", trace)
        .body(body)
        .send()
        .await
        .expect("POST");
    assert_eq!(resp.status(), 200);
    assert_eq!(resp.headers()["x-served-by"], "ecs");
    let answer: serde_json::Value = resp.json().await.expect("json");
    assert_eq!(answer["status"], "success");
    assert!(answer["messageId"].as_str().is_some_and(|m| !m.is_empty()));
    assert_eq!(answer["md5OfBody"], backend::sqs::md5_hex(body.as_bytes()));
    assert!(
        answer["timestamp"]
            .as_str()
            .is_some_and(|t| t.starts_with("20"))
    );

    let got = drain_queue(&sqs, &url).await;
    assert_eq!(got.len(), 1, "{got:?}");
    assert_eq!(got[0].0, body, "body arrives byte for byte");
    assert_eq!(
        got[0].1.as_deref(),
        Some(trace),
        "the caller's trace header travels as AWSTraceHeader"
    );
}

#[tokio::test]
async fn sqs_down_is_a_502_and_nothing_is_lost_when_it_returns() {
    let mut moto = Moto::start();
    let port = moto.port;
    let sqs = sqs_client(&moto.endpoint()).await;
    let url = create_queue(&sqs, "jobs").await;
    let b = backend_with_queue(&moto, &url);

    moto.stop();
    let resp = http()
        .post(b.url("/dev/send-to-sqs"))
        .body(r#"{"n":"lost?"}"#)
        .send()
        .await
        .expect("POST while SQS is down");
    assert_eq!(resp.status(), 502);
    let err: serde_json::Value = resp.json().await.expect("json");
    assert_eq!(err["error"], "bad_gateway");
    assert!(
        err["message"]
            .as_str()
            .is_some_and(|m| m.contains("SQS send failed")),
        "{err}"
    );

    // SQS comes back (moto keeps nothing, so the queue is created again at
    // the same URL). Every message answered 200 afterwards is there, and the
    // one answered 502 was never accepted.
    let _moto = Moto::start_on(port);
    let sqs = sqs_client(&format!("http://127.0.0.1:{port}")).await;
    let url2 = create_queue(&sqs, "jobs").await;
    assert_eq!(url, url2);
    let mut accepted = BTreeSet::new();
    for i in 0..5 {
        let body = format!(r#"{{"n":{i}}}"#);
        let resp = http()
            .post(b.url("/dev/send-to-sqs"))
            .body(body.clone())
            .send()
            .await
            .expect("POST");
        assert_eq!(resp.status(), 200, "after recovery");
        accepted.insert(body);
    }
    let got: BTreeSet<String> = drain_queue(&sqs, &url)
        .await
        .into_iter()
        .map(|(b, _)| b)
        .collect();
    assert_eq!(got, accepted);
}

#[tokio::test]
async fn worker_deletes_what_it_processed_and_leaves_failures() {
    let moto = Moto::start();
    let sqs = sqs_client(&moto.endpoint()).await;
    let url = create_queue(&sqs, "work").await;
    let mut ok = BTreeSet::new();
    for i in 0..12 {
        let body = format!(r#"{{"job":{i}}}"#);
        sqs.send_message()
            .queue_url(&url)
            .message_body(&body)
            .send()
            .await
            .expect("send");
        ok.insert(body);
    }
    let poison = r#"{"job":"poison","fail":true}"#;
    sqs.send_message()
        .queue_url(&url)
        .message_body(poison)
        .send()
        .await
        .expect("send");

    let env = aws_env(&moto.endpoint());
    let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_backend"));
    cmd.arg("consume")
        .env_clear()
        .env("QUEUE_URL", &url)
        .env("WAIT_TIME_SECONDS", "1")
        .env("WORK_MS_PER_MESSAGE", "5")
        .env("MAX_MESSAGES", "12");
    for (k, v) in &env {
        cmd.env(k, v);
    }
    let out = tokio::task::spawn_blocking(move || cmd.output())
        .await
        .expect("join")
        .expect("run worker");
    let logs = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "worker failed: {logs}");
    let processed = logs
        .lines()
        .filter(|l| l.contains("\"message processed\""))
        .count();
    assert_eq!(processed, 12, "{logs}");
    assert!(logs.contains("leaving it for redrive"), "{logs}");

    // Visibility timeout is 1 s: what is left is exactly the poison message.
    tokio::time::sleep(Duration::from_millis(1200)).await;
    let left: Vec<String> = drain_queue(&sqs, &url)
        .await
        .into_iter()
        .map(|(b, _)| b)
        .collect();
    assert_eq!(left, vec![poison.to_owned()]);
}

#[tokio::test]
async fn worker_stops_on_sigterm() {
    let moto = Moto::start();
    let sqs = sqs_client(&moto.endpoint()).await;
    let url = create_queue(&sqs, "idle").await;
    let env = aws_env(&moto.endpoint());
    let mut all: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
    all.extend([
        ("QUEUE_URL", url.as_str()),
        ("WAIT_TIME_SECONDS", "20"),
        ("RUST_LOG", "info,backend::worker=debug"),
    ]);
    let mut b = support::spawn(&["consume"], &all);
    b.wait_for_log("worker started", Duration::from_secs(20));
    // In the 20 s long poll (the empty queue answers nothing sooner).
    b.wait_for_log("receiving", Duration::from_secs(20));
    b.signal(Signal::SIGTERM);
    let status = b
        .wait_exit(Duration::from_secs(5))
        .expect("worker exits promptly on SIGTERM, mid long-poll");
    assert!(status.success());
}

/// `X-Amzn-Trace-Id` reaches `AWSTraceHeader` only when it is a well-formed
/// X-Ray header; garbage and a 10 KB value are replaced by a fresh trace id.
#[tokio::test]
async fn only_a_well_formed_trace_header_travels() {
    let moto = Moto::start();
    let client = sqs_client(&moto.endpoint()).await;
    let url = create_queue(&client, "trace-hygiene").await;
    let b = backend_with_queue(&moto, &url);
    let good = "Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1";
    let long = format!(
        "Root=1-5759e988-bd862e3fe1be46a994272793;x={}",
        "a".repeat(10_000)
    );
    for (i, trace) in [good, "garbage; <script>", long.as_str()]
        .iter()
        .enumerate()
    {
        let resp = http()
            .post(b.url("/dev/send-to-sqs"))
            .header("x-amzn-trace-id", *trace)
            .json(&serde_json::json!({ "i": i }))
            .send()
            .await
            .expect("POST");
        assert_eq!(
            resp.status(),
            200,
            "{}",
            resp.text().await.unwrap_or_default()
        );
    }
    let mut seen = drain_queue(&client, &url).await;
    seen.sort();
    assert_eq!(seen.len(), 3, "{seen:?}");
    assert_eq!(seen[0].1.as_deref(), Some(good), "{seen:?}");
    for (body, trace) in &seen[1..] {
        let trace = trace.as_deref().expect("a trace header");
        assert!(backend::sqs::is_xray_header(trace), "{body}: {trace}");
        assert!(trace.len() < 100 && trace != good, "{body}: {trace}");
    }
}
