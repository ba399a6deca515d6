//! Builders for a node in a precise state, and for the exact messages and actions a rule
//! expects. The node under test is always `n1`; its peers are `n2`, `n3`, ...
//!
//! Node builders drive the public API only (or start from [`Recovered`]) and check the actions
//! they consume, so a test starts from a state it can name: "follower of n2 in term 4 with log
//! terms [1, 1, 3]", "leader of term 2 whose no-op is committed".
//!
//! The classic Raft rules are tested with PreVote and CheckQuorum off ([`config`]), so each rule
//! is seen on its own; the modules of those features build nodes from [`defaults`] (the
//! configuration `Config::new` gives, both on) with the `*_with` builders.

use bytes::Bytes;
use raft_core::codec::encode_peer_state;
use raft_core::{
    Action, AppendEntries, AppendResponse, Config, Entry, EntryKind, ForwardProposal, HardState,
    LogWrite, Message, Node, NodeId, PeerState, PersistId, ReadAck, Recovered, Role, TimeoutNow,
    VoteRequest, VoteResponse,
};

pub const SEED: u64 = 7;
/// The node under test.
pub const ME: u64 = 1;
pub const THREE: &[u64] = &[1, 2, 3];
pub const FIVE: &[u64] = &[1, 2, 3, 4, 5];

// ----- data ---------------------------------------------------------------------------------

pub fn n(id: u64) -> NodeId {
    NodeId(id)
}

/// Classic Raft: `Config::new` with PreVote and CheckQuorum off.
pub fn config(voters: &[u64], seed: u64) -> Config {
    Config {
        pre_vote: false,
        check_quorum: false,
        ..defaults(voters, seed)
    }
}

/// `Config::new` as it is: PreVote and CheckQuorum on.
pub fn defaults(voters: &[u64], seed: u64) -> Config {
    Config::new(n(ME), voters.iter().copied().map(n).collect(), seed)
}

pub fn hs(term: u64, vote: Option<u64>) -> HardState {
    HardState {
        term,
        vote: vote.map(n),
    }
}

/// A normal entry whose data names its term and index, so entries that differ in term differ
/// in content too.
pub fn entry(term: u64, index: u64) -> Entry {
    Entry::normal(term, index, format!("{term}/{index}"))
}

/// A log holding `terms[i]` at index `i + 1`.
pub fn log(terms: &[u64]) -> Vec<Entry> {
    (1..)
        .zip(terms)
        .map(|(index, &term)| entry(term, index))
        .collect()
}

/// The no-op a new leader of `term` appends at `index`: its peer state.
pub fn noop(term: u64, index: u64, voters: &[u64]) -> Entry {
    let peer_state = PeerState {
        cluster_size: voters.len() as u32,
        peers: voters.iter().copied().map(n).collect(),
        domain_ext: 0,
        observers: vec![],
    };
    Entry {
        term,
        index,
        kind: EntryKind::PeerState,
        data: Bytes::from(encode_peer_state(&peer_state)),
    }
}

/// A membership as the peer-state file and PeerState entries record it.
pub fn peers(voters: &[u64], observers: &[u64]) -> PeerState {
    PeerState {
        cluster_size: voters.len() as u32,
        peers: voters.iter().copied().map(n).collect(),
        domain_ext: 0,
        observers: observers.iter().copied().map(n).collect(),
    }
}

/// A membership entry: the whole membership from `index` on.
pub fn peers_entry(term: u64, index: u64, voters: &[u64], observers: &[u64]) -> Entry {
    Entry {
        term,
        index,
        kind: EntryKind::PeerState,
        data: Bytes::from(encode_peer_state(&peers(voters, observers))),
    }
}

/// `n1` rebuilt from storage holding `hard_state`, `log` and the peer-state file `membership`.
pub fn recovered_member(
    config: Config,
    hard_state: HardState,
    log: Vec<Entry>,
    membership: PeerState,
) -> Node {
    Node::new(
        config,
        Recovered {
            hard_state,
            log,
            membership: Some(membership),
            ..Recovered::default()
        },
    )
    .expect("valid recovery")
}

// ----- messages -----------------------------------------------------------------------------

/// AppendEntries from `leader` in `term`, after the entry (`prev_index`, `prev_term`).
pub fn append(
    leader: u64,
    term: u64,
    prev_index: u64,
    prev_term: u64,
    entries: Vec<Entry>,
    commit: u64,
) -> Message {
    Message::AppendEntries(AppendEntries {
        leader: n(leader),
        term,
        commit,
        prev_term,
        prev_index,
        entries,
        read_seq: 0,
    })
}

/// A successful AppendResponse from `peer`: it holds everything up to `index`.
pub fn ack(peer: u64, term: u64, index: u64) -> Message {
    Message::AppendResponse(AppendResponse {
        term,
        index,
        peer: n(peer),
        success: true,
    })
}

/// A rejected AppendResponse from `peer`: retry from `hint + 1`.
pub fn nack(peer: u64, term: u64, hint: u64) -> Message {
    Message::AppendResponse(AppendResponse {
        term,
        index: hint,
        peer: n(peer),
        success: false,
    })
}

pub fn vote_request(candidate: u64, term: u64, last_index: u64, last_term: u64) -> Message {
    Message::VoteRequest(VoteRequest {
        term,
        last_term,
        last_index,
        candidate: n(candidate),
    })
}

pub fn vote_response(peer: u64, term: u64, granted: bool, empty_log: bool) -> Message {
    Message::VoteResponse(VoteResponse {
        term,
        peer: n(peer),
        granted,
        empty_log,
    })
}

pub fn grant(peer: u64, term: u64) -> Message {
    vote_response(peer, term, true, false)
}

pub fn refuse(peer: u64, term: u64) -> Message {
    vote_response(peer, term, false, false)
}

/// A PreVote request from `candidate`, for `term` (its own term + 1).
pub fn pre_vote_request(candidate: u64, term: u64, last_index: u64, last_term: u64) -> Message {
    Message::PreVoteRequest(VoteRequest {
        term,
        last_term,
        last_index,
        candidate: n(candidate),
    })
}

/// A PreVote response from `peer`; `term` echoes the request's.
pub fn pre_vote_response(peer: u64, term: u64, granted: bool, empty_log: bool) -> Message {
    Message::PreVoteResponse(VoteResponse {
        term,
        peer: n(peer),
        granted,
        empty_log,
    })
}

pub fn pre_vote_grant(peer: u64, term: u64) -> Message {
    pre_vote_response(peer, term, true, false)
}

pub fn pre_vote_refusal(peer: u64, term: u64) -> Message {
    pre_vote_response(peer, term, false, false)
}

/// A vote request of a candidate that campaigns because of a TimeoutNow.
pub fn transfer_vote_request(
    candidate: u64,
    term: u64,
    last_index: u64,
    last_term: u64,
) -> Message {
    Message::TransferVoteRequest(VoteRequest {
        term,
        last_term,
        last_index,
        candidate: n(candidate),
    })
}

pub fn timeout_now(leader: u64, term: u64) -> Message {
    Message::TimeoutNow(TimeoutNow {
        term,
        leader: n(leader),
    })
}

/// A heartbeat of ReadIndex round `read_seq` from `leader`, after (`prev_index`, `prev_term`).
pub fn read_heartbeat(
    leader: u64,
    term: u64,
    prev_index: u64,
    prev_term: u64,
    commit: u64,
    read_seq: u64,
) -> Message {
    Message::AppendEntries(AppendEntries {
        leader: n(leader),
        term,
        commit,
        prev_term,
        prev_index,
        entries: vec![],
        read_seq,
    })
}

pub fn read_ack(peer: u64, term: u64, seq: u64) -> Message {
    Message::ReadAck(ReadAck {
        term,
        seq,
        peer: n(peer),
    })
}

pub fn read_ready(context: u64, index: u64) -> Action {
    Action::ReadReady { context, index }
}

pub fn forwarded(data: &'static str) -> Message {
    Message::ForwardProposal(ForwardProposal {
        data: Bytes::from_static(data.as_bytes()),
        reply: 0,
    })
}

// ----- actions ------------------------------------------------------------------------------

pub fn send(to: u64, message: Message) -> Action {
    Action::Send { to: n(to), message }
}

pub fn persist(id: u64, hard_state: Option<HardState>, log: Option<LogWrite>) -> Action {
    Action::Persist {
        id: PersistId(id),
        hard_state,
        log,
        peers: None,
    }
}

/// A Persist that also rewrites the peer-state file with `peers`.
pub fn persist_with_peers(
    id: u64,
    hard_state: Option<HardState>,
    log: Option<LogWrite>,
    peers: PeerState,
) -> Action {
    Action::Persist {
        id: PersistId(id),
        hard_state,
        log,
        peers: Some(Box::new(peers)),
    }
}

pub fn write(prev_index: u64, prev_term: u64, entries: Vec<Entry>) -> LogWrite {
    LogWrite {
        prev_index,
        prev_term,
        entries,
    }
}

pub fn role(role: Role, term: u64) -> Action {
    Action::RoleChanged { role, term }
}

pub fn leader_changed(term: u64, leader: Option<u64>) -> Action {
    Action::LeaderChanged {
        term,
        leader: leader.map(n),
    }
}

pub fn apply(entries: Vec<Entry>) -> Action {
    Action::Apply { entries }
}

// ----- nodes --------------------------------------------------------------------------------

/// `n1` as rebuilt from storage holding `hard_state` and `log`.
pub fn recovered(voters: &[u64], hard_state: HardState, log: Vec<Entry>) -> Node {
    recovered_with(config(voters, SEED), hard_state, log)
}

/// `n1` with `config`, as rebuilt from storage holding `hard_state` and `log`.
pub fn recovered_with(config: Config, hard_state: HardState, log: Vec<Entry>) -> Node {
    Node::new(
        config,
        Recovered {
            hard_state,
            log,
            ..Recovered::default()
        },
    )
    .expect("valid recovery")
}

/// A follower of a 3-node cluster in `term`, no vote cast, no leader known.
pub fn follower(term: u64, terms: &[u64]) -> Node {
    recovered(THREE, hs(term, None), log(terms))
}

/// A follower of a 3-node cluster in `term` that knows `leader` from a heartbeat (which
/// verified nothing: it sits at index 0). Nothing is in flight.
pub fn follower_of(leader: u64, term: u64, terms: &[u64]) -> Node {
    follower_of_with(config(THREE, SEED), leader, term, terms)
}

/// [`follower_of`] with `config`.
pub fn follower_of_with(config: Config, leader: u64, term: u64, terms: &[u64]) -> Node {
    let mut node = recovered_with(config, hs(term, None), log(terms));
    let actions = node.receive(n(leader), append(leader, term, 0, 0, vec![], 0));
    assert_eq!(
        actions,
        vec![
            leader_changed(term, Some(leader)),
            send(leader, ack(ME, term, 0))
        ]
    );
    node
}

/// A candidate of `term` (recovered in `term - 1`) whose own vote is durable (Persist 1
/// completed) and whose VoteRequests are out. No response received yet.
pub fn candidate(voters: &[u64], term: u64, terms: &[u64]) -> Node {
    candidate_with(config(voters, SEED), term, terms)
}

/// [`candidate`] with `config`; with PreVote on, its pre-vote was granted by the lowest-id
/// peers first.
pub fn candidate_with(config: Config, term: u64, terms: &[u64]) -> Node {
    let voters: Vec<u64> = config.voters.iter().map(|v| v.0).collect();
    let pre_vote = config.pre_vote;
    let mut node = recovered_with(config, hs(term - 1, None), log(terms));
    let mut actions = node.campaign();
    if pre_vote {
        let (last_index, last_term) = (node.last_index(), node.last_term());
        let request = pre_vote_request(ME, term, last_index, last_term);
        let requests: Vec<Action> = voters
            .iter()
            .filter(|&&v| v != ME)
            .map(|&v| send(v, request.clone()))
            .collect();
        assert_eq!(actions, requests);
        for &peer in voters.iter().filter(|&&v| v != ME) {
            actions = node.receive(n(peer), pre_vote_grant(peer, term));
            if node.role() == Role::Candidate {
                break;
            }
        }
    }
    assert_eq!(
        actions,
        vec![
            role(Role::Candidate, term),
            persist(1, Some(hs(term, Some(ME))), None)
        ]
    );
    let requests = node.persisted(PersistId(1)).expect("issued");
    assert_eq!(requests.len(), voters.len() - 1);
    node
}

/// A leader of `term` that has just won: its no-op sits at `terms.len() + 1`, sent to every
/// follower, and its Persist (id 2) is not yet complete.
pub fn leader(voters: &[u64], term: u64, terms: &[u64]) -> Node {
    leader_with(config(voters, SEED), term, terms)
}

/// [`leader`] with `config`.
pub fn leader_with(config: Config, term: u64, terms: &[u64]) -> Node {
    let voters: Vec<u64> = config.voters.iter().map(|v| v.0).collect();
    let mut node = candidate_with(config, term, terms);
    for &peer in voters.iter().filter(|&&v| v != ME) {
        node.receive(n(peer), grant(peer, term));
        if node.role() == Role::Leader {
            break;
        }
    }
    assert_eq!(node.role(), Role::Leader);
    assert_eq!(node.persists_in_flight(), 1);
    node
}

/// A leader of `term` whose no-op is durable, acknowledged by every follower and committed:
/// it has announced itself. Nothing is in flight; the next Persist id is 3.
pub fn ready_leader(voters: &[u64], term: u64, terms: &[u64]) -> Node {
    ready_leader_with(config(voters, SEED), term, terms)
}

/// [`ready_leader`] with `config`.
pub fn ready_leader_with(config: Config, term: u64, terms: &[u64]) -> Node {
    let voters: Vec<u64> = config.voters.iter().map(|v| v.0).collect();
    let mut node = leader_with(config, term, terms);
    let noop_index = node.last_index();
    node.persisted(PersistId(2)).expect("issued");
    for &peer in voters.iter().filter(|&&v| v != ME) {
        node.receive(n(peer), ack(peer, term, noop_index));
    }
    assert!(node.is_ready_leader());
    assert_eq!(node.commit_index(), noop_index);
    assert_eq!(node.persists_in_flight(), 0);
    node
}
