//! Golden bytes pin every file layout; `tests/storage_props.rs` adds round trips and recovery
//! against a model of the log.

use super::*;
use crate::codec::{self, DecodeError, EncodeError};
use crate::message::AppendEntries;
use crate::node::LogDamage;
use crate::types::{Entry, HardState, NodeId, PeerState, SnapshotMeta};
use bytes::Bytes;

fn ae(prev_index: u64, prev_term: u64, term: u64, datas: &[&'static [u8]]) -> AppendEntries {
    AppendEntries {
        leader: NodeId(1),
        term,
        commit: 0,
        prev_term,
        prev_index,
        entries: datas
            .iter()
            .enumerate()
            .map(|(i, d)| Entry::normal(term, prev_index + 1 + i as u64, Bytes::from_static(d)))
            .collect(),
        read_seq: 0,
    }
}

#[test]
fn crc_is_castagnoli() {
    assert_eq!(crc32c::crc32c(b"123456789"), 0xE306_9283);
}

#[test]
fn wal_record_golden() {
    let m = ae(0, 0, 1, &[b"a"]);
    let rec = encode_wal_record(&m).unwrap();
    // Checksums cross-checked with an independent bitwise CRC-32C (poly 0x82F63B78).
    let golden: Vec<u8> = [
        &49u32.to_le_bytes()[..],          // len
        &0xAB63_44C9u32.to_le_bytes()[..], // crc32c([49, 0, 0, 0])
        &0x519B_1F35u32.to_le_bytes()[..], // crc32c(payload)
        &[1, 0, 0, 0, 0, 0, 0, 0][..],     // payload: leader
        &[1, 0, 0, 0, 0, 0, 0, 0][..],     // term
        &[0; 24][..],                      // commit, pterm, pindex
        &[1, 0][..],                       // count
        &[2, 0, 0, 0, 0, b'a'][..],        // entry
        &[0][..],                          // lterm
    ]
    .concat();
    assert_eq!(rec, golden);
    assert_eq!(&rec[12..], &codec::encode_append_entries(&m).unwrap()[..]);

    let r = recover_wal(&rec);
    assert_eq!(r.verdict, WalVerdict::Clean);
    assert_eq!(r.entries, m.entries);
    assert_eq!(
        (r.valid_len, r.records, r.log_start),
        (rec.len(), 1, (0, 0))
    );
    assert_eq!((r.last_index(), r.last_term()), (1, 1));
}

#[test]
fn wal_truncation_by_lower_prev_index() {
    let mut wal = Vec::new();
    append_wal_record(&mut wal, &ae(0, 0, 1, &[b"a", b"b", b"c"])).unwrap();
    append_wal_record(&mut wal, &ae(1, 1, 2, &[b"x"])).unwrap();
    let r = recover_wal(&wal);
    assert_eq!(r.verdict, WalVerdict::Clean);
    let got: Vec<(u64, u64)> = r.entries.iter().map(|e| (e.index, e.term)).collect();
    assert_eq!(got, vec![(1, 1), (2, 2)]);
    assert_eq!(&r.entries[1].data[..], b"x");
    // A pure truncation record.
    append_wal_record(&mut wal, &ae(1, 1, 2, &[])).unwrap();
    let r = recover_wal(&wal);
    assert_eq!(r.verdict, WalVerdict::Clean);
    assert_eq!(r.entries.len(), 1);
    assert_eq!(r.records, 3);
}

#[test]
fn wal_append_splits_terms() {
    let entries = vec![
        Entry::normal(1, 4, &b"a"[..]),
        Entry::normal(1, 5, &b"b"[..]),
        Entry::normal(3, 6, &b"c"[..]),
    ];
    let wal = encode_wal_append(3, 1, &entries, 9).unwrap();
    let r = recover_wal(&wal);
    assert_eq!(r.verdict, WalVerdict::Clean);
    assert_eq!(r.records, 2);
    assert_eq!(r.log_start, (3, 1));
    assert_eq!(r.entries, entries);
    // Empty: one truncation-only record.
    let wal = encode_wal_append(3, 1, &[], 0).unwrap();
    let r = recover_wal(&wal);
    assert_eq!((r.records, r.log_start, r.entries.len()), (1, (3, 1), 0));
    // Non-consecutive entries are a caller error.
    let bad = vec![Entry::normal(1, 4, &b""[..]), Entry::normal(1, 6, &b""[..])];
    assert!(matches!(
        encode_wal_append(3, 1, &bad, 0),
        Err(EncodeError::NonConsecutiveIndex { .. })
    ));
}

#[test]
fn wal_torn_tails() {
    let mut wal = Vec::new();
    append_wal_record(&mut wal, &ae(0, 0, 1, &[b"a"])).unwrap();
    let first = wal.len();
    append_wal_record(&mut wal, &ae(1, 1, 1, &[b"bb"])).unwrap();
    // Header incomplete.
    let r = recover_wal(&wal[..first + 5]);
    assert_eq!(
        r.verdict,
        WalVerdict::TornTail {
            offset: first,
            dropped_bytes: 5
        }
    );
    assert_eq!((r.valid_len, r.entries.len()), (first, 1));
    // Header complete, payload short.
    let r = recover_wal(&wal[..wal.len() - 1]);
    assert_eq!(
        r.verdict,
        WalVerdict::TornTail {
            offset: first,
            dropped_bytes: wal.len() - 1 - first
        }
    );
    assert_eq!(r.entries.len(), 1);
    // Empty image.
    let r = recover_wal(&[]);
    assert_eq!(
        (r.verdict, r.valid_len, r.log_start),
        (WalVerdict::Clean, 0, (0, 0))
    );
}

#[test]
fn wal_corruptions() {
    let mut wal = Vec::new();
    append_wal_record(&mut wal, &ae(0, 0, 1, &[b"a"])).unwrap();
    let first = wal.len();
    append_wal_record(&mut wal, &ae(1, 1, 1, &[b"bb"])).unwrap();

    // A flipped high bit in the length must not look like a torn tail.
    let mut b = wal.clone();
    b[first + 3] ^= 0x80;
    let r = recover_wal(&b);
    assert!(matches!(
        r.verdict,
        WalVerdict::Corrupt { offset, record_number: 1, reason: WalCorruption::HeaderChecksum { .. } } if offset == first
    ));
    assert_eq!((r.entries.len(), r.valid_len), (1, first));

    // Payload bit flip.
    let mut b = wal.clone();
    *b.last_mut().unwrap() ^= 1;
    assert!(matches!(
        recover_wal(&b).verdict,
        WalVerdict::Corrupt {
            record_number: 1,
            reason: WalCorruption::PayloadChecksum { .. },
            ..
        }
    ));

    // Payload crc field flip.
    let mut b = wal.clone();
    b[8] ^= 4;
    let r = recover_wal(&b);
    assert!(matches!(
        r.verdict,
        WalVerdict::Corrupt {
            offset: 0,
            record_number: 0,
            reason: WalCorruption::PayloadChecksum { .. }
        }
    ));
    assert!(r.entries.is_empty());

    // Checksummed but undecodable payload.
    let payload = [0u8; 10];
    let mut b = Vec::new();
    b.extend_from_slice(&10u32.to_le_bytes());
    b.extend_from_slice(&crc32c::crc32c(&10u32.to_le_bytes()).to_le_bytes());
    b.extend_from_slice(&crc32c::crc32c(&payload).to_le_bytes());
    b.extend_from_slice(&payload);
    assert!(matches!(
        recover_wal(&b).verdict,
        WalVerdict::Corrupt {
            reason: WalCorruption::Undecodable(DecodeError::TooShort { .. }),
            ..
        }
    ));

    // Records that do not link.
    let link = |second: AppendEntries| {
        let mut b = encode_wal_record(&ae(5, 2, 2, &[b"a", b"b"])).unwrap();
        append_wal_record(&mut b, &second).unwrap();
        recover_wal(&b)
    };
    let r = link(ae(8, 2, 2, &[b"c"]));
    assert!(matches!(
        r.verdict,
        WalVerdict::Corrupt {
            record_number: 1,
            reason: WalCorruption::Gap {
                prev_index: 8,
                last_index: 7
            },
            ..
        }
    ));
    assert_eq!(r.log_start, (5, 2));
    assert_eq!(r.entries.len(), 2);
    let r = link(ae(4, 2, 2, &[b"c"]));
    assert!(matches!(
        r.verdict,
        WalVerdict::Corrupt {
            reason: WalCorruption::BeforeLogStart {
                prev_index: 4,
                log_start: 5
            },
            ..
        }
    ));
    let r = link(ae(6, 1, 2, &[b"c"]));
    assert!(matches!(
        r.verdict,
        WalVerdict::Corrupt {
            reason: WalCorruption::TermMismatch {
                prev_index: 6,
                record_prev_term: 1,
                log_term: 2
            },
            ..
        }
    ));
    let r = link(ae(5, 3, 3, &[b"c"]));
    assert!(matches!(
        r.verdict,
        WalVerdict::Corrupt {
            reason: WalCorruption::TermMismatch {
                prev_index: 5,
                record_prev_term: 3,
                log_term: 2
            },
            ..
        }
    ));
    let mut regress = ae(7, 2, 2, &[b"c"]);
    regress.entries[0].term = 1;
    regress.term = 1;
    assert_eq!(
        encode_wal_record(&regress),
        Err(EncodeError::TermBelowPrevTerm {
            entry_term: 1,
            prev_term: 2
        })
    );
    // Written by hand (bypassing the encoder's check), recovery rejects it.
    let r = {
        let mut b = encode_wal_record(&ae(5, 2, 2, &[b"a", b"b"])).unwrap();
        let payload = codec::encode_append_entries(&regress).unwrap();
        let len = (payload.len() as u32).to_le_bytes();
        b.extend_from_slice(&len);
        b.extend_from_slice(&crc32c::crc32c(&len).to_le_bytes());
        b.extend_from_slice(&crc32c::crc32c(&payload).to_le_bytes());
        b.extend_from_slice(&payload);
        recover_wal(&b)
    };
    assert!(matches!(
        r.verdict,
        WalVerdict::Corrupt {
            reason: WalCorruption::TermRegression {
                prev_term: 2,
                entry_term: 1
            },
            ..
        }
    ));
    let r = link(ae(5, 2, 3, &[b"c"]));
    assert_eq!(r.verdict, WalVerdict::Clean);
    assert_eq!(r.entries.len(), 1);
    // Index 0 has term 0.
    let r = recover_wal(&encode_wal_record(&ae(0, 1, 1, &[b"a"])).unwrap());
    assert!(matches!(
        r.verdict,
        WalVerdict::Corrupt {
            record_number: 0,
            reason: WalCorruption::TermMismatch { prev_index: 0, .. },
            ..
        }
    ));
}

#[test]
fn hard_state_golden() {
    let none = HardState {
        term: 5,
        vote: None,
    };
    let bytes = encode_hard_state(&none);
    assert_eq!(bytes.len(), 12);
    assert_eq!(&bytes[..8], &5u64.to_le_bytes());
    assert_eq!(
        &bytes[8..],
        &crc32c::crc32c(&5u64.to_le_bytes()).to_le_bytes()
    );
    assert_eq!(decode_hard_state(&bytes).unwrap(), none);

    let voted = HardState {
        term: 7,
        vote: Some(NodeId(0x0102)),
    };
    let bytes = encode_hard_state(&voted);
    assert_eq!(bytes.len(), 20);
    assert_eq!(
        &bytes[..16],
        &[7, 0, 0, 0, 0, 0, 0, 0, 2, 1, 0, 0, 0, 0, 0, 0]
    );
    assert_eq!(&bytes[16..], &crc32c::crc32c(&bytes[..16]).to_le_bytes());
    assert_eq!(decode_hard_state(&bytes).unwrap(), voted);

    assert_eq!(decode_hard_state(&[]).unwrap(), HardState::default());
    assert_eq!(
        decode_hard_state(&bytes[..16]),
        Err(StorageError::BadLength {
            what: "term/vote file",
            got: 16,
            allowed: "0, 12 or 20"
        })
    );
    let mut bad = bytes.clone();
    bad[0] ^= 1;
    assert!(matches!(
        decode_hard_state(&bad),
        Err(StorageError::Checksum { offset: 16, .. })
    ));
}

fn hs(term: u64, vote: Option<u64>) -> HardState {
    HardState {
        term,
        vote: vote.map(NodeId),
    }
}

#[test]
fn term_vote_copies_fall_back_on_the_intact_one() {
    let record = encode_hard_state(&hs(7, Some(2)));
    let mut damaged = record.clone();
    damaged[3] ^= 0x10;
    for copies in [[&damaged[..], &record[..]], [&record[..], &damaged[..]]] {
        let r = recover_term_vote(&copies);
        assert_eq!(r.hard_state, hs(7, Some(2)));
        assert_eq!(r.record, VoteRecord::CopyDamaged);
        assert_eq!(r.damaged.len(), 1);
        assert!(matches!(r.damaged[0].1, StorageError::Checksum { .. }));
    }
    let intact = recover_term_vote(&[&record, &record]);
    assert_eq!(
        (intact.hard_state, intact.record),
        (hs(7, Some(2)), VoteRecord::Intact)
    );
}

#[test]
fn term_vote_copies_all_damaged_is_a_lost_record() {
    let mut damaged = encode_hard_state(&hs(7, Some(2)));
    damaged[0] ^= 1;
    let r = recover_term_vote(&[&damaged, &damaged]);
    assert_eq!(r.record, VoteRecord::Lost);
    assert_eq!(r.hard_state, HardState::default());
    assert_eq!(r.damaged.len(), 2);
    // A damaged copy beside one never written: the record is still lost, not "never voted".
    let r = recover_term_vote(&[&damaged, &[]]);
    assert_eq!(r.record, VoteRecord::Lost);
}

#[test]
fn term_vote_copies_never_written_or_written_by_an_older_host() {
    let none = recover_term_vote(&[&[], &[]]);
    assert_eq!(
        (none.hard_state, none.record),
        (HardState::default(), VoteRecord::Intact)
    );
    let record = encode_hard_state(&hs(4, None));
    let older = recover_term_vote(&[&record, &[]]);
    assert_eq!(
        (older.hard_state, older.record),
        (hs(4, None), VoteRecord::Intact)
    );
}

#[test]
fn term_vote_copies_a_persist_apart_recover_the_newer() {
    // A crash between replacing the first copy and the second.
    let old = encode_hard_state(&hs(4, Some(1)));
    let term = encode_hard_state(&hs(5, None));
    let voted = encode_hard_state(&hs(5, Some(3)));
    assert_eq!(recover_term_vote(&[&term, &old]).hard_state, hs(5, None));
    assert_eq!(
        recover_term_vote(&[&voted, &term]).hard_state,
        hs(5, Some(3))
    );
    assert_eq!(
        recover_term_vote(&[&term, &voted]).hard_state,
        hs(5, Some(3))
    );
}

#[test]
fn term_vote_copies_naming_two_votes_in_one_term_are_a_lost_record() {
    let a = encode_hard_state(&hs(5, Some(1)));
    let b = encode_hard_state(&hs(5, Some(2)));
    assert_eq!(recover_term_vote(&[&a, &b]).record, VoteRecord::Lost);
}

#[test]
fn peer_state_file_golden() {
    let ps = PeerState {
        cluster_size: 3,
        peers: vec![NodeId(1), NodeId(2), NodeId(3)],
        domain_ext: 0,
        observers: vec![NodeId(4)],
    };
    let bytes = encode_peer_state_file(&ps);
    let body = codec::encode_peer_state(&ps);
    assert_eq!(bytes.len(), body.len() + 4);
    assert_eq!(&bytes[..body.len()], &body[..]);
    assert_eq!(&bytes[body.len()..], &crc32c::crc32c(&body).to_le_bytes());
    assert_eq!(decode_peer_state_file(&bytes).unwrap(), Some(ps));
    assert_eq!(decode_peer_state_file(&[]).unwrap(), None);
    assert!(matches!(
        decode_peer_state_file(&[1, 2]),
        Err(StorageError::BadLength { got: 2, .. })
    ));
    let mut bad = bytes.clone();
    bad[9] ^= 0x10;
    assert!(matches!(
        decode_peer_state_file(&bad),
        Err(StorageError::Checksum { .. })
    ));
    // Checksum ok but body invalid.
    let junk = [1u8, 0, 0, 0, 9, 0, 0, 0];
    let mut b = junk.to_vec();
    b.extend_from_slice(&crc32c::crc32c(&junk).to_le_bytes());
    let err = decode_peer_state_file(&b).unwrap_err();
    assert!(matches!(
        err,
        StorageError::Decode {
            what: "peer-state file",
            ..
        }
    ));
    assert!(std::error::Error::source(&err).is_some());
}

#[test]
fn snapshot_file_golden() {
    let meta = SnapshotMeta {
        index: 7,
        term: 2,
        peers: PeerState {
            cluster_size: 1,
            peers: vec![NodeId(1)],
            domain_ext: 0,
            observers: vec![],
        },
    };
    let bytes = encode_snapshot_file(&meta, b"kv");
    let body: Vec<u8> = [
        &2u64.to_le_bytes()[..],             // lastTerm
        &7u64.to_le_bytes()[..],             // lastIndex
        &18u32.to_le_bytes()[..],            // peerstateLen
        &[1, 0, 0, 0, 1, 0, 0, 0][..],       // peer state: csz 1, one peer
        &[1, 0, 0, 0, 0, 0, 0, 0, 0, 0][..], // n1, domainExt 0
        &b"kv"[..],                          // data
    ]
    .concat();
    // Checksum computed with an independent bitwise CRC-32C (poly 0x82F63B78).
    let golden = [&body[..], &0x29F3_FD2Cu32.to_le_bytes()[..]].concat();
    assert_eq!(bytes, golden);
    assert_eq!(&bytes[body.len()..], &crc32c::crc32c(&body).to_le_bytes());
    let snapshot = decode_snapshot_file(&bytes).unwrap();
    assert_eq!(snapshot.meta, meta);
    assert_eq!(&snapshot.data[..], b"kv");
    assert_eq!(snapshot_file_name(&meta), "snap.2.7");

    // Empty data and an empty peer state: the 24-byte minimum (NRG's is 28).
    let bare = SnapshotMeta {
        index: 1,
        term: 1,
        peers: PeerState::default(),
    };
    let small = encode_snapshot_file(&bare, b"");
    assert_eq!(small.len(), MIN_SNAPSHOT_FILE_LEN + 10);
    assert_eq!(decode_snapshot_file(&small).unwrap().meta, bare);
}

#[test]
fn snapshot_file_errors() {
    let meta = SnapshotMeta {
        index: 7,
        term: 2,
        peers: PeerState::default(),
    };
    assert!(matches!(
        decode_snapshot_file(&[]),
        Err(StorageError::BadLength { got: 0, .. })
    ));
    let mut bad = encode_snapshot_file(&meta, b"data");
    bad[30] ^= 0x01;
    assert!(matches!(
        decode_snapshot_file(&bad),
        Err(StorageError::Checksum { offset: 34, .. })
    ));
    // Checksum fine, but lastIndex 0 (NRG deletes such files).
    let zero = encode_snapshot_file(
        &SnapshotMeta {
            index: 0,
            ..meta.clone()
        },
        b"",
    );
    let err = decode_snapshot_file(&zero).unwrap_err();
    assert_eq!(
        err,
        StorageError::Invalid {
            what: "snapshot file",
            reason: "lastIndex is 0"
        }
    );
    assert_eq!(err.to_string(), "snapshot file: lastIndex is 0");
    // Checksum fine, but the peer-state length runs past the end.
    let mut body = [2u64.to_le_bytes(), 7u64.to_le_bytes()].concat();
    body.extend_from_slice(&1000u32.to_le_bytes());
    body.extend_from_slice(&crc32c::crc32c(&body).to_le_bytes());
    assert!(matches!(
        decode_snapshot_file(&body),
        Err(StorageError::Decode {
            what: "snapshot file",
            error: DecodeError::TooShort {
                need: 1000,
                got: 0,
                ..
            }
        })
    ));
}

/// Four records: `a` (1@1), `bb` (2@1), `c d` (3..4@2), `e` (5@3).
fn four_records() -> (Vec<u8>, Vec<usize>) {
    let mut wal = Vec::new();
    let mut starts = Vec::new();
    for record in [
        ae(0, 0, 1, &[b"a"]),
        ae(1, 1, 1, &[b"bb"]),
        ae(2, 1, 2, &[b"c", b"d"]),
        ae(4, 2, 3, &[b"e"]),
    ] {
        starts.push(wal.len());
        append_wal_record(&mut wal, &record).unwrap();
    }
    (wal, starts)
}

#[test]
fn damage_in_a_payload_keeps_the_end_of_the_log_from_the_records_after_it() {
    let (mut wal, starts) = four_records();
    wal[starts[1] + WAL_HEADER_LEN + 3] ^= 0x10;
    let r = recover_wal(&wal);
    assert!(matches!(
        r.verdict,
        WalVerdict::Corrupt {
            record_number: 1,
            ..
        }
    ));
    assert_eq!(r.entries.len(), 1, "the intact prefix");
    assert_eq!(r.held_through, Some((5, 3)));
    assert_eq!(
        r.damage(3),
        Some(LogDamage::HeldThrough { index: 5, term: 3 })
    );
}

#[test]
fn damage_to_a_length_is_skipped_by_finding_the_next_intact_record() {
    let (mut wal, starts) = four_records();
    wal[starts[2]] ^= 0x01;
    let r = recover_wal(&wal);
    assert!(matches!(
        r.verdict,
        WalVerdict::Corrupt {
            record_number: 2,
            reason: WalCorruption::HeaderChecksum { .. },
            ..
        }
    ));
    assert_eq!(r.held_through, Some((5, 3)));
}

#[test]
fn a_zeroed_sector_over_several_records_keeps_the_end_from_the_last_one() {
    let (mut wal, starts) = four_records();
    wal[starts[1]..starts[3]].fill(0);
    assert_eq!(recover_wal(&wal).held_through, Some((5, 3)));
}

#[test]
fn damage_to_the_last_record_leaves_the_end_unknown_bounded_by_the_terms_known() {
    let (mut wal, starts) = four_records();
    wal[starts[3] + WAL_HEADER_LEN] ^= 0x01;
    let r = recover_wal(&wal);
    assert!(matches!(
        r.verdict,
        WalVerdict::Corrupt {
            record_number: 3,
            ..
        }
    ));
    assert_eq!(r.held_through, None);
    assert_eq!(r.damage(4), Some(LogDamage::Unknown { term_bound: 4 }));
    assert_eq!(r.damage(1), Some(LogDamage::Unknown { term_bound: 2 }));
}

#[test]
fn a_torn_tail_after_the_last_intact_record_does_not_hide_the_end() {
    let (mut wal, starts) = four_records();
    let mut torn = Vec::new();
    append_wal_record(&mut torn, &ae(5, 3, 3, &[b"unsynced"])).unwrap();
    wal.extend_from_slice(&torn[..torn.len() - 3]);
    wal[starts[0] + WAL_HEADER_LEN] ^= 0x01;
    let r = recover_wal(&wal);
    assert!(matches!(
        r.verdict,
        WalVerdict::Corrupt {
            record_number: 0,
            ..
        }
    ));
    assert_eq!(r.held_through, Some((5, 3)));
}

#[test]
fn a_zero_filled_tail_is_damage_with_an_unknown_end_not_a_torn_tail() {
    let (mut wal, _) = four_records();
    let end = wal.len();
    wal.extend_from_slice(&[0; 64]);
    let r = recover_wal(&wal);
    assert!(matches!(r.verdict, WalVerdict::Corrupt { offset, .. } if offset == end));
    assert_eq!(r.entries.len(), 5);
    assert_eq!(r.damage(3), Some(LogDamage::Unknown { term_bound: 3 }));
}

#[test]
fn usable_wals_report_no_damage() {
    let (wal, _) = four_records();
    assert_eq!(recover_wal(&wal).damage(9), None);
    assert_eq!(recover_wal(&wal[..wal.len() - 2]).damage(9), None);
}

#[test]
fn the_end_answered_for_is_the_most_up_to_date_any_intact_record_held() {
    // A repairing node wrote a record behind the log it answered for (a leader of a later
    // term sent entries of an older term over its lost tail); a later crash must not lower
    // what it answers for.
    let (mut wal, starts) = four_records();
    append_wal_record(&mut wal, &ae(2, 1, 2, &[b"x"])).unwrap();
    wal[starts[1] + WAL_HEADER_LEN + 1] ^= 0x01;
    let r = recover_wal(&wal);
    assert_eq!(r.held_through, Some((5, 3)));
    assert_eq!(r.highest_term, 3);
}

/// What a full scan of an image answers for `from..=to`: the latest in-range copy of each
/// index among the intact records, as far as they run from `from` without a gap.
fn full_scan_read(wal: &[u8], from: u64, to: u64) -> Vec<Entry> {
    let mut latest = std::collections::BTreeMap::new();
    for entry in intact_wal_records(wal).into_iter().flat_map(|r| r.entries) {
        if (from..=to).contains(&entry.index) {
            latest.insert(entry.index, entry);
        }
    }
    let mut run = Vec::new();
    let mut next = from;
    while let Some(e) = latest.remove(&next) {
        run.push(e);
        next += 1;
    }
    run
}

/// The index, caught up as the image grows byte run by byte run (records appended whole,
/// torn halves, damage before and inside the tail), answers every read as a full scan does.
#[test]
fn a_wal_index_caught_up_as_the_image_grows_reads_as_a_full_scan() {
    let record = |prev: u64, term: u64, n: u64| {
        let entries: Vec<Entry> = (prev + 1..=prev + n)
            .map(|i| Entry::normal(term, i, format!("t{term}i{i}")))
            .collect();
        encode_wal_append(prev, 1, &entries, 0).unwrap()
    };
    let mut parts: Vec<Vec<u8>> = vec![record(0, 1, 4), record(4, 1, 3)];
    let mut damaged = record(7, 1, 2);
    damaged[20] ^= 0x10;
    parts.push(damaged);
    parts.push(record(2, 2, 6));
    // A record arriving in two halves: its first half is an image ending too soon.
    let split = record(8, 2, 3);
    let (a, b) = split.split_at(split.len() / 2);
    parts.push(a.to_vec());
    parts.push(b.to_vec());
    // A lone header fragment (too short to judge), then a record.
    parts.push(vec![0x05, 0, 0]);
    parts.push(record(11, 3, 2));
    let mut image = Vec::new();
    let mut index = WalIndex::default();
    for part in parts {
        image.extend_from_slice(&part);
        index.catch_up(&image);
        for (from, to) in [(1, 20), (3, 5), (5, 9), (8, 8), (9, 13), (12, 30), (14, 20)] {
            assert_eq!(
                index.entries(&image, from, to),
                full_scan_read(&image, from, to),
                "{from}..={to} after {} bytes",
                image.len()
            );
        }
        let mut fresh = WalIndex::default();
        fresh.catch_up(&image);
        assert_eq!(fresh.entries(&image, 1, 20), index.entries(&image, 1, 20));
    }
    assert_eq!(
        index.entries(&image, 1, 20).len(),
        13,
        "indexes 1..=13 run without a gap"
    );
    assert_eq!(
        index.entries(&image, 3, 5)[0].term,
        2,
        "the rewrite of index 3 wins"
    );
}

/// A record cut short by the image's end may, once completed, swallow records the scan
/// found inside its first half (here a record carried as an entry's payload): the index
/// forgets them as a full scan does.
#[test]
fn a_wal_index_forgets_records_a_completed_record_swallows() {
    let inner = encode_wal_append(20, 1, &[Entry::normal(5, 21, "inner")], 0).unwrap();
    let outer_entries = [
        Entry::normal(2, 3, bytes::Bytes::from(inner.clone())),
        Entry::normal(2, 4, "tail"),
    ];
    let outer = encode_wal_append(2, 1, &outer_entries, 0).unwrap();
    let mut image = encode_wal_append(
        0,
        1,
        &[Entry::normal(1, 1, "a"), Entry::normal(1, 2, "b")],
        0,
    )
    .unwrap();
    let inner_at = outer
        .windows(inner.len())
        .position(|w| w == inner.as_slice())
        .unwrap();
    let (first, rest) = outer.split_at(inner_at + inner.len());
    let mut index = WalIndex::default();
    image.extend_from_slice(first);
    index.catch_up(&image);
    assert_eq!(
        index.entries(&image, 21, 21),
        full_scan_read(&image, 21, 21)
    );
    assert_eq!(
        index.entries(&image, 21, 21).len(),
        1,
        "the inner record is intact"
    );
    image.extend_from_slice(rest);
    index.catch_up(&image);
    for (from, to) in [(1, 4), (3, 3), (21, 21)] {
        assert_eq!(
            index.entries(&image, from, to),
            full_scan_read(&image, from, to)
        );
    }
    assert!(
        index.entries(&image, 21, 21).is_empty(),
        "swallowed by the outer record"
    );
}
