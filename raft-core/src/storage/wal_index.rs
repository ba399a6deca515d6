//! Which record of a WAL image holds each entry, for a host that reads entries back by
//! index ([`crate::Action::ReadLog`]) often: reading them from [`super::intact_wal_records`]
//! checks and decodes every record of the file per read; the index checks each record once,
//! as the file grows, and a read decodes only the records that hold what it asks for.
//!
//! It answers exactly as a scan of the whole image would: the same records count as intact
//! (found by the same scan for the next offset where a header and its payload both check),
//! and of the records holding an index, the last in file order wins.

use super::wal::{record_at, RecordAt};
use crate::codec;
use crate::types::Entry;
use std::collections::BTreeMap;

/// The index of one WAL image, brought up to date by [`WalIndex::catch_up`].
#[derive(Clone, Debug, Default)]
pub struct WalIndex {
    /// How many bytes of the image were scanned.
    scanned: usize,
    /// Each entry index, with the offset of the last intact record holding it.
    latest: BTreeMap<u64, usize>,
    /// The first offset judged without a record because the image ended too soon
    /// ([`RecordAt::Short`]): once bytes are appended the scan resumes there.
    resume_at: Option<usize>,
    /// Whether an intact record was found after `resume_at` (then a resumed scan could
    /// disagree with it, and the index is rebuilt instead).
    found_after_resume: bool,
}

impl WalIndex {
    /// Scans what was appended to `bytes` since the last call. `bytes` must be the image of
    /// the last call with bytes appended (or the same): after any other change (a rewrite,
    /// damage, a truncation) start from a new index. A shorter image is taken as a new one.
    pub fn catch_up(&mut self, bytes: &[u8]) {
        if bytes.len() < self.scanned {
            *self = WalIndex::default();
        }
        if bytes.len() == self.scanned {
            return;
        }
        if let Some(at) = self.resume_at.take() {
            if self.found_after_resume {
                *self = WalIndex::default();
            } else {
                self.scanned = at;
            }
        }
        let mut at = self.scanned;
        while at < bytes.len() {
            let mut last = None;
            let decode = |payload: &[u8]| {
                codec::decode_append_entries_filtered(payload, |index| {
                    last = Some(index);
                    false
                })
            };
            match record_at(&bytes[at..], decode) {
                RecordAt::Intact(len, ae) => {
                    if let Some(last) = last {
                        for index in ae.prev_index + 1..=last {
                            self.latest.insert(index, at);
                        }
                    }
                    self.found_after_resume |= self.resume_at.is_some();
                    at += len;
                }
                RecordAt::Damaged => at += 1,
                RecordAt::Short => {
                    self.resume_at.get_or_insert(at);
                    at += 1;
                }
            }
        }
        self.scanned = at;
    }

    /// The entries `from..=to` as the intact records of `bytes` (the image of the last
    /// [`WalIndex::catch_up`]) hold them, the last record holding an index winning, as far as
    /// they run without a gap: empty when `from` is in no intact record.
    pub fn entries(&self, bytes: &[u8], from: u64, to: u64) -> Vec<Entry> {
        let mut entries = Vec::new();
        let mut next = from;
        while next <= to {
            let Some(&offset) = self.latest.get(&next) else {
                break;
            };
            let decode = |payload: &[u8]| {
                codec::decode_append_entries_filtered(payload, |index| (next..=to).contains(&index))
            };
            let RecordAt::Intact(_, ae) = record_at(bytes.get(offset..).unwrap_or(&[]), decode)
            else {
                // The image changed under the index (a caller's mistake): nothing is read.
                break;
            };
            let before = entries.len();
            for entry in ae.entries {
                if entry.index != next || self.latest.get(&next) != Some(&offset) {
                    break;
                }
                entries.push(entry);
                match next.checked_add(1) {
                    Some(after) => next = after,
                    None => return entries,
                }
            }
            if entries.len() == before {
                break;
            }
        }
        entries
    }
}
