//! The peer-state file (`peers.idx`): NRG's `peerState` and a checksum.

use super::{append_trailing_crc, check_trailing_crc, StorageError};
use crate::codec;
use crate::types::PeerState;

const PEER_STATE_WHAT: &str = "peer-state file";

/// Encodes the peer-state file: NRG `peerState` followed by its crc32c u32.
///
/// # Panics
/// If `ps.peers` has more than `u32::MAX` entries.
pub fn encode_peer_state_file(ps: &PeerState) -> Vec<u8> {
    let mut out = Vec::new();
    codec::encode_peer_state_into(ps, &mut out);
    append_trailing_crc(&mut out);
    out
}

/// Decodes the peer-state file. An empty file is `Ok(None)` (never written); a file shorter
/// than the checksum, a checksum mismatch, or a body that is not a valid `peerState` is an
/// error.
pub fn decode_peer_state_file(buf: &[u8]) -> Result<Option<PeerState>, StorageError> {
    if buf.is_empty() {
        return Ok(None);
    }
    if buf.len() < 4 {
        return Err(StorageError::BadLength {
            what: PEER_STATE_WHAT,
            got: buf.len(),
            allowed: "0, or at least 12",
        });
    }
    let body = check_trailing_crc(PEER_STATE_WHAT, buf)?;
    codec::decode_peer_state(body)
        .map(Some)
        .map_err(|error| StorageError::Decode {
            what: PEER_STATE_WHAT,
            error,
        })
}
