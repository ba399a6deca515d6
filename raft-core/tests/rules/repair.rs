//! Protocol-aware recovery: a node whose synced log was damaged keeps the position of the
//! log it held, answers votes with it, does not campaign, and is repaired by the leader's
//! ordinary replication once its durable log is as up to date as that position.

use crate::support::*;
use raft_core::storage::VoteRecord;
use raft_core::{LogDamage, Node, PersistId, Recovered, Role};

/// `n1` of three, in term 2, whose WAL held `1 1 2 2` but only `1 1` survived damage.
fn damaged(damage: LogDamage) -> Node {
    Node::new(
        config(THREE, SEED),
        Recovered {
            hard_state: hs(2, None),
            log: log(&[1, 1]),
            damage: Some(damage),
            ..Recovered::default()
        },
    )
    .expect("valid recovery")
}

const HELD: LogDamage = LogDamage::HeldThrough { index: 4, term: 2 };

#[test]
fn damaged_node_refuses_a_vote_to_a_candidate_behind_the_log_it_held() {
    let mut node = damaged(HELD);

    // (2, 3) is ahead of the surviving log (1, 2) but behind the held (2, 4).
    assert_eq!(
        node.receive(n(2), vote_request(2, 3, 3, 2)),
        vec![role(Role::Follower, 3), persist(1, Some(hs(3, None)), None)]
    );
    assert_eq!(
        node.persisted(PersistId(1)).unwrap(),
        vec![send(2, vote_response(ME, 3, false, false))]
    );
}

#[test]
fn damaged_node_grants_a_vote_to_a_candidate_as_up_to_date_as_the_log_it_held() {
    let mut node = damaged(HELD);

    assert_eq!(
        node.receive(n(2), vote_request(2, 3, 4, 2)),
        vec![
            role(Role::Follower, 3),
            persist(1, Some(hs(3, Some(2))), None)
        ]
    );
    assert_eq!(
        node.persisted(PersistId(1)).unwrap(),
        vec![send(2, vote_response(ME, 3, true, false))]
    );
}

#[test]
fn damaged_node_refuses_a_pre_vote_to_a_candidate_behind_the_log_it_held() {
    let mut node = damaged(HELD);

    assert_eq!(
        node.receive(n(2), pre_vote_request(2, 3, 3, 2)),
        vec![send(2, pre_vote_response(ME, 3, false, false))]
    );
}

#[test]
fn damaged_node_with_an_unknown_end_grants_only_a_later_last_term() {
    let mut node = damaged(LogDamage::Unknown { term_bound: 2 });

    // Any length at term 2 may be behind what it held. (The first output also persists the
    // term it moved to.)
    assert_eq!(
        node.receive(n(2), pre_vote_request(2, 4, 1_000, 2)),
        vec![
            persist(1, Some(hs(3, None)), None),
            send(2, pre_vote_response(ME, 4, false, false)),
        ]
    );
    assert_eq!(
        node.receive(n(3), pre_vote_request(3, 4, 1, 3)),
        vec![send(3, pre_vote_response(ME, 4, true, false))]
    );
}

#[test]
fn damaged_node_does_not_campaign_when_its_election_timeout_fires() {
    let mut node = damaged(HELD);
    for _ in 0..node.election_timeout() {
        assert_eq!(node.tick(), vec![]);
    }
    assert_eq!(node.campaign(), vec![]);
    assert_eq!(node.role(), Role::Follower);
    assert_eq!(node.repairing(), Some(HELD));
}

#[test]
fn damaged_node_is_repaired_once_the_leaders_entries_are_durable() {
    let mut node = damaged(HELD);

    // The leader of term 2 sends the lost entries; the acknowledgement waits for the write.
    assert_eq!(
        node.receive(n(2), append(2, 2, 2, 1, vec![entry(2, 3), entry(2, 4)], 0)),
        vec![
            leader_changed(2, Some(2)),
            persist(1, None, Some(write(2, 1, vec![entry(2, 3), entry(2, 4)]))),
        ]
    );
    assert_eq!(node.repairing(), Some(HELD), "not durable yet");
    assert_eq!(
        node.persisted(PersistId(1)).unwrap(),
        vec![send(2, ack(ME, 2, 4))]
    );
    assert_eq!(node.repairing(), None);
}

#[test]
fn damaged_node_is_repaired_by_a_later_term_that_replaced_what_it_held() {
    let mut node = damaged(HELD);

    // A leader of term 3 never had index 3..4 of term 2: its own entry at 3 wins.
    node.receive(n(3), append(3, 3, 2, 1, vec![entry(3, 3)], 0));
    assert_eq!(
        node.persisted(PersistId(1)).unwrap(),
        vec![send(3, ack(ME, 3, 3))]
    );
    assert_eq!(node.repairing(), None);
}

#[test]
fn damaged_node_is_not_repaired_by_a_shorter_write() {
    let mut node = damaged(HELD);

    node.receive(n(2), append(2, 2, 2, 1, vec![entry(2, 3)], 0));
    node.persisted(PersistId(1)).unwrap();
    assert_eq!(node.repairing(), Some(HELD));
    assert_eq!(node.campaign(), vec![], "still no campaign");
}

#[test]
fn damage_the_surviving_log_already_covers_needs_no_repair() {
    // The damaged record was superseded by a later one that rewrote the same position.
    let node = damaged(LogDamage::HeldThrough { index: 2, term: 1 });
    assert_eq!(node.repairing(), None);
}

#[test]
fn damaged_node_adopts_the_term_of_the_log_it_held_without_a_vote() {
    // The term/vote file says term 1; the lost records were of term 2.
    let node = Node::new(
        config(THREE, SEED),
        Recovered {
            hard_state: hs(1, Some(3)),
            log: log(&[1, 1]),
            damage: Some(HELD),
            ..Recovered::default()
        },
    )
    .unwrap();
    assert_eq!(node.hard_state(), hs(2, None));
}

#[test]
fn damaged_node_with_an_unknown_end_moves_to_the_next_term_without_a_vote() {
    let mut node = Node::new(
        config(THREE, SEED),
        Recovered {
            hard_state: hs(2, Some(2)),
            log: log(&[1, 1]),
            damage: Some(LogDamage::Unknown { term_bound: 2 }),
            ..Recovered::default()
        },
    )
    .unwrap();
    assert_eq!(node.hard_state(), hs(3, None));

    // The leader of term 2 is refused and learns the new term; a leader of term 4 repairs.
    assert_eq!(
        node.receive(n(2), append(2, 2, 2, 1, vec![entry(2, 3)], 0)),
        vec![persist(1, Some(hs(3, None)), None)]
    );
    node.persisted(PersistId(1)).unwrap();
    node.receive(n(3), append(3, 4, 2, 1, vec![entry(4, 3)], 0));
    node.persisted(PersistId(2)).unwrap();
    assert_eq!(node.repairing(), None);
}

#[test]
fn worst_of_two_findings_is_the_later_position_whichever_comes_first() {
    let earlier = LogDamage::HeldThrough { index: 9, term: 2 };
    let later = LogDamage::HeldThrough { index: 4, term: 3 };
    let unknown = LogDamage::Unknown { term_bound: 3 };

    assert_eq!(LogDamage::worst(Some(earlier), Some(later)), Some(later));
    assert_eq!(LogDamage::worst(Some(later), Some(earlier)), Some(later));
    assert_eq!(LogDamage::worst(Some(later), Some(unknown)), Some(unknown));
    assert_eq!(LogDamage::worst(Some(unknown), Some(later)), Some(unknown));
    assert_eq!(LogDamage::worst(None, Some(earlier)), Some(earlier));
    assert_eq!(LogDamage::worst(Some(earlier), None), Some(earlier));
    assert_eq!(LogDamage::worst(None, None), None);
}

#[test]
fn node_reports_what_recovery_made_of_its_term_vote_record() {
    for record in [
        VoteRecord::Intact,
        VoteRecord::CopyDamaged,
        VoteRecord::Lost,
    ] {
        let node = Node::new(
            config(THREE, SEED),
            Recovered {
                hard_state: hs(2, None),
                vote_record: record,
                ..Recovered::default()
            },
        )
        .expect("valid recovery");
        assert_eq!(node.vote_record(), record);
    }
}
