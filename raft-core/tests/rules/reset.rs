//! Reset (NRG `Reset`): the node drops its log and snapshot and starts over as an empty
//! follower, keeping its term, vote and membership, and answering for the log it held.

use crate::support::*;
use raft_core::{Action, LogDamage, PersistId, ResetError, Role};

fn reset_storage(answers_for: Option<LogDamage>) -> Action {
    Action::ResetStorage {
        peers: Box::new(peers(&[1, 2, 3], &[])),
        answers_for,
    }
}

#[test]
fn reset_of_a_follower_forgets_the_leader_and_starts_the_storage_over() {
    let mut node = follower_of(2, 2, &[1, 1, 2]);

    assert_eq!(
        node.reset(),
        Ok(vec![
            leader_changed(2, None),
            reset_storage(Some(LogDamage::HeldThrough { index: 3, term: 2 })),
        ])
    );
    assert_eq!(
        (node.last_index(), node.commit_index(), node.applied_index()),
        (0, 0, 0)
    );
    assert_eq!((node.snapshot_index(), node.leader()), (0, None));
}

#[test]
fn reset_of_a_leader_steps_down_first() {
    let mut node = ready_leader(THREE, 2, &[1]);

    assert_eq!(
        node.reset(),
        Ok(vec![
            role(Role::Follower, 2),
            leader_changed(2, None),
            reset_storage(Some(LogDamage::HeldThrough { index: 2, term: 2 })),
        ])
    );
    assert_eq!(node.role(), Role::Follower);
}

#[test]
fn reset_keeps_the_term_and_the_vote() {
    let mut node = recovered(THREE, hs(4, Some(3)), log(&[1, 2]));

    node.reset().unwrap();
    assert_eq!(node.hard_state(), hs(4, Some(3)));
}

#[test]
fn reset_of_an_empty_node_answers_for_nothing() {
    let mut node = follower(1, &[]);

    assert_eq!(node.reset(), Ok(vec![reset_storage(None)]));
    assert_eq!(node.repairing(), None);
}

#[test]
fn reset_is_refused_while_persists_are_in_flight() {
    let mut node = leader(THREE, 2, &[1]);

    assert_eq!(node.reset(), Err(ResetError::PersistsInFlight { count: 1 }));
    assert_eq!((node.role(), node.last_index()), (Role::Leader, 2));
}

#[test]
fn reset_node_refuses_a_vote_to_a_candidate_behind_the_log_it_held() {
    let mut node = follower(2, &[1, 2, 2]);
    node.reset().unwrap();

    assert_eq!(
        node.receive(n(2), vote_request(2, 3, 2, 2)),
        vec![role(Role::Follower, 3), persist(1, Some(hs(3, None)), None)]
    );
    assert_eq!(
        node.persisted(PersistId(1)).unwrap(),
        vec![send(2, vote_response(ME, 3, false, true))],
        "refused, though its log is empty"
    );
}

#[test]
fn reset_node_does_not_campaign_until_it_has_the_log_back() {
    let mut node = follower(2, &[1, 2]);
    assert!(node.config().repair_by_election);
    node.reset().unwrap();

    // Not even to repair, however long no leader comes: it dropped its log on purpose.
    for _ in 0..10 {
        assert_eq!(node.campaign(), vec![]);
    }
    // The leader of term 2 gives back a log as up to date as the one it held (2 at term 2).
    node.receive(n(2), append(2, 2, 0, 0, vec![entry(2, 1), entry(2, 2)], 0));
    assert_eq!(node.campaign(), vec![], "not durable yet");
    node.persisted(PersistId(1)).unwrap();
    assert_eq!(node.repairing(), None);
}

#[test]
fn reset_continues_the_persist_ids() {
    // The leader's vote and no-op were persists 1 and 2.
    let mut node = ready_leader(THREE, 2, &[1]);
    node.reset().unwrap();

    assert_eq!(
        node.receive(n(2), append(2, 2, 0, 0, vec![entry(1, 1)], 0)),
        vec![
            leader_changed(2, Some(2)),
            persist(3, None, Some(write(0, 0, vec![entry(1, 1)]))),
        ]
    );
}
