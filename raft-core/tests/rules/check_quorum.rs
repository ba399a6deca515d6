//! CheckQuorum (NRG lost-quorum step-down) and the leader stickiness it turns on: a leader
//! that has not heard from a quorum of voters within an election timeout steps down, and a
//! node that heard from a current leader within the minimum election timeout ignores vote
//! requests for a higher term.

use crate::support::*;
use raft_core::{Config, Node, Role};

/// CheckQuorum on, PreVote off (so only CheckQuorum's rules act).
fn checking_config(voters: &[u64]) -> Config {
    Config {
        pre_vote: false,
        ..defaults(voters, SEED)
    }
}

/// Ticks a leader `count` times, dropping the heartbeats it sends; panics on anything else.
fn tick_leader(node: &mut Node, count: u32) {
    for _ in 0..count {
        for action in node.tick() {
            assert!(
                matches!(action, raft_core::Action::Send { .. }),
                "unexpected {action:?}"
            );
        }
        assert_eq!(node.role(), Role::Leader);
    }
}

// ----- lost-quorum step-down -----------------------------------------------------------------

#[test]
fn leader_steps_down_when_it_has_not_heard_from_a_quorum_within_an_election_timeout() {
    // The window is election_timeout_max ticks. The no-op acknowledgements made the first
    // window pass; in the second nobody answers.
    let mut node = ready_leader_with(checking_config(THREE), 2, &[]);
    let window = node.config().election_timeout_max;
    tick_leader(&mut node, 2 * window - 1);

    assert_eq!(
        node.tick(),
        vec![role(Role::Follower, 2), leader_changed(2, None)]
    );
    assert_eq!(node.hard_state(), hs(2, Some(ME)), "the vote stays");
    assert_eq!(node.leader(), None);
}

#[test]
fn leader_that_hears_from_one_follower_of_three_each_window_keeps_leading() {
    let mut node = ready_leader_with(checking_config(THREE), 2, &[]);
    let window = node.config().election_timeout_max;
    for _ in 0..3 {
        tick_leader(&mut node, window - 1);
        // n2 answers within the window (a rejection counts too: n2 is alive and in our term).
        node.receive(n(2), nack(2, 2, 1));
        tick_leader(&mut node, 1);
    }

    assert_eq!(node.role(), Role::Leader);
}

#[test]
fn leader_counts_only_answers_of_its_own_term_as_activity() {
    let mut node = ready_leader_with(checking_config(THREE), 3, &[1]);
    let window = node.config().election_timeout_max;
    tick_leader(&mut node, window);
    // Acknowledgements from term 2 say nothing about whether n2 follows us now.
    node.receive(n(2), ack(2, 2, 1));
    tick_leader(&mut node, window - 1);

    assert_eq!(
        node.tick(),
        vec![role(Role::Follower, 3), leader_changed(3, None)]
    );
}

#[test]
fn leader_without_check_quorum_never_steps_down_for_silence() {
    let config = Config {
        check_quorum: false,
        ..defaults(THREE, SEED)
    };
    let mut node = ready_leader_with(config, 2, &[]);

    let ticks = 10 * node.config().election_timeout_max;
    tick_leader(&mut node, ticks);
}

#[test]
fn single_voter_leader_is_its_own_quorum() {
    let config = Config {
        pre_vote: false,
        ..Config::new(n(ME), vec![n(ME)], SEED)
    };
    let mut node = Node::new(config, Default::default()).unwrap();
    node.campaign();
    node.persisted(raft_core::PersistId(1)).unwrap();
    assert_eq!(node.role(), Role::Leader);

    let ticks = 10 * node.config().election_timeout_max;
    tick_leader(&mut node, ticks);
}

// ----- leader stickiness ---------------------------------------------------------------------

#[test]
fn follower_that_heard_from_its_leader_ignores_a_higher_term_vote_request() {
    let mut node = follower_of_with(checking_config(THREE), 2, 2, &[1]);
    for _ in 1..node.config().election_timeout_min {
        assert_eq!(node.tick(), vec![]);
    }

    // No term adopted, no vote, no answer.
    assert_eq!(node.receive(n(3), vote_request(3, 3, 1, 1)), vec![]);
    assert_eq!(node.hard_state(), hs(2, None));
    assert_eq!(node.leader(), Some(n(2)));
}

#[test]
fn follower_whose_leader_was_silent_for_the_minimum_election_timeout_grants_the_vote() {
    let mut node = follower_of_with(checking_config(THREE), 2, 2, &[1]);
    assert!(node.election_timeout() > node.config().election_timeout_min);
    for _ in 0..node.config().election_timeout_min {
        assert_eq!(node.tick(), vec![]);
    }

    assert_eq!(
        node.receive(n(3), vote_request(3, 3, 1, 1)),
        vec![
            role(Role::Follower, 3),
            leader_changed(3, None),
            persist(1, Some(hs(3, Some(3))), None)
        ]
    );
}

#[test]
fn leader_with_check_quorum_ignores_a_higher_term_vote_request() {
    let mut node = ready_leader_with(checking_config(THREE), 2, &[]);

    assert_eq!(node.receive(n(3), vote_request(3, 3, 1, 2)), vec![]);
    assert_eq!(node.role(), Role::Leader);
    assert_eq!(node.term(), 2);
}

#[test]
fn follower_without_check_quorum_is_not_sticky() {
    let config = Config {
        check_quorum: false,
        ..defaults(THREE, SEED)
    };
    let mut node = follower_of_with(config, 2, 2, &[1]);

    assert_eq!(
        node.receive(n(3), vote_request(3, 3, 1, 1)),
        vec![
            role(Role::Follower, 3),
            leader_changed(3, None),
            persist(1, Some(hs(3, Some(3))), None)
        ]
    );
}

#[test]
fn sticky_follower_still_refuses_a_lower_term_vote_request_with_its_term() {
    let mut node = follower_of_with(checking_config(THREE), 2, 3, &[1]);

    assert_eq!(
        node.receive(n(3), vote_request(3, 2, 1, 1)),
        vec![send(3, vote_response(ME, 3, false, false))]
    );
}

#[test]
fn sticky_follower_still_answers_a_vote_request_of_its_own_term() {
    let mut node = follower_of_with(checking_config(THREE), 2, 2, &[1, 2]);

    // Stickiness holds back only higher terms: n3's stale log is refused, with an answer.
    assert_eq!(
        node.receive(n(3), vote_request(3, 2, 1, 1)),
        vec![send(3, vote_response(ME, 2, false, false))]
    );
}
