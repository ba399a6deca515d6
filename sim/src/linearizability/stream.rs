//! The model of a JetStream-like stream for the linearizability checker: publishes with
//! `Nats-Msg-Id` de-duplication within a window of sequences, the expectation headers,
//! discard-new limits and rollup; atomic batches; reads by sequence and last by subject.
//!
//! The stream is one object (every publish moves the last sequence), so the history is one
//! partition. The state is every sequence assigned so far (subject, data, msg id, live), so
//! a read of any sequence can be judged; strings are interned to numbers by the caller.
//!
//! An answer is judged against what the stream itself would answer in the state:
//! - `Duplicate(s)` is legal when the id is within the window at `s`, and also when the
//!   operation's own message would be stored at `s` now: an earlier attempt of the same
//!   operation stored it and this answer is the retry's (the model applies it once);
//! - an unknown outcome may have stored the message, or not;
//! - a refusal by the leader's staging (a batch refused before anything reached the log)
//!   is legal in any state and changes nothing.

use super::Model;
use state_machines::stream::Refusal;

/// One message of a publish or a batch, interned.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct ModelMsg {
    pub subject: u32,
    pub data: u32,
    pub msg_id: Option<u32>,
    pub expect_last_seq: Option<u64>,
    pub expect_last_subject_seq: Option<u64>,
    pub expect_last_msg_id: Option<u32>,
    pub rollup: bool,
}

#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum StreamInput {
    Publish(ModelMsg),
    Batch(Vec<ModelMsg>),
    Get { seq: u64 },
    LastBySubject { subject: u32 },
}

#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum StreamOutput {
    Stored {
        seq: u64,
    },
    Duplicate {
        seq: u64,
    },
    BatchStored {
        first: u64,
        count: u32,
    },
    Refused(Refusal),
    /// Refused by the leader's staging, before the log.
    StagingRefused,
    /// A read: (sequence, subject, data) or none.
    Found(Option<(u64, u32, u32)>),
    Unknown,
}

/// One stored sequence.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
struct Slot {
    subject: u32,
    data: u32,
    msg_id: Option<u32>,
    live: bool,
}

/// The stream after some operations.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct StreamState {
    /// Sequence `i + 1` is `slots[i]`: sequences are dense.
    slots: Vec<Slot>,
    live: u64,
}

impl StreamState {
    fn last_seq(&self) -> u64 {
        self.slots.len() as u64
    }

    fn subject_last(&self, subject: u32) -> u64 {
        self.slots
            .iter()
            .rposition(|s| s.subject == subject)
            .map_or(0, |i| i as u64 + 1)
    }

    fn last_msg_id(&self) -> Option<u32> {
        self.slots.last().and_then(|s| s.msg_id)
    }

    fn get(&self, seq: u64) -> Option<(u64, u32, u32)> {
        let slot = self.slots.get(seq.checked_sub(1)? as usize)?;
        slot.live.then_some((seq, slot.subject, slot.data))
    }

    fn last_by_subject(&self, subject: u32) -> Option<(u64, u32, u32)> {
        self.get(self.subject_last(subject))
    }

    fn store(&mut self, msg: &ModelMsg) {
        if msg.rollup {
            for slot in self
                .slots
                .iter_mut()
                .filter(|s| s.subject == msg.subject && s.live)
            {
                slot.live = false;
                self.live -= 1;
            }
        }
        self.slots.push(Slot {
            subject: msg.subject,
            data: msg.data,
            msg_id: msg.msg_id,
            live: true,
        });
        self.live += 1;
    }
}

/// The stream's sequential specification, with its limits.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct StreamModel {
    pub max_msgs: u64,
    pub dedupe_window: u64,
}

impl StreamModel {
    /// The sequence a msg id is remembered at, within the window.
    fn duplicate_of(&self, state: &StreamState, id: u32) -> Option<u64> {
        let last = state.last_seq();
        let from = last.saturating_sub(self.dedupe_window);
        (from + 1..=last)
            .rev()
            .find(|&seq| state.slots[seq as usize - 1].msg_id == Some(id))
    }

    fn check_expect(
        msg: &ModelMsg,
        last_seq: u64,
        subject_last: u64,
        last_msg_id: Option<u32>,
    ) -> Result<(), Refusal> {
        if msg.expect_last_seq.is_some_and(|s| s != last_seq) {
            return Err(Refusal::LastSeq { actual: last_seq });
        }
        if msg
            .expect_last_subject_seq
            .is_some_and(|s| s != subject_last)
        {
            return Err(Refusal::LastSubjectSeq {
                actual: subject_last,
            });
        }
        if msg.expect_last_msg_id.is_some() && msg.expect_last_msg_id != last_msg_id {
            return Err(Refusal::LastMsgId);
        }
        Ok(())
    }

    /// What the stream answers a publish in `state`, and the state after.
    fn publish(&self, state: &StreamState, msg: &ModelMsg) -> (StreamOutput, Option<StreamState>) {
        if let Some(seq) = msg.msg_id.and_then(|id| self.duplicate_of(state, id)) {
            return (StreamOutput::Duplicate { seq }, None);
        }
        if let Err(r) = Self::check_expect(
            msg,
            state.last_seq(),
            state.subject_last(msg.subject),
            state.last_msg_id(),
        ) {
            return (StreamOutput::Refused(r), None);
        }
        let purged = if msg.rollup {
            state
                .slots
                .iter()
                .filter(|s| s.live && s.subject == msg.subject)
                .count() as u64
        } else {
            0
        };
        if state.live + 1 - purged > self.max_msgs {
            return (StreamOutput::Refused(Refusal::MaxMsgs), None);
        }
        let mut next = state.clone();
        next.store(msg);
        (
            StreamOutput::Stored {
                seq: state.last_seq() + 1,
            },
            Some(next),
        )
    }

    /// What the stream answers a batch in `state`, and the state after.
    fn batch(&self, state: &StreamState, msgs: &[ModelMsg]) -> (StreamOutput, Option<StreamState>) {
        if let Some(seq) = msgs[0].msg_id.and_then(|id| self.duplicate_of(state, id)) {
            return (StreamOutput::Duplicate { seq }, None);
        }
        let mut next = state.clone();
        let mut ids = Vec::new();
        for msg in msgs {
            if let Some(id) = msg.msg_id {
                if self.duplicate_of(state, id).is_some() || ids.contains(&id) {
                    return (StreamOutput::Refused(Refusal::DuplicateInBatch), None);
                }
                ids.push(id);
            }
            if let Err(r) = Self::check_expect(
                msg,
                next.last_seq(),
                next.subject_last(msg.subject),
                next.last_msg_id(),
            ) {
                return (StreamOutput::Refused(r), None);
            }
            next.slots.push(Slot {
                subject: msg.subject,
                data: msg.data,
                msg_id: msg.msg_id,
                live: true,
            });
        }
        if state.live + msgs.len() as u64 > self.max_msgs {
            return (StreamOutput::Refused(Refusal::MaxMsgs), None);
        }
        let mut next = state.clone();
        for msg in msgs {
            next.store(msg);
        }
        (
            StreamOutput::BatchStored {
                first: state.last_seq() + 1,
                count: msgs.len() as u32,
            },
            Some(next),
        )
    }
}

impl Model for StreamModel {
    type State = StreamState;
    type Input = StreamInput;
    type Output = StreamOutput;

    fn init(&self) -> StreamState {
        StreamState::default()
    }

    /// A state owns every message stored so far: without counting them, a search over a
    /// long history kept gigabytes of copies within the cache budget.
    fn state_heap_bytes(&self, state: &StreamState) -> u64 {
        (state.slots.capacity() * std::mem::size_of::<Slot>()) as u64
    }

    fn step(
        &self,
        state: &StreamState,
        input: &StreamInput,
        output: &StreamOutput,
    ) -> Option<StreamState> {
        use StreamOutput as O;
        let (answer, next) = match input {
            StreamInput::Get { seq } => {
                return match output {
                    O::Found(found) => (state.get(*seq) == *found).then(|| state.clone()),
                    O::Unknown => Some(state.clone()),
                    _ => None,
                }
            }
            StreamInput::LastBySubject { subject } => {
                return match output {
                    O::Found(found) => {
                        (state.last_by_subject(*subject) == *found).then(|| state.clone())
                    }
                    O::Unknown => Some(state.clone()),
                    _ => None,
                }
            }
            StreamInput::Publish(msg) => self.publish(state, msg),
            StreamInput::Batch(msgs) => self.batch(state, msgs),
        };
        match (output, &answer, next) {
            (O::StagingRefused, _, _) => Some(state.clone()),
            (O::Unknown, _, next) => next,
            (O::Duplicate { seq }, O::Stored { seq: s }, next)
            | (O::Duplicate { seq }, O::BatchStored { first: s, .. }, next)
                if seq == s =>
            {
                next
            }
            (output, answer, next) if output == answer => {
                Some(next.unwrap_or_else(|| state.clone()))
            }
            _ => None,
        }
    }

    fn is_unknown(&self, _input: &StreamInput, output: &StreamOutput) -> bool {
        *output == StreamOutput::Unknown
    }

    fn is_trivial(&self, input: &StreamInput, output: &StreamOutput) -> bool {
        let read = matches!(
            input,
            StreamInput::Get { .. } | StreamInput::LastBySubject { .. }
        );
        (read && *output == StreamOutput::Unknown) || *output == StreamOutput::StagingRefused
    }

    fn is_read_only(&self, _input: &StreamInput, output: &StreamOutput) -> bool {
        matches!(output, StreamOutput::Found(_) | StreamOutput::Refused(_))
    }

    fn describe_state(&self, state: &StreamState) -> String {
        format!("last sequence {}, {} live", state.last_seq(), state.live)
    }
}
