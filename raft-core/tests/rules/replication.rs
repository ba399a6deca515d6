//! AppendEntries at a follower: the consistency check, keeping what matches, truncating only
//! a real conflict, the rejection hint, the follower's commit index, and acknowledgements that
//! leave only once durable.

use crate::support::*;
use raft_core::PersistId;

// ----- consistency check on (prev index, prev term) -----------------------------------------

#[test]
fn append_rejected_when_the_previous_index_is_missing() {
    let mut node = follower_of(2, 2, &[1, 1]);

    // Retry from index 3: the follower holds up to 2.
    assert_eq!(
        node.receive(n(2), append(2, 2, 5, 2, vec![entry(2, 6)], 0)),
        vec![send(2, nack(ME, 2, 2))]
    );
    assert_eq!(node.log(), log(&[1, 1]));
}

#[test]
fn append_rejected_when_the_previous_term_differs() {
    let mut node = follower_of(2, 2, &[1, 1, 1]);

    assert_eq!(
        node.receive(n(2), append(2, 2, 3, 2, vec![entry(2, 4)], 0)),
        vec![send(2, nack(ME, 2, 2))]
    );
    assert_eq!(node.log(), log(&[1, 1, 1]), "a rejection truncates nothing");
}

#[test]
fn rejection_hint_skips_a_run_of_conflicting_higher_term_entries() {
    // Indexes 3..=6 hold term 3; the leader's entry at 6 is from term 2, so none of the term-3
    // entries can be on its log: retry from 3, not from 6.
    let mut node = follower_of(2, 4, &[1, 1, 3, 3, 3, 3]);

    assert_eq!(
        node.receive(n(2), append(2, 4, 6, 2, vec![entry(4, 7)], 0)),
        vec![send(2, nack(ME, 4, 2))]
    );
}

#[test]
fn rejection_hint_keeps_an_earlier_entry_of_the_previous_term() {
    // Only entries of a higher term than the leader's at `prev_index` are skipped: index 2
    // holds term 2, as the leader's index 3 does, so it may be on the leader's log.
    let mut node = follower_of(2, 4, &[1, 2, 3]);

    assert_eq!(
        node.receive(n(2), append(2, 4, 3, 2, vec![entry(4, 4)], 0)),
        vec![send(2, nack(ME, 4, 2))]
    );
}

#[test]
fn rejection_hint_never_goes_below_the_commit_index() {
    // Committed entries are on every later leader's log, so the hint stops at the commit
    // index even when the append claims an older term there (a malformed append).
    let mut node = follower_of(2, 4, &[1, 3, 3, 3]);
    assert_eq!(
        node.receive(n(2), append(2, 4, 4, 3, vec![], 2)),
        vec![
            apply(vec![entry(1, 1), entry(3, 2)]),
            send(2, ack(ME, 4, 4))
        ]
    );

    assert_eq!(
        node.receive(n(2), append(2, 4, 4, 1, vec![entry(4, 5)], 2)),
        vec![send(2, nack(ME, 4, 2))]
    );
}

#[test]
fn leader_retries_a_rejected_append_from_the_hint() {
    // The follower's hint says it matches up to index 2: resend from 3, one term per message.
    let mut node = leader(THREE, 3, &[1, 1, 2, 2]);

    assert_eq!(
        node.receive(n(2), nack(2, 3, 2)),
        vec![send(
            2,
            append(ME, 3, 2, 1, vec![entry(2, 3), entry(2, 4)], 0)
        )]
    );
}

#[test]
fn replaced_disk_rejection_below_the_match_index_forgets_the_match_and_probes_from_the_hint() {
    // Every follower acknowledged up to the no-op at 5; then n2 says it holds only up to 2 (its
    // WAL was lost): the leader drops n2's match and resends from 3 at once.
    let mut node = ready_leader(THREE, 3, &[1, 1, 2, 2]);
    assert_eq!(node.match_index(n(2)), Some(5));

    assert_eq!(
        node.receive(n(2), nack(2, 3, 2)),
        vec![send(
            2,
            append(ME, 3, 2, 1, vec![entry(2, 3), entry(2, 4)], 5)
        )]
    );
    assert_eq!(node.match_index(n(2)), Some(0));
    assert_eq!(node.commit_index(), 5, "the commit index never moves back");

    // Its acknowledgement restores the match; the rest follows.
    let noop = node.log()[4].clone();
    assert_eq!(
        node.receive(n(2), ack(2, 3, 4)),
        vec![send(2, append(ME, 3, 4, 2, vec![noop], 5))]
    );
    assert_eq!(node.match_index(n(2)), Some(4));
}

// ----- what matches is kept; only a real conflict truncates ---------------------------------

#[test]
fn stale_append_whose_entries_match_truncates_nothing() {
    // A duplicate of the request that carried entry 4 arrives after 5 was appended.
    let mut node = follower_of(2, 2, &[1, 1, 1, 2, 2]);

    assert_eq!(
        node.receive(n(2), append(2, 2, 3, 1, vec![entry(2, 4)], 0)),
        vec![send(2, ack(ME, 2, 4))]
    );
    assert_eq!(node.log(), log(&[1, 1, 1, 2, 2]));
}

#[test]
fn conflicting_append_truncates_only_the_conflicting_suffix() {
    let mut node = follower_of(2, 4, &[1, 1, 2, 3, 3]);

    // Entry 3 matches and stays; 4 and 5 conflict and are replaced.
    assert_eq!(
        node.receive(
            n(2),
            append(2, 4, 2, 1, vec![entry(2, 3), entry(2, 4), entry(2, 5)], 0)
        ),
        vec![persist(
            1,
            None,
            Some(write(3, 2, vec![entry(2, 4), entry(2, 5)]))
        )]
    );
    assert_eq!(node.log(), log(&[1, 1, 2, 2, 2]));
}

#[test]
fn append_overlapping_the_log_writes_only_the_new_suffix() {
    let mut node = follower_of(2, 2, &[1, 1, 2]);

    assert_eq!(
        node.receive(n(2), append(2, 2, 2, 1, vec![entry(2, 3), entry(2, 4)], 0)),
        vec![persist(1, None, Some(write(3, 2, vec![entry(2, 4)])))]
    );
}

// ----- acknowledgements name what the append verified, and leave only once durable ----------

#[test]
fn acknowledgement_names_the_last_index_the_append_verified_not_the_log_end() {
    // Entries 4 and 5 are a stale suffix of term 2: this heartbeat of term 3 vouches for the
    // log up to 3 only, so that is all the follower may claim (CCF #6001, Ratis #1519).
    let mut node = follower_of(2, 3, &[1, 1, 1, 2, 2]);

    assert_eq!(
        node.receive(n(2), append(2, 3, 3, 1, vec![], 0)),
        vec![send(2, ack(ME, 3, 3))]
    );
    assert_eq!(node.log(), log(&[1, 1, 1, 2, 2]), "nothing conflicted");
}

#[test]
fn append_acknowledgement_is_held_until_the_entries_are_persisted() {
    let mut node = follower_of(2, 2, &[1]);
    assert_eq!(
        node.receive(n(2), append(2, 2, 1, 1, vec![entry(2, 2), entry(2, 3)], 0)),
        vec![persist(
            1,
            None,
            Some(write(1, 1, vec![entry(2, 2), entry(2, 3)]))
        )]
    );

    assert_eq!(
        node.persisted(PersistId(1)).unwrap(),
        vec![send(2, ack(ME, 2, 3))]
    );
}

#[test]
fn duplicated_append_is_acknowledged_only_once_the_original_is_persisted() {
    let mut node = follower_of(2, 2, &[1]);
    let request = append(2, 2, 1, 1, vec![entry(2, 2), entry(2, 3)], 0);
    node.receive(n(2), request.clone());

    // Nothing to write, but the entries it would acknowledge are not durable yet.
    assert_eq!(node.receive(n(2), request), vec![]);

    assert_eq!(
        node.persisted(PersistId(1)).unwrap(),
        vec![send(2, ack(ME, 2, 3)), send(2, ack(ME, 2, 3))]
    );
}

// ----- follower commit = min(leader commit, last index verified by this append) -------------

#[test]
fn follower_commit_is_the_leader_commit_capped_at_the_last_index_this_append_verified() {
    // Entries 6..=8 come from an older term and this heartbeat does not vouch for them.
    let mut node = follower_of(2, 3, &[1, 1, 1, 1, 1, 2, 2, 2]);

    assert_eq!(
        node.receive(n(2), append(2, 3, 5, 1, vec![], 10)),
        vec![apply(log(&[1, 1, 1, 1, 1])), send(2, ack(ME, 3, 5))]
    );
    assert_eq!(node.commit_index(), 5);
}

#[test]
fn follower_commit_does_not_move_back_on_an_older_leader_commit() {
    let mut node = follower_of(2, 3, &[1, 1, 1, 1, 1]);
    node.receive(n(2), append(2, 3, 5, 1, vec![], 4));

    // A delayed heartbeat from before the leader learnt of index 4.
    assert_eq!(
        node.receive(n(2), append(2, 3, 5, 1, vec![], 2)),
        vec![send(2, ack(ME, 3, 5))]
    );
    assert_eq!(node.commit_index(), 4);
}

#[test]
fn malformed_append_is_ignored() {
    let mut node = follower_of(2, 2, &[1, 2]);
    let malformed = [
        // The first entry's term is below the previous entry's.
        append(2, 2, 2, 2, vec![entry(1, 3)], 0),
        // An entry's term is above the leader's.
        append(2, 2, 2, 2, vec![entry(3, 3)], 0),
        // The entries do not follow the previous index.
        append(2, 2, 2, 2, vec![entry(2, 4)], 0),
        append(2, 2, 2, 2, vec![entry(2, 3), entry(2, 5)], 0),
        // The entries are not all of one term.
        append(2, 2, 2, 2, vec![entry(2, 3), entry(1, 4)], 0),
    ];

    for message in malformed {
        assert_eq!(node.receive(n(2), message.clone()), vec![], "{message:?}");
    }
    assert_eq!(node.log(), log(&[1, 2]));
}

#[test]
fn truncating_a_conflict_makes_the_cut_entries_no_longer_durable() {
    let mut node = follower_of(2, 2, &[1, 1, 1]);
    assert_eq!(node.durable_index(), 3);

    assert_eq!(
        node.receive(n(2), append(2, 2, 1, 1, vec![entry(2, 2)], 0)),
        vec![persist(1, None, Some(write(1, 1, vec![entry(2, 2)])))]
    );
    assert_eq!(
        node.durable_index(),
        1,
        "only what precedes the cut stays durable"
    );

    node.persisted(PersistId(1)).unwrap();
    assert_eq!(node.durable_index(), 2);
}
