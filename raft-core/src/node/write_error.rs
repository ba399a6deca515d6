//! Write and fsync errors: a persist the host could not make durable.
//!
//! A failed write or fsync (EIO, ENOSPC) leaves the bytes of that persist, and of every
//! later one, unknown: after a failed fsync the kernel may have dropped the dirty pages and
//! marked them clean, so a retried fsync "succeeds" without the data (PostgreSQL's
//! fsyncgate). The node therefore never treats them as durable, and keeps the error sticky
//! for the rest of its life, as NRG keeps `werr`:
//!
//! - the messages that waited for those persists (vote grants, acknowledgements, its own vote
//!   requests) are discarded, and no persist is issued again: what changes in memory stays
//!   there and attests nothing (`outbox.rs`);
//! - a leader steps down, a candidate gives up its election, and no node with the error
//!   campaigns (NRG `TestNRGDoesntRequestVoteOnWriteError`);
//! - proposals, membership changes and local snapshots are refused with the error.
//!
//! The node still follows: it learns terms, leaders and the commit index, and hands
//! committed entries from its memory to the application (they are committed whatever this
//! disk holds). What clears the error is a restart, as in NATS: the host builds a new node
//! from what its storage recovers, which never includes the failed writes' claims.

use super::errors::ContractError;
use super::Node;
use crate::action::{Action, PersistId, Role};
use std::fmt;

/// What failed, as the host reports it to [`Node::persist_failed`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct WriteError {
    pub kind: WriteErrorKind,
    pub stage: WriteStage,
}

/// The operating system's error.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum WriteErrorKind {
    /// EIO: the device failed the request.
    Io,
    /// ENOSPC: no space left on the device.
    NoSpace,
}

/// Which step of a persist failed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum WriteStage {
    /// A write (an append, or a truncating write that replaces a suffix of the log).
    Write,
    /// The fsync that would have made the writes durable.
    Fsync,
}

impl fmt::Display for WriteError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let kind = match self.kind {
            WriteErrorKind::Io => "I/O error (EIO)",
            WriteErrorKind::NoSpace => "no space left on device (ENOSPC)",
        };
        let stage = match self.stage {
            WriteStage::Write => "write",
            WriteStage::Fsync => "fsync",
        };
        write!(f, "{stage} failed: {kind}")
    }
}

impl std::error::Error for WriteError {}

impl Node {
    /// The host could not make [`Action::Persist`] (or [`Action::PersistSnapshot`]) `id`
    /// durable: a write or fsync failed. Every earlier persist is durable (as
    /// [`Node::persisted`]`(id - 1)` would say); `id` and every later persist are not, and
    /// the host reports none of them again. The error is sticky until the node restarts
    /// (see [`Node::write_error`]). A second report, or an id not in flight, is a
    /// [`ContractError`].
    pub fn persist_failed(
        &mut self,
        id: PersistId,
        error: WriteError,
    ) -> Result<Vec<Action>, ContractError> {
        if planted!(self, FsyncErrorIgnored) {
            // The bug: the failure is logged and the persist treated as durable, as a
            // retried fsync would claim.
            return self.persisted(id);
        }
        self.outbox.persist_failed(id)?;
        self.write_error = Some(error);
        self.step_down_on_write_error();
        Ok(self.finish())
    }

    /// The sticky write error of this life, if a persist failed.
    pub fn write_error(&self) -> Option<WriteError> {
        self.write_error
    }

    /// Rule (write error): a leader or candidate whose persist failed becomes a follower in
    /// its term (vote kept); a pre-vote in progress is abandoned. Its attesting messages are
    /// already discarded, so a candidate's vote requests never leave.
    fn step_down_on_write_error(&mut self) {
        match self.role {
            Role::Leader | Role::Candidate => self.become_follower_in_term(),
            Role::Follower => self.pre_votes = None,
        }
    }
}
