//! The local topology of weighbridge: an ALB-faithful router (HAProxy,
//! generated from the traffic policy), the targets as processes on
//! 127.0.0.1, the Lambda under a real runtime emulator, SQS; and the
//! one-command demo that loads it and prints `verify`'s verdict.

pub mod cli;
pub mod demo;
pub mod haproxy;
pub mod lambda;
pub mod local;
pub mod runtime;
pub mod validate;
