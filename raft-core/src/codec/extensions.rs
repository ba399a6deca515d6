//! The messages NRG does not have: TimeoutNow and ReadAck, the snapshot transfer in
//! chunks (InstallSnapshot, SnapshotResponse), the leader's answer to a forwarded proposal
//! (ForwardResponse), and the envelope bodies of forwarded proposals that carry a reply
//! inbox (NRG carries it as the reply subject). Each has a layout of its own and an envelope
//! tag of its own, so the NRG layouts stay untouched.

use super::nrg::{decode_peer_state, encode_peer_state};
use super::wire::{check_exact_len, Reader, Writer};
use super::DecodeError;
use crate::message::{
    ForwardOutcome, ForwardProposal, ForwardRefusal, ForwardRemovePeer, ForwardResponse,
    InstallSnapshot, ReadAck, SnapshotResponse, TimeoutNow,
};
use crate::types::SnapshotMeta;
use bytes::Bytes;

/// Exact length of an encoded [`TimeoutNow`].
pub const TIMEOUT_NOW_LEN: usize = 16;
/// Exact length of an encoded [`ReadAck`].
pub const READ_ACK_LEN: usize = 24;
/// Length of an encoded [`SnapshotResponse`].
pub const SNAPSHOT_RESPONSE_LEN: usize = 33;
/// Length of an [`InstallSnapshot`] without its peer state and data.
pub const INSTALL_SNAPSHOT_FIXED_LEN: usize = 8 + 8 + 8 + 8 + 4 + 8 + 1;

// ----- TimeoutNow / ReadAck ------------------------------------------------------------------

pub(super) fn write_timeout_now(w: &mut Writer<'_>, m: &TimeoutNow) {
    w.reserve(TIMEOUT_NOW_LEN).u64(m.term).node(m.leader);
}

/// Encodes the 16-byte [`TimeoutNow`]: `term u64 · leader [8]`.
pub fn encode_timeout_now(m: &TimeoutNow) -> Vec<u8> {
    let mut out = Vec::new();
    write_timeout_now(&mut Writer::new(&mut out), m);
    out
}

/// Decodes the 16-byte [`TimeoutNow`].
pub fn decode_timeout_now(buf: &[u8]) -> Result<TimeoutNow, DecodeError> {
    const WHAT: &str = "timeout now";
    check_exact_len(WHAT, buf, TIMEOUT_NOW_LEN)?;
    let mut r = Reader::new(buf, WHAT);
    Ok(TimeoutNow {
        term: r.u64()?,
        leader: r.node()?,
    })
}

pub(super) fn write_read_ack(w: &mut Writer<'_>, m: &ReadAck) {
    w.reserve(READ_ACK_LEN).u64(m.term).u64(m.seq).node(m.peer);
}

/// Encodes the 24-byte [`ReadAck`]: `term u64 · seq u64 · peer [8]`.
pub fn encode_read_ack(m: &ReadAck) -> Vec<u8> {
    let mut out = Vec::new();
    write_read_ack(&mut Writer::new(&mut out), m);
    out
}

/// Decodes the 24-byte [`ReadAck`].
pub fn decode_read_ack(buf: &[u8]) -> Result<ReadAck, DecodeError> {
    const WHAT: &str = "read ack";
    check_exact_len(WHAT, buf, READ_ACK_LEN)?;
    let mut r = Reader::new(buf, WHAT);
    Ok(ReadAck {
        term: r.u64()?,
        seq: r.u64()?,
        peer: r.node()?,
    })
}

// ----- InstallSnapshot / SnapshotResponse ----------------------------------------------------

/// Encodes an [`InstallSnapshot`]: `term u64 · leader [8] · lastTerm u64 · lastIndex u64 ·
/// peerstateLen u32 · peerstate · offset u64 · done u8 · data`.
///
/// # Panics
/// If the encoded peer state is longer than `u32::MAX` bytes.
pub fn encode_install_snapshot(m: &InstallSnapshot) -> Vec<u8> {
    let mut out = Vec::new();
    write_install_snapshot(&mut Writer::new(&mut out), m);
    out
}

pub(super) fn write_install_snapshot(w: &mut Writer<'_>, m: &InstallSnapshot) {
    let peers = encode_peer_state(&m.meta.peers);
    let peers_len = u32::try_from(peers.len()).expect("peer state over 4 GiB");
    w.reserve(INSTALL_SNAPSHOT_FIXED_LEN + peers.len() + m.data.len())
        .u64(m.term)
        .node(m.leader)
        .u64(m.meta.term)
        .u64(m.meta.index)
        .u32(peers_len)
        .bytes(&peers)
        .u64(m.offset)
        .bool(m.done)
        .bytes(&m.data);
}

/// Decodes an [`InstallSnapshot`]; the data is everything after the `done` byte.
pub fn decode_install_snapshot(buf: &[u8]) -> Result<InstallSnapshot, DecodeError> {
    let mut r = Reader::new(buf, "install snapshot");
    let term = r.u64()?;
    let leader = r.node()?;
    let last_term = r.u64()?;
    let last_index = r.u64()?;
    let peers_len = r.u32()? as usize;
    r.what = "install snapshot peer state";
    let peers = decode_peer_state(r.take(peers_len)?)?;
    r.what = "install snapshot";
    let offset = r.u64()?;
    let done = r.bool("install snapshot done")?;
    let data = Bytes::copy_from_slice(r.take(r.remaining())?);
    Ok(InstallSnapshot {
        term,
        leader,
        meta: SnapshotMeta {
            index: last_index,
            term: last_term,
            peers,
        },
        offset,
        data,
        done,
    })
}

pub(super) fn write_snapshot_response(w: &mut Writer<'_>, m: &SnapshotResponse) {
    w.reserve(SNAPSHOT_RESPONSE_LEN)
        .u64(m.term)
        .node(m.peer)
        .u64(m.index)
        .u64(m.next_offset)
        .bool(m.done);
}

/// Encodes the 33-byte [`SnapshotResponse`]: `term u64 · peer [8] · index u64 · nextOffset
/// u64 · done u8`.
pub fn encode_snapshot_response(m: &SnapshotResponse) -> Vec<u8> {
    let mut out = Vec::new();
    write_snapshot_response(&mut Writer::new(&mut out), m);
    out
}

/// Decodes the 33-byte [`SnapshotResponse`].
pub fn decode_snapshot_response(buf: &[u8]) -> Result<SnapshotResponse, DecodeError> {
    const WHAT: &str = "snapshot response";
    check_exact_len(WHAT, buf, SNAPSHOT_RESPONSE_LEN)?;
    let mut r = Reader::new(buf, WHAT);
    Ok(SnapshotResponse {
        term: r.u64()?,
        peer: r.node()?,
        index: r.u64()?,
        next_offset: r.u64()?,
        done: r.bool("snapshot response done")?,
    })
}

// ----- Forwarding: the reply inbox and the leader's answer -----------------------------------

/// Length of an encoded [`ForwardResponse`] that accepts (a refusal has no index: 17 bytes).
pub const FORWARD_RESPONSE_ACCEPTED_LEN: usize = 8 + 8 + 1 + 8;
/// Outcome code of an accepted forward (refusals use their [`ForwardRefusal`] code, 1..=7).
const FORWARD_ACCEPTED: u8 = 0;

fn forward_refusal(code: u8) -> Option<ForwardRefusal> {
    use ForwardRefusal::*;
    [
        NotLeader,
        NotReady,
        TransferInProgress,
        Overloaded,
        MembershipChangePending,
        NotAMember,
        LastVoter,
    ]
    .into_iter()
    .find(|&r| r as u8 == code)
}

pub(super) fn write_forward_response(w: &mut Writer<'_>, m: &ForwardResponse) {
    w.reserve(FORWARD_RESPONSE_ACCEPTED_LEN)
        .u64(m.term)
        .u64(m.reply);
    match m.outcome {
        ForwardOutcome::Accepted { index } => w.u8(FORWARD_ACCEPTED).u64(index),
        ForwardOutcome::Refused(why) => w.u8(why as u8),
    };
}

/// Encodes a [`ForwardResponse`]: `term u64 · reply u64 · outcome u8`, then, when the
/// outcome is 0 (accepted), `index u64`. Outcomes 1 to 7 are the [`ForwardRefusal`] codes.
pub fn encode_forward_response(m: &ForwardResponse) -> Vec<u8> {
    let mut out = Vec::new();
    write_forward_response(&mut Writer::new(&mut out), m);
    out
}

/// Decodes a [`ForwardResponse`] (17 bytes for a refusal, 25 for an acceptance).
pub fn decode_forward_response(buf: &[u8]) -> Result<ForwardResponse, DecodeError> {
    let mut r = Reader::new(buf, "forward response");
    let term = r.u64()?;
    let reply = r.u64()?;
    let code = r.u8()?;
    let outcome = match code {
        FORWARD_ACCEPTED => ForwardOutcome::Accepted { index: r.u64()? },
        code => ForwardOutcome::Refused(forward_refusal(code).ok_or(DecodeError::BadFlag {
            what: "forward response outcome",
            offset: 16,
            value: code,
        })?),
    };
    r.finish()?;
    Ok(ForwardResponse {
        term,
        reply,
        outcome,
    })
}

/// The envelope body of a forwarded proposal that waits for an answer (tag 13): `reply u64
/// · data`. One without (reply 0) keeps tag 5 and NRG's body, so the two never overlap.
pub(super) fn write_forward_proposal_with_reply(w: &mut Writer<'_>, m: &ForwardProposal) {
    w.reserve(8 + m.data.len()).u64(m.reply).bytes(&m.data);
}

pub(super) fn decode_forward_proposal_with_reply(
    buf: &[u8],
) -> Result<ForwardProposal, DecodeError> {
    const WHAT: &str = "forward proposal with reply";
    let mut r = Reader::new(buf, WHAT);
    let reply = r.u64()?;
    if reply == 0 {
        return Err(DecodeError::BadValue {
            what: WHAT,
            offset: 0,
            reason: "reply inbox 0 (a proposal without one has tag 5)",
        });
    }
    Ok(ForwardProposal {
        data: Bytes::copy_from_slice(r.take(r.remaining())?),
        reply,
    })
}

/// The envelope body of a forwarded remove-peer proposal (tag 14): `reply u64 · peer [8]`
/// (NRG's body after the reply inbox; 0: nobody waits for the answer).
pub(super) fn write_forward_remove_peer(w: &mut Writer<'_>, m: &ForwardRemovePeer) {
    w.reserve(16).u64(m.reply).node(m.peer);
}

pub(super) fn decode_forward_remove_peer_with_reply(
    buf: &[u8],
) -> Result<ForwardRemovePeer, DecodeError> {
    const WHAT: &str = "forward remove peer";
    check_exact_len(WHAT, buf, 16)?;
    let mut r = Reader::new(buf, WHAT);
    Ok(ForwardRemovePeer {
        reply: r.u64()?,
        peer: r.node()?,
    })
}
