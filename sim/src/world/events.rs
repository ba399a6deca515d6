//! The event queue: everything scheduled to happen at a virtual time, popped in (time,
//! sequence number) order.
//!
//! Architecture invariant: the queue is the only source of order in a run. Every event gets
//! the next sequence number when it is scheduled, so two events at the same virtual time run
//! in the order they were scheduled; the order in which the rooms schedule is therefore
//! behaviour, as much as the order of their random draws. The queue knows nothing of what
//! the events mean: which room handles each one is the event loop's business
//! (`event_loop.rs`).

use super::clients::Reply;
use super::disk_io::SmallFile;
use crate::app::Application;
use crate::config::Micros;
use bytes::Bytes;
use raft_core::PersistId;
use std::cmp::Reverse;
use std::collections::BinaryHeap;

/// Something scheduled to happen at a virtual time.
pub(super) enum Event<A: Application> {
    Tick {
        node: usize,
        incarnation: u64,
    },
    Deliver {
        from: usize,
        to: usize,
        /// The message as it crosses the wire: raft-core's envelope encoding, decoded at
        /// delivery (`wire.rs`).
        bytes: Bytes,
        /// When the message leaves the sender's machine: a power loss before then loses it
        /// (`LOST`).
        departs: Micros,
    },
    /// [`crate::perturbation::Perturbation::ExtraMessage`]: a message of a kind raft-core
    /// does not know reaches `to`'s host, which ignores it.
    Ping {
        from: usize,
        to: usize,
    },
    /// The rename step of an atomic term/vote (or peer-state) replacement.
    Rename {
        node: usize,
        incarnation: u64,
        bytes: Vec<u8>,
        file: SmallFile,
    },
    PersistDone {
        node: usize,
        incarnation: u64,
        id: PersistId,
    },
    /// A read of a node's log is done (`log_reads.rs`).
    LogRead {
        node: usize,
        incarnation: u64,
        from: u64,
        to: u64,
    },
    Fault(usize),
    /// The held membership change goes to a node that just won or just became ready (after
    /// the step that made it so has been carried out).
    MembershipAtLeader {
        node: usize,
        incarnation: u64,
    },
    /// The operator's tool asks the current leader again for the held change (the second
    /// step of a replacement), every heartbeat until it is accepted.
    OperatorRetry,
    /// The operator's disaster recovery takes its next step (every heartbeat until done).
    RescuePoll,
    Restart {
        node: usize,
        incarnation: u64,
    },
    Resume {
        node: usize,
        incarnation: u64,
    },
    /// A scheduled crash of one node incarnation (leader churn, or a leader racing the
    /// operator's change).
    Kill {
        node: usize,
        incarnation: u64,
        down_us: Micros,
    },
    ResumeApply {
        node: usize,
        incarnation: u64,
    },
    /// The second step of a snapshot checkpoint the application began (`upkeep.rs`).
    CheckpointDue {
        node: usize,
        incarnation: u64,
        finish: bool,
    },
    ClientWake {
        client: usize,
    },
    ClientRequest {
        node: usize,
        client: usize,
        seq: u64,
        attempt: u32,
        /// The part of the operation (from 0; a stream's batch sends one per message).
        part: u32,
        op: A::Op,
    },
    ClientReply {
        client: usize,
        seq: u64,
        attempt: u32,
        reply: Reply<A::Output>,
    },
    ClientTimeout {
        client: usize,
        seq: u64,
        attempt: u32,
    },
    ClientRetry {
        client: usize,
        seq: u64,
        attempt: u32,
    },
    /// The faults stop and the liveness phase begins.
    LivenessPhase,
    End,
}

impl<A: Application> Event<A> {
    /// The node this event is an input of (which waits while that node is paused).
    #[inline]
    pub(super) fn input_of(&self) -> Option<usize> {
        match self {
            Event::Tick { node, .. }
            | Event::PersistDone { node, .. }
            | Event::LogRead { node, .. }
            | Event::ResumeApply { node, .. }
            | Event::CheckpointDue { node, .. }
            | Event::ClientRequest { node, .. } => Some(*node),
            Event::Deliver { to, .. } => Some(*to),
            _ => None,
        }
    }
}

pub(super) struct Scheduled<A: Application> {
    pub(super) at: Micros,
    pub(super) seq: u64,
    pub(super) event: Event<A>,
}

impl<A: Application> PartialEq for Scheduled<A> {
    fn eq(&self, other: &Self) -> bool {
        (self.at, self.seq) == (other.at, other.seq)
    }
}
impl<A: Application> Eq for Scheduled<A> {}
impl<A: Application> PartialOrd for Scheduled<A> {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}
impl<A: Application> Ord for Scheduled<A> {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        (self.at, self.seq).cmp(&(other.at, other.seq))
    }
}

/// The event queue, popped in (time, sequence number) order like a
/// `BinaryHeap<Reverse<Scheduled>>`, but the heap holds only 16-byte keys (see [`key`]): the
/// events stay in place in a slab instead of being moved at every sift (a delivery carries a
/// whole message).
pub(super) struct EventQueue<A: Application> {
    keys: BinaryHeap<Reverse<u128>>,
    slots: Vec<Option<Scheduled<A>>>,
    free: Vec<u32>,
    /// The sequence number of the last event scheduled.
    seq: u64,
}

/// Bits of a [`key`] that hold the event's slot; the sequence number has the other
/// `64 - SLOT_BITS` of the low word.
const SLOT_BITS: u32 = 24;

/// An event's heap key: its time in the high word, its sequence number and then its slot in
/// the low one. One `u128` comparison orders keys by (time, sequence number), as the tuple
/// did in three steps (every push and pop compares at each level of the heap); the slot
/// never decides, since sequence numbers are unique. A run would need 2^40 events, or 2^24
/// events queued at once, to overflow its fields: it stops instead.
#[inline]
fn key(at: Micros, seq: u64, slot: u32) -> u128 {
    assert!(
        seq < 1 << (64 - SLOT_BITS) && slot < 1 << SLOT_BITS,
        "event queue key overflow: sequence number {seq}, slot {slot}"
    );
    (u128::from(at) << 64) | u128::from(seq << SLOT_BITS | u64::from(slot))
}

impl<A: Application> Default for EventQueue<A> {
    fn default() -> Self {
        EventQueue {
            keys: BinaryHeap::new(),
            slots: Vec::new(),
            free: Vec::new(),
            seq: 0,
        }
    }
}

impl<A: Application> EventQueue<A> {
    /// Schedules `event` at `at`, after everything already scheduled for that time.
    #[inline]
    pub(super) fn schedule(&mut self, at: Micros, event: Event<A>) {
        self.seq += 1;
        let seq = self.seq;
        self.push(Scheduled { at, seq, event });
    }

    #[inline]
    fn push(&mut self, item: Scheduled<A>) {
        let (at, seq) = (item.at, item.seq);
        let slot = match self.free.pop() {
            Some(slot) => {
                self.slots[slot as usize] = Some(item);
                slot
            }
            None => {
                self.slots.push(Some(item));
                (self.slots.len() - 1) as u32
            }
        };
        self.keys.push(Reverse(key(at, seq, slot)));
    }

    #[inline]
    pub(super) fn pop(&mut self) -> Option<Scheduled<A>> {
        let Reverse(key) = self.keys.pop()?;
        let slot = (key as u32) & ((1 << SLOT_BITS) - 1);
        self.free.push(slot);
        self.slots[slot as usize].take()
    }

    /// The queued events, in no particular order (for code that inspects the queue).
    pub(super) fn iter(&self) -> impl Iterator<Item = &Scheduled<A>> {
        self.slots.iter().flatten()
    }

    /// The queued events, in no particular order, to change in place (not their time).
    pub(super) fn iter_mut(&mut self) -> impl Iterator<Item = &mut Scheduled<A>> {
        self.slots.iter_mut().flatten()
    }

    /// Keeps only the events `keep` accepts, then takes the earliest one `pick` accepts (for
    /// the scripted mode, which runs disk events one at a time). Sequence numbers are kept, so
    /// the events left run in the order they would have.
    pub(super) fn retain_and_take_first(
        &mut self,
        keep: impl Fn(&Event<A>) -> bool,
        pick: impl Fn(&Event<A>) -> bool,
    ) -> Option<Event<A>> {
        let mut items: Vec<Scheduled<A>> = std::mem::take(&mut self.slots)
            .into_iter()
            .flatten()
            .filter(|s| keep(&s.event))
            .collect();
        self.keys.clear();
        self.free.clear();
        items.sort_by_key(|s| (s.at, s.seq));
        let taken = items
            .iter()
            .position(|s| pick(&s.event))
            .map(|at| items.remove(at).event);
        for item in items {
            self.push(item);
        }
        taken
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    type Event = super::Event<crate::app::kv::KvApp>;
    type Scheduled = super::Scheduled<crate::app::kv::KvApp>;
    type EventQueue = super::EventQueue<crate::app::kv::KvApp>;
    use crate::rng::Stream;

    fn item(at: Micros, seq: u64) -> Scheduled {
        let event = Event::Restart {
            node: seq as usize,
            incarnation: 0,
        };
        Scheduled { at, seq, event }
    }

    /// Same order as a `BinaryHeap<Reverse<Scheduled>>`, through interleaved pushes and pops
    /// (slots are reused), and after the queue is rebuilt.
    #[test]
    fn pops_in_time_then_sequence_order_like_a_binary_heap() {
        let (mut queue, mut heap) = (EventQueue::default(), BinaryHeap::new());
        let mut rng = Stream::new(7, "queue-test");
        for seq in 0..2_000u64 {
            let at = rng.below(50) as Micros;
            queue.push(item(at, seq));
            heap.push(Reverse(item(at, seq)));
            if rng.chance(400_000) {
                let (a, b) = (queue.pop().unwrap(), heap.pop().unwrap().0);
                assert_eq!((a.at, a.seq), (b.at, b.seq));
            }
        }
        assert_eq!(queue.iter().count(), heap.len());
        assert!(queue.retain_and_take_first(|_| true, |_| false).is_none());
        while let Some(Reverse(b)) = heap.pop() {
            let a = queue.pop().unwrap();
            assert_eq!((a.at, a.seq), (b.at, b.seq));
        }
        assert!(queue.pop().is_none());
    }

    /// Keys order by time first, then sequence number, whatever the slots; the slot comes
    /// back out whole.
    #[test]
    fn keys_order_by_time_then_sequence_number() {
        let top_slot = (1 << SLOT_BITS) - 1;
        assert!(key(1, 0, top_slot) > key(0, (1 << (64 - SLOT_BITS)) - 1, top_slot));
        assert!(key(5, 2, 0) > key(5, 1, top_slot));
        assert!(key(Micros::MAX, 0, 0) > key(Micros::MAX - 1, 9, 9));
        assert_eq!((key(7, 3, top_slot) as u32) & top_slot, top_slot);
    }

    #[test]
    #[should_panic(expected = "event queue key overflow")]
    fn a_slot_beyond_its_bits_stops_the_run() {
        key(0, 0, 1 << SLOT_BITS);
    }

    #[test]
    fn scheduling_keeps_the_order_of_events_at_the_same_time() {
        let mut queue = EventQueue::default();
        for node in [3, 1, 2] {
            queue.schedule(
                10,
                Event::Restart {
                    node,
                    incarnation: 0,
                },
            );
        }
        queue.schedule(5, Event::End);
        let order: Vec<Option<usize>> = std::iter::from_fn(|| queue.pop())
            .map(|s| match s.event {
                Event::Restart { node, .. } => Some(node),
                _ => None,
            })
            .collect();
        assert_eq!(order, [None, Some(3), Some(1), Some(2)]);
    }

    #[test]
    fn taking_a_disk_event_keeps_the_others_in_order() {
        let mut queue = EventQueue::default();
        let done = |node| Event::PersistDone {
            node,
            incarnation: 0,
            id: PersistId(1),
        };
        queue.schedule(4, done(0));
        queue.schedule(
            2,
            Event::Restart {
                node: 0,
                incarnation: 0,
            },
        );
        queue.schedule(3, done(1));
        queue.schedule(3, done(2));
        let is_done = |e: &Event| matches!(e, Event::PersistDone { .. });
        let taken = queue.retain_and_take_first(is_done, |e| e.input_of() == Some(2));
        assert!(matches!(taken, Some(Event::PersistDone { node: 2, .. })));
        let left: Vec<_> = std::iter::from_fn(|| queue.pop())
            .map(|s| (s.at, s.event.input_of()))
            .collect();
        assert_eq!(left, [(3, Some(1)), (4, Some(0))]);
    }
}
