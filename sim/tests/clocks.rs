//! Clock faults on a quiet five-node cluster with a hand-written script: a stalled leader
//! stops sending heartbeats and is replaced, a follower whose clock jumps past its election
//! timeout campaigns at once, a leader whose clock runs slow sends fewer heartbeats, and each
//! run passes every check.

use sim::faults::{ClockChange, Fault, ScriptedFault};
use sim::trace::TraceEvent;
use sim::{RunOptions, RunReport, SimConfig};

const AT: u64 = 2_000_000;

fn run(script: Vec<ScriptedFault>) -> RunReport {
    run_with_clients(script, None)
}

/// [`run`], with `clients` clients instead of the seed's when given.
fn run_with_clients(script: Vec<ScriptedFault>, clients: Option<usize>) -> RunReport {
    let mut config = SimConfig::draw(3).without_faults();
    config.nodes = 5;
    if let Some(clients) = clients {
        config.workload.clients = clients;
    }
    let options = RunOptions {
        keep_trace: true,
        script: Some(script),
        ..Default::default()
    };
    let report = sim::run(config, &options);
    assert!(report.passed(), "{:?}", report.violation);
    report
}

fn clock(node: usize, change: ClockChange) -> Vec<ScriptedFault> {
    vec![ScriptedFault {
        at: AT,
        fault: Fault::Clock { node, change },
    }]
}

/// The node that leads at `at`, and the time it won.
fn leader_at(trace: &[TraceEvent], at: u64) -> (usize, u64) {
    let won = trace
        .iter()
        .rfind(|e| e.time <= at && e.kind == "role" && e.field("role") == Some("leader"))
        .expect("a leader");
    (won.node.unwrap(), won.time)
}

/// Wins in `from..to`: (node, term).
fn wins(trace: &[TraceEvent], from: u64, to: u64) -> Vec<(usize, String)> {
    trace
        .iter()
        .filter(|e| (from..to).contains(&e.time))
        .filter(|e| e.kind == "role" && e.field("role") == Some("leader"))
        .map(|e| (e.node.unwrap(), e.field("term").unwrap().to_string()))
        .collect()
}

/// Heartbeats (appends without entries) `node` sends in `from..to`.
fn heartbeats(trace: &[TraceEvent], node: usize, from: u64, to: u64) -> usize {
    trace
        .iter()
        .filter(|e| (from..to).contains(&e.time) && e.node == Some(node) && e.kind == "send")
        .filter(|e| {
            e.field("msg")
                .is_some_and(|m| m.starts_with("AE(") && m.ends_with("entries=-)"))
        })
        .count()
}

#[test]
fn a_stalled_leader_sends_no_heartbeat_and_another_node_wins() {
    // Without clients: a leader appends their writes whatever its clock does, and followers
    // that hear appends do not campaign.
    let run = |script| run_with_clients(script, Some(0));
    let calm = run(Vec::new());
    let (leader, _) = leader_at(&calm.trace, AT);
    assert!(wins(&calm.trace, AT, AT + 1_000_000).is_empty());
    let stalled = run(clock(leader, ClockChange::Stall { for_us: 1_000_000 }));
    assert_eq!(
        leader_at(&stalled.trace, AT).0,
        leader,
        "the same run up to the fault"
    );
    let new = wins(&stalled.trace, AT, AT + 1_000_000);
    assert!(
        new.iter().any(|&(n, _)| n != leader),
        "nobody replaced the stalled n{leader}: {new:?}"
    );
    // Its clock stands still: no heartbeat from it while the others elect a leader.
    let sent = |r: &RunReport| heartbeats(&r.trace, leader, AT + 20_000, AT + 200_000);
    assert!(sent(&calm) > 0);
    assert_eq!(sent(&stalled), 0);
}

#[test]
fn a_follower_whose_clock_jumps_past_its_election_timeout_campaigns_at_once() {
    let calm = run(Vec::new());
    let (leader, _) = leader_at(&calm.trace, AT);
    let follower = (leader + 1) % 5;
    let jumped = run(clock(follower, ClockChange::Jump { ticks: 60 }));
    let first = jumped
        .trace
        .iter()
        .find(|e| e.time >= AT && e.node == Some(follower) && e.kind == "send")
        .expect("the follower sent something");
    assert_eq!(first.time, AT, "{first:?}");
    let msg = first.field("msg").unwrap();
    assert!(msg.starts_with("PVQ") || msg.starts_with("VQ"), "{first:?}");
}

#[test]
fn a_leader_whose_clock_runs_slow_sends_fewer_heartbeats() {
    let calm = run(Vec::new());
    let (leader, _) = leader_at(&calm.trace, AT);
    let slow = run(clock(leader, ClockChange::Rate { ppm: 300_000 }));
    let window = |r: &RunReport| heartbeats(&r.trace, leader, AT, AT + 2_000_000);
    let (normal, slowed) = (window(&calm), window(&slow));
    assert!(normal > 20, "{normal} heartbeats in 2 s");
    // Its ticks come 30% apart further: about 1/1.3 of the heartbeats.
    assert!(
        slowed * 13 <= normal * 11 && slowed * 13 >= normal * 9,
        "{slowed} heartbeats against {normal}"
    );
}

#[test]
fn drawn_clock_faults_strike_and_the_correct_core_survives_them() {
    let mut struck = 0;
    for seed in 0..12 {
        let mut config = SimConfig::draw(seed);
        config.faults.clock_faults = 4;
        let report = sim::run(config, &RunOptions::default());
        assert!(report.passed(), "seed {seed}: {:?}", report.violation);
        struck += ["clock-rate", "clock-jump", "clock-stall"]
            .iter()
            .filter_map(|k| report.stats.faults.get(*k))
            .sum::<u64>();
    }
    assert!(
        struck >= 30,
        "only {struck} clock faults struck in 12 seeds"
    );
}
