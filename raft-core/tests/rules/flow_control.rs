//! Flow control: bytes per AppendEntries, the in-flight window per follower (a dead follower
//! costs a bounded window, never a queue), and the limit on uncommitted entries.

use crate::support::*;
use bytes::Bytes;
use raft_core::{Config, Entry, Node, PersistId, ProposeError, Proposed};

fn leader_with_limits(limits: impl FnOnce(&mut Config)) -> Node {
    let mut config = config(THREE, SEED);
    limits(&mut config);
    ready_leader_with(config, 2, &[])
}

fn data(s: &'static str) -> Bytes {
    Bytes::from_static(s.as_bytes())
}

// ----- bytes per message --------------------------------------------------------------------

#[test]
fn append_entries_carry_at_most_max_bytes_per_message_of_entry_data() {
    let mut node = leader_with_limits(|c| c.max_bytes_per_message = 5);
    let (a, b, c) = (
        Entry::normal(2, 2, "aaa"),
        Entry::normal(2, 3, "bb"),
        Entry::normal(2, 4, "c"),
    );

    // 3 + 2 bytes fit in one message; the third entry would make 6.
    let to = |peer| {
        vec![
            send(peer, append(ME, 2, 1, 2, vec![a.clone(), b.clone()], 1)),
            send(peer, append(ME, 2, 3, 2, vec![c.clone()], 1)),
        ]
    };
    let mut expected = vec![persist(
        3,
        None,
        Some(write(1, 2, vec![a.clone(), b.clone(), c.clone()])),
    )];
    expected.extend(to(2));
    expected.extend(to(3));
    assert_eq!(
        node.propose_batch(2, vec![data("aaa"), data("bb"), data("c")]),
        Ok(Proposed {
            first_index: 2,
            last_index: 4,
            actions: expected,
        })
    );
}

#[test]
fn append_entries_carry_an_entry_larger_than_max_bytes_per_message_alone() {
    let mut node = leader_with_limits(|c| c.max_bytes_per_message = 2);
    let big = Entry::normal(2, 2, "abcdef");

    assert_eq!(
        node.propose(2, "abcdef").map(|p| p.actions),
        Ok(vec![
            persist(3, None, Some(write(1, 2, vec![big.clone()]))),
            send(2, append(ME, 2, 1, 2, vec![big.clone()], 1)),
            send(3, append(ME, 2, 1, 2, vec![big.clone()], 1)),
        ])
    );
}

// ----- the in-flight window: a dead follower costs a bounded window -------------------------

#[test]
fn dead_follower_gets_at_most_max_inflight_messages_and_no_queue() {
    let mut node = leader_with_limits(|c| {
        c.max_inflight_messages = 2;
        c.max_entries_per_message = 1;
    });
    // n3 is dead: it never answers; n2 acknowledges. Two proposals fill n3's window.
    node.propose(2, "a").unwrap();
    assert_eq!(node.receive(n(2), ack(2, 2, 2)), vec![]);
    node.propose(2, "b").unwrap();
    assert_eq!(node.receive(n(2), ack(2, 2, 3)), vec![]);
    assert_eq!(node.inflight_messages(n(3)), Some(2));

    // The third goes to n2 only: nothing is queued for n3; the log is its only buffer.
    let c = Entry::normal(2, 4, "c");
    assert_eq!(
        node.propose(2, "c").map(|p| p.actions),
        Ok(vec![
            persist(5, None, Some(write(3, 2, vec![c.clone()]))),
            send(2, append(ME, 2, 3, 2, vec![c], 1)),
        ])
    );
    assert_eq!(node.inflight_messages(n(3)), Some(2));

    // A heartbeat retransmits to n3 from its match index, again one window's worth.
    for _ in 1..node.config().heartbeat_interval {
        assert_eq!(node.tick(), vec![]);
    }
    let retransmitted: Vec<_> = node
        .tick()
        .into_iter()
        .filter(|a| matches!(a, raft_core::Action::Send { to, .. } if *to == n(3)))
        .collect();
    assert_eq!(
        retransmitted,
        vec![
            send(3, append(ME, 2, 1, 2, vec![Entry::normal(2, 2, "a")], 1)),
            send(3, append(ME, 2, 2, 2, vec![Entry::normal(2, 3, "b")], 1)),
        ]
    );
    assert_eq!(node.inflight_messages(n(3)), Some(2));
}

// ----- uncommitted entries ------------------------------------------------------------------

#[test]
fn proposal_beyond_max_uncommitted_entries_is_refused_as_overloaded() {
    let mut node = leader_with_limits(|c| c.max_uncommitted_entries = 2);
    node.propose(2, "a").unwrap();

    assert_eq!(
        node.propose_batch(2, vec![data("b"), data("c")]),
        Err(ProposeError::Overloaded {
            uncommitted: 1,
            limit: 2
        })
    );
    assert_eq!(node.last_index(), 2, "nothing of the batch was appended");
    assert_eq!(node.persists_in_flight(), 1);
}

#[test]
fn overloaded_leader_accepts_proposals_again_once_commits_catch_up() {
    let mut node = leader_with_limits(|c| c.max_uncommitted_entries = 1);
    node.propose(2, "a").unwrap();
    assert!(matches!(
        node.propose(2, "b"),
        Err(ProposeError::Overloaded { .. })
    ));
    node.persisted(PersistId(3)).unwrap();
    assert_eq!(
        node.receive(n(2), ack(2, 2, 2)),
        vec![apply(vec![Entry::normal(2, 2, "a")])]
    );

    let b = Entry::normal(2, 3, "b");
    assert_eq!(
        node.propose(2, "b").map(|p| p.actions),
        Ok(vec![
            persist(4, None, Some(write(2, 2, vec![b.clone()]))),
            send(2, append(ME, 2, 2, 2, vec![b.clone()], 2)),
            send(3, append(ME, 2, 2, 2, vec![b], 2)),
        ])
    );
}

#[test]
fn forwarded_proposal_beyond_max_uncommitted_entries_is_dropped() {
    let mut node = leader_with_limits(|c| c.max_uncommitted_entries = 1);
    node.propose(2, "a").unwrap();

    assert_eq!(node.receive(n(3), forwarded("x")), vec![]);
    assert_eq!(node.last_index(), 2);
}

#[test]
fn zero_flow_control_limits_are_refused() {
    for broken in [
        Config {
            max_bytes_per_message: 0,
            ..config(THREE, SEED)
        },
        Config {
            max_uncommitted_entries: 0,
            ..config(THREE, SEED)
        },
    ] {
        assert!(Node::new(broken, Default::default()).is_err());
    }
}
