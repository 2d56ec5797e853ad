//! Sweeps: every (model, point, replication) unit of a study run in parallel with rayon, each
//! seeded by its canonical identity and combined in a fixed order, so the results are the same
//! byte for byte whatever the number of threads. Also the knee (highest traffic meeting the SLO)
//! of each series, and deterministic sharding of a sweep over many machines.

use crate::model::Model;
use crate::model::params::apply_parameter;
use crate::runner::{RunOptions, offered_rps, resolve, run_replications};
use crate::stats::summary::{PointInfo, RunSummary, summarize};
use rayon::prelude::*;
use serde::{Deserialize, Serialize};
use std::time::Instant;

/// The default service-level objective: p99 latency at most 500 ms...
pub const DEFAULT_SLO_P99_MS: f64 = 500.0;
/// ...with at most 1% of requests dropped, failed or timed out.
pub const DEFAULT_MAX_ERROR_RATE: f64 = 0.01;

/// A parameter swept besides traffic: `app.instances` over `[1, 2, 4, 8]`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Vary {
    pub name: String,
    pub values: Vec<f64>,
}

/// Everything that defines a sweep (and so its shards' identity).
#[derive(Debug, Clone)]
pub struct Plan {
    pub models: Vec<Model>,
    pub traffic: Vec<f64>,
    pub vary: Vec<Vary>,
    pub base: RunOptions,
    pub slo_p99_ms: f64,
    pub max_error_rate: f64,
}

/// One point of the grid: a model, its parameter values, a traffic multiplier.
#[derive(Debug, Clone)]
pub struct Point {
    pub model: usize,
    pub parameters: Vec<(String, f64)>,
    pub traffic: f64,
}

/// The highest traffic of one series (a model at fixed parameters) that meets the SLO.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Knee {
    pub model: String,
    #[serde(
        default,
        skip_serializing_if = "Vec::is_empty",
        with = "crate::stats::summary::pairs"
    )]
    pub parameters: Vec<(String, f64)>,
    pub slo_p99_ms: f64,
    pub max_error_rate: f64,
    /// The last traffic before the first point that breaks the SLO; None if even the first does.
    pub max_traffic: Option<f64>,
    pub max_rps: Option<f64>,
    /// The bottleneck at the knee (or at the first point when there is no knee).
    pub bottleneck: String,
    /// The first traffic that breaks the SLO, if any, and what is saturated there.
    pub first_failure: Option<f64>,
    pub breaks_first: Option<String>,
    /// Why the first failing point fails: "p99 1234 ms > 500 ms" or "error rate 12% > 1%".
    pub failure_reason: Option<String>,
}

impl Plan {
    /// Every point in output order: models as given, then parameter combinations (the first
    /// `--vary` outermost), then traffic.
    pub fn points(&self) -> Vec<Point> {
        let mut combos: Vec<Vec<(String, f64)>> = vec![Vec::new()];
        for v in &self.vary {
            combos = combos
                .into_iter()
                .flat_map(|c| {
                    v.values.iter().map(move |&x| {
                        let mut c = c.clone();
                        c.push((v.name.clone(), x));
                        c
                    })
                })
                .collect();
        }
        let mut out = Vec::new();
        for m in 0..self.models.len() {
            for c in &combos {
                for &t in &self.traffic {
                    out.push(Point {
                        model: m,
                        parameters: c.clone(),
                        traffic: t,
                    });
                }
            }
        }
        out
    }

    /// Checks that every parameter applies to every model and every point has valid settings,
    /// before anything runs or is written.
    pub fn check(&self) -> Result<(), String> {
        if self.traffic.is_empty() {
            return Err("the traffic list is empty".into());
        }
        for p in self.points() {
            let m = self.model_at(&p)?;
            resolve(&m, &self.options_at(&p))?;
        }
        Ok(())
    }

    fn model_at(&self, p: &Point) -> Result<Model, String> {
        let mut m = self.models[p.model].clone();
        for (name, v) in &p.parameters {
            apply_parameter(&mut m, name, *v)
                .map_err(|e| format!("--vary {name}={v} on model `{}`: {e}", m.name))?;
        }
        Ok(m)
    }

    fn options_at(&self, p: &Point) -> RunOptions {
        RunOptions {
            traffic: p.traffic,
            parameters: p.parameters.clone(),
            ..self.base.clone()
        }
    }

    /// Runs one point (all its replications) and summarises it.
    pub fn run_point(&self, p: &Point) -> Result<RunSummary, String> {
        let m = self.model_at(p)?;
        let opts = self.options_at(p);
        let s = resolve(&m, &opts)?;
        let start = Instant::now();
        let runs = run_replications(&m, &opts, &s);
        let wall_s = start.elapsed().as_secs_f64();
        let offered = offered_rps(&m, p.traffic, &s).unwrap_or_else(|| {
            runs.iter()
                .map(|r| r.arrived as f64 / r.measured_s.max(1e-9))
                .sum::<f64>()
                / runs.len() as f64
        });
        Ok(summarize(
            PointInfo {
                model: &m,
                traffic: p.traffic,
                parameters: p.parameters.clone(),
                offered_rps: offered,
                duration_s: s.duration_s,
                warmup_s: s.warmup_s,
                seed: s.seed,
                wall_s,
            },
            &runs,
        ))
    }

    /// Runs the points whose index `selected` accepts, in parallel; results in point order.
    /// `progress` is called once per finished point (from worker threads).
    pub fn run(
        &self,
        selected: impl Fn(usize) -> bool + Sync,
        progress: &(dyn Fn() + Sync),
    ) -> Result<Vec<(usize, RunSummary)>, String> {
        let points = self.points();
        let chosen: Vec<(usize, &Point)> = points
            .iter()
            .enumerate()
            .filter(|(i, _)| selected(*i))
            .collect();
        chosen
            .par_iter()
            .filter(|_| !crate::engine::sim::stop_requested())
            .map(|(i, p)| {
                let r = self.run_point(p);
                progress();
                r.map(|s| (*i, s))
            })
            .collect()
    }

    /// The knee of every series, in output order.
    pub fn knees(&self, results: &[RunSummary]) -> Vec<Knee> {
        knees(results, self.slo_p99_ms, self.max_error_rate)
    }
}

/// Groups results into series (same model name and parameters, in order of appearance) and finds
/// each one's knee.
pub fn knees(results: &[RunSummary], slo_p99_ms: f64, max_error_rate: f64) -> Vec<Knee> {
    // (model, parameters, its points) in order of first appearance.
    type Series<'a> = (String, Vec<(String, f64)>, Vec<&'a RunSummary>);
    let mut series: Vec<Series> = Vec::new();
    for r in results {
        match series
            .iter_mut()
            .find(|(m, p, _)| *m == r.model && *p == r.parameters)
        {
            Some(s) => s.2.push(r),
            None => series.push((r.model.clone(), r.parameters.clone(), vec![r])),
        }
    }
    series
        .into_iter()
        .map(|(model, parameters, mut pts)| {
            pts.sort_by(|a, b| a.traffic.total_cmp(&b.traffic));
            let fails = |r: &RunSummary| -> Option<String> {
                if r.latency_ms.p99 > slo_p99_ms {
                    Some(format!("p99 {:.0} ms > {slo_p99_ms} ms", r.latency_ms.p99))
                } else if r.error_rate > max_error_rate {
                    Some(format!(
                        "error rate {:.1}% > {:.1}%",
                        100.0 * r.error_rate,
                        100.0 * max_error_rate
                    ))
                } else if r.completed_nothing() {
                    Some("no request completed".into())
                } else {
                    None
                }
            };
            let first_fail = pts.iter().position(|r| fails(r).is_some());
            let ok_end = first_fail.unwrap_or(pts.len());
            let knee_pt = ok_end.checked_sub(1).map(|i| pts[i]);
            Knee {
                model,
                parameters,
                slo_p99_ms,
                max_error_rate,
                max_traffic: knee_pt.map(|r| r.traffic),
                max_rps: knee_pt.map(|r| r.throughput_rps),
                bottleneck: knee_pt.unwrap_or(pts[0]).bottleneck.clone(),
                first_failure: first_fail.map(|i| pts[i].traffic),
                breaks_first: first_fail.map(|i| pts[i].bottleneck.clone()),
                failure_reason: first_fail.and_then(|i| fails(pts[i])),
            }
        })
        .collect()
}

impl RunSummary {
    fn completed_nothing(&self) -> bool {
        self.requests.completed.0 == 0.0
    }
}

/// Parses a traffic list: `1..10` (every integer), `1..10:0.5` (with a step), or `1,2,5,10`.
pub fn parse_list(s: &str) -> Result<Vec<f64>, String> {
    let s = s.trim();
    let num = |x: &str| -> Result<f64, String> {
        x.trim()
            .parse::<f64>()
            .ok()
            .filter(|v| v.is_finite())
            .ok_or_else(|| {
                format!("`{x}` is not a number (expected a list like 1..10, 1..10:0.5 or 1,2,5,10)")
            })
    };
    if let Some((a, rest)) = s.split_once("..") {
        let (b, step) = match rest.split_once(':') {
            Some((b, st)) => (num(b)?, num(st)?),
            None => (num(rest)?, 1.0),
        };
        let a = num(a)?;
        if step <= 0.0 {
            return Err(format!("the step in `{s}` must be positive"));
        }
        if b < a {
            return Err(format!("the range `{s}` ends before it starts"));
        }
        let n = ((b - a) / step + 1e-9).floor() as usize;
        if n > 100_000 {
            return Err(format!("the range `{s}` has more than 100000 points"));
        }
        // Computed as a + i·step (not by accumulation) so 0.1 steps stay exact-looking.
        Ok((0..=n)
            .map(|i| {
                let v = a + i as f64 * step;
                (v * 1e9).round() / 1e9
            })
            .collect())
    } else {
        s.split(',').map(num).collect()
    }
}

/// Parses `--vary name=LIST`.
pub fn parse_vary(s: &str) -> Result<Vary, String> {
    let (name, list) = s.split_once('=').ok_or_else(|| {
        format!("`{s}` should look like component.field=LIST, e.g. app.instances=1,2,4,8")
    })?;
    Ok(Vary {
        name: name.trim().to_string(),
        values: parse_list(list)?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lists_parse_as_spec_says() {
        assert_eq!(
            parse_list("1..10").unwrap(),
            (1..=10).map(f64::from).collect::<Vec<_>>()
        );
        assert_eq!(
            parse_list("1..3:0.5").unwrap(),
            vec![1.0, 1.5, 2.0, 2.5, 3.0]
        );
        assert_eq!(parse_list("1,2,5,10").unwrap(), vec![1.0, 2.0, 5.0, 10.0]);
        assert_eq!(parse_list("0.1..0.3:0.1").unwrap(), vec![0.1, 0.2, 0.3]);
        assert!(parse_list("1..x").is_err());
        assert!(parse_list("5..1").is_err());
        assert!(parse_list("1..5:0").is_err());
        let v = parse_vary("db.workers=4..16:4").unwrap();
        assert_eq!(v.name, "db.workers");
        assert_eq!(v.values, vec![4.0, 8.0, 12.0, 16.0]);
    }
}
