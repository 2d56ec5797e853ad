//! A study: a sweep of several models from the command line (or the tour), from model texts to
//! the files on disk. This is where a plan meets its reports; `main` only parses arguments.

use crate::bundled;
use crate::model::{LoadError, Model};
use crate::report::{self, ModelInfo, SweepOutput};
use crate::runner::RunOptions;
use crate::shard::{self, Manifest, ShardSpec};
use crate::stats::summary::RunSummary;
use crate::stats::timeline::Timeline;
use crate::sweep::{Knee, Plan, Vary};

/// The interval of the timelines in sweep reports, seconds.
pub const TIMELINE_INTERVAL_S: f64 = 1.0;
use std::path::{Path, PathBuf};

/// A model as given: where it came from (for messages) and its text.
#[derive(Debug, Clone)]
pub struct Source {
    pub name: String,
    pub text: String,
}

impl Source {
    pub fn read(path: &Path) -> Result<Source, LoadError> {
        let text = std::fs::read_to_string(path).map_err(|e| LoadError::io(path, &e))?;
        Ok(Source {
            name: path.display().to_string(),
            text,
        })
    }

    /// Every bundled model, in order.
    pub fn bundled() -> Vec<Source> {
        bundled::BUNDLED
            .iter()
            .map(|(name, text)| Source {
                name: format!("models/{name}"),
                text: text.to_string(),
            })
            .collect()
    }
}

pub struct Study {
    pub sources: Vec<Source>,
    pub plan: Plan,
    pub infos: Vec<ModelInfo>,
    pub title: String,
    pub story: bool,
}

/// Why a study could not be set up (all are the user's to fix: exit status 2).
#[derive(Debug)]
pub enum StudyError {
    Models(Vec<LoadError>),
    Arguments(String),
}

impl std::fmt::Display for StudyError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            StudyError::Models(errs) => {
                for (i, e) in errs.iter().enumerate() {
                    if i > 0 {
                        writeln!(f)?;
                    }
                    write!(f, "{e}")?;
                }
                Ok(())
            }
            StudyError::Arguments(s) => f.write_str(s),
        }
    }
}

pub struct StudyArgs {
    pub traffic: Vec<f64>,
    pub vary: Vec<Vary>,
    pub base: RunOptions,
    pub slo_p99_ms: f64,
    pub max_error_rate: f64,
}

impl Study {
    /// Loads and checks everything before anything runs: bad input never writes a file.
    pub fn new(
        sources: Vec<Source>,
        args: StudyArgs,
        title: &str,
        story: bool,
    ) -> Result<Study, StudyError> {
        let mut models = Vec::new();
        let mut errors = Vec::new();
        for s in &sources {
            match Model::from_text(&s.text, &s.name) {
                Ok(m) => models.push(m),
                Err(e) => errors.push(e),
            }
        }
        if !errors.is_empty() {
            return Err(StudyError::Models(errors));
        }
        let mut names: Vec<&str> = Vec::new();
        for (m, s) in models.iter().zip(&sources) {
            if names.contains(&m.name.as_str()) {
                return Err(StudyError::Arguments(format!(
                    "{}: two models are both named `{}`; results are keyed by model name, so give each a distinct `name`",
                    s.name, m.name
                )));
            }
            names.push(&m.name);
        }
        if !(args.slo_p99_ms.is_finite() && args.slo_p99_ms > 0.0) {
            return Err(StudyError::Arguments(format!(
                "--slo-p99-ms must be positive, got {}",
                args.slo_p99_ms
            )));
        }
        let infos = models
            .iter()
            .zip(&sources)
            .map(|(m, s)| ModelInfo {
                name: m.name.clone(),
                description: m.description.clone(),
                notes: bundled::leading_comment(&s.text),
                monthly_cost: Some(m.components.iter().map(|c| c.monthly_cost()).sum()),
            })
            .collect();
        let plan = Plan {
            models,
            traffic: args.traffic,
            vary: args.vary,
            base: args.base,
            slo_p99_ms: args.slo_p99_ms,
            max_error_rate: args.max_error_rate,
        };
        plan.check().map_err(StudyError::Arguments)?;
        Ok(Study {
            sources,
            plan,
            infos,
            title: title.to_string(),
            story,
        })
    }

    pub fn point_count(&self) -> usize {
        self.plan.points().len()
    }

    /// Identifies the study: every input that changes a number in its results.
    pub fn hash(&self) -> String {
        let b = &self.plan.base;
        let mut parts: Vec<String> = self.sources.iter().map(|s| s.text.clone()).collect();
        parts.push(format!("{:?}", self.plan.traffic));
        parts.push(format!("{:?}", self.plan.vary));
        parts.push(format!(
            "{:?} {:?} {:?} {:?} {:?}",
            b.duration_s, b.warmup_s, b.seed, b.replications, b.max_events
        ));
        parts.push(format!(
            "{} {} {} {}",
            self.plan.slo_p99_ms, self.plan.max_error_rate, self.title, self.story
        ));
        shard::study_hash(&parts)
    }

    /// Runs the whole study (or one shard of it).
    pub fn run(
        &self,
        shard: Option<ShardSpec>,
        progress: &(dyn Fn() + Sync),
    ) -> Result<Vec<(usize, RunSummary)>, String> {
        self.plan
            .run(|i| shard.is_none_or(|s| s.contains(i)), progress)
    }

    pub fn knees(&self, results: &[RunSummary]) -> Vec<Knee> {
        self.plan.knees(results)
    }

    /// Time series at 1x of every model whose traffic changes over time, that has failures, or
    /// that has a cache: the story of a spike, a crash or a cache's cold start is in its
    /// timeline, not in a steady-state point.
    pub fn timelines(&self) -> Result<Vec<(String, Timeline)>, String> {
        use rayon::prelude::*;
        self.plan
            .models
            .par_iter()
            .filter(|m| {
                !matches!(m.workload.profile, crate::model::Profile::Steady)
                    || !m.failures.is_empty()
                    || m.components.iter().any(|c| c.is_cache())
            })
            .map(|m| {
                let opts = RunOptions {
                    traffic: 1.0,
                    timeline_s: Some(TIMELINE_INTERVAL_S),
                    replications: Some(1),
                    ..self.plan.base.clone()
                };
                let s = crate::runner::run_point(m, &opts)?;
                Ok((
                    m.name.clone(),
                    s.timeline.expect("a timeline was asked for"),
                ))
            })
            .collect()
    }

    /// Writes the full set of outputs for `results` (all points, in order).
    pub fn write(
        &self,
        dir: &Path,
        results: &[RunSummary],
        timelines: &[(String, Timeline)],
    ) -> std::io::Result<Vec<PathBuf>> {
        write_outputs(
            dir,
            &self.title,
            self.story,
            &self.infos,
            self.plan.slo_p99_ms,
            self.plan.max_error_rate,
            results,
            timelines,
        )
    }

    /// Writes one shard's folder inside `dir` and returns its path.
    pub fn write_shard(
        &self,
        dir: &Path,
        spec: ShardSpec,
        results: &[(usize, RunSummary)],
        timelines: &[(String, Timeline)],
    ) -> std::io::Result<PathBuf> {
        let folder = dir.join(spec.folder_name());
        std::fs::create_dir_all(&folder)?;
        // The first shard also carries the timelines, so a merge writes exactly what a single
        // run would.
        if spec.index == 1 {
            report::files::write_atomic(
                &folder.join(shard::TIMELINES),
                report::files::to_json(timelines)?.as_bytes(),
            )?;
        }
        let only: Vec<&RunSummary> = results.iter().map(|(_, r)| r).collect();
        report::files::write_atomic(
            &folder.join("results.json"),
            report::files::to_json(&only)?.as_bytes(),
        )?;
        let manifest = Manifest {
            format: 1,
            study: self.hash(),
            shard: spec.index,
            of: spec.count,
            points_total: self.point_count(),
            points: results.iter().map(|(i, _)| *i).collect(),
            title: self.title.clone(),
            slo_p99_ms: self.plan.slo_p99_ms,
            max_error_rate: self.plan.max_error_rate,
            story: self.story,
            models: self.infos.clone(),
        };
        // The manifest goes last: a folder without one is not (yet) a shard.
        report::files::write_atomic(
            &folder.join(shard::MANIFEST),
            report::files::to_json(&manifest)?.as_bytes(),
        )?;
        Ok(folder)
    }
}

#[allow(clippy::too_many_arguments)]
pub fn write_outputs(
    dir: &Path,
    title: &str,
    story: bool,
    infos: &[ModelInfo],
    slo_p99_ms: f64,
    max_error_rate: f64,
    results: &[RunSummary],
    timelines: &[(String, Timeline)],
) -> std::io::Result<Vec<PathBuf>> {
    let knees = crate::sweep::knees(results, slo_p99_ms, max_error_rate);
    report::write_sweep(
        dir,
        &SweepOutput {
            title,
            results,
            knees: &knees,
            models: infos,
            slo_p99_ms,
            max_error_rate,
            story,
            timelines,
        },
    )
}

/// Merges shard folders and writes what the single run would have written.
pub fn merge(dirs: &[PathBuf], out: &Path) -> Result<(Vec<PathBuf>, Vec<Knee>), String> {
    let m = shard::merge(dirs)?;
    let man = &m.manifest;
    let written = write_outputs(
        out,
        &man.title,
        man.story,
        &man.models,
        man.slo_p99_ms,
        man.max_error_rate,
        &m.results,
        &m.timelines,
    )
    .map_err(|e| format!("{}: cannot write: {e}", out.display()))?;
    Ok((
        written,
        crate::sweep::knees(&m.results, man.slo_p99_ms, man.max_error_rate),
    ))
}
