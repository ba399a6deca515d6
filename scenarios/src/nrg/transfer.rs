//! Leader transfer (NRG `StepDown(preferred)`): the target wins the next term, the old
//! leader follows it, and votes survive the transfer.

use crate::Script;

pub(super) fn inline_stepdown(s: &mut Script) {
    s.cluster_with_leader(3, 0);
    s.transfer(0, Some(1)).unwrap();
    s.expect(0, "leader");
    s.settle();
    s.expect(0, "follower t2 leader=n1");
    s.expect(1, "leader t2");
}

pub(super) fn leader_transfer(s: &mut Script) {
    s.cluster_with_leader(3, 0);
    s.transfer(0, Some(2)).unwrap();
    s.settle();
    s.expect(2, "leader t2 ready");
    s.expect(0, "follower t2 vote=n2");
}

pub(super) fn must_not_reset_vote_on_step_down_or_leader_transfer(s: &mut Script) {
    s.cluster_with_leader(3, 0);
    s.transfer(0, Some(1)).unwrap();
    s.expect(0, "leader vote=n0");
    s.settle();
    s.expect(0, "follower t2 vote=n1");
    s.expect(2, "vote=n1");
    s.kill(2);
    s.restart(2);
    s.expect(2, "t2 vote=n1");
}
