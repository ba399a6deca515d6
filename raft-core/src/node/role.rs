//! Terms and roles: the transitions every room goes through (a higher term seen, a step
//! down), and what the application is told about them.

use super::Node;
use crate::action::Role;
use crate::message::Message;
use crate::types::{HardState, NodeId};

impl Node {
    /// Rule: any message with a higher term makes this node a follower in that term, with no
    /// vote yet. Terms never decrease.
    pub(super) fn observe_higher_term(&mut self, from: NodeId, message: &Message) {
        self.adopt_term(message.term());
        let leader = match message {
            Message::AppendEntries(m) if m.leader == from => Some(from),
            Message::InstallSnapshot(m) if m.leader == from => Some(from),
            _ => None,
        };
        self.set_leader(leader);
    }

    /// Becomes a follower in the higher `term`, with no vote yet; the caller says which
    /// leader it knows of.
    pub(super) fn adopt_term(&mut self, term: u64) {
        debug_assert!(term > self.hard_state.term);
        self.set_hard_state(HardState { term, vote: None });
        if self.role != Role::Follower {
            self.reset_election_timer();
        }
        self.votes = None;
        self.pre_votes = None;
        self.leadership = None;
        self.set_role(Role::Follower);
    }

    pub(super) fn set_hard_state(&mut self, hard_state: HardState) {
        assert!(
            hard_state.term >= self.hard_state.term,
            "term must never decrease"
        );
        if hard_state.term == self.hard_state.term && self.hard_state.vote.is_some() {
            assert_eq!(
                hard_state.vote, self.hard_state.vote,
                "a vote is never changed within a term"
            );
        }
        if hard_state != self.hard_state {
            self.hard_state = hard_state;
            self.outbox.hard_state_changed(hard_state);
        }
    }

    pub(super) fn set_role(&mut self, role: Role) {
        self.role = role;
        self.report_role();
    }

    /// Emits [`Action::RoleChanged`](crate::Action::RoleChanged) when the (role, term) pair
    /// differs from the last report, so the application can fence its own work by term.
    fn report_role(&mut self) {
        let now = (self.role, self.hard_state.term);
        if self.reported_role != now {
            self.reported_role = now;
            self.outbox.role_changed(now.0, now.1);
        }
    }

    /// Records the leader of the current term and tells the application when the one it
    /// should use changes (itself only once ready).
    pub(super) fn set_leader(&mut self, leader: Option<NodeId>) {
        self.leader = leader;
        let visible = match leader {
            Some(id) if id == self.config.id => None,
            other => other,
        };
        self.announce_leader(visible);
    }

    pub(super) fn announce_leader(&mut self, leader: Option<NodeId>) {
        if self.announced_leader != leader {
            self.announced_leader = leader;
            self.outbox.leader_changed(self.hard_state.term, leader);
        }
    }

    /// Leaves leadership or candidacy for follower in the same term; the vote stays (a vote
    /// is never cleared within a term).
    pub(super) fn become_follower_in_term(&mut self) {
        self.votes = None;
        self.pre_votes = None;
        self.leadership = None;
        self.set_role(Role::Follower);
        self.set_leader(None);
        self.reset_election_timer();
    }
}

/// Whether a message with a higher term makes the receiver adopt that term. PreVote
/// messages carry a term nobody has reached yet (the sender's term + 1), so they never do.
pub(super) fn adopts_sender_term(message: &Message) -> bool {
    !matches!(
        message,
        Message::PreVoteRequest(_) | Message::PreVoteResponse(_)
    )
}
