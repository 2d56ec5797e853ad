//! The tour's story: the bundled models in models/ must say what their notes say.
//!
//! `archsim tour` simulates every model in models/ over 1..10x traffic and tells the story of
//! the article "How would you scale your application if traffic increases 10x?" in file-name
//! order. These tests run the bundled models briefly (20–90 simulated seconds, one replication)
//! through the library and check each step of the story: where the knee is (the highest traffic
//! meeting the 500 ms p99 SLO with at most 1% errors), which component is the bottleneck, what
//! the design costs, and how the failure scenarios behave over time. Every comparison is made
//! with a margin well beyond the run-to-run noise at these lengths, so a retuned engine or
//! another seed does not flip it, while a model whose story no longer holds fails.

use archsim::model::{Arrival, KeyLaw, Model, Op};
use archsim::runner::{RunOptions, run_point};
use archsim::stats::summary::{ClassSummary, ComponentSummary, RunSummary};
use archsim::sweep::{DEFAULT_MAX_ERROR_RATE, DEFAULT_SLO_P99_MS, knees};
use rayon::prelude::*;
use std::path::{Path, PathBuf};

/// Simulated seconds of the short steady-state runs, warm-up included, and their warm-up.
const DURATION_S: f64 = 30.0;
const WARMUP_S: f64 = 5.0;

fn models_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("models")
}

/// The bundled model files, sorted by name (the tour's order).
fn model_files() -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(models_dir())
        .expect("models/ exists")
        .map(|e| e.expect("readable entry").path())
        .filter(|p| p.extension().is_some_and(|x| x == "ron"))
        .collect();
    files.sort();
    files
}

/// The bundled model whose file name starts with `prefix` (e.g. "05-").
fn model(prefix: &str) -> Model {
    let path = model_files()
        .into_iter()
        .find(|p| file_name(p).starts_with(prefix))
        .unwrap_or_else(|| panic!("no model file starting with {prefix:?} in models/"));
    Model::load(&path).unwrap_or_else(|e| panic!("{}: {e:?}", path.display()))
}

fn file_name(p: &Path) -> String {
    p.file_name().unwrap().to_string_lossy().into_owned()
}

/// The seed: the model's own, unless `ARCHSIM_STORY_SEED=N` asks for another (to check that the
/// story does not hang on one draw of the random numbers).
fn seed() -> Option<u64> {
    std::env::var("ARCHSIM_STORY_SEED")
        .ok()
        .map(|s| s.parse().expect("ARCHSIM_STORY_SEED is a whole number"))
}

/// One replication of `m` at `traffic` for `duration_s` (warm-up `warmup_s`), optionally with a
/// timeline of 1 s intervals.
fn run_with(m: &Model, traffic: f64, duration_s: f64, warmup_s: f64, timeline: bool) -> RunSummary {
    let s = run_point(
        m,
        &RunOptions {
            traffic,
            duration_s: Some(duration_s),
            warmup_s: Some(warmup_s),
            seed: seed(),
            replications: Some(1),
            timeline_s: timeline.then_some(1.0),
            ..Default::default()
        },
    )
    .unwrap_or_else(|e| panic!("{} at {traffic}x: {e}", m.name));
    assert!(
        s.checks.conservation,
        "{} at {traffic}x: requests not conserved",
        m.name
    );
    s
}

/// A short steady-state run.
fn run(m: &Model, traffic: f64) -> RunSummary {
    run_with(m, traffic, DURATION_S, WARMUP_S, false)
}

/// A run over the model's own length (for the models with a spike or a crash in time).
fn run_full(m: &Model, timeline: bool) -> RunSummary {
    let d = m.sim.duration_s.expect("the model sets its duration");
    let w = m.sim.warmup_s.expect("the model sets its warm-up");
    run_with(m, 1.0, d, w, timeline)
}

/// Short runs at 1x..10x, in parallel.
fn sweep(m: &Model) -> Vec<RunSummary> {
    (1..=10)
        .into_par_iter()
        .map(|t| run(m, f64::from(t)))
        .collect()
}

/// The knee of a sweep: the highest traffic before the first that breaks the SLO (0 if even
/// 1x breaks it).
fn knee(results: &[RunSummary]) -> f64 {
    let k = knees(results, DEFAULT_SLO_P99_MS, DEFAULT_MAX_ERROR_RATE);
    assert_eq!(k.len(), 1, "one series");
    k[0].max_traffic.unwrap_or(0.0)
}

fn at(results: &[RunSummary], traffic: f64) -> &RunSummary {
    results
        .iter()
        .find(|r| r.traffic == traffic)
        .unwrap_or_else(|| panic!("no point at {traffic}x"))
}

fn comp<'a>(s: &'a RunSummary, name: &str) -> &'a ComponentSummary {
    s.components
        .get(name)
        .unwrap_or_else(|| panic!("`{}` has no component `{name}`", s.model))
}

fn class<'a>(s: &'a RunSummary, name: &str) -> &'a ClassSummary {
    s.classes
        .get(name)
        .unwrap_or_else(|| panic!("`{}` has no class `{name}`", s.model))
}

fn meets_slo(s: &RunSummary) -> bool {
    s.latency_ms.p99 <= DEFAULT_SLO_P99_MS
        && s.error_rate <= DEFAULT_MAX_ERROR_RATE
        && s.requests.completed.0 > 0.0
}

/// Mean successful throughput over the timeline points with `from ≤ t < to`.
fn throughput_between(s: &RunSummary, from: f64, to: f64) -> f64 {
    let tl = s.timeline.as_ref().expect("a timeline was recorded");
    let pts: Vec<f64> = tl
        .points
        .iter()
        .filter(|p| p.t_s >= from && p.t_s < to)
        .map(|p| p.throughput_rps)
        .collect();
    assert!(!pts.is_empty(), "no timeline points in [{from}, {to})");
    pts.iter().sum::<f64>() / pts.len() as f64
}

// ---------------------------------------------------------------------------------------------
// Every bundled model
// ---------------------------------------------------------------------------------------------

/// A file name of the form `NN-short-name.ron` or `NNx-short-name.ron` (x a letter for the
/// parts of one step): its step number and whether it fits.
fn step_number(name: &str) -> Option<u32> {
    let stem = name.strip_suffix(".ron")?;
    let (num, rest) = stem.split_at_checked(2)?;
    let n: u32 = num.parse().ok()?;
    let rest = rest
        .strip_prefix(|c: char| c.is_ascii_lowercase())
        .unwrap_or(rest);
    let slug = rest.strip_prefix('-')?;
    let ok = !slug.is_empty()
        && slug
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-');
    ok.then_some(n)
}

#[test]
fn every_bundled_model_loads_runs_and_conserves_requests() {
    let files = model_files();
    assert!(files.len() >= 12, "one model per step of the article");
    // The tour embeds exactly these files, in this order.
    let bundled: Vec<&str> = archsim::bundled::BUNDLED.iter().map(|b| b.0).collect();
    let names: Vec<String> = files.iter().map(|p| file_name(p)).collect();
    assert_eq!(bundled, names, "the binary's bundled models are models/");
    let mut steps = Vec::new();
    for n in &names {
        steps.push(step_number(n).unwrap_or_else(|| panic!("{n} is not NN-short-name.ron")));
    }
    assert_eq!(steps.first(), Some(&1), "the story starts at step 1");
    assert!(
        steps.windows(2).all(|w| w[1] == w[0] || w[1] == w[0] + 1),
        "steps are numbered in order without gaps: {names:?}"
    );
    let models: Vec<(String, Model)> = files
        .iter()
        .map(|p| {
            let text = std::fs::read_to_string(p).unwrap();
            let notes = archsim::bundled::leading_comment(&text)
                .unwrap_or_else(|| panic!("{} has no leading // notes", file_name(p)));
            assert!(
                notes.contains("What to look for") && notes.lines().count() >= 5,
                "{}: the notes say what the step shows and what to look for",
                file_name(p)
            );
            let m = Model::load(p).unwrap_or_else(|e| panic!("{}: {e:?}", p.display()));
            assert!(
                m.description.as_deref().is_some_and(|d| !d.is_empty()),
                "{}: a description",
                file_name(p)
            );
            (file_name(p), m)
        })
        .collect();
    let mut legend: Vec<&str> = models.iter().map(|(_, m)| m.name.as_str()).collect();
    legend.sort_unstable();
    legend.dedup();
    assert_eq!(legend.len(), models.len(), "model names are unique");
    // Each model runs, briefly, at a low and a high traffic level; requests are conserved and
    // some complete.
    models.par_iter().for_each(|(file, m)| {
        for traffic in [1.0, 5.0] {
            let s = run_with(m, traffic, 20.0, 5.0, false);
            assert!(
                s.requests.completed.0 > 0.0 || traffic > 1.0,
                "{file}: nothing completed at 1x"
            );
            assert!(s.engine.events > 0, "{file}: the run simulated nothing");
        }
    });
}

/// Every model shares the baseline app: 50 API requests/s at 1x, 90% reads and 10% writes on
/// the same Zipf keys. (Steps 9 and 10 add static and signup requests on top.)
#[test]
fn every_model_shares_the_baseline_workload() {
    for p in model_files() {
        let m = Model::load(&p).unwrap();
        let Arrival::Poisson { rate } = m.workload.arrival else {
            panic!("{}: open arrivals", m.name)
        };
        let total: f64 = m.workload.classes.iter().map(|c| c.weight).sum();
        let api = |name: &str, op: Op| {
            let c = m
                .workload
                .classes
                .iter()
                .find(|c| c.name == name)
                .unwrap_or_else(|| panic!("{}: a `{name}` class", m.name));
            assert_eq!(c.op, op, "{}: `{name}` op", m.name);
            assert!(
                matches!(c.keys, Some(KeyLaw::Zipf { n: 10000, s }) if s == 1.0),
                "{}: `{name}` keys are Zipf(10000, 1.0)",
                m.name
            );
            rate * c.weight / total
        };
        let (reads, writes) = (api("read", Op::Read), api("write", Op::Write));
        assert!(
            (reads - 45.0).abs() < 1e-9 && (writes - 5.0).abs() < 1e-9,
            "{}: 45 reads/s and 5 writes/s at 1x, got {reads} and {writes}",
            m.name
        );
    }
}

// ---------------------------------------------------------------------------------------------
// Steps 1–4: one box, a bigger box, more boxes
// ---------------------------------------------------------------------------------------------

#[test]
fn the_single_server_saturates_first_at_the_app_tier() {
    let m = model("01-");
    let low = run(&m, 1.0);
    assert!(
        meets_slo(&low),
        "the $5 box handles today's traffic: p99 {} ms, errors {}",
        low.latency_ms.p99,
        low.error_rate
    );
    let r = sweep(&m);
    for t in [3.0, 6.0, 10.0] {
        let s = at(&r, t);
        assert_eq!(s.bottleneck, "app", "at {t}x");
        assert!(
            comp(s, "app").utilization > 0.95,
            "app threads saturated at {t}x"
        );
        assert!(
            comp(s, "db").utilization < 0.9,
            "the database has room at {t}x"
        );
    }
    let k = knee(&r);
    assert!((1.0..=3.0).contains(&k), "knee {k}x");
}

#[test]
fn the_vertical_box_costs_eight_times_the_small_one_and_holds_further() {
    let (small, large) = (model("01-"), model("02-"));
    let (s, l) = (run(&small, 1.0), run(&large, 1.0));
    assert_eq!(s.cost.monthly_usd, 5.0, "the article's $5 box");
    assert_eq!(l.cost.monthly_usd, 40.0, "the article's $40 box");
    assert_eq!(l.cost.monthly_usd, 8.0 * s.cost.monthly_usd);
    let k_small = knee(&sweep(&small));
    let k_large = knee(&sweep(&large));
    assert!(k_large >= k_small + 5.0, "knees {k_small}x → {k_large}x");
}

#[test]
fn the_load_balancer_moves_the_bottleneck_to_the_database() {
    let (single, farm, ten) = (model("01-"), model("03-"), model("04-"));
    let (rs, rf, rt) = (sweep(&single), sweep(&farm), sweep(&ten));
    for t in [4.0, 8.0] {
        let s = at(&rf, t);
        assert_eq!(s.bottleneck, "db", "three servers at {t}x");
        assert!(comp(s, "db").utilization > 0.95);
        assert_eq!(at(&rt, t).bottleneck, "db", "ten servers at {t}x");
    }
    let (ks, kf, kt) = (knee(&rs), knee(&rf), knee(&rt));
    assert!(kf > ks, "horizontal scaling helps a little: {ks}x → {kf}x");
    // Seven more app servers do not move the knee: the database was already the chokepoint.
    assert!((kt - kf).abs() <= 1.0, "3 servers {kf}x, 10 servers {kt}x");
    // Twelve app threads can never exhaust 20 connections; forty can, once the database lags.
    assert!(rf.iter().all(|s| comp(s, "db").failed.0 == 0.0));
    assert!(comp(at(&rt, 4.0), "db").failed.0 > 0.0);
    assert!(
        at(&rt, 4.0).error_rate > 0.05,
        "connection errors break step 4"
    );
}

// ---------------------------------------------------------------------------------------------
// Steps 5–8: the database
// ---------------------------------------------------------------------------------------------

#[test]
fn read_replicas_raise_the_knee_and_read_stale_data() {
    let (before, after) = (sweep(&model("04-")), sweep(&model("05-")));
    let (kb, ka) = (knee(&before), knee(&after));
    assert!(ka >= kb + 2.0, "replicas: knee {kb}x → {ka}x");
    let s = at(&after, 3.0);
    let stale = comp(s, "db")
        .stale_read_ratio
        .expect("replicas report stale reads");
    assert!(stale > 0.0 && stale < 0.5, "stale read ratio {stale}");
    assert_eq!(comp(s, "db").instances, 3, "a primary and two replicas");
}

#[test]
fn connection_pools_stop_connection_failures_and_save_the_setup() {
    let (unpooled, pooled) = (model("05-"), model("06-"));
    let (ru, rp) = (sweep(&unpooled), sweep(&pooled));
    // Past the knee the unpooled replicas run out of connections; pooled they never do.
    let failed_unpooled: f64 = ru.iter().map(|s| comp(s, "db").failed.0).sum();
    assert!(
        failed_unpooled > 100.0,
        "{failed_unpooled} connection failures"
    );
    for s in &rp {
        assert_eq!(comp(s, "db").failed.0, 0.0, "pooled at {}x", s.traffic);
        assert!(
            comp(s, "app").pools.get("db").is_some(),
            "a pool to the database"
        );
    }
    // Below the knee a request saves the 3 ms handshake (same arrivals: common random numbers).
    let saved = at(&ru, 1.0).latency_ms.mean - at(&rp, 1.0).latency_ms.mean;
    assert!(
        (1.5..4.5).contains(&saved),
        "pooling saves {saved} ms per request"
    );
    // The knee stays where the replicas put it (ten pools of two queue a little less
    // efficiently than one queue at each replica, so allow one step of noise).
    let (ku, kp) = (knee(&ru), knee(&rp));
    assert!(kp >= ku - 1.0, "pooling keeps the knee: {ku}x → {kp}x");
}

#[test]
fn the_index_raises_the_knee() {
    let (scan, index) = (sweep(&model("06-")), sweep(&model("07-")));
    let (ks, ki) = (knee(&scan), knee(&index));
    assert!(ki >= ks + 2.0, "index: knee {ks}x → {ki}x");
    // The same traffic costs the database far less.
    let (us, ui) = (
        comp(at(&scan, 4.0), "db").utilization,
        comp(at(&index, 4.0), "db").utilization,
    );
    assert!(ui < 0.75 * us, "db utilization at 4x: {us} → {ui}");
}

#[test]
fn the_cache_raises_the_knee_and_spares_the_database() {
    let (before, after) = (sweep(&model("07-")), sweep(&model("08-")));
    let (kb, ka) = (knee(&before), knee(&after));
    assert!(ka > kb, "cache: knee {kb}x → {ka}x");
    assert!(
        !meets_slo(at(&before, 10.0)),
        "without the cache 10x breaks"
    );
    assert!(meets_slo(at(&after, 10.0)), "with the cache 10x holds");
    for t in [1.0, 10.0] {
        let h = comp(at(&after, t), "cache").hit_ratio.expect("a hit ratio");
        assert!(
            (0.4..0.95).contains(&h),
            "the hit ratio emerges: {h} at {t}x"
        );
    }
    let (ub, ua) = (
        comp(at(&before, 8.0), "db").utilization,
        comp(at(&after, 8.0), "db").utilization,
    );
    assert!(ua < 0.6 * ub, "db utilization at 8x: {ub} → {ua}");
}

// ---------------------------------------------------------------------------------------------
// Steps 9–11: CDN, async work, microservices
// ---------------------------------------------------------------------------------------------

#[test]
fn the_cdn_takes_static_load_off_the_origin() {
    let (origin, cdn) = (model("09a-"), model("09b-"));
    let (so, sc) = (run(&origin, 2.0), run(&cdn, 2.0));
    let static_rps = class(&so, "static").throughput_rps;
    let api_rps = class(&so, "read").throughput_rps + class(&so, "write").throughput_rps;
    assert!(
        static_rps > 3.0 * api_rps,
        "static files dominate the requests"
    );
    let app_before = comp(&so, "app").throughput_rps;
    assert!((app_before - (static_rps + api_rps)).abs() < 0.02 * app_before);
    // With the CDN the origin serves the API and the edges' misses only.
    let h = comp(&sc, "cdn").hit_ratio.expect("the CDN's hit ratio");
    assert!(h > 0.5, "edge hit ratio {h}");
    let expected = api_rps + static_rps * (1.0 - h);
    let app_after = comp(&sc, "app").throughput_rps;
    assert!(
        (app_after - expected).abs() < 0.1 * expected,
        "origin {app_after} req/s, expected {expected} (hit ratio {h})"
    );
    assert!(app_after < 0.6 * app_before);
    // Static files come from nearby edges: far users stop paying the ocean crossing.
    let (lo, lc) = (
        class(&so, "static").latency_ms.mean,
        class(&sc, "static").latency_ms.mean,
    );
    assert!(lc < 0.5 * lo, "static mean latency {lo} → {lc} ms");
}

#[test]
fn async_processing_cuts_signup_latency() {
    let (sync, queued) = (model("10a-"), model("10b-"));
    let (a, b) = (run(&sync, 1.0), run(&queued, 1.0));
    let (la, lb) = (
        class(&a, "signup").latency_ms.mean,
        class(&b, "signup").latency_ms.mean,
    );
    assert!(la > 500.0, "inline signup takes {la} ms");
    assert!(lb < 0.1 * la, "queued signup takes {lb} ms against {la}");
    assert!(
        !meets_slo(&a) && meets_slo(&b),
        "p99 {} → {}",
        a.latency_ms.p99,
        b.latency_ms.p99
    );
    // The work still happens, in the background.
    let email = comp(&b, "email_jobs");
    assert!(email.throughput_rps > 1.0, "e-mails are sent");
    assert!(email.task_latency_ms.as_ref().unwrap().mean > 200.0);
    // At 10x the slow inline work starves the app threads for everyone.
    let (a10, b10) = (run(&sync, 10.0), run(&queued, 10.0));
    let (ra, rb) = (
        class(&a10, "read").latency_ms.p99,
        class(&b10, "read").latency_ms.p99,
    );
    assert!(
        ra > 3.0 * rb,
        "read p99 at 10x: inline {ra} ms, queued {rb} ms"
    );
    for q in [
        "email_jobs",
        "avatar_jobs",
        "analytics_jobs",
        "mailing_jobs",
    ] {
        let backlog = comp(&b10, q).backlog.as_ref().unwrap().0;
        assert!(backlog < 100.0, "`{q}` keeps up at 10x (backlog {backlog})");
    }
}

#[test]
fn microservices_add_latency_at_low_load_and_cost_more() {
    let (mono, micro) = (model("11a-"), model("11b-"));
    let (a, b) = (run(&mono, 1.0), run(&micro, 1.0));
    assert!(
        b.latency_ms.mean > a.latency_ms.mean + 1.0,
        "mean latency: monolith {} ms, microservices {} ms",
        a.latency_ms.mean,
        b.latency_ms.mean
    );
    assert!(b.latency_ms.p50 > a.latency_ms.p50);
    assert!(b.cost.monthly_usd > a.cost.monthly_usd);
    // No capacity to show for it, rather the opposite: with more boxes, the split's fleets are
    // far busier at 10x than the monolith's (a gateway thread waits out the whole fan-out).
    let (a10, b10) = (run(&mono, 10.0), run(&micro, 10.0));
    assert!(meets_slo(&a10), "the monolith holds 10x");
    let app = comp(&a10, "app").utilization;
    for svc in ["gateway", "posts"] {
        let u = comp(&b10, svc).utilization;
        assert!(
            u > 1.5 * app,
            "at 10x `{svc}` is {u} busy, the monolith's app {app}"
        );
    }
    assert!(b10.latency_ms.p99 > a10.latency_ms.p99);
}

// ---------------------------------------------------------------------------------------------
// Step 12: what goes wrong
// ---------------------------------------------------------------------------------------------

#[test]
fn a_viral_spike_breaks_one_server_but_not_the_farm() {
    let (one, farm) = (
        run_full(&model("12a-"), false),
        run_full(&model("12b-"), false),
    );
    assert!(
        one.error_rate > 0.2,
        "single server: {} errors",
        one.error_rate
    );
    assert!(farm.error_rate < 0.01, "farm: {} errors", farm.error_rate);
    assert!(farm.error_rate < one.error_rate / 20.0);
    assert!(farm.latency_ms.p99 < DEFAULT_SLO_P99_MS);
}

#[test]
fn health_checks_contain_a_crash() {
    let (blind, checked) = (
        run_full(&model("12c-"), false),
        run_full(&model("12d-"), false),
    );
    // One server of ten down for 30 s of the 80 measured: ~10% × 30/80 of requests fail.
    assert!(
        (0.02..0.06).contains(&blind.error_rate),
        "no health check: {} errors",
        blind.error_rate
    );
    assert!(
        checked.error_rate < 0.01,
        "health-checked: {}",
        checked.error_rate
    );
    assert!(checked.error_rate < blind.error_rate / 5.0);
    assert!(comp(&blind, "app").failed.0 > 0.0 || blind.requests.failed.0 > 0.0);
}

#[test]
fn a_retry_storm_stays_down_after_the_spike_and_a_budget_recovers() {
    let (storm, budget) = (model("12e-"), model("12f-"));
    let (s, b) = (run_full(&storm, true), run_full(&budget, true));
    let spike_end = match budget.workload.profile {
        archsim::model::Profile::Spike {
            start_s,
            duration_s,
            ..
        } => start_s + duration_s,
        _ => panic!("12f has a spike"),
    };
    let end = b.duration_s;
    for r in [&s, &b] {
        let before = throughput_between(r, 10.0, 30.0);
        assert!(
            before > 40.0,
            "{}: {before} req/s before the spike",
            r.model
        );
    }
    // Long after the spike ended, the storm is still down...
    let after_storm = throughput_between(&s, spike_end + 15.0, end);
    assert!(
        after_storm < 5.0,
        "storm: {after_storm} req/s after the spike"
    );
    // ...while the budgeted clients are back to the users' 50 req/s.
    let after_budget = throughput_between(&b, spike_end + 15.0, end);
    assert!(
        after_budget > 40.0,
        "budget: {after_budget} req/s after the spike"
    );
    assert!(s.error_rate > b.error_rate + 0.2);
}
