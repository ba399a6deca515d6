//! Forwarding: proposals and peer removals a follower hands to its leader, the leader's
//! checks (the same as for its own API), and the answer the forwarder hears.

use crate::support::*;
use raft_core::{
    Action, Entry, ForwardOutcome, ForwardProposal, ForwardRefusal, ForwardRemovePeer,
    ForwardResponse, Message, ProposeError,
};

fn removal(peer: u64, reply: u64) -> Message {
    Message::ForwardRemovePeer(ForwardRemovePeer {
        peer: n(peer),
        reply,
    })
}

fn answer(term: u64, reply: u64, outcome: ForwardOutcome) -> Message {
    Message::ForwardResponse(ForwardResponse {
        term,
        reply,
        outcome,
    })
}

fn answered(term: u64, reply: u64, outcome: ForwardOutcome) -> Action {
    Action::ForwardAnswered {
        reply,
        term,
        outcome,
    }
}

fn refused(why: ForwardRefusal) -> ForwardOutcome {
    ForwardOutcome::Refused(why)
}

#[test]
fn follower_forwards_a_peer_removal_to_its_leader() {
    let mut node = follower_of(2, 2, &[]);

    assert_eq!(
        node.forward_remove_peer(5, n(3)),
        Ok(vec![send(2, removal(3, 5))])
    );
    assert_eq!(
        follower(2, &[]).forward_remove_peer(5, n(3)),
        Err(ProposeError::NotLeader { leader: None })
    );
}

#[test]
fn leader_proposes_a_forwarded_peer_removal_and_answers_where_it_landed() {
    let mut node = ready_leader(THREE, 2, &[]);

    let change = peers_entry(2, 2, &[1, 2], &[]);
    assert_eq!(
        node.receive(n(3), removal(3, 5)),
        vec![
            persist_with_peers(
                3,
                None,
                Some(write(1, 2, vec![change.clone()])),
                peers(&[1, 2], &[])
            ),
            send(2, append(ME, 2, 1, 2, vec![change.clone()], 1)),
            send(3, append(ME, 2, 1, 2, vec![change], 1)),
            send(3, answer(2, 5, ForwardOutcome::Accepted { index: 2 })),
        ]
    );
    assert_eq!(node.pending_membership_change(), Some(2));
}

#[test]
fn forwarded_removal_of_a_peer_that_is_not_a_member_is_refused() {
    let mut node = ready_leader(THREE, 2, &[]);

    assert_eq!(
        node.receive(n(3), removal(9, 5)),
        vec![send(3, answer(2, 5, refused(ForwardRefusal::NotAMember)))]
    );
    assert_eq!(node.last_index(), 1);
    assert_eq!(node.pending_membership_change(), None);
}

#[test]
fn forwarded_removal_is_refused_while_a_membership_change_is_uncommitted() {
    let mut node = ready_leader(THREE, 2, &[]);
    node.propose_add_observer(2, n(4)).unwrap();

    assert_eq!(
        node.receive(n(3), removal(2, 5)),
        vec![send(
            3,
            answer(2, 5, refused(ForwardRefusal::MembershipChangePending))
        )]
    );
    assert_eq!(node.last_index(), 2);
}

#[test]
fn forwarded_removal_waits_for_the_new_leaders_own_commit() {
    // Not ready: an uncommitted change from an earlier term may still be in some log.
    let mut node = leader(THREE, 2, &[]);

    assert_eq!(
        node.receive(n(3), removal(2, 5)),
        vec![send(3, answer(2, 5, refused(ForwardRefusal::NotReady)))]
    );
    assert_eq!(node.last_index(), 1);
}

#[test]
fn forwarded_removal_without_a_reply_inbox_is_refused_silently() {
    let mut node = ready_leader(THREE, 2, &[]);

    assert_eq!(node.receive(n(3), removal(9, 0)), vec![]);
    assert_eq!(node.last_index(), 1);
}

#[test]
fn follower_refuses_a_forwarded_removal_it_cannot_propose() {
    let mut node = follower_of(2, 2, &[]);

    assert_eq!(
        node.receive(n(3), removal(3, 5)),
        vec![send(3, answer(2, 5, refused(ForwardRefusal::NotLeader)))]
    );
    assert_eq!(node.last_index(), 0);
}

#[test]
fn leader_answers_a_forwarded_proposal_with_its_index() {
    let mut node = ready_leader(THREE, 2, &[]);

    let x = Entry::normal(2, 2, "x");
    let proposal = Message::ForwardProposal(ForwardProposal {
        data: "x".into(),
        reply: 9,
    });
    assert_eq!(
        node.receive(n(3), proposal),
        vec![
            persist(3, None, Some(write(1, 2, vec![x.clone()]))),
            send(2, append(ME, 2, 1, 2, vec![x.clone()], 1)),
            send(3, append(ME, 2, 1, 2, vec![x], 1)),
            send(3, answer(2, 9, ForwardOutcome::Accepted { index: 2 })),
        ]
    );
}

#[test]
fn forwarder_hands_the_leaders_answer_to_its_application() {
    let mut node = follower_of(2, 2, &[]);

    let outcome = ForwardOutcome::Accepted { index: 4 };
    assert_eq!(
        node.receive(n(2), answer(3, 7, outcome)),
        vec![answered(3, 7, outcome)]
    );
    assert_eq!(node.term(), 2, "an answer carries no term to adopt");
}

#[test]
fn leader_decides_its_own_forward_and_answers_its_application() {
    let mut node = ready_leader(THREE, 2, &[]);

    let actions = node.forward_remove_peer(5, n(9)).unwrap();
    assert_eq!(
        actions,
        vec![answered(2, 5, refused(ForwardRefusal::NotAMember))]
    );
    let actions = node.forward_with_reply(6, "x").unwrap();
    assert_eq!(
        actions.last(),
        Some(&answered(2, 6, ForwardOutcome::Accepted { index: 2 }))
    );
}

#[test]
fn follower_never_forwards_to_itself_even_when_an_append_names_it_the_leader() {
    // No correct peer sends this: n2 sends an append whose leader field names n1.
    let mut node = follower(2, &[]);
    assert_eq!(
        node.receive(n(2), append(ME, 2, 0, 0, vec![], 0)),
        vec![send(ME, ack(ME, 2, 0))]
    );
    assert_eq!(node.leader(), Some(n(ME)));

    assert_eq!(
        node.forward("x"),
        Err(ProposeError::NotLeader { leader: None })
    );
    assert_eq!(
        node.forward_remove_peer(5, n(3)),
        Err(ProposeError::NotLeader { leader: None })
    );
}
