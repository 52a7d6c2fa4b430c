//! The cold start: what an execution environment does once, before its first
//! invocation and outside any handler. Configuration is checked, the
//! identity (function name, version, memory, log stream) is resolved and the
//! SQS client is built by `backend::server::build_state`, exactly as the ECS
//! container does; every invocation then shares that state.

use backend::config::ConfigError;
use backend::{AppState, Config};

/// `x-served-by` when `BACKEND_LABEL` is not set.
pub const DEFAULT_LABEL: &str = "lambda";

/// The OpenTelemetry service name when `OTEL_SERVICE_NAME` is not set.
pub const SERVICE_NAME: &str = "weighbridge-lambda";

/// What the Lambda runtime client needs from the environment. Lambda sets
/// them; `cargo lambda watch --only-lambda-apis` prints them.
pub const RUNTIME_ENV: [&str; 4] = [
    "AWS_LAMBDA_RUNTIME_API",
    "AWS_LAMBDA_FUNCTION_NAME",
    "AWS_LAMBDA_FUNCTION_VERSION",
    "AWS_LAMBDA_FUNCTION_MEMORY_SIZE",
];

/// Why the function cannot start.
#[derive(Debug, thiserror::Error)]
pub enum StartupError {
    #[error(
        "{0} is not set: this binary runs inside AWS Lambda, or locally with the \
         AWS_LAMBDA_* variables that `cargo lambda watch --only-lambda-apis` prints \
         (see docs/lambda.md)"
    )]
    NotInLambda(&'static str),
    #[error(transparent)]
    Config(#[from] ConfigError),
}

/// Fails with the first runtime variable that is missing (the runtime
/// client would otherwise panic on it).
pub fn check_environment() -> Result<(), StartupError> {
    match RUNTIME_ENV
        .iter()
        .find(|name| std::env::var_os(name).is_none_or(|v| v.is_empty()))
    {
        Some(name) => Err(StartupError::NotInLambda(name)),
        None => Ok(()),
    }
}

/// Validates the configuration and builds the shared state once.
pub async fn build_state(config: Config) -> Result<AppState, StartupError> {
    config.validate()?;
    Ok(backend::server::build_state(config, DEFAULT_LABEL).await)
}
