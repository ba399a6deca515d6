//! The damage file (`repair.idx`): what a node whose synced data was damaged answers for,
//! written before the node acts on the log that survived and removed once it is repaired.
//!
//! Recovery finds the position again in the damaged WAL as long as its records are there,
//! but a repairing node may lose them before it is repaired: a snapshot from the leader
//! resets the WAL. Without this file a crash then would let it answer for less than it
//! held. Layout: `kind u8 (1 held through, 2 unknown end) · a u64 · b u64 · crc32c u32`
//! (21 bytes): index and term, or the term bound and 0. An empty file means no damage.

use super::{append_trailing_crc, check_trailing_crc, StorageError};
use crate::node::LogDamage;

const WHAT: &str = "damage file";
const LEN: usize = 21;

/// Encodes the damage file.
pub fn encode_damage_file(damage: &LogDamage) -> Vec<u8> {
    let (kind, a, b) = match *damage {
        LogDamage::HeldThrough { index, term } => (1u8, index, term),
        LogDamage::Unknown { term_bound } => (2u8, term_bound, 0),
    };
    let mut out = Vec::with_capacity(LEN);
    out.push(kind);
    out.extend_from_slice(&a.to_le_bytes());
    out.extend_from_slice(&b.to_le_bytes());
    append_trailing_crc(&mut out);
    out
}

/// Decodes the damage file: `Ok(None)` when empty (no damage to answer for).
pub fn decode_damage_file(buf: &[u8]) -> Result<Option<LogDamage>, StorageError> {
    if buf.is_empty() {
        return Ok(None);
    }
    if buf.len() != LEN {
        return Err(StorageError::BadLength {
            what: WHAT,
            got: buf.len(),
            allowed: "0 or 21",
        });
    }
    let body = check_trailing_crc(WHAT, buf)?;
    let word = |at: usize| {
        let mut w = [0u8; 8];
        w.copy_from_slice(&body[at..at + 8]);
        u64::from_le_bytes(w)
    };
    match body[0] {
        1 => Ok(Some(LogDamage::HeldThrough {
            index: word(1),
            term: word(9),
        })),
        2 => Ok(Some(LogDamage::Unknown {
            term_bound: word(1),
        })),
        _ => Err(StorageError::BadLength {
            what: WHAT,
            got: buf.len(),
            allowed: "a kind of 1 or 2",
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn damage_file_round_trips_and_refuses_damage() {
        for damage in [
            LogDamage::HeldThrough { index: 7, term: 3 },
            LogDamage::Unknown { term_bound: 9 },
        ] {
            let bytes = encode_damage_file(&damage);
            assert_eq!(bytes.len(), LEN);
            assert_eq!(decode_damage_file(&bytes), Ok(Some(damage)));
            let mut bad = bytes.clone();
            bad[3] ^= 1;
            assert!(decode_damage_file(&bad).is_err());
        }
        assert_eq!(decode_damage_file(&[]), Ok(None));
        assert!(decode_damage_file(&[1, 2, 3]).is_err());
    }
}
