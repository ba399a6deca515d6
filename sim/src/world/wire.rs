//! The network side of the hosts: a sent message's fate (delivered once or twice after a
//! drawn latency, dropped, or cut by a partition), its delivery, and the messages a power
//! loss takes with the machine before they left it.
//!
//! Architecture invariant: every per-message decision is the network's (`Network::fate`:
//! partitions, clogged links, loss, duplication, latency). Its random part is one decision
//! per message not cut by a partition, keyed by the message's identity (`MessageKey`: link,
//! kind, term, indexes, ordinal among identical ones) and drawn or replayed by the run's
//! decisions (`crate::decisions`), so no other send changes it.
//! A queued delivery carries the time it leaves the sender (half a minimum latency after
//! the send: the sender's kernel and network card still hold it until then), so a power loss
//! before then marks it lost (`LOST`, traced as `unsent` at the crash and counted as dropped
//! when it would have arrived). Without it a leader could never die before its appends
//! left, however soon after accepting a proposal it crashed.
//!
//! Messages cross the wire as bytes, as they do between real hosts: each is encoded with
//! raft-core's envelope codec when sent and decoded when delivered (a duplicate shares the
//! bytes), so the codecs run under every schedule; a message that does not encode, or bytes
//! that do not decode, is a `wire-codec` violation.
//!
//! In scripted mode a send is held for the script instead (`scripted.rs`); nothing here
//! draws from the network stream then.

use super::events::Event;
use super::trace_text::{fmt_message, write_message};
use super::{id, World};
use crate::app::Application;
use crate::config::Micros;
use crate::decisions::MessageKey;
use crate::event;
use crate::network::Fate;
use crate::perturbation::Perturbation;
use crate::trace::{Joined, Lazy, Line, NodeName};
use bytes::Bytes;
use raft_core::codec::{decode_envelope, decode_envelope_shared, encode_envelope};
use raft_core::Message;

/// [`Event::Deliver`]'s `departs` for a message a power loss took before it left.
const LOST: Micros = Micros::MAX;

/// A message a power loss took before it left the sender's machine.
pub(super) struct Unsent {
    /// Its sequence number in the event queue: the order it was sent in.
    seq: u64,
    to: usize,
    message: String,
}

impl<A: Application> World<A> {
    pub(super) fn send(&mut self, from: usize, to: usize, message: Message) {
        let now = self.now;
        self.stats.messages_sent += 1;
        self.checks.sent(now, from, id(to), &message);
        if self.scripted.is_some() {
            let summary = fmt_message(&message);
            self.hold(from, to, message, summary);
            return;
        }
        let heartbeat = matches!(&message, Message::AppendEntries(ae) if ae.entries.is_empty());
        let fate = self.fate(MessageKey::of(from, to, &message), now);
        let summary = Lazy(|out: &mut Line| write_message(&message, out));
        let bytes = match (&fate, encode_envelope(&message)) {
            (Fate::Deliver(_), Ok(bytes)) => Bytes::from(bytes),
            (Fate::Deliver(_), Err(error)) => {
                let detail = format!("{} does not encode: {error}", fmt_message(&message));
                self.checks.wire_violation(now, from, detail);
                return;
            }
            _ => Bytes::new(),
        };
        match fate {
            Fate::Deliver(delays) => {
                if delays.len() > 1 {
                    self.stats.messages_duplicated += 1;
                }
                let mut arrive = [0; 2];
                for (at, delay) in arrive.iter_mut().zip(delays.iter()) {
                    *at = now + delay;
                }
                let arrive = &arrive[..delays.len()];
                self.record(event!(
                    now,
                    Some(from),
                    "send",
                    to = NodeName(to),
                    msg = summary,
                    arrive = Joined(arrive)
                ));
                // The last delivery takes the message; only a duplicate needs a copy.
                let (&last, earlier) = arrive.split_last().expect("at least one delivery");
                // The sender's share of the latency: its kernel and network card still hold
                // the message until then.
                let departs = now + self.config.latency.min_us / 2;
                for _ in arrive {
                    self.checks.queued(now, from, to);
                }
                for &at in earlier {
                    let bytes = bytes.clone();
                    self.schedule(
                        at,
                        Event::Deliver {
                            from,
                            to,
                            bytes,
                            departs,
                        },
                    );
                }
                self.schedule(
                    last,
                    Event::Deliver {
                        from,
                        to,
                        bytes,
                        departs,
                    },
                );
            }
            Fate::Dropped => {
                self.stats.messages_dropped += 1;
                self.record(event!(
                    now,
                    Some(from),
                    "drop",
                    to = NodeName(to),
                    msg = summary
                ));
            }
            Fate::Partitioned => {
                self.stats.messages_partitioned += 1;
                self.record(event!(
                    now,
                    Some(from),
                    "cut",
                    to = NodeName(to),
                    msg = summary
                ));
            }
        }
        if heartbeat && self.perturbed(Perturbation::ExtraMessage) {
            self.send_ping(from, to);
        }
    }

    /// [`Perturbation::ExtraMessage`]: a message of a kind raft-core does not know, through
    /// the same network as the others.
    fn send_ping(&mut self, from: usize, to: usize) {
        let now = self.now;
        let fate = self.fate(MessageKey::ping(from, to), now);
        let arrive: Vec<Micros> = match &fate {
            Fate::Deliver(delays) => delays.iter().map(|d| now + d).collect(),
            Fate::Dropped | Fate::Partitioned => Vec::new(),
        };
        self.record(event!(
            now,
            Some(from),
            "ping",
            to = NodeName(to),
            arrive = Joined(&arrive)
        ));
        for at in arrive {
            self.schedule(at, Event::Ping { from, to });
        }
    }

    /// A [`Perturbation::ExtraMessage`] ping arrives: the host ignores it.
    pub(super) fn on_ping(&mut self, _from: usize, _to: usize) {}

    /// How the message `key` sent now fares: cut by a partition (no random decision), else
    /// as its decision says, drawn or replayed.
    fn fate(&mut self, key: MessageKey, now: Micros) -> Fate {
        let (from, to) = (usize::from(key.from), usize::from(key.to));
        if !self.network.is_reachable(from, to) {
            return Fate::Partitioned;
        }
        let network = &self.network;
        let draw = self.decisions.fate(
            key,
            |rng| network.draw_fate(rng),
            |draw| network.allow(draw),
        );
        network.fate(from, to, now, draw)
    }

    /// A queued delivery is due: the receiver gets the message if it left the sender and the
    /// receiver is running.
    pub(super) fn deliver(&mut self, from: usize, to: usize, bytes: Bytes, departs: Micros) {
        self.checks.left_wire(from, to);
        if departs == LOST || self.hosts[to].running().is_none() {
            self.stats.messages_dropped += 1;
            return;
        }
        self.stats.messages_delivered += 1;
        // The entries' payloads share the message's buffer, as a host that reads messages
        // into shared buffers would keep them.
        match decode_envelope_shared(&bytes) {
            Ok(message) => {
                self.observe_replication(from, to, departs, &message);
                self.checks
                    .append_received(self.now, (from, to), &message, departs);
                let ack =
                    self.checks
                        .ack_arriving(from, &message, departs, self.hosts[to].node.as_ref());
                self.receive(from, to, message);
                if let Some(ack) = ack {
                    let raft = self.hosts[to].node.as_ref();
                    self.checks.ack_handled(self.now, (to, from), ack, raft);
                }
            }
            Err(error) => {
                let detail = format!("{} bytes from n{from} do not decode: {error}", bytes.len());
                self.checks.wire_violation(self.now, to, detail);
            }
        }
    }

    /// A power loss of `node` takes the messages it sent that have not left its machine yet:
    /// they are marked lost in the queue and returned in the order they were sent.
    pub(super) fn take_unsent(&mut self, node: usize) -> Vec<Unsent> {
        let now = self.now;
        let mut unsent = Vec::new();
        for item in self.queue.iter_mut() {
            if let Event::Deliver {
                from,
                to,
                bytes,
                departs,
            } = &mut item.event
            {
                if *from == node && *departs > now && *departs != LOST {
                    *departs = LOST;
                    // Only for the trace: a message that does not decode is reported when
                    // it would have been delivered.
                    let message = decode_envelope(bytes)
                        .map_or_else(|e| format!("undecodable ({e})"), |m| fmt_message(&m));
                    unsent.push(Unsent {
                        seq: item.seq,
                        to: *to,
                        message,
                    });
                }
            }
        }
        unsent.sort_unstable_by_key(|u| u.seq);
        unsent
    }

    pub(super) fn record_unsent(&mut self, node: usize, unsent: Vec<Unsent>) {
        for Unsent { to, message, .. } in unsent {
            self.record(event!(
                self.now,
                Some(node),
                "unsent",
                to = NodeName(to),
                msg = message
            ));
        }
    }
}
