//! The bounded log cache (`Config::log_cache_bytes`): payloads of entries that are durable
//! and applied leave memory past the bound, and a leader reads them back from its host's
//! log before it sends them (to followers, and a donor to a repairing leader); a read that
//! failed sends nothing built on it.

use crate::leader_repair::repair_response;
use crate::support::*;
use raft_core::{Action, ContractError, Entry, Node, RepairOffer};

fn read_log(from: u64, to: u64) -> Action {
    Action::ReadLog { from, to }
}

/// A ready leader of term 2 over `[1, 1, 1]` plus its no-op at 4, with a cache bound of
/// `bytes`, everything committed and reported applied.
fn applied_leader(bytes: usize) -> Node {
    let mut config = config(THREE, SEED);
    config.log_cache_bytes = Some(bytes);
    let mut node = ready_leader_with(config, 2, &[1, 1, 1]);
    assert_eq!(node.applied(4), Ok(vec![]));
    node
}

fn noop4() -> Entry {
    noop(2, 4, THREE)
}

#[test]
fn payloads_of_durable_applied_entries_past_the_cache_bound_leave_memory() {
    let mut config = config(THREE, SEED);
    config.log_cache_bytes = Some(3);
    let mut node = ready_leader_with(config, 2, &[1, 1, 1]);
    let held = node.cached_payload_bytes();
    assert_eq!(
        held,
        9 + noop4().data.len(),
        "nothing applied: nothing leaves"
    );

    assert_eq!(node.applied(2), Ok(vec![]));
    assert_eq!(
        node.cached_payload_bytes(),
        held - 6,
        "applied entries only"
    );
    assert_eq!(node.payloads_evicted_through(), 2);
    assert_eq!(node.entry(2).map(|e| (e.term, e.data.len())), Some((1, 0)));
    assert_eq!(node.entry(3), Some(&entry(1, 3)));
    assert_eq!(node.applied(4), Ok(vec![]));
    assert_eq!(
        node.entry(4),
        Some(&noop4()),
        "a peer state keeps its payload: the membership is read from it"
    );
}

#[test]
fn a_leader_reads_evicted_payloads_back_before_it_sends_them() {
    let mut node = applied_leader(0);
    assert_eq!(node.receive(n(2), nack(2, 2, 0)), vec![read_log(1, 4)]);
}

#[test]
fn a_log_read_sends_what_followers_miss_with_the_payloads_read_back() {
    let mut node = applied_leader(0);
    node.receive(n(2), nack(2, 2, 0));
    let read = vec![entry(1, 1), entry(1, 2), entry(1, 3), noop4()];
    assert_eq!(
        node.log_read(1, read),
        Ok(vec![send(2, append(ME, 2, 0, 0, log(&[1, 1, 1]), 4))])
    );
}

#[test]
fn a_failed_log_read_sends_nothing_and_the_next_heartbeat_reads_again() {
    let mut node = applied_leader(0);
    node.receive(n(2), nack(2, 2, 0));
    assert_eq!(node.log_read_failed(1), Ok(vec![]));
    let mut actions = Vec::new();
    for _ in 0..3 {
        actions.extend(node.tick());
    }
    assert_eq!(
        actions,
        vec![read_log(1, 4), send(3, append(ME, 2, 4, 2, vec![], 4))]
    );
}

#[test]
fn a_log_read_answer_that_does_not_match_the_log_sends_nothing() {
    let mut node = applied_leader(0);
    node.receive(n(2), nack(2, 2, 0));
    let other_history = vec![entry(1, 1), entry(2, 2)];
    assert_eq!(
        node.log_read(1, other_history),
        Ok(vec![send(2, append(ME, 2, 0, 0, log(&[1]), 4))])
    );
}

#[test]
fn a_log_read_answer_nobody_asked_for_is_a_contract_error() {
    let mut node = applied_leader(0);
    assert_eq!(
        node.log_read(1, vec![entry(1, 1)]),
        Err(ContractError::UnexpectedLogRead {
            from: 1,
            asked: None
        })
    );
    node.receive(n(2), nack(2, 2, 0));
    assert_eq!(
        node.log_read_failed(2),
        Err(ContractError::UnexpectedLogRead {
            from: 2,
            asked: Some((1, 4))
        })
    );
}

#[test]
fn entries_handed_out_again_whose_payloads_left_memory_are_read_back_before_they_are_applied() {
    let mut node = applied_leader(0);
    node.install_snapshot(2, bytes::Bytes::from_static(b"state at 2"))
        .expect("applied");
    let replay = node.drain_and_replay_snapshot().expect("a snapshot");
    assert!(
        matches!(replay.last(), Some(Action::ApplySnapshot { .. })),
        "{replay:?}"
    );
    node.applied(2).expect("the snapshot is applied");
    assert_eq!(node.resume_apply(), vec![read_log(3, 4)]);
    assert_eq!(
        node.log_read(3, vec![entry(1, 3), noop4()]),
        Ok(vec![apply(vec![entry(1, 3), noop4()])])
    );
}

#[test]
fn a_leader_reads_back_at_most_a_messages_worth_of_evicted_payloads() {
    let mut config = config(THREE, SEED);
    config.log_cache_bytes = Some(0);
    config.max_entries_per_message = 2;
    let mut node = ready_leader_with(config, 2, &[1, 1, 1]);
    assert_eq!(node.applied(4), Ok(vec![]));
    assert_eq!(node.receive(n(2), nack(2, 2, 0)), vec![read_log(1, 2)]);
}

#[test]
fn payloads_read_back_count_in_the_cached_bytes_with_the_logs() {
    let mut node = applied_leader(0);
    let in_log = node.cached_payload_bytes();
    assert_eq!(in_log, noop4().data.len(), "only the peer state stays");
    node.receive(n(2), nack(2, 2, 0));
    let read = vec![entry(1, 1), entry(1, 2), entry(1, 3), noop4()];
    let read_bytes: usize = read.iter().map(|e| e.data.len()).sum();
    node.log_read(1, read).expect("asked for");
    assert_eq!(node.cached_payload_bytes(), in_log + read_bytes);
}

#[test]
fn committed_entries_whose_read_back_failed_are_asked_for_again_at_the_next_tick() {
    let mut node = applied_leader(0);
    node.install_snapshot(2, bytes::Bytes::from_static(b"state at 2"))
        .expect("applied");
    node.drain_and_replay_snapshot().expect("a snapshot");
    node.applied(2).expect("the snapshot is applied");
    assert_eq!(node.resume_apply(), vec![read_log(3, 4)]);
    assert_eq!(node.log_read_failed(3), Ok(vec![]));
    assert_eq!(node.tick(), vec![read_log(3, 4)]);
    assert_eq!(
        node.log_read(3, vec![entry(1, 3), noop4()]),
        Ok(vec![apply(vec![entry(1, 3), noop4()])])
    );
}

#[test]
fn a_log_read_answer_that_does_not_start_at_the_asked_index_is_ignored() {
    let mut node = applied_leader(0);
    assert_eq!(node.receive(n(2), nack(2, 2, 1)), vec![read_log(2, 4)]);
    assert_eq!(node.receive(n(3), nack(3, 2, 2)), vec![]);

    // Asked from 2, answered from 3: n3, which needs 3 on, is sent nothing built on it.
    assert_eq!(
        node.log_read(2, vec![entry(1, 3), noop4()]),
        Ok(vec![read_log(2, 4)])
    );
}

#[test]
fn a_payload_read_back_for_an_entry_since_replaced_is_not_used() {
    let mut node = applied_leader(0);
    node.propose(2, "x").expect("ready leader");
    node.persisted(raft_core::PersistId(3)).expect("issued");
    node.receive(n(2), nack(2, 2, 0));
    // A host answering past what was asked (1..=4) adds the uncommitted entry 5 of term 2,
    // which matches the log when the answer arrives.
    let term_2_entry_5 = Entry::normal(2, 5, "x");
    let mut read = vec![entry(1, 1), entry(1, 2), entry(1, 3), noop4()];
    read.push(term_2_entry_5);
    node.log_read(1, read).expect("asked for");

    // The leader of term 3 replaces entry 5 and commits it; it is applied and leaves memory.
    let replaced = entry(3, 5);
    node.receive(n(3), append(3, 3, 4, 2, vec![replaced.clone()], 5));
    node.persisted(raft_core::PersistId(4)).expect("issued");
    node.applied(5).expect("handed out");
    assert_eq!(node.payloads_evicted_through(), 5);

    // Handed out again, entry 5 is read back, not taken from the answer that held term 2's.
    node.install_snapshot(4, bytes::Bytes::from_static(b"state at 4"))
        .expect("applied");
    node.drain_and_replay_snapshot().expect("a snapshot");
    node.applied(4).expect("the snapshot is applied");
    assert_eq!(node.resume_apply(), vec![read_log(5, 5)]);
}

#[test]
fn a_log_read_answer_is_used_only_up_to_its_first_entry_of_another_term() {
    let mut node = applied_leader(0);
    assert_eq!(node.receive(n(2), nack(2, 2, 1)), vec![read_log(2, 4)]);
    assert_eq!(node.receive(n(3), nack(3, 2, 2)), vec![]);

    // Entry 2 of another term: the entries after it, though they match, are not used
    // either, so n3, which needs 3 on, is sent nothing.
    assert_eq!(
        node.log_read(2, vec![entry(2, 2), entry(1, 3), noop4()]),
        Ok(vec![read_log(2, 4)])
    );
}

/// A follower of n2 in term 2 over `[1, 1, 1]`, everything committed and applied, with a
/// cache bound of 0: the payloads of entries 1 to 3 have left memory.
fn applied_follower() -> Node {
    let mut config = config(THREE, SEED);
    config.log_cache_bytes = Some(0);
    let mut node = follower_of_with(config, 2, 2, &[1, 1, 1]);
    node.receive(n(2), append(2, 2, 3, 1, vec![], 3));
    assert_eq!(node.applied(3), Ok(vec![]));
    assert_eq!(node.payloads_evicted_through(), 3);
    node
}

fn fetch_from_n2(term: u64, after_index: u64, after_term: u64) -> raft_core::Message {
    raft_core::Message::RepairRequest(raft_core::RepairRequest {
        term,
        leader: n(2),
        after_index,
        after_term,
        fetch: true,
    })
}

#[test]
fn a_repair_offer_never_holds_an_entry_whose_payload_left_memory_and_reads_it_back() {
    let mut node = applied_follower();
    let offer = |offer| send(2, repair_response(ME, 2, (1, 3), (1, 3), 1, offer));
    // Entries 2 and 3 are asked for, but their payloads left memory: none is offered, and
    // the host is asked to read them back.
    assert_eq!(
        node.receive(n(2), fetch_from_n2(2, 1, 1)),
        vec![read_log(2, 3), offer(RepairOffer::Positions)]
    );
    assert_eq!(node.log_read(2, vec![entry(1, 2), entry(1, 3)]), Ok(vec![]));
    // The leader asks again (every heartbeat interval): the entries read back are offered.
    assert_eq!(
        node.receive(n(2), fetch_from_n2(2, 1, 1)),
        vec![offer(RepairOffer::Entries(vec![entry(1, 2), entry(1, 3)]))]
    );
}
