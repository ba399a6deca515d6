//! Disk loss: a node loses the disk holding its log but keeps its term/vote file, boots with
//! an empty log and is brought back by its leader; a loss that could leave a committed entry
//! without a quorum of copies is declined.

use sim::faults::{Fault, ScriptedFault, Target};
use sim::trace::TraceEvent;
use sim::{RunOptions, RunReport, SimConfig};

fn run(nodes: usize, script: Vec<ScriptedFault>) -> RunReport {
    let mut config = SimConfig::draw(3).without_faults();
    config.nodes = nodes;
    let options = RunOptions {
        keep_trace: true,
        script: Some(script),
        ..Default::default()
    };
    sim::run(config, &options)
}

fn lose_log(at: u64, node: usize) -> ScriptedFault {
    ScriptedFault {
        at,
        fault: Fault::LoseLog {
            target: Target::Node(node),
            down_us: 300_000,
        },
    }
}

fn faults_at(trace: &[TraceEvent], node: usize) -> Vec<String> {
    trace
        .iter()
        .filter(|e| e.kind == "fault" && e.node == Some(node))
        .filter_map(|e| Some(e.field("what")?.to_string()))
        .collect()
}

#[test]
fn a_follower_that_lost_its_log_boots_empty_with_its_term_and_is_brought_back() {
    let report = run(5, vec![lose_log(2_000_000, 1)]);
    assert!(report.passed(), "{:?}", report.violation);
    assert_eq!(
        faults_at(&report.trace, 1),
        ["log and snapshot lost, term and vote kept"]
    );
    assert_eq!(report.stats.faults.get("log-lost"), Some(&1));
    let lost_at = report
        .trace
        .iter()
        .find(|e| e.kind == "fault" && e.node == Some(1))
        .unwrap()
        .time;
    let restart = report
        .trace
        .iter()
        .find(|e| e.kind == "start" && e.node == Some(1) && e.time > lost_at)
        .expect("n1 restarted");
    assert_eq!(restart.field("last_index"), Some("0"), "{restart:?}");
    // The term survived the loss: the node restarts in the term it had, not in term 0.
    let term: u64 = restart.field("term").unwrap().parse().unwrap();
    assert!(term >= 1, "{restart:?}");
    let applied = report
        .trace
        .iter()
        .filter(|e| e.kind == "apply" && e.node == Some(1) && e.time > restart.time)
        .filter_map(|e| e.field("last")?.parse::<u64>().ok())
        .max()
        .unwrap_or(0);
    assert!(
        applied > 10,
        "n1 applied only up to {applied} after the loss"
    );
}

#[test]
fn a_second_loss_is_declined_while_the_first_node_has_not_caught_up() {
    // Three voters: once n1 lost its log, n2's log is held by n0 alone, one of three.
    let report = run(3, vec![lose_log(2_000_000, 1), lose_log(2_000_000, 2)]);
    assert!(report.passed(), "{:?}", report.violation);
    assert_eq!(report.stats.faults.get("log-lost"), Some(&1));
    let declined = faults_at(&report.trace, 2);
    assert_eq!(declined.len(), 1, "{declined:?}");
    assert!(
        declined[0].starts_with("lose the log declined: only 1 of the voters"),
        "{declined:?}"
    );
}

#[test]
fn drawn_disk_losses_strike_and_the_correct_core_survives_them() {
    let mut struck = 0;
    for seed in 0..12 {
        let mut config = SimConfig::draw(seed);
        config.faults.disk_losses = 3;
        let report = sim::run(config, &RunOptions::default());
        assert!(report.passed(), "seed {seed}: {:?}", report.violation);
        struck += report.stats.faults.get("log-lost").copied().unwrap_or(0);
    }
    assert!(struck >= 6, "only {struck} losses struck in 12 seeds");
}

/// The guard planted away (`log-loss-unguarded`): the same two losses leave the committed
/// entries on one voter of three, and the checkers say so at once.
#[cfg(feature = "planted-bugs")]
#[test]
fn without_the_guard_the_second_loss_leaves_committed_entries_on_a_minority() {
    let mut config = SimConfig::draw(3).without_faults();
    config.nodes = 3;
    let options = RunOptions {
        script: Some(vec![lose_log(2_000_000, 1), lose_log(2_000_000, 2)]),
        planted_bug: Some("log-loss-unguarded".to_string()),
        ..Default::default()
    };
    let report = sim::run(config, &options);
    let violation = report
        .violation
        .expect("the unguarded losses were not noticed");
    assert_eq!(
        violation.property,
        sim::checkers::Property::CommittedDurableOnQuorum,
        "{violation:?}"
    );
    assert!(violation.time < 2_500_000, "{violation:?}");
}
