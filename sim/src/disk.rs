//! A node's virtual disk. It holds bytes, not Raft state: raft-core's storage code encodes what
//! is written and decides what the bytes mean on recovery, exactly as it would on real files.
//!
//! Fault model:
//! - writes are volatile until fsync; a crash loses unsynced bytes, except that the disk may
//!   already have written a sector-aligned prefix of them (a torn write) or all of them;
//! - the term/vote file is replaced atomically (write temp, fsync, rename, fsync directory); a
//!   crash after the rename but before the directory fsync may or may not keep the new file;
//! - synced data can be damaged later: a flipped bit or a zeroed 512-byte sector, in the WAL
//!   or in the durable copy of a small file, or a lost or misdirected WAL write
//!   (`lost_writes.rs`) (which file, and on which node, is the fault atlas's choice:
//!   `world/atlas.rs`);
//! - reading the disk at recovery can fail (a transient read error).

use crate::decisions::{CorruptionDraw, PowerLossDraw, Unsynced};
use crate::rng::{Ppm, Stream};
use raft_core::storage::WalIndex;
use raft_core::Entry;

mod lost_writes;

pub const SECTOR: usize = 512;

/// An append-only file (the WAL).
#[derive(Clone, Debug, Default)]
pub struct AppendFile {
    data: Vec<u8>,
    synced_len: usize,
    /// Where each write landed (start, end), in order: what a lost or misdirected write
    /// picks from.
    writes: Vec<(usize, usize)>,
    /// Which record holds each entry, for reads by index ([`AppendFile::read_entries`]):
    /// what a real host keeps in memory beside its log file. Grown as bytes are appended;
    /// every other change of the bytes starts it afresh.
    index: WalIndex,
}

impl AppendFile {
    /// Appends bytes (volatile until synced); returns the new end offset.
    pub fn append(&mut self, bytes: &[u8]) -> usize {
        let start = self.data.len();
        self.data.extend_from_slice(bytes);
        if !bytes.is_empty() {
            self.writes.push((start, self.data.len()));
        }
        self.data.len()
    }

    /// fsync up to `offset` (writes are ordered, so this syncs everything before it).
    pub fn sync_to(&mut self, offset: usize) {
        self.synced_len = self.synced_len.max(offset.min(self.data.len()));
    }

    pub fn bytes(&self) -> &[u8] {
        &self.data
    }

    /// The entries `from..=to` the file's intact records hold (the last record holding an
    /// index wins), as far as they run without a gap: what
    /// [`raft_core::storage::intact_wal_records`] holds, without checking every record of
    /// the file per read.
    pub fn read_entries(&mut self, from: u64, to: u64) -> Vec<Entry> {
        self.index.catch_up(&self.data);
        self.index.entries(&self.data, from, to)
    }

    /// The bytes are about to change other than by an append.
    fn rewriting(&mut self) -> &mut Vec<u8> {
        self.index = WalIndex::default();
        &mut self.data
    }

    pub fn len(&self) -> usize {
        self.data.len()
    }

    pub fn is_empty(&self) -> bool {
        self.data.is_empty()
    }

    pub fn synced_len(&self) -> usize {
        self.synced_len
    }

    /// Replaces the whole file with `bytes`, durably (the atomic replace of a compacted WAL,
    /// done when its persist completes).
    pub fn replace(&mut self, bytes: Vec<u8>) {
        self.synced_len = bytes.len();
        self.writes = if bytes.is_empty() {
            Vec::new()
        } else {
            vec![(0, bytes.len())]
        };
        *self.rewriting() = bytes;
    }

    /// Flips the low bit of the byte at `offset` (scripted damage).
    pub fn flip_bit(&mut self, offset: usize) {
        if let Some(byte) = self.rewriting().get_mut(offset) {
            *byte ^= 1;
        }
    }

    /// Drops everything after `len` (the host cutting off a torn tail after recovery).
    pub fn truncate(&mut self, len: usize) {
        self.rewriting().truncate(len);
        self.synced_len = self.synced_len.min(len);
        self.writes.retain(|&(start, _)| start < len);
        if let Some(last) = self.writes.last_mut() {
            last.1 = last.1.min(len);
        }
    }
}

/// A small file replaced atomically (term/vote, peer state).
#[derive(Clone, Debug, Default)]
pub struct AtomicFile {
    durable: Vec<u8>,
    /// A replacement in progress: the temp file is written; `renamed` once the rename happened
    /// (but the directory is not yet synced).
    pending: Option<(Vec<u8>, bool)>,
}

impl AtomicFile {
    pub fn begin_replace(&mut self, bytes: Vec<u8>) {
        self.pending = Some((bytes, false));
    }

    /// The rename step (temp over the real name); not durable until [`AtomicFile::complete`].
    pub fn rename(&mut self) {
        if let Some(pending) = self.pending.as_mut() {
            pending.1 = true;
        }
    }

    /// The directory fsync: the new content is durable.
    pub fn complete(&mut self) {
        if let Some((bytes, _)) = self.pending.take() {
            self.durable = bytes;
        }
    }

    pub fn bytes(&self) -> &[u8] {
        &self.durable
    }
}

/// What a crash did to the disk, for the trace.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct CrashEffect {
    pub unsynced_bytes: usize,
    pub kept_bytes: usize,
    pub torn: bool,
    pub rename_survived: Option<bool>,
}

/// One node's disk.
#[derive(Clone, Debug, Default)]
pub struct Disk {
    pub wal: AppendFile,
    /// The term/vote file (`tav.idx`) and its copy (`tav.idx.copy`), written with the same
    /// bytes one after the other in each persist (see `raft_core::storage::recover_term_vote`).
    pub term_vote: AtomicFile,
    pub term_vote_copy: AtomicFile,
    /// The peer-state file (`peers.idx`), replaced atomically like the term/vote file.
    pub peers: AtomicFile,
    /// The newest snapshot file, replaced atomically.
    pub snapshot: AtomicFile,
    /// The damage file (`repair.idx`): the log a repairing node answers for, written at the
    /// boot that found damage and emptied at the repair (each a completed atomic replace).
    pub repair: AtomicFile,
    /// The membership-bound file (`members.idx`, `raft_core::storage`): an index at or above
    /// every entry that changed the membership, replaced (a completed atomic replace) before
    /// the WAL bytes of such an entry are written.
    pub members: AtomicFile,
    /// Set by a read-error fault: the next recovery read fails.
    pub read_error_armed: bool,
}

impl Disk {
    /// The random part of a power loss (see [`Disk::crash`]): torn with probability
    /// `torn_ppm`, else kept whole one time in four, else lost; each renamed small file
    /// survives one time in two. Every part is drawn whatever the others came to.
    pub fn draw_power_loss(rng: &mut Stream, torn_ppm: Ppm) -> PowerLossDraw {
        let torn = rng.chance(torn_ppm);
        let kept = rng.chance(250_000);
        let roll = rng.next_u64();
        let unsynced = if torn {
            Unsynced::Torn { roll }
        } else if kept {
            Unsynced::Kept
        } else {
            Unsynced::Lost
        };
        let mut renames_kept = 0;
        for file in 0..3 {
            if rng.chance(500_000) {
                renames_kept |= 1 << file;
            }
        }
        PowerLossDraw {
            unsynced,
            renames_kept,
        }
    }

    /// Power loss. Unsynced WAL bytes are lost, except that a sector-aligned prefix of them
    /// may survive (a torn write) or all of them (the disk wrote them before dying); a small
    /// file renamed into place but not yet made durable by the directory fsync may survive.
    /// `draw` says which ([`Disk::draw_power_loss`]).
    pub fn crash(&mut self, draw: PowerLossDraw) -> CrashEffect {
        let wal = &mut self.wal;
        let unsynced = wal.data.len() - wal.synced_len;
        let mut effect = CrashEffect {
            unsynced_bytes: unsynced,
            ..CrashEffect::default()
        };
        if unsynced > 0 {
            let keep_to = match draw.unsynced {
                Unsynced::Torn { roll } => {
                    // Sector boundaries strictly inside the unsynced region.
                    let first = wal.synced_len / SECTOR + 1;
                    let last = (wal.data.len() - 1) / SECTOR;
                    if first <= last {
                        effect.torn = true;
                        (first + (roll % (last - first + 1) as u64) as usize) * SECTOR
                    } else {
                        wal.synced_len
                    }
                }
                Unsynced::Kept => wal.data.len(),
                Unsynced::Lost => wal.synced_len,
            };
            wal.truncate(keep_to);
            effect.kept_bytes = keep_to - wal.synced_len;
        }
        wal.synced_len = wal.data.len();
        // The copy is renamed right after the term/vote file, in the same directory: it
        // survives with it (the draw has one bit per directory entry written in a persist).
        let files = [
            (&mut self.term_vote, 0),
            (&mut self.term_vote_copy, 0),
            (&mut self.peers, 1),
            (&mut self.snapshot, 2),
        ];
        for (file, i) in files {
            if let Some((bytes, renamed)) = file.pending.take() {
                if renamed {
                    let survived = draw.renames_kept & (1 << i) != 0;
                    if survived {
                        file.durable = bytes;
                    }
                    effect.rename_survived = Some(survived);
                }
            }
        }
        effect
    }

    /// The random part of a corruption (see [`Disk::corrupt_synced`]): a bit flip or a
    /// zeroed sector, one time in two each.
    pub fn draw_corruption(rng: &mut Stream) -> CorruptionDraw {
        let flip = rng.chance(500_000);
        let roll = rng.next_u64();
        let bit = rng.below(8) as u8;
        if flip {
            CorruptionDraw::BitFlip { roll, bit }
        } else {
            CorruptionDraw::ZeroSector { roll }
        }
    }

    /// The random part of damage to the WAL: as [`Disk::draw_corruption`], then one time in
    /// four a lost write and one in four a misdirected one instead (drawn last, so the other
    /// half are the bit flips and zeroed sectors the same stream always drew).
    pub fn draw_wal_corruption(rng: &mut Stream) -> CorruptionDraw {
        let bytes = Disk::draw_corruption(rng);
        let roll = match bytes {
            CorruptionDraw::BitFlip { roll, .. } | CorruptionDraw::ZeroSector { roll } => roll,
            other => return other,
        };
        match rng.below(4) {
            0 => CorruptionDraw::LostWrite { roll },
            1 => CorruptionDraw::MisdirectedWrite {
                roll,
                target: rng.next_u64(),
            },
            _ => bytes,
        }
    }

    /// Damages synced WAL data as `draw` says: a flipped bit, or a zeroed sector, somewhere in
    /// the synced bytes, or a lost or misdirected write. Returns a description, or None when
    /// nothing is synced yet.
    pub fn corrupt_synced(&mut self, draw: CorruptionDraw) -> Option<String> {
        match draw {
            CorruptionDraw::LostWrite { roll } => self.wal.lose_write(roll),
            CorruptionDraw::MisdirectedWrite { roll, target } => {
                self.wal.misdirect_write(roll, target)
            }
            _ => {
                let synced = self.wal.synced_len;
                damage_bytes(&mut self.wal.rewriting()[..synced], draw)
            }
        }
    }
}

impl Disk {
    /// The bytes of the term/vote file's copies, in the order they are written.
    pub fn term_vote_copies(&self) -> [&[u8]; 2] {
        [self.term_vote.bytes(), self.term_vote_copy.bytes()]
    }

    /// Before the WAL bytes of `write`, which changed the membership: the membership-bound
    /// file covers every entry it holds (an index at or above the change; it only rises, so
    /// a truncation leaves it where it was).
    pub fn raise_membership_bound(&mut self, write: &raft_core::LogWrite) {
        let last = write.entries.last().map_or(write.prev_index, |e| e.index);
        // An unreadable file is left unreadable: the node must not learn a bound below an
        // entry it may have held.
        if let Ok(bound) = raft_core::storage::decode_membership_bound_file(self.members.bytes()) {
            if last > bound {
                self.members
                    .write_now(raft_core::storage::encode_membership_bound_file(last));
            }
        }
    }

    /// Writes the term/vote record to every copy at once (a host's completed replaces).
    pub fn write_term_vote_now(&mut self, bytes: Vec<u8>) {
        self.term_vote_copy.write_now(bytes.clone());
        self.term_vote.write_now(bytes);
    }
}

impl Disk {
    /// Damages one copy of the term/vote record (which one, the draw's high bits say), or
    /// both with `every_copy`. None when the record was never written.
    pub fn corrupt_term_vote(&mut self, draw: CorruptionDraw, every_copy: bool) -> Option<String> {
        let roll = match draw {
            CorruptionDraw::BitFlip { roll, .. }
            | CorruptionDraw::ZeroSector { roll }
            | CorruptionDraw::LostWrite { roll }
            | CorruptionDraw::MisdirectedWrite { roll, .. } => roll,
        };
        let names = raft_core::storage::TERM_VOTE_COPIES;
        let mut what = Vec::new();
        for (i, file) in [&mut self.term_vote, &mut self.term_vote_copy]
            .into_iter()
            .enumerate()
        {
            if every_copy || (roll >> 40) % 2 == i as u64 {
                if let Some(damage) = file.corrupt_durable(draw) {
                    what.push(format!("{} {damage}", names[i]));
                }
            }
        }
        (!what.is_empty()).then(|| what.join(", "))
    }
}

impl AtomicFile {
    /// Replaces the durable content at once: a write, fsync, rename and directory fsync
    /// the host completes before it goes on.
    pub fn write_now(&mut self, bytes: Vec<u8>) {
        self.pending = None;
        self.durable = bytes;
    }

    /// Damages the durable copy of the file as `draw` says (a flipped bit, or a zeroed
    /// sector); a replacement in progress is not touched. None when the file was never
    /// written.
    pub fn corrupt_durable(&mut self, draw: CorruptionDraw) -> Option<String> {
        damage_bytes(&mut self.durable, draw)
    }
}

/// A flipped bit or a zeroed 512-byte sector somewhere in `data`, as `draw` says.
fn damage_bytes(data: &mut [u8], draw: CorruptionDraw) -> Option<String> {
    let len = data.len();
    if len == 0 {
        return None;
    }
    match draw {
        CorruptionDraw::BitFlip { roll, bit } => {
            let offset = (roll % len as u64) as usize;
            data[offset] ^= 1 << (bit % 8);
            Some(format!("bit-flip@{offset}.{}", bit % 8))
        }
        CorruptionDraw::ZeroSector { roll } => {
            let sector = (roll % len.div_ceil(SECTOR) as u64) as usize;
            let start = sector * SECTOR;
            let end = (start + SECTOR).min(len);
            data[start..end].fill(0);
            Some(format!("zero-sector@{start}..{end}"))
        }
        // Drawn for the WAL only; a small file is one write: its first sector reads as zeros.
        CorruptionDraw::LostWrite { .. } | CorruptionDraw::MisdirectedWrite { .. } => {
            damage_bytes(data, CorruptionDraw::ZeroSector { roll: 0 })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn crash_keeps_synced_bytes() {
        let mut disk = Disk::default();
        let end = disk.wal.append(&[1; 100]);
        disk.wal.sync_to(end);
        disk.wal.append(&[2; 2000]);
        let mut rng = Stream::new(1, "t");
        disk.crash(Disk::draw_power_loss(&mut rng, 0));
        assert!(disk.wal.len() == 100 || disk.wal.len() == 2100);
        assert_eq!(&disk.wal.bytes()[..100], &[1; 100]);
    }

    #[test]
    fn torn_write_keeps_a_sector_aligned_prefix() {
        let mut torn_seen = false;
        for seed in 0..50 {
            let mut disk = Disk::default();
            let end = disk.wal.append(&[1; 100]);
            disk.wal.sync_to(end);
            disk.wal.append(&[2; 3000]);
            let effect = disk.crash(Disk::draw_power_loss(
                &mut Stream::new(seed, "t"),
                1_000_000,
            ));
            assert!(effect.torn);
            assert_eq!(disk.wal.len() % SECTOR, 0);
            assert!(disk.wal.len() > 100 && disk.wal.len() < 3100);
            torn_seen = true;
        }
        assert!(torn_seen);
    }

    #[test]
    fn rename_before_directory_sync_may_be_lost() {
        let mut outcomes = std::collections::BTreeSet::new();
        for seed in 0..40 {
            let mut disk = Disk::default();
            disk.term_vote.begin_replace(vec![1]);
            disk.term_vote.complete();
            disk.term_vote.begin_replace(vec![2]);
            disk.term_vote.rename();
            disk.crash(Disk::draw_power_loss(&mut Stream::new(seed, "t"), 0));
            outcomes.insert(disk.term_vote.bytes().to_vec());
        }
        assert_eq!(
            outcomes.into_iter().collect::<Vec<_>>(),
            vec![vec![1], vec![2]]
        );
    }

    #[test]
    fn corruption_only_touches_synced_data() {
        let mut disk = Disk::default();
        let draw = Disk::draw_corruption(&mut Stream::new(1, "t"));
        assert!(disk.corrupt_synced(draw).is_none());
        let end = disk.wal.append(&[7; 600]);
        disk.wal.sync_to(end);
        disk.wal.append(&[9; 600]);
        for seed in 0..20 {
            let mut copy = disk.clone();
            let draw = Disk::draw_corruption(&mut Stream::new(seed, "t"));
            copy.corrupt_synced(draw).unwrap();
            assert_eq!(&copy.wal.bytes()[600..], &[9; 600]);
            assert_ne!(&copy.wal.bytes()[..600], &[7; 600][..]);
        }
    }
}
