//! Event fixtures (written from AWS's documented formats) through the path a
//! real invocation takes: the JSON is deserialised into `lambda_http`'s event
//! type as the runtime does, handed with a `Context` to `lambda_http`'s
//! adapter around this crate's service, and the adapter's answer is
//! serialised back into the JSON Lambda would return to the caller.

use backend::config::StressMode;
use backend::identity::LambdaFunction;
use backend::{AppState, Config, Identity};
use lambda_http::lambda_runtime::{Context, LambdaEvent};
use lambda_http::request::LambdaRequest;
use lambda_http::{Adapter, Service};
use serde_json::Value;
use tower::ServiceExt;

const ALB: &str = include_str!("fixtures/alb.json");
const ALB_MULTI_VALUE: &str = include_str!("fixtures/alb_multi_value.json");
const ALB_HEALTH_CHECK: &str = include_str!("fixtures/alb_health_check.json");
const REST_V1: &str = include_str!("fixtures/apigw_rest_v1.json");
const REST_V1_POST: &str = include_str!("fixtures/apigw_rest_v1_post.json");
const HTTP_V2: &str = include_str!("fixtures/apigw_http_v2.json");
const HTTP_V2_STAGE: &str = include_str!("fixtures/apigw_http_v2_stage.json");
const FUNCTION_URL: &str = include_str!("fixtures/function_url.json");

const LOG_STREAM: &str = "2026/11/23/[$LATEST]0123456789abcdef0123456789abcdef";

fn config(base_path: &str) -> Config {
    Config {
        base_path: base_path.to_owned(),
        ..Config::defaults()
    }
}

/// The state the cold start would build in Lambda, with a known log stream.
fn state(config: Config) -> AppState {
    let function = LambdaFunction {
        function_name: "weighbridge-backend".to_owned(),
        function_version: "$LATEST".to_owned(),
        memory_mb: Some(256),
        log_stream: LOG_STREAM.to_owned(),
    };
    let identity = Identity::from_parts(
        &config,
        lambda::startup::DEFAULT_LABEL,
        None,
        Some(function),
    );
    AppState::new(config, identity, None)
}

/// What Lambda returns to the caller for one event.
#[derive(Debug)]
struct Answer {
    json: Value,
}

impl Answer {
    fn status(&self) -> u64 {
        self.json["statusCode"].as_u64().expect("statusCode")
    }

    /// A response header, from `headers` or else `multiValueHeaders`.
    fn header(&self, name: &str) -> Option<String> {
        self.json["headers"][name]
            .as_str()
            .or_else(|| self.json["multiValueHeaders"][name][0].as_str())
            .map(str::to_owned)
    }

    fn body(&self) -> Value {
        assert_eq!(self.json["isBase64Encoded"], false, "{}", self.json);
        let text = self.json["body"].as_str().expect("a text body");
        serde_json::from_str(text).expect("a JSON body")
    }
}

async fn invoke(config: Config, event: &str) -> Answer {
    invoke_value(
        config,
        serde_json::from_str(event).expect("fixture is JSON"),
    )
    .await
}

async fn invoke_value(config: Config, event: Value) -> Answer {
    // As the runtime does: the payload into lambda_http's event type.
    let payload: LambdaRequest = serde_json::from_value(event).expect("an HTTP event");
    // `Context` is non-exhaustive: set the fields an invocation carries.
    let mut context = Context::default();
    context.request_id = "8476a536-e9f4-11e8-9739-2dfe598c3fcd".to_owned();
    context.xray_trace_id = Some(
        "Root=1-6740a5c8-3f1b2c4d5e6f708192a3b4d0;Parent=53995c3f42cd8ad8;Sampled=1".to_owned(),
    );
    let mut adapter = Adapter::from(lambda::service::http_service(state(config)));
    let response = adapter
        .ready()
        .await
        .expect("ready")
        .call(LambdaEvent::new(payload, context))
        .await
        .expect("the router never fails");
    Answer {
        json: serde_json::to_value(response).expect("serialisable"),
    }
}

fn edit(event: &str, f: impl FnOnce(&mut Value)) -> Value {
    let mut v: Value = serde_json::from_str(event).expect("fixture is JSON");
    f(&mut v);
    v
}

fn assert_identity(a: &Answer) {
    assert_eq!(
        a.header("x-served-by").as_deref(),
        Some("lambda"),
        "{}",
        a.json
    );
    assert_eq!(a.header("x-backend-host").as_deref(), Some(LOG_STREAM));
    assert!(a.header("x-backend-version").is_some());
}

#[tokio::test]
async fn alb_event_serves_host_with_the_lambda_identity() {
    let a = invoke(config("dev"), ALB).await;
    assert_eq!(a.status(), 200, "{}", a.json);
    assert_eq!(a.json["statusDescription"], "200 OK");
    assert_identity(&a);
    // Both shapes, so single- and multi-value target groups both work.
    assert_eq!(a.json["multiValueHeaders"]["x-served-by"][0], "lambda");
    let body = a.body();
    assert_eq!(body["backend"], "lambda");
    assert_eq!(body["instance"], LOG_STREAM);
    assert_eq!(body["logStream"], LOG_STREAM);
    assert_eq!(body["functionName"], "weighbridge-backend");
    assert_eq!(body["functionVersion"], "$LATEST");
    assert_eq!(body["memoryMb"], 256);
}

#[tokio::test]
async fn alb_multi_value_headers_reach_the_router() {
    let guarded = || Config {
        stress_mode: StressMode::Token,
        stress_token: Some("fixture-token".to_owned()),
        ..config("dev")
    };
    // The bearer token arrives only in `multiValueHeaders`.
    let a = invoke(guarded(), ALB_MULTI_VALUE).await;
    assert_eq!(a.status(), 200, "{}", a.json);
    assert_identity(&a);
    assert_eq!(
        a.json["multiValueHeaders"]["x-served-by"],
        serde_json::json!(["lambda"])
    );

    let without = edit(ALB_MULTI_VALUE, |v| {
        v["multiValueHeaders"]
            .as_object_mut()
            .expect("headers")
            .remove("authorization");
    });
    let a = invoke_value(guarded(), without).await;
    assert_eq!(a.status(), 403);
    assert_eq!(a.body()["error"], "forbidden");
    assert_identity(&a);
}

#[tokio::test]
async fn alb_health_check_is_outside_the_base_path() {
    let a = invoke(config("dev"), ALB_HEALTH_CHECK).await;
    assert_eq!(a.status(), 200, "{}", a.json);
    assert_identity(&a);
}

#[tokio::test]
async fn alb_path_outside_the_base_path_is_a_json_404() {
    let event = edit(ALB, |v| v["path"] = "/host".into());
    let a = invoke_value(config("dev"), event).await;
    assert_eq!(a.status(), 404);
    assert_identity(&a);
    assert_eq!(
        a.header("content-type").as_deref(),
        Some("application/json")
    );
    let body = a.body();
    assert_eq!(body["error"], "not_found");
    assert_eq!(body["backend"], "lambda");

    // And with no base path, `/host` is served (never `//host`).
    let event = edit(ALB, |v| v["path"] = "/host".into());
    assert_eq!(invoke_value(config(""), event).await.status(), 200);
}

#[tokio::test]
async fn rest_api_stage_is_the_base_path() {
    // `path` is `/host`; the stage `dev` goes in front of it.
    let a = invoke(config("dev"), REST_V1).await;
    assert_eq!(a.status(), 200, "{}", a.json);
    assert_identity(&a);
    // REST APIs get headers in `multiValueHeaders` only (API Gateway merges
    // the two fields, so filling both would double every header).
    assert_eq!(a.json["headers"], serde_json::json!({}));
    assert_eq!(a.json["multiValueHeaders"]["x-served-by"][0], "lambda");
    assert_eq!(a.body()["backend"], "lambda");
}

#[tokio::test]
async fn rest_api_stage_goes_in_front_even_when_the_path_starts_with_it() {
    // The client called `/dev/dev/host`: that is not `/dev/host`.
    let event = edit(REST_V1, |v| v["path"] = "/dev/host".into());
    let a = invoke_value(config("dev"), event).await;
    assert_eq!(a.status(), 404, "{}", a.json);
    let message = a.body()["message"].as_str().expect("message").to_owned();
    assert!(message.ends_with("/dev/dev/host"), "{message}");

    // Without a base path, a stage-`dev` API has nothing under `/dev`.
    let a = invoke(config(""), REST_V1).await;
    assert_eq!(a.status(), 404);
}

#[tokio::test]
async fn rest_api_post_without_a_queue_is_a_json_503() {
    let a = invoke(config("dev"), REST_V1_POST).await;
    assert_eq!(a.status(), 503, "{}", a.json);
    assert_identity(&a);
    let body = a.body();
    assert_eq!(body["error"], "unavailable");
    assert_eq!(body["backend"], "lambda");
    assert!(
        body["message"]
            .as_str()
            .expect("message")
            .contains("QUEUE_URL")
    );
}

#[tokio::test]
async fn rest_api_bad_body_is_a_json_400() {
    for bad in ["[1, 2]", "not json"] {
        let event = edit(REST_V1_POST, |v| v["body"] = bad.into());
        let a = invoke_value(config("dev"), event).await;
        assert_eq!(a.status(), 400, "{bad}: {}", a.json);
        assert_identity(&a);
        assert_eq!(a.body()["error"], "bad_request");
    }
}

#[tokio::test]
async fn http_api_default_stage_uses_the_raw_path() {
    let a = invoke(config("dev"), HTTP_V2).await;
    assert_eq!(a.status(), 200, "{}", a.json);
    assert_identity(&a);
    // Payload 2.0 has one `headers` field; no multi-value headers.
    assert_eq!(a.json["headers"]["x-served-by"], "lambda");
    assert!(
        a.json["multiValueHeaders"]
            .as_object()
            .is_none_or(serde_json::Map::is_empty)
    );
}

#[tokio::test]
async fn http_api_named_stage_is_in_the_raw_path_once() {
    let a = invoke(config("dev"), HTTP_V2_STAGE).await;
    assert_eq!(a.status(), 200, "{}", a.json);
    assert_identity(&a);
    assert_eq!(a.body()["logStream"], LOG_STREAM);

    // `/dev` alone stays `/dev` (not `/dev/dev`): a 404 naming `/dev`.
    let event = edit(HTTP_V2_STAGE, |v| v["rawPath"] = "/dev".into());
    let a = invoke_value(config("dev"), event).await;
    assert_eq!(a.status(), 404);
    assert_eq!(a.body()["message"], "no route for /dev");
}

#[tokio::test]
async fn function_url_base64_post_reaches_send_to_sqs() {
    // The body is base64 in the event; decoded, it is a valid JSON object,
    // so the only thing missing is the queue.
    let a = invoke(config("dev"), FUNCTION_URL).await;
    assert_eq!(a.status(), 503, "{}", a.json);
    assert_identity(&a);
    assert_eq!(a.body()["error"], "unavailable");

    // `[1]`, base64-encoded: valid JSON, not an object.
    let event = edit(FUNCTION_URL, |v| v["body"] = "WzFd".into());
    let a = invoke_value(config("dev"), event).await;
    assert_eq!(a.status(), 400, "{}", a.json);
    assert!(
        a.body()["message"]
            .as_str()
            .expect("message")
            .contains("an array")
    );
}

#[tokio::test]
async fn backend_label_overrides_the_default() {
    let config = Config {
        label: Some("canary".to_owned()),
        ..config("dev")
    };
    let a = invoke(config, ALB).await;
    assert_eq!(a.header("x-served-by").as_deref(), Some("canary"));
    assert_eq!(a.body()["backend"], "canary");
}

#[tokio::test]
async fn cold_start_defaults_the_label_to_lambda() {
    let state = lambda::startup::build_state(Config::defaults())
        .await
        .expect("valid defaults");
    assert_eq!(state.identity.label, "lambda");
    assert!(!state.identity.instance.is_empty());

    let bad = Config {
        stress_mode: StressMode::Token,
        ..Config::defaults()
    };
    let err = lambda::startup::build_state(bad)
        .await
        .expect_err("no token");
    assert!(err.to_string().contains("STRESS_TOKEN"), "{err}");
}
