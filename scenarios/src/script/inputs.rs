//! Steps that hand a node the inputs a host or its application gives: proposals (single,
//! batched, forwarded, term-fenced), membership changes, leader transfer, ReadIndex reads,
//! snapshots, pausing and resuming apply, draining and replaying, and hand-built messages.

use super::Script;
use raft_core::{MembershipChange, NodeId};
use sim::app::Application;
use sim::kv::{Command, KvOp};

impl<A: Application> Script<A> {
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

    /// `node` forwards `value` to its leader with reply inbox `reply` (not 0): the leader's
    /// answer comes back as a `forward-answer` event at `node` ([`Script::expect_forward_answer`]).
    pub fn forward_with_reply(
        &mut self,
        node: usize,
        reply: u64,
        value: &str,
    ) -> Result<(), String> {
        let data = self.command(value);
        self.begin(format!("forward n{node} {value} reply={reply}"));
        let outcome = self
            .w()
            .script_input(node, |n| n.forward_with_reply(reply, data));
        let result = flatten(outcome);
        self.note_result(&result);
        self.end();
        result
    }

    /// NRG `ProposeRemovePeer` at `node`: forwarded to its leader (decided at once when
    /// `node` leads), with reply inbox `reply` (0: no answer).
    pub fn forward_remove_peer(
        &mut self,
        node: usize,
        reply: u64,
        peer: usize,
    ) -> Result<(), String> {
        self.begin(format!("forward-remove-peer n{node} n{peer} reply={reply}"));
        let peer = NodeId(peer as u64);
        let outcome = self
            .w()
            .script_input(node, |n| n.forward_remove_peer(reply, peer));
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

    /// Begins a snapshot checkpoint at `node`'s applied index (NRG
    /// `CreateSnapshotCheckpoint(force)`); the application keeps a copy of its state there.
    pub fn begin_snapshot(&mut self, node: usize, force: bool) -> Result<Checkpoint, String> {
        let forced = if force { " forced" } else { "" };
        self.begin(format!("begin-snapshot n{node}{forced}"));
        let result = self
            .w()
            .script_begin_snapshot(node, force)
            .unwrap_or_else(|| Err("not running".into()))
            .map(|(checkpoint, data)| Checkpoint {
                node,
                checkpoint,
                data,
            });
        match &result {
            Ok(c) => {
                let text = format!(
                    "checkpoint index={} term={} previous={}",
                    c.checkpoint.index, c.checkpoint.term, c.checkpoint.previous
                );
                self.w().script_note(&text);
            }
            Err(e) => {
                let text = format!("refused: {e}");
                self.w().script_note(&text);
            }
        }
        self.end();
        result
    }

    /// The second step of `checkpoint`: compact and persist the snapshot; returns its index.
    pub fn finish_snapshot(&mut self, checkpoint: &Checkpoint) -> Result<u64, String> {
        let node = checkpoint.node;
        let index = checkpoint.checkpoint.index;
        self.begin(format!("finish-snapshot n{node} index={index}"));
        let result = self
            .w()
            .script_finish_snapshot(node, &checkpoint.checkpoint, checkpoint.data.clone())
            .unwrap_or_else(|| Err("not running".into()))
            .map(|()| index);
        self.note_result(&result);
        self.end();
        result
    }

    /// NRG `checkpoint.Abort`.
    pub fn abort_snapshot(&mut self, checkpoint: &Checkpoint) {
        let node = checkpoint.node;
        let index = checkpoint.checkpoint.index;
        self.begin(format!("abort-snapshot n{node} index={index}"));
        self.w().script_input(node, |n| {
            n.abort_snapshot(&checkpoint.checkpoint);
            Ok::<_, ()>(Vec::new())
        });
        self.end();
    }

    /// A forced snapshot at `node`'s applied index (NRG `InstallSnapshot(force: true)`).
    pub fn force_snapshot(&mut self, node: usize) -> Result<u64, String> {
        self.begin(format!("force-snapshot n{node}"));
        let result = self
            .w()
            .script_force_snapshot(node)
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

    /// The application of `node` starts over from its latest snapshot (NRG
    /// `DrainAndReplaySnapshot`): apply pauses until [`Script::resume_apply`].
    pub fn drain_and_replay(&mut self, node: usize) -> Result<(), String> {
        self.begin(format!("drain-and-replay n{node}"));
        let result = self
            .w()
            .script_drain_and_replay(node)
            .unwrap_or_else(|| Err("not running".into()));
        self.note_result(&result);
        self.end();
        result
    }

    /// `node` drops its log and snapshots and starts over as an empty follower keeping its
    /// term and vote (NRG `Reset`), answering for the log it held.
    pub fn reset(&mut self, node: usize) -> Result<(), String> {
        self.begin(format!("reset n{node}"));
        let result = self
            .w()
            .script_reset(node)
            .unwrap_or_else(|| Err("not running".into()));
        self.note_result(&result);
        self.end();
        result
    }

    /// The operator's rescue (NRG `RescueQuorum`): `node` counts `quorum` as the quorum for
    /// `ticks` ticks, or until the natural quorum is back.
    pub fn rescue_quorum(&mut self, node: usize, quorum: usize, ticks: u32) -> Result<(), String> {
        self.begin(format!(
            "rescue-quorum n{node} quorum={quorum} for {ticks} ticks"
        ));
        self.rescue(node, |n| n.rescue_quorum(quorum, ticks))
    }

    /// [`Script::rescue_quorum`] past `seen_term`, the highest term the operator read from
    /// the running servers: `node` adopts it first if it is behind.
    pub fn rescue_quorum_past(
        &mut self,
        node: usize,
        quorum: usize,
        ticks: u32,
        seen_term: u64,
    ) -> Result<(), String> {
        self.begin(format!(
            "rescue-quorum n{node} quorum={quorum} for {ticks} ticks past term {seen_term}"
        ));
        self.rescue(node, |n| n.rescue_quorum_past(quorum, ticks, seen_term))
    }

    fn rescue(
        &mut self,
        node: usize,
        input: impl FnOnce(
            &mut raft_core::Node,
        ) -> Result<Vec<raft_core::Action>, raft_core::RescueError>,
    ) -> Result<(), String> {
        let outcome = self.w().script_input(node, input);
        let result = flatten(outcome);
        self.note_result(&result);
        self.end();
        result
    }

    /// The operator's eviction (NRG `EvictPeers`): `node`, of a leaderless managed group,
    /// stops counting `peers` as members. Returns the peers evicted.
    pub fn evict_peers(&mut self, node: usize, peers: &[usize]) -> Result<Vec<usize>, String> {
        self.begin(format!("evict-peers n{node} {}", super::list(peers)));
        let ids: Vec<NodeId> = peers.iter().map(|&p| NodeId(p as u64)).collect();
        let mut evicted = Vec::new();
        let outcome = self.w().script_input(node, |n| {
            n.evict_peers(&ids).map(|(gone, actions)| {
                evicted = gone.iter().map(|p| p.0 as usize).collect();
                actions
            })
        });
        let result = flatten(outcome).map(|()| evicted);
        match &result {
            Ok(gone) => {
                let text = if gone.is_empty() {
                    "evicted none".to_string()
                } else {
                    format!("evicted {}", super::list(gone))
                };
                self.w().script_note(&text);
            }
            Err(_) => self.note_result(&result),
        }
        self.end();
        result
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
}

/// A snapshot checkpoint a script began, with the application's state at its index.
#[derive(Clone, Debug)]
pub struct Checkpoint {
    pub node: usize,
    pub checkpoint: raft_core::SnapshotCheckpoint,
    data: Vec<u8>,
}

fn flatten<E: std::fmt::Display>(outcome: Option<Result<(), E>>) -> Result<(), String> {
    match outcome {
        None => Err("not running".into()),
        Some(r) => r.map_err(|e| e.to_string()),
    }
}
