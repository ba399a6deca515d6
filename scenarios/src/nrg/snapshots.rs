//! Snapshots and compaction: snapshotting while replicating, truncation down to a snapshot,
//! followers catching up from a leader's snapshot, restart from a snapshot, appends that arrive
//! after the receiver snapshotted past them, and no campaign before a received snapshot is
//! applied.

use crate::{ae, Script, Sel, Setup};
use raft_core::{InstallSnapshot, Message, NodeId};

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

pub(super) fn drain_and_replay_snapshot(s: &mut Script) {
    s.cluster_with_leader(3, 0);
    s.propose(0, "a");
    s.settle();
    s.run_ticks(3);
    s.snapshot(1).unwrap();
    s.propose(0, "b");
    s.propose(0, "c");
    s.settle();
    s.run_ticks(3);
    // Without a snapshot there is nothing to replay.
    let r = s.drain_and_replay(2);
    s.expect_refused(&r, "no snapshot");
    s.expect(2, "unpaused commit=4 applied=4 kv=abc");
    // The application starts over from the snapshot; the commit index stays.
    s.drain_and_replay(1).unwrap();
    s.expect(1, "follower paused snap=2 commit=4 applied=2 kv=a");
    s.resume_apply(1);
    s.expect(1, "unpaused commit=4 applied=4 kv=abc");
    // Replayed again, and entries committed meanwhile are handed out on resume too.
    s.drain_and_replay(1).unwrap();
    s.propose(0, "d");
    s.settle();
    s.run_ticks(3);
    s.expect(1, "paused commit=5 applied=2 kv=a");
    s.drain_and_replay(1).unwrap();
    s.expect(1, "paused commit=5 applied=2 kv=a");
    s.resume_apply(1);
    s.expect(1, "unpaused commit=5 applied=5 kv=abcd");
}

pub(super) fn install_snapshot_from_checkpoint(s: &mut Script) {
    s.cluster_with_leader(3, 0);
    s.propose(0, "a");
    s.settle();
    s.run_ticks(3);
    // The first checkpoint builds on no snapshot; once finished it is closed.
    let first = s.begin_snapshot(1, false).unwrap();
    s.finish_snapshot(&first).unwrap();
    s.expect(1, "snap=2 kv=a");
    let r = s.finish_snapshot(&first);
    s.expect_refused(&r, "aborted or already finished");
    s.propose(0, "b");
    s.propose(0, "c");
    s.settle();
    s.run_ticks(3);
    // One checkpoint at a time; an aborted one does not finish.
    let second = s.begin_snapshot(1, false).unwrap();
    let r = s.begin_snapshot(1, false);
    s.expect_refused(&r, "in progress");
    s.abort_snapshot(&second);
    let r = s.finish_snapshot(&second);
    s.expect_refused(&r, "aborted or already finished");
    // The next one builds on the first snapshot and covers the entries after it.
    let third = s.begin_snapshot(1, false).unwrap();
    assert_eq!((third.checkpoint.previous, third.checkpoint.index), (2, 4));
    s.finish_snapshot(&third).unwrap();
    s.expect(1, "snap=4 kv=abc");
    // While one is open an unforced snapshot is refused, and a snapshot received from the
    // leader (n2 was cut off while the leader compacted past it) aborts it.
    s.isolate(2);
    s.propose(0, "d");
    s.propose(0, "e");
    s.settle();
    s.run_ticks(3);
    s.snapshot(0).unwrap();
    let fourth = s.begin_snapshot(2, false).unwrap();
    let r = s.snapshot(2);
    s.expect_refused(&r, "in progress");
    s.heal();
    s.run_ticks(3);
    s.expect(2, "snap=6 commit=6 kv=abcde");
    let r = s.finish_snapshot(&fourth);
    s.expect_refused(&r, "aborted or already finished");
    s.expect(2, "snap=6");
}

pub(super) fn forced_install_snapshot_aborts_in_progress_checkpoint(s: &mut Script) {
    s.cluster_with_leader(3, 0);
    s.propose(0, "a");
    s.propose(0, "b");
    s.settle();
    s.run_ticks(3);
    let checkpoint = s.begin_snapshot(1, false).unwrap();
    let r = s.snapshot(1);
    s.expect_refused(&r, "in progress");
    s.force_snapshot(1).unwrap();
    let r = s.finish_snapshot(&checkpoint);
    s.expect_refused(&r, "aborted or already finished");
    // Its late abort cancels nothing installed after it.
    s.abort_snapshot(&checkpoint);
    s.expect(1, "snap=3");
    s.sync(1);
    s.kill(1);
    s.restart(1);
    s.expect(1, "snap=3 commit=3 applied=3 kv=ab");
}

pub(super) fn snapshot_checkpoint_node_closed(s: &mut Script) {
    s.cluster_with_leader(3, 0);
    s.propose(0, "a");
    s.settle();
    s.run_ticks(3);
    let checkpoint = s.begin_snapshot(1, false).unwrap();
    s.crash(1);
    let r = s.finish_snapshot(&checkpoint);
    s.expect_refused(&r, "not running");
    // A checkpoint lives in memory: the restarted node has none open.
    s.restart(1);
    s.run_ticks(3);
    let r = s.finish_snapshot(&checkpoint);
    s.expect_refused(&r, "aborted or already finished");
    s.expect(1, "snap=0 commit=2 applied=2");
    let fresh = s.begin_snapshot(1, false).unwrap();
    s.finish_snapshot(&fresh).unwrap();
    s.expect(1, "snap=2");
}

pub(super) fn install_snapshot_from_checkpoint_after_truncate_to_snapshot(s: &mut Script) {
    s.cluster_with_leader(3, 0);
    s.propose(0, "a");
    s.settle();
    s.run_ticks(3);
    s.snapshot(1).unwrap();
    // n1 catches up from the leader's newer snapshot while its apply is paused.
    s.isolate(1);
    s.propose(0, "b");
    s.propose(0, "c");
    s.settle();
    s.run_ticks(3);
    s.snapshot(0).unwrap();
    s.pause_apply(1);
    s.heal();
    s.run_ticks(3);
    s.expect(1, "snap=4 commit=4 applied=2");
    // Nothing applied past the received snapshot: nothing to snapshot, before and after
    // applying it.
    let r = s.begin_snapshot(1, false);
    s.expect_refused(&r, "not past the current snapshot");
    s.resume_apply(1);
    s.expect(1, "applied=4 kv=abc");
    let r = s.begin_snapshot(1, false);
    s.expect_refused(&r, "not past the current snapshot");
    // Once more is applied, a checkpoint builds on the received snapshot.
    s.propose(0, "d");
    s.settle();
    s.run_ticks(3);
    let checkpoint = s.begin_snapshot(1, false).unwrap();
    assert_eq!(
        (checkpoint.checkpoint.previous, checkpoint.checkpoint.index),
        (4, 5)
    );
    s.finish_snapshot(&checkpoint).unwrap();
    s.expect(1, "snap=5 kv=abcd");
}

pub(super) fn checkpoint_install_snapshot_abort_during_write(s: &mut Script) {
    s.cluster_with_leader(3, 0);
    s.propose(0, "a");
    s.settle();
    s.run_ticks(3);
    // Aborted while its snapshot is being written: the snapshot is already adopted.
    s.stall_disk(1);
    let adopted = s.begin_snapshot(1, false).unwrap();
    s.finish_snapshot(&adopted).unwrap();
    s.abort_snapshot(&adopted);
    s.expect(1, "snap=2");
    s.unstall_disk(1);
    s.sync(1);
    // Aborted before its write: nothing is written.
    s.propose(0, "b");
    s.settle();
    s.run_ticks(3);
    let orphan = s.begin_snapshot(1, false).unwrap();
    s.abort_snapshot(&orphan);
    let r = s.finish_snapshot(&orphan);
    s.expect_refused(&r, "aborted or already finished");
    s.kill(1);
    s.restart(1);
    s.expect(1, "snap=2 kv=a");
    s.run_ticks(3);
    s.expect(1, "snap=2 commit=3 applied=3 kv=ab");
}

pub(super) fn apply_commit_does_not_reset_wal_at_snapshot_boundary(s: &mut Script) {
    s.cluster_with_leader(3, 0);
    s.propose(0, "a");
    s.settle();
    s.run_ticks(3);
    s.snapshot(0).unwrap();
    s.propose(0, "b");
    s.settle();
    s.run_ticks(3);
    // n1 restarts holding entries 1..=3 and knowing no commit.
    s.sync(1);
    s.kill(1);
    s.restart(1);
    s.expect(1, "commit=0 last=3");
    // The leader's snapshot at 2 lands past n1's commit, inside its log: the entry after it
    // stays.
    let snapshot = s.node(0).snapshot().cloned().unwrap();
    let chunk = InstallSnapshot {
        term: 1,
        leader: NodeId(0),
        meta: snapshot.meta,
        offset: 0,
        data: snapshot.data,
        done: true,
    };
    s.inject(0, 1, Message::InstallSnapshot(Box::new(chunk)));
    s.expect(1, "snap=2 last=3 commit=2 applied=2 kv=a");
    // The commit index then crosses the snapshot boundary: entry 3 is applied, nothing reset.
    s.inject(0, 1, ae(0, 1, (1, 3), 3, &[]));
    s.expect(1, "snap=2 last=3 commit=3 applied=3 kv=ab");
}

pub(super) fn install_snapshot_force(s: &mut Script) {
    s.setup(Setup::new(3).classic().max_bytes_per_message(8));
    s.elect(0);
    s.crash(2);
    s.propose(0, "a");
    s.propose(0, "b");
    s.settle();
    s.run_ticks(3);
    s.snapshot(0).unwrap();
    // n2 comes back and starts catching up from that snapshot, chunk by chunk...
    s.restart(2);
    s.tick(0, 3);
    s.deliver(Sel::link(0, 2));
    s.deliver(Sel::link(2, 0));
    s.deliver(Sel::link(0, 2));
    s.expect(2, "snap=0");
    // ...and an unforced snapshot is still taken meanwhile: compaction never waits for a
    // follower's catch-up, which goes on from the newer snapshot.
    s.propose(0, "c");
    s.sync(0);
    s.deliver(Sel::link(0, 1));
    s.sync(1);
    s.deliver(Sel::link(1, 0));
    s.expect(0, "commit=4 applied=4");
    s.snapshot(0).unwrap();
    s.expect(0, "snap=4");
    s.expect(2, "snap=0");
    s.settle();
    s.run_ticks(3);
    s.expect(2, "snap=4 commit=4 applied=4 kv=abc");
}

pub(super) fn send_snapshot_installs_snapshot(s: &mut Script) {
    // A single-voter group (R1) scales up to three.
    s.setup(Setup::new(3).voters(&[0]));
    s.elect(0);
    s.propose(0, "a");
    s.propose(0, "b");
    s.settle();
    s.expect(0, "leader commit=3 applied=3 kv=ab");
    // The leader hands its state over as a snapshot: the log up to it is compacted, so the
    // new members can only learn that state from the snapshot.
    s.snapshot(0).unwrap();
    s.add_voter(0, 1);
    s.settle();
    s.add_voter(0, 2);
    s.settle();
    s.run_ticks(3);
    for n in 1..3 {
        s.expect(n, "voters=0,1,2 snap=3 commit=5 applied=5 kv=ab");
    }
    // The snapshot they installed is theirs to replay.
    s.drain_and_replay(1).unwrap();
    s.expect(1, "paused snap=3 applied=3 kv=ab");
    s.resume_apply(1);
    s.expect(1, "unpaused applied=5 kv=ab");
}

pub(super) fn no_log_reset_on_corrupted_send_to_follower(s: &mut Script) {
    // Three nodes, not NRG's two: with two, the follower's lost log would lose committed
    // entries (the checkers say so), which is not what this test is about.
    s.setup(Setup::new(3).classic());
    s.elect(0);
    for v in ["a", "b", "c"] {
        s.propose(0, v);
    }
    s.settle();
    s.run_ticks(3);
    s.snapshot(0).unwrap();
    s.sync(0);
    // The follower loses its log and needs the snapshot; the leader's snapshot file is
    // damaged on disk meanwhile.
    s.crash(1);
    s.delete_wal(1);
    s.truncate_snapshot(0);
    s.restart(1);
    s.run_ticks(3);
    // design: the leader sends the snapshot it holds in memory, and keeps its log.
    s.expect(1, "snap=4 commit=4 applied=4 kv=abc");
    s.expect(0, "leader snap=4 last=4");
    s.propose(0, "d");
    s.settle();
    s.run_ticks(3);
    for n in 0..3 {
        s.expect(n, "commit=5 applied=5 kv=abcd");
    }
}
