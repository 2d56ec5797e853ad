//! Cost per event as models grow. Criterion reports each benchmark's throughput in events per
//! second (`Throughput::Elements(events)`), so a flat line across sizes means the engine's cost
//! per event does not depend on the size of the model.
//!
//! - `chain/N`: a request goes down a chain of N servers (each calls the next), and `fan/N`: a
//!   server calls N servers in parallel. N = 10, 100, 1000 components.
//! - `lb_<policy>_rho<ρ>/N`: a load balancer over N single-worker instances, at utilization ρ.
//!   `LeastConnections` scans the backends from a rotating start and stops at the first idle one,
//!   so its cost per pick is about 1 / (fraction idle) at moderate load but the full N once every
//!   backend is busy (ρ ≥ 1); `PowerOfTwoChoices` looks at two.
//! - `cache_zipf/N`: a cache (capacity N / 10, LRU) over N = 10 000, 1 000 000 and 10 000 000
//!   Zipf(s = 0.9) keys, in front of a database.
//!
//! Each model is run once before its benchmark to count its events (runs are deterministic), and
//! its simulated duration is chosen so that one iteration is about [`TARGET_EVENTS`] events.
//! Run with `cargo bench --bench scaling` (add a benchmark name to run only some).

use archsim::model::Model;
use archsim::runner::{RunOptions, run_point};
use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use std::fmt::Write as _;
use std::hint::black_box;
use std::time::Instant;

/// Events per iteration to aim at: long enough to dwarf the set-up, short enough for 10 samples.
const TARGET_EVENTS: f64 = 1_000_000.0;

fn options(duration_s: f64) -> RunOptions {
    RunOptions {
        duration_s: Some(duration_s),
        warmup_s: Some(0.0),
        replications: Some(1),
        seed: Some(1),
        ..RunOptions::at_traffic(1.0)
    }
}

/// Events of one run.
fn events(model: &Model, duration_s: f64) -> u64 {
    run_point(model, &options(duration_s))
        .expect("valid settings")
        .engine
        .events
}

/// A duration giving about [`TARGET_EVENTS`] events, from a short calibration run.
fn calibrate(model: &Model, probe_s: f64) -> (f64, u64) {
    let probe = events(model, probe_s).max(1);
    let duration = probe_s * TARGET_EVENTS / probe as f64;
    (duration, events(model, duration))
}

fn chain(n: usize) -> String {
    let mut comps = String::new();
    for i in 0..n {
        let next = if i + 1 < n {
            format!(", Call(\"c{}\")", i + 1)
        } else {
            String::new()
        };
        // Async: a worker is held only while working, so the deep chain does not saturate.
        let _ = writeln!(
            comps,
            "\"c{i}\": Server(workers: 8, mode: Async, handler: [Work(Exp(mean_ms: 0.05)){next}]),"
        );
    }
    format!(
        "Model(name: \"chain {n}\", workload: Workload(arrival: Poisson(rate: 100.0), entry: \"c0\"), components: {{ {comps} }})"
    )
}

fn fan(n: usize) -> String {
    let branches: Vec<String> = (1..=n).map(|i| format!("[Call(\"c{i}\")]")).collect();
    let mut comps = format!(
        "\"c0\": Server(workers: 64, mode: Async, handler: [Work(Exp(mean_ms: 0.05)), Parallel(branches: [{}])]),\n",
        branches.join(", ")
    );
    for i in 1..=n {
        let _ = writeln!(
            comps,
            "\"c{i}\": Server(workers: 8, handler: [Work(Exp(mean_ms: 0.5))]),"
        );
    }
    format!(
        "Model(name: \"fan {n}\", workload: Workload(arrival: Poisson(rate: 100.0), entry: \"c0\"), components: {{ {comps} }})"
    )
}

/// N single-worker instances of 10 ms mean service behind a balancer, offered ρ · N / 10 ms.
fn balanced(n: usize, policy: &str, rho: f64) -> String {
    let rate = rho * n as f64 / 0.010;
    format!(
        "Model(name: \"lb {n}\", workload: Workload(arrival: Poisson(rate: {rate:.1}), entry: \"lb\"),
        components: {{
            \"lb\": LoadBalancer(targets: [\"app\"], policy: {policy}),
            \"app\": Server(instances: {n}, workers: 1, queue_capacity: 20, handler: [Work(Exp(mean_ms: 10.0))]),
        }})"
    )
}

fn cache(n: u64) -> String {
    format!(
        "Model(name: \"cache {n}\",
        workload: Workload(arrival: Poisson(rate: 5000.0), classes: [
            (name: \"read\", weight: 1.0, entry: \"cache\", keys: Zipf(n: {n}, s: 0.9)),
        ]),
        components: {{
            \"cache\": Cache(capacity: {}, hit: Const(ms: 0.1), backend: \"db\"),
            \"db\": Database(workers: 64, read: Exp(mean_ms: 2.0), write: Exp(mean_ms: 4.0)),
        }})",
        n / 10
    )
}

/// Adds one benchmark of `text` to group `g`, with its events as the throughput, and prints a
/// line with its calibration (the duration and the events per request).
fn bench_model(
    g: &mut criterion::BenchmarkGroup<'_, criterion::measurement::WallTime>,
    group: &str,
    n: u64,
    text: &str,
    probe_s: f64,
) {
    let model = Model::from_text(text, "bench.ron").unwrap_or_else(|e| panic!("{e}"));
    let t = Instant::now();
    let (duration, events_per_run) = calibrate(&model, probe_s);
    let s = run_point(&model, &options(duration)).expect("runs");
    eprintln!(
        "{group}/{n}: {duration:.2} simulated s, {events_per_run} events, {:.1} events per request, stable {} (calibrated in {:.1} s)",
        events_per_run as f64 / s.requests.arrived.0.max(1.0),
        s.stable,
        t.elapsed().as_secs_f64()
    );
    g.throughput(Throughput::Elements(events_per_run));
    g.bench_function(BenchmarkId::from_parameter(n), |b| {
        b.iter(|| black_box(events(&model, duration)))
    });
}

fn structure(c: &mut Criterion) {
    let mut g = c.benchmark_group("chain");
    g.sample_size(10);
    for n in [10, 100, 1000] {
        bench_model(&mut g, "chain", n as u64, &chain(n), 1.0);
    }
    g.finish();
    let mut g = c.benchmark_group("fan");
    g.sample_size(10);
    for n in [10, 100, 1000] {
        bench_model(&mut g, "fan", n as u64, &fan(n), 1.0);
    }
    g.finish();
}

fn balancers(c: &mut Criterion) {
    for policy in ["LeastConnections", "PowerOfTwoChoices"] {
        for rho in [0.7, 0.98, 1.5] {
            let name = format!("lb_{policy}_rho{rho}");
            let mut g = c.benchmark_group(&name);
            g.sample_size(10);
            for n in [10, 100, 1000] {
                bench_model(&mut g, &name, n as u64, &balanced(n, policy, rho), 0.5);
            }
            g.finish();
        }
    }
}

fn caches(c: &mut Criterion) {
    let mut g = c.benchmark_group("cache_zipf");
    g.sample_size(10);
    for n in [10_000u64, 1_000_000, 10_000_000] {
        bench_model(&mut g, "cache_zipf", n, &cache(n), 1.0);
    }
    g.finish();
}

criterion_group!(scaling, structure, balancers, caches);
criterion_main!(scaling);
