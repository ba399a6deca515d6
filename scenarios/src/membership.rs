//! Membership and leadership rules the random simulator's membership nemesis exercises, each
//! pinned by one scripted scenario. (Those NRG ports already cover are not repeated: one change
//! at a time is `nrg_propose_remove_peer_concurrent`, a removed peer's vote is
//! `nrg_removed_peer_vote_does_not_elect_leader`, a replayed add-peer is
//! `nrg_replay_add_peer_keeps_cluster_size`.)

use crate::{Script, Sel, Setup};
use raft_core::{MembershipChange, NodeId};

crate::scenarios!(
    "membership",
    "member_",
    [
        (change_waits_for_own_term_commit, "A new leader refuses a membership change until its no-op commits, then accepts it"),
        (promoted_observer_counts_in_quorum, "An observer's acknowledgement commits nothing; once promoted to voter it is one of the quorum, and the quorum grows"),
        (removed_leader_leads_until_removal_commits, "A leader removing itself keeps leading and replicating until the removal commits by a majority of the new voters, then steps down"),
        (self_removal_cut_off_is_finished_by_the_removed_node, "A leader that appended its own removal and crashed before replicating it campaigns again, without its own vote, and finishes the removal (found by the simulator: otherwise no one could ever win)"),
    ]
);

// Ongaro's single-server change bug (raft-dev, 2015): the rule that prevents it, step by step.
fn change_waits_for_own_term_commit(s: &mut Script) {
    s.setup(Setup::new(4).voters(&[0, 1, 2]).classic());
    s.elect(0);
    s.propose(0, "a");
    s.settle();
    s.run_ticks(3);
    // n1 wins term 2; its no-op is on the wire, not acknowledged.
    s.campaign(1);
    s.sync(1);
    s.deliver(Sel::kind("VQ"));
    s.sync(0);
    s.sync(2);
    s.deliver(Sel::kind("VR"));
    s.expect(1, "leader t2 unready commit=2");
    let r = s.try_change(1, MembershipChange::AddVoter(NodeId(3)));
    s.expect_refused(&r, "no entry of this leader's term is committed yet");
    s.settle();
    s.expect(1, "leader ready commit=3");
    s.add_voter(1, 3);
    s.settle();
    s.run_ticks(3);
    for n in 0..4 {
        s.expect(n, "voters=0,1,2,3 commit=4 kv=a");
    }
}

// With n1 down: before promotion n0 commits with n2 and not with the observer n3; after it,
// n2 alone is two of four, and n3's acknowledgement makes the third.
fn promoted_observer_counts_in_quorum(s: &mut Script) {
    s.setup(Setup::new(4).voters(&[0, 1, 2]).classic());
    s.elect(0);
    s.add_observer(0, 3);
    s.settle();
    s.run_ticks(3);
    s.expect(3, "voters=0,1,2 observers=3 commit=2");
    s.crash(1);
    let a = s.propose(0, "a");
    s.sync(0);
    s.deliver(Sel::link(0, 3));
    s.sync(3);
    s.deliver(Sel::link(3, 0));
    s.expect(0, &format!("leader commit=2 match=n3:{a}"));
    s.deliver(Sel::link(0, 2));
    s.sync(2);
    s.deliver(Sel::link(2, 0));
    s.expect(0, &format!("commit={a}"));
    s.settle();
    let promote = s.add_voter(0, 3);
    s.settle();
    s.expect(0, &format!("voters=0,1,2,3 observers=- commit={promote}"));
    let b = s.propose(0, "b");
    s.sync(0);
    s.deliver(Sel::link(0, 2));
    s.sync(2);
    s.deliver(Sel::link(2, 0));
    s.expect(0, &format!("commit={promote} match=n2:{b}"));
    s.deliver(Sel::link(0, 3));
    s.sync(3);
    s.deliver(Sel::link(3, 0));
    s.expect(0, &format!("commit={b} kv=ab"));
}

// The leader's own log no longer counts once its removal is appended: the removal commits only
// when both remaining voters have it, and the leader steps down at that step (the proposal it
// appended after the removal is on both voters and commits under the next leader).
fn removed_leader_leads_until_removal_commits(s: &mut Script) {
    s.cluster_with_leader(3, 0);
    s.remove_peer(0, 0);
    s.expect(0, "leader voters=1,2");
    s.propose(0, "a");
    s.sync(0);
    s.deliver(Sel::link(0, 1));
    s.sync(1);
    s.deliver(Sel::link(1, 0));
    s.expect(0, "leader commit=1 match=n1:3");
    s.deliver(Sel::link(0, 2));
    s.sync(2);
    s.deliver(Sel::link(2, 0));
    s.expect(0, "follower commit=2 voters=1,2");
    s.settle();
    s.elect(1);
    s.expect(1, "voters=1,2 commit=4 kv=a");
}

/// Four voters, n3 down for good. Leader n0 appends its own removal ({n1, n2, n3}) and loses
/// it to the network before anyone has it. n1 cannot win under {n0..n3}: n3 is down and n0's
/// longer log refuses it. n0, removed only by an uncommitted entry, campaigns among the new
/// voters without counting itself, wins n1 and n2, commits its removal and steps down; n1
/// then leads. (Seed 2034 of the simulator's membership nemesis left the cluster leaderless
/// for good before the core did this.)
fn self_removal_cut_off_is_finished_by_the_removed_node(s: &mut Script) {
    s.setup(Setup::new(4).classic());
    s.elect(0);
    s.crash(3);
    s.remove_peer(0, 0);
    s.sync(0);
    s.drop(Sel::any());
    s.campaign(1);
    s.settle();
    s.expect(1, "candidate t2");
    s.expect(0, "follower t2 voters=1,2,3");
    s.campaign(0);
    s.settle();
    s.expect(0, "follower voters=1,2,3");
    s.expect(1, "voters=1,2,3");
    s.expect(2, "voters=1,2,3");
    s.elect(1);
}
