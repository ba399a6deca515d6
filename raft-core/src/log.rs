//! The in-memory view of the replicated log.

use crate::types::Entry;

/// Entries `start_index + 1 ..= last_index()`, plus the term of `start_index`.
///
/// Invariants: `entries[i].index == start_index + 1 + i`; terms never decrease along the log.
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

    pub fn last_index(&self) -> u64 {
        self.start_index + self.entries.len() as u64
    }

    pub fn last_term(&self) -> u64 {
        self.entries.last().map_or(self.start_term, |e| e.term)
    }

    /// The term of the entry at `index`, `Some(0)` for index 0, `None` when out of range.
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
