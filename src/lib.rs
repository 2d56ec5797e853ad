//! archsim: a discrete-event simulator of system architectures under load.
//!
//! Data flows one way: a model file is read into [`model::raw`] types, validated into a
//! [`model::Model`], simulated by [`engine`], summarised by [`stats`], and written by [`report`].

pub mod analytic;
pub mod bundled;
pub mod capacity;
pub mod cli;
pub mod components;
pub mod dist;
pub mod engine;
pub mod model;
pub mod report;
pub mod runner;
pub mod shard;
pub mod stats;
pub mod study;
pub mod sweep;
