//! The membership-bound file (`members.idx`): an index at or above every log entry that ever
//! changed the node's membership, made durable *before* the WAL bytes of such an entry.
//!
//! Why it exists: a node whose WAL was damaged knows the position of the log it held, but
//! not what the damaged records held. If they held a membership change, the membership its
//! intact log implies is not the one it was in, and an election or a nack quorum counted in
//! it may miss every voter of a quorum that decided without it (two single-server changes
//! apart, majorities need not meet). With this bound the node can tell: when no entry past
//! the end of its intact log changed the membership, its intact log's membership is that of
//! the log it held, and Raft's own arguments apply
//! ([`crate::Config::repair_by_election`]). The peer-state file is not enough: it is written
//! after the WAL, so a crash between the two leaves a durable membership entry it does not
//! name.
//!
//! The bound only rises (a truncation leaves it where it was): too high costs liveness in
//! the rare case it decides (the node waits for a leader instead of campaigning to repair),
//! never safety. Layout: `index u64 · crc32c u32` (12 bytes). An empty file was never
//! written: no entry ever changed the membership.

use super::{append_trailing_crc, check_trailing_crc, StorageError};

const WHAT: &str = "membership-bound file";
const LEN: usize = 12;

/// Encodes the membership-bound file.
pub fn encode_membership_bound_file(index: u64) -> Vec<u8> {
    let mut out = Vec::with_capacity(LEN);
    out.extend_from_slice(&index.to_le_bytes());
    append_trailing_crc(&mut out);
    out
}

/// Decodes the membership-bound file: 0 when empty (no entry ever changed the membership).
pub fn decode_membership_bound_file(buf: &[u8]) -> Result<u64, StorageError> {
    if buf.is_empty() {
        return Ok(0);
    }
    if buf.len() != LEN {
        return Err(StorageError::BadLength {
            what: WHAT,
            got: buf.len(),
            allowed: "0 or 12",
        });
    }
    let body = check_trailing_crc(WHAT, buf)?;
    let mut word = [0u8; 8];
    word.copy_from_slice(&body[..8]);
    Ok(u64::from_le_bytes(word))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn membership_bound_file_round_trips_and_refuses_damage() {
        assert_eq!(decode_membership_bound_file(&[]), Ok(0));
        for index in [0, 1, 7, u64::MAX] {
            let bytes = encode_membership_bound_file(index);
            assert_eq!(bytes.len(), LEN);
            assert_eq!(decode_membership_bound_file(&bytes), Ok(index));
            for at in 0..LEN {
                let mut bad = bytes.clone();
                bad[at] ^= 0x10;
                assert!(decode_membership_bound_file(&bad).is_err(), "byte {at}");
            }
        }
        let short = &encode_membership_bound_file(3)[..LEN - 1];
        assert_eq!(
            decode_membership_bound_file(short),
            Err(StorageError::BadLength {
                what: WHAT,
                got: LEN - 1,
                allowed: "0 or 12",
            })
        );
    }

    proptest! {
        #[test]
        fn membership_bound_decoder_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..32)) {
            let _ = decode_membership_bound_file(&bytes);
        }
    }
}
