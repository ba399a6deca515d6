//! The layouts NRG defines: append entry (with our optional `read_seq` after its trailer),
//! append response, vote request and response, forwarded proposal, peer state (with the
//! observer extension after `domainExt`). See the table in [`crate::codec`].

use super::wire::{check_exact_len, uvarint_len, Reader, Writer};
use super::{DecodeError, EncodeError};
use crate::message::{
    AppendEntries, AppendResponse, ForwardProposal, ForwardRemovePeer, VoteRequest, VoteResponse,
};
use crate::types::{Entry, EntryKind, NodeId, PeerState};
use bytes::Bytes;

/// Length of the fixed AppendEntries header (NRG `appendEntryBaseLen`).
pub const APPEND_ENTRIES_HEADER_LEN: usize = 42;
/// Exact length of an encoded [`AppendResponse`].
pub const APPEND_RESPONSE_LEN: usize = 25;
/// Exact length of an encoded [`VoteRequest`].
pub const VOTE_REQUEST_LEN: usize = 32;
/// Exact length of an encoded [`VoteResponse`].
pub const VOTE_RESPONSE_LEN: usize = 17;
/// Maximum number of entries in one AppendEntries (the count is a `u16`).
pub const MAX_ENTRIES_PER_MESSAGE: usize = u16::MAX as usize;
/// Maximum data length of one entry (NRG: `MaxInt32`).
pub const MAX_ENTRY_DATA_LEN: usize = i32::MAX as usize;
/// [`VoteResponse`] flag: the vote was granted.
pub const VOTE_FLAG_GRANTED: u8 = 0b01;
/// [`VoteResponse`] flag: the voter's log is empty.
pub const VOTE_FLAG_EMPTY_LOG: u8 = 0b10;

// ----- AppendEntries -------------------------------------------------------------------------

/// Checks the invariants NRG's layout relies on and returns the wire `(term, lterm)`.
pub(super) fn append_entries_wire_terms(m: &AppendEntries) -> Result<(u64, u64), EncodeError> {
    if m.entries.len() > MAX_ENTRIES_PER_MESSAGE {
        return Err(EncodeError::TooManyEntries {
            count: m.entries.len(),
        });
    }
    let wire_term = match m.entries.first() {
        Some(e) => e.term,
        None => m.term,
    };
    for (i, e) in m.entries.iter().enumerate() {
        if e.term != wire_term {
            return Err(EncodeError::MixedTerms {
                index_in_message: i,
                expected: wire_term,
                got: e.term,
            });
        }
        let expected = m.prev_index.checked_add(i as u64 + 1);
        if expected != Some(e.index) {
            return Err(EncodeError::NonConsecutiveIndex {
                index_in_message: i,
                expected,
                got: e.index,
            });
        }
        if e.data.len() > MAX_ENTRY_DATA_LEN {
            return Err(EncodeError::EntryTooLarge {
                index_in_message: i,
                len: e.data.len(),
            });
        }
    }
    if wire_term > m.term {
        return Err(EncodeError::EntryTermAboveMessageTerm {
            entry_term: wire_term,
            message_term: m.term,
        });
    }
    let lterm = if m.term != wire_term { m.term } else { 0 };
    Ok((wire_term, lterm))
}

/// The exact encoded length of `m` (assuming it is encodable).
pub fn append_entries_encoded_len(m: &AppendEntries) -> usize {
    let entries: usize = m.entries.iter().map(|e| 5 + e.data.len()).sum();
    // The trailer is at most 10 bytes; compute it exactly.
    let wire_term = m.entries.first().map_or(m.term, |e| e.term);
    let lterm = if m.term != wire_term { m.term } else { 0 };
    let read_seq = if m.read_seq != 0 {
        uvarint_len(m.read_seq)
    } else {
        0
    };
    APPEND_ENTRIES_HEADER_LEN + entries + uvarint_len(lterm) + read_seq
}

/// Appends the NRG encoding of `m` to `out`. On error nothing is appended.
pub fn encode_append_entries_into(m: &AppendEntries, out: &mut Vec<u8>) -> Result<(), EncodeError> {
    write_append_entries(&mut Writer::new(out), m)
}

/// [`encode_append_entries_into`]: the checks come first, so on error nothing is written.
pub(super) fn write_append_entries(
    w: &mut Writer<'_>,
    m: &AppendEntries,
) -> Result<(), EncodeError> {
    let (wire_term, lterm) = append_entries_wire_terms(m)?;
    w.reserve(append_entries_encoded_len(m))
        .node(m.leader)
        .u64(wire_term)
        .u64(m.commit)
        .u64(m.prev_term)
        .u64(m.prev_index)
        .u16(m.entries.len() as u16);
    for e in &m.entries {
        // data.len() <= i32::MAX was checked, so 1 + len fits a u32.
        w.u32(1 + e.data.len() as u32)
            .u8(e.kind as u8)
            .bytes(&e.data);
    }
    w.uvarint(lterm);
    if m.read_seq != 0 {
        w.uvarint(m.read_seq);
    }
    Ok(())
}

/// Encodes `m` in the NRG `appendEntry` layout (always with the `lterm` trailer; with the
/// `read_seq` uvarint after it when that is non-zero).
///
/// Fails if the entries have mixed terms, non-consecutive indexes, a term above `m.term`, more
/// than 65,535 entries, or an entry longer than `i32::MAX` bytes.
pub fn encode_append_entries(m: &AppendEntries) -> Result<Vec<u8>, EncodeError> {
    let mut out = Vec::new();
    encode_append_entries_into(m, &mut out)?;
    Ok(out)
}

/// Decodes the NRG `appendEntry` layout. The `lterm` trailer is optional, and so is the
/// `read_seq` uvarint after it; an explicit zero `read_seq` is rejected (it is written by
/// leaving it out), so every message has exactly one encoding.
pub fn decode_append_entries(buf: &[u8]) -> Result<AppendEntries, DecodeError> {
    decode_append_entries_keeping::<true>(buf, |_| true, Bytes::copy_from_slice)
}

/// [`decode_append_entries`] with each payload made by `payload` from its bytes in `buf`
/// (a slice of a shared buffer instead of a copy: [`super::decode_envelope_shared`]).
#[inline]
pub(super) fn decode_append_entries_with(
    buf: &[u8],
    payload: impl FnMut(&[u8]) -> Bytes,
) -> Result<AppendEntries, DecodeError> {
    decode_append_entries_keeping::<true>(buf, |_| true, payload)
}

/// [`decode_append_entries`], checking every entry as strictly but copying out only the
/// entries whose index `keep` accepts (the others are left out of `entries`): for a reader
/// that wants a few indexes out of many records, such as a host reading entries back from
/// its WAL.
pub fn decode_append_entries_filtered(
    buf: &[u8],
    keep: impl FnMut(u64) -> bool,
) -> Result<AppendEntries, DecodeError> {
    decode_append_entries_keeping::<false>(buf, keep, Bytes::copy_from_slice)
}

/// The one decoder of an AppendEntries; `ALL` (every entry kept) sizes `entries` up front;
/// `payload` makes an entry's data from its bytes in `buf`.
#[inline(always)]
fn decode_append_entries_keeping<const ALL: bool>(
    buf: &[u8],
    mut keep: impl FnMut(u64) -> bool,
    mut payload: impl FnMut(&[u8]) -> Bytes,
) -> Result<AppendEntries, DecodeError> {
    const WHAT: &str = "append entries header";
    if buf.len() < APPEND_ENTRIES_HEADER_LEN {
        return Err(DecodeError::TooShort {
            what: WHAT,
            offset: 0,
            need: APPEND_ENTRIES_HEADER_LEN,
            got: buf.len(),
        });
    }
    let mut r = Reader::new(buf, WHAT);
    let leader = r.node()?;
    let wire_term = r.u64()?;
    let commit = r.u64()?;
    let prev_term = r.u64()?;
    let prev_index = r.u64()?;
    let count = usize::from(r.u16()?);

    // Each entry needs at least 5 bytes; never reserve more than the input can hold.
    let mut entries = if ALL {
        Vec::with_capacity(count.min(r.remaining() / 5))
    } else {
        Vec::new()
    };
    for i in 0..count {
        let start = r.pos;
        let bad = |reason| DecodeError::BadEntry {
            index_in_message: i,
            offset: start,
            reason,
        };
        if r.remaining() < 4 {
            return Err(bad("length prefix truncated"));
        }
        let len = r.u32()? as usize;
        if len == 0 {
            return Err(bad("length is zero (it must count the type byte)"));
        }
        if len > r.remaining() {
            return Err(bad("entry extends beyond the end of the input"));
        }
        let body = r.take(len)?;
        let kind = EntryKind::from_u8(body[0]).ok_or(DecodeError::UnknownEntryType {
            index_in_message: i,
            offset: start + 4,
            value: body[0],
        })?;
        let index = prev_index
            .checked_add(i as u64 + 1)
            .ok_or_else(|| bad("entry index overflows u64"))?;
        if !ALL && !keep(index) {
            continue;
        }
        entries.push(Entry {
            term: wire_term,
            index,
            kind,
            data: payload(&body[1..]),
        });
    }

    let mut lterm = 0;
    let mut read_seq = 0;
    if r.remaining() > 0 {
        lterm = r.uvarint()?;
    }
    if r.remaining() > 0 {
        let at = r.pos;
        read_seq = r.uvarint()?;
        if read_seq == 0 {
            return Err(DecodeError::BadTrailer {
                offset: at,
                reason: "read sequence 0 is written by leaving it out",
            });
        }
    }
    r.what = "append entries";
    r.finish()?;

    Ok(AppendEntries {
        leader,
        term: if lterm != 0 { lterm } else { wire_term },
        commit,
        prev_term,
        prev_index,
        entries,
        read_seq,
    })
}

// ----- AppendResponse ------------------------------------------------------------------------

pub(super) fn write_append_response(w: &mut Writer<'_>, m: &AppendResponse) {
    w.reserve(APPEND_RESPONSE_LEN)
        .u64(m.term)
        .u64(m.index)
        .node(m.peer)
        .bool(m.success);
}

/// Encodes the 25-byte NRG `appendEntryResponse`.
pub fn encode_append_response(m: &AppendResponse) -> Vec<u8> {
    let mut out = Vec::new();
    write_append_response(&mut Writer::new(&mut out), m);
    out
}

/// Decodes the 25-byte NRG `appendEntryResponse`; the success byte must be 0 or 1.
pub fn decode_append_response(buf: &[u8]) -> Result<AppendResponse, DecodeError> {
    const WHAT: &str = "append response";
    check_exact_len(WHAT, buf, APPEND_RESPONSE_LEN)?;
    let mut r = Reader::new(buf, WHAT);
    Ok(AppendResponse {
        term: r.u64()?,
        index: r.u64()?,
        peer: r.node()?,
        success: r.bool("append response success byte")?,
    })
}

// ----- VoteRequest / VoteResponse ------------------------------------------------------------

pub(super) fn write_vote_request(w: &mut Writer<'_>, m: &VoteRequest) {
    w.reserve(VOTE_REQUEST_LEN)
        .u64(m.term)
        .u64(m.last_term)
        .u64(m.last_index)
        .node(m.candidate);
}

/// Encodes the 32-byte NRG `voteRequest`.
pub fn encode_vote_request(m: &VoteRequest) -> Vec<u8> {
    let mut out = Vec::new();
    write_vote_request(&mut Writer::new(&mut out), m);
    out
}

/// Decodes the 32-byte NRG `voteRequest`.
pub fn decode_vote_request(buf: &[u8]) -> Result<VoteRequest, DecodeError> {
    const WHAT: &str = "vote request";
    check_exact_len(WHAT, buf, VOTE_REQUEST_LEN)?;
    let mut r = Reader::new(buf, WHAT);
    Ok(VoteRequest {
        term: r.u64()?,
        last_term: r.u64()?,
        last_index: r.u64()?,
        candidate: r.node()?,
    })
}

pub(super) fn write_vote_response(w: &mut Writer<'_>, m: &VoteResponse) {
    let mut flags = 0;
    if m.granted {
        flags |= VOTE_FLAG_GRANTED;
    }
    if m.empty_log {
        flags |= VOTE_FLAG_EMPTY_LOG;
    }
    w.reserve(VOTE_RESPONSE_LEN)
        .u64(m.term)
        .node(m.peer)
        .u8(flags);
}

/// Encodes the 17-byte NRG `voteResponse`.
pub fn encode_vote_response(m: &VoteResponse) -> Vec<u8> {
    let mut out = Vec::new();
    write_vote_response(&mut Writer::new(&mut out), m);
    out
}

/// Decodes the 17-byte NRG `voteResponse`; flag bits other than bit0 and bit1 are rejected.
pub fn decode_vote_response(buf: &[u8]) -> Result<VoteResponse, DecodeError> {
    const WHAT: &str = "vote response";
    check_exact_len(WHAT, buf, VOTE_RESPONSE_LEN)?;
    let mut r = Reader::new(buf, WHAT);
    let term = r.u64()?;
    let peer = r.node()?;
    let flags = r.u8()?;
    if flags & !(VOTE_FLAG_GRANTED | VOTE_FLAG_EMPTY_LOG) != 0 {
        return Err(DecodeError::BadFlag {
            what: "vote response flags",
            offset: 16,
            value: flags,
        });
    }
    Ok(VoteResponse {
        term,
        peer,
        granted: flags & VOTE_FLAG_GRANTED != 0,
        empty_log: flags & VOTE_FLAG_EMPTY_LOG != 0,
    })
}

// ----- ForwardProposal -----------------------------------------------------------------------

/// Encodes a forwarded proposal: the raw data.
pub fn encode_forward_proposal(m: &ForwardProposal) -> Vec<u8> {
    m.data.to_vec()
}

/// Decodes a forwarded proposal: any bytes (including none) are valid data. The reply inbox
/// is not in the body (NRG carries it as the reply subject): it decodes as 0.
pub fn decode_forward_proposal(buf: &[u8]) -> Result<ForwardProposal, DecodeError> {
    Ok(ForwardProposal {
        data: Bytes::copy_from_slice(buf),
        reply: 0,
    })
}

// ----- ForwardRemovePeer ---------------------------------------------------------------------

/// Exact length of an NRG forwarded remove-peer body: the peer's id.
pub const FORWARD_REMOVE_PEER_LEN: usize = 8;

/// Encodes a forwarded remove-peer proposal: the peer's 8-byte id (NRG `$NRG.RP`; the reply
/// inbox travels beside the body).
pub fn encode_forward_remove_peer(m: &ForwardRemovePeer) -> Vec<u8> {
    let mut out = Vec::new();
    Writer::new(&mut out).node(m.peer);
    out
}

/// Decodes a forwarded remove-peer proposal (NRG ignores any other length; we reject it).
/// The reply inbox decodes as 0.
pub fn decode_forward_remove_peer(buf: &[u8]) -> Result<ForwardRemovePeer, DecodeError> {
    const WHAT: &str = "forward remove peer";
    check_exact_len(WHAT, buf, FORWARD_REMOVE_PEER_LEN)?;
    Ok(ForwardRemovePeer {
        peer: Reader::new(buf, WHAT).node()?,
        reply: 0,
    })
}

// ----- PeerState -----------------------------------------------------------------------------

/// Appends the NRG `peerState` encoding of `ps` to `out`, followed by the observer extension
/// (`nObservers u32 · n × peer [8]`) when `ps.observers` is not empty.
///
/// # Panics
/// If `ps.peers` or `ps.observers` has more than `u32::MAX` entries (32 GiB of ids; not a
/// real configuration).
pub fn encode_peer_state_into(ps: &PeerState, out: &mut Vec<u8>) {
    let n = u32::try_from(ps.peers.len()).expect("more than u32::MAX peers");
    let mut w = Writer::new(out);
    w.reserve(4 + 4 + 8 * ps.peers.len() + 2)
        .u32(ps.cluster_size)
        .u32(n);
    for &p in &ps.peers {
        w.node(p);
    }
    w.u16(ps.domain_ext);
    if !ps.observers.is_empty() {
        let n = u32::try_from(ps.observers.len()).expect("more than u32::MAX observers");
        w.reserve(4 + 8 * ps.observers.len()).u32(n);
        for &p in &ps.observers {
            w.node(p);
        }
    }
}

/// Encodes `ps` in the NRG `peerState` layout (`4 + 4 + 8n + 2` bytes), plus the observer
/// extension (`4 + 8m` bytes) when there are observers. This is also the data of an
/// [`EntryKind::PeerState`] entry. NRG's decoder reads the fields it knows and ignores the
/// extension, so observers are invisible to (not lost on) an NRG peer.
///
/// # Panics
/// If `ps.peers` or `ps.observers` has more than `u32::MAX` entries.
pub fn encode_peer_state(ps: &PeerState) -> Vec<u8> {
    let mut out = Vec::new();
    encode_peer_state_into(ps, &mut out);
    out
}

/// Reads `n` node ids, checking the length before allocating from the untrusted count.
fn read_ids(r: &mut Reader<'_>, n: u32, what: &'static str) -> Result<Vec<NodeId>, DecodeError> {
    let need = (n as usize).checked_mul(8);
    match need {
        Some(need) if need <= r.remaining() => {}
        _ => {
            return Err(DecodeError::TooShort {
                what,
                offset: r.pos,
                need: need.unwrap_or(usize::MAX),
                got: r.remaining(),
            })
        }
    }
    r.what = what;
    let mut ids = Vec::with_capacity(n as usize);
    for _ in 0..n {
        ids.push(r.node()?);
    }
    Ok(ids)
}

/// Decodes the NRG `peerState` layout. The trailing `domainExt` is optional (default 0), and
/// so is the observer extension after it (default: no observers); fewer than `nPeers`
/// complete ids, a partial `domainExt`, an incomplete observer extension, or extra bytes are
/// errors.
pub fn decode_peer_state(buf: &[u8]) -> Result<PeerState, DecodeError> {
    let mut r = Reader::new(buf, "peer state header");
    let cluster_size = r.u32()?;
    let n = r.u32()?;
    let peers = read_ids(&mut r, n, "peer state peer ids")?;
    let domain_ext = match r.remaining() {
        0 => 0,
        1 => {
            return Err(DecodeError::TooShort {
                what: "peer state domain extension",
                offset: r.pos,
                need: 2,
                got: 1,
            })
        }
        _ => {
            r.what = "peer state domain extension";
            r.u16()?
        }
    };
    let observers = if r.remaining() == 0 {
        Vec::new()
    } else {
        r.what = "peer state observer count";
        let n = r.u32()?;
        read_ids(&mut r, n, "peer state observer ids")?
    };
    r.what = "peer state";
    r.finish()?;
    Ok(PeerState {
        cluster_size,
        peers,
        domain_ext,
        observers,
    })
}

/// The entry size limit, at its edge. The 2 GiB of zeroes come from `calloc`, which maps
/// pages lazily: checking an entry's length never touches them, so these tests cost address
/// space, not memory.
#[cfg(test)]
mod entry_size_limit_tests {
    use super::*;

    fn one_entry_of(len: usize) -> AppendEntries {
        AppendEntries {
            leader: NodeId(1),
            term: 2,
            commit: 0,
            prev_term: 0,
            prev_index: 0,
            entries: vec![Entry {
                term: 2,
                index: 1,
                kind: EntryKind::Normal,
                data: Bytes::from(vec![0u8; len]),
            }],
            read_seq: 0,
        }
    }

    #[test]
    fn an_entry_of_exactly_the_nrg_limit_is_encodable() {
        assert_eq!(
            append_entries_wire_terms(&one_entry_of(MAX_ENTRY_DATA_LEN)),
            Ok((2, 0))
        );
    }

    #[test]
    fn an_entry_one_byte_past_the_nrg_limit_is_refused_before_anything_is_written() {
        let m = one_entry_of(MAX_ENTRY_DATA_LEN + 1);
        let mut out = Vec::new();
        assert_eq!(
            encode_append_entries_into(&m, &mut out),
            Err(EncodeError::EntryTooLarge {
                index_in_message: 0,
                len: MAX_ENTRY_DATA_LEN + 1,
            })
        );
        assert!(out.is_empty(), "a refused message writes nothing");
    }
}
