//! The edge of the system and the work behind it, against theory: network hops between regions,
//! a CDN's edges, browser caches, background queues (decoupling, overload, M/M/c, back-pressure),
//! fan-out over parallel calls, and external APIs (errors, rate limits, concurrency).
//!
//! Conventions. Statistical comparisons use `common::assert_agrees`: R = 16 independent
//! replications, |mean − theory| ≤ t(15, 0.99995)·SE (= 5.24·SE), with a cap on the SE computed a
//! priori from the run length, so a test cannot pass by being noisy. Single-run comparisons of a
//! count use the count's exact law (binomial or Poisson) with a 5σ band. Runs made through
//! `common::run` / `common::replicate` also pass conservation and Little's law; runs that are
//! overloaded on purpose (a growing backlog, blocked producers) go through `common::run_overloaded`,
//! which checks conservation only (Little's law does not hold for a queue that keeps growing).
//! Deterministic paths (constant latencies, no queueing) are compared exactly, or to the latency
//! histogram's 0.1% for percentiles.

mod common;

use archsim::analytic::queueing as q;
use archsim::stats::summary::RunSummary;
use common::*;
use rayon::prelude::*;

/// [`run_overloaded`] over `reps` seeds `base..base + reps`, in parallel.
fn replicate_overloaded(
    text: &str,
    duration_s: f64,
    warmup_s: f64,
    base_seed: u64,
    reps: u32,
) -> Vec<RunSummary> {
    (0..reps as u64)
        .into_par_iter()
        .map(|i| run_overloaded(text, duration_s, warmup_s, base_seed + i))
        .collect()
}

/// `|x − expected| ≤ tol`, printed.
fn assert_close(what: &str, x: f64, expected: f64, tol: f64) {
    println!("{what}: simulated {x:.6}, expected {expected:.6}, tolerance {tol:.6}");
    assert!(
        (x - expected).abs() <= tol,
        "{what}: simulated {x:.9} but expected {expected:.9} (tolerance {tol:.9})"
    );
}

/// A fraction `k / n` against its probability `p`: within 5 binomial standard deviations.
fn assert_binomial(what: &str, k: f64, n: f64, p: f64) {
    let sd = (p * (1.0 - p) / n).sqrt();
    assert_close(what, k / n, p, 5.0 * sd);
}

/// The class `name` of a summary.
fn class<'a>(s: &'a RunSummary, name: &str) -> &'a archsim::stats::summary::ClassSummary {
    s.classes
        .get(name)
        .unwrap_or_else(|| panic!("no class `{name}` in `{}`", s.model))
}

// ---------------------------------------------------------------------------------------------
// Network
// ---------------------------------------------------------------------------------------------

/// Clients in `eu` send requests to a balancer in `eu` whose only backend, `app`, runs in `us`.
/// `app` works 2 ms, calls `db` (also in `us`, 3 ms), calls `api` (back in `eu`, 5 ms) and
/// enqueues a task on `jobs` (in `eu`, 1 ms). Every component has far more workers than the load
/// can occupy, so nothing queues.
fn network_model(rate: f64, link: &str, same: &str, ser: &str) -> String {
    format!(
        r#"Model(
            name: "network path",
            workload: Workload(
                arrival: Poisson(rate: {rate:?}),
                entry: "lb",
                clients: [(region: "eu", share: 1.0)],
            ),
            network: Network(
                regions: ["eu", "us"],
                same_region: {same},
                links: [("eu", "us", {link})],
                serialization: {ser},
            ),
            components: {{
                "lb": LoadBalancer(targets: ["app"], region: "eu"),
                "app": Server(workers: 1000, region: "us", handler: [
                    Work(Const(ms: 2.0)), Call("db"), Call("api"), Enqueue("jobs"),
                ]),
                "db": Database(workers: 1000, read: Const(ms: 3.0), write: Const(ms: 3.0), region: "us"),
                "api": ExternalApi(latency: Const(ms: 5.0), region: "eu"),
                "jobs": Queue(workers: 1000, handler: [Work(Const(ms: 1.0))], region: "eu"),
            }},
        )"#
    )
}

/// The end-to-end latency of [`network_model`]'s path, given the one-way hop means between
/// regions (`cross`), inside one (`same`) and the serialization per message (`ser`): client →
/// app crosses (the balancer adds no hop: the request goes straight to the backend it picked),
/// app → db → app stays in `us`, app → api → app crosses twice, the response to the client
/// crosses once, and the enqueue adds nothing to the request. Work: 2 + 3 + 5 ms.
fn network_path_ms(cross: f64, same: f64, ser: f64) -> f64 {
    4.0 * (cross + ser) + 2.0 * (same + ser) + 10.0
}

/// With constant latencies every request takes exactly the sum of its hops and its work:
/// 4 × 40.1 + 2 × 0.6 + 10 = 171.6 ms. The mean and the maximum are exact (integer nanoseconds,
/// the constants are whole numbers of them), the percentiles are bucket midpoints within 0.1%.
/// The components see their own part only: `app`'s sojourn is 2 + (0.6 + 3 + 0.6) +
/// (40.1 + 5 + 40.1) = 91.4 ms (from the moment its request arrived in `us`), `db`'s is 3 ms;
/// a task's latency runs from the enqueue, so it includes the us → eu message (40.1 ms) before
/// its 1 ms of work.
///
/// A balancer that counted as a network stop in `eu` would add a round trip of 2 × 0.6 ms, and
/// hops without serialization would take 6 × 0.1 ms off: both far outside 0.1%.
#[test]
fn const_network_latency_is_the_sum_of_the_hops() {
    let text = network_model(50.0, "Const(ms: 40.0)", "Const(ms: 0.5)", "Const(ms: 0.1)");
    let s = run1(&text, 32.0, 2.0, 11);
    let expected = network_path_ms(40.0, 0.5, 0.1);
    assert!((expected - 171.6).abs() < 1e-9);
    assert!(s.requests.completed.0 > 1000.0, "{:?}", s.requests);
    assert_eq!(s.requests.failed.0 + s.requests.dropped.0, 0.0);
    let l = &s.latency_ms;
    assert_close("const path: mean latency (ms)", l.mean, expected, 1e-6);
    assert_close("const path: max latency (ms)", l.max, expected, 1e-6);
    for (name, v) in [("p50", l.p50), ("p99", l.p99), ("p999", l.p999)] {
        assert_close(
            &format!("const path: {name} latency (ms)"),
            v,
            expected,
            1e-3 * expected,
        );
    }
    assert_close(
        "const path: app sojourn (ms)",
        comp(&s, "app").mean_sojourn_ms,
        2.0 + 2.0 * 0.6 + 3.0 + 2.0 * 40.1 + 5.0,
        1e-6,
    );
    assert_close(
        "const path: db sojourn (ms)",
        comp(&s, "db").mean_sojourn_ms,
        3.0,
        1e-6,
    );
    let task = comp(&s, "jobs")
        .task_latency_ms
        .as_ref()
        .expect("task latency");
    assert_close("const path: task latency (ms)", task.mean, 40.1 + 1.0, 1e-6);
}

/// With exponential hops (cross-region mean 40 ms, in-region 0.5 ms, serialization 0.1 ms per
/// message) the mean latency is still the sum of the means, 171.6 ms: latency is a sum of
/// independent draws (nothing queues).
///
/// Tolerance. A request's latency is 10 ms plus 4 cross hops and 2 in-region hops, each an
/// Exp link draw plus an Exp serialization draw, independent: its variance is
/// 4 (40² + 0.1²) + 2 (0.5² + 0.1²) = 6400.6 ms², sd 80.0 ms, CV 0.466. Requests are independent
/// (no queueing), so over N = 16 × 100/s × 60 s = 96 000 requests the relative SE is
/// 0.466/√96 000 = 0.15%; the cap is twice that. (The long window is for the Little's-law
/// check: `app`'s visits last ≈ 91 ms, and the ≈ 9 visits straddling each end of the window
/// move |L − λW|/L by ≈ √(2 E[age²]/L)/T ≈ 60 ms / T, 0.1% here: far from the 1% allowed,
/// which a 10 s window approached in the tail of the seeds.)
#[test]
fn exponential_network_latency_mean_is_the_sum_of_the_means() {
    let (rate, measured_s, reps) = (100.0, 60.0, REPS);
    let text = network_model(
        rate,
        "Exp(mean_ms: 40.0)",
        "Exp(mean_ms: 0.5)",
        "Exp(mean_ms: 0.1)",
    );
    let runs = replicate(&text, 1.0, measured_s + 2.0, 2.0, 100, reps);
    let expected = network_path_ms(40.0, 0.5, 0.1);
    let var = 4.0 * (40.0f64.powi(2) + 0.01) + 2.0 * (0.25 + 0.01);
    let n_total = rate * measured_s * reps as f64;
    let rel_se = var.sqrt() / expected / n_total.sqrt();
    assert_agrees(
        "Exp hops: mean latency (ms)",
        &values(&runs, |s| s.latency_ms.mean),
        expected,
        2.0 * rel_se,
        0.0,
    );
}

// ---------------------------------------------------------------------------------------------
// CDN
// ---------------------------------------------------------------------------------------------

/// Three regions with constant one-way latencies: us–eu 40 ms, us–ap 80 ms, eu–ap 120 ms, 1 ms
/// inside a region, no serialization. The origin `app` runs in `eu` and works 5 ms.
const CDN_NETWORK: &str = r#"network: Network(
        regions: ["us", "eu", "ap"],
        same_region: Const(ms: 1.0),
        links: [
            ("us", "eu", Const(ms: 40.0)),
            ("us", "ap", Const(ms: 80.0)),
            ("eu", "ap", Const(ms: 120.0)),
        ],
    ),"#;

/// One-way hop between the regions of [`CDN_NETWORK`].
fn cdn_hop(a: &str, b: &str) -> f64 {
    match (a.min(b), a.max(b)) {
        (x, y) if x == y => 1.0,
        ("eu", "us") => 40.0,
        ("ap", "us") => 80.0,
        ("ap", "eu") => 120.0,
        _ => unreachable!("unknown regions {a} {b}"),
    }
}

/// A model of [`CDN_NETWORK`] with clients in `clients` (`(region, share)`), a `static` class
/// (weight 0.8, `keys` over `n` keys) entering `static_entry` and an `api` class (weight 0.2)
/// entering the origin directly. The CDN has an edge in each of `edges`, holding `capacity` keys
/// (LRU), answering hits in 1 ms.
fn cdn_model(
    rate: f64,
    clients: &[(&str, f64)],
    static_entry: &str,
    n: u64,
    edges: &[&str],
    capacity: Option<u64>,
) -> String {
    let clients = clients
        .iter()
        .map(|(r, s)| format!("(region: \"{r}\", share: {s:?})"))
        .collect::<Vec<_>>()
        .join(", ");
    let cap = capacity.map_or(String::new(), |c| format!(", capacity: {c}"));
    let edges = edges
        .iter()
        .map(|r| format!("Edge(region: \"{r}\"{cap})"))
        .collect::<Vec<_>>()
        .join(", ");
    format!(
        r#"Model(
            name: "cdn {static_entry}",
            workload: Workload(
                arrival: Poisson(rate: {rate:?}),
                classes: [
                    (name: "static", weight: 0.8, entry: "{static_entry}", keys: Uniform(n: {n})),
                    (name: "api", weight: 0.2, entry: "app"),
                ],
                clients: [{clients}],
            ),
            {CDN_NETWORK}
            components: {{
                "cdn": Cdn(edges: [{edges}], hit: Const(ms: 1.0), origin: "app"),
                "app": Server(workers: 1000, region: "eu", handler: [Work(Const(ms: 5.0))]),
            }},
        )"#
    )
}

/// Clients in `ap`, edges in `eu` and `us`: the edge with the fastest link from `ap` is `us`
/// (80 ms against 120 ms). With 20 keys, all fetched during the 10 s warm-up (each key is
/// requested 2 times a second; the chance that one is never requested is e^−20), every
/// measured static request is a hit at the `us` edge and takes exactly its round trip plus the
/// hit time: 2 × 80 + 1 = 161 ms, not the 2 × 120 + 1 = 241 ms of the `eu` edge nor anything
/// involving the origin. The api class goes to the origin in `eu`: 2 × 120 + 5 = 245 ms.
#[test]
fn cdn_hits_see_the_nearest_edges_round_trip() {
    let text = cdn_model(50.0, &[("ap", 1.0)], "cdn", 20, &["eu", "us"], None);
    let s = run1(&text, 30.0, 10.0, 21);
    let cdn = comp(&s, "cdn");
    let us = cdn.edges.get("us").expect("us edge");
    let eu = cdn.edges.get("eu").expect("eu edge");
    assert_eq!(
        eu.throughput_rps, 0.0,
        "no client is nearest to the eu edge"
    );
    assert_eq!(us.hit_ratio, 1.0, "every key was cached during the warm-up");
    // Lookups in the window against responses to the requests that arrived in it: the two
    // differ by the requests travelling at either end (40/s × 80 ms ≈ 3 each), < 1 rps here.
    assert_close(
        "CDN: us edge lookups = static throughput (rps)",
        us.throughput_rps,
        class(&s, "static").throughput_rps,
        1.0,
    );
    let hit_rtt = 2.0 * cdn_hop("ap", "us") + 1.0;
    assert!((hit_rtt - 161.0).abs() < 1e-12);
    let st = class(&s, "static");
    assert_close(
        "CDN hit: static mean latency (ms)",
        st.latency_ms.mean,
        hit_rtt,
        1e-6,
    );
    assert_close(
        "CDN hit: static p99 latency (ms)",
        st.latency_ms.p99,
        hit_rtt,
        1e-3 * hit_rtt,
    );
    let api = class(&s, "api");
    assert_close(
        "CDN: api mean latency (ms)",
        api.latency_ms.mean,
        2.0 * cdn_hop("ap", "eu") + 5.0,
        1e-6,
    );
    // The origin serves the api class only (no static request missed in the window).
    assert_close(
        "CDN: origin throughput = api throughput (rps)",
        comp(&s, "app").throughput_rps,
        api.throughput_rps,
        0.5,
    );
}

/// What an LRU edge of capacity C over n uniformly requested keys should do. Under independent
/// uniform requests the edge, once full, always holds C keys and the next request's key is
/// independent of which, so each lookup hits with probability exactly h = C/n. A miss calls the
/// origin and stores the key after the fill time D (edge → origin → edge); the edge coalesces
/// concurrent misses, so requests for the same key during those D ms wait for that fill instead
/// of calling the origin: a missing lookup rate λ_e(1 − h) splits into leaders (calls to the
/// origin) with x = λ_e D / n followers each on average (Poisson arrivals of that key during D),
/// so origin calls = λ_e (1 − h) / (1 + x). A follower arrives uniformly within its leader's
/// fill and waits D/2 on average.
struct EdgeTheory {
    /// Static lookups per second at the edge.
    lambda: f64,
    /// Fill time of a miss, ms.
    fill_ms: f64,
    /// Round trip from the clients to the edge plus the hit time, ms.
    hit_ms: f64,
}

impl EdgeTheory {
    fn followers(&self, n: f64) -> f64 {
        self.lambda * self.fill_ms / 1e3 / n
    }
    /// Origin calls per second.
    fn origin_rps(&self, h: f64, n: f64) -> f64 {
        self.lambda * (1.0 - h) / (1.0 + self.followers(n))
    }
    /// Mean static latency, ms.
    fn mean_latency_ms(&self, h: f64, n: f64) -> f64 {
        let x = self.followers(n);
        self.hit_ms + (1.0 - h) * self.fill_ms * (1.0 + x / 2.0) / (1.0 + x)
    }
}

/// Clients half in `ap`, half in `us`, edges in `ap` and `us` (each region's clients use their
/// own edge), the origin in `eu`. 500 requests/s: 200 static lookups/s at each edge over n = 5000
/// keys with C = 2500 per edge, and 100 api requests/s straight to the origin.
///
/// Warm-up: an edge is full once it has seen C distinct keys, after n ln(n/(n−C)) = 3466
/// lookups, 17 s at 200/s; the warm-up is 40 s.
///
/// Checks, over one run with a 60 s window (12 000 lookups per edge):
/// - each edge's hit ratio is C/n = 0.5 (lookups are independent Bernoulli(h) trials: 5σ
///   binomial band, ±0.023);
/// - the identity: origin throughput = api throughput + Σ edges lookup rate × (1 − hit ratio)
///   / (1 + x), with the measured rates and hit ratios (x = 0.98% at the ap edge, D = 245 ms;
///   0.34% at us, D = 85 ms). What is left random: the number of followers (Poisson, ≈ 59 + 20
///   over the window, sd 0.15 rps) and the fills that straddle the window's ends (≈ 33 misses
///   in flight at each end, sd ≈ 0.14 rps): within 1 rps (5σ). Without the coalescing term the
///   identity would be off by 1.3 rps;
/// - the same with theory's h = C/n: within 5σ of the Poisson-binomial count of misses.
#[test]
fn cdn_origin_load_is_the_static_rate_times_the_miss_ratio() {
    let (n, c) = (5000u64, 2500u64);
    let text = cdn_model(
        500.0,
        &[("ap", 0.5), ("us", 0.5)],
        "cdn",
        n,
        &["ap", "us"],
        Some(c),
    );
    let measured_s = 60.0;
    let s = run1(&text, 40.0 + measured_s, 40.0, 31);
    let cdn = comp(&s, "cdn");
    let h = c as f64 / n as f64;
    let api = class(&s, "api").throughput_rps;
    let mut identity = api;
    let mut theory = 100.0;
    for region in ["ap", "us"] {
        let e = cdn.edges.get(region).expect("edge");
        let lookups = e.throughput_rps * measured_s;
        assert_binomial(
            &format!("CDN edge {region}: hit ratio = C/n"),
            e.hit_ratio * lookups,
            lookups,
            h,
        );
        let th = EdgeTheory {
            lambda: 200.0,
            fill_ms: 2.0 * cdn_hop(region, "eu") + 5.0,
            hit_ms: 3.0,
        };
        let measured = EdgeTheory {
            lambda: e.throughput_rps,
            ..th
        };
        identity += measured.origin_rps(e.hit_ratio, n as f64);
        theory += th.origin_rps(h, n as f64);
    }
    let origin = comp(&s, "app").throughput_rps;
    assert_close(
        "CDN: origin throughput = api + Σ edge rate × (1 − edge hit ratio) (measured rates)",
        origin,
        identity,
        1.0,
    );
    // Origin visits over the window: 6000 api (Poisson, sd 77) + 2 × ~6000 misses (sd ≈ √(12000
    // × 0.5) = 77 each with the Poisson lookup counts), sd ≈ 134 visits = 2.2 rps.
    assert_close(
        "CDN: origin throughput, theory h = C/n (rps)",
        origin,
        theory,
        5.0 * 2.2,
    );
}

/// The same CDN with all clients in one region, against a second model where the static
/// requests go straight to the origin. With n = 5000 keys, C = 2500 (h = 0.5), 400 static
/// lookups/s at one edge (warm-up 40 s ≥ 4 × the 8.7 s fill). Every number is deterministic
/// but for the hit/miss draws, so the mean static latency is
/// `hit_ms + (1 − h) · D · (1 + x/2)/(1 + x)` (see [`EdgeTheory`]) with a binomial spread: a
/// lookup's latency is hit_ms or hit_ms + D (followers in between), sd ≈ D/2, so over 24 000
/// lookups the SE is D/310; the band is 5 SE.
///
/// - Clients in `ap` (far from the origin in `eu`; their edge is in `ap`): 3 + 0.5 × 245 ≈ 125 ms
///   through the CDN against 2 × 120 + 5 = 245 ms direct.
/// - Clients in `eu`, next to the origin, with edges only in `ap` and `us`: their nearest edge
///   is `us` (40 ms), so the CDN costs 81 + 0.5 × 85 ≈ 123 ms against 7 ms direct.
///
/// Both latencies are reported (non-zero, for the same class) in both models.
#[test]
fn cdn_lowers_latency_for_far_clients_only() {
    let (n, c) = (5000u64, 2500u64);
    let h = c as f64 / n as f64;
    let measured_s = 60.0;
    for (region, edge) in [("ap", "ap"), ("eu", "us")] {
        let with = cdn_model(500.0, &[(region, 1.0)], "cdn", n, &["ap", "us"], Some(c));
        let without = cdn_model(500.0, &[(region, 1.0)], "app", n, &["ap", "us"], Some(c));
        let sw = run1(&with, 40.0 + measured_s, 40.0, 41);
        let so = run1(&without, 40.0 + measured_s, 40.0, 41);
        let th = EdgeTheory {
            lambda: 400.0,
            fill_ms: 2.0 * cdn_hop(edge, "eu") + 5.0,
            hit_ms: 2.0 * cdn_hop(region, edge) + 1.0,
        };
        let lat_with = class(&sw, "static").latency_ms.mean;
        let lat_without = class(&so, "static").latency_ms.mean;
        let lookups = 400.0 * measured_s;
        assert_close(
            &format!("CDN, clients in {region}: static latency via edge {edge} (ms)"),
            lat_with,
            th.mean_latency_ms(h, n as f64),
            5.0 * th.fill_ms / 2.0 / lookups.sqrt(),
        );
        let direct = 2.0 * cdn_hop(region, "eu") + 5.0;
        assert_close(
            &format!("CDN, clients in {region}: static latency direct to the origin (ms)"),
            lat_without,
            direct,
            1e-6,
        );
        assert!(lat_with > 0.0 && lat_without > 0.0);
        if region == "ap" {
            assert!(
                lat_with < 0.6 * lat_without,
                "far clients: the CDN ({lat_with} ms) must beat the origin ({lat_without} ms)"
            );
        } else {
            assert!(
                lat_with > lat_without,
                "clients next to the origin gain nothing from a distant edge"
            );
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Browser caches
// ---------------------------------------------------------------------------------------------

/// Poisson requests from `population` browsers (each request from one at random), one class
/// with `max_age_s`, no key (one shared resource), into a server answering in 0 ms, without a
/// network: a browser's copy is stamped at its request's arrival instant.
fn browser_model(rate: f64, population: u32, max_age_s: f64) -> String {
    format!(
        r#"Model(
            name: "browser cache max_age={max_age_s}",
            workload: Workload(
                arrival: Poisson(rate: {rate:?}),
                population: {population},
                classes: [(name: "page", weight: 1.0, entry: "web", max_age_s: {max_age_s:?})],
            ),
            components: {{
                "web": Server(workers: 64, handler: [Work(Const(ms: 0.0))]),
            }},
        )"#
    )
}

/// Each of P browsers sends a Poisson stream of rate λ/P. A browser's copy is fresh for A
/// seconds after a fetch, and browser hits do not refresh it: a renewal cycle is one fetch, A
/// seconds during which every request (Poisson(λA/P) of them) is a browser hit, then an
/// exponential wait for the next request, which fetches. So h = x/(1 + x), x = λA/P, the TTL
/// formula of a single cache key ([`q::ttl_single_key_hit_ratio`]). With P = 100 and λ =
/// 200/s: A = 0.25, 1, 4 s give h = 1/3, 2/3, 8/9.
fn browser_theory(rate: f64, population: u32, max_age_s: f64) -> f64 {
    let x = rate * max_age_s / f64::from(population);
    let h = q::ttl_single_key_hit_ratio(rate / f64::from(population), max_age_s);
    assert!((h - x / (1.0 + x)).abs() < 1e-12);
    h
}

/// The shape: with 100 browsers the browser hit ratio is clearly positive and rises with
/// `max_age_s` (1/3, 2/3, 8/9 in theory, [`browser_theory`]; one run each of 4000 measured
/// requests, whose ratios are ≥ 30 SE apart), while with 4·10⁹ browsers the same traffic
/// almost never repeats a browser within A (x = 2·10⁻⁷): h ≈ 0. The exact values are checked
/// by [`browser_hit_ratio_is_the_renewal_formula`].
#[test]
fn browser_hit_ratio_rises_with_max_age_and_vanishes_with_many_clients() {
    let (rate, population) = (200.0, 100u32);
    let mut previous = 0.0;
    for (i, max_age) in [0.25, 1.0, 4.0].into_iter().enumerate() {
        let s = run1(
            &browser_model(rate, population, max_age),
            40.0,
            20.0,
            200 + i as u64,
        );
        let h = class(&s, "page")
            .browser_hit_ratio
            .expect("browser hit ratio");
        let theory = browser_theory(rate, population, max_age);
        println!("browser cache P={population} A={max_age}s: hit ratio {h} (theory {theory})");
        assert!(
            h > previous + 0.1,
            "the hit ratio must rise with max_age_s: {h}"
        );
        assert!((h - theory).abs() < 0.05, "{h} far from {theory}");
        // A browser hit is answered at once, without reaching the server.
        let web = comp(&s, "web").throughput_rps;
        assert!((web - (1.0 - h) * s.throughput_rps).abs() < 0.02 * s.throughput_rps);
        previous = h;
    }
    let s = run1(&browser_model(rate, 4_000_000_000, 4.0), 40.0, 20.0, 210);
    let h = class(&s, "page")
        .browser_hit_ratio
        .expect("browser hit ratio");
    println!("browser cache P=4e9 A=4s: hit ratio {h}");
    assert!(
        h < 1e-3,
        "a huge population has (almost) no browser hits: {h}"
    );
}

/// P(Gamma(k, scale) ≤ x) for a whole shape k: 1 − e^{−y} Σ_{i<k} yⁱ/i!, y = x/scale.
fn gamma_cdf(x: f64, k: u32, scale: f64) -> f64 {
    if x <= 0.0 {
        return 0.0;
    }
    let y = x / scale;
    let (mut term, mut below) = ((-y).exp(), 0.0);
    for i in 0..k {
        below += term;
        term *= y / f64::from(i + 1);
    }
    (1.0 - below).max(0.0)
}

/// The expected browser hit ratio over the window [w, T) of a run whose browsers all start
/// empty at t = 0, as in the simulation. A browser's fetches are renewal epochs: the first at
/// its first request, D ~ Exp(λ/P), then each a cycle later, a cycle being A + Exp(P/λ) (the
/// copy's age limit, then the wait for the next request). So the k-th fetch is at
/// A(k − 1) + Gamma(k, P/λ), and the expected fetches in the window are
/// Σ_k P(w ≤ S_k < T), out of λ/P · (T − w) requests per browser.
///
/// Cycles of A = 4 s with an exponential part of 0.5 s are so regular that a 20 s warm-up (4
/// cycles) does not reach the stationary phase mix: over [20, 40) this gives 0.89097 against
/// the stationary 8/9 = 0.88889, a difference 5× the SE. For A = 0.25 and 1 s the two agree
/// to 10⁻¹¹.
fn browser_window_theory(rate: f64, population: u32, max_age_s: f64, w: f64, t: f64) -> f64 {
    let per_browser = rate / f64::from(population);
    let scale = 1.0 / per_browser;
    let mut fetches = 0.0;
    let mut k = 1u32;
    while max_age_s * f64::from(k - 1) < t {
        let shift = max_age_s * f64::from(k - 1);
        fetches += gamma_cdf(t - shift, k, scale) - gamma_cdf(w - shift, k, scale);
        k += 1;
    }
    1.0 - fetches / (per_browser * (t - w))
}

/// The exact browser hit ratio for A = 0.25, 1, 4 s over the window [20, 40) s:
/// [`browser_window_theory`], which is the stationary [`browser_theory`] for the first two.
///
/// Tolerance: the renewal-reward delta method gives Var(ĥ) = x / (N (1 + x)³) for N requests
/// (as for the TTL cache); N = 16 × 200/s × 20 s = 64 000; the cap is 2× that SE (0.08%–0.4% of
/// h).
///
/// Power: if browsers started the window empty (not filled during the warm-up, as an earlier
/// engine did), the same formula over [0, 20) gives 0.33194, 0.66111 and 0.87749 (that engine
/// measured 0.3305, 0.6616 and 0.8771): 1.4, 5.6 and 13 ×10⁻³ below, 2–25× the tolerance.
#[test]
fn browser_hit_ratio_is_the_renewal_formula() {
    let (rate, population, measured_s, warmup_s) = (200.0, 100u32, 20.0, 20.0);
    let duration_s = warmup_s + measured_s;
    for (i, max_age) in [0.25, 1.0, 4.0].into_iter().enumerate() {
        let runs = replicate(
            &browser_model(rate, population, max_age),
            1.0,
            duration_s,
            warmup_s,
            220 + 20 * i as u64,
            REPS,
        );
        let x = rate * max_age / f64::from(population);
        let stationary = browser_theory(rate, population, max_age);
        let h = browser_window_theory(rate, population, max_age, warmup_s, duration_s);
        if max_age <= 1.0 {
            assert!((h - stationary).abs() < 1e-9, "{h} vs {stationary}");
        }
        let n_total = rate * measured_s * REPS as f64;
        let se = (x / (n_total * (1.0 + x).powi(3))).sqrt();
        assert_agrees(
            &format!(
                "browser cache P={population} A={max_age}s: hit ratio (stationary {stationary:.5})"
            ),
            &values(&runs, |s| {
                class(s, "page")
                    .browser_hit_ratio
                    .expect("browser hit ratio")
            }),
            h,
            2.0 * se / h,
            0.0,
        );
    }
    // The formula itself, against the values quoted above.
    let cold = |a: f64| browser_window_theory(rate, population, a, 0.0, measured_s);
    assert!((cold(1.0) - 0.661_111).abs() < 1e-6 && (cold(4.0) - 0.877_493).abs() < 1e-6);
    assert!(
        (browser_window_theory(rate, population, 4.0, warmup_s, duration_s) - 0.890_973).abs()
            < 1e-6
    );
}

/// The warm-up fills browser caches like every other cache. With max_age 1000 s (longer than
/// the run) and 100 browsers sending 2 requests/s each, every browser has fetched during the
/// 10 s warm-up (the chance that one has not is e^−20), so every measured request is a browser
/// hit: h = 1 exactly. A simulator that stamped browsers only for measured requests would make
/// each browser's first measured request a fetch: h = 1 − 100/2000 = 0.95.
#[test]
fn browser_caches_fill_during_the_warm_up() {
    let s = run1(&browser_model(200.0, 100, 1000.0), 20.0, 10.0, 270);
    let h = class(&s, "page")
        .browser_hit_ratio
        .expect("browser hit ratio");
    println!("browser cache A=1000s after a 10 s warm-up: hit ratio {h}");
    assert_eq!(h, 1.0, "every browser fetched during the warm-up");
}

// ---------------------------------------------------------------------------------------------
// Background queues
// ---------------------------------------------------------------------------------------------

/// 3000 requests/s into `app` (64 workers, 1 ms constant work, then an enqueue onto `jobs`),
/// and `jobs` with `workers` workers of Exp(`mean_ms`).
fn decoupled_model(workers: u32, mean_ms: f64) -> String {
    format!(
        r#"Model(
            name: "decoupled mean={mean_ms}",
            workload: Workload(arrival: Poisson(rate: 3000.0), entry: "app"),
            components: {{
                "app": Server(workers: 64, handler: [Work(Const(ms: 1.0)), Enqueue("jobs")]),
                "jobs": Queue(workers: {workers}, handler: [Work(Exp(mean_ms: {mean_ms:?}))]),
            }},
        )"#
    )
}

/// The request path only enqueues, so its latency is its own 1 ms, whatever the queue's workers
/// do: with 2 workers of 1 ms (capacity cμ = 2000 tasks/s < λ = 3000/s, overloaded) and of
/// 0.1 ms (10× faster, ρ = 0.15) the request latency is exactly 1 ms in both (64 workers at a
/// load of 3 busy: 65 arrivals within one 1 ms service never happen; with 16 workers, 17
/// arrivals within 1 ms, at ~10⁻⁸ a window, did show up once in 1300 runs).
///
/// The overloaded queue's backlog grows at λ − cμ = 1000 tasks/s from the start: at the end of
/// a run of T seconds it holds (λ − cμ) T − c on average (c tasks are in service, not waiting),
/// with variance ≈ (λ + cμ) T (arrivals and departures are Poisson counts). The test compares
/// backlog / T, for T = 5 and 10 s, with λ − cμ: per run the relative sd is √((λ+cμ)/T)/(λ − cμ)
/// = 3.2% and 2.2%, so over 16 replications 0.8% and 0.56%; caps 2× that.
///
/// Task latency. A task enqueued at t waits for the Q(t) ≈ (λ − cμ) t tasks ahead of it, which
/// leave at cμ, so its latency is ≈ (λ − cμ) t / (cμ) + 1/μ. Only tasks done by T are
/// reported: those enqueued before t* = (T − 1/μ) cμ/λ. Over the window [w, t*] the mean is
/// (λ − cμ)/(cμ) · (w + t*)/2 + 1/μ (1.08 s for T = 5, 1.92 s for T = 10, w = 1). Exactly, a
/// task waits for Q(t) + 1 departures at cμ, so E[latency] = ((λ − cμ)t − c + 1)/cμ + 1/μ: the
/// fluid value is 0.5 ms high, and the tasks near t* that finish by T are the quicker ones (a
/// boundary ~70 ms wide out of ~5 s): the floor is 0.5%. Noise: the backlog's random walk, sd
/// √((λ + cμ) t)/cμ ≈ 56–80 ms at mid-window, partly averaged over the window, ≈ 3% per
/// run, 0.75% over 16; cap 2%.
/// The fast queue's tasks take ≈ 0.1 ms (M/M/2 at ρ = 0.15): they do not grow.
#[test]
fn enqueuing_decouples_requests_from_a_slow_overloaded_queue() {
    let (lambda, c, mu) = (3.0, 2u32, 1.0); // per ms
    let spare = lambda - f64::from(c) * mu;
    let warmup_s = 1.0;
    let fast = run1(&decoupled_model(c, 0.1), 10.0, warmup_s, 300);
    let mut slow_latency = 0.0;
    for (i, duration_s) in [5.0, 10.0].into_iter().enumerate() {
        let runs = replicate_overloaded(
            &decoupled_model(c, 1.0),
            duration_s,
            warmup_s,
            310 + 20 * i as u64,
            REPS,
        );
        for s in &runs {
            assert_close(
                "overloaded queue: request latency (ms)",
                s.latency_ms.mean,
                1.0,
                1e-6,
            );
            assert_eq!(s.requests.dropped.0, 0.0);
            assert_eq!(comp(s, "jobs").tasks_dropped.expect("tasks_dropped").0, 0.0);
        }
        let per_s = 1e3 * spare;
        let rel_sd = ((1e3 * (lambda + f64::from(c) * mu)) / duration_s).sqrt() / per_s;
        assert_agrees(
            &format!("overloaded queue: backlog / T = λ − cμ (T = {duration_s} s, tasks/s)"),
            &values(&runs, |s| {
                (comp(s, "jobs").backlog.expect("backlog").0 + f64::from(c)) / duration_s
            }),
            per_s,
            2.0 * rel_sd / (REPS as f64).sqrt(),
            0.0,
        );
        let t_star = (duration_s * 1e3 - 1.0 / mu) * f64::from(c) * mu / lambda;
        let fluid = spare / (f64::from(c) * mu) * (warmup_s * 1e3 + t_star) / 2.0 + 1.0 / mu;
        let latencies = values(&runs, |s| {
            comp(s, "jobs")
                .task_latency_ms
                .as_ref()
                .expect("task latency")
                .mean
        });
        assert_agrees(
            &format!("overloaded queue: task latency, fluid limit (T = {duration_s} s, ms)"),
            &latencies,
            fluid,
            0.02,
            0.005,
        );
        let mean = latencies.iter().sum::<f64>() / latencies.len() as f64;
        assert!(
            mean > slow_latency,
            "task latency grows with the run length"
        );
        slow_latency = mean;
    }
    assert_close(
        "fast queue: request latency (ms)",
        fast.latency_ms.mean,
        1.0,
        1e-6,
    );
    let fast_task = comp(&fast, "jobs")
        .task_latency_ms
        .as_ref()
        .expect("task latency")
        .mean;
    let fast_backlog = comp(&fast, "jobs").backlog.expect("backlog").0;
    println!("fast queue: task latency {fast_task} ms, backlog {fast_backlog}");
    assert!(fast_task < 0.2, "the fast queue keeps up: {fast_task} ms");
    assert!(
        fast_backlog < 20.0,
        "the fast queue keeps up: backlog {fast_backlog}"
    );
    assert!(slow_latency > 1000.0 * fast_task);
}

/// Poisson requests at 2100/s into a server that only enqueues (no work: the tasks arrive as the
/// requests do, a Poisson stream), and a queue of c = 3 workers of Exp(1 ms): M/M/3 at ρ = 0.7.
/// Mean task latency = C(3, 2.1)/(3μ − λ) + 1/μ (Erlang C), the queue's mean wait the first
/// term and its utilization ρ.
///
/// Caps, for 16 replications of a 10 s window (N = 336 000 tasks). The M/M/1 value at the same
/// load, √(2(1+ρ)/N)/(1−ρ) = 1.06%, bounds the relative SE of an M/M/c mean sojourn from above
/// (c servers relax about c times faster); measured over 200 runs of this model, a run's
/// relative sd is 2.8% for the mean latency and 7.3% for the mean wait, an SE over 16 of 0.70%
/// and 1.8% (the wait holds nearly all the sojourn's noise). Caps 2× those: 1.4% and 3.6%.
/// Utilization: absolute SE ≈ ρ√(2/N) at most (as for M/M/1; measured 0.0016), cap 2×.
#[test]
fn queue_with_poisson_tasks_is_mmc() {
    let (lambda, mu, c) = (2.1, 1.0, 3u32);
    let measured_s = 10.0;
    let text = r#"Model(
        name: "M/M/3 queue",
        workload: Workload(arrival: Poisson(rate: 2100.0), entry: "app"),
        components: {
            "app": Server(workers: 64, handler: [Enqueue("jobs")]),
            "jobs": Queue(workers: 3, handler: [Work(Exp(mean_ms: 1.0))]),
        },
    )"#;
    let runs = replicate(text, 1.0, measured_s + 1.0, 1.0, 400, REPS);
    let rho = lambda / (f64::from(c) * mu);
    let n_total = 1e3 * lambda * measured_s * REPS as f64;
    let wq = q::mmc_mean_wait(lambda, mu, c).unwrap();
    assert_agrees(
        "M/M/3 queue: mean task latency (ms)",
        &values(&runs, |s| {
            comp(s, "jobs")
                .task_latency_ms
                .as_ref()
                .expect("task latency")
                .mean
        }),
        wq + 1.0 / mu,
        0.014,
        0.0,
    );
    assert_agrees(
        "M/M/3 queue: mean wait (ms)",
        &values(&runs, |s| comp(s, "jobs").mean_wait_ms),
        wq,
        0.036,
        0.0,
    );
    assert_agrees(
        "M/M/3 queue: utilization",
        &values(&runs, |s| comp(s, "jobs").utilization),
        rho,
        2.0 * (2.0 / n_total).sqrt(),
        0.0,
    );
}

/// 3000 requests/s into `app` (64 workers, 0.05 ms of work, then an enqueue), a queue of c = 2
/// workers of Exp(1 ms) (cμ = 2000/s) holding at most `capacity` waiting tasks.
fn backpressure_model(capacity: u32, when_full: &str) -> String {
    format!(
        r#"Model(
            name: "queue {when_full} capacity={capacity}",
            workload: Workload(arrival: Poisson(rate: 3000.0), entry: "app"),
            components: {{
                "app": Server(workers: 64, handler: [Work(Const(ms: 0.05)), Enqueue("jobs")]),
                "jobs": Queue(workers: 2, handler: [Work(Exp(mean_ms: 1.0))], capacity: {capacity}, when_full: {when_full}),
            }},
        )"#
    )
}

/// Stationary probability that an M/M/c/N system (N places in all) is full: the loss fraction
/// of arrivals (PASTA). Birth–death: p_n ∝ a^n/n! for n ≤ c, a^c/c! (a/c)^{n−c} above.
fn mmcn_full(lambda: f64, mu: f64, c: u32, n: u32) -> f64 {
    let a = lambda / mu;
    let mut p = 1.0;
    let mut weights = vec![p];
    for k in 1..=n {
        p *= a / f64::from(k.min(c));
        weights.push(p);
    }
    weights[n as usize] / weights.iter().sum::<f64>()
}

/// `when_full: Block` against `Drop`, offered 3000 tasks/s with capacity cμ = 2000/s and 10
/// waiting places.
///
/// - Block: a producer whose task finds the queue full waits (holding its worker) until a place
///   opens, so the queue never loses a task and never idles, and the producer's visits end at
///   the queue's rate: `app` throughput = cμ = 2000/s (the queue's departures are a Poisson
///   stream while it is busy: over 5 s, sd √10 000/5 = 20/s; 5σ = 5%), and nothing is dropped.
///   Requests pile up at the producers instead. (The run's own `throughput_rps` counts only
///   requests that arrived in the window, which first wait behind the ~1000 that piled up
///   during the warm-up: it is cμ − 1000/5 s, so the component's throughput is the measure.)
/// - Drop: producers are unaffected (throughput 3000/s: a Poisson count, 5σ band; latency
///   exactly their 0.05 ms) and the queue drops the excess: the fraction of tasks dropped is
///   the M/M/2/12 loss probability (PASTA), 0.3355. Over 16 replications of 5 s: a run's
///   dropped fraction has a relative sd of 2.3% (measured over 300 runs: the losses come in
///   bursts while the queue sits at its top), so the SE is ≈ 0.58%; cap 1.2%.
#[test]
fn block_propagates_back_pressure_and_drop_sheds_tasks() {
    let (lambda, mu, c, cap) = (3.0, 1.0, 2u32, 10u32);
    let (duration_s, warmup_s) = (6.0, 1.0);
    let measured_s = duration_s - warmup_s;
    let b = run_overloaded(&backpressure_model(cap, "Block"), duration_s, warmup_s, 500);
    assert_close(
        "Block: producer throughput = cμ (rps)",
        comp(&b, "app").throughput_rps,
        2000.0,
        5.0 * (2000.0 * measured_s).sqrt() / measured_s,
    );
    assert!((comp(&b, "jobs").throughput_rps - comp(&b, "app").throughput_rps).abs() < 3.0);
    assert_eq!(
        comp(&b, "jobs").tasks_dropped.expect("tasks_dropped").0,
        0.0
    );
    assert_eq!(b.requests.dropped.0, 0.0);
    assert!(
        comp(&b, "jobs").utilization > 0.999,
        "a blocked queue never idles"
    );
    assert!(
        b.requests.in_flight.0 > 0.5 * (1e3 * lambda - 2000.0) * measured_s,
        "the excess waits at the producers: {:?}",
        b.requests
    );

    let drops = replicate(
        &backpressure_model(cap, "Drop"),
        1.0,
        duration_s,
        warmup_s,
        520,
        REPS,
    );
    for d in &drops {
        assert_close(
            "Drop: producer throughput = λ (rps)",
            comp(d, "app").throughput_rps,
            3000.0,
            5.0 * (3000.0 * measured_s).sqrt() / measured_s,
        );
        assert_close("Drop: producer latency (ms)", d.latency_ms.mean, 0.05, 1e-6);
        assert_eq!(
            d.requests.dropped.0, 0.0,
            "a dropped task does not fail its request"
        );
    }
    let p_full = mmcn_full(lambda, mu, c, c + cap);
    assert!((p_full - 0.335_488).abs() < 1e-6);
    assert_agrees(
        "Drop: fraction of tasks dropped = M/M/2/12 loss",
        &values(&drops, |d| {
            comp(d, "jobs").tasks_dropped.expect("tasks_dropped").0 / d.requests.arrived.0
        }),
        p_full,
        0.012,
        0.0,
    );
}

/// A queue with no waiting room (`capacity: 0`) and `Block`: a producer waits until a worker is
/// free and hands its task over directly. The workers never idle while producers wait, so the
/// throughput is cμ = 2000/s as with waiting room.
#[test]
fn block_with_no_waiting_room_hands_tasks_to_free_workers() {
    let (duration_s, warmup_s) = (6.0, 1.0);
    let measured_s = duration_s - warmup_s;
    let b = run_overloaded(&backpressure_model(0, "Block"), duration_s, warmup_s, 510);
    println!("Block capacity 0: {:?}", b.requests);
    assert_close(
        "Block, capacity 0: producer throughput = cμ (rps)",
        comp(&b, "app").throughput_rps,
        2000.0,
        5.0 * (2000.0 * measured_s).sqrt() / measured_s,
    );
    assert_eq!(
        comp(&b, "jobs").tasks_dropped.expect("tasks_dropped").0,
        0.0
    );
}

// ---------------------------------------------------------------------------------------------
// Fan-out
// ---------------------------------------------------------------------------------------------

/// A server whose handler is one `Parallel` of `n` branches, each a call: to `n` separate
/// servers of Exp(10 ms) (`separate`), or all to one external API of Exp(10 ms) latency and
/// unbounded concurrency. 100 requests/s: nothing ever queues (1000 workers everywhere).
fn fanout_model(n: u32, separate: bool) -> String {
    let target = |i: u32| {
        if separate {
            format!("b{i}")
        } else {
            "api".to_string()
        }
    };
    let branches = (0..n)
        .map(|i| format!("[Call(\"{}\")]", target(i)))
        .collect::<Vec<_>>()
        .join(", ");
    let backends = if separate {
        (0..n)
            .map(|i| {
                format!("\"b{i}\": Server(workers: 1000, handler: [Work(Exp(mean_ms: 10.0))]),\n")
            })
            .collect::<String>()
    } else {
        "\"api\": ExternalApi(latency: Exp(mean_ms: 10.0)),\n".to_string()
    };
    format!(
        r#"Model(
            name: "fan-out {n} separate={separate}",
            workload: Workload(arrival: Poisson(rate: 100.0), entry: "app"),
            components: {{
                "app": Server(workers: 1000, handler: [Parallel(branches: [{branches}])]),
                {backends}
            }},
        )"#
    )
}

/// On an idle system a fan-out to N independent Exp(m) calls ends with the slowest: its mean is
/// E[max] = m H_N (Rényi: the gaps between order statistics are independent Exp of means m/N,
/// m/(N−1), …, m), whose variance is m² Σ_{k≤N} 1/k². Requests are independent (no queueing),
/// so over N_r = 16 × 100/s × 30 s = 48 000 requests the relative SE is
/// √(Σ 1/k²)/(H_N √N_r): 0.46% (N = 1) to 0.19% (N = 10); cap 2×. (A 30 s window: each
/// backend holds L ≈ 1 visit of 10 ms, and with a 10 s window the visits straddling the
/// window's ends pushed Little's-law check past its 1% in ~1 in 5000 component-runs.)
#[test]
fn parallel_fan_out_waits_for_the_slowest_of_n() {
    let (measured_s, mean) = (30.0, 10.0);
    for separate in [true, false] {
        for n in [1u32, 2, 5, 10] {
            let runs = replicate(
                &fanout_model(n, separate),
                1.0,
                measured_s + 1.0,
                1.0,
                600 + u64::from(n) + if separate { 50 } else { 0 },
                REPS,
            );
            let expected = q::expected_max_of_exponentials(n, mean);
            assert!((expected - mean * q::harmonic(n)).abs() < 1e-12);
            let sd = mean * (1..=n).map(|k| 1.0 / f64::from(k * k)).sum::<f64>().sqrt();
            let n_total = 100.0 * measured_s * REPS as f64;
            assert_agrees(
                &format!("fan-out N={n} separate={separate}: mean latency = m·H_N (ms)"),
                &values(&runs, |s| s.latency_ms.mean),
                expected,
                2.0 * sd / expected / n_total.sqrt(),
                0.0,
            );
        }
    }
}

// ---------------------------------------------------------------------------------------------
// External APIs
// ---------------------------------------------------------------------------------------------

/// `rate` requests/s into a server that calls `api`, an ExternalApi with the given options.
fn api_model(rate: f64, api: &str) -> String {
    format!(
        r#"Model(
            name: "external api",
            workload: Workload(arrival: Poisson(rate: {rate:?}), entry: "app"),
            components: {{
                "app": Server(workers: 1000, handler: [Call("api")]),
                "api": ExternalApi({api}),
            }},
        )"#
    )
}

/// With `error_rate: p` each call fails independently with probability p after its latency,
/// and the failure propagates to the client: failed / (completed + failed) is a binomial
/// fraction, compared within 5σ (N ≈ 40 000 requests: ±0.01 around p = 0.2). The API's own
/// throughput counts its successful calls only: (1 − p) λ.
#[test]
fn external_api_error_rate_fails_that_fraction() {
    let p = 0.2;
    let s = run1(
        &api_model(2000.0, "latency: Exp(mean_ms: 5.0), error_rate: 0.2"),
        21.0,
        1.0,
        700,
    );
    let r = &s.requests;
    let answered = r.completed.0 + r.failed.0;
    assert!(answered > 39_000.0, "{r:?}");
    assert_binomial(
        "ExternalApi error_rate 0.2: failed fraction",
        r.failed.0,
        answered,
        p,
    );
    assert_eq!(r.dropped.0, 0.0);
    // The API's successes in the window against the requests of the window that succeeded:
    // they differ by the calls in flight at either end (≈ 2000/s × 5 ms = 10), i.e. < 2 rps.
    assert_close(
        "ExternalApi error_rate 0.2: api throughput = successes (rps)",
        comp(&s, "api").throughput_rps,
        s.throughput_rps,
        2.0,
    );
}

/// A token bucket of r = 500/s (burst one second's worth) offered 1000 calls/s: it starts full,
/// empties within a second (net drain 500/s), then every token is taken soon after it appears,
/// none is wasted at the burst cap (that would need a whole second without a call). So over
/// the window the successful calls are r·T up to the couple of tokens in the bucket at its two
/// ends, plus the calls in flight at the end (λ · 5 ms ≈ 3): within 0.2% of r for T = 10 s.
/// The rest are refused and fail: failed ≈ λ − r (a Poisson count of arrivals minus the
/// deterministic successes: sd √(λT)/T = 10/s, 5σ band), and each refusal counts in
/// `rate_limited`.
#[test]
fn external_api_rate_limit_passes_r_per_second() {
    let (rate, limit, measured_s) = (1000.0, 500.0, 10.0);
    let s = run1(
        &api_model(rate, "latency: Exp(mean_ms: 5.0), rate_limit_rps: 500.0"),
        2.0 + measured_s,
        2.0,
        710,
    );
    assert_close(
        "ExternalApi rate limit: successful calls/s = r",
        s.throughput_rps,
        limit,
        0.002 * limit,
    );
    let failed_rps = s.requests.failed.0 / measured_s;
    assert_close(
        "ExternalApi rate limit: failed calls/s = λ − r",
        failed_rps,
        rate - limit,
        5.0 * (rate * measured_s).sqrt() / measured_s,
    );
    let limited = comp(&s, "api").rate_limited.expect("rate_limited").0;
    assert_close(
        "ExternalApi rate limit: rate_limited = failed requests",
        limited,
        s.requests.failed.0,
        5.0,
    );
}

/// `concurrency: c` makes the API a queue with c servers: with Exp(1 ms) latency and Poisson
/// calls at 2100/s, M/M/3 at ρ = 0.7. Mean latency C(3, 2.1)/(3 − 2.1) + 1 ms (no network, and
/// the calling server adds nothing), the API's mean wait the Erlang C term. Caps as in
/// [`queue_with_poisson_tasks_is_mmc`] (measured here: run sds 2.7% and 6.9%).
#[test]
fn external_api_concurrency_is_an_mmc_queue() {
    let (lambda, mu, c) = (2.1, 1.0, 3u32);
    let measured_s = 10.0;
    let runs = replicate(
        &api_model(2100.0, "latency: Exp(mean_ms: 1.0), concurrency: 3"),
        1.0,
        measured_s + 1.0,
        1.0,
        720,
        REPS,
    );
    let rho = lambda / (f64::from(c) * mu);
    let n_total = 1e3 * lambda * measured_s * REPS as f64;
    let wq = q::mmc_mean_wait(lambda, mu, c).unwrap();
    assert_agrees(
        "ExternalApi concurrency 3: mean latency (ms)",
        &values(&runs, |s| s.latency_ms.mean),
        wq + 1.0 / mu,
        0.014,
        0.0,
    );
    assert_agrees(
        "ExternalApi concurrency 3: mean wait (ms)",
        &values(&runs, |s| comp(s, "api").mean_wait_ms),
        wq,
        0.036,
        0.0,
    );
    assert_agrees(
        "ExternalApi concurrency 3: utilization",
        &values(&runs, |s| comp(s, "api").utilization),
        rho,
        2.0 * (2.0 / n_total).sqrt(),
        0.0,
    );
}
