//! Membership: single-server changes (NRG `ProposeAddPeer` / `ProposeRemovePeer`), one at a
//! time, only once the leader committed an entry of its own term; a change takes effect when
//! its entry is appended and is undone when the entry is truncated; removed peers never count;
//! a removed leader leads until the removal commits; the membership is persisted and survives
//! restarts.

use crate::support::*;
use raft_core::{
    Action, Config, Entry, EntryKind, MembershipChange, Node, NodeId, PersistId, ProposeError,
    Proposed, Recovered, Role,
};

/// A ready leader of term 2 of {n1, n2, n3} (log: its no-op at 1); next Persist id 3.
fn leader() -> Node {
    ready_leader(THREE, 2, &[])
}

fn voters(node: &Node) -> Vec<u64> {
    node.voters().map(|v| v.0).collect()
}

/// Ticks `count` times and returns every action.
fn tick(node: &mut Node, count: u32) -> Vec<Action> {
    (0..count).flat_map(|_| node.tick()).collect()
}

// ----- proposing a change ----------------------------------------------------------------------

#[test]
fn add_voter_appends_the_whole_new_membership_and_takes_effect_at_once() {
    let mut node = leader();
    let change = peers_entry(2, 2, &[1, 2, 3, 4], &[]);

    assert_eq!(
        node.propose_add_voter(2, n(4)),
        Ok(Proposed {
            first_index: 2,
            last_index: 2,
            actions: vec![
                persist_with_peers(
                    3,
                    None,
                    Some(write(1, 2, vec![change.clone()])),
                    peers(&[1, 2, 3, 4], &[])
                ),
                send(2, append(ME, 2, 1, 2, vec![change.clone()], 1)),
                send(3, append(ME, 2, 1, 2, vec![change.clone()], 1)),
                // The new voter is replicated to from the change on.
                send(4, append(ME, 2, 1, 2, vec![change], 1)),
            ],
        })
    );
    assert_eq!(voters(&node), vec![1, 2, 3, 4]);
    assert_eq!(node.pending_membership_change(), Some(2));
}

#[test]
fn change_commits_with_a_quorum_of_the_new_membership() {
    let mut node = leader();
    node.propose_add_voter(2, n(4)).unwrap();
    node.persisted(PersistId(3)).unwrap();
    // {n1, n2, n3, n4} needs three: n1 and n2 are not enough any more.
    assert_eq!(node.receive(n(2), ack(2, 2, 2)), vec![]);

    assert_eq!(
        node.receive(n(3), ack(3, 2, 2)),
        vec![apply(vec![peers_entry(2, 2, &[1, 2, 3, 4], &[])])]
    );
    assert_eq!(node.pending_membership_change(), None);
}

#[test]
fn second_membership_change_is_refused_while_one_is_uncommitted() {
    let mut node = leader();
    node.propose_add_voter(2, n(4)).unwrap();

    assert_eq!(
        node.propose_remove_peer(2, n(3)),
        Err(ProposeError::MembershipChangePending { index: 2 })
    );
    assert_eq!(node.last_index(), 2);
}

#[test]
fn new_leader_refuses_a_membership_change_until_an_entry_of_its_term_is_committed() {
    // Its no-op is appended but not committed (Ongaro, raft-dev 2015: a change made before
    // it may be uncommitted in some log, and two overlapping changes can elect two leaders).
    let mut node = leader_with(config(THREE, SEED), 2, &[]);

    assert_eq!(
        node.propose_add_voter(2, n(4)),
        Err(ProposeError::NotYetCommittedInTerm)
    );
    assert_eq!(node.last_index(), 1);
}

#[test]
fn membership_change_is_term_fenced() {
    let mut node = leader();

    assert_eq!(
        node.propose_membership(1, MembershipChange::AddVoter(n(4))),
        Err(ProposeError::WrongTerm {
            proposal_term: 1,
            current_term: 2
        })
    );
}

#[test]
fn follower_refuses_to_propose_a_membership_change() {
    let mut node = follower_of(2, 2, &[]);

    assert_eq!(
        node.propose_add_voter(2, n(4)),
        Err(ProposeError::NotLeader { leader: Some(n(2)) })
    );
}

#[test]
fn last_voter_cannot_be_removed() {
    let id = n(ME);
    let mut node = Node::new(Config::new(id, vec![id], SEED), Recovered::default()).unwrap();
    node.campaign();
    node.persisted(PersistId(1)).unwrap();
    node.persisted(PersistId(2)).unwrap();
    assert!(node.is_ready_leader());

    assert_eq!(
        node.propose_remove_peer(1, id),
        Err(ProposeError::LastVoter { peer: id })
    );
}

#[test]
fn change_that_changes_nothing_is_refused() {
    let mut node = leader();

    assert_eq!(
        node.propose_add_voter(2, n(3)),
        Err(ProposeError::AlreadyMember { peer: n(3) })
    );
    assert_eq!(
        node.propose_add_observer(2, n(3)),
        Err(ProposeError::AlreadyMember { peer: n(3) })
    );
    assert_eq!(
        node.propose_remove_peer(2, n(9)),
        Err(ProposeError::NotAMember { peer: n(9) })
    );
    assert_eq!(node.last_index(), 1);
}

// ----- removed peers ---------------------------------------------------------------------------

#[test]
fn removed_voters_acknowledgement_never_counts() {
    let mut node = leader();
    node.propose_remove_peer(2, n(3)).unwrap();
    node.persisted(PersistId(3)).unwrap();

    // {n1, n2} needs both; n3's acknowledgement is not a vote for anything any more.
    assert_eq!(node.receive(n(3), ack(3, 2, 2)), vec![]);
    assert_eq!(node.commit_index(), 1);
}

#[test]
fn removed_voters_vote_never_counts() {
    // The log removed n5 from {n1..n5}: a quorum is three of {n1..n4}.
    let mut node = recovered(
        FIVE,
        hs(1, None),
        vec![
            peers_entry(1, 1, &[1, 2, 3, 4, 5], &[]),
            peers_entry(1, 2, &[1, 2, 3, 4], &[]),
        ],
    );
    node.campaign();
    node.persisted(PersistId(1)).unwrap();
    node.receive(n(2), grant(2, 2));

    assert_eq!(node.receive(n(5), grant(5, 2)), vec![]);
    assert_eq!(node.role(), Role::Candidate);
}

#[test]
fn candidate_asks_only_the_voters_of_its_latest_membership() {
    let mut node = recovered(
        FIVE,
        hs(1, None),
        vec![
            peers_entry(1, 1, &[1, 2, 3, 4, 5], &[]),
            peers_entry(1, 2, &[1, 2, 3, 4], &[]),
        ],
    );
    node.campaign();

    let request = vote_request(ME, 2, 2, 1);
    assert_eq!(
        node.persisted(PersistId(1)),
        Ok(vec![
            send(2, request.clone()),
            send(3, request.clone()),
            send(4, request),
        ])
    );
}

#[test]
fn removed_follower_is_replicated_to_until_its_removal_commits() {
    let mut node = leader();
    let removal = peers_entry(2, 2, &[1, 2], &[]);
    // The removal itself goes to n3, so n3 learns it is out.
    assert_eq!(
        node.propose_remove_peer(2, n(3)).map(|p| p.actions),
        Ok(vec![
            persist_with_peers(
                3,
                None,
                Some(write(1, 2, vec![removal.clone()])),
                peers(&[1, 2], &[])
            ),
            send(2, append(ME, 2, 1, 2, vec![removal.clone()], 1)),
            send(3, append(ME, 2, 1, 2, vec![removal.clone()], 1)),
        ])
    );
    node.persisted(PersistId(3)).unwrap();

    assert_eq!(node.receive(n(2), ack(2, 2, 2)), vec![apply(vec![removal])]);
    assert_eq!(node.match_index(n(3)), None, "its progress is dropped");
    let x = Entry::normal(2, 3, "x");
    assert_eq!(
        node.propose(2, "x").map(|p| p.actions),
        Ok(vec![
            persist(4, None, Some(write(2, 2, vec![x.clone()]))),
            send(2, append(ME, 2, 2, 2, vec![x], 2)),
        ])
    );
}

#[test]
fn peer_removed_in_this_term_is_not_readded_in_the_same_term() {
    let mut node = leader();
    node.propose_remove_peer(2, n(3)).unwrap();
    node.persisted(PersistId(3)).unwrap();
    node.receive(n(2), ack(2, 2, 2));
    assert_eq!(node.match_index(n(3)), None, "the removal committed");

    // n3's answers to the removed session may still be on the wire, and they name only the
    // peer, the term and an index: a new session in this term would take them as its own.
    let refused = Err(ProposeError::RemovedInThisTerm { peer: n(3) });
    assert_eq!(node.propose_add_observer(2, n(3)), refused);
    assert_eq!(node.propose_add_voter(2, n(3)), refused);
    assert_eq!(node.last_index(), 2, "nothing appended");
    assert_eq!(voters(&node), vec![1, 2]);
    // A peer this leadership never removed is added as usual.
    assert!(node.propose_add_observer(2, n(4)).is_ok());
}

#[test]
fn commit_below_an_uncommitted_removal_keeps_replicating_to_the_removed_follower() {
    let mut node = leader();
    let x = Entry::normal(2, 2, "x");
    node.propose(2, "x").unwrap();
    node.propose_remove_peer(2, n(3)).unwrap();
    node.persisted(PersistId(3)).unwrap();

    // Index 2 commits; the removal at 3 does not yet.
    assert_eq!(node.receive(n(2), ack(2, 2, 2)), vec![apply(vec![x])]);
    assert_eq!(node.match_index(n(3)), Some(1), "n3 is still replicated to");
}

#[test]
fn removal_committed_together_with_later_entries_stops_replicating_to_the_removed_follower() {
    let mut node = leader();
    let removal = peers_entry(2, 2, &[1, 2], &[]);
    node.propose_remove_peer(2, n(3)).unwrap();
    node.propose(2, "x").unwrap();
    node.persisted(PersistId(3)).unwrap();
    node.persisted(PersistId(4)).unwrap();

    // One acknowledgement commits the removal and the entry after it.
    assert_eq!(
        node.receive(n(2), ack(2, 2, 3)),
        vec![apply(vec![removal, Entry::normal(2, 3, "x")])]
    );
    assert_eq!(node.match_index(n(3)), None, "its progress is dropped");
}

#[test]
fn removed_leader_keeps_leading_until_the_removal_commits_then_steps_down() {
    let mut node = leader();
    let removal = peers_entry(2, 2, &[2, 3], &[]);
    node.propose_remove_peer(2, n(ME)).unwrap();
    assert_eq!(node.role(), Role::Leader);
    // It no longer counts itself: its own durable entry and n2 are not a quorum of {n2, n3}.
    assert_eq!(node.persisted(PersistId(3)), Ok(vec![]));
    assert_eq!(node.receive(n(2), ack(2, 2, 2)), vec![]);
    // It still takes proposals meanwhile.
    assert!(node.propose(2, "x").is_ok());

    assert_eq!(
        node.receive(n(3), ack(3, 2, 2)),
        vec![
            apply(vec![removal]),
            role(Role::Follower, 2),
            leader_changed(2, None),
        ]
    );
    assert_eq!(node.vote(), Some(n(ME)), "its vote stays");
}

#[test]
fn removed_leader_never_campaigns_again() {
    let mut node = leader();
    node.propose_remove_peer(2, n(ME)).unwrap();
    node.persisted(PersistId(3)).unwrap();
    node.receive(n(2), ack(2, 2, 2));
    node.receive(n(3), ack(3, 2, 2));
    assert_eq!(node.role(), Role::Follower);

    let max = node.config().election_timeout_max;
    assert_eq!(tick(&mut node, 3 * max), vec![]);
    assert_eq!(node.campaign(), vec![]);
}

// ----- followers -------------------------------------------------------------------------------

#[test]
fn follower_applies_a_membership_change_when_it_appends_it() {
    let mut node = follower_of(2, 2, &[2]);
    let change = peers_entry(2, 2, &[1, 2, 3, 4], &[]);

    assert_eq!(
        node.receive(n(2), append(2, 2, 1, 2, vec![change.clone()], 1)),
        vec![
            persist_with_peers(
                1,
                None,
                Some(write(1, 2, vec![change])),
                peers(&[1, 2, 3, 4], &[])
            ),
            apply(vec![entry(2, 1)]),
        ]
    );
    assert_eq!(voters(&node), vec![1, 2, 3, 4], "before it is committed");
}

#[test]
fn truncating_a_membership_change_reverts_it() {
    // An uncommitted change from term 1 added n4; the leader of term 3 replaces it.
    let mut node = recovered(
        THREE,
        hs(2, None),
        vec![entry(1, 1), peers_entry(1, 2, &[1, 2, 3, 4], &[])],
    );
    assert_eq!(voters(&node), vec![1, 2, 3, 4]);

    assert_eq!(
        node.receive(n(2), append(2, 3, 1, 1, vec![entry(3, 2)], 1)),
        vec![
            role(Role::Follower, 3),
            leader_changed(3, Some(2)),
            persist_with_peers(
                1,
                Some(hs(3, None)),
                Some(write(1, 1, vec![entry(3, 2)])),
                peers(&[1, 2, 3], &[])
            ),
            apply(vec![entry(1, 1)]),
        ]
    );
    assert_eq!(voters(&node), vec![1, 2, 3]);
}

// ----- persistence -------------------------------------------------------------------------------

#[test]
fn membership_survives_a_restart_through_the_peer_state_file() {
    // The log has no membership entry: the peer-state file, not the configuration, says who
    // votes.
    let node = recovered_member(
        config(THREE, SEED),
        hs(3, None),
        vec![],
        peers(&[1, 2, 3, 4, 5], &[]),
    );

    assert_eq!(voters(&node), vec![1, 2, 3, 4, 5]);
}

#[test]
fn replayed_committed_add_keeps_the_cluster_size() {
    // nats-server #7850: the peer-state file already holds n4, and the WAL replays the
    // (NRG-style) EntryAddPeer that added it; the cluster must stay at four voters, quorum 3.
    let add_n4 = Entry {
        term: 1,
        index: 2,
        kind: EntryKind::AddPeer,
        data: NodeId(4).to_bytes().to_vec().into(),
    };
    let mut node = recovered_member(
        config(THREE, SEED),
        hs(1, None),
        vec![peers_entry(1, 1, &[1, 2, 3], &[]), add_n4],
        peers(&[1, 2, 3, 4], &[]),
    );
    assert_eq!(voters(&node), vec![1, 2, 3, 4]);
    assert_eq!(node.peer_state().cluster_size, 4);

    node.campaign();
    node.persisted(PersistId(1)).unwrap();
    node.receive(n(2), grant(2, 2));
    assert_eq!(node.role(), Role::Candidate, "two of four is no quorum");
    node.receive(n(3), grant(3, 2));
    assert_eq!(node.role(), Role::Leader);
}

#[test]
fn recovered_log_membership_wins_over_the_peer_state_file() {
    let node = recovered_member(
        config(THREE, SEED),
        hs(1, None),
        vec![peers_entry(1, 1, &[1, 2], &[])],
        peers(&[1, 2, 3, 4, 5], &[]),
    );

    assert_eq!(voters(&node), vec![1, 2]);
}

#[test]
fn voters_of_log_memberships_are_the_configured_ones_then_each_membership_entry_oldest_first() {
    let node = recovered(
        THREE,
        hs(1, None),
        vec![
            entry(1, 1),
            peers_entry(1, 2, &[1, 2, 3, 4], &[]),
            peers_entry(1, 3, &[1, 2, 4], &[5]),
        ],
    );

    let all: Vec<Vec<u64>> = node
        .voters_of_log_memberships()
        .map(|voters| voters.iter().map(|v| v.0).collect())
        .collect();
    assert_eq!(all, vec![vec![1, 2, 3], vec![1, 2, 3, 4], vec![1, 2, 4]]);
}

// ----- a node removed by an uncommitted change ------------------------------------------------

/// n1's log ends with its own removal ({n2, n3}), not committed: the leader that appended it
/// lost leadership before replicating it. With `peer_state`, n1 restarted with the new
/// membership already in its peer-state file (the log, which starts at index 1, shows it is
/// one change after the configured voters).
fn removed_by_an_uncommitted_change(peer_state: Option<raft_core::PeerState>) -> Node {
    let log = vec![entry(1, 1), peers_entry(2, 2, &[2, 3], &[])];
    let node = match peer_state {
        None => recovered(THREE, hs(2, None), log),
        Some(peers) => recovered_member(config(THREE, SEED), hs(2, None), log, peers),
    };
    assert_eq!(voters(&node), vec![2, 3]);
    node
}

/// The campaign of a node removed by an uncommitted change: it asks the new voters only.
fn campaigns_asking_the_new_voters(node: &mut Node) {
    assert_eq!(
        node.campaign(),
        vec![
            role(Role::Candidate, 3),
            persist(1, Some(hs(3, Some(1))), None)
        ]
    );
    assert_eq!(
        node.persisted(PersistId(1)).unwrap(),
        vec![
            send(2, vote_request(1, 3, 2, 2)),
            send(3, vote_request(1, 3, 2, 2)),
        ]
    );
}

#[test]
fn node_removed_by_an_uncommitted_change_still_campaigns_asking_the_new_voters() {
    campaigns_asking_the_new_voters(&mut removed_by_an_uncommitted_change(None));
}

#[test]
fn node_restarted_with_its_uncommitted_removal_still_campaigns() {
    let peers = peers(&[2, 3], &[]);
    campaigns_asking_the_new_voters(&mut removed_by_an_uncommitted_change(Some(peers)));
}

#[test]
fn node_removed_by_an_uncommitted_change_does_not_count_its_own_vote() {
    let mut node = removed_by_an_uncommitted_change(None);
    campaigns_asking_the_new_voters(&mut node);

    // One grant of the two new voters is not a majority of them.
    assert_eq!(node.receive(n(2), grant(2, 3)), vec![]);
    assert_eq!(node.role(), Role::Candidate);
    // Two of two: it leads, with a no-op holding the voters it leads ({n2, n3}), sent to them.
    let noop = noop(3, 3, &[2, 3]);
    assert_eq!(
        node.receive(n(3), grant(3, 3)),
        vec![
            role(Role::Leader, 3),
            persist(2, None, Some(write(2, 2, vec![noop.clone()]))),
            send(2, append(1, 3, 2, 2, vec![noop.clone()], 0)),
            send(3, append(1, 3, 2, 2, vec![noop], 0)),
        ]
    );
}

#[test]
fn node_removed_by_an_uncommitted_change_does_not_count_its_own_pre_vote() {
    let log = vec![entry(1, 1), peers_entry(2, 2, &[2, 3], &[])];
    let mut node = recovered_with(defaults(THREE, SEED), hs(2, None), log);
    assert_eq!(
        node.campaign(),
        vec![
            send(2, pre_vote_request(1, 3, 2, 2)),
            send(3, pre_vote_request(1, 3, 2, 2)),
        ]
    );
    // One pre-vote of the two new voters is not a majority of them.
    assert_eq!(node.receive(n(2), pre_vote_grant(2, 3)), vec![]);
    assert_eq!(
        node.receive(n(3), pre_vote_grant(3, 3)),
        vec![
            role(Role::Candidate, 3),
            persist(1, Some(hs(3, Some(1))), None)
        ]
    );
}

#[test]
fn node_removed_by_an_uncommitted_change_campaigns_when_told_to() {
    let mut node = removed_by_an_uncommitted_change(None);
    assert_eq!(
        node.receive(n(2), timeout_now(2, 2)),
        vec![
            role(Role::Candidate, 3),
            persist(1, Some(hs(3, Some(1))), None)
        ]
    );
}
