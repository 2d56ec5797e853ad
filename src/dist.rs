//! Service-time distributions: the validated description (milliseconds, as in model files) and
//! the sampler the engine draws from (integer nanoseconds).

use rand::Rng;
use rand_distr::{Distribution, Exp1, Gamma as GammaD, Open01, StandardNormal};

/// A validated distribution of durations. Parameters are in milliseconds, as in model files.
#[derive(Debug, Clone, PartialEq)]
pub enum Dist {
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
    Pareto {
        min_ms: f64,
        alpha: f64,
    },
    Empirical {
        samples_ms: Vec<f64>,
    },
    /// Exp(base_ms) plus a fixed cost: `per_level_ms · log2(rows)` with an index, `rows · per_row_ns`
    /// without.
    Query {
        rows: u64,
        indexed: bool,
        base_ms: f64,
        per_row_ns: f64,
        per_level_ms: f64,
    },
}

/// Defaults of `Query`: a millisecond of fixed work, 20 µs per B-tree level, 100 ns per scanned row.
pub const QUERY_BASE_MS: f64 = 1.0;
pub const QUERY_PER_LEVEL_MS: f64 = 0.02;
pub const QUERY_PER_ROW_NS: f64 = 100.0;

impl Dist {
    /// The deterministic part of a `Query`, in ms.
    fn query_fixed_ms(rows: u64, indexed: bool, per_row_ns: f64, per_level_ms: f64) -> f64 {
        if indexed {
            per_level_ms * (rows.max(2) as f64).log2().ceil()
        } else {
            rows as f64 * per_row_ns / 1e6
        }
    }
}

/// The standard normal quantile at 0.99, used to turn a (median, p99) pair into a log-normal sigma.
pub const Z99: f64 = 2.326_347_874_040_841;

impl Dist {
    /// The mean in milliseconds.
    pub fn mean_ms(&self) -> f64 {
        match self {
            Dist::Exp { mean_ms } => *mean_ms,
            Dist::Const { ms } => *ms,
            Dist::Uniform { min_ms, max_ms } => 0.5 * (min_ms + max_ms),
            Dist::Erlang { mean_ms, .. } => *mean_ms,
            Dist::LogNormal { median_ms, p99_ms } => {
                let sigma = (p99_ms / median_ms).ln() / Z99;
                median_ms * (0.5 * sigma * sigma).exp()
            }
            Dist::Gamma { mean_ms, .. } | Dist::Weibull { mean_ms, .. } => *mean_ms,
            Dist::Pareto { min_ms, alpha } => alpha * min_ms / (alpha - 1.0),
            Dist::Empirical { samples_ms } => {
                samples_ms.iter().sum::<f64>() / samples_ms.len() as f64
            }
            Dist::Query {
                rows,
                indexed,
                base_ms,
                per_row_ns,
                per_level_ms,
            } => base_ms + Dist::query_fixed_ms(*rows, *indexed, *per_row_ns, *per_level_ms),
        }
    }

    /// The second moment E[S²] in ms², for Pollaczek–Khinchine. Infinite for heavy Pareto tails.
    pub fn second_moment_ms2(&self) -> f64 {
        let m = self.mean_ms();
        match self {
            Dist::Exp { mean_ms } => 2.0 * mean_ms * mean_ms,
            Dist::Const { ms } => ms * ms,
            Dist::Uniform { min_ms, max_ms } => {
                (min_ms * min_ms + min_ms * max_ms + max_ms * max_ms) / 3.0
            }
            Dist::Erlang { k, mean_ms } => mean_ms * mean_ms * (1.0 + 1.0 / *k as f64),
            Dist::LogNormal { median_ms, p99_ms } => {
                let sigma = (p99_ms / median_ms).ln() / Z99;
                median_ms * median_ms * (2.0 * sigma * sigma).exp()
            }
            Dist::Gamma { shape, .. } => m * m * (1.0 + 1.0 / shape),
            Dist::Weibull { shape, .. } => {
                let g1 = statrs::function::gamma::gamma(1.0 + 1.0 / shape);
                let g2 = statrs::function::gamma::gamma(1.0 + 2.0 / shape);
                m * m * g2 / (g1 * g1)
            }
            Dist::Pareto { min_ms, alpha } => {
                if *alpha > 2.0 {
                    alpha * min_ms * min_ms / (alpha - 2.0)
                } else {
                    f64::INFINITY
                }
            }
            Dist::Empirical { samples_ms } => {
                samples_ms.iter().map(|x| x * x).sum::<f64>() / samples_ms.len() as f64
            }
            Dist::Query {
                rows,
                indexed,
                base_ms,
                per_row_ns,
                per_level_ms,
            } => {
                let c = Dist::query_fixed_ms(*rows, *indexed, *per_row_ns, *per_level_ms);
                2.0 * base_ms * base_ms + 2.0 * base_ms * c + c * c
            }
        }
    }

    /// A copy with every duration multiplied by `factor` (a faster or slower machine).
    pub fn scaled(&self, factor: f64) -> Dist {
        let f = factor;
        match self {
            Dist::Exp { mean_ms } => Dist::Exp {
                mean_ms: mean_ms * f,
            },
            Dist::Const { ms } => Dist::Const { ms: ms * f },
            Dist::Uniform { min_ms, max_ms } => Dist::Uniform {
                min_ms: min_ms * f,
                max_ms: max_ms * f,
            },
            Dist::Erlang { k, mean_ms } => Dist::Erlang {
                k: *k,
                mean_ms: mean_ms * f,
            },
            Dist::LogNormal { median_ms, p99_ms } => Dist::LogNormal {
                median_ms: median_ms * f,
                p99_ms: p99_ms * f,
            },
            Dist::Gamma { shape, mean_ms } => Dist::Gamma {
                shape: *shape,
                mean_ms: mean_ms * f,
            },
            Dist::Weibull { shape, mean_ms } => Dist::Weibull {
                shape: *shape,
                mean_ms: mean_ms * f,
            },
            Dist::Pareto { min_ms, alpha } => Dist::Pareto {
                min_ms: min_ms * f,
                alpha: *alpha,
            },
            Dist::Empirical { samples_ms } => Dist::Empirical {
                samples_ms: samples_ms.iter().map(|x| x * f).collect(),
            },
            Dist::Query {
                rows,
                indexed,
                base_ms,
                per_row_ns,
                per_level_ms,
            } => Dist::Query {
                rows: *rows,
                indexed: *indexed,
                base_ms: base_ms * f,
                per_row_ns: per_row_ns * f,
                per_level_ms: per_level_ms * f,
            },
        }
    }

    /// A short human description, e.g. `Exp(20 ms)`.
    pub fn describe(&self) -> String {
        match self {
            Dist::Exp { mean_ms } => format!("Exp(mean {mean_ms} ms)"),
            Dist::Const { ms } => format!("Const({ms} ms)"),
            Dist::Uniform { min_ms, max_ms } => format!("Uniform({min_ms}–{max_ms} ms)"),
            Dist::Erlang { k, mean_ms } => format!("Erlang(k {k}, mean {mean_ms} ms)"),
            Dist::LogNormal { median_ms, p99_ms } => {
                format!("LogNormal(median {median_ms} ms, p99 {p99_ms} ms)")
            }
            Dist::Gamma { shape, mean_ms } => format!("Gamma(shape {shape}, mean {mean_ms} ms)"),
            Dist::Weibull { shape, mean_ms } => {
                format!("Weibull(shape {shape}, mean {mean_ms} ms)")
            }
            Dist::Pareto { min_ms, alpha } => format!("Pareto(min {min_ms} ms, alpha {alpha})"),
            Dist::Empirical { samples_ms } => format!("Empirical({} samples)", samples_ms.len()),
            Dist::Query { rows, indexed, .. } => format!(
                "Query({rows} rows, {}; mean {:.3} ms)",
                if *indexed { "indexed" } else { "full scan" },
                self.mean_ms()
            ),
        }
    }
}

const NS_PER_MS: f64 = 1e6;

/// A distribution prepared for drawing: parameters converted to nanoseconds once, so a draw is a
/// match and a few flops. Enum dispatch keeps the engine's hot path free of virtual calls.
#[derive(Debug, Clone)]
pub enum Sampler {
    Exp { mean: f64 },
    Const { ns: u64 },
    Uniform { min: f64, width: f64 },
    Erlang { k: u32, stage_mean: f64 },
    LogNormal { mu: f64, sigma: f64 },
    Gamma { gamma: GammaD<f64>, scale: f64 },
    Weibull { scale: f64, inv_shape: f64 },
    Pareto { min: f64, inv_alpha: f64 },
    Empirical { ns: Vec<u64> },
    ExpPlus { mean: f64, fixed: f64 },
}

impl Sampler {
    pub fn new(d: &Dist) -> Sampler {
        match d {
            Dist::Exp { mean_ms } => Sampler::Exp {
                mean: mean_ms * NS_PER_MS,
            },
            Dist::Const { ms } => Sampler::Const {
                ns: (ms * NS_PER_MS).round() as u64,
            },
            Dist::Uniform { min_ms, max_ms } => Sampler::Uniform {
                min: min_ms * NS_PER_MS,
                width: (max_ms - min_ms) * NS_PER_MS,
            },
            Dist::Erlang { k, mean_ms } => Sampler::Erlang {
                k: *k,
                stage_mean: mean_ms * NS_PER_MS / *k as f64,
            },
            Dist::LogNormal { median_ms, p99_ms } => Sampler::LogNormal {
                mu: (median_ms * NS_PER_MS).ln(),
                sigma: (p99_ms / median_ms).ln() / Z99,
            },
            Dist::Gamma { shape, mean_ms } => Sampler::Gamma {
                // Validation guarantees shape > 0, so construction cannot fail.
                gamma: GammaD::new(*shape, 1.0).expect("validated gamma shape"),
                scale: mean_ms * NS_PER_MS / shape,
            },
            Dist::Weibull { shape, mean_ms } => Sampler::Weibull {
                scale: mean_ms * NS_PER_MS / statrs::function::gamma::gamma(1.0 + 1.0 / shape),
                inv_shape: 1.0 / shape,
            },
            Dist::Pareto { min_ms, alpha } => Sampler::Pareto {
                min: min_ms * NS_PER_MS,
                inv_alpha: 1.0 / alpha,
            },
            Dist::Empirical { samples_ms } => Sampler::Empirical {
                ns: samples_ms
                    .iter()
                    .map(|x| (x * NS_PER_MS).round() as u64)
                    .collect(),
            },
            Dist::Query {
                rows,
                indexed,
                base_ms,
                per_row_ns,
                per_level_ms,
            } => Sampler::ExpPlus {
                mean: base_ms * NS_PER_MS,
                fixed: Dist::query_fixed_ms(*rows, *indexed, *per_row_ns, *per_level_ms)
                    * NS_PER_MS,
            },
        }
    }

    /// One duration: a draw in nanoseconds. Durations beyond ~292 years saturate rather than wrap (`as`
    /// saturates).
    #[inline(always)]
    pub fn sample<R: Rng + ?Sized>(&self, rng: &mut R) -> u64 {
        // The common case first, inline at every call site.
        if let Sampler::Exp { mean } = self {
            let e: f64 = Exp1.sample(rng);
            return (e * mean) as u64;
        }
        self.sample_other(rng)
    }

    #[inline(never)]
    fn sample_other<R: Rng + ?Sized>(&self, rng: &mut R) -> u64 {
        let x: f64 = match self {
            Sampler::Exp { mean } => {
                let e: f64 = Exp1.sample(rng);
                e * mean
            }
            Sampler::Const { ns } => return *ns,
            Sampler::Uniform { min, width } => {
                let u: f64 = Open01.sample(rng);
                min + u * width
            }
            Sampler::Erlang { k, stage_mean } => {
                let mut s = 0.0;
                for _ in 0..*k {
                    let e: f64 = Exp1.sample(rng);
                    s += e;
                }
                s * stage_mean
            }
            Sampler::LogNormal { mu, sigma } => {
                let z: f64 = StandardNormal.sample(rng);
                (mu + sigma * z).exp()
            }
            Sampler::Gamma { gamma, scale } => gamma.sample(rng) * scale,
            Sampler::Weibull { scale, inv_shape } => {
                let e: f64 = Exp1.sample(rng);
                scale * e.powf(*inv_shape)
            }
            Sampler::Pareto { min, inv_alpha } => {
                let u: f64 = Open01.sample(rng);
                min * u.powf(-inv_alpha)
            }
            Sampler::Empirical { ns } => {
                let i = (rng.next_u64() % ns.len() as u64) as usize;
                return ns[i];
            }
            Sampler::ExpPlus { mean, fixed } => {
                let e: f64 = Exp1.sample(rng);
                e * mean + fixed
            }
        };
        x as u64
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;
    use rand::rngs::Xoshiro256PlusPlus;

    /// Sample means and second moments agree with the closed forms the analytic checks rely on.
    /// With 200 000 draws the standard error of the mean is below 0.5% for every case here, so 2%
    /// is four standard errors or more.
    #[test]
    fn moments_match_closed_forms() {
        let cases = [
            Dist::Exp { mean_ms: 4.0 },
            Dist::Const { ms: 2.5 },
            Dist::Uniform {
                min_ms: 1.0,
                max_ms: 3.0,
            },
            Dist::Erlang { k: 3, mean_ms: 6.0 },
            Dist::LogNormal {
                median_ms: 10.0,
                p99_ms: 40.0,
            },
            Dist::Gamma {
                shape: 0.5,
                mean_ms: 2.0,
            },
            Dist::Weibull {
                shape: 1.5,
                mean_ms: 5.0,
            },
            Dist::Pareto {
                min_ms: 1.0,
                alpha: 3.5,
            },
            Dist::Empirical {
                samples_ms: vec![1.0, 2.0, 6.0],
            },
            Dist::Query {
                rows: 100_000,
                indexed: false,
                base_ms: 1.0,
                per_row_ns: 50.0,
                per_level_ms: 0.02,
            },
        ];
        let mut rng = Xoshiro256PlusPlus::seed_from_u64(1);
        for d in cases {
            let s = Sampler::new(&d);
            let n = 200_000;
            let (mut m1, mut m2) = (0.0, 0.0);
            for _ in 0..n {
                let x = s.sample(&mut rng) as f64 / 1e6;
                m1 += x;
                m2 += x * x;
            }
            m1 /= n as f64;
            m2 /= n as f64;
            assert!(
                (m1 / d.mean_ms() - 1.0).abs() < 0.02,
                "{d:?}: mean {m1} vs {}",
                d.mean_ms()
            );
            assert!(
                (m2 / d.second_moment_ms2() - 1.0).abs() < 0.06,
                "{d:?}: E[S^2] {m2} vs {}",
                d.second_moment_ms2()
            );
        }
    }

    #[test]
    fn lognormal_hits_its_median_and_p99() {
        let d = Dist::LogNormal {
            median_ms: 10.0,
            p99_ms: 50.0,
        };
        let s = Sampler::new(&d);
        let mut rng = Xoshiro256PlusPlus::seed_from_u64(2);
        let mut xs: Vec<u64> = (0..100_000).map(|_| s.sample(&mut rng)).collect();
        xs.sort_unstable();
        let med = xs[50_000] as f64 / 1e6;
        let p99 = xs[99_000] as f64 / 1e6;
        assert!((med / 10.0 - 1.0).abs() < 0.02, "median {med}");
        assert!((p99 / 50.0 - 1.0).abs() < 0.04, "p99 {p99}");
    }
}
