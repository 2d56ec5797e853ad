//! Database replication: when each replica will have applied the latest write to each key, so a
//! read on a replica can tell whether it answered with stale data.

use crate::engine::time::Time;
use rustc_hash::FxHashMap;

#[derive(Debug, Clone, Default)]
pub struct Replication {
    /// Per replica: when it will have applied the latest write, per key.
    applied_at: Vec<FxHashMap<u64, Time>>,
    /// Per replica: when it applies its latest write (replicas apply the log in order).
    log_head: Vec<Time>,
    pub reads: u64,
    pub stale_reads: u64,
}

impl Replication {
    pub fn new(replicas: u32) -> Replication {
        Replication {
            applied_at: vec![FxHashMap::default(); replicas as usize],
            log_head: vec![0; replicas as usize],
            reads: 0,
            stale_reads: 0,
        }
    }

    /// A write to `key` committed on the primary at `now`; replica `r` receives it `lag` later,
    /// but never before the writes it received earlier.
    pub fn write(&mut self, replica: usize, key: u64, now: Time, lag: Time) {
        let at = now.saturating_add(lag).max(self.log_head[replica]);
        self.log_head[replica] = at;
        if at > now {
            self.applied_at[replica].insert(key, at);
        } else {
            self.applied_at[replica].remove(&key);
        }
    }

    /// Whether a read of `key` on `replica` at `now` misses a committed write.
    pub fn is_stale(&mut self, replica: usize, key: u64, now: Time) -> bool {
        match self.applied_at[replica].get(&key) {
            Some(&at) if at > now => true,
            Some(_) => {
                self.applied_at[replica].remove(&key);
                false
            }
            None => false,
        }
    }
}
