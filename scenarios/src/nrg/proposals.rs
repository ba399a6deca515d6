//! Proposals and what the application sees: proposing at the leader and forwarding from
//! followers, term-fenced proposals, refusals (not the leader, overrun), forwarded proposals
//! that race a leadership change, and health while catching up or with apply paused.

use crate::{Script, Sel, Setup};

pub(super) fn simple(s: &mut Script) {
    s.cluster_with_leader(3, 0);
    s.propose(0, "a");
    s.forward(1, "b").unwrap();
    s.forward(2, "c").unwrap();
    s.settle();
    s.run_ticks(3);
    for n in 0..3 {
        s.expect(n, "commit=4 applied=4 kv=abc");
    }
}

pub(super) fn switch_state_clears_queues(s: &mut Script) {
    s.cluster_with_leader(3, 0);
    s.forward(1, "late").unwrap();
    let fp = s.hold(Sel::kind("FP"));
    s.transfer(0, Some(2)).unwrap();
    s.settle();
    s.expect(0, "follower t2");
    s.release(fp);
    s.expect(0, "follower last=2");
    s.settle();
    s.expect(2, "leader last=2");
    s.expect(0, "last=2");
}

pub(super) fn proposal_fast_path(s: &mut Script) {
    s.cluster_with_leader(3, 0);
    let r = s.try_propose(0, Some(5), "x");
    s.expect_refused(&r, "proposal made for term 5");
    s.try_propose(0, Some(1), "a").unwrap();
    s.try_propose(0, Some(1), "b").unwrap();
    s.settle();
    s.run_ticks(3);
    s.expect(2, "kv=ab log=1,1,1");
}

pub(super) fn health_check_wait_for_catchup(s: &mut Script) {
    s.cluster_with_leader(3, 0);
    s.crash(2);
    s.propose(0, "a");
    s.settle();
    s.restart(2);
    s.expect(2, "unhealthy");
    s.run_ticks(3);
    s.expect(2, "healthy current applied=2");
}

pub(super) fn health_check_wait_for_pending_commits_when_paused(s: &mut Script) {
    s.cluster_with_leader(3, 0);
    s.pause_apply(1);
    s.propose(0, "a");
    s.settle();
    s.run_ticks(3);
    s.expect(1, "paused commit=2 applied=1 unhealthy");
    s.resume_apply(1);
    s.expect(1, "unpaused applied=2 healthy");
}

pub(super) fn send_append_entry_not_leader(s: &mut Script) {
    s.cluster_with_leader(3, 0);
    let r = s.try_propose(1, None, "x");
    s.expect_refused(&r, "not the leader");
    s.expect(1, "last=1 inflight=0");
}

pub(super) fn ignore_forwarded_proposal_if_not_caught_up_leader(s: &mut Script) {
    s.cluster_with_leader(3, 0);
    s.crash(0);
    s.campaign(1);
    s.sync(1);
    s.deliver(Sel::kind("VQ"));
    s.sync(2);
    s.deliver(Sel::kind("VR"));
    s.expect(1, "leader t2 unready commit=1");
    s.inject(
        2,
        1,
        raft_core::Message::ForwardProposal(raft_core::ForwardProposal {
            data: bytes::Bytes::from_static(b"1 90 append k f"),
            reply: 0,
        }),
    );
    s.settle();
    s.expect(1, "ready log=1,2,2 kv=f");
}

pub(super) fn term_fenced_proposals(s: &mut Script) {
    s.cluster_with_leader(3, 0);
    let t = s.term_of(0);
    s.transfer(0, Some(1)).unwrap();
    s.settle();
    s.transfer(1, Some(0)).unwrap();
    s.settle();
    s.expect(0, "leader t3");
    let r = s.try_propose(0, Some(t), "stale");
    s.expect_refused(&r, "proposal made for term 1");
    s.try_propose(0, Some(3), "fresh").unwrap();
}

pub(super) fn leader_steps_down_if_overrun(s: &mut Script) {
    s.setup(Setup::new(3).max_uncommitted_entries(2));
    s.elect(0);
    s.isolate(0);
    s.propose(0, "a");
    s.propose(0, "b");
    let r = s.try_propose(0, None, "c");
    s.expect_refused(&r, "limit is 2");
    s.expect(0, "leader last=3");
    s.tick(0, 1);
    s.expect(0, "follower t1 vote=n0 last=3");
}

/// Three voters whose overrun threshold is `threshold`; n0 leads, n1's application pauses.
fn follower_with_paused_apply(s: &mut Script, threshold: u64) {
    s.setup(Setup::new(3).classic().max_uncommitted_entries(threshold));
    s.elect(0);
    s.run_ticks(3);
    s.pause_apply(1);
}

/// Proposes `values` at n0 one at a time, each settled before the next.
fn propose_settled(s: &mut Script, values: &[&str]) {
    for value in values {
        s.propose(0, value);
        s.settle();
    }
}

pub(super) fn follower_pauses_quorum_if_overrun(s: &mut Script) {
    follower_with_paused_apply(s, 10);
    propose_settled(s, &["a", "b", "c", "d", "e", "f", "g", "h", "i", "j", "k"]);
    s.run_ticks(3);
    s.expect(1, "quorum-paused commit=12 applied=1");
    s.expect(0, "leader commit=12 match=n1:12 match=n2:12");
    s.resume_apply(1);
    s.expect(1, "quorum-unpaused applied=12");
    s.run_ticks(3);
    s.expect(0, "match=n1:12");
}

pub(super) fn switch_to_candidate_resets_quorum_paused(s: &mut Script) {
    follower_with_paused_apply(s, 10);
    propose_settled(s, &["a", "b", "c", "d", "e", "f", "g", "h", "i", "j", "k"]);
    s.run_ticks(3);
    s.expect(1, "quorum-paused");
    s.crash(0);
    s.campaign(1);
    s.expect(1, "follower t1 quorum-paused");
    s.resume_apply(1);
    s.campaign(1);
    s.settle();
    s.expect(1, "leader t2 quorum-unpaused");
}

pub(super) fn pausing_quorum_cancels_catchup(s: &mut Script) {
    follower_with_paused_apply(s, 10);
    propose_settled(s, &["a", "b", "c", "d", "e", "f", "g", "h", "i", "j", "k"]);
    s.run_ticks(3);
    s.expect(1, "quorum-paused");
    propose_settled(s, &["l", "m", "n"]);
    s.run_ticks(3);
    s.expect(0, "leader commit=15 match=n1:12");
    s.expect(1, "last=15 quorum-paused");
    s.resume_apply(1);
    s.run_ticks(3);
    s.expect(0, "match=n1:15");
    s.expect(1, "applied=15 quorum-unpaused");
}

pub(super) fn health_check_wait_for_double_catchup(s: &mut Script) {
    s.cluster_with_leader(3, 0);
    s.crash(2);
    s.propose(0, "a");
    s.settle();
    s.restart(2);
    s.expect(2, "unhealthy");
    // A first round of catching up, then new entries overtake it.
    s.run_ticks(1);
    s.isolate(2);
    s.propose(0, "b");
    s.propose(0, "c");
    s.settle();
    s.heal();
    s.expect(2, "unhealthy");
    s.run_ticks(3);
    s.expect(2, "healthy current applied=4 kv=abc");
}
