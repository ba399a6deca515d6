//! Protocol-aware recovery, leader side: a node with faulty entries that no leader repairs
//! campaigns, and once elected asks its peers what they hold before it relies on its log.
//!
//! Follower-side repair (`repair.rs`) needs an intact node that can win an election. When
//! none can — damage on a majority at different entries, the only intact copies of a
//! committed prefix on a node whose log is behind an uncommitted tail the damaged nodes
//! answer for — the cluster would stay leaderless. Then a repairing node campaigns
//! (`campaigns_to_repair`), with the position it held. Elected, it appends nothing (no
//! no-op, no heartbeat carrying its log) until it knows a log holding every committed entry:
//!
//! 1. It asks every peer for the position it answers votes with (`held`: its log's, or the
//!    log it held before damage) and the position of its intact log ([`RepairRequest`]).
//!    Peers answer only once the new term is durable, so from then on none acknowledges an
//!    entry of an earlier term.
//! 2. The *nack quorum*: once the voters that answered include a set that meets every commit
//!    quorum (`nack_quorum_size`, without this node), the target is the highest `held` of the
//!    lowest such set (`repair_target`). Every entry committed before this term is in every
//!    log at least as up to date as the target (argument below), so what lies beyond it in
//!    this node's damaged log was never committed: it may be discarded.
//! 3. If its own intact log reaches the target, it discards its faulty entries and leads as
//!    usual. Otherwise it fetches from a *donor*, a peer whose intact log reaches the target:
//!    entries after a point where both logs agree (log matching), truncating whatever of its
//!    own conflicts. Once its durable log reaches the target it leads as usual (no-op first).
//!
//! Why no committed entry is lost. Let `e` be committed in a term `c` below this leader's
//! term `T`, by a quorum of voters that acknowledged an entry of term `c` at index `k >=
//! e.index`. The answering set meets that quorum in a voter `V`. `V` acknowledged in term `c`
//! before it answered in term `T` (after answering it refuses term `c`), and a voter never
//! loses an entry it acknowledged that is committed: truncation only removes uncommitted
//! entries, and damage makes it answer for the position it held. So `V`'s `held` is at least
//! `(c, k)`, and so is the target. A log `Y` at least as up to date as `(c, k)` holds `e`: if
//! its last term is `c`, its last entry comes from the leader of `c` at an index `>= k`, and
//! log matching gives it that leader's prefix, `e` included; if above `c`, the leader of that
//! term held `e` (Leader Completeness) and `Y`'s prefix is that leader's. That is Raft's own
//! election argument, applied to the logs the nack quorum answers for rather than to a
//! candidate's. It does not depend on the position the leader campaigned with; what keeps a
//! node whose log end is unknown from campaigning is election safety across membership
//! changes (`campaigns_to_repair`).
//!
//! Membership: the nack quorum is counted in the membership of the leader's intact log and
//! is at least a majority of its voters, so it meets every quorum of a membership one
//! single-server change away (Raft's argument for single-server changes). That is the
//! membership of the log the node held only when no damaged entry changed it, which the
//! membership-bound file tells (`knows_membership_it_held`); a node that cannot tell waits
//! for a leader. Two changes in the damaged range would put the membership it counts in two
//! changes from the one its peers decide in, where majorities need not meet.
//!
//! [`RepairRequest`]: crate::message::RepairRequest

use super::{LogDamage, Node};
use crate::message::{Message, RepairOffer, RepairRequest, RepairResponse};
use crate::progress::Progress;
use crate::types::NodeId;
use std::collections::BTreeMap;

/// Election timeouts a repairing node waits without hearing a leader before it campaigns
/// itself: long enough for an intact node to win first (it campaigns at its first timeout),
/// so the common case stays follower-side repair.
pub(super) const REPAIR_CAMPAIGN_AFTER_TIMEOUTS: u32 = 3;

/// Maximum election timeouts a repairing leader leads without finishing its repair before it
/// steps down (`give_up_stalled_repair`).
const REPAIR_LEADS_AT_MOST_TIMEOUTS: u32 = 2;

/// A (last term, last index) position, compared as Raft §5.4.1 does.
type Position = (u64, u64);

/// Each peer's latest answer of this term: (held position, intact log position).
type Answers = BTreeMap<NodeId, (Position, Position)>;

/// A leader's repair before its no-op (see the module documentation).
#[derive(Clone, Debug, Default)]
pub(super) struct LeaderRepair {
    answers: Answers,
    /// Beyond this position nothing is committed (known once a nack quorum answered).
    target: Option<Position>,
    /// The peer whose intact log reaches the target, fetched from after `after_index`.
    donor: Option<(NodeId, u64)>,
    /// Ticks this leadership has been repairing.
    ticks: u32,
}

impl Node {
    /// Rule (leader-side repair: campaigning): with [`crate::Config::repair_by_election`],
    /// a repairing node campaigns only once it has gone [`REPAIR_CAMPAIGN_AFTER_TIMEOUTS`]
    /// election timeouts without hearing a leader, only when it knows where the log it held
    /// ended, and only when no entry past its intact log changed the membership; without
    /// it, never.
    ///
    /// A node whose log end is unknown answers votes as though it held every index of its
    /// highest term: right for refusing candidates, but as a candidate that claim would win
    /// the votes of nodes holding membership changes its log never had, which Raft's
    /// single-server argument counts on to refuse it (simulator seed 15486: a removed node,
    /// two changes behind, elected by an observer in a term the sole voter led).
    pub(super) fn campaigns_to_repair(&self) -> bool {
        self.config.repair_by_election
            && matches!(self.repair, Some(LogDamage::HeldThrough { .. }))
            && self.repair_waits >= REPAIR_CAMPAIGN_AFTER_TIMEOUTS
            && self.knows_membership_it_held()
    }

    /// Rule (leader-side repair: membership held): the membership of this node's intact
    /// log is that of the log it held when the membership-bound file shows no membership
    /// change past the intact log's end. Otherwise a damaged entry may have changed it, and
    /// neither the election nor the nack quorum can be counted in a membership it knows.
    fn knows_membership_it_held(&self) -> bool {
        if planted!(self, RepairMembershipUnknown) {
            return true;
        }
        self.membership_bound
            .is_some_and(|bound| bound <= self.log.last_index())
    }

    /// Rule (leader-side repair: bounded): a leader still repairing after
    /// [`REPAIR_LEADS_AT_MOST_TIMEOUTS`] maximum election timeouts steps down. The entries
    /// it needs may be in every donor's snapshot (a donor offers log entries only), or its
    /// target out of reach; and while it leads, its requests keep every follower from
    /// timing out, so an intact node that could lead never campaigns (simulator seed 1640).
    /// It waits for a leader again as any repairing node does.
    pub(super) fn give_up_stalled_repair(&mut self) -> bool {
        let limit = REPAIR_LEADS_AT_MOST_TIMEOUTS * self.config.election_timeout_max;
        let Some(repair) = self.leadership.as_mut().and_then(|l| l.repair.as_mut()) else {
            return false;
        };
        repair.ticks += 1;
        if repair.ticks < limit {
            return false;
        }
        self.repair_waits = 0;
        self.become_follower_in_term();
        true
    }

    /// Leading, and still repairing its log from its peers before its no-op: it appends
    /// nothing and relies on nothing of its log past what it knows intact.
    pub fn is_leader_repairing(&self) -> bool {
        self.leadership.as_ref().is_some_and(|l| l.repair.is_some())
    }

    /// Rule (leader-side repair: election won): a leader elected while repairing appends no
    /// no-op; it asks every peer for its positions first.
    pub(super) fn start_leader_repair(&mut self) {
        let Some(leadership) = self.leadership.as_mut() else {
            return;
        };
        leadership.repair = Some(LeaderRepair::default());
        self.send_repair_requests();
    }

    /// Rule (leader-side repair: retries): every heartbeat interval the repairing leader asks
    /// again (answers may be lost, or may change as peers restart).
    pub(super) fn send_repair_requests(&mut self) {
        let Some(repair) = self.leadership.as_ref().and_then(|l| l.repair.as_ref()) else {
            return;
        };
        let donor = repair.donor;
        let peers: Vec<NodeId> = self.leadership.as_ref().map_or(Vec::new(), |l| {
            l.progress.iter().map(|(&peer, _)| peer).collect()
        });
        for peer in peers {
            let after_index = match donor {
                Some((d, after)) if d == peer => Some(after),
                _ => None,
            };
            self.send_repair_request(peer, after_index);
        }
    }

    /// Asks `peer` for its positions and, with `fetch_after`, its entries after that index.
    fn send_repair_request(&mut self, peer: NodeId, fetch_after: Option<u64>) {
        let after_index = fetch_after.unwrap_or(self.log.last_index());
        let Some(after_term) = self.log.term_at(after_index) else {
            return;
        };
        let request = RepairRequest {
            term: self.hard_state.term,
            leader: self.config.id,
            after_index,
            after_term,
            fetch: fetch_after.is_some(),
        };
        self.outbox
            .send_unattested(peer, Message::RepairRequest(request));
    }

    /// Rule (leader-side repair: answering): a peer answers the leader of its term with the
    /// position it answers votes with, the position of its intact log and, when asked to
    /// fetch, its entries after the leader's point if its log agrees there (one term per
    /// answer), or where to retry. The answer leaves once its term is durable. A request of
    /// an older term is answered with this node's term, which deposes the sender.
    pub(super) fn handle_repair_request(&mut self, request: RepairRequest) {
        let term = self.hard_state.term;
        if request.term == term && !self.follow_leader(request.leader) {
            return;
        }
        let offer = if request.term == term && request.fetch {
            self.repair_offer(request.after_index, request.after_term)
        } else {
            RepairOffer::Positions
        };
        let response = RepairResponse {
            term,
            peer: self.config.id,
            held: self.vote_log_position(),
            log: (self.log.last_term(), self.log.last_index()),
            after_index: request.after_index,
            offer,
        };
        self.outbox
            .send_attesting(request.leader, Message::RepairResponse(Box::new(response)));
    }

    /// The entries after `after_index` when this log agrees there, else where to retry.
    ///
    /// Rule (leader-side repair: offer from a bounded log cache): only entries whose
    /// payloads are in memory or read back are offered; at the first that is neither the
    /// offer stops and the node asks its host to read it back
    /// ([`crate::Action::ReadLog`]), so the leader's next request (it asks again every
    /// heartbeat interval) finds it. An entry without its payload is never offered.
    fn repair_offer(&mut self, after_index: u64, after_term: u64) -> RepairOffer {
        match self.log.term_at(after_index) {
            Some(t) if t == after_term => {}
            // Compacted: the entries the leader needs are in a snapshot this node cannot
            // offer here.
            None if after_index < self.log.start_index() => return RepairOffer::Positions,
            _ => {
                let mut hint = after_index.min(self.log.last_index() + 1).saturating_sub(1);
                while hint > self.log.start_index()
                    && self.log.term_at(hint).is_some_and(|t| t > after_term)
                {
                    hint -= 1;
                }
                return RepairOffer::Mismatch { hint };
            }
        }
        let after = self.log.slice(after_index + 1, self.log.last_index() + 1);
        let Some(first) = after.first() else {
            return RepairOffer::Positions;
        };
        let one_term = after
            .iter()
            .take_while(|e| e.term == first.term)
            .take(self.config.max_entries_per_message)
            .count();
        let (mut entries, missing) = self.log_reads.with_payloads(&self.log, &after[..one_term]);
        let mut bytes = 0;
        let fit = entries
            .iter()
            .take_while(|e| {
                bytes += e.data.len();
                bytes <= self.config.max_bytes_per_message || bytes == e.data.len()
            })
            .count();
        entries.truncate(fit);
        if let Some(from) = missing {
            self.log_reads
                .request(&self.log, from, &self.config, &mut self.outbox);
        }
        if entries.is_empty() {
            return RepairOffer::Positions;
        }
        RepairOffer::Entries(entries)
    }

    /// Rule (leader-side repair: the nack quorum and the donor): see the module
    /// documentation. Answers of another term, or from a peer other than the sender, are
    /// ignored.
    pub(super) fn handle_repair_response(&mut self, from: NodeId, response: RepairResponse) {
        if response.term != self.hard_state.term || response.peer != from {
            return;
        }
        let nack_quorum = self.nack_quorum_size();
        let holders = self.commit_holders_needed();
        let own_held = self.vote_log_position();
        let voters = self.voters.clone();
        let own_log = (self.log.last_term(), self.log.last_index());
        let Some(leadership) = self.leadership.as_mut() else {
            return;
        };
        if let Some(progress) = leadership.progress.get_mut(&from) {
            progress.recent_active = true;
        }
        let Some(repair) = leadership.repair.as_mut() else {
            return;
        };
        repair.answers.insert(from, (response.held, response.log));
        if repair.target.is_none() {
            let me = (self.config.id, own_held);
            repair.target = repair_target(&repair.answers, &voters, me, holders, nack_quorum);
        }
        let Some(target) = repair.target else {
            return;
        };
        if own_log < target {
            let fetched = match repair.donor {
                Some((donor, after)) if donor == from && response.after_index == after => {
                    Some(response.offer)
                }
                _ => None,
            };
            if repair.donor.is_none() {
                repair.donor = choose_donor(&repair.answers, target).map(|d| (d, own_log.1));
                if let Some((donor, after)) = repair.donor {
                    self.send_repair_request(donor, Some(after));
                }
                return;
            }
            if let Some(offer) = fetched {
                self.take_repair_offer(from, offer);
            }
        }
        self.finish_leader_repair_once_durable();
    }

    /// Takes what the donor offered: its entries (truncating whatever of this log conflicts,
    /// which the donor's log shows uncommitted), or a retry point; then asks for more.
    fn take_repair_offer(&mut self, donor: NodeId, offer: RepairOffer) {
        let next_after = match offer {
            RepairOffer::Entries(entries) => {
                let Some(first) = entries.first() else { return };
                let conflicts_committed = entries.iter().any(|e| {
                    e.index <= self.commit_index && self.log.term_at(e.index) != Some(e.term)
                });
                if first.index <= self.log.start_index() || conflicts_committed {
                    self.set_repair_donor(None);
                    return;
                }
                let last = entries.last().map_or(0, |e| e.index);
                self.truncate_and_append(entries);
                last
            }
            RepairOffer::Mismatch { hint } if hint >= self.log.start_index() => hint,
            _ => {
                // The donor can offer nothing more here: another is chosen at the next answer.
                self.set_repair_donor(None);
                return;
            }
        };
        self.set_repair_donor(Some((donor, next_after)));
        if let Some(target) = self
            .leadership
            .as_ref()
            .and_then(|l| l.repair.as_ref()?.target)
        {
            if (self.log.last_term(), self.log.last_index()) < target {
                self.send_repair_request(donor, Some(next_after));
            }
        }
    }

    fn set_repair_donor(&mut self, donor: Option<(NodeId, u64)>) {
        if let Some(repair) = self.leadership.as_mut().and_then(|l| l.repair.as_mut()) {
            repair.donor = donor;
        }
    }

    /// Rule (leader-side repair: done): once the durable log reaches the target, the faulty
    /// entries beyond it are given up (never committed: the nack quorum showed it), the
    /// damage is repaired, and the leader appends its no-op as any new leader does.
    pub(super) fn finish_leader_repair_once_durable(&mut self) {
        let Some(target) = self
            .leadership
            .as_ref()
            .and_then(|l| l.repair.as_ref()?.target)
        else {
            return;
        };
        let durable = self.outbox.durable_index().min(self.log.last_index());
        let Some(term) = self.log.term_at(durable) else {
            return;
        };
        let reached = (term, durable) >= target && durable == self.log.last_index();
        if !reached {
            return;
        }
        self.repair = None;
        let next = self.log.last_index() + 1;
        if let Some(leadership) = self.leadership.as_mut() {
            leadership.repair = None;
            for (_, progress) in leadership.progress.iter_mut() {
                *progress = Progress::new(next);
            }
        }
        self.append_noop_and_replicate();
    }

    /// The fewest voters of the current membership that hold any committed entry: a
    /// quorum, and (a change in flight may have committed it with a membership one voter
    /// larger) at least half of them, rounded up.
    fn commit_holders_needed(&self) -> usize {
        let n = self.voters.len();
        self.quorum_needed().min(n.div_ceil(2)).max(1)
    }

    /// How many voters other than this node a nack quorum needs: enough to meet every
    /// commit quorum of the current voters (`n - q + 1`, with the quorum in effect, a rescue
    /// one included), and at least a majority of them.
    pub(super) fn nack_quorum_size(&self) -> usize {
        let n = self.voters.len();
        (n + 1 - self.quorum_needed().min(n)).max(n / 2 + 1)
    }
}

/// The nack quorum's target: among the voters (this node excluded) that answered, the
/// `needed` lowest `held` positions form the nack quorum; the highest of them bounds every
/// committed entry. None until `needed` voters answered.
///
/// Each position is first clipped to the highest index that `holders` voters may hold (this
/// node's own held position and every voter that has not answered counted as holding all):
/// an entry fewer voters answer for is committed nowhere. A clipped position keeps its
/// term, which bounds the term of the entry at the clipped index, so it never claims less
/// than the voter's log up to there.
fn repair_target(
    answers: &Answers,
    voters: &[NodeId],
    (me, own_held): (NodeId, Position),
    holders: usize,
    needed: usize,
) -> Option<Position> {
    let mut held_indexes: Vec<u64> = voters
        .iter()
        .map(|voter| match answers.get(voter) {
            _ if *voter == me => own_held.1,
            Some((held, _)) => held.1,
            None => u64::MAX,
        })
        .collect();
    held_indexes.sort_unstable_by(|a, b| b.cmp(a));
    let committable = held_indexes.get(holders.checked_sub(1)?).copied()?;
    let mut held: Vec<Position> = answers
        .iter()
        .filter(|(peer, _)| **peer != me && voters.contains(peer))
        .map(|(_, (held, _))| (held.0, held.1.min(committable)))
        .collect();
    if needed == 0 || held.len() < needed {
        return None;
    }
    held.sort_unstable();
    Some(held[needed - 1])
}

/// The peer whose intact log reaches `target` and is the most up to date (lowest id on a tie).
fn choose_donor(answers: &Answers, target: (u64, u64)) -> Option<NodeId> {
    answers
        .iter()
        .filter(|(_, (_, log))| *log >= target)
        .max_by(|a, b| a.1 .1.cmp(&b.1 .1).then(b.0.cmp(a.0)))
        .map(|(peer, _)| *peer)
}
