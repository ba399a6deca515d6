//! The stream's properties, checked on every replica after every apply (each is cheap:
//! it looks at the entry applied and the messages stored, never at the whole stream):
//!
//! - **batch-contiguous**: a batch's entries follow each other in the log, in one term
//!   (the contract of `ProposeMulti` the applier relies on);
//! - **no-partial-batch**: after an apply, every batch with a message stored has all of
//!   them stored, batch sequences 1 to N, once each;
//! - **dense-sequences**: each message stored takes the sequence after the last;
//! - **msg-id-once**: a `Nats-Msg-Id` is stored at most once while inside its window;
//! - **batch-abandoned-on-leader-change**: once an entry of a newer term is applied, no
//!   batch begun in an older term is still being collected.
//!
//! The properties keep their own record (fed by what each apply stored), apart from the
//! stream's state, so a stream that lost part of its state (a snapshot restored without its
//! de-duplication table) is caught. After a restore the record is rebuilt from the live
//! messages, which can only forget ids (a purged message's), never invent one.

use crate::app::AppViolation;
use crate::checkers::Property;
use raft_core::Entry;
use state_machines::stream::{EntryBody, Stored, Stream, StreamEntry};
use std::collections::BTreeMap;

/// A batch with messages stored: the batch sequences seen, and its size once known.
struct Partial {
    seqs: Vec<u32>,
    count: u32,
}

/// An entry applied: (index, term, its batch id and batch sequence).
type Previous = (u64, u64, Option<(String, u32)>);

pub(super) struct Properties {
    window: u64,
    /// The previous entry applied: (index, term, its batch id and batch sequence).
    previous: Option<Previous>,
    last_seq: Option<u64>,
    ids: BTreeMap<String, u64>,
    partial: BTreeMap<String, Partial>,
}

fn violation(property: Property, detail: String) -> Result<(), AppViolation> {
    Err(AppViolation { property, detail })
}

impl Properties {
    pub(super) fn new(window: u64) -> Properties {
        Properties {
            window,
            previous: None,
            last_seq: Some(0),
            ids: BTreeMap::new(),
            partial: BTreeMap::new(),
        }
    }

    /// batch-contiguous, at each entry.
    pub(super) fn before_apply(
        &mut self,
        entry: &Entry,
        decoded: Option<&StreamEntry>,
    ) -> Result<(), AppViolation> {
        let batch = match decoded {
            Some(StreamEntry {
                body: EntryBody::Publish { batch: Some(b), .. },
                ..
            }) => Some((b.id.clone(), b.seq)),
            _ => None,
        };
        let previous = self
            .previous
            .replace((entry.index, entry.term, batch.clone()));
        let Some((id, seq)) = batch.filter(|(_, seq)| *seq > 1) else {
            return Ok(());
        };
        let Some((index, term, before)) = previous else {
            return Ok(()); // restored or booted: nothing to compare with
        };
        if index + 1 == entry.index
            && term == entry.term
            && before.as_ref() == Some(&(id.clone(), seq - 1))
        {
            return Ok(());
        }
        violation(
            Property::BatchContiguous,
            format!(
                "message {seq} of batch {id} at index {} term {}, after {} at index {index} term {term}",
                entry.index,
                entry.term,
                match before {
                    Some((b, s)) => format!("message {s} of batch {b}"),
                    None => "an entry of no batch".to_string(),
                }
            ),
        )
    }

    /// dense-sequences and msg-id-once, for the messages one entry stored.
    pub(super) fn stored(&mut self, stored: &[Stored]) -> Result<(), AppViolation> {
        for m in stored {
            if let Some(last) = self.last_seq {
                if m.seq != last + 1 {
                    return violation(
                        Property::DenseSequences,
                        format!("stored at sequence {} after {last}", m.seq),
                    );
                }
            }
            self.last_seq = Some(m.seq);
            if let Some(id) = &m.msg_id {
                if let Some(&at) = self.ids.get(id) {
                    if at + self.window > m.seq - 1 {
                        return violation(
                            Property::MsgIdOnce,
                            format!(
                                "Nats-Msg-Id {id} stored at {} and again at {} (window {})",
                                at, m.seq, self.window
                            ),
                        );
                    }
                }
                self.ids.insert(id.clone(), m.seq);
            }
            if let Some((id, seq, count)) = &m.batch {
                let p = self.partial.entry(id.clone()).or_insert(Partial {
                    seqs: Vec::new(),
                    count: 0,
                });
                p.seqs.push(*seq);
                p.count = (*count).max(p.count);
            }
        }
        Ok(())
    }

    /// batch-abandoned-on-leader-change: once an entry of a newer term is applied, no batch
    /// begun in an older term is still being collected (its leader is gone; the rest of it
    /// can never come, and a retry of it must not be merged into it).
    pub(super) fn held_across_terms(&self, stream: &Stream, term: u64) -> Result<(), AppViolation> {
        match stream.collecting().find(|&(_, t)| t < term) {
            None => Ok(()),
            Some((id, t)) => violation(
                Property::BatchAbandonedOnLeaderChange,
                format!(
                    "batch {id}, begun in term {t}, still collected after an entry of term {term}"
                ),
            ),
        }
    }

    /// no-partial-batch, once the apply is over.
    pub(super) fn after_apply(&mut self) -> Result<(), AppViolation> {
        let partial = std::mem::take(&mut self.partial);
        for (id, p) in partial {
            if p.count > 0 && p.seqs.iter().copied().eq(1..=p.count) {
                continue;
            }
            let size = if p.count == 0 {
                "an unknown size".to_string()
            } else {
                p.count.to_string()
            };
            return violation(
                Property::NoPartialBatch,
                format!(
                    "batch {id} stored with batch sequences {:?} of {size}",
                    p.seqs
                ),
            );
        }
        Ok(())
    }

    /// A snapshot replaced the stream: start over from what it holds.
    pub(super) fn restored(&mut self, stream: &Stream) {
        self.previous = None;
        self.partial.clear();
        self.last_seq = Some(stream.last_seq());
        self.ids = stream
            .msg_ids()
            .map(|(seq, id)| (id.to_string(), seq))
            .collect();
    }
}
