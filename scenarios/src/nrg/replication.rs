//! Replication and catch-up: commit and quorum accounting (a leader counts only durable
//! acknowledgements, never commits a previous term's entry by counting), followers catching up
//! with the same or a new leader, conflicting suffixes truncated and committed ones kept, and
//! stale, delayed or re-delivered AppendEntries from earlier leaders.

use crate::{ae, ar, vq, Script, Sel, Setup};
use sim::write_errors::WriteFailure;

pub(super) fn term_doesnt_roll_back_to_pterm_on_catchup(s: &mut Script) {
    s.setup(
        Setup::new(3)
            .classic()
            .state(0, 5, None, &[1, 2, 3])
            .state(1, 5, None, &[1, 2, 3])
            .state(2, 5, None, &[1, 2, 2]),
    );
    s.inject(0, 2, ae(0, 5, (2, 2), 2, &[3]));
    s.expect(2, "follower t5 log=1,2,3");
}

pub(super) fn wal_entry_without_quorum_must_truncate(s: &mut Script) {
    s.cluster_with_leader(3, 0);
    s.propose(0, "lost");
    s.drop(Sel::from(0));
    s.kill(0);
    s.elect(1);
    s.propose(1, "kept");
    s.settle();
    s.restart(0);
    s.expect(0, "log=1,1");
    s.run_ticks(3);
    s.expect(0, "log=1,2,2 kv=kept");
    s.expect(2, "log=1,2,2 kv=kept");
}

pub(super) fn catchup_does_not_truncate_uncommitted_entries_with_quorum(s: &mut Script) {
    s.cluster_with_leader(3, 0);
    s.propose(0, "a");
    // a reaches n1 only (on a majority with the leader), b reaches nobody.
    s.deliver(Sel::link(0, 1));
    s.sync(1);
    s.drop(Sel::any());
    s.propose(0, "b");
    s.drop(Sel::any());
    s.crash(0);
    s.elect(1);
    s.restart(0);
    s.run_ticks(3);
    for n in 0..3 {
        s.expect(n, "log=1,1,2 kv=a commit=3");
    }
}

pub(super) fn catchup_can_truncate_multiple_entries_without_quorum(s: &mut Script) {
    s.setup(
        Setup::new(3)
            .classic()
            .state(0, 3, None, &[1, 1])
            .state(1, 3, None, &[1, 1])
            .state(2, 3, None, &[1, 2, 3]),
    );
    s.elect(0);
    s.run_ticks(3);
    s.expect(2, "log=1,1,4 commit=3");
}

pub(super) fn catchup_does_not_truncate_committed_entries_during_redelivery(s: &mut Script) {
    s.cluster_with_leader(3, 0);
    s.propose(0, "a");
    let dup = s.hold_copy(Sel::link(0, 1));
    s.settle();
    s.propose(0, "b");
    s.settle();
    s.run_ticks(3);
    s.expect(1, "log=1,1,1 commit=3");
    s.release(dup);
    s.expect(1, "log=1,1,1 commit=3 kv=ab");
    s.settle();
}

pub(super) fn catchup_from_new_leader_with_incorrect_pterm(s: &mut Script) {
    s.setup(
        Setup::new(3)
            .classic()
            .state(0, 3, None, &[1, 3])
            .state(1, 3, None, &[1, 3])
            .state(2, 3, None, &[1, 2]),
    );
    s.elect(0);
    s.expect_in_flight(Sel::link(2, 0).and_kind("AR"), 0);
    s.run_ticks(3);
    s.expect(2, "log=1,3,4 commit=3");
}

pub(super) fn cancel_catchup_when_detecting_higher_term_during_vote_request(s: &mut Script) {
    s.setup(Setup::new(3).classic());
    s.elect(0);
    s.propose(0, "a");
    let late = s.hold(Sel::link(0, 1));
    s.inject(2, 1, vq(2, 5, 1, 1));
    s.release(late);
    s.sync(1);
    s.expect(1, "t5 log=1");
    s.expect_in_flight(Sel::link(1, 0).and_kind("AR"), 1);
    s.settle();
    s.expect(0, "follower t5 commit=1");
}

pub(super) fn truncate_down_to_committed(s: &mut Script) {
    s.setup(Setup::new(3).classic().state(2, 2, None, &[1, 2]));
    s.inject(0, 2, ae(0, 3, (1, 1), 0, &[3]));
    s.expect(2, "log=1,3 pending=1");
}

pub(super) fn truncate_down_to_committed_when_truncate_fails(s: &mut Script) {
    // n0 and n2 hold entries 1 and 2 of term 1 durably; the leader n0 committed entry 1.
    s.setup(
        Setup::new(3)
            .classic()
            .state(0, 1, None, &[1, 1])
            .state(1, 1, None, &[1])
            .state(2, 1, None, &[1, 1]),
    );
    s.inject(0, 2, ae(0, 1, (1, 2), 1, &[]));
    s.settle();
    s.expect(2, "commit=1 log=1,1");
    // A new leader replaces the uncommitted entry 2: the truncating write fails.
    s.fail_next_persist(2, WriteFailure::WriteEio);
    s.inject(1, 2, ae(1, 2, (1, 1), 1, &[2]));
    s.expect(2, "t2 pending=1");
    s.sync(2);
    s.expect(2, "write-error pending=0 commit=1");
    s.expect_in_flight(Sel::from(2), 0);
    // What the disk holds is the log before the failed truncation.
    s.crash(2);
    s.restart(2);
    s.expect(2, "no-write-error log=1,1");
    // The new leader then repairs it as usual.
    s.inject(1, 2, ae(1, 2, (1, 1), 1, &[2]));
    s.settle();
    s.expect(2, "log=1,2 commit=1");
}

pub(super) fn append_entry_can_establish_quorum_after_leader_change(s: &mut Script) {
    s.setup(
        Setup::new(3)
            .classic()
            .state(0, 1, None, &[1])
            .state(1, 1, None, &[1])
            .state(2, 1, None, &[1]),
    );
    s.campaign(0);
    s.sync(0);
    s.deliver(Sel::kind("VQ"));
    s.sync(1);
    s.sync(2);
    s.deliver(Sel::kind("VR"));
    s.expect(0, "leader t2 commit=0 unready");
    s.sync(0);
    s.deliver(Sel::link(0, 1));
    s.sync(1);
    s.deliver(Sel::link(1, 0));
    s.expect(0, "leader ready commit=2 applied=2 leader=n0");
}

pub(super) fn quorum_accounting(s: &mut Script) {
    s.cluster_with_leader(5, 0);
    s.propose(0, "a");
    s.sync(0);
    s.deliver(Sel::link(0, 1));
    s.sync(1);
    s.deliver(Sel::link(1, 0));
    s.expect(0, "commit=1");
    s.deliver(Sel::link(0, 2));
    s.sync(2);
    s.deliver(Sel::link(2, 0));
    s.expect(0, "commit=2");
}

pub(super) fn catchup_dont_count_toward_quorum(s: &mut Script) {
    s.cluster_with_leader(3, 0);
    s.stall_disk(1);
    s.stall_disk(2);
    s.propose(0, "a");
    s.settle();
    s.expect(0, "commit=1");
    s.expect(1, "last=2 pending=1");
    s.unstall_disk(1);
    s.settle();
    s.expect(0, "commit=2");
    s.unstall_disk(2);
    s.settle();
}

pub(super) fn ignore_track_response_when_not_leader(s: &mut Script) {
    s.setup(Setup::new(3).classic());
    s.elect(0);
    s.propose(0, "a");
    s.deliver(Sel::link(0, 1));
    s.sync(1);
    let ack = s.hold(Sel::link(1, 0));
    s.inject(2, 0, ar(2, 5, 0, false));
    s.expect(0, "follower t5");
    s.release(ack);
    s.expect(0, "follower commit=1");
}

pub(super) fn reject_new_append_entry_from_previous_leader(s: &mut Script) {
    s.setup(Setup::new(3).classic().state(1, 5, Some(2), &[1]));
    s.inject(0, 1, ae(0, 1, (1, 1), 1, &[1]));
    s.expect(1, "t5 vote=n2 last=1");
    s.expect_in_flight(Sel::link(1, 0).and_kind("AR"), 1);
}

pub(super) fn reject_append_entry_during_catchup_from_previous_leader(s: &mut Script) {
    s.setup(Setup::new(3).classic());
    s.elect(0);
    s.propose(0, "a");
    let late = s.hold(Sel::link(0, 2));
    s.isolate(0);
    s.elect(1);
    s.heal();
    s.release(late);
    s.expect(2, "t2 log=1,2");
}

pub(super) fn dont_reject_append_entry_from_replay(s: &mut Script) {
    s.cluster_with_leader(3, 0);
    s.crash(1);
    s.crash(2);
    s.propose(0, "a");
    s.kill(0);
    s.restart(0);
    s.restart(1);
    s.restart(2);
    s.elect(0);
    s.run_ticks(3);
    for n in 0..3 {
        s.expect(n, "kv=a log=1,1,2");
    }
}

pub(super) fn simple_catchup(s: &mut Script) {
    s.cluster_with_leader(3, 0);
    s.crash(2);
    for v in ["a", "b", "c"] {
        s.propose(0, v);
    }
    s.settle();
    s.restart(2);
    s.run_ticks(3);
    s.expect(2, "kv=abc commit=4");
}

pub(super) fn simple_catchup_after_leader_change(s: &mut Script) {
    s.cluster_with_leader(3, 0);
    s.crash(2);
    s.propose(0, "a");
    s.settle();
    s.transfer(0, Some(1)).unwrap();
    s.settle();
    s.propose(1, "b");
    s.settle();
    s.restart(2);
    s.run_ticks(3);
    s.expect(2, "kv=ab commit=4 leader=n1");
}

pub(super) fn leader_catchup_handling(s: &mut Script) {
    s.cluster_with_leader(3, 0);
    s.crash(2);
    s.propose(0, "a");
    s.propose(0, "b");
    s.settle();
    s.restart(2);
    s.tick(0, 3);
    s.deliver(Sel::link(0, 2));
    s.sync(2);
    s.deliver(Sel::link(2, 0));
    s.expect(0, "match=n2:3");
    s.settle();
    s.run_ticks(3);
    s.expect(2, "kv=ab");
}

pub(super) fn new_entries_from_old_leader_resets_wal_during_catchup(s: &mut Script) {
    s.setup(Setup::new(3).classic().state(1, 20, Some(0), &[1, 20]));
    s.inject(2, 1, ae(2, 1, (1, 1), 1, &[1, 1]));
    s.expect(1, "t20 log=1,20");
    s.expect_in_flight(Sel::link(1, 2).and_kind("AR"), 1);
}

pub(super) fn parallel_catchup_rollback(s: &mut Script) {
    s.cluster_with_leader(3, 0);
    s.propose(0, "a");
    let first = s.hold_copy(Sel::link(0, 1));
    s.settle();
    s.propose(0, "b");
    s.settle();
    s.expect(1, "last=3");
    s.release(first);
    s.expect(1, "last=3");
    s.settle();
}

pub(super) fn chain_of_blocks_run_in_lockstep(s: &mut Script) {
    s.cluster_with_leader(3, 0);
    let mut value = String::new();
    for block in 0..20 {
        let v = ((b'a' + block as u8 % 26) as char).to_string();
        s.propose(0, &v);
        value.push_str(&v);
        s.settle();
        s.run_ticks(3);
        for n in 0..3 {
            s.expect(n, &format!("kv={value}"));
        }
    }
}

pub(super) fn chain_of_blocks_stop_and_catch_up(s: &mut Script) {
    s.cluster_with_leader(3, 0);
    for round in 0..3 {
        let stop = 1 + round % 2;
        let snap = 3 - stop;
        s.crash(stop);
        s.snapshot(snap).unwrap();
        for v in ["x", "y", "z"] {
            s.propose(0, v);
        }
        s.settle();
        s.restart(stop);
        s.run_ticks(3);
    }
    for n in 0..3 {
        s.expect(n, "kv=xyzxyzxyz commit=10");
    }
}

pub(super) fn only_commit_if_current_term(s: &mut Script) {
    s.setup(
        Setup::new(3)
            .classic()
            .state(0, 2, None, &[1, 2])
            .state(1, 2, None, &[1])
            .state(2, 2, None, &[1]),
    );
    s.campaign(0);
    s.sync(0);
    s.deliver(Sel::kind("VQ"));
    s.sync(1);
    s.sync(2);
    s.deliver(Sel::kind("VR"));
    s.sync(0);
    s.drop(Sel::link(0, 2));
    // n1 rejects the append after index 2, takes index 2 (term 2) on the retry.
    s.deliver(Sel::link(0, 1));
    s.deliver(Sel::link(1, 0));
    s.deliver(Sel::link(0, 1));
    s.sync(1);
    s.deliver(Sel::link(1, 0));
    s.expect(0, "leader t3 commit=0 match=n1:2");
    // The term-3 entry acknowledged: it commits, and index 2 with it.
    s.deliver(Sel::link(0, 1));
    s.sync(1);
    s.deliver(Sel::link(1, 0));
    s.expect(0, "leader t3 commit=3");
}

pub(super) fn process_append_entry_term_mismatch_does_not_regress_commit(s: &mut Script) {
    s.cluster_with_leader(3, 0);
    s.propose(0, "a");
    s.settle();
    s.run_ticks(3);
    s.inject(0, 1, ae(0, 1, (9, 2), 2, &[]));
    s.expect(1, "commit=2 last=2");
}
