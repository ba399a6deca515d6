//! Proposals: term fencing, redirection to the leader, batches as one contiguous run,
//! forwarding, and a single voter committing on its own.

use crate::support::*;
use bytes::Bytes;
use raft_core::{Config, Entry, Node, PersistId, ProposeError, Proposed, Recovered, Role};

#[test]
fn proposal_for_another_term_is_refused_and_appends_nothing() {
    let mut node = ready_leader(THREE, 2, &[]);

    assert_eq!(
        node.propose(1, "stale"),
        Err(ProposeError::WrongTerm {
            proposal_term: 1,
            current_term: 2
        })
    );
    assert_eq!(
        node.propose_batch(3, vec![Bytes::from("future")]),
        Err(ProposeError::WrongTerm {
            proposal_term: 3,
            current_term: 2
        })
    );
    assert_eq!(node.last_index(), 1);
    assert_eq!(node.persists_in_flight(), 0);
    assert_eq!(node.tick(), vec![], "nothing was left pending");
}

#[test]
fn proposal_to_a_follower_names_the_known_leader() {
    let mut node = follower_of(2, 2, &[]);

    assert_eq!(
        node.propose(2, "x"),
        Err(ProposeError::NotLeader { leader: Some(n(2)) })
    );
    assert_eq!(
        follower(2, &[]).propose(2, "x"),
        Err(ProposeError::NotLeader { leader: None })
    );
}

#[test]
fn batch_proposal_appends_one_contiguous_run_in_one_log_write() {
    let mut node = ready_leader(THREE, 2, &[]);

    let batch = vec![Bytes::from("a"), Bytes::from("b"), Bytes::from("c")];
    let run = vec![
        Entry::normal(2, 2, "a"),
        Entry::normal(2, 3, "b"),
        Entry::normal(2, 4, "c"),
    ];
    assert_eq!(
        node.propose_batch(2, batch),
        Ok(Proposed {
            first_index: 2,
            last_index: 4,
            actions: vec![
                persist(3, None, Some(write(1, 2, run.clone()))),
                send(2, append(ME, 2, 1, 2, run.clone(), 1)),
                send(3, append(ME, 2, 1, 2, run.clone(), 1)),
            ],
        })
    );
}

#[test]
fn batch_proposal_after_a_longer_log_writes_every_entry_of_the_run() {
    // The same rule where the log write starts further in (after index 3).
    let mut node = ready_leader(THREE, 2, &[1, 1]);

    let batch = vec![Bytes::from("a"), Bytes::from("b"), Bytes::from("c")];
    let run = vec![
        Entry::normal(2, 4, "a"),
        Entry::normal(2, 5, "b"),
        Entry::normal(2, 6, "c"),
    ];
    assert_eq!(
        node.propose_batch(2, batch),
        Ok(Proposed {
            first_index: 4,
            last_index: 6,
            actions: vec![
                persist(3, None, Some(write(3, 2, run.clone()))),
                send(2, append(ME, 2, 3, 2, run.clone(), 3)),
                send(3, append(ME, 2, 3, 2, run.clone(), 3)),
            ],
        })
    );
}

#[test]
fn empty_batch_proposal_is_refused() {
    let mut node = ready_leader(THREE, 2, &[]);

    assert_eq!(node.propose_batch(2, vec![]), Err(ProposeError::EmptyBatch));
    assert_eq!(node.last_index(), 1);
}

#[test]
fn single_voter_cluster_commits_on_its_own() {
    let mut node = Node::new(Config::new(n(ME), vec![n(ME)], SEED), Recovered::default()).unwrap();
    let noop = noop(1, 1, &[ME]);

    assert_eq!(
        node.campaign(),
        vec![
            role(Role::Candidate, 1),
            persist(1, Some(hs(1, Some(ME))), None)
        ]
    );
    assert_eq!(
        node.persisted(PersistId(1)).unwrap(),
        vec![
            role(Role::Leader, 1),
            persist(2, None, Some(write(0, 0, vec![noop.clone()]))),
        ]
    );
    assert_eq!(
        node.persisted(PersistId(2)).unwrap(),
        vec![apply(vec![noop]), leader_changed(1, Some(ME))]
    );

    let run = vec![Entry::normal(1, 2, "a"), Entry::normal(1, 3, "b")];
    assert_eq!(
        node.propose_batch(1, vec![Bytes::from("a"), Bytes::from("b")]),
        Ok(Proposed {
            first_index: 2,
            last_index: 3,
            actions: vec![persist(3, None, Some(write(1, 1, run.clone())))],
        })
    );
    assert_eq!(node.persisted(PersistId(3)).unwrap(), vec![apply(run)]);
}

#[test]
fn follower_forwards_a_proposal_to_its_leader() {
    let mut node = follower_of(2, 2, &[]);

    assert_eq!(node.forward("x"), Ok(vec![send(2, forwarded("x"))]));
    assert_eq!(
        follower(2, &[]).forward("x"),
        Err(ProposeError::NotLeader { leader: None })
    );
}

#[test]
fn leader_appends_a_forwarded_proposal() {
    let mut node = ready_leader(THREE, 2, &[]);

    let x = Entry::normal(2, 2, "x");
    assert_eq!(
        node.receive(n(3), forwarded("x")),
        vec![
            persist(3, None, Some(write(1, 2, vec![x.clone()]))),
            send(2, append(ME, 2, 1, 2, vec![x.clone()], 1)),
            send(3, append(ME, 2, 1, 2, vec![x.clone()], 1)),
        ]
    );
}

#[test]
fn follower_drops_a_forwarded_proposal() {
    let mut node = follower_of(2, 2, &[]);

    assert_eq!(node.receive(n(3), forwarded("x")), vec![]);
    assert_eq!(node.last_index(), 0);
}
