//! Write and fsync errors (`write_error.rs`): a persist the host reports failed is never
//! treated as durable, and the error is sticky until a restart, as NRG's `werr`: no
//! acknowledgement or vote that waited for it leaves, a leader steps down, a candidate sends
//! no vote request, nothing is proposed, campaigned or written again.

use crate::support::*;
use raft_core::{
    ContractError, Node, PersistId, ProposeError, Role, SnapshotError, WriteError, WriteErrorKind,
    WriteStage,
};

const EIO_ON_FSYNC: WriteError = WriteError {
    kind: WriteErrorKind::Io,
    stage: WriteStage::Fsync,
};

const ENOSPC_ON_WRITE: WriteError = WriteError {
    kind: WriteErrorKind::NoSpace,
    stage: WriteStage::Write,
};

/// A follower of `n2` in term 2 that appended entry 1 and holds its acknowledgement until
/// Persist 1 is durable.
fn follower_waiting_for_its_write() -> Node {
    let mut node = follower_of(2, 2, &[]);
    let actions = node.receive(n(2), append(2, 2, 0, 0, vec![entry(2, 1)], 0));
    assert_eq!(
        actions,
        vec![persist(1, None, Some(write(0, 0, vec![entry(2, 1)])))]
    );
    node
}

#[test]
fn failed_persist_discards_the_acknowledgement_that_waited_for_it() {
    let mut node = follower_waiting_for_its_write();

    assert_eq!(node.persist_failed(PersistId(1), EIO_ON_FSYNC), Ok(vec![]));
    assert_eq!(node.write_error(), Some(EIO_ON_FSYNC));
    assert_eq!(
        node.durable_index(),
        0,
        "nothing of the failed write is durable"
    );
}

#[test]
fn failed_persist_reports_every_earlier_persist_durable() {
    let mut node = follower_waiting_for_its_write();
    node.receive(n(2), append(2, 2, 1, 2, vec![entry(2, 2)], 0));

    // Persist 2 failed, so Persist 1 completed: its acknowledgement leaves, the second's not.
    assert_eq!(
        node.persist_failed(PersistId(2), EIO_ON_FSYNC),
        Ok(vec![send(2, ack(ME, 2, 1))])
    );
    assert_eq!(node.durable_index(), 1);
}

#[test]
fn write_error_is_sticky_no_persist_is_issued_and_nothing_attested() {
    let mut node = follower_waiting_for_its_write();
    node.persist_failed(PersistId(1), EIO_ON_FSYNC).unwrap();

    // The next append is taken in memory and its commit applied, but nothing is written and
    // nothing acknowledged.
    assert_eq!(
        node.receive(n(2), append(2, 2, 1, 2, vec![entry(2, 2)], 1)),
        vec![apply(vec![entry(2, 1)])]
    );
    assert_eq!(node.persists_in_flight(), 0);
}

#[test]
fn failed_truncating_write_leaves_no_durable_entry_after_the_truncation() {
    // Entries 1 and 2 of term 1 are durable; a term-2 leader replaces entry 2.
    let mut node = recovered(THREE, hs(1, None), log(&[1, 1]));
    let actions = node.receive(n(2), append(2, 2, 1, 1, vec![entry(2, 2)], 1));
    assert_eq!(
        actions,
        vec![
            role(Role::Follower, 2),
            leader_changed(2, Some(2)),
            persist(1, Some(hs(2, None)), Some(write(1, 1, vec![entry(2, 2)]))),
            apply(vec![entry(1, 1)]),
        ]
    );

    // The truncating write failed: the disk may hold the old entry 2 or the new one.
    assert_eq!(
        node.persist_failed(PersistId(1), ENOSPC_ON_WRITE),
        Ok(vec![])
    );
    assert_eq!(node.durable_index(), 1);
    assert_eq!(node.commit_index(), 1);
}

#[test]
fn leader_steps_down_when_a_persist_fails() {
    let mut node = ready_leader(THREE, 2, &[1]);
    let proposed = node.propose(2, "x").unwrap();
    assert_eq!(proposed.first_index, 3);

    assert_eq!(
        node.persist_failed(PersistId(3), EIO_ON_FSYNC),
        Ok(vec![role(Role::Follower, 2), leader_changed(2, None)])
    );
    assert_eq!(node.vote(), Some(n(ME)), "the vote of the term stays");
}

#[test]
fn candidate_sends_no_vote_request_when_its_vote_fails_to_persist() {
    let mut node = follower(1, &[1]);
    assert_eq!(
        node.campaign(),
        vec![
            role(Role::Candidate, 2),
            persist(1, Some(hs(2, Some(ME))), None)
        ]
    );

    // The vote requests waited for the vote to be durable: they never leave.
    assert_eq!(
        node.persist_failed(PersistId(1), EIO_ON_FSYNC),
        Ok(vec![role(Role::Follower, 2)])
    );
}

#[test]
fn node_with_a_write_error_does_not_campaign() {
    let mut node = follower_waiting_for_its_write();
    node.persist_failed(PersistId(1), EIO_ON_FSYNC).unwrap();

    assert_eq!(node.campaign(), vec![]);
    let ticks = node.election_timeout() * 3;
    for _ in 0..ticks {
        assert_eq!(node.tick(), vec![]);
    }
}

#[test]
fn node_with_a_write_error_refuses_proposals() {
    let mut node = ready_leader(THREE, 2, &[1]);
    node.propose(2, "x").unwrap();
    node.persist_failed(PersistId(3), EIO_ON_FSYNC).unwrap();

    assert_eq!(
        node.propose(2, "y").map(|p| p.actions),
        Err(ProposeError::WriteFailed {
            error: EIO_ON_FSYNC
        })
    );
}

#[test]
fn node_with_a_write_error_refuses_to_snapshot() {
    let mut node = follower_waiting_for_its_write();
    node.persist_failed(PersistId(1), EIO_ON_FSYNC).unwrap();
    node.receive(n(2), append(2, 2, 1, 2, vec![], 1));
    node.applied(1).unwrap();

    assert_eq!(
        node.install_snapshot(1, "state").map(|_| ()),
        Err(SnapshotError::WriteFailed {
            error: EIO_ON_FSYNC
        })
    );
}

#[test]
fn node_with_a_write_error_refuses_snapshot_checkpoints() {
    let mut node = follower_waiting_for_its_write();
    node.receive(n(2), append(2, 2, 1, 2, vec![], 1));
    node.applied(1).unwrap();
    let checkpoint = node.begin_snapshot(false).unwrap();
    node.persist_failed(PersistId(1), EIO_ON_FSYNC).unwrap();
    let refused = Err(SnapshotError::WriteFailed {
        error: EIO_ON_FSYNC,
    });

    assert_eq!(
        node.finish_snapshot(&checkpoint, "state").map(|_| ()),
        refused
    );
    assert_eq!(node.begin_snapshot(true).map(|_| ()), refused);
    assert_eq!(node.force_install_snapshot(1, "state").map(|_| ()), refused);
}

#[test]
fn persist_reported_after_a_failure_is_a_contract_error() {
    let mut node = follower_waiting_for_its_write();
    node.persist_failed(PersistId(1), EIO_ON_FSYNC).unwrap();

    assert_eq!(
        node.persisted(PersistId(1)),
        Err(ContractError::PersistedAfterFailure {
            id: PersistId(1),
            failed: PersistId(1)
        })
    );
    assert_eq!(
        node.persist_failed(PersistId(1), EIO_ON_FSYNC),
        Err(ContractError::PersistedAfterFailure {
            id: PersistId(1),
            failed: PersistId(1)
        })
    );
}

#[test]
fn failure_of_a_persist_not_in_flight_is_a_contract_error() {
    let mut node = follower_waiting_for_its_write();

    assert_eq!(
        node.persist_failed(PersistId(2), EIO_ON_FSYNC),
        Err(ContractError::PersistNotInFlight {
            id: PersistId(2),
            last_completed: PersistId(0),
            last_issued: PersistId(1)
        })
    );
    assert_eq!(node.write_error(), None);
}
