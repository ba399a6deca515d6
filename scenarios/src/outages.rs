//! Real outages and bug reports, replayed as scripts.

use crate::{Script, Sel, Setup};

crate::scenarios!(
    "outages",
    "outage_",
    [
        (cloudflare_2020_partial_partition_live_with_prevote_checkquorum, "Cloudflare 2020: one link cut between the leader and a follower; with PreVote and CheckQuorum the leader stays and commits"),
        (cloudflare_2020_partial_partition_fails_without, "Cloudflare 2020: the same cut without PreVote and CheckQuorum: the cut-off follower keeps raising the term and deposes working leaders"),
        (openraft_2080_bridge_topology, "openraft #2080: two sides that see only a bridge node; the leader keeps a quorum through the bridge and stays live"),
        (etcd_raft_397_duplicated_read_index_context, "etcd-io/raft#397: two reads with the same context and delayed heartbeat acknowledgements; the late acknowledgements confirm only the read of their round"),
        (etcd_11038_removed_leader_stops_heartbeating, "etcd-io/etcd#11038: a leader that removed itself steps down once the removal commits and sends nothing more"),
        (follower_behind_fully_compacted_log, "A new follower joins after the leader compacted its whole log: it is brought up by snapshot"),
        (follower_crashes_mid_snapshot, "A follower crashes after the first chunk of a snapshot: after restart it receives the snapshot from the start"),
        (etcd_13527_leader_disk_stall, "etcd-io/etcd#13527: the leader's disk stalls; the followers' acknowledgements still commit, and the leader counts itself only once its disk catches up"),
        (rescue_past_a_term_the_lost_majority_led, "A disaster leaves a survivor that never heard the term the lost majority last led: rescued past the highest term a running server heard, it wins the next term, and the survivor holding the lost leader's entry of that term takes the rescued history instead of keeping it under the rescued leader's entries"),
        (crash_between_term_and_vote, "A crash after the WAL got entries of a new term but before the term/vote file was replaced: recovery adopts the term with no vote"),
    ]
);

fn cloudflare_2020_partial_partition_live_with_prevote_checkquorum(s: &mut Script) {
    s.setup(Setup::new(3));
    s.elect(0);
    s.run_ticks(3);
    s.cut(0, 2);
    s.run_ticks(40);
    s.expect(0, "leader t1");
    s.expect(2, "follower t1");
    s.propose(0, "a");
    s.settle();
    s.run_ticks(3);
    s.expect(1, "kv=a");
}

fn cloudflare_2020_partial_partition_fails_without(s: &mut Script) {
    s.cluster_with_leader(3, 0);
    s.cut(0, 2);
    s.run_ticks(80);
    // Leadership keeps moving: the term went from 1 to 4 in 80 ticks, against 1 with
    // PreVote and CheckQuorum on.
    s.expect_events(1, "role", 5);
    s.expect(1, "t4");
}

fn openraft_2080_bridge_topology(s: &mut Script) {
    s.setup(Setup::new(5));
    s.elect(0);
    s.run_ticks(3);
    // n0, n1 on one side, n3, n4 on the other; n2 sees both.
    s.partition(&[&[0, 1], &[3, 4]]);
    s.run_ticks(40);
    s.expect(0, "leader t1");
    s.propose(0, "a");
    s.settle();
    s.expect(0, "commit=2");
    s.expect(3, "follower t1");
}

fn etcd_raft_397_duplicated_read_index_context(s: &mut Script) {
    s.setup(Setup::new(3));
    s.elect(0);
    s.read_index(0, 1).unwrap();
    s.deliver(Sel::from(0));
    let mut late = s.hold(Sel::kind("RA"));
    let late_from_n2 = late.split_off(1);
    s.read_index(0, 1).unwrap();
    s.deliver(Sel::from(0));
    let second = s.hold(Sel::kind("RA"));
    s.drop(Sel::kind("HB"));
    s.expect_events(0, "read-ready", 0);
    s.release(late);
    s.expect_events(0, "read-ready", 1);
    s.release(second);
    s.expect_events(0, "read-ready", 2);
    // The first round's other acknowledgement, last: it confirms nothing more.
    s.release(late_from_n2);
    s.expect_events(0, "read-ready", 2);
    s.settle();
}

fn etcd_11038_removed_leader_stops_heartbeating(s: &mut Script) {
    s.setup(Setup::new(3));
    s.elect(0);
    s.remove_peer(0, 0);
    s.settle();
    s.expect(0, "follower voters=1,2");
    s.tick(0, 30);
    s.expect(0, "follower inflight=0");
    s.run_ticks(30);
    s.expect(0, "notleader");
}

fn follower_behind_fully_compacted_log(s: &mut Script) {
    s.setup(Setup::new(4).voters(&[0, 1, 2]).started(&[0, 1, 2]));
    s.elect(0);
    s.propose(0, "a");
    s.propose(0, "b");
    s.settle();
    s.snapshot(0).unwrap();
    s.expect(0, "snap=3 log=");
    s.start(3);
    s.add_voter(0, 3);
    s.settle();
    s.run_ticks(3);
    s.expect(3, "snap=3 kv=ab voters=0,1,2,3 commit=4");
}

fn follower_crashes_mid_snapshot(s: &mut Script) {
    s.setup(Setup::new(3).max_bytes_per_message(16));
    s.elect(0);
    s.crash(2);
    s.propose(0, "a");
    s.propose(0, "b");
    s.settle();
    s.snapshot(0).unwrap();
    s.restart(2);
    s.tick(0, 3);
    for _ in 0..10 {
        if !s.in_flight(Sel::link(0, 2).and_kind("IS")).is_empty() {
            break;
        }
        s.deliver(Sel::any());
        s.sync(2);
    }
    s.expect_in_flight(Sel::link(0, 2).and_kind("IS"), 1);
    s.deliver(Sel::link(0, 2));
    s.crash(2);
    s.settle();
    s.restart(2);
    s.run_ticks(6);
    s.expect(2, "snap=3 kv=ab");
}

fn etcd_13527_leader_disk_stall(s: &mut Script) {
    s.setup(Setup::new(3));
    s.elect(0);
    s.stall_disk(0);
    s.propose(0, "a");
    s.settle();
    s.expect(0, "leader commit=2 pending=1");
    s.run_ticks(25);
    s.expect(0, "leader t1");
    s.unstall_disk(0);
    s.settle();
    s.expect(0, "pending=0 kv=a");
}

fn crash_between_term_and_vote(s: &mut Script) {
    s.cluster_with_leader(3, 0);
    // n1 takes over by transfer; n2 never sees its vote request.
    s.transfer(0, Some(1)).unwrap();
    for _ in 0..10 {
        if s.node(1).role() == raft_core::Role::Leader {
            break;
        }
        s.drop(Sel::to(2));
        s.deliver(Sel::any());
        s.sync(0);
        s.sync(1);
    }
    s.expect(1, "leader t2");
    s.expect(2, "follower t1");
    // The new leader's first append brings n2 term 2 and an entry of term 2 in one persist.
    // The process dies after the WAL write, before the term/vote file is replaced.
    s.sync(1);
    s.deliver(Sel::link(1, 2).and_kind("AE"));
    s.expect(2, "t2 pending=1 log=1,2");
    s.kill(2);
    s.restart(2);
    s.expect(2, "follower t2 vote=- log=1,2");
    s.settle();
    s.run_ticks(3);
    s.expect(2, "commit=2");
}

/// Seven voters; n1 wins term 2 with n0..n4 while n5 and n6 are cut off, and its no-op
/// reaches n4 but not the commit of it. Then n0..n3 are lost for good: n4 holds the lost
/// leader's entry 3 of term 2, which n5 and n6 never heard of.
fn seven_voters_lose_four_after_a_term_two_survivors_missed(s: &mut Script) {
    s.setup(Setup::new(7).classic());
    s.elect(0);
    s.propose(0, "a");
    s.settle();
    s.run_ticks(3);
    s.partition(&[&[0, 1, 2, 3, 4], &[5, 6]]);
    s.campaign(1);
    s.sync(1);
    s.deliver(Sel::kind("VQ"));
    for voter in [0, 2, 3, 4] {
        s.sync(voter);
    }
    s.deliver(Sel::kind("VR"));
    s.expect(1, "leader t2 last=3");
    s.deliver(Sel::link(1, 4).and_kind("AE"));
    s.sync(4);
    s.cut(1, 4);
    s.settle();
    s.expect(4, "follower t2 log=1,1,2 commit=2");
    for lost in 0..4 {
        s.lose(lost);
    }
}

fn rescue_past_a_term_the_lost_majority_led(s: &mut Script) {
    seven_voters_lose_four_after_a_term_two_survivors_missed(s);
    // n5 stops waiting for n0 and campaigns for term 2, which n6 would grant.
    s.campaign(5);
    s.sync(5);
    s.expect(5, "candidate t2 log=1,1");
    // The operator read term 2 (n4's and n5's): n5 gives up its candidacy of term 2, which
    // lost n1 led, and campaigns for term 3; n6's grant is then a rescued quorum of the
    // survivors {n4,n5,n6}.
    s.rescue_quorum_past(5, 2, 10_000, 2).unwrap();
    s.expect(5, "follower t2 vote=n5 rescue=2");
    s.campaign(5);
    s.settle();
    s.expect(5, "leader t3 ready log=1,1,3 commit=3");
    s.propose(5, "b");
    s.settle();
    s.run_ticks(3);
    s.expect(5, "commit=4 kv=ab");
    // Healed, n4's entry 3 of term 2 conflicts with the leader's entry 3 of term 3 and is
    // replaced: one history, the rescued one.
    s.heal();
    s.run_ticks(5);
    s.settle();
    s.run_ticks(3);
    s.expect(4, "follower t3 leader=n5 log=1,1,3,3 commit=4 kv=ab");
}
