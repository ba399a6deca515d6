//! The TCP transport: raft-core's messages between nodes.
//!
//! Each node dials every peer once and uses that connection only to send (one task per peer,
//! [`Outbound`]); it accepts the peers' connections to receive ([`listen`]). Raft tolerates
//! lost, duplicated and reordered messages, so the transport never retries a message: a
//! message to a peer that is down, or that finds the peer's queue full, is dropped, and the
//! node's own retransmission (heartbeats, appends after rejections) repairs it. Sending never
//! blocks the node loop.
//!
//! A connection that stops making progress (a peer behind a cut link) is closed by the
//! kernel after [`USER_TIMEOUT`] of unacknowledged data, and redialled with exponential
//! backoff, so a healed link carries messages again within about a second instead of after
//! TCP's retransmission backoff.

pub mod faults;
pub mod frame;

use crate::config::AddressBook;
use faults::FaultSwitch;
use frame::FrameError;
use futures_util::{SinkExt, StreamExt};
use raft_core::{Message, NodeId};
use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::mpsc;
use tokio::time::Instant;
use tokio_util::codec::{FramedRead, FramedWrite};

/// Messages queued per peer before new ones are dropped.
pub const QUEUE_PER_PEER: usize = 4096;
/// Unacknowledged data older than this closes a connection (`TCP_USER_TIMEOUT`).
pub const USER_TIMEOUT: Duration = Duration::from_millis(1500);
const CONNECT_TIMEOUT: Duration = Duration::from_millis(1000);
const HELLO_TIMEOUT: Duration = Duration::from_secs(5);
const BACKOFF_MIN: Duration = Duration::from_millis(20);
/// The longest wait between two attempts to reach a peer; every failed attempt drops what
/// was queued for it, so nothing queued longer ago than this reaches a peer that comes back.
pub const BACKOFF_MAX: Duration = Duration::from_millis(1000);

/// A message from a peer, for the node loop.
pub type Inbound = (NodeId, Message);

/// Counters for the status page.
#[derive(Debug, Default)]
pub struct TransportCounters {
    pub sent: AtomicU64,
    /// Dropped by a full queue, a dead connection or the fault switch.
    pub dropped: AtomicU64,
    pub received: AtomicU64,
    pub bad_frames: AtomicU64,
}

/// The node loop's handle on the peer senders.
pub struct Outbound {
    peers: BTreeMap<NodeId, mpsc::Sender<(Instant, Message)>>,
    counters: Arc<TransportCounters>,
}

impl Outbound {
    /// Starts one sender task per peer in `book` other than `me`.
    pub fn start(
        me: NodeId,
        book: &AddressBook,
        faults: Arc<FaultSwitch>,
        counters: Arc<TransportCounters>,
    ) -> Outbound {
        let mut peers = BTreeMap::new();
        for (&peer, addrs) in book.iter().filter(|(&id, _)| id != me) {
            let (tx, rx) = mpsc::channel(QUEUE_PER_PEER);
            let sender = PeerSender {
                me,
                peer,
                addr: addrs.raft,
                faults: faults.clone(),
                counters: counters.clone(),
            };
            tokio::spawn(sender.run(rx));
            peers.insert(peer, tx);
        }
        Outbound { peers, counters }
    }

    /// Queues `message` for `to`; drops it if `to` is unknown or its queue is full.
    pub fn send(&self, to: NodeId, message: Message) {
        let queued = match self.peers.get(&to) {
            Some(tx) => tx.try_send((Instant::now(), message)).is_ok(),
            None => {
                tracing::warn!(peer = %to, "no address for peer; message dropped");
                false
            }
        };
        if !queued {
            self.counters.dropped.fetch_add(1, Ordering::Relaxed);
        }
    }
}

struct PeerSender {
    me: NodeId,
    peer: NodeId,
    addr: SocketAddr,
    faults: Arc<FaultSwitch>,
    counters: Arc<TransportCounters>,
}

impl PeerSender {
    async fn run(self, mut queue: mpsc::Receiver<(Instant, Message)>) {
        let mut backoff = BACKOFF_MIN;
        let mut jitter = u64::from(self.me.0 as u32) * 7919 + self.peer.0;
        loop {
            match self.connect().await {
                Ok(stream) => {
                    tracing::debug!(peer = %self.peer, addr = %self.addr, "connected");
                    backoff = BACKOFF_MIN;
                    match self.pump(stream, &mut queue).await {
                        Ok(()) => return, // the node loop ended
                        Err(e) => tracing::debug!(peer = %self.peer, error = %e, "connection lost"),
                    }
                }
                Err(e) => tracing::trace!(peer = %self.peer, error = %e, "connect failed"),
            }
            // Messages queued for a peer we cannot reach are stale by the time we can.
            let mut lost = 0;
            while queue.try_recv().is_ok() {
                lost += 1;
            }
            self.counters.dropped.fetch_add(lost, Ordering::Relaxed);
            jitter = jitter
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            let spread = backoff.as_millis() as u64 / 2 + 1;
            let wait = backoff / 2 + Duration::from_millis((jitter >> 33) % spread);
            tokio::time::sleep(wait).await;
            if queue.is_closed() {
                return;
            }
            backoff = (backoff * 2).min(BACKOFF_MAX);
        }
    }

    async fn connect(&self) -> Result<TcpStream, FrameError> {
        let stream = tokio::time::timeout(CONNECT_TIMEOUT, TcpStream::connect(self.addr))
            .await
            .map_err(|_| FrameError::Io(std::io::ErrorKind::TimedOut.into()))??;
        stream.set_nodelay(true)?;
        socket2::SockRef::from(&stream).set_tcp_user_timeout(Some(USER_TIMEOUT))?;
        Ok(stream)
    }

    /// Writes the hello, then every queued message, flushing when the queue is empty (many
    /// messages per write under load). Returns `Ok` when the node loop is gone.
    async fn pump(
        &self,
        stream: TcpStream,
        queue: &mut mpsc::Receiver<(Instant, Message)>,
    ) -> Result<(), FrameError> {
        let mut sink = FramedWrite::new(stream, frame::codec());
        sink.send(frame::encode_hello(self.me)).await?;
        loop {
            let Some(first) = queue.recv().await else {
                return Ok(());
            };
            let mut next = Some(first);
            while let Some((queued_at, message)) = next.take() {
                let fault = self.faults.link(self.peer);
                if self.faults.loses(fault) {
                    self.counters.dropped.fetch_add(1, Ordering::Relaxed);
                } else {
                    if fault.delay_ms > 0 {
                        let due = queued_at + Duration::from_millis(u64::from(fault.delay_ms));
                        SinkExt::<bytes::Bytes>::flush(&mut sink).await?;
                        tokio::time::sleep_until(due).await;
                    }
                    sink.feed(frame::encode_message(&message)?).await?;
                    self.counters.sent.fetch_add(1, Ordering::Relaxed);
                }
                next = queue.try_recv().ok();
            }
            SinkExt::<bytes::Bytes>::flush(&mut sink).await?;
        }
    }
}

/// Accepts peer connections and forwards their messages to the node loop.
pub async fn listen(
    listener: TcpListener,
    inbox: mpsc::Sender<Inbound>,
    counters: Arc<TransportCounters>,
) {
    loop {
        let (stream, addr) = match listener.accept().await {
            Ok(accepted) => accepted,
            Err(e) => {
                tracing::warn!(error = %e, "accept on the raft port failed");
                tokio::time::sleep(Duration::from_millis(50)).await;
                continue;
            }
        };
        let inbox = inbox.clone();
        let counters = counters.clone();
        tokio::spawn(async move {
            if let Err(e) = receive(stream, &inbox, &counters).await {
                tracing::debug!(%addr, error = %e, "peer connection closed");
            }
        });
    }
}

async fn receive(
    stream: TcpStream,
    inbox: &mpsc::Sender<Inbound>,
    counters: &TransportCounters,
) -> Result<(), FrameError> {
    stream.set_nodelay(true)?;
    // A sender that vanished behind a cut link never closes its side; keepalive probes
    // find out and free the connection.
    let keepalive = socket2::TcpKeepalive::new()
        .with_time(Duration::from_secs(2))
        .with_interval(Duration::from_secs(1))
        .with_retries(3);
    socket2::SockRef::from(&stream).set_tcp_keepalive(&keepalive)?;
    let mut frames = FramedRead::new(stream, frame::codec());
    let hello = tokio::time::timeout(HELLO_TIMEOUT, frames.next())
        .await
        .map_err(|_| FrameError::ClosedBeforeHello)?
        .ok_or(FrameError::ClosedBeforeHello)??;
    let from = frame::decode_hello(&hello).inspect_err(|e| {
        counters.bad_frames.fetch_add(1, Ordering::Relaxed);
        tracing::warn!(error = %e, "refusing a raft connection");
    })?;
    while let Some(frame) = frames.next().await {
        let message = frame::decode_message(&frame?).inspect_err(|e| {
            counters.bad_frames.fetch_add(1, Ordering::Relaxed);
            tracing::warn!(peer = %from, error = %e, "bad frame; closing the connection");
        })?;
        counters.received.fetch_add(1, Ordering::Relaxed);
        if inbox.send((from, message)).await.is_err() {
            return Ok(()); // the node loop ended
        }
    }
    Ok(())
}
