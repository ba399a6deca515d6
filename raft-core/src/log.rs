//! The in-memory view of the replicated log.

use crate::types::Entry;

/// Entries `start_index + 1 ..= last_index()`, plus the term of `start_index`.
///
/// `start_index` is the index of the latest snapshot (0 without one): everything up to it is
/// compacted away and only its term is kept.
///
/// Invariants: `entries[i].index == start_index + 1 + i`; terms never decrease along the log
/// (and none is below `start_term`).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Log {
    start_index: u64,
    start_term: u64,
    entries: Vec<Entry>,
}

impl Log {
    pub fn new(entries: Vec<Entry>) -> Log {
        Log {
            start_index: 0,
            start_term: 0,
            entries,
        }
    }

    /// A log that continues a snapshot at (`start_index`, `start_term`).
    pub fn with_start(start_index: u64, start_term: u64, entries: Vec<Entry>) -> Log {
        debug_assert!(entries
            .first()
            .is_none_or(|e| e.index == start_index + 1 && e.term >= start_term));
        Log {
            start_index,
            start_term,
            entries,
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
        self.entries.drain(..(index - self.start_index) as usize);
        self.start_index = index;
        self.start_term = term;
    }

    /// Replaces the whole log by an empty one continuing a snapshot at (`index`, `term`).
    pub fn reset(&mut self, index: u64, term: u64) {
        self.entries.clear();
        self.start_index = index;
        self.start_term = term;
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
        self.entries.push(entry);
    }

    /// Appends without the ordering checks: only for the planted bug that keeps a stale
    /// suffix after an in-place overwrite.
    #[cfg(feature = "planted-bugs")]
    pub(crate) fn append_unchecked(&mut self, entry: Entry) {
        self.entries.push(entry);
    }

    /// Drops every entry after `index`.
    pub fn truncate_after(&mut self, index: u64) {
        debug_assert!(index >= self.start_index);
        let keep = (index - self.start_index) as usize;
        self.entries.truncate(keep);
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
