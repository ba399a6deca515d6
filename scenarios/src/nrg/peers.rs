//! Peer tracking (NRG `Peers()` and `Quorum()`): a leader hears every member through its
//! answers, a follower only its leader; lag is what a follower has not acknowledged of the
//! leader's commits; a former leader keeps its timestamps until it learns a new leader.
//! `heard` counts ticks since the last message (heartbeats every 3 ticks).

use crate::{Script, Sel};

pub(super) fn track_peer_active(s: &mut Script) {
    s.cluster_with_leader(3, 0);
    s.run_ticks(10);
    // The leader heard everyone within a heartbeat; a follower tracks only the leader.
    s.expect(
        0,
        "peer=n1:current,lag=0,heard=1 peer=n2:current,lag=0,heard=1",
    );
    s.expect(
        1,
        "peer=n0:current,lag=0,heard=1 peer=n2:stale,lag=0,heard=-",
    );
    s.transfer(0, Some(2)).unwrap();
    s.settle();
    s.run_ticks(10);
    // After the hand-off the followers, the former leader too, track only the new leader.
    s.expect(
        2,
        "leader peer=n0:current,lag=0,heard=1 peer=n1:current,lag=0,heard=1",
    );
    for n in [0, 1] {
        s.expect(n, "follower peer=n2:current,lag=0,heard=1");
    }
    s.expect(0, "peer=n1:stale,lag=0,heard=-");
    s.expect(1, "peer=n0:stale,lag=0,heard=-");
}

pub(super) fn quorum_after_leader_stepdown(s: &mut Script) {
    s.setup(crate::Setup::new(3).classic());
    s.campaign(0);
    s.sync(0);
    s.deliver(Sel::kind("VQ"));
    s.sync(1);
    s.sync(2);
    s.deliver(Sel::kind("VR"));
    // A new leader that has heard no follower yet does not claim a quorum.
    s.expect(0, "leader no-heard-quorum");
    s.sync(1);
    s.sync(2);
    s.deliver(Sel::kind("AE"));
    s.sync(1);
    s.deliver(Sel::link(1, 0));
    s.expect(0, "leader heard-quorum peer=n1:current,lag=0,heard=0");
    s.settle();
    s.run_ticks(3);
    // It hands leadership to n1: stepped down, it keeps every timestamp and its quorum.
    s.transfer(0, Some(1)).unwrap();
    s.deliver(Sel::kind("TN"));
    s.sync(1);
    s.deliver(Sel::kind("TVQ").and_to(0));
    s.expect(
        0,
        "follower heard-quorum peer=n1:stale,lag=0,heard=0 peer=n2:stale,lag=0,heard=0",
    );
    // Once the new leader's AppendEntries arrives, only its timestamp is kept.
    s.settle();
    s.expect(1, "leader ready");
    s.expect(
        0,
        "follower heard-quorum peer=n1:current,lag=0,heard=0 peer=n2:stale,lag=0,heard=-",
    );
}

pub(super) fn track_peer_lag(s: &mut Script) {
    s.cluster_with_leader(3, 0);
    for value in ["a", "b", "c", "d", "e"] {
        s.propose(0, value);
        s.settle();
    }
    s.run_ticks(1);
    s.expect(
        0,
        "commit=6 peer=n1:current,lag=0,heard=1 peer=n2:current,lag=0,heard=1",
    );
    s.expect(
        1,
        "peer=n0:current,lag=0,heard=1 peer=n2:stale,lag=0,heard=-",
    );
    s.expect(
        2,
        "peer=n0:current,lag=0,heard=1 peer=n1:stale,lag=0,heard=-",
    );
    s.transfer(0, Some(1)).unwrap();
    s.settle();
    for value in ["f", "g", "h", "i", "j"] {
        s.propose(1, value);
        s.settle();
    }
    s.run_ticks(1);
    s.expect(
        1,
        "leader commit=12 peer=n0:current,lag=0,heard=1 peer=n2:current,lag=0,heard=1",
    );
    s.expect(
        0,
        "peer=n1:current,lag=0,heard=1 peer=n2:stale,lag=0,heard=-",
    );
    s.expect(
        2,
        "peer=n1:current,lag=0,heard=1 peer=n0:stale,lag=0,heard=-",
    );
}

pub(super) fn peers_response(s: &mut Script) {
    s.cluster_with_leader(3, 0);
    // n2 is cut off: the leader commits three entries with n1, and n2 lags by three.
    s.isolate(2);
    for value in ["a", "b", "c"] {
        s.propose(0, value);
    }
    s.settle();
    s.run_ticks(3);
    s.expect(
        0,
        "commit=4 peer=n0:current,lag=0,heard=0 peer=n1:current,lag=0,heard=0",
    );
    s.expect(0, "peer=n2:stale,lag=3,heard=3");
    // A follower knows nothing of the other follower, and its leader is current...
    s.expect(
        1,
        "peer=n1:current,lag=0,heard=0 peer=n0:current,lag=0,heard=0",
    );
    s.expect(1, "peer=n2:stale,lag=0,heard=-");
    // ...until it has not heard from it for two heartbeat intervals.
    s.isolate(1);
    s.run_ticks(6);
    s.expect(1, "peer=n0:current,lag=0,heard=6");
    s.run_ticks(1);
    s.expect(1, "peer=n0:stale,lag=0,heard=7");
}
