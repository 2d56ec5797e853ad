//! Property tests over random model TEXT: loading never panics, every error is positioned inside
//! the text and rendered as `file:line:col: error: …`, and every model that loads simulates a
//! short bounded run without panicking and with requests conserved.
//!
//! Two sources of text:
//! - [`model_text`]: models of random shape written from scratch. Every component kind with random
//!   optional fields, handlers of nested `Work`/`Call`/`Maybe`/`Parallel`/`Enqueue`/`CallWith`
//!   steps, every distribution, workloads with classes, keys, profiles, retries and timeouts,
//!   networks, failures and run settings. A `chaos` percentage is the chance that any one choice
//!   is replaced by a wrong one: a parameter out of range or of the wrong type, a reference that
//!   dangles, points back up the call chain (a cycle) or at the caller itself, a field where it is
//!   not allowed. With chaos 0 the generator aims at valid models (calls only go down the list of
//!   components, so there is no cycle), and most of them are.
//! - [`mutated_text`]: the bundled models, the bad-input corpus and the format guide's examples,
//!   with one or two characters or tokens deleted, duplicated, replaced or swapped.
//!
//! Each valid model runs 2 simulated seconds (0.5 s warm-up, at most 200 000 events, one
//! replication) on a thread watched by the clock: a run that has not ended after a minute (they
//! take milliseconds) prints its model and aborts the test binary, since a spinning thread cannot
//! be stopped.
//!
//! Reproducing a failure: proptest prints the smallest failing text, and records its seed in
//! `tests/fuzz_models.proptest-regressions`, which is replayed first on the next run. Set
//! `PROPTEST_CASES` to run more cases than the default 300 per property, and `ARCHSIM_FUZZ_SHOW=1`
//! to print every text with what became of it.

use archsim::model::{LoadError, Model};
use archsim::runner::{RunOptions, run_point};
use archsim::stats::summary::RunSummary;
use proptest::prelude::*;
use proptest::sample::{Index, select};
use proptest::test_runner::{Config, FileFailurePersistence};
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::atomic::{AtomicUsize, Ordering};

const FILE: &str = "fuzz.ron";
const MAX_EVENTS: u64 = 200_000;

fn config() -> Config {
    Config {
        cases: std::env::var("PROPTEST_CASES")
            .ok()
            .and_then(|s| s.parse().ok())
            .unwrap_or(300),
        failure_persistence: Some(Box::new(FileFailurePersistence::Direct(
            "tests/fuzz_models.proptest-regressions",
        ))),
        max_shrink_iters: 2_000,
        ..Config::default()
    }
}

// ---------------------------------------------------------------------------------------------
// The check
// ---------------------------------------------------------------------------------------------

/// What one input did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Outcome {
    Invalid,
    Ran,
}

fn panic_message(p: &(dyn std::any::Any + Send)) -> String {
    p.downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| p.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "a panic without a message".into())
}

/// Loads `text`; checks the error messages of an invalid model, runs a valid one.
fn check_text(text: &str) -> Result<Outcome, TestCaseError> {
    let loaded = catch_unwind(|| Model::from_text(text, FILE)).map_err(|p| {
        TestCaseError::fail(format!(
            "loading panicked: {}\n--- text ---\n{text}",
            panic_message(&*p)
        ))
    })?;
    match loaded {
        Err(e) => {
            check_error(&e, text)
                .map_err(|m| TestCaseError::fail(format!("{m}\n--- text ---\n{text}")))?;
            // ARCHSIM_FUZZ_SHOW=1 prints what was rejected (to tune the generator).
            if std::env::var_os("ARCHSIM_FUZZ_SHOW").is_some() {
                eprintln!("--- rejected ---\n{text}\n{e}\n");
            }
            Ok(Outcome::Invalid)
        }
        Ok(model) => {
            if std::env::var_os("ARCHSIM_FUZZ_SHOW").is_some() {
                eprintln!("--- running ---\n{text}\n");
            }
            let summary = run_with_watchdog(model, text)?;
            prop_assert!(
                summary.checks.conservation,
                "requests were not conserved: {:?}\n--- text ---\n{text}",
                summary.requests
            );
            prop_assert!(
                summary.engine.events <= MAX_EVENTS,
                "{} events, more than the limit {MAX_EVENTS}\n--- text ---\n{text}",
                summary.engine.events
            );
            Ok(Outcome::Ran)
        }
    }
}

/// Wall-clock limit of one short run: they take milliseconds, so this only catches hangs.
const WATCHDOG_S: u64 = 60;

/// The short bounded run, in a thread watched by the clock: a run that does not end within
/// [`WATCHDOG_S`] prints the model and aborts the whole test binary (a spinning thread cannot be
/// stopped, and proptest's shrinking would start more of them).
fn run_with_watchdog(model: Model, text: &str) -> Result<RunSummary, TestCaseError> {
    let opts = RunOptions {
        duration_s: Some(2.0),
        warmup_s: Some(0.5),
        max_events: Some(MAX_EVENTS),
        replications: Some(1),
        ..RunOptions::at_traffic(1.0)
    };
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let r = catch_unwind(AssertUnwindSafe(|| run_point(&model, &opts)))
            .map_err(|p| panic_message(&*p));
        let _ = tx.send(r);
    });
    match rx.recv_timeout(std::time::Duration::from_secs(WATCHDOG_S)) {
        Ok(Ok(Ok(summary))) => Ok(summary),
        Ok(Ok(Err(e))) => Err(TestCaseError::fail(format!(
            "a valid model was refused at run time: {e}\n--- text ---\n{text}"
        ))),
        Ok(Err(p)) => Err(TestCaseError::fail(format!(
            "simulating a valid model panicked: {p}\n--- text ---\n{text}"
        ))),
        Err(_) => {
            eprintln!(
                "a {MAX_EVENTS}-event run of 2 simulated seconds did not end in {WATCHDOG_S} s \
                 (a hang); the model:\n{text}"
            );
            std::process::abort();
        }
    }
}

/// Every diagnostic renders as `fuzz.ron:LINE:COL: error: …` with the position inside the text
/// (a column may be one past the end of its line: an error at the end of the input).
fn check_error(e: &LoadError, text: &str) -> Result<(), String> {
    if e.diagnostics.is_empty() {
        return Err("a load error without any diagnostic".into());
    }
    let whole = e.to_string();
    // Lines as an editor numbers them: a text ending in '\n' has an empty last line.
    let lines: Vec<&str> = text.split('\n').collect();
    for d in &e.diagnostics {
        let one = LoadError {
            file: e.file.clone(),
            diagnostics: vec![d.clone()],
            text: e.text.clone(),
        }
        .to_string();
        if !whole.contains(&one) {
            return Err(format!(
                "the diagnostic {one:?} is not in the whole message {whole:?}"
            ));
        }
        let p = d.span.start;
        let prefix = format!("{FILE}:{}:{}: error: ", p.line, p.col);
        if !one.starts_with(&prefix) {
            return Err(format!("the message must start with {prefix:?}: {one:?}"));
        }
        if p.line == 0 || p.line > lines.len() {
            return Err(format!(
                "line {} is outside the text ({} lines): {one}",
                p.line,
                lines.len()
            ));
        }
        let width = lines[p.line - 1].chars().count();
        if p.col == 0 || p.col > width + 1 {
            return Err(format!(
                "column {} is outside line {} ({width} characters): {one}",
                p.col, p.line
            ));
        }
        if d.message.trim().is_empty() {
            return Err(format!("an empty message: {one}"));
        }
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// Random models
// ---------------------------------------------------------------------------------------------

type S = BoxedStrategy<String>;

/// `good` most of the time, `bad` with probability `chaos` percent.
fn pick(chaos: u32, good: S, bad: S) -> S {
    match chaos {
        0 => good,
        c if c >= 100 => bad,
        c => prop_oneof![100 - c => good, c => bad].boxed(),
    }
}

fn lit(s: &str) -> S {
    Just(s.to_string()).boxed()
}

fn one_of_lits(items: &[&str]) -> S {
    let v: Vec<String> = items.iter().map(|s| s.to_string()).collect();
    select(v).boxed()
}

/// Numbers that no range accepts, or that are not numbers at all.
fn bad_number() -> S {
    one_of_lits(&[
        "-1.0", "0.0", "-0.0", "1e308", "1e-320", "NaN", "inf", "-inf", "\"5\"", "true", "-5",
        "1e400", "()",
    ])
}

/// A number in `[lo, hi)`, or (chaos) a wrong one.
fn num(chaos: u32, lo: f64, hi: f64) -> S {
    let good = (lo..hi).prop_map(|v| format!("{v:.3}")).boxed();
    pick(chaos, good, bad_number())
}

/// A whole number in `[lo, hi]`, or (chaos) a wrong one.
fn int(chaos: u32, lo: u64, hi: u64) -> S {
    let good = (lo..=hi).prop_map(|v| v.to_string()).boxed();
    let bad = one_of_lits(&[
        "0",
        "-1",
        "4.0",
        "4294967296",
        "\"3\"",
        "1e3",
        "18446744073709551616",
    ]);
    pick(chaos, good, bad)
}

fn boolean(chaos: u32) -> S {
    pick(
        chaos,
        one_of_lits(&["true", "false"]),
        one_of_lits(&["1", "yes", "\"true\""]),
    )
}

/// An optional field: `name: value`, sometimes left out (an empty string).
fn opt(name: &str, value: S) -> S {
    let name = name.to_string();
    proptest::option::weighted(0.5, value)
        .prop_map(move |v| v.map_or(String::new(), |v| format!("{name}: {v}")))
        .boxed()
}

fn field(name: &str, value: S) -> S {
    let name = name.to_string();
    value.prop_map(move |v| format!("{name}: {v}")).boxed()
}

/// `Name(f1, f2, ...)` from field strategies, leaving out the empty (omitted) ones.
fn record(name: &str, fields: Vec<S>) -> S {
    let name = name.to_string();
    fields
        .prop_map(move |fs| {
            let fs: Vec<String> = fs.into_iter().filter(|f| !f.is_empty()).collect();
            format!("{name}({})", fs.join(", "))
        })
        .boxed()
}

fn list(items: S, len: std::ops::Range<usize>) -> S {
    proptest::collection::vec(items, len)
        .prop_map(|v| format!("[{}]", v.join(", ")))
        .boxed()
}

/// A distribution: every form, with parameters that are sometimes (chaos) out of range.
fn dist(chaos: u32) -> S {
    // Parameter pairs that violate a cross-field rule: p99 below the median, max below min.
    let crossed = prop_oneof![
        Just("LogNormal(median_ms: 10.0, p99_ms: 5.0)".to_string()),
        Just("Uniform(min_ms: 5.0, max_ms: 1.0)".to_string()),
        Just("Pareto(min_ms: 1.0, alpha: 1.0)".to_string()),
        Just("Erlang(k: 0, mean_ms: 1.0)".to_string()),
        Just("Empirical(samples_ms: [])".to_string()),
        Just("Expo(mean_ms: 1.0)".to_string()),
        Just("Exp(mean: 1.0)".to_string()),
        Just("Exp()".to_string()),
    ];
    let forms = prop_oneof![
        record("Exp", vec![field("mean_ms", num(chaos, 0.01, 20.0))]),
        record("Const", vec![field("ms", num(chaos, 0.0, 20.0))]),
        (num(chaos, 0.0, 5.0), num(chaos, 0.0, 10.0)).prop_map(|(a, b)| {
            // Keep min ≤ max when both are plain numbers.
            match (a.parse::<f64>(), b.parse::<f64>()) {
                (Ok(x), Ok(y)) if x.is_finite() && y.is_finite() && x >= 0.0 && y >= 0.0 => {
                    format!("Uniform(min_ms: {:.3}, max_ms: {:.3})", x.min(y), x.max(y))
                }
                _ => format!("Uniform(min_ms: {a}, max_ms: {b})"),
            }
        }),
        record(
            "Erlang",
            vec![
                field("k", int(chaos, 1, 5)),
                field("mean_ms", num(chaos, 0.01, 20.0))
            ]
        ),
        (num(chaos, 0.1, 10.0), 1.1f64..20.0).prop_map(|(m, f)| match m.parse::<f64>() {
            Ok(x) if x.is_finite() && x > 0.0 => {
                format!("LogNormal(median_ms: {x:.3}, p99_ms: {:.3})", x * f)
            }
            _ => format!("LogNormal(median_ms: {m}, p99_ms: 50.0)"),
        }),
        record(
            "Gamma",
            vec![
                field("shape", num(chaos, 0.2, 5.0)),
                field("mean_ms", num(chaos, 0.01, 20.0))
            ]
        ),
        record(
            "Weibull",
            vec![
                field("shape", num(chaos, 0.3, 5.0)),
                field("mean_ms", num(chaos, 0.01, 20.0))
            ]
        ),
        record(
            "Pareto",
            vec![
                field("min_ms", num(chaos, 0.01, 5.0)),
                field("alpha", num(chaos, 1.1, 4.0))
            ]
        ),
        record(
            "Empirical",
            vec![field("samples_ms", list(num(chaos, 0.0, 20.0), 1..5))]
        ),
        record(
            "Query",
            vec![
                field("rows", int(chaos, 1, 1_000_000)),
                field("indexed", boolean(chaos)),
                opt("base_ms", num(chaos, 0.01, 2.0)),
                opt("per_row_ns", num(chaos, 0.0, 10.0)),
                opt("per_level_ms", num(chaos, 0.0, 0.1)),
            ]
        ),
    ];
    pick(chaos, forms.boxed(), crossed.boxed())
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Server,
    LoadBalancer,
    Cache,
    Database,
    Queue,
    ExternalApi,
    Cdn,
}

/// The shape of a model, chosen first so that the fields can refer to it.
#[derive(Debug, Clone)]
struct Skeleton {
    chaos: u32,
    kinds: Vec<Kind>,
    /// Class names (empty: the workload has an `entry`).
    classes: Vec<String>,
    /// Region names (empty: no network).
    regions: Vec<String>,
    closed: bool,
    population: bool,
}

fn name(i: usize) -> String {
    format!("c{i}")
}

impl Skeleton {
    fn names_where(&self, from: usize, ok: impl Fn(Kind) -> bool) -> Vec<String> {
        (from..self.kinds.len())
            .filter(|&j| ok(self.kinds[j]))
            .map(name)
            .collect()
    }

    /// A reference: one of `good` (if any), or (chaos) any name, a dangling one or `self`.
    fn reference(&self, good: Vec<String>, me: usize) -> S {
        let mut bad: Vec<String> = (0..self.kinds.len()).map(name).collect();
        bad.push("ghost".into());
        bad.push(String::new());
        bad.push(name(me));
        let bad = select(bad).prop_map(|n| format!("{n:?}")).boxed();
        if good.is_empty() {
            return bad;
        }
        let good = select(good).prop_map(|n| format!("{n:?}")).boxed();
        pick(self.chaos, good, bad)
    }

    /// A synchronous callee of component `me`: further down the list and not a queue.
    fn callee(&self, me: usize) -> S {
        self.reference(self.names_where(me + 1, |k| k != Kind::Queue), me)
    }

    /// A queue to enqueue onto: mostly one further down the list; sometimes any queue, which
    /// may close a loop (allowed: enqueues are not synchronous).
    fn queue_ref(&self, me: usize) -> S {
        let down = self.names_where(me + 1, |k| k == Kind::Queue);
        let any = self.reference(self.names_where(0, |k| k == Kind::Queue), me);
        if down.is_empty() {
            return any;
        }
        prop_oneof![9 => self.reference(down, me), 1 => any].boxed()
    }

    fn region(&self) -> S {
        if self.regions.is_empty() {
            // Without a network, a region is always wrong.
            lit("\"r0\"")
        } else {
            let mut good = self.regions.clone();
            if self.chaos > 0 {
                good.push("nowhere".into());
            }
            select(good).prop_map(|r| format!("{r:?}")).boxed()
        }
    }

    /// `region: …`: usually omitted, sometimes (chaos) given without a network.
    fn region_field(&self) -> S {
        if self.regions.is_empty() && self.chaos == 0 {
            lit("")
        } else {
            opt("region", self.region())
        }
    }

    fn step(&self, me: usize) -> S {
        let mut leaves: Vec<S> = vec![record("Work", vec![dist(self.chaos)])];
        let callees = self.names_where(me + 1, |k| k != Kind::Queue);
        let queues = self.names_where(0, |k| k == Kind::Queue);
        if !callees.is_empty() || self.chaos > 0 {
            leaves.push(self.callee(me).prop_map(|t| format!("Call({t})")).boxed());
            leaves.push(record(
                "CallWith",
                vec![
                    field("target", self.callee(me)),
                    opt("timeout_ms", num(self.chaos, 1.0, 200.0)),
                    opt("retries", int(self.chaos, 0, 3)),
                    opt("backoff_ms", num(self.chaos, 0.0, 50.0)),
                ],
            ));
        }
        if !queues.is_empty() || self.chaos > 0 {
            leaves.push(
                self.queue_ref(me)
                    .prop_map(|t| format!("Enqueue({t})"))
                    .boxed(),
            );
        }
        if self.chaos > 0 {
            leaves.push(one_of_lits(&[
                "Sleep(1.0)",
                "Work()",
                "Call(db)",
                "Maybe(p: 0.5)",
            ]));
        }
        let leaf = proptest::strategy::Union::new(leaves).boxed();
        let chaos = self.chaos;
        let min = usize::from(chaos == 0);
        leaf.prop_recursive(3, 16, 3, move |inner| {
            prop_oneof![
                (num(chaos, 0.0, 1.0), list(inner.clone(), min..3))
                    .prop_map(|(p, s)| format!("Maybe(p: {p}, steps: {s})")),
                list(list(inner, min..3), min..3).prop_map(|b| format!("Parallel(branches: {b})")),
            ]
        })
        .boxed()
    }

    fn handler(&self, me: usize) -> S {
        list(self.step(me), usize::from(self.chaos == 0)..4)
    }

    /// `handlers: { "class": [...] }`: only with classes (or, chaos, without or with a stranger).
    fn handlers_field(&self, me: usize) -> S {
        let mut names = self.classes.clone();
        if self.chaos > 0 {
            names.push("stranger".into());
        }
        if names.is_empty() {
            return lit("");
        }
        let n = names.len();
        let handlers = proptest::collection::vec(self.handler(me), n);
        // Each class at most once, unless (chaos) one is given twice.
        let twice = self.chaos > 0;
        let map = (
            proptest::sample::subsequence(names, 1..=n),
            handlers,
            any::<bool>(),
        )
            .prop_map(move |(mut keys, hs, dup)| {
                if twice && dup {
                    keys.push(keys[0].clone());
                }
                let v: Vec<String> = keys
                    .iter()
                    .zip(hs.iter().cycle())
                    .map(|(k, h)| format!("{k:?}: {h}"))
                    .collect();
                format!("{{{}}}", v.join(", "))
            })
            .boxed();
        opt("handlers", map)
    }

    fn size(&self) -> S {
        let c = self.chaos;
        prop_oneof![
            lit("Small"),
            lit("Large"),
            record(
                "Box",
                vec![
                    field("cpus", int(c, 1, 4)),
                    opt("speed", num(c, 0.5, 4.0)),
                    opt("cost_per_month", num(c, 0.0, 100.0)),
                ]
            ),
        ]
        .boxed()
    }

    fn component(&self, me: usize) -> S {
        let c = self.chaos;
        let cost = opt("cost_per_month", num(c, 0.0, 500.0));
        let body = match self.kinds[me] {
            Kind::Server => {
                let dbs = self.names_where(me + 1, |k| k == Kind::Database);
                let pool = record(
                    "Pool",
                    vec![
                        field("size", int(c, 1, 5)),
                        opt("acquire_timeout_ms", num(c, 1.0, 100.0)),
                    ],
                );
                let pools = if dbs.is_empty() && c == 0 {
                    lit("")
                } else {
                    let target = self.reference(dbs, me);
                    opt(
                        "pools",
                        (target, pool)
                            .prop_map(|(t, p)| format!("{{{t}: {p}}}"))
                            .boxed(),
                    )
                };
                record(
                    "Server",
                    vec![
                        opt("instances", int(c, 1, 4)),
                        field("workers", int(c, 1, 8)),
                        field("handler", self.handler(me)),
                        self.handlers_field(me),
                        opt("queue_capacity", int(c, 0, 50)),
                        opt("mode", one_of_lits(&["Blocking", "Async"])),
                        pools,
                        opt(
                            "memory",
                            record(
                                "Memory",
                                vec![
                                    field("base_mb", num(c, 10.0, 200.0)),
                                    field("per_request_mb", num(c, 0.0, 10.0)),
                                    field("limit_mb", num(c, 200.0, 2000.0)),
                                    opt("restart_s", num(c, 0.1, 5.0)),
                                ],
                            ),
                        ),
                        opt("size", self.size()),
                        self.region_field(),
                        cost,
                    ],
                )
            }
            Kind::LoadBalancer => {
                let servers = self.names_where(me + 1, |k| k == Kind::Server);
                let targets = if servers.is_empty() {
                    list(self.callee(me), 0..3)
                } else {
                    let n = servers.len();
                    let distinct = proptest::sample::subsequence(servers, 1..=n.min(3))
                        .prop_map(|v| {
                            let v: Vec<String> = v.iter().map(|s| format!("{s:?}")).collect();
                            format!("[{}]", v.join(", "))
                        })
                        .boxed();
                    pick(c, distinct, list(self.callee(me), 0..4))
                };
                record(
                    "LoadBalancer",
                    vec![
                        field("targets", targets),
                        opt(
                            "policy",
                            pick(
                                c,
                                one_of_lits(&[
                                    "RoundRobin",
                                    "Random",
                                    "LeastConnections",
                                    "PowerOfTwoChoices",
                                    "Sticky",
                                ]),
                                one_of_lits(&["Fastest", "roundrobin", "\"Random\""]),
                            ),
                        ),
                        opt(
                            "health_check",
                            record(
                                "HealthCheck",
                                vec![
                                    field("interval_s", num(c, 0.1, 2.0)),
                                    opt("unhealthy", int(c, 1, 4)),
                                    opt("healthy", int(c, 1, 4)),
                                ],
                            ),
                        ),
                        self.region_field(),
                        cost,
                    ],
                )
            }
            Kind::Cache => record(
                "Cache",
                vec![
                    opt("capacity", int(c, 1, 1000)),
                    opt("ttl_s", num(c, 0.01, 10.0)),
                    field("hit", dist(c)),
                    field("backend", self.callee(me)),
                    opt("workers", int(c, 1, 8)),
                    opt("coalesce", boolean(c)),
                    self.region_field(),
                    cost,
                ],
            ),
            Kind::Database => {
                let replicas = opt("replicas", int(c, 0, 3));
                let lag = opt("replication_lag", dist(c));
                let replicated = (replicas, lag)
                    .prop_map(move |(r, l)| {
                        // Without chaos, a lag only with at least one replica.
                        let has = r.strip_prefix("replicas: ").is_some_and(|n| n != "0");
                        if c == 0 && !has {
                            r
                        } else {
                            [r, l]
                                .into_iter()
                                .filter(|f| !f.is_empty())
                                .collect::<Vec<_>>()
                                .join(", ")
                        }
                    })
                    .boxed();
                record(
                    "Database",
                    vec![
                        field("workers", int(c, 1, 8)),
                        field("read", dist(c)),
                        field("write", dist(c)),
                        replicated,
                        opt("max_connections", int(c, 1, 50)),
                        opt("connect", dist(c)),
                        opt("size", self.size()),
                        self.region_field(),
                        cost,
                    ],
                )
            }
            Kind::Queue => record(
                "Queue",
                vec![
                    field("workers", int(c, 1, 4)),
                    field("handler", self.handler(me)),
                    opt("capacity", int(c, 0, 100)),
                    opt("when_full", one_of_lits(&["Drop", "Block"])),
                    self.region_field(),
                    cost,
                ],
            ),
            Kind::ExternalApi => record(
                "ExternalApi",
                vec![
                    field("latency", dist(c)),
                    opt("concurrency", int(c, 1, 20)),
                    opt("rate_limit_rps", num(c, 1.0, 500.0)),
                    opt("error_rate", num(c, 0.0, 1.0)),
                    self.region_field(),
                    cost,
                ],
            ),
            Kind::Cdn => {
                let edge = record(
                    "Edge",
                    vec![
                        field("region", self.region()),
                        opt("capacity", int(c, 1, 100)),
                        opt("ttl_s", num(c, 0.1, 10.0)),
                    ],
                );
                record(
                    "Cdn",
                    vec![
                        field("edges", list(edge, 1..3)),
                        field("hit", dist(c)),
                        field(
                            "origin",
                            self.reference(
                                self.names_where(me + 1, |k| !matches!(k, Kind::Queue | Kind::Cdn)),
                                me,
                            ),
                        ),
                        cost,
                    ],
                )
            }
        };
        let n = name(me);
        body.prop_map(move |b| format!("{n:?}: {b}")).boxed()
    }

    fn workload(&self) -> S {
        let c = self.chaos;
        let entries = self.names_where(0, |k| k != Kind::Queue);
        let arrival = if self.closed {
            record(
                "Closed",
                vec![field("users", int(c, 1, 30)), field("think", dist(c))],
            )
        } else {
            record("Poisson", vec![field("rate", num(c, 1.0, 300.0))])
        };
        let keys = prop_oneof![
            record(
                "Zipf",
                vec![field("n", int(c, 1, 100_000)), field("s", num(c, 0.0, 1.5))]
            ),
            record("Uniform", vec![field("n", int(c, 1, 100_000))]),
        ]
        .boxed();
        let may_age = self.population && !self.closed;
        let age = if may_age || c > 0 {
            opt("max_age_s", num(c, 0.1, 5.0))
        } else {
            lit("")
        };
        let who = if self.classes.is_empty() {
            field("entry", self.reference(vec![name(0)], 0))
        } else {
            let classes: Vec<S> = self
                .classes
                .iter()
                .map(|cl| {
                    record(
                        "",
                        vec![
                            field("name", lit(&format!("{cl:?}"))),
                            field("weight", num(c, 0.1, 10.0)),
                            field("entry", self.reference(entries.clone(), 0)),
                            opt("op", one_of_lits(&["Read", "Write"])),
                            opt("keys", keys.clone()),
                            age.clone(),
                        ],
                    )
                })
                .collect();
            let classes = classes.prop_map(|v| format!("[{}]", v.join(", "))).boxed();
            field("classes", classes)
        };
        let profile = prop_oneof![
            lit("Steady"),
            record(
                "Step",
                vec![
                    field("at_s", num(c, 0.0, 3.0)),
                    field("factor", num(c, 0.0, 5.0))
                ]
            ),
            record(
                "Spike",
                vec![
                    field("start_s", num(c, 0.0, 2.0)),
                    field("duration_s", num(c, 0.1, 2.0)),
                    field("factor", num(c, 0.0, 10.0)),
                ]
            ),
            record(
                "Ramp",
                vec![
                    field("from", num(c, 0.0, 3.0)),
                    field("to", num(c, 0.0, 3.0)),
                    field("over_s", num(c, 0.1, 3.0)),
                ]
            ),
            record(
                "Diurnal",
                vec![
                    field("period_s", num(c, 0.1, 5.0)),
                    field("amplitude", num(c, 0.0, 1.0))
                ]
            ),
            (0.0f64..1.0, 0.1f64..1.0, num(c, 0.0, 4.0), num(c, 0.0, 4.0)).prop_map(
                |(t0, dt, f0, f1)| format!("Table([({t0:.3}, {f0}), ({:.3}, {f1})])", t0 + dt)
            ),
        ]
        .boxed();
        let profile = if self.closed && c == 0 {
            lit("")
        } else {
            opt("profile", profile)
        };
        let retry = record(
            "Retry",
            vec![
                field("max", int(c, 0, 3)),
                field("backoff_ms", num(c, 0.0, 100.0)),
                opt("multiplier", num(c, 1.0, 3.0)),
                opt("jitter", boolean(c)),
                opt("budget", num(c, 0.0, 1.0)),
            ],
        );
        let clients = if self.regions.is_empty() && c == 0 {
            lit("")
        } else {
            let one = (self.region(), num(c, 0.1, 1.0))
                .prop_map(|(r, s)| format!("(region: {r}, share: {s})"))
                .boxed();
            opt("clients", list(one, 1..3))
        };
        let population = if self.population {
            field("population", int(c, 1, 200))
        } else if c > 0 {
            opt("population", int(c, 1, 200))
        } else {
            lit("")
        };
        record(
            "Workload",
            vec![
                field("arrival", arrival),
                who,
                profile,
                opt("timeout_ms", num(c, 1.0, 500.0)),
                opt("retry", retry),
                clients,
                population,
            ],
        )
    }

    fn network(&self) -> S {
        if self.regions.is_empty() {
            return lit("");
        }
        let c = self.chaos;
        let regions: Vec<String> = self.regions.iter().map(|r| format!("{r:?}")).collect();
        let regions = format!("[{}]", regions.join(", "));
        let links = if self.regions.len() >= 2 {
            let (a, b) = (self.regions[0].clone(), self.regions[1].clone());
            dist(c)
                .prop_map(move |d| format!("links: [({a:?}, {b:?}, {d})]"))
                .boxed()
        } else {
            lit("")
        };
        record(
            "Network",
            vec![
                field("regions", lit(&regions)),
                opt("same_region", dist(c)),
                links,
                opt("serialization", dist(c)),
            ],
        )
        .prop_map(|n| format!("network: {n}"))
        .boxed()
    }

    fn failures(&self) -> S {
        let c = self.chaos;
        // Balancers and CDNs cannot fail (they hold nothing); the instance is left out without
        // chaos, as the number of instances is not known here.
        let can_fail = self.names_where(0, |k| !matches!(k, Kind::LoadBalancer | Kind::Cdn));
        let target = self.reference(can_fail, 0);
        let instance = if c == 0 {
            lit("")
        } else {
            opt("instance", int(c, 0, 2))
        };
        let failure = prop_oneof![
            record(
                "Crash",
                vec![
                    field("component", target.clone()),
                    instance.clone(),
                    field("at_s", num(c, 0.0, 2.0)),
                    opt("for_s", num(c, 0.1, 1.0)),
                ]
            ),
            record(
                "Random",
                vec![
                    field("component", target),
                    instance,
                    field("mtbf_s", num(c, 0.1, 5.0)),
                    field("mttr_s", num(c, 0.1, 2.0)),
                ]
            ),
        ];
        opt("failures", list(failure.boxed(), 0..3))
    }

    fn sim(&self) -> S {
        let c = self.chaos;
        let times = (num(c, 0.5, 60.0), 0.0f64..1.0).prop_map(move |(d, frac)| {
            match d.parse::<f64>() {
                // Without chaos the warm-up is shorter than the duration.
                Ok(x) if x.is_finite() && c == 0 => {
                    format!("duration_s: {x}, warmup_s: {:.3}", x * frac * 0.9)
                }
                _ => format!("duration_s: {d}, warmup_s: {frac:.3}"),
            }
        });
        record(
            "Sim",
            vec![
                proptest::option::weighted(0.5, times)
                    .prop_map(|t| t.unwrap_or_default())
                    .boxed(),
                opt("seed", int(c, 0, 1000)),
                opt("replications", int(c, 1, 3)),
                opt("max_in_flight", int(c, 1, 5000)),
            ],
        )
        .prop_map(|s| format!("sim: {s}"))
        .boxed()
    }

    fn text(self) -> S {
        let components: Vec<S> = (0..self.kinds.len()).map(|i| self.component(i)).collect();
        let components = components.prop_map(|v| v.join(",\n        ")).boxed();
        let parts = (
            self.workload(),
            components,
            self.network(),
            self.failures(),
            proptest::option::weighted(0.5, self.sim()),
            proptest::option::weighted(0.3, lit("description: \"generated\"")),
        );
        parts
            .prop_map(|(w, comps, net, fail, sim, desc)| {
                let mut fields = vec![
                    "name: \"random\"".to_string(),
                    format!("workload: {w}"),
                    format!("components: {{\n        {comps}\n    }}"),
                ];
                fields.extend([net, fail, sim.unwrap_or_default(), desc.unwrap_or_default()]);
                let fields: Vec<String> = fields.into_iter().filter(|f| !f.is_empty()).collect();
                format!("Model(\n    {},\n)\n", fields.join(",\n    "))
            })
            .boxed()
    }
}

/// Turns raw choices into kinds such that, without chaos, every component has what it needs
/// further down the list (a balancer a server, a cache or CDN a non-queue backend) and the entry
/// is not a queue.
fn kinds_from(raw: &[u8], chaos: u32, network: bool) -> Vec<Kind> {
    use Kind::*;
    let n = raw.len();
    let mut kinds = vec![Server; n];
    for i in (0..n).rev() {
        let later = &kinds[i + 1..];
        let mut ok = vec![Server, Database, ExternalApi];
        if i > 0 || chaos > 0 {
            ok.push(Queue);
        }
        if later.contains(&Server) || chaos > 0 {
            ok.push(LoadBalancer);
        }
        if later.iter().any(|&k| k != Queue) || chaos > 0 {
            ok.push(Cache);
        }
        if (network && later.iter().any(|&k| !matches!(k, Queue | Cdn))) || chaos > 0 {
            ok.push(Cdn);
        }
        kinds[i] = ok[raw[i] as usize % ok.len()];
    }
    kinds
}

/// Random model text with `chaos` percent of wrong choices.
fn model_text(chaos: u32) -> S {
    (
        proptest::collection::vec(any::<u8>(), 1..7),
        0usize..4,
        0usize..3,
        any::<bool>(),
        any::<bool>(),
    )
        .prop_flat_map(move |(raw, classes, regions, closed, population)| {
            let regions: Vec<String> = (0..regions).map(|r| format!("r{r}")).collect();
            let kinds = kinds_from(&raw, chaos, !regions.is_empty());
            Skeleton {
                chaos,
                kinds,
                classes: (0..classes).map(|k| format!("k{k}")).collect(),
                regions,
                closed,
                population,
            }
            .text()
        })
        .boxed()
}

// ---------------------------------------------------------------------------------------------
// Mutations of the bundled models
// ---------------------------------------------------------------------------------------------

fn corpus() -> Vec<String> {
    let mut texts = Vec::new();
    for dir in ["models", "tests/bad_models"] {
        let mut files: Vec<_> = std::fs::read_dir(dir)
            .unwrap_or_else(|e| panic!("cannot read {dir}: {e}"))
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|x| x == "ron"))
            .collect();
        files.sort();
        for f in files {
            texts.push(std::fs::read_to_string(&f).unwrap());
        }
    }
    // The format guide's examples, which use most of the syntax, as more starting points.
    let doc = std::fs::read_to_string("docs/model-format.md").unwrap_or_default();
    let mut rest = doc.as_str();
    while let Some(start) = rest.find("```ron\n") {
        rest = &rest[start + 7..];
        let Some(end) = rest.find("```") else { break };
        let block = &rest[..end];
        if block.trim_start().starts_with("Model(") || block.contains("\nModel(") {
            texts.push(block.to_string());
        }
        rest = &rest[end..];
    }
    texts
}

#[derive(Debug, Clone)]
enum Edit {
    DeleteChar(Index),
    DuplicateChar(Index),
    ReplaceChar(Index, char),
    DeleteToken(Index),
    DuplicateToken(Index),
    ReplaceToken(Index, String),
    SwapTokens(Index, Index),
}

/// Tokens worth dropping in: punctuation, numbers at the edges of ranges, names, keywords.
const VOCAB: &[&str] = &[
    "(",
    ")",
    "[",
    "]",
    "{",
    "}",
    ",",
    ":",
    "\"",
    "0",
    "-1",
    "1",
    "0.0",
    "-0.5",
    "1e308",
    "NaN",
    "inf",
    "4294967296",
    "18446744073709551615",
    "\"x\"",
    "\"app\"",
    "\"db\"",
    "\"\"",
    "Some",
    "None",
    "true",
    "Exp",
    "Const",
    "Work",
    "Call",
    "Maybe",
    "Parallel",
    "Enqueue",
    "CallWith",
    "Server",
    "Queue",
    "Cache",
    "Database",
    "LoadBalancer",
    "Closed",
    "Poisson",
    "classes",
    "entry",
    "handlers",
    "instances",
    "//",
    "/*",
    "*/",
    "r#\"",
    "'a'",
    "\u{e9}",
    "\u{1F600}",
    "\t",
    "\r",
    "\n",
    "\r\n",
];

fn edit() -> impl Strategy<Value = Edit> {
    let ch = prop_oneof![
        select(vec![
            '(',
            ')',
            '[',
            ']',
            '{',
            '}',
            ',',
            ':',
            '"',
            '-',
            '.',
            '0',
            '9',
            'e',
            ' ',
            '\n',
            '\r',
            '\t',
            '/',
            '*',
            '\\',
            '#',
            '\u{e9}',
            '\u{1F600}',
            '\u{0}',
        ]),
        any::<char>(),
    ];
    let tok = prop_oneof![
        select(VOCAB.iter().map(|s| s.to_string()).collect::<Vec<_>>()),
        any::<u64>().prop_map(|n| n.to_string()),
        any::<f64>().prop_map(|x| format!("{x:?}")),
    ];
    prop_oneof![
        any::<Index>().prop_map(Edit::DeleteChar),
        any::<Index>().prop_map(Edit::DuplicateChar),
        (any::<Index>(), ch).prop_map(|(i, c)| Edit::ReplaceChar(i, c)),
        any::<Index>().prop_map(Edit::DeleteToken),
        any::<Index>().prop_map(Edit::DuplicateToken),
        (any::<Index>(), tok).prop_map(|(i, t)| Edit::ReplaceToken(i, t)),
        (any::<Index>(), any::<Index>()).prop_map(|(a, b)| Edit::SwapTokens(a, b)),
    ]
}

/// Byte ranges of the tokens of `text`: strings, words and numbers, and single punctuation marks.
fn tokens(text: &str) -> Vec<(usize, usize)> {
    let mut out = Vec::new();
    let mut it = text.char_indices().peekable();
    while let Some((i, c)) = it.next() {
        if c.is_whitespace() {
            continue;
        }
        let mut end = i + c.len_utf8();
        if c == '"' {
            let mut escaped = false;
            for (j, d) in it.by_ref() {
                end = j + d.len_utf8();
                if d == '"' && !escaped {
                    break;
                }
                escaped = d == '\\' && !escaped;
            }
        } else if c.is_alphanumeric() || c == '_' || c == '.' || c == '-' {
            while let Some(&(j, d)) = it.peek() {
                if d.is_alphanumeric() || d == '_' || d == '.' {
                    end = j + d.len_utf8();
                    it.next();
                } else {
                    break;
                }
            }
        }
        out.push((i, end));
    }
    out
}

fn apply(text: &str, e: &Edit) -> String {
    let chars: Vec<(usize, char)> = text.char_indices().collect();
    let toks = tokens(text);
    let mut s = text.to_string();
    match e {
        Edit::DeleteChar(i) | Edit::DuplicateChar(i) | Edit::ReplaceChar(i, _) => {
            if chars.is_empty() {
                return s;
            }
            let (at, c) = chars[i.index(chars.len())];
            let range = at..at + c.len_utf8();
            match e {
                Edit::DeleteChar(_) => s.replace_range(range, ""),
                Edit::DuplicateChar(_) => s.insert(at, c),
                Edit::ReplaceChar(_, r) => s.replace_range(range, &r.to_string()),
                _ => unreachable!(),
            }
        }
        Edit::DeleteToken(i) | Edit::DuplicateToken(i) | Edit::ReplaceToken(i, _) => {
            if toks.is_empty() {
                return s;
            }
            let (a, b) = toks[i.index(toks.len())];
            match e {
                Edit::DeleteToken(_) => s.replace_range(a..b, ""),
                Edit::DuplicateToken(_) => {
                    let t = text[a..b].to_string();
                    s.insert_str(b, &format!(" {t}"));
                }
                Edit::ReplaceToken(_, t) => s.replace_range(a..b, t),
                _ => unreachable!(),
            }
        }
        Edit::SwapTokens(i, j) => {
            if toks.len() < 2 {
                return s;
            }
            let (x, y) = (toks[i.index(toks.len())], toks[j.index(toks.len())]);
            let (x, y) = if x.0 <= y.0 { (x, y) } else { (y, x) };
            if x.1 <= y.0 {
                s = format!(
                    "{}{}{}{}{}",
                    &text[..x.0],
                    &text[y.0..y.1],
                    &text[x.1..y.0],
                    &text[x.0..x.1],
                    &text[y.1..]
                );
            }
        }
    }
    s
}

fn mutated_text() -> impl Strategy<Value = String> {
    let texts = corpus();
    assert!(texts.len() >= 3, "the corpus of models is missing");
    (select(texts), proptest::collection::vec(edit(), 1..3))
        .prop_map(|(base, edits)| edits.iter().fold(base, |t, e| apply(&t, e)))
}

// ---------------------------------------------------------------------------------------------
// The properties
// ---------------------------------------------------------------------------------------------

/// Counts outcomes of one property, to check that it exercised both paths.
struct Tally {
    name: &'static str,
    valid: AtomicUsize,
    invalid: AtomicUsize,
}

impl Tally {
    const fn new(name: &'static str) -> Tally {
        Tally {
            name,
            valid: AtomicUsize::new(0),
            invalid: AtomicUsize::new(0),
        }
    }
    fn record(&self, o: Outcome) {
        match o {
            Outcome::Ran => self.valid.fetch_add(1, Ordering::Relaxed),
            Outcome::Invalid => self.invalid.fetch_add(1, Ordering::Relaxed),
        };
    }
    /// Prints the counts (shrinking included) and returns (valid, invalid).
    fn report(&self) -> (usize, usize) {
        let v = self.valid.load(Ordering::Relaxed);
        let i = self.invalid.load(Ordering::Relaxed);
        eprintln!(
            "{}: {v} valid models simulated, {i} invalid ones rejected",
            self.name
        );
        (v, i)
    }
}

static VALID_SHAPES: Tally = Tally::new("valid-leaning random models");
static WILD_SHAPES: Tally = Tally::new("random models with wrong choices");
static MUTATIONS: Tally = Tally::new("mutated bundled models");

#[test]
fn random_models_load_and_run() {
    let mut runner = proptest::test_runner::TestRunner::new(config());
    runner
        .run(&model_text(0), |text| {
            VALID_SHAPES.record(check_text(&text)?);
            Ok(())
        })
        .unwrap();
    let (valid, invalid) = VALID_SHAPES.report();
    // The generator without chaos aims at valid models: most of them must load, or the run
    // checks would be exercised by too few.
    assert!(
        valid * 2 >= valid + invalid,
        "only {valid} of {} models without wrong choices loaded",
        valid + invalid
    );
}

#[test]
fn random_models_with_mistakes_are_reported_well() {
    let mut runner = proptest::test_runner::TestRunner::new(config());
    let strategy = prop_oneof![model_text(1), model_text(5), model_text(30)];
    runner
        .run(&strategy, |text| {
            WILD_SHAPES.record(check_text(&text)?);
            Ok(())
        })
        .unwrap();
    // Most of these are invalid (any one wrong choice is enough); the few valid ones run.
    let (_, invalid) = WILD_SHAPES.report();
    assert!(invalid > 0, "no model with mistakes was rejected");
}

#[test]
fn mutated_models_load_and_run() {
    let mut runner = proptest::test_runner::TestRunner::new(config());
    runner
        .run(&mutated_text(), |text| {
            MUTATIONS.record(check_text(&text)?);
            Ok(())
        })
        .unwrap();
    let (valid, invalid) = MUTATIONS.report();
    assert!(invalid > 0 && valid > 0, "both outcomes must occur");
}

/// Arbitrary short strings, mostly RON-ish punctuation: the loader's edge cases (empty, only
/// comments, unterminated strings and comments, lone carriage returns, non-ASCII).
#[test]
fn arbitrary_text_never_panics() {
    let mut runner = proptest::test_runner::TestRunner::new(config());
    let strategy = prop_oneof![
        "[ \t\r\n(){}\\[\\],:\"/*a-z0-9.\\-éЖ😀]{0,40}",
        any::<String>(),
        Just(String::new()),
        Just("// only a comment".to_string()),
        Just("/* unterminated".to_string()),
        Just("Model(".to_string()),
        Just("\r".to_string()),
        Just("Model(name: \"a\r".to_string()),
    ];
    runner
        .run(&strategy, |text| {
            check_text(&text)?;
            Ok(())
        })
        .unwrap();
}

/// Two models found by `random_models_load_and_run` (shrunk by hand) that used to hang: each has
/// a queue whose task hands the next task to the same queue and then ends at the same instant, so
/// the next task starts at once and does the same. Simulated time stopped, and since these steps
/// are not events, the run ignored `max_events` and the wall-clock limit and `archsim run` never
/// returned. Since 28adb84 the engine ends such a run after a bounded number of steps in one
/// instant and marks it truncated; this checks it stays so.
/// - `direct`: the queue calls a server that enqueues onto the queue, no `Work` anywhere on the
///   loop. Validation accepts it: only cycles of synchronous calls are rejected.
/// - `crash`: a reasonable model (a job that re-enqueues itself and then calls a service) that
///   runs fine until the service crashes at 1 s; from then on each call fails at once and the
///   loop spins. No static check can rule this one out.
#[test]
fn zero_time_enqueue_loop_is_bounded() {
    let direct = r#"Model(name: "zero-time loop",
    workload: Workload(arrival: Poisson(rate: 100.0), entry: "s"),
    components: {
        "s": Server(workers: 1, handler: [Enqueue("q")]),
        "q": Queue(workers: 1, handler: [Call("s")]),
    })"#;
    let crash = r#"Model(name: "loop through a crashed server",
    workload: Workload(arrival: Poisson(rate: 100.0), entry: "s"),
    components: {
        "s": Server(workers: 1, handler: [Work(Exp(mean_ms: 1.0)), Enqueue("q")]),
        "q": Queue(workers: 1, handler: [Enqueue("q"), Call("t")]),
        "t": Server(workers: 1, handler: [Work(Exp(mean_ms: 1.0))]),
    },
    failures: [Crash(component: "t", at_s: 1.0)])"#;
    for (name, text) in [("direct", direct), ("crash", crash)] {
        let model = Model::from_text(text, FILE).expect("the validator accepts it");
        let opts = RunOptions {
            duration_s: Some(2.0),
            warmup_s: Some(0.5),
            max_events: Some(MAX_EVENTS),
            ..RunOptions::at_traffic(1.0)
        };
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let _ = tx.send(run_point(&model, &opts));
        });
        let s = rx
            .recv_timeout(std::time::Duration::from_secs(20))
            .unwrap_or_else(|_| panic!("{name}: the run did not end within 20 s"))
            .expect("runs");
        assert!(s.checks.conservation, "{name}: {:?}", s.requests);
        assert!(
            s.engine.events <= MAX_EVENTS,
            "{name}: {} events",
            s.engine.events
        );
        assert!(
            s.engine.truncated,
            "{name}: a run stuck at one instant must say it stopped early"
        );
        assert!(
            !s.stable,
            "{name}: a point stopped in a loop is not a steady state"
        );
        assert!(
            s.warnings
                .iter()
                .any(|w| w.contains("without simulated time passing")),
            "{name}: the warning must name the loop: {:?}",
            s.warnings
        );
    }
}

/// Found by the `load_and_run` fuzz target (a bundled model with one link latency of 4e21 ms).
/// A network delay beyond the clock's range (2^64 ns, 584 years) was added to the current time
/// without saturating. 28adb84 made `hop`, the response hop and the frame's arrival time
/// saturate, but the event that delivers the call is still scheduled at `self.now + d`
/// (src/engine/sim.rs:1222, `Sim::call`): a debug build (and the fuzz target) panics with
/// "attempt to add with overflow", and a release build wraps the time round to just before now,
/// so the call arrives at once: here the server serves ~10 visits a second (with a mean sojourn
/// of 5 694 ms) although no request can reach it within the run. Conservation still holds and no
/// request completes (their responses saturate), which is why the simpler checks pass.
#[test]
fn huge_network_delay_does_not_wrap_the_clock() {
    let text = r#"Model(name: "huge hop",
    workload: Workload(arrival: Poisson(rate: 10.0), entry: "s"),
    network: Network(regions: ["a"], same_region: Const(ms: 1e20)),
    components: { "s": Server(workers: 1, handler: [Work(Exp(mean_ms: 1.0))]) })"#;
    let model = Model::from_text(text, FILE).expect("the validator accepts it");
    let opts = RunOptions {
        duration_s: Some(10.0),
        warmup_s: Some(1.0),
        ..RunOptions::at_traffic(1.0)
    };
    let s = run_point(&model, &opts).expect("runs");
    assert!(s.checks.conservation);
    assert_eq!(
        s.requests.completed.0, 0.0,
        "every request crosses a hop of 1e20 ms, so none can complete in 10 s: {:?}",
        s.requests
    );
    let server = s.components.get("s").expect("the server is reported");
    assert_eq!(
        server.throughput_rps, 0.0,
        "no call can reach the server across a hop of 1e20 ms, yet it served visits: {server:?}"
    );
}
