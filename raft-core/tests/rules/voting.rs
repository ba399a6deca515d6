//! Granting votes: term adoption, the up-to-date check, one vote per term, votes that stay,
//! and grants that leave only once durable.

use crate::support::*;
use raft_core::{PersistId, Role};

// ----- a higher term is adopted -------------------------------------------------------------

#[test]
fn vote_request_with_a_higher_term_is_adopted_and_clears_the_old_vote() {
    // Voted for n2 in term 1; n3 campaigns in term 2.
    let mut node = recovered(THREE, hs(1, Some(2)), log(&[1]));

    assert_eq!(
        node.receive(n(3), vote_request(3, 2, 1, 1)),
        vec![
            role(Role::Follower, 2),
            persist(1, Some(hs(2, Some(3))), None),
        ]
    );
}

#[test]
fn vote_request_with_a_lower_term_is_refused_with_our_term() {
    let mut node = recovered(THREE, hs(3, None), log(&[1, 2]));

    assert_eq!(
        node.receive(n(2), vote_request(2, 2, 5, 2)),
        vec![send(2, vote_response(ME, 3, false, false))]
    );
    assert_eq!(node.hard_state(), hs(3, None));
}

// ----- log up-to-date check on (last term, last index) --------------------------------------

#[test]
fn vote_granted_to_a_candidate_with_a_higher_last_term_and_a_shorter_log() {
    let mut node = recovered(THREE, hs(3, None), log(&[1, 1, 1]));

    // (2, 2) > (1, 3): the last term decides before the length does.
    assert_eq!(
        node.receive(n(3), vote_request(3, 3, 2, 2)),
        vec![persist(1, Some(hs(3, Some(3))), None)]
    );
}

#[test]
fn vote_refused_to_a_candidate_with_the_same_last_term_and_a_shorter_log() {
    let mut node = recovered(THREE, hs(3, None), log(&[1, 1, 1]));

    assert_eq!(
        node.receive(n(3), vote_request(3, 3, 2, 1)),
        vec![send(3, vote_response(ME, 3, false, false))]
    );
    assert_eq!(node.hard_state(), hs(3, None));
}

#[test]
fn vote_granted_to_a_candidate_with_the_same_last_term_and_the_same_length() {
    let mut node = recovered(THREE, hs(3, None), log(&[1, 1, 1]));

    assert_eq!(
        node.receive(n(3), vote_request(3, 3, 3, 1)),
        vec![persist(1, Some(hs(3, Some(3))), None)]
    );
}

#[test]
fn vote_refused_to_a_candidate_with_a_longer_log_but_a_lower_last_term() {
    let mut node = recovered(THREE, hs(3, None), log(&[1, 2]));

    assert_eq!(
        node.receive(n(3), vote_request(3, 3, 5, 1)),
        vec![send(3, vote_response(ME, 3, false, false))]
    );
}

// ----- at most one vote per term ------------------------------------------------------------

#[test]
fn at_most_one_vote_per_term() {
    let mut node = recovered(THREE, hs(2, Some(2)), log(&[1]));

    assert_eq!(
        node.receive(n(3), vote_request(3, 2, 1, 1)),
        vec![send(3, vote_response(ME, 2, false, false))]
    );
    assert_eq!(node.hard_state(), hs(2, Some(2)));
}

#[test]
fn repeated_vote_request_from_the_same_candidate_is_granted_again() {
    // The vote for n2 is durable; its response was lost and n2 asks again.
    let mut node = recovered(THREE, hs(2, Some(2)), log(&[1]));

    assert_eq!(
        node.receive(n(2), vote_request(2, 2, 1, 1)),
        vec![send(2, vote_response(ME, 2, true, false))]
    );
}

#[test]
fn repeated_vote_request_is_answered_only_once_the_vote_is_persisted() {
    let mut node = recovered(THREE, hs(2, None), log(&[1]));
    assert_eq!(
        node.receive(n(2), vote_request(2, 2, 1, 1)),
        vec![persist(1, Some(hs(2, Some(2))), None)]
    );

    // The re-grant attests the same vote, which is not durable yet.
    assert_eq!(node.receive(n(2), vote_request(2, 2, 1, 1)), vec![]);

    assert_eq!(
        node.persisted(PersistId(1)).unwrap(),
        vec![
            send(2, vote_response(ME, 2, true, false)),
            send(2, vote_response(ME, 2, true, false)),
        ]
    );
}

// ----- a vote is never cleared within a term ------------------------------------------------

#[test]
fn vote_is_not_cleared_when_a_candidate_steps_down_on_an_append() {
    let mut node = candidate(THREE, 2, &[]);

    assert_eq!(
        node.receive(n(2), append(2, 2, 0, 0, vec![], 0)),
        vec![
            role(Role::Follower, 2),
            leader_changed(2, Some(2)),
            send(2, ack(ME, 2, 0)),
        ]
    );
    assert_eq!(node.hard_state(), hs(2, Some(ME)));
    assert_eq!(
        node.receive(n(3), vote_request(3, 2, 0, 0)),
        vec![send(3, vote_response(ME, 2, false, true))],
        "still voted for itself in term 2"
    );
}

#[test]
fn vote_is_not_cleared_by_a_same_term_append() {
    // Voted for n3 in term 2, but n2 won.
    let mut node = recovered(THREE, hs(2, Some(3)), log(&[1]));

    assert_eq!(
        node.receive(n(2), append(2, 2, 1, 1, vec![entry(2, 2)], 0)),
        vec![
            leader_changed(2, Some(2)),
            persist(1, None, Some(write(1, 1, vec![entry(2, 2)]))),
        ]
    );
    assert_eq!(node.hard_state(), hs(2, Some(3)));
}

// ----- durable before attested --------------------------------------------------------------

#[test]
fn vote_grant_is_sent_only_after_the_vote_is_persisted() {
    let mut node = recovered(THREE, hs(1, None), vec![]);
    assert_eq!(
        node.receive(n(2), vote_request(2, 1, 0, 0)),
        vec![persist(1, Some(hs(1, Some(2))), None)]
    );
    assert_eq!(node.held_messages(), 1);

    assert_eq!(
        node.persisted(PersistId(1)).unwrap(),
        vec![send(2, vote_response(ME, 1, true, true))]
    );
}

#[test]
fn vote_refusal_that_adopts_a_higher_term_waits_for_the_term_to_be_persisted() {
    let mut node = recovered(THREE, hs(1, None), log(&[1, 1, 1]));

    assert_eq!(
        node.receive(n(3), vote_request(3, 2, 2, 1)),
        vec![role(Role::Follower, 2), persist(1, Some(hs(2, None)), None)]
    );
    assert_eq!(
        node.persisted(PersistId(1)).unwrap(),
        vec![send(3, vote_response(ME, 2, false, false))]
    );
}
