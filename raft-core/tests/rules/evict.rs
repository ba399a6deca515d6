//! Evicting peers (NRG `EvictPeers`): a leaderless managed group's node stops counting peers
//! the layer above removed for good, without the log, when the peers left besides it cannot
//! make a quorum without it; an uncommitted change about an evicted peer or removing this
//! node is reverted; a leader counting an eviction records it in the log, and the eviction
//! ends once the log's membership changes.

use crate::support::*;
use raft_core::{Config, EvictError, Node, NodeId, PersistId, Role};

fn managed(voters: &[u64]) -> Config {
    Config {
        managed: true,
        ..config(voters, SEED)
    }
}

/// `n1` of a managed group, a leaderless follower in term 1 holding `log`.
fn managed_follower(voters: &[u64], log: Vec<raft_core::Entry>) -> Node {
    recovered_with(managed(voters), hs(1, None), log)
}

fn voters(node: &Node) -> Vec<u64> {
    node.voters().map(|v| v.0).collect()
}

fn ids(v: &[u64]) -> Vec<NodeId> {
    v.iter().copied().map(n).collect()
}

fn evicted(node: &mut Node, peers: &[u64]) -> Result<Vec<u64>, EvictError> {
    node.evict_peers(&ids(peers))
        .map(|(evicted, _)| evicted.iter().map(|p| p.0).collect())
}

#[test]
fn eviction_is_refused_in_an_unmanaged_group() {
    let mut node = recovered(&[1, 2], hs(1, None), log(&[1]));
    assert_eq!(evicted(&mut node, &[2]), Err(EvictError::NotManaged));
    assert_eq!(voters(&node), vec![1, 2]);
}

#[test]
fn eviction_is_refused_while_a_leader_is_known() {
    let mut node = follower_of_with(managed(THREE), 2, 2, &[1]);
    assert_eq!(
        evicted(&mut node, &[2, 3]),
        Err(EvictError::LeaderKnown { leader: n(2) })
    );
    let mut node = ready_leader_with(managed(THREE), 2, &[]);
    assert_eq!(evicted(&mut node, &[2, 3]), Err(EvictError::Leading));
}

#[test]
fn eviction_never_evicts_this_node_unknown_peers_or_the_last_member() {
    let mut node = managed_follower(&[1, 2], log(&[1]));
    assert_eq!(evicted(&mut node, &[1]), Ok(vec![]));
    assert_eq!(evicted(&mut node, &[9]), Ok(vec![]));
    assert_eq!(node.eviction(), None);

    assert_eq!(evicted(&mut node, &[2]), Ok(vec![2]));
    assert_eq!(voters(&node), vec![1]);
    assert_eq!(node.quorum_needed(), 1);
    assert_eq!(evicted(&mut node, &[1, 2]), Ok(vec![]));
    assert_eq!(voters(&node), vec![1]);
}

#[test]
fn eviction_is_refused_while_the_peers_left_could_make_a_quorum() {
    let mut node = managed_follower(FIVE, log(&[1]));
    assert_eq!(
        evicted(&mut node, &[2]),
        Err(EvictError::QuorumPossible {
            remaining: 3,
            voters: 5
        })
    );
    assert_eq!(evicted(&mut node, &[2, 3]), Ok(vec![2, 3]));
    assert_eq!(voters(&node), vec![1, 4, 5]);
    assert_eq!(node.quorum_needed(), 2);
}

#[test]
fn eviction_counts_a_peer_whose_removal_is_pending_as_a_voter() {
    // The log removes n4, not known committed: n4 is still a voter to the others.
    let mut node = managed_follower(
        FIVE,
        vec![entry(1, 1), peers_entry(1, 2, &[1, 2, 3, 5], &[])],
    );
    assert_eq!(voters(&node), vec![1, 2, 3, 5]);
    assert_eq!(
        evicted(&mut node, &[2]),
        Err(EvictError::QuorumPossible {
            remaining: 3,
            voters: 5
        })
    );
    // Evicting n4 as well reverts its pending removal, then evicts it.
    assert_eq!(evicted(&mut node, &[2, 3, 4]), Ok(vec![2, 3, 4]));
    assert_eq!(voters(&node), vec![1, 5]);
}

#[test]
fn eviction_reverts_a_pending_removal_of_this_node() {
    let mut node = managed_follower(THREE, vec![entry(1, 1), peers_entry(1, 2, &[2, 3], &[])]);
    assert_eq!(voters(&node), vec![2, 3]);

    assert_eq!(evicted(&mut node, &[2, 3]), Ok(vec![2, 3]));
    assert_eq!(voters(&node), vec![1]);
    // A member again, and alone: it campaigns and wins with its own durable vote.
    node.campaign();
    node.persisted(PersistId(1)).unwrap();
    assert_eq!(node.role(), Role::Leader);
}

#[test]
fn eviction_reverts_a_pending_addition_only_once_the_added_peer_is_evicted() {
    let mut node = managed_follower(
        &[1, 2],
        vec![entry(1, 1), peers_entry(1, 2, &[1, 2, 3], &[])],
    );
    assert_eq!(evicted(&mut node, &[2]), Ok(vec![2]));
    assert_eq!(voters(&node), vec![1, 3]);

    // n3's addition is reverted; n3 was never a member before it, so nothing is evicted.
    assert_eq!(evicted(&mut node, &[3]), Ok(vec![]));
    assert_eq!(voters(&node), vec![1]);
}

#[test]
fn leader_counting_an_eviction_records_it_in_the_log() {
    let mut node = candidate_with(managed(FIVE), 2, &[1]);
    assert_eq!(evicted(&mut node, &[2, 3]), Ok(vec![2, 3]));
    node.receive(n(4), grant(4, 2));
    assert_eq!(node.role(), Role::Leader);
    node.persisted(PersistId(2)).unwrap();
    node.receive(n(4), ack(4, 2, 2));
    assert!(node.is_ready_leader());
    assert!(node.eviction().is_some());

    let recorded = peers_entry(2, 3, &[1, 4, 5], &[]);
    let actions = node.tick();
    assert_eq!(
        actions[0],
        persist_with_peers(
            3,
            None,
            Some(write(2, 2, vec![recorded.clone()])),
            peers(&[1, 4, 5], &[])
        )
    );
    assert!(actions.contains(&send(4, append(ME, 2, 2, 2, vec![recorded], 2))));
    // The log speaks again: the eviction is over, the log's membership is the evicted one.
    assert_eq!(node.eviction(), None);
    assert_eq!(voters(&node), vec![1, 4, 5]);
}

#[test]
fn eviction_lasts_until_the_logs_membership_changes() {
    let mut node = managed_follower(FIVE, log(&[1]));
    assert_eq!(evicted(&mut node, &[2, 3]), Ok(vec![2, 3]));

    // A leader's entries that change no membership leave it in effect.
    node.receive(n(4), append(4, 2, 1, 1, vec![entry(2, 2)], 1));
    assert!(node.eviction().is_some());
    assert_eq!(voters(&node), vec![1, 4, 5]);

    // A membership entry: the log speaks again, and is counted as it is.
    node.receive(
        n(4),
        append(4, 2, 2, 2, vec![peers_entry(2, 3, &[1, 2, 4, 5], &[])], 1),
    );
    assert_eq!(node.eviction(), None);
    assert_eq!(voters(&node), vec![1, 2, 4, 5]);
}

#[test]
fn eviction_reverting_a_pending_change_keeps_the_observers_not_evicted() {
    // n5 observes since index 2; n3's addition at index 3 is pending.
    let mut node = managed_follower(
        &[1, 2],
        vec![
            entry(1, 1),
            peers_entry(1, 2, &[1, 2], &[5]),
            peers_entry(1, 3, &[1, 2, 3], &[5]),
        ],
    );
    assert_eq!(evicted(&mut node, &[3]), Ok(vec![]));
    let eviction = node.eviction().expect("n3's addition is reverted");
    assert_eq!(
        eviction
            .membership
            .voters
            .iter()
            .map(|p| p.0)
            .collect::<Vec<_>>(),
        vec![1, 2]
    );
    assert_eq!(
        eviction
            .membership
            .observers
            .iter()
            .map(|p| p.0)
            .collect::<Vec<_>>(),
        vec![5]
    );
}

#[test]
fn candidate_whose_grants_make_a_quorum_of_the_evicted_membership_wins_at_once() {
    let mut node = candidate_with(managed(FIVE), 2, &[1]);
    node.receive(n(4), grant(4, 2));
    assert_eq!(node.role(), Role::Candidate, "2 grants of 5 voters");

    let (evicted, actions) = node.evict_peers(&ids(&[2, 3])).unwrap();
    assert_eq!(evicted, ids(&[2, 3]));
    assert_eq!(node.role(), Role::Leader, "2 grants of the 3 voters left");
    assert_eq!(actions[0], role(Role::Leader, 2));
}

#[test]
fn eviction_does_not_count_peers_evicted_before_as_voters_left() {
    let mut node = managed_follower(FIVE, log(&[1]));
    assert_eq!(evicted(&mut node, &[2, 3]), Ok(vec![2, 3]));
    // Left besides n1 and n4: n5 alone, not the 3 of 5 a quorum needs (n2 and n3 are gone).
    assert_eq!(evicted(&mut node, &[4]), Ok(vec![4]));
    assert_eq!(voters(&node), vec![1, 5]);
    let gone: Vec<u64> = node
        .eviction()
        .unwrap()
        .evicted
        .iter()
        .map(|p| p.0)
        .collect();
    assert_eq!(gone, vec![2, 3, 4]);
}

/// `n1` of a managed five-voter group that evicted n2 and n3 as a candidate of term 2 and
/// won with n4's grant: its no-op (index 2, Persist 2) is neither durable nor committed.
fn leader_counting_an_eviction(config: Config) -> Node {
    let mut node = candidate_with(config, 2, &[1]);
    assert_eq!(evicted(&mut node, &[2, 3]), Ok(vec![2, 3]));
    node.receive(n(4), grant(4, 2));
    assert_eq!(node.role(), Role::Leader);
    node
}

#[test]
fn leader_records_an_eviction_only_once_its_noop_is_committed() {
    let mut node = leader_counting_an_eviction(managed(FIVE));
    assert!(!node.is_ready_leader());
    node.tick();
    assert_eq!(
        node.last_index(),
        2,
        "nothing recorded before the no-op commits"
    );
    assert!(node.eviction().is_some());

    node.persisted(PersistId(2)).unwrap();
    node.receive(n(4), ack(4, 2, 2));
    assert!(node.is_ready_leader());
    node.tick();
    assert_eq!(node.last_index(), 3);
    assert_eq!(node.eviction(), None);
}

#[test]
fn leader_at_the_uncommitted_limit_steps_down_without_recording_its_eviction() {
    // The uncommitted limit and the overrun threshold are one bound: a ready leader that
    // could not append the eviction's entry within the limit steps down at that tick first.
    let config = Config {
        max_uncommitted_entries: 2,
        ..managed(FIVE)
    };
    let mut node = leader_counting_an_eviction(config);
    node.persisted(PersistId(2)).unwrap();
    node.receive(n(4), ack(4, 2, 2));
    assert!(node.is_ready_leader());
    node.propose(2, "a").unwrap();
    node.propose(2, "b").unwrap();

    assert_eq!(
        node.tick(),
        vec![role(Role::Follower, 2), leader_changed(2, None)]
    );
    assert_eq!(node.last_index(), 4, "nothing recorded");
    assert!(node.eviction().is_some());
}

#[test]
fn rescue_ends_once_an_eviction_brings_the_natural_quorum_down_to_it() {
    let mut node = managed_follower(FIVE, log(&[1]));
    node.rescue_quorum(2, 1_000).expect("leaderless voter");

    assert_eq!(evicted(&mut node, &[4, 5]), Ok(vec![4, 5]));
    assert_eq!(voters(&node), vec![1, 2, 3]);
    assert_eq!((node.rescue(), node.quorum_needed()), (None, 2));
}
