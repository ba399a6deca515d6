//! Peer tracking (NRG `trackPeer`, `Peers()`, `Quorum()`): who this node heard from and
//! when, in its own ticks, and how far behind the leader's commit each follower is. The
//! inputs produce exactly the actions they would without tracking; what changes is what
//! `peers()` and `quorum()` report.

use crate::support::*;
use raft_core::{Message, Node, PeerInfo, SnapshotResponse};

fn info(id: u64, last_heard: Option<u64>, lag: u64, current: bool) -> PeerInfo {
    PeerInfo {
        id: n(id),
        last_heard,
        lag,
        current,
    }
}

fn ticks(node: &mut Node, count: u32) {
    for _ in 0..count {
        node.tick();
    }
}

#[test]
fn leader_tracks_a_peer_through_its_append_responses() {
    let mut node = leader(THREE, 2, &[]);
    ticks(&mut node, 2);

    let no_op = noop(2, 1, THREE);
    assert_eq!(
        node.receive(n(2), ack(2, 2, 0)),
        vec![send(2, append(ME, 2, 0, 0, vec![no_op], 0))]
    );
    assert_eq!(
        node.peers(),
        vec![
            info(1, Some(0), 0, true),
            info(2, Some(0), 0, true),
            info(3, None, 0, true),
        ]
    );
    ticks(&mut node, 3);
    assert_eq!(node.peers()[1], info(2, Some(3), 0, true));
}

#[test]
fn leaders_lag_is_the_commit_index_minus_the_match_index() {
    let mut node = ready_leader(THREE, 2, &[]);
    node.propose(2, "x").unwrap();
    node.persisted(raft_core::PersistId(3)).unwrap();

    node.receive(n(2), ack(2, 2, 2));
    assert_eq!(node.commit_index(), 2);
    assert_eq!(
        node.peers(),
        vec![
            info(1, Some(0), 0, true),
            info(2, Some(0), 0, true),
            info(3, Some(0), 1, false),
        ]
    );
}

#[test]
fn follower_tracks_only_its_leader() {
    let mut node = follower_of(2, 2, &[]);

    node.receive(n(3), vote_request(3, 2, 0, 0));
    node.receive(n(2), append(2, 2, 0, 0, vec![], 0));
    assert_eq!(
        node.peers(),
        vec![
            info(1, Some(0), 0, true),
            info(2, Some(0), 0, true),
            info(3, None, 0, false),
        ]
    );
}

#[test]
fn follower_reports_its_leader_current_for_two_heartbeat_intervals() {
    let mut node = follower_of(2, 2, &[]);
    let interval = node.config().heartbeat_interval;

    ticks(&mut node, 2 * interval);
    assert!(node.peers()[1].current);
    node.tick();
    assert_eq!(
        node.peers()[1],
        info(2, Some(u64::from(2 * interval) + 1), 0, false)
    );
}

#[test]
fn learning_a_new_leader_forgets_when_the_other_peers_were_heard() {
    let mut node = ready_leader(THREE, 2, &[]);
    assert!(node.quorum());

    node.receive(n(2), timeout_now_free_append(2, 3));
    assert_eq!(node.leader(), Some(n(2)));
    assert_eq!(
        node.peers(),
        vec![
            info(1, Some(0), 0, true),
            info(2, Some(0), 0, true),
            info(3, None, 0, false),
        ]
    );
    assert!(node.quorum(), "itself and its new leader");
}

/// An AppendEntries of a new leader `leader` in `term` that matches an empty-after-no-op
/// log (prev = the old leader's no-op at index 1, term 2).
fn timeout_now_free_append(leader: u64, term: u64) -> raft_core::Message {
    append(leader, term, 1, 2, vec![], 1)
}

#[test]
fn quorum_needs_a_majority_heard_within_the_maximum_election_timeout() {
    let mut node = leader(THREE, 2, &[]);
    assert!(!node.quorum(), "a new leader heard no one yet");

    node.receive(n(3), ack(3, 2, 0));
    assert!(node.quorum());
    let window = node.config().election_timeout_max;
    ticks(&mut node, window);
    assert!(node.quorum());
    node.tick();
    assert!(!node.quorum(), "n3 was heard too long ago");
}

#[test]
fn leader_tracks_a_peer_through_its_read_acknowledgements() {
    let mut node = ready_leader(THREE, 2, &[]);
    ticks(&mut node, 2);

    assert_eq!(node.receive(n(2), read_ack(2, 2, 0)), vec![]);
    assert_eq!(node.peers()[1], info(2, Some(0), 0, true));
    assert_eq!(node.peers()[2], info(3, Some(2), 0, true));
}

/// A snapshot response from `peer` in `term` for no snapshot this node sent.
fn snapshot_response(peer: u64, term: u64) -> Message {
    Message::SnapshotResponse(SnapshotResponse {
        term,
        peer: n(peer),
        index: 0,
        next_offset: 0,
        done: false,
    })
}

#[test]
fn leader_tracks_a_peer_through_its_snapshot_responses() {
    let mut node = ready_leader(THREE, 2, &[]);
    ticks(&mut node, 2);

    assert_eq!(node.receive(n(2), snapshot_response(2, 2)), vec![]);
    assert_eq!(node.peers()[1], info(2, Some(0), 0, true));
}

#[test]
fn leader_does_not_track_a_peer_through_an_answer_of_an_older_term() {
    for stale in [ack(2, 2, 0), read_ack(2, 2, 0), snapshot_response(2, 2)] {
        let mut node = ready_leader(THREE, 3, &[]);
        ticks(&mut node, 2);

        assert_eq!(node.receive(n(2), stale.clone()), vec![], "{stale:?}");
        assert_eq!(node.peers()[1], info(2, Some(2), 0, true), "{stale:?}");
    }
}

#[test]
fn follower_does_not_track_a_deposed_leader_through_its_stale_append() {
    let mut node = follower_of(3, 3, &[]);
    ticks(&mut node, 2);

    assert_eq!(
        node.receive(n(2), append(2, 2, 0, 0, vec![], 0)),
        vec![send(2, nack(ME, 3, 0))]
    );
    assert_eq!(
        node.peers(),
        vec![
            info(1, Some(0), 0, true),
            info(2, None, 0, false),
            info(3, Some(2), 0, true),
        ]
    );
}
