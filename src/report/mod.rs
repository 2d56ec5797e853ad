//! Reports: what users read. Reports see summaries only, never the engine: a sweep's results are
//! a list of [`RunSummary`] (one per point, in output order) plus the knee of each series.
//!
//! One file per format: `terminal` (tables), `csv`, `json`, `charts` (PNG and SVG via plotters),
//! `html` (the self-contained report). `files` writes atomically.

pub mod charts;
pub mod csv;
pub mod files;
pub mod html;
pub mod terminal;
pub mod timeline;

use crate::stats::summary::RunSummary;
use crate::sweep::Knee;
use std::path::{Path, PathBuf};

/// Everything a sweep's reports are drawn from.
pub struct SweepOutput<'a> {
    /// Shown as the report's title, e.g. "archsim sweep" or "How would you scale 10x? The tour".
    pub title: &'a str,
    /// One per point, in output order (models as given, then parameter combinations, then traffic).
    pub results: &'a [RunSummary],
    /// One per series (model × parameter combination), in order of first appearance.
    pub knees: &'a [Knee],
    /// Per model, in the order given: (name, description, the model file's leading comment).
    pub models: &'a [ModelInfo],
    pub slo_p99_ms: f64,
    pub max_error_rate: f64,
    /// When true (the tour), the HTML report tells the models as a story in order, one section
    /// per model with what it fixed and what broke next.
    pub story: bool,
    /// Time series at 1x of the models whose traffic changes over time or that fail: (model
    /// name, timeline), in model order.
    pub timelines: &'a [(String, crate::stats::timeline::Timeline)],
}

#[derive(Debug, Clone, Default, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct ModelInfo {
    pub name: String,
    pub description: Option<String>,
    /// The `//` comment block at the top of the model file (without the slashes), if any.
    pub notes: Option<String>,
    /// Monthly cost of the design in dollars, when known.
    pub monthly_cost: Option<f64>,
}

/// A chart rendered in memory, written as `<stem>.svg` and `<stem>.png`.
pub struct Chart {
    pub stem: String,
    pub title: String,
    /// What the chart shows and how to read it, one or two sentences for the report.
    pub caption: String,
    pub svg: String,
    pub png: Vec<u8>,
}

/// Writes results.csv, components.csv, results.json, knees.json, the charts and report.html
/// into `dir` (created if needed). Each file appears whole or not at all.
pub fn write_sweep(dir: &Path, out: &SweepOutput) -> std::io::Result<Vec<PathBuf>> {
    std::fs::create_dir_all(dir)?;
    let mut written = Vec::new();
    let mut put = |name: &str, bytes: &[u8]| -> std::io::Result<()> {
        let p = dir.join(name);
        files::write_atomic(&p, bytes)?;
        written.push(p);
        Ok(())
    };
    put("results.csv", csv::results(out.results).as_bytes())?;
    put("components.csv", csv::components(out.results).as_bytes())?;
    put("results.json", files::to_json(out.results)?.as_bytes())?;
    put("knees.json", files::to_json(out.knees)?.as_bytes())?;
    let charts = charts::render_all(out);
    for c in &charts {
        put(&format!("{}.svg", c.stem), c.svg.as_bytes())?;
        put(&format!("{}.png", c.stem), &c.png)?;
    }
    for (model, tl) in out.timelines {
        let slug = timeline::slug(model);
        put(&format!("timeline-{slug}.csv"), tl.to_csv().as_bytes())?;
        for (name, bytes) in timeline::render(model, tl) {
            put(&name, &bytes)?;
        }
    }
    put("report.html", html::render(out, &charts).as_bytes())?;
    Ok(written)
}
