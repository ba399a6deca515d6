//! Elections: the election timer, PreVote, vote requests and grants, and counting the votes.
//! Leader stickiness (with CheckQuorum) lives here too: it decides which vote requests are
//! answered at all.

use super::tally::{VoteOutcome, VoteTally};
use super::Node;
use crate::action::Role;
use crate::message::{Message, VoteRequest, VoteResponse};
use crate::types::{HardState, NodeId};

/// The election timeout: the ticks waited, and the timeout of this wait.
///
/// The timeout is a pure function of the node's seed ([`Config::seed`], its only randomness)
/// and the wait's key: the term in which the timer restarts and how many times it has fired
/// in that term ([`election_jitter`]). A restart that fires nothing (a heartbeat heard, a
/// vote granted) keeps the timeout of its term; a new term, or a firing (a pre-vote or an
/// election that came to nothing), draws the next. So the timeouts depend on the node's own
/// election history, never on how many messages it received: a change that adds or removes
/// a message leaves every election where it was. (etcd-raft, too, draws a new randomized
/// timeout only when the node's term or role changes.)
///
/// [`Config::seed`]: crate::Config::seed
#[derive(Clone, Debug)]
pub(super) struct ElectionTimer {
    seed: u64,
    elapsed: u32,
    timeout: u32,
    /// The term of the current key.
    term: u64,
    /// Times the timer fired in `term`.
    fired: u32,
}

impl ElectionTimer {
    /// A timer that has drawn nothing yet: [`ElectionTimer::restart`] it before ticking.
    pub(super) fn new(seed: u64) -> ElectionTimer {
        ElectionTimer {
            seed,
            elapsed: 0,
            timeout: 0,
            term: 0,
            fired: 0,
        }
    }

    /// Starts a new wait in `term`, with the timeout in `min..max` ticks of its key.
    fn restart(&mut self, term: u64, min: u32, max: u32) {
        if term != self.term {
            self.term = term;
            self.fired = 0;
        }
        self.elapsed = 0;
        let span = u64::from(max - min);
        let jitter = election_jitter(self.seed, term, self.fired);
        self.timeout = min + ((u128::from(jitter) * u128::from(span)) >> 64) as u32;
    }

    /// The wait ended in a campaign (or a pre-vote): the next restart draws anew.
    fn fired(&mut self) {
        self.fired += 1;
    }

    /// One tick of waiting; true once the timeout is reached (and at every tick after it,
    /// until the timer restarts).
    pub(super) fn tick(&mut self) -> bool {
        self.elapsed += 1;
        self.elapsed >= self.timeout
    }

    /// The timeout drawn for the current wait.
    pub(super) fn timeout(&self) -> u32 {
        self.timeout
    }
}

/// The random word of the election timeout keyed by (`term`, `fired`) for a node with `seed`:
/// SplitMix64's finalizer over the seed with each part mixed in. Pinned by a rule test
/// (`election_timeouts_are_pinned`): changing it moves every election of every simulated
/// run.
fn election_jitter(seed: u64, term: u64, fired: u32) -> u64 {
    fn splitmix64(mut x: u64) -> u64 {
        x = x.wrapping_add(0x9e37_79b9_7f4a_7c15);
        x = (x ^ (x >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        x = (x ^ (x >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        x ^ (x >> 31)
    }
    let mix = |hash: u64, value: u64| splitmix64(hash ^ splitmix64(value));
    mix(mix(seed, term), u64::from(fired))
}

impl Node {
    pub(super) fn reset_election_timer(&mut self) {
        let (min, max) = (
            self.config.election_timeout_min,
            self.config.election_timeout_max,
        );
        self.election_timer.restart(self.hard_state.term, min, max);
    }

    /// Rule: when the election timeout fires, a voter campaigns; with PreVote on it first
    /// asks whether it could win. Not while a snapshot it received is unapplied.
    pub(super) fn election_timeout_fired(&mut self) {
        self.election_timer.fired();
        if self.repair.is_some() {
            self.repair_waits = self.repair_waits.saturating_add(1);
        }
        if self.snapshot_unapplied() || self.commits_unprocessed() {
            self.reset_election_timer();
            return;
        }
        if self.config.pre_vote {
            self.start_pre_vote();
        } else {
            self.start_election(false);
        }
    }

    /// Rule (PreVote): ask every voter whether it would grant a vote at `term + 1`, without
    /// changing term or vote. Nothing changes durable state, so the requests leave at once.
    /// The node forgets its leader (it has not heard from it for an election timeout), so
    /// its own stale lease does not make it refuse the others' pre-votes (the fix of
    /// etcd-io/etcd#8334). A candidate that times out becomes a follower of its term for the
    /// pre-vote; its vote stays.
    fn start_pre_vote(&mut self) {
        self.reset_election_timer();
        if !self.may_campaign() {
            return;
        }
        self.votes = None;
        if self.role == Role::Candidate {
            self.set_role(Role::Follower);
        }
        self.set_leader(None);
        let mut pre_votes = VoteTally::default();
        if self.voters.contains(&self.config.id) {
            pre_votes.record(self.config.id, true);
        }
        self.pre_votes = Some(pre_votes);
        let request = VoteRequest {
            term: self.hard_state.term + 1,
            last_term: self.vote_log_position().0,
            last_index: self.vote_log_position().1,
            candidate: self.config.id,
        };
        for peer in self.vote_request_recipients() {
            self.outbox
                .send_unattested(peer, Message::PreVoteRequest(request.clone()));
        }
        // A single voter has its own pre-vote and nobody to ask.
        self.check_pre_vote_result();
    }

    /// Rule (PreVote): grant a pre-vote when the candidate's log is at least as up to date as
    /// ours and this node has not heard from a current leader within the minimum election
    /// timeout. Changes no state, so the answer needs no persist; it echoes the pre-vote's
    /// term.
    ///
    /// The pre-vote's term is not judged. Refusing a term that is not ahead of ours (as a real
    /// vote would) deadlocks: a node with the most up-to-date log but a stale term (say, the
    /// leader that stepped down for lost quorum) is refused by everyone, never learns the
    /// current term (pre-vote answers change no term), and refuses the others for their
    /// shorter logs (simulator seed 176). Granting costs nothing: the real election at a
    /// stale term is refused by voters that are ahead, and their answers carry the term the
    /// candidate then adopts.
    pub(super) fn handle_pre_vote_request(&mut self, request: VoteRequest) {
        let granted = !self.in_leader_lease()
            && candidate_log_is_up_to_date(&request, self.vote_log_position())
            && (!planted!(self, PreVoteJudgedOnTerm) || request.term > self.hard_state.term);
        let response = VoteResponse {
            term: request.term,
            peer: self.config.id,
            granted,
            empty_log: self.log.last_index() == 0,
        };
        self.outbox
            .send_unattested(request.candidate, Message::PreVoteResponse(response));
    }

    /// Rule (PreVote): count each voter once, only answers to the pre-vote in progress (term
    /// `term + 1`); a quorum of grants starts the real election.
    pub(super) fn handle_pre_vote_response(&mut self, from: NodeId, response: VoteResponse) {
        if response.term != self.hard_state.term + 1
            || response.peer != from
            || !self.counts_votes_of(from)
        {
            return;
        }
        let Some(pre_votes) = self.pre_votes.as_mut() else {
            return;
        };
        pre_votes.record(from, response.granted);
        self.check_pre_vote_result();
    }

    pub(super) fn check_pre_vote_result(&mut self) {
        let Some(pre_votes) = self.pre_votes.as_ref() else {
            return;
        };
        match pre_votes.outcome_needing(self.quorum_needed()) {
            VoteOutcome::Won => self.start_election(false),
            // Stay a follower and try again at the next timeout.
            VoteOutcome::Lost => self.pre_votes = None,
            VoteOutcome::Undecided => {}
        }
    }

    /// Leader stickiness: this node heard from a current leader within the minimum election
    /// timeout (a leader hears from itself).
    fn in_leader_lease(&self) -> bool {
        match self.role {
            Role::Leader => true,
            Role::Follower | Role::Candidate => {
                self.leader.is_some() && self.ticks_since_leader < self.config.election_timeout_min
            }
        }
    }

    /// Rule (leader stickiness, with CheckQuorum): a vote request for a higher term is
    /// ignored — no term change, no answer — while this node is in a leader's lease. A
    /// follower that hears its leader has no reason to believe it is gone, so a node that
    /// cannot hear it (a partial partition) cannot depose it. Transfer vote requests are
    /// exempt: the leader itself asked for them.
    pub(super) fn ignores_for_leader_stickiness(&self, message: &Message) -> bool {
        match message {
            Message::VoteRequest(m) => {
                self.config.check_quorum && m.term > self.hard_state.term && self.in_leader_lease()
            }
            _ => false,
        }
    }

    /// Rule: a voter becomes candidate, increments its term, votes for itself and persists
    /// term and vote before any vote request leaves. A campaign ordered by a leader transfer
    /// sends [`Message::TransferVoteRequest`]s, which leader stickiness lets through.
    pub(super) fn start_election(&mut self, transfer: bool) {
        self.reset_election_timer();
        self.pre_votes = None;
        if !self.may_campaign() {
            return;
        }
        let term = self.hard_state.term + 1;
        self.set_hard_state(HardState {
            term,
            vote: Some(self.config.id),
        });
        self.leadership = None;
        // Overrun: a candidate's quorum pause is over (NRG `switchToCandidate`).
        self.quorum_paused = false;
        self.set_role(Role::Candidate);
        self.set_leader(None);
        self.votes = Some(VoteTally::default());
        let request = VoteRequest {
            term,
            last_term: self.vote_log_position().0,
            last_index: self.vote_log_position().1,
            candidate: self.config.id,
        };
        for peer in self.vote_request_recipients() {
            let message = if transfer {
                Message::TransferVoteRequest(request.clone())
            } else {
                Message::VoteRequest(request.clone())
            };
            self.outbox.send_attesting(peer, message);
        }
        // A single voter has no one to ask; its own durable vote may already decide.
        self.count_own_vote_once_durable();
    }

    /// Rule: a candidate counts its own vote only once that vote is durable.
    pub(super) fn count_own_vote_once_durable(&mut self) {
        let own = HardState {
            term: self.hard_state.term,
            vote: Some(self.config.id),
        };
        if self.role != Role::Candidate || self.outbox.durable_hard_state() != own {
            return;
        }
        let id = self.config.id;
        if let Some(votes) = self.votes.as_mut().filter(|_| self.voters.contains(&id)) {
            votes.record(id, true);
        }
        self.check_election_result();
    }

    /// Rule (membership, Raft thesis §4.1): a voter campaigns; so does a node that the
    /// latest membership in its log removes while that removal is not committed, since until
    /// it commits the cluster may still need it: a leader that appended its own removal and
    /// lost leadership before replicating it holds the most up-to-date log, and without it
    /// no one else could win. It asks the voters of its latest membership and does not count
    /// its own vote (`count_own_vote_once_durable` and the pre-vote skip it). An observer
    /// never campaigns, nor does a node repairing damage to its log (`repair.rs`): its log
    /// is behind the one it answers votes with — unless no leader came to repair it
    /// (`campaigns_to_repair`); then it campaigns with the position it held, and repairs
    /// from its peers once elected (`leader_repair.rs`); nor one with a write error
    /// (`write_error.rs`): it could not make its own vote durable.
    pub(super) fn may_campaign(&self) -> bool {
        if (self.repair.is_some() && !self.campaigns_to_repair()) || self.write_error.is_some() {
            return false;
        }
        let id = self.config.id;
        if self.voters.contains(&id) {
            return true;
        }
        if planted!(self, RemovedLeaderNeverCampaigns) {
            return false;
        }
        // Removed by the latest change in the log, not known to be committed (after a
        // restart nothing is known committed past the snapshot).
        let change = self.membership.last_change_index();
        !self.membership.current().observers.contains(&id)
            && change > self.commit_index
            && self.membership.at(change - 1).voters.contains(&id)
    }

    /// Rule: grant a vote only for the current term, to at most one candidate per term, and
    /// only to a candidate whose log is at least as up to date (compared on (last term, last
    /// index) lexicographically). The grant leaves after the vote is durable.
    pub(super) fn handle_vote_request(&mut self, request: VoteRequest) {
        let term = self.hard_state.term;
        let granted = request.term == term
            && self.hard_state.vote.is_none_or(|v| v == request.candidate)
            && candidate_log_is_up_to_date(&request, self.vote_log_position());
        if granted {
            if self.hard_state.vote.is_none() {
                self.set_hard_state(HardState {
                    term,
                    vote: Some(request.candidate),
                });
            }
            // Granting a vote defers our own candidacy, so elections converge.
            self.reset_election_timer();
        }
        let response = VoteResponse {
            term,
            peer: self.config.id,
            granted,
            empty_log: self.log.last_index() == 0,
        };
        if granted && planted!(self, VoteBeforeDurable) {
            // The bug: the grant leaves before the vote is durable.
            let message = Message::VoteResponse(response);
            self.outbox.send_unattested(request.candidate, message);
            return;
        }
        self.outbox
            .send_attesting(request.candidate, Message::VoteResponse(response));
    }

    /// Rule: a candidate counts each voter once, only responses for its current term, and
    /// becomes leader at a quorum of grants.
    pub(super) fn handle_vote_response(&mut self, from: NodeId, response: VoteResponse) {
        if self.role != Role::Candidate
            || response.term != self.hard_state.term
            || response.peer != from
            || !self.counts_votes_of(from)
        {
            return;
        }
        let Some(votes) = self.votes.as_mut() else {
            return;
        };
        let first = votes.record(from, response.granted);
        #[cfg(feature = "planted-bugs")]
        if response.granted
            && !first
            && self.planted == Some(crate::planted::PlantedBug::DuplicateVoteCounted)
        {
            votes.count_duplicate_grant();
        }
        let _ = first;
        self.check_election_result();
    }

    pub(super) fn check_election_result(&mut self) {
        let Some(votes) = self.votes.as_ref() else {
            return;
        };
        match votes.outcome_needing(self.quorum_needed()) {
            VoteOutcome::Won => self.become_leader(),
            VoteOutcome::Lost => {
                // Wait as a follower in the same term; the vote for ourselves stays.
                self.votes = None;
                self.set_role(Role::Follower);
            }
            VoteOutcome::Undecided => {}
        }
    }

    fn other_voters(&self) -> impl Iterator<Item = NodeId> + '_ {
        self.voters
            .iter()
            .copied()
            .filter(move |&v| v != self.config.id)
    }

    /// Who a candidate asks for (pre-)votes: the other voters. With the planted
    /// `removed-peer-votes-counted` also every peer it was configured with, as NRG's vote
    /// request reaches every peer still listening on the group's subject.
    fn vote_request_recipients(&self) -> Vec<NodeId> {
        let mut peers: Vec<NodeId> = self.other_voters().collect();
        if planted!(self, RemovedPeerVotesCounted) {
            for &peer in &self.config.voters {
                if peer != self.config.id && !peers.contains(&peer) {
                    peers.push(peer);
                }
            }
        }
        peers
    }

    /// Rule: only voters' (pre-)vote responses count; a removed peer's never does.
    fn counts_votes_of(&self, from: NodeId) -> bool {
        self.voters.contains(&from) || planted!(self, RemovedPeerVotesCounted)
    }
}

/// Raft §5.4.1: the candidate's log is at least as up to date as ours, `(last term, last
/// index)` (a damaged node's is the log it held: `vote_log_position`).
fn candidate_log_is_up_to_date(request: &VoteRequest, (last_term, last_index): (u64, u64)) -> bool {
    (request.last_term, request.last_index) >= (last_term, last_index)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_timer_fires_at_the_drawn_timeout_and_draws_the_same_for_the_same_seed() {
        let mut a = ElectionTimer::new(7);
        let mut b = ElectionTimer::new(7);
        for term in 0..100 {
            a.restart(term, 10, 20);
            b.restart(term, 10, 20);
            assert_eq!(a.timeout(), b.timeout());
            assert!((10..20).contains(&a.timeout()));
            let fired_at = (1..=20).find(|_| a.tick()).unwrap();
            assert_eq!(fired_at, a.timeout());
            assert!(a.tick(), "it stays fired until restarted");
        }
    }

    #[test]
    fn a_restart_keeps_the_timeout_of_its_key_and_a_firing_or_a_new_term_draws_the_next() {
        let mut timer = ElectionTimer::new(11);
        let timeouts = |timer: &mut ElectionTimer, term| {
            timer.restart(term, 10, 1_000);
            timer.timeout()
        };
        let first = timeouts(&mut timer, 3);
        assert_eq!(timeouts(&mut timer, 3), first, "a heartbeat's restart");
        timer.fired();
        let second = timeouts(&mut timer, 3);
        assert_ne!(second, first, "the wait after a firing");
        assert_eq!(timeouts(&mut timer, 3), second);
        let next_term = timeouts(&mut timer, 4);
        assert_ne!(next_term, second);
        // Back in term 3 with nothing fired, the key is term 3's first again.
        assert_eq!(timeouts(&mut timer, 3), first);
    }
}
