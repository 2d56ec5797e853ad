//! Traffic profiles, closed workloads, client timeouts, health checks and memory limits against
//! what theory (or the model's own rules) says they must do.

mod common;

use archsim::analytic::queueing::{MvaStation, mva_closed};
use archsim::runner::{RunOptions, run_point};
use archsim::stats::summary::RunSummary;
use archsim::stats::timeline::Timeline;
use common::{REPS, assert_agrees, assert_self_checks, load, replicate, values};

/// One replication of `text` with a 1 s timeline, after the run's self-checks.
fn run_timeline(text: &str, duration_s: f64, warmup_s: f64, seed: u64) -> (RunSummary, Timeline) {
    let (s, tl) = run_timeline_unchecked(text, duration_s, warmup_s, seed);
    assert_self_checks(&s);
    (s, tl)
}

/// As [`run_timeline`], checking only conservation and that the run was not truncated.
fn run_timeline_unchecked(
    text: &str,
    duration_s: f64,
    warmup_s: f64,
    seed: u64,
) -> (RunSummary, Timeline) {
    let s = run_point(
        &load(text),
        &RunOptions {
            traffic: 1.0,
            duration_s: Some(duration_s),
            warmup_s: Some(warmup_s),
            seed: Some(seed),
            replications: Some(1),
            timeline_s: Some(1.0),
            ..Default::default()
        },
    )
    .expect("run_point");
    assert!(
        s.checks.conservation,
        "conservation failed: {:?}",
        s.requests
    );
    assert!(!s.engine.truncated, "run truncated");
    let tl = s.timeline.clone().expect("timeline requested");
    (s, tl)
}

fn comp_index(tl: &Timeline, name: &str) -> usize {
    tl.components
        .iter()
        .position(|c| c == name)
        .unwrap_or_else(|| panic!("no `{name}` in the timeline"))
}

/// Poisson(100) with Step(at 30 s, ×3) into a server that never queues (64 workers, 0.1 ms):
/// each 1 s bucket's arrival count is Poisson(100) before the step and Poisson(300) after.
#[test]
fn step_profile_triples_the_arrival_rate() {
    let text = r#"Model(name: "step", workload: Workload(arrival: Poisson(rate: 100.0), entry: "app",
        profile: Step(at_s: 30.0, factor: 3.0)),
        components: { "app": Server(workers: 64, handler: [Work(Const(ms: 0.1))]) })"#;
    let (_, tl) = run_timeline(text, 60.0, 0.0, 11);
    for (lo, hi, rate) in [(0.0, 30.0, 100.0), (30.0, 60.0, 300.0)] {
        let side: Vec<f64> = tl
            .points
            .iter()
            .filter(|p| p.t_s >= lo && p.t_s < hi)
            .map(|p| p.arrivals_rps)
            .collect();
        assert_eq!(side.len(), 30, "30 one-second buckets on each side");
        // The 30-second total is Poisson(30·rate): 4 standard errors is a 6·10⁻⁵ false alarm.
        let total: f64 = side.iter().sum();
        let expect = 30.0 * rate;
        println!("[{lo}, {hi}): {total} arrivals, expected {expect}");
        assert!(
            (total - expect).abs() <= 4.0 * expect.sqrt(),
            "[{lo}, {hi}) s: {total} arrivals, expected {expect} ± {:.0}",
            4.0 * expect.sqrt()
        );
        // A single second is outside ±4σ with probability ~6·10⁻⁵: allow 2 of 30 anyway.
        let outside = side
            .iter()
            .filter(|x| (*x - rate).abs() > 4.0 * rate.sqrt())
            .count();
        assert!(
            outside <= 2,
            "[{lo}, {hi}) s: {outside} seconds outside ±4σ: {side:?}"
        );
    }
}

/// Closed(N, Exp think Z) → A (Async, 1 worker, Exp S_A) → B (1 worker, Exp S_B): a product-form
/// closed network of a delay and two FCFS exponential stations, solved exactly by MVA.
/// A is `Async` so its worker is held only during `Work`, not while B serves the call.
#[test]
fn closed_workload_matches_exact_mva() {
    let (z, sa, sb) = (100.0, 5.0, 8.0); // ms; saturation N* = (Z + S_A + S_B) / S_B ≈ 14
    let stations = [
        MvaStation::queueing(sa / 1e3),
        MvaStation::queueing(sb / 1e3),
    ];
    for n in [1u32, 5, 20, 40] {
        let text = format!(
            r#"Model(name: "closed", workload: Workload(arrival: Closed(users: {n}, think: Exp(mean_ms: {z:?})), entry: "a"),
            components: {{
                "a": Server(workers: 1, mode: Async, handler: [Work(Exp(mean_ms: {sa:?})), Call("b")]),
                "b": Server(workers: 1, handler: [Work(Exp(mean_ms: {sb:?}))]),
            }})"#
        );
        let mva = mva_closed(z / 1e3, &stations, n);
        let runs = replicate(&text, 1.0, 100.0, 10.0, 100 * n as u64, REPS);
        // 100 s per replication is ≥ 900 cycles (N = 1) up to 12 500 (saturated): per-run
        // relative SD ≤ ~5% at N = 1, so SE over 16 reps ≤ ~1.5%; caps at 3%.
        // Floor 0.2%: the latency histogram's resolution.
        assert_agrees(
            &format!("N={n} throughput"),
            &values(&runs, |s| s.throughput_rps),
            mva.throughput,
            0.03,
            0.0,
        );
        assert_agrees(
            &format!("N={n} response time"),
            &values(&runs, |s| s.latency_ms.mean),
            mva.response_time * 1e3,
            0.03,
            0.002,
        );
    }
}

/// M/M/1 with λ = 800/s, S = 1 ms and a client timeout τ = 10 ms. A timed-out attempt is still
/// served, so the queue stays M/M/1 and the timed-out share is P(sojourn > τ) = e^(−(μ−λ)τ) = e^−2.
#[test]
fn timeout_share_is_the_mm1_sojourn_tail() {
    let text = r#"Model(name: "timeouts", workload: Workload(arrival: Poisson(rate: 800.0), entry: "app",
        timeout_ms: 10.0),
        components: { "app": Server(workers: 1, handler: [Work(Exp(mean_ms: 1.0))]) })"#;
    let runs = replicate(text, 1.0, 200.0, 5.0, 300, REPS);
    // 160 000 arrivals per run; measured per-run relative SD ≈ 9% at 60 s (the share comes in
    // bursts: a long busy period times out many requests at once), so ≈ 5% at 200 s and
    // SE over 16 reps ≈ 1.2%; cap 3%.
    assert_agrees(
        "timed-out share",
        &values(&runs, |s| s.requests.timed_out.0 / s.requests.arrived.0),
        (-2.0f64).exp(),
        0.03,
        0.0,
    );
}

/// 3 instances behind a RoundRobin balancer checking every 2 s, out after 3 failed checks;
/// instance 1 down from 40 s to 70 s. Its third of the requests fail until the balancer has seen
/// 3 failed checks: 6 s, give or take the phase of the check grid (4–8 s); then nothing fails.
#[test]
fn health_check_stops_errors_after_interval_times_unhealthy() {
    let text = r#"Model(name: "hc", workload: Workload(arrival: Poisson(rate: 100.0), entry: "lb"),
        components: {
            "lb": LoadBalancer(targets: ["app"], policy: RoundRobin,
                health_check: HealthCheck(interval_s: 2.0, unhealthy: 3, healthy: 2)),
            "app": Server(instances: 3, workers: 8, handler: [Work(Exp(mean_ms: 5.0))]),
        },
        failures: [Crash(component: "app", instance: 1, at_s: 40.0, for_s: 30.0)])"#;
    let (s, tl) = run_timeline(text, 100.0, 0.0, 21);
    let app = comp_index(&tl, "app");
    let error_secs: Vec<f64> = tl
        .points
        .iter()
        .filter(|p| p.errors_rps > 0.0)
        .map(|p| p.t_s)
        .collect();
    println!(
        "seconds with errors: {error_secs:?}, failed {}",
        s.requests.failed.0
    );
    assert!(!error_secs.is_empty(), "the crash caused no errors");
    assert_eq!(error_secs[0], 40.0, "errors start at the crash");
    let n = error_secs.len();
    assert!((4..=8).contains(&n), "{n} seconds of errors, expected 4–8");
    // Contiguous: errors stop once and stay stopped (also after recovery at 70 s).
    assert_eq!(
        error_secs[n - 1],
        40.0 + (n - 1) as f64,
        "errors not contiguous: {error_secs:?}"
    );
    // The instance is still down after the errors stop.
    for p in tl.points.iter().filter(|p| p.t_s >= 41.0 && p.t_s < 69.0) {
        assert!(
            (p.up_fraction[app] - 2.0 / 3.0).abs() < 1e-9,
            "up_fraction {} at {} s",
            p.up_fraction[app],
            p.t_s
        );
    }
    assert!(
        tl.points
            .iter()
            .filter(|p| p.t_s >= 71.0)
            .all(|p| p.up_fraction[app] == 1.0)
    );
}

const OOM_MODEL: &str = r#"Model(name: "oom", workload: Workload(arrival: Poisson(rate: 100.0), entry: "app",
        profile: Spike(start_s: 30.0, duration_s: 10.0, factor: 10.0)),
        components: { "app": Server(workers: 4, handler: [Work(Exp(mean_ms: 10.0))],
            memory: Memory(base_mb: 100.0, per_request_mb: 10.0, limit_mb: 400.0, restart_s: 5.0)) })"#;

/// A server holding at most (400 − 100) / 10 = 30 requests, hit by a ×10 spike (1000/s against
/// a capacity of 400/s): it runs out of memory, crashes, restarts after 5 s, and is up again once
/// the spike is over. The in-flight population stays bounded by the memory limit.
#[test]
fn memory_limit_crashes_and_restarts() {
    // Little's law is checked separately (`little_law_holds_through_oom_crashes`, ignored).
    let (s, tl) = run_timeline_unchecked(OOM_MODEL, 80.0, 10.0, 31);
    let app = comp_index(&tl, "app");
    let c = common::comp(&s, "app");
    println!(
        "crashes {}, failed {}, arrived {}, peak_requests {}",
        c.crashes.0, s.requests.failed.0, s.requests.arrived.0, s.engine.peak_requests
    );
    assert!(c.crashes.0 >= 1.0, "no out-of-memory crash");
    assert!(s.requests.failed.0 > 0.0, "a crash must fail requests");
    assert!(s.checks.conservation);
    let down: Vec<f64> = tl
        .points
        .iter()
        .filter(|p| p.up_fraction[app] < 1.0)
        .map(|p| p.t_s)
        .collect();
    println!("seconds down: {down:?}");
    assert!(
        !down.is_empty(),
        "the timeline never shows the instance down"
    );
    // The last crash is before the spike ends (40 s), so it is up again by 45 s (+1 s bucket).
    assert!(
        down.iter().all(|&t| (30.0..46.0).contains(&t)),
        "down outside the spike + restart window: {down:?}"
    );
    assert!(
        tl.points
            .iter()
            .filter(|p| p.t_s >= 46.0)
            .all(|p| p.up_fraction[app] == 1.0)
    );
    // At most 30 requests fit in the instance; arrivals are in the tens of thousands.
    assert!(
        s.engine.peak_requests < 200,
        "peak in-flight {} is not bounded by the memory limit",
        s.engine.peak_requests
    );
}

/// The run self-check (Little's law L = λW at every component within 1%) through the OOM crashes
/// of the model above. The window boundaries contribute ~W/T ≈ 10⁻⁴, so any larger error is
/// bookkeeping of the visits killed by the crash (present time counted, sojourn not, or the
/// reverse).
#[test]
fn little_law_holds_through_oom_crashes() {
    run_timeline(OOM_MODEL, 80.0, 10.0, 31);
}
