//! `verify scaling --ecs-cluster/--ecs-service` against a stand-in for ECS
//! and Application Auto Scaling: moto implements neither
//! `DescribeScalingActivities` nor ECS service events, so a tiny HTTP
//! server on a free 127.0.0.1 port answers the AWS JSON 1.1 protocol by
//! `X-Amz-Target` with canned JSON (timestamps as epoch seconds, as the real
//! API sends them), records each request, and is stopped when dropped.
//!
//! The run (as tests/scaling.rs): 20 rps, 100 rps from 60 s to 180 s, 20
//! rps to 300 s; the clients see ECS go 2 → 4 at 90 s and 4 → 2 at ~240 s.

mod common;

use std::io::{BufRead as _, BufReader, Read as _, Write as _};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;

use common::{json_output, verify, write};
use predicates::prelude::*;
use serde_json::{Value, json};
use weighbridge_report::synth::Scenario;

/// 2025-03-01T12:00:00Z, the synthetic run's start.
const T0: f64 = 1_740_830_400.0;

/// One request the stand-in received: `X-Amz-Target` and the JSON body.
type Seen = Arc<Mutex<Vec<(String, Value)>>>;

/// The stand-in AWS endpoint.
struct StandIn {
    addr: SocketAddr,
    stop: Arc<AtomicBool>,
    requests: Seen,
    thread: Option<JoinHandle<()>>,
}

impl StandIn {
    fn start() -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1:0");
        let addr = listener.local_addr().expect("local addr");
        let stop = Arc::new(AtomicBool::new(false));
        let requests: Seen = Arc::default();
        let thread = {
            let (stop, requests) = (stop.clone(), requests.clone());
            std::thread::spawn(move || {
                for conn in listener.incoming() {
                    if stop.load(Ordering::SeqCst) {
                        break;
                    }
                    if let Ok(stream) = conn {
                        serve(&stream, &requests);
                    }
                }
            })
        };
        StandIn {
            addr,
            stop,
            requests,
            thread: Some(thread),
        }
    }

    fn endpoint(&self) -> String {
        format!("http://{}", self.addr)
    }

    fn requests(&self) -> Vec<(String, Value)> {
        self.requests.lock().expect("lock").clone()
    }
}

impl Drop for StandIn {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        // Wake the accept loop so it sees the flag.
        let _ = TcpStream::connect(self.addr);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// Answers one request on `stream`, then closes it.
fn serve(stream: &TcpStream, requests: &Seen) {
    let _ = stream.set_read_timeout(Some(Duration::from_secs(10)));
    let mut reader = BufReader::new(stream);
    let (mut target, mut length) = (String::new(), 0usize);
    loop {
        let mut line = String::new();
        match reader.read_line(&mut line) {
            Ok(0) | Err(_) => return,
            Ok(_) => {}
        }
        let line = line.trim_end();
        if line.is_empty() {
            break;
        }
        if let Some((name, value)) = line.split_once(':') {
            match name.trim().to_ascii_lowercase().as_str() {
                "x-amz-target" => target = value.trim().to_owned(),
                "content-length" => length = value.trim().parse().unwrap_or(0),
                _ => {}
            }
        }
    }
    let mut body = vec![0u8; length];
    if reader.read_exact(&mut body).is_err() {
        return;
    }
    let body: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
    let (status, answer) = answer(&target, &body);
    requests.lock().expect("lock").push((target, body));
    let text = answer.to_string();
    let mut stream = stream;
    let _ = write!(
        stream,
        "HTTP/1.1 {status}\r\ncontent-type: application/x-amz-json-1.1\r\nx-amzn-requestid: stand-in\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{text}",
        text.len()
    );
    let _ = stream.flush();
}

fn service(name: &str) -> Value {
    json!({
        "serviceArn": format!("arn:aws:ecs:us-east-1:123456789012:service/main/{name}"),
        "serviceName": name,
        "clusterArn": "arn:aws:ecs:us-east-1:123456789012:cluster/main",
        "status": "ACTIVE",
        "desiredCount": 2,
        "runningCount": 2,
        "pendingCount": 0,
        "deployments": [{
            "id": "ecs-svc/1",
            "status": "PRIMARY",
            "desiredCount": 2,
            "runningCount": 2,
            "pendingCount": 0,
            "rolloutState": "COMPLETED"
        }],
        "events": [
            {"id": "e3", "createdAt": T0 + 250.0, "message": format!("(service {name}) has stopped 2 running tasks: (task c) (task d).")},
            {"id": "e2", "createdAt": T0 + 65.5, "message": format!("(service {name}) has started 2 tasks: (task c) (task d).")},
            {"id": "e1", "createdAt": T0 - 3600.0, "message": format!("(service {name}) has reached a steady state.")}
        ]
    })
}

fn activity(resource: &str, at: f64, to: u64, status: &str, message: &str) -> Value {
    json!({
        "ActivityId": format!("act-{at}"),
        "ServiceNamespace": "ecs",
        "ResourceId": resource,
        "ScalableDimension": "ecs:service:DesiredCount",
        "Description": format!("Setting desired count to {to}."),
        "Cause": "monitor alarm web-cpu-high in state ALARM triggered policy cpu-target",
        "StartTime": at,
        "EndTime": at + 20.0,
        "StatusCode": status,
        "StatusMessage": message
    })
}

/// The canned answer to one call.
fn answer(target: &str, body: &Value) -> (&'static str, Value) {
    match target {
        "AmazonEC2ContainerServiceV20141113.DescribeServices" => {
            let name = body["services"][0].as_str().unwrap_or_default();
            if name == "missing" {
                (
                    "200 OK",
                    json!({"services": [], "failures": [{
                        "arn": "arn:aws:ecs:us-east-1:123456789012:service/main/missing",
                        "reason": "MISSING"
                    }]}),
                )
            } else {
                (
                    "200 OK",
                    json!({"services": [service(name)], "failures": []}),
                )
            }
        }
        "AnyScaleFrontendService.DescribeScalingActivities" => {
            let resource = body["ResourceId"].as_str().unwrap_or_default();
            let ok = "Successfully set desired count. Change successfully fulfilled by ecs.";
            match (resource, body["NextToken"].as_str()) {
                // Newest first, over two pages.
                ("service/main/web", None) => (
                    "200 OK",
                    json!({
                        "ScalingActivities": [
                            activity(resource, T0 + 200.0, 2, "Successful", ok),
                            activity(resource, T0 + 60.25, 4, "Successful", ok),
                        ],
                        "NextToken": "page-2"
                    }),
                ),
                ("service/main/web", Some("page-2")) => (
                    "200 OK",
                    json!({"ScalingActivities": [
                        activity(resource, T0 - 600.0, 2, "Successful", ok),
                    ]}),
                ),
                ("service/main/flaky", None) => (
                    "200 OK",
                    json!({"ScalingActivities": [
                        activity(resource, T0 + 120.0, 8, "Failed",
                            "Failed to set desired count to 8. Reason: the service is draining"),
                        activity(resource, T0 + 60.0, 4, "Successful", ok),
                    ]}),
                ),
                _ => ("200 OK", json!({"ScalingActivities": []})),
            }
        }
        _ => (
            "400 Bad Request",
            json!({"__type": "UnknownOperationException", "message": target}),
        ),
    }
}

fn report_file(dir: &Path) -> PathBuf {
    let s = Scenario::scale_out_and_in("task-", 1);
    write(dir, "run.json", &s.report().expect("report"))
}

/// `verify scaling REPORT --ecs-cluster main --ecs-service SERVICE ...`
/// against `endpoint`, with fake credentials and region.
fn run(report: &Path, endpoint: &str, service: &str, extra: &[&str]) -> assert_cmd::Command {
    let mut cmd = verify();
    cmd.arg("scaling")
        .arg(report)
        .args([
            "--expect",
            "both",
            "--within",
            "1m",
            "--scale-in-within",
            "2m",
            "--ecs-cluster",
            "main",
            "--ecs-service",
            service,
        ])
        .args(extra);
    for (k, v) in weighbridge_testkit::aws_env(endpoint) {
        cmd.env(k, v);
    }
    cmd.env_remove("AWS_PROFILE")
        .env_remove("GITHUB_STEP_SUMMARY");
    cmd
}

fn check<'a>(v: &'a Value, name: &str) -> Vec<&'a Value> {
    v["checks"]
        .as_array()
        .expect("checks")
        .iter()
        .filter(|c| c["name"] == name)
        .collect()
}

#[test]
fn activities_over_two_pages_are_lined_up_with_the_clients() {
    let dir = tempfile::tempdir().expect("tmp");
    let report = report_file(dir.path());
    let aws = StandIn::start();
    let v = json_output(
        &mut run(&report, &aws.endpoint(), "web", &["--format", "json"]),
        0,
    );
    assert_eq!(v["verdict"], "PASS", "{}", v["reason"]);
    let a = &v["aws"];
    assert_eq!(
        (a["cluster"].as_str(), a["service"].as_str()),
        (Some("main"), Some("web"))
    );
    assert_eq!(a["target"], "ecs");
    assert_eq!(a["run_started_at"], "2025-03-01T12:00:00Z");
    assert_eq!(
        (
            a["desired"].as_u64(),
            a["running"].as_u64(),
            a["pending"].as_u64()
        ),
        (Some(2), Some(2), Some(0))
    );
    assert_eq!(a["clients_last_window"], 2);
    // The activity before the run is on page 2: counted, and the "from" of
    // the first activity of the run.
    assert_eq!(a["before_run"], 1);
    let acts = a["activities"].as_array().expect("activities");
    assert_eq!(acts.len(), 2, "{acts:?}");
    assert_eq!(acts[0]["at_s"], 60);
    assert_eq!(
        (acts[0]["from"].as_u64(), acts[0]["to"].as_u64()),
        (Some(2), Some(4))
    );
    assert_eq!(acts[0]["direction"], "up");
    assert_eq!(acts[0]["status"], "Successful");
    assert_eq!(acts[0]["seen_at_s"], 90);
    assert_eq!(acts[0]["lag_s"], 30);
    assert_eq!(acts[0]["description"], "Setting desired count to 4.");
    assert_eq!(acts[1]["at_s"], 200);
    assert_eq!(acts[1]["direction"], "down");
    let lag = acts[1]["lag_s"].as_u64().expect("scale-in seen");
    assert!((39..=41).contains(&lag), "{lag}");
    // ECS service events of the run only.
    let events = a["service_events"].as_array().expect("events");
    assert_eq!(events.len(), 2);
    assert_eq!(events[0]["at_s"], 65);
    assert_eq!(check(&v, "aws-activities")[0]["verdict"], "PASS");
    let seen = check(&v, "aws-seen-by-clients");
    assert_eq!(seen.len(), 2);
    assert!(seen.iter().all(|c| c["verdict"] == "PASS"), "{seen:?}");
    // What was asked: both services' calls, pagination by NextToken.
    let calls = aws.requests();
    let scaling: Vec<&Value> = calls
        .iter()
        .filter(|(t, _)| t == "AnyScaleFrontendService.DescribeScalingActivities")
        .map(|(_, b)| b)
        .collect();
    assert_eq!(scaling.len(), 2, "{calls:?}");
    assert_eq!(scaling[0]["ResourceId"], "service/main/web");
    assert_eq!(scaling[0]["ServiceNamespace"], "ecs");
    assert_eq!(scaling[0]["ScalableDimension"], "ecs:service:DesiredCount");
    assert!(scaling[0].get("NextToken").is_none());
    assert_eq!(scaling[1]["NextToken"], "page-2");
    assert!(calls.iter().any(
        |(t, b)| t == "AmazonEC2ContainerServiceV20141113.DescribeServices"
            && b["cluster"] == "main"
            && b["services"][0] == "web"
    ));

    // Text and the step summary show the same lining-up.
    let summary = dir.path().join("summary.md");
    run(&report, &aws.endpoint(), "web", &[])
        .env("GITHUB_STEP_SUMMARY", &summary)
        .assert()
        .code(0)
        .stdout(
            predicate::str::contains(
                "activity at 60 s: desired 2 → 4, Successful, seen by clients at 90 s, after 30 s",
            )
            .and(predicate::str::contains("aws-seen-by-clients"))
            .and(predicate::str::contains("ECS event at 65 s")),
        );
    let md = std::fs::read_to_string(&summary).expect("summary");
    assert!(
        md.contains("| 60 s | 2 → 4 | Successful | after 30 s |"),
        "{md}"
    );

    // The HTML page has the activities and draws the desired count.
    let html = dir.path().join("scaling.html");
    run(&report, &aws.endpoint(), "web", &[])
        .arg("--html")
        .arg(&html)
        .assert()
        .code(0);
    let page = std::fs::read_to_string(&html).expect("page");
    assert!(page.contains("What AWS did: main / web"));
    assert!(page.contains("<td>2 → 4</td>"), "the activity's row");
    assert!(page.contains("ecs desired count (Application Auto Scaling)"));
}

#[test]
fn a_failed_activity_fails_the_run() {
    let dir = tempfile::tempdir().expect("tmp");
    let report = report_file(dir.path());
    let aws = StandIn::start();
    let v = json_output(
        &mut run(&report, &aws.endpoint(), "flaky", &["--format", "json"]),
        1,
    );
    assert_eq!(v["verdict"], "FAIL");
    let act = check(&v, "aws-activities");
    assert_eq!(act[0]["verdict"], "FAIL");
    let detail = act[0]["detail"].as_str().expect("detail");
    assert!(
        detail.contains("Failed to set desired count to 8"),
        "{detail}"
    );
    assert_eq!(v["aws"]["activities"][1]["status"], "Failed");
    assert!(
        v["reason"]
            .as_str()
            .expect("reason")
            .contains("aws-activities")
    );
}

#[test]
fn an_unknown_service_is_invalid_input() {
    let dir = tempfile::tempdir().expect("tmp");
    let report = report_file(dir.path());
    let aws = StandIn::start();
    run(&report, &aws.endpoint(), "missing", &[])
        .assert()
        .code(65)
        .stdout(predicate::str::is_empty())
        .stderr(
            predicate::str::contains("\"missing\"")
                .and(predicate::str::contains("MISSING"))
                .and(predicate::str::contains("--ecs-service")),
        );
    // No scaling activities asked for a service that does not exist.
    assert!(
        aws.requests()
            .iter()
            .all(|(t, _)| t == "AmazonEC2ContainerServiceV20141113.DescribeServices")
    );
}

#[test]
fn an_unreachable_endpoint_exits_69() {
    let dir = tempfile::tempdir().expect("tmp");
    let report = report_file(dir.path());
    let aws = StandIn::start();
    let endpoint = aws.endpoint();
    drop(aws); // nothing listens there any more
    run(&report, &endpoint, "web", &[])
        .assert()
        .code(69)
        .stdout(predicate::str::is_empty())
        .stderr(
            predicate::str::contains("ECS: DescribeServices web in cluster main")
                .and(predicate::str::contains("AWS_ENDPOINT_URL")),
        );
}

#[test]
fn ecs_options_go_together() {
    let dir = tempfile::tempdir().expect("tmp");
    let report = report_file(dir.path());
    for args in [
        &["--ecs-cluster", "main"][..],
        &["--ecs-service", "web"][..],
        &["--ecs-target", "fargate"][..],
    ] {
        verify()
            .arg("scaling")
            .arg(&report)
            .args(args)
            .assert()
            .code(64)
            .stderr(predicate::str::contains("--ecs-"));
    }
    // Without them, no `aws` in the output.
    let v = json_output(
        verify()
            .arg("scaling")
            .arg(&report)
            .args(["--format", "json"]),
        0,
    );
    assert!(v.get("aws").is_none());
}
