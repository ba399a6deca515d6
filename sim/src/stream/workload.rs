//! The stream's clients: what they publish and read, drawn from the `workload` stream, and
//! what they remember of the answers (the last sequences and the ids they saw, which the
//! expectation headers and the duplicates reuse).

use crate::config::StreamSetup;
use crate::rng::Stream;
use state_machines::stream::{Expect, Message, StreamOp, StreamResult};
use std::collections::BTreeMap;

/// What a client remembers.
#[derive(Default)]
pub struct StreamMemory {
    last_seq: u64,
    subject_last: BTreeMap<String, u64>,
    last_msg_id: Option<String>,
    /// `Nats-Msg-Id`s this client published (the latest few), for deliberate duplicates.
    published: Vec<String>,
}

impl StreamMemory {
    pub(super) fn observe(&mut self, op: &StreamOp, output: &StreamResult) {
        let stored: Vec<(&Message, u64)> = match (op, output) {
            (StreamOp::Publish(msg), StreamResult::Stored { seq }) => vec![(msg, *seq)],
            (StreamOp::Batch { msgs, .. }, StreamResult::BatchStored { first, .. }) => {
                msgs.iter().zip(*first..).collect()
            }
            (_, StreamResult::Found(Some(found))) => {
                self.last_seq = self.last_seq.max(found.seq);
                Vec::new()
            }
            _ => Vec::new(),
        };
        for (msg, seq) in stored {
            self.last_seq = self.last_seq.max(seq);
            self.subject_last.insert(msg.subject.clone(), seq);
            self.last_msg_id.clone_from(&msg.msg_id);
            if let Some(id) = &msg.msg_id {
                if self.published.len() == 8 {
                    self.published.remove(0);
                }
                self.published.push(id.clone());
            }
        }
    }
}

fn expect(rng: &mut Stream, setup: &StreamSetup, memory: &StreamMemory, subject: &str) -> Expect {
    let mut expect = Expect::default();
    if rng.chance(setup.expect_ppm) {
        match rng.below(3) {
            0 => expect.last_seq = Some(memory.last_seq),
            1 => {
                expect.last_subject_seq =
                    Some(memory.subject_last.get(subject).copied().unwrap_or(0))
            }
            _ => expect.last_msg_id = memory.last_msg_id.clone(),
        }
    }
    expect
}

/// Draws a client's next operation from the configured mix.
pub(super) fn draw_op(
    rng: &mut Stream,
    setup: &StreamSetup,
    memory: &mut StreamMemory,
    client: u32,
    seq: u64,
) -> StreamOp {
    let total = setup.publish_weight + setup.batch_weight + setup.get_weight + setup.last_weight;
    let mut pick = rng.between(0, u64::from(total) - 1) as u32;
    let op_id = format!("c{client}s{seq}");
    let subject = |rng: &mut Stream| format!("s{}", rng.below(setup.subjects as usize));
    if pick < setup.publish_weight {
        let subject = subject(rng);
        let msg_id = if !memory.published.is_empty() && rng.chance(setup.duplicate_ppm) {
            memory.published[rng.below(memory.published.len())].clone()
        } else {
            op_id.clone()
        };
        let expect = expect(rng, setup, memory, &subject);
        let rollup = rng.chance(setup.rollup_ppm);
        return StreamOp::Publish(Message {
            subject,
            data: op_id,
            msg_id: Some(msg_id),
            expect,
            rollup,
        });
    }
    pick -= setup.publish_weight;
    if pick < setup.batch_weight {
        let n = rng.between(2, u64::from(setup.batch_max_msgs.max(2))) as usize;
        let mut msgs = Vec::with_capacity(n);
        for i in 0..n {
            let subject = subject(rng);
            let expect = if i == 0 {
                expect(rng, setup, memory, &subject)
            } else {
                Expect::default()
            };
            msgs.push(Message {
                subject,
                data: format!("{op_id}m{i}"),
                // The first message carries the operation's id: a retried batch is a
                // duplicate, not stored twice.
                msg_id: (i == 0).then(|| op_id.clone()),
                expect,
                rollup: false,
            });
        }
        return StreamOp::Batch { id: op_id, msgs };
    }
    pick -= setup.batch_weight;
    if pick < setup.get_weight {
        return StreamOp::Get {
            seq: rng.between(1, memory.last_seq + 2),
        };
    }
    StreamOp::LastBySubject {
        subject: subject(rng),
    }
}

/// The liveness probe's write.
pub(super) fn probe_op(client: u32, seq: u64) -> StreamOp {
    let id = format!("c{client}s{seq}");
    StreamOp::Publish(Message {
        subject: "probe".into(),
        data: id.clone(),
        msg_id: Some(id),
        expect: Expect::default(),
        rollup: false,
    })
}

/// `pub(s0,c1s4)`, `pub(s0,c1s4,id=c1s2,seq=7,rollup)`, `batch(c1s5,3)`, `get(5)`,
/// `last(s1)`.
pub(super) fn op_text(op: &StreamOp) -> String {
    match op {
        StreamOp::Publish(m) => {
            let mut text = format!("pub({},{}", m.subject, m.data);
            if m.msg_id.as_deref() != Some(m.data.as_str()) {
                text.push_str(&format!(",id={}", m.msg_id.as_deref().unwrap_or("-")));
            }
            if let Some(s) = m.expect.last_seq {
                text.push_str(&format!(",seq={s}"));
            }
            if let Some(s) = m.expect.last_subject_seq {
                text.push_str(&format!(",subject-seq={s}"));
            }
            if let Some(id) = &m.expect.last_msg_id {
                text.push_str(&format!(",last-id={id}"));
            }
            if m.rollup {
                text.push_str(",rollup");
            }
            text.push(')');
            text
        }
        StreamOp::Batch { id, msgs } => format!("batch({id},{})", msgs.len()),
        StreamOp::Get { seq } => format!("get({seq})"),
        StreamOp::LastBySubject { subject } => format!("last({subject})"),
    }
}

/// `:7`, `:dup7`, `:7+3`, `:refused-...`, `:staged`, `:7=s0/c1s4`, `:-`.
pub(super) fn output_text(output: &StreamResult) -> String {
    match output {
        StreamResult::Stored { seq } => format!(":{seq}"),
        StreamResult::Duplicate { seq } => format!(":dup{seq}"),
        StreamResult::BatchStored { first, count } => format!(":{first}+{count}"),
        StreamResult::Refused(r) => format!(":refused-{r:?}"),
        StreamResult::Staged => ":staged".into(),
        StreamResult::Found(Some(f)) => format!(":{}={}/{}", f.seq, f.subject, f.data),
        StreamResult::Found(None) => ":-".into(),
    }
}
