//! From raw run statistics to the numbers users read: per-run summaries, means and 95% confidence
//! half-widths over replications, the bottleneck, and the run's checks on itself.

use crate::engine::sim::{CompStats, RunStats};
use crate::model::Model;
use crate::model::graph;
use serde::de::{Deserializer, MapAccess, Visitor};
use serde::ser::{SerializeMap, Serializer};
use serde::{Deserialize, Serialize};
use statrs::distribution::{ContinuousCDF, StudentsT};

/// A JSON object whose keys keep the order they were inserted in (model order, not alphabetical).
#[derive(Debug, Clone)]
pub struct Ordered<T>(pub Vec<(String, T)>);

impl<T> Default for Ordered<T> {
    fn default() -> Self {
        Ordered(Vec::new())
    }
}

impl<T: Serialize> Serialize for Ordered<T> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut m = s.serialize_map(Some(self.0.len()))?;
        for (k, v) in &self.0 {
            m.serialize_entry(k, v)?;
        }
        m.end()
    }
}

impl<'de, T: Deserialize<'de>> Deserialize<'de> for Ordered<T> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V<T>(std::marker::PhantomData<T>);
        impl<'de, T: Deserialize<'de>> Visitor<'de> for V<T> {
            type Value = Ordered<T>;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a map")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut a: A) -> Result<Self::Value, A::Error> {
                let mut out = Vec::new();
                while let Some((k, v)) = a.next_entry::<String, T>()? {
                    out.push((k, v));
                }
                Ok(Ordered(out))
            }
        }
        d.deserialize_map(V(std::marker::PhantomData))
    }
}

/// `Vec<(String, f64)>` as a JSON object, keeping order.
pub mod pairs {
    use super::Ordered;
    use serde::{Deserialize, Deserializer, Serialize, Serializer};

    pub fn serialize<S: Serializer>(v: &[(String, f64)], s: S) -> Result<S::Ok, S::Error> {
        Ordered(v.to_vec()).serialize(s)
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<(String, f64)>, D::Error> {
        Ok(Ordered::<f64>::deserialize(d)?.0)
    }
}

impl<T> Ordered<T> {
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn get(&self, key: &str) -> Option<&T> {
        self.0.iter().find(|(k, _)| k == key).map(|(_, v)| v)
    }
}

/// A count: an integer for one replication, the mean (possibly fractional) over several.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Count(pub f64);

impl<'de> Deserialize<'de> for Count {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        Ok(Count(f64::deserialize(d)?))
    }
}

impl Serialize for Count {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        if self.0.fract() == 0.0 && self.0.abs() < 9e15 {
            s.serialize_i64(self.0 as i64)
        } else {
            s.serialize_f64(self.0)
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize, Default)]
pub struct Requests {
    pub arrived: Count,
    pub completed: Count,
    pub dropped: Count,
    pub timed_out: Count,
    pub failed: Count,
    /// Measured requests still unanswered when the run ended.
    pub in_flight: Count,
    /// Arrivals turned away by the in-flight cap (part of `dropped`).
    pub shed: Count,
    /// Responses that arrived after the client had timed out (wasted work).
    pub late_responses: Count,
    /// Answered by the client's browser cache without reaching the network (part of `completed`).
    pub browser_hits: Count,
    /// Attempts sent, first tries and client retries: attempts / arrived is the retry amplification.
    #[serde(default)]
    pub attempts: Count,
    #[serde(default)]
    pub retries: Count,
    /// Retries the retry budget refused.
    #[serde(default)]
    pub retries_denied: Count,
    /// Responses that came back to a caller that had stopped waiting (timed out or crashed).
    #[serde(default)]
    pub orphaned_responses: Count,
}

#[derive(Debug, Clone, Serialize, Deserialize, Default)]
pub struct Latency {
    pub mean: f64,
    pub p50: f64,
    pub p90: f64,
    pub p95: f64,
    pub p99: f64,
    pub p999: f64,
    pub max: f64,
}

#[derive(Debug, Clone, Serialize, Deserialize, Default)]
pub struct Ci95 {
    pub latency_ms_mean: Option<f64>,
    pub latency_ms_p99: Option<f64>,
    pub throughput_rps: Option<f64>,
}

#[derive(Debug, Clone, Serialize, Deserialize, Default)]
pub struct MeanP99 {
    pub mean: f64,
    pub p99: f64,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ClassSummary {
    pub throughput_rps: f64,
    pub latency_ms: MeanP99,
    /// Share of this class's completed requests answered by the client's browser cache.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub browser_hit_ratio: Option<f64>,
}

#[derive(Debug, Clone, Serialize, Deserialize, Default)]
pub struct ComponentSummary {
    pub kind: String,
    pub instances: u32,
    /// Workers per instance; null when unbounded.
    pub workers: Option<u32>,
    pub utilization: f64,
    pub throughput_rps: f64,
    pub mean_wait_ms: f64,
    pub mean_queue_len: f64,
    pub dropped: Count,
    pub failed: Count,
    /// Time-average number of requests present (waiting, served, or blocked on calls).
    pub mean_in_system: f64,
    /// Mean time a visit spends here, from arrival to departure.
    pub mean_sojourn_ms: f64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hit_ratio: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub backend_calls: Option<Count>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stale_read_ratio: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub task_latency_ms: Option<MeanP99>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub backlog: Option<Count>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tasks_dropped: Option<Count>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tasks_failed: Option<Count>,
    /// A CDN's edges, by region: hit ratio and requests per second served there.
    #[serde(default, skip_serializing_if = "Ordered::is_empty")]
    pub edges: Ordered<EdgeSummary>,
    /// Calls refused by an external API's rate limit (they fail).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rate_limited: Option<Count>,
    /// Connection pools of this component, by the database they connect to.
    #[serde(default, skip_serializing_if = "Ordered::is_empty")]
    pub pools: Ordered<PoolSummary>,
    /// Utilization of each instance, when there are several (sticky routing shows imbalance).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub instance_utilization: Vec<f64>,
    /// Crashes of its instances in the measured window (scheduled, random or out of memory).
    #[serde(default, skip_serializing_if = "is_zero")]
    pub crashes: Count,
    /// Fraction of instance-time spent down.
    #[serde(default, skip_serializing_if = "f64_is_zero")]
    pub down_fraction: f64,
    /// Calls from this component that timed out (`CallWith`), and retries it made.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub call_timeouts: Count,
    #[serde(default, skip_serializing_if = "is_zero")]
    pub call_retries: Count,
    /// Load balancers: requests refused because no backend was believed healthy.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub no_healthy_backend: Count,
    /// Sticky balancers: sessions lost when the instance holding them crashed.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub sessions_lost: Count,
}

fn is_zero(c: &Count) -> bool {
    c.0 == 0.0
}

fn f64_is_zero(x: &f64) -> bool {
    *x == 0.0
}

#[derive(Debug, Clone, Serialize, Deserialize, Default)]
pub struct EdgeSummary {
    pub hit_ratio: f64,
    pub throughput_rps: f64,
}

#[derive(Debug, Clone, Serialize, Deserialize, Default)]
pub struct PoolSummary {
    /// Connections per instance.
    pub size: u32,
    /// Time-average fraction of connections in use.
    pub utilization: f64,
    /// Mean wait for a connection over all calls (0 for calls that found one free).
    pub mean_wait_ms: f64,
    /// Fraction of calls that had to wait.
    pub wait_fraction: f64,
    /// Calls that gave up waiting (`acquire_timeout_ms`); they fail.
    pub timeouts: Count,
}

/// The run's checks on itself. A failed conservation check is a bug in archsim.
#[derive(Debug, Clone, Serialize, Deserialize, Default)]
pub struct Checks {
    /// arrived = completed + dropped + failed + timed_out + in_flight, in every replication.
    pub conservation: bool,
    /// Largest |L − λW| / L over components with at least 1000 visits (Little's law).
    pub little_max_rel_error: f64,
    pub little_component: Option<String>,
}

/// What the design costs to run (prices per instance per month, see docs/model-format.md).
#[derive(Debug, Clone, Serialize, Deserialize, Default)]
pub struct Cost {
    pub monthly_usd: f64,
    /// Monthly cost divided by the requests served in a month at this throughput.
    pub per_million_requests_usd: Option<f64>,
    pub components: Ordered<f64>,
}

/// Seconds in an average month (365.25 / 12 days).
pub const SECONDS_PER_MONTH: f64 = 2_629_800.0;

impl Cost {
    pub fn of(model: &Model, throughput_rps: f64) -> Cost {
        let components = Ordered(
            model
                .components
                .iter()
                .map(|c| (c.name.clone(), c.monthly_cost()))
                .collect(),
        );
        let monthly_usd: f64 = model.components.iter().map(|c| c.monthly_cost()).sum();
        Cost {
            monthly_usd,
            per_million_requests_usd: (throughput_rps > 0.0)
                .then(|| monthly_usd / (throughput_rps * SECONDS_PER_MONTH) * 1e6),
            components,
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize, Default)]
pub struct EngineInfo {
    pub events: u64,
    pub wall_s: f64,
    /// The run stopped before its simulated end (`--max-events`, `--max-wall`, or Ctrl-C).
    pub truncated: bool,
    #[serde(default)]
    pub interrupted: bool,
    /// Requests and frames alive at once at the peak, and the largest event queue: memory is
    /// proportional to these, not to the number of requests simulated.
    #[serde(default)]
    pub peak_requests: u64,
    #[serde(default)]
    pub peak_frames: u64,
    #[serde(default)]
    pub peak_events: u64,
}

/// One point (model, traffic, parameters) summarised over its replications: the `run --json`
/// object of SPEC.md.
#[derive(Debug, Clone, Serialize, Deserialize, Default)]
pub struct RunSummary {
    pub model: String,
    pub traffic: f64,
    /// Values of swept parameters other than traffic (`app.instances` → 4).
    #[serde(default, skip_serializing_if = "Vec::is_empty", with = "pairs")]
    pub parameters: Vec<(String, f64)>,
    pub offered_rps: f64,
    pub duration_s: f64,
    pub warmup_s: f64,
    pub seed: u64,
    pub replications: u32,
    pub throughput_rps: f64,
    pub error_rate: f64,
    pub requests: Requests,
    pub latency_ms: Latency,
    pub ci95: Ci95,
    pub components: Ordered<ComponentSummary>,
    pub classes: Ordered<ClassSummary>,
    pub bottleneck: String,
    /// False when the system could not keep up (queues still growing, or arrivals shed).
    pub stable: bool,
    pub warnings: Vec<String>,
    pub checks: Checks,
    pub engine: EngineInfo,
    pub cost: Cost,
    /// With `--timeline`: the first replication's time series.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timeline: Option<crate::stats::timeline::Timeline>,
}

/// The 95% confidence half-width of the mean of `xs` (Student t); None for fewer than two.
pub fn ci95_half_width(xs: &[f64]) -> Option<f64> {
    let n = xs.len();
    if n < 2 {
        return None;
    }
    let mean = xs.iter().sum::<f64>() / n as f64;
    let var = xs.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (n - 1) as f64;
    let t = StudentsT::new(0.0, 1.0, (n - 1) as f64)
        .expect("n - 1 ≥ 1 degrees of freedom")
        .inverse_cdf(0.975);
    Some(t * (var / n as f64).sqrt())
}

fn mean_of(runs: &[RunStats], f: impl Fn(&RunStats) -> f64) -> f64 {
    runs.iter().map(f).sum::<f64>() / runs.len() as f64
}

fn count_of(runs: &[RunStats], f: impl Fn(&RunStats) -> u64) -> Count {
    Count(mean_of(runs, |r| f(r) as f64))
}

fn throughput(r: &RunStats) -> f64 {
    if r.measured_s > 0.0 {
        r.completed as f64 / r.measured_s
    } else {
        0.0
    }
}

/// What the caller knows about the point besides the runs.
pub struct PointInfo<'a> {
    pub model: &'a Model,
    pub traffic: f64,
    pub parameters: Vec<(String, f64)>,
    pub offered_rps: f64,
    pub duration_s: f64,
    pub warmup_s: f64,
    pub seed: u64,
    pub wall_s: f64,
}

fn component_summary(
    model: &Model,
    id: usize,
    cs: &[&CompStats],
    measured: &[f64],
) -> ComponentSummary {
    let c = &model.components[id];
    let n = cs.len() as f64;
    let per = |f: &dyn Fn(&CompStats, f64) -> f64| {
        cs.iter().zip(measured).map(|(x, &t)| f(x, t)).sum::<f64>() / n
    };
    let ns_t = |t: f64| (t * 1e9).max(1.0);
    let utilization = per(&|x, t| match x.workers_total {
        Some(w) if w < u32::MAX as u64 => x.station.busy_area as f64 / (ns_t(t) * w as f64),
        _ => 0.0,
    });
    let is_lb = x_is_lb(c);
    let mut s = ComponentSummary {
        kind: c.kind.name().to_string(),
        instances: c.instances(),
        workers: c.workers(),
        utilization,
        throughput_rps: per(&|x, t| {
            if is_lb {
                x.routed as f64 / t.max(1e-9)
            } else {
                x.station.completed as f64 / t.max(1e-9)
            }
        }),
        mean_wait_ms: per(&|x, _| {
            if x.station.departures == 0 {
                0.0
            } else {
                x.station.wait_sum as f64 / x.station.departures as f64 / 1e6
            }
        }),
        mean_queue_len: per(&|x, t| x.station.queue_area as f64 / ns_t(t)),
        dropped: Count(per(&|x, _| (x.station.dropped + x.tasks_dropped) as f64)),
        failed: Count(per(&|x, _| x.station.failed as f64)),
        mean_in_system: per(&|x, t| x.station.present_area as f64 / ns_t(t)),
        mean_sojourn_ms: per(&|x, _| {
            if x.station.departures == 0 {
                0.0
            } else {
                x.station.sojourn_sum as f64 / x.station.departures as f64 / 1e6
            }
        }),
        ..Default::default()
    };
    if cs[0].cache.is_some() {
        s.hit_ratio = Some(per(&|x, _| {
            let k = x.cache.as_ref().expect("cache counters");
            if k.lookups == 0 {
                0.0
            } else {
                k.hits as f64 / k.lookups as f64
            }
        }));
        s.backend_calls = Some(Count(per(&|x, _| {
            x.cache.as_ref().map_or(0, |k| k.backend_calls) as f64
        })));
    }
    if let crate::model::Kind::Database(_) = &c.kind {
        s.stale_read_ratio = Some(per(&|x, _| {
            if x.reads_on_replicas == 0 {
                0.0
            } else {
                x.stale_reads as f64 / x.reads_on_replicas as f64
            }
        }));
    }
    if cs[0].task_latency.is_some() {
        s.task_latency_ms = Some(MeanP99 {
            mean: per(&|x, _| x.task_latency.as_ref().map_or(0.0, |h| h.mean_ms())),
            p99: per(&|x, _| x.task_latency.as_ref().map_or(0.0, |h| h.quantile_ms(0.99))),
        });
        s.backlog = Some(Count(per(&|x, _| x.backlog as f64)));
        s.tasks_dropped = Some(Count(per(&|x, _| x.tasks_dropped as f64)));
        s.tasks_failed = Some(Count(per(&|x, _| x.tasks_failed as f64)));
        s.dropped = Count(per(&|x, _| x.tasks_dropped as f64));
    }
    if c.instances() > 1 {
        let w = c.workers().filter(|w| *w < u32::MAX).unwrap_or(0) as f64;
        if w > 0.0 {
            s.instance_utilization = (0..cs[0].instance_busy.len())
                .map(|i| per(&|x, t| x.instance_busy[i] as f64 / (ns_t(t) * w)))
                .collect();
        }
    }
    s.crashes = Count(per(&|x, _| x.station.crashes as f64));
    s.down_fraction =
        per(&|x, t| x.station.down_ns as f64 / (ns_t(t) * c.instances().max(1) as f64));
    s.call_timeouts = Count(per(&|x, _| x.call_timeouts as f64));
    s.call_retries = Count(per(&|x, _| x.call_retries as f64));
    s.no_healthy_backend = Count(per(&|x, _| x.no_backend as f64));
    s.sessions_lost = Count(per(&|x, _| x.sessions_lost as f64));
    if let crate::model::Kind::Cdn(cdn) = &c.kind {
        for i in 0..cdn.edges.len() {
            let region = cs[0].edges[i].0.clone();
            s.edges.0.push((
                region,
                EdgeSummary {
                    hit_ratio: per(&|x, _| {
                        let k = &x.edges[i].1;
                        if k.lookups == 0 {
                            0.0
                        } else {
                            k.hits as f64 / k.lookups as f64
                        }
                    }),
                    throughput_rps: per(&|x, t| x.edges[i].1.lookups as f64 / t.max(1e-9)),
                },
            ));
        }
    }
    if let crate::model::Kind::ExternalApi(api) = &c.kind
        && api.rate_limit_rps.is_some()
    {
        s.rate_limited = Some(Count(per(&|x, _| x.rate_limited as f64)));
    }
    if let crate::model::Kind::Server(sv) = &c.kind {
        for (i, (target, pool)) in sv.pools.iter().enumerate() {
            let pick = |x: &CompStats| x.pools[i].1.clone();
            s.pools.0.push((
                model.components[*target].name.clone(),
                PoolSummary {
                    size: pool.size,
                    utilization: per(&|x, t| {
                        let p = pick(x);
                        p.in_use_area as f64 / (ns_t(t) * p.size as f64)
                    }),
                    mean_wait_ms: per(&|x, _| {
                        let p = pick(x);
                        if p.acquired == 0 {
                            0.0
                        } else {
                            p.wait_sum as f64 / p.acquired as f64 / 1e6
                        }
                    }),
                    wait_fraction: per(&|x, _| {
                        let p = pick(x);
                        if p.acquired == 0 {
                            0.0
                        } else {
                            p.waited as f64 / p.acquired as f64
                        }
                    }),
                    timeouts: Count(per(&|x, _| pick(x).timeouts as f64)),
                },
            ));
        }
    }
    s
}

fn x_is_lb(c: &crate::model::Component) -> bool {
    matches!(c.kind, crate::model::Kind::LoadBalancer(_))
}

/// SPEC's rule: among components at least 95% utilised, the one farthest down the call chain;
/// when none is that busy, the most utilised one.
pub fn bottleneck(model: &Model, comps: &Ordered<ComponentSummary>) -> String {
    let depth = graph::depths(model);
    // A component counts as saturated when any of its instances is: a database whose replicas
    // are full is the bottleneck even while its primary idles.
    let util: Vec<f64> = comps
        .0
        .iter()
        .map(|(_, c)| {
            c.instance_utilization
                .iter()
                .copied()
                .fold(c.utilization, f64::max)
        })
        .collect();
    let saturated: Vec<usize> = (0..util.len()).filter(|&i| util[i] >= 0.95).collect();
    let pick = if saturated.is_empty() {
        (0..util.len()).max_by(|&a, &b| util[a].total_cmp(&util[b]).then(b.cmp(&a)))
    } else {
        saturated.into_iter().max_by(|&a, &b| {
            depth[a]
                .cmp(&depth[b])
                .then(util[a].total_cmp(&util[b]))
                .then(b.cmp(&a))
        })
    };
    pick.map(|i| comps.0[i].0.clone()).unwrap_or_default()
}

pub fn summarize(info: PointInfo, runs: &[RunStats]) -> RunSummary {
    let model = info.model;
    let measured: Vec<f64> = runs.iter().map(|r| r.measured_s).collect();
    let mut components = Ordered::default();
    for (id, c) in model.components.iter().enumerate() {
        let cs: Vec<&CompStats> = runs.iter().map(|r| &r.components[id]).collect();
        components
            .0
            .push((c.name.clone(), component_summary(model, id, &cs, &measured)));
    }
    let mut classes = Ordered::default();
    for (i, c) in model.workload.classes.iter().enumerate() {
        classes.0.push((
            c.name.clone(),
            ClassSummary {
                throughput_rps: mean_of(runs, |r| {
                    r.classes[i].latency.count() as f64 / r.measured_s.max(1e-9)
                }),
                latency_ms: MeanP99 {
                    mean: mean_of(runs, |r| r.classes[i].latency.mean_ms()),
                    p99: mean_of(runs, |r| r.classes[i].latency.quantile_ms(0.99)),
                },
                browser_hit_ratio: c.max_age_s.map(|_| {
                    mean_of(runs, |r| {
                        let n = r.classes[i].latency.count();
                        if n == 0 {
                            0.0
                        } else {
                            r.classes[i].browser_hits as f64 / n as f64
                        }
                    })
                }),
            },
        ));
    }
    let throughputs: Vec<f64> = runs.iter().map(throughput).collect();
    let means: Vec<f64> = runs.iter().map(|r| r.latency.mean_ms()).collect();
    let p99s: Vec<f64> = runs.iter().map(|r| r.latency.quantile_ms(0.99)).collect();
    let requests = Requests {
        arrived: count_of(runs, |r| r.arrived),
        completed: count_of(runs, |r| r.completed),
        dropped: count_of(runs, |r| r.dropped),
        timed_out: count_of(runs, |r| r.timed_out),
        failed: count_of(runs, |r| r.failed),
        in_flight: count_of(runs, |r| r.in_flight),
        shed: count_of(runs, |r| r.shed),
        late_responses: count_of(runs, |r| r.late_responses),
        browser_hits: count_of(runs, |r| r.browser_hits),
        attempts: count_of(runs, |r| r.attempts),
        retries: count_of(runs, |r| r.retries),
        retries_denied: count_of(runs, |r| r.retries_denied),
        orphaned_responses: count_of(runs, |r| r.orphaned_responses),
    };
    let errors = requests.dropped.0 + requests.failed.0 + requests.timed_out.0;
    let answered = errors + requests.completed.0;
    let mut checks = Checks {
        conservation: runs
            .iter()
            .all(|r| r.arrived == r.completed + r.dropped + r.failed + r.timed_out + r.in_flight),
        ..Default::default()
    };
    for r in runs {
        for c in &r.components {
            let st = &c.station;
            if st.departures >= 1000 && st.present_area > 0 {
                let t = r.measured_s * 1e9;
                let l = st.present_area as f64 / t;
                let lw = st.sojourn_sum as f64 / t;
                let err = (l - lw).abs() / l;
                if err > checks.little_max_rel_error {
                    checks.little_max_rel_error = err;
                    checks.little_component = Some(c.name.clone());
                }
            }
        }
    }
    let mut warnings = Vec::new();
    let mut stable = true;
    if requests.shed.0 > 0.0 {
        stable = false;
        warnings.push(format!(
            "the in-flight cap was reached: {} arrivals were shed. The system cannot keep up at this load; its queues would grow without bound, so latency figures describe the cap, not a steady state",
            requests.shed.0
        ));
    }
    let backlog_limit = (0.02 * requests.arrived.0).max(100.0);
    let live_at_end = mean_of(runs, |r| r.live_at_end as f64);
    if live_at_end > backlog_limit {
        stable = false;
        warnings.push(format!(
            "{live_at_end:.0} requests were still in the system at the end of the run: queues were growing (unstable at this load)"
        ));
    }
    let tasks_shed = mean_of(runs, |r| r.tasks_shed as f64);
    if tasks_shed > 0.0 {
        stable = false;
        warnings.push(format!(
            "the in-flight cap was reached: {tasks_shed} queue tasks were dropped; the queues' workers cannot keep up at this load"
        ));
    }
    for (name, c) in &components.0 {
        if let Some(b) = c.backlog
            && b.0 > backlog_limit
        {
            warnings.push(format!(
                "queue `{name}` ended with a backlog of {:.0} tasks: its workers cannot keep up",
                b.0
            ));
        }
    }
    if !checks.conservation {
        warnings.push(
            "internal check failed: requests were not conserved (please report this bug)".into(),
        );
    }
    if runs.iter().any(|r| r.zero_time_loop) {
        stable = false;
        warnings.push(
            "the run was stopped at one instant where work kept creating work without simulated \
             time passing (for example a queue whose task enqueues the next task with no Work on \
             the way): results are partial; add a Work step to the loop or break it"
                .into(),
        );
    } else if runs.iter().any(|r| r.interrupted) {
        warnings.push("the run was interrupted before its end: results are partial".into());
    } else if runs.iter().any(|r| r.truncated) {
        warnings.push(
            "the run stopped at the event or wall-clock limit before its end: results are partial"
                .into(),
        );
    }
    let bottleneck = bottleneck(model, &components);
    let events: u64 = runs.iter().map(|r| r.events).sum();
    RunSummary {
        model: model.name.clone(),
        traffic: info.traffic,
        parameters: info.parameters,
        offered_rps: info.offered_rps,
        duration_s: info.duration_s,
        warmup_s: info.warmup_s,
        seed: info.seed,
        replications: runs.len() as u32,
        throughput_rps: throughputs.iter().sum::<f64>() / runs.len() as f64,
        error_rate: if answered > 0.0 {
            errors / answered
        } else {
            0.0
        },
        requests,
        latency_ms: Latency {
            mean: means.iter().sum::<f64>() / runs.len() as f64,
            p50: mean_of(runs, |r| r.latency.quantile_ms(0.5)),
            p90: mean_of(runs, |r| r.latency.quantile_ms(0.9)),
            p95: mean_of(runs, |r| r.latency.quantile_ms(0.95)),
            p99: p99s.iter().sum::<f64>() / runs.len() as f64,
            p999: mean_of(runs, |r| r.latency.quantile_ms(0.999)),
            max: mean_of(runs, |r| r.latency.max_ms()),
        },
        ci95: Ci95 {
            latency_ms_mean: ci95_half_width(&means),
            latency_ms_p99: ci95_half_width(&p99s),
            throughput_rps: ci95_half_width(&throughputs),
        },
        components,
        classes,
        bottleneck,
        stable,
        warnings,
        checks,
        engine: EngineInfo {
            events,
            wall_s: info.wall_s,
            truncated: runs.iter().any(|r| r.truncated),
            interrupted: runs.iter().any(|r| r.interrupted),
            peak_requests: runs.iter().map(|r| r.peak_requests).max().unwrap_or(0),
            peak_frames: runs.iter().map(|r| r.peak_frames).max().unwrap_or(0),
            peak_events: runs.iter().map(|r| r.peak_events).max().unwrap_or(0),
        },
        cost: Cost::of(model, throughputs.iter().sum::<f64>() / runs.len() as f64),
        timeline: runs.first().and_then(|r| r.timeline.clone()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ci95_matches_student_t_table() {
        // n = 5: t(0.975, 4) = 2.776445; sample sd of 1..5 is sqrt(2.5).
        let h = ci95_half_width(&[1.0, 2.0, 3.0, 4.0, 5.0]).unwrap();
        assert!((h - 2.776_445 * (2.5f64 / 5.0).sqrt()).abs() < 1e-5);
        assert_eq!(ci95_half_width(&[3.0]), None);
    }
}
