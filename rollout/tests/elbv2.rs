//! The ELBv2 weight driver against moto_server (started on a free loopback
//! port for each test, stopped by PID when the test ends): a VPC with two
//! subnets, an ALB, an HTTP listener, target groups `ecs`, `lambda` and a
//! third one no label maps, a path rule, and the weighted rule as Terraform
//! builds it (path patterns, forward to both groups, stickiness on for an
//! hour). Without moto_server the tests fail and say how to install it, as
//! every moto test of the workspace does.

use std::io::{Read as _, Write as _};
use std::net::TcpStream;

use aws_sdk_elasticloadbalancingv2 as elbv2;
use elbv2::types::{
    Action, ActionTypeEnum, FixedResponseActionConfig, ForwardActionConfig, Rule, RuleCondition,
    TargetGroupStickinessConfig, TargetGroupTuple,
};
use rollout::elbv2::{Elbv2Error, ListenerRule, load_balancer_dimension, target_group_dimension};
use weighbridge_testkit::Moto;

/// What a test bed holds.
struct Bed {
    _moto: Moto,
    client: elbv2::Client,
    ecs: String,
    lambda: String,
    /// A target group of the load balancer that the weighted rule does not use.
    other: String,
    lb_arn: String,
    listener: String,
    /// The weighted rule: forward to ecs=10, lambda=90, sticky for 3600 s.
    weighted: String,
    /// A path rule (forward to ecs only), to check it is left alone.
    path_rule: String,
}

impl Bed {
    async fn start() -> Self {
        let moto = tokio::task::spawn_blocking(Moto::start)
            .await
            .expect("moto_server start");
        let endpoint = moto.endpoint();
        let vpc = ec2(
            &endpoint,
            &[("Action", "CreateVpc"), ("CidrBlock", "10.20.0.0/16")],
            "vpcId",
        );
        let subnets: Vec<String> = [
            ("10.20.1.0/24", "us-east-1a"),
            ("10.20.2.0/24", "us-east-1b"),
        ]
        .iter()
        .map(|(cidr, az)| {
            ec2(
                &endpoint,
                &[
                    ("Action", "CreateSubnet"),
                    ("VpcId", &vpc),
                    ("CidrBlock", cidr),
                    ("AvailabilityZone", az),
                ],
                "subnetId",
            )
        })
        .collect();
        let creds = elbv2::config::Credentials::new("local", "local", None, None, "test");
        let conf = elbv2::Config::builder()
            .behavior_version(elbv2::config::BehaviorVersion::latest())
            .region(elbv2::config::Region::new("us-east-1"))
            .endpoint_url(&endpoint)
            .credentials_provider(creds)
            .build();
        let client = elbv2::Client::from_conf(conf);

        let lb = client
            .create_load_balancer()
            .name("weighbridge-test")
            .set_subnets(Some(subnets))
            .send()
            .await
            .expect("CreateLoadBalancer");
        let lb_arn = lb.load_balancers()[0]
            .load_balancer_arn()
            .expect("ALB ARN")
            .to_owned();
        let mut tgs = Vec::new();
        for name in ["wb-ecs", "wb-lambda", "wb-other"] {
            let tg = client
                .create_target_group()
                .name(name)
                .protocol(elbv2::types::ProtocolEnum::Http)
                .port(8080)
                .vpc_id(&vpc)
                .target_type(elbv2::types::TargetTypeEnum::Ip)
                .send()
                .await
                .expect("CreateTargetGroup");
            tgs.push(
                tg.target_groups()[0]
                    .target_group_arn()
                    .expect("TG ARN")
                    .to_owned(),
            );
        }
        let [ecs, lambda, other] = <[String; 3]>::try_from(tgs).expect("three target groups");
        let listener = client
            .create_listener()
            .load_balancer_arn(&lb_arn)
            .protocol(elbv2::types::ProtocolEnum::Http)
            .port(80)
            .default_actions(fixed_404())
            .send()
            .await
            .expect("CreateListener")
            .listeners()[0]
            .listener_arn()
            .expect("listener ARN")
            .to_owned();

        let path_rule = create_rule(
            &client,
            &listener,
            1,
            &["/ice-cream-flavor", "/ice-cream-flavor/*"],
            vec![forward(&[(&ecs, 1)], None)],
        )
        .await;
        let weighted = create_rule(
            &client,
            &listener,
            50000,
            &["/", "/*"],
            vec![forward(&[(&ecs, 10), (&lambda, 90)], Some((true, 3600)))],
        )
        .await;
        Self {
            _moto: moto,
            client,
            ecs,
            lambda,
            other,
            lb_arn,
            listener,
            weighted,
            path_rule,
        }
    }

    /// The labels as the CLI passes them.
    fn labels(&self) -> Vec<(String, String)> {
        vec![
            ("ecs".to_owned(), self.ecs.clone()),
            ("lambda".to_owned(), self.lambda.clone()),
        ]
    }

    async fn rule(&self, arn: &str) -> Rule {
        self.client
            .describe_rules()
            .rule_arns(arn)
            .send()
            .await
            .expect("DescribeRules")
            .rules()[0]
            .clone()
    }

    /// Every rule of the listener, as read: what must not change when a
    /// driver call is refused.
    async fn all_rules(&self) -> Vec<Rule> {
        self.client
            .describe_rules()
            .listener_arn(&self.listener)
            .send()
            .await
            .expect("DescribeRules")
            .rules()
            .to_vec()
    }
}

/// One EC2 query call to moto, unsigned but with an Authorization header
/// that names the service (how moto_server picks the backend), and the text
/// of the first `<tag>` of the reply.
fn ec2(endpoint: &str, params: &[(&str, &str)], tag: &str) -> String {
    let body: String = params
        .iter()
        .chain(&[("Version", "2016-11-15")])
        .map(|(k, v)| format!("{k}={}", encode(v)))
        .collect::<Vec<_>>()
        .join("&");
    let host = endpoint.trim_start_matches("http://");
    let mut stream = TcpStream::connect(host).expect("connect to moto_server");
    write!(
        stream,
        "POST / HTTP/1.1\r\nHost: {host}\r\nContent-Type: application/x-www-form-urlencoded\r\n\
         Authorization: AWS4-HMAC-SHA256 Credential=local/20250101/us-east-1/ec2/aws4_request, SignedHeaders=host, Signature=0\r\n\
         Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )
    .expect("send EC2 request");
    let mut reply = String::new();
    stream.read_to_string(&mut reply).expect("read EC2 reply");
    assert!(reply.starts_with("HTTP/1.1 200"), "EC2 {params:?}: {reply}");
    let open = format!("<{tag}>");
    let start = reply
        .find(&open)
        .unwrap_or_else(|| panic!("no {open} in {reply}"))
        + open.len();
    let len = reply[start..].find('<').expect("closing tag");
    reply[start..start + len].to_owned()
}

fn encode(value: &str) -> String {
    value
        .bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

fn fixed_404() -> Action {
    Action::builder()
        .r#type(ActionTypeEnum::FixedResponse)
        .fixed_response_config(
            FixedResponseActionConfig::builder()
                .status_code("404")
                .content_type("text/plain")
                .message_body("no route")
                .build(),
        )
        .build()
}

fn forward(groups: &[(&str, i32)], stickiness: Option<(bool, i32)>) -> Action {
    let mut config = ForwardActionConfig::builder();
    for (arn, weight) in groups {
        config = config.target_groups(
            TargetGroupTuple::builder()
                .target_group_arn(*arn)
                .weight(*weight)
                .build(),
        );
    }
    if let Some((enabled, duration)) = stickiness {
        config = config.target_group_stickiness_config(
            TargetGroupStickinessConfig::builder()
                .enabled(enabled)
                .duration_seconds(duration)
                .build(),
        );
    }
    Action::builder()
        .r#type(ActionTypeEnum::Forward)
        .forward_config(config.build())
        .build()
}

async fn create_rule(
    client: &elbv2::Client,
    listener: &str,
    priority: i32,
    paths: &[&str],
    actions: Vec<Action>,
) -> String {
    let condition = RuleCondition::builder()
        .field("path-pattern")
        .path_pattern_config(
            elbv2::types::PathPatternConditionConfig::builder()
                .set_values(Some(paths.iter().map(|p| (*p).to_owned()).collect()))
                .build(),
        )
        .build();
    client
        .create_rule()
        .listener_arn(listener)
        .priority(priority)
        .conditions(condition)
        .set_actions(Some(actions))
        .send()
        .await
        .expect("CreateRule")
        .rules()[0]
        .rule_arn()
        .expect("rule ARN")
        .to_owned()
}

fn weights(pairs: &[(&str, u32)]) -> Vec<(String, u32)> {
    pairs.iter().map(|(l, w)| ((*l).to_owned(), *w)).collect()
}

/// The path patterns of a rule's conditions.
fn paths(rule: &Rule) -> Vec<Vec<String>> {
    rule.conditions()
        .iter()
        .map(|c| {
            c.path_pattern_config()
                .map(|p| p.values().to_vec())
                .or_else(|| c.values.clone())
                .unwrap_or_default()
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn weights_are_set_and_read_back_with_stickiness_and_conditions_kept() {
    let bed = Bed::start().await;
    let before = bed.rule(&bed.weighted).await;
    let path_rule_before = bed.rule(&bed.path_rule).await;
    assert_eq!(
        paths(&before),
        vec![vec!["/".to_owned(), "/*".to_owned()]],
        "{before:?}"
    );

    let rule = ListenerRule::connect(bed.client.clone(), &bed.weighted, &bed.labels())
        .await
        .expect("connect");
    assert_eq!(
        rule.weights().await.expect("weights"),
        weights(&[("ecs", 10), ("lambda", 90)])
    );
    assert_eq!(
        rule.stickiness().await.expect("stickiness"),
        Some((true, 3600))
    );
    let described = rule.describe();
    assert!(
        described.starts_with(&format!(
            "listener rule {} (ecs → targetgroup/wb-ecs/",
            bed.weighted
        )),
        "{described}"
    );
    assert!(
        described.contains(", lambda → targetgroup/wb-lambda/") && described.ends_with(')'),
        "{described}"
    );

    // What CloudWatch's ALB metrics are keyed by, from the ARNs moto hands out.
    let lb_suffix = bed.lb_arn.split_once(":loadbalancer/").expect("ALB ARN").1;
    assert_eq!(
        load_balancer_dimension(&bed.weighted).as_deref(),
        Some(lb_suffix)
    );
    let tg_suffix = bed.ecs.rsplit_once(':').expect("TG ARN").1;
    assert_eq!(target_group_dimension(&bed.ecs).as_deref(), Some(tg_suffix));

    // The schedule's steps, given in either label order; 0 and 999 are the ends of ALB's range.
    for step in [
        weights(&[("ecs", 25), ("lambda", 75)]),
        weights(&[("lambda", 50), ("ecs", 50)]),
        weights(&[("ecs", 999), ("lambda", 0)]),
        weights(&[("ecs", 0), ("lambda", 1)]),
    ] {
        rule.set_weights(&step)
            .await
            .unwrap_or_else(|e| panic!("set_weights {step:?}: {e}"));
        let mut expected = step.clone();
        expected.sort_by_key(|(label, _)| if label == "ecs" { 0 } else { 1 });
        assert_eq!(
            rule.weights().await.expect("weights"),
            expected,
            "after {step:?}"
        );
        assert_eq!(
            rule.stickiness().await.expect("stickiness"),
            Some((true, 3600)),
            "after {step:?}"
        );

        // Read without the driver: the raw tuples hold the weights by ARN,
        // and the rest of the rule is as it was.
        let now = bed.rule(&bed.weighted).await;
        let tuples: Vec<(String, Option<i32>)> = now.actions()[0]
            .forward_config()
            .expect("forward config")
            .target_groups()
            .iter()
            .map(|t| (t.target_group_arn().expect("arn").to_owned(), t.weight()))
            .collect();
        let want = |arn: &str, label: &str| {
            (
                arn.to_owned(),
                step.iter()
                    .find(|(l, _)| l == label)
                    .map(|(_, w)| i32::try_from(*w).expect("weight")),
            )
        };
        assert_eq!(
            tuples,
            vec![want(&bed.ecs, "ecs"), want(&bed.lambda, "lambda")],
            "after {step:?}"
        );
        assert_eq!(now.actions().len(), 1);
        assert_eq!(
            now.conditions(),
            before.conditions(),
            "conditions after {step:?}"
        );
        assert_eq!(now.priority(), before.priority());
        assert_eq!(
            bed.rule(&bed.path_rule).await,
            path_rule_before,
            "the path rule after {step:?}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connect_refuses_a_rule_it_cannot_drive_and_changes_nothing() {
    let bed = Bed::start().await;
    let untouched = bed.all_rules().await;

    // The lambda group of the rule has no label.
    let only_ecs = vec![("ecs".to_owned(), bed.ecs.clone())];
    match ListenerRule::connect(bed.client.clone(), &bed.weighted, &only_ecs).await {
        Err(e @ Elbv2Error::UnmappedTargetGroup { .. }) => {
            let msg = e.to_string();
            assert!(
                msg.contains(&bed.lambda) && msg.contains(&bed.weighted),
                "{msg}"
            );
        }
        other => panic!("expected UnmappedTargetGroup, got {other:?}"),
    }

    // A label for a group the rule does not forward to.
    let mut with_other = bed.labels();
    with_other.push(("canary".to_owned(), bed.other.clone()));
    match ListenerRule::connect(bed.client.clone(), &bed.weighted, &with_other).await {
        Err(e @ Elbv2Error::TargetGroupNotInRule { .. }) => {
            let msg = e.to_string();
            assert!(msg.contains("canary") && msg.contains(&bed.other), "{msg}");
        }
        other => panic!("expected TargetGroupNotInRule, got {other:?}"),
    }
    // A label pointing at the wrong group (a typo in --target-group).
    let swapped = vec![
        ("ecs".to_owned(), bed.other.clone()),
        ("lambda".to_owned(), bed.lambda.clone()),
    ];
    assert!(
        matches!(
            ListenerRule::connect(bed.client.clone(), &bed.weighted, &swapped).await,
            Err(Elbv2Error::TargetGroupNotInRule { ref label, .. }) if label == "ecs"
        ),
        "a wrong ARN for ecs"
    );

    // A rule ARN of the right shape that does not exist.
    let missing = format!(
        "{}/0123456789abcdef",
        bed.listener.replace(":listener/", ":listener-rule/")
    );
    match ListenerRule::connect(bed.client.clone(), &missing, &bed.labels()).await {
        Err(e @ Elbv2Error::RuleNotFound { .. }) => {
            let msg = e.to_string();
            assert!(
                msg.contains(&missing) && msg.contains("does not exist"),
                "{msg}"
            );
        }
        other => panic!("expected RuleNotFound, got {other:?}"),
    }

    // The same label twice, the same group under two labels.
    let twice = vec![
        ("ecs".to_owned(), bed.ecs.clone()),
        ("ecs".to_owned(), bed.lambda.clone()),
    ];
    assert!(matches!(
        ListenerRule::connect(bed.client.clone(), &bed.weighted, &twice).await,
        Err(Elbv2Error::DuplicateLabel { .. })
    ));
    let shared = vec![
        ("ecs".to_owned(), bed.ecs.clone()),
        ("lambda".to_owned(), bed.ecs.clone()),
    ];
    assert!(matches!(
        ListenerRule::connect(bed.client.clone(), &bed.weighted, &shared).await,
        Err(Elbv2Error::DuplicateTargetGroup { .. })
    ));

    // A rule that only answers 404.
    let fixed = create_rule(&bed.client, &bed.listener, 7, &["/gone"], vec![fixed_404()]).await;
    match ListenerRule::connect(bed.client.clone(), &fixed, &bed.labels()).await {
        Err(e @ Elbv2Error::NoForwardAction { .. }) => {
            assert!(e.to_string().contains("fixed-response"), "{e}");
        }
        other => panic!("expected NoForwardAction, got {other:?}"),
    }

    let mut after = bed.all_rules().await;
    after.retain(|r| r.rule_arn() != Some(fixed.as_str()));
    assert_eq!(after, untouched, "a refused connect changed a rule");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_weights_and_a_rule_changed_behind_its_back_are_refused_unmodified() {
    let bed = Bed::start().await;
    let rule = ListenerRule::connect(bed.client.clone(), &bed.weighted, &bed.labels())
        .await
        .expect("connect");
    let untouched = bed.all_rules().await;

    match rule
        .set_weights(&weights(&[("ecs", 10), ("canary", 90)]))
        .await
    {
        Err(e @ Elbv2Error::LabelWithoutTargetGroup { .. }) => {
            let msg = e.to_string();
            assert!(msg.contains("`canary` has no --target-group"), "{msg}");
        }
        other => panic!("expected LabelWithoutTargetGroup, got {other:?}"),
    }
    for bad in [
        weights(&[("ecs", 1000), ("lambda", 0)]),
        weights(&[("ecs", 100)]),
        weights(&[("ecs", 1), ("lambda", 1), ("ecs", 2)]),
    ] {
        assert!(
            matches!(
                rule.set_weights(&bad).await,
                Err(Elbv2Error::BadWeights { .. })
            ),
            "{bad:?} accepted"
        );
    }
    assert_eq!(
        bed.all_rules().await,
        untouched,
        "refused weights changed a rule"
    );

    // Someone points the rule at another group: the driver sees it on its
    // next write and refuses, rather than putting its own groups back.
    bed.client
        .modify_rule()
        .rule_arn(&bed.weighted)
        .actions(forward(
            &[(&bed.ecs, 50), (&bed.other, 50)],
            Some((true, 3600)),
        ))
        .send()
        .await
        .expect("ModifyRule");
    let changed = bed.rule(&bed.weighted).await;
    assert!(
        rule.set_weights(&weights(&[("ecs", 20), ("lambda", 80)]))
            .await
            .is_err()
    );
    assert_eq!(bed.rule(&bed.weighted).await, changed);
    assert!(
        rule.weights().await.is_err(),
        "weights read from a rule that no longer fits"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_authenticate_action_before_the_forward_is_kept() {
    let bed = Bed::start().await;
    let oidc = Action::builder()
        .r#type(ActionTypeEnum::AuthenticateOidc)
        .order(1)
        .authenticate_oidc_config(
            elbv2::types::AuthenticateOidcActionConfig::builder()
                .issuer("https://idp.example")
                .authorization_endpoint("https://idp.example/auth")
                .token_endpoint("https://idp.example/token")
                .user_info_endpoint("https://idp.example/userinfo")
                .client_id("weighbridge")
                .build(),
        )
        .build();
    let mut fwd = forward(&[(&bed.ecs, 10), (&bed.lambda, 90)], Some((true, 3600)));
    fwd.order = Some(2);
    let arn = create_rule(
        &bed.client,
        &bed.listener,
        5,
        &["/private/*"],
        vec![oidc, fwd],
    )
    .await;
    let rule = ListenerRule::connect(bed.client.clone(), &arn, &bed.labels())
        .await
        .expect("connect");
    rule.set_weights(&weights(&[("ecs", 30), ("lambda", 70)]))
        .await
        .expect("set_weights");
    let now = bed.rule(&arn).await;
    let types: Vec<_> = now
        .actions()
        .iter()
        .map(|a| (a.r#type().cloned(), a.order()))
        .collect();
    assert_eq!(
        types,
        vec![
            (Some(ActionTypeEnum::AuthenticateOidc), Some(1)),
            (Some(ActionTypeEnum::Forward), Some(2))
        ]
    );
    let kept = now.actions()[0]
        .authenticate_oidc_config()
        .expect("the OIDC config");
    assert_eq!(kept.issuer(), Some("https://idp.example"));
    assert_eq!(kept.client_id(), Some("weighbridge"));
    // What the real API needs, as no secret is read back.
    assert_eq!(kept.use_existing_client_secret(), Some(true));
    assert_eq!(
        rule.weights().await.expect("weights"),
        weights(&[("ecs", 30), ("lambda", 70)])
    );
    assert_eq!(
        rule.stickiness().await.expect("stickiness"),
        Some((true, 3600))
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_legacy_single_target_group_form_is_driven_too() {
    let bed = Bed::start().await;
    let legacy = create_rule(
        &bed.client,
        &bed.listener,
        3,
        &["/host"],
        vec![
            Action::builder()
                .r#type(ActionTypeEnum::Forward)
                .target_group_arn(&bed.ecs)
                .build(),
        ],
    )
    .await;
    let only_ecs = vec![("ecs".to_owned(), bed.ecs.clone())];
    let rule = ListenerRule::connect(bed.client.clone(), &legacy, &only_ecs)
        .await
        .expect("connect to a TargetGroupArn rule");
    assert_eq!(
        rule.weights().await.expect("weights"),
        weights(&[("ecs", 1)])
    );
    rule.set_weights(&weights(&[("ecs", 7)]))
        .await
        .expect("set_weights");
    assert_eq!(
        rule.weights().await.expect("weights"),
        weights(&[("ecs", 7)])
    );
    let now = bed.rule(&legacy).await;
    assert_eq!(paths(&now), vec![vec!["/host".to_owned()]]);
}

/// 2025-03-01T12:00:00Z: the simulated clock's start, a whole minute.
const T0: i64 = 1_740_830_400;

/// Puts `RequestCount` per minute for each target group, as the ALB would
/// (a datapoint 30 s into the minute), into moto's CloudWatch.
async fn put_counts(bed: &Bed, minutes: &[(i64, &[(&str, f64)])]) {
    use aws_sdk_cloudwatch::primitives::DateTime;
    use aws_sdk_cloudwatch::types::{Dimension, MetricDatum, StandardUnit};
    let config = aws_config::defaults(aws_config::BehaviorVersion::latest())
        .endpoint_url(bed._moto.endpoint())
        .region(aws_config::Region::new("us-east-1"))
        .credentials_provider(aws_sdk_cloudwatch::config::Credentials::new(
            "testing", "testing", None, None, "test",
        ))
        .load()
        .await;
    let client = aws_sdk_cloudwatch::Client::new(&config);
    let lb = load_balancer_dimension(&bed.weighted).expect("LB dimension");
    for (minute, counts) in minutes {
        let mut req = client.put_metric_data().namespace("AWS/ApplicationELB");
        for (tg_arn, n) in *counts {
            let tg = target_group_dimension(tg_arn).expect("TG dimension");
            req = req.metric_data(
                MetricDatum::builder()
                    .metric_name("RequestCount")
                    .dimensions(Dimension::builder().name("TargetGroup").value(tg).build())
                    .dimensions(Dimension::builder().name("LoadBalancer").value(&lb).build())
                    .timestamp(DateTime::from_secs(T0 + 60 * minute + 30))
                    .unit(StandardUnit::Count)
                    .value(*n)
                    .build(),
            );
        }
        req.send().await.expect("put_metric_data");
    }
}

/// `rollout --cloudwatch`: no load, each step judged on the RequestCount of
/// its whole minutes (a simulated clock walks the minutes at once). With a
/// change at T0 and 1 min of convergence, step k (held 1 min) is judged on
/// minute 2k + 1. Counts that follow the steps PASS; a router whose traffic
/// stays at the first step's split FAILs the second step and is rolled
/// back, the weights read back from the rule.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rollout_judged_on_cloudwatch_counts() {
    let bed = Bed::start().await;
    let dir = tempfile::tempdir().expect("tempdir");
    let policy = dir.path().join("policy.json");
    std::fs::write(
        &policy,
        r#"{"schema":"weighbridge.policy/v1","targets":{"ecs":10,"lambda":90},
        "rollout":{"steps":[{"weights":{"ecs":10,"lambda":90},"hold":"1m"},
            {"weights":{"ecs":50,"lambda":50},"hold":"1m"},
            {"weights":{"ecs":100,"lambda":0},"hold":"1m"}]}}"#,
    )
    .expect("policy");
    let (ecs, lambda) = (bed.ecs.as_str(), bed.lambda.as_str());
    let run = |name: &str, clock: &str| {
        let out = dir.path().join(format!("{name}.json"));
        let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_rollout"));
        cmd.arg("--policy")
            .arg(&policy)
            .args(["--cloudwatch", "--listener-rule", &bed.weighted])
            .args(["--target-group", &format!("ecs={ecs},lambda={lambda}")])
            .args(["--metric-delay", "0s", "--simulated-clock", clock])
            .args(["--format", "json", "--quiet", "--out"])
            .arg(&out);
        for (k, v) in weighbridge_testkit::aws_env(&bed._moto.endpoint()) {
            cmd.env(k, v);
        }
        cmd.env_remove("AWS_PROFILE");
        let done = cmd.output().expect("rollout");
        let v: serde_json::Value = serde_json::from_slice(&done.stdout).unwrap_or_else(|e| {
            panic!(
                "no JSON ({e}): {}{}",
                String::from_utf8_lossy(&done.stdout),
                String::from_utf8_lossy(&done.stderr)
            )
        });
        (done.status.code(), v)
    };
    put_counts(
        &bed,
        &[
            (1, &[(ecs, 10_000.0), (lambda, 90_000.0)]),
            (3, &[(ecs, 50_000.0), (lambda, 50_000.0)]),
            (5, &[(ecs, 100_000.0), (lambda, 0.0)]),
        ],
    )
    .await;
    let (code, v) = run("good", "2025-03-01T12:00:00Z");
    assert_eq!(code, Some(0), "{v:#}");
    assert_eq!(v["traffic"], "cloudwatch");
    let steps = v["steps"].as_array().expect("steps");
    assert_eq!(steps.len(), 3, "{v:#}");
    assert_eq!(steps[1]["window"]["from"], "2025-03-01T12:03:00Z", "{v:#}");
    assert_eq!(steps[1]["window"]["to"], "2025-03-01T12:04:00Z");
    assert_eq!(steps[1]["split"]["n"], 100_000);
    assert!(steps.iter().all(|s| s["gate"].is_null()));
    assert_eq!(v["final_weights"]["ecs"], 100);

    // Put the rule back at the first step, and counts that stay there.
    let rule = ListenerRule::connect(bed.client.clone(), &bed.weighted, &bed.labels())
        .await
        .expect("connect");
    rule.set_weights(&weights(&[("ecs", 10), ("lambda", 90)]))
        .await
        .expect("reset");
    // A second rollout an hour later (minutes 60 on): the second step's
    // minute still has the first step's split.
    put_counts(
        &bed,
        &[
            (61, &[(ecs, 10_000.0), (lambda, 90_000.0)]),
            (63, &[(ecs, 10_000.0), (lambda, 90_000.0)]),
        ],
    )
    .await;
    let (code, v) = run("stuck", "2025-03-01T13:00:00Z");
    assert_eq!(code, Some(1), "{v:#}");
    let steps = v["steps"].as_array().expect("steps");
    assert_eq!(steps.len(), 2, "{v:#}");
    assert_eq!(steps[1]["verdict"], "FAIL");
    assert!(
        steps[1]["reason"]
            .as_str()
            .is_some_and(|r| r.contains("does not follow")),
        "{v:#}"
    );
    assert_eq!(v["rolled_back"], true);
    assert_eq!(
        rule.weights().await.expect("weights"),
        weights(&[("ecs", 10), ("lambda", 90)])
    );
    // The stickiness config survived the whole walk and the rollback.
    assert_eq!(
        rule.stickiness().await.expect("stickiness"),
        Some((true, 3600))
    );
}
