//! Time series of one run: per interval (e.g. 1 s) throughput, errors, latency percentiles, and
//! each component's utilization and queue length, over the whole run (warm-up included, so a
//! spike or a crash is seen from its start).

use hdrhistogram::Histogram;
use serde::{Deserialize, Serialize};

/// Per-interval latency: two significant digits (1% error) keeps a bucket at a few tens of KB.
fn small_histogram() -> Histogram<u32> {
    Histogram::new_with_bounds(1_000, 10_000_000_000_000, 2)
        .expect("constant histogram bounds are valid")
}

pub struct TimelineRecorder {
    pub interval_ns: u64,
    buckets: Vec<BucketRec>,
}

struct BucketRec {
    arrivals: u64,
    completed: u64,
    errors: u64,
    timeouts: u64,
    latency: Histogram<u32>,
    busy: Vec<f64>,
    queue: Vec<f64>,
    up: Vec<f64>,
    /// Cache lookups and hits per component (zero for components that are not caches).
    lookups: Vec<u64>,
    hits: Vec<u64>,
}

impl TimelineRecorder {
    pub fn new(interval_ns: u64, duration_ns: u64, components: usize) -> TimelineRecorder {
        let n = duration_ns.div_ceil(interval_ns.max(1)) as usize;
        TimelineRecorder {
            interval_ns,
            buckets: (0..n)
                .map(|_| BucketRec {
                    arrivals: 0,
                    completed: 0,
                    errors: 0,
                    timeouts: 0,
                    latency: small_histogram(),
                    busy: vec![0.0; components],
                    queue: vec![0.0; components],
                    up: vec![0.0; components],
                    lookups: vec![0; components],
                    hits: vec![0; components],
                })
                .collect(),
        }
    }

    #[inline]
    fn bucket(&mut self, t: u64) -> Option<&mut BucketRec> {
        let i = (t / self.interval_ns) as usize;
        self.buckets.get_mut(i)
    }

    pub fn arrival(&mut self, t: u64) {
        if let Some(b) = self.bucket(t) {
            b.arrivals += 1;
        }
    }

    pub fn completion(&mut self, t: u64, latency_ns: u64) {
        if let Some(b) = self.bucket(t) {
            b.completed += 1;
            b.latency.saturating_record(latency_ns.max(1_000));
        }
    }

    pub fn error(&mut self, t: u64, timeout: bool) {
        if let Some(b) = self.bucket(t) {
            b.errors += 1;
            if timeout {
                b.timeouts += 1;
            }
        }
    }

    /// A lookup in cache component `c` at time `t`, and whether it hit.
    #[inline]
    pub fn cache_lookup(&mut self, t: u64, c: usize, hit: bool) {
        if let Some(b) = self.bucket(t) {
            b.lookups[c] += 1;
            b.hits[c] += u64::from(hit);
        }
    }

    /// Component `c`'s averages over the interval that contains time `t`: busy fraction,
    /// waiting requests, fraction of instances up.
    pub fn sample(&mut self, t: u64, c: usize, busy: f64, queue: f64, up: f64) {
        if let Some(b) = self.bucket(t) {
            b.busy[c] = busy;
            b.queue[c] = queue;
            b.up[c] = up;
        }
    }

    /// `caches[c]` says whether component `c` is a cache (or CDN), whose hit ratio is reported.
    pub fn finish(
        self,
        components: Vec<String>,
        caches: &[bool],
        factor: impl Fn(f64) -> f64,
        base_rate: Option<f64>,
        events: Vec<TimelineEvent>,
    ) -> Timeline {
        let dt = self.interval_ns as f64 / 1e9;
        Timeline {
            interval_s: dt,
            components,
            events,
            points: self
                .buckets
                .into_iter()
                .enumerate()
                .map(|(i, b)| {
                    let t = i as f64 * dt;
                    let n = b.completed;
                    let q = |x: f64| {
                        if n == 0 {
                            0.0
                        } else {
                            b.latency.value_at_quantile(x) as f64 / 1e6
                        }
                    };
                    TimelinePoint {
                        t_s: t,
                        offered_rps: base_rate.map(|r| r * factor(t + dt / 2.0)),
                        arrivals_rps: b.arrivals as f64 / dt,
                        throughput_rps: n as f64 / dt,
                        errors_rps: b.errors as f64 / dt,
                        timeouts_rps: b.timeouts as f64 / dt,
                        error_rate: if n + b.errors == 0 {
                            0.0
                        } else {
                            b.errors as f64 / (n + b.errors) as f64
                        },
                        latency_p50_ms: q(0.5),
                        latency_p99_ms: q(0.99),
                        utilization: b.busy,
                        queue_len: b.queue,
                        up_fraction: b.up,
                        hit_ratio: caches
                            .iter()
                            .enumerate()
                            .map(|(c, &is_cache)| {
                                (is_cache && b.lookups[c] > 0)
                                    .then(|| b.hits[c] as f64 / b.lookups[c] as f64)
                            })
                            .collect(),
                    }
                })
                .collect(),
        }
    }
}

/// Something that happened at a moment: a crash, a recovery, the end of warm-up.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct TimelineEvent {
    pub t_s: f64,
    pub label: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct TimelinePoint {
    /// Start of the interval, seconds since the start of the run.
    pub t_s: f64,
    /// The arrival rate the profile asks for (open workloads).
    pub offered_rps: Option<f64>,
    pub arrivals_rps: f64,
    pub throughput_rps: f64,
    pub errors_rps: f64,
    pub timeouts_rps: f64,
    pub error_rate: f64,
    pub latency_p50_ms: f64,
    pub latency_p99_ms: f64,
    /// Per component (in `Timeline::components` order).
    pub utilization: Vec<f64>,
    pub queue_len: Vec<f64>,
    pub up_fraction: Vec<f64>,
    /// Per component: the fraction of cache lookups in the interval that hit (caches and CDNs
    /// with lookups in the interval; `null` otherwise). The cold start shows here.
    #[serde(default)]
    pub hit_ratio: Vec<Option<f64>>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Timeline {
    pub interval_s: f64,
    pub components: Vec<String>,
    pub events: Vec<TimelineEvent>,
    pub points: Vec<TimelinePoint>,
}

impl Timeline {
    pub fn to_csv(&self) -> String {
        let mut out = String::from(
            "t_s,offered_rps,arrivals_rps,throughput_rps,errors_rps,timeouts_rps,error_rate,latency_p50_ms,latency_p99_ms",
        );
        for c in &self.components {
            for head in ["util", "queue", "up"] {
                out.push(',');
                out.push_str(&quote(&format!("{head}_{c}")));
            }
        }
        // Hit ratios only for the caches: components with a value at some point.
        let caches: Vec<usize> = (0..self.components.len())
            .filter(|&c| {
                self.points
                    .iter()
                    .any(|p| p.hit_ratio.get(c).is_some_and(Option::is_some))
            })
            .collect();
        for &c in &caches {
            out.push(',');
            out.push_str(&quote(&format!("hit_{}", self.components[c])));
        }
        out.push('\n');
        for p in &self.points {
            out.push_str(&format!(
                "{},{},{},{},{},{},{},{},{}",
                p.t_s,
                p.offered_rps.map(|x| x.to_string()).unwrap_or_default(),
                p.arrivals_rps,
                p.throughput_rps,
                p.errors_rps,
                p.timeouts_rps,
                p.error_rate,
                p.latency_p50_ms,
                p.latency_p99_ms
            ));
            for i in 0..self.components.len() {
                out.push_str(&format!(
                    ",{},{},{}",
                    p.utilization[i], p.queue_len[i], p.up_fraction[i]
                ));
            }
            for &c in &caches {
                out.push(',');
                if let Some(Some(h)) = p.hit_ratio.get(c) {
                    out.push_str(&h.to_string());
                }
            }
            out.push('\n');
        }
        out
    }
}

/// A CSV field: quoted when it holds a comma or a quote.
fn quote(c: &str) -> String {
    if c.contains([',', '"']) {
        format!("\"{}\"", c.replace('"', "\"\""))
    } else {
        c.to_string()
    }
}
