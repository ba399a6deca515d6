//! Rescue quorum (NRG `RescueQuorum`): an operator lowers the quorum of a leaderless group
//! that lost its majority for good; it ends once the membership shrank to what the rescued
//! quorum is a majority of, or when it expires.

use crate::support::*;
use raft_core::{Config, Node, Rescue, RescueError, Role};

const RESCUE_TICKS: u32 = 1_000;

/// A candidate of term 2 in a five-voter cluster, holding entry 1 of term 1, whose own vote
/// is durable: it needs two more grants for a majority.
fn five_voter_candidate() -> Node {
    candidate(FIVE, 2, &[1])
}

// ----- who may rescue ------------------------------------------------------------------------

#[test]
fn rescue_is_refused_while_leading() {
    let mut node = ready_leader(THREE, 2, &[]);
    assert_eq!(
        node.rescue_quorum(1, RESCUE_TICKS),
        Err(RescueError::Leading)
    );
    assert_eq!(node.rescue(), None);
}

#[test]
fn rescue_is_refused_while_a_leader_is_known() {
    let mut node = follower_of(2, 2, &[1]);
    assert_eq!(
        node.rescue_quorum(1, RESCUE_TICKS),
        Err(RescueError::LeaderKnown { leader: n(2) })
    );
}

#[test]
fn rescue_is_refused_to_a_node_that_is_not_a_voter() {
    let mut node = recovered_member(
        config(&[2, 3, 4], SEED),
        hs(1, None),
        log(&[1]),
        peers(&[2, 3, 4], &[1]),
    );
    assert_eq!(
        node.rescue_quorum(1, RESCUE_TICKS),
        Err(RescueError::NotAVoter)
    );
}

#[test]
fn rescue_is_refused_with_an_empty_log() {
    let mut node = follower(1, &[]);
    assert_eq!(
        node.rescue_quorum(1, RESCUE_TICKS),
        Err(RescueError::EmptyLog)
    );
}

#[test]
fn rescue_is_refused_unless_the_quorum_is_below_a_majority_and_it_lasts() {
    let mut node = recovered(FIVE, hs(1, None), log(&[1]));
    for requested in [0, 3, 4] {
        assert_eq!(
            node.rescue_quorum(requested, RESCUE_TICKS),
            Err(RescueError::NotBelowNatural {
                requested,
                natural: 3,
                voters: 5
            })
        );
    }
    assert_eq!(node.rescue_quorum(2, 0), Err(RescueError::NoDuration));
    assert_eq!(node.rescue(), None);
    assert_eq!(node.quorum_needed(), 3);
}

#[test]
fn rescue_lowers_the_quorum_a_leaderless_voter_counts_with() {
    let mut node = recovered(FIVE, hs(1, None), log(&[1]));
    assert_eq!(node.rescue_quorum(2, RESCUE_TICKS), Ok(vec![]));
    assert_eq!(
        node.rescue(),
        Some(Rescue {
            quorum: 2,
            ticks_left: RESCUE_TICKS
        })
    );
    assert_eq!((node.quorum_needed(), node.natural_quorum()), (2, 3));
}

#[test]
fn rescue_past_a_term_the_node_never_heard_adopts_it_before_campaigning() {
    let mut node = five_voter_candidate();
    node.receive(n(2), grant(2, 2));

    // A candidate of term 2 holding the rescued quorum would win term 2 at once; past term 4
    // it becomes a follower of term 4 with no vote, so no term up to 4 can be won again.
    assert_eq!(
        node.rescue_quorum_past(2, RESCUE_TICKS, 4),
        Ok(vec![
            role(Role::Follower, 4),
            persist(2, Some(hs(4, None)), None)
        ])
    );
    assert_eq!(
        node.rescue(),
        Some(Rescue {
            quorum: 2,
            ticks_left: RESCUE_TICKS
        })
    );
}

#[test]
fn rescue_past_the_term_a_candidate_campaigns_in_gives_up_that_candidacy() {
    let mut node = five_voter_candidate();
    node.receive(n(2), grant(2, 2));

    // A lost server may have led term 2 too: the candidate stays in term 2 as a follower,
    // its own vote kept, and campaigns next for term 3.
    assert_eq!(
        node.rescue_quorum_past(2, RESCUE_TICKS, 2),
        Ok(vec![role(Role::Follower, 2)])
    );
    assert_eq!((node.term(), node.vote()), (2, Some(n(ME))));
}

#[test]
fn rescue_past_a_term_below_the_node_s_own_is_a_plain_rescue() {
    let granted = || {
        let mut node = five_voter_candidate();
        node.receive(n(2), grant(2, 2));
        node
    };
    let (mut past, mut plain) = (granted(), granted());

    let actions = past.rescue_quorum_past(2, RESCUE_TICKS, 1);
    assert_eq!(actions, plain.rescue_quorum(2, RESCUE_TICKS));
    assert_eq!(actions.expect("leaderless voter")[0], role(Role::Leader, 2));
    assert_eq!((past.term(), past.rescue()), (plain.term(), plain.rescue()));
}

// ----- what a rescued quorum counts ----------------------------------------------------------

#[test]
fn rescued_candidate_already_holding_the_rescued_quorum_wins_at_once() {
    let mut node = five_voter_candidate();
    assert_eq!(node.receive(n(2), grant(2, 2)), vec![]);

    let noop = noop(2, 2, FIVE);
    let to_each = |peer| send(peer, append(ME, 2, 1, 1, vec![noop.clone()], 0));
    assert_eq!(
        node.rescue_quorum(2, RESCUE_TICKS),
        Ok(vec![
            role(Role::Leader, 2),
            persist(2, None, Some(write(1, 1, vec![noop.clone()]))),
            to_each(2),
            to_each(3),
            to_each(4),
            to_each(5),
        ])
    );
}

#[test]
fn rescued_candidate_counts_empty_log_votes() {
    let mut node = five_voter_candidate();
    node.rescue_quorum(2, RESCUE_TICKS)
        .expect("leaderless voter");

    let actions = node.receive(n(4), vote_response(4, 2, true, true));
    assert_eq!(actions[0], role(Role::Leader, 2));
}

#[test]
fn rescued_pre_vote_starts_the_election_at_the_rescued_quorum() {
    let config = Config {
        check_quorum: false,
        ..defaults(FIVE, SEED)
    };
    let mut node = recovered_with(config, hs(1, None), log(&[1]));
    node.rescue_quorum(2, RESCUE_TICKS)
        .expect("leaderless voter");
    node.campaign();

    assert_eq!(
        node.receive(n(3), pre_vote_grant(3, 2)),
        vec![
            role(Role::Candidate, 2),
            persist(1, Some(hs(2, Some(ME))), None)
        ]
    );
}

#[test]
fn rescued_leader_commits_with_the_rescued_quorum() {
    let mut node = five_voter_candidate();
    node.rescue_quorum(2, RESCUE_TICKS)
        .expect("leaderless voter");
    node.receive(n(2), grant(2, 2));
    node.persisted(raft_core::PersistId(2)).expect("issued");

    let noop = noop(2, 2, FIVE);
    assert_eq!(
        node.receive(n(2), ack(2, 2, 2)),
        vec![apply(vec![entry(1, 1), noop]), leader_changed(2, Some(ME))]
    );
    assert_eq!(node.commit_index(), 2);
}

#[test]
fn rescued_leader_hearing_the_rescued_quorum_passes_check_quorum() {
    let config = Config {
        pre_vote: false,
        ..defaults(FIVE, SEED)
    };
    let mut node = candidate_with(config, 2, &[1]);
    node.rescue_quorum(2, RESCUE_TICKS)
        .expect("leaderless voter");
    node.receive(n(2), grant(2, 2));
    let window = node.config().election_timeout_max;
    for _ in 0..3 {
        for _ in 0..window - 1 {
            node.tick();
        }
        node.receive(n(2), ack(2, 2, 2));
        node.tick();
    }
    assert_eq!(node.role(), Role::Leader);
}

// ----- how a rescue ends ---------------------------------------------------------------------

#[test]
fn rescue_expires_after_its_ticks_and_the_natural_quorum_counts_again() {
    let mut node = five_voter_candidate();
    node.rescue_quorum(2, 3).expect("leaderless voter");
    node.tick();
    node.tick();
    assert_eq!(node.rescue().map(|r| r.ticks_left), Some(1));

    node.tick();
    assert_eq!(node.rescue(), None);
    assert_eq!(
        node.receive(n(2), grant(2, 2)),
        vec![],
        "two of five is no majority"
    );
    assert_eq!(node.role(), Role::Candidate);
}

#[test]
fn rescue_ends_once_the_membership_shrinks_to_what_the_rescued_quorum_is_a_majority_of() {
    let mut node = five_voter_candidate();
    node.rescue_quorum(2, RESCUE_TICKS)
        .expect("leaderless voter");
    node.receive(n(2), grant(2, 2));
    node.persisted(raft_core::PersistId(2)).expect("issued");
    node.receive(n(2), ack(2, 2, 2));
    assert!(node.is_ready_leader());

    // Four voters: a majority is three, the rescue goes on.
    node.propose_remove_peer(2, n(5))
        .expect("no change pending");
    assert_eq!(node.rescue().map(|r| r.quorum), Some(2));
    node.persisted(raft_core::PersistId(3)).expect("issued");
    node.receive(n(2), ack(2, 2, 3));
    assert_eq!(node.commit_index(), 3, "committed by the rescued quorum");

    // Three voters: a majority is two, the rescued quorum; the natural quorum is back.
    node.propose_remove_peer(2, n(4))
        .expect("no change pending");
    assert_eq!(node.rescue(), None);
    assert_eq!(node.quorum_needed(), 2);
}

#[test]
fn rescue_is_kept_when_a_leader_s_peer_state_keeps_the_membership() {
    let mut node = recovered(FIVE, hs(1, None), log(&[1]));
    node.rescue_quorum(2, RESCUE_TICKS)
        .expect("leaderless voter");

    // n2 won term 2 and sends its no-op: the same five voters.
    node.receive(n(2), append(2, 2, 1, 1, vec![noop(2, 2, FIVE)], 0));
    assert_eq!(node.rescue().map(|r| r.quorum), Some(2));
    assert_eq!(node.quorum_needed(), 2);
}

#[test]
fn without_a_rescue_an_empty_log_grant_counts_toward_a_majority() {
    let mut node = five_voter_candidate();
    assert_eq!(node.receive(n(2), grant(2, 2)), vec![]);
    assert_eq!(node.receive(n(3), vote_response(3, 2, true, true)).len(), 6);
    assert_eq!(
        node.role(),
        Role::Leader,
        "an empty-log grant counts (Raft paper)"
    );
}
