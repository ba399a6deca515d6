//! The cluster a scenario starts with, and the steps that boot it.

use super::messages::entry;
use super::{list, Script};
use raft_core::NodeId;
use sim::app::Application;
use sim::config::SimConfig;
use sim::world::World;

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
    managed: bool,
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
            managed: false,
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
    /// A managed group (`raft_core::Config::managed`): unknown peers are only observed, and
    /// the operator may evict peers.
    pub fn managed(mut self) -> Setup {
        self.managed = true;
        self
    }
    pub fn max_uncommitted_entries(mut self, entries: u64) -> Setup {
        self.max_uncommitted_entries = Some(entries);
        self
    }
}

impl<A: Application> Script<A> {
    /// Builds the cluster and boots its nodes. The first step of every scenario.
    pub fn setup(&mut self, setup: Setup) {
        let mut config = SimConfig::scripted();
        config.nodes = setup.nodes;
        config.election_timeout_min_ticks = 10;
        config.election_timeout_max_ticks = 20;
        config.heartbeat_ticks = 3;
        config.max_entries_per_message = 64;
        config.max_inflight_messages = 8;
        let s = setup.clone();
        let configure = Box::new(move |_node: usize, mut c: raft_core::Config| {
            if let Some(v) = &s.voters {
                c.voters = v.iter().map(|&n| NodeId(n as u64)).collect();
            }
            c.pre_vote = s.pre_vote;
            c.check_quorum = s.check_quorum;
            c.managed = s.managed;
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
        if setup.managed {
            text.push_str(", managed");
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
}
