//! Load-balancing policies (which backend instance gets the next request) and the balancer's
//! view of its backends' health, which lags reality by the health-check thresholds.

use super::station::Station;
use crate::model::{HealthCheck, Policy};
use rand::{Rng, RngExt};
use rustc_hash::FxHashSet;

/// Virtual nodes per backend on the consistent-hashing ring (spreads keys evenly).
const VNODES: u64 = 64;

/// From this many backends on, LeastConnections finds its pick in a [`LoadTree`] (O(log n))
/// instead of scanning every backend (O(n)); below it, the scan is quicker.
pub const LOAD_TREE_MIN: usize = 32;

/// A min segment tree over every backend's load ("connections"; `u32::MAX` for a backend the
/// balancer believes down), kept up to date by the engine whenever a backend's load changes.
/// It answers LeastConnections' question, the first backend in cyclic order from a start that
/// has the least load, in O(log n).
#[derive(Debug, Clone)]
pub struct LoadTree {
    /// Leaves at `size..2 * size`; node k holds the minimum of its two children.
    min: Vec<u32>,
    size: usize,
}

impl LoadTree {
    fn new(n: usize) -> LoadTree {
        let size = n.next_power_of_two();
        let mut t = LoadTree {
            min: vec![u32::MAX; 2 * size],
            size,
        };
        for i in 0..n {
            t.min[size + i] = 0;
        }
        for k in (1..size).rev() {
            t.min[k] = t.min[2 * k].min(t.min[2 * k + 1]);
        }
        t
    }

    /// Sets backend `i`'s load.
    #[inline]
    pub fn set(&mut self, i: usize, load: u32) {
        let mut k = self.size + i;
        self.min[k] = load;
        while k > 1 {
            k /= 2;
            let m = self.min[2 * k].min(self.min[2 * k + 1]);
            if self.min[k] == m {
                break;
            }
            self.min[k] = m;
        }
    }

    /// The first backend at or after `from` whose load is at most `v`: up from the leaf to the
    /// first subtree on its right that holds such a load, then down to its leftmost one.
    fn first_at_most(&self, from: usize, v: u32) -> Option<usize> {
        if from >= self.size {
            return None;
        }
        let mut k = self.size + from;
        while self.min[k] > v {
            // On to the next subtree to the right: climb while k is a right child.
            while k & 1 == 1 {
                k >>= 1;
                if k == 0 {
                    return None;
                }
            }
            k += 1;
        }
        while k < self.size {
            k *= 2;
            if self.min[k] > v {
                k += 1;
            }
        }
        Some(k - self.size)
    }

    /// The backend with the least load, the first in cyclic order from `start` among equals.
    fn least_from(&self, start: usize) -> usize {
        let least = self.min[1];
        self.first_at_most(start, least)
            .or_else(|| self.first_at_most(0, least))
            .expect("the minimum is somewhere")
    }
}

fn mix(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

#[derive(Debug, Clone)]
pub struct Balancer {
    pub policy: Policy,
    /// Global station indices of every instance of every target, in target order.
    pub backends: Vec<u32>,
    next: usize,
    pub health: Option<HealthCheck>,
    /// What the balancer believes, per backend.
    pub healthy: Vec<bool>,
    fails: Vec<u32>,
    oks: Vec<u32>,
    /// Indices (into `backends`) of the backends believed healthy.
    live: Vec<usize>,
    /// Sticky: (hash, backend index), sorted.
    ring: Vec<(u64, usize)>,
    /// Sticky: the clients whose session lives on each backend.
    pub sessions: Vec<FxHashSet<u32>>,
    pub sessions_lost: u64,
    /// Requests refused because no backend was believed healthy.
    pub no_backend: u64,
    /// LeastConnections over many backends: their loads (see [`LoadTree`]).
    pub loads: Option<LoadTree>,
}

impl Balancer {
    pub fn new(policy: Policy, backends: Vec<u32>, health: Option<HealthCheck>) -> Balancer {
        let n = backends.len();
        let mut ring = Vec::new();
        if policy == Policy::Sticky {
            for i in 0..n {
                for v in 0..VNODES {
                    ring.push((mix(mix(i as u64) ^ v), i));
                }
            }
            ring.sort_unstable();
        }
        Balancer {
            policy,
            next: 0,
            health,
            healthy: vec![true; n],
            fails: vec![0; n],
            oks: vec![0; n],
            live: (0..n).collect(),
            ring,
            sessions: if policy == Policy::Sticky {
                vec![FxHashSet::default(); n]
            } else {
                Vec::new()
            },
            sessions_lost: 0,
            no_backend: 0,
            loads: (policy == Policy::LeastConnections && n >= LOAD_TREE_MIN)
                .then(|| LoadTree::new(n)),
            backends,
        }
    }

    /// One round of health checks; a check passes when the instance is up. Returns the backends
    /// whose believed state changed (index, now healthy).
    pub fn check(&mut self, stations: &[Station]) -> Vec<(usize, bool)> {
        let Some(h) = self.health.clone() else {
            return Vec::new();
        };
        let mut changed = Vec::new();
        for i in 0..self.backends.len() {
            if stations[self.backends[i] as usize].up {
                self.fails[i] = 0;
                self.oks[i] += 1;
                if !self.healthy[i] && self.oks[i] >= h.healthy {
                    self.healthy[i] = true;
                    changed.push((i, true));
                }
            } else {
                self.oks[i] = 0;
                self.fails[i] += 1;
                if self.healthy[i] && self.fails[i] >= h.unhealthy {
                    self.healthy[i] = false;
                    changed.push((i, false));
                }
            }
        }
        if !changed.is_empty() {
            self.live = (0..self.backends.len())
                .filter(|&i| self.healthy[i])
                .collect();
            for &(i, _) in &changed {
                self.update_load(i, stations);
            }
        }
        changed
    }

    /// Backend `i`'s load changed (or its believed health): refresh the load tree, if any.
    #[inline]
    pub fn update_load(&mut self, i: usize, stations: &[Station]) {
        if let Some(t) = &mut self.loads {
            let load = if self.healthy[i] {
                stations[self.backends[i] as usize].present
            } else {
                u32::MAX
            };
            t.set(i, load);
        }
    }

    /// Sessions held in memory by the backend at station `s` are gone (it crashed).
    pub fn lose_sessions(&mut self, s: u32) {
        if self.sessions.is_empty() {
            return;
        }
        for (i, &b) in self.backends.iter().enumerate() {
            if b == s {
                self.sessions_lost += self.sessions[i].len() as u64;
                self.sessions[i].clear();
            }
        }
    }

    /// The chosen backend's station index, or None when no backend is believed healthy.
    /// "Connections" are the frames present at an instance (waiting, in service, or blocked on
    /// its own calls), as a proxy would count open requests. `sticky` is the client (or key)
    /// that sticky routing hashes.
    #[inline]
    pub fn pick<R: Rng + ?Sized>(
        &mut self,
        stations: &[Station],
        rng: &mut R,
        sticky: u64,
        client: u32,
    ) -> Option<u32> {
        let n = self.live.len();
        if n == 0 {
            self.no_backend += 1;
            return None;
        }
        if n == 1 && self.policy != Policy::Sticky {
            return Some(self.backends[self.live[0]]);
        }
        let b = |i: usize| self.backends[self.live[i]];
        let chosen = match self.policy {
            Policy::RoundRobin => {
                let x = b(self.next % n);
                self.next = (self.next + 1) % n;
                x
            }
            Policy::Random => b(rng.random_range(0..n)),
            Policy::PowerOfTwoChoices => {
                let i = rng.random_range(0..n);
                let mut j = rng.random_range(0..n - 1);
                if j >= i {
                    j += 1;
                }
                let (x, y) = (b(i), b(j));
                if stations[y as usize].present < stations[x as usize].present {
                    y
                } else {
                    x
                }
            }
            Policy::LeastConnections if self.loads.is_some() => {
                // The same choice as the scan below, found in the load tree: backends believed
                // down hold u32::MAX, and the live list is in backend order, so cyclic order from
                // live[start] is the scan's order.
                let start = self.next % n;
                self.next = (self.next + 1) % n;
                let t = self.loads.as_ref().expect("checked");
                self.backends[t.least_from(self.live[start])]
            }
            Policy::LeastConnections => {
                // Scan from a rotating start so ties are spread instead of always hitting the
                // first backend.
                let start = self.next % n;
                self.next = (self.next + 1) % n;
                let mut best = b(start);
                let mut best_load = stations[best as usize].present;
                for k in 1..n {
                    if best_load == 0 {
                        break;
                    }
                    let x = b((start + k) % n);
                    let load = stations[x as usize].present;
                    if load < best_load {
                        best = x;
                        best_load = load;
                    }
                }
                best
            }
            Policy::Sticky => {
                let h = mix(sticky);
                let start = self.ring.partition_point(|&(k, _)| k < h);
                let len = self.ring.len();
                let mut idx = None;
                for k in 0..len {
                    let i = self.ring[(start + k) % len].1;
                    if self.healthy[i] {
                        idx = Some(i);
                        break;
                    }
                }
                let i = idx?;
                self.sessions[i].insert(client);
                self.backends[i]
            }
        };
        Some(chosen)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        /// The load tree picks exactly what the scan picks: the first backend, in cyclic order
        /// from the start, with the least load among those believed up.
        #[test]
        fn load_tree_picks_what_the_scan_picks(
            loads in proptest::collection::vec(0u32..6, 1..80),
            down in proptest::collection::vec(any::<bool>(), 80),
            updates in proptest::collection::vec((0usize..80, 0u32..6), 0..40),
            start in 0usize..80,
        ) {
            let n = loads.len();
            let mut loads = loads;
            let mut t = LoadTree::new(n);
            let up = |i: usize| !down[i] || (0..n).all(|j| down[j]);
            for (i, &l) in loads.iter().enumerate() {
                t.set(i, if up(i) { l } else { u32::MAX });
            }
            for (i, l) in updates {
                let i = i % n;
                loads[i] = l;
                t.set(i, if up(i) { l } else { u32::MAX });
            }
            let live: Vec<usize> = (0..n).filter(|&i| up(i)).collect();
            let s = start % live.len();
            // The scan, as `pick` does it.
            let mut best = live[s];
            for k in 1..live.len() {
                let x = live[(s + k) % live.len()];
                if loads[x] < loads[best] {
                    best = x;
                }
            }
            prop_assert_eq!(t.least_from(live[s]), best);
        }
    }
}
