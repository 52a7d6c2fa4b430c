//! Who is answering: the target label, the instance, the version, and what the
//! platform (ECS task metadata, Lambda environment) says about it. Resolved
//! once at start-up, outside any request handler.

use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::config::Config;

/// Where the ECS agent publishes task metadata (v4) inside a task.
const ECS_METADATA_ENV: &str = "ECS_CONTAINER_METADATA_URI_V4";
/// The metadata endpoint is local to the task; anything slower is broken.
const ECS_METADATA_TIMEOUT: Duration = Duration::from_millis(800);

/// ECS facts about the task this process runs in.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct EcsTask {
    pub task_arn: String,
    pub cluster: String,
    pub availability_zone: Option<String>,
}

/// Lambda facts about the function and its execution environment.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct LambdaFunction {
    pub function_name: String,
    pub function_version: String,
    pub memory_mb: Option<u32>,
    /// The log stream names the execution environment: one per instance.
    pub log_stream: String,
}

/// The identity every response carries (`x-served-by`, `x-backend-host`,
/// `x-backend-version`). Serialized, it is the body of `/host` (less the
/// message): the label as `backend`, the ECS or Lambda facts inline.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Identity {
    /// Target label: `ecs`, `lambda`, `canary`, ...
    #[serde(rename = "backend")]
    pub label: String,
    /// Instance id: ECS task id, Lambda log stream, or `<hostname>-<pid>`.
    pub instance: String,
    pub version: String,
    pub hostname: String,
    pub image_uri: String,
    #[serde(flatten)]
    pub ecs: Option<EcsTask>,
    #[serde(flatten)]
    pub lambda: Option<LambdaFunction>,
}

impl Identity {
    /// Builds the identity from the configuration, the Lambda environment
    /// variables and, when running in ECS, the task metadata endpoint.
    /// `default_label` is the binary's own label (`ecs` or `lambda`).
    pub async fn resolve(config: &Config, default_label: &str) -> Self {
        let ecs = match std::env::var(ECS_METADATA_ENV) {
            Ok(uri) if !uri.is_empty() => fetch_ecs_task(&uri).await,
            _ => None,
        };
        Self::from_parts(config, default_label, ecs, lambda_from_env())
    }

    /// Pure assembly, so tests can build any identity without the platform.
    pub fn from_parts(
        config: &Config,
        default_label: &str,
        ecs: Option<EcsTask>,
        lambda: Option<LambdaFunction>,
    ) -> Self {
        let hostname = gethostname::gethostname().to_string_lossy().into_owned();
        let instance = config
            .instance_id
            .clone()
            .filter(|s| !s.is_empty())
            .or_else(|| ecs.as_ref().map(|t| task_id(&t.task_arn).to_owned()))
            .or_else(|| {
                lambda
                    .as_ref()
                    .map(|l| l.log_stream.clone())
                    .filter(|s| !s.is_empty())
            })
            .unwrap_or_else(|| format!("{hostname}-{}", std::process::id()));
        Self {
            label: config
                .label
                .clone()
                .filter(|s| !s.is_empty())
                .unwrap_or_else(|| default_label.to_owned()),
            instance,
            version: config.version_string(),
            hostname,
            image_uri: config.image_uri.clone(),
            ecs,
            lambda,
        }
    }
}

/// The task id is the last segment of the task ARN
/// (`arn:aws:ecs:region:acct:task/cluster/<id>`).
pub fn task_id(task_arn: &str) -> &str {
    task_arn.rsplit('/').next().unwrap_or(task_arn)
}

fn lambda_from_env() -> Option<LambdaFunction> {
    let function_name = std::env::var("AWS_LAMBDA_FUNCTION_NAME").ok()?;
    Some(LambdaFunction {
        function_name,
        function_version: std::env::var("AWS_LAMBDA_FUNCTION_VERSION").unwrap_or_default(),
        memory_mb: std::env::var("AWS_LAMBDA_FUNCTION_MEMORY_SIZE")
            .ok()
            .and_then(|m| m.parse().ok()),
        log_stream: std::env::var("AWS_LAMBDA_LOG_STREAM_NAME").unwrap_or_default(),
    })
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct TaskMetadata {
    #[serde(rename = "TaskARN")]
    task_arn: String,
    cluster: String,
    availability_zone: Option<String>,
}

/// Reads `${ECS_CONTAINER_METADATA_URI_V4}/task`. Any failure is logged and
/// yields `None`: identity still works from the hostname.
pub async fn fetch_ecs_task(base_uri: &str) -> Option<EcsTask> {
    let url = format!("{}/task", base_uri.trim_end_matches('/'));
    let client = reqwest::Client::builder()
        .timeout(ECS_METADATA_TIMEOUT)
        .build()
        .ok()?;
    let result = async {
        let meta: TaskMetadata = client
            .get(&url)
            .send()
            .await?
            .error_for_status()?
            .json()
            .await?;
        Ok::<_, reqwest::Error>(meta)
    }
    .await;
    match result {
        Ok(m) => Some(EcsTask {
            task_arn: m.task_arn,
            cluster: m.cluster,
            availability_zone: m.availability_zone,
        }),
        Err(error) => {
            tracing::warn!(%url, %error, "ECS task metadata unavailable; identity falls back to the hostname");
            None
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn instance_prefers_explicit_then_ecs_then_lambda() {
        let mut config = Config::defaults();
        let ecs = EcsTask {
            task_arn: "arn:aws:ecs:eu-west-2:1:task/c/abc123".into(),
            cluster: "c".into(),
            availability_zone: None,
        };
        let lambda = LambdaFunction {
            function_name: "f".into(),
            function_version: "$LATEST".into(),
            memory_mb: Some(128),
            log_stream: "2026/11/23/[$LATEST]deadbeef".into(),
        };
        let id = Identity::from_parts(&config, "ecs", Some(ecs.clone()), None);
        assert_eq!(id.instance, "abc123");
        assert_eq!(id.label, "ecs");
        let id = Identity::from_parts(&config, "lambda", None, Some(lambda));
        assert_eq!(id.instance, "2026/11/23/[$LATEST]deadbeef");
        config.instance_id = Some("ecs-1".into());
        config.label = Some("canary".into());
        let id = Identity::from_parts(&config, "ecs", Some(ecs), None);
        assert_eq!(id.instance, "ecs-1");
        assert_eq!(id.label, "canary");
        let no_stream = LambdaFunction {
            function_name: "f".into(),
            function_version: "1".into(),
            memory_mb: None,
            log_stream: String::new(),
        };
        let id = Identity::from_parts(&Config::defaults(), "lambda", None, Some(no_stream));
        assert!(
            !id.instance.is_empty(),
            "an empty log stream is no instance id"
        );
        let local = Identity::from_parts(&Config::defaults(), "ecs", None, None);
        assert!(
            local
                .instance
                .ends_with(&format!("-{}", std::process::id()))
        );
    }
}
