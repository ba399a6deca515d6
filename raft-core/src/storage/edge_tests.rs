//! What `tests.rs` (golden layouts) and `tests/storage_props.rs` (recovery against a model)
//! leave open: the texts an operator reads when a file or the WAL is refused.

use super::*;
use crate::codec::DecodeError;
use crate::node::LogDamage;
use crate::types::{HardState, NodeId};

/// Every verdict and every reason a WAL record is damaged names what is wrong and where.
#[test]
fn wal_verdicts_and_damage_read_as_what_and_where() {
    let corrupt = |reason| {
        WalVerdict::Corrupt {
            offset: 40,
            record_number: 2,
            reason,
        }
        .to_string()
    };
    assert_eq!(WalVerdict::Clean.to_string(), "clean");
    assert_eq!(
        WalVerdict::TornTail {
            offset: 40,
            dropped_bytes: 7
        }
        .to_string(),
        "torn tail: 7 bytes of an incomplete record at byte 40"
    );
    assert_eq!(
        corrupt(WalCorruption::HeaderChecksum {
            stored: 1,
            computed: 0xabc
        }),
        "corrupt: record #2 at byte 40: header checksum mismatch (stored 0x00000001, computed 0x00000abc)"
    );
    assert_eq!(
        corrupt(WalCorruption::PayloadChecksum {
            stored: 2,
            computed: 3
        }),
        "corrupt: record #2 at byte 40: payload checksum mismatch (stored 0x00000002, computed 0x00000003)"
    );
    assert_eq!(
        corrupt(WalCorruption::Undecodable(DecodeError::EmptyEnvelope)),
        "corrupt: record #2 at byte 40: payload does not decode: envelope: empty input, no tag byte"
    );
    assert_eq!(
        corrupt(WalCorruption::Gap {
            prev_index: 9,
            last_index: 5
        }),
        "corrupt: record #2 at byte 40: prev_index 9 is beyond the last replayed index 5"
    );
    assert_eq!(
        corrupt(WalCorruption::BeforeLogStart {
            prev_index: 3,
            log_start: 6
        }),
        "corrupt: record #2 at byte 40: prev_index 3 is before the log start 6"
    );
    assert_eq!(
        corrupt(WalCorruption::TermMismatch {
            prev_index: 4,
            record_prev_term: 2,
            log_term: 3
        }),
        "corrupt: record #2 at byte 40: prev_term 2 does not match term 3 of the entry at index 4"
    );
    assert_eq!(
        corrupt(WalCorruption::TermRegression {
            prev_term: 5,
            entry_term: 4
        }),
        "corrupt: record #2 at byte 40: entries have term 4, below prev_term 5"
    );
}

/// Every way a term/vote, peer-state, snapshot or damage file is refused names the file and
/// what is wrong; a decode error keeps the codec's error as its source.
#[test]
fn file_errors_read_as_what_and_where() {
    use std::error::Error;
    let bad_length = StorageError::BadLength {
        what: "term/vote file",
        got: 5,
        allowed: "0, 12 or 20",
    };
    assert_eq!(
        bad_length.to_string(),
        "term/vote file: invalid length 5 bytes (allowed: 0, 12 or 20)"
    );
    assert!(bad_length.source().is_none());
    let checksum = StorageError::Checksum {
        what: "peer-state file",
        offset: 18,
        stored: 0x10,
        computed: 0x20,
    };
    assert_eq!(
        checksum.to_string(),
        "peer-state file: checksum mismatch at byte 18: stored 0x00000010, computed 0x00000020"
    );
    let decode = StorageError::Decode {
        what: "snapshot file",
        error: DecodeError::UnknownTag { tag: 99 },
    };
    assert_eq!(
        decode.to_string(),
        "snapshot file: envelope: unknown tag 99 at byte 0"
    );
    assert_eq!(
        decode.source().map(|e| e.to_string()),
        Some("envelope: unknown tag 99 at byte 0".to_string())
    );
    let invalid = StorageError::Invalid {
        what: "snapshot file",
        reason: "lastIndex is 0",
    };
    assert_eq!(invalid.to_string(), "snapshot file: lastIndex is 0");
    assert!(invalid.source().is_none());
}

/// Four bytes are a checksum over an empty body: the file is long enough to check, so what
/// is wrong with it is the checksum or the (empty) peer state, not its length.
#[test]
fn a_peer_state_file_of_only_a_checksum_is_checked_not_refused_for_its_length() {
    assert_eq!(
        decode_peer_state_file(&[1, 2, 3, 4]),
        Err(StorageError::Checksum {
            what: "peer-state file",
            offset: 0,
            stored: 0x0403_0201,
            computed: 0,
        })
    );
    assert_eq!(
        decode_peer_state_file(&[0, 0, 0, 0]),
        Err(StorageError::Decode {
            what: "peer-state file",
            error: DecodeError::TooShort {
                what: "peer state header",
                offset: 0,
                need: 4,
                got: 0,
            },
        })
    );
    assert!(matches!(
        decode_peer_state_file(&[0, 0, 0]),
        Err(StorageError::BadLength { got: 3, .. })
    ));
}

/// Two intact copies naming different votes in one term: the record is lost and neither
/// copy's term or vote is handed to the node (whichever it took, it could vote twice).
#[test]
fn term_vote_copies_naming_two_votes_in_one_term_hand_over_neither() {
    let a = encode_hard_state(&HardState {
        term: 5,
        vote: Some(NodeId(1)),
    });
    let b = encode_hard_state(&HardState {
        term: 5,
        vote: Some(NodeId(2)),
    });
    for copies in [[&a[..], &b[..]], [&b[..], &a[..]]] {
        let r = recover_term_vote(&copies);
        assert_eq!(r.record, VoteRecord::Lost);
        assert_eq!(r.hard_state, HardState::default());
        assert!(r.damaged.is_empty(), "both copies are intact");
    }
}

/// The last term a replayed WAL reports: its last entry's, or the log start's when it holds
/// no entry (a WAL that starts after a snapshot), or 0 for an empty WAL.
#[test]
fn a_replayed_wal_reports_the_term_of_its_last_entry_or_of_its_start() {
    use crate::types::Entry;
    assert_eq!(recover_wal(&[]).last_term(), 0);
    let after_snapshot = encode_wal_append(9, 4, &[], 0).unwrap();
    let r = recover_wal(&after_snapshot);
    assert_eq!((r.last_index(), r.last_term()), (9, 4));
    let entries = [
        Entry::normal(4, 10, &b"a"[..]),
        Entry::normal(6, 11, &b"b"[..]),
    ];
    let r = recover_wal(&encode_wal_append(9, 4, &entries, 0).unwrap());
    assert_eq!(r.verdict, WalVerdict::Clean);
    assert_eq!((r.last_index(), r.last_term()), (11, 6));
}

/// Appends one WAL record storing `entries` after `(prev_index, prev_term)`; returns where
/// it starts.
fn record(
    wal: &mut Vec<u8>,
    prev_index: u64,
    prev_term: u64,
    entries: Vec<crate::types::Entry>,
) -> usize {
    let start = wal.len();
    let term = entries.first().map_or(prev_term, |e| e.term);
    let ae = crate::message::AppendEntries {
        leader: NodeId(1),
        term,
        commit: 0,
        prev_term,
        prev_index,
        entries,
        read_seq: 0,
    };
    append_wal_record(wal, &ae).unwrap();
    start
}

fn entry(term: u64, index: u64, data: &[u8]) -> crate::types::Entry {
    crate::types::Entry::normal(term, index, bytes::Bytes::copy_from_slice(data))
}

/// After damage, an unsynced tail too short to hold a header, right after an intact
/// record, is a torn tail like any other: the intact record still shows where the log ended.
#[test]
fn a_torn_tail_shorter_than_a_header_after_damage_does_not_hide_the_end() {
    let mut wal = Vec::new();
    let first = record(&mut wal, 0, 0, vec![entry(1, 1, b"a")]);
    record(&mut wal, 1, 1, vec![entry(2, 2, b"b")]);
    let mut unsynced = Vec::new();
    record(&mut unsynced, 2, 2, vec![entry(2, 3, b"c")]);
    wal.extend_from_slice(&unsynced[..5]);
    wal[first + WAL_HEADER_LEN] ^= 0x01;
    let r = recover_wal(&wal);
    assert!(matches!(
        r.verdict,
        WalVerdict::Corrupt {
            record_number: 0,
            ..
        }
    ));
    assert_eq!(r.held_through, Some((2, 2)));
}

/// A last record that is intact but does not link to the log before it is damage at the
/// end: where the log ended is unknown, bounded by the terms the WAL shows (the cautious
/// answer; its own end would claim a position the log never had).
#[test]
fn a_last_record_that_does_not_link_leaves_the_end_unknown() {
    let mut wal = Vec::new();
    record(&mut wal, 0, 0, vec![entry(1, 1, b"a")]);
    let gap = record(&mut wal, 9, 3, vec![entry(3, 10, b"z")]);
    let r = recover_wal(&wal);
    assert_eq!(
        r.verdict,
        WalVerdict::Corrupt {
            offset: gap,
            record_number: 1,
            reason: WalCorruption::Gap {
                prev_index: 9,
                last_index: 1
            },
        }
    );
    assert_eq!(r.held_through, None);
    assert_eq!(r.damage(1), Some(LogDamage::Unknown { term_bound: 3 }));
}

/// The scan for intact records after damage looks past anything inside the damaged bytes,
/// even what reads as the header of a record running past the end of the file (here: an
/// entry whose data holds such a header). Only right after an intact record is that a torn
/// tail.
#[test]
fn a_header_inside_damaged_bytes_does_not_end_the_scan_for_intact_records() {
    let len = 0x00ff_ffffu32.to_le_bytes();
    let mut fake_header = len.to_vec();
    fake_header.extend_from_slice(&crc32c::crc32c(&len).to_le_bytes());
    fake_header.extend_from_slice(&[0; 4]);
    let mut wal = Vec::new();
    record(&mut wal, 0, 0, vec![entry(1, 1, b"a")]);
    let damaged = record(&mut wal, 1, 1, vec![entry(1, 2, &fake_header)]);
    record(&mut wal, 2, 1, vec![entry(2, 3, b"c")]);
    wal[damaged + 8] ^= 0x01; // the payload checksum
    let r = recover_wal(&wal);
    assert!(matches!(
        r.verdict,
        WalVerdict::Corrupt {
            record_number: 1,
            reason: WalCorruption::PayloadChecksum { .. },
            ..
        }
    ));
    assert_eq!(r.held_through, Some((3, 2)));
}

/// After damage, an intact record followed by bytes that are not a record (no valid header,
/// whatever length they claim) is not a torn tail: the WAL was damaged after the record too,
/// so where the log ended is unknown. Likewise a complete last record with a damaged payload.
/// (Not 0xff: CRC-32C of four 0xff bytes is 0xffffffff, so `ff ff ff ff ff ff ff ff` is a
/// good header of a record longer than the file, a torn tail.)
#[test]
fn damage_after_the_last_intact_record_leaves_the_end_unknown() {
    let wal_with = |tail: &dyn Fn(&mut Vec<u8>)| {
        let mut wal = Vec::new();
        let first = record(&mut wal, 0, 0, vec![entry(1, 1, b"a")]);
        record(&mut wal, 1, 1, vec![entry(2, 2, b"b")]);
        tail(&mut wal);
        wal[first + WAL_HEADER_LEN] ^= 0x01;
        recover_wal(&wal)
    };
    let zeroes = wal_with(&|wal| wal.extend_from_slice(&[0; WAL_HEADER_LEN]));
    assert_eq!(zeroes.held_through, None, "a zero-filled header after it");
    let garbage = wal_with(&|wal| wal.extend_from_slice(&[0xee; 16]));
    assert_eq!(
        garbage.held_through, None,
        "a bad header claiming more than is left"
    );
    let damaged_last = wal_with(&|wal| {
        let last = record(wal, 2, 2, vec![entry(2, 3, b"c")]);
        wal[last + WAL_HEADER_LEN] ^= 0x01;
    });
    assert_eq!(damaged_last.held_through, None, "a damaged last record");
    let intact_last = wal_with(&|wal| {
        record(wal, 2, 2, vec![entry(2, 3, b"c")]);
    });
    assert_eq!(intact_last.held_through, Some((3, 2)));
}

/// Exactly a header's worth of zeroes after the last record is a header that does not
/// check, damage, not a torn tail (a torn tail is shorter than a header, or a good header
/// whose payload runs past the end).
#[test]
fn a_zeroed_header_at_the_end_of_a_clean_wal_is_damage() {
    let mut wal = Vec::new();
    record(&mut wal, 0, 0, vec![entry(1, 1, b"a")]);
    let end = wal.len();
    wal.extend_from_slice(&[0; WAL_HEADER_LEN]);
    assert!(matches!(
        recover_wal(&wal).verdict,
        WalVerdict::Corrupt {
            offset,
            reason: WalCorruption::HeaderChecksum { .. },
            ..
        } if offset == end
    ));
}
