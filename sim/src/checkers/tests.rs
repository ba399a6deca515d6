use super::masks::{fmt_mask, majorities_can_be_disjoint};
use super::*;
use raft_core::EntryKind;
use raft_core::{Entry, LogWrite, Message};

fn entry(term: u64, index: u64, data: &str) -> Entry {
    Entry {
        term,
        index,
        kind: EntryKind::Normal,
        data: data.as_bytes().to_vec().into(),
    }
}

#[test]
fn two_leaders_in_one_term_violate_election_safety() {
    let mut c = Checkers::new(3);
    c.on_role(1, 0, Role::Leader, 5);
    c.on_role(2, 0, Role::Leader, 5);
    assert!(!c.violated());
    c.on_role(3, 1, Role::Leader, 5);
    assert_eq!(
        c.first_violation.unwrap().property,
        Property::ElectionSafety
    );
}

#[test]
fn same_index_and_term_with_different_prefix_violates_log_matching() {
    let mut c = Checkers::new(3);
    let w = |entries: Vec<Entry>| LogWrite {
        prev_index: 0,
        prev_term: 0,
        entries,
    };
    c.on_log_write(1, 0, &w(vec![entry(1, 1, "a"), entry(2, 2, "x")]));
    c.on_log_write(1, 1, &w(vec![entry(1, 1, "b"), entry(2, 2, "x")]));
    assert_eq!(c.first_violation.unwrap().property, Property::LogMatching);
}

#[test]
fn different_entries_applied_at_one_index_violate_state_machine_safety() {
    let mut c = Checkers::new(1);
    let log = LogWrite {
        prev_index: 0,
        prev_term: 0,
        entries: vec![entry(1, 1, "a")],
    };
    c.on_log_write(1, 0, &log);
    c.on_durable(1, 0, None, Some(&log));
    c.on_committed(2, 0, &[entry(1, 1, "a")]);
    assert!(!c.violated());
    c.on_committed(3, 0, &[entry(1, 1, "b")]);
    assert_eq!(
        c.first_violation.unwrap().property,
        Property::StateMachineSafety
    );
}

#[test]
fn committed_entry_missing_from_durable_quorum_is_caught() {
    let mut c = Checkers::new(3);
    let log = LogWrite {
        prev_index: 0,
        prev_term: 0,
        entries: vec![entry(1, 1, "a")],
    };
    c.on_log_write(1, 0, &log);
    c.on_durable(1, 0, None, Some(&log));
    c.on_committed(2, 0, &log.entries);
    assert_eq!(
        c.first_violation.unwrap().property,
        Property::CommittedDurableOnQuorum
    );
}

/// One entry durable on nodes 0 and 1 of five, committed by a leader whose voters are
/// `voters`: the verdict of committed-durable-on-quorum.
fn durable_on_two_of_five_committed_with(voters: u64) -> Option<Property> {
    let mut c = Checkers::new(5);
    for node in [0, 1] {
        write_durable(&mut c, node, 0, vec![entry(1, 1, "a")]);
    }
    c.on_leader_commit(0, 1, voters);
    c.on_committed(2, 0, &[entry(1, 1, "a")]);
    c.first_violation.map(|v| v.property)
}

#[test]
fn committed_durable_counts_the_voters_of_the_committing_leader() {
    // {n0,n1,n2}: two of three is a quorum, though two of all five nodes is not.
    assert_eq!(durable_on_two_of_five_committed_with(0b00111), None);
    // {n0,n1,n2,n3}: two of four is not.
    assert_eq!(
        durable_on_two_of_five_committed_with(0b01111),
        Some(Property::CommittedDurableOnQuorum)
    );
    // {n2,n3,n4}: the holders are not voters at all.
    assert_eq!(
        durable_on_two_of_five_committed_with(0b11100),
        Some(Property::CommittedDurableOnQuorum)
    );
}

/// A durable vote in `term` for `node`.
fn vote(term: u64, node: u64) -> HardState {
    HardState {
        term,
        vote: Some(NodeId(node)),
    }
}

/// `node` writes `entries` after index `prev` (of term 1), in memory and durably.
fn write_durable(c: &mut Checkers, node: usize, prev: u64, entries: Vec<Entry>) {
    let log = LogWrite {
        prev_index: prev,
        prev_term: if prev == 0 { 0 } else { 1 },
        entries,
    };
    c.on_log_write(1, node, &log);
    c.on_durable(1, node, None, Some(&log));
}

/// Raft's Figure 8 (c) in three nodes: n0 holds index 2 of term 2, n2 an index 2 of
/// term 3; n1 gets n0's entry. Index 2 becomes committed (applied by n0), with or
/// without n0's own-term entry at index 3 on a majority.
fn figure_8_commit(own_term_entry_on_majority: bool) -> Option<Property> {
    let mut c = Checkers::new(3);
    for node in 0..3 {
        write_durable(&mut c, node, 0, vec![entry(1, 1, "a")]);
    }
    write_durable(&mut c, 0, 1, vec![entry(2, 2, "old")]);
    write_durable(&mut c, 1, 1, vec![entry(2, 2, "old")]);
    write_durable(&mut c, 2, 1, vec![entry(3, 2, "rival")]);
    if own_term_entry_on_majority {
        write_durable(&mut c, 0, 2, vec![entry(4, 3, "noop")]);
        write_durable(&mut c, 1, 2, vec![entry(4, 3, "noop")]);
    }
    c.on_leader_commit(0, 2, 0b111);
    c.on_committed(2, 0, &[entry(1, 1, "a"), entry(2, 2, "old")]);
    c.first_violation.map(|v| v.property)
}

#[test]
fn commit_of_an_earlier_term_entry_by_counting_is_not_guarded_by_votes() {
    // n2's log (last term 3) beats n1's (last term 2): n2 and n1 make a majority.
    assert_eq!(figure_8_commit(false), Some(Property::CommitGuardedByVotes));
    // With the leader's term-4 entry on n0 and n1, both refuse n2.
    assert_eq!(figure_8_commit(true), None);
}

#[test]
fn second_vote_in_a_term_is_caught_across_restarts() {
    let mut c = Checkers::new(3);
    c.on_durable(
        1,
        0,
        Some(HardState {
            term: 2,
            vote: Some(NodeId(1)),
        }),
        None,
    );
    c.on_recovered(
        2,
        0,
        HardState {
            term: 2,
            vote: None,
        },
        &[],
        None,
        false,
    );
    let grant = Message::VoteResponse(raft_core::VoteResponse {
        term: 2,
        peer: NodeId(0),
        granted: true,
        empty_log: true,
    });
    c.on_send(3, 0, NodeId(0), NodeId(2), &grant);
    let v = c.first_violation.unwrap();
    assert!(matches!(
        v.property,
        Property::PersistBeforeSend | Property::OneVotePerTerm
    ));
}

#[test]
fn recovered_term_below_durable_term_is_caught() {
    let mut c = Checkers::new(3);
    c.on_durable(
        1,
        0,
        Some(HardState {
            term: 4,
            vote: None,
        }),
        None,
    );
    c.on_recovered(
        2,
        0,
        HardState {
            term: 3,
            vote: None,
        },
        &[],
        None,
        false,
    );
    assert_eq!(c.first_violation.unwrap().property, Property::TermMonotonic);
}

/// Brute force: every pair of subsets, each a majority of its own voters.
fn naive_disjoint_majorities(a: u64, b: u64) -> bool {
    let submasks = |mask: u64| (0..=mask).filter(move |s| s & !mask == 0);
    let majority = |s: u64, of: u64| s.count_ones() > of.count_ones() / 2;
    submasks(a)
        .filter(|&qa| majority(qa, a))
        .any(|qa| submasks(b).any(|qb| majority(qb, b) && qa & qb == 0))
}

#[test]
fn majorities_can_be_disjoint_agrees_with_brute_force_over_six_nodes() {
    for a in 1..64u64 {
        for b in 1..64u64 {
            assert_eq!(
                majorities_can_be_disjoint(a, b),
                naive_disjoint_majorities(a, b),
                "{} and {}",
                fmt_mask(a),
                fmt_mask(b)
            );
        }
    }
}

#[test]
fn single_server_changes_keep_majorities_overlapping_and_two_from_an_even_size_do_not() {
    for voters in [0b111u64, 0b1111, 0b11111, 0b111111] {
        for node in 0..7 {
            let changed = voters ^ (1 << node);
            if changed != 0 {
                assert!(!majorities_can_be_disjoint(voters, changed));
            }
        }
    }
    // Two different removals, or an addition and a removal, from four voters.
    assert!(majorities_can_be_disjoint(0b0111, 0b1110));
    assert!(majorities_can_be_disjoint(0b11111, 0b1110));
    // The same from five voters overlap.
    assert!(!majorities_can_be_disjoint(0b01111, 0b11110));
    assert!(!majorities_can_be_disjoint(0b111111, 0b11110));
}

/// Ongaro's schedule in four voters {n0..n3}, all holding entry 1 of term 1: n0, leader
/// of term 1, appended the removal of n3 (entry 2) and nobody else got it; n1 wins term
/// 2, appends its no-op (entry 2) and then the removal of n0. The verdict of
/// configuration overlap at that append, with the no-op durable on `noop_holders` too.
fn ongaro_change_after_failover(noop_holders: &[usize]) -> Option<Property> {
    let mut c = Checkers::new(4);
    for node in 0..4 {
        write_durable(&mut c, node, 0, vec![entry(1, 1, "a")]);
        c.on_voters(1, node, 0b1111, None);
    }
    write_durable(&mut c, 0, 1, vec![entry(1, 2, "remove n3")]);
    c.on_voters(2, 0, 0b0111, None);
    for voter in [1, 2, 3] {
        c.on_durable(3, voter, Some(vote(2, 1)), None);
    }
    c.on_role(3, 1, Role::Leader, 2);
    assert!(!c.violated(), "elected by n1, n2 and n3");
    for &node in [1].iter().chain(noop_holders) {
        write_durable(&mut c, node, 1, vec![entry(2, 2, "noop")]);
    }
    c.on_voters(4, 1, 0b1111, Some(2));
    assert!(!c.violated(), "the no-op changes no voters");
    if noop_holders.len() >= 2 {
        c.on_leader_commit(1, 2, 0b1111);
    }
    c.on_voters(5, 1, 0b1110, Some(2));
    c.first_violation.map(|v| v.property)
}

/// n1 leads term 2 of {n0..n3} and removes n0, its commit index at entry `commit` (entry 1
/// of term 1, entry 2 its no-op); the verdict of the checkers at the change.
fn removal_by_a_leader_whose_commit_index_is(commit: u64) -> Option<Property> {
    let mut c = Checkers::new(4);
    for node in 0..4 {
        write_durable(&mut c, node, 0, vec![entry(1, 1, "a"), entry(2, 2, "noop")]);
        c.on_voters(1, node, 0b1111, None);
    }
    for voter in [1, 2, 3] {
        c.on_durable(2, voter, Some(vote(2, 1)), None);
    }
    c.on_role(2, 1, Role::Leader, 2);
    c.on_voters(3, 1, 0b1111, Some(2));
    c.on_leader_commit(1, commit, 0b1111);
    c.on_voters(4, 1, 0b1110, Some(2));
    c.first_violation.map(|v| v.property)
}

#[test]
fn a_change_before_the_leader_s_no_op_commits_violates_membership_change_after_own_term_commit() {
    assert_eq!(
        removal_by_a_leader_whose_commit_index_is(1),
        Some(Property::MembershipChangeAfterOwnTermCommit)
    );
}

#[test]
fn a_change_once_the_leader_s_no_op_committed_passes() {
    assert_eq!(removal_by_a_leader_whose_commit_index_is(2), None);
}

#[test]
fn change_before_the_own_term_entry_is_on_a_majority_can_leave_two_electable_configurations() {
    // n0 could still win {n0,n1,n2} with n2, whose log is no newer than its own.
    assert_eq!(
        ongaro_change_after_failover(&[]),
        Some(Property::ConfigurationOverlap)
    );
    assert_eq!(
        ongaro_change_after_failover(&[3]),
        Some(Property::ConfigurationOverlap)
    );
    // With the no-op durable on n2 and n3 (committed, as correct Raft waits for) n0 can win
    // nobody's vote.
    assert_eq!(ongaro_change_after_failover(&[2, 3]), None);
}

/// n0 wins term 3 in five voters (or in `voters`) with the durable votes of `voters_for_it`.
fn win_with_votes(voters: u64, voters_for_it: &[usize]) -> Option<Property> {
    let mut c = Checkers::new(5);
    for node in 0..5 {
        c.on_voters(1, node, voters, None);
    }
    for &voter in voters_for_it {
        c.on_durable(1, voter, Some(vote(3, 0)), None);
    }
    c.on_role(2, 0, Role::Leader, 3);
    c.first_violation.map(|v| v.property)
}

#[test]
fn leader_with_the_votes_of_a_quorum_is_elected_by_quorum() {
    assert_eq!(win_with_votes(0b11111, &[0, 1, 2]), None);
    // Without its own vote, when it is not a voter (removed by an uncommitted change).
    assert_eq!(win_with_votes(0b11110, &[1, 2, 3]), None);
}

#[test]
fn leader_short_of_a_quorum_of_votes_violates_elected_by_quorum() {
    // Two votes of five: what a candidate counting one grant twice believes is three.
    assert_eq!(
        win_with_votes(0b11111, &[0, 1]),
        Some(Property::ElectedByQuorum)
    );
    // Three votes, but n4's is not a voter's: two of the four voters.
    assert_eq!(
        win_with_votes(0b01111, &[0, 1, 4]),
        Some(Property::ElectedByQuorum)
    );
}

#[test]
fn a_vote_for_another_candidate_or_term_does_not_count() {
    let mut c = Checkers::new(3);
    for node in 0..3 {
        c.on_voters(1, node, 0b111, None);
    }
    c.on_durable(1, 0, Some(vote(3, 0)), None);
    c.on_durable(1, 1, Some(vote(2, 0)), None);
    c.on_durable(1, 2, Some(vote(3, 2)), None);
    c.on_role(2, 0, Role::Leader, 3);
    assert_eq!(
        c.first_violation.map(|v| v.property),
        Some(Property::ElectedByQuorum)
    );
}

/// n0 leads term 2 with log 1:a 2:b; n1 holds 1:a and a stale 2:x of term 1, and answers an
/// append of term 2 with an acknowledgement of `index`.
fn acknowledgement_of(index: u64) -> Option<Property> {
    let mut c = Checkers::new(3);
    for node in 0..3 {
        c.on_durable(1, node, Some(vote(2, 0)), None);
    }
    write_durable(&mut c, 0, 0, vec![entry(1, 1, "a"), entry(2, 2, "b")]);
    write_durable(&mut c, 1, 0, vec![entry(1, 1, "a"), entry(1, 2, "x")]);
    c.on_role(2, 0, Role::Leader, 2);
    assert!(!c.violated());
    let ack = Message::AppendResponse(raft_core::AppendResponse {
        term: 2,
        index,
        peer: NodeId(1),
        success: true,
    });
    c.on_send(3, 1, NodeId(1), NodeId(0), &ack);
    c.first_violation.map(|v| v.property)
}

#[test]
fn acknowledgement_of_what_the_append_verified_matches_the_leader() {
    assert_eq!(acknowledgement_of(1), None);
}

#[test]
fn acknowledgement_of_a_stale_suffix_violates_ack_matches_leader() {
    assert_eq!(acknowledgement_of(2), Some(Property::AckMatchesLeader));
}

fn membership_entry(term: u64, index: u64, voters: &[u64]) -> Entry {
    let peers = raft_core::PeerState {
        cluster_size: voters.len() as u32,
        peers: voters.iter().copied().map(NodeId).collect(),
        ..Default::default()
    };
    Entry {
        term,
        index,
        kind: EntryKind::PeerState,
        data: raft_core::codec::encode_peer_state(&peers).into(),
    }
}

/// A node whose snapshot holds voters {0, 1, 2}, whose log holds a change to {0, 1, 2, 3}
/// when `log_has_change`, and which counts with voters {0, 1, 2, 3}.
fn membership_check(log_has_change: bool) -> Option<Property> {
    let mut c = Checkers::new(4);
    let snapshot = raft_core::PeerState {
        cluster_size: 3,
        peers: vec![NodeId(0), NodeId(1), NodeId(2)],
        ..Default::default()
    };
    let log: Vec<Entry> = if log_has_change {
        vec![membership_entry(2, 6, &[0, 1, 2, 3])]
    } else {
        vec![entry(2, 6, "a")]
    };
    let current = raft_core::Membership::with_voters((0..4).map(NodeId));
    c.check_membership_from_log(1, 0, &snapshot, &log, &current);
    c.first_violation.map(|v| v.property)
}

#[test]
fn membership_implied_by_the_snapshot_and_log_passes() {
    assert_eq!(membership_check(true), None);
}

#[test]
fn membership_no_log_implies_violates_membership_from_log() {
    assert_eq!(membership_check(false), Some(Property::MembershipFromLog));
}

#[test]
fn commit_or_applied_index_going_back_in_a_lifetime_violates_monotonic_progress() {
    let mut c = Checkers::new(1);
    c.check_progress(1, 0, 5, 4);
    c.check_progress(2, 0, 6, 6);
    assert!(!c.violated());
    c.check_progress(3, 0, 6, 5);
    assert_eq!(
        c.first_violation.unwrap().property,
        Property::MonotonicProgress
    );
}

#[test]
fn a_restart_starts_a_new_lifetime_but_not_below_the_durable_snapshot() {
    let mut c = Checkers::new(1);
    c.check_progress(1, 0, 9, 9);
    c.on_durable_snapshot(0, 7);
    c.on_progress_crash(0);
    c.check_restart_progress(2, 0, 7);
    c.check_progress(3, 0, 7, 7);
    assert!(
        !c.violated(),
        "back to the durable snapshot is a restart, not a rollback"
    );
    c.on_progress_crash(0);
    c.check_restart_progress(4, 0, 3);
    assert_eq!(
        c.first_violation.unwrap().property,
        Property::MonotonicProgress
    );
}

/// Three voters, where n0 leads under a rescued quorum of one (rescued when its group was
/// larger and lost a majority; the rescue lasts while a majority of {n0,n1,n2} is more than
/// one). It commits index 2 alone.
fn commit_by_a_rescued_leader_alone() -> Option<Property> {
    let mut c = Checkers::new(3);
    for node in 0..3 {
        write_durable(&mut c, node, 0, vec![entry(1, 1, "a")]);
        c.on_voters(1, node, 0b111, None);
    }
    c.on_rescue_state(1, 0, Some(1));
    c.on_durable(2, 0, Some(vote(2, 0)), None);
    c.on_role(2, 0, Role::Leader, 2);
    write_durable(&mut c, 0, 1, vec![entry(2, 2, "b")]);
    c.on_leader_commit(0, 2, 0b111);
    c.on_committed(4, 0, &[entry(1, 1, "a"), entry(2, 2, "b")]);
    c.first_violation.map(|v| v.property)
}

#[test]
fn an_index_a_rescued_leader_commits_alone_is_not_guarded_by_votes() {
    // n1 and n2 lack it and could elect n1: what the operator's rescue trades.
    assert_eq!(commit_by_a_rescued_leader_alone(), None);
}

#[test]
fn a_rescued_node_that_lacks_an_index_a_majority_committed_is_no_candidate_of_the_guard() {
    // n0's rescue of one is still in effect while n1 leads {n0,n1,n2}; n1 and n2 commit
    // index 2 without n0. n0 could win alone: a given-up commit, not an unguarded one.
    let mut c = Checkers::new(3);
    for node in 0..3 {
        write_durable(&mut c, node, 0, vec![entry(1, 1, "a")]);
        c.on_voters(1, node, 0b111, None);
    }
    c.on_rescue_state(1, 0, Some(1));
    for node in [1, 2] {
        c.on_durable(2, node, Some(vote(2, 1)), None);
    }
    c.on_role(2, 1, Role::Leader, 2);
    for node in [1, 2] {
        write_durable(&mut c, node, 1, vec![entry(2, 2, "b")]);
    }
    c.on_leader_commit(1, 2, 0b111);
    c.on_committed(4, 1, &[entry(1, 1, "a"), entry(2, 2, "b")]);
    assert_eq!(c.first_violation.map(|v| v.property), None);
}

#[test]
fn an_acknowledgement_past_an_entry_of_a_reused_term_is_not_judged_against_the_leader() {
    // n2 led term 2 and is lost for good; n0 holds its entry at index 2. The rescued n1 wins
    // term 2 again, appends another entry at index 2 of term 2, and leads term 3: n0's
    // acknowledgement of index 2 matches by index and term alone, which the rescue trades.
    let mut c = Checkers::new(3);
    for node in 0..3 {
        write_durable(&mut c, node, 0, vec![entry(1, 1, "a")]);
        c.on_voters(1, node, 0b111, None);
    }
    for node in [0, 2] {
        c.on_durable(1, node, Some(vote(2, 2)), None);
    }
    c.on_role(1, 2, Role::Leader, 2);
    for node in [0, 2] {
        write_durable(&mut c, node, 1, vec![entry(2, 2, "lost")]);
    }
    c.on_lost(2);
    c.on_rescue_state(1, 1, Some(1));
    c.on_durable(2, 1, Some(vote(2, 1)), None);
    c.on_role(2, 1, Role::Leader, 2);
    write_durable(&mut c, 1, 1, vec![entry(2, 2, "rescued")]);
    c.on_durable(3, 1, Some(vote(3, 1)), None);
    c.on_role(3, 1, Role::Leader, 3);
    c.on_durable(3, 0, Some(vote(3, 1)), None);
    let ack = Message::AppendResponse(raft_core::AppendResponse {
        term: 3,
        index: 2,
        peer: NodeId(0),
        success: true,
    });
    c.on_send(4, 0, NodeId(0), NodeId(1), &ack);
    assert_eq!(c.first_violation.map(|v| v.property), None);
}

/// n0 of {n0..n4} is rescued at a quorum of two; its membership shrinks to {n0,n1,n2}
/// (a majority is two: the rescue has ended), then grows back to five voters while n0
/// still reports `rescued`.
fn rescue_reported_through_shrink_and_growth(rescued: Option<usize>) -> Option<Property> {
    let mut c = Checkers::new(5);
    c.on_voters(1, 0, 0b11111, None);
    c.on_rescue_state(1, 0, Some(2));
    c.on_voters(2, 0, 0b00111, None);
    c.on_rescue_state(2, 0, Some(2).filter(|_| rescued.is_some()));
    c.on_voters(3, 0, 0b11111, None);
    c.on_rescue_state(3, 0, rescued);
    c.first_violation.map(|v| v.property)
}

#[test]
fn a_rescue_kept_after_the_natural_quorum_returned_violates_rescue_ends_at_natural_quorum() {
    assert_eq!(
        rescue_reported_through_shrink_and_growth(Some(2)),
        Some(Property::RescueEndsAtNaturalQuorum)
    );
}

#[test]
fn a_rescue_reported_once_a_majority_is_down_to_it_violates_rescue_ends_at_natural_quorum() {
    let mut c = Checkers::new(5);
    c.on_voters(1, 0, 0b11111, None);
    c.on_rescue_state(1, 0, Some(2));
    c.on_voters(2, 0, 0b00111, None);
    c.on_rescue_state(2, 0, Some(2));
    let v = c.first_violation.expect("the rescue outlived the shrink");
    assert_eq!(
        (v.property, v.time, v.node),
        (Property::RescueEndsAtNaturalQuorum, 2, Some(0))
    );
}

#[test]
fn a_rescue_ended_at_the_natural_quorum_passes() {
    assert_eq!(rescue_reported_through_shrink_and_growth(None), None);
}

#[test]
fn a_rescue_in_effect_while_a_majority_is_above_it_passes() {
    let mut c = Checkers::new(5);
    c.on_voters(1, 0, 0b11111, None);
    c.on_rescue_state(1, 0, Some(2));
    c.on_voters(2, 0, 0b01111, None);
    c.on_rescue_state(2, 0, Some(2));
    assert_eq!(c.first_violation.map(|v| v.property), None);
}
