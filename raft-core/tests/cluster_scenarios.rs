//! Whole-cluster scenarios over a tiny synchronous host: the snapshot and membership rules
//! working together (a follower catches up through a chunked snapshot, a new voter joins
//! behind the compaction point, the leader removes itself and a successor takes over).
//! The exact per-rule actions are pinned in `tests/rules/`; these check the composition.

use bytes::Bytes;
use raft_core::{Action, Config, Message, Node, NodeId, Recovered, Role};
use std::collections::{BTreeMap, BTreeSet, VecDeque};

/// Nodes with synchronous durable storage, a lossless network (except for cut links) and an
/// application that records what it applied.
struct Cluster {
    nodes: BTreeMap<u64, Node>,
    /// The application state of each node: every applied entry's data, or a snapshot's.
    applied: BTreeMap<u64, Vec<Bytes>>,
    network: VecDeque<(u64, u64, Message)>,
    cut: BTreeSet<u64>,
}

fn config(id: u64, voters: &[u64]) -> Config {
    Config {
        max_bytes_per_message: 8,
        ..Config::new(
            NodeId(id),
            voters.iter().copied().map(NodeId).collect(),
            id * 31,
        )
    }
}

impl Cluster {
    fn new(voters: &[u64]) -> Cluster {
        let mut cluster = Cluster {
            nodes: BTreeMap::new(),
            applied: BTreeMap::new(),
            network: VecDeque::new(),
            cut: BTreeSet::new(),
        };
        for &id in voters {
            cluster.add_node(id, voters);
        }
        cluster
    }

    fn add_node(&mut self, id: u64, voters: &[u64]) {
        let node = Node::new(config(id, voters), Recovered::default()).unwrap();
        self.nodes.insert(id, node);
        self.applied.insert(id, Vec::new());
    }

    fn node(&mut self, id: u64) -> &mut Node {
        self.nodes.get_mut(&id).unwrap()
    }

    /// Carries out `actions` of node `id` like a prompt host.
    fn host(&mut self, id: u64, actions: Vec<Action>) {
        let mut queue = VecDeque::from(actions);
        while let Some(action) = queue.pop_front() {
            let more = match action {
                Action::Persist { id: p, .. } | Action::PersistSnapshot { id: p, .. } => {
                    self.node(id).persisted(p).unwrap()
                }
                Action::Send { to, message } => {
                    self.network.push_back((id, to.0, message));
                    vec![]
                }
                Action::Apply { entries } => {
                    let last = entries.last().unwrap().index;
                    let state = self.applied.get_mut(&id).unwrap();
                    state.extend(entries.into_iter().map(|e| e.data));
                    self.node(id).applied(last).unwrap()
                }
                Action::ApplySnapshot { snapshot, data } => {
                    *self.applied.get_mut(&id).unwrap() = vec![data];
                    self.node(id).applied(snapshot.index).unwrap()
                }
                Action::ResetStorage { .. } => {
                    self.applied.get_mut(&id).unwrap().clear();
                    vec![]
                }
                Action::RoleChanged { .. }
                | Action::LeaderChanged { .. }
                | Action::ReadReady { .. }
                | Action::ForwardAnswered { .. } => vec![],
                Action::ReadLog { from, to } => panic!(
                    "read of {from}..={to} asked, but these clusters never set a log cache bound"
                ),
            };
            queue.extend(more);
        }
    }

    /// Delivers messages until the network is quiet (messages to or from cut nodes are lost).
    fn settle(&mut self) {
        while let Some((from, to, message)) = self.network.pop_front() {
            if self.cut.contains(&from) || self.cut.contains(&to) || !self.nodes.contains_key(&to) {
                continue;
            }
            let actions = self.node(to).receive(NodeId(from), message);
            self.host(to, actions);
        }
    }

    /// Ticks every node `count` times, settling the network after each tick.
    fn tick(&mut self, count: u32) {
        for _ in 0..count {
            self.tick_without_delivery();
            self.settle();
        }
    }

    /// Ticks every node once; what they send stays in the network.
    fn tick_without_delivery(&mut self) {
        let ids: Vec<u64> = self.nodes.keys().copied().collect();
        for id in ids {
            let actions = self.node(id).tick();
            self.host(id, actions);
        }
    }

    fn leader(&self) -> Option<u64> {
        self.nodes
            .iter()
            .find(|(_, n)| n.role() == Role::Leader && n.is_ready_leader())
            .map(|(&id, _)| id)
    }

    fn elect(&mut self) -> u64 {
        for _ in 0..200 {
            if let Some(leader) = self.leader() {
                return leader;
            }
            self.tick(1);
        }
        panic!("no leader elected");
    }

    fn propose(&mut self, data: &str) {
        let leader = self.elect();
        let term = self.node(leader).term();
        let proposed = self.node(leader).propose(term, data.to_string()).unwrap();
        self.host(leader, proposed.actions);
        self.settle();
    }
}

#[test]
fn lagging_follower_catches_up_through_a_chunked_snapshot_then_entries() {
    let mut cluster = Cluster::new(&[1, 2, 3]);
    let leader = cluster.elect();
    let lagging = if leader == 3 { 2 } else { 3 };
    cluster.cut.insert(lagging);
    for i in 0..10 {
        cluster.propose(&format!("entry {i}"));
    }
    // The leader compacts everything applied: the lagging follower's next entry is gone.
    let applied = cluster.node(leader).applied_index();
    let actions = cluster
        .node(leader)
        .install_snapshot(applied, Bytes::from_static(b"the state after ten entries"))
        .unwrap();
    cluster.host(leader, actions);
    cluster.propose("after the snapshot");
    cluster.cut.clear();
    cluster.tick(10);

    let leader_commit = cluster.node(leader).commit_index();
    let node = cluster.node(lagging);
    assert_eq!(node.snapshot_index(), applied);
    assert_eq!(node.commit_index(), leader_commit);
    assert_eq!(node.applied_index(), node.commit_index());
    let state = &cluster.applied[&lagging];
    assert_eq!(state[0], Bytes::from_static(b"the state after ten entries"));
    assert_eq!(state.last().unwrap(), &Bytes::from("after the snapshot"));
}

#[test]
fn new_voter_joins_behind_the_compaction_point_and_the_leader_removes_itself() {
    let mut cluster = Cluster::new(&[1, 2, 3]);
    for i in 0..5 {
        cluster.propose(&format!("entry {i}"));
    }
    let leader = cluster.elect();
    let applied = cluster.node(leader).applied_index();
    let actions = cluster
        .node(leader)
        .install_snapshot(applied, Bytes::from_static(b"snapshot"))
        .unwrap();
    cluster.host(leader, actions);

    // n4 starts empty, knowing the cluster; it is not a voter until the change says so.
    cluster.add_node(4, &[1, 2, 3]);
    let term = cluster.node(leader).term();
    let proposed = cluster
        .node(leader)
        .propose_add_voter(term, NodeId(4))
        .unwrap();
    cluster.host(leader, proposed.actions);
    cluster.tick(10);
    assert_eq!(cluster.node(4).voters().count(), 4);
    assert_eq!(cluster.node(4).snapshot_index(), applied);
    assert_eq!(cluster.node(leader).pending_membership_change(), None);

    // The leader removes itself: it leads until the removal commits, then steps down, and
    // the other three elect a successor among them.
    let proposed = cluster
        .node(leader)
        .propose_remove_peer(term, NodeId(leader))
        .unwrap();
    cluster.host(leader, proposed.actions);
    cluster.settle();
    assert_eq!(cluster.node(leader).role(), Role::Follower);
    cluster.tick(100);
    let successor = cluster.elect();
    assert_ne!(successor, leader);
    cluster.propose("after the change");
    cluster.tick(5); // followers learn the commit index from the next heartbeat
    let commit = cluster.node(successor).commit_index();
    for id in [1, 2, 3, 4].into_iter().filter(|&id| id != leader) {
        assert_eq!(cluster.node(id).commit_index(), commit, "n{id}");
        assert!(!cluster.node(id).voters().any(|v| v == NodeId(leader)));
    }
    assert!(
        cluster.node(leader).commit_index() < commit,
        "the removed node is left out"
    );
}

#[test]
fn follower_that_crashes_mid_transfer_gets_the_snapshot_from_the_start() {
    let mut cluster = Cluster::new(&[1, 2, 3]);
    let leader = cluster.elect();
    let lagging = if leader == 3 { 2 } else { 3 };
    cluster.cut.insert(lagging);
    for i in 0..10 {
        cluster.propose(&format!("entry {i}"));
    }
    let applied = cluster.node(leader).applied_index();
    let actions = cluster
        .node(leader)
        .install_snapshot(applied, Bytes::from_static(b"a state of several chunks"))
        .unwrap();
    cluster.host(leader, actions);
    cluster.cut.clear();

    // Deliver until the second chunk is on its way, then crash the follower: it restarts
    // from its durable state (synchronous storage: its hard state and log) and has lost the
    // chunk it had.
    let mut crashed = false;
    for _ in 0..1000 {
        if crashed && cluster.network.is_empty() {
            break;
        }
        if cluster.network.is_empty() {
            cluster.tick_without_delivery();
            continue;
        }
        let (from, to, message) = cluster.network.pop_front().unwrap();
        if let Message::InstallSnapshot(m) = &message {
            if to == lagging && m.offset > 0 && !crashed {
                crashed = true;
                let old = cluster.nodes.remove(&lagging).unwrap();
                let recovered = Recovered {
                    hard_state: old.hard_state(),
                    log: old.log().to_vec(),
                    ..Recovered::default()
                };
                let node = Node::new(config(lagging, &[1, 2, 3]), recovered).unwrap();
                cluster.nodes.insert(lagging, node);
            }
        }
        let actions = cluster.node(to).receive(NodeId(from), message);
        cluster.host(to, actions);
    }
    assert!(crashed, "the transfer took more than one chunk");
    cluster.tick(10);

    assert_eq!(cluster.node(lagging).snapshot_index(), applied);
    assert_eq!(
        cluster.applied[&lagging][0],
        Bytes::from_static(b"a state of several chunks")
    );
    let commit = cluster.node(leader).commit_index();
    assert_eq!(cluster.node(lagging).commit_index(), commit);
}
