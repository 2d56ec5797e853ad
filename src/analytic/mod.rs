//! Closed-form results from queueing theory.
pub mod queueing;
