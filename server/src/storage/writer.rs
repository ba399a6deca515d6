//! The storage thread: carries out persist requests in order, with group commit.
//!
//! The node loop hands over every `Persist` and `PersistSnapshot` of one round as a batch;
//! the thread takes whatever batches are waiting when it wakes up (the ones that arrived while
//! it was in its last fsync), writes all their WAL records with one `write` and makes them
//! durable with one fsync, and then reports the highest persist id: raft-core's rule that
//! reporting an id reports every earlier one makes one report enough. A snapshot is a barrier:
//! the persists before it are made durable first, then the snapshot file is written, then the
//! WAL is reset or compacted. The end of a repair is a barrier too: the damage file is
//! emptied only after the persists before it are durable.
//!
//! A failed fsync stops the thread and is reported as fatal. After a failed fsync the page
//! cache may hold writes the disk lost, so the only safe continuation is a restart through
//! recovery (PostgreSQL's "fsyncgate"); nothing written since the last good fsync was
//! reported durable.

use super::files::{self, fsync};
use super::{LogMirror, StorageError, DAMAGE_FILE, PEERS_FILE, SNAPSHOT_DIR, WAL_FILE};
use bytes::Bytes;
use raft_core::storage as formats;
use raft_core::{HardState, LogWrite, PeerState, PersistId, SnapshotMeta};
use std::fs::{File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{mpsc, Arc};
use std::thread;

/// One action the node asked to make durable.
#[derive(Debug)]
pub enum Request {
    Persist {
        id: PersistId,
        hard_state: Option<HardState>,
        log: Option<LogWrite>,
        peers: Option<PeerState>,
    },
    Snapshot {
        id: PersistId,
        meta: SnapshotMeta,
        data: Bytes,
        discard_log: bool,
    },
    /// The node reports itself repaired (its durable log caught up with the log it held
    /// before damage): once everything before is durable, the damage file is emptied.
    Repaired,
    /// `ResetStorage`: once everything before is durable, the damage file holds
    /// `answers_for`, the WAL starts over empty, every snapshot file goes and the peer-state
    /// file holds `peers`; the term/vote file stays.
    Reset {
        peers: PeerState,
        answers_for: Option<raft_core::LogDamage>,
    },
}

/// What the thread tells the node loop.
#[derive(Debug)]
pub enum Event {
    /// Every request up to this id is durable.
    Persisted(PersistId),
    /// Storage failed; nothing after the last `Persisted` is durable, and the thread stopped.
    Failed(StorageError),
}

/// Counters for the status page: how well group commit groups (persists per WAL fsync).
#[derive(Debug, Default)]
pub struct Counters {
    pub wal_fsyncs: AtomicU64,
    pub persists: AtomicU64,
}

/// The node loop's end of the storage thread. Dropping it lets the thread finish what it was
/// given and stop.
pub struct Writer {
    requests: mpsc::Sender<Vec<Request>>,
    thread: Option<thread::JoinHandle<()>>,
}

impl Writer {
    /// Starts the thread. `report` is called from it with every [`Event`].
    pub fn start(
        dir: &Path,
        mirror: LogMirror,
        counters: Arc<Counters>,
        report: impl FnMut(Event) + Send + 'static,
    ) -> Result<Writer, StorageError> {
        let wal = open_wal(&dir.join(WAL_FILE))?;
        let mut state = State {
            dir: dir.to_path_buf(),
            wal,
            mirror,
            buffer: Vec::new(),
            counters,
        };
        let (requests, inbox) = mpsc::channel::<Vec<Request>>();
        let thread = thread::Builder::new()
            .name("storage".into())
            .spawn(move || state.run(inbox, report))
            .map_err(|source| StorageError::io("spawn storage thread", dir, source))?;
        Ok(Writer {
            requests,
            thread: Some(thread),
        })
    }

    /// Queues one round's requests, in order. Returns false if the thread has stopped.
    pub fn submit(&self, batch: Vec<Request>) -> bool {
        batch.is_empty() || self.requests.send(batch).is_ok()
    }

    /// Waits until everything submitted is written (or the thread failed), then stops it.
    pub fn finish(mut self) {
        self.stop();
    }

    fn stop(&mut self) {
        let (closed, _) = mpsc::channel();
        drop(std::mem::replace(&mut self.requests, closed));
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

impl Drop for Writer {
    fn drop(&mut self) {
        self.stop();
    }
}

fn open_wal(path: &Path) -> Result<File, StorageError> {
    OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
        .map_err(|source| StorageError::io("open", path, source))
}

struct State {
    dir: PathBuf,
    wal: File,
    mirror: LogMirror,
    /// WAL bytes of the current group, written with one call.
    buffer: Vec<u8>,
    counters: Arc<Counters>,
}

/// What a group of persists leaves to do at its end.
#[derive(Default)]
struct Group {
    last: Option<PersistId>,
    hard_state: Option<HardState>,
    peers: Option<PeerState>,
}

impl State {
    fn run(&mut self, inbox: mpsc::Receiver<Vec<Request>>, mut report: impl FnMut(Event)) {
        while let Ok(first) = inbox.recv() {
            let mut requests = first;
            while let Ok(more) = inbox.try_recv() {
                requests.extend(more);
            }
            match self.process(requests) {
                Ok(Some(id)) => report(Event::Persisted(id)),
                Ok(None) => {}
                Err((done, error)) => {
                    if let Some(id) = done {
                        report(Event::Persisted(id));
                    }
                    report(Event::Failed(error));
                    return;
                }
            }
        }
    }

    /// Carries out the requests in order. Returns the highest id made durable; on an error,
    /// also the highest id made durable before it.
    #[allow(clippy::type_complexity)]
    fn process(
        &mut self,
        requests: Vec<Request>,
    ) -> Result<Option<PersistId>, (Option<PersistId>, StorageError)> {
        let mut done = None;
        let mut group = Group::default();
        for request in requests {
            match request {
                Request::Persist {
                    id,
                    hard_state,
                    log,
                    peers,
                } => {
                    self.counters.persists.fetch_add(1, Ordering::Relaxed);
                    if let Some(hs) = hard_state {
                        group.hard_state = Some(hs);
                    }
                    if let Some(write) = log {
                        let bytes = formats::encode_wal_append(
                            write.prev_index,
                            write.prev_term,
                            &write.entries,
                            0,
                        )
                        .map_err(|error| (done, StorageError::Encode(error)))?;
                        self.buffer.extend_from_slice(&bytes);
                        self.mirror.write(write.prev_index, &write.entries);
                    }
                    if let Some(p) = peers {
                        group.peers = Some(p);
                    }
                    group.last = Some(id);
                }
                Request::Snapshot {
                    id,
                    meta,
                    data,
                    discard_log,
                } => {
                    if let Some(id) = self
                        .flush(std::mem::take(&mut group))
                        .map_err(|e| (done, e))?
                    {
                        done = Some(id);
                    }
                    self.snapshot(&meta, &data, discard_log)
                        .map_err(|e| (done, e))?;
                    done = Some(id);
                }
                Request::Repaired => {
                    if let Some(id) = self
                        .flush(std::mem::take(&mut group))
                        .map_err(|e| (done, e))?
                    {
                        done = Some(id);
                    }
                    files::replace_atomically(&self.dir, DAMAGE_FILE, &[])
                        .map_err(|e| (done, e))?;
                }
                Request::Reset { peers, answers_for } => {
                    if let Some(id) = self
                        .flush(std::mem::take(&mut group))
                        .map_err(|e| (done, e))?
                    {
                        done = Some(id);
                    }
                    self.reset(&peers, answers_for).map_err(|e| (done, e))?;
                }
            }
        }
        if let Some(id) = self.flush(group).map_err(|e| (done, e))? {
            done = Some(id);
        }
        Ok(done)
    }

    /// Makes a group durable: the term/vote record (both copies), then the WAL records with one fsync, then
    /// the peer-state file (raft-core's order for one persist; within a group nothing is
    /// reported before all of it is durable, so only the last term/vote and peer state of
    /// the group are written).
    fn flush(&mut self, group: Group) -> Result<Option<PersistId>, StorageError> {
        if let Some(hs) = group.hard_state {
            super::write_term_vote(&self.dir, &hs)?;
        }
        if !self.buffer.is_empty() {
            let path = self.dir.join(WAL_FILE);
            self.wal
                .write_all(&self.buffer)
                .map_err(|source| StorageError::io("write", &path, source))?;
            self.buffer.clear();
            fsync(&self.wal, &path)?;
            self.counters.wal_fsyncs.fetch_add(1, Ordering::Relaxed);
        }
        if let Some(peers) = group.peers {
            files::replace_atomically(
                &self.dir,
                PEERS_FILE,
                &formats::encode_peer_state_file(&peers),
            )?;
        }
        Ok(group.last)
    }

    /// `ResetStorage`: what the node answers for is durable before the log it held goes, so
    /// a crash at any point restarts a node that still answers for it.
    fn reset(
        &mut self,
        peers: &PeerState,
        answers_for: Option<raft_core::LogDamage>,
    ) -> Result<(), StorageError> {
        let damage = answers_for.map_or(Vec::new(), |d| formats::encode_damage_file(&d));
        files::replace_atomically(&self.dir, DAMAGE_FILE, &damage)?;
        // An empty record that only sets the log's start cannot fail to encode.
        let empty = formats::encode_wal_append(0, 0, &[], 0).expect("an empty WAL record encodes");
        files::replace_atomically(&self.dir, WAL_FILE, &empty)?;
        self.wal = open_wal(&self.dir.join(WAL_FILE))?;
        self.mirror = LogMirror {
            start: (0, 0),
            entries: Vec::new(),
        };
        // No snapshot file is named "": every one goes, orphans too.
        super::remove_older_snapshots(&self.dir, "")?;
        files::replace_atomically(
            &self.dir,
            PEERS_FILE,
            &formats::encode_peer_state_file(peers),
        )
    }

    /// `PersistSnapshot`: the snapshot file atomically, older ones deleted, then the WAL reset
    /// to start at the snapshot (`discard_log`) or rewritten without the records it covers.
    fn snapshot(
        &mut self,
        meta: &SnapshotMeta,
        data: &[u8],
        discard_log: bool,
    ) -> Result<(), StorageError> {
        let name = formats::snapshot_file_name(meta);
        let snapshots = self.dir.join(SNAPSHOT_DIR);
        files::replace_atomically(
            &snapshots,
            &name,
            &formats::encode_snapshot_file(meta, data),
        )?;
        super::remove_older_snapshots(&self.dir, &name)?;
        let replacement = if discard_log {
            let mirror = LogMirror {
                start: (meta.index, meta.term),
                entries: Vec::new(),
            };
            // An empty record that only sets the log's start cannot fail to encode.
            let bytes = formats::encode_wal_append(meta.index, meta.term, &[], 0)
                .expect("an empty WAL record encodes");
            Some((mirror, bytes))
        } else {
            // `None` when the WAL does not hold the snapshot's entry: left for recovery.
            self.mirror.compacted(meta.index, meta.term)
        };
        if let Some((mirror, bytes)) = replacement {
            files::replace_atomically(&self.dir, WAL_FILE, &bytes)?;
            self.wal = open_wal(&self.dir.join(WAL_FILE))?;
            self.mirror = mirror;
        }
        Ok(())
    }
}
