//! NRG `Processed(index, applied)`: the application reports how far it consumed the entries
//! handed out (which lets the node campaign) apart from how far their effects are in its
//! state (which bounds compaction). A stream applying a batch whose commit marker is in a
//! later entry consumes the batch's first entries without applying them.

use crate::support::*;
use raft_core::{ContractError, Node, Role, SnapshotError};

/// A follower of n2 in term 2 (PreVote and CheckQuorum on) that was handed entries 1..=3
/// to apply and reported nothing yet.
fn handed_out_three() -> Node {
    let mut node = follower_of_with(defaults(THREE, SEED), 2, 2, &[1, 1, 1]);
    assert_eq!(
        node.receive(n(2), append(2, 2, 3, 1, vec![], 3)),
        vec![apply(log(&[1, 1, 1])), send(2, ack(ME, 2, 3))]
    );
    assert_eq!((node.processed_index(), node.applied_index()), (0, 0));
    node
}

#[test]
fn processed_records_consumed_and_applied_apart() {
    let mut node = handed_out_three();

    assert_eq!(node.processed(3, 1), Ok(vec![]));
    assert_eq!((node.processed_index(), node.applied_index()), (3, 1));
}

#[test]
fn applied_is_clamped_to_processed() {
    let mut node = handed_out_three();

    assert_eq!(node.processed(2, 3), Ok(vec![]));
    assert_eq!((node.processed_index(), node.applied_index()), (2, 2));
}

#[test]
fn processed_and_applied_never_move_backwards() {
    let mut node = handed_out_three();
    node.processed(3, 2).unwrap();

    assert_eq!(node.processed(1, 1), Ok(vec![]));
    assert_eq!((node.processed_index(), node.applied_index()), (3, 2));
}

#[test]
fn applied_is_processed_of_the_same_index() {
    let mut node = handed_out_three();

    assert_eq!(node.applied(2), Ok(vec![]));
    assert_eq!((node.processed_index(), node.applied_index()), (2, 2));
}

#[test]
fn processed_beyond_what_was_handed_out_is_a_contract_error() {
    let mut node = handed_out_three();

    assert_eq!(
        node.processed(4, 0),
        Err(ContractError::AppliedBeyondCommitted {
            index: 4,
            handed_out: 3
        })
    );
    assert_eq!((node.processed_index(), node.applied_index()), (0, 0));
}

#[test]
fn compaction_stops_at_applied_not_at_processed() {
    let mut node = handed_out_three();
    node.processed(3, 1).unwrap();

    assert_eq!(
        node.install_snapshot(2, &b"state"[..]),
        Err(SnapshotError::NotApplied {
            index: 2,
            applied: 1
        })
    );
    assert!(node.install_snapshot(1, &b"state"[..]).is_ok());
    assert_eq!(node.snapshot_index(), 1);
}

#[test]
fn no_campaign_while_commits_are_unprocessed() {
    let mut node = handed_out_three();
    for _ in 0..3 * node.config().election_timeout_max {
        assert_eq!(node.tick(), vec![]);
    }
    assert_eq!(node.campaign(), vec![]);
    assert_eq!(node.role(), Role::Follower);
}

#[test]
fn commits_consumed_but_not_applied_let_the_node_campaign() {
    let mut node = handed_out_three();
    node.processed(3, 1).unwrap();
    for _ in 1..node.election_timeout() {
        assert_eq!(node.tick(), vec![]);
    }

    assert_eq!(
        node.tick(),
        vec![
            leader_changed(2, None),
            send(2, pre_vote_request(ME, 3, 3, 1)),
            send(3, pre_vote_request(ME, 3, 3, 1)),
        ]
    );
}
