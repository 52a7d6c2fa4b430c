//! Counts of real production traffic from CloudWatch: the ALB's
//! `AWS/ApplicationELB` `RequestCount` metric, `Sum` per target group over a
//! time range, so a split can be judged with no load generated at all.
//!
//! Region, credentials and endpoint come from the standard AWS chain
//! (`AWS_REGION`, `AWS_PROFILE`, instance roles, ...; `AWS_ENDPOINT_URL`
//! points it at a local stand-in such as `moto_server`).

use std::collections::BTreeMap;

use aws_sdk_cloudwatch::primitives::DateTime;
use aws_sdk_cloudwatch::types::{Dimension, Statistic};
use time::OffsetDateTime;

use crate::counts::Counts;
use crate::error::InputError;

/// The namespace of ALB metrics.
pub const NAMESPACE: &str = "AWS/ApplicationELB";
/// The metric: requests the load balancer routed to a target group.
pub const METRIC: &str = "RequestCount";
/// CloudWatch returns at most this many datapoints per call.
pub const MAX_DATAPOINTS: i64 = 1440;

/// What to ask CloudWatch.
#[derive(Debug, Clone, PartialEq)]
pub struct Query {
    /// Target label → target group dimension (`targetgroup/name/id`).
    pub target_groups: Vec<(String, String)>,
    /// Load balancer dimension (`app/name/id`).
    pub load_balancer: String,
    /// Start of the range.
    pub start: OffsetDateTime,
    /// End of the range.
    pub end: OffsetDateTime,
}

/// Counts from CloudWatch: per target, and per period (for the
/// per-window test).
#[derive(Debug, Clone, PartialEq)]
pub struct CloudWatchCounts {
    /// Requests per target label over the whole range.
    pub counts: Counts,
    /// Period of the datapoints, seconds.
    pub period_s: i64,
    /// Period start (Unix seconds) → requests per label, in the order of
    /// `Query::target_groups`.
    pub periods: BTreeMap<i64, Vec<u64>>,
}

impl Query {
    /// The period: one minute, or longer so that the range fits in one call.
    pub fn period_s(&self) -> i64 {
        let range = (self.end - self.start).whole_seconds().max(60);
        let minutes = (range + 60 * MAX_DATAPOINTS - 1) / (60 * MAX_DATAPOINTS);
        60 * minutes.max(1)
    }

    /// Checks the query before any call.
    pub fn validate(&self) -> Result<(), InputError> {
        let bad = |reason: String| InputError::BadList {
            list: "--cloudwatch".to_owned(),
            reason,
        };
        if self.end <= self.start {
            return Err(bad("--end must be after --start".to_owned()));
        }
        if self.target_groups.is_empty() {
            return Err(bad(
                "give --target-group LABEL=targetgroup/name/id,...".to_owned()
            ));
        }
        for (label, tg) in &self.target_groups {
            if !tg.starts_with("targetgroup/") {
                return Err(bad(format!(
                    "target group of {label} is {tg:?}; expected the dimension form targetgroup/NAME/ID"
                )));
            }
        }
        if !self.load_balancer.starts_with("app/") {
            return Err(bad(format!(
                "load balancer {:?}: expected the dimension form app/NAME/ID",
                self.load_balancer
            )));
        }
        Ok(())
    }
}

/// Queries CloudWatch (blocking: runs its own single-threaded runtime).
pub fn fetch(query: &Query) -> Result<CloudWatchCounts, InputError> {
    query.validate()?;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| InputError::CloudWatch(format!("cannot start a runtime: {e}")))?;
    runtime.block_on(fetch_async(query))
}

async fn fetch_async(query: &Query) -> Result<CloudWatchCounts, InputError> {
    let config = aws_config::load_from_env().await;
    let client = aws_sdk_cloudwatch::Client::new(&config);
    let period_s = query.period_s();
    let mut counts = Counts::new();
    let mut periods: BTreeMap<i64, Vec<u64>> = BTreeMap::new();
    let k = query.target_groups.len();
    for (i, (label, tg)) in query.target_groups.iter().enumerate() {
        let out = client
            .get_metric_statistics()
            .namespace(NAMESPACE)
            .metric_name(METRIC)
            .dimensions(Dimension::builder().name("TargetGroup").value(tg).build())
            .dimensions(
                Dimension::builder()
                    .name("LoadBalancer")
                    .value(&query.load_balancer)
                    .build(),
            )
            .start_time(DateTime::from_secs(query.start.unix_timestamp()))
            .end_time(DateTime::from_secs(query.end.unix_timestamp()))
            .period(i32::try_from(period_s).unwrap_or(i32::MAX))
            .statistics(Statistic::Sum)
            .send()
            .await
            .map_err(|e| {
                InputError::CloudWatch(format!(
                    "GetMetricStatistics {NAMESPACE} {METRIC} for {label} ({tg}): {}",
                    aws_sdk_cloudwatch::error::DisplayErrorContext(&e)
                ))
            })?;
        let mut total = 0u64;
        for dp in out.datapoints() {
            let sum = dp.sum().unwrap_or(0.0);
            if !(sum.is_finite() && sum >= 0.0) {
                return Err(InputError::CloudWatch(format!(
                    "{label}: a datapoint has Sum {sum}"
                )));
            }
            let n = sum.round() as u64;
            total += n;
            let at = dp.timestamp().map_or(0, DateTime::secs);
            periods.entry(at).or_insert_with(|| vec![0; k])[i] += n;
        }
        counts.add(label, total);
    }
    Ok(CloudWatchCounts {
        counts,
        period_s,
        periods,
    })
}
