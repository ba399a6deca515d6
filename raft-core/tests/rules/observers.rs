//! Observers (non-voting members): they replicate and apply, never campaign, count in no
//! quorum (commit, elections, CheckQuorum, ReadIndex), and can be promoted to voters.

use crate::support::*;
use raft_core::{Action, Entry, Node, PersistId, Role};

/// A ready leader of term 2 of voters {n1, n2, n3} and observer n4 (log: the no-op at 1, the
/// committed change that added n4 at 2); next Persist id 4. PreVote and CheckQuorum on.
fn leader_with_observer() -> Node {
    let mut node = ready_leader_with(defaults(THREE, SEED), 2, &[]);
    node.propose_add_observer(2, n(4)).unwrap();
    node.persisted(PersistId(3)).unwrap();
    node.receive(n(2), ack(2, 2, 2));
    node.receive(n(4), ack(4, 2, 2));
    assert_eq!(node.commit_index(), 2);
    assert_eq!(node.observers().collect::<Vec<_>>(), vec![n(4)]);
    node
}

/// n1 as an observer of voters {n2, n3}, following n2 in term 2 with log [1].
fn observer() -> Node {
    let mut node = recovered_member(
        defaults(THREE, SEED),
        hs(2, None),
        vec![peers_entry(1, 1, &[2, 3], &[1])],
        peers(&[2, 3], &[1]),
    );
    node.receive(n(2), append(2, 2, 0, 0, vec![], 0));
    node
}

#[test]
fn adding_an_observer_replicates_to_it_without_changing_the_voters() {
    let mut node = ready_leader_with(defaults(THREE, SEED), 2, &[]);
    let change = peers_entry(2, 2, &[1, 2, 3], &[4]);

    assert_eq!(
        node.propose_add_observer(2, n(4)).map(|p| p.actions),
        Ok(vec![
            persist_with_peers(
                3,
                None,
                Some(write(1, 2, vec![change.clone()])),
                peers(&[1, 2, 3], &[4])
            ),
            send(2, append(ME, 2, 1, 2, vec![change.clone()], 1)),
            send(3, append(ME, 2, 1, 2, vec![change.clone()], 1)),
            send(4, append(ME, 2, 1, 2, vec![change], 1)),
        ])
    );
    assert_eq!(node.voters().count(), 3);
}

#[test]
fn observers_acknowledgement_does_not_count_toward_commit() {
    let mut node = leader_with_observer();
    node.propose(2, "x").unwrap();
    node.persisted(PersistId(4)).unwrap();

    assert_eq!(node.receive(n(4), ack(4, 2, 3)), vec![]);
    assert_eq!(node.commit_index(), 2);
    assert_eq!(
        node.receive(n(3), ack(3, 2, 3)),
        vec![apply(vec![Entry::normal(2, 3, "x")])]
    );
}

#[test]
fn observer_never_campaigns() {
    let mut node = observer();
    let max = node.config().election_timeout_max;

    let actions: Vec<Action> = (0..3 * max).flat_map(|_| node.tick()).collect();
    assert_eq!(actions, vec![]);
    assert_eq!(node.campaign(), vec![]);
    assert_eq!(node.role(), Role::Follower);
}

#[test]
fn observer_ignores_timeout_now() {
    let mut node = observer();

    assert_eq!(node.receive(n(2), timeout_now(2, 2)), vec![]);
    assert_eq!(node.role(), Role::Follower);
}

#[test]
fn observer_replicates_and_applies_committed_entries() {
    let mut node = observer();

    assert_eq!(
        node.receive(n(2), append(2, 2, 1, 1, vec![entry(2, 2)], 2)),
        vec![
            persist(1, None, Some(write(1, 1, vec![entry(2, 2)]))),
            apply(vec![peers_entry(1, 1, &[2, 3], &[1]), entry(2, 2)]),
        ]
    );
    assert_eq!(
        node.persisted(PersistId(1)),
        Ok(vec![send(2, ack(ME, 2, 2))])
    );
}

#[test]
fn observers_vote_is_not_counted_in_an_election() {
    // n1 votes among {n1, n2, n3}; n4 only observes.
    let mut node = recovered_member(
        config(THREE, SEED),
        hs(1, None),
        vec![peers_entry(1, 1, &[1, 2, 3], &[4])],
        peers(&[1, 2, 3], &[4]),
    );
    node.campaign();
    node.persisted(PersistId(1)).unwrap();

    assert_eq!(node.receive(n(4), grant(4, 2)), vec![]);
    assert_eq!(node.role(), Role::Candidate);
}

#[test]
fn observer_is_not_counted_for_check_quorum() {
    let mut node = leader_with_observer();
    let window = node.config().election_timeout_max;
    // The first window still saw n2; during the whole second one only the observer is heard.
    for _ in 0..2 * window - 1 {
        node.receive(n(4), ack(4, 2, 2));
        node.tick();
    }
    node.receive(n(4), ack(4, 2, 2));
    assert_eq!(node.role(), Role::Leader);

    assert_eq!(
        node.tick(),
        vec![role(Role::Follower, 2), leader_changed(2, None)]
    );
}

#[test]
fn observers_read_ack_does_not_confirm_a_read() {
    let mut node = leader_with_observer();
    node.read_index(7).unwrap();

    assert_eq!(node.receive(n(4), read_ack(4, 2, 1)), vec![]);
    assert_eq!(
        node.receive(n(2), read_ack(2, 2, 1)),
        vec![read_ready(7, 2)]
    );
}

#[test]
fn observer_can_be_promoted_to_voter() {
    let mut node = leader_with_observer();
    let promotion = peers_entry(2, 3, &[1, 2, 3, 4], &[]);

    assert_eq!(
        node.propose_add_voter(2, n(4)).map(|p| p.actions),
        Ok(vec![
            persist_with_peers(
                4,
                None,
                Some(write(2, 2, vec![promotion.clone()])),
                peers(&[1, 2, 3, 4], &[])
            ),
            send(2, append(ME, 2, 2, 2, vec![promotion.clone()], 2)),
            send(3, append(ME, 2, 2, 2, vec![promotion.clone()], 2)),
            send(4, append(ME, 2, 2, 2, vec![promotion], 2)),
        ])
    );
    assert_eq!(node.voters().count(), 4);
    assert_eq!(node.observers().count(), 0);
}

#[test]
fn new_leader_replicates_to_observers() {
    let mut node = recovered_member(
        config(THREE, SEED),
        hs(1, None),
        vec![peers_entry(1, 1, &[1, 2, 3], &[4])],
        peers(&[1, 2, 3], &[4]),
    );
    node.campaign();
    node.persisted(PersistId(1)).unwrap();
    let noop = peers_entry(2, 2, &[1, 2, 3], &[4]);

    assert_eq!(
        node.receive(n(2), grant(2, 2)),
        vec![
            role(Role::Leader, 2),
            persist(2, None, Some(write(1, 1, vec![noop.clone()]))),
            send(2, append(ME, 2, 1, 1, vec![noop.clone()], 0)),
            send(3, append(ME, 2, 1, 1, vec![noop.clone()], 0)),
            send(4, append(ME, 2, 1, 1, vec![noop], 0)),
        ]
    );
}

#[test]
fn leadership_is_never_transferred_to_an_observer() {
    // n4 is replicated to like a voter, but it cannot be elected.
    let mut node = leader_with_observer();

    assert_eq!(
        node.step_down(Some(n(4))),
        Err(raft_core::TransferError::InvalidTarget { target: n(4) })
    );
    assert_eq!(node.transfer_target(), None);
}
