//! Snapshots and compaction: snapshotting while replicating, truncation down to a snapshot,
//! followers catching up from a leader's snapshot, restart from a snapshot, appends that arrive
//! after the receiver snapshotted past them, and no campaign before a received snapshot is
//! applied.

use crate::{Script, Sel, Setup};

pub(super) fn snapshot_and_restart(s: &mut Script) {
    s.cluster_with_leader(3, 0);
    s.propose(0, "a");
    s.propose(0, "b");
    s.settle();
    s.run_ticks(3);
    s.snapshot(0).unwrap();
    s.snapshot(1).unwrap();
    s.crash(2);
    s.propose(0, "c");
    s.settle();
    s.restart(2);
    s.run_ticks(3);
    for n in 0..3 {
        s.expect(n, "commit=4 applied=4 kv=abc");
    }
    s.expect(0, "snap=3");
}

pub(super) fn dont_remove_snapshot_if_truncate_to_applied(s: &mut Script) {
    s.cluster_with_leader(5, 0);
    s.propose(0, "a");
    s.settle();
    s.run_ticks(3);
    s.snapshot(1).unwrap();
    s.sync(1);
    // n1 gets an entry that never commits...
    s.propose(0, "b");
    s.deliver(Sel::link(0, 1));
    s.drop(Sel::any());
    s.crash(0);
    // ...and the next leader truncates it back to the snapshot index.
    s.elect(2);
    s.settle();
    s.expect(1, "snap=2 log=2 kv=a");
}

pub(super) fn snapshot_and_truncate_to_applied(s: &mut Script) {
    s.setup(Setup::new(3).classic());
    s.elect(1);
    s.propose(1, "a");
    s.settle();
    s.run_ticks(3);
    s.snapshot(1).unwrap();
    s.propose(1, "x");
    s.drop(Sel::any());
    s.isolate(1);
    s.elect(0);
    s.heal();
    s.run_ticks(3);
    s.expect(1, "follower snap=2 commit=3 applied=3 log=2 kv=a");
}

pub(super) fn ignore_double_snapshot(s: &mut Script) {
    s.cluster_with_leader(3, 0);
    s.propose(0, "a");
    s.settle();
    s.snapshot(0).unwrap();
    let r = s.snapshot(0);
    s.expect_refused(&r, "not past the current snapshot");
    s.expect(0, "snap=2");
}

pub(super) fn dont_switch_to_candidate_with_inflight_snapshot(s: &mut Script) {
    s.cluster_with_leader(3, 0);
    s.crash(2);
    s.propose(0, "a");
    s.settle();
    s.snapshot(0).unwrap();
    s.restart(2);
    s.pause_apply(2);
    s.run_ticks(3);
    s.expect(2, "commit=2 applied=0");
    s.isolate(2);
    s.campaign(2);
    s.expect(2, "follower t1 commit=2 applied=0");
    s.expect_in_flight(Sel::from(2), 0);
}

pub(super) fn snapshot_catchup(s: &mut Script) {
    s.cluster_with_leader(3, 0);
    s.crash(2);
    for v in ["a", "b", "c"] {
        s.propose(0, v);
    }
    s.settle();
    s.run_ticks(3);
    s.snapshot(0).unwrap();
    s.propose(0, "d");
    s.settle();
    s.restart(2);
    s.run_ticks(3);
    s.expect(2, "kv=abcd snap=4 commit=5");
}

pub(super) fn snapshot_catchup_after_leader_restart(s: &mut Script) {
    s.cluster_with_leader(3, 0);
    s.crash(2);
    for v in ["a", "b"] {
        s.propose(0, v);
    }
    s.settle();
    s.run_ticks(3);
    s.snapshot(0).unwrap();
    s.sync(0);
    s.kill(0);
    s.restart(0);
    s.elect(0);
    s.restart(2);
    s.run_ticks(3);
    s.expect(2, "kv=ab snap=3 commit=4");
}

pub(super) fn snapshot_recovery(s: &mut Script) {
    s.cluster_with_leader(3, 0);
    s.propose(0, "a");
    s.propose(0, "b");
    s.settle();
    s.run_ticks(3);
    s.snapshot(1).unwrap();
    s.sync(1);
    s.kill(1);
    s.restart(1);
    s.expect(1, "snap=3 commit=3 applied=3 last=3 kv=ab");
}

pub(super) fn replay_on_snapshot_same_term(s: &mut Script) {
    s.cluster_with_leader(3, 0);
    s.propose(0, "a");
    let again = s.hold_copy(Sel::link(0, 1));
    s.settle();
    s.run_ticks(3);
    s.snapshot(1).unwrap();
    s.release(again);
    s.expect(1, "snap=2 last=2 kv=a");
    s.settle();
}

pub(super) fn replay_on_snapshot_different_term(s: &mut Script) {
    s.setup(Setup::new(3).classic());
    s.elect(0);
    s.propose(0, "a");
    s.settle();
    s.run_ticks(3);
    s.propose(0, "lost");
    // n2 gets the lost leadership's append only after it snapshotted past that index.
    let stale = s.hold(Sel::link(0, 2));
    s.drop(Sel::link(0, 1));
    s.crash(0);
    s.elect(1);
    s.propose(1, "b");
    s.settle();
    s.run_ticks(3);
    s.snapshot(2).unwrap();
    s.release(stale);
    s.expect(2, "follower t2 snap=4 last=4 kv=ab");
    s.expect(1, "leader t2 log=1,1,2,2");
}

pub(super) fn dont_switch_to_candidate_with_multiple_inflight_snapshots(s: &mut Script) {
    s.cluster_with_leader(3, 0);
    s.crash(2);
    s.propose(0, "a");
    s.settle();
    s.snapshot(0).unwrap();
    s.restart(2);
    s.pause_apply(2);
    s.run_ticks(3);
    s.expect(2, "snap=2 applied=0");
    s.isolate(2);
    s.propose(0, "b");
    s.propose(0, "c");
    s.settle();
    s.snapshot(0).unwrap();
    s.heal();
    s.run_ticks(3);
    s.expect(2, "snap=4 commit=4 applied=0");
    s.isolate(2);
    s.campaign(2);
    s.expect(2, "follower t1 applied=0");
    s.expect_in_flight(Sel::from(2), 0);
    s.resume_apply(2);
    s.expect(2, "applied=4 kv=abc");
    s.campaign(2);
    s.expect(2, "candidate t2");
}
