//! A bounded log cache ([`Config::log_cache_bytes`](crate::Config::log_cache_bytes)): past
//! the bound, the payloads of the oldest entries that are durable and applied leave memory
//! (their index, term and kind stay, so every consistency check still works); a leader that
//! must send them reads them back from the host's log ([`Action::ReadLog`]).
//!
//! # Invariants
//!
//! - At the end of every input, the payloads held ([`Log::payload_bytes`]) fit in the bound,
//!   unless the excess is in entries not yet durable or not yet applied (never evicted:
//!   the host may not have them yet, and the application still needs them).
//! - At most one read is in flight; `fetched` holds the latest answer, at most
//!   [`Config::max_entries_per_message`](crate::Config::max_entries_per_message) entries,
//!   each identical (index, term, kind) to the log's entry at its index when it was kept.
//! - Nothing is handed out to apply without its payload: entries handed out again (a drain
//!   and replay) whose payloads left memory are read back first, and the hand-out stops
//!   before the first that is not back.
//! - An append (or a repair offer to a repairing leader) is never built on a payload that
//!   is not there: a message stops before the first missing one, and a read that failed
//!   sends nothing (the next heartbeat or acknowledgement asks again). openraft #1795 took a failed read for the end of the log
//!   and sent entries after a previous index they did not follow; its fix (openraft #1798)
//!   stops replication at a storage error and checks that an append's first entry follows
//!   its previous index. A simulated host's read errors are transient, so this core retries.
//!
//! [`Log::payload_bytes`]: crate::log::Log::payload_bytes

use super::errors::ContractError;
use super::outbox::Outbox;
use super::Node;
use crate::action::{Action, Role};
use crate::config::Config;
use crate::log::Log;
use crate::types::Entry;

/// The read in flight and the payloads read back (see the module documentation).
#[derive(Clone, Debug, Default)]
pub(super) struct LogReads {
    /// `(from, to)` of the [`Action::ReadLog`] not yet answered.
    in_flight: Option<(u64, u64)>,
    /// The latest answer's entries, consecutive.
    fetched: Vec<Entry>,
}

impl LogReads {
    /// The entry read back for `entry` (same index, term and kind), if any.
    pub(super) fn payload(&self, entry: &Entry) -> Option<&Entry> {
        let first = self.fetched.first()?.index;
        let read = self.fetched.get(entry.index.checked_sub(first)? as usize)?;
        (read.index == entry.index && read.term == entry.term && read.kind == entry.kind)
            .then_some(read)
    }

    /// `entries` of `log` with their payloads, as far as they are in memory or read back,
    /// and the index of the first whose payload is neither (if any).
    pub(super) fn with_payloads(&self, log: &Log, entries: &[Entry]) -> (Vec<Entry>, Option<u64>) {
        let mut out = Vec::with_capacity(entries.len());
        for entry in entries {
            let entry = if log.payload_evicted(entry.index) {
                match self.payload(entry) {
                    Some(read) => read,
                    None => return (out, Some(entry.index)),
                }
            } else {
                entry
            };
            out.push(entry.clone());
        }
        (out, None)
    }

    /// Asks the host for the evicted payloads from `from` on (a message's worth), unless a
    /// read is in flight: its answer sends to every follower that needs them.
    pub(super) fn request(&mut self, log: &Log, from: u64, config: &Config, outbox: &mut Outbox) {
        if self.in_flight.is_some() {
            return;
        }
        let to = log
            .evicted_through()
            .min(from + config.max_entries_per_message as u64 - 1);
        debug_assert!(from <= to, "a read of payloads that are in memory");
        self.in_flight = Some((from, to));
        outbox.read_log(from, to);
    }

    /// Bytes held: the payloads read back.
    pub(super) fn bytes(&self) -> usize {
        self.fetched.iter().map(|e| e.data.len()).sum()
    }
}

impl Node {
    /// The host read the entries from `from` on that [`Action::ReadLog`] asked for (in
    /// index order; fewer than asked if its log no longer holds them all). Entries that do
    /// not match the log's (index, term, kind) from `from` on are ignored.
    pub fn log_read(
        &mut self,
        from: u64,
        entries: Vec<Entry>,
    ) -> Result<Vec<Action>, ContractError> {
        self.answer_read(from)?;
        let mut expected = from;
        let matching = entries
            .into_iter()
            .take_while(|e| {
                let same = e.index == expected
                    && self
                        .log
                        .get(e.index)
                        .is_some_and(|mine| mine.term == e.term && mine.kind == e.kind);
                expected += 1;
                same
            })
            .collect();
        self.log_reads.fetched = matching;
        self.hand_out_committed();
        self.send_read_payloads();
        Ok(self.finish())
    }

    /// The host could not read the entries [`Action::ReadLog`] asked for from `from` on.
    ///
    /// Rule (log read error): a leader sends nothing built on entries it could not read;
    /// the next heartbeat or acknowledgement asks for them again.
    pub fn log_read_failed(&mut self, from: u64) -> Result<Vec<Action>, ContractError> {
        let (_, to) = self.answer_read(from)?;
        if planted!(self, ReadErrorEndsLog) {
            self.send_past_unreadable_entries(from, to);
        }
        Ok(self.finish())
    }

    /// Checks that `from` answers the read in flight and ends it.
    fn answer_read(&mut self, from: u64) -> Result<(u64, u64), ContractError> {
        match self.log_reads.in_flight {
            Some((asked, to)) if asked == from => {
                self.log_reads.in_flight = None;
                Ok((asked, to))
            }
            asked => Err(ContractError::UnexpectedLogRead { from, asked }),
        }
    }

    /// Rule (log read answered): the leader sends every follower what it is missing, now
    /// that the payloads are back.
    fn send_read_payloads(&mut self) {
        if self.role == Role::Leader {
            self.replicate_to_all();
        }
    }

    /// Rule (log read error, applying): committed entries whose payloads could not be read
    /// back are asked for again at the next tick.
    pub(super) fn hand_out_after_failed_read(&mut self) {
        if self.log_reads.in_flight.is_none() && self.commit_index > self.apply_handed_out {
            self.hand_out_committed();
        }
    }

    /// Drops the payloads past the cache bound at the end of an input (see the module
    /// documentation): only of entries both durable and applied.
    pub(super) fn evict_cached_payloads(&mut self) {
        if let Some(bound) = self.config.log_cache_bytes {
            let limit = self.applied_index.min(self.outbox.durable_index());
            self.log.evict_payloads(limit, bound);
        }
    }

    /// Entry payload bytes this node holds in memory: its log's, and those read back.
    pub fn cached_payload_bytes(&self) -> usize {
        self.log.payload_bytes() + self.log_reads.bytes()
    }

    /// The last index whose payload left memory (the log's start index when none did).
    pub fn payloads_evicted_through(&self) -> u64 {
        self.log.evicted_through()
    }

    /// Planted bug `read-error-ends-log`: the failed read is taken for the end of what
    /// storage holds, and each follower waiting for those entries gets the entries still in
    /// memory after them, sent after its last confirmed match (openraft #1795).
    #[cfg(feature = "planted-bugs")]
    fn send_past_unreadable_entries(&mut self, from: u64, to: u64) {
        use crate::message::Message;
        let Some((followers, replicator)) = self.replicator() else {
            return;
        };
        for (&peer, progress) in followers.iter() {
            if progress.next_index < from || progress.next_index > to {
                continue;
            }
            let log = replicator.log;
            let prev_index = progress.match_index.max(log.start_index());
            let mut append = replicator.heartbeat_from(prev_index + 1);
            let after = log.evicted_through() + 1;
            let term = log.term_at(after);
            append.entries = log
                .slice(
                    after,
                    after + replicator.config.max_entries_per_message as u64 - 1,
                )
                .iter()
                .take_while(|e| Some(e.term) == term)
                .cloned()
                .collect();
            replicator
                .outbox
                .send_unattested(peer, Message::AppendEntries(append));
        }
    }

    #[cfg(not(feature = "planted-bugs"))]
    fn send_past_unreadable_entries(&mut self, _from: u64, _to: u64) {}
}
