//! Recovery: what a node starts from after a restart, rebuilt from what its storage held.
//! Pure functions of the recovered bytes' decoded form; the node only trusts what they
//! return.

use super::LogDamage;
use crate::config::{Config, ConfigError, Recovered};
use crate::log::Log;
use crate::membership::{Membership, MembershipLog};
use crate::types::{Entry, EntryKind, HardState, Snapshot, SnapshotMeta};

/// The state a node restarts from.
pub(super) struct Restart {
    /// Term and vote: the term/vote file's, or the log's last term with no vote when the log
    /// is ahead of the file (`adopted_log_term`).
    pub(super) hard_state: HardState,
    /// What the term/vote file holds.
    pub(super) durable_hard_state: HardState,
    /// The hard state was taken from the log and is not durable yet: it is persisted with
    /// the first action, before anything attests it.
    pub(super) adopted_log_term: bool,
    pub(super) membership: MembershipLog,
    /// The log after the snapshot, all of it durable.
    pub(super) log: Log,
    pub(super) snapshot: Option<Snapshot>,
    /// Damage still to repair: `None` when the surviving log already reaches the position
    /// the damaged one held.
    pub(super) repair: Option<LogDamage>,
    /// What recovery made of the term/vote record's copies.
    pub(super) vote_record: crate::storage::VoteRecord,
    /// [`Recovered::membership_bound`].
    pub(super) membership_bound: Option<u64>,
}

/// Checks what storage recovered and rebuilds the node's state from it: the log without the
/// entries a snapshot covers, the term the log proves, the membership the log implies.
pub(super) fn restart(config: &Config, mut recovered: Recovered) -> Result<Restart, ConfigError> {
    validate_recovered_terms(&recovered)?;
    if let Some(unlinked) = drop_unlinked_entries(&mut recovered) {
        recovered.damage = Some(match recovered.damage {
            Some(damage) if damage.position() >= unlinked.position() => damage,
            _ => unlinked,
        });
    }
    recovered.log = entries_after_snapshot(
        std::mem::take(&mut recovered.log),
        recovered.snapshot.as_ref().map(|s| &s.meta),
    )?;
    // The log may hold entries of a term the term/vote file never recorded: the host wrote
    // both in one persist, and a crash kept the unsynced WAL bytes but not the renamed
    // term/vote file. No message attested that persist (it never completed), so in particular
    // no vote was granted in that term: adopting the term with no vote is safe.
    // The same holds for the term of a log that damage took: its entries were durable. A
    // log whose end is unknown may have held any index of `term_bound`, and the leader of
    // that term cannot tell how far its own log reached this node: the node moves to the
    // next term (with no vote), which ends that term, so the next leader's first entry is
    // of a later term than anything the node held and repairs it (`repair.rs`).
    let held_term = recovered.damage.map_or(0, |d| match d {
        LogDamage::HeldThrough { term, .. } => term,
        LogDamage::Unknown { term_bound } => term_bound + 1,
    });
    let last_log_term = recovered.log.last().map_or(0, |e| e.term).max(held_term);
    let durable_hard_state = recovered.hard_state;
    let adopted_log_term = last_log_term > recovered.hard_state.term;
    if adopted_log_term {
        recovered.hard_state = HardState {
            term: last_log_term,
            vote: None,
        };
    }
    // Without a snapshot a log that holds membership entries holds every change since
    // index 1, so it starts from the configured voters: the peer-state file holds the
    // latest membership, and starting from it would lose the one before an uncommitted
    // change (a node removed by it could not tell, after a restart, that it may still
    // have to campaign: `may_campaign`).
    let log_has_membership = || {
        recovered.log.iter().any(|e| {
            matches!(
                e.kind,
                EntryKind::PeerState | EntryKind::AddPeer | EntryKind::RemovePeer
            )
        })
    };
    let base = match (&recovered.snapshot, &recovered.membership) {
        (Some(snapshot), _) => Membership::from_peer_state(&snapshot.meta.peers),
        (None, Some(peer_state)) if !log_has_membership() => {
            Membership::from_peer_state(peer_state)
        }
        _ => Membership::with_voters(config.voters.iter().copied()),
    };
    let mut membership = MembershipLog::new(base);
    membership.appended(&recovered.log);
    // Everything up to the snapshot is committed and applied (the host restored the
    // application from it).
    let (start_index, start_term) = recovered
        .snapshot
        .as_ref()
        .map_or((0, 0), |s| (s.meta.index, s.meta.term));
    let log = Log::with_start(start_index, start_term, recovered.log);
    let repair = recovered
        .damage
        .filter(|d| (log.last_term(), log.last_index()) < d.position());
    Ok(Restart {
        hard_state: recovered.hard_state,
        durable_hard_state,
        adopted_log_term,
        membership,
        log,
        snapshot: recovered.snapshot,
        repair,
        vote_record: recovered.vote_record,
        membership_bound: recovered.membership_bound,
    })
}

fn validate_recovered_terms(recovered: &Recovered) -> Result<(), ConfigError> {
    let mut last_term = 0;
    for entry in &recovered.log {
        if entry.term < last_term {
            return Err(ConfigError::LogTermDecreases { index: entry.index });
        }
        last_term = entry.term;
    }
    Ok(())
}

/// Rule (recovery of an unlinked log): entries that do not link to the snapshot (or, with
/// none, to the start of the log) are dropped, from the first one out of place on (NRG
/// `TestNRGTruncateLogWithMisalignedSnapshotGap`, `TestNRGTruncateLogWithMissingSnapshot`).
///
/// A WAL compacted past the snapshot, or with no snapshot at all, holds entries the node
/// cannot use: the ones before them are gone. They were durable, so the node may have
/// acknowledged them, and a committed entry among them must not be given up by a vote:
/// the node answers for the position of the log it held, exactly as after damage
/// (`repair.rs`), and the leader gives the entries back. Returns that position.
fn drop_unlinked_entries(recovered: &mut Recovered) -> Option<LogDamage> {
    // Without a snapshot the log starts at 1; with one, anywhere up to just after it.
    let first_index = match (&recovered.snapshot, recovered.log.first()) {
        (None, _) => 1,
        (Some(s), Some(first)) if (1..=s.meta.index + 1).contains(&first.index) => first.index,
        (Some(s), _) => s.meta.index + 1,
    };
    let linked = recovered
        .log
        .iter()
        .zip(first_index..)
        .take_while(|(entry, expected)| entry.index == *expected)
        .count();
    let held = recovered
        .log
        .drain(linked..)
        .map(|e| (e.term, e.index))
        .max()?;
    Some(LogDamage::HeldThrough {
        index: held.1,
        term: held.0,
    })
}

/// The recovered entries after the snapshot: the ones it covers are dropped, and all of them
/// when the log's entry at the snapshot's index has another term (a snapshot received from a
/// leader replaced a conflicting log, and a crash came before the WAL was reset).
fn entries_after_snapshot(
    log: Vec<Entry>,
    snapshot: Option<&SnapshotMeta>,
) -> Result<Vec<Entry>, ConfigError> {
    let Some(meta) = snapshot else {
        return Ok(log);
    };
    let Some(first) = log.first() else {
        return Ok(log);
    };
    let at_snapshot = meta
        .index
        .checked_sub(first.index)
        .and_then(|i| log.get(usize::try_from(i).ok()?));
    let covered = log.last().is_some_and(|e| e.index <= meta.index);
    if covered || at_snapshot.is_some_and(|e| e.term != meta.term) {
        return Ok(Vec::new());
    }
    let skip = (meta.index + 1).saturating_sub(first.index) as usize;
    let kept: Vec<Entry> = log.into_iter().skip(skip).collect();
    if let Some(first) = kept.first() {
        if first.term < meta.term {
            return Err(ConfigError::LogTermDecreases { index: first.index });
        }
    }
    Ok(kept)
}
