//! Rescue quorum (NRG `RescueQuorum`, nats-server #8408): a five-voter group loses three
//! machines for good; the operator lowers the quorum of the two survivors so one of them can
//! lead, commit and remove the lost peers. The checkers judge the rescued node's decisions by
//! the rescued quorum while the rescue lasts (`sim/src/checkers/rescue.rs`).

use crate::{Script, Sel, Setup};

/// Rescue long enough to outlast every scenario.
const LONG: u32 = 10_000;

/// Five voters commit `a` under n0; then n0, n1 and n2 are lost for good.
fn five_voters_lose_three(s: &mut Script) {
    s.setup(Setup::new(5).classic());
    s.elect(0);
    s.propose(0, "a");
    s.settle();
    s.run_ticks(3);
    for lost in 0..3 {
        s.lose(lost);
    }
}

/// [`five_voters_lose_three`], then n3 campaigns and is rescued with a quorum of two: with
/// n4's vote it leads and commits its no-op.
fn rescued_leader(s: &mut Script) {
    five_voters_lose_three(s);
    s.campaign(3);
    s.rescue_quorum(3, 2, LONG).unwrap();
    s.settle();
    s.expect(3, "leader t2 ready commit=3 rescue=2 quorum=2");
}

pub(super) fn rescue_quorum(s: &mut Script) {
    five_voters_lose_three(s);
    let r = s.rescue_quorum(3, 2, LONG);
    s.expect_refused(&r, "leads; a rescue is for leaderless groups");
    s.campaign(3);
    s.sync(3);
    s.expect(3, "candidate t2 quorum=3 rescue=-");
    let r = s.rescue_quorum(3, 3, LONG);
    s.expect_refused(&r, "is not between 1 and the natural quorum 3 of 5 voters");
    s.rescue_quorum(3, 2, LONG).unwrap();
    s.expect(3, "candidate quorum=2 rescue=2");
    s.settle();
    s.expect(3, "leader t2 ready commit=3");
    let r = s.rescue_quorum(4, 2, LONG);
    s.expect_refused(&r, "leads; a rescue is for leaderless groups");
    s.propose(3, "b");
    s.settle();
    s.run_ticks(3);
    s.expect(3, "commit=4 kv=ab");
    s.expect(4, "commit=4 kv=ab");
}

pub(super) fn rescue_quorum_recalc(s: &mut Script) {
    rescued_leader(s);
    s.remove_peer(3, 0);
    s.expect(3, "voters=1,2,3,4 rescue=2 quorum=2");
    s.settle();
    s.run_ticks(3);
    s.expect(3, "commit=4");
    s.remove_peer(3, 1);
    s.expect(3, "voters=2,3,4 rescue=- quorum=2");
    s.settle();
    s.run_ticks(3);
    s.propose(3, "c");
    s.settle();
    s.run_ticks(3);
    s.expect(3, "commit=6 kv=ac");
    s.expect(4, "commit=6 kv=ac voters=2,3,4");
}

pub(super) fn rescue_quorum_kept_on_peer_state(s: &mut Script) {
    five_voters_lose_three(s);
    s.campaign(3);
    s.sync(3);
    s.deliver(Sel::link(3, 4).and_kind("VQ"));
    s.expect(4, "follower t2 leader=-");
    s.rescue_quorum(4, 2, LONG).unwrap();
    s.rescue_quorum(3, 2, LONG).unwrap();
    s.settle();
    s.expect(3, "leader t2 ready");
    s.expect(
        4,
        "follower t2 leader=n3 voters=0,1,2,3,4 rescue=2 quorum=2",
    );
}

pub(super) fn rescue_quorum_expires(s: &mut Script) {
    five_voters_lose_three(s);
    s.campaign(3);
    s.rescue_quorum(3, 2, 6).unwrap();
    s.settle();
    s.expect(3, "leader t2 ready commit=3 rescue=2");
    s.tick(3, 6);
    s.expect(3, "leader rescue=- quorum=3");
    s.propose(3, "b");
    s.settle();
    s.run_ticks(3);
    s.expect(3, "leader last=4 commit=3");
}

pub(super) fn rescue_quorum_counts_empty_votes(s: &mut Script) {
    s.setup(Setup::new(5).classic().started(&[0, 1, 2, 3]));
    s.elect(0);
    s.propose(0, "a");
    s.settle();
    s.run_ticks(3);
    for lost in 0..3 {
        s.lose(lost);
    }
    s.start(4);
    s.expect(4, "last=0");
    s.campaign(3);
    s.rescue_quorum(3, 2, LONG).unwrap();
    s.settle();
    s.expect(3, "leader t2 ready");
    s.run_ticks(3);
    s.expect(4, "kv=a");
}

pub(super) fn rescue_quorum_empty_votes_require_rescue(s: &mut Script) {
    s.setup(Setup::new(5).classic().started(&[0, 1, 2, 3]));
    s.elect(0);
    s.propose(0, "a");
    s.settle();
    s.run_ticks(3);
    for lost in 0..3 {
        s.lose(lost);
    }
    s.start(4);
    s.campaign(3);
    s.settle();
    s.expect(3, "candidate t2 quorum=3");
    s.expect(4, "follower t2 vote=n3 last=0");
}
