//! Snapshot checkpoints (NRG `CreateSnapshotCheckpoint`): a snapshot in two steps with
//! other inputs in between. The first fixes what it covers; the second compacts and issues
//! the persist, unless something else moved the log's start first. Forced snapshots abort
//! an open checkpoint; unforced ones are refused while it is open.

use crate::support::*;
use bytes::Bytes;
use raft_core::{
    Action, InstallSnapshot, Message, Node, PersistId, Recovered, SnapshotCheckpoint,
    SnapshotError, SnapshotMeta,
};

const STATE: &[u8] = b"state";

fn meta(index: u64, term: u64) -> SnapshotMeta {
    SnapshotMeta {
        index,
        term,
        peers: peers(THREE, &[]),
    }
}

fn persist_snapshot(id: u64, meta: SnapshotMeta) -> Action {
    Action::PersistSnapshot {
        id: PersistId(id),
        snapshot: Box::new(meta),
        data: Bytes::from_static(STATE),
        discard_log: false,
    }
}

/// A follower of n2 in term 2 holding entries 1..=4 (terms 1,1,2,2), all committed, 1..=3
/// applied. No snapshot; nothing in flight.
fn applied_to_three() -> Node {
    let mut node = follower_of(2, 2, &[1, 1, 2, 2]);
    node.receive(n(2), append(2, 2, 4, 2, vec![], 4));
    node.applied(3).unwrap();
    node
}

/// [`applied_to_three`] with a checkpoint open at 3.
fn with_checkpoint() -> (Node, SnapshotCheckpoint) {
    let mut node = applied_to_three();
    let checkpoint = node.begin_snapshot(false).unwrap();
    (node, checkpoint)
}

#[test]
fn a_checkpoint_covers_the_applied_index_and_builds_on_the_current_snapshot() {
    let (node, checkpoint) = with_checkpoint();

    assert_eq!(
        (checkpoint.index, checkpoint.term, checkpoint.previous),
        (3, 2, 0)
    );
    assert_eq!(node.snapshot_in_progress(), Some(0));
    assert_eq!(node.snapshot_index(), 0, "nothing compacted yet");
}

#[test]
fn finishing_a_checkpoint_compacts_to_its_index_and_persists_the_snapshot() {
    let (mut node, checkpoint) = with_checkpoint();
    // Other inputs between the two steps: the application applies one more entry.
    node.applied(4).unwrap();

    assert_eq!(
        node.finish_snapshot(&checkpoint, STATE),
        Ok(vec![persist_snapshot(1, meta(3, 2))])
    );
    assert_eq!(
        node.snapshot_index(),
        3,
        "the checkpoint's index, not applied"
    );
    assert_eq!(node.snapshot_in_progress(), None);
}

#[test]
fn a_checkpoint_finishes_once() {
    let (mut node, checkpoint) = with_checkpoint();
    node.finish_snapshot(&checkpoint, STATE).unwrap();

    assert_eq!(
        node.finish_snapshot(&checkpoint, STATE),
        Err(SnapshotError::Aborted { index: 3 })
    );
}

#[test]
fn a_checkpoint_with_nothing_applied_past_the_snapshot_is_refused() {
    let mut node = follower_of(2, 2, &[1, 1]);

    assert_eq!(
        node.begin_snapshot(false),
        Err(SnapshotError::Stale {
            index: 0,
            snapshot_index: 0
        })
    );
    assert_eq!(node.snapshot_in_progress(), None);
}

#[test]
fn a_second_checkpoint_or_an_unforced_snapshot_is_refused_while_one_is_open() {
    let (mut node, checkpoint) = with_checkpoint();

    assert_eq!(
        node.begin_snapshot(false),
        Err(SnapshotError::InProgress { previous: 0 })
    );
    assert_eq!(
        node.install_snapshot(3, STATE),
        Err(SnapshotError::InProgress { previous: 0 })
    );
    assert_eq!(
        node.finish_snapshot(&checkpoint, STATE),
        Ok(vec![persist_snapshot(1, meta(3, 2))]),
        "the open one is untouched"
    );
}

#[test]
fn a_forced_checkpoint_aborts_the_open_one() {
    let (mut node, first) = with_checkpoint();
    node.applied(4).unwrap();
    let second = node.begin_snapshot(true).unwrap();

    assert_eq!(
        node.finish_snapshot(&first, STATE),
        Err(SnapshotError::Aborted { index: 3 })
    );
    assert_eq!(
        node.finish_snapshot(&second, STATE),
        Ok(vec![persist_snapshot(1, meta(4, 2))])
    );
}

#[test]
fn a_forced_snapshot_aborts_the_open_checkpoint() {
    let (mut node, checkpoint) = with_checkpoint();

    assert_eq!(
        node.force_install_snapshot(2, STATE),
        Ok(vec![persist_snapshot(1, meta(2, 1))])
    );
    assert_eq!(
        node.finish_snapshot(&checkpoint, STATE),
        Err(SnapshotError::Aborted { index: 3 })
    );
    assert_eq!(node.snapshot_index(), 2);
}

#[test]
fn a_snapshot_received_from_the_leader_aborts_the_open_checkpoint() {
    let (mut node, checkpoint) = with_checkpoint();
    let chunk = Message::InstallSnapshot(Box::new(InstallSnapshot {
        term: 2,
        leader: n(2),
        meta: meta(6, 2),
        offset: 0,
        data: Bytes::from_static(STATE),
        done: true,
    }));
    node.receive(n(2), chunk);
    assert_eq!(node.snapshot_index(), 6);

    assert_eq!(
        node.finish_snapshot(&checkpoint, STATE),
        Err(SnapshotError::Aborted { index: 3 })
    );
    assert_eq!(node.snapshot_in_progress(), None);
}

#[test]
fn an_aborted_checkpoint_does_not_finish_and_aborting_a_closed_one_changes_nothing() {
    let (mut node, first) = with_checkpoint();
    node.abort_snapshot(&first);
    assert_eq!(node.snapshot_in_progress(), None);
    assert_eq!(
        node.finish_snapshot(&first, STATE),
        Err(SnapshotError::Aborted { index: 3 })
    );

    let second = node.begin_snapshot(false).unwrap();
    node.abort_snapshot(&first);
    assert_eq!(
        node.snapshot_in_progress(),
        Some(0),
        "the stale handle closes nothing"
    );
    assert!(node.finish_snapshot(&second, STATE).is_ok());
}

#[test]
fn a_checkpoint_does_not_survive_a_restart() {
    let (_, checkpoint) = with_checkpoint();
    let mut restarted = Node::new(
        config(THREE, SEED),
        Recovered {
            hard_state: hs(2, None),
            log: log(&[1, 1, 2, 2]),
            ..Recovered::default()
        },
    )
    .unwrap();
    restarted.receive(n(2), append(2, 2, 4, 2, vec![], 4));
    restarted.applied(4).unwrap();

    assert_eq!(
        restarted.finish_snapshot(&checkpoint, STATE),
        Err(SnapshotError::Aborted { index: 3 })
    );
    // Nor does it finish the new lifetime's checkpoint, which covers another index.
    let own = restarted.begin_snapshot(false).unwrap();
    assert_eq!(
        restarted.finish_snapshot(&checkpoint, STATE),
        Err(SnapshotError::Aborted { index: 3 })
    );
    assert_eq!(restarted.snapshot_index(), 0);
    assert!(restarted.finish_snapshot(&own, STATE).is_ok());
}
