//! The run report: the options that say what to keep of a run, the counters the world keeps
//! as it goes, and the verdicts gathered at the end (the first safety violation, then
//! liveness, then linearizability).
//!
//! Architecture invariant: every figure in [`Stats`] is counted by the world where the thing
//! it counts happens; none is read from the checkers, so the figures are the same whether
//! the checkers run or not (`RunOptions::checkers`).

use super::World;
use crate::app::Application;
use crate::checkers::Violation;
use crate::config::{Micros, SimConfig};
use crate::decisions::{Decision, Usage};
use crate::event;
use crate::faults::ScriptedFault;
use crate::trace::TraceEvent;
use raft_core::Entry;
use std::collections::BTreeMap;

use super::clients::{RecordedWorkload, WorkloadScript};

/// Counters for the run summary.
#[derive(Clone, Debug, Default, serde::Serialize, serde::Deserialize)]
pub struct Stats {
    pub events: u64,
    pub messages_sent: u64,
    pub messages_delivered: u64,
    pub messages_dropped: u64,
    pub messages_partitioned: u64,
    pub messages_duplicated: u64,
    /// Campaigns: a node became a candidate.
    pub elections: u64,
    /// Terms in which a node became leader.
    pub leaders: u64,
    pub max_term: u64,
    /// The committed prefix: the highest index such that some node applied every index up
    /// to it (an index installed from a snapshot is not applied).
    pub entries_committed: u64,
    pub faults: BTreeMap<String, u64>,
    pub torn_tails_dropped: u64,
    /// Nodes stopped for the run on damage they cannot answer for (every copy of the
    /// term/vote record).
    pub corruption_detected: u64,
    /// Boots that found damage to synced data (WAL, snapshot, peer-state file or a copy of
    /// the term/vote record) and rejoined to be repaired.
    #[serde(default)]
    pub nodes_damaged: u64,
    /// Damaged nodes whose log the leader repaired.
    #[serde(default)]
    pub nodes_repaired: u64,
    /// Boots that found one copy of the term/vote record damaged and rewrote it from the
    /// other (counted in `nodes_damaged` and `nodes_repaired` too).
    #[serde(default)]
    pub term_vote_copies_rewritten: u64,
    /// Nodes still repairing at the end of the run: with `Faults::damage_every_copy`, the
    /// cluster halted on entries no intact copy was left of; with it, nodes stopped because
    /// every copy of their term/vote record was lost count too.
    #[serde(default)]
    pub nodes_halted: u64,
    pub read_errors: u64,
    /// Persists failed by a write or fsync error.
    #[serde(default)]
    pub write_errors: u64,
    pub restarts: u64,
    pub ops_ok: u64,
    pub ops_fail: u64,
    pub ops_unknown: u64,
    pub slow_fsyncs: u64,
    /// WAL rewrites without the records a local snapshot covers.
    #[serde(default)]
    pub wal_compactions: u64,
    /// Leaders that stepped down at a tick with a backlog past the overrun threshold.
    #[serde(default)]
    pub overrun_step_downs: u64,
    /// Ticks of followers whose quorum was paused by an overrun.
    #[serde(default)]
    pub quorum_paused_ticks: u64,
    /// Reads sticky readers sent to the node they stay at (`Workload::sticky_readers`).
    #[serde(default)]
    pub sticky_reads: u64,
    /// Of those, reads sent to a leader another node had deposed (it led a term below the
    /// highest term a node held when the read left).
    #[serde(default)]
    pub sticky_reads_to_deposed_leader: u64,
}

impl Stats {
    pub(super) fn fault(&mut self, kind: &str) {
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
    /// Client operations in the history (each invocation, whatever its outcome).
    pub history_ops: usize,
    /// The client workload as it ran (the replayed one when replaying).
    pub workload: RecordedWorkload,
    /// Every run-time decision the run made, in the order made (replayed ones included).
    pub decisions: Vec<Decision>,
    /// How many decisions were given, replayed and drawn.
    pub decision_usage: Usage,
    /// The planted bug the run had, if any.
    pub planted_bug: Option<String>,
    /// Virtual time from the end of the chaos phase to the liveness probe's success.
    pub recovery_time: Option<Micros>,
    /// Committed entries that a rescued quorum gave up (see `checkers/rescue.rs`); when any
    /// were, acknowledged writes may be gone and linearizability is not checked.
    pub given_up: Vec<crate::checkers::GivenUp>,
    /// The linearizability verdict (None when a safety or liveness violation came first, or
    /// when a rescue gave up committed entries).
    /// `Unknown` means the search budget ran out: the run's verdict is then
    /// [`RunVerdict::Unknown`], neither a pass nor a failure.
    pub linearizability: Option<crate::history::Verdict>,
}

/// What a run proved.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum RunVerdict {
    /// Every property held, the history is linearizable.
    Pass,
    /// No property was violated, but the linearizability check ran out of budget before
    /// deciding: not a pass.
    Unknown,
    /// A property was violated.
    Fail,
}

impl RunVerdict {
    /// As printed on the `verdict` line and in reports.
    pub fn name(self) -> &'static str {
        match self {
            RunVerdict::Pass => "PASS",
            RunVerdict::Unknown => "UNKNOWN",
            RunVerdict::Fail => "FAIL",
        }
    }
}

impl RunReport {
    /// No property was violated (the linearizability check may still have been undecided:
    /// see [`RunReport::verdict`]).
    pub fn passed(&self) -> bool {
        self.violation.is_none()
    }

    pub fn verdict(&self) -> RunVerdict {
        match (&self.violation, &self.linearizability) {
            (Some(_), _) => RunVerdict::Fail,
            (None, Some(crate::history::Verdict::Unknown { .. })) => RunVerdict::Unknown,
            (None, _) => RunVerdict::Pass,
        }
    }
}

/// Options that do not change what happens in a run, only what is kept of it.
#[derive(Clone, Debug)]
pub struct RunOptions {
    /// Keep every trace event (for `--trace`, golden files and views).
    pub keep_trace: bool,
    /// Echo events through `tracing` as they happen (also on whenever a `tracing` subscriber
    /// enables target `sim::trace` at debug level).
    pub echo: bool,
    /// Replace the drawn fault script (replay of a saved or shrunk script).
    pub script: Option<Vec<ScriptedFault>>,
    /// Replace the drawn client workload (replay of a saved or shrunk workload).
    pub workload: Option<WorkloadScript>,
    /// Take these run-time decisions where their key matches, drawing only the others
    /// (replay of a bundle's recording, `crate::decisions`).
    pub decisions: Option<Vec<Decision>>,
    /// Plant this bug in every node (by name, see `raft_core::planted`); needs the
    /// `planted-bugs` feature.
    pub planted_bug: Option<String>,
    /// Called every so many events with (virtual now, virtual end) for progress reporting.
    pub progress_every: u64,
    /// Run the safety checkers after every event and the linearizability check at the end
    /// (default true). Off only to measure what the checkers cost (`cargo xtask bench`); it
    /// does not change the trace or the figures, only what is checked.
    pub checkers: bool,
    /// Change the simulator the way an unrelated code change would (the perturbation test,
    /// `crate::perturbation`); never set outside it.
    pub perturbation: Option<crate::perturbation::Perturbation>,
}

impl Default for RunOptions {
    fn default() -> RunOptions {
        RunOptions {
            keep_trace: false,
            echo: false,
            script: None,
            workload: None,
            decisions: None,
            planted_bug: None,
            progress_every: 0,
            checkers: true,
            perturbation: None,
        }
    }
}

impl<A: Application> World<A> {
    /// A node became leader of `term`.
    pub(super) fn count_leader(&mut self, term: u64) {
        if self.leader_terms.insert(term) {
            self.stats.leaders += 1;
        }
    }

    /// A node applied `entries` (consecutive indexes): the committed prefix grows when they
    /// reach past it from within it.
    pub(super) fn count_applied(&mut self, entries: &[Entry]) {
        for entry in entries {
            if entry.index == self.stats.entries_committed + 1 {
                self.stats.entries_committed = entry.index;
            }
        }
    }

    /// The verdicts and the report, once the run stopped.
    pub(super) fn finish(mut self, options: &RunOptions) -> RunReport {
        let mut violation = self.checks.first_violation().cloned();
        let members = self.leader_members();
        self.stats.nodes_halted = self
            .still_repairing()
            .iter()
            .filter(|(n, _)| members == 0 || members & (1 << n) != 0)
            .count() as u64;
        if self.config.faults.damage_every_copy {
            self.stats.nodes_halted += self.stopped_on_damage().len() as u64;
        }
        if violation.is_none() {
            violation = self.liveness_violation();
        }
        if violation.is_none() {
            violation = self.convergence_violation();
        }
        let mut linearizability = None;
        let given_up = self.checks.given_up().to_vec();
        if let Some(g) = given_up.first().filter(|_| violation.is_none()) {
            self.record(event!(
                self.now,
                Some(g.node),
                "suspended",
                property = crate::checkers::Property::Linearizability,
                detail = format!(
                    "rescued n{} won term {} without committed indexes {}..={}: they were given up",
                    g.node, g.term, g.first, g.last
                )
            ));
        }
        if violation.is_none() && self.checks.on() && given_up.is_empty() {
            let verdict = self.clients.history.check(&self.config);
            tracing::debug!(
                operations = self.clients.history.ops.len(),
                "linearizability: {verdict}"
            );
            if verdict.is_not_linearizable() {
                let detail = verdict.to_string();
                violation = Some(Violation {
                    property: crate::checkers::Property::Linearizability,
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
        let (history, recorded) = self.clients.into_parts();
        let decision_usage = self.decisions.usage();
        RunReport {
            given_up,
            recovery_time: self.liveness.recovery_time(),
            linearizability,
            config: self.config,
            script: self.nemesis.script,
            stats: self.stats,
            end_time: self.now,
            violation,
            trace_hash: self.trace.hash(),
            trace_events: self.trace.len(),
            history_ops: history.ops.len(),
            workload: options
                .workload
                .clone()
                .map_or(recorded, RecordedWorkload::from_script),
            planted_bug: options.planted_bug.clone(),
            trace: self.trace.into_events(),
            decisions: self.decisions.into_made(),
            decision_usage,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_undecided_linearizability_check_is_not_a_pass() {
        let mut config = crate::SimConfig::draw(1);
        config.chaos_us = 200_000;
        let mut report = crate::run(config, &RunOptions::default());
        assert_eq!(report.verdict(), RunVerdict::Pass);
        report.linearizability = Some(crate::history::Verdict::Unknown {
            partition: "k0".into(),
            steps: 7,
            budget: crate::linearizability::Budget::Steps,
        });
        assert_eq!(report.verdict(), RunVerdict::Unknown);
        assert!(report.passed(), "no property was violated");
        report.violation = Some(Violation {
            property: crate::checkers::Property::Liveness,
            time: 0,
            node: None,
            detail: String::new(),
        });
        assert_eq!(report.verdict(), RunVerdict::Fail);
    }
}
