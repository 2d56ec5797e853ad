//! Simulate an M/M/c queue and compare it with the closed form (Erlang C).
//!
//! M/M/c: Poisson arrivals, exponential service times, c identical workers, one FIFO queue. In
//! archsim that is one Server with `workers: c` whose handler is a single exponential `Work`.
//! Queueing theory gives its mean wait exactly: `archsim::analytic::queueing::mmc_mean_wait`.
//! If the simulator is right, the theory falls inside the simulation's confidence interval.
//!
//! Run it with `cargo run --release --example check_against_theory`.

use archsim::analytic::queueing::{mmc_mean_sojourn, mmc_mean_wait};
use archsim::model::Model;
use archsim::runner::{RunOptions, run_point};
use std::error::Error;

/// Workers.
const C: u32 = 4;
/// Mean service time, ms: each worker serves MU = 100 requests per second.
const SERVICE_MS: f64 = 10.0;
/// Utilisation of each worker: LAMBDA / (C × MU).
const RHO: f64 = 0.8;

/// What the simulation measured next to what the formulas say, all in ms.
#[derive(Debug)]
pub struct Comparison {
    pub theory_wait_ms: f64,
    pub simulated_wait_ms: f64,
    pub theory_sojourn_ms: f64,
    pub simulated_sojourn_ms: f64,
    /// Half-width of the 95% confidence interval of the simulated mean sojourn.
    pub sojourn_ci95_ms: f64,
    pub simulated_utilization: f64,
}

pub fn run() -> Result<Comparison, Box<dyn Error>> {
    let mu = 1000.0 / SERVICE_MS; // per second
    let lambda = RHO * f64::from(C) * mu; // per second
    let text = format!(
        r#"Model(
            name: "M/M/{C}",
            workload: Workload(arrival: Poisson(rate: {lambda}), entry: "s"),
            components: {{ "s": Server(workers: {C}, handler: [Work(Exp(mean_ms: {SERVICE_MS}))]) }},
        )"#
    );
    let model = Model::from_text(&text, "mmc.ron")?;

    // 8 independent replications of 200 simulated seconds (~64 000 requests each), the first
    // 20 s of each discarded so the queue starts from a typical state, not from empty.
    let s = run_point(
        &model,
        &RunOptions {
            duration_s: Some(200.0),
            warmup_s: Some(20.0),
            replications: Some(8),
            ..RunOptions::at_traffic(1.0)
        },
    )?;
    let server = s.components.get("s").ok_or("no component `s`")?;

    // The formulas work in any time unit; with rates per second they return seconds.
    let cmp = Comparison {
        theory_wait_ms: 1000.0 * mmc_mean_wait(lambda, mu, C).ok_or("unstable queue")?,
        simulated_wait_ms: server.mean_wait_ms,
        theory_sojourn_ms: 1000.0 * mmc_mean_sojourn(lambda, mu, C).ok_or("unstable queue")?,
        simulated_sojourn_ms: s.latency_ms.mean,
        sojourn_ci95_ms: s.ci95.latency_ms_mean.unwrap_or(f64::NAN),
        simulated_utilization: server.utilization,
    };

    println!(
        "M/M/{C}, λ = {lambda} req/s, μ = {mu} req/s per worker, ρ = {RHO} ({} replications)",
        s.replications
    );
    println!("{:<18} {:>10} {:>12}", "", "theory", "simulated");
    println!(
        "{:<18} {:>10.3} {:>12.3}",
        "utilization", RHO, cmp.simulated_utilization
    );
    println!(
        "{:<18} {:>10.3} {:>12.3}",
        "mean wait, ms", cmp.theory_wait_ms, cmp.simulated_wait_ms
    );
    println!(
        "{:<18} {:>10.3} {:>12.3} ± {:.3} (95% CI)",
        "mean sojourn, ms", cmp.theory_sojourn_ms, cmp.simulated_sojourn_ms, cmp.sojourn_ci95_ms
    );
    let inside = (cmp.simulated_sojourn_ms - cmp.theory_sojourn_ms).abs() <= cmp.sojourn_ci95_ms;
    println!(
        "the theory is {} the simulation's 95% confidence interval",
        if inside { "inside" } else { "outside" }
    );
    Ok(cmp)
}

pub fn main() -> Result<(), Box<dyn Error>> {
    run()?;
    Ok(())
}
