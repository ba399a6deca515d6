//! The scenario builder: each method is one step of a script, recorded in the trace, run
//! through the simulator's scripted world (same host, disks, checkers), and followed by a
//! check that no safety property was violated.

use raft_core::{MembershipChange, NodeId, Role};
use sim::config::SimConfig;
use sim::kv::{Command, KvOp};
use sim::trace::TraceEvent;
use sim::world::scripted::{CrashKind, Held};
use sim::world::{Status, World};

/// The cluster a scenario starts with.
#[derive(Clone, Debug)]
pub struct Setup {
    nodes: usize,
    voters: Option<Vec<usize>>,
    started: Option<Vec<usize>>,
    pre_vote: bool,
    check_quorum: bool,
    max_bytes_per_message: Option<usize>,
    max_uncommitted_entries: Option<u64>,
    preload: Vec<(usize, u64, Option<usize>, Vec<u64>)>,
}

impl Setup {
    /// `nodes` nodes n0..n{nodes-1}, all voters, all started; PreVote and CheckQuorum on;
    /// election timeout 10..20 ticks, heartbeat every 3.
    pub fn new(nodes: usize) -> Setup {
        Setup {
            nodes,
            voters: None,
            started: None,
            pre_vote: true,
            check_quorum: true,
            max_bytes_per_message: None,
            max_uncommitted_entries: None,
            preload: Vec::new(),
        }
    }
    /// Starts `node` from a durable state: term `term`, vote `vote`, and a log whose entry at
    /// index i+1 has term `terms[i]` (data derived from index and term, so equal entries on
    /// two nodes are the same entry).
    pub fn state(mut self, node: usize, term: u64, vote: Option<usize>, terms: &[u64]) -> Setup {
        self.preload.push((node, term, vote, terms.to_vec()));
        self
    }
    /// The initial voter set (the others start outside the cluster, waiting to be added).
    pub fn voters(mut self, voters: &[usize]) -> Setup {
        self.voters = Some(voters.to_vec());
        self
    }
    /// Which nodes boot at the start (default: all); the others with [`Script::start`].
    pub fn started(mut self, nodes: &[usize]) -> Setup {
        self.started = Some(nodes.to_vec());
        self
    }
    pub fn pre_vote(mut self, on: bool) -> Setup {
        self.pre_vote = on;
        self
    }
    pub fn check_quorum(mut self, on: bool) -> Setup {
        self.check_quorum = on;
        self
    }
    /// Classic Raft: PreVote and CheckQuorum off.
    pub fn classic(self) -> Setup {
        self.pre_vote(false).check_quorum(false)
    }
    pub fn max_bytes_per_message(mut self, bytes: usize) -> Setup {
        self.max_bytes_per_message = Some(bytes);
        self
    }
    pub fn max_uncommitted_entries(mut self, entries: u64) -> Setup {
        self.max_uncommitted_entries = Some(entries);
        self
    }
}

/// A message selector for the network steps.
#[derive(Clone, Copy, Debug, Default)]
pub struct Sel {
    from: Option<usize>,
    to: Option<usize>,
    kind: Option<&'static str>,
}

impl Sel {
    pub fn any() -> Sel {
        Sel::default()
    }
    pub fn from(node: usize) -> Sel {
        Sel::any().and_from(node)
    }
    pub fn to(node: usize) -> Sel {
        Sel::any().and_to(node)
    }
    pub fn link(from: usize, to: usize) -> Sel {
        Sel::from(from).and_to(to)
    }
    /// By kind, as the trace abbreviates it: `PVQ`, `PVR`, `VQ`, `VR`, `TVQ`, `AE` (with
    /// entries), `HB` (an AE without), `AR`, `FP`, `TN`, `RA`, `IS`, `SR`.
    pub fn kind(kind: &'static str) -> Sel {
        Sel::any().and_kind(kind)
    }
    pub fn and_from(mut self, node: usize) -> Sel {
        self.from = Some(node);
        self
    }
    pub fn and_to(mut self, node: usize) -> Sel {
        self.to = Some(node);
        self
    }
    pub fn and_kind(mut self, kind: &'static str) -> Sel {
        self.kind = Some(kind);
        self
    }
    fn matches(&self, held: &Held) -> bool {
        self.from.is_none_or(|f| f == held.from)
            && self.to.is_none_or(|t| t == held.to)
            && self.kind.is_none_or(|k| k == short_kind(&held.message))
    }
    fn describe(&self) -> String {
        let mut parts = Vec::new();
        if let Some(k) = self.kind {
            parts.push(k.to_string());
        }
        match (self.from, self.to) {
            (Some(f), Some(t)) => parts.push(format!("n{f}->n{t}")),
            (Some(f), None) => parts.push(format!("from n{f}")),
            (None, Some(t)) => parts.push(format!("to n{t}")),
            (None, None) => {}
        }
        if parts.is_empty() {
            "all".into()
        } else {
            parts.join(" ")
        }
    }
}

fn short_kind(message: &raft_core::Message) -> &'static str {
    use raft_core::Message::*;
    match message {
        AppendEntries(m) if m.entries.is_empty() => "HB",
        AppendEntries(_) => "AE",
        AppendResponse(_) => "AR",
        VoteRequest(_) => "VQ",
        VoteResponse(_) => "VR",
        ForwardProposal(_) => "FP",
        PreVoteRequest(_) => "PVQ",
        PreVoteResponse(_) => "PVR",
        TimeoutNow(_) => "TN",
        TransferVoteRequest(_) => "TVQ",
        ReadAck(_) => "RA",
        InstallSnapshot(_) => "IS",
        SnapshotResponse(_) => "SR",
    }
}

/// One scenario being run.
pub struct Script {
    name: &'static str,
    world: Option<World>,
    step: usize,
    step_text: String,
    proposals: u64,
}

const SETTLE_ROUNDS: usize = 500;

impl Script {
    pub fn new(name: &'static str) -> Script {
        Script {
            name,
            world: None,
            step: 0,
            step_text: String::new(),
            proposals: 0,
        }
    }

    pub fn name(&self) -> &'static str {
        self.name
    }

    /// The trace so far.
    pub fn events(&self) -> &[TraceEvent] {
        self.world.as_ref().map_or(&[], |w| w.trace_events())
    }

    pub fn nodes(&self) -> usize {
        self.world.as_ref().map_or(0, |w| w.nodes())
    }

    /// The scripted world (for reads the builder does not cover).
    pub fn world(&self) -> &World {
        self.world
            .as_ref()
            .expect("the scenario must start with Script::setup")
    }

    fn w(&mut self) -> &mut World {
        self.world
            .as_mut()
            .expect("the scenario must start with Script::setup")
    }

    /// Fails the scenario, naming it and the step.
    #[track_caller]
    pub fn fail(&self, what: String) -> ! {
        panic!(
            "scenario {} failed at step {} `{}`: {what}",
            self.name, self.step, self.step_text
        );
    }

    fn begin(&mut self, text: String) {
        self.step += 1;
        self.step_text = text.clone();
        let w = self.w();
        w.script_advance(1_000);
        w.script_note(&text);
    }

    #[track_caller]
    fn end(&mut self) {
        if let Some(v) = self.world().violation() {
            let v = v.to_string();
            self.fail(format!("checker violation: {v}"));
        }
    }

    // ----- setup -------------------------------------------------------------------------

    /// Builds the cluster and boots its nodes. The first step of every scenario.
    pub fn setup(&mut self, setup: Setup) {
        let mut config = SimConfig::draw(1).without_faults();
        config.seed = 1;
        config.nodes = setup.nodes;
        config.election_timeout_min_ticks = 10;
        config.election_timeout_max_ticks = 20;
        config.heartbeat_ticks = 3;
        config.max_entries_per_message = 64;
        config.max_inflight_messages = 8;
        config.faults.clock_drift_ppm = 0;
        let s = setup.clone();
        let configure = Box::new(move |_node: usize, mut c: raft_core::Config| {
            if let Some(v) = &s.voters {
                c.voters = v.iter().map(|&n| NodeId(n as u64)).collect();
            }
            c.pre_vote = s.pre_vote;
            c.check_quorum = s.check_quorum;
            if let Some(b) = s.max_bytes_per_message {
                c.max_bytes_per_message = b;
            }
            if let Some(u) = s.max_uncommitted_entries {
                c.max_uncommitted_entries = u;
            }
            c
        });
        self.world = Some(World::scripted(config, Some(configure)));
        for (node, term, vote, terms) in &setup.preload {
            let entries: Vec<raft_core::Entry> = terms
                .iter()
                .enumerate()
                .map(|(i, &t)| entry(i as u64 + 1, t))
                .collect();
            let hs = raft_core::HardState {
                term: *term,
                vote: vote.map(|v| NodeId(v as u64)),
            };
            self.w().script_preload(*node, hs, &entries);
        }
        let started: Vec<usize> = setup.started.unwrap_or_else(|| (0..setup.nodes).collect());
        let mut text = format!("setup {} nodes", setup.nodes);
        if let Some(v) = &setup.voters {
            text.push_str(&format!(", voters {}", list(v)));
        }
        if started.len() != setup.nodes {
            text.push_str(&format!(", started {}", list(&started)));
        }
        if !setup.pre_vote {
            text.push_str(", no pre-vote");
        }
        if !setup.check_quorum {
            text.push_str(", no check-quorum");
        }
        if let Some(b) = setup.max_bytes_per_message {
            text.push_str(&format!(", max {b} bytes per message"));
        }
        if let Some(u) = setup.max_uncommitted_entries {
            text.push_str(&format!(", max {u} uncommitted"));
        }
        for (node, term, vote, terms) in &setup.preload {
            let v = vote.map_or("-".into(), |v| format!("n{v}"));
            let t: Vec<String> = terms.iter().map(|t| t.to_string()).collect();
            text.push_str(&format!(
                "\n> state n{node} t{term} vote={v} log={}",
                t.join(",")
            ));
        }
        self.begin(text);
        for n in started {
            self.w().script_start(n);
        }
        self.end();
    }

    /// `nodes` voters without PreVote and CheckQuorum (as NRG), then `leader` elected and
    /// its commit index known to all (a common start).
    pub fn cluster_with_leader(&mut self, nodes: usize, leader: usize) {
        self.setup(Setup::new(nodes).classic());
        self.elect(leader);
        self.run_ticks(3);
    }

    /// Boots a node that was not started (or restarts one that is down).
    pub fn start(&mut self, node: usize) {
        self.begin(format!("start n{node}"));
        self.w().script_start(node);
        self.end();
    }

    // ----- time and elections -------------------------------------------------------------

    /// `count` ticks of one node (messages it sends wait in flight).
    pub fn tick(&mut self, node: usize, count: u32) {
        self.begin(format!("tick n{node} x{count}"));
        for _ in 0..count {
            self.w().script_tick(node);
        }
        self.end();
    }

    /// `count` rounds of: one tick of every node, then settle. Time passing on a healthy
    /// network (heartbeats delivered, CheckQuorum windows close).
    pub fn run_ticks(&mut self, count: u32) {
        self.begin(format!("run x{count} (tick all, settle)"));
        for _ in 0..count {
            for n in 0..self.nodes() {
                self.w().script_tick(n);
            }
            self.w().script_settle(SETTLE_ROUNDS);
        }
        self.end();
    }

    /// The node's election timeout fires now (NATS `Campaign`; a pre-vote first when on).
    pub fn campaign(&mut self, node: usize) {
        self.begin(format!("campaign n{node}"));
        self.w().script_input(node, |n| Ok::<_, ()>(n.campaign()));
        self.end();
    }

    /// Campaign, settle, and check that `node` leads with its no-op committed.
    pub fn elect(&mut self, node: usize) {
        self.campaign(node);
        self.settle();
        self.expect(node, "leader ready");
    }

    // ----- proposals and other inputs -----------------------------------------------------

    fn command(&mut self, value: &str) -> Vec<u8> {
        self.proposals += 1;
        Command {
            client: 1,
            seq: self.proposals,
            op: KvOp::Append {
                key: "k".into(),
                value: value.into(),
            },
        }
        .encode()
    }

    /// Proposes `value` (appended to key `k`) at `node` in its current term; returns the
    /// entry's index. Fails the scenario if refused.
    #[track_caller]
    pub fn propose(&mut self, node: usize, value: &str) -> u64 {
        match self.try_propose(node, None, value) {
            Ok(index) => index,
            Err(e) => self.fail(format!("n{node} refused the proposal: {e}")),
        }
    }

    /// Proposes in leadership term `term` (term fencing) or the node's current term.
    pub fn try_propose(
        &mut self,
        node: usize,
        term: Option<u64>,
        value: &str,
    ) -> Result<u64, String> {
        let data = self.command(value);
        let at = term.map_or(String::new(), |t| format!(" in t{t}"));
        self.begin(format!("propose n{node} {value}{at}"));
        let mut index = 0;
        let outcome = self.w().script_input(node, |n| {
            let term = term.unwrap_or(n.term());
            n.propose(term, data).map(|p| {
                index = p.last_index;
                p.actions
            })
        });
        let result = match outcome {
            None => Err("not running".to_string()),
            Some(Ok(())) => Ok(index),
            Some(Err(e)) => Err(e.to_string()),
        };
        self.note_result(&result);
        self.end();
        result
    }

    /// Proposes several values as one batch (NRG `ProposeMulti`): contiguous indexes.
    #[track_caller]
    pub fn propose_batch(&mut self, node: usize, values: &[&str]) -> (u64, u64) {
        let batch: Vec<bytes::Bytes> = values.iter().map(|v| self.command(v).into()).collect();
        self.begin(format!("propose-batch n{node} {}", values.join(",")));
        let mut range = (0, 0);
        let outcome = self.w().script_input(node, |n| {
            n.propose_batch(n.term(), batch).map(|p| {
                range = (p.first_index, p.last_index);
                p.actions
            })
        });
        if !matches!(outcome, Some(Ok(()))) {
            self.fail(format!("batch refused: {outcome:?}"));
        }
        self.end();
        range
    }

    /// A follower forwards `value` to its leader (NRG `ForwardProposal`).
    pub fn forward(&mut self, node: usize, value: &str) -> Result<(), String> {
        let data = self.command(value);
        self.begin(format!("forward n{node} {value}"));
        let outcome = self.w().script_input(node, |n| n.forward(data));
        let result = flatten(outcome);
        self.note_result(&result);
        self.end();
        result
    }

    /// A membership change proposed at `node`; returns the entry's index.
    pub fn try_change(&mut self, node: usize, change: MembershipChange) -> Result<u64, String> {
        let what = match change {
            MembershipChange::AddVoter(p) => format!("add-voter {p}"),
            MembershipChange::AddObserver(p) => format!("add-observer {p}"),
            MembershipChange::RemovePeer(p) => format!("remove-peer {p}"),
        };
        self.begin(format!("{what} at n{node}"));
        let mut index = 0;
        let outcome = self.w().script_input(node, |n| {
            n.propose_membership(n.term(), change).map(|p| {
                index = p.last_index;
                p.actions
            })
        });
        let result = flatten(outcome).map(|()| index);
        self.note_result(&result);
        self.end();
        result
    }

    #[track_caller]
    pub fn add_voter(&mut self, node: usize, peer: usize) -> u64 {
        let r = self.try_change(node, MembershipChange::AddVoter(NodeId(peer as u64)));
        r.unwrap_or_else(|e| self.fail(format!("refused: {e}")))
    }

    #[track_caller]
    pub fn add_observer(&mut self, node: usize, peer: usize) -> u64 {
        let r = self.try_change(node, MembershipChange::AddObserver(NodeId(peer as u64)));
        r.unwrap_or_else(|e| self.fail(format!("refused: {e}")))
    }

    #[track_caller]
    pub fn remove_peer(&mut self, node: usize, peer: usize) -> u64 {
        let r = self.try_change(node, MembershipChange::RemovePeer(NodeId(peer as u64)));
        r.unwrap_or_else(|e| self.fail(format!("refused: {e}")))
    }

    /// Leader transfer (NRG `StepDown(preferred)`).
    pub fn transfer(&mut self, node: usize, to: Option<usize>) -> Result<(), String> {
        let target = to.map_or("best".to_string(), |t| format!("n{t}"));
        self.begin(format!("step-down n{node} to {target}"));
        let outcome = self
            .w()
            .script_input(node, |n| n.step_down(to.map(|t| NodeId(t as u64))));
        let result = flatten(outcome);
        self.note_result(&result);
        self.end();
        result
    }

    /// A ReadIndex read with `context` at `node`.
    pub fn read_index(&mut self, node: usize, context: u64) -> Result<(), String> {
        self.begin(format!("read-index n{node} ctx={context}"));
        let outcome = self.w().script_input(node, |n| n.read_index(context));
        let result = flatten(outcome);
        self.note_result(&result);
        self.end();
        result
    }

    /// The application snapshots `node` at its applied index and compacts the log.
    pub fn snapshot(&mut self, node: usize) -> Result<u64, String> {
        self.begin(format!("snapshot n{node}"));
        let result = self
            .w()
            .script_snapshot(node)
            .unwrap_or_else(|| Err("not running".into()));
        self.note_result(&result);
        self.end();
        result
    }

    pub fn pause_apply(&mut self, node: usize) {
        self.begin(format!("pause-apply n{node}"));
        self.w()
            .script_input(node, |n| Ok::<_, ()>(n.pause_apply()));
        self.end();
    }

    pub fn resume_apply(&mut self, node: usize) {
        self.begin(format!("resume-apply n{node}"));
        self.w()
            .script_input(node, |n| Ok::<_, ()>(n.resume_apply()));
        self.end();
    }

    /// Hands `node` a message as if `from` had sent it (a stale or forged message from the
    /// past, as NATS's single-node tests build by hand).
    pub fn inject(&mut self, from: usize, node: usize, message: raft_core::Message) {
        let text = sim::world::fmt_message(&message);
        self.begin(format!("inject n{from}->n{node} {text}"));
        self.w().script_input(node, |n| {
            Ok::<_, ()>(n.receive(NodeId(from as u64), message))
        });
        self.end();
    }

    fn note_result<T: std::fmt::Debug>(&mut self, result: &Result<T, String>) {
        if let Err(e) = result {
            let text = format!("refused: {e}");
            self.w().script_note(&text);
        }
    }

    // ----- network ------------------------------------------------------------------------

    fn ids(&self, sel: Sel) -> Vec<u64> {
        self.world()
            .in_flight()
            .iter()
            .filter(|h| sel.matches(h))
            .map(|h| h.id)
            .collect()
    }

    /// Delivers every in-flight message `sel` matches, in send order (what they cause stays
    /// in flight). Returns how many.
    pub fn deliver(&mut self, sel: Sel) -> usize {
        self.begin(format!("deliver {}", sel.describe()));
        let ids = self.ids(sel);
        for &id in &ids {
            self.w().script_deliver(id);
        }
        self.end();
        ids.len()
    }

    /// Drops every in-flight message `sel` matches.
    pub fn drop(&mut self, sel: Sel) -> usize {
        self.begin(format!("drop {}", sel.describe()));
        let ids = self.ids(sel);
        for &id in &ids {
            self.w().script_drop(id);
        }
        self.end();
        ids.len()
    }

    /// Puts a second copy of every matching message on the wire.
    pub fn duplicate(&mut self, sel: Sel) -> usize {
        self.begin(format!("duplicate {}", sel.describe()));
        let ids = self.ids(sel);
        for &id in &ids {
            self.w().script_duplicate(id);
        }
        self.end();
        ids.len()
    }

    /// Takes matching messages off the wire, to deliver later with [`Script::release`] (a
    /// delay): until then no step delivers them, and a cut made meanwhile does not reach
    /// them.
    pub fn hold(&mut self, sel: Sel) -> Vec<Held> {
        self.begin(format!("hold back {}", sel.describe()));
        let held = self
            .ids(sel)
            .into_iter()
            .filter_map(|id| self.w().script_take(id))
            .collect();
        self.end();
        held
    }

    /// Puts a second copy of every matching message aside, to arrive later with
    /// [`Script::release`] (a redelivery); the originals stay on the wire.
    pub fn hold_copy(&mut self, sel: Sel) -> Vec<Held> {
        self.begin(format!("hold back a copy of {}", sel.describe()));
        let copies = self
            .ids(sel)
            .into_iter()
            .filter_map(|id| self.w().script_duplicate(id))
            .collect::<Vec<u64>>();
        let held = copies
            .into_iter()
            .filter_map(|copy| self.w().script_take(copy))
            .collect();
        self.end();
        held
    }

    /// Delivers messages taken with [`Script::hold`] (each once: they are consumed), in
    /// order, after whatever happened meanwhile (a cut link still loses them at delivery).
    pub fn release(&mut self, held: Vec<Held>) {
        let ids: Vec<String> = held.iter().map(|h| format!("m{}", h.id)).collect();
        self.begin(format!("release {}", ids.join(",")));
        for h in held {
            let id = h.id;
            self.w().script_put_back(h);
            self.w().script_deliver(id);
        }
        self.end();
    }

    /// Runs until quiet: completes I/O (not on stalled disks) and delivers messages until
    /// nothing is left.
    pub fn settle(&mut self) {
        self.begin("settle".into());
        self.w().script_settle(SETTLE_ROUNDS);
        self.end();
    }

    /// Cuts both directions between every pair across the groups (a partition).
    pub fn partition(&mut self, groups: &[&[usize]]) {
        let text: Vec<String> = groups.iter().map(|g| list(g)).collect();
        self.begin(format!("partition {}", text.join(" | ")));
        for (i, a) in groups.iter().enumerate() {
            for b in groups.iter().skip(i + 1) {
                for &x in a.iter() {
                    for &y in b.iter() {
                        self.w().script_cut(x, y, true);
                        self.w().script_cut(y, x, true);
                    }
                }
            }
        }
        self.end();
    }

    /// Cuts `node` off from every other node.
    pub fn isolate(&mut self, node: usize) {
        self.begin(format!("isolate n{node}"));
        for other in (0..self.nodes()).filter(|&o| o != node) {
            self.w().script_cut(node, other, true);
            self.w().script_cut(other, node, true);
        }
        self.end();
    }

    /// Cuts the link between `a` and `b` in both directions (a partial partition).
    pub fn cut(&mut self, a: usize, b: usize) {
        self.begin(format!("cut n{a}<->n{b}"));
        self.w().script_cut(a, b, true);
        self.w().script_cut(b, a, true);
        self.end();
    }

    pub fn heal(&mut self) {
        self.begin("heal".into());
        self.w().script_heal();
        self.end();
    }

    // ----- disks and crashes --------------------------------------------------------------

    /// Completes every pending persist of `node`.
    pub fn sync(&mut self, node: usize) {
        self.begin(format!("sync n{node}"));
        self.w().script_sync(node);
        self.end();
    }

    /// From now on settle steps do not complete `node`'s I/O (a stalled disk).
    pub fn stall_disk(&mut self, node: usize) {
        self.begin(format!("stall disk n{node}"));
        self.w().script_stall(node, true);
        self.end();
    }

    pub fn unstall_disk(&mut self, node: usize) {
        self.begin(format!("unstall disk n{node}"));
        self.w().script_stall(node, false);
        self.end();
    }

    /// Power loss at `node`: unsynced writes are lost.
    pub fn crash(&mut self, node: usize) {
        self.begin(format!("crash n{node} (power loss)"));
        self.w().script_crash(node, CrashKind::PowerLoss);
        self.end();
    }

    /// The process at `node` is killed: written WAL bytes survive, unrenamed files do not.
    pub fn kill(&mut self, node: usize) {
        self.begin(format!("kill n{node} (process crash)"));
        self.w().script_crash(node, CrashKind::ProcessKill);
        self.end();
    }

    /// Restarts a crashed node through recovery from its disk.
    pub fn restart(&mut self, node: usize) {
        self.begin(format!("restart n{node}"));
        self.w().script_start(node);
        self.end();
    }

    // ----- assertions ---------------------------------------------------------------------

    /// Checks a node's state against space-separated expectations, all of which must hold:
    /// `leader` / `follower` / `candidate` / `down` / `stopped` / `up`, `ready` / `unready` (a leader
    /// whose no-op committed, or not), `notleader`, `tN` (term), `vote=nX` or `vote=-`, `commit=N`, `applied=N`,
    /// `last=N` (last log index), `log=T,T,..` (terms of the entries after the snapshot),
    /// `snap=N` (snapshot index), `voters=0,1,2`, `observers=3` or `observers=-`,
    /// `leader=nX` / `leader=-` (the leader it knows), `kv=abc` (value of key `k`; `kv=-`
    /// absent), `paused`, `unpaused`, `current`, `healthy`, `unhealthy`, `pending=N`
    /// (persists not yet completed), `match=nX:N` (a leader's match index for nX), `inflight=N` (messages on the wire from this node).
    #[track_caller]
    pub fn expect(&mut self, node: usize, expectations: &str) {
        self.begin(format!("expect n{node} {expectations}"));
        for token in expectations.split_whitespace() {
            if let Err(e) = self.check_token(node, token) {
                self.fail(format!("n{node} {e}"));
            }
        }
        self.end();
    }

    fn check_token(&self, node: usize, token: &str) -> Result<(), String> {
        let w = self.world();
        let status = w.status(node);
        let eq = |what: &str, expected: String, actual: String| {
            if expected == actual {
                Ok(())
            } else {
                Err(format!("{what}: expected {expected}, actual {actual}"))
            }
        };
        match token {
            "down" => return eq("status", "Down".into(), format!("{status:?}")),
            "stopped" => {
                return match status {
                    Status::Stopped(_) => Ok(()),
                    other => Err(format!("status: expected stopped, actual {other:?}")),
                }
            }
            "up" => return eq("status", "Up".into(), format!("{status:?}")),
            _ => {}
        }
        let Some(n) = w.node(node) else {
            return Err(format!("is not running ({status:?}), cannot check {token}"));
        };
        let role = match n.role() {
            Role::Leader => "leader",
            Role::Follower => "follower",
            Role::Candidate => "candidate",
        };
        let (key, value) = token.split_once('=').unwrap_or((token, ""));
        match key {
            "leader" if value.is_empty() => eq("role", "leader".into(), role.into()),
            "follower" | "candidate" => eq("role", key.into(), role.into()),
            "unready" => eq(
                "ready leader",
                "false".into(),
                n.is_ready_leader().to_string(),
            ),
            "notleader" => {
                if role == "leader" {
                    Err("role: expected not leader, actual leader".into())
                } else {
                    Ok(())
                }
            }
            "ready" => eq(
                "ready leader",
                "true".into(),
                n.is_ready_leader().to_string(),
            ),
            "paused" => eq("paused", "true".into(), n.is_paused().to_string()),
            "unpaused" => eq("paused", "false".into(), n.is_paused().to_string()),
            "current" => eq("current", "true".into(), n.health().current.to_string()),
            "healthy" => eq("healthy", "true".into(), n.health().healthy.to_string()),
            "unhealthy" => eq("healthy", "false".into(), n.health().healthy.to_string()),
            t if t.starts_with('t') && t[1..].parse::<u64>().is_ok() => {
                eq("term", t[1..].into(), n.term().to_string())
            }
            "vote" => eq("vote", value.into(), fmt_node(n.vote())),
            "commit" => eq("commit", value.into(), n.commit_index().to_string()),
            "applied" => eq("applied", value.into(), n.applied_index().to_string()),
            "last" => eq("last index", value.into(), n.last_index().to_string()),
            "snap" => eq(
                "snapshot index",
                value.into(),
                n.snapshot_index().to_string(),
            ),
            "log" => eq(
                "log terms",
                value.into(),
                n.log()
                    .iter()
                    .map(|e| e.term.to_string())
                    .collect::<Vec<_>>()
                    .join(","),
            ),
            "voters" => eq(
                "voters",
                value.into(),
                n.voters()
                    .map(|v| v.0.to_string())
                    .collect::<Vec<_>>()
                    .join(","),
            ),
            "observers" => {
                let obs: Vec<String> = n.observers().map(|v| v.0.to_string()).collect();
                let actual = if obs.is_empty() {
                    "-".into()
                } else {
                    obs.join(",")
                };
                eq("observers", value.into(), actual)
            }
            "leader" => eq("known leader", value.into(), fmt_node(n.leader())),
            "kv" => eq(
                "value of k",
                value.into(),
                w.kv(node).get("k").cloned().unwrap_or_else(|| "-".into()),
            ),
            "match" => {
                let (peer, index) = value
                    .split_once(':')
                    .ok_or_else(|| format!("`{token}`: write match=nX:N"))?;
                let peer: u64 = peer
                    .trim_start_matches('n')
                    .parse()
                    .map_err(|_| format!("bad peer in `{token}`"))?;
                let actual = n
                    .match_index(NodeId(peer))
                    .map_or("-".into(), |m| m.to_string());
                eq(&format!("match index of n{peer}"), index.into(), actual)
            }
            "pending" => eq(
                "pending persists",
                value.into(),
                w.pending_io(node).to_string(),
            ),
            "inflight" => eq(
                "messages in flight from it",
                value.into(),
                w.in_flight()
                    .iter()
                    .filter(|h| h.from == node)
                    .count()
                    .to_string(),
            ),
            _ => Err(format!("unknown expectation `{token}`")),
        }
    }

    /// Checks how many messages matching `sel` are on the wire.
    #[track_caller]
    pub fn expect_in_flight(&mut self, sel: Sel, count: usize) {
        self.begin(format!("expect in flight {}: {count}", sel.describe()));
        let actual = self.ids(sel).len();
        if actual != count {
            self.fail(format!(
                "messages in flight ({}): expected {count}, actual {actual}",
                sel.describe()
            ));
        }
        self.end();
    }

    /// Checks that the last step was refused with an error containing `needle`.
    #[track_caller]
    pub fn expect_refused<T: std::fmt::Debug>(&self, result: &Result<T, String>, needle: &str) {
        match result {
            Err(e) if e.contains(needle) => {}
            other => self.fail(format!(
                "expected a refusal containing `{needle}`, got {other:?}"
            )),
        }
    }

    /// The node's current term (for term-fenced proposals).
    pub fn term_of(&self, node: usize) -> u64 {
        self.world().node(node).map_or(0, |n| n.term())
    }

    /// Messages on the wire matching `sel` (to inspect or re-inject).
    pub fn in_flight(&self, sel: Sel) -> Vec<Held> {
        self.world()
            .in_flight()
            .iter()
            .filter(|h| sel.matches(h))
            .cloned()
            .collect()
    }

    /// Read-only access to a running node.
    #[track_caller]
    pub fn node(&self, node: usize) -> &raft_core::Node {
        self.world()
            .node(node)
            .unwrap_or_else(|| self.fail(format!("n{node} is not running")))
    }

    /// Runs the final checks of a scenario: no violation.
    pub fn finish(&mut self) {
        self.end();
    }
}

fn flatten<E: std::fmt::Display>(outcome: Option<Result<(), E>>) -> Result<(), String> {
    match outcome {
        None => Err("not running".into()),
        Some(r) => r.map_err(|e| e.to_string()),
    }
}

fn fmt_node(node: Option<NodeId>) -> String {
    node.map_or("-".into(), |n| format!("n{}", n.0))
}

fn list(nodes: &[usize]) -> String {
    nodes
        .iter()
        .map(|n| format!("n{n}"))
        .collect::<Vec<_>>()
        .join(",")
}

/// The entry a preloaded log holds at `index` in `term` (see [`Setup::state`]); a hand-built
/// message carrying it carries the same entry.
pub fn entry(index: u64, term: u64) -> raft_core::Entry {
    let data = Command {
        client: 2,
        seq: index,
        op: KvOp::Append {
            key: "k".into(),
            value: format!("{index}.{term};"),
        },
    };
    raft_core::Entry::normal(term, index, data.encode())
}

/// A hand-built AppendEntries from `leader` in `term` after `(prev_term, prev_index)`,
/// carrying entries of the given terms (see [`entry`]).
pub fn ae(
    leader: usize,
    term: u64,
    prev: (u64, u64),
    commit: u64,
    terms: &[u64],
) -> raft_core::Message {
    let entries = terms
        .iter()
        .enumerate()
        .map(|(i, &t)| entry(prev.1 + 1 + i as u64, t))
        .collect();
    raft_core::Message::AppendEntries(raft_core::AppendEntries {
        leader: NodeId(leader as u64),
        term,
        commit,
        prev_term: prev.0,
        prev_index: prev.1,
        entries,
        read_seq: 0,
    })
}

/// A hand-built VoteRequest.
pub fn vq(candidate: usize, term: u64, last_term: u64, last_index: u64) -> raft_core::Message {
    raft_core::Message::VoteRequest(raft_core::VoteRequest {
        term,
        last_term,
        last_index,
        candidate: NodeId(candidate as u64),
    })
}

/// A hand-built VoteResponse from `peer`.
pub fn vr(peer: usize, term: u64, granted: bool) -> raft_core::Message {
    raft_core::Message::VoteResponse(raft_core::VoteResponse {
        term,
        peer: NodeId(peer as u64),
        granted,
        empty_log: false,
    })
}

/// A hand-built AppendResponse.
pub fn ar(peer: usize, term: u64, index: u64, success: bool) -> raft_core::Message {
    raft_core::Message::AppendResponse(raft_core::AppendResponse {
        term,
        index,
        peer: NodeId(peer as u64),
        success,
    })
}

impl Script {
    /// Overwrites the node's term/vote file with `bytes` (the node should be down).
    pub fn write_term_vote(&mut self, node: usize, bytes: Vec<u8>) {
        self.begin(format!(
            "write {} bytes over the term/vote file of n{node}",
            bytes.len()
        ));
        self.w().script_write_term_vote(node, bytes);
        self.end();
    }

    /// Deletes the node's WAL, keeping the term/vote file (the node should be down).
    pub fn delete_wal(&mut self, node: usize) {
        self.begin(format!("delete wal n{node}"));
        self.w().script_delete_wal(node);
        self.end();
    }
}

impl Script {
    /// Checks how many events of `kind` (`read-ready`, `role`, `apply`, ...) the trace holds
    /// for `node` so far.
    #[track_caller]
    pub fn expect_events(&mut self, node: usize, kind: &str, count: usize) {
        self.begin(format!("expect n{node} {kind} events: {count}"));
        let actual = self
            .events()
            .iter()
            .filter(|e| e.kind == kind && e.node == Some(node))
            .count();
        if actual != count {
            self.fail(format!(
                "n{node} {kind} events: expected {count}, actual {actual}"
            ));
        }
        self.end();
    }
}
