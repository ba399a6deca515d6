//! The term/vote file (`tav.idx`): NRG's layout and a checksum.

use super::{append_trailing_crc, check_trailing_crc, StorageError};
use crate::codec::Writer;
use crate::types::{HardState, NodeId};

const HARD_STATE_WHAT: &str = "term/vote file";

/// Encodes the term/vote file: `term u64 · vote [8] (if voted) · crc32c u32` (12 or 20 bytes).
pub fn encode_hard_state(hs: &HardState) -> Vec<u8> {
    let mut out = Vec::with_capacity(20);
    let mut w = Writer::new(&mut out);
    w.u64(hs.term);
    if let Some(v) = hs.vote {
        w.node(v);
    }
    append_trailing_crc(&mut out);
    out
}

/// Decodes the term/vote file. An empty file is the default [`HardState`] (never written);
/// any length other than 0, 12 or 20, or a checksum mismatch, is an error.
pub fn decode_hard_state(buf: &[u8]) -> Result<HardState, StorageError> {
    if buf.is_empty() {
        return Ok(HardState::default());
    }
    if buf.len() != 12 && buf.len() != 20 {
        return Err(StorageError::BadLength {
            what: HARD_STATE_WHAT,
            got: buf.len(),
            allowed: "0, 12 or 20",
        });
    }
    let body = check_trailing_crc(HARD_STATE_WHAT, buf)?;
    let mut term = [0u8; 8];
    term.copy_from_slice(&body[..8]);
    let vote = if body.len() == 16 {
        let mut v = [0u8; 8];
        v.copy_from_slice(&body[8..16]);
        Some(NodeId::from_bytes(v))
    } else {
        None
    };
    Ok(HardState {
        term: u64::from_le_bytes(term),
        vote,
    })
}
