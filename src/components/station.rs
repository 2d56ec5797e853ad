//! A pool of identical workers with a FIFO queue in front: one instance of a server, database,
//! queue or cache. It keeps its own time-weighted statistics, integrated exactly at every change.

use crate::engine::time::Time;
use std::collections::VecDeque;

/// Workers per instance when a component has no limit (it never queues).
pub const UNBOUNDED: u32 = u32::MAX;

#[derive(Debug, Clone, Default)]
pub struct StationStats {
    /// ∫ busy workers dt, ∫ waiting frames dt, ∫ frames present dt (ns · count).
    pub busy_area: u128,
    pub queue_area: u128,
    pub present_area: u128,
    /// Visits that left (successfully or not), their summed sojourn and summed waiting.
    pub departures: u64,
    pub completed: u64,
    pub sojourn_sum: u128,
    pub wait_sum: u128,
    pub dropped: u64,
    pub failed: u64,
    pub crashes: u64,
    /// Time spent down (ns).
    pub down_ns: u128,
}

#[derive(Debug, Clone)]
pub struct Station {
    pub workers: u32,
    pub busy: u32,
    /// Frames waiting for a worker, oldest first.
    pub queue: VecDeque<u32>,
    /// Frames present at this instance: waiting, in service, or (Blocking) waiting on calls.
    pub present: u32,
    pub capacity: Option<u32>,
    /// False while crashed: arrivals are refused.
    pub up: bool,
    /// A LeastConnections balancer keeps a tree of this instance's `present` (the engine tells
    /// it of every change).
    pub watched: bool,
    last: Time,
    pub stats: StationStats,
}

impl Station {
    pub fn new(workers: u32, capacity: Option<u32>) -> Station {
        Station {
            workers,
            busy: 0,
            queue: VecDeque::new(),
            present: 0,
            capacity,
            up: true,
            watched: false,
            last: 0,
            stats: StationStats::default(),
        }
    }

    /// Brings the time integrals up to `now`; call before any change of state.
    #[inline]
    pub fn advance_clock(&mut self, now: Time) {
        let dt = (now - self.last) as u128;
        if dt > 0 {
            if !self.up {
                self.stats.down_ns += dt;
            }
            self.stats.busy_area += dt * self.busy as u128;
            self.stats.queue_area += dt * self.queue.len() as u128;
            self.stats.present_area += dt * self.present as u128;
            self.last = now;
        }
    }

    #[inline]
    pub fn has_free_worker(&self) -> bool {
        self.busy < self.workers
    }

    /// Whether a new arrival finding no free worker must be turned away.
    #[inline]
    pub fn is_full(&self) -> bool {
        !self.has_free_worker()
            && self
                .capacity
                .is_some_and(|c| self.queue.len() >= c as usize)
    }

    /// Forgets everything measured so far (end of warm-up), keeping the current state.
    pub fn reset_stats(&mut self, now: Time) {
        self.advance_clock(now);
        self.stats = StationStats::default();
    }
}
