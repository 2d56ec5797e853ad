//! Limits and interruptions, through the real binary: `--max-events` and `--max-wall` end a run
//! cleanly with a partial result that says so, and Ctrl-C (SIGINT) during a sweep stops the
//! workers, keeps the points that had finished (in DIR/partial), exits 130 and leaves no
//! half-written file.

use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

fn archsim() -> Command {
    Command::new(env!("CARGO_BIN_EXE_archsim"))
}

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn model(name: &str) -> String {
    root().join("models").join(name).display().to_string()
}

fn json(out: &Output) -> Value {
    assert!(
        out.status.success(),
        "exit {:?}: {}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("JSON on stdout")
}

fn warnings(v: &Value) -> Vec<String> {
    v["warnings"]
        .as_array()
        .expect("warnings")
        .iter()
        .map(|w| w.as_str().expect("string").to_string())
        .collect()
}

/// Every file below `dir`, recursively.
fn files(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    if let Ok(entries) = std::fs::read_dir(dir) {
        for e in entries.flatten() {
            let p = e.path();
            if p.is_dir() {
                out.extend(files(&p));
            } else {
                out.push(p);
            }
        }
    }
    out.sort();
    out
}

fn scratch(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("archsim-limits-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    d
}

/// `--max-events N`: each replication stops after N events; the JSON says `truncated`, the
/// warning says why, and requests are still conserved (the ones cut off count as in flight).
#[test]
fn max_events_ends_the_run_with_a_labelled_partial_result() {
    let out = archsim()
        .args(["run", &model("01-single-server.ron"), "--json"])
        .args(["--max-events", "1000", "--replications", "2"])
        .output()
        .expect("runs");
    let v = json(&out);
    assert_eq!(v["engine"]["truncated"], true);
    assert_eq!(v["engine"]["interrupted"], false);
    // Two replications of at most 1 000 events each.
    let events = v["engine"]["events"].as_u64().expect("events");
    assert!(events <= 2_000 && events > 1_800, "{events} events");
    let w = warnings(&v);
    assert!(
        w.iter()
            .any(|w| w.contains("event or wall-clock limit") && w.contains("partial")),
        "{w:?}"
    );
    assert_eq!(v["checks"]["conservation"], true);
    // The same run without the limit simulates far more.
    let full = json(
        &archsim()
            .args(["run", &model("01-single-server.ron"), "--json"])
            .args(["--replications", "2"])
            .output()
            .expect("runs"),
    );
    assert_eq!(full["engine"]["truncated"], false);
    assert!(full["engine"]["events"].as_u64().unwrap() > 10 * events);
    assert!(!warnings(&full).iter().any(|w| w.contains("partial")));
}

/// `--max-wall S`: a run asked to simulate ten days stops after S seconds of wall-clock time,
/// marked truncated, with far fewer requests than the ten days would have had.
#[test]
fn max_wall_ends_a_long_run_cleanly() {
    let out = archsim()
        .args(["run", &model("01-single-server.ron"), "--json"])
        .args([
            "--duration",
            "864000",
            "--warmup",
            "1",
            "--replications",
            "1",
        ])
        .args(["--max-wall", "0.2"])
        .output()
        .expect("runs");
    let v = json(&out);
    assert_eq!(v["engine"]["truncated"], true);
    assert_eq!(v["checks"]["conservation"], true);
    // 50 requests/s for ten days would be 43 million arrivals.
    let arrived = v["requests"]["arrived"].as_f64().unwrap();
    assert!(arrived < 43.0e6 / 2.0, "{arrived} arrivals");
    assert!(
        warnings(&v)
            .iter()
            .any(|w| w.contains("event or wall-clock limit")),
        "{:?}",
        warnings(&v)
    );
}

/// SIGINT during a sweep long enough not to finish (two models, 1..10x, 3 replications of
/// 20 000 simulated seconds: about a minute of work on two cores). archsim stops within the
/// CHECK_EVERY events of each running simulation, writes only the points that had finished, each
/// whole, into DIR/partial, says so on stderr and exits 130. Nothing else is written in DIR, and
/// no temporary file is left anywhere.
#[cfg(unix)]
#[test]
fn ctrl_c_during_a_sweep_keeps_finished_points_and_writes_nothing_half_done() {
    let dir = scratch("sigint");
    let mut child = archsim()
        .args([
            "sweep",
            &model("01-single-server.ron"),
            &model("03-load-balanced.ron"),
        ])
        .args(["--traffic", "1..10", "--replications", "3"])
        .args(["--duration", "20000", "--warmup", "10", "--quiet", "--out"])
        .arg(&dir)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("starts");
    std::thread::sleep(Duration::from_millis(1500));
    assert!(
        child.try_wait().expect("alive?").is_none(),
        "the sweep ended before it could be interrupted"
    );
    let sent = Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .expect("kill runs");
    assert!(sent.success());
    let started = Instant::now();
    let out = child.wait_with_output().expect("exits");
    let stderr = String::from_utf8_lossy(&out.stderr).to_string();
    assert_eq!(out.status.code(), Some(130), "stderr: {stderr}");
    // It stopped promptly instead of finishing the minute of work.
    assert!(
        started.elapsed() < Duration::from_secs(20),
        "took {:?} to stop",
        started.elapsed()
    );
    assert!(stderr.contains("interrupted: "), "{stderr}");
    let written = files(&dir);
    assert!(
        written
            .iter()
            .all(|p| !p.file_name().unwrap().to_string_lossy().contains(".tmp")),
        "temporary files left: {written:?}"
    );
    let partial = dir.join("partial");
    assert!(
        written.iter().all(|p| p.starts_with(&partial)),
        "files outside DIR/partial: {written:?}"
    );
    // "interrupted: K of 20 points had finished[; their results are in DIR/partial]" (a point is a
    // model at one traffic level, its replications included).
    let k: usize = stderr
        .split("interrupted: ")
        .nth(1)
        .and_then(|s| s.split(' ').next())
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("no count in {stderr:?}"));
    assert!(stderr.contains(" of 20 points had finished"), "{stderr}");
    if k == 0 {
        assert!(written.is_empty(), "{written:?}");
    } else {
        assert!(stderr.contains(&partial.display().to_string()), "{stderr}");
        // Whole files: the JSON parses, with one result per finished point, none truncated.
        let results: Value = serde_json::from_slice(
            &std::fs::read(partial.join("results.json")).expect("partial/results.json"),
        )
        .expect("complete JSON");
        let rows = results.as_array().expect("a list of results");
        assert_eq!(rows.len(), k);
        assert!(rows.iter().all(|r| r["engine"]["truncated"] == false));
        let csv = std::fs::read_to_string(partial.join("results.csv")).expect("results.csv");
        assert_eq!(csv.lines().count(), k + 1, "header and one row per point");
    }
    let _ = std::fs::remove_dir_all(&dir);
}
