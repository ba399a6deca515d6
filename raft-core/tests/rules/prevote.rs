//! PreVote (Raft thesis §9.6): a node whose election timeout fires first asks whether it could
//! win at `term + 1`, changing neither its term nor its vote; peers answer what they would
//! answer a real vote, but refuse while a current leader was heard from recently. Only a
//! quorum of pre-vote grants starts the real election.

use crate::support::*;
use raft_core::{Config, Node, PersistId, Recovered, Role};

/// `n1` from storage with PreVote on (and CheckQuorum off, so only PreVote's rules act).
fn pre_voting(voters: &[u64], hard_state: raft_core::HardState, terms: &[u64]) -> Node {
    let config = Config {
        check_quorum: false,
        ..defaults(voters, SEED)
    };
    recovered_with(config, hard_state, log(terms))
}

fn pre_voting_config() -> Config {
    Config {
        check_quorum: false,
        ..defaults(THREE, SEED)
    }
}

/// Ticks until just before the election timeout fires.
fn tick_until_timeout(node: &mut Node) {
    for _ in 1..node.election_timeout() {
        assert_eq!(node.tick(), vec![]);
    }
}

// ----- the pre-candidate ---------------------------------------------------------------------

#[test]
fn pre_vote_on_election_timeout_asks_for_term_plus_one_without_changing_term_or_vote() {
    let mut node = pre_voting(THREE, hs(3, Some(2)), &[1, 1, 2]);
    tick_until_timeout(&mut node);

    assert_eq!(
        node.tick(),
        vec![
            send(2, pre_vote_request(ME, 4, 3, 2)),
            send(3, pre_vote_request(ME, 4, 3, 2)),
        ]
    );
    assert_eq!(node.hard_state(), hs(3, Some(2)));
    assert_eq!(node.role(), Role::Follower);
    assert_eq!(node.persists_in_flight(), 0, "a pre-vote persists nothing");
}

#[test]
fn pre_candidate_forgets_the_leader_it_no_longer_hears() {
    let mut node = follower_of_with(pre_voting_config(), 2, 1, &[1]);
    tick_until_timeout(&mut node);

    assert_eq!(
        node.tick(),
        vec![
            leader_changed(1, None),
            send(2, pre_vote_request(ME, 2, 1, 1)),
            send(3, pre_vote_request(ME, 2, 1, 1)),
        ]
    );
}

#[test]
fn pre_vote_quorum_starts_the_real_election() {
    let mut node = pre_voting(THREE, hs(3, None), &[1, 1, 2]);
    node.campaign();

    assert_eq!(
        node.receive(n(2), pre_vote_grant(2, 4)),
        vec![
            role(Role::Candidate, 4),
            persist(1, Some(hs(4, Some(ME))), None)
        ]
    );
    assert_eq!(
        node.persisted(PersistId(1)).unwrap(),
        vec![
            send(2, vote_request(ME, 4, 3, 2)),
            send(3, vote_request(ME, 4, 3, 2)),
        ]
    );
}

#[test]
fn pre_vote_counts_each_voter_once() {
    let mut node = pre_voting(FIVE, hs(1, None), &[]);
    node.campaign();
    assert_eq!(node.receive(n(2), pre_vote_grant(2, 2)), vec![]);

    // Self and n2: two of the three needed, however often n2 says yes.
    assert_eq!(node.receive(n(2), pre_vote_grant(2, 2)), vec![]);
    assert_eq!(node.term(), 1);
    assert_eq!(
        node.receive(n(3), pre_vote_grant(3, 2)),
        vec![
            role(Role::Candidate, 2),
            persist(1, Some(hs(2, Some(ME))), None)
        ]
    );
}

#[test]
fn pre_vote_refused_by_a_quorum_leaves_the_node_a_follower_in_its_term() {
    let mut node = pre_voting(THREE, hs(3, None), &[1]);
    node.campaign();
    assert_eq!(node.receive(n(2), pre_vote_refusal(2, 4)), vec![]);

    assert_eq!(node.receive(n(3), pre_vote_refusal(3, 4)), vec![]);
    assert_eq!(node.hard_state(), hs(3, None));
    assert_eq!(
        node.receive(n(2), pre_vote_grant(2, 4)),
        vec![],
        "the lost pre-vote is over"
    );
}

#[test]
fn pre_vote_response_for_another_term_is_ignored() {
    let mut node = pre_voting(THREE, hs(3, None), &[1]);
    node.campaign();

    // An answer to an earlier pre-vote (at term 3) means nothing for this one (term 4).
    assert_eq!(node.receive(n(2), pre_vote_grant(2, 3)), vec![]);
    assert_eq!(node.role(), Role::Follower);
    assert_eq!(node.term(), 3);
}

#[test]
fn pre_vote_response_from_a_non_voter_is_ignored() {
    let mut node = pre_voting(THREE, hs(3, None), &[1]);
    node.campaign();

    assert_eq!(node.receive(n(4), pre_vote_grant(4, 4)), vec![]);
    assert_eq!(node.role(), Role::Follower);
}

#[test]
fn candidate_that_times_out_runs_a_pre_vote_as_a_follower_of_its_term() {
    let mut node = candidate_with(pre_voting_config(), 2, &[]);
    tick_until_timeout(&mut node);

    assert_eq!(
        node.tick(),
        vec![
            role(Role::Follower, 2),
            send(2, pre_vote_request(ME, 3, 0, 0)),
            send(3, pre_vote_request(ME, 3, 0, 0)),
        ]
    );
    assert_eq!(node.hard_state(), hs(2, Some(ME)), "the vote stays");
}

#[test]
fn pre_candidate_that_hears_from_a_leader_of_its_term_abandons_the_pre_vote() {
    let mut node = pre_voting(THREE, hs(2, None), &[]);
    node.campaign();
    assert_eq!(
        node.receive(n(2), append(2, 2, 0, 0, vec![], 0)),
        vec![leader_changed(2, Some(2)), send(2, ack(ME, 2, 0))]
    );

    assert_eq!(node.receive(n(3), pre_vote_grant(3, 3)), vec![]);
    assert_eq!(node.role(), Role::Follower);
}

#[test]
fn single_voter_with_pre_vote_campaigns_at_once() {
    let config = Config::new(n(ME), vec![n(ME)], SEED);
    assert!(config.pre_vote);
    let mut node = Node::new(config, Recovered::default()).unwrap();

    assert_eq!(
        node.campaign(),
        vec![
            role(Role::Candidate, 1),
            persist(1, Some(hs(1, Some(ME))), None)
        ]
    );
}

#[test]
fn non_voter_never_pre_votes() {
    let config = Config {
        voters: vec![n(2), n(3), n(4)],
        ..defaults(THREE, SEED)
    };
    let mut node = Node::new(config, Recovered::default()).unwrap();
    for _ in 0..100 {
        assert_eq!(node.tick(), vec![]);
    }
    assert_eq!(node.campaign(), vec![]);
}

// ----- the voter's answer --------------------------------------------------------------------

#[test]
fn pre_vote_request_with_a_higher_term_does_not_change_the_receivers_term() {
    let mut node = pre_voting(THREE, hs(2, Some(2)), &[1]);

    assert_eq!(
        node.receive(n(3), pre_vote_request(3, 3, 1, 1)),
        vec![send(3, pre_vote_grant(ME, 3))]
    );
    assert_eq!(node.hard_state(), hs(2, Some(2)));
    assert_eq!(node.role(), Role::Follower);
    assert_eq!(node.persists_in_flight(), 0);
}

#[test]
fn pre_vote_response_with_a_higher_term_does_not_change_the_receivers_term() {
    let mut node = ready_leader_with(pre_voting_config(), 2, &[]);

    // A grant or refusal echoes a pre-vote's future term; it is nobody's real term.
    assert_eq!(node.receive(n(2), pre_vote_refusal(2, 9)), vec![]);
    assert_eq!(node.receive(n(3), pre_vote_grant(3, 9)), vec![]);
    assert_eq!(node.role(), Role::Leader);
    assert_eq!(node.term(), 2);
}

#[test]
fn pre_vote_answer_leaves_at_once_even_while_a_persist_is_in_flight() {
    let mut node = pre_voting(THREE, hs(1, None), &[]);
    assert_eq!(
        node.receive(n(2), vote_request(2, 2, 0, 0)),
        vec![
            role(Role::Follower, 2),
            persist(1, Some(hs(2, Some(2))), None)
        ]
    );

    // A pre-vote attests nothing durable: it does not wait for persist 1.
    assert_eq!(
        node.receive(n(3), pre_vote_request(3, 3, 0, 0)),
        vec![send(3, pre_vote_response(ME, 3, true, true))]
    );
}

#[test]
fn pre_vote_refused_to_a_candidate_whose_log_is_behind() {
    let mut node = pre_voting(THREE, hs(3, None), &[1, 1, 2]);

    assert_eq!(
        node.receive(n(3), pre_vote_request(3, 4, 5, 1)),
        vec![send(3, pre_vote_refusal(ME, 4))]
    );
}

#[test]
fn pre_vote_is_judged_on_log_and_lease_not_on_term() {
    // Simulator seed 176: n3 stepped down for lost quorum in term 2 with the longest log;
    // n1 (term 3, voted for n2) must let it through, or no one can ever win: n3 refuses the
    // others for their shorter logs and, since pre-vote answers change no term, never
    // learns term 3. The real election at term 3 is then refused without harm.
    let mut node = pre_voting(THREE, hs(3, Some(2)), &[1, 2]);

    assert_eq!(
        node.receive(n(3), pre_vote_request(3, 3, 3, 2)),
        vec![send(3, pre_vote_grant(ME, 3))]
    );
    assert_eq!(
        node.receive(n(3), pre_vote_request(3, 2, 3, 2)),
        vec![send(3, pre_vote_grant(ME, 2))]
    );
    assert_eq!(
        node.receive(n(3), vote_request(3, 3, 3, 2)),
        vec![send(3, vote_response(ME, 3, false, false))],
        "the real vote in term 3 is taken"
    );
    assert_eq!(node.hard_state(), hs(3, Some(2)));
}

#[test]
fn pre_vote_refused_while_the_leader_was_heard_from_within_the_minimum_election_timeout() {
    // PreVote's own rule: CheckQuorum is off here.
    let mut node = follower_of_with(pre_voting_config(), 2, 2, &[1]);
    for _ in 1..node.config().election_timeout_min {
        assert_eq!(node.tick(), vec![]);
    }

    assert_eq!(
        node.receive(n(3), pre_vote_request(3, 3, 1, 1)),
        vec![send(3, pre_vote_refusal(ME, 3))]
    );
}

#[test]
fn pre_vote_granted_once_the_leader_was_not_heard_from_for_the_minimum_election_timeout() {
    let mut node = follower_of_with(pre_voting_config(), 2, 2, &[1]);
    assert!(node.election_timeout() > node.config().election_timeout_min);
    for _ in 0..node.config().election_timeout_min {
        assert_eq!(node.tick(), vec![]);
    }

    assert_eq!(
        node.receive(n(3), pre_vote_request(3, 3, 1, 1)),
        vec![send(3, pre_vote_grant(ME, 3))]
    );
    assert_eq!(
        node.leader(),
        Some(n(2)),
        "granting a pre-vote changes nothing"
    );
}

#[test]
fn leader_refuses_pre_votes() {
    let mut node = ready_leader_with(pre_voting_config(), 2, &[]);

    assert_eq!(
        node.receive(n(3), pre_vote_request(3, 3, 1, 2)),
        vec![send(3, pre_vote_refusal(ME, 3))]
    );
    assert_eq!(node.role(), Role::Leader);
}
