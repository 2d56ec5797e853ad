//! `archsim explain`: an analytic pass over a model by the operational laws — visits and service
//! demand per component, utilization at a traffic level, the traffic at which each component
//! saturates, M/M/c waits where they apply, single points of failure — to set beside a simulation.
//!
//! The pass follows each request class through the handlers with its probability: a `Maybe`
//! scales what is under it, `Parallel` visits every branch, a cache sends its estimated misses
//! (Che's approximation for LRU, λT/(1+λT) per key for a TTL) to its backend, a database splits
//! reads over replicas and writes onto the primary. Blocking servers hold a worker for their own
//! work plus the unloaded response time of everything they call; that is a lower bound on the
//! holding time, so their saturation point is an upper bound.

use super::queueing;
use crate::dist::Dist;
use crate::model::{Arrival, CompId, KeyLaw, Kind, Mode, Model, Op, Step};
use crate::stats::summary::Ordered;
use serde::Serialize;

#[derive(Debug, Clone, Serialize, Default)]
pub struct ComponentBound {
    pub kind: String,
    /// Expected visits per request (over all classes, by weight).
    pub visits: f64,
    /// Mean time a visit holds a worker, ms (Blocking servers: including unloaded calls).
    pub holding_ms: f64,
    /// Service demand per request: visits × holding time, ms.
    pub demand_ms: f64,
    /// Workers over all instances (null when unbounded).
    pub capacity: Option<f64>,
    /// Predicted by the utilization law at the requested traffic.
    pub analytic_utilization: f64,
    /// Traffic multiplier at which this component reaches 100% (null when it cannot saturate).
    pub saturation_traffic: Option<f64>,
    /// Erlang-C mean wait at the requested traffic, for stations with exponential service.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mmc_wait_ms: Option<f64>,
    /// Estimated cache hit ratio (caches and CDNs).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub hit_ratio: Option<f64>,
    /// Filled in beside the simulation.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub utilization: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub utilization_difference: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mean_wait_ms: Option<f64>,
}

#[derive(Debug, Clone, Serialize, Default)]
pub struct Explanation {
    pub model: String,
    pub traffic: f64,
    /// Open arrivals only.
    pub offered_rps: Option<f64>,
    pub bottleneck: String,
    /// The multiplier at which the first component saturates.
    pub saturation_traffic: Option<f64>,
    pub saturation_rps: Option<f64>,
    pub components: Ordered<ComponentBound>,
    pub single_points_of_failure: Vec<String>,
    /// Assumptions the analytic numbers rest on.
    pub assumptions: Vec<String>,
    /// Plain-language conclusions.
    pub sentences: Vec<String>,
}

/// Per component: expected visits and busy time per request at 1x, per "side" for databases.
#[derive(Clone, Default)]
struct Acc {
    visits: f64,
    /// Σ visits × holding time (ms), split into primary (writes, or everything) and replicas.
    busy_primary: f64,
    busy_replicas: f64,
    /// Σ visits × Work time for stations whose every Work is exponential.
    exp_only: bool,
    /// Certain visits per class (not behind a Maybe, hit or miss).
    certain: Vec<bool>,
    cache_hit: Option<f64>,
}

struct Walker<'a> {
    model: &'a Model,
    acc: Vec<Acc>,
    /// Arrival rate of each class at 1x (req/s), for traffic-dependent TTL hit ratios.
    class_rate: Vec<f64>,
    traffic: f64,
    /// Mean queueing wait per visit at each component (ms), from the previous pass.
    waits: Vec<f64>,
}

fn is_exp(d: &Dist) -> bool {
    matches!(d, Dist::Exp { .. })
}

impl<'a> Walker<'a> {
    /// Estimated hit ratio of a cache with `capacity` and `ttl_s` for class `class`'s keys at
    /// `rate` lookups per second.
    fn hit_ratio(&self, class: usize, capacity: Option<u64>, ttl_s: Option<f64>, rate: f64) -> f64 {
        let popularity: Vec<f64> = match &self.model.workload.classes[class].keys {
            None => vec![1.0],
            Some(KeyLaw::Uniform { n }) => vec![1.0 / *n as f64; (*n).min(1_000_000) as usize],
            Some(KeyLaw::Zipf { n, s }) => {
                queueing::zipf_popularities((*n).min(1_000_000) as usize, *s)
            }
        };
        let che = capacity
            .filter(|c| (*c as usize) < popularity.len())
            .map(|c| {
                let tc = queueing::che_characteristic_time(&popularity, c as usize);
                popularity
                    .iter()
                    .map(|p| 1.0 - (-p * tc).exp())
                    .collect::<Vec<f64>>()
            });
        popularity
            .iter()
            .enumerate()
            .map(|(i, p)| {
                let by_capacity = che.as_ref().map_or(1.0, |h| h[i]);
                let by_ttl = ttl_s.map_or(1.0, |t| queueing::ttl_single_key_hit_ratio(rate * p, t));
                p * by_capacity.min(by_ttl)
            })
            .sum()
    }

    /// Follows `mult` requests of `class` into component `c`; returns the unloaded response time
    /// of one visit in ms (network hops excluded: they hold no worker).
    fn visit(&mut self, c: CompId, class: usize, mult: f64, certain: bool, depth: usize) -> f64 {
        self.visit_inner(c, class, mult, certain, depth) + self.waits[c]
    }

    fn visit_inner(
        &mut self,
        c: CompId,
        class: usize,
        mult: f64,
        certain: bool,
        depth: usize,
    ) -> f64 {
        if depth > 64 || mult <= 0.0 {
            return 0.0;
        }
        self.acc[c].visits += mult;
        if certain {
            self.acc[c].certain[class] = true;
        }
        let op = self.model.workload.classes[class].op;
        match &self.model.components[c].kind {
            Kind::LoadBalancer(lb) => {
                let n: f64 = lb
                    .targets
                    .iter()
                    .map(|&t| self.model.components[t].instances() as f64)
                    .sum();
                let mut r = 0.0;
                for &t in &lb.targets {
                    let share = self.model.components[t].instances() as f64 / n;
                    r += share
                        * self.visit(
                            t,
                            class,
                            mult * share,
                            certain && lb.targets.len() == 1,
                            depth + 1,
                        );
                }
                r
            }
            Kind::Server(s) => {
                let steps = s.handler_for(class).to_vec();
                let blocking = s.mode == Mode::Blocking;
                let (own, downstream) = self.steps(c, &steps, class, mult, certain, depth);
                let hold = if blocking { own + downstream } else { own };
                self.acc[c].busy_primary += mult * hold;
                own + downstream
            }
            Kind::Queue(q) => {
                let steps = q.handler.clone();
                let (own, downstream) = self.steps(c, &steps, class, mult, certain, depth);
                self.acc[c].busy_primary += mult * (own + downstream);
                own + downstream
            }
            Kind::Cache(k) => {
                let (hit_t, backend, capacity, ttl) =
                    (k.hit.mean_ms(), k.backend, k.capacity, k.ttl_s);
                self.acc[c].busy_primary += mult * hit_t;
                self.acc[c].exp_only = is_exp(&k.hit);
                let miss = match op {
                    Op::Write => 1.0,
                    Op::Read => {
                        let rate = self.class_rate[class] * self.traffic * mult;
                        let h = self.hit_ratio(class, capacity, ttl, rate);
                        self.acc[c].cache_hit = Some(h);
                        1.0 - h
                    }
                };
                hit_t
                    + miss
                        * self.visit(
                            backend,
                            class,
                            mult * miss,
                            certain && miss >= 1.0,
                            depth + 1,
                        )
            }
            Kind::Cdn(k) => {
                let (hit_t, origin) = (k.hit.mean_ms(), k.origin);
                let (capacity, ttl) = k
                    .edges
                    .first()
                    .map_or((None, None), |e| (e.capacity, e.ttl_s));
                let n = k.edges.len().max(1) as f64;
                self.acc[c].busy_primary += mult * hit_t;
                let rate = self.class_rate[class] * self.traffic * mult / n;
                let h = self.hit_ratio(class, capacity, ttl, rate);
                self.acc[c].cache_hit = Some(h);
                hit_t + (1.0 - h) * self.visit(origin, class, mult * (1.0 - h), false, depth + 1)
            }
            Kind::Database(d) => {
                let (dist, connect) = (
                    if op == Op::Read { &d.read } else { &d.write },
                    d.connect.as_ref().map_or(0.0, |x| x.mean_ms()),
                );
                let t = dist.mean_ms();
                self.acc[c].exp_only = is_exp(&d.read) && is_exp(&d.write);
                if op == Op::Read && d.replicas > 0 {
                    self.acc[c].busy_replicas += mult * t;
                } else {
                    self.acc[c].busy_primary += mult * t;
                }
                t + connect
            }
            Kind::ExternalApi(a) => {
                let t = a.latency.mean_ms();
                self.acc[c].busy_primary += mult * t;
                self.acc[c].exp_only = is_exp(&a.latency);
                t
            }
        }
    }

    /// Returns (own Work time, downstream response time) of `mult` runs of `steps` at `c`.
    fn steps(
        &mut self,
        c: CompId,
        steps: &[Step],
        class: usize,
        mult: f64,
        certain: bool,
        depth: usize,
    ) -> (f64, f64) {
        let (mut own, mut down) = (0.0, 0.0);
        let mut all_exp = true;
        for s in steps {
            match s {
                Step::Work(d) => {
                    own += d.mean_ms();
                    all_exp &= is_exp(d);
                }
                Step::Call(t) | Step::CallWith(t, _) => {
                    down += self.visit(*t, class, mult, certain, depth + 1)
                }
                Step::Enqueue(q) => {
                    self.visit(*q, class, mult, false, depth + 1);
                }
                Step::Maybe { p, steps } => {
                    let (o, d) = self.steps(c, steps, class, mult * p, false, depth);
                    own += p * o;
                    down += p * d;
                }
                Step::Parallel(branches) => {
                    // The slowest branch sets the time; its own work still holds the worker.
                    let mut longest: f64 = 0.0;
                    for b in branches {
                        let (o, d) = self.steps(c, b, class, mult, certain, depth);
                        own += o;
                        longest = longest.max(d);
                    }
                    down += longest;
                }
            }
        }
        let only_work = steps.iter().all(|s| matches!(s, Step::Work(_)));
        self.acc[c].exp_only = all_exp && only_work && steps.len() == 1;
        (own, down)
    }
}

/// The analytic pass at traffic multiplier `traffic`.
pub fn explain(model: &Model, traffic: f64) -> Explanation {
    let n = model.components.len();
    let ncls = model.workload.classes.len();
    let total_w: f64 = model.workload.classes.iter().map(|c| c.weight).sum();
    let rate = match &model.workload.arrival {
        Arrival::Poisson { rate } => Some(*rate),
        Arrival::Closed { .. } => None,
    };
    let base_rate = rate.unwrap_or(0.0);
    let walk = |traffic: f64, waits: Vec<f64>| {
        let mut w = Walker {
            model,
            acc: vec![
                Acc {
                    certain: vec![false; ncls],
                    exp_only: false,
                    ..Default::default()
                };
                n
            ],
            class_rate: model
                .workload
                .classes
                .iter()
                .map(|c| base_rate * c.weight / total_w)
                .collect(),
            traffic,
            waits,
        };
        for (ci, class) in model.workload.classes.iter().enumerate() {
            w.visit(class.entry, ci, class.weight / total_w, true, 0);
        }
        w.acc
    };
    // Pass 1, unloaded: service demands and the saturation bounds. Passes 2 and 3 add the M/M/c
    // waits of each station at the requested traffic, which lengthen the time Blocking callers
    // hold their workers.
    let unloaded = walk(traffic, vec![0.0; n]);
    let waits_of = |acc: &[Acc]| -> Vec<f64> {
        model
            .components
            .iter()
            .enumerate()
            .map(|(id, c)| {
                let a = &acc[id];
                let (Some(k), Some(r)) = (c.workers(), rate) else {
                    return 0.0;
                };
                if a.visits <= 0.0 || matches!(c.kind, Kind::Database(ref d) if d.replicas > 0) {
                    return 0.0;
                }
                let lambda = r * traffic * a.visits / c.instances() as f64;
                let s = (a.busy_primary + a.busy_replicas) / a.visits / 1e3;
                queueing::mmc_mean_wait(lambda, 1.0 / s, k).map_or(0.0, |x| x * 1e3)
            })
            .collect()
    };
    let mut loaded = walk(traffic, waits_of(&unloaded));
    loaded = walk(traffic, waits_of(&loaded));
    let w = Walker {
        model,
        acc: loaded,
        class_rate: Vec::new(),
        traffic,
        waits: Vec::new(),
    };
    let mut components = Ordered::default();
    let mut first: Option<(usize, f64)> = None;
    let depth = crate::model::graph::depths(model);
    for (id, c) in model.components.iter().enumerate() {
        let a = &w.acc[id];
        let workers = c.workers().map(|x| x as f64);
        let instances = c.instances() as f64;
        let (cap_primary, cap_replicas) = match &c.kind {
            Kind::Database(d) => (workers, workers.map(|x| x * d.replicas as f64)),
            _ => (workers.map(|x| x * instances), None),
        };
        let capacity = workers.map(|x| x * instances);
        let demand = a.busy_primary + a.busy_replicas;
        // Saturation per side: the primary (or the whole component) and the replicas.
        let sat = |busy: f64, cap: Option<f64>| -> Option<f64> {
            match (cap, rate) {
                (Some(cap), Some(r)) if busy > 0.0 && r > 0.0 => Some(cap / (r * busy / 1e3)),
                _ => None,
            }
        };
        let u = &unloaded[id];
        let saturation = [
            sat(u.busy_primary, cap_primary),
            sat(u.busy_replicas, cap_replicas),
        ]
        .into_iter()
        .flatten()
        .reduce(f64::min);
        let util = match (capacity, rate) {
            (Some(cap), Some(r)) if cap > 0.0 => r * traffic * demand / 1e3 / cap,
            _ => 0.0,
        };
        let mmc_wait_ms = match (c.workers(), rate, &c.kind) {
            (
                Some(k),
                Some(r),
                Kind::Server(_) | Kind::Queue(_) | Kind::Database(_) | Kind::ExternalApi(_),
            ) if a.exp_only
                && a.visits > 0.0
                && !matches!(c.kind, Kind::Database(ref d) if d.replicas > 0) =>
            {
                let lambda = r * traffic * a.visits / instances;
                let s = demand / a.visits / 1e3;
                queueing::mmc_mean_wait(lambda, 1.0 / s, k).map(|x| x * 1e3)
            }
            _ => None,
        };
        if let Some(t) = saturation {
            let better = match first {
                None => true,
                Some((f, ft)) => {
                    t < ft * (1.0 - 1e-9) || ((t - ft).abs() <= ft * 1e-9 && depth[id] > depth[f])
                }
            };
            if better {
                first = Some((id, t));
            }
        }
        components.0.push((
            c.name.clone(),
            ComponentBound {
                kind: c.kind.name().into(),
                visits: a.visits,
                holding_ms: if a.visits > 0.0 {
                    demand / a.visits
                } else {
                    0.0
                },
                demand_ms: demand,
                capacity,
                analytic_utilization: util,
                saturation_traffic: saturation,
                mmc_wait_ms,
                hit_ratio: a.cache_hit,
                ..Default::default()
            },
        ));
    }
    let spofs: Vec<String> = model
        .components
        .iter()
        .enumerate()
        .filter(|(id, c)| c.instances() == 1 && w.acc[*id].certain.iter().all(|x| *x))
        .map(|(_, c)| c.name.clone())
        .collect();
    let bottleneck = first
        .map(|(i, _)| model.components[i].name.clone())
        .unwrap_or_else(|| {
            components
                .0
                .iter()
                .max_by(|a, b| {
                    a.1.analytic_utilization
                        .total_cmp(&b.1.analytic_utilization)
                })
                .map(|x| x.0.clone())
                .unwrap_or_default()
        });
    let mut assumptions = vec![
        "Utilizations follow the utilization law U = λ·D/c with the mean service demand D per request.".to_string(),
        "Blocking servers hold a worker for their own work plus the unloaded response time of their calls; queueing downstream makes the real holding time longer, so their saturation point is optimistic.".to_string(),
    ];
    if model.components.iter().any(|c| c.is_cache()) {
        assumptions.push("Cache hit ratios are estimated by Che's approximation (LRU) and λT/(1+λT) per key (TTL), ignoring the cold start and invalidation by writes.".into());
    }
    if rate.is_none() {
        assumptions.push("The workload is closed (users with think times): the operational laws give demands but no arrival rate, so utilizations and saturation points come from the simulation only.".into());
    }
    let mut sentences = Vec::new();
    let saturation_traffic = first.map(|f| f.1);
    if let (Some((id, t)), Some(r)) = (first, rate) {
        let b = &components.0[id].1;
        sentences.push(format!(
            "`{}` saturates first, at {:.2}x traffic ({:.0} req/s): each request needs {:.2} ms of it on average, and it has {} worker{}.",
            model.components[id].name,
            t,
            t * r,
            b.demand_ms,
            b.capacity.unwrap_or(0.0),
            if b.capacity == Some(1.0) { "" } else { "s" }
        ));
        sentences.push(next_step(model, id));
    }
    if !spofs.is_empty() {
        sentences.push(format!(
            "Single point{} of failure: {} (one instance on every request's path).",
            if spofs.len() == 1 { "" } else { "s" },
            spofs
                .iter()
                .map(|s| format!("`{s}`"))
                .collect::<Vec<_>>()
                .join(", ")
        ));
    }
    Explanation {
        model: model.name.clone(),
        traffic,
        offered_rps: rate.map(|r| r * traffic),
        bottleneck,
        saturation_traffic,
        saturation_rps: saturation_traffic.zip(rate).map(|(t, r)| t * r),
        components,
        single_points_of_failure: spofs,
        assumptions,
        sentences,
    }
}

fn next_step(model: &Model, id: CompId) -> String {
    let c = &model.components[id];
    match &c.kind {
        Kind::Server(s) if s.instances == 1 => format!(
            "Next step: run more copies of `{}` behind a load balancer (horizontal scaling), or give it a bigger box (vertical scaling); the app must be stateless for the first.",
            c.name
        ),
        Kind::Server(_) => format!(
            "Next step: add instances of `{}`, or cut its work per request (cache what it computes, move side work to a queue).",
            c.name
        ),
        Kind::Database(d) if d.replicas == 0 => format!(
            "Next step: take load off `{}` — a cache in front of it for repeated reads, read replicas, an index on a slow query, or connection pooling if connections are the limit.",
            c.name
        ),
        Kind::Database(_) => format!(
            "Next step: add replicas or a cache in front of `{}`; writes still all go to its primary.",
            c.name
        ),
        Kind::Queue(_) => format!(
            "Next step: add workers to `{}`; its backlog grows without bound past saturation (requests are unaffected).",
            c.name
        ),
        Kind::ExternalApi(_) => format!(
            "Next step: call `{}` asynchronously from a queue, or raise its limit: it is outside our control.",
            c.name
        ),
        Kind::Cache(_) | Kind::Cdn(_) => {
            format!("Next step: give `{}` more workers or instances.", c.name)
        }
        Kind::LoadBalancer(_) => String::new(),
    }
}

/// Fills in the simulated values beside the analytic ones and adds sentences comparing them.
pub fn compare(ex: &mut Explanation, sim: &crate::stats::summary::RunSummary) {
    let mut worst: Option<(String, f64, f64, f64)> = None;
    for (name, b) in &mut ex.components.0 {
        if let Some(s) = sim.components.get(name) {
            b.utilization = Some(s.utilization);
            b.mean_wait_ms = Some(s.mean_wait_ms);
            if b.capacity.is_some() && b.analytic_utilization > 0.0 {
                let d = s.utilization - b.analytic_utilization;
                b.utilization_difference = Some(d);
                let rel = d.abs() / b.analytic_utilization;
                if worst.as_ref().is_none_or(|w| rel > w.1) {
                    worst = Some((name.clone(), rel, b.analytic_utilization, s.utilization));
                }
            }
        }
    }
    match worst {
        Some((name, rel, a, s)) if rel <= 0.05 => ex.sentences.push(format!(
            "The simulation agrees with the operational laws: every component's utilization is within {:.1}% of its prediction (largest gap: `{name}`, {:.1}% predicted vs {:.1}% simulated).",
            100.0 * rel.max(1e-4),
            100.0 * a,
            100.0 * s
        )),
        Some((name, rel, a, s)) => ex.sentences.push(format!(
            "The simulation departs from the operational laws at `{name}`: {:.1}% predicted vs {:.1}% simulated ({:.0}% apart) — queueing downstream, saturation, drops or cache warm-up that the analytic pass does not model.",
            100.0 * a,
            100.0 * s,
            100.0 * rel
        )),
        None => {}
    }
    if sim.bottleneck != ex.bottleneck && !sim.bottleneck.is_empty() {
        ex.sentences.push(format!(
            "At {}x the simulation's bottleneck is `{}` (the busiest component now); the analytic pass predicts `{}` saturates first as traffic grows.",
            sim.traffic, sim.bottleneck, ex.bottleneck
        ));
    }
}
