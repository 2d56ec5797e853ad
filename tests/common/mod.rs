//! Helpers shared by the theory tests: loading a model text, running independent replications,
//! the run's self-checks, and the statistical agreement test every theory comparison uses.
//!
//! How the comparisons work. A test runs R = [`REPS`] = 16 independent replications (seeds
//! `base..base + R`), takes one number from each (a mean latency, a utilization, a drop
//! fraction), and compares the mean over replications with the closed-form value:
//!
//! `|mean − theory| ≤ t(R−1, 0.99995) · SE + floor`,   SE = sd / √R over the replications,
//!
//! with t(15, 0.99995) = 5.24. Replications are independent and, after warm-up, identically
//! distributed, so under a correct simulator `(mean − theory) / SE` is Student-t with R − 1
//! degrees of freedom (the per-run values are averages of ~10⁵–10⁶ customers, close to normal):
//! a false alarm has probability 10⁻⁴ per comparison, so that the ~100 comparisons of the suite
//! stay green (with probability ≈ 99%) when an engine change reshuffles every random stream.
//! To keep the test able to fail, it also requires `SE ≤ max_rel_se · |theory|`: the tolerance can
//! then never be wider than `5.24 · max_rel_se` (plus the floor), a bound each test states and
//! justifies from the run length. Caps are about 2× the a priori SE: with 15 degrees of freedom
//! the estimated SE exceeds twice the true one with probability 3·10⁻⁷. The floor only covers
//! deterministic resolution limits (the latency histogram's 0.1% buckets), never statistical
//! noise.
#![allow(dead_code)]

use archsim::model::Model;
use archsim::runner::{RunOptions, run_point};
use archsim::stats::summary::{ComponentSummary, RunSummary};
use rayon::prelude::*;
use statrs::distribution::{ContinuousCDF, StudentsT};

/// Largest relative Little's-law error accepted in any run. `L` (time-average in system) and `λW`
/// (summed sojourns of the visits that left in the window, over the window) differ only by the
/// visits that straddle the window's two ends, so `|L − λW| / L` is of order `W / T` (it is the
/// difference of two fluctuating boundary terms, each about `L W`). The largest `W / T` here is
/// the 100× overload's 21 ms over 5 s (0.4%), whose measured error over 64 seeds stays ≤ 0.2%;
/// every other model has `W / T` ≤ 0.1% and measured errors ≤ 0.2%. An error above 1% means the
/// time integrals or the sojourn sums are wrong.
pub const LITTLE_TOL: f64 = 0.01;

/// Replications per comparison (see the module comment).
pub const REPS: u32 = 16;

/// Parses a model text (panics with the loader's message if it is invalid).
pub fn load(text: &str) -> Model {
    Model::from_text(text, "test.ron").unwrap_or_else(|e| panic!("model does not load: {e:?}"))
}

/// One `run_point` of `text` (with `reps` replications inside it), after the run's self-checks.
pub fn run(
    text: &str,
    traffic: f64,
    duration_s: f64,
    warmup_s: f64,
    seed: u64,
    reps: u32,
) -> RunSummary {
    let model = load(text);
    let s = run_point(
        &model,
        &RunOptions {
            traffic,
            duration_s: Some(duration_s),
            warmup_s: Some(warmup_s),
            seed: Some(seed),
            replications: Some(reps),
            ..Default::default()
        },
    )
    .expect("run_point");
    assert_self_checks(&s);
    s
}

/// `ARCHSIM_THEORY_SEED_OFFSET` (default 0), added to every seed of the theory tests (by
/// [`replicate`], [`run1`] and the tests that seed runs themselves), so that a whole file can be
/// rerun with other random numbers.
pub fn seed_offset() -> u64 {
    std::env::var("ARCHSIM_THEORY_SEED_OFFSET")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(0)
}

/// One replication at 1× traffic through [`run`] (self-checks included), seed shifted by
/// [`seed_offset`].
pub fn run1(text: &str, duration_s: f64, warmup_s: f64, seed: u64) -> RunSummary {
    run(text, 1.0, duration_s, warmup_s, seed + seed_offset(), 1)
}

/// One replication of `text` (seed shifted by [`seed_offset`]), checking conservation and that
/// the run was not truncated, but not Little's law: for runs whose queues grow on purpose.
pub fn run_overloaded(text: &str, duration_s: f64, warmup_s: f64, seed: u64) -> RunSummary {
    let model = load(text);
    let s = run_point(
        &model,
        &RunOptions {
            traffic: 1.0,
            duration_s: Some(duration_s),
            warmup_s: Some(warmup_s),
            seed: Some(seed + seed_offset()),
            replications: Some(1),
            ..Default::default()
        },
    )
    .expect("run_point");
    assert!(
        s.checks.conservation,
        "conservation failed for `{}`: {:?}",
        s.model, s.requests
    );
    assert!(!s.engine.truncated, "run of `{}` was truncated", s.model);
    s
}

/// `reps` independent single-replication runs with seeds `base_seed..base_seed + reps`, run in
/// parallel; each has passed [`assert_self_checks`]. Setting `ARCHSIM_THEORY_SEED_OFFSET=K` adds K
/// to every seed: the suite with other random numbers, to check that the tolerances are not
/// tuned to one draw.
pub fn replicate(
    text: &str,
    traffic: f64,
    duration_s: f64,
    warmup_s: f64,
    base_seed: u64,
    reps: u32,
) -> Vec<RunSummary> {
    let offset = seed_offset();
    (0..reps as u64)
        .into_par_iter()
        .map(|i| {
            run(
                text,
                traffic,
                duration_s,
                warmup_s,
                base_seed + offset + i,
                1,
            )
        })
        .collect()
}

/// Conservation (every measured arrival is completed, dropped, failed, timed out or still in
/// flight) and Little's law at every component, on every run of every test.
pub fn assert_self_checks(s: &RunSummary) {
    assert!(
        s.checks.conservation,
        "conservation failed for `{}`: {:?}",
        s.model, s.requests
    );
    let r = &s.requests;
    let accounted = r.completed.0 + r.dropped.0 + r.failed.0 + r.timed_out.0 + r.in_flight.0;
    assert!(
        (r.arrived.0 - accounted).abs() < 1e-6,
        "requests of `{}` do not add up: {r:?}",
        s.model
    );
    assert!(
        s.checks.little_max_rel_error < LITTLE_TOL,
        "Little's law off by {:.3e} at {:?} in `{}`",
        s.checks.little_max_rel_error,
        s.checks.little_component,
        s.model
    );
    assert!(!s.engine.truncated, "run of `{}` was truncated", s.model);
}

/// The component `name` of a summary.
pub fn comp<'a>(s: &'a RunSummary, name: &str) -> &'a ComponentSummary {
    s.components
        .get(name)
        .unwrap_or_else(|| panic!("no component `{name}` in `{}`", s.model))
}

/// One number per replication.
pub fn values(runs: &[RunSummary], f: impl Fn(&RunSummary) -> f64) -> Vec<f64> {
    runs.iter().map(f).collect()
}

/// Mean and standard error of the mean of independent replications.
#[derive(Debug, Clone, Copy)]
pub struct Estimate {
    pub mean: f64,
    pub se: f64,
    pub n: usize,
}

pub fn estimate(xs: &[f64]) -> Estimate {
    let n = xs.len();
    assert!(n >= 2, "need at least two replications");
    let mean = xs.iter().sum::<f64>() / n as f64;
    let var = xs.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (n - 1) as f64;
    Estimate {
        mean,
        se: (var / n as f64).sqrt(),
        n,
    }
}

/// The two-sided 99.99% Student-t multiplier for `n` replications (5.24 for n = 16).
pub fn t_multiplier(n: usize) -> f64 {
    StudentsT::new(0.0, 1.0, (n - 1) as f64)
        .expect("n ≥ 2")
        .inverse_cdf(0.99995)
}

/// Asserts `|mean − theory| ≤ t · SE + floor_rel · |theory|` and `SE ≤ max_rel_se · |theory|`
/// (see the module comment). Prints the comparison, which `--nocapture` shows.
pub fn assert_agrees(what: &str, xs: &[f64], theory: f64, max_rel_se: f64, floor_rel: f64) {
    let e = estimate(xs);
    let t = t_multiplier(e.n);
    let tol = t * e.se + floor_rel * theory.abs();
    let err = e.mean - theory;
    println!(
        "{what}: simulated {:.6} ± {:.6} (SE, {} reps), theory {:.6}, rel err {:+.3}%, tol {:.6} ({:.2}%), SE/cap {:.2}",
        e.mean,
        e.se,
        e.n,
        theory,
        100.0 * err / theory,
        tol,
        100.0 * tol / theory.abs(),
        e.se / (max_rel_se * theory.abs())
    );
    assert!(
        e.se <= max_rel_se * theory.abs(),
        "{what}: the replications are noisier than the run length allows (SE {:.6} > {:.2}% of {theory:.6}): the test has lost its power",
        e.se,
        100.0 * max_rel_se
    );
    assert!(
        err.abs() <= tol,
        "{what}: simulated {:.6} ± {:.6} (SE over {} reps) but theory says {theory:.6} (|error| {:.6} > tolerance {tol:.6})",
        e.mean,
        e.se,
        e.n,
        err.abs()
    );
}

/// The `run --json` object of a summary without its wall-clock fields (the only ones allowed to
/// differ between two runs of the same model and seed).
pub fn json_without_wall_clock(s: &RunSummary) -> serde_json::Value {
    let mut v = serde_json::to_value(s).expect("summary serializes");
    let engine = v
        .get_mut("engine")
        .and_then(|e| e.as_object_mut())
        .expect("summary has an engine object");
    engine.remove("wall_s");
    engine.remove("events_per_s");
    v
}

/// `ln(1/(1−q))`: the q-quantile of an exponential of rate 1.
pub fn exp_quantile(q: f64) -> f64 {
    -(1.0 - q).ln()
}
