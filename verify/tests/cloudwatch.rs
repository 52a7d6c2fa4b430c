//! `verify split --cloudwatch` against a real CloudWatch API: `moto_server`
//! on a free 127.0.0.1 port, stopped by its PID. `MOTO_SERVER` names the
//! executable; otherwise `moto_server` from PATH (`.ci/run` installs it in a
//! venv). The test fails with a clear message when it is missing.

mod common;

use aws_sdk_cloudwatch::primitives::DateTime;
use aws_sdk_cloudwatch::types::{Dimension, MetricDatum, StandardUnit};
use common::{json_output, verify};
use predicates::prelude::*;
use weighbridge_testkit::Moto;

const LB: &str = "app/weighbridge/0123456789abcdef";
const TG_ECS: &str = "targetgroup/weighbridge-ecs/1111111111111111";
const TG_LAMBDA: &str = "targetgroup/weighbridge-fn/2222222222222222";
/// 2025-03-01T12:00:00Z
const T0: i64 = 1_740_830_400;

fn env(moto: &Moto) -> Vec<(&'static str, String)> {
    weighbridge_testkit::aws_env(&moto.endpoint())
}

#[test]
fn split_from_cloudwatch_request_counts() {
    let moto = Moto::start();
    put(&moto, &[(TG_ECS, 1_000.0), (TG_LAMBDA, 9_000.0)]);
    let tgs = format!("ecs={TG_ECS},lambda={TG_LAMBDA}");
    let run = |weights: &str| {
        let mut cmd = verify();
        cmd.args([
            "split",
            "--cloudwatch",
            "--target-group",
            &tgs,
            "--load-balancer",
            LB,
            "--start",
            "2025-03-01T12:00:00Z",
            "--end",
            "2025-03-01T12:10:00Z",
            "--weights",
            weights,
            "--format",
            "json",
        ]);
        for (k, v) in env(&moto) {
            cmd.env(k, v);
        }
        cmd.env_remove("AWS_PROFILE");
        cmd
    };
    // 10 000 vs 90 000 over 10 minutes at weights 10/90: PASS.
    let v = json_output(&mut run("ecs=10,lambda=90"), 0);
    assert_eq!(v["source"], "cloudwatch");
    assert_eq!(v["total"], 100_000);
    assert_eq!(v["targets"][0]["observed"], 10_000);
    assert_eq!(v["windows"]["from"], "cloudwatch");
    assert_eq!(v["windows"]["window_s"], 60);
    assert_eq!(v["windows"]["test"]["rows"], 10);
    // The same traffic judged against 20/80: FAIL.
    run("ecs=20,lambda=80").assert().code(1);
    // A target group for a positive-weight target missing: input error.
    let mut cmd = verify();
    cmd.args([
        "split",
        "--cloudwatch",
        "--target-group",
        &format!("ecs={TG_ECS}"),
        "--load-balancer",
        LB,
        "--start",
        "2025-03-01T12:00:00Z",
        "--end",
        "2025-03-01T12:10:00Z",
        "--weights",
        "ecs=10,lambda=90",
    ]);
    cmd.assert()
        .code(65)
        .stderr(predicate::str::contains("lambda"));
    // CloudWatch unreachable (moto stopped): its own exit code, never a verdict.
    let mut cmd = run("ecs=10,lambda=90");
    drop(moto);
    cmd.assert()
        .code(69)
        .stderr(predicate::str::contains("CloudWatch"));
}

/// Puts `per_minute` requests per minute for each target group over ten
/// minutes from T0, as the ALB would report them. The test's own client is
/// configured explicitly (setting process environment variables is unsafe
/// in edition 2024, and the workspace forbids unsafe code); the verify
/// binary gets the standard variables.
fn put(moto: &Moto, per_minute: &[(&str, f64)]) {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    rt.block_on(async {
        let config = aws_config::defaults(aws_config::BehaviorVersion::latest())
            .endpoint_url(moto.endpoint())
            .region(aws_config::Region::new("us-east-1"))
            .credentials_provider(aws_sdk_cloudwatch::config::Credentials::new(
                "testing", "testing", None, None, "test",
            ))
            .load()
            .await;
        let client = aws_sdk_cloudwatch::Client::new(&config);
        for minute in 0..10 {
            let mut req = client.put_metric_data().namespace("AWS/ApplicationELB");
            for (tg, n) in per_minute {
                req = req.metric_data(
                    MetricDatum::builder()
                        .metric_name("RequestCount")
                        .dimensions(Dimension::builder().name("TargetGroup").value(*tg).build())
                        .dimensions(Dimension::builder().name("LoadBalancer").value(LB).build())
                        .timestamp(DateTime::from_secs(T0 + 60 * minute + 30))
                        .unit(StandardUnit::Count)
                        .value(*n)
                        .build(),
                );
            }
            req.send().await.expect("put_metric_data");
        }
    });
}
