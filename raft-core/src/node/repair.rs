//! Protocol-aware recovery: a node whose synced log was damaged rejoins instead of stopping,
//! and never answers in a way that could lose a committed entry.
//!
//! Damage to synced data takes entries the node may have acknowledged. Raft's safety
//! argument needs two things from a node that acknowledged an entry: that it refuses votes
//! to candidates whose log is less up to date than the one it held, and that it does not
//! lead with a log that lacks it. Both depend only on the *position* of the last entry the
//! node held (Raft §5.4: "at least as up to date" compares last term and last index), not
//! on the entries' bytes, so the node keeps that position ([`LogDamage`]) and:
//!
//! - answers votes and pre-votes as though it still held that log
//!   (`vote_log_position`), so every quorum that could elect a leader still meets a voter
//!   that refuses a candidate lacking a committed entry it acknowledged;
//! - does not campaign while its log is behind that position (`may_campaign`): its own log
//!   would fail the very check it applies to others;
//! - takes the entries back from the leader by ordinary replication, acknowledging only what
//!   it durably rewrote, and is repaired once its durable log is at least as up to date as
//!   the position it held (`finish_repair_once_durable`). The leader's log then contains
//!   every committed entry the lost one did (Leader Completeness), so the node's own log now
//!   refuses what the position refused.
//!
//! What this is not: the node does not fetch entries from followers, and an uncommitted
//! tail only it held is given up by the ordinary rule that a newer leader's log wins. Unlike
//! NRG, nothing is truncated and forgotten: truncating the damaged suffix and voting with the
//! rest is the planted bug `truncate-damaged-suffix`.

use super::Node;

/// What a node whose log was damaged still knows of the log it held before the damage.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum LogDamage {
    /// The log ended at this entry (the intact records after the damage show it).
    HeldThrough { index: u64, term: u64 },
    /// Where the log ended is unknown (the damaged record was the last one); no entry of it
    /// had a term above `term_bound`.
    Unknown { term_bound: u64 },
}

impl LogDamage {
    /// The position a candidate must reach, compared as Raft §5.4.1 does on (last term, last
    /// index): an unknown end at `term_bound` is beaten only by a later term.
    pub fn position(self) -> (u64, u64) {
        match self {
            LogDamage::HeldThrough { index, term } => (term, index),
            LogDamage::Unknown { term_bound } => (term_bound, u64::MAX),
        }
    }

    /// Of two findings of what a node must answer for (its WAL's, a damage file's), the one
    /// that asks more of it: the later position. A host merges its findings with this.
    pub fn worst(a: Option<LogDamage>, b: Option<LogDamage>) -> Option<LogDamage> {
        match (a, b) {
            (Some(a), Some(b)) => Some(if a.position() >= b.position() { a } else { b }),
            (a, b) => a.or(b),
        }
    }
}

impl std::fmt::Display for LogDamage {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            LogDamage::HeldThrough { index, term } => write!(f, "held through {index}@t{term}"),
            LogDamage::Unknown { term_bound } => write!(f, "end unknown, terms <= {term_bound}"),
        }
    }
}

impl Node {
    /// What recovery made of the term/vote record's copies at this start: intact, one copy
    /// damaged (the host rewrites it from the other), or lost.
    pub fn vote_record(&self) -> crate::storage::VoteRecord {
        self.vote_record
    }

    /// The damage this node is still repairing: `None` once its durable log is at least as
    /// up to date as the log it held.
    pub fn repairing(&self) -> Option<LogDamage> {
        self.repair
    }

    /// The (last term, last index) this node answers votes with: its log's, or the position
    /// it held before damage when that is further.
    pub(super) fn vote_log_position(&self) -> (u64, u64) {
        let own = (self.log.last_term(), self.log.last_index());
        match self.repair {
            Some(damage) => own.max(damage.position()),
            None => own,
        }
    }

    /// Rule (protocol-aware recovery): a damaged node is repaired once its durable log is at
    /// least as up to date as the position it held; from then on its own log answers votes.
    pub(super) fn finish_repair_once_durable(&mut self) {
        let Some(damage) = self.repair else {
            return;
        };
        let durable = self.outbox.durable_index().min(self.log.last_index());
        let Some(term) = self.log.term_at(durable) else {
            return;
        };
        if (term, durable) >= damage.position() {
            self.repair = None;
        }
    }
}
