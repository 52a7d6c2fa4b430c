//! The end-to-end statistical assertion, for real: the local topology
//! (HAProxy generated from the policy, backend processes per label, SQS on
//! moto) loaded by the loadgen binary and judged by the verify binary. Each
//! scenario is bounded in time and stops every process it started.
//! Scenarios run one at a time (they share the machine's two cores).
//!
//! False alarms: HAProxy draws its weighted choice with its own unseeded
//! random numbers, so these runs cannot be replayed. Where a correct split
//! must PASS, the tolerance is wide enough that a correct split's exact
//! intervals fit inside it except with probability below 1e-4: a PASS needs
//! |deviation| + 3.5 sd ≤ tolerance, and each tolerance below is at least
//! 7.3 sd of its share (the sd is stated next to it). A FAIL of a correct
//! split has probability at most alpha = 0.001 whatever the tolerance
//! (verify/tests/error_bounds.rs computes that bound exactly).

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use serde_json::Value;
use time::OffsetDateTime;
use topology::local::{Local, Options};
use weighbridge_policy::Policy;
use weighbridge_report::Report;
use weighbridge_testkit::{Sig, workspace_bin};

static SERIAL: Mutex<()> = Mutex::new(());

fn serial() -> std::sync::MutexGuard<'static, ()> {
    SERIAL
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

fn bin_dir() -> PathBuf {
    // Build (if needed) the binaries the topology and the scenarios run.
    for b in ["backend", "lambda", "loadgen", "verify"] {
        let _ = workspace_bin(b);
    }
    workspace_bin("backend")
        .parent()
        .expect("bin dir")
        .to_owned()
}

fn policy(json: &str) -> (Policy, tempfile::NamedTempFile) {
    let mut f = tempfile::NamedTempFile::new().expect("temp policy");
    std::io::Write::write_all(&mut f, json.as_bytes()).expect("write policy");
    (json.parse().expect("valid policy"), f)
}

const SPLIT_30_70: &str = r#"{"schema":"weighbridge.policy/v1","targets":{"ecs":30,"canary":70},
  "path_rules":[{"path":"/small-woodland-creature","target":"ecs"}],
  "stickiness":{"enabled":false,"duration_seconds":3600},"base_path":"dev"}"#;

fn start(options: Options) -> Local {
    Local::start(options).unwrap_or_else(|e| panic!("topology did not start: {e:#}"))
}

fn loadgen(args: &[&str], out: &Path) -> Value {
    let status = Command::new(bin_dir().join("loadgen"))
        .args(args)
        .args(["--quiet", "--out"])
        .arg(out)
        .status()
        .expect("run loadgen");
    assert!(status.success(), "loadgen failed: {status}");
    serde_json::from_str(&std::fs::read_to_string(out).expect("report")).expect("report JSON")
}

/// Runs `verify ARGS --format json`; returns (exit code, JSON verdict).
fn verify(args: &[&str]) -> (i32, Value) {
    let out = Command::new(bin_dir().join("verify"))
        .args(args)
        .args(["--format", "json"])
        .output()
        .expect("run verify");
    let json: Value = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "verify printed no JSON ({e}): {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )
    });
    (out.status.code().unwrap_or(-1), json)
}

fn path_str(p: &Path) -> &str {
    p.to_str().expect("utf-8 path")
}

/// 1 and 2: the split as configured PASSes, every interval in its band; the
/// router drawing 40/60 while the policy says 30/70 FAILs; a path rule
/// routed to the wrong target FAILs.
#[test]
fn split_passes_as_configured_and_fails_when_the_router_disagrees() {
    let _serial = serial();
    let dir = tempfile::tempdir().expect("tempdir");
    let (p, pfile) = policy(SPLIT_30_70);
    let pol = path_str(pfile.path());

    // As configured: 500 rps for 12 s, N = 6000.
    let local = start(Options::new(p.clone(), bin_dir()));
    let report = dir.path().join("ok.json");
    let r = loadgen(
        &[
            "--url",
            &local.url(""),
            "--path",
            "/host:19,/small-woodland-creature:1",
            "--rps",
            "500",
            "--duration",
            "12s",
        ],
        &report,
    );
    local.stop();
    assert_eq!(r["totals"]["failed"], 0, "{}", r["totals"]);
    // N ≈ 5 700 weighted requests at 30/70: sd 0.61 pp, so 5 pp is 8.2 sd.
    let (code, v) = verify(&[
        "split",
        path_str(&report),
        "--policy",
        pol,
        "--tolerance",
        "5",
    ]);
    println!(
        "as configured: N = {}, p = {}, verdict {}",
        v["n"], v["p_value"], v["verdict"]
    );
    assert_eq!((code, v["verdict"].as_str()), (0, Some("PASS")), "{v:#}");
    assert!(
        v["targets"]
            .as_array()
            .is_some_and(|t| t.iter().all(|t| t["call"] == "inside")),
        "{v:#}"
    );
    assert!(
        v["rule_routed"].as_u64().is_some_and(|n| n > 100),
        "rule-path requests left out of the weighted test: {v:#}"
    );

    // The router draws 40/60; the policy (and so the expectation) says 30/70.
    let mut o = Options::new(p.clone(), bin_dir());
    o.router_weights = Some(vec![("ecs".into(), 40), ("canary".into(), 60)]);
    let local = start(o);
    let report = dir.path().join("skewed.json");
    loadgen(
        &[
            "--url",
            &local.url("/host"),
            "--rps",
            "500",
            "--duration",
            "8s",
        ],
        &report,
    );
    local.stop();
    let (code, v) = verify(&[
        "split",
        path_str(&report),
        "--policy",
        pol,
        "--tolerance",
        "3",
    ]);
    assert_eq!((code, v["verdict"].as_str()), (1, Some("FAIL")), "{v:#}");

    // A router whose path rule sends the creature to canary: a leak.
    let (wrong, _wfile) =
        policy(&SPLIT_30_70.replace(r#""target":"ecs"}]"#, r#""target":"canary"}]"#));
    let local = start(Options::new(wrong, bin_dir()));
    let report = dir.path().join("leak.json");
    loadgen(
        &[
            "--url",
            &local.url(""),
            "--path",
            "/host:9,/small-woodland-creature:1",
            "--rps",
            "200",
            "--duration",
            "3s",
        ],
        &report,
    );
    local.stop();
    let (code, v) = verify(&[
        "split",
        path_str(&report),
        "--policy",
        pol,
        "--tolerance",
        "3",
    ]);
    assert_eq!((code, v["verdict"].as_str()), (1, Some("FAIL")), "{v:#}");
    let leak = &v["leaks"][0];
    assert_eq!(leak["target"], "canary", "{v:#}");
    assert_eq!(leak["kind"]["kind"], "path_rule", "{v:#}");
}

/// 1, with the real policy: config/policy.json (ecs 10, lambda 90, the
/// seeds' path rules), the Lambda binary under `cargo lambda watch`.
#[test]
fn the_configured_policy_passes_with_the_lambda_under_its_emulator() {
    let _serial = serial();
    let dir = tempfile::tempdir().expect("tempdir");
    let root = Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("root")
        .to_owned();
    let pol = root.join("config/policy.json");
    let local = start(Options::new(Policy::load(&pol).expect("policy"), bin_dir()));
    let report = dir.path().join("lambda.json");
    let r = loadgen(
        &[
            "--url",
            &local.url(""),
            "--path",
            "/host:18,/small-woodland-creature:1,/ice-cream-flavor:1",
            // 200 rps for 30 s: debug binaries on 2 busy cores. The two
            // execution environments take about 450 rps here; HAProxy queues
            // what they cannot take yet (maxconn), so a slow moment costs
            // latency, not the emulator (which wedges when overfilled).
            "--rps",
            "200",
            "--duration",
            "30s",
        ],
        &report,
    );
    local.stop();
    assert_eq!(r["totals"]["failed"], 0, "{}", r["totals"]);
    assert!(
        r["hosts"]
            .as_object()
            .is_some_and(|h| h.values().any(|x| x["target"] == "lambda")),
        "{}",
        r["hosts"]
    );
    // N ≈ 5 400 weighted requests at 10/90: sd 0.41 pp, so 3.5 pp is 8.5 sd.
    let (code, v) = verify(&[
        "split",
        path_str(&report),
        "--policy",
        path_str(&pol),
        "--tolerance",
        "3.5",
    ]);
    println!(
        "config/policy.json: N = {}, p = {}, verdict {}",
        v["n"], v["p_value"], v["verdict"]
    );
    assert_eq!((code, v["verdict"].as_str()), (0, Some("PASS")), "{v:#}");
    assert!(v["leaks"].as_array().is_some_and(Vec::is_empty), "{v:#}");
}

/// The Lambda behind the router survives an overload: HAProxy holds what
/// its one execution environment cannot take yet (maxconn), so after a burst
/// far past its capacity every request is served again. (cargo-lambda's
/// emulator, overfilled, stops answering for good: then the second run
/// fails whole.)
#[test]
fn the_lambda_serves_again_after_a_burst_past_its_capacity() {
    let _serial = serial();
    let dir = tempfile::tempdir().expect("tempdir");
    let (p, _pfile) =
        policy(r#"{"schema":"weighbridge.policy/v1","targets":{"lambda":100},"base_path":"dev"}"#);
    let mut o = Options::new(p, bin_dir());
    o.instances.insert("lambda".into(), 1);
    let local = start(o);
    let url = local.url("/host");
    // About 400 rps is what one debug environment takes on a quiet machine.
    let burst = loadgen(
        &[
            "--url",
            &url,
            "--rps",
            "1500",
            "--duration",
            "3s",
            "--timeout",
            "2s",
        ],
        &dir.path().join("burst.json"),
    );
    let after = loadgen(
        &["--url", &url, "--rps", "20", "--duration", "3s"],
        &dir.path().join("after.json"),
    );
    local.stop();
    assert!(
        burst["totals"]["failed"].as_u64() > Some(0),
        "the burst did not outrun the Lambda, so it proves nothing: {}",
        burst["totals"]
    );
    assert_eq!(
        (
            after["totals"]["ok"].as_u64(),
            after["totals"]["failed"].as_u64()
        ),
        (Some(60), Some(0)),
        "{}",
        after["totals"]
    );
}

/// Seconds from a report's time zero to `at` (wall clock), so a change the
/// test made can be placed on the report's timeline: checks then follow
/// when things happened, not when a sleep meant them to.
fn seconds_into(report: &Path, at: OffsetDateTime) -> f64 {
    let r = Report::read(report).expect("report");
    (at - r.started_at).as_seconds_f64()
}

/// Weights change while the router runs (runtime API, no reload): a
/// progressive rollout 50 → 0 → 100 moves the traffic, and no request fails.
/// Each whole second of the timeline is checked against the weights in
/// force over all of it (the seconds around each change may mix).
#[test]
fn weights_change_live_without_failing_a_request() {
    let _serial = serial();
    let dir = tempfile::tempdir().expect("tempdir");
    let (p, _pfile) =
        policy(&SPLIT_30_70.replace(r#""ecs":30,"canary":70"#, r#""ecs":50,"canary":50"#));
    let local = start(Options::new(p, bin_dir()));
    let url = local.url("/host");
    let out = dir.path().join("rollout.json");
    let run = out.clone();
    let load = std::thread::spawn(move || {
        loadgen(&["--url", &url, "--rps", "200", "--duration", "9s"], &run)
    });
    std::thread::sleep(Duration::from_secs(3));
    let to_canary = OffsetDateTime::now_utc();
    local
        .set_weights(&[("ecs".into(), 0), ("canary".into(), 100)])
        .expect("set weights");
    let canary_only = OffsetDateTime::now_utc();
    std::thread::sleep(Duration::from_secs(3));
    let to_ecs = OffsetDateTime::now_utc();
    local
        .set_weights(&[("ecs".into(), 100), ("canary".into(), 0)])
        .expect("set weights");
    let ecs_only = OffsetDateTime::now_utc();
    let r = load.join().expect("loadgen thread");
    local.stop();
    assert_eq!(r["totals"]["failed"], 0, "{}", r["totals"]);
    let [to_canary, canary_only, to_ecs, ecs_only] =
        [to_canary, canary_only, to_ecs, ecs_only].map(|t| seconds_into(&out, t));
    // A second counts the requests *due* in it; one sent late can reach the
    // router after a change. Seconds that end within the worst send lag
    // (plus 100 ms for the router) of a change are left out.
    let late = r["loadgen"]["max_send_lag_ms"].as_f64().unwrap_or(0.0) / 1000.0 + 0.1;
    let (to_canary, to_ecs) = (to_canary - late, to_ecs - late);
    let mut checked = [0; 3];
    for (s, w) in r["timeline"]
        .as_array()
        .expect("timeline")
        .iter()
        .enumerate()
    {
        let count = |t: &str| w["targets"][t].as_u64().unwrap_or(0);
        let (e, c) = (count("ecs"), count("canary"));
        let (from, to) = (s as f64, s as f64 + 1.0);
        let phase = if to <= to_canary {
            assert!(e > 30 && c > 30, "second {s} at 50/50: ecs {e}, canary {c}");
            0
        } else if from >= canary_only && to <= to_ecs {
            assert!(e == 0 && c > 0, "second {s} at 0/100: ecs {e}, canary {c}");
            1
        } else if from >= ecs_only {
            assert!(e > 0 && c == 0, "second {s} at 100/0: ecs {e}, canary {c}");
            2
        } else {
            continue;
        };
        checked[phase] += 1;
    }
    assert!(
        checked.iter().all(|&n| n > 0),
        "whole seconds checked per phase {checked:?}: changes at {to_canary:.2} s and {to_ecs:.2} s"
    );
}

/// 3: stickiness on: verify judges clients and PASSes; judged per request
/// without the stickiness flag, the clients' dispersion shows.
#[test]
fn sticky_clients_are_judged_by_client() {
    let _serial = serial();
    let dir = tempfile::tempdir().expect("tempdir");
    let sticky_json = SPLIT_30_70.replace(r#""enabled":false"#, r#""enabled":true"#);
    let (p, pfile) = policy(&sticky_json);
    let local = start(Options::new(p, bin_dir()));
    let report = dir.path().join("sticky.json");
    let r = loadgen(
        &[
            "--url",
            &local.url("/host"),
            "--rps",
            "800",
            "--duration",
            "6s",
            "--clients",
            "600",
        ],
        &report,
    );
    local.stop();
    assert_eq!(r["totals"]["failed"], 0);
    let clients = r["clients"].as_object().expect("clients in the report");
    let switched = clients
        .values()
        .filter(|c| c["targets"].as_object().is_some_and(|t| t.len() > 1))
        .count();
    // Open loop: a client's second request can leave before the answer to
    // its first brings the cookie, and then it is routed afresh (a real
    // browser races the same way). On a busy machine that is a tenth of
    // the clients or more. Without stickiness, a client's ~8 requests at
    // 30/70 would all hit one target with probability 0.3^8 + 0.7^8 < 6 %:
    // nearly every client would switch. Half is far from both.
    assert!(
        switched <= clients.len() / 2,
        "{switched} of {} clients switched target: stickiness is broken",
        clients.len()
    );

    // 600 clients at 30/70: sd 1.87 pp, so 15 pp is 8.0 sd.
    let (code, v) = verify(&[
        "split",
        path_str(&report),
        "--policy",
        path_str(pfile.path()),
        "--tolerance",
        "15",
    ]);
    assert_eq!(v["unit"], "clients", "{v:#}");
    assert_eq!((code, v["verdict"].as_str()), (0, Some("PASS")), "{v:#}");

    // The same data judged per request (weights only, no stickiness): the
    // heterogeneity across clients is far beyond independent routing.
    let (_, v) = verify(&[
        "split",
        path_str(&report),
        "--weights",
        "ecs=30,canary=70",
        "--tolerance",
        "8",
    ]);
    assert_eq!(v["unit"], "requests", "{v:#}");
    let het = &v["clients"]["heterogeneity"];
    assert!(
        het["dispersion"].as_f64().is_some_and(|d| d > 3.0),
        "no client dispersion shown: {v:#}"
    );
}

/// 4: a second `ecs` instance added in the middle of a run is seen as a
/// scale-out within a few seconds; with none added, none is reported.
#[test]
fn scale_out_is_seen_when_it_happens() {
    let _serial = serial();
    let dir = tempfile::tempdir().expect("tempdir");
    let (p, _pfile) =
        policy(r#"{"schema":"weighbridge.policy/v1","targets":{"ecs":100},"base_path":"dev"}"#);
    let mut o = Options::new(p.clone(), bin_dir());
    o.instances.insert("ecs".into(), 1);
    let mut local = start(o);
    let report = dir.path().join("scale.json");
    let url = local.url("/host");
    let out = report.clone();
    let load =
        std::thread::spawn(move || loadgen(&["--url", &url, "--stages", "1s:200,11s:200"], &out));
    std::thread::sleep(Duration::from_secs(5));
    let adding = OffsetDateTime::now_utc();
    local.add_instance("ecs").expect("add an instance");
    let added = OffsetDateTime::now_utc();
    load.join().expect("loadgen thread");
    local.stop();
    let (adding, added) = (seconds_into(&report, adding), seconds_into(&report, added));
    let (code, v) = verify(&[
        "scaling",
        path_str(&report),
        "--target",
        "ecs",
        "--expect",
        "scale-out",
        "--within",
        "10s",
        "--window",
        "1s",
    ]);
    assert_eq!((code, v["verdict"].as_str()), (0, Some("PASS")), "{v:#}");
    let events = v["targets"][0]["events"].as_array().expect("events");
    assert_eq!(events.len(), 1, "{v:#}");
    let at = events[0]["start_s"].as_u64().expect("start_s");
    // Seen in the second it started in, or the next one or two (its first
    // requests come with the next few the router hands out).
    assert!(
        at as f64 >= adding.floor() && (at as f64) <= added.floor() + 2.0,
        "scale-out seen at {at} s; the instance was added at {adding:.2}..{added:.2} s: {v:#}"
    );
    assert_eq!(
        (events[0]["from"].as_u64(), events[0]["to"].as_u64()),
        (Some(1), Some(2))
    );

    let mut o = Options::new(p, bin_dir());
    o.instances.insert("ecs".into(), 1);
    let local = start(o);
    let report = dir.path().join("flat.json");
    loadgen(
        &["--url", &local.url("/host"), "--stages", "1s:200,7s:200"],
        &report,
    );
    local.stop();
    let (code, v) = verify(&[
        "scaling",
        path_str(&report),
        "--target",
        "ecs",
        "--expect",
        "none",
        "--window",
        "1s",
    ]);
    assert_eq!((code, v["verdict"].as_str()), (0, Some("PASS")), "{v:#}");
    assert!(
        v["targets"][0]["events"]
            .as_array()
            .is_some_and(Vec::is_empty),
        "{v:#}"
    );
}

/// Waits until the router has sent `server` of target `label` at least `n`
/// requests (`stot` in HAProxy's `show stat`), so a change is made once load
/// is flowing, however late loadgen started.
fn wait_until_served(local: &Local, label: &str, server: &str, n: u64) {
    let group = format!("tg_{label}");
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let stat = local.runtime.command("show stat").expect("show stat");
        let served = stat.lines().find_map(|line| {
            let f: Vec<&str> = line.split(',').collect();
            if f.len() > 7 && f[0] == group && f[1] == server {
                f[7].parse::<u64>().ok()
            } else {
                None
            }
        });
        if served.is_some_and(|s| s >= n) {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "{server} never served {n} requests:\n{stat}"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// 5: an `ecs` instance sent SIGTERM mid-run drains and is replaced:
/// not one request fails.
#[test]
fn rolling_restart_fails_no_request() {
    let _serial = serial();
    let dir = tempfile::tempdir().expect("tempdir");
    let (p, _pfile) =
        policy(r#"{"schema":"weighbridge.policy/v1","targets":{"ecs":100},"base_path":"dev"}"#);
    let mut local = start(Options::new(p, bin_dir()));
    let report = dir.path().join("restart.json");
    let url = local.url("/host");
    let out = report.clone();
    let load = std::thread::spawn(move || {
        loadgen(&["--url", &url, "--rps", "300", "--duration", "10s"], &out)
    });
    wait_until_served(&local, "ecs", "ecs1", 100);
    let old = &mut local.targets.get_mut("ecs").expect("ecs")[0];
    old.signal(Sig::SIGTERM).expect("SIGTERM");
    let status = old
        .wait_exit(Duration::from_secs(10))
        .expect("the old instance drains and exits");
    assert!(status.success());
    local.add_instance("ecs").expect("replacement instance");
    let r = load.join().expect("loadgen thread");
    local.stop();
    assert_eq!(r["totals"]["failed"], 0, "{}", r["totals"]);
    assert_eq!(r["totals"]["dropped"], 0);
    assert!(
        r["hosts"].as_object().is_some_and(|h| h.len() == 3),
        "old, other and replacement: {}",
        r["hosts"]
    );
}

/// 6: `POST /send-to-sqs` through the router: every 200 is a message in
/// the queue, read back.
#[test]
fn send_to_sqs_through_the_router_loses_nothing() {
    let _serial = serial();
    let (p, _pfile) = policy(SPLIT_30_70);
    let mut o = Options::new(p, bin_dir());
    o.sqs = true;
    let local = start(o);
    let queue = local.queue_url.clone().expect("queue");
    let endpoint = local.sqs_endpoint.clone().expect("SQS endpoint");
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let (sent, received) = rt.block_on(async {
        let http = reqwest::Client::new();
        let mut sent = std::collections::BTreeSet::new();
        for i in 0..30 {
            let body = format!(r#"{{"order":{i}}}"#);
            let resp = http
                .post(local.url("/send-to-sqs"))
                .body(body.clone())
                .send()
                .await
                .expect("POST");
            assert_eq!(resp.status(), 200, "{:?}", resp.text().await);
            sent.insert(body);
        }
        let sqs = weighbridge_testkit::sqs_client(&endpoint);
        let mut received = std::collections::BTreeSet::new();
        loop {
            let out = sqs
                .receive_message()
                .queue_url(&queue)
                .max_number_of_messages(10)
                .wait_time_seconds(1)
                .send()
                .await
                .expect("receive");
            let msgs = out.messages.unwrap_or_default();
            if msgs.is_empty() {
                break;
            }
            for m in msgs {
                received.insert(m.body().unwrap_or_default().to_owned());
                sqs.delete_message()
                    .queue_url(&queue)
                    .receipt_handle(m.receipt_handle().unwrap_or_default())
                    .send()
                    .await
                    .expect("delete");
            }
        }
        (sent, received)
    });
    local.stop();
    assert_eq!(sent, received);
}

/// A busy loop pinned to one core, stopped by PID when dropped.
struct BusyLoop(std::process::Child);

impl Drop for BusyLoop {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// 16, the load generator's health: loadgen pinned to one core beside a
/// busy loop, at a rate it cannot hold there (10 000 rps from a debug
/// build sharing half a core), reports itself as the bottleneck, and
/// `verify compare` answers INCONCLUSIVE: the latencies measured are
/// loadgen's. Needs `taskset` (util-linux, in every Debian); without it the
/// test fails rather than passing silently.
#[test]
fn a_starved_load_generator_makes_the_canary_gate_inconclusive() {
    let _serial = serial();
    let dir = tempfile::tempdir().expect("tempdir");
    let (p, _pfile) =
        policy(&SPLIT_30_70.replace(r#""ecs":30,"canary":70"#, r#""ecs":50,"canary":50"#));
    let local = start(Options::new(p, bin_dir()));
    let busy = BusyLoop(
        Command::new("taskset")
            .args(["-c", "0", "sh", "-c", "while :; do :; done"])
            .spawn()
            .expect("taskset (util-linux) runs a busy loop on core 0"),
    );
    let report = dir.path().join("starved.json");
    let status = Command::new("taskset")
        .args(["-c", "0"])
        .arg(bin_dir().join("loadgen"))
        .args([
            "--url",
            &local.url("/host"),
            "--rps",
            "10000",
            "--duration",
            "3s",
        ])
        .args(["--timeout", "2s", "--quiet", "--out"])
        .arg(&report)
        .status()
        .expect("run loadgen under taskset");
    drop(busy);
    local.stop();
    assert!(status.success(), "loadgen failed: {status}");
    let r: Value =
        serde_json::from_str(&std::fs::read_to_string(&report).expect("report")).expect("JSON");
    assert_eq!(r["loadgen"]["bottleneck"], true, "{}", r["loadgen"]);
    let (code, v) = verify(&[
        "compare",
        path_str(&report),
        "--baseline",
        "ecs",
        "--candidate",
        "canary",
    ]);
    assert_eq!(
        (code, v["verdict"].as_str()),
        (2, Some("INCONCLUSIVE")),
        "{v:#}"
    );
    assert!(
        v["reason"]
            .as_str()
            .is_some_and(|r| r.contains("could not keep up")),
        "{v:#}"
    );
}
