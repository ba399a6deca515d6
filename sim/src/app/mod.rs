//! What runs on top of Raft: the trait boundary between the simulator and an application.
//!
//! An [`Application`] names three things the simulator drives and checks:
//!
//! - the **replica** each host runs ([`Replica`]): it applies committed entries, makes and
//!   restores snapshots, answers reads, and turns a client's request into proposals when
//!   its node leads;
//! - the **workload** that drives it: how a client draws its next operation
//!   ([`Application::draw_op`]) and what it remembers of the answers;
//! - the **model** the linearizability checker judges the client history with
//!   ([`Application::check`], usually [`crate::linearizability::check`] with a
//!   [`crate::linearizability::Model`]).
//!
//! The world is generic over it (`World<A>`), so the hot path is statically dispatched.
//! The faults, the Raft checkers, liveness, bundles and shrinking are the same for every
//! application. [`kv::KvApp`] is the key-value store, [`crate::stream::StreamApp`] the
//! JetStream-like stream; `sim/examples/counter.rs` plugs in a counter in one file and runs
//! it with [`crate::run_app`].

pub mod kv;

use crate::config::SimConfig;
use crate::history::History;
use crate::linearizability::Verdict;
use crate::rng::Stream;
use raft_core::{Entry, SnapshotMeta};
use serde::de::DeserializeOwned;
use serde::Serialize;
use std::fmt;

/// An application: its operations, its replica, its workload and its model.
pub trait Application: Sized + 'static {
    /// A client operation. Recorded in bundles (as JSON) so that a replay runs the same ones.
    type Op: Clone + fmt::Debug + PartialEq + Serialize + DeserializeOwned + Send + Sync;
    /// What the service answers an operation.
    type Output: Clone + fmt::Debug + PartialEq;
    /// The replica each host runs.
    type Replica: Replica<Self>;
    /// What a client remembers between its operations (to draw the next one).
    type ClientMemory: Default;

    /// The client's next operation, drawn from the `workload` stream.
    fn draw_op(
        rng: &mut Stream,
        config: &SimConfig,
        memory: &mut Self::ClientMemory,
        client: u32,
        seq: u64,
    ) -> Self::Op;

    /// The liveness probe's write.
    fn probe_op(client: u32, seq: u64) -> Self::Op;

    /// The client saw `output` for `op`.
    fn observe(_memory: &mut Self::ClientMemory, _op: &Self::Op, _output: &Self::Output) {}

    /// True for a read the service may answer through ReadIndex (with
    /// `Workload::read_index_gets`) instead of through the log.
    fn is_read(op: &Self::Op) -> bool;

    /// How many requests the client sends for the operation (one unless it is staged part by
    /// part, as a stream's batch is).
    fn parts(_op: &Self::Op) -> u32 {
        1
    }

    /// Whether an answer from the copy of an operation an earlier attempt proposed may
    /// answer the client (else only the copy its latest attempt proposed does). With
    /// per-client sessions (the key-value store) every copy answers alike: true. Without
    /// (the stream: NATS has none, the `Nats-Msg-Id` is the dedupe) an earlier copy refused
    /// by discard-new can be followed by a later copy that is stored, so a refusal answers
    /// only from the latest copy; a store answers from any (the later copies are
    /// duplicates), which keeps a client whose retries pile up behind a slow log from
    /// chasing its own latest copy forever.
    #[inline]
    fn answers_from_any_copy(_output: &Self::Output) -> bool {
        true
    }

    /// True for an answer that only acknowledges a part: the client sends the next.
    fn is_part_ack(_output: &Self::Output) -> bool {
        false
    }

    /// True for an answer that refused the operation before anything reached the log (it
    /// answers one request: a late one, from an earlier request, is ignored).
    fn is_refused_before_log(_output: &Self::Output) -> bool {
        false
    }

    /// True for an answer that says this copy of the operation had no effect (a refusal)
    /// when, without per-client sessions, another copy from an earlier request may still be
    /// in the log and take effect: after a timed-out request the client records such an
    /// answer as unknown. With sessions (the key-value store) every copy answers alike.
    fn is_refusal(_output: &Self::Output) -> bool {
        false
    }

    /// The operation as the trace shows it.
    fn op_text(op: &Self::Op) -> String;

    /// The answer as the trace shows it (after `ok`).
    fn output_text(output: &Self::Output) -> String;

    /// The linearizability verdict of a run's client history (the configuration gives the
    /// model what it needs, such as a stream's limits).
    fn check(history: &History<Self>, config: &SimConfig) -> Verdict;
}

/// A request reaching a node that leads and is ready: what the replica wants done.
pub enum Request<A: Application> {
    /// Propose one entry; `answer_now` answers the client at once (else the answer comes when
    /// the entry is applied).
    Propose {
        data: Vec<u8>,
        answer_now: Option<A::Output>,
    },
    /// Propose entries as one contiguous run (`propose_batch`, NRG `ProposeMulti`), fenced
    /// by `term`; the answer comes when the last is applied.
    ProposeBatch { term: u64, entries: Vec<Vec<u8>> },
    /// Answer without proposing anything.
    Answer(A::Output),
}

/// A client operation a replica's apply completed.
pub struct Completion<A: Application> {
    pub client: u32,
    pub seq: u64,
    pub output: A::Output,
}

/// A property of the application violated on a node (the run stops, as for Raft's).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AppViolation {
    pub property: crate::checkers::Property,
    pub detail: String,
}

/// The application on one host: the replicated state machine and what its node keeps
/// beside it while leading.
///
/// Architecture invariant: the replicated state changes only in [`Replica::apply`] (committed
/// entries, in order) and [`Replica::restore`]; requests and leadership changes touch only
/// the leader's volatile side.
pub trait Replica<A: Application>: Sized {
    /// A fresh replica (an empty state machine).
    fn new(config: &SimConfig) -> Self;

    /// Applies one committed entry (every kind: an application may need to see Raft's own
    /// entries' terms) and reports the operations it completes.
    fn apply(&mut self, entry: &Entry, done: &mut Vec<Completion<A>>) -> Result<(), AppViolation>;

    /// After a run of entries up to `processed` was applied: the highest index whose effects
    /// are all in the state (NRG `Processed(processed, applied)`; `processed` when the
    /// application holds nothing back), and the properties that hold between applies.
    fn applied_through(&self, processed: u64) -> u64 {
        processed
    }

    /// Properties checked after every apply (for example, no half-stored batch).
    fn check_after_apply(&mut self) -> Result<(), AppViolation> {
        Ok(())
    }

    /// The state machine's snapshot at [`Replica::applied_through`].
    fn snapshot(&self) -> Vec<u8>;

    /// Replaces the state machine with a snapshot (at `meta.index`).
    fn restore(&mut self, meta: &SnapshotMeta, data: &[u8]) -> Result<(), String>;

    /// Answers a read from the current state (a ReadIndex read, once apply reached it).
    fn read(&self, op: &A::Op) -> A::Output;

    /// Part `part` (from 0) of a client's operation reaches this node, which leads in `term`
    /// and is ready, at virtual time `now`.
    fn request(
        &mut self,
        now: u64,
        term: u64,
        client: u32,
        seq: u64,
        op: &A::Op,
        part: u32,
    ) -> Request<A>;

    /// This node stopped leading: the leader's volatile side is dropped.
    fn leadership_lost(&mut self) {}

    /// The replica's state in a few words, for a scenario's expectations (`kv=`, `stream=`).
    fn state_text(&self) -> String;

    /// Switches on an application-layer planted bug by name; false when the name is not one.
    fn plant(&mut self, _bug: &str) -> bool {
        false
    }
}
