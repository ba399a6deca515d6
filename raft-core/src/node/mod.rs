//! The Raft node: inputs in, ordered [`Action`]s out.
//!
//! This file holds the [`Node`] (its state, and the invariant each field keeps), its
//! accessors and the inputs, which dispatch to the rules. Each group of rules is a room of
//! its own, every rule one function named after it:
//!
//! | room | rules |
//! |---|---|
//! | `role.rs` | terms and roles: a higher term seen, stepping down, what the application hears |
//! | `election.rs` | election timer, PreVote, votes, leader stickiness |
//! | `follower.rs` | AppendEntries at a follower: consistency check, truncation, commit |
//! | `leader.rs` | becoming leader, proposals, append responses, commit, CheckQuorum |
//! | `replication.rs` | the leader's sends: appends within the window, heartbeats |
//! | `read_index.rs` | ReadIndex |
//! | `transfer.rs` | leader transfer |
//! | `snapshot.rs` | compaction, sending and receiving snapshots |
//! | `checkpoint.rs` | snapshots in two steps (checkpoints), forced snapshots |
//! | `membership.rs` | membership changes |
//! | `forwarding.rs` | proposals and removals forwarded to the leader, and its answers |
//! | `peers.rs` | peer tracking: when each peer was last heard, its lag, `Peers()` and `Quorum()` |
//! | `managed.rs` | managed and unmanaged groups: an unknown peer heard is observed, or proposed as a voter |
//! | `evict.rs` | evicting peers of a leaderless managed group without the log |
//! | `overrun.rs` | backlogs past the threshold: leader step-down, follower quorum pause |
//! | `rescue.rs` | rescue quorum: a lowered quorum for a group that lost its majority |
//! | `log_cache.rs` | the bounded log cache: payloads evicted past the bound, read back to send them |
//! | `apply.rs` | handing committed entries to the application; pause and resume |
//! | `outbox.rs` | durability: pending changes become a Persist; attesting messages wait for it |
//! | `recovery.rs` | the state a node restarts from |
//! | `repair.rs` | protocol-aware recovery: a damaged node votes as though it held its log, and is repaired from the leader |
//! | `leader_repair.rs` | protocol-aware recovery when no leader repairs: a damaged node campaigns, and before its no-op fetches intact copies from its peers (the nack quorum) |
//! | `write_error.rs` | a failed write or fsync: nothing of it is durable, the error is sticky until a restart |
//! | `errors.rs` | the error types |

use crate::action::{Action, PersistId, Role};
use crate::config::{Config, ConfigError, Recovered};
use crate::log::Log;
use crate::membership::MembershipLog;
use crate::message::Message;
use crate::types::{Entry, HardState, NodeId, PeerState, Snapshot};
use bytes::Bytes;

/// `planted!(self, Bug)`: true when that planted bug is switched on. Without the
/// `planted-bugs` feature it is the constant `false`, and the bug paths compile away.
#[cfg(feature = "planted-bugs")]
macro_rules! planted {
    ($node:expr, $bug:ident) => {
        $node.planted == Some(crate::planted::PlantedBug::$bug)
    };
}
#[cfg(not(feature = "planted-bugs"))]
macro_rules! planted {
    ($node:expr, $bug:ident) => {
        false
    };
}

mod apply;
mod checkpoint;
mod election;
mod errors;
mod evict;
mod follower;
mod forwarding;
mod leader;
mod leader_repair;
mod log_cache;
mod managed;
mod membership;
mod outbox;
mod overrun;
mod peers;
mod read_index;
mod recovery;
mod repair;
mod replication;
mod rescue;
mod reset;
mod role;
mod snapshot;
mod tally;
mod transfer;
mod write_error;

pub use checkpoint::SnapshotCheckpoint;
pub use errors::{ContractError, ProposeError, ReadError, SnapshotError, TransferError};
pub use evict::{EvictError, Eviction};
pub use peers::PeerInfo;
pub use repair::LogDamage;
pub use rescue::{Rescue, RescueError};
pub use reset::ResetError;
pub use write_error::{WriteError, WriteErrorKind, WriteStage};

use checkpoint::OpenCheckpoint;
use election::ElectionTimer;
use leader::Leadership;
use log_cache::LogReads;
use managed::ObservedPeers;
use outbox::Outbox;
use peers::PeerTracker;
use role::adopts_sender_term;
use snapshot::IncomingSnapshot;
use tally::VoteTally;

/// NRG's health checks (`Current()` / `Healthy()`), see [`Node::health`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub struct Health {
    /// Something is committed, and this node leads, or follows a leader it heard from within
    /// the minimum election timeout and is not paused with commits it has not handed out.
    pub current: bool,
    /// Current, and (unless leading) everything committed is applied.
    pub healthy: bool,
}

/// Indexes of a successful proposal.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Proposed {
    pub first_index: u64,
    pub last_index: u64,
    pub actions: Vec<Action>,
}

/// A sans-IO Raft node. See the crate documentation for how to drive it.
#[derive(Clone, Debug)]
pub struct Node {
    // Invariants between the fields (each field's own are on it):
    // - `votes` is `Some` only while a candidate, `pre_votes` only while a follower runs a
    //   pre-vote, `leadership` exactly while leading; `leader` is this node exactly while
    //   leading.
    // - `applied_index <= processed_index <= apply_handed_out <= commit_index <=
    //   log.last_index()` and
    //   `log.start_index() <= commit_index`; the commit index never decreases while the node
    //   runs.
    // - `voters` is the voters of `counted_membership()`: `membership.current()`'s, or an
    //   eviction's while one is in effect.
    // - Between two inputs nothing is pending in the outbox, and its log end is the log's:
    //   every input ends in `finish_into`, which checks the one and ensures the other.
    #[cfg(feature = "planted-bugs")]
    planted: Option<crate::planted::PlantedBug>,
    config: Config,
    /// The voters counted (a copy of the voters of `membership.current()`, renewed by
    /// `membership_changed`, or of an eviction's membership), in id order. A `Vec`: it is walked for every
    /// acknowledgement, and holds a handful of ids.
    voters: Vec<NodeId>,
    /// The membership as a function of the log (see [`crate::membership`]): the latest
    /// membership entry in the log is in effect, committed or not.
    membership: MembershipLog,

    /// Current term and vote, as last changed in memory (durable once its persist completes).
    /// The term never decreases; the vote never changes within a term once cast.
    hard_state: HardState,
    role: Role,
    /// The (role, term) last reported with [`Action::RoleChanged`].
    reported_role: (Role, u64),
    /// The leader of the current term, when known (this node while leading).
    leader: Option<NodeId>,
    /// The leader last announced to the application with [`Action::LeaderChanged`]: never
    /// this node before its no-op of the term is committed.
    announced_leader: Option<NodeId>,
    /// The log after the latest snapshot.
    log: Log,
    /// Highest index known committed.
    commit_index: u64,
    /// Highest index handed to the host in [`Action::Apply`] (or reached by an
    /// [`Action::ApplySnapshot`]).
    apply_handed_out: u64,
    /// Highest index the application reported consumed ([`Node::processed`]): it may be
    /// ahead of `applied_index` while an application holds entries it has not applied yet
    /// (a batch spanning several entries). A node does not campaign with commits its
    /// application has not consumed.
    processed_index: u64,
    /// Highest index whose effects the application reported in its state: how far a
    /// snapshot may compact the log.
    applied_index: u64,
    /// [`Node::pause_apply`]: no Apply actions, no campaigning; only ever a follower.
    paused: bool,

    /// Counts only while not leading (and not paused): a follower's or candidate's wait.
    election_timer: ElectionTimer,
    /// Ticks since the last heartbeat broadcast; counts only while leading, always below
    /// [`Config::heartbeat_interval`].
    heartbeat_elapsed: u32,
    /// Ticks since this node last heard from the leader of its term (an AppendEntries it
    /// accepted as coming from that leader); saturates, and starts at `u32::MAX` (never).
    /// Leader stickiness, PreVote and health compare it with the minimum election timeout.
    ticks_since_leader: u32,

    /// While a candidate: the votes of this term's election.
    votes: Option<VoteTally>,
    /// While a follower runs a pre-vote: the pre-votes for `term + 1`.
    pre_votes: Option<VoteTally>,
    /// While leading: the followers' progress, the no-op, CheckQuorum, a transfer, reads.
    leadership: Option<Leadership>,

    /// Every action of the input being handled, and what is durable: the only producer of
    /// sends and persists.
    outbox: Outbox,

    /// The latest snapshot (its index is `log.start_index()`): what a leader sends to a
    /// follower that needs compacted entries.
    snapshot: Option<Snapshot>,
    /// A snapshot being received from the leader (memory only).
    incoming_snapshot: Option<IncomingSnapshot>,
    /// A received snapshot whose [`Action::ApplySnapshot`] waits for [`Node::resume_apply`]
    /// (only while paused).
    snapshot_to_apply: Option<Snapshot>,
    /// The index of the last received snapshot: the node does not campaign until the
    /// application reported it applied.
    received_snapshot_index: u64,
    /// [`Node::rescue_quorum`]: the lowered quorum this node counts with, while it lasts.
    rescue: Option<Rescue>,
    /// The snapshot checkpoint open ([`Node::begin_snapshot`]): memory only.
    checkpoint: Option<OpenCheckpoint>,
    /// Checkpoints begun in this lifetime: the id of the next one.
    checkpoints_begun: u64,
    /// NRG `quorumPaused`: a follower with too large an unapplied backlog acknowledges
    /// nothing (`overrun.rs`). Never set while leading.
    quorum_paused: bool,
    /// Damage to the synced log recovery found and replication has not yet repaired: the
    /// position of the log this node held, which it answers votes with (see `repair.rs`).
    repair: Option<LogDamage>,
    /// Election timeouts that fired while repairing since a leader was last heard: a
    /// repairing node campaigns only after a few (`leader_repair.rs`).
    repair_waits: u32,
    /// No entry of the log this node held above this index changed its membership
    /// ([`Recovered::membership_bound`]); `None` when unknown. Set at recovery only: what
    /// the node appends later it holds intact.
    membership_bound: Option<u64>,
    /// What recovery made of the term/vote record's copies (one may have been damaged).
    vote_record: crate::storage::VoteRecord,
    /// A persist failed in this life (`write_error.rs`): sticky until a restart.
    write_error: Option<WriteError>,
    /// When each peer was last heard from (NRG `trackPeer`), for [`Node::peers`] and
    /// [`Node::quorum`]; monitoring only.
    peer_tracker: PeerTracker,
    /// The read of evicted payloads in flight and the payloads read back (`log_cache.rs`).
    log_reads: LogReads,
    /// Peers heard that are not members (managed groups only, `managed.rs`).
    observed: ObservedPeers,
    /// [`Node::evict_peers`]: the membership counted instead of the log's, until the log's
    /// membership changes; memory only.
    eviction: Option<Eviction>,
}

impl Node {
    /// Builds a node from its configuration and what its storage recovered. The node starts
    /// as a follower with commit index 0: committed entries are re-learnt from the leader and
    /// re-applied (NRG does not persist the commit index either).
    pub fn new(config: Config, recovered: Recovered) -> Result<Node, ConfigError> {
        config.validate()?;
        let restart = recovery::restart(&config, recovered)?;
        let voters = restart
            .membership
            .current()
            .voters
            .iter()
            .copied()
            .collect();
        let start_index = restart.log.start_index();
        let outbox = Outbox::new(
            restart.durable_hard_state,
            restart.log.last_index(),
            restart.adopted_log_term.then_some(restart.hard_state),
        );
        let mut node = Node {
            voters,
            membership: restart.membership,
            hard_state: restart.hard_state,
            role: Role::Follower,
            reported_role: (Role::Follower, restart.hard_state.term),
            leader: None,
            announced_leader: None,
            log: restart.log,
            commit_index: start_index,
            apply_handed_out: start_index,
            processed_index: start_index,
            applied_index: start_index,
            paused: false,
            election_timer: ElectionTimer::new(config.seed),
            heartbeat_elapsed: 0,
            ticks_since_leader: u32::MAX,
            votes: None,
            pre_votes: None,
            leadership: None,
            outbox,
            snapshot: restart.snapshot,
            incoming_snapshot: None,
            snapshot_to_apply: None,
            received_snapshot_index: 0,
            rescue: None,
            checkpoint: None,
            checkpoints_begun: 0,
            quorum_paused: false,
            repair: restart.repair,
            repair_waits: 0,
            membership_bound: restart.membership_bound,
            vote_record: restart.vote_record,
            write_error: None,
            peer_tracker: PeerTracker::default(),
            log_reads: LogReads::default(),
            observed: ObservedPeers::default(),
            eviction: None,
            #[cfg(feature = "planted-bugs")]
            planted: None,
            config,
        };
        node.reset_election_timer();
        Ok(node)
    }

    /// Switches one planted bug on (the simulator's bug hunt), right after [`Node::new`]. See
    /// [`crate::planted`]. An error is the planted bug refusing the recovered state: the
    /// node does not start (`recovery-refuses-log-above-term`).
    #[cfg(feature = "planted-bugs")]
    pub fn plant(&mut self, bug: crate::planted::PlantedBug) -> Result<(), String> {
        use crate::planted::PlantedBug;
        self.planted = Some(bug);
        if bug == PlantedBug::NoPreVoteCheckQuorum {
            self.config.pre_vote = false;
            self.config.check_quorum = false;
        }
        if bug == PlantedBug::TruncateDamagedSuffix {
            // The bug: the damaged suffix is forgotten, and the node votes and campaigns
            // with what is left (NRG's behaviour).
            self.repair = None;
        }
        if bug == PlantedBug::VoteRecordForgotten
            && self.vote_record != crate::storage::VoteRecord::Intact
        {
            // The bug: a damaged term/vote file is read as one never written, though its
            // copy survived; the node starts from its log's last term with no vote.
            let term = self.log.last_term();
            self.hard_state = HardState { term, vote: None };
            self.reported_role = (Role::Follower, term);
        }
        let durable_term = self.outbox.durable_hard_state().term;
        if bug == PlantedBug::RecoveryRefusesLogAboveTerm && self.log.last_term() > durable_term {
            return Err(format!(
                "the log ends in term {} but the term/vote file holds term {durable_term}",
                self.log.last_term()
            ));
        }
        Ok(())
    }

    pub fn id(&self) -> NodeId {
        self.config.id
    }

    pub fn config(&self) -> &Config {
        &self.config
    }

    pub fn role(&self) -> Role {
        self.role
    }

    pub fn term(&self) -> u64 {
        self.hard_state.term
    }

    pub fn vote(&self) -> Option<NodeId> {
        self.hard_state.vote
    }

    pub fn hard_state(&self) -> HardState {
        self.hard_state
    }

    /// The leader this node knows of (itself when leading, even before it is ready).
    pub fn leader(&self) -> Option<NodeId> {
        self.leader
    }

    /// Leading and the no-op of this term is committed: the node may serve.
    pub fn is_ready_leader(&self) -> bool {
        self.leadership.as_ref().is_some_and(|l| l.ready)
    }

    pub fn commit_index(&self) -> u64 {
        self.commit_index
    }

    pub fn applied_index(&self) -> u64 {
        self.applied_index
    }

    /// Highest index the application reported consumed (see [`Node::processed`]).
    pub fn processed_index(&self) -> u64 {
        self.processed_index
    }

    pub fn last_index(&self) -> u64 {
        self.log.last_index()
    }

    pub fn last_term(&self) -> u64 {
        self.log.last_term()
    }

    pub fn durable_index(&self) -> u64 {
        self.outbox.durable_index()
    }

    /// The log after the snapshot. With a cache bound ([`Config::log_cache_bytes`]) the
    /// `Normal` entries up to [`Node::payloads_evicted_through`] have an empty payload.
    pub fn log(&self) -> &[Entry] {
        self.log.entries()
    }

    /// The entry at `index` (its payload empty if evicted, see [`Node::log`]).
    pub fn entry(&self, index: u64) -> Option<&Entry> {
        self.log.get(index)
    }

    /// The voters of the membership in effect (the latest in the log, committed or not).
    pub fn voters(&self) -> impl Iterator<Item = NodeId> + '_ {
        self.voters.iter().copied()
    }

    /// The voters of every membership the log holds, oldest first: the one at its start (the
    /// snapshot's, the peer-state file's or the configured one), then the one after each
    /// membership entry, committed or not. A truncation can bring back an earlier one, and a
    /// follower the leader catches up from before a change passes through it.
    pub fn voters_of_log_memberships(
        &self,
    ) -> impl Iterator<Item = &std::collections::BTreeSet<NodeId>> + '_ {
        self.membership.all().map(|m| &m.voters)
    }

    /// The observers (non-voting members) of the membership in effect.
    pub fn observers(&self) -> impl Iterator<Item = NodeId> + '_ {
        self.membership.current().observers.iter().copied()
    }

    /// The membership in effect, as the peer-state file records it.
    pub fn peer_state(&self) -> PeerState {
        self.membership.current().to_peer_state()
    }

    /// The index of the latest membership change when it is not committed yet.
    pub fn pending_membership_change(&self) -> Option<u64> {
        let index = self.membership.last_change_index();
        (index > self.commit_index).then_some(index)
    }

    /// The leader's recorded match index for `peer` (None when not leading or unknown peer).
    pub fn match_index(&self, peer: NodeId) -> Option<u64> {
        self.leadership
            .as_ref()?
            .progress
            .get(&peer)
            .map(|p| p.match_index)
    }

    /// The index of the latest snapshot, where the in-memory log starts (0: none).
    pub fn snapshot_index(&self) -> u64 {
        self.log.start_index()
    }

    /// The latest snapshot: made with [`Node::install_snapshot`], received from the leader,
    /// or recovered.
    pub fn snapshot(&self) -> Option<&Snapshot> {
        self.snapshot.as_ref()
    }

    /// Applying is paused ([`Node::pause_apply`]).
    pub fn is_paused(&self) -> bool {
        self.paused
    }

    /// NRG `Current()` / `Healthy()`. Nothing counts before anything is committed. A leader
    /// is current and healthy (as in NRG, whatever its applied index). A follower or
    /// candidate is current when it follows a leader it heard from within the minimum
    /// election timeout and is not paused with commits it has not handed out; healthy when,
    /// in addition, it has applied everything committed it knows of.
    pub fn health(&self) -> Health {
        if self.commit_index == 0 {
            return Health::default();
        }
        if self.role == Role::Leader {
            return Health {
                current: true,
                healthy: true,
            };
        }
        let current = self.leader.is_some_and(|l| l != self.config.id)
            && self.ticks_since_leader < self.config.election_timeout_min
            && !(self.paused && self.commit_index > self.apply_handed_out);
        Health {
            current,
            healthy: current && self.applied_index == self.commit_index,
        }
    }

    /// The successor a leader transfer in progress hands leadership to.
    pub fn transfer_target(&self) -> Option<NodeId> {
        self.leadership
            .as_ref()?
            .transfer
            .as_ref()
            .map(|t| t.target)
    }

    /// AppendEntries messages in flight to `peer` (None when not leading or unknown peer).
    /// Bounded by [`Config::max_inflight_messages`]: the leader keeps no per-follower queue,
    /// only this window of indexes; what a follower misses is re-read from the log.
    pub fn inflight_messages(&self, peer: NodeId) -> Option<usize> {
        self.leadership
            .as_ref()?
            .progress
            .get(&peer)
            .map(|p| p.inflight.len())
    }

    /// The election timeout drawn for the current wait, in ticks.
    pub fn election_timeout(&self) -> u32 {
        self.election_timer.timeout()
    }

    /// Persists issued and not yet reported complete.
    pub fn persists_in_flight(&self) -> usize {
        self.outbox.persists_in_flight()
    }

    /// Messages held back until a persist completes.
    pub fn held_messages(&self) -> usize {
        self.outbox.held_messages()
    }

    /// One unit of logical time.
    pub fn tick(&mut self) -> Vec<Action> {
        let mut out = Vec::new();
        self.tick_into(&mut out);
        out
    }

    /// [`Node::tick`], with the actions appended to `out` (see [`Node::receive_into`]).
    pub fn tick_into(&mut self, out: &mut Vec<Action>) {
        self.peer_tracker.tick();
        self.expire_rescue();
        match self.role {
            Role::Leader => {
                if self.check_quorum_at_window_end()
                    || self.step_down_if_overrun()
                    || self.give_up_stalled_repair()
                {
                    return self.finish_into(out);
                }
                self.record_eviction_in_log();
                self.expire_transfer();
                self.heartbeat_elapsed += 1;
                if self.heartbeat_elapsed >= self.config.heartbeat_interval {
                    self.heartbeat_elapsed = 0;
                    if self.is_leader_repairing() {
                        self.send_repair_requests();
                    } else {
                        self.broadcast_heartbeat();
                    }
                }
            }
            Role::Follower | Role::Candidate => {
                self.ticks_since_leader = self.ticks_since_leader.saturating_add(1);
                if !self.paused && self.election_timer.tick() {
                    self.election_timeout_fired();
                }
            }
        }
        self.hand_out_after_failed_read();
        self.finish_into(out)
    }

    /// Starts campaigning now, as if the election timeout fired (NATS `Campaign`): with
    /// [`Config::pre_vote`] on, that is a pre-vote first. Does nothing while leading or
    /// paused.
    pub fn campaign(&mut self) -> Vec<Action> {
        if self.role != Role::Leader && !self.paused {
            self.election_timeout_fired();
        }
        self.finish()
    }

    /// A message from a peer.
    pub fn receive(&mut self, from: NodeId, message: Message) -> Vec<Action> {
        let mut out = Vec::new();
        self.receive_into(from, message, &mut out);
        out
    }

    /// [`Node::receive`], with the actions appended to `out` instead of returned in a new
    /// `Vec`. A host that drains `out` after each call and passes it in again allocates no
    /// action list per input (the node and the host trade two buffers back and forth). The
    /// other hot inputs have the same variant: [`Node::tick_into`], [`Node::propose_into`],
    /// [`Node::persisted_into`], [`Node::applied_into`].
    pub fn receive_into(&mut self, from: NodeId, message: Message, out: &mut Vec<Action>) {
        if self.ignores_for_leader_stickiness(&message) {
            return self.finish_into(out);
        }
        if message.term() > self.hard_state.term && adopts_sender_term(&message) {
            self.observe_higher_term(from, &message);
        }
        let unknown_peer = self.track_peer(from, &message);
        match message {
            Message::VoteRequest(m) => self.handle_vote_request(m),
            Message::VoteResponse(m) => self.handle_vote_response(from, m),
            Message::AppendEntries(m) => self.handle_append_entries(m),
            Message::AppendResponse(m) => self.handle_append_response(from, m),
            Message::ForwardProposal(m) => self.handle_forwarded_proposal(from, m),
            Message::ForwardRemovePeer(m) => self.handle_forwarded_remove_peer(from, m),
            Message::ForwardResponse(m) => self.handle_forward_response(m),
            Message::PreVoteRequest(m) => self.handle_pre_vote_request(m),
            Message::PreVoteResponse(m) => self.handle_pre_vote_response(from, m),
            Message::TimeoutNow(m) => self.handle_timeout_now(m),
            Message::TransferVoteRequest(m) => self.handle_vote_request(m),
            Message::ReadAck(m) => self.handle_read_ack(from, m),
            Message::InstallSnapshot(m) => self.handle_install_snapshot(*m),
            Message::SnapshotResponse(m) => self.handle_snapshot_response(from, m),
            Message::RepairRequest(m) => self.handle_repair_request(m),
            Message::RepairResponse(m) => self.handle_repair_response(from, *m),
        }
        if let Some(peer) = unknown_peer {
            self.add_unknown_peer(peer);
        }
        self.finish_into(out)
    }

    /// Proposes one entry for the leadership term `term` (term-fenced: refused in any other
    /// term, so an application acting on a stale leadership cannot inject entries).
    pub fn propose(&mut self, term: u64, data: impl Into<Bytes>) -> Result<Proposed, ProposeError> {
        let mut actions = Vec::new();
        let index = self.propose_into(term, data, &mut actions)?;
        Ok(Proposed {
            first_index: index,
            last_index: index,
            actions,
        })
    }

    /// [`Node::propose`], with the actions appended to `out` (see [`Node::receive_into`]).
    /// Returns the entry's index; on an error `out` is unchanged.
    pub fn propose_into(
        &mut self,
        term: u64,
        data: impl Into<Bytes>,
        out: &mut Vec<Action>,
    ) -> Result<u64, ProposeError> {
        let (index, _) = self.append_proposals(term, std::iter::once(data.into()))?;
        self.finish_into(out);
        Ok(index)
    }

    /// Proposes entries as one contiguous run of log indexes (NRG `ProposeMulti`): no other
    /// proposal can land between them.
    pub fn propose_batch(
        &mut self,
        term: u64,
        batch: Vec<Bytes>,
    ) -> Result<Proposed, ProposeError> {
        if batch.is_empty() {
            self.check_can_propose(term)?;
            return Err(ProposeError::EmptyBatch);
        }
        let (first_index, last_index) = self.append_proposals(term, batch.into_iter())?;
        Ok(Proposed {
            first_index,
            last_index,
            actions: self.finish(),
        })
    }

    /// The host reports [`Action::Persist`] `id` (and every earlier one) durable.
    pub fn persisted(&mut self, id: PersistId) -> Result<Vec<Action>, ContractError> {
        let mut out = Vec::new();
        self.persisted_into(id, &mut out)?;
        Ok(out)
    }

    /// [`Node::persisted`], with the actions appended to `out` (see [`Node::receive_into`]).
    pub fn persisted_into(
        &mut self,
        id: PersistId,
        out: &mut Vec<Action>,
    ) -> Result<(), ContractError> {
        if self.outbox.persisted(id)? {
            self.finish_repair_once_durable();
            match self.role {
                Role::Candidate => self.count_own_vote_once_durable(),
                Role::Leader => {
                    self.finish_leader_repair_once_durable();
                    self.advance_leader_commit();
                }
                Role::Follower => {}
            }
        }
        self.finish_into(out);
        Ok(())
    }

    /// The host reports entries up to `index` applied: [`Node::processed`]`(index, index)`.
    pub fn applied(&mut self, index: u64) -> Result<Vec<Action>, ContractError> {
        let mut out = Vec::new();
        self.applied_into(index, &mut out)?;
        Ok(out)
    }

    /// [`Node::applied`], with the actions appended to `out` (see [`Node::receive_into`]).
    pub fn applied_into(&mut self, index: u64, out: &mut Vec<Action>) -> Result<(), ContractError> {
        self.processed_into(index, index, out)
    }

    /// NRG `Processed(index, applied)`: the application consumed the entries handed out up
    /// to `index`, and its state holds the effects of those up to `applied` (clamped to
    /// `index`). The two differ while the application holds entries back, as a stream does
    /// with a batch whose commit marker is in a later entry: the node then knows the commits
    /// were consumed (it may campaign) but compacts only up to `applied`, so a snapshot never
    /// cuts a batch in half. See `apply.rs` for the rule.
    pub fn processed(&mut self, index: u64, applied: u64) -> Result<Vec<Action>, ContractError> {
        let mut out = Vec::new();
        self.processed_into(index, applied, &mut out)?;
        Ok(out)
    }

    /// [`Node::processed`], with the actions appended to `out` (see [`Node::receive_into`]).
    pub fn processed_into(
        &mut self,
        index: u64,
        applied: u64,
        out: &mut Vec<Action>,
    ) -> Result<(), ContractError> {
        self.record_processed(index, applied)?;
        self.finish_into(out);
        Ok(())
    }

    /// Ends an input: issues what is pending and returns the input's actions.
    pub(super) fn finish(&mut self) -> Vec<Action> {
        let mut actions = Vec::new();
        self.finish_into(&mut actions);
        actions
    }

    /// [`Node::finish`] into the host's buffer (see [`Outbox::finish_into`]).
    fn finish_into(&mut self, out: &mut Vec<Action>) {
        debug_assert_eq!(self.outbox.log_end(), self.log.last_index());
        self.evict_cached_payloads();
        self.outbox.finish_into(out);
    }
}
