//! The host: one task that owns the raft-core [`Node`] and the key-value store, feeds the
//! node its inputs (peer messages, client requests, ticks, completed persists) and carries
//! out the actions it returns, in order.
//!
//! How the host keeps raft-core's contract:
//! - **In order.** Every input's actions are executed before the next input is taken, depth
//!   first (an `Apply` reports `applied`, and the actions of that report run before the rest
//!   of the list), as the simulator's host does.
//! - **Durable before attested.** `Persist` and `PersistSnapshot` go to the storage thread in
//!   issue order (one batch per round of the loop, so one fsync covers the round, and the
//!   storage thread groups further), and `Node::persisted` is called only with the id the
//!   thread reported after its fsync. The node holds back every message that depends on a
//!   persist; the host sends exactly what `Send` gives it, when it gives it.
//! - **Messages may be lost.** The transport drops rather than blocks; the node repairs.
//!
//! A round of the loop takes one input, then everything else already waiting (up to a cap
//! per source), proposes the round's writes as one batch (`propose_batch`: one persist, one
//! append per follower), asks one ReadIndex for the round's reads, and hands the round's
//! persists to the storage thread.

mod clients;

pub use clients::{Call, Outcome, ReadMode, Request, Session, ANONYMOUS_CLIENTS};

use crate::config::ServerConfig;
use crate::storage::writer::{self, Counters, Writer};
use crate::transport::{Inbound, Outbound, TransportCounters};
use clients::Clients;
use raft_core::{Action, Node, NodeId, Role};
use state_machines::kv::KvStore;
use std::fmt;
use std::future::Future;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use tokio::sync::mpsc;
use tokio::time::MissedTickBehavior;

/// Inputs drained per source in one round before the round ends.
const ROUND_CAP: usize = 1024;

/// Why the host stopped without being asked to.
#[derive(Debug)]
pub enum Fatal {
    /// The storage thread failed; nothing after its last report is durable.
    Storage(crate::storage::StorageError),
    /// The storage thread is gone without a report.
    StorageGone,
    /// A snapshot received from the leader does not decode as a key-value store.
    BadSnapshot { index: u64 },
    /// The node refused a completion the host reported (a host bug, never bad input).
    Contract(raft_core::ContractError),
    /// The node asked to read entries back from its log (`Action::ReadLog`), which only a
    /// node with a log cache bound does: this server keeps the whole log in memory and never
    /// sets one, so the request is a configuration bug.
    LogReadUnsupported { from: u64, to: u64 },
}

impl fmt::Display for Fatal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Fatal::Storage(e) => write!(f, "storage failed: {e}"),
            Fatal::StorageGone => write!(f, "the storage thread stopped"),
            Fatal::BadSnapshot { index } => {
                write!(f, "the snapshot at index {index} is not a key-value store")
            }
            Fatal::Contract(e) => write!(f, "host broke raft-core's contract: {e}"),
            Fatal::LogReadUnsupported { from, to } => write!(
                f,
                "the node asked to read log entries {from}..={to} back from storage, but this \
                 server keeps the whole log in memory (log_cache_bytes must stay unset)"
            ),
        }
    }
}

impl std::error::Error for Fatal {}

/// The node's state for `GET /status`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Status {
    pub id: NodeId,
    pub role: Role,
    pub term: u64,
    pub leader: Option<NodeId>,
    pub ready_leader: bool,
    pub commit: u64,
    pub applied: u64,
    pub last_index: u64,
    pub snapshot_index: u64,
    /// The log the node answers for while its leader repairs damage to its WAL.
    pub repairing: Option<String>,
    pub voters: Vec<NodeId>,
    pub observers: Vec<NodeId>,
    pub persists: u64,
    pub wal_fsyncs: u64,
    pub messages_sent: u64,
    pub messages_dropped: u64,
    pub messages_received: u64,
}

impl Status {
    pub fn to_json(&self) -> String {
        let ids = |v: &[NodeId]| v.iter().map(|n| n.0).collect::<Vec<_>>();
        serde_json::json!({
            "id": self.id.0,
            "role": format!("{:?}", self.role).to_lowercase(),
            "term": self.term,
            "leader": self.leader.map(|l| l.0),
            "ready_leader": self.ready_leader,
            "commit": self.commit,
            "applied": self.applied,
            "last_index": self.last_index,
            "snapshot_index": self.snapshot_index,
            "repairing": self.repairing,
            "voters": ids(&self.voters),
            "observers": ids(&self.observers),
            "persists": self.persists,
            "wal_fsyncs": self.wal_fsyncs,
            "messages_sent": self.messages_sent,
            "messages_dropped": self.messages_dropped,
            "messages_received": self.messages_received,
        })
        .to_string()
    }
}

pub struct Host {
    node: Node,
    kv: KvStore,
    writer: Writer,
    outbound: Outbound,
    config: ServerConfig,
    clients: Clients,
    /// This round's persists, for the storage thread.
    persists: Vec<writer::Request>,
    storage_counters: Arc<Counters>,
    transport_counters: Arc<TransportCounters>,
    fatal: Option<Fatal>,
    /// The node started on a damaged WAL and has not reported itself repaired yet.
    repairing: bool,
}

/// The channels the host reads.
pub struct Inputs {
    pub peers: mpsc::Receiver<Inbound>,
    pub requests: mpsc::Receiver<Request>,
    pub storage: mpsc::UnboundedReceiver<writer::Event>,
}

impl Host {
    pub fn new(
        node: Node,
        kv: KvStore,
        writer: Writer,
        outbound: Outbound,
        config: ServerConfig,
        storage_counters: Arc<Counters>,
        transport_counters: Arc<TransportCounters>,
    ) -> Host {
        Host {
            repairing: node.repairing().is_some(),
            clients: Clients::new(config.request_timeout),
            node,
            kv,
            writer,
            outbound,
            config,
            persists: Vec::new(),
            storage_counters,
            transport_counters,
            fatal: None,
        }
    }

    /// Runs until `shutdown` completes (then finishes the persists already issued) or a
    /// fatal error.
    pub async fn run(mut self, mut inputs: Inputs, shutdown: impl Future) -> Result<(), Fatal> {
        let mut ticker = tokio::time::interval(self.config.tick);
        // A paused process must not come back to a burst of ticks (an instant election).
        ticker.set_missed_tick_behavior(MissedTickBehavior::Delay);
        tokio::pin!(shutdown);
        loop {
            tokio::select! {
                _ = &mut shutdown => break,
                event = inputs.storage.recv() => match event {
                    Some(event) => self.on_storage(event),
                    None => self.fatal = Some(Fatal::StorageGone),
                },
                Some((from, message)) = inputs.peers.recv() => self.on_peer(from, message),
                Some(request) = inputs.requests.recv() => self.on_request(request),
                _ = ticker.tick() => self.on_tick(),
            }
            while let Ok(event) = inputs.storage.try_recv() {
                self.on_storage(event);
            }
            for _ in 0..ROUND_CAP {
                let Ok((from, message)) = inputs.peers.try_recv() else {
                    break;
                };
                self.on_peer(from, message);
            }
            for _ in 0..ROUND_CAP {
                let Ok(request) = inputs.requests.try_recv() else {
                    break;
                };
                self.on_request(request);
            }
            self.end_round();
            if let Some(fatal) = self.fatal.take() {
                return Err(fatal);
            }
        }
        self.clients.abandon_all("the server is stopping");
        self.end_round();
        self.writer.finish();
        Ok(())
    }

    fn on_storage(&mut self, event: writer::Event) {
        match event {
            writer::Event::Persisted(id) => {
                let mut actions = Vec::new();
                match self.node.persisted_into(id, &mut actions) {
                    Ok(()) => self.execute(actions),
                    Err(e) => self.fatal = Some(Fatal::Contract(e)),
                }
                self.note_repair();
            }
            writer::Event::Failed(e) => self.fatal = Some(Fatal::Storage(e)),
        }
    }

    /// A node repairing damage is repaired once its durable log caught up with the log it
    /// held: only then may the damage file go (after everything already issued is durable).
    fn note_repair(&mut self) {
        if self.repairing && self.node.repairing().is_none() {
            self.repairing = false;
            self.persists.push(writer::Request::Repaired);
            tracing::info!(id = %self.node.id(), last_index = self.node.last_index(), "repaired");
        }
    }

    fn on_peer(&mut self, from: NodeId, message: raft_core::Message) {
        let mut actions = Vec::new();
        self.node.receive_into(from, message, &mut actions);
        self.execute(actions);
    }

    fn on_tick(&mut self) {
        let mut actions = Vec::new();
        self.node.tick_into(&mut actions);
        self.execute(actions);
        self.clients.expire();
    }

    fn on_request(&mut self, request: Request) {
        if let Call::Status = request.call {
            let _ = request.reply.send(Outcome::Status(Box::new(self.status())));
            return;
        }
        let actions = self.clients.on_request(&mut self.node, &self.kv, request);
        self.execute(actions);
    }

    /// Ends a round: the batched writes and reads go to the node, the persists to storage.
    fn end_round(&mut self) {
        let actions = self.clients.propose_round(&mut self.node);
        self.execute(actions);
        let actions = self.clients.read_round(&mut self.node);
        self.execute(actions);
        if !self.persists.is_empty() && !self.writer.submit(std::mem::take(&mut self.persists)) {
            self.fatal.get_or_insert(Fatal::StorageGone);
        }
    }

    /// Carries out actions in order (depth first through `applied`).
    fn execute(&mut self, actions: Vec<Action>) {
        for action in actions {
            match action {
                Action::Persist {
                    id,
                    hard_state,
                    log,
                    peers,
                } => self.persists.push(writer::Request::Persist {
                    id,
                    hard_state,
                    log,
                    peers: peers.map(|p| *p),
                }),
                Action::PersistSnapshot {
                    id,
                    snapshot,
                    data,
                    discard_log,
                } => self.persists.push(writer::Request::Snapshot {
                    id,
                    meta: *snapshot,
                    data,
                    discard_log,
                }),
                Action::Send { to, message } => self.outbound.send(to, message),
                Action::Apply { entries } => {
                    let Some(last) = entries.last().map(|e| e.index) else {
                        continue;
                    };
                    self.clients.apply(&mut self.kv, &entries);
                    self.report_applied(last);
                    self.maybe_snapshot();
                }
                Action::ApplySnapshot { snapshot, data } => {
                    match KvStore::from_bytes(&data) {
                        Some(kv) => self.kv = kv,
                        None => {
                            self.fatal = Some(Fatal::BadSnapshot {
                                index: snapshot.index,
                            });
                            return;
                        }
                    }
                    tracing::info!(
                        index = snapshot.index,
                        "installed a snapshot from the leader"
                    );
                    self.clients.snapshot_installed(snapshot.index);
                    self.report_applied(snapshot.index);
                }
                Action::RoleChanged { role, term } => {
                    tracing::info!(?role, term, "role changed");
                    if role != Role::Leader {
                        self.clients.leadership_lost(self.node.leader());
                    }
                }
                Action::LeaderChanged { term, leader } => {
                    tracing::info!(term, leader = ?leader, "leader changed");
                }
                Action::ReadReady { context, index } => {
                    self.clients.read_ready(context, index);
                    self.clients
                        .serve_reads(&self.kv, self.node.applied_index());
                }
                Action::ResetStorage { peers, answers_for } => {
                    self.persists.push(writer::Request::Reset {
                        peers: *peers,
                        answers_for,
                    });
                    self.repairing = answers_for.is_some();
                    self.clients.storage_reset();
                    self.kv = KvStore::default();
                    tracing::info!(answers_for = ?answers_for, "storage reset");
                }
                Action::ReadLog { from, to } => {
                    self.fatal = Some(Fatal::LogReadUnsupported { from, to });
                    return;
                }
                // This server never forwards with a reply inbox (it redirects clients).
                Action::ForwardAnswered { reply, outcome, .. } => {
                    tracing::debug!(reply, ?outcome, "forward answered");
                }
            }
        }
    }

    fn report_applied(&mut self, index: u64) {
        let mut actions = Vec::new();
        match self.node.applied_into(index, &mut actions) {
            Ok(()) => self.execute(actions),
            Err(e) => {
                self.fatal = Some(Fatal::Contract(e));
                return;
            }
        }
        self.clients
            .serve_reads(&self.kv, self.node.applied_index());
    }

    /// Compacts the log once `snapshot_every` entries were applied since the last snapshot.
    fn maybe_snapshot(&mut self) {
        let every = self.config.snapshot_every;
        let applied = self.node.applied_index();
        if every == 0 || applied < self.node.snapshot_index() + every {
            return;
        }
        match self.node.install_snapshot(applied, self.kv.to_bytes()) {
            Ok(actions) => {
                tracing::debug!(index = applied, "snapshot taken");
                self.execute(actions);
            }
            Err(e) => tracing::warn!(error = %e, "snapshot refused"),
        }
    }

    pub fn status(&self) -> Status {
        let node = &self.node;
        let load = |c: &std::sync::atomic::AtomicU64| c.load(Ordering::Relaxed);
        Status {
            id: node.id(),
            role: node.role(),
            term: node.term(),
            leader: node.leader(),
            ready_leader: node.is_ready_leader(),
            commit: node.commit_index(),
            applied: node.applied_index(),
            last_index: node.last_index(),
            snapshot_index: node.snapshot_index(),
            repairing: node.repairing().map(|d| d.to_string()),
            voters: node.voters().collect(),
            observers: node.observers().collect(),
            persists: load(&self.storage_counters.persists),
            wal_fsyncs: load(&self.storage_counters.wal_fsyncs),
            messages_sent: load(&self.transport_counters.sent),
            messages_dropped: load(&self.transport_counters.dropped),
            messages_received: load(&self.transport_counters.received),
        }
    }
}
