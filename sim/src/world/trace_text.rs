//! How the world's events read in the trace: messages, log writes, roles, client operations
//! and outcomes, written piece by piece into the trace's line (hashed, and rendered only when
//! the trace is kept or echoed) where the trace is hot.
//!
//! Architecture invariant: the pieces are behaviour. The trace hash covers every piece
//! written here (the strings and the integers, and how they are split), so a change here
//! changes every pinned hash; the writers that run for every send or persist
//! (`write_message`, `write_log_write`) do not allocate.

use crate::app::Application;
use crate::history::Outcome;
use crate::put;
use crate::trace::Line;
use raft_core::{ForwardOutcome, ForwardRefusal, LogWrite, Message, NodeId, Role};

pub(super) fn fmt_role(role: Role) -> &'static str {
    match role {
        Role::Follower => "follower",
        Role::Candidate => "candidate",
        Role::Leader => "leader",
    }
}

/// A node or none in the trace line, as votes and known leaders are written: `n1`, or `-`.
pub(super) struct NodeOrNone(pub(super) Option<NodeId>);

impl crate::trace::TraceValue for NodeOrNone {
    fn write(&self, out: &mut Line) {
        match self.0 {
            Some(v) => put!(out, "n", v.0),
            None => out.push('-'),
        }
    }
}

/// `first..last@prev` (or `none@prev`), for the trace line.
pub(super) fn write_log_write(w: &LogWrite, out: &mut Line) {
    match (w.entries.first(), w.entries.last()) {
        (Some(first), Some(last)) => put!(out, first.index, "..", last.index, "@", w.prev_index),
        _ => put!(out, "none@", w.prev_index),
    }
}

/// `ok`, `ok:value`, `fail`, `unknown`: how a completed operation reads in the trace.
pub(super) fn fmt_outcome<A: Application>(outcome: &Outcome<A::Output>) -> String {
    match outcome {
        Outcome::Ok(output) => {
            let mut text = String::from("ok");
            text.push_str(&A::output_text(output));
            text
        }
        Outcome::Fail => "fail".into(),
        Outcome::Unknown => "unknown".into(),
    }
}

/// A short, stable rendering of a message for the trace.
pub fn fmt_message(message: &Message) -> String {
    let mut text = Line::default();
    write_message(message, &mut text);
    text.into_string()
}

/// A (pre-, transfer) vote request as `{kind}(t{term} last={last_term}/{last_index})`.
fn write_vote_request(out: &mut Line, kind: &str, m: &raft_core::VoteRequest) {
    put!(
        out,
        kind,
        "(t",
        m.term,
        " last=",
        m.last_term,
        "/",
        m.last_index,
        ")"
    )
}

/// A (pre-)vote response as `{kind}(t{term} granted|denied)`.
fn write_vote_response(out: &mut Line, kind: &str, m: &raft_core::VoteResponse) {
    let verdict = if m.granted { "granted" } else { "denied" };
    put!(out, kind, "(t", m.term, " ", verdict, ")")
}

/// [`fmt_message`] into `out`, without allocating: the trace hashes this for every send.
pub fn write_message(message: &Message, out: &mut Line) {
    let done = |done: bool| if done { " done" } else { "" };
    match message {
        Message::AppendEntries(m) => {
            put!(
                out,
                "AE(t",
                m.term,
                " prev=",
                m.prev_term,
                "/",
                m.prev_index
            );
            put!(out, " commit=", m.commit, " entries=");
            match (m.entries.first(), m.entries.last()) {
                (Some(a), Some(b)) => put!(out, a.index, "..", b.index, ")"),
                _ => put!(out, "-)"),
            }
        }
        Message::AppendResponse(m) => {
            let verdict = if m.success { "ok" } else { "reject" };
            put!(out, "AR(t", m.term, " ", verdict, " ", m.index, ")")
        }
        Message::VoteRequest(m) => write_vote_request(out, "VQ", m),
        Message::VoteResponse(m) => write_vote_response(out, "VR", m),
        Message::ForwardProposal(m) if m.reply == 0 => put!(out, "FP(", m.data.len(), " bytes)"),
        Message::ForwardProposal(m) => {
            put!(out, "FP(", m.data.len(), " bytes reply=", m.reply, ")")
        }
        Message::ForwardRemovePeer(m) => put!(out, "FRP(n", m.peer.0, " reply=", m.reply, ")"),
        Message::ForwardResponse(m) => {
            put!(out, "FR(t", m.term, " reply=", m.reply, " ");
            write_forward_outcome(out, m.outcome);
            put!(out, ")")
        }
        Message::PreVoteRequest(m) => write_vote_request(out, "PVQ", m),
        Message::PreVoteResponse(m) => write_vote_response(out, "PVR", m),
        Message::TimeoutNow(m) => put!(out, "TN(t", m.term, ")"),
        Message::TransferVoteRequest(m) => write_vote_request(out, "TVQ", m),
        Message::ReadAck(m) => put!(out, "RA(t", m.term, " seq=", m.seq, ")"),
        Message::InstallSnapshot(m) => {
            put!(
                out,
                "IS(t",
                m.term,
                " snap=",
                m.meta.term,
                "/",
                m.meta.index
            );
            put!(
                out,
                " offset=",
                m.offset,
                " bytes=",
                m.data.len(),
                done(m.done),
                ")"
            )
        }
        Message::SnapshotResponse(m) => {
            put!(
                out,
                "SR(t",
                m.term,
                " snap=",
                m.index,
                " next=",
                m.next_offset
            );
            put!(out, done(m.done), ")")
        }
        Message::RepairRequest(m) => {
            let fetch = if m.fetch { " fetch" } else { "" };
            put!(
                out,
                "RQ(t",
                m.term,
                " after=",
                m.after_term,
                "/",
                m.after_index
            );
            put!(out, fetch, ")")
        }
        Message::RepairResponse(m) => {
            put!(out, "RP(t", m.term, " held=", m.held.0, "/", m.held.1);
            put!(out, " log=", m.log.0, "/", m.log.1, " ");
            match &m.offer {
                raft_core::RepairOffer::Positions => put!(out, "positions)"),
                raft_core::RepairOffer::Entries(e) => match (e.first(), e.last()) {
                    (Some(a), Some(b)) => put!(out, "entries=", a.index, "..", b.index, ")"),
                    _ => put!(out, "entries=-)"),
                },
                raft_core::RepairOffer::Mismatch { hint } => put!(out, "retry after ", hint, ")"),
            }
        }
    }
}

/// A forwarded proposal's outcome: `accepted=INDEX` or `refused=WHY`.
pub(super) fn write_forward_outcome(out: &mut Line, outcome: ForwardOutcome) {
    match outcome {
        ForwardOutcome::Accepted { index } => put!(out, "accepted=", index),
        ForwardOutcome::Refused(why) => put!(out, "refused=", fmt_forward_refusal(why)),
    }
}

pub(super) fn fmt_forward_refusal(why: ForwardRefusal) -> &'static str {
    match why {
        ForwardRefusal::NotLeader => "not-leader",
        ForwardRefusal::NotReady => "not-ready",
        ForwardRefusal::TransferInProgress => "transferring",
        ForwardRefusal::Overloaded => "overloaded",
        ForwardRefusal::MembershipChangePending => "change-pending",
        ForwardRefusal::NotAMember => "not-a-member",
        ForwardRefusal::LastVoter => "last-voter",
    }
}
