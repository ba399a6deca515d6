//! A node loses the disk holding its log ([`crate::faults::Fault::LoseLog`], drawn by
//! `crate::disk_loss`): the WAL and the snapshot file are gone, the term/vote and peer-state
//! files survive, and the node boots with an empty log after its downtime.
//!
//! *Invariant:* a loss strikes only a running node, not repairing damage, outside a
//! disaster's recovery, and only while the entry at the end of its durable log (and so, by
//! log matching, every entry it may have acknowledged) is held durably by a majority of the
//! voters of every membership that counts it, without it. Otherwise a quorum that counted
//! its acknowledgement could be left without a committed entry, which no Raft survives: the
//! loss is declined and traced. Its term and vote survive, so it never votes twice in a term.
//!
//! "Every membership that counts it" is every membership a running node's log holds, not
//! only the one in effect: an earlier one is back in effect when a change in flight is
//! truncated, it is the one that committed the entries before the change (seed 9380: the
//! voters {n1,n2} committed index 81, then n2 appended the addition of n0 and lost its log,
//! leaving 81 on one of the two; seed 2026: n2, removed by a change in flight, lost its
//! log while the voters {n0,n1,n2} had committed 117 on n0 and n2 only, the leader n1 down
//! before its own write of it was synced), and a follower the leader catches up from an empty log
//! passes through every one of them (seed 9472: two observers that had been voters lost
//! their logs; the first, rebuilt from index 1, was a voter again in the initial membership,
//! where the second's empty log would grant it the vote the sole voter refused). Judging
//! only the latest ones is the planted simulator bug
//! `log-loss-judged-on-current-memberships`. A node that is down holds nothing here.
//! Once it boots, its leader must notice the empty log (a rejection below the match index)
//! and bring it back by appends or a snapshot.

use super::{mask_of, voters_mask, Status, World};
use crate::app::Application;
use crate::config::Micros;
use crate::disk::{AppendFile, AtomicFile};
use crate::event;
use crate::faults::Target;
use raft_core::Node;

impl<A: Application> World<A> {
    /// A [`crate::faults::Fault::LoseLog`] fires.
    pub(super) fn lose_log(&mut self, target: Target, down_us: Micros) {
        let node = self.resolve(target);
        if let Some(why) = self.log_loss_declined(node) {
            let what = format!("lose the log declined: {why}");
            self.record(event!(self.now, Some(node), "fault", what = what));
            return;
        }
        self.crash(node, down_us);
        let disk = &mut self.hosts[node].disk;
        disk.wal = AppendFile::default();
        disk.snapshot = AtomicFile::default();
        self.checks.log_lost(node);
        self.stats.fault("log-lost");
        let what = "log and snapshot lost, term and vote kept";
        self.record(event!(self.now, Some(node), "fault", what = what));
    }

    /// Why `node` may not lose its log now (see the module's invariant).
    fn log_loss_declined(&self, node: usize) -> Option<String> {
        if self.sim_bug(crate::planted::SimBug::LogLossUnguarded) {
            return None;
        }
        let host = &self.hosts[node];
        let raft = match (&host.status, host.node.as_ref()) {
            (Status::Up | Status::Paused, Some(raft)) => raft,
            _ => return Some("the node is not running".into()),
        };
        if host.damage.unrepaired() || raft.repairing().is_some() {
            return Some("the node is repairing damage".into());
        }
        if self.disaster_recovery_in_progress() {
            return Some("a disaster's recovery is under way".into());
        }
        let (term, index) = super::atlas::durable_position(raft);
        let latest_only = self.sim_bug(crate::planted::SimBug::LogLossJudgedOnCurrentMemberships);
        let mut memberships: Vec<u64> = Vec::new();
        for raft in self.hosts.iter().filter_map(|h| h.node.as_ref()) {
            let masks: Vec<u64> = if latest_only {
                vec![voters_mask(raft)]
            } else {
                raft.voters_of_log_memberships()
                    .map(|voters| mask_of(voters.iter().copied()))
                    .collect()
            };
            for mask in masks {
                if mask & (1 << node) != 0 && !memberships.contains(&mask) {
                    memberships.push(mask);
                }
            }
        }
        memberships.into_iter().find_map(|voters| {
            let holders = (0..self.hosts.len())
                .filter(|&n| n != node && voters & (1 << n) != 0)
                .filter(|&n| !self.hosts[n].damage.unrepaired())
                .filter(|&n| {
                    self.hosts[n]
                        .node
                        .as_ref()
                        .is_some_and(|other| holds_durably(other, term, index))
                })
                .count() as u32;
            let count = voters.count_ones();
            (holders * 2 <= count).then(|| {
                format!(
                    "only {holders} of the voters {} without it hold its log through {index}@t{term}",
                    crate::checkers::masks::fmt_mask(voters)
                )
            })
        })
    }
}

/// Whether `raft`'s disk holds the entry `index`@`term`: in its durable log, or in its
/// snapshot (which holds only committed entries, and a committed entry at `index` is the one
/// every log that holds `index` from a committing quorum has).
fn holds_durably(raft: &Node, term: u64, index: u64) -> bool {
    if index == 0 {
        return true;
    }
    if let Some(s) = raft.snapshot() {
        if s.meta.index > index || (s.meta.index == index && s.meta.term == term) {
            return true;
        }
    }
    raft.durable_index() >= index && raft.entry(index).is_some_and(|e| e.term == term)
}
