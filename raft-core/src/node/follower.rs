//! The follower's side of replication: the AppendEntries consistency check, truncation of a
//! real conflict only, the commit index a follower may take, and where a rejected leader
//! should retry.

use super::Node;
use crate::action::Role;
use crate::message::{AppendEntries, AppendResponse, Message};
use crate::types::{Entry, NodeId};

impl Node {
    /// Rules for a received AppendEntries:
    /// - reject a lower term (reply with our term so the stale leader steps down);
    /// - a candidate in the same term steps down; the vote stays;
    /// - consistency check on (prev_term, prev_index), with a hint on rejection;
    /// - entries that match are kept: a stale or duplicated append never truncates;
    /// - only a real conflict truncates, and only from the first conflicting index;
    /// - commit index = min(leader commit, last index verified by this append);
    /// - the acknowledgement names the last index this append verified, never more of the
    ///   log (what follows may be a stale suffix the leader's log contradicts);
    /// - the acknowledgement leaves after the entries are durable, unless the quorum is
    ///   paused (`overrun.rs`).
    pub(super) fn handle_append_entries(&mut self, request: AppendEntries) {
        let (leader, read_seq) = (request.leader, request.read_seq);
        if self.accept_append_entries(request) && read_seq != 0 {
            self.send_read_ack(leader, read_seq);
        }
    }

    /// [`Node::handle_append_entries`] without the read acknowledgement. Returns whether this
    /// node follows the sender as the leader of its current term.
    fn accept_append_entries(&mut self, request: AppendEntries) -> bool {
        let term = self.hard_state.term;
        if request.term < term {
            let response = self.append_response(false, self.log.last_index());
            self.outbox.send_attesting(request.leader, response);
            return false;
        }
        if !self.follow_leader(request.leader) {
            return false;
        }
        if !append_is_well_formed(&request) {
            return false;
        }
        let Some(request) = self.skip_snapshotted(request) else {
            return false;
        };

        // Consistency check.
        match self.log.term_at(request.prev_index) {
            Some(t) if t == request.prev_term => {}
            _ => {
                let hint = self.rejection_hint(request.prev_index, request.prev_term);
                let response = self.append_response(false, hint);
                self.outbox.send_attesting(request.leader, response);
                return true;
            }
        }

        let last_verified = request.prev_index + request.entries.len() as u64;
        if planted!(self, StaleAppendTruncates)
            && !request.entries.is_empty()
            && self.log.last_index() > last_verified.max(self.commit_index)
        {
            // The bug: whatever follows the append is dropped, even when everything matched.
            let cut = last_verified.max(self.commit_index);
            self.log.truncate_after(cut);
            self.outbox.log_written(&self.log, cut, Vec::new());
        }
        let (leader, commit) = (request.leader, request.commit);
        let mut entries = request.entries;
        // Skip what we already have; find the first conflict, if any.
        let mut have = 0;
        while let Some(entry) = entries.get(have) {
            match self.log.term_at(entry.index) {
                Some(t) if t == entry.term => have += 1,
                Some(_) => {
                    if entry.index <= self.commit_index {
                        // A leader never conflicts with committed entries; refuse to lose them.
                        return true;
                    }
                    if planted!(self, ConflictNotTruncated) {
                        self.overwrite_in_place(&entries[have..]);
                        break;
                    }
                    entries.drain(..have);
                    self.truncate_and_append(entries);
                    break;
                }
                None => {
                    // The message's own Vec becomes the log write: no copy of it.
                    entries.drain(..have);
                    self.truncate_and_append(entries);
                    break;
                }
            }
        }

        let new_commit = if planted!(self, FollowerCommitUnbounded) {
            commit.min(self.log.last_index())
        } else {
            commit.min(last_verified)
        };
        if new_commit > self.commit_index {
            self.commit_index = new_commit;
            self.hand_out_committed();
        }
        self.update_quorum_pause();
        if self.quorum_paused {
            // Overrun: stored, not acknowledged, until the application catches up.
            return true;
        }
        let acknowledged = if planted!(self, AckBeyondVerified) {
            // The bug: the answer claims the whole log, not what this append verified.
            self.log.last_index()
        } else {
            last_verified
        };
        let response = self.append_response(true, acknowledged);
        if planted!(self, AckBeforeFsync) {
            // The bug: the acknowledgement leaves before the entries are durable.
            self.outbox.send_unattested(leader, response);
            return true;
        }
        self.outbox.send_attesting(leader, response);
        true
    }

    /// The sender of an AppendEntries or InstallSnapshot of our term is its leader: a
    /// candidate steps down (its vote stays), the election timer restarts, a pre-vote in
    /// progress is moot. False when this node leads: two leaders in one term cannot happen,
    /// so the message is ignored rather than acted on.
    pub(super) fn follow_leader(&mut self, leader: NodeId) -> bool {
        if self.role == Role::Leader {
            return false;
        }
        if self.role == Role::Candidate {
            self.votes = None;
            self.set_role(Role::Follower);
        }
        if self.leader != Some(leader) {
            self.set_leader(Some(leader));
        }
        self.reset_election_timer();
        self.ticks_since_leader = 0;
        self.repair_waits = 0;
        self.pre_votes = None;
        true
    }

    /// Rule (snapshots, NRG #7095): everything up to this node's snapshot is committed, so it
    /// is on the leader's log too (Log Matching): an append that starts below the snapshot
    /// (a delayed or re-sent one) is checked from the snapshot on, never rejected or truncating
    /// for entries the snapshot covers. None for an append whose entries after the snapshot
    /// have a term below the snapshot's (malformed).
    fn skip_snapshotted(&self, mut request: AppendEntries) -> Option<AppendEntries> {
        let start = self.log.start_index();
        if request.prev_index >= start {
            return Some(request);
        }
        let covered = (start - request.prev_index).min(request.entries.len() as u64);
        request.entries.drain(..covered as usize);
        request.prev_index = start;
        request.prev_term = self.log.start_term();
        if request
            .entries
            .first()
            .is_some_and(|e| e.term < request.prev_term)
        {
            return None;
        }
        Some(request)
    }

    /// Where a rejected leader should retry: the follower's last index if the leader is past
    /// it, else the last index at or before `prev_index` whose term is at most `prev_term`
    /// (entries with a higher term cannot be on the leader's log there), so a run of
    /// conflicting entries is skipped in one round trip.
    fn rejection_hint(&self, prev_index: u64, prev_term: u64) -> u64 {
        if prev_index > self.log.last_index() {
            return self.log.last_index();
        }
        let mut index = prev_index.saturating_sub(1);
        while index > self.commit_index {
            match self.log.term_at(index) {
                Some(t) if t > prev_term => index -= 1,
                _ => break,
            }
        }
        index
    }

    /// Planted bug `conflict-not-truncated`: conflicting entries are overwritten in memory
    /// and the stale suffix after them is kept (the write to disk still truncates).
    fn overwrite_in_place(&mut self, entries: &[Entry]) {
        let Some(last) = entries.last() else {
            return;
        };
        let suffix: Vec<Entry> = self.log.slice(last.index + 1, u64::MAX).to_vec();
        self.truncate_and_append(entries.to_vec());
        #[cfg(feature = "planted-bugs")]
        {
            for entry in suffix {
                self.log.append_unchecked(entry);
            }
            self.outbox.log_grew_unwritten(&self.log);
        }
        #[cfg(not(feature = "planted-bugs"))]
        let _ = suffix;
    }

    pub(super) fn truncate_and_append(&mut self, entries: Vec<Entry>) {
        let Some(first) = entries.first() else { return };
        let prev_index = first.index - 1;
        let truncates = prev_index < self.log.last_index();
        self.log.truncate_after(prev_index);
        // Rule (membership): a change takes effect when appended and is undone when its
        // entry is truncated.
        let mut membership_changed = false;
        if truncates {
            membership_changed |= self.membership.truncated_after(prev_index);
        }
        for entry in &entries {
            self.log.append(entry.clone());
        }
        membership_changed |= self.membership.appended(&entries);
        // A truncation also makes the cut entries no longer durable (the outbox sees it).
        self.outbox.log_written(&self.log, prev_index, entries);
        if membership_changed {
            self.membership_changed();
        }
    }

    fn append_response(&self, success: bool, index: u64) -> Message {
        Message::AppendResponse(AppendResponse {
            term: self.hard_state.term,
            index,
            peer: self.config.id,
            success,
        })
    }
}

fn append_is_well_formed(request: &AppendEntries) -> bool {
    let Some(first) = request.entries.first() else {
        return true;
    };
    first.term >= request.prev_term
        && first.term <= request.term
        && request
            .entries
            .iter()
            .enumerate()
            .all(|(i, e)| e.term == first.term && e.index == request.prev_index + 1 + i as u64)
}
