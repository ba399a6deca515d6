//! Membership changes (single-server, voters and observers): proposing one, and what changes
//! when one is appended, truncated or committed.

use super::{Node, ProposeError, Proposed};
use crate::membership::{ChangeRefusal, MembershipChange};
use crate::progress::Progress;
use crate::types::{EntryKind, NodeId};

impl Node {
    /// Proposes a single-server membership change for the leadership term `term` (NRG
    /// `ProposeAddPeer` / `ProposeRemovePeer`, plus observers). The leader appends an
    /// [`EntryKind::PeerState`] entry holding the whole new membership, and the change takes
    /// effect at once, on every node as soon as it appends the entry (reverted if the entry
    /// is truncated): from then on only the new voters' votes and acknowledgements count, and
    /// the leader replicates to an added peer.
    ///
    /// Refused (nothing appended) unless this node leads in `term` with no transfer in
    /// progress ([`ProposeError::NotLeader`], [`ProposeError::WrongTerm`],
    /// [`ProposeError::TransferInProgress`]); until its no-op is committed
    /// ([`ProposeError::NotYetCommittedInTerm`]); while another change is not committed
    /// ([`ProposeError::MembershipChangePending`]); when the change changes nothing
    /// ([`ProposeError::AlreadyMember`], [`ProposeError::NotAMember`]) or removes the last
    /// voter ([`ProposeError::LastVoter`]); and by flow control ([`ProposeError::Overloaded`]).
    ///
    /// Removing the leader itself: it keeps leading (without counting itself) until the
    /// removal is committed, then steps down and never campaigns again.
    pub fn propose_membership(
        &mut self,
        term: u64,
        change: MembershipChange,
    ) -> Result<Proposed, ProposeError> {
        let index = self.append_membership_change(term, change)?;
        Ok(Proposed {
            first_index: index,
            last_index: index,
            actions: self.finish(),
        })
    }

    /// [`Node::propose_membership`] without ending the input (also the path of a forwarded
    /// removal): the checks, the append and its replication. Returns the entry's index.
    pub(super) fn append_membership_change(
        &mut self,
        term: u64,
        change: MembershipChange,
    ) -> Result<u64, ProposeError> {
        self.check_can_propose(term)?;
        if !self.leadership.as_ref().is_some_and(|l| l.ready)
            && !planted!(self, MembershipBeforeOwnTermCommit)
        {
            return Err(ProposeError::NotYetCommittedInTerm);
        }
        if let Some(index) = self.pending_membership_change() {
            return Err(ProposeError::MembershipChangePending { index });
        }
        let peer = change.peer();
        let adds = !matches!(change, MembershipChange::RemovePeer(_));
        if adds
            && self
                .leadership
                .as_ref()
                .is_some_and(|l| l.removed.contains(&peer))
            && !planted!(self, LateAckAfterReadd)
        {
            return Err(ProposeError::RemovedInThisTerm { peer });
        }
        let next = self
            .membership
            .current()
            .changed(change)
            .map_err(|refusal| match refusal {
                ChangeRefusal::AlreadyMember => ProposeError::AlreadyMember { peer },
                ChangeRefusal::NotAMember => ProposeError::NotAMember { peer },
                ChangeRefusal::LastVoter => ProposeError::LastVoter { peer },
            })?;
        self.check_uncommitted_limit(1)?;
        let data = crate::codec::encode_peer_state(&next.to_peer_state());
        self.append_as_leader(EntryKind::PeerState, data.into());
        let index = self.log.last_index();
        self.replicate_to_all();
        // A removal can leave a quorum that is already there (the leader counts itself only
        // while it votes).
        self.advance_leader_commit();
        Ok(index)
    }

    /// [`Node::propose_membership`] with [`MembershipChange::AddVoter`].
    pub fn propose_add_voter(&mut self, term: u64, peer: NodeId) -> Result<Proposed, ProposeError> {
        self.propose_membership(term, MembershipChange::AddVoter(peer))
    }

    /// [`Node::propose_membership`] with [`MembershipChange::AddObserver`].
    pub fn propose_add_observer(
        &mut self,
        term: u64,
        peer: NodeId,
    ) -> Result<Proposed, ProposeError> {
        self.propose_membership(term, MembershipChange::AddObserver(peer))
    }

    /// [`Node::propose_membership`] with [`MembershipChange::RemovePeer`] (a voter or an
    /// observer).
    pub fn propose_remove_peer(
        &mut self,
        term: u64,
        peer: NodeId,
    ) -> Result<Proposed, ProposeError> {
        self.propose_membership(term, MembershipChange::RemovePeer(peer))
    }

    /// Rules (membership), when the membership in effect changed (an entry appended or
    /// truncated): only the new voters count from now on; the peer-state file is rewritten
    /// with the next persist; a leader starts replicating to added members. (A removed
    /// member's progress is kept until the removal commits, so it hears of its removal.)
    pub(super) fn membership_changed(&mut self) {
        self.end_eviction_on_membership_change();
        let current = self.membership.current();
        self.voters.clear();
        self.voters.extend(current.voters.iter().copied());
        self.outbox.membership_changed(current.to_peer_state());
        if let Some(leadership) = self.leadership.as_mut() {
            let next = self.log.last_index();
            for peer in current.members().filter(|&p| p != self.config.id) {
                leadership
                    .progress
                    .get_or_insert_with(peer, || Progress::new(next));
            }
        }
        self.end_rescue_once_natural_quorum_suffices();
    }

    /// Rules (membership), when the commit index passed the latest membership change: the
    /// leader stops replicating to removed members (and remembers them for the rest of its
    /// term: a member it removed is not re-added in the same term), and a leader that removed itself steps
    /// down (it is no voter, so it never campaigns again).
    pub(super) fn membership_committed(&mut self, old_commit: u64) {
        let change = self.membership.last_change_index();
        if change <= old_commit || change > self.commit_index {
            return;
        }
        let Some(leadership) = self.leadership.as_mut() else {
            return;
        };
        let current = self.membership.current();
        let removed = &mut leadership.removed;
        leadership.progress.retain(|&peer, _| {
            let stays = current.contains(peer);
            if !stays {
                removed.push(peer);
            }
            stays
        });
        if !self.voters.contains(&self.config.id) {
            self.become_follower_in_term();
        }
    }
}
