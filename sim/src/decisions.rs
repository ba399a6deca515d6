//! Decisions: every random choice a run makes while it runs, each derived from a key that
//! says what it is about, and each recorded so that a bundle replays it.
//!
//! The configuration, the fault script and the client workload are drawn before a run (and
//! saved in a bundle as they are). Everything else random happens while the run runs: a
//! message's fate and delay, a client hop's latency, an fsync's latency, what a power loss
//! keeps of unsynced writes, what a corruption damages, the nemesis's choices at run time,
//! each node's clock drift and each node life's election seed. This room makes those
//! decisions, in two halves:
//!
//! 1. **Derivation.** A decision draws from a generator of its own, seeded by the run seed,
//!    its label and its key ([`Key`]): a message's sender, receiver, kind, term and indexes,
//!    and its ordinal among messages identical in all of those; a client's operation,
//!    attempt and leg; a node life's persist id; and so on. Nothing is drawn by position
//!    in a shared stream, so an extra draw, one more message or a loop that runs the other
//!    way changes only the decisions it touches.
//! 2. **Recording.** Every decision made is kept as ([`Key`], ordinal, [`Value`]) and saved in
//!    a bundle. A replay takes the recorded value wherever the key and ordinal match and
//!    derives only what is new, so even a change in how a value is derived (a new draw
//!    inside a decision, another distribution) leaves a bundle's run as it was.
//!
//! What survives which change is spelled out in ARCHITECTURE.md ("Replay across code
//! changes"). A recorded value is adjusted to the run's present rules before use (no loss,
//! duplication or slow fsync once the faults have stopped, a torn write within the
//! unsynced bytes there are), so a replay never breaks a promise of the simulator.

mod text;

use crate::config::Micros;
use crate::rng::{derive_seed, mix, Stream};
use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};

pub use text::ParseError;

/// What a decision is about. Two decisions with the same key are told apart by their ordinal
/// (the first made is 0).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Key {
    /// A message's fate: its identity on the wire (see [`MessageKey`]).
    Message(MessageKey),
    /// One hop between a client and a node: the operation, the attempt, and which way.
    Hop {
        client: u32,
        seq: u64,
        attempt: u32,
        leg: Leg,
    },
    /// The latency of a node life's persist (its id, unique within the life).
    Fsync { node: u8, life: u64, persist: u64 },
    /// What a node's power loss keeps: the life it ends.
    PowerLoss { node: u8, life: u64 },
    /// What a scripted corruption damages: its node and virtual time.
    Corruption { node: u8, at: Micros },
    /// When a leader that accepted the operator's change crashes, and for how long.
    LeaderCrash { node: u8, life: u64, term: u64 },
    /// The bridge node of the residual partition that outlasts the faults.
    Bridge,
    /// A node's clock drift.
    ClockDrift { node: u8 },
    /// The seed of a node life's election timer (raft-core derives each timeout from it).
    Election { node: u8, life: u64 },
    /// Which of the application's snapshot inputs a snapshot upkeep on a node makes (a roll
    /// the host reads), and when its second step comes: the node and virtual time.
    Upkeep { node: u8, at: Micros },
}

/// Which way a client hop goes (the numbers are part of the key's hash).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Leg {
    Request = 1,
    Reply = 2,
}

/// A message's identity: sender, receiver, kind, term and up to four numbers the kind
/// carries (indexes, flags; see `text.rs` for which). Two sends with the same identity are
/// told apart by their ordinal.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct MessageKey {
    pub from: u8,
    pub to: u8,
    pub kind: MessageKind,
    pub term: u64,
    pub fields: [u64; 4],
}

/// The kinds of message on the wire, raft-core's and the perturbation test's ping.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
/// The numbers are part of every message key's hash: never renumber one.
pub enum MessageKind {
    AppendEntries = 1,
    AppendResponse = 2,
    VoteRequest = 3,
    VoteResponse = 4,
    ForwardProposal = 5,
    PreVoteRequest = 6,
    PreVoteResponse = 7,
    TimeoutNow = 8,
    TransferVoteRequest = 9,
    ReadAck = 10,
    InstallSnapshot = 11,
    SnapshotResponse = 12,
    /// `crate::perturbation::Perturbation::ExtraMessage`.
    Ping = 13,
    ForwardRemovePeer = 14,
    ForwardResponse = 15,
    RepairRequest = 16,
    RepairResponse = 17,
}

/// A decided value.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Value {
    Fate(FateDraw),
    Latency(Micros),
    Fsync(FsyncDraw),
    PowerLoss(PowerLossDraw),
    Corruption(CorruptionDraw),
    LeaderCrash { after_us: Micros, down_us: Micros },
    Node(u8),
    DriftPpm(i64),
    Seed(u64),
}

/// A message's fate, when no partition cuts it: lost or not, its latency (drawn for lost
/// messages too, so a replay in which loss has stopped can deliver it), and the latency of
/// a duplicate.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FateDraw {
    pub dropped: bool,
    pub latency: Micros,
    pub duplicate: Option<Micros>,
}

/// An fsync's latency, and the extra time of a slow one.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FsyncDraw {
    pub latency: Micros,
    pub slow_by: Option<Micros>,
}

/// What a power loss keeps of unsynced WAL bytes, and which renamed small files survive.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PowerLossDraw {
    pub unsynced: Unsynced,
    /// Bit `i` set: the renamed replacement of small file `i` (term/vote, peer state,
    /// snapshot) survives the missing directory fsync.
    pub renames_kept: u8,
}

/// What happens to unsynced WAL bytes at a power loss.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Unsynced {
    /// Lost.
    Lost,
    /// A sector-aligned prefix is kept (a torn write); `roll` picks the sector boundary
    /// among those inside the unsynced bytes.
    Torn { roll: u64 },
    /// The disk wrote them all before it died.
    Kept,
}

/// What a corruption damages, as rolls over the synced bytes there are when it strikes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CorruptionDraw {
    BitFlip {
        roll: u64,
        bit: u8,
    },
    ZeroSector {
        roll: u64,
    },
    /// A WAL write reported durable never reached the medium: the synced write `roll`
    /// picks reads back as zeros (`disk/lost_writes.rs`).
    LostWrite {
        roll: u64,
    },
    /// A WAL write landed at the start of another synced write (`target` picks it), and
    /// its own place reads back as zeros.
    MisdirectedWrite {
        roll: u64,
        target: u64,
    },
}

/// One recorded decision.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Decision {
    pub key: Key,
    pub ordinal: u32,
    pub value: Value,
}

/// How a run used the decisions it was given.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Usage {
    /// Decisions given (a bundle's recording).
    pub given: usize,
    /// Decisions taken from them.
    pub replayed: usize,
    /// Decisions drawn because none was recorded for their key.
    pub drawn: usize,
}

/// A hasher for keys that are hashes already.
#[derive(Default)]
struct Prehashed(u64);

impl Hasher for Prehashed {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, _: &[u8]) {
        unreachable!("only u64 keys")
    }
    fn write_u64(&mut self, n: u64) {
        self.0 = n;
    }
}

type HashedMap<V> = HashMap<u64, V, BuildHasherDefault<Prehashed>>;

/// The decisions of one run: how many of each key were made, the recording being replayed,
/// and every decision made so far.
pub struct Decisions {
    seed: u64,
    /// `Perturbation::ExtraDraw`: each derivation draws one value more, first.
    extra_draw: bool,
    /// Decisions made per key (by the key's hash): the next ordinal.
    counts: HashedMap<u32>,
    /// The recording replayed, by the hash of (key, ordinal).
    recorded: HashedMap<Value>,
    made: Vec<Decision>,
    usage: Usage,
    /// A recording is replayed and holds no snapshot upkeep: it was made before upkeeps
    /// were drawn, when every snapshot fault was a plain snapshot.
    recorded_before_upkeeps: bool,
}

impl Decisions {
    /// The decisions of run `seed`, taking `recorded` ones where their key matches.
    pub fn new(seed: u64, recorded: &[Decision], extra_draw: bool) -> Decisions {
        let mut map = HashedMap::default();
        for decision in recorded {
            if decision.value.fits(&decision.key) {
                map.insert(
                    mix(decision.key.hash(), u64::from(decision.ordinal)),
                    decision.value,
                );
            }
        }
        let recorded_before_upkeeps =
            !recorded.is_empty() && !recorded.iter().any(|d| matches!(d.key, Key::Upkeep { .. }));
        Decisions {
            seed,
            recorded_before_upkeeps,
            extra_draw,
            counts: HashedMap::default(),
            recorded: map,
            made: Vec::new(),
            usage: Usage {
                given: recorded.len(),
                ..Usage::default()
            },
        }
    }

    /// Makes the decision `key`: the recorded value if there is one, else one drawn by
    /// `derive` from the key's generator; `adjust` then fits it to the run's present rules.
    /// Either way it is recorded as used.
    fn decide(
        &mut self,
        key: Key,
        derive: impl FnOnce(&mut Stream) -> Value,
        adjust: impl FnOnce(Value) -> Value,
    ) -> Value {
        let hash = key.hash();
        let count = self.counts.entry(hash).or_insert(0);
        let ordinal = *count;
        *count += 1;
        let identity = mix(hash, u64::from(ordinal));
        let value = match self.recorded.get(&identity) {
            Some(&value) => {
                self.usage.replayed += 1;
                value
            }
            None => {
                self.usage.drawn += 1;
                let mut stream = Stream::from_seed(mix(self.seed, identity));
                if self.extra_draw {
                    stream.next_u64();
                }
                derive(&mut stream)
            }
        };
        let value = adjust(value);
        self.made.push(Decision {
            key,
            ordinal,
            value,
        });
        value
    }

    pub fn fate(
        &mut self,
        key: MessageKey,
        derive: impl FnOnce(&mut Stream) -> FateDraw,
        adjust: impl FnOnce(FateDraw) -> FateDraw,
    ) -> FateDraw {
        match self.decide(
            Key::Message(key),
            |s| Value::Fate(derive(s)),
            |v| match v {
                Value::Fate(f) => Value::Fate(adjust(f)),
                other => other,
            },
        ) {
            Value::Fate(f) => f,
            other => unreachable!("a message decided {other:?}"),
        }
    }

    pub fn hop(&mut self, key: Key, derive: impl FnOnce(&mut Stream) -> Micros) -> Micros {
        match self.decide(key, |s| Value::Latency(derive(s)), |v| v) {
            Value::Latency(l) => l,
            other => unreachable!("a hop decided {other:?}"),
        }
    }

    pub fn fsync(
        &mut self,
        key: Key,
        derive: impl FnOnce(&mut Stream) -> FsyncDraw,
        adjust: impl FnOnce(FsyncDraw) -> FsyncDraw,
    ) -> FsyncDraw {
        match self.decide(
            key,
            |s| Value::Fsync(derive(s)),
            |v| match v {
                Value::Fsync(f) => Value::Fsync(adjust(f)),
                other => other,
            },
        ) {
            Value::Fsync(f) => f,
            other => unreachable!("an fsync decided {other:?}"),
        }
    }

    pub fn power_loss(
        &mut self,
        key: Key,
        derive: impl FnOnce(&mut Stream) -> PowerLossDraw,
    ) -> PowerLossDraw {
        match self.decide(key, |s| Value::PowerLoss(derive(s)), |v| v) {
            Value::PowerLoss(p) => p,
            other => unreachable!("a power loss decided {other:?}"),
        }
    }

    pub fn corruption(
        &mut self,
        key: Key,
        derive: impl FnOnce(&mut Stream) -> CorruptionDraw,
    ) -> CorruptionDraw {
        match self.decide(key, |s| Value::Corruption(derive(s)), |v| v) {
            Value::Corruption(c) => c,
            other => unreachable!("a corruption decided {other:?}"),
        }
    }

    pub fn leader_crash(
        &mut self,
        key: Key,
        derive: impl FnOnce(&mut Stream) -> (Micros, Micros),
    ) -> (Micros, Micros) {
        let derive = |s: &mut Stream| {
            let (after_us, down_us) = derive(s);
            Value::LeaderCrash { after_us, down_us }
        };
        match self.decide(key, derive, |v| v) {
            Value::LeaderCrash { after_us, down_us } => (after_us, down_us),
            other => unreachable!("a leader crash decided {other:?}"),
        }
    }

    /// A node among `candidates` (not empty): the recorded one if it is among them.
    pub fn node(&mut self, key: Key, candidates: &[usize]) -> usize {
        let pick = |s: &mut Stream| Value::Node(candidates[s.below(candidates.len())] as u8);
        let fit = |v: Value| match v {
            Value::Node(n) if candidates.contains(&usize::from(n)) => v,
            _ => Value::Node(candidates[0] as u8),
        };
        match self.decide(key, pick, fit) {
            Value::Node(n) => usize::from(n),
            other => unreachable!("a node choice decided {other:?}"),
        }
    }

    pub fn drift_ppm(&mut self, key: Key, derive: impl FnOnce(&mut Stream) -> i64) -> i64 {
        match self.decide(key, |s| Value::DriftPpm(derive(s)), |v| v) {
            Value::DriftPpm(d) => d,
            other => unreachable!("a clock drift decided {other:?}"),
        }
    }

    /// The roll of a snapshot upkeep (`Key::Upkeep`). A recording made before upkeeps were
    /// drawn replays as it ran: roll 0, a plain snapshot.
    pub fn upkeep(&mut self, key: Key, derive: impl FnOnce(&mut Stream) -> u64) -> u64 {
        let older = self.recorded_before_upkeeps;
        let derive = |s: &mut Stream| Value::Seed(if older { 0 } else { derive(s) });
        match self.decide(key, derive, |v| v) {
            Value::Seed(roll) => roll,
            other => unreachable!("an upkeep decided {other:?}"),
        }
    }

    /// A node life's election seed. Derived from the run seed and the label
    /// `election/n<node>/<life>` (not from the key's hash like the other decisions), so that
    /// scripted scenarios, which drive nodes tick by tick, keep their elections when the
    /// decisions' hashing changes.
    pub fn election_seed(&mut self, node: usize, life: u64) -> u64 {
        let key = Key::Election {
            node: node as u8,
            life,
        };
        let label = format!("election/n{node}/{life}");
        let seed = derive_seed(self.seed, &label);
        let derive = |_: &mut Stream| Value::Seed(seed);
        match self.decide(key, derive, |v| v) {
            Value::Seed(s) => s,
            other => unreachable!("a seed decided {other:?}"),
        }
    }

    /// Every decision made so far, in the order made.
    pub fn made(&self) -> &[Decision] {
        &self.made
    }

    pub fn usage(&self) -> Usage {
        self.usage
    }

    pub fn into_made(self) -> Vec<Decision> {
        self.made
    }
}

impl Key {
    /// A stable hash of everything in the key (not of the ordinal).
    pub fn hash(&self) -> u64 {
        let parts: &[u64] = &match *self {
            Key::Message(m) => [
                1,
                u64::from(m.from),
                u64::from(m.to),
                m.kind as u64,
                m.term,
                m.fields[0],
                m.fields[1],
                m.fields[2],
                m.fields[3],
            ],
            Key::Hop {
                client,
                seq,
                attempt,
                leg,
            } => [
                2,
                u64::from(client),
                seq,
                u64::from(attempt),
                leg as u64,
                0,
                0,
                0,
                0,
            ],
            Key::Fsync {
                node,
                life,
                persist,
            } => [3, u64::from(node), life, persist, 0, 0, 0, 0, 0],
            Key::PowerLoss { node, life } => [4, u64::from(node), life, 0, 0, 0, 0, 0, 0],
            Key::Corruption { node, at } => [5, u64::from(node), at, 0, 0, 0, 0, 0, 0],
            Key::LeaderCrash { node, life, term } => {
                [6, u64::from(node), life, term, 0, 0, 0, 0, 0]
            }
            Key::Bridge => [7, 0, 0, 0, 0, 0, 0, 0, 0],
            Key::ClockDrift { node } => [8, u64::from(node), 0, 0, 0, 0, 0, 0, 0],
            Key::Election { node, life } => [9, u64::from(node), life, 0, 0, 0, 0, 0, 0],
            Key::Upkeep { node, at } => [10, u64::from(node), at, 0, 0, 0, 0, 0, 0],
        };
        // FxHash's fold (one multiply per part: a key is hashed for every message), then a
        // full mix so that every bit of every part reaches every bit of the hash.
        let folded = parts.iter().fold(0u64, |h, &p| {
            (h.rotate_left(5) ^ p).wrapping_mul(0x517c_c1b7_2722_0a95)
        });
        mix(0x5851_f42d_4c95_7f2d, folded)
    }
}

impl Value {
    /// Whether this is the kind of value `key` decides.
    fn fits(&self, key: &Key) -> bool {
        matches!(
            (key, self),
            (Key::Message(_), Value::Fate(_))
                | (Key::Hop { .. }, Value::Latency(_))
                | (Key::Fsync { .. }, Value::Fsync(_))
                | (Key::PowerLoss { .. }, Value::PowerLoss(_))
                | (Key::Corruption { .. }, Value::Corruption(_))
                | (Key::LeaderCrash { .. }, Value::LeaderCrash { .. })
                | (Key::Bridge, Value::Node(_))
                | (Key::ClockDrift { .. }, Value::DriftPpm(_))
                | (Key::Election { .. }, Value::Seed(_))
                | (Key::Upkeep { .. }, Value::Seed(_))
        )
    }
}

impl MessageKey {
    /// The identity of `message` sent from `from` to `to`.
    pub fn of(from: usize, to: usize, message: &raft_core::Message) -> MessageKey {
        use raft_core::Message as M;
        let flag = u64::from;
        let (kind, fields) = match message {
            M::AppendEntries(m) => (
                MessageKind::AppendEntries,
                [m.prev_index, m.entries.len() as u64, m.commit, m.read_seq],
            ),
            M::AppendResponse(m) => (
                MessageKind::AppendResponse,
                [m.index, flag(m.success), 0, 0],
            ),
            M::VoteRequest(m) => (MessageKind::VoteRequest, [m.last_term, m.last_index, 0, 0]),
            M::VoteResponse(m) => (MessageKind::VoteResponse, [flag(m.granted), 0, 0, 0]),
            M::ForwardProposal(m) => (
                MessageKind::ForwardProposal,
                [content_hash(&m.data), 0, 0, 0],
            ),
            M::ForwardRemovePeer(m) => (MessageKind::ForwardRemovePeer, [m.peer.0, m.reply, 0, 0]),
            M::ForwardResponse(m) => {
                let index = match m.outcome {
                    raft_core::ForwardOutcome::Accepted { index } => index,
                    raft_core::ForwardOutcome::Refused(_) => 0,
                };
                (MessageKind::ForwardResponse, [m.reply, index, 0, 0])
            }
            M::PreVoteRequest(m) => (
                MessageKind::PreVoteRequest,
                [m.last_term, m.last_index, 0, 0],
            ),
            M::PreVoteResponse(m) => (MessageKind::PreVoteResponse, [flag(m.granted), 0, 0, 0]),
            M::TimeoutNow(_) => (MessageKind::TimeoutNow, [0; 4]),
            M::TransferVoteRequest(m) => (
                MessageKind::TransferVoteRequest,
                [m.last_term, m.last_index, 0, 0],
            ),
            M::ReadAck(m) => (MessageKind::ReadAck, [m.seq, 0, 0, 0]),
            M::InstallSnapshot(m) => (
                MessageKind::InstallSnapshot,
                [m.meta.index, m.offset, flag(m.done), 0],
            ),
            M::SnapshotResponse(m) => (
                MessageKind::SnapshotResponse,
                [m.index, m.next_offset, flag(m.done), 0],
            ),
            M::RepairRequest(m) => (
                MessageKind::RepairRequest,
                [m.after_index, flag(m.fetch), 0, 0],
            ),
            M::RepairResponse(m) => (
                MessageKind::RepairResponse,
                [m.after_index, repair_offer_code(&m.offer), 0, 0],
            ),
        };
        MessageKey {
            from: from as u8,
            to: to as u8,
            kind,
            term: message.term(),
            fields,
        }
    }

    /// The perturbation test's ping from `from` to `to`.
    pub fn ping(from: usize, to: usize) -> MessageKey {
        MessageKey {
            from: from as u8,
            to: to as u8,
            kind: MessageKind::Ping,
            term: 0,
            fields: [0; 4],
        }
    }
}

/// Which offer a repair response carries: 0 positions, 1 entries, 2 a retry point.
fn repair_offer_code(offer: &raft_core::RepairOffer) -> u64 {
    match offer {
        raft_core::RepairOffer::Positions => 0,
        raft_core::RepairOffer::Entries(_) => 1,
        raft_core::RepairOffer::Mismatch { .. } => 2,
    }
}

/// FNV-1a of a forwarded proposal's bytes: which proposal it is.
fn content_hash(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |h, &b| {
        (h ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3)
    })
}

#[cfg(test)]
mod tests;
