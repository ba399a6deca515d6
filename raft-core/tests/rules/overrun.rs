//! Overrun (NRG #7853, #8065): a leader whose backlog passes the threshold steps down; a
//! follower whose unapplied backlog passes it pauses its acknowledgements until it drains;
//! a candidacy clears the pause.

use crate::support::*;
use raft_core::{Config, Node, PersistId, Role};

fn with_threshold(voters: &[u64], threshold: u64) -> Config {
    Config {
        max_uncommitted_entries: threshold,
        ..config(voters, SEED)
    }
}

/// A follower of n2 in term 2 with the threshold at 10: it holds and has applied nothing.
fn follower_with_threshold_10() -> Node {
    follower_of_with(with_threshold(THREE, 10), 2, 2, &[])
}

/// Twelve entries of term 2 from index 1, all committed by the leader.
fn twelve_committed() -> raft_core::Message {
    append(2, 2, 0, 0, log(&[2; 12]), 12)
}

// ----- the leader -----------------------------------------------------------------------------

#[test]
fn leader_whose_uncommitted_backlog_reached_the_threshold_steps_down_at_its_next_tick() {
    let mut node = ready_leader_with(with_threshold(THREE, 2), 2, &[]);
    node.propose(2, "a").expect("room for one");
    node.propose(2, "b").expect("room for two");

    assert_eq!(
        node.tick(),
        vec![role(Role::Follower, 2), leader_changed(2, None)]
    );
    assert_eq!(node.hard_state(), hs(2, Some(ME)), "the vote stays");
}

#[test]
fn leader_below_the_threshold_keeps_leading() {
    let mut node = ready_leader_with(with_threshold(THREE, 2), 2, &[]);
    node.propose(2, "a").expect("room for one");
    node.tick();
    assert_eq!(node.role(), Role::Leader);
}

#[test]
fn new_leaders_uncommitted_noop_does_not_count_among_its_own_proposals() {
    // Threshold 2: the no-op (index 1, not yet durable or acknowledged) and one proposal.
    let mut node = leader_with(with_threshold(THREE, 2), 2, &[]);
    node.propose(2, "a").expect("room for one");
    assert_eq!((node.last_index(), node.commit_index()), (2, 0));

    node.tick();
    assert_eq!(node.role(), Role::Leader, "one own proposal is below 2");
}

#[test]
fn leader_whose_unconsumed_commits_passed_the_threshold_steps_down_at_its_next_tick() {
    let mut node = ready_leader_with(with_threshold(THREE, 1), 2, &[]);
    node.applied(1).expect("handed out");
    for (index, value) in [(2, "a"), (3, "b")] {
        node.propose(2, value).expect("room for one");
        node.persisted(PersistId(index + 1)).expect("issued");
        node.receive(n(2), ack(2, 2, index));
    }
    assert_eq!((node.commit_index(), node.applied_index()), (3, 1));

    assert_eq!(
        node.tick(),
        vec![role(Role::Follower, 2), leader_changed(2, None)]
    );
}

// ----- the follower ---------------------------------------------------------------------------

#[test]
fn follower_whose_unconsumed_commits_passed_the_threshold_stores_but_does_not_acknowledge() {
    let mut node = follower_with_threshold_10();
    let entries = log(&[2; 12]);

    assert_eq!(
        node.receive(n(2), twelve_committed()),
        vec![
            persist(1, None, Some(write(0, 0, entries.clone()))),
            apply(entries)
        ]
    );
    assert!(node.is_quorum_paused());
}

#[test]
fn paused_follower_acknowledges_again_once_its_backlog_drained_to_a_tenth() {
    let mut node = follower_with_threshold_10();
    node.receive(n(2), twelve_committed());
    node.persisted(PersistId(1)).expect("issued");

    node.applied(10).expect("handed out");
    assert!(
        node.is_quorum_paused(),
        "two unapplied are more than a tenth of 10"
    );
    assert_eq!(node.receive(n(2), append(2, 2, 12, 2, vec![], 12)), vec![]);

    node.applied(12).expect("handed out");
    assert!(!node.is_quorum_paused());
    assert_eq!(
        node.receive(n(2), append(2, 2, 12, 2, vec![], 12)),
        vec![send(2, ack(ME, 2, 12))]
    );
}

#[test]
fn follower_whose_unconsumed_commits_reached_but_did_not_pass_the_threshold_acknowledges() {
    let mut node = follower_with_threshold_10();
    let entries = log(&[2; 10]);

    assert_eq!(
        node.receive(n(2), append(2, 2, 0, 0, entries.clone(), 10)),
        vec![
            persist(1, None, Some(write(0, 0, entries.clone()))),
            apply(entries)
        ]
    );
    assert!(!node.is_quorum_paused(), "ten unapplied do not pass 10");
    assert_eq!(
        node.persisted(PersistId(1)),
        Ok(vec![send(2, ack(ME, 2, 10))])
    );
}

#[test]
fn paused_follower_resumes_with_a_tenth_of_the_threshold_still_unapplied() {
    let mut node = follower_with_threshold_10();
    node.receive(n(2), twelve_committed());
    node.persisted(PersistId(1)).expect("issued");
    assert!(node.is_quorum_paused());

    node.applied(11).expect("handed out");
    assert!(!node.is_quorum_paused(), "one unapplied is a tenth of 10");
}

#[test]
fn candidacy_clears_the_quorum_pause() {
    // A quorum-paused follower cannot campaign by its timer (its commits are not consumed),
    // but a leader transfer's TimeoutNow makes it a candidate.
    let mut node = follower_with_threshold_10();
    node.receive(n(2), twelve_committed());
    node.persisted(PersistId(1)).expect("issued");
    assert!(node.is_quorum_paused());

    node.receive(n(2), timeout_now(2, 2));
    assert_eq!(node.role(), Role::Candidate);
    assert!(!node.is_quorum_paused());
}
