//! The simulation loop: requests as frames moving through compiled component programs.
//!
//! A *request* is what a client sent (or a task handed to a queue); a *frame* is one request's
//! visit to one component instance (or one branch of a `Parallel` step). Frames form a tree
//! through their `parent` links; a frame finishes by answering its parent, and the root answers
//! the client. Requests and frames live in slabs with free lists, so a steady-state run allocates
//! nothing per event, and memory is bounded by the number of requests in flight (itself capped).
//!
//! Continuations never recurse: anything that makes a frame ready pushes it on `ready`, drained
//! after each event, so a queue of a million zero-time requests cannot overflow the stack.

use super::program::{Instr, NO_OPTS, NO_PROGRAM, Program};
use super::queue::EventQueue;
use super::rng::{StreamKey, StreamRng};
use super::time::{self, Time};
use crate::components::balancer::Balancer;
use crate::components::cache::{CacheCounters, CacheStore};
use crate::components::database::Replication;
use crate::components::station::{Station, StationStats, UNBOUNDED};
use crate::dist::Sampler;
use crate::model::{Arrival, CompId, FailureKind, KeyLaw, Kind, Mode, Model, Op, Profile};
use crate::stats::histogram::LatencyHistogram;
use crate::stats::timeline::{Timeline, TimelineEvent, TimelineRecorder};
use rand::RngExt;
use rand_distr::{Distribution, Exp1, Zipf};
use std::collections::VecDeque;

/// Everything a single run needs besides the model.
#[derive(Debug, Clone)]
pub struct RunConfig {
    pub traffic: f64,
    pub duration_s: f64,
    pub warmup_s: f64,
    pub key: StreamKey,
    /// Requests (and queued tasks) alive at once; beyond it arrivals are shed.
    pub max_in_flight: u32,
    /// Stop after this many events (the result is marked truncated).
    pub max_events: Option<u64>,
    /// Record a time series with this interval (seconds).
    pub timeline_s: Option<f64>,
    /// Stop after this much wall-clock time (the result is marked truncated).
    pub max_wall_s: Option<f64>,
}

pub const DEFAULT_MAX_IN_FLIGHT: u32 = 100_000;

/// Set by Ctrl-C: every running simulation stops at its next check and reports itself interrupted.
static STOP: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

/// Asks every running and future simulation to stop (from a signal handler).
pub fn request_stop() {
    STOP.store(true, std::sync::atomic::Ordering::Relaxed);
}

pub fn stop_requested() -> bool {
    STOP.load(std::sync::atomic::Ordering::Relaxed)
}

/// How often (in events) the loop looks at the clock and the stop flag: rare enough to cost
/// nothing, frequent enough to stop within milliseconds.
const CHECK_EVERY: u64 = 1 << 14;

/// Steps one instant may take before the run is declared stuck in a zero-time loop.
const ZERO_TIME_STEP_LIMIT: u64 = 10_000_000;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Outcome {
    Ok = 0,
    Failed = 1,
    Dropped = 2,
}

#[derive(Debug, Clone, Copy)]
enum Ev {
    Arrival,
    Think(u32),
    WorkDone {
        frame: u32,
        generation: u32,
    },
    Timeout {
        req: u32,
        generation: u32,
    },
    /// A pooled call gave up waiting for a connection.
    PoolTimeout {
        frame: u32,
        generation: u32,
    },
    /// An unpooled call finished setting up its connection.
    ConnectDone {
        frame: u32,
        generation: u32,
    },
    /// A call's request message reached the callee's region.
    Arrive {
        frame: u32,
        generation: u32,
    },
    /// A response (or error) message reached the caller.
    Deliver {
        parent: u32,
        generation: u32,
        req: u32,
        why: Outcome,
    },
    /// A call with a timeout ran out of time; `seq` names the call (a frame makes many).
    CallTimeout {
        frame: u32,
        generation: u32,
        seq: u32,
    },
    /// A call's backoff is over: try again.
    CallRetry {
        frame: u32,
        generation: u32,
    },
    /// A client's backoff is over: send the request again.
    Retry {
        req: u32,
        generation: u32,
    },
    Crash(u32),
    Recover(u32),
    /// A random failure's next up-or-down time; `failure` indexes the model's failures.
    RandomFailure {
        station: u32,
        down: bool,
    },
    HealthTick(u32),
    TimelineTick,
    WarmupEnd,
}

/// What `ready` holds: a frame to run on from its pc (`fail: None`) or to finish with an error,
/// with its generation when it was made ready. A plain struct rather than an enum: it is read
/// back field by field right after it is pushed, so its stores forward to those loads.
#[derive(Debug, Clone, Copy)]
struct Ready {
    frame: u32,
    generation: u32,
    fail: Option<Outcome>,
}

impl Ready {
    #[inline(always)]
    fn advance(frame: u32, generation: u32) -> Ready {
        Ready {
            frame,
            generation,
            fail: None,
        }
    }

    #[inline(always)]
    fn fail(frame: u32, generation: u32, why: Outcome) -> Ready {
        Ready {
            frame,
            generation,
            fail: Some(why),
        }
    }
}

const NONE: u32 = u32::MAX;
const NO_ARRIVAL: (Time, u64) = (Time::MAX, u64::MAX);
/// The key of requests whose class has no key law.
pub const NO_KEY: u64 = u64::MAX;
const PARENT_CLIENT: u32 = u32::MAX;
const PARENT_TASK: u32 = u32::MAX - 1;

#[derive(Debug, Clone, Copy)]
struct Request {
    arrival: Time,
    key: u64,
    class: u16,
    write: bool,
    measured: bool,
    timed_out: bool,
    is_task: bool,
    live: bool,
    /// The closed-workload user who sent it, or the queue a task belongs to.
    owner: u32,
    generation: u32,
    /// The client's region (NO_REGION without a network) and identity (for browser caches).
    region: u16,
    client: u32,
    /// When the first attempt was sent (latency is measured from here).
    first_arrival: Time,
    /// Retries so far (0 for the first attempt).
    attempt: u32,
}

const NO_REGION: u16 = u16::MAX;

#[derive(Debug, Clone, Copy)]
struct Frame {
    req: u32,
    comp: u32,
    station: u32,
    pc: u32,
    parent: u32,
    pending: u32,
    error: Outcome,
    holds: bool,
    root: bool,
    fill_leader: bool,
    arrived: Time,
    wait_since: Time,
    waited: Time,
    generation: u32,
    /// The pool state whose connection this frame holds (for its current call), or NONE.
    pool: u32,
    /// The pool state this frame is queued on for a connection, or NONE.
    pool_wait: u32,
    /// This visit came over a pooled connection (no setup time).
    pooled: bool,
    /// False once freed; with `generation`, tells stale events and responses apart.
    alive: bool,
    /// The parent's generation when this frame was called: a response to an abandoned call
    /// (timed out, or its caller crashed) finds a different generation and is dropped.
    parent_gen: u32,
    /// Retries of the current call so far.
    attempt: u32,
    /// Counts the calls this frame made, so a timeout knows whether its call is still the one
    /// outstanding.
    call_seq: u32,
}

/// A caller-side connection pool definition on one component.
struct PoolDef {
    target: u32,
    /// Index of instance 0's state in `Sim::pools`; instance i uses `first_state + i`.
    first_state: u32,
    timeout: Option<Time>,
}

/// One instance's pool: free connections and the frames waiting for one.
#[derive(Debug, Clone)]
pub struct PoolState {
    pub size: u32,
    pub available: u32,
    waiters: VecDeque<u32>,
    last: Time,
    pub in_use_area: u128,
    pub acquired: u64,
    pub waited: u64,
    pub wait_sum: u128,
    pub timeouts: u64,
}

impl PoolState {
    fn advance_clock(&mut self, now: Time) {
        self.in_use_area += (now - self.last) as u128 * (self.size - self.available) as u128;
        self.last = now;
    }
}

struct Comp {
    asynchronous: bool,
    /// Whether an arrival must pass checks beyond "up" and "full": a memory limit,
    /// `max_connections`, a rate limit, replicas to read from, or connection setup.
    door_checks: bool,
    first_station: u32,
    stations: u32,
    rng: StreamRng,
    rr: u32,
    routed: u64,
    balancer: Option<Balancer>,
    /// One store per instance (a cache has one; a CDN one per edge).
    caches: Vec<CacheStore>,
    coalesce: bool,
    replication: Option<Replication>,
    lag: Option<Sampler>,
    max_connections: Option<u32>,
    task_latency: Option<LatencyHistogram>,
    tasks_enqueued: u64,
    tasks_dropped: u64,
    tasks_failed: u64,
    pools: Vec<PoolDef>,
    /// Connection setup for calls that do not come through a pool (databases).
    connect: Option<Sampler>,
    /// CDN edges coalesce concurrent misses per edge, as real edge caches do.
    coalesce_edges: bool,
    /// An external API's rate limit.
    rate: Option<TokenBucket>,
    /// A queue whose producers wait when it is full, and the producers waiting.
    block_when_full: bool,
    blocked: VecDeque<u32>,
    /// CDN: the edge station serving clients of each region.
    nearest_edge: Vec<u32>,
    rate_limited: u64,
    call_timeouts: u64,
    call_retries: u64,
}

/// Requests allowed per nanosecond, refilled continuously, with a burst of one second's worth.
struct TokenBucket {
    per_ns: f64,
    burst: f64,
    tokens: f64,
    last: Time,
}

impl TokenBucket {
    fn take(&mut self, now: Time) -> bool {
        self.tokens = (self.tokens + (now - self.last) as f64 * self.per_ns).min(self.burst);
        self.last = now;
        if self.tokens >= 1.0 {
            self.tokens -= 1.0;
            true
        } else {
            false
        }
    }
}

/// Message latencies between regions, drawn from one stream.
struct NetworkRt {
    /// `links[a * n + b]`.
    links: Vec<Sampler>,
    n: usize,
    serialization: Option<Sampler>,
    rng: StreamRng,
}

/// A class as the engine needs it.
struct ClassRt {
    entry: u32,
    /// Responses are kept by the client's browser (`max_age_s`).
    browser_cached: bool,
    write: bool,
    cum_weight: f64,
    keys: KeySampler,
}

enum KeySampler {
    None,
    Uniform(u64),
    Zipf(Zipf<f64>),
}

/// The measured results of one run (one replication of one point).
#[derive(Debug, Clone)]
pub struct RunStats {
    pub measured_s: f64,
    pub arrived: u64,
    pub completed: u64,
    pub dropped: u64,
    pub failed: u64,
    pub timed_out: u64,
    pub in_flight: u64,
    /// Arrivals turned away by the in-flight cap (included in `dropped`).
    pub shed: u64,
    /// Responses that came after their client had given up (wasted work).
    pub late_responses: u64,
    /// Queue tasks turned away by the in-flight cap (counted in their queue's drops).
    pub tasks_shed: u64,
    /// Client requests still alive at the end, whether or not their client gave up.
    pub live_at_end: u64,
    /// Requests answered by the client's own browser cache (counted as completed, 0 ms).
    pub browser_hits: u64,
    /// Attempts sent by clients (first attempts and retries) for measured requests.
    pub attempts: u64,
    pub retries: u64,
    /// Retries the retry budget refused.
    pub retries_denied: u64,
    /// Responses that came back to a caller that had stopped waiting (timed out or crashed).
    pub orphaned_responses: u64,
    /// Crashes (true) and recoveries (false): (time, component, instance).
    pub crash_log: Vec<(Time, u32, u32, bool)>,
    /// Instances that crashed for lack of memory.
    pub oom_crashes: u64,
    pub timeline: Option<Timeline>,
    pub latency: LatencyHistogram,
    pub classes: Vec<ClassStats>,
    pub components: Vec<CompStats>,
    pub events: u64,
    /// Stopped before its end: by the event limit, the wall-clock limit, or an interrupt.
    pub truncated: bool,
    pub interrupted: bool,
    /// Stopped because work kept generating work without time passing.
    pub zero_time_loop: bool,
    /// High-water marks of the slabs: requests and frames alive at once, events pending.
    pub peak_requests: u64,
    pub peak_frames: u64,
    pub peak_events: u64,
}

#[derive(Debug, Clone)]
pub struct ClassStats {
    pub name: String,
    pub latency: LatencyHistogram,
    pub browser_hits: u64,
}

#[derive(Debug, Clone)]
pub struct CompStats {
    pub name: String,
    pub kind: &'static str,
    /// Summed over instances.
    pub station: StationStats,
    pub workers_total: Option<u64>,
    pub routed: u64,
    /// Summed over a CDN's edges.
    pub cache: Option<CacheCounters>,
    /// Per CDN edge: (region name, counters).
    pub edges: Vec<(String, CacheCounters)>,
    /// Calls refused by an external API's rate limit.
    pub rate_limited: u64,
    pub call_timeouts: u64,
    pub call_retries: u64,
    /// Balancers: requests refused because no backend was believed healthy; sticky sessions lost.
    pub no_backend: u64,
    pub sessions_lost: u64,
    /// Busy-worker time of each instance (ns · workers).
    pub instance_busy: Vec<u128>,
    pub reads_on_replicas: u64,
    pub stale_reads: u64,
    pub task_latency: Option<LatencyHistogram>,
    pub tasks_enqueued: u64,
    pub tasks_dropped: u64,
    pub tasks_failed: u64,
    /// Tasks waiting at the end of the run (queues).
    pub backlog: u64,
    /// Frames present at the end of the run, over all instances.
    pub present_at_end: u64,
    /// Caller-side pools: (target name, the pool states summed over instances).
    pub pools: Vec<(String, PoolState)>,
}

pub struct Sim<'m> {
    model: &'m Model,
    cfg: RunConfig,
    now: Time,
    end: Time,
    warmup: Time,
    events: EventQueue<Ev>,
    /// (time, sequence number) of the next arrival (`NO_ARRIVAL` if none): kept out of `events`.
    next_arrival: (Time, u64),
    /// A stack: last made ready, first run (cheaper than a FIFO, and just as deterministic).
    ready: Vec<Ready>,
    prog: Program,
    comps: Vec<Comp>,
    stations: Vec<Station>,
    station_comp: Vec<u32>,
    station_region: Vec<u16>,
    network: Option<NetworkRt>,
    retry_tokens: f64,
    retry_rng: StreamRng,
    failure_rng: StreamRng,
    timeline: Option<TimelineRecorder>,
    /// Per station: busy, queue and down time integrated before the last reset (timeline only).
    carried: Vec<(u128, u128, u128)>,
    /// Per station: the integrals at the previous timeline tick.
    tick_last: Vec<(u128, u128, u128)>,
    /// Cumulative shares of the client regions.
    client_regions: Vec<(u16, f64)>,
    /// Browser caches: when each (client, key) was last fetched, for classes with `max_age_s`.
    browser: rustc_hash::FxHashMap<(u32, u64), Time>,
    pools: Vec<PoolState>,
    /// Per station: (balancer component, backend index) of the load trees that follow it.
    watchers: Vec<Vec<(u32, u32)>>,
    requests: Vec<Request>,
    free_requests: Vec<u32>,
    frames: Vec<Frame>,
    free_frames: Vec<u32>,
    live: u32,
    classes: Vec<ClassRt>,
    arrival_rng: StreamRng,
    class_rng: StreamRng,
    think_rng: StreamRng,
    think: Option<Sampler>,
    /// Thinning envelope: the highest arrival rate over the run, per nanosecond.
    peak_rate_per_ns: f64,
    /// Its inverse, the mean gap between candidate arrivals in ns: the next arrival's time is
    /// on the loop's critical path, and a multiply is several times quicker than a divide.
    mean_gap_ns: f64,
    /// New requests need no draws: see `new_request`.
    plain_arrivals: bool,
    /// The arrival rate never changes: no thinning.
    steady: bool,
    /// The workload's retry budget (retries earned per request) and client timeout.
    retry_budget: Option<f64>,
    timeout: Option<Time>,
    // Measured-window counters.
    out: RunStats,
    event_count: u64,
}

impl<'m> Sim<'m> {
    pub fn new(model: &'m Model, cfg: RunConfig) -> Sim<'m> {
        let prog = Program::compile(model);
        let mut stations = Vec::new();
        let mut station_comp = Vec::new();
        let mut station_region = Vec::new();
        let mut pools = Vec::new();
        let mut comps = Vec::new();
        for (id, c) in model.components.iter().enumerate() {
            let first = stations.len() as u32;
            let workers = c.workers().unwrap_or(UNBOUNDED);
            let capacity = match &c.kind {
                Kind::Server(s) => s.queue_capacity,
                Kind::Queue(q) => q.capacity,
                _ => None,
            };
            let n = if matches!(c.kind, Kind::LoadBalancer(_)) {
                0
            } else {
                c.instances()
            };
            for i in 0..n {
                stations.push(Station::new(workers, capacity));
                station_comp.push(id as u32);
                station_region.push(match &c.kind {
                    Kind::Cdn(cdn) => cdn.edges[i as usize].region as u16,
                    _ => c.region.map_or(NO_REGION, |r| r as u16),
                });
            }
            comps.push(Comp {
                door_checks: false,
                asynchronous: match &c.kind {
                    Kind::Server(s) => s.mode == Mode::Async,
                    // A cache answers a lookup and is free again; the miss path's backend call is
                    // the caller's wait, not the cache's.
                    Kind::Cache(_) => true,
                    _ => false,
                },
                first_station: first,
                stations: n,
                rng: cfg.key.stream(&format!("component/{}", c.name)),
                rr: 0,
                routed: 0,
                balancer: None,
                caches: match &c.kind {
                    Kind::Cache(k) => vec![CacheStore::new(k.capacity, k.ttl_s.map(time::from_s))],
                    Kind::Cdn(k) => k
                        .edges
                        .iter()
                        .map(|e| CacheStore::new(e.capacity, e.ttl_s.map(time::from_s)))
                        .collect(),
                    _ => Vec::new(),
                },
                coalesce_edges: matches!(&c.kind, Kind::Cdn(_)),
                rate: match &c.kind {
                    Kind::ExternalApi(api) => api.rate_limit_rps.map(|r| TokenBucket {
                        per_ns: r / 1e9,
                        burst: r.max(1.0),
                        tokens: r.max(1.0),
                        last: 0,
                    }),
                    _ => None,
                },
                block_when_full: matches!(&c.kind, Kind::Queue(q) if q.block_when_full),
                blocked: VecDeque::new(),
                nearest_edge: Vec::new(),
                rate_limited: 0,
                call_timeouts: 0,
                call_retries: 0,
                coalesce: matches!(&c.kind, Kind::Cache(k) if k.coalesce),
                replication: match &c.kind {
                    Kind::Database(d) if d.replicas > 0 => Some(Replication::new(d.replicas)),
                    _ => None,
                },
                lag: match &c.kind {
                    Kind::Database(d) => d.replication_lag.as_ref().map(Sampler::new),
                    _ => None,
                },
                max_connections: match &c.kind {
                    Kind::Database(d) => d.max_connections,
                    _ => None,
                },
                task_latency: matches!(c.kind, Kind::Queue(_)).then(LatencyHistogram::default),
                tasks_enqueued: 0,
                tasks_dropped: 0,
                tasks_failed: 0,
                pools: match &c.kind {
                    Kind::Server(s) => s
                        .pools
                        .iter()
                        .map(|(target, p)| {
                            let first = pools.len() as u32;
                            for _ in 0..n {
                                pools.push(PoolState {
                                    size: p.size,
                                    available: p.size,
                                    waiters: VecDeque::new(),
                                    last: 0,
                                    in_use_area: 0,
                                    acquired: 0,
                                    waited: 0,
                                    wait_sum: 0,
                                    timeouts: 0,
                                });
                            }
                            PoolDef {
                                target: *target as u32,
                                first_state: first,
                                timeout: p.acquire_timeout_ms.map(time::from_ms),
                            }
                        })
                        .collect(),
                    _ => Vec::new(),
                },
                connect: match &c.kind {
                    Kind::Database(d) => d.connect.as_ref().map(Sampler::new),
                    _ => None,
                },
            });
        }
        // CDN edges: clients of each region go to the edge with the fastest mean link.
        if let Some(net) = &model.network {
            for (id, c) in model.components.iter().enumerate() {
                if let Kind::Cdn(cdn) = &c.kind {
                    comps[id].nearest_edge = (0..net.regions.len())
                        .map(|r| {
                            let best = (0..cdn.edges.len())
                                .min_by(|&a, &b| {
                                    net.mean_hop_ms(r, cdn.edges[a].region)
                                        .total_cmp(&net.mean_hop_ms(r, cdn.edges[b].region))
                                })
                                .unwrap_or(0);
                            comps[id].first_station + best as u32
                        })
                        .collect();
                }
            }
        }
        // Balancers need every component's stations laid out first.
        for (id, c) in model.components.iter().enumerate() {
            if let Kind::LoadBalancer(lb) = &c.kind {
                let backends = lb
                    .targets
                    .iter()
                    .flat_map(|&t| {
                        let tc = &comps[t];
                        tc.first_station..tc.first_station + tc.stations
                    })
                    .collect();
                comps[id].balancer =
                    Some(Balancer::new(lb.policy, backends, lb.health_check.clone()));
            }
        }
        // Instances whose load a balancer's load tree follows.
        let mut watchers = vec![Vec::new(); stations.len()];
        for (id, c) in comps.iter().enumerate() {
            if let Some(b) = c.balancer.as_ref().filter(|b| b.loads.is_some()) {
                for (i, &st) in b.backends.iter().enumerate() {
                    watchers[st as usize].push((id as u32, i as u32));
                    stations[st as usize].watched = true;
                }
            }
        }
        for (c, rt) in model.components.iter().zip(comps.iter_mut()) {
            let memory = matches!(&c.kind, Kind::Server(sv) if sv.memory.is_some());
            rt.door_checks = memory
                || rt.max_connections.is_some()
                || rt.rate.is_some()
                || rt.replication.is_some()
                || rt.connect.is_some();
        }
        let total_w: f64 = model.workload.classes.iter().map(|c| c.weight).sum();
        let mut acc = 0.0;
        let classes: Vec<ClassRt> = model
            .workload
            .classes
            .iter()
            .map(|c| {
                acc += c.weight / total_w;
                ClassRt {
                    entry: c.entry as u32,
                    browser_cached: c.max_age_s.is_some(),
                    write: c.op == Op::Write,
                    cum_weight: acc,
                    keys: match c.keys {
                        None => KeySampler::None,
                        Some(KeyLaw::Uniform { n }) => KeySampler::Uniform(n),
                        Some(KeyLaw::Zipf { n, s }) => KeySampler::Zipf(
                            Zipf::new(n as f64, s).expect("validated Zipf parameters"),
                        ),
                    },
                }
            })
            .collect();
        let plain = classes.len() == 1
            && matches!(classes[0].keys, KeySampler::None)
            && model.workload.clients.len() <= 1
            && model.workload.population.is_none();
        let (peak, think) = match &model.workload.arrival {
            Arrival::Poisson { rate } => (
                rate * cfg.traffic * model.workload.profile.max_factor() / 1e9,
                None,
            ),
            Arrival::Closed { think, .. } => (0.0, Some(Sampler::new(think))),
        };
        let out = RunStats {
            measured_s: 0.0,
            arrived: 0,
            completed: 0,
            dropped: 0,
            failed: 0,
            timed_out: 0,
            in_flight: 0,
            shed: 0,
            late_responses: 0,
            tasks_shed: 0,
            live_at_end: 0,
            browser_hits: 0,
            attempts: 0,
            retries: 0,
            retries_denied: 0,
            orphaned_responses: 0,
            crash_log: Vec::new(),
            oom_crashes: 0,
            timeline: None,
            latency: LatencyHistogram::default(),
            classes: model
                .workload
                .classes
                .iter()
                .map(|c| ClassStats {
                    name: c.name.clone(),
                    latency: LatencyHistogram::default(),
                    browser_hits: 0,
                })
                .collect(),
            components: Vec::new(),
            events: 0,
            truncated: false,
            interrupted: false,
            zero_time_loop: false,
            peak_requests: 0,
            peak_frames: 0,
            peak_events: 0,
        };
        Sim {
            model,
            now: 0,
            end: time::from_s(cfg.duration_s),
            warmup: time::from_s(cfg.warmup_s),
            events: EventQueue::default(),
            next_arrival: NO_ARRIVAL,
            ready: Vec::new(),
            prog,
            comps,
            stations,
            station_comp,
            station_region,
            network: model.network.as_ref().map(|net| NetworkRt {
                links: net.links.iter().flatten().map(Sampler::new).collect(),
                n: net.regions.len(),
                serialization: net.serialization.as_ref().map(Sampler::new),
                rng: cfg.key.stream("network"),
            }),
            client_regions: {
                let mut acc = 0.0;
                model
                    .workload
                    .clients
                    .iter()
                    .map(|&(r, share)| {
                        acc += share;
                        (r as u16, acc)
                    })
                    .collect()
            },
            browser: rustc_hash::FxHashMap::default(),
            timeline: cfg.timeline_s.map(|s| {
                TimelineRecorder::new(
                    time::from_s(s).max(1),
                    time::from_s(cfg.duration_s),
                    model.components.len(),
                )
            }),
            carried: Vec::new(),
            tick_last: Vec::new(),
            retry_tokens: 0.0,
            retry_rng: cfg.key.stream("workload/retries"),
            failure_rng: cfg.key.stream("failures"),
            pools,
            watchers,
            requests: Vec::new(),
            free_requests: Vec::new(),
            frames: Vec::new(),
            free_frames: Vec::new(),
            live: 0,
            classes,
            arrival_rng: cfg.key.stream("workload/arrivals"),
            class_rng: cfg.key.stream("workload/classes"),
            think_rng: cfg.key.stream("workload/think"),
            think,
            peak_rate_per_ns: peak,
            mean_gap_ns: 1.0 / peak,
            plain_arrivals: plain,
            steady: matches!(model.workload.profile, Profile::Steady),
            retry_budget: model.workload.retry.as_ref().and_then(|r| r.budget),
            timeout: model.workload.timeout_ms.map(time::from_ms),
            out,
            event_count: 0,
            cfg,
        }
    }

    /// Runs to the end (or to the event limit) and returns the measured statistics.
    pub fn run(mut self) -> RunStats {
        if self.warmup > 0 {
            self.events.schedule(self.warmup, Ev::WarmupEnd);
        }
        match &self.model.workload.arrival {
            Arrival::Poisson { .. } => self.schedule_next_arrival(),
            Arrival::Closed { users, .. } => {
                let users = ((*users as f64) * self.cfg.traffic).round().max(1.0) as u32;
                for u in 0..users {
                    let t = self.draw_think();
                    self.events.schedule(t, Ev::Think(u));
                }
            }
        }
        for f in &self.model.failures {
            let c = &self.comps[f.component];
            let instances: Vec<u32> = match f.instance {
                Some(i) => vec![c.first_station + i],
                None => (c.first_station..c.first_station + c.stations).collect(),
            };
            for st in instances {
                match f.kind {
                    FailureKind::Scheduled { at_s, for_s } => {
                        self.events.schedule(time::from_s(at_s), Ev::Crash(st));
                        if let Some(d) = for_s {
                            self.events
                                .schedule(time::from_s(at_s + d), Ev::Recover(st));
                        }
                    }
                    FailureKind::Random { mtbf_s, .. } => {
                        let e: f64 = Exp1.sample(&mut self.failure_rng);
                        self.events.schedule(
                            time::from_s(e * mtbf_s),
                            Ev::RandomFailure {
                                station: st,
                                down: true,
                            },
                        );
                    }
                }
            }
        }
        for (id, c) in self.comps.iter().enumerate() {
            if let Some(h) = c.balancer.as_ref().and_then(|b| b.health.as_ref()) {
                self.events
                    .schedule(time::from_s(h.interval_s), Ev::HealthTick(id as u32));
            }
        }
        if let Some(tl) = &self.timeline {
            let n = self.stations.len();
            self.carried = vec![(0, 0, 0); n];
            self.tick_last = vec![(0, 0, 0); n];
            self.events.schedule(tl.interval_ns, Ev::TimelineTick);
        }
        let limit = self.cfg.max_events.unwrap_or(u64::MAX);
        let mut next_check = limit.min(CHECK_EVERY);
        let started = std::time::Instant::now();
        // Events exactly at the end instant are not run: the run covers [0, end).
        loop {
            // The next arrival waits in its own slot, not in the heap: one push and one pop fewer
            // per request. It goes first when its (time, sequence number) is the earliest.
            let (t, ev) = match self.events.peek_key() {
                Some(k) if k < self.next_arrival => match self.events.pop_before(self.end) {
                    Some(x) => x,
                    None => break,
                },
                _ if self.next_arrival.0 < self.end => {
                    let t = self.next_arrival.0;
                    self.next_arrival = NO_ARRIVAL;
                    (t, Ev::Arrival)
                }
                _ => break,
            };
            // One comparison per event: the limit and the periodic checks share a threshold.
            if self.event_count >= next_check {
                if self.event_count >= limit {
                    self.out.truncated = true;
                    break;
                }
                next_check = limit.min(self.event_count + CHECK_EVERY);
                self.out.peak_events = self.out.peak_events.max(self.pending_events());
                if stop_requested() {
                    self.out.truncated = true;
                    self.out.interrupted = true;
                    break;
                }
                if let Some(w) = self.cfg.max_wall_s
                    && started.elapsed().as_secs_f64() > w
                {
                    self.out.truncated = true;
                    break;
                }
            }
            debug_assert!(t >= self.now, "time went backwards");
            self.now = t;
            self.event_count += 1;
            self.handle(ev);
            self.drain();
            if self.out.zero_time_loop {
                break;
            }
        }
        if !self.out.truncated {
            self.now = self.end;
        }
        self.finish_run()
    }

    fn handle(&mut self, ev: Ev) {
        match ev {
            Ev::Arrival => {
                self.schedule_next_arrival();
                if self.steady {
                    self.new_request(NONE);
                    return;
                }
                // Thinning: accept a candidate with probability rate(t) / peak.
                let max_f = self.model.workload.profile.max_factor();
                if max_f > 0.0 {
                    let f = self.model.workload.profile.factor(time::to_s(self.now));
                    let accept = f >= max_f || self.arrival_rng.random::<f64>() * max_f < f;
                    if accept {
                        self.new_request(NONE);
                    }
                }
            }
            Ev::Think(user) => self.new_request(user),
            Ev::WorkDone { frame, generation } => {
                if self.is_current(frame, generation) {
                    self.work_done(frame)
                }
            }
            Ev::Timeout { req, generation } => {
                let r = &mut self.requests[req as usize];
                if r.live && r.generation == generation && !r.timed_out {
                    // The attempt's frames go on (wasted work); the client gives up on it.
                    r.timed_out = true;
                    if !self.client_retry(req) {
                        let r = self.requests[req as usize];
                        if r.measured {
                            self.out.timed_out += 1;
                        }
                        if let Some(tl) = &mut self.timeline {
                            tl.error(self.now, true);
                        }
                        if r.owner != NONE {
                            self.schedule_think(r.owner);
                        }
                    }
                }
            }
            Ev::PoolTimeout { frame, generation } => {
                let fr = self.frames[frame as usize];
                if fr.generation == generation && fr.pool_wait != NONE {
                    let ps = &mut self.pools[fr.pool_wait as usize];
                    if let Some(i) = ps.waiters.iter().position(|&w| w == frame) {
                        ps.waiters.remove(i);
                        ps.timeouts += 1;
                        self.frames[frame as usize].pool_wait = NONE;
                        self.ready.push(Ready::fail(
                            frame,
                            self.frames[frame as usize].generation,
                            Outcome::Failed,
                        ));
                    }
                }
            }
            Ev::ConnectDone { frame, generation } => {
                if self.is_current(frame, generation) {
                    self.admit(frame)
                }
            }
            Ev::Arrive { frame, generation } => {
                if self.is_current(frame, generation) {
                    self.arrive(frame)
                }
            }
            Ev::Deliver {
                parent,
                generation,
                req,
                why,
            } => self.notify(parent, generation, req, why),
            Ev::CallTimeout {
                frame,
                generation,
                seq,
            } => {
                if self.is_current(frame, generation) && self.frames[frame as usize].call_seq == seq
                {
                    self.call_timed_out(frame, generation)
                }
            }
            Ev::CallRetry { frame, generation } => {
                if self.is_current(frame, generation) {
                    self.ready.push(Ready::advance(frame, generation));
                }
            }
            Ev::Retry { req, generation } => self.send_retry(req, generation),
            Ev::Crash(st) => self.crash(st, None),
            Ev::Recover(st) => self.recover(st),
            Ev::RandomFailure { station, down } => {
                if down {
                    self.crash(station, None);
                } else {
                    self.recover(station);
                }
                self.schedule_random_failure(station, !down);
            }
            Ev::HealthTick(c) => self.health_tick(c),
            Ev::TimelineTick => self.timeline_tick(),
            Ev::WarmupEnd => self.reset_measurements(),
        }
    }

    /// Station `st`'s `present` changed: tell the load trees that follow it.
    #[inline(always)]
    fn present_changed(&mut self, st: u32) {
        if self.stations[st as usize].watched {
            self.update_watchers(st);
        }
    }

    #[inline]
    fn update_watchers(&mut self, st: u32) {
        for &(c, i) in &self.watchers[st as usize] {
            if let Some(b) = &mut self.comps[c as usize].balancer {
                b.update_load(i as usize, &self.stations);
            }
        }
    }

    /// Events pending: the queue's and the next arrival.
    fn pending_events(&self) -> u64 {
        self.events.len() as u64 + u64::from(self.next_arrival != NO_ARRIVAL)
    }

    #[inline(always)]
    fn schedule_next_arrival(&mut self) {
        if self.peak_rate_per_ns <= 0.0 {
            return;
        }
        let e: f64 = Exp1.sample(&mut self.arrival_rng);
        // `+ 0.5` then truncate: rounding without a libm call on the hottest path.
        let dt = (e * self.mean_gap_ns + 0.5) as Time;
        let seq = self.events.next_seq();
        self.next_arrival = (self.now.saturating_add(dt.max(1)), seq);
    }

    fn draw_think(&mut self) -> Time {
        match &self.think {
            Some(s) => s.sample(&mut self.think_rng),
            None => 0,
        }
    }

    fn schedule_think(&mut self, user: u32) {
        let t = self.draw_think();
        self.events
            .schedule(self.now.saturating_add(t), Ev::Think(user));
    }

    /// The class, key, client region and client of a new request, drawn in this order from the
    /// `workload/classes` stream (nothing is drawn for what the workload leaves at one choice).
    fn draw_request(&mut self, user: u32) -> (usize, u64, u16, u32) {
        let class = if self.classes.len() == 1 {
            0
        } else {
            let u: f64 = self.class_rng.random();
            self.classes
                .iter()
                .position(|c| u < c.cum_weight)
                .unwrap_or(self.classes.len() - 1)
        };
        let key = match &self.classes[class].keys {
            // One shared key, apart from every key a key law can draw.
            KeySampler::None => NO_KEY,
            KeySampler::Uniform(n) => self.class_rng.random_range(0..*n),
            KeySampler::Zipf(z) => z.sample(&mut self.class_rng) as u64 - 1,
        };
        let region = if self.client_regions.len() <= 1 {
            self.client_regions.first().map_or(NO_REGION, |c| c.0)
        } else {
            let u: f64 = self.class_rng.random();
            self.client_regions
                .iter()
                .find(|c| u < c.1)
                .map_or(self.client_regions[self.client_regions.len() - 1].0, |c| {
                    c.0
                })
        };
        let client = if user != NONE {
            user
        } else {
            match self.model.workload.population {
                Some(n) => self.class_rng.random_range(0..n),
                None => 0,
            }
        };
        (class, key, region, client)
    }

    fn new_request(&mut self, user: u32) {
        let measured = self.now >= self.warmup;
        let (class, key, region, client) = if self.plain_arrivals {
            // One class, no keys, at most one client region, no population: nothing to draw.
            let region = self.client_regions.first().map_or(NO_REGION, |c| c.0);
            (0, NO_KEY, region, if user != NONE { user } else { 0 })
        } else {
            self.draw_request(user)
        };
        if measured {
            self.out.arrived += 1;
        }
        if let Some(tl) = &mut self.timeline {
            tl.arrival(self.now);
        }
        if let Some(b) = self.retry_budget {
            // Each request earns a fraction of a retry; a small reserve absorbs short bursts.
            self.retry_tokens = (self.retry_tokens + b).min((100.0 * b).max(10.0));
        }
        if self.classes[class].browser_cached
            && let Some(max_age) = self.model.workload.classes[class].max_age_s
            && let Some(&at) = self.browser.get(&(client, key))
            && self.now < at.saturating_add(time::from_s(max_age))
        {
            // Answered from the browser's own cache: no network, no server.
            if measured {
                self.out.completed += 1;
                self.out.browser_hits += 1;
                self.out.latency.record(0);
                self.out.classes[class].latency.record(0);
                self.out.classes[class].browser_hits += 1;
            }
            if user != NONE {
                self.schedule_think(user);
            }
            return;
        }
        if self.live >= self.cfg.max_in_flight {
            if measured {
                self.out.dropped += 1;
                self.out.shed += 1;
            }
            if user != NONE {
                self.schedule_think(user);
            }
            return;
        }
        let write = self.classes[class].write;
        let req = self.alloc_request(Request {
            arrival: self.now,
            key,
            class: class as u16,
            write,
            measured,
            timed_out: false,
            is_task: false,
            live: true,
            owner: user,
            generation: 0,
            region,
            client,
            first_arrival: self.now,
            attempt: 0,
        });
        if let Some(t) = self.timeout {
            let generation = self.requests[req as usize].generation;
            self.events
                .schedule(self.now.saturating_add(t), Ev::Timeout { req, generation });
        }
        if measured {
            self.out.attempts += 1;
        }
        let entry = self.classes[class].entry;
        self.call(entry, req, PARENT_CLIENT, false, region);
    }

    /// The one-way latency of a message from region `a` to region `b` (0 without a network).
    #[inline]
    fn hop(&mut self, a: u16, b: u16) -> Time {
        match &mut self.network {
            Some(net) if a != NO_REGION && b != NO_REGION => {
                let d = net.links[a as usize * net.n + b as usize].sample(&mut net.rng);
                let ser = net
                    .serialization
                    .as_ref()
                    .map_or(0, |s| s.sample(&mut net.rng));
                d.saturating_add(ser)
            }
            _ => 0,
        }
    }

    #[inline(always)]
    fn alloc_request(&mut self, mut r: Request) -> u32 {
        self.live += 1;
        match self.free_requests.pop() {
            Some(i) => {
                r.generation = self.requests[i as usize].generation.wrapping_add(1);
                self.requests[i as usize] = r;
                i
            }
            None => {
                self.requests.push(r);
                (self.requests.len() - 1) as u32
            }
        }
    }

    #[inline(always)]
    fn free_request(&mut self, i: u32) {
        self.live -= 1;
        self.requests[i as usize].live = false;
        self.free_requests.push(i);
    }

    #[inline]
    fn is_current(&self, f: u32, generation: u32) -> bool {
        let fr = &self.frames[f as usize];
        fr.alive && fr.generation == generation
    }

    #[inline(always)]
    fn free_frame(&mut self, f: u32) {
        self.frames[f as usize].alive = false;
        self.free_frames.push(f);
    }

    #[inline(always)]
    fn alloc_frame(&mut self, mut f: Frame) -> u32 {
        f.alive = true;
        match self.free_frames.pop() {
            Some(i) => {
                f.generation = self.frames[i as usize].generation.wrapping_add(1);
                self.frames[i as usize] = f;
                i
            }
            None => {
                self.frames.push(f);
                (self.frames.len() - 1) as u32
            }
        }
    }

    /// Chooses the instance a call to `target` lands on (balancers pick a backend).
    #[inline(always)]
    fn route(&mut self, target: u32, req: u32) -> Option<u32> {
        let c = &mut self.comps[target as usize];
        if let Some(b) = &mut c.balancer {
            c.routed += 1;
            let r = &self.requests[req as usize];
            // Sticky sessions follow the client; anonymous traffic follows the key.
            let sticky = if self.model.workload.population.is_some() || r.owner != NONE {
                r.client as u64
            } else if r.key != NO_KEY {
                r.key
            } else {
                // Anonymous clients without keys: nothing to stick to, so spread them.
                c.rng.random::<u64>()
            };
            return b.pick(&self.stations, &mut c.rng, sticky, r.client);
        }
        Some(self.route_direct(target, req))
    }

    fn route_direct(&mut self, target: u32, req: u32) -> u32 {
        let c = &mut self.comps[target as usize];
        if c.stations == 1 {
            return c.first_station;
        }
        if !c.nearest_edge.is_empty() {
            let r = self.requests[req as usize].region;
            return if r == NO_REGION {
                c.first_station
            } else {
                c.nearest_edge[r as usize]
            };
        }
        if c.replication.is_some()
            || matches!(
                self.model.components[target as usize].kind,
                Kind::Database(_)
            )
        {
            // Database: writes to the primary, reads spread round-robin over the replicas.
            if self.requests[req as usize].write {
                return c.first_station;
            }
            let replicas = c.stations - 1;
            let r = c.rr % replicas;
            c.rr = c.rr.wrapping_add(1);
            return c.first_station + 1 + r;
        }
        let s = c.first_station + c.rr % c.stations;
        c.rr = c.rr.wrapping_add(1);
        s
    }

    /// Starts a visit of request `req` to component `target` on behalf of frame `parent`.
    fn call(&mut self, target: u32, req: u32, parent: u32, pooled: bool, from: u16) {
        let parent_gen = if parent < PARENT_TASK {
            self.frames[parent as usize].generation
        } else {
            0
        };
        let Some(station) = self.route(target, req) else {
            // No backend the balancer believes healthy: 503.
            self.notify(parent, parent_gen, req, Outcome::Failed);
            return;
        };
        let comp = self.station_comp[station as usize];
        let class = self.requests[req as usize].class as usize;
        let pc = self.prog.entry[comp as usize][class];
        debug_assert_ne!(pc, NO_PROGRAM, "balancers route to stations with programs");
        let f = self.alloc_frame(Frame {
            req,
            comp,
            station,
            pc,
            parent,
            pending: 0,
            error: Outcome::Ok,
            holds: false,
            root: true,
            fill_leader: false,
            arrived: self.now,
            wait_since: self.now,
            waited: 0,
            generation: 0,
            pool: NONE,
            pool_wait: NONE,
            pooled,
            alive: true,
            parent_gen,
            attempt: 0,
            call_seq: 0,
        });
        let d = if self.network.is_none() {
            0
        } else {
            self.hop(from, self.station_region[station as usize])
        };
        if d == 0 {
            self.arrive_inline(f);
        } else {
            let fr = &mut self.frames[f as usize];
            fr.arrived = self.now.saturating_add(d);
            fr.wait_since = self.now.saturating_add(d);
            let generation = fr.generation;
            self.events.schedule(
                self.now.saturating_add(d),
                Ev::Arrive {
                    frame: f,
                    generation,
                },
            );
        }
    }

    #[inline(never)]
    fn arrive(&mut self, f: u32) {
        self.arrive_inline(f)
    }

    /// `arrive`, inlined into `call`.
    #[inline(always)]
    fn arrive_inline(&mut self, f: u32) {
        let Frame {
            station, comp, req, ..
        } = self.frames[f as usize];
        let now = self.now;
        if !self.stations[station as usize].up {
            // Connection refused: the instance is down.
            self.stations[station as usize].stats.failed += 1;
            self.reject(f, Outcome::Failed);
            return;
        }
        if !self.comps[comp as usize].door_checks {
            // Most components: nothing to check at the door but room in the queue.
            let st = &mut self.stations[station as usize];
            st.advance_clock(now);
            if st.is_full() {
                st.stats.dropped += 1;
                self.reject(f, Outcome::Dropped);
                return;
            }
            st.present += 1;
            self.present_changed(station);
            self.admit(f);
            return;
        }
        if let Kind::Server(sv) = &self.model.components[comp as usize].kind
            && let Some(mem) = &sv.memory
            && mem.base_mb
                + mem.per_request_mb * (self.stations[station as usize].present + 1) as f64
                > mem.limit_mb
        {
            // Out of memory: the process dies with everything in it, and restarts later.
            self.out.oom_crashes += 1;
            let restart = time::from_s(mem.restart_s);
            // The arriving frame is at this station too: the crash fails it with the rest.
            self.crash(station, Some("out of memory"));
            self.events
                .schedule(now.saturating_add(restart), Ev::Recover(station));
            return;
        }
        let c = &mut self.comps[comp as usize];
        let st = &mut self.stations[station as usize];
        st.advance_clock(now);
        if let Some(m) = c.max_connections
            && st.present >= m
        {
            st.stats.failed += 1;
            self.reject(f, Outcome::Failed);
            return;
        }
        if st.is_full() {
            st.stats.dropped += 1;
            self.reject(f, Outcome::Dropped);
            return;
        }
        if let Some(bucket) = &mut c.rate
            && !bucket.take(now)
        {
            st.stats.failed += 1;
            c.rate_limited += 1;
            self.reject(f, Outcome::Failed);
            return;
        }
        st.present += 1;
        if let Some(rep) = &mut c.replication
            && station != c.first_station
            && !self.requests[req as usize].write
        {
            rep.reads += 1;
            let key = self.requests[req as usize].key;
            if rep.is_stale((station - c.first_station - 1) as usize, key, now) {
                rep.stale_reads += 1;
            }
        }
        let Comp { connect, rng, .. } = c;
        if let Some(setup) = connect
            && !self.frames[f as usize].pooled
        {
            // A fresh connection: handshake and authentication before the query can queue.
            let d = setup.sample(rng);
            self.events.schedule(
                now.saturating_add(d),
                Ev::ConnectDone {
                    frame: f,
                    generation: self.frames[f as usize].generation,
                },
            );
            self.present_changed(station);
            return;
        }
        self.present_changed(station);
        self.admit(f);
    }

    /// Past the door: take a worker, wait for one, or (Async) go straight to the handler.
    #[inline(always)]
    fn admit(&mut self, f: u32) {
        let Frame { station, comp, .. } = self.frames[f as usize];
        let now = self.now;
        let c = &self.comps[comp as usize];
        let st = &mut self.stations[station as usize];
        st.advance_clock(now);
        self.frames[f as usize].wait_since = now;
        if c.asynchronous {
            // Workers are taken step by step, at each Work.
            self.ready
                .push(Ready::advance(f, self.frames[f as usize].generation));
        } else if st.has_free_worker() {
            st.busy += 1;
            self.frames[f as usize].holds = true;
            self.ready
                .push(Ready::advance(f, self.frames[f as usize].generation));
        } else {
            st.queue.push_back(f);
        }
    }

    /// A frame turned away at the door: it never entered the station.
    fn reject(&mut self, f: u32, why: Outcome) {
        let Frame {
            parent,
            parent_gen,
            req,
            ..
        } = self.frames[f as usize];
        self.free_frame(f);
        self.notify(parent, parent_gen, req, why);
    }

    /// Gives a freed worker of `station` to the oldest waiting frame, if any.
    #[inline(always)]
    fn grant_next(&mut self, station: u32) {
        let st = &mut self.stations[station as usize];
        if st.has_free_worker()
            && let Some(g) = st.queue.pop_front()
        {
            st.busy += 1;
            let fr = &mut self.frames[g as usize];
            fr.waited += self.now - fr.wait_since;
            fr.holds = true;
            self.ready
                .push(Ready::advance(g, self.frames[g as usize].generation));
        }
        // A worker or a place in the queue opened: the oldest blocked producer may enqueue (it
        // checks again, and waits again if another task took the place first).
        let comp = self.station_comp[station as usize] as usize;
        if self.comps[comp].block_when_full
            && !self.stations[station as usize].is_full()
            && let Some(p) = self.comps[comp].blocked.pop_front()
        {
            self.ready
                .push(Ready::advance(p, self.frames[p as usize].generation));
        }
    }

    #[inline(always)]
    fn release(&mut self, f: u32) {
        let station = self.frames[f as usize].station;
        self.frames[f as usize].holds = false;
        let st = &mut self.stations[station as usize];
        st.advance_clock(self.now);
        st.busy -= 1;
        self.grant_next(station);
    }

    fn work_done(&mut self, f: u32) {
        let comp = self.frames[f as usize].comp;
        if self.comps[comp as usize].asynchronous {
            self.release(f);
        }
        self.frames[f as usize].pc += 1;
        // Called from the event loop with nothing else ready: run on at once, as `drain` would.
        self.advance(f);
    }

    fn drain(&mut self) {
        let mut steps: u64 = 0;
        while let Some(r) = self.ready.pop() {
            steps += 1;
            if steps > ZERO_TIME_STEP_LIMIT {
                // Work that never lets time pass (e.g. a queue enqueueing onto itself with no
                // Work step) would spin here forever: end the run, marked truncated.
                self.ready.clear();
                self.out.truncated = true;
                self.out.zero_time_loop = true;
                return;
            }
            // A frame that died (its instance crashed) after it was made ready is skipped.
            if self.is_current(r.frame, r.generation) {
                match r.fail {
                    None => self.advance(r.frame),
                    Some(why) => self.finish(r.frame, why),
                }
            }
        }
    }

    /// Runs frame `f` from its pc until it waits (work, a call, a worker) or returns.
    fn advance(&mut self, f: u32) {
        loop {
            let fr = &self.frames[f as usize];
            let c = fr.comp as usize;
            let pc = fr.pc;
            match self.prog.code[pc as usize] {
                Instr::Work { sampler } => {
                    if self.comps[c].asynchronous && !fr.holds {
                        let st = &mut self.stations[fr.station as usize];
                        st.advance_clock(self.now);
                        if st.has_free_worker() {
                            st.busy += 1;
                            self.frames[f as usize].holds = true;
                        } else {
                            st.queue.push_back(f);
                            self.frames[f as usize].wait_since = self.now;
                            return;
                        }
                    }
                    let d = self.prog.samplers[sampler as usize].sample(&mut self.comps[c].rng);
                    self.events.schedule(
                        self.now.saturating_add(d),
                        Ev::WorkDone {
                            frame: f,
                            generation: self.frames[f as usize].generation,
                        },
                    );
                    return;
                }
                Instr::Maybe { p, skip_to } => {
                    let u: f64 = self.comps[c].rng.random();
                    let fr = &mut self.frames[f as usize];
                    fr.pc = if u < p { fr.pc + 1 } else { skip_to };
                }
                Instr::Jump { to } => self.frames[f as usize].pc = to,
                Instr::Return => {
                    self.finish_inline(f, Outcome::Ok);
                    return;
                }
                other => {
                    if !self.step(f, other) {
                        return;
                    }
                }
            }
        }
    }

    /// The instructions `advance` leaves out of its loop to keep it small: runs `instr` for
    /// frame `f`, and says whether the frame goes on at once.
    #[inline(never)]
    fn step(&mut self, f: u32, instr: Instr) -> bool {
        let fr = &self.frames[f as usize];
        let c = fr.comp as usize;
        match instr {
            Instr::Call { target, opts } => {
                let pooled = match self.comps[c].pools.iter().find(|p| p.target == target) {
                    None => false,
                    Some(_) if fr.pool != NONE => true,
                    Some(def) => {
                        let idx = def.first_state + (fr.station - self.comps[c].first_station);
                        let timeout = def.timeout;
                        let ps = &mut self.pools[idx as usize];
                        ps.advance_clock(self.now);
                        if ps.available > 0 {
                            ps.available -= 1;
                            ps.acquired += 1;
                            self.frames[f as usize].pool = idx;
                            true
                        } else {
                            // Wait for a connection; the pc stays on this Call.
                            ps.waiters.push_back(f);
                            let fm = &mut self.frames[f as usize];
                            fm.pool_wait = idx;
                            fm.wait_since = self.now;
                            if let Some(t) = timeout {
                                let generation = fm.generation;
                                self.events.schedule(
                                    self.now.saturating_add(t),
                                    Ev::PoolTimeout {
                                        frame: f,
                                        generation,
                                    },
                                );
                            }
                            return false;
                        }
                    }
                };
                let fr = &mut self.frames[f as usize];
                fr.pc += 1;
                fr.pending = 1;
                fr.call_seq = fr.call_seq.wrapping_add(1);
                let req = fr.req;
                let from = self.station_region[fr.station as usize];
                if opts != NO_OPTS
                    && let Some(t) = self.prog.call_opts[opts as usize].timeout_ms
                {
                    let (generation, seq) = (fr.generation, fr.call_seq);
                    self.events.schedule(
                        self.now.saturating_add(time::from_ms(t)),
                        Ev::CallTimeout {
                            frame: f,
                            generation,
                            seq,
                        },
                    );
                }
                self.call(target, req, f, pooled, from);
                return false;
            }
            Instr::Fork { first, n } => {
                let base = self.frames[f as usize];
                {
                    let fr = &mut self.frames[f as usize];
                    fr.pc += 1;
                    fr.pending = n;
                }
                for i in 0..n {
                    let pc = self.prog.forks[(first + i) as usize];
                    let child = self.alloc_frame(Frame {
                        pc,
                        parent: f,
                        pending: 0,
                        error: Outcome::Ok,
                        holds: false,
                        root: false,
                        fill_leader: false,
                        arrived: self.now,
                        wait_since: self.now,
                        waited: 0,
                        pool: NONE,
                        pool_wait: NONE,
                        parent_gen: base.generation,
                        attempt: 0,
                        call_seq: 0,
                        ..base
                    });
                    self.ready.push(Ready::advance(
                        child,
                        self.frames[child as usize].generation,
                    ));
                }
                return false;
            }
            Instr::Enqueue { queue } => {
                let q = &self.comps[queue as usize];
                if q.block_when_full && self.stations[q.first_station as usize].is_full() {
                    // Back-pressure: wait (pc unchanged) until a worker takes a task.
                    self.comps[queue as usize].blocked.push_back(f);
                    return false;
                }
                let from = self.station_region[fr.station as usize];
                self.enqueue(queue, fr.req, from);
                self.frames[f as usize].pc += 1;
            }
            Instr::FailWith { p } => {
                let u: f64 = self.comps[c].rng.random();
                if u < p {
                    let st = self.frames[f as usize].station;
                    self.stations[st as usize].stats.failed += 1;
                    self.finish(f, Outcome::Failed);
                    return false;
                }
                self.frames[f as usize].pc += 1;
            }
            Instr::CacheLookup { miss_to } => {
                let key = self.requests[fr.req as usize].key;
                let now = self.now;
                let comp = &mut self.comps[c];
                let coalesce = comp.coalesce || comp.coalesce_edges;
                let cache = &mut comp.caches[(fr.station - comp.first_station) as usize];
                cache.counters.lookups += 1;
                let hit = cache.get(key, now);
                if let Some(tl) = &mut self.timeline {
                    tl.cache_lookup(now, c, hit);
                }
                if hit {
                    cache.counters.hits += 1;
                    self.frames[f as usize].pc += 1;
                    return true;
                }
                if coalesce {
                    if let Some(waiters) = cache.filling.get_mut(&key) {
                        // Wait for the first miss's fill, then answer as a hit would.
                        waiters.push(f);
                        cache.counters.coalesced += 1;
                        self.frames[f as usize].pc += 1;
                        return false;
                    }
                    cache.filling.insert(key, Vec::new());
                    self.frames[f as usize].fill_leader = true;
                }
                cache.counters.backend_calls += 1;
                self.frames[f as usize].pc = miss_to;
            }
            Instr::CacheFill => {
                let key = self.requests[fr.req as usize].key;
                let now = self.now;
                let comp = &mut self.comps[c];
                let cache = &mut comp.caches[(fr.station - comp.first_station) as usize];
                cache.put(key, now);
                if fr.fill_leader {
                    self.frames[f as usize].fill_leader = false;
                    for w in cache.filling.remove(&key).unwrap_or_default() {
                        self.ready
                            .push(Ready::advance(w, self.frames[w as usize].generation));
                    }
                }
                self.frames[f as usize].pc += 1;
            }
            Instr::CacheInvalidate => {
                let key = self.requests[fr.req as usize].key;
                let comp = &mut self.comps[c];
                comp.caches[(fr.station - comp.first_station) as usize].remove(key);
                self.frames[f as usize].pc += 1;
            }
            Instr::Replicate => {
                let key = self.requests[fr.req as usize].key;
                let now = self.now;
                let comp = &mut self.comps[c];
                if let Some(rep) = &mut comp.replication {
                    for r in 0..(comp.stations - 1) as usize {
                        let lag = comp.lag.as_ref().map_or(0, |s| s.sample(&mut comp.rng));
                        rep.write(r, key, now, lag);
                    }
                }
                self.frames[f as usize].pc += 1;
            }
            Instr::Work { .. } | Instr::Maybe { .. } | Instr::Jump { .. } | Instr::Return => {
                unreachable!("run in advance")
            }
        }
        true
    }

    fn enqueue(&mut self, queue: u32, parent_req: u32, from: u16) {
        let p = self.requests[parent_req as usize];
        let measured = self.now >= self.warmup;
        let q = &mut self.comps[queue as usize];
        q.tasks_enqueued += 1;
        if self.live >= self.cfg.max_in_flight {
            q.tasks_dropped += 1;
            if measured {
                self.out.tasks_shed += 1;
            }
            return;
        }
        let req = self.alloc_request(Request {
            arrival: self.now,
            measured,
            timed_out: false,
            is_task: true,
            live: true,
            owner: queue,
            ..p
        });
        self.call(queue, req, PARENT_TASK, false, from);
    }

    /// Frame `f` is done (successfully or not): leave its station and answer its parent.
    #[inline(never)]
    fn finish(&mut self, f: u32, why: Outcome) {
        self.finish_inline(f, why)
    }

    /// `finish`, inlined where a frame returns normally (the hot path).
    #[inline(always)]
    fn finish_inline(&mut self, f: u32, why: Outcome) {
        let Frame {
            root,
            holds,
            station,
            arrived,
            waited,
            fill_leader,
            req,
            comp,
            parent,
            parent_gen,
            ..
        } = self.frames[f as usize];
        if root {
            if holds {
                self.release(f);
            }
            let now = self.now;
            let st = &mut self.stations[station as usize];
            st.advance_clock(now);
            st.present -= 1;
            st.stats.departures += 1;
            st.stats.sojourn_sum += (now - arrived) as u128;
            st.stats.wait_sum += waited as u128;
            if why == Outcome::Ok {
                st.stats.completed += 1;
            }
            self.present_changed(station);
            if fill_leader {
                // The fill failed: everyone waiting on it fails too.
                let key = self.requests[req as usize].key;
                let comp = &mut self.comps[comp as usize];
                if let Some(cache) = comp.caches.get_mut((station - comp.first_station) as usize) {
                    for w in cache.filling.remove(&key).unwrap_or_default() {
                        self.ready
                            .push(Ready::fail(w, self.frames[w as usize].generation, why));
                    }
                }
            }
        }
        self.free_frame(f);
        // The response travels back to the caller (no hop for tasks: nobody waits on them).
        let back = match parent {
            _ if self.network.is_none() => 0,
            PARENT_TASK => 0,
            _ if !root => 0,
            PARENT_CLIENT => {
                let to = self.requests[req as usize].region;
                self.hop(self.station_region[station as usize], to)
            }
            p => {
                let to = self.station_region[self.frames[p as usize].station as usize];
                self.hop(self.station_region[station as usize], to)
            }
        };
        if back == 0 {
            self.notify(parent, parent_gen, req, why);
        } else {
            self.events.schedule(
                self.now.saturating_add(back),
                Ev::Deliver {
                    parent,
                    generation: parent_gen,
                    req,
                    why,
                },
            );
        }
    }

    /// Tells a frame's parent (another frame, the client, or a queue) that it is done.
    #[inline(always)]
    fn notify(&mut self, parent: u32, parent_gen: u32, req: u32, why: Outcome) {
        match parent {
            PARENT_CLIENT => self.client_done(req, why),
            PARENT_TASK => self.task_done(req, why),
            p if !self.is_current(p, parent_gen) => {
                // Nobody waits for this response any more: its caller timed out or crashed.
                self.out.orphaned_responses += 1;
            }
            p => {
                let held = self.frames[p as usize].pool;
                if held != NONE {
                    self.frames[p as usize].pool = NONE;
                    self.release_connection(held);
                }
                if why != Outcome::Ok && self.retry_call(p) {
                    return;
                }
                let pf = &mut self.frames[p as usize];
                pf.pending -= 1;
                pf.error = pf.error.max(why);
                if pf.pending == 0 {
                    pf.attempt = 0;
                    if pf.error == Outcome::Ok {
                        self.ready
                            .push(Ready::advance(p, self.frames[p as usize].generation));
                    } else {
                        let (g, e) = (pf.generation, pf.error);
                        self.ready.push(Ready::fail(p, g, e));
                    }
                }
            }
        }
    }

    /// A pooled call returned: hand its connection to the oldest waiter, or back to the pool.
    fn release_connection(&mut self, idx: u32) {
        let now = self.now;
        let ps = &mut self.pools[idx as usize];
        ps.advance_clock(now);
        match ps.waiters.pop_front() {
            Some(g) => {
                ps.acquired += 1;
                ps.waited += 1;
                let fr = &mut self.frames[g as usize];
                ps.wait_sum += (now - fr.wait_since) as u128;
                fr.pool_wait = NONE;
                fr.pool = idx;
                self.ready
                    .push(Ready::advance(g, self.frames[g as usize].generation));
            }
            None => ps.available += 1,
        }
    }

    /// Whether the client retries request `req` (which failed or timed out); if so the next
    /// attempt is scheduled after a jittered exponential backoff.
    fn client_retry(&mut self, req: u32) -> bool {
        let Some(policy) = &self.model.workload.retry else {
            return false;
        };
        let r = self.requests[req as usize];
        if r.attempt >= policy.max || r.is_task {
            return false;
        }
        if let Some(budget) = policy.budget {
            if self.retry_tokens < 1.0 {
                if r.measured {
                    self.out.retries_denied += 1;
                }
                return false;
            }
            let _ = budget;
            self.retry_tokens -= 1.0;
        }
        let base = policy.backoff_ms * policy.multiplier.powi(r.attempt as i32);
        let wait_ms = if policy.jitter {
            base * self.retry_rng.random::<f64>()
        } else {
            base
        };
        if self.live >= self.cfg.max_in_flight {
            return false;
        }
        let next = self.alloc_request(Request {
            attempt: r.attempt + 1,
            timed_out: false,
            live: true,
            generation: 0,
            ..r
        });
        if r.measured {
            self.out.retries += 1;
        }
        let generation = self.requests[next as usize].generation;
        self.events.schedule(
            self.now.saturating_add(time::from_ms(wait_ms)),
            Ev::Retry {
                req: next,
                generation,
            },
        );
        true
    }

    /// A retry's backoff is over: send the attempt.
    fn send_retry(&mut self, req: u32, generation: u32) {
        let r = self.requests[req as usize];
        if !(r.live && r.generation == generation) {
            return;
        }
        if r.measured {
            self.out.attempts += 1;
        }
        if let Some(t) = self.model.workload.timeout_ms {
            self.events.schedule(
                self.now.saturating_add(time::from_ms(t)),
                Ev::Timeout { req, generation },
            );
        }
        let entry = self.classes[r.class as usize].entry;
        self.call(entry, req, PARENT_CLIENT, false, r.region);
    }

    /// A call with a timeout ran out of time: abandon it (the callee goes on), then retry or fail.
    fn call_timed_out(&mut self, f: u32, generation: u32) {
        if !self.is_current(f, generation) || self.frames[f as usize].pending == 0 {
            return;
        }
        let c = self.frames[f as usize].comp as usize;
        self.comps[c].call_timeouts += 1;
        // A new generation: the abandoned callee's response will find nobody waiting.
        let fr = &mut self.frames[f as usize];
        fr.generation = fr.generation.wrapping_add(1);
        let held = fr.pool;
        fr.pool = NONE;
        if held != NONE {
            self.release_connection(held);
        }
        if !self.retry_call(f) {
            let fr = &mut self.frames[f as usize];
            fr.pending = 0;
            let g = fr.generation;
            self.ready.push(Ready::fail(f, g, Outcome::Failed));
        }
    }

    /// If the call frame `f` is waiting on has retries left, schedule the next attempt.
    fn retry_call(&mut self, f: u32) -> bool {
        let fr = self.frames[f as usize];
        let Some(Instr::Call { opts, .. }) =
            fr.pc.checked_sub(1).map(|pc| self.prog.code[pc as usize])
        else {
            return false;
        };
        if opts == NO_OPTS || fr.pending != 1 {
            return false;
        }
        let o = self.prog.call_opts[opts as usize];
        if fr.attempt >= o.retries {
            return false;
        }
        let c = fr.comp as usize;
        self.comps[c].call_retries += 1;
        let base = o.backoff_ms * 2f64.powi(fr.attempt as i32);
        let wait = base * self.comps[c].rng.random::<f64>();
        let fm = &mut self.frames[f as usize];
        fm.generation = fm.generation.wrapping_add(1);
        fm.attempt += 1;
        fm.pending = 0;
        fm.error = Outcome::Ok;
        fm.pc -= 1;
        let generation = fm.generation;
        let held = fm.pool;
        fm.pool = NONE;
        if held != NONE {
            self.release_connection(held);
        }
        self.events.schedule(
            self.now.saturating_add(time::from_ms(wait)),
            Ev::CallRetry {
                frame: f,
                generation,
            },
        );
        true
    }

    /// Instance `st` crashes: everything in it fails, its memory (sessions, cache) is lost.
    fn crash(&mut self, st: u32, _why: Option<&str>) {
        let now = self.now;
        let comp = self.station_comp[st as usize] as usize;
        {
            let s = &mut self.stations[st as usize];
            if !s.up {
                return;
            }
            s.advance_clock(now);
            s.up = false;
            s.stats.crashes += 1;
        }
        self.out
            .crash_log
            .push((now, comp as u32, st - self.comps[comp].first_station, true));
        let mut orphans = Vec::new();
        for i in 0..self.frames.len() {
            let fr = self.frames[i];
            if fr.alive && fr.station == st {
                if fr.root {
                    orphans.push((fr.parent, fr.parent_gen, fr.req));
                    let stats = &mut self.stations[st as usize].stats;
                    stats.failed += 1;
                    // Visits that had arrived leave now, so Little's law still balances.
                    if fr.arrived <= now {
                        stats.departures += 1;
                        stats.sojourn_sum += (now - fr.arrived) as u128;
                        stats.wait_sum += fr.waited as u128;
                    }
                }
                self.free_frame(i as u32);
            }
        }
        let first = self.comps[comp].first_station;
        let s = &mut self.stations[st as usize];
        s.busy = 0;
        s.present = 0;
        s.queue.clear();
        self.present_changed(st);
        let rt = &mut self.comps[comp];
        if let Some(cache) = rt.caches.get_mut((st - first) as usize) {
            let (cap, ttl) = (cache.capacity_setting(), cache.ttl_setting());
            *cache = CacheStore::new(cap, ttl);
        }
        for def in &rt.pools {
            let ps = &mut self.pools[(def.first_state + st - first) as usize];
            ps.advance_clock(now);
            ps.available = ps.size;
            ps.waiters.clear();
        }
        for c in &mut self.comps {
            if let Some(b) = &mut c.balancer {
                b.lose_sessions(st);
            }
        }
        for (parent, generation, req) in orphans {
            self.notify(parent, generation, req, Outcome::Failed);
        }
    }

    fn recover(&mut self, st: u32) {
        let now = self.now;
        let s = &mut self.stations[st as usize];
        if s.up {
            return;
        }
        s.advance_clock(now);
        s.up = true;
        let comp = self.station_comp[st as usize];
        let first = self.comps[comp as usize].first_station;
        self.out.crash_log.push((now, comp, st - first, false));
    }

    fn schedule_random_failure(&mut self, station: u32, down: bool) {
        let comp = self.station_comp[station as usize] as usize;
        let Some(f) = self.model.failures.iter().find(|f| {
            f.component == comp
                && matches!(f.kind, FailureKind::Random { .. })
                && f.instance
                    .is_none_or(|i| self.comps[comp].first_station + i == station)
        }) else {
            return;
        };
        let FailureKind::Random { mtbf_s, mttr_s } = f.kind else {
            return;
        };
        let mean = if down { mtbf_s } else { mttr_s };
        let e: f64 = Exp1.sample(&mut self.failure_rng);
        self.events.schedule(
            self.now.saturating_add(time::from_s(e * mean)),
            Ev::RandomFailure { station, down },
        );
    }

    fn timeline_tick(&mut self) {
        let Some(tl) = &self.timeline else { return };
        let next = self.now + tl.interval_ns;
        self.timeline_sample();
        if next < self.end {
            self.events.schedule(next, Ev::TimelineTick);
        }
    }

    /// Closes the timeline interval that ends now (or the last, shorter one at the end of the
    /// run) with each component's averages over it.
    fn timeline_sample(&mut self) {
        let now = self.now;
        let Some(tl) = &mut self.timeline else { return };
        let interval = tl.interval_ns;
        // The interval that ends now: [now − interval, now), or the last, shorter one.
        let start = (now.saturating_sub(1) / interval) * interval;
        let dt = (now - start).max(1) as f64;
        for (id, c) in self.comps.iter().enumerate() {
            let (mut busy, mut queue, mut down) = (0.0, 0.0, 0.0);
            for s in c.first_station..c.first_station + c.stations {
                let st = &mut self.stations[s as usize];
                st.advance_clock(now);
                let k = s as usize;
                let cur = (
                    st.stats.busy_area + self.carried[k].0,
                    st.stats.queue_area + self.carried[k].1,
                    st.stats.down_ns + self.carried[k].2,
                );
                busy += (cur.0 - self.tick_last[k].0) as f64;
                queue += (cur.1 - self.tick_last[k].1) as f64;
                down += (cur.2 - self.tick_last[k].2) as f64;
                self.tick_last[k] = cur;
            }
            let n = c.stations.max(1) as f64;
            let workers = self
                .stations
                .get(c.first_station as usize)
                .map_or(UNBOUNDED, |s| s.workers);
            let util = if workers == UNBOUNDED || c.stations == 0 {
                0.0
            } else {
                busy / (dt * n * workers as f64)
            };
            tl.sample(start, id, util, queue / dt, 1.0 - down / (dt * n));
        }
    }

    fn health_tick(&mut self, c: u32) {
        let Some(b) = &mut self.comps[c as usize].balancer else {
            return;
        };
        let Some(h) = b.health.clone() else { return };
        b.check(&self.stations);
        self.events.schedule(
            self.now.saturating_add(time::from_s(h.interval_s)),
            Ev::HealthTick(c),
        );
    }

    #[inline(always)]
    fn client_done(&mut self, req: u32, why: Outcome) {
        let Request {
            timed_out,
            measured,
            first_arrival,
            class,
            client,
            key,
            owner,
            ..
        } = self.requests[req as usize];
        if timed_out {
            if measured {
                self.out.late_responses += 1;
            }
        } else if why != Outcome::Ok && self.client_retry(req) {
            // A new attempt is on its way; this one is over.
        } else {
            if measured {
                match why {
                    Outcome::Ok => {
                        let lat = self.now - first_arrival;
                        self.out.completed += 1;
                        self.out.latency.record(lat);
                        // With one class its histogram is the total's: filled in at the end.
                        if self.classes.len() > 1 {
                            self.out.classes[class as usize].latency.record(lat);
                        }
                    }
                    Outcome::Dropped => self.out.dropped += 1,
                    Outcome::Failed => self.out.failed += 1,
                }
            }
            // Browsers keep what they fetched, during warm-up too.
            if why == Outcome::Ok && self.classes[class as usize].browser_cached {
                self.browser.insert((client, key), self.now);
            }
            // The timeline covers the whole run, warm-up included.
            if let Some(tl) = &mut self.timeline {
                match why {
                    Outcome::Ok => tl.completion(self.now, self.now - first_arrival),
                    _ => tl.error(self.now, false),
                }
            }
            if owner != NONE {
                self.schedule_think(owner);
            }
        }
        self.free_request(req);
    }

    fn task_done(&mut self, req: u32, why: Outcome) {
        let r = self.requests[req as usize];
        let q = &mut self.comps[r.owner as usize];
        if why == Outcome::Ok {
            if r.measured
                && let Some(h) = &mut q.task_latency
            {
                h.record(self.now - r.arrival);
            }
        } else if why == Outcome::Failed {
            q.tasks_failed += 1;
        } else {
            q.tasks_dropped += 1;
        }
        self.free_request(req);
    }

    fn reset_measurements(&mut self) {
        if self.timeline.is_some() {
            for (k, st) in self.stations.iter_mut().enumerate() {
                st.advance_clock(self.now);
                self.carried[k].0 += st.stats.busy_area;
                self.carried[k].1 += st.stats.queue_area;
                self.carried[k].2 += st.stats.down_ns;
            }
        }
        for st in &mut self.stations {
            st.reset_stats(self.now);
        }
        for ps in &mut self.pools {
            ps.advance_clock(self.now);
            ps.in_use_area = 0;
            ps.acquired = 0;
            ps.waited = 0;
            ps.wait_sum = 0;
            ps.timeouts = 0;
        }
        for c in &mut self.comps {
            c.routed = 0;
            c.tasks_enqueued = 0;
            c.tasks_dropped = 0;
            c.tasks_failed = 0;
            for cache in &mut c.caches {
                cache.counters = CacheCounters::default();
            }
            c.rate_limited = 0;
            c.call_timeouts = 0;
            c.call_retries = 0;
            if let Some(b) = &mut c.balancer {
                b.no_backend = 0;
                b.sessions_lost = 0;
            }
            if let Some(r) = &mut c.replication {
                r.reads = 0;
                r.stale_reads = 0;
            }
        }
    }

    fn finish_run(mut self) -> RunStats {
        if !self.out.truncated && self.now > 0 {
            // The last interval closes at the end of the run, where no event runs.
            self.timeline_sample();
        }
        let now = self.now;
        for st in &mut self.stations {
            st.advance_clock(now);
        }
        for ps in &mut self.pools {
            ps.advance_clock(now);
        }
        // Counted independently of the outcome counters, so conservation is a real check.
        self.out.in_flight = self
            .requests
            .iter()
            .filter(|r| r.live && r.measured && !r.is_task && !r.timed_out)
            .count() as u64;
        self.out.live_at_end = self
            .requests
            .iter()
            .filter(|r| r.live && !r.is_task)
            .count() as u64;
        self.out.measured_s = time::to_s(now.saturating_sub(self.warmup));
        if self.classes.len() == 1 {
            let browser = self.out.classes[0].browser_hits;
            self.out.classes[0].latency = self.out.latency.clone();
            self.out.classes[0].browser_hits = browser;
        }
        self.out.peak_requests = self.requests.len() as u64;
        self.out.peak_frames = self.frames.len() as u64;
        self.out.peak_events = self.out.peak_events.max(self.pending_events());
        if let Some(tl) = self.timeline.take() {
            let mut events = Vec::new();
            if self.warmup > 0 {
                events.push(TimelineEvent {
                    t_s: time::to_s(self.warmup),
                    label: "end of warm-up".into(),
                });
            }
            for &(t, c, i, down) in &self.out.crash_log {
                let name = &self.model.components[c as usize].name;
                let inst = if self.model.components[c as usize].instances() > 1 {
                    format!("[{i}]")
                } else {
                    String::new()
                };
                events.push(TimelineEvent {
                    t_s: time::to_s(t),
                    label: format!("{name}{inst} {}", if down { "crashes" } else { "recovers" }),
                });
            }
            let base = match &self.model.workload.arrival {
                Arrival::Poisson { rate } => Some(rate * self.cfg.traffic),
                Arrival::Closed { .. } => None,
            };
            let profile = self.model.workload.profile.clone();
            self.out.timeline = Some(
                tl.finish(
                    self.model
                        .components
                        .iter()
                        .map(|c| c.name.clone())
                        .collect(),
                    &self
                        .model
                        .components
                        .iter()
                        .map(|c| c.is_cache())
                        .collect::<Vec<_>>(),
                    |t| profile.factor(t),
                    base,
                    events,
                ),
            );
        }
        self.out.events = self.event_count;
        for (id, c) in self.model.components.iter().enumerate() {
            let rt = &mut self.comps[id];
            let mut agg = StationStats::default();
            let mut backlog = 0;
            let mut present = 0;
            for s in rt.first_station..rt.first_station + rt.stations {
                let st = &self.stations[s as usize];
                let x = &st.stats;
                agg.busy_area += x.busy_area;
                agg.queue_area += x.queue_area;
                agg.present_area += x.present_area;
                agg.departures += x.departures;
                agg.completed += x.completed;
                agg.sojourn_sum += x.sojourn_sum;
                agg.wait_sum += x.wait_sum;
                agg.dropped += x.dropped;
                agg.failed += x.failed;
                agg.crashes += x.crashes;
                agg.down_ns += x.down_ns;
                backlog += st.queue.len() as u64;
                present += st.present as u64;
            }
            let (reads, stale) = rt
                .replication
                .as_ref()
                .map_or((0, 0), |r| (r.reads, r.stale_reads));
            self.out.components.push(CompStats {
                name: c.name.clone(),
                kind: c.kind.name(),
                station: agg,
                workers_total: c.workers().map(|w| w as u64 * rt.stations as u64),
                routed: rt.routed,
                cache: (!rt.caches.is_empty()).then(|| {
                    let mut sum = CacheCounters::default();
                    for k in &rt.caches {
                        sum.add(&k.counters);
                    }
                    sum
                }),
                edges: match &c.kind {
                    Kind::Cdn(cdn) => cdn
                        .edges
                        .iter()
                        .zip(&rt.caches)
                        .map(|(e, k)| {
                            let region = self
                                .model
                                .network
                                .as_ref()
                                .map_or(String::new(), |n| n.regions[e.region].clone());
                            (region, k.counters.clone())
                        })
                        .collect(),
                    _ => Vec::new(),
                },
                rate_limited: rt.rate_limited,
                call_timeouts: rt.call_timeouts,
                call_retries: rt.call_retries,
                no_backend: rt.balancer.as_ref().map_or(0, |b| b.no_backend),
                sessions_lost: rt.balancer.as_ref().map_or(0, |b| b.sessions_lost),
                instance_busy: (rt.first_station..rt.first_station + rt.stations)
                    .map(|s| self.stations[s as usize].stats.busy_area)
                    .collect(),
                reads_on_replicas: reads,
                stale_reads: stale,
                task_latency: rt.task_latency.take(),
                tasks_enqueued: rt.tasks_enqueued,
                tasks_dropped: rt.tasks_dropped,
                tasks_failed: rt.tasks_failed,
                backlog,
                present_at_end: present,
                pools: rt
                    .pools
                    .iter()
                    .map(|def| {
                        let mut sum = self.pools[def.first_state as usize].clone();
                        for i in 1..rt.stations {
                            let x = &self.pools[(def.first_state + i) as usize];
                            sum.size += x.size;
                            sum.in_use_area += x.in_use_area;
                            sum.acquired += x.acquired;
                            sum.waited += x.waited;
                            sum.wait_sum += x.wait_sum;
                            sum.timeouts += x.timeouts;
                        }
                        sum.waiters.clear();
                        (self.model.components[def.target as usize].name.clone(), sum)
                    })
                    .collect(),
            });
        }
        self.out
    }
}

/// Convenience: simulate one run of `model` under `cfg`.
pub fn simulate(model: &Model, cfg: RunConfig) -> RunStats {
    Sim::new(model, cfg).run()
}

#[allow(dead_code)]
fn _assert_sizes() {
    // Keep the hot structures small; growing them costs cache misses on every event.
    const _: () = assert!(std::mem::size_of::<Ev>() <= 16);
    let _ = CompId::default;
}
