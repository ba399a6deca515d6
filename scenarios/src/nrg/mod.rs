//! Ports of the NATS server's raft tests (`server/raft_test.go`), one scenario per test,
//! named after it (`TestNRGFooBar` is `nrg_foo_bar`). Each description says what it checks;
//! where our design differs from NRG (no catch-up sub-protocol, PreVote and CheckQuorum,
//! membership as whole peer-state entries, ...), the scenario checks the behaviour the test
//! protects, and the description says so ("design:"). NRG has neither PreVote nor
//! CheckQuorum, so most ports run with both off
//! ([`Script::cluster_with_leader`](crate::Script::cluster_with_leader),
//! [`Setup::classic`](crate::Setup::classic)); the ports of features only we have turn them
//! on.
//!
//! The scenarios live in one file per theme: `elections.rs`, `replication.rs` (and
//! catch-up), `snapshots.rs`, `membership.rs`, `transfer.rs`, `proposals.rs` (and health),
//! `recovery.rs` (crashes and restarts), `rescue.rs` (rescue quorum), `forwarding.rs`
//! (forwarded proposals and removals, and the leader's answer), `peers.rs` (peer tracking),
//! `managed.rs` (managed and unmanaged groups, evicting peers, a new node's votes). The table below registers them all in one list, whose
//! order is the order of `all()` and of `cargo xtask scenario --list`; a new port goes into its
//! theme's file and into this table.

mod elections;
mod forwarding;
mod managed;
mod membership;
mod peers;
mod proposals;
mod recovery;
mod replication;
mod rescue;
mod snapshots;
mod transfer;

use elections::*;
use forwarding::*;
use managed::*;
use membership::*;
use peers::*;
use proposals::*;
use recovery::*;
use replication::*;
use rescue::*;
use snapshots::*;
use transfer::*;

crate::scenarios!(
    "nrg",
    "nrg_",
    [
        (simple, "Three nodes elect a leader; values proposed at the leader and forwarded from followers are applied everywhere"),
        (snapshot_and_restart, "Leader and a follower snapshot mid-stream; a stopped follower restarts and converges"),
        (recover_from_following_no_leader, "Every node restarted without a leader: they elect a new one in a newer term and keep the log"),
        (inline_stepdown, "design: step-down transfers leadership; once the target's term arrives the old leader is a follower"),
        (observer_mode, "An observer keeps applying commits, stays an observer, and never campaigns"),
        (ae_from_old_leader, "A leader rejects an AppendEntries of an older term with its own term and keeps its log"),
        (simple_election, "A new election: the candidate asks for term+1 with its last log term, every voter grants and records the vote"),
        (leader_transfer, "Step-down to a preferred node: it wins the next term"),
        (switch_state_clears_queues, "design: a forwarded proposal that reaches a node after it stopped leading is dropped like a lost message (the client retries), never appended by a non-leader"),
        (proposal_fast_path, "Term fencing: a proposal tagged with another term is refused; the right term is accepted in order"),
        (step_down_on_same_term_doesnt_clear_vote, "design: a leader ignores AppendEntries of an older term and of its own term (two leaders in a term cannot be); its vote is never cleared"),
        (unsuccessful_vote_request_doesnt_reset_election_timer, "A stale vote request does not reset a follower's election timer"),
        (unsuccessful_vote_request_campaign_early, "design: a granted vote resets the election timer; a refused one does not"),
        (invalid_tav_doesnt_panic, "design: a 4-byte term/vote file is refused at recovery (node stopped), no panic, and the cluster carries on"),
        (assume_high_term_after_candidate_isolation, "A candidate isolated for many terms rejoins (classic Raft): the cluster adopts its term and recovers"),
        (heartbeat_on_leader_change, "Propose then restart the leader, several rounds: every round makes progress"),
        (election_timer_after_observer, "An observer promoted to voter starts its election timer and can campaign"),
        (candidate_doesnt_revert_term_after_old_ae, "A candidate keeps its term when an AppendEntries from an older term arrives"),
        (term_doesnt_roll_back_to_pterm_on_catchup, "A follower truncating a conflicting suffix keeps its current term, not the older term of the entries"),
        (no_reset_on_append_entry_response, "A rejection with a higher term makes the leader step down, keeping its log"),
        (candidate_dont_stepdown_due_to_leader_of_previous_term, "A candidate stays a candidate on a heartbeat from a leader of an older term"),
        (remove_leader_peer_deadlock_bug, "The leader removes itself: the removal commits, it steps down, another voter leads"),
        (wal_entry_without_quorum_must_truncate, "A leader killed after writing an entry it never sent: after restart its log is truncated to match the new leader's"),
        (term_no_decrease_after_wal_reset, "A lower-term AppendEntries is rejected and the term does not decrease, also after the WAL is lost"),
        (truncate_wal_reverts_uncommitted_remove_peer, "An uncommitted remove-peer is reverted when truncated: the peer is a voter again"),
        (catchup_does_not_truncate_uncommitted_entries_with_quorum, "Across a leader change only the entry without a quorum is truncated; entries on a majority survive and commit"),
        (catchup_can_truncate_multiple_entries_without_quorum, "A follower holding stale entries of two different terms has both truncated and converges"),
        (catchup_does_not_truncate_committed_entries_during_redelivery, "A duplicated, delayed old AppendEntries below the commit index is acknowledged without truncating"),
        (catchup_from_new_leader_with_incorrect_pterm, "A follower whose entry conflicts in term at the probe index rejects, then stores the leader's entries"),
        (dont_remove_snapshot_if_truncate_to_applied, "A truncation down to the snapshot index keeps the snapshot"),
        (snapshot_and_truncate_to_applied, "A follower with a snapshot and an uncommitted entry of a lost leadership truncates back to the snapshot without losing commit or applied"),
        (ignore_double_snapshot, "A second snapshot with nothing newly applied is refused and the first is kept"),
        (dont_switch_to_candidate_with_inflight_snapshot, "A follower does not campaign while a received snapshot is not applied"),
        (recover_pindex_pterm_only_if_log_not_empty, "design: a restart with only the term/vote file left starts with an empty log (last index 0) and catches up from the same leader"),
        (cancel_catchup_when_detecting_higher_term_during_vote_request, "design: after a higher-term vote request, the old leader's entries are rejected, so it cannot commit with this follower"),
        (multiple_stops_dont_panic, "Crashing a node twice is harmless; it restarts once"),
        (truncate_down_to_committed, "A new leader's entry at the same index and a different term replaces the uncommitted entry at once"),
        (truncate_down_to_committed_when_truncate_fails, "design: a truncating write that fails (EIO) leaves a sticky write error, acknowledges nothing and keeps commit; the disk keeps the log as it was (1,1 after a restart)"),
        (health_check_wait_for_catchup, "A follower behind its leader is not healthy until it applied everything committed"),
        (health_check_wait_for_pending_commits_when_paused, "A paused follower with commits not handed out is unhealthy; after resume and apply it is healthy"),
        (append_entry_can_establish_quorum_after_leader_change, "A new leader's no-op acknowledged by one follower commits it and everything before; only then does it report itself leader"),
        (quorum_accounting, "Five voters: one acknowledgement does not commit, the second does"),
        (signal_lead_change_false_if_campaign_immediately, "A node that campaigned and lost learns the winner as its leader"),
        (catchup_dont_count_toward_quorum, "design: a follower acknowledges only what it stored durably; a stalled follower disk holds back the commit"),
        (ignore_track_response_when_not_leader, "An acknowledgement arriving after the leader stepped down commits nothing"),
        (reject_new_append_entry_from_previous_leader, "After voting in a newer term, a follower rejects the previous leader's AppendEntries"),
        (reject_append_entry_during_catchup_from_previous_leader, "A delayed AppendEntries of the previous leader arriving after a new election is rejected"),
        (dont_reject_append_entry_from_replay, "An entry stored while the followers were down reaches them after they restart"),
        (simple_catchup, "A stopped follower restarts and catches up with the same leader"),
        (simple_catchup_after_leader_change, "A stopped follower restarts and catches up after a leader change"),
        (snapshot_catchup, "A follower behind the leader's snapshot catches up from the snapshot and then entries"),
        (snapshot_catchup_after_leader_restart, "A follower behind the snapshot catches up after the leader restarted from its own snapshot"),
        (snapshot_recovery, "A restart from a snapshot restores the applied state and the log after it"),
        (doesnt_request_vote_on_write_error, "A candidate whose vote fails to persist (fsync EIO) sends no vote request, gives up the election and does not campaign again until a restart"),
        (replay_on_snapshot_same_term, "A re-delivered AppendEntries at the snapshot boundary in the same term is acknowledged, no truncation"),
        (replay_on_snapshot_different_term, "A delayed AppendEntries from a lost leadership at the snapshot boundary is rejected without resetting the log"),
        (stepdown_with_highest_term_during_catchup, "An AppendEntries with a higher term makes a leader step down and adopt the term"),
        (leader_catchup_handling, "The leader sends a lagging follower the entries after its last matching index"),
        (new_entries_from_old_leader_resets_wal_during_catchup, "Forked entries from an old leader are rejected with the higher term and do not reset the follower's log"),
        (send_append_entry_not_leader, "A follower refuses to propose: nothing is stored or sent"),
        (lost_quorum, "design (CheckQuorum): a leader cut off from the majority steps down after its window"),
        (parallel_catchup_rollback, "design: a duplicate of an already stored AppendEntries does not truncate what came after it"),
        (report_leader_after_noop_entry, "A new leader reports itself and serves ReadIndex only after its no-op commits"),
        (chain_of_blocks_run_in_lockstep, "Twenty blocks: after each, every replica has the same value"),
        (chain_of_blocks_stop_and_catch_up, "Rounds of: stop a node, snapshot another, propose, restart: replicas converge"),
        (propose_remove_peer, "Remove a follower: every remaining node has two voters"),
        (propose_remove_peer_non_existent, "Removing an unknown peer is refused with no side effects"),
        (propose_remove_peer_concurrent, "A second membership change while one is uncommitted is refused; only the first applies"),
        (uncommitted_membership_change_on_new_leader, "design: a new leader with an uncommitted removal in its log refuses another change until its own no-op commits, which commits the removal with it"),
        (uncommitted_membership_change_gets_truncated, "An uncommitted change truncated away no longer blocks a new change"),
        (ignore_forwarded_proposal_if_not_caught_up_leader, "design: a forwarded proposal reaching a leader before its no-op commits is appended after the no-op, never before"),
        (propose_remove_peer_quorum, "With one follower cut off, removing the other cannot commit: the removed peer's acknowledgement does not count"),
        (propose_remove_peer_leader, "Removing the leader needs a majority of the new voters; then it steps down"),
        (leader_resurrects_removed_peers, "After a removal and restarts of everyone, the removed peer does not come back"),
        (add_peers, "Two new nodes added one at a time: the cluster grows from 3 to 5 voters"),
        (disjoint_majorities, "With the followers cut off, an add-peer cannot commit with the new node alone"),
        (append_entry_resurrects_leader, "An AppendEntries from a leader whose removal committed does not make it a member again"),
        (must_not_reset_vote_on_step_down_or_leader_transfer, "The vote of a leader survives its step-down and the transfer"),
        (switch_to_candidate_resets_vote, "A candidacy increments the term and persists a vote for itself before asking"),
        (init_single_mem_raft_node_defaults, "A single-voter cluster elects itself and commits alone"),
        (replay_add_peer_keeps_cluster_size, "Restarting everyone after a committed add-peer keeps four voters (no split brain)"),
        (snapshot_excludes_uncommitted_membership_change, "A snapshot records the membership at its index, not an uncommitted change after it"),
        (dont_switch_to_candidate_with_inflight_self_membership_change, "design: a node whose removal is appended, not committed, campaigns (Raft thesis §4.1) but cannot disturb a live leader: its pre-vote changes no term and is refused"),
        (dont_switch_to_candidate_as_managed_node_outside_peer_set, "A node outside the voter set never campaigns"),
        (only_commit_if_current_term, "Acknowledgements for previous-term entries do not commit; the current-term entry commits all (Figure 8)"),
        (term_fenced_proposals, "A proposal for a stale leadership term is refused after re-election"),
        (leader_steps_down_if_overrun, "An overrun leader refuses the proposal past its threshold (Overloaded) and steps down at its next tick, keeping its vote"),
        (process_append_entry_term_mismatch_does_not_regress_commit, "An AppendEntries whose previous term mismatches at a committed index does not regress the commit index"),
        (partitioned_peer_remove, "A partitioned follower is removed by the leader; after healing it cannot win an election"),
        (peer_add_and_partition_leader, "The leader is partitioned right after adding a peer: a new leader and every node converge on four voters"),
        (leader_without_quorum_after_peer_add, "Split two-two right after an add-peer: no side elects a leader"),
        (removed_peer_vote_does_not_elect_leader, "A removed peer's vote does not help elect a leader"),
        (propose_remove_peer_all, "Followers removed one by one until the leader is the only voter; removing the last voter is refused"),
        (single_node_election, "The leader removed twice: the lone survivor elects itself, commits alone, then grows back to three voters"),
        (truncate_wal_reverts_uncommitted_add_peer, "An uncommitted add-peer is reverted when truncated: the cluster is three voters again"),
        (dont_switch_to_candidate_with_multiple_inflight_snapshots, "A follower that received two snapshots while its apply is paused does not campaign until it applied the latest"),
        (drain_and_replay_snapshot, "design: the application starts over from the latest snapshot (refused without one); the commit index never goes back, and resuming hands out every entry after the snapshot, also those committed while it restored, across repeated replays"),
        (install_snapshot_from_checkpoint, "design: a snapshot in two steps (checkpoint), one open at a time; finished or aborted it does not finish again; the next one builds on the last snapshot; while open an unforced snapshot is refused, and a snapshot received from the leader aborts it"),
        (forced_install_snapshot_aborts_in_progress_checkpoint, "A forced snapshot aborts the open checkpoint (an unforced one is refused); the checkpoint's late abort cancels nothing, and the forced snapshot is the one recovered"),
        (snapshot_checkpoint_node_closed, "design: a checkpoint cannot finish on a crashed node nor after its restart (checkpoints live in memory); a fresh one works"),
        (install_snapshot_from_checkpoint_after_truncate_to_snapshot, "design: after catching up from a leader's snapshot while paused, a checkpoint is refused until something past that snapshot is applied, then builds on it"),
        (checkpoint_install_snapshot_abort_during_write, "design: a checkpoint aborted while its snapshot is being written keeps it (the second step adopted it); one aborted before its second step writes nothing, and a restart recovers the adopted snapshot"),
        (install_snapshot_force, "design: a snapshot is never blocked by a follower catching up (no force needed); the follower in the middle of a transfer goes on from the newer snapshot"),
        (apply_commit_does_not_reset_wal_at_snapshot_boundary, "A leader's snapshot landing past a follower's commit inside its log keeps the entry after it; the commit then crosses the snapshot boundary and applies it, with no log reset"),
        (send_snapshot_installs_snapshot, "design: scaling a single-voter group up to three, the leader's snapshot (NRG sends it as a log entry; here it is a compaction) reaches the new members by snapshot transfer and is installed; they can drain and replay it"),
        (no_log_reset_on_corrupted_send_to_follower, "design: a follower that lost its log gets the leader's snapshot from memory while the leader's snapshot file is damaged on disk; the leader keeps its log and all commit on"),
        (truncate_log_with_misaligned_snapshot_gap, "design: a WAL compacted past the snapshot is truncated back to it at restart (NRG does the same); the node answers for the dropped log until the leader gave it back, and then follows on"),
        (truncate_log_with_missing_snapshot, "design: a WAL compacted with no snapshot is dropped at restart (NRG resets it); the node starts empty, answers for the dropped log, and catches up from the leader"),
        (reset, "design: a reset drops the log, the snapshot (a restart finds neither), the commit and applied indexes and an open checkpoint, steps down and forgets the leader; it keeps the term and vote (NRG clears them) and answers for the log it held until the leader gave it back; refused while a persist is in flight"),
        (health_check_wait_for_double_catchup, "A restarted follower overtaken by new entries while catching up stays unhealthy until it applied everything committed"),
        (revalidate_quorum_after_leader_change, "Acknowledgements sent to a previous leadership count for nothing: the new leader commits only with acknowledgements of its own term"),
        (follower_pauses_quorum_if_overrun, "A follower whose unapplied backlog passes the threshold stores but stops acknowledging (the leader commits with the other follower); once its application catches up it acknowledges again"),
        (switch_to_candidate_resets_quorum_paused, "design: a quorum-paused follower with unconsumed commits does not campaign (NRG's rule too); once its application catches up the pause is over and it wins (a candidacy clearing the pause of consumed but unapplied entries is a rule test)"),
        (pausing_quorum_cancels_catchup, "design: a quorum-paused follower acknowledges nothing, so the leader's replication to it waits at its match index (there is no catch-up stream to cancel) and resumes once it drains"),
        (rescue_quorum, "Three of five voters lost for good: a rescue is refused while a leader is known or at a natural quorum; a rescued quorum of two elects a survivor, which commits with the other"),
        (rescue_quorum_recalc, "The rescued quorum is kept while removing one lost peer leaves a natural quorum above it, and ends once a second removal brings the natural quorum down to it"),
        (rescue_quorum_kept_on_peer_state, "A rescued follower keeps its rescue when the new leader's peer state (the same membership) arrives"),
        (rescue_quorum_expires, "A rescue expires after its ticks: the natural quorum counts again and the survivors alone commit nothing more"),
        (rescue_quorum_counts_empty_votes, "During a rescue an empty-log survivor's vote elects the candidate with the log"),
        (forward_proposal_response, "A follower forwards a proposal with a reply inbox: the leader answers where it landed (before it commits), and the value is applied everywhere"),
        (forwarded_remove_peer_proposal_non_existent, "A forwarded removal of a peer that is not a member is refused (the forwarder hears why) with no side effect on any node; a real forwarded removal then commits"),
        (uncommitted_membership_change_on_new_leader_forwarded_remove_peer_proposal, "design: a forwarded removal reaching a new leader whose log holds an uncommitted change is refused (not ready: its no-op, which commits the change with it, is not committed) and changes nothing; once it is, the retry is taken"),
        (track_peer_active, "design: last-heard in ticks instead of Raftz's durations: the leader hears every member within a heartbeat, a follower only its leader; after a hand-off every follower, the former leader too, tracks only the new leader"),
        (quorum_after_leader_stepdown, "A new leader claims a quorum only once it heard a follower; stepped down by a transfer it keeps its timestamps and its quorum; the new leader's first append clears every timestamp but the leader's"),
        (track_peer_lag, "With every entry acknowledged the leader sees no lag and every member current, a follower sees the leader current and knows nothing of the other follower; the same after a leader transfer"),
        (peers_response, "Peers() as leader: a cut-off follower lags by the commits it did not acknowledge and is not current; as follower: the leader is current until two heartbeat intervals pass without it, the other follower never"),
        (rescue_quorum_empty_votes_require_rescue, "design: empty-log votes count as any grant (the Raft paper), so what keeps two of five survivors from electing is the natural quorum: without a rescue the candidate stays a candidate"),
        (evict_peers, "A managed group lost three of five voters for good: eviction is refused while a leader is known or while the peers left could make a quorum without the evicting node, never evicts itself or a non-member; evicting the lost three, a survivor is elected by the other, records the eviction in the log (a peer-state entry) and commits with it"),
        (track_peer_observed, "A managed group's leader records an unknown peer that answers it as observed and proposes nothing; heard as a member once added, it is no longer observed; a removed peer is not observed again"),
        (track_peer_auto_add_only_unmanaged, "An unmanaged group's leader that hears an unknown peer's append response proposes adding it as a voter through the log, and observes nothing; the new voter commits and applies (the managed half is nrg_track_peer_observed)"),
        (initialize_and_scale_up, "design: votes from empty logs always count (no initializing flag is needed): a node scaling up is no voter in the membership it knows and never campaigns until its first entries make it one; a fresh follower's empty vote elects with a quorum, not every server; after a reset its vote, flagged empty, still counts, answering for the log it held"),
    ]
);
