//! Parallel speed-up of a sweep: the same study (two bundled models over 1..10x, 3 replications)
//! on a rayon pool of 1 thread and of 2. On two idle cores the second should take close to half
//! the time of the first. Run with `cargo bench --bench sweep`.

use archsim::runner::RunOptions;
use archsim::study::{Source, Study, StudyArgs};
use criterion::{Criterion, criterion_group, criterion_main};

fn study() -> Study {
    let sources: Vec<Source> = Source::bundled()
        .into_iter()
        .filter(|s| s.name.contains("01-") || s.name.contains("03-"))
        .collect();
    Study::new(
        sources,
        StudyArgs {
            traffic: (1..=10).map(f64::from).collect(),
            vary: Vec::new(),
            base: RunOptions {
                replications: Some(3),
                duration_s: Some(30.0),
                warmup_s: Some(5.0),
                ..RunOptions::at_traffic(1.0)
            },
            slo_p99_ms: 500.0,
            max_error_rate: 0.01,
        },
        "bench",
        false,
    )
    .expect("the bundled models are valid")
}

fn benches(c: &mut Criterion) {
    let s = study();
    let mut g = c.benchmark_group("sweep_two_models_1_to_10x_3_reps");
    g.sample_size(10);
    for threads in [1, 2] {
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .expect("a thread pool");
        g.bench_function(format!("{threads}_threads"), |b| {
            b.iter(|| pool.install(|| s.run(None, &|| {}).expect("the sweep runs").len()))
        });
    }
    g.finish();
}

criterion_group!(sweep, benches);
criterion_main!(sweep);
