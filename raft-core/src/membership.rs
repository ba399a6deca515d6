//! Cluster membership: who votes, who only replicates (observers), and how the membership
//! follows the log.
//!
//! A node's membership is a pure function of what it holds: the membership at the start of
//! its log (the snapshot's, else the recovered peer-state file, else [`crate::Config::voters`])
//! followed by every membership entry in its log, committed or not. A change takes effect
//! when its entry is appended (NRG, and the Raft thesis §4.1: "a server always uses the
//! latest configuration in its log"), and is reverted when the entry is truncated.
//!
//! Every change this crate makes is an [`EntryKind::PeerState`] entry holding the whole new
//! membership (voters, and observers in the extension), like the no-op every new leader
//! appends. A whole membership rather than NRG's `EntryAddPeer` / `EntryRemovePeer` deltas,
//! because (1) it can say "observer" (NRG's delta entries cannot), and (2) replaying it is
//! idempotent: a replayed committed add can never change the quorum size (the bug of
//! nats-server #7850, where replaying `EntryAddPeer` over a peer-state file that already had
//! the peer shrank the cluster size). NRG's delta entries are still understood when they are
//! found in a log: `AddPeer` makes its peer a voter, `RemovePeer` removes it.

use crate::codec;
use crate::types::{Entry, EntryKind, NodeId, PeerState};
use std::collections::BTreeSet;

/// One single-server membership change ([`crate::Node::propose_membership`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum MembershipChange {
    /// Add a new voter, or promote an observer to voter.
    AddVoter(NodeId),
    /// Add a new observer: it replicates and applies, never campaigns, and counts in no
    /// quorum. A current voter cannot be made an observer in one step (remove it first).
    AddObserver(NodeId),
    /// Remove a voter or an observer.
    RemovePeer(NodeId),
}

impl MembershipChange {
    /// The peer the change is about.
    pub fn peer(self) -> NodeId {
        match self {
            MembershipChange::AddVoter(p)
            | MembershipChange::AddObserver(p)
            | MembershipChange::RemovePeer(p) => p,
        }
    }
}

/// Who votes and who only replicates. The two sets are disjoint.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct Membership {
    pub voters: BTreeSet<NodeId>,
    pub observers: BTreeSet<NodeId>,
}

/// Why a membership change makes no sense for the current membership.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum ChangeRefusal {
    AlreadyMember,
    NotAMember,
    LastVoter,
}

impl Membership {
    /// Voters only.
    pub fn with_voters(voters: impl IntoIterator<Item = NodeId>) -> Membership {
        Membership {
            voters: voters.into_iter().collect(),
            observers: BTreeSet::new(),
        }
    }

    /// Reads a peer state: `peers` vote, `observers` (minus any voter) do not. The NRG
    /// `cluster_size` is not used: quorums are majorities of the voters listed.
    pub fn from_peer_state(ps: &PeerState) -> Membership {
        let voters: BTreeSet<NodeId> = ps.peers.iter().copied().collect();
        let observers = ps
            .observers
            .iter()
            .copied()
            .filter(|o| !voters.contains(o))
            .collect();
        Membership { voters, observers }
    }

    /// The peer state that records this membership (`cluster_size` = the number of voters).
    pub fn to_peer_state(&self) -> PeerState {
        PeerState {
            cluster_size: self.voters.len() as u32,
            peers: self.voters.iter().copied().collect(),
            domain_ext: 0,
            observers: self.observers.iter().copied().collect(),
        }
    }

    /// Whether `id` is a voter or an observer.
    pub fn contains(&self, id: NodeId) -> bool {
        self.voters.contains(&id) || self.observers.contains(&id)
    }

    /// Every member, voters and observers, in id order.
    pub fn members(&self) -> impl Iterator<Item = NodeId> + '_ {
        self.voters.union(&self.observers).copied()
    }

    /// The membership after `change`, or why the change makes no sense here.
    pub(crate) fn changed(&self, change: MembershipChange) -> Result<Membership, ChangeRefusal> {
        let mut next = self.clone();
        match change {
            MembershipChange::AddVoter(p) => {
                if self.voters.contains(&p) {
                    return Err(ChangeRefusal::AlreadyMember);
                }
                next.observers.remove(&p);
                next.voters.insert(p);
            }
            MembershipChange::AddObserver(p) => {
                if self.contains(p) {
                    return Err(ChangeRefusal::AlreadyMember);
                }
                next.observers.insert(p);
            }
            MembershipChange::RemovePeer(p) => {
                if !self.contains(p) {
                    return Err(ChangeRefusal::NotAMember);
                }
                if self.voters.contains(&p) && self.voters.len() == 1 {
                    return Err(ChangeRefusal::LastVoter);
                }
                next.voters.remove(&p);
                next.observers.remove(&p);
            }
        }
        Ok(next)
    }

    /// The membership after `entry`, when `entry` is a membership entry that can be read
    /// (a peer state, or an NRG add/remove-peer delta) and leaves at least one voter. A
    /// host can fold it over a log to check a node's membership against it.
    pub fn after_entry(&self, entry: &Entry) -> Option<Membership> {
        let next = match entry.kind {
            EntryKind::PeerState => {
                Membership::from_peer_state(&codec::decode_peer_state(&entry.data).ok()?)
            }
            EntryKind::AddPeer | EntryKind::RemovePeer => {
                let id = NodeId::from_bytes(entry.data.as_ref().try_into().ok()?);
                let mut next = self.clone();
                next.observers.remove(&id);
                if entry.kind == EntryKind::AddPeer {
                    next.voters.insert(id);
                } else {
                    next.voters.remove(&id);
                }
                next
            }
            _ => return None,
        };
        (!next.voters.is_empty()).then_some(next)
    }
}

/// The membership as a function of the log: the membership at the log's start and the
/// membership after each entry that changed it, in index order.
#[derive(Clone, Debug, Default)]
pub(crate) struct MembershipLog {
    base: Membership,
    /// `(index, membership from that index on)`; indexes increase; each differs from the one
    /// before it.
    changes: Vec<(u64, Membership)>,
}

impl MembershipLog {
    pub(crate) fn new(base: Membership) -> MembershipLog {
        MembershipLog {
            base,
            changes: Vec::new(),
        }
    }

    /// The membership in effect: after the last membership entry in the log.
    pub(crate) fn current(&self) -> &Membership {
        self.changes.last().map_or(&self.base, |(_, m)| m)
    }

    /// The membership in effect once the log is cut after `index`.
    pub(crate) fn at(&self, index: u64) -> &Membership {
        self.changes
            .iter()
            .rev()
            .find(|(i, _)| *i <= index)
            .map_or(&self.base, |(_, m)| m)
    }

    /// Every membership the log holds: the one at its start, then each change, in index
    /// order.
    pub(crate) fn all(&self) -> impl Iterator<Item = &Membership> {
        std::iter::once(&self.base).chain(self.changes.iter().map(|(_, m)| m))
    }

    /// Index of the last entry that changed the membership (0: none in the log).
    pub(crate) fn last_change_index(&self) -> u64 {
        self.changes.last().map_or(0, |(i, _)| *i)
    }

    /// Follows appended entries. Returns true when the current membership changed.
    pub(crate) fn appended(&mut self, entries: &[Entry]) -> bool {
        let mut changed = false;
        for entry in entries {
            if entry.kind == EntryKind::Normal {
                continue;
            }
            if let Some(next) = self.current().after_entry(entry) {
                if next != *self.current() {
                    self.changes.push((entry.index, next));
                    changed = true;
                }
            }
        }
        changed
    }

    /// Follows a truncation of every entry after `index`: changes made by truncated entries
    /// are reverted. Returns true when the current membership changed.
    pub(crate) fn truncated_after(&mut self, index: u64) -> bool {
        let before = self.changes.len();
        while self.changes.last().is_some_and(|(i, _)| *i > index) {
            self.changes.pop();
        }
        self.changes.len() != before
    }

    /// Follows a compaction of the log up to `index`: the membership at `index` becomes the
    /// base.
    pub(crate) fn compacted_to(&mut self, index: u64) {
        let base = self.at(index).clone();
        self.changes.retain(|(i, _)| *i > index);
        self.base = base;
    }

    /// Starts over from `base` (the log was replaced by a snapshot). Returns true when the
    /// current membership changed.
    pub(crate) fn reset(&mut self, base: Membership) -> bool {
        let changed = *self.current() != base;
        self.changes.clear();
        self.base = base;
        changed
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use bytes::Bytes;

    fn ids(v: &[u64]) -> BTreeSet<NodeId> {
        v.iter().copied().map(NodeId).collect()
    }

    fn m(voters: &[u64], observers: &[u64]) -> Membership {
        Membership {
            voters: ids(voters),
            observers: ids(observers),
        }
    }

    fn peer_state_entry(index: u64, membership: &Membership) -> Entry {
        Entry {
            term: 1,
            index,
            kind: EntryKind::PeerState,
            data: codec::encode_peer_state(&membership.to_peer_state()).into(),
        }
    }

    #[test]
    fn changes_are_validated() {
        let three = m(&[1, 2, 3], &[4]);
        assert_eq!(
            three.changed(MembershipChange::AddVoter(NodeId(4))),
            Ok(m(&[1, 2, 3, 4], &[]))
        );
        assert_eq!(
            three.changed(MembershipChange::AddVoter(NodeId(5))),
            Ok(m(&[1, 2, 3, 5], &[4]))
        );
        assert_eq!(
            three.changed(MembershipChange::AddVoter(NodeId(1))),
            Err(ChangeRefusal::AlreadyMember)
        );
        assert_eq!(
            three.changed(MembershipChange::AddObserver(NodeId(1))),
            Err(ChangeRefusal::AlreadyMember)
        );
        assert_eq!(
            three.changed(MembershipChange::RemovePeer(NodeId(4))),
            Ok(m(&[1, 2, 3], &[]))
        );
        assert_eq!(
            three.changed(MembershipChange::RemovePeer(NodeId(9))),
            Err(ChangeRefusal::NotAMember)
        );
        assert_eq!(
            m(&[1], &[2]).changed(MembershipChange::RemovePeer(NodeId(1))),
            Err(ChangeRefusal::LastVoter)
        );
    }

    #[test]
    fn nrg_delta_entries_are_understood_and_idempotent() {
        let base = m(&[1, 2, 3, 4], &[]);
        let add = Entry {
            term: 1,
            index: 2,
            kind: EntryKind::AddPeer,
            data: Bytes::copy_from_slice(&NodeId(4).to_bytes()),
        };
        assert_eq!(base.after_entry(&add), Some(base.clone()));
        let remove = Entry {
            kind: EntryKind::RemovePeer,
            ..add.clone()
        };
        assert_eq!(base.after_entry(&remove), Some(m(&[1, 2, 3], &[])));
        let bad = Entry {
            data: Bytes::from_static(b"short"),
            ..add
        };
        assert_eq!(base.after_entry(&bad), None);
        // A peer state with no voter is not a membership anyone can use.
        assert_eq!(base.after_entry(&peer_state_entry(3, &m(&[], &[1]))), None);
    }

    #[test]
    fn log_follows_appends_truncations_and_compaction() {
        let mut log = MembershipLog::new(m(&[1, 2, 3], &[]));
        let same = peer_state_entry(1, &m(&[1, 2, 3], &[]));
        assert!(!log.appended(&[same]));
        assert_eq!(log.last_change_index(), 0);
        let add = peer_state_entry(3, &m(&[1, 2, 3], &[4]));
        let promote = peer_state_entry(5, &m(&[1, 2, 3, 4], &[]));
        assert!(log.appended(&[Entry::normal(1, 2, "x"), add]));
        assert!(log.appended(&[promote]));
        assert_eq!(log.current(), &m(&[1, 2, 3, 4], &[]));
        assert_eq!(log.at(4), &m(&[1, 2, 3], &[4]));
        assert_eq!(log.at(2), &m(&[1, 2, 3], &[]));
        assert_eq!(log.last_change_index(), 5);
        assert!(!log.truncated_after(5));
        assert!(log.truncated_after(4));
        assert_eq!(log.current(), &m(&[1, 2, 3], &[4]));
        log.compacted_to(3);
        assert_eq!(log.at(0), &m(&[1, 2, 3], &[4]));
        assert_eq!(log.last_change_index(), 0);
        assert!(log.reset(m(&[1], &[])));
        assert_eq!(log.current(), &m(&[1], &[]));
    }

    #[test]
    fn every_membership_the_log_holds_is_listed_oldest_first_until_compacted_away() {
        let mut log = MembershipLog::new(m(&[1, 2, 3], &[]));
        log.appended(&[peer_state_entry(2, &m(&[1, 2], &[]))]);
        log.appended(&[peer_state_entry(4, &m(&[1, 2], &[3]))]);
        let all: Vec<&Membership> = log.all().collect();
        assert_eq!(
            all,
            [&m(&[1, 2, 3], &[]), &m(&[1, 2], &[]), &m(&[1, 2], &[3])]
        );
        log.truncated_after(3);
        assert_eq!(log.all().count(), 2, "a truncated change is gone");
        log.compacted_to(2);
        assert_eq!(log.all().collect::<Vec<_>>(), [&m(&[1, 2], &[])]);
    }

    #[test]
    fn compaction_keeps_the_changes_above_the_compaction_point() {
        let mut log = MembershipLog::new(m(&[1, 2, 3], &[]));
        log.appended(&[peer_state_entry(2, &m(&[1, 2, 3], &[4]))]);
        log.appended(&[peer_state_entry(6, &m(&[1, 2, 3, 4], &[]))]);
        log.compacted_to(4);
        assert_eq!(log.at(4), &m(&[1, 2, 3], &[4]), "the base is the one at 4");
        assert_eq!(
            log.current(),
            &m(&[1, 2, 3, 4], &[]),
            "the change at 6 stays"
        );
        assert_eq!(log.last_change_index(), 6);
    }
}
