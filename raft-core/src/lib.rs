//! # raft-core: a sans-IO Raft node
//!
//! A [`Node`] is a pure state machine. It never touches a disk, a socket, a clock or a
//! thread. Its host feeds it inputs and carries out the [`Action`]s it returns, in order:
//!
//! | input                       | when                                                  |
//! |-----------------------------|-------------------------------------------------------|
//! | [`Node::tick`]              | one unit of logical time has passed                   |
//! | [`Node::receive`]           | a [`Message`] arrived from a peer                     |
//! | [`Node::propose`]           | the application wants an entry replicated (leader)    |
//! | [`Node::propose_batch`]     | several entries as one contiguous run (NRG ProposeMulti) |
//! | [`Node::forward`]           | a follower hands a proposal to its leader             |
//! | [`Node::propose_membership`] | add a voter or an observer, or remove a peer (leader) |
//! | [`Node::persisted`]         | an [`Action::Persist`] is durable                     |
//! | [`Node::applied`]           | entries from an [`Action::Apply`] (or the snapshot of an [`Action::ApplySnapshot`]) are applied |
//! | [`Node::install_snapshot`]  | the application's state at an applied index: compact the log |
//! | [`Node::begin_snapshot`] / [`Node::finish_snapshot`] | the same in two steps (a checkpoint), other inputs in between |
//! | [`Node::force_install_snapshot`] | compact now, aborting an open checkpoint |
//! | [`Node::drain_and_replay_snapshot`] | the application starts over from the latest snapshot |
//! | [`Node::campaign`]          | campaign now (NRG `Campaign`), as if the timeout fired |
//! | [`Node::step_down`]         | hand leadership to a successor (leader transfer)      |
//! | [`Node::read_index`]        | a linearizable read: wait for [`Action::ReadReady`]   |
//! | [`Node::pause_apply`]       | stop handing out applies and campaigning (a leader steps down) |
//! | [`Node::resume_apply`]      | hand out what was committed meanwhile, campaign again |
//!
//! [`Node::health`] answers NRG's `Current()` / `Healthy()` without changing anything.
//!
//! The inputs a busy host calls most ([`Node::receive_into`], [`Node::tick_into`],
//! [`Node::propose_into`], [`Node::persisted_into`], [`Node::applied_into`]) also come in a
//! form that appends the actions to a buffer the host reuses, instead of returning a new
//! `Vec` per call; the actions are the same.
//!
//! ## Features beyond classic Raft (all in [`Config`])
//!
//! - **PreVote** ([`Config::pre_vote`], on by default): a node whose election timeout fires
//!   first asks whether it could win at `term + 1` ([`Message::PreVoteRequest`]), changing
//!   neither term nor vote; only a quorum of grants starts the real election.
//! - **CheckQuorum** ([`Config::check_quorum`], on by default): a leader that has not heard
//!   from a quorum within an election timeout steps down (NRG lost quorum), and a node that
//!   heard from a current leader within the minimum election timeout ignores higher-term vote
//!   requests (leader stickiness), except those of a leader transfer.
//! - **Leader transfer**: [`Node::step_down`] refuses proposals
//!   ([`ProposeError::TransferInProgress`]), catches the successor up and sends it
//!   [`Message::TimeoutNow`].
//! - **ReadIndex**: [`Node::read_index`] confirms leadership with a numbered heartbeat round
//!   and emits [`Action::ReadReady`]; serve the read once [`Node::applied`] reached its index.
//! - **Snapshots**: [`Node::install_snapshot`] compacts the log; a follower that needs
//!   compacted entries receives the leader's snapshot in chunks
//!   ([`Message::InstallSnapshot`], one in flight) and hands it to the application with
//!   [`Action::ApplySnapshot`].
//! - **Membership**: [`Node::propose_membership`] makes one single-server change at a time
//!   (voters and observers, see [`membership`]); a change takes effect when appended.
//! - **Flow control**: [`Config::max_inflight_messages`], [`Config::max_entries_per_message`],
//!   [`Config::max_bytes_per_message`] per follower and message, and
//!   [`Config::max_uncommitted_entries`] ([`ProposeError::Overloaded`]) for the leader's log.
//!
//! ## The host's contract: durable before attested
//!
//! 1. Execute actions in the order returned.
//! 2. For [`Action::Persist`], write the hard state (term and vote), then the log write,
//!    then the peer state (membership) if it carries one, make them durable (fsync), and only
//!    then call [`Node::persisted`] with its id. Complete persists in the order issued;
//!    reporting an id reports every earlier one too.
//! 3. Never fake a completion. The node holds back every message that attests state — a vote
//!    grant, an append acknowledgement, its own vote request — until the persist it depends on
//!    is reported, and a leader counts its own entries toward commit only once they are
//!    durable. Reporting early is the one way a host can break Raft's safety, so the API makes
//!    it an explicit call with an id only the node hands out; an id it never issued is a
//!    [`ContractError`].
//!    [`Action::PersistSnapshot`] takes its id from the same sequence and is completed in
//!    order with the others: write the snapshot file atomically, then reset or compact the
//!    WAL as the action says.
//! 4. Messages may be lost, duplicated, delayed or reordered; the protocol repairs all of it.
//!    Only messages that attest nothing leave without waiting: a leader's AppendEntries,
//!    PreVote requests and answers, TimeoutNow and read acknowledgements.
//! 5. After a crash, rebuild the node from what storage holds ([`Recovered`], decoded with
//!    [`storage`]: term/vote file, WAL, peer-state file, newest snapshot file); restore the
//!    application from the snapshot, if any. The node restarts as a follower with the
//!    snapshot committed and applied, and re-learns the commit index beyond it.
//!
//! ## Determinism
//!
//! The only randomness is the election jitter: each timeout is a pure function of
//! [`Config::seed`], the term and how many times the timer fired in it (so it does not depend
//! on how many messages the node received). Peers are kept in ordered maps. Two nodes fed the same inputs return the
//! same actions, byte for byte.
//!
//! ## Walk-through: a single-voter cluster commits on its own
//!
//! ```
//! use raft_core::{Action, Config, Node, NodeId, Recovered, Role};
//!
//! let id = NodeId(1);
//! let mut node = Node::new(Config::new(id, vec![id], 7), Recovered::default()).unwrap();
//!
//! // Campaign: the node asks to persist term 1 and its own vote first.
//! let actions = node.campaign();
//! let persist = actions.iter().find_map(|a| match a {
//!     Action::Persist { id, hard_state: Some(hs), .. } => Some((*id, *hs)),
//!     _ => None,
//! });
//! let (persist_id, hard_state) = persist.expect("term and vote are persisted first");
//! assert_eq!((hard_state.term, hard_state.vote), (1, Some(id)));
//! assert_eq!(node.role(), Role::Candidate);
//!
//! // Once the vote is durable it counts: the node leads and appends its no-op entry.
//! let actions = node.persisted(persist_id).unwrap();
//! assert_eq!(node.role(), Role::Leader);
//! let noop_persist = actions.iter().find_map(|a| match a {
//!     Action::Persist { id, log: Some(_), .. } => Some(*id),
//!     _ => None,
//! }).unwrap();
//!
//! // The no-op becomes durable; with one voter that is a quorum, so it commits and the
//! // application learns it may use this leader.
//! let actions = node.persisted(noop_persist).unwrap();
//! assert!(actions.contains(&Action::LeaderChanged { term: 1, leader: Some(id) }));
//!
//! // A proposal is term-fenced: it names the term the application saw.
//! let proposed = node.propose(1, &b"hello"[..]).unwrap();
//! assert_eq!(proposed.first_index, 2);
//! assert!(node.propose(0, &b"stale"[..]).is_err());
//! ```
//!
//! A multi-node cluster works the same way: deliver each [`Action::Send`] to the named peer
//! with [`Node::receive`]. The `sim` crate of this workspace is a complete host.

pub mod action;
pub mod codec;
pub mod config;
pub mod log;
pub mod membership;
pub mod message;
pub mod node;
#[cfg(feature = "planted-bugs")]
pub mod planted;
pub mod progress;
pub mod quorum;
pub mod storage;
pub mod types;

pub use action::{Action, LogWrite, PersistId, Role};
pub use config::{Config, ConfigError, Recovered};
pub use membership::{Membership, MembershipChange};
pub use message::*;
pub use node::{
    ContractError, EvictError, Eviction, Health, LogDamage, Node, PeerInfo, ProposeError, Proposed,
    ReadError, Rescue, RescueError, ResetError, SnapshotCheckpoint, SnapshotError, TransferError,
    WriteError, WriteErrorKind, WriteStage,
};
pub use types::*;
