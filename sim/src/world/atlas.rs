//! The storage fault atlas (after TigerBeetle's `src/testing/storage.zig`): which disk damage
//! a run may suffer. Damage may strike any node, the leader, several nodes over the run, and
//! the WAL (bit flips, zeroed sectors, lost and misdirected writes), the snapshot, the
//! peer-state file or a copy of the term/vote record.
//!
//! A strike arms damage on the node's disk; the bytes are damaged when the node next boots
//! (at once with `then_crash`), which is when damage to synced data matters: a running node
//! works from memory. That is also when the atlas can judge it, knowing what the node will
//! answer for. *Invariant (default):* every strike the atlas lets through leaves
//! - the voters holding unrepaired damage (armed, or repairing) a minority of the voters, so
//!   every committing quorum meets an intact disk, which holds an intact copy of every
//!   committed entry; and
//! - the log the damaged node answers for no further ahead than the most up-to-date intact
//!   voter's durable log, so that voter can still win its vote (a repairing node does not
//!   campaign; uncommitted entries only it held would otherwise block every election);
//! - an intact copy of every node's term/vote record (a boot rewrites a damaged copy from
//!   the other, so only damage to both before one boot could lose it).
//!
//! A strike that would break either is declined (its bytes are restored) and traced.
//! With `Faults::damage_every_copy` each strike damages every node at once and restarts them
//! all, unchecked: copies of committed entries may be gone everywhere, and the cluster must
//! halt rather than serve a log without them.

use super::recovery::read_disk;
use super::repair::DiskDamage;
use super::World;
use crate::app::Application;
use crate::decisions::Key;
use crate::disk::Disk;
use crate::event;
use crate::faults::DamagedFile;
use raft_core::Node;

impl<A: Application> World<A> {
    /// A [`crate::faults::Fault::Corrupt`] fires.
    pub(super) fn strike(
        &mut self,
        node: usize,
        leader: bool,
        file: DamagedFile,
        then_crash: bool,
    ) {
        if self.config.faults.damage_every_copy {
            for n in 0..self.config.nodes {
                let before = self.hosts[n].disk.wal.clone();
                let mut what = self.damage(n, file, 0);
                if undetected_wal_damage(&before, &self.hosts[n].disk.wal) {
                    self.hosts[n].disk.wal = before;
                    what += " declined: recovery could not tell it";
                }
                if file == DamagedFile::TermVote {
                    // Every copy of the record is gone: the node will not start, and the
                    // checkers must know the nemesis is why.
                    self.checks.damaged(n);
                }
                self.record(event!(self.now, Some(n), "fault", what = what));
                if !self.hosts[n].damage.unrepaired() {
                    self.hosts[n].damage = DiskDamage::Latent;
                }
            }
            for n in 0..self.config.nodes {
                self.crash(n, self.config.tick_us);
            }
            return;
        }
        let node = match (leader, self.current_leader()) {
            (true, Some(l)) => l,
            _ => node,
        };
        if let Some(why) = self.too_many_damaged(node) {
            self.record(event!(
                self.now,
                Some(node),
                "fault",
                what = format!("corrupt {file} declined: {why}")
            ));
            return;
        }
        let host = &mut self.hosts[node];
        host.armed_damage.push(file);
        if !host.damage.unrepaired() {
            host.damage = DiskDamage::Latent;
        }
        self.record(event!(
            self.now,
            Some(node),
            "fault",
            what = format!("corrupt {file} armed")
        ));
        if then_crash {
            self.crash(node, self.config.tick_us);
        }
    }

    /// At a boot: damages the bytes the strikes armed, unless the atlas declines what the
    /// node would then answer for (the bytes are restored).
    pub(super) fn apply_armed_damage(&mut self, node: usize) {
        let armed = std::mem::take(&mut self.hosts[node].armed_damage);
        if armed.is_empty() {
            return;
        }
        let before = self.hosts[node].disk.clone();
        let what: Vec<String> = armed
            .iter()
            .enumerate()
            .map(|(i, &file)| self.damage(node, file, i as u64))
            .collect();
        let what = what.join(", ");
        let undetected =
            undetected_wal_damage(&before.wal, &self.hosts[node].disk.wal).then(|| {
                "recovery could not tell it, or not all of it (a misdirected write)".to_string()
            });
        match undetected.or_else(|| self.declines_at_boot(node)) {
            Some(why) => {
                self.hosts[node].disk = before;
                if self.hosts[node].damage == DiskDamage::Latent {
                    self.hosts[node].damage = DiskDamage::Intact;
                }
                self.record(event!(
                    self.now,
                    Some(node),
                    "fault",
                    what = format!("{what} declined: {why}")
                ));
            }
            None => {
                self.checks.damaged(node);
                self.record(event!(self.now, Some(node), "fault", what = what));
            }
        }
    }

    /// Why damaging `node` could leave a committed entry without an intact copy: its
    /// damage would make the voters holding unrepaired damage half or more of some
    /// membership a running node counts with, or a disaster's survivors hold the only
    /// copies.
    ///
    /// Judged against each membership, not their union: a removed node that never learnt
    /// its removal keeps an old, larger membership, and a change in flight has two sides,
    /// so the union may hold more voters than the membership that commits. Seed 6274 (as
    /// drawn before message bytes crossed the wire; the planted simulator bug
    /// `damage-judged-on-a-union-of-memberships` and its fixture keep it) damaged n3,
    /// the leader of the two voters {n1,n3}, because the union, with a removed n0's stale
    /// membership, held four: n1 alone could not win, and nothing was committed again.
    fn too_many_damaged(&self, node: usize) -> Option<String> {
        if self.disaster_recovery_in_progress() {
            // The lost majority holds no copies: the survivors' are the only ones left.
            return Some("a disaster's recovery is under way".into());
        }
        if self.sim_bug(crate::planted::SimBug::DamageJudgedOnAUnionOfMemberships) {
            return self.too_many_damaged_in_the_union(node);
        }
        let damaged = self.unrepaired_damage() | (1 << node);
        self.memberships_now()
            .into_iter()
            .filter(|voters| voters & (1 << node) != 0)
            .find_map(|voters| {
                let (hit, count) = ((damaged & voters).count_ones(), voters.count_ones());
                (hit * 2 >= count).then(|| {
                    format!(
                        "{hit} of the {count} voters {} would hold unrepaired damage",
                        crate::checkers::masks::fmt_mask(voters)
                    )
                })
            })
    }

    /// The planted simulator bug: damaged voters counted against the union of the
    /// memberships.
    fn too_many_damaged_in_the_union(&self, node: usize) -> Option<String> {
        let voters = self.voters_now();
        if voters & (1 << node) == 0 {
            return None;
        }
        let damaged = (0..self.config.nodes)
            .filter(|&n| n != node && voters & (1 << n) != 0 && self.hosts[n].damage.unrepaired())
            .count()
            + 1;
        let count = voters.count_ones() as usize;
        (damaged * 2 >= count)
            .then(|| format!("{damaged} of the {count} voters would hold unrepaired damage"))
    }

    /// The distinct voter sets (masks) running nodes count with; when no node runs, the
    /// initial membership.
    fn memberships_now(&self) -> Vec<u64> {
        let mut masks: Vec<u64> = Vec::new();
        for raft in self.hosts.iter().filter_map(|h| h.node.as_ref()) {
            let mask = super::voters_mask(raft);
            if mask != 0 && !masks.contains(&mask) {
                masks.push(mask);
            }
        }
        if masks.is_empty() {
            masks.push((1u64 << (self.config.nodes - self.config.faults.spare_nodes)) - 1);
        }
        masks
    }

    /// The atlas's judgement at the boot of a damaged node: an intact copy of its term/vote
    /// record and, for a voter, still a minority damaged and the log it would answer for no
    /// further ahead than some intact voter's durable log.
    fn declines_at_boot(&self, node: usize) -> Option<String> {
        if let Some(why) = self.too_many_damaged(node) {
            return Some(why);
        }
        let read = match read_disk(&self.hosts[node].disk) {
            // The term/vote record is lost only if every copy is: the default atlas keeps one.
            Err(why) => return Some(why),
            Ok(read) => read,
        };
        let voters = self.voters_now();
        if voters & (1 << node) == 0 {
            return None;
        }
        let damage = read.damage?;
        let best = (0..self.config.nodes)
            .filter(|&n| n != node && voters & (1 << n) != 0 && !self.hosts[n].damage.unrepaired())
            .filter_map(|n| self.hosts[n].node.as_ref().map(durable_position))
            .max()
            .unwrap_or((0, 0));
        (best < damage.position()).then(|| {
            format!(
                "it would answer for a log ({damage}) ahead of every intact voter's (best {}@t{})",
                best.1, best.0
            )
        })
    }

    /// The nodes holding damage they have not repaired (a mask): a membership change must
    /// leave the others a majority, or no correct core could stay live.
    pub(super) fn unrepaired_damage(&self) -> u64 {
        (0..self.config.nodes)
            .filter(|&n| self.hosts[n].damage.unrepaired())
            .fold(0, |mask, n| mask | (1 << n))
    }

    /// The voters (a mask) of any running node's membership: the union, so a node any
    /// membership counts is a voter here.
    pub(super) fn voters_now(&self) -> u64 {
        let union = self
            .hosts
            .iter()
            .filter_map(|h| h.node.as_ref())
            .fold(0, |mask, raft| mask | super::voters_mask(raft));
        if union == 0 {
            (1u64 << (self.config.nodes - self.config.faults.spare_nodes)) - 1
        } else {
            union
        }
    }

    /// Damages one file of `node`'s disk; says what, for the trace. The draw is a recorded
    /// decision keyed by the node and the time (plus `nth`, the strike's place among those
    /// applied at one boot).
    fn damage(&mut self, node: usize, file: DamagedFile, nth: u64) -> String {
        let key = Key::Corruption {
            node: node as u8,
            at: self.now + nth,
        };
        let draw = match file {
            DamagedFile::Wal => self.decisions.corruption(key, Disk::draw_wal_corruption),
            _ => self.decisions.corruption(key, Disk::draw_corruption),
        };
        let disk = &mut self.hosts[node].disk;
        let what = match file {
            DamagedFile::Wal => disk.corrupt_synced(draw),
            DamagedFile::Snapshot => disk.snapshot.corrupt_durable(draw),
            DamagedFile::PeerState => disk.peers.corrupt_durable(draw),
            DamagedFile::TermVote => {
                disk.corrupt_term_vote(draw, self.config.faults.damage_every_copy)
            }
        };
        match (file, what) {
            (DamagedFile::Wal, Some(what)) => format!("corrupt {what}"),
            (file, Some(what)) => format!("corrupt {file} {what}"),
            (DamagedFile::Wal, None) => "corrupt nothing synced yet".to_string(),
            (file, None) => format!("corrupt {file}: never written"),
        }
    }
}

/// (term, index) of the last entry a node's disk holds (its snapshot's when the log after it
/// is empty).
pub(super) fn durable_position(raft: &Node) -> (u64, u64) {
    let index = raft.durable_index();
    let term = raft
        .entry(index)
        .map(|e| e.term)
        .or_else(|| {
            raft.snapshot()
                .filter(|s| s.meta.index == index)
                .map(|s| s.meta.term)
        })
        .unwrap_or(0);
    (term, index)
}

/// Damage to the WAL that recovery would not see, or not all of: the bytes changed, yet
/// recovery reads no damaged record, reads the log as starting elsewhere, or answers for less
/// than the log held. Only a misdirected write does that (checksums cover a record's bytes,
/// not its place): a record that links where it landed, one that landed on the first record,
/// which recovery reads as a log starting after a snapshot, or a copy of early records laid
/// over the tail, whose end recovery takes for the end of the log (seed 478: a node holding
/// 38 entries answered for 8, and entries a quorum acknowledged were left on one voter).
fn undetected_wal_damage(
    before: &crate::disk::AppendFile,
    after: &crate::disk::AppendFile,
) -> bool {
    if before.bytes() == after.bytes() {
        return false;
    }
    let (was, now) = (
        raft_core::storage::recover_wal(before.bytes()),
        raft_core::storage::recover_wal(after.bytes()),
    );
    // What each answers for; `u64::MAX` as the durable term keeps an unknown end unbeaten.
    let held = |wal: &raft_core::storage::WalRecovery| {
        wal.damage(u64::MAX)
            .map_or((wal.last_term(), wal.last_index()), |d| d.position())
    };
    was.log_start != now.log_start
        || !matches!(now.verdict, raft_core::storage::WalVerdict::Corrupt { .. })
        || held(&now) < held(&was)
}
