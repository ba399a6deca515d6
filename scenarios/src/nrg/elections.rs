//! Elections, votes and terms: a candidate's request and the votes it gets, which votes are
//! kept across step-downs and restarts, election timers (reset by a granted vote, not by a
//! refused one), candidates and leaders meeting an older or a newer term, a candidate whose own
//! vote is not durable, CheckQuorum, and when a new leader reports itself.

use crate::{ae, ar, vq, Script, Sel, Setup};

pub(super) fn ae_from_old_leader(s: &mut Script) {
    s.setup(
        Setup::new(3)
            .classic()
            .state(0, 2, Some(0), &[1, 2])
            .state(1, 2, Some(0), &[1, 2])
            .state(2, 2, Some(0), &[1, 2]),
    );
    s.elect(0);
    s.inject(1, 0, ae(1, 1, (1, 1), 1, &[1]));
    s.expect_in_flight(Sel::link(0, 1).and_kind("AR"), 1);
    s.deliver(Sel::link(0, 1).and_kind("AR"));
    s.expect(0, "leader t3 log=1,2,3");
}

pub(super) fn simple_election(s: &mut Script) {
    s.setup(Setup::new(5).classic());
    s.elect(0);
    s.propose(0, "a");
    s.settle();
    s.crash(0);
    s.campaign(1);
    s.sync(1);
    s.expect_in_flight(Sel::kind("VQ"), 4);
    s.settle();
    s.expect(1, "leader t2 vote=n1");
    for n in 2..5 {
        s.expect(n, "follower t2 vote=n1");
    }
}

pub(super) fn step_down_on_same_term_doesnt_clear_vote(s: &mut Script) {
    s.setup(
        Setup::new(3)
            .classic()
            .state(0, 1, None, &[1])
            .state(1, 1, None, &[1])
            .state(2, 1, None, &[1]),
    );
    s.elect(0);
    s.expect(0, "leader t2 vote=n0");
    // A forged heartbeat from an older term changes nothing.
    s.inject(1, 0, ae(1, 1, (1, 1), 0, &[]));
    s.expect(0, "leader t2 vote=n0");
    // One claiming this very term (only possible after a bug elsewhere) is ignored too: it
    // keeps leading, and keeps its vote.
    s.inject(1, 0, ae(1, 2, (2, 2), 0, &[]));
    s.expect(0, "leader t2 vote=n0");
}

pub(super) fn unsuccessful_vote_request_doesnt_reset_election_timer(s: &mut Script) {
    s.setup(
        Setup::new(3)
            .classic()
            .state(0, 3, None, &[1])
            .state(1, 3, None, &[1])
            .state(2, 3, None, &[1]),
    );
    let timeout = s.node(1).election_timeout();
    s.tick(1, timeout - 1);
    s.inject(2, 1, vq(2, 2, 1, 1));
    s.expect_in_flight(Sel::from(1).and_kind("VR"), 1);
    s.tick(1, 1);
    s.expect(1, "candidate t4");
}

pub(super) fn unsuccessful_vote_request_campaign_early(s: &mut Script) {
    s.setup(
        Setup::new(3)
            .classic()
            .state(0, 3, None, &[1, 3])
            .state(1, 3, None, &[1, 3])
            .state(2, 3, None, &[1]),
    );
    let timeout = s.node(1).election_timeout();
    s.tick(1, timeout - 1);
    // Refused (n2's log is behind): the timer keeps running and fires on the next tick.
    s.inject(2, 1, vq(2, 4, 1, 1));
    s.expect(1, "follower t4 vote=-");
    s.tick(1, 1);
    s.expect(1, "candidate t5");
    // Granted: the timer restarts.
    let timeout = s.node(0).election_timeout();
    s.tick(0, timeout - 1);
    s.inject(1, 0, vq(1, 5, 3, 2));
    s.expect(0, "follower t5 vote=n1");
    s.tick(0, 1);
    s.expect(0, "follower t5");
}

pub(super) fn assume_high_term_after_candidate_isolation(s: &mut Script) {
    s.setup(Setup::new(3).classic());
    s.elect(0);
    s.isolate(2);
    for _ in 0..5 {
        s.campaign(2);
        s.sync(2);
        s.drop(Sel::from(2));
    }
    s.expect(2, "candidate t6");
    s.heal();
    s.campaign(2);
    s.settle();
    // n2's log is behind: nobody grants it, but everyone adopts its term.
    s.expect(0, "t7");
    s.expect(1, "t7");
    s.elect(0);
    s.expect(0, "t8");
    s.run_ticks(3);
    s.expect(2, "follower t8 leader=n0 commit=3");
}

pub(super) fn candidate_doesnt_revert_term_after_old_ae(s: &mut Script) {
    s.setup(
        Setup::new(3)
            .classic()
            .state(0, 4, None, &[1, 2])
            .state(1, 2, None, &[1, 2])
            .state(2, 2, None, &[1, 2]),
    );
    s.campaign(0);
    s.expect(0, "candidate t5");
    s.inject(1, 0, ae(1, 2, (2, 2), 1, &[2]));
    s.expect(0, "candidate t5 last=2");
}

pub(super) fn no_reset_on_append_entry_response(s: &mut Script) {
    s.setup(Setup::new(3).classic());
    s.elect(0);
    s.propose(0, "a");
    s.settle();
    s.inject(1, 0, ar(1, 9, 0, false));
    s.expect(0, "follower t9 log=1,1");
}

pub(super) fn candidate_dont_stepdown_due_to_leader_of_previous_term(s: &mut Script) {
    s.setup(Setup::new(3).classic().state(0, 99, None, &[1]));
    s.campaign(0);
    s.inject(1, 0, ae(1, 50, (1, 1), 1, &[]));
    s.expect(0, "candidate t100");
}

pub(super) fn signal_lead_change_false_if_campaign_immediately(s: &mut Script) {
    s.setup(Setup::new(3).classic());
    s.campaign(1);
    s.campaign(0);
    s.sync(0);
    s.sync(1);
    s.deliver(Sel::from(0));
    s.settle();
    s.expect(0, "leader t1");
    s.run_ticks(3);
    s.expect(1, "follower leader=n0");
}

pub(super) fn doesnt_request_vote_on_write_error(s: &mut Script) {
    s.setup(Setup::new(3).classic());
    s.stall_disk(0);
    s.campaign(0);
    s.settle();
    s.expect(0, "candidate t1 pending=1 inflight=0");
    s.unstall_disk(0);
    s.settle();
    s.expect(0, "leader t1");
}

pub(super) fn stepdown_with_highest_term_during_catchup(s: &mut Script) {
    s.setup(Setup::new(3).classic());
    s.elect(0);
    s.inject(1, 0, ae(1, 7, (1, 1), 1, &[]));
    s.expect(0, "follower t7 leader=n1");
}

pub(super) fn lost_quorum(s: &mut Script) {
    s.setup(Setup::new(3));
    s.elect(0);
    s.isolate(0);
    s.tick(0, 45);
    s.expect(0, "follower t1 vote=n0");
}

pub(super) fn report_leader_after_noop_entry(s: &mut Script) {
    s.cluster_with_leader(3, 0);
    s.crash(0);
    s.campaign(1);
    s.sync(1);
    s.deliver(Sel::kind("VQ"));
    s.sync(2);
    s.deliver(Sel::kind("VR"));
    s.expect(1, "leader t2 unready leader=n1");
    let r = s.read_index(1, 7);
    s.expect_refused(&r, "not committed yet");
    s.settle();
    s.expect(1, "ready leader=n1");
    s.read_index(1, 8).unwrap();
    s.settle();
}

pub(super) fn switch_to_candidate_resets_vote(s: &mut Script) {
    s.setup(Setup::new(3).classic().state(0, 4, Some(2), &[1]));
    s.campaign(0);
    s.expect(0, "candidate t5 vote=n0 pending=1 inflight=0");
    s.sync(0);
    s.expect(0, "inflight=2");
}

pub(super) fn init_single_mem_raft_node_defaults(s: &mut Script) {
    s.setup(Setup::new(1));
    s.elect(0);
    s.propose(0, "a");
    s.settle();
    s.expect(0, "leader t1 voters=0 commit=2 kv=a");
}

pub(super) fn revalidate_quorum_after_leader_change(s: &mut Script) {
    s.cluster_with_leader(3, 0);
    s.propose(0, "a");
    s.deliver(Sel::kind("AE"));
    s.sync(1);
    s.sync(2);
    let old_acks = s.hold(Sel::kind("AR"));
    // A vote request of a higher term deposes n0 (n1's log is shorter: not granted).
    s.inject(1, 0, vq(1, 2, 1, 1));
    s.expect(0, "follower t2 commit=1");
    s.campaign(0);
    s.sync(0);
    s.deliver(Sel::kind("VQ"));
    s.sync(1);
    s.sync(2);
    s.deliver(Sel::kind("VR"));
    s.expect(0, "leader t3 last=3 commit=1");
    // The acknowledgements of term 1 for index 2 count for nothing in term 3.
    s.release(old_acks);
    s.expect(0, "leader t3 commit=1");
    s.sync(0);
    s.deliver(Sel::link(0, 1).and_kind("AE"));
    s.sync(1);
    s.deliver(Sel::link(1, 0).and_kind("AR"));
    s.expect(0, "leader t3 commit=3");
}
