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

/// The losses `seed` drew that the guard declined, and whether the run passed.
fn declined_losses(seed: u64) -> (Option<String>, Vec<String>) {
    let options = RunOptions {
        keep_trace: true,
        ..RunOptions::default()
    };
    let report = sim::run(SimConfig::draw(seed), &options);
    let declined = report
        .trace
        .iter()
        .filter(|e| e.kind == "fault")
        .filter_map(|e| e.field("what"))
        .filter(|what| what.starts_with("lose the log declined"))
        .map(str::to_string)
        .collect();
    (report.violation.map(|v| v.to_string()), declined)
}

/// Seed 9380: the voters {n1,n2} committed index 81, then n2 appended the addition of n0 and
/// lost its log. In the membership every node had in effect, n0 and n1 held n2's log, but
/// the entries had been committed by {n1,n2}, where n1 alone still held them. The guard
/// judges every membership the logs hold and declines.
#[test]
fn a_loss_is_judged_against_the_membership_before_a_change_in_flight() {
    let (violation, declined) = declined_losses(9380);
    assert_eq!(violation, None);
    assert!(
        declined.iter().any(|d| d.contains("of the voters {n1,n2}")),
        "seed 9380 no longer draws the loss during the addition of n0; pick another: {declined:?}"
    );
}

/// Seed 2026: the latest membership removes n2 (not committed) and the leader n1, which
/// committed index 117 with n0 and n2 before its own write of it was synced, is down. Judged
/// only on the membership without n2, the loss of n2's log would leave 117 on n0 alone,
/// where n1, back with a log ending at 116, could win n2's vote.
#[test]
fn a_node_a_change_in_flight_removes_still_counts_for_what_it_acknowledged() {
    let (violation, declined) = declined_losses(2026);
    assert_eq!(violation, None);
    assert!(
        declined
            .iter()
            .any(|d| d.contains("its log through 119@t12")),
        "seed 2026 no longer draws the loss of the removed n2; pick another: {declined:?}"
    );
}

/// Seed 9472: n0 and n2, once voters, are observers of the sole voter n1 when they lose
/// their logs. Rebuilt from index 1, n0 passes through the initial membership {n0,n1,n2},
/// where n2's empty log would grant it the vote n1 refuses: a leader without the committed
/// entries. The guard declines (the earlier memberships the leader's log holds count).
#[test]
fn a_loss_is_judged_against_the_memberships_a_rebuilt_log_passes_through() {
    let (violation, declined) = declined_losses(9472);
    assert_eq!(violation, None);
    assert!(
        declined
            .iter()
            .any(|d| d.contains("of the voters {n0,n1,n2}")),
        "seed 9472 no longer draws the losses of the two observers; pick another: {declined:?}"
    );
}
