//! Sticky readers: clients that keep reading at the node of their last successful read for a
//! while (connection affinity), even after that node was deposed, so that a deposed leader's
//! reads are in the history the linearizability check judges.

use sim::config::StickyReaders;
use sim::faults::{Fault, ScriptedFault, Target};
use sim::{RunOptions, RunReport, SimConfig, StateMachine};

/// Three nodes without PreVote and CheckQuorum (so an isolated leader never learns it was
/// deposed), two key-value clients reading through ReadIndex, the first of them sticky for
/// `stay_us` after each successful read; the leader is cut off from the other nodes from 2 s
/// to 5 s (the clients still reach it) and the others elect a new leader meanwhile.
fn isolated_leader(sticky: Option<StickyReaders>, planted: Option<&str>) -> RunReport {
    let mut config = SimConfig::draw(11).without_faults();
    config.nodes = 3;
    config.faults.spare_nodes = 0;
    config.state_machine = StateMachine::Kv;
    config.compaction = None;
    config.pre_vote_check_quorum = false;
    let w = &mut config.workload;
    w.clients = 2;
    w.keys = 1;
    w.think_min_us = 10_000;
    w.think_max_us = 20_000;
    (w.put_weight, w.append_weight, w.cas_weight, w.get_weight) = (1, 0, 0, 2);
    w.read_index_gets = true;
    w.forward_requests = false;
    w.max_attempts = 30;
    w.sticky_readers = sticky;
    let at = |at, fault| ScriptedFault { at, fault };
    let script = vec![
        at(
            2_000_000,
            Fault::Isolate {
                target: Target::Leader { fallback: 0 },
            },
        ),
        at(5_000_000, Fault::Heal),
    ];
    let options = RunOptions {
        script: Some(script),
        planted_bug: planted.map(str::to_string),
        keep_trace: true,
        ..Default::default()
    };
    sim::run(config, &options)
}

fn one_sticky_reader() -> Option<StickyReaders> {
    Some(StickyReaders {
        clients: 1,
        hold_min_us: 2_000_000,
        hold_max_us: 2_000_000,
    })
}

#[test]
fn a_sticky_reader_keeps_reading_at_a_deposed_leader_and_the_correct_core_passes() {
    let report = isolated_leader(one_sticky_reader(), None);
    assert!(report.passed(), "{:?}", report.violation);
    assert!(report.stats.leaders >= 2, "{:?}", report.stats);
    assert!(
        report.stats.sticky_reads_to_deposed_leader > 0,
        "no read reached the deposed leader: {:?}",
        report.stats
    );
    assert!(report.stats.sticky_reads >= report.stats.sticky_reads_to_deposed_leader);
}

#[test]
fn without_sticky_readers_no_read_is_sent_by_affinity() {
    let report = isolated_leader(None, None);
    assert!(report.passed(), "{:?}", report.violation);
    assert_eq!(report.stats.sticky_reads, 0);
    assert_eq!(report.stats.sticky_reads_to_deposed_leader, 0);
}

#[cfg(feature = "planted-bugs")]
#[test]
fn a_deposed_leader_answering_reads_unconfirmed_is_caught_through_a_sticky_reader() {
    let bug = Some("read-without-quorum-check");
    let report = isolated_leader(one_sticky_reader(), bug);
    let violation = report.violation.expect("the stale read is reported");
    assert_eq!(
        violation.property,
        sim::Property::Linearizability,
        "{violation}"
    );
    // The same schedule without stickiness: the clients' writes time out at the deposed
    // leader, they move on to the new one and read there, and the bug goes unseen.
    let report = isolated_leader(None, bug);
    assert!(report.passed(), "{:?}", report.violation);
}

#[test]
fn about_two_seeds_in_three_draw_sticky_readers_among_their_clients() {
    let drawn: Vec<(usize, StickyReaders)> = (0..600)
        .filter_map(|seed| {
            let c = SimConfig::draw(seed);
            c.workload.sticky_readers.map(|s| (c.workload.clients, s))
        })
        .collect();
    assert!((350..450).contains(&drawn.len()), "{} of 600", drawn.len());
    for (clients, sticky) in &drawn {
        let at_least = clients.div_ceil(2);
        assert!(
            (at_least..=*clients).contains(&sticky.clients),
            "{sticky:?} of {clients}"
        );
        assert!(sticky.hold_min_us <= sticky.hold_max_us);
    }
    assert!(drawn.iter().any(|(c, s)| s.clients < *c));
    assert!(drawn.iter().any(|(c, s)| s.clients == *c && *c > 1));
}

#[test]
fn a_configuration_written_before_sticky_readers_has_none_and_none_is_not_written() {
    let mut config = SimConfig::draw(0);
    config.workload.sticky_readers = None;
    let json = serde_json::to_value(&config).unwrap();
    assert!(json["workload"].get("sticky_readers").is_none(), "{json}");
    let back: SimConfig = serde_json::from_value(json).unwrap();
    assert_eq!(back, config);
    let mut with = config.clone();
    StickyReaders::set(&mut with, 2);
    let json = serde_json::to_value(&with).unwrap();
    assert_eq!(json["workload"]["sticky_readers"]["clients"], 2);
    let back: SimConfig = serde_json::from_value(json).unwrap();
    assert_eq!(back, with);
}
