//! Running one point: resolving the run settings (command line over the model's `sim` over
//! defaults), simulating its replications, and summarising them.

use crate::engine::rng::StreamKey;
use crate::engine::sim::{DEFAULT_MAX_IN_FLIGHT, RunConfig, RunStats, simulate};
use crate::model::{Arrival, Model};
use crate::stats::summary::{PointInfo, RunSummary, summarize};
use rayon::prelude::*;
use std::time::Instant;

pub const DEFAULT_DURATION_S: f64 = 120.0;
pub const DEFAULT_SEED: u64 = 1;

/// What the user asked for; `None` falls back to the model's `sim`, then to defaults.
#[derive(Debug, Clone, Default)]
pub struct RunOptions {
    pub traffic: f64,
    pub duration_s: Option<f64>,
    pub warmup_s: Option<f64>,
    pub seed: Option<u64>,
    pub replications: Option<u32>,
    pub max_events: Option<u64>,
    /// Swept parameters besides traffic, already applied to the model; they name the point.
    pub parameters: Vec<(String, f64)>,
    /// Record a time series with this interval (seconds); the first replication's is reported.
    pub timeline_s: Option<f64>,
    /// Wall-clock limit per simulation, seconds.
    pub max_wall_s: Option<f64>,
}

impl RunOptions {
    pub fn at_traffic(traffic: f64) -> RunOptions {
        RunOptions {
            traffic,
            ..Default::default()
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Settings {
    pub duration_s: f64,
    pub warmup_s: f64,
    pub seed: u64,
    pub replications: u32,
    pub max_in_flight: u32,
}

/// Settings for a run, or a message saying which combination is impossible.
pub fn resolve(model: &Model, opts: &RunOptions) -> Result<Settings, String> {
    let duration_s = opts
        .duration_s
        .or(model.sim.duration_s)
        .unwrap_or(DEFAULT_DURATION_S);
    // Without an explicit warm-up, the first sixth of the run is discarded (20 s of 120 s).
    let warmup_s = opts
        .warmup_s
        .or(model.sim.warmup_s)
        .unwrap_or(duration_s / 6.0);
    if !(duration_s.is_finite() && duration_s > 0.0) {
        return Err(format!("the duration must be positive, got {duration_s} s"));
    }
    if !(warmup_s.is_finite() && warmup_s >= 0.0 && warmup_s < duration_s) {
        return Err(format!(
            "the warm-up ({warmup_s} s) must be at least 0 and shorter than the duration ({duration_s} s); the duration includes the warm-up, so give --warmup with a shorter --duration"
        ));
    }
    if !(opts.traffic.is_finite() && opts.traffic > 0.0) {
        return Err(format!(
            "the traffic multiplier must be positive, got {}",
            opts.traffic
        ));
    }
    let replications = opts.replications.or(model.sim.replications).unwrap_or(1);
    if replications == 0 {
        return Err("replications must be at least 1".into());
    }
    Ok(Settings {
        duration_s,
        warmup_s,
        seed: opts.seed.or(model.sim.seed).unwrap_or(DEFAULT_SEED),
        replications,
        max_in_flight: model.sim.max_in_flight.unwrap_or(DEFAULT_MAX_IN_FLIGHT),
    })
}

/// The canonical name of a point, part of every random stream's key.
pub fn point_key(traffic: f64, parameters: &[(String, f64)]) -> String {
    let mut s = format!("traffic={traffic}");
    for (k, v) in parameters {
        s.push_str(&format!(";{k}={v}"));
    }
    s
}

/// The mean offered rate over the measured window, requests per second.
pub fn offered_rps(model: &Model, traffic: f64, s: &Settings) -> Option<f64> {
    match &model.workload.arrival {
        Arrival::Poisson { rate } => {
            let steps = 10_000;
            let span = s.duration_s - s.warmup_s;
            let mean_factor = (0..steps)
                .map(|i| {
                    let t = s.warmup_s + span * (i as f64 + 0.5) / steps as f64;
                    model.workload.profile.factor(t)
                })
                .sum::<f64>()
                / steps as f64;
            Some(rate * traffic * mean_factor)
        }
        Arrival::Closed { .. } => None,
    }
}

/// Simulates every replication of one point (in parallel; results combined in index order).
pub fn run_replications(model: &Model, opts: &RunOptions, s: &Settings) -> Vec<RunStats> {
    let point = point_key(opts.traffic, &opts.parameters);
    (0..s.replications)
        .into_par_iter()
        .map(|rep| {
            simulate(
                model,
                RunConfig {
                    traffic: opts.traffic,
                    duration_s: s.duration_s,
                    warmup_s: s.warmup_s,
                    key: StreamKey {
                        seed: s.seed,
                        point: point.clone(),
                        replication: rep,
                    },
                    max_in_flight: s.max_in_flight,
                    max_events: opts.max_events,
                    // One replication's timeline is enough to see what happened, and keeps
                    // memory flat when many run.
                    timeline_s: if rep == 0 { opts.timeline_s } else { None },
                    max_wall_s: opts.max_wall_s,
                },
            )
        })
        .collect()
}

/// Runs one point and summarises it: the object `archsim run --json` prints.
pub fn run_point(model: &Model, opts: &RunOptions) -> Result<RunSummary, String> {
    let s = resolve(model, opts)?;
    let start = Instant::now();
    let runs = run_replications(model, opts, &s);
    let wall_s = start.elapsed().as_secs_f64();
    let offered = offered_rps(model, opts.traffic, &s).unwrap_or_else(|| {
        runs.iter()
            .map(|r| r.arrived as f64 / r.measured_s.max(1e-9))
            .sum::<f64>()
            / runs.len() as f64
    });
    Ok(summarize(
        PointInfo {
            model,
            traffic: opts.traffic,
            parameters: opts.parameters.clone(),
            offered_rps: offered,
            duration_s: s.duration_s,
            warmup_s: s.warmup_s,
            seed: s.seed,
            wall_s,
        },
        &runs,
    ))
}
