//! The world: one thread, virtual time, an event queue ordered by (time, sequence number), the
//! nodes with their hosts and disks, the network, the clients and the checkers.

use crate::checkers::{Checkers, Property, Violation};
use crate::config::{Micros, SimConfig};
use crate::disk::Disk;
use crate::event;
use crate::faults::{draw_script, Fault, ScriptedFault, Step, Target};
use crate::history::{History, Outcome};
use crate::kv::{Command, KvOp, KvResult, KvStore};
use crate::network::{Fate, Network, Topology};
use crate::put;
use crate::rng::{derive_seed, Stream};
use crate::trace::{Joined, Lazy, Line, NodeName, Trace, TraceEvent};
use raft_core::storage;
use raft_core::{
    Action, Config, EntryKind, HardState, LogWrite, MembershipChange, Message, Node, NodeId,
    PersistId, ProposeError, Recovered, Role,
};
use std::cmp::Reverse;
use std::collections::{BTreeMap, BinaryHeap, HashMap, VecDeque};

pub mod scripted;

/// Something scheduled to happen at a virtual time.
#[derive(Clone, Debug)]
enum Event {
    Tick {
        node: usize,
        incarnation: u64,
    },
    Deliver {
        from: usize,
        to: usize,
        message: Message,
        /// When the message leaves the sender's machine: a power loss before then loses it
        /// (`LOST`).
        departs: Micros,
    },
    /// The rename step of an atomic term/vote (or peer-state) replacement.
    Rename {
        node: usize,
        incarnation: u64,
        bytes: Vec<u8>,
        file: SmallFile,
    },
    PersistDone {
        node: usize,
        incarnation: u64,
        id: PersistId,
    },
    Fault(usize),
    /// The held membership change goes to a node that just won or just became ready (after
    /// the step that made it so has been carried out).
    MembershipAtLeader {
        node: usize,
        incarnation: u64,
    },
    /// The operator's tool asks the current leader again for the held change (the second
    /// step of a replacement), every heartbeat until it is accepted.
    OperatorRetry,
    Restart {
        node: usize,
        incarnation: u64,
    },
    Resume {
        node: usize,
        incarnation: u64,
    },
    /// A scheduled crash of one node incarnation (the kill-next-leader fault).
    Kill {
        node: usize,
        incarnation: u64,
        down_us: Micros,
    },
    ResumeApply {
        node: usize,
        incarnation: u64,
    },
    ClientWake {
        client: usize,
    },
    ClientRequest {
        node: usize,
        client: usize,
        seq: u64,
        attempt: u32,
        command: Command,
    },
    ClientReply {
        client: usize,
        seq: u64,
        attempt: u32,
        reply: Reply,
    },
    ClientTimeout {
        client: usize,
        seq: u64,
        attempt: u32,
    },
    ClientRetry {
        client: usize,
        seq: u64,
        attempt: u32,
    },
    Calm,
    End,
}

#[derive(Clone, Debug)]
enum Reply {
    Done(KvResult),
    NotLeader(Option<usize>),
}

struct Scheduled {
    at: Micros,
    seq: u64,
    event: Event,
}

impl PartialEq for Scheduled {
    fn eq(&self, other: &Self) -> bool {
        (self.at, self.seq) == (other.at, other.seq)
    }
}
impl Eq for Scheduled {}
impl PartialOrd for Scheduled {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for Scheduled {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        (self.at, self.seq).cmp(&(other.at, other.seq))
    }
}

/// The event queue, popped in (time, sequence number) order like a
/// `BinaryHeap<Reverse<Scheduled>>` (and used like one), but the heap holds only the
/// 24-byte keys: the events stay in place in a slab instead of being moved at every sift
/// (a delivery carries a whole message).
#[derive(Default)]
struct EventQueue {
    keys: BinaryHeap<Reverse<(Micros, u64, u32)>>,
    slots: Vec<Option<Reverse<Scheduled>>>,
    free: Vec<u32>,
}

impl EventQueue {
    fn push(&mut self, item: Reverse<Scheduled>) {
        let (at, seq) = (item.0.at, item.0.seq);
        let slot = match self.free.pop() {
            Some(slot) => {
                self.slots[slot as usize] = Some(item);
                slot
            }
            None => {
                self.slots.push(Some(item));
                (self.slots.len() - 1) as u32
            }
        };
        self.keys.push(Reverse((at, seq, slot)));
    }

    fn pop(&mut self) -> Option<Reverse<Scheduled>> {
        let Reverse((_, _, slot)) = self.keys.pop()?;
        self.free.push(slot);
        self.slots[slot as usize].take()
    }

    /// The queued events, in no particular order (for code that inspects the queue).
    fn iter(&self) -> impl Iterator<Item = &Reverse<Scheduled>> {
        self.slots.iter().flatten()
    }

    /// The queued events, in no particular order, to change in place (not their time).
    fn iter_mut(&mut self) -> impl Iterator<Item = &mut Scheduled> {
        self.slots.iter_mut().flatten().map(|item| &mut item.0)
    }
}

impl IntoIterator for EventQueue {
    type Item = Reverse<Scheduled>;
    type IntoIter = std::iter::Flatten<std::vec::IntoIter<Option<Reverse<Scheduled>>>>;
    fn into_iter(self) -> Self::IntoIter {
        self.slots.into_iter().flatten()
    }
}

impl FromIterator<Reverse<Scheduled>> for EventQueue {
    fn from_iter<I: IntoIterator<Item = Reverse<Scheduled>>>(items: I) -> Self {
        let mut queue = EventQueue::default();
        for item in items {
            queue.push(item);
        }
        queue
    }
}

/// Whether a node is running.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Status {
    Up,
    Paused,
    Down,
    /// Recovery found damage it must not paper over; the node stays down for the run.
    Stopped(String),
}

/// An I/O the host submitted and the disk has not finished.
#[derive(Clone, Debug)]
struct PendingIo {
    id: PersistId,
    wal_end: usize,
    hard_state: Option<HardState>,
    log: Option<LogWrite>,
    peers: bool,
    /// A snapshot persist: its index and term, and the compacted WAL that replaces the old
    /// one when the log is discarded.
    snapshot: Option<(u64, u64, Option<Vec<u8>>)>,
}

/// The small files replaced atomically (write temp, fsync, rename, fsync directory).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum SmallFile {
    TermVote,
    Peers,
    Snapshot,
}

/// The simulated host of one node: it carries out the node's actions against the virtual
/// disk, network and state machine, following raft-core's durability contract.
struct Host {
    node: Option<Node>,
    status: Status,
    incarnation: u64,
    disk: Disk,
    disk_rng: Stream,
    kv: KvStore,
    tick_us: Micros,
    io: VecDeque<PendingIo>,
    io_busy_until: Micros,
    /// Client commands this node proposed, by (client, seq), awaiting apply.
    waiting: HashMap<(u32, u64), u32>,
    /// Inputs that arrived while paused, replayed on resume.
    paused_inbox: VecDeque<Event>,
    /// ReadIndex reads in progress, by context: (client, seq, attempt, key).
    reads: HashMap<u64, (usize, u64, u32, String)>,
    /// Confirmed reads waiting for apply to reach their index: (index, context).
    reads_waiting: Vec<(u64, u64)>,
    leader_hint: Option<usize>,
    /// A local snapshot `(index, term)` is durable: drop the WAL records it covers once no
    /// write is in flight (see [`compact_wal`]).
    compact_wal_to: Option<(u64, u64)>,
}

impl Host {
    /// The node, if it is running (not down, stopped or paused).
    fn running(&mut self) -> Option<&mut Node> {
        match self.status {
            Status::Up => self.node.as_mut(),
            _ => None,
        }
    }
}

/// One client operation in flight.
#[derive(Clone, Debug)]
struct InFlight {
    seq: u64,
    command: Command,
    attempt: u32,
    history_index: usize,
    timed_out: bool,
}

struct Client {
    id: u32,
    seq: u64,
    guess: usize,
    /// The node whose hint sent the client to `guess`: when `guess` knows no leader, the
    /// client moves on from the hinting node, so a stale hint (a removed node still naming
    /// an old leader) cannot send it back and forth between the same two nodes.
    hinted_by: Option<usize>,
    current: Option<InFlight>,
    last_seen: BTreeMap<String, Option<String>>,
    /// The liveness probe: one write issued when the faults stop.
    probe: bool,
}

impl Client {
    /// The next node to try when `guess` knew no leader or did not answer: the one after
    /// the node that hinted at `guess`, else the one after `guess`.
    fn move_on(&mut self, nodes: usize) {
        self.guess = (self.hinted_by.take().unwrap_or(self.guess) + 1) % nodes;
    }
}

/// Counters for the run summary.
#[derive(Clone, Debug, Default, serde::Serialize, serde::Deserialize)]
pub struct Stats {
    pub events: u64,
    pub messages_sent: u64,
    pub messages_delivered: u64,
    pub messages_dropped: u64,
    pub messages_partitioned: u64,
    pub messages_duplicated: u64,
    pub elections: u64,
    pub leaders: u64,
    pub max_term: u64,
    pub entries_committed: u64,
    pub faults: BTreeMap<String, u64>,
    pub torn_tails_dropped: u64,
    pub corruption_detected: u64,
    pub read_errors: u64,
    pub restarts: u64,
    pub ops_ok: u64,
    pub ops_fail: u64,
    pub ops_unknown: u64,
    pub slow_fsyncs: u64,
    /// WAL rewrites without the records a local snapshot covers.
    #[serde(default)]
    pub wal_compactions: u64,
}

impl Stats {
    fn fault(&mut self, kind: &str) {
        *self.faults.entry(kind.to_string()).or_default() += 1;
    }
}

/// What a run produced.
#[derive(Clone, Debug)]
pub struct RunReport {
    pub config: SimConfig,
    pub script: Vec<ScriptedFault>,
    pub stats: Stats,
    pub end_time: Micros,
    pub violation: Option<Violation>,
    pub trace_hash: u64,
    pub trace_events: u64,
    pub trace: Vec<TraceEvent>,
    pub history: History,
    /// The client workload as it ran (the replayed one when replaying).
    pub workload: WorkloadScript,
    /// The planted bug the run had, if any.
    pub planted_bug: Option<String>,
    /// Virtual time from the end of the chaos phase to the liveness probe's success.
    pub recovery_time: Option<Micros>,
    /// The linearizability verdict (None when a safety or liveness violation came first).
    /// `Unknown` means the search budget ran out: reported, not counted as a failure.
    pub linearizability: Option<crate::history::Verdict>,
}

impl RunReport {
    pub fn passed(&self) -> bool {
        self.violation.is_none()
    }
}

/// Options that do not change what happens in a run, only what is kept of it.
#[derive(Clone, Debug)]
pub struct RunOptions {
    /// Keep every trace event (for `--trace`, golden files and views).
    pub keep_trace: bool,
    /// Echo events through `tracing` as they happen.
    pub echo: bool,
    /// Replace the drawn fault script (replay of a saved or shrunk script).
    pub script: Option<Vec<ScriptedFault>>,
    /// Replace the drawn client workload (replay of a saved or shrunk workload).
    pub workload: Option<WorkloadScript>,
    /// Plant this bug in every node (by name, see `raft_core::planted`); needs the
    /// `planted-bugs` feature.
    pub planted_bug: Option<String>,
    /// Called every so many events with (virtual now, virtual end) for progress reporting.
    pub progress_every: u64,
    /// Run the safety checkers after every event and the linearizability check at the end
    /// (default true). Off only to measure what the checkers cost (`cargo xtask bench`); it
    /// does not change the trace, only what is checked.
    pub checkers: bool,
}

impl Default for RunOptions {
    fn default() -> RunOptions {
        RunOptions {
            keep_trace: false,
            echo: false,
            script: None,
            workload: None,
            planted_bug: None,
            progress_every: 0,
            checkers: true,
        }
    }
}

/// One client operation of an explicit workload: wait `think_us` after the previous operation
/// completed (or after the start, for the first), then invoke `op`.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct ScriptedOp {
    pub think_us: Micros,
    pub op: KvOp,
}

/// The explicit client workload of a run: each client's operations in order.
pub type WorkloadScript = Vec<Vec<ScriptedOp>>;

pub struct World {
    config: SimConfig,
    now: Micros,
    seq: u64,
    queue: EventQueue,
    hosts: Vec<Host>,
    network: Network,
    clients: Vec<Client>,
    workload_rng: Stream,
    #[cfg(feature = "planted-bugs")]
    planted: Option<raft_core::planted::PlantedBug>,
    next_read_context: u64,
    /// Replaying an explicit workload: each client's remaining operations.
    replay_workload: Option<Vec<VecDeque<ScriptedOp>>>,
    /// What the clients did, recorded for the bundle.
    recorded_workload: WorkloadScript,
    /// Each client's think time before its next operation.
    next_think: Vec<Micros>,
    faults_rng: Stream,
    script: Vec<ScriptedFault>,
    checkers: Checkers,
    /// `RunOptions::checkers`: when false the checker hooks are skipped.
    checking: bool,
    trace: Trace,
    stats: Stats,
    history: History,
    calm: bool,
    calm_at: Micros,
    end_at: Micros,
    probe_done: Option<Micros>,
    /// The highest term when the liveness probe committed: leadership must stay stable after.
    probe_term: u64,
    /// An armed kill-next-leader fault: (delay after winning, downtime, leaders left to kill).
    kill_next_leader: Option<(Micros, Micros, u32)>,
    /// The operator's plan ([`Fault::Membership`] held for the next leader,
    /// [`Fault::Replace`], [`Fault::Reconfigure`]). The first step is the held change:
    /// proposed when a node wins or becomes ready, and at every `OperatorRetry`. It leaves
    /// the plan when a leader accepts it (replaced by the step it leads to, if any: a
    /// promotion after an observer is added) or when it has nothing to do; a step refused
    /// for good ends the plan.
    plan: VecDeque<OperatorChange>,
    /// An `OperatorRetry` is in the queue (one polling chain at a time).
    operator_retry_scheduled: bool,
    /// Nodes the fault script may damage (a mask): a membership change must leave the
    /// undamaged voters a majority, or no correct core could stay live.
    may_be_damaged: u64,
    /// Scripted mode (`World::scripted`): no automatic ticks, clients or nemesis; sent
    /// messages wait in an inspectable list until the script delivers them.
    scripted: Option<Box<scripted::ScriptState>>,
    /// An empty action buffer for the next `*_into` call on a node ([`World::execute`] hands
    /// it back drained), so stepping a node allocates no `Vec` of actions.
    spare_actions: Vec<Action>,
}

/// [`Event::Deliver`]'s `departs` for a message a power loss took before it left.
const LOST: Micros = Micros::MAX;

fn id(node: usize) -> NodeId {
    NodeId(node as u64)
}

/// Why an operator's step proposes nothing now.
enum Skip {
    /// Nothing to do: the step is over.
    Done,
    /// Not yet (the observer is catching up): asked again at the next retry.
    NotYet,
}

/// A membership change an operator asks the leader for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum OperatorChange {
    /// [`Fault::Membership`]: what it does depends on the peer's place in the leader's
    /// membership.
    Toggle { peer: usize, voter: bool },
    /// Make `peer` a voter the way operators do (Raft thesis §4.2.1): as an observer first,
    /// promoted once it has caught up with the leader's commit index, so that a new voter
    /// never holds up the quorum while it catches up. With `crash_leader` the leader that
    /// accepts the promotion crashes within one network latency.
    Add { peer: usize, crash_leader: bool },
    /// Remove `peer`; with `crash_leader` the leader that accepts the removal of a voter
    /// crashes within one network latency.
    Remove { peer: usize, crash_leader: bool },
}

impl OperatorChange {
    fn peer(self) -> usize {
        match self {
            OperatorChange::Toggle { peer, .. }
            | OperatorChange::Add { peer, .. }
            | OperatorChange::Remove { peer, .. } => peer,
        }
    }

    fn forget_crash(&mut self) {
        if let OperatorChange::Add { crash_leader, .. }
        | OperatorChange::Remove { crash_leader, .. } = self
        {
            *crash_leader = false;
        }
    }

    fn step(step: Step, crash_leader: bool) -> OperatorChange {
        match step {
            Step::Add(peer) => OperatorChange::Add { peer, crash_leader },
            Step::Remove(peer) => OperatorChange::Remove { peer, crash_leader },
        }
    }
}

/// What an operator's change comes to at one leader: the change to propose now, what to
/// hold once it is accepted, and whether the leader that accepts it crashes; or (`Err`)
/// nothing to propose now.
type OperatorStep = Result<(MembershipChange, Option<OperatorChange>, bool), Skip>;

/// A node's voters as a mask (bit `i` = node `i`).
fn voters_mask(raft: &Node) -> u64 {
    raft.voters()
        .filter(|v| v.0 < 64)
        .fold(0, |mask, v| mask | 1 << v.0)
}

impl World {
    pub fn new(config: SimConfig, options: &RunOptions) -> World {
        let n = config.nodes;
        let mut drift_rng = Stream::new(config.seed, "clock-drift");
        let hosts = (0..n)
            .map(|i| {
                let drift = config.faults.clock_drift_ppm as u64;
                let offset = drift_rng.between(0, 2 * drift) as i64 - drift as i64;
                let tick_us =
                    (config.tick_us as i64 * (1_000_000 + offset) / 1_000_000).max(1) as Micros;
                Host {
                    node: None,
                    status: Status::Down,
                    incarnation: 0,
                    disk: Disk::default(),
                    disk_rng: Stream::new(config.seed, &format!("disk/n{i}")),
                    kv: KvStore::default(),
                    tick_us,
                    io: VecDeque::new(),
                    io_busy_until: 0,
                    waiting: HashMap::new(),
                    paused_inbox: VecDeque::new(),
                    reads: HashMap::new(),
                    reads_waiting: Vec::new(),
                    leader_hint: None,
                    compact_wal_to: None,
                }
            })
            .collect();
        let network = Network::new(
            n,
            config.latency.clone(),
            config.faults.drop_ppm,
            config.faults.duplicate_ppm,
            Stream::new(config.seed, "network"),
        );
        let clients = (0..config.workload.clients)
            .map(|c| Client {
                id: c as u32,
                seq: 0,
                guess: c % n,
                current: None,
                hinted_by: None,
                last_seen: BTreeMap::new(),
                probe: false,
            })
            .collect();
        assert!(
            cfg!(feature = "planted-bugs") || options.planted_bug.is_none(),
            "a planted bug needs the sim crate's planted-bugs feature"
        );
        let script = options
            .script
            .clone()
            .unwrap_or_else(|| draw_script(&config));
        let may_be_damaged = script
            .iter()
            .filter_map(|f| match f.fault {
                Fault::Corrupt { node, .. } => Some(1u64 << node),
                _ => None,
            })
            .fold(0, |mask, bit| mask | bit);
        let mut trace = Trace::new(options.keep_trace);
        trace.echo = options.echo;
        let calm_at = config.chaos_us;
        let end_at = calm_at + config.liveness_bound_us();
        World {
            now: 0,
            seq: 0,
            queue: EventQueue::default(),
            hosts,
            network,
            clients,
            workload_rng: Stream::new(config.seed, "workload"),
            #[cfg(feature = "planted-bugs")]
            planted: options.planted_bug.as_deref().map(|name| {
                raft_core::planted::PlantedBug::from_name(name)
                    .unwrap_or_else(|| panic!("unknown planted bug {name:?}"))
            }),
            next_read_context: 0,
            replay_workload: options
                .workload
                .as_ref()
                .map(|w| w.iter().map(|ops| ops.iter().cloned().collect()).collect()),
            recorded_workload: vec![Vec::new(); config.workload.clients],
            next_think: vec![0; config.workload.clients],
            faults_rng: Stream::new(config.seed, "faults/runtime"),
            script,
            checkers: Checkers::new(n),
            checking: options.checkers,
            trace,
            stats: Stats::default(),
            history: History::default(),
            calm: false,
            calm_at,
            end_at,
            probe_done: None,
            probe_term: 0,
            kill_next_leader: None,
            plan: VecDeque::new(),
            operator_retry_scheduled: false,
            may_be_damaged,
            scripted: None,
            spare_actions: Vec::new(),
            config,
        }
    }

    fn schedule(&mut self, at: Micros, event: Event) {
        self.seq += 1;
        self.queue.push(Reverse(Scheduled {
            at,
            seq: self.seq,
            event,
        }));
    }

    fn record(&mut self, event: impl crate::trace::Record) {
        self.trace.record(event);
    }

    /// Runs to the end (or the first safety violation) and reports.
    pub fn run(
        mut self,
        options: &RunOptions,
        mut progress: impl FnMut(Micros, Micros),
    ) -> RunReport {
        for node in 0..self.config.nodes {
            self.start_node(node);
        }
        for (i, fault) in self.script.iter().enumerate() {
            if fault.at < self.calm_at {
                self.seq += 1;
                self.queue.push(Reverse(Scheduled {
                    at: fault.at,
                    seq: self.seq,
                    event: Event::Fault(i),
                }));
            }
        }
        for client in 0..self.clients.len() {
            let think = self
                .workload_rng
                .between(0, self.config.workload.think_max_us);
            if let Some(at) = self.think_before_next(client, think) {
                self.schedule(at, Event::ClientWake { client });
            }
        }
        self.schedule(self.calm_at, Event::Calm);
        self.schedule(self.end_at, Event::End);

        while let Some(Reverse(next)) = self.queue.pop() {
            self.now = next.at;
            self.stats.events += 1;
            if options.progress_every > 0
                && self.stats.events.is_multiple_of(options.progress_every)
            {
                progress(self.now, self.end_at);
            }
            if matches!(next.event, Event::End) {
                break;
            }
            self.handle(next.event);
            if self.checkers.violated() {
                break;
            }
        }

        let mut violation = self.checkers.first_violation.clone();
        if violation.is_none() && self.probe_done.is_none() {
            violation = Some(Violation {
                property: Property::Liveness,
                time: self.now,
                node: None,
                detail: format!(
                    "no leader committed a new write within {}us after the faults stopped at {}us",
                    self.config.liveness_bound_us(),
                    self.calm_at
                ),
            });
        }
        // A stable leader: once the probe committed, the healed cluster must not keep electing
        // (a node that cannot hear the leader but keeps calling elections, as in the Cloudflare
        // 2020 outage, shows up here even when writes still squeeze through).
        let term_now = self.highest_live_term();
        if violation.is_none() && term_now > self.probe_term + 1 {
            violation = Some(Violation {
                property: Property::Liveness,
                time: self.now,
                node: None,
                detail: format!(
                    "leadership unstable after the faults stopped: the term went from {} to {term_now} after the cluster had recovered",
                    self.probe_term
                ),
            });
        }
        let mut linearizability = None;
        if violation.is_none() && self.checking {
            let verdict = self.history.check();
            if verdict.is_not_linearizable() {
                let detail = verdict.to_string();
                violation = Some(Violation {
                    property: Property::Linearizability,
                    time: self.now,
                    node: None,
                    detail,
                });
            }
            linearizability = Some(verdict);
        }
        if let Some(v) = &violation {
            self.record(event!(
                v.time,
                v.node,
                "violation",
                property = v.property,
                detail = &v.detail
            ));
        }
        self.stats.entries_committed = self.checkers.highest_committed();
        self.stats.leaders = self.checkers.leaders_elected() as u64;
        RunReport {
            recovery_time: self.probe_done.map(|t| t - self.calm_at),
            linearizability,
            config: self.config,
            script: self.script,
            stats: self.stats,
            end_time: self.now,
            violation,
            trace_hash: self.trace.hash(),
            trace_events: self.trace.len(),
            history: self.history,
            workload: options.workload.clone().unwrap_or(self.recorded_workload),
            planted_bug: options.planted_bug.clone(),
            trace: self.trace.into_events(),
        }
    }

    fn handle(&mut self, event: Event) {
        // A paused node's inputs wait for it.
        let target = match &event {
            Event::Tick { node, .. }
            | Event::PersistDone { node, .. }
            | Event::ResumeApply { node, .. }
            | Event::ClientRequest { node, .. } => Some(*node),
            Event::Deliver { to, .. } => Some(*to),
            _ => None,
        };
        if let Some(node) = target {
            if self.hosts[node].status == Status::Paused {
                if !matches!(event, Event::Tick { .. }) {
                    self.hosts[node].paused_inbox.push_back(event);
                }
                return;
            }
        }
        match event {
            Event::Tick { node, incarnation } => self.on_tick(node, incarnation),
            Event::Deliver {
                from,
                to,
                message,
                departs,
            } => {
                if departs == LOST {
                    self.stats.messages_dropped += 1;
                } else {
                    self.on_deliver(from, to, message)
                }
            }
            Event::Rename {
                node,
                incarnation,
                bytes,
                file,
            } => {
                if self.hosts[node].incarnation == incarnation {
                    let disk = &mut self.hosts[node].disk;
                    let file = match file {
                        SmallFile::TermVote => &mut disk.term_vote,
                        SmallFile::Peers => &mut disk.peers,
                        SmallFile::Snapshot => &mut disk.snapshot,
                    };
                    file.begin_replace(bytes);
                    file.rename();
                }
            }
            Event::PersistDone {
                node,
                incarnation,
                id,
            } => self.on_persist_done(node, incarnation, id),
            Event::Fault(i) => {
                let fault = self.script[i].fault.clone();
                self.inject(fault);
            }
            Event::MembershipAtLeader { node, incarnation } => {
                let leads = self.hosts[node].incarnation == incarnation
                    && self.hosts[node]
                        .running()
                        .is_some_and(|raft| raft.role() == Role::Leader);
                if leads && !self.calm {
                    self.propose_held(node, false);
                }
            }
            Event::OperatorRetry => {
                self.operator_retry_scheduled = false;
                if self.calm || self.plan.is_empty() {
                    return;
                }
                if let Some(leader) = self.current_leader() {
                    self.propose_held(leader, true);
                }
                if !self.plan.is_empty() {
                    let every = self.config.tick_us * u64::from(self.config.heartbeat_ticks);
                    self.schedule_operator_retry(self.now + every);
                }
            }
            Event::Restart { node, incarnation } => {
                if self.hosts[node].incarnation == incarnation
                    && self.hosts[node].status == Status::Down
                {
                    self.start_node(node);
                }
            }
            Event::Resume { node, incarnation } => self.resume(node, incarnation),
            Event::Kill {
                node,
                incarnation,
                down_us,
            } => {
                if self.hosts[node].incarnation == incarnation && !self.calm {
                    self.crash(node, down_us);
                }
            }
            Event::ResumeApply { node, incarnation } => {
                if self.hosts[node].incarnation == incarnation {
                    self.resume_apply(node);
                }
            }
            Event::ClientWake { client } => self.client_issue(client),
            Event::ClientRequest {
                node,
                client,
                seq,
                attempt,
                command,
            } => self.on_client_request(node, client, seq, attempt, command),
            Event::ClientReply {
                client,
                seq,
                attempt,
                reply,
            } => self.on_client_reply(client, seq, attempt, reply),
            Event::ClientTimeout {
                client,
                seq,
                attempt,
            } => self.on_client_timeout(client, seq, attempt),
            Event::ClientRetry {
                client,
                seq,
                attempt,
            } => self.on_client_retry(client, seq, attempt),
            Event::Calm => self.begin_calm(),
            Event::End => {}
        }
    }

    // ----- nodes -------------------------------------------------------------------------

    fn node_config(&self, node: usize) -> Config {
        let c = &self.config;
        let config = Config {
            id: id(node),
            voters: (0..c.nodes - c.faults.spare_nodes).map(id).collect(),
            election_timeout_min: c.election_timeout_min_ticks,
            election_timeout_max: c.election_timeout_max_ticks,
            heartbeat_interval: c.heartbeat_ticks,
            seed: derive_seed(
                c.seed,
                &format!("election/n{node}/{}", self.hosts[node].incarnation),
            ),
            max_entries_per_message: c.max_entries_per_message,
            max_inflight_messages: c.max_inflight_messages,
            max_bytes_per_message: Config::DEFAULT_MAX_BYTES_PER_MESSAGE,
            max_uncommitted_entries: Config::DEFAULT_MAX_UNCOMMITTED_ENTRIES,
            pre_vote: true,
            check_quorum: true,
        };
        match &self.scripted {
            Some(script) => script.configure(node, config),
            None => config,
        }
    }

    /// Boots a node from its disk through raft-core's recovery code.
    fn start_node(&mut self, node: usize) {
        let now = self.now;
        let host = &mut self.hosts[node];
        if host.disk.read_error_armed {
            host.disk.read_error_armed = false;
            self.stats.read_errors += 1;
            self.record(event!(now, Some(node), "read-error", retry_in_us = 100_000));
            let incarnation = self.hosts[node].incarnation;
            self.schedule(now + 100_000, Event::Restart { node, incarnation });
            return;
        }
        let wal = storage::recover_wal(host.disk.wal.bytes());
        let hard_state = storage::decode_hard_state(host.disk.term_vote.bytes());
        let refuse = match (&wal.verdict, &hard_state) {
            (storage::WalVerdict::Corrupt { .. }, _) => Some(format!("wal {}", wal.verdict)),
            (_, Err(e)) => Some(format!("term/vote file: {e}")),
            _ => None,
        };
        if let Some(reason) = refuse {
            // Damage inside synced data: the node may have acknowledged what it lost, so it
            // must not truncate and carry on as a voter. It stops; the run records it.
            self.stats.corruption_detected += 1;
            self.record(event!(now, Some(node), "stopped", reason = &reason));
            self.hosts[node].status = Status::Stopped(reason);
            return;
        }
        let hard_state = hard_state.expect("checked above");
        if let storage::WalVerdict::TornTail { dropped_bytes, .. } = wal.verdict {
            self.stats.torn_tails_dropped += 1;
            self.hosts[node].disk.wal.truncate(wal.valid_len);
            self.record(event!(
                now,
                Some(node),
                "torn-tail-dropped",
                bytes = dropped_bytes
            ));
        }
        let membership = match storage::decode_peer_state_file(self.hosts[node].disk.peers.bytes())
        {
            Ok(m) => m,
            Err(e) => {
                let reason = format!("peer-state file: {e}");
                self.stats.corruption_detected += 1;
                self.record(event!(now, Some(node), "stopped", reason = &reason));
                self.hosts[node].status = Status::Stopped(reason);
                return;
            }
        };
        let snapshot_bytes = self.hosts[node].disk.snapshot.bytes();
        let snapshot = if snapshot_bytes.is_empty() {
            None
        } else {
            match storage::decode_snapshot_file(snapshot_bytes) {
                Ok(s) => Some(s),
                Err(e) => {
                    let reason = format!("snapshot file: {e}");
                    self.stats.corruption_detected += 1;
                    self.record(event!(now, Some(node), "stopped", reason = &reason));
                    self.hosts[node].status = Status::Stopped(reason);
                    return;
                }
            }
        };
        let kv = match &snapshot {
            Some(s) => {
                KvStore::from_bytes(&s.data).expect("snapshots hold a store this host wrote")
            }
            None => KvStore::default(),
        };
        let snapshot_point = snapshot.as_ref().map(|s| (s.meta.index, s.meta.term));
        let recovered = Recovered {
            hard_state,
            log: wal.entries,
            membership,
            snapshot,
        };
        let config = self.node_config(node);
        self.checkers
            .on_recovered(now, node, hard_state, &recovered.log, snapshot_point);
        match Node::new(config, recovered) {
            #[allow(unused_mut)]
            Ok(mut raft) => {
                #[cfg(feature = "planted-bugs")]
                if let Some(bug) = self.planted {
                    raft.plant(bug);
                }
                // The log it starts with, a snapshot included (the WAL may hold only the tail).
                let last_index = raft.last_index();
                let host = &mut self.hosts[node];
                host.node = Some(raft);
                host.status = Status::Up;
                host.kv = kv;
                host.leader_hint = None;
                let incarnation = host.incarnation;
                let tick_us = host.tick_us;
                self.record(event!(
                    now,
                    Some(node),
                    "start",
                    term = hard_state.term,
                    vote = Vote(hard_state.vote),
                    last_index = last_index
                ));
                if self.scripted.is_none() {
                    self.schedule(now + tick_us, Event::Tick { node, incarnation });
                }
            }
            Err(e) => {
                let reason = format!("recovered state refused: {e}");
                self.stats.corruption_detected += 1;
                self.record(event!(now, Some(node), "stopped", reason = &reason));
                self.hosts[node].status = Status::Stopped(reason);
            }
        }
    }

    /// The application resumes apply on a running node.
    fn resume_apply(&mut self, node: usize) {
        let Some(raft) = self.hosts[node].running() else {
            return;
        };
        let actions = raft.resume_apply();
        self.record(event!(self.now, Some(node), "resume-apply"));
        self.execute(node, actions);
    }

    fn on_tick(&mut self, node: usize, incarnation: u64) {
        let host = &mut self.hosts[node];
        if host.incarnation != incarnation {
            return;
        }
        let tick_us = host.tick_us;
        let Some(raft) = host.running() else {
            return;
        };
        let mut actions = std::mem::take(&mut self.spare_actions);
        raft.tick_into(&mut actions);
        let next = self.now + tick_us;
        self.schedule(next, Event::Tick { node, incarnation });
        self.execute(node, actions);
    }

    fn on_deliver(&mut self, from: usize, to: usize, message: Message) {
        let Some(raft) = self.hosts[to].running() else {
            self.stats.messages_dropped += 1;
            return;
        };
        self.stats.messages_delivered += 1;
        let mut actions = std::mem::take(&mut self.spare_actions);
        raft.receive_into(id(from), message, &mut actions);
        self.execute(to, actions);
    }

    fn on_persist_done(&mut self, node: usize, incarnation: u64, persist: PersistId) {
        let now = self.now;
        let host = &mut self.hosts[node];
        if host.incarnation != incarnation {
            return;
        }
        let Some(done) = host.io.pop_front() else {
            return;
        };
        debug_assert_eq!(done.id, persist);
        host.disk.wal.sync_to(done.wal_end);
        if done.hard_state.is_some() {
            host.disk.term_vote.complete();
        }
        if done.peers {
            host.disk.peers.complete();
        }
        if let Some((index, term, new_wal)) = done.snapshot {
            host.disk.snapshot.complete();
            let discard = new_wal.is_some();
            if let Some(bytes) = new_wal {
                // Log writes issued after this snapshot were appended to the old WAL while it
                // was being written; they follow the reset, so they move to the new WAL (still
                // unsynced), and their pending offsets with them.
                let wal = &mut host.disk.wal;
                let end = done.wal_end.min(wal.len());
                let later = wal.bytes()[end..].to_vec();
                let new_end = bytes.len();
                wal.replace(bytes);
                wal.append(&later);
                for pending in host.io.iter_mut() {
                    pending.wal_end = pending.wal_end.saturating_sub(end) + new_end;
                }
            } else {
                host.compact_wal_to = Some((index, term));
            }
            if self.checking {
                self.checkers.on_snapshot(node, index, term, discard, true);
            }
        }
        if self.checking {
            self.checkers
                .on_durable(now, node, done.hard_state, done.log.as_ref());
        }
        let host = &mut self.hosts[node];
        if host.io.is_empty() && compact_wal(host) {
            self.stats.wal_compactions += 1;
        }
        let Some(raft) = host.node.as_mut() else {
            return;
        };
        let mut actions = std::mem::take(&mut self.spare_actions);
        match raft.persisted_into(persist, &mut actions) {
            Ok(()) => self.execute(node, actions),
            Err(e) => panic!("simulated host broke the persist contract: {e}"),
        }
    }

    /// Carries out a node's actions, in order.
    fn execute(&mut self, node: usize, mut actions: Vec<Action>) {
        let now = self.now;
        // The node's memory already changed during the step: show the checkers role changes
        // and log writes in order before anything else in this batch is carried out.
        let checking = self.checking;
        if let Some(raft) = self.hosts[node].node.as_ref().filter(|_| checking) {
            // Before any Apply below is checked against the voters that committed it; also
            // when the step that committed made it step down (its own removal committed).
            let voters = voters_mask(raft);
            let leading = (raft.role() == Role::Leader).then(|| raft.term());
            self.checkers.on_voters(now, node, voters, leading);
            if raft.role() == Role::Leader || self.checkers.is_leader(node) {
                self.checkers.on_leader_commit(raft.commit_index(), voters);
            }
        }
        for action in actions.iter().filter(|_| checking) {
            match action {
                Action::RoleChanged { role, term } => {
                    self.checkers.on_role(now, node, *role, *term)
                }
                Action::Persist {
                    log: Some(write), ..
                } => self.checkers.on_log_write(now, node, write),
                _ => {}
            }
        }
        for action in actions.drain(..) {
            match action {
                Action::Persist {
                    id: persist,
                    hard_state,
                    log,
                    peers,
                } => self.submit_io(node, persist, hard_state, log, peers.map(|p| *p)),
                Action::Send { to, message } => self.send(node, to.0 as usize, message),
                Action::Apply { entries } => self.apply(node, entries),
                Action::RoleChanged { role, term } => {
                    self.stats.max_term = self.stats.max_term.max(term);
                    if role == Role::Candidate {
                        self.stats.elections += 1;
                    }
                    if role == Role::Leader && !self.calm {
                        self.offer_held_change(node);
                        if let Some((after_us, down_us, left)) = self.kill_next_leader.take() {
                            if left > 1 {
                                self.kill_next_leader = Some((after_us, down_us, left - 1));
                            }
                            let incarnation = self.hosts[node].incarnation;
                            let kill = Event::Kill {
                                node,
                                incarnation,
                                down_us,
                            };
                            self.schedule(now + after_us, kill);
                        }
                    }
                    if role != Role::Leader {
                        // Reads still waiting for confirmation are lost with the leadership;
                        // their clients time out and retry.
                        self.hosts[node].reads.clear();
                    }
                    self.record(event!(
                        now,
                        Some(node),
                        "role",
                        role = fmt_role(role),
                        term = term
                    ));
                }
                Action::LeaderChanged { term, leader } => {
                    self.hosts[node].leader_hint = leader.map(|l| l.0 as usize);
                    if leader == Some(id(node)) {
                        // Ready to lead: a change it refused when it won goes in now.
                        self.offer_held_change(node);
                    }
                    self.record(event!(
                        now,
                        Some(node),
                        "leader",
                        term = term,
                        leader = Vote(leader)
                    ));
                }
                // The workload does not issue ReadIndex reads yet.
                Action::ReadReady { context, index } => self.on_read_ready(node, context, index),
                // Snapshots are not wired into the simulated host yet: nothing emits them
                // until the node is asked to install one.
                Action::PersistSnapshot {
                    id: persist,
                    snapshot,
                    data,
                    discard_log,
                } => self.submit_snapshot(node, persist, *snapshot, data, discard_log),
                Action::ApplySnapshot { snapshot, data } => {
                    self.apply_snapshot(node, snapshot.index, &data)
                }
            }
        }
        if let Some(raft) = self.hosts[node].node.as_ref().filter(|_| self.checking) {
            let (commit, last) = (raft.commit_index(), raft.last_index());
            self.checkers
                .check_commit_within_log(now, node, commit, last);
        }
        // Keep the larger buffer (a nested step, e.g. the report after an Apply, may have
        // taken the spare meanwhile).
        if actions.capacity() > self.spare_actions.capacity() {
            self.spare_actions = actions;
        }
    }

    /// The next slot of a node's sequential I/O queue: (start, fsync latency, completion).
    fn io_slot(&mut self, node: usize) -> (Micros, Micros, Micros) {
        let now = self.now;
        let host = &mut self.hosts[node];
        let mut latency = host
            .disk_rng
            .between(self.config.fsync_min_us, self.config.fsync_max_us);
        if host.disk_rng.chance(self.config.faults.slow_fsync_ppm) {
            latency += host
                .disk_rng
                .between(0, self.config.faults.slow_fsync_max_us);
            self.stats.slow_fsyncs += 1;
            self.stats.fault("slow-fsync");
        }
        let start = host.io_busy_until.max(now);
        let done_at = start + latency;
        host.io_busy_until = done_at;
        (start, latency, done_at)
    }

    /// A snapshot file written atomically; with `discard_log`, the WAL is replaced by one that
    /// starts at the snapshot when the persist completes.
    fn submit_snapshot(
        &mut self,
        node: usize,
        persist: PersistId,
        meta: raft_core::SnapshotMeta,
        data: bytes::Bytes,
        discard_log: bool,
    ) {
        let now = self.now;
        let file = storage::encode_snapshot_file(&meta, &data);
        let new_wal = discard_log.then(|| {
            storage::encode_wal_append(meta.index, meta.term, &[], 0)
                .expect("an empty WAL record encodes")
        });
        let (start, latency, done_at) = self.io_slot(node);
        let host = &mut self.hosts[node];
        let incarnation = host.incarnation;
        let wal_end = host.disk.wal.len();
        host.io.push_back(PendingIo {
            id: persist,
            wal_end,
            hard_state: None,
            log: None,
            peers: false,
            snapshot: Some((meta.index, meta.term, new_wal)),
        });
        if self.checking {
            self.checkers
                .on_snapshot(node, meta.index, meta.term, discard_log, false);
        }
        let rename = Event::Rename {
            node,
            incarnation,
            bytes: file,
            file: SmallFile::Snapshot,
        };
        self.schedule(start + latency / 2, rename);
        self.record(event!(
            now,
            Some(node),
            "persist-snapshot",
            id = persist.0,
            index = meta.index,
            term = meta.term,
            discard_log = discard_log,
            done_at = done_at
        ));
        self.schedule(
            done_at,
            Event::PersistDone {
                node,
                incarnation,
                id: persist,
            },
        );
    }

    fn submit_io(
        &mut self,
        node: usize,
        persist: PersistId,
        hard_state: Option<HardState>,
        log: Option<LogWrite>,
        peers: Option<raft_core::PeerState>,
    ) {
        let now = self.now;
        let host = &mut self.hosts[node];
        if let Some(write) = &log {
            let bytes =
                storage::encode_wal_append(write.prev_index, write.prev_term, &write.entries, 0)
                    .expect("the node produces encodable log writes");
            host.disk.wal.append(&bytes);
        }
        let wal_end = host.disk.wal.len();
        let (start, latency, done_at) = self.io_slot(node);
        let host = &mut self.hosts[node];
        let incarnation = host.incarnation;
        host.io.push_back(PendingIo {
            id: persist,
            wal_end,
            hard_state,
            log: log.clone(),
            peers: peers.is_some(),
            snapshot: None,
        });
        if let Some(hs) = hard_state {
            let bytes = storage::encode_hard_state(&hs);
            self.schedule(
                start + latency / 2,
                Event::Rename {
                    node,
                    incarnation,
                    bytes,
                    file: SmallFile::TermVote,
                },
            );
        }
        if let Some(p) = &peers {
            let bytes = storage::encode_peer_state_file(p);
            self.schedule(
                start + latency / 2,
                Event::Rename {
                    node,
                    incarnation,
                    bytes,
                    file: SmallFile::Peers,
                },
            );
        }
        let what = Lazy(|out: &mut Line| match (&hard_state, &log) {
            (Some(hs), Some(w)) => {
                put!(out, "term=", hs.term, " vote=", Vote(hs.vote), " entries=");
                write_log_write(w, out);
            }
            (Some(hs), None) => put!(out, "term=", hs.term, " vote=", Vote(hs.vote)),
            (None, Some(w)) => {
                put!(out, "entries=");
                write_log_write(w, out);
            }
            (None, None) => {}
        });
        self.record(event!(
            now,
            Some(node),
            "persist",
            id = persist.0,
            what = what,
            done_at = done_at
        ));
        self.schedule(
            done_at,
            Event::PersistDone {
                node,
                incarnation,
                id: persist,
            },
        );
    }

    fn send(&mut self, from: usize, to: usize, message: Message) {
        let now = self.now;
        self.stats.messages_sent += 1;
        if self.checking {
            self.checkers.on_send(now, from, id(from), id(to), &message);
        }
        if self.scripted.is_some() {
            let summary = fmt_message(&message);
            self.hold(from, to, message, summary);
            return;
        }
        let summary = Lazy(|out: &mut Line| write_message(&message, out));
        match self.network.fate(from, to, now) {
            Fate::Deliver(delays) => {
                if delays.len() > 1 {
                    self.stats.messages_duplicated += 1;
                }
                let mut arrive = [0; 2];
                for (at, delay) in arrive.iter_mut().zip(delays.iter()) {
                    *at = now + delay;
                }
                let arrive = &arrive[..delays.len()];
                self.record(event!(
                    now,
                    Some(from),
                    "send",
                    to = NodeName(to),
                    msg = summary,
                    arrive = Joined(arrive)
                ));
                // The last delivery takes the message; only a duplicate needs a copy.
                let (&last, earlier) = arrive.split_last().expect("at least one delivery");
                // The sender's share of the latency: its kernel and network card still hold
                // the message until then.
                let departs = now + self.config.latency.min_us / 2;
                for &at in earlier {
                    let message = message.clone();
                    self.schedule(
                        at,
                        Event::Deliver {
                            from,
                            to,
                            message,
                            departs,
                        },
                    );
                }
                self.schedule(
                    last,
                    Event::Deliver {
                        from,
                        to,
                        message,
                        departs,
                    },
                );
            }
            Fate::Dropped => {
                self.stats.messages_dropped += 1;
                self.record(event!(
                    now,
                    Some(from),
                    "drop",
                    to = NodeName(to),
                    msg = summary
                ));
            }
            Fate::Partitioned => {
                self.stats.messages_partitioned += 1;
                self.record(event!(
                    now,
                    Some(from),
                    "cut",
                    to = NodeName(to),
                    msg = summary
                ));
            }
        }
    }

    fn apply(&mut self, node: usize, entries: Vec<raft_core::Entry>) {
        let now = self.now;
        let Some(last) = entries.last().map(|e| e.index) else {
            return;
        };
        if self.checking {
            self.checkers.on_committed(now, node, &entries);
        }
        let first = entries[0].index;
        self.record(event!(now, Some(node), "apply", first = first, last = last));
        for entry in &entries {
            if entry.kind != EntryKind::Normal {
                continue;
            }
            let Some(command) = Command::decode(&entry.data) else {
                continue;
            };
            let result = self.hosts[node].kv.apply(&command);
            if let Some(attempt) = self.hosts[node]
                .waiting
                .remove(&(command.client, command.seq))
            {
                let reply = Reply::Done(result);
                self.reply_to_client(command.client as usize, command.seq, attempt, reply);
            }
        }
        self.serve_reads(node, last);
        let host = &mut self.hosts[node];
        if let Some(raft) = host.node.as_mut() {
            let mut actions = std::mem::take(&mut self.spare_actions);
            match raft.applied_into(last, &mut actions) {
                Ok(()) => self.execute(node, actions),
                Err(e) => panic!("simulated host broke the apply contract: {e}"),
            }
        }
    }

    /// Replaces the state machine with a snapshot received from the leader.
    fn apply_snapshot(&mut self, node: usize, index: u64, data: &[u8]) {
        let now = self.now;
        let host = &mut self.hosts[node];
        host.kv = KvStore::from_bytes(data).expect("snapshots hold a store this host wrote");
        self.record(event!(now, Some(node), "apply-snapshot", index = index));
        self.serve_reads(node, index);
        let host = &mut self.hosts[node];
        if let Some(raft) = host.node.as_mut() {
            match raft.applied(index) {
                Ok(actions) => self.execute(node, actions),
                Err(e) => panic!("simulated host broke the apply contract: {e}"),
            }
        }
    }

    /// A ReadIndex read is confirmed: serve it once apply has reached its index.
    fn on_read_ready(&mut self, node: usize, context: u64, index: u64) {
        if self.scripted.is_some() {
            self.record(event!(
                self.now,
                Some(node),
                "read-ready",
                context = context,
                index = index
            ));
            return;
        }
        let host = &mut self.hosts[node];
        if !host.reads.contains_key(&context) {
            return;
        }
        host.reads_waiting.push((index, context));
        let applied = host.node.as_ref().map_or(0, |n| n.applied_index());
        self.serve_reads(node, applied);
    }

    fn serve_reads(&mut self, node: usize, applied: u64) {
        let host = &mut self.hosts[node];
        let mut ready = Vec::new();
        host.reads_waiting.retain(|&(index, context)| {
            if index <= applied {
                ready.push(context);
                false
            } else {
                true
            }
        });
        for context in ready {
            let host = &mut self.hosts[node];
            let Some((client, seq, attempt, key)) = host.reads.remove(&context) else {
                continue;
            };
            let value = host.kv.get(&key).cloned();
            let reply = Reply::Done(KvResult::Value(value));
            self.reply_to_client(client, seq, attempt, reply);
        }
    }

    // ----- faults ------------------------------------------------------------------------

    fn highest_live_term(&self) -> u64 {
        self.hosts
            .iter()
            .filter_map(|h| h.node.as_ref())
            .map(|n| n.term())
            .max()
            .unwrap_or(0)
    }

    fn current_leader(&self) -> Option<usize> {
        self.hosts
            .iter()
            .enumerate()
            .filter(|(_, h)| h.status == Status::Up)
            .filter_map(|(i, h)| {
                h.node
                    .as_ref()
                    .filter(|n| n.role() == Role::Leader)
                    .map(|n| (n.term(), i))
            })
            .max()
            .map(|(_, i)| i)
    }

    fn resolve(&self, target: Target) -> usize {
        match target {
            Target::Node(n) => n,
            Target::Leader { fallback } => self.current_leader().unwrap_or(fallback),
        }
    }

    fn inject(&mut self, fault: Fault) {
        let now = self.now;
        if self.calm {
            return;
        }
        self.stats.fault(fault.kind());
        match fault {
            Fault::Split { side_a } => self.set_topology(Topology::Split { side_a }),
            Fault::Isolate { target } => {
                let node = self.resolve(target);
                self.set_topology(Topology::Isolate { node });
            }
            Fault::OneWay { from, to } => self.set_topology(Topology::OneWay { from, to }),
            Fault::Bridge { side_a, bridge } => {
                self.set_topology(Topology::Bridge { side_a, bridge })
            }
            Fault::Heal => {
                self.network.heal();
                self.record(event!(now, None, "fault", what = "heal"));
            }
            Fault::Clog { from, to, for_us } => {
                self.network.clog(from, to, now + for_us);
                self.record(event!(
                    now,
                    None,
                    "fault",
                    what = format!("clog n{from}->n{to} until {}", now + for_us)
                ));
            }
            Fault::KillNextLeader {
                after_us,
                down_us,
                leaders,
            } => {
                let leaders = leaders.max(1);
                self.kill_next_leader = Some((after_us, down_us, leaders));
                let what =
                    format!("kill the next {leaders} leader(s) {after_us}us after each wins");
                self.record(event!(now, None, "fault", what = what));
            }
            Fault::Crash { target, down_us } => {
                let node = self.resolve(target);
                self.crash(node, down_us);
            }
            Fault::Pause { target, for_us } => {
                let node = self.resolve(target);
                if self.hosts[node].status == Status::Up {
                    self.hosts[node].status = Status::Paused;
                    let incarnation = self.hosts[node].incarnation;
                    self.record(event!(
                        now,
                        Some(node),
                        "fault",
                        what = format!("pause until {}", now + for_us)
                    ));
                    self.schedule(now + for_us, Event::Resume { node, incarnation });
                }
            }
            Fault::Corrupt { node, then_crash } => {
                let host = &mut self.hosts[node];
                let what = host.disk.corrupt_synced(&mut self.faults_rng);
                let what = what.unwrap_or_else(|| "nothing synced yet".into());
                self.record(event!(
                    now,
                    Some(node),
                    "fault",
                    what = format!("corrupt {what}")
                ));
                if then_crash {
                    self.crash(node, self.config.tick_us);
                }
            }
            Fault::ReadError { node } => {
                self.hosts[node].disk.read_error_armed = true;
                self.record(event!(now, Some(node), "fault", what = "read-error armed"));
                self.crash(node, self.config.tick_us);
            }
            Fault::Transfer { to } => {
                let Some(leader) = self.current_leader() else {
                    return;
                };
                let Some(raft) = self.hosts[leader].node.as_mut() else {
                    return;
                };
                let outcome = raft.step_down(to.map(id));
                let what = match (&outcome, to) {
                    (Ok(_), Some(n)) => format!("transfer to n{n}"),
                    (Ok(_), None) => "transfer to the best successor".to_string(),
                    (Err(e), _) => format!("transfer refused: {e}"),
                };
                self.record(event!(now, Some(leader), "fault", what = what));
                if let Ok(actions) = outcome {
                    self.execute(leader, actions);
                }
            }
            Fault::Snapshot { target } => {
                let node = self.resolve(target);
                let host = &mut self.hosts[node];
                let data = host.kv.to_bytes();
                let Some(raft) = host.running() else {
                    return;
                };
                let index = raft.applied_index();
                match raft.install_snapshot(index, data) {
                    Ok(actions) => {
                        self.record(event!(
                            now,
                            Some(node),
                            "fault",
                            what = format!("snapshot at {index}")
                        ));
                        self.execute(node, actions);
                    }
                    Err(e) => self.record(event!(
                        now,
                        Some(node),
                        "fault",
                        what = format!("snapshot refused: {e}")
                    )),
                }
            }
            Fault::Membership {
                node: peer,
                voter,
                at_next_leader,
            } => {
                let change = OperatorChange::Toggle { peer, voter };
                // A new request replaces whatever the operator's tool was still working on.
                self.plan.clear();
                if at_next_leader {
                    self.plan.push_back(change);
                    let what = format!("change the membership of n{peer} at the next leader");
                    self.record(event!(now, None, "fault", what = what));
                } else if let Some(leader) = self.current_leader() {
                    self.propose_membership(leader, change, false);
                }
            }
            Fault::Replace {
                add,
                remove,
                crash_leader,
            } => {
                let steps = [Step::Add(add), Step::Remove(remove)];
                self.start_plan(&steps, crash_leader);
            }
            Fault::Reconfigure {
                steps,
                crash_leader,
            } => {
                let steps_text: Vec<String> = steps.iter().map(Step::to_string).collect();
                let what = format!("reconfigure {}", steps_text.join(" "));
                self.record(event!(now, None, "fault", what = what));
                self.start_plan(&steps, crash_leader);
            }
            Fault::PauseApply { target, for_us } => {
                let node = self.resolve(target);
                let host = &mut self.hosts[node];
                let incarnation = host.incarnation;
                let Some(raft) = host.running() else {
                    return;
                };
                let actions = raft.pause_apply();
                self.record(event!(
                    now,
                    Some(node),
                    "fault",
                    what = format!("pause-apply until {}", now + for_us)
                ));
                self.execute(node, actions);
                self.schedule(now + for_us, Event::ResumeApply { node, incarnation });
            }
        }
    }

    /// The operator's tool starts a plan of single-server steps: the first is asked of the
    /// current leader at once, the others follow as each is accepted. With `crash_leader`,
    /// every step carries the crash until one changes the voters.
    fn start_plan(&mut self, steps: &[Step], crash_leader: bool) {
        self.plan = steps
            .iter()
            .map(|&step| OperatorChange::step(step, crash_leader))
            .collect();
        if self.plan.is_empty() {
            return;
        }
        match self.current_leader() {
            Some(leader) => self.propose_held(leader, false),
            None => self.schedule_operator_retry(self.now),
        }
    }

    /// A node just won or just became ready to lead: the held change, if any, goes to it
    /// right after the step that made it so is carried out.
    fn offer_held_change(&mut self, node: usize) {
        if !self.plan.is_empty() {
            let incarnation = self.hosts[node].incarnation;
            self.schedule(self.now, Event::MembershipAtLeader { node, incarnation });
        }
    }

    /// Asks `leader` for the held change, if any.
    fn propose_held(&mut self, leader: usize, quiet: bool) {
        if let Some(&change) = self.plan.front() {
            self.propose_membership(leader, change, quiet);
        }
    }

    /// The held step is done (accepted, or nothing to do), leading to `then` if any: the
    /// plan's next step is held and asked for at once. (A change proposed without being held
    /// finds the plan empty: a new request clears it.)
    fn step_done(&mut self, then: Option<OperatorChange>) {
        self.plan.pop_front();
        if let Some(step) = then {
            self.plan.push_front(step);
        }
        if !self.plan.is_empty() {
            self.schedule_operator_retry(self.now);
        }
    }

    /// An operator's single-server membership change at `leader` (see [`Fault::Membership`],
    /// [`Fault::Replace`] and [`Fault::Reconfigure`]). A change refused only for now (the
    /// leader is not ready, or another change is pending) stays held for a retry; a change
    /// refused for good ends the operator's plan; `quiet` leaves refusals for now out of the
    /// trace (the tool's polling).
    fn propose_membership(&mut self, leader: usize, change: OperatorChange, quiet: bool) {
        let now = self.now;
        let may_be_damaged = self.may_be_damaged;
        let Some(raft) = self.hosts[leader].running() else {
            return;
        };
        let term = raft.term();
        let peer = change.peer();
        let is_voter = raft.voters().any(|v| v == id(peer));
        let is_observer = raft.observers().any(|o| o == id(peer));
        let caught_up = |raft: &Node, peer: usize| {
            raft.match_index(id(peer))
                .is_some_and(|m| m >= raft.commit_index())
        };
        // The change to propose now, what the operator holds once it is accepted, and
        // whether the leader that accepts it crashes (`Err`: nothing to propose now).
        let next_step: OperatorStep = match change {
            OperatorChange::Toggle { voter, .. } => match (is_voter, is_observer, voter) {
                (true, _, _) | (false, true, false) => {
                    Ok((MembershipChange::RemovePeer(id(peer)), None, false))
                }
                (false, true, true) if caught_up(raft, peer) => {
                    Ok((MembershipChange::AddVoter(id(peer)), None, false))
                }
                (false, true, true) => Err(Skip::Done),
                (false, false, true) => Ok((
                    MembershipChange::AddObserver(id(peer)),
                    Some(OperatorChange::Add {
                        peer,
                        crash_leader: false,
                    }),
                    false,
                )),
                (false, false, false) => Ok((MembershipChange::AddObserver(id(peer)), None, false)),
            },
            OperatorChange::Add { crash_leader, .. } => {
                if is_voter {
                    Err(Skip::Done)
                } else if !is_observer {
                    Ok((MembershipChange::AddObserver(id(peer)), Some(change), false))
                } else if caught_up(raft, peer) {
                    Ok((MembershipChange::AddVoter(id(peer)), None, crash_leader))
                } else {
                    // Not caught up yet: ask again at the next retry.
                    Err(Skip::NotYet)
                }
            }
            OperatorChange::Remove { crash_leader, .. } => {
                if is_voter || is_observer {
                    Ok((
                        MembershipChange::RemovePeer(id(peer)),
                        None,
                        crash_leader && is_voter,
                    ))
                } else {
                    Err(Skip::Done)
                }
            }
        };
        let (change, hold_after, crash_after) = match next_step {
            Ok(step) => step,
            Err(Skip::NotYet) => return,
            Err(Skip::Done) => {
                self.step_done(None);
                return;
            }
        };
        let mut next = voters_mask(raft);
        match change {
            MembershipChange::AddVoter(_) => next |= 1 << peer,
            MembershipChange::RemovePeer(_) => next &= !(1 << peer),
            MembershipChange::AddObserver(_) => {}
        }
        let undamaged = (next & !may_be_damaged).count_ones();
        let outcome = if undamaged * 2 <= next.count_ones() {
            // Not a refusal of the core: the nemesis keeps the cluster able to recover.
            let why = format!(
                "skipped: the voters would be {} with {} of them possibly damaged",
                next.count_ones(),
                next.count_ones() - undamaged
            );
            Err((why, false))
        } else {
            raft.propose_membership(term, change).map_err(|e| {
                let for_now = matches!(
                    e,
                    ProposeError::NotYetCommittedInTerm
                        | ProposeError::MembershipChangePending { .. }
                );
                (format!("refused: {e}"), for_now)
            })
        };
        let what = match change {
            MembershipChange::AddVoter(_) => format!("add voter n{peer}"),
            MembershipChange::AddObserver(_) => format!("add observer n{peer}"),
            MembershipChange::RemovePeer(_) => format!("remove n{peer}"),
        };
        match outcome {
            Ok(proposed) => {
                self.stats.fault("membership-proposed");
                self.record(event!(now, Some(leader), "fault", what = what));
                self.execute(leader, proposed.actions);
                if crash_after {
                    // One crash per plan: the steps after it go on normally.
                    for step in self.plan.iter_mut().skip(1) {
                        step.forget_crash();
                    }
                    self.crash_leader_soon(leader);
                }
                self.step_done(hold_after);
            }
            Err((why, for_now)) => {
                if !for_now {
                    // Refused for good: the tool gives up, with the rest of its plan.
                    self.plan.clear();
                }
                if !(quiet && for_now) {
                    self.record(event!(
                        now,
                        Some(leader),
                        "fault",
                        what = format!("{what} {why}")
                    ));
                }
            }
        }
    }

    /// The operator's tool asks again at `at` (every heartbeat while a change is held).
    fn schedule_operator_retry(&mut self, at: Micros) {
        if !self.operator_retry_scheduled {
            self.operator_retry_scheduled = true;
            self.schedule(at, Event::OperatorRetry);
        }
    }

    /// The operator's change races a failure: the leader that accepted it loses power within
    /// one network latency (with the messages that had not left it yet).
    fn crash_leader_soon(&mut self, leader: usize) {
        let now = self.now;
        let after = self.faults_rng.between(0, self.config.latency.min_us);
        let down_us = self
            .faults_rng
            .between(self.config.tick_us, self.config.faults.nemesis_interval_us);
        let incarnation = self.hosts[leader].incarnation;
        let what = format!("crash the leader {after}us after it accepted the change");
        self.record(event!(now, Some(leader), "fault", what = what));
        self.schedule(
            now + after,
            Event::Kill {
                node: leader,
                incarnation,
                down_us,
            },
        );
    }

    fn set_topology(&mut self, topology: Topology) {
        let what = topology.to_string();
        self.network.set_topology(topology);
        self.record(event!(self.now, None, "fault", what = what));
    }

    fn crash(&mut self, node: usize, down_us: Micros) {
        let now = self.now;
        let host = &mut self.hosts[node];
        if !matches!(host.status, Status::Up | Status::Paused) {
            return;
        }
        let effect = host
            .disk
            .crash(&mut host.disk_rng, self.config.faults.torn_write_ppm);
        host.node = None;
        host.status = Status::Down;
        host.incarnation += 1;
        host.io.clear();
        host.compact_wal_to = None;
        host.io_busy_until = now;
        host.waiting.clear();
        host.paused_inbox.clear();
        host.reads.clear();
        host.reads_waiting.clear();
        let incarnation = host.incarnation;
        // A power loss takes the messages that had not left the machine yet with it.
        let mut unsent = Vec::new();
        for item in self.queue.iter_mut() {
            if let Event::Deliver {
                from,
                to,
                message,
                departs,
            } = &mut item.event
            {
                if *from == node && *departs > now && *departs != LOST {
                    *departs = LOST;
                    unsent.push((item.seq, *to, fmt_message(message)));
                }
            }
        }
        // In the order they were sent.
        unsent.sort_unstable_by_key(|&(seq, ..)| seq);
        self.checkers.on_crash(node);
        if effect.torn {
            self.stats.fault("torn-write");
        }
        self.record(event!(
            now,
            Some(node),
            "crash",
            unsynced = effect.unsynced_bytes,
            kept = effect.kept_bytes,
            torn = effect.torn,
            down_us = down_us
        ));
        for (_, to, message) in unsent {
            self.record(event!(
                now,
                Some(node),
                "unsent",
                to = NodeName(to),
                msg = message
            ));
        }
        self.schedule(now + down_us, Event::Restart { node, incarnation });
    }

    fn resume(&mut self, node: usize, incarnation: u64) {
        let host = &mut self.hosts[node];
        if host.incarnation != incarnation || host.status != Status::Paused {
            return;
        }
        host.status = Status::Up;
        let inbox: Vec<Event> = host.paused_inbox.drain(..).collect();
        let tick_us = host.tick_us;
        self.record(event!(self.now, Some(node), "resume", queued = inbox.len()));
        self.schedule(self.now + tick_us, Event::Tick { node, incarnation });
        for event in inbox {
            self.handle(event);
        }
    }

    /// The faults stop: heal the network, stop loss, bring every node back that can come back,
    /// and start the liveness probe.
    fn begin_calm(&mut self) {
        let now = self.now;
        self.calm = true;
        self.network.heal();
        self.network.calm();
        self.record(event!(
            now,
            None,
            "calm",
            bound_us = self.config.liveness_bound_us()
        ));
        for node in 0..self.config.nodes {
            match self.hosts[node].status {
                Status::Paused => {
                    let incarnation = self.hosts[node].incarnation;
                    self.resume(node, incarnation);
                }
                Status::Down => {
                    self.hosts[node].incarnation += 1;
                    self.start_node(node);
                }
                _ => {}
            }
            // The applications that paused apply resume it: the faults are over.
            if self.hosts[node].running().is_some_and(|n| n.is_paused()) {
                self.resume_apply(node);
            }
        }
        // Decided after the restarts above, which may have found damage and stopped a node.
        let none_stopped = self
            .hosts
            .iter()
            .all(|h| !matches!(h.status, Status::Stopped(_)));
        if self.config.faults.residual_partition && none_stopped && self.config.nodes >= 3 {
            // A bridge node sees both sides; with every node up, the bridge and the larger side
            // form a connected quorum, so a correct core must stay live.
            // With membership changes, the bridge is a voter of every membership a node
            // holds, so each of them has a connected majority.
            let n = self.config.nodes;
            let voters_everywhere: Vec<usize> = (0..n)
                .filter(|&v| {
                    self.hosts
                        .iter()
                        .filter_map(|h| h.node.as_ref())
                        .all(|raft| voters_mask(raft) & (1 << v) != 0)
                })
                .collect();
            if voters_everywhere.is_empty() {
                return self.start_probe_client();
            }
            let bridge = voters_everywhere[self.faults_rng.below(voters_everywhere.len())];
            let others: Vec<usize> = (0..n).filter(|&x| x != bridge).collect();
            let side_a = others[..others.len() / 2].to_vec();
            self.set_topology(Topology::Bridge { side_a, bridge });
        }
        self.start_probe_client();
    }

    /// The liveness probe: one more client, whose first write must commit in time.
    fn start_probe_client(&mut self) {
        let client = self.clients.len();
        self.clients.push(Client {
            id: client as u32,
            seq: 0,
            guess: 0,
            current: None,
            hinted_by: None,
            last_seen: BTreeMap::new(),
            probe: true,
        });
        self.client_issue(client);
    }

    // ----- clients -----------------------------------------------------------------------

    fn client_issue(&mut self, client: usize) {
        let now = self.now;
        let w = &self.config.workload;
        let c = &mut self.clients[client];
        if c.current.is_some() || (self.calm && !c.probe) || (c.probe && c.seq > 0) {
            return;
        }
        c.seq += 1;
        let seq = c.seq;
        let op = if c.probe {
            KvOp::Put {
                key: "probe".into(),
                value: format!("c{}s{seq}", c.id),
            }
        } else if let Some(replay) = self.replay_workload.as_mut() {
            match replay.get_mut(client).and_then(|ops| ops.pop_front()) {
                Some(scripted) => scripted.op,
                None => return,
            }
        } else {
            let op = draw_op(&mut self.workload_rng, w, c, seq);
            let think_us = self.next_think[client];
            self.recorded_workload[client].push(ScriptedOp {
                think_us,
                op: op.clone(),
            });
            op
        };
        let c = &mut self.clients[client];
        let client_id = c.id;
        let command = Command {
            client: client_id,
            seq,
            op,
        };
        let history_index = self.history.invoke(client_id, command.op.clone(), now);
        let what = fmt_op(&command.op);
        self.clients[client].current = Some(InFlight {
            seq,
            command,
            attempt: 0,
            history_index,
            timed_out: false,
        });
        self.record(event!(
            now,
            None,
            "invoke",
            client = client_id,
            seq = seq,
            op = what
        ));
        self.client_attempt(client);
    }

    fn client_attempt(&mut self, client: usize) {
        let now = self.now;
        let timeout = self.config.workload.attempt_timeout_us;
        let c = &mut self.clients[client];
        let Some(op) = c.current.as_mut() else { return };
        op.attempt += 1;
        let (seq, attempt, command, node) = (op.seq, op.attempt, op.command.clone(), c.guess);
        let delay = self.network.client_latency();
        self.schedule(
            now + delay,
            Event::ClientRequest {
                node,
                client,
                seq,
                attempt,
                command,
            },
        );
        self.schedule(
            now + timeout,
            Event::ClientTimeout {
                client,
                seq,
                attempt,
            },
        );
    }

    fn on_client_request(
        &mut self,
        node: usize,
        client: usize,
        seq: u64,
        attempt: u32,
        command: Command,
    ) {
        let now = self.now;
        let host = &mut self.hosts[node];
        let Some(raft) = host.node.as_mut().filter(|_| host.status == Status::Up) else {
            return; // down: the client times out
        };
        if let (true, KvOp::Get { key }) = (self.config.workload.read_index_gets, &command.op) {
            let reply = if raft.role() == Role::Leader {
                self.next_read_context += 1;
                let context = self.next_read_context;
                match raft.read_index(context) {
                    Ok(actions) => {
                        host.reads
                            .insert(context, (client, seq, attempt, key.clone()));
                        self.record(event!(
                            now,
                            Some(node),
                            "read-index",
                            client = command.client,
                            seq = seq,
                            context = context
                        ));
                        self.execute(node, actions);
                        return;
                    }
                    Err(_) => Reply::NotLeader(None),
                }
            } else {
                Reply::NotLeader(host.leader_hint)
            };
            self.reply_to_client(client, seq, attempt, reply);
            return;
        }
        let reply = if raft.is_ready_leader() {
            let term = raft.term();
            match raft.propose(term, command.encode()) {
                Ok(proposed) => {
                    host.waiting.insert((command.client, command.seq), attempt);
                    self.record(event!(
                        now,
                        Some(node),
                        "propose",
                        client = command.client,
                        seq = seq,
                        index = proposed.first_index
                    ));
                    self.execute(node, proposed.actions);
                    return;
                }
                Err(_) => Reply::NotLeader(None),
            }
        } else {
            Reply::NotLeader(host.leader_hint)
        };
        self.reply_to_client(client, seq, attempt, reply);
    }

    /// Sends a reply back to a client, one client-network hop away.
    fn reply_to_client(&mut self, client: usize, seq: u64, attempt: u32, reply: Reply) {
        let delay = self.network.client_latency();
        let at = self.now + delay;
        self.schedule(
            at,
            Event::ClientReply {
                client,
                seq,
                attempt,
                reply,
            },
        );
    }

    fn on_client_reply(&mut self, client: usize, seq: u64, attempt: u32, reply: Reply) {
        let n = self.config.nodes;
        let c = &mut self.clients[client];
        let Some(op) = c.current.as_ref().filter(|op| op.seq == seq) else {
            return;
        };
        match reply {
            Reply::Done(result) => {
                if let (KvOp::Get { key }, KvResult::Value(v)) = (&op.command.op, &result) {
                    c.last_seen.insert(key.clone(), v.clone());
                }
                if let (KvOp::Put { key, value }, KvResult::Done) = (&op.command.op, &result) {
                    c.last_seen.insert(key.clone(), Some(value.clone()));
                }
                self.complete(client, Outcome::Ok(result));
            }
            Reply::NotLeader(hint) => {
                if attempt != op.attempt {
                    return;
                }
                c.guess = match hint {
                    Some(leader) => {
                        c.hinted_by = Some(c.guess);
                        leader
                    }
                    None => {
                        c.move_on(n);
                        c.guess
                    }
                };
                // Without a known leader, back off a little before asking again.
                let backoff = if hint.is_some() {
                    0
                } else {
                    self.config.tick_us * 5
                };
                self.schedule(
                    self.now + backoff,
                    Event::ClientRetry {
                        client,
                        seq,
                        attempt,
                    },
                );
            }
        }
    }

    fn on_client_retry(&mut self, client: usize, seq: u64, attempt: u32) {
        let c = &self.clients[client];
        if c.current
            .as_ref()
            .is_some_and(|op| op.seq == seq && op.attempt == attempt)
        {
            self.retry_or_give_up(client);
        }
    }

    fn on_client_timeout(&mut self, client: usize, seq: u64, attempt: u32) {
        let n = self.config.nodes;
        let c = &mut self.clients[client];
        let Some(op) = c
            .current
            .as_mut()
            .filter(|op| op.seq == seq && op.attempt == attempt)
        else {
            return;
        };
        op.timed_out = true;
        c.move_on(n);
        self.retry_or_give_up(client);
    }

    fn retry_or_give_up(&mut self, client: usize) {
        let c = &self.clients[client];
        let Some(op) = c.current.as_ref() else { return };
        if op.attempt < self.config.workload.max_attempts || c.probe {
            self.client_attempt(client);
        } else if op.timed_out {
            self.complete(client, Outcome::Unknown);
        } else {
            self.complete(client, Outcome::Fail);
        }
    }

    fn complete(&mut self, client: usize, outcome: Outcome) {
        let now = self.now;
        let c = &mut self.clients[client];
        let Some(op) = c.current.take() else { return };
        let (client_id, probe) = (c.id, c.probe);
        match &outcome {
            Outcome::Ok(_) => self.stats.ops_ok += 1,
            Outcome::Fail => self.stats.ops_fail += 1,
            Outcome::Unknown => self.stats.ops_unknown += 1,
        }
        self.record(event!(
            now,
            None,
            "complete",
            client = client_id,
            seq = op.seq,
            outcome = fmt_outcome(&outcome)
        ));
        self.history
            .complete(op.history_index, outcome.clone(), now);
        if probe {
            if matches!(outcome, Outcome::Ok(_)) && self.probe_done.is_none() {
                self.probe_done = Some(now);
                self.probe_term = self.highest_live_term();
                // Let the cluster run a little longer so the end state is settled, then stop.
                let end = (now + self.config.liveness_bound_us() / 4).min(self.end_at);
                self.end_at = end;
                self.schedule(end, Event::End);
            }
            return;
        }
        let think = self.workload_rng.between(
            self.config.workload.think_min_us,
            self.config.workload.think_max_us,
        );
        if let Some(wait) = self.think_before_next(client, think) {
            self.schedule(now + wait, Event::ClientWake { client });
        }
    }

    /// The wait before a client's next operation: drawn (and remembered for the recording),
    /// or taken from the replayed workload; None when a replayed client has nothing left.
    fn think_before_next(&mut self, client: usize, drawn: Micros) -> Option<Micros> {
        match self.replay_workload.as_ref() {
            Some(replay) => replay
                .get(client)
                .and_then(|ops| ops.front())
                .map(|op| op.think_us),
            None => {
                self.next_think[client] = drawn;
                Some(drawn)
            }
        }
    }
}

/// Draws a client's next operation from the configured mix.
fn draw_op(rng: &mut Stream, w: &crate::config::Workload, c: &Client, seq: u64) -> KvOp {
    let key = format!("k{}", rng.below(w.keys));
    let value = format!("c{}s{seq}", c.id);
    let total = w.put_weight + w.append_weight + w.cas_weight + w.get_weight;
    let mut pick = rng.between(0, u64::from(total) - 1) as u32;
    if pick < w.put_weight {
        return KvOp::Put { key, value };
    }
    pick -= w.put_weight;
    if pick < w.append_weight {
        return KvOp::Append {
            key,
            value: format!("{value},"),
        };
    }
    pick -= w.append_weight;
    if pick < w.cas_weight {
        let expected = c.last_seen.get(&key).cloned().flatten();
        return KvOp::Cas {
            key,
            expected,
            new: value,
        };
    }
    KvOp::Get { key }
}

fn fmt_role(role: Role) -> &'static str {
    match role {
        Role::Follower => "follower",
        Role::Candidate => "candidate",
        Role::Leader => "leader",
    }
}

/// Rewrites the WAL without the records a durable local snapshot covers, so that a restart
/// reads only the tail (the host's side of [`Action::PersistSnapshot`] without
/// `discard_log`). Runs only when no write is in flight, so every byte is synced and no
/// pending write's offset moves. The rewrite is a whole-file atomic replace (temp file,
/// fsync, rename): a crash before or after it recovers the same log, because recovery drops
/// the entries the snapshot covers, so it is modelled as instantaneous. A WAL that does not
/// decode cleanly is left as it is, for recovery to judge. Returns whether it rewrote.
fn compact_wal(host: &mut Host) -> bool {
    let Some((index, term)) = host.compact_wal_to.take() else {
        return false;
    };
    let wal = &mut host.disk.wal;
    if wal.synced_len() != wal.len() {
        return false;
    }
    let recovered = storage::recover_wal(wal.bytes());
    if recovered.verdict != storage::WalVerdict::Clean || recovered.log_start.0 >= index {
        return false;
    }
    let from = recovered
        .entries
        .iter()
        .position(|e| e.index > index)
        .unwrap_or(recovered.entries.len());
    let covers = from > 0
        && recovered.entries[from - 1].index == index
        && recovered.entries[from - 1].term == term;
    if !covers {
        return false;
    }
    let bytes = storage::encode_wal_append(index, term, &recovered.entries[from..], 0)
        .expect("entries that decoded encode again");
    wal.replace(bytes);
    true
}

/// A vote or a leader in the trace line: `n1`, or `-` for none.
struct Vote(Option<NodeId>);

impl crate::trace::TraceValue for Vote {
    fn write(&self, out: &mut Line) {
        match self.0 {
            Some(v) => put!(out, "n", v.0),
            None => out.push('-'),
        }
    }
}

/// `first..last@prev` (or `none@prev`), for the trace line.
fn write_log_write(w: &LogWrite, out: &mut Line) {
    match (w.entries.first(), w.entries.last()) {
        (Some(first), Some(last)) => put!(out, first.index, "..", last.index, "@", w.prev_index),
        _ => put!(out, "none@", w.prev_index),
    }
}

/// `put(key,value)`, `cas(key,expected,new)`, ...: built with `push_str` rather than
/// `format!`, since every client operation is traced.
fn fmt_op(op: &KvOp) -> String {
    let (key, rest): (&str, [Option<&str>; 2]) = match op {
        KvOp::Put { key, value } | KvOp::Append { key, value } => (key, [Some(value), None]),
        KvOp::Cas { key, expected, new } => {
            (key, [Some(expected.as_deref().unwrap_or("-")), Some(new)])
        }
        KvOp::Get { key } => (key, [None, None]),
    };
    let mut text = String::with_capacity(48);
    text.push_str(op.name());
    text.push('(');
    text.push_str(key);
    for part in rest.into_iter().flatten() {
        text.push(',');
        text.push_str(part);
    }
    text.push(')');
    text
}

fn fmt_outcome(outcome: &Outcome) -> String {
    match outcome {
        Outcome::Ok(KvResult::Done) => "ok".into(),
        Outcome::Ok(KvResult::Value(v)) => format!("ok:{}", v.as_deref().unwrap_or("-")),
        Outcome::Ok(KvResult::Swapped(s)) => {
            format!("ok:{}", if *s { "swapped" } else { "mismatch" })
        }
        Outcome::Fail => "fail".into(),
        Outcome::Unknown => "unknown".into(),
    }
}

/// A short, stable rendering of a message for the trace.
pub fn fmt_message(message: &Message) -> String {
    let mut text = Line::default();
    write_message(message, &mut text);
    text.into_string()
}

/// A (pre-, transfer) vote request as `{kind}(t{term} last={last_term}/{last_index})`.
fn write_vote_request(out: &mut Line, kind: &str, m: &raft_core::VoteRequest) {
    put!(
        out,
        kind,
        "(t",
        m.term,
        " last=",
        m.last_term,
        "/",
        m.last_index,
        ")"
    )
}

/// A (pre-)vote response as `{kind}(t{term} granted|denied)`.
fn write_vote_response(out: &mut Line, kind: &str, m: &raft_core::VoteResponse) {
    let verdict = if m.granted { "granted" } else { "denied" };
    put!(out, kind, "(t", m.term, " ", verdict, ")")
}

/// [`fmt_message`] into `out`, without allocating: the trace hashes this for every send.
pub fn write_message(message: &Message, out: &mut Line) {
    let done = |done: bool| if done { " done" } else { "" };
    match message {
        Message::AppendEntries(m) => {
            put!(
                out,
                "AE(t",
                m.term,
                " prev=",
                m.prev_term,
                "/",
                m.prev_index
            );
            put!(out, " commit=", m.commit, " entries=");
            match (m.entries.first(), m.entries.last()) {
                (Some(a), Some(b)) => put!(out, a.index, "..", b.index, ")"),
                _ => put!(out, "-)"),
            }
        }
        Message::AppendResponse(m) => {
            let verdict = if m.success { "ok" } else { "reject" };
            put!(out, "AR(t", m.term, " ", verdict, " ", m.index, ")")
        }
        Message::VoteRequest(m) => write_vote_request(out, "VQ", m),
        Message::VoteResponse(m) => write_vote_response(out, "VR", m),
        Message::ForwardProposal(m) => put!(out, "FP(", m.data.len(), " bytes)"),
        Message::PreVoteRequest(m) => write_vote_request(out, "PVQ", m),
        Message::PreVoteResponse(m) => write_vote_response(out, "PVR", m),
        Message::TimeoutNow(m) => put!(out, "TN(t", m.term, ")"),
        Message::TransferVoteRequest(m) => write_vote_request(out, "TVQ", m),
        Message::ReadAck(m) => put!(out, "RA(t", m.term, " seq=", m.seq, ")"),
        Message::InstallSnapshot(m) => {
            put!(
                out,
                "IS(t",
                m.term,
                " snap=",
                m.meta.term,
                "/",
                m.meta.index
            );
            put!(
                out,
                " offset=",
                m.offset,
                " bytes=",
                m.data.len(),
                done(m.done),
                ")"
            )
        }
        Message::SnapshotResponse(m) => {
            put!(
                out,
                "SR(t",
                m.term,
                " snap=",
                m.index,
                " next=",
                m.next_offset
            );
            put!(out, done(m.done), ")")
        }
    }
}

#[cfg(test)]
mod event_queue_tests {
    use super::*;

    fn item(at: Micros, seq: u64) -> Reverse<Scheduled> {
        let event = Event::Restart {
            node: seq as usize,
            incarnation: 0,
        };
        Reverse(Scheduled { at, seq, event })
    }

    /// Same order as the `BinaryHeap<Reverse<Scheduled>>` it replaces, through interleaved
    /// pushes and pops (slots are reused).
    #[test]
    fn pops_in_time_then_sequence_order_like_a_binary_heap() {
        let (mut queue, mut heap) = (EventQueue::default(), BinaryHeap::new());
        let mut rng = Stream::new(7, "queue-test");
        for seq in 0..2_000u64 {
            let at = rng.below(50) as Micros;
            queue.push(item(at, seq));
            heap.push(item(at, seq));
            if rng.chance(400_000) {
                let (a, b) = (queue.pop().unwrap().0, heap.pop().unwrap().0);
                assert_eq!((a.at, a.seq), (b.at, b.seq));
            }
        }
        assert_eq!(queue.iter().count(), heap.len());
        let rebuilt: EventQueue = queue.into_iter().collect();
        let mut queue = rebuilt;
        while let Some(Reverse(b)) = heap.pop() {
            let a = queue.pop().unwrap().0;
            assert_eq!((a.at, a.seq), (b.at, b.seq));
        }
        assert!(queue.pop().is_none());
    }
}
