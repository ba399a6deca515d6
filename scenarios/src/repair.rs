//! Protocol-aware recovery: the cases of the PAR paper (Alagappan et al., FAST 2018) — damage
//! on a follower, on the leader, on a majority at different entries, damage that looks like a
//! torn tail — and the NATS #7549 schedule, where truncating a damaged log would lose an
//! acknowledged write and repair does not; and damage to the term/vote record, kept in two
//! copies.

use crate::{vq, Script};

crate::scenarios!(
    "repair",
    "repair_",
    [
        (nats_7549_damaged_follower_keeps_an_acknowledged_write, "NATS #7549: a follower that acknowledged a write loses it to a bit flip and restarts; truncating would let the one node that never had it win; answering for the log it held refuses it, and the leader repairs the follower"),
        (damaged_leader_rejoins_and_is_repaired, "The leader's WAL is damaged and it restarts: it does not campaign, a follower with the whole log leads and repairs it"),
        (majority_damaged_at_different_entries, "Two of three nodes lose different entries: the one intact node wins both their votes and repairs them"),
        (damage_that_looks_like_a_torn_tail, "Synced zeros after a follower's WAL: damage, not a torn tail; the end it held is unknown, so it moves to the next term and is repaired by the next leader's log"),
        (damaged_vote_record_copy_is_read_from_the_other, "A follower's tav.idx takes a bit flip: it restarts with the term and vote of the copy, refuses a second candidate of that term, and rewrote the damaged copy, so damage to the other later is survived too"),
    ]
);

fn nats_7549_damaged_follower_keeps_an_acknowledged_write(s: &mut Script) {
    s.cluster_with_leader(3, 0);
    // n2 misses the write: committed by n0 and n1.
    s.cut(0, 2);
    s.propose(0, "a");
    s.propose(0, "b");
    s.settle();
    s.expect(0, "commit=3");
    s.expect(1, "last=3");
    s.expect(2, "last=1");
    // n1's record of "a" takes a bit flip; n1 restarts, and the leader loses power.
    s.crash(1);
    s.corrupt_wal(1, 1);
    s.restart(1);
    s.expect(1, "last=1 repairing");
    s.crash(0);
    s.heal();
    // n2 campaigns with a log that lacks the committed writes: n1 refuses (it answers for
    // index 3), so nobody loses them.
    s.campaign(2);
    s.settle();
    s.expect(2, "notleader");
    s.expect(1, "repairing");
    // The old leader comes back and wins with n1's vote; n1 is repaired from it.
    s.restart(0);
    s.elect(0);
    s.run_ticks(3);
    s.expect(1, "repaired kv=ab");
    s.expect(2, "kv=ab");
}

fn damaged_leader_rejoins_and_is_repaired(s: &mut Script) {
    s.cluster_with_leader(3, 0);
    s.propose(0, "a");
    s.settle();
    s.crash(0);
    s.corrupt_wal(0, 1);
    s.restart(0);
    s.expect(0, "follower repairing");
    s.campaign(0);
    s.settle();
    s.expect(0, "follower");
    s.elect(1);
    s.run_ticks(3);
    s.expect(0, "repaired kv=a");
}

fn majority_damaged_at_different_entries(s: &mut Script) {
    s.cluster_with_leader(3, 0);
    s.propose(0, "a");
    s.settle();
    s.propose(0, "b");
    s.settle();
    s.crash(1);
    s.crash(2);
    s.corrupt_wal(1, 0);
    s.corrupt_wal(2, 1);
    s.restart(1);
    s.restart(2);
    s.expect(1, "repairing");
    s.expect(2, "repairing");
    s.crash(0);
    s.restart(0);
    s.elect(0);
    s.run_ticks(3);
    s.expect(1, "repaired kv=ab");
    s.expect(2, "repaired kv=ab");
}

fn damage_that_looks_like_a_torn_tail(s: &mut Script) {
    s.cluster_with_leader(3, 0);
    s.propose(0, "a");
    s.settle();
    s.crash(1);
    s.zero_wal_tail(1, 64);
    s.restart(1);
    // The end is unknown: n1 answers for any index of term 1 and moves to term 2.
    s.expect(1, "t2 repairing");
    s.run_ticks(3);
    // Its term ends n0's: the next leader's no-op is of a later term than anything n1 held.
    s.elect(0);
    s.run_ticks(3);
    s.expect(1, "repaired kv=a");
}

fn damaged_vote_record_copy_is_read_from_the_other(s: &mut Script) {
    s.cluster_with_leader(3, 0);
    s.expect(1, "t1 vote=n0");
    s.crash(1);
    s.damage_term_vote_copy(1, 0);
    s.restart(1);
    s.expect(1, "follower t1 vote=n0");
    // NATS #7038's danger: a node that forgot its vote would grant this one.
    s.inject(2, 1, vq(2, 1, 1, 9));
    s.expect(1, "t1 vote=n0");
    // The boot rewrote tav.idx from the copy: now the copy may take damage.
    s.crash(1);
    s.damage_term_vote_copy(1, 1);
    s.restart(1);
    s.expect(1, "follower t1 vote=n0");
}
