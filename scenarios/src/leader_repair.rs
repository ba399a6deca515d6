//! Protocol-aware recovery when no intact node can lead: every node damaged, a repairing
//! node campaigns, and before its no-op it takes from its peers what a nack quorum shows it
//! needs (`raft_core` `node/leader_repair.rs`).

use crate::Script;

crate::scenarios!(
    "repair",
    "repair_",
    [
        (every_node_damaged_at_different_entries_recovers_by_leader_repair, "Every node of three loses a different part of its log; none is intact, so none repairs the others by replication. After three election timeouts without a leader one campaigns, asks its peers what they hold, fetches the committed entries it lost from the one whose intact log reaches what the nack quorum answers for, and only then appends its no-op"),
        (uncommitted_entry_without_an_intact_copy_waits_for_a_nack_quorum, "Entries only the leader appended are damaged on it (the first of two; the second shows where its log ended) and every node is damaged: a repairing leader with one answer below them waits; once both other nodes answered (a nack quorum) they are given up and the committed one fetched from the node whose intact log holds it"),
    ]
);

fn every_node_damaged_at_different_entries_recovers_by_leader_repair(s: &mut Script) {
    s.cluster_with_leader(3, 0);
    for value in ["a", "b", "c"] {
        s.propose(0, value);
        s.settle();
    }
    s.expect(2, "last=4");
    // n0 appends "d" alone: it is never committed.
    s.isolate(0);
    s.propose(0, "d");
    s.settle();
    s.expect(0, "last=5");
    for node in 0..3 {
        s.crash(node);
    }
    // n0 keeps a, b, c intact and loses d; n1 loses b (and c after it); n2 loses a.
    s.corrupt_wal(0, 0);
    s.corrupt_wal(1, 1);
    s.corrupt_wal(2, 2);
    s.heal();
    for node in 0..3 {
        s.restart(node);
        s.expect(node, "repairing");
    }
    // Nobody campaigns at once; after three election timeouts without a leader one does.
    s.run_ticks(200);
    for node in 0..3 {
        s.expect(node, "repaired kv=abc");
    }
}

fn uncommitted_entry_without_an_intact_copy_waits_for_a_nack_quorum(s: &mut Script) {
    s.cluster_with_leader(3, 0);
    s.propose(0, "a");
    s.settle();
    // n0 appends "x" and "y" alone, then every node is damaged: n0 loses x (and y after
    // it, whose intact record still shows where its log ended: a node that cannot tell
    // does not campaign), n1 and n2 lose a.
    s.isolate(0);
    s.propose(0, "x");
    s.settle();
    s.propose(0, "y");
    s.settle();
    for node in 0..3 {
        s.crash(node);
    }
    s.corrupt_wal(0, 1);
    s.corrupt_wal(1, 1);
    s.corrupt_wal(2, 1);
    for node in 0..3 {
        s.restart(node);
    }
    // n2 stays cut off: n0 (answering for y) can win with n1, but one answer below x is not
    // a nack quorum.
    s.heal();
    s.partition(&[&[0, 1], &[2]]);
    for _ in 0..200 {
        if s.node(0).is_leader_repairing() {
            break;
        }
        s.run_ticks(1);
    }
    s.expect(0, "leader repairing");
    s.expect(1, "repairing");
    // Still no nack quorum two election timeouts (of 30 ticks) later: it steps down.
    s.run_ticks(60);
    s.expect(0, "follower repairing");
    // Healed, n2's higher term (it campaigned alone) deposes n0, and n2 wins with n1. Now
    // both others answer: the nack quorum's target is index 2, and n0's intact log reaches
    // it, so n2 fetches a from n0 and x and y are given up (its no-op replaces x on n0).
    s.heal();
    s.run_ticks(100);
    s.expect(2, "leader repaired kv=a");
    s.expect(0, "follower repaired kv=a last=3");
    s.expect(1, "repaired kv=a");
}
