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
    },
    /// Check model files without simulating them.
    Validate {
        #[arg(required = true)]
        models: Vec<PathBuf>,
    },
    /// Print the component graph in Graphviz DOT.
    Graph { model: PathBuf },
}
