//! The host's side of a bounded log cache (`raft_core::Action::ReadLog`, drawn by
//! `crate::log_read_errors`): a leader asks for entries whose payloads left its memory, and the
//! host reads them back from its simulated WAL, as a real host reads its log file.
//!
//! Architecture invariant: a read answers only with what the WAL holds (its bytes decoded
//! from its intact records, synced or not, as a read through the page cache sees them); a
//! read the fault draws as failed, or one that finds the WAL damaged or without the
//! entries, is answered as a read error, and the node must send nothing built on it. A read
//! takes a minimum fsync's time; a crash loses it with the node's life.

use super::events::Event;
use super::World;
use crate::app::Application;
use crate::event;
use raft_core::storage;

impl<A: Application> World<A> {
    /// A node asked to read its log's entries `from..=to`: the answer comes after a disk
    /// access.
    pub(super) fn submit_log_read(&mut self, node: usize, from: u64, to: u64) {
        let incarnation = self.hosts[node].incarnation;
        let at = self.now + self.config.fsync_min_us;
        self.schedule(
            at,
            Event::LogRead {
                node,
                incarnation,
                from,
                to,
            },
        );
    }

    /// The read is done: the node gets the entries, or the read error.
    pub(super) fn on_log_read(&mut self, node: usize, incarnation: u64, from: u64, to: u64) {
        let now = self.now;
        let host = &mut self.hosts[node];
        if host.incarnation != incarnation || host.node.is_none() {
            return;
        }
        let read = host.log_reads;
        host.log_reads += 1;
        let ppm = self.config.log_cache.map_or(0, |c| c.read_error_ppm);
        let injected =
            crate::log_read_errors::read_fails(self.config.seed, node, incarnation, read, ppm);
        let entries = if injected {
            None
        } else {
            read_wal(host.disk.wal.bytes(), from, to)
        };
        let Some(raft) = host.node.as_mut() else {
            return;
        };
        let answer = match entries {
            Some(entries) => {
                let count = entries.len();
                let answer = raft.log_read(from, entries);
                self.record(event!(
                    now,
                    Some(node),
                    "log-read",
                    from = from,
                    entries = count
                ));
                answer
            }
            None => {
                let answer = raft.log_read_failed(from);
                let reason = if injected { "EIO" } else { "not in the WAL" };
                self.stats.fault("log-read-error");
                self.record(event!(
                    now,
                    Some(node),
                    "log-read-error",
                    from = from,
                    reason = reason
                ));
                answer
            }
        };
        match answer {
            Ok(actions) => self.execute(node, actions),
            Err(e) => panic!("simulated host broke the log-read contract: {e}"),
        }
    }
}

/// The entries `from..=to` the WAL holds in intact records (the latest record holding an
/// index wins: a repair's rewrite follows the damaged record it replaces), as far as they
/// run without a gap; `None` when the first is in no intact record (a read error: a
/// checksum that fails, or entries compacted away).
fn read_wal(wal: &[u8], from: u64, to: u64) -> Option<Vec<raft_core::Entry>> {
    let width = usize::try_from(to.checked_sub(from)?)
        .ok()?
        .checked_add(1)?;
    let mut slots: Vec<Option<raft_core::Entry>> = vec![None; width.min(1 << 16)];
    // Only the entries in range are copied out of the records (each record is still
    // checked whole), so a read costs the WAL's checksums, not a decode of every payload.
    storage::intact_wal_entries_in(wal, from, to, |entry| {
        if let Some(slot) = entry
            .index
            .checked_sub(from)
            .and_then(|i| slots.get_mut(usize::try_from(i).ok()?))
        {
            *slot = Some(entry);
        }
    });
    let entries: Vec<raft_core::Entry> = slots.into_iter().map_while(|e| e).collect();
    (!entries.is_empty()).then_some(entries)
}

#[cfg(test)]
mod tests {
    use super::*;
    use raft_core::Entry;

    #[test]
    fn a_read_answers_what_the_wal_holds_and_fails_on_what_it_does_not() {
        let entries: Vec<Entry> = (4..=9)
            .map(|i| Entry::normal(2, i, format!("e{i}")))
            .collect();
        let wal = storage::encode_wal_append(3, 1, &entries, 0).unwrap();
        let read = read_wal(&wal, 5, 7).unwrap();
        assert_eq!(read, entries[1..=3].to_vec());
        assert_eq!(read_wal(&wal, 8, 20).unwrap(), entries[4..].to_vec());
        assert_eq!(read_wal(&wal, 3, 5), None, "compacted away");
        assert_eq!(read_wal(&wal, 10, 12), None, "beyond the log");
        let mut damaged = wal.clone();
        let last = damaged.len() - 3;
        damaged[last] ^= 0xff;
        assert_eq!(read_wal(&damaged, 5, 7), None, "the only record is damaged");
        let mut repaired = damaged.clone();
        let rewrite = storage::encode_wal_append(4, 2, &entries[1..3], 0).unwrap();
        repaired.extend_from_slice(&rewrite);
        assert_eq!(
            read_wal(&repaired, 5, 7).unwrap(),
            entries[1..3].to_vec(),
            "a rewrite after the damage is read; the entry it lacks is not"
        );
    }
}
