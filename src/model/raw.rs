//! The model as written: serde types that mirror the RON syntax one to one, before any checking.
//!
//! Nothing here is trusted. Field names and variant names are the user-facing format documented in
//! docs/model-format.md; unknown fields are rejected by serde so a typo never goes unnoticed.

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields, rename = "Model")]
pub struct RawModel {
    pub name: String,
    #[serde(default)]
    pub description: Option<String>,
    pub workload: RawWorkload,
    /// Components in file order (a map in RON). Duplicate names are found by the span scanner.
    #[serde(with = "ordered_map")]
    pub components: Vec<(String, RawComponent)>,
    #[serde(default)]
    pub network: Option<RawNetwork>,
    /// Crashes and recoveries, scheduled or random.
    #[serde(default)]
    pub failures: Option<Vec<RawFailure>>,
    #[serde(default)]
    pub sim: Option<RawSim>,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields, rename = "Workload")]
pub struct RawWorkload {
    pub arrival: RawArrival,
    #[serde(default)]
    pub entry: Option<String>,
    #[serde(default)]
    pub classes: Option<Vec<RawClass>>,
    #[serde(default)]
    pub profile: Option<RawProfile>,
    #[serde(default)]
    pub timeout_ms: Option<f64>,
    /// Clients retry failed or timed-out requests.
    #[serde(default)]
    pub retry: Option<RawRetry>,
    /// Where clients are: regions with shares of the traffic (needs `network`).
    #[serde(default)]
    pub clients: Option<Vec<RawClientRegion>>,
    /// How many distinct clients (browsers) send the open arrivals; each request comes from one
    /// at random. Needed for browser caching (`max_age_s`). Closed workloads use their users.
    #[serde(default)]
    pub population: Option<u32>,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub enum RawArrival {
    Poisson { rate: f64 },
    Closed { users: u32, think: RawDist },
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields, rename = "Class")]
pub struct RawClass {
    pub name: String,
    pub weight: f64,
    pub entry: String,
    #[serde(default)]
    pub op: Option<RawOp>,
    #[serde(default)]
    pub keys: Option<RawKeys>,
    /// Browser caching: a client that fetched this key less than `max_age_s` ago is answered by
    /// its own browser, without reaching the network.
    #[serde(default)]
    pub max_age_s: Option<f64>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
pub enum RawOp {
    Read,
    Write,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub enum RawKeys {
    Zipf { n: u64, s: f64 },
    Uniform { n: u64 },
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub enum RawProfile {
    Steady,
    Step {
        at_s: f64,
        factor: f64,
    },
    Spike {
        start_s: f64,
        duration_s: f64,
        factor: f64,
    },
    Ramp {
        from: f64,
        to: f64,
        over_s: f64,
    },
    /// `factor(t) = 1 + amplitude · sin(2π t / period_s)`.
    Diurnal {
        period_s: f64,
        amplitude: f64,
    },
    /// Piecewise-constant factors: `(time_s, factor)` pairs, each factor holding until the next time.
    Table(Vec<(f64, f64)>),
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub enum RawComponent {
    Server {
        #[serde(default)]
        instances: Option<u32>,
        workers: u32,
        handler: Vec<RawStep>,
        /// Per-class handlers that replace `handler` for the named classes.
        #[serde(default)]
        handlers: Option<BTreeMap<String, Vec<RawStep>>>,
        #[serde(default)]
        queue_capacity: Option<u32>,
        #[serde(default)]
        mode: Option<RawMode>,
        /// Connection pools of each instance, by the component they connect to.
        #[serde(default)]
        pools: Option<BTreeMap<String, RawPool>>,
        /// Memory use per instance; past the limit the instance crashes and restarts.
        #[serde(default)]
        memory: Option<RawMemory>,
        /// The machine: `Small` ($5, 1 CPU), `Large` ($40, 8 CPUs) or `Box(cpus, speed, ...)`.
        /// Workers are per CPU; service times are divided by the speed.
        #[serde(default)]
        size: Option<RawSize>,
        /// The region this component runs in (see `network`).
        #[serde(default)]
        region: Option<String>,
        /// Price of one instance per month, in dollars (defaults in docs/model-format.md).
        #[serde(default)]
        cost_per_month: Option<f64>,
    },
    LoadBalancer {
        targets: Vec<String>,
        #[serde(default)]
        policy: Option<RawPolicy>,
        /// Without health checks a balancer keeps sending requests to dead instances.
        #[serde(default)]
        health_check: Option<RawHealthCheck>,
        /// The region this component runs in (see `network`).
        #[serde(default)]
        region: Option<String>,
        /// Price of one instance per month, in dollars (defaults in docs/model-format.md).
        #[serde(default)]
        cost_per_month: Option<f64>,
    },
    Cache {
        #[serde(default)]
        capacity: Option<u64>,
        #[serde(default)]
        ttl_s: Option<f64>,
        hit: RawDist,
        backend: String,
        /// Workers answering lookups; default unbounded (a cache is rarely the queueing point).
        #[serde(default)]
        workers: Option<u32>,
        /// Concurrent misses on one key wait for the first instead of all going to the backend.
        #[serde(default)]
        coalesce: Option<bool>,
        /// The region this component runs in (see `network`).
        #[serde(default)]
        region: Option<String>,
        /// Price of one instance per month, in dollars (defaults in docs/model-format.md).
        #[serde(default)]
        cost_per_month: Option<f64>,
    },
    Database {
        workers: u32,
        read: RawDist,
        write: RawDist,
        #[serde(default)]
        replicas: Option<u32>,
        #[serde(default)]
        replication_lag: Option<RawDist>,
        #[serde(default)]
        max_connections: Option<u32>,
        /// Connection setup (handshake and authentication) paid by every call that does not come
        /// through a pool; the connection counts against `max_connections` meanwhile.
        #[serde(default)]
        connect: Option<RawDist>,
        #[serde(default)]
        size: Option<RawSize>,
        /// The region this component runs in (see `network`).
        #[serde(default)]
        region: Option<String>,
        /// Price of one instance per month, in dollars (defaults in docs/model-format.md).
        #[serde(default)]
        cost_per_month: Option<f64>,
    },
    Queue {
        workers: u32,
        handler: Vec<RawStep>,
        #[serde(default)]
        capacity: Option<u32>,
        /// What a producer does when the queue is full: drop the task (default) or wait.
        #[serde(default)]
        when_full: Option<RawWhenFull>,
        /// The region this component runs in (see `network`).
        #[serde(default)]
        region: Option<String>,
        /// Price of one instance per month, in dollars (defaults in docs/model-format.md).
        #[serde(default)]
        cost_per_month: Option<f64>,
    },
    /// A dependency outside our control (a payment or email provider).
    ExternalApi {
        latency: RawDist,
        /// Requests it serves at once; beyond, they wait. Default unbounded.
        #[serde(default)]
        concurrency: Option<u32>,
        /// Requests per second it accepts; beyond, calls are refused (HTTP 429) and fail.
        #[serde(default)]
        rate_limit_rps: Option<f64>,
        /// Probability that a call fails after its latency.
        #[serde(default)]
        error_rate: Option<f64>,
        #[serde(default)]
        region: Option<String>,
        #[serde(default)]
        cost_per_month: Option<f64>,
    },
    /// Edge caches for static content, each in a region; a request goes to the edge nearest its
    /// client and to `origin` on a miss.
    Cdn {
        edges: Vec<RawEdge>,
        hit: RawDist,
        origin: String,
        /// Price per edge per month (default 0: the free tiers the article mentions).
        #[serde(default)]
        cost_per_month: Option<f64>,
    },
}

impl RawComponent {
    pub fn cost_per_month(&self) -> Option<f64> {
        match self {
            RawComponent::Server { cost_per_month, .. }
            | RawComponent::LoadBalancer { cost_per_month, .. }
            | RawComponent::Cache { cost_per_month, .. }
            | RawComponent::Database { cost_per_month, .. }
            | RawComponent::Queue { cost_per_month, .. }
            | RawComponent::ExternalApi { cost_per_month, .. }
            | RawComponent::Cdn { cost_per_month, .. } => *cost_per_month,
        }
    }

    pub fn size(&self) -> Option<&RawSize> {
        match self {
            RawComponent::Server { size, .. } | RawComponent::Database { size, .. } => {
                size.as_ref()
            }
            _ => None,
        }
    }

    pub fn region(&self) -> Option<&str> {
        match self {
            RawComponent::Server { region, .. }
            | RawComponent::LoadBalancer { region, .. }
            | RawComponent::Cache { region, .. }
            | RawComponent::Database { region, .. }
            | RawComponent::Queue { region, .. }
            | RawComponent::ExternalApi { region, .. } => region.as_deref(),
            RawComponent::Cdn { .. } => None,
        }
    }

    pub fn kind_name(&self) -> &'static str {
        match self {
            RawComponent::Server { .. } => "Server",
            RawComponent::LoadBalancer { .. } => "LoadBalancer",
            RawComponent::Cache { .. } => "Cache",
            RawComponent::Database { .. } => "Database",
            RawComponent::Queue { .. } => "Queue",
            RawComponent::ExternalApi { .. } => "ExternalApi",
            RawComponent::Cdn { .. } => "Cdn",
        }
    }
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub enum RawSize {
    /// The article's $5/month box: 1 CPU, 1 GB.
    Small,
    /// The article's $40/month box: 8 CPUs, 16 GB.
    Large,
    Box {
        cpus: u32,
        /// Relative speed of one CPU (2.0 halves every service time).
        #[serde(default)]
        speed: Option<f64>,
        /// Default: $5 per CPU.
        #[serde(default)]
        cost_per_month: Option<f64>,
    },
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub enum RawFailure {
    /// Instance `instance` (all instances when omitted) of `component` crashes at `at_s` and
    /// recovers after `for_s` (never, when omitted).
    Crash {
        component: String,
        #[serde(default)]
        instance: Option<u32>,
        at_s: f64,
        #[serde(default)]
        for_s: Option<f64>,
    },
    /// Each instance (or `instance`) fails after exponential up times of mean `mtbf_s` and
    /// recovers after exponential down times of mean `mttr_s`.
    Random {
        component: String,
        #[serde(default)]
        instance: Option<u32>,
        mtbf_s: f64,
        mttr_s: f64,
    },
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields, rename = "Retry")]
pub struct RawRetry {
    /// Retries after the first attempt.
    pub max: u32,
    pub backoff_ms: f64,
    #[serde(default)]
    pub multiplier: Option<f64>,
    /// Full jitter: wait a uniform time between 0 and the backoff (default true).
    #[serde(default)]
    pub jitter: Option<bool>,
    /// Retry budget: at most this many retries per request sent (e.g. 0.1); default unlimited.
    #[serde(default)]
    pub budget: Option<f64>,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields, rename = "HealthCheck")]
pub struct RawHealthCheck {
    pub interval_s: f64,
    /// Consecutive failed checks before an instance is taken out (default 3).
    #[serde(default)]
    pub unhealthy: Option<u32>,
    /// Consecutive passed checks before it is put back (default 2).
    #[serde(default)]
    pub healthy: Option<u32>,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields, rename = "Memory")]
pub struct RawMemory {
    pub base_mb: f64,
    pub per_request_mb: f64,
    pub limit_mb: f64,
    /// Time to restart after running out of memory (default 30 s).
    #[serde(default)]
    pub restart_s: Option<f64>,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields, rename = "Edge")]
pub struct RawEdge {
    pub region: String,
    #[serde(default)]
    pub capacity: Option<u64>,
    #[serde(default)]
    pub ttl_s: Option<f64>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
pub enum RawWhenFull {
    Drop,
    Block,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields, rename = "Network")]
pub struct RawNetwork {
    pub regions: Vec<String>,
    /// One-way latency inside a region; default Const(ms: 0.25).
    #[serde(default)]
    pub same_region: Option<RawDist>,
    /// One-way latency between two regions (both directions).
    #[serde(default)]
    pub links: Vec<(String, String, RawDist)>,
    /// Serialisation and deserialisation per message (request or response) of every call.
    #[serde(default)]
    pub serialization: Option<RawDist>,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields, rename = "ClientRegion")]
pub struct RawClientRegion {
    pub region: String,
    pub share: f64,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields, rename = "Pool")]
pub struct RawPool {
    pub size: u32,
    #[serde(default)]
    pub acquire_timeout_ms: Option<f64>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
pub enum RawMode {
    Blocking,
    Async,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
pub enum RawPolicy {
    RoundRobin,
    Random,
    LeastConnections,
    PowerOfTwoChoices,
    /// Consistent hashing by client (or by key when clients are anonymous): a client's session
    /// stays on one instance.
    Sticky,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub enum RawStep {
    Work(RawDist),
    Call(String),
    Maybe {
        p: f64,
        steps: Vec<RawStep>,
    },
    Parallel {
        branches: Vec<Vec<RawStep>>,
    },
    Enqueue(String),
    /// A call with its own timeout and retries: the caller gives up after `timeout_ms` (the callee
    /// still finishes its work) and retries a failed or timed-out call up to `retries` times,
    /// after a jittered exponential backoff starting at `backoff_ms`.
    CallWith {
        target: String,
        #[serde(default)]
        timeout_ms: Option<f64>,
        #[serde(default)]
        retries: Option<u32>,
        #[serde(default)]
        backoff_ms: Option<f64>,
    },
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub enum RawDist {
    Exp {
        mean_ms: f64,
    },
    Const {
        ms: f64,
    },
    Uniform {
        min_ms: f64,
        max_ms: f64,
    },
    Erlang {
        k: u32,
        mean_ms: f64,
    },
    LogNormal {
        median_ms: f64,
        p99_ms: f64,
    },
    Gamma {
        shape: f64,
        mean_ms: f64,
    },
    Weibull {
        shape: f64,
        mean_ms: f64,
    },
    /// Pareto with minimum `min_ms` and tail index `alpha` (> 1 so the mean exists).
    Pareto {
        min_ms: f64,
        alpha: f64,
    },
    /// Equally likely observed values.
    Empirical {
        samples_ms: Vec<f64>,
    },
    /// A query over a table of `rows` rows: an exponential base time (parsing, planning, I/O)
    /// plus, with an index, a B-tree descent of `per_level_ms` per level (log2 of the rows) or,
    /// without one, a full scan of `per_row_ns` per row.
    Query {
        rows: u64,
        indexed: bool,
        #[serde(default)]
        base_ms: Option<f64>,
        #[serde(default)]
        per_row_ns: Option<f64>,
        #[serde(default)]
        per_level_ms: Option<f64>,
    },
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields, rename = "Sim")]
pub struct RawSim {
    #[serde(default)]
    pub duration_s: Option<f64>,
    #[serde(default)]
    pub warmup_s: Option<f64>,
    #[serde(default)]
    pub seed: Option<u64>,
    #[serde(default)]
    pub replications: Option<u32>,
    /// Cap on requests in flight; beyond it arrivals are shed and the run is marked unstable.
    #[serde(default)]
    pub max_in_flight: Option<u32>,
}

/// A RON map read into a `Vec` so that file order survives (charts and tables list components in
/// the order the user wrote them).
mod ordered_map {
    use serde::de::{MapAccess, Visitor};
    use serde::ser::SerializeMap;
    use serde::{Deserialize, Deserializer, Serialize, Serializer};
    use std::fmt;
    use std::marker::PhantomData;

    pub fn serialize<S: Serializer, V: Serialize>(
        entries: &[(String, V)],
        serializer: S,
    ) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(Some(entries.len()))?;
        for (k, v) in entries {
            map.serialize_entry(k, v)?;
        }
        map.end()
    }

    pub fn deserialize<'de, D: Deserializer<'de>, V: Deserialize<'de>>(
        deserializer: D,
    ) -> Result<Vec<(String, V)>, D::Error> {
        struct Entries<V>(PhantomData<V>);
        impl<'de, V: Deserialize<'de>> Visitor<'de> for Entries<V> {
            type Value = Vec<(String, V)>;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a map from component names to components")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut access: A) -> Result<Self::Value, A::Error> {
                let mut out = Vec::new();
                while let Some((k, v)) = access.next_entry::<String, V>()? {
                    out.push((k, v));
                }
                Ok(out)
            }
        }
        deserializer.deserialize_map(Entries(PhantomData))
    }
}
