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

/// The names of the term/vote file's copies, in the order a host writes them: NRG's
/// `tav.idx`, then a second copy with the same bytes.
pub const TERM_VOTE_COPIES: [&str; 2] = ["tav.idx", "tav.idx.copy"];

/// What recovery makes of the term/vote file's copies ([`recover_term_vote`]).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TermVoteRecovery {
    /// The newest term and vote an intact copy holds (the default when none was written).
    pub hard_state: HardState,
    /// Whether the record survived, one copy was lost, or every copy was.
    pub record: VoteRecord,
    /// Each damaged copy, by its place in [`TERM_VOTE_COPIES`], and what is wrong with it.
    pub damaged: Vec<(usize, StorageError)>,
}

/// Whether a node still knows the term and vote it persisted.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum VoteRecord {
    /// Every copy decoded (or none was ever written).
    #[default]
    Intact,
    /// A copy was damaged and another intact one holds the record.
    CopyDamaged,
    /// Every written copy is damaged: the term the node reached and the vote it cast in it
    /// are unknown.
    Lost,
}

/// Recovers the term/vote record from its copies (the bytes of each file of
/// [`TERM_VOTE_COPIES`], empty when never written).
///
/// A host writes the same bytes to every copy, one after the other, and reports the persist
/// durable only once all are replaced; a crash in between leaves some copies one persist
/// ahead of the others. A node's term and vote only move forward (a term rises, a vote is
/// cast once in a term), so the newest intact copy — the highest term, a cast vote before
/// none — is the last record any copy holds, and at least as new as the last durable one.
/// Two intact copies naming different votes in one term cannot both have been written by
/// this rule; the record is then reported lost rather than trusting either.
pub fn recover_term_vote(copies: &[&[u8]]) -> TermVoteRecovery {
    let mut newest: Option<HardState> = None;
    let mut damaged = Vec::new();
    let mut conflict = false;
    let mut written = 0;
    for (i, bytes) in copies.iter().enumerate() {
        if bytes.is_empty() {
            continue;
        }
        written += 1;
        match decode_hard_state(bytes) {
            Ok(hs) => {
                newest = Some(match newest {
                    None => hs,
                    Some(best) => {
                        if best.term == hs.term && best.vote.is_some() && hs.vote.is_some() {
                            conflict |= best.vote != hs.vote;
                        }
                        if (hs.term, hs.vote.is_some()) > (best.term, best.vote.is_some()) {
                            hs
                        } else {
                            best
                        }
                    }
                })
            }
            Err(e) => damaged.push((i, e)),
        }
    }
    let record = match newest {
        _ if conflict => VoteRecord::Lost,
        None if written > 0 => VoteRecord::Lost,
        _ if damaged.is_empty() => VoteRecord::Intact,
        _ => VoteRecord::CopyDamaged,
    };
    TermVoteRecovery {
        hard_state: match record {
            VoteRecord::Lost => HardState::default(),
            _ => newest.unwrap_or_default(),
        },
        record,
        damaged,
    }
}
