//! The leader's view of one follower's replication (etcd-raft's `tracker/progress.go` is the
//! model): what is known to match, where to send next, and how much is in flight.

use crate::types::NodeId;
use std::collections::VecDeque;

/// How the leader is currently sending to a follower.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ProgressState {
    /// The follower's log position is unknown: send one message at a time and wait.
    Probe,
    /// The follower is known to match up to `match_index`: stream entries optimistically.
    Replicate,
    /// The follower needs entries the leader compacted: send the snapshot at
    /// `snapshot_index`, one chunk in flight at a time.
    Snapshot,
}

/// The leader's [`Progress`] per member, in id order (so sends are deterministic).
///
/// A sorted `Vec` rather than a `BTreeMap`: clusters have a handful of members and the leader
/// looks a follower up for every send and acknowledgement, where a linear scan of a few
/// contiguous keys beats walking tree nodes.
#[derive(Clone, Debug, Default)]
pub struct ProgressMap {
    entries: Vec<(NodeId, Progress)>,
}

impl ProgressMap {
    fn position(&self, peer: NodeId) -> Result<usize, usize> {
        // Linear: the list is short, and this is cheaper than a binary search for it.
        for (i, (id, _)) in self.entries.iter().enumerate() {
            if *id >= peer {
                return if *id == peer { Ok(i) } else { Err(i) };
            }
        }
        Err(self.entries.len())
    }

    pub fn get(&self, peer: &NodeId) -> Option<&Progress> {
        let i = self.position(*peer).ok()?;
        Some(&self.entries[i].1)
    }

    pub fn get_mut(&mut self, peer: &NodeId) -> Option<&mut Progress> {
        let i = self.position(*peer).ok()?;
        Some(&mut self.entries[i].1)
    }

    pub fn contains_key(&self, peer: &NodeId) -> bool {
        self.position(*peer).is_ok()
    }

    /// The progress of `peer`, inserted with `make` when absent.
    pub fn get_or_insert_with(
        &mut self,
        peer: NodeId,
        make: impl FnOnce() -> Progress,
    ) -> &mut Progress {
        let i = match self.position(peer) {
            Ok(i) => i,
            Err(i) => {
                self.entries.insert(i, (peer, make()));
                i
            }
        };
        &mut self.entries[i].1
    }

    pub fn retain(&mut self, mut keep: impl FnMut(&NodeId, &mut Progress) -> bool) {
        self.entries.retain_mut(|(id, p)| keep(id, p));
    }

    pub fn iter(&self) -> impl Iterator<Item = (&NodeId, &Progress)> {
        self.entries.iter().map(|(id, p)| (id, p))
    }

    pub fn iter_mut(&mut self) -> impl Iterator<Item = (&NodeId, &mut Progress)> {
        self.entries.iter_mut().map(|(id, p)| (&*id, p))
    }

    /// The first member after `after` in id order (the first of all when None).
    pub fn peer_after(&self, after: Option<NodeId>) -> Option<NodeId> {
        match after {
            None => self.entries.first().map(|(id, _)| *id),
            Some(p) => self.entries.iter().map(|(id, _)| *id).find(|&id| id > p),
        }
    }
}

impl FromIterator<(NodeId, Progress)> for ProgressMap {
    fn from_iter<I: IntoIterator<Item = (NodeId, Progress)>>(iter: I) -> ProgressMap {
        let mut entries: Vec<(NodeId, Progress)> = iter.into_iter().collect();
        entries.sort_by_key(|(id, _)| *id);
        entries.dedup_by_key(|(id, _)| *id);
        ProgressMap { entries }
    }
}

#[derive(Clone, Debug)]
pub struct Progress {
    /// Highest index known to be replicated and durable on the follower, learnt only from the
    /// follower's acknowledgement of a request that contained it. Never decreases in a term,
    /// except when the follower says it lost entries it acknowledged ([`Progress::reject`]).
    pub match_index: u64,
    /// Next index to send. Invariant: `match_index < next_index`.
    pub next_index: u64,
    pub state: ProgressState,
    /// In Probe: a probe is outstanding; cleared by a response or the next heartbeat.
    pub probe_sent: bool,
    /// In Replicate: the last index of each AppendEntries in flight, oldest first.
    pub inflight: VecDeque<u64>,
    /// CheckQuorum: the follower was heard from (in the leader's term) during the current
    /// window; cleared at the end of every window.
    pub recent_active: bool,
    /// ReadIndex: the highest read round the follower acknowledged in this term.
    pub read_acked: u64,
    /// In Snapshot: the index of the snapshot being sent.
    pub snapshot_index: u64,
    /// In Snapshot: the offset of the next chunk (what the follower asked for last).
    pub snapshot_offset: u64,
    /// In Snapshot: a chunk is in flight; cleared by a response or the next heartbeat.
    pub snapshot_chunk_sent: bool,
}

impl Progress {
    pub fn new(next_index: u64) -> Progress {
        Progress {
            match_index: 0,
            next_index,
            state: ProgressState::Probe,
            probe_sent: false,
            inflight: VecDeque::new(),
            recent_active: false,
            read_acked: 0,
            snapshot_index: 0,
            snapshot_offset: 0,
            snapshot_chunk_sent: false,
        }
    }

    /// Records an acknowledgement of everything up to `index`. Returns true if it was news.
    /// While a snapshot is being sent, only an acknowledgement reaching the snapshot ends
    /// the transfer.
    pub fn acknowledge(&mut self, index: u64) -> bool {
        if self.state == ProgressState::Snapshot {
            if index >= self.snapshot_index {
                return self.snapshot_installed(index);
            }
            let news = index > self.match_index;
            self.match_index = self.match_index.max(index);
            return news;
        }
        while self.inflight.front().is_some_and(|&last| last <= index) {
            self.inflight.pop_front();
        }
        self.probe_sent = false;
        if self.state == ProgressState::Probe {
            self.state = ProgressState::Replicate;
            self.inflight.clear();
        }
        if index > self.match_index {
            self.match_index = index;
            self.next_index = self.next_index.max(index + 1);
            true
        } else {
            false
        }
    }

    /// Handles a rejection carrying `hint` (retry from `hint + 1`). Returns true when it
    /// moved `next_index` back.
    ///
    /// - During a snapshot transfer it changes nothing but a match index above the hint
    ///   (below): the snapshot repairs the follower either way.
    /// - A hint at or above the match index moves the next index back to it; a stale
    ///   rejection (for a request older than the current position) changes nothing.
    /// - A hint below the match index says the follower no longer holds entries it
    ///   acknowledged, e.g. its WAL was lost and only its term/vote file survived. Raft
    ///   assumes acknowledged entries are durable, so this is outside its fault model (the
    ///   commits those acknowledgements made may now rest on fewer nodes than a quorum, which
    ///   no protocol step can undo); but refusing to repair the follower only keeps it empty
    ///   while this leader lasts. So the match index goes back to 0 (nothing the follower
    ///   holds is known any more) and the next probe starts after the hint, falling back to
    ///   the snapshot if that is compacted. A rejection merely overtaken on the wire by an
    ///   acknowledgement looks the same and is handled the same: that costs one resend, and
    ///   a lower match index only delays commits (the commit index never moves back, and
    ///   everything else that reads the match index relies only on the follower holding at
    ///   least that much).
    pub fn reject(&mut self, hint: u64) -> bool {
        let lost_entries = hint < self.match_index;
        if lost_entries {
            self.match_index = 0;
        }
        if self.state == ProgressState::Snapshot {
            return false;
        }
        if !lost_entries && hint + 1 >= self.next_index {
            return false;
        }
        self.next_index = hint + 1;
        self.state = ProgressState::Probe;
        self.probe_sent = false;
        self.inflight.clear();
        true
    }

    /// Whether the leader may send another AppendEntries with entries now.
    pub fn can_send(&self, max_inflight: usize) -> bool {
        match self.state {
            ProgressState::Probe => !self.probe_sent,
            ProgressState::Replicate => self.inflight.len() < max_inflight,
            ProgressState::Snapshot => !self.snapshot_chunk_sent,
        }
    }

    /// Starts (or restarts, from offset 0) sending the snapshot at `index`.
    pub fn start_snapshot(&mut self, index: u64) {
        self.state = ProgressState::Snapshot;
        self.snapshot_index = index;
        self.snapshot_offset = 0;
        self.snapshot_chunk_sent = false;
        self.probe_sent = false;
        self.inflight.clear();
    }

    /// The follower asked for the snapshot from `next_offset` (the next chunk, or 0 after it
    /// lost what it had received).
    pub fn snapshot_requested(&mut self, next_offset: u64) {
        self.snapshot_offset = next_offset;
        self.snapshot_chunk_sent = false;
    }

    /// The follower durably holds everything up to `index` (it installed a snapshot there).
    /// Ends a snapshot transfer that it completes; replication resumes after `index`. Returns
    /// true if the match index moved.
    pub fn snapshot_installed(&mut self, index: u64) -> bool {
        let news = index > self.match_index;
        self.match_index = self.match_index.max(index);
        if self.state == ProgressState::Snapshot && index < self.snapshot_index {
            return news; // an older snapshot: this one is still needed
        }
        if self.state == ProgressState::Snapshot || news {
            self.state = ProgressState::Replicate;
            self.next_index = self.match_index + 1;
            self.inflight.clear();
            self.probe_sent = false;
            self.snapshot_chunk_sent = false;
        }
        news
    }

    /// Records that an AppendEntries ending at `last_index` was sent.
    pub fn sent(&mut self, last_index: u64) {
        match self.state {
            ProgressState::Probe => self.probe_sent = true,
            ProgressState::Snapshot => {}
            ProgressState::Replicate => {
                self.next_index = last_index + 1;
                self.inflight.push_back(last_index);
            }
        }
    }

    /// Heartbeat time: forget what was in flight and resend from the last known match, so a
    /// lost message is retransmitted within one heartbeat interval.
    pub fn retransmit(&mut self) {
        self.probe_sent = false;
        self.snapshot_chunk_sent = false;
        if self.state == ProgressState::Replicate {
            self.inflight.clear();
            self.next_index = self.match_index + 1;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn snapshot_transfer_has_one_chunk_in_flight_and_ends_when_installed() {
        let mut progress = Progress::new(3);
        progress.start_snapshot(10);
        assert!(progress.can_send(8));
        progress.snapshot_chunk_sent = true;
        assert!(!progress.can_send(8));
        assert!(
            !progress.reject(0),
            "rejections do not interrupt a transfer"
        );
        progress.snapshot_requested(4096);
        assert_eq!(progress.snapshot_offset, 4096);
        assert!(progress.can_send(8));
        // An acknowledgement below the snapshot does not end it.
        assert!(progress.acknowledge(4));
        assert_eq!(progress.state, ProgressState::Snapshot);
        assert!(progress.snapshot_installed(10));
        assert_eq!(progress.state, ProgressState::Replicate);
        assert_eq!((progress.match_index, progress.next_index), (10, 11));
        // A duplicate is no news and changes nothing.
        progress.sent(12);
        assert!(!progress.snapshot_installed(10));
        assert_eq!(progress.next_index, 13);
    }

    #[test]
    fn stale_rejection_does_not_move_next_index() {
        let mut progress = Progress::new(10);
        progress.acknowledge(9);
        assert!(!progress.reject(12));
        assert_eq!(progress.next_index, 10);
    }

    #[test]
    fn rejection_at_or_above_match_moves_next_index_back_to_the_hint() {
        let mut progress = Progress::new(10);
        progress.acknowledge(5);
        progress.sent(9);
        assert!(progress.reject(5));
        assert_eq!((progress.match_index, progress.next_index), (5, 6));
        assert_eq!(progress.state, ProgressState::Probe);
    }

    #[test]
    fn rejection_below_match_forgets_the_match_and_probes_from_the_hint() {
        let mut progress = Progress::new(10);
        progress.acknowledge(5);
        progress.sent(9);
        assert!(progress.reject(2));
        assert_eq!((progress.match_index, progress.next_index), (0, 3));
        assert_eq!(progress.state, ProgressState::Probe);
    }

    #[test]
    fn rejection_below_match_during_a_snapshot_forgets_the_match_and_keeps_sending_it() {
        let mut progress = Progress::new(10);
        progress.acknowledge(5);
        progress.start_snapshot(20);
        assert!(!progress.reject(2));
        assert_eq!(progress.match_index, 0);
        assert_eq!(progress.state, ProgressState::Snapshot);
    }

    #[test]
    fn acknowledgement_of_old_request_keeps_match() {
        let mut progress = Progress::new(1);
        progress.acknowledge(7);
        assert!(!progress.acknowledge(3));
        assert_eq!(progress.match_index, 7);
        assert_eq!(progress.next_index, 8);
    }

    #[test]
    fn inflight_window_bounds_sending() {
        let mut progress = Progress::new(1);
        progress.acknowledge(0);
        for last in 1..=3 {
            assert!(progress.can_send(3));
            progress.sent(last);
        }
        assert!(!progress.can_send(3));
        progress.acknowledge(2);
        assert!(progress.can_send(3));
    }
}
