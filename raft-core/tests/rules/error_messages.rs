//! Every refusal's message names what is wrong, with the figures that make it wrong: a host
//! logs these texts, and an empty or generic one would hide why its input was refused.

use crate::support::*;
use raft_core::{
    ConfigError, ContractError, LogDamage, PersistId, ProposeError, ReadError, RescueError,
    SnapshotError, TransferError,
};

#[test]
fn propose_errors_name_the_leader_the_terms_and_the_limits() {
    let cases = [
        (
            ProposeError::NotLeader { leader: Some(n(2)) },
            "not the leader; n2 is",
        ),
        (
            ProposeError::NotLeader { leader: None },
            "not the leader; none known",
        ),
        (
            ProposeError::WrongTerm {
                proposal_term: 3,
                current_term: 4,
            },
            "proposal made for term 3 but the current term is 4",
        ),
        (
            ProposeError::EmptyBatch,
            "a batch proposal must contain an entry",
        ),
        (
            ProposeError::Overloaded {
                uncommitted: 9,
                limit: 8,
            },
            "9 entries are not committed yet and the limit is 8",
        ),
        (
            ProposeError::TransferInProgress { target: n(3) },
            "leadership is being transferred to n3",
        ),
        (
            ProposeError::MembershipChangePending { index: 7 },
            "the membership change at index 7 is not committed yet",
        ),
        (
            ProposeError::NotYetCommittedInTerm,
            "no entry of this leader's term is committed yet; membership changes wait for it",
        ),
        (
            ProposeError::AlreadyMember { peer: n(2) },
            "n2 is already a member",
        ),
        (
            ProposeError::NotAMember { peer: n(5) },
            "n5 is not a member",
        ),
        (
            ProposeError::LastVoter { peer: n(1) },
            "n1 is the last voter and cannot be removed",
        ),
        (
            ProposeError::RemovedInThisTerm { peer: n(3) },
            "n3 was removed in this leader's term; re-add it after a leader change or under a new id",
        ),
    ];
    for (error, text) in cases {
        assert_eq!(error.to_string(), text);
    }
}

#[test]
fn read_errors_name_the_leader_or_the_missing_commit() {
    assert_eq!(
        ReadError::NotLeader { leader: Some(n(3)) }.to_string(),
        "not the leader; n3 is"
    );
    assert_eq!(
        ReadError::NotLeader { leader: None }.to_string(),
        "not the leader; none known"
    );
    assert_eq!(
        ReadError::NotReady.to_string(),
        "the leader's entry of its term is not committed yet"
    );
}

#[test]
fn transfer_errors_name_the_leader_and_the_target() {
    assert_eq!(
        TransferError::NotLeader { leader: Some(n(2)) }.to_string(),
        "not the leader; n2 is"
    );
    assert_eq!(
        TransferError::NotLeader { leader: None }.to_string(),
        "not the leader; none known"
    );
    assert_eq!(
        TransferError::InvalidTarget { target: n(1) }.to_string(),
        "n1 is not another voter of this cluster"
    );
    assert_eq!(
        TransferError::NoSuccessor.to_string(),
        "there is no other voter to lead"
    );
    assert_eq!(
        TransferError::InProgress { target: n(3) }.to_string(),
        "a transfer to n3 is already in progress"
    );
}

#[test]
fn contract_errors_name_the_id_or_index_reported_and_what_was_issued() {
    assert_eq!(
        ContractError::UnknownPersist {
            id: PersistId(4),
            last_issued: PersistId(2)
        }
        .to_string(),
        "persist 4 reported complete but the last issued is 2"
    );
    assert_eq!(
        ContractError::AppliedBeyondCommitted {
            index: 6,
            handed_out: 5
        }
        .to_string(),
        "applied index 6 reported but only 5 was handed out to apply"
    );
}

#[test]
fn snapshot_errors_name_the_index_and_how_far_the_node_is() {
    assert_eq!(
        SnapshotError::NotApplied {
            index: 9,
            applied: 7
        }
        .to_string(),
        "snapshot at index 9 but the application applied only up to 7"
    );
    assert_eq!(
        SnapshotError::Stale {
            index: 3,
            snapshot_index: 5
        }
        .to_string(),
        "snapshot at index 3 is not past the current snapshot at 5"
    );
}

#[test]
fn log_damage_names_where_the_damaged_log_ended() {
    assert_eq!(
        LogDamage::HeldThrough { index: 7, term: 3 }.to_string(),
        "held through 7@t3"
    );
    assert_eq!(
        LogDamage::Unknown { term_bound: 4 }.to_string(),
        "end unknown, terms <= 4"
    );
}

#[test]
fn rescue_errors_name_the_leader_and_the_quorums() {
    let cases = [
        (
            RescueError::Leading,
            "this node leads; a rescue is for leaderless groups",
        ),
        (
            RescueError::LeaderKnown { leader: n(2) },
            "n2 leads; a rescue is for leaderless groups",
        ),
        (RescueError::NotAVoter, "this node is not a voter"),
        (RescueError::EmptyLog, "this node's log is empty"),
        (
            RescueError::NotBelowNatural {
                requested: 3,
                natural: 3,
                voters: 5,
            },
            "a rescued quorum of 3 is not between 1 and the natural quorum 3 of 5 voters",
        ),
        (
            RescueError::NoDuration,
            "a rescue must last at least one tick",
        ),
    ];
    for (error, text) in cases {
        assert_eq!(error.to_string(), text);
    }
}

#[test]
fn config_errors_name_the_bound_and_the_figures() {
    let cases = [
        (
            ConfigError::ElectionTimeout { min: 0, max: 20 },
            "election timeout range [0, 20) ticks is empty or starts at 0",
        ),
        (
            ConfigError::HeartbeatInterval {
                heartbeat: 10,
                election_min: 10,
            },
            "heartbeat interval 10 must be at least 1 and below the minimum election timeout 10",
        ),
        (
            ConfigError::Limit {
                name: "max_inflight_messages",
            },
            "limit max_inflight_messages is out of range",
        ),
        (ConfigError::DuplicateVoter, "a voter is listed twice"),
        (
            ConfigError::LogTermDecreases { index: 4 },
            "recovered log term decreases at index 4",
        ),
    ];
    for (error, text) in cases {
        assert_eq!(error.to_string(), text);
    }
}

#[test]
fn evict_errors_name_the_leader_and_the_quorum_figures() {
    let cases = [
        (
            raft_core::EvictError::NotManaged,
            "the group is not managed; its membership changes only through its log",
        ),
        (
            raft_core::EvictError::Leading,
            "this node leads; it removes peers through the log",
        ),
        (
            raft_core::EvictError::LeaderKnown { leader: n(2) },
            "n2 leads; it removes peers through the log",
        ),
        (
            raft_core::EvictError::QuorumPossible {
                remaining: 2,
                voters: 3,
            },
            "the 2 voters left besides this node still make a quorum of 3",
        ),
    ];
    for (error, text) in cases {
        assert_eq!(error.to_string(), text);
    }
}

#[test]
fn write_errors_name_the_failed_step_and_the_device_error() {
    use raft_core::{WriteError, WriteErrorKind, WriteStage};
    let cases = [
        (
            WriteErrorKind::Io,
            WriteStage::Write,
            "write failed: I/O error (EIO)",
        ),
        (
            WriteErrorKind::NoSpace,
            WriteStage::Fsync,
            "fsync failed: no space left on device (ENOSPC)",
        ),
    ];
    for (kind, stage, text) in cases {
        assert_eq!(WriteError { kind, stage }.to_string(), text);
    }
}

#[test]
fn reset_errors_name_the_persists_in_flight_and_the_cause() {
    use raft_core::{ResetError, WriteError, WriteErrorKind, WriteStage};
    let cases = [
        (
            ResetError::PersistsInFlight { count: 2 },
            "2 persists are in flight; reset once they are reported durable",
        ),
        (
            ResetError::WriteFailed {
                error: WriteError {
                    kind: WriteErrorKind::Io,
                    stage: WriteStage::Fsync,
                },
            },
            "this node's storage failed (fsync failed: I/O error (EIO)); restart it",
        ),
        (
            ResetError::Refused {
                error: ConfigError::DuplicateVoter,
            },
            "the reset state was refused: a voter is listed twice",
        ),
    ];
    for (error, text) in cases {
        assert_eq!(error.to_string(), text);
    }
}
