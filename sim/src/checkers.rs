//! Raft's safety properties, checked incrementally after every event. Each property lives in
//! one function here. Per-event cost does not grow with the length of the history: checks
//! touch only the entries an event changed, using prefix hashes for whole-log comparisons.

use crate::config::Micros;
use raft_core::{Entry, HardState, LogWrite, Message, NodeId, Role};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::fmt;
use std::hash::{BuildHasherDefault, Hasher};

/// The properties the simulator checks.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum Property {
    /// At most one leader per term, ever, across crashes.
    ElectionSafety,
    /// A node becomes leader of a term only with that term's votes of a majority of the
    /// voters of its own configuration: grants the voters sent, or their own durable vote
    /// (its own counts only when it is a voter). Checked when it wins, so a miscounted
    /// election is caught even when no rival ever wins the same term.
    ElectedByQuorum,
    /// A leader never overwrites or deletes entries in its log during its term.
    LeaderAppendOnly,
    /// Two logs with an entry of the same index and term are identical up to it.
    LogMatching,
    /// A new leader holds every entry committed before its term.
    LeaderCompleteness,
    /// The entry applied at an index is the same on every node in every lifetime.
    StateMachineSafety,
    /// Every committed entry is on the durable logs of a quorum: it survives if every node
    /// crashes now.
    CommittedDurableOnQuorum,
    /// No voter lacking a committed entry could collect a majority of votes, whichever of
    /// its logs (in memory, or on disk after a crash) it campaigned with: the vote
    /// restriction guards every commit, which is what keeps Leader Completeness true in
    /// every later term. Checked when the committed prefix grows.
    CommitGuardedByVotes,
    /// When a leader appends a membership change, no node behind it in term could still win
    /// an election in a configuration some majority of which shares no voter with some
    /// majority of the new one: both could go on to commit, each without the other's
    /// entries. Single-server changes keep every two consecutive configurations'
    /// majorities overlapping, but a change made by a new leader before an entry of its own
    /// term is committed can follow a change of the previous leader it never saw, and two
    /// changes away from a configuration with an even number of voters the majorities can
    /// be disjoint (Ongaro, raft-dev 2015). Checked at the append, before either commits.
    ConfigurationOverlap,
    /// A node's durable term never decreases, across restarts.
    TermMonotonic,
    /// A node grants at most one vote per term, across restarts.
    OneVotePerTerm,
    /// The commit index never exceeds the log.
    CommitWithinLog,
    /// Every vote grant or acknowledgement attests only durable state.
    PersistBeforeSend,
    /// The client history is linearizable.
    Linearizability,
    /// After the faults stop, a stable leader appears and new writes commit in time.
    Liveness,
    /// The run panicked (a bug in the core or the simulator); reported by sweeps and hunts.
    Panic,
}

impl Property {
    pub fn name(self) -> &'static str {
        match self {
            Property::ElectionSafety => "election-safety",
            Property::ElectedByQuorum => "elected-by-quorum",
            Property::LeaderAppendOnly => "leader-append-only",
            Property::LogMatching => "log-matching",
            Property::LeaderCompleteness => "leader-completeness",
            Property::StateMachineSafety => "state-machine-safety",
            Property::CommittedDurableOnQuorum => "committed-durable-on-quorum",
            Property::CommitGuardedByVotes => "commit-guarded-by-votes",
            Property::ConfigurationOverlap => "configuration-overlap",
            Property::TermMonotonic => "term-monotonic",
            Property::OneVotePerTerm => "one-vote-per-term",
            Property::CommitWithinLog => "commit-within-log",
            Property::PersistBeforeSend => "persist-before-send",
            Property::Linearizability => "linearizability",
            Property::Liveness => "liveness",
            Property::Panic => "panic",
        }
    }

    pub fn is_safety(self) -> bool {
        self != Property::Liveness
    }
}

impl fmt::Display for Property {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A property that failed, where and when.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Violation {
    pub property: Property,
    pub time: Micros,
    pub node: Option<usize>,
    pub detail: String,
}

impl fmt::Display for Violation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} at t={}us", self.property, self.time)?;
        if let Some(n) = self.node {
            write!(f, " on n{n}")?;
        }
        write!(f, ": {}", self.detail)
    }
}

/// One step of the checkers' word-at-a-time hash (a multiply-xorshift mix). The hashes only
/// compare logs inside one run; they are never shown or stored.
fn mix(hash: u64, word: u64) -> u64 {
    let x = (hash ^ word).wrapping_mul(0x9e37_79b9_7f4a_7c15);
    x ^ (x >> 32)
}

fn hash_bytes(bytes: &[u8], mut hash: u64) -> u64 {
    let mut words = bytes.chunks_exact(8);
    for word in &mut words {
        hash = mix(hash, u64::from_le_bytes(word.try_into().expect("8 bytes")));
    }
    let mut last = [0u8; 8];
    last[..words.remainder().len()].copy_from_slice(words.remainder());
    mix(mix(hash, u64::from_le_bytes(last)), bytes.len() as u64)
}

/// Whether node `node` is in the voter mask `mask` (bit `i` is node `i`).
fn in_mask(mask: u64, node: usize) -> bool {
    node < 64 && mask & (1 << node) != 0
}

/// Whether some majority of the voters `a` and some majority of the voters `b` (masks) can
/// have no voter in common.
fn majorities_can_be_disjoint(a: u64, b: u64) -> bool {
    // Fill each majority from its own side first; only the rest needs shared voters.
    let own_side = |x: u64, y: u64| (x & !y).count_ones() as usize;
    let shared_needed =
        quorum(a).saturating_sub(own_side(a, b)) + quorum(b).saturating_sub(own_side(b, a));
    shared_needed <= (a & b).count_ones() as usize
}

/// The size of a majority of the voters `voters` (a mask).
fn quorum(voters: u64) -> usize {
    voters.count_ones() as usize / 2 + 1
}

/// A voter mask as `{n0,n2}`.
fn fmt_mask(mask: u64) -> String {
    let nodes: Vec<String> = (0..64)
        .filter(|&i| in_mask(mask, i))
        .map(|i| format!("n{i}"))
        .collect();
    format!("{{{}}}", nodes.join(","))
}

/// Hash of one entry's identity and content.
pub fn entry_hash(entry: &Entry) -> u64 {
    let mut h = mix(0xcbf2_9ce4_8422_2325, entry.term);
    h = mix(h, entry.index);
    h = mix(h, entry.kind as u64);
    hash_bytes(&entry.data, h)
}

fn chain(prev: u64, entry: u64) -> u64 {
    mix(mix(0x1000_0000_01b3, prev), entry)
}

/// rustc's FxHash, for the checkers' maps: keyed by small integers, never iterated, so a fast
/// unkeyed hash changes nothing observable (SipHash was a measurable share of every event).
#[derive(Clone, Copy, Default)]
struct FxHasher(u64);

impl Hasher for FxHasher {
    fn write(&mut self, bytes: &[u8]) {
        for chunk in bytes.chunks(8) {
            let mut word = [0u8; 8];
            word[..chunk.len()].copy_from_slice(chunk);
            self.write_u64(u64::from_le_bytes(word));
        }
    }
    fn write_u64(&mut self, word: u64) {
        self.0 = (self.0.rotate_left(5) ^ word).wrapping_mul(0x51_7c_c1_b7_27_22_0a_95);
    }
    fn write_usize(&mut self, word: usize) {
        self.write_u64(word as u64);
    }
    fn finish(&self) -> u64 {
        self.0
    }
}

type FxMap<K, V> = HashMap<K, V, BuildHasherDefault<FxHasher>>;

/// What the checkers keep of one log position: the prefix hash up to it and its term.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
struct Point {
    prefix: u64,
    term: u64,
}

/// Prefix hashes of one log, after an optional snapshot base.
#[derive(Clone, Debug, Default)]
struct PrefixLog {
    /// Entries up to `base_index` are covered by a snapshot; `base` is the point there
    /// (0/0 without a snapshot).
    base_index: u64,
    base: Point,
    /// `points[i]` is the entry at `base_index + 1 + i`.
    points: Vec<Point>,
}

impl PrefixLog {
    fn point(&self, index: u64) -> Option<Point> {
        match index.cmp(&self.base_index) {
            std::cmp::Ordering::Less => None,
            std::cmp::Ordering::Equal => Some(self.base),
            std::cmp::Ordering::Greater => self
                .points
                .get((index - self.base_index) as usize - 1)
                .copied(),
        }
    }
    fn at(&self, index: u64) -> Option<u64> {
        self.point(index).map(|p| p.prefix)
    }
    fn term_at(&self, index: u64) -> Option<u64> {
        self.point(index).map(|p| p.term)
    }
    /// The index is inside the snapshot: committed state, known to match.
    fn covers(&self, index: u64) -> bool {
        index <= self.base_index
    }
    fn len(&self) -> u64 {
        self.base_index + self.points.len() as u64
    }
    /// (last term, last index): what a vote compares.
    fn last(&self) -> (u64, u64) {
        let term = self.points.last().map_or(self.base.term, |p| p.term);
        (term, self.len())
    }
    /// Whether the log holds the committed prefix `prefix` at `index`.
    fn holds(&self, index: u64, prefix: u64) -> bool {
        self.covers(index) || self.at(index) == Some(prefix)
    }
    fn write(&mut self, prev_index: u64, entries: &[Entry]) {
        let skip = self.base_index.saturating_sub(prev_index) as usize;
        self.points
            .truncate(prev_index.saturating_sub(self.base_index) as usize);
        for entry in entries.iter().skip(skip) {
            let prev = self.points.last().map_or(self.base.prefix, |p| p.prefix);
            self.points.push(Point {
                prefix: chain(prev, entry_hash(entry)),
                term: entry.term,
            });
        }
    }
    fn reset(&mut self, entries: &[Entry]) {
        *self = PrefixLog::default();
        self.write(0, entries);
    }
    /// A snapshot at `index` (prefix hash `prefix`, term `term`) now covers the log up to
    /// there; with `discard` the log after it is dropped too.
    fn rebase(&mut self, index: u64, prefix: u64, term: u64, discard: bool) {
        if index <= self.base_index {
            return;
        }
        let drop = ((index - self.base_index) as usize).min(self.points.len());
        let reached = self.base_index + drop as u64 == index;
        self.points.drain(..drop);
        if discard || !reached {
            self.points.clear();
        }
        self.base_index = index;
        self.base = Point { prefix, term };
    }
}

/// The incremental safety checkers for one run.
#[derive(Clone, Debug)]
pub struct Checkers {
    /// Every node, as a voter mask (bit `i` is node `i`): the voters a committed index is
    /// checked against when no leader's commit covers it.
    all_nodes: u64,
    /// `(commit index, voters)`: a leader advanced its commit index to `commit index` while
    /// its membership had these voters (a mask). Increasing in index; consecutive records
    /// have different voters; records below the highest applied index are dropped. A
    /// committed entry must be durable on a majority of the voters of the leader that
    /// committed it (with membership changes, not of every node).
    leader_commits: std::collections::VecDeque<(u64, u64)>,
    /// Each node's own voters (a mask), as its log last said: the configuration it would
    /// campaign in. 0 until the host reports it.
    node_voters: Vec<u64>,
    leader_of_term: FxMap<u64, usize>,
    roles: Vec<(Role, u64)>,
    /// (index, term) -> prefix hash, over every log ever seen.
    seen: FxMap<(u64, u64), u64>,
    memory: Vec<PrefixLog>,
    durable: Vec<PrefixLog>,
    durable_hard_state: Vec<HardState>,
    max_durable_term: Vec<u64>,
    /// Prefix hash at every committed index.
    committed: Vec<u64>,
    /// The term in which each index became committed (the committing leader's term). Never
    /// decreases along the log: commits happen in index order and leaders' terms grow.
    committed_in_term: Vec<u64>,
    applied: Vec<u64>,
    votes: FxMap<(usize, u64), NodeId>,
    pub first_violation: Option<Violation>,
}

impl Checkers {
    pub fn new(nodes: usize) -> Checkers {
        Checkers {
            all_nodes: if nodes >= 64 {
                u64::MAX
            } else {
                (1u64 << nodes) - 1
            },
            leader_commits: std::collections::VecDeque::new(),
            node_voters: vec![0; nodes],
            leader_of_term: FxMap::default(),
            roles: vec![(Role::Follower, 0); nodes],
            seen: FxMap::default(),
            memory: vec![PrefixLog::default(); nodes],
            durable: vec![PrefixLog::default(); nodes],
            durable_hard_state: vec![HardState::default(); nodes],
            max_durable_term: vec![0; nodes],
            committed: Vec::new(),
            committed_in_term: Vec::new(),
            applied: Vec::new(),
            votes: FxMap::default(),
            first_violation: None,
        }
    }

    fn fail(&mut self, property: Property, time: Micros, node: Option<usize>, detail: String) {
        if self.first_violation.is_none() {
            self.first_violation = Some(Violation {
                property,
                time,
                node,
                detail,
            });
        }
    }

    pub fn violated(&self) -> bool {
        self.first_violation.is_some()
    }

    /// Election safety (history form) and leader completeness, at every role change.
    pub fn on_role(&mut self, now: Micros, node: usize, role: Role, term: u64) {
        self.roles[node] = (role, term);
        if role != Role::Leader {
            return;
        }
        match self.leader_of_term.get(&term) {
            Some(&other) if other != node => self.fail(
                Property::ElectionSafety,
                now,
                Some(node),
                format!("n{node} became leader of term {term}, which n{other} already led"),
            ),
            _ => {
                self.leader_of_term.insert(term, node);
            }
        }
        self.check_elected_by_quorum(now, node, term);
        // Leader completeness: everything committed in an earlier term is in this leader's log.
        // Entries committed in this term or later (seen first when a paused leader wakes up
        // late) are not owed.
        let owed = self.committed_in_term.partition_point(|&t| t < term) as u64;
        let log = &self.memory[node];
        if owed > 0 && !log.covers(owed) && log.at(owed) != Some(self.committed[owed as usize - 1])
        {
            self.fail(
                Property::LeaderCompleteness,
                now,
                Some(node),
                format!(
                    "n{node} leads term {term} without the prefix committed before it, up to index {owed} (its log ends at {})",
                    self.memory[node].len()
                ),
            );
        }
    }

    /// Elected by a quorum, when `node` wins `term`.
    fn check_elected_by_quorum(&mut self, now: Micros, node: usize, term: u64) {
        let voters = self.node_voters[node];
        if voters == 0 {
            return;
        }
        let granted = (0..self.memory.len())
            .filter(|&v| in_mask(voters, v))
            .filter(|&v| self.votes.get(&(v, term)) == Some(&NodeId(node as u64)))
            .count();
        let quorum = quorum(voters);
        if granted < quorum {
            self.fail(
                Property::ElectedByQuorum,
                now,
                Some(node),
                format!(
                    "n{node} became leader of term {term} with the votes of {granted} of its voters {}, a quorum is {quorum}",
                    fmt_mask(voters)
                ),
            );
        }
    }

    /// Leader append-only and log matching, at every change to a node's in-memory log.
    pub fn on_log_write(&mut self, now: Micros, node: usize, write: &LogWrite) {
        let log = &self.memory[node];
        if self.roles[node].0 == Role::Leader && write.prev_index < log.len() {
            let len = log.len();
            self.fail(
                Property::LeaderAppendOnly,
                now,
                Some(node),
                format!(
                    "leader n{node} rewrote its log after index {} (it ended at {len})",
                    write.prev_index
                ),
            );
        }
        if write.prev_index > self.memory[node].len() {
            // The node writes after entries it never wrote: what it keeps in memory is not what
            // it persists (a gap on disk).
            let len = self.memory[node].len();
            self.fail(
                Property::LogMatching,
                now,
                Some(node),
                format!(
                    "n{node} writes entries after index {} but its persisted log ends at {len}",
                    write.prev_index
                ),
            );
            return;
        }
        self.memory[node].write(write.prev_index, &write.entries);
        for entry in &write.entries {
            let prefix = self.memory[node].at(entry.index).expect("just written");
            match self.seen.get(&(entry.index, entry.term)) {
                Some(&other) if other != prefix => {
                    self.fail(
                        Property::LogMatching,
                        now,
                        Some(node),
                        format!(
                            "entry {}/{} on n{node} has a different log prefix than another log with the same index and term",
                            entry.term, entry.index
                        ),
                    );
                    return;
                }
                Some(_) => {}
                None => {
                    self.seen.insert((entry.index, entry.term), prefix);
                }
            }
        }
    }

    /// A node handed these entries to its state machine: they are committed. Records the
    /// committed prefix and checks state-machine safety (same entry at an index everywhere).
    pub fn on_committed(&mut self, now: Micros, node: usize, entries: &[Entry]) {
        let mut grew = false;
        for entry in entries {
            let i = entry.index as usize;
            let hash = entry_hash(entry);
            if i <= self.applied.len() {
                if self.applied[i - 1] != hash {
                    self.fail(
                        Property::StateMachineSafety,
                        now,
                        Some(node),
                        format!("n{node} applies {entry:?} at index {i}, another node applied a different entry there"),
                    );
                    return;
                }
            } else if i == self.applied.len() + 1 {
                self.applied.push(hash);
                // The first node to hand out an index is the leader that committed it.
                let prefix = self.memory[node].at(entry.index).unwrap_or(0);
                self.committed.push(prefix);
                self.committed_in_term.push(self.roles[node].1);
                grew = true;
            }
        }
        self.check_committed_durable(now);
        if grew {
            self.check_commit_guarded(now);
        }
    }

    /// Commit guarded by votes, at the highest committed index, among the voters of the
    /// leader that committed it. A voter's log that could grant is its least up-to-date one
    /// (memory, or disk after a crash); a candidate's is any of its two logs that lacks the
    /// entry. In correct Raft the entry's committing quorum holds it in both logs and
    /// refuses every such candidate, so the check cannot fire; a commit made by counting
    /// replicas of an earlier term's entry (Raft's Figure 8) fires it at once.
    fn check_commit_guarded(&mut self, now: Micros) {
        let Some(&prefix) = self.committed.last() else {
            return;
        };
        let index = self.committed.len() as u64;
        let voters = self.committing_voters(index);
        let mut unguarded = None;
        'candidates: for candidate in 0..self.memory.len() {
            // A candidate campaigns in its own configuration: with membership changes that
            // may not be the committing leader's (single-server changes with the own-term
            // commit rule keep every such configuration's majorities overlapping).
            let own = match self.node_voters[candidate] {
                0 => voters,
                own => own,
            };
            if !in_mask(own, candidate) {
                continue;
            }
            let quorum = quorum(own);
            for log in [&self.memory[candidate], &self.durable[candidate]] {
                if log.holds(index, prefix) {
                    continue;
                }
                let last = log.last();
                let grants = self.votes_it_could_win(candidate, own, last);
                if grants >= quorum {
                    unguarded = Some((candidate, last, grants, own, quorum));
                    break 'candidates;
                }
            }
        }
        if let Some((candidate, last, grants, voters, quorum)) = unguarded {
            self.fail(
                Property::CommitGuardedByVotes,
                now,
                Some(candidate),
                format!(
                    "n{candidate} lacks committed index {index} but its log (last term {}, last index {}) could win {grants} votes of the voters {}, a quorum is {quorum}",
                    last.0,
                    last.1,
                    fmt_mask(voters)
                ),
            );
        }
    }

    /// The voters in `node`'s own configuration (a mask), after a step; `leading` is the
    /// node's term when it is a leader after the step.
    pub fn on_voters(&mut self, now: Micros, node: usize, voters: u64, leading: Option<u64>) {
        let before = std::mem::replace(&mut self.node_voters[node], voters);
        // A leader's configuration changes only when it appends a change itself (a leader
        // never truncates its log).
        if let Some(term) = leading.filter(|_| self.is_leader(node)) {
            if before != 0 && before != voters {
                self.check_configuration_overlap(now, node, term, voters);
            }
        }
    }

    /// Configuration overlap, when `leader` (leading `term`) appended a change to `voters`.
    /// Only nodes whose logs end before `term` are asked: in correct Raft they lack the
    /// leader's committed own-term entry, so none of them can win (a newer leader, whose
    /// log is ahead of the appending one, is not a candidate this check is about).
    fn check_configuration_overlap(&mut self, now: Micros, leader: usize, term: u64, voters: u64) {
        let mut rival = None;
        'candidates: for candidate in (0..self.memory.len()).filter(|&c| c != leader) {
            let own = self.node_voters[candidate];
            if !in_mask(own, candidate) || !majorities_can_be_disjoint(own, voters) {
                continue;
            }
            let quorum = quorum(own);
            for log in [&self.memory[candidate], &self.durable[candidate]] {
                let last = log.last();
                if last.0 >= term {
                    continue;
                }
                let grants = self.votes_it_could_win(candidate, own, last);
                if grants >= quorum {
                    rival = Some((candidate, last, grants, own));
                    break 'candidates;
                }
            }
        }
        if let Some((candidate, last, grants, own)) = rival {
            self.fail(
                Property::ConfigurationOverlap,
                now,
                Some(leader),
                format!(
                    "leader n{leader} of term {term} changed its voters to {} while n{candidate} (log last term {}, last index {}) could win {grants} votes of its voters {}, and a majority of each can be disjoint",
                    fmt_mask(voters),
                    last.0,
                    last.1,
                    fmt_mask(own)
                ),
            );
        }
    }

    /// The votes `candidate`, a voter of `voters`, could win campaigning with a log whose
    /// last entry is `last` (term, index): its own, and every other voter's whose least
    /// up-to-date log (memory, or disk after a crash) is no newer.
    fn votes_it_could_win(&self, candidate: usize, voters: u64, last: (u64, u64)) -> usize {
        let could_grant_with = |v: usize| self.memory[v].last().min(self.durable[v].last());
        1 + (0..self.memory.len())
            .filter(|&v| v != candidate && in_mask(voters, v))
            .filter(|&v| could_grant_with(v) <= last)
            .count()
    }

    /// Whether the checkers last saw `node` as a leader (before the current step's role
    /// changes are shown to them).
    pub fn is_leader(&self, node: usize) -> bool {
        self.roles[node].0 == Role::Leader
    }

    /// A leader's commit index reached `index` while `voters` (a mask, bit `i` = node `i`)
    /// were its voters.
    pub fn on_leader_commit(&mut self, index: u64, voters: u64) {
        match self.leader_commits.back_mut() {
            Some((last, _)) if index <= *last => {}
            Some((last, mask)) if *mask == voters => *last = index,
            _ => self.leader_commits.push_back((index, voters)),
        }
    }

    /// The voters of the leader whose commit first covered `index` (every node when no
    /// leader's commit did). `index` never decreases between calls (it is the highest
    /// committed index), so records below it are dropped.
    fn committing_voters(&mut self, index: u64) -> u64 {
        while self.leader_commits.front().is_some_and(|&(i, _)| i < index) {
            self.leader_commits.pop_front();
        }
        self.leader_commits
            .front()
            .map_or(self.all_nodes, |&(_, voters)| voters)
    }

    /// Every committed entry is durable on a quorum of the voters that committed it: checked
    /// at the highest committed index (the prefix hash covers everything before it).
    pub fn check_committed_durable(&mut self, now: Micros) {
        let Some(&prefix) = self.committed.last() else {
            return;
        };
        let index = self.committed.len() as u64;
        let voters = self.committing_voters(index);
        let holders = self
            .durable
            .iter()
            .enumerate()
            .filter(|&(node, log)| in_mask(voters, node) && log.holds(index, prefix))
            .count();
        let quorum = quorum(voters);
        if holders < quorum {
            self.fail(
                Property::CommittedDurableOnQuorum,
                now,
                None,
                format!(
                    "committed index {index} is durable on {holders} of the voters {}, a quorum is {quorum}",
                    fmt_mask(voters)
                ),
            );
        }
    }

    /// A persist completed: the durable state moved forward.
    pub fn on_durable(
        &mut self,
        now: Micros,
        node: usize,
        hard_state: Option<HardState>,
        log: Option<&LogWrite>,
    ) {
        if let Some(hs) = hard_state {
            self.record_durable_hard_state(now, node, hs);
        }
        if let Some(write) = log {
            self.durable[node].write(write.prev_index, &write.entries);
        }
        self.check_committed_durable(now);
    }

    /// Term monotonic and one vote per term, on durable state.
    fn record_durable_hard_state(&mut self, now: Micros, node: usize, hs: HardState) {
        if hs.term < self.max_durable_term[node] {
            self.fail(
                Property::TermMonotonic,
                now,
                Some(node),
                format!(
                    "durable term went from {} down to {}",
                    self.max_durable_term[node], hs.term
                ),
            );
        }
        self.max_durable_term[node] = self.max_durable_term[node].max(hs.term);
        if let Some(vote) = hs.vote {
            self.record_vote(now, node, hs.term, vote);
        }
        self.durable_hard_state[node] = hs;
    }

    fn record_vote(&mut self, now: Micros, node: usize, term: u64, vote: NodeId) {
        match self.votes.get(&(node, term)) {
            Some(&earlier) if earlier != vote => self.fail(
                Property::OneVotePerTerm,
                now,
                Some(node),
                format!("n{node} voted for {earlier} and then for {vote} in term {term}"),
            ),
            Some(_) => {}
            None => {
                self.votes.insert((node, term), vote);
            }
        }
    }

    /// A node compacted its log into a snapshot at `index` (memory now), or the snapshot became
    /// durable (`durable`). Everything up to `index` is committed state.
    pub fn on_snapshot(
        &mut self,
        node: usize,
        index: u64,
        term: u64,
        discard_log: bool,
        durable: bool,
    ) {
        let prefix = self.committed_prefix(index);
        let log = if durable {
            &mut self.durable[node]
        } else {
            &mut self.memory[node]
        };
        log.rebase(index, prefix, term, discard_log);
    }

    fn committed_prefix(&self, index: u64) -> u64 {
        if index == 0 {
            return 0;
        }
        self.committed.get(index as usize - 1).copied().unwrap_or(0)
    }

    /// A node restarted from what its disk held.
    pub fn on_recovered(
        &mut self,
        now: Micros,
        node: usize,
        hs: HardState,
        log: &[Entry],
        snapshot: Option<(u64, u64)>,
    ) {
        if hs.term < self.max_durable_term[node] {
            self.fail(
                Property::TermMonotonic,
                now,
                Some(node),
                format!(
                    "recovered term {} is below the durable term {} seen before the crash",
                    hs.term, self.max_durable_term[node]
                ),
            );
        }
        if let Some(vote) = hs.vote {
            self.record_vote(now, node, hs.term, vote);
        }
        self.durable_hard_state[node] = hs;
        self.max_durable_term[node] = self.max_durable_term[node].max(hs.term);
        match snapshot {
            None => {
                self.durable[node].reset(log);
                self.memory[node].reset(log);
            }
            Some((index, term)) => {
                // As the node does: entries the snapshot covers are dropped, and the whole log
                // when its entry at the snapshot's index contradicts the snapshot.
                let contradicts = log.iter().any(|e| e.index == index && e.term != term);
                let after: Vec<Entry> = if contradicts {
                    Vec::new()
                } else {
                    log.iter().filter(|e| e.index > index).cloned().collect()
                };
                let prefix = self.committed_prefix(index);
                for mirror in [&mut self.durable[node], &mut self.memory[node]] {
                    mirror.reset(&[]);
                    mirror.rebase(index, prefix, term, true);
                    mirror.write(index, &after);
                }
            }
        }
        self.roles[node] = (Role::Follower, hs.term);
        self.check_committed_durable(now);
    }

    /// A node crashed: it leads nothing any more. Its durable view is unchanged (only synced
    /// data counts as durable) and is replaced at restart by what recovery reads.
    pub fn on_crash(&mut self, node: usize) {
        self.roles[node] = (Role::Follower, self.roles[node].1);
    }

    /// Persist-before-send: a message that attests state may leave only once that state is
    /// durable. Also records vote grants, so two grants in one term are caught even when the
    /// durable record was lost.
    pub fn on_send(
        &mut self,
        now: Micros,
        node: usize,
        self_id: NodeId,
        to: NodeId,
        message: &Message,
    ) {
        let durable = self.durable_hard_state[node];
        match message {
            Message::VoteResponse(m) if m.granted => {
                if durable.term != m.term || durable.vote != Some(to) {
                    self.fail(
                        Property::PersistBeforeSend,
                        now,
                        Some(node),
                        format!(
                            "vote for {to} in term {} sent while the durable term/vote is {}/{:?}",
                            m.term, durable.term, durable.vote
                        ),
                    );
                }
                self.record_vote(now, node, m.term, to);
            }
            Message::VoteRequest(m) | Message::TransferVoteRequest(m)
                if durable.term != m.term || durable.vote != Some(self_id) =>
            {
                self.fail(
                    Property::PersistBeforeSend,
                    now,
                    Some(node),
                    format!(
                        "vote request for term {} sent before its own vote was durable",
                        m.term
                    ),
                );
            }
            Message::AppendResponse(m) if m.success => {
                // The acknowledgement says: through m.index my log holds what the leader of
                // m.term sent. The node's memory may have moved on since it created the message
                // (a later leader replaced the tail), so compare with the durable log only:
                // it must reach m.index with an entry no newer than m.term.
                let durable_log = &self.durable[node];
                let durable_term = durable_log.term_at(m.index);
                let covered = durable_log.covers(m.index);
                if durable.term < m.term || (!covered && durable_term.is_none_or(|t| t > m.term)) {
                    self.fail(
                        Property::PersistBeforeSend,
                        now,
                        Some(node),
                        format!(
                            "acknowledged index {} in term {} before it was durable (durable log ends at {}, durable term {})",
                            m.index,
                            m.term,
                            self.durable[node].len(),
                            durable.term
                        ),
                    );
                }
            }
            _ => {}
        }
    }

    /// Commit index within the log, after every step of a node.
    pub fn check_commit_within_log(
        &mut self,
        now: Micros,
        node: usize,
        commit: u64,
        last_index: u64,
    ) {
        if commit > last_index {
            self.fail(
                Property::CommitWithinLog,
                now,
                Some(node),
                format!("commit index {commit} beyond the last log index {last_index}"),
            );
        }
    }

    pub fn highest_committed(&self) -> u64 {
        self.committed.len() as u64
    }

    pub fn leaders_elected(&self) -> usize {
        self.leader_of_term.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use raft_core::EntryKind;

    fn entry(term: u64, index: u64, data: &str) -> Entry {
        Entry {
            term,
            index,
            kind: EntryKind::Normal,
            data: data.as_bytes().to_vec().into(),
        }
    }

    #[test]
    fn two_leaders_in_one_term_violate_election_safety() {
        let mut c = Checkers::new(3);
        c.on_role(1, 0, Role::Leader, 5);
        c.on_role(2, 0, Role::Leader, 5);
        assert!(!c.violated());
        c.on_role(3, 1, Role::Leader, 5);
        assert_eq!(
            c.first_violation.unwrap().property,
            Property::ElectionSafety
        );
    }

    #[test]
    fn same_index_and_term_with_different_prefix_violates_log_matching() {
        let mut c = Checkers::new(3);
        let w = |entries: Vec<Entry>| LogWrite {
            prev_index: 0,
            prev_term: 0,
            entries,
        };
        c.on_log_write(1, 0, &w(vec![entry(1, 1, "a"), entry(2, 2, "x")]));
        c.on_log_write(1, 1, &w(vec![entry(1, 1, "b"), entry(2, 2, "x")]));
        assert_eq!(c.first_violation.unwrap().property, Property::LogMatching);
    }

    #[test]
    fn different_entries_applied_at_one_index_violate_state_machine_safety() {
        let mut c = Checkers::new(1);
        let log = LogWrite {
            prev_index: 0,
            prev_term: 0,
            entries: vec![entry(1, 1, "a")],
        };
        c.on_log_write(1, 0, &log);
        c.on_durable(1, 0, None, Some(&log));
        c.on_committed(2, 0, &[entry(1, 1, "a")]);
        assert!(!c.violated());
        c.on_committed(3, 0, &[entry(1, 1, "b")]);
        assert_eq!(
            c.first_violation.unwrap().property,
            Property::StateMachineSafety
        );
    }

    #[test]
    fn committed_entry_missing_from_durable_quorum_is_caught() {
        let mut c = Checkers::new(3);
        let log = LogWrite {
            prev_index: 0,
            prev_term: 0,
            entries: vec![entry(1, 1, "a")],
        };
        c.on_log_write(1, 0, &log);
        c.on_durable(1, 0, None, Some(&log));
        c.on_committed(2, 0, &log.entries);
        assert_eq!(
            c.first_violation.unwrap().property,
            Property::CommittedDurableOnQuorum
        );
    }

    /// One entry durable on nodes 0 and 1 of five, committed by a leader whose voters are
    /// `voters`: the verdict of committed-durable-on-quorum.
    fn durable_on_two_of_five_committed_with(voters: u64) -> Option<Property> {
        let mut c = Checkers::new(5);
        for node in [0, 1] {
            write_durable(&mut c, node, 0, vec![entry(1, 1, "a")]);
        }
        c.on_leader_commit(1, voters);
        c.on_committed(2, 0, &[entry(1, 1, "a")]);
        c.first_violation.map(|v| v.property)
    }

    #[test]
    fn committed_durable_counts_the_voters_of_the_committing_leader() {
        // {n0,n1,n2}: two of three is a quorum, though two of all five nodes is not.
        assert_eq!(durable_on_two_of_five_committed_with(0b00111), None);
        // {n0,n1,n2,n3}: two of four is not.
        assert_eq!(
            durable_on_two_of_five_committed_with(0b01111),
            Some(Property::CommittedDurableOnQuorum)
        );
        // {n2,n3,n4}: the holders are not voters at all.
        assert_eq!(
            durable_on_two_of_five_committed_with(0b11100),
            Some(Property::CommittedDurableOnQuorum)
        );
    }

    /// A durable vote in `term` for `node`.
    fn vote(term: u64, node: u64) -> HardState {
        HardState {
            term,
            vote: Some(NodeId(node)),
        }
    }

    /// `node` writes `entries` after index `prev` (of term 1), in memory and durably.
    fn write_durable(c: &mut Checkers, node: usize, prev: u64, entries: Vec<Entry>) {
        let log = LogWrite {
            prev_index: prev,
            prev_term: if prev == 0 { 0 } else { 1 },
            entries,
        };
        c.on_log_write(1, node, &log);
        c.on_durable(1, node, None, Some(&log));
    }

    /// Raft's Figure 8 (c) in three nodes: n0 holds index 2 of term 2, n2 an index 2 of
    /// term 3; n1 gets n0's entry. Index 2 becomes committed (applied by n0), with or
    /// without n0's own-term entry at index 3 on a majority.
    fn figure_8_commit(own_term_entry_on_majority: bool) -> Option<Property> {
        let mut c = Checkers::new(3);
        for node in 0..3 {
            write_durable(&mut c, node, 0, vec![entry(1, 1, "a")]);
        }
        write_durable(&mut c, 0, 1, vec![entry(2, 2, "old")]);
        write_durable(&mut c, 1, 1, vec![entry(2, 2, "old")]);
        write_durable(&mut c, 2, 1, vec![entry(3, 2, "rival")]);
        if own_term_entry_on_majority {
            write_durable(&mut c, 0, 2, vec![entry(4, 3, "noop")]);
            write_durable(&mut c, 1, 2, vec![entry(4, 3, "noop")]);
        }
        c.on_leader_commit(2, 0b111);
        c.on_committed(2, 0, &[entry(1, 1, "a"), entry(2, 2, "old")]);
        c.first_violation.map(|v| v.property)
    }

    #[test]
    fn commit_of_an_earlier_term_entry_by_counting_is_not_guarded_by_votes() {
        // n2's log (last term 3) beats n1's (last term 2): n2 and n1 make a majority.
        assert_eq!(figure_8_commit(false), Some(Property::CommitGuardedByVotes));
        // With the leader's term-4 entry on n0 and n1, both refuse n2.
        assert_eq!(figure_8_commit(true), None);
    }

    #[test]
    fn second_vote_in_a_term_is_caught_across_restarts() {
        let mut c = Checkers::new(3);
        c.on_durable(
            1,
            0,
            Some(HardState {
                term: 2,
                vote: Some(NodeId(1)),
            }),
            None,
        );
        c.on_recovered(
            2,
            0,
            HardState {
                term: 2,
                vote: None,
            },
            &[],
            None,
        );
        let grant = Message::VoteResponse(raft_core::VoteResponse {
            term: 2,
            peer: NodeId(0),
            granted: true,
            empty_log: true,
        });
        c.on_send(3, 0, NodeId(0), NodeId(2), &grant);
        let v = c.first_violation.unwrap();
        assert!(matches!(
            v.property,
            Property::PersistBeforeSend | Property::OneVotePerTerm
        ));
    }

    #[test]
    fn recovered_term_below_durable_term_is_caught() {
        let mut c = Checkers::new(3);
        c.on_durable(
            1,
            0,
            Some(HardState {
                term: 4,
                vote: None,
            }),
            None,
        );
        c.on_recovered(
            2,
            0,
            HardState {
                term: 3,
                vote: None,
            },
            &[],
            None,
        );
        assert_eq!(c.first_violation.unwrap().property, Property::TermMonotonic);
    }

    /// Brute force: every pair of subsets, each a majority of its own voters.
    fn naive_disjoint_majorities(a: u64, b: u64) -> bool {
        let submasks = |mask: u64| (0..=mask).filter(move |s| s & !mask == 0);
        let majority = |s: u64, of: u64| s.count_ones() > of.count_ones() / 2;
        submasks(a)
            .filter(|&qa| majority(qa, a))
            .any(|qa| submasks(b).any(|qb| majority(qb, b) && qa & qb == 0))
    }

    #[test]
    fn majorities_can_be_disjoint_agrees_with_brute_force_over_six_nodes() {
        for a in 1..64u64 {
            for b in 1..64u64 {
                assert_eq!(
                    majorities_can_be_disjoint(a, b),
                    naive_disjoint_majorities(a, b),
                    "{} and {}",
                    fmt_mask(a),
                    fmt_mask(b)
                );
            }
        }
    }

    #[test]
    fn single_server_changes_keep_majorities_overlapping_and_two_from_an_even_size_do_not() {
        for voters in [0b111u64, 0b1111, 0b11111, 0b111111] {
            for node in 0..7 {
                let changed = voters ^ (1 << node);
                if changed != 0 {
                    assert!(!majorities_can_be_disjoint(voters, changed));
                }
            }
        }
        // Two different removals, or an addition and a removal, from four voters.
        assert!(majorities_can_be_disjoint(0b0111, 0b1110));
        assert!(majorities_can_be_disjoint(0b11111, 0b1110));
        // The same from five voters overlap.
        assert!(!majorities_can_be_disjoint(0b01111, 0b11110));
        assert!(!majorities_can_be_disjoint(0b111111, 0b11110));
    }

    /// Ongaro's schedule in four voters {n0..n3}, all holding entry 1 of term 1: n0, leader
    /// of term 1, appended the removal of n3 (entry 2) and nobody else got it; n1 wins term
    /// 2, appends its no-op (entry 2) and then the removal of n0. The verdict of
    /// configuration overlap at that append, with the no-op durable on `noop_holders` too.
    fn ongaro_change_after_failover(noop_holders: &[usize]) -> Option<Property> {
        let mut c = Checkers::new(4);
        for node in 0..4 {
            write_durable(&mut c, node, 0, vec![entry(1, 1, "a")]);
            c.on_voters(1, node, 0b1111, None);
        }
        write_durable(&mut c, 0, 1, vec![entry(1, 2, "remove n3")]);
        c.on_voters(2, 0, 0b0111, None);
        for voter in [1, 2, 3] {
            c.on_durable(3, voter, Some(vote(2, 1)), None);
        }
        c.on_role(3, 1, Role::Leader, 2);
        assert!(!c.violated(), "elected by n1, n2 and n3");
        for &node in [1].iter().chain(noop_holders) {
            write_durable(&mut c, node, 1, vec![entry(2, 2, "noop")]);
        }
        c.on_voters(4, 1, 0b1111, Some(2));
        assert!(!c.violated(), "the no-op changes no voters");
        c.on_voters(5, 1, 0b1110, Some(2));
        c.first_violation.map(|v| v.property)
    }

    #[test]
    fn change_before_the_own_term_entry_is_on_a_majority_can_leave_two_electable_configurations() {
        // n0 could still win {n0,n1,n2} with n2, whose log is no newer than its own.
        assert_eq!(
            ongaro_change_after_failover(&[]),
            Some(Property::ConfigurationOverlap)
        );
        assert_eq!(
            ongaro_change_after_failover(&[3]),
            Some(Property::ConfigurationOverlap)
        );
        // With the no-op durable on n2 and n3 (committed, as correct Raft waits for) n0 can win
        // nobody's vote.
        assert_eq!(ongaro_change_after_failover(&[2, 3]), None);
    }

    /// n0 wins term 3 in five voters (or in `voters`) with the durable votes of `voters_for_it`.
    fn win_with_votes(voters: u64, voters_for_it: &[usize]) -> Option<Property> {
        let mut c = Checkers::new(5);
        for node in 0..5 {
            c.on_voters(1, node, voters, None);
        }
        for &voter in voters_for_it {
            c.on_durable(1, voter, Some(vote(3, 0)), None);
        }
        c.on_role(2, 0, Role::Leader, 3);
        c.first_violation.map(|v| v.property)
    }

    #[test]
    fn leader_with_the_votes_of_a_quorum_is_elected_by_quorum() {
        assert_eq!(win_with_votes(0b11111, &[0, 1, 2]), None);
        // Without its own vote, when it is not a voter (removed by an uncommitted change).
        assert_eq!(win_with_votes(0b11110, &[1, 2, 3]), None);
    }

    #[test]
    fn leader_short_of_a_quorum_of_votes_violates_elected_by_quorum() {
        // Two votes of five: what a candidate counting one grant twice believes is three.
        assert_eq!(
            win_with_votes(0b11111, &[0, 1]),
            Some(Property::ElectedByQuorum)
        );
        // Three votes, but n4's is not a voter's: two of the four voters.
        assert_eq!(
            win_with_votes(0b01111, &[0, 1, 4]),
            Some(Property::ElectedByQuorum)
        );
    }

    #[test]
    fn a_vote_for_another_candidate_or_term_does_not_count() {
        let mut c = Checkers::new(3);
        for node in 0..3 {
            c.on_voters(1, node, 0b111, None);
        }
        c.on_durable(1, 0, Some(vote(3, 0)), None);
        c.on_durable(1, 1, Some(vote(2, 0)), None);
        c.on_durable(1, 2, Some(vote(3, 2)), None);
        c.on_role(2, 0, Role::Leader, 3);
        assert_eq!(
            c.first_violation.map(|v| v.property),
            Some(Property::ElectedByQuorum)
        );
    }
}
