//! The stream's history in the stream model's terms: subjects, data and ids interned to
//! numbers; definitely-failed operations left out; unknown ones optional.

use super::StreamApp;
use crate::app::kv::check_options;
use crate::linearizability::CheckOptions;

/// The stream check's step budget (see `check`).
const STREAM_MAX_STEPS: u64 = 4_000_000;
use crate::config::SimConfig;
use crate::history::{History, Outcome};
use crate::linearizability::{
    ModelMsg, Operation, StreamInput, StreamModel, StreamOutput, Verdict, PENDING,
};
use state_machines::stream::{Message, StreamOp, StreamResult};
use std::collections::HashMap;

#[derive(Default)]
struct Interner(HashMap<String, u32>);

impl Interner {
    fn id(&mut self, s: &str) -> u32 {
        let next = self.0.len() as u32;
        *self.0.entry(s.to_string()).or_insert(next)
    }

    fn msg(&mut self, m: &Message) -> ModelMsg {
        ModelMsg {
            subject: self.id(&m.subject),
            data: self.id(&m.data),
            msg_id: m.msg_id.as_deref().map(|id| self.id(id)),
            expect_last_seq: m.expect.last_seq,
            expect_last_subject_seq: m.expect.last_subject_seq,
            expect_last_msg_id: m.expect.last_msg_id.as_deref().map(|id| self.id(id)),
            rollup: m.rollup,
        }
    }
}

/// The operations of `history` for [`StreamModel`].
pub fn to_operations(history: &History<StreamApp>) -> Vec<Operation<StreamInput, StreamOutput>> {
    let mut names = Interner::default();
    let mut out = Vec::with_capacity(history.ops.len());
    for op in &history.ops {
        let input = match &op.op {
            StreamOp::Publish(m) => StreamInput::Publish(names.msg(m)),
            StreamOp::Batch { msgs, .. } => {
                StreamInput::Batch(msgs.iter().map(|m| names.msg(m)).collect())
            }
            StreamOp::Get { seq } => StreamInput::Get { seq: *seq },
            StreamOp::LastBySubject { subject } => StreamInput::LastBySubject {
                subject: names.id(subject),
            },
        };
        let (ret, output) = match &op.completed {
            Some((_, Outcome::Fail)) => continue,
            Some((at, Outcome::Ok(result))) => {
                let output = match result {
                    StreamResult::Stored { seq } => StreamOutput::Stored { seq: *seq },
                    StreamResult::Duplicate { seq } => StreamOutput::Duplicate { seq: *seq },
                    StreamResult::BatchStored { first, count } => StreamOutput::BatchStored {
                        first: *first,
                        count: *count,
                    },
                    StreamResult::Refused(r) if r.is_staging() => StreamOutput::StagingRefused,
                    StreamResult::Refused(r) => StreamOutput::Refused(r.clone()),
                    // A part's acknowledgement never completes an operation.
                    StreamResult::Staged => continue,
                    StreamResult::Found(f) => StreamOutput::Found(
                        f.as_ref()
                            .map(|f| (f.seq, names.id(&f.subject), names.id(&f.data))),
                    ),
                };
                (*at, output)
            }
            Some((_, Outcome::Unknown)) | None => (PENDING, StreamOutput::Unknown),
        };
        out.push(Operation {
            client: u64::from(op.client),
            call: op.invoked,
            ret,
            input,
            output,
        });
    }
    out
}

/// The run's history against the stream model with the run's limits.
pub(super) fn check(history: &History<StreamApp>, config: &SimConfig) -> Verdict {
    let limits = &config.stream.limits;
    let model = StreamModel {
        max_msgs: limits.max_msgs,
        dedupe_window: limits.dedupe_window,
    };
    // A stream's state is every sequence so far, so a search step costs more than a
    // key-value one: a smaller step budget keeps a pathological history (many operations of
    // unknown outcome) to seconds; running out is reported as unknown, not passed.
    let options = CheckOptions {
        max_steps: Some(STREAM_MAX_STEPS),
        ..check_options()
    };
    crate::linearizability::check(&model, &to_operations(history), &options)
}
