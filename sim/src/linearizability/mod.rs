//! Linearizability checking of client histories.
//!
//! The checker is a Wing & Gong / Lowe ("WGL") search in the style of
//! [porcupine](https://github.com/anishathalye/porcupine): the history is turned into a doubly
//! linked list of call and return events ordered by time, and a depth-first search tries to
//! linearize operations one at a time, backtracking when it meets the return event of an
//! operation that has not been linearized yet. A cache of `(set of linearized operations, model
//! state)` pairs prunes configurations that were already explored, and the history is split into
//! independent partitions (for key-value models, one per key: P-compositionality).
//!
//! On top of that, all sound (each is checked against an exhaustive search by property tests):
//!
//! * **Partitions in rounds.** Partitions are searched round-robin with a step slice that
//!   doubles every round, so a partition that fails fast is reported even if another one
//!   needs a very long search (porcupine races them on threads to the same effect).
//! * **Reads first.** A legal read-only candidate ([`Model::is_read_only`]) is linearized at
//!   once, without trying alternatives.
//! * **Unsatisfiable reads.** At each new configuration the search looks a little ahead for a
//!   read that can never become legal before it returns (see [`Model::may_become_legal`]): for
//!   the key-value model, a read of a value that the current value is not a prefix of, with no
//!   put or compare-and-set left that could help. This cuts wrong orders of concurrent appends
//!   as soon as the next read disagrees, not when it returns.
//! * **Lost operations.** Operations that never returned can be left out, so having one still
//!   available is never worse than having used it: the cache treats a configuration as covered
//!   by a visited one with the same state and a subset of them used. Identical ones are used
//!   in call order only. The key-value model also leaves out lost writes that nothing could
//!   observe.
//!
//! # Time and outcomes
//!
//! Each [`Operation`] has a call time and a return time (`u64`, any unit; only the order
//! matters). Two operations are ordered in real time only if one returns strictly before the
//! other is called; an operation returning at `t` and one called at `t` are concurrent.
//!
//! An operation is **optional** (it may or may not have taken effect) if its return time is
//! [`PENDING`] (`u64::MAX`: the client never saw a reply) or if [`Model::is_unknown`] says its
//! output is unknown. An optional operation may be linearized at any point after its call and
//! before its return, or not at all. With a return time of [`PENDING`] it has no deadline.
//! Operations for which [`Model::is_trivial`] holds (for example a read whose result is unknown)
//! constrain nothing and are dropped before the search.
//!
//! # Determinism and budgets
//!
//! The checker reads no clock and does not depend on hash-map iteration order: the same history
//! gives the same verdict, explanation and step count. Its work can be bounded with
//! [`CheckOptions::max_steps`] and its memory with [`CheckOptions::max_cache_bytes`]; either
//! yields [`Verdict::Unknown`] when it is exhausted.
//!
//! # Models and data formats
//!
//! * [`KvModel`]: string keys and values with put, append, compare-and-set and get. With
//!   [`KvModel::with_initial`]`("")` it is porcupine's partitioned `kvModel`.
//! * [`RegisterModel`]: one integer register with read, write and compare-and-set, as in
//!   porcupine's `etcdModel` (initial state absent) and Knossos's `cas-register` (initial 0).
//! * [`StreamModel`]: a JetStream-like stream (publish headers, de-duplication, limits,
//!   rollup, atomic batches, reads), one partition.
//! * Parsers: [`parse_jepsen_etcd_log`], [`parse_porcupine_kv`], [`parse_knossos_cas_register`]
//!   and a small EDN reader, [`parse_edn`].

mod cache;
mod checker;
mod counterexample;
mod edn;
mod hash;
mod kv;
mod parse;
pub mod porcupine_suite;
mod register;
mod search;
mod stream;
#[cfg(test)]
mod tests;

use std::fmt;
use std::hash::Hash;

pub use checker::{check, check_with_stats, CheckStats};
pub use edn::{parse_edn, Edn};
pub use kv::{check_kv, KvInput, KvModel, KvOutput, KvState};
pub use parse::{
    parse_jepsen_etcd_log, parse_knossos_cas_register, parse_porcupine_kv, ParseError,
};
pub use register::{RegisterInput, RegisterModel, RegisterOutput};
pub use stream::{ModelMsg, StreamInput, StreamModel, StreamOutput, StreamState};

/// Return time of an operation whose reply was never seen. Such an operation is optional and may
/// take effect at any point after its call, or never.
pub const PENDING: u64 = u64::MAX;

/// One client operation: what was asked, what was answered, and when.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Operation<I, O> {
    /// The client (process) that issued the operation. Used only in explanations.
    pub client: u64,
    /// Time of the invocation.
    pub call: u64,
    /// Time the response was received, or [`PENDING`]. Must not be smaller than `call`.
    pub ret: u64,
    /// The request.
    pub input: I,
    /// The response (or the model's "unknown" output).
    pub output: O,
}

/// An operation's client and its interval in time ([`PENDING`] when it never returned).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct OpSpan {
    pub client: u64,
    pub call: u64,
    pub ret: u64,
}

/// A history: operations in any order (the checker orders them by time).
pub type History<I, O> = Vec<Operation<I, O>>;

/// A group of operations that can be checked independently of all the others.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Partition {
    /// A name for reports, such as the key.
    pub label: String,
    /// Indices into the history, in any order.
    pub ops: Vec<usize>,
}

/// A sequential specification of an object.
pub trait Model {
    /// The object's state. It is hashed and compared for every explored configuration, so keep
    /// it small (intern strings, for example).
    type State: Clone + Eq + Hash + fmt::Debug;
    /// A request.
    type Input: fmt::Debug + Eq + Hash;
    /// A response.
    type Output: fmt::Debug + Eq + Hash;

    /// The initial state (of every partition).
    fn init(&self) -> Self::State;

    /// Applies `input` in `state` and checks that it may answer `output`. Returns the new state,
    /// or `None` if the answer is impossible in this state.
    ///
    /// For an optional operation (see [`Model::is_unknown`]) the model may also return `None`
    /// when the operation would not change the state: leaving it out is always allowed, and
    /// this prunes a redundant branch.
    fn step(
        &self,
        state: &Self::State,
        input: &Self::Input,
        output: &Self::Output,
    ) -> Option<Self::State>;

    /// Splits the history into partitions that are linearizable independently (each starts in
    /// [`Model::init`]). Every operation should be in exactly one partition; operations left
    /// out are not checked. The default is one partition holding everything.
    fn partitions(&self, history: &[Operation<Self::Input, Self::Output>]) -> Vec<Partition> {
        vec![Partition {
            label: String::new(),
            ops: (0..history.len()).collect(),
        }]
    }

    /// True if the output says the outcome is unknown (for example, a timeout): the operation
    /// may or may not have taken effect.
    fn is_unknown(&self, _input: &Self::Input, _output: &Self::Output) -> bool {
        false
    }

    /// True if the operation can never fail and never changes the state (for example, a read
    /// whose result is unknown). Such operations are dropped before the search.
    fn is_trivial(&self, _input: &Self::Input, _output: &Self::Output) -> bool {
        false
    }

    /// True if the operation never changes the state: whenever [`Model::step`] accepts it, it
    /// returns the state unchanged, whatever the state (reads, failed compare-and-sets). The
    /// search linearizes a legal read-only operation as soon as it is a candidate, without
    /// trying alternatives, which removes most of the branching on concurrent reads. Saying
    /// `true` wrongly makes the checker unsound; `false` (the default) is always safe.
    fn is_read_only(&self, _input: &Self::Input, _output: &Self::Output) -> bool {
        false
    }

    /// Pruning knowledge, optional (this and the next two methods). True if the operation
    /// only ever *extends* the state, in an order of the model's choosing (for example,
    /// appending to a string extends it in the prefix order). Read-only operations count as
    /// extending without saying so.
    fn is_monotone(&self, _input: &Self::Input, _output: &Self::Output) -> bool {
        false
    }

    /// If the operation, whenever it is legal, leaves the same state whatever the state before
    /// (a write, a successful compare-and-set), that state.
    fn fixed_result(&self, _input: &Self::Input, _output: &Self::Output) -> Option<Self::State> {
        None
    }

    /// For a read-only operation that is not legal in `state`: false if no sequence of
    /// extending operations (see [`Model::is_monotone`]) from `state` can make it legal.
    ///
    /// The search uses the three methods to abandon a configuration early when a pending read
    /// can never be satisfied: it is illegal now, extending cannot help, and every
    /// non-extending operation that could still come before its return has a fixed result
    /// from which extending cannot help either. Answering `true` is always safe.
    fn may_become_legal(
        &self,
        _state: &Self::State,
        _input: &Self::Input,
        _output: &Self::Output,
    ) -> bool {
        true
    }

    /// Bytes of memory the model itself holds and grows during a search (tables of values it
    /// has seen, for example), counted against [`CheckOptions::max_cache_bytes`]. Default 0.
    fn memory_bytes(&self) -> u64 {
        0
    }

    /// Bytes `state` holds on the heap (beyond its inline size), counted against
    /// [`CheckOptions::max_cache_bytes`] for every state the search keeps. A model whose
    /// states own buffers must report them, or the budget undercounts. Default 0.
    fn state_heap_bytes(&self, _state: &Self::State) -> u64 {
        0
    }

    /// Renders an operation for explanations.
    fn describe_operation(&self, input: &Self::Input, output: &Self::Output) -> String {
        format!("{input:?} -> {output:?}")
    }

    /// Renders a state for explanations.
    fn describe_state(&self, state: &Self::State) -> String {
        format!("{state:?}")
    }
}

/// Limits for [`check`].
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct CheckOptions {
    /// The maximum number of search steps (model steps plus forced skips) over the whole check,
    /// all partitions together. `None` means no limit. When the budget runs out the verdict is
    /// [`Verdict::Unknown`], unless a partition checked earlier was already found not
    /// linearizable.
    pub max_steps: Option<u64>,
    /// The maximum size, in bytes, of the search's caches of visited configurations (all
    /// partitions together) plus what the model holds ([`Model::memory_bytes`]): most of the
    /// checker's memory. `None` means no limit. Checked every 1,024 steps, so it may be
    /// exceeded by that many steps' growth.
    /// When it is exceeded the verdict is [`Verdict::Unknown`], as for the step budget.
    pub max_cache_bytes: Option<u64>,
}

impl CheckOptions {
    /// Options with a step budget.
    pub fn with_max_steps(max_steps: u64) -> Self {
        CheckOptions {
            max_steps: Some(max_steps),
            max_cache_bytes: None,
        }
    }

    /// These options with a memory budget for the caches.
    pub fn with_max_cache_bytes(self, bytes: u64) -> Self {
        CheckOptions {
            max_cache_bytes: Some(bytes),
            ..self
        }
    }
}

/// Which budget of [`CheckOptions`] ran out.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Budget {
    /// [`CheckOptions::max_steps`].
    Steps,
    /// [`CheckOptions::max_cache_bytes`].
    Memory,
}

/// The answer of the checker.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Verdict {
    /// Every partition has a linearization.
    Linearizable,
    /// Some partition has no linearization; the first one found (in partition order) is
    /// described.
    NotLinearizable(Box<Counterexample>),
    /// A budget ran out before a verdict was reached.
    Unknown {
        /// The partition being checked when the budget ran out.
        partition: String,
        /// Steps taken in total.
        steps: u64,
        /// Which budget ran out.
        budget: Budget,
    },
}

impl Verdict {
    /// True for [`Verdict::Linearizable`].
    pub fn is_linearizable(&self) -> bool {
        matches!(self, Verdict::Linearizable)
    }

    /// True for [`Verdict::NotLinearizable`].
    pub fn is_not_linearizable(&self) -> bool {
        matches!(self, Verdict::NotLinearizable(_))
    }
}

impl fmt::Display for Verdict {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Verdict::Linearizable => write!(f, "linearizable"),
            Verdict::NotLinearizable(c) => write!(f, "not linearizable: {}", c.explanation),
            Verdict::Unknown {
                partition,
                steps,
                budget: Budget::Steps,
            } => write!(
                f,
                "unknown: step budget exhausted after {steps} steps (partition {partition:?})"
            ),
            Verdict::Unknown {
                partition,
                steps,
                budget: Budget::Memory,
            } => write!(
                f,
                "unknown: memory budget exhausted after {steps} steps (partition {partition:?})"
            ),
        }
    }
}

/// Why a partition is not linearizable, taken from the deepest point the search reached.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Counterexample {
    /// Label of the partition (the key, for key-value models).
    pub partition: String,
    /// Number of operations checked in the partition (after dropping trivial ones).
    pub partition_ops: usize,
    /// The longest linearization found: indices into the history, in linearization order.
    /// (Optional operations that were left out are not listed.)
    pub longest_prefix: Vec<usize>,
    /// The operation that returned before it could be linearized after `longest_prefix`.
    pub stuck_op: Option<usize>,
    /// The operations that were called but not linearized at that point (the candidates that
    /// could not be placed, including `stuck_op`), by call time.
    pub pending: Vec<usize>,
    /// Where in time the operations named above are (the last of `longest_prefix`,
    /// `stuck_op`, then `pending`): what a view of the run shows, without the history.
    pub named_ops: Vec<OpSpan>,
    /// The model state after `longest_prefix`.
    pub state: String,
    /// A human-readable summary of the above.
    pub explanation: String,
}
