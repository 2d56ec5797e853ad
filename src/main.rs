//! The `archsim` binary: parse the command line, call the library, map errors to exit codes
//! (0 success, 2 bad input or usage, 1 internal error).

use archsim::cli::{Cli, Command, SimArgs};
use archsim::model::{LoadError, Model};
use archsim::report::terminal;
use archsim::runner::{RunOptions, run_point};
use clap::Parser;
use std::path::Path;
use std::process::ExitCode;

/// Errors that end the program, by exit status.
enum Failure {
    /// Bad input or usage: exit 2, nothing written.
    Input(String),
    /// A bug or an I/O failure: exit 1.
    Internal(String),
}

impl From<LoadError> for Failure {
    fn from(e: LoadError) -> Failure {
        Failure::Input(e.to_string())
    }
}

fn load(path: &Path) -> Result<Model, Failure> {
    Ok(Model::load(path)?)
}

fn options(traffic: f64, sim: &SimArgs) -> RunOptions {
    RunOptions {
        traffic,
        duration_s: sim.duration,
        warmup_s: sim.warmup,
        seed: sim.seed,
        replications: sim.replications,
        max_events: sim.max_events,
        parameters: Vec::new(),
    }
}

fn execute(cli: Cli) -> Result<(), Failure> {
    match cli.command {
        Command::Run {
            model,
            traffic,
            sim,
            json,
        } => {
            let m = load(&model)?;
            let summary = run_point(&m, &options(traffic, &sim)).map_err(Failure::Input)?;
            if json {
                let text = serde_json::to_string_pretty(&summary)
                    .map_err(|e| Failure::Internal(e.to_string()))?;
                println!("{text}");
            } else {
                print!("{}", terminal::summary(&summary));
            }
            Ok(())
        }
        Command::Validate { models } => {
            let mut bad = Vec::new();
            for path in &models {
                match Model::load(path) {
                    Ok(m) => {
                        println!(
                            "ok: {} ({}: {} components)",
                            path.display(),
                            m.name,
                            m.components.len()
                        );
                        for id in archsim::model::graph::unreachable(&m) {
                            eprintln!(
                                "{}: warning: component `{}` is never reached by any request",
                                path.display(),
                                m.components[id].name
                            );
                        }
                    }
                    Err(e) => bad.push(e.to_string()),
                }
            }
            if bad.is_empty() {
                Ok(())
            } else {
                Err(Failure::Input(bad.join("\n\n")))
            }
        }
        Command::Graph { model } => {
            let m = load(&model)?;
            print!("{}", archsim::model::graph::to_dot(&m));
            Ok(())
        }
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match execute(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(Failure::Input(msg)) => {
            eprintln!("{msg}");
            ExitCode::from(2)
        }
        Err(Failure::Internal(msg)) => {
            eprintln!("archsim: internal error: {msg}");
            ExitCode::from(1)
        }
    }
}
