//! One tag byte in front of a message's body, for hosts that carry every message on one
//! channel (NRG tells them apart by NATS subject instead).

use super::extensions::{
    decode_forward_proposal_with_reply, decode_forward_remove_peer_with_reply,
    decode_forward_response, decode_install_snapshot, decode_read_ack, decode_snapshot_response,
    decode_timeout_now, write_forward_proposal_with_reply, write_forward_remove_peer,
    write_forward_response, write_install_snapshot, write_read_ack, write_snapshot_response,
    write_timeout_now,
};
use super::nrg::{
    append_entries_encoded_len, decode_append_entries, decode_append_entries_with,
    decode_append_response, decode_forward_proposal, decode_vote_request, decode_vote_response,
    write_append_entries, write_append_response, write_vote_request, write_vote_response,
    APPEND_RESPONSE_LEN, VOTE_REQUEST_LEN, VOTE_RESPONSE_LEN,
};
use super::repair::{
    decode_repair_request, decode_repair_response, write_repair_request, write_repair_response,
};
use super::wire::Writer;
use super::{DecodeError, EncodeError};
use crate::message::Message;
use bytes::Bytes;

/// Envelope tag of [`Message::AppendEntries`].
pub const TAG_APPEND_ENTRIES: u8 = 1;
/// Envelope tag of [`Message::AppendResponse`].
pub const TAG_APPEND_RESPONSE: u8 = 2;
/// Envelope tag of [`Message::VoteRequest`].
pub const TAG_VOTE_REQUEST: u8 = 3;
/// Envelope tag of [`Message::VoteResponse`].
pub const TAG_VOTE_RESPONSE: u8 = 4;
/// Envelope tag of [`Message::ForwardProposal`].
pub const TAG_FORWARD_PROPOSAL: u8 = 5;
/// Envelope tag of [`Message::PreVoteRequest`] (body: the vote request layout).
pub const TAG_PRE_VOTE_REQUEST: u8 = 6;
/// Envelope tag of [`Message::PreVoteResponse`] (body: the vote response layout).
pub const TAG_PRE_VOTE_RESPONSE: u8 = 7;
/// Envelope tag of [`Message::TimeoutNow`].
pub const TAG_TIMEOUT_NOW: u8 = 8;
/// Envelope tag of [`Message::TransferVoteRequest`] (body: the vote request layout).
pub const TAG_TRANSFER_VOTE_REQUEST: u8 = 9;
/// Envelope tag of [`Message::ReadAck`].
pub const TAG_READ_ACK: u8 = 10;
/// Envelope tag of [`Message::InstallSnapshot`] (not in NRG).
pub const TAG_INSTALL_SNAPSHOT: u8 = 11;
/// Envelope tag of [`Message::SnapshotResponse`] (not in NRG).
pub const TAG_SNAPSHOT_RESPONSE: u8 = 12;

/// Envelope tag of a [`Message::ForwardProposal`] with a reply inbox (not 0).
pub const TAG_FORWARD_PROPOSAL_WITH_REPLY: u8 = 13;
/// Envelope tag of [`Message::ForwardRemovePeer`].
pub const TAG_FORWARD_REMOVE_PEER: u8 = 14;
/// Envelope tag of [`Message::ForwardResponse`] (not in NRG).
pub const TAG_FORWARD_RESPONSE: u8 = 15;
/// Envelope tag of [`Message::RepairRequest`] (not in NRG).
pub const TAG_REPAIR_REQUEST: u8 = 16;
/// Envelope tag of [`Message::RepairResponse`] (not in NRG).
pub const TAG_REPAIR_RESPONSE: u8 = 17;

/// The envelope tag of a message.
pub fn envelope_tag(m: &Message) -> u8 {
    match m {
        Message::AppendEntries(_) => TAG_APPEND_ENTRIES,
        Message::AppendResponse(_) => TAG_APPEND_RESPONSE,
        Message::VoteRequest(_) => TAG_VOTE_REQUEST,
        Message::VoteResponse(_) => TAG_VOTE_RESPONSE,
        Message::ForwardProposal(m) if m.reply != 0 => TAG_FORWARD_PROPOSAL_WITH_REPLY,
        Message::ForwardProposal(_) => TAG_FORWARD_PROPOSAL,
        Message::ForwardRemovePeer(_) => TAG_FORWARD_REMOVE_PEER,
        Message::ForwardResponse(_) => TAG_FORWARD_RESPONSE,
        Message::PreVoteRequest(_) => TAG_PRE_VOTE_REQUEST,
        Message::PreVoteResponse(_) => TAG_PRE_VOTE_RESPONSE,
        Message::TimeoutNow(_) => TAG_TIMEOUT_NOW,
        Message::TransferVoteRequest(_) => TAG_TRANSFER_VOTE_REQUEST,
        Message::ReadAck(_) => TAG_READ_ACK,
        Message::InstallSnapshot(_) => TAG_INSTALL_SNAPSHOT,
        Message::SnapshotResponse(_) => TAG_SNAPSHOT_RESPONSE,
        Message::RepairRequest(_) => TAG_REPAIR_REQUEST,
        Message::RepairResponse(_) => TAG_REPAIR_RESPONSE,
    }
}

/// Encodes any message as one tag byte followed by its NRG body, for hosts that carry all
/// messages on one channel. Fails only for an AppendEntries that
/// [`super::encode_append_entries`] rejects, or a repair response whose entries could not
/// travel in one.
pub fn encode_envelope(m: &Message) -> Result<Vec<u8>, EncodeError> {
    let mut out = Vec::with_capacity(1 + body_len_hint(m));
    out.push(envelope_tag(m));
    let w = &mut Writer::new(&mut out);
    match m {
        Message::AppendEntries(x) => write_append_entries(w, x)?,
        Message::AppendResponse(x) => write_append_response(w, x),
        Message::VoteRequest(x) | Message::PreVoteRequest(x) | Message::TransferVoteRequest(x) => {
            write_vote_request(w, x)
        }
        Message::VoteResponse(x) | Message::PreVoteResponse(x) => write_vote_response(w, x),
        Message::ForwardProposal(x) if x.reply != 0 => write_forward_proposal_with_reply(w, x),
        Message::ForwardProposal(x) => {
            w.bytes(&x.data);
        }
        Message::ForwardRemovePeer(x) => write_forward_remove_peer(w, x),
        Message::ForwardResponse(x) => write_forward_response(w, x),
        Message::TimeoutNow(x) => write_timeout_now(w, x),
        Message::ReadAck(x) => write_read_ack(w, x),
        Message::InstallSnapshot(x) => write_install_snapshot(w, x),
        Message::SnapshotResponse(x) => write_snapshot_response(w, x),
        Message::RepairRequest(x) => write_repair_request(w, x),
        Message::RepairResponse(x) => write_repair_response(w, x)?,
    }
    Ok(out)
}

/// The body's length for the messages sent most (exact), so that encoding one allocates
/// once instead of allocating the tag and then reallocating for the body; 0 for the rest,
/// whose writers reserve their exact length (one reallocation, no slack).
fn body_len_hint(m: &Message) -> usize {
    match m {
        Message::AppendEntries(x) => append_entries_encoded_len(x),
        Message::AppendResponse(_) => APPEND_RESPONSE_LEN,
        Message::VoteRequest(_) | Message::PreVoteRequest(_) | Message::TransferVoteRequest(_) => {
            VOTE_REQUEST_LEN
        }
        Message::VoteResponse(_) | Message::PreVoteResponse(_) => VOTE_RESPONSE_LEN,
        _ => 0,
    }
}

/// [`decode_envelope`] of an envelope held in a [`Bytes`]: an AppendEntries' payloads are
/// slices of `buf`, sharing its buffer, instead of copies (one allocation and copy per entry
/// fewer). A receiver that keeps an entry keeps the whole buffer until it drops the last
/// entry taken from it. Every other message decodes as [`decode_envelope`] does.
pub fn decode_envelope_shared(buf: &Bytes) -> Result<Message, DecodeError> {
    match buf.split_first() {
        Some((&TAG_APPEND_ENTRIES, body)) => Ok(Message::AppendEntries(
            decode_append_entries_with(body, |payload| buf.slice_ref(payload))?,
        )),
        _ => decode_envelope(buf),
    }
}

/// Decodes an envelope made by [`encode_envelope`]. Offsets in errors are relative to the body
/// (the byte after the tag).
pub fn decode_envelope(buf: &[u8]) -> Result<Message, DecodeError> {
    let (&tag, body) = buf.split_first().ok_or(DecodeError::EmptyEnvelope)?;
    Ok(match tag {
        TAG_APPEND_ENTRIES => Message::AppendEntries(decode_append_entries(body)?),
        TAG_APPEND_RESPONSE => Message::AppendResponse(decode_append_response(body)?),
        TAG_VOTE_REQUEST => Message::VoteRequest(decode_vote_request(body)?),
        TAG_VOTE_RESPONSE => Message::VoteResponse(decode_vote_response(body)?),
        TAG_FORWARD_PROPOSAL => Message::ForwardProposal(decode_forward_proposal(body)?),
        TAG_PRE_VOTE_REQUEST => Message::PreVoteRequest(decode_vote_request(body)?),
        TAG_PRE_VOTE_RESPONSE => Message::PreVoteResponse(decode_vote_response(body)?),
        TAG_TIMEOUT_NOW => Message::TimeoutNow(decode_timeout_now(body)?),
        TAG_TRANSFER_VOTE_REQUEST => Message::TransferVoteRequest(decode_vote_request(body)?),
        TAG_READ_ACK => Message::ReadAck(decode_read_ack(body)?),
        TAG_INSTALL_SNAPSHOT => Message::InstallSnapshot(Box::new(decode_install_snapshot(body)?)),
        TAG_SNAPSHOT_RESPONSE => Message::SnapshotResponse(decode_snapshot_response(body)?),
        TAG_FORWARD_PROPOSAL_WITH_REPLY => {
            Message::ForwardProposal(decode_forward_proposal_with_reply(body)?)
        }
        TAG_FORWARD_REMOVE_PEER => {
            Message::ForwardRemovePeer(decode_forward_remove_peer_with_reply(body)?)
        }
        TAG_FORWARD_RESPONSE => Message::ForwardResponse(decode_forward_response(body)?),
        TAG_REPAIR_REQUEST => Message::RepairRequest(decode_repair_request(body)?),
        TAG_REPAIR_RESPONSE => Message::RepairResponse(Box::new(decode_repair_response(body)?)),
        tag => return Err(DecodeError::UnknownTag { tag }),
    })
}
