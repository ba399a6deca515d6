//! ReadIndex: the leader records (context, commit index), confirms its leadership with a
//! read round (heartbeats numbered by round), and announces the read once a quorum
//! acknowledged a round at least as new; never before its own no-op is committed; correct
//! under duplicated and delayed acknowledgements (etcd-io/raft#397).

use crate::support::*;
use raft_core::{Config, Entry, Node, PersistId, ReadError, Recovered, Role};

/// A ready leader of term 2 in a cluster of `voters`; its no-op (index 1) is committed.
fn leader_of(voters: &[u64]) -> Node {
    ready_leader_with(defaults(voters, SEED), 2, &[])
}

/// The read round heartbeat the ready leader of term 2 sends a follower that matches index 1.
fn round(seq: u64) -> raft_core::Message {
    read_heartbeat(ME, 2, 1, 2, 1, seq)
}

// ----- the leader ----------------------------------------------------------------------------

#[test]
fn read_index_records_the_commit_index_and_starts_a_read_round() {
    let mut node = leader_of(THREE);

    assert_eq!(
        node.read_index(7),
        Ok(vec![send(2, round(1)), send(3, round(1))])
    );
}

#[test]
fn read_is_ready_once_a_quorum_acknowledged_its_round() {
    let mut node = leader_of(THREE);
    node.read_index(7).unwrap();

    // The leader and n2 are two of three.
    assert_eq!(
        node.receive(n(2), read_ack(2, 2, 1)),
        vec![read_ready(7, 1)]
    );
    assert_eq!(
        node.receive(n(3), read_ack(3, 2, 1)),
        vec![],
        "announced once"
    );
}

#[test]
fn read_before_the_leaders_noop_is_committed_is_refused_as_not_ready() {
    let mut node = leader_with(defaults(THREE, SEED), 2, &[1]);
    assert!(!node.is_ready_leader());

    assert_eq!(node.read_index(7), Err(ReadError::NotReady));
    assert_eq!(node.persisted(PersistId(2)).unwrap(), vec![]);
    assert_eq!(node.held_messages(), 0, "no read round was started");
}

#[test]
fn follower_refuses_read_index_naming_its_leader() {
    assert_eq!(
        follower_of(2, 2, &[]).read_index(7),
        Err(ReadError::NotLeader { leader: Some(n(2)) })
    );
    assert_eq!(
        follower(2, &[]).read_index(7),
        Err(ReadError::NotLeader { leader: None })
    );
}

#[test]
fn single_voter_read_is_ready_at_once() {
    let config = Config::new(n(ME), vec![n(ME)], SEED);
    let mut node = Node::new(config, Recovered::default()).unwrap();
    node.campaign();
    node.persisted(PersistId(1)).unwrap();
    node.persisted(PersistId(2)).unwrap();
    assert!(node.is_ready_leader());

    assert_eq!(node.read_index(7), Ok(vec![read_ready(7, 1)]));
}

#[test]
fn duplicated_acknowledgement_from_one_peer_counts_once() {
    let mut node = leader_of(FIVE);
    node.read_index(7).unwrap();
    assert_eq!(node.receive(n(2), read_ack(2, 2, 1)), vec![]);

    // The leader and n2 are two of the three needed, however often n2 answers.
    assert_eq!(node.receive(n(2), read_ack(2, 2, 1)), vec![]);
    assert_eq!(
        node.receive(n(3), read_ack(3, 2, 1)),
        vec![read_ready(7, 1)]
    );
}

#[test]
fn delayed_acknowledgement_of_an_older_round_does_not_confirm_a_newer_read() {
    // etcd-io/raft#397: the same context is read twice; acknowledgements of the first round
    // are duplicated and arrive late. They must not confirm the second read.
    let mut node = leader_of(FIVE);
    node.read_index(7).unwrap();
    node.receive(n(2), read_ack(2, 2, 1));
    assert_eq!(
        node.receive(n(3), read_ack(3, 2, 1)),
        vec![read_ready(7, 1)]
    );
    node.propose(2, "x").unwrap();
    node.persisted(PersistId(3)).unwrap();
    node.receive(n(2), ack(2, 2, 2));
    node.receive(n(3), ack(3, 2, 2));
    assert_eq!(node.commit_index(), 2);
    node.read_index(7).unwrap();

    assert_eq!(node.receive(n(2), read_ack(2, 2, 1)), vec![]);
    assert_eq!(node.receive(n(3), read_ack(3, 2, 1)), vec![]);
    assert_eq!(node.receive(n(4), read_ack(4, 2, 1)), vec![]);
    assert_eq!(node.receive(n(2), read_ack(2, 2, 2)), vec![]);
    assert_eq!(
        node.receive(n(4), read_ack(4, 2, 2)),
        vec![read_ready(7, 2)]
    );
}

#[test]
fn acknowledgement_of_a_newer_round_confirms_the_older_reads_in_order() {
    let mut node = leader_of(THREE);
    node.read_index(7).unwrap();
    node.read_index(8).unwrap();

    assert_eq!(
        node.receive(n(3), read_ack(3, 2, 2)),
        vec![read_ready(7, 1), read_ready(8, 1)]
    );
}

#[test]
fn read_is_served_at_the_commit_index_it_arrived_at() {
    let mut node = leader_of(THREE);
    node.read_index(7).unwrap();
    // Index 2 commits after the read arrived; the read need not wait for it.
    node.propose(2, "x").unwrap();
    node.persisted(PersistId(3)).unwrap();
    assert_eq!(
        node.receive(n(2), ack(2, 2, 2)),
        vec![apply(vec![Entry::normal(2, 2, "x")])]
    );

    assert_eq!(
        node.receive(n(2), read_ack(2, 2, 1)),
        vec![read_ready(7, 1)]
    );
}

#[test]
fn appends_carry_the_latest_read_round_while_reads_wait() {
    let mut node = leader_of(THREE);
    node.read_index(7).unwrap();

    let x = Entry::normal(2, 2, "x");
    let with_round = |peer| {
        send(
            peer,
            raft_core::Message::AppendEntries(raft_core::AppendEntries {
                leader: n(ME),
                term: 2,
                commit: 1,
                prev_term: 2,
                prev_index: 1,
                entries: vec![x.clone()],
                read_seq: 1,
            }),
        )
    };
    assert_eq!(
        node.propose(2, "x").map(|p| p.actions),
        Ok(vec![
            persist(3, None, Some(write(1, 2, vec![x.clone()]))),
            with_round(2),
            with_round(3),
        ])
    );
}

#[test]
fn appends_carry_no_read_round_once_every_read_is_ready() {
    let mut node = leader_of(THREE);
    node.read_index(7).unwrap();
    node.receive(n(2), read_ack(2, 2, 1));

    let x = Entry::normal(2, 2, "x");
    assert_eq!(
        node.propose(2, "x").map(|p| p.actions),
        Ok(vec![
            persist(3, None, Some(write(1, 2, vec![x.clone()]))),
            send(2, append(ME, 2, 1, 2, vec![x.clone()], 1)),
            send(3, append(ME, 2, 1, 2, vec![x], 1)),
        ])
    );
}

#[test]
fn read_acknowledgement_of_another_term_or_sender_is_ignored() {
    let mut node = ready_leader_with(defaults(THREE, SEED), 3, &[1]);
    node.read_index(7).unwrap();

    assert_eq!(node.receive(n(2), read_ack(2, 2, 1)), vec![], "term 2");
    assert_eq!(node.receive(n(3), read_ack(2, 3, 1)), vec![], "names n2");
    assert_eq!(node.receive(n(4), read_ack(4, 3, 1)), vec![], "not a voter");
    assert_eq!(
        node.receive(n(2), read_ack(2, 3, 1)),
        vec![read_ready(7, 2)]
    );
}

#[test]
fn read_acknowledgement_of_a_round_never_started_is_ignored() {
    let mut node = leader_of(FIVE);
    node.read_index(7).unwrap();
    assert_eq!(node.receive(n(2), read_ack(2, 2, 9)), vec![]);
    node.read_index(8).unwrap();
    node.read_index(9).unwrap();

    // Had round 9 been recorded for n2, this would confirm all three reads.
    assert_eq!(
        node.receive(n(3), read_ack(3, 2, 3)),
        vec![],
        "only n3 acknowledged round 3"
    );
}

#[test]
fn reads_waiting_when_leadership_ends_are_never_announced() {
    let mut node = leader_of(THREE);
    node.read_index(7).unwrap();
    node.receive(n(2), append(2, 3, 1, 2, vec![], 1));
    assert_eq!(node.role(), Role::Follower);

    assert_eq!(node.receive(n(3), read_ack(3, 2, 1)), vec![]);
}

// ----- the follower --------------------------------------------------------------------------

#[test]
fn follower_answers_a_read_round_with_a_read_ack() {
    let mut node = follower_of(2, 2, &[1]);

    assert_eq!(
        node.receive(n(2), read_heartbeat(2, 2, 1, 1, 0, 5)),
        vec![send(2, ack(ME, 2, 1)), send(2, read_ack(ME, 2, 5))]
    );
}

#[test]
fn follower_acknowledges_a_read_round_even_when_its_log_does_not_match() {
    let mut node = follower_of(2, 2, &[1]);

    assert_eq!(
        node.receive(n(2), read_heartbeat(2, 2, 4, 2, 0, 5)),
        vec![send(2, nack(ME, 2, 1)), send(2, read_ack(ME, 2, 5))]
    );
}

#[test]
fn read_ack_leaves_without_waiting_for_a_persist() {
    // The round's term is new to this follower: the term is persisted, the append
    // acknowledgement waits for it, the read ack does not.
    let mut node = follower_of(2, 2, &[1]);

    assert_eq!(
        node.receive(n(3), read_heartbeat(3, 3, 1, 1, 0, 5)),
        vec![
            role(Role::Follower, 3),
            leader_changed(3, Some(3)),
            persist(1, Some(hs(3, None)), None),
            send(3, read_ack(ME, 3, 5)),
        ]
    );
    assert_eq!(node.held_messages(), 1);
}

#[test]
fn follower_does_not_acknowledge_the_read_round_of_a_stale_leader() {
    let mut node = follower_of(3, 3, &[1]);

    assert_eq!(
        node.receive(n(2), read_heartbeat(2, 2, 1, 1, 0, 5)),
        vec![send(2, nack(ME, 3, 1))]
    );
}
