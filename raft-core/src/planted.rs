//! The planted-bug catalogue: real Raft bugs, re-plantable one at a time so the simulator can
//! prove it finds them. Compiled only with the `planted-bugs` cargo feature; without it every
//! check is the constant `false` and the bug paths are removed by the compiler.
//!
//! | bug | mechanism | where it happened | fault schedule that exposes it | property it breaks |
//! |-----|-----------|-------------------|--------------------------------|--------------------|
//! | `vote-before-durable` | a vote grant leaves before the vote is persisted; a crash forgets it and the node votes again in the same term | hashicorp/raft#661, CockroachDB #1131 | crash of a voter between granting and fsync, then a second candidate in the same term | persist-before-send, one-vote-per-term, election safety |
//! | `duplicate-vote-counted` | a candidate counts a duplicated grant from the same voter twice | akka-raft #47 | duplicated vote responses in a 5- or 7-node cluster | elected-by-quorum (at once), election safety |
//! | `commit-previous-term` | the leader commits an earlier-term entry by counting replicas | Raft paper Figure 8; NATS #7955 | leader crash after replicating an old entry to a majority, a rival term overwriting it | commit-guarded-by-votes (at once), state-machine safety |
//! | `follower-commit-unbounded` | a follower sets commit to the leader's commit without bounding it by the entries this append verified | atomix/copycat#265 | a follower with stale conflicting entries beyond the verified prefix receives a heartbeat | state-machine safety |
//! | `stale-append-truncates` | a stale or duplicated append whose entries match still truncates the log after them | Students' Guide to Raft; etcd #1763 | reordered/duplicated appends (latency spread, duplication) | committed-durable-on-quorum, persist-before-send |
//! | `conflict-not-truncated` | a conflicting entry is overwritten in place and the stale suffix after it is kept | NATS #6027 | leader change with divergent uncommitted suffixes (partitions, crashes) | log matching, state-machine safety |
//! | `match-from-bookkeeping` | the leader takes a follower's match index from its own next index instead of the acknowledged request | raft-rs Progress rejoin bug | pipelined appends with loss or reordering, then any acknowledgement | committed-durable-on-quorum, state-machine safety |
//! | `ack-before-fsync` | a follower acknowledges appended entries before they are durable | Jepsen NATS 2.12.1 | crash of followers right after acknowledging (torn or lost unsynced writes) | persist-before-send, committed-durable-on-quorum |
//! | `read-index-before-noop` | ReadIndex answered before the leader's own-term no-op is committed | etcd #7331 | new leader serving reads right after an election, with writes committed by the previous leader not yet known | linearizability |
//! | `membership-before-own-term-commit` | a new leader starts a membership change before an entry of its own term is committed, so a change of a previous leader that it never saw and its own can both take effect, each with a majority of its own configuration | Ongaro, raft-dev 2015 (single-server changes) | a configuration with an even number of voters (after an earlier change), a multi-step reconfiguration whose step the leader accepts just before it loses power (its unsent messages lost with it), and the next step asked of the next leader as soon as it wins | membership-change-after-own-term-commit and configuration-overlap (at the append), commit-guarded-by-votes, state-machine safety |
//! | `removed-peer-votes-counted` | a candidate asks every peer it was configured with, as NRG's vote request reaches every peer still listening on the group's subject, and counts the grants of peers that are no longer voters | NATS #8353 | removed peers left running (they never learn their removal and keep an old log), then a voter with a stale log campaigns (crash, partition) | elected-by-quorum (at once), leader completeness, state-machine safety |
//! | `truncate-damaged-suffix` | a node whose synced log was damaged drops the damaged suffix and votes and campaigns with what is left | NATS #7549 (Jepsen NATS 2.12.1) | damage to synced entries on nodes of a committing quorum, read at their restart, then an election among nodes that lack the entries | committed-durable-on-quorum, leader completeness, state-machine safety |
//! | `vote-record-forgotten` | recovery that finds the term/vote file damaged starts the node as though it had never written one: from its log's last term, with no vote, though the record's copy survived; the node may vote again in a term it voted in, and its term goes back | NATS #7038 (an empty-log node whose state was lost voted again) | damage to a term/vote file copy, read at the node's restart | term-monotonic or one-vote-per-term (at the restart) |
//! | `rescue-kept-after-natural-quorum` | a rescued quorum (NRG `RescueQuorum`) stays in effect after the membership shrank so that a natural majority is no larger than it, and counts after the membership grows again | NATS #8408 (the recalculation that ends a rescue) | a majority of the voters lost for good, the survivors rescued, the lost peers removed and replacements added before the rescue expires | rescue-ends-at-natural-quorum (once the membership grows back), committed-durable-on-quorum, elected-by-quorum |
//! | `no-prevote-checkquorum` | PreVote, CheckQuorum and leader stickiness switched off | Cloudflare 2020 etcd outage | a partial partition (bridge, one-way) that outlasts the chaos | liveness |
//! | `snapshot-keeps-stale-membership` | installing a received snapshot that discards the log keeps the membership the discarded log implied (an uncommitted change above the snapshot's index), so the node counts quorums, and campaigns, in a configuration no log holds | openraft #1808 | a membership change appended by a leader that is deposed before committing it, then a follower holding it caught up by a snapshot from the next leader (snapshot-heavy configuration, membership changes, failovers) | membership-from-log (at the install), elected-by-quorum |
//! | `fsync-error-ignored` | a persist the host reports failed (a write or fsync error) is treated as durable, as a retried fsync claims after the kernel dropped the dirty pages, so the messages that waited for it leave | PostgreSQL fsyncgate (2018); NRG before its sticky `werr` | a follower's WAL write or fsync failing while it holds an acknowledgement (the simulator's write-error fault drops the unsynced bytes) | persist-before-send, committed-durable-on-quorum |
//! | `ack-beyond-verified` | a follower acknowledges its own last index instead of the last index the append verified, so a stale suffix after an "already have it" append is counted as replicated | CCF #6001, Apache Ratis #1519 | a follower with a stale uncommitted suffix (partition or crash of a leader that appended it) that receives a heartbeat or a short append from the next leader | committed-durable-on-quorum, state-machine safety |
//! | `snapshot-resent-after-install` | the leader takes a follower's "done" answer to the snapshot in transfer as a request to start it over, so the same snapshot is sent again and again, the follower's match index never moves past it and it never receives the entries after it | camunda/camunda #9820 (a finished snapshot replication reset the member's position, and the leader chose the snapshot again), jgroups-raft #23 | a follower that falls behind a compaction (a crash, a partition, a slow link while the leader snapshots) | no-loop-without-progress, convergence |
//! | `late-ack-after-readd` | a leader re-adds a peer it removed in the same term, and the new session's progress takes the old session's late acknowledgements as its own (an acknowledgement names only the peer, the term and an index, nothing of the session), so the leader's match index for the peer is one the peer never gave the new session | etcd-io/raft#349 (remove and re-add of the same id in one term) | a peer removed and re-added at once by the operator while answers to the removed session are still on the wire (latency spread, duplication, clogs) | progress-from-current-session (at the acknowledgement) |
//! | `read-without-quorum-check` | a leader answers a read from its own state as soon as it is asked, trusting its role (a lease with no clock bound) instead of confirming with a heartbeat round to a quorum, so a leader deposed by a partition it has not noticed yet serves reads that miss the new leader's writes | hashicorp/consul#54 (reads served from the leader's state under a lease; fixed with a quorum round, hashicorp/raft#4 `VerifyLeader`), etcd-io/etcd#741 (Jepsen 2014: reads from a deposed leader, fixed with `?quorum=true`) | a leader cut off from its followers (partition, clog, pause) while a new leader commits writes, with clients still reading at the old one (sticky readers; without CheckQuorum it never steps down) | linearizability |
//! | `read-error-ends-log` | a leader whose read of evicted payloads from its log fails takes the failure for the end of what storage holds, and sends a follower waiting for those entries the entries still in memory after them, after the follower's last confirmed match: entries that do not follow the message's previous index | openraft #1795 (fixed in openraft #1798) | a bounded log cache (payloads of applied entries leave memory), a follower that falls behind (crash, partition), and read errors while the leader reads its log to catch it up | wire-codec (the append does not encode: its first entry does not follow its previous index; a host whose format derives indexes from the previous index would store them at the wrong indexes) |
//!
//! **Regressions.** Bugs the simulator found in this project's own core, fixed, and
//! re-plantable here so that their regression fixtures (`fixtures/regressions/`) can prove
//! they still guard something. The hunt reports them in a section of their own.
//!
//! | bug | mechanism | where it happened | fault schedule that exposes it | property it breaks |
//! |-----|-----------|-------------------|--------------------------------|--------------------|
//! | `prevote-judged-on-term` | a pre-vote is refused unless its term is ahead of the voter's, as a real vote would be: a node with the longest log but a stale term (a leader that stepped down for lost quorum) is refused by everyone, never learns the term, and refuses the others for their shorter logs | this core, simulator seeds 87, 176 and 807 (fixed in d7ed8fe) | a leader cut off long enough to step down while the others advance the term, then healed | liveness |
//! | `recovery-refuses-log-above-term` | a node whose log ends in a term above its term/vote file refuses to start | this core, simulator seed 802 (fixed in e9148eb) | a power loss in the middle of a persist that writes entries and a new term together (a follower hearing of a new leader from its first append), keeping the WAL bytes but not the renamed term/vote file (the nemesis's crash-mid-write) | undamaged-node-restarts (at the restart), liveness |
//! | `removed-leader-never-campaigns` | a node removed by the latest, uncommitted change in its log never campaigns, although it may hold the only log that can finish the removal | this core, simulator seed 2034 (fixed with `Node::may_campaign`) | a leader that appends its own removal and loses power (or its quorum) before replicating it | liveness |
//! | `rejection-below-match-ignored` | the leader ignores a rejection below the follower's match index, so a follower that lost entries it had acknowledged (a replaced disk) is never repaired by that leader | this core, a scenario of a follower with a replaced disk (fixed in `handle_append_response` and `Progress::reject`) | an observer's disk replaced while a leader replicates to it (the nemesis's replace-observer-disk) | match-on-follower-disk (at the follower's first rejection) |
//! | `late-transfer-abandoned` | a leader transfer times out counted from its start, not from the first TimeoutNow, so a target that caught up late (slow fsyncs) is abandoned while it campaigns and the old leader's new entries make its election fail | this core, simulator seed 19014 (fixed in `send_timeout_now_once_caught_up`) | a transfer to a target that is behind (slow fsyncs, a long backlog) whose campaign takes a while | transfer-waits-for-its-target (at the leader's first append), liveness |
//! | `stale-snapshot-answer-resends` | the leader answers every snapshot response of the transfer with a chunk, a duplicated or late one that asks for the chunk already in flight too: a second chunk stream starts, and since each of its answers is taken for a request as well, both streams run for the rest of the transfer (and every further duplicate adds one) | this core, simulator seed 265 with 64-byte chunks (`--compact-every 28 --snapshot-chunk-bytes 64`), found with snapshot-heavy seeds (fixed in `handle_snapshot_response`) | a snapshot sent in many small chunks to a follower while the network duplicates and delays messages | no-loop-without-progress |
//! | `repair-membership-unknown` | a repairing node campaigns to repair (leader-side repair) counting votes and the nack quorum in the membership of the log it has, though the log it answers for may have had another: damaged entries past its intact log that changed it, or, after a reset, a log it held only partway (an observer caught up to a prefix older than its addition is a voter there) | this core, simulator seeds 1327 (its own removal and another voter's in the damaged range: a removed voter elected it in a term the remaining voter led) and 2256 (a reset observer), with leader-side repair on (fixed with the membership-bound file and `knows_membership_it_held`) | damage to synced entries holding membership changes, or a reset of a node still catching up, then no leader heard for three election timeouts (partitions, the leader removing the node) | election-safety |

use std::fmt;

/// One planted bug.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum PlantedBug {
    VoteBeforeDurable,
    DuplicateVoteCounted,
    CommitPreviousTerm,
    FollowerCommitUnbounded,
    StaleAppendTruncates,
    ConflictNotTruncated,
    MatchFromBookkeeping,
    AckBeforeFsync,
    ReadIndexBeforeNoop,
    NoPreVoteCheckQuorum,
    MembershipBeforeOwnTermCommit,
    RemovedPeerVotesCounted,
    TruncateDamagedSuffix,
    VoteRecordForgotten,
    SnapshotKeepsStaleMembership,
    AckBeyondVerified,
    FsyncErrorIgnored,
    SnapshotResentAfterInstall,
    RescueKeptAfterNaturalQuorum,
    LateAckAfterReadd,
    ReadWithoutQuorumCheck,
    ReadErrorEndsLog,
    PreVoteJudgedOnTerm,
    RecoveryRefusesLogAboveTerm,
    RemovedLeaderNeverCampaigns,
    RejectionBelowMatchIgnored,
    LateTransferAbandoned,
    StaleSnapshotAnswerResends,
    RepairMembershipUnknown,
}

impl PlantedBug {
    /// Every planted bug: the classic catalogue, then the regressions.
    pub const ALL: [PlantedBug; 29] = [
        PlantedBug::VoteBeforeDurable,
        PlantedBug::DuplicateVoteCounted,
        PlantedBug::CommitPreviousTerm,
        PlantedBug::FollowerCommitUnbounded,
        PlantedBug::StaleAppendTruncates,
        PlantedBug::ConflictNotTruncated,
        PlantedBug::MatchFromBookkeeping,
        PlantedBug::AckBeforeFsync,
        PlantedBug::ReadIndexBeforeNoop,
        PlantedBug::NoPreVoteCheckQuorum,
        PlantedBug::MembershipBeforeOwnTermCommit,
        PlantedBug::RemovedPeerVotesCounted,
        PlantedBug::TruncateDamagedSuffix,
        PlantedBug::VoteRecordForgotten,
        PlantedBug::SnapshotKeepsStaleMembership,
        PlantedBug::AckBeyondVerified,
        PlantedBug::FsyncErrorIgnored,
        PlantedBug::SnapshotResentAfterInstall,
        PlantedBug::RescueKeptAfterNaturalQuorum,
        PlantedBug::LateAckAfterReadd,
        PlantedBug::ReadWithoutQuorumCheck,
        PlantedBug::ReadErrorEndsLog,
        PlantedBug::PreVoteJudgedOnTerm,
        PlantedBug::RecoveryRefusesLogAboveTerm,
        PlantedBug::RemovedLeaderNeverCampaigns,
        PlantedBug::RejectionBelowMatchIgnored,
        PlantedBug::LateTransferAbandoned,
        PlantedBug::StaleSnapshotAnswerResends,
        PlantedBug::RepairMembershipUnknown,
    ];

    /// Whether this is a bug the simulator found in this project's own core (a regression
    /// the catalogue keeps re-plantable), rather than a classic bug from elsewhere.
    pub fn is_regression(self) -> bool {
        matches!(
            self,
            PlantedBug::PreVoteJudgedOnTerm
                | PlantedBug::RecoveryRefusesLogAboveTerm
                | PlantedBug::RemovedLeaderNeverCampaigns
                | PlantedBug::RejectionBelowMatchIgnored
                | PlantedBug::LateTransferAbandoned
                | PlantedBug::StaleSnapshotAnswerResends
                | PlantedBug::RepairMembershipUnknown
        )
    }

    pub fn name(self) -> &'static str {
        match self {
            PlantedBug::VoteBeforeDurable => "vote-before-durable",
            PlantedBug::DuplicateVoteCounted => "duplicate-vote-counted",
            PlantedBug::CommitPreviousTerm => "commit-previous-term",
            PlantedBug::FollowerCommitUnbounded => "follower-commit-unbounded",
            PlantedBug::StaleAppendTruncates => "stale-append-truncates",
            PlantedBug::ConflictNotTruncated => "conflict-not-truncated",
            PlantedBug::MatchFromBookkeeping => "match-from-bookkeeping",
            PlantedBug::AckBeforeFsync => "ack-before-fsync",
            PlantedBug::ReadIndexBeforeNoop => "read-index-before-noop",
            PlantedBug::NoPreVoteCheckQuorum => "no-prevote-checkquorum",
            PlantedBug::MembershipBeforeOwnTermCommit => "membership-before-own-term-commit",
            PlantedBug::RemovedPeerVotesCounted => "removed-peer-votes-counted",
            PlantedBug::TruncateDamagedSuffix => "truncate-damaged-suffix",
            PlantedBug::VoteRecordForgotten => "vote-record-forgotten",
            PlantedBug::SnapshotKeepsStaleMembership => "snapshot-keeps-stale-membership",
            PlantedBug::AckBeyondVerified => "ack-beyond-verified",
            PlantedBug::FsyncErrorIgnored => "fsync-error-ignored",
            PlantedBug::SnapshotResentAfterInstall => "snapshot-resent-after-install",
            PlantedBug::RescueKeptAfterNaturalQuorum => "rescue-kept-after-natural-quorum",
            PlantedBug::LateAckAfterReadd => "late-ack-after-readd",
            PlantedBug::ReadWithoutQuorumCheck => "read-without-quorum-check",
            PlantedBug::ReadErrorEndsLog => "read-error-ends-log",
            PlantedBug::PreVoteJudgedOnTerm => "prevote-judged-on-term",
            PlantedBug::RecoveryRefusesLogAboveTerm => "recovery-refuses-log-above-term",
            PlantedBug::RemovedLeaderNeverCampaigns => "removed-leader-never-campaigns",
            PlantedBug::RejectionBelowMatchIgnored => "rejection-below-match-ignored",
            PlantedBug::LateTransferAbandoned => "late-transfer-abandoned",
            PlantedBug::StaleSnapshotAnswerResends => "stale-snapshot-answer-resends",
            PlantedBug::RepairMembershipUnknown => "repair-membership-unknown",
        }
    }

    pub fn from_name(name: &str) -> Option<PlantedBug> {
        PlantedBug::ALL.into_iter().find(|b| b.name() == name)
    }
}

impl fmt::Display for PlantedBug {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}
