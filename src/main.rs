//! The `archsim` binary: parse the command line, call the library, map errors to exit codes
//! (0 success, 2 bad input or usage, 1 internal error).

use archsim::cli::{Cli, Command, SimArgs, StudyArgs};
use archsim::model::{LoadError, Model};
use archsim::report::terminal;
use archsim::runner::{RunOptions, run_point};
use archsim::study::{Source, Study, StudyError};
use archsim::sweep::{parse_list, parse_vary};
use clap::Parser;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use std::io::IsTerminal;
use std::path::Path;
use std::process::ExitCode;

/// Errors that end the program, by exit status.
enum Failure {
    /// Bad input or usage: exit 2, nothing written.
    Input(String),
    /// A bug or an I/O failure: exit 1.
    Internal(String),
    /// Ctrl-C: exit 130, as shells expect.
    Interrupted(String),
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
        timeline_s: None,
        max_wall_s: sim.max_wall,
    }
}

impl From<StudyError> for Failure {
    fn from(e: StudyError) -> Failure {
        Failure::Input(e.to_string())
    }
}

fn usage(e: String) -> Failure {
    Failure::Input(format!("archsim: error: {e}"))
}

fn progress_bar(total: usize, quiet: bool) -> ProgressBar {
    let target = if quiet || !std::io::stderr().is_terminal() {
        ProgressDrawTarget::hidden()
    } else {
        ProgressDrawTarget::stderr()
    };
    let bar = ProgressBar::with_draw_target(Some(total as u64), target);
    bar.set_style(
        ProgressStyle::with_template(
            "{spinner} simulating {pos}/{len} points [{bar:30}] {elapsed_precise} (eta {eta})",
        )
        .expect("constant template")
        .progress_chars("=> "),
    );
    bar
}

fn study_args(a: &StudyArgs) -> Result<archsim::study::StudyArgs, Failure> {
    Ok(archsim::study::StudyArgs {
        traffic: parse_list(&a.traffic).map_err(|e| usage(format!("--traffic: {e}")))?,
        vary: a
            .vary
            .iter()
            .map(|v| parse_vary(v).map_err(|e| usage(format!("--vary: {e}"))))
            .collect::<Result<_, _>>()?,
        base: options(1.0, &a.sim),
        slo_p99_ms: a.slo_p99_ms,
        max_error_rate: a.max_error_rate,
    })
}

fn print_knees(knees: &[archsim::sweep::Knee]) {
    for k in knees {
        let params: Vec<String> = k
            .parameters
            .iter()
            .map(|(n, v)| format!("{n}={v}"))
            .collect();
        let label = if params.is_empty() {
            k.model.clone()
        } else {
            format!("{} · {}", k.model, params.join(", "))
        };
        let held = match (k.max_traffic, k.max_rps) {
            (Some(t), Some(r)) => format!(
                "holds the SLO up to {t}x ({r:.0} req/s), bottleneck {}",
                k.bottleneck
            ),
            _ => "misses the SLO even at the lowest traffic".to_string(),
        };
        let broke = match (&k.first_failure, &k.failure_reason) {
            (Some(t), Some(why)) => format!(
                "; at {t}x {why} ({} saturated)",
                k.breaks_first.as_deref().unwrap_or("?")
            ),
            _ => "; never breaks in this sweep".to_string(),
        };
        println!("{label}: {held}{broke}");
    }
}

/// Runs a study (whole or one shard) and writes its folder.
fn run_study(
    study: &Study,
    out: &Path,
    shard: Option<archsim::shard::ShardSpec>,
    quiet: bool,
) -> Result<(), Failure> {
    let total = match shard {
        Some(s) => (0..study.point_count()).filter(|&i| s.contains(i)).count(),
        None => study.point_count(),
    };
    let bar = progress_bar(total, quiet);
    let results = study.run(shard, &|| bar.inc(1)).map_err(Failure::Input)?;
    let timelines = if shard.is_none_or(|s| s.index == 1) {
        study.timelines().map_err(Failure::Input)?
    } else {
        Vec::new()
    };
    bar.finish_and_clear();
    if archsim::engine::sim::stop_requested() {
        // Keep what finished, whole; write nothing half-done.
        let done: Vec<_> = results
            .into_iter()
            .filter(|(_, r)| !r.engine.interrupted)
            .collect();
        let partial = out.join("partial");
        let all: Vec<_> = done.iter().map(|(_, r)| r.clone()).collect();
        if !all.is_empty() {
            study.write(&partial, &all, &[]).map_err(|e| {
                Failure::Internal(format!("{}: cannot write: {e}", partial.display()))
            })?;
        }
        return Err(Failure::Interrupted(format!(
            "interrupted: {} of {total} points had finished{}",
            all.len(),
            if all.is_empty() {
                String::new()
            } else {
                format!("; their results are in {}", partial.display())
            }
        )));
    }
    let io = |e: std::io::Error| Failure::Internal(format!("{}: cannot write: {e}", out.display()));
    match shard {
        Some(spec) => {
            let folder = study
                .write_shard(out, spec, &results, &timelines)
                .map_err(io)?;
            println!(
                "wrote shard {}/{} ({} points) to {}",
                spec.index,
                spec.count,
                results.len(),
                folder.display()
            );
        }
        None => {
            let all: Vec<_> = results.into_iter().map(|(_, r)| r).collect();
            study.write(out, &all, &timelines).map_err(io)?;
            print_knees(&study.knees(&all));
            println!("wrote {}", out.join("report.html").display());
        }
    }
    Ok(())
}

fn execute(cli: Cli) -> Result<(), Failure> {
    match cli.command {
        Command::Run {
            model,
            traffic,
            sim,
            json,
            timeline,
            interval,
            out,
        } => {
            let m = load(&model)?;
            if timeline && !(interval.is_finite() && interval > 0.0) {
                return Err(usage(format!(
                    "--interval must be positive, got {interval}"
                )));
            }
            let opts = RunOptions {
                timeline_s: timeline.then_some(interval),
                ..options(traffic, &sim)
            };
            let summary = run_point(&m, &opts).map_err(usage)?;
            if let Some(tl) = &summary.timeline {
                let io = |e: std::io::Error| {
                    Failure::Internal(format!("{}: cannot write: {e}", out.display()))
                };
                std::fs::create_dir_all(&out).map_err(io)?;
                archsim::report::files::write_atomic(
                    &out.join("timeline.csv"),
                    tl.to_csv().as_bytes(),
                )
                .map_err(io)?;
                for (name, bytes) in archsim::report::timeline::render(&summary.model, tl) {
                    archsim::report::files::write_atomic(&out.join(name), &bytes).map_err(io)?;
                }
                if !json {
                    eprintln!("wrote {}", out.join("timeline.csv").display());
                }
            }
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
        Command::Explain {
            model,
            traffic,
            sim,
            json,
        } => {
            let m = load(&model)?;
            let summary = run_point(&m, &options(traffic, &sim)).map_err(usage)?;
            let mut ex = archsim::analytic::explain::explain(&m, traffic);
            archsim::analytic::explain::compare(&mut ex, &summary);
            if json {
                let text = serde_json::to_string_pretty(&ex)
                    .map_err(|e| Failure::Internal(e.to_string()))?;
                println!("{text}");
            } else {
                print!("{}", terminal::explanation(&ex));
            }
            Ok(())
        }
        Command::Capacity {
            model,
            slo_p99_ms,
            max_error_rate,
            sim,
            json,
        } => {
            let m = load(&model)?;
            if !(slo_p99_ms.is_finite() && slo_p99_ms > 0.0) {
                return Err(usage(format!(
                    "--slo-p99-ms must be positive, got {slo_p99_ms}"
                )));
            }
            let mut opts = options(1.0, &sim);
            // Three replications by default: the p99 near the knee is noisy.
            opts.replications = opts.replications.or(m.sim.replications).or(Some(3));
            let c =
                archsim::capacity::find(&m, slo_p99_ms, max_error_rate, &opts).map_err(usage)?;
            if json {
                let text = serde_json::to_string_pretty(&c)
                    .map_err(|e| Failure::Internal(e.to_string()))?;
                println!("{text}");
            } else {
                println!("{}", c.model);
                println!(
                    "highest traffic meeting p99 ≤ {} ms with ≤ {:.1}% errors: {:.3}x ({:.1} req/s); bottleneck there: {}",
                    c.slo_p99_ms,
                    100.0 * c.max_error_rate,
                    c.max_traffic,
                    c.max_rps,
                    c.bottleneck
                );
                println!(
                    "({} simulations, bracket narrower than {:.1}%)",
                    c.probes.len(),
                    100.0 * c.relative_precision
                );
            }
            Ok(())
        }
        Command::Graph { model } => {
            let m = load(&model)?;
            print!("{}", archsim::model::graph::to_dot(&m));
            Ok(())
        }
        Command::Sweep {
            models,
            study,
            out,
            shard,
            shard_count,
        } => {
            let sources = models
                .iter()
                .map(|p| Source::read(p))
                .collect::<Result<Vec<_>, _>>()?;
            let args = study_args(&study)?;
            let spec = shard
                .map(|s| {
                    archsim::shard::parse_shard(&s, shard_count, &|k| std::env::var(k).ok())
                        .map_err(usage)
                })
                .transpose()?;
            let st = Study::new(sources, args, "archsim sweep", false)?;
            run_study(&st, &out, spec, study.quiet)
        }
        Command::Merge { dirs, out } => {
            let (_, knees) = archsim::study::merge(&dirs, &out).map_err(usage)?;
            print_knees(&knees);
            println!("wrote {}", out.join("report.html").display());
            Ok(())
        }
        Command::Tour {
            out,
            traffic,
            replications,
            slo_p99_ms,
            quiet,
        } => {
            let args = archsim::study::StudyArgs {
                traffic: parse_list(&traffic).map_err(|e| usage(format!("--traffic: {e}")))?,
                vary: Vec::new(),
                base: RunOptions {
                    replications,
                    ..RunOptions::at_traffic(1.0)
                },
                slo_p99_ms,
                max_error_rate: archsim::sweep::DEFAULT_MAX_ERROR_RATE,
            };
            let st = Study::new(
                Source::bundled(),
                args,
                "How would you scale if traffic grows 10x?",
                true,
            )?;
            run_study(&st, &out, None, quiet)
        }
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    // The first Ctrl-C stops the simulations cleanly; a second one kills the process.
    let _ = ctrlc::set_handler(|| {
        if archsim::engine::sim::stop_requested() {
            std::process::exit(130);
        }
        archsim::engine::sim::request_stop();
    });
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
        Err(Failure::Interrupted(msg)) => {
            eprintln!("archsim: {msg}");
            ExitCode::from(130)
        }
    }
}
