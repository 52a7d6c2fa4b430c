//! weighbridge `rollout`: traffic changes driven and judged as they happen.
//!
//! - [`check`]: the load runs until the sequential judge of `verify`
//!   decides the split, and stops there.
//! - `rollout` ([`drive`]): a policy's schedule walked step by step on a
//!   router ([`router`]: HAProxy's runtime API, or an ALB listener rule via
//!   [`elbv2`]), each step judged on its own window of the load
//!   ([`step`]), or on CloudWatch's counts with no load ([`cloudwatch`]),
//!   and the weights rolled back when one fails.
//!
//! The load is loadgen's and the judging verify's, both used as libraries;
//! this crate only joins them.

pub mod args;
pub mod check;
pub mod cloudwatch;
pub mod drive;
pub mod elbv2;
pub mod output;
pub mod plan;
pub mod router;
pub mod step;
