//! What can go wrong when encoding or decoding: every variant names what and where.

use super::{MAX_ENTRIES_PER_MESSAGE, MAX_ENTRY_DATA_LEN};
use std::fmt;

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
    /// A field holds a value its message does not allow (`reason` says which).
    BadValue {
        what: &'static str,
        offset: usize,
        reason: &'static str,
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
            DecodeError::BadValue {
                what,
                offset,
                reason,
            } => write!(f, "{what}: {reason} at byte {offset}"),
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
    /// A repair response offers entries but holds none (it offers positions then).
    EmptyRepairOffer,
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
            EncodeError::EmptyRepairOffer => {
                write!(f, "repair response: an entries offer holds no entry")
            }
        }
    }
}

impl std::error::Error for EncodeError {}
