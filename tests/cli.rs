//! The command line as users and scripts see it: SPEC's JSON keys, exit codes, determinism across
//! runs and thread counts, sharded sweeps merging to exactly the single run.

use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn archsim() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_archsim"));
    c.current_dir(env!("CARGO_MANIFEST_DIR"));
    c
}

fn run(args: &[&str]) -> Output {
    archsim().args(args).output().expect("archsim runs")
}

fn ok(args: &[&str]) -> String {
    let out = run(args);
    assert!(
        out.status.success(),
        "archsim {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).expect("utf-8 output")
}

/// JSON with the wall-clock fields removed (the only ones SPEC lets differ between runs).
fn without_wall_clock(mut v: Value) -> Value {
    fn strip(v: &mut Value) {
        match v {
            Value::Object(m) => {
                if let Some(Value::Object(e)) = m.get_mut("engine") {
                    e.remove("wall_s");
                    e.remove("events_per_s");
                }
                m.values_mut().for_each(strip);
            }
            Value::Array(a) => a.iter_mut().for_each(strip),
            _ => {}
        }
    }
    strip(&mut v);
    v
}

const SINGLE: &str = "tests/fixtures/single-server.ron";
const FARM: &str = "tests/fixtures/load-balanced.ron";

#[test]
fn run_json_has_every_spec_key() {
    let text = ok(&[
        "run",
        FARM,
        "--traffic",
        "2",
        "--duration",
        "30",
        "--warmup",
        "5",
        "--json",
    ]);
    let v: Value = serde_json::from_str(&text).expect("exactly one JSON object on stdout");
    for k in [
        "model",
        "traffic",
        "offered_rps",
        "duration_s",
        "warmup_s",
        "seed",
        "replications",
        "throughput_rps",
        "requests",
        "latency_ms",
        "ci95",
        "components",
        "classes",
        "bottleneck",
        "engine",
    ] {
        assert!(v.get(k).is_some(), "missing key {k}");
    }
    for k in ["arrived", "completed", "dropped", "timed_out", "failed"] {
        assert!(v["requests"][k].is_u64(), "requests.{k} should be a count");
    }
    for k in ["mean", "p50", "p90", "p95", "p99", "p999", "max"] {
        assert!(v["latency_ms"][k].is_f64(), "latency_ms.{k}");
    }
    assert!(v["ci95"]["latency_ms_mean"].is_null() && v["ci95"]["throughput_rps"].is_null());
    for k in [
        "utilization",
        "throughput_rps",
        "mean_wait_ms",
        "mean_queue_len",
        "dropped",
    ] {
        assert!(
            v["components"]["app"].get(k).is_some(),
            "components.app.{k}"
        );
    }
    assert!(v["classes"]["default"]["latency_ms"]["p99"].is_f64());
    assert!(v["engine"]["events"].as_u64().unwrap() > 1000);
    assert_eq!(v["traffic"], 2.0);
    assert_eq!(v["offered_rps"], 100.0);
    assert_eq!(v["duration_s"], 30.0);
    // Throughput = completed / measured seconds, exactly as SPEC defines it.
    let completed = v["requests"]["completed"].as_f64().unwrap();
    assert!((v["throughput_rps"].as_f64().unwrap() - completed / 25.0).abs() < 1e-9);
}

#[test]
fn replications_give_confidence_intervals() {
    let text = ok(&[
        "run",
        SINGLE,
        "--duration",
        "30",
        "--warmup",
        "5",
        "--replications",
        "4",
        "--json",
    ]);
    let v: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(v["replications"], 4);
    let h = v["ci95"]["latency_ms_mean"]
        .as_f64()
        .expect("a half-width with R > 1");
    assert!(h > 0.0 && h < v["latency_ms"]["mean"].as_f64().unwrap());
    assert!(v["ci95"]["throughput_rps"].as_f64().unwrap() > 0.0);
}

#[test]
fn same_seed_same_json_different_seed_different_json() {
    let args = [
        "run",
        FARM,
        "--traffic",
        "5",
        "--duration",
        "20",
        "--warmup",
        "2",
        "--json",
    ];
    let a: Value = serde_json::from_str(&ok(&args)).unwrap();
    let b: Value = serde_json::from_str(&ok(&args)).unwrap();
    assert_eq!(without_wall_clock(a.clone()), without_wall_clock(b));
    let mut other = args.to_vec();
    other.extend(["--seed", "99"]);
    let c: Value = serde_json::from_str(&ok(&other)).unwrap();
    assert_ne!(a["latency_ms"], c["latency_ms"]);
}

#[test]
fn readable_summary_names_the_bottleneck() {
    let text = ok(&[
        "run",
        FARM,
        "--traffic",
        "8",
        "--duration",
        "30",
        "--warmup",
        "5",
    ]);
    assert!(text.contains("bottleneck: db"), "{text}");
    assert!(text.contains("Load-balanced farm"));
}

#[test]
fn graph_is_dot_with_kinds_and_workers() {
    let dot = ok(&["graph", FARM]);
    assert!(dot.starts_with("digraph"));
    assert!(dot.contains("app\\nServer ×3, 4 workers"), "{dot}");
    assert!(dot.contains("db\\nDatabase, 2 workers"), "{dot}");
    assert!(dot.contains("n0 -> n1 [label=\"route\"]"));
    assert!(dot.contains("n1 -> n2;"));
}

#[test]
fn bad_arguments_exit_2_and_write_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("never");
    let o = out.to_str().unwrap();
    for args in [
        vec!["sweep", SINGLE, "--traffic", "1..x", "--out", o],
        vec!["sweep", SINGLE, "--vary", "nope.workers=1,2", "--out", o],
        vec!["sweep", SINGLE, "--vary", "app.workers=0,2", "--out", o],
        vec![
            "sweep",
            SINGLE,
            "tests/bad_models/24-zero-workers.ron",
            "--out",
            o,
        ],
        vec!["sweep", SINGLE, "--shard", "3/2", "--out", o],
        vec!["run", SINGLE, "--duration", "10", "--warmup", "20"],
        vec!["run", SINGLE, "--traffic", "-1"],
    ] {
        let r = run(&args);
        assert_eq!(
            r.status.code(),
            Some(2),
            "{args:?}: {}",
            String::from_utf8_lossy(&r.stderr)
        );
        assert!(!String::from_utf8_lossy(&r.stderr).contains("panicked"));
        assert!(!out.exists(), "{args:?} wrote output");
    }
}

fn sweep_into(dir: &Path, extra: &[&str], threads: &str) -> Output {
    let mut args = vec![
        "sweep",
        SINGLE,
        FARM,
        "--traffic",
        "1,4,8",
        "--replications",
        "2",
        "--duration",
        "20",
        "--warmup",
        "4",
        "--quiet",
        "--out",
    ];
    args.push(dir.to_str().unwrap());
    args.extend(extra);
    archsim()
        .env("RAYON_NUM_THREADS", threads)
        .args(&args)
        .output()
        .unwrap()
}

fn read(p: &Path) -> Vec<u8> {
    std::fs::read(p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}

fn json_without_wall(p: &Path) -> Value {
    without_wall_clock(serde_json::from_slice(&read(p)).unwrap())
}

/// Files whose bytes must not depend on threads or sharding (everything but results.json,
/// which differs only in wall-clock time).
fn exact_files(dir: &Path) -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.file_name().unwrap() != "results.json")
        .collect();
    v.sort();
    v
}

#[test]
fn sweep_is_identical_whatever_the_thread_count() {
    let (a, b) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    assert!(sweep_into(a.path(), &[], "1").status.success());
    assert!(sweep_into(b.path(), &[], "2").status.success());
    let files = exact_files(a.path());
    assert!(files.iter().any(|p| p.ends_with("results.csv")));
    for f in &files {
        let name = f.file_name().unwrap();
        assert_eq!(
            read(f),
            read(&b.path().join(name)),
            "{name:?} differs between 1 and 2 threads"
        );
    }
    assert_eq!(
        json_without_wall(&a.path().join("results.json")),
        json_without_wall(&b.path().join("results.json"))
    );
}

#[test]
fn results_csv_has_spec_columns_in_order() {
    let d = tempfile::tempdir().unwrap();
    assert!(
        sweep_into(d.path(), &["--vary", "app.workers=2,4"], "2")
            .status
            .success()
    );
    let csv = String::from_utf8(read(&d.path().join("results.csv"))).unwrap();
    let mut lines = csv.lines();
    let header: Vec<&str> = lines.next().unwrap().split(',').collect();
    for col in [
        "model",
        "traffic",
        "app.workers",
        "offered_rps",
        "throughput_rps",
        "latency_mean_ms",
        "latency_p50_ms",
        "latency_p95_ms",
        "latency_p99_ms",
        "error_rate",
        "bottleneck",
    ] {
        assert!(header.contains(&col), "missing column {col}");
    }
    let rows: Vec<Vec<&str>> = lines.map(|l| l.split(',').collect()).collect();
    // 2 models × 2 worker counts × 3 traffic levels, in the order given.
    assert_eq!(rows.len(), 12);
    assert_eq!(rows[0][0], "Single server");
    assert_eq!(rows[6][0], "Load-balanced farm");
    let traffic: Vec<&str> = rows.iter().take(6).map(|r| r[1]).collect();
    assert_eq!(traffic, ["1", "4", "8", "1", "4", "8"]);
    let workers: Vec<&str> = rows.iter().take(6).map(|r| r[2]).collect();
    assert_eq!(workers, ["2", "2", "2", "4", "4", "4"]);
    let json: Value = serde_json::from_slice(&read(&d.path().join("results.json"))).unwrap();
    assert_eq!(json.as_array().unwrap().len(), 12);
}

#[test]
fn shards_merge_into_exactly_the_single_run() {
    let (whole, parts, merged) = (
        tempfile::tempdir().unwrap(),
        tempfile::tempdir().unwrap(),
        tempfile::tempdir().unwrap(),
    );
    assert!(sweep_into(whole.path(), &[], "2").status.success());
    for k in ["1/2", "2/2"] {
        let r = sweep_into(parts.path(), &["--shard", k], "2");
        assert!(r.status.success(), "{}", String::from_utf8_lossy(&r.stderr));
    }
    let m = run(&[
        "merge",
        parts.path().to_str().unwrap(),
        "--out",
        merged.path().to_str().unwrap(),
    ]);
    assert!(m.status.success(), "{}", String::from_utf8_lossy(&m.stderr));
    for f in exact_files(whole.path()) {
        let name = f.file_name().unwrap();
        assert_eq!(
            read(&f),
            read(&merged.path().join(name)),
            "{name:?} differs after merging"
        );
    }
    assert_eq!(
        json_without_wall(&whole.path().join("results.json")),
        json_without_wall(&merged.path().join("results.json"))
    );

    // A missing shard is refused, naming it.
    let only_one = parts.path().join("shard-1-of-2");
    let r = run(&[
        "merge",
        only_one.to_str().unwrap(),
        "--out",
        merged.path().join("x").to_str().unwrap(),
    ]);
    assert_eq!(r.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&r.stderr).contains("shard 2/2 missing"));

    // Shards of a different study are refused.
    let other = tempfile::tempdir().unwrap();
    let mut args = vec![
        "sweep",
        SINGLE,
        "--traffic",
        "1,4,8",
        "--duration",
        "20",
        "--warmup",
        "4",
        "--quiet",
        "--shard",
        "2/2",
        "--out",
    ];
    args.push(other.path().to_str().unwrap());
    assert!(run(&args).status.success());
    let r = run(&[
        "merge",
        only_one.to_str().unwrap(),
        other.path().join("shard-2-of-2").to_str().unwrap(),
        "--out",
        merged.path().join("y").to_str().unwrap(),
    ]);
    assert_eq!(r.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&r.stderr).contains("different studies"));
}

#[test]
fn shard_auto_reads_slurm_and_kubernetes() {
    let d = tempfile::tempdir().unwrap();
    let mut base = vec![
        "sweep",
        SINGLE,
        "--traffic",
        "1,2,3",
        "--duration",
        "10",
        "--warmup",
        "2",
        "--quiet",
        "--shard",
        "auto",
        "--out",
    ];
    base.push(d.path().to_str().unwrap());
    let r = archsim()
        .args(&base)
        .env("SLURM_ARRAY_TASK_ID", "2")
        .env("SLURM_ARRAY_TASK_MIN", "1")
        .env("SLURM_ARRAY_TASK_COUNT", "3")
        .output()
        .unwrap();
    assert!(r.status.success(), "{}", String::from_utf8_lossy(&r.stderr));
    assert!(d.path().join("shard-2-of-3/shard.json").is_file());
    let mut k8s = base.clone();
    k8s.extend(["--shard-count", "3"]);
    let r = archsim()
        .args(&k8s)
        .env("JOB_COMPLETION_INDEX", "0")
        .output()
        .unwrap();
    assert!(r.status.success(), "{}", String::from_utf8_lossy(&r.stderr));
    assert!(d.path().join("shard-1-of-3/shard.json").is_file());
}
