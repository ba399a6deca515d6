//! Pause and resume apply (NRG `PauseApply` / `ResumeApply`) and the health checks (NRG
//! `Current()` / `Healthy()`).

use crate::support::*;
use raft_core::{Config, Health, Node, PersistId, Role};

const NOT_CURRENT: Health = Health {
    current: false,
    healthy: false,
};
const CURRENT: Health = Health {
    current: true,
    healthy: false,
};
const HEALTHY: Health = Health {
    current: true,
    healthy: true,
};

/// A follower of n2 in term 2 (PreVote and CheckQuorum on) holding `terms`.
fn follower_of_n2(terms: &[u64]) -> Node {
    follower_of_with(defaults(THREE, SEED), 2, 2, terms)
}

// ----- pause and resume ----------------------------------------------------------------------

#[test]
fn paused_follower_stops_handing_out_applies_but_keeps_acknowledging() {
    let mut node = follower_of_n2(&[1, 1]);
    assert_eq!(node.pause_apply(), vec![]);

    assert_eq!(
        node.receive(n(2), append(2, 2, 2, 1, vec![], 2)),
        vec![send(2, ack(ME, 2, 2))]
    );
    assert_eq!(node.commit_index(), 2, "it still learns the commit index");
}

#[test]
fn resume_apply_hands_out_everything_committed_meanwhile() {
    let mut node = follower_of_n2(&[1, 1, 1]);
    node.receive(n(2), append(2, 2, 2, 1, vec![], 1));
    node.pause_apply();
    node.receive(n(2), append(2, 2, 3, 1, vec![], 3));

    assert_eq!(
        node.resume_apply(),
        vec![apply(log(&[1, 1, 1])[1..].to_vec())]
    );
    assert_eq!(node.resume_apply(), vec![], "nothing twice");
}

#[test]
fn paused_follower_never_campaigns() {
    let mut node = follower_of_n2(&[1]);
    node.pause_apply();
    for _ in 0..10 * node.config().election_timeout_max {
        assert_eq!(node.tick(), vec![]);
    }

    assert_eq!(node.campaign(), vec![]);
    assert_eq!(node.role(), Role::Follower);
}

#[test]
fn resumed_follower_campaigns_after_a_fresh_election_timeout() {
    let mut node = follower_of_n2(&[1]);
    node.pause_apply();
    for _ in 0..100 {
        node.tick();
    }
    assert_eq!(node.resume_apply(), vec![]);
    for _ in 1..node.election_timeout() {
        assert_eq!(node.tick(), vec![]);
    }

    assert_eq!(
        node.tick(),
        vec![
            leader_changed(2, None),
            send(2, pre_vote_request(ME, 3, 1, 1)),
            send(3, pre_vote_request(ME, 3, 1, 1)),
        ]
    );
}

#[test]
fn leader_steps_down_to_pause() {
    let mut node = ready_leader_with(defaults(THREE, SEED), 2, &[]);

    assert_eq!(
        node.pause_apply(),
        vec![role(Role::Follower, 2), leader_changed(2, None)]
    );
    assert_eq!(node.hard_state(), hs(2, Some(ME)), "the vote stays");
    assert!(node.is_paused());
}

#[test]
fn candidate_steps_down_to_pause() {
    let mut node = candidate_with(defaults(THREE, SEED), 2, &[]);

    assert_eq!(node.pause_apply(), vec![role(Role::Follower, 2)]);
    assert_eq!(
        node.receive(n(2), grant(2, 2)),
        vec![],
        "the election is over"
    );
}

#[test]
fn paused_follower_ignores_timeout_now() {
    let mut node = follower_of_n2(&[1]);
    node.pause_apply();

    assert_eq!(node.receive(n(2), timeout_now(2, 2)), vec![]);
    assert_eq!(node.role(), Role::Follower);
}

#[test]
fn paused_follower_still_votes() {
    let config = Config {
        check_quorum: false,
        ..defaults(THREE, SEED)
    };
    let mut node = recovered_with(config, hs(2, None), log(&[1]));
    node.pause_apply();

    assert_eq!(
        node.receive(n(3), vote_request(3, 3, 1, 1)),
        vec![
            role(Role::Follower, 3),
            persist(1, Some(hs(3, Some(3))), None)
        ]
    );
}

// ----- health --------------------------------------------------------------------------------

#[test]
fn nothing_committed_is_neither_current_nor_healthy() {
    assert_eq!(follower_of_n2(&[1]).health(), NOT_CURRENT);
    assert_eq!(
        leader_with(defaults(THREE, SEED), 2, &[]).health(),
        NOT_CURRENT
    );
}

#[test]
fn leader_with_a_commit_is_current_and_healthy() {
    let mut node = ready_leader_with(defaults(THREE, SEED), 2, &[]);
    assert_eq!(node.applied_index(), 0);

    assert_eq!(node.health(), HEALTHY);
    node.applied(1).unwrap();
    assert_eq!(node.health(), HEALTHY);
}

#[test]
fn follower_in_contact_with_its_leader_is_current_and_healthy_once_applied() {
    let mut node = follower_of_n2(&[1]);
    assert_eq!(
        node.receive(n(2), append(2, 2, 1, 1, vec![], 1)),
        vec![apply(log(&[1])), send(2, ack(ME, 2, 1))]
    );
    assert_eq!(node.health(), CURRENT);

    node.applied(1).unwrap();
    assert_eq!(node.health(), HEALTHY);
}

#[test]
fn follower_that_has_not_heard_from_its_leader_for_the_minimum_election_timeout_is_not_current() {
    let mut node = follower_of_n2(&[1]);
    node.receive(n(2), append(2, 2, 1, 1, vec![], 1));
    node.applied(1).unwrap();
    assert!(node.election_timeout() > node.config().election_timeout_min);
    for _ in 1..node.config().election_timeout_min {
        node.tick();
    }
    assert_eq!(node.health(), HEALTHY);

    node.tick();
    assert_eq!(node.health(), NOT_CURRENT);
}

#[test]
fn follower_without_a_leader_is_not_current() {
    let mut node = follower_of_n2(&[1]);
    node.receive(n(2), append(2, 2, 1, 1, vec![], 1));
    node.applied(1).unwrap();
    node.campaign();
    assert_eq!(node.leader(), None);

    assert_eq!(node.health(), NOT_CURRENT);
}

#[test]
fn paused_follower_with_commits_not_handed_out_is_not_current() {
    let mut node = follower_of_n2(&[1, 1]);
    node.receive(n(2), append(2, 2, 1, 1, vec![], 1));
    node.applied(1).unwrap();
    node.pause_apply();
    assert_eq!(node.health(), HEALTHY, "paused with nothing pending");

    node.receive(n(2), append(2, 2, 2, 1, vec![], 2));
    assert_eq!(node.health(), NOT_CURRENT);
    node.resume_apply();
    assert_eq!(node.health(), CURRENT);
    node.applied(2).unwrap();
    assert_eq!(node.health(), HEALTHY);
}

#[test]
fn health_of_a_single_voter_leader() {
    let config = Config::new(n(ME), vec![n(ME)], SEED);
    let mut node = Node::new(config, Default::default()).unwrap();
    node.campaign();
    node.persisted(PersistId(1)).unwrap();
    assert_eq!(node.health(), NOT_CURRENT);

    node.persisted(PersistId(2)).unwrap();
    assert_eq!(node.health(), HEALTHY);
}
