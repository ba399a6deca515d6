use super::writer::{Counters, Event, Request, Writer};
use super::*;
use raft_core::{
    Entry, HardState, LogDamage, LogWrite, NodeId, PeerState, PersistId, SnapshotMeta,
};
use std::sync::{mpsc, Arc};
use std::time::Duration;

/// A fresh directory under the target directory (no tempfile crate), removed on drop.
struct TempDir(PathBuf);

impl TempDir {
    fn new(name: &str) -> TempDir {
        let dir = std::env::temp_dir().join(format!(
            "raft-kv-storage-{name}-{}-{:?}",
            std::process::id(),
            std::thread::current().id()
        ));
        let _ = fs::remove_dir_all(&dir);
        fs::create_dir_all(&dir).unwrap();
        TempDir(dir)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = fs::remove_dir_all(&self.0);
    }
}

fn entries(term: u64, from: u64, to: u64) -> Vec<Entry> {
    (from..=to)
        .map(|i| Entry::normal(term, i, format!("e{i}").into_bytes()))
        .collect()
}

fn persist(id: u64, prev: (u64, u64), entries: Vec<Entry>) -> Request {
    Request::Persist {
        id: PersistId(id),
        hard_state: None,
        log: Some(LogWrite {
            prev_index: prev.0,
            prev_term: prev.1,
            entries,
        }),
        peers: None,
    }
}

/// Starts a writer on `dir`, submits the batches, and waits for the report of `last`.
fn write(dir: &Path, batches: Vec<Vec<Request>>, last: u64) -> Arc<Counters> {
    let opened = open(dir).unwrap();
    let counters = Arc::new(Counters::default());
    let (tx, rx) = mpsc::channel();
    let writer = Writer::start(dir, opened.mirror, counters.clone(), move |e| {
        let _ = tx.send(e);
    })
    .unwrap();
    for batch in batches {
        assert!(writer.submit(batch));
    }
    loop {
        match rx.recv_timeout(Duration::from_secs(10)).unwrap() {
            Event::Persisted(id) if id.0 == last => break,
            Event::Persisted(id) => assert!(id.0 < last),
            Event::Failed(e) => panic!("storage failed: {e}"),
        }
    }
    writer.finish();
    counters
}

#[test]
fn a_group_of_persists_is_one_fsync_and_recovers_in_order() {
    let tmp = TempDir::new("group");
    let hs = HardState {
        term: 2,
        vote: Some(NodeId(1)),
    };
    let batch = vec![
        Request::Persist {
            id: PersistId(1),
            hard_state: Some(hs),
            log: None,
            peers: None,
        },
        persist(2, (0, 0), entries(1, 1, 3)),
        persist(3, (3, 1), entries(2, 4, 6)),
        // A conflict truncation inside the group: entries 5 and 6 of term 2 are replaced.
        persist(4, (4, 2), entries(2, 5, 5)),
    ];
    let counters = write(&tmp.0, vec![batch], 4);
    assert_eq!(
        counters.persists.load(std::sync::atomic::Ordering::Relaxed),
        4
    );
    assert_eq!(
        counters
            .wal_fsyncs
            .load(std::sync::atomic::Ordering::Relaxed),
        1
    );

    let opened = open(&tmp.0).unwrap();
    assert_eq!(opened.recovered.hard_state, hs);
    let got: Vec<(u64, u64)> = opened
        .recovered
        .log
        .iter()
        .map(|e| (e.index, e.term))
        .collect();
    assert_eq!(got, vec![(1, 1), (2, 1), (3, 1), (4, 2), (5, 2)]);
    assert_eq!(opened.report.torn_tail_bytes, 0);
}

#[test]
fn a_torn_tail_is_dropped_with_raft_cores_recovery_and_appends_continue() {
    let tmp = TempDir::new("torn");
    write(&tmp.0, vec![vec![persist(1, (0, 0), entries(1, 1, 4))]], 1);
    // A crash in the middle of an unsynced append: half of the next record reached the file.
    let record = raft_core::storage::encode_wal_append(4, 1, &entries(1, 5, 6), 0).unwrap();
    let wal = tmp.0.join(WAL_FILE);
    let good_len = fs::metadata(&wal).unwrap().len();
    let mut bytes = fs::read(&wal).unwrap();
    bytes.extend_from_slice(&record[..record.len() / 2]);
    fs::write(&wal, &bytes).unwrap();

    let opened = open(&tmp.0).unwrap();
    assert_eq!(opened.report.torn_tail_bytes, record.len() / 2);
    assert_eq!(opened.recovered.log.len(), 4);
    assert_eq!(
        fs::metadata(&wal).unwrap().len(),
        good_len,
        "the tail is truncated away"
    );
    drop(opened);

    // The next append follows the good records, and everything recovers.
    write(&tmp.0, vec![vec![persist(1, (4, 1), entries(1, 5, 6))]], 1);
    let opened = open(&tmp.0).unwrap();
    assert_eq!(opened.recovered.log.last().map(|e| e.index), Some(6));
    assert_eq!(opened.report.torn_tail_bytes, 0);
}

/// A data directory whose WAL held entries 1..=4 of term 1 in two records, the first of
/// them damaged by a flipped bit in its payload.
fn damaged_wal(tmp: &TempDir) {
    write(
        &tmp.0,
        vec![vec![
            persist(1, (0, 0), entries(1, 1, 2)),
            persist(2, (2, 1), entries(1, 3, 4)),
        ]],
        2,
    );
    let wal = tmp.0.join(WAL_FILE);
    let mut bytes = fs::read(&wal).unwrap();
    // Flip a bit in the payload of the first record (after its 12-byte header).
    bytes[20] ^= 0x01;
    fs::write(&wal, &bytes).unwrap();
}

#[test]
fn damage_inside_a_complete_record_starts_the_node_answering_for_the_log_it_held() {
    let tmp = TempDir::new("corrupt");
    damaged_wal(&tmp);
    let opened = open(&tmp.0).unwrap();
    let held = LogDamage::HeldThrough { index: 4, term: 1 };
    // Nothing before the damage survived; the intact record after it shows where the log
    // ended, and the node answers votes for that log until it is repaired.
    assert!(opened.recovered.log.is_empty());
    assert_eq!(opened.recovered.damage, Some(held));
    assert_eq!(opened.report.answers_for, Some(held));
    let described = opened.report.wal_damage.expect("the damage is reported");
    assert!(described.contains("record #0"), "{described}");
    // What it answers for is durable, and the WAL holds only its intact records now.
    let damage_file = fs::read(tmp.0.join(DAMAGE_FILE)).unwrap();
    assert_eq!(formats::decode_damage_file(&damage_file), Ok(Some(held)));
    let wal = formats::recover_wal(&fs::read(tmp.0.join(WAL_FILE)).unwrap());
    assert_eq!(wal.verdict, WalVerdict::Clean);
    assert!(wal.entries.is_empty());
}

#[test]
fn a_restart_during_repair_answers_for_the_same_log_and_the_end_of_repair_clears_it() {
    let tmp = TempDir::new("repairing");
    damaged_wal(&tmp);
    open(&tmp.0).unwrap();
    // A crash before the repair finished: the WAL is clean now, the damage file remembers.
    let again = open(&tmp.0).unwrap();
    let held = LogDamage::HeldThrough { index: 4, term: 1 };
    assert_eq!(again.recovered.damage, Some(held));
    assert_eq!(again.report.wal_damage, None);
    // The leader repairs the log and the node reports itself repaired: the damage file is
    // emptied after the repaired entries are durable, and the next start finds no damage.
    write(
        &tmp.0,
        vec![vec![
            persist(1, (0, 0), entries(1, 1, 4)),
            Request::Repaired,
        ]],
        1,
    );
    let repaired = open(&tmp.0).unwrap();
    assert_eq!(repaired.recovered.damage, None);
    assert_eq!(repaired.report.answers_for, None);
    let got: Vec<u64> = repaired.recovered.log.iter().map(|e| e.index).collect();
    assert_eq!(got, [1, 2, 3, 4]);
}

#[test]
fn a_wal_compacted_with_no_snapshot_starts_over_and_the_node_answers_for_it() {
    let tmp = TempDir::new("unlinked");
    // A WAL that starts after index 2 with no snapshot file beside it.
    write(&tmp.0, vec![vec![persist(1, (2, 1), entries(1, 3, 4))]], 1);
    let opened = open(&tmp.0).unwrap();
    let held = LogDamage::HeldThrough { index: 4, term: 1 };
    assert!(opened.recovered.log.is_empty());
    assert_eq!(opened.recovered.damage, Some(held));
    let described = opened
        .report
        .wal_damage
        .expect("the unlinked WAL is reported");
    assert!(described.contains("starts after index 2"), "{described}");
    // What it answers for is durable, and the WAL starts over where later writes link.
    let damage_file = fs::read(tmp.0.join(DAMAGE_FILE)).unwrap();
    assert_eq!(formats::decode_damage_file(&damage_file), Ok(Some(held)));
    let wal = formats::recover_wal(&fs::read(tmp.0.join(WAL_FILE)).unwrap());
    assert_eq!((wal.verdict, wal.log_start), (WalVerdict::Clean, (0, 0)));
    assert!(wal.entries.is_empty());
    assert_eq!(open(&tmp.0).unwrap().recovered.damage, Some(held));
}

#[test]
fn a_reset_starts_the_storage_over_answering_for_the_log_it_held() {
    let tmp = TempDir::new("reset");
    let held = LogDamage::HeldThrough { index: 4, term: 1 };
    let members = PeerState {
        cluster_size: 3,
        peers: vec![NodeId(1), NodeId(2), NodeId(3)],
        domain_ext: 0,
        observers: Vec::new(),
    };
    write(
        &tmp.0,
        vec![
            vec![persist(1, (0, 0), entries(1, 1, 4))],
            // One batch: the report of 2 comes once the reset after it is done too.
            vec![
                snapshot_request(2, 2, 1, false),
                Request::Reset {
                    peers: members.clone(),
                    answers_for: Some(held),
                },
            ],
        ],
        2,
    );
    let opened = open(&tmp.0).unwrap();
    assert!(opened.recovered.log.is_empty());
    assert_eq!(opened.recovered.snapshot, None);
    assert_eq!(opened.recovered.membership, Some(members));
    assert_eq!(opened.recovered.damage, Some(held));
    assert_eq!(fs::read_dir(tmp.0.join(SNAPSHOT_DIR)).unwrap().count(), 0);
}

#[test]
fn a_damage_file_that_does_not_decode_answers_for_an_unknown_log_up_to_the_highest_term() {
    let tmp = TempDir::new("damage-file");
    write(&tmp.0, vec![vec![persist(1, (0, 0), entries(3, 1, 2))]], 1);
    fs::write(tmp.0.join(DAMAGE_FILE), b"not a damage file").unwrap();
    let opened = open(&tmp.0).unwrap();
    assert_eq!(
        opened.recovered.damage,
        Some(LogDamage::Unknown { term_bound: 3 })
    );
}

#[test]
fn replace_atomically_leaves_the_new_file_and_open_removes_a_crashed_temporary() {
    let tmp = TempDir::new("replace");
    let hs1 = HardState {
        term: 1,
        vote: None,
    };
    let hs2 = HardState {
        term: 7,
        vote: Some(NodeId(3)),
    };
    let encode = raft_core::storage::encode_hard_state;
    files::replace_atomically(&tmp.0, TERM_VOTE_FILE, &encode(&hs1)).unwrap();
    files::replace_atomically(&tmp.0, TERM_VOTE_FILE, &encode(&hs2)).unwrap();
    assert_eq!(fs::read(tmp.0.join(TERM_VOTE_FILE)).unwrap(), encode(&hs2));
    assert!(!tmp.0.join("tav.idx.tmp").exists());

    // A crash after writing the temporary but before the rename: the old file is what
    // counts, and the half-written temporary is removed at the next start.
    fs::write(tmp.0.join("tav.idx.tmp"), b"half").unwrap();
    let opened = open(&tmp.0).unwrap();
    assert_eq!(opened.recovered.hard_state, hs2);
    assert!(!tmp.0.join("tav.idx.tmp").exists());
}

#[test]
fn a_damaged_term_vote_file_is_an_error_naming_the_file() {
    let tmp = TempDir::new("tav");
    let mut bytes = raft_core::storage::encode_hard_state(&HardState {
        term: 3,
        vote: None,
    });
    bytes[0] ^= 0xff;
    fs::write(tmp.0.join(TERM_VOTE_FILE), &bytes).unwrap();
    let err = open(&tmp.0).err().expect("a bad checksum is refused");
    let text = err.to_string();
    assert!(
        text.contains("tav.idx") && text.contains("checksum"),
        "{text}"
    );
}

#[test]
fn peer_state_is_written_after_the_log_and_recovered() {
    let tmp = TempDir::new("peers");
    let peers = PeerState {
        cluster_size: 3,
        peers: vec![NodeId(1), NodeId(2), NodeId(4)],
        domain_ext: 0,
        observers: vec![NodeId(5)],
    };
    let request = Request::Persist {
        id: PersistId(1),
        hard_state: None,
        log: Some(LogWrite {
            prev_index: 0,
            prev_term: 0,
            entries: entries(1, 1, 1),
        }),
        peers: Some(peers.clone()),
    };
    write(&tmp.0, vec![vec![request]], 1);
    assert_eq!(open(&tmp.0).unwrap().recovered.membership, Some(peers));
}

fn snapshot_request(id: u64, index: u64, term: u64, discard_log: bool) -> Request {
    Request::Snapshot {
        id: PersistId(id),
        meta: SnapshotMeta {
            index,
            term,
            peers: PeerState {
                cluster_size: 1,
                peers: vec![NodeId(1)],
                domain_ext: 0,
                observers: vec![],
            },
        },
        data: bytes::Bytes::from_static(b"state"),
        discard_log,
    }
}

#[test]
fn a_snapshot_compacts_the_wal_to_the_entries_after_it() {
    let tmp = TempDir::new("compact");
    let batches = vec![
        vec![persist(1, (0, 0), entries(1, 1, 10))],
        vec![snapshot_request(2, 6, 1, false)],
        vec![persist(3, (10, 1), entries(2, 11, 12))],
    ];
    write(&tmp.0, batches, 3);
    let opened = open(&tmp.0).unwrap();
    let snapshot = opened
        .recovered
        .snapshot
        .expect("the snapshot file is there");
    assert_eq!((snapshot.meta.index, snapshot.meta.term), (6, 1));
    assert_eq!(&snapshot.data[..], b"state");
    assert_eq!(
        opened.mirror.start,
        (6, 1),
        "the WAL starts after the snapshot"
    );
    let got: Vec<u64> = opened.recovered.log.iter().map(|e| e.index).collect();
    assert_eq!(got, (7..=12).collect::<Vec<_>>());
}

#[test]
fn a_received_snapshot_discards_the_log_and_older_snapshots() {
    let tmp = TempDir::new("discard");
    let batches = vec![
        vec![persist(1, (0, 0), entries(1, 1, 5))],
        vec![snapshot_request(2, 3, 1, false)],
        vec![snapshot_request(3, 20, 4, true)],
        vec![persist(4, (20, 4), entries(4, 21, 21))],
    ];
    write(&tmp.0, batches, 4);
    let names: Vec<String> = fs::read_dir(tmp.0.join(SNAPSHOT_DIR))
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    assert_eq!(names, vec!["snap.4.20".to_string()]);
    let opened = open(&tmp.0).unwrap();
    assert_eq!(opened.mirror.start, (20, 4));
    let got: Vec<u64> = opened.recovered.log.iter().map(|e| e.index).collect();
    assert_eq!(got, vec![21]);
}

#[test]
fn the_mirror_refuses_to_compact_to_a_point_it_does_not_hold() {
    let mut mirror = LogMirror::default();
    mirror.write(0, &entries(1, 1, 3));
    assert!(mirror.compacted(2, 2).is_none(), "wrong term");
    assert!(mirror.compacted(9, 1).is_none(), "beyond the log");
    let (compacted, bytes) = mirror.compacted(2, 1).unwrap();
    assert_eq!(compacted.start, (2, 1));
    assert_eq!(compacted.entries.len(), 1);
    let recovered = raft_core::storage::recover_wal(&bytes);
    assert_eq!(recovered.log_start, (2, 1));
    assert_eq!(recovered.entries, compacted.entries);
}

#[test]
fn a_stray_file_in_the_snapshot_directory_is_named() {
    let tmp = TempDir::new("stray");
    fs::create_dir_all(tmp.0.join(SNAPSHOT_DIR)).unwrap();
    fs::write(tmp.0.join(SNAPSHOT_DIR).join("notes.txt"), b"x").unwrap();
    let err = open(&tmp.0).err().expect("refused");
    assert!(err.to_string().contains("notes.txt"), "{err}");
}

/// Writes a term/vote record through the writer, as a running node does.
fn write_hard_state(dir: &Path, hs: HardState) {
    let request = Request::Persist {
        id: PersistId(1),
        hard_state: Some(hs),
        log: None,
        peers: None,
    };
    write(dir, vec![vec![request]], 1);
}

fn flip_a_byte(path: &Path) {
    let mut bytes = fs::read(path).unwrap();
    bytes[2] ^= 0x40;
    fs::write(path, &bytes).unwrap();
}

#[test]
fn the_writer_keeps_the_term_vote_record_in_both_copies() {
    let tmp = TempDir::new("tav-copies");
    let hs = HardState {
        term: 4,
        vote: Some(NodeId(2)),
    };
    write_hard_state(&tmp.0, hs);
    let expected = raft_core::storage::encode_hard_state(&hs);
    for name in TERM_VOTE_COPIES {
        assert_eq!(fs::read(tmp.0.join(name)).unwrap(), expected, "{name}");
    }
    let opened = open(&tmp.0).unwrap();
    assert_eq!(opened.recovered.hard_state, hs);
    assert_eq!(
        opened.recovered.vote_record,
        raft_core::storage::VoteRecord::Intact
    );
    assert_eq!(opened.report.term_vote_copy_damaged, None);
}

#[test]
fn a_damaged_term_vote_copy_falls_back_on_the_other_and_is_rewritten() {
    let hs = HardState {
        term: 9,
        vote: Some(NodeId(3)),
    };
    for damaged in TERM_VOTE_COPIES {
        let tmp = TempDir::new("tav-fallback");
        write_hard_state(&tmp.0, hs);
        flip_a_byte(&tmp.0.join(damaged));

        let opened = open(&tmp.0).unwrap();
        assert_eq!(opened.recovered.hard_state, hs, "{damaged} damaged");
        assert_eq!(
            opened.recovered.vote_record,
            raft_core::storage::VoteRecord::CopyDamaged
        );
        let found = opened.report.term_vote_copy_damaged.unwrap();
        assert!(found.contains(damaged), "{found}");
        // Both copies hold the record again before the node acts, so the next start is clean
        // and damage to the other copy later would still leave one.
        let expected = raft_core::storage::encode_hard_state(&hs);
        for name in TERM_VOTE_COPIES {
            assert_eq!(fs::read(tmp.0.join(name)).unwrap(), expected, "{name}");
        }
        let again = open(&tmp.0).unwrap();
        assert_eq!(
            again.recovered.vote_record,
            raft_core::storage::VoteRecord::Intact
        );
    }
}

#[test]
fn a_term_vote_record_lost_in_every_copy_refuses_to_start_naming_each_copy() {
    let tmp = TempDir::new("tav-lost");
    write_hard_state(
        &tmp.0,
        HardState {
            term: 5,
            vote: None,
        },
    );
    for name in TERM_VOTE_COPIES {
        flip_a_byte(&tmp.0.join(name));
    }
    let err = open(&tmp.0)
        .err()
        .expect("a node without its vote record must not start");
    assert!(matches!(err, StorageError::TermVoteLost { ref copies } if copies.len() == 2));
    let text = err.to_string();
    for name in TERM_VOTE_COPIES {
        assert!(text.contains(name), "{text}");
    }
    assert!(text.contains("vote twice"), "{text}");
}
