//! Snapshots and catch-up: the application installs a snapshot at an applied index and the
//! log is compacted; a follower behind the leader's compaction point receives the snapshot in
//! chunks (one in flight, resent on a stall, restarted from 0 after the follower lost it); the
//! follower installs it durably before it says so, keeps or discards its log by whether the
//! log holds the snapshot's last entry, never goes backwards, and does not campaign until the
//! application applied it; a restart starts from the snapshot.

use crate::support::*;
use bytes::Bytes;
use raft_core::{
    Action, Config, ConfigError, Entry, InstallSnapshot, Message, Node, PersistId, Recovered, Role,
    Snapshot, SnapshotError, SnapshotMeta, SnapshotResponse,
};

const DATA: &[u8] = b"0123456789";

fn meta(index: u64, term: u64) -> SnapshotMeta {
    SnapshotMeta {
        index,
        term,
        peers: peers(&[1, 2, 3], &[]),
    }
}

/// A chunk from `leader` in `term` of the snapshot `meta`, with `DATA[from..to]`.
fn chunk(leader: u64, term: u64, meta: &SnapshotMeta, from: usize, to: usize) -> Message {
    Message::InstallSnapshot(Box::new(InstallSnapshot {
        term,
        leader: n(leader),
        meta: meta.clone(),
        offset: from as u64,
        data: Bytes::from_static(&DATA[from..to]),
        done: to == DATA.len(),
    }))
}

fn snapshot_response(peer: u64, term: u64, index: u64, next_offset: u64, done: bool) -> Message {
    Message::SnapshotResponse(SnapshotResponse {
        term,
        peer: n(peer),
        index,
        next_offset,
        done,
    })
}

fn persist_snapshot(id: u64, meta: &SnapshotMeta, discard_log: bool) -> Action {
    Action::PersistSnapshot {
        id: PersistId(id),
        snapshot: Box::new(meta.clone()),
        data: Bytes::from_static(DATA),
        discard_log,
    }
}

fn apply_snapshot(meta: &SnapshotMeta) -> Action {
    Action::ApplySnapshot {
        snapshot: Box::new(meta.clone()),
        data: Bytes::from_static(DATA),
    }
}

/// A follower of n2 in term 2 with log terms `terms`, that applied everything up to `commit`.
fn applied_follower(terms: &[u64], commit: u64) -> Node {
    let mut node = follower_of(2, 2, terms);
    let last = terms.len() as u64;
    node.receive(
        n(2),
        append(2, 2, last, *terms.last().unwrap(), vec![], commit),
    );
    node.applied(commit).unwrap();
    node
}

/// A ready leader of term 2 of {n1, n2, n3} that sends at most `max_bytes` per message: no-op
/// at 1, "x" at 2, both committed and applied, then compacted into a snapshot at 2 holding
/// `DATA` (durable). n2 acknowledged 2; n3 only 1 (entry 2 is in flight to it). Next Persist
/// id 5.
fn leader_with_snapshot(max_bytes: usize) -> Node {
    let config = Config {
        max_bytes_per_message: max_bytes,
        ..config(THREE, SEED)
    };
    let mut node = ready_leader_with(config, 2, &[]);
    node.applied(1).unwrap();
    node.propose(2, "x").unwrap();
    node.persisted(PersistId(3)).unwrap();
    node.receive(n(2), ack(2, 2, 2));
    node.applied(2).unwrap();
    assert_eq!(
        node.install_snapshot(2, DATA),
        Ok(vec![persist_snapshot(4, &meta(2, 2), false)])
    );
    node.persisted(PersistId(4)).unwrap();
    node
}

/// [`leader_with_snapshot`] after n3 said it lacks entry 2 and got the first chunk.
fn leader_sending_snapshot(max_bytes: usize) -> Node {
    let mut node = leader_with_snapshot(max_bytes);
    assert_eq!(
        node.receive(n(3), nack(3, 2, 1)),
        vec![send(3, chunk(ME, 2, &meta(2, 2), 0, max_bytes.min(10)))]
    );
    node
}

// ----- the application compacts ------------------------------------------------------------

#[test]
fn install_snapshot_compacts_the_log_and_asks_the_host_to_persist_it() {
    let mut node = applied_follower(&[1, 1, 2], 3);

    assert_eq!(
        node.install_snapshot(2, DATA),
        Ok(vec![persist_snapshot(1, &meta(2, 1), false)])
    );
    assert_eq!(node.snapshot_index(), 2);
    assert_eq!(node.log(), &[entry(2, 3)][..]);
    assert_eq!(node.entry(2), None);
    assert_eq!((node.last_index(), node.commit_index()), (3, 3));
}

#[test]
fn install_snapshot_of_an_index_not_applied_is_refused() {
    let mut node = applied_follower(&[1, 1, 2], 2);

    assert_eq!(
        node.install_snapshot(3, DATA),
        Err(SnapshotError::NotApplied {
            index: 3,
            applied: 2
        })
    );
    assert_eq!(node.snapshot_index(), 0);
}

#[test]
fn install_snapshot_not_past_the_current_one_is_refused() {
    let mut node = applied_follower(&[1, 1, 2], 3);
    node.install_snapshot(2, DATA).unwrap();

    assert_eq!(
        node.install_snapshot(2, DATA),
        Err(SnapshotError::Stale {
            index: 2,
            snapshot_index: 2
        })
    );
    assert_eq!(
        node.install_snapshot(1, DATA),
        Err(SnapshotError::Stale {
            index: 1,
            snapshot_index: 2
        })
    );
}

#[test]
fn snapshot_records_the_membership_at_its_index() {
    // n4 was added at 3, after the snapshot's index.
    let mut node = follower_of(2, 2, &[]);
    let log = vec![
        peers_entry(2, 1, &[1, 2, 3], &[]),
        entry(2, 2),
        peers_entry(2, 3, &[1, 2, 3, 4], &[]),
    ];
    node.receive(n(2), append(2, 2, 0, 0, log, 3));
    node.applied(3).unwrap();

    let actions = node.install_snapshot(2, DATA).unwrap();
    assert!(
        matches!(&actions[..], [Action::PersistSnapshot { snapshot, .. }] if snapshot.peers == peers(&[1, 2, 3], &[])),
        "{actions:?}"
    );
    assert_eq!(node.voters().count(), 4, "the log after it still counts");
}

// ----- the leader sends it -------------------------------------------------------------------

#[test]
fn follower_that_needs_compacted_entries_is_sent_the_snapshot() {
    let mut node = leader_with_snapshot(1024);

    assert_eq!(
        node.receive(n(3), nack(3, 2, 1)),
        vec![send(3, chunk(ME, 2, &meta(2, 2), 0, 10))]
    );
}

#[test]
fn snapshot_travels_in_chunks_of_at_most_max_bytes_per_message() {
    let mut node = leader_sending_snapshot(4);

    assert_eq!(
        node.receive(n(3), snapshot_response(3, 2, 2, 4, false)),
        vec![send(3, chunk(ME, 2, &meta(2, 2), 4, 8))]
    );
    assert_eq!(
        node.receive(n(3), snapshot_response(3, 2, 2, 8, false)),
        vec![send(3, chunk(ME, 2, &meta(2, 2), 8, 10))]
    );
}

#[test]
fn one_snapshot_chunk_is_in_flight_and_the_leader_keeps_serving_others() {
    let mut node = leader_sending_snapshot(4);
    let y = Entry::normal(2, 3, "y");

    assert_eq!(
        node.propose(2, "y").map(|p| p.actions),
        Ok(vec![
            persist(5, None, Some(write(2, 2, vec![y.clone()]))),
            send(2, append(ME, 2, 2, 2, vec![y], 2)),
        ])
    );
}

#[test]
fn stalled_snapshot_chunk_is_resent_at_the_next_heartbeat() {
    let mut node = leader_sending_snapshot(4);
    let interval = node.config().heartbeat_interval;
    for _ in 1..interval {
        assert_eq!(node.tick(), vec![]);
    }

    assert_eq!(
        node.tick(),
        vec![
            send(2, append(ME, 2, 2, 2, vec![], 2)),
            send(3, chunk(ME, 2, &meta(2, 2), 0, 4)),
        ]
    );
}

#[test]
fn follower_that_lost_the_transfer_is_sent_the_snapshot_from_offset_0_again() {
    let mut node = leader_sending_snapshot(4);
    node.receive(n(3), snapshot_response(3, 2, 2, 4, false));

    // n3 restarted: it answers the chunk at 4 with "from 0".
    assert_eq!(
        node.receive(n(3), snapshot_response(3, 2, 2, 0, false)),
        vec![send(3, chunk(ME, 2, &meta(2, 2), 0, 4))]
    );
}

#[test]
fn duplicated_snapshot_answer_asking_for_the_chunk_in_flight_sends_nothing() {
    let mut node = leader_sending_snapshot(4);
    assert_eq!(
        node.receive(n(3), snapshot_response(3, 2, 2, 4, false)),
        vec![send(3, chunk(ME, 2, &meta(2, 2), 4, 8))]
    );

    // The same answer again (duplicated, or late after a resent chunk): the chunk at 4 is
    // already in flight, and a second copy would start a second chunk stream.
    assert_eq!(
        node.receive(n(3), snapshot_response(3, 2, 2, 4, false)),
        vec![]
    );
    // The transfer goes on from the chunk in flight's own answer.
    assert_eq!(
        node.receive(n(3), snapshot_response(3, 2, 2, 8, false)),
        vec![send(3, chunk(ME, 2, &meta(2, 2), 8, 10))]
    );
}

#[test]
fn installed_snapshot_resumes_replication_after_it() {
    let mut node = leader_sending_snapshot(4);
    node.propose(2, "y").unwrap();

    assert_eq!(
        node.receive(n(3), snapshot_response(3, 2, 2, 10, true)),
        vec![send(
            3,
            append(ME, 2, 2, 2, vec![Entry::normal(2, 3, "y")], 2)
        )]
    );
    assert_eq!(node.match_index(n(3)), Some(2));
}

#[test]
fn installed_snapshot_at_the_leaders_last_index_counts_as_its_match() {
    // The leader's whole log is in the snapshot: "done" at its last index is not beyond it.
    let mut node = leader_sending_snapshot(4);
    assert_eq!(node.last_index(), 2);

    assert_eq!(
        node.receive(n(3), snapshot_response(3, 2, 2, 10, true)),
        vec![]
    );
    assert_eq!(node.match_index(n(3)), Some(2));
}

#[test]
fn snapshot_response_about_another_snapshot_index_is_ignored() {
    let mut node = leader_sending_snapshot(4);

    // A late answer about an older snapshot (index 1) asking for offset 0.
    assert_eq!(
        node.receive(n(3), snapshot_response(3, 2, 1, 0, false)),
        vec![]
    );
}

#[test]
fn newer_snapshot_replaces_one_in_transfer_from_offset_0() {
    let mut node = leader_sending_snapshot(4);
    node.propose(2, "y").unwrap();
    node.persisted(PersistId(5)).unwrap();
    node.receive(n(2), ack(2, 2, 3));
    node.applied(3).unwrap();
    node.install_snapshot(3, DATA).unwrap();

    assert_eq!(
        node.receive(n(3), snapshot_response(3, 2, 2, 4, false)),
        vec![send(3, chunk(ME, 2, &meta(3, 2), 0, 4))]
    );
}

#[test]
fn snapshot_response_of_another_term_is_ignored() {
    let mut node = leader_sending_snapshot(4);

    assert_eq!(
        node.receive(n(3), snapshot_response(3, 1, 2, 4, false)),
        vec![]
    );
    assert_eq!(node.match_index(n(3)), Some(1));
}

// ----- the follower receives it ----------------------------------------------------------------

#[test]
fn follower_acknowledges_each_chunk_at_once_with_the_next_offset() {
    let mut node = follower_of(2, 2, &[]);

    assert_eq!(
        node.receive(n(2), chunk(2, 2, &meta(2, 2), 0, 4)),
        vec![send(2, snapshot_response(ME, 2, 2, 4, false))]
    );
}

#[test]
fn chunk_at_an_unexpected_offset_is_answered_with_the_offset_expected() {
    // A follower that restarted mid-transfer has nothing: it asks for offset 0.
    let mut node = follower_of(2, 2, &[]);

    assert_eq!(
        node.receive(n(2), chunk(2, 2, &meta(2, 2), 4, 8)),
        vec![send(2, snapshot_response(ME, 2, 2, 0, false))]
    );
}

#[test]
fn chunk_past_the_bytes_received_is_answered_with_the_offset_expected() {
    let mut node = follower_of(2, 2, &[]);
    node.receive(n(2), chunk(2, 2, &meta(2, 2), 0, 4));

    // The chunk at 4 was lost; the last one (8..10) arrives.
    assert_eq!(
        node.receive(n(2), chunk(2, 2, &meta(2, 2), 8, 10)),
        vec![send(2, snapshot_response(ME, 2, 2, 4, false))]
    );
    assert_eq!(node.snapshot_index(), 0, "nothing was installed");
}

#[test]
fn delayed_first_chunk_of_an_older_snapshot_does_not_restart_a_newer_transfer() {
    let mut node = follower_of(2, 2, &[]);
    node.receive(n(2), chunk(2, 2, &meta(3, 2), 0, 4));

    assert_eq!(
        node.receive(n(2), chunk(2, 2, &meta(2, 2), 0, 4)),
        vec![send(2, snapshot_response(ME, 2, 2, 0, false))]
    );
    assert_eq!(
        node.receive(n(2), chunk(2, 2, &meta(3, 2), 4, 8)),
        vec![send(2, snapshot_response(ME, 2, 3, 8, false))]
    );
}

#[test]
fn last_chunk_installs_the_snapshot_and_the_acknowledgement_waits_until_it_is_durable() {
    let mut node = follower_of(2, 2, &[]);
    node.receive(n(2), chunk(2, 2, &meta(2, 2), 0, 4));

    assert_eq!(
        node.receive(n(2), chunk(2, 2, &meta(2, 2), 4, 10)),
        vec![
            persist_snapshot(1, &meta(2, 2), true),
            apply_snapshot(&meta(2, 2)),
        ]
    );
    assert_eq!((node.commit_index(), node.last_index()), (2, 2));
    assert_eq!(
        node.persisted(PersistId(1)),
        Ok(vec![send(2, snapshot_response(ME, 2, 2, 10, true))])
    );
}

#[test]
fn installing_a_snapshot_discards_a_conflicting_log_entry_at_its_last_index() {
    // The log's entry at 3 has term 1; the snapshot's last entry is (3, 2).
    let mut node = follower_of(2, 2, &[1, 1, 1, 1]);

    assert_eq!(
        node.receive(n(2), chunk(2, 2, &meta(3, 2), 0, 10)),
        vec![
            persist_snapshot(1, &meta(3, 2), true),
            apply_snapshot(&meta(3, 2)),
        ]
    );
    assert_eq!(node.log(), &[][..]);
    assert_eq!((node.last_index(), node.last_term()), (3, 2));
}

#[test]
fn installing_a_snapshot_that_discards_the_log_drops_the_membership_the_log_implied() {
    // Entry 4 is an uncommitted change of a deposed leader adding n4 (openraft #1808); the
    // snapshot's last entry (3, 2) contradicts the log, so the log and the change go.
    let mut terms = log(&[1, 1, 1]);
    terms.push(peers_entry(1, 4, &[1, 2, 3, 4], &[]));
    let mut node = recovered(&[1, 2, 3], hs(2, None), terms);
    node.receive(n(2), append(2, 2, 4, 1, vec![], 0));
    assert_eq!(node.voters().count(), 4, "the appended change is in effect");

    node.receive(n(2), chunk(2, 2, &meta(3, 2), 0, 10));

    assert_eq!(node.peer_state(), peers(&[1, 2, 3], &[]));
    assert_eq!(node.log(), &[][..]);
}

#[test]
fn installing_a_snapshot_keeps_the_entries_after_its_last_entry_when_the_log_holds_it() {
    let mut node = follower_of(2, 2, &[1, 1, 2, 2]);

    assert_eq!(
        node.receive(n(2), chunk(2, 2, &meta(2, 1), 0, 10)),
        vec![
            persist_snapshot(1, &meta(2, 1), false),
            apply_snapshot(&meta(2, 1)),
        ]
    );
    assert_eq!(node.log(), &[entry(2, 3), entry(2, 4)][..]);
}

#[test]
fn stale_snapshot_never_moves_a_node_backwards() {
    let mut node = applied_follower(&[1, 1, 2], 3);

    // A delayed snapshot at 2: the node already committed 3. It says it holds 2.
    assert_eq!(
        node.receive(n(2), chunk(2, 2, &meta(2, 1), 0, 10)),
        vec![send(2, snapshot_response(ME, 2, 2, 0, true))]
    );
    assert_eq!((node.commit_index(), node.last_index()), (3, 3));
    assert_eq!(node.snapshot_index(), 0);
}

#[test]
fn duplicated_last_chunk_is_not_installed_twice() {
    let mut node = follower_of(2, 2, &[]);
    node.receive(n(2), chunk(2, 2, &meta(2, 2), 0, 10));
    node.persisted(PersistId(1)).unwrap();

    assert_eq!(
        node.receive(n(2), chunk(2, 2, &meta(2, 2), 0, 10)),
        vec![send(2, snapshot_response(ME, 2, 2, 0, true))]
    );
}

#[test]
fn snapshot_from_a_lower_term_is_answered_with_the_current_term() {
    let mut node = follower_of(2, 3, &[]);

    assert_eq!(
        node.receive(n(2), chunk(2, 2, &meta(2, 2), 0, 10)),
        vec![send(2, snapshot_response(ME, 3, 2, 0, false))]
    );
    assert_eq!(node.commit_index(), 0);
}

#[test]
fn node_does_not_campaign_until_a_received_snapshot_is_applied() {
    let mut node = follower_of_with(defaults(THREE, SEED), 2, 2, &[]);
    node.receive(n(2), chunk(2, 2, &meta(2, 2), 0, 10));
    node.persisted(PersistId(1)).unwrap();
    let max = node.config().election_timeout_max;
    let actions: Vec<Action> = (0..2 * max).flat_map(|_| node.tick()).collect();
    assert_eq!(actions, vec![]);
    assert_eq!(node.campaign(), vec![]);
    assert_eq!(node.applied(2), Ok(vec![]));

    let pre_vote = pre_vote_request(ME, 3, 2, 2);
    assert_eq!(
        node.campaign(),
        vec![
            leader_changed(2, None),
            send(2, pre_vote.clone()),
            send(3, pre_vote)
        ]
    );
}

#[test]
fn node_does_not_campaign_while_a_received_snapshot_is_processed_but_not_applied() {
    let mut node = follower_of_with(defaults(THREE, SEED), 2, 2, &[]);
    node.receive(n(2), chunk(2, 2, &meta(2, 2), 0, 10));
    node.persisted(PersistId(1)).unwrap();
    // The application consumed the snapshot (processed 2) but its state reaches only 1.
    assert_eq!(node.processed(2, 1), Ok(vec![]));

    assert_eq!(node.campaign(), vec![]);
}

#[test]
fn paused_node_hands_out_a_received_snapshot_when_it_resumes() {
    let mut node = follower_of(2, 2, &[]);
    node.pause_apply();
    assert_eq!(
        node.receive(n(2), chunk(2, 2, &meta(2, 2), 0, 10)),
        vec![persist_snapshot(1, &meta(2, 2), true)]
    );

    assert_eq!(node.resume_apply(), vec![apply_snapshot(&meta(2, 2))]);
}

#[test]
fn append_that_starts_below_the_snapshot_is_checked_from_the_snapshot_on() {
    // NRG #7095: a delayed append at the snapshot boundary neither fails nor truncates.
    let mut node = applied_follower(&[1, 1, 2], 3);
    node.install_snapshot(3, DATA).unwrap();
    node.persisted(PersistId(1)).unwrap();
    let entries = vec![entry(2, 3), entry(2, 4)];

    assert_eq!(
        node.receive(n(2), append(2, 2, 2, 1, entries, 3)),
        vec![persist(2, None, Some(write(3, 2, vec![entry(2, 4)])))]
    );
    assert_eq!(
        node.persisted(PersistId(2)),
        Ok(vec![send(2, ack(ME, 2, 4))])
    );
}

#[test]
fn append_that_starts_further_below_the_snapshot_drops_every_entry_the_snapshot_covers() {
    let mut node = applied_follower(&[1, 2, 2, 2], 4);
    node.install_snapshot(4, DATA).unwrap();
    node.persisted(PersistId(1)).unwrap();
    let entries = vec![entry(2, 2), entry(2, 3), entry(2, 4), entry(2, 5)];

    assert_eq!(
        node.receive(n(2), append(2, 2, 1, 1, entries, 4)),
        vec![persist(2, None, Some(write(4, 2, vec![entry(2, 5)])))]
    );
    assert_eq!(
        node.persisted(PersistId(2)),
        Ok(vec![send(2, ack(ME, 2, 5))])
    );
}

#[test]
fn append_whose_entries_after_the_snapshot_have_a_lower_term_than_it_is_ignored() {
    // Index 3 is in the snapshot with term 2; an entry of term 1 after it contradicts the
    // snapshot: malformed, neither applied nor answered.
    let mut node = applied_follower(&[1, 1, 2], 3);
    node.install_snapshot(3, DATA).unwrap();
    node.persisted(PersistId(1)).unwrap();
    let entries = vec![entry(1, 2), entry(1, 3), entry(1, 4)];

    assert_eq!(node.receive(n(2), append(2, 2, 1, 1, entries, 3)), vec![]);
    assert_eq!(node.last_index(), 3);
}

// ----- restart -----------------------------------------------------------------------------------

fn restarted(snapshot_meta: SnapshotMeta, log: Vec<Entry>) -> Result<Node, ConfigError> {
    Node::new(
        config(THREE, SEED),
        Recovered {
            hard_state: hs(3, None),
            log,
            snapshot: Some(Snapshot {
                meta: snapshot_meta,
                data: Bytes::from_static(DATA),
            }),
            ..Recovered::default()
        },
    )
}

#[test]
fn restart_from_a_snapshot_starts_with_it_committed_and_applied() {
    // The WAL was not compacted: it still holds entries the snapshot covers.
    let node = restarted(meta(2, 1), log(&[1, 1, 2])).unwrap();

    assert_eq!(node.snapshot_index(), 2);
    assert_eq!(
        (node.commit_index(), node.applied_index(), node.last_index()),
        (2, 2, 3)
    );
    assert_eq!(node.log(), &[entry(2, 3)][..]);
    assert_eq!(node.snapshot().map(|s| &s.data[..]), Some(DATA));
}

#[test]
fn restart_takes_a_log_that_starts_at_the_snapshot_index() {
    // The WAL was compacted up to just before the snapshot's last entry.
    let node = restarted(meta(2, 1), vec![entry(1, 2), entry(2, 3)]).unwrap();

    assert_eq!((node.snapshot_index(), node.last_index()), (2, 3));
    assert_eq!(node.log(), &[entry(2, 3)][..]);
}

#[test]
fn restart_keeps_entries_after_the_snapshot_of_the_snapshot_term() {
    let node = restarted(meta(2, 1), log(&[1, 1, 1])).unwrap();

    assert_eq!(node.log(), &[entry(1, 3)][..]);
}

#[test]
fn restart_refuses_entries_after_the_snapshot_of_a_lower_term() {
    assert_eq!(
        restarted(meta(2, 2), vec![entry(1, 3)]).err(),
        Some(ConfigError::LogTermDecreases { index: 3 })
    );
}

#[test]
fn restart_drops_a_log_that_contradicts_the_snapshot() {
    // A crash came after the received snapshot was written but before the WAL was reset.
    let node = restarted(meta(2, 2), log(&[1, 1, 1])).unwrap();

    assert_eq!(node.log(), &[][..]);
    assert_eq!((node.last_index(), node.last_term()), (2, 2));
}

#[test]
fn restart_takes_the_membership_from_the_snapshot() {
    let node = restarted(
        SnapshotMeta {
            peers: peers(&[1, 2, 3, 4, 5], &[]),
            ..meta(2, 1)
        },
        vec![],
    )
    .unwrap();

    assert_eq!(node.voters().count(), 5);
}

#[test]
fn leader_restarted_from_a_snapshot_sends_it_to_a_follower_that_needs_it() {
    let mut node = restarted(meta(2, 1), vec![]).unwrap();
    node.campaign();
    node.persisted(PersistId(1)).unwrap();
    node.receive(n(2), grant(2, 4));
    assert_eq!(node.role(), Role::Leader);

    // n3's log is empty.
    assert_eq!(
        node.receive(n(3), nack(3, 4, 0)),
        vec![send(3, chunk(ME, 4, &meta(2, 1), 0, 10))]
    );
}

#[test]
fn snapshot_chunk_of_a_higher_term_makes_its_sender_the_leader_at_once() {
    let mut node = follower_of(2, 2, &[]);

    // n2 stays the leader the application knows: no LeaderChanged, not even a passing None.
    assert_eq!(
        node.receive(n(2), chunk(2, 3, &meta(2, 2), 4, 8)),
        vec![
            role(Role::Follower, 3),
            persist(1, Some(hs(3, None)), None),
            send(2, snapshot_response(ME, 3, 2, 0, false)),
        ]
    );
}

#[test]
fn snapshot_chunk_of_a_higher_term_relayed_by_another_node_does_not_make_it_the_leader() {
    let mut node = follower_of(2, 2, &[]);

    // n3 relays n2's chunk: n3 is never taken for the leader, n2 is once the chunk is handled.
    assert_eq!(
        node.receive(n(3), chunk(2, 3, &meta(2, 2), 4, 8)),
        vec![
            role(Role::Follower, 3),
            leader_changed(3, None),
            leader_changed(3, Some(2)),
            persist(1, Some(hs(3, None)), None),
            send(2, snapshot_response(ME, 3, 2, 0, false)),
        ]
    );
}
