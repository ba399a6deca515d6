//! The in-memory view of the replicated log.

use crate::types::{Entry, EntryKind};
use bytes::Bytes;

/// Entries `start_index + 1 ..= last_index()`, plus the term of `start_index`.
///
/// `start_index` is the index of the latest snapshot (0 without one): everything up to it is
/// compacted away and only its term is kept.
///
/// Invariants: `entries[i].index == start_index + 1 + i`; terms never decrease along the log
/// (and none is below `start_term`). The `Normal` entries up to `evicted_through` hold no
/// payload (their identity stays: index, term, kind), the node's in-memory cache bound
/// ([`crate::Config::log_cache_bytes`]) dropped it; `payload_bytes` is the sum of the payloads
/// still held.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Log {
    start_index: u64,
    start_term: u64,
    entries: Vec<Entry>,
    evicted_through: u64,
    payload_bytes: usize,
}

fn payload_sum(entries: &[Entry]) -> usize {
    entries.iter().map(|e| e.data.len()).sum()
}

impl Log {
    pub fn new(entries: Vec<Entry>) -> Log {
        Log::with_start(0, 0, entries)
    }

    /// A log that continues a snapshot at (`start_index`, `start_term`).
    pub fn with_start(start_index: u64, start_term: u64, entries: Vec<Entry>) -> Log {
        debug_assert!(entries
            .first()
            .is_none_or(|e| e.index == start_index + 1 && e.term >= start_term));
        Log {
            start_index,
            start_term,
            payload_bytes: payload_sum(&entries),
            entries,
            evicted_through: start_index,
        }
    }

    /// The index of the snapshot the log starts after (0: none).
    pub fn start_index(&self) -> u64 {
        self.start_index
    }

    /// The term of the entry at [`Log::start_index`].
    pub fn start_term(&self) -> u64 {
        self.start_term
    }

    /// Drops every entry up to `index` (which must be in the log), keeping its term as the
    /// start term.
    pub fn compact(&mut self, index: u64) {
        debug_assert!(index >= self.start_index && index <= self.last_index());
        let term = self
            .term_at(index)
            .expect("compaction point within the log");
        let dropped = self.entries.drain(..(index - self.start_index) as usize);
        self.payload_bytes -= payload_sum(dropped.as_slice());
        drop(dropped);
        self.start_index = index;
        self.start_term = term;
        self.evicted_through = self.evicted_through.max(index);
    }

    /// Replaces the whole log by an empty one continuing a snapshot at (`index`, `term`).
    pub fn reset(&mut self, index: u64, term: u64) {
        self.entries.clear();
        self.start_index = index;
        self.start_term = term;
        self.evicted_through = index;
        self.payload_bytes = 0;
    }

    pub fn last_index(&self) -> u64 {
        self.start_index + self.entries.len() as u64
    }

    pub fn last_term(&self) -> u64 {
        self.entries.last().map_or(self.start_term, |e| e.term)
    }

    /// The term of the entry at `index` (the start term at the start index, `Some(0)` for
    /// index 0 without a snapshot), `None` when out of range or compacted.
    pub fn term_at(&self, index: u64) -> Option<u64> {
        if index == self.start_index {
            return Some(self.start_term);
        }
        self.get(index).map(|e| e.term)
    }

    pub fn get(&self, index: u64) -> Option<&Entry> {
        if index <= self.start_index {
            return None;
        }
        self.entries.get((index - self.start_index - 1) as usize)
    }

    /// Entries in `from..=to` (clamped to what the log holds).
    pub fn slice(&self, from: u64, to: u64) -> &[Entry] {
        let from = from.max(self.start_index + 1);
        let to = to.min(self.last_index());
        if from > to {
            return &[];
        }
        let lo = (from - self.start_index - 1) as usize;
        let hi = (to - self.start_index) as usize;
        &self.entries[lo..hi]
    }

    pub fn entries(&self) -> &[Entry] {
        &self.entries
    }

    pub fn append(&mut self, entry: Entry) {
        debug_assert_eq!(
            entry.index,
            self.last_index() + 1,
            "log append out of order"
        );
        debug_assert!(entry.term >= self.last_term(), "log term decreased");
        self.payload_bytes += entry.data.len();
        self.entries.push(entry);
    }

    /// Appends without the ordering checks: only for the planted bug that keeps a stale
    /// suffix after an in-place overwrite.
    #[cfg(feature = "planted-bugs")]
    pub(crate) fn append_unchecked(&mut self, entry: Entry) {
        self.payload_bytes += entry.data.len();
        self.entries.push(entry);
    }

    /// Drops every entry after `index`.
    pub fn truncate_after(&mut self, index: u64) {
        debug_assert!(index >= self.start_index);
        let keep = (index - self.start_index) as usize;
        if keep < self.entries.len() {
            self.payload_bytes -= payload_sum(&self.entries[keep..]);
            self.entries.truncate(keep);
        }
        self.evicted_through = self.evicted_through.min(index);
    }

    /// Payload bytes of the entries held in memory (the evicted ones count nothing).
    pub fn payload_bytes(&self) -> usize {
        self.payload_bytes
    }

    /// The last index whose `Normal` entry's payload is no longer in memory (the start index
    /// when none was evicted): the leader reads those from storage to send them.
    pub fn evicted_through(&self) -> u64 {
        self.evicted_through
    }

    /// Whether the payload of the entry at `index` is no longer in memory.
    pub fn payload_evicted(&self, index: u64) -> bool {
        index <= self.evicted_through
            && self.get(index).is_some_and(|e| e.kind == EntryKind::Normal)
    }

    /// Drops the payloads of the oldest `Normal` entries, up to `limit` at most, until the
    /// payloads held fit in `bound` bytes. Other kinds keep theirs: the membership is read
    /// from them, and they are small.
    pub fn evict_payloads(&mut self, limit: u64, bound: usize) {
        let limit = limit.min(self.last_index());
        while self.payload_bytes > bound && self.evicted_through < limit {
            self.evicted_through += 1;
            let slot = (self.evicted_through - self.start_index - 1) as usize;
            let entry = &mut self.entries[slot];
            if entry.kind == EntryKind::Normal {
                self.payload_bytes -= entry.data.len();
                entry.data = Bytes::new();
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn log(terms: &[u64]) -> Log {
        Log::new(
            (1..)
                .zip(terms)
                .map(|(i, &t)| Entry::normal(t, i, ""))
                .collect(),
        )
    }

    #[test]
    fn compaction_keeps_the_term_of_the_compaction_point() {
        let mut l = log(&[1, 1, 2, 3]);
        l.compact(2);
        assert_eq!((l.start_index(), l.start_term()), (2, 1));
        assert_eq!((l.last_index(), l.last_term()), (4, 3));
        assert_eq!(l.term_at(2), Some(1));
        assert_eq!(l.term_at(1), None);
        assert_eq!(l.get(2), None);
        assert_eq!(l.slice(1, 4).len(), 2);
        l.compact(4);
        assert_eq!((l.last_index(), l.last_term()), (4, 3));
        assert!(l.entries().is_empty());
        l.append(Entry::normal(3, 5, ""));
        assert_eq!(l.slice(0, 9).len(), 1);
    }

    #[test]
    fn eviction_drops_the_oldest_normal_payloads_down_to_the_bound_and_keeps_identities() {
        let mut l = Log::new(vec![
            Entry::normal(1, 1, "aaaa"),
            Entry {
                kind: EntryKind::PeerState,
                ..Entry::normal(1, 2, "pp")
            },
            Entry::normal(1, 3, "bbbb"),
            Entry::normal(2, 4, "cccc"),
        ]);
        assert_eq!(l.payload_bytes(), 14);
        l.evict_payloads(3, 6);
        assert_eq!((l.evicted_through(), l.payload_bytes()), (3, 6));
        assert!(l.payload_evicted(1) && !l.payload_evicted(2) && l.payload_evicted(3));
        assert_eq!(
            l.get(2).unwrap().data.as_ref(),
            b"pp",
            "a peer state keeps its payload"
        );
        assert_eq!((l.term_at(3), l.get(3).unwrap().data.len()), (Some(1), 0));
        l.evict_payloads(3, 0);
        assert_eq!(l.evicted_through(), 3, "never past the limit");
        l.truncate_after(2);
        assert_eq!((l.evicted_through(), l.payload_bytes()), (2, 2));
        l.compact(2);
        assert_eq!((l.evicted_through(), l.payload_bytes()), (2, 0));
        l.append(Entry::normal(2, 3, "dd"));
        assert_eq!(l.payload_bytes(), 2);
    }

    #[test]
    fn reset_starts_over_after_a_snapshot() {
        let mut l = log(&[1, 1]);
        l.reset(10, 4);
        assert_eq!(
            (l.start_index(), l.last_index(), l.last_term()),
            (10, 10, 4)
        );
        assert_eq!(l.term_at(10), Some(4));
        assert_eq!(l.term_at(2), None);
        let l = Log::with_start(10, 4, vec![Entry::normal(5, 11, "")]);
        assert_eq!((l.last_index(), l.term_at(10)), (11, Some(4)));
    }

    #[test]
    fn truncation_after_a_snapshot_counts_from_the_snapshot() {
        let entries = (11..=15).map(|i| Entry::normal(5, i, "")).collect();
        let mut l = Log::with_start(10, 4, entries);
        l.truncate_after(12);
        assert_eq!((l.last_index(), l.entries().len()), (12, 2));
        l.truncate_after(10);
        assert!(l.entries().is_empty());
        assert_eq!(l.last_index(), 10);
    }
}
