//! ReadIndex (Raft thesis §6.4): linearizable reads confirmed by a numbered heartbeat round.

use super::{Node, ReadError};
use crate::action::{Action, Role};
use crate::message::{Message, ReadAck};
use crate::quorum;
use crate::types::NodeId;
use std::collections::VecDeque;

/// The ReadIndex state of one leadership: numbered read rounds and the reads waiting for
/// one to be acknowledged by a quorum.
///
/// Invariants: `latest` only grows within a leadership; `waiting` is oldest first, and its
/// reads' rounds increase along it (each read starts a round), so reads become ready in the
/// order they were asked for.
#[derive(Clone, Debug, Default)]
pub(super) struct ReadRounds {
    /// The number of the latest round (0: none yet this term).
    latest: u64,
    waiting: VecDeque<PendingRead>,
}

/// A read waiting for leadership to be confirmed.
#[derive(Clone, Debug)]
struct PendingRead {
    context: u64,
    /// The commit index when the read arrived: the read is served once this is applied.
    index: u64,
    /// The read round started for it; only acknowledgements of this round or a later one
    /// confirm it.
    seq: u64,
}

impl ReadRounds {
    /// Starts a round for a read of `context` at commit index `index`.
    fn start(&mut self, context: u64, index: u64) {
        self.latest += 1;
        self.waiting.push_back(PendingRead {
            context,
            index,
            seq: self.latest,
        });
    }

    /// The read round every AppendEntries carries: the latest while reads wait, else 0 (so
    /// without reads the bytes are NRG's and followers send no ReadAck).
    pub(super) fn seq_on_the_wire(&self) -> u64 {
        if self.waiting.is_empty() {
            0
        } else {
            self.latest
        }
    }
}

impl Node {
    /// ReadIndex (Raft thesis §6.4): a linearizable read without a log entry. The leader
    /// records `(context, commit index)` and starts a read round: a heartbeat to every
    /// follower carrying the round's number (and every AppendEntries carries it while reads
    /// wait). Once a quorum of voters, itself included, acknowledged a round at least as new
    /// as the read's, no other leader can have committed anything the read could miss, and
    /// the node emits [`Action::ReadReady`] with the recorded index; the host serves the read
    /// once it has applied that index. With one voter the read is ready at once.
    ///
    /// Refused with [`ReadError::NotReady`] until this leader's own no-op is committed
    /// (before that its commit index may lag entries committed by earlier leaders; refusing
    /// rather than queueing keeps no state the host cannot see). Reads still waiting when
    /// leadership ends are dropped: the host fails them when it sees the role change.
    /// Contexts are the host's; they may repeat (a retried read) without harm, because a
    /// read is matched to acknowledgements by round, not by context (etcd-io/raft#397).
    pub fn read_index(&mut self, context: u64) -> Result<Vec<Action>, ReadError> {
        let Some(leadership) = self.leadership.as_mut() else {
            return Err(ReadError::NotLeader {
                leader: self.leader,
            });
        };
        if !leadership.ready && !planted!(self, ReadIndexBeforeNoop) {
            return Err(ReadError::NotReady);
        }
        leadership.reads.start(context, self.commit_index);
        self.broadcast_read_round();
        self.confirm_reads();
        Ok(self.finish())
    }

    /// Rule (ReadIndex, follower side): a follower answers an AppendEntries of its leader
    /// that carries a read round with a [`ReadAck`] for that round, whatever its log says.
    /// The ack attests only "my term is still yours", which needs no persist: a vote or an
    /// acknowledgement in a later term would have been made durable (raising the durable
    /// term) before it left, so a node that still answers in this term has given none.
    pub(super) fn send_read_ack(&mut self, leader: NodeId, seq: u64) {
        let ack = ReadAck {
            term: self.hard_state.term,
            seq,
            peer: self.config.id,
        };
        self.outbox.send_unattested(leader, Message::ReadAck(ack));
    }

    /// Rule (ReadIndex): a read round is a heartbeat to every follower carrying the round's
    /// number. It is sent at the follower's match index, which the follower is known to hold,
    /// so it never provokes a rejection that would disturb replication.
    fn broadcast_read_round(&mut self) {
        let Some((followers, replicator)) = self.replicator() else {
            return;
        };
        for (&peer, progress) in followers.iter() {
            // At the snapshot for a follower that matches less than the leader keeps.
            let prev_index = progress.match_index.max(replicator.log.start_index());
            let heartbeat = replicator.heartbeat_from(prev_index + 1);
            replicator
                .outbox
                .send_unattested(peer, Message::AppendEntries(heartbeat));
        }
    }

    /// Rule (ReadIndex): record a follower's acknowledgement of read rounds up to `seq`
    /// (only of this term, only from a follower we track, never for a round not started).
    /// Keeping the highest round per follower makes duplicates count once and a delayed
    /// acknowledgement of an older round unable to confirm a newer read (etcd-io/raft#397).
    pub(super) fn handle_read_ack(&mut self, from: NodeId, ack: ReadAck) {
        if self.role != Role::Leader || ack.term != self.hard_state.term || ack.peer != from {
            return;
        }
        let Some(leadership) = self.leadership.as_mut() else {
            return;
        };
        if ack.seq > leadership.reads.latest {
            return; // a round we never started: malformed
        }
        let Some(progress) = leadership.progress.get_mut(&from) else {
            return;
        };
        progress.recent_active = true;
        if ack.seq > progress.read_acked {
            progress.read_acked = ack.seq;
            self.confirm_reads();
        }
    }

    /// Rule (ReadIndex): a read is ready once a quorum of voters (this leader included)
    /// acknowledged a round numbered at least its own. Rounds only grow, so reads become
    /// ready in order.
    fn confirm_reads(&mut self) {
        let needed = self.quorum_needed();
        let Some(leadership) = self.leadership.as_mut() else {
            return;
        };
        let (id, progress) = (self.config.id, &leadership.progress);
        let confirmed = leadership
            .reads
            .waiting
            .iter()
            .take_while(|read| {
                quorum::reaches(&self.voters, needed, |&voter| {
                    voter == id
                        || planted!(self, ReadWithoutQuorumCheck)
                        || progress
                            .get(&voter)
                            .is_some_and(|p| p.read_acked >= read.seq)
                })
            })
            .count();
        for read in leadership.reads.waiting.drain(..confirmed) {
            self.outbox.read_ready(read.context, read.index);
        }
    }
}
