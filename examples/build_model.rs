//! Build a model in code and run it at a few traffic levels.
//!
//! The architecture: a load balancer in front of N identical app servers, which all query one
//! database. We write the model as RON text (the same format as the files in `models/`), so
//! every field reads exactly as in docs/model-format.md, and let `Model::from_text` check it.
//! Then we simulate it at 1x, 2x, 4x and 6x the base traffic and print, for each level, the
//! throughput, the p99 latency and the bottleneck.
//!
//! Run it with:
//!
//! ```sh
//! cargo run --release --example build_model
//! ```

use archsim::analytic::explain::explain;
use archsim::model::Model;
use archsim::runner::{RunOptions, run_point};
use archsim::stats::summary::RunSummary;
use std::error::Error;

/// How many app servers sit behind the load balancer.
const APP_SERVERS: u32 = 3;

/// The traffic multipliers to try: 1x is 100 requests per second.
const TRAFFIC: [f64; 4] = [1.0, 2.0, 4.0, 6.0];

/// The model as RON text, with `app_servers` copies of the app server.
fn model_text(app_servers: u32) -> String {
    format!(
        r#"
Model(
    name: "LB + {app_servers} app servers + database",
    workload: Workload(
        arrival: Poisson(rate: 100.0),        // 100 requests per second at 1x
        entry: "lb",                          // every request enters the load balancer
    ),
    components: {{
        "lb": LoadBalancer(targets: ["app"], policy: RoundRobin),
        "app": Server(
            instances: {app_servers},         // identical copies behind "lb"
            workers: 4,                       // 4 requests at once per copy
            handler: [
                Work(Exp(mean_ms: 20.0)),     // ~20 ms of CPU
                Call("db"),                   // then one query; the worker waits for it
            ],
            queue_capacity: 100,              // beyond 100 waiting, requests are dropped
        ),
        "db": Database(workers: 4, read: Exp(mean_ms: 5.0), write: Exp(mean_ms: 10.0)),
    }},
)
"#
    )
}

/// Builds the model, runs it at every traffic level, prints a table and returns the summaries.
pub fn run() -> Result<Vec<RunSummary>, Box<dyn Error>> {
    // Parse and validate. A mistake in the text comes back as an error naming line and column.
    let model = Model::from_text(&model_text(APP_SERVERS), "build_model.ron")?;

    println!("{}", model.name);
    println!(
        "{:>8} {:>12} {:>12} {:>10} {:>8}  bottleneck",
        "traffic", "offered/s", "served/s", "p99 ms", "errors"
    );
    let mut summaries = Vec::new();
    for traffic in TRAFFIC {
        // Short runs keep the example fast: 30 simulated seconds, of which the first 5 warm the
        // system up and are not measured. Everything else comes from the defaults.
        let options = RunOptions {
            duration_s: Some(30.0),
            warmup_s: Some(5.0),
            ..RunOptions::at_traffic(traffic)
        };
        let s = run_point(&model, &options)?;
        // How busy the bottleneck's workers were (0 to 1).
        let busy = s
            .components
            .get(&s.bottleneck)
            .map_or(0.0, |c| c.utilization);
        println!(
            "{:>7}x {:>12.1} {:>12.1} {:>10.1} {:>7.1}%  {} ({:.0}% busy)",
            s.traffic,
            s.offered_rps,
            s.throughput_rps,
            s.latency_ms.p99,
            100.0 * s.error_rate,
            s.bottleneck,
            100.0 * busy,
        );
        summaries.push(s);
    }

    // The analytic pass (`archsim explain`) predicts where the first component saturates,
    // from the service times alone: a quick check on what the simulation shows.
    let theory = explain(&model, 1.0);
    if let Some(x) = theory.saturation_traffic {
        println!(
            "theory: `{}` saturates first, at about {x:.1}x; the design costs ${:.0}/month",
            theory.bottleneck, summaries[0].cost.monthly_usd
        );
    }
    Ok(summaries)
}

pub fn main() -> Result<(), Box<dyn Error>> {
    run()?;
    Ok(())
}
