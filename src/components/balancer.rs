//! Load-balancing policies: which backend instance gets the next request.

use super::station::Station;
use crate::model::Policy;
use rand::{Rng, RngExt};

#[derive(Debug, Clone)]
pub struct Balancer {
    pub policy: Policy,
    /// Global station indices of every instance of every target, in target order.
    pub backends: Vec<u32>,
    next: usize,
}

impl Balancer {
    pub fn new(policy: Policy, backends: Vec<u32>) -> Balancer {
        Balancer {
            policy,
            backends,
            next: 0,
        }
    }

    /// The chosen backend's station index. "Connections" are the frames present at an instance
    /// (waiting, in service, or blocked on its own calls), as a proxy would count open requests.
    #[inline]
    pub fn pick<R: Rng + ?Sized>(&mut self, stations: &[Station], rng: &mut R) -> u32 {
        let n = self.backends.len();
        if n == 1 {
            return self.backends[0];
        }
        match self.policy {
            Policy::RoundRobin => {
                let b = self.backends[self.next];
                self.next = (self.next + 1) % n;
                b
            }
            Policy::Random => self.backends[rng.random_range(0..n)],
            Policy::PowerOfTwoChoices => {
                let i = rng.random_range(0..n);
                let mut j = rng.random_range(0..n - 1);
                if j >= i {
                    j += 1;
                }
                let (a, b) = (self.backends[i], self.backends[j]);
                if stations[b as usize].present < stations[a as usize].present {
                    b
                } else {
                    a
                }
            }
            Policy::LeastConnections => {
                // Scan from a rotating start so ties are spread instead of always hitting the
                // first backend.
                let start = self.next;
                self.next = (self.next + 1) % n;
                let mut best = self.backends[start];
                let mut best_load = stations[best as usize].present;
                for k in 1..n {
                    if best_load == 0 {
                        break;
                    }
                    let b = self.backends[(start + k) % n];
                    let load = stations[b as usize].present;
                    if load < best_load {
                        best = b;
                        best_load = load;
                    }
                }
                best
            }
        }
    }
}
