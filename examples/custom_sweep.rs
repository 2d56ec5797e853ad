//! A sweep in code: 1 to 4 app servers × traffic from 1x to 8x, the knee of each series, and the
//! same files `archsim sweep` writes (CSV, JSON, charts and report.html).
//!
//! It is the library form of
//!
//! ```sh
//! archsim sweep farm.ron --vary app.instances=1..4 --traffic 1..8 --out output/example-sweep
//! ```
//!
//! Run it with `cargo run --release --example custom_sweep`, then open
//! `output/example-sweep/report.html`.

use archsim::runner::RunOptions;
use archsim::stats::summary::RunSummary;
use archsim::study::{Source, Study, StudyArgs};
use archsim::sweep::{DEFAULT_MAX_ERROR_RATE, DEFAULT_SLO_P99_MS, Knee, Vary, parse_list};
use std::error::Error;
use std::path::{Path, PathBuf};

/// One app server (4 workers, ~20 ms per request) in front of a database with plenty of room.
/// The sweep changes `app.instances`, so the `instances: 1` here is only the starting point.
const FARM: &str = r#"
Model(
    name: "Farm",
    workload: Workload(arrival: Poisson(rate: 100.0), entry: "lb"),
    components: {
        "lb": LoadBalancer(targets: ["app"], policy: LeastConnections),
        "app": Server(
            instances: 1,
            workers: 4,
            handler: [Work(Exp(mean_ms: 20.0)), Call("db")],
            queue_capacity: 100,
        ),
        "db": Database(workers: 8, read: Exp(mean_ms: 5.0), write: Exp(mean_ms: 10.0)),
    },
)
"#;

/// Where the files go: `output/` is git-ignored.
pub fn out_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("output/example-sweep")
}

/// Runs the sweep, prints the knees, writes the reports; returns the knees and the results.
pub fn run(out: &Path) -> Result<(Vec<Knee>, Vec<RunSummary>), Box<dyn Error>> {
    let args = StudyArgs {
        traffic: parse_list("1..8")?,
        // Every value of every `Vary` is combined with every traffic level: 4 × 8 points.
        vary: vec![Vary {
            name: "app.instances".into(),
            values: parse_list("1..4")?,
        }],
        // Short runs: 20 simulated seconds per point, the first 5 not measured.
        base: RunOptions {
            duration_s: Some(20.0),
            warmup_s: Some(5.0),
            ..Default::default()
        },
        slo_p99_ms: DEFAULT_SLO_P99_MS, // the knee: p99 at most 500 ms...
        max_error_rate: DEFAULT_MAX_ERROR_RATE, // ...and at most 1% of requests lost
    };
    let source = Source {
        name: "farm.ron".into(),
        text: FARM.into(),
    };
    // `Study::new` checks the models and every point before anything runs.
    let study = Study::new(vec![source], args, "Example sweep: app instances", false)
        .map_err(|e| e.to_string())?;

    // All points run in parallel (rayon); `None` means the whole sweep, not one shard.
    // The closure is called once per finished point, e.g. for a progress bar.
    let results: Vec<RunSummary> = study
        .run(None, &|| {})?
        .into_iter()
        .map(|(_index, summary)| summary)
        .collect();

    // A knee is the highest traffic of a series that still meets the SLO.
    let knees = study.knees(&results);
    println!(
        "{:>9} {:>6} {:>11}  {:<11} first failure",
        "instances", "knee", "max req/s", "bottleneck"
    );
    for k in &knees {
        let instances = k.parameters.first().map_or(1.0, |p| p.1);
        println!(
            "{:>9} {:>6} {:>11}  {:<11} {}",
            instances,
            k.max_traffic.map_or("none".into(), |t| format!("{t}x")),
            k.max_rps.map_or("-".into(), |r| format!("{r:.0}")),
            k.bottleneck,
            match (k.first_failure, &k.failure_reason) {
                (Some(t), Some(why)) => format!("{t}x: {why}"),
                _ => "none up to 8x".into(),
            },
        );
    }

    // results.csv, components.csv, results.json, knees.json, charts and report.html.
    // No timelines: this model's traffic is steady and nothing crashes.
    let written = study.write(out, &results, &[])?;
    println!("wrote {} files to {}", written.len(), out.display());
    Ok((knees, results))
}

pub fn main() -> Result<(), Box<dyn Error>> {
    run(&out_dir())?;
    Ok(())
}
