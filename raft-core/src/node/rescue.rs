//! Rescue quorum (NRG `RescueQuorum`): the operator's disaster-recovery action for a group
//! that lost its majority for good (machines gone, disks gone). It lowers the quorum this
//! node counts with — elections, pre-votes, commits, CheckQuorum and ReadIndex — for a
//! while, so the survivors can elect a leader and remove the lost peers.
//!
//! It deliberately trades safety for availability: two quorums of the rescued size need not
//! intersect, and entries committed by a natural majority that the survivors lack are lost.
//! So it is refused unless the node is a leaderless voter with a non-empty log, and it ends
//! by itself: once the membership shrinks so that a natural majority is no larger than the
//! rescued quorum (the peers lost are removed: the natural quorum is back), or after the
//! given number of ticks.
//!
//! Unlike NRG, votes from empty logs count with or without a rescue (see ARCHITECTURE.md,
//! "Empty-log votes count"), so a rescue changes only the number counted.

use super::Node;
use crate::action::{Action, Role};
use crate::quorum;
use crate::types::NodeId;
use std::fmt;

/// A rescue in effect: the quorum counted instead of a majority of the voters, and the
/// ticks before it expires.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Rescue {
    pub quorum: usize,
    pub ticks_left: u32,
}

/// Why [`Node::rescue_quorum`] was refused. Nothing changed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RescueError {
    /// This node leads: a group with a leader needs no rescue.
    Leading,
    /// This node follows `leader`: the group is not leaderless.
    LeaderKnown { leader: NodeId },
    /// This node is not a voter of the membership in effect.
    NotAVoter,
    /// This node's log is empty: it cannot be the one to carry the group on.
    EmptyLog,
    /// The quorum asked is not below the natural one (a majority of `voters` voters), or is 0.
    NotBelowNatural {
        requested: usize,
        natural: usize,
        voters: usize,
    },
    /// A rescue must last at least one tick.
    NoDuration,
}

impl fmt::Display for RescueError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RescueError::Leading => write!(f, "this node leads; a rescue is for leaderless groups"),
            RescueError::LeaderKnown { leader } => {
                write!(f, "{leader} leads; a rescue is for leaderless groups")
            }
            RescueError::NotAVoter => write!(f, "this node is not a voter"),
            RescueError::EmptyLog => write!(f, "this node's log is empty"),
            RescueError::NotBelowNatural {
                requested,
                natural,
                voters,
            } => write!(
                f,
                "a rescued quorum of {requested} is not between 1 and the natural quorum {natural} of {voters} voters"
            ),
            RescueError::NoDuration => write!(f, "a rescue must last at least one tick"),
        }
    }
}

impl std::error::Error for RescueError {}

impl Node {
    /// NRG `RescueQuorum`: count `quorum` (below a majority of the voters) as the quorum
    /// for `ticks` ticks, or until a majority of the voters is no more than `quorum`. Only a
    /// leaderless voter with a non-empty log may; a candidate already holding `quorum`
    /// grants wins at once. See the module documentation for what it costs.
    pub fn rescue_quorum(&mut self, quorum: usize, ticks: u32) -> Result<Vec<Action>, RescueError> {
        self.rescue_quorum_past(quorum, ticks, 0)
    }

    /// [`Node::rescue_quorum`], campaigning past `seen_term`: the highest term the operator
    /// read from the group's running servers. A survivor that never heard a term the lost
    /// majority led could win that term again, and a surviving log holding the lost leader's
    /// entry of that term would then match the rescued leader's entry at the same index by
    /// index and term without being the same entry: log matching, which every append
    /// relies on, would no longer hold. Past every term a running server heard, a rescued
    /// leader's terms are ones no entry any of them holds was written in. A node behind
    /// `seen_term` adopts it first, as if it had heard it (a follower with no vote, which
    /// ends a candidacy or pre-vote of a lower term); a candidate of `seen_term` itself
    /// gives up that candidacy. Either way its next campaign is for a later term.
    pub fn rescue_quorum_past(
        &mut self,
        quorum: usize,
        ticks: u32,
        seen_term: u64,
    ) -> Result<Vec<Action>, RescueError> {
        if self.role == Role::Leader {
            return Err(RescueError::Leading);
        }
        if let Some(leader) = self.leader {
            return Err(RescueError::LeaderKnown { leader });
        }
        if !self.voters.contains(&self.config.id) {
            return Err(RescueError::NotAVoter);
        }
        if self.log.last_index() == 0 {
            return Err(RescueError::EmptyLog);
        }
        let natural = self.natural_quorum();
        if quorum == 0 || quorum >= natural {
            return Err(RescueError::NotBelowNatural {
                requested: quorum,
                natural,
                voters: self.voters.len(),
            });
        }
        if ticks == 0 {
            return Err(RescueError::NoDuration);
        }
        if seen_term > self.hard_state.term {
            self.adopt_term(seen_term);
        } else if seen_term == self.hard_state.term && self.role == Role::Candidate {
            // Its candidacy is for a term a lost server may have led; it campaigns again
            // past it (its vote of this term stays: a vote is never cleared).
            self.become_follower_in_term();
        }
        self.rescue = Some(Rescue {
            quorum,
            ticks_left: ticks,
        });
        match self.role {
            Role::Candidate => self.check_election_result(),
            _ => self.check_pre_vote_result(),
        }
        Ok(self.finish())
    }

    /// The rescue in effect, if any.
    pub fn rescue(&self) -> Option<Rescue> {
        self.rescue
    }

    /// A majority of the voters in effect.
    pub fn natural_quorum(&self) -> usize {
        quorum::quorum(self.voters.len())
    }

    /// The number of voters whose votes or acknowledgements this node counts as a quorum
    /// (NRG `QuorumNeeded`): a majority, or a rescued quorum below it.
    pub fn quorum_needed(&self) -> usize {
        let natural = self.natural_quorum();
        self.rescue.map_or(natural, |r| r.quorum.min(natural))
    }

    /// Rule (rescue): one tick less of the rescue; at its end the natural quorum counts
    /// again (a leader that cannot hear a majority then steps down at its CheckQuorum).
    pub(super) fn expire_rescue(&mut self) {
        if let Some(rescue) = self.rescue.as_mut() {
            rescue.ticks_left -= 1;
            if rescue.ticks_left == 0 {
                self.rescue = None;
            }
        }
    }

    /// Rule (rescue, NRG's recalculation on a membership change): once a majority of the
    /// voters is no more than the rescued quorum, the natural quorum is back and the rescue
    /// ends. It is not restored when the membership grows again.
    pub(super) fn end_rescue_once_natural_quorum_suffices(&mut self) {
        let natural = self.natural_quorum();
        if self.rescue.is_some_and(|r| natural <= r.quorum)
            && !planted!(self, RescueKeptAfterNaturalQuorum)
        {
            self.rescue = None;
        }
    }
}
