//! weighbridge's sample workload: one axum [`Router`](axum::Router) that
//! every target serves (the ECS container binary, the Lambda function, the
//! local topology), so any difference between targets is the platform's,
//! never the code's. Every response says who served it (`x-served-by`,
//! `x-backend-host`, `x-backend-version`).

pub mod cli;
pub mod config;
pub mod cpu_budget;
pub mod error;
pub mod handlers;
pub mod identity;
pub mod middleware;
pub mod router;
pub mod server;
pub mod sqs;
pub mod state;
pub mod stress;
pub mod telemetry;
pub mod worker;

pub use config::Config;
pub use identity::Identity;
pub use router::app;
pub use state::AppState;
