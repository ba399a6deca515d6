//! A JetStream-like stream: an ordered message log replicated by Raft, with the publish
//! headers of a NATS stream and atomic batch publish.
//!
//! - [`Message`] and [`Expect`]: one publish and its headers (`Nats-Msg-Id`,
//!   `Nats-Expected-Last-Sequence`, `Nats-Expected-Last-Subject-Sequence`,
//!   `Nats-Expected-Last-Msg-Id`, `Nats-Rollup: sub`).
//! - [`StreamOp`] and [`StreamResult`]: what a client asks and what it is answered.
//! - `entry.rs`: [`StreamEntry`], what one log entry holds (a message, possibly one part of a
//!   batch with its `Nats-Batch-Id`, `Nats-Batch-Sequence` and `Nats-Batch-Commit`, or a read
//!   through the log), and its byte encoding.
//! - `machine.rs`: [`Stream`], the replicated state machine: sequences assigned densely by
//!   the stream, per-subject last sequence, de-duplication within a window of sequences,
//!   the expectation checks and discard-new limits, and the applier that collects a batch
//!   until its commit marker (reporting progress with NRG's `Processed` semantics).
//! - `staging.rs`: [`Staging`], the leader's side of atomic batch publish: a batch's
//!   messages are staged until the commit marker arrives and then proposed together with one
//!   `ProposeMulti`; limits on batch size, on open batches and a timeout.
//!
//! Differences from NATS, on purpose: the de-duplication window counts stream sequences,
//! not wall-clock time (a replicated state machine has no clock); every header check runs
//! when the entry is applied, on every replica, so a refusal is decided by the committed
//! log and never by a leader's possibly stale view.

mod entry;
mod machine;
#[cfg(feature = "planted-bugs")]
pub mod planted;
mod staging;
#[cfg(test)]
mod tests;

pub use entry::{BatchPart, DecodeError, EntryBody, StreamEntry};
pub use machine::{Applied, RestoreError, Stored, Stream};
pub use staging::{Staged, Staging};

use serde::{Deserialize, Serialize};

/// The stream's limits and windows (its configuration, the same on every replica).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct StreamConfig {
    /// Discard-new: a publish that would leave more live messages than this is refused.
    pub max_msgs: u64,
    /// A `Nats-Msg-Id` is remembered while its message is among the last this many
    /// sequences assigned.
    pub dedupe_window: u64,
    /// Messages in one batch.
    pub max_batch: u32,
    /// Batches open at once on a leader.
    pub max_open_batches: u32,
    /// A staged batch with no new message for this long is abandoned (virtual µs).
    pub batch_timeout_us: u64,
}

impl Default for StreamConfig {
    fn default() -> StreamConfig {
        StreamConfig {
            max_msgs: 1_000,
            dedupe_window: 100,
            max_batch: 8,
            max_open_batches: 8,
            batch_timeout_us: 1_000_000,
        }
    }
}

/// The optimistic-concurrency headers of a publish.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Expect {
    /// `Nats-Expected-Last-Sequence`: the stream's last sequence.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_seq: Option<u64>,
    /// `Nats-Expected-Last-Subject-Sequence`: the last sequence of the message's subject
    /// (0: no message on it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_subject_seq: Option<u64>,
    /// `Nats-Expected-Last-Msg-Id`: the `Nats-Msg-Id` of the stream's last message.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_msg_id: Option<String>,
}

/// One message to publish, with its headers.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Message {
    pub subject: String,
    pub data: String,
    /// `Nats-Msg-Id`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub msg_id: Option<String>,
    #[serde(default)]
    pub expect: Expect,
    /// `Nats-Rollup: sub`: once stored, every other message of the subject is purged.
    #[serde(default)]
    pub rollup: bool,
}

/// A client operation on the stream.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum StreamOp {
    Publish(Message),
    /// Atomic batch publish: `Nats-Batch-Id` and the messages in batch-sequence order (the
    /// last carries `Nats-Batch-Commit`).
    Batch {
        id: String,
        msgs: Vec<Message>,
    },
    /// The message stored at a sequence.
    Get {
        seq: u64,
    },
    /// The last message of a subject.
    LastBySubject {
        subject: String,
    },
}

impl StreamOp {
    pub fn is_read(&self) -> bool {
        matches!(self, StreamOp::Get { .. } | StreamOp::LastBySubject { .. })
    }

    /// How many requests the client sends for it (one per message of a batch).
    pub fn parts(&self) -> u32 {
        match self {
            StreamOp::Batch { msgs, .. } => msgs.len() as u32,
            _ => 1,
        }
    }
}

/// Why a publish or a batch was refused.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Refusal {
    /// `Nats-Expected-Last-Sequence` did not match; the stream's last sequence.
    LastSeq { actual: u64 },
    /// `Nats-Expected-Last-Subject-Sequence` did not match.
    LastSubjectSeq { actual: u64 },
    /// `Nats-Expected-Last-Msg-Id` did not match.
    LastMsgId,
    /// Discard-new: the stream holds its maximum of messages.
    MaxMsgs,
    /// A message of the batch repeats a `Nats-Msg-Id` stored within the window or in the
    /// batch itself (the batch's first message alone makes it a duplicate instead).
    DuplicateInBatch,
    /// Staging: more messages than the batch limit.
    BatchTooLarge,
    /// Staging: the leader holds its maximum of open batches.
    TooManyBatches,
    /// Staging: a message for a batch this leader does not hold (never started here,
    /// abandoned on a leadership change, or timed out), or out of sequence.
    BatchUnknown,
}

impl Refusal {
    /// Refused by the leader's staging, before anything reached the log: says nothing of the
    /// stream's state.
    pub fn is_staging(&self) -> bool {
        matches!(
            self,
            Refusal::BatchTooLarge | Refusal::TooManyBatches | Refusal::BatchUnknown
        )
    }
}

/// A stored message as a read returns it.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Found {
    pub seq: u64,
    pub subject: String,
    pub data: String,
}

/// What the stream answered.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum StreamResult {
    /// PubAck: stored at `seq`.
    Stored {
        seq: u64,
    },
    /// PubAck with `duplicate`: the `Nats-Msg-Id` was stored at `seq` within the window.
    Duplicate {
        seq: u64,
    },
    /// The batch is stored at `first ..= first + count - 1`.
    BatchStored {
        first: u64,
        count: u32,
    },
    Refused(Refusal),
    /// A batch message (not the last) is staged on the leader.
    Staged,
    /// A read: the message, or none.
    Found(Option<Found>),
}
