//! Leader transfer (NRG `StepDown(preferred)` / `EntryLeaderTransfer`, etcd `TimeoutNow`): the
//! leader stops taking proposals, brings the target up to date and tells it to campaign at
//! once; the target skips PreVote and leader stickiness; an unfinished transfer is abandoned
//! after an election timeout; the vote is never cleared.

use crate::support::*;
use raft_core::{
    Action, Config, Entry, Node, ProposeError, Proposed, Recovered, Role, TransferError,
};

/// A ready leader of term 2 (log: its no-op at 1), PreVote and CheckQuorum on.
fn leader() -> Node {
    ready_leader_with(defaults(THREE, SEED), 2, &[])
}

/// Ticks a leader `count` times, dropping its heartbeats; panics on anything else.
fn tick_leader(node: &mut Node, count: u32) {
    for _ in 0..count {
        for action in node.tick() {
            assert!(
                matches!(action, Action::Send { .. }),
                "unexpected {action:?}"
            );
        }
    }
}

// ----- the leader ----------------------------------------------------------------------------

#[test]
fn step_down_to_a_caught_up_successor_sends_it_timeout_now_at_once() {
    let mut node = leader();

    assert_eq!(
        node.step_down(Some(n(3))),
        Ok(vec![send(3, timeout_now(ME, 2))])
    );
    assert_eq!(node.transfer_target(), Some(n(3)));
    assert_eq!(
        node.role(),
        Role::Leader,
        "it leads until the new term arrives"
    );
}

#[test]
fn step_down_without_a_preference_picks_the_most_up_to_date_voter() {
    let mut node = leader();
    node.propose(2, "x").unwrap();
    assert_eq!(node.receive(n(3), ack(3, 2, 2)), vec![]);

    assert_eq!(node.step_down(None), Ok(vec![send(3, timeout_now(ME, 2))]));
}

#[test]
fn step_down_without_a_preference_breaks_a_tie_by_the_lowest_id() {
    let mut node = leader();

    assert_eq!(node.step_down(None), Ok(vec![send(2, timeout_now(ME, 2))]));
}

#[test]
fn lagging_successor_gets_timeout_now_once_it_acknowledges_the_whole_log() {
    let mut node = leader();
    node.propose(2, "x").unwrap();
    // Entry 2 is already in flight to n2: nothing more to send yet.
    assert_eq!(node.step_down(Some(n(2))), Ok(vec![]));

    assert_eq!(
        node.receive(n(2), ack(2, 2, 2)),
        vec![send(2, timeout_now(ME, 2))]
    );
}

#[test]
fn lagging_successor_is_sent_what_it_misses_first() {
    let mut node = leader();
    node.propose(2, "x").unwrap();
    // n2 lost entry 2: its rejection moves it back, and the transfer waits for the retry.
    node.step_down(Some(n(2))).unwrap();

    assert_eq!(
        node.receive(n(2), nack(2, 2, 1)),
        vec![send(
            2,
            append(ME, 2, 1, 2, vec![Entry::normal(2, 2, "x")], 1)
        )]
    );
}

#[test]
fn timeout_now_is_sent_again_on_each_acknowledgement_while_the_transfer_lasts() {
    let mut node = leader();
    node.step_down(Some(n(2))).unwrap();

    // The first TimeoutNow may be lost; the next heartbeat's acknowledgement repeats it.
    assert_eq!(
        node.receive(n(2), ack(2, 2, 1)),
        vec![send(2, timeout_now(ME, 2))]
    );
}

#[test]
fn proposal_during_a_transfer_is_refused_never_lost() {
    let mut node = leader();
    node.step_down(Some(n(2))).unwrap();

    assert_eq!(
        node.propose(2, "x"),
        Err(ProposeError::TransferInProgress { target: n(2) })
    );
    assert_eq!(
        node.forward("x"),
        Err(ProposeError::TransferInProgress { target: n(2) })
    );
    assert_eq!(node.last_index(), 1);
}

#[test]
fn forwarded_proposal_during_a_transfer_is_dropped() {
    let mut node = leader();
    node.step_down(Some(n(2))).unwrap();

    assert_eq!(node.receive(n(3), forwarded("x")), vec![]);
    assert_eq!(node.last_index(), 1);
}

#[test]
fn transfer_not_finished_within_an_election_timeout_is_abandoned() {
    let mut node = leader();
    node.step_down(Some(n(2))).unwrap();
    let limit = node.config().election_timeout_max;
    tick_leader(&mut node, limit - 1);
    assert!(node.propose(2, "early").is_err());
    tick_leader(&mut node, 1);

    let x = Entry::normal(2, 2, "x");
    assert_eq!(
        node.propose(2, "x"),
        Ok(Proposed {
            first_index: 2,
            last_index: 2,
            actions: vec![
                persist(3, None, Some(write(1, 2, vec![x.clone()]))),
                send(2, append(ME, 2, 1, 2, vec![x.clone()], 1)),
                send(3, append(ME, 2, 1, 2, vec![x], 1)),
            ],
        })
    );
    assert_eq!(node.transfer_target(), None);
    assert_eq!(node.hard_state(), hs(2, Some(ME)), "the vote stays");
}

#[test]
fn step_down_again_to_the_same_target_changes_nothing() {
    let mut node = leader();
    node.step_down(Some(n(2))).unwrap();

    assert_eq!(node.step_down(Some(n(2))), Ok(vec![]));
    assert_eq!(
        node.step_down(Some(n(3))),
        Err(TransferError::InProgress { target: n(2) })
    );
}

#[test]
fn step_down_is_refused_without_a_valid_successor() {
    let mut node = leader();
    assert_eq!(
        node.step_down(Some(n(ME))),
        Err(TransferError::InvalidTarget { target: n(ME) })
    );
    assert_eq!(
        node.step_down(Some(n(4))),
        Err(TransferError::InvalidTarget { target: n(4) })
    );
    assert_eq!(
        follower_of(2, 2, &[]).step_down(None),
        Err(TransferError::NotLeader { leader: Some(n(2)) })
    );

    let config = Config {
        pre_vote: false,
        ..Config::new(n(ME), vec![n(ME)], SEED)
    };
    let mut single = Node::new(config, Recovered::default()).unwrap();
    single.campaign();
    single.persisted(raft_core::PersistId(1)).unwrap();
    assert_eq!(single.step_down(None), Err(TransferError::NoSuccessor));
    assert_eq!(node.transfer_target(), None);
}

#[test]
fn leader_steps_down_on_the_successors_transfer_vote_request_and_grants_it() {
    let mut node = leader();
    node.step_down(Some(n(2))).unwrap();

    assert_eq!(
        node.receive(n(2), transfer_vote_request(2, 3, 1, 2)),
        vec![
            role(Role::Follower, 3),
            leader_changed(3, None),
            persist(3, Some(hs(3, Some(2))), None),
        ]
    );
    assert_eq!(node.transfer_target(), None);
}

// ----- the target and the other voters -------------------------------------------------------

#[test]
fn timeout_now_makes_a_voter_campaign_at_once_skipping_pre_vote() {
    let mut node = follower_of_with(defaults(THREE, SEED), 2, 2, &[1]);

    assert_eq!(
        node.receive(n(2), timeout_now(2, 2)),
        vec![
            role(Role::Candidate, 3),
            leader_changed(3, None),
            persist(1, Some(hs(3, Some(ME))), None),
        ]
    );
    assert_eq!(
        node.persisted(raft_core::PersistId(1)).unwrap(),
        vec![
            send(2, transfer_vote_request(ME, 3, 1, 1)),
            send(3, transfer_vote_request(ME, 3, 1, 1)),
        ]
    );
}

#[test]
fn transfer_vote_request_is_exempt_from_leader_stickiness() {
    // This follower just heard from its leader n2: a plain vote request would be ignored.
    let mut node = follower_of_with(defaults(THREE, SEED), 2, 2, &[1]);
    assert_eq!(node.receive(n(3), vote_request(3, 3, 1, 1)), vec![]);

    assert_eq!(
        node.receive(n(3), transfer_vote_request(3, 3, 1, 1)),
        vec![
            role(Role::Follower, 3),
            leader_changed(3, None),
            persist(1, Some(hs(3, Some(3))), None),
        ]
    );
}

#[test]
fn non_voter_ignores_timeout_now() {
    let config = Config {
        voters: vec![n(2), n(3), n(4)],
        ..defaults(THREE, SEED)
    };
    let mut node = Node::new(config, Recovered::default()).unwrap();
    node.receive(n(2), append(2, 2, 0, 0, vec![], 0));

    assert_eq!(node.receive(n(2), timeout_now(2, 2)), vec![]);
    assert_eq!(node.role(), Role::Follower);
    assert_eq!(node.term(), 2);
}

#[test]
fn timeout_now_of_an_earlier_term_is_ignored() {
    // A duplicate that arrives after the transfer's election already moved on.
    let mut node = follower_of_with(defaults(THREE, SEED), 2, 3, &[1]);

    assert_eq!(node.receive(n(2), timeout_now(2, 2)), vec![]);
    assert_eq!(node.role(), Role::Follower);
}

#[test]
fn leader_ignores_timeout_now() {
    let mut node = leader();

    assert_eq!(node.receive(n(2), timeout_now(2, 2)), vec![]);
    assert_eq!(node.role(), Role::Leader);
}

#[test]
fn transfer_that_caught_up_late_has_a_whole_election_timeout_from_its_timeout_now() {
    let mut node = leader();
    node.propose(2, "x").unwrap();
    node.step_down(Some(n(2))).unwrap();
    let limit = node.config().election_timeout_max;
    tick_leader(&mut node, limit - 1);
    // The target catches up one tick before the transfer would have been abandoned.
    assert_eq!(
        node.receive(n(2), ack(2, 2, 2)),
        vec![send(2, timeout_now(ME, 2))]
    );
    tick_leader(&mut node, limit - 2);
    // Later acknowledgements resend TimeoutNow but do not restart the clock: a target that
    // acknowledges and never wins cannot hold the leader's proposals for ever.
    assert_eq!(
        node.receive(n(2), ack(2, 2, 2)),
        vec![send(2, timeout_now(ME, 2))]
    );
    tick_leader(&mut node, 1);
    assert_eq!(
        node.propose(2, "y").map(|p| p.first_index),
        Err(ProposeError::TransferInProgress { target: n(2) }),
        "the target is campaigning: the leader takes no proposals"
    );
    tick_leader(&mut node, 1);
    assert_eq!(node.transfer_target(), None);
    assert_eq!(node.propose(2, "y").map(|p| p.first_index), Ok(3));
}
