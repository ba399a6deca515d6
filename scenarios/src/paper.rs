//! The Raft paper's figures (Ongaro and Ousterhout, "In Search of an Understandable Consensus
//! Algorithm", 2014), nodes S1..S5 as n0..n4.

use crate::{Script, Sel, Setup};

crate::scenarios!(
    "paper",
    "paper_",
    [
        (
            figure7_followers_converge,
            "Figure 7: followers missing entries and holding extra uncommitted entries all converge on the term-8 leader's log"
        ),
        (
            figure8_previous_term_entry_not_committed_by_counting,
            "Figure 8 (c)-(d): an entry of term 2 stored on a majority is not committed by the term-4 leader, and is rightly overwritten by S5"
        ),
        (
            figure8_current_term_entry_commits_previous,
            "Figure 8 (e): once the leader's own term-4 entry is on a majority, it and the term-2 entry before it are committed, and S5 can no longer win"
        ),
        (
            vote_restriction_denies_stale_candidate,
            "Section 5.4.1: voters deny a candidate whose log is less up to date (last term, then length), so it cannot win"
        ),
        (
            vote_restriction_longer_log_same_term,
            "Section 5.4.1: with equal last terms the longer log wins; a shorter log's candidate is denied by the voter holding more"
        ),
    ]
);

/// Figure 7: the leader of term 8 and six followers (a)-(f).
fn figure7_followers_converge(s: &mut Script) {
    let leader = [1, 1, 1, 4, 4, 5, 5, 6, 6, 6];
    s.setup(
        Setup::new(7)
            .state(0, 7, None, &leader)
            .state(1, 7, None, &[1, 1, 1, 4, 4, 5, 5, 6, 6])
            .state(2, 7, None, &[1, 1, 1, 4])
            .state(3, 7, None, &[1, 1, 1, 4, 4, 5, 5, 6, 6, 6, 6])
            .state(4, 7, None, &[1, 1, 1, 4, 4, 5, 5, 6, 6, 6, 7, 7])
            .state(5, 7, None, &[1, 1, 1, 4, 4, 4, 4])
            .state(6, 7, None, &[1, 1, 1, 2, 2, 2, 3, 3, 3, 3, 3]),
    );
    // (c) and (d) have more entries than the leader and deny it; (a), (b), (e), (f) make a
    // majority of seven with it.
    s.elect(0);
    s.expect(0, "leader t8 commit=11 log=1,1,1,4,4,5,5,6,6,6,8");
    for follower in 1..7 {
        s.expect(follower, "follower t8 last=11 log=1,1,1,4,4,5,5,6,6,6,8");
    }
    s.run_ticks(3);
    for follower in 1..7 {
        s.expect(follower, "commit=11 applied=11 leader=n0");
    }
}

/// Figure 8, starting from (a): S1 led term 2 and stored index 2 on S2 only.
fn figure8_setup(s: &mut Script) {
    s.setup(
        Setup::new(5)
            .classic()
            .started(&[1, 2, 3, 4])
            .state(0, 2, Some(0), &[1, 2])
            .state(1, 2, Some(0), &[1, 2])
            .state(2, 2, Some(0), &[1])
            .state(3, 2, Some(0), &[1])
            .state(4, 2, None, &[1]),
    );
    // (b) S1 is down; S5 wins term 3 with S3 and S4 (S2's log is more up to date and denies),
    // and stores its own entry at index 2, but crashes before replicating it.
    s.campaign(4);
    s.sync(4);
    s.deliver(Sel::kind("VQ"));
    s.sync(1);
    s.sync(2);
    s.sync(3);
    s.deliver(Sel::kind("VR"));
    s.expect(4, "leader t3 log=1,3");
    s.expect(1, "follower t3 vote=-");
    s.sync(4);
    s.drop(Sel::from(4));
    s.crash(4);
    // (c) S1 restarts and wins term 4 with S2, S3 and S4. It re-replicates its term-2 entry to
    // S3 (now on a majority: S1, S2, S3), while its own term-4 entry reaches nobody.
    s.restart(0);
    // Its first campaign (term 3) fails: S3 and S4 already voted for S5 in term 3.
    s.campaign(0);
    s.settle();
    s.expect(0, "candidate t3");
    s.campaign(0);
    s.sync(0);
    s.deliver(Sel::kind("VQ"));
    for n in 1..4 {
        s.sync(n);
    }
    s.deliver(Sel::kind("VR"));
    s.expect(0, "leader t4 log=1,2,4");
    s.sync(0);
}

fn figure8_previous_term_entry_not_committed_by_counting(s: &mut Script) {
    figure8_setup(s);
    // S1 re-replicates its term-2 entry to S3 and S4 (S2 already has it), but the term-4
    // entry after it reaches none of them.
    s.cut(0, 1);
    for follower in [2, 3] {
        // The follower rejects the append after index 2 it does not have...
        s.deliver(Sel::link(0, follower));
        s.deliver(Sel::link(follower, 0));
        // ...and takes index 2 on the retry.
        s.deliver(Sel::link(0, follower));
        s.sync(follower);
        s.deliver(Sel::link(follower, 0));
        s.expect(follower, "log=1,2");
        // The term-4 entry that follows is lost.
        s.drop(Sel::link(0, follower));
    }
    // Index 2 is on S1, S2, S3 and S4, and the leader knows S1, S3 and S4 hold it: a
    // majority, but the entry is not of the leader's term. Not committed.
    s.expect(0, "leader t4 commit=0 match=n2:2 match=n3:2");
    // (d) S1 crashes; S5 comes back and wins term 5 with S2, S3 and S4 (its last term 3 beats
    // their 2), then overwrites index 2 everywhere. Nothing committed was lost: the checkers
    // would have said so.
    s.crash(0);
    s.heal();
    s.drop(Sel::any());
    s.restart(4);
    // Its first campaign is in term 4, where everyone already voted for S1.
    s.campaign(4);
    s.settle();
    s.expect(4, "follower t4");
    s.elect(4);
    s.run_ticks(3);
    for n in 1..5 {
        s.expect(n, "t5 commit=3 log=1,3,5");
    }
}

fn figure8_current_term_entry_commits_previous(s: &mut Script) {
    figure8_setup(s);
    // (e) S1 replicates its term-4 entry (and index 2 before it) to S2 and S3 before
    // crashing: that commits both.
    s.settle();
    s.expect(0, "leader t4 commit=3");
    s.expect(2, "log=1,2,4");
    s.crash(0);
    s.heal();
    s.restart(4);
    // S5's last term 3 is older than S2's and S3's 4: they deny it, so it cannot erase the
    // committed entries.
    s.campaign(4);
    s.settle();
    s.campaign(4);
    s.settle();
    s.expect(4, "follower t5 vote=n4");
    s.expect(1, "follower t5 vote=- log=1,2,4");
    s.expect(2, "follower t5 vote=- log=1,2,4");
    // S2 takes over and keeps everything.
    s.elect(1);
    s.expect(4, "follower log=1,2,4,6");
}

fn vote_restriction_denies_stale_candidate(s: &mut Script) {
    s.setup(
        Setup::new(3)
            .classic()
            .state(0, 2, None, &[1, 2])
            .state(1, 2, None, &[1, 1, 1])
            .state(2, 2, None, &[1, 2]),
    );
    // n1 has the longest log, but its last term 1 is older than the others' 2.
    s.campaign(1);
    s.settle();
    s.expect(1, "follower t3 vote=n1");
    s.expect(0, "follower t3 vote=-");
    s.expect(2, "follower t3 vote=-");
    s.elect(0);
    s.expect(1, "follower t4 log=1,2,4");
}

fn vote_restriction_longer_log_same_term(s: &mut Script) {
    s.setup(
        Setup::new(3)
            .classic()
            .state(0, 2, None, &[1, 2])
            .state(1, 2, None, &[1, 2, 2])
            .state(2, 2, None, &[1, 2]),
    );
    // n0 and n2 have equal logs: n2 grants n0. n1 holds more and denies.
    s.campaign(0);
    s.sync(0);
    s.deliver(Sel::kind("VQ"));
    s.sync(1);
    s.sync(2);
    s.expect_in_flight(Sel::kind("VR"), 2);
    s.settle();
    s.expect(0, "leader t3");
    s.expect(1, "follower t3 vote=-");
    s.expect(2, "follower t3 vote=n0");
    // The leader does not hold index 3, so the follower's extra entry is overwritten.
    s.run_ticks(3);
    s.expect(1, "log=1,2,3 commit=3");
}
