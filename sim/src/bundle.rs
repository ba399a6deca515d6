//! A failure is a bundle: one JSON file with everything needed to re-run it without the seed's
//! randomness — the drawn configuration, the explicit fault script, the explicit client
//! workload and every decision the run made while it ran (`crate::decisions`: each message's
//! fate, each fsync's latency, ...) — plus the violation, the trace hash, the repro command
//! and, for a regression fixture, the planted bug it guards. A replay takes the recorded
//! decisions wherever their keys still match and draws only what is new, so it survives code
//! changes that add, remove or reorder random draws, messages or sends (ARCHITECTURE.md,
//! "Replay across code changes"); shrinking edits the script and keeps the decisions of the
//! smaller run.

use crate::checkers::{Property, Violation};
use crate::config::{Micros, SimConfig, MAX_CHAOS_US};
use crate::decisions::Decision;
use crate::faults::{Fault, ScriptedFault, Target};
use crate::world::{RunOptions, RunReport, WorkloadScript};
use serde::{Deserialize, Serialize};
use std::fmt;
use std::path::Path;

/// The bundle format version written by this code. Format 2 added the run-time decisions
/// (`decisions`) and the planted bug a fixture guards (`guards`); format 1 bundles are read
/// with neither (every decision is drawn afresh: the replay may differ from the run).
pub const FORMAT: u32 = 2;

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Bundle {
    pub format: u32,
    pub seed: u64,
    pub config: SimConfig,
    pub script: Vec<ScriptedFault>,
    pub workload: WorkloadScript,
    pub violation: Violation,
    /// Hex of the trace hash of the run that produced this bundle.
    pub trace_hash: String,
    /// The command that reproduces the failure from the seed alone.
    pub repro: String,
    /// Free text: what bug this is, where it was found.
    #[serde(default)]
    pub note: String,
    /// The planted bug the run had (the bug hunt), if any.
    #[serde(default)]
    pub planted_bug: Option<String>,
    /// A regression fixture: the planted bug (`raft_core::planted`) whose violation this
    /// bundle shows. With it planted the replay must fail the recorded property; with the
    /// correct core it must pass (`sim/tests/regressions.rs`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub guards: Option<String>,
    /// Every decision the run made while it ran, one line each, in the order made
    /// (`crate::decisions`). Empty in format 1.
    #[serde(default)]
    pub decisions: Vec<Decision>,
    /// The program that wrote the bundle (absent in bundles written before it was recorded).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub written_by: Option<WrittenBy>,
}

/// Which build wrote a bundle or a report: a replay that disagrees with its bundle can then
/// tell a changed simulator from a flaky one.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct WrittenBy {
    pub program: String,
    pub version: String,
    /// The git commit it was built from, `unknown` outside a git checkout; `-modified` is
    /// appended when the checkout had uncommitted changes.
    pub commit: String,
}

impl fmt::Display for WrittenBy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} {} (commit {})",
            self.program, self.version, self.commit
        )
    }
}

/// How big a failing run is: what shrinking makes smaller.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Size {
    pub nodes: usize,
    pub faults: usize,
    pub client_ops: usize,
    pub chaos_us: Micros,
}

impl fmt::Display for Size {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} nodes, {} fault events, {} client operations, {:.3}s of chaos",
            self.nodes,
            self.faults,
            self.client_ops,
            self.chaos_us as f64 / 1e6
        )
    }
}

/// Errors reading or writing a bundle.
#[derive(Debug)]
pub enum BundleError {
    Io {
        path: String,
        error: std::io::Error,
    },
    Parse {
        path: String,
        error: serde_json::Error,
    },
    Format {
        path: String,
        found: u32,
    },
    Invalid {
        path: String,
        reason: String,
    },
}

impl fmt::Display for BundleError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            BundleError::Io { path, error } => write!(f, "{path}: {error}"),
            BundleError::Parse { path, error } => write!(f, "{path}: not a bundle: {error}"),
            BundleError::Format { path, found } => {
                write!(
                    f,
                    "{path}: bundle format {found}, this build reads formats 1 to {FORMAT}; \
                     re-record the failure with this build (run its seed with `cargo xtask sim`, \
                     or hunt it again with `cargo xtask hunt`, then `cargo xtask shrink`)"
                )
            }
            BundleError::Invalid { path, reason } => write!(f, "{path}: {reason}"),
        }
    }
}

impl std::error::Error for BundleError {}

/// A violation's signature, for grouping failures: the property and the shape of its detail
/// with numbers taken out (node ids, indexes and terms vary between seeds).
pub fn signature(violation: &Violation) -> String {
    let shape: String = violation
        .detail
        .chars()
        .map(|c| if c.is_ascii_digit() { '#' } else { c })
        .collect::<String>()
        .split('#')
        .filter(|s| !s.is_empty())
        .collect::<Vec<_>>()
        .join("#");
    format!("{}: {}", violation.property, shape)
}

impl Bundle {
    /// The bundle of a failed run (None when it passed).
    pub fn from_report(report: &RunReport, repro: String) -> Option<Bundle> {
        let violation = report.violation.clone()?;
        Some(Bundle {
            format: FORMAT,
            seed: report.config.seed,
            config: report.config.clone(),
            script: report.script.clone(),
            workload: report.workload.script(),
            violation,
            trace_hash: format!("{:016x}", report.trace_hash),
            repro,
            note: String::new(),
            planted_bug: report.planted_bug.clone(),
            written_by: None,
            guards: None,
            decisions: report.decisions.clone(),
        })
    }

    /// Why a replay of this bundle may differ from the run it recorded, when its format
    /// predates recorded decisions.
    pub fn format_caveat(&self) -> Option<String> {
        (self.format < 2).then(|| {
            format!(
                "bundle format {} recorded no run-time decisions: each is drawn afresh, so the \
                 replay may differ from the recorded run; re-record it with this build to keep it \
                 (run its seed with `cargo xtask sim`, or hunt it again with `cargo xtask hunt`, \
                 then `cargo xtask shrink`)",
                self.format
            )
        })
    }

    pub fn size(&self) -> Size {
        Size {
            nodes: self.config.nodes,
            faults: self.script.len(),
            client_ops: self.workload.iter().map(Vec::len).sum(),
            chaos_us: self.config.chaos_us,
        }
    }

    pub fn read(path: &Path) -> Result<Bundle, BundleError> {
        let name = path.display().to_string();
        let text = std::fs::read_to_string(path).map_err(|error| BundleError::Io {
            path: name.clone(),
            error,
        })?;
        let bundle: Bundle = serde_json::from_str(&text).map_err(|error| BundleError::Parse {
            path: name.clone(),
            error,
        })?;
        if bundle.format == 0 || bundle.format > FORMAT {
            return Err(BundleError::Format {
                path: name,
                found: bundle.format,
            });
        }
        bundle
            .validate()
            .map_err(|reason| BundleError::Invalid { path: name, reason })?;
        Ok(bundle)
    }

    /// Checks what a run trusts a bundle for: a valid configuration, a fault script that
    /// names only nodes of the cluster with times and durations a run can schedule, one
    /// operation list per client, and a planted bug this build knows.
    pub fn validate(&self) -> Result<(), String> {
        self.config.validate().map_err(|e| format!("config.{e}"))?;
        let nodes = self.config.nodes;
        for (i, scripted) in self.script.iter().enumerate() {
            let at =
                |problem: String| format!("script[{i}] ({}): {problem}", scripted.fault.kind());
            if scripted.at > MAX_CHAOS_US {
                return Err(at(format!(
                    "at {}us is beyond the longest chaos phase ({MAX_CHAOS_US}us)",
                    scripted.at
                )));
            }
            if let Some(node) = nodes_named(&scripted.fault)
                .into_iter()
                .find(|&n| n >= nodes)
            {
                return Err(at(format!(
                    "names node {node}, but the cluster has {nodes} nodes (0..={})",
                    nodes - 1
                )));
            }
            if let Some(duration) = durations(&scripted.fault)
                .into_iter()
                .find(|&d| d > MAX_CHAOS_US)
            {
                return Err(at(format!(
                    "lasts {duration}us, longer than the longest chaos phase ({MAX_CHAOS_US}us)"
                )));
            }
            match &scripted.fault {
                Fault::KillNextLeader { leaders, .. } if *leaders > MAX_SCRIPTED_REPEATS => {
                    return Err(at(format!(
                        "kills {leaders} leaders, above the limit of {MAX_SCRIPTED_REPEATS}"
                    )));
                }
                Fault::Reconfigure { steps, .. } if steps.len() > MAX_SCRIPTED_REPEATS as usize => {
                    return Err(at(format!(
                        "has {} steps, above the limit of {MAX_SCRIPTED_REPEATS}",
                        steps.len()
                    )));
                }
                _ => {}
            }
        }
        if self.workload.len() != self.config.workload.clients {
            return Err(format!(
                "workload lists {} clients, config.workload.clients is {}",
                self.workload.len(),
                self.config.workload.clients
            ));
        }
        for (client, ops) in self.workload.iter().enumerate() {
            if let Some((i, op)) = ops
                .iter()
                .enumerate()
                .find(|(_, op)| op.think_us > crate::config::MAX_DELAY_US)
            {
                return Err(format!(
                    "workload[{client}][{i}]: think_us {} is above the limit of {}",
                    op.think_us,
                    crate::config::MAX_DELAY_US
                ));
            }
        }
        if let Some(name) = &self.planted_bug {
            check_planted_bug(name)?;
        }
        // A regression fixture's bug is checked where the catalogue is: a build without it
        // still replays the fixture with the correct code.
        if let Some(name) = self
            .guards
            .as_ref()
            .filter(|_| cfg!(feature = "planted-bugs"))
        {
            crate::planted::check(name).map_err(|e| format!("guards: {e}"))?;
        }
        Ok(())
    }

    pub fn write(&self, path: &Path) -> Result<(), BundleError> {
        let name = path.display().to_string();
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(|error| BundleError::Io {
                path: name.clone(),
                error,
            })?;
        }
        let text = serde_json::to_string_pretty(self).expect("bundles serialize");
        std::fs::write(path, text + "\n").map_err(|error| BundleError::Io { path: name, error })
    }

    /// Runs the bundle's configuration with its explicit fault script and workload.
    pub fn run(&self, keep_trace: bool) -> RunReport {
        crate::run(self.config.clone(), &self.run_options(keep_trace))
    }

    /// The options that replay this bundle: its script, workload and planted bug.
    pub fn run_options(&self, keep_trace: bool) -> RunOptions {
        RunOptions {
            keep_trace,
            script: Some(self.script.clone()),
            workload: Some(self.workload.clone()),
            decisions: Some(self.decisions.clone()),
            planted_bug: self.planted_bug.clone(),
            ..RunOptions::default()
        }
    }

    /// Re-runs the bundle and compares with what it recorded.
    pub fn replay(&self, keep_trace: bool) -> Replay {
        let report = self.run(keep_trace);
        let same_property =
            report.violation.as_ref().map(|v| v.property) == Some(self.violation.property);
        let same_violation = report.violation.as_ref() == Some(&self.violation);
        let same_hash = format!("{:016x}", report.trace_hash) == self.trace_hash;
        Replay {
            report,
            same_property,
            same_violation,
            same_hash,
        }
    }
}

/// The result of [`Bundle::replay`].
pub struct Replay {
    pub report: RunReport,
    /// The same property failed.
    pub same_property: bool,
    /// The same property failed at the same time and place with the same detail.
    pub same_violation: bool,
    pub same_hash: bool,
}

/// Progress of a shrink, reported after every accepted reduction.
#[derive(Clone, Debug)]
pub struct ShrinkStep {
    pub what: String,
    pub size: Size,
    pub runs: usize,
}

/// Minimizes a failing bundle while the same property keeps failing: fewer nodes, a shorter
/// run, fewer fault events, fewer client operations. Delta debugging (ddmin) over the fault
/// script and each client's operations; every candidate is a full deterministic re-run.
/// When the bundle has a planted bug, a candidate counts as failing only if the correct code
/// passes it too: the smaller failure must still be the bug's, not one the cut made (say, a
/// one-node cluster whose only disk is damaged).
pub fn shrink(bundle: &Bundle, mut progress: impl FnMut(&ShrinkStep)) -> Bundle {
    let property = bundle.violation.property;
    let mut best = bundle.clone();
    let mut runs = 0usize;
    let fails = |candidate: &Bundle, runs: &mut usize| -> Option<RunReport> {
        *runs += 1;
        let report = candidate.run(false);
        tracing::debug!(
            run = *runs,
            size = %candidate.size(),
            "shrink candidate: {}",
            report
                .violation
                .as_ref()
                .map_or("passes".to_string(), |v| format!("fails {}", v.property))
        );
        if report.violation.as_ref().map(|v| v.property) != Some(property) {
            return None;
        }
        if candidate.planted_bug.is_some() {
            *runs += 1;
            let mut correct = candidate.clone();
            correct.planted_bug = None;
            if !correct.run(false).passed() {
                return None;
            }
        }
        Some(report)
    };
    let mut accept =
        |best: &mut Bundle, candidate: Bundle, report: RunReport, what: &str, runs: usize| {
            *best = candidate;
            best.violation = report.violation.expect("a failing report");
            best.trace_hash = format!("{:016x}", report.trace_hash);
            // The smaller run's own decisions: what it took from the recording and what it
            // drew, so the shrunk bundle replays exactly and carries nothing it did not use.
            best.decisions = report.decisions;
            progress(&ShrinkStep {
                what: what.to_string(),
                size: best.size(),
                runs,
            });
        };

    // 1. A shorter run: stop the chaos right after the violation (safety violations only;
    //    a liveness failure needs the chaos phase to end first).
    if property.is_safety() && property != Property::Linearizability {
        let cut = best.violation.time + best.config.tick_us;
        if cut < best.config.chaos_us {
            let mut candidate = best.clone();
            candidate.config.chaos_us = cut;
            candidate.script.retain(|f| f.at < cut);
            if let Some(report) = fails(&candidate, &mut runs) {
                accept(
                    &mut best,
                    candidate,
                    report,
                    "cut the run after the violation",
                    runs,
                );
            }
        }
    }

    // 2. Fewer nodes.
    for nodes in [1usize, 3, 5] {
        if nodes >= best.config.nodes {
            break;
        }
        let candidate = with_nodes(&best, nodes);
        if let Some(report) = fails(&candidate, &mut runs) {
            accept(
                &mut best,
                candidate,
                report,
                &format!("{nodes} nodes"),
                runs,
            );
            break;
        }
    }

    // 3. Fewer fault events, then fewer client operations; repeat until nothing changes.
    loop {
        let before = best.size();
        let script = ddmin(best.script.clone(), |script| {
            let mut candidate = best.clone();
            candidate.script = script.to_vec();
            fails(&candidate, &mut runs).is_some()
        });
        if script.len() < best.script.len() {
            let mut candidate = best.clone();
            candidate.script = script;
            if let Some(report) = fails(&candidate, &mut runs) {
                accept(&mut best, candidate, report, "fewer fault events", runs);
            }
        }
        for client in 0..best.workload.len() {
            let ops = ddmin(best.workload[client].clone(), |ops| {
                let mut candidate = best.clone();
                candidate.workload[client] = ops.to_vec();
                fails(&candidate, &mut runs).is_some()
            });
            if ops.len() < best.workload[client].len() {
                let mut candidate = best.clone();
                candidate.workload[client] = ops;
                if let Some(report) = fails(&candidate, &mut runs) {
                    accept(
                        &mut best,
                        candidate,
                        report,
                        &format!("fewer operations of client {client}"),
                        runs,
                    );
                }
            }
        }
        if best.size() == before {
            break;
        }
    }
    best
}

/// The bundle with `nodes` nodes: faults that name a node beyond the new size are dropped,
/// leader targets fall back within range, and corruption keeps to a minority of the voters
/// the smaller cluster starts with (the nemesis's promise, `faults::draw_script`).
fn with_nodes(bundle: &Bundle, nodes: usize) -> Bundle {
    let mut candidate = bundle.clone();
    candidate.config.nodes = nodes;
    candidate.config.faults.spare_nodes =
        spares_after_cut(bundle.config.faults.spare_nodes, bundle.config.nodes, nodes);
    let keep = |n: usize| n < nodes;
    let voters = nodes - candidate.config.faults.spare_nodes;
    let mut damaged: Vec<usize> = Vec::new();
    for f in &bundle.script {
        if let Fault::Corrupt { node, .. } = f.fault {
            if keep(node) && !damaged.contains(&node) && damaged.len() < (voters - 1) / 2 {
                damaged.push(node);
            }
        }
    }
    let fit = |t: Target| match t {
        Target::Node(n) if keep(n) => Some(t),
        Target::Node(_) => None,
        Target::Leader { fallback } => Some(Target::Leader {
            fallback: fallback % nodes,
        }),
    };
    candidate.script = bundle
        .script
        .iter()
        .filter_map(|f| {
            let fault = match &f.fault {
                Fault::Split { side_a } => {
                    let side_a: Vec<usize> = side_a.iter().copied().filter(|&n| keep(n)).collect();
                    if side_a.is_empty() || side_a.len() == nodes {
                        return None;
                    }
                    Fault::Split { side_a }
                }
                Fault::Isolate { target } => Fault::Isolate {
                    target: fit(*target)?,
                },
                Fault::OneWay { from, to } if keep(*from) && keep(*to) => f.fault.clone(),
                Fault::Bridge { side_a, bridge } if keep(*bridge) => {
                    let side_a: Vec<usize> = side_a.iter().copied().filter(|&n| keep(n)).collect();
                    Fault::Bridge {
                        side_a,
                        bridge: *bridge,
                    }
                }
                Fault::Heal => Fault::Heal,
                Fault::KillNextLeader { .. } | Fault::CrashMidWrite { .. } => f.fault.clone(),
                Fault::ReplaceObserverDisk { node } if keep(*node) => f.fault.clone(),
                Fault::Clog { from, to, .. } if keep(*from) && keep(*to) => f.fault.clone(),
                Fault::Crash { target, down_us } => Fault::Crash {
                    target: fit(*target)?,
                    down_us: *down_us,
                },
                Fault::Pause { target, for_us } => Fault::Pause {
                    target: fit(*target)?,
                    for_us: *for_us,
                },
                Fault::WriteError {
                    target,
                    error,
                    restart_after_us,
                } => Fault::WriteError {
                    target: fit(*target)?,
                    error: *error,
                    restart_after_us: *restart_after_us,
                },
                Fault::LoseLog { target, down_us } => Fault::LoseLog {
                    target: fit(*target)?,
                    down_us: *down_us,
                },
                Fault::Clock { node, .. } if keep(*node) => f.fault.clone(),
                Fault::Corrupt { node, .. } if damaged.contains(node) => f.fault.clone(),
                Fault::ReadError { node } if keep(*node) => f.fault.clone(),
                Fault::Transfer { to } => Fault::Transfer {
                    to: to.filter(|&n| keep(n)),
                },
                Fault::Snapshot { target } => Fault::Snapshot {
                    target: fit(*target)?,
                },
                Fault::PauseApply { target, for_us } => Fault::PauseApply {
                    target: fit(*target)?,
                    for_us: *for_us,
                },
                Fault::Membership { node, .. } if keep(*node) => f.fault.clone(),
                Fault::Replace { add, remove, .. } if keep(*add) && keep(*remove) => {
                    f.fault.clone()
                }
                Fault::Reconfigure { steps, .. } if steps.iter().all(|s| keep(s.node())) => {
                    f.fault.clone()
                }
                Fault::Disaster { .. } => f.fault.clone(),
                _ => return None,
            };
            Some(ScriptedFault { at: f.at, fault })
        })
        .collect();
    candidate
}

/// Spare nodes are the highest-numbered: cutting the cluster from `from` to `to` nodes removes
/// them first, and at least one voter stays (growing it keeps them, up to `to - 1`).
pub fn spares_after_cut(spares: usize, from: usize, to: usize) -> usize {
    spares
        .saturating_sub(from.saturating_sub(to))
        .min(to.saturating_sub(1))
}

/// The most leaders a [`Fault::KillNextLeader`] kills, and the most steps of a
/// [`Fault::Reconfigure`], in a bundle.
const MAX_SCRIPTED_REPEATS: u32 = 1_000;

/// Every node a fault names (a leader target's fallback included).
fn nodes_named(fault: &Fault) -> Vec<usize> {
    let target = |t: &Target| match t {
        Target::Node(n) => *n,
        Target::Leader { fallback } => *fallback,
    };
    match fault {
        Fault::Split { side_a } => side_a.clone(),
        Fault::Bridge { side_a, bridge } => side_a.iter().copied().chain([*bridge]).collect(),
        Fault::OneWay { from, to } | Fault::Clog { from, to, .. } => vec![*from, *to],
        Fault::Isolate { target: t }
        | Fault::Crash { target: t, .. }
        | Fault::Pause { target: t, .. }
        | Fault::WriteError { target: t, .. }
        | Fault::LoseLog { target: t, .. }
        | Fault::PauseApply { target: t, .. }
        | Fault::Snapshot { target: t } => vec![target(t)],
        Fault::Corrupt { node, .. }
        | Fault::ReadError { node }
        | Fault::ReplaceObserverDisk { node }
        | Fault::Clock { node, .. }
        | Fault::Membership { node, .. } => {
            vec![*node]
        }
        Fault::Transfer { to } => to.iter().copied().collect(),
        Fault::Replace { add, remove, .. } => vec![*add, *remove],
        Fault::Reconfigure { steps, .. } => steps.iter().map(|s| s.node()).collect(),
        Fault::Heal
        | Fault::KillNextLeader { .. }
        | Fault::CrashMidWrite { .. }
        | Fault::Disaster { .. } => Vec::new(),
    }
}

/// Every duration a fault carries.
fn durations(fault: &Fault) -> Vec<Micros> {
    match fault {
        Fault::Clog { for_us, .. }
        | Fault::Pause { for_us, .. }
        | Fault::PauseApply { for_us, .. } => vec![*for_us],
        Fault::Crash { down_us, .. }
        | Fault::CrashMidWrite { down_us }
        | Fault::LoseLog { down_us, .. }
        | Fault::Clock {
            change: crate::clocks::ClockChange::Stall { for_us: down_us },
            ..
        } => vec![*down_us],
        Fault::WriteError {
            restart_after_us, ..
        } => vec![*restart_after_us],
        Fault::KillNextLeader {
            after_us, down_us, ..
        } => vec![*after_us, *down_us],
        _ => Vec::new(),
    }
}

/// A planted bug a bundle names must be in this build's catalogue.
fn check_planted_bug(name: &str) -> Result<(), String> {
    crate::planted::check(name)
        .map(|_| ())
        .map_err(|e| format!("planted_bug: {e}"))
}

/// Zeller's ddmin: a smallest-found subsequence of `items` for which `fails` still holds
/// (1-minimal: removing any single remaining item makes it pass).
pub fn ddmin<T: Clone>(items: Vec<T>, mut fails: impl FnMut(&[T]) -> bool) -> Vec<T> {
    let mut current = items;
    let mut granularity = 2usize;
    while current.len() >= 2 {
        let chunk = current.len().div_ceil(granularity);
        let mut reduced = false;
        // Try removing each chunk (testing each complement).
        let mut start = 0;
        while start < current.len() {
            let end = (start + chunk).min(current.len());
            let complement: Vec<T> = current[..start]
                .iter()
                .chain(current[end..].iter())
                .cloned()
                .collect();
            if fails(&complement) {
                current = complement;
                granularity = (granularity - 1).max(2);
                reduced = true;
                break;
            }
            start = end;
        }
        if !reduced {
            if granularity >= current.len() {
                break;
            }
            granularity = (granularity * 2).min(current.len());
        }
    }
    if current.len() == 1 && fails(&[]) {
        current.clear();
    }
    current
}

#[cfg(test)]
mod tests;
