//! The term never decreases: old messages are answered with our term and change nothing; a
//! higher term turns a leader or candidate into a follower; recovery refuses a log from the
//! future.

use crate::support::*;
use raft_core::{Config, ConfigError, Node, PersistId, Recovered, Role};

#[test]
fn append_with_a_lower_term_is_rejected_with_our_term_and_changes_nothing() {
    let mut node = follower_of(3, 3, &[1, 2]);

    assert_eq!(
        node.receive(n(2), append(2, 2, 2, 2, vec![entry(2, 3)], 2)),
        vec![send(2, nack(ME, 3, 2))]
    );
    assert_eq!(node.hard_state(), hs(3, None));
    assert_eq!(node.leader(), Some(n(3)));
    assert_eq!(node.log(), log(&[1, 2]));
    assert_eq!(node.commit_index(), 0);
}

#[test]
fn append_with_a_lower_term_does_not_delay_the_election() {
    let mut node = follower_of(3, 3, &[1, 2]);
    let timeout = node.election_timeout();
    for _ in 0..3 {
        assert_eq!(node.tick(), vec![]);
    }

    assert_eq!(
        node.receive(n(2), append(2, 2, 2, 2, vec![], 2)),
        vec![send(2, nack(ME, 3, 2))]
    );
    for _ in 4..timeout {
        assert_eq!(node.tick(), vec![]);
    }
    assert_eq!(
        node.tick(),
        vec![
            role(Role::Candidate, 4),
            leader_changed(4, None),
            persist(1, Some(hs(4, Some(ME))), None),
        ],
        "the stale leader did not reset the election timer"
    );
}

#[test]
fn candidate_does_not_revert_to_an_older_term_on_an_old_append() {
    let mut node = candidate(THREE, 3, &[1, 2]);

    assert_eq!(
        node.receive(n(2), append(2, 2, 2, 2, vec![entry(2, 3)], 2)),
        vec![send(2, nack(ME, 3, 2))]
    );
    assert_eq!(node.role(), Role::Candidate);
    assert_eq!(node.hard_state(), hs(3, Some(ME)));
}

#[test]
fn rejected_append_with_a_higher_term_still_adopts_the_term() {
    let mut node = follower_of(3, 2, &[1, 1]);

    assert_eq!(
        node.receive(n(2), append(2, 5, 4, 4, vec![], 0)),
        vec![
            role(Role::Follower, 5),
            leader_changed(5, Some(2)),
            persist(1, Some(hs(5, None)), None),
        ]
    );
    assert_eq!(
        node.persisted(PersistId(1)).unwrap(),
        vec![send(2, nack(ME, 5, 2))]
    );
    assert_eq!(node.term(), 5);
}

#[test]
fn leader_steps_down_on_a_higher_term_append_response() {
    let mut node = ready_leader(THREE, 2, &[]);

    assert_eq!(
        node.receive(n(2), nack(2, 3, 1)),
        vec![
            role(Role::Follower, 3),
            leader_changed(3, None),
            persist(3, Some(hs(3, None)), None),
        ]
    );
}

#[test]
fn leader_steps_down_on_a_higher_term_vote_request() {
    let mut node = ready_leader(THREE, 2, &[]);

    assert_eq!(
        node.receive(n(3), vote_request(3, 3, 1, 2)),
        vec![
            role(Role::Follower, 3),
            leader_changed(3, None),
            persist(3, Some(hs(3, Some(3))), None),
        ]
    );
}

#[test]
fn leader_steps_down_on_a_higher_term_append() {
    let mut node = ready_leader(THREE, 2, &[]);

    assert_eq!(
        node.receive(n(2), append(2, 3, 1, 2, vec![], 1)),
        vec![
            role(Role::Follower, 3),
            leader_changed(3, Some(2)),
            persist(3, Some(hs(3, None)), None),
        ]
    );
    assert_eq!(
        node.persisted(PersistId(3)).unwrap(),
        vec![send(2, ack(ME, 3, 1))]
    );
}

#[test]
fn candidate_steps_down_on_a_higher_term_vote_response() {
    let mut node = candidate(THREE, 2, &[]);

    assert_eq!(
        node.receive(n(2), refuse(2, 5)),
        vec![role(Role::Follower, 5), persist(2, Some(hs(5, None)), None)]
    );
}

#[test]
fn recovered_log_with_a_term_above_the_recovered_term_adopts_that_term_without_a_vote() {
    // A crash kept unsynced WAL bytes of term 3 but not the term/vote file that went with
    // them (found by the simulator, seed 802): the node comes back in term 3 with no vote.
    let recovered = Recovered {
        hard_state: hs(2, Some(2)),
        log: log(&[1, 3]),
        ..Recovered::default()
    };

    let node = Node::new(config(THREE, SEED), recovered).unwrap();
    assert_eq!(node.hard_state(), hs(3, None));
    assert_eq!(node.last_index(), 2);
}

#[test]
fn recovered_log_whose_terms_decrease_is_refused() {
    let recovered = Recovered {
        hard_state: hs(3, None),
        log: log(&[1, 3, 2]),
        ..Recovered::default()
    };

    assert_eq!(
        Node::new(config(THREE, SEED), recovered).unwrap_err(),
        ConfigError::LogTermDecreases { index: 3 }
    );
}

#[test]
fn recovered_hard_state_term_is_kept_for_an_empty_log() {
    let node = Node::new(
        Config::new(n(ME), vec![n(ME)], SEED),
        Recovered {
            hard_state: hs(7, Some(ME)),
            log: vec![],
            ..Recovered::default()
        },
    )
    .unwrap();

    assert_eq!(node.hard_state(), hs(7, Some(ME)));
    assert_eq!(node.role(), Role::Follower);
}

#[test]
fn higher_term_append_relayed_by_another_node_names_no_leader_until_it_is_followed() {
    // n3 relays an append that names n2 as the leader: the sender is not taken for the
    // leader; n2 is, once the append is handled.
    let mut node = follower_of(2, 2, &[]);

    assert_eq!(
        node.receive(n(3), append(2, 3, 0, 0, vec![], 0)),
        vec![
            role(Role::Follower, 3),
            leader_changed(3, None),
            leader_changed(3, Some(2)),
            persist(1, Some(hs(3, None)), None),
        ]
    );
}

#[test]
fn follower_refusing_a_higher_term_vote_keeps_its_election_timer_running() {
    let mut node = follower(2, &[1, 1]);
    for _ in 1..node.election_timeout() {
        assert_eq!(node.tick(), vec![]);
    }
    // A candidate with a shorter log: the term is adopted, the vote refused.
    node.receive(n(3), vote_request(3, 3, 1, 1));

    assert_eq!(
        node.tick(),
        vec![
            role(Role::Candidate, 4),
            persist(2, Some(hs(4, Some(ME))), None)
        ]
    );
}
