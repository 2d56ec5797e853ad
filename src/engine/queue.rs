//! The future event list: a binary heap ordered by (time, sequence number). Events at equal times
//! leave in the order they were scheduled, so a run is a pure function of its inputs.

use super::time::Time;

/// One pending event. Copy, so the heap moves entries with plain loads and stores.
#[derive(Clone, Copy)]
struct Entry<E> {
    time: Time,
    seq: u64,
    event: E,
}

impl<E> Entry<E> {
    /// Whether this entry leaves before `other`: earlier time, or the same time and scheduled
    /// first (sequence numbers are unique).
    #[inline(always)]
    fn before(&self, other: &Self) -> bool {
        self.time < other.time || (self.time == other.time && self.seq < other.seq)
    }
}

/// A binary min-heap of events, hand-written for the engine's hot path: entries are `Copy`, both
/// sifts move a hole instead of swapping, and `pop_before` merges the loop's peek and pop.
pub struct EventQueue<E> {
    heap: Vec<Entry<E>>,
    seq: u64,
}

impl<E> Default for EventQueue<E> {
    fn default() -> Self {
        EventQueue {
            heap: Vec::new(),
            seq: 0,
        }
    }
}

impl<E: Copy> EventQueue<E> {
    /// A sequence number for an event kept outside the queue (the next arrival), so that it
    /// is ordered against the queued ones exactly as if it had been scheduled here.
    #[inline(always)]
    pub fn next_seq(&mut self) -> u64 {
        self.seq += 1;
        self.seq
    }

    /// (time, sequence number) of the earliest event.
    #[inline(always)]
    pub fn peek_key(&self) -> Option<(Time, u64)> {
        self.heap.first().map(|e| (e.time, e.seq))
    }

    #[inline(always)]
    pub fn schedule(&mut self, time: Time, event: E) {
        self.seq += 1;
        let e = Entry {
            time,
            seq: self.seq,
            event,
        };
        let mut i = self.heap.len();
        self.heap.push(e);
        let h = &mut self.heap[..];
        while i > 0 {
            let parent = (i - 1) / 2;
            if !e.before(&h[parent]) {
                break;
            }
            h[i] = h[parent];
            i = parent;
        }
        h[i] = e;
    }

    /// The earliest event, if there is one.
    #[inline]
    pub fn pop(&mut self) -> Option<(Time, E)> {
        let top = *self.heap.first()?;
        self.remove_top();
        Some((top.time, top.event))
    }

    /// The earliest event if it is due strictly before `end`; it stays queued otherwise.
    #[inline(always)]
    pub fn pop_before(&mut self, end: Time) -> Option<(Time, E)> {
        if self.heap.first()?.time >= end {
            return None;
        }
        if self.heap.len() == 1 {
            // The only event: one read, no sift.
            let e = self.heap.pop().expect("not empty");
            return Some((e.time, e.event));
        }
        let top = self.heap[0];
        self.remove_top();
        Some((top.time, top.event))
    }

    /// Removes the root: the last entry sifts down from the root's hole.
    #[inline(always)]
    fn remove_top(&mut self) {
        let Some(last) = self.heap.pop() else { return };
        let h = &mut self.heap[..];
        let n = h.len();
        if n == 0 {
            return;
        }
        let mut i = 0;
        loop {
            let mut child = 2 * i + 1;
            if child >= n {
                break;
            }
            if child + 1 < n && h[child + 1].before(&h[child]) {
                child += 1;
            }
            if !h[child].before(&last) {
                break;
            }
            h[i] = h[child];
            i = child;
        }
        h[i] = last;
    }

    pub fn peek_time(&self) -> Option<Time> {
        self.heap.first().map(|e| e.time)
    }

    pub fn len(&self) -> usize {
        self.heap.len()
    }

    pub fn is_empty(&self) -> bool {
        self.heap.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        /// Events come out sorted by time, and events with equal times in scheduling order.
        #[test]
        fn pops_in_time_then_insertion_order(times in proptest::collection::vec(0u64..20, 0..200)) {
            let mut q = EventQueue::default();
            for (i, t) in times.iter().enumerate() {
                q.schedule(*t, i);
            }
            let mut out = Vec::new();
            while let Some(x) = q.pop() {
                out.push(x);
            }
            let mut expected: Vec<(u64, usize)> = times.iter().copied().zip(0..).collect();
            expected.sort_by_key(|&(t, i)| (t, i));
            prop_assert_eq!(out, expected);
        }

        /// Pushes and pops interleaved as in a run (each pop schedules events no earlier than
        /// itself) agree with an ordered set of (time, sequence) at every step, and
        /// `pop_before` never returns an event at or after its bound.
        #[test]
        fn interleaved_operations_match_an_ordered_set(
            ops in proptest::collection::vec((0u64..3, 0u64..50, 0u64..60), 1..400)
        ) {
            let mut q = EventQueue::default();
            let mut model = std::collections::BTreeSet::new();
            let (mut now, mut seq) = (0u64, 0u64);
            for (op, dt, end) in ops {
                if op == 0 {
                    let expected = model.iter().next().copied();
                    match q.pop_before(end) {
                        Some((t, s)) => {
                            prop_assert!(t < end);
                            prop_assert_eq!(Some((t, s)), expected);
                            model.remove(&(t, s));
                            now = t;
                        }
                        None => prop_assert!(expected.is_none_or(|(t, _)| t >= end)),
                    }
                } else {
                    seq += 1;
                    q.schedule(now + dt, seq);
                    model.insert((now + dt, seq));
                }
                prop_assert_eq!(q.len(), model.len());
                prop_assert_eq!(q.peek_time(), model.iter().next().map(|x| x.0));
            }
        }
    }
}
