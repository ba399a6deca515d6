//! Membership from the log: a node's membership is a function of its log (the snapshot's
//! membership, then every membership entry after it), so that truncating or discarding the log
//! undoes the changes it held. Checked when a node's log starts at a new snapshot (its own
//! compaction or one it received), the step where an implementation may keep a membership the
//! log no longer implies (openraft #1808: an uncommitted change above a received snapshot's
//! index outlives the discarded log, and the node counts quorums in a configuration no log
//! holds).

use super::{Checkers, Property};
use crate::config::Micros;
use raft_core::{Entry, Membership, PeerState};

impl Checkers {
    /// `snapshot` is the membership of the snapshot the node's log now starts at, `log` the
    /// entries after it, and `current` the membership the node counts with.
    pub fn check_membership_from_log(
        &mut self,
        now: Micros,
        node: usize,
        snapshot: &PeerState,
        log: &[Entry],
        current: &Membership,
    ) {
        let implied = log
            .iter()
            .fold(Membership::from_peer_state(snapshot), |m, entry| {
                m.after_entry(entry).unwrap_or(m)
            });
        if implied != *current {
            self.fail(
                Property::MembershipFromLog,
                now,
                Some(node),
                format!(
                    "counts voters {:?} observers {:?}, but its snapshot and log imply voters {:?} observers {:?}",
                    ids(&current.voters),
                    ids(&current.observers),
                    ids(&implied.voters),
                    ids(&implied.observers)
                ),
            );
        }
    }
}

fn ids(set: &std::collections::BTreeSet<raft_core::NodeId>) -> Vec<u64> {
    set.iter().map(|id| id.0).collect()
}
