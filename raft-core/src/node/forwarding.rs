//! Forwarding: a follower hands a proposal or a peer removal to the leader it knows of (NRG
//! `ForwardProposal`, and `ProposeRemovePeer` on a follower), and the leader answers the
//! forwarder when asked to.
//!
//! The leader treats a forwarded proposal exactly as one made through its own API in its
//! current term: the same checks, the same append. What it would refuse is not appended. A
//! forwarder that gave a reply inbox (`reply`, not 0) hears the outcome as
//! [`Action::ForwardAnswered`]; one that did not hears nothing, as in NRG, and retries like
//! after a lost message.

use super::{Node, ProposeError};
use crate::action::{Action, Role};
use crate::membership::MembershipChange;
use crate::message::{
    ForwardOutcome, ForwardProposal, ForwardRefusal, ForwardRemovePeer, ForwardResponse, Message,
};
use crate::types::NodeId;
use bytes::Bytes;

/// The forwarder's view of a refusal.
fn refusal(error: &ProposeError) -> ForwardRefusal {
    match error {
        // A node whose persist failed stepped down at the failure and leads no more.
        ProposeError::NotLeader { .. }
        | ProposeError::WrongTerm { .. }
        | ProposeError::WriteFailed { .. } => ForwardRefusal::NotLeader,
        ProposeError::NotYetCommittedInTerm | ProposeError::LeaderRepairing => {
            ForwardRefusal::NotReady
        }
        ProposeError::TransferInProgress { .. } => ForwardRefusal::TransferInProgress,
        ProposeError::Overloaded { .. } | ProposeError::EmptyBatch => ForwardRefusal::Overloaded,
        ProposeError::MembershipChangePending { .. } => ForwardRefusal::MembershipChangePending,
        // Only removals are forwarded: a re-add refused for its term never answers one.
        ProposeError::NotAMember { .. }
        | ProposeError::AlreadyMember { .. }
        | ProposeError::RemovedInThisTerm { .. } => ForwardRefusal::NotAMember,
        ProposeError::LastVoter { .. } => ForwardRefusal::LastVoter,
    }
}

fn outcome(appended: &Result<u64, ProposeError>) -> ForwardOutcome {
    match appended {
        Ok(index) => ForwardOutcome::Accepted { index: *index },
        Err(error) => ForwardOutcome::Refused(refusal(error)),
    }
}

impl Node {
    /// From a follower: hands the proposal to the known leader (NRG `ForwardProposal`). The
    /// leader appends it in its current term; if leadership changes on the way the proposal
    /// is dropped and the client must retry, as with any message loss. On the leader itself
    /// it is [`Node::propose`] in the current term.
    pub fn forward(&mut self, data: impl Into<Bytes>) -> Result<Vec<Action>, ProposeError> {
        if self.role == Role::Leader {
            let term = self.hard_state.term;
            return self.propose(term, data).map(|p| p.actions);
        }
        let leader = self.known_leader()?;
        let message = Message::ForwardProposal(ForwardProposal {
            data: data.into(),
            reply: 0,
        });
        self.outbox.forward(leader, message);
        Ok(self.finish())
    }

    /// [`Node::forward`], and the outcome comes back as [`Action::ForwardAnswered`] with
    /// `reply` (not 0; the host's id for the request): from the leader's answer, or among
    /// these actions when this node leads (a refusal included). Refused with
    /// [`ProposeError::NotLeader`] only when no leader is known (nothing is sent).
    pub fn forward_with_reply(
        &mut self,
        reply: u64,
        data: impl Into<Bytes>,
    ) -> Result<Vec<Action>, ProposeError> {
        assert_ne!(reply, 0, "reply inbox 0 means no answer: use Node::forward");
        let proposal = ForwardProposal {
            data: data.into(),
            reply,
        };
        self.forward_or_decide(Message::ForwardProposal(proposal))
    }

    /// NRG `ProposeRemovePeer` from any member: the leader proposes removing `peer` (a
    /// voter or an observer) when it could take the change from its own API
    /// ([`Node::propose_membership`]), and refuses it otherwise (NRG ignores a removal of a
    /// peer it does not know, or one that arrives while another change is not committed).
    /// With `reply` not 0 the outcome comes back as in [`Node::forward_with_reply`].
    /// Refused with [`ProposeError::NotLeader`] only when no leader is known.
    pub fn forward_remove_peer(
        &mut self,
        reply: u64,
        peer: NodeId,
    ) -> Result<Vec<Action>, ProposeError> {
        self.forward_or_decide(Message::ForwardRemovePeer(ForwardRemovePeer {
            peer,
            reply,
        }))
    }

    /// A forwarding message from this node's application: handled here when this node
    /// leads (as if it came from itself), sent to the leader otherwise.
    fn forward_or_decide(&mut self, message: Message) -> Result<Vec<Action>, ProposeError> {
        if self.role == Role::Leader {
            let me = self.config.id;
            match message {
                Message::ForwardProposal(m) => self.handle_forwarded_proposal(me, m),
                Message::ForwardRemovePeer(m) => self.handle_forwarded_remove_peer(me, m),
                _ => unreachable!("only forwarding messages are forwarded"),
            }
        } else {
            let leader = self.known_leader()?;
            self.outbox.forward(leader, message);
        }
        Ok(self.finish())
    }

    fn known_leader(&self) -> Result<NodeId, ProposeError> {
        match self.leader {
            Some(leader) if leader != self.config.id => Ok(leader),
            _ => Err(ProposeError::NotLeader { leader: None }),
        }
    }

    /// Rule (forwarding): a forwarded proposal is appended like a local one in the current
    /// term; one the leader refuses (not leading, transferring, overloaded) is not, and the
    /// forwarder hears which, when it asked.
    pub(super) fn handle_forwarded_proposal(&mut self, from: NodeId, proposal: ForwardProposal) {
        let term = self.hard_state.term;
        let appended = self
            .append_proposals(term, std::iter::once(proposal.data))
            .map(|(index, _)| index);
        self.answer_forwarder(from, proposal.reply, outcome(&appended));
    }

    /// Rule (forwarding): a forwarded removal is the leader's own
    /// [`Node::propose_remove_peer`] in its current term, refused for the same reasons
    /// (not leading or not ready, another change pending, not a member, the last voter).
    pub(super) fn handle_forwarded_remove_peer(
        &mut self,
        from: NodeId,
        removal: ForwardRemovePeer,
    ) {
        let term = self.hard_state.term;
        let appended =
            self.append_membership_change(term, MembershipChange::RemovePeer(removal.peer));
        self.answer_forwarder(from, removal.reply, outcome(&appended));
    }

    /// The answer goes back to the forwarder (to this node's application when it forwarded
    /// to itself), only when it asked.
    fn answer_forwarder(&mut self, to: NodeId, reply: u64, outcome: ForwardOutcome) {
        if reply == 0 {
            return;
        }
        let term = self.hard_state.term;
        if to == self.config.id {
            self.outbox.forward_answered(reply, term, outcome);
        } else {
            let answer = ForwardResponse {
                term,
                reply,
                outcome,
            };
            self.outbox.forward(to, Message::ForwardResponse(answer));
        }
    }

    /// Rule (forwarding): the leader's answer is the application's, whatever this node's
    /// role or term now.
    pub(super) fn handle_forward_response(&mut self, answer: ForwardResponse) {
        self.outbox
            .forward_answered(answer.reply, answer.term, answer.outcome);
    }
}
