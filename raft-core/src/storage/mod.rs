//! On-disk formats and pure recovery.
//!
//! Everything here is a pure function over byte slices. A host (real files, or the simulator's
//! virtual disk) holds the bytes; raft-core encodes what to write and decides what the bytes
//! it reads back mean. All integers are little-endian; checksums are CRC-32C (Castagnoli).
//!
//! # The WAL
//!
//! An append-only file of records, written by the host in order:
//!
//! ```text
//! offset 0   len         u32   payload length in bytes
//! offset 4   header_crc  u32   crc32c of the 4 `len` bytes
//! offset 8   payload_crc u32   crc32c of the payload
//! offset 12  payload     [len] an encoded AppendEntries (see `crate::codec`)
//! ```
//!
//! The payload describes entries to store at `prev_index + 1 ..`; storing a record at
//! `prev_index` P implicitly truncates every previously stored entry with index > P. This is how
//! conflict truncation is persisted while the file stays append-only. A record with no entries
//! is a pure truncation. The first record may have `prev_index > 0`: the log then starts after a
//! snapshot at `(prev_index, prev_term)`, reported as [`WalRecovery::log_start`]. The record's
//! `commit` (and leader / `lterm` / `read_seq`) fields are a hint that recovery ignores; WAL
//! records are written with `read_seq` 0, so their bytes are NRG's.
//!
//! ## Why the header has its own checksum
//!
//! Recovery must tell a *torn tail* (the last write was cut short by a crash before it was
//! synced: safe to drop) from *corruption* (bytes that were written completely, maybe synced
//! and acknowledged, and later damaged: not safe to drop silently). The only evidence of a torn
//! tail is "the record claims more bytes than the file holds". If the length were protected only
//! by the payload checksum, a flipped bit in the length of a synced record could make it claim
//! more bytes than exist, and the damage would be misread as a harmless torn tail, silently
//! losing acknowledged entries. With `header_crc` a length is trusted only when its own checksum
//! matches, so a damaged length is always reported as corruption.
//!
//! ## Torn versus corrupt
//!
//! Records are read from offset 0. At each record:
//!
//! * fewer than 12 bytes remain → [`WalVerdict::TornTail`];
//! * `header_crc` does not match `len` → [`WalVerdict::Corrupt`];
//! * the header is good but the payload runs past the end of the file → `TornTail`;
//! * the payload is complete but `payload_crc` does not match → `Corrupt`;
//! * the payload does not decode, or the record does not link to the log replayed so far
//!   (`prev_index` beyond its end or before its start, `prev_term` different from the term of
//!   the entry at `prev_index`, or entries with a term below `prev_term`) → `Corrupt`.
//!
//! A torn tail is what a crash during an unsynced append leaves; the host drops it by truncating
//! the file to [`WalRecovery::valid_len`]. Corruption is reported with the log replayed up to
//! the damaged record; the caller decides (refuse to start, or rebuild from peers knowing the
//! node may have acknowledged entries it no longer has).
//!
//! A filesystem that can extend a file's size before its data reaches disk (leaving a zero- or
//! garbage-filled tail after a crash) makes an unsynced tail look like a bad header; recovery
//! reports that as corruption, conservatively, because the same bytes can be damage to a
//! synced record.
//!
//! # The term/vote file (`tav.idx`)
//!
//! NRG's layout plus a checksum: `term u64 · vote [8] (only if voted) · crc32c u32` of the
//! preceding bytes; 12 or 20 bytes. An empty file decodes as the default [`HardState`](crate::types::HardState) (a node
//! that never wrote one).
//!
//! The record is kept in two copies with the same bytes ([`TERM_VOTE_COPIES`]: `tav.idx`,
//! as NRG names it, then `tav.idx.copy`), written one after the other, so damage to one
//! falls back on the other ([`recover_term_vote`]; TigerBeetle keeps its superblock in
//! redundant copies for the same reason). Each copy is NRG's layout; the second file is our
//! extension, and a host that never wrote it (an older disk) recovers from `tav.idx` alone.
//!
//! # The peer-state file (`peers.idx`)
//!
//! NRG's `peerState` encoding (see [`crate::codec::encode_peer_state`]) followed by crc32c u32
//! of it. An empty file decodes as `Ok(None)` (never written; the host bootstraps membership
//! from its configuration).
//!
//! # The membership-bound file (`members.idx`)
//!
//! `index u64 · crc32c u32`: no log entry above `index` ever changed the membership; see
//! `membership_bound.rs` for why a damaged node needs it. An empty file decodes as 0.
//!
//! # The snapshot file (`snapshots/snap.<term>.<index>`)
//!
//! NRG's layout with a CRC-32C in place of NRG's keyed HighwayHash-64 (4 bytes, not 8; no
//! key, and the same checksum as every other file here):
//!
//! ```text
//! lastTerm u64 · lastIndex u64 · peerstateLen u32 · peerstate [peerstateLen] · data · crc32c u32
//! ```
//!
//! The checksum covers every preceding byte; `peerstate` is the peer-state encoding (with the
//! observer extension when there are observers) and `data` is the application's state, up
//! to the checksum. The smallest valid file is 24 bytes (28 in NRG); `lastIndex` 0 is invalid.
//!
//! # Atomic writes
//!
//! The term/vote, peer-state and snapshot files are rewritten in place of the old version,
//! never appended to. The host must replace them atomically: write a temporary file, fsync it, rename
//! it over the old file, fsync the directory. Then a crash leaves either the old or the new
//! file, never a mix; the checksum catches media damage, not torn rewrites.
//!
//! # Where each format lives
//!
//! `wal.rs` (records, [`encode_wal_append`], [`recover_wal`]), `term_vote.rs`,
//! `peer_state.rs`, `membership_bound.rs`, `damage.rs`, `snapshot.rs`; this file holds what
//! they share: [`StorageError`] and the trailing checksum.

mod damage;
#[cfg(test)]
mod edge_tests;
mod membership_bound;
mod peer_state;
mod snapshot;
mod term_vote;
#[cfg(test)]
mod tests;
mod wal;
mod wal_index;

pub use damage::{decode_damage_file, encode_damage_file};
pub use membership_bound::{decode_membership_bound_file, encode_membership_bound_file};
pub use peer_state::{decode_peer_state_file, encode_peer_state_file};
pub use snapshot::{
    decode_snapshot_file, encode_snapshot_file, snapshot_file_name, MIN_SNAPSHOT_FILE_LEN,
};
pub use term_vote::{
    decode_hard_state, encode_hard_state, recover_term_vote, TermVoteRecovery, VoteRecord,
    TERM_VOTE_COPIES,
};
pub use wal::{
    append_wal_record, encode_wal_append, encode_wal_record, intact_wal_records, recover_wal,
    WalCorruption, WalRecovery, WalVerdict, WAL_HEADER_LEN,
};
pub use wal_index::WalIndex;

use crate::codec::DecodeError;
use std::fmt;

/// Why a term/vote, peer-state or snapshot file could not be decoded.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum StorageError {
    /// The file has a length the format does not allow.
    BadLength {
        what: &'static str,
        got: usize,
        allowed: &'static str,
    },
    /// The checksum stored at `offset` does not match the preceding bytes.
    Checksum {
        what: &'static str,
        offset: usize,
        stored: u32,
        computed: u32,
    },
    /// The checksum matches but the content does not decode.
    Decode {
        what: &'static str,
        error: DecodeError,
    },
    /// The checksum matches and the content decodes, but a value is not allowed.
    Invalid {
        what: &'static str,
        reason: &'static str,
    },
}

impl fmt::Display for StorageError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            StorageError::BadLength { what, got, allowed } => {
                write!(f, "{what}: invalid length {got} bytes (allowed: {allowed})")
            }
            StorageError::Checksum { what, offset, stored, computed } => write!(
                f,
                "{what}: checksum mismatch at byte {offset}: stored {stored:#010x}, computed {computed:#010x}"
            ),
            StorageError::Decode { what, error } => write!(f, "{what}: {error}"),
            StorageError::Invalid { what, reason } => write!(f, "{what}: {reason}"),
        }
    }
}

impl std::error::Error for StorageError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            StorageError::Decode { error, .. } => Some(error),
            _ => None,
        }
    }
}

fn read_u32(buf: &[u8], at: usize) -> u32 {
    let mut b = [0u8; 4];
    b.copy_from_slice(&buf[at..at + 4]);
    u32::from_le_bytes(b)
}

/// Appends the CRC-32C of everything in `out`: the trailer of every file but the WAL.
fn append_trailing_crc(out: &mut Vec<u8>) {
    let crc = crc32c::crc32c(out);
    out.extend_from_slice(&crc.to_le_bytes());
}

/// Splits `buf` into (body, stored crc) and checks the crc; `buf.len() >= 4` is required.
fn check_trailing_crc<'a>(what: &'static str, buf: &'a [u8]) -> Result<&'a [u8], StorageError> {
    let at = buf.len() - 4;
    let (body, _) = buf.split_at(at);
    let stored = read_u32(buf, at);
    let computed = crc32c::crc32c(body);
    if stored != computed {
        return Err(StorageError::Checksum {
            what,
            offset: at,
            stored,
            computed,
        });
    }
    Ok(body)
}
