//! Streaming latency distributions: a log-linear histogram (the HDR layout — exact below 512 ns,
//! then 512 linear sub-buckets per power of two, so any value is known to within 0.2% and a
//! quantile, taken at its bucket's midpoint, to within 0.1%), with an exact count, sum and
//! maximum. Fixed memory, mergeable, and a record is a few instructions: the hdrhistogram crate
//! spends about ten times as many, which showed in profiles of the engine.

/// Sub-buckets per power of two: 2^SUB_BITS.
const SUB_BITS: u32 = 9;
const SUB: u64 = 1 << SUB_BITS;
/// Values up to 2^50 ns (13 days) are resolved; longer ones land in the last bucket (and still
/// count exactly in the mean and maximum).
const MAX_EXP: u32 = 50;
const BUCKETS: usize = (SUB + (MAX_EXP - SUB_BITS + 1) as u64 * SUB) as usize;

#[inline]
fn index(v: u64) -> usize {
    if v < SUB {
        return v as usize;
    }
    let e = 63 - v.leading_zeros();
    if e > MAX_EXP {
        return BUCKETS - 1;
    }
    let m = v >> (e - SUB_BITS);
    (SUB + (e - SUB_BITS) as u64 * SUB + (m - SUB)) as usize
}

/// The range [low, high) of values that land in bucket `i`.
fn bounds(i: usize) -> (u64, u64) {
    let i = i as u64;
    if i < SUB {
        return (i, i + 1);
    }
    let k = i - SUB;
    let shift = (k / SUB) as u32;
    let m = SUB + k % SUB;
    (m << shift, (m + 1) << shift)
}

#[derive(Clone, Debug)]
pub struct LatencyHistogram {
    counts: Vec<u64>,
    count: u64,
    sum_ns: u128,
    max_ns: u64,
}

impl Default for LatencyHistogram {
    fn default() -> Self {
        LatencyHistogram {
            counts: vec![0; BUCKETS],
            count: 0,
            sum_ns: 0,
            max_ns: 0,
        }
    }
}

impl LatencyHistogram {
    #[inline]
    pub fn record(&mut self, ns: u64) {
        self.counts[index(ns)] += 1;
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

    /// The q-quantile (0 ≤ q ≤ 1) in milliseconds: the smallest recorded value v such that at
    /// least a fraction q of the values are ≤ v, reported as its bucket's midpoint (never above
    /// the exact maximum); 0 when empty.
    pub fn quantile_ms(&self, q: f64) -> f64 {
        if self.count == 0 {
            return 0.0;
        }
        let rank = ((q.clamp(0.0, 1.0) * self.count as f64).ceil() as u64).max(1);
        if rank >= self.count {
            return self.max_ms();
        }
        let mut seen = 0;
        for (i, &c) in self.counts.iter().enumerate() {
            seen += c;
            if seen >= rank {
                let (lo, hi) = bounds(i);
                let mid = if hi - lo == 1 { lo } else { lo + (hi - lo) / 2 };
                return mid.min(self.max_ns) as f64 / 1e6;
            }
        }
        self.max_ms()
    }

    /// The fraction of recorded values above `ms` (to the bucket's resolution).
    pub fn fraction_above_ms(&self, ms: f64) -> f64 {
        if self.count == 0 {
            return 0.0;
        }
        let limit = index((ms * 1e6) as u64);
        let below: u64 = self.counts[..=limit].iter().sum();
        1.0 - below as f64 / self.count as f64
    }

    pub fn merge(&mut self, other: &LatencyHistogram) {
        for (a, b) in self.counts.iter_mut().zip(&other.counts) {
            *a += b;
        }
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
    fn buckets_tile_the_line() {
        let mut next = 0;
        for i in 0..BUCKETS - 1 {
            let (lo, hi) = bounds(i);
            assert_eq!(lo, next, "bucket {i} starts where the previous ended");
            assert!(hi > lo);
            // Relative width at most 1/512.
            assert!(lo < SUB || (hi - lo) as f64 / lo as f64 <= 1.0 / SUB as f64 + 1e-12);
            assert_eq!(index(lo), i);
            assert_eq!(index(hi - 1), i);
            next = hi;
        }
    }

    #[test]
    fn quantiles_have_bounded_relative_error() {
        let mut h = LatencyHistogram::default();
        for i in 1..=100_000u64 {
            h.record(i * 1_000); // 1 µs .. 100 ms
        }
        for q in [0.5, 0.9, 0.99, 0.999] {
            let exact = q * 100.0;
            let got = h.quantile_ms(q);
            assert!(
                (got / exact - 1.0).abs() < 1.1e-3,
                "q {q}: {got} vs {exact}"
            );
        }
        assert!((h.mean_ms() - 50.0005).abs() < 1e-9);
        assert_eq!(h.max_ms(), 100.0);
        assert_eq!(h.quantile_ms(1.0), 100.0);
        assert!((h.fraction_above_ms(90.0) - 0.1).abs() < 2e-3);
    }

    proptest! {
        /// Merging two histograms is the same as recording everything into one.
        #[test]
        fn merge_equals_recording_all(a in proptest::collection::vec(0u64..10_000_000_000_000, 0..300),
                                      b in proptest::collection::vec(0u64..10_000_000_000_000, 0..300)) {
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

        /// Every quantile is within 0.1% of the exact sample quantile.
        #[test]
        fn quantiles_match_sorted_samples(mut xs in proptest::collection::vec(1u64..1_000_000_000_000, 1..500), q in 0.0f64..1.0) {
            let mut h = LatencyHistogram::default();
            for &x in &xs { h.record(x); }
            xs.sort_unstable();
            let rank = ((q * xs.len() as f64).ceil() as usize).max(1);
            let exact = xs[rank - 1] as f64 / 1e6;
            let got = h.quantile_ms(q);
            prop_assert!((got - exact).abs() <= exact * 1.0e-3 + 1e-6, "{got} vs {exact}");
        }
    }
}
