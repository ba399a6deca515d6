//! Evicting peers (NRG `EvictPeers`): the operator's way out for a *managed* group
//! ([`crate::Config::managed`]: the layer above owns the membership) whose leader is gone
//! and whose remaining voters cannot elect one, because peers the layer above has already
//! removed for good are still voters in the log and no leader is left to commit their
//! removal.
//!
//! The node counts with a membership that lacks those peers, without the log: its
//! elections, commits, CheckQuorum and ReadIndex count the voters left. Once it leads (and
//! its no-op is committed) it appends that membership as a peer-state entry, so the
//! eviction becomes the log's and reaches the other members; the eviction ends as soon as
//! the log's membership changes (that entry, or any other appended or truncated), since the
//! log speaks again. Memory only: a restart forgets it, as it forgets a rescue.
//!
//! Why the guards: it is refused while a leader is known (the log can remove peers then,
//! ordered and safe), and unless the voters left besides this node cannot make a quorum of
//! the voters in the log without it — counting a peer whose uncommitted removal is in the
//! log as a voter, since it still is one to every node that never saw the removal.
//! So any quorum of the log's membership among the peers not evicted includes this node,
//! and a quorum of the evicted membership intersects it. That holds only while the evicted
//! peers stay gone: one that comes back with its log can form a quorum of the old
//! membership with the others, which need not intersect this node's. That is the trade the
//! operator makes, as with a rescue (ARCHITECTURE.md, *Evicting peers*).

use super::Node;
use crate::action::{Action, Role};
use crate::membership::Membership;
use crate::quorum;
use crate::types::{EntryKind, NodeId};
use std::collections::BTreeSet;
use std::fmt;

/// An eviction in effect ([`Node::eviction`]): the membership this node counts with instead
/// of the log's, and the peers it evicted.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Eviction {
    /// The membership counted: the log's, with an uncommitted change about an evicted peer
    /// or removing this node reverted, without the evicted peers.
    pub membership: Membership,
    /// The peers evicted, in id order.
    pub evicted: BTreeSet<NodeId>,
}

/// Why [`Node::evict_peers`] was refused. Nothing changed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum EvictError {
    /// The group is not managed: its membership changes only through its own log.
    NotManaged,
    /// This node leads: it removes peers through the log.
    Leading,
    /// This node follows `leader`, which can remove peers through the log.
    LeaderKnown { leader: NodeId },
    /// The `remaining` voters left besides this node would still make a quorum of the
    /// `voters` voters in the log: they could commit entries this node never sees.
    QuorumPossible { remaining: usize, voters: usize },
}

impl fmt::Display for EvictError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            EvictError::NotManaged => write!(
                f,
                "the group is not managed; its membership changes only through its log"
            ),
            EvictError::Leading => write!(f, "this node leads; it removes peers through the log"),
            EvictError::LeaderKnown { leader } => {
                write!(f, "{leader} leads; it removes peers through the log")
            }
            EvictError::QuorumPossible { remaining, voters } => write!(
                f,
                "the {remaining} voters left besides this node still make a quorum of {voters}"
            ),
        }
    }
}

impl std::error::Error for EvictError {}

impl Node {
    /// NRG `EvictPeers`: stops counting `peers` as members, without the log (see the
    /// module documentation for when that is safe). Refused unless the group is managed,
    /// this node knows no leader, and the voters left besides this node cannot make a quorum
    /// of the log's voters. An uncommitted membership change about an evicted peer, or
    /// removing this node, is reverted first (its leader is gone, and the peers that could
    /// commit it are the ones evicted). This node, peers that are not members and the last
    /// member are never evicted. Returns the peers evicted, in the order given.
    pub fn evict_peers(
        &mut self,
        peers: &[NodeId],
    ) -> Result<(Vec<NodeId>, Vec<Action>), EvictError> {
        if !self.config.managed {
            return Err(EvictError::NotManaged);
        }
        if self.role == Role::Leader {
            return Err(EvictError::Leading);
        }
        if let Some(leader) = self.leader {
            return Err(EvictError::LeaderKnown { leader });
        }
        let voting = self.voters_with_pending_removal();
        let me = self.config.id;
        let remaining = voting
            .iter()
            .filter(|&&v| v != me && !peers.contains(&v) && !self.evicted(v))
            .count();
        if remaining >= quorum::quorum(voting.len()) {
            return Err(EvictError::QuorumPossible {
                remaining,
                voters: voting.len(),
            });
        }
        let mut membership = self.counted_membership().clone();
        let mut evicted_before = self
            .eviction
            .as_ref()
            .map(|e| e.evicted.clone())
            .unwrap_or_default();
        if let Some(change) = self.pending_membership_change() {
            let before = self.membership.at(change - 1);
            let about = changed_peers(before, self.membership.current());
            let removes_me = before.voters.contains(&me) && !self.membership.current().contains(me);
            if removes_me || about.iter().any(|p| peers.contains(p)) {
                membership = before.clone();
                membership.voters.retain(|v| !evicted_before.contains(v));
                membership.observers.retain(|v| !evicted_before.contains(v));
            }
        }
        let mut evicted = Vec::new();
        for &peer in peers {
            if peer == me || !membership.contains(peer) || membership.members().count() <= 1 {
                continue;
            }
            if membership.voters.contains(&peer) && membership.voters.len() == 1 {
                continue;
            }
            membership.voters.remove(&peer);
            membership.observers.remove(&peer);
            evicted.push(peer);
        }
        evicted_before.extend(evicted.iter().copied());
        if membership != *self.membership.current() {
            self.set_counted_voters(&membership);
            self.eviction = Some(Eviction {
                membership,
                evicted: evicted_before,
            });
            // The voters counted shrank as a membership change would shrink them.
            self.end_rescue_once_natural_quorum_suffices();
        }
        match self.role {
            Role::Candidate => self.check_election_result(),
            _ => self.check_pre_vote_result(),
        }
        Ok((evicted, self.finish()))
    }

    /// The eviction in effect, if any.
    pub fn eviction(&self) -> Option<&Eviction> {
        self.eviction.as_ref()
    }

    /// The membership this node counts with: an eviction's, or the log's.
    pub(super) fn counted_membership(&self) -> &Membership {
        self.eviction
            .as_ref()
            .map_or_else(|| self.membership.current(), |e| &e.membership)
    }

    /// Whether `peer` was evicted by the eviction in effect.
    pub(super) fn evicted(&self, peer: NodeId) -> bool {
        self.eviction
            .as_ref()
            .is_some_and(|e| e.evicted.contains(&peer))
    }

    /// The voters of the log's membership, plus a voter whose removal is the latest change
    /// and not known committed (it is still a voter to any node that lacks the removal).
    fn voters_with_pending_removal(&self) -> BTreeSet<NodeId> {
        let mut voting = self.membership.current().voters.clone();
        if let Some(change) = self.pending_membership_change() {
            voting.extend(self.membership.at(change - 1).voters.iter().copied());
        }
        voting
    }

    fn set_counted_voters(&mut self, membership: &Membership) {
        self.voters.clear();
        self.voters.extend(membership.voters.iter().copied());
    }

    /// Rule (eviction): once the log's membership changes (an entry appended, truncated or
    /// replaced by a snapshot), the log speaks again and the eviction ends.
    pub(super) fn end_eviction_on_membership_change(&mut self) {
        self.eviction = None;
    }

    /// Rule (eviction, NRG's new leader sending its peer state): a leader counting an
    /// eviction, once its no-op is committed and no other change is pending, appends the
    /// membership it counts as a peer-state entry, so the eviction becomes the log's. At a
    /// leader's tick.
    pub(super) fn record_eviction_in_log(&mut self) {
        let Some(eviction) = self.eviction.as_ref() else {
            return;
        };
        let ready = self
            .leadership
            .as_ref()
            .is_some_and(|l| l.ready && l.transfer.is_none());
        if !ready
            || self.pending_membership_change().is_some()
            || self.check_uncommitted_limit(1).is_err()
        {
            return;
        }
        let data = crate::codec::encode_peer_state(&eviction.membership.to_peer_state());
        self.append_as_leader(EntryKind::PeerState, data.into());
        self.replicate_to_all();
        self.advance_leader_commit();
    }
}

/// The members `before` and `after` differ in.
fn changed_peers(before: &Membership, after: &Membership) -> Vec<NodeId> {
    let a: BTreeSet<NodeId> = before.members().collect();
    let b: BTreeSet<NodeId> = after.members().collect();
    a.symmetric_difference(&b).copied().collect()
}
