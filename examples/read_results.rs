//! Read the `results.json` of a sweep and answer a question with it: which design is the cheapest
//! one that still meets the SLO at 5x traffic?
//!
//! `results.json` is an array with one object per point (model × parameters × traffic); its keys
//! are listed under "What is measured" in docs/model-format.md. We read only the keys we need
//! into small structs of our own: serde skips the others.
//!
//! ```sh
//! archsim sweep models/0*.ron --replications 3 --out output
//! cargo run --release --example read_results -- output/results.json
//! ```
//!
//! Without a `.json` argument it first runs a short sweep of the first eight bundled models
//! (the scaling steps 1 to 8) at 1x, 5x and 10x and writes it to `output/example-read-results/`.

use archsim::runner::RunOptions;
use archsim::study::{Source, Study, StudyArgs};
use archsim::sweep::{DEFAULT_MAX_ERROR_RATE, DEFAULT_SLO_P99_MS};
use serde::Deserialize;
use std::error::Error;
use std::path::{Path, PathBuf};

/// The traffic level the question is about.
const TARGET_TRAFFIC: f64 = 5.0;

/// One point of `results.json`: only the fields this program uses.
#[derive(Debug, Deserialize)]
pub struct Point {
    pub model: String,
    pub traffic: f64,
    pub throughput_rps: f64,
    /// Fraction of requests dropped, failed or timed out.
    pub error_rate: f64,
    pub latency_ms: Latency,
    pub bottleneck: String,
    pub cost: Cost,
}

#[derive(Debug, Deserialize)]
pub struct Latency {
    pub p99: f64,
}

#[derive(Debug, Deserialize)]
pub struct Cost {
    pub monthly_usd: f64,
}

impl Point {
    /// The same rule `archsim sweep` uses for its knees (500 ms and 1% by default).
    fn meets_slo(&self) -> bool {
        self.latency_ms.p99 <= DEFAULT_SLO_P99_MS && self.error_rate <= DEFAULT_MAX_ERROR_RATE
    }
}

/// Writes a `results.json` to read, with the library instead of `archsim sweep`.
fn produce_results() -> Result<PathBuf, Box<dyn Error>> {
    let out = Path::new(env!("CARGO_MANIFEST_DIR")).join("output/example-read-results");
    let sources: Vec<Source> = Source::bundled().into_iter().take(8).collect();
    let args = StudyArgs {
        traffic: vec![1.0, TARGET_TRAFFIC, 10.0],
        vary: Vec::new(),
        // Short runs (30 s, 5 s of warm-up, one replication) keep this quick.
        base: RunOptions {
            duration_s: Some(30.0),
            warmup_s: Some(5.0),
            replications: Some(1),
            ..Default::default()
        },
        slo_p99_ms: DEFAULT_SLO_P99_MS,
        max_error_rate: DEFAULT_MAX_ERROR_RATE,
    };
    let study = Study::new(sources, args, "Steps 1 to 8", false).map_err(|e| e.to_string())?;
    let results: Vec<_> = study.run(None, &|| {})?.into_iter().map(|r| r.1).collect();
    study.write(&out, &results, &[])?;
    Ok(out.join("results.json"))
}

/// Reads `path` and returns the cheapest point at 5x that meets the SLO, if any.
pub fn run(path: &Path) -> Result<Option<Point>, Box<dyn Error>> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let points: Vec<Point> = serde_json::from_str(&text)?;

    // The points at the target traffic, one per design (and per parameter combination).
    let mut at_target: Vec<Point> = points
        .into_iter()
        .filter(|p| p.traffic == TARGET_TRAFFIC)
        .collect();
    if at_target.is_empty() {
        return Err(format!("{} has no point at {TARGET_TRAFFIC}x", path.display()).into());
    }
    at_target.sort_by(|a, b| a.cost.monthly_usd.total_cmp(&b.cost.monthly_usd));

    println!("At {TARGET_TRAFFIC}x traffic, cheapest first:");
    println!(
        "{:<34} {:>9} {:>9} {:>9} {:>7}  {:<10} SLO",
        "model", "$/month", "served/s", "p99 ms", "errors", "bottleneck"
    );
    for p in &at_target {
        println!(
            "{:<34} {:>9.0} {:>9.1} {:>9.1} {:>6.1}%  {:<10} {}",
            p.model,
            p.cost.monthly_usd,
            p.throughput_rps,
            p.latency_ms.p99,
            100.0 * p.error_rate,
            p.bottleneck,
            if p.meets_slo() { "met" } else { "missed" },
        );
    }

    // Sorted by cost, so the first point that meets the SLO is the answer.
    let best = at_target.into_iter().find(Point::meets_slo);
    match &best {
        Some(p) => println!(
            "Cheapest design meeting p99 <= {DEFAULT_SLO_P99_MS} ms at {TARGET_TRAFFIC}x: {} (${:.0}/month)",
            p.model, p.cost.monthly_usd
        ),
        None => println!("No design meets the SLO at {TARGET_TRAFFIC}x."),
    }
    Ok(best)
}

pub fn main() -> Result<(), Box<dyn Error>> {
    // Only an argument ending in `.json` is taken as the file: other arguments (such as the
    // test harness's own, when a test calls this `main`) are ignored.
    let path = match std::env::args().skip(1).find(|a| a.ends_with(".json")) {
        Some(p) => PathBuf::from(p),
        None => produce_results()?,
    };
    run(&path)?;
    Ok(())
}
