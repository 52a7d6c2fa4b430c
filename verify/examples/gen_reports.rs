//! Writes synthetic loadgen reports (for the verify benchmark and fixtures):
//!
//! ```text
//! cargo run --release -p verify --example gen_reports -- OUT_DIR COUNT [SECONDS] [RPS]
//! ```
//!
//! COUNT workers' reports of SECONDS (default 300) at RPS (default 200)
//! each, all started within the same second: 10/90 between ecs and lambda,
//! three ECS tasks and Lambda environments, a path rule path, 0.5 % 5xx at
//! lambda, 0.1 % connect errors. Worker i uses seed i.

use std::path::PathBuf;

use weighbridge_report::synth::{Instance, PathMix, Scenario};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let out = PathBuf::from(
        args.next()
            .ok_or("usage: gen_reports OUT_DIR COUNT [SECONDS] [RPS]")?,
    );
    let count: u64 = args.next().ok_or("COUNT missing")?.parse()?;
    let seconds: u64 = args.next().map_or(Ok(300), |s| s.parse())?;
    let rps: u64 = args.next().map_or(Ok(200), |s| s.parse())?;
    std::fs::create_dir_all(&out)?;
    for i in 0..count {
        let mut s = Scenario::constant(seconds, rps, &[("ecs", 0.1), ("lambda", 0.9)], i);
        s.started_at += time::Duration::milliseconds(i64::try_from(i % 10)? * 37);
        s.instances = (1..=3)
            .map(|k| Instance {
                id: format!("ecs-task-{k}"),
                target: "ecs".to_owned(),
                from: 0,
                to: u64::MAX,
            })
            .chain((1..=3).map(|k| Instance {
                id: format!("lambda-env-{i}-{k}"),
                target: "lambda".to_owned(),
                from: 0,
                to: u64::MAX,
            }))
            .collect();
        s.paths = vec![
            PathMix {
                path: "/dev/host".to_owned(),
                weight: 0.95,
                routed_to: None,
            },
            PathMix {
                path: "/dev/small-woodland-creature".to_owned(),
                weight: 0.05,
                routed_to: Some("ecs".to_owned()),
            },
        ];
        s.http_5xx = vec![("lambda".to_owned(), 0.005)];
        s.connect_failure = 0.001;
        let report = s.report()?;
        report.write_atomic(out.join(format!("report-{i:03}.json")))?;
    }
    Ok(())
}
