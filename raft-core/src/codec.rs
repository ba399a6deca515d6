//! NRG wire formats for every [`Message`], plus a tagged envelope for hosts that carry all
//! messages on one channel.
//!
//! All integers are little-endian. NRG tells message types apart by NATS subject, so each type
//! has its own `encode_*` / `decode_*` pair producing exactly the NRG body; hosts with a single
//! channel use [`encode_envelope`] / [`decode_envelope`] (one tag byte + the NRG body).
//!
//! | message | layout |
//! |---|---|
//! | [`AppendEntries`] | `leader [8] · term u64 · commit u64 · pterm u64 · pindex u64 · count u16` (42 bytes), then per entry `len u32 (= 1 + data len) · type u8 · data`, then a uvarint `lterm` trailer, then (only when non-zero) a uvarint `read_seq` |
//! | [`AppendResponse`] | `term u64 · index u64 · peer [8] · success u8` (25 bytes) |
//! | [`VoteRequest`] | `term u64 · lastTerm u64 · lastIndex u64 · candidate [8]` (32 bytes) |
//! | [`VoteResponse`] | `term u64 · peer [8] · flags u8` (17 bytes; bit0 granted, bit1 empty log) |
//! | [`ForwardProposal`] | the raw data |
//! | [`TimeoutNow`] | `term u64 · leader [8]` (16 bytes) |
//! | [`ReadAck`] | `term u64 · seq u64 · peer [8]` (24 bytes) |
//! | [`InstallSnapshot`] | `term u64 · leader [8] · lastTerm u64 · lastIndex u64 · peerstateLen u32 · peerstate · offset u64 · done u8 · data` (the rest) |
//! | [`SnapshotResponse`] | `term u64 · peer [8] · index u64 · nextOffset u64 · done u8` (33 bytes) |
//! | [`PeerState`] | `clusterSize u32 · nPeers u32 · n × peer [8] · domainExt u16`, then (only with observers) `nObservers u32 · m × peer [8]` |
//!
//! ## AppendEntries term mapping
//!
//! On the wire, `term` is the term of the entries and the optional `lterm` trailer carries the
//! sender's current term when it differs (NRG catch-up re-sends). Our [`AppendEntries`] carries
//! the sender's term in `term` and a term in every entry. The encoder writes wire `term` = the
//! entries' term (or the message term for a heartbeat) and `lterm` = the message term when it
//! differs from wire `term`, else 0. The encoder always writes the trailer (a single `0x00` when
//! zero). The decoder accepts a missing trailer (= 0) and sets the message term to `lterm` when it
//! is non-zero, else to wire `term`; entry `i` gets term = wire `term` and index `pindex + 1 + i`.
//!
//! ## Extensions beyond NRG, and how they stay NRG-compatible
//!
//! NRG has no PreVote, no ReadIndex and transfers leadership with a log entry. Every
//! extension leaves the NRG layouts of the messages NRG knows untouched:
//!
//! - PreVote requests and responses ([`Message::PreVoteRequest`], [`Message::PreVoteResponse`])
//!   and the transfer-exempt vote request ([`Message::TransferVoteRequest`]) reuse the 32-byte
//!   vote request and 17-byte vote response bodies; only the envelope tag (on NRG's transport:
//!   the subject) tells them from real votes, so a real vote is byte-identical to NRG's.
//! - [`TimeoutNow`] and [`ReadAck`] are new messages with their own tags and layouts, and so
//!   are [`InstallSnapshot`] and [`SnapshotResponse`] (NRG sends a snapshot as one
//!   `EntrySnapshot` append entry; chunks need an offset). The snapshot metadata in a chunk
//!   has the snapshot file's header layout (`lastTerm · lastIndex · peerstateLen · peerstate`).
//! - The ReadIndex round number rides in a second uvarint after the `lterm` trailer of an
//!   append entry, written only when non-zero. NRG decoders ignore bytes after `lterm`, and an
//!   append entry without reads in flight (and every WAL record) is byte-identical to NRG's.
//!
//! | tag | message | tag | message |
//! |---|---|---|---|
//! | 1 | AppendEntries | 6 | PreVoteRequest |
//! | 2 | AppendResponse | 7 | PreVoteResponse |
//! | 3 | VoteRequest | 8 | TimeoutNow |
//! | 4 | VoteResponse | 9 | TransferVoteRequest |
//! | 5 | ForwardProposal | 10 | ReadAck |
//! | 11 | InstallSnapshot | 12 | SnapshotResponse |
//!
//! Decoders never panic, never allocate from an untrusted count before checking the input is
//! long enough for it, and reject trailing bytes. Every [`DecodeError`] names what is wrong and
//! the byte offset where it was found.

use crate::message::{
    AppendEntries, AppendResponse, ForwardProposal, InstallSnapshot, Message, ReadAck,
    SnapshotResponse, TimeoutNow, VoteRequest, VoteResponse,
};
use crate::types::{Entry, EntryKind, NodeId, PeerState, SnapshotMeta};
use bytes::Bytes;
use std::fmt;

/// Length of the fixed AppendEntries header (NRG `appendEntryBaseLen`).
pub const APPEND_ENTRIES_HEADER_LEN: usize = 42;
/// Exact length of an encoded [`AppendResponse`].
pub const APPEND_RESPONSE_LEN: usize = 25;
/// Exact length of an encoded [`VoteRequest`].
pub const VOTE_REQUEST_LEN: usize = 32;
/// Exact length of an encoded [`VoteResponse`].
pub const VOTE_RESPONSE_LEN: usize = 17;
/// Exact length of an encoded [`TimeoutNow`].
pub const TIMEOUT_NOW_LEN: usize = 16;
/// Exact length of an encoded [`ReadAck`].
pub const READ_ACK_LEN: usize = 24;
/// Length of an encoded [`SnapshotResponse`].
pub const SNAPSHOT_RESPONSE_LEN: usize = 33;
/// Length of an [`InstallSnapshot`] without its peer state and data.
pub const INSTALL_SNAPSHOT_FIXED_LEN: usize = 8 + 8 + 8 + 8 + 4 + 8 + 1;
/// Maximum number of entries in one AppendEntries (the count is a `u16`).
pub const MAX_ENTRIES_PER_MESSAGE: usize = u16::MAX as usize;
/// Maximum data length of one entry (NRG: `MaxInt32`).
pub const MAX_ENTRY_DATA_LEN: usize = i32::MAX as usize;

/// [`VoteResponse`] flag: the vote was granted.
pub const VOTE_FLAG_GRANTED: u8 = 0b01;
/// [`VoteResponse`] flag: the voter's log is empty.
pub const VOTE_FLAG_EMPTY_LOG: u8 = 0b10;

/// Envelope tag of [`Message::AppendEntries`].
pub const TAG_APPEND_ENTRIES: u8 = 1;
/// Envelope tag of [`Message::AppendResponse`].
pub const TAG_APPEND_RESPONSE: u8 = 2;
/// Envelope tag of [`Message::VoteRequest`].
pub const TAG_VOTE_REQUEST: u8 = 3;
/// Envelope tag of [`Message::VoteResponse`].
pub const TAG_VOTE_RESPONSE: u8 = 4;
/// Envelope tag of [`Message::ForwardProposal`].
pub const TAG_FORWARD_PROPOSAL: u8 = 5;
/// Envelope tag of [`Message::PreVoteRequest`] (body: the vote request layout).
pub const TAG_PRE_VOTE_REQUEST: u8 = 6;
/// Envelope tag of [`Message::PreVoteResponse`] (body: the vote response layout).
pub const TAG_PRE_VOTE_RESPONSE: u8 = 7;
/// Envelope tag of [`Message::TimeoutNow`].
pub const TAG_TIMEOUT_NOW: u8 = 8;
/// Envelope tag of [`Message::TransferVoteRequest`] (body: the vote request layout).
pub const TAG_TRANSFER_VOTE_REQUEST: u8 = 9;
/// Envelope tag of [`Message::ReadAck`].
pub const TAG_READ_ACK: u8 = 10;
/// Envelope tag of [`Message::InstallSnapshot`] (not in NRG).
pub const TAG_INSTALL_SNAPSHOT: u8 = 11;
/// Envelope tag of [`Message::SnapshotResponse`] (not in NRG).
pub const TAG_SNAPSHOT_RESPONSE: u8 = 12;

/// Maximum length of a uvarint encoding a `u64`.
const MAX_UVARINT_LEN: usize = 10;

// ---------------------------------------------------------------------------------------------
// Errors
// ---------------------------------------------------------------------------------------------

/// Why bytes could not be decoded. Every variant names what was being decoded and where.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum DecodeError {
    /// The input ends before a fixed-size part is complete.
    TooShort {
        what: &'static str,
        offset: usize,
        need: usize,
        got: usize,
    },
    /// A fixed-size message has the wrong total length.
    BadLength {
        what: &'static str,
        expected: usize,
        got: usize,
    },
    /// An AppendEntries entry is malformed (truncated length prefix, zero length, runs past the
    /// end of the input, or its index would overflow `u64`). `offset` is where the entry starts.
    BadEntry {
        index_in_message: usize,
        offset: usize,
        reason: &'static str,
    },
    /// An AppendEntries entry has a type byte that is not an NRG wire entry type.
    UnknownEntryType {
        index_in_message: usize,
        offset: usize,
        value: u8,
    },
    /// A flag or boolean byte has a value outside its domain.
    BadFlag {
        what: &'static str,
        offset: usize,
        value: u8,
    },
    /// The AppendEntries `lterm` or `read_seq` uvarint trailer is malformed.
    BadTrailer { offset: usize, reason: &'static str },
    /// Bytes remain after a complete message.
    TrailingBytes {
        what: &'static str,
        offset: usize,
        count: usize,
    },
    /// The envelope is empty (no tag byte).
    EmptyEnvelope,
    /// The envelope tag is not one of the `TAG_*` values.
    UnknownTag { tag: u8 },
}

impl fmt::Display for DecodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DecodeError::TooShort { what, offset, need, got } => write!(
                f,
                "{what}: truncated at byte {offset}: need {need} bytes, only {got} remain"
            ),
            DecodeError::BadLength { what, expected, got } => {
                write!(f, "{what}: wrong length: expected {expected} bytes, got {got}")
            }
            DecodeError::BadEntry { index_in_message, offset, reason } => {
                write!(f, "append entries: entry #{index_in_message} at byte {offset}: {reason}")
            }
            DecodeError::UnknownEntryType { index_in_message, offset, value } => write!(
                f,
                "append entries: entry #{index_in_message}: unknown entry type {value} at byte {offset}"
            ),
            DecodeError::BadFlag { what, offset, value } => {
                write!(f, "{what}: invalid value {value:#04x} at byte {offset}")
            }
            DecodeError::BadTrailer { offset, reason } => {
                write!(f, "append entries: trailer at byte {offset}: {reason}")
            }
            DecodeError::TrailingBytes { what, offset, count } => {
                write!(f, "{what}: {count} unexpected trailing bytes at byte {offset}")
            }
            DecodeError::EmptyEnvelope => write!(f, "envelope: empty input, no tag byte"),
            DecodeError::UnknownTag { tag } => write!(f, "envelope: unknown tag {tag} at byte 0"),
        }
    }
}

impl std::error::Error for DecodeError {}

/// Why a value could not be encoded. These are programming errors of the caller (the value
/// does not satisfy the invariants of its type), reported instead of panicking.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum EncodeError {
    /// An AppendEntries carries entries of different terms; NRG has one term per message.
    MixedTerms {
        index_in_message: usize,
        expected: u64,
        got: u64,
    },
    /// An AppendEntries entry does not have index `prev_index + 1 + i` (or that index overflows
    /// `u64`, in which case `expected` is `None`).
    NonConsecutiveIndex {
        index_in_message: usize,
        expected: Option<u64>,
        got: u64,
    },
    /// The entries' term is above the message term (a sender cannot send entries from a term
    /// it has not reached; it would also not survive the `lterm` mapping).
    EntryTermAboveMessageTerm { entry_term: u64, message_term: u64 },
    /// More than [`MAX_ENTRIES_PER_MESSAGE`] entries.
    TooManyEntries { count: usize },
    /// An entry's data is longer than [`MAX_ENTRY_DATA_LEN`].
    EntryTooLarge { index_in_message: usize, len: usize },
    /// A WAL record's entries have a term below its `prev_term` (log terms never decrease;
    /// recovery would reject the record as corrupt).
    TermBelowPrevTerm { entry_term: u64, prev_term: u64 },
    /// A WAL record payload does not fit the `u32` length field.
    RecordTooLarge { len: usize },
}

impl fmt::Display for EncodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            EncodeError::MixedTerms { index_in_message, expected, got } => write!(
                f,
                "append entries: entry #{index_in_message} has term {got}, but entry #0 has term {expected}; one message carries one term"
            ),
            EncodeError::NonConsecutiveIndex { index_in_message, expected: Some(e), got } => {
                write!(f, "append entries: entry #{index_in_message} has index {got}, expected {e}")
            }
            EncodeError::NonConsecutiveIndex { index_in_message, expected: None, got } => write!(
                f,
                "append entries: entry #{index_in_message} has index {got}, but prev_index + 1 + {index_in_message} overflows u64"
            ),
            EncodeError::EntryTermAboveMessageTerm { entry_term, message_term } => write!(
                f,
                "append entries: entry term {entry_term} is above the message term {message_term}"
            ),
            EncodeError::TooManyEntries { count } => write!(
                f,
                "append entries: {count} entries, at most {MAX_ENTRIES_PER_MESSAGE} fit in one message"
            ),
            EncodeError::EntryTooLarge { index_in_message, len } => write!(
                f,
                "append entries: entry #{index_in_message} has {len} data bytes, at most {MAX_ENTRY_DATA_LEN} allowed"
            ),
            EncodeError::TermBelowPrevTerm { entry_term, prev_term } => write!(
                f,
                "WAL record: entry term {entry_term} is below prev_term {prev_term}"
            ),
            EncodeError::RecordTooLarge { len } => {
                write!(f, "WAL record payload of {len} bytes does not fit a u32 length")
            }
        }
    }
}

impl std::error::Error for EncodeError {}

// ---------------------------------------------------------------------------------------------
// A bounds-checked reader
// ---------------------------------------------------------------------------------------------

/// Cursor over an input; every read is bounds-checked and reports `what` on failure.
struct Reader<'a> {
    buf: &'a [u8],
    pos: usize,
    what: &'static str,
}

impl<'a> Reader<'a> {
    fn new(buf: &'a [u8], what: &'static str) -> Self {
        Reader { buf, pos: 0, what }
    }

    fn remaining(&self) -> usize {
        self.buf.len() - self.pos
    }

    fn take(&mut self, n: usize) -> Result<&'a [u8], DecodeError> {
        if self.remaining() < n {
            return Err(DecodeError::TooShort {
                what: self.what,
                offset: self.pos,
                need: n,
                got: self.remaining(),
            });
        }
        let s = &self.buf[self.pos..self.pos + n];
        self.pos += n;
        Ok(s)
    }

    fn array<const N: usize>(&mut self) -> Result<[u8; N], DecodeError> {
        let mut out = [0u8; N];
        out.copy_from_slice(self.take(N)?);
        Ok(out)
    }

    fn u8(&mut self) -> Result<u8, DecodeError> {
        Ok(self.array::<1>()?[0])
    }

    fn u16(&mut self) -> Result<u16, DecodeError> {
        Ok(u16::from_le_bytes(self.array()?))
    }

    fn u32(&mut self) -> Result<u32, DecodeError> {
        Ok(u32::from_le_bytes(self.array()?))
    }

    fn u64(&mut self) -> Result<u64, DecodeError> {
        Ok(u64::from_le_bytes(self.array()?))
    }

    fn node(&mut self) -> Result<NodeId, DecodeError> {
        Ok(NodeId::from_bytes(self.array()?))
    }

    fn finish(&self) -> Result<(), DecodeError> {
        if self.remaining() != 0 {
            return Err(DecodeError::TrailingBytes {
                what: self.what,
                offset: self.pos,
                count: self.remaining(),
            });
        }
        Ok(())
    }
}

fn check_exact_len(what: &'static str, buf: &[u8], expected: usize) -> Result<(), DecodeError> {
    if buf.len() != expected {
        return Err(DecodeError::BadLength {
            what,
            expected,
            got: buf.len(),
        });
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// uvarint (Go encoding/binary)
// ---------------------------------------------------------------------------------------------

/// Appends `v` as a Go `binary.PutUvarint` uvarint (7 bits per byte, low group first).
pub fn put_uvarint(out: &mut Vec<u8>, mut v: u64) {
    while v >= 0x80 {
        out.push((v as u8) | 0x80);
        v >>= 7;
    }
    out.push(v as u8);
}

/// Reads a uvarint at the start of `buf`; returns the value and the number of bytes used.
///
/// Stricter than Go's `binary.Uvarint` in one respect: a non-minimal encoding (a final group
/// of zero after the first byte, e.g. `80 00`) is rejected. No encoder produces one.
/// `offset` is only used to report errors.
fn read_uvarint(buf: &[u8], offset: usize) -> Result<(u64, usize), DecodeError> {
    let mut value: u64 = 0;
    for (i, &b) in buf.iter().take(MAX_UVARINT_LEN).enumerate() {
        // The 10th byte holds bit 63 only; anything more overflows (or makes it too long).
        if i == MAX_UVARINT_LEN - 1 && b > 1 {
            return Err(DecodeError::BadTrailer {
                offset,
                reason: "uvarint overflows u64",
            });
        }
        value |= u64::from(b & 0x7f) << (7 * i);
        if b & 0x80 == 0 {
            if b == 0 && i > 0 {
                return Err(DecodeError::BadTrailer {
                    offset,
                    reason: "uvarint is not minimally encoded",
                });
            }
            return Ok((value, i + 1));
        }
    }
    // Every byte had its continuation bit set and the input ended (10th byte returns above).
    Err(DecodeError::BadTrailer {
        offset,
        reason: "uvarint truncated (continuation bit set on the last byte)",
    })
}

// ---------------------------------------------------------------------------------------------
// AppendEntries
// ---------------------------------------------------------------------------------------------

/// Checks the invariants NRG's layout relies on and returns the wire `(term, lterm)`.
fn append_entries_wire_terms(m: &AppendEntries) -> Result<(u64, u64), EncodeError> {
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

fn uvarint_len(mut v: u64) -> usize {
    let mut len = 1;
    while v >= 0x80 {
        len += 1;
        v >>= 7;
    }
    len
}

/// Appends the NRG encoding of `m` to `out`. On error nothing is appended.
pub fn encode_append_entries_into(m: &AppendEntries, out: &mut Vec<u8>) -> Result<(), EncodeError> {
    let (wire_term, lterm) = append_entries_wire_terms(m)?;
    out.reserve(append_entries_encoded_len(m));
    out.extend_from_slice(&m.leader.to_bytes());
    out.extend_from_slice(&wire_term.to_le_bytes());
    out.extend_from_slice(&m.commit.to_le_bytes());
    out.extend_from_slice(&m.prev_term.to_le_bytes());
    out.extend_from_slice(&m.prev_index.to_le_bytes());
    out.extend_from_slice(&(m.entries.len() as u16).to_le_bytes());
    for e in &m.entries {
        // data.len() <= i32::MAX was checked, so 1 + len fits a u32.
        out.extend_from_slice(&(1 + e.data.len() as u32).to_le_bytes());
        out.push(e.kind as u8);
        out.extend_from_slice(&e.data);
    }
    put_uvarint(out, lterm);
    if m.read_seq != 0 {
        put_uvarint(out, m.read_seq);
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
    let mut entries = Vec::with_capacity(count.min(r.remaining() / 5));
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
        entries.push(Entry {
            term: wire_term,
            index,
            kind,
            data: Bytes::copy_from_slice(&body[1..]),
        });
    }

    let mut lterm = 0;
    let mut read_seq = 0;
    if r.remaining() > 0 {
        let (v, n) = read_uvarint(&buf[r.pos..], r.pos)?;
        lterm = v;
        r.pos += n;
    }
    if r.remaining() > 0 {
        let (v, n) = read_uvarint(&buf[r.pos..], r.pos)?;
        if v == 0 {
            return Err(DecodeError::BadTrailer {
                offset: r.pos,
                reason: "read sequence 0 is written by leaving it out",
            });
        }
        read_seq = v;
        r.pos += n;
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

// ---------------------------------------------------------------------------------------------
// AppendResponse
// ---------------------------------------------------------------------------------------------

/// Encodes the 25-byte NRG `appendEntryResponse`.
pub fn encode_append_response(m: &AppendResponse) -> Vec<u8> {
    let mut out = Vec::with_capacity(APPEND_RESPONSE_LEN);
    out.extend_from_slice(&m.term.to_le_bytes());
    out.extend_from_slice(&m.index.to_le_bytes());
    out.extend_from_slice(&m.peer.to_bytes());
    out.push(u8::from(m.success));
    out
}

/// Decodes the 25-byte NRG `appendEntryResponse`; the success byte must be 0 or 1.
pub fn decode_append_response(buf: &[u8]) -> Result<AppendResponse, DecodeError> {
    const WHAT: &str = "append response";
    check_exact_len(WHAT, buf, APPEND_RESPONSE_LEN)?;
    let mut r = Reader::new(buf, WHAT);
    let term = r.u64()?;
    let index = r.u64()?;
    let peer = r.node()?;
    let success = match r.u8()? {
        0 => false,
        1 => true,
        value => {
            return Err(DecodeError::BadFlag {
                what: "append response success byte",
                offset: 24,
                value,
            })
        }
    };
    Ok(AppendResponse {
        term,
        index,
        peer,
        success,
    })
}

// ---------------------------------------------------------------------------------------------
// VoteRequest / VoteResponse
// ---------------------------------------------------------------------------------------------

/// Encodes the 32-byte NRG `voteRequest`.
pub fn encode_vote_request(m: &VoteRequest) -> Vec<u8> {
    let mut out = Vec::with_capacity(VOTE_REQUEST_LEN);
    out.extend_from_slice(&m.term.to_le_bytes());
    out.extend_from_slice(&m.last_term.to_le_bytes());
    out.extend_from_slice(&m.last_index.to_le_bytes());
    out.extend_from_slice(&m.candidate.to_bytes());
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

/// Encodes the 17-byte NRG `voteResponse`.
pub fn encode_vote_response(m: &VoteResponse) -> Vec<u8> {
    let mut out = Vec::with_capacity(VOTE_RESPONSE_LEN);
    out.extend_from_slice(&m.term.to_le_bytes());
    out.extend_from_slice(&m.peer.to_bytes());
    let mut flags = 0;
    if m.granted {
        flags |= VOTE_FLAG_GRANTED;
    }
    if m.empty_log {
        flags |= VOTE_FLAG_EMPTY_LOG;
    }
    out.push(flags);
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

// ---------------------------------------------------------------------------------------------
// TimeoutNow / ReadAck (not in NRG)
// ---------------------------------------------------------------------------------------------

/// Encodes the 16-byte [`TimeoutNow`]: `term u64 · leader [8]`.
pub fn encode_timeout_now(m: &TimeoutNow) -> Vec<u8> {
    let mut out = Vec::with_capacity(TIMEOUT_NOW_LEN);
    out.extend_from_slice(&m.term.to_le_bytes());
    out.extend_from_slice(&m.leader.to_bytes());
    out
}

/// Decodes the 16-byte [`TimeoutNow`].
pub fn decode_timeout_now(buf: &[u8]) -> Result<TimeoutNow, DecodeError> {
    const WHAT: &str = "timeout now";
    check_exact_len(WHAT, buf, TIMEOUT_NOW_LEN)?;
    let mut r = Reader::new(buf, WHAT);
    Ok(TimeoutNow {
        term: r.u64()?,
        leader: r.node()?,
    })
}

/// Encodes the 24-byte [`ReadAck`]: `term u64 · seq u64 · peer [8]`.
pub fn encode_read_ack(m: &ReadAck) -> Vec<u8> {
    let mut out = Vec::with_capacity(READ_ACK_LEN);
    out.extend_from_slice(&m.term.to_le_bytes());
    out.extend_from_slice(&m.seq.to_le_bytes());
    out.extend_from_slice(&m.peer.to_bytes());
    out
}

/// Decodes the 24-byte [`ReadAck`].
pub fn decode_read_ack(buf: &[u8]) -> Result<ReadAck, DecodeError> {
    const WHAT: &str = "read ack";
    check_exact_len(WHAT, buf, READ_ACK_LEN)?;
    let mut r = Reader::new(buf, WHAT);
    Ok(ReadAck {
        term: r.u64()?,
        seq: r.u64()?,
        peer: r.node()?,
    })
}

// ---------------------------------------------------------------------------------------------
// InstallSnapshot / SnapshotResponse (not in NRG)
// ---------------------------------------------------------------------------------------------

fn read_bool(r: &mut Reader<'_>, what: &'static str) -> Result<bool, DecodeError> {
    let offset = r.pos;
    match r.u8()? {
        0 => Ok(false),
        1 => Ok(true),
        value => Err(DecodeError::BadFlag {
            what,
            offset,
            value,
        }),
    }
}

/// Encodes an [`InstallSnapshot`]: `term u64 · leader [8] · lastTerm u64 · lastIndex u64 ·
/// peerstateLen u32 · peerstate · offset u64 · done u8 · data`.
///
/// # Panics
/// If the encoded peer state is longer than `u32::MAX` bytes.
pub fn encode_install_snapshot(m: &InstallSnapshot) -> Vec<u8> {
    let mut out = Vec::new();
    encode_install_snapshot_into(m, &mut out);
    out
}

fn encode_install_snapshot_into(m: &InstallSnapshot, out: &mut Vec<u8>) {
    let peers = encode_peer_state(&m.meta.peers);
    let peers_len = u32::try_from(peers.len()).expect("peer state over 4 GiB");
    out.reserve(INSTALL_SNAPSHOT_FIXED_LEN + peers.len() + m.data.len());
    out.extend_from_slice(&m.term.to_le_bytes());
    out.extend_from_slice(&m.leader.to_bytes());
    out.extend_from_slice(&m.meta.term.to_le_bytes());
    out.extend_from_slice(&m.meta.index.to_le_bytes());
    out.extend_from_slice(&peers_len.to_le_bytes());
    out.extend_from_slice(&peers);
    out.extend_from_slice(&m.offset.to_le_bytes());
    out.push(u8::from(m.done));
    out.extend_from_slice(&m.data);
}

/// Decodes an [`InstallSnapshot`]; the data is everything after the `done` byte.
pub fn decode_install_snapshot(buf: &[u8]) -> Result<InstallSnapshot, DecodeError> {
    let mut r = Reader::new(buf, "install snapshot");
    let term = r.u64()?;
    let leader = r.node()?;
    let last_term = r.u64()?;
    let last_index = r.u64()?;
    let peers_len = r.u32()? as usize;
    r.what = "install snapshot peer state";
    let peers = decode_peer_state(r.take(peers_len)?)?;
    r.what = "install snapshot";
    let offset = r.u64()?;
    let done = read_bool(&mut r, "install snapshot done")?;
    let data = Bytes::copy_from_slice(r.take(r.remaining())?);
    Ok(InstallSnapshot {
        term,
        leader,
        meta: SnapshotMeta {
            index: last_index,
            term: last_term,
            peers,
        },
        offset,
        data,
        done,
    })
}

/// Encodes the 33-byte [`SnapshotResponse`]: `term u64 · peer [8] · index u64 · nextOffset
/// u64 · done u8`.
pub fn encode_snapshot_response(m: &SnapshotResponse) -> Vec<u8> {
    let mut out = Vec::with_capacity(SNAPSHOT_RESPONSE_LEN);
    out.extend_from_slice(&m.term.to_le_bytes());
    out.extend_from_slice(&m.peer.to_bytes());
    out.extend_from_slice(&m.index.to_le_bytes());
    out.extend_from_slice(&m.next_offset.to_le_bytes());
    out.push(u8::from(m.done));
    out
}

/// Decodes the 33-byte [`SnapshotResponse`].
pub fn decode_snapshot_response(buf: &[u8]) -> Result<SnapshotResponse, DecodeError> {
    const WHAT: &str = "snapshot response";
    check_exact_len(WHAT, buf, SNAPSHOT_RESPONSE_LEN)?;
    let mut r = Reader::new(buf, WHAT);
    Ok(SnapshotResponse {
        term: r.u64()?,
        peer: r.node()?,
        index: r.u64()?,
        next_offset: r.u64()?,
        done: read_bool(&mut r, "snapshot response done")?,
    })
}

// ---------------------------------------------------------------------------------------------
// ForwardProposal
// ---------------------------------------------------------------------------------------------

/// Encodes a forwarded proposal: the raw data.
pub fn encode_forward_proposal(m: &ForwardProposal) -> Vec<u8> {
    m.data.to_vec()
}

/// Decodes a forwarded proposal: any bytes (including none) are valid data.
pub fn decode_forward_proposal(buf: &[u8]) -> Result<ForwardProposal, DecodeError> {
    Ok(ForwardProposal {
        data: Bytes::copy_from_slice(buf),
    })
}

// ---------------------------------------------------------------------------------------------
// PeerState
// ---------------------------------------------------------------------------------------------

/// Appends the NRG `peerState` encoding of `ps` to `out`, followed by the observer extension
/// (`nObservers u32 · n × peer [8]`) when `ps.observers` is not empty.
///
/// # Panics
/// If `ps.peers` or `ps.observers` has more than `u32::MAX` entries (32 GiB of ids; not a
/// real configuration).
pub fn encode_peer_state_into(ps: &PeerState, out: &mut Vec<u8>) {
    let n = u32::try_from(ps.peers.len()).expect("more than u32::MAX peers");
    out.reserve(4 + 4 + 8 * ps.peers.len() + 2);
    out.extend_from_slice(&ps.cluster_size.to_le_bytes());
    out.extend_from_slice(&n.to_le_bytes());
    for p in &ps.peers {
        out.extend_from_slice(&p.to_bytes());
    }
    out.extend_from_slice(&ps.domain_ext.to_le_bytes());
    if !ps.observers.is_empty() {
        let n = u32::try_from(ps.observers.len()).expect("more than u32::MAX observers");
        out.reserve(4 + 8 * ps.observers.len());
        out.extend_from_slice(&n.to_le_bytes());
        for p in &ps.observers {
            out.extend_from_slice(&p.to_bytes());
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

// ---------------------------------------------------------------------------------------------
// Envelope
// ---------------------------------------------------------------------------------------------

/// The envelope tag of a message.
pub fn envelope_tag(m: &Message) -> u8 {
    match m {
        Message::AppendEntries(_) => TAG_APPEND_ENTRIES,
        Message::AppendResponse(_) => TAG_APPEND_RESPONSE,
        Message::VoteRequest(_) => TAG_VOTE_REQUEST,
        Message::VoteResponse(_) => TAG_VOTE_RESPONSE,
        Message::ForwardProposal(_) => TAG_FORWARD_PROPOSAL,
        Message::PreVoteRequest(_) => TAG_PRE_VOTE_REQUEST,
        Message::PreVoteResponse(_) => TAG_PRE_VOTE_RESPONSE,
        Message::TimeoutNow(_) => TAG_TIMEOUT_NOW,
        Message::TransferVoteRequest(_) => TAG_TRANSFER_VOTE_REQUEST,
        Message::ReadAck(_) => TAG_READ_ACK,
        Message::InstallSnapshot(_) => TAG_INSTALL_SNAPSHOT,
        Message::SnapshotResponse(_) => TAG_SNAPSHOT_RESPONSE,
    }
}

/// Encodes any message as one tag byte followed by its NRG body, for hosts that carry all
/// messages on one channel. Fails only for an AppendEntries that [`encode_append_entries`]
/// rejects.
pub fn encode_envelope(m: &Message) -> Result<Vec<u8>, EncodeError> {
    let mut out = vec![envelope_tag(m)];
    match m {
        Message::AppendEntries(ae) => encode_append_entries_into(ae, &mut out)?,
        Message::AppendResponse(x) => out.extend_from_slice(&encode_append_response(x)),
        Message::VoteRequest(x) => out.extend_from_slice(&encode_vote_request(x)),
        Message::VoteResponse(x) => out.extend_from_slice(&encode_vote_response(x)),
        Message::ForwardProposal(x) => out.extend_from_slice(&x.data),
        Message::PreVoteRequest(x) | Message::TransferVoteRequest(x) => {
            out.extend_from_slice(&encode_vote_request(x))
        }
        Message::PreVoteResponse(x) => out.extend_from_slice(&encode_vote_response(x)),
        Message::TimeoutNow(x) => out.extend_from_slice(&encode_timeout_now(x)),
        Message::ReadAck(x) => out.extend_from_slice(&encode_read_ack(x)),
        Message::InstallSnapshot(x) => encode_install_snapshot_into(x, &mut out),
        Message::SnapshotResponse(x) => out.extend_from_slice(&encode_snapshot_response(x)),
    }
    Ok(out)
}

/// Decodes an envelope made by [`encode_envelope`]. Offsets in errors are relative to the body
/// (the byte after the tag).
pub fn decode_envelope(buf: &[u8]) -> Result<Message, DecodeError> {
    let (&tag, body) = buf.split_first().ok_or(DecodeError::EmptyEnvelope)?;
    Ok(match tag {
        TAG_APPEND_ENTRIES => Message::AppendEntries(decode_append_entries(body)?),
        TAG_APPEND_RESPONSE => Message::AppendResponse(decode_append_response(body)?),
        TAG_VOTE_REQUEST => Message::VoteRequest(decode_vote_request(body)?),
        TAG_VOTE_RESPONSE => Message::VoteResponse(decode_vote_response(body)?),
        TAG_FORWARD_PROPOSAL => Message::ForwardProposal(decode_forward_proposal(body)?),
        TAG_PRE_VOTE_REQUEST => Message::PreVoteRequest(decode_vote_request(body)?),
        TAG_PRE_VOTE_RESPONSE => Message::PreVoteResponse(decode_vote_response(body)?),
        TAG_TIMEOUT_NOW => Message::TimeoutNow(decode_timeout_now(body)?),
        TAG_TRANSFER_VOTE_REQUEST => Message::TransferVoteRequest(decode_vote_request(body)?),
        TAG_READ_ACK => Message::ReadAck(decode_read_ack(body)?),
        TAG_INSTALL_SNAPSHOT => Message::InstallSnapshot(Box::new(decode_install_snapshot(body)?)),
        TAG_SNAPSHOT_RESPONSE => Message::SnapshotResponse(decode_snapshot_response(body)?),
        tag => return Err(DecodeError::UnknownTag { tag }),
    })
}

// ---------------------------------------------------------------------------------------------
// Tests: golden bytes pin the layouts
// ---------------------------------------------------------------------------------------------

#[cfg(test)]
mod tests {
    use super::*;

    fn le8(v: u64) -> [u8; 8] {
        v.to_le_bytes()
    }

    fn cat(parts: &[&[u8]]) -> Vec<u8> {
        parts.concat()
    }

    fn ae(term: u64, prev_index: u64, entries: Vec<Entry>) -> AppendEntries {
        AppendEntries {
            leader: NodeId(0x0807060504030201),
            term,
            commit: 5,
            prev_term: 2,
            prev_index,
            entries,
            read_seq: 0,
        }
    }

    #[test]
    fn append_entries_heartbeat_golden() {
        let m = ae(3, 7, vec![]);
        let bytes = encode_append_entries(&m).unwrap();
        let golden = cat(&[
            &[1, 2, 3, 4, 5, 6, 7, 8], // leader
            &le8(3),                   // term
            &le8(5),                   // commit
            &le8(2),                   // pterm
            &le8(7),                   // pindex
            &[0, 0],                   // count
            &[0x00],                   // lterm trailer = 0
        ]);
        assert_eq!(bytes, golden);
        assert_eq!(bytes.len(), 43);
        assert_eq!(append_entries_encoded_len(&m), 43);
        assert_eq!(decode_append_entries(&bytes).unwrap(), m);
    }

    #[test]
    fn append_entries_with_entries_golden() {
        let m = ae(
            4,
            7,
            vec![
                Entry {
                    term: 4,
                    index: 8,
                    kind: EntryKind::Normal,
                    data: Bytes::from_static(b"hi"),
                },
                Entry {
                    term: 4,
                    index: 9,
                    kind: EntryKind::AddPeer,
                    data: Bytes::from_static(&[9; 8]),
                },
                Entry {
                    term: 4,
                    index: 10,
                    kind: EntryKind::PeerState,
                    data: Bytes::new(),
                },
            ],
        );
        let bytes = encode_append_entries(&m).unwrap();
        let golden = cat(&[
            &[1, 2, 3, 4, 5, 6, 7, 8],
            &le8(4),
            &le8(5),
            &le8(2),
            &le8(7),
            &[3, 0],
            &[3, 0, 0, 0, 0, b'h', b'i'],
            &[9, 0, 0, 0, 3, 9, 9, 9, 9, 9, 9, 9, 9],
            &[1, 0, 0, 0, 2],
            &[0x00],
        ]);
        assert_eq!(bytes, golden);
        assert_eq!(append_entries_encoded_len(&m), golden.len());
        assert_eq!(decode_append_entries(&bytes).unwrap(), m);
    }

    #[test]
    fn append_entries_lterm_trailer_golden() {
        // Catch-up re-send: entries of term 2 sent by a leader in term 300.
        let m = ae(300, 0, vec![Entry::normal(2, 1, &b"x"[..])]);
        let bytes = encode_append_entries(&m).unwrap();
        let golden = cat(&[
            &[1, 2, 3, 4, 5, 6, 7, 8],
            &le8(2), // wire term = entries' term
            &le8(5),
            &le8(2),
            &le8(0),
            &[1, 0],
            &[2, 0, 0, 0, 0, b'x'],
            &[0xAC, 0x02], // uvarint 300
        ]);
        assert_eq!(bytes, golden);
        assert_eq!(append_entries_encoded_len(&m), golden.len());
        assert_eq!(decode_append_entries(&bytes).unwrap(), m);

        // Maximum trailer: u64::MAX is 10 bytes.
        let m = ae(u64::MAX, 0, vec![Entry::normal(1, 1, &b""[..])]);
        let bytes = encode_append_entries(&m).unwrap();
        assert_eq!(
            &bytes[bytes.len() - 10..],
            &[0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01]
        );
        assert_eq!(append_entries_encoded_len(&m), bytes.len());
        assert_eq!(decode_append_entries(&bytes).unwrap(), m);
    }

    #[test]
    fn append_entries_missing_trailer_means_zero() {
        let m = ae(4, 1, vec![Entry::normal(4, 2, &b"ab"[..])]);
        let mut bytes = encode_append_entries(&m).unwrap();
        assert_eq!(bytes.pop(), Some(0));
        assert_eq!(decode_append_entries(&bytes).unwrap(), m);
        // An lterm equal to the wire term decodes to the same message.
        bytes.push(4);
        assert_eq!(decode_append_entries(&bytes).unwrap(), m);
        // A heartbeat with a trailer: lterm wins.
        let mut hb = encode_append_entries(&ae(4, 1, vec![])).unwrap();
        hb.pop();
        hb.push(9);
        assert_eq!(decode_append_entries(&hb).unwrap().term, 9);
    }

    #[test]
    fn append_entries_read_seq_trailer_golden() {
        // A heartbeat of a ReadIndex round: lterm 0, then read_seq 300.
        let m = AppendEntries {
            read_seq: 300,
            ..ae(3, 7, vec![])
        };
        let bytes = encode_append_entries(&m).unwrap();
        let golden = cat(&[
            &[1, 2, 3, 4, 5, 6, 7, 8],
            &le8(3),
            &le8(5),
            &le8(2),
            &le8(7),
            &[0, 0],
            &[0x00],       // lterm trailer = 0
            &[0xAC, 0x02], // read_seq = 300
        ]);
        assert_eq!(bytes, golden);
        assert_eq!(append_entries_encoded_len(&m), golden.len());
        assert_eq!(decode_append_entries(&bytes).unwrap(), m);
        // Without the read sequence the bytes are exactly the NRG ones (what NRG decodes: it
        // ignores bytes after lterm).
        assert_eq!(
            encode_append_entries(&ae(3, 7, vec![])).unwrap(),
            &golden[..golden.len() - 2]
        );
        // With both trailers set.
        let m = AppendEntries {
            read_seq: 1,
            ..ae(300, 0, vec![Entry::normal(2, 1, &b"x"[..])])
        };
        let bytes = encode_append_entries(&m).unwrap();
        assert_eq!(&bytes[bytes.len() - 3..], &[0xAC, 0x02, 0x01]);
        assert_eq!(append_entries_encoded_len(&m), bytes.len());
        assert_eq!(decode_append_entries(&bytes).unwrap(), m);
    }

    #[test]
    fn timeout_now_golden() {
        let m = TimeoutNow {
            term: 7,
            leader: NodeId(0x0201),
        };
        let bytes = encode_timeout_now(&m);
        let golden = cat(&[&le8(7), &[1, 2, 0, 0, 0, 0, 0, 0]]);
        assert_eq!(bytes, golden);
        assert_eq!(decode_timeout_now(&bytes).unwrap(), m);
        assert_eq!(
            decode_timeout_now(&golden[..15]),
            Err(DecodeError::BadLength {
                what: "timeout now",
                expected: 16,
                got: 15
            })
        );
    }

    #[test]
    fn read_ack_golden() {
        let m = ReadAck {
            term: 7,
            seq: 0x0102,
            peer: NodeId(3),
        };
        let bytes = encode_read_ack(&m);
        let golden = cat(&[&le8(7), &le8(0x0102), &[3, 0, 0, 0, 0, 0, 0, 0]]);
        assert_eq!(bytes, golden);
        assert_eq!(decode_read_ack(&bytes).unwrap(), m);
        assert_eq!(
            decode_read_ack(&[golden.clone(), vec![0]].concat()),
            Err(DecodeError::BadLength {
                what: "read ack",
                expected: 24,
                got: 25
            })
        );
    }

    #[test]
    fn append_entries_decode_errors() {
        let m = ae(4, 1, vec![Entry::normal(4, 2, &b"ab"[..])]);
        let good = encode_append_entries(&m).unwrap();

        assert_eq!(
            decode_append_entries(&good[..41]),
            Err(DecodeError::TooShort {
                what: "append entries header",
                offset: 0,
                need: 42,
                got: 41
            })
        );
        // Truncated length prefix.
        assert!(matches!(
            decode_append_entries(&good[..44]),
            Err(DecodeError::BadEntry {
                index_in_message: 0,
                offset: 42,
                ..
            })
        ));
        // Zero length.
        let mut b = good.clone();
        b[42..46].copy_from_slice(&0u32.to_le_bytes());
        assert!(matches!(
            decode_append_entries(&b),
            Err(DecodeError::BadEntry { index_in_message: 0, offset: 42, reason }) if reason.contains("zero")
        ));
        // Entry beyond buffer.
        let mut b = good.clone();
        b[42..46].copy_from_slice(&100u32.to_le_bytes());
        assert!(matches!(
            decode_append_entries(&b),
            Err(DecodeError::BadEntry { index_in_message: 0, offset: 42, reason }) if reason.contains("beyond")
        ));
        // Huge count with no entries: error, no huge allocation.
        let mut b = good[..42].to_vec();
        b[40..42].copy_from_slice(&u16::MAX.to_le_bytes());
        assert!(matches!(
            decode_append_entries(&b),
            Err(DecodeError::BadEntry {
                index_in_message: 0,
                ..
            })
        ));
        // Unknown entry type.
        let mut b = good.clone();
        b[46] = 7;
        assert_eq!(
            decode_append_entries(&b),
            Err(DecodeError::UnknownEntryType {
                index_in_message: 0,
                offset: 46,
                value: 7
            })
        );
        // Truncated trailer.
        let mut b = good.clone();
        *b.last_mut().unwrap() = 0x80;
        assert!(matches!(
            decode_append_entries(&b),
            Err(DecodeError::BadTrailer { offset: 49, reason }) if reason.contains("truncated")
        ));
        // Non-minimal trailer.
        let mut b = good.clone();
        b.pop();
        b.extend_from_slice(&[0x80, 0x00]);
        assert!(matches!(
            decode_append_entries(&b),
            Err(DecodeError::BadTrailer { offset: 49, reason }) if reason.contains("minimal")
        ));
        // Overflowing trailer (10th byte > 1) and overlong trailer (11 bytes).
        let mut b = good.clone();
        b.pop();
        b.extend_from_slice(&[0xff; 9]);
        b.push(0x02);
        assert!(matches!(
            decode_append_entries(&b),
            Err(DecodeError::BadTrailer { reason, .. }) if reason.contains("overflows")
        ));
        let mut b = good.clone();
        b.pop();
        b.extend_from_slice(&[0x80; 10]);
        b.push(0x01);
        assert!(matches!(
            decode_append_entries(&b),
            Err(DecodeError::BadTrailer { .. })
        ));
        // An explicit zero read sequence after the trailer (it is written by leaving it out).
        let mut b = good.clone();
        b.push(0x00);
        assert!(matches!(
            decode_append_entries(&b),
            Err(DecodeError::BadTrailer { offset: 50, reason }) if reason.contains("leaving it out")
        ));
        // A truncated read sequence.
        let mut b = good.clone();
        b.push(0x80);
        assert!(matches!(
            decode_append_entries(&b),
            Err(DecodeError::BadTrailer { offset: 50, reason }) if reason.contains("truncated")
        ));
        // Trailing garbage after the read sequence.
        let mut b = good.clone();
        b.extend_from_slice(&[0x05, 0x00]);
        assert_eq!(
            decode_append_entries(&b),
            Err(DecodeError::TrailingBytes {
                what: "append entries",
                offset: 51,
                count: 1
            })
        );
        // Index overflow.
        let mut b = good.clone();
        b[32..40].copy_from_slice(&le8(u64::MAX));
        assert!(matches!(
            decode_append_entries(&b),
            Err(DecodeError::BadEntry { reason, .. }) if reason.contains("overflow")
        ));
    }

    #[test]
    fn append_entries_encode_errors() {
        let mixed = ae(
            5,
            0,
            vec![Entry::normal(4, 1, &b""[..]), Entry::normal(5, 2, &b""[..])],
        );
        assert_eq!(
            encode_append_entries(&mixed),
            Err(EncodeError::MixedTerms {
                index_in_message: 1,
                expected: 4,
                got: 5
            })
        );
        let gap = ae(
            5,
            0,
            vec![Entry::normal(5, 1, &b""[..]), Entry::normal(5, 3, &b""[..])],
        );
        assert_eq!(
            encode_append_entries(&gap),
            Err(EncodeError::NonConsecutiveIndex {
                index_in_message: 1,
                expected: Some(2),
                got: 3
            })
        );
        let wrong_start = ae(5, 3, vec![Entry::normal(5, 1, &b""[..])]);
        assert!(matches!(
            encode_append_entries(&wrong_start),
            Err(EncodeError::NonConsecutiveIndex { .. })
        ));
        let overflow = ae(5, u64::MAX, vec![Entry::normal(5, 0, &b""[..])]);
        assert_eq!(
            encode_append_entries(&overflow),
            Err(EncodeError::NonConsecutiveIndex {
                index_in_message: 0,
                expected: None,
                got: 0
            })
        );
        let future = ae(3, 0, vec![Entry::normal(4, 1, &b""[..])]);
        assert_eq!(
            encode_append_entries(&future),
            Err(EncodeError::EntryTermAboveMessageTerm {
                entry_term: 4,
                message_term: 3
            })
        );
        let many: Vec<Entry> = (1..=65_536)
            .map(|i| Entry::normal(1, i, Bytes::new()))
            .collect();
        assert_eq!(
            encode_append_entries(&ae(1, 0, many)),
            Err(EncodeError::TooManyEntries { count: 65_536 })
        );
        let max: Vec<Entry> = (1..=65_535)
            .map(|i| Entry::normal(1, i, Bytes::new()))
            .collect();
        let m = ae(1, 0, max);
        let bytes = encode_append_entries(&m).unwrap();
        assert_eq!(&bytes[40..42], &[0xff, 0xff]);
        assert_eq!(decode_append_entries(&bytes).unwrap(), m);
        // Errors do not leave partial output behind.
        let mut out = vec![7];
        assert!(encode_append_entries_into(&mixed, &mut out).is_err());
        assert_eq!(out, vec![7]);
    }

    #[test]
    fn append_response_golden() {
        let m = AppendResponse {
            term: 9,
            index: 0x0102,
            peer: NodeId(0x11),
            success: true,
        };
        let bytes = encode_append_response(&m);
        let golden = cat(&[&le8(9), &le8(0x0102), &[0x11, 0, 0, 0, 0, 0, 0, 0], &[1]]);
        assert_eq!(bytes, golden);
        assert_eq!(decode_append_response(&bytes).unwrap(), m);
        let mut no = golden.clone();
        no[24] = 0;
        assert!(!decode_append_response(&no).unwrap().success);
        no[24] = 2;
        assert_eq!(
            decode_append_response(&no),
            Err(DecodeError::BadFlag {
                what: "append response success byte",
                offset: 24,
                value: 2
            })
        );
        assert_eq!(
            decode_append_response(&golden[..24]),
            Err(DecodeError::BadLength {
                what: "append response",
                expected: 25,
                got: 24
            })
        );
        let mut long = golden.clone();
        long.push(0);
        assert!(matches!(
            decode_append_response(&long),
            Err(DecodeError::BadLength { got: 26, .. })
        ));
    }

    #[test]
    fn vote_request_golden() {
        let m = VoteRequest {
            term: 7,
            last_term: 6,
            last_index: 300,
            candidate: NodeId(0xAABB),
        };
        let bytes = encode_vote_request(&m);
        let golden = cat(&[&le8(7), &le8(6), &le8(300), &[0xBB, 0xAA, 0, 0, 0, 0, 0, 0]]);
        assert_eq!(bytes, golden);
        assert_eq!(decode_vote_request(&bytes).unwrap(), m);
        assert!(matches!(
            decode_vote_request(&golden[..31]),
            Err(DecodeError::BadLength {
                expected: 32,
                got: 31,
                ..
            })
        ));
        assert!(matches!(
            decode_vote_request(&[golden.clone(), vec![0]].concat()),
            Err(DecodeError::BadLength { got: 33, .. })
        ));
    }

    #[test]
    fn vote_response_golden() {
        let m = VoteResponse {
            term: 7,
            peer: NodeId(3),
            granted: true,
            empty_log: false,
        };
        let bytes = encode_vote_response(&m);
        assert_eq!(bytes, cat(&[&le8(7), &[3, 0, 0, 0, 0, 0, 0, 0], &[0b01]]));
        assert_eq!(decode_vote_response(&bytes).unwrap(), m);
        let m2 = VoteResponse {
            granted: false,
            empty_log: true,
            ..m.clone()
        };
        assert_eq!(encode_vote_response(&m2)[16], 0b10);
        let m3 = VoteResponse {
            granted: true,
            empty_log: true,
            ..m
        };
        assert_eq!(encode_vote_response(&m3)[16], 0b11);
        assert_eq!(
            decode_vote_response(&encode_vote_response(&m3)).unwrap(),
            m3
        );
        let mut bad = bytes.clone();
        bad[16] = 0b100;
        assert_eq!(
            decode_vote_response(&bad),
            Err(DecodeError::BadFlag {
                what: "vote response flags",
                offset: 16,
                value: 4
            })
        );
        assert!(matches!(
            decode_vote_response(&bytes[..16]),
            Err(DecodeError::BadLength { expected: 17, .. })
        ));
    }

    #[test]
    fn forward_proposal_golden() {
        let m = ForwardProposal {
            data: Bytes::from_static(b"abc"),
        };
        assert_eq!(encode_forward_proposal(&m), b"abc".to_vec());
        assert_eq!(decode_forward_proposal(b"abc").unwrap(), m);
        assert_eq!(
            decode_forward_proposal(b"").unwrap(),
            ForwardProposal { data: Bytes::new() }
        );
    }

    #[test]
    fn peer_state_golden() {
        let ps = PeerState {
            cluster_size: 3,
            peers: vec![NodeId(1), NodeId(0x0200)],
            domain_ext: 2,
            observers: vec![],
        };
        let bytes = encode_peer_state(&ps);
        let golden = cat(&[
            &[3, 0, 0, 0],
            &[2, 0, 0, 0],
            &[1, 0, 0, 0, 0, 0, 0, 0],
            &[0, 2, 0, 0, 0, 0, 0, 0],
            &[2, 0],
        ]);
        assert_eq!(bytes, golden);
        assert_eq!(decode_peer_state(&bytes).unwrap(), ps);
        // domainExt is optional.
        assert_eq!(
            decode_peer_state(&golden[..golden.len() - 2]).unwrap(),
            PeerState {
                domain_ext: 0,
                ..ps.clone()
            }
        );
        // Partial domainExt, missing ids, trailing bytes.
        assert!(matches!(
            decode_peer_state(&golden[..golden.len() - 1]),
            Err(DecodeError::TooShort {
                what: "peer state domain extension",
                offset: 24,
                ..
            })
        ));
        assert!(matches!(
            decode_peer_state(&golden[..20]),
            Err(DecodeError::TooShort {
                what: "peer state peer ids",
                offset: 8,
                need: 16,
                got: 12
            })
        ));
        // A byte after domainExt starts the observer extension, which is then incomplete.
        assert!(matches!(
            decode_peer_state(&[golden.clone(), vec![0]].concat()),
            Err(DecodeError::TooShort {
                what: "peer state observer count",
                offset: 26,
                ..
            })
        ));
        assert!(matches!(
            decode_peer_state(&golden[..7]),
            Err(DecodeError::TooShort { .. })
        ));
        // A huge count is rejected before any allocation.
        let huge = cat(&[&[3, 0, 0, 0], &u32::MAX.to_le_bytes()]);
        assert!(matches!(
            decode_peer_state(&huge),
            Err(DecodeError::TooShort {
                what: "peer state peer ids",
                ..
            })
        ));
        // Empty peer list.
        let empty = PeerState::default();
        assert_eq!(encode_peer_state(&empty), vec![0; 10]);
        assert_eq!(decode_peer_state(&[0; 10]).unwrap(), empty);
    }

    #[test]
    fn peer_state_observer_extension_golden() {
        let ps = PeerState {
            cluster_size: 1,
            peers: vec![NodeId(1)],
            domain_ext: 0,
            observers: vec![NodeId(4), NodeId(5)],
        };
        let bytes = encode_peer_state(&ps);
        let nrg = cat(&[&[1, 0, 0, 0], &[1, 0, 0, 0], &le8(1), &[0, 0]]);
        let golden = cat(&[&nrg, &[2, 0, 0, 0], &le8(4), &le8(5)]);
        assert_eq!(bytes, golden);
        assert_eq!(decode_peer_state(&bytes).unwrap(), ps);
        // The NRG part alone is the same membership without observers: what an NRG encoder
        // writes, and what an NRG decoder reads out of the extended bytes.
        assert_eq!(
            decode_peer_state(&nrg).unwrap(),
            PeerState {
                observers: vec![],
                ..ps.clone()
            }
        );
        assert!(matches!(
            decode_peer_state(&golden[..golden.len() - 1]),
            Err(DecodeError::TooShort {
                what: "peer state observer ids",
                offset: 22,
                need: 16,
                got: 15
            })
        ));
        assert!(matches!(
            decode_peer_state(&[golden.clone(), vec![9]].concat()),
            Err(DecodeError::TrailingBytes {
                what: "peer state",
                offset: 38,
                count: 1
            })
        ));
        // A huge observer count is rejected before any allocation.
        let huge = cat(&[&nrg, &u32::MAX.to_le_bytes()]);
        assert!(matches!(
            decode_peer_state(&huge),
            Err(DecodeError::TooShort {
                what: "peer state observer ids",
                ..
            })
        ));
    }

    #[test]
    fn envelope_golden() {
        let vr = VoteRequest {
            term: 1,
            last_term: 0,
            last_index: 0,
            candidate: NodeId(2),
        };
        let bytes = encode_envelope(&Message::VoteRequest(vr.clone())).unwrap();
        assert_eq!(bytes[0], 3);
        assert_eq!(&bytes[1..], &encode_vote_request(&vr)[..]);
        assert_eq!(
            decode_envelope(&bytes).unwrap(),
            Message::VoteRequest(vr.clone())
        );

        let hb = ae(2, 0, vec![]);
        let bytes = encode_envelope(&Message::AppendEntries(hb.clone())).unwrap();
        assert_eq!(bytes[0], 1);
        assert_eq!(decode_envelope(&bytes).unwrap(), Message::AppendEntries(hb));

        let ar = AppendResponse {
            term: 1,
            index: 2,
            peer: NodeId(3),
            success: false,
        };
        let bytes = encode_envelope(&Message::AppendResponse(ar.clone())).unwrap();
        assert_eq!(bytes[0], 2);
        assert_eq!(
            decode_envelope(&bytes).unwrap(),
            Message::AppendResponse(ar)
        );

        let vresp = VoteResponse {
            term: 1,
            peer: NodeId(3),
            granted: true,
            empty_log: true,
        };
        let bytes = encode_envelope(&Message::VoteResponse(vresp.clone())).unwrap();
        assert_eq!(bytes[0], 4);
        assert_eq!(
            decode_envelope(&bytes).unwrap(),
            Message::VoteResponse(vresp.clone())
        );

        assert_eq!(
            decode_envelope(&[5, b'z']).unwrap(),
            Message::ForwardProposal(ForwardProposal {
                data: Bytes::from_static(b"z")
            })
        );
        assert_eq!(
            decode_envelope(&[5]).unwrap(),
            Message::ForwardProposal(ForwardProposal { data: Bytes::new() })
        );
        assert_eq!(decode_envelope(&[]), Err(DecodeError::EmptyEnvelope));
        assert_eq!(
            decode_envelope(&[0]),
            Err(DecodeError::UnknownTag { tag: 0 })
        );
        assert_eq!(
            decode_envelope(&[13, 1, 2]),
            Err(DecodeError::UnknownTag { tag: 13 })
        );

        // PreVote and transfer votes: the NRG vote bodies behind their own tags.
        let body = encode_vote_request(&vr);
        for (tag, m) in [
            (6, Message::PreVoteRequest(vr.clone())),
            (9, Message::TransferVoteRequest(vr.clone())),
        ] {
            let bytes = encode_envelope(&m).unwrap();
            assert_eq!(bytes[0], tag);
            assert_eq!(&bytes[1..], &body[..]);
            assert_eq!(decode_envelope(&bytes).unwrap(), m);
        }
        let pre_vote_response = Message::PreVoteResponse(vresp.clone());
        let bytes = encode_envelope(&pre_vote_response).unwrap();
        assert_eq!(bytes[0], 7);
        assert_eq!(&bytes[1..], &encode_vote_response(&vresp)[..]);
        assert_eq!(decode_envelope(&bytes).unwrap(), pre_vote_response);
        assert!(matches!(
            decode_envelope(&[6, 1, 2]),
            Err(DecodeError::BadLength {
                what: "vote request",
                ..
            })
        ));

        let tn = TimeoutNow {
            term: 4,
            leader: NodeId(1),
        };
        let bytes = encode_envelope(&Message::TimeoutNow(tn.clone())).unwrap();
        assert_eq!(bytes[0], 8);
        assert_eq!(&bytes[1..], &encode_timeout_now(&tn)[..]);
        assert_eq!(decode_envelope(&bytes).unwrap(), Message::TimeoutNow(tn));

        let ra = ReadAck {
            term: 4,
            seq: 2,
            peer: NodeId(3),
        };
        let bytes = encode_envelope(&Message::ReadAck(ra.clone())).unwrap();
        assert_eq!(bytes[0], 10);
        assert_eq!(&bytes[1..], &encode_read_ack(&ra)[..]);
        assert_eq!(decode_envelope(&bytes).unwrap(), Message::ReadAck(ra));
    }

    #[test]
    fn install_snapshot_golden() {
        let m = InstallSnapshot {
            term: 5,
            leader: NodeId(1),
            meta: SnapshotMeta {
                index: 9,
                term: 4,
                peers: PeerState {
                    cluster_size: 1,
                    peers: vec![NodeId(1)],
                    domain_ext: 0,
                    observers: vec![],
                },
            },
            offset: 3,
            data: Bytes::from_static(b"xy"),
            done: true,
        };
        let bytes = encode_install_snapshot(&m);
        let golden = cat(&[
            &le8(5),                   // term
            &le8(1),                   // leader
            &le8(4),                   // lastTerm
            &le8(9),                   // lastIndex
            &[18, 0, 0, 0],            // peerstateLen
            &[1, 0, 0, 0, 1, 0, 0, 0], // peer state: csz 1, one peer
            &le8(1),                   // n1
            &[0, 0],                   // domainExt
            &le8(3),                   // offset
            &[1],                      // done
            b"xy",                     // data
        ]);
        assert_eq!(bytes, golden);
        assert_eq!(bytes.len(), INSTALL_SNAPSHOT_FIXED_LEN + 18 + 2);
        assert_eq!(decode_install_snapshot(&bytes).unwrap(), m);
        let envelope = encode_envelope(&Message::InstallSnapshot(Box::new(m.clone()))).unwrap();
        assert_eq!(envelope[0], 11);
        assert_eq!(&envelope[1..], &golden[..]);
        assert_eq!(
            decode_envelope(&envelope).unwrap(),
            Message::InstallSnapshot(Box::new(m))
        );

        // A bad done flag, a peer-state length past the end, a short header.
        let mut bad = golden.clone();
        bad[62] = 2;
        assert_eq!(
            decode_install_snapshot(&bad),
            Err(DecodeError::BadFlag {
                what: "install snapshot done",
                offset: 62,
                value: 2
            })
        );
        let mut bad = golden.clone();
        bad[32] = 200;
        assert!(matches!(
            decode_install_snapshot(&bad),
            Err(DecodeError::TooShort {
                what: "install snapshot peer state",
                offset: 36,
                need: 200,
                ..
            })
        ));
        assert!(matches!(
            decode_install_snapshot(&golden[..30]),
            Err(DecodeError::TooShort {
                what: "install snapshot",
                ..
            })
        ));
    }

    #[test]
    fn snapshot_response_golden() {
        let m = SnapshotResponse {
            term: 5,
            peer: NodeId(2),
            index: 9,
            next_offset: 1024,
            done: false,
        };
        let bytes = encode_snapshot_response(&m);
        let golden = cat(&[&le8(5), &le8(2), &le8(9), &le8(1024), &[0]]);
        assert_eq!(bytes, golden);
        assert_eq!(bytes.len(), SNAPSHOT_RESPONSE_LEN);
        assert_eq!(decode_snapshot_response(&bytes).unwrap(), m);
        let envelope = encode_envelope(&Message::SnapshotResponse(m.clone())).unwrap();
        assert_eq!(envelope[0], 12);
        assert_eq!(
            decode_envelope(&envelope).unwrap(),
            Message::SnapshotResponse(m)
        );
        let mut bad = golden.clone();
        bad[32] = 7;
        assert!(matches!(
            decode_snapshot_response(&bad),
            Err(DecodeError::BadFlag {
                offset: 32,
                value: 7,
                ..
            })
        ));
        assert!(matches!(
            decode_snapshot_response(&golden[..32]),
            Err(DecodeError::BadLength {
                expected: 33,
                got: 32,
                ..
            })
        ));
    }

    #[test]
    fn errors_display_what_and_where() {
        let e = DecodeError::BadEntry {
            index_in_message: 2,
            offset: 57,
            reason: "length is zero",
        };
        assert_eq!(
            e.to_string(),
            "append entries: entry #2 at byte 57: length is zero"
        );
        let e = DecodeError::TooShort {
            what: "vote request",
            offset: 0,
            need: 32,
            got: 3,
        };
        assert!(e.to_string().contains("vote request"));
        let e: Box<dyn std::error::Error> = Box::new(EncodeError::TooManyEntries { count: 70_000 });
        assert!(e.to_string().contains("70000"));
    }
}
