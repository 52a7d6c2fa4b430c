//! The weighbridge Lambda function: the very [`Router`](axum::Router) that
//! `backend` builds ([`backend::app`]), served through `lambda_http` for ALB
//! target groups, API Gateway REST (1.0) and HTTP (2.0) APIs, and Function
//! URLs. Nothing here routes or answers a request: routes, handlers and the
//! identity headers live in `backend` only.
//!
//! - [`cli`]: the environment (and flags) the function reads.
//! - [`startup`]: the cold start, done once per execution environment.
//! - [`service`]: the HTTP service run for every event (the router, behind
//!   the request adjustments below).
//! - [`client_path`]: which path the router sees (stage and base path).
//! - [`response`]: the router's response, in the form the runtime accepts.
//! - [`invocation`]: per-invocation telemetry: the X-Ray parent, the flush.
//! - [`runtime`]: puts them together on the Lambda runtime.

pub mod cli;
pub mod client_path;
pub mod invocation;
pub mod response;
pub mod runtime;
pub mod service;
pub mod startup;

pub use cli::Cli;
pub use runtime::run;
