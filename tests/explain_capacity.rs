//! `explain` against its own simulation and against queueing theory; `capacity` against the
//! M/M/1 closed form.

use serde_json::Value;
use std::process::Command;

fn archsim_json(args: &[&str]) -> Value {
    let out = Command::new(env!("CARGO_BIN_EXE_archsim"))
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .args(args)
        .output()
        .expect("archsim runs");
    assert!(
        out.status.success(),
        "archsim {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("one JSON object")
}

fn write_model(dir: &tempfile::TempDir, name: &str, text: &str) -> String {
    let p = dir.path().join(name);
    std::fs::write(&p, text).unwrap();
    p.to_str().unwrap().to_string()
}

/// An open network of Async servers with probabilistic calls: front (2 workers, 4 ms) calls
/// `a` (1 worker, 2 ms) with p = 0.5 and `b` (3 workers, 6 ms) always.
const JACKSON: &str = r#"Model(
    name: "Async network",
    workload: Workload(arrival: Poisson(rate: 100.0), entry: "front"),
    components: {
        "front": Server(workers: 2, mode: Async, handler: [Work(Exp(mean_ms: 4.0)), Maybe(p: 0.5, steps: [Call("a")]), Call("b")]),
        "a": Server(workers: 1, mode: Async, handler: [Work(Exp(mean_ms: 2.0))]),
        "b": Server(workers: 3, mode: Async, handler: [Work(Exp(mean_ms: 6.0))]),
    },
)"#;

#[test]
fn explain_agrees_with_its_simulation_on_an_async_network() {
    let dir = tempfile::tempdir().unwrap();
    let m = write_model(&dir, "jackson.ron", JACKSON);
    // 3x: front at 60%, a at 30%, b at 60%. Five replications of 200 s: each utilization is
    // estimated from ~60 000 to 180 000 visits, a relative standard error well under 1%.
    let v = archsim_json(&[
        "explain",
        &m,
        "--traffic",
        "3",
        "--duration",
        "200",
        "--warmup",
        "20",
        "--replications",
        "5",
        "--json",
    ]);
    // Utilization law: U = λ · visits · S / c.
    for (name, expected) in [
        ("front", 300.0 * 0.004 / 2.0),
        ("a", 150.0 * 0.002),
        ("b", 300.0 * 0.006 / 3.0),
    ] {
        let c = &v["components"][name];
        let law = c["analytic_utilization"].as_f64().unwrap();
        let sim = c["utilization"].as_f64().unwrap();
        assert!(
            (law - expected).abs() < 1e-9,
            "{name}: law {law} vs {expected}"
        );
        assert!(
            (sim / law - 1.0).abs() < 0.03,
            "{name}: simulated {sim} vs predicted {law}"
        );
    }
    // Saturation: front at 2/(100·0.004) = 5x, a at 1/(50·0.002) = 10x, b at 3/(100·0.006) = 5x;
    // the tie goes to the component farther down the call chain.
    assert!((v["saturation_traffic"].as_f64().unwrap() - 5.0).abs() < 1e-9);
    assert_eq!(v["bottleneck"], "b");
    assert!((v["components"]["a"]["saturation_traffic"].as_f64().unwrap() - 10.0).abs() < 1e-9);
    // Erlang C for b (M/M/3 at ρ = 0.6) beside the simulated wait.
    let b = &v["components"]["b"];
    let (mmc, sim) = (
        b["mmc_wait_ms"].as_f64().unwrap(),
        b["mean_wait_ms"].as_f64().unwrap(),
    );
    assert!((mmc - 1.776).abs() < 0.01, "Erlang C wait {mmc}");
    assert!(
        (sim / mmc - 1.0).abs() < 0.08,
        "simulated wait {sim} vs {mmc}"
    );
    let sentences: Vec<&str> = v["sentences"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s.as_str().unwrap())
        .collect();
    assert!(
        sentences
            .iter()
            .any(|s| s.contains("agrees with the operational laws")),
        "{sentences:?}"
    );
    assert!(
        sentences
            .iter()
            .any(|s| s.contains("saturates first, at 5.00x")),
        "{sentences:?}"
    );
    assert!(
        sentences
            .iter()
            .any(|s| s.contains("Single points of failure")
                && s.contains("`front`")
                && s.contains("`b`")
                && !s.contains("`a`")),
        "{sentences:?}"
    );
}

#[test]
fn explain_finds_the_database_behind_blocking_servers() {
    let v = archsim_json(&[
        "explain",
        "tests/fixtures/load-balanced.ron",
        "--duration",
        "30",
        "--warmup",
        "5",
        "--json",
    ]);
    let b = v["bottleneck"].as_str().unwrap().to_string();
    let sat = v["saturation_traffic"].as_f64().unwrap();
    // The database saturates before the app tier, at capacity / (rate · demand).
    let db = &v["components"][&b];
    assert_eq!(db["kind"], "Database");
    let expected = db["capacity"].as_f64().unwrap()
        / (v["offered_rps"].as_f64().unwrap() * db["demand_ms"].as_f64().unwrap() / 1e3);
    assert!((sat - expected).abs() < 1e-9);
    for (_, c) in v["components"].as_object().unwrap() {
        assert!(c.get("analytic_utilization").is_some() && c.get("utilization").is_some());
    }
}

#[test]
fn capacity_of_mm1_matches_the_p99_closed_form() {
    // M/M/1 with μ = 1000/s: p99 of the sojourn is ln(100)/(μ − λ), so the SLO p99 ≤ 20 ms holds
    // up to λ* = μ − ln(100)/0.020 = 769.7/s, i.e. 7.697x of 100/s. Near λ* the p99 estimate
    // from 5 × 55 s (≈ 200 000 requests) has a relative error of about 2%, and
    // dλ/λ = (dp99/p99)·(μ − λ)/λ ≈ 0.3 · 2%, so 2% on the traffic is several standard errors.
    let dir = tempfile::tempdir().unwrap();
    let m = write_model(
        &dir,
        "mm1.ron",
        r#"Model(name: "mm1", workload: Workload(arrival: Poisson(rate: 100.0), entry: "s"),
            components: { "s": Server(workers: 1, handler: [Work(Exp(mean_ms: 1.0))]) })"#,
    );
    let v = archsim_json(&[
        "capacity",
        &m,
        "--slo-p99-ms",
        "20",
        "--duration",
        "60",
        "--warmup",
        "5",
        "--replications",
        "5",
        "--json",
    ]);
    let expected = (1000.0 - 100f64.ln() / 0.020) / 100.0;
    let got = v["max_traffic"].as_f64().unwrap();
    assert!(
        (got / expected - 1.0).abs() < 0.02,
        "capacity {got}x vs theory {expected}x"
    );
    assert!((v["max_rps"].as_f64().unwrap() - 100.0 * got).abs() < 1e-6);
    assert_eq!(v["bottleneck"], "s");
}
