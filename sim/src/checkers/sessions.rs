//! Progress from the current session: a leader's match index for a peer rises only on an
//! answer to an append of its current session with that peer (etcd-io/raft#349).
//!
//! A session is the span during which a leader tracks a peer's progress: from its election,
//! or from the append that (re-)added the peer, to the commit of the peer's removal. Within
//! one term a correct leader has one session per peer, so an answer of its term always
//! answers an append of that session. A leader that removes a peer and re-adds it in the
//! same term opens a second session, and an acknowledgement names only the peer, the term
//! and an index: nothing in it says which session it answers. The checker knows from the
//! wire: an answer that left the peer before the peer received any append of the new
//! session answers the old one.

use super::{Checkers, Property};
use crate::config::Micros;

/// One leader's sessions with one peer, in one term.
#[derive(Clone, Copy, Debug, Default)]
pub(super) struct Session {
    term: u64,
    /// The leader tracks the peer's progress now.
    tracked: bool,
    /// When a session opened after the leader had dropped the peer in this term (a re-add).
    reopened_at: Option<Micros>,
    /// When the peer first received an append of the reopened session.
    first_received: Option<Micros>,
}

/// Every (leader, peer) pair's session, in a flat table.
#[derive(Clone, Debug)]
pub(super) struct Sessions {
    nodes: usize,
    table: Vec<Session>,
}

impl Sessions {
    pub(super) fn new(nodes: usize) -> Sessions {
        Sessions {
            nodes,
            table: vec![Session::default(); nodes * nodes],
        }
    }

    fn at(&mut self, leader: usize, peer: usize) -> &mut Session {
        &mut self.table[leader * self.nodes + peer]
    }
}

impl Checkers {
    /// After an input of `leader`, leading in `term`: whether it tracks each peer's progress
    /// (`tracked(peer)`). A peer it tracks again after dropping it in this term opens a new
    /// session.
    pub fn on_leader_sessions(
        &mut self,
        now: Micros,
        leader: usize,
        term: u64,
        tracked: impl Fn(usize) -> bool,
    ) {
        for peer in (0..self.sessions.nodes).filter(|&p| p != leader) {
            let tracks = tracked(peer);
            let session = self.sessions.at(leader, peer);
            if session.term != term {
                *session = Session {
                    term,
                    tracked: tracks,
                    ..Session::default()
                };
            } else if tracks && !session.tracked {
                session.tracked = true;
                session.reopened_at = Some(now);
                session.first_received = None;
            } else {
                session.tracked = tracks;
            }
        }
    }

    /// `peer` received an append (entries or a snapshot chunk) of `leader`'s term `term`
    /// that left `leader` at `departs`.
    pub fn on_append_received(
        &mut self,
        now: Micros,
        leader: usize,
        peer: usize,
        term: u64,
        departs: Micros,
    ) {
        let session = self.sessions.at(leader, peer);
        if session.term == term
            && session.first_received.is_none()
            && session.reopened_at.is_some_and(|at| departs >= at)
        {
            session.first_received = Some(now);
        }
    }

    /// `leader`, leading in `term`, handled `peer`'s acknowledgement of its term up to
    /// `index`, which left `peer` at `departs`; its match index for `peer` went from `before`
    /// to `after`.
    pub fn on_ack_handled(
        &mut self,
        now: Micros,
        leader: usize,
        peer: usize,
        (term, index, departs): (u64, u64, Micros),
        before: Option<u64>,
        after: Option<u64>,
    ) {
        let session = *self.sessions.at(leader, peer);
        let Some(reopened_at) = session.reopened_at else {
            return;
        };
        if session.term != term || after <= before || after != Some(index) {
            return;
        }
        if session
            .first_received
            .is_none_or(|received| departs < received)
        {
            self.fail(
                Property::ProgressFromCurrentSession,
                now,
                Some(leader),
                format!(
                    "leader n{leader} of term {term} re-added n{peer} at t={reopened_at}us and took its match index {index} from an acknowledgement n{peer} sent at t={departs}us, before it received any append of the new session"
                ),
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_answer_sent_before_the_reopened_session_reached_the_peer_fails() {
        let mut c = Checkers::new(3);
        c.on_leader_sessions(0, 0, 2, |_| true);
        c.on_leader_sessions(10, 0, 2, |p| p != 1); // n1's removal committed
        c.on_leader_sessions(20, 0, 2, |_| true); // n1 re-added
                                                  // An answer of the new session: no violation.
        c.on_append_received(25, 0, 1, 2, 20);
        c.on_ack_handled(30, 0, 1, (2, 5, 26), Some(0), Some(5));
        assert!(c.first_violation.is_none());
        // An answer that left n1 before it heard of the new session.
        c.on_ack_handled(31, 0, 1, (2, 6, 22), Some(5), Some(6));
        let v = c.first_violation.expect("fails");
        assert_eq!(v.property, Property::ProgressFromCurrentSession);
    }

    #[test]
    fn one_session_per_term_never_fails() {
        let mut c = Checkers::new(3);
        c.on_leader_sessions(0, 0, 2, |_| true);
        // An answer that left before anything of this term reached the peer.
        c.on_ack_handled(30, 0, 1, (2, 5, 1), Some(0), Some(5));
        // A new term: the peer untracked then tracked is a first session, not a re-add.
        c.on_leader_sessions(40, 0, 3, |p| p != 1);
        c.on_leader_sessions(50, 0, 4, |_| true);
        c.on_ack_handled(60, 0, 1, (4, 5, 45), Some(0), Some(5));
        // An answer that does not raise the match index.
        c.on_leader_sessions(70, 0, 4, |p| p != 1);
        c.on_leader_sessions(80, 0, 4, |_| true);
        c.on_ack_handled(90, 0, 1, (4, 5, 75), Some(5), Some(5));
        assert!(c.first_violation.is_none());
    }
}
