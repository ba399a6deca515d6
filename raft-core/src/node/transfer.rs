//! Leader transfer (NRG `StepDown`, etcd `TransferLeader`): catch the successor up, tell it
//! to campaign now, give up after an election timeout.

use super::{Node, TransferError};
use crate::action::{Action, Role};
use crate::message::{Message, TimeoutNow};
use crate::types::NodeId;

/// A leader transfer in progress: proposals are refused until it ends.
#[derive(Clone, Debug)]
pub(super) struct Transfer {
    pub(super) target: NodeId,
    /// Ticks since it started, or since the first TimeoutNow; abandoned after
    /// `election_timeout_max`.
    pub(super) elapsed: u32,
    /// A TimeoutNow has gone to the target.
    pub(super) timeout_now_sent: bool,
}

impl Node {
    /// Hands leadership to `preferred`, or to the most up-to-date voter (highest match index,
    /// lowest id on a tie) when `None` (NRG `StepDown`, etcd `TransferLeader`).
    ///
    /// From now on the leader refuses proposals with
    /// [`ProposeError::TransferInProgress`](super::ProposeError::TransferInProgress)
    /// (never losing one silently), brings the target's log up to date, and then sends it
    /// [`Message::TimeoutNow`] (NRG `EntryLeaderTransfer`), again on each of its
    /// acknowledgements while the transfer lasts. The target campaigns at once, skipping
    /// PreVote and exempt from leader stickiness; its higher term ends this leadership. If
    /// that has not happened within `election_timeout_max` ticks, the leader resumes normal
    /// operation. The leader's vote is never cleared. Asking again for the same target
    /// changes nothing.
    pub fn step_down(&mut self, preferred: Option<NodeId>) -> Result<Vec<Action>, TransferError> {
        let Some(leadership) = self.leadership.as_mut() else {
            return Err(TransferError::NotLeader {
                leader: self.leader,
            });
        };
        let target = match preferred {
            Some(target) => {
                if target == self.config.id
                    || !self.voters.contains(&target)
                    || !leadership.progress.contains_key(&target)
                {
                    return Err(TransferError::InvalidTarget { target });
                }
                target
            }
            None => {
                let mut best: Option<(NodeId, u64)> = None;
                for (&peer, progress) in leadership.progress.iter() {
                    if self.voters.contains(&peer)
                        && best.is_none_or(|(_, m)| progress.match_index > m)
                    {
                        best = Some((peer, progress.match_index));
                    }
                }
                best.ok_or(TransferError::NoSuccessor)?.0
            }
        };
        if let Some(transfer) = &leadership.transfer {
            if transfer.target == target {
                return Ok(self.finish());
            }
            return Err(TransferError::InProgress {
                target: transfer.target,
            });
        }
        leadership.transfer = Some(Transfer {
            target,
            elapsed: 0,
            timeout_now_sent: false,
        });
        self.send_append(target);
        self.send_timeout_now_once_caught_up(target);
        Ok(self.finish())
    }

    /// Rule (leader transfer, NRG `EntryLeaderTransfer`): a voter told by the leader of its
    /// term to campaign does so at once, skipping PreVote; its vote requests are exempt from
    /// leader stickiness. Non-voters (observers), leaders and paused nodes ignore it (the
    /// leader's transfer then times out), and so does a node in another term (a stale or
    /// duplicated TimeoutNow after the transfer's election).
    pub(super) fn handle_timeout_now(&mut self, message: TimeoutNow) {
        if message.term != self.hard_state.term
            || self.role == Role::Leader
            || !self.may_campaign()
            || self.paused
            || self.snapshot_unapplied()
        {
            return;
        }
        self.start_election(true);
    }

    /// Rule (leader transfer): once the transfer target holds the leader's whole log, tell
    /// it to campaign now.
    pub(super) fn send_timeout_now_once_caught_up(&mut self, peer: NodeId) {
        let last_index = self.log.last_index();
        let Some(leadership) = self.leadership.as_mut() else {
            return;
        };
        let Some(transfer) = leadership.transfer.as_mut().filter(|t| t.target == peer) else {
            return;
        };
        if leadership
            .progress
            .get(&peer)
            .is_none_or(|p| p.match_index != last_index)
        {
            return;
        }
        // The target campaigns from now on: give it a whole election timeout before the
        // leader takes proposals again, or a transfer that caught up late would be abandoned
        // while the target campaigns, and the leader's new entries would make the target's
        // election fail (found by the simulator: a term bump and a split vote after the
        // faults had stopped).
        if !transfer.timeout_now_sent {
            transfer.timeout_now_sent = true;
            if !planted!(self, LateTransferAbandoned) {
                transfer.elapsed = 0;
            }
        }
        let message = Message::TimeoutNow(TimeoutNow {
            term: self.hard_state.term,
            leader: self.config.id,
        });
        self.outbox.send_unattested(peer, message);
    }

    /// Rule (leader transfer): a transfer that has not ended leadership within
    /// `election_timeout_max` ticks (counted again from the first TimeoutNow) is abandoned and
    /// the leader takes proposals again.
    pub(super) fn expire_transfer(&mut self) {
        let limit = self.config.election_timeout_max;
        let Some(leadership) = self.leadership.as_mut() else {
            return;
        };
        if let Some(transfer) = leadership.transfer.as_mut() {
            transfer.elapsed += 1;
            if transfer.elapsed >= limit {
                leadership.transfer = None;
            }
        }
    }
}
