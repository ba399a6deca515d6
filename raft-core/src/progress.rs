//! The leader's view of one follower's replication (etcd-raft's `tracker/progress.go` is the
//! model): what is known to match, where to send next, and how much is in flight.

use std::collections::VecDeque;

/// How the leader is currently sending to a follower.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ProgressState {
    /// The follower's log position is unknown: send one message at a time and wait.
    Probe,
    /// The follower is known to match up to `match_index`: stream entries optimistically.
    Replicate,
}

#[derive(Clone, Debug)]
pub struct Progress {
    /// Highest index known to be replicated and durable on the follower, learnt only from the
    /// follower's acknowledgement of a request that contained it. Never decreases in a term.
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
        }
    }

    /// Records an acknowledgement of everything up to `index`. Returns true if it was news.
    pub fn acknowledge(&mut self, index: u64) -> bool {
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

    /// Handles a rejection carrying `hint` (retry from `hint + 1`). Returns true when the hint
    /// moved `next_index` back; a stale rejection (for a request older than the current
    /// position) changes nothing.
    pub fn reject(&mut self, hint: u64) -> bool {
        let candidate = (hint + 1).max(self.match_index + 1);
        if candidate >= self.next_index {
            return false;
        }
        self.next_index = candidate;
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
        }
    }

    /// Records that an AppendEntries ending at `last_index` was sent.
    pub fn sent(&mut self, last_index: u64) {
        match self.state {
            ProgressState::Probe => self.probe_sent = true,
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
    fn stale_rejection_does_not_move_next_index() {
        let mut progress = Progress::new(10);
        progress.acknowledge(9);
        assert!(!progress.reject(12));
        assert_eq!(progress.next_index, 10);
    }

    #[test]
    fn rejection_never_goes_below_match() {
        let mut progress = Progress::new(10);
        progress.acknowledge(5);
        progress.sent(9);
        assert!(progress.reject(2));
        assert_eq!(progress.next_index, 6);
        assert_eq!(progress.state, ProgressState::Probe);
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
