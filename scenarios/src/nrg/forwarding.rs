//! Forwarding: proposals and peer removals a follower hands to its leader, and the answer
//! the forwarder hears (NRG answers a forwarded proposal's reply inbox once the leader took
//! it; ours also says where it landed, or why the leader refused it).

use crate::{Script, Sel};
use raft_core::{ForwardRemovePeer, Message, NodeId};

pub(super) fn forward_proposal_response(s: &mut Script) {
    s.cluster_with_leader(3, 0);
    s.forward_with_reply(1, 7, "a").unwrap();
    s.deliver(Sel::kind("FP"));
    s.expect(0, "last=2");
    s.deliver(Sel::kind("FR"));
    // The forwarder hears where the entry landed before it is committed...
    s.expect_forward_answer(1, 7, "accepted=2");
    s.expect(1, "commit=1");
    s.settle();
    s.run_ticks(3);
    // ...and the value is applied everywhere.
    for n in 0..3 {
        s.expect(n, "commit=2 applied=2 kv=a");
    }
}

pub(super) fn forwarded_remove_peer_proposal_non_existent(s: &mut Script) {
    s.cluster_with_leader(3, 0);
    s.forward_remove_peer(1, 7, 9).unwrap();
    s.settle();
    s.expect_forward_answer(1, 7, "refused=not-a-member");
    for n in 0..3 {
        s.expect(n, "voters=0,1,2 changing=- last=1");
    }
    // A real forwarded removal still works: here the follower removes itself.
    s.forward_remove_peer(1, 8, 1).unwrap();
    s.settle();
    s.run_ticks(3);
    s.expect_forward_answer(1, 8, "accepted=2");
    for n in [0, 2] {
        s.expect(n, "voters=0,2 changing=- commit=2");
    }
}

pub(super) fn uncommitted_membership_change_on_new_leader_forwarded_remove_peer_proposal(
    s: &mut Script,
) {
    // As in `uncommitted_membership_change_on_new_leader`: n1 wins holding n0's removal of
    // n2, appended but not committed.
    s.cluster_with_leader(3, 0);
    s.remove_peer(0, 2);
    s.deliver(Sel::link(0, 1));
    s.sync(1);
    s.drop(Sel::any());
    s.kill(0);
    s.restart(0);
    s.campaign(1);
    s.sync(1);
    s.deliver(Sel::kind("VQ"));
    s.sync(0);
    s.deliver(Sel::kind("VR"));
    s.expect(1, "leader t2 unready changing=2 last=3");
    // A forwarded removal of n0 reaches the new leader: not taken while a change may be
    // uncommitted somewhere (the new leader takes one once its own no-op commits).
    let removal = ForwardRemovePeer {
        peer: NodeId(0),
        reply: 5,
    };
    s.inject(2, 1, Message::ForwardRemovePeer(removal));
    s.expect(1, "leader unready changing=2 last=3");
    s.deliver(Sel::kind("FR"));
    s.expect_forward_answer(2, 5, "refused=not-ready");
    // Once the no-op commits, the earlier change is committed with it, and a retry of the
    // same removal is taken.
    s.settle();
    s.expect(1, "ready voters=0,1 changing=- commit=3");
    s.forward_remove_peer(0, 6, 0).unwrap();
    s.settle();
    s.expect_forward_answer(0, 6, "accepted=4");
}
