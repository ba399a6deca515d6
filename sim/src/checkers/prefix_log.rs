//! Prefix hashes: what the checkers keep of every node's logs, so that two logs are compared
//! at one index instead of entry by entry.
//!
//! Architecture invariant: a `PrefixLog` mirrors one log (a node's memory or its durable
//! log) as the hash of its whole prefix at every index after its snapshot base; entries the
//! snapshot covers are committed state, known to match. The hashes only compare logs inside
//! one run: they are never shown or stored.

use raft_core::Entry;
use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};

/// One step of the checkers' word-at-a-time hash (a multiply-xorshift mix). The hashes only
/// compare logs inside one run; they are never shown or stored.
pub(super) fn mix(hash: u64, word: u64) -> u64 {
    let x = (hash ^ word).wrapping_mul(0x9e37_79b9_7f4a_7c15);
    x ^ (x >> 32)
}

pub(super) fn hash_bytes(bytes: &[u8], mut hash: u64) -> u64 {
    let mut words = bytes.chunks_exact(8);
    for word in &mut words {
        hash = mix(hash, u64::from_le_bytes(word.try_into().expect("8 bytes")));
    }
    let mut last = [0u8; 8];
    last[..words.remainder().len()].copy_from_slice(words.remainder());
    mix(mix(hash, u64::from_le_bytes(last)), bytes.len() as u64)
}

/// Hash of one entry's identity and content.
pub fn entry_hash(entry: &Entry) -> u64 {
    let mut h = mix(0xcbf2_9ce4_8422_2325, entry.term);
    h = mix(h, entry.index);
    h = mix(h, entry.kind as u64);
    hash_bytes(&entry.data, h)
}

pub(super) fn chain(prev: u64, entry: u64) -> u64 {
    mix(mix(0x1000_0000_01b3, prev), entry)
}

/// rustc's FxHash, for the checkers' maps: keyed by small integers, never iterated, so a fast
/// unkeyed hash changes nothing observable (SipHash was a measurable share of every event).
#[derive(Clone, Copy, Default)]
pub(super) struct FxHasher(u64);

impl Hasher for FxHasher {
    fn write(&mut self, bytes: &[u8]) {
        for chunk in bytes.chunks(8) {
            let mut word = [0u8; 8];
            word[..chunk.len()].copy_from_slice(chunk);
            self.write_u64(u64::from_le_bytes(word));
        }
    }
    fn write_u64(&mut self, word: u64) {
        self.0 = (self.0.rotate_left(5) ^ word).wrapping_mul(0x51_7c_c1_b7_27_22_0a_95);
    }
    fn write_usize(&mut self, word: usize) {
        self.write_u64(word as u64);
    }
    fn finish(&self) -> u64 {
        self.0
    }
}

pub(super) type FxMap<K, V> = HashMap<K, V, BuildHasherDefault<FxHasher>>;

/// What the checkers keep of one log position: the prefix hash up to it and its term.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(super) struct Point {
    prefix: u64,
    term: u64,
}

/// Prefix hashes of one log, after an optional snapshot base.
#[derive(Clone, Debug, Default)]
pub(super) struct PrefixLog {
    /// Entries up to `base_index` are covered by a snapshot; `base` is the point there
    /// (0/0 without a snapshot).
    base_index: u64,
    base: Point,
    /// `points[i]` is the entry at `base_index + 1 + i`.
    points: Vec<Point>,
}

impl PrefixLog {
    pub(super) fn point(&self, index: u64) -> Option<Point> {
        match index.cmp(&self.base_index) {
            std::cmp::Ordering::Less => None,
            std::cmp::Ordering::Equal => Some(self.base),
            std::cmp::Ordering::Greater => self
                .points
                .get((index - self.base_index) as usize - 1)
                .copied(),
        }
    }
    pub(super) fn at(&self, index: u64) -> Option<u64> {
        self.point(index).map(|p| p.prefix)
    }
    pub(super) fn term_at(&self, index: u64) -> Option<u64> {
        self.point(index).map(|p| p.term)
    }
    /// The index is inside the snapshot: committed state, known to match.
    pub(super) fn covers(&self, index: u64) -> bool {
        index <= self.base_index
    }
    pub(super) fn len(&self) -> u64 {
        self.base_index + self.points.len() as u64
    }
    /// (last term, last index): what a vote compares.
    pub(super) fn last(&self) -> (u64, u64) {
        let term = self.points.last().map_or(self.base.term, |p| p.term);
        (term, self.len())
    }
    /// Whether the log holds the committed prefix `prefix` at `index`.
    pub(super) fn holds(&self, index: u64, prefix: u64) -> bool {
        self.covers(index) || self.at(index) == Some(prefix)
    }
    pub(super) fn write(&mut self, prev_index: u64, entries: &[Entry]) {
        let skip = self.base_index.saturating_sub(prev_index) as usize;
        self.points
            .truncate(prev_index.saturating_sub(self.base_index) as usize);
        for entry in entries.iter().skip(skip) {
            let prev = self.points.last().map_or(self.base.prefix, |p| p.prefix);
            self.points.push(Point {
                prefix: chain(prev, entry_hash(entry)),
                term: entry.term,
            });
        }
    }
    pub(super) fn reset(&mut self, entries: &[Entry]) {
        *self = PrefixLog::default();
        self.write(0, entries);
    }
    /// A snapshot at `index` (prefix hash `prefix`, term `term`) now covers the log up to
    /// there; with `discard` the log after it is dropped too.
    pub(super) fn rebase(&mut self, index: u64, prefix: u64, term: u64, discard: bool) {
        if index <= self.base_index {
            return;
        }
        let drop = ((index - self.base_index) as usize).min(self.points.len());
        let reached = self.base_index + drop as u64 == index;
        self.points.drain(..drop);
        if discard || !reached {
            self.points.clear();
        }
        self.base_index = index;
        self.base = Point { prefix, term };
    }
}
