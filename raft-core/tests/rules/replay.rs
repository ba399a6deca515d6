//! Drain and replay (NRG `DrainAndReplaySnapshot`): an application that lost its state
//! starts over from the latest snapshot. Apply pauses, the snapshot is handed out at once,
//! the commit index stays, and resuming hands out every entry after the snapshot again.

use crate::support::*;
use bytes::Bytes;
use raft_core::{Action, Node, PersistId, Role, SnapshotError, SnapshotMeta};

const STATE: &[u8] = b"state at 2";

fn meta(index: u64, term: u64) -> SnapshotMeta {
    SnapshotMeta {
        index,
        term,
        peers: peers(THREE, &[]),
    }
}

fn apply_snapshot(meta: SnapshotMeta) -> Action {
    Action::ApplySnapshot {
        snapshot: Box::new(meta),
        data: Bytes::from_static(STATE),
    }
}

/// A follower of n2 in term 2 holding entries 1..=4 (terms 1,1,2,2), 1..=3 committed and
/// applied, compacted into a snapshot at 2 (durable: its persist, id 1, completed).
fn snapshotted_follower() -> Node {
    let mut node = follower_of(2, 2, &[1, 1, 2, 2]);
    node.receive(n(2), append(2, 2, 4, 2, vec![], 3));
    node.applied(3).unwrap();
    node.install_snapshot(2, STATE).unwrap();
    node.persisted(PersistId(1)).unwrap();
    assert_eq!((node.commit_index(), node.snapshot_index()), (3, 2));
    node
}

#[test]
fn drain_and_replay_hands_out_the_latest_snapshot_and_pauses() {
    let mut node = snapshotted_follower();

    assert_eq!(
        node.drain_and_replay_snapshot(),
        Ok(vec![apply_snapshot(meta(2, 1))])
    );
    assert!(node.is_paused());
    assert_eq!(node.commit_index(), 3, "the commit index never goes back");
    assert_eq!(
        (node.processed_index(), node.applied_index()),
        (2, 2),
        "the application is back at the snapshot"
    );
}

#[test]
fn resume_after_replay_hands_out_everything_after_the_snapshot_up_to_the_commit_index() {
    let mut node = snapshotted_follower();
    node.drain_and_replay_snapshot().unwrap();
    node.applied(2).unwrap();
    // Committed while the application restores its state: learnt, not handed out.
    assert_eq!(
        node.receive(n(2), append(2, 2, 4, 2, vec![], 4)),
        vec![send(2, ack(ME, 2, 4))]
    );

    assert_eq!(
        node.resume_apply(),
        vec![apply(log(&[1, 1, 2, 2])[2..].to_vec())]
    );
}

#[test]
fn drain_and_replay_again_replays_the_snapshot_again_with_the_commit_index_kept() {
    let mut node = snapshotted_follower();
    node.drain_and_replay_snapshot().unwrap();
    node.receive(n(2), append(2, 2, 4, 2, vec![], 4));

    assert_eq!(
        node.drain_and_replay_snapshot(),
        Ok(vec![apply_snapshot(meta(2, 1))])
    );
    assert_eq!(node.commit_index(), 4);
    assert_eq!(
        node.resume_apply(),
        vec![apply(log(&[1, 1, 2, 2])[2..].to_vec())]
    );
}

#[test]
fn drain_and_replay_without_a_snapshot_is_refused() {
    let mut node = follower_of(2, 2, &[1, 1]);
    node.receive(n(2), append(2, 2, 2, 1, vec![], 2));

    assert_eq!(
        node.drain_and_replay_snapshot(),
        Err(SnapshotError::NoSnapshot)
    );
    assert!(!node.is_paused());
}

#[test]
fn a_leader_that_drains_and_replays_steps_down_first() {
    let mut node = ready_leader(THREE, 2, &[1]);
    node.applied(2).unwrap();
    node.install_snapshot(2, STATE).unwrap();

    assert_eq!(
        node.drain_and_replay_snapshot(),
        Ok(vec![
            role(Role::Follower, 2),
            leader_changed(2, None),
            apply_snapshot(meta(2, 2)),
        ])
    );
    assert_eq!(node.vote(), Some(n(ME)), "its vote stays");
}

#[test]
fn a_replayed_node_does_not_campaign_until_it_consumed_the_entries_again() {
    let mut node = snapshotted_follower();
    node.drain_and_replay_snapshot().unwrap();
    node.applied(2).unwrap();
    node.resume_apply();
    for _ in 0..10 * node.config().election_timeout_max {
        node.tick();
    }
    assert_eq!(node.role(), Role::Follower, "entry 3 is not consumed again");

    node.applied(3).unwrap();
    for _ in 0..10 * node.config().election_timeout_max {
        node.tick();
    }
    assert_ne!(node.role(), Role::Follower);
}
