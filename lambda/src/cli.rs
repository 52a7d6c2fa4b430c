//! The command line of the `lambda` binary. Lambda starts `bootstrap` with
//! no arguments, so in practice everything comes from the environment
//! variables shown in `--help` (the same ones the ECS container reads, with
//! `BACKEND_LABEL` defaulting to `lambda`).

use clap::Parser;

/// weighbridge sample workload as an AWS Lambda function (`provided.al2023`):
/// the backend's router behind ALB target groups, API Gateway REST and HTTP
/// APIs, and Function URLs.
///
/// Runs inside Lambda, or locally against `cargo lambda watch
/// --only-lambda-apis` with the AWS_LAMBDA_* variables it prints.
/// Every flag can also be given as the environment variable shown.
#[derive(Debug, Parser)]
#[command(name = "lambda", version, about, long_about)]
pub struct Cli {
    #[command(flatten)]
    pub config: backend::Config,
}

#[cfg(test)]
mod tests {
    use clap::CommandFactory;

    #[test]
    fn command_line_is_consistent() {
        super::Cli::command().debug_assert();
    }
}
