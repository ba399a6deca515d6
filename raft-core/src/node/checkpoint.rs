//! Snapshot checkpoints (NRG `CreateSnapshotCheckpoint`): a snapshot made in two steps, so
//! the application can write a large state without holding up the node. The first step
//! fixes what the snapshot covers (the applied index, its term, the membership there, and
//! the snapshot it builds on); the application then builds its state as of that index (from
//! the previous snapshot and the entries after it, or from a copy it took) while the node
//! takes other inputs; the second step compacts the log and issues the snapshot's persist.
//!
//! At most one checkpoint is open. It is aborted, and its second step refused, when
//! anything else moves the log's start first: a forced snapshot, a snapshot received from
//! the leader, a newer checkpoint begun by force, [`Node::abort_snapshot`], or a restart
//! (checkpoints live in memory). A snapshot made by another way never interleaves with a
//! checkpoint's: an unforced snapshot is refused while one is open.

use super::{Node, SnapshotError};
use crate::action::Action;
use bytes::Bytes;

/// An open snapshot checkpoint ([`Node::begin_snapshot`]): what the snapshot covers.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SnapshotCheckpoint {
    /// The snapshot covers the log up to here: the applied index when it began.
    pub index: u64,
    /// The term of the entry at `index`.
    pub term: u64,
    /// The index of the snapshot it builds on (0: none): the application's state at `index`
    /// is that snapshot's state with the entries `previous + 1 ..= index` applied.
    pub previous: u64,
    /// Which checkpoint of this node it is: one begun later replaces it.
    id: u64,
}

/// The checkpoint a node has open.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) struct OpenCheckpoint {
    pub(super) id: u64,
    /// What it covers: a handle of another lifetime with the same id covers another index
    /// (or is the same snapshot).
    pub(super) index: u64,
    /// The log's start when it began: a snapshot installed since aborts it.
    pub(super) previous: u64,
}

impl Node {
    /// NRG `CreateSnapshotCheckpoint(force)`: begins a snapshot of the application's state at
    /// its applied index. Returns what the snapshot covers; hand the application's state at
    /// that index to [`Node::finish_snapshot`] later (the node keeps running meanwhile).
    ///
    /// Refused when nothing new is applied past the current snapshot
    /// ([`SnapshotError::Stale`]) and, unless `force`, while another checkpoint is open
    /// ([`SnapshotError::InProgress`]); a forced one aborts the open one.
    pub fn begin_snapshot(&mut self, force: bool) -> Result<SnapshotCheckpoint, SnapshotError> {
        let (index, previous) = (self.applied_index, self.log.start_index());
        if let Some(open) = self.checkpoint.filter(|_| !force) {
            return Err(SnapshotError::InProgress {
                previous: open.previous,
            });
        }
        if index <= previous {
            return Err(SnapshotError::Stale {
                index,
                snapshot_index: previous,
            });
        }
        self.checkpoints_begun += 1;
        let id = self.checkpoints_begun;
        self.checkpoint = Some(OpenCheckpoint {
            id,
            index,
            previous,
        });
        Ok(SnapshotCheckpoint {
            index,
            term: self
                .log
                .term_at(index)
                .expect("applied entries after the snapshot are in the log"),
            previous,
            id,
        })
    }

    /// Rule (checkpoints): the second step of `checkpoint`, with `data` the application's
    /// state at its index: compacts the log as [`Node::install_snapshot`] does and issues the
    /// snapshot's persist ([`Action::PersistSnapshot`]). Refused with
    /// [`SnapshotError::Aborted`] (nothing changes) when the checkpoint is no longer the open
    /// one, or the log's start moved since it began.
    pub fn finish_snapshot(
        &mut self,
        checkpoint: &SnapshotCheckpoint,
        data: impl Into<Bytes>,
    ) -> Result<Vec<Action>, SnapshotError> {
        let open = OpenCheckpoint {
            id: checkpoint.id,
            index: checkpoint.index,
            previous: checkpoint.previous,
        };
        if self.checkpoint != Some(open) || self.log.start_index() != checkpoint.previous {
            return Err(SnapshotError::Aborted {
                index: checkpoint.index,
            });
        }
        self.compact_to(checkpoint.index, data.into());
        Ok(self.finish())
    }

    /// NRG `checkpoint.Abort`: closes `checkpoint` without a snapshot. A no-op when it is no
    /// longer open (finished, or aborted by something else).
    pub fn abort_snapshot(&mut self, checkpoint: &SnapshotCheckpoint) {
        if self.checkpoint.is_some_and(|open| open.id == checkpoint.id) {
            self.checkpoint = None;
        }
    }

    /// The checkpoint open, if any: the index of the snapshot it builds on.
    pub fn snapshot_in_progress(&self) -> Option<u64> {
        self.checkpoint.map(|open| open.previous)
    }

    /// NRG `InstallSnapshot(data, force: true)`: [`Node::install_snapshot`] that aborts an
    /// open checkpoint instead of being refused by it.
    pub fn force_install_snapshot(
        &mut self,
        index: u64,
        data: impl Into<Bytes>,
    ) -> Result<Vec<Action>, SnapshotError> {
        self.check_snapshot_index(index)?;
        self.compact_to(index, data.into());
        Ok(self.finish())
    }

    /// Rule (checkpoints): a snapshot replaces the log's start by another way (received from
    /// the leader): an open checkpoint, which builds on the old start, is aborted.
    pub(super) fn abort_checkpoint(&mut self) {
        self.checkpoint = None;
    }
}
