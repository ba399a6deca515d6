//! The leader's commit index: current-term entries only (Raft Figure 8), acknowledgements of
//! this term only, match indexes from what was acknowledged, and its own entries counted only
//! once durable.

use crate::support::*;
use raft_core::{Entry, PersistId};

/// Leader of term 4 whose log holds an entry of term 2 at index 2 and its no-op at 3, durable.
fn figure8_leader() -> raft_core::Node {
    let mut node = leader(THREE, 4, &[1, 2]);
    assert_eq!(node.persisted(PersistId(2)).unwrap(), vec![]);
    node
}

#[test]
fn figure8_entry_of_an_earlier_term_is_not_committed_by_counting_replicas() {
    let mut node = figure8_leader();

    // n2 now holds index 2: the term-2 entry is on a majority (n1, n2), yet not committed.
    assert_eq!(
        node.receive(n(2), ack(2, 4, 2)),
        vec![send(2, append(ME, 4, 2, 2, vec![noop(4, 3, THREE)], 0))]
    );
    assert_eq!(node.commit_index(), 0);
    assert_eq!(node.match_index(n(2)), Some(2));
}

#[test]
fn figure8_earlier_term_entries_commit_with_the_first_current_term_entry() {
    let mut node = figure8_leader();
    node.receive(n(2), ack(2, 4, 2));

    assert_eq!(
        node.receive(n(2), ack(2, 4, 3)),
        vec![
            apply(vec![entry(1, 1), entry(2, 2), noop(4, 3, THREE)]),
            leader_changed(4, Some(ME)),
        ]
    );
}

#[test]
fn acknowledgement_from_an_earlier_term_is_ignored() {
    let mut node = figure8_leader();

    // In term 3 index 3 may have held another entry: this says nothing about term 4's no-op.
    assert_eq!(node.receive(n(2), ack(2, 3, 3)), vec![]);
    assert_eq!(node.match_index(n(2)), Some(0));
    assert_eq!(node.commit_index(), 0);
}

#[test]
fn stale_acknowledgement_does_not_lower_the_match_index() {
    let mut node = ready_leader(THREE, 2, &[1]);
    node.propose(2, "x").unwrap();
    node.receive(n(2), ack(2, 2, 3));
    assert_eq!(node.match_index(n(2)), Some(3));

    // A duplicate of n2's acknowledgement of the no-op.
    assert_eq!(node.receive(n(2), ack(2, 2, 2)), vec![]);
    assert_eq!(node.match_index(n(2)), Some(3));
}

#[test]
fn match_index_comes_from_the_acknowledged_request_not_from_next_index() {
    let mut node = ready_leader(THREE, 2, &[1]);
    node.propose(2, "a").unwrap();
    node.propose(2, "b").unwrap();
    assert_eq!(node.persisted(PersistId(4)).unwrap(), vec![]);

    // Indexes 3 and 4 went to n2 in two requests; it acknowledges the first only.
    assert_eq!(
        node.receive(n(2), ack(2, 2, 3)),
        vec![apply(vec![Entry::normal(2, 3, "a")])]
    );
    assert_eq!(node.match_index(n(2)), Some(3));
    assert_eq!(node.commit_index(), 3);
}

#[test]
fn leader_counts_its_own_entries_only_once_they_are_durable() {
    // The no-op (index 1) is sent but the leader's own write of it is not complete.
    let mut node = leader(THREE, 2, &[]);

    // n2 holds it; with the leader that would be 2 of 3, but the leader's copy does not count.
    assert_eq!(node.receive(n(2), ack(2, 2, 1)), vec![]);
    assert_eq!(node.commit_index(), 0);

    assert_eq!(
        node.persisted(PersistId(2)).unwrap(),
        vec![apply(vec![noop(2, 1, THREE)]), leader_changed(2, Some(ME))]
    );
}

#[test]
fn leader_commits_on_follower_acknowledgements_alone_when_they_are_a_majority() {
    let mut node = leader(THREE, 2, &[]);
    node.receive(n(2), ack(2, 2, 1));

    assert_eq!(
        node.receive(n(3), ack(3, 2, 1)),
        vec![apply(vec![noop(2, 1, THREE)]), leader_changed(2, Some(ME))]
    );
}

#[test]
fn leader_of_more_than_sixteen_voters_commits_at_a_majority() {
    // Beyond 16 voters the match indexes no longer fit the leader's stack buffer.
    let voters: Vec<u64> = (1..=17).collect();
    let mut node = leader(&voters, 2, &[]);
    assert_eq!(node.persisted(PersistId(2)).unwrap(), vec![]);

    // With the leader, 8 followers are 9 of 17.
    for peer in 2..=8 {
        assert_eq!(node.receive(n(peer), ack(peer, 2, 1)), vec![], "n{peer}");
    }
    assert_eq!(
        node.receive(n(9), ack(9, 2, 1)),
        vec![
            apply(vec![noop(2, 1, &voters)]),
            leader_changed(2, Some(ME))
        ]
    );
}
