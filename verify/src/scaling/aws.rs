//! `verify scaling --ecs-cluster C --ecs-service S`: the arguments, and
//! what AWS is asked. ECS `DescribeServices` (desired, running and pending
//! counts now, deployments, the service's recent events) and Application
//! Auto Scaling `DescribeScalingActivities` for `service/<cluster>/<service>`,
//! `ecs:service:DesiredCount`, every page. Each activity's new desired
//! count is read from its description ("Setting desired count to 3.").
//! [`super::lineup`] lines the answer up with the clients' view.
//!
//! Region, credentials and endpoint come from the standard AWS chain
//! (`AWS_REGION`, `AWS_PROFILE`, roles; `AWS_ENDPOINT_URL` for a stand-in).

use aws_sdk_applicationautoscaling::types::{ScalableDimension, ServiceNamespace};
use time::OffsetDateTime;
use weighbridge_report::Report;

use super::lineup::{Activity, EcsObservations, ServiceEvent, line_up, resource_id};
use super::{Deployment, ScalingOptions, ScalingReport};
use crate::error::InputError;

/// The ECS options of `verify scaling`.
#[derive(Debug, Clone, PartialEq, Eq, clap::Args)]
pub struct EcsArgs {
    /// Also read the ECS service's scaling from AWS and line it up with what
    /// the clients saw: Application Auto Scaling activities (each desired
    /// count change, its status and cause) and the desired / running /
    /// pending counts. The cluster name (or ARN); needs --ecs-service.
    /// Region, credentials and endpoint come from the standard AWS chain
    /// (AWS_REGION, AWS_PROFILE, roles; AWS_ENDPOINT_URL for a stand-in).
    #[arg(long, value_name = "NAME", requires = "ecs_service")]
    pub ecs_cluster: Option<String>,

    /// The ECS service name (or ARN) in --ecs-cluster.
    #[arg(long, value_name = "NAME", requires = "ecs_cluster")]
    pub ecs_service: Option<String>,

    /// With --ecs-cluster: the report's target label that this service
    /// serves (as in the x-served-by header); its client-seen scaling
    /// events are matched to the AWS activities.
    #[arg(
        long,
        value_name = "LABEL",
        default_value = "ecs",
        requires = "ecs_cluster"
    )]
    pub ecs_target: String,
}

impl EcsArgs {
    /// Cluster and service, when both are given.
    pub fn names(&self) -> Option<(&str, &str)> {
        Some((self.ecs_cluster.as_deref()?, self.ecs_service.as_deref()?))
    }

    /// With `--ecs-cluster`: fetches from AWS and lines it up with `report`
    /// (judged from `merged`); without it, does nothing.
    pub fn apply(
        &self,
        report: &mut ScalingReport,
        merged: &Report,
        options: &ScalingOptions,
    ) -> Result<(), InputError> {
        let Some((cluster, service)) = self.names() else {
            return Ok(());
        };
        let obs = fetch(cluster, service)?;
        line_up(report, merged.started_at, &obs, &self.ecs_target, options);
        Ok(())
    }
}

/// Queries ECS and Application Auto Scaling (blocking: runs its own
/// single-threaded runtime).
pub fn fetch(cluster: &str, service: &str) -> Result<EcsObservations, InputError> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| InputError::Aws {
            service: "ECS",
            message: format!("cannot start a runtime: {e}"),
        })?;
    runtime.block_on(fetch_async(cluster, service))
}

/// An SDK timestamp (both SDKs re-export `aws_smithy_types::DateTime`) as a time.
fn to_time(dt: &aws_sdk_ecs::primitives::DateTime) -> OffsetDateTime {
    OffsetDateTime::from_unix_timestamp_nanos(
        i128::from(dt.secs()) * 1_000_000_000 + i128::from(dt.subsec_nanos()),
    )
    .unwrap_or(OffsetDateTime::UNIX_EPOCH)
}

fn count(n: i32) -> u64 {
    u64::try_from(n).unwrap_or(0)
}

async fn fetch_async(cluster: &str, service: &str) -> Result<EcsObservations, InputError> {
    let config = aws_config::load_from_env().await;
    let ecs = aws_sdk_ecs::Client::new(&config);
    let out = ecs
        .describe_services()
        .cluster(cluster)
        .services(service)
        .send()
        .await
        .map_err(|e| InputError::Aws {
            service: "ECS",
            message: format!(
                "DescribeServices {service} in cluster {cluster}: {}",
                aws_sdk_ecs::error::DisplayErrorContext(&e)
            ),
        })?;
    let Some(svc) = out.services().first() else {
        let reason = out
            .failures()
            .iter()
            .map(|f| {
                [f.reason(), f.detail()]
                    .into_iter()
                    .flatten()
                    .collect::<Vec<_>>()
                    .join(": ")
            })
            .collect::<Vec<_>>()
            .join("; ");
        return Err(InputError::UnknownEcsService {
            cluster: cluster.to_owned(),
            service: service.to_owned(),
            reason: if reason.is_empty() {
                "no such service".to_owned()
            } else {
                reason
            },
        });
    };
    let deployments = svc
        .deployments()
        .iter()
        .map(|d| Deployment {
            id: d.id().unwrap_or_default().to_owned(),
            status: d.status().unwrap_or_default().to_owned(),
            desired: count(d.desired_count()),
            running: count(d.running_count()),
            pending: count(d.pending_count()),
            rollout_state: d.rollout_state().map(|s| s.as_str().to_owned()),
        })
        .collect();
    let events = svc
        .events()
        .iter()
        .filter_map(|e| {
            Some(ServiceEvent {
                at: to_time(e.created_at()?),
                message: e.message().unwrap_or_default().to_owned(),
            })
        })
        .collect();

    let aas = aws_sdk_applicationautoscaling::Client::new(&config);
    let resource = resource_id(cluster, service);
    let mut activities = Vec::new();
    let mut token: Option<String> = None;
    loop {
        let page = aas
            .describe_scaling_activities()
            .service_namespace(ServiceNamespace::Ecs)
            .resource_id(&resource)
            .scalable_dimension(ScalableDimension::EcsServiceDesiredCount)
            .set_next_token(token.take())
            .send()
            .await
            .map_err(|e| InputError::Aws {
                service: "Application Auto Scaling",
                message: format!(
                    "DescribeScalingActivities {resource}: {}",
                    aws_sdk_applicationautoscaling::error::DisplayErrorContext(&e)
                ),
            })?;
        for a in page.scaling_activities() {
            activities.push(Activity {
                id: a.activity_id().to_owned(),
                start: to_time(a.start_time()),
                end: a.end_time().map(to_time),
                status: a.status_code().as_str().to_owned(),
                status_message: a.status_message().map(str::to_owned),
                description: a.description().to_owned(),
                cause: a.cause().to_owned(),
            });
        }
        match page.next_token() {
            Some(t) if !t.is_empty() => token = Some(t.to_owned()),
            _ => break,
        }
    }
    Ok(EcsObservations {
        cluster: cluster.to_owned(),
        service: service.to_owned(),
        desired: count(svc.desired_count()),
        running: count(svc.running_count()),
        pending: count(svc.pending_count()),
        deployments,
        events,
        activities,
    })
}
