//! Overload: every bundled model at 100x its traffic finishes, conserves requests, says what it
//! dropped, failed or timed out, and keeps its memory bounded; and statistics are streamed, so
//! simulating ten times as many requests does not take more memory.
//!
//! The bundled models bound their servers' queues (`queue_capacity`), so at 100x they drop
//! requests and stay stable; each is therefore also run as a variant with every queue unbounded,
//! which must be marked `stable: false` with a warning while the in-flight cap bounds its memory.
//!
//! Memory is the peak resident set size of the real binary (`archsim run … --json`), measured
//! with `/usr/bin/time -v` when it exists and otherwise by polling `VmHWM` in `/proc/PID/status`
//! until the child exits. Runs use one replication, so that the peak is that of one simulation.
//!
//! The bounds:
//! - **100x against 1x**: `peak(100x) ≤ 4 · peak(1x) + histograms + cap`. At 1x the peak is
//!   almost all program (code, libraries, allocator arenas: about 6 MB), at 100x the simulation's
//!   own state is added: the requests alive at once, which the model's queue capacities (or, when
//!   they are unbounded, `sim.max_in_flight`) bound, and latency histograms whose pages are
//!   touched as latencies spread out. Measured on the bundled models, the ratio is at most 1.2
//!   (5.6–7.0 MB at 100x against 5.6–6.1 MB at 1x); 4x leaves room for allocator and platform
//!   differences, while memory that grew with the requests simulated (75 000–375 000 at 100x
//!   for 20 s, against 770–3 700 at 1x) would exceed it at ~250 bytes a request. `histograms` is
//!   the full size of every latency histogram the run can hold ([`HISTOGRAM_BYTES`] each: one
//!   for all requests, one per class, one per component, and a merged copy of each for the
//!   summary), and `cap` is [`BYTES_PER_IN_FLIGHT`] for each request the in-flight cap lets live
//!   (only for models whose queues are unbounded: with bounded queues far fewer can be alive).
//! - **Capped**: once the in-flight cap sheds, a run four times as long peaks no higher.
//! - **Streaming**: an M/M/1 at ρ = 0.8 simulated for 1 000 s (800 000 requests) peaks at most
//!   [`STREAMING_SLACK_KB`] above the same model simulated for 100 s (80 000 requests).

use archsim::model::Model;
use archsim::model::raw::{RawComponent, RawModel};
use rayon::prelude::*;
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

const DURATION_S: &str = "20";
const WARMUP_S: &str = "5";

/// Bytes of one latency histogram: 22 016 buckets of 8 bytes (src/stats/histogram.rs), all
/// resident once latencies are spread over every bucket.
const HISTOGRAM_BYTES: u64 = 22_016 * 8;

/// Memory allowed per request alive at once when the in-flight cap is what bounds them: a request,
/// its frames on the components it visits, its events and its slot in a queue. Measured: about
/// 140 bytes (the unbounded variants below peak 11–15 MB above their 1x runs, with 80 000–100 000
/// requests alive); the budget is about 3.5 times that.
const BYTES_PER_IN_FLIGHT: u64 = 500;

/// Peak memory allowed above the short M/M/1 run for ten times the requests.
const STREAMING_SLACK_KB: u64 = 3 * 1024;

const DEFAULT_MAX_IN_FLIGHT: u64 = 100_000;

fn bundled() -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir("models")
        .expect("models/ exists")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "ron"))
        .collect();
    files.sort();
    assert!(!files.is_empty(), "no bundled models");
    files
}

/// One run of the binary: its JSON and its peak resident set size.
struct Measured {
    json: Value,
    peak_kb: u64,
}

/// How peak memory is measured here.
#[derive(Clone, Copy, Debug)]
enum Meter {
    /// `/usr/bin/time -v` prints "Maximum resident set size (kbytes): N".
    GnuTime,
    /// Polls `VmHWM` (the high-water mark) in /proc/PID/status until the child exits.
    ProcPoll,
}

fn meter() -> Meter {
    let gnu = Command::new("/usr/bin/time")
        .args(["-v", "true"])
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .output()
        .is_ok_and(|o| {
            o.status.success()
                && String::from_utf8_lossy(&o.stderr).contains("Maximum resident set size")
        });
    if gnu {
        Meter::GnuTime
    } else {
        assert!(
            Path::new("/proc/self/status").exists(),
            "neither /usr/bin/time -v nor /proc/PID/status is available: peak memory cannot be measured here"
        );
        Meter::ProcPoll
    }
}

fn vm_hwm_kb(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

/// `archsim run FILE --traffic T --duration D --warmup W --replications 1 --json`, measured.
fn run_binary(meter: Meter, file: &Path, traffic: f64, duration: &str, warmup: &str) -> Measured {
    let bin = env!("CARGO_BIN_EXE_archsim");
    let traffic = traffic.to_string();
    let args = [
        "run",
        file.to_str().expect("a UTF-8 path"),
        "--traffic",
        &traffic,
        "--duration",
        duration,
        "--warmup",
        warmup,
        "--replications",
        "1",
        "--json",
    ];
    let what = format!("archsim {}", args.join(" "));
    let (stdout, peak_kb) = match meter {
        Meter::GnuTime => {
            let out = Command::new("/usr/bin/time")
                .arg("-v")
                .arg(bin)
                .args(args)
                .output()
                .expect("runs /usr/bin/time");
            let stderr = String::from_utf8_lossy(&out.stderr);
            assert!(out.status.success(), "{what} failed: {stderr}");
            let peak = stderr
                .lines()
                .find_map(|l| l.trim().strip_prefix("Maximum resident set size (kbytes):"))
                .and_then(|v| v.trim().parse().ok())
                .unwrap_or_else(|| panic!("no peak RSS in the output of time -v: {stderr}"));
            (out.stdout, peak)
        }
        Meter::ProcPoll => {
            let mut child = Command::new(bin)
                .args(args)
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .spawn()
                .expect("starts archsim");
            let pid = child.id();
            // Read the output on other threads so that the child never blocks on a full pipe.
            let mut so = child.stdout.take().expect("piped");
            let mut se = child.stderr.take().expect("piped");
            let out = std::thread::spawn(move || {
                let mut v = Vec::new();
                std::io::Read::read_to_end(&mut so, &mut v).map(|_| v)
            });
            let err = std::thread::spawn(move || {
                let mut v = Vec::new();
                std::io::Read::read_to_end(&mut se, &mut v).map(|_| v)
            });
            let mut peak = 0;
            let status = loop {
                // The high-water mark only grows; its last value before exit is the peak.
                if let Some(kb) = vm_hwm_kb(pid) {
                    peak = peak.max(kb);
                }
                if let Some(s) = child.try_wait().expect("waits") {
                    break s;
                }
                std::thread::sleep(std::time::Duration::from_millis(2));
            };
            let stdout = out.join().unwrap().expect("reads stdout");
            let stderr = err.join().unwrap().expect("reads stderr");
            assert!(
                status.success(),
                "{what} failed: {}",
                String::from_utf8_lossy(&stderr)
            );
            assert!(peak > 0, "could not read VmHWM of {what}");
            (stdout, peak)
        }
    };
    let json: Value = serde_json::from_slice(&stdout)
        .unwrap_or_else(|e| panic!("{what}: stdout is not one JSON object: {e}"));
    Measured { json, peak_kb }
}

fn num(v: &Value, path: &str) -> f64 {
    path.split('.')
        .fold(v, |v, k| &v[k])
        .as_f64()
        .unwrap_or_else(|| panic!("`{path}` is not a number in {v}"))
}

fn flag(v: &Value, path: &str) -> bool {
    path.split('.')
        .fold(v, |v, k| &v[k])
        .as_bool()
        .unwrap_or_else(|| panic!("`{path}` is not a bool in {v}"))
}

fn warnings(v: &Value) -> Vec<String> {
    v["warnings"]
        .as_array()
        .expect("warnings is a list")
        .iter()
        .map(|w| w.as_str().expect("a warning is a string").to_string())
        .collect()
}

/// The text of `text`'s model with every queue unbounded: no Server `queue_capacity`, no Queue
/// `capacity` (and so no blocking when full). Returned with whether anything changed.
fn unbounded_variant(text: &str) -> (String, bool) {
    let options =
        ron::Options::default().with_default_extension(ron::extensions::Extensions::IMPLICIT_SOME);
    let mut raw: RawModel = options.from_str(text).expect("a bundled model parses");
    let mut changed = false;
    for (_, c) in &mut raw.components {
        match c {
            RawComponent::Server { queue_capacity, .. } => {
                changed |= queue_capacity.take().is_some();
            }
            RawComponent::Queue {
                capacity,
                when_full,
                ..
            } => {
                changed |= capacity.take().is_some();
                *when_full = None;
            }
            _ => {}
        }
    }
    let out = options
        .to_string_pretty(&raw, ron::ser::PrettyConfig::default())
        .expect("serialises");
    (out, changed)
}

/// Histograms a run of `model` can hold (see the module comment), in KB.
fn histogram_allowance_kb(model: &Model) -> u64 {
    let n = 1 + model.workload.classes.len() as u64 + model.components.len() as u64;
    2 * n * HISTOGRAM_BYTES / 1024
}

/// What one model did at 1x and 100x.
struct Row {
    model: String,
    at_1x: Measured,
    at_100x: Measured,
    bound_kb: u64,
}

fn report(title: &str, rows: &[Row]) {
    eprintln!("\n{title}");
    eprintln!(
        "{:<34} {:>8} {:>8} {:>8} {:>6} {:>6} {:>7} {:>7} {:>7} {:>7} {:>7} {:>7}  warnings",
        "model",
        "arrived",
        "done",
        "dropped",
        "t/out",
        "failed",
        "shed",
        "live",
        "stable",
        "1x KB",
        "100x KB",
        "bound"
    );
    for r in rows {
        let j = &r.at_100x.json;
        eprintln!(
            "{:<34} {:>8} {:>8} {:>8} {:>6} {:>6} {:>7} {:>7} {:>7} {:>7} {:>7} {:>7}  {:?}",
            r.model,
            num(j, "requests.arrived"),
            num(j, "requests.completed"),
            num(j, "requests.dropped"),
            num(j, "requests.timed_out"),
            num(j, "requests.failed"),
            num(j, "requests.shed"),
            num(j, "requests.in_flight"),
            flag(j, "stable"),
            r.at_1x.peak_kb,
            r.at_100x.peak_kb,
            r.bound_kb,
            warnings(j)
                .iter()
                .map(|w| w.chars().take(60).collect::<String>())
                .collect::<Vec<_>>()
        );
    }
}

/// The checks every 100x run must pass.
/// The 100x run's peak memory is within its bound (see [`Row`]).
fn assert_within_bound(r: &Row) {
    assert!(
        r.at_100x.peak_kb <= r.bound_kb,
        "{}: peak RSS {} KB at 100x, above the bound of {} KB (1x: {} KB)",
        r.model,
        r.at_100x.peak_kb,
        r.bound_kb,
        r.at_1x.peak_kb
    );
}

fn check_run(name: &str, m: &Measured) {
    let j = &m.json;
    assert!(
        flag(j, "checks.conservation"),
        "{name}: requests not conserved: {j}"
    );
    assert!(
        !flag(j, "engine.truncated"),
        "{name}: the run stopped early: {j}"
    );
    assert!(num(j, "engine.events") > 0.0, "{name}: no events: {j}");
    assert!(num(j, "requests.arrived") > 0.0, "{name}: no arrivals: {j}");
    // The cap sheds only what it must, and a shed arrival always makes the point unstable.
    if num(j, "requests.shed") > 0.0 {
        assert!(
            !flag(j, "stable"),
            "{name}: arrivals were shed, yet stable: {j}"
        );
    }
}

fn run_model(meter: Meter, name: &str, file: &Path, model: &Model, unbounded: bool) -> Row {
    let at_1x = run_binary(meter, file, 1.0, DURATION_S, WARMUP_S);
    let at_100x = run_binary(meter, file, 100.0, DURATION_S, WARMUP_S);
    check_run(name, &at_1x);
    check_run(name, &at_100x);
    let cap = model
        .sim
        .max_in_flight
        .map_or(DEFAULT_MAX_IN_FLIGHT, u64::from);
    let cap_kb = if unbounded {
        cap * BYTES_PER_IN_FLIGHT / 1024
    } else {
        0
    };
    let bound_kb = 4 * at_1x.peak_kb + histogram_allowance_kb(model) + cap_kb;
    Row {
        model: name.to_string(),
        at_1x,
        at_100x,
        bound_kb,
    }
}

/// Every bundled model as it is (its queues are bounded) at 100x: the run completes, conserves
/// requests, and the overload shows as drops, failures or timeouts (or an unstable point).
#[test]
fn bundled_models_at_100x_finish_with_bounded_memory() {
    let meter = meter();
    let rows: Vec<Row> = bundled()
        .par_iter()
        .map(|file| {
            let text = std::fs::read_to_string(file).unwrap();
            let model = Model::from_text(&text, &file.display().to_string())
                .unwrap_or_else(|e| panic!("{e}"));
            let name = file.file_name().unwrap().to_string_lossy().to_string();
            run_model(meter, &name, file, &model, false)
        })
        .collect();
    report(
        &format!(
            "bundled models at 100x ({DURATION_S} s, {WARMUP_S} s warm-up; memory by {meter:?})"
        ),
        &rows,
    );
    for r in &rows {
        let j = &r.at_100x.json;
        let lost =
            num(j, "requests.dropped") + num(j, "requests.failed") + num(j, "requests.timed_out");
        assert!(
            lost > 0.0 || !flag(j, "stable"),
            "{}: at 100x nothing was dropped, failed or timed out, and the point is stable: {j}",
            r.model
        );
        assert_within_bound(r);
    }
}

/// Every bundled model with its queues made unbounded, at 100x: the backlog grows until the
/// in-flight cap sheds arrivals, the point is marked unstable with a warning, and the cap is what
/// bounds memory.
#[test]
fn unbounded_queues_at_100x_are_unstable_and_capped() {
    let meter = meter();
    let dir = tempfile::tempdir().unwrap();
    let rows: Vec<Row> = bundled()
        .par_iter()
        .filter_map(|file| {
            let (text, changed) = unbounded_variant(&std::fs::read_to_string(file).unwrap());
            if !changed {
                return None;
            }
            let name = file.file_name().unwrap().to_string_lossy().to_string();
            let path = dir.path().join(&name);
            std::fs::write(&path, &text).unwrap();
            let model = Model::from_text(&text, &name).unwrap_or_else(|e| panic!("{e}\n{text}"));
            Some(run_model(meter, &name, &path, &model, true))
        })
        .collect();
    assert!(
        !rows.is_empty(),
        "no bundled model has a bounded queue to remove"
    );
    report(
        &format!(
            "bundled models with unbounded queues at 100x ({DURATION_S} s, {WARMUP_S} s warm-up)"
        ),
        &rows,
    );
    for r in &rows {
        let j = &r.at_100x.json;
        let ws = warnings(j);
        assert!(
            !flag(j, "stable"),
            "{}: unbounded queues at 100x, yet stable: {j}",
            r.model
        );
        assert!(
            ws.iter()
                .any(|w| w.contains("in-flight cap") || w.contains("still in the system")),
            "{}: unstable without a warning saying why: {ws:?}",
            r.model
        );
        if let Some(peak) = j["engine"]["peak_requests"].as_f64() {
            assert!(
                peak <= DEFAULT_MAX_IN_FLIGHT as f64,
                "{}: {peak} requests alive at once, above the cap",
                r.model
            );
        }
        assert_within_bound(r);
    }
}

/// Once the cap is reached, a longer overloaded run takes no more memory: the state is the cap's
/// worth of requests, whatever the number shed.
#[test]
fn capped_memory_does_not_grow_with_the_run() {
    let meter = meter();
    let dir = tempfile::tempdir().unwrap();
    let text = r#"Model(name: "unbounded single server",
        workload: Workload(arrival: Poisson(rate: 100.0), entry: "app"),
        components: { "app": Server(workers: 4, handler: [Work(Exp(mean_ms: 20.0))]) })"#;
    let path = dir.path().join("unbounded.ron");
    std::fs::write(&path, text).unwrap();
    // 100x: 10 000 arrivals/s against 200 served/s, so the cap of 100 000 is reached at ~10 s.
    let short = run_binary(meter, &path, 100.0, "20", "5");
    let long = run_binary(meter, &path, 100.0, "80", "5");
    for m in [&short, &long] {
        check_run("unbounded single server", m);
        assert!(!flag(&m.json, "stable"));
        assert!(num(&m.json, "requests.shed") > 0.0, "{}", m.json);
    }
    eprintln!(
        "unbounded single server at 100x: peak {} KB over 20 s, {} KB over 80 s (shed {} and {})",
        short.peak_kb,
        long.peak_kb,
        num(&short.json, "requests.shed"),
        num(&long.json, "requests.shed")
    );
    assert!(
        long.peak_kb <= short.peak_kb + STREAMING_SLACK_KB,
        "the capped run's memory grew with its length: {} KB over 20 s, {} KB over 80 s",
        short.peak_kb,
        long.peak_kb
    );
}

/// Statistics are streamed: ten times the requests of an M/M/1 at ρ = 0.8 (800 000 instead of
/// 80 000) take no more than a few MB more.
#[test]
fn ten_times_more_requests_take_no_more_memory() {
    let meter = meter();
    let dir = tempfile::tempdir().unwrap();
    let text = r#"Model(name: "M/M/1 at rho 0.8",
        workload: Workload(arrival: Poisson(rate: 800.0), entry: "s"),
        components: { "s": Server(workers: 1, handler: [Work(Exp(mean_ms: 1.0))]) })"#;
    let path = dir.path().join("mm1.ron");
    std::fs::write(&path, text).unwrap();
    let short = run_binary(meter, &path, 1.0, "100", "10");
    let long = run_binary(meter, &path, 1.0, "1000", "10");
    for m in [&short, &long] {
        check_run("M/M/1", m);
        assert!(flag(&m.json, "stable"), "{}", m.json);
    }
    let (a, b) = (
        num(&short.json, "requests.arrived"),
        num(&long.json, "requests.arrived"),
    );
    assert!(
        b > 9.0 * a,
        "the long run has {b} requests, the short one {a}"
    );
    eprintln!(
        "M/M/1 at rho 0.8: peak {} KB for {a} requests, {} KB for {b} requests",
        short.peak_kb, long.peak_kb
    );
    assert!(
        long.peak_kb <= short.peak_kb + STREAMING_SLACK_KB,
        "peak RSS grew from {} KB ({a} requests) to {} KB ({b} requests)",
        short.peak_kb,
        long.peak_kb
    );
}
