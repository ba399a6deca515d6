//! NRG wire formats for every [`Message`], plus a tagged envelope for hosts that carry all
//! messages on one channel.
//!
//! All integers are little-endian. NRG tells message types apart by NATS subject, so each type
//! has its own `encode_*` / `decode_*` pair producing exactly the NRG body; hosts with a single
//! channel use [`encode_envelope`] / [`decode_envelope`] (one tag byte + the NRG body).
//!
//! | message | layout |
//! |---|---|
//! | [`AppendEntries`] | `leader [8] · term u64 · commit u64 · pterm u64 · pindex u64 · count u16` (42 bytes), then per entry `len u32 (= 1 + data len) · type u8 · data`, then a uvarint `lterm` trailer, then (only when non-zero) a uvarint `read_seq` |
//! | [`AppendResponse`] | `term u64 · index u64 · peer [8] · success u8` (25 bytes) |
//! | [`VoteRequest`] | `term u64 · lastTerm u64 · lastIndex u64 · candidate [8]` (32 bytes) |
//! | [`VoteResponse`] | `term u64 · peer [8] · flags u8` (17 bytes; bit0 granted, bit1 empty log) |
//! | [`ForwardProposal`] | the raw data |
//! | [`ForwardRemovePeer`] | `peer [8]` (8 bytes) |
//! | [`ForwardResponse`] | `term u64 · reply u64 · outcome u8`, then `index u64` when the outcome is 0 (accepted; 1 to 7 are refusals) |
//! | [`TimeoutNow`] | `term u64 · leader [8]` (16 bytes) |
//! | [`ReadAck`] | `term u64 · seq u64 · peer [8]` (24 bytes) |
//! | [`InstallSnapshot`] | `term u64 · leader [8] · lastTerm u64 · lastIndex u64 · peerstateLen u32 · peerstate · offset u64 · done u8 · data` (the rest) |
//! | [`SnapshotResponse`] | `term u64 · peer [8] · index u64 · nextOffset u64 · done u8` (33 bytes) |
//! | [`RepairRequest`] | `term u64 · leader [8] · afterIndex u64 · afterTerm u64 · fetch u8` (33 bytes) |
//! | [`RepairResponse`] | `term u64 · peer [8] · heldTerm u64 · heldIndex u64 · logTerm u64 · logIndex u64 · afterIndex u64 · offer u8`, then an append entry body holding the entries (offer 1) or `hint u64` (offer 2) |
//! | [`PeerState`] | `clusterSize u32 · nPeers u32 · n × peer [8] · domainExt u16`, then (only with observers) `nObservers u32 · m × peer [8]` |
//!
//! ## AppendEntries term mapping
//!
//! On the wire, `term` is the term of the entries and the optional `lterm` trailer carries the
//! sender's current term when it differs (NRG catch-up re-sends). Our [`AppendEntries`] carries
//! the sender's term in `term` and a term in every entry. The encoder writes wire `term` = the
//! entries' term (or the message term for a heartbeat) and `lterm` = the message term when it
//! differs from wire `term`, else 0. The encoder always writes the trailer (a single `0x00` when
//! zero). The decoder accepts a missing trailer (= 0) and sets the message term to `lterm` when it
//! is non-zero, else to wire `term`; entry `i` gets term = wire `term` and index `pindex + 1 + i`.
//!
//! ## Extensions beyond NRG, and how they stay NRG-compatible
//!
//! NRG has no PreVote, no ReadIndex and transfers leadership with a log entry. Every
//! extension leaves the NRG layouts of the messages NRG knows untouched:
//!
//! - PreVote requests and responses ([`Message::PreVoteRequest`], [`Message::PreVoteResponse`])
//!   and the transfer-exempt vote request ([`Message::TransferVoteRequest`]) reuse the 32-byte
//!   vote request and 17-byte vote response bodies; only the envelope tag (on NRG's transport:
//!   the subject) tells them from real votes, so a real vote is byte-identical to NRG's.
//! - [`TimeoutNow`] and [`ReadAck`] are new messages with their own tags and layouts, and so
//!   are [`InstallSnapshot`] and [`SnapshotResponse`] (NRG sends a snapshot as one
//!   `EntrySnapshot` append entry; chunks need an offset). The snapshot metadata in a chunk
//!   has the snapshot file's header layout (`lastTerm · lastIndex · peerstateLen · peerstate`).
//! - Forwarding: NRG answers a forwarded proposal on the reply subject the forwarder's
//!   request carried (an empty message once the leader took it). The NRG bodies of
//!   [`ForwardProposal`] and [`ForwardRemovePeer`] stay as they are, with the reply inbox
//!   beside them (`reply`, 0 when nobody waits); the envelope, which has no subjects, puts
//!   it in front of the body: tag 13 (`reply u64 · data`) for a forwarded proposal with a
//!   reply inbox (one without keeps tag 5 and NRG's body), tag 14 (`reply u64 · peer [8]`)
//!   for a forwarded removal. The answer, [`ForwardResponse`], is new: it says where the
//!   entry landed, or why the leader refused it (NRG stays silent then).
//! - Leader-side repair ([`RepairRequest`], [`RepairResponse`]) is new: NRG truncates a
//!   damaged log instead. The entries a peer offers travel as an NRG append entry body.
//! - The ReadIndex round number rides in a second uvarint after the `lterm` trailer of an
//!   append entry, written only when non-zero. NRG decoders ignore bytes after `lterm`, and an
//!   append entry without reads in flight (and every WAL record) is byte-identical to NRG's.
//!
//! | tag | message | tag | message |
//! |---|---|---|---|
//! | 1 | AppendEntries | 6 | PreVoteRequest |
//! | 2 | AppendResponse | 7 | PreVoteResponse |
//! | 3 | VoteRequest | 8 | TimeoutNow |
//! | 4 | VoteResponse | 9 | TransferVoteRequest |
//! | 5 | ForwardProposal | 10 | ReadAck |
//! | 11 | InstallSnapshot | 12 | SnapshotResponse |
//! | 13 | ForwardProposal with reply | 14 | ForwardRemovePeer |
//! | 15 | ForwardResponse | 16 | RepairRequest |
//! | 17 | RepairResponse | | |
//!
//! Decoders never panic, never allocate from an untrusted count before checking the input is
//! long enough for it, and reject trailing bytes. Every [`DecodeError`] names what is wrong and
//! the byte offset where it was found.
//!
//! | file | what |
//! |---|---|
//! | `wire.rs` | [`put_uvarint`] and the crate's `Writer` / `Reader` cursors every layout uses |
//! | `nrg.rs` | the NRG layouts |
//! | `extensions.rs` | the layouts of the messages NRG does not have |
//! | `repair.rs` | the layouts of the leader-side repair messages |
//! | `envelope.rs` | the tag byte |
//! | `errors.rs` | [`DecodeError`], [`EncodeError`] |
//!
//! [`Message`]: crate::message::Message
//! [`AppendEntries`]: crate::message::AppendEntries
//! [`AppendResponse`]: crate::message::AppendResponse
//! [`VoteRequest`]: crate::message::VoteRequest
//! [`VoteResponse`]: crate::message::VoteResponse
//! [`ForwardProposal`]: crate::message::ForwardProposal
//! [`ForwardRemovePeer`]: crate::message::ForwardRemovePeer
//! [`ForwardResponse`]: crate::message::ForwardResponse
//! [`TimeoutNow`]: crate::message::TimeoutNow
//! [`ReadAck`]: crate::message::ReadAck
//! [`InstallSnapshot`]: crate::message::InstallSnapshot
//! [`SnapshotResponse`]: crate::message::SnapshotResponse
//! [`RepairRequest`]: crate::message::RepairRequest
//! [`RepairResponse`]: crate::message::RepairResponse
//! [`PeerState`]: crate::types::PeerState
//! [`Message::PreVoteRequest`]: crate::message::Message::PreVoteRequest
//! [`Message::PreVoteResponse`]: crate::message::Message::PreVoteResponse
//! [`Message::TransferVoteRequest`]: crate::message::Message::TransferVoteRequest

#[cfg(test)]
mod edge_tests;
mod envelope;
mod errors;
mod extensions;
mod nrg;
mod repair;
#[cfg(test)]
mod tests;
mod wire;

pub use envelope::*;
pub use errors::{DecodeError, EncodeError};
pub use extensions::{
    decode_forward_response, encode_forward_response, FORWARD_RESPONSE_ACCEPTED_LEN,
};
pub use extensions::{
    decode_install_snapshot, decode_read_ack, decode_snapshot_response, decode_timeout_now,
    encode_install_snapshot, encode_read_ack, encode_snapshot_response, encode_timeout_now,
};
pub use extensions::{
    INSTALL_SNAPSHOT_FIXED_LEN, READ_ACK_LEN, SNAPSHOT_RESPONSE_LEN, TIMEOUT_NOW_LEN,
};
pub use nrg::{
    append_entries_encoded_len, decode_append_entries, decode_append_entries_filtered,
    decode_append_response, decode_forward_proposal, decode_forward_remove_peer, decode_peer_state,
    decode_vote_request, decode_vote_response, encode_append_entries, encode_append_entries_into,
    encode_append_response, encode_forward_proposal, encode_forward_remove_peer, encode_peer_state,
    encode_peer_state_into, encode_vote_request, encode_vote_response,
};
pub use nrg::{
    APPEND_ENTRIES_HEADER_LEN, APPEND_RESPONSE_LEN, FORWARD_REMOVE_PEER_LEN,
    MAX_ENTRIES_PER_MESSAGE, MAX_ENTRY_DATA_LEN, VOTE_FLAG_EMPTY_LOG, VOTE_FLAG_GRANTED,
    VOTE_REQUEST_LEN, VOTE_RESPONSE_LEN,
};
pub use repair::{
    decode_repair_request, decode_repair_response, encode_repair_request, encode_repair_response,
    REPAIR_REQUEST_LEN, REPAIR_RESPONSE_FIXED_LEN,
};
pub use wire::put_uvarint;
pub(crate) use wire::Writer;
