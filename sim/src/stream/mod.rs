//! The JetStream-like stream as an [`Application`]: the replicated stream of
//! `state_machines::stream` on every host, the leader's batch staging, a workload of
//! publishes (with duplicates, expectation headers and rollups), atomic batches and reads,
//! and the stream model for the linearizability checker.
//!
//! - `replica.rs`: [`StreamReplica`], what each host runs, and the stream's properties
//!   checked after every apply (`properties.rs`).
//! - `workload.rs`: how a client draws its next operation and what it remembers.
//! - `check.rs`: the history in the stream model's terms.

mod check;
mod properties;
mod replica;
mod workload;

pub use check::to_operations;
pub use replica::StreamReplica;
pub use workload::StreamMemory;

use crate::app::Application;
use crate::config::SimConfig;
use crate::history::History;
use crate::linearizability::Verdict;
use crate::rng::Stream;
use state_machines::stream::{StreamOp, StreamResult};

/// The stream application.
pub struct StreamApp;

impl Application for StreamApp {
    type Op = StreamOp;
    type Output = StreamResult;
    type Replica = StreamReplica;
    type ClientMemory = StreamMemory;

    fn draw_op(
        rng: &mut Stream,
        config: &SimConfig,
        memory: &mut StreamMemory,
        client: u32,
        seq: u64,
    ) -> StreamOp {
        workload::draw_op(rng, &config.stream, memory, client, seq)
    }

    fn probe_op(client: u32, seq: u64) -> StreamOp {
        workload::probe_op(client, seq)
    }

    fn observe(memory: &mut StreamMemory, op: &StreamOp, output: &StreamResult) {
        memory.observe(op, output);
    }

    fn is_read(op: &StreamOp) -> bool {
        op.is_read()
    }

    fn parts(op: &StreamOp) -> u32 {
        op.parts()
    }

    fn answers_from_any_copy(output: &StreamResult) -> bool {
        !matches!(output, StreamResult::Refused(_))
    }

    fn is_part_ack(output: &StreamResult) -> bool {
        *output == StreamResult::Staged
    }

    fn is_refusal(output: &StreamResult) -> bool {
        matches!(output, StreamResult::Refused(_))
    }

    fn is_refused_before_log(output: &StreamResult) -> bool {
        matches!(output, StreamResult::Refused(r) if r.is_staging())
    }

    fn op_text(op: &StreamOp) -> String {
        workload::op_text(op)
    }

    fn output_text(output: &StreamResult) -> String {
        workload::output_text(output)
    }

    fn check(history: &History<StreamApp>, config: &SimConfig) -> Verdict {
        check::check(history, config)
    }
}
