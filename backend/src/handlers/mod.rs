//! The HTTP handlers the router mounts, one module per group of routes.
//! They read the shared [`AppState`](crate::state::AppState); the resources
//! it holds (the SQS client, the stress controller) know nothing of HTTP
//! routes, so no module here is imported back.

pub mod faults;
pub mod health;
pub mod host;
pub mod samples;
pub mod send;
pub mod stress;
