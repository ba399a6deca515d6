//! Recovery of a log that does not link to its snapshot (NRG truncates such a WAL on
//! startup): the entries out of place are dropped, and the node answers for the log they
//! made up, exactly as after damage, until the leader's replication gave it back.

use crate::support::*;
use bytes::Bytes;
use raft_core::{LogDamage, Node, PersistId, Recovered, Role, Snapshot, SnapshotMeta};

const DATA: &[u8] = b"state at 1";

/// `n1` of three, in term 1 with no vote, restarted from `snapshot` (if any) and `log`.
fn restarted(snapshot_index: Option<u64>, log: Vec<raft_core::Entry>) -> Node {
    Node::new(
        config(THREE, SEED),
        Recovered {
            hard_state: hs(1, None),
            log,
            snapshot: snapshot_index.map(|index| Snapshot {
                meta: SnapshotMeta {
                    index,
                    term: 1,
                    peers: peers(&[1, 2, 3], &[]),
                },
                data: Bytes::from_static(DATA),
            }),
            ..Recovered::default()
        },
    )
    .expect("an unlinked log is not refused")
}

/// The WAL was compacted past the snapshot: it starts at 3, the snapshot ends at 1.
fn compacted_past_the_snapshot() -> Node {
    restarted(Some(1), vec![entry(1, 3)])
}

#[test]
fn log_compacted_past_the_snapshot_is_dropped_and_answered_for() {
    let node = compacted_past_the_snapshot();

    assert_eq!(node.log(), &[][..]);
    assert_eq!((node.snapshot_index(), node.last_index()), (1, 1));
    assert_eq!(
        node.repairing(),
        Some(LogDamage::HeldThrough { index: 3, term: 1 })
    );
}

#[test]
fn log_compacted_with_no_snapshot_is_dropped_and_answered_for() {
    let node = restarted(None, vec![entry(1, 2), entry(1, 3)]);

    assert_eq!((node.last_index(), node.commit_index()), (0, 0));
    assert_eq!(
        node.repairing(),
        Some(LogDamage::HeldThrough { index: 3, term: 1 })
    );
}

#[test]
fn log_with_a_gap_keeps_the_entries_before_it() {
    let node = restarted(
        None,
        vec![entry(1, 1), entry(1, 2), entry(2, 4), entry(2, 5)],
    );

    assert_eq!(node.log(), &[entry(1, 1), entry(1, 2)][..]);
    assert_eq!(
        node.repairing(),
        Some(LogDamage::HeldThrough { index: 5, term: 2 })
    );
}

#[test]
fn unlinked_log_of_a_later_term_is_answered_for_in_that_term_without_a_vote() {
    let node = restarted(Some(1), vec![entry(2, 3)]);

    assert_eq!(node.hard_state(), hs(2, None));
}

#[test]
fn node_with_an_unlinked_log_refuses_a_vote_to_a_candidate_behind_that_log() {
    let mut node = compacted_past_the_snapshot();

    // (1, 2) is ahead of the snapshot (1, 1) but behind the dropped entry (1, 3).
    assert_eq!(
        node.receive(n(2), vote_request(2, 2, 2, 1)),
        vec![role(Role::Follower, 2), persist(1, Some(hs(2, None)), None)]
    );
    assert_eq!(
        node.persisted(PersistId(1)).unwrap(),
        vec![send(2, vote_response(ME, 2, false, false))]
    );
}

#[test]
fn node_with_an_unlinked_log_does_not_campaign() {
    let mut node = compacted_past_the_snapshot();

    assert_eq!(node.campaign(), vec![]);
    assert_eq!(node.role(), Role::Follower);
}

#[test]
fn node_with_an_unlinked_log_takes_the_entries_back_from_the_leader() {
    let mut node = compacted_past_the_snapshot();
    let entries = vec![entry(1, 2), entry(1, 3)];

    assert_eq!(
        node.receive(n(2), append(2, 1, 1, 1, entries.clone(), 0)),
        vec![
            leader_changed(1, Some(2)),
            persist(1, None, Some(write(1, 1, entries))),
        ]
    );
    assert_eq!(
        node.persisted(PersistId(1)).unwrap(),
        vec![send(2, ack(ME, 1, 3))]
    );
    assert_eq!(node.repairing(), None);
    assert_eq!(node.last_index(), 3);
}
