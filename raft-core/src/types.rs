//! Plain data types shared by the node, the codecs and hosts.

use bytes::Bytes;
use std::fmt;

/// A peer's identity. NRG identifies peers with 8 opaque bytes; we carry them as a `u64`
/// whose little-endian bytes are the 8 bytes on the wire and on disk.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct NodeId(pub u64);

impl NodeId {
    /// The 8 bytes used by the NRG formats.
    pub fn to_bytes(self) -> [u8; 8] {
        self.0.to_le_bytes()
    }
    /// Inverse of [`NodeId::to_bytes`].
    pub fn from_bytes(bytes: [u8; 8]) -> NodeId {
        NodeId(u64::from_le_bytes(bytes))
    }
}

impl fmt::Debug for NodeId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "n{}", self.0)
    }
}

impl fmt::Display for NodeId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "n{}", self.0)
    }
}

/// NRG entry types (`EntryType uint8`). The numeric values are the wire values.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum EntryKind {
    /// Application data.
    Normal = 0,
    /// Legacy snapshot entry; decoded for compatibility, never produced.
    OldSnapshot = 1,
    /// Encoded [`PeerState`]; a new leader's no-op.
    PeerState = 2,
    /// Data is the 8-byte id of the peer to add.
    AddPeer = 3,
    /// Data is the 8-byte id of the peer to remove.
    RemovePeer = 4,
    /// Data is the 8-byte id of the transfer target.
    LeaderTransfer = 5,
    /// Application snapshot.
    Snapshot = 6,
}

impl EntryKind {
    /// Decodes a wire value; `None` for values NRG does not put on the wire (7 is internal).
    pub fn from_u8(value: u8) -> Option<EntryKind> {
        Some(match value {
            0 => EntryKind::Normal,
            1 => EntryKind::OldSnapshot,
            2 => EntryKind::PeerState,
            3 => EntryKind::AddPeer,
            4 => EntryKind::RemovePeer,
            5 => EntryKind::LeaderTransfer,
            6 => EntryKind::Snapshot,
            _ => return None,
        })
    }
}

/// One log entry. `index` is its position in the log (1-based); `term` is the leader term in
/// which it was created.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct Entry {
    pub term: u64,
    pub index: u64,
    pub kind: EntryKind,
    pub data: Bytes,
}

impl Entry {
    pub fn normal(term: u64, index: u64, data: impl Into<Bytes>) -> Entry {
        Entry {
            term,
            index,
            kind: EntryKind::Normal,
            data: data.into(),
        }
    }
}

impl fmt::Debug for Entry {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}:{:?}", self.term, self.index, self.kind)?;
        if !self.data.is_empty() {
            match std::str::from_utf8(&self.data) {
                Ok(s) if s.chars().all(|c| !c.is_control()) => write!(f, "({s:?})")?,
                _ => write!(f, "({} bytes)", self.data.len())?,
            }
        }
        Ok(())
    }
}

/// The durable (term, vote) pair; NRG's `tav.idx`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default, Hash)]
pub struct HardState {
    pub term: u64,
    pub vote: Option<NodeId>,
}

/// The cluster membership as NRG encodes it in `peers.idx`, `EntryPeerState` and snapshot
/// files.
///
/// raft-core writes `cluster_size` as the number of voters and reads membership from the
/// lists alone (quorums are majorities of `peers`), so a replayed or repeated peer state can
/// never change the quorum size by itself.
#[derive(Clone, Debug, PartialEq, Eq, Default, Hash)]
pub struct PeerState {
    /// Expected number of voters (NRG `csz`).
    pub cluster_size: u32,
    /// The voters, in a stable (sorted) order.
    pub peers: Vec<NodeId>,
    /// NRG domain-extension state (0 undetermined, 1 extended, 2 not extended).
    pub domain_ext: u16,
    /// Non-voting members (observers), sorted; disjoint from `peers`. Not in NRG: encoded as
    /// an optional extension after `domainExt`, written only when non-empty, so a peer state
    /// without observers is byte-identical to NRG's (see [`crate::codec::encode_peer_state`]).
    pub observers: Vec<NodeId>,
}

/// What a snapshot stands for: the state machine after applying every entry up to `index`
/// (whose term is `term`), and the membership in effect at `index`.
#[derive(Clone, Debug, PartialEq, Eq, Default, Hash)]
pub struct SnapshotMeta {
    /// The last index the snapshot covers (NRG `lastIndex`); never 0.
    pub index: u64,
    /// The term of the entry at `index` (NRG `lastTerm`).
    pub term: u64,
    /// The membership at `index`.
    pub peers: PeerState,
}

/// A snapshot: its metadata and the application's opaque state (NRG snapshot file contents).
#[derive(Clone, PartialEq, Eq, Default, Hash)]
pub struct Snapshot {
    pub meta: SnapshotMeta,
    pub data: Bytes,
}

impl fmt::Debug for Snapshot {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Snapshot")
            .field("meta", &self.meta)
            .field("data", &format_args!("{} bytes", self.data.len()))
            .finish()
    }
}
