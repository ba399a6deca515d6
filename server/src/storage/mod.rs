//! raft-core's storage formats on real files.
//!
//! A data directory holds:
//!
//! | file                          | format (raft-core `storage`)        | written |
//! |-------------------------------|-------------------------------------|---------|
//! | `wal.log`                     | WAL records                         | appended, fsynced once per group of persists |
//! | `tav.idx`, `tav.idx.copy`     | term/vote file, in two copies       | replaced atomically, one after the other |
//! | `peers.idx`                   | peer-state file                     | replaced atomically |
//! | `snapshots/snap.<term>.<index>` | snapshot file                     | written atomically; older ones deleted |
//! | `damage.idx`                  | damage file                         | replaced atomically while the node repairs; emptied once repaired |
//!
//! Nothing here encodes or decodes a byte of those formats: [`open`] reads the files and hands
//! them to raft-core's decoders and its WAL recovery (`recover_wal`), and the [`writer`]
//! writes what raft-core's encoders produce. The WAL verdict is acted on as the simulator's
//! host does: a torn tail (an unsynced append cut short) is truncated away. Damage inside
//! complete records does not stop the node (protocol-aware recovery): the log it may have
//! acknowledged is recorded in the damage file first, then the WAL is replaced by its intact
//! records, and the node starts answering votes for the log it held until its leader has
//! repaired it (raft-core's `LogDamage`); the writer empties the damage file once the node
//! reports itself repaired. A crash at any point in between finds the same damage again.
//!
//! The term/vote record is kept in two copies with the same bytes (raft-core's
//! `TERM_VOTE_COPIES`; a directory written before there were two holds only the first, which
//! reads as the whole record). A damaged copy falls back on the intact one, which is written
//! to both before the node starts; when every written copy is damaged the node does not start
//! ([`StorageError::TermVoteLost`]): without the record of its term and vote it could vote
//! twice in a term.

pub mod files;
pub mod writer;

use raft_core::storage::{self as formats, WalVerdict};
use raft_core::{Entry, LogDamage, Recovered, Snapshot};
use std::fmt;
use std::fs::{self, OpenOptions};
use std::io;
use std::path::{Path, PathBuf};

pub const WAL_FILE: &str = "wal.log";
/// The term/vote record's first copy (NRG's file); [`TERM_VOTE_COPIES`] names both.
pub const TERM_VOTE_FILE: &str = formats::TERM_VOTE_COPIES[0];
pub use formats::TERM_VOTE_COPIES;
pub const PEERS_FILE: &str = "peers.idx";
pub const SNAPSHOT_DIR: &str = "snapshots";
pub const DAMAGE_FILE: &str = "damage.idx";

/// What went wrong with the data directory, and where.
#[derive(Debug)]
pub enum StorageError {
    /// An operating-system call failed.
    Io {
        op: &'static str,
        path: PathBuf,
        source: io::Error,
    },
    /// The `fsync` failpoint made an fsync fail.
    Injected { op: &'static str, path: PathBuf },
    /// A term/vote, peer-state or snapshot file does not decode.
    Format {
        path: PathBuf,
        error: formats::StorageError,
    },
    /// A snapshot file name that is not `snap.<term>.<index>`.
    SnapshotName { path: PathBuf },
    /// Every written copy of the term/vote record is damaged (or two intact copies disagree
    /// on the vote of one term): each copy's path and what is wrong with it.
    TermVoteLost {
        copies: Vec<(PathBuf, formats::StorageError)>,
    },
    /// A log write the WAL format cannot hold (raft-core produces none: a broken contract).
    Encode(raft_core::codec::EncodeError),
}

impl StorageError {
    pub fn io(op: &'static str, path: &Path, source: io::Error) -> StorageError {
        StorageError::Io {
            op,
            path: path.to_path_buf(),
            source,
        }
    }
}

impl fmt::Display for StorageError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            StorageError::Io { op, path, source } => {
                write!(f, "{op} {}: {source}", path.display())
            }
            StorageError::Injected { op, path } => {
                write!(f, "{op} {}: failed by the fsync failpoint", path.display())
            }
            StorageError::Format { path, error } => write!(f, "{}: {error}", path.display()),
            StorageError::SnapshotName { path } => write!(
                f,
                "{}: not a snapshot file name (snap.<term>.<index>)",
                path.display()
            ),
            StorageError::Encode(error) => write!(f, "log write cannot be encoded: {error}"),
            StorageError::TermVoteLost { copies } => {
                write!(
                    f,
                    "every copy of the term/vote record is lost, so the node could vote twice \
                     in a term; it can rejoin only as a new member with an empty data directory"
                )?;
                for (path, error) in copies {
                    write!(f, "; {}: {error}", path.display())?;
                }
                if copies.is_empty() {
                    write!(f, "; the copies name different votes in one term")?;
                }
                Ok(())
            }
        }
    }
}

impl std::error::Error for StorageError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            StorageError::Io { source, .. } => Some(source),
            StorageError::Format { error, .. } => Some(error),
            _ => None,
        }
    }
}

/// What a start found on disk, for the log.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RecoveryReport {
    pub wal_records: usize,
    /// Bytes of a torn tail dropped from the WAL.
    pub torn_tail_bytes: usize,
    pub snapshot_index: Option<u64>,
    pub log_entries: usize,
    /// The WAL's damage, as recovery described it, when complete records were damaged.
    pub wal_damage: Option<String>,
    /// The log the node answers for until its leader repairs it (from the WAL's damage or a
    /// damage file a repair in progress left).
    pub answers_for: Option<LogDamage>,
    /// A damaged copy of the term/vote record (the other held it, and both hold it again).
    pub term_vote_copy_damaged: Option<String>,
}

/// The durable log as the writer last wrote it: the WAL's start point and its entries. The
/// writer keeps it so it can rewrite the WAL without the records a snapshot covers.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct LogMirror {
    /// `(index, term)` the WAL starts after.
    pub start: (u64, u64),
    pub entries: Vec<Entry>,
}

impl LogMirror {
    /// Applies a log write: drop everything after `prev_index`, append `entries`.
    pub fn write(&mut self, prev_index: u64, entries: &[Entry]) {
        let keep = prev_index.saturating_sub(self.start.0) as usize;
        self.entries.truncate(keep.min(self.entries.len()));
        self.entries.extend_from_slice(entries);
    }

    /// The WAL image that holds only the entries after `(index, term)`, if this log has the
    /// entry at `index` with that term (otherwise the log does not contain the snapshot, and
    /// the WAL is left as it is for recovery to judge).
    pub fn compacted(&self, index: u64, term: u64) -> Option<(LogMirror, Vec<u8>)> {
        let at = index.checked_sub(self.start.0)? as usize;
        let entry_term = if at == 0 {
            self.start.1
        } else {
            self.entries.get(at - 1)?.term
        };
        if entry_term != term {
            return None;
        }
        let rest = self.entries[at..].to_vec();
        let bytes = formats::encode_wal_append(index, term, &rest, 0).ok()?;
        Some((
            LogMirror {
                start: (index, term),
                entries: rest,
            },
            bytes,
        ))
    }
}

/// A data directory opened and recovered.
pub struct Opened {
    pub dir: PathBuf,
    pub recovered: Recovered,
    pub mirror: LogMirror,
    pub report: RecoveryReport,
}

/// Opens (creating if needed) a data directory and recovers the node's state with
/// raft-core's decoders and WAL recovery. A torn WAL tail is truncated away (and the
/// truncation synced); damage inside the WAL's complete records makes the node answer for
/// the log it held (see the module's text); a term/vote, peer-state or snapshot file that does
/// not decode is an error.
pub fn open(dir: &Path) -> Result<Opened, StorageError> {
    let snapshots = dir.join(SNAPSHOT_DIR);
    fs::create_dir_all(&snapshots)
        .map_err(|source| StorageError::io("create", &snapshots, source))?;
    files::remove_temporaries(dir)?;
    files::remove_temporaries(&snapshots)?;

    let (hard_state, vote_record, term_vote_copy_damaged) = recover_term_vote(dir)?;
    let peers_path = dir.join(PEERS_FILE);
    let membership =
        formats::decode_peer_state_file(&files::read_optional(&peers_path)?).map_err(|error| {
            StorageError::Format {
                path: peers_path,
                error,
            }
        })?;
    let snapshot = newest_snapshot(&snapshots)?;

    let wal_path = dir.join(WAL_FILE);
    let bytes = files::read_optional(&wal_path)?;
    let wal = formats::recover_wal(&bytes);
    let mut report = RecoveryReport {
        wal_records: wal.records,
        snapshot_index: snapshot.as_ref().map(|s| s.meta.index),
        log_entries: wal.entries.len(),
        term_vote_copy_damaged,
        ..RecoveryReport::default()
    };
    match wal.verdict {
        WalVerdict::Clean => {}
        WalVerdict::TornTail { dropped_bytes, .. } => {
            let file = OpenOptions::new()
                .write(true)
                .open(&wal_path)
                .map_err(|source| StorageError::io("open", &wal_path, source))?;
            file.set_len(wal.valid_len as u64)
                .map_err(|source| StorageError::io("truncate", &wal_path, source))?;
            files::fsync(&file, &wal_path)?;
            report.torn_tail_bytes = dropped_bytes;
        }
        WalVerdict::Corrupt { .. } => report.wal_damage = Some(wal.verdict.to_string()),
    }
    let mut answers_for = LogDamage::worst(
        wal.damage(hard_state.term),
        read_damage_file(dir, hard_state.term.max(wal.last_term()))?,
    );
    // A WAL that does not link to the snapshot (compacted past it, or with none): raft-core
    // drops its entries and answers for them, so the WAL starts over at the snapshot (later
    // writes then link), once the damage file holds what the node answers for.
    let snapshot_point = snapshot
        .as_ref()
        .map_or((0, 0), |s| (s.meta.index, s.meta.term));
    let unlinked = !wal.entries.is_empty() && wal.log_start.0 > snapshot_point.0;
    let mirror = if unlinked {
        answers_for = LogDamage::worst(
            answers_for,
            Some(LogDamage::HeldThrough {
                index: wal.last_index(),
                term: wal.last_term(),
            }),
        );
        report.wal_damage.get_or_insert_with(|| {
            format!(
                "the WAL starts after index {}, past the snapshot at {}",
                wal.log_start.0, snapshot_point.0
            )
        });
        LogMirror {
            start: snapshot_point,
            entries: Vec::new(),
        }
    } else {
        LogMirror {
            start: wal.log_start,
            entries: wal.entries,
        }
    };
    if let Some(damage) = answers_for {
        // What the node answers for is durable before the damaged records go: a crash
        // between the two finds the WAL's damage again, one after finds the damage file.
        files::replace_atomically(dir, DAMAGE_FILE, &formats::encode_damage_file(&damage))?;
        if report.wal_damage.is_some() {
            let intact =
                formats::encode_wal_append(mirror.start.0, mirror.start.1, &mirror.entries, 0)
                    .map_err(StorageError::Encode)?;
            files::replace_atomically(dir, WAL_FILE, &intact)?;
        }
    }
    report.answers_for = answers_for;
    Ok(Opened {
        dir: dir.to_path_buf(),
        recovered: Recovered {
            hard_state,
            log: mirror.entries.clone(),
            snapshot,
            membership,
            damage: answers_for,
            vote_record,
            // The server keeps no membership-bound file: a damaged node waits for a leader
            // to repair it rather than campaigning to repair itself.
            membership_bound: None,
        },
        mirror,
        report,
    })
}

/// The term/vote record from its copies. A damaged copy is rewritten from the intact one
/// before the node acts, so damage to the other copy later still leaves one.
fn recover_term_vote(
    dir: &Path,
) -> Result<(raft_core::HardState, formats::VoteRecord, Option<String>), StorageError> {
    let paths: Vec<PathBuf> = TERM_VOTE_COPIES.iter().map(|n| dir.join(n)).collect();
    let bytes = paths
        .iter()
        .map(|p| files::read_optional(p))
        .collect::<Result<Vec<_>, _>>()?;
    let copies: Vec<&[u8]> = bytes.iter().map(Vec::as_slice).collect();
    let recovery = formats::recover_term_vote(&copies);
    let damaged: Vec<(PathBuf, formats::StorageError)> = recovery
        .damaged
        .into_iter()
        .map(|(copy, error)| (paths[copy].clone(), error))
        .collect();
    match recovery.record {
        formats::VoteRecord::Lost => Err(StorageError::TermVoteLost { copies: damaged }),
        formats::VoteRecord::Intact => Ok((recovery.hard_state, recovery.record, None)),
        formats::VoteRecord::CopyDamaged => {
            let found = damaged
                .iter()
                .map(|(path, error)| format!("{}: {error}", path.display()))
                .collect::<Vec<_>>()
                .join("; ");
            tracing::warn!(%found, "a term/vote copy is damaged; rewriting it from the intact one");
            write_term_vote(dir, &recovery.hard_state)?;
            Ok((recovery.hard_state, recovery.record, Some(found)))
        }
    }
}

/// Replaces every copy of the term/vote record, one after the other: a crash between them
/// leaves one copy a persist ahead, which recovery takes as the record (a term and a vote
/// only move forward).
pub fn write_term_vote(dir: &Path, hard_state: &raft_core::HardState) -> Result<(), StorageError> {
    let bytes = formats::encode_hard_state(hard_state);
    for name in TERM_VOTE_COPIES {
        files::replace_atomically(dir, name, &bytes)?;
    }
    Ok(())
}

/// What a damage file left by a repair in progress says the node answers for. A damage file
/// that does not decode is itself damage: the node then answers for an unknown log whose
/// terms are at most `term_bound` (the highest term it can prove), never for less.
fn read_damage_file(dir: &Path, term_bound: u64) -> Result<Option<LogDamage>, StorageError> {
    let path = dir.join(DAMAGE_FILE);
    let bytes = files::read_optional(&path)?;
    Ok(match formats::decode_damage_file(&bytes) {
        Ok(damage) => damage,
        Err(error) => {
            tracing::warn!(path = %path.display(), %error, "damage file does not decode");
            Some(LogDamage::Unknown { term_bound })
        }
    })
}

/// Parses `snap.<term>.<index>`.
fn snapshot_point(name: &str) -> Option<(u64, u64)> {
    let rest = name.strip_prefix("snap.")?;
    let (term, index) = rest.split_once('.')?;
    Some((term.parse().ok()?, index.parse().ok()?))
}

/// The snapshot file with the highest index, decoded. A newer file that does not decode is an
/// error rather than a reason to fall back to an older one: the WAL may already have been
/// compacted past the older one.
fn newest_snapshot(dir: &Path) -> Result<Option<Snapshot>, StorageError> {
    let mut newest: Option<((u64, u64), PathBuf)> = None;
    let entries = fs::read_dir(dir).map_err(|source| StorageError::io("list", dir, source))?;
    for entry in entries {
        let entry = entry.map_err(|source| StorageError::io("list", dir, source))?;
        let path = entry.path();
        let name = entry.file_name();
        let point = name
            .to_str()
            .and_then(snapshot_point)
            .ok_or_else(|| StorageError::SnapshotName { path: path.clone() })?;
        // Ordered by index, then term.
        let key = (point.1, point.0);
        if newest.as_ref().is_none_or(|(k, _)| key > *k) {
            newest = Some((key, path));
        }
    }
    let Some((_, path)) = newest else {
        return Ok(None);
    };
    let bytes = fs::read(&path).map_err(|source| StorageError::io("read", &path, source))?;
    formats::decode_snapshot_file(&bytes)
        .map(Some)
        .map_err(|error| StorageError::Format { path, error })
}

/// Deletes every snapshot file but the one at `keep` (after a newer one is durable).
pub fn remove_older_snapshots(dir: &Path, keep: &str) -> Result<(), StorageError> {
    let snapshots = dir.join(SNAPSHOT_DIR);
    let entries =
        fs::read_dir(&snapshots).map_err(|source| StorageError::io("list", &snapshots, source))?;
    for entry in entries {
        let entry = entry.map_err(|source| StorageError::io("list", &snapshots, source))?;
        if entry.file_name().to_str() != Some(keep) {
            let path = entry.path();
            fs::remove_file(&path).map_err(|source| StorageError::io("remove", &path, source))?;
        }
    }
    files::fsync_dir(&snapshots)
}

#[cfg(test)]
mod tests;
