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
use crate::disk::AppendFile;
use crate::event;

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
            read_wal(&mut host.disk.wal, from, to)
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
/// run without a gap and at most 65,536 of them; `None` when the first is in no intact
/// record (a read error: a checksum that fails, or entries compacted away).
fn read_wal(wal: &mut AppendFile, from: u64, to: u64) -> Option<Vec<raft_core::Entry>> {
    let width = to.checked_sub(from)?.min((1 << 16) - 1);
    let entries = wal.read_entries(from, from + width);
    (!entries.is_empty()).then_some(entries)
}

#[cfg(test)]
mod tests {
    use super::*;
    use raft_core::{storage, Entry};

    fn read_image(wal: &[u8], from: u64, to: u64) -> Option<Vec<Entry>> {
        let mut file = AppendFile::default();
        file.append(wal);
        read_wal(&mut file, from, to)
    }

    #[test]
    fn a_read_answers_what_the_wal_holds_and_fails_on_what_it_does_not() {
        let entries: Vec<Entry> = (4..=9)
            .map(|i| Entry::normal(2, i, format!("e{i}")))
            .collect();
        let wal = storage::encode_wal_append(3, 1, &entries, 0).unwrap();
        let got = read_image(&wal, 5, 7).unwrap();
        assert_eq!(got, entries[1..=3].to_vec());
        assert_eq!(read_image(&wal, 8, 20).unwrap(), entries[4..].to_vec());
        assert_eq!(read_image(&wal, 3, 5), None, "compacted away");
        assert_eq!(read_image(&wal, 10, 12), None, "beyond the log");
        let mut damaged = wal.clone();
        let last = damaged.len() - 3;
        damaged[last] ^= 0xff;
        assert_eq!(
            read_image(&damaged, 5, 7),
            None,
            "the only record is damaged"
        );
        let mut repaired = damaged.clone();
        let rewrite = storage::encode_wal_append(4, 2, &entries[1..3], 0).unwrap();
        repaired.extend_from_slice(&rewrite);
        assert_eq!(
            read_image(&repaired, 5, 7).unwrap(),
            entries[1..3].to_vec(),
            "a rewrite after the damage is read; the entry it lacks is not"
        );
    }
}
