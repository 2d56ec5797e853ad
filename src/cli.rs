//! The command line: subcommands and their options (clap derive). Parsing only; `main` maps these
//! onto library calls.

use clap::{Args, Parser, Subcommand};
use std::path::PathBuf;

#[derive(Debug, Parser)]
#[command(
    name = "archsim",
    version,
    about = "Simulate system architectures under load: find the bottleneck, the knee and the cost.",
    long_about = None,
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Args, Clone, Default)]
pub struct SimArgs {
    /// Simulated seconds per run, warm-up included (overrides the model's `sim`).
    #[arg(long, value_name = "S")]
    pub duration: Option<f64>,
    /// Seconds discarded at the start of each run before measuring.
    #[arg(long, value_name = "S")]
    pub warmup: Option<f64>,
    /// Seed of every random stream.
    #[arg(long, value_name = "N")]
    pub seed: Option<u64>,
    /// Independent replications; means and 95% confidence half-widths are reported.
    #[arg(long, value_name = "R")]
    pub replications: Option<u32>,
    /// Stop each run after this many events (the result is marked truncated).
    #[arg(long, value_name = "N")]
    pub max_events: Option<u64>,
    /// Stop each run after this many wall-clock seconds (the result is marked truncated).
    #[arg(long, value_name = "S")]
    pub max_wall: Option<f64>,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Simulate one model at one traffic level and print a summary (or JSON).
    Run {
        model: PathBuf,
        /// Multiplies the arrival rate (and the number of closed users).
        #[arg(long, default_value_t = 1.0, value_name = "X")]
        traffic: f64,
        #[command(flatten)]
        sim: SimArgs,
        /// Print exactly one JSON object on stdout.
        #[arg(long)]
        json: bool,
        /// Record a time series (throughput, errors, latency, utilization per interval) and write
        /// timeline.csv and the timeline chart to `--out`.
        #[arg(long)]
        timeline: bool,
        /// The timeline's interval in seconds.
        #[arg(long, default_value_t = 1.0, value_name = "S")]
        interval: f64,
        /// Where `--timeline` writes its files.
        #[arg(long, default_value = "output", value_name = "DIR")]
        out: PathBuf,
    },
    /// Check model files without simulating them.
    Validate {
        #[arg(required = true)]
        models: Vec<PathBuf>,
    },
    /// Analytic bounds by the operational laws beside a simulation: demands, utilizations, the
    /// traffic at which each component saturates, single points of failure.
    Explain {
        model: PathBuf,
        #[arg(long, default_value_t = 1.0, value_name = "X")]
        traffic: f64,
        #[command(flatten)]
        sim: SimArgs,
        #[arg(long)]
        json: bool,
    },
    /// The highest traffic that meets a p99 latency objective, by bisection on simulations.
    Capacity {
        model: PathBuf,
        #[arg(long, value_name = "MS")]
        slo_p99_ms: f64,
        /// ...with at most this fraction of requests dropped, failed or timed out.
        #[arg(long, value_name = "F", default_value_t = crate::sweep::DEFAULT_MAX_ERROR_RATE)]
        max_error_rate: f64,
        #[command(flatten)]
        sim: SimArgs,
        #[arg(long)]
        json: bool,
    },
    /// Print the component graph in Graphviz DOT.
    Graph { model: PathBuf },
    /// Run every model at every traffic level (and parameter value) in parallel; write CSV,
    /// JSON, charts and an HTML report.
    Sweep {
        #[arg(required = true)]
        models: Vec<PathBuf>,
        #[command(flatten)]
        study: StudyArgs,
        /// Output folder.
        #[arg(long, default_value = "output", value_name = "DIR")]
        out: PathBuf,
        /// Run only slice K of N (`K/N`), or `auto` to read it from Slurm or Kubernetes.
        #[arg(long, value_name = "K/N|auto")]
        shard: Option<String>,
        /// The number of shards, with `--shard auto` under a Kubernetes Indexed Job.
        #[arg(long, value_name = "N")]
        shard_count: Option<u32>,
    },
    /// Combine shard folders into the output a single sweep would have written.
    Merge {
        #[arg(required = true)]
        dirs: Vec<PathBuf>,
        #[arg(long, default_value = "output", value_name = "DIR")]
        out: PathBuf,
    },
    /// The main job: every bundled model over 1..10x traffic, with report.html telling the story.
    Tour {
        #[arg(long, default_value = "output", value_name = "DIR")]
        out: PathBuf,
        #[arg(long, default_value = "1..10", value_name = "LIST")]
        traffic: String,
        #[arg(long, value_name = "R")]
        replications: Option<u32>,
        #[arg(long, value_name = "MS", default_value_t = crate::sweep::DEFAULT_SLO_P99_MS)]
        slo_p99_ms: f64,
        /// No progress bar.
        #[arg(long, short)]
        quiet: bool,
    },
}

#[derive(Debug, Args, Clone)]
pub struct StudyArgs {
    /// Traffic multipliers: `1..10`, `1..10:0.5` or `1,2,5,10`.
    #[arg(long, default_value = "1..10", value_name = "LIST")]
    pub traffic: String,
    /// Also sweep a model field: `app.instances=1,2,4,8` (repeatable: a grid).
    #[arg(long, value_name = "NAME=LIST")]
    pub vary: Vec<String>,
    /// The latency objective for the knee: p99 at most this many ms.
    #[arg(long, value_name = "MS", default_value_t = crate::sweep::DEFAULT_SLO_P99_MS)]
    pub slo_p99_ms: f64,
    /// ...with at most this fraction of requests dropped, failed or timed out.
    #[arg(long, value_name = "F", default_value_t = crate::sweep::DEFAULT_MAX_ERROR_RATE)]
    pub max_error_rate: f64,
    #[command(flatten)]
    pub sim: SimArgs,
    /// No progress bar.
    #[arg(long, short)]
    pub quiet: bool,
}
