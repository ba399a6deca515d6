//! The Raft node: inputs in, ordered [`Action`]s out. Each Raft rule lives in one function
//! below, named after the rule.

use crate::action::{Action, LogWrite, PersistId, Role};
use crate::config::{Config, ConfigError, Recovered};
use crate::log::Log;
use crate::membership::{ChangeRefusal, Membership, MembershipChange, MembershipLog};
use crate::message::{
    AppendEntries, AppendResponse, ForwardProposal, InstallSnapshot, Message, ReadAck,
    SnapshotResponse, TimeoutNow, VoteRequest, VoteResponse,
};
use crate::progress::{Progress, ProgressMap, ProgressState};
use crate::quorum;
use crate::types::{Entry, EntryKind, HardState, NodeId, PeerState, Snapshot, SnapshotMeta};
use bytes::Bytes;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use std::collections::{BTreeSet, VecDeque};
use std::fmt;

/// Why a proposal was refused. Nothing was appended.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ProposeError {
    /// This node is not the leader; `leader` is the leader it knows of, if any.
    NotLeader { leader: Option<NodeId> },
    /// The proposal was made for a leadership term that is not the current one (term fencing:
    /// a stale leadership epoch cannot inject entries).
    WrongTerm {
        proposal_term: u64,
        current_term: u64,
    },
    /// A batch must contain at least one entry.
    EmptyBatch,
    /// Flow control: accepting the proposal would put more than `limit` entries
    /// ([`Config::max_uncommitted_entries`]) between the leader's commit index and the end of
    /// its log; `uncommitted` is how many there are now. Retry once commits catch up.
    Overloaded { uncommitted: u64, limit: u64 },
    /// The leader is handing leadership to `target` ([`Node::step_down`]) and accepts no new
    /// entries until the transfer ends (it either loses leadership, or resumes after an
    /// election timeout). Retry with the new leader.
    TransferInProgress { target: NodeId },
    /// Membership: the membership change at `index` is not committed yet; one change at a
    /// time. Retry once it is.
    MembershipChangePending { index: u64 },
    /// Membership: this leader has not committed an entry of its own term yet (its no-op),
    /// so a change from an earlier term may still be uncommitted in some log (the
    /// single-server change bug Ongaro reported on raft-dev in 2015). Retry once
    /// [`Action::LeaderChanged`] names this node.
    NotYetCommittedInTerm,
    /// Membership: `peer` is already a voter (adding a voter), or already a member (adding an
    /// observer; a voter cannot become an observer in one step).
    AlreadyMember { peer: NodeId },
    /// Membership: `peer` is neither a voter nor an observer.
    NotAMember { peer: NodeId },
    /// Membership: `peer` is the last voter; a cluster needs one.
    LastVoter { peer: NodeId },
}

impl fmt::Display for ProposeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ProposeError::NotLeader { leader: Some(l) } => write!(f, "not the leader; {l} is"),
            ProposeError::NotLeader { leader: None } => write!(f, "not the leader; none known"),
            ProposeError::WrongTerm {
                proposal_term,
                current_term,
            } => write!(
                f,
                "proposal made for term {proposal_term} but the current term is {current_term}"
            ),
            ProposeError::EmptyBatch => write!(f, "a batch proposal must contain an entry"),
            ProposeError::Overloaded { uncommitted, limit } => write!(
                f,
                "{uncommitted} entries are not committed yet and the limit is {limit}"
            ),
            ProposeError::TransferInProgress { target } => {
                write!(f, "leadership is being transferred to {target}")
            }
            ProposeError::MembershipChangePending { index } => write!(
                f,
                "the membership change at index {index} is not committed yet"
            ),
            ProposeError::NotYetCommittedInTerm => write!(
                f,
                "no entry of this leader's term is committed yet; membership changes wait for it"
            ),
            ProposeError::AlreadyMember { peer } => write!(f, "{peer} is already a member"),
            ProposeError::NotAMember { peer } => write!(f, "{peer} is not a member"),
            ProposeError::LastVoter { peer } => {
                write!(f, "{peer} is the last voter and cannot be removed")
            }
        }
    }
}

impl std::error::Error for ProposeError {}

/// Why [`Node::read_index`] refused. Nothing changed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ReadError {
    /// Only the leader serves reads; `leader` is the leader this node knows of. (Followers do
    /// not forward reads: the host sends the read to the leader, as it does proposals.)
    NotLeader { leader: Option<NodeId> },
    /// This node leads but its no-op of the term is not committed yet, so its commit index
    /// may miss entries committed by earlier leaders. Retry once [`Action::LeaderChanged`]
    /// names this node.
    NotReady,
}

impl fmt::Display for ReadError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ReadError::NotLeader { leader: Some(l) } => write!(f, "not the leader; {l} is"),
            ReadError::NotLeader { leader: None } => write!(f, "not the leader; none known"),
            ReadError::NotReady => {
                write!(f, "the leader's entry of its term is not committed yet")
            }
        }
    }
}

impl std::error::Error for ReadError {}

/// Why [`Node::step_down`] refused. Nothing changed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TransferError {
    /// Only a leader can hand over leadership; `leader` is the leader this node knows of.
    NotLeader { leader: Option<NodeId> },
    /// The preferred successor is this node or not a voter.
    InvalidTarget { target: NodeId },
    /// There is no other voter to hand leadership to.
    NoSuccessor,
    /// A transfer to another node is already in progress.
    InProgress { target: NodeId },
}

impl fmt::Display for TransferError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TransferError::NotLeader { leader: Some(l) } => write!(f, "not the leader; {l} is"),
            TransferError::NotLeader { leader: None } => {
                write!(f, "not the leader; none known")
            }
            TransferError::InvalidTarget { target } => {
                write!(f, "{target} is not another voter of this cluster")
            }
            TransferError::NoSuccessor => write!(f, "there is no other voter to lead"),
            TransferError::InProgress { target } => {
                write!(f, "a transfer to {target} is already in progress")
            }
        }
    }
}

impl std::error::Error for TransferError {}

/// The host broke the contract of [`Action::Persist`] or [`Action::Apply`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ContractError {
    /// `persisted` was called with an id the node never issued.
    UnknownPersist {
        id: PersistId,
        last_issued: PersistId,
    },
    /// `applied` was called beyond what the node asked to apply.
    AppliedBeyondCommitted { index: u64, handed_out: u64 },
}

impl fmt::Display for ContractError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ContractError::UnknownPersist { id, last_issued } => write!(
                f,
                "persist {} reported complete but the last issued is {}",
                id.0, last_issued.0
            ),
            ContractError::AppliedBeyondCommitted { index, handed_out } => write!(
                f,
                "applied index {index} reported but only {handed_out} was handed out to apply"
            ),
        }
    }
}

impl std::error::Error for ContractError {}

/// Why [`Node::install_snapshot`] refused. Nothing changed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SnapshotError {
    /// The application has not applied `index` yet ([`Node::applied`] reported `applied`).
    NotApplied { index: u64, applied: u64 },
    /// The node already has a snapshot at `snapshot_index` or later: nothing to compact.
    Stale { index: u64, snapshot_index: u64 },
}

impl fmt::Display for SnapshotError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SnapshotError::NotApplied { index, applied } => write!(
                f,
                "snapshot at index {index} but the application applied only up to {applied}"
            ),
            SnapshotError::Stale {
                index,
                snapshot_index,
            } => write!(
                f,
                "snapshot at index {index} is not past the current snapshot at {snapshot_index}"
            ),
        }
    }
}

impl std::error::Error for SnapshotError {}

/// A snapshot a follower is receiving from its leader, chunk by chunk (memory only: a crash
/// loses it and the transfer starts over).
#[derive(Clone, Debug)]
struct IncomingSnapshot {
    /// The term of the leader that sends it.
    term: u64,
    meta: SnapshotMeta,
    data: Vec<u8>,
}

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

/// A Persist issued and not yet reported complete.
#[derive(Clone, Debug)]
struct InFlightPersist {
    id: PersistId,
    hard_state: Option<HardState>,
    /// Log length once this request is durable.
    last_index_after: u64,
    /// Set when the request truncates: durable entries after this index are replaced.
    truncates_to: Option<u64>,
}

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

/// The grants and refusals of one election (or one pre-vote).
#[derive(Clone, Debug, Default)]
struct Campaign {
    granted: BTreeSet<NodeId>,
    rejected: BTreeSet<NodeId>,
    /// Planted bug `duplicate-vote-counted`: grants counted again on duplicates.
    #[cfg(feature = "planted-bugs")]
    duplicate_grants: usize,
}

/// State that exists only while leading.
#[derive(Clone, Debug)]
struct Leadership {
    /// Every member except this node, in id order (stable, so sends are deterministic).
    progress: ProgressMap,
    /// Index of this term's no-op entry; the application hears of the leadership once it is
    /// committed.
    noop_index: u64,
    ready: bool,
    /// Ticks into the current CheckQuorum window (`election_timeout_max` ticks long).
    quorum_window_elapsed: u32,
    /// A leader transfer in progress.
    transfer: Option<Transfer>,
    /// ReadIndex: the number of the latest read round (0: none yet this term).
    read_seq: u64,
    /// ReadIndex: reads waiting for a quorum to acknowledge their round, oldest first (their
    /// `seq` increases along the queue).
    pending_reads: VecDeque<PendingRead>,
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

/// A leader transfer in progress: proposals are refused until it ends.
#[derive(Clone, Debug)]
struct Transfer {
    target: NodeId,
    /// Ticks since it started, or since the first TimeoutNow; abandoned after
    /// `election_timeout_max`.
    elapsed: u32,
    /// A TimeoutNow has gone to the target.
    timeout_now_sent: bool,
}

/// A sans-IO Raft node. See the crate documentation for how to drive it.
#[derive(Clone, Debug)]
pub struct Node {
    #[cfg(feature = "planted-bugs")]
    planted: Option<crate::planted::PlantedBug>,
    config: Config,
    /// The voters of the current membership (a copy of `membership.current().voters`), in id
    /// order. A `Vec`: it is walked for every acknowledgement, and holds a handful of ids.
    voters: Vec<NodeId>,
    /// The membership as a function of the log (see [`crate::membership`]).
    membership: MembershipLog,
    rng: ChaCha8Rng,

    /// Current term and vote, as last changed in memory (durable once its persist completes).
    hard_state: HardState,
    /// The (term, vote) known durable.
    durable_hard_state: HardState,
    role: Role,
    /// The (role, term) last reported with [`Action::RoleChanged`].
    reported_role: (Role, u64),
    leader: Option<NodeId>,
    /// The leader last announced to the application with [`Action::LeaderChanged`].
    announced_leader: Option<NodeId>,
    log: Log,
    /// Highest index known committed. Invariant: `commit_index <= log.last_index()` and it
    /// never decreases while the node runs.
    commit_index: u64,
    /// Highest index handed to the host in [`Action::Apply`].
    apply_handed_out: u64,
    /// Highest index the host reported applied.
    applied_index: u64,
    /// Highest log index durable on this node and identical to the in-memory log.
    durable_index: u64,
    /// [`Node::pause_apply`]: no Apply actions, no campaigning.
    paused: bool,

    election_elapsed: u32,
    election_timeout: u32,
    heartbeat_elapsed: u32,
    /// Ticks since this node last heard from the leader of its term (an AppendEntries it
    /// accepted as coming from that leader); saturates, and starts at `u32::MAX` (never).
    /// Leader stickiness, PreVote and health compare it with the minimum election timeout.
    ticks_since_leader: u32,

    /// While a candidate: the votes of this term's election.
    campaign: Option<Campaign>,
    /// While a follower runs a pre-vote: the pre-votes for `term + 1`.
    pre_campaign: Option<Campaign>,
    leadership: Option<Leadership>,

    next_persist_id: u64,
    last_completed_persist: PersistId,
    in_flight_persists: VecDeque<InFlightPersist>,
    /// Changes not yet turned into a Persist action.
    dirty_hard_state: bool,
    /// The membership changed: the next Persist carries it for the peer-state file.
    dirty_peers: bool,
    pending_log_write: Option<LogWrite>,
    /// Messages waiting for a persist to complete before they may be sent.
    held_messages: VecDeque<(PersistId, NodeId, Message)>,
    actions: Vec<Action>,

    /// The latest snapshot (its index is `log.start_index()`): what a leader sends to a
    /// follower that needs compacted entries.
    snapshot: Option<Snapshot>,
    /// A snapshot being received from the leader.
    incoming_snapshot: Option<IncomingSnapshot>,
    /// A received snapshot whose [`Action::ApplySnapshot`] waits for [`Node::resume_apply`].
    snapshot_to_apply: Option<Snapshot>,
    /// The index of the last received snapshot: the node does not campaign until the
    /// application reported it applied.
    received_snapshot_index: u64,
}

impl Node {
    /// Builds a node from its configuration and what its storage recovered. The node starts
    /// as a follower with commit index 0: committed entries are re-learnt from the leader and
    /// re-applied (NRG does not persist the commit index either).
    pub fn new(config: Config, mut recovered: Recovered) -> Result<Node, ConfigError> {
        config.validate()?;
        validate_recovered_log(&recovered)?;
        recovered.log = entries_after_snapshot(
            std::mem::take(&mut recovered.log),
            recovered.snapshot.as_ref().map(|s| &s.meta),
        )?;
        // The log may hold entries of a term the term/vote file never recorded: the host wrote
        // both in one persist, and a crash kept the unsynced WAL bytes but not the renamed
        // term/vote file. No message attested that persist (it never completed), so in particular
        // no vote was granted in that term: adopting the term with no vote is safe.
        let last_log_term = recovered.log.last().map_or(0, |e| e.term);
        let durable_hard_state = recovered.hard_state;
        let adopted_log_term = last_log_term > recovered.hard_state.term;
        if adopted_log_term {
            recovered.hard_state = HardState {
                term: last_log_term,
                vote: None,
            };
        }
        let rng = ChaCha8Rng::seed_from_u64(config.seed);
        // Without a snapshot a log that holds membership entries holds every change since
        // index 1, so it starts from the configured voters: the peer-state file holds the
        // latest membership, and starting from it would lose the one before an uncommitted
        // change (a node removed by it could not tell, after a restart, that it may still
        // have to campaign: `may_campaign`).
        let log_has_membership = || {
            recovered.log.iter().any(|e| {
                matches!(
                    e.kind,
                    EntryKind::PeerState | EntryKind::AddPeer | EntryKind::RemovePeer
                )
            })
        };
        let base = match (&recovered.snapshot, &recovered.membership) {
            (Some(snapshot), _) => Membership::from_peer_state(&snapshot.meta.peers),
            (None, Some(peer_state)) if !log_has_membership() => {
                Membership::from_peer_state(peer_state)
            }
            _ => Membership::with_voters(config.voters.iter().copied()),
        };
        let mut membership = MembershipLog::new(base);
        membership.appended(&recovered.log);
        let voters = membership.current().voters.iter().copied().collect();
        // Everything up to the snapshot is committed and applied (the host restored the
        // application from it).
        let (start_index, start_term) = recovered
            .snapshot
            .as_ref()
            .map_or((0, 0), |s| (s.meta.index, s.meta.term));
        let log = Log::with_start(start_index, start_term, recovered.log);
        let durable_index = log.last_index();
        let mut node = Node {
            voters,
            membership,
            rng,
            hard_state: recovered.hard_state,
            durable_hard_state,
            role: Role::Follower,
            reported_role: (Role::Follower, recovered.hard_state.term),
            leader: None,
            announced_leader: None,
            log,
            commit_index: start_index,
            apply_handed_out: start_index,
            applied_index: start_index,
            durable_index,
            paused: false,
            election_elapsed: 0,
            election_timeout: 0,
            heartbeat_elapsed: 0,
            ticks_since_leader: u32::MAX,
            campaign: None,
            pre_campaign: None,
            leadership: None,
            next_persist_id: 1,
            last_completed_persist: PersistId(0),
            in_flight_persists: VecDeque::new(),
            // An adopted term is persisted with the first action, before anything attests it.
            dirty_hard_state: adopted_log_term,
            dirty_peers: false,
            pending_log_write: None,
            held_messages: VecDeque::new(),
            actions: Vec::new(),
            snapshot: recovered.snapshot,
            incoming_snapshot: None,
            snapshot_to_apply: None,
            received_snapshot_index: 0,
            #[cfg(feature = "planted-bugs")]
            planted: None,
            config,
        };
        node.reset_election_timer();
        Ok(node)
    }

    // ----- accessors -------------------------------------------------------------------

    /// Switches one planted bug on (the simulator's bug hunt). See [`crate::planted`].
    #[cfg(feature = "planted-bugs")]
    pub fn plant(&mut self, bug: crate::planted::PlantedBug) {
        self.planted = Some(bug);
        if bug == crate::planted::PlantedBug::NoPreVoteCheckQuorum {
            self.config.pre_vote = false;
            self.config.check_quorum = false;
        }
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
    pub fn last_index(&self) -> u64 {
        self.log.last_index()
    }
    pub fn last_term(&self) -> u64 {
        self.log.last_term()
    }
    pub fn durable_index(&self) -> u64 {
        self.durable_index
    }
    pub fn log(&self) -> &[Entry] {
        self.log.entries()
    }
    pub fn entry(&self, index: u64) -> Option<&Entry> {
        self.log.get(index)
    }
    /// The voters of the membership in effect (the latest in the log, committed or not).
    pub fn voters(&self) -> impl Iterator<Item = NodeId> + '_ {
        self.voters.iter().copied()
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
        self.election_timeout
    }
    /// Persists issued and not yet reported complete.
    pub fn persists_in_flight(&self) -> usize {
        self.in_flight_persists.len()
    }
    /// Messages held back until a persist completes.
    pub fn held_messages(&self) -> usize {
        self.held_messages.len()
    }

    // ----- inputs ----------------------------------------------------------------------

    /// One unit of logical time.
    pub fn tick(&mut self) -> Vec<Action> {
        let mut out = Vec::new();
        self.tick_into(&mut out);
        out
    }

    /// [`Node::tick`], with the actions appended to `out` (see [`Node::receive_into`]).
    pub fn tick_into(&mut self, out: &mut Vec<Action>) {
        match self.role {
            Role::Leader => {
                if self.check_quorum_at_window_end() {
                    return self.finish_into(out);
                }
                self.expire_transfer();
                self.heartbeat_elapsed += 1;
                if self.heartbeat_elapsed >= self.config.heartbeat_interval {
                    self.heartbeat_elapsed = 0;
                    self.broadcast_heartbeat();
                }
            }
            Role::Follower | Role::Candidate => {
                self.ticks_since_leader = self.ticks_since_leader.saturating_add(1);
                if !self.paused {
                    self.election_elapsed += 1;
                    if self.election_elapsed >= self.election_timeout {
                        self.election_timeout_fired();
                    }
                }
            }
        }
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
        match message {
            Message::VoteRequest(m) => self.handle_vote_request(m),
            Message::VoteResponse(m) => self.handle_vote_response(from, m),
            Message::AppendEntries(m) => self.handle_append_entries(m),
            Message::AppendResponse(m) => self.handle_append_response(from, m),
            Message::ForwardProposal(m) => self.handle_forwarded_proposal(m),
            Message::PreVoteRequest(m) => self.handle_pre_vote_request(m),
            Message::PreVoteResponse(m) => self.handle_pre_vote_response(from, m),
            Message::TimeoutNow(m) => self.handle_timeout_now(m),
            Message::TransferVoteRequest(m) => self.handle_vote_request(m),
            Message::ReadAck(m) => self.handle_read_ack(from, m),
            Message::InstallSnapshot(m) => self.handle_install_snapshot(*m),
            Message::SnapshotResponse(m) => self.handle_snapshot_response(from, m),
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

    /// From a follower: hands the proposal to the known leader (NRG `ForwardProposal`). The
    /// leader appends it in its current term; if leadership changes on the way the proposal
    /// is dropped and the client must retry, as with any message loss.
    pub fn forward(&mut self, data: impl Into<Bytes>) -> Result<Vec<Action>, ProposeError> {
        match (self.role, self.leader) {
            (Role::Leader, _) => {
                let term = self.hard_state.term;
                self.propose(term, data).map(|p| p.actions)
            }
            (_, Some(leader)) => {
                let message = Message::ForwardProposal(ForwardProposal { data: data.into() });
                self.actions.push(Action::Send {
                    to: leader,
                    message,
                });
                Ok(self.finish())
            }
            (_, None) => Err(ProposeError::NotLeader { leader: None }),
        }
    }

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
        Ok(Proposed {
            first_index: index,
            last_index: index,
            actions: self.finish(),
        })
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

    /// NRG `PauseApply`: stop handing out [`Action::Apply`] (the node keeps replicating,
    /// acknowledging, voting and learning the commit index) and stop campaigning, so the
    /// application can, for example, install state of its own. Only a follower pauses: a
    /// leader or candidate first steps down to follower in its term (its vote stays).
    pub fn pause_apply(&mut self) -> Vec<Action> {
        if self.role != Role::Follower {
            self.become_follower_in_term();
        }
        self.pre_campaign = None;
        self.paused = true;
        self.finish()
    }

    /// NRG `ResumeApply`: hand out everything committed while paused, in one
    /// [`Action::Apply`], and start a fresh election timeout. A no-op when not paused.
    pub fn resume_apply(&mut self) -> Vec<Action> {
        if self.paused {
            self.paused = false;
            self.reset_election_timer();
            if let Some(snapshot) = self.snapshot_to_apply.take() {
                self.flush_persist();
                self.actions.push(Action::ApplySnapshot {
                    snapshot: Box::new(snapshot.meta),
                    data: snapshot.data,
                });
            }
            self.hand_out_committed();
        }
        self.finish()
    }

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
        leadership.read_seq += 1;
        leadership.pending_reads.push_back(PendingRead {
            context,
            index: self.commit_index,
            seq: leadership.read_seq,
        });
        self.broadcast_read_round();
        self.confirm_reads();
        Ok(self.finish())
    }

    /// Hands leadership to `preferred`, or to the most up-to-date voter (highest match index,
    /// lowest id on a tie) when `None` (NRG `StepDown`, etcd `TransferLeader`).
    ///
    /// From now on the leader refuses proposals with [`ProposeError::TransferInProgress`]
    /// (never losing one silently), brings the target's log up to date, and then sends it
    /// [`Message::TimeoutNow`] (NRG `EntryLeaderTransfer`), again on each of its
    /// acknowledgements while the transfer lasts. The target campaigns at once, skipping
    /// PreVote and exempt from leader stickiness; its higher term ends this leadership. If
    /// that has not happened within `election_timeout_max` ticks, the leader resumes normal
    /// operation. The leader's vote is never cleared. Asking again for the same target
    /// changes nothing.
    pub fn step_down(&mut self, preferred: Option<NodeId>) -> Result<Vec<Action>, TransferError> {
        let Some(leadership) = self.leadership.as_ref() else {
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
        let leadership = self.leadership.as_mut().expect("checked above");
        leadership.transfer = Some(Transfer {
            target,
            elapsed: 0,
            timeout_now_sent: false,
        });
        self.send_append(target);
        self.send_timeout_now_once_caught_up(target);
        Ok(self.finish())
    }

    /// The application's state at applied index `index` is `data`: compact the log up to
    /// `index` (NRG `InstallSnapshot`). The node drops the entries up to `index` from memory,
    /// keeps the snapshot to send to followers that need them, and emits
    /// [`Action::PersistSnapshot`] (`discard_log: false`): the host writes the snapshot file
    /// and may then drop the WAL records up to `index`.
    ///
    /// Refused unless `index` is applied ([`SnapshotError::NotApplied`]) and past the current
    /// snapshot ([`SnapshotError::Stale`]).
    pub fn install_snapshot(
        &mut self,
        index: u64,
        data: impl Into<Bytes>,
    ) -> Result<Vec<Action>, SnapshotError> {
        let snapshot_index = self.log.start_index();
        if index <= snapshot_index {
            return Err(SnapshotError::Stale {
                index,
                snapshot_index,
            });
        }
        if index > self.applied_index {
            return Err(SnapshotError::NotApplied {
                index,
                applied: self.applied_index,
            });
        }
        self.flush_persist();
        let meta = SnapshotMeta {
            index,
            term: self
                .log
                .term_at(index)
                .expect("applied entries are in the log"),
            peers: self.membership.at(index).to_peer_state(),
        };
        self.log.compact(index);
        self.membership.compacted_to(index);
        self.snapshot = Some(Snapshot {
            meta,
            data: data.into(),
        });
        self.persist_snapshot(false);
        Ok(self.finish())
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
        let last_issued = PersistId(self.next_persist_id - 1);
        if id > last_issued {
            return Err(ContractError::UnknownPersist { id, last_issued });
        }
        if id <= self.last_completed_persist {
            self.finish_into(out);
            return Ok(());
        }
        self.last_completed_persist = id;
        let mut completed = None;
        while self.in_flight_persists.front().is_some_and(|p| p.id <= id) {
            let done = self
                .in_flight_persists
                .pop_front()
                .expect("checked non-empty");
            if let Some(hard_state) = done.hard_state {
                self.durable_hard_state = hard_state;
            }
            completed = Some(done);
        }
        if let Some(done) = completed {
            self.durable_index = done.last_index_after;
            // A later request that truncates makes part of what is durable stale.
            for later in &self.in_flight_persists {
                if let Some(to) = later.truncates_to {
                    self.durable_index = self.durable_index.min(to);
                }
            }
        }
        while self
            .held_messages
            .front()
            .is_some_and(|(after, _, _)| *after <= id)
        {
            let (_, to, message) = self.held_messages.pop_front().expect("checked non-empty");
            self.actions.push(Action::Send { to, message });
        }
        match self.role {
            Role::Candidate => self.count_own_vote_once_durable(),
            Role::Leader => self.advance_leader_commit(),
            Role::Follower => {}
        }
        self.finish_into(out);
        Ok(())
    }

    /// The host reports entries up to `index` applied.
    pub fn applied(&mut self, index: u64) -> Result<Vec<Action>, ContractError> {
        let mut out = Vec::new();
        self.applied_into(index, &mut out)?;
        Ok(out)
    }

    /// [`Node::applied`], with the actions appended to `out` (see [`Node::receive_into`]).
    pub fn applied_into(&mut self, index: u64, out: &mut Vec<Action>) -> Result<(), ContractError> {
        if index > self.apply_handed_out {
            return Err(ContractError::AppliedBeyondCommitted {
                index,
                handed_out: self.apply_handed_out,
            });
        }
        self.applied_index = self.applied_index.max(index);
        self.finish_into(out);
        Ok(())
    }

    // ----- elections -------------------------------------------------------------------

    fn reset_election_timer(&mut self) {
        self.election_elapsed = 0;
        let min = self.config.election_timeout_min;
        let max = self.config.election_timeout_max;
        self.election_timeout = self.rng.gen_range(min..max);
    }

    /// Rule: when the election timeout fires, a voter campaigns; with PreVote on it first
    /// asks whether it could win. Not while a snapshot it received is unapplied.
    fn election_timeout_fired(&mut self) {
        if self.snapshot_unapplied() {
            self.reset_election_timer();
            return;
        }
        if self.config.pre_vote {
            self.start_pre_vote();
        } else {
            self.start_election(false);
        }
    }

    /// Rule (PreVote): ask every voter whether it would grant a vote at `term + 1`, without
    /// changing term or vote. Nothing changes durable state, so the requests leave at once.
    /// The node forgets its leader (it has not heard from it for an election timeout), so
    /// its own stale lease does not make it refuse the others' pre-votes (the fix of
    /// etcd-io/etcd#8334). A candidate that times out becomes a follower of its term for the
    /// pre-vote; its vote stays.
    fn start_pre_vote(&mut self) {
        self.reset_election_timer();
        if !self.may_campaign() {
            return;
        }
        self.campaign = None;
        if self.role == Role::Candidate {
            self.set_role(Role::Follower);
        }
        self.set_leader(None);
        let mut pre_campaign = Campaign::default();
        if self.voters.contains(&self.config.id) {
            pre_campaign.granted.insert(self.config.id);
        }
        self.pre_campaign = Some(pre_campaign);
        let request = VoteRequest {
            term: self.hard_state.term + 1,
            last_term: self.log.last_term(),
            last_index: self.log.last_index(),
            candidate: self.config.id,
        };
        for peer in self.vote_request_recipients() {
            self.send_unattested(peer, Message::PreVoteRequest(request.clone()));
        }
        // A single voter has its own pre-vote and nobody to ask.
        self.check_pre_vote_result();
    }

    /// Rule (PreVote): grant a pre-vote when the candidate's log is at least as up to date as
    /// ours and this node has not heard from a current leader within the minimum election
    /// timeout. Changes no state, so the answer needs no persist; it echoes the pre-vote's
    /// term.
    ///
    /// The pre-vote's term is not judged. Refusing a term that is not ahead of ours (as a real
    /// vote would) deadlocks: a node with the most up-to-date log but a stale term (say, the
    /// leader that stepped down for lost quorum) is refused by everyone, never learns the
    /// current term (pre-vote answers change no term), and refuses the others for their
    /// shorter logs (simulator seed 176). Granting costs nothing: the real election at a
    /// stale term is refused by voters that are ahead, and their answers carry the term the
    /// candidate then adopts.
    fn handle_pre_vote_request(&mut self, request: VoteRequest) {
        let granted = !self.in_leader_lease()
            && candidate_log_is_up_to_date(&request, self.log.last_term(), self.log.last_index());
        let response = VoteResponse {
            term: request.term,
            peer: self.config.id,
            granted,
            empty_log: self.log.last_index() == 0,
        };
        self.send_unattested(request.candidate, Message::PreVoteResponse(response));
    }

    /// Rule (PreVote): count each voter once, only answers to the pre-vote in progress (term
    /// `term + 1`); a quorum of grants starts the real election.
    fn handle_pre_vote_response(&mut self, from: NodeId, response: VoteResponse) {
        if response.term != self.hard_state.term + 1
            || response.peer != from
            || !self.counts_votes_of(from)
        {
            return;
        }
        let Some(pre_campaign) = self.pre_campaign.as_mut() else {
            return;
        };
        if response.granted {
            pre_campaign.granted.insert(from);
        } else {
            pre_campaign.rejected.insert(from);
        }
        self.check_pre_vote_result();
    }

    fn check_pre_vote_result(&mut self) {
        let Some(pre_campaign) = self.pre_campaign.as_ref() else {
            return;
        };
        let needed = quorum::quorum(self.voters.len());
        if pre_campaign.granted.len() >= needed {
            self.start_election(false);
        } else if pre_campaign.rejected.len() >= needed {
            // Lost: stay a follower and try again at the next timeout.
            self.pre_campaign = None;
        }
    }

    /// Rule (leader transfer, NRG `EntryLeaderTransfer`): a voter told by the leader of its
    /// term to campaign does so at once, skipping PreVote; its vote requests are exempt from
    /// leader stickiness. Non-voters (observers), leaders and paused nodes ignore it (the
    /// leader's transfer then times out), and so does a node in another term (a stale or
    /// duplicated TimeoutNow after the transfer's election).
    fn handle_timeout_now(&mut self, message: TimeoutNow) {
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

    /// Rule (snapshots, NRG #6056): a node does not campaign while a snapshot it received is
    /// not applied yet: until then its application lags its commit index, and as leader it
    /// would serve from a state machine that misses committed entries.
    fn snapshot_unapplied(&self) -> bool {
        self.applied_index < self.received_snapshot_index
    }

    /// Rule (leader transfer): once the transfer target holds the leader's whole log, tell
    /// it to campaign now.
    fn send_timeout_now_once_caught_up(&mut self, peer: NodeId) {
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
            transfer.elapsed = 0;
        }
        let message = Message::TimeoutNow(TimeoutNow {
            term: self.hard_state.term,
            leader: self.config.id,
        });
        self.send_unattested(peer, message);
    }

    /// Rule (leader transfer): a transfer that has not ended leadership within
    /// `election_timeout_max` ticks (counted again from the first TimeoutNow) is abandoned and
    /// the leader takes proposals again.
    fn expire_transfer(&mut self) {
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

    /// Leader stickiness: this node heard from a current leader within the minimum election
    /// timeout (a leader hears from itself).
    fn in_leader_lease(&self) -> bool {
        match self.role {
            Role::Leader => true,
            Role::Follower | Role::Candidate => {
                self.leader.is_some() && self.ticks_since_leader < self.config.election_timeout_min
            }
        }
    }

    /// Rule (leader stickiness, with CheckQuorum): a vote request for a higher term is
    /// ignored — no term change, no answer — while this node is in a leader's lease. A
    /// follower that hears its leader has no reason to believe it is gone, so a node that
    /// cannot hear it (a partial partition) cannot depose it. Transfer vote requests are
    /// exempt: the leader itself asked for them.
    fn ignores_for_leader_stickiness(&self, message: &Message) -> bool {
        match message {
            Message::VoteRequest(m) => {
                self.config.check_quorum && m.term > self.hard_state.term && self.in_leader_lease()
            }
            _ => false,
        }
    }

    /// Rule: a voter becomes candidate, increments its term, votes for itself and persists
    /// term and vote before any vote request leaves. A campaign ordered by a leader transfer
    /// sends [`Message::TransferVoteRequest`]s, which leader stickiness lets through.
    fn start_election(&mut self, transfer: bool) {
        self.reset_election_timer();
        self.pre_campaign = None;
        if !self.may_campaign() {
            return;
        }
        let term = self.hard_state.term + 1;
        self.set_hard_state(HardState {
            term,
            vote: Some(self.config.id),
        });
        self.leadership = None;
        self.set_role(Role::Candidate);
        self.set_leader(None);
        self.campaign = Some(Campaign::default());
        let request = VoteRequest {
            term,
            last_term: self.log.last_term(),
            last_index: self.log.last_index(),
            candidate: self.config.id,
        };
        for peer in self.vote_request_recipients() {
            let message = if transfer {
                Message::TransferVoteRequest(request.clone())
            } else {
                Message::VoteRequest(request.clone())
            };
            self.send_attesting(peer, message);
        }
        // A single voter has no one to ask; its own durable vote may already decide.
        self.count_own_vote_once_durable();
    }

    /// Rule: a candidate counts its own vote only once that vote is durable.
    fn count_own_vote_once_durable(&mut self) {
        let own = HardState {
            term: self.hard_state.term,
            vote: Some(self.config.id),
        };
        if self.role != Role::Candidate || self.durable_hard_state != own {
            return;
        }
        let id = self.config.id;
        if let Some(campaign) = self.campaign.as_mut().filter(|_| self.voters.contains(&id)) {
            campaign.granted.insert(id);
        }
        self.check_election_result();
    }

    /// Rule (membership, Raft thesis §4.1): a voter campaigns; so does a node that the
    /// latest membership in its log removes while that removal is not committed, since until
    /// it commits the cluster may still need it: a leader that appended its own removal and
    /// lost leadership before replicating it holds the most up-to-date log, and without it
    /// no one else could win. It asks the voters of its latest membership and does not count
    /// its own vote (`count_own_vote_once_durable` and the pre-vote skip it). An observer
    /// never campaigns.
    fn may_campaign(&self) -> bool {
        let id = self.config.id;
        if self.voters.contains(&id) {
            return true;
        }
        // Removed by the latest change in the log, not known to be committed (after a
        // restart nothing is known committed past the snapshot).
        let change = self.membership.last_change_index();
        !self.membership.current().observers.contains(&id)
            && change > self.commit_index
            && self.membership.at(change - 1).voters.contains(&id)
    }

    /// Rule: grant a vote only for the current term, to at most one candidate per term, and
    /// only to a candidate whose log is at least as up to date (compared on (last term, last
    /// index) lexicographically). The grant leaves after the vote is durable.
    fn handle_vote_request(&mut self, request: VoteRequest) {
        let term = self.hard_state.term;
        let granted = request.term == term
            && self.hard_state.vote.is_none_or(|v| v == request.candidate)
            && candidate_log_is_up_to_date(&request, self.log.last_term(), self.log.last_index());
        if granted {
            if self.hard_state.vote.is_none() {
                self.set_hard_state(HardState {
                    term,
                    vote: Some(request.candidate),
                });
            }
            // Granting a vote defers our own candidacy, so elections converge.
            self.reset_election_timer();
        }
        let response = VoteResponse {
            term,
            peer: self.config.id,
            granted,
            empty_log: self.log.last_index() == 0,
        };
        if granted && planted!(self, VoteBeforeDurable) {
            self.flush_persist();
            let message = Message::VoteResponse(response);
            self.actions.push(Action::Send {
                to: request.candidate,
                message,
            });
            return;
        }
        self.send_attesting(request.candidate, Message::VoteResponse(response));
    }

    /// Rule: a candidate counts each voter once, only responses for its current term, and
    /// becomes leader at a quorum of grants.
    fn handle_vote_response(&mut self, from: NodeId, response: VoteResponse) {
        if self.role != Role::Candidate
            || response.term != self.hard_state.term
            || response.peer != from
            || !self.counts_votes_of(from)
        {
            return;
        }
        let Some(campaign) = self.campaign.as_mut() else {
            return;
        };
        if response.granted {
            let first = campaign.granted.insert(from);
            #[cfg(feature = "planted-bugs")]
            if !first && self.planted == Some(crate::planted::PlantedBug::DuplicateVoteCounted) {
                campaign.duplicate_grants += 1;
            }
            let _ = first;
        } else {
            campaign.rejected.insert(from);
        }
        self.check_election_result();
    }

    fn check_election_result(&mut self) {
        let Some(campaign) = self.campaign.as_ref() else {
            return;
        };
        let needed = quorum::quorum(self.voters.len());
        #[cfg(feature = "planted-bugs")]
        let granted = campaign.granted.len() + campaign.duplicate_grants;
        #[cfg(not(feature = "planted-bugs"))]
        let granted = campaign.granted.len();
        if granted >= needed {
            self.become_leader();
        } else if campaign.rejected.len() >= needed {
            // Lost: wait as a follower in the same term; the vote for ourselves stays.
            self.campaign = None;
            self.set_role(Role::Follower);
        }
    }

    /// Rule: a new leader appends a no-op (its peer state) and tells the application it leads
    /// only once that entry is committed.
    fn become_leader(&mut self) {
        self.campaign = None;
        self.incoming_snapshot = None;
        self.set_role(Role::Leader);
        self.leader = Some(self.config.id);
        self.heartbeat_elapsed = 0;
        let next = self.log.last_index() + 1;
        // Every member but this node: observers replicate too.
        let progress = self
            .membership
            .current()
            .members()
            .filter(|&v| v != self.config.id)
            .map(|v| (v, Progress::new(next)))
            .collect();
        self.leadership = Some(Leadership {
            progress,
            noop_index: next,
            ready: false,
            quorum_window_elapsed: 0,
            transfer: None,
            read_seq: 0,
            pending_reads: VecDeque::new(),
        });
        let peer_state = self.membership.current().to_peer_state();
        self.append_as_leader(
            EntryKind::PeerState,
            crate::codec::encode_peer_state(&peer_state).into(),
        );
        self.replicate_to_all();
        // A single voter may already be able to commit (once the no-op is durable).
        self.advance_leader_commit();
    }

    // ----- terms -----------------------------------------------------------------------

    /// Rule: any message with a higher term makes this node a follower in that term, with no
    /// vote yet. Terms never decrease.
    fn observe_higher_term(&mut self, from: NodeId, message: &Message) {
        let term = message.term();
        debug_assert!(term > self.hard_state.term);
        self.set_hard_state(HardState { term, vote: None });
        if self.role != Role::Follower {
            self.reset_election_timer();
        }
        self.campaign = None;
        self.pre_campaign = None;
        self.leadership = None;
        self.set_role(Role::Follower);
        let leader = match message {
            Message::AppendEntries(m) if m.leader == from => Some(from),
            Message::InstallSnapshot(m) if m.leader == from => Some(from),
            _ => None,
        };
        self.set_leader(leader);
    }

    fn set_hard_state(&mut self, hard_state: HardState) {
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
            self.dirty_hard_state = true;
        }
    }

    fn set_role(&mut self, role: Role) {
        self.role = role;
        self.report_role();
    }

    /// Emits [`Action::RoleChanged`] when the (role, term) pair differs from the last report,
    /// so the application can fence its own work by term.
    fn report_role(&mut self) {
        let now = (self.role, self.hard_state.term);
        if self.reported_role != now {
            self.reported_role = now;
            self.actions.push(Action::RoleChanged {
                role: now.0,
                term: now.1,
            });
        }
    }

    /// Records the leader of the current term and tells the application when the one it
    /// should use changes (itself only once ready).
    fn set_leader(&mut self, leader: Option<NodeId>) {
        self.leader = leader;
        let visible = match leader {
            Some(id) if id == self.config.id => None,
            other => other,
        };
        self.announce_leader(visible);
    }

    fn announce_leader(&mut self, leader: Option<NodeId>) {
        if self.announced_leader != leader {
            self.announced_leader = leader;
            self.actions.push(Action::LeaderChanged {
                term: self.hard_state.term,
                leader,
            });
        }
    }

    // ----- replication: follower side --------------------------------------------------

    /// Rules for a received AppendEntries:
    /// - reject a lower term (reply with our term so the stale leader steps down);
    /// - a candidate in the same term steps down; the vote stays;
    /// - consistency check on (prev_term, prev_index), with a hint on rejection;
    /// - entries that match are kept: a stale or duplicated append never truncates;
    /// - only a real conflict truncates, and only from the first conflicting index;
    /// - commit index = min(leader commit, last index verified by this append);
    /// - the acknowledgement leaves after the entries are durable.
    fn handle_append_entries(&mut self, request: AppendEntries) {
        let (leader, read_seq) = (request.leader, request.read_seq);
        if self.accept_append_entries(request) && read_seq != 0 {
            self.send_read_ack(leader, read_seq);
        }
    }

    /// [`Node::handle_append_entries`] without the read acknowledgement. Returns whether this
    /// node follows the sender as the leader of its current term.
    fn accept_append_entries(&mut self, request: AppendEntries) -> bool {
        let term = self.hard_state.term;
        if request.term < term {
            let response = self.append_response(false, self.log.last_index());
            self.send_attesting(request.leader, response);
            return false;
        }
        if !self.follow_leader(request.leader) {
            return false;
        }
        if !append_is_well_formed(&request) {
            return false;
        }
        let Some(request) = self.skip_snapshotted(request) else {
            return false;
        };

        // Consistency check.
        match self.log.term_at(request.prev_index) {
            Some(t) if t == request.prev_term => {}
            _ => {
                let hint = self.rejection_hint(request.prev_index, request.prev_term);
                let response = self.append_response(false, hint);
                self.send_attesting(request.leader, response);
                return true;
            }
        }

        let last_verified = request.prev_index + request.entries.len() as u64;
        if planted!(self, StaleAppendTruncates)
            && !request.entries.is_empty()
            && self.log.last_index() > last_verified.max(self.commit_index)
        {
            // The bug: whatever follows the append is dropped, even when everything matched.
            let cut = last_verified.max(self.commit_index);
            self.log.truncate_after(cut);
            self.durable_index = self.durable_index.min(cut);
            self.record_log_write(cut, Vec::new());
        }
        let (leader, commit) = (request.leader, request.commit);
        let mut entries = request.entries;
        // Skip what we already have; find the first conflict, if any.
        let mut have = 0;
        while let Some(entry) = entries.get(have) {
            match self.log.term_at(entry.index) {
                Some(t) if t == entry.term => have += 1,
                Some(_) => {
                    if entry.index <= self.commit_index {
                        // A leader never conflicts with committed entries; refuse to lose them.
                        return true;
                    }
                    if planted!(self, ConflictNotTruncated) {
                        self.overwrite_in_place(&entries[have..]);
                        break;
                    }
                    entries.drain(..have);
                    self.truncate_and_append(entries);
                    break;
                }
                None => {
                    // The message's own Vec becomes the log write: no copy of it.
                    entries.drain(..have);
                    self.truncate_and_append(entries);
                    break;
                }
            }
        }

        let new_commit = if planted!(self, FollowerCommitUnbounded) {
            commit.min(self.log.last_index())
        } else {
            commit.min(last_verified)
        };
        if new_commit > self.commit_index {
            self.commit_index = new_commit;
            self.hand_out_committed();
        }
        let response = self.append_response(true, last_verified);
        if planted!(self, AckBeforeFsync) {
            self.flush_persist();
            self.actions.push(Action::Send {
                to: leader,
                message: response,
            });
            return true;
        }
        self.send_attesting(leader, response);
        true
    }

    /// The sender of an AppendEntries or InstallSnapshot of our term is its leader: a
    /// candidate steps down (its vote stays), the election timer restarts, a pre-vote in
    /// progress is moot. False when this node leads: two leaders in one term cannot happen,
    /// so the message is ignored rather than acted on.
    fn follow_leader(&mut self, leader: NodeId) -> bool {
        if self.role == Role::Leader {
            return false;
        }
        if self.role == Role::Candidate {
            self.campaign = None;
            self.set_role(Role::Follower);
        }
        if self.leader != Some(leader) {
            self.set_leader(Some(leader));
        }
        self.reset_election_timer();
        self.ticks_since_leader = 0;
        self.pre_campaign = None;
        true
    }

    /// Rule (snapshots, NRG #7095): everything up to this node's snapshot is committed, so it
    /// is on the leader's log too (Log Matching): an append that starts below the snapshot
    /// (a delayed or re-sent one) is checked from the snapshot on, never rejected or truncating
    /// for entries the snapshot covers. None for an append whose entries after the snapshot
    /// have a term below the snapshot's (malformed).
    fn skip_snapshotted(&self, mut request: AppendEntries) -> Option<AppendEntries> {
        let start = self.log.start_index();
        if request.prev_index >= start {
            return Some(request);
        }
        let covered = (start - request.prev_index).min(request.entries.len() as u64);
        request.entries.drain(..covered as usize);
        request.prev_index = start;
        request.prev_term = self.log.start_term();
        if request
            .entries
            .first()
            .is_some_and(|e| e.term < request.prev_term)
        {
            return None;
        }
        Some(request)
    }

    /// Rule (ReadIndex, follower side): a follower answers an AppendEntries of its leader
    /// that carries a read round with a [`ReadAck`] for that round, whatever its log says.
    /// The ack attests only "my term is still yours", which needs no persist: a vote or an
    /// acknowledgement in a later term would have been made durable (raising the durable
    /// term) before it left, so a node that still answers in this term has given none.
    fn send_read_ack(&mut self, leader: NodeId, seq: u64) {
        let ack = ReadAck {
            term: self.hard_state.term,
            seq,
            peer: self.config.id,
        };
        self.send_unattested(leader, Message::ReadAck(ack));
    }

    /// Where a rejected leader should retry: the follower's last index if the leader is past
    /// it, else the last index at or before `prev_index` whose term is at most `prev_term`
    /// (entries with a higher term cannot be on the leader's log there), so a run of
    /// conflicting entries is skipped in one round trip.
    fn rejection_hint(&self, prev_index: u64, prev_term: u64) -> u64 {
        if prev_index > self.log.last_index() {
            return self.log.last_index();
        }
        let mut index = prev_index.saturating_sub(1);
        while index > self.commit_index {
            match self.log.term_at(index) {
                Some(t) if t > prev_term => index -= 1,
                _ => break,
            }
        }
        index
    }

    /// Planted bug `conflict-not-truncated`: conflicting entries are overwritten in memory
    /// and the stale suffix after them is kept (the write to disk still truncates).
    fn overwrite_in_place(&mut self, entries: &[Entry]) {
        let (Some(first), Some(last)) = (entries.first(), entries.last()) else {
            return;
        };
        let suffix: Vec<Entry> = self.log.slice(last.index + 1, u64::MAX).to_vec();
        let _ = first;
        self.truncate_and_append(entries.to_vec());
        #[cfg(feature = "planted-bugs")]
        for entry in suffix {
            self.log.append_unchecked(entry);
        }
        #[cfg(not(feature = "planted-bugs"))]
        let _ = suffix;
    }

    fn truncate_and_append(&mut self, entries: Vec<Entry>) {
        let Some(first) = entries.first() else { return };
        let prev_index = first.index - 1;
        let truncates = prev_index < self.log.last_index();
        self.log.truncate_after(prev_index);
        // Rule (membership): a change takes effect when appended and is undone when its
        // entry is truncated.
        let mut membership_changed = false;
        if truncates {
            self.durable_index = self.durable_index.min(prev_index);
            membership_changed |= self.membership.truncated_after(prev_index);
        }
        for entry in &entries {
            self.log.append(entry.clone());
        }
        membership_changed |= self.membership.appended(&entries);
        self.record_log_write(prev_index, entries);
        if membership_changed {
            self.membership_changed();
        }
    }

    /// Rules (membership), when the membership in effect changed (an entry appended or
    /// truncated): only the new voters count from now on; the peer-state file is rewritten
    /// with the next persist; a leader starts replicating to added members. (A removed
    /// member's progress is kept until the removal commits, so it hears of its removal.)
    fn membership_changed(&mut self) {
        let current = self.membership.current();
        self.voters.clear();
        self.voters.extend(current.voters.iter().copied());
        self.dirty_peers = true;
        if let Some(leadership) = self.leadership.as_mut() {
            let next = self.log.last_index();
            for peer in current.members().filter(|&p| p != self.config.id) {
                leadership
                    .progress
                    .get_or_insert_with(peer, || Progress::new(next));
            }
        }
    }

    /// Rules (membership), when the commit index passed the latest membership change: the
    /// leader stops replicating to removed members, and a leader that removed itself steps
    /// down (it is no voter, so it never campaigns again).
    fn membership_committed(&mut self, old_commit: u64) {
        let change = self.membership.last_change_index();
        if change <= old_commit || change > self.commit_index {
            return;
        }
        let Some(leadership) = self.leadership.as_mut() else {
            return;
        };
        let current = self.membership.current();
        leadership
            .progress
            .retain(|&peer, _| current.contains(peer));
        if !self.voters.contains(&self.config.id) {
            self.become_follower_in_term();
        }
    }

    fn append_response(&self, success: bool, index: u64) -> Message {
        Message::AppendResponse(AppendResponse {
            term: self.hard_state.term,
            index,
            peer: self.config.id,
            success,
        })
    }

    // ----- replication: leader side ----------------------------------------------------

    fn check_can_propose(&self, term: u64) -> Result<(), ProposeError> {
        if self.role != Role::Leader {
            return Err(ProposeError::NotLeader {
                leader: self.leader,
            });
        }
        if term != self.hard_state.term {
            return Err(ProposeError::WrongTerm {
                proposal_term: term,
                current_term: self.hard_state.term,
            });
        }
        if let Some(transfer) = self.leadership.as_ref().and_then(|l| l.transfer.as_ref()) {
            return Err(ProposeError::TransferInProgress {
                target: transfer.target,
            });
        }
        Ok(())
    }

    /// Rule (flow control): the leader's log never runs more than
    /// [`Config::max_uncommitted_entries`] ahead of its commit index because of proposals.
    fn check_uncommitted_limit(&self, adding: u64) -> Result<(), ProposeError> {
        let uncommitted = self.log.last_index() - self.commit_index;
        let limit = self.config.max_uncommitted_entries;
        if uncommitted.saturating_add(adding) > limit {
            return Err(ProposeError::Overloaded { uncommitted, limit });
        }
        Ok(())
    }

    fn append_as_leader(&mut self, kind: EntryKind, data: Bytes) {
        let entry = Entry {
            term: self.hard_state.term,
            index: self.log.last_index() + 1,
            kind,
            data,
        };
        self.log.append(entry.clone());
        let changes_membership =
            kind != EntryKind::Normal && self.membership.appended(std::slice::from_ref(&entry));
        self.record_log_write(entry.index - 1, std::iter::once(entry));
        if changes_membership {
            self.membership_changed();
        }
    }

    /// A forwarded proposal is appended like a local one; when the leader would refuse it
    /// (not leading, transferring, overloaded) it is dropped like a lost message and the
    /// client retries.
    fn handle_forwarded_proposal(&mut self, proposal: ForwardProposal) {
        let term = self.hard_state.term;
        let _dropped_when_refused = self.append_proposals(term, std::iter::once(proposal.data));
    }

    /// The one path of every proposal (local, batched, forwarded): checks that this node may
    /// take them in `term` and that flow control has room for all of them, appends them as
    /// one contiguous run and replicates. Returns their first and last index.
    fn append_proposals(
        &mut self,
        term: u64,
        batch: impl ExactSizeIterator<Item = Bytes>,
    ) -> Result<(u64, u64), ProposeError> {
        self.check_can_propose(term)?;
        self.check_uncommitted_limit(batch.len() as u64)?;
        let first_index = self.log.last_index() + 1;
        for data in batch {
            self.append_as_leader(EntryKind::Normal, data);
        }
        self.replicate_to_all();
        Ok((first_index, self.log.last_index()))
    }

    /// Rules for an AppendEntries response at the leader:
    /// - responses from another term are ignored (a higher term already stepped us down);
    /// - the match index is what the acknowledged request contained, never the leader's own
    ///   bookkeeping, and never moves back;
    /// - a rejection moves the next index back to the follower's hint, unless it is stale;
    ///   one below the match index is a lost disk ([`Progress::reject`]).
    fn handle_append_response(&mut self, from: NodeId, response: AppendResponse) {
        if self.role != Role::Leader
            || response.term != self.hard_state.term
            || response.peer != from
        {
            return;
        }
        let last_index = self.log.last_index();
        let Some(leadership) = self.leadership.as_mut() else {
            return;
        };
        let Some(progress) = leadership.progress.get_mut(&from) else {
            return;
        };
        progress.recent_active = true;
        if response.success {
            if response.index > last_index {
                return; // acknowledges entries we never sent: malformed
            }
            let acknowledged = if planted!(self, MatchFromBookkeeping) {
                progress.next_index.saturating_sub(1).min(last_index)
            } else {
                response.index
            };
            if progress.acknowledge(acknowledged) {
                self.advance_leader_commit();
            }
        } else {
            progress.reject(response.index);
        }
        self.send_append(from);
        self.send_timeout_now_once_caught_up(from);
    }

    /// Rule: the leader advances its commit index only to an entry of its current term that
    /// a quorum of voters (itself counted only for durable entries) holds (Raft Figure 8);
    /// earlier-term entries become committed with it.
    fn advance_leader_commit(&mut self) {
        let Some(leadership) = self.leadership.as_ref() else {
            return;
        };
        // On the stack for up to 16 voters: this runs for every acknowledgement.
        let (mut small, mut large) = ([0u64; 16], Vec::new());
        let matches: &mut [u64] = if self.voters.len() <= small.len() {
            &mut small[..self.voters.len()]
        } else {
            large.resize(self.voters.len(), 0);
            &mut large
        };
        for (slot, voter) in matches.iter_mut().zip(&self.voters) {
            *slot = if *voter == self.config.id {
                self.durable_index
            } else {
                leadership.progress.get(voter).map_or(0, |p| p.match_index)
            };
        }
        let candidate = quorum::committed_index(matches);
        if candidate <= self.commit_index
            || (self.log.term_at(candidate) != Some(self.hard_state.term)
                && !planted!(self, CommitPreviousTerm))
        {
            return;
        }
        let old_commit = self.commit_index;
        self.commit_index = candidate;
        self.hand_out_committed();
        let leadership = self.leadership.as_mut().expect("checked above");
        if !leadership.ready && self.commit_index >= leadership.noop_index {
            leadership.ready = true;
            self.announce_leader(Some(self.config.id));
        }
        self.membership_committed(old_commit);
    }

    /// Rule (ReadIndex): a read round is a heartbeat to every follower carrying the round's
    /// number. It is sent at the follower's match index, which the follower is known to hold,
    /// so it never provokes a rejection that would disturb replication.
    fn broadcast_read_round(&mut self) {
        let Some(leadership) = self.leadership.as_ref() else {
            return;
        };
        let heartbeats: Vec<(NodeId, Message)> = leadership
            .progress
            .iter()
            .map(|(&peer, progress)| {
                // At the snapshot for a follower that matches less than the leader keeps.
                let prev_index = progress.match_index.max(self.log.start_index());
                let heartbeat = AppendEntries {
                    leader: self.config.id,
                    term: self.hard_state.term,
                    commit: self.commit_index,
                    prev_term: self.log.term_at(prev_index).expect("match within the log"),
                    prev_index,
                    entries: Vec::new(),
                    read_seq: leadership.read_seq,
                };
                (peer, Message::AppendEntries(heartbeat))
            })
            .collect();
        for (peer, heartbeat) in heartbeats {
            self.send_unattested(peer, heartbeat);
        }
    }

    /// Rule (snapshots): a follower that needs entries the leader compacted gets the leader's
    /// snapshot in chunks of at most [`Config::max_bytes_per_message`] bytes, one chunk in
    /// flight (flow control per follower; the leader serves the others meanwhile). A chunk
    /// with no answer is resent at the next heartbeat. A newer snapshot replaces one in
    /// transfer, from offset 0.
    fn send_snapshot_chunk(&mut self, peer: NodeId) {
        let Some(snapshot) = self.snapshot.as_ref() else {
            return;
        };
        let Some(progress) = self
            .leadership
            .as_mut()
            .and_then(|l| l.progress.get_mut(&peer))
        else {
            return;
        };
        if progress.state != ProgressState::Snapshot
            || progress.snapshot_index != snapshot.meta.index
        {
            progress.start_snapshot(snapshot.meta.index);
        }
        if progress.snapshot_chunk_sent {
            return;
        }
        let len = snapshot.data.len();
        let offset = usize::try_from(progress.snapshot_offset)
            .unwrap_or(usize::MAX)
            .min(len);
        let end = offset
            .saturating_add(self.config.max_bytes_per_message)
            .min(len);
        progress.snapshot_chunk_sent = true;
        let message = Message::InstallSnapshot(Box::new(InstallSnapshot {
            term: self.hard_state.term,
            leader: self.config.id,
            meta: snapshot.meta.clone(),
            offset: offset as u64,
            data: snapshot.data.slice(offset..end),
            done: end == len,
        }));
        self.send_unattested(peer, message);
    }

    /// Rules for a snapshot response at the leader (only of this term, from a peer it
    /// tracks): "done" means the follower durably holds everything up to `index` — it counts
    /// toward commit like an acknowledgement, and replication resumes after it; otherwise the
    /// follower asks for the snapshot in transfer from `next_offset` (the next chunk, or 0
    /// after a restart lost what it had), which leaves at once.
    fn handle_snapshot_response(&mut self, from: NodeId, response: SnapshotResponse) {
        if self.role != Role::Leader
            || response.term != self.hard_state.term
            || response.peer != from
        {
            return;
        }
        let last_index = self.log.last_index();
        let Some(progress) = self
            .leadership
            .as_mut()
            .and_then(|l| l.progress.get_mut(&from))
        else {
            return;
        };
        progress.recent_active = true;
        if response.done {
            if response.index > last_index {
                return; // holds entries we never had: malformed
            }
            if progress.snapshot_installed(response.index) {
                self.advance_leader_commit();
            }
        } else if progress.state == ProgressState::Snapshot
            && response.index == progress.snapshot_index
        {
            progress.snapshot_requested(response.next_offset);
        } else {
            return; // about a snapshot no longer in transfer
        }
        self.send_append(from);
        self.send_timeout_now_once_caught_up(from);
    }

    /// Rules for a received snapshot chunk:
    /// - a lower term is answered with ours, so the stale leader steps down;
    /// - otherwise the sender is the leader of our term (as for an AppendEntries);
    /// - a snapshot at or below the commit index is stale (delayed, duplicated, or already
    ///   installed) and never moves the node backwards; the answer "done" (after every
    ///   persist in flight) moves the leader on;
    /// - chunks are taken in order: offset 0 starts the transfer over (unless a newer
    ///   snapshot of this or a later term is in progress); a chunk at any other offset than
    ///   the one expected is answered with the expected offset (0 when nothing of that
    ///   snapshot was received, as after a restart);
    /// - the last chunk installs the snapshot, and the answer "done" leaves only once it is
    ///   durable.
    fn handle_install_snapshot(&mut self, message: InstallSnapshot) {
        let leader = message.leader;
        let index = message.meta.index;
        if message.term < self.hard_state.term {
            let response = self.snapshot_response(index, 0, false);
            self.send_attesting(leader, response);
            return;
        }
        if !self.follow_leader(leader) {
            return;
        }
        if index <= self.commit_index {
            let response = self.snapshot_response(index, 0, true);
            self.send_attesting(leader, response);
            return;
        }
        let restart = message.offset == 0
            && self
                .incoming_snapshot
                .as_ref()
                .is_none_or(|i| (message.term, index) >= (i.term, i.meta.index));
        if restart {
            self.incoming_snapshot = Some(IncomingSnapshot {
                term: message.term,
                meta: message.meta.clone(),
                data: Vec::new(),
            });
        }
        let expected = match &self.incoming_snapshot {
            Some(i) if i.meta == message.meta => Some(i.data.len() as u64),
            _ => None,
        };
        if expected != Some(message.offset) {
            let response = self.snapshot_response(index, expected.unwrap_or(0), false);
            self.send_unattested(leader, response);
            return;
        }
        let incoming = self.incoming_snapshot.as_mut().expect("matched above");
        incoming.data.extend_from_slice(&message.data);
        let received = incoming.data.len() as u64;
        if !message.done {
            let response = self.snapshot_response(index, received, false);
            self.send_unattested(leader, response);
            return;
        }
        let incoming = self.incoming_snapshot.take().expect("matched above");
        self.install_received_snapshot(Snapshot {
            meta: incoming.meta,
            data: incoming.data.into(),
        });
        let response = self.snapshot_response(index, received, true);
        self.send_attesting(leader, response);
    }

    fn snapshot_response(&self, index: u64, next_offset: u64, done: bool) -> Message {
        Message::SnapshotResponse(SnapshotResponse {
            term: self.hard_state.term,
            peer: self.config.id,
            index,
            next_offset,
            done,
        })
    }

    /// Rule (snapshots): a snapshot received from the leader replaces the log up to its
    /// index. The entries after it are kept only when the log holds the snapshot's last entry
    /// (same index and term); otherwise the whole log goes, a conflicting entry at the
    /// snapshot's index included. The membership becomes the snapshot's (then the kept
    /// entries'), the commit index moves to the snapshot, and the application is handed the
    /// snapshot ([`Action::ApplySnapshot`], held back while paused).
    fn install_received_snapshot(&mut self, snapshot: Snapshot) {
        let (index, term) = (snapshot.meta.index, snapshot.meta.term);
        self.flush_persist();
        let keep_log = self.log.term_at(index) == Some(term);
        if keep_log {
            self.log.compact(index);
        } else {
            self.log.reset(index, term);
            self.durable_index = self.durable_index.min(index);
        }
        let before = self.membership.current().clone();
        self.membership
            .reset(Membership::from_peer_state(&snapshot.meta.peers));
        self.membership.appended(self.log.entries());
        if *self.membership.current() != before {
            self.membership_changed();
        }
        self.commit_index = index;
        self.apply_handed_out = index;
        self.received_snapshot_index = index;
        self.snapshot = Some(snapshot.clone());
        self.persist_snapshot(!keep_log);
        if self.paused {
            self.snapshot_to_apply = Some(snapshot);
        } else {
            self.actions.push(Action::ApplySnapshot {
                snapshot: Box::new(snapshot.meta),
                data: snapshot.data,
            });
        }
    }

    /// Issues the [`Action::PersistSnapshot`] of `self.snapshot`. Pending log writes must
    /// have been flushed before the log changed.
    fn persist_snapshot(&mut self, discard_log: bool) {
        debug_assert!(self.pending_log_write.is_none());
        let Some(snapshot) = self.snapshot.as_ref() else {
            return;
        };
        let id = PersistId(self.next_persist_id);
        self.next_persist_id += 1;
        self.in_flight_persists.push_back(InFlightPersist {
            id,
            hard_state: None,
            last_index_after: self.log.last_index(),
            truncates_to: discard_log.then_some(snapshot.meta.index),
        });
        self.actions.push(Action::PersistSnapshot {
            id,
            snapshot: Box::new(snapshot.meta.clone()),
            data: snapshot.data.clone(),
            discard_log,
        });
    }

    /// Rule (ReadIndex): record a follower's acknowledgement of read rounds up to `seq`
    /// (only of this term, only from a follower we track, never for a round not started).
    /// Keeping the highest round per follower makes duplicates count once and a delayed
    /// acknowledgement of an older round unable to confirm a newer read (etcd-io/raft#397).
    fn handle_read_ack(&mut self, from: NodeId, ack: ReadAck) {
        if self.role != Role::Leader || ack.term != self.hard_state.term || ack.peer != from {
            return;
        }
        let Some(leadership) = self.leadership.as_mut() else {
            return;
        };
        if ack.seq > leadership.read_seq {
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
        let Some(leadership) = self.leadership.as_mut() else {
            return;
        };
        let needed = quorum::quorum(self.voters.len());
        let own = usize::from(self.voters.contains(&self.config.id));
        while let Some(read) = leadership.pending_reads.front() {
            let acknowledged = leadership
                .progress
                .iter()
                .filter(|(peer, p)| p.read_acked >= read.seq && self.voters.contains(peer))
                .count();
            if own + acknowledged < needed {
                break;
            }
            let read = leadership.pending_reads.pop_front().expect("checked above");
            self.actions.push(Action::ReadReady {
                context: read.context,
                index: read.index,
            });
        }
    }

    /// Rule (CheckQuorum, NRG lost quorum): at the end of every window of
    /// `election_timeout_max` ticks a leader checks that it heard (an append response or a
    /// read ack of its term) from a quorum of voters, itself included, during the window;
    /// if not, and [`Config::check_quorum`] is on, it steps down to follower in its term.
    /// The window uses the maximum timeout so that a follower whose acknowledgements wait for
    /// a slow fsync is not taken for gone. Returns true when it stepped down.
    fn check_quorum_at_window_end(&mut self) -> bool {
        let window = self.config.election_timeout_max;
        let Some(leadership) = self.leadership.as_mut() else {
            return false;
        };
        leadership.quorum_window_elapsed += 1;
        if leadership.quorum_window_elapsed < window {
            return false;
        }
        leadership.quorum_window_elapsed = 0;
        let mut active = usize::from(self.voters.contains(&self.config.id));
        for (peer, progress) in leadership.progress.iter_mut() {
            if progress.recent_active && self.voters.contains(peer) {
                active += 1;
            }
            progress.recent_active = false;
        }
        if self.config.check_quorum && active < quorum::quorum(self.voters.len()) {
            self.become_follower_in_term();
            return true;
        }
        false
    }

    /// Leaves leadership or candidacy for follower in the same term; the vote stays (a vote
    /// is never cleared within a term).
    fn become_follower_in_term(&mut self) {
        self.campaign = None;
        self.pre_campaign = None;
        self.leadership = None;
        self.set_role(Role::Follower);
        self.set_leader(None);
        self.reset_election_timer();
    }

    fn replicate_to_all(&mut self) {
        let mut peer = self.peer_after(None);
        while let Some(p) = peer {
            self.send_append(p);
            peer = self.peer_after(Some(p));
        }
    }

    /// The leader's next peer in id order after `after` (the first when None). Walking the
    /// peers this way instead of collecting them saves an allocation per proposal.
    fn peer_after(&self, after: Option<NodeId>) -> Option<NodeId> {
        self.leadership.as_ref()?.progress.peer_after(after)
    }

    /// Sends `peer` what it is missing, as far as its flow-control window allows. One message
    /// carries entries of a single term (the NRG layout has one entry term per message).
    fn send_append(&mut self, peer: NodeId) {
        loop {
            let last_index = self.log.last_index();
            let Some(progress) = self.leadership.as_ref().and_then(|l| l.progress.get(&peer))
            else {
                return;
            };
            if progress.state == ProgressState::Snapshot {
                self.send_snapshot_chunk(peer);
                return;
            }
            if progress.next_index > last_index
                || !progress.can_send(self.config.max_inflight_messages)
            {
                return;
            }
            let from = progress.next_index;
            if from <= self.log.start_index() {
                // What it needs next is compacted: it gets the snapshot instead.
                self.send_snapshot_chunk(peer);
                return;
            }
            let message = self.build_append(from, true);
            let sent_last = match &message {
                Message::AppendEntries(m) => m.prev_index + m.entries.len() as u64,
                _ => unreachable!("build_append builds AppendEntries"),
            };
            let progress = self
                .leadership
                .as_mut()
                .and_then(|l| l.progress.get_mut(&peer))
                .expect("checked above");
            progress.sent(sent_last);
            self.send_unattested(peer, message);
        }
    }

    fn build_append(&self, from: u64, with_entries: bool) -> Message {
        let prev_index = from - 1;
        let prev_term = self
            .log
            .term_at(prev_index)
            .expect("next index within the log");
        let mut entries = Vec::new();
        if with_entries {
            // Flow control: at most max_entries_per_message entries and max_bytes_per_message
            // data bytes, but always at least one entry so an oversized entry still travels.
            let limit = from + self.config.max_entries_per_message as u64 - 1;
            let mut bytes = 0usize;
            let slice = self.log.slice(from, limit);
            entries.reserve_exact(slice.len());
            for entry in slice {
                if entries
                    .first()
                    .is_some_and(|first: &Entry| first.term != entry.term)
                {
                    break;
                }
                bytes = bytes.saturating_add(entry.data.len());
                if !entries.is_empty() && bytes > self.config.max_bytes_per_message {
                    break;
                }
                entries.push(entry.clone());
            }
        }
        Message::AppendEntries(AppendEntries {
            leader: self.config.id,
            term: self.hard_state.term,
            commit: self.commit_index,
            prev_term,
            prev_index,
            entries,
            read_seq: self.read_seq_on_the_wire(),
        })
    }

    /// The read round every AppendEntries carries: the latest while reads wait, else 0 (so
    /// without reads the bytes are NRG's and followers send no ReadAck).
    fn read_seq_on_the_wire(&self) -> u64 {
        match &self.leadership {
            Some(l) if !l.pending_reads.is_empty() => l.read_seq,
            _ => 0,
        }
    }

    /// Rule: every heartbeat interval the leader tells each follower its commit index and
    /// resends whatever is not acknowledged, so lost messages are repaired within one interval.
    fn broadcast_heartbeat(&mut self) {
        let last_index = self.log.last_index();
        let mut next = self.peer_after(None);
        while let Some(peer) = next {
            next = self.peer_after(Some(peer));
            let progress = self
                .leadership
                .as_mut()
                .and_then(|l| l.progress.get_mut(&peer))
                .expect("peer listed");
            progress.retransmit();
            let next_index = progress.next_index;
            // A snapshot in transfer: its chunk is resent (a stalled transfer resumes).
            if next_index <= last_index || progress.state == ProgressState::Snapshot {
                self.send_append(peer);
            } else {
                let heartbeat = self.build_append(next_index, false);
                self.send_unattested(peer, heartbeat);
            }
        }
    }

    // ----- commit and apply ------------------------------------------------------------

    /// Rule: committed entries are handed out in order, each once, except while paused.
    fn hand_out_committed(&mut self) {
        debug_assert!(self.commit_index <= self.log.last_index());
        if !self.paused && self.commit_index > self.apply_handed_out {
            let entries = self
                .log
                .slice(self.apply_handed_out + 1, self.commit_index)
                .to_vec();
            self.apply_handed_out = self.commit_index;
            // Persist first, so a host can start the write before applying.
            self.flush_persist();
            self.actions.push(Action::Apply { entries });
        }
    }

    // ----- durability plumbing ---------------------------------------------------------

    /// Adds appended entries (after `prev_index`, which may cut the log) to the pending log
    /// write. An iterator, so a leader's entries extend the pending write one by one without
    /// a `Vec` each, and a follower's message `Vec` becomes the write's without a copy.
    fn record_log_write(&mut self, prev_index: u64, entries: impl IntoIterator<Item = Entry>) {
        match self.pending_log_write.as_mut() {
            Some(write) if prev_index >= write.prev_index => {
                let keep = (prev_index - write.prev_index) as usize;
                write.entries.truncate(keep);
                write.entries.extend(entries);
            }
            _ => {
                let prev_term = self.log.term_at(prev_index).expect("prev within log");
                self.pending_log_write = Some(LogWrite {
                    prev_index,
                    prev_term,
                    entries: entries.into_iter().collect(),
                });
            }
        }
    }

    /// Turns pending changes into one Persist action. Returns the id that a message attesting
    /// the current state must wait for (None when everything is already durable).
    ///
    /// Called for every message sent and every input, and usually with nothing pending: the
    /// check is inlined, the work is not.
    #[inline]
    fn flush_persist(&mut self) -> Option<PersistId> {
        if self.dirty_hard_state || self.pending_log_write.is_some() || self.dirty_peers {
            self.issue_persist();
        }
        self.in_flight_persists.back().map(|p| p.id)
    }

    /// [`Node::flush_persist`]'s work: one Persist action for everything pending.
    #[inline(never)]
    fn issue_persist(&mut self) {
        let id = PersistId(self.next_persist_id);
        self.next_persist_id += 1;
        let hard_state = self.dirty_hard_state.then_some(self.hard_state);
        let log = self.pending_log_write.take();
        let peers = self.dirty_peers.then(|| Box::new(self.peer_state()));
        self.dirty_hard_state = false;
        self.dirty_peers = false;
        let truncates_to = log.as_ref().map(|w| w.prev_index);
        self.in_flight_persists.push_back(InFlightPersist {
            id,
            hard_state,
            last_index_after: self.log.last_index(),
            truncates_to,
        });
        self.actions.push(Action::Persist {
            id,
            hard_state,
            log,
            peers,
        });
    }

    /// Sends a message that attests this node's state (a vote, an acknowledgement, a vote
    /// request carrying our own vote): it waits for every persist issued so far.
    fn send_attesting(&mut self, to: NodeId, message: Message) {
        match self.flush_persist() {
            Some(after) => self.held_messages.push_back((after, to, message)),
            None => self.actions.push(Action::Send { to, message }),
        }
    }

    /// Sends a leader's AppendEntries, which attests nothing: it may leave before the leader's
    /// own write is durable (the leader counts itself only once it is). Pending writes are
    /// issued first so the host can start the fsync in parallel with the network send.
    fn send_unattested(&mut self, to: NodeId, message: Message) {
        self.flush_persist();
        self.actions.push(Action::Send { to, message });
    }

    fn finish(&mut self) -> Vec<Action> {
        let mut actions = Vec::new();
        self.finish_into(&mut actions);
        actions
    }

    /// [`Node::finish`] into the host's buffer. When `out` is empty the two buffers are
    /// swapped: the host gets the actions, the node keeps `out`'s allocation for next time.
    fn finish_into(&mut self, out: &mut Vec<Action>) {
        self.flush_persist();
        if out.is_empty() {
            std::mem::swap(out, &mut self.actions);
        } else {
            out.append(&mut self.actions);
        }
    }

    fn other_voters(&self) -> impl Iterator<Item = NodeId> + '_ {
        self.voters
            .iter()
            .copied()
            .filter(move |&v| v != self.config.id)
    }

    /// Who a candidate asks for (pre-)votes: the other voters. With the planted
    /// `removed-peer-votes-counted` also every peer it was configured with, as NRG's vote
    /// request reaches every peer still listening on the group's subject.
    fn vote_request_recipients(&self) -> Vec<NodeId> {
        let mut peers: Vec<NodeId> = self.other_voters().collect();
        if planted!(self, RemovedPeerVotesCounted) {
            for &peer in &self.config.voters {
                if peer != self.config.id && !peers.contains(&peer) {
                    peers.push(peer);
                }
            }
        }
        peers
    }

    /// Rule: only voters' (pre-)vote responses count; a removed peer's never does.
    fn counts_votes_of(&self, from: NodeId) -> bool {
        self.voters.contains(&from) || planted!(self, RemovedPeerVotesCounted)
    }
}

/// Whether a message with a higher term makes the receiver adopt that term. PreVote
/// messages carry a term nobody has reached yet (the sender's term + 1), so they never do.
fn adopts_sender_term(message: &Message) -> bool {
    !matches!(
        message,
        Message::PreVoteRequest(_) | Message::PreVoteResponse(_)
    )
}

/// Raft §5.4.1: the candidate's log is at least as up to date as ours.
fn candidate_log_is_up_to_date(request: &VoteRequest, last_term: u64, last_index: u64) -> bool {
    (request.last_term, request.last_index) >= (last_term, last_index)
}

fn append_is_well_formed(request: &AppendEntries) -> bool {
    let Some(first) = request.entries.first() else {
        return true;
    };
    first.term >= request.prev_term
        && first.term <= request.term
        && request
            .entries
            .iter()
            .enumerate()
            .all(|(i, e)| e.term == first.term && e.index == request.prev_index + 1 + i as u64)
}

fn validate_recovered_log(recovered: &Recovered) -> Result<(), ConfigError> {
    // Without a snapshot the log starts at 1; with one, anywhere up to just after it.
    let first_index = match (&recovered.snapshot, recovered.log.first()) {
        (None, _) => 1,
        (Some(s), Some(first)) if (1..=s.meta.index + 1).contains(&first.index) => first.index,
        (Some(s), _) => s.meta.index + 1,
    };
    let mut last_term = 0;
    for (position, entry) in recovered.log.iter().enumerate() {
        let expected_index = first_index + position as u64;
        if entry.index != expected_index {
            return Err(ConfigError::LogGap {
                position,
                expected_index,
                found_index: entry.index,
            });
        }
        if entry.term < last_term {
            return Err(ConfigError::LogTermDecreases { index: entry.index });
        }
        last_term = entry.term;
    }
    Ok(())
}

/// The recovered entries after the snapshot: the ones it covers are dropped, and all of them
/// when the log's entry at the snapshot's index has another term (a snapshot received from a
/// leader replaced a conflicting log, and a crash came before the WAL was reset).
fn entries_after_snapshot(
    log: Vec<Entry>,
    snapshot: Option<&SnapshotMeta>,
) -> Result<Vec<Entry>, ConfigError> {
    let Some(meta) = snapshot else {
        return Ok(log);
    };
    let Some(first) = log.first() else {
        return Ok(log);
    };
    let at_snapshot = meta
        .index
        .checked_sub(first.index)
        .and_then(|i| log.get(usize::try_from(i).ok()?));
    let covered = log.last().is_some_and(|e| e.index <= meta.index);
    if covered || at_snapshot.is_some_and(|e| e.term != meta.term) {
        return Ok(Vec::new());
    }
    let skip = (meta.index + 1).saturating_sub(first.index) as usize;
    let kept: Vec<Entry> = log.into_iter().skip(skip).collect();
    if let Some(first) = kept.first() {
        if first.term < meta.term {
            return Err(ConfigError::LogTermDecreases { index: first.index });
        }
    }
    Ok(kept)
}
