//! The data tier against theory: LRU caches under Zipf popularity (Che's approximation), TTL
//! caches (renewal argument), read replicas (utilization law and queueing per instance), stale
//! reads under replication lag (Poisson coverage), connection limits (M/M/1/K loss), cache
//! stampedes with and without request coalescing, and per-class results.
//!
//! Conventions. Statistical comparisons use `common::assert_agrees`: R independent replications,
//! |mean − theory| ≤ t(R−1, 0.9995)·SE, with a cap on the SE computed a priori from the run
//! length (so a test cannot pass by being noisy). Every run made through `common::run` /
//! `common::replicate` also passes conservation and Little's law (`common::assert_self_checks`).
//! Runs that are unstable on purpose (the saturated database) go through `run_point` directly and
//! check conservation themselves (Little's law does not hold for a queue that keeps growing).

mod common;

use archsim::analytic::queueing as q;
use archsim::runner::{RunOptions, resolve, run_point, run_replications};
use common::*;

/// A priori relative SE of a mean sojourn estimated from `n_total` customers of M/M/1 queues at
/// load `rho` (Whitt's asymptotic variance of the number in system, 2ρ(1+ρ)/(1−ρ)⁴, carried to
/// the customer average by Little's law): √(2(1+ρ)/N)/(1−ρ).
fn mm1_rel_se(rho: f64, n_total: f64) -> f64 {
    (2.0 * (1.0 + rho) / n_total).sqrt() / (1.0 - rho)
}

// ---------------------------------------------------------------------------------------------
// LRU under Zipf: Che's approximation
// ---------------------------------------------------------------------------------------------

/// A read-only workload over a Zipf(n, s) key space into an LRU cache of `capacity` keys, in front
/// of a database fast enough (1 µs, 1000 workers) that a miss's fill is effectively immediate, as
/// the independent reference model assumes.
fn lru_model(rate: f64, n: u64, s: f64, capacity: u64) -> String {
    format!(
        r#"Model(
            name: "LRU n={n} s={s} C={capacity}",
            workload: Workload(arrival: Poisson(rate: {rate:?}), classes: [
                (name: "get", weight: 1.0, entry: "cache", op: Read, keys: Zipf(n: {n}, s: {s:?})),
            ]),
            components: {{
                "cache": Cache(capacity: {capacity}, hit: Const(ms: 0.001), backend: "db"),
                "db": Database(workers: 1000, read: Const(ms: 0.001), write: Const(ms: 0.001)),
            }},
        )"#
    )
}

/// LRU hit ratio under Zipf popularity agrees with Che's approximation
/// h = Σ pᵢ(1 − e^{−pᵢ T_C}), Σ(1 − e^{−pᵢ T_C}) = C, within 2 percentage points, for n = 10 000
/// keys, s ∈ {0.8, 1.0} and C ∈ {5%, 20%} of n.
///
/// Warm-up (the cold start). Under independent requests the LRU state at any moment is the C
/// most recently requested distinct keys, so it has its stationary law as soon as C distinct
/// keys have been requested since the start. T_C is exactly the (Poissonised) number of requests
/// in which C distinct keys are expected: 653, 3514, 972 and 6048 requests for the four cases.
/// The warm-up, 0.3 s at 10⁵ requests/s = 3·10⁴ requests, is ≥ 4.9 T_C in every case; the
/// expected number of distinct keys by then, Σ(1 − e^{−3·10⁴ pᵢ}), is 7324 (s = 0.8) and 5367
/// (s = 1), far above C ≤ 2000, and the distinct count is concentrated, so the cache is full, and
/// stationary, long before the window opens.
///
/// Tolerance. 4 replications × 1 s × 10⁵ requests/s = 4·10⁵ measured lookups per case. Hit
/// indicators of an LRU cache are positively correlated (a hit keeps a key in the cache), so the
/// binomial SE √(h(1−h)/n) ≤ 0.0008 is not the real one; the test measures the SE over the
/// replications instead and requires it below 0.004 (5× binomial, a generous allowance for the
/// correlation), so the fixed 2-point tolerance is at least 5 SE. Che's approximation itself is
/// accurate to a few tenths of a point at this catalogue size (Fricker, Robert, Roberts 2012).
/// As a consistency check, every miss calls the backend: backend_calls = (1 − h)·lookups.
#[test]
fn lru_hit_ratio_matches_che_under_zipf() {
    let n = 10_000u64;
    let (rate, duration_s, warmup_s, reps) = (100_000.0, 1.3, 0.3, 4);
    for (i, &(s, frac)) in [(0.8, 0.05), (0.8, 0.20), (1.0, 0.05), (1.0, 0.20)]
        .iter()
        .enumerate()
    {
        let capacity = (frac * n as f64) as u64;
        let pop = q::zipf_popularities(n as usize, s);
        let tc = q::che_characteristic_time(&pop, capacity as usize);
        let che = q::che_lru_hit_ratio(&pop, capacity as usize);
        assert!(
            rate * warmup_s >= 4.0 * tc,
            "warm-up too short for T_C = {tc}"
        );
        let runs = replicate(
            &lru_model(rate, n, s, capacity),
            1.0,
            duration_s,
            warmup_s,
            1000 + 10 * i as u64,
            reps,
        );
        let h = values(&runs, |r| {
            comp(r, "cache").hit_ratio.expect("cache hit ratio")
        });
        let e = estimate(&h);
        println!(
            "LRU s={s} C={capacity}: T_C = {tc:.0} requests, Che {che:.4}, simulated {:.4} ± {:.4} (SE, {reps} reps), diff {:+.4}",
            e.mean,
            e.se,
            e.mean - che
        );
        assert!(
            e.se <= 0.004,
            "LRU s={s} C={capacity}: SE {:.5} too large for a 2-point test",
            e.se
        );
        assert!(
            (e.mean - che).abs() <= 0.02,
            "LRU s={s} C={capacity}: simulated hit ratio {:.4} but Che's approximation gives {che:.4}",
            e.mean
        );
        for r in &runs {
            let c = comp(r, "cache");
            let lookups = c.throughput_rps * (duration_s - warmup_s);
            let calls = c.backend_calls.expect("backend calls").0;
            let miss = 1.0 - c.hit_ratio.unwrap();
            // Lookups are counted at the lookup, completions at the response 1–2 µs later: the
            // two differ by the handful of requests straddling the window's ends.
            assert!(
                (calls - miss * lookups).abs() <= 1e-3 * lookups,
                "backend calls {calls} but misses × lookups = {}",
                miss * lookups
            );
        }
    }
}

// ---------------------------------------------------------------------------------------------
// TTL cache, one key
// ---------------------------------------------------------------------------------------------

/// Poisson requests without keys (they all share one key) into a cache with a TTL and no
/// capacity limit, in front of a 1 µs database.
fn ttl_model(rate: f64, ttl_s: f64, backend_ms: f64) -> String {
    format!(
        r#"Model(
            name: "TTL rate={rate} ttl={ttl_s}",
            workload: Workload(arrival: Poisson(rate: {rate:?}), entry: "cache"),
            components: {{
                "cache": Cache(ttl_s: {ttl_s:?}, hit: Const(ms: 0.01), backend: "db"),
                "db": Database(workers: 100, read: Const(ms: {backend_ms:?}), write: Const(ms: 1.0)),
            }},
        )"#
    )
}

/// One key, Poisson lookups of rate λ, TTL T set when the key is stored and not refreshed by
/// hits: h = λT / (1 + λT) (renewal: a cycle is a miss, T of residence with λT hits on average,
/// then an exponential wait for the next request, which misses).
///
/// The backend time b adds to the miss window: the key is stored b after the miss, so the
/// lookups in those b also miss, and a cycle holds λT hits and 1 + λb misses:
/// h = λT / (1 + λb + λT). With b = 1 µs, λb ≤ 10⁻⁴; the correction is applied anyway. (The
/// constant hit time shifts every lookup by the same 10 µs, so lookups stay Poisson.)
///
/// Tolerance. By the renewal-reward delta method, with n_c = N/(1+λT) cycles each holding
/// X ~ Poisson(λT) hits, Var(ĥ) = (1−h)² Var(X) / (n_c (1+λT)²) = λT / (N (1+λT)³), below the
/// binomial value (a cycle's one miss is certain). N = 8 replications × 5·10⁴ lookups. The cap is
/// 2× that SE, so the tolerance is at most 5.41 × 2 SE: 2.7%, 0.4% and 0.35% of h for the
/// three cases, against 1 − e^{−λT} = 0.26, 0.86, 0.99 if hits refreshed the timer (sliding
/// expiry: a lookup hits iff the previous one was within T).
#[test]
fn ttl_single_key_hit_ratio_is_lambda_t_over_one_plus_lambda_t() {
    let backend_s = 1e-6;
    let reps = 8u32;
    let lookups_per_rep = 50_000.0;
    for (i, &(lambda, ttl)) in [(5.0, 0.06), (20.0, 0.1), (100.0, 0.05)].iter().enumerate() {
        let warmup_s = 20.0 * (ttl + 1.0 / lambda);
        let duration_s = warmup_s + lookups_per_rep / lambda;
        let runs = replicate(
            &ttl_model(lambda, ttl, backend_s * 1e3),
            1.0,
            duration_s,
            warmup_s,
            2000 + 10 * i as u64,
            reps,
        );
        let x = lambda * ttl;
        let closed = q::ttl_single_key_hit_ratio(lambda, ttl);
        assert!((closed - x / (1.0 + x)).abs() < 1e-12);
        let expected = x / (1.0 + lambda * backend_s + x);
        let n_total = lookups_per_rep * reps as f64;
        let se = (x / (n_total * (1.0 + x).powi(3))).sqrt();
        assert_agrees(
            &format!("TTL λ={lambda}/s T={ttl}s hit ratio (λT/(1+λT) = {closed:.5})"),
            &values(&runs, |r| comp(r, "cache").hit_ratio.expect("hit ratio")),
            expected,
            2.0 * se / expected,
            0.0,
        );
    }
}

// ---------------------------------------------------------------------------------------------
// The cold start, interval by interval
// ---------------------------------------------------------------------------------------------

/// A cache that starts empty fills as keys arrive, and the timeline shows it: with Poisson
/// lookups at rate λ, uniform over n keys, a capacity that holds them all and no TTL, a lookup at
/// time t hits iff its key was asked for in [0, t) (fills take 2 µs, a key is asked for again
/// within them with probability ~10⁻⁶), which has probability 1 − e^{−λt/n}. Arrival times in an
/// interval [a, b) are uniform, so the interval's hit ratio is
/// 1 − (n / (λ(b − a))) · (e^{−λa/n} − e^{−λb/n}).
///
/// n = 10 000, λ = 5 000/s (n/λ = 2 s), 0.5 s intervals over 6 s: from 0.12 in the first interval
/// to 0.95 in the last. Each interval holds ~2 500 lookups, so one run's ratio has an SD of about
/// √(h(1 − h)/2 500) ≤ 0.01 (the cache's content adds a little: the cap is twice this); 16 runs.
#[test]
fn the_timeline_shows_a_cold_cache_filling_as_theory_says() {
    let (n, lambda, dt, duration) = (10_000.0_f64, 5_000.0_f64, 0.5_f64, 6.0_f64);
    let text = format!(
        r#"Model(
            name: "cold start",
            workload: Workload(arrival: Poisson(rate: {lambda:?}), classes: [
                (name: "get", weight: 1.0, entry: "cache", op: Read, keys: Uniform(n: {n})),
            ]),
            components: {{
                "cache": Cache(capacity: {n}, hit: Const(ms: 0.001), backend: "db"),
                "db": Database(workers: 100, read: Const(ms: 0.001), write: Const(ms: 0.001)),
            }},
        )"#,
        n = n as u64
    );
    let model = load(&text);
    let reps = REPS as u64;
    let timelines: Vec<_> = (0..reps)
        .map(|i| {
            let s = run_point(
                &model,
                &RunOptions {
                    traffic: 1.0,
                    duration_s: Some(duration),
                    warmup_s: Some(0.0),
                    seed: Some(4100 + i + seed_offset()),
                    replications: Some(1),
                    timeline_s: Some(dt),
                    ..Default::default()
                },
            )
            .expect("run_point");
            s.timeline.expect("timeline asked for")
        })
        .collect();
    let cache = timelines[0]
        .components
        .iter()
        .position(|c| c == "cache")
        .expect("cache in the timeline");
    let db = cache + 1;
    let intervals = (duration / dt).round() as usize;
    assert_eq!(timelines[0].points.len(), intervals);
    for k in 0..intervals {
        let (a, b) = (k as f64 * dt, (k + 1) as f64 * dt);
        let theory =
            1.0 - n / (lambda * (b - a)) * ((-lambda * a / n).exp() - (-lambda * b / n).exp());
        let xs: Vec<f64> = timelines
            .iter()
            .map(|t| t.points[k].hit_ratio[cache].expect("lookups in every interval"))
            .collect();
        let sd = (theory * (1.0 - theory) / (lambda * dt)).sqrt();
        assert_agrees(
            &format!("cold cache hit ratio in [{a}, {b}) s"),
            &xs,
            theory,
            2.0 * sd / (reps as f64).sqrt() / theory,
            0.0,
        );
        // Only caches have a hit ratio.
        assert!(
            timelines
                .iter()
                .all(|t| t.points[k].hit_ratio[db].is_none())
        );
    }
    // The CSV has the hit ratio column, in the same order as the JSON.
    let csv = timelines[0].to_csv();
    let header: Vec<&str> = csv.lines().next().unwrap().split(',').collect();
    let col = header
        .iter()
        .position(|h| *h == "hit_cache")
        .expect("hit_cache column");
    assert!(!header.contains(&"hit_db"));
    let first: f64 = csv
        .lines()
        .nth(1)
        .unwrap()
        .split(',')
        .nth(col)
        .unwrap()
        .parse()
        .unwrap();
    assert_eq!(first, timelines[0].points[0].hit_ratio[cache].unwrap());
}

// ---------------------------------------------------------------------------------------------
// Read replicas
// ---------------------------------------------------------------------------------------------

/// 800 requests/s straight into a database, 90% reads (Exp 1 ms) and 10% writes (Exp 5 ms), one
/// worker per instance, `k` read replicas.
fn replica_model(k: u32) -> String {
    let replicas = if k == 0 {
        String::new()
    } else {
        format!(", replicas: {k}")
    };
    format!(
        r#"Model(
            name: "database with {k} replicas",
            workload: Workload(arrival: Poisson(rate: 800.0), classes: [
                (name: "read", weight: 0.9, entry: "db", op: Read),
                (name: "write", weight: 0.1, entry: "db", op: Write),
            ]),
            components: {{
                "db": Database(workers: 1, read: Exp(mean_ms: 1.0), write: Exp(mean_ms: 5.0){replicas}),
            }},
        )"#
    )
}

/// Read replicas multiply read capacity, by the utilization law per instance. In ms units:
/// λ = 0.8/ms, λ_r = 0.72, λ_w = 0.08, S_r = 1, S_w = 5, W = 1 worker per instance.
///
/// - Writes all land on the primary: ρ_primary = λ_w S_w / W = 0.4. The primary sees only the
///   (Poisson) writes, so the write class is an M/M/1 queue: mean latency S_w/(1 − 0.4) = 8.33 ms.
///   The inferred ρ = 1 − S_w / T_w is printed. (Reads leaking onto the primary, e.g.
///   round-robin over all 4 instances at k = 3, would raise its load to 0.58 and the write
///   latency to ≈ 10 ms, by the M/G/1 formula.)
/// - Reads spread over the replicas: ρ_replica = λ_r S_r / (k W) = 0.72 (k = 1) and 0.24
///   (k = 3). At k = 1 the replica is an M/M/1 (read latency 3.57 ms); at k = 3 round-robin turns
///   the Poisson reads into Erlang-3 arrivals at each replica: E₃/M/1, mean 1/(μ(1−σ)).
/// - The component reports the utilization averaged over all k + 1 instances:
///   (λ_r S_r + λ_w S_w) / ((k + 1) W) = 1.12 / (k + 1): 0.56 (k = 1) and 0.28 (k = 3).
/// - k = 0: everything on one instance needs 1.12 workers: saturated. The database then
///   completes 1/E[S] = 1/(0.9·1 + 0.1·5) ms = 714.3/s < 800/s offered, at utilization → 1, and
///   queues grow; the same traffic with k = 3 is comfortably below saturation.
///
/// Caps (a priori, × 2): latencies by the M/M/1 formula at the instance's load with the class's
/// customer count (an upper bound for E₃ arrivals, more regular than Poisson); utilization from
/// the total busy time, ≈ the sum of the service times of the arrivals in the window, a compound
/// Poisson of variance λ T E[S²] (E[S²] = 0.9·2·1² + 0.1·2·5² = 6.8 ms²); throughput a Poisson
/// count, relative SE 1/√N. The saturated run's completions are a renewal process of the service
/// times: SD √(T Var(S) / E[S]³), Var(S) = 6.8 − 1.4² = 4.84 ms²; over 60 s that is 0.76% and
/// the test allows 5 SD (3.8%), against 800/s (+12%) if the queue did not limit it.
#[test]
fn read_replicas_multiply_read_capacity() {
    let (lambda, p_read, s_r, s_w) = (0.8, 0.9, 1.0, 5.0);
    let (lr, lw) = (lambda * p_read, lambda * (1.0 - p_read));
    let es2 = p_read * 2.0 * s_r * s_r + (1.0 - p_read) * 2.0 * s_w * s_w;
    let (duration_s, warmup_s, reps) = (85.0, 5.0, 8u32);
    let t_ms = (duration_s - warmup_s) * 1000.0;
    let n_r = lr * t_ms * reps as f64;
    let n_w = lw * t_ms * reps as f64;
    let rho_p = lw * s_w;
    let w_theory = s_w / (1.0 - rho_p);
    for k in [1u32, 3] {
        let runs = replicate(
            &replica_model(k),
            1.0,
            duration_s,
            warmup_s,
            3000 + k as u64,
            reps,
        );
        let tag = format!("db k={k}");
        let util = (lr * s_r + lw * s_w) / (k + 1) as f64;
        let util_se = (lambda * es2 * t_ms / reps as f64).sqrt() / ((k + 1) as f64 * t_ms);
        assert_agrees(
            &format!("{tag} utilization (all instances)"),
            &values(&runs, |r| comp(r, "db").utilization),
            util,
            2.0 * util_se / util,
            0.0,
        );
        let writes = values(&runs, |r| r.classes.get("write").unwrap().latency_ms.mean);
        let tw = estimate(&writes).mean;
        println!(
            "{tag}: inferred primary utilization 1 − S_w/T_w = {:.4} (λ_w S_w / W = {rho_p})",
            1.0 - s_w / tw
        );
        assert_agrees(
            &format!("{tag} write latency mean (ms) [M/M/1 at primary, ρ = {rho_p}]"),
            &writes,
            w_theory,
            2.0 * mm1_rel_se(rho_p, n_w),
            0.0,
        );
        let rho_r = lr * s_r / k as f64;
        let reads = values(&runs, |r| r.classes.get("read").unwrap().latency_ms.mean);
        let r_theory = q::en_m1_mean_sojourn(k, lr, 1.0 / s_r).expect("stable replica");
        if k == 1 {
            assert!((r_theory - s_r / (1.0 - rho_r)).abs() < 1e-9);
            println!(
                "{tag}: inferred replica utilization 1 − S_r/T_r = {:.4} (λ_r S_r / (k W) = {rho_r})",
                1.0 - s_r / estimate(&reads).mean
            );
        }
        assert_agrees(
            &format!("{tag} read latency mean (ms) [E{k}/M/1 per replica, ρ = {rho_r}]"),
            &reads,
            r_theory,
            2.0 * mm1_rel_se(rho_r, n_r),
            0.0,
        );
        assert_agrees(
            &format!("{tag} throughput (rps)"),
            &values(&runs, |r| r.throughput_rps),
            1000.0 * lambda,
            2.0 / (lambda * t_ms * reps as f64).sqrt(),
            0.0,
        );
        assert!(runs.iter().all(|r| r.stable), "{tag} should be stable");
    }

    // k = 0 past saturation (one run; it is unstable, so no Little's-law check).
    let (duration_s, warmup_s) = (65.0, 5.0);
    let s = run_overloaded(&replica_model(0), duration_s, warmup_s, 3000);
    let r = &s.requests;
    assert_eq!(
        r.arrived.0,
        r.completed.0 + r.dropped.0 + r.failed.0 + r.timed_out.0 + r.in_flight.0
    );
    let db = comp(&s, "db");
    let es = p_read * s_r + (1.0 - p_read) * s_w;
    let cap_rps = 1000.0 / es;
    let t_ms = (duration_s - warmup_s) * 1000.0;
    let sd = (t_ms * (es2 - es * es) / es.powi(3)).sqrt() / t_ms * 1000.0;
    println!(
        "db k=0: utilization {:.5}, db throughput {:.1}/s (1/E[S] = {cap_rps:.1}/s ± {sd:.1}), client throughput {:.1}/s, in flight {}",
        db.utilization, db.throughput_rps, s.throughput_rps, r.in_flight.0
    );
    assert!(
        db.utilization > 0.99,
        "k = 0 should saturate: {}",
        db.utilization
    );
    assert!(
        (db.throughput_rps - cap_rps).abs() <= 5.0 * sd,
        "saturated database completes {:.1}/s, expected 1/E[S] = {cap_rps:.1}/s",
        db.throughput_rps
    );
    assert!(s.throughput_rps < 0.95 * 800.0);
    assert!(!s.stable, "a saturated database is not stable");
    assert!(r.in_flight.0 > 1000.0, "the queue should grow: {r:?}");
}

// ---------------------------------------------------------------------------------------------
// Stale reads under replication lag
// ---------------------------------------------------------------------------------------------

/// Reads at 200/s and writes at `w`/s, no keys (one shared key), into a database with 2 replicas
/// and a constant replication lag (none when `lag_ms` is None). Both operations take a constant
/// 1 ms with 64 workers, so nothing queues and the writes commit exactly 1 ms after arriving.
fn stale_model(w: f64, lag_ms: Option<f64>) -> String {
    let lag = lag_ms.map_or(String::new(), |l| {
        format!(", replication_lag: Const(ms: {l:?})")
    });
    let reads = 200.0;
    format!(
        r#"Model(
            name: "stale reads w={w} lag={lag_ms:?}",
            workload: Workload(arrival: Poisson(rate: {total:?}), classes: [
                (name: "read", weight: {pr:?}, entry: "db", op: Read),
                (name: "write", weight: {pw:?}, entry: "db", op: Write),
            ]),
            components: {{
                "db": Database(workers: 64, read: Const(ms: 1.0), write: Const(ms: 1.0), replicas: 2{lag}),
            }},
        )"#,
        total = reads + w,
        pr = reads / (reads + w),
        pw = w / (reads + w),
    )
}

/// Stale-read fraction for one key with Poisson writes at rate w, a constant lag L and FIFO
/// replicas: a read arriving at t is stale iff a write committed in (t − L, t], so by PASTA the
/// fraction is P(a Poisson(w) event in a window L) = 1 − e^{−wL}. (Commits are the write
/// arrivals shifted by the constant 1 ms write time, still Poisson; reads are an independent
/// Poisson stream, the class split of one Poisson stream.) With no lag, a replica has every
/// write when the primary commits it: exactly zero.
///
/// Tolerance. The stale indicator I(t) is a union of intervals of length L started by a Poisson
/// process; Cov(I(0), I(τ)) = e^{−w(L+τ)} − e^{−2wL} for τ < L and 0 beyond, so the time average
/// over T has variance (2/T)·[e^{−wL}(1 − e^{−wL})/w − L e^{−2wL}]; sampling it at n Poisson reads
/// adds h(1−h)/n. Per replication T = 400 s, n = 8·10⁴; 8 replications; the cap is 2× that SE.
/// The tolerance is then at most 5.41 × 2 SE: 16% of h at wL = 0.02, 13% at 0.2, 9.5% and 4.3%
/// at wL = 1 (w = 2/s and 10/s), while the cases differ by factors 3.5–30 (and are exactly 0
/// without lag). The fractions must also rise strictly with L and with w.
#[test]
fn stale_reads_follow_replication_lag_and_write_rate() {
    let (duration_s, warmup_s, reps) = (410.0, 10.0, 8u32);
    let t = duration_s - warmup_s;
    let n_reads = 200.0 * t;

    let none = run(&stale_model(10.0, None), 1.0, 60.0, 5.0, 4000, 1);
    let ratio = comp(&none, "db").stale_read_ratio.expect("stale ratio");
    println!("no lag: stale read ratio {ratio}");
    assert_eq!(ratio, 0.0, "without lag no read can be stale");

    let mut means = Vec::new();
    for (i, &(w, lag_ms)) in [(2.0f64, 10.0f64), (2.0, 100.0), (2.0, 500.0), (10.0, 100.0)]
        .iter()
        .enumerate()
    {
        let l = lag_ms / 1000.0;
        let h = 1.0 - (-w * l).exp();
        let cov = (-w * l).exp() * (1.0 - (-w * l).exp()) / w - l * (-2.0 * w * l).exp();
        let var_rep = 2.0 * cov / t + h * (1.0 - h) / n_reads;
        let se = (var_rep / reps as f64).sqrt();
        let runs = replicate(
            &stale_model(w, Some(lag_ms)),
            1.0,
            duration_s,
            warmup_s,
            4100 + 10 * i as u64,
            reps,
        );
        let xs = values(&runs, |r| {
            comp(r, "db").stale_read_ratio.expect("stale ratio")
        });
        means.push(estimate(&xs).mean);
        assert_agrees(
            &format!("stale read ratio w={w}/s L={lag_ms} ms (1 − e^(−wL))"),
            &xs,
            h,
            2.0 * se / h,
            0.0,
        );
    }
    assert!(
        means[0] < means[1] && means[1] < means[2],
        "stale fraction should rise with the lag: {means:?}"
    );
    assert!(
        means[1] < means[3],
        "stale fraction should rise with the write rate: {means:?}"
    );
}

// ---------------------------------------------------------------------------------------------
// Connection limits
// ---------------------------------------------------------------------------------------------

/// A single-worker database with Exp(10 ms) reads and max_connections K receiving Poisson
/// requests directly: an M/M/1/K loss system (present ≥ K at an arrival ⇒ it fails). At
/// λ = 500/s, μ = 100/s (ρ = 5) and K = 5, PASTA gives the failed fraction
/// P_K = (1−ρ)ρ^K/(1−ρ^{K+1}) = 0.8000 and the throughput λ(1 − P_K) = 100/s.
///
/// Every rejection happens at the door of the entry, so requests.failed equals the database's
/// `failed` count exactly. Tolerance: 8 replications × 20 s × 500/s = 8·10⁴ arrivals; blocked
/// arrivals come in bursts (the system stays full for an Exp(μ) time, ≈ 5 arrivals), so the
/// binomial SE √(P(1−P)/N) = 0.0014 may be inflated by the correlation (measured: ≈ 1.1×); the
/// cap is 3× binomial, a generous multiple (tolerance ≤ 5.41 × 0.0042 = 2.9% of P_K, against 0
/// without the limit).
///
/// Then the limit behind a server: 1000 requests/s into an app (200 workers) that calls a
/// database with 2 workers (Exp 20 ms: an offered load of 20 busy workers)
/// and max_connections 4: the database refuses the excess, the failures reach the clients, and
/// conservation holds.
#[test]
fn max_connections_refuses_the_excess() {
    let text = r#"Model(
        name: "M/M/1/5 database",
        workload: Workload(arrival: Poisson(rate: 500.0), entry: "db"),
        components: {
            "db": Database(workers: 1, read: Exp(mean_ms: 10.0), write: Exp(mean_ms: 10.0), max_connections: 5),
        },
    )"#;
    let (lambda, mu, k) = (0.5, 0.1, 5u32);
    let p_k = q::mm1k_blocking(lambda, mu, k);
    let rho: f64 = lambda / mu;
    assert!((p_k - (1.0 - rho) * rho.powi(5) / (1.0 - rho.powi(6))).abs() < 1e-12);
    let (duration_s, warmup_s, reps) = (22.0, 2.0, 8u32);
    let runs = replicate(text, 1.0, duration_s, warmup_s, 5000, reps);
    for r in &runs {
        assert_eq!(r.requests.failed.0, comp(r, "db").failed.0);
        assert!(r.requests.failed.0 > 0.0);
    }
    let n = 500.0 * (duration_s - warmup_s) * reps as f64;
    let binom = (p_k * (1.0 - p_k) / n).sqrt();
    assert_agrees(
        "M/M/1/5 failed fraction",
        &values(&runs, |r| r.requests.failed.0 / r.requests.arrived.0),
        p_k,
        3.0 * binom / p_k,
        0.0,
    );
    assert_agrees(
        "M/M/1/5 throughput (rps)",
        &values(&runs, |r| r.throughput_rps),
        1000.0 * lambda * (1.0 - p_k),
        3.0 * binom / (1.0 - p_k),
        0.0,
    );

    let text = r#"Model(
        name: "app in front of a limited database",
        workload: Workload(arrival: Poisson(rate: 1000.0), entry: "app"),
        components: {
            "app": Server(workers: 200, handler: [Work(Const(ms: 0.1)), Call("db")]),
            "db": Database(workers: 2, read: Exp(mean_ms: 20.0), write: Exp(mean_ms: 20.0), max_connections: 4),
        },
    )"#;
    let s = run(text, 1.0, 12.0, 2.0, 5100, 1);
    let r = &s.requests;
    let db = comp(&s, "db");
    println!(
        "app → db(max_connections 4): {r:?}; db failed {}, db mean in system {:.3}",
        db.failed.0, db.mean_in_system
    );
    assert!(db.failed.0 > 0.0, "the database should refuse connections");
    assert!(r.failed.0 > 0.0, "refusals should reach the clients");
    // One database call per request: each refusal fails exactly one request (up to the requests
    // straddling the warm-up boundary, which reach the database 0.1 ms after arriving).
    assert!(
        (r.failed.0 - db.failed.0).abs() <= 5.0,
        "{r:?} vs {}",
        db.failed.0
    );
    assert!(s.checks.conservation);
    assert_eq!(
        r.arrived.0,
        r.completed.0 + r.dropped.0 + r.failed.0 + r.timed_out.0 + r.in_flight.0
    );
    assert!(
        db.mean_in_system <= 4.0 + 1e-9,
        "never more than max_connections present: {}",
        db.mean_in_system
    );
    // At most 4 present and 2 workers: throughput ≤ 2 / 20 ms = 100/s, the rest fail.
    assert!(s.throughput_rps < 110.0 && r.failed.0 > 0.8 * r.arrived.0);
}

// ---------------------------------------------------------------------------------------------
// Stampede and coalescing
// ---------------------------------------------------------------------------------------------

fn stampede_model(coalesce: bool) -> String {
    format!(
        r#"Model(
            name: "stampede coalesce={coalesce}",
            workload: Workload(arrival: Poisson(rate: 2000.0), classes: [
                (name: "get", weight: 1.0, entry: "cache", op: Read, keys: Uniform(n: 50)),
            ]),
            components: {{
                "cache": Cache(capacity: 100, hit: Const(ms: 0.1), backend: "db", coalesce: {coalesce}),
                "db": Database(workers: 1000, read: Const(ms: 100.0), write: Const(ms: 100.0)),
            }},
        )"#
    )
}

/// A cold cache (no warm-up), n = 50 uniform keys, λ = 2000 requests/s, a 100 ms backend, no TTL
/// and capacity 100 ≥ n, over 2 s (4000 requests: every key is requested, P(some key is not)
/// = 50·e^{−80}, so the number of distinct keys requested is n).
///
/// Without coalescing, every lookup of key i in the b = 100 ms between its first miss and the
/// fill also misses and calls the backend. By the strong Markov property of key i's Poisson
/// stream (rate λ/n) after its first request, that is Poisson(λb/n) per key, independent over
/// keys: backend_calls = n + Poisson(λb), mean 50 + 200 = 250. With coalescing those lookups wait
/// for the first miss's fill instead: backend_calls = n exactly, in every run, and the waiting
/// lookups (the engine's `coalesced` counter) are the same Poisson(λb). Lookups = hits + backend
/// calls + coalesced waiters, always.
///
/// Tolerance: 16 replications of each (cheap: 4000 requests each), so the mean of the extra
/// calls has SE √(200/16) = 3.5; the cap is 2× that, and the tolerance at most 5.41 × 7.1 = 38
/// (19% of λb), against 0 extra calls if misses were merged regardless of the flag. Each single
/// run must also show more calls than keys.
#[test]
fn stampede_without_coalescing_and_exactly_once_with_it() {
    let (n, lambda, b) = (50.0, 2000.0, 0.1);
    let (duration_s, seed, reps) = (2.0, 6000, 16u32);
    let mean_extra = lambda * b;
    let se = (mean_extra / reps as f64).sqrt();

    let plain = replicate(&stampede_model(false), 1.0, duration_s, 0.0, seed, reps);
    let calls = values(&plain, |r| comp(r, "cache").backend_calls.unwrap().0);
    for &c in &calls {
        assert!(
            c > n,
            "a stampede should call the backend more than once per key: {c}"
        );
    }
    assert_agrees(
        "stampede without coalescing: backend calls beyond n (λb)",
        &calls.iter().map(|c| c - n).collect::<Vec<_>>(),
        mean_extra,
        2.0 * se / mean_extra,
        0.0,
    );

    let merged = replicate(&stampede_model(true), 1.0, duration_s, 0.0, seed, reps);
    for r in &merged {
        let calls = comp(r, "cache").backend_calls.unwrap().0;
        assert_eq!(calls, n, "with coalescing each key is fetched once");
    }
    println!("coalescing: backend_calls = n = {n} in all {reps} runs");

    // The engine's own counters, for the identity and the coalesced count.
    let mut waiters = Vec::new();
    for coalesce in [false, true] {
        let model = load(&stampede_model(coalesce));
        let opts = RunOptions {
            traffic: 1.0,
            duration_s: Some(duration_s),
            warmup_s: Some(0.0),
            seed: Some(seed),
            replications: Some(reps),
            ..Default::default()
        };
        let settings = resolve(&model, &opts).expect("settings");
        for stats in run_replications(&model, &opts, &settings) {
            let k = stats.components[0].cache.clone().expect("cache counters");
            assert_eq!(k.lookups, k.hits + k.backend_calls + k.coalesced, "{k:?}");
            if coalesce {
                assert_eq!(k.backend_calls, n as u64, "{k:?}");
                waiters.push(k.coalesced as f64);
            } else {
                assert_eq!(k.coalesced, 0, "{k:?}");
            }
        }
    }
    assert_agrees(
        "stampede with coalescing: lookups waiting on a fill (λb)",
        &waiters,
        mean_extra,
        2.0 * se / mean_extra,
        0.0,
    );
}

// ---------------------------------------------------------------------------------------------
// Per-class results
// ---------------------------------------------------------------------------------------------

/// A read/write workload (weights 0.9/0.1) through a cache: both classes appear in `classes`,
/// with throughput shares equal to the weights (each arrival picks its class independently:
/// binomial, SE √(p(1−p)/N) ≈ 0.0019 for N = 2.4·10⁴; tolerance 5 SE), and the class
/// throughputs add up to the total. With constant times and a database that never queues, the
/// latencies are exact: a write is hit time + write time = 0.5 + 5 = 5.5 ms, a read is
/// 0.5 + (1 − h)·2 ms with h the cache's hit ratio (only reads look up).
#[test]
fn classes_report_their_share_of_throughput() {
    let text = r#"Model(
        name: "read/write through a cache",
        workload: Workload(arrival: Poisson(rate: 1000.0), classes: [
            (name: "read", weight: 0.9, entry: "cache", op: Read, keys: Zipf(n: 1000, s: 0.9)),
            (name: "write", weight: 0.1, entry: "cache", op: Write, keys: Zipf(n: 1000, s: 0.9)),
        ]),
        components: {
            "cache": Cache(capacity: 200, hit: Const(ms: 0.5), backend: "db"),
            "db": Database(workers: 50, read: Const(ms: 2.0), write: Const(ms: 5.0)),
        },
    )"#;
    let s = run(text, 1.0, 26.0, 2.0, 7000, 1);
    let read = s.classes.get("read").expect("read class");
    let write = s.classes.get("write").expect("write class");
    let total = s.throughput_rps;
    let n = total * 24.0;
    println!(
        "classes: read {:.1}/s ({:.2} ms), write {:.1}/s ({:.2} ms), total {total:.1}/s",
        read.throughput_rps, read.latency_ms.mean, write.throughput_rps, write.latency_ms.mean
    );
    assert!((read.throughput_rps + write.throughput_rps - total).abs() < 1e-6 * total);
    for (share, p) in [
        (read.throughput_rps / total, 0.9),
        (write.throughput_rps / total, 0.1),
    ] {
        let se = (p * (1.0 - p) / n).sqrt();
        assert!(
            (share - p).abs() <= 5.0 * se,
            "class share {share:.4}, weight {p} (5 SE = {:.4})",
            5.0 * se
        );
    }
    let h = comp(&s, "cache").hit_ratio.unwrap();
    assert!(h > 0.3 && h < 0.95, "hit ratio {h}");
    assert!(
        (write.latency_ms.mean - 5.5).abs() < 0.005 * 5.5,
        "write latency {}",
        write.latency_ms.mean
    );
    let read_theory = 0.5 + (1.0 - h) * 2.0;
    assert!(
        (read.latency_ms.mean - read_theory).abs() < 0.01 * read_theory,
        "read latency {} vs 0.5 + (1 − h)·2 = {read_theory}",
        read.latency_ms.mean
    );
}
