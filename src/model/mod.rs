//! Models: the typed, validated description of one architecture, and how it is loaded from RON.
//!
//! Loading happens in stages, each with its own failure mode: RON text → [`raw::RawModel`] (syntax,
//! types, unknown fields; positions from ron) → [`Model`] (meaning: references, cycles, ranges;
//! positions from [`span::SpanMap`]). Everything after this module trusts the model completely.

pub mod graph;
pub mod params;
pub mod raw;
pub mod span;
pub mod validate;

use crate::dist::Dist;
use std::fmt;
use std::path::Path as FsPath;

pub use validate::{Diagnostic, LoadError};

/// Index of a component in [`Model::components`].
pub type CompId = usize;

/// A validated architecture.
#[derive(Debug, Clone)]
pub struct Model {
    pub name: String,
    pub description: Option<String>,
    pub workload: Workload,
    pub components: Vec<Component>,
    pub network: Option<Network>,
    pub failures: Vec<Failure>,
    pub sim: SimSettings,
}

#[derive(Debug, Clone)]
pub struct Failure {
    pub component: CompId,
    /// None: every instance.
    pub instance: Option<u32>,
    pub kind: FailureKind,
}

#[derive(Debug, Clone)]
pub enum FailureKind {
    Scheduled { at_s: f64, for_s: Option<f64> },
    Random { mtbf_s: f64, mttr_s: f64 },
}

#[derive(Debug, Clone)]
pub struct Retry {
    pub max: u32,
    pub backoff_ms: f64,
    pub multiplier: f64,
    pub jitter: bool,
    pub budget: Option<f64>,
}

#[derive(Debug, Clone)]
pub struct HealthCheck {
    pub interval_s: f64,
    pub unhealthy: u32,
    pub healthy: u32,
}

#[derive(Debug, Clone)]
pub struct Memory {
    pub base_mb: f64,
    pub per_request_mb: f64,
    pub limit_mb: f64,
    pub restart_s: f64,
}

/// Index of a region in [`Network::regions`].
pub type RegionId = usize;

/// Regions and the one-way latency of a message between them.
#[derive(Debug, Clone)]
pub struct Network {
    pub regions: Vec<String>,
    pub same_region: Dist,
    /// `links[a][b]`: one-way latency from region a to region b (symmetric; the diagonal is
    /// `same_region`).
    pub links: Vec<Vec<Dist>>,
    pub serialization: Option<Dist>,
}

impl Network {
    /// Mean one-way latency of a message from `a` to `b`, serialisation included, in ms.
    pub fn mean_hop_ms(&self, a: RegionId, b: RegionId) -> f64 {
        self.links[a][b].mean_ms() + self.serialization.as_ref().map_or(0.0, |d| d.mean_ms())
    }
}

#[derive(Debug, Clone)]
pub struct Workload {
    pub arrival: Arrival,
    /// At least one; a workload written with `entry` has a single class named `default`.
    pub classes: Vec<Class>,
    pub profile: Profile,
    pub timeout_ms: Option<f64>,
    /// Client regions with their shares of the traffic (normalised); empty without a network.
    pub clients: Vec<(RegionId, f64)>,
    /// Distinct clients of an open workload (for browser caches).
    pub population: Option<u32>,
    pub retry: Option<Retry>,
}

#[derive(Debug, Clone)]
pub enum Arrival {
    /// Open Poisson arrivals, requests per second at 1x traffic.
    Poisson { rate: f64 },
    /// A closed population: each user waits a think time between a response and its next request.
    Closed { users: u32, think: Dist },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    Read,
    Write,
}

#[derive(Debug, Clone)]
pub enum KeyLaw {
    Zipf { n: u64, s: f64 },
    Uniform { n: u64 },
}

#[derive(Debug, Clone)]
pub struct Class {
    pub name: String,
    pub weight: f64,
    pub entry: CompId,
    pub op: Op,
    pub keys: Option<KeyLaw>,
    pub max_age_s: Option<f64>,
}

/// Multiplies the arrival rate over (simulated) time.
#[derive(Debug, Clone)]
pub enum Profile {
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
    Diurnal {
        period_s: f64,
        amplitude: f64,
    },
    Table(Vec<(f64, f64)>),
}

impl Profile {
    /// The rate factor at time `t_s` (seconds since the start of the run).
    pub fn factor(&self, t_s: f64) -> f64 {
        match self {
            Profile::Steady => 1.0,
            Profile::Step { at_s, factor } => {
                if t_s >= *at_s {
                    *factor
                } else {
                    1.0
                }
            }
            Profile::Spike {
                start_s,
                duration_s,
                factor,
            } => {
                if t_s >= *start_s && t_s < start_s + duration_s {
                    *factor
                } else {
                    1.0
                }
            }
            Profile::Ramp { from, to, over_s } => {
                let x = (t_s / over_s).clamp(0.0, 1.0);
                from + (to - from) * x
            }
            Profile::Diurnal {
                period_s,
                amplitude,
            } => 1.0 + amplitude * (std::f64::consts::TAU * t_s / period_s).sin(),
            Profile::Table(points) => {
                let mut f = 1.0;
                for &(t, v) in points {
                    if t_s >= t {
                        f = v;
                    } else {
                        break;
                    }
                }
                f
            }
        }
    }

    /// An upper bound of [`Profile::factor`] over all time (the thinning envelope).
    pub fn max_factor(&self) -> f64 {
        match self {
            Profile::Steady => 1.0,
            Profile::Step { factor, .. } | Profile::Spike { factor, .. } => factor.max(1.0),
            Profile::Ramp { from, to, .. } => from.max(*to),
            Profile::Diurnal { amplitude, .. } => 1.0 + amplitude.abs(),
            Profile::Table(points) => points.iter().map(|p| p.1).fold(1.0, f64::max),
        }
    }
}

#[derive(Debug, Clone)]
pub struct Component {
    pub name: String,
    pub kind: Kind,
    /// Where it runs (always set when the model has a network).
    pub region: Option<RegionId>,
    /// Dollars per instance per month.
    pub cost_per_month: f64,
}

/// Default monthly prices, in dollars: the article's $5 box per CPU, a managed load balancer,
/// a small managed Redis, a worker box for a queue; external APIs and CDN free tiers cost 0.
pub const PRICE_PER_CPU: f64 = 5.0;
pub const PRICE_LOAD_BALANCER: f64 = 18.0;
pub const PRICE_CACHE: f64 = 15.0;
pub const PRICE_QUEUE: f64 = 5.0;

#[derive(Debug, Clone)]
pub enum Kind {
    Server(Server),
    LoadBalancer(LoadBalancer),
    Cache(Cache),
    Database(Database),
    Queue(Queue),
    ExternalApi(ExternalApi),
    Cdn(Cdn),
}

impl Kind {
    pub fn name(&self) -> &'static str {
        match self {
            Kind::Server(_) => "Server",
            Kind::LoadBalancer(_) => "LoadBalancer",
            Kind::Cache(_) => "Cache",
            Kind::Database(_) => "Database",
            Kind::Queue(_) => "Queue",
            Kind::ExternalApi(_) => "ExternalApi",
            Kind::Cdn(_) => "Cdn",
        }
    }
}

impl Component {
    /// Dollars per month for all instances (a database's replicas cost what its primary does).
    pub fn monthly_cost(&self) -> f64 {
        self.cost_per_month * self.instances() as f64
    }

    /// Number of separately queued copies (servers, database primary + replicas).
    pub fn instances(&self) -> u32 {
        match &self.kind {
            Kind::Server(s) => s.instances,
            Kind::Database(d) => 1 + d.replicas,
            Kind::Cdn(c) => c.edges.len() as u32,
            Kind::LoadBalancer(_) | Kind::Cache(_) | Kind::Queue(_) | Kind::ExternalApi(_) => 1,
        }
    }

    /// A Cache or a Cdn: it has lookups and a hit ratio.
    pub fn is_cache(&self) -> bool {
        matches!(self.kind, Kind::Cache(_) | Kind::Cdn(_))
    }

    /// Workers per instance; `None` means unbounded (no queueing).
    pub fn workers(&self) -> Option<u32> {
        match &self.kind {
            Kind::Server(s) => Some(s.workers),
            Kind::Database(d) => Some(d.workers),
            Kind::Queue(q) => Some(q.workers),
            Kind::Cache(c) => c.workers,
            Kind::ExternalApi(e) => e.concurrency,
            Kind::LoadBalancer(_) | Kind::Cdn(_) => None,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// A worker is held from admission to response, also while calls are outstanding.
    Blocking,
    /// A worker is held only during `Work` steps.
    Async,
}

#[derive(Debug, Clone)]
pub struct Server {
    pub instances: u32,
    pub workers: u32,
    pub handler: Vec<Step>,
    /// Per-class replacements of `handler`, indexed by class (None: use `handler`).
    pub class_handlers: Vec<Option<Vec<Step>>>,
    pub queue_capacity: Option<u32>,
    pub mode: Mode,
    /// Connection pools per instance, by target component.
    pub pools: Vec<(CompId, Pool)>,
    pub memory: Option<Memory>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Pool {
    pub size: u32,
    pub acquire_timeout_ms: Option<f64>,
}

impl Server {
    pub fn handler_for(&self, class: usize) -> &[Step] {
        self.class_handlers
            .get(class)
            .and_then(|h| h.as_deref())
            .unwrap_or(&self.handler)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Policy {
    RoundRobin,
    Random,
    LeastConnections,
    PowerOfTwoChoices,
    Sticky,
}

#[derive(Debug, Clone)]
pub struct LoadBalancer {
    pub targets: Vec<CompId>,
    pub policy: Policy,
    pub health_check: Option<HealthCheck>,
}

#[derive(Debug, Clone)]
pub struct Cache {
    pub capacity: Option<u64>,
    pub ttl_s: Option<f64>,
    pub hit: Dist,
    pub backend: CompId,
    pub workers: Option<u32>,
    pub coalesce: bool,
}

#[derive(Debug, Clone)]
pub struct Database {
    pub workers: u32,
    pub read: Dist,
    pub write: Dist,
    pub replicas: u32,
    pub replication_lag: Option<Dist>,
    pub max_connections: Option<u32>,
    pub connect: Option<Dist>,
}

#[derive(Debug, Clone)]
pub struct Queue {
    pub workers: u32,
    pub handler: Vec<Step>,
    pub capacity: Option<u32>,
    /// When full, producers wait for space instead of dropping the task.
    pub block_when_full: bool,
}

#[derive(Debug, Clone)]
pub struct ExternalApi {
    pub latency: Dist,
    pub concurrency: Option<u32>,
    pub rate_limit_rps: Option<f64>,
    pub error_rate: f64,
}

#[derive(Debug, Clone)]
pub struct Edge {
    pub region: RegionId,
    pub capacity: Option<u64>,
    pub ttl_s: Option<f64>,
}

#[derive(Debug, Clone)]
pub struct Cdn {
    pub edges: Vec<Edge>,
    pub hit: Dist,
    pub origin: CompId,
}

#[derive(Debug, Clone)]
pub enum Step {
    Work(Dist),
    Call(CompId),
    Maybe { p: f64, steps: Vec<Step> },
    Parallel(Vec<Vec<Step>>),
    Enqueue(CompId),
    CallWith(CompId, CallOptions),
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub struct CallOptions {
    pub timeout_ms: Option<f64>,
    pub retries: u32,
    pub backoff_ms: f64,
}

/// Run settings from the model's `sim`, before command-line overrides.
#[derive(Debug, Clone, Default)]
pub struct SimSettings {
    pub duration_s: Option<f64>,
    pub warmup_s: Option<f64>,
    pub seed: Option<u64>,
    pub replications: Option<u32>,
    pub max_in_flight: Option<u32>,
}

impl Model {
    pub fn component_id(&self, name: &str) -> Option<CompId> {
        self.components.iter().position(|c| c.name == name)
    }

    /// Loads and validates a model file.
    pub fn load(path: &FsPath) -> Result<Model, LoadError> {
        let text = std::fs::read_to_string(path).map_err(|e| LoadError::io(path, &e))?;
        Model::from_text(&text, &path.display().to_string())
    }

    /// Parses and validates model text; `file` names it in error messages.
    pub fn from_text(text: &str, file: &str) -> Result<Model, LoadError> {
        validate::load(text, file)
    }
}

impl fmt::Display for Op {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Op::Read => "read",
            Op::Write => "write",
        })
    }
}
