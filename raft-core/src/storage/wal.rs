//! The WAL: records that each store an append entry after `(prev_index, prev_term)`, and the
//! replay that tells a torn unsynced tail from damage (the format is in [`crate::storage`]).

use super::read_u32;
use crate::codec::{self, DecodeError, EncodeError};
use crate::message::AppendEntries;
use crate::node::LogDamage;
use crate::types::{Entry, NodeId};
use std::fmt;

/// Length of a WAL record header (`len`, `header_crc`, `payload_crc`).
pub const WAL_HEADER_LEN: usize = 12;

/// Appends one WAL record holding `ae` to `out`. On error nothing is appended.
///
/// `ae` must satisfy [`codec::encode_append_entries`]'s rules (one term, consecutive indexes
/// from `prev_index + 1`, at most 65,535 entries), and its entries' term must not be below
/// `prev_term`.
pub fn append_wal_record(out: &mut Vec<u8>, ae: &AppendEntries) -> Result<(), EncodeError> {
    if let Some(e) = ae.entries.first() {
        if e.term < ae.prev_term {
            return Err(EncodeError::TermBelowPrevTerm {
                entry_term: e.term,
                prev_term: ae.prev_term,
            });
        }
    }
    let start = out.len();
    out.extend_from_slice(&[0u8; WAL_HEADER_LEN]);
    if let Err(e) = codec::encode_append_entries_into(ae, out) {
        out.truncate(start);
        return Err(e);
    }
    let payload_len = out.len() - start - WAL_HEADER_LEN;
    let Ok(len) = u32::try_from(payload_len) else {
        out.truncate(start);
        return Err(EncodeError::RecordTooLarge { len: payload_len });
    };
    let len_bytes = len.to_le_bytes();
    let payload_crc = crc32c::crc32c(&out[start + WAL_HEADER_LEN..]);
    out[start..start + 4].copy_from_slice(&len_bytes);
    out[start + 4..start + 8].copy_from_slice(&crc32c::crc32c(&len_bytes).to_le_bytes());
    out[start + 8..start + 12].copy_from_slice(&payload_crc.to_le_bytes());
    Ok(())
}

/// Encodes one WAL record holding `ae` (see the module docs for the layout).
pub fn encode_wal_record(ae: &AppendEntries) -> Result<Vec<u8>, EncodeError> {
    let mut out = Vec::new();
    append_wal_record(&mut out, ae)?;
    Ok(out)
}

/// Encodes "store `entries` after `(prev_index, prev_term)`" as one or more WAL records.
///
/// `entries` must be consecutive from `prev_index + 1` but may span several terms: they are
/// split into maximal runs of one term (and at most 65,535 entries), each run a record linked
/// to the previous one. No entries gives one record that only truncates the log after
/// `prev_index`. `commit_hint` is stored in every record and ignored by recovery.
pub fn encode_wal_append(
    prev_index: u64,
    prev_term: u64,
    entries: &[Entry],
    commit_hint: u64,
) -> Result<Vec<u8>, EncodeError> {
    let mut out = Vec::new();
    let mut prev = (prev_index, prev_term);
    let mut rest = entries;
    loop {
        let term = rest.first().map_or(prev.1, |e| e.term);
        let run = rest
            .iter()
            .take(codec::MAX_ENTRIES_PER_MESSAGE)
            .take_while(|e| e.term == term)
            .count();
        let (chunk, tail) = rest.split_at(run);
        let ae = AppendEntries {
            leader: NodeId(0),
            term,
            commit: commit_hint,
            prev_term: prev.1,
            prev_index: prev.0,
            entries: chunk.to_vec(),
            read_seq: 0,
        };
        append_wal_record(&mut out, &ae)?;
        if let Some(last) = chunk.last() {
            prev = (last.index, last.term);
        }
        rest = tail;
        if rest.is_empty() {
            return Ok(out);
        }
    }
}

/// Why a complete WAL record was judged damaged.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum WalCorruption {
    /// `header_crc` does not match the `len` field.
    HeaderChecksum { stored: u32, computed: u32 },
    /// The payload is complete but `payload_crc` does not match it.
    PayloadChecksum { stored: u32, computed: u32 },
    /// The checksums match but the payload is not a valid AppendEntries.
    Undecodable(DecodeError),
    /// `prev_index` is beyond the end of the log replayed so far.
    Gap { prev_index: u64, last_index: u64 },
    /// `prev_index` is before the start of the log (the snapshot point of the first record).
    BeforeLogStart { prev_index: u64, log_start: u64 },
    /// `prev_term` is not the term of the replayed entry at `prev_index`.
    TermMismatch {
        prev_index: u64,
        record_prev_term: u64,
        log_term: u64,
    },
    /// The record's entries have a term below `prev_term` (log terms never decrease).
    TermRegression { prev_term: u64, entry_term: u64 },
}

impl fmt::Display for WalCorruption {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            WalCorruption::HeaderChecksum { stored, computed } => write!(
                f,
                "header checksum mismatch (stored {stored:#010x}, computed {computed:#010x})"
            ),
            WalCorruption::PayloadChecksum { stored, computed } => write!(
                f,
                "payload checksum mismatch (stored {stored:#010x}, computed {computed:#010x})"
            ),
            WalCorruption::Undecodable(e) => write!(f, "payload does not decode: {e}"),
            WalCorruption::Gap { prev_index, last_index } => write!(
                f,
                "prev_index {prev_index} is beyond the last replayed index {last_index}"
            ),
            WalCorruption::BeforeLogStart { prev_index, log_start } => {
                write!(f, "prev_index {prev_index} is before the log start {log_start}")
            }
            WalCorruption::TermMismatch { prev_index, record_prev_term, log_term } => write!(
                f,
                "prev_term {record_prev_term} does not match term {log_term} of the entry at index {prev_index}"
            ),
            WalCorruption::TermRegression { prev_term, entry_term } => {
                write!(f, "entries have term {entry_term}, below prev_term {prev_term}")
            }
        }
    }
}

/// What recovery concluded about a WAL image.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum WalVerdict {
    /// Every byte belongs to a good record.
    Clean,
    /// The last record, starting at `offset`, is incomplete (`dropped_bytes` bytes up to the end
    /// of the file). This is what a crash during an unsynced append leaves; safe to drop.
    TornTail { offset: usize, dropped_bytes: usize },
    /// Record number `record_number` (0-based), starting at `offset`, was written completely
    /// but is damaged or does not link. Not safe to drop silently.
    Corrupt {
        offset: usize,
        record_number: usize,
        reason: WalCorruption,
    },
}

impl fmt::Display for WalVerdict {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            WalVerdict::Clean => write!(f, "clean"),
            WalVerdict::TornTail {
                offset,
                dropped_bytes,
            } => {
                write!(
                    f,
                    "torn tail: {dropped_bytes} bytes of an incomplete record at byte {offset}"
                )
            }
            WalVerdict::Corrupt {
                offset,
                record_number,
                reason,
            } => {
                write!(
                    f,
                    "corrupt: record #{record_number} at byte {offset}: {reason}"
                )
            }
        }
    }
}

/// The result of [`recover_wal`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WalRecovery {
    /// `(prev_index, prev_term)` of the first record: the log holds entries after this point.
    /// `(0, 0)` for an empty WAL or one that starts at the beginning of the log.
    pub log_start: (u64, u64),
    /// The log after replaying every good record, truncations applied. On `Corrupt`, the log
    /// replayed up to (not including) the damaged record.
    pub entries: Vec<Entry>,
    /// How many good records were replayed.
    pub records: usize,
    /// Bytes of good records: the offset where the torn or damaged record starts, or the whole
    /// length when clean. After `TornTail` the host truncates the file to this length.
    pub valid_len: usize,
    pub verdict: WalVerdict,
    /// On `Corrupt`: the most up-to-date end, `(index, term)`, of any log the WAL held, as
    /// its intact records show it (each record names the position it stores after and its
    /// entries' indexes and term, so the end of the log survives damage to the records
    /// before it). The most up to date, not the last: a node that was repairing wrote records
    /// behind the log it answered for. `None` when the log is usable, or when the last
    /// complete record is damaged: then where the log ended is unknown.
    pub held_through: Option<(u64, u64)>,
    /// The highest term of any intact record (the bound on an unknown end's terms).
    pub highest_term: u64,
}

impl WalRecovery {
    /// Index of the last entry (the log start index if there are none).
    pub fn last_index(&self) -> u64 {
        self.entries.last().map_or(self.log_start.0, |e| e.index)
    }

    /// Term of the last entry (the log start term if there are none).
    pub fn last_term(&self) -> u64 {
        self.entries.last().map_or(self.log_start.1, |e| e.term)
    }

    /// True if the verdict is [`WalVerdict::Clean`] or [`WalVerdict::TornTail`].
    pub fn is_usable(&self) -> bool {
        !matches!(self.verdict, WalVerdict::Corrupt { .. })
    }

    /// What a node must still answer for after damage: `None` when the WAL is usable,
    /// otherwise the end of the log it held ([`WalRecovery::held_through`]) or, when that is
    /// unknown, the bound on its terms: no entry of the lost tail has a term above
    /// `durable_term` (the term/vote file's) or above the intact entries' last term. The node
    /// answers votes as though it still held that log (see [`LogDamage`]).
    pub fn damage(&self, durable_term: u64) -> Option<LogDamage> {
        if self.is_usable() {
            return None;
        }
        Some(match self.held_through {
            Some((index, term)) => LogDamage::HeldThrough { index, term },
            None => LogDamage::Unknown {
                term_bound: durable_term.max(self.highest_term),
            },
        })
    }
}

/// An intact record: checksums match and the payload decodes.
fn intact_record_at(rest: &[u8]) -> Option<(usize, AppendEntries)> {
    match record_at(rest, codec::decode_append_entries) {
        RecordAt::Intact(len, ae) => Some((len, ae)),
        RecordAt::Damaged | RecordAt::Short => None,
    }
}

/// What the bytes at one offset of a WAL image hold.
pub(super) enum RecordAt {
    /// An intact record of this many bytes: checksums match and the payload decodes.
    Intact(usize, AppendEntries),
    /// No intact record, whatever follows the image's end.
    Damaged,
    /// No intact record because the image ends too soon (a header cut short, or a checked
    /// header whose record runs past the end): bytes appended later may complete one.
    Short,
}

/// The one reading of a record at the start of `rest`, its payload decoded by `decode`.
#[inline(always)]
pub(super) fn record_at(
    rest: &[u8],
    decode: impl FnOnce(&[u8]) -> Result<AppendEntries, DecodeError>,
) -> RecordAt {
    if rest.len() < WAL_HEADER_LEN {
        return RecordAt::Short;
    }
    if read_u32(rest, 4) != crc32c::crc32c(&rest[0..4]) {
        return RecordAt::Damaged;
    }
    let len = read_u32(rest, 0) as usize;
    let Some(payload) = WAL_HEADER_LEN
        .checked_add(len)
        .and_then(|end| rest.get(WAL_HEADER_LEN..end))
    else {
        return RecordAt::Short;
    };
    if read_u32(rest, 8) != crc32c::crc32c(payload) {
        return RecordAt::Damaged;
    }
    match decode(payload) {
        Ok(ae) => RecordAt::Intact(WAL_HEADER_LEN + len, ae),
        Err(_) => RecordAt::Damaged,
    }
}

/// Every intact record of a WAL image, in file order, for a host that reads entries back
/// by index ([`crate::Action::ReadLog`]): damaged bytes are skipped by scanning for the next
/// offset where a header and its payload both check, as after damage at recovery. An
/// entry's (index, term) names its content, so any intact record holding it will do; the
/// node checks the term of what it gets back. Never panics.
pub fn intact_wal_records(bytes: &[u8]) -> Vec<AppendEntries> {
    let mut records = Vec::new();
    let mut at = 0;
    while at < bytes.len() {
        match intact_record_at(&bytes[at..]) {
            Some((len, ae)) => {
                records.push(ae);
                at += len;
            }
            None => at += 1,
        }
    }
    records
}

/// The (term, index) a record leaves the log ending at.
fn record_end(ae: &AppendEntries) -> (u64, u64) {
    ae.entries
        .last()
        .map_or((ae.prev_term, ae.prev_index), |e| (e.term, e.index))
}

/// After damage at `offset`: the most up-to-date end (term, index) of the intact records
/// that follow, `most` on the way up to the damage included, and whether the last complete
/// record is intact (else a damaged last record may have extended the log anywhere).
/// Records are found by scanning for the next offset where a header and its payload both
/// check (a damaged length hides where the next record starts). An incomplete record at the
/// very end is an unsynced torn tail and is ignored, as on the way up to the damage.
fn scan_after_damage(bytes: &[u8], offset: usize, mut most: (u64, u64)) -> ((u64, u64), bool) {
    let mut at = offset + 1;
    let mut last_intact = false;
    while at < bytes.len() {
        let rest = &bytes[at..];
        if let Some((len, ae)) = intact_record_at(rest) {
            most = most.max(record_end(&ae));
            last_intact = true;
            at += len;
            continue;
        }
        let header_ok =
            rest.len() >= WAL_HEADER_LEN && read_u32(rest, 4) == crc32c::crc32c(&rest[0..4]);
        if last_intact
            && (rest.len() < WAL_HEADER_LEN
                || (header_ok && rest.len() - WAL_HEADER_LEN < read_u32(rest, 0) as usize))
        {
            // A torn tail right after an intact record.
            break;
        }
        last_intact = false;
        at += 1;
    }
    (most, last_intact)
}

/// Links a decoded record onto the replayed log, or says why it does not link.
fn apply_record(
    log_start: &mut (u64, u64),
    log: &mut Vec<Entry>,
    first: bool,
    ae: AppendEntries,
) -> Result<(), WalCorruption> {
    if first {
        if ae.prev_index == 0 && ae.prev_term != 0 {
            return Err(WalCorruption::TermMismatch {
                prev_index: 0,
                record_prev_term: ae.prev_term,
                log_term: 0,
            });
        }
        *log_start = (ae.prev_index, ae.prev_term);
    }
    let (start_index, start_term) = *log_start;
    if ae.prev_index < start_index {
        return Err(WalCorruption::BeforeLogStart {
            prev_index: ae.prev_index,
            log_start: start_index,
        });
    }
    // Entries in `log` are consecutive from start_index + 1, so this fits in usize.
    let keep = ae.prev_index - start_index;
    if keep > log.len() as u64 {
        return Err(WalCorruption::Gap {
            prev_index: ae.prev_index,
            last_index: start_index + log.len() as u64,
        });
    }
    let keep = keep as usize;
    let log_term = if keep == 0 {
        start_term
    } else {
        log[keep - 1].term
    };
    if log_term != ae.prev_term {
        return Err(WalCorruption::TermMismatch {
            prev_index: ae.prev_index,
            record_prev_term: ae.prev_term,
            log_term,
        });
    }
    if let Some(e) = ae.entries.first() {
        if e.term < ae.prev_term {
            return Err(WalCorruption::TermRegression {
                prev_term: ae.prev_term,
                entry_term: e.term,
            });
        }
    }
    log.truncate(keep);
    log.extend(ae.entries);
    Ok(())
}

/// Replays a WAL image: returns the resulting log and a verdict (see the module docs for the
/// torn-versus-corrupt rule). Never panics.
pub fn recover_wal(bytes: &[u8]) -> WalRecovery {
    let mut log_start = (0, 0);
    let mut log = Vec::new();
    let mut offset = 0usize;
    let mut record_number = 0usize;
    // The most up-to-date end (term, index) any intact record left.
    let mut most = (0, 0);
    let verdict = loop {
        let rest = &bytes[offset..];
        if rest.is_empty() {
            break WalVerdict::Clean;
        }
        if rest.len() < WAL_HEADER_LEN {
            break WalVerdict::TornTail {
                offset,
                dropped_bytes: rest.len(),
            };
        }
        let corrupt = |reason| WalVerdict::Corrupt {
            offset,
            record_number,
            reason,
        };
        let len = read_u32(rest, 0);
        let stored = read_u32(rest, 4);
        let computed = crc32c::crc32c(&rest[0..4]);
        if stored != computed {
            break corrupt(WalCorruption::HeaderChecksum { stored, computed });
        }
        let len = len as usize;
        if rest.len() - WAL_HEADER_LEN < len {
            break WalVerdict::TornTail {
                offset,
                dropped_bytes: rest.len(),
            };
        }
        let payload = &rest[WAL_HEADER_LEN..WAL_HEADER_LEN + len];
        let stored = read_u32(rest, 8);
        let computed = crc32c::crc32c(payload);
        if stored != computed {
            break corrupt(WalCorruption::PayloadChecksum { stored, computed });
        }
        let ae = match codec::decode_append_entries(payload) {
            Ok(ae) => ae,
            Err(e) => break corrupt(WalCorruption::Undecodable(e)),
        };
        most = most.max(record_end(&ae));
        if let Err(reason) = apply_record(&mut log_start, &mut log, record_number == 0, ae) {
            break corrupt(reason);
        }
        offset += WAL_HEADER_LEN + len;
        record_number += 1;
    };
    let (held_through, highest_term) = match verdict {
        WalVerdict::Corrupt { .. } => {
            let (most, last_intact) = scan_after_damage(bytes, offset, most);
            (last_intact.then_some((most.1, most.0)), most.0)
        }
        _ => (None, most.0),
    };
    WalRecovery {
        log_start,
        entries: log,
        records: record_number,
        valid_len: offset,
        verdict,
        held_through,
        highest_term,
    }
}
