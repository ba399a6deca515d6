//! Elections: the randomized timeout, the candidate's first steps, counting votes, and what a
//! new leader does before it tells the application.

use crate::support::*;
use raft_core::{Config, Node, PersistId, Recovered, Role};

fn fresh(seed: u64, min: u32, max: u32) -> Node {
    let config = Config {
        election_timeout_min: min,
        election_timeout_max: max,
        heartbeat_interval: 1,
        ..config(THREE, seed)
    };
    Node::new(config, Recovered::default()).expect("valid config")
}

// ----- randomized election timeout ----------------------------------------------------------

#[test]
fn election_timeout_fires_within_min_max() {
    let mut seen = Vec::new();
    for seed in 0..64 {
        let mut node = fresh(seed, 5, 8);
        let timeout = node.election_timeout();
        assert!((5..8).contains(&timeout), "seed {seed}: timeout {timeout}");
        for _ in 1..timeout {
            assert_eq!(node.tick(), vec![], "seed {seed}: fired before {timeout}");
        }
        assert_eq!(
            node.tick(),
            vec![
                role(Role::Candidate, 1),
                persist(1, Some(hs(1, Some(ME))), None)
            ],
            "seed {seed}: did not fire at {timeout}"
        );
        seen.push(timeout);
    }
    seen.sort();
    seen.dedup();
    assert_eq!(
        seen,
        vec![5, 6, 7],
        "every value of [min, max) is drawn, max never"
    );
}

#[test]
fn election_timeout_differs_between_seeds_and_repeats_for_a_seed() {
    // The timeouts of three successive elections.
    let timeouts = |seed: u64| {
        let mut node = fresh(seed, 10, 1000);
        let mut drawn = vec![node.election_timeout()];
        for _ in 0..2 {
            node.campaign();
            drawn.push(node.election_timeout());
        }
        drawn
    };
    for seed in 0..16 {
        assert_eq!(timeouts(seed), timeouts(seed), "seed {seed}");
    }
    let mut firsts: Vec<u32> = (0..16).map(|seed| timeouts(seed)[0]).collect();
    firsts.sort();
    firsts.dedup();
    assert!(firsts.len() > 8, "16 seeds drew only {firsts:?}");
    assert_ne!(timeouts(1), timeouts(2));
}

#[test]
fn election_timeout_is_drawn_per_term_and_firing_not_per_heartbeat() {
    // A heartbeat restarts the wait with the timeout of its term: how many messages a node
    // receives never moves its elections.
    let mut node = follower_of(2, 1, &[1]);
    let timeout = node.election_timeout();
    for _ in 0..5 {
        node.tick();
        assert_eq!(
            node.receive(n(2), append(2, 1, 0, 0, vec![], 0)),
            vec![send(2, ack(ME, 1, 0))]
        );
        assert_eq!(node.election_timeout(), timeout);
    }
    // The wait that follows a firing (a pre-vote, here refused by silence) draws anew, and
    // so does a new term; back in a term, the same history gives the same timeouts.
    let mut waits = vec![timeout];
    for _ in 0..3 {
        while node.tick().is_empty() {}
        waits.push(node.election_timeout());
    }
    assert!(waits.windows(2).any(|w| w[0] != w[1]), "{waits:?}");
    let mut again = follower_of(2, 1, &[1]);
    let mut waits_again = vec![again.election_timeout()];
    for _ in 0..3 {
        while again.tick().is_empty() {}
        waits_again.push(again.election_timeout());
    }
    assert_eq!(waits, waits_again);
}

#[test]
fn election_timeouts_are_pinned() {
    // The timeouts of a node's first three campaigns (seed 7, 10..1000 ticks): a change of
    // the derivation moves every election of every simulated run, so it is a conscious one.
    let mut node = fresh(7, 10, 1000);
    let mut drawn = vec![node.election_timeout()];
    for _ in 0..2 {
        node.campaign();
        drawn.push(node.election_timeout());
    }
    assert_eq!(drawn, vec![252, 660, 843]);
}

// ----- the candidate's first steps ----------------------------------------------------------

#[test]
fn candidate_increments_term_votes_for_itself_and_persists_before_requesting_votes() {
    let mut node = recovered(THREE, hs(3, Some(2)), log(&[1, 1, 2]));
    for _ in 1..node.election_timeout() {
        assert_eq!(node.tick(), vec![]);
    }

    assert_eq!(
        node.tick(),
        vec![
            role(Role::Candidate, 4),
            persist(1, Some(hs(4, Some(ME))), None)
        ]
    );
    assert_eq!(
        node.held_messages(),
        2,
        "the vote requests wait for the persist"
    );
}

#[test]
fn candidate_sends_vote_requests_only_once_its_vote_is_persisted() {
    let mut node = recovered(THREE, hs(3, None), log(&[1, 1, 2]));
    node.campaign();

    assert_eq!(
        node.persisted(PersistId(1)).unwrap(),
        vec![
            send(2, vote_request(ME, 4, 3, 2)),
            send(3, vote_request(ME, 4, 3, 2)),
        ]
    );
}

#[test]
fn candidate_tells_the_application_the_old_leader_is_gone() {
    let mut node = follower_of(2, 1, &[1]);
    for _ in 1..node.election_timeout() {
        assert_eq!(node.tick(), vec![]);
    }

    assert_eq!(
        node.tick(),
        vec![
            role(Role::Candidate, 2),
            leader_changed(2, None),
            persist(1, Some(hs(2, Some(ME))), None),
        ]
    );
}

#[test]
fn candidate_that_times_out_campaigns_again_in_the_next_term() {
    let mut node = candidate(THREE, 2, &[]);
    for _ in 1..node.election_timeout() {
        assert_eq!(node.tick(), vec![]);
    }

    assert_eq!(
        node.tick(),
        vec![
            role(Role::Candidate, 3),
            persist(2, Some(hs(3, Some(ME))), None)
        ]
    );
}

#[test]
fn non_voter_never_campaigns() {
    let config = config(&[2, 3, 4], SEED);
    let mut node = Node::new(config, Recovered::default()).unwrap();
    for _ in 0..100 {
        assert_eq!(node.tick(), vec![]);
    }
    assert_eq!(node.campaign(), vec![]);
    assert_eq!(node.role(), Role::Follower);
    assert_eq!(node.term(), 0);
}

// ----- counting votes -----------------------------------------------------------------------

#[test]
fn candidate_counts_each_voter_once() {
    let mut node = candidate(FIVE, 2, &[]);
    assert_eq!(node.receive(n(2), grant(2, 2)), vec![]);

    // Self and n2: two distinct votes of the three needed, however often n2 says yes.
    assert_eq!(node.receive(n(2), grant(2, 2)), vec![]);
    assert_eq!(node.role(), Role::Candidate);

    let noop = noop(2, 1, FIVE);
    let to_each = |peer| send(peer, append(ME, 2, 0, 0, vec![noop.clone()], 0));
    assert_eq!(
        node.receive(n(3), grant(3, 2)),
        vec![
            role(Role::Leader, 2),
            persist(2, None, Some(write(0, 0, vec![noop.clone()]))),
            to_each(2),
            to_each(3),
            to_each(4),
            to_each(5),
        ]
    );
}

#[test]
fn candidate_counts_only_responses_for_its_current_term() {
    // Campaigning in term 3; a grant left over from term 2 means nothing.
    let mut node = candidate(THREE, 3, &[1]);

    assert_eq!(node.receive(n(2), grant(2, 2)), vec![]);
    assert_eq!(node.role(), Role::Candidate);
}

#[test]
fn candidate_ignores_vote_responses_from_non_voters() {
    let mut node = candidate(THREE, 2, &[]);

    // One more grant would win a 3-node election, but n4 is not a voter.
    assert_eq!(node.receive(n(4), grant(4, 2)), vec![]);
    assert_eq!(node.role(), Role::Candidate);
}

#[test]
fn candidate_ignores_a_vote_response_naming_another_peer_than_its_sender() {
    let mut node = candidate(THREE, 2, &[]);

    assert_eq!(node.receive(n(3), grant(2, 2)), vec![]);
    assert_eq!(node.role(), Role::Candidate);
}

#[test]
fn candidate_wins_at_a_quorum_of_grants() {
    let mut node = candidate(THREE, 2, &[1]);

    let noop = noop(2, 2, THREE);
    assert_eq!(
        node.receive(n(2), grant(2, 2)),
        vec![
            role(Role::Leader, 2),
            persist(2, None, Some(write(1, 1, vec![noop.clone()]))),
            send(2, append(ME, 2, 1, 1, vec![noop.clone()], 0)),
            send(3, append(ME, 2, 1, 1, vec![noop.clone()], 0)),
        ]
    );
}

#[test]
fn candidate_loses_the_election_at_a_quorum_of_rejections() {
    let mut node = candidate(THREE, 2, &[]);
    assert_eq!(node.receive(n(2), refuse(2, 2)), vec![]);

    assert_eq!(
        node.receive(n(3), refuse(3, 2)),
        vec![role(Role::Follower, 2)]
    );
    assert_eq!(node.hard_state(), hs(2, Some(ME)), "the vote stays");
}

// ----- the new leader's no-op ---------------------------------------------------------------

#[test]
fn new_leader_appends_a_noop_peer_state_entry_and_does_not_announce_itself_yet() {
    let mut node = candidate(THREE, 3, &[1, 2]);

    let noop = noop(3, 3, THREE);
    assert_eq!(
        node.receive(n(3), grant(3, 3)),
        vec![
            role(Role::Leader, 3),
            persist(2, None, Some(write(2, 2, vec![noop.clone()]))),
            send(2, append(ME, 3, 2, 2, vec![noop.clone()], 0)),
            send(3, append(ME, 3, 2, 2, vec![noop.clone()], 0)),
        ]
    );
    assert_eq!(node.leader(), Some(n(ME)));
    assert!(!node.is_ready_leader());
}

#[test]
fn leader_announces_itself_only_once_its_noop_is_committed() {
    let mut node = leader(THREE, 2, &[1]);
    assert_eq!(node.persisted(PersistId(2)).unwrap(), vec![]);
    // A quorum holds the previous term's entry, not the no-op: nothing commits and the
    // leader stays unannounced (it only sends n2 the no-op again).
    assert_eq!(
        node.receive(n(2), ack(2, 2, 1)),
        vec![send(2, append(ME, 2, 1, 1, vec![noop(2, 2, THREE)], 0))]
    );
    assert_eq!(node.commit_index(), 0);
    assert!(!node.is_ready_leader());

    assert_eq!(
        node.receive(n(2), ack(2, 2, 2)),
        vec![
            apply(vec![entry(1, 1), noop(2, 2, THREE)]),
            leader_changed(2, Some(ME)),
        ]
    );
    assert!(node.is_ready_leader());
}
