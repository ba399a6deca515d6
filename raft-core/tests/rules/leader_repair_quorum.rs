//! Protocol-aware recovery, leader side: when a repairing node knows the membership it
//! counts in (no damaged entry changed it), which answers make the nack quorum (voters
//! only, as many as meet every commit quorum of the quorum in effect, a rescue's included),
//! and which donor entries the repairing leader takes next to its committed ones.

use crate::leader_repair::{
    campaigns_at_the_third_timeout, damaged, elected_by_n2, repair_config, repair_request,
    repair_response,
};
use crate::support::*;
use raft_core::{LogDamage, Node, PersistId, Recovered, RepairOffer, Role};

/// `n1` of three, whose WAL held `1 1 2 2` but only `1 1` survived damage, with the
/// membership-bound file reading `bound`.
fn damaged_with_membership_bound(bound: Option<u64>) -> Node {
    Node::new(
        repair_config(THREE),
        Recovered {
            hard_state: hs(2, None),
            log: log(&[1, 1]),
            damage: Some(LogDamage::HeldThrough { index: 4, term: 2 }),
            membership_bound: bound,
            ..Recovered::default()
        },
    )
    .expect("valid recovery")
}

#[test]
fn repairing_node_whose_damaged_entries_may_have_changed_the_membership_never_campaigns() {
    // Entry 3 or 4, both damaged, may have changed the membership (bound 3), or the host
    // keeps no bound (None): the node cannot know the membership it held, so it waits for a
    // leader however long none is heard.
    for bound in [Some(3), Some(4), None] {
        let mut node = damaged_with_membership_bound(bound);
        for _ in 0..10 {
            assert_eq!(node.campaign(), vec![], "bound {bound:?}");
        }
        assert_eq!(node.role(), Role::Follower);
    }
}

#[test]
fn repairing_node_that_does_not_know_where_its_log_ended_never_campaigns() {
    // Its last WAL record was damaged: it answers votes for every index of term 2, a claim
    // it must not campaign with.
    let mut node = Node::new(
        repair_config(THREE),
        Recovered {
            hard_state: hs(2, None),
            log: log(&[1, 1]),
            damage: Some(LogDamage::Unknown { term_bound: 2 }),
            membership_bound: Some(0),
            ..Recovered::default()
        },
    )
    .expect("valid recovery");
    assert_eq!(
        node.campaign(),
        vec![persist(1, Some(hs(3, None)), None)],
        "only the term past the one it answers for, adopted at recovery"
    );
    node.persisted(PersistId(1)).unwrap();
    for _ in 0..10 {
        assert_eq!(node.campaign(), vec![]);
    }
    assert_eq!(node.role(), Role::Follower);
}

#[test]
fn repairing_node_whose_last_membership_change_is_intact_campaigns_after_three_timeouts() {
    // The last change is at most entry 2, which survived: the intact log's membership is
    // the one the node held.
    campaigns_at_the_third_timeout(damaged_with_membership_bound(Some(2)));
}

/// `n1`, whose WAL held `1 1 2 2` but only `1 1` survived damage, in term 2 of `config`'s
/// voters and the membership `peers` (recorded in its peer-state file).
fn damaged_member(config: raft_core::Config, membership: raft_core::PeerState) -> Node {
    Node::new(
        config,
        Recovered {
            hard_state: hs(2, None),
            log: log(&[1, 1]),
            membership: Some(membership),
            damage: Some(LogDamage::HeldThrough { index: 4, term: 2 }),
            membership_bound: Some(0),
            ..Recovered::default()
        },
    )
    .expect("valid recovery")
}

fn positions(peer: u64, held: (u64, u64)) -> raft_core::Message {
    repair_response(peer, 3, held, held, 2, RepairOffer::Positions)
}

#[test]
fn observers_answer_is_not_counted_in_the_nack_quorum() {
    let node = damaged_member(repair_config(THREE), peers(THREE, &[4]));
    let mut node = elected_by_n2(node);

    // The observer's answer counts for nothing: one voter answered of the two needed.
    assert_eq!(node.receive(n(4), positions(4, (1, 1))), vec![]);
    assert_eq!(node.receive(n(3), positions(3, (1, 2))), vec![]);
    assert_eq!(node.last_index(), 2);
    assert!(node.is_leader_repairing());
    // n2's answer makes the nack quorum: the no-op follows.
    node.receive(n(2), positions(2, (1, 2)));
    assert_eq!(node.last_index(), 3);
    assert!(!node.is_leader_repairing());
}

#[test]
fn under_a_rescued_quorum_the_nack_quorum_meets_every_smaller_commit_quorum() {
    // Five voters rescued to a quorum of two: any two voters may have committed an entry,
    // so the answers must come from four voters besides this one, not a majority of three.
    let mut node = damaged_member(repair_config(FIVE), peers(FIVE, &[]));
    node.rescue_quorum(2, 1_000).expect("leaderless voter");
    let mut node = elected_by_n2(node);

    for peer in [2, 3, 4] {
        assert_eq!(node.receive(n(peer), positions(peer, (1, 2))), vec![]);
    }
    assert_eq!(node.last_index(), 2);
    assert!(node.is_leader_repairing());
    node.receive(n(5), positions(5, (1, 1)));
    assert_eq!(node.last_index(), 3);
    assert!(!node.is_leader_repairing());
}

/// [`damaged`] that heard the leader of term 2 commit index 2 (and applied it) before it
/// campaigned, elected
/// in term 3: n3 answered (1, 2), n2 (2, 4), and n2, the donor, named index 1 as its retry
/// point, so the leader asks it for its entries after index 1, below its commit index.
fn fetching_below_its_commit_index() -> Node {
    let mut node = damaged();
    assert_eq!(
        node.receive(n(2), append(2, 2, 2, 1, vec![], 2)),
        vec![
            leader_changed(2, Some(2)),
            apply(log(&[1, 1])),
            send(2, ack(ME, 2, 2))
        ]
    );
    node.applied(2).expect("handed out");
    let mut node = elected_by_n2(node);
    node.receive(n(3), positions(3, (1, 2)));
    assert_eq!(
        node.receive(n(2), positions(2, (2, 4))),
        vec![send(2, repair_request(3, 2, 1, true))]
    );
    let retry = repair_response(2, 3, (2, 4), (2, 4), 2, RepairOffer::Mismatch { hint: 1 });
    assert_eq!(
        node.receive(n(2), retry),
        vec![send(2, repair_request(3, 1, 1, true))]
    );
    node
}

#[test]
fn donor_entries_that_agree_with_committed_ones_are_taken() {
    let mut node = fetching_below_its_commit_index();
    let offer = RepairOffer::Entries(vec![entry(1, 2)]);
    // The donor stays; the entry is written again (the same bytes) and the leader asks on.
    assert_eq!(
        node.receive(n(2), repair_response(2, 3, (2, 4), (2, 4), 1, offer)),
        vec![
            persist(2, None, Some(write(1, 1, vec![entry(1, 2)]))),
            send(2, repair_request(3, 2, 1, true)),
        ]
    );
}

#[test]
fn donor_entries_that_contradict_a_committed_one_are_not_taken() {
    let mut node = fetching_below_its_commit_index();
    let offer = RepairOffer::Entries(vec![entry(2, 2)]);
    assert_eq!(
        node.receive(n(2), repair_response(2, 3, (2, 4), (2, 4), 1, offer)),
        vec![]
    );
    assert_eq!(node.entry(2), Some(&entry(1, 2)));
}

#[test]
fn repairing_leader_that_cannot_finish_steps_down_after_two_election_timeouts() {
    let mut config = repair_config(THREE);
    // Check-quorum would depose a leader nobody answers first: this rule is for a leader
    // its peers answer (only positions, never the entries it needs).
    config.check_quorum = false;
    let mut node = elected_by_n2(damaged_member(config, peers(THREE, &[])));
    let limit = 2 * node.config().election_timeout_max;
    for _ in 1..limit {
        node.tick();
    }
    assert!(node.is_leader_repairing(), "one tick short of the bound");
    assert_eq!(node.tick(), vec![role(Role::Follower, 3)]);
    // It waits for a leader again: an intact node campaigns before it does.
    assert_eq!(node.campaign(), vec![], "first timeout");
    assert_eq!(node.campaign(), vec![], "second timeout");
}
