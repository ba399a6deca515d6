//! What `tests.rs` (golden layouts) and `tests/storage_props.rs` (recovery against a model)
//! leave open: the texts an operator reads when a file or the WAL is refused.

use super::*;
use crate::codec::DecodeError;
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
