//! The configurations the search has visited, so that it never explores one twice (nor one
//! that a visited configuration covers).

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hash, Hasher};

use super::hash::{splitmix64, FxHasher, IdentityHasher};

/// The configurations visited so far: `(set, state)` pairs, with the set of linearized (or left
/// out) operations as a bitset.
///
/// Operations that never returned ("free": optional, no deadline) are treated by dominance:
/// having such an operation still available is never worse than having used it, so a
/// configuration is covered by a visited one with the same state, the same other operations
/// and a subset of its free ones. (Pruning configurations covered by visited ones is sound,
/// even when the visited one is still in progress: take a visited configuration with a
/// completion as short as possible; every child on that completion was visited, or covered by
/// a visited configuration with a shorter completion.) The hash covers the state and the
/// non-free operations only, so that candidates meet in one chain.
///
/// Entries live in flat arenas, keyed by a 64-bit hash with exact comparison.
pub(super) struct Cache<S> {
    words: usize,
    /// Bit set for free operations.
    free: Vec<u64>,
    heads: HashMap<u64, u32, BuildHasherDefault<IdentityHasher>>,
    chain: Vec<u32>,
    bits: Vec<u64>,
    states: Vec<S>,
    /// What the stored states hold on the heap (a stream state's messages, for example),
    /// as the model reports it: a state's inline size is counted by `states`' capacity.
    heap_bytes: u64,
    live: usize,
}

const NO_ENTRY: u32 = u32::MAX;

impl<S: Eq + Clone> Cache<S> {
    pub(super) fn new(free: Vec<u64>) -> Self {
        Cache {
            words: free.len(),
            free,
            heads: HashMap::default(),
            chain: Vec::new(),
            bits: Vec::new(),
            states: Vec::new(),
            heap_bytes: 0,
            live: 0,
        }
    }

    /// Configurations stored (and not superseded).
    pub(super) fn len(&self) -> usize {
        self.live
    }

    /// Bytes the cache holds (its buffers' capacities and what the stored states hold on the
    /// heap; superseded entries are not freed).
    pub(super) fn bytes(&self) -> u64 {
        let heads = self.heads.capacity() * (std::mem::size_of::<(u64, u32)>() + 1);
        let chain = self.chain.capacity() * std::mem::size_of::<u32>();
        let bits = self.bits.capacity() * std::mem::size_of::<u64>();
        let states = self.states.capacity() * std::mem::size_of::<S>();
        (heads + chain + bits + states) as u64 + self.heap_bytes
    }

    fn stored(&self, at: usize) -> &[u64] {
        &self.bits[at * self.words..(at + 1) * self.words]
    }

    /// Does stored set `a` cover set `b`: the same non-free operations and a subset of its
    /// free ones?
    fn covers(&self, a: &[u64], b: &[u64]) -> bool {
        a.iter()
            .zip(b)
            .zip(&self.free)
            .all(|((&a, &b), &free)| a & !b == 0 && b & !a & !free == 0)
    }

    /// Is the configuration covered by a visited one?
    pub(super) fn covered(&self, hash: u64, bits: &[u64], state: &S) -> bool {
        let mut i = self.heads.get(&hash).copied().unwrap_or(NO_ENTRY);
        while i != NO_ENTRY {
            let at = i as usize;
            if self.states[at] == *state && self.covers(self.stored(at), bits) {
                return true;
            }
            i = self.chain[at];
        }
        false
    }

    /// Records the configuration as visited; false if it was covered already. Entries it
    /// covers are dropped from the chain. `heap` is what `state` holds on the heap.
    pub(super) fn insert(&mut self, hash: u64, bits: &[u64], state: &S, heap: u64) -> bool {
        let index = self.states.len() as u32;
        let head = self.heads.get(&hash).copied().unwrap_or(NO_ENTRY);
        let mut first = head;
        let mut prev = NO_ENTRY;
        let mut i = head;
        while i != NO_ENTRY {
            let at = i as usize;
            let next = self.chain[at];
            if self.states[at] == *state {
                if self.covers(self.stored(at), bits) {
                    return false;
                }
                if self.covers(bits, self.stored(at)) {
                    // Superseded: unlink.
                    if prev == NO_ENTRY {
                        first = next;
                    } else {
                        self.chain[prev as usize] = next;
                    }
                    self.live -= 1;
                    i = next;
                    continue;
                }
            }
            prev = i;
            i = next;
        }
        self.chain.push(first);
        self.heads.insert(hash, index);
        self.bits.extend_from_slice(bits);
        self.states.push(state.clone());
        self.heap_bytes += heap;
        self.live += 1;
        true
    }
}

pub(super) fn key_hash<S: Hash>(set_hash: u64, state: &S) -> u64 {
    let mut h = FxHasher::default();
    state.hash(&mut h);
    splitmix64(set_hash ^ h.finish().wrapping_mul(0x9E37_79B9_7F4A_7C15))
}
