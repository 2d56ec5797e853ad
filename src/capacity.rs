//! `archsim capacity`: the highest traffic that meets a p99 latency SLO (with at most a small
//! error rate), found by bracketing and then bisecting on simulations.

use crate::model::Model;
use crate::runner::{RunOptions, run_point};
use serde::Serialize;

#[derive(Debug, Clone, Serialize)]
pub struct Probe {
    pub traffic: f64,
    pub p99_ms: f64,
    pub error_rate: f64,
    pub meets_slo: bool,
}

#[derive(Debug, Clone, Serialize)]
pub struct Capacity {
    pub model: String,
    pub slo_p99_ms: f64,
    pub max_error_rate: f64,
    /// The highest multiplier found that meets the SLO (0 when even 1/1024x does not).
    pub max_traffic: f64,
    pub max_rps: f64,
    /// The bottleneck at `max_traffic`.
    pub bottleneck: String,
    /// The search stops when the bracket is narrower than this fraction of the answer.
    pub relative_precision: f64,
    pub probes: Vec<Probe>,
}

/// Bisection stops when the bracket is within this fraction of its lower end.
pub const PRECISION: f64 = 0.005;

pub fn find(
    model: &Model,
    slo_p99_ms: f64,
    max_error_rate: f64,
    base: &RunOptions,
) -> Result<Capacity, String> {
    let mut probes = Vec::new();
    let mut best: Option<crate::stats::summary::RunSummary> = None;
    let mut probe =
        |t: f64, best: &mut Option<crate::stats::summary::RunSummary>| -> Result<bool, String> {
            let s = run_point(
                model,
                &RunOptions {
                    traffic: t,
                    ..base.clone()
                },
            )?;
            let ok = s.latency_ms.p99 <= slo_p99_ms
                && s.error_rate <= max_error_rate
                && s.requests.completed.0 > 0.0;
            probes.push(Probe {
                traffic: t,
                p99_ms: s.latency_ms.p99,
                error_rate: s.error_rate,
                meets_slo: ok,
            });
            if ok && best.as_ref().is_none_or(|b| b.traffic < t) {
                *best = Some(s);
            }
            Ok(ok)
        };
    // Bracket: double up from 1x until the SLO breaks, or halve down until it holds.
    let (mut lo, mut hi);
    if probe(1.0, &mut best)? {
        lo = 1.0;
        hi = 2.0;
        while probe(hi, &mut best)? {
            lo = hi;
            hi *= 2.0;
            if hi > 1e6 {
                return Err("the SLO still holds at a million times the traffic: no capacity limit was found (is anything bounded?)".into());
            }
        }
    } else {
        hi = 1.0;
        lo = 0.5;
        while !probe(lo, &mut best)? {
            hi = lo;
            lo /= 2.0;
            if lo < 1.0 / 1024.0 {
                return Ok(Capacity {
                    model: model.name.clone(),
                    slo_p99_ms,
                    max_error_rate,
                    max_traffic: 0.0,
                    max_rps: 0.0,
                    bottleneck: String::new(),
                    relative_precision: PRECISION,
                    probes,
                });
            }
        }
    }
    while (hi - lo) / lo > PRECISION {
        let mid = 0.5 * (lo + hi);
        if probe(mid, &mut best)? {
            lo = mid;
        } else {
            hi = mid;
        }
    }
    let b = best.expect("a probe met the SLO");
    let lo_summary = if b.traffic == lo {
        b
    } else {
        run_point(
            model,
            &RunOptions {
                traffic: lo,
                ..base.clone()
            },
        )?
    };
    Ok(Capacity {
        model: model.name.clone(),
        slo_p99_ms,
        max_error_rate,
        max_traffic: lo,
        max_rps: lo_summary.offered_rps,
        bottleneck: lo_summary.bottleneck,
        relative_precision: PRECISION,
        probes,
    })
}
