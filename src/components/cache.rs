//! A key-value cache with LRU eviction and a TTL set when a key is stored: O(1) per operation,
//! memory bounded by its capacity (or by the key space when unbounded).

use crate::engine::time::Time;
use rustc_hash::FxHashMap;

const NIL: u32 = u32::MAX;

#[derive(Debug, Clone, Copy)]
struct Node {
    key: u64,
    prev: u32,
    next: u32,
    expires: Time,
}

#[derive(Debug, Clone, Default)]
pub struct CacheCounters {
    pub lookups: u64,
    pub hits: u64,
    pub backend_calls: u64,
    pub coalesced: u64,
    pub evictions: u64,
    pub expirations: u64,
    pub invalidations: u64,
}

impl CacheCounters {
    pub fn add(&mut self, o: &CacheCounters) {
        self.lookups += o.lookups;
        self.hits += o.hits;
        self.backend_calls += o.backend_calls;
        self.coalesced += o.coalesced;
        self.evictions += o.evictions;
        self.expirations += o.expirations;
        self.invalidations += o.invalidations;
    }
}

#[derive(Debug, Clone)]
pub struct CacheStore {
    capacity: u64,
    ttl: Option<Time>,
    map: FxHashMap<u64, u32>,
    nodes: Vec<Node>,
    free: Vec<u32>,
    /// Most recently used.
    head: u32,
    /// Least recently used: the next eviction.
    tail: u32,
    pub counters: CacheCounters,
    /// Keys whose miss is being filled by a first request, with the frames waiting on it
    /// (only when coalescing).
    pub filling: FxHashMap<u64, Vec<u32>>,
}

impl CacheStore {
    pub fn new(capacity: Option<u64>, ttl: Option<Time>) -> CacheStore {
        CacheStore {
            capacity: capacity.unwrap_or(u64::MAX),
            ttl,
            map: FxHashMap::default(),
            nodes: Vec::new(),
            free: Vec::new(),
            head: NIL,
            tail: NIL,
            counters: CacheCounters::default(),
            filling: FxHashMap::default(),
        }
    }

    /// The capacity it was made with (None: unbounded).
    pub fn capacity_setting(&self) -> Option<u64> {
        (self.capacity != u64::MAX).then_some(self.capacity)
    }

    pub fn ttl_setting(&self) -> Option<Time> {
        self.ttl
    }

    pub fn len(&self) -> usize {
        self.map.len()
    }

    pub fn is_empty(&self) -> bool {
        self.map.is_empty()
    }

    fn unlink(&mut self, i: u32) {
        let Node { prev, next, .. } = self.nodes[i as usize];
        if prev == NIL {
            self.head = next;
        } else {
            self.nodes[prev as usize].next = next;
        }
        if next == NIL {
            self.tail = prev;
        } else {
            self.nodes[next as usize].prev = prev;
        }
    }

    fn push_front(&mut self, i: u32) {
        self.nodes[i as usize].prev = NIL;
        self.nodes[i as usize].next = self.head;
        if self.head != NIL {
            self.nodes[self.head as usize].prev = i;
        }
        self.head = i;
        if self.tail == NIL {
            self.tail = i;
        }
    }

    fn drop_node(&mut self, i: u32) {
        self.unlink(i);
        self.map.remove(&self.nodes[i as usize].key);
        self.free.push(i);
    }

    /// A lookup: true on a hit (the key becomes most recently used); an expired key is removed.
    pub fn get(&mut self, key: u64, now: Time) -> bool {
        match self.map.get(&key) {
            None => false,
            Some(&i) => {
                if self.nodes[i as usize].expires <= now {
                    self.drop_node(i);
                    self.counters.expirations += 1;
                    false
                } else {
                    self.unlink(i);
                    self.push_front(i);
                    true
                }
            }
        }
    }

    /// Stores `key` (fresh TTL), evicting the least recently used key when full.
    pub fn put(&mut self, key: u64, now: Time) {
        let expires = self.ttl.map_or(Time::MAX, |t| now.saturating_add(t));
        if let Some(&i) = self.map.get(&key) {
            self.nodes[i as usize].expires = expires;
            self.unlink(i);
            self.push_front(i);
            return;
        }
        if self.map.len() as u64 >= self.capacity && self.tail != NIL {
            self.drop_node(self.tail);
            self.counters.evictions += 1;
        }
        let node = Node {
            key,
            prev: NIL,
            next: NIL,
            expires,
        };
        let i = match self.free.pop() {
            Some(i) => {
                self.nodes[i as usize] = node;
                i
            }
            None => {
                self.nodes.push(node);
                (self.nodes.len() - 1) as u32
            }
        };
        self.map.insert(key, i);
        self.push_front(i);
    }

    pub fn remove(&mut self, key: u64) {
        if let Some(&i) = self.map.get(&key) {
            self.drop_node(i);
            self.counters.invalidations += 1;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn evicts_least_recently_used() {
        let mut c = CacheStore::new(Some(2), None);
        c.put(1, 0);
        c.put(2, 0);
        assert!(c.get(1, 0)); // 2 is now LRU
        c.put(3, 0);
        assert!(!c.get(2, 0));
        assert!(c.get(1, 0));
        assert!(c.get(3, 0));
        assert_eq!(c.len(), 2);
        assert_eq!(c.counters.evictions, 1);
    }

    #[test]
    fn ttl_expires_from_the_store_time() {
        let mut c = CacheStore::new(None, Some(100));
        c.put(7, 10);
        assert!(c.get(7, 109));
        assert!(!c.get(7, 110));
        assert!(c.is_empty());
    }

    #[test]
    fn remove_invalidates() {
        let mut c = CacheStore::new(Some(10), None);
        c.put(1, 0);
        c.remove(1);
        assert!(!c.get(1, 0));
        c.put(1, 0);
        assert!(c.get(1, 0));
    }
}
