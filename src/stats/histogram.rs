//! Streaming latency distributions: an HDR histogram (bounded relative error, fixed memory,
//! mergeable) plus an exact count, sum and maximum.

use hdrhistogram::Histogram;

/// Three significant digits: quantiles are within 0.1% of the exact sample quantile.
const SIGFIGS: u8 = 3;
/// Values up to 10 000 s are resolved; longer ones are clamped (and still counted in the mean).
const HIGHEST_NS: u64 = 10_000_000_000_000;

#[derive(Clone, Debug)]
pub struct LatencyHistogram {
    hist: Histogram<u64>,
    count: u64,
    sum_ns: u128,
    max_ns: u64,
}

impl Default for LatencyHistogram {
    fn default() -> Self {
        LatencyHistogram {
            hist: Histogram::new_with_bounds(1, HIGHEST_NS, SIGFIGS)
                .expect("constant histogram bounds are valid"),
            count: 0,
            sum_ns: 0,
            max_ns: 0,
        }
    }
}

impl LatencyHistogram {
    #[inline]
    pub fn record(&mut self, ns: u64) {
        self.hist.saturating_record(ns.min(HIGHEST_NS));
        self.count += 1;
        self.sum_ns += ns as u128;
        self.max_ns = self.max_ns.max(ns);
    }

    pub fn count(&self) -> u64 {
        self.count
    }

    pub fn mean_ms(&self) -> f64 {
        if self.count == 0 {
            0.0
        } else {
            self.sum_ns as f64 / self.count as f64 / 1e6
        }
    }

    pub fn max_ms(&self) -> f64 {
        self.max_ns as f64 / 1e6
    }

    /// The q-quantile (0 ≤ q ≤ 1) in milliseconds; 0 when empty.
    pub fn quantile_ms(&self, q: f64) -> f64 {
        if self.count == 0 {
            return 0.0;
        }
        // The median of the bucket holding the quantile halves the worst-case bias of taking its
        // upper edge; never report more than the exact maximum.
        let v = self.hist.value_at_quantile(q);
        let v = self.hist.median_equivalent(v).min(self.max_ns);
        v as f64 / 1e6
    }

    /// The fraction of recorded values above `ms`.
    pub fn fraction_above_ms(&self, ms: f64) -> f64 {
        if self.count == 0 {
            return 0.0;
        }
        let ns = (ms * 1e6) as u64;
        let below = self.hist.count_between(0, ns);
        1.0 - below as f64 / self.count as f64
    }

    pub fn merge(&mut self, other: &LatencyHistogram) {
        self.hist
            .add(&other.hist)
            .expect("histograms with identical bounds always merge");
        self.count += other.count;
        self.sum_ns += other.sum_ns;
        self.max_ns = self.max_ns.max(other.max_ns);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn quantiles_have_bounded_relative_error() {
        let mut h = LatencyHistogram::default();
        for i in 1..=100_000u64 {
            h.record(i * 1_000); // 1 µs .. 100 ms
        }
        for q in [0.5, 0.9, 0.99, 0.999] {
            let exact = q * 100.0;
            let got = h.quantile_ms(q);
            assert!((got / exact - 1.0).abs() < 2e-3, "q {q}: {got} vs {exact}");
        }
        assert!((h.mean_ms() - 50.0005).abs() < 1e-9);
        assert_eq!(h.max_ms(), 100.0);
    }

    proptest! {
        /// Merging two histograms is the same as recording everything into one.
        #[test]
        fn merge_equals_recording_all(a in proptest::collection::vec(1u64..10_000_000_000, 0..300),
                                      b in proptest::collection::vec(1u64..10_000_000_000, 0..300)) {
            let (mut ha, mut hb, mut all) = (LatencyHistogram::default(), LatencyHistogram::default(), LatencyHistogram::default());
            for &x in &a { ha.record(x); all.record(x); }
            for &x in &b { hb.record(x); all.record(x); }
            ha.merge(&hb);
            prop_assert_eq!(ha.count(), all.count());
            prop_assert_eq!(ha.mean_ms(), all.mean_ms());
            prop_assert_eq!(ha.max_ms(), all.max_ms());
            for q in [0.0, 0.5, 0.99, 1.0] {
                prop_assert_eq!(ha.quantile_ms(q), all.quantile_ms(q));
            }
        }
    }
}
