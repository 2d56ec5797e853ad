//! The state each kind of component keeps, and the decisions that are its own (which backend,
//! hit or miss, stale or fresh). The engine owns the flow of requests between them.

pub mod balancer;
pub mod cache;
pub mod database;
pub mod station;
