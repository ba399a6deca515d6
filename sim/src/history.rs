//! The client history: every operation's invocation and completion with virtual times, and
//! its linearizability check after the run (by the application's model,
//! [`crate::app::Application::check`]).

use crate::app::Application;
use crate::config::Micros;
pub use crate::linearizability::Verdict;

/// How an operation ended, as the client saw it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Outcome<O> {
    Ok(O),
    /// Definitely not executed (every attempt was refused before reaching the log).
    Fail,
    /// Timed out: it may or may not have taken effect.
    Unknown,
}

pub struct HistoryOp<A: Application> {
    pub client: u32,
    pub op: A::Op,
    pub invoked: Micros,
    /// None until completed (and for operations still open at the end of the run).
    pub completed: Option<(Micros, Outcome<A::Output>)>,
}

pub struct History<A: Application> {
    pub ops: Vec<HistoryOp<A>>,
}

// By hand, not derived: a derive would also ask the application type itself (a marker) to
// be Clone, Debug and PartialEq.
impl<A: Application> Clone for HistoryOp<A> {
    fn clone(&self) -> Self {
        HistoryOp {
            client: self.client,
            op: self.op.clone(),
            invoked: self.invoked,
            completed: self.completed.clone(),
        }
    }
}

impl<A: Application> std::fmt::Debug for HistoryOp<A> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HistoryOp")
            .field("client", &self.client)
            .field("op", &self.op)
            .field("invoked", &self.invoked)
            .field("completed", &self.completed)
            .finish()
    }
}

impl<A: Application> PartialEq for HistoryOp<A> {
    fn eq(&self, other: &Self) -> bool {
        self.client == other.client
            && self.op == other.op
            && self.invoked == other.invoked
            && self.completed == other.completed
    }
}

impl<A: Application> Clone for History<A> {
    fn clone(&self) -> Self {
        History {
            ops: self.ops.clone(),
        }
    }
}

impl<A: Application> std::fmt::Debug for History<A> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("History").field("ops", &self.ops).finish()
    }
}

impl<A: Application> Default for History<A> {
    fn default() -> Self {
        History { ops: Vec::new() }
    }
}

impl<A: Application> History<A> {
    pub fn invoke(&mut self, client: u32, op: A::Op, at: Micros) -> usize {
        self.ops.push(HistoryOp {
            client,
            op,
            invoked: at,
            completed: None,
        });
        self.ops.len() - 1
    }

    pub fn complete(&mut self, index: usize, outcome: Outcome<A::Output>, at: Micros) {
        self.ops[index].completed = Some((at, outcome));
    }

    /// Checks the history for linearizability with the application's model.
    pub fn check(&self, config: &crate::config::SimConfig) -> Verdict {
        A::check(self, config)
    }
}
