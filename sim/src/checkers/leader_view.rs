//! What a leader believes about its followers and its own transfer, checked against what
//! they hold and what it told them: its match index once a follower rejected an append
//! (match on follower disk), its appends after it told a node to campaign (transfer waits
//! for its target); and recovery refusing only damaged disks (undamaged node restarts).

use super::{Checkers, Property};
use crate::config::Micros;
use raft_core::{Message, Role};

impl Checkers {
    /// A leader handled a rejection from `from` answering its term `term`, whose hint says
    /// the follower's log ended at `hint` when it sent it; `match_index` is the leader's
    /// match index for `from` now. A match index above the hint is fine as long as the
    /// follower does hold it (the rejection was overtaken by a later acknowledgement); a
    /// match index the rejection does not vouch for and the follower's disk lacks is not.
    pub fn on_rejection_handled(
        &mut self,
        now: Micros,
        leader: usize,
        from: usize,
        (term, hint): (u64, u64),
        match_index: Option<u64>,
    ) {
        let Some(index) = match_index.filter(|&m| m > hint) else {
            return;
        };
        if self.roles[leader] != (Role::Leader, term) {
            return;
        }
        let prefix = match self.memory[leader].at(index) {
            Some(prefix) => prefix,
            None if self.memory[leader].covers(index) => self.committed_prefix(index),
            None => return,
        };
        if !self.durable[from].holds(index, prefix) {
            let durable_end = self.durable[from].len();
            self.fail(
                Property::MatchOnFollowerDisk,
                now,
                Some(leader),
                format!(
                    "leader n{leader} of term {term} keeps match index {index} for n{from} after n{from} said its log ends at {hint}, and n{from}'s durable log ends at {durable_end} without that entry"
                ),
            );
        }
    }

    /// A message leaves `node`: a leader's first TimeoutNow of a term starts the quiet
    /// time in which the campaign it ordered gets its chance.
    pub fn on_transfer_send(&mut self, now: Micros, node: usize, message: &Message) {
        if let Message::TimeoutNow(m) = message {
            self.first_timeout_now.entry((node, m.term)).or_insert(now);
        }
    }

    /// A leader appends entries of its term `term`.
    pub fn on_leader_append(&mut self, now: Micros, node: usize, term: u64) {
        let Some(&sent) = self.first_timeout_now.get(&(node, term)) else {
            return;
        };
        if self.clock_jumped_at[node].is_some_and(|at| at >= sent) {
            return; // the leader's clock skipped ahead: its transfer may have expired at once
        }
        // The transfer expires at the election_timeout_max-th tick of the leader after its
        // first TimeoutNow, and the first of those ticks may come right after it: the
        // leader keeps quiet for one tick less at least.
        let quiet =
            u64::from(self.election_timeout_max_ticks.saturating_sub(1)) * self.tick_us[node];
        if now < sent + quiet {
            self.fail(
                Property::TransferWaitsForItsTarget,
                now,
                Some(node),
                format!(
                    "leader n{node} appended entries of term {term} {}us after telling a node to campaign, before a maximum election timeout ({quiet}us) was over",
                    now - sent
                ),
            );
        }
    }

    /// The nemesis damaged `node`'s disk.
    pub fn on_damage(&mut self, node: usize) {
        self.damaged |= 1 << node;
    }

    /// `node`'s disk was replaced by an empty one: it starts over, with no durable term,
    /// vote or log.
    pub fn on_disk_replaced(&mut self, node: usize) {
        self.durable_hard_state[node] = Default::default();
        self.max_durable_term[node] = 0;
        self.durable[node].reset(&[]);
    }

    /// A clock fault set `node`'s tick to `tick_us`: a faster clock shortens how long a
    /// transfer keeps its leader quiet, so the shortest tick the node has had counts.
    pub fn on_clock_rate(&mut self, node: usize, tick_us: Micros) {
        self.tick_us[node] = self.tick_us[node].min(tick_us);
    }

    /// `node`'s clock jumped forward at `now`.
    pub fn on_clock_jump(&mut self, node: usize, now: Micros) {
        self.clock_jumped_at[node] = Some(now);
    }

    /// `node` lost the disk holding its log but kept its term/vote file: its durable log is
    /// empty, its durable term and vote are what they were.
    pub fn on_log_lost(&mut self, node: usize) {
        self.durable[node].reset(&[]);
    }

    /// Recovery refused what `node`'s disk holds: it stops for the run. Only damage the
    /// nemesis did justifies it.
    pub fn on_stopped(&mut self, now: Micros, node: usize, reason: &str) {
        if self.damaged & (1 << node) == 0 {
            self.fail(
                Property::UndamagedNodeRestarts,
                now,
                Some(node),
                format!(
                    "n{node} could not restart from a disk the nemesis never damaged: {reason}"
                ),
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use raft_core::{Entry, EntryKind, LogWrite, TimeoutNow};

    fn entries(term: u64, last: u64) -> Vec<Entry> {
        (1..=last)
            .map(|index| Entry {
                term,
                index,
                kind: EntryKind::Normal,
                data: vec![index as u8].into(),
            })
            .collect()
    }

    /// n0 leads term 2 with entries 1..=5; n1 holds them durably.
    fn leader_and_follower() -> Checkers {
        let mut c = Checkers::new(3);
        let write = LogWrite {
            prev_index: 0,
            prev_term: 0,
            entries: entries(2, 5),
        };
        c.on_role(1, 0, Role::Leader, 2);
        c.on_log_write(1, 0, &write);
        c.on_log_write(1, 1, &write);
        c.on_durable(2, 1, None, Some(&write));
        c
    }

    #[test]
    fn a_match_index_kept_above_a_rejection_for_entries_the_follower_lost_is_a_violation() {
        let mut c = leader_and_follower();
        c.on_rejection_handled(3, 0, 1, (2, 5), Some(5));
        assert!(!c.violated(), "the rejection vouches for 5");
        c.on_rejection_handled(3, 0, 1, (2, 2), Some(5));
        assert!(!c.violated(), "a stale rejection: n1 does hold 5");
        c.on_disk_replaced(1);
        c.on_rejection_handled(4, 0, 1, (2, 2), Some(0));
        assert!(!c.violated(), "the leader forgot the match");
        c.on_rejection_handled(4, 0, 1, (2, 2), Some(2));
        assert!(!c.violated(), "at the hint");
        c.on_rejection_handled(5, 0, 1, (2, 0), Some(5));
        let v = c.first_violation.expect("a violation");
        assert_eq!(v.property, Property::MatchOnFollowerDisk);
        assert_eq!(
            v.detail,
            "leader n0 of term 2 keeps match index 5 for n1 after n1 said its log ends at 0, and n1's durable log ends at 0 without that entry"
        );
    }

    #[test]
    fn a_rejection_of_another_term_is_not_judged() {
        let mut c = leader_and_follower();
        c.on_disk_replaced(1);
        c.on_rejection_handled(5, 0, 1, (1, 0), Some(5));
        assert!(!c.violated());
    }

    #[test]
    fn a_leader_appending_within_an_election_timeout_of_its_timeout_now_is_a_violation() {
        let mut c = Checkers::new(3).with_clocks(vec![10_000, 11_000, 10_000], 30);
        let timeout_now = Message::TimeoutNow(TimeoutNow {
            term: 2,
            leader: raft_core::NodeId(1),
        });
        c.on_transfer_send(1_000_000, 1, &timeout_now);
        // A second TimeoutNow does not restart the quiet time.
        c.on_transfer_send(1_200_000, 1, &timeout_now);
        c.on_leader_append(1_000_000 + 29 * 11_000, 1, 2);
        c.on_leader_append(5_000_000, 1, 3);
        c.on_leader_append(1_100_000, 0, 2);
        assert!(!c.violated());
        c.on_leader_append(1_000_000 + 29 * 11_000 - 1, 1, 2);
        let v = c.first_violation.expect("a violation");
        assert_eq!(v.property, Property::TransferWaitsForItsTarget);
        assert_eq!(v.node, Some(1));
    }

    #[test]
    fn only_a_node_the_nemesis_damaged_may_be_refused_at_restart() {
        let mut c = Checkers::new(3);
        c.on_damage(2);
        c.on_stopped(1, 2, "wal corrupt");
        assert!(!c.violated());
        c.on_stopped(2, 1, "recovered state refused: log term 3 above term 2");
        let v = c.first_violation.expect("a violation");
        assert_eq!(v.property, Property::UndamagedNodeRestarts);
        assert_eq!(v.node, Some(1));
    }
}
