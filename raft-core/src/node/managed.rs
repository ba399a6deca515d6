//! Managed and unmanaged groups (NRG `managed`, nats-server #8460, #8489): what a node does
//! when it hears from a peer that is not a member.
//!
//! In an unmanaged group ([`crate::Config::managed`] off, NRG's default) the group adds
//! peers itself: a leader that hears an append response from an unknown peer proposes adding
//! it as a voter, through the log like any membership change (NRG `trackPeer` →
//! `ProposeAddPeer`). In our point-to-point world a leader sends only to members, so that
//! answer comes from a node the host connected to the group without a membership change.
//! In a managed group the layer above owns the membership, so the node only records when it
//! heard from such a peer ("observed", NRG `observed`), for that layer to prefer adding
//! peers that are demonstrably up; the record is dropped once the peer is heard as a member.
//! A peer removed from the group is neither added back nor observed.

use super::Node;
use crate::action::Role;
use crate::membership::MembershipChange;
use crate::types::NodeId;
use std::collections::BTreeMap;

/// Peers that are not members, and the tick (of the peer tracker's clock) each was last
/// heard at. Only a managed group's node records any.
#[derive(Clone, Debug, Default)]
pub(super) struct ObservedPeers {
    heard: BTreeMap<NodeId, u64>,
}

impl Node {
    /// Rule (managed groups, NRG `trackPeer`): a peer whose append response this node heard
    /// (see `Node::track_peer`) that is not a member: a managed group's node records it as
    /// observed; an unmanaged group's leader returns it, to propose its addition once the
    /// message is handled ([`Node::add_unknown_peer`]). A member heard is no longer
    /// observed. Removed peers are ignored.
    pub(super) fn hear_peer_outside_membership(&mut self, peer: NodeId) -> Option<NodeId> {
        if self.counted_membership().contains(peer) || peer == self.config.id {
            self.observed.heard.remove(&peer);
            return None;
        }
        if self.was_removed(peer) {
            return None;
        }
        if self.config.managed {
            self.observed.heard.insert(peer, self.peer_tracker.now());
            return None;
        }
        (self.role == Role::Leader).then_some(peer)
    }

    /// Rule (unmanaged groups, NRG `ProposeAddPeer` on hearing an unknown peer): the leader
    /// proposes adding `peer` as a voter, in its current term, through the same path as its
    /// own API. A refusal (no-op not committed yet, another change pending, flow control, a
    /// peer removed in this term) proposes nothing: the next answer tries again.
    pub(super) fn add_unknown_peer(&mut self, peer: NodeId) {
        if self.role != Role::Leader || self.counted_membership().contains(peer) {
            return;
        }
        let term = self.hard_state.term;
        let _refused = self.append_membership_change(term, MembershipChange::AddVoter(peer));
    }

    /// Whether `peer` left the group: removed in this leader's term, removed by the latest
    /// change in the log (not known committed), or evicted.
    fn was_removed(&self, peer: NodeId) -> bool {
        if self
            .leadership
            .as_ref()
            .is_some_and(|l| l.removed.contains(&peer))
            || self.evicted(peer)
        {
            return true;
        }
        self.pending_membership_change()
            .is_some_and(|change| self.membership.at(change - 1).contains(peer))
    }

    /// Peers that are not members this node heard from (managed groups only), with the
    /// ticks since it last did, in id order.
    pub fn observed_peers(&self) -> Vec<(NodeId, u64)> {
        let now = self.peer_tracker.now();
        self.observed
            .heard
            .iter()
            .map(|(&peer, &at)| (peer, now - at))
            .collect()
    }

    /// NRG `LastHeardFromPeer`: ticks since this node last heard from `peer`, a member or
    /// an observed peer (0 for itself; None: never).
    pub fn last_heard_from(&self, peer: NodeId) -> Option<u64> {
        if peer == self.config.id {
            return Some(0);
        }
        if self.counted_membership().contains(peer) {
            return self.peer_tracker.ticks_since(peer);
        }
        let now = self.peer_tracker.now();
        self.observed.heard.get(&peer).map(|&at| now - at)
    }
}
