//! The snapshot file (`snap.<term>.<index>`): NRG's layout with a CRC-32C.

use super::{append_trailing_crc, check_trailing_crc, read_u32, StorageError};
use crate::codec::{self, DecodeError, Writer};
use crate::types::{Snapshot, SnapshotMeta};

const SNAPSHOT_WHAT: &str = "snapshot file";

/// Length of the smallest snapshot file: the two u64s, the peer-state length, the checksum.
pub const MIN_SNAPSHOT_FILE_LEN: usize = 8 + 8 + 4 + 4;

/// Encodes a snapshot file: `lastTerm u64 · lastIndex u64 · peerstateLen u32 · peerstate ·
/// data · crc32c u32` (see the module docs).
///
/// # Panics
/// If the encoded peer state is longer than `u32::MAX` bytes.
pub fn encode_snapshot_file(meta: &SnapshotMeta, data: &[u8]) -> Vec<u8> {
    let peers = codec::encode_peer_state(&meta.peers);
    let peers_len = u32::try_from(peers.len()).expect("peer state over 4 GiB");
    let mut out = Vec::with_capacity(MIN_SNAPSHOT_FILE_LEN + peers.len() + data.len());
    Writer::new(&mut out)
        .u64(meta.term)
        .u64(meta.index)
        .u32(peers_len)
        .bytes(&peers)
        .bytes(data);
    append_trailing_crc(&mut out);
    out
}

/// Decodes a snapshot file. Unlike the other files an empty one is an error (a host that has
/// no snapshot has no file). A file shorter than 24 bytes, a checksum mismatch, a peer-state
/// length past the end, a peer state that does not decode, or `lastIndex` 0 is an error.
pub fn decode_snapshot_file(buf: &[u8]) -> Result<Snapshot, StorageError> {
    if buf.len() < MIN_SNAPSHOT_FILE_LEN {
        return Err(StorageError::BadLength {
            what: SNAPSHOT_WHAT,
            got: buf.len(),
            allowed: "at least 24",
        });
    }
    let body = check_trailing_crc(SNAPSHOT_WHAT, buf)?;
    let mut term = [0u8; 8];
    term.copy_from_slice(&body[..8]);
    let mut index = [0u8; 8];
    index.copy_from_slice(&body[8..16]);
    let index = u64::from_le_bytes(index);
    let peers_len = read_u32(body, 16) as usize;
    let rest = &body[20..];
    if peers_len > rest.len() {
        return Err(StorageError::Decode {
            what: SNAPSHOT_WHAT,
            error: DecodeError::TooShort {
                what: "snapshot peer state",
                offset: 20,
                need: peers_len,
                got: rest.len(),
            },
        });
    }
    let (peers, data) = rest.split_at(peers_len);
    let peers = codec::decode_peer_state(peers).map_err(|error| StorageError::Decode {
        what: SNAPSHOT_WHAT,
        error,
    })?;
    if index == 0 {
        return Err(StorageError::Invalid {
            what: SNAPSHOT_WHAT,
            reason: "lastIndex is 0",
        });
    }
    Ok(Snapshot {
        meta: SnapshotMeta {
            index,
            term: u64::from_le_bytes(term),
            peers,
        },
        data: bytes::Bytes::copy_from_slice(data),
    })
}

/// The file name NRG gives a snapshot: `snap.<term>.<index>`.
pub fn snapshot_file_name(meta: &SnapshotMeta) -> String {
    format!("snap.{}.{}", meta.term, meta.index)
}
