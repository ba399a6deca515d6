//! The replicated stream: applies committed entries in order, on every replica the same.
//!
//! Architecture invariant: the stream's state changes only by applying committed entries or
//! restoring a snapshot; every header check of a publish or a batch runs here, against the
//! state the committed log leaves, so every replica decides the same.
//!
//! Batches: the applier collects a batch's messages until the entry carrying its commit
//! marker and stores them all or none. It trusts the log's order: a leader proposes a batch
//! with one `ProposeMulti`, so within one term its entries are contiguous and numbered by
//! the leader that staged them, and only a leadership change can cut one short. So a batch
//! being collected is abandoned when an entry of a newer term arrives (the leader that
//! proposed it is gone; the rest can never come), and that is the only rule: no other entry
//! can come between a batch's entries in one term. While a batch is being collected the applier has consumed entries whose
//! effects are not in its state: [`Stream::applied_through`] is the `applied` of NRG's
//! `Processed(index, applied)`, so Raft never compacts into the batch and a snapshot never
//! holds half of one.

use super::{
    BatchPart, EntryBody, Found, Message, Refusal, StreamConfig, StreamEntry, StreamResult,
};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::fmt;

/// A message as the stream stores it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
struct Kept {
    subject: String,
    data: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    msg_id: Option<String>,
}

/// What a snapshot holds: the stream after the applied index.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
struct State {
    /// The last sequence assigned (sequences are dense: the next is `last_seq + 1`).
    last_seq: u64,
    /// Live messages (a rollup purges).
    msgs: BTreeMap<u64, Kept>,
    /// Each subject's last sequence.
    subject_last: BTreeMap<String, u64>,
    /// `Nats-Msg-Id`s within the window, and their sequences.
    dedupe: BTreeMap<String, u64>,
    /// The same, by sequence (to forget ids that leave the window).
    dedupe_by_seq: BTreeMap<u64, String>,
    /// The `Nats-Msg-Id` of the last message stored.
    last_msg_id: Option<String>,
}

/// A batch being collected by the applier.
#[derive(Clone, Debug)]
struct Collecting {
    id: String,
    term: u64,
    first_index: u64,
    msgs: Vec<(u32, Message)>,
}

/// One message stored by an apply (what the simulator's properties look at).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Stored {
    pub seq: u64,
    pub subject: String,
    pub data: String,
    pub msg_id: Option<String>,
    /// (batch id, batch sequence, messages in the batch) for a batch's message.
    pub batch: Option<(String, u32, u32)>,
}

/// What applying one entry did.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Applied {
    /// The answer to the client operation the entry completes: (client, operation
    /// sequence, result). Batch messages before the commit marker answer nothing.
    pub reply: Option<(u32, u64, StreamResult)>,
    /// The messages stored, in sequence order.
    pub stored: Vec<Stored>,
    /// Batches abandoned by this entry (cut short by a leadership change).
    pub abandoned: Vec<String>,
}

/// A snapshot that is not a stream's.
#[derive(Debug, PartialEq, Eq)]
pub struct RestoreError(pub String);

impl fmt::Display for RestoreError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "not a stream snapshot: {}", self.0)
    }
}

impl std::error::Error for RestoreError {}

/// The replicated stream.
#[derive(Clone, Debug)]
pub struct Stream {
    config: StreamConfig,
    state: State,
    collecting: Vec<Collecting>,
    /// The term and index of the last entry consumed.
    last_term: u64,
    last_index: u64,
    #[cfg(feature = "planted-bugs")]
    planted: Option<super::planted::StreamBug>,
}

/// `planted!(self, Bug)`: that stream-layer bug is switched on (never, without the feature).
#[cfg(feature = "planted-bugs")]
macro_rules! planted {
    ($s:expr, $bug:ident) => {
        $s.planted == Some(super::planted::StreamBug::$bug)
    };
}
#[cfg(not(feature = "planted-bugs"))]
macro_rules! planted {
    ($s:expr, $bug:ident) => {
        false
    };
}

impl Stream {
    pub fn new(config: StreamConfig) -> Stream {
        Stream {
            config,
            state: State::default(),
            collecting: Vec::new(),
            last_term: 0,
            last_index: 0,
            #[cfg(feature = "planted-bugs")]
            planted: None,
        }
    }

    /// Switches one stream-layer planted bug on (the bug hunt).
    #[cfg(feature = "planted-bugs")]
    pub fn plant(&mut self, bug: super::planted::StreamBug) {
        self.planted = Some(bug);
    }

    pub fn config(&self) -> &StreamConfig {
        &self.config
    }

    pub fn last_seq(&self) -> u64 {
        self.state.last_seq
    }

    /// Live messages.
    pub fn len(&self) -> usize {
        self.state.msgs.len()
    }

    pub fn is_empty(&self) -> bool {
        self.state.msgs.is_empty()
    }

    /// The index of the last entry consumed (NRG `processed`).
    pub fn processed(&self) -> u64 {
        self.last_index
    }

    /// The highest index whose effects are all in the state (NRG `applied`): just before
    /// the first entry of a batch still being collected, else the last entry consumed.
    pub fn applied_through(&self) -> u64 {
        self.collecting
            .iter()
            .map(|c| c.first_index - 1)
            .min()
            .unwrap_or(self.last_index)
    }

    /// The batches being collected: (id, the term of their first entry).
    pub fn collecting(&self) -> impl Iterator<Item = (&str, u64)> {
        self.collecting.iter().map(|c| (c.id.as_str(), c.term))
    }

    /// The live message at `seq`.
    pub fn get(&self, seq: u64) -> Option<Found> {
        self.state.msgs.get(&seq).map(|m| Found {
            seq,
            subject: m.subject.clone(),
            data: m.data.clone(),
        })
    }

    /// The last message of `subject`.
    pub fn last_by_subject(&self, subject: &str) -> Option<Found> {
        let seq = *self.state.subject_last.get(subject)?;
        self.get(seq)
    }

    /// Every live message with its `Nats-Msg-Id`: (sequence, id).
    pub fn msg_ids(&self) -> impl Iterator<Item = (u64, &str)> {
        self.state
            .msgs
            .iter()
            .filter_map(|(s, m)| m.msg_id.as_deref().map(|id| (*s, id)))
    }

    /// Applies the committed entry at `index` of `term`. `normal` is false for Raft's own
    /// entries (a leader's no-op, membership): they carry no data for the stream, but their
    /// term still tells the applier that leadership changed.
    pub fn apply(&mut self, index: u64, term: u64, normal: bool, data: &[u8]) -> Applied {
        let entry = if normal {
            StreamEntry::decode(data).ok()
        } else {
            None
        };
        self.apply_decoded(index, term, entry)
    }

    /// [`Stream::apply`] of an entry already decoded (`None`: Raft's own entry, or bytes
    /// that are not a stream entry, which change nothing but the term).
    pub fn apply_decoded(&mut self, index: u64, term: u64, entry: Option<StreamEntry>) -> Applied {
        let mut out = Applied::default();
        if term > self.last_term {
            if !planted!(self, BatchKeptOpenAcrossLeaderChange) {
                self.abandon_all(&mut out);
            }
            self.last_term = term;
        }
        self.last_index = index;
        let Some(entry) = entry else {
            return out;
        };
        let (client, op_seq) = (entry.client, entry.seq);
        let result = match entry.body {
            EntryBody::Publish {
                msg,
                batch: Some(part),
            } => {
                if planted!(self, BatchAppliedAtArrival) {
                    self.apply_at_arrival(msg, part, &mut out)
                } else {
                    self.collect(index, term, msg, part, &mut out)
                }
            }
            EntryBody::Publish { msg, batch: None } => Some(self.publish(msg, &mut out)),
            EntryBody::Get { seq } => {
                self.abandon_all(&mut out);
                Some(StreamResult::Found(self.get(seq)))
            }
            EntryBody::LastBySubject { subject } => {
                self.abandon_all(&mut out);
                Some(StreamResult::Found(self.last_by_subject(&subject)))
            }
        };
        out.reply = result.map(|r| (client, op_seq, r));
        out
    }

    fn abandon_all(&mut self, out: &mut Applied) {
        out.abandoned
            .extend(self.collecting.drain(..).map(|c| c.id));
    }

    /// A batch's message: collected; at the commit marker the batch is stored or refused.
    fn collect(
        &mut self,
        index: u64,
        term: u64,
        msg: Message,
        part: BatchPart,
        out: &mut Applied,
    ) -> Option<StreamResult> {
        let at = match self.collecting.iter().position(|c| c.id == part.id) {
            Some(at) => at,
            None => {
                self.collecting.push(Collecting {
                    id: part.id.clone(),
                    term,
                    first_index: index,
                    msgs: Vec::new(),
                });
                self.collecting.len() - 1
            }
        };
        self.collecting[at].msgs.push((part.seq, msg));
        if !part.commit {
            return None;
        }
        let batch = self.collecting.remove(at);
        debug_assert!(batch.term <= term);
        Some(self.commit_batch(&batch.id, batch.msgs, out))
    }

    /// The planted bug: each message stored as it is applied.
    fn apply_at_arrival(
        &mut self,
        msg: Message,
        part: BatchPart,
        out: &mut Applied,
    ) -> Option<StreamResult> {
        let seq = self.state.last_seq + 1;
        self.store(msg, Some((part.id.clone(), part.seq, 0)), out);
        part.commit.then_some(StreamResult::BatchStored {
            first: seq + 1 - u64::from(part.seq),
            count: part.seq,
        })
    }

    /// Dedupe first, then the expectations, then the limits (NATS's order).
    fn publish(&mut self, msg: Message, out: &mut Applied) -> StreamResult {
        if let Some(seq) = msg.msg_id.as_ref().and_then(|id| self.state.dedupe.get(id)) {
            return StreamResult::Duplicate { seq: *seq };
        }
        let subject_last = self.subject_last(&msg.subject);
        if let Err(r) = check_expect(
            &msg,
            self.state.last_seq,
            subject_last,
            self.state.last_msg_id.as_deref(),
        ) {
            return StreamResult::Refused(r);
        }
        let purged = if msg.rollup {
            self.state
                .msgs
                .values()
                .filter(|m| m.subject == msg.subject)
                .count() as u64
        } else {
            0
        };
        if self.state.msgs.len() as u64 + 1 - purged > self.config.max_msgs {
            return StreamResult::Refused(Refusal::MaxMsgs);
        }
        let seq = self.state.last_seq + 1;
        self.store(msg, None, out);
        StreamResult::Stored { seq }
    }

    /// Every header check for every message of the batch, against the stream as the
    /// batch's earlier messages would leave it; one failure refuses the whole batch.
    fn commit_batch(
        &mut self,
        id: &str,
        msgs: Vec<(u32, Message)>,
        out: &mut Applied,
    ) -> StreamResult {
        let count = msgs.len() as u32;
        if let Some(seq) = msgs[0]
            .1
            .msg_id
            .as_ref()
            .and_then(|id| self.state.dedupe.get(id))
        {
            return StreamResult::Duplicate { seq: *seq };
        }
        let mut last_seq = self.state.last_seq;
        let mut last_msg_id = self.state.last_msg_id.clone();
        let mut subjects: Vec<(&str, u64)> = Vec::new();
        let mut ids: Vec<&str> = Vec::new();
        for (_, msg) in &msgs {
            if let Some(id) = msg.msg_id.as_deref() {
                if self.state.dedupe.contains_key(id) || ids.contains(&id) {
                    return StreamResult::Refused(Refusal::DuplicateInBatch);
                }
                ids.push(id);
            }
            let subject_last = subjects
                .iter()
                .rev()
                .find(|(s, _)| *s == msg.subject)
                .map(|(_, seq)| *seq)
                .unwrap_or_else(|| self.subject_last(&msg.subject));
            if let Err(r) = check_expect(msg, last_seq, subject_last, last_msg_id.as_deref()) {
                return StreamResult::Refused(r);
            }
            last_seq += 1;
            subjects.push((&msg.subject, last_seq));
            last_msg_id = msg.msg_id.clone();
        }
        if self.state.msgs.len() as u64 + u64::from(count) > self.config.max_msgs {
            return StreamResult::Refused(Refusal::MaxMsgs);
        }
        let first = self.state.last_seq + 1;
        for (part, msg) in msgs {
            self.store(msg, Some((id.to_string(), part, count)), out);
        }
        StreamResult::BatchStored { first, count }
    }

    fn subject_last(&self, subject: &str) -> u64 {
        self.state.subject_last.get(subject).copied().unwrap_or(0)
    }

    /// Stores a message at the next sequence.
    fn store(&mut self, msg: Message, batch: Option<(String, u32, u32)>, out: &mut Applied) {
        let s = &mut self.state;
        s.last_seq += 1;
        let seq = s.last_seq;
        if msg.rollup {
            s.msgs.retain(|_, m| m.subject != msg.subject);
        }
        s.subject_last.insert(msg.subject.clone(), seq);
        s.last_msg_id.clone_from(&msg.msg_id);
        if let Some(id) = &msg.msg_id {
            s.dedupe.insert(id.clone(), seq);
            s.dedupe_by_seq.insert(seq, id.clone());
        }
        while let Some((&old, _)) = s.dedupe_by_seq.first_key_value() {
            if old + self.config.dedupe_window > seq {
                break;
            }
            let id = s.dedupe_by_seq.remove(&old).expect("just seen");
            if s.dedupe.get(&id) == Some(&old) {
                s.dedupe.remove(&id);
            }
        }
        out.stored.push(Stored {
            seq,
            subject: msg.subject.clone(),
            data: msg.data.clone(),
            msg_id: msg.msg_id.clone(),
            batch,
        });
        s.msgs.insert(
            seq,
            Kept {
                subject: msg.subject,
                data: msg.data,
                msg_id: msg.msg_id,
            },
        );
    }

    /// The snapshot of the stream at [`Stream::applied_through`]: batches being collected
    /// are not in it (their entries follow the snapshot's index and are applied again).
    pub fn snapshot(&self) -> Vec<u8> {
        serde_json::to_vec(&self.state).expect("the stream serializes")
    }

    /// Restores a snapshot made by [`Stream::snapshot`] taken at `index` of `term`.
    pub fn restore(
        config: StreamConfig,
        bytes: &[u8],
        index: u64,
        term: u64,
    ) -> Result<Stream, RestoreError> {
        let state: State =
            serde_json::from_slice(bytes).map_err(|e| RestoreError(e.to_string()))?;
        let mut stream = Stream::new(config);
        stream.state = state;
        stream.last_index = index;
        stream.last_term = term;
        Ok(stream)
    }

    /// [`Stream::restore`] into this stream, keeping its planted bug (the bug hunt).
    pub fn restore_in_place(
        &mut self,
        bytes: &[u8],
        index: u64,
        term: u64,
    ) -> Result<(), RestoreError> {
        let mut restored = Stream::restore(self.config.clone(), bytes, index, term)?;
        #[cfg(feature = "planted-bugs")]
        {
            restored.planted = self.planted;
        }
        if planted!(restored, DedupeNotRestored) {
            restored.state.dedupe.clear();
            restored.state.dedupe_by_seq.clear();
        }
        *self = restored;
        Ok(())
    }
}

/// The expectation headers against the stream's last sequence, the subject's last sequence
/// and the last `Nats-Msg-Id`.
fn check_expect(
    msg: &Message,
    last_seq: u64,
    subject_last: u64,
    last_msg_id: Option<&str>,
) -> Result<(), Refusal> {
    let e = &msg.expect;
    if e.last_seq.is_some_and(|s| s != last_seq) {
        return Err(Refusal::LastSeq { actual: last_seq });
    }
    if e.last_subject_seq.is_some_and(|s| s != subject_last) {
        return Err(Refusal::LastSubjectSeq {
            actual: subject_last,
        });
    }
    if e.last_msg_id.is_some() && e.last_msg_id.as_deref() != last_msg_id {
        return Err(Refusal::LastMsgId);
    }
    Ok(())
}
