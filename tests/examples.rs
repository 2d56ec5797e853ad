//! Every program in examples/ is compiled into this test and run, so a broken example fails
//! `cargo test`. Each test calls the example's `main` as a user's `cargo run --example` would,
//! then its `run` to check that the numbers it prints make sense.
//!
//! The examples write only under `output/` (git-ignored) or to the temporary folders given here.

#[path = "../examples/build_model.rs"]
mod build_model;
#[path = "../examples/check_against_theory.rs"]
mod check_against_theory;
#[path = "../examples/custom_sweep.rs"]
mod custom_sweep;
#[path = "../examples/read_results.rs"]
mod read_results;

#[test]
fn build_model_runs_and_saturates_the_app_tier() {
    build_model::main().expect("build_model's main succeeds");
    let runs = build_model::run().expect("build_model runs");
    assert_eq!(runs.len(), 4);
    let (first, last) = (&runs[0], &runs[3]);
    // At 1x everything is served quickly; at 6x the twelve app workers cannot keep up.
    assert!(first.error_rate < 0.01 && first.latency_ms.p99 < 500.0);
    assert!((first.throughput_rps - 100.0).abs() < 10.0);
    assert_eq!(last.bottleneck, "app");
    assert!(last.error_rate > 0.01);
    assert!(runs.iter().all(|r| r.checks.conservation));
}

#[test]
fn custom_sweep_finds_a_knee_per_series_and_writes_the_report() {
    custom_sweep::main().expect("custom_sweep's main succeeds");
    assert!(custom_sweep::out_dir().join("report.html").is_file());

    let dir = tempfile::tempdir().unwrap();
    let (knees, results) = custom_sweep::run(dir.path()).expect("custom_sweep runs");
    assert_eq!(results.len(), 4 * 8);
    assert_eq!(knees.len(), 4);
    for file in [
        "results.csv",
        "components.csv",
        "results.json",
        "knees.json",
        "report.html",
    ] {
        assert!(dir.path().join(file).is_file(), "{file} was not written");
    }
    // More app servers never move the knee down, and four reach further than one.
    let knee = |i: usize| knees[i].max_traffic.unwrap_or(0.0);
    assert!((1..4).all(|i| knee(i) >= knee(i - 1)), "{knees:?}");
    assert!(knee(3) > knee(0), "{knees:?}");
}

#[test]
fn read_results_finds_the_cheapest_design_meeting_the_slo() {
    // With no `.json` argument, main first produces a results.json of its own.
    read_results::main().expect("read_results' main succeeds");

    // A hand-written results.json with the keys the example reads (and one it ignores).
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("results.json");
    let point = |model: &str, traffic: f64, p99: f64, usd: f64| {
        serde_json::json!({
            "model": model, "traffic": traffic, "throughput_rps": 250.0, "error_rate": 0.0,
            "latency_ms": {"p99": p99, "mean": 10.0}, "bottleneck": "db",
            "cost": {"monthly_usd": usd}, "stable": true,
        })
    };
    let points = vec![
        point("cheap but slow", 5.0, 900.0, 10.0),
        point("expensive", 5.0, 100.0, 90.0),
        point("just right", 5.0, 400.0, 40.0),
        point("just right", 1.0, 50.0, 40.0),
        point("cheapest at 1x", 1.0, 50.0, 5.0),
    ];
    std::fs::write(&path, serde_json::to_string(&points).unwrap()).unwrap();
    let best = read_results::run(&path)
        .unwrap()
        .expect("a design meets the SLO");
    assert_eq!(best.model, "just right");
    assert_eq!(best.cost.monthly_usd, 40.0);

    // A file without any point at 5x is an error, not a silent "none".
    let only_1x = vec![point("a", 1.0, 50.0, 5.0)];
    std::fs::write(&path, serde_json::to_string(&only_1x).unwrap()).unwrap();
    assert!(read_results::run(&path).is_err());
}

#[test]
fn check_against_theory_agrees_with_erlang_c() {
    check_against_theory::main().expect("check_against_theory's main succeeds");
    let c = check_against_theory::run().expect("check_against_theory runs");
    let rel = |sim: f64, theory: f64| (sim - theory).abs() / theory;
    assert!(
        rel(c.simulated_sojourn_ms, c.theory_sojourn_ms) < 0.03,
        "{c:?}"
    );
    assert!(rel(c.simulated_wait_ms, c.theory_wait_ms) < 0.10, "{c:?}");
    assert!((c.simulated_utilization - 0.8).abs() < 0.01, "{c:?}");
    assert!(c.sojourn_ci95_ms.is_finite() && c.sojourn_ci95_ms > 0.0);
}
