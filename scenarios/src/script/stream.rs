//! Steps for the stream's scenarios (`Script<StreamApp>`): client requests sent to a node
//! as in the random runs (the answer is the trace's `reply` line, now or when the entry
//! that answers it is applied there).

use super::Script;
use sim::stream::StreamApp;
use state_machines::stream::{Expect, Message, StreamOp};

/// A message with `data` as its `Nats-Msg-Id` too.
pub fn msg(subject: &str, data: &str) -> Message {
    Message {
        subject: subject.into(),
        data: data.into(),
        msg_id: Some(data.into()),
        expect: Expect::default(),
        rollup: false,
    }
}

impl Script<StreamApp> {
    /// Client `client` sends part `part` (from 1) of its operation `seq` to `node`.
    pub fn request(&mut self, node: usize, client: usize, seq: u64, op: &StreamOp, part: u32) {
        let what = match op {
            StreamOp::Batch { id, msgs } => {
                format!("batch {id} message {part} of {}", msgs.len())
            }
            StreamOp::Publish(m) => format!("publish {}:{}", m.subject, m.data),
            StreamOp::Get { seq } => format!("get {seq}"),
            StreamOp::LastBySubject { subject } => format!("last {subject}"),
        };
        self.begin(format!("request n{node} c{client}#{seq} {what}"));
        self.w()
            .script_request(node, client, seq, op.clone(), part - 1);
        self.end();
    }

    /// Client `client` publishes `m` through `node` (its operation `seq`).
    pub fn publish(&mut self, node: usize, client: usize, seq: u64, m: Message) {
        self.request(node, client, seq, &StreamOp::Publish(m), 1);
    }

    /// Every message of batch `op` in order, each a request of its own to `node`.
    pub fn batch(&mut self, node: usize, client: usize, seq: u64, op: &StreamOp) {
        for part in 1..=op.parts() {
            self.request(node, client, seq, op, part);
        }
    }
}
