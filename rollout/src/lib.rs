//! weighbridge `rollout`: traffic changes driven and judged as they happen.
//!
//! [`check`] is the first command: the load runs until the sequential judge
//! of `verify` decides the split, and stops there. The load is loadgen's and
//! the judging verify's, both used as libraries; this crate only joins them.
//! `rollout` itself (weights walked step by step, each judged) will build on
//! the same loop.

pub mod check;
pub mod elbv2;
