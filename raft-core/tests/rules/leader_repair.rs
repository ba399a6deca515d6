//! Protocol-aware recovery, leader side: a repairing node that no leader repairs campaigns;
//! elected, it asks its peers what they hold before its no-op, discards faulty entries only
//! past what a nack quorum answers for, and otherwise fetches them from a donor whose intact
//! log reaches that point.

use crate::support::*;
use raft_core::{
    Action, LogDamage, Message, Node, PersistId, ProposeError, Recovered, RepairOffer,
    RepairRequest, RepairResponse, Role,
};

/// `n1` of three, in term 2, whose WAL held `1 1 2 2` but only `1 1` survived damage.
pub(crate) fn damaged() -> Node {
    Node::new(
        repair_config(THREE),
        Recovered {
            hard_state: hs(2, None),
            log: log(&[1, 1]),
            damage: Some(LogDamage::HeldThrough { index: 4, term: 2 }),
            membership_bound: Some(0),
            ..Recovered::default()
        },
    )
    .expect("valid recovery")
}

pub(crate) fn repair_config(voters: &[u64]) -> raft_core::Config {
    let mut config = config(voters, SEED);
    config.repair_by_election = true;
    config
}

/// A damaged `node` after three election timeouts without a leader: a candidate of term 3
/// whose vote is durable.
pub(crate) fn after_three_timeouts(mut node: Node) -> Node {
    for _ in 0..3 {
        node.campaign();
    }
    node.persisted(PersistId(1)).unwrap();
    node
}

/// [`after_three_timeouts`], then elected by `n2`'s grant.
pub(crate) fn elected_by_n2(node: Node) -> Node {
    let mut node = after_three_timeouts(node);
    node.receive(n(2), grant(2, 3));
    assert_eq!(node.role(), Role::Leader);
    assert!(node.is_leader_repairing());
    node
}

pub(crate) fn repair_request(term: u64, after_index: u64, after_term: u64, fetch: bool) -> Message {
    Message::RepairRequest(RepairRequest {
        term,
        leader: n(ME),
        after_index,
        after_term,
        fetch,
    })
}

pub(crate) fn repair_response(
    peer: u64,
    term: u64,
    held: (u64, u64),
    log: (u64, u64),
    after_index: u64,
    offer: RepairOffer,
) -> Message {
    Message::RepairResponse(Box::new(RepairResponse {
        term,
        peer: n(peer),
        held,
        log,
        after_index,
        offer,
    }))
}

/// [`damaged`] after three election timeouts without a leader: a candidate of term 3 whose
/// vote requests have left.
fn repairing_candidate() -> Node {
    let mut node = damaged();
    assert_eq!(node.campaign(), vec![]);
    assert_eq!(node.campaign(), vec![]);
    node.campaign();
    node.persisted(PersistId(1)).unwrap();
    node
}

/// [`repairing_candidate`] elected by `n2`: its repair requests have left.
fn repairing_leader() -> Node {
    let mut node = repairing_candidate();
    node.receive(n(2), grant(2, 3));
    assert_eq!(node.role(), Role::Leader);
    node
}

#[test]
fn repairing_node_campaigns_only_after_three_election_timeouts_without_a_leader() {
    campaigns_at_the_third_timeout(damaged());
}

/// `node`, a repairing `n1` of three in term 2 that held `(2, 4)`, stays put at its first
/// two election timeouts and campaigns at the third, with the position it held.
pub(crate) fn campaigns_at_the_third_timeout(mut node: Node) {
    assert_eq!(node.campaign(), vec![], "first timeout");
    assert_eq!(node.campaign(), vec![], "second timeout");
    assert_eq!(
        node.campaign(),
        vec![
            role(Role::Candidate, 3),
            persist(1, Some(hs(3, Some(ME))), None)
        ]
    );
    // It asks with the position it held, not its surviving log's (1, 2).
    assert_eq!(
        node.persisted(PersistId(1)).unwrap(),
        vec![
            send(2, vote_request(ME, 3, 4, 2)),
            send(3, vote_request(ME, 3, 4, 2)),
        ]
    );
}

#[test]
fn a_heard_leader_restarts_the_repairing_nodes_wait_to_campaign() {
    let mut node = damaged();
    node.campaign();
    node.campaign();
    // The leader of term 2 is heard (its heartbeat cannot repair yet: it rejects).
    assert_eq!(
        node.receive(n(2), append(2, 2, 2, 1, vec![], 0)),
        vec![leader_changed(2, Some(2)), send(2, ack(ME, 2, 2))]
    );
    assert_eq!(node.campaign(), vec![], "the count starts again");
    assert_eq!(node.campaign(), vec![]);
    assert_eq!(node.role(), Role::Follower);
}

#[test]
fn leader_elected_while_repairing_asks_its_peers_before_any_noop() {
    let mut node = repairing_candidate();
    assert_eq!(
        node.receive(n(2), grant(2, 3)),
        vec![
            role(Role::Leader, 3),
            send(2, repair_request(3, 2, 1, false)),
            send(3, repair_request(3, 2, 1, false)),
        ]
    );
    assert_eq!(node.last_index(), 2, "no no-op");
}

#[test]
fn repairing_leader_refuses_proposals() {
    let mut node = repairing_leader();
    assert_eq!(
        node.propose(3, "x").unwrap_err(),
        ProposeError::LeaderRepairing
    );
}

#[test]
fn repairing_leader_asks_again_at_each_heartbeat_interval() {
    let mut node = repairing_leader();
    let interval = node.config().heartbeat_interval;
    for _ in 1..interval {
        assert_eq!(node.tick(), vec![]);
    }
    assert_eq!(
        node.tick(),
        vec![
            send(2, repair_request(3, 2, 1, false)),
            send(3, repair_request(3, 2, 1, false)),
        ]
    );
}

#[test]
fn one_answer_below_the_faulty_entries_is_not_a_nack_quorum() {
    let mut node = repairing_leader();
    let answer = repair_response(2, 3, (1, 2), (1, 2), 2, RepairOffer::Positions);
    assert_eq!(node.receive(n(2), answer), vec![]);
    assert_eq!(node.last_index(), 2);
}

#[test]
fn nack_quorum_below_the_faulty_entries_discards_them_and_the_leader_appends_its_noop() {
    let mut node = repairing_leader();
    node.receive(
        n(2),
        repair_response(2, 3, (1, 2), (1, 2), 2, RepairOffer::Positions),
    );
    let noop = noop(3, 3, THREE);
    assert_eq!(
        node.receive(
            n(3),
            repair_response(3, 3, (1, 1), (1, 1), 2, RepairOffer::Positions)
        ),
        vec![
            persist(2, None, Some(write(2, 1, vec![noop.clone()]))),
            send(2, append(ME, 3, 2, 1, vec![noop.clone()], 0)),
            send(3, append(ME, 3, 2, 1, vec![noop], 0)),
        ]
    );
    assert_eq!(node.repairing(), None);
}

#[test]
fn leader_fetches_from_a_donor_whose_intact_log_reaches_the_nack_quorums_target() {
    // n2 still holds 3..4 of term 2; n3 never had them. The target is n2's (2, 4).
    let mut node = fetching_leader();
    let entries = vec![entry(2, 3), entry(2, 4)];
    assert_eq!(
        node.receive(
            n(2),
            repair_response(
                2,
                3,
                (2, 4),
                (2, 4),
                2,
                RepairOffer::Entries(entries.clone())
            )
        ),
        vec![persist(2, None, Some(write(2, 1, entries)))]
    );
    assert_eq!(node.last_index(), 4, "not led on until durable");
    let noop = noop(3, 5, THREE);
    assert_eq!(
        node.persisted(PersistId(2)).unwrap(),
        vec![
            persist(3, None, Some(write(4, 2, vec![noop.clone()]))),
            send(2, append(ME, 3, 4, 2, vec![noop.clone()], 0)),
            send(3, append(ME, 3, 4, 2, vec![noop], 0)),
        ]
    );
    assert_eq!(node.repairing(), None);
}

#[test]
fn a_repairing_peer_never_serves_as_donor_beyond_its_intact_log() {
    let mut node = repairing_leader();
    // n2 answers for (2, 4) but its intact log ends at (1, 1): no donor reaches the target.
    node.receive(
        n(3),
        repair_response(3, 3, (1, 2), (1, 2), 2, RepairOffer::Positions),
    );
    assert_eq!(
        node.receive(
            n(2),
            repair_response(2, 3, (2, 4), (1, 1), 2, RepairOffer::Positions)
        ),
        vec![]
    );
    assert_eq!(node.last_index(), 2);
    assert!(!node.is_ready_leader());
}

#[test]
fn repair_request_is_answered_with_both_positions_once_the_term_is_durable() {
    let mut node = follower(2, &[1, 1, 2]);
    assert_eq!(
        node.receive(
            n(2),
            Message::RepairRequest(RepairRequest {
                term: 3,
                leader: n(2),
                after_index: 2,
                after_term: 1,
                fetch: false,
            })
        ),
        vec![
            role(Role::Follower, 3),
            leader_changed(3, Some(2)),
            persist(1, Some(hs(3, None)), None)
        ]
    );
    let answer = Message::RepairResponse(Box::new(RepairResponse {
        term: 3,
        peer: n(ME),
        held: (2, 3),
        log: (2, 3),
        after_index: 2,
        offer: RepairOffer::Positions,
    }));
    assert_eq!(node.persisted(PersistId(1)).unwrap(), vec![send(2, answer)]);
}

#[test]
fn repair_offer_holds_the_entries_after_the_leaders_point_of_one_term() {
    let mut node = follower(3, &[1, 1, 2, 2, 3]);
    let request = Message::RepairRequest(RepairRequest {
        term: 3,
        leader: n(2),
        after_index: 2,
        after_term: 1,
        fetch: true,
    });
    let answer = Message::RepairResponse(Box::new(RepairResponse {
        term: 3,
        peer: n(ME),
        held: (3, 5),
        log: (3, 5),
        after_index: 2,
        offer: RepairOffer::Entries(vec![entry(2, 3), entry(2, 4)]),
    }));
    assert_eq!(
        node.receive(n(2), request),
        vec![leader_changed(3, Some(2)), send(2, answer)]
    );
}

#[test]
fn repair_offer_names_a_retry_point_where_the_logs_disagree() {
    let mut node = follower(3, &[1, 1, 3, 3]);
    // The leader's entry at 4 is of term 2; ours of term 3, as is the one at 3.
    let request = Message::RepairRequest(RepairRequest {
        term: 3,
        leader: n(2),
        after_index: 4,
        after_term: 2,
        fetch: true,
    });
    let answer = Message::RepairResponse(Box::new(RepairResponse {
        term: 3,
        peer: n(ME),
        held: (3, 4),
        log: (3, 4),
        after_index: 4,
        offer: RepairOffer::Mismatch { hint: 2 },
    }));
    assert_eq!(
        node.receive(n(2), request),
        vec![leader_changed(3, Some(2)), send(2, answer)]
    );
}

#[test]
fn an_index_fewer_voters_than_a_quorum_answer_for_bounds_no_target() {
    let mut node = repairing_leader();
    // Only n2 answers for index 5 (its intact log ends at 4): nothing there is committed,
    // so n2 counts for (2, 4) and its intact log is a donor.
    node.receive(
        n(3),
        repair_response(3, 3, (1, 2), (1, 2), 2, RepairOffer::Positions),
    );
    assert_eq!(
        node.receive(
            n(2),
            repair_response(2, 3, (2, 5), (2, 4), 2, RepairOffer::Positions)
        ),
        vec![send(2, repair_request(3, 2, 1, true))]
    );
}

#[test]
fn without_repair_by_election_a_repairing_node_never_campaigns() {
    let mut config = config(THREE, SEED);
    assert!(config.repair_by_election, "on by default");
    config.repair_by_election = false;
    let mut node = Node::new(
        config,
        Recovered {
            hard_state: hs(2, None),
            log: log(&[1, 1]),
            damage: Some(LogDamage::HeldThrough { index: 4, term: 2 }),
            membership_bound: Some(0),
            ..Recovered::default()
        },
    )
    .expect("valid recovery");
    for _ in 0..10 {
        assert_eq!(node.campaign(), vec![]);
    }
    assert_eq!(node.role(), Role::Follower);
}

/// [`repairing_leader`] whose nack quorum's target is n2's (2, 4): n2, the donor, has been
/// asked for its entries after index 2.
fn fetching_leader() -> Node {
    leader_answered_by([((1, 2), (1, 2)), ((2, 4), (2, 4))])
}

/// [`repairing_leader`] answered by n3, then by n2 (each: the position it answers for and
/// its log's last position), after which it asks n2, the donor, for its entries after 2.
fn leader_answered_by(answers: [((u64, u64), (u64, u64)); 2]) -> Node {
    let mut node = repairing_leader();
    let [(n3_held, n3_log), (n2_held, n2_log)] = answers;
    node.receive(
        n(3),
        repair_response(3, 3, n3_held, n3_log, 2, RepairOffer::Positions),
    );
    assert_eq!(
        node.receive(
            n(2),
            repair_response(2, 3, n2_held, n2_log, 2, RepairOffer::Positions)
        ),
        vec![send(2, repair_request(3, 2, 1, true))]
    );
    node
}

#[test]
fn repairing_leader_asks_its_donor_again_for_entries_at_each_heartbeat_interval() {
    let mut node = fetching_leader();
    let interval = node.config().heartbeat_interval;
    for _ in 1..interval {
        assert_eq!(node.tick(), vec![]);
    }
    assert_eq!(
        node.tick(),
        vec![
            send(2, repair_request(3, 2, 1, true)),
            send(3, repair_request(3, 2, 1, false)),
        ]
    );
}

/// The answer `n1` sends leader `n2` in term 3, for a fetch after `after_index`.
fn answer_from_me(held: (u64, u64), after_index: u64, offer: RepairOffer) -> Action {
    send(
        2,
        Message::RepairResponse(Box::new(RepairResponse {
            term: 3,
            peer: n(ME),
            held,
            log: held,
            after_index,
            offer,
        })),
    )
}

/// What `n1`, a follower of term 3 that knew no leader, sends for `n2`'s fetch: it learns of
/// the leader, then answers as [`answer_from_me`].
fn learns_leader_and_answers(
    held: (u64, u64),
    after_index: u64,
    offer: RepairOffer,
) -> Vec<Action> {
    vec![
        leader_changed(3, Some(2)),
        answer_from_me(held, after_index, offer),
    ]
}

fn fetch_after(after_index: u64, after_term: u64) -> Message {
    Message::RepairRequest(RepairRequest {
        term: 3,
        leader: n(2),
        after_index,
        after_term,
        fetch: true,
    })
}

/// A snapshot of the three voters at `index`@`term`.
fn snapshot_at(index: u64, term: u64) -> raft_core::Snapshot {
    raft_core::Snapshot {
        meta: raft_core::SnapshotMeta {
            index,
            term,
            peers: peers(THREE, &[]),
        },
        data: bytes::Bytes::from_static(b"state"),
    }
}

/// `n1` of three in term 3, restarted from a snapshot at (term 3, index 4) with `log` after it.
fn compacted_follower(log: Vec<raft_core::Entry>) -> Node {
    Node::new(
        config(THREE, SEED),
        Recovered {
            hard_state: hs(3, None),
            log,
            snapshot: Some(snapshot_at(4, 3)),
            ..Recovered::default()
        },
    )
    .expect("valid recovery")
}

#[test]
fn repair_offer_below_a_compacted_log_is_positions_only() {
    let mut node = compacted_follower(vec![entry(3, 5)]);
    assert_eq!(
        node.receive(n(2), fetch_after(2, 1)),
        learns_leader_and_answers((3, 5), 2, RepairOffer::Positions)
    );
}

#[test]
fn repair_offer_past_this_log_names_its_last_index_as_the_retry_point() {
    let mut node = follower(3, &[1, 1]);
    assert_eq!(
        node.receive(n(2), fetch_after(4, 2)),
        learns_leader_and_answers((1, 2), 4, RepairOffer::Mismatch { hint: 2 })
    );
}

#[test]
fn repair_retry_point_never_goes_below_the_snapshot() {
    // Every entry from the snapshot on is of term 3, above the leader's 2 at index 6: the
    // retry point walks back to the snapshot's index and no further.
    let mut node = compacted_follower(vec![entry(3, 5), entry(3, 6)]);
    assert_eq!(
        node.receive(n(2), fetch_after(6, 2)),
        learns_leader_and_answers((3, 6), 6, RepairOffer::Mismatch { hint: 4 })
    );
}

#[test]
fn repair_retry_point_stops_at_an_entry_of_the_leaders_term_at_its_point() {
    // Ours at 4 is of term 3, the leader's of term 2; ours at 3 is of term 2 as well, so
    // the leader may hold it: the retry point is 3, not further back.
    let mut node = follower(3, &[1, 2, 2, 3]);
    assert_eq!(
        node.receive(n(2), fetch_after(4, 2)),
        learns_leader_and_answers((3, 4), 4, RepairOffer::Mismatch { hint: 3 })
    );
}

#[test]
fn repair_offer_reaches_the_last_entry_of_this_log() {
    let mut node = follower(3, &[1, 1, 2, 2]);
    assert_eq!(
        node.receive(n(2), fetch_after(2, 1)),
        learns_leader_and_answers(
            (2, 4),
            2,
            RepairOffer::Entries(vec![entry(2, 3), entry(2, 4)])
        )
    );
}

/// A follower in term 3 holding `terms`, whose messages carry at most `max_bytes` of payload.
fn follower_sending_at_most(max_bytes: usize, terms: &[u64]) -> Node {
    let config = raft_core::Config {
        max_bytes_per_message: max_bytes,
        ..config(THREE, SEED)
    };
    recovered_with(config, hs(3, None), log(terms))
}

#[test]
fn repair_offer_stops_at_the_message_byte_limit() {
    // Each payload is 3 bytes ("2/3"): two would be 6, past the limit of 5.
    let mut node = follower_sending_at_most(5, &[1, 1, 2, 2, 2]);
    assert_eq!(
        node.receive(n(2), fetch_after(2, 1)),
        learns_leader_and_answers((2, 5), 2, RepairOffer::Entries(vec![entry(2, 3)]))
    );
}

#[test]
fn repair_offer_holds_one_entry_larger_than_the_message_byte_limit() {
    let mut node = follower_sending_at_most(2, &[1, 1, 2, 2]);
    assert_eq!(
        node.receive(n(2), fetch_after(2, 1)),
        learns_leader_and_answers((2, 4), 2, RepairOffer::Entries(vec![entry(2, 3)]))
    );
}

#[test]
fn repair_answer_naming_another_peer_than_its_sender_is_ignored() {
    let mut node = repairing_leader();
    node.receive(
        n(2),
        repair_response(2, 3, (1, 2), (1, 2), 2, RepairOffer::Positions),
    );
    // From n3, but claiming to be n2's: not n3's answer, so still no nack quorum.
    assert_eq!(
        node.receive(
            n(3),
            repair_response(2, 3, (1, 1), (1, 1), 2, RepairOffer::Positions)
        ),
        vec![]
    );
    assert_eq!(node.last_index(), 2);
}

#[test]
fn repairing_leader_takes_entries_only_from_its_donor() {
    let mut node = fetching_leader();
    // n3 is not the donor: its offer, at the very point asked of n2, is not taken.
    let entries = vec![entry(2, 3), entry(2, 4)];
    assert_eq!(
        node.receive(
            n(3),
            repair_response(3, 3, (1, 2), (2, 4), 2, RepairOffer::Entries(entries))
        ),
        vec![]
    );
    assert_eq!(node.last_index(), 2);
}

/// As [`fetching_leader`], but with 1..2 in a snapshot: the log starts after index 2.
fn fetching_leader_after_a_snapshot() -> Node {
    let mut node = elected_by_n2(
        Node::new(
            repair_config(THREE),
            Recovered {
                hard_state: hs(2, None),
                snapshot: Some(snapshot_at(2, 1)),
                damage: Some(LogDamage::HeldThrough { index: 4, term: 2 }),
                membership_bound: Some(0),
                ..Recovered::default()
            },
        )
        .expect("valid recovery"),
    );
    node.receive(
        n(3),
        repair_response(3, 3, (1, 2), (1, 2), 2, RepairOffer::Positions),
    );
    assert_eq!(
        node.receive(
            n(2),
            repair_response(2, 3, (2, 4), (2, 4), 2, RepairOffer::Positions)
        ),
        vec![send(2, repair_request(3, 2, 1, true))]
    );
    node
}

#[test]
fn donor_hint_below_the_leaders_snapshot_gives_up_that_donor() {
    let mut node = fetching_leader_after_a_snapshot();
    // n2 points below the snapshot, where this log cannot follow: n2 is no donor now.
    node.receive(
        n(2),
        repair_response(2, 3, (2, 4), (2, 4), 2, RepairOffer::Mismatch { hint: 1 }),
    );
    let interval = node.config().heartbeat_interval;
    for _ in 1..interval {
        node.tick();
    }
    assert_eq!(
        node.tick(),
        vec![
            send(2, repair_request(3, 2, 1, false)),
            send(3, repair_request(3, 2, 1, false)),
        ]
    );
}

#[test]
fn donor_hint_within_the_leaders_log_is_asked_from_at_once() {
    let mut node = fetching_leader();
    assert_eq!(
        node.receive(
            n(2),
            repair_response(2, 3, (2, 4), (2, 4), 2, RepairOffer::Mismatch { hint: 1 })
        ),
        vec![send(2, repair_request(3, 1, 1, true))]
    );
}

#[test]
fn nack_quorum_of_four_voters_is_three_answers_besides_the_leader() {
    let mut node = after_three_timeouts(
        Node::new(
            repair_config(&[1, 2, 3, 4]),
            Recovered {
                hard_state: hs(2, None),
                log: log(&[1, 1]),
                damage: Some(LogDamage::HeldThrough { index: 4, term: 2 }),
                membership_bound: Some(0),
                ..Recovered::default()
            },
        )
        .expect("valid recovery"),
    );
    node.receive(n(2), grant(2, 3));
    node.receive(n(3), grant(3, 3));
    assert!(node.is_leader_repairing());
    node.receive(
        n(2),
        repair_response(2, 3, (1, 2), (1, 2), 2, RepairOffer::Positions),
    );
    // Two answers of four voters: a quorum of three could still hold an entry past them.
    assert_eq!(
        node.receive(
            n(3),
            repair_response(3, 3, (1, 1), (1, 1), 2, RepairOffer::Positions)
        ),
        vec![]
    );
    assert_eq!(node.last_index(), 2);
    // The third answer makes the nack quorum: the no-op follows.
    node.receive(
        n(4),
        repair_response(4, 3, (1, 2), (1, 2), 2, RepairOffer::Positions),
    );
    assert_eq!(node.last_index(), 3);
    assert!(!node.is_leader_repairing());
}

#[test]
fn donor_entries_from_the_leaders_snapshot_index_are_not_taken() {
    let mut node = fetching_leader_after_a_snapshot();
    let entries = vec![entry(1, 2), entry(2, 3)];
    assert_eq!(
        node.receive(
            n(2),
            repair_response(2, 3, (2, 4), (2, 4), 2, RepairOffer::Entries(entries))
        ),
        vec![]
    );
    assert_eq!(node.last_index(), 2);
}

#[test]
fn target_is_the_highest_index_a_quorum_of_holders_answers_for() {
    // n2 and n3 both answer for (2, 5), past the 4 this node held: a quorum may hold index 5,
    // so the target is (2, 5), not this node's 4.
    let mut node = leader_answered_by([((2, 5), (1, 2)), ((2, 5), (2, 5))]);
    let entries = vec![entry(2, 3), entry(2, 4)];
    assert_eq!(
        node.receive(
            n(2),
            repair_response(
                2,
                3,
                (2, 5),
                (2, 5),
                2,
                RepairOffer::Entries(entries.clone())
            )
        ),
        vec![
            persist(2, None, Some(write(2, 1, entries))),
            send(2, repair_request(3, 4, 2, true)),
        ]
    );
    node.persisted(PersistId(2)).unwrap();
    assert!(node.is_leader_repairing(), "index 5 is not fetched yet");
}
