//! Managed and unmanaged groups (NRG `trackPeer`, `managed`): a leader of an unmanaged
//! group that hears an answer from an unknown peer proposes adding it as a voter, through
//! the log; a managed group's node only records the peer as observed, until it is heard as a
//! member. Removed peers are neither added back nor observed.

use crate::support::*;
use raft_core::{Config, Node, NodeId, PersistId};

fn managed(voters: &[u64]) -> Config {
    Config {
        managed: true,
        ..config(voters, SEED)
    }
}

fn managed_leader() -> Node {
    ready_leader_with(managed(THREE), 2, &[])
}

#[test]
fn unmanaged_leader_proposes_adding_an_unknown_peer_it_hears() {
    let mut node = ready_leader(THREE, 2, &[]);
    let change = peers_entry(2, 2, &[1, 2, 3, 4], &[]);

    assert_eq!(
        node.receive(n(4), ack(4, 2, 0)),
        vec![
            persist_with_peers(
                3,
                None,
                Some(write(1, 2, vec![change.clone()])),
                peers(&[1, 2, 3, 4], &[])
            ),
            send(2, append(ME, 2, 1, 2, vec![change.clone()], 1)),
            send(3, append(ME, 2, 1, 2, vec![change.clone()], 1)),
            send(4, append(ME, 2, 1, 2, vec![change], 1)),
        ]
    );
    assert_eq!(node.pending_membership_change(), Some(2));
    // Unmanaged groups observe nobody.
    assert_eq!(node.observed_peers(), vec![]);
}

#[test]
fn unmanaged_leader_adds_nobody_while_another_change_is_pending() {
    let mut node = ready_leader(THREE, 2, &[]);
    node.propose_remove_peer(2, n(3)).unwrap();
    node.persisted(PersistId(3)).unwrap();

    assert_eq!(node.receive(n(4), ack(4, 2, 0)), vec![]);
    assert_eq!(node.last_index(), 2);
}

#[test]
fn managed_leader_only_observes_an_unknown_peer() {
    let mut node = managed_leader();

    assert_eq!(node.receive(n(4), ack(4, 2, 0)), vec![]);
    assert_eq!(node.last_index(), 1);
    assert_eq!(node.observed_peers(), vec![(n(4), 0)]);
    node.tick();
    assert_eq!(node.last_heard_from(n(4)), Some(1));
    assert_eq!(node.last_heard_from(n(5)), None);
}

#[test]
fn observed_peer_is_forgotten_once_heard_as_a_member() {
    let mut node = managed_leader();
    node.receive(n(4), ack(4, 2, 0));
    node.propose_add_voter(2, n(4)).unwrap();
    node.tick();

    node.receive(n(4), ack(4, 2, 0));
    assert_eq!(node.observed_peers(), vec![]);
    assert_eq!(node.last_heard_from(n(4)), Some(0));
}

#[test]
fn removed_peer_is_neither_observed_nor_added_back() {
    for mut node in [ready_leader(THREE, 2, &[]), managed_leader()] {
        node.propose_remove_peer(2, n(3)).unwrap();
        node.persisted(PersistId(3)).unwrap();
        node.receive(n(2), ack(2, 2, 2));
        assert_eq!(node.pending_membership_change(), None);
        let voters: Vec<NodeId> = node.voters().collect();
        assert_eq!(voters, vec![n(1), n(2)]);

        // A late answer of the removed peer, in the leader's term.
        assert_eq!(node.receive(n(3), ack(3, 2, 2)), vec![]);
        assert_eq!(node.last_index(), 2);
        assert_eq!(node.observed_peers(), vec![]);
    }
}

#[test]
fn observed_peer_is_aged_from_the_tick_it_was_last_heard() {
    let mut node = managed_leader();
    node.tick();
    node.receive(n(4), ack(4, 2, 0));
    node.tick();
    node.tick();

    assert_eq!(node.observed_peers(), vec![(n(4), 2)]);
    assert_eq!(node.last_heard_from(n(4)), Some(2));
}

#[test]
fn peer_whose_removal_is_pending_is_not_observed() {
    let mut node = managed_leader();
    node.propose_remove_peer(2, n(3)).unwrap();
    node.persisted(PersistId(3)).unwrap();

    // n3 acknowledges its own removal: not a member of the new membership, but one of the
    // membership before the change, which is not committed yet.
    assert_eq!(node.receive(n(3), ack(3, 2, 2)), vec![]);
    assert_eq!(node.pending_membership_change(), Some(2));
    assert_eq!(node.observed_peers(), vec![]);
}
