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

/// `n1` of three restarted from `log` with no snapshot, storage having found `damage` too.
fn restarted_with_damage(log: Vec<raft_core::Entry>, damage: LogDamage) -> Node {
    Node::new(
        config(THREE, SEED),
        Recovered {
            hard_state: hs(2, None),
            log,
            damage: Some(damage),
            ..Recovered::default()
        },
    )
    .expect("an unlinked log is not refused")
}

#[test]
fn node_answers_for_the_later_of_its_damage_and_its_unlinked_entries() {
    // The unlinked entries (dropped from 3 on) held through 4 in term 2.
    let unlinked = || vec![entry(1, 1), entry(2, 3), entry(2, 4)];

    let later_damage = LogDamage::HeldThrough { index: 6, term: 2 };
    let node = restarted_with_damage(unlinked(), later_damage);
    assert_eq!(node.repairing(), Some(later_damage));

    let earlier_damage = LogDamage::HeldThrough { index: 2, term: 2 };
    let node = restarted_with_damage(unlinked(), earlier_damage);
    assert_eq!(
        node.repairing(),
        Some(LogDamage::HeldThrough { index: 4, term: 2 })
    );
}

#[test]
fn entry_at_index_zero_never_links_to_the_snapshot_and_is_answered_for() {
    // Index 0 comes before every log: it is out of place even for a snapshot ending at 1,
    // whose log may start at 1 or 2.
    let node = restarted(Some(1), vec![entry(2, 0)]);

    assert_eq!(node.log(), &[][..]);
    assert_eq!(
        node.repairing(),
        Some(LogDamage::HeldThrough { index: 0, term: 2 })
    );

    // Nor to a snapshot at 0, whose log starts at 1.
    let node = restarted(Some(0), vec![entry(2, 0)]);
    assert_eq!(node.log(), &[][..]);
    assert_eq!(
        node.repairing(),
        Some(LogDamage::HeldThrough { index: 0, term: 2 })
    );
}
