//! Peer tracking (NRG `trackPeer`, `Peers()`, `Quorum()`): when this node last heard from
//! each peer, counted in its own ticks, and how far behind the leader's commit each
//! follower is. Monitoring only: no protocol decision reads it (CheckQuorum keeps its own
//! window in `leader.rs`).

use super::Node;
use crate::action::Role;
use crate::message::Message;
use crate::quorum;
use crate::types::NodeId;
use std::collections::BTreeMap;

/// What a node knows of one member (NRG `Peer`), from [`Node::peers`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PeerInfo {
    pub id: NodeId,
    /// Ticks since this node last heard from the member (0 for itself; None: never, or
    /// forgotten when a new leader was learnt).
    pub last_heard: Option<u64>,
    /// While leading: committed entries the member has not acknowledged (commit index
    /// minus its match index). 0 otherwise: a follower does not know.
    pub lag: u64,
    /// Itself; while leading, a member with no lag; while following, the leader, when
    /// heard from within two heartbeat intervals. Never another follower.
    pub current: bool,
}

/// When each peer was last heard from.
#[derive(Clone, Debug, Default)]
pub(super) struct PeerTracker {
    /// Ticks this node has run: the clock of `heard`.
    now: u64,
    /// The tick each peer was last heard at.
    heard: BTreeMap<NodeId, u64>,
    /// The leader whose AppendEntries were last tracked (this node once it heard a
    /// follower as leader): another one is a new leader.
    leader: Option<NodeId>,
}

impl PeerTracker {
    pub(super) fn tick(&mut self) {
        self.now += 1;
    }

    /// Ticks this node has run.
    pub(super) fn now(&self) -> u64 {
        self.now
    }

    pub(super) fn ticks_since(&self, peer: NodeId) -> Option<u64> {
        self.heard.get(&peer).map(|&at| self.now - at)
    }
}

impl Node {
    /// Rule (peer tracking, NRG `trackPeer`): a leader hears a peer through its answers of
    /// the leader's term (append and snapshot responses, read acknowledgements); a follower
    /// or candidate hears only the leader of its term, through its AppendEntries. Learning a
    /// new leader forgets when the other peers were heard (a former leader's timestamps are
    /// kept until then, NRG `updateLeader`). Runs before the message is handled, after a
    /// higher term in it was adopted. A peer heard that is not a member goes to
    /// `managed.rs`; returns the one an unmanaged group's leader is to propose adding.
    pub(super) fn track_peer(&mut self, from: NodeId, message: &Message) -> Option<NodeId> {
        let term = self.hard_state.term;
        let leading = self.role == Role::Leader;
        let heard = match message {
            Message::AppendEntries(m) => !leading && m.term == term && m.leader == from,
            Message::AppendResponse(m) => leading && m.term == term && m.peer == from,
            Message::ReadAck(m) => leading && m.term == term && m.peer == from,
            Message::SnapshotResponse(m) => leading && m.term == term && m.peer == from,
            _ => false,
        };
        if !heard {
            return None;
        }
        let tracker = &mut self.peer_tracker;
        let leader = if leading { self.config.id } else { from };
        if !leading && tracker.leader != Some(from) {
            tracker.heard.retain(|&peer, _| peer == from);
        }
        tracker.leader = Some(leader);
        tracker.heard.insert(from, tracker.now);
        // As NRG, an unknown peer makes itself known through its append responses.
        if matches!(message, Message::AppendResponse(_)) {
            return self.hear_peer_outside_membership(from);
        }
        None
    }

    /// NRG `Peers()`: every member of the membership in effect (voters and observers, this
    /// node included), in id order. See [`PeerInfo`].
    pub fn peers(&self) -> Vec<PeerInfo> {
        let me = self.config.id;
        let fresh = 2 * u64::from(self.config.heartbeat_interval);
        let mut members: Vec<NodeId> = self.membership.current().members().collect();
        if !members.contains(&me) {
            members.push(me);
        }
        members.sort_unstable();
        members
            .into_iter()
            .map(|id| {
                let last_heard = if id == me {
                    Some(0)
                } else {
                    self.peer_tracker.ticks_since(id)
                };
                let (lag, current) = if id == me {
                    (0, true)
                } else if let Some(leadership) = self.leadership.as_ref() {
                    let matched = leadership.progress.get(&id).map_or(0, |p| p.match_index);
                    let lag = self.commit_index.saturating_sub(matched);
                    (lag, lag == 0)
                } else if self.leader == Some(id) {
                    (0, last_heard.is_some_and(|t| t <= fresh))
                } else {
                    (0, false)
                };
                PeerInfo {
                    id,
                    last_heard,
                    lag,
                    current,
                }
            })
            .collect()
    }

    /// NRG `Quorum()`: whether this node heard, within the maximum election timeout, from
    /// enough voters (itself included) to make a quorum. True at a leader that hears its
    /// followers, and at a former leader or a follower until the timestamps age or a new
    /// leader is learnt; monitoring only.
    pub fn quorum(&self) -> bool {
        let window = u64::from(self.config.election_timeout_max);
        let me = self.config.id;
        quorum::reaches(&self.voters, self.quorum_needed(), |&voter| {
            voter == me
                || self
                    .peer_tracker
                    .ticks_since(voter)
                    .is_some_and(|t| t <= window)
        })
    }
}
