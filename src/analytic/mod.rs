//! Closed-form results from queueing theory.
pub mod explain;
pub mod queueing;
