//! raft-core alone against raft-rs (the `raft` crate 0.7), same workload, same process, same
//! run.
//!
//! The harness, identical on both sides:
//! - a 3-node cluster in memory, no simulator, no clock: node 1 campaigns and wins, then the
//!   loop runs rounds until the proposal count is reached;
//! - a round proposes `batch` entries (16-byte payloads, each a fresh `Vec<u8>`) one call at a
//!   time at the leader, then carries out the leader's output as one batch (one "ready");
//! - messages go into one FIFO queue and are delivered one at a time until the queue is empty;
//!   after every delivery the receiver's output is carried out at once;
//! - carrying out output = storage writes into an in-memory log (raft-core: a `Vec<Entry>`
//!   per node; raft-rs: its stock `MemStorage`), then the durability report (raft-core:
//!   `persisted(last id)`; raft-rs: `advance`), sends into the queue, committed entries
//!   counted and reported applied (raft-core: `applied`; raft-rs: `advance_apply`);
//!   raft-core's host uses the `*_into` inputs with one action buffer it drains and passes
//!   in again (raft-rs has no equivalent: each `Ready` is a new value);
//! - no ticks during the measured loop; PreVote and CheckQuorum off (raft-rs's defaults);
//!   up to 256 appends in flight per follower and up to 64 entries (or 1 MiB) per message;
//!   raft-rs's `skip_bcast_commit` on, so that, as in raft-core, followers learn the commit
//!   index with the next append instead of an extra broadcast.
//!
//! "Proposals committed" counts the leader's applied entries carrying a payload; "messages
//! stepped" counts deliveries (`Node::receive` / `RawNode::step`).

use super::report::Row;
use super::timing::{median, timed};
use super::Plan;
use raft_core::{Action, Config, Entry, EntryKind, HardState, Message, Node, NodeId, Recovered};
use serde_json::{json, Value};
use std::collections::VecDeque;

const PAYLOAD: [u8; 16] = *b"bench-payload-16";
const NODES: usize = 3;

/// What one measured run did.
#[derive(Clone, Copy, Debug, Default)]
struct Outcome {
    proposals: u64,
    messages: u64,
    /// CPU time of the (single) thread running the loop: immune to other tenants.
    seconds: f64,
    wall_seconds: f64,
}

impl Outcome {
    fn proposals_per_s(&self) -> f64 {
        self.proposals as f64 / self.seconds
    }
    fn messages_per_s(&self) -> f64 {
        self.messages as f64 / self.seconds
    }
}

// ----- raft-core -------------------------------------------------------------------------

struct CoreCluster {
    nodes: Vec<Node>,
    /// What each node's storage holds.
    logs: Vec<Vec<Entry>>,
    hard_states: Vec<HardState>,
    /// (to, from, message), delivered in order.
    network: VecDeque<(usize, NodeId, Message)>,
    /// The action buffer handed to every `*_into` call and drained after it.
    actions: Vec<Action>,
    committed: u64,
    stepped: u64,
}

impl CoreCluster {
    fn new() -> CoreCluster {
        let voters: Vec<NodeId> = (1..=NODES as u64).map(NodeId).collect();
        let nodes = voters
            .iter()
            .map(|&id| {
                let mut config = Config::new(id, voters.clone(), id.0);
                config.max_entries_per_message = 64;
                config.max_inflight_messages = 256;
                config.max_bytes_per_message = 1 << 20;
                config.pre_vote = false;
                config.check_quorum = false;
                Node::new(config, Recovered::default()).expect("valid configuration")
            })
            .collect();
        let mut cluster = CoreCluster {
            nodes,
            logs: vec![Vec::new(); NODES],
            hard_states: vec![HardState::default(); NODES],
            network: VecDeque::new(),
            actions: Vec::new(),
            committed: 0,
            stepped: 0,
        };
        cluster.actions = cluster.nodes[0].campaign();
        cluster.host(0);
        cluster.deliver_all();
        assert!(
            cluster.nodes[0].is_ready_leader(),
            "node 1 leads after its campaign"
        );
        cluster
    }

    /// Carries out a node's output (in `self.actions`) like a host with synchronous
    /// in-memory storage.
    fn host(&mut self, i: usize) {
        let from = NodeId(i as u64 + 1);
        let mut actions = std::mem::take(&mut self.actions);
        loop {
            let mut durable = None;
            let mut applied = None;
            for action in actions.drain(..) {
                match action {
                    Action::Persist {
                        id,
                        hard_state,
                        log,
                        ..
                    } => {
                        if let Some(hs) = hard_state {
                            self.hard_states[i] = hs;
                        }
                        if let Some(write) = log {
                            let stored = &mut self.logs[i];
                            stored.truncate(write.prev_index as usize);
                            stored.extend(write.entries);
                        }
                        durable = Some(id);
                    }
                    Action::Send { to, message } => {
                        self.network.push_back((to.0 as usize - 1, from, message))
                    }
                    Action::Apply { entries } => {
                        if i == 0 {
                            self.committed += entries
                                .iter()
                                .filter(|e| e.kind == EntryKind::Normal && !e.data.is_empty())
                                .count() as u64;
                        }
                        applied = entries.last().map(|e| e.index).or(applied);
                    }
                    _ => {}
                }
            }
            // Report durability, then progress of the application; carry out what follows.
            let node = &mut self.nodes[i];
            if let Some(id) = durable {
                node.persisted_into(id, &mut actions)
                    .expect("issued by the node");
            }
            if let Some(index) = applied {
                node.applied_into(index, &mut actions)
                    .expect("handed out by the node");
            }
            if actions.is_empty() {
                self.actions = actions;
                return;
            }
        }
    }

    fn deliver_all(&mut self) {
        while let Some((to, from, message)) = self.network.pop_front() {
            self.stepped += 1;
            self.nodes[to].receive_into(from, message, &mut self.actions);
            self.host(to);
        }
    }

    fn round(&mut self, batch: u64) {
        let term = self.nodes[0].term();
        for _ in 0..batch {
            self.nodes[0]
                .propose_into(term, PAYLOAD.to_vec(), &mut self.actions)
                .expect("the leader accepts");
        }
        self.host(0);
        self.deliver_all();
    }
}

fn run_core(proposals: u64, batch: u64) -> Outcome {
    let mut cluster = CoreCluster::new();
    let (committed0, stepped0) = (cluster.committed, cluster.stepped);
    let ((), timing) = timed(|| {
        for _ in 0..proposals / batch {
            cluster.round(batch);
        }
    });
    let outcome = Outcome {
        proposals: cluster.committed - committed0,
        messages: cluster.stepped - stepped0,
        seconds: timing.cpu.as_secs_f64(),
        wall_seconds: timing.wall.as_secs_f64(),
    };
    assert_eq!(
        outcome.proposals,
        proposals / batch * batch,
        "raft-core committed every proposal"
    );
    assert_eq!(
        cluster.logs[0].len() as u64,
        cluster.nodes[0].last_index(),
        "the leader's log is durable"
    );
    std::hint::black_box(&cluster.hard_states);
    outcome
}

// ----- raft-rs ---------------------------------------------------------------------------

#[cfg(feature = "raft-rs-bench")]
mod rs {
    use super::{Outcome, NODES, PAYLOAD};
    use raft::eraftpb::{ConfState, EntryType, Message};
    use raft::storage::MemStorage;
    use raft::{Config, RawNode, StateRole};
    use std::collections::VecDeque;

    struct RsCluster {
        nodes: Vec<RawNode<MemStorage>>,
        network: VecDeque<Message>,
        committed: u64,
        stepped: u64,
    }

    impl RsCluster {
        fn new() -> RsCluster {
            let logger = slog::Logger::root(slog::Discard, slog::o!());
            let voters: Vec<u64> = (1..=NODES as u64).collect();
            let nodes = voters
                .iter()
                .map(|&id| {
                    let storage =
                        MemStorage::new_with_conf_state(ConfState::from((voters.clone(), vec![])));
                    let config = Config {
                        id,
                        election_tick: 10,
                        heartbeat_tick: 3,
                        max_size_per_msg: 1 << 20,
                        max_inflight_msgs: 256,
                        skip_bcast_commit: true,
                        ..Config::default()
                    };
                    RawNode::new(&config, storage, &logger).expect("valid configuration")
                })
                .collect();
            let mut cluster = RsCluster {
                nodes,
                network: VecDeque::new(),
                committed: 0,
                stepped: 0,
            };
            cluster.nodes[0].campaign().expect("campaign");
            cluster.host(0);
            cluster.deliver_all();
            assert_eq!(
                cluster.nodes[0].raft.state,
                StateRole::Leader,
                "node 1 leads after its campaign"
            );
            cluster
        }

        fn count(&mut self, i: usize, entries: &[raft::eraftpb::Entry]) {
            if i == 0 {
                self.committed += entries
                    .iter()
                    .filter(|e| e.get_entry_type() == EntryType::EntryNormal && !e.data.is_empty())
                    .count() as u64;
            }
        }

        /// The canonical raft-rs Ready loop with synchronous in-memory storage.
        fn host(&mut self, i: usize) {
            while self.nodes[i].has_ready() {
                let mut ready = self.nodes[i].ready();
                self.network.extend(ready.take_messages());
                let committed = ready.take_committed_entries();
                self.count(i, &committed);
                let node = &mut self.nodes[i];
                if !ready.entries().is_empty() {
                    node.mut_store()
                        .wl()
                        .append(ready.entries())
                        .expect("append");
                }
                if let Some(hs) = ready.hs() {
                    node.mut_store().wl().set_hardstate(hs.clone());
                }
                self.network.extend(ready.take_persisted_messages());
                let node = &mut self.nodes[i];
                let mut light = node.advance(ready);
                if let Some(commit) = light.commit_index() {
                    node.mut_store().wl().mut_hard_state().set_commit(commit);
                }
                self.network.extend(light.take_messages());
                let committed = light.take_committed_entries();
                self.count(i, &committed);
                self.nodes[i].advance_apply();
            }
        }

        fn deliver_all(&mut self) {
            while let Some(message) = self.network.pop_front() {
                self.stepped += 1;
                let to = message.to as usize - 1;
                self.nodes[to].step(message).expect("step");
                self.host(to);
            }
        }

        fn round(&mut self, batch: u64) {
            for _ in 0..batch {
                self.nodes[0]
                    .propose(vec![], PAYLOAD.to_vec())
                    .expect("the leader accepts");
            }
            self.host(0);
            self.deliver_all();
        }
    }

    pub(super) fn run(proposals: u64, batch: u64) -> Outcome {
        let mut cluster = RsCluster::new();
        let (committed0, stepped0) = (cluster.committed, cluster.stepped);
        let ((), timing) = crate::bench::timing::timed(|| {
            for _ in 0..proposals / batch {
                cluster.round(batch);
            }
        });
        let outcome = Outcome {
            proposals: cluster.committed - committed0,
            messages: cluster.stepped - stepped0,
            seconds: timing.cpu.as_secs_f64(),
            wall_seconds: timing.wall.as_secs_f64(),
        };
        assert_eq!(
            outcome.proposals,
            proposals / batch * batch,
            "raft-rs committed every proposal"
        );
        outcome
    }
}

fn run_rs(proposals: u64, batch: u64) -> Option<Outcome> {
    #[cfg(feature = "raft-rs-bench")]
    {
        Some(rs::run(proposals, batch))
    }
    #[cfg(not(feature = "raft-rs-bench"))]
    {
        let _ = (proposals, batch);
        None
    }
}

/// One run of either side, for a profiler.
pub(super) fn profile(which: &str, batch: u64) -> Value {
    let outcome = if which == "raft-core" {
        Some(run_core(100_000, batch))
    } else {
        run_rs(100_000, batch)
    };
    match outcome {
        Some(o) => {
            json!({ "proposals": o.proposals, "messages": o.messages, "seconds": o.seconds })
        }
        None => json!({ "error": "raft-rs not built (feature raft-rs-bench)" }),
    }
}

pub(super) fn rows(plan: &Plan, rows: &mut Vec<Row>, details: &mut serde_json::Map<String, Value>) {
    let mut all = serde_json::Map::new();
    for batch in [1u64, 64] {
        // Fewer proposals at batch 1: every proposal is a full round trip.
        let proposals = if batch == 1 {
            plan.raft_proposals / 4
        } else {
            plan.raft_proposals
        };
        let (mut core, mut rs) = (Vec::new(), Vec::new());
        // Warm-up, not measured.
        run_core(proposals / 10, batch);
        run_rs(proposals / 10, batch);
        for _ in 0..plan.reps {
            core.push(run_core(proposals, batch));
            if let Some(o) = run_rs(proposals, batch) {
                rs.push(o);
            }
        }
        let core_p = median(core.iter().map(Outcome::proposals_per_s).collect());
        let core_m = median(core.iter().map(Outcome::messages_per_s).collect());
        let per_proposal = |o: &[Outcome]| {
            o.first()
                .map_or(f64::NAN, |o| o.messages as f64 / o.proposals as f64)
        };
        let label = format!("batch {batch}");
        rows.push(
            Row::new(
                "raft",
                format!("raft-core, {label}: proposals committed/s"),
                core_p,
                "/s",
            )
            .note(format!(
                "{proposals} proposals, 3 nodes, in memory; per CPU-second of the loop"
            )),
        );
        rows.push(
            Row::new(
                "raft",
                format!("raft-core, {label}: messages stepped/s"),
                core_m,
                "/s",
            )
            .note(format!("{:.2} messages per proposal", per_proposal(&core))),
        );
        let mut entry = json!({
            "proposals": proposals,
            "raft_core": { "proposals_per_s": core_p, "messages_per_s": core_m, "messages_per_proposal": per_proposal(&core) },
        });
        if rs.is_empty() {
            rows.push(
                Row::new("raft", format!("raft-rs 0.7, {label}"), f64::NAN, "/s")
                    .note("not built (cargo feature raft-rs-bench; see the build error above)"),
            );
        } else {
            let rs_p = median(rs.iter().map(Outcome::proposals_per_s).collect());
            let rs_m = median(rs.iter().map(Outcome::messages_per_s).collect());
            // The median of per-repetition ratios: each pair ran back to back.
            let ratio = median(
                core.iter()
                    .zip(&rs)
                    .map(|(c, r)| c.proposals_per_s() / r.proposals_per_s())
                    .collect(),
            );
            let wall_ratio = median(
                core.iter()
                    .zip(&rs)
                    .map(|(c, r)| r.wall_seconds / c.wall_seconds)
                    .collect(),
            );
            rows.push(Row::new(
                "raft",
                format!("raft-rs 0.7, {label}: proposals committed/s"),
                rs_p,
                "/s",
            ));
            rows.push(
                Row::new(
                    "raft",
                    format!("raft-rs 0.7, {label}: messages stepped/s"),
                    rs_m,
                    "/s",
                )
                .note(format!("{:.2} messages per proposal", per_proposal(&rs))),
            );
            rows.push(
                Row::new(
                    "raft",
                    format!("raft-core / raft-rs, {label}: proposals/s"),
                    ratio,
                    "ratio",
                )
                .target(">= 3", ratio >= 3.0)
                .note(format!("on CPU time; on wall-clock time {wall_ratio:.2}")),
            );
            entry["raft_rs"] = json!({ "proposals_per_s": rs_p, "messages_per_s": rs_m, "messages_per_proposal": per_proposal(&rs) });
            entry["ratio_proposals_per_s"] = json!(ratio);
            entry["ratio_wall_clock"] = json!(wall_ratio);
        }
        all.insert(label, entry);
    }
    details.insert("raft_core_vs_raft_rs".into(), Value::Object(all));
}
