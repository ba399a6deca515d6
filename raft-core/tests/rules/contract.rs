//! The host contract (persist ids only the node hands out, applies only of what was handed
//! out) and determinism.

use crate::support::*;
use raft_core::{
    Action, AppendResponse, Config, ContractError, Message, Node, NodeId, PersistId, ReadAck,
    Recovered, VoteResponse,
};
use std::collections::VecDeque;

#[test]
fn persisted_with_an_id_never_issued_is_a_contract_error() {
    let mut node = follower(1, &[]);
    assert_eq!(
        node.persisted(PersistId(1)),
        Err(ContractError::UnknownPersist {
            id: PersistId(1),
            last_issued: PersistId(0)
        })
    );

    node.campaign();
    assert_eq!(
        node.persisted(PersistId(2)),
        Err(ContractError::UnknownPersist {
            id: PersistId(2),
            last_issued: PersistId(1)
        })
    );
    assert_eq!(
        node.held_messages(),
        2,
        "the refused report released nothing"
    );
}

#[test]
fn persisted_again_for_a_completed_id_changes_nothing() {
    let mut node = candidate(THREE, 2, &[]);

    assert_eq!(node.persisted(PersistId(1)), Ok(vec![]));
}

#[test]
fn applied_beyond_what_was_handed_out_is_a_contract_error() {
    // Single voter, leader of term 1 with its no-op (index 1) committed and handed out.
    let mut node = Node::new(Config::new(n(ME), vec![n(ME)], SEED), Recovered::default()).unwrap();
    node.campaign();
    node.persisted(PersistId(1)).unwrap();
    node.persisted(PersistId(2)).unwrap();

    assert_eq!(
        node.applied(2),
        Err(ContractError::AppliedBeyondCommitted {
            index: 2,
            handed_out: 1
        })
    );
    assert_eq!(node.applied_index(), 0);
    assert_eq!(node.applied(1), Ok(vec![]));
    assert_eq!(node.applied_index(), 1);
}

// ----- determinism --------------------------------------------------------------------------

#[derive(Clone, Debug)]
enum Input {
    Tick,
    Persisted(PersistId),
    Applied(u64),
    Receive(NodeId, Message),
    Propose(u64, &'static str),
    Read(u64),
}

fn feed(node: &mut Node, input: &Input) -> Vec<Action> {
    match input {
        Input::Tick => node.tick(),
        Input::Persisted(id) => node.persisted(*id).expect("issued"),
        Input::Applied(index) => node.applied(*index).expect("handed out"),
        Input::Receive(from, message) => node.receive(*from, message.clone()),
        Input::Propose(term, data) => match node.propose(*term, *data) {
            Ok(proposed) => proposed.actions,
            Err(_) => vec![],
        },
        Input::Read(context) => node.read_index(*context).unwrap_or_default(),
    }
}

/// [`feed`] through the `*_into` inputs, with one buffer reused across calls. Every other
/// call the buffer holds an action left over from before, which must stay first.
fn feed_into(node: &mut Node, input: &Input, buffer: &mut Vec<Action>, step: usize) -> Vec<Action> {
    let leftover = Action::ReadReady {
        context: u64::MAX,
        index: 0,
    };
    if step % 2 == 1 {
        buffer.push(leftover.clone());
    }
    match input {
        Input::Tick => node.tick_into(buffer),
        Input::Persisted(id) => node.persisted_into(*id, buffer).expect("issued"),
        Input::Applied(index) => node.applied_into(*index, buffer).expect("handed out"),
        Input::Receive(from, message) => node.receive_into(*from, message.clone(), buffer),
        Input::Propose(term, data) => {
            let _ = node.propose_into(*term, *data, buffer);
        }
        Input::Read(context) => buffer.extend(node.read_index(*context).unwrap_or_default()),
    }
    if step % 2 == 1 {
        assert_eq!(
            buffer.first(),
            Some(&leftover),
            "appended after what was there"
        );
        buffer.remove(0);
    }
    // Cleared, not taken: the buffer (and its allocation) is passed in again.
    let actions = buffer.clone();
    buffer.clear();
    actions
}

/// What a prompt host and always-agreeing peers answer to `actions`.
fn answers(actions: &[Action]) -> Vec<Input> {
    let mut inputs = Vec::new();
    for action in actions {
        match action {
            Action::Persist { id, .. } | Action::PersistSnapshot { id, .. } => {
                inputs.push(Input::Persisted(*id))
            }
            Action::ApplySnapshot { snapshot, .. } => inputs.push(Input::Applied(snapshot.index)),
            Action::Apply { entries } => {
                inputs.push(Input::Applied(entries.last().expect("non-empty").index))
            }
            Action::Send { to, message } => {
                if let Message::AppendEntries(m) = message {
                    if m.read_seq != 0 {
                        let ack = Message::ReadAck(ReadAck {
                            term: m.term,
                            seq: m.read_seq,
                            peer: *to,
                        });
                        inputs.push(Input::Receive(*to, ack));
                    }
                }
                let reply = match message {
                    Message::PreVoteRequest(m) => Message::PreVoteResponse(VoteResponse {
                        term: m.term,
                        peer: *to,
                        granted: true,
                        empty_log: true,
                    }),
                    Message::VoteRequest(m) => Message::VoteResponse(VoteResponse {
                        term: m.term,
                        peer: *to,
                        granted: true,
                        empty_log: true,
                    }),
                    Message::AppendEntries(m) => Message::AppendResponse(AppendResponse {
                        term: m.term,
                        index: m.prev_index + m.entries.len() as u64,
                        peer: *to,
                        success: true,
                    }),
                    _ => continue,
                };
                inputs.push(Input::Receive(*to, reply));
            }
            Action::RoleChanged { .. }
            | Action::LeaderChanged { .. }
            | Action::ReadReady { .. }
            | Action::ForwardAnswered { .. }
            | Action::ResetStorage { .. } => {}
            Action::ReadLog { from, to } => {
                panic!("read of {from}..={to} asked, but this host never sets a log cache bound")
            }
        }
    }
    inputs
}

/// Runs two nodes built alike through 400 identical inputs: answers first; otherwise time
/// passes, every fifth time the application proposes and every seventh it reads. The second
/// node is fed by `feed_b` (given the step number).
fn run_twice(
    build: impl Fn() -> Node,
    mut feed_b: impl FnMut(&mut Node, &Input, usize) -> Vec<Action>,
) -> (Node, Vec<Vec<Action>>, Vec<Vec<Action>>) {
    let (mut a, mut b) = (build(), build());
    let (mut stream_a, mut stream_b) = (Vec::new(), Vec::new());
    let mut pending = VecDeque::new();
    let mut idle = 0;
    for step in 0..400 {
        let input = pending.pop_front().unwrap_or_else(|| {
            idle += 1;
            if idle % 5 == 0 {
                Input::Propose(a.term(), "x")
            } else if idle % 7 == 0 {
                Input::Read(idle)
            } else {
                Input::Tick
            }
        });
        let actions_a = feed(&mut a, &input);
        let actions_b = feed_b(&mut b, &input, step);
        pending.extend(answers(&actions_a));
        stream_a.push(actions_a);
        stream_b.push(actions_b);
    }
    (a, stream_a, stream_b)
}

#[test]
fn same_config_seed_and_inputs_give_identical_actions() {
    let build = || recovered(FIVE, hs(0, None), vec![]);
    let (a, stream_a, stream_b) = run_twice(build, |node, input, _| feed(node, input));

    assert!(a.is_ready_leader(), "the run went through an election");
    assert!(
        a.commit_index() > 10,
        "and committed proposals: {}",
        a.commit_index()
    );
    assert_eq!(stream_a, stream_b);
    assert_eq!(format!("{stream_a:?}"), format!("{stream_b:?}"));
}

#[test]
fn same_config_seed_and_inputs_give_identical_actions_with_every_feature_on() {
    let build = || recovered_with(defaults(FIVE, SEED), hs(0, None), vec![]);
    let (a, stream_a, stream_b) = run_twice(build, |node, input, _| feed(node, input));

    assert!(
        a.is_ready_leader(),
        "the run went through a pre-vote and an election"
    );
    let reads = stream_a
        .iter()
        .flatten()
        .filter(|action| matches!(action, Action::ReadReady { .. }))
        .count();
    assert!(reads > 5, "and served reads: {reads}");
    assert_eq!(stream_a, stream_b);
    assert_eq!(format!("{stream_a:?}"), format!("{stream_b:?}"));
}

#[test]
fn the_into_inputs_give_the_same_actions_as_the_plain_ones() {
    let build = || recovered_with(defaults(FIVE, SEED), hs(0, None), vec![]);
    let mut buffer = Vec::new();
    let (a, stream_a, stream_b) = run_twice(build, |node, input, step| {
        feed_into(node, input, &mut buffer, step)
    });
    assert!(
        a.commit_index() > 10,
        "the run elected a leader and committed"
    );
    assert_eq!(stream_a, stream_b);
}

// ----- what the node reports to its host ----------------------------------------------------

#[test]
fn node_reports_its_own_id() {
    let node = follower(1, &[]);

    assert_eq!(node.id(), n(ME));
}

#[test]
fn durable_index_moves_only_when_the_host_reports_the_write_persisted() {
    let mut node = follower_of(2, 2, &[1, 1]);
    assert_eq!(node.durable_index(), 2, "a recovered log is durable");

    let actions = node.receive(n(2), append(2, 2, 2, 1, vec![entry(2, 3)], 0));
    assert_eq!(
        actions,
        vec![persist(1, None, Some(write(2, 1, vec![entry(2, 3)])))]
    );
    assert_eq!(node.durable_index(), 2, "written, not yet persisted");

    node.persisted(PersistId(1)).unwrap();
    assert_eq!(node.durable_index(), 3);
}

#[test]
fn entry_is_looked_up_by_index_within_the_log() {
    let node = follower(2, &[1, 2]);

    assert_eq!(node.entry(2), Some(&entry(2, 2)));
    assert_eq!(node.entry(3), None, "beyond the log");
    assert_eq!(node.entry(0), None, "index 0 holds no entry");
}

#[test]
fn is_paused_reports_pause_and_resume() {
    let mut node = follower(1, &[]);
    assert!(!node.is_paused());

    node.pause_apply();
    assert!(node.is_paused());
    node.resume_apply();
    assert!(!node.is_paused());
}
