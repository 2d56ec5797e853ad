//! Engine throughput: events per second on an M/M/1 queue at ρ = 0.9 and on a three-tier model,
//! beside a minimal hand-written binary-heap M/M/1 loop that marks the ceiling for this machine.
//!
//! Run with `cargo bench --bench engine`. Each iteration simulates a fixed number of customers;
//! criterion reports time per iteration, and the throughput lines give events (or requests) per
//! second directly.

use archsim::engine::rng::StreamKey;
use archsim::engine::sim::{RunConfig, simulate};
use archsim::model::Model;
use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use rand::SeedableRng;
use rand::rngs::Xoshiro256PlusPlus;
use rand_distr::{Distribution, Exp1};
use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::hint::black_box;

const MM1: &str = r#"Model(name: "mm1", workload: Workload(arrival: Poisson(rate: 900.0), entry: "s"),
    components: { "s": Server(workers: 1, handler: [Work(Exp(mean_ms: 1.0))]) })"#;

const THREE_TIER: &str = r#"Model(name: "three tier", workload: Workload(arrival: Poisson(rate: 900.0), entry: "lb"),
    components: {
        "lb": LoadBalancer(targets: ["app"], policy: LeastConnections),
        "app": Server(instances: 4, workers: 4, handler: [Work(Exp(mean_ms: 8.0)), Maybe(p: 0.7, steps: [Call("db")])]),
        "db": Database(workers: 8, read: Exp(mean_ms: 4.0), write: Exp(mean_ms: 8.0)),
    })"#;

fn config(duration_s: f64) -> RunConfig {
    RunConfig {
        traffic: 1.0,
        duration_s,
        warmup_s: 0.0,
        key: StreamKey {
            seed: 1,
            point: "bench".into(),
            replication: 0,
        },
        max_in_flight: 1_000_000,
        max_events: None,
        timeline_s: None,
        max_wall_s: None,
    }
}

/// The reference loop: one server, exponential arrivals and services, a heap of (time, kind).
/// About as little work per event as a discrete-event M/M/1 can do. Returns events processed.
fn minimal_mm1(customers: u64, lambda: f64, mu: f64) -> u64 {
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(1);
    let mut heap: BinaryHeap<Reverse<(u64, u8)>> = BinaryHeap::new();
    let draw = |rng: &mut Xoshiro256PlusPlus, rate: f64| -> u64 {
        let e: f64 = Exp1.sample(rng);
        (e / rate * 1e9) as u64
    };
    heap.push(Reverse((draw(&mut rng, lambda), 0)));
    let (mut arrived, mut in_system, mut events, mut sum_latency) = (0u64, 0u64, 0u64, 0u64);
    let mut waiting: std::collections::VecDeque<u64> = Default::default();
    while let Some(Reverse((t, kind))) = heap.pop() {
        events += 1;
        if kind == 0 {
            arrived += 1;
            if arrived < customers {
                heap.push(Reverse((t + draw(&mut rng, lambda), 0)));
            }
            in_system += 1;
            waiting.push_back(t);
            if in_system == 1 {
                heap.push(Reverse((t + draw(&mut rng, mu), 1)));
            }
        } else {
            let a = waiting.pop_front().expect("a customer in service");
            sum_latency += t - a;
            in_system -= 1;
            if in_system > 0 {
                heap.push(Reverse((t + draw(&mut rng, mu), 1)));
            }
        }
    }
    black_box(sum_latency);
    events
}

fn benches(c: &mut Criterion) {
    let customers = 200_000u64;
    let mut g = c.benchmark_group("mm1_rho0.9");
    g.sample_size(10);
    g.throughput(Throughput::Elements(2 * customers));
    g.bench_function("minimal_heap_loop", |b| {
        b.iter(|| minimal_mm1(customers, 900.0, 1000.0))
    });
    let mm1 = Model::from_text(MM1, "mm1.ron").expect("valid bench model");
    g.bench_function("archsim_engine", |b| {
        b.iter(|| simulate(&mm1, config(customers as f64 / 900.0)).events)
    });
    g.finish();

    let tier = Model::from_text(THREE_TIER, "three-tier.ron").expect("valid bench model");
    let mut g = c.benchmark_group("three_tier");
    g.sample_size(10);
    g.throughput(Throughput::Elements(customers));
    g.bench_function("requests", |b| {
        b.iter(|| simulate(&tier, config(customers as f64 / 900.0)).completed)
    });
    g.finish();
}

criterion_group!(engine, benches);
criterion_main!(engine);
