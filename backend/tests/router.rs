//! Every route and every bad input, through the Router itself
//! (`tower::ServiceExt::oneshot`), no sockets.

use axum::body::Body;
use axum::http::{HeaderMap, Method, Request, StatusCode};
use backend::config::StressMode;
use backend::identity::EcsTask;
use backend::{AppState, Config, Identity, app};
use http_body_util::BodyExt;
use serde_json::Value;
use tower::ServiceExt;

fn state_with(config: Config) -> AppState {
    let identity = Identity::from_parts(&config, "ecs", None, None);
    AppState::new(config, identity, None)
}

fn dev_config() -> Config {
    let mut c = Config::defaults();
    c.base_path = "dev".into();
    c.instance_id = Some("ecs-test-1".into());
    c.backend_version = Some("9.9.9+abc".into());
    c
}

async fn call(
    state: &AppState,
    method: Method,
    uri: &str,
    body: Body,
    headers: &[(&str, &str)],
) -> (StatusCode, HeaderMap, Value) {
    let mut req = Request::builder().method(method).uri(uri);
    for (k, v) in headers {
        req = req.header(*k, *v);
    }
    let resp = app(state.clone())
        .oneshot(req.body(body).expect("request"))
        .await
        .expect("infallible");
    let status = resp.status();
    let headers = resp.headers().clone();
    let bytes = resp.into_body().collect().await.expect("body").to_bytes();
    let json: Value = serde_json::from_slice(&bytes).unwrap_or_else(|e| {
        panic!(
            "{uri}: body is not JSON ({e}): {}",
            String::from_utf8_lossy(&bytes)
        )
    });
    (status, headers, json)
}

async fn get(state: &AppState, uri: &str) -> (StatusCode, HeaderMap, Value) {
    call(state, Method::GET, uri, Body::empty(), &[]).await
}

fn assert_identity(headers: &HeaderMap, uri: &str) {
    assert_eq!(
        headers.get("x-served-by").map(|v| v.as_bytes()),
        Some(&b"ecs"[..]),
        "{uri}"
    );
    assert_eq!(
        headers.get("x-backend-host").map(|v| v.as_bytes()),
        Some(&b"ecs-test-1"[..]),
        "{uri}"
    );
    assert_eq!(
        headers.get("x-backend-version").map(|v| v.as_bytes()),
        Some(&b"9.9.9+abc"[..]),
        "{uri}"
    );
}

fn assert_error(body: &Value, kind: &str, uri: &str) {
    assert_eq!(body["error"], kind, "{uri}: {body}");
    assert!(
        body["message"].as_str().is_some_and(|m| !m.is_empty()),
        "{uri}: {body}"
    );
    assert_eq!(body["backend"], "ecs", "{uri}: {body}");
}

#[tokio::test]
async fn host_reports_identity_under_the_base_path() {
    let s = state_with(dev_config());
    let (status, headers, body) = get(&s, "/dev/host").await;
    assert_eq!(status, StatusCode::OK);
    assert_identity(&headers, "/dev/host");
    assert!(
        body["message"]
            .as_str()
            .is_some_and(|m| m.starts_with("Request handled by backend at 20")),
        "{body}"
    );
    assert_eq!(body["backend"], "ecs");
    assert_eq!(body["version"], "9.9.9+abc");
    assert_eq!(body["imageUri"], "local");
    assert!(body["hostname"].as_str().is_some_and(|h| !h.is_empty()));
    assert!(body.get("taskArn").is_none(), "no ECS metadata locally");
}

/// In an ECS task, `/host` adds what the task metadata said, inline.
#[tokio::test]
async fn host_on_ecs_names_the_task() {
    let config = dev_config();
    let task = EcsTask {
        task_arn: "arn:aws:ecs:eu-west-1:123456789012:task/wb/0123abcd".into(),
        cluster: "wb".into(),
        availability_zone: Some("eu-west-1a".into()),
    };
    let identity = Identity::from_parts(&config, "ecs", Some(task), None);
    let s = AppState::new(config, identity, None);
    let (status, _, body) = get(&s, "/dev/host").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        body["taskArn"],
        "arn:aws:ecs:eu-west-1:123456789012:task/wb/0123abcd"
    );
    assert_eq!(body["cluster"], "wb");
    assert_eq!(body["availabilityZone"], "eu-west-1a");
    assert_eq!(body["backend"], "ecs");
    assert!(body.get("functionName").is_none(), "{body}");
}

#[tokio::test]
async fn base_path_is_exact() {
    let s = state_with(dev_config());
    for uri in [
        "/host",
        "/dev",
        "/dev/health",
        "/devhost",
        "/dev/host/extra",
    ] {
        let (status, headers, body) = get(&s, uri).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{uri}");
        assert_identity(&headers, uri);
        assert_error(&body, "not_found", uri);
    }
}

#[tokio::test]
async fn empty_base_path_serves_at_the_root_never_double_slash() {
    for base in ["", "/"] {
        let mut c = dev_config();
        c.base_path = base.into();
        let s = state_with(c);
        let (status, _, body) = get(&s, "/host").await;
        assert_eq!(status, StatusCode::OK, "base {base:?}: {body}");
        let (status, _, _) = get(&s, "//host").await;
        assert_eq!(status, StatusCode::NOT_FOUND, "base {base:?}");
    }
}

#[tokio::test]
async fn health_is_outside_the_base_path_and_drains() {
    let s = state_with(dev_config());
    for uri in ["/health", "/ready", "/live"] {
        let (status, headers, _) = get(&s, uri).await;
        assert_eq!(status, StatusCode::OK, "{uri}");
        assert_identity(&headers, uri);
    }
    s.start_draining();
    for uri in ["/health", "/ready"] {
        let (status, _, body) = get(&s, uri).await;
        assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{uri}");
        assert_eq!(body["status"], "draining");
    }
    let (status, _, _) = get(&s, "/live").await;
    assert_eq!(status, StatusCode::OK, "liveness stays up while draining");
    let (status, _, _) = get(&s, "/dev/host").await;
    assert_eq!(
        status,
        StatusCode::OK,
        "requests are still served while draining"
    );
}

#[tokio::test]
async fn stress_cpu_validates_and_answers_at_once() {
    let s = state_with(dev_config());
    for uri in [
        "/dev/stress-cpu/0/1",
        "/dev/stress-cpu/101/1",
        "/dev/stress-cpu/abc/1",
        "/dev/stress-cpu/50/0",
        "/dev/stress-cpu/50/901",
        "/dev/stress-cpu/50/1.5",
        "/dev/stress-cpu/-5/1",
    ] {
        let (status, headers, body) = get(&s, uri).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{uri}: {body}");
        assert_identity(&headers, uri);
        assert_error(&body, "bad_request", uri);
    }
    let (status, _, body) = get(&s, "/dev/stress-cpu/1/1").await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["message"], "Simulating 1% CPU usage for 1 seconds");
    assert_eq!(body["host"], "ecs-test-1");
    assert_eq!(body["plan"]["percent"], 1);
    s.stress.stop();
}

#[tokio::test]
async fn stress_routes_can_be_switched_off_or_need_a_token() {
    let mut c = dev_config();
    c.stress_mode = StressMode::Off;
    let s = state_with(c);
    for uri in ["/dev/stress-cpu/10/1", "/dev/work/1"] {
        let (status, _, body) = get(&s, uri).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{uri}");
        assert_error(&body, "not_found", uri);
    }

    let mut c = dev_config();
    c.stress_mode = StressMode::Token;
    c.stress_token = Some("s3cret".into());
    let s = state_with(c);
    for auth in [
        None,
        Some("Bearer nope"),
        Some("s3cret"),
        Some("Bearer s3cre"),
    ] {
        let headers: Vec<(&str, &str)> = auth.iter().map(|a| ("authorization", *a)).collect();
        let (status, _, body) = call(&s, Method::GET, "/dev/work/1", Body::empty(), &headers).await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{auth:?}");
        assert_error(&body, "forbidden", "/dev/work/1");
    }
    let (status, _, body) = call(
        &s,
        Method::GET,
        "/dev/work/1",
        Body::empty(),
        &[("authorization", "Bearer s3cret")],
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
}

#[tokio::test]
async fn token_mode_without_token_is_a_config_error() {
    let mut c = dev_config();
    c.stress_mode = StressMode::Token;
    assert!(c.validate().is_err());
    c.stress_token = Some("t".into());
    assert!(c.validate().is_ok());
}

#[tokio::test]
async fn work_burns_and_is_capped() {
    let s = state_with(dev_config());
    let start = std::time::Instant::now();
    let (status, _, body) = get(&s, "/dev/work/30").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["worked_ms"], 30);
    assert!(start.elapsed() >= std::time::Duration::from_millis(30));
    for uri in ["/dev/work/10001", "/dev/work/x", "/dev/work/-1"] {
        let (status, _, body) = get(&s, uri).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{uri}");
        assert_error(&body, "bad_request", uri);
    }
}

#[tokio::test]
async fn send_to_sqs_rejects_bad_bodies_before_needing_a_queue() {
    let s = state_with(dev_config());
    let post = |body: Vec<u8>| {
        let s = s.clone();
        async move {
            call(
                &s,
                Method::POST,
                "/dev/send-to-sqs",
                Body::from(body),
                &[("content-type", "application/json")],
            )
            .await
        }
    };
    for bad in [
        &b"not json"[..],
        b"[1,2]",
        b"\"text\"",
        b"42",
        b"",
        b"{\"a\":",
    ] {
        let (status, headers, body) = post(bad.to_vec()).await;
        assert_eq!(
            status,
            StatusCode::BAD_REQUEST,
            "{:?}: {body}",
            String::from_utf8_lossy(bad)
        );
        assert_identity(&headers, "/dev/send-to-sqs");
        assert_error(&body, "bad_request", "/dev/send-to-sqs");
    }
    let big = format!("{{\"pad\":\"{}\"}}", "x".repeat(256 * 1024));
    let (status, _, body) = post(big.into_bytes()).await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE, "{body}");
    assert_error(&body, "payload_too_large", "/dev/send-to-sqs");

    let (status, _, body) = post(br#"{"order": 1}"#.to_vec()).await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{body}");
    assert_error(&body, "unavailable", "/dev/send-to-sqs");
    assert!(
        body["message"]
            .as_str()
            .is_some_and(|m| m.contains("QUEUE_URL"))
    );

    let (status, _, body) = get(&s, "/dev/send-to-sqs").await;
    assert_eq!(status, StatusCode::METHOD_NOT_ALLOWED);
    assert_error(&body, "method_not_allowed", "/dev/send-to-sqs");
}

#[tokio::test]
async fn path_rule_samples_name_their_backend() {
    let s = state_with(dev_config());
    let (status, headers, body) = get(&s, "/dev/small-woodland-creature").await;
    assert_eq!(status, StatusCode::OK);
    assert_identity(&headers, "creature");
    assert!(body["creature"].as_str().is_some_and(|c| !c.is_empty()));
    assert_eq!(body["backend"], "ecs");
    let (status, _, body) = get(&s, "/dev/ice-cream-flavor").await;
    assert_eq!(status, StatusCode::OK);
    assert!(body["flavor"].as_str().is_some_and(|c| !c.is_empty()));
    assert_eq!(body["backend"], "ecs");
}

#[tokio::test]
async fn status_and_delay_faults() {
    let s = state_with(dev_config());
    for code in [200u16, 201, 418, 500, 503, 599] {
        let uri = format!("/dev/status/{code}");
        let (status, headers, body) = get(&s, &uri).await;
        assert_eq!(status.as_u16(), code, "{uri}");
        assert_identity(&headers, &uri);
        assert_eq!(body["backend"], "ecs");
    }
    for uri in [
        "/dev/status/99",
        "/dev/status/600",
        "/dev/status/abc",
        "/dev/delay/30001",
        "/dev/delay/soon",
    ] {
        let (status, _, body) = get(&s, uri).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{uri}");
        assert_error(&body, "bad_request", uri);
    }
    let start = std::time::Instant::now();
    let (status, _, body) = get(&s, "/dev/delay/50").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["delayed_ms"], 50);
    assert!(start.elapsed() >= std::time::Duration::from_millis(50));
}

#[tokio::test]
async fn fault_rate_fails_routes_but_not_health() {
    let mut c = dev_config();
    c.fault_rate = 1.0;
    let s = state_with(c);
    for uri in ["/dev/host", "/dev/ice-cream-flavor", "/dev/status/200"] {
        let (status, headers, body) = get(&s, uri).await;
        assert_eq!(status, StatusCode::INTERNAL_SERVER_ERROR, "{uri}");
        assert_identity(&headers, uri);
        assert_error(&body, "injected_fault", uri);
    }
    let (status, _, _) = get(&s, "/health").await;
    assert_eq!(status, StatusCode::OK);

    // A share: with rate 0.3 and a fixed number of calls, both outcomes occur
    // (the chance that 200 calls are all one outcome is below 1e-30).
    let mut c = dev_config();
    c.fault_rate = 0.3;
    let s = state_with(c);
    let mut failed = 0;
    for _ in 0..200 {
        if get(&s, "/dev/host").await.0 == StatusCode::INTERNAL_SERVER_ERROR {
            failed += 1;
        }
    }
    // Binomial(200, 0.3): mean 60, sd 6.5; 25..=95 is beyond 5 sd each side.
    assert!(
        (25..=95).contains(&failed),
        "{failed} of 200 failed at rate 0.3"
    );
}

#[tokio::test]
async fn label_and_version_come_from_config() {
    let mut c = dev_config();
    c.label = Some("canary".into());
    let s = state_with(c);
    let (_, headers, body) = get(&s, "/dev/host").await;
    assert_eq!(
        headers.get("x-served-by").map(|v| v.as_bytes()),
        Some(&b"canary"[..])
    );
    assert_eq!(body["backend"], "canary");
}
