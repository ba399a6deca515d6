//! Managed and unmanaged groups (NRG `managed`, nats-server #8460, #8489): an unmanaged
//! group's leader proposes adding an unknown peer that answers it, a managed group's node
//! only observes it; an operator evicts peers lost for good from a leaderless managed group
//! (NRG `EvictPeers`). And a new node's first votes (NRG's initializing / scale-up flags,
//! nats-server #7038).

use crate::{ar, Script, Setup};

pub(super) fn track_peer_observed(s: &mut Script) {
    s.setup(Setup::new(4).classic().voters(&[0, 1, 2]).managed());
    s.elect(0);
    s.run_ticks(3);
    // n3 is no member: the leader records when it heard from it, and proposes nothing.
    s.inject(3, 0, ar(3, 1, 0, false));
    s.expect(0, "leader observed=3 voters=0,1,2 last=1");
    // The layer above adds it: heard as a member, it is no longer observed.
    s.add_voter(0, 3);
    s.settle();
    s.run_ticks(3);
    s.expect(0, "observed=- voters=0,1,2,3 peer=n3:current,lag=0,heard=0");
    // Removed, it is not observed again.
    s.remove_peer(0, 3);
    s.settle();
    s.run_ticks(3);
    s.expect(0, "voters=0,1,2 changing=-");
    s.inject(3, 0, ar(3, 1, 3, true));
    s.expect(0, "observed=- voters=0,1,2");
}

pub(super) fn track_peer_auto_add_only_unmanaged(s: &mut Script) {
    s.setup(Setup::new(4).classic().voters(&[0, 1, 2]));
    s.elect(0);
    s.run_ticks(3);
    // n3 is no member of this unmanaged group: hearing it, the leader proposes adding it,
    // through the log, and observes nothing.
    s.inject(3, 0, ar(3, 1, 0, false));
    s.expect(0, "leader voters=0,1,2,3 changing=2 observed=-");
    s.settle();
    s.run_ticks(3);
    for n in 0..4 {
        s.expect(n, "voters=0,1,2,3 commit=2 changing=-");
    }
    s.propose(0, "a");
    s.settle();
    s.run_ticks(3);
    s.expect(3, "commit=3 kv=a");
}

/// Five voters of a managed group commit `a` under n0; then n0, n1 and n2 are lost for good
/// (the layer above removed them), and n3 campaigns: the group is leaderless.
fn managed_group_loses_three(s: &mut Script) {
    s.setup(Setup::new(5).classic().managed());
    s.elect(0);
    s.propose(0, "a");
    s.settle();
    s.run_ticks(3);
    for lost in 0..3 {
        s.lose(lost);
    }
}

pub(super) fn evict_peers(s: &mut Script) {
    managed_group_loses_three(s);
    // n3 still follows n0: it must remove peers through the log.
    let r = s.evict_peers(3, &[0, 1, 2]);
    s.expect_refused(&r, "n0 leads; it removes peers through the log");
    s.campaign(3);
    s.sync(3);
    s.expect(3, "candidate t2 leader=-");
    // n3 and two of the lost would still make a quorum of five without n4: refused.
    let r = s.evict_peers(3, &[0]);
    s.expect_refused(
        &r,
        "the 3 voters left besides this node still make a quorum of 5",
    );
    s.expect(3, "evicted=- voters=0,1,2,3,4 quorum=3");
    assert_eq!(s.evict_peers(3, &[0, 1, 2]), Ok(vec![0, 1, 2]));
    s.expect(3, "candidate evicted=0,1,2 voters=3,4 quorum=2");
    // Itself and peers that are not members are never evicted.
    assert_eq!(s.evict_peers(3, &[3, 7]), Ok(vec![]));
    s.expect(3, "evicted=0,1,2 voters=3,4");
    // n4's vote elects n3; once its no-op commits it records the eviction in the log, and
    // n4 takes it from there.
    s.settle();
    s.expect(3, "leader t2 ready commit=3");
    s.run_ticks(3);
    s.settle();
    s.run_ticks(3);
    s.expect(3, "leader evicted=- voters=3,4 commit=4 changing=-");
    s.expect(4, "follower voters=3,4 commit=4");
    s.propose(3, "b");
    s.settle();
    s.run_ticks(3);
    s.expect(3, "commit=5 kv=ab");
    s.expect(4, "commit=5 kv=ab");
}

pub(super) fn initialize_and_scale_up(s: &mut Script) {
    s.setup(Setup::new(4).classic().voters(&[0, 1, 2]));
    s.isolate(2);
    // n3 is scaling up: no voter in the membership it knows, it never campaigns (NRG puts it
    // in observer mode until data arrives).
    s.campaign(3);
    s.expect(3, "follower t0 inflight=0");
    // n1's log is empty, and its vote counts like any other: with n0's own, a quorum of
    // three, without waiting to hear from every server.
    s.elect(0);
    s.expect(0, "leader t1");
    s.propose(0, "a");
    s.settle();
    s.run_ticks(3);
    s.expect(1, "follower last=2 commit=2");
    // n3's first entries make it a voter (the membership entry among them).
    s.add_voter(0, 3);
    s.settle();
    s.run_ticks(3);
    s.expect(3, "follower voters=0,1,2,3 last=3 commit=3 kv=a");
    // After a reset n1's log is empty again; its vote still counts (it answers for the log
    // it held) and, with n3's, elects n0 once more when n0's term is over.
    s.reset(1).unwrap();
    s.expect(1, "last=0");
    s.crash(0);
    s.restart(0);
    s.elect(0);
    s.expect(0, "leader t2 voters=0,1,2,3");
    s.settle();
    s.run_ticks(3);
    s.expect(1, "commit=4 kv=a");
}
