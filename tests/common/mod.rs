//! Helpers shared by the theory tests: running a model text, independent replications, and
//! statistical agreement checks.
#![allow(dead_code)]

use archsim::model::Model;
use archsim::runner::{RunOptions, run_point};
use archsim::stats::summary::RunSummary;

pub fn load(text: &str) -> Model {
    Model::from_text(text, "test.ron").unwrap_or_else(|e| panic!("model does not load: {e:?}"))
}

pub fn run(
    text: &str,
    traffic: f64,
    duration_s: f64,
    warmup_s: f64,
    seed: u64,
    reps: u32,
) -> RunSummary {
    let model = load(text);
    run_point(
        &model,
        &RunOptions {
            traffic,
            duration_s: Some(duration_s),
            warmup_s: Some(warmup_s),
            seed: Some(seed),
            replications: Some(reps),
            ..Default::default()
        },
    )
    .expect("run_point")
}
